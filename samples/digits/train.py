#!/usr/bin/python3
"""Train a small ToST classifier on sklearn's 8x8 digits and export it.

Data: sklearn.datasets.load_digits (1797 images, 8x8, 10 classes), pixels
scaled to [0, 1] (x / 16); fixed split train_test_split(test_size=0.25,
random_state=0, stratify=None) -> 1347 train / 450 test images.

Model (official ToST vision architecture, scaled down; parameter names as in
RobinWu218/ToST tost_vision/tost.py and XCiT, so state_dict keys match):
  patch_embed.proj: conv3x3(1->16)+BN, GELU, conv3x3 stride 2 (16->32)+BN
                    -> 4x4 = 16 tokens of d = 32
  pos_embeder:      Fourier positional encoding (hidden 32) + 1x1 conv
  blocks[0..1]:     x += gamma1 * TSSA(norm1(x)); x += gamma2 * MLP(norm2(x))
  cls_attn_blocks[0]: XCiT class-attention block (tokens_norm=True)
  norm, head:       LayerNorm, Linear(32 -> 10) on the class token

Writes (next to this script):
  digits.safetensors  the trained state_dict (F32; num_batches_tracked I64)
  digits.onnx         the same model exported by torch.onnx (opset 17)
  digits_test.bin     the test split: int32 n, n*64 float32 pixels, n uint8 labels
  expected.txt        PyTorch's test accuracy and the logits of test image 0

Runs in well under a minute on one core: /usr/bin/python3 train.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
D, HEADS, DEPTH, EPS = 32, 4, 2, 1e-6


class AttentionTSSA(nn.Module):
    """Token Statistics Self-Attention (vision, non-causal)."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.heads = num_heads
        self.qkv = nn.Linear(dim, dim, bias=True)
        self.temp = nn.Parameter(torch.ones(num_heads, 1))
        self.to_out = nn.Sequential(nn.Linear(dim, dim))

    def forward(self, x):
        b, n, c = x.shape
        w = self.qkv(x).reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
        w_normed = F.normalize(w, dim=-2)
        pi = torch.softmax(torch.sum(w_normed ** 2, dim=-1) * self.temp, dim=1)
        dots = torch.matmul((pi / (pi.sum(dim=-1, keepdim=True) + 1e-8)).unsqueeze(-2), w ** 2)
        attn = 1.0 / (1 + dots)
        out = -torch.mul(w.mul(pi.unsqueeze(-1)), attn)
        out = out.permute(0, 2, 1, 3).reshape(b, n, c)
        return self.to_out(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, eta=1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = AttentionTSSA(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, 4 * dim)
        self.gamma1 = nn.Parameter(eta * torch.ones(dim))
        self.gamma2 = nn.Parameter(eta * torch.ones(dim))

    def forward(self, x):
        x = x + self.gamma1 * self.attn(self.norm1(x))
        x = x + self.gamma2 * self.mlp(self.norm2(x))
        return x


class ClassAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        qc = q[:, :, 0:1]
        attn = ((qc * k).sum(dim=-1) * self.scale).softmax(dim=-1)
        cls = (attn.unsqueeze(2) @ v).transpose(1, 2).reshape(B, 1, C)
        return self.proj(cls)


class ClassAttentionBlock(nn.Module):
    def __init__(self, dim, heads, eta=1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = ClassAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, 4 * dim)
        self.gamma1 = nn.Parameter(eta * torch.ones(dim))
        self.gamma2 = nn.Parameter(eta * torch.ones(dim))

    def forward(self, x):
        x_norm1 = self.norm1(x)
        x_attn = torch.cat([self.attn(x_norm1), x_norm1[:, 1:]], dim=1)
        x = x + self.gamma1 * x_attn
        x = self.norm2(x)                      # tokens_norm=True
        x_res = x
        cls_token = self.gamma2 * self.mlp(x[:, 0:1])
        x = torch.cat([cls_token, x[:, 1:]], dim=1)
        return x_res + x


class PositionalEncodingFourier(nn.Module):
    def __init__(self, hidden_dim=32, dim=768, temperature=10000):
        super().__init__()
        self.token_projection = nn.Conv2d(hidden_dim * 2, dim, kernel_size=1)
        self.scale = 2 * math.pi
        self.temperature = temperature
        self.hidden_dim = hidden_dim

    def forward(self, B, H, W):
        mask = torch.zeros(B, H, W).bool()
        not_mask = ~mask
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        eps = 1e-6
        y_embed = y_embed / (y_embed[:, -1:, :] + eps) * self.scale
        x_embed = x_embed / (x_embed[:, :, -1:] + eps) * self.scale
        dim_t = torch.arange(self.hidden_dim, dtype=torch.float32)
        dim_t = self.temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / self.hidden_dim)
        pos_x = x_embed[:, :, :, None] / dim_t
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos = torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)
        return self.token_projection(pos)


def conv3x3(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(cout))


class ConvPatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Sequential(conv3x3(1, dim // 2, 1), nn.GELU(), conv3x3(dim // 2, dim, 2))

    def forward(self, x):
        x = self.proj(x)
        return x, x.shape[2], x.shape[3]


class ToSTDigits(nn.Module):
    def __init__(self, dim=D, heads=HEADS, depth=DEPTH, classes=10):
        super().__init__()
        self.patch_embed = ConvPatchEmbed(dim)
        self.pos_embeder = PositionalEncodingFourier(hidden_dim=32, dim=dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.cls_attn_blocks = nn.ModuleList([ClassAttentionBlock(dim, heads)])
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(self, x):
        B = x.shape[0]
        x, Hp, Wp = self.patch_embed(x)
        x = x.flatten(2).transpose(1, 2)
        pos = self.pos_embeder(B, Hp, Wp).reshape(B, -1, x.shape[1]).permute(0, 2, 1)
        x = x + pos
        for blk in self.blocks:
            x = blk(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        for blk in self.cls_attn_blocks:
            x = blk(x)
        x = self.norm(x)[:, 0]
        return self.head(x)


def save_safetensors(path, tensors, metadata=None):
    """A minimal .safetensors writer: header JSON (sorted keys) + raw little-endian data."""
    codes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    xtr, xte, ytr, yte = load_data()
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t = torch.from_numpy(xte)
    model = ToSTDigits()
    epochs, bs = 25, 32
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(xtr) + bs - 1) // bs))
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if ep % 10 == 9 or ep == epochs - 1:
            print(f"epoch {ep + 1}: train loss {total / len(xtr):.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xte_t[i:i + 1]) for i in range(len(xte_t))])
    pred = logits.argmax(1).numpy()
    correct = int((pred == yte).sum())
    acc = correct / len(yte)
    print(f"PyTorch test accuracy: {correct}/{len(yte)} = {acc:.4f}")

    save_safetensors(os.path.join(HERE, "digits.safetensors"), model.state_dict(),
                     {"format": "pt", "model": "ToSTDigits d32 h4 depth2"})
    dummy = torch.zeros(1, 1, 8, 8)
    torch.onnx.export(model, dummy, os.path.join(HERE, "digits.onnx"), opset_version=17,
                      input_names=["image"], output_names=["logits"], do_constant_folding=True)
    with open(os.path.join(HERE, "digits_test.bin"), "wb") as f:
        f.write(struct.pack("<i", len(xte)))
        f.write(xte.astype("<f4").tobytes())
        f.write(yte.astype(np.uint8).tobytes())
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write(f"correct {correct}\ntotal {len(yte)}\n")
        f.write("logits0 " + " ".join(f"{v:.7g}" for v in logits[0].tolist()) + "\n")


if __name__ == "__main__":
    main()
