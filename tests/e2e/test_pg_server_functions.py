# SPDX-License-Identifier: Apache-2.0
"""Server functions real clients use: current_user, pg_backend_pid, pg_cancel_backend, pg_terminate_backend,
pg_stat_activity over the PostgreSQL wire (psycopg2, psql), and the Statement Execution API's session user and
TIMESTAMP meaning (spark.sql.timestampType TIMESTAMP_LTZ)."""
import os
import subprocess
import threading

import psycopg2
import psycopg2.errors
import pytest

LONG_QUERY = "SELECT count(*) FROM range(1000000000000) a"


def connect(server, **extra):
    parts = dict(host="127.0.0.1", port=server.sql_port, user="token", password=server.admin_token, dbname="main",
                 sslmode="disable", connect_timeout=10)
    parts.update(extra)
    conn = psycopg2.connect(" ".join(f"{k}={v}" for k, v in parts.items()))
    conn.autocommit = True
    return conn


def one(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def wait_active(observer, pid):
    """Polls pg_stat_activity (round trips, no clock) until `pid` runs a statement."""
    for _ in range(100000):
        if one(observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,))[0]:
            return True
    return False


def run_in_thread(conn, sql):
    outcome = {}

    def target():
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                outcome["rows"] = cur.fetchall()
        except Exception as e:  # noqa: BLE001 - the test inspects the exception type
            outcome["error"] = e

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def test_current_user_and_backend_pid(tarn):
    conn = connect(tarn)
    assert one(conn, "SELECT current_user, current_user(), session_user, user, current_role") == ("admin",) * 5
    assert one(conn, "SELECT pg_backend_pid()")[0] == conn.get_backend_pid()
    assert one(conn, "SELECT inet_server_port()")[0] == tarn.sql_port
    assert one(conn, "SELECT version()")[0].startswith("PostgreSQL 15.")
    env = dict(os.environ, PGPASSWORD=tarn.admin_token, PGSSLMODE="disable")
    r = subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(tarn.sql_port), "-U", "token", "-d",
                        "main", "-c", "SELECT current_user || ' ' || (pg_backend_pid() > 0)"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "admin true"


def test_stat_activity_and_cancel_backend(tarn):
    victim = connect(tarn, application_name="victim")
    admin = connect(tarn, application_name="dbeaver")
    pid = victim.get_backend_pid()
    thread, outcome = run_in_thread(victim, LONG_QUERY)
    assert wait_active(admin, pid)
    with admin.cursor() as cur:
        cur.execute("SELECT pid, usename, application_name, state, query FROM pg_catalog.pg_stat_activity "
                    "ORDER BY pid")
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    assert rows[pid] == ("admin", "victim", "active", LONG_QUERY)
    assert rows[admin.get_backend_pid()][:3] == ("admin", "dbeaver", "active")
    assert one(admin, "SELECT pg_cancel_backend(%s)", (pid,)) == (True,)
    thread.join(timeout=60)
    assert isinstance(outcome.get("error"), psycopg2.errors.QueryCanceled), outcome
    assert one(victim, "SELECT 1") == (1,)  # cancel keeps the connection
    assert one(admin, "SELECT pg_cancel_backend(999999999)") == (False,)


def test_terminate_backend(tarn):
    victim = connect(tarn)
    admin = connect(tarn)
    pid = victim.get_backend_pid()
    thread, outcome = run_in_thread(victim, LONG_QUERY)
    assert wait_active(admin, pid)
    assert one(admin, "SELECT pg_terminate_backend(%s)", (pid,)) == (True,)
    thread.join(timeout=60)
    # libpq reads the FATAL 57P01 and then the closed socket: psycopg2 raises OperationalError "server closed the
    # connection unexpectedly", exactly as against PostgreSQL 15 (checked side by side).
    assert isinstance(outcome.get("error"), psycopg2.OperationalError), outcome
    assert victim.closed
    assert one(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)) in ((0,), (1,))
    # An idle connection is closed too: its next statement reports the shutdown.
    idle = connect(tarn)
    assert one(admin, "SELECT pg_terminate_backend(%s)", (idle.get_backend_pid(),)) == (True,)
    with pytest.raises(psycopg2.OperationalError):
        one(idle, "SELECT 1")
    assert idle.closed
    # psql shows the server's FATAL message.
    env = dict(os.environ, PGPASSWORD=tarn.admin_token, PGSSLMODE="disable")
    r = subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(tarn.sql_port), "-U", "token", "-d",
                        "main", "-c", "SELECT pg_terminate_backend(pg_backend_pid())"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert "FATAL:  terminating connection due to administrator command" in r.stderr, r.stderr


def test_statement_api_user_and_ltz_timestamp(tarn):
    status, body, _ = tarn.post("/api/2.0/sql/statements", token=tarn.admin_token, body={
        "warehouse_id": "tarn-builtin", "wait_timeout": "30s",
        "statement": "SELECT current_user AS u, CAST('2024-01-02 03:04:05' AS TIMESTAMP) AS ts, "
                     "CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ) AS ntz"})
    assert status == 200, body
    assert body["status"]["state"] == "SUCCEEDED", body
    columns = {c["name"]: c["type_text"] for c in body["manifest"]["schema"]["columns"]}
    assert columns == {"u": "STRING", "ts": "TIMESTAMP", "ntz": "TIMESTAMP_NTZ"}
    # an instant (UTC, Z) for the LTZ cast, a wall-clock value for TIMESTAMP_NTZ
    assert body["result"]["data_array"] == [["admin", "2024-01-02T03:04:05.000Z", "2024-01-02T03:04:05.000"]]
