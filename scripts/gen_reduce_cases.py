"""
gen_reduce_cases.py -- derived conformance cases for the reductions, ArgMax,
ArgMin, TopK, Hardmax, the losses and Split: the forms ONNX 1.12's node
tests do not reach.  scripts/gen_onnx_tests.py calls write_all(node, der).

  <case>_opset18        ONNX's random Reduce* node cases whose axes are an
                        attribute, at opset 18 with the axes a graph input
                        (bound with --const-input by the runner, as ONNX's own
                        opset 18 cases are); DOUBLE data as FLOAT; ONNX's data
                        and expected outputs
  test_<...>_gen        models written here with numpy references:
                        noop_with_empty_axes (axes left out, or an empty
                        constant) for every Reduce*, empty axes that reduce
                        everything, axes that are not adjacent (the strided
                        kernels), integer and (opset 20) bool reductions,
                        ArgMax/ArgMin on ties, NaN and wide inner axes,
                        TopK at opsets 9 and 10 and on ties and NaN, Hardmax
                        at opset 11 (flattened), the losses with int32
                        targets and every position ignored, Split with
                        num_outputs (opset 18, uneven last chunk)

ONNX 1.12's schemas stop at opset 17, so the opset 18 to 20 models are not
run through onnx.checker; their references follow the ONNX 1.14+
specification and reference implementation (noop_with_empty_axes keeps the
elementwise part: ReduceSumSquare squares, ReduceL1 takes |x|).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REDUCE_OPS = ("ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
        np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL}


def _save_tensor(path, a):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(a).SerializeToString())


def write_case(der, name, model, inputs, outputs):
    """der/name: model.onnx and test_data_set_0 (inputs in graph order)."""
    d = os.path.join(der, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, a in enumerate(inputs):
        _save_tensor(os.path.join(d, "test_data_set_0", "input_%d.pb" % i), a)
    for i, a in enumerate(outputs):
        _save_tensor(os.path.join(d, "test_data_set_0", "output_%d.pb" % i), a)


def one_node(op, inputs, outputs, opset, inits=(), **attrs):
    """A model of one node: inputs and outputs are (name, array) pairs (the
    outputs' arrays give their types and shapes); inits are constants."""
    node = helper.make_node(op, [n for n, _ in inputs] + [n for n, _ in inits],
                            [n for n, _ in outputs], **attrs)
    vi = [helper.make_tensor_value_info(n, ELEM[a.dtype], a.shape) for n, a in inputs]
    vo = [helper.make_tensor_value_info(n, ELEM[a.dtype], a.shape) for n, a in outputs]
    g = helper.make_graph([node], op.lower(), vi, vo,
                          [numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def case(der, name, op, inputs, outputs, opset, inits=(), **attrs):
    write_case(der, name, one_node(op, inputs, outputs, opset, inits, **attrs),
               [a for _, a in inputs], [a for _, a in outputs])
    return 1


# ---------------------------------------------------------------------------
# ONNX's Reduce* cases at opset 18
# ---------------------------------------------------------------------------

def _as_f32(t):
    a = numpy_helper.to_array(t)
    return a.astype(np.float32) if a.dtype == np.float64 else a


def opset18_copies(node, der):
    """<case>_opset18 for the random Reduce* node cases with an axes
    attribute or none (reduce all); returns the count."""
    n = 0
    for c in sorted(os.listdir(node)):
        if not c.endswith("_random"):
            continue
        src = os.path.join(node, c)
        m = onnx.load(os.path.join(src, "model.onnx"))
        g = m.graph
        if len(g.node) != 1 or g.node[0].op_type not in REDUCE_OPS or len(g.node[0].input) != 1:
            continue
        nd = g.node[0]
        axes = [list(a.ints) for a in nd.attribute if a.name == "axes"]
        attrs = {a.name: helper.get_attribute_value(a) for a in nd.attribute if a.name != "axes"}
        sets = sorted(d for d in os.listdir(src) if d.startswith("test_data_set_"))
        data = []
        for ds in sets:
            x = _as_f32(onnx.load_tensor(os.path.join(src, ds, "input_0.pb")))
            y = _as_f32(onnx.load_tensor(os.path.join(src, ds, "output_0.pb")))
            data.append((x, y))
        ins = [("data", data[0][0])]
        if axes:
            ins.append(("axes", np.array(axes[0], np.int64)))
        model = one_node(nd.op_type, ins, [("reduced", data[0][1])], 18, **attrs)
        for k, (x, y) in enumerate(data):
            inputs = [x] + ([ins[1][1]] if axes else [])
            if k == 0:
                write_case(der, c + "_opset18", model, inputs, [y])
            else:
                d = os.path.join(der, c + "_opset18", sets[k])
                os.makedirs(d)
                for i, a in enumerate(inputs):
                    _save_tensor(os.path.join(d, "input_%d.pb" % i), a)
                _save_tensor(os.path.join(d, "output_0.pb"), y)
        n += 1
    return n


# ---------------------------------------------------------------------------
# Reductions written here
# ---------------------------------------------------------------------------

def _lse(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return y if keepdims else np.squeeze(y, axis=axis)


# op -> numpy reference f(x, axis (a tuple; () reduces nothing), keepdims)
REDUCE_REF = {
    "ReduceSum": lambda x, a, k: np.sum(x, axis=a, keepdims=k),
    "ReduceMean": lambda x, a, k: np.mean(x, axis=a, keepdims=k) if a != () else x,
    "ReduceMax": lambda x, a, k: np.max(x, axis=a, keepdims=k) if a != () else x,
    "ReduceMin": lambda x, a, k: np.min(x, axis=a, keepdims=k) if a != () else x,
    "ReduceProd": lambda x, a, k: np.prod(x, axis=a, keepdims=k),
    "ReduceL1": lambda x, a, k: np.sum(np.abs(x), axis=a, keepdims=k),
    "ReduceL2": lambda x, a, k: np.sqrt(np.sum(np.square(x), axis=a, keepdims=k)),
    "ReduceSumSquare": lambda x, a, k: np.sum(np.square(x), axis=a, keepdims=k),
    "ReduceLogSum": lambda x, a, k: np.log(np.sum(x, axis=a, keepdims=k)),
    "ReduceLogSumExp": lambda x, a, k: _lse(x, a, k) if a != () else x,
}


def _snake(op):
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")


def reduce_cases(der, rng):
    n = 0
    x = rng.uniform(0.5, 2.0, (2, 3, 4, 5)).astype(np.float32)   # > 0: LogSum, Prod
    xs = (x * np.where(rng.random(x.shape) < 0.5, -1, 1)).astype(np.float32)
    for op, ref in REDUCE_REF.items():
        v = x if op in ("ReduceLogSum", "ReduceProd") else xs
        s = _snake(op)
        y = ref(v, (), True).astype(np.float32)
        # noop_with_empty_axes: axes left out, and an empty constant
        n += case(der, "test_%s_noop_no_axes_gen" % s, op, [("x", v)], [("y", y)], 18,
                  noop_with_empty_axes=1)
        n += case(der, "test_%s_noop_empty_axes_gen" % s, op, [("x", v)], [("y", y)], 18,
                  inits=[("axes", np.zeros(0, np.int64))], noop_with_empty_axes=1)
        # empty axes without noop: everything, keepdims 0
        y = np.array(ref(v.astype(np.float64), None, False), np.float32)
        n += case(der, "test_%s_empty_axes_all_gen" % s, op, [("x", v)], [("y", y)], 18,
                  inits=[("axes", np.zeros(0, np.int64))], keepdims=0)
        # axes that are not adjacent: the strided kernels
        for axes, keep in (((0, 2), 1), ((1, -1), 0)):
            y = ref(v.astype(np.float64), tuple(a % 4 for a in axes), bool(keep))
            n += case(der, "test_%s_axes_%s_keep%d_gen" % (s, "_".join(str(a % 4) for a in axes),
                                                           keep),
                      op, [("x", v)], [("y", np.asarray(y, np.float32))], 18,
                      inits=[("axes", np.array(axes, np.int64))], keepdims=keep)
    # integers: wrapping arithmetic checked against numpy's
    for dt in (np.int64, np.int32):
        xi = rng.integers(-5, 6, (3, 4, 5)).astype(dt)
        axes = (0, 2) if dt == np.int64 else (1,)
        for op in ("ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                   "ReduceSumSquare"):
            y = REDUCE_REF[op](xi, axes, False).astype(dt)
            n += case(der, "test_%s_%s_axes_%s_gen" % (_snake(op), np.dtype(dt).name,
                                                      "_".join(map(str, axes))),
                      op, [("x", xi)], [("y", y)], 18,
                      inits=[("axes", np.array(axes, np.int64))], keepdims=0)
    # bool ReduceMax / ReduceMin (opset 20): any / all
    xb = rng.random((3, 4, 5)) < 0.7
    for op, f in (("ReduceMax", np.any), ("ReduceMin", np.all)):
        for axes in ((1,), (0, 2)):
            n += case(der, "test_%s_bool_axes_%s_gen" % (_snake(op), "_".join(map(str, axes))),
                      op, [("x", xb)], [("y", f(xb, axis=axes))], 20,
                      inits=[("axes", np.array(axes, np.int64))], keepdims=0)
    # the max shift of ReduceLogSumExp: values whose exp overflows float32
    big = (rng.uniform(-1, 1, (3, 70)) * 50 + 100).astype(np.float32)
    for axes in ((1,), (0,)):
        y = _lse(big.astype(np.float64), axes, False).astype(np.float32)
        n += case(der, "test_reduce_log_sum_exp_large_axis%d_gen" % axes[0], "ReduceLogSumExp",
                  [("x", big)], [("y", y)], 18, inits=[("axes", np.array(axes, np.int64))],
                  keepdims=0)
    return n


# ---------------------------------------------------------------------------
# ArgMax, ArgMin, TopK, Hardmax
# ---------------------------------------------------------------------------

def _arg(x, axis, largest, last):
    """numpy's argmax/argmin (the first NaN wins), or the last of equals"""
    f = np.argmax if largest else np.argmin
    if not last:
        return f(x, axis=axis)
    return x.shape[axis] - 1 - f(np.flip(x, axis), axis=axis)


def arg_cases(der, rng):
    n = 0
    ties = rng.integers(0, 3, (3, 70, 5))   # many ties; axis 1 wider than a block
    xf = rng.standard_normal((3, 4, 130)).astype(np.float32)
    xf[1, 2, 7] = xf[0, 1, 3] = xf[2, 3, 100] = np.nan
    for op in ("ArgMax", "ArgMin"):
        largest = op == "ArgMax"
        for dt in (np.int64, np.int32, np.float32):
            x = ties.astype(dt)
            for axis in ((1, 2) if dt != np.int32 else (1,)):
                for last in (0, 1):
                    y = _arg(x, axis, largest, last)
                    n += case(der, "test_%s_%s_ties_axis%d_last%d_gen" % (
                                  op.lower(), np.dtype(dt).name, axis, last),
                              op, [("x", x)], [("y", np.expand_dims(y, axis).astype(np.int64))],
                              13, axis=axis, select_last_index=last)
        for axis in (0, 2):   # NaN: the first (or last) NaN of a column wins
            for last in (0, 1):
                y = _arg(xf, axis, largest, last).astype(np.int64)
                n += case(der, "test_%s_nan_axis%d_last%d_gen" % (op.lower(), axis, last),
                          op, [("x", xf)], [("y", y)], 13, axis=axis, keepdims=0,
                          select_last_index=last)
    return n


def _topk(x, k, axis, largest):
    """values, indices: best first, ties to the lower index, NaN the largest"""
    xm = np.moveaxis(x, axis, -1)
    idx = np.empty(xm.shape[:-1] + (k,), np.int64)
    for pos in np.ndindex(xm.shape[:-1]):
        col = xm[pos]
        def key(i):
            v = col[i]
            nan = isinstance(v, np.floating) and np.isnan(v)
            rank = (0 if nan else 1, -float(v) if not nan else 0.0) if largest else \
                (1 if nan else 0, float(v) if not nan else 0.0)
            return rank + (i,)
        idx[pos] = sorted(range(col.shape[0]), key=key)[:k]
    vals = np.take_along_axis(xm, idx, -1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


def topk_cases(der, rng):
    n = 0
    ties = rng.integers(-3, 4, (4, 9, 6))
    xf = rng.standard_normal((4, 9, 6)).astype(np.float32)
    xf[0, 2, 1] = xf[1, 5, 3] = xf[1, 6, 3] = xf[3, 0, 0] = np.nan
    xf[2, :, 4] = 1.5   # a column of equals
    for name, x in (("int64", ties), ("int32", ties.astype(np.int32)), ("float32", xf)):
        for axis, k in ((0, 3), (-1, 3), (1, 1 if name == "int32" else 9)):
            for largest in (1, 0):
                v, i = _topk(x, k, axis, largest)
                n += case(der, "test_top_k_%s_axis%d_largest%d_k%d_gen" % (
                              name, axis % 3, largest, k),
                          "TopK", [("x", x)], [("values", v), ("indices", i)], 11,
                          inits=[("k", np.array([k], np.int64))], axis=axis, largest=largest)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    v, i = _topk(x, 2, 1, 1)
    n += case(der, "test_top_k_opset10_gen", "TopK", [("x", x)],
              [("values", v), ("indices", i)], 10, inits=[("k", np.array([2], np.int64))])
    n += case(der, "test_top_k_opset9_attr_gen", "TopK", [("x", x)],
              [("values", v), ("indices", i)], 9, k=2)
    return n


def hardmax_cases(der, rng):
    n = 0
    x = rng.integers(0, 3, (2, 3, 4)).astype(np.float32)   # ties: the first maximum
    for axis in (0, 1, 2):   # opset 11: x as (prod dims[:axis], prod dims[axis:])
        x2 = x.reshape(int(np.prod(x.shape[:axis])), -1)
        y = np.eye(x2.shape[1], dtype=np.float32)[np.argmax(x2, axis=1)].reshape(x.shape)
        n += case(der, "test_hardmax_opset11_axis%d_gen" % axis, "Hardmax", [("x", x)],
                  [("y", y)], 11, axis=axis)
    x = rng.integers(0, 4, (5, 130)).astype(np.float32)   # axis 0, columns in blocks
    y = np.zeros_like(x)
    np.put_along_axis(y, np.argmax(x, axis=0)[None], 1, axis=0)
    n += case(der, "test_hardmax_axis0_wide_gen", "Hardmax", [("x", x)], [("y", y)], 13, axis=0)
    return n


# ---------------------------------------------------------------------------
# The losses, Split
# ---------------------------------------------------------------------------

def _nll(logp, t, w, reduction, ii):
    """ONNX's reference: -logp[n, t, d] * w[t], 0 where t == ii; mean divides
    by the sum of the weights"""
    N, C = logp.shape[:2]
    lp = logp.reshape(N, C, -1).astype(np.float64)
    tt = t.reshape(N, -1)
    wt = np.ones(C) if w is None else w.astype(np.float64)
    loss = np.zeros(tt.shape)
    ws = np.zeros(tt.shape)
    for b in range(N):
        for d in range(tt.shape[1]):
            c = int(tt[b, d])
            if ii is not None and c == ii:
                continue
            ws[b, d] = wt[c]
            loss[b, d] = -lp[b, c, d] * wt[c]
    if reduction == "none":
        return loss.reshape(t.shape).astype(np.float32)
    if reduction == "sum":
        return np.array(loss.sum(), np.float32)
    with np.errstate(invalid="ignore"):
        return np.array(loss.sum() / ws.sum(), np.float32)


def _log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return (x - m) - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def loss_cases(der, rng):
    n = 0
    x = rng.standard_normal((3, 5, 2, 2)).astype(np.float32)
    t = rng.integers(0, 5, (3, 2, 2)).astype(np.int32)
    t[0, 1, 0] = t[2, 0, 1] = -1
    w = rng.uniform(0.2, 1.0, 5).astype(np.float32)
    lp = _log_softmax(x.astype(np.float64)).astype(np.float32)
    for red in ("none", "sum", "mean"):
        y = _nll(x, t, w, red, -1)
        n += case(der, "test_nllloss_int32_target_%s_gen" % red, "NegativeLogLikelihoodLoss",
                  [("x", x), ("t", t), ("w", w)], [("loss", y)], 13, reduction=red,
                  ignore_index=-1)
        y = _nll(lp, t, None, red, -1)
        n += case(der, "test_sce_int32_target_log_prob_%s_gen" % red, "SoftmaxCrossEntropyLoss",
                  [("x", x), ("t", t)], [("loss", y), ("log_prob", lp)], 13, reduction=red,
                  ignore_index=-1)
    # every position ignored: mean is 0 / 0
    ti = np.full((3, 2, 2), 2, np.int64)
    n += case(der, "test_nllloss_all_ignored_mean_gen", "NegativeLogLikelihoodLoss",
              [("x", x), ("t", ti)], [("loss", np.array(np.nan, np.float32))], 13,
              reduction="mean", ignore_index=2)
    return n


def split_cases(der, rng):
    n = 0
    for shape, axis, k in (((7, 2), 0, 3), ((3, 6), 1, 2), ((10,), 0, 4), ((2, 5, 3), -2, 5)):
        x = rng.standard_normal(shape).astype(np.float32)
        d = shape[axis]
        chunk = -(-d // k)
        sizes = [chunk] * (k - 1) + [d - chunk * (k - 1)]
        ys = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
        n += case(der, "test_split_num_outputs_%s_axis%d_%d_gen" % (
                      "x".join(map(str, shape)), axis % len(shape), k),
                  "Split", [("x", x)], [("y%d" % i, y) for i, y in enumerate(ys)], 18,
                  axis=axis, num_outputs=k)
    return n


def write_all(node, der):
    """Every case above into der; returns the count."""
    rng = np.random.default_rng(21)
    return (opset18_copies(node, der) + reduce_cases(der, rng) + arg_cases(der, rng) +
            topk_cases(der, rng) + hardmax_cases(der, rng) + loss_cases(der, rng) +
            split_cases(der, rng))
