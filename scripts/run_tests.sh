#!/usr/bin/env bash
# Runs every test tier against a built tree: unit + SQL logic + conformance (ctest), end-to-end (pytest), fuzz
# targets (libFuzzer, briefly). Exits non-zero when any tier fails; ends with the summed `N passed, M failed`.
set -uo pipefail
BUILD_DIR="${1:-build}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
LOGS="$BUILD_DIR/test-logs"
mkdir -p "$LOGS"
failed_tiers=()
total_passed=0
total_failed=0

count() { # tier log-file: adds the tier's counts to the totals
  local p=0 f=0 line
  case "$1" in
    ctest)
      line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$2" | tail -1)
      if [ -n "$line" ]; then
        local t; t=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
        f=$(sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/' <<<"$line")
        p=$((t - f))
      fi ;;
    pytest)
      line=$(grep -E '^=*\s*[0-9]+ (passed|failed)' "$2" | tail -1)
      p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
      f=$(( $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) + \
            $(grep -oE '[0-9]+ error' <<<"$line" | grep -oE '[0-9]+' || echo 0) )) ;;
    *)
      line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
      if [ -n "$line" ]; then
        p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
      fi ;;
  esac
  total_passed=$((total_passed + ${p:-0}))
  total_failed=$((total_failed + ${f:-0}))
}

echo "== unit, SQL logic and conformance tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" 2>&1 | tee "$LOGS/ctest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_tiers+=(ctest)
count ctest "$LOGS/ctest.log"

echo "== end-to-end tests (pytest)"
TARN_BIN="$BUILD_DIR/tarn" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/e2e" 2>&1 | tee "$LOGS/e2e.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_tiers+=(e2e)
count pytest "$LOGS/e2e.log"

echo "== fuzz targets (libFuzzer, brief run each)"
"$ROOT/scripts/run_fuzz.sh" "$BUILD_DIR/fuzz" "${TARN_FUZZ_SECONDS:-15}" 2>&1 | tee "$LOGS/fuzz.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_tiers+=(fuzz)
count fuzz "$LOGS/fuzz.log"

if [ ${#failed_tiers[@]} -gt 0 ]; then
  echo "FAILED tiers: ${failed_tiers[*]}"
  [ "$total_failed" -gt 0 ] || total_failed=${#failed_tiers[@]}
  echo "$total_passed passed, $total_failed failed"
  exit 1
fi
echo "$total_passed passed, $total_failed failed"
