"""
small_models.py -- a small ToST-style PyTorch model with random weights, for
the model tests (run_models.py), simpler than tost_ref.py's official layout:

  TinyToSTVision: conv stem (3x3 stride-2 convs with bias, BatchNorm, exact
      GELU between), learned position embedding, tost_ref.TSSABlock blocks
      (x += g1 * TSSA(LN1 x); x += g2 * MLP(LN2 x), LN eps 1e-6, MLP d->4d->d),
      final LayerNorm, mean over tokens, linear head.  (The official model's
      Fourier position encoding and class-attention blocks are left out.)

All parameters and BatchNorm running statistics are random (seeded), with
temperatures, LayerScale gains and denom_bias away from their trivial initial
values, so every term of the math is exercised.
"""
import math

import torch
import torch.nn as nn

import tost_ref


class TinyToSTVision(nn.Module):
    def __init__(self, img=32, dim=32, depth=2, heads=4, classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, dim // 2, 3, stride=2, padding=1), nn.BatchNorm2d(dim // 2), nn.GELU(),
            nn.Conv2d(dim // 2, dim, 3, stride=2, padding=1), nn.BatchNorm2d(dim))
        n = (img // 4) ** 2
        self.pos = nn.Parameter(torch.zeros(1, n, dim))
        self.blocks = nn.ModuleList([tost_ref.TSSABlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, img):                                   # img (B, 3, H, W)
        x = self.stem(img).flatten(2).transpose(1, 2)         # (B, N, d)
        x = x + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x).mean(dim=1))            # (B, classes)


def randomize(model, seed):
    """Random weights and statistics away from the trivial initial values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("temp"):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            elif "gamma" in name:
                p.copy_(0.1 + 0.4 * torch.rand(p.shape, generator=g))
            elif name.endswith("denom_bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:                                # biases, LN / BN affine
                base = 1.0 if ("ln" in name or "norm" in name or ".1." in name or ".4." in name) \
                    and name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel() if p.dim() > 1 else 1
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
    return model.eval()
