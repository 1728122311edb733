#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: pg_virtualenv (postgresql-common)
# creates a temporary cluster, exports the PG* variables that libpq reads, runs the
# command, and drops the cluster afterwards, whatever the command's exit status.
#
# With VIGIL_USE_EXISTING_DB=1 the command runs against the server that DATABASE_URL or
# the PG* variables already name instead.
set -euo pipefail

if [ "${VIGIL_USE_EXISTING_DB:-0}" = "1" ]; then
    exec "$@"
fi

if ! command -v pg_virtualenv >/dev/null 2>&1; then
    echo "error: pg_virtualenv not found; run scripts/install-deps.sh (it installs postgresql-common)" >&2
    exit 1
fi

# pg_virtualenv refuses to run as root without a user to run the server as; as root it
# runs the cluster as 'postgres'. Unset any DATABASE_URL so libpq uses the PG* variables
# pg_virtualenv sets.
unset DATABASE_URL
exec pg_virtualenv -o "max_connections=300" -o "shared_buffers=256MB" "$@"
