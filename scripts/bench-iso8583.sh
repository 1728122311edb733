#!/usr/bin/env bash
# ISO 8583 against NDJSON in the same run (issue 22's target: ISO 8583 throughput within
# 15% of the feed's, p99 at 5,000 tx/s as on the feed). One `vigil serve` with both
# listeners, inside a throwaway PostgreSQL; rounds alternate the two formats so that drift
# on a shared machine hits both alike.
#
#   scripts/with-postgres.sh scripts/bench-iso8583.sh path/to/vigil   (release build)
#
# ISO_ROUNDS (4), ISO_DURATION (8 s), ISO_CONNECTIONS (4), ISO_RATE (5000) tune it.
set -euo pipefail

VIGIL="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-iso-bench.XXXXXX")}"
mkdir -p "$OUT"
FEED_PORT=17500; ISO_PORT=17502; OPS_PORT=17501
ROUNDS="${ISO_ROUNDS:-4}"; DURATION="${ISO_DURATION:-8}"; CONNECTIONS="${ISO_CONNECTIONS:-4}"; RATE="${ISO_RATE:-5000}"
START="$(date -u -d "$(date -u +%F) - 60 days" +%FT00:00:00Z)"
GEN=(--seed 42 --accounts 200000 --start "$START")

"$VIGIL" migrate >/dev/null
"$VIGIL" feed bench "${GEN[@]}" --write-reference "$OUT/reference.json" >/dev/null
"$VIGIL" feed seed "$OUT/reference.json" >/dev/null
"$VIGIL" serve --feed-host 127.0.0.1 --feed-port "$FEED_PORT" --iso8583-port "$ISO_PORT" --ops-host 127.0.0.1 \
    --ops-port "$OPS_PORT" --rules Rules --log-level warning >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$OUT/serve.log" >&2; exit 1; }
    sleep 0.2
done

# CPU ticks (user + system) of a process, and of all PostgreSQL's processes together.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() { local t=0 p; for p in $(pgrep -x postgres); do t=$((t + $(ticks "$p"))); done; echo "$t"; }
offset=0
run() { # $1 format, $2 port, $3 label, rest: mode options
    local format="$1" port="$2" label="$3"; shift 3
    offset=$((offset + 6))
    local server_before pg_before server_after pg_after
    server_before="$(ticks "$SERVER_PID")"; pg_before="$(pg_ticks)"
    # The client runs under Python so that its own CPU time (RUSAGE_CHILDREN) is counted;
    # its errors go to $label.client, shown when it fails.
    if python3 - "$VIGIL" feed bench "${GEN[@]}" --port "$port" --format "$format" --connections "$CONNECTIONS" --duration "$DURATION" \
        --warmup 2 --drain 10 --time-offset-hours "$offset" --run-id "$label" --json "$@" >"$OUT/$label.json" 2>"$OUT/$label.client" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime, file=sys.stderr)
PY
    then :; else tail -20 "$OUT/$label.client" >&2; exit 1; fi
    server_after="$(ticks "$SERVER_PID")"; pg_after="$(pg_ticks)"
    python3 - "$OUT/$label.json" "$format" "$label" "$((server_after - server_before))" "$((pg_after - pg_before))" \
        "$(tail -1 "$OUT/$label.client")" "$(getconf CLK_TCK)" >>"$OUT/runs.jsonl" <<'PY'
import json, sys
path, fmt, label, server, pg, client, hz = sys.argv[1:8]
r = json.load(open(path))
r["format"], r["label"] = fmt, label
# CPU per record sent (warm-up included): a shared machine's drift moves it much less than
# the rate. PostgreSQL's figure counts only its processes alive at both ends of the run.
per = 1e6 / max(1, r["sent"])
r["cpu_us_per_record"] = {"server": int(server) / int(hz) * per, "postgres": int(pg) / int(hz) * per, "client": float(client) * per}
print(json.dumps(r))
PY
}
# PostgreSQL's CPU a row grows as the tables do through the run (about double from the
# first run to the fourth), so whichever format runs second in a pair pays more: odd rounds
# run NDJSON first, even rounds ISO 8583 first. Use an even ISO_ROUNDS.
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
        run ndjson "$FEED_PORT" "n-max-$round" --max
        run iso8583 "$ISO_PORT" "i-max-$round" --max
        run iso8583 "$ISO_PORT" "i-rate-$round" --rate "$RATE"
        run ndjson "$FEED_PORT" "n-rate-$round" --rate "$RATE"
    else
        run iso8583 "$ISO_PORT" "i-max-$round" --max
        run ndjson "$FEED_PORT" "n-max-$round" --max
        run ndjson "$FEED_PORT" "n-rate-$round" --rate "$RATE"
        run iso8583 "$ISO_PORT" "i-rate-$round" --rate "$RATE"
    fi
done
python3 - "$OUT/runs.jsonl" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
def pick(fmt, mode): return [r for r in runs if r["format"] == fmt and r["label"].split("-")[1] == mode]
for mode in ("max", "rate"):
    n, i = pick("ndjson", mode), pick("iso8583", mode)
    print(f"{mode}: ndjson throughput {[round(r['throughput_per_s']) for r in n]}/s, iso8583 {[round(r['throughput_per_s']) for r in i]}/s")
    print(f"{mode}: ndjson p99 {[r['latency_us']['p99'] for r in n]} us, iso8583 p99 {[r['latency_us']['p99'] for r in i]} us")
    ratios = [b["throughput_per_s"] / a["throughput_per_s"] for a, b in zip(n, i) if a["throughput_per_s"]]
    print(f"{mode}: iso8583/ndjson throughput per round {[round(x, 3) for x in ratios]}")
    for who in ("server", "postgres", "client"):
        cn = [r["cpu_us_per_record"][who] for r in n]; ci = [r["cpu_us_per_record"][who] for r in i]
        print(f"{mode}: {who} CPU µs/record ndjson {[round(x, 1) for x in cn]}, iso8583 {[round(x, 1) for x in ci]},"
              f" iso/ndjson {round(sum(ci) / sum(cn), 3) if sum(cn) else '-'}")
    nacks = [r.get("nacks_by_code") for r in i]
    print(f"{mode}: iso8583 nacks {nacks}")
PY
echo "raw runs: $OUT/runs.jsonl" >&2
