#!/usr/bin/python3
"""export.py -- the benchmark models as ONNX, with one random input each.

    /usr/bin/python3 bench/export.py OUTDIR [NAME ...]

Writes OUTDIR/NAME/model.onnx and OUTDIR/NAME/input.bin (raw little-endian
input: f32 image / tokens, or i64 token ids).  Models use the PyTorch
reference definitions of tests/models/tost_ref.py with seeded random weights
(no ToST weights are public; speed does not depend on the values):

  tost_s       ToST-S vision, 224 px: d 384, 12 blocks, 8 heads, 196 tokens, 1000 classes
  tost_t       ToST-T vision, 224 px: d 192, 12 blocks, 4 heads
  stack_N      2 ToST-S TSSA blocks (d 384, 8 heads) on (1, N, 384) tokens,
               N in 256, 1024, 4096, 16384
  lm_T         causal ToST LM: d 384, 6 layers, 6 heads, vocab 8192, block 2048,
               on T = 256 or 2048 tokens
  vit_b_16     torchvision's ViT-B/16 (its own random initialisation, the
               zero-initialised head drawn at random), 224 px: d 768, 12
               layers, 12 heads, 197 tokens
  bert_N       a 2-layer encoder of BERT-base width (tests/models/bert_ref.py):
               d 768, 12 heads, MLP 3072, post-norm, the additive mask of an
               all-ones attention mask, on (1, N, 768) embeddings, N = 128, 512
  att_N        softmax attention alone: 12 heads of 64 cut from a (1, N, 2304)
               qkv projection, scores / 8, softmax, values, heads merged
               (fused against --no-fuse: bench/ab.sh)
  mm_MxKxN     one MatMul, x (M, K) @ W (K, N) with W a constant: the GEMM
               alone, as each program runs it inside a model (ONNX Runtime
               pre-packs a constant B when it builds the session, tostc at
               compile time)
  CNNS         torchvision 0.14's classifiers (bench/cnn.sh), batch 1, 224 px,
               their own random initialisation, BatchNorm statistics randomised

An existing model.onnx is kept (delete the directory to re-export).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "models"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import tost_ref  # noqa: E402
from bert_ref import BertEncoder  # noqa: E402

LM = dict(dim=384, depth=6, heads=6, vocab=8192, block=2048)
CNNS = ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
        "mnasnet0_5", "shufflenet_v2_x0_5", "squeezenet1_1", "regnet_y_400mf", "resnet18"]


class Stack(nn.Module):
    """ToST-S TSSA blocks on a token matrix (no stem, no class attention)."""
    def __init__(self, dim=384, depth=2, heads=8):
        super().__init__()
        self.blocks = nn.ModuleList([tost_ref.TSSABlock(dim, heads) for _ in range(depth)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x


class Attention(nn.Module):
    """softmax attention of 12 heads of 64 on a qkv projection (1, N, 2304)"""
    def forward(self, qkv):
        b, n, _ = qkv.shape
        q, k, v = qkv.view(b, n, 3, 12, 64).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / 8.0, dim=-1)
        return (a @ v).permute(0, 2, 1, 3).reshape(b, n, 768)


class MatMul(nn.Module):
    """x @ w, w a constant (K, N): exported as one MatMul on an initializer"""
    def __init__(self, k, n):
        super().__init__()
        self.w = nn.Parameter(torch.randn(k, n) * k ** -0.5)

    def forward(self, x):
        return x @ self.w


def build(name):
    """(model, example input, input name)"""
    g = torch.Generator().manual_seed(1)
    if name in ("tost_s", "tost_t"):
        d, k = (384, 8) if name == "tost_s" else (192, 4)
        m = tost_ref.ToSTVision(dim=d, depth=12, heads=k, img=224, num_classes=1000)
        return m, torch.randn(1, 3, 224, 224, generator=g), "image"
    if name.startswith("stack_"):
        n = int(name[6:])
        return Stack(), torch.randn(1, n, 384, generator=g), "x"
    if name.startswith("lm_"):
        t = int(name[3:])
        m = tost_ref.ToSTLM(LM["dim"], LM["depth"], LM["heads"], LM["vocab"], LM["block"], t)
        return m, torch.randint(0, LM["vocab"], (1, t), generator=g, dtype=torch.int64), "idx"
    if name.startswith("mm_"):
        m, k, n = (int(v) for v in name[3:].split("x"))
        return MatMul(k, n), torch.randn(m, k, generator=g), "x"
    if name in CNNS:
        import torchvision.models
        m = getattr(torchvision.models, name)()
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                    mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=g))
                    mod.running_var.copy_(0.5 + torch.rand(mod.running_var.shape, generator=g))
        return m, torch.randn(1, 3, 224, 224, generator=g), "image"
    if name == "vit_b_16":
        import torchvision
        return torchvision.models.vit_b_16(), torch.randn(1, 3, 224, 224, generator=g), "image"
    if name.startswith("bert_"):
        return BertEncoder(layers=2), torch.randn(1, int(name[5:]), 768, generator=g), "x"
    if name.startswith("att_"):
        return Attention(), torch.randn(1, int(name[4:]), 2304, generator=g), "x"
    raise SystemExit("export.py: unknown model " + name)


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or ["tost_s", "tost_t", "stack_256", "stack_1024", "stack_4096",
                             "stack_16384", "lm_256", "lm_2048"]
    for name in names:
        d = os.path.join(out, name)
        path = os.path.join(d, "model.onnx")
        if os.path.exists(path):
            continue
        os.makedirs(d, exist_ok=True)
        torch.manual_seed(0)
        m, x, iname = build(name)
        if name not in CNNS and name != "vit_b_16":   # torchvision's own initialisation, seeded
            tost_ref.randomize(m, 0)
        elif name == "vit_b_16":   # whose classifier head starts at zero: random, so outputs compare
            with torch.no_grad():
                m.heads.head.weight.normal_(0.0, 0.02)   # seeded above
        m.eval()
        # nn.MultiheadAttention's fast path (under no_grad) has no ONNX export
        with torch.set_grad_enabled(name == "vit_b_16"):
            torch.onnx.export(m, (x,), path + ".tmp", opset_version=17, input_names=[iname],
                              output_names=["y"], do_constant_folding=True)
        x.numpy().tofile(os.path.join(d, "input.bin"))
        os.replace(path + ".tmp", path)
        print("exported", path, tuple(x.shape), flush=True)


if __name__ == "__main__":
    main()
