# SPDX-License-Identifier: Apache-2.0
"""Workspace API end to end: import/export in each format (curl and the CLI), folders, errors, on-disk layout."""
import base64
import json
import subprocess

import pytest

PY_SOURCE = ("# Databricks notebook source\n# MAGIC %md\n# MAGIC # Daily load\n\n# COMMAND ----------\n\n"
             "df = spark.range(3)\ndisplay(df)\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1")
SQL_SOURCE = "-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\n-- MAGIC %python\n-- MAGIC x = 1"
R_SOURCE = "# Databricks notebook source\nlibrary(DBI)\n\n# COMMAND ----------\n\nx <- 1\n"
SCALA_SOURCE = "// Databricks notebook source\nval x = 1\n\n// COMMAND ----------\n\nprintln(x)"


def curl(*args, stdin=None):
    """Runs curl; returns (HTTP status, raw body bytes)."""
    out = subprocess.run(["curl", "-s", "-S", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True,
                         input=stdin, timeout=60)
    assert out.returncode == 0, out.stderr
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body


def api(tarn, method, path, body=None, query=None):
    args = ["-X", method, "-H", f"Authorization: Bearer {tarn.admin_token}"]
    stdin = None
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        stdin = json.dumps(body).encode()
    url = tarn.url + path
    if query:
        args += ["-G"] + [a for k, v in query.items() for a in ("--data-urlencode", f"{k}={v}")]
    code, raw = curl(*args, url, stdin=stdin)
    return code, (json.loads(raw) if raw.strip() else None)


def import_source(tarn, path, text, language, fmt="SOURCE", overwrite=False):
    return api(tarn, "POST", "/api/2.0/workspace/import",
               {"path": path, "format": fmt, "language": language, "overwrite": overwrite,
                "content": base64.b64encode(text.encode()).decode()})


def export(tarn, path, fmt="SOURCE"):
    code, body = api(tarn, "GET", "/api/2.0/workspace/export", query={"path": path, "format": fmt})
    assert code == 200, body
    return base64.b64decode(body["content"]), body["file_type"]


@pytest.mark.parametrize("language,text,file_type", [
    ("PYTHON", PY_SOURCE, "py"), ("SQL", SQL_SOURCE, "sql"), ("R", R_SOURCE, "r"), ("SCALA", SCALA_SOURCE, "scala")])
def test_source_round_trip_is_byte_equal(tarn, language, text, file_type):
    path = f"/Users/admin/nb_{language.lower()}"
    code, body = import_source(tarn, path, text, language)
    assert code == 200, body
    content, kind = export(tarn, path)
    assert content == text.encode()
    assert kind == file_type
    code, info = api(tarn, "GET", "/api/2.0/workspace/get-status", query={"path": path})
    assert code == 200
    assert info["object_type"] == "NOTEBOOK" and info["language"] == language
    assert isinstance(info["object_id"], int) and info["created_at"] > 0 and info["size"] > 0
    # Stored as nbformat-4 .ipynb with the language in the metadata.
    stored = json.loads((tarn.data_dir / "workspace" / "tree" / "Users" / "admin" / f"nb_{language.lower()}.ipynb")
                        .read_text())
    assert stored["nbformat"] == 4
    assert stored["metadata"]["kernelspec"]["language"].lower() == language.lower()


def test_jupyter_round_trip_and_direct_download(tarn):
    assert import_source(tarn, "/Users/admin/nb", PY_SOURCE, "PYTHON")[0] == 200
    ipynb, kind = export(tarn, "/Users/admin/nb", "JUPYTER")
    assert kind == "ipynb"
    notebook = json.loads(ipynb)
    assert [c["cell_type"] for c in notebook["cells"]] == ["markdown", "code", "code"]
    assert "".join(notebook["cells"][2]["source"]) == "%sql\nSELECT 1"
    code, body = api(tarn, "POST", "/api/2.0/workspace/import",
                     {"path": "/Users/admin/from_jupyter", "format": "JUPYTER",
                      "content": base64.b64encode(ipynb).decode()})
    assert code == 200, body
    assert export(tarn, "/Users/admin/from_jupyter")[0] == PY_SOURCE.encode()
    code, raw = curl("-H", f"Authorization: Bearer {tarn.admin_token}",
                     tarn.url + "/api/2.0/workspace/export?path=/Users/admin/nb&format=SOURCE&direct_download=true")
    assert code == 200 and raw == PY_SOURCE.encode()


def test_multipart_upload_and_raw_files(tarn):
    # SDK-style multipart upload: a notebook source with AUTO becomes a notebook without its extension...
    code, raw = curl("-H", f"Authorization: Bearer {tarn.admin_token}",
                     "-F", "path=/Users/admin/upload.py", "-F", "format=AUTO", "-F", "overwrite=true",
                     "-F", "content=@-;filename=upload.py", tarn.url + "/api/2.0/workspace/import",
                     stdin=PY_SOURCE.encode())
    assert code == 200, raw
    code, info = api(tarn, "GET", "/api/2.0/workspace/get-status", query={"path": "/Users/admin/upload"})
    assert code == 200 and info["object_type"] == "NOTEBOOK" and info["language"] == "PYTHON"
    assert export(tarn, "/Users/admin/upload")[0] == PY_SOURCE.encode()
    # ...and a plain script stays a file.
    code, raw = curl("-H", f"Authorization: Bearer {tarn.admin_token}",
                     "-F", "path=/Users/admin/plain.py", "-F", "format=AUTO",
                     "-F", "content=@-;filename=plain.py", tarn.url + "/api/2.0/workspace/import",
                     stdin=b"print('hi')\n")
    assert code == 200, raw
    code, info = api(tarn, "GET", "/api/2.0/workspace/get-status", query={"path": "/Users/admin/plain.py"})
    assert info["object_type"] == "FILE" and info["size"] == 12
    blob = bytes(range(256))
    code, body = api(tarn, "POST", "/api/2.0/workspace/import",
                     {"path": "/Users/admin/blob.bin", "format": "RAW", "content": base64.b64encode(blob).decode()})
    assert code == 200, body
    code, raw = curl("-H", f"Authorization: Bearer {tarn.admin_token}",
                     tarn.url + "/api/2.0/workspace/export?path=/Users/admin/blob.bin&direct_download=true")
    assert code == 200 and raw == blob


def test_folders_and_errors(tarn):
    assert api(tarn, "POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/team/a"})[0] == 200
    assert import_source(tarn, "/Shared/team/a/nb", "SELECT 1", "SQL")[0] == 200
    code, body = import_source(tarn, "/Shared/team/a/nb", "SELECT 2", "SQL")
    assert code == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert import_source(tarn, "/Shared/team/a/nb", "SELECT 2", "SQL", overwrite=True)[0] == 200
    code, body = import_source(tarn, "/Shared/team/x", "x", "PYTHON", fmt="DOCX")
    assert code == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    code, body = api(tarn, "POST", "/api/2.0/workspace/import",
                     {"path": "/Shared/team/big", "format": "RAW",
                      "content": base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()})
    assert code == 400 and body["error_code"] == "MAX_NOTEBOOK_SIZE_EXCEEDED"
    code, body = api(tarn, "GET", "/api/2.0/workspace/get-status", query={"path": "/Shared/none"})
    assert code == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    code, body = api(tarn, "POST", "/api/2.0/workspace/delete", {"path": "/Shared/team"})
    assert code == 400 and body["error_code"] == "DIRECTORY_NOT_EMPTY"
    code, listed = api(tarn, "GET", "/api/2.0/workspace/list", query={"path": "/Shared/team/a"})
    assert [o["path"] for o in listed["objects"]] == ["/Shared/team/a/nb"]  # nothing partial from failed imports
    assert api(tarn, "POST", "/api/2.0/workspace/delete", {"path": "/Shared/team", "recursive": True})[0] == 200
    assert api(tarn, "GET", "/api/2.0/workspace/get-status", query={"path": "/Shared/team/a/nb"})[0] == 404
    assert not (tarn.data_dir / "workspace" / "tree" / "Shared" / "team").exists()
    code, root = api(tarn, "GET", "/api/2.0/workspace/list", query={"path": "/"})
    assert {o["path"] for o in root["objects"]} >= {"/Users", "/Shared"}


