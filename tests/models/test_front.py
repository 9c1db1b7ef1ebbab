#!/usr/bin/python3
"""
test_front.py -- what the ONNX front end reads beyond single nodes (ctest
`front`): local functions, opsets 18 to 21, and the report of every gap.

Models written with onnx.helper (torch 1.13 cannot export these forms):

  fn_simple     y = Scale(x): a local function (Mul by a constant inside)
  fn_nested     a function calling another, both used twice (names must not
                clash between calls)
  fn_attr       a function attribute passed by the caller (ref_attr_name)
  fn_default    ... and its default (FunctionProto.attribute_proto, ONNX
                1.13: written into the 1.12 message as field 11 by hand)
  fn_optional   a call that omits an optional trailing input
  opset18..21   a plain model at each newer opset
  gaps          a model with three unsupported ops in five nodes: one
                message names each op, its count and its first node
  fn_recursive  a function that calls itself: refused

Compiling cases must build fused and --no-fuse and match numpy (rtol 1e-4);
refused cases must exit 1 with one message containing the expected text.
Last line: `front: N passed, N failed`.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

rng = np.random.default_rng(5)
X = rng.standard_normal((2, 3)).astype(np.float32)
DOM = "pkg.test"


def model(nodes, inputs, outputs, functions=(), opset=18, inits=None):
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                            helper.make_opsetid(DOM, 1)])
    m.functions.extend(functions)
    return m


def vi(name, shape=(2, 3)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def const_node(out, value):
    return helper.make_node("Constant", [], [out],
                            value=numpy_helper.from_array(np.array(value, np.float32)))


def scale_fn(factor=3.0):
    """Scale(a) -> b: b = a * factor; the inner names are those the callers use too"""
    return helper.make_function(DOM, "Scale", ["a"], ["b"],
                                [const_node("k", factor), helper.make_node("Mul", ["a", "k"], ["b"])],
                                [helper.make_opsetid("", 18)])


def case_simple():
    m = model([helper.make_node("Scale", ["x"], ["y"], domain=DOM, name="s")],
              [vi("x")], [vi("y")], [scale_fn()])
    return m, [X], [X * 3]


def case_nested():
    # Twice(a) = Scale(Scale(a)) + a ; y = Twice(x) + Twice(Relu(x))
    twice = helper.make_function(DOM, "Twice", ["a"], ["b"], [
        helper.make_node("Scale", ["a"], ["k"], domain=DOM, name="inner1"),
        helper.make_node("Scale", ["k"], ["t"], domain=DOM, name="inner2"),
        helper.make_node("Add", ["t", "a"], ["b"])], [helper.make_opsetid("", 18),
                                                      helper.make_opsetid(DOM, 1)])
    m = model([helper.make_node("Twice", ["x"], ["k"], domain=DOM, name="c1"),
               helper.make_node("Relu", ["x"], ["r"]),
               helper.make_node("Twice", ["r"], ["t"], domain=DOM, name="c2"),
               helper.make_node("Add", ["k", "t"], ["y"])],
              [vi("x")], [vi("y")], [scale_fn(), twice])
    r = np.maximum(X, 0)
    return m, [X], [X * 9 + X + r * 9 + r]


def attr_fn(default=None):
    """LRelu(a) -> b: LeakyRelu with alpha = the function's attribute slope"""
    node = helper.make_node("LeakyRelu", ["a"], ["b"])
    ref = onnx.AttributeProto()
    ref.name = "alpha"
    ref.ref_attr_name = "slope"
    ref.type = onnx.AttributeProto.FLOAT
    node.attribute.append(ref)
    fn = helper.make_function(DOM, "LRelu", ["a"], ["b"], [node], [helper.make_opsetid("", 18)],
                              attributes=[] if default is not None else ["slope"])
    if default is None:
        return fn
    # attribute_proto (field 11) is not in onnx 1.12's FunctionProto: append it
    a = helper.make_attribute("slope", default)
    raw = a.SerializeToString()
    extra = bytes([11 << 3 | 2]) + encode_varint(len(raw)) + raw
    out = onnx.FunctionProto()
    out.ParseFromString(fn.SerializeToString() + extra)
    return out


