#!/usr/bin/env bash
# Files API and DBFS list figures against a fresh `tarn up`, side by side with `cp` on the same disk:
# upload and download of a SIZE_MB file with curl and with Tarn's own client (`tarn fs cp`), ROUNDS rounds alternated
# with `cp` (per-round percentages and medians), and dbfs/list of a directory with NUM_FILES files.
# Usage: bench/files_api.sh [BUILD_DIR] [SIZE_MB] [NUM_FILES] [ROUNDS]   (SETTLE_S: pause after each step, default 3)
set -euo pipefail
BUILD_DIR="${1:-build}"
SIZE_MB="${2:-1024}"
NUM_FILES="${3:-100000}"
ROUNDS="${4:-3}"
SETTLE_S="${SETTLE_S:-3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARN="$ROOT/$BUILD_DIR/tarn"
work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TARN" up --data "$work/data" --http-port "$port" --sql-port 0 >"$work/up.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done
token=$(cat "$work/data/admin-token")
auth=(-H "Authorization: Bearer $token")
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "load average at start: $(loadavg)"
# Every timed step starts from the same state: its source warm in the page cache (or, for the cold pair, dropped
# with POSIX_FADV_DONTNEED), nothing dirty (sync), and a pause of SETTLE_S seconds after the previous step deleted
# its output (discards and freed memory settle; the guest reports freed memory to the host, page_reporting_order=11).
# Each step ends with `sync`, so every figure includes writing its bytes to the disk. cp is coreutils 9.1 on ext4
# (no reflinks): copy_file_range, an in-kernel page-cache copy. Odd rounds run the peers in one order, even rounds
# in the reverse order, so no peer always follows the same neighbour.
warm() { cat "$1" >/dev/null; }
drop_cache() { /usr/bin/python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$1"; }
settle() { sync; sleep "$SETTLE_S"; }
declare -A times
# timed NAME CMD...: runs CMD, then sync; appends the milliseconds to times[NAME].
timed() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N); "$@" >/dev/null; sync; t1=$(date +%s%N)
  times[$name]+="$(ms "$t0" "$t1") "
}
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$work/src.bin"
export DATABRICKS_HOST="http://127.0.0.1:$port" DATABRICKS_TOKEN="$token"
files_url="http://127.0.0.1:$port/api/2.0/fs/files/Volumes/bench"
# The download source, uploaded once. The server writes uploads with O_DIRECT, so it is cold until warmed.
curl -sf "${auth[@]}" -T "$work/src.bin" "$files_url/stored.bin?overwrite=true"
stored="$work/data/dbfs/Volumes/bench/stored.bin"
cmp -s "$work/src.bin" "$stored" || { echo "uploaded bytes differ"; exit 1; }

step() {  # one peer's timed transfer from the state described above
  case $1 in
    cp) warm "$work/src.bin"; settle; timed cp cp "$work/src.bin" "$work/copy.bin"; rm -f "$work/copy.bin" ;;
    curl_up) warm "$work/src.bin"; settle
      timed curl_up curl -sf "${auth[@]}" -T "$work/src.bin" "$files_url/curl-up.bin?overwrite=true" ;;
    cli_up) warm "$work/src.bin"; settle
      timed cli_up "$TARN" fs cp --overwrite "$work/src.bin" dbfs:/Volumes/bench/cli-up.bin ;;
    curl_down) warm "$stored"; settle
      timed curl_down curl -sf "${auth[@]}" -o "$work/down.bin" "$files_url/stored.bin"
      check "$work/down.bin" ;;
    cli_down) warm "$stored"; settle
      timed cli_down "$TARN" fs cp dbfs:/Volumes/bench/stored.bin "$work/down.bin"
      check "$work/down.bin" ;;
    cp_cold) drop_cache "$work/src.bin"; settle; timed cp_cold cp "$work/src.bin" "$work/copy.bin"
      rm -f "$work/copy.bin" ;;
    curl_down_cold) drop_cache "$stored"; settle
      timed curl_down_cold curl -sf "${auth[@]}" -o "$work/down.bin" "$files_url/stored.bin"
      check "$work/down.bin" ;;
    cli_down_cold) drop_cache "$stored"; settle
      timed cli_down_cold "$TARN" fs cp dbfs:/Volumes/bench/stored.bin "$work/down.bin"
      check "$work/down.bin" ;;
  esac
}
checked=0
check() {  # byte-exact in the first round (a 1 GB cmp per step would double the run time), then removed
  if [ "$checked" -lt 4 ]; then
    cmp -s "$work/src.bin" "$1" || { echo "downloaded bytes differ ($1)"; exit 1; }
    checked=$((checked + 1))
  fi
  rm -f "$1"
}
warm_steps=(cp curl_up cli_up curl_down cli_down)
cold_steps=(cp_cold curl_down_cold cli_down_cold)
pct() { echo $(( $1 * 100 / $2 )); }
for round in $(seq 1 "$ROUNDS"); do
  order=("${warm_steps[@]}" "${cold_steps[@]}")
  if [ $((round % 2)) -eq 0 ]; then
    order=(cli_down curl_down cli_up curl_up cp cli_down_cold curl_down_cold cp_cold)
  fi
  load=$(loadavg)
  for s in "${order[@]}"; do step "$s"; done
  get() { local a=(${times[$1]}); echo "${a[$((round - 1))]}"; }
  cp_ms=$(get cp) cold_ms=$(get cp_cold)
  echo "round $round (load $load): cp ${cp_ms} ms;" \
    "curl upload $(get curl_up) ms ($(pct "$cp_ms" "$(get curl_up)")%), download $(get curl_down) ms ($(pct "$cp_ms" "$(get curl_down)")%);" \
    "tarn fs cp upload $(get cli_up) ms ($(pct "$cp_ms" "$(get cli_up)")%), download $(get cli_down) ms ($(pct "$cp_ms" "$(get cli_down)")%);" \
    "cold: cp ${cold_ms} ms, curl download $(get curl_down_cold) ms ($(pct "$cold_ms" "$(get curl_down_cold)")%)," \
    "tarn fs cp download $(get cli_down_cold) ms ($(pct "$cold_ms" "$(get cli_down_cold)")%)"
