#!/usr/bin/env bash
# Issue 11, part 3: samples of the diffusion-cpu model, the cpu-preset VAE and the PyTorch reference U-Net trained for
# the same wall-clock budget on the same AMF chunks, each scored by `hypha evaluate` against the same test chunks.
# Every training job gets ONE core (taskset) and one thread, so two jobs can run side by side under equal conditions
# on the 2-core machine: the diffusion model and the PyTorch reference first, then the VAE while the first two are
# sampled and scored. Usage: bench/diffusion/quality.sh   (env: BUDGET minutes, default 15; WORK; OUT; DATA)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUDGET=${BUDGET:-15}
DATA=${DATA:-/work/shared/data/amf_ink_roots}
WORK=${WORK:-$repo/out/quality}   # under the checkout: the PyTorch chroot sees only the repository and the data
OUT=${OUT:-$repo/bench/results/diffusion-quality}
PT=${PT:-"$repo/bench/pytorch/setup-trixie-chroot.sh run"}
HYPHA="$repo/hypha"
mkdir -p "$WORK" "$OUT"
rm -rf "$WORK"/{diffusion,vae,prep,pt-samples,diffusion-grid}
"$HYPHA" doctor >/dev/null   # builds Release once, before anything is timed

# The PyTorch reference trains on exactly the chunks Hypha's diffusion-cpu run trains on: its training part, exported.
"$HYPHA" prepare --preset diffusion-cpu --images "$DATA" --out "$WORK/prep" --export -1 > "$WORK/prepare.log"
echo "exported $(ls "$WORK/prep/chunks/train" | wc -l) training chunks" >&2

export OMP_NUM_THREADS=1
taskset -c 0 "$HYPHA" train --preset diffusion-cpu --images "$DATA" --run "$WORK/diffusion" --threads 1 \
  --time-limit "$BUDGET" --epochs 1000 > "$WORK/diffusion-train.log" 2>&1 &
hy=$!
# The reference as a plain DDPM (epsilon, linear schedule, no EMA, no augmentation, Adam 2e-4): what the issue's
# 15-minute PyTorch run was; its samples are as many as Hypha's evaluation draws (half the test chunks).
taskset -c 1 $PT "$repo/bench/pytorch/diffusion_ref.py" train --chunks "$WORK/prep/chunks/train" --minutes "$BUDGET" \
  --out "$WORK/pt-samples" --count "${PT_COUNT:-345}" --threads 1 --seed 0 > "$WORK/pytorch-train.log" 2>&1 &
pt=$!
wait $hy
# The VAE on the core the diffusion model had, while the reference samples and the diffusion model is scored.
taskset -c 0 "$HYPHA" train --preset cpu --images "$DATA" --run "$WORK/vae" --threads 1 \
  --time-limit "$BUDGET" --epochs 1000 > "$WORK/vae-train.log" 2>&1 &
vae=$!
wait $pt
taskset -c 1 "$HYPHA" evaluate --run "$WORK/diffusion" --threads 1 > "$WORK/diffusion-eval.log" 2>&1
taskset -c 1 "$HYPHA" evaluate --run "$WORK/diffusion" --samples "$WORK/pt-samples" --threads 1 > "$WORK/pytorch-eval.log" 2>&1
wait $vae
"$HYPHA" evaluate --run "$WORK/vae" > "$WORK/vae-eval.log" 2>&1
for r in diffusion vae; do "$HYPHA" report --run "$WORK/$r" > /dev/null; done
"$HYPHA" sample --run "$WORK/diffusion" --count 64 --out "$WORK/diffusion-grid" --overwrite > /dev/null

cp "$WORK/diffusion/metrics.jsonl" "$OUT/diffusion-metrics.jsonl"
cp "$WORK/vae/metrics.jsonl" "$OUT/vae-metrics.jsonl"
cp "$WORK"/*.log "$OUT/"
python3 "$repo/bench/diffusion/table.py" "$WORK/diffusion/metrics.jsonl" "$WORK/vae/metrics.jsonl" | tee "$OUT/table.md"
