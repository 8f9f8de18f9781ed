#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Drives a running tarn's Statement Execution API and SQL warehouses API with the official Databricks JS SDK
// (@databricks/sdk-experimental 0.17.0): execute (sync, async + poll, parameters, chunks), cancel, errors.
//   node sql_statements_check.js HOST TOKEN SQL_PORT   (SDK_NODE_MODULES points at the node_modules holding the SDK)
// Prints PASS/FAIL per check and ends with `N passed, M failed`; exits 1 when any check failed.
'use strict';
const path = require('path');

const modDir = process.env.SDK_NODE_MODULES || path.join(__dirname, 'node_modules');
const sdk = require(require.resolve('@databricks/sdk-experimental', { paths: [modDir] }));
const [host, token, sqlPort] = process.argv.slice(2);
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
function eq(a, b, what) { assert(JSON.stringify(a) === JSON.stringify(b), `${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`); }

async function expectApiError(promise, code, status) {
  try { await promise; } catch (e) {
    assert(e.errorCode === code, `errorCode ${e.errorCode} != ${code} (${e.message})`);
    if (status) assert(e.statusCode === status, `statusCode ${e.statusCode} != ${status}`);
    return `${e.errorCode} ${e.statusCode}`;
  }
  throw new Error(`expected ${code}, got success`);
}

async function collect(iterable) { const out = []; for await (const x of iterable) out.push(x); return out; }

(async () => {
  const w = new sdk.WorkspaceClient({ host, token, retryTimeoutSeconds: 10 });
  let warehouseId;

  await check('warehouses.list / get', async () => {
    const list = await collect(w.warehouses.list({}));
    eq(list.length, 1, 'warehouse count');
    warehouseId = list[0].id;
    eq(list[0].state, 'RUNNING', 'state');
    eq(list[0].odbc_params.port, Number(sqlPort), 'odbc port');
    const one = await w.warehouses.get({ id: warehouseId });
    eq(one.name, 'Tarn built-in', 'name');
    await expectApiError(w.warehouses.get({ id: 'nope' }), 'NOT_FOUND', 404);
    return warehouseId;
  });

  await check('executeStatement: DDL, INSERT, SELECT with parameters', async () => {
    for (const statement of [
      'CREATE TABLE sdk_items (id INT, name STRING, price DOUBLE, seen TIMESTAMP)',
      "INSERT INTO sdk_items VALUES (1, 'a', 1.5, TIMESTAMP '2024-05-06 07:08:09'), (2, 'b', NULL, NULL)",
    ]) {
      const r = await w.statementExecution.executeStatement({ statement, warehouse_id: warehouseId, wait_timeout: '30s' });
      eq(r.status.state, 'SUCCEEDED', `${statement}: ${JSON.stringify(r.status)}`);
    }
    const r = await w.statementExecution.executeStatement({
      statement: 'SELECT id, name, price, seen FROM sdk_items WHERE name = :name OR id > :id ORDER BY id',
      warehouse_id: warehouseId, catalog: 'main', schema: 'default', wait_timeout: '30s',
      parameters: [{ name: 'name', value: 'a' }, { name: 'id', value: '5', type: 'INT' }],
    });
    eq(r.status.state, 'SUCCEEDED', 'state');
    eq(r.manifest.schema.columns.map((c) => c.type_text), ['INT', 'STRING', 'DOUBLE', 'TIMESTAMP'], 'types');
    eq(r.result.data_array, [['1', 'a', '1.5', '2024-05-06T07:08:09.000Z']], 'rows');
    return r.statement_id;
  });

  await check('executeStatement async + getStatement + getStatementResultChunkN', async () => {
    let r = await w.statementExecution.executeStatement({
      statement: "SELECT range AS n, repeat('y', 300) AS pad FROM range(10000)", warehouse_id: warehouseId,
      wait_timeout: '0s',
    });
    const id = r.statement_id;
    while (['PENDING', 'RUNNING'].includes(r.status.state)) {
      r = await w.statementExecution.getStatement({ statement_id: id });
    }
    eq(r.status.state, 'SUCCEEDED', 'state');
    assert(r.manifest.total_chunk_count > 1, `chunks ${r.manifest.total_chunk_count}`);
    let rows = r.result.data_array.length;
    let next = r.result.next_chunk_index;
    while (next !== undefined) {
      const chunk = await w.statementExecution.getStatementResultChunkN({ statement_id: id, chunk_index: next });
      eq(chunk.row_offset, rows, 'row_offset');
      rows += chunk.data_array.length;
      next = chunk.next_chunk_index;
    }
    eq(rows, 10000, 'rows');
    return `${r.manifest.total_chunk_count} chunks`;
  });

  await check('cancelExecution of a running statement', async () => {
    let r = await w.statementExecution.executeStatement({
      statement: 'SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b',
      warehouse_id: warehouseId, wait_timeout: '0s',
    });
    await w.statementExecution.cancelExecution({ statement_id: r.statement_id });
    while (['PENDING', 'RUNNING'].includes(r.status.state)) {
      r = await w.statementExecution.getStatement({ statement_id: r.statement_id });
    }
    eq(r.status.state, 'CANCELED', 'state');
  });

  await check('SQL error gives the failed state with sql_state', async () => {
    const r = await w.statementExecution.executeStatement({
      statement: 'SELECT no_such_column FROM sdk_items', warehouse_id: warehouseId, wait_timeout: '30s',
    });
    eq(r.status.state, 'FAILED', 'state');
    eq(r.status.sql_state, '42703', 'sql_state');
    assert(r.status.error.message.includes('SQLSTATE: 42703'), r.status.error.message);
  });

  await check('bad request errors map to API errors', async () => {
    await expectApiError(w.statementExecution.executeStatement({ statement: 'SELECT 1', warehouse_id: 'x' }),
      'NOT_FOUND', 404);
    await expectApiError(w.statementExecution.executeStatement({
      statement: 'SELECT 1', warehouse_id: warehouseId, format: 'CSV' }), 'INVALID_PARAMETER_VALUE', 400);
    await expectApiError(w.statementExecution.getStatement({ statement_id: '01234567-89ab-cdef-0123-456789abcdef' }),
      'NOT_FOUND', 404);
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
