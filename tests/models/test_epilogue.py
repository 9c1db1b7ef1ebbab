#!/usr/bin/python3
"""
test_epilogue.py -- fuse_epilogue.c and fuse_conv.c end to end (ctest `epilogue`).

Small ONNX graphs written with onnx.helper (not exported by PyTorch, which
already folds BatchNorm into Conv):

  conv_bn        Conv (bias) -> BatchNormalization          -> fused into Conv
  conv_nobias_bn Conv (no bias, stride 2, groups 2) -> BN   -> fused into Conv
  gemm_scale     Gemm (transB, bias) -> Reshape -> Mul gamma -> gamma folded into Gemm
  matmul_scale   MatMul (x, W const) -> Mul gamma (rank 3)   -> folded into MatMul
  gemm_residual  x + Reshape(Gemm(a, W, c))                  -> GemmResidual
  matmul_residual Add(MatMul(a, W) (rank 3), x)              -> GemmResidual
  conv_gelu      Conv (bias, 3x3/2 on 20x18: tr_conv_f32) -> erf GELU -> gelu=1 on the Conv
  conv_bn_gelu_1x1 Conv (1x1, no pad: the direct tr_conv_f32) -> BN -> GELU: both fused
  conv_gelu_small Conv (32 channels, 6x5 map: tr_conv_packed_f32) -> GELU: fused
  dwconv_gelu    depthwise Conv (tr_conv_depthwise_f32) -> GELU: fused
  pw_relu6       1x1 Conv -> Clip(0, 6): channels last (layout.c), Clip into the epilogue
  dw_relu6_s2    depthwise 3x3/2 (the direct kernel) -> Clip(0, 6): fused
  dw5_hardswish  depthwise 5x5 -> HardSwish: fused
  dw_silu        depthwise 3x3 -> Sigmoid, Mul (SiLU as PyTorch exports it): fused
  pw_relu6_residual_relu 1x1 Conv -> Clip -> Add(x) -> Relu: all in one epilogue
  nearmiss_silu_used the SiLU's conv output is also a graph output: not fused
  nearmiss_clip_bound Clip's max is a graph input, not a constant: not fused
  nearmiss_conv_bcast_add the residual is (1, C, 1, 1), broadcast: not fused
  gemm_gelu      MatMul (1, 37, 8) @ W + b (fuse_common: Gemm -> Reshape) -> erf GELU
                 -> gelu=1 on the Gemm (on each tile of the packed GEMM)
  gemm_gelu_nobias Gemm (no C) -> GELU: fused
  gemm_gelu_input Gemm whose B is an input (not packed) -> GELU: fused, one pass after
  gelu_residual  x + GELU(Gemm): the GELU fused, the Add kept (no GemmResidual)
  nearmiss_used  Conv -> BN where the Conv output is also a graph output: not fused
  nearmiss_gelu_used Conv -> GELU where the Conv output is also a graph output: not fused
  nearmiss_gemm_gelu_used Gemm -> GELU where the Gemm output is also a graph output: not fused
  nearmiss_bcast x (1, n) + MatMul(a, W) (m, n): the residual broadcasts: not fused
  nearmiss_axis  MatMul -> Mul by a per-row (not per-column) vector: not fused

Each is compiled fused and with --no-fuse and run; both must match the numpy
reference (rtol 1e-4), and --report=json must show the epilogue gone (or kept,
for the near misses).
"""
import json
import math
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

