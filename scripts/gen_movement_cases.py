#!/usr/bin/python3
"""
gen_movement_cases.py -- derived conformance cases for the data movement ops
(compiler/ops/op_movement.c, op_index.c, op_resize.c) in the forms ONNX
1.12's node tests do not reach: opsets 18 and 19 (Pad's axes input and wrap
mode, ScatterND / ScatterElements max and min, Resize's antialias, axes,
keep_aspect_ratio_policy, half_pixel_symmetric), the old forms (Pad's pads
attribute before opset 11, Resize-10, Upsample-7 and -9, OneHot-9), and edge
cases (negative pads, pads larger than the axis, all-zero pads, element
types, batch_dims 2, repeated indices).

scripts/gen_onnx_tests.py calls write_cases(OUTDIR/derived); each case is
OUTDIR/derived/test_<name>_gen/{model.onnx, test_data_set_0/*.pb}, run by
tests/conformance/run.py like ONNX's own cases.  The models are written with
onnx.helper and not checked with onnx 1.12's checker (which stops at opset
17).  Expected outputs come from numpy: np.pad, fancy indexing, ONNX 1.12's
own Resize reference (onnx.backend.test.case.node.resize) where it covers the
mode, and for antialias PyTorch's F.interpolate(antialias=True), which ONNX's
antialias definition follows (resize_ref below is checked against both).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(21)

ELEM = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("int64"): TensorProto.INT64,
        np.dtype("int32"): TensorProto.INT32, np.dtype("bool"): TensorProto.BOOL}


def case(op, inputs, outputs, opset, inits=None, **attrs):
    """A one-node model: inputs and outputs are [(name, array)], inits
    {name: array} (constants: initializers); the graph's inputs are the
    non-initializer inputs.  Returns (model, input arrays, output arrays)."""
    inits = inits or {}
    names = [n for n, _ in inputs]
    node = helper.make_node(op, names, [n for n, _ in outputs], **attrs)
    vi = [helper.make_tensor_value_info(n, ELEM[a.dtype], list(a.shape))
          for n, a in inputs if n and n not in inits]
    vo = [helper.make_tensor_value_info(n, ELEM[a.dtype], list(a.shape)) for n, a in outputs]
    g = helper.make_graph([node], op.lower(), vi, vo,
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset <= 17 else 9
    return m, [a for n, a in inputs if n and n not in inits], [a for _, a in outputs]


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------
# Pad
# ---------------------------------------------------------------------------

def pad_ref(x, pads, mode, value=0, axes=None):
    """np.pad with ONNX's pads (begin..., end...) over axes; negative pads
    crop first (onnxruntime's reading; np.pad takes no negative widths)."""
    axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
    width = [[0, 0] for _ in range(x.ndim)]
    for k, a in enumerate(axes):
        width[a] = [pads[k], pads[k + len(axes)]]
    sl = tuple(slice(max(-b, 0), x.shape[a] - max(-e, 0)) for a, (b, e) in enumerate(width))
    x = x[sl]
    width = [[max(b, 0), max(e, 0)] for b, e in width]
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=value).astype(x.dtype)
    return np.pad(x, width, mode=mode).astype(x.dtype)


