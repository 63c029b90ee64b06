#!/usr/bin/env bash
# Runs on the lent GPU machine from the repository root (prepared by scripts/gpu-check.sh, which
# carried artifacts/gpu-check: the published Flover.GpuCheck and a .NET runtime tarball).
# Writes one results folder under $OUT; exits non-zero if any check failed. No GPU is a failure.
# Arguments go to Flover.GpuCheck: `bash scripts/gpu-check-remote.sh --only fast-gemm` runs only the
# fast GEMM mode's checks and its decode timing beside the batch-invariant one (a short visit; the
# PyTorch peer is skipped whenever arguments are given).
set -uo pipefail
OUT=${OUT:-$(pwd)/artifacts/gpu-check-out}
RESULTS="$OUT/gpu-check-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS"
CARRY=artifacts/gpu-check
START=$(date +%s)

RT="${TMPDIR:-/tmp}/flover-dotnet"
mkdir -p "$RT" && tar -C "$RT" -xJf "$CARRY/dotnet-runtime.tar.xz"
export DOTNET_ROOT="$RT" PATH="$RT:$PATH" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

cp "$CARRY/BUILD-INFO.txt" "$RESULTS/" 2>/dev/null
{
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,memory.used --format=csv
    ls -l /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/local/nvidia/lib64/libcuda.so* 2>/dev/null
    dotnet --list-runtimes
} > "$RESULTS/nvidia-smi.txt" 2>&1

echo "== Flover GPU check (cuda)"
timeout 240 dotnet "$CARRY/app/Flover.GpuCheck.dll" --device cuda --bench --out "$RESULTS" "$@" 2>&1 | tee "$RESULTS/gpu-check.log"
RC=${PIPESTATUS[0]}

if [ $# -gt 0 ]; then
    echo "gpu check exit $RC; $(( $(date +%s) - START )) s on the device (arguments given: no PyTorch peer)" | tee -a "$RESULTS/gpu-check.log"
    exit "$RC"
fi

echo "== PyTorch peer (scripts/torch_graph_peer.py), same GPU, same visit"
if command -v python3 >/dev/null; then
    timeout 120 python3 scripts/torch_graph_peer.py > "$RESULTS/torch-peer.log" 2>&1
    echo "torch peer exit $?" >> "$RESULTS/torch-peer.log"
    cat "$RESULTS/torch-peer.log"
else
    echo "python3 not found: no torch peer" | tee "$RESULTS/torch-peer.log"
fi

echo "gpu check exit $RC; $(( $(date +%s) - START )) s on the device" | tee -a "$RESULTS/gpu-check.log"
exit "$RC"
