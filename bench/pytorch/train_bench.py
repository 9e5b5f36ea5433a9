"""Train-throughput benchmark of the ResNet-18 VAE, written the way a typical PyTorch user would.

Chunks are cut from the real images into memory, served by TensorDataset + DataLoader; the timed steps
include data loading, forward, backward and the optimizer step. Prints one JSON line.
"""
import argparse
import glob
import json
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_vae import ResNetVae, make_optimizer, vae_loss  # noqa: E402


def load_chunks(pattern, chunk, stride):
    """Grayscale, per-image z-score, clip to [-1, 1], rescale to [0, 1], chunks of `chunk` at `stride`."""
    out = []
    files = sorted(glob.glob(pattern))
    if not files:
        sys.exit("no images match " + pattern)
    for f in files:
        a = np.asarray(Image.open(f).convert("L"), dtype=np.float32)
        a = (np.clip((a - a.mean()) / (a.std() + 1e-8), -1.0, 1.0) + 1.0) / 2.0
        for y in range(0, a.shape[0] - chunk + 1, stride):
            for x in range(0, a.shape[1] - chunk + 1, stride):
                out.append(a[y:y + chunk, x:x + chunk])
    return torch.from_numpy(np.stack(out)).unsqueeze(1)  # N x 1 x C x C


def busy_cores(seconds=1.0):
    """Cores kept busy (by anyone) over `seconds`, from /proc/stat; None where there is none."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except OSError:
        return None
    return os.cpu_count() * (1 - (i1 - i0) / max(t1 - t0, 1))


def wait_idle(max_s, below=0.3):
    """On a shared machine: wait up to max_s seconds until other work uses fewer than `below` cores."""
    t0 = time.time()
    while True:
        b = busy_cores()
        if b is None or b < below or time.time() - t0 >= max_s:
            return round(time.time() - t0, 1), None if b is None else round(b, 2)
        time.sleep(4)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="/work/shared/data/amf_ink_roots/*.jpg", help="glob of the images")
    p.add_argument("--chunk", type=int, default=64, choices=(64, 224))
    p.add_argument("--stride", type=int, default=0, help="chunk stride (default chunk/2)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--latent", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wait-idle", type=float, default=0, metavar="S",
                   help="first wait up to S seconds for the CPUs to be idle (a shared machine)")
    p.add_argument("--channels-last", action="store_true", help="model and batches channels_last in fp32 too (bf16 always is)")
    p.add_argument("--sample-batches", type=int, default=0, metavar="N",
                   help="timed sampling batches (default: as many as --steps), after as many warm-up ones as --warmup")
    p.add_argument("--phases", action="store_true",
                   help="also time forward (with the loss), backward and the optimizer step apart (medians in ms)")
    a = p.parse_args()

    waited, busy0 = wait_idle(a.wait_idle) if a.wait_idle > 0 else (0.0, None)
    load0 = round(os.getloadavg()[0], 2)  # the machine may be shared: record how busy it was
    torch.manual_seed(a.seed)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    bf16 = a.precision == "bf16"
    fmt = torch.channels_last if bf16 or a.channels_last else torch.contiguous_format
    if cuda:
        torch.backends.cudnn.benchmark = True

    data = load_chunks(a.data, a.chunk, a.stride or a.chunk // 2)
    loader = DataLoader(TensorDataset(data), batch_size=a.batch, shuffle=True, num_workers=0,
                        drop_last=True, pin_memory=cuda)
    if len(loader) == 0:
        sys.exit("fewer chunks (%d) than one batch" % len(data))

    model = ResNetVae(ch=1, w=a.width, latent=a.latent, chunk=a.chunk).to(dev, memory_format=fmt)
    opt = make_optimizer(model)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16)
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def batches():
        while True:
            for (x,) in loader:
                yield x

    it = batches()
    model.train()
    step_t, data_t, cpu_t = [], [], []
    phase_t = {"forward": [], "backward": [], "optimizer": []}  # forward includes the loss
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        c0, t0 = time.process_time(), time.perf_counter()
        x = next(it).to(dev, non_blocking=True).contiguous(memory_format=fmt)
        sync()
        t1 = time.perf_counter()
        with autocast:
            x_hat, mu, logvar = model(x)
        loss_t, _, _ = vae_loss(x, x_hat, mu, logvar)
        if a.phases:
            sync()
            tf = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_t.backward()
        if a.phases:
            sync()
            tb = time.perf_counter()
        opt.step()
        sync()
        t2 = time.perf_counter()
        if i >= a.warmup:
            step_t.append(t2 - t0)
            data_t.append(t1 - t0)
            cpu_t.append(time.process_time() - c0)
            if a.phases:
                phase_t["forward"].append(tf - t1)
                phase_t["backward"].append(tb - tf)
                phase_t["optimizer"].append(t2 - tb)
    # Pages malloc handed back to the kernel and touched again: each costs a fault and a zeroed page.
    faults_per_step = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / a.steps
    loss = loss_t.item()

    # Sampling: decode random latents, no grad, batch B.
    model.eval()
    sample_t = []
    with torch.no_grad(), autocast:
        for i in range(a.warmup + (a.sample_batches or a.steps)):
            t0 = time.perf_counter()
            model.decoder(torch.randn(a.batch, a.latent, device=dev))
            sync()
            if i >= a.warmup:
                sample_t.append(time.perf_counter() - t0)

    total = sum(step_t)
    res = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": a.device,
        "device_name": torch.cuda.get_device_name(dev) if cuda else cpu_model(),
        "precision": a.precision,
        "channels_last": fmt == torch.channels_last,
        "chunk": a.chunk,
        "stride": a.stride or a.chunk // 2,
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "width": a.width,
        "latent": a.latent,
        "chunks": len(data),
        "warmup": a.warmup,
        "steps": a.steps,
        "train_img_s": round(a.batch * a.steps / total, 2),
        "train_step_ms_median": round(1000 * statistics.median(step_t), 2),
        "data_share": round(sum(data_t) / total, 4),
        "train_minor_faults_per_step": round(faults_per_step, 1),
        "sample_img_s": round(a.batch * len(sample_t) / sum(sample_t), 2),
        "final_loss": round(loss, 3),
        "loadavg_1m_start": load0,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not cuda:
        # CPU time of the process / (wall time x threads) over the timed training steps: well below 1
        # means the threads did not get their cores (a shared machine) or did not scale.
        res["cpu_use"] = round(sum(cpu_t) / total / torch.get_num_threads(), 3)
        res["busy_cores_start"], res["idle_wait_s"] = busy0, waited
    if a.phases:
        for k, v in phase_t.items():
            res[k + "_ms_median"] = round(1000 * statistics.median(v), 2)
        res["step_ms_mean"] = round(1000 * statistics.mean(step_t), 2)
        res["step_ms_max"] = round(1000 * max(step_t), 2)
    if cuda:
        res["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
