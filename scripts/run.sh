#!/usr/bin/env bash
# Set up and run: builds and installs libtnt and its tool.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTNT_BUILD_TESTS=OFF >/dev/null
cmake --build build
cmake --install build --prefix "${PREFIX:-/usr/local}" >/dev/null
ldconfig 2>/dev/null || true
echo "libtnt $(tnt version) installed in ${PREFIX:-/usr/local}"
