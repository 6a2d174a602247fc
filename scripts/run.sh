#!/usr/bin/env bash
# Set up and run: installs the build dependencies from Debian's packages,
# builds and installs libtnt, its tool, the Python package and the API server under /usr/local
# (or PREFIX), creates the store (tnt-server migrate), loads the demo world
# once (tnt-demo), and serves the REST API in the foreground on the
# embedded store in ./tnt-data (TNT_DATA) at http://localhost:8080
# (TNT_LISTEN, TNT_PUBLIC_URL). Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTNT_BUILD_TESTS=OFF >/dev/null
cmake --build build
cmake --install build --prefix "$PREFIX" >/dev/null
ldconfig 2>/dev/null || true
echo "libtnt $("$PREFIX/bin/tnt" version) installed in $PREFIX"

# The bindings, built against the installed library.
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# the Python package (import tnt), for the python3 on PATH
python3 -m pip install -q --break-system-packages ./bindings/python
echo "Python package tnt installed for $(python3 --version)"
source bindings/go/ensure-go.sh
tnt_ensure_go
(cd bindings/go && go build -o ../../build/bin/tnt-server ./cmd/tnt-server && go build -o ../../build/bin/tnt-demo ./cmd/tnt-demo)
install -m 0755 build/bin/tnt-server build/bin/tnt-demo "$PREFIX/bin/"

DATA=${TNT_DATA:-./tnt-data}
LISTEN=${TNT_LISTEN:-127.0.0.1:8080}
URL=${TNT_PUBLIC_URL:-http://localhost:${LISTEN##*:}}
export TNT_PUBLIC_URL=$URL
"$PREFIX/bin/tnt-server" migrate -data "$DATA" ${TNT_CONFIG:+-config "$TNT_CONFIG"}
"$PREFIX/bin/tnt-demo" -data "$DATA" -public-url "$URL" ${TNT_CONFIG:+-config "$TNT_CONFIG"}
CONFIG=${TNT_CONFIG:-$DATA/demo/config.yml}
cat <<MSG

  The API:            $URL/openapi.json
  A genuine product:  $(sed -n 's/.*"genuine": "\(.*\)",/\1/p' "$DATA/demo/codes.json")
  Partner keys:       $DATA/demo/partners.env  (. $DATA/demo/partners.env; curl -H "X-API-Key: \$BRAND_KEY" …)

MSG
echo "serving on $URL"
exec "$PREFIX/bin/tnt-server" serve -data "$DATA" -config "$CONFIG" -listen "$LISTEN"
