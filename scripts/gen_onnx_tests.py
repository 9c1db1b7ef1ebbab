#!/usr/bin/python3
"""
gen_onnx_tests.py -- regenerate the ONNX backend test data offline.

    /usr/bin/python3 scripts/gen_onnx_tests.py OUTDIR [--op-type OP] [--force]

The equivalent of `backend-test-tools generate-data -o OUTDIR` from the onnx
package (1.12 here): writes OUTDIR/node/test_*/model.onnx and
test_data_set_N/{input,output}_M.pb (plus OUTDIR/simple and OUTDIR/real, which
onnx's tool also writes; the conformance runner only reads node/).

onnx 1.12's case generators still use numpy aliases removed in numpy 1.24
(np.float, np.int, np.bool, np.object, np.complex); they are restored before
onnx's generator modules are imported.

Also writes OUTDIR/derived/<case>_as_f32: float32 copies of the node cases
whose only obstacle for tostc is the element type DOUBLE (no Cast in them):
every DOUBLE tensor, input and expected output converted to FLOAT.  The ONNX
suite writes e.g. all its CumSum cases in float64; these copies let the
float32 kernels be checked against the same data (--no-derived to skip).

And OUTDIR/derived/<case>_opset17: copies of the node cases written at an
opset older than 7 (tostc reads opsets 7 to 17) whose ops' schemas are the
same at opset 17, with only the model's opset import (and IR version) raised.
ONNX tests Not and GlobalAveragePool only at opset 1; these copies check their
values against ONNX's numpy references at an opset tostc accepts.

And OUTDIR/derived/test_cast_<FROM>_to_<TO>_gen: Cast of a graph input between
every two of the element types tostc supports (FLOAT, INT64, INT32, BOOL),
values in range, reference numpy's astype.  ONNX's own Cast cases all use
other types (float16, double, string).

And the elementwise cases ONNX 1.12 cannot have (elementwise_cases): the ops
and forms of opsets 18 to 21 (Mish 18, Gelu 20 with approximate none and
tanh, also after a Conv that the exact one fuses into), CastLike between
tostc's types at opsets 15, 19 and 21 (ONNX's use float16, bfloat16, double,
string), BitShift on int64 and int32 (ONNX's use unsigned types), and one
opset-21 model with a branch per elementwise op whose schema is unchanged
since opset 17.  The models are written with
onnx.helper (the 1.12 checker does not know these opsets), references are
numpy in float64.

And the cases of scripts/gen_reduce_cases.py: ONNX's Reduce* cases at opset
18 (axes as an input), and models with numpy references for the reduction,
ArgMax/ArgMin, TopK, Hardmax, loss and Split forms ONNX 1.12 does not test
(opsets 9 to 20: noop_with_empty_axes, bool reductions, num_outputs, ...).

And OUTDIR/derived/test_<name>_gen from scripts/gen_quant_cases.py: Cast to and
from int8, uint8, float16 and bfloat16, and the quantisation ops at opsets 10
to 21 (per tensor, per axis, zero points, MatMulInteger, QLinearMatMul),
against numpy references of the ONNX definitions.

And OUTDIR/derived/test_<name>_gen from scripts/gen_movement_cases.py: the data
movement ops (Pad, Resize, Upsample, the scatters, ...) at opsets 18 and 19
and in forms ONNX 1.12's node tests lack, against numpy (and PyTorch for
Resize's antialias).

Idempotent and fast: a stamp file OUTDIR/.generated (onnx version + op filter)
is written last; when it matches, nothing is regenerated (--force does).  The
data is generated into OUTDIR.tmp and renamed into place, so an interrupted run
never leaves a half-written OUTDIR that looks complete.
"""
import argparse
import hashlib
import os
import shutil
import sys

import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _type in (("float", float), ("int", int), ("bool", bool),
                          ("object", object), ("complex", complex)):
        setattr(np, _alias, _type)

import onnx  # noqa: E402  (after the numpy aliases)

import gen_movement_cases  # noqa: E402  (scripts/, beside this file)
import gen_quant_cases  # noqa: E402
import gen_reduce_cases  # noqa: E402


DOUBLE, FLOAT = onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT
MIN_OPSET, NEW_OPSET = 7, 17  # the opsets tostc reads: 7 to 17
OK_ELEM = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.INT32,
           onnx.TensorProto.BOOL}


