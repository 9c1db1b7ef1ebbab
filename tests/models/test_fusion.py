#!/usr/bin/python3
"""
test_fusion.py -- TSSA fusion end to end: ToST models from tost_ref.py through
tostc with and without fusion, against PyTorch.

    /usr/bin/python3 tests/models/test_fusion.py --tostc build/tostc --work DIR [--filter RE]

For each case the model is exported (tost_ref.export) and compiled twice,
fused and with --no-fuse; both builds run on the same input and must match
PyTorch (|got - ref| <= 1e-4 |ref| + 1e-5 max|ref|, as run_models.py) and
each other.  `tostc --report=json` must count exactly the expected fused
ops ("ops": TSSA / CausalTSSA = number of blocks, or 0 for near misses), no
CumSum may survive in a fused causal model, no Erf or ReduceMean in any
(fuse_common: GELU and LayerNorm), a vision model's conv stem must run its
GELUs in the Convs (fuse_epilogue: gelu=1, no Gelu after a Conv), and the
fused epsilons (from
--dump-ir=fuse_tssa) must be the model's own.  Property cases run the fused
build on transformed inputs:

  perm    a bare TSSA block (tokens in, tokens out): permuting the tokens
          permutes the output rows (vision TSSA is permutation equivariant);
  causal  the LM with the tokens after position CUT replaced: logits before
          CUT are unchanged, logits after it change.

Variants not derived from the official code (division, sqrt-of-sum norm,
Max clamp, Mul+ReduceSum moments, ...) must fuse too; near misses (softmax
over tokens) must not, and stay correct.  Last line: `fusion: N passed, N failed`.
"""
import json
import os
import re
import shutil
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import harness  # noqa: E402
import tost_ref  # noqa: E402

NAME = "net"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
# extra flags for the generated C, e.g. the sanitizers (CI's sanitizer pass)
CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()


class Args:
    def __init__(self, **kw):
        d = dict(dim=32, depth=2, heads=4, img=32, classes=10, variant="official", vocab=61,
                 block=24, seq=16, bias=False, seed=0)
        d.update(kw)
        self.__dict__.update(d)


class BlockOnly(nn.Module):
    """One vision TSSA block on tokens: x (B, N, d) -> (B, N, d)."""
    def __init__(self, dim, heads, n, variant="official"):
        super().__init__()
        self.blk = tost_ref.TSSABlock(dim, heads, variant=variant)
        self.n, self.dim = n, dim

    def forward(self, x):
        return self.blk(x)

    def example_input(self, batch=1, seq=None):
        return torch.randn(batch, self.n, self.dim)


def vision(**kw):
    return lambda: tost_ref.build("vision", Args(**kw))


def lm(**kw):
    return lambda: tost_ref.build("lm", Args(**kw))


def block(**kw):
    return lambda: tost_ref.randomize(BlockOnly(kw.get("dim", 32), kw.get("heads", 4), kw.get("n", 20),
                                                kw.get("variant", "official")), kw.get("seed", 0))


