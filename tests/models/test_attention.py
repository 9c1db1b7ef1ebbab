#!/usr/bin/python3
"""
test_attention.py -- fuse_attention.c end to end (ctest `attention`):
softmax attention as one SoftmaxAttention node.

    /usr/bin/python3 tests/models/test_attention.py --tostc build/tostc --work DIR [--filter RE]

Blocks exported from PyTorch (torch.onnx.export, opset 17, seeded random
weights), against PyTorch:

  vit_block        torchvision's ViT EncoderBlock (nn.MultiheadAttention: the
                   scale folded into q as a Div, heads in the batch dim)
  bert_mask        a BERT layer (HF style: q, k, v Linear, view + permute,
                   scores / sqrt(d) + mask from an int64 attention mask)
  bert_nomask      the same without a mask
  bert_mul_b2      scores * (1 / sqrt(d)), two sequences, padding masked
  qk_scaled        q and k each scaled by d^-1/4 (the spelling of newer
                   exporters), no mask
  cross_long       cross attention: 7 queries against 300 keys (two key
                   tiles: the online softmax rescales), head dims 20 and 12

and hand-written graphs (onnx.helper), against numpy:

  causal_600       600 tokens, a constant causal mask (-inf above the
                   diagonal: the mask read along rows and columns), three key
                   tiles and several query blocks
  mask_first_tile  keys 0..299 masked with -inf for half the queries: their
                   first key tile is all -inf
  mask_vector      a mask of rank 1 (one value per key)
  odd_sizes        m 13, n 29, c 5, cv 3, batch dims (2, 3), q broadcast over
                   the first batch dim
  nearmiss_axis    softmax over the queries (axis -2)
  nearmiss_scores_out  the scores are also a graph output
  nearmiss_probs_out   the probabilities are also a graph output
  nearmiss_scale_after_mask  (s + mask) * scale: the scale would scale the mask
  nearmiss_vector_scale      a per-key scale, not a scalar
  nearmiss_mask_bigger       a mask that broadcasts the scores to more heads

Each must compile with the expected number of SoftmaxAttention nodes
(--report=json), and its outputs must match the reference (|got - ref| <=
1e-4 |ref| + 1e-5 max|ref|) fused and with --no-fuse, the generated C
built with the plain C99 kernels (-DTR_NO_SIMD) and with -march=native; the
fused native build is also run with OpenMP on 1, 2 and 3 threads and must
give the same bits.  Last line: `attention: N passed, N failed (ISAs)`.
"""
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from onnx import helper  # noqa: E402

import harness  # noqa: E402
from bert_ref import BertEncoder  # noqa: E402

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()
rng = np.random.default_rng(22)


# ---------------------------------------------------------------------------
# PyTorch blocks
# ---------------------------------------------------------------------------

class Cross(nn.Module):
    """queries of one sequence against keys and values of another"""
    def __init__(self, d, h, c, cv):
        super().__init__()
        self.h, self.c, self.cv = h, c, cv
        self.q, self.k = nn.Linear(d, h * c), nn.Linear(d, h * c)
        self.v = nn.Linear(d, h * cv)

    def forward(self, x, y):
        b, m, _ = x.shape
        n = y.shape[1]
        q = self.q(x).view(b, m, self.h, self.c).transpose(1, 2)
        k = self.k(y).view(b, n, self.h, self.c).transpose(1, 2)
        v = self.v(y).view(b, n, self.h, self.cv).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-2, -1) * self.c ** -0.5, dim=-1)
        return (a @ v).transpose(1, 2).reshape(b, m, self.h * self.cv)


def randomize(m, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(1, p[0].numel()) ** 0.5))


