"""
bert_ref.py -- BERT-style encoders in the spelling of Hugging Face's
BertSelfAttention (q, k, v Linear, view + permute to heads, matmul,
/ sqrt(d) or * (1 / sqrt(d)), + additive mask, softmax, matmul, permute
back), post-norm layers with an erf GELU MLP.  Used by
tests/models/test_attention.py and bench/export.py (bert_N).
"""
import math

import torch
import torch.nn as nn


class BertLayer(nn.Module):
    """one post-norm layer: d channels, h heads, an MLP of f; scale "div" or
    "mul"; qk_scaled: q and k each scaled by d_head^-1/4 instead"""
    def __init__(self, d, h, f, scale="div", qk_scaled=False):
        super().__init__()
        self.h, self.scale, self.qk_scaled = h, scale, qk_scaled
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(d, f), nn.Linear(f, d)

    def heads(self, x):
        b, n, d = x.shape
        return x.view(b, n, self.h, d // self.h).permute(0, 2, 1, 3)

    def forward(self, x, mask=None):
        b, n, d = x.shape
        dh = d // self.h
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        if self.qk_scaled:
            s = torch.matmul(q * dh ** -0.25, (k * dh ** -0.25).transpose(-1, -2))
        elif self.scale == "div":
            s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        else:
            s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(dh))
        if mask is not None:
            s = s + mask
        c = torch.matmul(torch.softmax(s, dim=-1), v)
        c = c.permute(0, 2, 1, 3).contiguous().view(b, n, d)
        x = self.ln1(x + self.o(c))
        return self.ln2(x + self.fc2(nn.functional.gelu(self.fc1(x))))


class BertEncoder(nn.Module):
    """layers BertLayers on token embeddings x (b, n, d); with masked, the
    additive mask (1 - am) * -10000 from an int64 attention mask am (b, n),
    a second input, or from all ones (a constant) when am is not given"""
    def __init__(self, layers=12, d=768, h=12, f=3072, masked=True, **kw):
        super().__init__()
        self.masked = masked
        self.layers = nn.ModuleList([BertLayer(d, h, f, **kw) for _ in range(layers)])

    def forward(self, x, am=None):
        mask = None
        if self.masked:
            if am is None:
                am = torch.ones(x.shape[0], x.shape[1], dtype=torch.int64)
            mask = (1.0 - am[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x
