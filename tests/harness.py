"""
harness.py -- what every end-to-end test runner does with a compiled model:
run tostc, read the generated header, write a C harness, build it, run it on
raw inputs and compare its raw outputs with a reference.

The header contract (model.h of `tostc ... -o DIR/model.c --name N`):
N_NUM_INPUTS, N_INPUTi_NAME/TYPE/RANK/SHAPE/SIZE (OUTPUT likewise),
N_WORKSPACE_SIZE, N_run_v(in, out, ws) and the typed N_run(in0.., out0.., ws).
The harness is one C file per model: `harness DIR` reads DIR/in_<i>.bin,
calls N_run_v (or N_run, typed=True) with a 64-byte aligned workspace filled
with garbage, writes DIR/out_<i>.bin.  Outputs start as 0xff bytes (NaN, -1)
so an output never written shows.

Users: tests/conformance/run.py, tests/models/run_models.py,
tests/models/test_fusion.py, tests/stream/run_stream.py, tests/dsl/equiv.py.
"""
import argparse
import os
import re
import signal
import subprocess

import numpy as np

# Header TYPE strings -> C type; the TYPE strings are numpy dtype names, and
# "bfloat16" (no numpy dtype: its bits as uint16, as onnx's numpy_helper gives them).
CTYPES = {"float32": "float", "int64": "int64_t", "int32": "int32_t", "bool": "uint8_t",
          "int8": "int8_t", "uint8": "uint8_t", "float16": "uint16_t", "bfloat16": "uint16_t"}


def np_dtype(ty):
    """The numpy dtype of a header TYPE string (bfloat16: uint16 bits)."""
    return np.dtype(np.uint16) if ty == "bfloat16" else np.dtype(ty)

# Tolerance against a float reference (PyTorch): per element
# |got - ref| <= RTOL * |ref| + ATOL_REL * max|ref|.
RTOL, ATOL_REL = 1e-4, 1e-5


# ---------------------------------------------------------------------------
# The model runners' command line
# ---------------------------------------------------------------------------

