#!/usr/bin/env bash
# On the GPU machine (PyTorch with CUDA installed, no .NET, no network), from the repository root, after
# bench/gpu/pack.sh here and a device run that carries .gpu/hypha-gpu.tar.xz: Hypha against the PyTorch reference at chunk 224,
# batch 128, fp32 and bf16, alternating run by run; then Hypha's layout check (cuDNN's NHWC kernels against NCHW),
# sampling and the data path. One JSON line per run in $OUT/gpu.jsonl (or bench/results/), then the summary table.
# env: RUNS (5) WARMUP (10) STEPS (40) BATCH (128) CHUNK (224) OUT; for a smoke test without a GPU: DEVICE=cpu,
# PYTHON (a python with torch), TORCHLIB (a libtorch 2.10 folder), e.g. the libtorch-cpu-linux-x64 NuGet package's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-5}; WARMUP=${WARMUP:-10}; STEPS=${STEPS:-40}; BATCH=${BATCH:-128}; CHUNK=${CHUNK:-224}
out=${OUT:-$repo/bench/results}/gpu.jsonl
DEVICE=${DEVICE:-cuda}; PYTHON=${PYTHON:-python3}
work=${WORK:-$repo/.gpu/work}
mkdir -p "$work" "$(dirname "$out")"
[ -x "$work/hypha-bench/hypha-bench" ] || xz -dc "$repo/.gpu/hypha-gpu.tar.xz" | tar -C "$work" -xf -
torchlib=${TORCHLIB:-$($PYTHON -c 'import torch,os;print(os.path.dirname(torch.__file__))')/lib}
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1   # the device image need not have libicu
export LD_LIBRARY_PATH=$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
$PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' >&2
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader >&2 || true
hypha="$work/hypha-bench/hypha-bench"
images=$work/data/amf_ink_roots.imagepack
m="python3 $here/measure.py"   # tags each JSON line and adds the GPU memory the run held at its peak
: > "$out"
for precision in fp32 bf16; do
  for run in $(seq "$RUNS"); do
    echo "$precision run $run/$RUNS: pytorch, hypha" >&2
    $m pytorch $PYTHON "$repo/bench/pytorch/train_bench.py" --data "$work/data/*.jpg" --device "$DEVICE" \
      --precision "$precision" --chunk "$CHUNK" --batch "$BATCH" --warmup "$WARMUP" --steps "$STEPS" | tee -a "$out"
    $m hypha "$hypha" --mode train --device "$DEVICE" --precision "$precision" --images "$images" \
      --chunk "$CHUNK" --batch "$BATCH" --warmup "$WARMUP" --steps "$STEPS" | tee -a "$out"
  done
done
# cuDNN's kernel choice: the same bf16 training step channels-first (a slower NHWC run would mean no NHWC kernels).
for layout in nchw auto; do
  $m "hypha-$layout" "$hypha" --mode phases --device "$DEVICE" --precision bf16 --layout $layout --images "$images" \
    --chunk "$CHUNK" --batch "$BATCH" --warmup "$WARMUP" --steps 20 | tee -a "$out"
done
for precision in fp32 bf16; do
  $m hypha-sample "$hypha" --mode sample --device "$DEVICE" --precision "$precision" --images "$images" --chunk "$CHUNK" \
    --batch 256 --warmup 2 --steps 10 | tee -a "$out"
done
$m hypha-data "$hypha" --mode data --device "$DEVICE" --images "$images" --chunk "$CHUNK" --batch "$BATCH" | tee -a "$out"
python3 "$repo/bench/compare_summary.py" "$out"