def _to_f32(t):
    """A DOUBLE TensorProto as FLOAT (in place)."""
    from onnx import numpy_helper
    if t.data_type == DOUBLE:
        a = numpy_helper.to_array(t).astype(np.float32)
        t.CopyFrom(numpy_helper.from_array(a, t.name))


def _derive_f32(src, dst):
    """Write the float32 copy of node case src to dst; False when not eligible."""
    from onnx import numpy_helper
    m = onnx.load(os.path.join(src, "model.onnx"))
    g = m.graph
    if any(n.op_type in ("Cast", "CastLike") or any(a.type == onnx.AttributeProto.GRAPH
                                                    or a.graphs for a in n.attribute)
           for n in g.node):
        return False
    seen = set()
    vis = list(g.input) + list(g.output) + list(g.value_info)
    for v in vis:
        if v.type.WhichOneof("value") != "tensor_type":
            return False
        seen.add(v.type.tensor_type.elem_type)
    seen |= {t.data_type for t in g.initializer}
    attr_tensors = [a.t for n in g.node for a in n.attribute if a.type == onnx.AttributeProto.TENSOR]
    seen |= {t.data_type for t in attr_tensors}
    if DOUBLE not in seen or not seen <= OK_ELEM | {DOUBLE}:
        return False
    for v in vis:
        if v.type.tensor_type.elem_type == DOUBLE:
            v.type.tensor_type.elem_type = FLOAT
    for t in list(g.initializer) + attr_tensors:
        _to_f32(t)
    os.makedirs(dst)
    onnx.save(m, os.path.join(dst, "model.onnx"))
    for ds in sorted(d for d in os.listdir(src) if d.startswith("test_data_set_")):
        os.makedirs(os.path.join(dst, ds))
        for f in sorted(os.listdir(os.path.join(src, ds))):
            t = onnx.load_tensor(os.path.join(src, ds, f))
            _to_f32(t)
            with open(os.path.join(dst, ds, f), "wb") as fh:
                fh.write(t.SerializeToString())
    return True


def _derive_opset(src, dst):
    """Write node case src at opset NEW_OPSET to dst when it is older than
    MIN_OPSET and every op's schema is the same at NEW_OPSET; False otherwise."""
    from onnx import defs, helper
    m = onnx.load(os.path.join(src, "model.onnx"))
    imp = [o for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if len(imp) != 1 or len(m.opset_import) != 1 or imp[0].version >= MIN_OPSET:
        return False
    old = imp[0].version
    try:
        if any(defs.get_schema(n.op_type, NEW_OPSET).since_version
               != defs.get_schema(n.op_type, old).since_version for n in m.graph.node):
            return False
    except defs.SchemaError:
        return False
    imp[0].version = NEW_OPSET
    m.ir_version = max(m.ir_version, helper.find_min_ir_version_for(list(m.opset_import)))
    shutil.copytree(src, dst)
    onnx.save(m, os.path.join(dst, "model.onnx"))
    return True


# Cast test inputs: in range for every target, no NaN (undefined for ints)
CAST_VALUES = {
    "FLOAT": np.array([[-1e6, -3.75, -1.5, -0.5, -0.0], [0.0, 0.25, 1.0, 2.5, 100.9]], np.float32),
    "INT64": np.array([[-2147483648, -70000, -3, -1, 0], [1, 2, 255, 65537, 2147483647]], np.int64),
    "INT32": np.array([[-2147483648, -70000, -3, -1, 0], [1, 2, 255, 65537, 2147483647]], np.int32),
    "BOOL": np.array([[True, False, True, True, False], [False, False, True, False, True]]),
}


def _write_case(d, m, inputs, outputs):
    """Case directory d: model m, test_data_set_0 with the arrays inputs and
    outputs (in the graph's order)."""
    from onnx import numpy_helper
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(m, os.path.join(d, "model.onnx"))
    for kind, vals in (("input", inputs), ("output", outputs)):
        for i, v in enumerate(vals):
            with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (kind, i)), "wb") as fh:
                fh.write(numpy_helper.from_array(v).SerializeToString())


