#!/usr/bin/env bash
# The REST API server under load, with wrk on loopback, on the demo world:
#   authenticate  GET of the packs' Digital Links (each scan is recorded)
#   track         GET /api/v1/track/{id} as a partner
#   report        POST /api/v1/report, 100 new events per request (durable)
# Prints requests/s, p50 and p99 per scenario next to the targets. It
# measures; it does not fail because the machine is slow (only when the
# server cannot be started or answers with errors).
#
#   floor-http    the same GETs answered by net/http alone (bench/server/floor:
#                 a constant body of authenticate's size, no libtnt)
#   floor-signed  the same, with an Ed25519 signature of the body per request
# The floors say what the HTTP stack, loopback TCP and wrk cost here before
# any of our work: a scenario cannot be faster than its floor.
#
#   bench/bench_server.sh      BENCH_SECONDS (10), BENCH_CONNECTIONS (32),
#                              BENCH_THREADS (1), TNT_PREFIX (build/stage)
# One wrk thread: it drives the server to its limit here, and a second one
# only takes CPU from the server on the two cores they share (and puts its
# own waits for a time slice into the p99: 19-26 ms with two, 7 ms with one,
# at the same requests/s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
TNT_PREFIX=${TNT_PREFIX:-$ROOT/build/stage}
command -v wrk >/dev/null || { echo "bench_server: wrk is missing (scripts/setup.sh installs it)"; exit 2; }
if [ ! -f "$TNT_PREFIX/lib/pkgconfig/libtnt.pc" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build >/dev/null
  cmake --install build --prefix "$TNT_PREFIX" >/dev/null
fi
export PKG_CONFIG_PATH="$TNT_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$TNT_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
source bindings/go/ensure-go.sh
tnt_ensure_go

work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; true' EXIT
(cd bindings/go && go build -o "$work/tnt-server" ./cmd/tnt-server && go build -o "$work/tnt-demo" ./cmd/tnt-demo)
(cd bench/server/floor && go build -o "$work/floor" .)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/tnt-demo" -data "$work/data" -public-url "http://127.0.0.1:$port" >/dev/null
. "$work/data/demo/partners.env"
# The limits are for the internet; the load comes from one address here.
TNT_RATE_PUBLIC=off TNT_RATE_PARTNER=off TNT_ACCESS_LOG=false TNT_LOG_LEVEL=warn TNT_DRAIN_DELAY=0 \
  "$work/tnt-server" -config "$work/data/demo/config.yml" -data "$work/data" -listen "127.0.0.1:$port" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "bench_server: the server did not start"; cat "$work/server.log"; exit 2; }

export BENCH_DIR="$ROOT/bench/server" BENCH_CODES="$work/data/demo/codes.txt" BENCH_KEY="$BRAND_KEY"
results=()
measure() { # scenario [name]: a short warm-up (caches, connections), then the measured run
  wrk -t1 -c4 -d1s -s "bench/server/$1.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  line=$(BENCH_NAME=${2:-$1} wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 10s -s "bench/server/$1.lua" "http://127.0.0.1:$port" | grep '^RESULT' || true)
  [ -n "$line" ] || { echo "bench_server: wrk gave no result for ${2:-$1}"; exit 2; }
  results+=("$line")
}
for s in authenticate track report; do measure "$s"; done
size=$(curl -fs -H 'Accept: application/json' -o /dev/null -w '%{size_download}' "$(head -1 "$BENCH_CODES")")
kill -TERM "$server"; wait "$server" || true; server=""

for sign in false true; do
  "$work/floor" -listen "127.0.0.1:$port" -size "$size" -sign="$sign" 2>>"$work/server.log" &
  server=$!
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  measure authenticate "$([ "$sign" = true ] && echo floor-signed || echo floor-http)"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done

echo
echo "REST API server on loopback: $(nproc) cores, wrk -t$THREADS -c$CONNS -d${SECS}s, libtnt $(LD_LIBRARY_PATH=$TNT_PREFIX/lib "$TNT_PREFIX/bin/tnt" version 2>/dev/null || echo ?)"
printf '%-13s %12s %14s %9s %9s %7s   %s\n' scenario "requests/s" "events/s" "p50 ms" "p99 ms" errors target
errors=0
for line in "${results[@]}"; do
  eval "$(echo "$line" | cut -d' ' -f3- | tr ' ' '\n' | sed 's/^/r_/')"
  name=$(echo "$line" | cut -d' ' -f2)
  case $name in
    authenticate|track) target=">= 20,000 req/s, p99 <= 5 ms"; met=$(awk -v r="$r_rps" -v p="$r_p99_ms" 'BEGIN{print (r>=20000 && p<=5) ? "met" : "not met"}') ;;
    report) target=">= 100,000 events/s durable"; met=$(awk -v r="$r_items_per_s" 'BEGIN{print (r>=100000) ? "met" : "not met"}') ;;
    floor-http) target="net/http alone, a ${size}-byte answer"; met="no libtnt" ;;
    floor-signed) target="the same, Ed25519-signed per request"; met="no libtnt" ;;
  esac
  printf '%-13s %12s %14s %9s %9s %7s   %s (%s)\n' "$name" "$r_rps" "$r_items_per_s" "$r_p50_ms" "$r_p99_ms" "$r_errors" "$target" "$met"
  errors=$((errors + r_errors))
done
[ "$errors" -eq 0 ] || { echo "bench_server: the server answered $errors requests with errors"; tail -5 "$work/server.log"; exit 1; }
