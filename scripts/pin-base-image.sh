#!/usr/bin/env bash
# Pins deploy/Dockerfile's base image to a digest: resolves the tag in PYTHON_IMAGE (default:
# the Dockerfile's own ARG) with `docker buildx imagetools inspect` (a registry query, nothing
# pulled) and rewrites the ARG to TAG@sha256:DIGEST, the multi-platform index digest, so amd64
# and arm64 builds both stay pinned. Run it where Docker reaches the registry (a developer's
# machine, CI with Docker), review the diff, commit it; rerun to take a new patch release.
#   scripts/pin-base-image.sh                               # re-resolve the current tag
#   PYTHON_IMAGE=python:3.11.14-slim-bookworm scripts/pin-base-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKERFILE=deploy/Dockerfile
current=$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$DOCKERFILE" | head -1)
image=${PYTHON_IMAGE:-${current%@*}}
image=${image%@*}
digest=$(docker buildx imagetools inspect "$image" --format '{{json .Manifest}}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
case "$digest" in
  sha256:????????????????????????????????????????????????????????????????) ;;
  *) echo "unexpected digest for $image: $digest" >&2; exit 1 ;;
esac
sed -i "s|^ARG PYTHON_IMAGE=.*|ARG PYTHON_IMAGE=$image@$digest|" "$DOCKERFILE"
echo "pinned $DOCKERFILE to $image@$digest"
