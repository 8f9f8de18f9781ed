# SPDX-License-Identifier: Apache-2.0
"""What BI tools send at connect and while browsing (pg-clients.md §6-7), against `tarn up` over the PostgreSQL wire.

DBeaver, Metabase and Tableau (pgjdbc) and Grafana (pgx) use the extended protocol; SQLAlchemy/Superset use psycopg2
(simple protocol). Each statement is sent as the tool sends it and the answer is checked against what PostgreSQL 15
returns for the same catalog: our table and view listed with PostgreSQL type names, typed columns, settings.
Also: spark.sql.timestampType on the wire (ADR 0004) in text, binary, COPY and parameters.
"""
import base64
import datetime
import hashlib
import hmac
import io
import os
import socket
import struct
import subprocess

import psycopg2
import pytest
import sqlalchemy
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sa_text

from conftest import start_tarn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_tarn(tmp_path_factory.mktemp("bi") / "data")
    c = connect(s)
    cur = c.cursor()
    cur.execute("CREATE TABLE bi_orders (id INT PRIMARY KEY, created TIMESTAMP, paid TIMESTAMPTZ, "
                "amount DECIMAL(10,2), note STRING COMMENT 'free text') COMMENT 'orders'")
    cur.execute("INSERT INTO bi_orders VALUES (1, '2024-01-02 03:04:05.5', '2024-01-02 03:04:05+02', 10.50, 'a'), "
                "(2, '2024-02-03 04:05:06', NULL, 20.25, 'b')")
    cur.execute("CREATE VIEW bi_orders_v AS SELECT id, created, amount * 2 AS doubled FROM bi_orders")
    c.close()
    yield s
    code = s.stop()
    assert code == 0, "tarn up exited with %s:\n%s" % (code, s.output())


def connect(server, dbname="main"):
    c = psycopg2.connect(host="127.0.0.1", port=server.sql_port, user="token", password=server.admin_token,
                         dbname=dbname, sslmode="disable", connect_timeout=10)
    c.autocommit = True
    return c


def rows(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchall() if cur.description else None


# ---------------------------------------------------------------- a minimal extended-protocol client (pgjdbc/pgx)

class Wire:
    """PostgreSQL v3 client speaking only the extended protocol (Parse/Bind/Describe/Execute/Sync), SCRAM-SHA-256."""

    def __init__(self, port, password, user="token", database="main"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
        self.sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        self._scram(password)
        while True:
            kind, body = self._read()
            if kind == b"E":
                raise AssertionError("start-up failed: %r" % body)
            if kind == b"Z":
                break

    def _read(self):
        head = self._exact(5)
        kind, length = head[:1], struct.unpack("!i", head[1:])[0]
        return kind, self._exact(length - 4)

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise AssertionError("connection closed")
            out += chunk
        return out

    def _send(self, kind, body):
        self.sock.sendall(kind + struct.pack("!i", len(body) + 4) + body)

    def _scram(self, password):
        kind, body = self._read()
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 10, body
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=,r=" + nonce
        first = ("n,," + first_bare).encode()
        mech = b"SCRAM-SHA-256\0"
        self._send(b"p", mech + struct.pack("!i", len(first)) + first)
        kind, body = self._read()
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 11, body
        server_first = body[4:].decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = "c=biws,r=" + attrs["r"]
        auth = ",".join([first_bare, server_first, final_bare]).encode()
        signature = hmac.new(stored_key, auth, hashlib.sha256).digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        self._send(b"p", (final_bare + ",p=" + proof).encode())
        kind, body = self._read()
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 12, body
        kind, body = self._read()
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 0, body

    def query(self, sql, params=(), param_oids=(), binary=False):
        """One unnamed Parse/Bind/Describe/Execute/Sync. Returns (columns [(name, type oid)], rows of bytes|None,
        command tag); raises AssertionError with the server's message on ErrorResponse."""
        oids = list(param_oids) or [0] * len(params)
        self._send(b"P", b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(oids)) +
                   b"".join(struct.pack("!i", o) for o in oids))
        bind = b"\0\0" + struct.pack("!h", 0) + struct.pack("!h", len(params))
        for p in params:
            bind += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p.encode())) + p.encode()
        bind += struct.pack("!hh", 1, 1 if binary else 0)
        self._send(b"B", bind)
        self._send(b"D", b"P\0")
        self._send(b"E", b"\0" + struct.pack("!i", 0))
        self._send(b"S", b"")
        columns, out, tag, error = [], [], None, None
        while True:
            kind, body = self._read()
            if kind == b"T":
                n = struct.unpack("!h", body[:2])[0]
                pos = 2
                for _ in range(n):
                    end = body.index(b"\0", pos)
                    name = body[pos:end].decode()
                    oid = struct.unpack("!i", body[end + 7:end + 11])[0]
                    columns.append((name, oid))
                    pos = end + 19
            elif kind == b"D":
                n = struct.unpack("!h", body[:2])[0]
                pos, row = 2, []
                for _ in range(n):
                    length = struct.unpack("!i", body[pos:pos + 4])[0]
                    pos += 4
                    row.append(None if length < 0 else body[pos:pos + length])
                    pos += max(length, 0)
                out.append(row)
            elif kind == b"C":
                tag = body[:-1].decode()
            elif kind == b"E":
                fields = dict((f[:1], f[1:].decode()) for f in body.split(b"\0") if f)
                error = "%s %s" % (fields.get(b"C"), fields.get(b"M"))
            elif kind == b"Z":
                break
        if error:
            raise AssertionError(error)
        return columns, out, tag

    def text(self, sql, *params, **kw):
        columns, out, _ = self.query(sql, params=params, **kw)
        return [[None if v is None else v.decode() for v in row] for row in out]

    def dicts(self, sql, *params, **kw):
        """Rows as {column name: text}; the first of duplicate names wins (`SELECT c.oid, c.*`)."""
        columns, out, _ = self.query(sql, params=params, **kw)
        result = []
        for row in out:
            d = {}
            for (name, _), v in zip(columns, row):
                d.setdefault(name, None if v is None else v.decode())
            result.append(d)
        return result

    def close(self):
        self._send(b"X", b"")
        self.sock.close()


