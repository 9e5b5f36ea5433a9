"""ResNet-18 VAE, PyTorch reference of docs/model-resnet-vae.md (state-dict keys as documented).

Works with PyTorch 1.13 and 2.x. Run as a script to write state_dict_keys.txt and state_dict_shapes.txt
(ch 1, w 64, L 256, chunk 64; only decoder.fc depends on the chunk):
    python3 resnet_vae.py [--dir DIR]
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: stride on conv1, 1x1 conv + BN shortcut when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.downsample is None else self.downsample(x)
        return F.relu(y + s)


class UpBlock(nn.Module):
    """Mirror of BasicBlock: stride 2 (up) on conv2, kernel-2 transposed-conv + BN shortcut."""

    def __init__(self, cin, cout, up=False):
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(cin, cin, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        if up:
            self.conv2 = nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, bias=False)
        else:
            self.conv2 = nn.ConvTranspose2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.upsample = None
        if up or cin != cout:
            conv = nn.ConvTranspose2d(cin, cout, 2, 2, bias=False) if up else nn.ConvTranspose2d(cin, cout, 1, 1, bias=False)
            self.upsample = nn.Sequential(conv, nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.upsample is None else self.upsample(x)
        return F.relu(y + s)


class Encoder(nn.Module):
    def __init__(self, ch=1, w=64, latent=256):
        super().__init__()
        self.stem_conv = nn.Conv2d(ch, w, 7, 2, 3, bias=False)
        self.stem_bn = nn.BatchNorm2d(w)
        self.layer1 = nn.Sequential(BasicBlock(w, w), BasicBlock(w, w))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w))
        self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 2), BasicBlock(8 * w, 8 * w))
        self.fc_mu = nn.Linear(8 * w, latent)
        self.fc_logvar = nn.Linear(8 * w, latent)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem_conv(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc_mu(x), self.fc_logvar(x)


class Decoder(nn.Module):
    def __init__(self, ch=1, w=64, latent=256, chunk=64):
        super().__init__()
        assert chunk % 32 == 0, "chunk must be a multiple of 32"
        self.w8, self.s = 8 * w, chunk // 32
        self.fc = nn.Linear(latent, self.w8 * self.s * self.s)
        self.layer4 = nn.Sequential(UpBlock(8 * w, 8 * w), UpBlock(8 * w, 4 * w, up=True))
        self.layer3 = nn.Sequential(UpBlock(4 * w, 4 * w), UpBlock(4 * w, 2 * w, up=True))
        self.layer2 = nn.Sequential(UpBlock(2 * w, 2 * w), UpBlock(2 * w, w, up=True))
        self.layer1 = nn.Sequential(UpBlock(w, w), UpBlock(w, w))
        self.unpool = nn.ConvTranspose2d(w, w, 2, 2, bias=False)
        self.unpool_bn = nn.BatchNorm2d(w)
        self.head = nn.ConvTranspose2d(w, ch, 7, 2, 3, output_padding=1)

    def forward(self, z):
        x = F.relu(self.fc(z)).view(-1, self.w8, self.s, self.s)
        x = self.layer1(self.layer2(self.layer3(self.layer4(x))))
        x = F.relu(self.unpool_bn(self.unpool(x)))
        return torch.sigmoid(self.head(x))


class ResNetVae(nn.Module):
    def __init__(self, ch=1, w=64, latent=256, chunk=64):
        super().__init__()
        self.encoder = Encoder(ch, w, latent)
        self.decoder = Decoder(ch, w, latent, chunk)

    def forward(self, x):
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def vae_loss(x, x_hat, mu, logvar, beta=1.0):
    """Summed squared error per image and KL, both averaged over the batch; computed in fp32."""
    x, x_hat, mu, logvar = x.float(), x_hat.float(), mu.float(), logvar.float()
    n = x.shape[0]
    recon = (x - x_hat).pow(2).sum() / n
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n
    return recon + beta * kl, recon, kl


def make_optimizer(model):
    return torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    a = p.parse_args()
    sd = ResNetVae(ch=1, w=64, latent=256, chunk=64).state_dict()
    with open(os.path.join(a.dir, "state_dict_keys.txt"), "w") as f:
        f.writelines(k + "\n" for k in sd)
    with open(os.path.join(a.dir, "state_dict_shapes.txt"), "w") as f:
        f.writelines("%s %s\n" % (k, "x".join(map(str, v.shape)) or "scalar") for k, v in sd.items())
    n = sum(v.numel() for v in ResNetVae(ch=1, w=64, latent=256, chunk=64).parameters())
    print("%d keys, %d parameters (ch 1, w 64, L 256, chunk 64) -> %s" % (len(sd), n, a.dir))
