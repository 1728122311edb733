#!/usr/bin/env bash
# End-to-end benchmark (the Makefile's bench target), run inside a throwaway PostgreSQL
# (scripts/with-postgres.sh): migrates, seeds, measures psql's own \copy rate for the same
# rows, then drives `vigil serve` with `vigil feed bench` sweeps while sampling the server's
# RSS, and writes docs/benchmarks.md (generated sections) and its plots.
#
#   scripts/with-postgres.sh scripts/bench.sh path/to/vigil
#
# BENCH_QUICK=1 shortens every run (for trying the script, not for publishing figures).
# BENCH_OUT=dir keeps the raw JSON there (default: a temporary directory).
set -euo pipefail

VIGIL="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench.XXXXXX")}"
mkdir -p "$OUT"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
FEED_PORT="${BENCH_FEED_PORT:-17400}"
OPS_PORT="${BENCH_OPS_PORT:-17401}"
SEED=42

if [ "${BENCH_QUICK:-0}" = "1" ]; then
    D_SWEEP=3; D_RATE=3; D_SUSTAINED=10; D_OVERLOAD=6; D_RULES=3; WARMUP=1; COPY_ROWS=100000; IDLE=2000
    CONNECTIONS="1 4 16"; RATES="1000 5000 20000"; RULE_COUNTS="100"
else
    D_SWEEP=8; D_RATE=10; D_SUSTAINED=60; D_OVERLOAD=20; D_RULES=8; WARMUP=2; COPY_ROWS=1000000; IDLE=10000
    CONNECTIONS="1 2 4 8 16"; RATES="1000 2500 5000 10000 20000"; RULE_COUNTS="100 1000"
fi

# 10,000 idle connections need that many descriptors in the server and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The server admits at most limit - 128 - limit/10 feed connections (--max-connections default).
if [ "$(ulimit -n)" != "unlimited" ] && [ "$(ulimit -n)" -lt $((IDLE + 500)) ]; then
    IDLE=$(( $(ulimit -n) - 500 ))
fi
if [ "$(ulimit -n)" != "unlimited" ] && [ $(( $(ulimit -n) - 128 - $(ulimit -n) / 10 - 16 )) -lt "$IDLE" ]; then
    IDLE=$(( $(ulimit -n) - 128 - $(ulimit -n) / 10 - 16 ))
fi
[ "$IDLE" -lt 10000 ] && echo "bench: open-file limit $(ulimit -n): idle-connection test lowered to $IDLE connections" >&2

now_ms() { date +%s%3N; }
log() { echo "== $(date +%H:%M:%S) $*" >&2; }

# The plots (scripts/plot_bench.py) need matplotlib: check before ten minutes of runs, not after.
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    log "python3 cannot import matplotlib (the plots need it): installing it with pip"
    python3 -m pip install --quiet matplotlib >/dev/null 2>&1 \
        || python3 -m pip install --quiet --user --break-system-packages matplotlib >/dev/null 2>&1 \
        || { echo "bench: python3 cannot import matplotlib; install it (pip install matplotlib, or apt-get install python3-matplotlib) and re-run" >&2; exit 1; }
fi

# Everything about a run is derived from one start time, so the seeded reference data and
# every generated stream agree (accounts, their opening dates, bust-out accounts).
START="$(date -u -d "$(date -u +%F) - 60 days" +%FT00:00:00Z)"
GEN=(--seed "$SEED" --accounts 200000 --start "$START")

# --- the machine -------------------------------------------------------------------------
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
python3 - "$OUT/machine.json" <<EOF
import json, sys
json.dump({
    "nproc": int("$(nproc)"), "cpu": """$cpu""",
    "memory_gib": round(int("$(grep MemTotal /proc/meminfo | awk '{print $2}')") / 1048576, 1),
    "postgres": """$(psql -XAtc 'show server_version')""",
    "swift": """$(swift --version 2>/dev/null | head -1)""",
    "commit": "${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}",
    "date": "$(date -u +%FT%TZ)", "load_before": """$(cut -d' ' -f1-3 /proc/loadavg)""",
    "quick": "${BENCH_QUICK:-0}" == "1",
}, open(sys.argv[1], "w"))
EOF

