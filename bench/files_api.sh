#!/usr/bin/env bash
# Files API and DBFS list figures against a fresh `tarn up`, side by side with `cp` on the same disk:
# upload and download of a SIZE_MB file (curl, streaming PUT/GET, then `tarn fs cp` both ways) and dbfs/list of a directory with NUM_FILES files.
# Usage: bench/files_api.sh [BUILD_DIR] [SIZE_MB] [NUM_FILES]
set -euo pipefail
BUILD_DIR="${1:-build}"
SIZE_MB="${2:-1024}"
NUM_FILES="${3:-100000}"
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

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$work/src.bin"
sync
t0=$(date +%s%N); cp "$work/src.bin" "$work/copy.bin"; sync; t1=$(date +%s%N)
cp_ms=$(ms "$t0" "$t1")
t0=$(date +%s%N)
curl -sf "${auth[@]}" -T "$work/src.bin" "http://127.0.0.1:$port/api/2.0/fs/files/Volumes/bench/up.bin?overwrite=true"
sync; t1=$(date +%s%N)
up_ms=$(ms "$t0" "$t1")
# cp reads a source that is warm in the page cache (just written); the server's copy was written with O_DIRECT and
# is cold, so it is read once before the download is timed: both sides start from a warm source.
stored="$work/data/dbfs/Volumes/bench/up.bin"
cat "$stored" >/dev/null
t0=$(date +%s%N)
curl -sf "${auth[@]}" -o "$work/down.bin" "http://127.0.0.1:$port/api/2.0/fs/files/Volumes/bench/up.bin"
sync; t1=$(date +%s%N)
down_ms=$(ms "$t0" "$t1")
cmp -s "$work/src.bin" "$work/down.bin" || { echo "downloaded bytes differ"; exit 1; }
rm -f "$work/down.bin" "$work/copy.bin"; sync
echo "${SIZE_MB} MB: cp ${cp_ms} ms; Files API upload ${up_ms} ms ($(( cp_ms * 100 / up_ms ))% of cp speed); download ${down_ms} ms ($(( cp_ms * 100 / down_ms ))% of cp speed) [sources warm]"
# The same download and cp with both sources cold (dropped from the page cache with POSIX_FADV_DONTNEED).
drop_cache() { /usr/bin/python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$1"; }
drop_cache "$work/src.bin"
t0=$(date +%s%N); cp "$work/src.bin" "$work/copy.bin"; sync; t1=$(date +%s%N)
cp_cold_ms=$(ms "$t0" "$t1")
drop_cache "$stored"
t0=$(date +%s%N)
curl -sf "${auth[@]}" -o "$work/down.bin" "http://127.0.0.1:$port/api/2.0/fs/files/Volumes/bench/up.bin"
sync; t1=$(date +%s%N)
down_cold_ms=$(ms "$t0" "$t1")
cmp -s "$work/src.bin" "$work/down.bin" || { echo "downloaded bytes differ"; exit 1; }
rm -f "$work/down.bin" "$work/copy.bin"; sync
echo "${SIZE_MB} MB: cp ${cp_cold_ms} ms; Files API download ${down_cold_ms} ms ($(( cp_cold_ms * 100 / down_cold_ms ))% of cp speed) [sources cold]"
# The same transfers with Tarn's own client, `tarn fs cp` (Files API under /Volumes), against the same cp figure.
# cp (coreutils 9 on ext4, no reflinks) copies the data in the kernel with copy_file_range; every source is warm.
# Every transfer is followed by sync, so each figure includes writing its bytes to the disk.
export DATABRICKS_HOST="http://127.0.0.1:$port" DATABRICKS_TOKEN="$token"
t0=$(date +%s%N)
"$TARN" fs cp --overwrite "$work/src.bin" dbfs:/Volumes/bench/cli.bin
sync; t1=$(date +%s%N)
cli_up_ms=$(ms "$t0" "$t1")
cat "$work/data/dbfs/Volumes/bench/cli.bin" >/dev/null  # warm, like cp's source
t0=$(date +%s%N)
"$TARN" fs cp dbfs:/Volumes/bench/cli.bin "$work/cli-down.bin"
sync; t1=$(date +%s%N)
cli_down_ms=$(ms "$t0" "$t1")
cmp -s "$work/src.bin" "$work/cli-down.bin" || { echo "tarn fs cp downloaded bytes differ"; exit 1; }
rm -f "$work/cli-down.bin" "$work/down.bin" "$work/copy.bin" "$work/src.bin"
echo "${SIZE_MB} MB: tarn fs cp upload ${cli_up_ms} ms ($(( cp_ms * 100 / cli_up_ms ))% of cp speed); download ${cli_down_ms} ms ($(( cp_ms * 100 / cli_down_ms ))% of cp speed)"

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
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
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
