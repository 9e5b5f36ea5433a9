#!/usr/bin/env python3
"""Hypha's exported weights in PyTorch: build the network a `hypha export` file fits, load it, decode and sample.

    import hypha_weights as hw
    model, config = hw.load("model.safetensors")     # config: the file's metadata, else model.json beside it
    images = hw.decode(model, config, latents)       # VAE: z [N, L]; diffusion: x_T [N, C, R, R] (DDIM) -> [N, C, R, R] in [0, 1]
    images = hw.sample(model, config, 16, seed=0)    # Hypha's seeds: the same images as `hypha sample --seed 0`
    hw.save(model, config, "mine.safetensors")       # a file `hypha import` reads (e.g. after fine-tuning in PyTorch)

Families: resnet_vae (resnet_vae.ResNetVae: encoder and decoder) and diffusion (diffusion_ref.UNet: the EMA weights,
the ones that sample). Other families' files hold their weights under Hypha's own names but have no PyTorch twin here.
Images are float32 in [0, 1], 0 black, each source image normalized as config["run"]["data"] says.

Needs only torch (1.13 or 2.x; runs on the CPU): safetensors is read and written below, so the `safetensors` package is not
needed (its `safetensors.torch.load_file` reads these files too). Little-endian machines only, as the format.

    python3 hypha_weights.py info   --weights F
    python3 hypha_weights.py decode --weights F --latents L.safetensors --out O.safetensors [--steps 50] [--eta 0]
    python3 hypha_weights.py sample --weights F --count 16 --seed 0 --out O.safetensors [--steps 50] [--eta 0]
    python3 hypha_weights.py resave --weights F --out G.safetensors
Tensors are read from and written to safetensors files under the names "latents" and "images".
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffusion_ref  # noqa: E402  (the U-Net, schedules and DDIM: one definition, shared with the benchmarks)
import resnet_vae  # noqa: E402

FORMAT = 1  # the config layout this module reads (Hypha's ExportedConfig.CurrentFormat)
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
           "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """(tensors by name, in file order; metadata dict) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 10:
        raise ValueError(f"{path}: too short for a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise ValueError(f"{path}: its header length {n} exceeds the file (truncated, or not safetensors)")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    base, tensors = 8 + n, {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dtype = _DTYPES[e["dtype"]]
        if b > a:
            t = torch.frombuffer(bytearray(data[base + a:base + b]), dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (any device) and string metadata; atomically (a temporary file renamed over path)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)  # keeps every tensor 8-byte aligned
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(len(js).to_bytes(8, "little"))
        f.write(js)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def read_config(path, metadata, config=None):
    """The model configuration: config (a dict or a JSON file), else the file's "hypha" metadata, else NAME.json beside it."""
    if isinstance(config, dict):
        return config
    if config is not None:
        with open(config) as f:
            return json.load(f)
    if "hypha" in metadata:
        return json.loads(metadata["hypha"])
    beside = os.path.splitext(path)[0] + ".json"
    if os.path.exists(beside):
        with open(beside) as f:
            return json.load(f)
    raise ValueError(f"{path}: no 'hypha' metadata and no {os.path.basename(beside)} beside it; pass the config")


def build(config):
    """The untrained PyTorch network a config describes."""
    if config.get("format", FORMAT) > FORMAT:
        raise ValueError(f"config format {config['format']} is newer than this module reads ({FORMAT})")
    m, ch, res = config["model"], config.get("channels", 1), config["resolution"]
    kind = m.get("kind", "resnet_vae")
    if kind == "resnet_vae":
        return resnet_vae.ResNetVae(ch=ch, w=m.get("width", 64), latent=m.get("latent", 256), chunk=res)
    if kind == "diffusion":
        return diffusion_ref.UNet(ch, m.get("width", 16), tuple(m.get("channel_mult", (1, 2, 2, 4))), m.get("res_blocks", 2),
                                  tuple(m.get("attention_resolutions", (8,))), m.get("dropout", 0.0), res)
    raise ValueError(f"model kind '{kind}' has no PyTorch twin in this module (resnet_vae and diffusion do); "
                     "its weights are in the file under Hypha's names")


def load(path, config=None):
    """(network in eval mode with the file's weights, config). Every tensor must fit (load_state_dict strict)."""
    tensors, metadata = read_safetensors(path)
    config = read_config(path, metadata, config)
    model = build(config)
    model.load_state_dict(tensors, strict=True)
    return model.eval(), config


def save(model, config, path):
    """Writes model's state dict and config (the "hypha" metadata, and NAME.json beside) as `hypha import` reads them."""
    text = json.dumps(config, indent=2)
    write_safetensors(path, model.state_dict(), {"format": "pt", "hypha": json.dumps(config, separators=(",", ":"))})
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        f.write(text + "\n")


def _mix(seed, index):
    """Hypha's SampleNoise.SeedFor: splitmix64 of (seed, index), 63 bits."""
    mask = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + index + 0x632BE59BD9B4E019) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


