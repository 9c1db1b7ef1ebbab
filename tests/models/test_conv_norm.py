#!/usr/bin/python3
"""
test_conv_norm.py -- ConvTranspose, the normalisations and Einsum beyond
ONNX 1.12's node tests (ctest `conv_norm`).

Single-node models written with onnx.helper, for the forms the node tests
miss or cannot have: GroupNormalization (opsets 18 and 21: ONNX 1.12 stops at
17) and the other ops at opset 21, LpNormalization (no node test in 1.12), ConvTranspose with groups, bias,
asymmetric pads, SAME_LOWER, output_shape, a weight computed at run time, and
a map large enough to be made in several col blocks; InstanceNormalization,
LRN (an even size) and MeanVarianceNormalization on other shapes and axes;
Einsum's contractions (attention-style, transposed operands and outputs,
ellipsis broadcasting, labels summed before the product, diagonals, traces).
References: PyTorch for ConvTranspose, numpy (np.einsum, the ONNX formulas)
for the rest.

Each compiling case is built twice, with the plain C99 kernels (-DTR_NO_SIMD)
and with -march=native, and must match the reference (rtol 1e-4, as the other
model tests); cases marked omp are built once more with -fopenmp
-DTR_PAR_MIN=1 and run on 3 threads, which must give the native build's
outputs bit for bit.  Refused cases must exit 1 with one message containing
the expected text.  Last line: `conv_norm: N passed, N failed (ISAs)`.
"""
import concurrent.futures
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

