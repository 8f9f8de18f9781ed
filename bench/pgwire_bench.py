#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL-wire throughput and latency: Tarn vs a PostgreSQL 15 started here, same data, side by side in one run.

1M rows (int, 32-char md5 text, double) in both servers (Tarn: a Delta table in the catalog, PostgreSQL: a heap table
with a primary key). Median of REPEATS runs per server after a warm-up, the two servers taking turns run by run:
  copy      psql `COPY (SELECT i, t, d FROM bench_1m) TO STDOUT` > /dev/null
  fetchall  psycopg2 `SELECT i, t, d FROM bench_1m` + fetchall() (client-side result)
  stream    psycopg2 named (server-side) cursor, DECLARE/FETCH 10,000 rows at a time, rows/s
  select1   `SELECT 1` round trips on one psycopg2 connection (simple protocol), per second
  pk        `SELECT t FROM bench_1m WHERE i = <random>` on one psycopg2 connection, per second
  pk_prep   the same through pgbench -M prepared (extended protocol, one connection), per second
Prints each figure and the Tarn/PostgreSQL ratio (time ratio for copy/fetchall: lower is better; rate ratio for the
others: higher is better).
usage: bench/pgwire_bench.py [REPEATS=5] [ROWS=1000000]
  env: TARN_BIN (default build/tarn), BENCH_ONLY=copy,fetchall,... to run a subset
