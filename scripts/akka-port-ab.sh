#!/usr/bin/env bash
# The Akka port's no-regression check, through the actors: `flover serve` (HTTP, request actor,
# decode loop) replaying the quiet-rerun workload with `flover bench --url`, alternating main
# before the port (A, commit $BASE) and this tree (B) A/B/A/B on the same machine.
# Per run: makespan and mean e2e (medians over the seeds), time from start to the ready line,
# idle RSS after warm-up, and (B only: A has no such metric) the decode loop's overhead from
# serve's metrics: flover_loop_overhead_seconds_total / (that + flover_iteration_seconds_sum).
# Usage: scripts/akka-port-ab.sh [ROUNDS]   (env: BASE=8e1fa4c, B_REF=commit to compare instead of
# this tree, OUT=/tmp/akka-ab, PORT=8123, A_NAME and B_NAME: the table's row names; any other
# change is A/B-tested the same way, e.g. BASE=0588156 A_NAME="KV pool reserved whole" B_NAME="KV memory follows use")
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
BASE=${BASE:-8e1fa4c}
OUT=${OUT:-/tmp/akka-ab}
PORT=${PORT:-8123}
WORKLOAD=(--preset gpt2 --requests 32 --prompt-len 8 --output-len 64 --arrival poisson --interval-ms 20 --seeds 1,2,3)

rm -rf "$OUT" && mkdir -p "$OUT"
git worktree remove --force "$OUT/base-src" 2>/dev/null || true
git worktree add --detach "$OUT/base-src" "$BASE" >/dev/null
dotnet build -c Release "$OUT/base-src/Flover.Host" -o "$OUT/A" -v q -nologo >/dev/null
git worktree remove --force "$OUT/base-src"
if [ -n "${B_REF:-}" ]; then
  git worktree add --detach "$OUT/b-src" "$B_REF" >/dev/null
  dotnet build -c Release "$OUT/b-src/Flover.Host" -o "$OUT/B" -v q -nologo >/dev/null
  git worktree remove --force "$OUT/b-src"
else
  dotnet build -c Release Flover.Host -o "$OUT/B" -v q -nologo >/dev/null
fi
dotnet build-server shutdown >/dev/null 2>&1 || true # no idle compiler servers during the runs

run() { # variant round
  local v=$1 r=$2 dir="$OUT/$1-r$2"
  mkdir -p "$dir"
  local start; start=$(date +%s.%N)
  dotnet "$OUT/$v/flover.dll" serve --preset gpt2 --port "$PORT" --threads 2 >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  until grep -q "ready at" "$dir/serve.out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "serve $v exited early" >&2; cat "$dir/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  local ready; ready=$(date +%s.%N)
  sleep 2 # let the warm-up's garbage settle before reading idle RSS
  local rss; rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  # The same client (B's bench) drives both servers.
  dotnet "$OUT/B/flover.dll" bench --url "http://127.0.0.1:$PORT" "${WORKLOAD[@]}" --out "$dir/bench" --json >"$dir/bench.json"
  curl -s "http://127.0.0.1:$PORT/metrics" >"$dir/metrics.txt"
  # SIGTERM: a background job of a non-interactive shell ignores SIGINT.
  kill -TERM "$pid"; wait "$pid" || true
  python3 - "$dir" "$start" "$ready" "$rss" "$v" "$r" <<'PY'
import json, sys, statistics
d, start, ready, rss, v, r = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
runs = json.load(open(f"{d}/bench/results.json"))["runs"]
mk = statistics.median(x["makespan_s"] for x in runs)
e2e = statistics.median(x["e2e_latency_s"]["mean"] for x in runs)
def metric(name):
    values = [float(l.split()[-1]) for l in open(f"{d}/metrics.txt") if l.startswith(name + " ") or l.startswith(name + "{")]
    return sum(values) if values else None
it, gap = metric("flover_iteration_seconds_sum"), metric("flover_loop_overhead_seconds_total")
row = {"variant": v, "round": int(r), "makespan_s": mk, "mean_e2e_s": e2e, "ready_s": ready - start,
       "idle_rss_mib": rss / 1024, "loop_overhead": None if gap is None or not it else gap / (gap + it)}
print(json.dumps(row))
open(f"{d}/row.json", "w").write(json.dumps(row))
PY
}

for r in $(seq 1 "$ROUNDS"); do
  for v in A B; do run "$v" "$r"; done
done

python3 - "$OUT" <<'PY'
import json, glob, statistics, sys
rows = [json.load(open(p)) for p in sorted(glob.glob(f"{sys.argv[1]}/*-r*/row.json"))]
def col(v, k): return [x[k] for x in rows if x["variant"] == v]
print("| variant | runs | makespan s (median; min-max) | mean e2e s | ready s | idle RSS MiB | loop overhead |")
print("| --- | ---: | --- | --- | ---: | ---: | ---: |")
import os
for v, name in (("A", os.environ.get("A_NAME", "main before the port")), ("B", os.environ.get("B_NAME", "Akka.NET port"))):
    mk, e2e = col(v, "makespan_s"), col(v, "mean_e2e_s")
    overhead = [x for x in col(v, "loop_overhead") if x is not None]
    shown = f"{100*statistics.median(overhead):.2f} %" if overhead else "—"
    print(f"| {name} | {len(mk)} | {statistics.median(mk):.2f} ({min(mk):.2f}-{max(mk):.2f}) | {statistics.median(e2e):.2f} ({min(e2e):.2f}-{max(e2e):.2f}) "
          f"| {statistics.median(col(v, 'ready_s')):.2f} | {statistics.median(col(v, 'idle_rss_mib')):.0f} | {shown} |")
PY
