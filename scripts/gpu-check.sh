#!/usr/bin/env bash
# Prepares both GPU visits for a lent GPU machine (which has no .NET SDK and no network):
#   1. publishes Flover.GpuCheck (framework-dependent, Release) and `flover` (Flover.Host, for the
#      decode benches and the paper's experiment), packed as artifacts/gpu-check/app.tar.xz and host.tar.xz,
#   2. packs the .NET runtime of the local install (dotnet, host/, shared/Microsoft.NETCore.App/<v>
#      and shared/Microsoft.AspNetCore.App/<v>, which `flover` needs) as
#      artifacts/gpu-check/dotnet-runtime.tar.xz,
#   3. measures everything that will travel (tracked files, untracked files git does not ignore,
#      and the carried folder) and stops if it is over 64 MiB,
#   4. smoke-tests the published entry point on ILGPU's CPU accelerator,
#   5. prints the device tool calls: visit one runs scripts/gpu-check-remote.sh (checks, decode
#      benches, the PyTorch peer), visit two scripts/gpu-paper-remote.sh (the paper's experiment).
# artifacts/ is git-ignored, so the publish travels only because the call names it in `carry`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CARRY=artifacts/gpu-check
LIMIT=$((64 * 1024 * 1024))

rm -rf "$CARRY"
mkdir -p "$CARRY"
echo "== publish Flover.GpuCheck"
dotnet publish Flover.GpuCheck/Flover.GpuCheck.csproj -c Release -o "$CARRY/app-publish" --nologo -v quiet
tar -C "$CARRY/app-publish" -cJf "$CARRY/app.tar.xz" .
rm -rf "$CARRY/app-publish"
echo "== publish flover (Flover.Host)"
dotnet publish Flover.Host/Flover.Host.csproj -c Release -o "$CARRY/host-publish" --nologo -v quiet
# Both publishes are packed: ~30 MB of mostly compressible assemblies, and everything that travels counts.
tar -C "$CARRY/host-publish" -cJf "$CARRY/host.tar.xz" .
rm -rf "$CARRY/host-publish"

git log -1 --format='commit %H (%cI)%n%s' > "$CARRY/BUILD-INFO.txt"
git status --short | sed 's/^/uncommitted: /' >> "$CARRY/BUILD-INFO.txt"
echo "built $(date -u +%FT%TZ) with .NET SDK $(dotnet --version)" >> "$CARRY/BUILD-INFO.txt"

echo "== pack the .NET runtime"
DOTNET_ROOT_LOCAL=$(dirname "$(readlink -f "$(command -v dotnet)")")
RUNTIME=$(tar -xJOf "$CARRY/app.tar.xz" ./Flover.GpuCheck.runtimeconfig.json | sed -n 's/.*"version": *"\([0-9.]*\)".*/\1/p' | head -1)
# The app asks for 10.0.x and rolls forward within the major; carry the newest installed 10.0 runtime.
RUNTIME_DIR=$(ls -d "$DOTNET_ROOT_LOCAL"/shared/Microsoft.NETCore.App/"${RUNTIME%%.*}".* | sort -V | tail -1)
echo "   app needs Microsoft.NETCore.App $RUNTIME; carrying $(basename "$RUNTIME_DIR") from $DOTNET_ROOT_LOCAL"
ASPNET_DIR=$(ls -d "$DOTNET_ROOT_LOCAL"/shared/Microsoft.AspNetCore.App/"${RUNTIME%%.*}".* | sort -V | tail -1)
tar -C "$DOTNET_ROOT_LOCAL" -cJf "$CARRY/dotnet-runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$(basename "$RUNTIME_DIR")" "shared/Microsoft.AspNetCore.App/$(basename "$ASPNET_DIR")"

echo "== measure what travels (limit 64 MiB)"
size_of_list() { xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
TRACKED=$(git ls-files -z | size_of_list)
UNTRACKED=$(git ls-files -z --others --exclude-standard | size_of_list)
CARRIED=$(du -sb "$CARRY" | cut -f1)
TOTAL=$((TRACKED + UNTRACKED + CARRIED))
printf '   tracked %d B, untracked %d B, carried %s %d B: total %d B (%.1f MiB)\n' \
    "$TRACKED" "$UNTRACKED" "$CARRY" "$CARRIED" "$TOTAL" "$(echo "$TOTAL / 1048576" | bc -l)"
if [ "$TOTAL" -gt "$LIMIT" ]; then
    echo "STOP: $TOTAL bytes would travel, over the 64 MiB limit" >&2
    exit 1
fi

echo "== smoke test of the published entry point on ILGPU's CPU accelerator"
SMOKE=$(mktemp -d)
tar -C "$SMOKE" -xJf "$CARRY/app.tar.xz"
dotnet "$SMOKE/Flover.GpuCheck.dll" --device ilgpu-cpu | tail -1
tar -C "$SMOKE" -xJf "$CARRY/host.tar.xz"
dotnet "$SMOKE/flover.dll" bench-decode --preset tiny --batch 1 --steps 4 --warmup 0 --bandwidth-mb 0 2>/dev/null | tail -1
rm -rf "$SMOKE"

cat <<CALL
== ready. On the GPU machine (device tool), from the repository root, two visits of at most 6 minutes:
   one:  command bash scripts/gpu-check-remote.sh; carry ["$CARRY"]; timeout_s 360
         Results under \$OUT/gpu-check-*/ (results.txt, gpu-check.log, gptj-6b-{on,off}.json, torch-peer.log, nvidia-smi.txt).
   two:  command bash scripts/gpu-paper-remote.sh; carry ["$CARRY"]; timeout_s 360
         Results under \$OUT/gpu-paper-*/ (one bench folder per arrival pattern, paper.log).
   Only the fast GEMM mode (cuBLAS vs the batch-invariant kernel, its decode timing; about a minute):
         command bash scripts/gpu-check-remote.sh --only fast-gemm; same carry
CALL
