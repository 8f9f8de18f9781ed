# SPDX-License-Identifier: Apache-2.0
"""Foundation end-to-end checks: `tarn up`, health, auth, tokens (curl and CLI), start-up refusals, shutdown."""
import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import free_port, http, run_cli, start_tarn, TARN_BIN


def curl(*args):
    out = subprocess.run(["curl", "-s", "-S", "-w", "\n%{http_code}", *args], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    body, _, code = out.stdout.rpartition("\n")
    return int(code), (json.loads(body) if body.strip() else None)


def test_health_needs_no_auth_and_reports_version(tarn):
    code, body = curl(tarn.url + "/health")
    assert code == 200
    assert body["status"] == "ok"
    assert body["version"]
    assert body["uptime_seconds"] >= 0


def test_well_known_config_is_404_without_auth(tarn):
    code, body = curl(tarn.url + "/.well-known/databricks-config")
    assert code == 404
    assert body["error_code"] in ("RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")


def test_data_dir_layout_and_admin_token_file(tarn):
    d = tarn.data_dir
    for sub in ["dbfs", "dbfs/user/hive/warehouse", "logs"]:
        assert (d / sub).is_dir(), sub
    assert (d / "meta.db").is_file()
    mode = stat.S_IMODE(os.stat(d / "admin-token").st_mode)
    assert mode == 0o600
    token = tarn.admin_token
    assert token.startswith("dapi") and len(token) == 36
    int(token[4:], 16)
    # Printed once at first start.
    assert token in tarn.output()


def test_api_requires_a_valid_bearer_token(tarn):
    for hdrs in ([], ["-H", "Authorization: Bearer dapi00000000000000000000000000000000"],
                 ["-H", "Authorization: Bearer"], ["-H", "Authorization: Basic Zm9vOmJhcg=="]):
        code, body = curl(*hdrs, tarn.url + "/api/2.0/token/list")
        assert code == 401, hdrs
        assert body["error_code"] == "UNAUTHENTICATED"


def test_whoami_with_curl_and_cli(tarn, cli):
    code, body = curl("-H", f"Authorization: Bearer {tarn.admin_token}", tarn.url + "/api/2.0/preview/scim/v2/Me")
    assert code == 200
    assert body["userName"] == "admin"
    out = cli("auth", "whoami")
    assert out.returncode == 0, out.stderr
    assert "admin" in out.stdout
    out = cli("auth", "whoami", "--output", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["userName"] == "admin"


def test_token_round_trip_with_curl(tarn):
    admin = tarn.admin_token
    status, created, _ = tarn.post("/api/2.0/token/create", {"comment": "ci", "lifetime_seconds": 3600}, token=admin)
    assert status == 200, created
    new_token = created["token_value"]
    token_id = created["token_info"]["token_id"]
    assert created["token_info"]["comment"] == "ci"
    assert created["token_info"]["expiry_time"] > created["token_info"]["creation_time"]
    # Use it.
    status, me, _ = tarn.get("/api/2.0/preview/scim/v2/Me", token=new_token)
    assert status == 200 and me["userName"] == "admin"
    # List never returns secrets.
    status, listed, _ = tarn.get("/api/2.0/token/list", token=admin)
    assert status == 200
    ids = [t["token_id"] for t in listed["token_infos"]]
    assert token_id in ids
    assert new_token not in json.dumps(listed)
    # Revoke, then 401.
    status, body, _ = tarn.post("/api/2.0/token/delete", {"token_id": token_id}, token=admin)
    assert status == 200, body
    status, body, _ = tarn.get("/api/2.0/preview/scim/v2/Me", token=new_token)
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"
    # Revoking again: the token no longer exists.
    status, body, _ = tarn.post("/api/2.0/token/delete", {"token_id": token_id}, token=admin)
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_token_round_trip_with_cli(tarn, cli):
    out = cli("tokens", "create", "--comment", "from-cli", "--lifetime-seconds", "600", "--output", "json")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout)
    new_token, token_id = created["token_value"], created["token_info"]["token_id"]
    out = cli("auth", "whoami", token=new_token)
    assert out.returncode == 0 and "admin" in out.stdout
    out = cli("tokens", "list")
    assert out.returncode == 0, out.stderr
    assert token_id in out.stdout and "from-cli" in out.stdout
    out = cli("tokens", "revoke", token_id)
    assert out.returncode == 0, out.stderr
    out = cli("auth", "whoami", token=new_token)
    assert out.returncode == 1
    assert "UNAUTHENTICATED" in out.stderr


def test_bad_input_gets_documented_errors(tarn):
    admin = tarn.admin_token
    # Malformed JSON, whatever the content type.
    status, body, _ = http("POST", tarn.url + "/api/2.0/token/create", token=admin, body=b"{not json",
                           headers={"Content-Type": "text/plain"})
    assert status == 400 and body["error_code"] == "MALFORMED_REQUEST"
    # JSON accepted with a text/json content type (legacy CLI).
    status, body, _ = http("POST", tarn.url + "/api/2.0/token/create", token=admin,
                           body=json.dumps({"comment": "x"}).encode(), headers={"Content-Type": "text/json"})
    assert status == 200 and body["token_value"].startswith("dapi")
    # Wrong field type.
    status, body, _ = tarn.post("/api/2.0/token/create", {"lifetime_seconds": "soon"}, token=admin)
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    # Unknown token id.
    status, body, _ = tarn.post("/api/2.0/token/delete", {"token_id": "nope"}, token=admin)
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # Unknown endpoint (authenticated).
    status, body, _ = tarn.get("/api/2.0/no/such/thing", token=admin)
    assert status == 404 and body["error_code"] == "ENDPOINT_NOT_FOUND"


def test_expired_token_is_rejected(tarn):
    status, created, _ = tarn.post("/api/2.0/token/create", {"lifetime_seconds": 1}, token=tarn.admin_token)
    assert status == 200
    time.sleep(1.5)
    status, body, _ = tarn.get("/api/2.0/preview/scim/v2/Me", token=created["token_value"])
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"


def test_admin_token_from_env_and_restart_keeps_tokens(tmp_path):
    data = tmp_path / "data"
    token = "dapi" + "ab" * 16
    server = start_tarn(data, env_extra={"TARN_ADMIN_TOKEN": token})
    try:
        status, me, _ = server.get("/api/2.0/preview/scim/v2/Me", token=token)
        assert status == 200 and me["userName"] == "admin"
        status, created, _ = server.post("/api/2.0/token/create", {"comment": "keep"}, token=token)
        assert status == 200
    finally:
        assert server.stop() == 0
    server = start_tarn(data, env_extra={"TARN_ADMIN_TOKEN": token})
    try:
        status, me, _ = server.get("/api/2.0/preview/scim/v2/Me", token=created["token_value"])
        assert status == 200
    finally:
        assert server.stop() == 0


def test_second_server_on_same_data_dir_is_refused(tarn):
    out = subprocess.run([TARN_BIN, "up", "--data", str(tarn.data_dir), "--http-port", str(free_port()),
                          "--sql-port", str(free_port())], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "in use" in (out.stdout + out.stderr)


def test_taken_port_is_refused(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = subprocess.run([TARN_BIN, "up", "--data", str(tmp_path / "d"), "--http-port", str(port),
                              "--sql-port", str(free_port())], capture_output=True, text=True, timeout=30)
        assert out.returncode == 1
        assert str(port) in (out.stdout + out.stderr)


def test_unwritable_data_dir_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = subprocess.run([TARN_BIN, "up", "--data", str(blocker / "data"), "--http-port", str(free_port()),
                          "--sql-port", str(free_port())], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "data" in (out.stdout + out.stderr)


def test_sigint_shuts_down_cleanly(tmp_path):
    server = start_tarn(tmp_path / "data")
    assert server.stop(signal.SIGINT) == 0
    # The lock is released: a new server can start on the same dir.
    server = start_tarn(tmp_path / "data")
    assert server.stop() == 0


def test_cli_usage_errors_exit_2(tmp_path):
    for args in (["--no-such-flag"], ["tokens", "revoke"], ["no-such-command"], ["tokens", "list", "--bogus"]):
        out = run_cli(*args, home=tmp_path)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "sage" in out.stderr or "usage" in out.stderr.lower(), out.stderr


def test_cli_without_configuration_explains(tmp_path):
    out = run_cli("auth", "whoami", home=tmp_path)
    assert out.returncode == 1
    assert "DATABRICKS_HOST" in out.stderr or "host" in out.stderr.lower()


def test_cli_reads_databrickscfg_profile(tarn, tmp_path):
    home = tmp_path / "cfg-home"
    home.mkdir()
    (home / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = http://127.0.0.1:1\ntoken = bad\n\n[local]\nhost = {tarn.url}\ntoken = {tarn.admin_token}\n")
    out = run_cli("auth", "whoami", "--profile", "local", home=home)
    assert out.returncode == 0, out.stderr
    assert "admin" in out.stdout
    out = run_cli("auth", "whoami", home=home)  # DEFAULT points nowhere
    assert out.returncode == 1


def test_sql_local(tmp_path):
    data = tmp_path / "d"
    out = run_cli("sql", "--local", "--data", data, "-c", "SELECT 42 AS answer, 'x' AS s", "--format", "csv",
                  home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["answer,s", "42,x"]
    out = run_cli("sql", "--local", "--data", data, "-c", "SELECT 1 AS a UNION ALL SELECT 2", "--format", "json",
                  home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"a": 1}, {"a": 2}]
    out = run_cli("sql", "--local", "--data", data, "-c", "SELEC 1", home=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("ERROR 42601: ")
    assert len(out.stderr.strip().splitlines()) == 1
    out = run_cli("sql", "--local", "--data", data, "-c", "SELECT * FROM no_such_table", home=tmp_path)
    assert out.returncode == 1 and out.stderr.startswith("ERROR 42P01: ")
    script = tmp_path / "s.sql"
    script.write_text("CREATE TABLE t AS SELECT range AS i FROM range(5);\nSELECT sum(i) AS total FROM t;\n")
    out = run_cli("sql", "--local", "--data", data, "-f", script, "--format", "csv", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "total\n10" in out.stdout