# name, model, opset, batch, dynamic seq (export T, run T), expected fused ops,
# expected (eps_norm, eps_pi), property
CASES = [
    ("vision_op13",        vision(seed=1),                  13, 1, None, {"TSSA": 2}, (1e-12, 1e-8), None),
    ("vision_op17_b2",     vision(seed=2, depth=3),         17, 2, None, {"TSSA": 3}, (1e-12, 1e-8), None),
    ("vision_div_op14_b2", vision(seed=3, variant="div"),   14, 2, None, {"TSSA": 2}, (1e-12, 1e-8), None),
    ("vision_l2sum_op15",  vision(seed=4, variant="l2sum"), 15, 1, None, {"TSSA": 2}, (1e-12, 1e-8), None),
    ("vision_eps_op16",    vision(seed=5, variant="eps"),   16, 1, None, {"TSSA": 2}, (1e-6, 1e-5), None),
    ("nearmiss_tokensoftmax_op17", vision(seed=6, variant="tokensoftmax"), 17, 1, None, {"TSSA": 0}, None, None),
    ("lm_op13",            lm(seed=7),                      13, 1, None, {"CausalTSSA": 2}, (1e-12, 1e-8), None),
    ("lm_op17_b2_bias",    lm(seed=8, bias=True, depth=3),  17, 2, None, {"CausalTSSA": 3}, (1e-12, 1e-8), None),
    ("lm_op17_dyn",        lm(seed=9),                      17, 1, (8, 20), {"CausalTSSA": 2}, (1e-12, 1e-8), "causal"),
    ("vision_p12_op17",    vision(seed=13, dim=48, heads=4), 17, 1, None, {"TSSA": 2}, (1e-12, 1e-8), None),
    ("lm_p10_op14_b3",     lm(seed=14, dim=40, heads=4),    14, 3, None, {"CausalTSSA": 2}, (1e-12, 1e-8), None),
    ("block_perm_op17",    block(seed=10, n=20),            17, 1, None, {"TSSA": 1}, (1e-12, 1e-8), "perm"),
    ("block_div_perm_op13", block(seed=11, n=9, variant="div"), 13, 2, None, {"TSSA": 1}, (1e-12, 1e-8), "perm"),
    ("block_rank3_perm_op15", block(seed=12, n=11, variant="rank3"), 15, 1, None, {"TSSA": 1}, (1e-12, 1e-8), "perm"),
]


def execute(out_dir, x, outs):
    return harness.one_output(harness.execute(out_dir, [x.numpy()], outs))


def close(got, ref, what):
    why, err, scale = harness.tolerance_error(got, ref, what)
    if why:
        raise AssertionError(why)
    return err / scale


def fused_eps(tostc, onnx_path, out_dir, extra):
    rc, out, err = harness.tostc(tostc, onnx_path, out_dir, NAME, extra + ["--dump-ir=fuse_tssa"])
    eps = []
    for line in (out + err).splitlines():
        m = re.search(r"= (?:Causal)?TSSA\(.*eps_norm=(\S+) eps_pi=(\S+)", line)
        if m:
            eps.append((float(m.group(1)), float(m.group(2))))
    return eps


def conv_gelus(tostc, onnx_path, out_dir, extra):
    """(Convs with a fused GELU, Gelus left reading a Conv's output) after fuse_epilogue"""
    rc, out, err = harness.tostc(tostc, onnx_path, out_dir, NAME, extra + ["--dump-ir=fuse_epilogue"])
    convs, fused, left = set(), 0, 0
    for line in (out + err).splitlines():
        m = re.match(r"(%\S+) = Conv\(.*?\) (.*): ", line)
        if m:
            convs.add(m.group(1))
            fused += " gelu=1" in " " + m.group(2)
        m = re.match(r"%\S+ = Gelu\((%\S+)\)", line)
        if m and m.group(1) in convs:
            left += 1
    return fused, left


