"""Runs one benchmark command, tags its JSON line and adds the GPU memory it held at its peak.

Usage: measure.py TOOL COMMAND...   prints the command's last stdout line (JSON) with "tool": TOOL and
"gpu_used_peak_mib": the largest rise of nvidia-smi's memory.used over its value before the command, sampled every
0.2 s (CUDA context and cached blocks included, the same measure for both tools: TorchSharp has no memory API;
PyTorch's own max_memory_allocated stays in its line as peak_gpu_mib). None where nvidia-smi is missing.
"""
import json
import subprocess
import sys
import threading


def used_mib():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
        return float(out.split()[0])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def main():
    tool, cmd = sys.argv[1], sys.argv[2:]
    base = used_mib()
    peak = [base]
    done = threading.Event()

    def poll():
        while not done.wait(0.2):
            u = used_mib()
            if u is not None and peak[0] is not None:
                peak[0] = max(peak[0], u)

    if base is not None:
        threading.Thread(target=poll, daemon=True).start()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    done.set()
    lines = [l for l in proc.stdout.splitlines() if l.strip().startswith("{")]
    if proc.returncode != 0 or not lines:
        print(json.dumps({"tool": tool, "error": f"exit {proc.returncode}", "command": " ".join(cmd)}))
        return
    r = json.loads(lines[-1])
    r["tool"] = tool
    r["gpu_used_peak_mib"] = None if base is None else round(peak[0] - base, 1)
    print(json.dumps(r))


main()
