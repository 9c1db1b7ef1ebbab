#!/usr/bin/python3
"""
test_demand.py -- demand.c end to end (ctest `demand`): a Gemm makes only the
parts of its output that its readers use.

Small ONNX graphs written with onnx.helper, each a Gemm with a constant
weight whose output is read through element-moving ops:

  qkv_cls      Gemm (x 7x16, bias) -> Reshape (1,7,3,2,16) -> Transpose ->
               Gather 0 -> Slice token 0 (q of the class token), Gather 1 (k),
               Gather -1 (v): the class attention of the ToST vision models
  cols         Gemm (6x128) -> Slice columns 0:40: the first 64 columns only
  cols_late    Gemm (6x128) -> Slice columns 70:100: columns 64:128, and only
               those columns of the weight packed (also with transB, of 160)
  rows_mid     Gemm (20x32) -> Slice rows 5:9: rows in the middle (a 4-row
               part, read in place below other rows)
  batch_hull   Gemm (10x16) -> Reshape (2,5,16) -> Slice token 0 of each
               batch: rows 0 and 5, so rows 0 to 5
  nearmiss_compute  qkv_cls, plus Relu of the Gemm output as an output
  nearmiss_output   the Gemm output is also a graph output
  nearmiss_most     Slice rows 0:19 of 20: more than 90% read

Each must compile with the expected parts (from --dump-ir=demand, "parts=[...]"
on the Gemm, or none), and its outputs must match the numpy reference (rtol
1e-4), built fused and with --no-fuse.  Last line: `demand: N passed, N failed`.
"""
import os
import re
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

rng = np.random.default_rng(11)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def i64(*v):
    return np.array(v, np.int64)


model = harness.onnx_model
vi = harness.value_info


def qkv_case(extra):
    """extra: None, "compute" (Relu(t) also an output) or "output" (t one)"""
    x, w, b = f32(7, 16), f32(16, 96), f32(96)
    scalar = lambda v: np.array(v, np.int64)  # noqa: E731 (Gather drops the axis)
    inits = {"w": w, "b": b, "shape": i64(1, 7, 3, 2, 16), "i0": scalar(0), "i1": scalar(1),
             "im1": scalar(-1), "s0": i64(0), "s1": i64(1), "ax": i64(2)}
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["t"]),
             helper.make_node("Reshape", ["t", "shape"], ["r"]),
             helper.make_node("Transpose", ["r"], ["p"], perm=[2, 0, 3, 1, 4]),
             helper.make_node("Gather", ["p", "i0"], ["q"], axis=0),
             helper.make_node("Gather", ["p", "i1"], ["k"], axis=0),
             helper.make_node("Gather", ["p", "im1"], ["v"], axis=0),
             helper.make_node("Slice", ["q", "s0", "s1", "ax"], ["qc"]),
             helper.make_node("Mul", ["qc", "k"], ["y"])]
    t = x.astype(np.float64) @ w + b
    p = t.reshape(1, 7, 3, 2, 16).transpose(2, 0, 3, 1, 4)   # (3, 1, 2, 7, 16)
    outs = [vi("y", [1, 2, 7, 16]), vi("v", [1, 2, 7, 16])]
    refs = [p[0][:, :, 0:1] * p[1], p[2]]
    if extra == "compute":
        nodes.append(helper.make_node("Relu", ["t"], ["z"]))
        outs.append(vi("z", [7, 96]))
        refs.append(np.maximum(t, 0))
    elif extra == "output":
        outs.append(vi("t", [7, 96]))
        refs.append(t)
    return model(nodes, [vi("x", [7, 16])], outs, inits), [x], refs


def slice_case(m, n, axis, start, end, trans_b=0):
    x, w = f32(m, 8), f32(8, n)
    inits = {"w": np.ascontiguousarray(w.T) if trans_b else w, "s0": i64(start), "s1": i64(end),
             "ax": i64(axis)}
    nodes = [helper.make_node("Gemm", ["x", "w"], ["t"], transB=trans_b),
             helper.make_node("Slice", ["t", "s0", "s1", "ax"], ["y"])]
    t = x.astype(np.float64) @ w
    y = t[start:end] if axis == 0 else t[:, start:end]
    return model(nodes, [vi("x", [m, 8])], [vi("y", list(y.shape))], inits), [x], [y]


def hull_case():
    x, w = f32(10, 8), f32(8, 16)
    inits = {"w": w, "shape": i64(2, 5, 16), "s0": i64(0), "s1": i64(1), "ax": i64(1)}
    nodes = [helper.make_node("Gemm", ["x", "w"], ["t"]),
             helper.make_node("Reshape", ["t", "shape"], ["r"]),
             helper.make_node("Slice", ["r", "s0", "s1", "ax"], ["y"])]
    y = (x.astype(np.float64) @ w).reshape(2, 5, 16)[:, 0:1]
    return model(nodes, [vi("x", [10, 8])], [vi("y", [2, 1, 16])], inits), [x], [y]


# name, builder, the Gemm's expected parts (None: made whole)
CASES = [
    ("qkv_cls", lambda: qkv_case(None), [0, 1, 0, 32, 0, 7, 32, 96]),
    ("cols", lambda: slice_case(6, 128, 1, 0, 40), [0, 6, 0, 64]),
    ("cols_late", lambda: slice_case(6, 128, 1, 70, 100), [0, 6, 64, 128]),
    ("cols_late_transb", lambda: slice_case(6, 160, 1, 70, 100, 1), [0, 6, 64, 128]),
    ("rows_mid", lambda: slice_case(20, 32, 0, 5, 9), [5, 9, 0, 32]),
    ("batch_hull", hull_case, [0, 6, 0, 16]),
    ("nearmiss_compute", lambda: qkv_case("compute"), None),
    ("nearmiss_output", lambda: qkv_case("output"), None),
    ("nearmiss_most", lambda: slice_case(20, 32, 0, 0, 19), None),
]


def parts_of(ir):
    """the parts attribute of the Gemm in an IR dump, or None"""
    for line in ir.splitlines():
        if "= Gemm(" in line:
            m = re.search(r"parts=\[([0-9,]*)\]", line)
            return [int(v) for v in m.group(1).split(",")] if m else None
    return "no Gemm"


def check(tostc, path, d, want):
    """the Gemm's parts after demand.c, against WANT"""
    rc, out, err = harness.run([tostc, path, "-o", os.path.join(d, "ir.c"), "--dump-ir=demand"])
    got = parts_of(out) if rc == 0 else "tostc: " + harness.first_line(err)
    return [] if got == want else ["parts %s, want %s" % (got, want)]


def main():
    return harness.graph_cases(__doc__, "demand", CASES, check)


if __name__ == "__main__":
    sys.exit(main())
