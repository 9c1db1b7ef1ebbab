"""
small_models.py -- small ToST-style PyTorch models with random weights, for
the model tests (run_models.py).  They follow /work/shared/TOST.md and the
official code (RobinWu218/ToST: tost_vision/tost.py AttentionTSSA,
tost_lang/model_TSSA.py CausalSelfAttention), shrunk so that export, compile
and run take seconds:

  TinyToSTVision: conv stem (3x3 stride-2 convs, BatchNorm, exact GELU
      between), learned position embedding, TSSA blocks with LayerScale
      (x += g1 * TSSA(LN1 x); x += g2 * MLP(LN2 x), LN eps 1e-6, MLP d->4d->d),
      final LayerNorm, mean over tokens, linear head.  (The official model's
      Fourier position encoding and class-attention blocks are left out.)
  TinyToSTLM: nanoGPT style: int64 token ids, token + position embeddings,
      causal TSSA (CumSum form) blocks with LayerScale, ln_f, head tied to
      the token embedding.

All parameters and BatchNorm running statistics are random (seeded), with
temperatures, LayerScale gains and denom_bias away from their trivial initial
values, so every term of the math is exercised.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TSSA(nn.Module):
    """Vision TSSA, as AttentionTSSA in tost_vision/tost.py."""

    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim, bias=qkv_bias)       # the projection U
        self.temp = nn.Parameter(torch.ones(heads, 1))
        self.proj = nn.Linear(dim, dim)                       # Wo

    def forward(self, x):                                     # x (B, N, d)
        B, N, C = x.shape
        w = self.qkv(x).view(B, N, self.heads, C // self.heads).permute(0, 2, 1, 3)  # (B, h, N, p)
        w_normed = F.normalize(w, dim=-2)                     # L2 over tokens, eps 1e-12
        w_sq = w_normed ** 2
        pi = torch.softmax(torch.sum(w_sq, dim=-1) * self.temp, dim=1)  # (B, h, N), over heads
        dots = torch.matmul((pi / (pi.sum(dim=-1, keepdim=True) + 1e-8)).unsqueeze(-2), w ** 2)
        attn = 1.0 / (1 + dots)                               # (B, h, 1, p)
        out = -torch.mul(w.mul(pi.unsqueeze(-1)), attn)       # (B, h, N, p)
        out = out.permute(0, 2, 1, 3).reshape(B, N, C)
        return self.proj(out)


class CausalTSSA(nn.Module):
    """Causal TSSA, as CausalSelfAttention in tost_lang/model_TSSA.py."""

    def __init__(self, dim, heads, block_size, bias=False):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(dim, dim, bias=bias)
        self.c_proj = nn.Linear(dim, dim, bias=bias)
        self.temp = nn.Parameter(torch.ones(heads, 1))
        self.denom_bias = nn.Parameter(torch.zeros(heads, block_size, 1))

    def forward(self, x):                                     # x (B, T, d)
        B, T, C = x.shape
        w = self.c_attn(x).view(B, T, self.heads, C // self.heads).transpose(1, 2)  # (B, h, T, p)
        w_sq = w ** 2
        denom = torch.cumsum(w_sq, dim=-2).clamp_min(1e-12)
        w_normed = w_sq / denom + self.denom_bias[:, :T, :]
        tmp = torch.sum(w_normed, dim=-1) * self.temp        # (B, h, T)
        pi = torch.softmax(tmp, dim=1)                        # over heads
        dots = torch.cumsum(w_sq * pi.unsqueeze(-1), dim=-2) / (pi.cumsum(dim=-1) + 1e-8).unsqueeze(-1)
        attn = 1.0 / (1 + dots)
        y = -torch.mul(w.mul(pi.unsqueeze(-1)), attn)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, dim, bias=True):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim, bias=bias)
        self.fc2 = nn.Linear(4 * dim, dim, bias=bias)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))                  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, attn, dim, eps, bias=True):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim, eps=eps)
        self.attn = attn
        self.ln2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim, bias)
        self.gamma1 = nn.Parameter(torch.ones(dim))          # LayerScale
        self.gamma2 = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x = x + self.gamma1 * self.attn(self.ln1(x))
        return x + self.gamma2 * self.mlp(self.ln2(x))


class TinyToSTVision(nn.Module):
    def __init__(self, img=32, dim=32, depth=2, heads=4, classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, dim // 2, 3, stride=2, padding=1), nn.BatchNorm2d(dim // 2), nn.GELU(),
            nn.Conv2d(dim // 2, dim, 3, stride=2, padding=1), nn.BatchNorm2d(dim))
        n = (img // 4) ** 2
        self.pos = nn.Parameter(torch.zeros(1, n, dim))
        self.blocks = nn.ModuleList([Block(TSSA(dim, heads), dim, 1e-6) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, img):                                   # img (B, 3, H, W)
        x = self.stem(img).flatten(2).transpose(1, 2)         # (B, N, d)
        x = x + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x).mean(dim=1))            # (B, classes)


class TinyToSTLM(nn.Module):
    def __init__(self, vocab=64, block_size=32, dim=32, depth=2, heads=4):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(block_size, dim)
        self.blocks = nn.ModuleList([Block(CausalTSSA(dim, heads, block_size), dim, 1e-5, bias=False)
                                     for _ in range(depth)])
        self.ln_f = nn.LayerNorm(dim, eps=1e-5)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight                 # tied

    def forward(self, idx):                                   # idx (B, T) int64
        T = idx.shape[1]
        pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for b in self.blocks:
            x = b(x)
        return self.lm_head(self.ln_f(x))                     # (B, T, vocab)


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
