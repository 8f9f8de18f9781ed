# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL wire endpoint with real clients: psql (libpq) and psycopg2, SCRAM and TLS, COPY, cursors, cancel."""
import os
import shutil
import subprocess
import threading
import time
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from conftest import start_tarn


def dsn(server, token, **extra):
    parts = dict(host="127.0.0.1", port=server.sql_port, user="token", password=token, dbname="main",
                 sslmode="disable", connect_timeout=10)
    parts.update(extra)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def connect(server, token=None, **extra):
    return psycopg2.connect(dsn(server, token or server.admin_token, **extra))


def psql(server, *args, token=None, input=None, sslmode="disable"):
    env = dict(os.environ, PGPASSWORD=token or server.admin_token, PGSSLMODE=sslmode, PGCONNECT_TIMEOUT="10")
    return subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(server.sql_port), "-U", "token", "-d", "main",
                           *args], capture_output=True, text=True, env=env, input=input, timeout=60)


def test_psql_runs_queries_and_shows_syntax_error_position(tarn):
    r = psql(tarn, "-A", "-t", "-c", "SELECT 41 + 1 AS answer, 'tarn' AS name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42|tarn"
    r = psql(tarn, "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1 FROM nowhere WHERE")
    assert r.returncode != 0
    r = psql(tarn, "-c", "SELEC 1")
    assert "syntax error" in r.stderr
    assert "LINE 1: SELEC 1" in r.stderr and "^" in r.stderr


def test_psql_copy_round_trip(tarn, tmp_path):
    r = psql(tarn, "-c", "CREATE TABLE people (id INTEGER, name VARCHAR)")
    assert r.returncode == 0, r.stderr
    src = tmp_path / "in.csv"
    src.write_text("1,Ann\n2,\"Bo, Jr\"\n3,\n")
    r = psql(tarn, "-c", f"\\copy people FROM '{src}' WITH (FORMAT csv)")
    assert r.returncode == 0, r.stderr
    assert "COPY 3" in r.stdout
    r = psql(tarn, "-c", "COPY (SELECT * FROM people ORDER BY id) TO STDOUT")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\tAnn\n2\tBo, Jr\n3\t\\N\n"


def test_psql_delta_tables_catalog_names_and_version(tarn):
    r = psql(tarn, "-v", "ON_ERROR_STOP=1", "-c", "CREATE TABLE t (id INT, name STRING)")
    assert r.returncode == 0, r.stderr
    assert (tarn.data_dir / "dbfs/user/hive/warehouse/t/_delta_log/00000000000000000000.json").exists()
    r = psql(tarn, "-v", "ON_ERROR_STOP=1", "-c", "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "INSERT 0 2"
    r = psql(tarn, "-A", "-t", "-c", "SELECT id, name FROM main.default.t ORDER BY id")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1|a", "2|b"]
    # CREATE TABLE AS and UPDATE answer with PostgreSQL's command tags and row counts.
    r = psql(tarn, "-v", "ON_ERROR_STOP=1", "-c", "CREATE TABLE t2 AS SELECT * FROM t WHERE id > 1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "SELECT 1"
    r = psql(tarn, "-v", "ON_ERROR_STOP=1", "-c", "UPDATE t SET name = 'z' WHERE id <= 2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "UPDATE 2"
    # Session state (current schema) lasts for the connection: one psql -c string is one connection.
    r = psql(tarn, "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
             "CREATE SCHEMA sales; USE SCHEMA sales; CREATE TABLE orders (id INT); SHOW TABLES")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == "sales|orders|f"
    r = psql(tarn, "-A", "-t", "-c", "SELECT count(*) FROM orders")
    assert "42P01" in r.stderr or "does not exist" in r.stderr  # a new connection starts in main.default again
    r = psql(tarn, "-A", "-t", "-c", "SELECT version()")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PostgreSQL 15.0 (Tarn ")


def test_psycopg2_delta_table_shared_across_connections_and_cli(tmp_path):
    from conftest import TARN_BIN
    data = tmp_path / "data"
    server = start_tarn(data)
    try:
        a = connect(server)
        a.autocommit = True  # Delta writes commit on their own: not inside BEGIN ... COMMIT
        cur = a.cursor()
        cur.execute("CREATE TABLE events (id BIGINT, kind STRING)")
        cur.executemany("INSERT INTO events VALUES (%s, %s)", [(1, "click"), (2, "it's")])
        cur.execute("INSERT INTO main.default.events VALUES (%s, %s)", (3, "view"))
        assert cur.rowcount == 1
        cur.execute("SELECT id, kind FROM events ORDER BY id")
        assert cur.fetchall() == [(1, "click"), (2, "it's"), (3, "view")]
        assert [d.name for d in cur.description] == ["id", "kind"]
        # A second connection (psycopg2's default transaction mode) sees the committed table and rows.
        b = connect(server)
        cb = b.cursor()
        cb.execute("SELECT count(*) FROM main.default.events")
        assert cb.fetchone() == (3,)
        cb.execute("INSERT INTO events VALUES (4, 'x')")  # staged in b's transaction, discarded by rollback
        b.rollback()
        cb.execute("SHOW TABLES")
        assert ("default", "events", False) in cb.fetchall()
        b.close()
        a.close()
    finally:
        assert server.stop() == 0, server.output()
    out = subprocess.run([TARN_BIN, "sql", "--local", "--data", str(data), "--format", "csv", "-c",
                          "SELECT id, kind FROM main.default.events ORDER BY id"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:3] == ["id,kind", "1,click", "2,it's"]


def test_bad_token_is_rejected_with_28P01(tarn):
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(tarn, token="dapi" + "0" * 32)
    assert "password authentication failed" in str(e.value)


def test_new_token_works_over_scram(tarn, cli):
    r = cli("tokens", "create", "--comment", "pg", "--output", "json")
    assert r.returncode == 0, r.stderr
    import json
    token = json.loads(r.stdout)["token_value"]
    with connect(tarn, token=token, user="someone") as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    conn.close()


def test_psycopg2_types(tarn):
    conn = connect(tarn)
    cur = conn.cursor()
    cur.execute("""SELECT true, 7::SMALLINT, 8::INTEGER, 9::BIGINT, 1.5::DOUBLE, 0.25::REAL,
                          '12.50'::DECIMAL(10,2), 'héllo', '\\xDE\\xAD'::BLOB, DATE '2024-01-02',
                          TIMESTAMP '2024-01-02 03:04:05.5', TIMESTAMPTZ '2024-01-02 03:04:05+00',
                          INTERVAL '1 day 2 hours', '00112233-4455-6677-8899-aabbccddeeff'::UUID,
                          '{"a": [1, 2]}'::JSON, [1, NULL, 3], ['a b', 'c'], NULL::INTEGER""")
    row = cur.fetchone()
    assert row[0] is True
    assert row[1:4] == (7, 8, 9)
    assert row[4] == 1.5 and row[5] == 0.25
    assert row[6] == Decimal("12.50")
    assert row[7] == "héllo"
    assert bytes(row[8]) == b"\xde\xad"
    assert row[9] == date(2024, 1, 2)
    assert row[10] == datetime(2024, 1, 2, 3, 4, 5, 500000)
    assert row[11] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert row[12].days == 1 and row[12].seconds == 7200
    assert row[13] == "00112233-4455-6677-8899-aabbccddeeff"
    assert row[14] == {"a": [1, 2]}
    assert row[15] == [1, None, 3]
    assert row[16] == ["a b", "c"]
    assert row[17] is None
    oids = [d.type_code for d in cur.description]
    assert oids == [16, 21, 23, 20, 701, 700, 1700, 25, 17, 1082, 1114, 1184, 1186, 2950, 114, 1007, 1009, 23]
    conn.close()


def test_psycopg2_dml_rowcount_transactions_and_errors(tarn):
    conn = connect(tarn)
    cur = conn.cursor()
    # A DuckDB temporary table: Delta tables commit each statement on their own and refuse writes inside BEGIN.
    cur.execute("CREATE TEMP TABLE items (id INTEGER, label VARCHAR)")
    cur.executemany("INSERT INTO items VALUES (%s, %s)", [(1, "a"), (2, "it's"), (3, None)])
    cur.execute("UPDATE items SET label = 'z' WHERE id >= 2")
    assert cur.rowcount == 2
    conn.commit()
    cur.execute("SELECT label FROM items WHERE id = %s", (2,))
    assert cur.fetchone() == ("z",)
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("SELECT * FROM no_such_table")
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
    with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
        cur.execute("SELECT 1")
    conn.rollback()
    with pytest.raises(psycopg2.errors.SyntaxError):
        cur.execute("SELEC 1")
    conn.rollback()
    cur.execute("DELETE FROM items WHERE id = 1")
    assert cur.rowcount == 1
    conn.rollback()  # the delete is undone
    cur.execute("SELECT count(*) FROM items")
    assert cur.fetchone() == (3,)
    conn.close()


def test_autocommit_settings_and_rollback_warning(tarn):
    conn = connect(tarn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SHOW DateStyle")
    assert cur.fetchone() == ("ISO, MDY",)
    cur.execute("SET application_name = 'e2e'")
    cur.execute("SHOW application_name")
    assert cur.fetchone() == ("e2e",)
    cur.execute("SHOW transaction isolation level")
    assert cur.fetchone() == ("read committed",)
    cur.execute("ROLLBACK")
    assert any("there is no transaction in progress" in n for n in conn.notices)
    cur.execute("SELECT 1; SELECT 2")
    assert cur.fetchall() == [(2,)]
    conn.close()


def test_named_cursor_fetches_in_batches(tarn):
    conn = connect(tarn)
    cur = conn.cursor(name="big")
    cur.itersize = 1000
    cur.execute("SELECT i FROM range(5000) t(i) ORDER BY i")
    total = 0
    expected = 0
    for (i,) in cur:
        assert i == expected
        expected += 1
        total += 1
    assert total == 5000
    cur.close()
    conn.commit()
    conn.close()


def test_copy_expert_in_and_out(tarn):
    import io
    conn = connect(tarn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE TABLE m (i INTEGER, t VARCHAR, d DOUBLE)")
    data = io.StringIO("".join(f"{i}\trow {i}\t{i / 2}\n" for i in range(1000)))
    cur.copy_expert("COPY m FROM STDIN", data)
    assert cur.rowcount == 1000
    out = io.StringIO()
    cur.copy_expert("COPY (SELECT * FROM m ORDER BY i LIMIT 2) TO STDOUT WITH (FORMAT csv, HEADER)", out)
    assert out.getvalue() == "i,t,d\n0,row 0,0\n1,row 1,0.5\n"
    conn.close()


def test_cancel_interrupts_running_query(tarn):
    conn = connect(tarn)
    conn.autocommit = True
    cur = conn.cursor()
    # A cancel that arrives before the statement runs is ignored (as in PostgreSQL): keep asking until it ends.
    done = threading.Event()

    def cancel_until_done():
        while not done.wait(0.2):
            conn.cancel()

    canceller = threading.Thread(target=cancel_until_done)
    canceller.start()
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("SELECT sum(i * i) FROM range(100000000000) t(i)")
    finally:
        done.set()
        canceller.join()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    conn.close()


def test_client_disconnect_mid_result_leaves_server_serving(tarn):
    # psql buffers the whole result, so the server is mid-stream when the client is killed.
    env = dict(os.environ, PGPASSWORD=tarn.admin_token, PGSSLMODE="disable")
    proc = subprocess.Popen(["psql", "-X", "-h", "127.0.0.1", "-p", str(tarn.sql_port), "-U", "token", "-d", "main",
                             "-c", "SELECT i, repeat('x', 100) FROM range(1000000000) t(i)"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    conn = connect(tarn)
    cur = conn.cursor()
    cur.execute("SELECT 2")
    assert cur.fetchone() == (2,)
    conn.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_tls_with_cleartext_password(tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    server = start_tarn(tmp_path / "data", extra_args=("--tls-cert", str(cert), "--tls-key", str(key),
                                                       "--sql-auth", "password"))
    try:
        conn = psycopg2.connect(dsn(server, server.admin_token, sslmode="require"))
        cur = conn.cursor()
        cur.execute("SELECT 'secure'")
        assert cur.fetchone() == ("secure",)
        cur.execute("SHOW ssl")
        assert cur.fetchone() == ("on",)
        conn.close()
        # Plaintext clients still authenticate, by SCRAM.
        conn = psycopg2.connect(dsn(server, server.admin_token, sslmode="disable"))
        conn.close()
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(dsn(server, "wrong", sslmode="require"))
    finally:
        assert server.stop() == 0, server.output()


def test_cleartext_auth_without_tls_is_refused_at_start(tmp_path):
    from conftest import TARN_BIN, free_port
    out = subprocess.run([TARN_BIN, "up", "--data", str(tmp_path / "d"), "--http-port", str(free_port()),
                          "--sql-port", str(free_port()), "--sql-auth", "password"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "needs TLS" in out.stdout + out.stderr


def test_psycopg2_transactions_stage_delta_writes(tarn):
    """autocommit off (psycopg2's default): Delta writes of one table commit at commit(), vanish at rollback()."""
    a = connect(tarn)
    a.autocommit = True
    ca = a.cursor()
    ca.execute("CREATE TABLE txn_t (id BIGINT, s STRING)")
    ca.execute("CREATE TABLE txn_u (id BIGINT)")
    b = connect(tarn)
    cb = b.cursor()
    try:
        cb.executemany("INSERT INTO txn_t VALUES (%s, %s)", [(i, f"s{i}") for i in range(1, 201)])
        cb.execute("SELECT count(*) FROM txn_t")
        assert cb.fetchone() == (200,)  # read-your-writes
        assert b.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        ca.execute("SELECT count(*) FROM txn_t")
        assert ca.fetchone() == (0,)  # nothing committed yet
        b.commit()
        ca.execute("SELECT count(*), sum(id) FROM txn_t")
        assert ca.fetchone() == (200, 20100)
        ca.execute("SELECT count(*) FROM (DESCRIBE HISTORY txn_t)")
        assert ca.fetchone() == (2,)  # CREATE + one commit for the 200 inserts

        cb.execute("INSERT INTO txn_t VALUES (1000, 'rollback-me')")
        b.rollback()
        cb.execute("SELECT count(*) FROM txn_t WHERE id = 1000")
        assert cb.fetchone() == (0,)
        b.commit()

        # A second table cannot commit atomically with the first: 0A000 naming both, then 25P02 until rollback.
        cb.execute("INSERT INTO txn_t VALUES (2000, 'x')")
        with pytest.raises(psycopg2.errors.FeatureNotSupported) as e:
            cb.execute("INSERT INTO txn_u VALUES (1)")
        assert "txn_t" in str(e.value) and "txn_u" in str(e.value)
        assert b.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cb.execute("SELECT 1")
        b.rollback()
        ca.execute("SELECT (SELECT count(*) FROM txn_t WHERE id = 2000), (SELECT count(*) FROM txn_u)")
        assert ca.fetchone() == (0, 0)

        # A concurrent rewrite of what the transaction read: COMMIT fails with 40001 and commits nothing.
        cb.execute("UPDATE txn_t SET s = 'mine' WHERE id = 1")
        ca.execute("DELETE FROM txn_t WHERE id = 2")
        with pytest.raises(psycopg2.errors.SerializationFailure):
            b.commit()
        assert b.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        ca.execute("SELECT count(*), count(*) FILTER (WHERE s = 'mine') FROM txn_t")
        assert ca.fetchone() == (199, 0)
    finally:
        b.close()
        ca.execute("DROP TABLE txn_t")
        ca.execute("DROP TABLE txn_u")
        a.close()
