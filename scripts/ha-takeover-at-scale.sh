#!/usr/bin/env bash
# Takeover time of `vigil serve --ha` with N transactions already stored (docs/operations.md,
# "High availability"): two nodes on a throwaway PostgreSQL, N-LAST records sent to the
# leader, PAUSE seconds for its checkpoints, then the last LAST (default 2,000) sent to
# both nodes while the leader is SIGKILLed; prints the time from the kill to the standby's
# /readyz 200, the new leader's state lines, both nodes' memory before the kill, and what
# the database holds after (acked records lost, stored twice, alerts raised twice).
# Extra `vigil serve` options go in SERVE_OPTS.
#   scripts/with-postgres.sh scripts/ha-takeover-at-scale.sh 60000
# VIGIL_BINARY picks the binary (default .build/release/vigil, else .build/debug/vigil).
set -u
N=${1:-60000}
LAST=${LAST:-2000}
cd "$(dirname "$0")/.."
V=${VIGIL_BINARY:-.build/release/vigil}
[ -x "$V" ] || V=.build/debug/vigil
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
W=$(mktemp -d "${TMPDIR:-/tmp}/vigil-ha-scale.XXXXXX")
export VIGIL_SCHEMAS=$PWD/Schemas VIGIL_SECRET_KEY=${VIGIL_SECRET_KEY:-$(head -c32 /dev/urandom | base64)}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = 200 ]; }
sql() { "$PSQL" -XAtq -c "$1"; }
"$V" migrate >/dev/null
"$V" feed generate --count "$N" --seed 5 --out "$W/feed.ndjson" >/dev/null
"$V" feed seed "$W/feed.ndjson.reference.json" >/dev/null
# shellcheck disable=SC2086
"$V" serve --ha --ha-node scale-a --feed-host 127.0.0.1 --feed-port 17400 --ops-port 17401 ${SERVE_OPTS:-} >"$W/a.log" 2>&1 &
A=$!
until ready 17401; do sleep 0.2; done
# shellcheck disable=SC2086
"$V" serve --ha --ha-node scale-b --feed-host 127.0.0.1 --feed-port 17402 --ops-port 17403 ${SERVE_OPTS:-} >"$W/b.log" 2>&1 &
B=$!
head -n $((N - LAST)) "$W/feed.ndjson" >"$W/first.ndjson"
tail -n "$LAST" "$W/feed.ndjson" >"$W/last.ndjson"
s0=$(date +%s.%N)
"$V" feed send "$W/first.ndjson" --host 127.0.0.1:17400 --json | tail -1
s1=$(date +%s.%N)
echo "first $((N - LAST)) stored at $(echo "($N - $LAST) / ($s1 - $s0)" | bc) tx/s"
sleep "${PAUSE:-0}"
echo "memory before the kill (RSS): leader $(($(ps -o rss= -p $A) / 1024)) MiB, standby $(($(ps -o rss= -p $B) / 1024)) MiB"
"$V" feed send "$W/last.ndjson" --host 127.0.0.1:17400,127.0.0.1:17402 --connections 2 --json >"$W/send.log" 2>&1 &
S=$!
sleep 0.3
kill -9 $A
t0=$(date +%s.%N)
before=$(sql "SELECT count(*) FROM transactions")
until ready 17403; do sleep 0.02; done
t1=$(date +%s.%N)
echo "stored at the kill: $before of $N; takeover (kill to /readyz 200) $(echo "$t1 - $t0" | bc) s"
wait $S
tail -1 "$W/send.log"
grep -E "detection state loaded|standby: detection state|took over with warm" "$W/b.log"
# Every record acked (feed send re-sends what was not) must be stored, once; each alert once.
sleep 1
echo "stored $(sql "SELECT count(*) FROM transactions") of $N sent; stored twice $(sql "SELECT count(*) - count(DISTINCT id) FROM transactions");" \
    "transactions with two alerts $(sql "SELECT count(*) FROM (SELECT transaction_id FROM alerts GROUP BY 1 HAVING count(*) > 1) d");" \
    "alerts $(sql "SELECT count(*) FROM alerts"); pending evaluations $(sql "SELECT count(*) FROM pending_evaluations")"
kill $B
wait $B 2>/dev/null
rm -rf "$W"
