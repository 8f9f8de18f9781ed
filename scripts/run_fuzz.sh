#!/usr/bin/env bash
# Builds every libFuzzer target with clang + ASan/UBSan in its own build dir and runs each one briefly.
# Usage: scripts/run_fuzz.sh [BUILD_DIR] [SECONDS_PER_TARGET]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${1:-$ROOT/build/fuzz}"
SECONDS_PER_TARGET="${2:-15}"  # 8 targets: about 2 minutes after the build
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTARN_ENABLE_FUZZING=ON -DTARN_BUILD_TESTS=OFF -DTARN_SANITIZER="address,undefined" >/dev/null
fi
# UBSan only prints by default; make undefined behaviour fail the run like ASan findings do.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan.supp}"
cmake --build "$BUILD_DIR" --target fuzzers -j "$(nproc)"
passed=0; failed=0
for fuzzer in "$BUILD_DIR"/fuzzers/*_fuzzer; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus="$BUILD_DIR/corpus/$name"
  mkdir -p "$corpus"
  seeds="$ROOT/tests/fuzz/corpus/$name"
  args=("$corpus")
  [ -d "$seeds" ] && args+=("$seeds")
  if "$fuzzer" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -print_final_stats=0 "${args[@]}" \
      >"$BUILD_DIR/$name.log" 2>&1; then
    echo "PASS $name ($(grep -c '' "$BUILD_DIR/$name.log") log lines)"
    passed=$((passed + 1))
  else
    echo "FAIL $name:"; tail -40 "$BUILD_DIR/$name.log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
