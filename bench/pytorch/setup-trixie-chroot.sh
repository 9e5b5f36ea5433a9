#!/usr/bin/env bash
# Optional: Debian 13 (trixie) chroot with its PyTorch 2.x, to run the same benchmark on a current torch
# on a Debian 12 host (whose torch 1.13 has no oneDNN transposed convolution on CPU: the decoder runs
# aten::slow_conv_transpose2d). Idempotent; needs root and network. Then:
#   bench/pytorch/setup-trixie-chroot.sh run bench/pytorch/train_bench.py --chunk 64 --batch 32 ...
#   PYTHON="bench/pytorch/setup-trixie-chroot.sh run" bench/pytorch/run.sh   (OUT=... for another file)
set -euo pipefail
ROOT=${TRIXIE_ROOT:-/opt/trixie-torch}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${DATA_DIR:-/work/shared/data}

setup() {
  command -v debootstrap >/dev/null || { apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap; }
  if [ ! -x "$ROOT/usr/bin/python3" ]; then
    debootstrap --variant=minbase --include=python3-torch,libopenblas0-openmp,python3-pil,python3-numpy \
      trixie "$ROOT" "$MIRROR"
  fi
  chroot "$ROOT" python3 -c 'import torch; print("trixie torch", torch.__version__)'
}

bind() {  # same paths inside as outside: the repo (rw), the data (ro), /proc, /dev
  local d
  for d in /proc /dev "$repo" "$data"; do
    mkdir -p "$ROOT$d"
    # a mount left from an earlier session can point at a folder since replaced (a new /work/shared): renew it
    if mountpoint -q "$ROOT$d" && [ "$(stat -c %d:%i "$d")" != "$(stat -c %d:%i "$ROOT$d")" ]; then umount -l "$ROOT$d"; fi
    mountpoint -q "$ROOT$d" || mount --bind "$d" "$ROOT$d"
  done
  mount -o remount,bind,ro "$ROOT$data" 2>/dev/null || true
}

case "${1:-setup}" in
  setup) setup; bind ;;
  run) shift; bind
       # relative paths are taken from the current directory, which exists inside too when under the repo
       exec chroot "$ROOT" /bin/sh -c 'cd "$1" && shift && exec python3 "$@"' sh "$PWD" "$@" ;;
  umount) for d in "$data" "$repo" /dev /proc; do mountpoint -q "$ROOT$d" && umount "$ROOT$d"; done; true ;;
  *) echo "usage: $0 [setup|run ARGS...|umount]" >&2; exit 2 ;;
esac
