#!/usr/bin/env bash
# Issue 21's target, measured: the leader SIGKILLed under a steady feed, RUNS times.
# Each run on a database of its own (created, migrated and seeded for it, dropped after):
# two `vigil serve --ha` nodes, N records (default 60,000) sent to the leader at full
# speed, PAUSE seconds (default 6) for its checkpoints, then STEADY records (default
# RATE x 12) sent at a steady RATE a second in all (default 5,000; `feed send --rate`, four
# connections, both addresses) and the leader SIGKILLed KILL_AFTER seconds (default 3)
# into that send. Per run it prints the time from the kill to the standby's /readyz 200
# and to the first ack from the new leader (the earliest "first reply after moving" that
# feed send logs), what the leader had stored at the kill against what was offered, and
# after the send what the database holds: every acked record stored, none twice, no
# transaction with two alerts, no pending evaluation left. Then min/median/max/mean.
#   scripts/with-postgres.sh scripts/ha-takeover-runs-at-rate.sh
#   RUNS=3 RATE=2000 N=20000 scripts/with-postgres.sh scripts/ha-takeover-runs-at-rate.sh
# VIGIL_BINARY picks the binary (default .build/release/vigil, else .build/debug/vigil);
# extra `vigil serve` options go in SERVE_OPTS. Exits 1 if any run lost, doubled or left
# anything, or took over in more than 5 s.
set -u
RUNS=${RUNS:-10}
RATE=${RATE:-5000}
N=${N:-60000}
STEADY=${STEADY:-$((RATE * 12))}
PAUSE=${PAUSE:-6}
KILL_AFTER=${KILL_AFTER:-3}
cd "$(dirname "$0")/.."
V=${VIGIL_BINARY:-.build/release/vigil}
[ -x "$V" ] || V=.build/debug/vigil
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
W=$(mktemp -d "${TMPDIR:-/tmp}/vigil-ha-rate.XXXXXX")
ADMIN_DB=${PGDATABASE:-postgres}
export VIGIL_SCHEMAS=$PWD/Schemas VIGIL_SECRET_KEY=${VIGIL_SECRET_KEY:-$(head -c32 /dev/urandom | base64)}
A= B= S=
cleanup() {
    for p in $S $A $B; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = 200 ]; }
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" != 000 ]; }
sql() { "$PSQL" -XAtq -c "$1"; }
admin() { PGDATABASE=$ADMIN_DB PGOPTIONS="-c client_min_messages=warning" "$PSQL" -XAtq -c "$1"; }
now() { date +%s.%N; }
# waitfor SECONDS INTERVAL COMMAND...: polls until COMMAND succeeds; fails after SECONDS.
waitfor() {
    local end=$(($(date +%s) + $1)) interval=$2
    shift 2
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "gave up waiting for: $*" >&2; return 1; }
        sleep "$interval"
    done
}
no_pending() { [ "$(sql "SELECT count(*) FROM pending_evaluations")" = 0 ]; }
echo "vigil: $V; $RUNS runs; $N preloaded, then $STEADY at $RATE/s, the leader killed ${KILL_AFTER} s in; $(nproc) cores"
"$V" feed generate --count $((N + STEADY)) --seed 5 --out "$W/feed.ndjson" >/dev/null
head -n "$N" "$W/feed.ndjson" >"$W/first.ndjson"
tail -n "$STEADY" "$W/feed.ndjson" >"$W/steady.ndjson"
TOTAL=$((N + STEADY))
takeovers=() firsts=() loads=() failed=0
for run in $(seq 1 "$RUNS"); do
    db="vigil_ha_rate_$run"
    admin "DROP DATABASE IF EXISTS $db" && admin "CREATE DATABASE $db" || exit 1
    export PGDATABASE=$db
    "$V" migrate >/dev/null && "$V" feed seed "$W/feed.ndjson.reference.json" >/dev/null || exit 1
    # shellcheck disable=SC2086
    "$V" serve --ha --ha-node rate-a --feed-host 127.0.0.1 --feed-port 17400 --ops-port 17401 ${SERVE_OPTS:-} >"$W/a.log" 2>&1 &
    A=$!
    disown "$A"  # killed on purpose: no "Killed" line from the shell
    waitfor 120 0.1 ready 17401 || exit 1
    # shellcheck disable=SC2086
    "$V" serve --ha --ha-node rate-b --feed-host 127.0.0.1 --feed-port 17402 --ops-port 17403 ${SERVE_OPTS:-} >"$W/b.log" 2>&1 &
    B=$!
    waitfor 120 0.1 answers 17403 || exit 1
    p0=$(now)
    "$V" feed send "$W/first.ndjson" --host 127.0.0.1:17400 --json >"$W/first.json" 2>&1
    p1=$(now)
    sleep "$PAUSE"
    "$V" feed send "$W/steady.ndjson" --host 127.0.0.1:17400,127.0.0.1:17402 --rate "$RATE" --json >"$W/send.json" 2>"$W/send.err" &
    S=$!
    s0=$(now)
    sleep "$KILL_AFTER"
    kill -9 "$A"
    t0=$(now)
    load=$(cut -d' ' -f1 /proc/loadavg)
    stored_at_kill=$(sql "SELECT count(*) FROM transactions")
    waitfor 60 0.02 ready 17403 || exit 1
    t1=$(now)
    wait "$S"
    sent_status=$?
    S=
    A=
    # The earliest first reply from the node moved to, after the kill: the new leader's first ack.
    first=$(grep -o 'first reply after moving at unix time [0-9.]*' "$W/send.err" | awk -v t0="$t0" '$NF > t0 { print $NF }' | sort -n | head -1)
    takeover=$(echo "$t1 - $t0" | bc)
    first_ack=$([ -n "$first" ] && echo "$first - $t0" | bc || echo "?")
    offered=$(echo "($t0 - $s0) * $RATE" | bc | cut -d. -f1)
    waitfor 20 0.2 no_pending  # a fallback answer's evaluation commits after its ack
    stored=$(sql "SELECT count(*) FROM transactions")
    twice=$(sql "SELECT count(*) - count(DISTINCT id) FROM transactions")
    alerts2=$(sql "SELECT count(*) FROM (SELECT transaction_id FROM alerts GROUP BY 1 HAVING count(*) > 1) d")
    pending=$(sql "SELECT count(*) FROM pending_evaluations")
    send=$(tail -1 "$W/send.json")
    acked=$(echo "$send" | grep -o '"acked":[0-9]*' | cut -d: -f2)
    dups=$(echo "$send" | grep -o '"duplicates":[0-9]*' | cut -d: -f2)
    secs=$(echo "$send" | grep -o '"seconds":[0-9.]*' | cut -d: -f2)
    # The catch-up at the takeover (metadata comes before the message in the log line).
    warm=$(grep 'took over with warm detection state' "$W/b.log" | grep -oE '(applied|took)=[^ ]+( seconds)?' | tr '\n' ' ' | sed 's/ $//')
    ok=yes
    [ "$sent_status" = 0 ] && [ "${acked:-0}" = "$STEADY" ] && [ "$stored" = "$TOTAL" ] && [ "$twice" = 0 ] &&
        [ "$alerts2" = 0 ] && [ "$pending" = 0 ] || ok=no
    [ "$(echo "$takeover > 5" | bc)" = 1 ] && ok=no
    [ "$ok" = yes ] || failed=$((failed + 1))
    printf 'run %d: takeover %.2f s, first ack from the new leader %s s; preload %d/s; at the kill %d stored of %d preloaded + %d offered (load %s); steady send: acked %s of %d (%s duplicates) in %s s; stored %d of %d, twice %d, transactions with two alerts %d, pending %d; %s; ok %s\n' \
        "$run" "$takeover" "$(printf '%.2f' "$first_ack" 2>/dev/null || echo "$first_ack")" \
        "$(echo "$N / ($p1 - $p0)" | bc)" "$stored_at_kill" "$N" "$offered" "$load" \
        "${acked:-?}" "$STEADY" "${dups:-?}" "$(printf '%.1f' "${secs:-0}")" "$stored" "$TOTAL" "$twice" "$alerts2" "$pending" \
        "catch-up at the takeover: ${warm:-no warm takeover line}" "$ok"
    [ "$ok" = yes ] || { echo "--- send.err"; tail -5 "$W/send.err"; echo "--- b.log"; tail -5 "$W/b.log"; } >&2
    takeovers+=("$takeover")
    [ -n "$first" ] && firsts+=("$first_ack")
    loads+=("$load")
    kill "$B"
    wait "$B" 2>/dev/null
    B=
    admin "DROP DATABASE IF EXISTS $db"
done
summary() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1; sum += $1 }
        END { if (NR == 0) { print "none"; exit }
              m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%d runs: min %.2f s, median %.2f s, max %.2f s, mean %.2f s\n", NR, v[1], m, v[NR], sum / NR }'
}
echo "kill to the standby's /readyz 200: $(summary "${takeovers[@]}")"
echo "kill to the new leader's first ack: $(summary "${firsts[@]}")"
echo "1-minute load average at each kill: ${loads[*]}; now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs that lost, doubled or left anything, or took over in more than 5 s: $failed"
[ "$failed" = 0 ]