# --- the database as a running one would be -----------------------------------------------
# A throwaway cluster has no WAL segments to recycle, so it creates and zero-fills a 16 MB
# segment every few seconds under load while a commit waits (60-140 ms ack bursts at
# 5,000/s; docs/benchmarks.md, "Ack latency with decisions"). A production database that
# has run through a few checkpoints recycles its segments instead. BENCH_WAL_INIT_ZERO=on
# measures the fresh cluster as it is.
if [ "${BENCH_WAL_INIT_ZERO:-off}" = "off" ]; then
    psql -X -q -c "ALTER SYSTEM SET wal_init_zero = off" -c "SELECT pg_reload_conf()" >/dev/null
fi
log "wal_init_zero: $(psql -XAt -c 'SHOW wal_init_zero')"

# --- schema and reference data -----------------------------------------------------------
log "migrating and seeding"
"$VIGIL" migrate >/dev/null
"$VIGIL" feed bench "${GEN[@]}" --write-reference "$OUT/reference.json" >/dev/null
"$VIGIL" feed seed "$OUT/reference.json"

# --- PostgreSQL's own \copy rate for the same rows, same tables, fresh schema ------------
log "\\copy baseline: $COPY_ROWS rows"
"$VIGIL" feed bench "${GEN[@]}" --run-id copy --copy-file "$OUT/rows.copy" --copy-rows "$COPY_ROWS" >/dev/null
# The columns `feed bench --copy-file` writes: the writer's COPY (PostgresConnection+Ingest.swift) but its arrival.
COLUMNS_LIST="id, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip, latitude, longitude, event_time, raw, content_digest, feed_session, decision, decision_score, decision_rules, decision_ruleset, decision_degraded"
createdb vigil_copy_baseline
PGDATABASE=vigil_copy_baseline "$VIGIL" migrate >/dev/null
t0=$(now_ms)
PGDATABASE=vigil_copy_baseline psql -X -q -v ON_ERROR_STOP=1 -c "\\copy transactions ($COLUMNS_LIST) FROM '$OUT/rows.copy'"
t1=$(now_ms)
echo "{\"rows\": $COPY_ROWS, \"ms\": $((t1 - t0)), \"bytes\": $(stat -c %s "$OUT/rows.copy")}" >"$OUT/copy_baseline.json"
log "\\copy: $COPY_ROWS rows in $((t1 - t0)) ms"
dropdb vigil_copy_baseline
rm -f "$OUT/rows.copy"

# --- the server and its memory -----------------------------------------------------------
SERVER_PID=""
SAMPLER_PID=""
start_server() { # $1: rules folder, then more serve options
    local rules="$1"; shift
    "$VIGIL" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --ops-host 127.0.0.1 --ops-port "$OPS_PORT" \
        --rules "$rules" --log-level warning "$@" >>"$OUT/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 150); do
        curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: vigil serve exited; see $OUT/serve.log" >&2; tail -20 "$OUT/serve.log" >&2; exit 1; }
        sleep 0.2
    done
    ( while kill -0 "$SERVER_PID" 2>/dev/null; do
          rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
          [ -n "$rss" ] && echo "$(now_ms) $rss"
          sleep 0.25
      done ) >>"$OUT/rss.txt" &
    SAMPLER_PID=$!
}
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }

# One `vigil feed bench` run, appended to runs.jsonl with its time span (for RSS).
# Each run moves a day later in event time: the same stream at the same times again
# would be a replay burst to the velocity windows, not a realistic feed.
RUN_INDEX=0
bench() { # group param args...
    local group="$1" param="$2"; shift 2
    local s e result
    RUN_INDEX=$((RUN_INDEX + 1))
    s=$(now_ms)
    if result=$("$VIGIL" feed bench --host 127.0.0.1 --port "$FEED_PORT" "${GEN[@]}" --time-offset-hours $((RUN_INDEX * 48)) --warmup "$WARMUP" --json "$@"); then :; else
        result=${result:-null}
    fi
    e=$(now_ms)
    echo "{\"group\":\"$group\",\"param\":$param,\"start_ms\":$s,\"end_ms\":$e,\"result\":${result:-null}}" >>"$RUNS"
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("   %s=%s: %d acks/s, p99 %.1f ms, nacked %d, unanswered %d" % (sys.argv[2], sys.argv[3], r["throughput_per_s"], r["latency_us"]["p99"]/1000, r["nacked"], r["unanswered"]))' "${result:-null}" "$group" "$param" >&2 || true
}

