#!/usr/bin/env bash
# A throwaway PostgreSQL server for benchmarks and local use (Debian's `postgresql` package,
# which scripts/test.sh installs), the same code the tests use (tests/support/postgres.py):
#
#   scripts/postgres.sh start DIR PORT   # initdb in DIR on first use, start; prints the URL
#                                        # postgresql://eventsync:PASSWORD@127.0.0.1:PORT/eventsync
#   EVENTSYNC_STORE=$(scripts/postgres.sh start /tmp/pg 55432) eventsync serve -d defs.yaml
#   scripts/postgres.sh url DIR          # print the URL again
#   scripts/postgres.sh stop DIR         # stop (data kept: `start DIR` brings it back, same URL)
#   scripts/postgres.sh destroy DIR      # stop and delete DIR
#
# 127.0.0.1 only, unix socket inside DIR, the server's default durability (fsync on). As root
# (CI) the server runs as the `postgres` system user and DIR is handed to it. The password is
# random unless EVENTSYNC_PG_PASSWORD is set, and kept in DIR/password. A second `start` of a
# running cluster only prints its URL; PORT counts only when the cluster is created.
set -euo pipefail
exec "${PYTHON:-python3}" "$(dirname "$0")/../tests/support/postgres.py" "$@"
