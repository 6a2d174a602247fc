#!/usr/bin/env bash
# The Go binding and the reference server, against the libtnt that
# scripts/test.sh installed in $TNT_PREFIX (default build/stage):
#   1. go vet, and the generated files up to date (error codes, OpenAPI copy);
#   2. go test -race of the binding and the server (unit and HTTP tests,
#      the bad-input tests among them), then each of the server's fuzz
#      targets (bindings/go/server/fuzz_test.go) for GO_FUZZ_EXECS inputs
#      (default 3000) beyond its seeds;
#   3. the end-to-end tests: tnt-server and tnt-demo as processes, the
#      consumer page in headless Chromium (screenshots kept in
#      build/test-artefacts/server), graceful shutdown, the curl tour;
#   4. schemathesis against a live server on the demo world, checking that
#      it keeps to docs/openapi.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TNT_PREFIX=${TNT_PREFIX:-$ROOT/build/stage}
if [ ! -f "$TNT_PREFIX/lib/pkgconfig/libtnt.pc" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build
  cmake --install build --prefix "$TNT_PREFIX" >/dev/null
fi
export PKG_CONFIG_PATH="$TNT_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$TNT_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
source bindings/go/ensure-go.sh
tnt_ensure_go

echo "-- go vet, generated files"
(cd bindings/go && go vet ./...)
(cd bench/server/floor && go vet .) # bench_server.sh's HTTP floor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd bindings/go && go run ./internal/generr "$tmp/error_gen.go")
cmp -s "$tmp/error_gen.go" bindings/go/error_gen.go || { echo "bindings/go/error_gen.go is stale: go generate ./bindings/go"; exit 1; }
cmp -s docs/openapi.json bindings/go/server/openapi.json || { echo "bindings/go/server/openapi.json differs from docs/openapi.json: go generate ./bindings/go/server"; exit 1; }

echo "-- go test -race (binding, server)"
(cd bindings/go && go test -race -count=1 ./...)

# A count, not a duration: Go's fuzzing (before 1.27) can fail a target with
# "context deadline exceeded" when a duration ends while an input runs
# (go.dev/issue/75804), more often on a loaded machine.
GO_FUZZ_EXECS=${GO_FUZZ_EXECS:-3000}
echo "-- go fuzz targets of the server (${GO_FUZZ_EXECS} inputs each)"
for target in FuzzEventsQuery FuzzPublic FuzzTrack FuzzCapture FuzzMaster; do
  # one target per run, as go test -fuzz requires; a failing input is kept
  # in bindings/go/server/testdata/fuzz/<target>/, a seed from then on
  echo "$target"
  (cd bindings/go && go test -run '^$' -fuzz "^$target\$" -fuzztime "${GO_FUZZ_EXECS}x" ./server/ | grep -v '^fuzz: elapsed')
done

echo "-- end-to-end (Chromium)"
export TNT_ARTEFACTS="$ROOT/build/test-artefacts/server"
(cd tests/server && go test -count=1 ./...)

echo "-- schemathesis against the live server"
ST="$ROOT/build/venv-st/bin/st"
if [ ! -x "$ST" ]; then
  python3 -m venv "$ROOT/build/venv-st" 2>/dev/null || {
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$ROOT/build/venv-st"
  }
  "$ROOT/build/venv-st/bin/pip" install -q "schemathesis==4.32.5"
fi
(cd bindings/go && go build -o "$tmp/tnt-server" ./cmd/tnt-server && go build -o "$tmp/tnt-demo" ./cmd/tnt-demo)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$tmp" && ./tnt-demo -data "$tmp/data" -public-url "http://127.0.0.1:$port" >/dev/null)
. "$tmp/data/demo/partners.env"
TNT_RATE_PUBLIC=off TNT_RATE_PARTNER=off TNT_ACCESS_LOG=false \
  "$tmp/tnt-server" -config "$tmp/data/demo/config.yml" -data "$tmp/data" -listen "127.0.0.1:$port" 2>"$tmp/server.log" &
server=$!
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
(cd "$tmp" && "$ST" run "http://127.0.0.1:$port/openapi.json" -H "X-API-Key: $BRAND_KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing --max-examples 30 -w 2 --warnings off)
kill -TERM "$server"
wait "$server"
server=""
grep -q '"msg":"engine closed"' "$tmp/server.log" || { echo "the server did not close the engine"; cat "$tmp/server.log"; exit 1; }
echo "go: all tests passed"