def exported(path, model, args, names):
    """export MODEL (eval) on ARGS to PATH; (inputs as numpy, PyTorch's outputs)"""
    model.eval()
    randomize(model, 5)
    with torch.no_grad():
        ref = model(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # outside no_grad: nn.MultiheadAttention's fast path has no ONNX export
        torch.onnx.export(model, args, path, opset_version=17, input_names=names,
                          output_names=["y"])
    return [a.numpy() for a in args], [ref.detach().numpy()]


def vit_block(path):
    from torchvision.models.vision_transformer import EncoderBlock
    m = EncoderBlock(num_heads=4, hidden_dim=32, mlp_dim=64, dropout=0.0, attention_dropout=0.0)
    return exported(path, m, (torch.randn(1, 17, 32),), ["x"])


def bert(path, b=1, n=24, masked=True, pad=0, **kw):
    m = BertEncoder(layers=1, d=48, h=4, f=96, masked=masked, **kw)
    x = torch.randn(b, n, 48)
    if not masked:
        return exported(path, m, (x,), ["x"])
    am = torch.ones(b, n, dtype=torch.int64)
    if pad:
        am[-1, n - pad:] = 0
    return exported(path, m, (x, am), ["x", "mask"])


def cross_long(path):
    m = Cross(d=24, h=2, c=20, cv=12)
    return exported(path, m, (torch.randn(1, 7, 24), torch.randn(1, 300, 24)), ["x", "y"])


# ---------------------------------------------------------------------------
# Hand-written graphs
# ---------------------------------------------------------------------------

def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def graph(path, bq=(1, 2), m=9, n=11, c=8, cv=8, mask=None, axis=-1, scale=0.25,
          scale_after_mask=False, vector_scale=False, scores_out=False, probs_out=False,
          q_batch=None):
    """q (bq.., m, c), k^T given as k (b.., n, c) through a Transpose, v (b.., n, cv);
    softmax(q k^T * scale [+ mask]) v.  mask: None, or an array (constant)."""
    vi = harness.value_info
    qb = q_batch if q_batch is not None else bq
    q, k, v = f32(*qb, m, c), f32(*bq, n, c), f32(*bq, n, cv)
    r = len(bq) + 2
    perm = list(range(r - 2)) + [r - 1, r - 2]
    inits = {"scale": np.array(scale, np.float32)}
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=perm),
             helper.make_node("MatMul", ["q", "kt"], ["s"])]
    s = q.astype(np.float64) @ np.swapaxes(k, -1, -2).astype(np.float64)
    sc = scale
    if vector_scale:
        inits["scale"] = np.linspace(0.1, 0.3, n).astype(np.float32)
        sc = inits["scale"].astype(np.float64)
    cur = "s"
    if not scale_after_mask:
        nodes.append(helper.make_node("Mul", [cur, "scale"], ["ss"]))
        s, cur = s * sc, "ss"
    if mask is not None:
        inits["mask"] = mask
        nodes.append(helper.make_node("Add", [cur, "mask"], ["sm"]))
        s, cur = s + mask, "sm"
    if scale_after_mask:
        nodes.append(helper.make_node("Mul", [cur, "scale"], ["ss"]))
        s, cur = s * sc, "ss"
    nodes.append(helper.make_node("Softmax", [cur], ["p"], axis=axis))
    nodes.append(helper.make_node("MatMul", ["p", "v"], ["o"]))
    p = softmax(s, axis)
    o = p @ v.astype(np.float64)
    outs, refs = [vi("o", list(o.shape))], [o]
    if scores_out:
        outs.append(vi("s", list(s.shape)))
        refs.append(q.astype(np.float64) @ np.swapaxes(k, -1, -2).astype(np.float64))
    if probs_out:
        outs.append(vi("p", list(p.shape)))
        refs.append(p)
    model = harness.onnx_model(nodes, [vi("q", list(q.shape)), vi("k", list(k.shape)),
                                       vi("v", list(v.shape))], outs, inits)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return [q, k, v], refs


def causal(n):
    m = np.zeros((1, 1, n, n), np.float32)
    m[0, 0][np.triu_indices(n, 1)] = -np.inf
    return m


def first_tile_masked(m, n):
    mk = np.zeros((1, 1, m, n), np.float32)
    mk[0, 0, ::2, :300] = -np.inf
    return mk


