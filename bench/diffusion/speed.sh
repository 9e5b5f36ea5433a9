#!/usr/bin/env bash
# Issue 11: the diffusion U-Net's training step and DDIM sampling, Hypha against the same U-Net in PyTorch
# (bench/pytorch/diffusion_ref.py), alternating run by run (PyTorch, Hypha, PyTorch, ...) so that a change in the
# machine's load hits both alike; each run waits for idle cores first. One JSON line per run in OUT, then a table of
# medians and ratios (bench/diffusion/speed_summary.py).
# Usage: bench/diffusion/speed.sh   env: RUNS (5) THREADS (2) STEPS (10) WARMUP (3) SAMPLE_STEPS (10) PYTHON (default
# the Debian 13 chroot of bench/pytorch/setup-trixie-chroot.sh when present, else python3) OUT
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
SAMPLE_STEPS=${SAMPLE_STEPS:-10}
if [ -z "${PYTHON:-}" ]; then
  if [ -d /opt/trixie-torch ]; then PYTHON="$here/pytorch/setup-trixie-chroot.sh run"; else PYTHON=python3; fi
fi
OUT=${OUT:-$here/results/diffusion-speed/runs.jsonl}
dotnet build "$here/Hypha.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
hypha="dotnet $here/Hypha.Bench/bin/Release/net10.0/linux-x64/hypha-bench.dll"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
export OMP_NUM_THREADS=$THREADS
args=(--width 16 --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP" --sample-steps "$SAMPLE_STEPS")
for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS: pytorch" >&2
  python3 "$here/wait_idle.py" 20
  $PYTHON "$here/pytorch/diffusion_ref.py" bench "${args[@]}" | tee -a "$OUT"
  echo "run $run/$RUNS: hypha" >&2
  python3 "$here/wait_idle.py" 20
  $hypha --mode diffusion "${args[@]}" | tee -a "$OUT"
done
python3 "$here/diffusion/speed_summary.py" "$OUT" | tee "${OUT%.jsonl}.md"
