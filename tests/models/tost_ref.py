#!/usr/bin/python3
"""tost_ref.py -- PyTorch reference ToST models for tostc's model tests.

The definitions follow the official ToST code (RobinWu218/ToST:
tost_vision/tost.py, which builds on XCiT, and tost_lang/model_TSSA.py, which
builds on nanoGPT) op for op in the TSSA attention, so that the ONNX graphs
PyTorch exports from them are the graphs tostc's fusion pass must recognise:

  vision TSSA  w = qkv(x); w -> (b, h, n, p); F.normalize over tokens;
               Pi = softmax over heads of (sum_j w_normed^2 * temp);
               dots = (Pi / (Pi.sum(-1) + 1e-8)) @ w^2; attn = 1 / (1 + dots);
               out = -(w * Pi) * attn; merge heads; to_out
  causal TSSA  the same with cumulative (prefix) sums over tokens, the clamp
               1e-12 on the prefix sum of w^2 and the learned denom_bias.

Differences from the official code, all mathematically neutral:
  - einops.rearrange is written as reshape/permute (einops is not installed);
  - the class-attention block writes `x[:, 0:1] = norm2(x[:, 0:1])` as a
    concatenation (same values; avoids an index_put in the export);
  - parameters are random, not at their init values (temp, denom_bias,
    LayerScale gammas, LayerNorm/BatchNorm affine and statistics), so that a
    compiler that ignores one of them produces visibly wrong outputs.

TSSA(variant=...) selects alternative spellings of the same mathematics, for
fusion robustness tests (they are NOT the official code):
  "official"  as above;
  "div"       division instead of reciprocal-multiply, norm as
              sqrt(sum(w*w)) with clamp via torch.maximum, Pi normalised after
              the matmul;
  "l2sum"     ReduceL2 norm via Tensor.norm, clamp_min, moments as
              Mul + ReduceSum (no MatMul), head split by view + transpose(1, 2),
              temp multiplied on the left, reciprocal of (1 + m).
  "rank3"     batch 1 only: the heads of the (N, d) matrix x[0] as (K, N, p),
              sqrt-of-Pow norm, Clip clamp, the sign in the denominator.
Near-miss variants (must NOT fuse as TSSA, or fuse only with their own eps):
  "tokensoftmax"  softmax over tokens instead of heads;
  "eps"           norm clamp 1e-6 and pi-sum eps 1e-5 (fuses with those eps).

Model inputs / outputs (names used by export()):
  ToSTVision:  image f32 (B, 3, H, W)  -> logits f32 (B, num_classes)
  ToSTLM:      idx   i64 (B, T)        -> logits f32 (B, T, vocab)

Command line (exports one model, and one test data set in the ONNX backend
test layout: DIR/model.onnx, DIR/test_data_set_0/{input_0,output_0}.pb):
  tost_ref.py vision --dim 64 --depth 2 --heads 4 --img 64 --opset 17 -o DIR
  tost_ref.py lm --dim 64 --depth 2 --heads 4 --vocab 97 --block 32 --seq 16 -o DIR
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------
# vision TSSA (tost_vision/tost.py: AttentionTSSA)
# --------------------------------------------------------------------------

class AttentionTSSA(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=True, variant="official"):
        super().__init__()
        self.heads = num_heads
        self.variant = variant
        self.attend = nn.Softmax(dim=1)           # over heads
        self.qkv = nn.Linear(dim, dim, bias=qkv_bias)
        self.temp = nn.Parameter(torch.ones(num_heads, 1))
        self.to_out = nn.Sequential(nn.Linear(dim, dim))

    def split(self, t):          # b n (h d) -> b h n d
        b, n, c = t.shape
        return t.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)

    def merge(self, t):          # b h n d -> b n (h d)
        b, h, n, d = t.shape
        return t.permute(0, 2, 1, 3).reshape(b, n, h * d)

    def forward(self, x):
        v = self.variant
        if v == "official":
            w = self.split(self.qkv(x))
            w_normed = F.normalize(w, dim=-2)
            w_sq = w_normed ** 2
            Pi = self.attend(torch.sum(w_sq, dim=-1) * self.temp)       # b h n
            dots = torch.matmul((Pi / (Pi.sum(dim=-1, keepdim=True) + 1e-8)).unsqueeze(-2), w ** 2)
            attn = 1. / (1 + dots)
            out = -torch.mul(w.mul(Pi.unsqueeze(-1)), attn)
            return self.to_out(self.merge(out))
        if v == "div":
            w = self.split(self.qkv(x))
            nrm = torch.sqrt(torch.sum(w * w, dim=2, keepdim=True))
            nrm = torch.maximum(nrm, torch.tensor(1e-12))
            s = torch.sum((w / nrm) * (w / nrm), dim=3)
            Pi = torch.softmax(s * self.temp, dim=1)
            num = torch.matmul(Pi.unsqueeze(2), w * w)                   # b h 1 d
            m = num / (Pi.sum(dim=2, keepdim=True).unsqueeze(-1) + 1e-8)
            out = -(w * Pi.unsqueeze(-1)) / (m + 1.0)
            return self.to_out(self.merge(out))
        if v == "l2sum":
            b, n, c = x.shape
            w = self.qkv(x).view(b, n, self.heads, c // self.heads).transpose(1, 2)
            nrm = w.norm(p=2, dim=-2, keepdim=True).clamp_min(1e-12)
            s = ((w / nrm) ** 2).sum(-1)
            Pi = torch.softmax(self.temp * s, dim=1)
            Pn = Pi / (Pi.sum(-1, keepdim=True) + 1e-8)
            m = (Pn.unsqueeze(-1) * (w ** 2)).sum(2, keepdim=True)
            out = -(w * Pi.unsqueeze(-1)) * torch.reciprocal(1 + m)
            return self.to_out(out.transpose(1, 2).flatten(2))
        if v == "rank3":
            # batch 1 squeezed away: heads split a (N, d) matrix into (K, N, p)
            b, n, c = x.shape
            w = self.qkv(x)[0].view(n, self.heads, c // self.heads).transpose(0, 1)
            nrm = torch.clamp(torch.sqrt((w ** 2).sum(1, keepdim=True)), min=1e-12)
            Pi = torch.softmax(torch.sum((w / nrm) ** 2, dim=-1) * self.temp, dim=0)   # (K, N)
            dots = torch.matmul((Pi / (Pi.sum(dim=-1, keepdim=True) + 1e-8)).unsqueeze(1), w * w)
            out = (w * Pi.unsqueeze(-1)) / (-(dots + 1))
            return self.to_out(out.transpose(0, 1).reshape(n, c).unsqueeze(0))
        if v in ("tokensoftmax", "eps"):
            w = self.split(self.qkv(x))
            eps_n, eps_p = (1e-6, 1e-5) if v == "eps" else (1e-12, 1e-8)
            w_sq = F.normalize(w, dim=-2, eps=eps_n) ** 2
            Pi = F.softmax(torch.sum(w_sq, dim=-1) * self.temp, dim=2 if v == "tokensoftmax" else 1)
            dots = torch.matmul((Pi / (Pi.sum(dim=-1, keepdim=True) + eps_p)).unsqueeze(-2), w ** 2)
            out = -torch.mul(w.mul(Pi.unsqueeze(-1)), 1. / (1 + dots))
            return self.to_out(self.merge(out))
        raise ValueError(v)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScaleBlock(nn.Module):
    """The parameters both XCiT-style blocks share: norm1, attn, norm2, mlp
    and the LayerScale gammas (state_dict keys as in the official code)."""
    def __init__(self, dim, attn, mlp_ratio=4, eta=1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = attn
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.gamma1 = nn.Parameter(eta * torch.ones(dim))
        self.gamma2 = nn.Parameter(eta * torch.ones(dim))


class TSSABlock(LayerScaleBlock):
    """x += gamma1 * TSSA(LN1 x); x += gamma2 * MLP(LN2 x)  (XCiT-style LayerScale)."""
    def __init__(self, dim, heads, mlp_ratio=4, eta=1.0, variant="official"):
        attn = AttentionTSSA(dim, heads, qkv_bias=True, variant=variant)
        super().__init__(dim, attn, mlp_ratio, eta)

    def forward(self, x):
        x = x + self.gamma1 * self.attn(self.norm1(x))
        x = x + self.gamma2 * self.mlp(self.norm2(x))
        return x


# --------------------------------------------------------------------------
# XCiT pieces ToST's vision model keeps: conv stem, Fourier positions,
# class attention
# --------------------------------------------------------------------------

def conv3x3(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(cout))


class ConvPatchEmbed(nn.Module):
    """A stack of 3x3 conv+BN layers with GELU between them; layer i (of L)
    has d / 2^(L-1-i) output channels and stride strides[i].  The default
    is XCiT's patch size 16: 3 -> d/8 -> d/4 -> d/2 -> d, all stride 2."""
    def __init__(self, dim, in_chans=3, strides=(2, 2, 2, 2)):
        super().__init__()
        layers, cin = [], in_chans
        for i, stride in enumerate(strides):
            cout = dim // 2 ** (len(strides) - 1 - i)
            if i:
                layers.append(nn.GELU())
            layers.append(conv3x3(cin, cout, stride))
            cin = cout
        self.proj = nn.Sequential(*layers)

    def forward(self, x):
        x = self.proj(x)
        hp, wp = x.shape[2], x.shape[3]
        return x.flatten(2).transpose(1, 2), (hp, wp)


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


class ClassAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        qc = q[:, :, 0:1]
        attn_cls = (qc * k).sum(dim=-1) * self.scale
        attn_cls = attn_cls.softmax(dim=-1)
        cls_tkn = (attn_cls.unsqueeze(2) @ v).transpose(1, 2).reshape(B, 1, C)
        cls_tkn = self.proj(cls_tkn)
        return torch.cat([cls_tkn, x[:, 1:]], dim=1)


class ClassAttentionBlock(LayerScaleBlock):
    """XCiT's class-attention block; tokens_norm=True applies norm2 to every
    token, False to the class token only (the patch tokens then pass through)."""
    def __init__(self, dim, heads, mlp_ratio=4, eta=1.0, tokens_norm=False):
        super().__init__(dim, ClassAttention(dim, heads), mlp_ratio, eta)
        self.tokens_norm = tokens_norm

    def forward(self, x):
        x = x + self.gamma1 * self.attn(self.norm1(x))
        if self.tokens_norm:
            x = self.norm2(x)
        else:
            x = torch.cat([self.norm2(x[:, 0:1]), x[:, 1:]], dim=1)
        x_res = x
        cls_token = self.gamma2 * self.mlp(x[:, 0:1])
        x = torch.cat([cls_token, x[:, 1:]], dim=1)
        return x_res + x


