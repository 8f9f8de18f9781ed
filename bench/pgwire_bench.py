#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL-wire throughput: Tarn vs a PostgreSQL 15 started here, same data, side by side in one run.

1M rows (int, 32-char md5 text, double): psql `COPY (SELECT ...) TO STDOUT` > /dev/null, psycopg2 SELECT + fetchall,
and the point-query round trip (`SELECT 1` on one connection). Prints medians and the Tarn/PostgreSQL ratios.
usage: bench/pgwire_bench.py [REPEATS=5]   (needs build/tarn or TARN_BIN, postgresql-15, psql, python3-psycopg2)
"""
import os
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
ROWS = 1_000_000
POINT_QUERIES = 5000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(name, host, port, user, password, db, setup_sql):
    env = dict(os.environ, PGPASSWORD=password, PGSSLMODE="disable")
    base = ["psql", "-X", "-q", "-h", host, "-p", str(port), "-U", user, "-d", db]
    subprocess.run(base + ["-v", "ON_ERROR_STOP=1", "-c", setup_sql], check=True, env=env)
    copy_cmd = base + ["-c", "COPY (SELECT i, t, d FROM bench_1m) TO STDOUT"]
    conn = psycopg2.connect(host=host, port=port, user=user, password=password, dbname=db, sslmode="disable")
    conn.autocommit = True
    cur = conn.cursor()

    def copy_out():
        subprocess.run(copy_cmd, check=True, env=env, stdout=subprocess.DEVNULL)

    def fetchall():
        cur.execute("SELECT i, t, d FROM bench_1m")
        assert len(cur.fetchall()) == ROWS

    def point():
        for _ in range(POINT_QUERIES):
            cur.execute("SELECT 1")
            cur.fetchone()

    results = {}
    for label, fn in (("copy", copy_out), ("fetchall", fetchall), ("point", point)):
        fn()  # warm-up
        results[label] = statistics.median(timed(fn) for _ in range(REPEATS))
    conn.close()
    print(f"{name}: COPY TO STDOUT {results['copy']:.3f} s, psycopg2 fetchall {results['fetchall']:.3f} s, "
          f"SELECT 1 {POINT_QUERIES / results['point']:.0f}/s")
    return results


def main():
    work = Path(tempfile.mkdtemp(prefix="pgwire-bench-"))
    pg_port = free_port()
    pg_dir = Path(f"/tmp/refpg.{pg_port}")
    subprocess.run([str(REF_PG), "start", str(pg_port), str(pg_dir)], check=True, stdout=subprocess.DEVNULL)
    http_port, sql_port = free_port(), free_port()
    log = open(work / "tarn.log", "w")
    tarn = subprocess.Popen([TARN_BIN, "up", "--data", str(work / "data"), "--http-port", str(http_port),
                             "--sql-port", str(sql_port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        token_file = work / "data" / "admin-token"
        for _ in range(300):
            if token_file.exists() and token_file.read_text().strip():
                try:
                    socket.create_connection(("127.0.0.1", sql_port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.1)
        token = token_file.read_text().strip()
        pg = measure("PostgreSQL 15", "127.0.0.1", pg_port, "lake", "lakepw", "lakedb",
                     "DROP TABLE IF EXISTS bench_1m; CREATE TABLE bench_1m AS SELECT i::int4 AS i, md5(i::text) AS t, "
                     f"random() AS d FROM generate_series(1, {ROWS}) i; ANALYZE bench_1m")
        tn = measure("Tarn", "127.0.0.1", sql_port, "token", token, "main",
                     "CREATE TABLE bench_1m AS SELECT i::INTEGER AS i, md5(i::VARCHAR) AS t, random() AS d "
                     f"FROM range(1, {ROWS + 1}) r(i)")
        print(f"ratio Tarn/PostgreSQL (time, lower is better): COPY {tn['copy'] / pg['copy']:.2f}x, "
              f"fetchall {tn['fetchall'] / pg['fetchall']:.2f}x; point-query rate "
              f"{pg['point'] / tn['point']:.2f}x of PostgreSQL")
    finally:
        tarn.terminate()
        tarn.wait(timeout=60)
        subprocess.run([str(REF_PG), "stop", str(pg_port), str(pg_dir)], stdout=subprocess.DEVNULL)
        shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
