#!/usr/bin/env bash
# Issue 12, the losses half: the cpu preset's ResNet-18 VAE (64x64 chunks of the AMF roots, width 16, latent 64) with
# the thesis loss, then + L1, + the patch discriminator, + the perceptual term (the cpu-sharp preset), and L1 +
# perceptual alone, each for the same number of training images (EPOCHS x 2,048; default 3), one thread each, two at
# a time (taskset, one queue per core), each scored by `hypha evaluate` (seed 0). The discriminator starts after the first epoch
# (--disc-start 2048) so that it has two epochs to act. Usage: bench/vae-losses/ablation.sh
# (env: EPOCHS, WORK, OUT, DATA, HYPHA: the command that runs hypha, default the checkout's ./hypha)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
EPOCHS=${EPOCHS:-3}
DATA=${DATA:-/work/shared/data/amf_ink_roots}
WORK=${WORK:-$repo/out/vae-losses}
OUT=${OUT:-$repo/bench/results/vae-losses}
HYPHA=${HYPHA:-$repo/hypha}
mkdir -p "$WORK" "$OUT"
export OMP_NUM_THREADS=1
adv=(--reconstruction l1 --adversarial hinge --disc-width 16 --disc-layers 2 --disc-start 2048 --disc-augment dihedral)
declare -A rows=(
  [thesis]="--preset cpu"
  [l1]="--preset cpu --reconstruction l1"
  [l1-adv]="--preset cpu ${adv[*]}"
  [l1-adv-perceptual]="--preset cpu-sharp --disc-start 2048"
  [l1-perceptual]="--preset cpu --reconstruction l1 --perceptual-weight 0.1 --perceptual-stages 0,1,2"
)
train() {  # name core
  rm -rf "$WORK/$1"
  uptime > "$WORK/$1-train.log"
  # shellcheck disable=SC2086
  taskset -c "$2" $HYPHA train --images "$DATA" --run "$WORK/$1" ${rows[$1]} --epochs "$EPOCHS" --threads 1 >> "$WORK/$1-train.log" 2>&1
  uptime >> "$WORK/$1-train.log"
  taskset -c "$2" $HYPHA evaluate --run "$WORK/$1" --threads 1 > "$WORK/$1-eval.log" 2>&1
  cp "$WORK/$1/metrics.jsonl" "$OUT/$1-metrics.jsonl"
  cp "$WORK/$1/metrics.csv" "$OUT/$1-metrics.csv"
  cp "$WORK/$1-train.log" "$WORK/$1-eval.log" "$OUT/"
}
# Two queues, one per core: each row starts as soon as its core's previous row is trained and scored.
( for r in thesis l1-adv l1-perceptual; do train "$r" 0; done ) &
q0=$!
( for r in l1 l1-adv-perceptual; do train "$r" 1; done ) &
q1=$!
wait $q0 $q1
python3 "$repo/bench/vae-losses/table.py" "$OUT" thesis l1 l1-adv l1-adv-perceptual l1-perceptual | tee "$OUT/table.md"
echo "done: $WORK" >&2
