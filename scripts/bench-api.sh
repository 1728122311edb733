#!/usr/bin/env bash
# The investigator API under a production-sized store (issue 17's targets): first pages of
# GET /api/v1/alerts with 10,000,000 transactions and 1,000,000 alerts stored, and the
# feed's ack latency at 5,000 tx/s with and without 200 API requests a second.
#
#   scripts/with-postgres.sh scripts/bench-api.sh path/to/vigil   (release build)
#
# API_TRANSACTIONS (10000000) and API_ALERT_EVERY (10: one alert per ten transactions)
# size the store; API_REQUESTS (2000) per first-page query; API_FEED_SECONDS (20).
# Writes $BENCH_OUT (a temp folder by default): latencies.json, plans.txt, feed-*.json.
set -euo pipefail

VIGIL="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-api-bench.XXXXXX")}"
mkdir -p "$OUT"
TRANSACTIONS="${API_TRANSACTIONS:-10000000}"; EVERY="${API_ALERT_EVERY:-10}"
REQUESTS="${API_REQUESTS:-2000}"; FEED_SECONDS="${API_FEED_SECONDS:-20}"
FEED_PORT=17600; OPS_PORT=17601

START="$(date -u -d "$(date -u +%F) - 60 days" +%FT00:00:00Z)"
GEN=(--seed 42 --accounts 200000 --start "$START")

started=$(date +%s)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
"$VIGIL" migrate >/dev/null
# API_REUSE_STORE=1 (with VIGIL_USE_EXISTING_DB=1 and a server of your own) measures again
# on a store an earlier run made, without the 10 minutes of making it.
if [ "${API_REUSE_STORE:-0}" = "1" ] && [ "$(psql -Atc 'SELECT count(*) >= 1000 FROM alerts')" = "t" ]; then
    echo "reusing the store: $(psql -Atc 'SELECT count(*) FROM alerts') alerts" | tee -a "$OUT/load.txt"
else
# The store: accounts, cards and merchants cycle; one transaction every 250 ms of event
# time from 2026-10-01; every EVERY-th alerts (severity and rule cycle over five), through
# the real grouping trigger, in event-time order. About 12 minutes for the default size on
# 2 cores.

psql -v ON_ERROR_STOP=1 -q -v n="$TRANSACTIONS" -v every="$EVERY" <<'SQL'
SET synchronous_commit = off;
INSERT INTO transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel, event_time,
                          received_at, raw, decision, decision_score, decision_rules, decision_ruleset)
SELECT 'tx-' || g, 'acc-' || (g % 200000), 'card-' || (g % 300000), 500 + (g * 7919) % 250000, 'EUR', 'm-' || (g % 5000), '5411',
       'DE', 'card_not_present', ts, ts,
       json_build_object('id', 'tx-' || g, 'timestamp', ts, 'account_id', 'acc-' || (g % 200000), 'amount',
                         ((500 + (g * 7919) % 250000) / 100.0)::text, 'currency', 'EUR', 'channel', 'card_not_present',
                         'card_id', 'card-' || (g % 300000), 'merchant_id', 'm-' || (g % 5000)),
       CASE WHEN g % :every = 0 THEN 'review' ELSE 'allow' END, CASE WHEN g % :every = 0 THEN 60 ELSE 0 END,
       '[]'::jsonb, 'bench'
  FROM generate_series(1::bigint, :n) g, LATERAL (SELECT timestamptz '2026-10-01' + g * interval '250 milliseconds' AS ts) t;
INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version, created_at, decision)
SELECT 'tx-' || g, 'acc-' || (g % 200000), 500 + (g * 7919) % 250000, 'EUR',
       (ARRAY['low','medium','high','critical','medium'])[1 + (g / :every) % 5], 60,
       jsonb_build_array(jsonb_build_object('rule', (ARRAY['card_testing','amount_far_above_average','impossible_travel',
                         'new_device_high_value','account_velocity_spike'])[1 + (g / :every) % 5], 'severity', 'high', 'score', 60,
                         'reason', 'bench', 'on_error', false)),
       'bench', timestamptz '2026-10-01' + g * interval '250 milliseconds', 'review'
  FROM generate_series(:every::bigint, :n, :every) g ORDER BY g;
