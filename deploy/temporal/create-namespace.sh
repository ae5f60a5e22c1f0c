#!/bin/sh
# Creates the Temporal namespace eventsync uses (the compose stack's `setup` service, before
# the search attributes are registered). temporalio/auto-setup used to create `default`; the
# plain temporalio/server image does not. Safe to run again.
set -eu
NS="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-7d}"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "Temporal at ${TEMPORAL_ADDRESS:-?} is not healthy after $tries tries" >&2
    exit 1
  fi
  sleep 2
done
if temporal operator namespace describe --namespace "$NS" >/dev/null 2>&1; then
  echo "namespace $NS exists"
else
  temporal operator namespace create --namespace "$NS" --retention "$RETENTION"
fi