@pytest.fixture
def wire(server):
    w = Wire(server.sql_port, server.admin_token)
    yield w
    w.close()


# ---------------------------------------------------------------- DBeaver (pgjdbc)

def test_dbeaver_connect_and_navigator(server, wire):
    for sql in ["SET extra_float_digits = 3", "SET application_name = 'DBeaver 23.3.0 - Main'",
                "SET application_name = 'DBeaver 23.3.0 - Metadata'"]:
        assert wire.query(sql)[2] == "SET"
    assert wire.text("SELECT current_schema(),session_user")[0][0] == "default"
    names = [r[2] for r in wire.text(
        "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d "
        "ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname")]
    assert names == ["default", "information_schema", "pg_catalog"]
    db = wire.text("SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=$1", "main")
    assert len(db) == 1 and db[0][2] == "main"
    assert wire.text("SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'")[0][:2] == \
        ["standard_conforming_strings", "on"]
    kw = wire.text("select string_agg(word, ',') from pg_catalog.pg_get_keywords() "
                   "where word <> ALL ('{a,abs,absolute,action}'::text[])")[0][0]
    assert "select" in kw.split(",")
    ns_oid = wire.text("SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'default'")[0][0]
    classes = wire.dicts(
        "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr, "
        "pg_catalog.pg_get_partkeydef(c.oid) as partition_key FROM pg_catalog.pg_class c LEFT OUTER JOIN "
        "pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass "
        "WHERE c.relnamespace=$1 AND c.relkind not in ('i','I','c')", ns_oid)
    by_name = {r["relname"]: r for r in classes}
    assert by_name["bi_orders"]["relkind"] == "r" and by_name["bi_orders_v"]["relkind"] == "v"
    assert by_name["bi_orders"]["description"] == "orders"
    oid = by_name["bi_orders"]["oid"]
    cols = wire.dicts(
        "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,"
        "dep.objid FROM pg_catalog.pg_attribute a INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid) "
        "LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum) "
        "LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) "
        "LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and "
        "dep.refobjsubid = a.attnum and dep.classid = dep.refclassid WHERE NOT a.attisdropped AND "
        "c.relkind not in ('i','I','c') AND c.oid=$1 ORDER BY a.attnum", oid)
    assert [(r["attname"], r["atttypid"]) for r in cols] == [
        ("id", "23"), ("created", "1114"), ("paid", "1184"), ("amount", "1700"), ("note", "1043")]
    assert cols[4]["description"] == "free text" and cols[0]["attnotnull"] == "t"
    types = wire.dicts(
        "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, "
        "d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem "
        "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d "
        "ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND "
        "(et.typcategory IS NULL OR et.typcategory <> 'C')")
    assert {"timestamp", "timestamptz", "numeric", "varchar", "_int4"} <= {r["typname"] for r in types}
    assert [r["rolname"] for r in wire.dicts("SELECT a.oid,a.* FROM pg_catalog.pg_roles a ORDER BY a.oid")] == ["tarn"]
    assert [r["spcname"] for r in wire.dicts("SELECT t.oid,t.* FROM pg_catalog.pg_tablespace t")] == ["pg_default"]


