#!/usr/bin/env bash
# The test command: builds libtnt and runs every test.
#   1. the release build: unit, API, ABI and conformance tests (ctest);
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the threaded ones built with ThreadSanitizer;
#   4. every libFuzzer target for a bounded time over its seed corpus.
# FUZZ_SECONDS (default 30) bounds each fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

echo "== build and test =="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTNT_BUILD_TESTS=ON >/dev/null # on, whatever scripts/run.sh left in the cache
cmake --build build
ctest --test-dir build --output-on-failure -j"$JOBS"

# The bindings build against this build, installed in a staging prefix.
export TNT_PREFIX="$PWD/build/stage"
cmake --install build --prefix "$TNT_PREFIX" >/dev/null
export PKG_CONFIG_PATH="$TNT_PREFIX/lib/pkgconfig:$TNT_PREFIX/lib/x86_64-linux-gnu/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$TNT_PREFIX/lib:$TNT_PREFIX/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$TNT_PREFIX/bin:$PATH"
for t in scripts/test-*.sh; do
  [ -e "$t" ] || continue
  echo "== $(basename "$t" .sh) =="
  "$t"
done

echo "== AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTNT_SANITIZE=ON -DTNT_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" -E '^(abi_|schema_crosscheck)'

echo "== ThreadSanitizer =="
# The tests that run threads against one engine or store (ingest, track,
# replay and archive side by side, the store's map growing under readers,
# the log's group commit); the parsers' tests are single-threaded and run
# above, twice.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTNT_SANITIZE_THREAD=ON -DTNT_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan
TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j"$JOBS" -R '^(test_engine|test_local_backend|test_durability|test_auth|test_state|backend_.*)$'
echo "== fuzzers (${FUZZ_SECONDS}s each) =="
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTNT_FUZZ=ON -DTNT_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target all
for bin in build-fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$bin")
  seeds="tests/fuzz/corpus/${name#fuzz_}"
  work="build-fuzz/corpus/${name#fuzz_}"
  mkdir -p "$work"
  echo "-- $name"
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$work" "$seeds" 2>&1 | tail -n 4
done
echo "== all tests passed =="