def runner_args(description, cases):
    """--tostc, --work, --filter RE, --cc: (tostc, work, cc, the cases whose
    name, case[0], matches RE), paths absolute, WORK created."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default=None)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    picked = [c for c in cases if not args.filter or re.search(args.filter, c[0])]
    return os.path.abspath(args.tostc), os.path.abspath(args.work), args.cc, picked


# ---------------------------------------------------------------------------
# Which kernels a build of generated C runs
# ---------------------------------------------------------------------------

RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime")

# runtime/gemm/config.h's choice of GEMM micro-kernel (a macro) -> the ISA's name
KERNEL_ISA = (("TR_GEMM_AVX512", "avx512f"), ("TR_GEMM_AVX2", "avx2+fma"), ("TR_GEMM_NEON", "neon"))
PLAIN = "plain C99"


def kernel_isa(cc):
    """The ISA of the micro-kernels that generated C built with CC (a list:
    the compiler and its flags) runs, as runtime/gemm/config.h picks it from the
    flags: avx512f, avx2+fma, neon, or PLAIN."""
    p = subprocess.run(cc + ["-I", RUNTIME, "-E", "-dM", "-x", "c", "-"],
                       input=b'#include "gemm/config.h"\n', stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s -E -dM: %s" % (" ".join(cc), cc_error(p.stderr.decode())))
    defs = p.stdout.decode()
    for macro, isa in KERNEL_ISA:
        if re.search(r"^#define %s\b" % macro, defs, re.M):
            return isa
    return PLAIN


def isa_build(cc, isa):
    """(CC for ISA, the kernels it runs): ISA "plain" adds -DTR_NO_SIMD (the
    plain C99 kernels, whatever the other flags select), "native" adds
    -march=native (this CPU's SIMD kernels; PLAIN when it has none)."""
    cc = cc + (["-DTR_NO_SIMD"] if isa == "plain" else ["-march=native"])
    return cc, kernel_isa(cc)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

def run(cmd, timeout=300, cwd=None, env=None):
    """(returncode or None on timeout, stdout, stderr) of cmd; ENV: extra
    environment variables."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd, env=dict(os.environ, **env) if env else None)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ds" % timeout


def describe_rc(rc):
    if rc is None:
        return "timed out"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


def first_line(s):
    s = s.strip()
    return s.splitlines()[0] if s else "(no message)"


def cc_error(s):
    """The first line of compiler output that says `error` (else the first)."""
    lines = s.strip().splitlines()
    return ([l for l in lines if "error" in l] or lines or ["(no message)"])[0]


def tostc(tostc_path, model, out_dir, name, extra=(), timeout=300):
    """tostc MODEL -o OUT_DIR/model.c --name NAME EXTRA; (rc, stdout, stderr)."""
    os.makedirs(out_dir, exist_ok=True)
    return run([tostc_path, model, "-o", os.path.join(out_dir, "model.c"), "--name", name]
               + list(extra), timeout)


def build(cc, out_dir, harness_c, exe, timeout=300):
    """cc (a list: compiler and flags) OUT_DIR/model.c HARNESS_C -o EXE -lm;
    None, or the reason it failed."""
    rc, out, err = run(cc + ["-I", out_dir, os.path.join(out_dir, "model.c"), harness_c,
                             "-o", exe, "-lm"], timeout)
    if rc != 0:
        return "cc %s: %s" % (describe_rc(rc), cc_error(err or out))
    return None


# ---------------------------------------------------------------------------
# The generated header
# ---------------------------------------------------------------------------

def parse_header(path):
    """The #defines of a generated header as {macro: text}."""
    defs = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*#\s*define\s+(\w+)\s+(.*?)\s*(/\*.*)?$", line)
            if m:
                defs[m.group(1)] = m.group(2)
    return defs


def macro_prefix(defs, name):
    """The prefix of the header's macros: NAME as given, or upper-cased."""
    for p in (name, name.upper()):
        if p + "_NUM_INPUTS" in defs:
            return p
    raise KeyError("%s_NUM_INPUTS (or %s_NUM_INPUTS)" % (name, name.upper()))


def header_io(defs, name, kind, n):
    """[(name, dtype, shape)] of the inputs or outputs from the header."""
    res = []
    for i in range(n):
        p = "%s_%s%d_" % (name, kind, i)
        nm = defs[p + "NAME"].strip().strip('"')
        ty = defs[p + "TYPE"].strip().strip('"')
        rank = int(defs[p + "RANK"])
        body = defs[p + "SHAPE"].strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise ValueError("%sSHAPE is not {d0, d1, ...}: %s" % (p, body))
        shape = tuple(int(x) for x in body[1:-1].split(",") if x.strip())
        if rank == 0 and shape in ((), (1,)):  # {} is not C: scalars may say {1}
            shape = ()
        if len(shape) != rank:
            raise ValueError("%sSHAPE %s disagrees with %sRANK %d" % (p, body, p, rank))
        size = int(defs[p + "SIZE"])
        if size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError("%sSIZE %d is not the product of %sSHAPE %s" % (p, size, p, body))
        if ty not in CTYPES:
            raise ValueError("%sTYPE %r is not one of %s" % (p, ty, ", ".join(CTYPES)))
        res.append((nm, ty, shape))
    return res


def model_io(out_dir, name):
    """(macro prefix, inputs, outputs) of OUT_DIR/model.h; inputs and outputs
    as header_io returns them.  Raises KeyError / ValueError / OSError."""
    defs = parse_header(os.path.join(out_dir, "model.h"))
    P = macro_prefix(defs, name)
    ins = header_io(defs, P, "INPUT", int(defs[P + "_NUM_INPUTS"]))
    outs = header_io(defs, P, "OUTPUT", int(defs[P + "_NUM_OUTPUTS"]))
    int(defs[P + "_WORKSPACE_SIZE"])
    return P, ins, outs


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

HARNESS = r"""/* harness.c -- generated by tests/harness.py for one model.
 * Usage: harness DIR: reads DIR/in_<i>.bin, calls %(CALLEE)s, writes DIR/out_<i>.bin. */
#include "model.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char path[4096];

/* not static: a model without inputs does not call it */
void *load(const char *dir, int i, size_t bytes);
void save(const char *dir, int i, const void *p, size_t bytes);

void *load(const char *dir, int i, size_t bytes)
{
	unsigned char *p = malloc(bytes ? bytes : 1);
	FILE *f;
	sprintf(path, "%%s/in_%%d.bin", dir, i);
	f = fopen(path, "rb");
	if (!p || !f || fread(p, 1, bytes, f) != bytes) {
		fprintf(stderr, "harness: cannot read %%lu bytes from %%s\n", (unsigned long)bytes, path);
		exit(3);
	}
	fclose(f);
	return p;
}

void save(const char *dir, int i, const void *p, size_t bytes)
{
	FILE *f;
	sprintf(path, "%%s/out_%%d.bin", dir, i);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {
		fprintf(stderr, "harness: cannot write %%s\n", path);
		exit(3);
	}
}

int main(int argc, char **argv)
{
	const void *in[%(NIN1)d] = {0};
	void *out[%(NOUT1)d] = {0};
	size_t ws_bytes = (size_t)%(P)s_WORKSPACE_SIZE;
	unsigned char *ws_raw = NULL, *ws = NULL;
	int rc;
	if (argc != 2) {
		fprintf(stderr, "usage: harness DIR\n");
		return 3;
	}
	if (%(P)s_NUM_INPUTS != %(NIN)d || %(P)s_NUM_OUTPUTS != %(NOUT)d) {
		fprintf(stderr, "harness: header has %%d inputs, %%d outputs; expected %(NIN)d, %(NOUT)d\n",
		        (int)%(P)s_NUM_INPUTS, (int)%(P)s_NUM_OUTPUTS);
		return 3;
	}
%(LOADS)s
	if (ws_bytes > 0) {
		/* 64-byte aligned, filled with garbage so reads of unwritten memory show */
		ws_raw = malloc(ws_bytes + 64);
		if (!ws_raw)
			return 3;
		ws = ws_raw + (64 - (size_t)((uintptr_t)ws_raw %% 64)) %% 64;
		memset(ws, 0x7f, ws_bytes);
	}
	rc = %(CALL)s;
	if (rc != 0) {
		fprintf(stderr, "harness: %(CALLEE)s returned %%d\n", rc);
		return 4;
	}
%(SAVES)s
	free(ws_raw);
	(void)in;
	(void)out;
	return 0;
}
"""


def make_harness(name, prefix, ins, outs, typed=False):
    """The harness for a model NAME whose macros start with PREFIX; typed:
    call the typed entry point N_run instead of N_run_v."""
    loads, saves, args = [], [], []
    for i, (_, ty, _) in enumerate(ins):
        loads.append("\tin[%d] = load(argv[1], %d, (size_t)%s_INPUT%d_SIZE * sizeof(%s));"
                     % (i, i, prefix, i, CTYPES[ty]))
        args.append("(const %s *)in[%d]" % (CTYPES[ty], i))
    for i, (_, ty, _) in enumerate(outs):
        b = "(size_t)%s_OUTPUT%d_SIZE * sizeof(%s)" % (prefix, i, CTYPES[ty])
        loads.append("\tout[%d] = malloc(%s ? %s : 1);" % (i, b, b))
        loads.append("\tif (!out[%d])\n\t\treturn 3;" % i)
        # 0xff bytes: NaN for floats, -1 for ints: an output never written shows
        loads.append("\tmemset(out[%d], 0xff, %s);" % (i, b))
        saves.append("\tsave(argv[1], %d, out[%d], %s);" % (i, i, b))
        args.append("(%s *)out[%d]" % (CTYPES[ty], i))
    callee = "%s_run" % name if typed else "%s_run_v" % name
    call = "%s(%s, ws)" % (callee, ", ".join(args)) if typed else "%s(in, out, ws)" % callee
    return HARNESS % dict(P=prefix, NIN=len(ins), NOUT=len(outs), NIN1=max(len(ins), 1),
                          NOUT1=max(len(outs), 1), LOADS="\n".join(loads),
                          SAVES="\n".join(saves), CALLEE=callee, CALL=call)


def compile_model(tostc_path, model, out_dir, name, cc, extra=(), typed=False):
    """tostc, header, harness, cc: (None, prefix, ins, outs) with the executable
    OUT_DIR/harness built (CC None: only OUT_DIR/harness.c written), or (the
    reason it failed, None, None, None)."""
    rc, _, err = tostc(tostc_path, model, out_dir, name, extra)
    if rc != 0:
        return "tostc %s: %s" % (describe_rc(rc), first_line(err)), None, None, None
    P, ins, outs = model_io(out_dir, name)
    harness_c = os.path.join(out_dir, "harness.c")
    with open(harness_c, "w") as f:
        f.write(make_harness(name, P, ins, outs, typed))
    e = cc and build(cc, out_dir, harness_c, os.path.join(out_dir, "harness"))
    if e:
        return e, None, None, None
    return None, P, ins, outs


def execute(out_dir, inputs, outs, run_dir=None, timeout=120, exe="harness", env=None):
    """Run OUT_DIR/EXE (default the harness) on the numpy arrays INPUTS
    (written to RUN_DIR, default OUT_DIR) with the extra environment ENV; the
    outputs as arrays of the header's shapes."""
    run_dir = run_dir or out_dir
    os.makedirs(run_dir, exist_ok=True)
    for i, a in enumerate(inputs):
        np.ascontiguousarray(a).tofile(os.path.join(run_dir, "in_%d.bin" % i))
    rc, _, err = run([os.path.join(out_dir, exe), run_dir], timeout, env=env)
    if rc != 0:
        raise RuntimeError("%s %s: %s" % (exe, describe_rc(rc), first_line(err)))
    return [np.fromfile(os.path.join(run_dir, "out_%d.bin" % i), dtype=np_dtype(ty)).reshape(shape)
            for i, (_, ty, shape) in enumerate(outs)]


# ---------------------------------------------------------------------------
# Comparison with a float reference
# ---------------------------------------------------------------------------

def count_error(got, refs, what):
    """None, or why the outputs GOT are not as many as the references REFS."""
    if len(got) != len(refs):
        return "%s: %d outputs, the reference has %d" % (what, len(got), len(refs))
    return None


def one_output(got):
    """The only output of a run: a model with more (or none) is an error."""
    if len(got) != 1:
        raise ValueError("%d outputs, expected 1" % len(got))
    return got[0]


def tolerance_error(got, ref, what):
    """None, or why GOT is not within RTOL / ATOL_REL of the float reference REF
    (shapes must be equal: arrays that would broadcast are a mismatch);
    also returns (max |err|, max |ref|)."""
    if got.shape != ref.shape:
        return ("%s: shape %s, reference %s" % (what, got.shape, ref.shape),
                float("inf"), float("nan"))
    if ref.size == 0:
        return None, 0.0, 0.0
    got, ref = got.astype(np.float64), ref.astype(np.float64)
    scale = float(np.abs(ref).max())
    err = np.abs(got - ref)
    ok = err <= RTOL * np.abs(ref) + ATOL_REL * scale
    if ok.all() and np.isfinite(got).all():
        return None, float(err.max()), scale
    j = tuple(np.argwhere(~ok)[0]) if not ok.all() else None
    why = ("%s: %d of %d elements outside tolerance; max |err| %.3g (scale %.3g)"
           % (what, int((~ok).sum()), ref.size, err.max(), scale))
    if j is not None:
        why += "; first at %s: got %r, reference %r" % (list(j), got[j], ref[j])
    return why, float(err.max()), scale


def fused_and_unfused(tostc_path, model, work_dir, cc, inputs, refs, options=()):
    """Build MODEL fused and with --no-fuse (under WORK_DIR/fused and
    /unfused; CC: the compiler and its flags; OPTIONS: more tostc options),
    run both on INPUTS and compare every output with the float reference
    REFS: the problems found, as a list of strings (empty when everything
    matches)."""
    problems = []
    for mode, extra in (("fused", ()), ("unfused", ("--no-fuse",))):
        out_dir = os.path.join(work_dir, mode)
        why, _, _, outs = compile_model(tostc_path, model, out_dir, "m", cc,
                                        tuple(options) + extra)
        if why:
            problems.append("%s: %s" % (mode, why))
            continue
        got = execute(out_dir, inputs, outs)
        e = count_error(got, refs, mode)
        if e:
            problems.append(e)
            continue
        for k, (g, r) in enumerate(zip(got, refs)):
            e, _, _ = tolerance_error(g, r, "%s output %d" % (mode, k))
            if e:
                problems.append(e)
    return problems


# ---------------------------------------------------------------------------
# Hand-written ONNX graphs (test_epilogue.py, test_demand.py, test_absorb.py)
# ---------------------------------------------------------------------------

def onnx_model(nodes, inputs, outputs, inits, opset=17):
    """An ONNX model of NODES (onnx.helper nodes), graph INPUTS and OUTPUTS
    (value infos) and INITS (name -> numpy array) at OPSET."""
    from onnx import helper, numpy_helper
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def value_info(name, shape):
    """A float tensor's value info for a graph input or output."""
    from onnx import helper, TensorProto
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# extra flags of the hand-written graphs' generated C (e.g. the sanitizers)
GRAPH_CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
GRAPH_CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()


def report_cases(title, picked, run_one):
    """RUN_ONE(case) -> the problems of one case (a list of strings) for each
    case of PICKED (tuples, name first); prints a line a case and `TITLE: N
    passed, N failed`; returns the exit status (1 when a case failed or none
    ran)."""
    passed = failed = 0
    for case in picked:
        problems = run_one(case)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (case[0], "; ".join(problems)))
        else:
            passed += 1
            print("ok   %s" % case[0])
    print("%s: %d passed, %d failed" % (title, passed, failed))
    return 1 if failed or not passed else 0


def graph_cases(doc, title, cases, check):
    """The runner of a test of hand-written graphs: CASES are (name, build,
    *want) with build() -> (ONNX model, inputs, float references); each
    model is written to WORK/name/model.onnx, CHECK(tostc, path, dir, *want)
    returns the problems of the pass under test (a list of strings), and the
    model is built fused and --no-fuse and compared with the references.
    Prints a line a case and `TITLE: N passed, N failed`; returns the exit
    status (1 when a case failed or none ran)."""
    tostc_path, work, cc, picked = runner_args(doc, cases)

    def one(case):
        name, build, *want = case
        m, inputs, refs = build()
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
        problems = check(tostc_path, path, d, *want)
        return problems + fused_and_unfused(tostc_path, path, d, [cc] + GRAPH_CFLAGS, inputs, refs)
    return report_cases(title, picked, one)