class ToSTVision(nn.Module):
    """ToST's vision classifier.  The defaults are the model tests' scaled-down
    XCiT layout; in_chans, patch_strides (see ConvPatchEmbed) and tokens_norm
    (see ClassAttentionBlock) describe smaller stems such as samples/digits'."""
    def __init__(self, dim=64, depth=2, heads=4, img=64, num_classes=10, cls_depth=2,
                 variant="official", in_chans=3, patch_strides=(2, 2, 2, 2), tokens_norm=False):
        super().__init__()
        assert dim % 2 ** (len(patch_strides) - 1) == 0 and dim % heads == 0
        assert img % math.prod(patch_strides) == 0
        self.img = img
        self.in_chans = in_chans
        self.patch_embed = ConvPatchEmbed(dim, in_chans, patch_strides)
        self.pos_embeder = PositionalEncodingFourier(dim=dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList([TSSABlock(dim, heads, variant=variant) for _ in range(depth)])
        self.cls_attn_blocks = nn.ModuleList([ClassAttentionBlock(dim, heads, tokens_norm=tokens_norm)
                                              for _ in range(cls_depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        B = x.shape[0]
        x, (hp, wp) = self.patch_embed(x)
        pos = self.pos_embeder(B, hp, wp).reshape(B, -1, x.shape[1]).permute(0, 2, 1)
        x = x + pos
        for blk in self.blocks:
            x = blk(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        for blk in self.cls_attn_blocks:
            x = blk(x)
        x = self.norm(x)[:, 0]
        return self.head(x)

    def example_input(self, batch=1, seq=None):
        return torch.randn(batch, self.in_chans, self.img, self.img)


# --------------------------------------------------------------------------
# causal TSSA language model (tost_lang/model_TSSA.py, nanoGPT)
# --------------------------------------------------------------------------

class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with optional bias, eps 1e-5."""
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention_TSSA(nn.Module):
    def __init__(self, n_embd, n_head, block_size, bias=False):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.n_head = n_head
        self.n_embd = n_embd
        self.temp = nn.Parameter(torch.ones(n_head, 1))
        self.denom_bias = nn.Parameter(torch.zeros(n_head, block_size, 1))

    def forward(self, x):
        B, T, C = x.size()
        w = self.c_attn(x)
        w = w.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)   # (B, nh, T, hs)
        w_sq = w ** 2
        denom = (torch.cumsum(w_sq, dim=-2)).clamp_min(1e-12)
        w_normed = (w_sq / denom) + self.denom_bias[:, :T, :]
        tmp = torch.sum(w_normed, dim=-1) * self.temp
        Pi = F.softmax(tmp, dim=1)                                        # B, nh, T
        dots = torch.cumsum(w_sq * Pi.unsqueeze(-1), dim=-2) / (Pi.cumsum(dim=-1) + 1e-8).unsqueeze(-1)
        attn = 1. / (1 + dots)
        y = -torch.mul(w.mul(Pi.unsqueeze(-1)), attn)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd, bias):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class LMBlock(nn.Module):
    def __init__(self, n_embd, n_head, block_size, bias):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias)
        self.attn = CausalSelfAttention_TSSA(n_embd, n_head, block_size, bias)
        self.ln_2 = LayerNorm(n_embd, bias)
        self.mlp = MLP(n_embd, bias)
        self.gamma1 = nn.Parameter(torch.ones(n_embd))
        self.gamma2 = nn.Parameter(torch.ones(n_embd))

    def forward(self, x):
        x = x + self.gamma1 * self.attn(self.ln_1(x))
        x = x + self.gamma2 * self.mlp(self.ln_2(x))
        return x


class ToSTLM(nn.Module):
    def __init__(self, dim=64, depth=2, heads=4, vocab=97, block=32, seq=16, bias=False):
        super().__init__()
        self.block_size = block
        self.seq = seq
        self.vocab = vocab
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(block, dim)
        self.h = nn.ModuleList([LMBlock(dim, heads, block, bias) for _ in range(depth)])
        self.ln_f = LayerNorm(dim, bias)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.wte.weight = self.lm_head.weight                 # weight tying

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def example_input(self, batch=1, seq=None):
        return torch.randint(0, self.vocab, (batch, seq or self.seq), dtype=torch.int64)


# --------------------------------------------------------------------------
# random weights, export, .safetensors
# --------------------------------------------------------------------------

def randomize(model, seed=0):
    """Random parameters everywhere (incl. temp, denom_bias, gammas, norms),
    scaled so activations stay O(1); eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.split(".")[-1]
            if leaf == "temp":
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            elif leaf == "denom_bias":
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif leaf.startswith("gamma"):
                p.copy_(0.2 + 0.8 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1 and leaf == "weight":       # norm scales
                p.copy_(0.8 + 0.4 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1:                             # biases
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel() if p.dim() > 1 else 1
                if "wte" in name or "wpe" in name or "cls_token" in name:
                    fan_in = 1.0 / 0.02 ** 2 * 0.25
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    model.eval()
    return model


def export(model, path, opset, dynamic_seq=False, batch=1, seq=None, x=None):
    """Export model to ONNX at `path`; returns (input, output) tensors of a
    run on a random input (or `x`).  dynamic_seq (LM only): the sequence axis
    is the symbolic dimension 'seq' (compile with tostc --dim seq=T)."""
    model.eval()
    if x is None:
        x = model.example_input(batch, seq)
    is_lm = isinstance(model, ToSTLM)
    in_name = "idx" if is_lm else "image"
    dyn = None
    if dynamic_seq:
        assert is_lm, "dynamic_seq is for the language model"
        dyn = {"idx": {1: "seq"}, "logits": {1: "seq"}}
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with torch.no_grad():
        y = model(x)
        torch.onnx.export(model, (x,), path, opset_version=opset, input_names=[in_name],
                          output_names=["logits"], dynamic_axes=dyn, do_constant_folding=True)
    return x, y


def save_safetensors(path, tensors, metadata=None, dtype=None):
    """A minimal .safetensors writer: header JSON (sorted keys, padded to 8
    bytes) + raw little-endian data; float tensors converted to `dtype` if given."""
    codes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
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


def save_pb(t, path, name):
    import onnx
    from onnx import numpy_helper
    tp = numpy_helper.from_array(t.detach().numpy(), name)
    with open(path, "wb") as f:
        f.write(tp.SerializeToString())


def build(kind, a):
    if kind == "vision":
        m = ToSTVision(a.dim, a.depth, a.heads, a.img, a.classes, variant=a.variant)
    else:
        m = ToSTLM(a.dim, a.depth, a.heads, a.vocab, a.block, a.seq, bias=a.bias)
    return randomize(m, a.seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=["vision", "lm"])
    ap.add_argument("-o", "--out", required=True, help="output directory")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--img", type=int, default=64)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--variant", default="official")
    ap.add_argument("--vocab", type=int, default=97)
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--bias", action="store_true", help="LM: bias in Linears and LayerNorms")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--dynamic-seq", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    m = build(a.kind, a)
    path = os.path.join(a.out, "model.onnx")
    x, y = export(m, path, a.opset, a.dynamic_seq, a.batch, a.seq if a.kind == "lm" else None)
    ds = os.path.join(a.out, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    save_pb(x, os.path.join(ds, "input_0.pb"), "idx" if a.kind == "lm" else "image")
    save_pb(y, os.path.join(ds, "output_0.pb"), "logits")
    print(path, tuple(x.shape), "->", tuple(y.shape))


if __name__ == "__main__":
    main()
