#!/bin/sh
# Regenerate the ABI baseline after a deliberate, compatible addition
# (new symbols in a new node of src/libtnt.map). Run from the source tree:
#   tests/abi/update-baseline.sh build/libtnt.so
set -eu
lib=$1
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | grep -v '^TNT_' | sort -u > abi/libtnt-1.symbols
abidw --no-corpus-path --headers-dir include --headers-dir "$(dirname "$lib")/include" "$lib" > abi/libtnt-1.abi
echo "abi/libtnt-1.symbols: $(wc -l < abi/libtnt-1.symbols) symbols; abi/libtnt-1.abi written"
