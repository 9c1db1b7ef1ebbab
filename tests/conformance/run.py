#!/usr/bin/python3
"""
run.py -- the ONNX backend node tests through tostc, end to end.

    /usr/bin/python3 tests/conformance/run.py --tostc build/tostc --data DATA \
        --work WORK [--jobs 2] [--filter REGEX] [--expect tests/conformance/expected.txt]

DATA is what scripts/gen_onnx_tests.py writes (DATA/node/test_*/ and the
float32 copies of float64-only cases, DATA/derived/test_*_as_f32/) or a
directory of cases itself.  For every case:

  1. every op of model.onnx (subgraphs included) must be in `tostc --list-ops`,
     else the case is "unsupported (op X)";
  2. tostc model.onnx -o WORK/case/model.c --name m.  tostc compiles static
     shapes, and many node tests feed shape-determining values (Reshape's
     shape, Slice's starts, axes, ...) as graph inputs: when tostc says such
     an input "must be a constant", it is bound to the test's value with
     `--const-input NAME=input_K.pb` and the case is compiled again (the
     summary counts these cases; the value must be the same in every data set).
     Exit 1 on a model that
     uses element types outside f32/i64/i32/bool (or sequence/optional/map
     values) is "unsupported (type X)"; any other exit 1 is a rejection and
     a failure unless expected.txt lists the case; exit 2 or a signal always
     fails;
  3. model.h is parsed (the contract: m_NUM_INPUTS, m_INPUTi_NAME/TYPE/RANK/
     SHAPE/SIZE, m_WORKSPACE_SIZE, m_run_v) and checked against the .pb data;
  4. a small C harness (generated per case from the header) reads raw inputs,
     calls m_run_v with a 64-byte aligned workspace of m_WORKSPACE_SIZE bytes
     (NULL when 0), writes raw outputs; built with
     cc -std=c99 -O1 -Wall -Wextra -Werror model.c harness.c -lm;
  5. outputs are compared with numpy: floats rtol 1e-4, atol 1e-5, NaN == NaN;
     integers and bools exactly; shapes and element types must match.

expected.txt lists known failures, one `test_case_name  reason` a line (#
comments).  Exit status is 1 when a case of a supported op fails or is rejected
and is not listed, or when a listed case passes (so the list stays honest);
0 otherwise.  Output: one FAIL line per failing case, then
`conformance: P passed, F failed (K known failures ..., U unsupported)` and the
closing line `P passed, F failed, U unsupported`, where F counts only what fails
the run (unlisted failures, listed cases that pass).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import onnx
from onnx import numpy_helper

NAME = "m"  # --name of every compiled case
RTOL, ATOL = 1e-4, 1e-5

# ONNX TensorProto element types tostc supports, and their numpy dtypes.
SUPPORTED_ELEM = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
                  onnx.TensorProto.INT32: "int32", onnx.TensorProto.BOOL: "bool"}
# Header TYPE strings -> (numpy dtype, C type).
CTYPES = {"float32": "float", "int64": "int64_t", "int32": "int32_t", "bool": "uint8_t"}

TIMEOUT_TOSTC, TIMEOUT_CC, TIMEOUT_RUN = 120, 180, 60


# ---------------------------------------------------------------------------
# Model inspection
# ---------------------------------------------------------------------------

def graph_ops(g, ops):
    """All (domain, op_type) of graph g and its subgraphs."""
    for n in g.node:
        ops.add((n.domain, n.op_type))
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                graph_ops(a.g, ops)
            for sg in a.graphs:
                graph_ops(sg, ops)
    return ops


def type_problems(model):
    """Names of the unsupported value / element types a model uses (sorted)."""
    bad = set()
    elem_name = {v: k for k, v in onnx.TensorProto.DataType.items()}

    def elem(t):
        if t and t not in SUPPORTED_ELEM:
            bad.add(elem_name.get(t, str(t)))

    def vtype(tp):
        kind = tp.WhichOneof("value")
        if kind == "tensor_type":
            elem(tp.tensor_type.elem_type)
        elif kind is not None:
            bad.add(kind.replace("_type", ""))

    def walk(g):
        for v in list(g.input) + list(g.output) + list(g.value_info):
            vtype(v.type)
        for t in g.initializer:
            elem(t.data_type)
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    elem(a.t.data_type)
                if a.name == "to" and n.op_type == "Cast":
                    elem(a.i)
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
    walk(model.graph)
    return sorted(bad)


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


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

HARNESS = r"""/* harness.c -- generated by tests/conformance/run.py for one case.
 * Usage: harness DIR: reads DIR/in_<i>.bin, calls %(N)s_run_v, writes DIR/out_<i>.bin. */
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
	rc = %(N)s_run_v(in, out, ws);
	if (rc != 0) {
		fprintf(stderr, "harness: %(N)s_run_v returned %%d\n", rc);
		return 4;
	}
