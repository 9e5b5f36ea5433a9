#!/usr/bin/env python3
"""Markdown table of hypha evaluate lines (metrics.jsonl files) side by side: one column per evaluation, labelled by
its model kind or, for `evaluate --samples`, its folder name; the floor column is the first evaluation's (the runs
share data settings, so their floors match; the table says where they differ)."""
import json
import sys

LOWER = {"swd", "fd_resnet18", "kid", "ms_ssim_gap", "iwae_bits_per_dim", "memorization"}


def label(rec):
    ctx = rec.get("context", {})
    if ctx.get("source") == "samples_folder":
        return ctx.get("samples_folder_name") or ctx.get("samples_folder", "samples folder")
    return ctx.get("model", "model").split(" ")[0]


def main(paths):
    recs = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(json.loads(line))
                    except json.JSONDecodeError:
                        print(f"<!-- {p}: a torn line was set aside -->")
    if not recs:
        sys.exit("no evaluations")
    names = []
    for r in recs:
        for m in r["metrics"]:
            if m["name"] not in names:
                names.append(m["name"])
    cols = [label(r) for r in recs]
    print("| metric | floor (real vs real) | " + " | ".join(cols) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in cols) + " |")
    for n in names:
        floor = None
        cells = []
        for r in recs:
            m = next((m for m in r["metrics"] if m["name"] == n), None)
            if m is None:
                cells.append("skipped" if n in r.get("skipped", {}) else "-")
                continue
            if floor is None and m.get("floor") is not None:
                floor = m["floor"]
            cells.append(f"{m['value']:.4g}")
        print(f"| `{n}` | {'' if floor is None else f'{floor:.4g}'} | " + " | ".join(cells) + " |")
    for r, c in zip(recs, cols):
        ctx = r.get("context", {})
        print(f"\n- **{c}**: " + ", ".join(f"{k} {ctx[k]}" for k in
              ("model", "sampler", "images_seen", "epoch", "samples", "test_used", "train_used", "samples_folder", "files")
              if k in ctx))


if __name__ == "__main__":
    main(sys.argv[1:])
