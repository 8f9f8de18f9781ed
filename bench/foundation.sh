#!/usr/bin/env bash
# Foundation figures: `tarn up` time-to-health on an empty data dir, idle RSS, and the rebuild time after touching
# one .cpp file. Usage: bench/foundation.sh [BUILD_DIR] [RUNS]
set -euo pipefail
BUILD_DIR="${1:-build}"
RUNS="${2:-10}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARN="$ROOT/$BUILD_DIR/tarn"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

startup_ms=()
rss_kb=()
for i in $(seq 1 "$RUNS"); do
  port=$(free_port); sql=$(free_port)
  start=$(date +%s%N)
  "$TARN" up --data "$work/d$i" --http-port "$port" --sql-port "$sql" >"$work/log$i" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    kill -0 $pid 2>/dev/null || { echo "tarn up died:"; cat "$work/log$i"; exit 1; }
    sleep 0.002
  done
  end=$(date +%s%N)
  startup_ms+=($(( (end - start) / 1000000 )))
  sleep 1
  rss_kb+=($(awk '/VmRSS/ {print $2}' /proc/$pid/status))
  kill -TERM $pid; wait $pid || true
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "tarn up ready (health answers), empty data dir: median $(median "${startup_ms[@]}") ms over $RUNS runs (all: ${startup_ms[*]})"
echo "idle RSS 1 s after start: median $(( $(median "${rss_kb[@]}") / 1024 )) MB"

cmake --build "$ROOT/$BUILD_DIR" -j "$(nproc)" >/dev/null  # settle: only the touched file's work is timed below
for file in src/tarn/server/data_dir.cpp src/tarn/api/dbfs_routes.cpp src/tarn/engine/session.cpp; do
  touch "$ROOT/$file"
  start=$(date +%s%N)
  CCACHE_DISABLE=1 cmake --build "$ROOT/$BUILD_DIR" -j "$(nproc)" >/dev/null
  end=$(date +%s%N)
  echo "rebuild after touching $file (no ccache): $(( (end - start) / 1000000 )) ms"
done
