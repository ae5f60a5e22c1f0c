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
# The install is editable, so code changes need no reinstall; only pyproject.toml (dependencies,
# entry points) does. Its hash, stamped after a good install, says whether it changed.
stamp=.venv/.eventsync-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/eventsync ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e .
  echo "$want" >"$stamp"
fi
# The sandbox emulators' published test credentials (docs/sandbox.md), never real secrets, and
# where the definitions are: in a file every `eventsync` command run from here reads (a
# variable already set in the environment wins), so the README's commands work in any shell.
mkdir -p .eventsync && chmod 700 .eventsync  # the dev payload key and databases live here
cat >.eventsync/dev.env <<'ENV'
# Written by scripts/dev.sh; read by every eventsync command run from this folder (set a
# variable in the environment to override one). Sandbox test values only.
EVENTSYNC_DEFINITIONS=examples/dev
PLATFORM_PASSWORD=sandbox
MARKETO_CLIENT_SECRET=sandbox-marketo-secret
ELOQUA_PASSWORD=sandbox-password
TOUCHPOINT_TOKEN=tp-sandbox-token
EVENTSYNC_WEBHOOK_SECRETS=eventsync-dev-secret
# Connections may read only allow-listed variables (docs/security.md, "Secrets model").
EVENTSYNC_SECRET_ENV_ALLOW=PLATFORM_PASSWORD,MARKETO_CLIENT_SECRET,ELOQUA_PASSWORD,TOUCHPOINT_TOKEN
ENV
exec .venv/bin/eventsync dev --sandbox --definitions examples/dev "$@"
