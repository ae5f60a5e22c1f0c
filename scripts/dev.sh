#!/usr/bin/env bash
# The one run command (README): installs into .venv and starts the whole local stack on the
# embedded default — Temporal dev server on SQLite (WAL) with the Web UI on :8233, the worker,
# the webhook receiver on :8700, every sandbox emulator on its fixed port (the platform sending
# signed webhooks to the receiver), demo data, and examples/dev applied (a fetch on a schedule).
# Extra arguments go to `eventsync dev` (e.g. --no-sandbox -d my-definitions/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
# The sandbox emulators' published test credentials (docs/sandbox.md); never real secrets.
export PLATFORM_PASSWORD=${PLATFORM_PASSWORD:-sandbox}
export MARKETO_CLIENT_SECRET=${MARKETO_CLIENT_SECRET:-sandbox-marketo-secret}
export ELOQUA_PASSWORD=${ELOQUA_PASSWORD:-sandbox-password}
export TOUCHPOINT_TOKEN=${TOUCHPOINT_TOKEN:-tp-sandbox-token}
# Connections may read only allow-listed variables (docs/security.md, "Secrets model").
export EVENTSYNC_SECRET_ENV_ALLOW=${EVENTSYNC_SECRET_ENV_ALLOW:-PLATFORM_PASSWORD,MARKETO_CLIENT_SECRET,ELOQUA_PASSWORD,TOUCHPOINT_TOKEN}
exec .venv/bin/eventsync dev --sandbox --definitions examples/dev "$@"
