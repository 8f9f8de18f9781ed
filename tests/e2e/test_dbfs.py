# SPDX-License-Identifier: Apache-2.0
"""DBFS API 2.0 and Files API end to end: curl, raw HTTP and the `tarn fs` CLI against a real `tarn up`."""
import base64
import hashlib
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import http

MiB = 1024 * 1024
BIG = 200 * MiB


def curl(tarn, *args, timeout=300):
    """Runs curl with the admin token; returns (status, body bytes)."""
    out = subprocess.run(["curl", "-s", "-S", "-H", f"Authorization: Bearer {tarn.admin_token}",
                          "-w", "\n%{http_code}", *args], capture_output=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body


def api(tarn, method, op, body=None, query=""):
    url = f"{tarn.url}/api/2.0/dbfs/{op}" + (f"?{query}" if query else "")
    return http(method, url, token=tarn.admin_token, body=body, timeout=120)


def b64(data):
    return base64.b64encode(data).decode()


def make_random_file(path, size):
    """Writes `size` random bytes to `path` and returns their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 4 * MiB))
            f.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_dbfs_json_round_trip(tarn):
    status, body, _ = api(tarn, "POST", "put", {"path": "dbfs:/e2e/hello.txt", "contents": b64(b"hello tarn")})
    assert status == 200 and body == {}, body
    status, info, _ = api(tarn, "GET", "get-status", query="path=/e2e/hello.txt")
    assert status == 200
    assert info["path"] == "/e2e/hello.txt" and info["is_dir"] is False and info["file_size"] == 10
    assert info["modification_time"] > 1_600_000_000_000
    status, listing, _ = api(tarn, "GET", "list", query="path=dbfs:/e2e")
    assert [f["path"] for f in listing["files"]] == ["/e2e/hello.txt"]
    status, read, _ = api(tarn, "GET", "read", query="path=/e2e/hello.txt&offset=6&length=4")
    assert read == {"bytes_read": 4, "data": b64(b"tarn")}
    assert api(tarn, "POST", "mkdirs", {"path": "/e2e/a/b"})[0] == 200
    assert api(tarn, "POST", "move", {"source_path": "/e2e/hello.txt", "destination_path": "/e2e/a/b/moved.txt"})[0] == 200
    status, body, _ = api(tarn, "GET", "get-status", query="path=/e2e/hello.txt")
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body, _ = api(tarn, "POST", "delete", {"path": "/e2e"})
    assert status == 400 and body["error_code"] == "IO_ERROR"
    assert api(tarn, "POST", "delete", {"path": "/e2e", "recursive": True})[0] == 200
    assert api(tarn, "GET", "get-status", query="path=/e2e")[0] == 404
    # The files live in the data dir's dbfs/ folder.
    assert (tarn.data_dir / "dbfs").is_dir()


def test_dbfs_error_codes(tarn):
    status, body, _ = api(tarn, "POST", "put", {"path": "/bad", "contents": "***not base64***"})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    status, body, _ = api(tarn, "POST", "put", {"path": "/big", "contents": b64(b"x" * (MiB + 1))})
    assert status == 400 and body["error_code"] == "MAX_BLOCK_SIZE_EXCEEDED"
    status, body, _ = api(tarn, "POST", "add-block", {"handle": 424242, "data": b64(b"x")})
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body, _ = api(tarn, "POST", "close", {"handle": 424242})
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    handle = api(tarn, "POST", "create", {"path": "/blocks/too-big"})[1]["handle"]
    status, body, _ = api(tarn, "POST", "add-block", {"handle": handle, "data": b64(b"y" * (MiB + 1))})
    assert status == 400 and body["error_code"] == "MAX_BLOCK_SIZE_EXCEEDED"
    assert api(tarn, "POST", "close", {"handle": handle})[0] == 200
    status, body, _ = api(tarn, "GET", "read", query="path=/blocks/too-big&length=2000000")
    assert status == 400 and body["error_code"] == "MAX_READ_SIZE_EXCEEDED"
    status, body, _ = api(tarn, "POST", "create", {"path": "/blocks/too-big"})
    assert status == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    status, body, _ = api(tarn, "GET", "get-status", query="path=relative/path")
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    status, body, _ = api(tarn, "POST", "mkdirs", body=b"{not json")
    assert status == 400 and body["error_code"] == "MALFORMED_REQUEST"
    status, body, _ = http("GET", tarn.url + "/api/2.0/dbfs/list?path=/")
    assert status == 401


def test_missing_parent_semantics(tarn):
    # put and create make missing parents; a file on the parent chain is RESOURCE_ALREADY_EXISTS.
    assert api(tarn, "POST", "put", {"path": "/p1/p2/p3/file", "contents": b64(b"1")})[0] == 200
    assert api(tarn, "GET", "get-status", query="path=/p1/p2")[1]["is_dir"] is True
    status, body, _ = api(tarn, "POST", "put", {"path": "/p1/p2/p3/file/child", "contents": b64(b"1")})
    assert status == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    status, body, _ = api(tarn, "POST", "mkdirs", {"path": "/p1/p2/p3/file/dir"})
    assert status == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert api(tarn, "GET", "list", query="path=/nope/nope")[0] == 404
    # The Files API also creates parents; a file in the way is a conflict.
    code, _ = curl(tarn, "-X", "PUT", "--data-binary", "x", f"{tarn.url}/api/2.0/fs/files/Volumes/c/s/v/deep/f")
    assert code == 204
    code, _ = curl(tarn, "-X", "PUT", "--data-binary", "x", f"{tarn.url}/api/2.0/fs/files/Volumes/c/s/v/deep/f/g")
    assert code == 409


def test_path_traversal_and_symlinks_stay_inside(tarn, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    for target in ["/api/2.0/fs/files/../../../../etc/passwd", "/api/2.0/fs/files/%2e%2e/%2e%2e/etc/passwd",
                   "/api/2.0/fs/files/a/%2E%2E/%2E%2E/%2E%2E/etc/passwd"]:
        code, body = curl(tarn, "--path-as-is", tarn.url + target)
        assert code in (400, 404), (target, code)
        assert b"root:" not in body
        code, _ = curl(tarn, "--path-as-is", "-X", "PUT", "--data-binary", "pwned", tarn.url + target)
        assert code in (400, 404), (target, code)
    for path in ["/../../../etc/passwd", "dbfs:/../etc/passwd", "/a/../../etc/passwd", "/x\u0000y"]:
        status, body, _ = api(tarn, "GET", "read", query="path=" + path.replace("\u0000", "%00"))
        assert status == 400, path
        assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST"), path
        status, body, _ = api(tarn, "POST", "put", {"path": path, "contents": "", "overwrite": True})
        assert status == 400, path
    # A symlink inside the root that points outside is never followed, for reads or writes.
    os.symlink(outside, tarn.data_dir / "dbfs" / "escape")
    os.symlink(outside / "secret.txt", tarn.data_dir / "dbfs" / "secret-link")
    status, body, _ = api(tarn, "GET", "read", query="path=/escape/secret.txt")
    assert status == 403 and body["error_code"] == "PERMISSION_DENIED"
    status, body, _ = api(tarn, "GET", "read", query="path=/secret-link")
    assert status == 403
    code, body = curl(tarn, f"{tarn.url}/api/2.0/fs/files/escape/secret.txt")
    assert code == 403 and b"secret" not in body.replace(b"secret.txt", b"")
    status, _, _ = api(tarn, "POST", "put", {"path": "/escape/new.txt", "contents": b64(b"x"), "overwrite": True})
    assert status == 403
    code, _ = curl(tarn, "-X", "PUT", "--data-binary", "x", f"{tarn.url}/api/2.0/fs/files/escape/new2.txt")
    assert code == 403
    assert api(tarn, "POST", "mkdirs", {"path": "/escape/sub"})[0] == 403
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"
    listing = api(tarn, "GET", "list", query="path=/")[1]
    assert all(f["path"] not in ("/escape", "/secret-link") for f in listing.get("files", []))


def test_files_api_ranges_and_directories(tarn, tmp_path):
    src = tmp_path / "r.bin"
    src.write_bytes(bytes(range(256)) * 4)
    url = f"{tarn.url}/api/2.0/fs/files/Volumes/main/default/vol/r.bin"
    code, _ = curl(tarn, "-X", "PUT", "-T", str(src), url)
    assert code == 204
    code, body = curl(tarn, "-r", "10-19", url)
    assert code == 206 and body == bytes(range(10, 20))
    out = subprocess.run(["curl", "-s", "-I", "-H", f"Authorization: Bearer {tarn.admin_token}", url],
                         capture_output=True, text=True, timeout=30).stdout.lower()
    assert "content-length: 1024" in out and "last-modified:" in out
    code, _ = curl(tarn, "-X", "PUT", "-T", str(src), url + "?overwrite=false")
    assert code == 409
    code, _ = curl(tarn, "-r", "5000-", url)
    assert code == 416
    code, _ = curl(tarn, "-X", "PUT", f"{tarn.url}/api/2.0/fs/directories/Volumes/main/default/vol/sub")
    assert code == 204
    code, body = curl(tarn, f"{tarn.url}/api/2.0/fs/directories/Volumes/main/default/vol?page_size=1")
    page = json.loads(body)
    assert code == 200 and len(page["contents"]) == 1 and page["next_page_token"]
    names = [page["contents"][0]["name"]]
    status, page2, _ = http("GET", f"{tarn.url}/api/2.0/fs/directories/Volumes/main/default/vol?page_size=1&page_token="
                            + __import__("urllib.parse").parse.quote(page["next_page_token"]), token=tarn.admin_token)
    names += [e["name"] for e in page2["contents"]]
    assert names == ["r.bin", "sub"] and "next_page_token" not in page2
    code, body = curl(tarn, "-X", "DELETE", f"{tarn.url}/api/2.0/fs/directories/Volumes/main/default/vol")
    assert code == 400 and json.loads(body)["error_code"] == "DIRECTORY_NOT_EMPTY"
    assert curl(tarn, "-X", "DELETE", url)[0] == 204
    assert curl(tarn, "-I", url)[0] == 404
    # Files API and DBFS see one tree.
    assert api(tarn, "GET", "get-status", query="path=dbfs:/Volumes/main/default/vol/sub")[1]["is_dir"] is True


def test_200mb_streaming_files_api(tarn, cli, tmp_path):
    src = tmp_path / "big.bin"
    digest = make_random_file(src, BIG)
    url = f"{tarn.url}/api/2.0/fs/files/Volumes/main/default/vol/big.bin"
    code, body = curl(tarn, "-X", "PUT", "-T", str(src), url, timeout=600)
    assert code == 204, body
    dst = tmp_path / "big.out"
    code, _ = curl(tarn, "-o", str(dst), url, timeout=600)
    assert code == 200
    assert sha256_file(dst) == digest
    status, info, _ = api(tarn, "GET", "get-status", query="path=/Volumes/main/default/vol/big.bin")
    assert info["file_size"] == BIG

    # Tarn's own client: sendfile(2) upload and splice(2) download over plain http, byte-exact.
    remote = "dbfs:/Volumes/main/default/vol/cli-big.bin"
    r = cli("--debug", "fs", "cp", str(src), remote)
    assert r.returncode == 0, r.stderr
    assert "sendfile" in r.stderr
    stored = os.path.join(tarn.data_dir, "dbfs", "Volumes", "main", "default", "vol", "cli-big.bin")
    assert sha256_file(stored) == digest
    back = tmp_path / "cli-big.out"
    r = cli("--debug", "fs", "cp", remote, str(back))
    assert r.returncode == 0, r.stderr
    assert "splice into the file" in r.stderr
    assert sha256_file(back) == digest
    # With a proxy variable set the client uses libcurl instead (no_proxy=* keeps libcurl itself direct): same bytes.
    proxied = {"http_proxy": "http://127.0.0.1:9", "no_proxy": "*"}
    back2 = tmp_path / "cli-big-libcurl.out"
    r = cli("--debug", "fs", "cp", remote, str(back2), env=proxied)
    assert r.returncode == 0, r.stderr
    assert "splice into the file" not in r.stderr
    assert sha256_file(back2) == digest
    assert not [p for p in os.listdir(tmp_path) if ".tarn-part-" in p]


def test_200mb_by_blocks_and_read_slices(tarn, tmp_path):
    src = tmp_path / "big.bin"
    digest = make_random_file(src, BIG)
    status, body, _ = api(tarn, "POST", "create", {"path": "/blocks/big.bin", "overwrite": False})
    assert status == 200, body
    handle = body["handle"]
    with open(src, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            status, body, _ = api(tarn, "POST", "add-block", {"handle": handle, "data": b64(block)})
            assert status == 200, body
    # Not visible until close.
    assert api(tarn, "GET", "get-status", query="path=/blocks/big.bin")[0] == 404
    assert api(tarn, "POST", "close", {"handle": handle})[0] == 200
    size = api(tarn, "GET", "get-status", query="path=/blocks/big.bin")[1]["file_size"]
    assert size == BIG
    digest_back = hashlib.sha256()
    offset = 0
    while offset < size:
        status, body, _ = api(tarn, "GET", "read", query=f"path=/blocks/big.bin&offset={offset}&length={MiB}")
        assert status == 200 and body["bytes_read"] > 0
        data = base64.b64decode(body["data"])
        digest_back.update(data)
        offset += len(data)
    assert digest_back.hexdigest() == digest


def test_cli_fs_commands(tarn, cli, tmp_path):
    local = tmp_path / "local"
    (local / "tree" / "sub").mkdir(parents=True)
    (local / "tree" / "a.txt").write_text("alpha")
    (local / "tree" / "sub" / "b.txt").write_text("beta")
    big_digest = make_random_file(local / "mid.bin", 20 * MiB)

    r = cli("fs", "mkdirs", "dbfs:/cli/dir")
    assert r.returncode == 0, r.stderr
    r = cli("fs", "cp", "-r", str(local / "tree"), "dbfs:/cli/tree")
    assert r.returncode == 0, r.stderr
    r = cli("fs", "ls", "dbfs:/cli/tree")
    assert r.returncode == 0 and r.stdout.split() == ["a.txt", "sub/"], r.stdout
    r = cli("fs", "ls", "-l", "dbfs:/cli/tree")
    assert "dbfs:/cli/tree/a.txt" in r.stdout and " 5 " in r.stdout
    r = cli("fs", "ls", "dbfs:/cli/tree", "--output", "json")
    assert sorted(f["path"] for f in json.loads(r.stdout)["files"]) == ["/cli/tree/a.txt", "/cli/tree/sub"]
    r = cli("fs", "cat", "dbfs:/cli/tree/sub/b.txt")
    assert r.returncode == 0 and r.stdout == "beta"

    # Blocks (dbfs:/) and streaming (dbfs:/Volumes) both ways, byte-exact.
    for remote in ["dbfs:/cli/mid.bin", "dbfs:/Volumes/main/default/vol/mid.bin"]:
        r = cli("fs", "cp", str(local / "mid.bin"), remote)
        assert r.returncode == 0, r.stderr
        r = cli("fs", "cp", str(local / "mid.bin"), remote)
        assert r.returncode == 1 and "RESOURCE_ALREADY_EXISTS" in r.stderr
        r = cli("fs", "cp", "--overwrite", str(local / "mid.bin"), remote)
        assert r.returncode == 0, r.stderr
        back = tmp_path / ("back-" + remote.rsplit("/", 2)[-2])
        r = cli("fs", "cp", remote, str(back))
        assert r.returncode == 0, r.stderr
        assert sha256_file(back) == big_digest

    r = cli("fs", "cp", "-r", "dbfs:/cli/tree", str(tmp_path / "down"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "down" / "sub" / "b.txt").read_text() == "beta"
    r = cli("fs", "mv", "dbfs:/cli/tree/a.txt", "dbfs:/cli/dir/a2.txt")
    assert r.returncode == 0, r.stderr
    assert cli("fs", "cat", "dbfs:/cli/dir/a2.txt").stdout == "alpha"
    r = cli("fs", "rm", "dbfs:/cli/tree")
    assert r.returncode == 1 and "IO_ERROR" in r.stderr
    r = cli("fs", "rm", "-r", "dbfs:/cli/tree")
    assert r.returncode == 0, r.stderr
    r = cli("fs", "ls", "dbfs:/cli/tree")
    assert r.returncode == 1 and "RESOURCE_DOES_NOT_EXIST" in r.stderr
    r = cli("fs", "cp", str(local / "tree" / "a.txt"), str(tmp_path / "x.txt"))
    assert r.returncode == 1
    # No progress bar when stderr is not a terminal.
    assert "%" not in r.stderr


def test_multipart_put_streams_past_64mb_and_sendfile_ranges(tarn, tmp_path):
    """dbfs/put multipart used to be buffered under 64 MB; now the file part streams to disk."""
    size = 80 * MiB + 7
    src = tmp_path / "mp.bin"
    digest = make_random_file(src, size)
    code, body = curl(tarn, "-F", "path=/mp/big.bin", "-F", "overwrite=false", "-F", f"file=@{src}",
                      f"{tarn.url}/api/2.0/dbfs/put", timeout=600)
    assert code == 200, body
    assert api(tarn, "GET", "get-status", query="path=/mp/big.bin")[1]["file_size"] == size
    # Not overwritten without overwrite=true, and nothing partial left behind.
    code, body = curl(tarn, "-F", "path=/mp/big.bin", "-F", "file=@" + str(src), f"{tarn.url}/api/2.0/dbfs/put",
                      timeout=600)
    assert code == 400 and json.loads(body)["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert os.listdir(os.path.join(tarn.data_dir, "dbfs", ".tarn-tmp-uploads")) == []
    # Whole download and ranges (the server sends them with sendfile) are byte-exact.
    url = f"{tarn.url}/api/2.0/fs/files/mp/big.bin"
    dst = tmp_path / "mp.out"
    code, _ = curl(tarn, "-o", str(dst), url, timeout=600)
    assert code == 200 and sha256_file(dst) == digest
    with open(src, "rb") as f:
        f.seek(70 * MiB + 3)
        expected = f.read(1000)
        f.seek(size - 5)
        tail = f.read()
    code, body = curl(tarn, "-r", f"{70 * MiB + 3}-{70 * MiB + 1002}", url)
    assert code == 206 and body == expected
    code, body = curl(tarn, "-r", "-5", url)
    assert code == 206 and body == tail


def test_large_directory_listing_and_pages(tarn):
    many = os.path.join(tarn.data_dir, "dbfs", "many")
    os.makedirs(many)
    names = [f"f{i:05d}.txt" for i in range(2500)]
    for name in names:
        with open(os.path.join(many, name), "wb") as f:
            f.write(b"xy")
    status, body, _ = api(tarn, "GET", "list", query="path=/many")
    assert status == 200
    assert [e["path"] for e in body["files"]] == [f"/many/{n}" for n in names]
    assert all(e["file_size"] == 2 and e["is_dir"] is False for e in body["files"])
    seen, token, pages = [], None, 0
    while True:
        url = f"{tarn.url}/api/2.0/fs/directories/many"
        if token:
            url += "?page_token=" + __import__("urllib.parse").parse.quote(token)
        status, page, _ = http("GET", url, token=tarn.admin_token)
        assert status == 200
        pages += 1
        seen += [e["name"] for e in page["contents"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == 3 and seen == names


def test_cli_cp_direct_io_aborted_upload_and_cold_ranges(tarn, cli, tmp_path):
    """Large transfers take the O_DIRECT paths (server staging file, `tarn fs cp` download): byte-exact with a size
    that is not a multiple of the 4 KiB alignment, ranges of the uploaded file right, and a PUT whose client goes
    away mid-body leaves neither a visible file nor a staging file."""
    size = 9 * MiB + 4093
    src = tmp_path / "odd.bin"
    digest = make_random_file(src, size)
    remote = "dbfs:/Volumes/main/default/vol/odd.bin"
    r = cli("fs", "cp", str(src), remote)
    assert r.returncode == 0, r.stderr
    back = tmp_path / "odd.back"
    r = cli("fs", "cp", remote, str(back))
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(back) == size and sha256_file(back) == digest
    assert not [p for p in os.listdir(tmp_path) if ".tarn-part-" in p]
    url = f"{tarn.url}/api/2.0/fs/files/Volumes/main/default/vol/odd.bin"
    data = src.read_bytes()
    for first, last in [(0, 0), (4095, 4097), (4 * MiB - 1, 4 * MiB + 10), (size - 4093, size - 1)]:
        code, body = curl(tarn, "-r", f"{first}-{last}", url)
        assert code == 206 and body == data[first:last + 1], (first, last)
    code, body = curl(tarn, "-r", "-5000", url)
    assert code == 206 and body == data[-5000:]

    # A client that announces 16 MiB, sends 6 MiB, waits until the upload is staged and disconnects.
    staging = os.path.join(tarn.data_dir, "dbfs", ".tarn-tmp-uploads")
    assert os.listdir(staging) == []
    host, port = tarn.url.split("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall((f"PUT /api/2.0/fs/files/Volumes/main/default/vol/aborted.bin HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {tarn.admin_token}\r\nContent-Length: {16 * MiB}\r\n\r\n").encode())
        s.sendall(os.urandom(6 * MiB))
        deadline = time.monotonic() + 60
        while not os.listdir(staging) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(staging), "the upload never started"
    deadline = time.monotonic() + 60
    while os.listdir(staging) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.listdir(staging) == []
    assert curl(tarn, "-I", f"{tarn.url}/api/2.0/fs/files/Volumes/main/default/vol/aborted.bin")[0] == 404