# ---------------------------------------------------------------- Metabase (pgjdbc)

METABASE_PRIVILEGES = """with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t"""


def test_metabase_connect_privileges_and_sync(server, wire):
    assert wire.query("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")[2] == "SET"
    assert wire.query("SET extra_float_digits = 2")[2] == "SET"
    assert wire.text("SHOW TRANSACTION ISOLATION LEVEL") == [["read committed"]]
    privileges = sorted((r[1], r[2], r[4]) for r in wire.text(METABASE_PRIVILEGES))
    assert privileges == [("default", "bi_orders", "t"), ("default", "bi_orders_v", "t")]
    # Metabase qualifies every column with schema and table.
    sample = wire.text('SELECT "default"."bi_orders"."id" AS "id", "default"."bi_orders"."note" AS "note" '
                       'FROM "default"."bi_orders" ORDER BY "default"."bi_orders"."id" ASC LIMIT 10000')
    assert sample == [["1", "a"], ["2", "b"]]
    assert wire.text('SELECT "default"."bi_orders".* FROM "default"."bi_orders" WHERE "id" = 2')[0][0] == "2"


# ---------------------------------------------------------------- Grafana (pgx)

GRAFANA_SEARCH_PATH = ("SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN user ELSE trim(s[i]) END FROM "
                       "generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), "
                       "array_upper(string_to_array(current_setting('search_path'),','),1)) as i, "
                       "string_to_array(current_setting('search_path'),',') s")


def test_grafana_version_schemas_tables_columns(server, wire):
    assert float(wire.text("SELECT current_setting('server_version_num')::int/100 as version")[0][0]) == 1500
    schemas = wire.text(
        "SELECT quote_ident(schema_name) AS \"schema\" FROM information_schema.schemata WHERE schema_name NOT IN "
        "('information_schema','pg_catalog','_timescaledb_cache','_timescaledb_catalog','_timescaledb_internal',"
        "'_timescaledb_config','timescaledb_information','timescaledb_experimental') AND schema_name NOT LIKE "
        "'pg_%' ORDER BY 1")
    assert schemas == [["default"]]
    tables = wire.text(
        "SELECT quote_ident(table_name) as \"table\" FROM information_schema.tables WHERE quote_ident(table_schema) "
        "NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog', "
        "'_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental') "
        "AND table_type = 'BASE TABLE' AND quote_ident(table_schema) IN (" + GRAFANA_SEARCH_PATH + ")")
    assert tables == [["bi_orders"]]
    for name in ["bi_orders", "default.bi_orders"]:
        columns = wire.text(
            "SELECT quote_ident(column_name) as \"column\", data_type as \"type\" FROM information_schema.columns "
            "WHERE CASE WHEN array_length(parse_ident($1),1) = 2 THEN quote_ident(table_schema) = "
            "(parse_ident($1))[1] AND quote_ident(table_name) = (parse_ident($1))[2] ELSE quote_ident(table_name) = "
            "$1 AND table_schema IN (" + GRAFANA_SEARCH_PATH + ") END ORDER BY ordinal_position", name,
            param_oids=[25])
        assert columns == [["id", "integer"], ["created", "timestamp without time zone"],
                           ["paid", "timestamp with time zone"], ["amount", "numeric"],
                           ["note", "character varying"]], name


# ---------------------------------------------------------------- Tableau (pgjdbc)

def test_tableau_connect_check_and_ordinal_group_by(server, wire):
    for sql in ["SET client_min_messages TO WARNING", "SET client_encoding TO 'UTF8'", "SET TIME ZONE 'UTC'"]:
        assert wire.query(sql)[2] == "SET"
    name = '"#Tableau_7_B1C2_Connect_Check"'
    assert wire.query("CREATE LOCAL TEMPORARY TABLE %s (\"COL\" INTEGER) ON COMMIT PRESERVE ROWS" % name)[2] == \
        "CREATE TABLE"
    assert wire.query("INSERT INTO %s VALUES (1)" % name)[2] == "INSERT 0 1"
    assert wire.text("SELECT \"COL\" FROM %s" % name) == [["1"]]
    assert wire.query("DROP TABLE %s" % name)[2] == "DROP TABLE"
    grouped = wire.text('SELECT "bi_orders"."note" AS "note", SUM("bi_orders"."amount") AS "sum:amount:ok" '
                        'FROM "default"."bi_orders" "bi_orders" GROUP BY 1 ORDER BY 1')
    assert grouped == [["a", "10.50"], ["b", "20.25"]]


