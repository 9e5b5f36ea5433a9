#!/usr/bin/env bash
# Hypha against the PyTorch reference side by side in one run: for each configuration the two alternate run by
# run (PyTorch, Hypha, PyTorch, ...), so a change in the machine's load hits both alike. One JSON line per run
# in OUT (each tagged "tool"), then a table of medians and ratios.
# Usage: bench/compare.sh   env: RUNS (5) THREADS (2) PRECISION (fp32|bf16) PYTHON (python with torch; default the
# Debian 13 chroot of setup-trixie-chroot.sh when present, else python3) OUT CONFIGS ("64 32 2 10;224 16 1 4")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
PRECISION=${PRECISION:-fp32}
DATA=${DATA:-$here/../../shared/data/amf_ink_roots}
if [ -z "${PYTHON:-}" ]; then
  if [ -d /opt/trixie-torch ]; then PYTHON="$here/pytorch/setup-trixie-chroot.sh run"; else PYTHON=python3; fi
fi
OUT=${OUT:-$here/results/compare-cpu-$PRECISION.jsonl}
dotnet build "$here/Hypha.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
hypha="dotnet $here/Hypha.Bench/bin/Release/net10.0/linux-x64/hypha-bench.dll"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
configs=("64 32 2 10" "224 16 1 4")
if [ -n "${CONFIGS:-}" ]; then IFS=';' read -ra configs <<< "$CONFIGS"; fi
for cfg in "${configs[@]}"; do
  read -r chunk batch warmup steps <<< "$cfg"
  for run in $(seq "$RUNS"); do
    echo "chunk $chunk batch $batch run $run/$RUNS: pytorch" >&2
    OMP_NUM_THREADS=$THREADS $PYTHON "$here/pytorch/train_bench.py" --data "$DATA/*.jpg" --device cpu --threads "$THREADS" \
      --chunk "$chunk" --batch "$batch" --warmup "$warmup" --steps "$steps" --precision "$PRECISION" --wait-idle 20 \
      | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["tool"]="pytorch"; print(json.dumps(r))' | tee -a "$OUT"
    echo "chunk $chunk batch $batch run $run/$RUNS: hypha" >&2
    python3 "$here/wait_idle.py" 20   # the same wait for idle cores as the reference's --wait-idle
    $hypha --mode train --chunk "$chunk" --batch "$batch" --warmup "$warmup" --steps "$steps" --threads "$THREADS" \
      --precision "$PRECISION" --images "$DATA" | tee -a "$OUT"
  done
done
python3 "$here/compare_summary.py" "$OUT"
