#!/usr/bin/python3
"""
run_llvm.py -- the LLVM backend (-o model.o) against the C backend (-o model.c).

    /usr/bin/python3 tests/llvm/run_llvm.py --tostc build/tostc --work DIR [--filter RE]

Every case is compiled by tostc twice, to model.c and to model.o, with the
same options; the two model.h must be identical but for the command line in
their provenance comment.  One harness (tests/harness.py's) is built against
each and run on the same seeded inputs, at two kernel levels:

  plain   model.c with cc -O2 -DTR_NO_SIMD, model.o with --cpu x86-64 (the
          plain C kernels): outputs must be bitwise equal;
  native  model.c with cc -O2 -march=native, model.o for the host CPU (the
          same SIMD kernels, AVX-512 or AVX2+FMA): bitwise equal too, since
          the same operations run in the same order: the kernels' bitcode is
          built without contraction of a * b + c and with fmaf where gcc
          uses it (CMakeLists.txt).  With TOSTC_LLVM_TOLERANT=1 the native
          level accepts |o - c| <= 1e-6 |c| + 1e-6 max|c| instead (for a
          compiler that rounds otherwise), and says how far apart they are;
  aarch64 model.c with aarch64-linux-gnu-gcc -O2 -static, model.o with
          --target aarch64-linux-gnu --cpu cortex-a76 (the NEON kernels),
          both run under qemu-aarch64: bitwise equal.  Skipped without the
          cross compiler, qemu or tostc's aarch64 kernels, unless
          TOSTC_REQUIRE_AARCH64=1 (CI), as ctest paths_aarch64.

Each object must define only NAME_run and NAME_run_v and reference nothing
but libm and memcpy/memset/memmove (nm).  The cases: the digits sample from
its .onnx and .tost (the typed NAME_run for one), the ToST vision and causal
LM models of tests/models (tost_ref.py, random weights) from the DSL
(tests/dsl/*.tost + .safetensors) and the vision one from ONNX, a small CNN
and an If decided at run time, written with onnx.helper.  A causal LM
without --no-stream is refused (the step API is not covered yet).

Skipped (exit 77, `llvm: SKIPPED, ...`) when tostc has no LLVM backend,
unless TOSTC_REQUIRE_LLVM=1 (CI).  Last line: `llvm: N passed, N failed`.
"""
import argparse
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "models"))

import numpy as np  # noqa: E402

import harness  # noqa: E402

# TOSTC_TEST_CFLAGS (CI: -pedantic, sanitizers) without its -O and -march:
# each level's C build must pick the same kernels as its object
CFLAGS = ["-std=c99", "-O2"] + [f for f in os.environ.get("TOSTC_TEST_CFLAGS", "").split()
                                if not re.match(r"-O|-march=|-mtune=", f)]
RTOL = ATOL_REL = 1e-6
TOLERANT = os.environ.get("TOSTC_LLVM_TOLERANT") == "1"
# name, C compiler and flags, tostc options, the command that runs a program
LEVELS = [("plain", ["cc"] + CFLAGS + ["-DTR_NO_SIMD"], ["--cpu", "x86-64"], []),
          ("native", ["cc"] + CFLAGS + ["-march=native"], [], [])]
AARCH64 = ("aarch64", ["aarch64-linux-gnu-gcc", "-std=c99", "-O2", "-static"],
           ["--target", "aarch64-linux-gnu", "--cpu", "cortex-a76"], ["qemu-aarch64"])


# ---------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------

def digits(work, src):
    d = os.path.join(ROOT, "samples", "digits")
    return os.path.join(d, "digits." + src), []


