"""Medians and ratios of bench/compare.sh's (and bench/gpu/run.sh's) JSON lines: Hypha's training img/s and peak
memory against PyTorch's, then one line per other run (layout check, sampling, data path)."""
import json
import math
import statistics
import sys
from collections import defaultdict

runs = defaultdict(lambda: defaultdict(list))
versions = {}
others = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    key = (r.get("chunk"), r.get("batch"), r.get("precision", "fp32"))
    gpu = r.get("gpu_used_peak_mib")
    if r.get("tool") == "pytorch" and "train_img_s" in r:
        runs[key]["pt_ips"].append(r["train_img_s"])
        runs[key]["pt_rss"].append(r["peak_rss_mib"])
        if "train_minor_faults_per_step" in r:
            runs[key]["pt_faults"].append(r["train_minor_faults_per_step"])
        if gpu is not None:
            runs[key]["pt_gpu"].append(gpu)
        versions["pytorch"] = r["torch"]
    elif r.get("tool") == "hypha" and "train_images_per_s" in r:
        runs[key]["hy_ips"].append(r["train_images_per_s"])
        runs[key]["hy_rss"].append(r["train_peak_rss_mib"])
        if "train_minor_faults_per_step" in r:
            runs[key]["hy_faults"].append(r["train_minor_faults_per_step"])
        if gpu is not None:
            runs[key]["hy_gpu"].append(gpu)
        versions["hypha"] = f"TorchSharp {r['torchsharp']}, libtorch {r['libtorch']}"
    else:
        others.append(r)

print(f"# {versions}")
gpu = any("hy_gpu" in v for v in runs.values())
head = "| chunk | batch | precision | runs | PyTorch img/s | Hypha img/s | ratio | PyTorch peak RSS MiB | Hypha peak RSS MiB | ratio |"
print(head + (" PyTorch GPU MiB | Hypha GPU MiB | ratio |" if gpu else ""))
print("| --- " * (head.count("|") - 1 + (3 if gpu else 0)) + "|")
for (chunk, batch, precision), v in sorted(runs.items(), key=str):
    if not v.get("pt_ips") or not v.get("hy_ips"):
        continue
    med = {k: statistics.median(x) for k, x in v.items()}
    rng = {k: f"{min(x):.1f}-{max(x):.1f}" for k, x in v.items()}
    row = (f"| {chunk} | {batch} | {precision} | {len(v['hy_ips'])} | {med['pt_ips']:.1f} ({rng['pt_ips']}) | "
           f"{med['hy_ips']:.1f} ({rng['hy_ips']}) | {med['hy_ips'] / med['pt_ips']:.2f}x | {med['pt_rss']:.0f} | "
           f"{med['hy_rss']:.0f} | {med['hy_rss'] / med['pt_rss']:.2f}x |")
    if gpu and "pt_gpu" in med and "hy_gpu" in med:
        row += f" {med['pt_gpu']:.0f} | {med['hy_gpu']:.0f} | {med['hy_gpu'] / max(med['pt_gpu'], 1e-9):.2f}x |"
    print(row)
# Run by run: compare.sh alternates the two, so the i-th runs of each met the same machine.
for (chunk, batch, precision), v in sorted(runs.items(), key=str):
    pairs = list(zip(v.get("pt_ips", []), v.get("hy_ips", [])))
    if not pairs:
        continue
    ratios = [h / p for p, h in pairs]
    line = (f"# {chunk} {batch} {precision}: run-by-run ratio geometric mean "
            f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}x, Hypha ahead in {sum(r > 1 for r in ratios)} of {len(ratios)}")
    if v.get("pt_faults") and v.get("hy_faults"):
        line += (f"; minor page faults per step (median) PyTorch {statistics.median(v['pt_faults']):.0f}, "
                 f"Hypha {statistics.median(v['hy_faults']):.0f}")
    print(line)
for r in others:
    keep = {k: v for k, v in r.items() if k in ("tool", "mode", "precision", "layout", "chunk", "batch", "error", "gpu_used_peak_mib")
            or k.endswith(("_ms_median", "_per_s", "_share"))}
    print("#", json.dumps(keep))