def hypha_noise(seed, start, count, shape):
    """A draw function for diffusion_ref.ddim: sample i's noise from its own generator seeded from (seed, start + i), as Hypha."""
    gens = [torch.Generator().manual_seed(_mix(seed, start + i)) for i in range(count)]
    return lambda: torch.stack([torch.randn(shape, generator=g) for g in gens])


@torch.no_grad()
def decode(model, config, latents, steps=None, eta=None):
    """Images [N, C, R, R] in [0, 1]. VAE: the decoder of z [N, L]. Diffusion: DDIM from x_T [N, C, R, R]
    (steps and eta default to the model's; eta > 0 draws from one generator seeded 0, not Hypha's streams)."""
    latents = latents.float()
    if config["model"].get("kind", "resnet_vae") == "diffusion":
        first, g = [latents], torch.Generator().manual_seed(0)
        return _ddim(model, config, latents.shape, steps, eta,
                     lambda: first.pop() if first else torch.randn(latents.shape, generator=g))
    return model.decoder(latents).float()


def _ddim(model, config, shape, steps, eta, noise):
    m = config["model"]
    ab = diffusion_ref.alpha_bar(m.get("schedule", "cosine"), m.get("timesteps", 1000))
    return diffusion_ref.ddim(model, ab, shape[0], tuple(shape[1:]), steps or m.get("sample_steps", 50),
                              m.get("eta", 0.0) if eta is None else eta, m.get("prediction", "v"), 0, noise=noise).float()


@torch.no_grad()
def sample(model, config, count, seed=0, start=0, steps=None, eta=None):
    """Images start .. start + count - 1 of Hypha's seeded sequence, [count, C, R, R] in [0, 1]: the VAE
    decodes prior latents drawn as Hypha draws them; the diffusion model runs DDIM from Hypha's per-sample noise (x_T
    and, with eta > 0, each step's noise, in Hypha's order). DDIM only: a model whose default sampler is ddpm is refused."""
    m, ch, res = config["model"], config.get("channels", 1), config["resolution"]
    if m.get("kind", "resnet_vae") == "diffusion":
        if m.get("sampler", "ddim") != "ddim":
            raise ValueError(f"the model samples with {m['sampler']} by default; this module runs DDIM only "
                             "(set config['model']['sampler'] = 'ddim' to sample with DDIM)")
        return _ddim(model, config, (count, ch, res, res), steps, eta, hypha_noise(seed, start, count, (ch, res, res)))
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((start + count, m.get("latent", 256)), generator=g)[start:]
    return model.decoder(z).float()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["info", "decode", "sample", "resave"])
    p.add_argument("--weights", required=True, help="the .safetensors file hypha export wrote")
    p.add_argument("--config", help="its JSON (default: the file's metadata, else NAME.json beside it)")
    p.add_argument("--latents", help="decode: a safetensors file with a tensor 'latents'")
    p.add_argument("--out", help="decode, sample: a safetensors file to write 'images' to; resave: the weights file to write")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="diffusion: DDIM steps (default: the model's)")
    p.add_argument("--eta", type=float, help="diffusion: DDIM eta (default: the model's)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    model, config = load(a.weights, a.config)
    if a.mode == "info":
        n = sum(t.numel() for t in model.state_dict().values())
        print(json.dumps({"kind": config["model"].get("kind"), "channels": config.get("channels", 1), "resolution": config["resolution"],
                          "tensors": len(model.state_dict()), "values": n, "weights": config.get("weights", ""), "torch": torch.__version__}))
        return
    if a.mode == "resave":
        save(model, config, a.out)
        return
    if a.mode == "decode":
        latents, _ = read_safetensors(a.latents)
        images = decode(model, config, latents["latents"], a.steps, a.eta)
    else:
        images = sample(model, config, a.count, a.seed, 0, a.steps, a.eta)
    write_safetensors(a.out, {"images": images.contiguous()}, {"torch": torch.__version__})
    print(f"wrote {images.shape[0]} images {list(images.shape[1:])} to {a.out}")


if __name__ == "__main__":
    main()