def tost_model(work, kind):
    """A ToST model of tests/models/tost_ref.py with random weights: the .tost
    of tests/dsl with its .safetensors (kind vision, lm) or the ONNX export
    (vision_onnx)."""
    import torch
    import tost_ref
    torch.manual_seed(0)
    base = kind.split("_")[0]
    d = os.path.join(work, "src_" + kind)
    os.makedirs(d, exist_ok=True)
    if base == "vision":
        m = tost_ref.ToSTVision(32, 2, 4, 32, 10, 2)
        dims = dict(d=32, depth=2, heads=4, img=32, classes=10, cls_depth=2)
    else:
        m = tost_ref.ToSTLM(32, 2, 4, 61, 32, 16, bias=True)
        dims = dict(d=32, depth=2, heads=4, vocab=61, block=32, seq=16, bias=1)
    tost_ref.randomize(m, seed=1)
    if kind == "vision_onnx":
        p = os.path.join(d, "model.onnx")
        tost_ref.export(m, p, 17)
        return p, []
    tost_ref.save_safetensors(os.path.join(d, base + ".safetensors"), m.state_dict(),
                              {"format": "pt"})
    shutil.copy(os.path.join(HERE, "..", "dsl", base + ".tost"), d)
    extra = []
    for k, v in dims.items():
        extra += ["--dim", "%s=%s" % (k, v)]
    if base == "lm":
        extra.append("--no-stream")
    return os.path.join(d, base + ".tost"), extra


def cnn(work):
    """conv 3x3 (1 -> 8) + relu, max pool 2, conv 3x3 (8 -> 16) + relu,
    global average pool, flatten, gemm (16 -> 10), softmax."""
    import onnx
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(7)
    w = {"w1": rng.standard_normal((8, 1, 3, 3)) / 3, "b1": rng.standard_normal(8) * 0.1,
         "w2": rng.standard_normal((16, 8, 3, 3)) / 8, "b2": rng.standard_normal(16) * 0.1,
         "w3": rng.standard_normal((10, 16)) / 4, "b3": rng.standard_normal(10) * 0.1}
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in w.items()]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["z"], transB=1),
        helper.make_node("Softmax", ["z"], ["y"], axis=1),
    ]
    g = helper.make_graph(nodes, "cnn", [harness.value_info("x", [4, 1, 16, 16])],
                          [harness.value_info("y", [4, 10])], inits)
    p = os.path.join(work, "src_cnn", "cnn.onnx")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), p)
    return p, []


