"""Medians and ratios of bench/compare.sh's JSON lines: Hypha's training img/s and peak RSS against PyTorch's."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(lambda: defaultdict(list))
versions = {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    key = (r["chunk"], r["batch"], r.get("precision", "fp32"))
    if r["tool"] == "pytorch":
        runs[key]["pt_ips"].append(r["train_img_s"])
        runs[key]["pt_rss"].append(r["peak_rss_mib"])
        versions["pytorch"] = r["torch"]
    else:
        runs[key]["hy_ips"].append(r["train_images_per_s"])
        runs[key]["hy_rss"].append(r["train_peak_rss_mib"])
        versions["hypha"] = f"TorchSharp {r['torchsharp']}, libtorch {r['libtorch']}"

print(f"# {versions}")
print("| chunk | batch | precision | runs | PyTorch img/s | Hypha img/s | ratio | PyTorch peak RSS MiB | Hypha peak RSS MiB | ratio |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (chunk, batch, precision), v in sorted(runs.items()):
    med = {k: statistics.median(x) for k, x in v.items()}
    rng = {k: f"{min(x):.1f}-{max(x):.1f}" for k, x in v.items()}
    print(f"| {chunk} | {batch} | {precision} | {len(v['hy_ips'])} | {med['pt_ips']:.1f} ({rng['pt_ips']}) | "
          f"{med['hy_ips']:.1f} ({rng['hy_ips']}) | {med['hy_ips'] / med['pt_ips']:.2f}x | {med['pt_rss']:.0f} | "
          f"{med['hy_rss']:.0f} | {med['hy_rss'] / med['pt_rss']:.2f}x |")
