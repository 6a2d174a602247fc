#!/usr/bin/env bash
# The GS1 reference event-hash generator (PyPI: epcis-event-hash-generator)
# against `tnt hash` on the same generated events: equal hashes, both speeds.
#
#   bench/bench_reference.sh            (after building into build/)
#
# Environment: BUILD (default build), TNT_BENCH_REF_EVENTS (default 2000: the
# reference hashes ~150 events/s), TNT_BENCH_VENV (default bench/.venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-$root/build}
events=${TNT_BENCH_REF_EVENTS:-2000}
venv=${TNT_BENCH_VENV:-$here/.venv}

for f in "$build/tnt" "$build/bench/bench_pipeline"; do
  [ -x "$f" ] || { echo "bench_reference: $f is missing; build first" >&2; exit 2; }
done

# The reference in its own virtual environment (ignored by git).
smoke="$root/tests/conformance/gs1-epcis/JSON/WithSensorData/SensorDataExample1.jsonld"
works() { "$venv/bin/python" -m epcis_event_hash_generator "$smoke" 2>/dev/null | grep -q '^ni:///sha-256;'; }
if [ ! -x "$venv/bin/python" ] || ! works; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check epcis-event-hash-generator
  if ! works; then # a newer python-dateutil once broke it
    "$venv/bin/pip" install -q --disable-pip-version-check python-dateutil==2.9.0.post0
    works || { echo "bench_reference: the reference generator does not run" >&2; exit 2; }
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tnt-ref-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bench/bench_pipeline" --write-doc "$work/events.jsonld" "$events" 2>/dev/null
"$venv/bin/python" "$here/reference.py" "$work/events.jsonld" "$build/tnt"
