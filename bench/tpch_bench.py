#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TPC-H-like queries three ways: DuckDB on Parquet files, Tarn in-process (sql::Session on Delta tables), Tarn over
the PostgreSQL wire, with per-query metadata overhead.

1. Generates the 8 tables at scale factor SF as Delta tables with bench/tpch/gen.sql through `tarn sql --local`
   (skipped when DATA_DIR already holds them).
2. Runs the tpch_bench binary: one process, one DuckDB database (same threads for all), the DuckDB peer (views over
   read_parquet of the same data files), sql::Session, and the pgwire server of `tarn up` started in-process and driven
   by libpq; per query the three alternate (one at a time, order rotated each round), results compared as sorted rows,
   medians of REPEATS; ratios Tarn/DuckDB and wire/Tarn per query and as geomeans; metadata overhead (name resolution
   + engine front-end).
usage: bench/tpch_bench.py [SF=1] [REPEATS=6] [DATA_DIR]   (a temp dir, removed at the end, unless DATA_DIR is given)
  env: TARN_BIN (default build/tarn), TPCH_BENCH_BIN (default next to TARN_BIN: src/tarn/sql/tpch_bench)
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
TARN_BIN = Path(os.environ.get("TARN_BIN", str(ROOT / "build" / "tarn")))
BENCH_BIN = Path(os.environ.get("TPCH_BENCH_BIN", str(TARN_BIN.parent / "src" / "tarn" / "sql" / "tpch_bench")))
QUERIES = ROOT / "bench" / "tpch" / "queries"
SF = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 6


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
        meta = [r["resolve_ms"] + r["frontend_ms"] for r in rows]
        print(f"geomean ratios: Tarn in-process / DuckDB {geomean([r['tarn_ms'] / r['duckdb_ms'] for r in rows]):.3f}x, "
              f"wire / in-process {geomean([r['wire_ms'] / r['tarn_ms'] for r in rows]):.3f}x; metadata overhead "
              f"median {statistics.median(meta):.2f} ms, max {max(meta):.2f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
