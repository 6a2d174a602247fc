#!/usr/bin/env bash
# The Python bindings: build and install the package into a virtual
# environment under build/ against the libtnt that PKG_CONFIG_PATH finds (the
# test command's staging prefix), then run its tests and the examples, and the
# per-call overhead benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=build/python-venv
if ! "$PY" -c 'import venv, ensurepip, sysconfig, os; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
  # Debian splits venv and the headers out of python3
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -q --no-install-recommends python3-venv python3-dev >/dev/null
  PY=/usr/bin/python3
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q pytest
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps ./bindings/python

"$VENV/bin/python" -m pytest -q bindings/python/tests
"$VENV/bin/python" bench/bench_python.py || echo "test-python: the overhead target was missed on this run (a busy machine?)"