def if_branch(work):
    """y = relu(x @ W) + 1 when c, else y = (x @ W) * 2: an If decided at run
    time, its branches reading a value of the graph around them."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "W"),
             numpy_helper.from_array(np.float32(1), "one"), numpy_helper.from_array(np.float32(2), "two")]
    then_g = helper.make_graph([helper.make_node("Relu", ["xw"], ["r"]),
                                helper.make_node("Add", ["r", "one"], ["t"])], "then", [],
                               [harness.value_info("t", [4, 8])])
    else_g = helper.make_graph([helper.make_node("Mul", ["xw", "two"], ["e"])], "else", [],
                               [harness.value_info("e", [4, 8])])
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "if_branch",
                          [harness.value_info("x", [4, 16]),
                           helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                          [harness.value_info("y", [4, 8])], inits)
    p = os.path.join(work, "src_if", "if.onnx")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), p)
    return p, []


# name, maker(work) -> (model, tostc options), typed NAME_run
CASES = [
    ("digits_onnx", lambda w: digits(w, "onnx"), True),
    ("digits_tost", lambda w: digits(w, "tost"), False),
    ("tost_vision", lambda w: tost_model(w, "vision"), False),
    ("tost_vision_onnx", lambda w: tost_model(w, "vision_onnx"), False),
    ("tost_lm", lambda w: tost_model(w, "lm"), False),
    ("cnn", cnn, True),
    ("if_branch", if_branch, False),
]


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

def libm_symbols():
    rc, out, _ = harness.run(["cc", "-print-file-name=libm.so.6"])
    path = out.strip()
    rc, out, err = harness.run(["nm", "-D", "--defined-only", path])
    if rc != 0:
        raise RuntimeError("nm %s: %s" % (path, harness.first_line(err)))
    names = {l.split()[2].split("@")[0] for l in out.splitlines()
             if len(l.split()) == 3 and l.split()[1] in "TWiV"}
    return names | {"memcpy", "memset", "memmove"}


def symbols_error(obj, name, allowed):
    """None, or what model.o defines or needs beyond the API and libm."""
    rc, out, err = harness.run(["nm", "-g", "--defined-only", obj])
    if rc != 0:
        return "nm: " + harness.first_line(err)
    defined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    if defined != {name + "_run", name + "_run_v"}:
        return "exports %s, expected %s_run and %s_run_v" % (sorted(defined), name, name)
    rc, out, err = harness.run(["nm", "-u", obj])
    needed = {l.split()[-1] for l in out.splitlines() if l.strip()}
    bad = sorted(needed - allowed)
    return "references %s (not libm or mem*)" % bad if bad else None


def header_without_command(path):
    with open(path) as f:
        return [l for l in f if not l.startswith(" * Command:")]


def compare(got, ref, exact):
    """(None or why not, bitwise equal, max |err| / max |ref|)"""
    if got.shape != ref.shape or got.dtype != ref.dtype:
        return "shape/type %s %s vs %s %s" % (got.shape, got.dtype, ref.shape, ref.dtype), False, 0
    same = got.tobytes() == ref.tobytes()
    if same or ref.size == 0:
        return None, True, 0.0
    if exact:
        return "not bitwise equal", False, 0
    if got.dtype.kind != "f":
        return "integers differ", False, 0
    g, r = got.astype(np.float64), ref.astype(np.float64)
    scale = float(np.abs(r).max()) or 1.0
    err = np.abs(g - r)
    ok = (err <= RTOL * np.abs(r) + ATOL_REL * scale) & np.isfinite(g)
    rel = float(err.max()) / scale
    if not ok.all():
        j = tuple(np.argwhere(~ok)[0])
        return ("%d of %d elements differ by more than %g relative; first at %s: %r vs %r"
                % (int((~ok).sum()), ref.size, RTOL, list(j), g[j], r[j])), False, rel
    return None, False, rel


def inputs_for(ins, rng):
    xs = []
    for _, ty, shape in ins:
        if ty == "int64":
            xs.append(rng.integers(0, 40, size=shape).astype(np.int64))
        elif ty == "bool":
            xs.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            xs.append(rng.standard_normal(shape).astype(np.float32))
    return xs


def build(cc, out_dir, model_file):
    rc, out, err = harness.run(cc + ["-I", out_dir, os.path.join(out_dir, "harness.c"), model_file,
                                     "-o", os.path.join(out_dir, "harness"), "-lm"])
    return None if rc == 0 else "cc %s: %s" % (harness.describe_rc(rc), harness.cc_error(err or out))


def execute(runner, out_dir, inputs, outs):
    """harness.execute, the harness run by RUNNER (e.g. qemu-aarch64)."""
    for i, a in enumerate(inputs):
        np.ascontiguousarray(a).tofile(os.path.join(out_dir, "in_%d.bin" % i))
    rc, _, err = harness.run(runner + [os.path.join(out_dir, "harness"), out_dir], 300)
    if rc != 0:
        raise RuntimeError("harness %s: %s" % (harness.describe_rc(rc), harness.first_line(err)))
    return [np.fromfile(os.path.join(out_dir, "out_%d.bin" % i), dtype=np.dtype(ty)).reshape(shape)
            for i, (_, ty, shape) in enumerate(outs)]


def aarch64_missing(version):
    """None when the aarch64 level can run, else why not."""
    why = []
    if "aarch64_neon" not in version:
        why.append("tostc has no aarch64 kernels")
    for tool in ("aarch64-linux-gnu-gcc", "qemu-aarch64"):
        if not shutil.which(tool):
            why.append(tool + " not found")
    return ", ".join(why) or None


def run_case(tostc, work, name, make, typed, allowed):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model, extra = make(work)
    problems, notes = [], []
    for level, cc, lflags, runner in LEVELS:
        cdir, odir = os.path.join(d, level, "c"), os.path.join(d, level, "o")
        for out_dir, out, more in ((cdir, "model.c", []), (odir, "model.o", lflags)):
            os.makedirs(out_dir, exist_ok=True)
            rc, _, err = harness.run([tostc, model, "-o", os.path.join(out_dir, out), "--name", "m"]
                                     + extra + more)
            if rc != 0:
                return ["%s %s: tostc %s: %s" % (level, out, harness.describe_rc(rc),
                                                 harness.first_line(err))], notes
        if header_without_command(os.path.join(cdir, "model.h")) != \
                header_without_command(os.path.join(odir, "model.h")):
            problems.append("%s: model.h differs between the backends" % level)
        e = symbols_error(os.path.join(odir, "model.o"), "m", allowed)
        if e:
            problems.append("%s: model.o %s" % (level, e))
        P, ins, outs = harness.model_io(cdir, "m")
        for out_dir in (cdir, odir):
            with open(os.path.join(out_dir, "harness.c"), "w") as f:
                f.write(harness.make_harness("m", P, ins, outs, typed))
        for out_dir, f in ((cdir, "model.c"), (odir, "model.o")):
            e = build(cc, out_dir, os.path.join(out_dir, f))
            if e:
                return problems + ["%s %s: %s" % (level, f, e)], notes
        xs = inputs_for(ins, np.random.default_rng(3))
        got_c = execute(runner, cdir, xs, outs)
        got_o = execute(runner, odir, xs, outs)
        for k, (go, gc) in enumerate(zip(got_o, got_c)):
            why, same, rel = compare(go, gc, exact=level == "plain" or not TOLERANT)
            if why:
                problems.append("%s output %d: %s" % (level, k, why))
            notes.append("%s %s" % (level, "bitwise" if same else "max rel %.1e" % rel))
    return problems, notes


def refusals(tostc, work):
    """The causal LM without --no-stream: the step API is refused."""
    model, extra = tost_model(work, "lm")
    extra = [a for a in extra if a != "--no-stream"]
    d = os.path.join(work, "refuse_stream")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rc, _, err = harness.run([tostc, model, "-o", os.path.join(d, "model.o"), "--name", "m"] + extra)
    if rc != 1 or not re.search(r"step API.*--no-stream", err) or os.listdir(d):
        return ["causal LM to model.o: %s, files %s, message %r (expected exit 1 naming the step "
                "API and --no-stream, no files)" % (harness.describe_rc(rc), os.listdir(d),
                                                    harness.first_line(err))]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    tostc, work = os.path.abspath(a.tostc), os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    _, version, _ = harness.run([tostc, "--version"])
    if "llvm (" not in version:
        if os.environ.get("TOSTC_REQUIRE_LLVM") == "1":
            print("llvm: FAILED: this tostc has no LLVM backend and TOSTC_REQUIRE_LLVM=1")
            return 1
        print("llvm: SKIPPED, this tostc was built without the LLVM backend (-DTOSTC_LLVM)")
        return 77
    native = harness.kernel_isa(["cc"] + CFLAGS + ["-march=native"])
    why = aarch64_missing(version)
    if why and os.environ.get("TOSTC_REQUIRE_AARCH64") == "1":
        print("llvm: FAILED: the aarch64 level cannot run (%s) and TOSTC_REQUIRE_AARCH64=1" % why)
        return 1
    if not why:
        LEVELS.append(AARCH64)
    allowed = libm_symbols()
    npass = nfail = 0
    for name, make, typed in CASES:
        if not re.search(a.filter, name):
            continue
        try:
            problems, notes = run_case(tostc, work, name, make, typed, allowed)
        except Exception as e:  # noqa: BLE001 -- a runner error fails the case, with why
            problems, notes = ["%s: %s" % (type(e).__name__, e)], []
        if problems:
            nfail += 1
            for p in problems:
                print("FAIL %s: %s" % (name, p), flush=True)
        else:
            npass += 1
            print("ok   %-18s %s" % (name, ", ".join(notes)), flush=True)
    if re.search(a.filter, "refuse_stream"):
        problems = refusals(tostc, work)
        for p in problems:
            print("FAIL refuse_stream: %s" % p)
        npass, nfail = npass + (not problems), nfail + bool(problems)
    print("llvm: %d passed, %d failed (plain C99 + native: %s + aarch64 NEON: %s)"
          % (npass, nfail, native, "skipped, " + why if why else "qemu"))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
