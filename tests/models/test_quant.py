#!/usr/bin/python3
"""
test_quant.py -- quantised models and the 8- and 16-bit types end to end
(ctest `quant`).

Models written with onnx.helper in the two forms ONNX Runtime's quantizer
and PyTorch write:
  - QDQ: QuantizeLinear -> DequantizeLinear pairs around float MatMul / Gemm
    / Add / Relu, int8 weights per output channel (axis 1) and per tensor,
    uint8 activations, at opsets 13 and 21;
  - QOperator: QLinearMatMul chains, and DynamicQuantizeLinear ->
    MatMulInteger -> Cast -> Mul (ONNX Runtime's dynamic quantisation);
  - float16 / bfloat16 weights and float16 inputs and outputs through Cast,
    called through the typed NAME_run (uint16_t bits).
References are numpy implementations of the ONNX definitions
(scripts/gen_quant_cases.py).  With power-of-two scales every float
intermediate is exact, so those models must match the reference bit for bit;
with arbitrary scales the output must be within one quantisation step of a
float64 reference, per element (ONNX Runtime's criterion in issue 24).

Each model is built with the plain C99 kernels (-DTR_NO_SIMD) and with
-march=native, and once more with -fopenmp on 3 threads, which must give the
native build's outputs bit for bit.  Malformed quantisation parameters must
exit 1 with one message naming the node (or the initializer).  Last line:
`quant: N passed, N failed (plain C99 + native: ISA)`.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import harness  # noqa: E402
from gen_quant_cases import (Bf16, bf16_to_f32, dequantize, dynamic_quantize,  # noqa: E402
                             f32_to_bf16, matmul_integer, qlinear_matmul, quantize, to_tensor)

rng = np.random.default_rng(2424)
ELEM = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float16"): TensorProto.FLOAT16,
        np.dtype("uint8"): TensorProto.UINT8, np.dtype("int8"): TensorProto.INT8}


def model(nodes, inputs, outputs, inits, opset):
    """nodes as (op, inputs, outputs, attrs); inputs and outputs [(name, array)]"""
    ns = [helper.make_node(op, i, o, name="%s_%d" % (op.lower(), k), **a)
          for k, (op, i, o, a) in enumerate(nodes)]
    vi = lambda n, a: helper.make_tensor_value_info(n, ELEM[a.dtype], list(a.shape))  # noqa: E731
    g = helper.make_graph(ns, "g", [vi(n, a) for n, a in inputs], [vi(n, a) for n, a in outputs],
                          [to_tensor(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset <= 17 else 9
    return m


def p2(e):
    return np.array(2.0 ** e, np.float32)


# ---------------------------------------------------------------------------
# QDQ: x -Q-DQ-> MatMul(DQ(W1 int8 per column)) + b1 -> Relu -Q-DQ-> Gemm(DQ(W2)) -Q-DQ-> y
# ---------------------------------------------------------------------------

def qdq_mlp(opset, exact):
    n, d, h, o = 6, 16, 24, 10
    x = (rng.standard_normal((n, d)) * 2).astype(np.float32)
    if exact:
        sx, s1, sh, s2, sy = p2(-4), (2.0 ** -rng.integers(5, 8, h)).astype(np.float32), p2(-3), \
            p2(-6), p2(-2)
        b1 = (rng.integers(-64, 64, h) * 2.0 ** -9).astype(np.float32)
    else:
        sx, s1, sh, s2, sy = np.float32(0.037), (rng.random(h) * 0.01 + 0.004).astype(np.float32), \
            np.float32(0.051), np.float32(0.0123), np.float32(0.29)
        b1 = (rng.standard_normal(h) * 0.1).astype(np.float32)
    zx, zh, zy = np.array(128, np.uint8), np.array(0, np.uint8), np.array(120, np.uint8)
    w1 = rng.integers(-127, 128, (d, h)).astype(np.int8)
    w2 = rng.integers(-127, 128, (h, o)).astype(np.int8)
    z1, z2 = np.zeros(h, np.int8), np.array(0, np.int8)
    inits = {"sx": sx, "zx": zx, "w1": w1, "s1": s1, "z1": z1, "b1": b1, "sh": sh, "zh": zh,
             "w2": w2, "s2": s2, "z2": z2, "sy": sy, "zy": zy}
    nodes = [("QuantizeLinear", ["x", "sx", "zx"], ["xq"], {}),
             ("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], {}),
             ("DequantizeLinear", ["w1", "s1", "z1"], ["w1d"], {"axis": 1}),
             ("MatMul", ["xd", "w1d"], ["m1"], {}),
             ("Add", ["m1", "b1"], ["a1"], {}),
             ("Relu", ["a1"], ["r1"], {}),
             ("QuantizeLinear", ["r1", "sh", "zh"], ["hq"], {}),
             ("DequantizeLinear", ["hq", "sh", "zh"], ["hd"], {}),
             ("DequantizeLinear", ["w2", "s2", "z2"], ["w2d"], {}),
             ("Gemm", ["hd", "w2d"], ["m2"], {}),
             ("QuantizeLinear", ["m2", "sy", "zy"], ["yq"], {}),
             ("DequantizeLinear", ["yq", "sy", "zy"], ["y"], {})]
    # numpy: the ONNX definitions, float32 (exact with power-of-two scales)
    xd = dequantize(quantize(x, sx, zx), sx, zx)
    a1 = np.maximum(xd @ dequantize(w1, s1, z1) + b1, 0).astype(np.float32)
    hd = dequantize(quantize(a1, sh, zh), sh, zh)
    m2 = (hd @ dequantize(w2, s2, z2)).astype(np.float32)
    y = dequantize(quantize(m2, sy, zy), sy, zy)
    # float64 for the tolerance: the last Q's input from hd in float64
    m2_64 = hd.astype(np.float64) @ dequantize(w2, s2, z2).astype(np.float64)
    y64 = (np.clip(np.rint(m2_64 / sy) + 120, 0, 255) - 120) * np.float64(sy)
    m = model(nodes, [("x", x)], [("y", y)], inits, opset)
    return m, [x], [y], ("exact" if exact else ("step", float(sy), y64))


# ---------------------------------------------------------------------------
# QOperator: Q -> QLinearMatMul (int8 W per column) -> QLinearMatMul -> DQ
# ---------------------------------------------------------------------------

def qoperator(opset):
    n, d, h, o = 5, 12, 300, 7   # 300 columns: two tiles of the integer kernel
    x = rng.standard_normal((2, n, d)).astype(np.float32)
    sx, zx = np.array(0.05, np.float32), np.array(-3, np.int8)
    w1 = rng.integers(-128, 128, (d, h)).astype(np.int8)
    s1, z1 = (rng.random(h) * 0.02 + 0.01).astype(np.float32), np.zeros(h, np.int8)
    sh, zh = np.array(0.11, np.float32), np.array(5, np.int8)
    w2 = rng.integers(0, 256, (h, o)).astype(np.uint8)
    s2, z2 = np.array(0.003, np.float32), np.array(128, np.uint8)
    sy, zy = np.array(0.07, np.float32), np.array(130, np.uint8)
    inits = {"sx": sx, "zx": zx, "w1": w1, "s1": s1, "z1": z1, "sh": sh, "zh": zh, "w2": w2,
             "s2": s2, "z2": z2, "sy": sy, "zy": zy}
    nodes = [("QuantizeLinear", ["x", "sx", "zx"], ["xq"], {}),
             ("QLinearMatMul", ["xq", "sx", "zx", "w1", "s1", "z1", "sh", "zh"], ["hq"], {}),
             ("QLinearMatMul", ["hq", "sh", "zh", "w2", "s2", "z2", "sy", "zy"], ["yq"], {}),
             ("DequantizeLinear", ["yq", "sy", "zy"], ["y"], {})]
    xq = quantize(x, sx, zx)
    hq = qlinear_matmul(xq, sx, zx, w1, s1, z1, sh, zh)
    yq = qlinear_matmul(hq, sh, zh, w2, s2, z2, sy, zy)
    y = dequantize(yq, sy, zy)
    return model(nodes, [("x", x)], [("y", y)], inits, opset), [x], [y], "exact"


# ---------------------------------------------------------------------------
# dynamic: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add
# ---------------------------------------------------------------------------

def dynamic():
    n, d, o = 4, 20, 9
    x = (rng.standard_normal((n, d)) * 3).astype(np.float32)
    w = rng.integers(-128, 128, (d, o)).astype(np.int8)
    ws, wz = np.array(0.01, np.float32), np.array(2, np.int8)
    b = rng.standard_normal(o).astype(np.float32)
    nodes = [("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], {}),
             ("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"], {}),
             ("Cast", ["acc"], ["accf"], {"to": TensorProto.FLOAT}),
             ("Mul", ["xs", "ws"], ["s"], {}),
             ("Mul", ["accf", "s"], ["m"], {}),
             ("Add", ["m", "b"], ["y"], {})]
    xq, xs, xz = dynamic_quantize(x)
    acc = matmul_integer(xq, w, xz, wz).astype(np.float32)
    y = (acc * (xs * ws) + b).astype(np.float32)
    m = model(nodes, [("x", x)], [("y", y)], {"w": w, "ws": ws, "wz": wz, "b": b}, 13)
    return m, [x], [y], ("close", 1e-6)


# ---------------------------------------------------------------------------
# float16 / bfloat16 weights, float16 input and output (typed NAME_run)
# ---------------------------------------------------------------------------

def half_weights():
    x = rng.standard_normal((3, 8)).astype(np.float16)
    w16 = (rng.standard_normal((8, 5)) * 0.5).astype(np.float16)
    wbf = Bf16(f32_to_bf16(rng.standard_normal((5, 4)).astype(np.float32)))
    nodes = [("Cast", ["x"], ["xf"], {"to": TensorProto.FLOAT}),
             ("Cast", ["w16"], ["w16f"], {"to": TensorProto.FLOAT}),
             ("MatMul", ["xf", "w16f"], ["h"], {}),
             ("Cast", ["wbf"], ["wbff"], {"to": TensorProto.FLOAT}),
             ("MatMul", ["h", "wbff"], ["yf"], {}),
             ("Cast", ["yf"], ["y"], {"to": TensorProto.FLOAT16})]
    h = x.astype(np.float64) @ w16.astype(np.float64)
    y = (h @ bf16_to_f32(wbf.bits).astype(np.float64)).astype(np.float32)
    m = model(nodes, [("x", x)], [("y", y.astype(np.float16))], {"w16": w16, "wbf": wbf}, 17)
    # a float32 result rounded once to float16: within one float16 step (2^-10 relative)
    return m, [x], [y.astype(np.float16)], ("f16", y)


CASES = [
    ("qdq_mlp_exact_opset13", lambda: qdq_mlp(13, True)),
    ("qdq_mlp_exact_opset21", lambda: qdq_mlp(21, True)),
    ("qdq_mlp_one_step", lambda: qdq_mlp(13, False)),
    ("qoperator_qlinear_matmul", lambda: qoperator(10)),
    ("qoperator_qlinear_matmul_opset21", lambda: qoperator(21)),
    ("dynamic_matmul_integer", dynamic),
    ("half_weights_typed_api", half_weights),
]


def refusal(kind):
    """A one-node model with malformed parameters, and the text its message must hold."""
    x = np.zeros((2, 3), np.float32)
    if kind == "zero_scale":
        return model([("QuantizeLinear", ["x", "s", "z"], ["y"], {})], [("x", x)],
                     [("y", x.astype(np.uint8))], {"s": np.array(0, np.float32),
                                                   "z": np.array(3, np.uint8)}, 13), \
            "node 'quantizelinear_0' (QuantizeLinear, #0): y_scale (input 1) [0] is 0"
    if kind == "axis_mismatch":
        return model([("DequantizeLinear", ["q", "s"], ["y"], {"axis": 0})],
                     [("q", x.astype(np.int8))], [("y", x)],
                     {"s": np.ones(3, np.float32)}, 13), \
            "node 'dequantizelinear_0' (DequantizeLinear, #0): x_scale (input 1) has 3 values " \
            "but axis 0"
    if kind == "axis_range":
        return model([("QuantizeLinear", ["x", "s"], ["y"], {"axis": 2})], [("x", x)],
                     [("y", x.astype(np.uint8))], {"s": np.ones(3, np.float32)}, 13), \
            "node 'quantizelinear_0' (QuantizeLinear, #0)"
    if kind == "zp_type":
        return model([("QuantizeLinear", ["x", "s", "z"], ["y"], {})], [("x", x)],
                     [("y", x.astype(np.uint8))], {"s": np.array(1, np.float32),
                                                   "z": np.array(3, np.float32)}, 13), \
            "node 'quantizelinear_0' (QuantizeLinear, #0): input 2 ('z') has element type f32"
    # a zero point out of its type's range (int32_data holds 300 for an INT8)
    m = model([("DequantizeLinear", ["q", "s", "z"], ["y"], {})], [("q", x.astype(np.int8))],
              [("y", x)], {"s": np.array(1, np.float32)}, 13)
    m.graph.initializer.append(helper.make_tensor("z", TensorProto.INT8, [], [300]))
    return m, "int32_data[0] = 300 is out of range for INT8"


REFUSALS = ["zero_scale", "axis_mismatch", "axis_range", "zp_type", "zp_range"]


def check(got, ref, how, label):
    if how == "exact":
        if got.dtype != ref.dtype or not np.array_equal(got, ref, equal_nan=True):
            bad = np.argwhere(got != ref)
            i = tuple(bad[0]) if len(bad) else ()
            return ["%s: %d of %d differ from the reference, first at %s: %r vs %r"
                    % (label, len(bad), got.size, list(i), got[i], ref[i])]
        return []
    if how[0] == "step":
        _, step, y64 = how
        err = np.abs(got.astype(np.float64) - y64)
        if err.max() > step * (1 + 1e-6):
            return ["%s: max error %g is more than one quantisation step %g" % (label, err.max(), step)]
        return []
    if how[0] == "close":
        return [harness.tolerance_error(got, ref, label)[0]] if \
            harness.tolerance_error(got, ref, label)[0] else []
    # f16: got as float16 bits within one float16 step of the float32 result
    y = how[1]
    g = got.astype(np.float32)
    if not np.all(np.abs(g - y) <= np.abs(y) * 2.0 ** -10 + 2.0 ** -24):
        return ["%s: float16 output more than one step from the float32 result" % label]
    return []


def run_case(tostc, work, builds, name, build):
    m, inputs, refs, how = build()
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    typed = name.endswith("typed_api")
    why, _, _, outs = harness.compile_model(tostc, path, d, "m", None, typed=typed)
    if why:
        return [why]
    problems, got_by = [], {}
    for label, flags in builds:
        exe = "harness_" + label
        e = harness.build(flags, d, os.path.join(d, "harness.c"), os.path.join(d, exe))
        if e:
            problems.append("%s: %s" % (label, e))
            continue
        env = {"OMP_NUM_THREADS": "3"} if label == "omp" else None
        try:
            got = got_by[label] = harness.execute(d, inputs, outs, run_dir=os.path.join(d, label),
                                                  exe=exe, env=env)
        except RuntimeError as err:
            problems.append("%s: %s" % (label, err))
            continue
        e = harness.count_error(got, refs, label)
        if e:
            problems.append(e)
        elif label == "omp":
            if any(not np.array_equal(a, b) for a, b in zip(got, got_by.get("native", []))):
                problems.append("omp: 3 threads differ from the native build")
        else:
            problems += check(got[0], refs[0], how, label)
    return problems


def run_refusal(tostc, work, kind):
    m, want = refusal(kind)
    d = os.path.join(work, "refuse_" + kind)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    rc, _, err = harness.run([tostc, path, "-o", os.path.join(d, "model.c")])
    problems = [] if rc == 1 else ["exit %s, want 1" % rc]
    if len(err.strip().splitlines()) != 1:
        problems.append("%d lines on stderr" % len(err.strip().splitlines()))
    if want not in err:
        problems.append("message lacks %r: %s" % (want, err.strip()))
    if os.path.exists(os.path.join(d, "model.c")):
        problems.append("model.c written")
    return problems


def main():
    allc = CASES + [("refuse_" + k, k) for k in REFUSALS]
    tostc, work, cc, picked = harness.runner_args(__doc__, allc)
    base = [cc] + harness.GRAPH_CFLAGS
    plain, _ = harness.isa_build(base, "plain")
    native, isa = harness.isa_build(base, "native")
    builds = [("plain", plain)] + ([("native", native)] if isa != harness.PLAIN else [])
    if len(builds) > 1:
        builds.append(("omp", native + ["-fopenmp", "-DTR_PAR_MIN=1"]))
    failed = 0
    for name, what in picked:
        if name.startswith("refuse_"):
            problems = run_refusal(tostc, work, what)
        else:
            problems = run_case(tostc, work, builds, name, what)
        failed += bool(problems)
        print("FAIL %s: %s" % (name, "; ".join(problems)) if problems else "ok   %s" % name,
              flush=True)
    print("quant: %d passed, %d failed (plain C99 + native: %s)" % (len(picked) - failed, failed, isa))
    return 1 if failed or not picked else 0


if __name__ == "__main__":
    sys.exit(main())
