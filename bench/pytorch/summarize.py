"""Median of the benchmark runs in one or more JSONL files, as a Markdown table.

    python3 summarize.py ../results/pytorch-cpu.jsonl
"""
import json
import statistics
import sys
from collections import OrderedDict

KEY = ("device_name", "torch", "device", "precision", "chunk", "batch", "threads")


def main(paths):
    groups = OrderedDict()
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    groups.setdefault(tuple(r[k] for k in KEY), []).append(r)
    print("| machine | torch | device | precision | chunk | batch | threads | runs | train img/s (median) "
          "| min-max | sampling img/s (median) | data-loader share | CPU use | peak RSS MiB |")
    print("|" + " --- |" * 14)
    for k, rs in groups.items():
        med = lambda f: statistics.median(r[f] for r in rs)  # noqa: E731
        tr = [r["train_img_s"] for r in rs]
        print("| %s | %s | %s | %s | %s | %s | %s | %d | %.2f | %.2f-%.2f | %.1f | %.2f%% | %.2f | %.0f |" % (
            *k, len(rs), med("train_img_s"), min(tr), max(tr), med("sample_img_s"),
            100 * med("data_share"), med("cpu_use"), max(r["peak_rss_mib"] for r in rs)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["../results/pytorch-cpu.jsonl"])