# ---------------------------------------------------------------- SQLAlchemy / Superset (psycopg2)

def test_sqlalchemy_connect_check_and_inspector(server):
    engine = sqlalchemy.create_engine("postgresql+psycopg2://token:%s@127.0.0.1:%d/main?sslmode=disable" %
                                      (server.admin_token, server.sql_port))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa_text("SELECT 1")).scalar() == 1
            assert engine.dialect.server_version_info[:1] == (15,)
            assert engine.dialect.default_schema_name == "default"
        insp = sa_inspect(engine)
        assert "default" in insp.get_schema_names()
        assert insp.get_table_names() == ["bi_orders"]
        assert insp.get_view_names() == ["bi_orders_v"]
        assert insp.has_table("bi_orders")
        columns = {c["name"]: c for c in insp.get_columns("bi_orders")}
        assert list(columns) == ["id", "created", "paid", "amount", "note"]
        assert isinstance(columns["created"]["type"], sqlalchemy.types.TIMESTAMP)
        assert columns["created"]["type"].timezone is False and columns["paid"]["type"].timezone is True
        assert (columns["amount"]["type"].precision, columns["amount"]["type"].scale) == (10, 2)
        assert columns["id"]["nullable"] is False and columns["note"]["comment"] == "free text"
        assert [c["name"] for c in insp.get_columns("bi_orders_v")] == ["id", "created", "doubled"]
        assert insp.get_pk_constraint("bi_orders")["constrained_columns"] == ["id"]
        assert insp.get_foreign_keys("bi_orders") == []
        assert insp.get_indexes("bi_orders") == []
        assert insp.get_unique_constraints("bi_orders") == []
        assert insp.get_table_comment("bi_orders") == {"text": "orders"}
        assert "FROM bi_orders" in insp.get_view_definition("bi_orders_v")
    finally:
        engine.dispose()


def test_superset_health_and_pool_reset(server):
    c = connect(server)
    try:
        cur = c.cursor()
        assert rows(cur, "SELECT 1") == [(1,)]
        assert rows(cur, "select pg_catalog.version()")[0][0].startswith("PostgreSQL 15.")
        assert rows(cur, "show standard_conforming_strings") == [("on",)]
        cur.execute("ROLLBACK")  # pool reset outside a transaction: a warning, not an error
        assert rows(cur, "SELECT count(*) FROM bi_orders") == [(2,)]
    finally:
        c.close()


# ---------------------------------------------------------------- views and current_* (psql, pgjdbc)

def test_views_in_pg_catalog_and_psql_describe(server, wire):
    assert wire.text("SELECT relkind, relnatts FROM pg_class WHERE relname = 'bi_orders_v'") == [["v", "3"]]
    assert wire.text("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c "
                     "ON c.oid = a.attrelid WHERE c.relname = 'bi_orders_v' AND a.attnum > 0 ORDER BY a.attnum") == \
        [["id", "integer"], ["created", "timestamp without time zone"], ["doubled", "numeric(18,2)"]]
    assert wire.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'bi_orders_v' "
                     "ORDER BY ordinal_position") == [["id"], ["created"], ["doubled"]]
    view = wire.text("SELECT schemaname, viewowner, definition FROM pg_views WHERE viewname = 'bi_orders_v'")
    assert view[0][:2] == ["default", "tarn"] and "amount * 2" in view[0][2]
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(server.sql_port), "-U", "token", "-d", "main", "-A",
                          "-t", "-v", "ON_ERROR_STOP=1", "-c", "\\d bi_orders_v"], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PGPASSWORD=server.admin_token, PGSSLMODE="disable"))
    assert out.returncode == 0, out.stderr
    assert [line.split("|")[:2] for line in out.stdout.splitlines()] == [
        ["id", "integer"], ["created", "timestamp without time zone"], ["doubled", "numeric(18,2)"]]


def test_current_catalog_schema_database_follow_the_session(server):
    c = connect(server)
    try:
        cur = c.cursor()
        # First statement of the connection: nothing built the emulated catalog before.
        assert rows(cur, "SELECT current_catalog") == [("main",)]
        assert rows(cur, "SELECT current_database(), current_schema(), current_schemas(true), "
                         "current_schemas(false), current_setting('search_path')") == \
            [("main", "default", ["pg_catalog", "default"], ["default"], '"$user", default')]
        cur.execute("CREATE SCHEMA IF NOT EXISTS bi_other")
        cur.execute("USE SCHEMA bi_other")
        assert rows(cur, "SELECT current_catalog, current_schema(), current_schemas(false)") == \
            [("main", "bi_other", ["bi_other"])]
        cur.execute("CREATE CATALOG IF NOT EXISTS bi_cat")
        cur.execute("USE CATALOG bi_cat")
        assert rows(cur, "SELECT current_catalog, current_database(), current_schema") == \
            [("bi_cat", "bi_cat", "default")]
    finally:
        c.close()


