#!/usr/bin/env python3
"""Markdown table of the VAE-loss ablation (bench/vae-losses/ablation.sh): every `hypha evaluate` metric of each row
beside its real-vs-real floor, and seconds per training step (16 / the last training row's images/s in metrics.csv,
which includes the epoch ends' validation and grids). Usage: table.py DIR ROW...  (DIR holds ROW-metrics.jsonl and
ROW-metrics.csv)"""
import csv, json, sys

d, rows = sys.argv[1], sys.argv[2:]
records, speed = {}, {}
for r in rows:
    lines = [json.loads(l) for l in open(f"{d}/{r}-metrics.jsonl") if l.strip()]
    records[r] = {m["name"]: m for m in lines[-1]["metrics"]}
    train = [x for x in csv.DictReader(open(f"{d}/{r}-metrics.csv")) if x["phase"] == "train"]
    speed[r] = 16 / float(train[-1]["images_per_s"])
names = list(records[rows[0]].keys())
print("| metric | floor (real vs real) | " + " | ".join(rows) + " |")
print("| --- | ---: | " + " | ".join("---:" for _ in rows) + " |")
for n in names:
    floor = records[rows[0]][n].get("floor")
    fmt = lambda v: "-" if v is None else (f"{v:.1f}" if n in ("swd", "fd_resnet18") or abs(v) >= 100 else f"{v:.3f}")
    print(f"| `{n}` | {fmt(floor)} | " + " | ".join(fmt(records[r][n]["value"]) if n in records[r] else "-" for r in rows) + " |")
print("| s/step (1 thread, shared machine) | | " + " | ".join(f"{speed[r]:.2f}" for r in rows) + " |")
