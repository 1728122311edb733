#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server made for it alone: initdb into a
# fresh temporary folder, a server listening only on a Unix socket in that folder (so
# two runs at once never collide, and nothing left over from a killed run gets in the
# way), the PG* variables that libpq reads exported for the command, and the server
# stopped and its folder deleted afterwards, whatever the command's exit status.
#
# With VIGIL_USE_EXISTING_DB=1 the command runs against the server that DATABASE_URL or
# the PG* variables already name instead.
set -euo pipefail

if [ "${VIGIL_USE_EXISTING_DB:-0}" = "1" ]; then
    exec "$@"
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "error: no PostgreSQL server binaries under /usr/lib/postgresql; run scripts/install-deps.sh" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-pg.XXXXXX")
chmod 755 "$WORK"
AS=()
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the server runs as the 'postgres' user.
    chown postgres:postgres "$WORK"
    AS=(runuser -u postgres --)
fi

cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"${AS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || {
    cat "$WORK/initdb.log" >&2; echo "error: initdb failed" >&2; exit 1; }
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -t 60 \
    -o "-k $WORK -c listen_addresses='' -c max_connections=300 -c shared_buffers=256MB" start >/dev/null || {
    cat "$WORK/server.log" >&2; echo "error: the throwaway PostgreSQL did not start" >&2; exit 1; }

unset DATABASE_URL PGSERVICE PGPASSWORD
export PGHOST="$WORK" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
echo "throwaway PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on socket $WORK" >&2
set +e
"$@"
status=$?
set -e
exit $status