%(SAVES)s
	free(ws_raw);
	(void)in;
	(void)out;
	return 0;
}
"""


def make_harness(name, prefix, ins, outs):
    loads, saves = [], []
    for i, (_, ty, _) in enumerate(ins):
        loads.append("\tin[%d] = load(argv[1], %d, (size_t)%s_INPUT%d_SIZE * sizeof(%s));"
                     % (i, i, prefix, i, CTYPES[ty]))
    for i, (_, ty, _) in enumerate(outs):
        b = "(size_t)%s_OUTPUT%d_SIZE * sizeof(%s)" % (prefix, i, CTYPES[ty])
        loads.append("\tout[%d] = malloc(%s ? %s : 1);" % (i, b, b))
        loads.append("\tif (!out[%d])\n\t\treturn 3;" % i)
        # 0xff bytes: NaN for floats, -1 for ints: an output never written shows
        loads.append("\tmemset(out[%d], 0xff, %s);" % (i, b))
        saves.append("\tsave(argv[1], %d, out[%d], %s);" % (i, i, b))
    return HARNESS % dict(N=name, P=prefix, NIN=len(ins), NOUT=len(outs), NIN1=max(len(ins), 1),
                          NOUT1=max(len(outs), 1), LOADS="\n".join(loads),
                          SAVES="\n".join(saves))


# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, name, status, reason=""):
        self.name, self.status, self.reason = name, status, reason
        # status: "pass", "fail", "reject" (tostc exit 1), "unsupported"


def run(cmd, timeout, cwd=None):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd)
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


def compare(name, got, want):
    """None when equal, else a reason."""
    if got.shape != want.shape:
        return "output %s: shape %s, expected %s" % (name, got.shape, want.shape)
    if want.dtype.kind == "f":
        g64, w64 = got.astype(np.float64), want.astype(np.float64)
        ok = np.isclose(g64, w64, rtol=RTOL, atol=ATOL, equal_nan=True)
        if ok.all():
            return None
        bad = np.argwhere(~ok)
        i = tuple(bad[0])
        return ("output %s: %d of %d elements differ; first at %s: got %r, expected %r"
                % (name, len(bad), got.size, list(i), float(got[i]), float(want[i])))
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)
        i = tuple(bad[0]) if got.ndim else ()
        return ("output %s: %d of %d elements differ; first at %s: got %r, expected %r"
                % (name, len(bad), got.size, list(i), got[i].item(), want[i].item()))
    return None


def load_sets(case_dir, model):
    """[(set name, {input name: array}, [output arrays])] of a case."""
    sets = []
    for ds in sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set_")):
        dsdir = os.path.join(case_dir, ds)
        nin = len([f for f in os.listdir(dsdir) if f.startswith("input_")])
        nout = len([f for f in os.listdir(dsdir) if f.startswith("output_")])
        ins = {}
        for i in range(nin):
            ins[model.graph.input[i].name] = numpy_helper.to_array(
                onnx.load_tensor(os.path.join(dsdir, "input_%d.pb" % i)))
        outs = [numpy_helper.to_array(onnx.load_tensor(os.path.join(dsdir, "output_%d.pb" % i)))
                for i in range(nout)]
        sets.append((ds, ins, outs))
    return sets


MUST_BE_CONST = re.compile(r"\('([^']*)'\) must be a constant")


def run_case(case_dir, work, tostc, ops, cc, keep):
    name = os.path.basename(case_dir)
    model_path = os.path.join(case_dir, "model.onnx")
    try:
        model = onnx.load(model_path)
    except Exception as e:  # a broken data directory is a failure of the setup
        return Result(name, "fail", "cannot load model.onnx: %s" % e)
    used = graph_ops(model.graph, set())
    missing = sorted(op if dom in ("", "ai.onnx") else "%s:%s" % (dom, op)
                     for dom, op in used if dom not in ("", "ai.onnx") or op not in ops)
    if missing:
        return Result(name, "unsupported", "op " + ", ".join(missing))
    types = type_problems(model)
    try:
        sets = load_sets(case_dir, model)
    except Exception as e:  # noqa: BLE001 -- sequences, optionals, ...
        if types:
            return Result(name, "unsupported", "type %s" % ", ".join(types))
        return Result(name, "fail", "cannot read the .pb data: %s" % e)

    wd = os.path.join(work, name)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    out_c = os.path.join(wd, "model.c")
    # tostc compiles static shapes: a graph input that must be constant (a
    # Reshape shape, Slice starts, axes, ...) is bound to the test's value with
    # --const-input, as a user would for such a model, and the case compiled again.
    gin_all = [v.name for v in model.graph.input
               if v.name not in {t.name for t in model.graph.initializer}]
    frozen = []
    while True:
        cmd = [tostc, model_path, "-o", out_c, "--name", NAME]
        for k in frozen:
            cmd += ["--const-input", "%s=%s" % (k, os.path.join(
                case_dir, sets[0][0], "input_%d.pb" % list(sets[0][1]).index(k)))]
        rc, _, err = run(cmd, TIMEOUT_TOSTC)
        m = MUST_BE_CONST.search(err) if rc == 1 else None
        if not m or not sets:
            break
        if m.group(1) in gin_all:
            todo = [m.group(1)]
        else:  # computed from inputs: bind the small integer inputs it may come from
            todo = [k for k in gin_all if k in sets[0][1] and sets[0][1][k].dtype.kind in "iu"
                    and sets[0][1][k].size <= 8]
        todo = [k for k in todo if k not in frozen and k in sets[0][1]]
        if not todo or any(not np.array_equal(sets[0][1][k], ins.get(k, sets[0][1][k]))
                           for k in todo for _, ins, _ in sets):
            break
        frozen += todo
    note = " (constant inputs: %s)" % ", ".join(frozen) if frozen else ""
    if rc == 1:
        made = [f for f in ("model.c", "model.h") if os.path.exists(os.path.join(wd, f))]
        if made:
            return Result(name, "fail", "tostc exit 1 but left %s: %s"
                          % (", ".join(made), first_line(err)))
        if not keep:
            shutil.rmtree(wd, ignore_errors=True)
        if types:
            return Result(name, "unsupported", "type %s (%s)" % (", ".join(types), first_line(err)))
        return Result(name, "reject", "tostc: " + first_line(err) + note)
    if rc != 0:
        return Result(name, "fail", "tostc %s: %s%s" % (describe_rc(rc), first_line(err), note))

    try:
        defs = parse_header(os.path.join(wd, "model.h"))
        P = macro_prefix(defs, NAME)
        nin = int(defs["%s_NUM_INPUTS" % P])
        nout = int(defs["%s_NUM_OUTPUTS" % P])
        ins = header_io(defs, P, "INPUT", nin)
        outs = header_io(defs, P, "OUTPUT", nout)
        int(defs["%s_WORKSPACE_SIZE" % P])
    except (KeyError, ValueError, OSError) as e:
        return Result(name, "fail", "model.h breaks the contract: %s %s" % (type(e).__name__, e))

    # graph inputs/outputs in order; the header's order must be the graph's
    gin = [k for k in gin_all if k not in frozen]
    gout = [v.name for v in model.graph.output]
    if [x[0] for x in ins] != gin:
        return Result(name, "fail", "header inputs %s, model inputs %s" % ([x[0] for x in ins], gin))
    if [x[0] for x in outs] != gout:
        return Result(name, "fail", "header outputs %s, model outputs %s"
                      % ([x[0] for x in outs], gout))

    with open(os.path.join(wd, "harness.c"), "w") as f:
        f.write(make_harness(NAME, P, ins, outs))
    exe = os.path.join(wd, "harness")
    rc, out, err = run(cc + ["-I", wd, os.path.join(wd, "model.c"), os.path.join(wd, "harness.c"),
                             "-o", exe, "-lm"], TIMEOUT_CC)
    if rc != 0:
        return Result(name, "fail", "cc %s: %s%s" % (describe_rc(rc), cc_error(err or out), note))

    for ds, want_in, want_out in sets:
        pre = "%s: " % ds if len(sets) > 1 else ""
        if len(want_out) != len(outs):
            return Result(name, "fail", "%s%d outputs in the data, %d in the header"
                          % (pre, len(want_out), len(outs)))
        rundir = os.path.join(wd, ds)
        os.makedirs(rundir, exist_ok=True)
        for i, (nm, ty, shape) in enumerate(ins):
            arr = want_in.get(nm)
            if arr is None:
                return Result(name, "fail", "%sno data for input %s" % (pre, nm))
            if tuple(arr.shape) != shape:
                return Result(name, "fail", "%sinput %s: header shape %s, data %s"
                              % (pre, nm, shape, tuple(arr.shape)))
            if arr.dtype != np.dtype(ty):
                return Result(name, "fail", "%sinput %s: header type %s, data %s"
                              % (pre, nm, ty, arr.dtype))
            np.ascontiguousarray(arr).tofile(os.path.join(rundir, "in_%d.bin" % i))
        rc, _, err = run([exe, rundir], TIMEOUT_RUN)
        if rc != 0:
            return Result(name, "fail", "%sharness %s: %s%s" % (pre, describe_rc(rc), first_line(err),
                                                                note))
        for i, ((nm, ty, shape), want) in enumerate(zip(outs, want_out)):
            if np.dtype(ty) != want.dtype:
                return Result(name, "fail", "output %s: type %s, expected %s" % (nm, ty, want.dtype))
            got = np.fromfile(os.path.join(rundir, "out_%d.bin" % i), dtype=np.dtype(ty))
            if got.size != int(np.prod(shape, dtype=np.int64)):
                return Result(name, "fail", "output %s: %d elements written" % (nm, got.size))
            why = compare(nm, got.reshape(shape), want)
            if why:
                return Result(name, "fail", pre + why + note)
    if not keep:
        shutil.rmtree(wd, ignore_errors=True)
    r = Result(name, "pass")
    r.frozen = frozen
    return r


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def read_expected(path):
    exp = {}
    if not path:
        return exp
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            exp[parts[0]] = parts[1] if len(parts) > 1 else ""
    return exp


def main():
    ap = argparse.ArgumentParser(description="ONNX backend node tests through tostc")
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--data", required=True, help="gen_onnx_tests.py output (or its node/ dir)")
    ap.add_argument("--work", required=True, help="scratch directory for generated code")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default=None, help="regex on test case names")
    ap.add_argument("--expect", default=None, help="expected failures: `test_name  reason` lines")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default=os.environ.get("TOSTC_TEST_CFLAGS", ""),
                    help="extra flags for the C compiler, e.g. -pedantic (default: $TOSTC_TEST_CFLAGS)")
    ap.add_argument("--keep", action="store_true", help="keep the work dirs of passing cases")
    ap.add_argument("--write-expected", default=None, metavar="FILE",
                    help="write every failing or rejected case as `name  reason` to FILE"
                         " (a starting point for expected.txt: review it)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list unsupported cases")
    args = ap.parse_args()

    node = os.path.join(args.data, "node")
    dirs = [node, os.path.join(args.data, "derived")]
    if not os.path.isdir(node):
        node, dirs = args.data, [args.data]
    where = {}  # case name -> its directory
    for d in dirs:
        if os.path.isdir(d):
            for c in os.listdir(d):
                if os.path.isfile(os.path.join(d, c, "model.onnx")):
                    where[c] = os.path.join(d, c)
    cases = sorted(where)
    if args.filter:
        rx = re.compile(args.filter)
        cases = [c for c in cases if rx.search(c)]
    if not cases:
        print("no test cases under %s" % node, file=sys.stderr)
        return 1

    tostc = os.path.abspath(args.tostc)
    rc, out, err = run([tostc, "--list-ops"], 60)
    if rc != 0:
        print("%s --list-ops: %s: %s" % (tostc, describe_rc(rc), first_line(err)), file=sys.stderr)
        return 1
    ops = {l.split()[0] for l in out.splitlines() if l.strip()}
    expected = read_expected(args.expect)
    cc = [args.cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"] + args.cflags.split()
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)

    results = []
    lock = threading.Lock()

    def one(c):
        try:
            r = run_case(where[c], work, tostc, ops, cc, args.keep)
        except Exception as e:  # a runner bug must not hide the other cases
            r = Result(c, "fail", "runner: %s: %s" % (type(e).__name__, e))
        with lock:
            results.append(r)
            if r.status in ("fail", "reject"):
                tag = "XFAIL" if r.name in expected else "FAIL"
                print("%s %s: %s" % (tag, r.name, r.reason), flush=True)
            elif r.status == "pass" and r.name in expected:
                print("XPASS %s: passes but expected.txt says: %s"
                      % (r.name, expected[r.name]), flush=True)
            elif r.status == "unsupported" and args.verbose:
                print("UNSUPPORTED %s: %s" % (r.name, r.reason), flush=True)
        return r

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        list(ex.map(one, cases))

    if args.write_expected:
        with open(args.write_expected, "w") as f:
            for r in sorted(results, key=lambda r: r.name):
                if r.status in ("fail", "reject"):
                    f.write("%s  %s\n" % (r.name, re.sub(r"\s+", " ", r.reason.replace(
                        os.path.join(where[r.name], "model.onnx") + ": ", ""))))
    passed = [r for r in results if r.status == "pass"]
    failed = [r for r in results if r.status in ("fail", "reject")]
    unsup = [r for r in results if r.status == "unsupported"]
    unexpected = [r for r in failed if r.name not in expected]
    xpass = [r for r in passed if r.name in expected]
    n_op = sum(1 for r in unsup if r.reason.startswith("op "))
    print("unsupported: %d (op: %d, type: %d); expected failures: %d; unexpected failures: %d;"
          " unexpected passes: %d" % (len(unsup), n_op, len(unsup) - n_op,
                                      len(failed) - len(unexpected), len(unexpected), len(xpass)))
    if args.verbose:
        counts = {}
        for r in unsup:
            for op in r.reason.split(" ", 1)[1].split(", ") if r.reason.startswith("op ") else []:
                counts[op] = counts.get(op, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        print("unsupported ops by cases: " + ", ".join("%s %d" % kv for kv in top))
    n_frozen = sum(1 for r in passed if getattr(r, "frozen", None))
    if n_frozen:
        print("%d of the passing cases had shape-determining inputs bound to the test data"
              % n_frozen)
    # "failed" counts what breaks the run: failures not in expected.txt and
    # listed cases that now pass; known failures are reported beside it
    nbad = len(unexpected) + len(xpass)
    print("conformance: %d passed, %d failed (%d known failures in expected.txt, %d unsupported)"
          % (len(passed), nbad, len(failed) - len(unexpected), len(unsup)))
    print("%d passed, %d failed, %d unsupported" % (len(passed), nbad, len(unsup)))
    return 1 if unexpected or xpass else 0


if __name__ == "__main__":
    sys.exit(main())