def cast_cases(der):
    """derived/test_cast_<FROM>_to_<TO>_gen for every pair of CAST_VALUES'
    types at opset 13; returns the count."""
    from onnx import helper
    n = 0
    for a, x in CAST_VALUES.items():
        for b, y in CAST_VALUES.items():
            if a == b:
                continue
            ta, tb = getattr(onnx.TensorProto, a), getattr(onnx.TensorProto, b)
            node = helper.make_node("Cast", ["x"], ["y"], to=tb)
            g = helper.make_graph([node], "cast", [helper.make_tensor_value_info("x", ta, x.shape)],
                                  [helper.make_tensor_value_info("y", tb, x.shape)])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            onnx.checker.check_model(m)
            _write_case(os.path.join(der, "test_cast_%s_to_%s_gen" % (a, b)), m, [x],
                        [x.astype(y.dtype)])
            n += 1
    return n


def _graph_model(nodes, inputs, outputs, opset, inits=()):
    """A model of nodes at opset with the graph inputs and outputs [(name,
    array)] (their types and shapes from the arrays) and initializers."""
    from onnx import helper, mapping, numpy_helper

    def vi(name, a):
        return helper.make_tensor_value_info(name, mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype],
                                             list(a.shape))
    g = helper.make_graph(nodes, "g", [vi(k, a) for k, a in inputs],
                          [vi(k, a) for k, a in outputs],
                          [numpy_helper.from_array(a, k) for k, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _erf(x):
    import math
    return np.vectorize(math.erf)(x)


def _gelu(x, approximate):
    x = x.astype(np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def elementwise_cases(der):
    """derived/test_<op>_..._gen: elementwise ops and forms newer than ONNX
    1.12's cases (see the module doc); returns the count."""
    with np.errstate(all="ignore"):  # the references meet NaN and inf on purpose
        cases = _elementwise_models()
    for name, m, ins, outs in cases:
        _write_case(os.path.join(der, name), m, ins, outs)
    return len(cases)


def _elementwise_models():
    """elementwise_cases' models: [(name, model, inputs, outputs)]"""
    from onnx import helper
    rng = np.random.default_rng(21)
    f32 = np.float32
    wide = np.concatenate([rng.standard_normal(48) * 3,
                           [-100, -20, -5, -1e-3, 0, 1e-3, 5, 20, 100, -np.inf, np.inf, np.nan]])
    wide = wide.astype(f32).reshape(3, 4, 5)
    cases = []

    def case(name, nodes, inputs, outputs, opset, inits=()):
        cases.append((name, _graph_model(nodes, inputs, outputs, opset, inits),
                      [a for _, a in inputs], [a for _, a in outputs]))

    # Mish (opset 18): x tanh(softplus(x)), softplus without overflow
    x64 = wide.astype(np.float64)
    case("test_mish_gen", [helper.make_node("Mish", ["x"], ["y"])], [("x", wide)],
         [("y", (x64 * np.tanh(np.logaddexp(0, x64))).astype(f32))], 18)
    # Gelu (opset 20): default, none, tanh
    for suffix, attrs in (("default", {}), ("none", {"approximate": "none"}),
                          ("tanh", {"approximate": "tanh"})):
        case("test_gelu_%s_gen" % suffix, [helper.make_node("Gelu", ["x"], ["y"], **attrs)],
             [("x", wide)], [("y", _gelu(wide, attrs.get("approximate")).astype(f32))], 20)
    # Conv 1x1 then Gelu: the exact one runs in the Conv's epilogue, the tanh
    # one must not
    xc = rng.standard_normal((1, 3, 4, 4)).astype(f32)
    w = (rng.standard_normal((5, 3, 1, 1)) * 2).astype(f32)
    conv = np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), xc.astype(np.float64))
    for approx in ("none", "tanh"):
        case("test_gelu_%s_after_conv_gen" % approx,
             [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
              helper.make_node("Gelu", ["c"], ["y"], approximate=approx)],
             [("x", xc)], [("y", _gelu(conv, approx).astype(f32))], 20, [("w", w)])
    # CastLike between tostc's types: all pairs at opset 21, one at 15 and
    # one with saturate at 19 (it concerns float8 targets only)
    for a, x in CAST_VALUES.items():
        for b, t in CAST_VALUES.items():
            if a != b:
                case("test_castlike_%s_to_%s_gen" % (a, b),
                     [helper.make_node("CastLike", ["x", "t"], ["y"])],
                     [("x", x), ("t", t[:1, :2])], [("y", x.astype(t.dtype))], 21)
    xf, ti = CAST_VALUES["FLOAT"], CAST_VALUES["INT32"][:1, :1]
    case("test_castlike_FLOAT_to_INT32_opset15_gen",
         [helper.make_node("CastLike", ["x", "t"], ["y"])], [("x", xf), ("t", ti)],
         [("y", xf.astype(np.int32))], 15)
    case("test_castlike_FLOAT_to_INT32_saturate_gen",
         [helper.make_node("CastLike", ["x", "t"], ["y"], saturate=0)], [("x", xf), ("t", ti)],
         [("y", xf.astype(np.int32))], 19)
    # BitShift on int64 and int32: ONNX's schema lists only unsigned types,
    # which tostc lacks; tostc shifts the bits as unsigned, so the reference is
    # numpy's shift of the unsigned view (counts below the width: beyond, it
    # differs between numpy versions)
    for t, u, bits in ((np.int64, np.uint64, 64), (np.int32, np.uint32, 32)):
        a = np.array([[1, -1, 5, np.iinfo(t).min], [np.iinfo(t).max, -8, 3, 12345]], t)
        k = np.array([[0, 1, bits - 1, 1], [2, 3, bits - 2, 7]], t)
        for d, f in (("LEFT", np.left_shift), ("RIGHT", np.right_shift)):
            case("test_bitshift_%s_%s_gen" % (d.lower(), np.dtype(t).name),
                 [helper.make_node("BitShift", ["a", "k"], ["y"], direction=d)],
                 [("a", a), ("k", k)], [("y", f(a.view(u), k.view(u)).view(t))], 11)
    nodes, inputs, outputs, inits = _opset21_branches(rng)
    case("test_elementwise_opset21_gen", nodes, inputs, outputs, 21, inits)
    return cases


def _opset21_branches(rng):
    """One model, one output per elementwise op whose schema is the same at
    opset 21 as at 17, from the inputs x (-0.9..0.9), h (halves, signs, zeros),
    s (specials), i/j (int64, j nonzero), p/q (bool) and the constants ratio,
    train (Dropout's, inference), slope, d, with numpy references: (nodes,
    inputs, outputs, initializers)."""
    from onnx import helper
    f32 = np.float32
    x = rng.uniform(-0.9, 0.9, (2, 3, 4)).astype(f32)
    h = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, -3.7, 3.2, 1e6 + 0.5, -7.5],
                 f32).reshape(3, 4)
    s = np.array([np.inf, -np.inf, np.nan, 0, -1, 1e38], f32)
    i = rng.integers(-20, 20, (3, 4)).astype(np.int64)
    j = np.array([3, -3, 7, -7], np.int64)
    p, q = rng.integers(0, 2, (2, 3)).astype(bool), np.array([True, False, True])
    slope = np.array([0.1, -0.2, 0.3, 2.0], f32)
    x64 = x.astype(np.float64)
    inits = [("ratio", np.array(0.5, f32)), ("train", np.array(False)), ("slope", slope),
             ("d", np.array(1.25, f32))]
    branches = [  # (op, inputs, attributes, reference)
        ("HardSigmoid", ["x"], {"alpha": 0.3, "beta": 0.4}, np.clip(0.3 * x64 + 0.4, 0, 1)),
        ("HardSwish", ["x"], {}, x64 * np.clip(x64 / 6 + 0.5, 0, 1)),
        ("Elu", ["x"], {"alpha": 0.7}, np.where(x64 < 0, 0.7 * np.expm1(x64), x64)),
        ("Selu", ["x"], {}, np.where(x64 <= 0, 1.0507009873554805 * 1.6732632423543772 *
                                     np.expm1(x64), 1.0507009873554805 * x64)),
        ("Celu", ["x"], {"alpha": 1.5}, np.maximum(0, x64) + np.minimum(0, 1.5 * np.expm1(x64 / 1.5))),
        ("ThresholdedRelu", ["x"], {"alpha": 0.2}, np.where(x64 > 0.2, x64, 0)),
        ("Shrink", ["x"], {"bias": 0.1, "lambd": 0.3},
         np.where(x64 < -0.3, x64 + 0.1, np.where(x64 > 0.3, x64 - 0.1, 0))),
        ("LeakyRelu", ["x"], {"alpha": 0.05}, np.where(x64 < 0, 0.05 * x64, x64)),
        ("Softplus", ["x"], {}, np.logaddexp(0, x64)),
        ("Softsign", ["x"], {}, x64 / (1 + np.abs(x64))),
        ("PRelu", ["x", "slope"], {}, np.where(x64 < 0, slope * x64, x64)),
        ("Tan", ["x"], {}, np.tan(x64)), ("Asin", ["x"], {}, np.arcsin(x64)),
        ("Acos", ["x"], {}, np.arccos(x64)), ("Atan", ["x"], {}, np.arctan(x64)),
        ("Sinh", ["x"], {}, np.sinh(x64)), ("Cosh", ["x"], {}, np.cosh(x64)),
        ("Asinh", ["x"], {}, np.arcsinh(x64)), ("Acosh", ["h"], {}, np.arccosh(h)),
        ("Atanh", ["x"], {}, np.arctanh(x64)),
        ("Round", ["h"], {}, np.round(h)), ("Sign", ["h"], {}, np.sign(h)),
        ("Sign", ["i"], {}, np.sign(i)), ("IsNaN", ["s"], {}, np.isnan(s)),
        ("IsInf", ["s"], {"detect_negative": 0}, np.isposinf(s)),
        ("Mod", ["i", "j"], {}, np.mod(i, j)), ("Mod", ["i", "j"], {"fmod": 1}, np.fmod(i, j)),
        ("Mod", ["h", "d"], {"fmod": 1}, np.fmod(h, f32(1.25))),
        ("Xor", ["p", "q"], {}, np.logical_xor(p, q)),
        ("Sum", ["x", "slope", "x"], {}, x64 + slope + x64),
        ("Mean", ["x", "slope"], {}, (x64 + slope) / 2),
        ("Dropout", ["x", "ratio", "train"], {}, x64),
        ("Size", ["i"], {}, np.array(i.size, np.int64)),
    ]
    inputs = [("x", x), ("h", h), ("s", s), ("i", i), ("j", j), ("p", p), ("q", q)]
    nodes, outputs = [], []
    for k, (op, ins, attrs, ref) in enumerate(branches):
        out = "y%d_%s" % (k, op)
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        dtype = ref.dtype if ref.dtype in (np.int64, bool) else f32
        outputs.append((out, np.asarray(ref).astype(dtype)))
    return nodes, inputs, outputs, inits


