#!/usr/bin/env bash
# Two `vigil feed bench` clients alternately against one server on one database, at an open-loop
# rate: acks/s, latency and the client's own CPU (user+sys from /usr/bin/time) per record.
# Usage: scripts/with-postgres.sh scripts/bench-client-ab.sh SERVER_BIN CLIENT_A CLIENT_B ROUNDS RATE SECONDS
# Subtract the CPU of a run at --rate 10 (start-up, generator set-up) before dividing.
set -euo pipefail
S=$1; A=$2; B=$3; ROUNDS=$4; RATE=$5; DUR=$6
OUT=/tmp/clientab; rm -rf $OUT; mkdir -p $OUT
START="$(date -u -d "$(date -u +%F) - 60 days" +%FT00:00:00Z)"
GEN=(--seed 7 --accounts 200000 --start "$START")
"$S" migrate >/dev/null
"$S" feed bench "${GEN[@]}" --write-reference $OUT/ref.json >/dev/null
"$S" feed seed $OUT/ref.json >/dev/null
"$S" serve --feed-host 127.0.0.1 --feed-port 17400 --ops-host 127.0.0.1 --ops-port 17401 --rules "$(dirname "$0")/../Rules" --log-level warning > $OUT/serve.log 2>&1 &
SP=$!
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:17401/readyz >/dev/null 2>&1 && break; sleep 0.2; done
i=0
for r in $(seq 1 $ROUNDS); do
  for which in A B; do
    i=$((i+1)); bin=$A; [ $which = B ] && bin=$B
    /usr/bin/time -f "%U %S %e" -o $OUT/time.$i "$bin" feed bench --host 127.0.0.1 --port 17400 "${GEN[@]}" --time-offset-hours $((i*48)) --rate $RATE --connections 10 --duration $DUR --warmup 2 --json > $OUT/res.$i 2>$OUT/err.$i || true
    python3 - "$which" $OUT/res.$i $OUT/time.$i "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json,sys
w,res,tm,load=sys.argv[1:5]
r=json.loads(open(res).read())
u,s,e=map(float,open(tm).read().split()[-3:])
sent=r.get("sent") or r.get("records_sent") or 0
print(f"{w}: acks/s {r['throughput_per_s']:.0f} p50 {r['latency_us']['p50']/1000:.1f} ms p99 {r['latency_us']['p99']/1000:.1f} ms p99.9 {r['latency_us'].get('p99.9',r['latency_us'].get('p999',0))/1000:.1f} ms  client cpu {u+s:.2f}s ({(u+s)/max(1,sent)*1e6 if sent else float('nan'):.1f} us/rec, sent {sent})  load {load}")
PY
  done
done
kill -TERM $SP; wait $SP || true