def run_case(case, tostc, work, cc):
    name, mk, opset, batch, dyn, expect, eps, prop = case
    wd = os.path.join(work, name)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    torch.manual_seed(0)
    model = mk()
    onnx_path = os.path.join(wd, "model.onnx")
    dims = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dyn:
            tost_ref.export(model, onnx_path, opset, dynamic_seq=True, batch=batch, seq=dyn[0])
            dims = ["--dim", "seq=%d" % dyn[1]]
            x = model.example_input(batch, dyn[1])
        else:
            x, _ = tost_ref.export(model, onnx_path, opset, batch=batch)
        with torch.no_grad():
            ref = model(x).numpy()

    # the report: fused op counts, no CumSum left in causal models
    rc, out, err = harness.tostc(tostc, onnx_path, os.path.join(wd, "fused"), NAME,
                                 dims + ["--report=json"])
    if rc != 0:
        return "tostc --report: %s" % harness.first_line(err)
    ops = json.loads(out[out.index("{"):])["ops"]
    nfused = sum(expect.values())
    # fuse_common: every decomposed LayerNorm and erf GELU is gone (fuse_mlp
    # then folds the MLP's LayerNorm and GELU into MlpBlock nodes)
    if not (ops.get("Gelu") or ops.get("MlpBlock")) or not ops.get("LayerNormalization"):
        return "report: no Gelu or LayerNormalization after fuse_common (ops %s)" % ops
    for op, n in dict(expect, Erf=0, ReduceMean=0).items():
        if ops.get(op, 0) != n:
            return "report: %d %s, expected %d (ops %s)" % (ops.get(op, 0), op, n, ops)
    if expect.get("CausalTSSA") and ops.get("CumSum", 0):
        return "report: %d CumSum left after fusion" % ops["CumSum"]
    if eps:
        got = fused_eps(tostc, onnx_path, os.path.join(wd, "fused"), dims)
        n = nfused
        if len(got) != n or any(abs(a - eps[0]) > 1e-6 * eps[0] or abs(b - eps[1]) > 1e-6 * eps[1]
                                for a, b in got):
            return "fused epsilons %s, expected %d x %s" % (got, n, eps)

    # fuse_epilogue: the conv stem's GELUs run in their Conv's epilogue
    if name.startswith("vision"):
        fused, left = conv_gelus(tostc, onnx_path, os.path.join(wd, "fused"), dims)
        if fused == 0 or left:
            return "conv stem: %d Conv with a fused GELU, %d Gelu left after a Conv" % (fused, left)

    notes = []
    res = {}
    for variant, extra in (("fused", []), ("unfused", ["--no-fuse"])):
        od = os.path.join(wd, variant)
        e, _, _, outs = harness.compile_model(tostc, onnx_path, od, NAME, [cc] + CFLAGS,
                                              dims + extra, typed=True)
        if e:
            return "%s: %s" % (variant, e)
        got = execute(od, x, outs)
        rel = close(got, ref, "%s vs PyTorch" % variant)
        res[variant] = (od, outs, got)
        notes.append("%s %.1e" % (variant, rel))
    close(res["fused"][2], res["unfused"][2], "fused vs unfused")

    od, outs, y0 = res["fused"]
    if prop == "perm":
        g = torch.Generator().manual_seed(5)
        perm = torch.randperm(x.shape[1], generator=g)
        yp = execute(od, x[:, perm].contiguous(), outs)
        close(yp, y0[:, perm.numpy()], "permuted tokens")
        notes.append("perm-equivariant")
    elif prop == "causal":
        cut = x.shape[1] // 2
        x2 = x.clone()
        x2[:, cut:] = (x2[:, cut:] + 7) % model.vocab
        y2 = execute(od, x2, outs)
        d_before = float(np.abs(y2[:, :cut] - y0[:, :cut]).max())
        d_after = float(np.abs(y2[:, cut:] - y0[:, cut:]).max())
        if d_before > 1e-6 * float(np.abs(y0).max()) or d_after == 0.0:
            return "causality: change before cut %.3g, after cut %.3g" % (d_before, d_after)
        with torch.no_grad():
            close(y2, model(x2).numpy(), "changed tokens vs PyTorch")
        notes.append("causal (max change before cut %.1g)" % d_before)
    return None, ", ".join(notes)


def main():
    tostc, work, cc, cases = harness.runner_args("TSSA fusion: fused vs unfused vs PyTorch", CASES)
    torch.set_num_threads(1)
    npass = nfail = 0
    for c in cases:
        t0 = time.time()
        try:
            r = run_case(c, tostc, work, cc)
        except Exception as e:  # noqa: BLE001 -- report and go on
            r = "%s: %s" % (type(e).__name__, e)
        dt = time.time() - t0
        if isinstance(r, tuple):
            npass += 1
            print("PASS %-28s %5.1fs  %s" % (c[0], dt, r[1]), flush=True)
        else:
            nfail += 1
            print("FAIL %-28s %5.1fs  %s" % (c[0], dt, r), flush=True)
    print("fusion: %d passed, %d failed" % (npass, nfail))
    return 1 if nfail or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
