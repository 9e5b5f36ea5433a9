#!/usr/bin/env python3
"""Tiles the first N PNGs of a folder (sorted by name) into one grid PNG, 1 px white gaps: tile.py DIR OUT [N] [COLS] [spread]."""
import glob, os, sys
from PIL import Image

src, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 64
cols = int(sys.argv[4]) if len(sys.argv) > 4 else 8
files = sorted(f for f in glob.glob(os.path.join(src, "*.png")) if "grid" not in os.path.basename(f))
spread = len(sys.argv) > 5 and sys.argv[5] == "spread"  # evenly spaced over the folder instead of the first N
files = [files[i * len(files) // n] for i in range(n)] if spread and len(files) > n else files[:n]
imgs = [Image.open(f).convert("L") for f in files]
w, h = imgs[0].size
rows = (len(imgs) + cols - 1) // cols
grid = Image.new("L", (cols * (w + 1) + 1, rows * (h + 1) + 1), 255)
for i, im in enumerate(imgs):
    grid.paste(im, (1 + (i % cols) * (w + 1), 1 + (i // cols) * (h + 1)))
grid.save(out, optimize=True)
print(out, len(imgs), "images")
