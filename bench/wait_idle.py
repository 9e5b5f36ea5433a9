"""Waits up to S seconds (argv[1], default 20) until other work uses fewer than 0.3 cores, as train_bench.py's
--wait-idle does, so that Hypha's runs in compare.sh start on idle cores like the reference's. Prints the wait."""
import os
import sys
import time


def busy_cores(seconds=1.0):
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return os.cpu_count() * (1 - (i1 - i0) / max(t1 - t0, 1))


limit = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
start = time.time()
while busy_cores() >= 0.3 and time.time() - start < limit:
    time.sleep(4)
print(f"waited {time.time() - start:.1f} s for idle cores", file=sys.stderr)
