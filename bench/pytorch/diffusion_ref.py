#!/usr/bin/env python3
"""PyTorch reference of Hypha's diffusion family (docs/model-diffusion.md): the same U-Net (names, shapes, parameter
count), the same cosine/linear schedules, v/epsilon targets, DDIM with trailing timesteps, EMA with warm-up.

  diffusion_ref.py bench  --chunk 64 --batch 32 --threads 2 ...     speed: one JSON line (fields as hypha-bench --mode diffusion)
  diffusion_ref.py train  --chunks DIR --minutes M --out DIR ...    quality: train for a wall-clock budget on PNG chunks, write samples
  diffusion_ref.py keys                                             state-dict keys and shapes of the default config
"""
import argparse, glob, json, math, os, resource, statistics, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(ch):
    return next(g for g in (32, 16, 8, 4, 2, 1) if ch % g == 0 and ch // g >= 4) if ch >= 4 else 1


def norm(ch):
    return nn.GroupNorm(groups(ch), ch, eps=1e-5)


def zero(m):
    nn.init.zeros_(m.weight)
    nn.init.zeros_(m.bias)
    return m


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb, dropout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = norm(cout), zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, t):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(t))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


def attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v: torch 2's fused kernel, or the same arithmetic on torch 1.13 (Debian 12's)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1) @ v


class Attention(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.heads = max(1, ch // 32)
        self.norm, self.qkv, self.proj = norm(ch), nn.Conv2d(ch, 3 * ch, 1), zero(nn.Conv2d(ch, ch, 1))

    def forward(self, x):
        b, c, h, w = x.shape
        d = c // self.heads
        y = self.qkv(self.norm(x)).reshape(b, 3, self.heads, d, h * w).permute(1, 0, 2, 4, 3)
        o = attention(y[0], y[1], y[2])
        return x + self.proj(o.permute(0, 1, 3, 2).reshape(b, c, h, w))


class Level(nn.Module):
    pass


class TimeMlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, 4 * width)

    def forward(self, e):
        return self.linear2(F.silu(self.linear1(e)))


class UNet(nn.Module):
    def __init__(self, channels=1, width=16, mult=(1, 2, 2, 4), res_blocks=2, attn=(8,), dropout=0.0, resolution=64):
        super().__init__()
        self.width, temb = width, 4 * width
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.time_mlp = TimeMlp(width)
        self.down, skips, ch, res = nn.ModuleList(), [width], width, resolution
        for i, m in enumerate(mult):
            lvl = Level()
            lvl.res = nn.ModuleList()
            if res in attn:
                lvl.attn = nn.ModuleList()
            for _ in range(res_blocks):
                lvl.res.append(ResBlock(ch, width * m, temb, dropout))
                ch = width * m
                if res in attn:
                    lvl.attn.append(Attention(ch))
                skips.append(ch)
            if i < len(mult) - 1:
                lvl.downsample = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
                skips.append(ch)
                res //= 2
            self.down.append(lvl)
        self.mid = Level()
        self.mid.res1, self.mid.attn, self.mid.res2 = ResBlock(ch, ch, temb, dropout), Attention(ch), ResBlock(ch, ch, temb, dropout)
        ups = {}
        for i in reversed(range(len(mult))):
            lvl = Level()
            lvl.res = nn.ModuleList()
            if res in attn:
                lvl.attn = nn.ModuleList()
            for _ in range(res_blocks + 1):
                lvl.res.append(ResBlock(ch + skips.pop(), width * mult[i], temb, dropout))
                ch = width * mult[i]
                if res in attn:
                    lvl.attn.append(Attention(ch))
            if i > 0:
                lvl.upsample = nn.Conv2d(ch, ch, 3, padding=1)
                res *= 2
            ups[i] = lvl
        self.up = nn.ModuleList([ups[i] for i in range(len(mult))])  # up.i indexed by level, up.(L-1) runs first
        self.norm_out, self.conv_out = norm(width), zero(nn.Conv2d(width, channels, 3, padding=1))

    def embed(self, t):
        half = self.width // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        a = t[:, None].float() * freqs[None]
        return torch.cat([torch.sin(a), torch.cos(a)], 1)

    def forward(self, x, t):
        temb = self.time_mlp(self.embed(t))
        h = self.conv_in(x)
        hs = [h]
        for lvl in self.down:
            for j, r in enumerate(lvl.res):
                h = r(h, temb)
                if hasattr(lvl, "attn"):
                    h = lvl.attn[j](h)
                hs.append(h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
                hs.append(h)
        h = self.mid.res2(self.mid.attn(self.mid.res1(h, temb)), temb)
        for i in reversed(range(len(self.up))):
            lvl = self.up[i]
            for j, r in enumerate(lvl.res):
                h = r(torch.cat([h, hs.pop()], 1), temb)
                if hasattr(lvl, "attn"):
                    h = lvl.attn[j](h)
            if hasattr(lvl, "upsample"):
                h = lvl.upsample(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def alpha_bar(schedule, T=1000):
    if schedule == "linear":
        betas = np.linspace(1e-4, 0.02, T, dtype=np.float64)
    else:
        f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - f(t + 1) / f(t), 0.999) for t in range(T)], dtype=np.float64)
    return torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)


