#!/usr/bin/env bash
# Decode throughput of Flover (bench-decode) and llama.cpp (llama-batched-bench) side by side on the
# same GPT-2-shaped model, interleaved, on a quiet machine and under a background load that this
# script starts and stops itself. Prints every run (with the load average when it started) and the
# medians and Flover/llama.cpp ratios per condition, dtype and batch size.
#
# Usage: scripts/bench-vs-llamacpp.sh [LLAMA_DIR]
#   LLAMA_DIR  an already-built llama.cpp checkout (CPU build): build/bin/llama-batched-bench and
#              gguf-py/ are used from it. This script never builds llama.cpp. Without it (or with
#              an empty argument) only Flover's figures are taken, quiet and loaded.
# Environment (defaults in brackets):
#   ROUNDS [3]        interleaved rounds per condition; medians are over the rounds
#   THREADS [2]       threads for both engines
#   DTYPES [f32 f16]  weight precisions
#   BATCHES [1,32]    batch sizes (Flover --batch, llama.cpp -npl)
#   CONDITIONS [quiet loaded]
#   LOAD_PROCS [1]    CPU-bound busy loops started for the loaded condition (one: three runnable
#                     threads on two cores, about the load average 3-5 of issue 29)
#   OUT [/tmp/flover-vs-llamacpp]  scratch folder: GGUF files, raw outputs, runs.tsv
#   FLOVER [Flover.Host/bin/Release/net10.0/flover]  built by `dotnet build Flover.Host -c Release`
#   FLOVER_BASELINE []  optional second Flover binary (another build, e.g. the main branch's), run
#                     interleaved as engine "flover-baseline" for a before/after comparison
#   FLOVER_KV [f32]   Flover's KV-cache precision (--kv-dtype); llama.cpp's cache is F16 unless told
#                     otherwise, so FLOVER_KV=f16 compares like with like
#   PYTHON [python3]  for the GGUF writer it needs numpy (Debian: apt-get install python3-numpy)
#
# llama.cpp runs with the flags of issue 29:
#   llama-batched-bench -m M -c 4096 -b 2048 -ub 512 -npp 32 -ntg 64 -npl 1,32 -t 2 -fa
# Flover with the same shape: bench-decode --preset gpt2 --prompt-tokens 32 --steps 64.
# The GGUF has GPT-2's tokenizer and seeded random weights (scripts/make_gpt2_gguf.py); Flover's
# gpt2 preset has its own seeded random weights of the same shape. Random weights do not change
# the speed of dense F32/F16 inference.
set -euo pipefail

LLAMA_DIR=${1:-}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
DTYPES=${DTYPES:-"f32 f16"}
BATCHES=${BATCHES:-1,32}
CONDITIONS=${CONDITIONS:-"quiet loaded"}
LOAD_PROCS=${LOAD_PROCS:-1}
OUT=${OUT:-/tmp/flover-vs-llamacpp}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FLOVER=${FLOVER:-$ROOT/Flover.Host/bin/Release/net10.0/flover}
FLOVER_KV=${FLOVER_KV:-f32}

[[ -x $FLOVER ]] || { echo "no Flover binary at $FLOVER: run 'dotnet build Flover.Host -c Release' first" >&2; exit 1; }
mkdir -p "$OUT/raw"
RUNS=$OUT/runs.tsv
printf 'condition\tround\tengine\tdtype\tbatch\ttokens_per_s\tload1\n' > "$RUNS"

BENCH=
if [[ -n $LLAMA_DIR ]]; then
  BENCH=$LLAMA_DIR/build/bin/llama-batched-bench
  [[ -x $BENCH ]] || { echo "no llama-batched-bench at $BENCH (build it first; this script never does)" >&2; exit 1; }
  for dtype in $DTYPES; do
    if [[ ! -s $OUT/gpt2-$dtype.gguf ]]; then
      echo "writing $OUT/gpt2-$dtype.gguf ..." >&2
      "${PYTHON:-python3}" "$ROOT/scripts/make_gpt2_gguf.py" --gguf-py "$LLAMA_DIR/gguf-py" --dtype "$dtype" --out "$OUT/gpt2-$dtype.gguf" >&2
    fi
  done
fi

LOAD_PIDS=()
start_load() {
  # Bounded: each busy loop ends by itself after 30 minutes even if this script is killed.
  for _ in $(seq 1 "$LOAD_PROCS"); do
    timeout 1800 sh -c 'while :; do :; done' &
    LOAD_PIDS+=("$!")
  done
  sleep 2
}
stop_load() {
  for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  LOAD_PIDS=()
}
trap stop_load EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }

