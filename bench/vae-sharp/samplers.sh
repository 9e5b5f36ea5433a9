#!/usr/bin/env bash
# Issue 12's ablation at the cpu preset's whole budget (30 epochs of 2,048 chunks: 61,440 training images), latent 64,
# KL weight 1, each row one loss more than the last: thesis (summed MSE + KL), + L1, + the patch discriminator (from
# 30,720 images, as cpu-sharp), + the perceptual term (the cpu-sharp preset as it is). Each row is sampled three ways
# (prior: N(0, I); gmm; latent-diffusion, both fitted to its training chunks' posterior means with fit-prior's
# defaults) and scored by `hypha evaluate` with its defaults (seed 0). One thread each, two rows at a time (taskset,
# one queue per core). Usage: bench/vae-sharp/samplers.sh   (env: WORK, OUT, DATA, HYPHA: the command that runs hypha)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${DATA:-/work/shared/data/amf_ink_roots}
WORK=${WORK:-$repo/out/vae-sharp}
OUT=${OUT:-$repo/bench/results/vae-sharp}
HYPHA=${HYPHA:-$repo/hypha}
mkdir -p "$WORK" "$OUT"
export OMP_NUM_THREADS=1
declare -A rows=(
  [thesis]="--preset cpu"
  [l1]="--preset cpu --reconstruction l1"
  [l1-adv]="--preset cpu --reconstruction l1 --adversarial hinge --disc-width 16 --disc-layers 2 --disc-start 30720 --disc-augment dihedral"
  [l1-adv-perceptual]="--preset cpu-sharp"
)
row() {  # name core
  local run="$WORK/$1" log="$WORK/$1.log"
  rm -rf "$run"
  { uptime; date +%s; } > "$log"
  # shellcheck disable=SC2086
  taskset -c "$2" $HYPHA train --images "$DATA" --run "$run" ${rows[$1]} --threads 1 --fit-prior gmm >> "$log" 2>&1
  { uptime; date +%s; } >> "$log"
  taskset -c "$2" $HYPHA fit-prior --run "$run" --sampler latent-diffusion --threads 1 >> "$log" 2>&1
  for s in prior gmm latent-diffusion; do
    { uptime; date +%s; } >> "$log"
    taskset -c "$2" $HYPHA evaluate --run "$run" --sampler "$s" --threads 1 >> "$log" 2>&1
    taskset -c "$2" $HYPHA sample --run "$run" --sampler "$s" --count 64 --out "$WORK/$1-grid-$s" >> "$log" 2>&1
  done
  { uptime; date +%s; } >> "$log"
  cp "$run/metrics.jsonl" "$OUT/s11-$1.metrics.jsonl"
  cp "$run/metrics.csv" "$OUT/s11-$1.metrics.csv"
  cp "$run/config.json" "$OUT/s11-$1.config.json"
  cp "$log" "$OUT/s11-$1.log"
}
( for r in thesis l1-adv; do row "$r" 0; done ) &
q0=$!
( for r in l1 l1-adv-perceptual; do row "$r" 1; done ) &
q1=$!
wait $q0 $q1
echo "done: $WORK" >&2