# name, build(path) -> (inputs, references), SoftmaxAttention nodes wanted
CASES = [
    ("vit_block", vit_block, 1),
    ("bert_mask", lambda p: bert(p, pad=5), 1),
    ("bert_nomask", lambda p: bert(p, masked=False), 1),
    ("bert_mul_b2", lambda p: bert(p, b=2, scale="mul", pad=7), 1),
    ("qk_scaled", lambda p: bert(p, masked=False, qk_scaled=True), 1),
    ("cross_long", cross_long, 1),
    ("causal_600", lambda p: graph(p, bq=(1, 2), m=600, n=600, c=16, cv=16, mask=causal(600)), 1),
    ("mask_first_tile", lambda p: graph(p, bq=(1, 1), m=40, n=600, c=8, cv=8,
                                        mask=first_tile_masked(40, 600)), 1),
    ("mask_vector", lambda p: graph(p, mask=f32(11)), 1),
    ("odd_sizes", lambda p: graph(p, bq=(2, 3), m=13, n=29, c=5, cv=3, q_batch=(1, 3),
                                  mask=f32(3, 13, 29)), 1),
    ("nearmiss_axis", lambda p: graph(p, m=11, axis=-2), 0),
    ("nearmiss_scores_out", lambda p: graph(p, scale=1.0, scores_out=True), 0),
    ("nearmiss_probs_out", lambda p: graph(p, probs_out=True), 0),
    ("nearmiss_scale_after_mask", lambda p: graph(p, mask=f32(1, 1, 9, 11),
                                                  scale_after_mask=True), 0),
    ("nearmiss_vector_scale", lambda p: graph(p, vector_scale=True), 0),
    ("nearmiss_mask_bigger", lambda p: graph(p, bq=(1, 1), mask=f32(1, 3, 9, 11)), 0),
]


def fused_count(tostc, path, d):
    rc, out, err = harness.run([tostc, path, "-o", os.path.join(d, "rep.c"), "--report=json"])
    if rc != 0:
        return "tostc: " + harness.first_line(err)
    return json.loads(out)["ops"].get("SoftmaxAttention", 0)


def run_case(tostc, work, cc, case, isas):
    name, build, want = case
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    inputs, refs = build(path)
    problems = []
    got = fused_count(tostc, path, d)
    if got != want:
        problems.append("SoftmaxAttention nodes: %s, want %d" % (got, want))
    for isa in ("plain", "native"):
        ccf, kis = harness.isa_build([cc] + CFLAGS, isa)
        isas.add(kis)
        for mode, extra in (("fused", ()), ("unfused", ("--no-fuse",))):
            out_dir = os.path.join(d, isa, mode)
            why, _, _, outs = harness.compile_model(tostc, path, out_dir, "m", ccf, extra)
            if why:
                problems.append("%s %s: %s" % (isa, mode, why))
                continue
            res = harness.execute(out_dir, inputs, outs)
            e = harness.count_error(res, refs, mode)
            if e:
                problems.append(e)
                continue
            for k, (g, r) in enumerate(zip(res, refs)):
                e, _, _ = harness.tolerance_error(g, r, "%s %s output %d" % (isa, mode, k))
                if e:
                    problems.append(e)
    if want:
        problems += threads(tostc, path, os.path.join(d, "omp"), cc, inputs)
    return problems


def threads(tostc, path, out_dir, cc, inputs):
    """the fused native build with OpenMP: the same bits on 1, 2 and 3 threads"""
    ccf, _ = harness.isa_build([cc] + CFLAGS + ["-fopenmp"], "native")
    why, _, _, outs = harness.compile_model(tostc, path, out_dir, "m", ccf)
    if why:
        return ["openmp: " + why]
    runs = [harness.execute(out_dir, inputs, outs, run_dir=os.path.join(out_dir, "t%d" % t),
                            env={"OMP_NUM_THREADS": str(t)}) for t in (1, 2, 3)]
    for t, r in zip((2, 3), runs[1:]):
        if any(a.tobytes() != b.tobytes() for a, b in zip(r, runs[0])):
            return ["openmp: %d threads differ from 1 in the bits" % t]
    return []


def main():
    tostc, work, cc, picked = harness.runner_args(__doc__, CASES)
    torch.manual_seed(0)
    isas = set()
    status = harness.report_cases("attention", picked, lambda c: run_case(tostc, work, cc, c, isas))
    print("attention: ISAs %s" % " + ".join(sorted(isas)))
    return status


if __name__ == "__main__":
    sys.exit(main())