run_flover() { # condition round dtype [binary engine-name]
  local load raw binary=${4:-$FLOVER} engine=${5:-flover}
  load=$(load1)
  raw=$OUT/raw/$engine-$1-$2-$3.json
  "$binary" bench-decode --preset gpt2 --batch "$BATCHES" --dtype "$3" --threads "$THREADS" \
    --kv-dtype "$FLOVER_KV" --prompt-tokens 32 --steps 64 --bandwidth-mb 0 --json > "$raw" 2> "$raw.log"
  python3 - "$raw" "$1" "$2" "$3" "$load" "$engine" >> "$RUNS" <<'PY'
import json, sys
path, condition, rnd, dtype, load, engine = sys.argv[1:]
for run in json.load(open(path))["runs"]:
    print(f"{condition}\t{rnd}\t{engine}\t{dtype}\t{run['batch']}\t{run['tokens_per_s']:.2f}\t{load}")
PY
}

run_llama() { # condition round dtype
  local load raw
  load=$(load1)
  raw=$OUT/raw/llama-$1-$2-$3.txt
  "$BENCH" -m "$OUT/gpt2-$3.gguf" -c 4096 -b 2048 -ub 512 -npp 32 -ntg 64 -npl "$BATCHES" \
    -t "$THREADS" -fa > "$raw" 2>&1
  # Table rows: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
  awk -F'|' -v c="$1" -v r="$2" -v d="$3" -v l="$load" \
    '$2 ~ /^ *[0-9]+ *$/ { gsub(/ /, "", $4); gsub(/ /, "", $9); printf "%s\t%s\tllama.cpp\t%s\t%s\t%s\t%s\n", c, r, d, $4, $9, l }' \
    "$raw" >> "$RUNS"
}

for condition in $CONDITIONS; do
  [[ $condition == loaded ]] && start_load
  for round in $(seq 1 "$ROUNDS"); do
    for dtype in $DTYPES; do
      echo "$condition round $round $dtype (load $(load1)) ..." >&2
      run_flover "$condition" "$round" "$dtype"
      [[ -n $BENCH ]] && run_llama "$condition" "$round" "$dtype"
      [[ -n ${FLOVER_BASELINE:-} ]] && run_flover "$condition" "$round" "$dtype" "$FLOVER_BASELINE" flover-baseline
    done
  done
  [[ $condition == loaded ]] && stop_load
done

echo "runs: $RUNS"
column -t -s $'\t' "$RUNS"
python3 - "$RUNS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
keys = sorted({(r["condition"], r["dtype"], int(r["batch"])) for r in rows}, key=lambda k: (k[0] != "quiet", k[1], k[2]))
print()
print("medians over rounds; ratio = median Flover / median llama.cpp; per-round = median of the rounds' ratios")
has_base = any(r["engine"] == "flover-baseline" for r in rows)
print(f"{'condition':<10}{'dtype':<6}{'batch':>6}{'flover tok/s':>14}{'llama.cpp tok/s':>17}{'ratio':>8}{'per-round':>11}{'load1 range':>14}" + (f"{'baseline tok/s':>16}{'vs baseline':>13}" if has_base else ""))
for condition, dtype, batch in keys:
    def med(engine):
        values = [float(r["tokens_per_s"]) for r in rows if (r["condition"], r["dtype"], int(r["batch"]), r["engine"]) == (condition, dtype, batch, engine)]
        return statistics.median(values) if values else None
    loads = [float(r["load1"]) for r in rows if (r["condition"], r["dtype"]) == (condition, dtype)]
    f, l = med("flover"), med("llama.cpp")
    ratio = f"{f / l:.2f}x" if f and l else "-"
    per_round = []
    for rnd in sorted({r["round"] for r in rows}):
        pick = lambda e: [float(r["tokens_per_s"]) for r in rows if (r["condition"], r["dtype"], int(r["batch"]), r["engine"], r["round"]) == (condition, dtype, batch, e, rnd)]
        fr, lr = pick("flover"), pick("llama.cpp")
        if fr and lr:
            per_round.append(fr[0] / lr[0])
    pr = f"{statistics.median(per_round):.2f}x" if per_round else "-"
    line = f"{condition:<10}{dtype:<6}{batch:>6}{f or 0:>14.1f}{(l or 0):>17.1f}{ratio:>8}{pr:>11}{min(loads):>7.2f}-{max(loads):<6.2f}"
    if has_base:
        b = med("flover-baseline")
        line += f"{(b or 0):>16.1f}" + (f"{f / b:>12.2f}x" if f and b else f"{'-':>13}")
    print(line)
PY
