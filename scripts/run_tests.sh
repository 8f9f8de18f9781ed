#!/usr/bin/env bash
# Runs every test tier against a built tree: unit (ctest), SQL logic tests, end-to-end (pytest).
# Exits non-zero when any tier fails; each runner prints its own summary line.
set -uo pipefail
BUILD_DIR="${1:-build}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
failed=()

echo "== unit and SQL logic tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" || failed+=(ctest)

if [ -d "$ROOT/tests/e2e" ]; then
  echo "== end-to-end tests (pytest)"
  TARN_BIN="$BUILD_DIR/tarn" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/e2e" || failed+=(e2e)
fi

echo "== fuzz targets (libFuzzer, brief run each)"
"$ROOT/scripts/run_fuzz.sh" "$BUILD_DIR/fuzz" "${TARN_FUZZ_SECONDS:-15}" || failed+=(fuzz)

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED tiers: ${failed[*]}"
  exit 1
fi
echo "all test tiers passed"
