#!/usr/bin/env bash
# Instructions per event of the full pipeline, and per identifier parsed,
# counted by callgrind: the figures to compare before and after a change,
# because they do not depend on the load of a shared machine.
#
#   bench/callgrind.sh [BUILD_DIR] [EVENTS]     (defaults: build, 2000)
#
# Counts only inside the benchmark's timed reads (read_all: the warm-up and
# one timed run, so 2 x EVENTS events), not the set-up that builds the
# protobuf batch. Use a RelWithDebInfo build; valgrind's CPU has no SHA-NI,
# so SHA-256 weighs more here than on the hardware. The callgrind files are
# kept in bench/out/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
events=${2:-2000}
mkdir -p bench/out
for format in json protobuf; do
  out=bench/out/callgrind.$format.out
  valgrind --tool=callgrind --toggle-collect='read_all*' --callgrind-out-file="$out" \
    "$build/bench/bench_pipeline" --profile "$format" --events "$events" --reps 1 >/dev/null 2>&1
  total=$(callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ && !done { done = 1; gsub(",", "", $1); print $1 }')
  printf '%-9s %12s instructions, %8d per event\n' "$format" "$total" $((total / (2 * events)))
done
# Identifier parsing: the bench_ids mix (21 identifiers in every form), 1,000 times.
out=bench/out/callgrind.ids.out
valgrind --tool=callgrind --toggle-collect='tnt_id_parse' --callgrind-out-file="$out" \
  "$build/bench/bench_ids" --profile 1000 >/dev/null 2>&1
total=$(callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ && !done { done = 1; gsub(",", "", $1); print $1 }')
printf '%-9s %12s instructions, %8d per identifier (bench_ids mix)\n' "ids" "$total" $((total / 21000))
