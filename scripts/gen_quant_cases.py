#!/usr/bin/python3
"""
gen_quant_cases.py -- derived conformance cases for the 8- and 16-bit
element types and the quantisation ops (compiler/ops/op_quant.c,
runtime/quant/) in the forms ONNX 1.12's node tests do not reach:

  - derived/test_cast_<FROM>_to_<TO>_gen for every pair with INT8, UINT8,
    FLOAT16 or BFLOAT16 on one side (ONNX 1.12 tests FLOAT <-> FLOAT16 and
    BFLOAT16 only, and its FLOAT -> BFLOAT16 reference truncates): rounding
    to nearest even with ties, float16 subnormals and overflow, NaN and
    infinities, integers wrapping to the narrower type;
  - QuantizeLinear and DequantizeLinear at opsets 10, 13, 19 and 21 (per
    tensor, per axis with positive and negative axes, zero points absent,
    int8 and uint8, int32 DequantizeLinear, output_dtype), ties and
    saturation;
  - MatMulInteger and QLinearMatMul with zero points and scales per row and
    per column, int8 and uint8 mixed, broadcast batches, 1-D a, more than
    one 256-column tile, QLinearMatMul at opset 21.

scripts/gen_onnx_tests.py calls write_cases(OUTDIR/derived).  References are
numpy implementations of the ONNX definitions (float32 arithmetic, as the
spec's; rounding to nearest even with np.rint); tests/models/test_quant.py
uses the same ones.  bfloat16 tensors are written as raw bits (numpy has no
bfloat16): in a model as BFLOAT16 int32_data, in the data sets as UINT16
tensors of the bits, as ONNX's own bfloat16 cases.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(24)


class Bf16:
    """A bfloat16 array as its uint16 bits."""

    def __init__(self, bits):
        self.bits = np.asarray(bits, np.uint16)
        self.shape = self.bits.shape


ELEM = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("int64"): TensorProto.INT64,
        np.dtype("int32"): TensorProto.INT32, np.dtype("bool"): TensorProto.BOOL,
        np.dtype("int8"): TensorProto.INT8, np.dtype("uint8"): TensorProto.UINT8,
        np.dtype("float16"): TensorProto.FLOAT16}


def elem(a):
    return TensorProto.BFLOAT16 if isinstance(a, Bf16) else ELEM[a.dtype]


def to_tensor(a, name=""):
    if isinstance(a, Bf16):
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.BFLOAT16
        t.dims.extend(a.shape)
        t.int32_data.extend(int(v) for v in a.bits.reshape(-1))   # as ONNX's own cases
        return t
    return numpy_helper.from_array(np.asarray(a), name)


# ---------------------------------------------------------------------------
# numpy references of the ONNX definitions
# ---------------------------------------------------------------------------

def f32_to_bf16(x):
    """float32 -> bfloat16 bits, to nearest, ties to even; NaN stays NaN."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(x, np.float32))
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), r)