def ddim(model, ab, n, shape, steps, eta, prediction, seed, noise=None):
    """DDIM from x_T, trailing timesteps. noise() returns a fresh [n, *shape] standard normal draw, x_T first (default:
    one generator seeded with seed; bench/pytorch/hypha_weights.py passes Hypha's per-sample streams)."""
    T = len(ab)
    ts = [int(round(t)) - 1 for t in np.arange(T, 0, -T / steps)]
    if noise is None:
        g = torch.Generator().manual_seed(seed)
        noise = lambda: torch.randn((n,) + shape, generator=g)
    x = noise()
    for i, t in enumerate(ts):
        a = ab[t]
        a_prev = ab[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
        out = model(x, torch.full((n,), t, dtype=torch.long))
        if prediction == "v":
            x0 = a.sqrt() * x - (1 - a).sqrt() * out
        else:
            x0 = (x - (1 - a).sqrt() * out) / a.sqrt()
        x0 = x0.clamp(-1, 1)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        sigma = eta * ((1 - a_prev) / (1 - a)).sqrt() * (1 - a / a_prev).sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
        if eta > 0 and i + 1 < len(ts):
            x = x + sigma * noise()
    return ((x + 1) / 2).clamp(0, 1)


class Ema:
    def __init__(self, model, decay):
        import copy
        self.decay, self.model, self.n = decay, copy.deepcopy(model).eval(), 0
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        self.n += 1
        d = min(self.decay, (1 + self.n) / (10 + self.n))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p, 1 - d)


def dihedral(x, g):
    codes = torch.randint(0, 8, (x.shape[0],), generator=g)
    out = torch.empty_like(x)
    for i, c in enumerate(codes.tolist()):
        y = x[i]
        if c & 4: y = y.transpose(-2, -1)
        if c & 1: y = y.flip(-1)
        if c & 2: y = y.flip(-2)
        out[i] = y
    return out


