#!/usr/bin/env bash
# Visit one on the lent GPU machine, from the repository root (prepared by scripts/gpu-check.sh, which
# carried artifacts/gpu-check: the packed Flover.GpuCheck and flover, and a .NET runtime tarball):
# the GPU check (kernels, models, sampling, fast GEMM, gpt2-shaped decode timing), bench-decode of the
# gptj-6b preset (BF16, generated on the device) in both GEMM modes at batch 1, 32, 128, and the
# PyTorch CUDA-graph peer; every part under its own timeout, 6 minutes at most in all.
# Writes one results folder under $OUT; exits non-zero if any check failed. No GPU is a failure.
# Arguments go to Flover.GpuCheck: `bash scripts/gpu-check-remote.sh --only fast-gemm` runs only the
# fast GEMM mode's checks and its decode timing beside the batch-invariant one (a short visit; the
# PyTorch peer is skipped whenever arguments are given).
set -uo pipefail
source scripts/gpu-remote-setup.sh gpu-check

echo "== Flover GPU check (cuda)"
timeout 180 dotnet "$CHECK" --device cuda --bench --out "$RESULTS" "$@" 2>&1 | tee "$RESULTS/gpu-check.log"
RC=${PIPESTATUS[0]}

if [ $# -gt 0 ]; then
    echo "gpu check exit $RC; $(( $(date +%s) - START )) s on the device (arguments given: no PyTorch peer)" | tee -a "$RESULTS/gpu-check.log"
    exit "$RC"
fi

for mode in on off; do
    echo "== bench-decode gptj-6b BF16, batch-invariant = $mode, batch 1,32,128"
    timeout 45 dotnet "$FLOVER" bench-decode --device cuda --preset gptj-6b --dtype bf16 --batch 1,32,128 \
        --bandwidth-mb 0 --set flover.engine.batch-invariant=$mode --json > "$RESULTS/gptj-6b-$mode.json" 2> "$RESULTS/gptj-6b-$mode.log"
    BENCH_RC=$?
    tail -3 "$RESULTS/gptj-6b-$mode.log"
    echo "bench-decode gptj-6b ($mode) exit $BENCH_RC" | tee -a "$RESULTS/gpu-check.log"
    [ "$BENCH_RC" -eq 0 ] || RC=1
done

echo "== PyTorch peer (scripts/torch_graph_peer.py), same GPU, same visit"
if command -v python3 >/dev/null; then
    timeout 90 python3 scripts/torch_graph_peer.py > "$RESULTS/torch-peer.log" 2>&1
    echo "torch peer exit $?" >> "$RESULTS/torch-peer.log"
    cat "$RESULTS/torch-peer.log"
else
    echo "python3 not found: no torch peer" | tee "$RESULTS/torch-peer.log"
fi

echo "gpu check exit $RC; $(( $(date +%s) - START )) s on the device" | tee -a "$RESULTS/gpu-check.log"
exit "$RC"
