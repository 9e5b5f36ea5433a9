#!/usr/bin/env bash
# PyTorch reference, CUDA: chunk 224 batch 128, fp32 and bf16 (autocast + channels_last), RUNS runs each.
# For a GPU machine with PyTorch preinstalled and no internet: installs nothing.
# Usage: bench/pytorch/gpu.sh   (env: RUNS WARMUP STEPS OUT DATA PYTHON)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-10}
STEPS=${STEPS:-40}
OUT=${OUT:-$here/../results/pytorch-gpu.jsonl}

if [ -z "${DATA:-}" ]; then             # the images: /work/shared/data, or a shared/ next to or inside the repo
  for d in /work/shared/data "$here/../../shared/data" "$here/../../../shared/data"; do
    if ls "$d"/amf_ink_roots/*.jpg >/dev/null 2>&1; then DATA="$d/amf_ink_roots/*.jpg"; break; fi
  done
fi
[ -n "${DATA:-}" ] || { echo "images not found: set DATA='/path/amf_ink_roots/*.jpg'" >&2; exit 1; }
"$PYTHON" -c 'import torch, PIL, numpy; assert torch.cuda.is_available(), "no CUDA"; print("torch", torch.__version__, torch.cuda.get_device_name(0))' >&2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || true

mkdir -p "$(dirname "$OUT")"
: > "$OUT"
for precision in fp32 bf16; do
  for run in $(seq "$RUNS"); do
    echo "chunk 224 batch 128 $precision run $run/$RUNS" >&2
    "$PYTHON" "$here/train_bench.py" --data "$DATA" --device cuda --precision "$precision" \
      --chunk 224 --batch 128 --warmup "$WARMUP" --steps "$STEPS" | tee -a "$OUT"
  done
done
"$PYTHON" "$here/summarize.py" "$OUT"
