#!/usr/bin/env bash
# Backtest replay rate (issue 18): stores a generated feed through a real `vigil serve`,
# then times `vigil rules backtest` against the live run and psql's own sorted COPY of
# the rows the replay reads.
#
#   scripts/with-postgres.sh scripts/bench-backtest.sh path/to/vigil [path/to/other-vigil ...]
#
# Release builds. The first binary stores the feed; every binary replays it, in turn, so
# an A/B shares the machine's drift. BACKTEST_COUNT (300000) transactions, seed 42;
# BACKTEST_RUNS (3) rounds; each round replays against the live run and against the
# repository's rules as a baseline ruleset (two lanes).
set -euo pipefail

BINARIES=()
for binary in "$@"; do BINARIES+=("$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"); done
VIGIL="${BINARIES[0]}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
COUNT="${BACKTEST_COUNT:-300000}"; RUNS="${BACKTEST_RUNS:-3}"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-backtest-bench.XXXXXX")}"
mkdir -p "$OUT"
FEED_PORT=17700; OPS_PORT=17701

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$VIGIL" migrate >/dev/null
"$VIGIL" feed generate --count "$COUNT" --seed 42 --out "$OUT/feed.ndjson" >/dev/null
"$VIGIL" feed seed "$OUT/feed.ndjson.reference.json" >/dev/null
"$VIGIL" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --ops-host 127.0.0.1 --ops-port "$OPS_PORT" \
    --rules Rules --decision-fallback review >"$OUT/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null && break; sleep 0.5; done
"$VIGIL" feed send "$OUT/feed.ndjson" --host 127.0.0.1 --port "$FEED_PORT" --connections 4 >"$OUT/send.txt"
tail -n 2 "$OUT/send.txt"
kill -TERM $SERVE; wait $SERVE || true
trap - EXIT
psql -XAtc "SELECT count(*) || ' transactions, ' || (SELECT count(*) FROM alerts) || ' alerts stored' FROM transactions"

# What PostgreSQL alone takes to hand over the rows, sorted as the replay reads them.
secs() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9:.2f}')" "$1" "$2"; }
t0=$(date +%s%N)
psql -XAqc "\copy (SELECT id, (extract(epoch FROM event_time) * 1000000)::bigint, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip, latitude, longitude, (extract(epoch FROM received_at) * 1000000)::bigint, late FROM transactions ORDER BY received_at, arrival, event_time, id) TO '/dev/null'"
t1=$(date +%s%N)
echo "psql sorted COPY of the same rows: $(secs "$t0" "$t1") s"

report() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}: {r['transactionsPerSecond']:,.0f} transactions/s ({r['seconds']:.2f} s), "
      f"{r['alerts']} alerts against {r['baselineAlerts']} baseline, +{r['alertsAdded']} / -{r['alertsRemoved']}")
EOF
}
for run in $(seq 1 "$RUNS"); do
    for i in "${!BINARIES[@]}"; do
        "${BINARIES[$i]}" rules backtest Rules --json >"$OUT/live-$i-$run.json"
        report "$OUT/live-$i-$run.json" "round $run, binary $((i + 1)) (${BINARIES[$i]}), vs live"
        "${BINARIES[$i]}" rules backtest Rules --baseline Rules --json >"$OUT/lanes-$i-$run.json"
        report "$OUT/lanes-$i-$run.json" "round $run, binary $((i + 1)) (${BINARIES[$i]}), vs Rules (two lanes)"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
