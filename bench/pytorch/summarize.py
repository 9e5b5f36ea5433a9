"""Medians of the benchmark runs in JSONL files, as a Markdown table.

A CPU run whose process got less than CLEAN of its threads' CPU time (cpu_use, a shared machine) is left
out of the medians when the group has at least one clean run; the 'runs' column says "clean/all".
    python3 summarize.py ../results/pytorch-cpu.jsonl
"""
import json
import statistics
import sys
from collections import OrderedDict

KEY = ("device_name", "torch", "device", "precision", "chunk", "batch", "threads")
CLEAN = 0.85


def main(paths):
    groups = OrderedDict()
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    groups.setdefault(tuple(r[k] for k in KEY), []).append(r)
    print("| machine | torch | device | precision | chunk | batch | threads | runs clean/all "
          "| train img/s (median) | train min-max | sampling img/s (median) | data-loader share | peak RSS MiB |")
    print("|" + " --- |" * 13)
    for k, runs in groups.items():
        clean = [r for r in runs if r.get("cpu_use", 1.0) >= CLEAN]
        rs = clean or runs
        tr = [r["train_img_s"] for r in rs]
        med = lambda f: statistics.median(r[f] for r in rs)  # noqa: E731
        print("| %s | %s | %s | %s | %s | %s | %s | %d/%d | %.2f | %.2f-%.2f | %.1f | %.2f%% | %.0f |" % (
            *k, len(clean), len(runs), med("train_img_s"), min(tr), max(tr), med("sample_img_s"),
            100 * med("data_share"), max(r["peak_rss_mib"] for r in rs)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["../results/pytorch-cpu.jsonl"])