rng = np.random.default_rng(7)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def conv2d(x, w, b, stride, group, pad=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, m, oh, ow), np.float64)
    mg = m // group
    for o in range(m):
        g = o // mg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * stride:i * stride + kh, j * stride:j * stride + kw]
                y[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    if b is not None:
        y += b[None, :, None, None]
    return y


def bn(x, s, b, mu, var, eps):
    sh = (1, -1, 1, 1)
    return (x - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * s.reshape(sh) + b.reshape(sh)


model = harness.onnx_model
vi = harness.value_info


def conv_bn_case(bias, stride, group, expose):
    x = f32(2, 4, 7, 6)
    w = f32(6, 4 // group, 3, 3)
    b = f32(6) if bias else None
    s, bb, mu = f32(6), f32(6), f32(6)
    var = (np.abs(f32(6)) + 0.5).astype(np.float32)
    inits = {"w": w, "s": s, "bb": bb, "mu": mu, "var": var}
    conv_in = ["x", "w"]
    if bias:
        inits["b"] = b
        conv_in.append("b")
    nodes = [helper.make_node("Conv", conv_in, ["t"], pads=[1, 1, 1, 1], strides=[stride, stride],
                              group=group),
             helper.make_node("BatchNormalization", ["t", "s", "bb", "mu", "var"], ["y"],
                              epsilon=1e-3)]
    t = conv2d(x.astype(np.float64), w, b, stride, group)
    y = bn(t, s, bb, mu, var, 1e-3)
    outs = [vi("y", list(y.shape))] + ([vi("t", list(t.shape))] if expose else [])
    refs = [y] + ([t] if expose else [])
    return model(nodes, [vi("x", list(x.shape))], outs, inits), [x], refs


def gelu_nodes(t, y):
    """y = gelu(t) as PyTorch exports it: t * (erf(t / sqrt 2) + 1) * 0.5"""
    return [helper.make_node("Div", [t, "sqrt2"], [t + "_d"]),
            helper.make_node("Erf", [t + "_d"], [t + "_e"]),
            helper.make_node("Add", [t + "_e", "one"], [t + "_a"]),
            helper.make_node("Mul", [t, t + "_a"], [t + "_m"]),
            helper.make_node("Mul", [t + "_m", "half"], [y])]


def gelu_ref(t):
    return t * (np.vectorize(math.erf)(t / math.sqrt(2.0)) + 1.0) * 0.5


def conv_gelu_case(c, m, group, k, stride, h, wd, with_bn, expose):
    pad = k // 2
    x, w, b = f32(2, c, h, wd), f32(m, c // group, k, k), f32(m)
    inits = {"w": w, "b": b, "sqrt2": np.array(math.sqrt(2.0), np.float32),
             "one": np.array(1.0, np.float32), "half": np.array(0.5, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["t"], pads=[pad] * 4,
                              strides=[stride, stride], group=group)]
    t = conv2d(x.astype(np.float64), w, b, stride, group, pad)
    if with_bn:
        s, bb, mu = f32(m), f32(m), f32(m)
        var = (np.abs(f32(m)) + 0.5).astype(np.float32)
        inits.update({"s": s, "bb": bb, "mu": mu, "var": var})
        nodes.append(helper.make_node("BatchNormalization", ["t", "s", "bb", "mu", "var"], ["tn"],
                                      epsilon=1e-3))
        t = bn(t, s, bb, mu, var, 1e-3)
    nodes += gelu_nodes("tn" if with_bn else "t", "y")
    y = gelu_ref(t)
    outs = [vi("y", list(y.shape))] + ([vi("t", list(t.shape))] if expose else [])
    refs = [y] + ([t] if expose else [])
    return model(nodes, [vi("x", list(x.shape))], outs, inits), [x], refs


def gemm_scale_case():
    x = f32(5, 8)
    w, c, gamma = f32(12, 8), f32(12), f32(12)
    inits = {"w": w, "c": c, "gamma": gamma, "shape": np.array([1, 5, 12], np.int64)}
    nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["t"], transB=1),
             helper.make_node("Reshape", ["t", "shape"], ["r"]),
             helper.make_node("Mul", ["gamma", "r"], ["y"])]
    y = ((x.astype(np.float64) @ w.T + c) * gamma).reshape(1, 5, 12)
    return model(nodes, [vi("x", [5, 8])], [vi("y", [1, 5, 12])], inits), [x], [y]


def matmul_scale_case(per_row):
    x = f32(2, 5, 8)
    w = f32(8, 12)
    gamma = f32(5, 1) if per_row else f32(1, 1, 12)
    inits = {"w": w, "gamma": gamma}
    nodes = [helper.make_node("MatMul", ["x", "w"], ["t"]),
             helper.make_node("Mul", ["t", "gamma"], ["y"])]
    y = (x.astype(np.float64) @ w) * gamma
    return model(nodes, [vi("x", [2, 5, 8])], [vi("y", [2, 5, 12])], inits), [x], [y]


def residual_case(kind):
    a = f32(5, 8) if kind == "gemm" else f32(2, 5, 8)
    w, c = f32(8, 12), f32(12)
    x = f32(1, 5, 12) if kind == "gemm" else (f32(2, 5, 12) if kind == "matmul" else f32(1, 12))
    inits = {"w": w, "c": c, "shape": np.array([1, 5, 12], np.int64)}
    if kind == "gemm":
        nodes = [helper.make_node("Gemm", ["a", "w", "c"], ["t"]),
                 helper.make_node("Reshape", ["t", "shape"], ["r"]),
                 helper.make_node("Add", ["x", "r"], ["y"])]
        y = (a.astype(np.float64) @ w + c).reshape(1, 5, 12) + x
    else:
        nodes = [helper.make_node("MatMul", ["a", "w"], ["t"]),
                 helper.make_node("Add", ["t", "x"], ["y"])]
        y = a.astype(np.float64) @ w + x
    return (model(nodes, [vi("a", list(a.shape)), vi("x", list(x.shape))], [vi("y", list(y.shape))],
                  inits), [a, x], [y])


def act_ref(kind, t):
    if kind == "relu6":
        return np.clip(t, 0.0, 6.0)
    if kind == "hardswish":
        return t * np.clip(t / 6.0 + 0.5, 0.0, 1.0)
    return t / (1.0 + np.exp(-t))   # silu


def conv_act_case(kind, c, m, group, k, stride, h, wd, expose=False, dyn_clip=False,
                  residual=None):
    """Conv -> Relu6 (Clip 0 6) | HardSwish | SiLU (Sigmoid, Mul) [-> Add(x) -> Relu]:
    fuse_conv.c on a channels-last ConvNhwc.  residual "same" adds x (m == c, stride 1)
    then Relu; "bcast" adds a (1, m, 1, 1) graph input instead (no fusion)"""
    pad = k // 2
    x, w, b = f32(2, c, h, wd), f32(m, c // group, k, k), f32(m)
    inits = {"w": w, "b": b, "lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}
    ins = [vi("x", list(x.shape))]
    data = [x]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["t"], pads=[pad] * 4,
                              strides=[stride, stride], group=group)]
    t = conv2d(x.astype(np.float64), w, b, stride, group, pad)
    if kind == "relu6":
        hi = "hi"
        if dyn_clip:
            hi = "hi_in"
            ins.append(vi("hi_in", []))
            data.append(np.array(6.0, np.float32))
        nodes.append(helper.make_node("Clip", ["t", "lo", hi], ["a"]))
    elif kind == "hardswish":
        nodes.append(helper.make_node("HardSwish", ["t"], ["a"]))
    else:
        nodes += [helper.make_node("Sigmoid", ["t"], ["s"]),
                  helper.make_node("Mul", ["t", "s"], ["a"])]
    y = act_ref(kind, t)
    if residual:
        r = x if residual == "same" else f32(1, m, 1, 1)
        if residual == "bcast":
            ins.append(vi("r", list(r.shape)))
            data.append(r)
        nodes += [helper.make_node("Add", ["a", "x" if residual == "same" else "r"], ["z"]),
                  helper.make_node("Relu", ["z"], ["y"])]
        y = np.maximum(y + r, 0.0)
    else:
        nodes[-1].output[0] = "y"
    outs = [vi("y", list(y.shape))] + ([vi("t", list(t.shape))] if expose else [])
    refs = [y] + ([t] if expose else [])
    return model(nodes, ins, outs, inits), data, refs

def gemm_gelu_case(kind, expose=False):
    """kind: "matmul" (MatMul + Add on rank 3), "nobias" (Gemm), "input" (Gemm, B an
    input), "residual" (x + GELU(MatMul + Add))"""
    x, w, b = f32(1, 37, 8), f32(8, 40), f32(40)
    inits = {"b": b, "sqrt2": np.array(math.sqrt(2.0), np.float32),
             "one": np.array(1.0, np.float32), "half": np.array(0.5, np.float32)}
    ins, args = [vi("x", list(x.shape))], [x]
    if kind in ("matmul", "residual"):
        inits["w"] = w
        nodes = [helper.make_node("MatMul", ["x", "w"], ["p"]),
                 helper.make_node("Add", ["p", "b"], ["t"])]
        t = x.astype(np.float64) @ w + b
    else:
        x = x[0]
        ins, args = [vi("x", list(x.shape))], [x]
        nodes = [helper.make_node("Gemm", ["x", "w"], ["t"])]
        t = x.astype(np.float64) @ w
        if kind == "input":
            ins.append(vi("w", list(w.shape)))
            args.append(w)
        else:
            inits["w"] = w
    if kind == "residual":
        r = f32(1, 37, 40)
        ins.append(vi("r", list(r.shape)))
        args.append(r)
        nodes += gelu_nodes("t", "g") + [helper.make_node("Add", ["r", "g"], ["y"])]
        y = r + gelu_ref(t)
    else:
        nodes += gelu_nodes("t", "y")
        y = gelu_ref(t)
    outs = [vi("y", list(y.shape))] + ([vi("t", list(t.shape))] if expose else [])
    refs = [y] + ([t] if expose else [])
    return model(nodes, ins, outs, inits), args, refs


# name, builder, op that must be gone when fused (or kept, for near misses), kept?
CASES = [
    ("conv_bn", lambda: conv_bn_case(True, 1, 1, False), "BatchNormalization", False),
    ("conv_nobias_bn", lambda: conv_bn_case(False, 2, 2, False), "BatchNormalization", False),
    ("gemm_scale", gemm_scale_case, "Mul", False),
    ("matmul_scale", lambda: matmul_scale_case(False), "Mul", False),
    ("gemm_residual", lambda: residual_case("gemm"), "Add", False),
    ("matmul_residual", lambda: residual_case("matmul"), "Add", False),
    ("conv_gelu", lambda: conv_gelu_case(5, 12, 1, 3, 2, 20, 18, False, False), "Gelu", False),
    ("conv_bn_gelu_1x1", lambda: conv_gelu_case(6, 10, 1, 1, 1, 7, 9, True, False), "Gelu", False),
    ("conv_gelu_small", lambda: conv_gelu_case(8, 32, 1, 3, 1, 6, 5, False, False), "Gelu", False),
    ("dwconv_gelu", lambda: conv_gelu_case(6, 12, 6, 3, 1, 8, 7, False, False), "Gelu", False),
    ("pw_relu6", lambda: conv_act_case("relu6", 12, 20, 1, 1, 1, 7, 9), "Clip", False),
    ("dw_relu6_s2", lambda: conv_act_case("relu6", 24, 24, 24, 3, 2, 9, 11), "Clip", False),
    ("dw5_hardswish", lambda: conv_act_case("hardswish", 20, 20, 20, 5, 1, 8, 7), "HardSwish",
     False),
    ("dw_silu", lambda: conv_act_case("silu", 17, 17, 17, 3, 1, 6, 9), "Sigmoid", False),
    ("pw_relu6_residual_relu", lambda: conv_act_case("relu6", 16, 16, 1, 1, 1, 5, 6,
                                                     residual="same"), "Add", False),
    ("nearmiss_silu_used", lambda: conv_act_case("silu", 17, 17, 17, 3, 1, 6, 9, expose=True),
     "Sigmoid", True),
    ("nearmiss_clip_bound", lambda: conv_act_case("relu6", 12, 20, 1, 1, 1, 7, 9, dyn_clip=True),
     "Clip", True),
    ("nearmiss_conv_bcast_add", lambda: conv_act_case("hardswish", 16, 16, 1, 1, 1, 5, 6,
                                                      residual="bcast"), "Add", True),
    ("gemm_gelu", lambda: gemm_gelu_case("matmul"), "Gelu", False),
    ("gemm_gelu_nobias", lambda: gemm_gelu_case("nobias"), "Gelu", False),
    ("gemm_gelu_input", lambda: gemm_gelu_case("input"), "Gelu", False),
    ("gelu_residual", lambda: gemm_gelu_case("residual"), "Add", True),
    ("nearmiss_used", lambda: conv_bn_case(True, 1, 1, True), "BatchNormalization", True),
    ("nearmiss_gelu_used", lambda: conv_gelu_case(5, 12, 1, 3, 2, 20, 18, False, True), "Gelu", True),
    ("nearmiss_gemm_gelu_used", lambda: gemm_gelu_case("matmul", True), "Gelu", True),
    ("nearmiss_bcast", lambda: residual_case("bcast"), "Add", True),
    ("nearmiss_axis", lambda: matmul_scale_case(True), "Mul", True),
]


def check(tostc, path, d, op, kept):
    """OP in --report=json's op counts exactly when KEPT"""
    rc, out, err = harness.run([tostc, path, "--report=json"])
    if rc != 0:
        return ["report: " + harness.first_line(err)]
    ops = json.loads(out)["ops"]
    if (op in ops) != kept:
        return ["%s %s after fusion (ops %s)" % (op, "missing" if kept else "left", ops)]
    return []


def main():
    return harness.graph_cases(__doc__, "epilogue", CASES, check)


if __name__ == "__main__":
    sys.exit(main())
