#!/usr/bin/env bash
# Two server builds, A and B, alternately under the same load: each on its own database
# (created, migrated and seeded by that binary, which is also its own load generator), so
# an A/B of a change shares the machine's drift. Per round and binary: closed loop
# (`--max`, 8 connections) and open loop at a fixed rate (10 connections).
#
#   scripts/with-postgres.sh scripts/bench-server-ab.sh VIGIL_A VIGIL_B [RULES_DIR]
#
# RULES_DIR (default: the repository's Rules/) must compile for both binaries: for an old
# build, its own commit's rules (git worktree or `git archive`).
# AB_ROUNDS (3), AB_MAX_SECONDS (20), AB_RATE (5000), AB_RATE_SECONDS (20). Prints one line
# per run (rates, latency, server and PostgreSQL CPU and the server's context switches per
# record) and writes the JSON of each under $BENCH_OUT (a temporary folder by default).
set -euo pipefail

A="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
B="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Each binary runs from its own checkout: an older vigil reads its migrations from
# ./Schemas, and today's migrations under an older binary leave it writing against a
# schema it does not know (a release of 8e7834a refused every alert's outbox row that way).
home_of() {
    local dir; dir="$(dirname "$1")"
    while [ "$dir" != / ] && [ ! -f "$dir/Package.swift" ]; do dir="$(dirname "$dir")"; done
    [ -f "$dir/Package.swift" ] || { echo "bench-server-ab: no checkout (Package.swift) above $1" >&2; exit 1; }
    echo "$dir"
}
HOME_A="$(home_of "$A")"; HOME_B="$(home_of "$B")"
RULES="${3:-$ROOT/Rules}"
ROUNDS="${AB_ROUNDS:-3}"; MAX_SECONDS="${AB_MAX_SECONDS:-20}"; RATE="${AB_RATE:-5000}"; RATE_SECONDS="${AB_RATE_SECONDS:-20}"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-server-ab.XXXXXX")}"
mkdir -p "$OUT"
START="$(date -u -d "$(date -u +%F) - 60 days" +%FT00:00:00Z)"
GEN=(--seed 7 --accounts 200000 --start "$START")
FEED_PORT=17450; OPS_PORT=17451
SERVER=""
# User + system CPU ticks of a process so far (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ... and of all PostgreSQL's processes (those alive at both ends of a run count fully).
pg_ticks() { local t=0 p; for p in $(pgrep -x postgres); do t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }
# Context switches of all the server's threads so far (voluntary ones are mostly a thread
# going to sleep for want of work: a hop between stages that found its consumer idle).
# PostgreSQL's own checkpoints so far (timed and requested): one that falls inside a run
# writes out its dirty buffers beside the batches.
pg_checkpoints() { psql -d postgres -Atc "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter" 2>/dev/null || echo 0; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'; }
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true' EXIT

for which in A B; do
    bin=$A; home=$HOME_A; [ "$which" = B ] && bin=$B && home=$HOME_B
    createdb "vigil_ab_$which"
    (cd "$home" && PGDATABASE="vigil_ab_$which" "$bin" migrate >/dev/null)
    (cd "$home" && PGDATABASE="vigil_ab_$which" "$bin" feed bench "${GEN[@]}" --write-reference "$OUT/reference-$which.json" >/dev/null)
    (cd "$home" && PGDATABASE="vigil_ab_$which" "$bin" feed seed "$OUT/reference-$which.json" >/dev/null)
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load before $(cut -d' ' -f1-3 /proc/loadavg)"

run=0
for round in $(seq 1 "$ROUNDS"); do
    for which in A B; do
        bin=$A; home=$HOME_A; [ "$which" = B ] && bin=$B && home=$HOME_B
        (cd "$home" && PGDATABASE="vigil_ab_$which" exec "$bin" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --ops-host 127.0.0.1 \
            --ops-port "$OPS_PORT" --rules "$RULES" --log-level warning >>"$OUT/serve-$which.log" 2>&1) &
        SERVER=$!
        for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
        if ! curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1; then
            echo "bench-server-ab: $bin did not become ready; the end of its log:" >&2; tail -20 "$OUT/serve-$which.log" >&2; exit 1
        fi
        for mode in max rate; do
            run=$((run + 1))
            if [ "$mode" = max ]; then args=(--max --connections 8 --duration "$MAX_SECONDS"); else args=(--rate "$RATE" --connections 10 --duration "$RATE_SECONDS"); fi
            cpu_before="$(cpu_ticks "$SERVER")"; pg_before="$(pg_ticks)"; cs_before="$(switches "$SERVER")"; ck_before="$(pg_checkpoints)"
            "$bin" feed bench --host 127.0.0.1 --port "$FEED_PORT" "${GEN[@]}" --run-id "ab$run" --time-offset-hours $((run * 48)) \
                --warmup 2 --json "${args[@]}" >"$OUT/$which-$round-$mode.json"
            cpu_after="$(cpu_ticks "$SERVER")"; pg_after="$(pg_ticks)"; cs_after="$(switches "$SERVER")"; ck_after="$(pg_checkpoints)"
            python3 - "$OUT/$which-$round-$mode.json" "$which" "$round" "$mode" "$(cut -d' ' -f1 /proc/loadavg)" \
                "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" "$((pg_after - pg_before))" "$((cs_after - cs_before))" "$((ck_after - ck_before))" <<'PY'
import json, sys
path, which, rnd, mode, load, ticks, hz, pg, cs, ck = sys.argv[1:11]
r = json.load(open(path))
lat = r["latency_us"]
# Server CPU (user + system) over the whole run, warm-up included, per record sent: less
# sensitive to a shared machine's drift than the rate (a busy neighbour slows the run but
# adds little CPU to it).
cpu_us = int(ticks) / int(hz) * 1e6 / max(1, r["sent"])
pg_us = int(pg) / int(hz) * 1e6 / max(1, r["sent"])
cs_per = int(cs) / max(1, r["sent"])
print(f"round {rnd} {which} {mode:>4}: {r['throughput_per_s']:>9,.0f} acks/s  p50 {lat['p50'] / 1000:8.1f} ms"
      f"  p99 {lat['p99'] / 1000:8.1f} ms  p99.9 {lat['p99.9'] / 1000:8.1f} ms  server {cpu_us:5.1f} µs/record  postgres {pg_us:5.1f} µs/record  {cs_per:4.1f} switches/record  pg checkpoints {ck}"
      f"  nacked {r['nacked']}  unanswered {r['unanswered']}  load {load}")
PY
        done
        kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $OUT"