done
# Medians over the rounds of each peer's percentage of the same round's cp.
summary() {  # summary NAME CP_NAME LABEL
  local a=(${times[$1]}) c=(${times[$2]}) p=() i
  for i in "${!a[@]}"; do p+=($(pct "${c[$i]}" "${a[$i]}")); done
  echo "  $3: median $(median "${p[@]}")% of cp (rounds: ${p[*]}; ms: ${a[*]}; cp ms: ${c[*]})"
}
echo "${SIZE_MB} MB over ${ROUNDS} rounds, medians (percent = cp time / transfer time, each followed by sync):"
summary curl_up cp "curl upload (-T), sources warm"
summary cli_up cp "tarn fs cp upload, sources warm"
summary curl_down cp "curl download (-o), sources warm"
summary cli_down cp "tarn fs cp download, sources warm"
summary curl_down_cold cp_cold "curl download, sources cold"
summary cli_down_cold cp_cold "tarn fs cp download, sources cold"
echo "load average after the transfers: $(loadavg)"
rm -f "$work/src.bin"
curl -sf "${auth[@]}" -X DELETE "$files_url/stored.bin" >/dev/null || true

mkdir -p "$work/data/dbfs/many"
/usr/bin/python3 - "$work/data/dbfs/many" "$NUM_FILES" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, f"f{i:06d}.txt"), "wb") as f:
        f.write(b"x")
PY
list_url="http://127.0.0.1:$port/api/2.0/dbfs/list?path=/many"
page_url="http://127.0.0.1:$port/api/2.0/fs/directories/many"
curl -sf "${auth[@]}" -o /dev/null "$list_url"  # warm the dentry/inode caches once, like a second ls
curl_ms() { curl -sf "${auth[@]}" -o /dev/null -w '%{time_total}' "$1" | awk '{printf "%d", $1 * 1000}'; }
whole=() parsed=() first_page=()
for i in 1 2 3 4 5; do
  whole+=($(curl_ms "$list_url"))
  first_page+=($(curl_ms "$page_url"))
  t0=$(date +%s%N)
  count=$(curl -sf "${auth[@]}" "$list_url" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["files"]))')
  t1=$(date +%s%N)
  parsed+=($(ms "$t0" "$t1"))
done
# Peer: `ls -l` of the same directory (one lstat per entry, like the listing).
lsl=()
for i in 1 2 3; do
  t0=$(date +%s%N); ls -l "$work/data/dbfs/many" >/dev/null; t1=$(date +%s%N)
  lsl+=($(ms "$t0" "$t1"))
done
echo "peer: ls -l of the same directory: ${lsl[*]} ms (median $(median "${lsl[@]}"))"
echo "dbfs/list of ${count} files, whole answer (curl time_total): ${whole[*]} ms (median $(median "${whole[@]}"); ls -l / list = $(( $(median "${lsl[@]}") * 100 / ($(median "${whole[@]}") + 1) ))%)"
echo "dbfs/list of ${count} files incl. a Python json.load of the answer: ${parsed[*]} ms (median $(median "${parsed[@]}"))"
echo "Files API fs/directories first page (1000 entries) of the same directory: ${first_page[*]} ms (median $(median "${first_page[@]}"))"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
