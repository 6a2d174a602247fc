#!/bin/sh
# Compare the built library's ABI with the committed baseline (libabigail).
# abidiff's exit status is a bit field: 4 = ABI change, 8 = incompatible change.
# Any incompatible change fails; compatible additions are reported.
set -u
lib=$1 baseline=$2; shift 2
hdr_opts=""
for d in "$@"; do hdr_opts="$hdr_opts --headers-dir2 $d"; done
if ! command -v abidiff >/dev/null; then echo "abidiff not installed (abigail-tools)"; exit 1; fi
abidiff --no-added-syms $hdr_opts "$baseline" "$lib"
rc=$?
if [ $((rc & 1)) -ne 0 ]; then echo "abidiff failed to run (rc=$rc)"; exit 1; fi
if [ $((rc & 8)) -ne 0 ]; then echo "incompatible ABI change against $baseline"; exit 1; fi
echo "ABI compatible with $baseline (abidiff rc=$rc)"
exit 0
