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
  if_shape      an If on a condition computed from shapes (folds: the then
                branch is inlined)
  if_const      an If on a graph input bound with --const-input (silero's
                sample rate): the else branch is inlined
  if_run_pos, if_run_neg   an If on a condition computed at run time
                (sum(x) > 0), both branches compiled, each run once; the
                branches read the outer x, a weight and an intermediate
  if_nested     a run-time If inside a branch of a run-time If
  loop_unroll   a Loop of constant trip count 3: a carried sum, the
                iteration number, a scan output (unrolled)
  loop_run_m    a Loop whose trip count is a graph input (run as a loop)
  loop_while    a Loop with no trip count that stops on the body's condition
  loop_long     3000 iterations (above the unrolling limit) with a scan output
  gaps          a model with three unsupported ops in five nodes: one
                message names each op, its count and its first node
  fn_recursive  a function that calls itself: refused
  loop_scan_run_m  a Loop with scan outputs and a trip count computed at run
                time: refused (their shape would not be static)

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


def branch(name, nodes, outputs, inits=None):
    return helper.make_graph(nodes, name, [], outputs,
                             [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])


def if_node(cond, out, then_g, else_g, name="if"):
    return helper.make_node("If", [cond], out, name=name, then_branch=then_g, else_branch=else_g)


W = np.array([0.5, -1.0, 2.0], np.float32)


def runtime_if_model():
    """y = x * w + t if sum(x) > 0 else -(t) * 2, with t = Relu(x) outside"""
    then_g = branch("then", [helper.make_node("Mul", ["x", "w"], ["xw"]),
                             helper.make_node("Add", ["xw", "t"], ["ty"])], [vi("ty")])
    else_g = branch("else", [helper.make_node("Neg", ["t"], ["nt"]),
                             helper.make_node("Mul", ["nt", "two"], ["ey"])], [vi("ey")],
                    {"two": np.array(2.0, np.float32)})
    nodes = [helper.make_node("Relu", ["x"], ["t"]),
             helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             if_node("c", ["y"], then_g, else_g)]
    return model(nodes, [vi("x")], [vi("y")], inits={"w": W, "zero": np.array(0.0, np.float32)},
                 opset=13)


def if_run(sign):
    def build():
        x = np.abs(X) * sign
        t = np.maximum(x, 0)
        ref = x * W + t if x.sum() > 0 else -t * 2
        return runtime_if_model(), [x], [ref]
    return build


def case_if_nested():
    # outer: s > 0 ? (inner: s > 10 ? x * 3 : x + 1) : -x
    inner_then = branch("it", [helper.make_node("Mul", ["x", "three"], ["a"])], [vi("a")],
                        {"three": np.array(3.0, np.float32)})
    inner_else = branch("ie", [helper.make_node("Add", ["x", "one"], ["b"])], [vi("b")],
                        {"one": np.array(1.0, np.float32)})
    then_g = branch("then", [helper.make_node("Greater", ["s", "ten"], ["c2"]),
                             if_node("c2", ["iy"], inner_then, inner_else, "inner")], [vi("iy")],
                    {"ten": np.array(10.0, np.float32)})
    else_g = branch("else", [helper.make_node("Neg", ["x"], ["ny"])], [vi("ny")])
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             if_node("c", ["y"], then_g, else_g, "outer")]
    m = model(nodes, [vi("x")], [vi("y")], inits={"zero": np.array(0.0, np.float32)}, opset=13)
    x = np.abs(X)
    return m, [x], [x * 3 if x.sum() > 10 else x + 1]


def case_if_shape():
    then_g = branch("then", [helper.make_node("Relu", ["x"], ["a"])], [vi("a")])
    else_g = branch("else", [helper.make_node("Neg", ["x"], ["b"])], [vi("b")])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "one"], ["d1"], axis=0),
             helper.make_node("Equal", ["d1", "three"], ["c"]),
             if_node("c", ["y"], then_g, else_g)]
    m = model(nodes, [vi("x")], [vi("y")], opset=13,
              inits={"one": np.array(1, np.int64), "three": np.array(3, np.int64)})
    return m, [X], [np.maximum(X, 0)]


