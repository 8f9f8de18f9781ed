#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TPC-H-like queries three ways: DuckDB on Parquet files, Tarn in-process (sql::Session on Delta tables), Tarn over
the PostgreSQL wire (psycopg2 fetchall), with per-query metadata overhead.

1. Generates the 8 tables at scale factor SF as Delta tables with bench/tpch/gen.sql through `tarn sql --local`
   (skipped when DATA_DIR already holds them).
2. Runs the tpch_bench binary: DuckDB peer (views over read_parquet of the same data files) vs sql::Session,
   alternating per run, medians; metadata overhead (name resolution + engine front-end).
3. Starts `tarn up` on DATA_DIR and runs the same queries through psycopg2 (execute + fetchall), medians, and
   compares them with the in-process medians of step 2 (separate processes, run one after the other).
usage: bench/tpch_bench.py [SF=1] [REPEATS=5] [DATA_DIR]   (a temp dir, removed at the end, unless DATA_DIR is given)
  env: TARN_BIN (default build/tarn), TPCH_BENCH_BIN (default next to TARN_BIN: src/tarn/sql/tpch_bench)
"""
import json
import math
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
TARN_BIN = Path(os.environ.get("TARN_BIN", str(ROOT / "build" / "tarn")))
BENCH_BIN = Path(os.environ.get("TPCH_BENCH_BIN", str(TARN_BIN.parent / "src" / "tarn" / "sql" / "tpch_bench")))
QUERIES = ROOT / "bench" / "tpch" / "queries"
SF = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(data):
    params = {"SF": SF, "SUPPLIERS": int(10_000 * SF), "PARTS": int(200_000 * SF), "CUSTOMERS": int(150_000 * SF),
              "ORDERS": int(1_500_000 * SF), "CLERKS": max(1, int(1_000 * SF))}
    text = (ROOT / "bench" / "tpch" / "gen.sql").read_text()
    for k, v in params.items():
        text = text.replace("${%s}" % k, str(v))
    script = data.parent / "gen.sql"
    script.write_text(text)
    t0 = time.perf_counter()
    subprocess.run([str(TARN_BIN), "sql", "--local", "--data", str(data), "-f", str(script)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"generated SF {SF} in {time.perf_counter() - t0:.1f} s", flush=True)


def wire(data, names):
    http_port, sql_port = free_port(), free_port()
    log = open(data.parent / "tarn-up.log", "w")
    proc = subprocess.Popen([str(TARN_BIN), "up", "--data", str(data), "--http-port", str(http_port),
                             "--sql-port", str(sql_port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        token_file = data / "admin-token"
        for _ in range(600):
            if token_file.exists() and token_file.read_text().strip():
                try:
                    socket.create_connection(("127.0.0.1", sql_port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.1)
        conn = psycopg2.connect(host="127.0.0.1", port=sql_port, user="token", password=token_file.read_text().strip(),
                                dbname="main", sslmode="disable")
        conn.autocommit = True
        cur = conn.cursor()
        out = {}
        for name in names:
            sql = (QUERIES / f"{name}.sql").read_text()
            cur.execute(sql)
            cur.fetchall()
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                cur.execute(sql)
                cur.fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = statistics.median(times)
        conn.close()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    keep = len(sys.argv) > 3
    base = Path(sys.argv[3]).resolve() if keep else Path(tempfile.mkdtemp(prefix="tpch-bench-"))
    data = base / "data"
    try:
        if not (data / "dbfs" / "user" / "hive" / "warehouse" / "lineitem").exists():
            base.mkdir(parents=True, exist_ok=True)
            generate(data)
        print(f"load average: {os.getloadavg()[0]:.2f}; median of {REPEATS} runs", flush=True)
        proc = subprocess.run([str(BENCH_BIN), str(data), str(QUERIES), str(REPEATS)], capture_output=True, text=True)
        rows = []
        for line in proc.stdout.splitlines():
            if line.startswith("json "):
                rows.append(json.loads(line[5:]))
            else:
                print(line, flush=True)
        if proc.returncode != 0:
            print(proc.stderr)
            sys.exit(f"tpch_bench failed ({proc.returncode})")
        names = [r["query"] for r in rows]
        wire_ms = wire(data, names)
        print(f"\n{'query':6} {'duckdb ms':>10} {'tarn ms':>9} {'wire ms':>9} {'tarn/duckdb':>12} {'wire/tarn':>10} "
              f"{'metadata ms':>12}")
        for r in rows:
            w = wire_ms[r["query"]]
            print(f"{r['query']:6} {r['duckdb_ms']:10.1f} {r['tarn_ms']:9.1f} {w:9.1f} "
                  f"{r['tarn_ms'] / r['duckdb_ms']:11.2f}x {w / r['tarn_ms']:9.2f}x "
                  f"{r['resolve_ms'] + r['frontend_ms']:12.2f}")
        gd = geomean([r["duckdb_ms"] for r in rows])
        gt = geomean([r["tarn_ms"] for r in rows])
        gw = geomean([wire_ms[n] for n in names])
        meta = [r["resolve_ms"] + r["frontend_ms"] for r in rows]
        print(f"geomean: DuckDB {gd:.1f} ms, Tarn {gt:.1f} ms ({gt / gd:.3f}x), wire {gw:.1f} ms ({gw / gt:.3f}x of "
              f"in-process); sum: DuckDB {sum(r['duckdb_ms'] for r in rows):.0f} ms, Tarn "
              f"{sum(r['tarn_ms'] for r in rows):.0f} ms, wire {sum(wire_ms.values()):.0f} ms; metadata overhead "
              f"median {statistics.median(meta):.2f} ms, max {max(meta):.2f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