def encode_varint(v):
    b = bytearray()
    while True:
        byte = v & 0x7f
        v >>= 7
        b.append(byte | (0x80 if v else 0))
        if not v:
            return bytes(b)


def case_attr():
    m = model([helper.make_node("LRelu", ["x"], ["y"], domain=DOM, slope=0.25)],
              [vi("x")], [vi("y")], [attr_fn()])
    return m, [X], [np.where(X < 0, 0.25 * X, X)]


def case_default():
    m = model([helper.make_node("LRelu", ["x"], ["y"], domain=DOM),
               helper.make_node("LRelu", ["x"], ["z"], domain=DOM, slope=0.5)],
              [vi("x")], [vi("y"), vi("z")], [attr_fn(default=0.125)])
    return m, [X], [np.where(X < 0, 0.125 * X, X), np.where(X < 0, 0.5 * X, X)]


def case_optional():
    # Clip3(a, lo, hi) -> Clip(a, lo, hi); called with hi omitted
    fn = helper.make_function(DOM, "Clip3", ["a", "lo", "hi"], ["b"],
                              [helper.make_node("Clip", ["a", "lo", "hi"], ["b"])],
                              [helper.make_opsetid("", 18)])
    m = model([helper.make_node("Clip3", ["x", "lo"], ["y"], domain=DOM)],
              [vi("x")], [vi("y")], [fn], inits={"lo": np.array(-0.5, np.float32)})
    return m, [X], [np.maximum(X, -0.5)]


def opset_case(opset):
    def build():
        m = model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["r"], ["y"])],
                  [vi("x")], [vi("y")], opset=opset)
        return m, [X], [-np.maximum(X, 0)]
    return build


def case_gaps():
    nodes = [helper.make_node("FancyA", ["x"], ["a"], name="first_a"),
             helper.make_node("FancyB", ["a"], ["b"], name="first_b"),
             helper.make_node("FancyA", ["b"], ["c"]),
             helper.make_node("FancyC", ["c"], ["d"], domain="com.vendor", name="vendor"),
             helper.make_node("FancyA", ["d"], ["y"])]
    return model(nodes, [vi("x")], [vi("y")])


def case_recursive():
    loop = helper.make_function(DOM, "Loop1", ["a"], ["b"],
                                [helper.make_node("Loop1", ["a"], ["b"], domain=DOM)],
                                [helper.make_opsetid(DOM, 1)])
    return model([helper.make_node("Loop1", ["x"], ["y"], domain=DOM, name="top")],
                 [vi("x")], [vi("y")], [loop])


COMPILE = [("fn_simple", case_simple), ("fn_nested", case_nested), ("fn_attr", case_attr),
           ("fn_default", case_default), ("fn_optional", case_optional)] + \
    [("opset%d" % v, opset_case(v)) for v in (18, 19, 20, 21)]
REFUSE = [("gaps", case_gaps, ["3 unsupported ops in 5 nodes (opset 18)",
                               "FancyA: 3 nodes, first node 'first_a' (FancyA, #0)",
                               "FancyB: 1 node, first node 'first_b' (FancyB, #1)",
                               "FancyC (domain 'com.vendor'): 1 node, first node 'vendor'"]),
          ("fn_recursive", case_recursive, ["function 'Loop1' calls itself"])]


def main():
    cases = [(n, b, "compile") for n, b in COMPILE] + [(n, b, w) for n, b, w in REFUSE]
    tostc, work, cc, picked = harness.runner_args(__doc__, cases)
    passed = failed = 0
    for name, build, want in picked:
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        if want == "compile":
            m, inputs, refs = build()
            with open(path, "wb") as f:
                f.write(m.SerializeToString())
            problems = harness.fused_and_unfused(tostc, path, d, [cc] + harness.GRAPH_CFLAGS,
                                                 inputs, refs)
        else:
            with open(path, "wb") as f:
                f.write(build().SerializeToString())
            rc, _, err = harness.run([tostc, path, "-o", os.path.join(d, "model.c")])
            problems = [] if rc == 1 else ["exit %s, want 1" % rc]
            lines = err.strip().splitlines()
            if len(lines) != 1:
                problems.append("%d lines on stderr" % len(lines))
            problems += ["message lacks %r: %s" % (w, err.strip()) for w in want if w not in err]
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("ok   %s" % name)
    print("front: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
