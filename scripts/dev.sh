#!/usr/bin/env bash
# The one run command (README): installs into .venv and starts the whole local stack
# (Temporal dev server on SQLite + Web UI, worker, webhook receiver, sandbox emulators).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
exec .venv/bin/eventsync dev "$@"
