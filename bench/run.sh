#!/usr/bin/env bash
# Hypha's CPU benchmarks, the same settings as bench/pytorch/run.sh: training at chunk 64 batch 32 and chunk 224
# batch 16, sampling, and the data path; RUNS runs each (default 5), one JSON line per run appended to OUT, then
# medians. Usage: bench/run.sh   (env: RUNS THREADS OUT PRECISION)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
PRECISION=${PRECISION:-fp32}
OUT=${OUT:-$here/results/hypha-cpu-$PRECISION.jsonl}
DATA=${DATA:-$here/../../shared/data/amf_ink_roots}
dotnet build "$here/Hypha.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
bench="dotnet $here/Hypha.Bench/bin/Release/net10.0/linux-x64/hypha-bench.dll"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"  # a fresh file per invocation
# mode chunk batch warmup steps; sampling uses the training batch, as the PyTorch reference does.
# CONFIGS="train 64 32 2 10;sample 64 32 2 10" runs a subset.
configs=("train 64 32 2 10" "train 224 16 1 4" "sample 64 32 2 10" "sample 224 16 1 4" "data 224 128 0 0")
if [ -n "${CONFIGS:-}" ]; then IFS=';' read -ra configs <<< "$CONFIGS"; fi
for cfg in "${configs[@]}"; do
  read -r mode chunk batch warmup steps <<< "$cfg"
  for run in $(seq "$RUNS"); do
    echo "$mode chunk $chunk batch $batch run $run/$RUNS" >&2
    $bench --mode "$mode" --chunk "$chunk" --batch "$batch" --warmup "$warmup" --steps "$steps" --threads "$THREADS" \
      --precision "$PRECISION" --images "$DATA" | tee -a "$OUT"
  done
done
python3 "$here/summarize_hypha.py" "$OUT"
