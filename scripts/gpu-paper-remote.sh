#!/usr/bin/env bash
# Visit two on the lent GPU machine, from the repository root (prepared by scripts/gpu-check.sh,
# which carried artifacts/gpu-check: the packed `flover` publish and a .NET runtime with ASP.NET).
# The paper's experiment on the device: fused vs dynamic batching vs concurrent instances (each on a
# CUDA stream and a host thread of its own over one upload of the weights; one instance per request,
# as FasterTransformer's concurrent instances in the paper) on the gptj-6b preset (GPT-J-6B's size, F16 weights), 32 requests of 64
# output tokens after 32-token prompts:
#   - Poisson arrivals, mean 20 ms apart (the paper's Fig. 8 / the "11x" setting);
#   - the paper's constant-gap sweep (500, 2500, 5000 ms for 512-token outputs) scaled to 64 tokens
#     (x 64/512: 62.5, 312.5, 625 ms), so each gap overlaps requests as much as the paper's did and
#     the whole visit fits in 6 minutes.
# Every bench checks that all schedulers gave every request the same tokens. Writes one folder per
# pattern under $OUT/gpu-paper-*/ (results.json, summary.md, charts) and paper.log; exits non-zero
# if any run failed or timed out. DEVICE and PRESET (defaults cuda, gptj-6b) exist for a dry run of
# the script itself elsewhere, e.g. DEVICE=cpu PRESET=tiny.
set -uo pipefail
DEVICE=${DEVICE:-cuda}
PRESET=${PRESET:-gptj-6b}
source scripts/gpu-remote-setup.sh gpu-paper
echo "device $DEVICE, preset $PRESET" > "$RESULTS/paper.log"

FAILED=0
run() { # name timeout_s bench-args...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit} s; $(( $(date +%s) - START )) s into the visit)" | tee -a "$RESULTS/paper.log"
  timeout "$limit" dotnet "$FLOVER" bench --device "$DEVICE" --preset "$PRESET" --set flover.engine.weight-dtype=f16 \
      --schedulers fused,dynamic,instances --set flover.scheduler.instances.count=per-request --requests 32 --prompt-len 32 --output-len 64 --seeds 1 \
      --out "$RESULTS/$name" "$@" 2>&1 | tail -25 | tee -a "$RESULTS/paper.log"
  local rc=${PIPESTATUS[0]}
  echo "$name exit $rc" | tee -a "$RESULTS/paper.log"
  [ "$rc" -eq 0 ] || FAILED=1
}

run poisson-20ms 110 --arrival poisson --interval-ms 20
run constant-62.5ms 50 --arrival constant --interval-ms 62.5
run constant-312.5ms 75 --arrival constant --interval-ms 312.5
run constant-625ms 95 --arrival constant --interval-ms 625

echo "gpu paper visit: failed=$FAILED; $(( $(date +%s) - START )) s on the device" | tee -a "$RESULTS/paper.log"
exit "$FAILED"
