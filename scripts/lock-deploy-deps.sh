#!/usr/bin/env bash
# Regenerates the Docker image's hash-pinned lock files from pyproject.toml:
#   deploy/requirements.lock        every runtime dependency, transitive ones too, with the
#                                   sha256 of every file PyPI has for that version (all
#                                   platforms, so the same lock serves amd64 and arm64 builds)
#   deploy/build-requirements.lock  the build-system requires (setuptools, wheel)
# The Dockerfile installs them with `pip install --require-hashes --no-deps`, so a changed or
# substituted file on the index fails the build. tests/unit/test_deploy.py checks that the
# lock pins every pinned dependency of pyproject.toml at the same version: run this after
# changing a pin, and commit the locks with it.
# Needs Python 3.11 (the image's) and the network to the package index; uses a throwaway venv
# and ignores local pip configuration (extra indexes or find-links would add local files'
# hashes only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "use Python 3.11, the image'"'"'s"'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT || true
"$PY" -m venv "$work/venv"
"$work/venv/bin/pip" install -q pip-tools==7.6.2
cp pyproject.toml README.md "$work/"
printf 'setuptools>=77,<85\nwheel\n' >"$work/build.in"
(
  cd "$work"
  venv/bin/pip-compile -q --allow-unsafe --generate-hashes --no-emit-index-url --strip-extras \
    -o requirements.lock pyproject.toml
  venv/bin/pip-compile -q --allow-unsafe --generate-hashes --no-emit-index-url \
    -o build-requirements.lock build.in
)
sed 's|^#    pip-compile .*pyproject.toml$|#    scripts/lock-deploy-deps.sh  (pip-compile --allow-unsafe --generate-hashes --no-emit-index-url --strip-extras pyproject.toml)|' \
  "$work/requirements.lock" >deploy/requirements.lock
sed 's|^#    pip-compile .*build.in$|#    scripts/lock-deploy-deps.sh  (pip-compile --allow-unsafe --generate-hashes --no-emit-index-url build.in: the build-system requires of pyproject.toml)|' \
  "$work/build-requirements.lock" >deploy/build-requirements.lock
echo "wrote deploy/requirements.lock and deploy/build-requirements.lock"
