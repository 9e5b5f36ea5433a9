"""Medians of bench/diffusion/speed.sh's JSON lines: training images/s, DDIM step time (64 images) and peak RSS of
Hypha against the PyTorch reference, with the ratios (above 1 means Hypha is faster; RSS: Hypha / PyTorch)."""
import json
import statistics
import sys

rows = {"hypha": [], "pytorch": []}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        rows[r["impl"]].append(r)
if not rows["hypha"] or not rows["pytorch"]:
    sys.exit(f"{sys.argv[1]}: needs runs of both hypha and pytorch")


def med(impl, key):
    return statistics.median(r[key] for r in rows[impl])


h, p = rows["hypha"][0], rows["pytorch"][0]
print(f"{len(rows['hypha'])} runs each, {h['threads']} threads; Hypha (libtorch {h['torch']}) against PyTorch {p['torch']}\n")
print("| median | Hypha | PyTorch | ratio |")
print("| --- | ---: | ---: | ---: |")
ti, tp = med("hypha", "train_images_per_s"), med("pytorch", "train_images_per_s")
print(f"| training images/s (batch {h['batch']}) | {ti:.1f} | {tp:.1f} | {ti / tp:.2f}x |")
si, sp = med("hypha", "sample_step_ms_median"), med("pytorch", "sample_step_ms_median")
print(f"| DDIM step, 64 images (ms) | {si:.0f} | {sp:.0f} | {sp / si:.2f}x |")
ri, rp = med("hypha", "peak_rss_mib"), med("pytorch", "peak_rss_mib")
print(f"| peak RSS (MiB) | {ri:.0f} | {rp:.0f} | {ri / rp:.2f} |")
bi, bp = med("hypha", "rss_before_train_mib"), med("pytorch", "rss_before_train_mib")
print(f"| RSS before training (MiB) | {bi:.0f} | {bp:.0f} | {bi / bp:.2f} |")
print("\nper run (training images/s; DDIM step ms; peak RSS MiB):")
for impl in ("hypha", "pytorch"):
    print(f"- {impl}: " + "; ".join(f"{r['train_images_per_s']:.1f} / {r['sample_step_ms_median']:.0f} / {r['peak_rss_mib']:.0f}" for r in rows[impl]))
