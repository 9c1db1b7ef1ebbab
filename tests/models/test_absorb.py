#!/usr/bin/python3
"""
test_absorb.py -- fuse_absorb.c end to end (ctest `absorb`): a contraction
over the columns of a projection reads the projection's weights instead.

Small ONNX graphs written with onnx.helper, each the class attention of the
ToST vision models or a variant: qkv = Gemm(x, W, b) -> Reshape (B, N, 3,
H, C) -> Transpose -> Gather q, k, v; the class token's query qc = q[:, :,
0:1]; scores s = sum_c qc * k (Mul + ReduceSum) or qc @ k^T (MatMul); then
softmax(s * scale) @ v.

  scores_mul       the scores alone (Mul + ReduceSum): weights side
  cls_attention    scores and values: weights side, then tokens side
  cls_matmul       the scores as MatMul(qc, Transpose(k))
  transb_scaled    Gemm with transB, alpha 0.5, beta 2
  no_bias          Gemm without a bias
  batch2           two images (B 2): a class token each
  odd_width        d 20, C 10, N 13 (not multiples of 16: the kernel's tails)
  k_also_output    k is also a graph output (the Gemm still makes it)
  nearmiss_all_queries  every token's query (N x N scores): not worth it
  nearmiss_two_axes     the sum runs over tokens and channels: each score
                        reads many rows and many columns
  nearmiss_weight_input W is a graph input, not a constant

Each must compile with the expected ProjContract nodes (--dump-ir=fuse_absorb:
their side attributes, in graph order), and its outputs must match the numpy
reference (rtol 1e-4), built fused and with --no-fuse.  Last line:
`absorb: N passed, N failed`.
"""
import os
import re
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

rng = np.random.default_rng(23)
model = harness.onnx_model
vi = harness.value_info


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def i64(*v):
    return np.array(v, np.int64)


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(B=1, N=9, d=32, H=2, scores="mul", values=True, trans_b=False, alpha=1.0,
              beta=1.0, bias=True, all_queries=False, two_axes=False, k_out=False,
              w_input=False):
    """class attention on x (B * N, d): (model, inputs, references)"""
    C = d // H
    x, w, b = f32(B * N, d), f32(d, 3 * d), f32(3 * d)
    scalar = lambda v: np.array(v, np.int64)  # noqa: E731 (Gather drops the axis)
    inits = {"shape": i64(B, N, 3, H, C), "i0": scalar(0), "i1": scalar(1), "i2": scalar(2),
             "s0": i64(0), "s1": i64(1), "ax2": i64(2), "red": i64(-2, -1) if two_axes else i64(-1),
             "scale": np.array(C ** -0.5, np.float32), "ax_u": i64(2)}
    gemm_in = ["x", "w"] + (["b"] if bias else [])
    attrs = {}
    if trans_b:
        attrs["transB"] = 1
    if alpha != 1.0:
        attrs["alpha"] = alpha
    if beta != 1.0:
        attrs["beta"] = beta
    if bias:
        inits["b"] = b
    inputs, feeds = [vi("x", [B * N, d])], [x]
    wt = np.ascontiguousarray(w.T) if trans_b else w
    if w_input:
        inputs.append(vi("w", list(wt.shape)))
        feeds.append(wt)
    else:
        inits["w"] = wt
    nodes = [helper.make_node("Gemm", gemm_in, ["t"], **attrs),
             helper.make_node("Reshape", ["t", "shape"], ["r"]),
             helper.make_node("Transpose", ["r"], ["p"], perm=[2, 0, 3, 1, 4]),
             helper.make_node("Gather", ["p", "i0"], ["q"], axis=0),
             helper.make_node("Gather", ["p", "i1"], ["k"], axis=0),
             helper.make_node("Gather", ["p", "i2"], ["v"], axis=0)]
    t = alpha * (x.astype(np.float64) @ w) + (beta * b if bias else 0)
    p = t.reshape(B, N, 3, H, C).transpose(2, 0, 3, 1, 4)   # (3, B, H, N, C)
    q, k, v = p[0], p[1], p[2]
    if all_queries:
        qc, qn = q, "q"
    else:
        nodes.append(helper.make_node("Slice", ["q", "s0", "s1", "ax2"], ["qc"]))
        qc, qn = q[:, :, 0:1], "qc"
    if scores == "mul":
        nodes += [helper.make_node("Mul", [qn, "k"], ["m"]),
                  helper.make_node("ReduceSum", ["m", "red"], ["s"], keepdims=0)]
        s = (qc * k).sum(axis=(-2, -1) if two_axes else -1)
    else:
        nodes += [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
                  helper.make_node("MatMul", [qn, "kt"], ["s"])]
        s = qc @ k.transpose(0, 1, 3, 2)
    outs, refs = [vi("s", list(s.shape))], [s]
    if values:
        a = softmax(s * C ** -0.5)
        nodes += [helper.make_node("Mul", ["s", "scale"], ["ss"]),
                  helper.make_node("Softmax", ["ss"], ["a"], axis=-1)]
        an = "a"
        if scores == "mul":
            nodes.append(helper.make_node("Unsqueeze", ["a", "ax_u"], ["au"]))
            a, an = a[:, :, None, :], "au"
        nodes.append(helper.make_node("MatMul", [an, "v"], ["o"]))
        o = a @ v
        outs.append(vi("o", list(o.shape)))
        refs.append(o)
    if k_out:
        outs.append(vi("k", list(k.shape)))
        refs.append(k)
    return model(nodes, inputs, outs, inits), feeds, refs


BOTH = ["weights", "tokens"]
# name, builder, the ProjContract nodes' sides in graph order
CASES = [
    ("scores_mul", lambda: attention(values=False), ["weights"]),
    ("cls_attention", lambda: attention(), BOTH),
    ("cls_matmul", lambda: attention(scores="matmul"), BOTH),
    ("transb_scaled", lambda: attention(trans_b=True, alpha=0.5, beta=2.0), BOTH),
    ("no_bias", lambda: attention(bias=False), BOTH),
    ("batch2", lambda: attention(B=2), BOTH),
    ("odd_width", lambda: attention(N=13, d=20), BOTH),
    ("k_also_output", lambda: attention(k_out=True), BOTH),
    ("nearmiss_all_queries", lambda: attention(scores="matmul", values=False, all_queries=True),
     []),
    ("nearmiss_two_axes", lambda: attention(values=False, two_axes=True), []),
    ("nearmiss_weight_input", lambda: attention(w_input=True), []),
]


def sides_of(ir):
    """the side attributes of the ProjContract nodes in an IR dump"""
    return re.findall(r'= ProjContract\(.*side="(\w+)"', ir)


def check(tostc, path, d, want):
    """the ProjContract nodes fuse_absorb made, against WANT"""
    rc, out, err = harness.run([tostc, path, "-o", os.path.join(d, "ir.c"), "--dump-ir=fuse_absorb"])
    got = sides_of(out) if rc == 0 else "tostc: " + harness.first_line(err)
    return [] if got == want else ["ProjContract sides %s, want %s" % (got, want)]


def main():
    return harness.graph_cases(__doc__, "absorb", CASES, check)


if __name__ == "__main__":
    sys.exit(main())