def case_if_const():
    then_g = branch("then", [helper.make_node("Relu", ["x"], ["a"])], [vi("a")])
    else_g = branch("else", [helper.make_node("Mul", ["x", "sr"], ["b"])], [vi("b")])
    sr = helper.make_tensor_value_info("sr", TensorProto.FLOAT, [])
    nodes = [helper.make_node("Greater", ["sr", "lim"], ["c"]),
             if_node("c", ["y"], then_g, else_g)]
    m = model(nodes, [vi("x"), sr], [vi("y")], opset=13, inits={"lim": np.array(16000.0, np.float32)})
    return m, [X], [X * 8000.0]


def case_loop():
    # body(i, c, acc) -> (c, acc + x * i, acc * 2): 3 iterations
    body = helper.make_graph(
        [helper.make_node("Identity", ["cin"], ["cout"]),
         helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["x", "fi"], ["xi"]),
         helper.make_node("Add", ["acc", "xi"], ["acc2"]),
         helper.make_node("Mul", ["acc", "two"], ["sc"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cin", TensorProto.BOOL, []), vi("acc")],
        [helper.make_tensor_value_info("cout", TensorProto.BOOL, []), vi("acc2"), vi("sc")],
        [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    nodes = [helper.make_node("Loop", ["M", "", "x0"], ["y", "scan"], body=body)]
    m = model(nodes, [vi("x"), vi("x0")], [vi("y"), vi("scan", (3, 2, 3))], opset=13,
              inits={"M": np.array(3, np.int64)})
    x0 = np.ones((2, 3), np.float32)
    acc, scan = x0.copy(), []
    for i in range(3):
        scan.append(acc * 2)
        acc = acc + X * i
    return m, [X, x0], [acc, np.stack(scan)]


def counting_body(extra_nodes=(), extra_outputs=(), cond_node=None):
    """body(i, cin, acc) -> (cout, acc + x * i, extra outputs...)"""
    nodes = [cond_node or helper.make_node("Identity", ["cin"], ["cout"]),
             helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["x", "fi"], ["xi"]),
             helper.make_node("Add", ["acc", "xi"], ["acc2"])] + list(extra_nodes)
    return helper.make_graph(
        nodes, "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                        helper.make_tensor_value_info("cin", TensorProto.BOOL, []), vi("acc")],
        [helper.make_tensor_value_info("cout", TensorProto.BOOL, []), vi("acc2")]
        + list(extra_outputs))


def case_loop_run_m():
    # M a graph input: the loop runs at run time
    M = helper.make_tensor_value_info("M", TensorProto.INT64, [])
    m = model([helper.make_node("Loop", ["M", "", "x0"], ["y"], body=counting_body())],
              [vi("x"), vi("x0"), M], [vi("y")], opset=13)
    x0 = np.ones((2, 3), np.float32)
    return m, [X, x0, np.array(4, np.int64)], [x0 + X * (0 + 1 + 2 + 3)]


def case_loop_while():
    # no M: runs while the sum of acc stays below 40 (the body's condition)
    cond = helper.make_node("Less", ["total", "limit"], ["cout"])
    extra = [helper.make_node("ReduceSum", ["acc2"], ["total"], keepdims=0)]
    body = counting_body(extra, cond_node=cond)
    body.initializer.append(numpy_helper.from_array(np.array(40.0, np.float32), "limit"))
    # the condition node reads `total`, made after it: move it to the end
    node = body.node[0]
    del body.node[0]
    body.node.append(node)
    m = model([helper.make_node("Loop", ["", "go", "x0"], ["y"], body=body)],
              [vi("x"), vi("x0")], [vi("y")], opset=13, inits={"go": np.array(True)})
    x, x0 = np.abs(X) + 0.5, np.ones((2, 3), np.float32)
    acc, i = x0.copy(), 0
    while True:
        acc = acc + x * i
        i += 1
        if not acc.sum() < 40:
            break
    return m, [x, x0], [acc]


def case_loop_long():
    # 3000 iterations, above the unrolling limit, with a scan output
    scan = [helper.make_node("Mul", ["acc", "half"], ["sc"])]
    body = counting_body(scan, [vi("sc")])
    body.initializer.append(numpy_helper.from_array(np.array(0.5, np.float32), "half"))
    n = 3000
    m = model([helper.make_node("Loop", ["M", "", "x0"], ["y", "scan"], body=body)],
              [vi("x"), vi("x0")], [vi("y"), vi("scan", (n, 2, 3))], opset=13,
              inits={"M": np.array(n, np.int64)})
    x, x0 = X * 1e-3, np.ones((2, 3), np.float32)
    acc, rows = x0.astype(np.float64), []
    for i in range(n):
        rows.append(acc * 0.5)
        acc = acc + x * i
    return m, [x, x0], [acc.astype(np.float32), np.stack(rows).astype(np.float32)]


def case_loop_scan_run_m():
    # scan outputs need a constant M: refused with the "must be a constant" message
    scan = [helper.make_node("Identity", ["acc"], ["sc"])]
    M = helper.make_tensor_value_info("M", TensorProto.INT64, [])
    return model([helper.make_node("Loop", ["M", "", "x"], ["y", "s"],
                                   body=counting_body(scan, [vi("sc")]))],
                 [vi("x"), M], [vi("y"), vi("s", (4, 2, 3))], opset=13)


COMPILE = [("fn_simple", case_simple), ("fn_nested", case_nested), ("fn_attr", case_attr),
           ("fn_default", case_default), ("fn_optional", case_optional)] + \
    [("opset%d" % v, opset_case(v)) for v in (18, 19, 20, 21)] + \
    [("if_shape", case_if_shape), ("if_run_pos", if_run(1)), ("if_run_neg", if_run(-1)),
     ("if_nested", case_if_nested), ("loop_unroll", case_loop), ("loop_run_m", case_loop_run_m),
     ("loop_while", case_loop_while), ("loop_long", case_loop_long)]
# compiled with extra options: (name, build, tostc options, files to write {name: array})
COMPILE_WITH = [("if_const", case_if_const, ["--const-input", "sr=sr.pb"],
                 {"sr": np.array(8000.0, np.float32)})]
REFUSE = [("gaps", case_gaps, ["3 unsupported ops in 5 nodes (opset 18)",
                               "FancyA: 3 nodes, first node 'first_a' (FancyA, #0)",
                               "FancyB: 1 node, first node 'first_b' (FancyB, #1)",
                               "FancyC (domain 'com.vendor'): 1 node, first node 'vendor'"]),
          ("fn_recursive", case_recursive, ["function 'Loop1' calls itself"]),
          ("loop_scan_run_m", case_loop_scan_run_m, ["(Loop): input 0 ('M') must be a constant"])]


def main():
    cases = [(n, b, "compile") for n, b in COMPILE] + [(n, b, w) for n, b, w in REFUSE] + \
        [(n, b, (o, f)) for n, b, o, f in COMPILE_WITH]
    tostc, work, cc, picked = harness.runner_args(__doc__, cases)

    def one(case):
        name, build, want = case
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        if want == "compile" or isinstance(want, tuple):
            m, inputs, refs = build()
            with open(path, "wb") as f:
                f.write(m.SerializeToString())
            opts = []
            if isinstance(want, tuple):   # tostc options, and the .pb files they name
                opts, files = want
                for k, v in files.items():
                    with open(os.path.join(d, k + ".pb"), "wb") as f:
                        f.write(numpy_helper.from_array(v, k).SerializeToString())
                opts = [o.replace("=", "=" + d + "/") if o.endswith(".pb") else o for o in opts]
            return harness.fused_and_unfused(tostc, path, d, [cc] + harness.GRAPH_CFLAGS,
                                             inputs, refs, opts)
        with open(path, "wb") as f:
            f.write(build().SerializeToString())
        rc, _, err = harness.run([tostc, path, "-o", os.path.join(d, "model.c")])
        problems = [] if rc == 1 else ["exit %s, want 1" % rc]
        lines = err.strip().splitlines()
        if len(lines) != 1:
            problems.append("%d lines on stderr" % len(lines))
        return problems + ["message lacks %r: %s" % (w, err.strip()) for w in want if w not in err]
    return harness.report_cases("front", picked, one)


if __name__ == "__main__":
    sys.exit(main())
