"""Medians of hypha-bench JSON lines, grouped by mode, chunk, batch and precision."""
import json, statistics, sys
from collections import defaultdict

groups = defaultdict(list)
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        groups[(r["mode"], r["chunk"], r["batch"], r.get("precision", "fp32"))].append(r)
for (mode, chunk, batch, precision), rows in sorted(groups.items()):
    key = {"train": "train_images_per_s", "sample": "sample_images_per_s", "data": "data_chunks_per_s"}[mode]
    values = [r[key] for r in rows]
    extra = ""
    if mode == "train":
        extra = (f"  data share {statistics.median(r['data_share'] for r in rows):.2%}"
                 f"  peak RSS of the training steps {statistics.median(r['train_peak_rss_mib'] for r in rows):.0f} MiB")
    print(f"{mode:6} chunk {chunk:3} batch {batch:3} {precision}: median {statistics.median(values):9.1f} "
          f"(min {min(values):.1f}, max {max(values):.1f}, n={len(values)})  peak RSS {statistics.median(r['peak_rss_mib'] for r in rows):.0f} MiB{extra}")
