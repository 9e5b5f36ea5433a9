#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has PyTorch but no .NET, into .gpu/ (git-ignored), small
# enough for the device tool's 64 MiB transfer: a self-contained publish of hypha-bench against an external libtorch
# (docs/gpu.md) without the native libraries the benchmark never loads (OpenCV 113 MB, ONNX Runtime, Skia), the
# images as a normalized .imagepack for Hypha (read here, where OpenCV is), and the JPEGs themselves for PyTorch.
# Usage: bench/gpu/pack.sh   then, on the device: bash bench/gpu/run.sh   (carry: .gpu/hypha-gpu.tar.xz)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
DATA=${DATA:-$repo/../shared/data/amf_ink_roots}
pack=$repo/.gpu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The same images for Hypha, normalized here by the normal build: the benchmark's chunking runs there on them.
dotnet build "$repo/bench/Hypha.Bench" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
mkdir -p "$stage/data"
dotnet "$repo/bench/Hypha.Bench/bin/Release/net10.0/linux-x64/hypha-bench.dll" --mode pack --images "$DATA" \
  --out "$stage/data/amf_ink_roots.imagepack" >&2
cp "$DATA"/*.jpg "$stage/data/"   # for PyTorch; transient: .gpu/ is ignored and never committed
# Its own artifacts folder: publishing into the normal bin/ would leave the CPU build without its libtorch.
dotnet publish "$repo/bench/Hypha.Bench" -c Release -r linux-x64 --self-contained -p:HyphaLibTorch=external \
  --artifacts-path "$stage/artifacts" --nologo -v quiet -clp:ErrorsOnly -o "$stage/hypha-bench" >&2
( cd "$stage/hypha-bench" && rm -rf DnnImageModels libOpenCvSharpExtern.so libonnxruntime.so libSkiaSharp.so libHarfBuzzSharp.so )

mkdir -p "$pack"
rm -rf "$pack/work"   # an older unpacked copy (run.sh's smoke test) would be used instead of the new pack
tar -C "$stage" -cf - hypha-bench data | xz -9 -T2 > "$pack/hypha-gpu.tar.xz.part"
mv "$pack/hypha-gpu.tar.xz.part" "$pack/hypha-gpu.tar.xz"
ls -l "$pack/hypha-gpu.tar.xz" >&2
