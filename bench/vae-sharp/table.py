#!/usr/bin/env python3
"""Markdown tables of bench/vae-sharp/samplers.sh: for each sample metric, one column per (row, sampler) beside the
real-vs-real floor; then the reconstruction metrics (one per row: the samplers do not change them) and the training
time (first and last `date +%s` of the train step in ROW.log) and the milliseconds per step before and after half
way (metrics.csv). Usage: table.py DIR ROW...  (DIR holds
s11-ROW.metrics.jsonl, .metrics.csv and .log)"""
import json, sys

d, rows = sys.argv[1], sys.argv[2:]
samplers = ["prior", "gmm", "latent-diffusion"]
short = {"prior": "N(0, I)", "gmm": "gmm", "latent-diffusion": "l-d"}
rec = {}
for r in rows:
    for l in open(f"{d}/s11-{r}.metrics.jsonl"):
        if not l.strip():
            continue
        j = json.loads(l)
        s = j["context"].get("latent_sampler", "prior")
        rec[(r, s)] = {m["name"]: m for m in j["metrics"]}
first = rec[(rows[0], samplers[0])]
fmt = lambda n, v: "-" if v is None else (f"{v:.1f}" if n in ("swd", "fd_resnet18") or abs(v) >= 100 else f"{v:.3f}")
sample_metrics = ["swd", "ms_ssim", "fd_resnet18", "kid", "precision", "recall", "density", "coverage", "memorization"]
cols = [(r, s) for r in rows for s in samplers]
print("| metric | floor | " + " | ".join(f"{r} {short[s]}" for r, s in cols) + " |")
print("| --- | ---: | " + " | ".join("---:" for _ in cols) + " |")
for n in sample_metrics:
    print(f"| `{n}` | {fmt(n, first[n]['floor'])} | " +
          " | ".join(fmt(n, rec[c][n]["value"]) if c in rec and n in rec[c] else "-" for c in cols) + " |")
print()
print("| metric | floor | " + " | ".join(rows) + " |")
print("| --- | ---: | " + " | ".join("---:" for _ in rows) + " |")
for n in ["psnr", "ssim", "iwae_bits_per_dim"]:
    print(f"| `{n}` | {fmt(n, first[n]['floor'])} | " + " | ".join(fmt(n, rec[(r, 'prior')][n]["value"]) for r in rows) + " |")
times = []
for r in rows:
    stamps = [int(x) for x in open(f"{d}/s11-{r}.log").read().split() if x.isdigit() and len(x) == 10]
    times.append(f"{stamps[1] - stamps[0]:,} s")
print("| training time (1 thread, incl. gmm fit) | | " + " | ".join(times) + " |")
import csv
def per_step(r):
    """Seconds per training step over the first and the second half of the images (the discriminator rows switch
    it on half way), from the train rows of metrics.csv (elapsed_s against global_step)."""
    rows_ = [x for x in csv.DictReader(open(f"{d}/s11-{r}.metrics.csv")) if x["phase"] == "train"]
    last = rows_[-1]
    half = max((x for x in rows_ if int(x["images_seen"]) <= int(last["images_seen"]) // 2),
               key=lambda x: int(x["global_step"]))
    s = lambda a, b: (float(b["elapsed_s"]) - float(a["elapsed_s"])) / (int(b["global_step"]) - int(a["global_step"]))
    first_ = float(half["elapsed_s"]) / int(half["global_step"])
    return f"{first_ * 1e3:.0f} / {s(half, last) * 1e3:.0f} ms"
print("| ms per step (batch 16), first / second half | | " + " | ".join(per_step(r) for r in rows) + " |")
