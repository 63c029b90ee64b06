#!/usr/bin/env bash
# Resident memory of `flover serve` per preset and weight precision: idle (right after the ready
# line) and the start-up peak (VmHWM), from /proc; the figures in docs/OPERATIONS.md ("Memory").
# Usage: scripts/serve-memory.sh [PORT]   (Linux; builds Release first)
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8123}"
dotnet build -c Release Flover.Host -v quiet -nologo > /dev/null
flover=Flover.Host/bin/Release/net10.0/flover
printf '%-32s %12s %16s\n' "serve arguments" "idle RSS" "start-up peak"
for args in "--preset tiny" "--preset gpt2" "--preset gpt2 --dtype f16" "--preset gpt2-medium" "--preset gpt2-medium --dtype f16"; do
  # shellcheck disable=SC2086
  "$flover" serve --port "$port" $args > /tmp/flover-serve-memory.out 2> /tmp/flover-serve-memory.err &
  pid=$!
  until grep -q "ready at" /tmp/flover-serve-memory.out 2> /dev/null; do
    kill -0 "$pid" 2> /dev/null || { cat /tmp/flover-serve-memory.err >&2; exit 1; }
    sleep 0.2
  done
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  printf '%-32s %9d MiB %13d MiB\n' "$args" $((rss / 1024)) $((hwm / 1024))
done
