#!/usr/bin/env bash
# Issue 11: the diffusion-cpu model's metrics against its training budget. One run is trained on one core and one
# thread, stopped at each budget (epochs of 8,192 chunks, given by EPOCHS), copied, and the copy is scored by
# `hypha evaluate` and sampled for a grid, then training resumes. The budget is counted in training images, which
# does not depend on what else the machine runs; the wall-clock seconds of each stretch are logged beside it.
# Usage: bench/diffusion/budget.sh   (env: EPOCHS "1 2 4 8"; SCORE, the epochs to score, default all of EPOCHS;
#        CORE 1; WORK; OUT; DATA)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
EPOCHS=${EPOCHS:-"1 2 4 8"}
SCORE=${SCORE:-$EPOCHS}
CORE=${CORE:-1}
DATA=${DATA:-/work/shared/data/amf_ink_roots}
WORK=${WORK:-$repo/out/budget}
OUT=${OUT:-$repo/bench/results/diffusion-budget}
HYPHA="$repo/hypha"
mkdir -p "$WORK" "$OUT"
rm -rf "$WORK"/run "$WORK"/e*
"$HYPHA" doctor >/dev/null   # builds Release once, before anything is timed
export OMP_NUM_THREADS=1
: > "$OUT/stretches.tsv"
first=1
for e in $EPOCHS; do
  start=$(date +%s)
  if [ $first = 1 ]; then
    taskset -c "$CORE" "$HYPHA" train --preset diffusion-cpu --images "$DATA" --run "$WORK/run" --threads 1 \
      --epochs "$e" >> "$WORK/train.log" 2>&1
    first=0
  else
    taskset -c "$CORE" "$HYPHA" train --run "$WORK/run" --resume --epochs "$e" >> "$WORK/train.log" 2>&1
  fi
  end=$(date +%s)
  printf '%s\t%s\t%s\n' "$e" "$((e * 8192))" "$((end - start))" >> "$OUT/stretches.tsv"
  case " $SCORE " in *" $e "*) ;; *) continue ;; esac
  snap="$WORK/e$e"
  cp -r "$WORK/run" "$snap"
  rm -f "$snap"/.lock "$snap"/metrics.jsonl
  taskset -c "$CORE" "$HYPHA" evaluate --run "$snap" --threads 1 > "$WORK/eval-e$e.log" 2>&1
  cp "$snap/metrics.jsonl" "$OUT/metrics-e$e.jsonl"
  taskset -c "$CORE" "$HYPHA" sample --run "$snap" --count 64 --out "$WORK/grid-e$e" --overwrite > /dev/null 2>&1
  cp "$WORK/grid-e$e/grid.png" "$OUT/samples-e$e.png"
done
cp "$WORK/train.log" "$OUT/"
python3 "$repo/bench/diffusion/table.py" $(for e in $SCORE; do echo "$OUT/metrics-e$e.jsonl"; done) | tee "$OUT/table.md"
