#!/usr/bin/env bash
# A/B of the alert-stream fan-out (issue 12): fault test 7 (feed throughput with no
# subscriber and with 300, 150 of them never reading, rounds interleaved inside each run)
# against each binary in turn, A B A B ..., so both see the same machine load.
#
#   swift build --build-tests && swift build -c release --product vigil
#   scripts/with-postgres.sh scripts/bench-stream.sh path/to/vigil-A path/to/vigil-B [PAIRS]
#
# Prints each run's line from the test (rates, best-of ratio, CPU per 1,000 records of
# the server and of the test process that runs the clients, RSS) and the load average.
# Needs the debug test build of this checkout (the clients) and release builds to compare.
set -euo pipefail

A="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
B="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
PAIRS="${3:-2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SCRATCH=()
[ -n "${SWIFT_SCRATCH_PATH:-}" ] && SCRATCH=(--scratch-path "$SWIFT_SCRATCH_PATH")

for pair in $(seq 1 "$PAIRS"); do
    for side in A B; do
        binary=$A
        [ "$side" = B ] && binary=$B
        echo "== pair $pair, $side ($binary); load $(cut -d' ' -f1-3 /proc/loadavg)"
        VIGIL_BINARY="$binary" swift test "${SCRATCH[@]}" --skip-build \
            --filter FaultToleranceTests.alertStreamSubscribersDoNotSlowTheFeed 2>&1 \
            | grep -E "alert stream:|passed|failed|Expectation failed" | sed "s/^/$side: /" || true
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