log "starting vigil serve (starter rules)"
start_server Rules
sleep 2
echo "{\"idle_server_rss_kb\": $(rss_kb)}" >"$OUT/server_idle.json"

# The latency sweep runs first: after the closed-loop runs every account's profile is
# waiting to be checkpointed, and that catch-up (writing ~200,000 wide rows over the next
# --profile-checkpoint-seconds) is not what a feed at a steady 5,000/s costs.
log "latency vs offered rate (10 connections, ${D_RATE}s each)"
for r in $RATES; do bench rate "$r" --rate "$r" --connections 10 --duration "$D_RATE"; done

log "throughput vs connections (--max, ${D_SWEEP}s each)"
for c in $CONNECTIONS; do bench connections "$c" --max --connections "$c" --duration "$D_SWEEP"; done

log "sustained --max for ${D_SUSTAINED}s (8 connections)"
bench sustained 8 --max --connections 8 --duration "$D_SUSTAINED"

log "overload: 200,000 tx/s offered for ${D_OVERLOAD}s (open loop, 8 connections)"
bench overload 200000 --rate 200000 --connections 8 --duration "$D_OVERLOAD" --drain 20

log "idle connections: $IDLE"
sleep 3
before=$(rss_kb)
"$VIGIL" feed bench --host 127.0.0.1 --port "$FEED_PORT" --idle "$IDLE" --duration 12 --json >"$OUT/idle.out" &
IDLE_PID=$!
for _ in $(seq 1 240); do grep -q holding "$OUT/idle.out" 2>/dev/null && break; sleep 0.25; done
sleep 3
during=$(rss_kb)
held=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["idle_connections"])' "$OUT/idle.out" 2>/dev/null || echo 0)
wait "$IDLE_PID" || true
sleep 3
after=$(rss_kb)
echo "{\"requested\": $IDLE, \"held\": $held, \"rss_before_kb\": $before, \"rss_during_kb\": $during, \"rss_after_kb\": $after}" >"$OUT/idle.json"
stop_server

# Throughput against rule count: the starter rules plus N generated ones sharing fields and
# windows (same shapes as the RuleEvaluation micro-benchmark).
for n in $RULE_COUNTS; do
    dir="$OUT/rules-$n"
    mkdir -p "$dir"
    cp -R Rules/. "$dir/"
    python3 - "$n" >"$dir/generated.rules" <<'EOF'
import sys
n = int(sys.argv[1])
print('list bench_high_risk = ["KP", "IR", "SY", "CU"]\n')
# Its own window, so a rename in the starter rules cannot stop the generated rules compiling.
print('window bench_cards_per_device_24h = count_distinct card_id by device_id over 24h\n')
shapes = [
    'amount_base > {a}.00 and window.txn_per_account_1h >= {k}',
    '(country ?? "") in bench_high_risk and amount_base > {a}.00',
    'present(profile.avg_amount) and amount_base > {m} * profile.avg_amount and profile.count >= 10',
    'channel == "transfer" and amount_base > {b}.00 and hour_of_day < {h}',
    '(window.small_cnp_per_card_30m ?? 0) >= {k} and amount_base < 5.00 or (window.bench_cards_per_device_24h ?? 0) > {d}',
]
for i in range(n):
    cond = shapes[i % 5].format(a=100 + i, k=3 + i % 7, m=2 + i % 4, b=5000 + i, h=i % 24, d=2 + i % 3)
    print(f'rule bench_r{i} {{\n  when {cond}\n  severity low\n  score {i % 101}\n  mode shadow\n}}\n')
EOF
    if ! "$VIGIL" rules check "$dir" >"$OUT/rules-$n.check" 2>&1; then
        echo "bench: generated ruleset of $n rules does not compile (see $OUT/rules-$n.check); skipped" >&2
        continue
    fi
    log "throughput with starter + $n generated rules (--max, ${D_RULES}s)"
    # The generated rules measure evaluation cost; they have no test cases by design.
    start_server "$dir" --no-require-tests
    bench rules "$n" --max --connections 8 --duration "$D_RULES"
    stop_server
done

echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$OUT/load_after.json"
log "writing docs/benchmarks.md"
python3 scripts/plot_bench.py "$OUT" docs
log "raw results in $OUT"