"""
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
TARN_BIN = os.environ.get("TARN_BIN", str(ROOT / "build" / "tarn"))
REF_PG = ROOT.parent / "shared" / "clients" / "pg" / "reference_pg.sh"
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
RATE_SECONDS = 2.0  # each rate figure runs for about this long
STREAM_FETCH = 10_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rate(fn):
    """Calls fn() (one round trip) for about RATE_SECONDS; returns calls per second."""
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + RATE_SECONDS
    while True:
        for _ in range(50):
            fn()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


class Server:
    def __init__(self, name, host, port, user, password, db):
        self.name, self.host, self.port, self.user, self.password, self.db = name, host, port, user, password, db
        self.env = dict(os.environ, PGPASSWORD=password, PGSSLMODE="disable")
        self.psql = ["psql", "-X", "-q", "-h", host, "-p", str(port), "-U", user, "-d", db]

    def connect(self):
        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                dbname=self.db, sslmode="disable")
        conn.autocommit = True
        return conn


def prepare(srv, setup_sql):
    """Loads the data into `srv` and returns its figures as (label, fn, kind) with fn one measurement."""
    args = []
    for statement in setup_sql:
        args += ["-c", statement]
    subprocess.run(srv.psql + ["-v", "ON_ERROR_STOP=1"] + args, check=True, env=srv.env, stdout=subprocess.DEVNULL)
    conn = srv.connect()
    cur = conn.cursor()
    rng = random.Random(42)

    def copy_out():
        subprocess.run(srv.psql + ["-c", "COPY (SELECT i, t, d FROM bench_1m) TO STDOUT"], check=True, env=srv.env,
                       stdout=subprocess.DEVNULL)

    def fetchall():
        cur.execute("SELECT i, t, d FROM bench_1m")
        assert len(cur.fetchall()) == ROWS

    def stream():
        sconn = srv.connect()
        sconn.autocommit = False  # a named cursor needs a transaction block (DECLARE ... WITHOUT HOLD)
        with sconn.cursor(name="bench_stream") as scur:
            scur.itersize = STREAM_FETCH
            scur.execute("SELECT i, t, d FROM bench_1m")
            n = sum(1 for _ in scur)
        sconn.rollback()
        sconn.close()
        assert n == ROWS, n

    def select1():
        cur.execute("SELECT 1")
        cur.fetchone()

    def pk():
        k = rng.randint(1, ROWS)
        cur.execute("SELECT t FROM bench_1m WHERE i = %s", (k,))
        assert cur.fetchone() is not None

    def pk_prep():
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(f"\\set id random(1, {ROWS})\nSELECT t FROM bench_1m WHERE i = :id;\n")
            script = f.name
        try:
            out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "1", "-T", str(int(RATE_SECONDS)),
                                  "-f", script, "-h", srv.host, "-p", str(srv.port), "-U", srv.user, srv.db],
                                 check=True, env=srv.env, capture_output=True, text=True).stdout
        finally:
            os.unlink(script)
        m = re.search(r"tps = ([0-9.]+)", out)
        return float(m.group(1))

    figures = []
    for label, fn, kind in (("copy", copy_out, "time"), ("fetchall", fetchall, "time"), ("stream", stream, "rows"),
                            ("select1", select1, "rate"), ("pk", pk, "rate"), ("pk_prep", pk_prep, "tps")):
        if ONLY and label not in ONLY:
            continue
        figures.append((label, fn, kind))
    return conn, figures


def warm_up(fn, kind):
    for _ in range(20 if kind == "rate" else 1):
        if kind != "tps":
            fn()


def sample(fn, kind):
    if kind in ("time", "rows"):
        return timed(fn)
    if kind == "rate":
        return rate(fn)
    return fn()


def measure_alternated(servers):
    """Runs each figure REPEATS times per server, the servers taking turns (first one first on odd rounds, the other
    on even rounds), so that drift of the machine (page cache, frequency, load) hits both alike. Returns one dict of
    medians per server."""
    results = [{} for _ in servers]
    for i, (label, _, kind) in enumerate(servers[0][1]):
        samples = [[] for _ in servers]
        for _, figs in servers:
            warm_up(figs[i][1], kind)
        for r in range(REPEATS):
            order = range(len(servers)) if r % 2 == 0 else reversed(range(len(servers)))
            for s in order:
                samples[s].append(sample(servers[s][1][i][1], kind))
        for s in range(len(servers)):
            m = statistics.median(samples[s])
            results[s][label] = ROWS / m if kind == "rows" else m
    return results


UNITS = {"copy": ("s", "time"), "fetchall": ("s", "time"), "stream": ("rows/s", "rate"),
         "select1": ("/s", "rate"), "pk": ("/s", "rate"), "pk_prep": ("tps", "rate")}


def fmt(label, v):
    unit, kind = UNITS[label]
    return f"{v:.3f} {unit}" if kind == "time" else f"{v:,.0f} {unit}"


def wait_for_tarn(token_file, sql_port, proc):
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError("tarn up exited early")
        if token_file.exists() and token_file.read_text().strip():
            try:
                socket.create_connection(("127.0.0.1", sql_port), timeout=1).close()
                return token_file.read_text().strip()
            except OSError:
                pass
        time.sleep(0.1)
    raise RuntimeError("tarn up did not start")


def main():
    work = Path(tempfile.mkdtemp(prefix="pgwire-bench-"))
    pg_port = free_port()
    pg_dir = Path(f"/tmp/refpg.{pg_port}")
    subprocess.run([str(REF_PG), "start", str(pg_port), str(pg_dir)], check=True, stdout=subprocess.DEVNULL)
    # reference_pg.sh logs every statement (harness debugging); a benchmark peer should not pay for that.
    subprocess.run(["psql", "-X", "-q", "-h", str(pg_dir), "-p", str(pg_port), "-U", "postgres", "-d", "postgres",
                    "-c", "ALTER SYSTEM SET log_statement = 'none'", "-c", "ALTER SYSTEM SET log_connections = off",
                    "-c", "SELECT pg_reload_conf()"], check=True, stdout=subprocess.DEVNULL)
    http_port, sql_port = free_port(), free_port()
    log = open(work / "tarn.log", "w")
    tarn = subprocess.Popen([TARN_BIN, "up", "--data", str(work / "data"), "--http-port", str(http_port),
                             "--sql-port", str(sql_port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        token = wait_for_tarn(work / "data" / "admin-token", sql_port, tarn)
        pg_srv = Server("PostgreSQL 15", "127.0.0.1", pg_port, "lake", "lakepw", "lakedb")
        tarn_srv = Server("Tarn", "127.0.0.1", sql_port, "token", token, "main")
        print(f"load average before: {os.getloadavg()[0]:.2f}; {ROWS:,} rows; median of {REPEATS}", flush=True)
        pg_conn, pg_figs = prepare(pg_srv, ["DROP TABLE IF EXISTS bench_1m", "CREATE TABLE bench_1m AS SELECT "
                                   f"i::int4 AS i, md5(i::text) AS t, random() AS d FROM generate_series(1, {ROWS}) i",
                                   "ALTER TABLE bench_1m ADD PRIMARY KEY (i)", "VACUUM ANALYZE bench_1m"])
        tn_conn, tn_figs = prepare(tarn_srv, ["CREATE TABLE bench_1m AS SELECT i::INTEGER AS i, md5(i::VARCHAR) AS t, "
                                   f"random() AS d FROM range(1, {ROWS + 1}) r(i)"])
        pg, tn = measure_alternated([(pg_srv, pg_figs), (tarn_srv, tn_figs)])
        pg_conn.close()
        tn_conn.close()
        print("PostgreSQL 15: " + ", ".join(f"{k} {fmt(k, v)}" for k, v in pg.items()), flush=True)
        print("Tarn (Delta table): " + ", ".join(f"{k} {fmt(k, v)}" for k, v in tn.items()), flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(f"{'figure':10} {'PostgreSQL 15':>16} {'Tarn':>16}  Tarn/PG")
        for k in pg:
            unit, kind = UNITS[k]
            ratio = tn[k] / pg[k]
            note = "time, lower is better" if kind == "time" else "rate, higher is better"
            print(f"{k:10} {fmt(k, pg[k]):>16} {fmt(k, tn[k]):>16}  {ratio:.2f}x ({note})")
    finally:
        tarn.terminate()
        tarn.wait(timeout=60)
        subprocess.run([str(REF_PG), "stop", str(pg_port), str(pg_dir)], stdout=subprocess.DEVNULL)
        shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
