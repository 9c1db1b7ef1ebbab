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


def cast_cases(der):
    """derived/test_cast_<FROM>_to_<TO>_gen for every pair of CAST_VALUES'
    types at opset 13; returns the count."""
    from onnx import helper, numpy_helper
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
            d = os.path.join(der, "test_cast_%s_to_%s_gen" % (a, b))
            os.makedirs(os.path.join(d, "test_data_set_0"))
            onnx.save(m, os.path.join(d, "model.onnx"))
            for f, v in (("input_0.pb", x), ("output_0.pb", x.astype(y.dtype))):
                with open(os.path.join(d, "test_data_set_0", f), "wb") as fh:
                    fh.write(numpy_helper.from_array(v).SerializeToString())
            n += 1
    return n


def derive(out):
    """OUTDIR/derived/<case>_as_f32 and <case>_opset17 for the eligible node
    cases, and the Cast cases; returns the count."""
    node, der = os.path.join(out, "node"), os.path.join(out, "derived")
    os.makedirs(der, exist_ok=True)
    n = 0
    for case in sorted(os.listdir(node)):
        for make, suffix in ((_derive_f32, "_as_f32"), (_derive_opset, "_opset%d" % NEW_OPSET)):
            if make(os.path.join(node, case), os.path.join(der, case + suffix)):
                n += 1
    from gen_movement_cases import write_cases
    return n + cast_cases(der) + write_cases(der)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--op-type", default=None, help="only cases containing this op")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--no-derived", action="store_true",
                    help="skip OUTDIR/derived (float32 and opset 17 copies, Cast and "
                         "data movement cases)")
    args = ap.parse_args()

    out = os.path.abspath(args.outdir)
    stamp = os.path.join(out, ".generated")
    want = "onnx %s op_type=%s derived=%s\n" % (onnx.__version__, args.op_type or "*",
                                                 "no" if args.no_derived else "f32,opset%d,cast,movement" % NEW_OPSET)
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
