#!/bin/sh
# Temporal's databases and schema on PostgreSQL, for the compose stack's one-shot
# `temporal-schema` service (temporalio/admin-tools). It replaces what the deprecated
# temporalio/auto-setup image did on every start. Safe to run again: `create` on an existing
# database is reported and skipped, `setup-schema -v 0.0` and `update-schema` only apply what
# is missing. The password comes from SQL_PASSWORD (temporal-sql-tool reads it).
set -eu
: "${SQL_PASSWORD:?SQL_PASSWORD (the temporal database user's password) must be set}"
HOST="${POSTGRES_SEEDS:-postgresql}"
PORT="${DB_PORT:-5432}"
USER="${POSTGRES_USER:-temporal}"
SCHEMA=/etc/temporal/schema/postgresql/v12

until nc -z "$HOST" "$PORT"; do
  echo "waiting for PostgreSQL at $HOST:$PORT"
  sleep 2
done

for db in temporal:temporal temporal_visibility:visibility; do
  name="${db%%:*}"
  dir="${db#*:}"
  sql() { temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$USER" --db "$name" "$@"; }
  sql create || echo "database $name exists"
  sql setup-schema -v 0.0
  sql update-schema -d "$SCHEMA/$dir/versioned"
done
echo "Temporal schema is up to date"
