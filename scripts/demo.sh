#!/usr/bin/env bash
# The demo's body, run inside a throwaway PostgreSQL (see the Makefile's demo target).
set -euo pipefail
VIGIL="$1"
echo "== vigil $("$VIGIL" --version)"
echo "== migrating the schema"
"$VIGIL" migrate
echo "== migrating again (nothing to do)"
"$VIGIL" migrate
echo "== tables"
psql -X -q -c '\dt+'
echo "== checking the rules in Rules/"
"$VIGIL" rules check Rules
