# SPDX-License-Identifier: Apache-2.0
"""Real PostgreSQL clients against `tarn up`: the shared harness (../shared/clients/pg) and catalog introspection.

The harness scripts run psql, pgjdbc, psqlODBC (isql + pyodbc), psycopg2 and R DBI/RPostgreSQL against the SQL port
with a personal access token; each prints PASS/FAIL lines and `N passed, M failed`. PostgreSQL 15 passes all 96.
"""
import os
import re
import subprocess

import psycopg2
import pytest

from conftest import SHARED_DIR, start_tarn

HARNESS = SHARED_DIR / "clients" / "pg"
EXPECTED_TOTAL = 96  # checks in the harness (what PostgreSQL 15 passes)

# script name in run_all.sh -> (command, number of checks)
CLIENTS = {
    "psql": (["bash", str(HARNESS / "psql_check.sh")], 24),
    "pgjdbc": (["bash", str(HARNESS / "jdbc_check.sh")], 20),
    "odbc": (["bash", str(HARNESS / "odbc_check.sh")], 21),
    "psycopg2": (["/usr/bin/python3", str(HARNESS / "psycopg2_check.py")], 17),
    "R": (["Rscript", str(HARNESS / "r_check.R")], 14),
}

# Checks that fail for a known, documented reason (see src/tarn/pgwire/README.md). Keep this list empty when possible;
# a listed check that starts passing fails the test so the entry gets removed.
KNOWN_GAPS = {}

pytestmark = pytest.mark.skipif(not (HARNESS / "run_all.sh").exists(), reason="client harness not found at %s" % HARNESS)


@pytest.fixture
def server(tmp_path):
    """A fresh server per test, so one client's failure cannot hide another's results."""
    s = start_tarn(tmp_path / "data")
    yield s
    code = s.stop()
    assert code == 0, "tarn up exited with %s:\n%s" % (code, s.output())


def args(server):
    return ["127.0.0.1", str(server.sql_port), "token", server.admin_token, "main"]


def totals(output):
    m = re.findall(r"^(\d+) passed, (\d+) failed$", output, re.M)
    assert m, "no total line in:\n" + output[-3000:]
    return int(m[-1][0]), int(m[-1][1])


def run(cmd, timeout=600):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(HARNESS),
                          env=dict(os.environ, PGSSLMODE="disable"))


@pytest.mark.parametrize("client", list(CLIENTS))
def test_client_harness(server, client):
    cmd, checks = CLIENTS[client]
    r = run(cmd + args(server))
    out = r.stdout + r.stderr
    passed, failed = totals(out)
    failures = [line for line in out.splitlines() if line.startswith("FAIL ")]
    failed_names = {line[5:].split(":")[0] for line in failures}
    known = KNOWN_GAPS.get(client, set())
    assert failed_names == known and passed + failed == checks, "%s: %d passed, %d failed (known gaps: %s)\n%s" % (
        client, passed, failed, sorted(known), "\n".join(failures))


def test_run_all_grand_total(server):
    r = run(["bash", str(HARNESS / "run_all.sh")] + args(server), timeout=1200)
    out = r.stdout + r.stderr
    passed, failed = totals(out.split("=== total ===")[-1])
    known = sum(len(v) for v in KNOWN_GAPS.values())
    assert (passed, failed) == (EXPECTED_TOTAL - known, known), out[-4000:]
    if known == 0:
        assert r.returncode == 0


def connect(server, **kw):
    c = psycopg2.connect(host="127.0.0.1", port=server.sql_port, user="token", password=server.admin_token,
                         dbname=kw.pop("dbname", "main"), sslmode="disable", connect_timeout=10)
    c.autocommit = True
    return c


def test_catalog_reflects_ddl_from_another_connection(server):
    a, b = connect(server), connect(server)
    try:
        ca, cb = a.cursor(), b.cursor()
        cb.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'pgcat_ddl'")
        assert cb.fetchone() == (0,)
        ca.execute("CREATE TABLE pgcat_ddl (id BIGINT, amount DECIMAL(12,4), note STRING COMMENT 'a note', "
                   "ts TIMESTAMP_NTZ)")
        cb.execute("SELECT a.attname, a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnum "
                   "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                   "WHERE c.relname = 'pgcat_ddl' AND a.attnum > 0 ORDER BY a.attnum")
        assert cb.fetchall() == [("id", 20, "bigint", 1), ("amount", 1700, "numeric(12,4)", 2),
                                 ("note", 1043, "character varying", 3),
                                 ("ts", 1114, "timestamp without time zone", 4)]
        cb.execute("SELECT col_description(c.oid, 3) FROM pg_class c WHERE c.relname = 'pgcat_ddl'")
        assert cb.fetchone() == ("a note",)
        cb.execute("SELECT table_schema, data_type FROM information_schema.columns "
                   "WHERE table_name = 'pgcat_ddl' AND column_name = 'amount'")
        assert cb.fetchone() == ("default", "numeric")
        ca.execute("ALTER TABLE pgcat_ddl ADD COLUMNS (extra INT)")
        cb.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'pgcat_ddl'")
        assert cb.fetchone() == (5,)
        ca.execute("DROP TABLE pgcat_ddl")
        cb.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'pgcat_ddl'")
        assert cb.fetchone() == (0,)
    finally:
        a.close()
        b.close()


def test_databases_are_catalogs_and_dbname_selects_one(server):
    c = connect(server)
    try:
        cur = c.cursor()
        cur.execute("CREATE CATALOG IF NOT EXISTS pgcat_other")
        cur.execute("CREATE TABLE pgcat_other.default.only_here (x INT)")
        cur.execute("SELECT datname FROM pg_catalog.pg_database ORDER BY 1")
        names = [r[0] for r in cur.fetchall()]
        assert "main" in names and "pgcat_other" in names
        cur.execute("SELECT current_database(), current_schema()")
        assert cur.fetchone() == ("main", "default")
        other = connect(server, dbname="pgcat_other")
        try:
            oc = other.cursor()
            oc.execute("SELECT current_database(), "
                       "(SELECT count(*) FROM pg_tables WHERE tablename = 'only_here')")
            assert oc.fetchone() == ("pgcat_other", 1)
        finally:
            other.close()
        cur.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'")
        assert cur.fetchone() == (0,)
    finally:
        c.close()
