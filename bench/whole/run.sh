#!/usr/bin/env bash
# Issue 13: whole synthetic images, measured (docs/whole-images.md). For a trained diffusion run and a VAE run on the
# same images: MultiDiffusion (default stride, half a chunk; feathered and uniform window weights) and, as a control that must show seams, the same model's
# windows without overlap (stride = chunk: independent samples laid side by side); the VAE's feathered tiling and its
# no-overlap tiling; seeded crops of the real sources of the same size. Then:
#   seams: mean |gradient| across window borders over the rest (bench tool `whole seams`), per folder;
#   quality: `hypha evaluate --samples` on random chunk-size crops of the whole images, beside single-chunk samples;
#   layout: one figure of real crops and whole images at the same scale;
#   cost: seconds per megapixel from each synthesis.json, with the load average beside it.
# Usage: DIFF=out/e1 VAE=out/vae bench/whole/run.sh   (env: SIZE 512x512, COUNT 2, STEPS 25, CROPS 128, WORK, OUT, FIG, THREADS 1,
# VAE_SAMPLER prior|gmm|latent-diffusion (default prior; a fitted one must be in the VAE run);
# RESUME=1 keeps the syntheses already finished in WORK and their lines in OUT/cost.jsonl)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
DIFF=${DIFF:?a diffusion run folder}
VAE=${VAE:?a VAE run folder}
SIZE=${SIZE:-512x512}
COUNT=${COUNT:-2}
STEPS=${STEPS:-25}
CROPS=${CROPS:-128}
THREADS=${THREADS:-1}
VAE_SAMPLER=${VAE_SAMPLER:-prior}
WORK=${WORK:-$repo/out/whole}
OUT=${OUT:-$repo/bench/results/whole-images}
FIG=${FIG:-$repo/docs/images}   # the two figures docs/whole-images.md shows
HYPHA="$repo/hypha"
mkdir -p "$WORK" "$OUT" "$FIG"
"$HYPHA" doctor > /dev/null   # builds Release once, before anything is timed
dotnet build "$repo/bench/Hypha.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
bench="dotnet $repo/bench/Hypha.Bench/bin/Release/net10.0/linux-x64/hypha-bench.dll whole"
chunk=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['data']['chunk'])" "$DIFF/config.json")
half=$((chunk / 2))
log() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$OUT/run.log" >&2; }
synth() { # NAME RUN EXTRA...: synthesize into $WORK/NAME, timed, with the load beside it
  local name=$1 run=$2; shift 2
  if [ -n "${RESUME:-}" ] && [ -f "$WORK/$name/synthesis.json" ]; then log "synthesize $name: kept from before"; return; fi
  log "synthesize $name: load $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "%e s wall, peak RSS %M KiB" "$HYPHA" synthesize --run "$run" --size "$SIZE" --out "$WORK/$name" --overwrite \
    --threads "$THREADS" --device cpu "$@" > "$WORK/$name.log" 2> "$WORK/$name.time"
  log "  done: $(tail -1 "$WORK/$name.time"); load $(cut -d' ' -f1-3 /proc/loadavg)"
  python3 - "$WORK/$name/synthesis.json" "$name" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(tail -1 "$WORK/$name.time")" >> "$OUT/cost.jsonl" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
keep = ["model", "method", "width", "height", "count", "window", "stride", "windows_per_image", "steps", "batch", "threads",
        "seconds", "seconds_per_megapixel", "windows_per_second", "estimated_bytes"]
print(json.dumps({"name": sys.argv[2], **{k: m[k] for k in keep}, "load_after": sys.argv[3], "time": sys.argv[4]}))
PY
}
[ -n "${RESUME:-}" ] || : > "$OUT/cost.jsonl"
: > "$OUT/seams.jsonl"

[ -n "${RESUME:-}" ] && [ -d "$WORK/real" ] || $bench real --run "$DIFF" --size "$SIZE" --count 8 --out "$WORK/real" > "$OUT/real.json"
synth md "$DIFF" --count "$COUNT" --steps "$STEPS"
synth md-uniform "$DIFF" --count "$COUNT" --steps "$STEPS" --weighting uniform
synth md-tiles "$DIFF" --count "$COUNT" --steps "$STEPS" --stride "$chunk"
synth vae "$VAE" --count 8 --sampler "$VAE_SAMPLER"
synth vae-tiles "$VAE" --count 8 --stride "$chunk" --sampler "$VAE_SAMPLER"

for f in real:$half real:$chunk md:$half md-uniform:$half md-tiles:$chunk vae:$half vae-tiles:$chunk; do
  $bench seams --in "$WORK/${f%%:*}" --window "$chunk" --stride "${f##*:}" >> "$OUT/seams.jsonl"
done

# Quality on chunk-size crops, beside single-chunk samples of the same model and steps.
rm -rf "$WORK"/{md-crops,vae-crops,md-chunks,vae-chunks}
$bench crops --in "$WORK/md" --count "$CROPS" --chunk "$chunk" --out "$WORK/md-crops" > /dev/null
$bench crops --in "$WORK/vae" --count "$CROPS" --chunk "$chunk" --out "$WORK/vae-crops" > /dev/null
log "sample md-chunks: load $(cut -d' ' -f1-3 /proc/loadavg)"
"$HYPHA" sample --run "$DIFF" --count "$CROPS" --steps "$STEPS" --out "$WORK/md-chunks" --device cpu > /dev/null
"$HYPHA" sample --run "$VAE" --count "$CROPS" --out "$WORK/vae-chunks" --device cpu --sampler "$VAE_SAMPLER" > /dev/null
for pair in "$DIFF:md-crops" "$DIFF:md-chunks" "$VAE:vae-crops" "$VAE:vae-chunks"; do
  log "evaluate ${pair##*:}"
  "$HYPHA" evaluate --run "${pair%%:*}" --samples "$WORK/${pair##*:}" --threads "$THREADS" > "$WORK/eval-${pair##*:}.log" 2>&1
done
cp "$DIFF/metrics.jsonl" "$OUT/diffusion-metrics.jsonl"
cp "$VAE/metrics.jsonl" "$OUT/vae-metrics.jsonl"

# Layout at half scale (the full-size images stay in WORK), and a full-resolution detail of each image's top-left corner.
$bench figure --run "$DIFF" --out "$FIG/whole-layout.png" --side "$(( ${SIZE%%x*} / 2 ))" --shown 2 "$WORK/md" "$WORK/md-uniform" "$WORK/md-tiles" "$WORK/vae" > /dev/null
$bench figure --run "$DIFF" --out "$FIG/whole-detail.png" --crop 160 --side 160 --shown 1 "$WORK/md" "$WORK/md-uniform" "$WORK/md-tiles" "$WORK/vae" "$WORK/vae-tiles" > /dev/null
python3 "$repo/bench/diffusion/table.py" "$OUT/diffusion-metrics.jsonl" "$OUT/vae-metrics.jsonl" > "$OUT/table.md"
cp "$WORK"/*.log "$WORK"/*.time "$OUT/" 2>/dev/null || true
log "finished"
