#!/usr/bin/env bash
# The demo's body, run inside a throwaway PostgreSQL (the Makefile's demo target wraps
# it in scripts/with-postgres.sh). Everything listens on 127.0.0.1 only.
set -euo pipefail
VIGIL="$1"
COUNT="${DEMO_COUNT:-100000}"
OUT="${DEMO_OUT:-$(mktemp -d /tmp/vigil-demo.XXXXXX)}"
FEED_PORT="${DEMO_FEED_PORT:-17400}"
OPS_PORT="${DEMO_OPS_PORT:-17401}"
HOOK_PORT="${DEMO_HOOK_PORT:-17480}"
ISO_PORT="${DEMO_ISO_PORT:-17402}"
mkdir -p "$OUT"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
wait_for() {  # wait_for SECONDS COMMAND...: poll until the command succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for: $*" >&2; return 1; fi
        sleep 0.2
    done
}

step "vigil $("$VIGIL" --version): schema"
"$VIGIL" migrate
"$VIGIL" migrate

step "rules in Rules/"
"$VIGIL" rules check Rules
"$VIGIL" rules test Rules | tail -n 1

step "generating $COUNT transactions with labeled fraud patterns"
"$VIGIL" feed generate --count "$COUNT" --seed "${DEMO_SEED:-42}" --out "$OUT/feed.ndjson"
"$VIGIL" feed seed "$OUT/feed.ndjson.reference.json"

step "webhook receiver (verifies Standard Webhooks signatures) on 127.0.0.1:$HOOK_PORT"
SECRET="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
# Webhook secrets are stored sealed under this key (docs/security.md); a demo makes its own.
export VIGIL_SECRET_KEY="${VIGIL_SECRET_KEY:-$(head -c 32 /dev/urandom | base64 | tr -d '\n')}"
VIGIL_WEBHOOK_SECRET="$SECRET" "$VIGIL" webhooks receive --host 127.0.0.1 --port "$HOOK_PORT" \
    --count-file "$OUT/verified.count" > "$OUT/receiver.log" 2>&1 &
pids+=($!)
"$VIGIL" webhooks add "http://127.0.0.1:$HOOK_PORT/alerts" --secret "$SECRET" \
    --event-type alert.created --event-type case.updated --event-type alert.disposed > "$OUT/endpoint.txt"

step "vigil serve (feed 127.0.0.1:$FEED_PORT, ISO 8583 127.0.0.1:$ISO_PORT, ops 127.0.0.1:$OPS_PORT)"
"$VIGIL" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --ops-host 127.0.0.1 --ops-port "$OPS_PORT" \
    --iso8583-port "$ISO_PORT" \
    --rules Rules --webhook-allow-loopback --decision-fallback review > "$OUT/serve.log" 2>&1 &
SERVE=$!
pids+=($SERVE)
wait_for 60 curl -sf "http://127.0.0.1:$OPS_PORT/readyz"
# Every endpoint but /healthz and /readyz needs a token; the stream needs the viewer role.
VIEWER_TOKEN=$("$VIGIL" tokens create --name "demo-viewer-$$" --role viewer --expires 1d)
curl -s -N -H "Authorization: Bearer $VIEWER_TOKEN" "http://127.0.0.1:$OPS_PORT/alerts/stream" > "$OUT/alerts.sse" 2>/dev/null &
pids+=($!)

step "streaming the feed through the TCP port"
"$VIGIL" feed send "$OUT/feed.ndjson" --host 127.0.0.1 --port "$FEED_PORT" --connections 4

step "an authorisation host's traffic over ISO 8583 (0200 requests, field 39 answers the decision)"
# A later week on the same accounts, as a card processor's host would send it.
"$VIGIL" feed generate --count "${DEMO_ISO_COUNT:-2000}" --seed 43 --start 2026-11-20T00:00:00Z --id-prefix iso- \
    --out "$OUT/iso8583.ndjson" > /dev/null
"$VIGIL" feed send "$OUT/iso8583.ndjson" --format iso8583 --host 127.0.0.1 --port "$ISO_PORT" --connections 2

step "waiting for webhook deliveries"
alerts=$(psql -X -At -c "SELECT count(*) FROM alerts")
delivered_all() { [ "$(psql -X -At -c "SELECT count(*) FROM webhook_outbox WHERE status = 'delivered'")" -ge "$alerts" ]; }
wait_for 120 delivered_all || true

step "an investigator works the queue over the API (docs/api.md)"
ANALYST_TOKEN=$("$VIGIL" tokens create --name "demo-analyst-$$" --role analyst --expires 1d)
api() { curl -sf -H "Authorization: Bearer $ANALYST_TOKEN" "$@"; }
echo "open cases: $("$VIGIL" cases list --status open --limit 500 --json | grep -o '"id":[0-9]*,"account_id"' | wc -l) on the first page"
# What really happened is the customer's word; in the demo it is the generator's labels.
# The investigator takes a one-alert high-severity case on a labeled fraud transaction and
# one on a transaction the labels call legitimate (a false positive), so `feed score`
# below can compare the dispositions with the labels.
grep -o '"transaction_ids":\[[^]]*\]' "$OUT/feed.ndjson.labels.ndjson" | grep -o '"[^"]*"' | tr -d '"' | grep -v '^transaction_ids$' \
    > "$OUT/fraud-ids.txt"
