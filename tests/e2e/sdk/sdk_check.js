#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Drives a running tarn with the official Databricks JS SDK (@databricks/sdk-experimental 0.17.0):
// SCIM Me, tokens, DBFS, Files API, Workspace, Secrets and error mapping.
//   node sdk_check.js HOST TOKEN   (SDK_NODE_MODULES points at the node_modules holding the SDK)
// Prints PASS/FAIL per check and ends with `N passed, M failed`; exits 1 when any check failed.
'use strict';
const crypto = require('crypto');
const path = require('path');

const modDir = process.env.SDK_NODE_MODULES || path.join(__dirname, 'node_modules');
const sdk = require(require.resolve('@databricks/sdk-experimental', { paths: [modDir] }));
const [host, token] = process.argv.slice(2);
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    const detail = await fn();
    passed++;
    console.log(`PASS ${name}${detail ? `  (${detail})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.constructor ? e.constructor.name : ''}: ${String(e && e.message).slice(0, 400)}`);
  }
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function expectApiError(promise, code, status) {
  try { await promise; } catch (e) {
    assert(e.errorCode === code, `errorCode ${e.errorCode} != ${code} (${e.message})`);
    if (status) assert(e.statusCode === status, `statusCode ${e.statusCode} != ${status}`);
    return `${e.errorCode} ${e.statusCode}`;
  }
  throw new Error(`expected ${code}, got success`);
}

async function collect(iterable) { const out = []; for await (const x of iterable) out.push(x); return out; }

async function readAll(stream) {
  const chunks = [];
  const reader = stream.getReader();
  for (;;) { const { done, value } = await reader.read(); if (done) break; chunks.push(Buffer.from(value)); }
  return Buffer.concat(chunks);
}

(async () => {
  const w = new sdk.WorkspaceClient({ host, token, retryTimeoutSeconds: 10 });
  const stamp = `${process.pid}_${Date.now()}`;

  await check('scim Me', async () => {
    const me = await w.currentUser.me();
    assert(me.userName === 'admin', `userName ${me.userName}`);
    return me.userName;
  });

  await check('tokens create/list/delete', async () => {
    const created = await w.tokens.create({ comment: `sdk-${stamp}`, lifetime_seconds: 600 });
    assert(created.token_value.startsWith('dapi'), 'token_value');
    const ids = (await collect(w.tokens.list())).map((t) => t.token_id);
    assert(ids.includes(created.token_info.token_id), 'listed');
    await w.tokens.delete({ token_id: created.token_info.token_id });
    const after = (await collect(w.tokens.list())).map((t) => t.token_id);
    assert(!after.includes(created.token_info.token_id), 'deleted');
    return 'ok';
  });

  const dbfsDir = `/sdk-${stamp}`;
  const payload = crypto.randomBytes(3 * 1024 * 1024 + 17);
  await check('dbfs mkdirs + put + get-status + list', async () => {
    await w.dbfs.mkdirs({ path: dbfsDir });
    await w.dbfs.put({ path: `dbfs:${dbfsDir}/small.txt`, contents: Buffer.from('hello').toString('base64'), overwrite: true });
    const st = await w.dbfs.getStatus({ path: `${dbfsDir}/small.txt` });
    assert(st.file_size === 5 && st.is_dir === false, JSON.stringify(st));
    const files = await collect(w.dbfs.list({ path: dbfsDir }));
    assert(files.length === 1 && files[0].path === `${dbfsDir}/small.txt`, JSON.stringify(files));
    return 'ok';
  });

  await check('dbfs create/add-block/close + read slices (3 MB)', async () => {
    const { handle } = await w.dbfs.create({ path: `${dbfsDir}/big.bin`, overwrite: false });
    for (let off = 0; off < payload.length; off += 1024 * 1024) {
      await w.dbfs.addBlock({ handle, data: payload.subarray(off, off + 1024 * 1024).toString('base64') });
    }
    await w.dbfs.close({ handle });
    const parts = [];
    for (let off = 0; off < payload.length; off += 1024 * 1024) {
      const r = await w.dbfs.read({ path: `${dbfsDir}/big.bin`, offset: off, length: 1024 * 1024 });
      parts.push(Buffer.from(r.data, 'base64'));
    }
    assert(Buffer.concat(parts).equals(payload), 'bytes differ');
    return `${payload.length} bytes`;
  });

  await check('dbfs errors map to SDK errors', async () => {
    await expectApiError(w.dbfs.getStatus({ path: `${dbfsDir}/missing` }), 'RESOURCE_DOES_NOT_EXIST', 404);
    await expectApiError(w.dbfs.put({ path: `${dbfsDir}/small.txt`, contents: 'aGk=', overwrite: false }),
      'RESOURCE_ALREADY_EXISTS', 400);
    await expectApiError(w.dbfs.addBlock({ handle: 987654321, data: 'aGk=' }), 'RESOURCE_DOES_NOT_EXIST');
    return 'ok';
  });

  await check('dbfs move + recursive delete', async () => {
    await w.dbfs.move({ source_path: `${dbfsDir}/small.txt`, destination_path: `${dbfsDir}/moved.txt` });
    await w.dbfs.getStatus({ path: `${dbfsDir}/moved.txt` });
    await w.dbfs.delete({ path: dbfsDir, recursive: true });
    await expectApiError(w.dbfs.getStatus({ path: dbfsDir }), 'RESOURCE_DOES_NOT_EXIST', 404);
    return 'ok';
  });

  const volDir = `/Volumes/main/default/sdk_${stamp}`;
  await check('files upload (raw PUT) + SDK download + metadata', async () => {
    await w.files.createDirectory({ directory_path: volDir });
    // SDK 0.17.0's files.upload() never sends the contents (its generated code passes `body = undefined`), so
    // upload with a plain streaming PUT, as the Python SDK does, and read back through the SDK.
    const put = await fetch(`${host}/api/2.0/fs/files${volDir}/data.bin?overwrite=true`, {
      method: 'PUT', body: new Blob([payload]).stream(), duplex: 'half',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' } });
    assert(put.status === 204 || put.status === 200, `PUT status ${put.status}: ${await put.text()}`);
    const meta = await w.files.getMetadata({ file_path: `${volDir}/data.bin` });
    assert(Number(meta['content-length']) === payload.length, JSON.stringify(meta));
    const down = await w.files.download({ file_path: `${volDir}/data.bin` });
    const bytes = await readAll(down.contents);
    assert(bytes.equals(payload), `downloaded ${bytes.length} bytes differ`);
    return `${bytes.length} bytes`;
  });

  await check('files list directory + delete', async () => {
    const entries = await collect(w.files.listDirectoryContents({ directory_path: volDir }));
    assert(entries.length === 1 && entries[0].name === 'data.bin' && entries[0].file_size === payload.length,
      JSON.stringify(entries));
    await w.files.delete({ file_path: `${volDir}/data.bin` });
    await w.files.deleteDirectory({ directory_path: volDir });
    // getMetadata is a HEAD request: no body, so only the status says what went wrong.
    try {
      await w.files.getMetadata({ file_path: `${volDir}/data.bin` });
      throw new Error('deleted file still has metadata');
    } catch (e) { assert(e.statusCode === 404, `status ${e.statusCode}`); }
    await expectApiError(w.files.download({ file_path: `${volDir}/data.bin` }), 'RESOURCE_DOES_NOT_EXIST', 404);
    return 'ok';
  });

  const wsDir = `/Users/admin/sdk-${stamp}`;
  const source = '# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1\n';
  await check('workspace mkdirs + import SOURCE + export SOURCE round trip', async () => {
    await w.workspace.mkdirs({ path: wsDir });
    await w.workspace.import({ path: `${wsDir}/nb`, format: 'SOURCE', language: 'PYTHON',
      content: Buffer.from(source).toString('base64'), overwrite: false });
    const st = await w.workspace.getStatus({ path: `${wsDir}/nb` });
    assert(st.object_type === 'NOTEBOOK' && st.language === 'PYTHON', JSON.stringify(st));
    const out = await w.workspace.export({ path: `${wsDir}/nb`, format: 'SOURCE' });
    assert(Buffer.from(out.content, 'base64').toString() === source, 'SOURCE differs');
    return 'ok';
  });

  await check('workspace export JUPYTER + list + delete', async () => {
    const out = await w.workspace.export({ path: `${wsDir}/nb`, format: 'JUPYTER' });
    const nb = JSON.parse(Buffer.from(out.content, 'base64').toString());
    assert(nb.nbformat === 4 && nb.cells.length === 2, 'ipynb');
    const objects = await collect(w.workspace.list({ path: wsDir }));
    assert(objects.length === 1 && objects[0].path === `${wsDir}/nb`, JSON.stringify(objects));
    await w.workspace.delete({ path: wsDir, recursive: true });
    await expectApiError(w.workspace.getStatus({ path: wsDir }), 'RESOURCE_DOES_NOT_EXIST', 404);
    return 'ok';
  });

  const scope = `sdk_${stamp}`;
  await check('secrets scope + put + list + get + delete', async () => {
    await w.secrets.createScope({ scope });
    await w.secrets.putSecret({ scope, key: 'k1', string_value: 's3cr3t' });
    const keys = await collect(w.secrets.listSecrets({ scope }));
    assert(keys.length === 1 && keys[0].key === 'k1' && !('value' in keys[0]), JSON.stringify(keys));
    const got = await w.secrets.getSecret({ scope, key: 'k1' });
    assert(Buffer.from(got.value, 'base64').toString() === 's3cr3t', 'value');
    const acls = await collect(w.secrets.listAcls({ scope }));
    assert(acls.some((a) => a.permission === 'MANAGE'), JSON.stringify(acls));
    await expectApiError(w.secrets.createScope({ scope }), 'RESOURCE_ALREADY_EXISTS');
    await w.secrets.deleteSecret({ scope, key: 'k1' });
    await w.secrets.deleteScope({ scope });
    await expectApiError(collect(w.secrets.listSecrets({ scope })), 'RESOURCE_DOES_NOT_EXIST', 404);
    return 'ok';
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})().catch((e) => { console.log(`FAIL unexpected: ${e.stack}`); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); });