rng = np.random.default_rng(21)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def node_model(op, inputs, consts, out_shape, opset=17, **attrs):
    """One `op` node: graph inputs INPUTS (name -> array), initializers
    CONSTS (name -> array), in the order of ins (inputs then consts, unless
    attrs carries order=[...]), one output y of OUT_SHAPE."""
    order = attrs.pop("order", list(inputs) + list(consts))
    node = helper.make_node(op, order, ["y"], **attrs)
    g = helper.make_graph([node], "g", [vi(k, v.shape) for k, v in inputs.items()],
                          [vi("y", out_shape)],
                          [numpy_helper.from_array(v, k) for k, v in consts.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


# ---------------------------------------------------------------------------
# ConvTranspose
# ---------------------------------------------------------------------------

def convt_ref(x, w, b, strides, dil, group, pb, out):
    """ONNX ConvTranspose: the full transposed convolution (no padding), its
    positions [pb, pb + out) per spatial dim (zeros past its end), plus bias"""
    ns = x.ndim - 2
    fn = [None, torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d,
          torch.nn.functional.conv_transpose3d][ns]
    full = fn(torch.from_numpy(x).double(), torch.from_numpy(w).double(), None,
              stride=tuple(strides), dilation=tuple(dil), groups=group).numpy()
    need = [pb[i] + out[i] for i in range(ns)]
    pad = [(0, 0), (0, 0)] + [(0, max(0, need[i] - full.shape[2 + i])) for i in range(ns)]
    full = np.pad(full, pad)
    y = full[(slice(None), slice(None)) + tuple(slice(pb[i], pb[i] + out[i]) for i in range(ns))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * ns)
    return y


def convt_case(xs, ws, group=1, bias=True, strides=None, dil=None, pb=None, out=None,
               runtime_w=False, opset=17, **attrs):
    """x (xs), w (ws) constant (or a graph input), the ONNX attributes ATTRS;
    PB and OUT: the padding at the start and the output size the reference
    takes from the full result (default: what pads / output_padding say)"""
    def build():
        x, w = f32(*xs), f32(*ws)
        b = f32(ws[1] * group) if bias else None
        ns = len(xs) - 2
        st, dl = strides or [1] * ns, dil or [1] * ns
        pads = attrs.get("pads", [0] * 2 * ns)
        op = attrs.get("output_padding", [0] * ns)
        full = [st[i] * (xs[2 + i] - 1) + op[i] + (ws[2 + i] - 1) * dl[i] + 1 for i in range(ns)]
        p0 = pb or pads[:ns]
        o = out or [full[i] - pads[i] - pads[ns + i] for i in range(ns)]
        ref = convt_ref(x, w, b, st, dl, group, p0, o)
        a = dict(attrs)
        if strides:
            a["strides"] = strides
        if dil:
            a["dilations"] = dil
        if group != 1:
            a["group"] = group
        ins, consts = {"x": x}, {}
        (ins if runtime_w else consts)["w"] = w
        order = ["x", "w"]
        if bias:
            consts["b"] = b
            order.append("b")
        m = node_model("ConvTranspose", ins, consts, ref.shape, opset=opset, order=order, **a)
        return m, [x, w] if runtime_w else [x], [ref]
    return build


# ---------------------------------------------------------------------------
# Normalisations (numpy references of the ONNX formulas)
# ---------------------------------------------------------------------------

def group_norm_ref(x, scale, bias, groups, eps, per_channel):
    n, c = x.shape[:2]
    xg = x.astype(np.float64).reshape(n, groups, -1)
    y = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + eps)
    sh = (1, -1) + (1,) * (x.ndim - 2)
    if per_channel:
        return y.reshape(x.shape) * scale.reshape(sh) + bias.reshape(sh)
    return (y * scale.reshape(1, -1, 1) + bias.reshape(1, -1, 1)).reshape(x.shape)


def group_norm_case(xs, groups, opset, eps=1e-5):
    def build():
        x = f32(*xs)
        per_channel = opset >= 21
        k = xs[1] if per_channel else groups
        s, b = f32(k), f32(k)
        ref = group_norm_ref(x, s, b, groups, eps, per_channel)
        return (node_model("GroupNormalization", {"x": x}, {"s": s, "b": b}, xs, opset=opset,
                           num_groups=groups, epsilon=eps), [x], [ref])
    return build


def instance_norm_case(xs, eps, opset=17):
    def build():
        x, s, b = f32(*xs), f32(xs[1]), f32(xs[1])
        ref = group_norm_ref(x, s, b, xs[1], eps, True)
        return (node_model("InstanceNormalization", {"x": x}, {"s": s, "b": b}, xs, opset=opset,
                           epsilon=eps), [x], [ref])
    return build


def lp_norm_case(xs, axis, p, zero_at=None, opset=17):
    def build():
        x = f32(*xs)
        if zero_at is not None:   # one vector along axis is all zeros
            idx = list(zero_at)
            idx.insert(axis % len(xs), slice(None))
            x[tuple(idx)] = 0
        a = {} if axis == -1 else {"axis": axis}
        if p != 2:
            a["p"] = p
        xd = x.astype(np.float64)
        norm = np.abs(xd).sum(axis, keepdims=True) if p == 1 else \
            np.sqrt((xd * xd).sum(axis, keepdims=True))
        ref = np.where(norm == 0, 0, xd / np.where(norm == 0, 1, norm))
        return node_model("LpNormalization", {"x": x}, {}, xs, opset=opset, **a), [x], [ref]
    return build


def lrn_case(xs, size, alpha=1e-4, beta=0.75, bias=1.0):
    def build():
        x = f32(*xs)
        xd, c = x.astype(np.float64), xs[1]
        sq = np.zeros_like(xd)
        for ch in range(c):
            lo, hi = max(0, ch - (size - 1) // 2), min(c - 1, ch + size // 2)
            sq[:, ch] = (xd[:, lo:hi + 1] ** 2).sum(1)
        ref = xd / (bias + alpha / size * sq) ** beta
        return (node_model("LRN", {"x": x}, {}, xs, size=size, alpha=alpha, beta=beta, bias=bias),
                [x], [ref])
    return build


def mvn_case(xs, axes=None, opset=13):
    def build():
        x = f32(*xs) * 3 + 1
        ax = tuple(axes) if axes is not None else (0, 2, 3)
        xd = x.astype(np.float64)
        mean = xd.mean(ax, keepdims=True)
        ref = (xd - mean) / (np.sqrt(((xd - mean) ** 2).mean(ax, keepdims=True)) + 1e-9)
        a = {} if axes is None else {"axes": axes}
        return node_model("MeanVarianceNormalization", {"x": x}, {}, xs, opset=opset, **a), [x], [ref]
    return build


# ---------------------------------------------------------------------------
# Einsum
# ---------------------------------------------------------------------------

def einsum_case(eq, *shapes, const_b=False, opset=12):
    """np.einsum(eq) of random operands of SHAPES; the second a constant when const_b"""
    def build():
        ops = [f32(*s) for s in shapes]
        ref = np.einsum(eq, *[o.astype(np.float64) for o in ops])
        names = ["a", "b"][:len(ops)]
        ins = {k: v for k, v in zip(names, ops) if not (const_b and k == "b")}
        consts = {"b": ops[1]} if const_b else {}
        m = node_model("Einsum", ins, consts, ref.shape, opset=opset, order=names, equation=eq)
        return m, [o for k, o in zip(names, ops) if k in ins], [np.asarray(ref)]
    return build


def refuse(op, ins, consts, out_shape, opset=17, **attrs):
    def build():
        return node_model(op, {k: f32(*s) for k, s in ins.items()},
                          {k: f32(*s) for k, s in consts.items()}, out_shape, opset=opset, **attrs)
    return build


# (name, build, omp)
COMPILE = [
    # ConvTranspose
    ("ct_groups_asym_pads", convt_case((2, 4, 5, 6), (4, 3, 3, 3), group=2, strides=[2, 1],
                                       pads=[1, 0, 0, 1], output_padding=[1, 0]), False),
    ("ct_1x1_direct", convt_case((1, 8, 7, 9), (8, 5, 1, 1)), False),
    ("ct_1x1_direct_nobias", convt_case((2, 6, 3, 5), (6, 4, 1, 1), group=2, bias=False), False),
    ("ct_blocks", convt_case((1, 16, 40, 40), (16, 24, 4, 4), strides=[2, 2],
                             pads=[1, 1, 1, 1]), True),
    ("ct_runtime_weight", convt_case((1, 3, 6, 5), (3, 2, 3, 2), strides=[2, 3], runtime_w=True,
                                     pads=[0, 1, 1, 0]), False),
    ("ct_same_lower", convt_case((1, 2, 4, 5), (2, 3, 3, 3), strides=[2, 2], auto_pad="SAME_LOWER",
                                 pb=[1, 1], out=[8, 10]), False),
    ("ct_same_upper", convt_case((1, 2, 4, 5), (2, 3, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER",
                                 pb=[0, 0], out=[8, 10]), False),
    ("ct_output_shape", convt_case((1, 2, 4, 4), (2, 2, 3, 3), strides=[2, 2],
                                   output_shape=[8, 11], pb=[1, 0], out=[8, 11]), False),
    ("ct_1d_dilated", convt_case((2, 3, 7), (3, 4, 3), strides=[3], dil=[2], pads=[2, 1]), False),
    ("ct_opset21", convt_case((1, 3, 4, 4), (3, 2, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
                              output_padding=[1, 1], opset=21), False),
    ("ct_3d", convt_case((1, 2, 3, 4, 3), (2, 2, 2, 3, 2), strides=[2, 1, 2], pads=[0, 1, 0, 1, 0, 1],
                         dil=[1, 2, 1]), False),
    # normalisations
    ("groupnorm_18", group_norm_case((2, 6, 4, 5), 3, 18), True),
    ("groupnorm_21", group_norm_case((2, 6, 4, 5), 3, 21, eps=1e-3), True),
    ("groupnorm_21_rank2", group_norm_case((3, 8), 2, 21), False),
    ("groupnorm_18_big", group_norm_case((1, 32, 24, 24), 8, 18), True),
    ("instancenorm_big", instance_norm_case((2, 5, 17, 19), 1e-3), True),
    ("instancenorm_opset21", instance_norm_case((1, 3, 4, 5), 1e-5, opset=21), False),
    ("lpnorm_l2_axis1_zero", lp_norm_case((2, 3, 4), 1, 2, zero_at=(1, 2)), False),
    ("lpnorm_l1_last", lp_norm_case((3, 7), -1, 1, zero_at=(0,)), False),
    ("lpnorm_l2_axis0", lp_norm_case((5, 2, 3), 0, 2), False),
    ("lpnorm_opset21", lp_norm_case((3, 4), 0, 1, opset=21), False),
    ("lpnorm_l2_last", lp_norm_case((4, 37), -1, 2, zero_at=(2,)), False),
    ("lrn_even_size", lrn_case((2, 7, 3, 3), 4, alpha=2e-3, beta=0.6, bias=1.5), False),
    ("lrn_rank3", lrn_case((1, 5, 6), 3), False),
    ("mvn_default_axes", mvn_case((2, 3, 4, 5)), False),
    ("mvn_channel_axis", mvn_case((3, 4, 5), axes=[1]), False),
    ("mvn_last_axis_opset9", mvn_case((2, 8), axes=[1], opset=9), False),
    ("mvn_negative_axes", mvn_case((3, 4, 5), axes=[-1, 0]), False),
    ("mvn_mixed_axes", mvn_case((2, 3, 4, 5, 2), axes=[0, 2, 4]), False),
    ("mvn_opset21", mvn_case((2, 3, 4, 5), opset=21), False),
    # Einsum
    ("einsum_attention", einsum_case("bid,bjd->bij", (2, 5, 8), (2, 6, 8)), False),
    ("einsum_attention_4d", einsum_case("bhqd,bhkd->bhqk", (2, 3, 5, 4), (2, 3, 7, 4)), True),
    ("einsum_values", einsum_case("bij,bjd->bid", (2, 5, 6), (2, 6, 8)), False),
    ("einsum_matmul_const", einsum_case("ij,jk->ik", (7, 9), (9, 5), const_b=True), False),
    ("einsum_linear_const", einsum_case("ij,kj->ik", (6, 10), (12, 10), const_b=True), False),
    ("einsum_trans_a", einsum_case("ji,jk->ik", (9, 6), (9, 5)), False),
    ("einsum_trans_out", einsum_case("ik,kj->ji", (6, 4), (4, 5)), False),
    ("einsum_tall", einsum_case("abc,cd->abd", (3, 4, 6), (6, 5), const_b=True), False),
    ("einsum_outer", einsum_case("i,j->ij", (5,), (7,)), False),
    ("einsum_hadamard", einsum_case("ij,ij->ij", (4, 6), (4, 6)), False),
    ("einsum_batched_dots", einsum_case("bnd,bnd->bn", (2, 5, 37), (2, 5, 37)), False),
    ("einsum_gathered_vector", einsum_case("bij,bjk->bi", (2, 3, 4), (2, 4, 5)), False),
    ("einsum_full", einsum_case("ij,ij->", (4, 6), (4, 6)), False),
    ("einsum_ellipsis_bcast", einsum_case("...ij,...jk->...ik", (2, 3, 4, 5), (3, 5, 6)), False),
    ("einsum_size1_bcast", einsum_case("bij,bjk->bik", (1, 4, 5), (3, 5, 2)), False),
    ("einsum_implicit", einsum_case("ij,jk", (3, 4), (4, 5)), False),
    ("einsum_upper", einsum_case("Ba,aC", (3, 4), (4, 2)), False),
    ("einsum_sum_first", einsum_case("abc,abd->cd", (3, 4, 5), (3, 4, 6)), False),
    ("einsum_sum_in_b", einsum_case("ij,jk->i", (3, 4), (4, 5)), False),
    ("einsum_diag_contract", einsum_case("iij,jk->ik", (3, 3, 4), (4, 5)), False),
    ("einsum_diagonal", einsum_case("ii->i", (5, 5)), False),
    ("einsum_trace", einsum_case("ii", (5, 5)), False),
    ("einsum_sum_all", einsum_case("ij->", (4, 6)), False),
    ("einsum_permute", einsum_case("abcd->dbca", (2, 3, 4, 5)), False),
    ("einsum_opset21", einsum_case("bid,bjd->bij", (2, 3, 4), (2, 5, 4), opset=21), False),
]

REFUSE = [
    ("ct_pads_and_output_shape", refuse("ConvTranspose", {"x": (1, 1, 3, 3)}, {"w": (1, 1, 3, 3)},
                                        (1, 1, 5, 5), pads=[1, 1, 1, 1], output_shape=[5, 5]),
     "pads and output_shape are both given"),
    ("ct_4d_spatial", refuse("ConvTranspose", {"x": (1, 1, 2, 2, 2, 2)}, {"w": (1, 1, 1, 1, 1, 1)},
                             (1, 1, 2, 2, 2, 2)), "1 to 3 spatial dims"),
    ("groupnorm_18_per_channel", refuse("GroupNormalization", {"x": (2, 6, 3)},
                                        {"s": (6,), "b": (6,)}, (2, 6, 3), opset=18,
                                        num_groups=3), "one value per group (opsets 18 to 20)"),
    ("groupnorm_21_per_group", refuse("GroupNormalization", {"x": (2, 6, 3)},
                                      {"s": (3,), "b": (3,)}, (2, 6, 3), opset=21,
                                      num_groups=3), "one value per channel (opset 21)"),
    ("groupnorm_stash", refuse("GroupNormalization", {"x": (2, 6, 3)}, {"s": (6,), "b": (6,)},
                               (2, 6, 3), opset=21, num_groups=3, stash_type=11),
     "stash_type 11 is not supported"),
    ("groupnorm_groups", refuse("GroupNormalization", {"x": (2, 6, 3)}, {"s": (4,), "b": (4,)},
                                (2, 6, 3), opset=18, num_groups=4), "num_groups 4 must divide"),
    ("lpnorm_p3", refuse("LpNormalization", {"x": (2, 3)}, {}, (2, 3), p=3), "p = 3"),
    ("lrn_no_size", refuse("LRN", {"x": (1, 3, 2, 2)}, {}, (1, 3, 2, 2)), "size (an int) is required"),
    ("einsum_three", refuse("Einsum", {"a": (3,), "b": (3,), "c": (3,)}, {}, (3,), opset=12,
                            equation="i,i,i->i"), "'i,i,i->i' has 3 operands"),
    ("einsum_bad_rank", refuse("Einsum", {"a": (3, 4)}, {}, (3,), opset=12, equation="ijk->i"),
     "term 1 has 3 labels"),
    ("einsum_sizes", refuse("Einsum", {"a": (3, 4), "b": (5, 2)}, {}, (3, 2), opset=12,
                            equation="ij,jk->ik"), "label j has sizes 4 and 5"),
    ("einsum_out_label", refuse("Einsum", {"a": (3, 4)}, {}, (3,), opset=12, equation="ij->z"),
     "output label z is in no input"),
]


def check_refusal(tostc, path, d, want):
    rc, _, err = harness.run([tostc, path, "-o", os.path.join(d, "model.c")])
    problems = [] if rc == 1 else ["exit %s, want 1" % rc]
    lines = err.strip().splitlines()
    if len(lines) != 1:
        problems.append("%d lines on stderr" % len(lines))
    if want not in err:
        problems.append("message lacks %r: %s" % (want, err.strip()))
    return problems


def check_values(tostc, path, d, builds, inputs, refs):
    """BUILDS: (label, cc) pairs; an "omp" build is compared bit for bit with
    the "native" one, the others with the references REFS"""
    why, _, _, outs = harness.compile_model(tostc, path, d, "m", None)
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
            got = got_by[label] = harness.execute(d, inputs, outs,
                                                  run_dir=os.path.join(d, label), exe=exe, env=env)
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
            for k, (g, r) in enumerate(zip(got, refs)):
                problems.append(harness.tolerance_error(g, r, "%s output %d" % (label, k))[0])
    return [p for p in problems if p]


def run_case(tostc, work, builds, omp, case):
    """the problems of one case (a list of strings, empty when it passes)"""
    name, build, want = case
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    if isinstance(want, str):
        onnx.save(build(), path)
        return check_refusal(tostc, path, d, want)
    m, inputs, refs = build()
    onnx.save(m, path)
    return check_values(tostc, path, d, builds + (omp if want else []), inputs, refs)


def main():
    tostc, work, cc, picked = harness.runner_args(__doc__, COMPILE + REFUSE)
    base = [cc] + harness.GRAPH_CFLAGS
    plain, _ = harness.isa_build(base, "plain")
    native, isa = harness.isa_build(base, "native")
    builds = [("plain", plain)] + ([("native", native)] if isa != harness.PLAIN else [])
    omp = [("omp", native + ["-fopenmp", "-DTR_PAR_MIN=1"])] if len(builds) > 1 else []
    # the models are made here, in order (one random generator); two cases
    # build and run at a time
    cases = [(name, (lambda b: (lambda: b))(build()), want) for name, build, want in picked]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = pool.map(lambda c: run_case(tostc, work, builds, omp, c), cases)
        failed = 0
        for (name, _, _), problems in zip(cases, results):
            failed += bool(problems)
            print("FAIL %s: %s" % (name, "; ".join(problems)) if problems else "ok   %s" % name,
                  flush=True)
    print("conv_norm: %d passed, %d failed (plain C99 + native: %s)"
          % (len(picked) - failed, failed, isa))
    return 1 if failed or not picked else 0


if __name__ == "__main__":
    sys.exit(main())