read -r fraud_case legitimate_case < <(psql -X -q -At -F' ' <<SQL
CREATE TEMP TABLE labeled_fraud (id text PRIMARY KEY);
\\copy labeled_fraud FROM '$OUT/fraud-ids.txt'
SELECT coalesce((SELECT min(c.id) FROM cases c JOIN alerts a ON a.case_id = c.id
                  WHERE c.status = 'open' AND c.alert_count = 1 AND c.severity = 'high'
                    AND a.transaction_id IN (SELECT id FROM labeled_fraud))::text, '-'),
       coalesce((SELECT min(c.id) FROM cases c JOIN alerts a ON a.case_id = c.id JOIN transactions t ON t.id = a.transaction_id
                  WHERE c.status = 'open' AND c.alert_count = 1 AND t.id NOT LIKE 'iso-%'
                    AND a.transaction_id NOT IN (SELECT id FROM labeled_fraud))::text, '-');
SQL
)
if [ "${fraud_case:--}" != "-" ]; then
    api -X POST -d '{"assignee":"demo-analyst"}' "http://127.0.0.1:$OPS_PORT/api/v1/cases/$fraud_case/assign" > /dev/null
    api -X POST -d '{"text":"customer confirms the card was stolen"}' "http://127.0.0.1:$OPS_PORT/api/v1/cases/$fraud_case/notes" > /dev/null
    echo "closed: $(api -X POST -d '{"disposition":"fraud","reason":"confirmed by the customer"}' \
        "http://127.0.0.1:$OPS_PORT/api/v1/cases/$fraud_case/close")"
    echo "a second close is refused: $(curl -s -H "Authorization: Bearer $ANALYST_TOKEN" -X POST -d '{"disposition":"fraud"}' \
        "http://127.0.0.1:$OPS_PORT/api/v1/cases/$fraud_case/close")"
fi
if [ "${legitimate_case:--}" != "-" ]; then
    echo "closed: $(api -X POST -d '{"disposition":"legitimate","reason":"the customer made this payment"}' \
        "http://127.0.0.1:$OPS_PORT/api/v1/cases/$legitimate_case/close")"
fi
"$VIGIL" cases list --limit 5

step "graceful shutdown (SIGTERM)"
kill -TERM "$SERVE"
set +e; wait "$SERVE"; code=$?; set -e
echo "vigil serve exited with status $code"

step "summary"
psql -X -q -c "SELECT (SELECT count(*) FROM transactions) AS stored, (SELECT count(*) FROM rejected_records) AS rejected,
                      (SELECT count(*) FROM alerts) AS alerts, (SELECT count(*) FROM rule_hits WHERE mode = 'shadow') AS shadow_hits"
psql -X -q -c "SELECT rule_id AS rule, mode, count(*) AS hits FROM rule_hits GROUP BY 1, 2 ORDER BY 3 DESC"
psql -X -q -c "SELECT decision, coalesce(decision_degraded, '-') AS fallback, count(*) AS transactions FROM transactions GROUP BY 1, 2 ORDER BY 3 DESC"
psql -X -q -c "SELECT status, coalesce(disposition, '-') AS disposition, count(*) AS cases, sum(alert_count) AS alerts FROM cases GROUP BY 1, 2 ORDER BY 1"
"$VIGIL" feed score "$OUT/feed.ndjson"
printf 'webhooks (alert.created, case.updated, alert.disposed): %s delivered, %s verified by the receiver, %s pending, %s dead\n' \
    "$(psql -X -At -c "SELECT count(*) FROM webhook_outbox WHERE status = 'delivered'")" \
    "$(cat "$OUT/verified.count" 2>/dev/null || echo 0)" \
    "$(psql -X -At -c "SELECT count(*) FROM webhook_outbox WHERE status = 'pending'")" \
    "$(psql -X -At -c "SELECT count(*) FROM webhook_outbox WHERE status = 'dead'")"
echo "live alert stream events seen: $(grep -c '^event: alert.created' "$OUT/alerts.sse" 2>/dev/null || echo 0)"
echo "files: $OUT (feed, labels, serve.log, receiver.log)"
echo "the live stream read with a viewer token; to watch it yourself:"
echo "  TOKEN=\$(vigil tokens create --name you --role viewer --expires 7d)"
echo "  curl -N -H \"Authorization: Bearer \$TOKEN\" http://127.0.0.1:$OPS_PORT/alerts/stream"
echo "audit log (vigil audit):"
"$VIGIL" audit --limit 5
[ "$code" -eq 0 ]