def step_loss(model, x01, ab, prediction, g):
    x0 = x01 * 2 - 1
    t = torch.randint(0, len(ab), (x0.shape[0],), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    a = ab[t][:, None, None, None]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    target = a.sqrt() * eps - (1 - a).sqrt() * x0 if prediction == "v" else eps
    return F.mse_loss(model(xt, t), target)


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def parse_mult(s):
    return tuple(int(v) for v in s.split(","))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["bench", "train", "keys"])
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--mult", default="1,2,2,4")
    p.add_argument("--res-blocks", type=int, default=2)
    p.add_argument("--attn", default="8")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--sample-count", type=int, default=64)
    p.add_argument("--sample-steps", type=int, default=50)
    p.add_argument("--chunks")
    p.add_argument("--minutes", type=float, default=15)
    p.add_argument("--out")
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--prediction", choices=["v", "eps"], default="eps")
    p.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    p.add_argument("--ema", type=float, default=0.0)
    p.add_argument("--augment", choices=["none", "dihedral"], default="none")
    p.add_argument("--grad-clip", type=float, default=0.0)
    p.add_argument("--eta", type=float, default=0.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    mult, attn = parse_mult(a.mult), parse_mult(a.attn)
    model = UNet(1, a.width, mult, a.res_blocks, attn, 0.0, a.chunk)
    params = sum(p.numel() for p in model.parameters())
    if a.mode == "keys":
        for k, v in model.state_dict().items():
            print(k, list(v.shape))
        print("parameters", params)
        return
    ab = alpha_bar(a.schedule)
    if a.mode == "bench":
        model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
        ema = Ema(model, 0.999)
        g = torch.Generator().manual_seed(0)
        x = torch.rand((a.batch, 1, a.chunk, a.chunk), generator=g)
        times, rss_before_train = [], current_rss_mib()
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            loss = step_loss(model, x, ab, "v", g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(model)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
        res = {"impl": "pytorch", "torch": torch.__version__, "mode": "diffusion", "chunk": a.chunk, "batch": a.batch,
               "width": a.width, "mult": list(mult), "res_blocks": a.res_blocks, "attn": list(attn), "params": params,
               "threads": a.threads, "train_images_per_s": a.batch * len(times) / sum(times),
               "train_step_ms_median": 1000 * statistics.median(times),
               "rss_before_train_mib": round(rss_before_train, 1), "peak_rss_train_mib": round(rss_mib(), 1)}
        if a.sample_steps > 0:
            with torch.no_grad():
                ddim(ema.model, ab, a.sample_count, (1, a.chunk, a.chunk), 2, 0.0, "v", 1)  # warm-up
                t0 = time.perf_counter()
                ddim(ema.model, ab, a.sample_count, (1, a.chunk, a.chunk), a.sample_steps, 0.0, "v", 1)
                el = time.perf_counter() - t0
            res["sample_images_per_s"] = a.sample_count / el
            res["sample_step_ms_median"] = 1000 * el / a.sample_steps
        res["peak_rss_mib"] = rss_mib()
        line = json.dumps(res)
        print(line)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")
        return
    # train: PNG chunks, wall-clock budget, then samples.
    from PIL import Image
    files = sorted(glob.glob(os.path.join(a.chunks, "*.png")))
    if not files:
        sys.exit(f"{a.chunks}: no PNG chunks")
    data = torch.from_numpy(np.stack([np.asarray(Image.open(f).convert("L"), dtype=np.float32) / 255.0 for f in files]))[:, None]
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    ema = Ema(model, a.ema) if a.ema > 0 else None
    g = torch.Generator().manual_seed(a.seed)
    seen, steps, start = 0, 0, time.perf_counter()
    model.train()
    while time.perf_counter() - start < a.minutes * 60:
        perm = torch.randperm(len(data), generator=g)
        for i in range(0, len(perm) - a.batch + 1, a.batch):
            x = data[perm[i:i + a.batch]]
            if a.augment == "dihedral":
                x = dihedral(x, g)
            loss = step_loss(model, x, ab, a.prediction, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
            opt.step()
            if ema:
                ema.update(model)
            seen += a.batch
            steps += 1
            if steps % 50 == 0:
                el = time.perf_counter() - start
                print(f"step {steps} images {seen} loss {loss.item():.4f} {seen / el:.1f} img/s", flush=True)
            if time.perf_counter() - start >= a.minutes * 60:
                break
    wall = time.perf_counter() - start
    net = (ema.model if ema else model).eval()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, a.count, 64):
            n = min(64, a.count - s)
            imgs = ddim(net, ab, n, (1, a.chunk if data.shape[-1] == a.chunk else data.shape[-1], data.shape[-1]), a.sample_steps, a.eta,
                        "v" if a.prediction == "v" else "eps", a.seed * 1000 + s)
            for k in range(n):
                Image.fromarray((imgs[k, 0].numpy() * 255 + 0.5).astype(np.uint8)).save(os.path.join(a.out, f"sample_{s + k:06d}.png"))
    info = {"impl": "pytorch", "torch": torch.__version__, "chunks": len(files), "params": params, "steps": steps, "images_seen": seen,
            "train_seconds": wall, "train_images_per_s": seen / wall, "sample_seconds": time.perf_counter() - t0, "samples": a.count,
            "prediction": a.prediction, "schedule": a.schedule, "ema": a.ema, "augment": a.augment, "lr": a.lr, "batch": a.batch,
            "threads": a.threads, "peak_rss_mib": rss_mib()}
    print(json.dumps(info))
    with open(os.path.join(a.out, "train.json"), "w") as f:
        f.write(json.dumps(info) + "\n")


if __name__ == "__main__":
    main()
