#!/usr/bin/env bash
# PyTorch reference, CPU: installs Debian's PyTorch (idempotent), then trains the ResNet-18 VAE on
# chunk 64 batch 32 and chunk 224 batch 16, RUNS runs each, appending one JSON line per run to OUT,
# and prints the medians. Before each run it waits up to WAIT_IDLE seconds for the CPUs to be idle (the
# machine may be shared). Usage: bench/pytorch/run.sh   (env: RUNS THREADS WAIT_IDLE OUT DATA PYTHON)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python, not pyenv's; may be a command with arguments
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
WAIT_IDLE=${WAIT_IDLE:-300}
OUT=${OUT:-$here/../results/pytorch-cpu.jsonl}
DATA=${DATA:-/work/shared/data/amf_ink_roots/*.jpg}

# Debian 12: python3-torch is 1.13; without libopenblas0-openmp it falls back to reference BLAS (~15x slower).
pkgs="python3-torch libopenblas0-openmp python3-pil python3-numpy"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs
fi
$PYTHON -c 'import torch, PIL, numpy' || { echo "torch/PIL/numpy not importable by $PYTHON" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
: > "$OUT"
export OMP_NUM_THREADS=$THREADS
# chunk batch warmup steps: few steps per run, so the whole thing stays under ~10 minutes on 2 cores.
for cfg in "64 32 2 10" "224 16 1 4"; do
  read -r chunk batch warmup steps <<< "$cfg"
  for run in $(seq "$RUNS"); do
    echo "chunk $chunk batch $batch run $run/$RUNS" >&2
    $PYTHON "$here/train_bench.py" --data "$DATA" --device cpu --threads "$THREADS" --wait-idle "$WAIT_IDLE" \
      --chunk "$chunk" --batch "$batch" --warmup "$warmup" --steps "$steps" | tee -a "$OUT"
  done
done
$PYTHON "$here/summarize.py" "$OUT"
