#!/usr/bin/env bash
# The decode loop's own overhead with its shards in the same process: `flover serve` (one shard,
# or --tensor-parallel N) replaying a Poisson workload with `flover bench --url`; then, from
# serve's metrics,
# flover_loop_overhead_seconds_total (everything but the shards' computing: planning, sampling,
# the hops to the shards and back, steps waiting behind other messages) over
# flover_iteration_seconds_sum (plan to completion of every step).
# Usage: scripts/loop-overhead.sh [TP]   (env: OUT=/tmp/loop-overhead, PORT=8124, PRESET=gpt2)
set -euo pipefail
cd "$(dirname "$0")/.."
TP=${1:-1}
OUT=${OUT:-/tmp/loop-overhead}
PORT=${PORT:-8124}
PRESET=${PRESET:-gpt2}
rm -rf "$OUT" && mkdir -p "$OUT"
dotnet build -c Release Flover.Host -o "$OUT/bin" -v q -nologo >/dev/null
dotnet build-server shutdown >/dev/null 2>&1 || true
dotnet "$OUT/bin/flover.dll" serve --preset "$PRESET" --port "$PORT" --threads 2 --tensor-parallel "$TP" >"$OUT/serve.out" 2>"$OUT/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until grep -q "ready at" "$OUT/serve.out" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$OUT/serve.err" >&2; exit 1; }
  sleep 0.1
done
dotnet "$OUT/bin/flover.dll" bench --url "http://127.0.0.1:$PORT" --preset "$PRESET" --requests 32 --prompt-len 8 --output-len 64 \
  --arrival poisson --interval-ms 20 --seeds 1 --out "$OUT/bench" >"$OUT/bench.out" 2>&1
curl -s "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics.txt"
python3 - "$OUT/metrics.txt" <<'PY'
import sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or " " not in line: continue
    k, v = line.rsplit(" ", 1); m[k] = float(v)
it, over = m["flover_iteration_seconds_sum"], m["flover_loop_overhead_seconds_total"]
n = m["flover_iteration_seconds_count"]
print(f"iterations {n:.0f}, iteration time {it:.2f} s (mean {1000*it/n:.2f} ms), loop overhead {over:.3f} s = {100*over/it:.2f} % of the iterations' time")
PY
