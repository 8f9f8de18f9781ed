# SPDX-License-Identifier: Apache-2.0
"""Statement Execution API 2.0 and SQL warehouses over HTTP against a real `tarn up` (curl-like), and the official
JS SDK (@databricks/sdk-experimental 0.17.0) driving the same endpoints."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import http

ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE = "tarn-builtin"


def execute(tarn, statement, **fields):
    body = {"statement": statement, "warehouse_id": WAREHOUSE, "wait_timeout": "30s", **fields}
    return tarn.post("/api/2.0/sql/statements", body, token=tarn.admin_token)


def test_warehouses_list_and_get(tarn):
    status, body, _ = tarn.get("/api/2.0/sql/warehouses", token=tarn.admin_token)
    assert status == 200, body
    [w] = body["warehouses"]
    assert w["id"] == WAREHOUSE and w["name"] == "Tarn built-in" and w["state"] == "RUNNING"
    assert w["odbc_params"]["port"] == tarn.sql_port
    assert w["odbc_params"]["hostname"] == "127.0.0.1"
    status, one, _ = tarn.get(f"/api/2.0/sql/warehouses/{WAREHOUSE}", token=tarn.admin_token)
    assert status == 200 and one == w
    status, err, _ = tarn.get("/api/2.0/sql/warehouses/nope", token=tarn.admin_token)
    assert status == 404 and err["error_code"] == "NOT_FOUND"
    assert tarn.get("/api/2.0/sql/warehouses")[0] == 401


def test_create_insert_query_with_parameters_and_chunks(tarn):
    for sql in ["CREATE SCHEMA shop",
                "CREATE TABLE shop.orders (id BIGINT, item STRING, amount DECIMAL(10,2), day DATE)",
                "INSERT INTO shop.orders VALUES (1, 'apple', 1.50, DATE '2024-01-01'), "
                "(2, 'pear', NULL, DATE '2024-01-02'), (3, 'fig', 3.00, DATE '2024-01-03')"]:
        status, body, _ = execute(tarn, sql)
        assert status == 200 and body["status"]["state"] == "SUCCEEDED", body
    status, body, _ = execute(tarn, "SELECT id, item, amount, day FROM orders WHERE id >= :min ORDER BY id",
                              schema="shop", parameters=[{"name": "min", "value": "2", "type": "INT"}])
    assert status == 200 and body["status"]["state"] == "SUCCEEDED", body
    cols = body["manifest"]["schema"]["columns"]
    assert [(c["name"], c["type_name"], c["type_text"], c["position"]) for c in cols] == [
        ("id", "LONG", "BIGINT", 0), ("item", "STRING", "STRING", 1), ("amount", "DECIMAL", "DECIMAL(10,2)", 2),
        ("day", "DATE", "DATE", 3)]
    assert body["result"]["data_array"] == [["2", "pear", None, "2024-01-02"], ["3", "fig", "3.00", "2024-01-03"]]
    assert body["manifest"]["total_row_count"] == 2 and body["manifest"]["truncated"] is False

    # A result larger than one chunk (1 MiB) is fetched chunk by chunk through next_chunk_internal_link.
    status, body, _ = execute(tarn, "SELECT range AS n, repeat('x', 200) AS pad FROM range(20000)")
    assert body["status"]["state"] == "SUCCEEDED", body
    manifest = body["manifest"]
    assert manifest["total_chunk_count"] > 1 and manifest["total_row_count"] == 20000
    rows, result = [], body["result"]
    while True:
        assert result["row_offset"] == len(rows)
        rows.extend(result["data_array"])
        link = result.get("next_chunk_internal_link")
        if not link:
            break
        status, result, _ = tarn.get(link, token=tarn.admin_token)
        assert status == 200, result
    assert [int(r[0]) for r in rows] == list(range(20000))

    status, body, _ = execute(tarn, "SELECT range FROM range(100)", row_limit=10)
    assert body["manifest"]["total_row_count"] == 10 and body["manifest"]["truncated"] is True


def test_failures_async_polling_and_cancel(tarn):
    status, body, _ = execute(tarn, "SELECT * FROM nope_table")
    assert status == 200
    assert body["status"]["state"] == "FAILED"
    assert body["status"]["sql_state"] == "42P01"
    assert "SQLSTATE: 42P01" in body["status"]["error"]["message"]
    status, body, _ = execute(tarn, "SELEC 1")
    assert body["status"]["state"] == "FAILED" and body["status"]["sql_state"] == "42601"

    status, body, _ = execute(tarn, "SELECT 7 AS x", wait_timeout="0s")
    assert status == 200 and body["status"]["state"] in ("PENDING", "RUNNING", "SUCCEEDED")
    sid = body["statement_id"]
    while body["status"]["state"] in ("PENDING", "RUNNING"):
        status, body, _ = tarn.get(f"/api/2.0/sql/statements/{sid}", token=tarn.admin_token)
    assert body["status"]["state"] == "SUCCEEDED" and body["result"]["data_array"] == [["7"]]

    slow = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"
    status, body, _ = execute(tarn, slow, wait_timeout="0s")
    sid = body["statement_id"]
    status, cancel, _ = tarn.post(f"/api/2.0/sql/statements/{sid}/cancel", token=tarn.admin_token)
    assert status == 200 and cancel == {}
    while body["status"]["state"] in ("PENDING", "RUNNING"):
        status, body, _ = tarn.get(f"/api/2.0/sql/statements/{sid}", token=tarn.admin_token)
    assert body["status"]["state"] == "CANCELED"

    # on_wait_timeout=CANCEL: the 5 s wait ends with the statement canceled.
    status, body, _ = execute(tarn, slow, wait_timeout="5s", on_wait_timeout="CANCEL")
    assert status == 200 and body["status"]["state"] == "CANCELED", body


def test_bad_requests(tarn):
    def code(**fields):
        body = {"statement": "SELECT 1", "warehouse_id": WAREHOUSE, **fields}
        status, err, _ = tarn.post("/api/2.0/sql/statements", body, token=tarn.admin_token)
        return status, err.get("error_code")
    assert code(warehouse_id="other") == (404, "NOT_FOUND")
    assert code(wait_timeout="60s") == (400, "INVALID_PARAMETER_VALUE")
    assert code(format="CSV") == (400, "INVALID_PARAMETER_VALUE")
    assert code(statement="") == (400, "INVALID_PARAMETER_VALUE")
    status, err, _ = tarn.get("/api/2.0/sql/statements/01234567-89ab-cdef-0123-456789abcdef",
                              token=tarn.admin_token)
    assert status == 404 and err["error_code"] == "NOT_FOUND"
    status, _, _ = tarn.post("/api/2.0/sql/statements", {"statement": "SELECT 1", "warehouse_id": WAREHOUSE})
    assert status == 401


def test_external_links_csv_without_token(tarn):
    status, body, _ = execute(tarn, "SELECT range AS id, CASE WHEN range = 1 THEN NULL ELSE 'a,b' END AS t "
                                    "FROM range(3)", disposition="EXTERNAL_LINKS", format="CSV")
    assert body["status"]["state"] == "SUCCEEDED", body
    link = body["result"]["external_links"][0]
    status, text, headers = http("GET", link["external_link"])  # no Authorization, like the SDKs
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert text == 'id,t\r\n0,"a,b"\r\n1,null\r\n2,"a,b"\r\n'
    assert link["byte_count"] == len(text)


def test_js_sdk_statement_execution_and_warehouses(tarn, sdk_node_modules):
    env = dict(os.environ, SDK_NODE_MODULES=sdk_node_modules)
    out = subprocess.run(["node", str(ROOT / "tests" / "e2e" / "sdk" / "sql_statements_check.js"), tarn.url,
                          tarn.admin_token, str(tarn.sql_port)], capture_output=True, text=True, env=env,
                         timeout=600)
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1].endswith(" 0 failed")
    assert not [line for line in lines if line.startswith("FAIL")]
