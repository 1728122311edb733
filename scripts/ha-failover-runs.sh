#!/usr/bin/env bash
# The takeover-time distribution of issue 21: runs the SIGKILL failover test (two
# takeovers each, under `vigil feed send` to both nodes) RUNS times against a throwaway
# PostgreSQL and prints every "kill to the standby's /readyz 200" figure, then the
# spread. Build first: swift build --build-tests.   Usage: scripts/ha-failover-runs.sh [RUNS=5]
set -euo pipefail
RUNS=${1:-5}
cd "$(dirname "$0")/.."
figures=()
for run in $(seq 1 "$RUNS"); do
    out=$(scripts/with-postgres.sh swift test --skip-build --no-parallel --filter leaderKilled 2>&1) || {
        echo "$out" | tail -40 >&2; echo "run $run failed" >&2; exit 1; }
    line=$(echo "$out" | grep "HA takeover after SIGKILL" | sed 's/.*: //')
    echo "run $run: $line"
    for f in $(echo "$line" | tr -d 's' | tr ',' ' '); do figures+=("$f"); done
done
printf '%s\n' "${figures[@]}" | sort -n | awk '{ v[NR] = $1; sum += $1 }
    END { printf "%d takeovers: min %.2f s, median %.2f s, max %.2f s, mean %.2f s\n", NR, v[1], v[int((NR + 1) / 2)], v[NR], sum / NR }'
