#!/usr/bin/env bash
# Build libtnt in Release and run every benchmark, then print a summary table.
#
#   bench/run.sh            the full run (~1 GB streamed, ~10 minutes on 2 cores)
#   bench/run.sh --quick    2,000 events, a 64 MiB stream, 300 events for the reference
#
# Full outputs are kept in bench/out/ (ignored by git). Environment: BUILD
# (default build), and the TNT_BENCH_* variables of each benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
export BUILD=$PWD/$build
if [ "${1:-}" = "--quick" ]; then
  export TNT_BENCH_EVENTS=${TNT_BENCH_EVENTS:-2000} TNT_BENCH_REPS=${TNT_BENCH_REPS:-3}
  export TNT_BENCH_STREAM_MB=${TNT_BENCH_STREAM_MB:-64} TNT_BENCH_REF_EVENTS=${TNT_BENCH_REF_EVENTS:-300}
  export TNT_BENCH_ENGINE_EVENTS=${TNT_BENCH_ENGINE_EVENTS:-10000}
  json_args=(--events 2000 --doc-events 5000 --reps 3)
else
  json_args=()
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$build" >/dev/null || { echo "run.sh: build failed" >&2; exit 2; }

out=bench/out
mkdir -p "$out"
status=0
run() { # name command...
  local name=$1
  shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$out/$name.txt"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "run.sh: $name exited with $rc"; status=1; }
  echo
}

{ nproc; lscpu | grep -E '^(Model name|CPU\(s\)|L2|L3)'; cat /proc/loadavg; } >"$out/machine.txt"
run pipeline "$build/bench/bench_pipeline"
if [ -x "$build/bench/json_candidates" ]; then
  run json_candidates "$build/bench/json_candidates" "${json_args[@]}"
else
  echo "=== json_candidates: not built (install libjansson-dev libcjson-dev libjson-c-dev libjsonparser-dev libjsmn-dev)"
fi
run reference bench/bench_reference.sh
run ids "$build/bench/bench_ids"
run engine "$build/bench/bench_engine" ${TNT_BENCH_ENGINE_EVENTS:-}
[ -x "$build/bench/bench_storage" ] && run storage "$build/bench/bench_storage"
[ -x "$build/bench/bench_auth" ] && run auth "$build/bench/bench_auth"
if [ -f "$build/stage/lib/pkgconfig/libtnt.pc" ]; then
  run server env TNT_PREFIX="$build/stage" bench/bench_server.sh
else
  echo "=== server: skipped, no installed library in $build/stage (scripts/test.sh installs it there)"
fi
py=python3
[ -x build/python-venv/bin/python ] && py=build/python-venv/bin/python # scripts/test-python.sh's
if "$py" -c 'import tnt' 2>/dev/null; then
  run python env PKG_CONFIG_PATH="$build/stage/lib/pkgconfig" LD_LIBRARY_PATH="$build/stage/lib" "$py" bench/bench_python.py
else
  echo "=== python: skipped, the tnt package is not installed (pip install ./bindings/python)"
fi

echo "=== summary ($(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-58s | %-52s | %s\n' "measure" "figure" "target"
printf '%s\n' "$(printf '%.0s-' {1..140})"
cat "$out"/pipeline.txt "$out"/json_candidates.txt "$out"/reference.txt 2>/dev/null | sed -n 's/^@ //p' |
  awk -F' [|] ' '{ printf "%-58s | %-52s | %s\n", $1, $2, $3 }'
exit $status