def pad_cases():
    x4 = f32(1, 2, 3, 4)
    xi = rng.integers(-9, 9, (3, 4)).astype(np.int64)
    xb = rng.integers(0, 2, (2, 5)).astype(bool)
    x3 = f32(3, 4, 5)
    p = np.array
    yield "pad_opset7_attr_constant", case(
        "Pad", [("x", x4)], [("y", pad_ref(x4, [0, 1, 2, 0, 0, 0, 1, 3], "constant", 1.5))], 7,
        pads=[0, 1, 2, 0, 0, 0, 1, 3], value=1.5)
    yield "pad_opset10_attr_reflect", case(
        "Pad", [("x", x4)], [("y", pad_ref(x4, [0, 0, 2, 3, 0, 0, 1, 2], "reflect"))], 10,
        pads=[0, 0, 2, 3, 0, 0, 1, 2], mode="reflect")
    yield "pad_opset7_attr_edge_int64", case(
        "Pad", [("x", xi)], [("y", pad_ref(xi, [2, 1, 0, 3], "edge"))], 7,
        pads=[2, 1, 0, 3], mode="edge")
    pads = p([1, -1, 0, -2, 2, 1], np.int64)
    yield "pad_negative_crop_constant", case(
        "Pad", [("x", x3), ("pads", pads)],
        [("y", pad_ref(x3, list(pads), "constant"))], 13, {"pads": pads})
    pads = p([-1, 2, 1, -2], np.int64)
    yield "pad_negative_crop_edge_int64", case(
        "Pad", [("x", xi), ("pads", pads)], [("y", pad_ref(xi, list(pads), "edge"))], 13,
        {"pads": pads}, mode="edge")
    pads = p([3, 5, 4, 7], np.int64)     # wider than the axes: repeated reflections
    yield "pad_reflect_wider_than_axis", case(
        "Pad", [("x", xi), ("pads", pads)], [("y", pad_ref(xi, list(pads), "reflect"))], 13,
        {"pads": pads}, mode="reflect")
    pads, val = p([1, 2, 0, 3], np.int64), p(True)
    yield "pad_bool_constant_value", case(
        "Pad", [("x", xb), ("pads", pads), ("value", val)],
        [("y", pad_ref(xb, list(pads), "constant", True))], 13, {"pads": pads, "value": val})
    pads, axes = p([2, 1, 0, 3], np.int64), p([-1, 1], np.int64)
    yield "pad_opset18_axes", case(
        "Pad", [("x", x3), ("pads", pads), ("", None), ("axes", axes)],
        [("y", pad_ref(x3, list(pads), "constant", 0, list(axes)))], 18,
        {"pads": pads, "axes": axes})
    pads, axes = p([4, 1, 9, 2], np.int64), p([0, 2], np.int32)
    yield "pad_opset19_wrap", case(
        "Pad", [("x", x3), ("pads", pads), ("", None), ("axes", axes)],
        [("y", pad_ref(x3, list(pads), "wrap", 0, list(axes)))], 19,
        {"pads": pads, "axes": axes}, mode="wrap")
    pads = p([0, 0, 0, 0, 0, 0], np.int64)  # all zero: a view, whatever the mode
    yield "pad_all_zero_identity", case(
        "Pad", [("x", x3), ("pads", pads)], [("y", x3)], 13, {"pads": pads}, mode="wrap")


# ---------------------------------------------------------------------------
# Resize, Upsample
# ---------------------------------------------------------------------------

def _keys(a, d):
    d = abs(d)
    if d <= 1:
        return ((a + 2) * d - (a + 3)) * d * d + 1
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0.0


def _axis_matrix(n_in, n_out, scale, coord, mode, nearest="round_prefer_floor", a=-0.75,
                 antialias=False, exclude=False):
    """W (n_out, n_in): row o holds the weights output o gives the inputs."""
    W = np.zeros((n_out, n_in))
    width = scale * n_in
    for o in range(n_out):
        if coord == "half_pixel":
            x = (o + 0.5) / scale - 0.5
        elif coord == "half_pixel_symmetric":
            x = n_in / 2 * (1 - n_out / width) + (o + 0.5) / scale - 0.5
        elif coord == "asymmetric":
            x = o / scale
        elif coord == "align_corners":
            x = 0.0 if width == 1 else o * (n_in - 1) / (width - 1)
        else:
            raise ValueError(coord)
        if mode == "nearest":
            f = np.floor(x)
            r = x - f
            if nearest == "v10":         # onnxruntime's opset 10 / Upsample rule
                k = f + 1 if scale < 1 and r else f
            elif r == 0 or nearest == "floor":
                k = f
            else:
                k = f if (r <= 0.5 if nearest == "round_prefer_floor" else r < 0.5) else f + 1
            W[o, int(min(max(k, 0), n_in - 1))] = 1
            continue
        s = min(scale, 1.0) if antialias else 1.0
        r = x - np.floor(x)
        r = 1.0 if r == 0 else r
        start = int(np.floor((-1 if mode == "linear" else -2) / s)) + 1
        taps = range(start, 2 - start)
        w = np.array([max(0.0, 1 - abs((i - r) * s)) if mode == "linear" else _keys(a, (i - r) * s)
                      for i in taps])
        idx = np.array([int(round(x - r)) + i for i in taps])
        if exclude:
            w[(idx < 0) | (idx >= n_in)] = 0
        if antialias or exclude:
            w = w / w.sum()
        for i, wi in zip(np.clip(idx, 0, n_in - 1), w):
            W[o, i] += wi
    return W


def resize_ref(x, out, scales, coord="half_pixel", mode="nearest", **kw):
    """Separable resize of x to out (sizes per axis) with per-axis scales."""
    y = x.astype(np.float64)
    for axis in range(x.ndim):
        W = _axis_matrix(x.shape[axis], out[axis], scales[axis], coord, mode, **kw)
        y = np.moveaxis(np.tensordot(W, np.moveaxis(y, axis, 0), axes=1), 0, axis)
    return y.astype(x.dtype)


