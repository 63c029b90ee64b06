# Sourced by the GPU visits' remote scripts (gpu-check-remote.sh, gpu-paper-remote.sh) on the lent
# machine, from the repository root: makes the results folder $RESULTS ($OUT/$1-<UTC time>), unpacks
# what scripts/gpu-check.sh carried in artifacts/gpu-check (the .NET runtime, the GPU check as $CHECK,
# flover as $FLOVER) under $TMPDIR, exports the runtime, and records the build and nvidia-smi.
OUT=${OUT:-$(pwd)/artifacts/$1-out}
RESULTS="$OUT/$1-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS"
CARRY=artifacts/gpu-check
START=$(date +%s)

UNPACKED="${TMPDIR:-/tmp}/flover-visit"
mkdir -p "$UNPACKED/dotnet" "$UNPACKED/check" "$UNPACKED/host"
tar -C "$UNPACKED/dotnet" -xJf "$CARRY/dotnet-runtime.tar.xz"
tar -C "$UNPACKED/check" -xJf "$CARRY/app.tar.xz"
tar -C "$UNPACKED/host" -xJf "$CARRY/host.tar.xz"
CHECK="$UNPACKED/check/Flover.GpuCheck.dll"
FLOVER="$UNPACKED/host/flover.dll"
export DOTNET_ROOT="$UNPACKED/dotnet" PATH="$UNPACKED/dotnet:$PATH" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

cp "$CARRY/BUILD-INFO.txt" "$RESULTS/" 2>/dev/null
{
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,memory.used --format=csv
    ls -l /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/local/nvidia/lib64/libcuda.so* 2>/dev/null
    dotnet --list-runtimes
} > "$RESULTS/nvidia-smi.txt" 2>&1