def test_objects_survive_a_restart(tmp_path):
    from conftest import start_tarn
    server = start_tarn(tmp_path / "data")
    try:
        assert import_source(server, "/Users/admin/keep", SQL_SOURCE, "SQL")[0] == 200
    finally:
        assert server.stop() == 0
    server = start_tarn(tmp_path / "data")
    try:
        assert export(server, "/Users/admin/keep")[0] == SQL_SOURCE.encode()
    finally:
        assert server.stop() == 0


def test_cli_import_export_and_dirs(tarn, cli, tmp_path):
    local = tmp_path / "src"
    (local / "lib").mkdir(parents=True)
    (local / "etl.py").write_text(PY_SOURCE)
    (local / "report.sql").write_text(SQL_SOURCE)
    (local / "lib" / "helpers.py").write_text("def f():\n    return 1\n")
    (local / "lib" / "data.csv").write_bytes(b"a,b\n1,2\n")

    out = cli("workspace", "import", local / "etl.py", "/Users/admin/etl")
    assert out.returncode == 0, out.stderr
    out = cli("workspace", "export", "/Users/admin/etl", tmp_path / "etl_back.py")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "etl_back.py").read_bytes() == PY_SOURCE.encode()
    out = cli("workspace", "export", "/Users/admin/etl", "--format", "JUPYTER")
    assert out.returncode == 0 and json.loads(out.stdout)["nbformat"] == 4

    out = cli("workspace", "import-dir", local, "/Users/admin/proj")
    assert out.returncode == 0, out.stderr
    out = cli("workspace", "ls", "/Users/admin/proj")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "LANGUAGE", "PATH"]
    assert any(line.split() == ["NOTEBOOK", "PYTHON", "/Users/admin/proj/etl"] for line in lines)
    assert any(line.split() == ["NOTEBOOK", "SQL", "/Users/admin/proj/report"] for line in lines)
    assert any(line.split() == ["DIRECTORY", "/Users/admin/proj/lib"] for line in lines)
    listed = json.loads(cli("workspace", "ls", "/Users/admin/proj/lib", "-o", "json").stdout)
    assert {o["path"]: o["object_type"] for o in listed["objects"]} == {
        "/Users/admin/proj/lib/data.csv": "FILE", "/Users/admin/proj/lib/helpers.py": "FILE"}

    out = cli("workspace", "export-dir", "/Users/admin/proj", tmp_path / "back")
    assert out.returncode == 0, out.stderr
    for relative in ["etl.py", "report.sql", "lib/helpers.py", "lib/data.csv"]:
        assert (tmp_path / "back" / relative).read_bytes() == (local / relative).read_bytes(), relative

    assert cli("workspace", "mkdirs", "/Users/admin/empty").returncode == 0
    out = cli("workspace", "rm", "/Users/admin/proj")
    assert out.returncode == 1 and "DIRECTORY_NOT_EMPTY" in out.stderr
    assert cli("workspace", "rm", "-r", "/Users/admin/proj").returncode == 0
    out = cli("workspace", "export", "/Users/admin/proj/etl")
    assert out.returncode == 1 and "RESOURCE_DOES_NOT_EXIST" in out.stderr
