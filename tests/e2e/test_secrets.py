# SPDX-License-Identifier: Apache-2.0
"""Secrets API end to end: scopes, secrets, ACL enforcement, the CLI, and no plaintext at rest or in listings."""
import base64
import hashlib
import json
import secrets
import sqlite3
import stat
import time

from conftest import http


def call(tarn, method, path, body=None, token=None, query=""):
    return http(method, tarn.url + path + query, token=token or tarn.admin_token, body=body)


def make_user_with_token(tarn, name):
    """Adds a user and a personal access token straight into meta.db (there is no REST API for other users' tokens
    yet); the server stores only the token's SHA-256, as identity does."""
    db = sqlite3.connect(str(tarn.data_dir / "meta.db"), timeout=30)
    now = int(time.time() * 1000)
    user_id = db.execute("INSERT INTO users (user_name, display_name, created_at) VALUES (?, ?, ?) RETURNING id",
                         (name, name, now)).fetchone()[0]
    token = "dapi" + secrets.token_hex(16)
    db.execute("INSERT INTO tokens (token_id, token_hash, user_id, comment, creation_time, expiry_time) "
               "VALUES (?, ?, ?, '', ?, -1)", (secrets.token_hex(8), hashlib.sha256(token.encode()).hexdigest(),
                                               user_id, now))
    db.commit()
    db.close()
    return token


def test_secret_round_trip_and_nothing_in_plain_text(tarn, cli):
    marker = "plaintext-marker-8d1f6b2c"
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/scopes/create", {"scope": "etl"})
    assert status == 200, body
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/scopes/create", {"scope": "etl"})
    assert status == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/put",
                           {"scope": "etl", "key": "db-password", "string_value": marker})
    assert status == 200, body
    raw = bytes([0, 1, 2, 255]) + marker.encode()
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/put",
                           {"scope": "etl", "key": "blob", "bytes_value": base64.b64encode(raw).decode()})
    assert status == 200, body

    status, listed, _ = call(tarn, "GET", "/api/2.0/secrets/list", query="?scope=etl")
    assert status == 200
    assert sorted(s["key"] for s in listed["secrets"]) == ["blob", "db-password"]
    assert all(set(s) == {"key", "last_updated_timestamp"} for s in listed["secrets"])
    assert marker not in json.dumps(listed)
    status, got, _ = call(tarn, "GET", "/api/2.0/secrets/get", query="?scope=etl&key=db-password")
    assert status == 200 and base64.b64decode(got["value"]).decode() == marker
    status, got, _ = call(tarn, "GET", "/api/2.0/secrets/get", query="?scope=etl&key=blob")
    assert base64.b64decode(got["value"]) == raw

    out = cli("secrets", "list", "etl")
    assert out.returncode == 0 and "db-password" in out.stdout and marker not in out.stdout
    out = cli("secrets", "get", "etl", "db-password")
    assert out.returncode == 0 and out.stdout == marker

    # The key file exists with mode 0600; no file in the data dir holds the plaintext.
    key_file = tarn.data_dir / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for path in tarn.data_dir.rglob("*"):
        if path.is_file():
            assert marker.encode() not in path.read_bytes(), path
    assert marker not in tarn.output()


def test_acls_are_enforced(tarn):
    bob = make_user_with_token(tarn, "bob")
    assert call(tarn, "GET", "/api/2.0/preview/scim/v2/Me", token=bob)[1]["userName"] == "bob"
    assert call(tarn, "POST", "/api/2.0/secrets/scopes/create", {"scope": "team"})[0] == 200
    assert call(tarn, "POST", "/api/2.0/secrets/put", {"scope": "team", "key": "k", "string_value": "v"})[0] == 200

    def bob_get():
        return call(tarn, "GET", "/api/2.0/secrets/get", token=bob, query="?scope=team&key=k")

    status, body, _ = bob_get()
    assert status == 403 and body["error_code"] == "PERMISSION_DENIED"
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/acls/put",
                           {"scope": "team", "principal": "bob", "permission": "READ"})
    assert status == 200, body
    status, body, _ = bob_get()
    assert status == 200 and base64.b64decode(body["value"]) == b"v"
    # READ does not allow writing, WRITE does not allow managing ACLs.
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/put", {"scope": "team", "key": "k2", "string_value": "x"},
                           token=bob)
    assert status == 403 and body["error_code"] == "PERMISSION_DENIED"
    assert call(tarn, "POST", "/api/2.0/secrets/acls/put",
                {"scope": "team", "principal": "bob", "permission": "WRITE"})[0] == 200
    assert call(tarn, "POST", "/api/2.0/secrets/put", {"scope": "team", "key": "k2", "string_value": "x"},
                token=bob)[0] == 200
    status, body, _ = call(tarn, "GET", "/api/2.0/secrets/acls/list", token=bob, query="?scope=team")
    assert status == 403
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/scopes/delete", {"scope": "team"}, token=bob)
    assert status == 403

    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/acls/put",
                           {"scope": "team", "principal": "ghost", "permission": "READ"})
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body, _ = call(tarn, "POST", "/api/2.0/secrets/acls/put",
                           {"scope": "team", "principal": "bob", "permission": "OWNER"})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    status, acls, _ = call(tarn, "GET", "/api/2.0/secrets/acls/list", query="?scope=team")
    assert {(a["principal"], a["permission"]) for a in acls["items"]} == {("admin", "MANAGE"), ("bob", "WRITE")}
    status, acl, _ = call(tarn, "GET", "/api/2.0/secrets/acls/get", query="?scope=team&principal=bob")
    assert acl == {"principal": "bob", "permission": "WRITE"}
    assert call(tarn, "POST", "/api/2.0/secrets/acls/delete", {"scope": "team", "principal": "bob"})[0] == 200
    assert call(tarn, "GET", "/api/2.0/secrets/acls/get", query="?scope=team&principal=bob")[0] == 404
    assert bob_get()[0] == 403
    # bob's own scope: the creator gets MANAGE.
    assert call(tarn, "POST", "/api/2.0/secrets/scopes/create", {"scope": "bobs"}, token=bob)[0] == 200
    status, acls, _ = call(tarn, "GET", "/api/2.0/secrets/acls/list", token=bob, query="?scope=bobs")
    assert status == 200 and acls["items"] == [{"principal": "bob", "permission": "MANAGE"}]


def test_cli_scopes_and_acls(tarn, cli):
    out = cli("secrets", "create-scope", "ml")
    assert out.returncode == 0, out.stderr
    out = cli("secrets", "list-scopes")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].split() == ["SCOPE", "BACKEND"]
    assert ["ml", "DATABRICKS"] in [line.split() for line in out.stdout.splitlines()]
    out = cli("secrets", "put", "ml", "token", "--string-value", "abc")
    assert out.returncode == 0 and "abc" not in out.stdout
    out = cli("secrets", "put-acl", "ml", "users", "read")
    assert out.returncode == 0, out.stderr
    out = cli("secrets", "list-acls", "ml", "-o", "json")
    assert {(a["principal"], a["permission"]) for a in json.loads(out.stdout)["items"]} == {
        ("admin", "MANAGE"), ("users", "READ")}
    out = cli("secrets", "delete", "ml", "token")
    assert out.returncode == 0
    out = cli("secrets", "delete", "ml", "token")
    assert out.returncode == 1 and "RESOURCE_DOES_NOT_EXIST" in out.stderr
    assert cli("secrets", "delete-scope", "ml").returncode == 0
    out = cli("secrets", "list", "ml")
    assert out.returncode == 1 and "RESOURCE_DOES_NOT_EXIST" in out.stderr
