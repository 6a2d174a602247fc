#!/bin/sh
# Every dynamic symbol that libtnt exports starts with tnt_, and the exported
# set equals the committed baseline (abi/libtnt-1.symbols): a symbol missing
# from the library is an ABI break; a new one must be added to the baseline
# and to a new node of src/libtnt.map.
set -eu
lib=$1 baseline=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | grep -v '^TNT_' | sort -u)
bad=$(printf '%s\n' "$actual" | grep -v '^tnt_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols without the tnt_ prefix:"; printf '%s\n' "$bad"; exit 1
fi
missing=$(printf '%s\n' "$actual" | comm -13 - "$baseline")
extra=$(printf '%s\n' "$actual" | comm -23 - "$baseline")
if [ -n "$missing" ]; then echo "symbols of the baseline missing from $lib (ABI break):"; printf '%s\n' "$missing"; exit 1; fi
if [ -n "$extra" ]; then echo "symbols exported but not in the baseline $baseline:"; printf '%s\n' "$extra"; exit 1; fi
echo "$(printf '%s\n' "$actual" | wc -l) symbols, all tnt_, equal to the baseline"