-- Investigators at work: a tenth of the cases assigned, a twentieth closed.
UPDATE cases SET assignee = 'analyst-' || (id % 7) WHERE id % 10 = 0;
UPDATE cases SET status = 'closed', disposition = 'fraud', disposed_by = 'bench', disposed_at = updated_at WHERE id % 20 = 0;
ANALYZE;
SQL
fi
echo "store: $TRANSACTIONS transactions, $(psql -Atc 'SELECT count(*) FROM alerts') alerts, $(psql -Atc 'SELECT count(*) FROM cases') cases in $(( $(date +%s) - started )) s" | tee -a "$OUT/load.txt"

TOKEN=$("$VIGIL" tokens create --name "bench-viewer-$$" --role viewer 2>/dev/null)
"$VIGIL" feed bench "${GEN[@]}" --write-reference "$OUT/reference.json" >/dev/null
"$VIGIL" feed seed "$OUT/reference.json" >/dev/null
"$VIGIL" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --ops-host 127.0.0.1 --ops-port "$OPS_PORT" --rules Rules \
    --log-level warning >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
ready_from=$(date +%s)
trap 'kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true' EXIT
# Ready once windows and profiles are rebuilt from the store: minutes for 10 million rows.
ready=0
for _ in $(seq 1 3000); do
    curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && { ready=1; break; }
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$OUT/serve.log" >&2; exit 1; }
    sleep 0.2
done
[ "$ready" = 1 ] || { echo "vigil serve was not ready after 10 minutes" >&2; exit 1; }
echo "ready after $(( $(date +%s) - ready_from )) s (state rebuilt from the store)" | tee -a "$OUT/load.txt"

# First pages, one keep-alive connection, one request at a time.
python3 scripts/api_load.py first-pages --port "$OPS_PORT" --token "$TOKEN" --requests "$REQUESTS" >"$OUT/latencies.json"
cat "$OUT/latencies.json"

# The plans of those queries, as PostgreSQL runs them.
{
    for filter in "" "AND c.status = 'open'" "AND a.severity = 'critical'" \
        "AND a.rules @> '[{\"rule\":\"impossible_travel\"}]'" "AND c.assignee = 'analyst-3'" "AND a.account_id = 'acc-4240'"; do
        echo "-- first page ${filter:-unfiltered}"
        psql -Atc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT a.id FROM alerts a JOIN cases c ON c.id = a.case_id
                   WHERE true $filter ORDER BY a.id DESC LIMIT 51"
    done
} >"$OUT/plans.txt"

# The feed at 5,000 tx/s alone, then with 200 API requests a second alongside.
feed() {
    "$VIGIL" feed bench "${GEN[@]}" --port "$FEED_PORT" --connections 4 --rate 5000 --duration "$FEED_SECONDS" \
        --warmup 3 --drain 10 --time-offset-hours "$1" --run-id "$2" --json
}
feed 6 feed-alone >"$OUT/feed-alone.json"
python3 scripts/api_load.py steady --port "$OPS_PORT" --token "$TOKEN" --rate 200 --seconds $((FEED_SECONDS + 8)) >"$OUT/api-steady.json" &
LOAD_PID=$!
feed 12 feed-with-api >"$OUT/feed-with-api.json"
wait "$LOAD_PID"
feed 18 feed-alone-again >"$OUT/feed-alone-again.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
for name in ["feed-alone", "feed-with-api", "feed-alone-again"]:
    r = json.load(open(os.path.join(out, name + ".json")))
    l = r["latency_us"]
    print(f"{name:18} nacked {r['nacked']}  acked/s {r['throughput_per_s']:>8.0f}  p50 {l['p50']/1000:6.1f} ms  p99 {l['p99']/1000:6.1f} ms  p99.9 {l['p99.9']/1000:6.1f} ms")
print(open(os.path.join(out, "api-steady.json")).read())
PY
echo "results in $OUT"
