#!/usr/bin/env bash
# Issue 12's fan-out target measured with readers cheaper than the server: feed throughput
# of `vigil serve` (one binary, release) with no /alerts/stream subscriber and with 300
# (150 `curl -N` readers writing to files, 150 connections that send the request and
# never read), rounds interleaved none, 300, none, 300, ... Fault test 7 runs the same
# rounds with readers inside the debug test process, which cost the shared cores two to
# three times the server's fan-out; here the readers are curl (C, no parsing).
#
#   swift build -c release --product vigil
#   scripts/with-postgres.sh scripts/bench-stream-readers.sh .build/release/vigil [PAIRS=3] [RECORDS=30000] [FRAUD_RATE=40]
#
# FRAUD_RATE is `feed generate --fraud-rate` (cases per 1,000 records): 40 is the fault
# test's stress rate (about 14 % of records alert); 2 is the generator's default mix.
# Prints each round (records/s, alerts, server CPU ms per 1,000 records, readers' CPU),
# the best-of ratio, RSS and the load average before and after.
set -euo pipefail
V="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
PAIRS=${2:-3}
RECORDS=${3:-30000}
FRAUD_RATE=${4:-40}
cd "$(dirname "$0")/.."
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
W=$(mktemp -d "${TMPDIR:-/tmp}/vigil-stream-bench.XXXXXX")
FEED_PORT=17460
OPS_PORT=17461
export VIGIL_SCHEMAS=$PWD/Schemas VIGIL_SECRET_KEY=${VIGIL_SECRET_KEY:-$(head -c32 /dev/urandom | base64)}
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
sql() { "$PSQL" -XAtq -c "$1"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system CPU of a process, in clock ticks
HZ=$(getconf CLK_TCK)

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
"$V" migrate >/dev/null
total=$((2 * PAIRS * RECORDS + 2000))
"$V" feed generate --count "$total" --seed 31 --fraud-rate "$FRAUD_RATE" --out "$W/feed.ndjson" >/dev/null
"$V" feed seed "$W/feed.ndjson.reference.json" >/dev/null
split -l "$RECORDS" -d -a 3 <(tail -n +2001 "$W/feed.ndjson") "$W/round-"
head -n 2000 "$W/feed.ndjson" >"$W/warm.ndjson"

"$V" serve --feed-host 127.0.0.1 --feed-port $FEED_PORT --ops-host 127.0.0.1 --ops-port $OPS_PORT \
    --max-stream-subscribers 300 --metrics-public >"$W/serve.log" 2>&1 &
SERVE=$!
pids+=("$SERVE")
until curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null; do sleep 0.2; done
TOKEN=$("$V" tokens create --name "stream-bench-$$" --role viewer --expires 1d 2>/dev/null | tail -n 1)
"$V" feed send "$W/warm.ndjson" --host 127.0.0.1 --port $FEED_PORT --connections 8 --json >/dev/null

# One round: a slice of the feed through `feed send` (8 connections, every record acked).
round() {  # round INDEX LABEL
    local file alerts0 cpu0 t0 t1 alerts1 cpu1 rate
    file=$(printf '%s/round-%03d' "$W" "$1")
    alerts0=$(sql "SELECT count(*) FROM alerts")
    cpu0=$(ticks "$SERVE")
    t0=$(date +%s.%N)
    "$V" feed send "$file" --host 127.0.0.1 --port $FEED_PORT --connections 8 --json >"$W/send.json"
    t1=$(date +%s.%N)
    cpu1=$(ticks "$SERVE")
    alerts1=$(sql "SELECT count(*) FROM alerts")
    rate=$(echo "$RECORDS / ($t1 - $t0)" | bc)
    echo "$rate" >>"$W/rates-$2"
    printf '%-5s round %d: %6d records/s, %5d alerts, server CPU %4d ms per 1,000 records' "$2" "$1" "$rate" \
        $((alerts1 - alerts0)) $(((cpu1 - cpu0) * 1000 * 1000 / HZ / RECORDS))
}

# 150 readers (curl, to a file each) and 150 that never read (sockets held open by one shell).
subscribe() {
    readers=()
    for i in $(seq 1 150); do
        curl -s -N -o "$W/reader-$i.sse" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$OPS_PORT/alerts/stream" &
        readers+=($!)
    done
    bash -c '
        for i in $(seq 1 150); do
            exec {fd}<>/dev/tcp/127.0.0.1/'"$OPS_PORT"'
            printf "GET /alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n" "'"$TOKEN"'" >&$fd
        done
        sleep 100000' &
    stalled=$!
    until [ "$(curl -s "http://127.0.0.1:$OPS_PORT/metrics" | awk '/^vigil_alert_stream_subscribers /{ print int($2) }')" -ge 300 ] 2>/dev/null; do
        sleep 0.2
    done
    readers_cpu0=0
    for pid in "${readers[@]}"; do readers_cpu0=$((readers_cpu0 + $(ticks "$pid"))); done
}
unsubscribe() {
    local cpu=0
    for pid in "${readers[@]}"; do cpu=$((cpu + $(ticks "$pid" 2>/dev/null || echo 0))); done
    kill "${readers[@]}" "$stalled" 2>/dev/null || true
    wait "${readers[@]}" "$stalled" 2>/dev/null || true
    printf ', readers (150 curl) CPU %d ms in all, %s bytes each (min-max)' $(((cpu - readers_cpu0) * 1000 / HZ)) \
        "$(stat -c %s "$W"/reader-*.sse | sort -n | sed -n '1p;$p' | paste -sd-)"
    rm -f "$W"/reader-*.sse
}

rss0=$(($(ps -o rss= -p "$SERVE") / 1024))
rss_max=$rss0
for pair in $(seq 0 $((PAIRS - 1))); do
    round $((2 * pair)) none
    echo
    subscribe
    round $((2 * pair + 1)) with
    rss_max=$(( $(ps -o rss= -p "$SERVE") / 1024 > rss_max ? $(ps -o rss= -p "$SERVE") / 1024 : rss_max ))
    unsubscribe
    echo
done
best_none=$(sort -n "$W/rates-none" | tail -n 1)
best_with=$(sort -n "$W/rates-with" | tail -n 1)
echo "best-of ratio (300 subscribers / none): $(echo "scale=2; $best_with / $best_none" | bc) ($best_with / $best_none records/s)"
echo "server RSS: $rss0 MiB before, $rss_max MiB at most with subscribers;" \
    "overflow disconnects $(curl -s "http://127.0.0.1:$OPS_PORT/metrics" | awk '/^vigil_alert_stream_overflows_total /{ print int($2) }')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