# ---------------------------------------------------------------- spark.sql.timestampType on the wire (ADR 0004)

PG_EPOCH = datetime.datetime(2000, 1, 1)


def test_timestamp_without_time_zone_text_binary_copy_and_params(server, wire):
    c = connect(server)
    try:
        cur = c.cursor()
        assert rows(cur, "SHOW spark.sql.timestampType") == [("TIMESTAMP_NTZ",)]
        cur.execute("CREATE TABLE bi_ts (id INT, ts TIMESTAMP, tz timestamp with time zone)")
        cur.execute("INSERT INTO bi_ts VALUES (%s, %s, %s)",
                    (1, datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
                     datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)))
        cur.copy_expert("COPY bi_ts FROM STDIN", io.StringIO("2\t2025-01-01 00:00:01\t2025-01-01 00:00:01+00\n"))
        # extended protocol: a text parameter declared timestamp (1114)
        assert wire.query("INSERT INTO bi_ts (id, ts) VALUES ($1, $2)", params=("3", "2026-02-03 04:05:06"),
                          param_oids=[23, 1114])[2] == "INSERT 0 1"
        cur.execute("SELECT id, ts, tz FROM bi_ts ORDER BY id")
        assert [d.type_code for d in cur.description] == [23, 1114, 1184]
        assert cur.fetchall() == [
            (1, datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
             datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)),
            (2, datetime.datetime(2025, 1, 1, 0, 0, 1), datetime.datetime(2025, 1, 1, 0, 0, 1,
                                                                          tzinfo=datetime.timezone.utc)),
            (3, datetime.datetime(2026, 2, 3, 4, 5, 6), None)]
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT id, ts FROM bi_ts ORDER BY id) TO STDOUT", out)
        assert out.getvalue() == "1\t2024-05-06 07:08:09.123456\n2\t2025-01-01 00:00:01\n3\t2026-02-03 04:05:06\n"
        # binary results: int8 microseconds since 2000-01-01, no zone adjustment
        columns, out_rows, _ = wire.query("SELECT ts FROM bi_ts WHERE id = 1", binary=True)
        assert columns == [("ts", 1114)]
        micros = struct.unpack("!q", out_rows[0][0])[0]
        assert PG_EPOCH + datetime.timedelta(microseconds=micros) == datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
        cur.execute("SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c "
                    "ON c.oid = a.attrelid WHERE c.relname = 'bi_ts' AND a.attnum > 1 ORDER BY a.attnum")
        assert cur.fetchall() == [("timestamp without time zone",), ("timestamp with time zone",)]
        # Databricks' meaning on request, for this session only
        cur.execute("SET spark.sql.timestampType = TIMESTAMP_LTZ")
        cur.execute("CREATE TABLE bi_ts_ltz (ts TIMESTAMP)")
        cur.execute("SELECT ts FROM bi_ts_ltz")
        assert cur.description[0].type_code == 1184
        other = connect(server)
        try:
            assert rows(other.cursor(), "SHOW spark.sql.timestampType") == [("TIMESTAMP_NTZ",)]
        finally:
            other.close()
        cur.execute("RESET spark.sql.timestampType")
        assert rows(cur, "SHOW spark.sql.timestampType") == [("TIMESTAMP_NTZ",)]
        with pytest.raises(psycopg2.errors.InvalidParameterValue):
            cur.execute("SET spark.sql.timestampType = 'local'")
    finally:
        c.close()


def test_timestamp_type_from_startup_options_and_rest_default(server):
    c = psycopg2.connect(host="127.0.0.1", port=server.sql_port, user="token", password=server.admin_token,
                         dbname="main", sslmode="disable", options="-c spark.sql.timestampType=TIMESTAMP_LTZ")
    try:
        assert rows(c.cursor(), "SHOW spark.sql.timestampType") == [("TIMESTAMP_LTZ",)]
    finally:
        c.close()
    status, result, _ = server.post("/api/2.0/sql/statements", {
        "warehouse_id": "tarn-builtin", "statement": "SHOW spark.sql.timestampType", "wait_timeout": "30s"},
        token=server.admin_token)
    assert status == 200, result
    assert result["result"]["data_array"] == [["TIMESTAMP_LTZ"]], result
