#!/bin/sh
# Register eventsync's custom search attributes on a Temporal cluster (once per namespace).
# The dev server gets them from `eventsync dev`; a real cluster needs this step before the
# first worker starts. The list must match workflows/search_attributes.py (a test checks).
set -eu
NS="${TEMPORAL_NAMESPACE:-default}"
for attr in \
  EventsyncKind=Keyword \
  EventsyncName=Keyword \
  EventsyncAccount=Keyword \
  EventsyncEvent=Keyword \
  EventsyncRecords=KeywordList \
  EventsyncStatus=Keyword; do
  name="${attr%%=*}"
  type="${attr#*=}"
  if temporal operator search-attribute list --namespace "$NS" | grep -q "^ *$name "; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$NS" --name "$name" --type "$type"
  fi
done