def derive(out):
    """OUTDIR/derived/<case>_as_f32 and <case>_opset17 for the eligible node
    cases, the Cast cases, the elementwise cases and gen_reduce_cases'; returns
    the count."""
    node, der = os.path.join(out, "node"), os.path.join(out, "derived")
    os.makedirs(der, exist_ok=True)
    n = 0
    for case in sorted(os.listdir(node)):
        for make, suffix in ((_derive_f32, "_as_f32"), (_derive_opset, "_opset%d" % NEW_OPSET)):
            if make(os.path.join(node, case), os.path.join(der, case + suffix)):
                n += 1
    return (n + cast_cases(der) + elementwise_cases(der) + gen_reduce_cases.write_all(node, der)
            + gen_movement_cases.write_cases(der) + gen_quant_cases.write_cases(der))


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--op-type", default=None, help="only cases containing this op")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--no-derived", action="store_true",
                    help="skip OUTDIR/derived (float32 and opset 17 copies, Cast, elementwise, "
                         "reduction and data movement cases)")
    args = ap.parse_args()

    out = os.path.abspath(args.outdir)
    stamp = os.path.join(out, ".generated")
    # the derived cases are these scripts': any change to them regenerates
    h = hashlib.sha1()
    for path in (os.path.abspath(__file__), gen_reduce_cases.__file__,
                 gen_movement_cases.__file__, gen_quant_cases.__file__):
        with open(path, "rb") as f:
            h.update(f.read())
    script = h.hexdigest()[:12]
    want = "onnx %s op_type=%s derived=%s\n" % (onnx.__version__, args.op_type or "*",
                                                 "no" if args.no_derived else "scripts " + script)
    if not args.force and os.path.isfile(stamp):
        with open(stamp) as f:
            if f.read() == want:
                print("%s: up to date (%s)" % (out, want.strip()))
                return 0

    from onnx.backend.test import cmd_tools  # imports the case generators

    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    cmd_tools.generate_data(argparse.Namespace(output=tmp, op_type=args.op_type))
    nder = 0 if args.no_derived else derive(tmp)
    with open(os.path.join(tmp, ".generated"), "w") as f:
        f.write(want)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    n = len(os.listdir(os.path.join(out, "node")))
    print("%s: %d node test cases, %d derived cases (%s)" % (out, n, nder, want.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