def bf16_to_f32(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


QRANGE = {np.dtype("int8"): (-128, 127), np.dtype("uint8"): (0, 255)}


def axis_shape(x, scale, axis):
    """scale reshaped to broadcast along axis of x (unchanged per tensor)."""
    s = np.asarray(scale)
    if s.ndim == 0 or s.size == 1 and s.ndim == 0:
        return s
    shape = [1] * x.ndim
    shape[axis % x.ndim] = s.size
    return s.reshape(shape)


def quantize(x, scale, zp, axis=1, dtype=np.uint8):
    """ONNX QuantizeLinear: saturate(round(x / scale) + zp), float32 division."""
    dt = np.dtype(zp.dtype if zp is not None else dtype)
    lo, hi = QRANGE[dt]
    s = axis_shape(x, np.asarray(scale, np.float32), axis)
    z = axis_shape(x, zp, axis).astype(np.float32) if zp is not None else np.float32(0)
    q = np.rint(np.asarray(x, np.float32) / s)
    return np.clip(q + z, lo, hi).astype(dt)


def dequantize(x, scale, zp, axis=1):
    """ONNX DequantizeLinear: (x - zp) * scale."""
    s = axis_shape(x, np.asarray(scale, np.float32), axis)
    z = axis_shape(x, zp, axis).astype(np.int64) if zp is not None else 0
    return ((x.astype(np.int64) - z).astype(np.float32) * s).astype(np.float32)


def dynamic_quantize(x):
    """ONNX DynamicQuantizeLinear (uint8); an all-zero x gets scale 1 as in tostc."""
    x = np.asarray(x, np.float32)
    lo, hi = min(np.float32(0), x.min()), max(np.float32(0), x.max())
    s = np.float32(1) if hi == lo else np.float32((hi - lo) / np.float32(255))
    z = np.float32(np.clip(np.rint((np.float32(0) - lo) / s), 0, 255))
    y = np.clip(np.rint(x / s) + z, 0, 255).astype(np.uint8)
    return y, np.array(s, np.float32), np.array(z, np.uint8)


def _rows(v, m):
    """a per-tensor or per-row value as a column of m"""
    v = np.asarray(v).reshape(-1)
    return (v if v.size > 1 else np.repeat(v, m)).reshape(m, 1)


def _cols(v, n):
    v = np.asarray(v).reshape(-1)
    return (v if v.size > 1 else np.repeat(v, n)).reshape(1, n)


def matmul_integer(a, b, azp=None, bzp=None):
    """ONNX MatMulInteger: (a - azp) @ (b - bzp), int32 (exact here)."""
    m = a.shape[-2] if a.ndim > 1 else 1
    n = b.shape[-1] if b.ndim > 1 else 1
    a2 = a.astype(np.int64)
    b2 = b.astype(np.int64)
    if azp is not None:
        a2 = a2 - (_rows(azp, m).astype(np.int64) if a.ndim > 1 else np.int64(np.asarray(azp).reshape(-1)[0]))
    if bzp is not None:
        b2 = b2 - (_cols(bzp, n).astype(np.int64) if b.ndim > 1 else np.int64(np.asarray(bzp).reshape(-1)[0]))
    return np.matmul(a2, b2).astype(np.int32)


def qlinear_matmul(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp):
    """ONNX QLinearMatMul as tostc (and ONNX Runtime's MLAS) computes it:
    round(acc * (a_scale * b_scale / y_scale)) + y_zp, the multiplier and the
    product in float32, saturated."""
    m = a.shape[-2] if a.ndim > 1 else 1
    n = b.shape[-1] if b.ndim > 1 else 1
    acc = matmul_integer(a, b, a_zp, b_zp).astype(np.float32)
    mul = (_rows(np.asarray(a_s, np.float32), m) * _cols(np.asarray(b_s, np.float32), n)
           / _rows(np.asarray(y_s, np.float32), m)).astype(np.float32)
    if a.ndim == 1:
        mul = mul[0]
    if b.ndim == 1:
        mul = mul[..., 0]
    lo, hi = QRANGE[np.dtype(y_zp.dtype)]
    z = _rows(y_zp, m).astype(np.float32)
    if a.ndim == 1:
        z = z[0]
    if b.ndim == 1:
        z = z[..., 0]
    return np.clip(np.rint(acc * mul) + z, lo, hi).astype(y_zp.dtype)


# ---------------------------------------------------------------------------
# One-node models
# ---------------------------------------------------------------------------

def case(op, inputs, outputs, opset, inits=None, **attrs):
    """A one-node model: inputs and outputs are [(name, array)], inits
    {name: array} (initializers; '' skips an optional input).  Returns
    (model, input arrays, output arrays)."""
    inits = inits or {}
    node = helper.make_node(op, [n for n, _ in inputs], [n for n, _ in outputs], **attrs)
    vi = [helper.make_tensor_value_info(n, elem(a), list(a.shape))
          for n, a in inputs if n and n not in inits]
    vo = [helper.make_tensor_value_info(n, elem(a), list(a.shape)) for n, a in outputs]
    g = helper.make_graph([node], op.lower(), vi, vo, [to_tensor(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset <= 17 else 9
    return m, [a for n, a in inputs if n and n not in inits], [a for _, a in outputs]


# ---------------------------------------------------------------------------
# Cast
# ---------------------------------------------------------------------------

TYPES = ["FLOAT", "INT64", "INT32", "BOOL", "INT8", "UINT8", "FLOAT16", "BFLOAT16"]
NEW = {"INT8", "UINT8", "FLOAT16", "BFLOAT16"}
NP = {"FLOAT": np.float32, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_,
      "INT8": np.int8, "UINT8": np.uint8, "FLOAT16": np.float16}
INTS = {"INT64", "INT32", "INT8", "UINT8"}

# float values for float targets: ties of bfloat16 (1 + 2^-8, 1 + 3 * 2^-8) and
# float16 (1 + 2^-11, 1 + 3 * 2^-11), float16 overflow (65520 -> inf, 65519 ->
# 65504), subnormals (1e-7, 3e-8 rounds up to 2^-24, 2e-8 down to 0), NaN, inf
FLOAT_WIDE = [1.00390625, 1.01171875, 1.00048828125, 1.00146484375, 65519.0, 65520.0, 1e-7,
              3e-8, 2e-8, -0.0, 0.1, -1.0 / 3, 1e30, -2.5, float("nan"), float("inf"),
              -float("inf"), 3.140625]
# float values for integer targets: in range for int8 and uint8 (truncation)
FLOAT_SMALL = [0.0, 0.5, 1.9, 2.5, 100.75, 127.0, 126.99, 3.0, 64.5, 12.25]
# integers: wrap to the narrower types; within 2^24 for the float targets
INT_VALUES = [-129, -128, -1, 0, 1, 127, 128, 255, 256, 70000, 2049, 2051, 257, 259, -16777215,
              65519]


def cast_input(a, b):
    """The input array of Cast a -> b (numpy, or Bf16)."""
    if a in ("FLOAT", "FLOAT16", "BFLOAT16"):
        v = np.array(FLOAT_SMALL if b in INTS else FLOAT_WIDE, np.float32)
        if a == "FLOAT16":
            with np.errstate(over="ignore"):
                v = v.astype(np.float16)
        elif a == "BFLOAT16":
            return Bf16(f32_to_bf16(v))
        return v
    if a == "BOOL":
        return np.array([True, False, True, True, False, False], np.bool_)
    v = np.array(INT_VALUES, np.int64)
    if a == "INT8":
        v = np.array([-128, -100, -2, -1, 0, 1, 2, 63, 100, 127])
    elif a == "UINT8":
        v = np.array([0, 1, 2, 3, 9, 127, 128, 200, 254, 255])
    return v.astype(NP[a])


def cast_ref(x, b):
    """numpy's Cast of x (numpy or Bf16) to b: astype, bfloat16 through float32."""
    f = bf16_to_f32(x.bits) if isinstance(x, Bf16) else None
    if b == "BFLOAT16":
        src = f if f is not None else np.asarray(x).astype(np.float32)
        return Bf16(f32_to_bf16(src))
    src = f if f is not None else x
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(src).astype(NP[b])


def cast_cases():
    for a in TYPES:
        for b in TYPES:
            if a == b or (a not in NEW and b not in NEW):
                continue
            x = cast_input(a, b)
            y = cast_ref(x, b)
            yield ("cast_%s_to_%s" % (a, b),
                   case("Cast", [("x", x)], [("y", y)], 13, to=getattr(TensorProto, b)))


# ---------------------------------------------------------------------------
# QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
# ---------------------------------------------------------------------------

def qx(*shape):
    """floats with ties of scale 0.5 (x / 0.5 = k + 0.5) and saturating values"""
    x = (rng.integers(-40, 40, shape) * 0.25).astype(np.float32)
    flat = x.reshape(-1)
    flat[:4] = [1.25, -1.25, 300.0, -300.0][:flat.size]
    return x


def quant_cases():
    i8, u8 = np.int8, np.uint8
    x = qx(2, 5)
    for opset in (10, 13, 19, 21):
        s = np.array(0.5, np.float32)
        for dt, zpv in ((u8, 128), (i8, -3)):
            zp = np.array(zpv, dt)
            yield ("quantizelinear_opset%d_%s" % (opset, np.dtype(dt).name),
                   case("QuantizeLinear", [("x", x), ("s", s), ("zp", zp)],
                        [("y", quantize(x, s, zp))], opset, inits={"s": s, "zp": zp}))
        yield ("quantizelinear_opset%d_nozp" % opset,
               case("QuantizeLinear", [("x", x), ("s", s)], [("y", quantize(x, s, None))], opset,
                    inits={"s": s}))
        q = quantize(x, s, np.array(3, i8))
        yield ("dequantizelinear_opset%d_int8" % opset,
               case("DequantizeLinear", [("q", q), ("s", s), ("zp", np.array(3, i8))],
                    [("y", dequantize(q, s, np.array(3, i8)))], opset,
                    inits={"s": s, "zp": np.array(3, i8)}))
        qu = quantize(x, s, np.array(128, u8))
        yield ("dequantizelinear_opset%d_uint8_nozp" % opset,
               case("DequantizeLinear", [("q", qu), ("s", s)], [("y", dequantize(qu, s, None))],
                    opset, inits={"s": s}))
        q32 = rng.integers(-100000, 100000, (3, 4)).astype(np.int32)
        yield ("dequantizelinear_opset%d_int32" % opset,
               case("DequantizeLinear", [("q", q32), ("s", np.array(0.01, np.float32))],
                    [("y", dequantize(q32, np.float32(0.01), None))], opset,
                    inits={"s": np.array(0.01, np.float32)}))
    # per axis (opset 13 on): axis 0, the default 1, a negative axis
    x3 = qx(3, 4, 2)
    for opset in (13, 19, 21):
        for axis, name in ((0, "axis0"), (None, "axis1"), (-1, "axisneg")):
            ax = 1 if axis is None else axis
            c = x3.shape[ax]
            s = (rng.integers(1, 5, c) * 0.25).astype(np.float32)
            for dt, lo, hi in ((i8, -10, 10), (u8, 100, 140)):
                zp = rng.integers(lo, hi, c).astype(dt)
                attrs = {} if axis is None else {"axis": axis}
                q = quantize(x3, s, zp, ax)
                yield ("quantizelinear_opset%d_%s_%s" % (opset, name, np.dtype(dt).name),
                       case("QuantizeLinear", [("x", x3), ("s", s), ("zp", zp)], [("y", q)],
                            opset, inits={"s": s, "zp": zp}, **attrs))
                yield ("dequantizelinear_opset%d_%s_%s" % (opset, name, np.dtype(dt).name),
                       case("DequantizeLinear", [("q", q), ("s", s), ("zp", zp)],
                            [("y", dequantize(q, s, zp, ax))], opset, inits={"s": s, "zp": zp},
                            **attrs))
    # opset 21's output_dtype, without a zero point; scale and zero point as inputs
    s = np.array(0.25, np.float32)
    yield ("quantizelinear_opset21_output_dtype_int8",
           case("QuantizeLinear", [("x", x), ("s", s)],
                [("y", quantize(x, s, None, dtype=np.int8))], 21, inits={"s": s},
                output_dtype=TensorProto.INT8))
    zp = np.array(7, u8)
    yield ("quantizelinear_opset13_params_as_inputs",
           case("QuantizeLinear", [("x", x), ("s", s), ("zp", zp)], [("y", quantize(x, s, zp))],
                13))
    # DynamicQuantizeLinear: all positive, a wide range, one element
    for name, v in (("positive", (rng.random((3, 4)) * 7 + 0.5).astype(np.float32)),
                    ("wide", (rng.standard_normal((2, 3, 5)) * 50).astype(np.float32)),
                    ("single", np.array([-2.5], np.float32))):
        y, ys, yz = dynamic_quantize(v)
        yield ("dynamicquantizelinear_%s" % name,
               case("DynamicQuantizeLinear", [("x", v)], [("y", y), ("y_scale", ys),
                                                          ("y_zero_point", yz)], 11))


# ---------------------------------------------------------------------------
# MatMulInteger, QLinearMatMul
# ---------------------------------------------------------------------------

def q8(dt, *shape):
    lo, hi = QRANGE[np.dtype(dt)]
    return rng.integers(lo, hi + 1, shape).astype(dt)


def matmul_cases():
    i8, u8 = np.int8, np.uint8
    a, b = q8(i8, 3, 4), q8(i8, 4, 5)
    az, bz = q8(i8, 3), q8(i8, 5)
    yield ("matmulinteger_int8_per_row_col",
           case("MatMulInteger", [("a", a), ("b", b), ("az", az), ("bz", bz)],
                [("y", matmul_integer(a, b, az, bz))], 10, inits={"b": b, "az": az, "bz": bz}))
    a, b = q8(u8, 2, 3, 4), q8(i8, 4, 5)
    yield ("matmulinteger_uint8_int8_nozp_batched",
           case("MatMulInteger", [("a", a), ("b", b)], [("y", matmul_integer(a, b))], 10))
    a, b = q8(u8, 4), q8(u8, 2, 4, 3)
    az, bz = np.array(128, u8), np.array(3, u8)
    yield ("matmulinteger_1d_a_broadcast",
           case("MatMulInteger", [("a", a), ("b", b), ("az", az), ("bz", bz)],
                [("y", matmul_integer(a, b, az, bz))], 10))
    a, b = q8(u8, 5, 600), q8(u8, 600, 300)
    az, bz = np.array(7, u8), q8(u8, 300)
    yield ("matmulinteger_two_tiles",
           case("MatMulInteger", [("a", a), ("b", b), ("az", az), ("bz", bz)],
                [("y", matmul_integer(a, b, az, bz))], 10, inits={"b": b, "az": az, "bz": bz}))

    def qlm(name, opset, a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp, consts=True):
        ins = [("a", a), ("a_s", a_s), ("a_zp", a_zp), ("b", b), ("b_s", b_s), ("b_zp", b_zp),
               ("y_s", y_s), ("y_zp", y_zp)]
        inits = {k: v for k, v in ins if k != "a"} if consts else {}
        y = qlinear_matmul(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp)
        return (name, case("QLinearMatMul", ins, [("y", y)], opset, inits=inits))

    f = lambda *v: np.array(v, np.float32)  # noqa: E731
    yield qlm("qlinearmatmul_uint8_per_tensor", 10, q8(u8, 4, 6), f(0.02), np.array(120, u8),
              q8(u8, 6, 3), f(0.03), np.array(130, u8), f(0.05), np.array(128, u8))
    b = q8(i8, 2, 6, 4)
    yield qlm("qlinearmatmul_opset21_int8_per_column_batched", 21, q8(i8, 2, 3, 6), f(0.02),
              np.array(-5, i8), b, (rng.random(4) * 0.05 + 0.01).astype(np.float32),
              q8(i8, 4) // 8, f(0.07), np.array(3, i8))
    yield qlm("qlinearmatmul_per_row_a_y", 10, q8(u8, 3, 5), f(0.01, 0.02, 0.03),
              np.array([100, 120, 140], u8), q8(i8, 5, 4), f(0.04), np.array(0, i8),
              f(0.05, 0.06, 0.07), np.array([10, 20, 30], u8))
    yield qlm("qlinearmatmul_two_tiles_inputs", 10, q8(u8, 2, 40), f(0.01), np.array(128, u8),
              q8(u8, 40, 300), f(0.02), np.array(128, u8), f(0.1), np.array(128, u8),
              consts=False)


def all_cases():
    yield from cast_cases()
    yield from quant_cases()
    yield from matmul_cases()


def write_cases(der):
    """Write every case into DER (derived/); returns the count."""
    n = 0
    for name, (m, ins, outs) in all_cases():
        d = os.path.join(der, "test_%s_gen" % name)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(m, os.path.join(d, "model.onnx"))
        for kind, arrays in (("input", ins), ("output", outs)):
            for i, a in enumerate(arrays):
                with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (kind, i)), "wb") as f:
                    # bfloat16 data as UINT16 bits, as ONNX's own bfloat16 cases
                    v = a.bits if isinstance(a, Bf16) else np.asarray(a)
                    f.write(numpy_helper.from_array(v).SerializeToString())
        n += 1
    return n