def _onnx_resize_ref(x, mode, nearest_mode="round_prefer_floor", cubic_coeff_a=-0.75, **kw):
    """ONNX 1.12's own reference (interpolate_nd), to check resize_ref."""
    from onnx.backend.test.case.node import resize as R
    coeffs = {"nearest": lambda r: R.nearest_coeffs(r, mode=nearest_mode),
              "linear": R.linear_coeffs,
              "cubic": lambda r: R.cubic_coeffs(r, A=cubic_coeff_a)}[mode]
    return R.interpolate_nd(x, coeffs, **kw).astype(np.float32)


def _torch_antialias(x, size, mode):
    """PyTorch's antialiased interpolation, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    t = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode,
                                        align_corners=False, antialias=True)
    return t.numpy()


def _check(name, got, want, tol=1e-5):
    if want is None:
        return
    if got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol):
        raise AssertionError("%s: resize_ref disagrees with the independent reference" % name)


def resize_cases():
    p = np.array
    x24 = p([[[[1, 2, 3, 4], [5, 6, 7, 8]]]], np.float32)
    # opset 10: asymmetric; nearest floors when upsampling and ceils when
    # downsampling (ONNX 1.5's test_resize_downsample_nearest: [[1, 3]])
    sc = p([1, 1, 0.6, 0.6], np.float32)
    want = resize_ref(x24, [1, 1, 1, 2], sc, "asymmetric", "nearest", nearest="v10")
    _check("resize10_nearest", want, p([[[[1, 3]]]], np.float32))
    yield "resize10_nearest_downsample", case(
        "Resize", [("X", x24), ("scales", sc)], [("Y", want)], 10, {"scales": sc})
    x = f32(1, 2, 3, 4)
    sc = p([1, 1, 2, 1.5], np.float32)
    want = resize_ref(x, [1, 2, 6, 6], sc, "asymmetric", "linear")
    _check("resize10_linear", want, _onnx_resize_ref(
        x, "linear", scale_factors=sc, coordinate_transformation_mode="asymmetric"))
    yield "resize10_linear_upsample", case(
        "Resize", [("X", x), ("scales", sc)], [("Y", want)], 10, {"scales": sc}, mode="linear")
    sc = p([1, 1, 2, 3], np.float32)
    yield "upsample7_nearest_attr", case(
        "Upsample", [("X", x)], [("Y", np.repeat(np.repeat(x, 2, 2), 3, 3))], 7,
        scales=[1.0, 1.0, 2.0, 3.0])
    sc = p([1, 1, 2, 2.5], np.float32)
    want = resize_ref(x, [1, 2, 6, 10], sc, "asymmetric", "linear")
    yield "upsample9_linear", case(
        "Upsample", [("X", x), ("scales", sc)], [("Y", want)], 9, {"scales": sc}, mode="linear")
    # opset 11: roi and scales empty, sizes given
    e, sz = p([], np.float32), p([1, 2, 5, 7], np.int64)
    want = _onnx_resize_ref(x, "nearest", output_size=sz)
    _check("resize11_sizes", resize_ref(x, sz, sz / p(x.shape), "half_pixel", "nearest"), want)
    yield "resize11_sizes_nearest", case(
        "Resize", [("X", x), ("roi", e), ("scales", e), ("sizes", sz)], [("Y", want)], 11,
        {"roi": e, "scales": e, "sizes": sz})
    xi = rng.integers(-100, 100, (2, 3, 4)).astype(np.int64)
    sz = p([2, 5, 7], np.int64)
    want = resize_ref(xi, sz, sz / p(xi.shape), "asymmetric", "nearest", nearest="floor")
    yield "resize13_nearest_int64", case(
        "Resize", [("X", xi), ("", None), ("", None), ("sizes", sz)], [("Y", want)], 13,
        {"sizes": sz}, coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    x3 = f32(2, 5, 6)
    sz = p([3, 9, 4], np.int64)          # three passes: both scratch buffers
    want = _onnx_resize_ref(x3, "linear", output_size=sz)
    _check("resize13_linear_3d", resize_ref(x3, sz, sz / p(x3.shape), "half_pixel", "linear"),
           want)
    yield "resize13_linear_3_axes", case(
        "Resize", [("X", x3), ("", None), ("", None), ("sizes", sz)], [("Y", want)], 13,
        {"sizes": sz}, mode="linear")
    roi = p([0, 0, 0.4, -0.2, 1, 1, 1.3, 0.9], np.float32)
    sz = p([1, 2, 4, 5], np.int64)
    want = _onnx_resize_ref(x, "nearest", output_size=sz, roi=roi,
                            coordinate_transformation_mode="tf_crop_and_resize",
                            extrapolation_value=-7.5)
    yield "resize13_nearest_crop_extrapolated", case(
        "Resize", [("X", x), ("roi", roi), ("", None), ("sizes", sz)], [("Y", want)], 13,
        {"roi": roi, "sizes": sz}, coordinate_transformation_mode="tf_crop_and_resize",
        extrapolation_value=-7.5)
    # opset 18: axes, keep_aspect_ratio_policy, antialias
    x = f32(1, 2, 6, 8)
    axes, sz = [3, 2], p([5, 3], np.int64)
    want = resize_ref(x, [1, 2, 3, 5], [1, 1, 0.5, 5 / 8], "half_pixel", "cubic")
    _check("resize18_axes", want, _onnx_resize_ref(x, "cubic", output_size=[1, 2, 3, 5]))
    yield "resize18_axes_sizes_cubic", case(
        "Resize", [("X", x), ("", None), ("", None), ("sizes", sz)], [("Y", want)], 18,
        {"sizes": sz}, mode="cubic", axes=axes)
    for policy, scale in (("not_larger", 4 / 8), ("not_smaller", 4 / 6)):
        out = [1, 2, int(scale * 6 + 0.5), int(scale * 8 + 0.5)]
        want = resize_ref(x, out, [1, 1, scale, scale], "half_pixel", "linear")
        sz = p([4, 4], np.int64)
        yield "resize18_keep_aspect_%s" % policy, case(
            "Resize", [("X", x), ("", None), ("", None), ("sizes", sz)], [("Y", want)], 18,
            {"sizes": sz}, mode="linear", axes=[2, 3], keep_aspect_ratio_policy=policy)
    # antialias as PyTorch's (PIL's) filter: exclude_outside drops the taps
    # past the edge as they do; without it the edge taps are clamped
    x = f32(1, 2, 9, 11)
    for mode, torch_mode, a in (("linear", "bilinear", -0.75), ("cubic", "bicubic", -0.5)):
        out = [1, 2, 4, 5]
        sz = p(out, np.int64)
        want = resize_ref(x, out, p(out) / p(x.shape), "half_pixel", mode, a=a, antialias=True,
                          exclude=True)
        _check("resize18_antialias_" + mode, want, _torch_antialias(x, out[2:], torch_mode))
        yield "resize18_antialias_%s_down" % mode, case(
            "Resize", [("X", x), ("", None), ("", None), ("sizes", sz)], [("Y", want)], 18,
            {"sizes": sz}, mode=mode, antialias=1, cubic_coeff_a=a, exclude_outside=1)
    sc = p([1, 1, 0.3, 0.45], np.float32)
    want = resize_ref(x, [1, 2, 2, 4], sc, "half_pixel", "linear", antialias=True)
    yield "resize18_antialias_linear_edge", case(
        "Resize", [("X", x), ("", None), ("scales", sc)], [("Y", want)], 18, {"scales": sc},
        mode="linear", antialias=1)
    x = f32(1, 1, 5, 7)
    sc = p([1, 1, 0.7, 1.3], np.float32)     # 5 * 0.7 = 3.5: the sizes round down
    want = resize_ref(x, [1, 1, 3, 9], sc, "half_pixel_symmetric", "linear")
    yield "resize19_half_pixel_symmetric", case(
        "Resize", [("X", x), ("", None), ("scales", sc)], [("Y", want)], 19, {"scales": sc},
        mode="linear", coordinate_transformation_mode="half_pixel_symmetric")


# ---------------------------------------------------------------------------
# Gathers, scatters, OneHot, Trilu, EyeLike, DepthToSpace, ReverseSequence
# ---------------------------------------------------------------------------

def scatter_nd_ref(data, idx, upd, red):
    out = data.copy()
    f = {"none": lambda a, b: b, "add": np.add, "mul": np.multiply, "max": np.maximum,
         "min": np.minimum}[red]
    for j in np.ndindex(idx.shape[:-1]):
        t = tuple(idx[j])
        out[t] = f(out[t], upd[j])
    return out


def scatter_elements_ref(data, idx, upd, axis, red):
    out = data.copy()
    f = {"none": lambda a, b: b, "add": np.add, "mul": np.multiply, "max": np.maximum,
         "min": np.minimum}[red]
    for e in np.ndindex(idx.shape):
        t = list(e)
        t[axis] = idx[e]
        out[tuple(t)] = f(out[tuple(t)], upd[e])
    return out


def index_cases():
    p = np.array
    for dt, red in (("float32", "max"), ("int64", "min"), ("int32", "add")):
        data = rng.integers(-20, 20, (4, 3, 2)).astype(dt)
        idx = p([[[1], [3]], [[1], [0]]], np.int64)            # repeated index 1
        upd = rng.integers(-20, 20, (2, 2, 3, 2)).astype(dt)
        yield "scatternd_%s_%s" % (red, dt), case(
            "ScatterND", [("data", data), ("indices", idx), ("updates", upd)],
            [("y", scatter_nd_ref(data, idx, upd, red))], 18, reduction=red)
        idx2 = p([[2, 0], [-1, 1], [0, 2]], np.int32)
        upd2 = rng.integers(-20, 20, (3, 2)).astype(dt)
        d2 = rng.integers(-20, 20, (3, 4)).astype(dt)
        red2 = {"max": "min", "min": "max", "add": "mul"}[red]
        yield "scatter_elements_%s_%s" % (red2, dt), case(
            "ScatterElements", [("data", d2), ("indices", idx2), ("updates", upd2)],
            [("y", scatter_elements_ref(d2, idx2 % 3, upd2, 0, red2))], 18, axis=0,
            reduction=red2)
    data = f32(2, 3, 4, 5)
    idx = np.stack([rng.integers(-4, 4, (2, 3, 6)), rng.integers(-5, 5, (2, 3, 6))], -1)
    want = np.stack([np.stack([data[b, c][tuple((idx[b, c] % p([4, 5])).T)] for c in range(3)])
                     for b in range(2)])
    yield "gathernd_batch_dims2", case(
        "GatherND", [("data", data), ("indices", idx)], [("y", want)], 13, batch_dims=2)
    data = rng.integers(-50, 50, (4, 5, 3)).astype(np.int64)
    idx = rng.integers(-5, 5, (3, 2, 2)).astype(np.int32)   # smaller than the data
    want = np.take_along_axis(data[:3, :, :2], idx % 5, axis=1)
    yield "gather_elements_int32_smaller", case(
        "GatherElements", [("data", data), ("indices", idx)], [("y", want)], 13, axis=-2)
    idx = p([[0, -1, 4], [2, 7, 3]], np.int64)
    vals = p([False, True])
    want = np.zeros((4, 2, 3), bool)
    for (i, j), k in np.ndenumerate(idx):
        if 0 <= k < 4:                                         # opset 9: negatives are off
            want[k, i, j] = True
    yield "onehot_opset9_negative_off", case(
        "OneHot", [("indices", idx), ("depth", p(4.0, np.float32)), ("values", vals)],
        [("y", want)], 9, {"depth": p(4.0, np.float32)}, axis=0)
    x = rng.integers(0, 2, (2, 3, 5)).astype(bool)
    k = p(-1, np.int64)
    yield "trilu_bool_lower", case(
        "Trilu", [("x", x), ("k", k)], [("y", np.tril(x, -1))], 14, {"k": k}, upper=0)
    x = rng.integers(-9, 9, (4, 6)).astype(np.int32)
    yield "eyelike_int64_negative_k", case(
        "EyeLike", [("x", x)], [("y", np.eye(4, 6, -2, dtype=np.int64))], 9, k=-2,
        dtype=TensorProto.INT64)
    yield "eyelike_bool", case(
        "EyeLike", [("x", x)], [("y", np.eye(4, 6, 3, dtype=bool))], 9, k=3,
        dtype=TensorProto.BOOL)
    x = rng.integers(-9, 9, (1, 8, 2, 3)).astype(np.int64)
    want = x.reshape(1, 2, 2, 2, 2, 3).transpose(0, 3, 4, 1, 5, 2).reshape(1, 2, 4, 6)
    yield "depthtospace_dcr_int64", case("DepthToSpace", [("x", x)], [("y", want)], 13,
                                         blocksize=2)
    x = f32(3, 5, 2)
    lens = p([0, 5, 2], np.int64)
    want = x.copy()
    for b, n in enumerate(lens):
        want[b, :n] = x[b, :n][::-1]
    yield "reversesequence_batch_major", case(
        "ReverseSequence", [("x", x), ("sequence_lens", lens)], [("y", want)], 10,
        batch_axis=0, time_axis=1)


def write_cases(der):
    """Write every case into DER (derived/); returns the count."""
    n = 0
    for name, (m, ins, outs) in list(pad_cases()) + list(resize_cases()) + list(index_cases()):
        d = os.path.join(der, "test_%s_gen" % name)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(m, os.path.join(d, "model.onnx"))
        for kind, arrays in (("input", ins), ("output", outs)):
            for i, a in enumerate(arrays):
                with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (kind, i)), "wb") as f:
                    f.write(numpy_helper.from_array(np.asarray(a)).SerializeToString())
        n += 1
    return n
