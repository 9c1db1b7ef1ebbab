#!/usr/bin/python3
"""
run.py -- the ONNX backend node tests through tostc, end to end.

    /usr/bin/python3 tests/conformance/run.py --tostc build/tostc --data DATA \
        --work WORK [--jobs 2] [--filter REGEX] [--expect tests/conformance/expected.txt] \
        [--passing tests/conformance/passing.txt] [--isa plain|native]

DATA is what scripts/gen_onnx_tests.py writes (DATA/node/test_*/ and the
derived cases, DATA/derived/test_*: float32 copies of float64-only cases,
opset 17 copies of opset 1 and 6 cases, Cast between tostc's types) or a
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
     values) is "unsupported (type X)" (int8, uint8, float16 and bfloat16,
     which tostc supports in Cast, data movement and the quantisation ops
     only, included); any other exit 1 is a refusal;
  3. model.h is parsed (the contract: m_NUM_INPUTS, m_INPUTi_NAME/TYPE/RANK/
     SHAPE/SIZE, m_WORKSPACE_SIZE, m_run_v) and checked against the .pb data;
  4. a small C harness (generated per case from the header) reads raw inputs,
     calls m_run_v with a 64-byte aligned workspace of m_WORKSPACE_SIZE bytes
     (NULL when 0), writes raw outputs; built with
     cc -std=c99 -O1 -Wall -Wextra -Werror $TOSTC_TEST_CFLAGS model.c harness.c -lm
     and -DTR_NO_SIMD (--isa plain: the runtime's plain C99 kernels) or
     -march=native (--isa native: this CPU's SIMD kernels; exit 77 when
     -march=native selects none);
  5. outputs are compared with numpy: floats rtol 1e-4, atol 1e-5, NaN == NaN;
     integers and bools exactly; shapes and element types must match.

A case that fails, fails as one of KINDS: refused (tostc exit 1), crash,
contract, build, wrong (output values, shape or type), setup.
expected.txt lists known failures, one `test_case_name  kind  reason` a line
(# comments).  passing.txt (the floor) lists every case that must pass.  Exit
status 1 when a case fails that expected.txt does not list or lists as another
kind, when a listed case passes (so the list stays honest), when a case of
passing.txt does not pass (unsupported now, or missing from the data), or when
a case passes that passing.txt does not list (raise the floor:
--write-passing); 0 otherwise.  Output: one line per such case (FAIL, XPASS,
LOST, NEW) and per known failure (XFAIL), then
`conformance: P passed, F failed (floor N in passing.txt; K known failures ...,
U unsupported; ISA)` (conformance_native with --isa native) and the closing
line `P passed, F failed, U unsupported`, where F counts only what fails the
run.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from harness import (PLAIN, build, describe_rc, first_line, isa_build, make_harness,  # noqa: E402
                     model_io, np_dtype, run)

NAME = "m"  # --name of every compiled case
RTOL, ATOL = 1e-4, 1e-5

# ONNX TensorProto element types tostc supports, and their numpy dtypes.
SUPPORTED_ELEM = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
                  onnx.TensorProto.INT32: "int32", onnx.TensorProto.BOOL: "bool"}
# Element types tostc stores, converts (Cast), moves and (de)quantises, but
# computes on in no other op: a refusal of a model that uses one is
# "unsupported (type X)", like a model with a type tostc lacks.
STORAGE_ELEM = {onnx.TensorProto.INT8: "int8", onnx.TensorProto.UINT8: "uint8",
                onnx.TensorProto.FLOAT16: "float16", onnx.TensorProto.BFLOAT16: "bfloat16"}

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


def type_problems(model, storage=False):
    """Names of the unsupported value / element types a model uses (sorted);
    with storage, also those of STORAGE_ELEM."""
    bad = set()
    elem_name = {v: k for k, v in onnx.TensorProto.DataType.items()}

    def elem(t):
        if t and t not in SUPPORTED_ELEM and (storage or t not in STORAGE_ELEM):
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


# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------

# How a case fails: expected.txt names one of these for each known failure,
# and a listed case that fails in another way fails the run.
KINDS = {
    "refused": "tostc exits 1 with a message",
    "crash": "tostc exits 2 or dies, or the compiled harness does",
    "contract": "tostc exit 1 leaving files, or model.h disagrees with the model or the data",
    "build": "the generated C does not compile",
    "wrong": "an output's values, shape or type differ from the reference",
    "setup": "the case's files cannot be read, or the runner itself failed",
}


class Result:
    def __init__(self, name, status, reason=""):
        # status: "pass", "unsupported", or how it failed (a key of KINDS)
        self.name, self.status, self.reason = name, status, reason

    @property
    def failed(self):
        return self.status in KINDS


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
# what the LLVM backend refuses for now (emit_llvm.c, driver.c)
LLVM_UNCOVERED = re.compile(r"the LLVM backend does not")


def run_case(case_dir, work, tostc, ops, cc, keep, llvm=None):
    """One case; LLVM: None for the C backend, else the LLVM backend's tostc
    options (model.o instead of model.c; what it does not cover yet is
    unsupported, "llvm: ...")."""
    name = os.path.basename(case_dir)
    model_path = os.path.join(case_dir, "model.onnx")
    try:
        model = onnx.load(model_path)
    except Exception as e:  # a broken data directory is a failure of the setup
        return Result(name, "setup", "cannot load model.onnx: %s" % e)
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
        return Result(name, "setup", "cannot read the .pb data: %s" % e)

    wd = os.path.join(work, name)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    out_c = os.path.join(wd, "model.c" if llvm is None else "model.o")
    # tostc compiles static shapes: a graph input that must be constant (a
    # Reshape shape, Slice starts, axes, ...) is bound to the test's value with
    # --const-input, as a user would for such a model, and the case compiled again.
    gin_all = [v.name for v in model.graph.input
               if v.name not in {t.name for t in model.graph.initializer}]
    frozen = []
    while True:
        cmd = [tostc, model_path, "-o", out_c, "--name", NAME] + (llvm or [])
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
        made = [f for f in ("model.c", "model.o", "model.h") if os.path.exists(os.path.join(wd, f))]
        if made:
            return Result(name, "contract", "tostc exit 1 but left %s: %s"
                          % (", ".join(made), first_line(err)))
        if not keep:
            shutil.rmtree(wd, ignore_errors=True)
        types = type_problems(model, storage=True)
        if types:
            return Result(name, "unsupported", "type %s (%s)" % (", ".join(types), first_line(err)))
        if llvm is not None and LLVM_UNCOVERED.search(err):
            return Result(name, "unsupported", "llvm: " + first_line(err))
        return Result(name, "refused", "tostc: " + first_line(err) + note)
    if rc != 0:
        return Result(name, "crash", "tostc %s: %s%s" % (describe_rc(rc), first_line(err), note))

    try:
        P, ins, outs = model_io(wd, NAME)
    except (KeyError, ValueError, OSError) as e:
        return Result(name, "contract", "model.h breaks the contract: %s %s" % (type(e).__name__, e))

    # graph inputs/outputs in order; the header's order must be the graph's
    gin = [k for k in gin_all if k not in frozen]
    gout = [v.name for v in model.graph.output]
    if [x[0] for x in ins] != gin:
        return Result(name, "contract", "header inputs %s, model inputs %s" % ([x[0] for x in ins], gin))
    if [x[0] for x in outs] != gout:
        return Result(name, "contract", "header outputs %s, model outputs %s"
                      % ([x[0] for x in outs], gout))

    with open(os.path.join(wd, "harness.c"), "w") as f:
        f.write(make_harness(NAME, P, ins, outs))
    exe = os.path.join(wd, "harness")
    if llvm is None:
        why = build(cc, wd, os.path.join(wd, "harness.c"), exe, TIMEOUT_CC)
    else:   # the harness and model.o
        rc, out, err = run(cc + ["-I", wd, os.path.join(wd, "harness.c"), out_c, "-o", exe, "-lm"],
                           TIMEOUT_CC)
        why = "cc %s: %s" % (describe_rc(rc), first_line(err or out)) if rc != 0 else None
    if why:
        return Result(name, "build", why + note)

    for ds, want_in, want_out in sets:
        pre = "%s: " % ds if len(sets) > 1 else ""
        if len(want_out) != len(outs):
            return Result(name, "contract", "%s%d outputs in the data, %d in the header"
                          % (pre, len(want_out), len(outs)))
        rundir = os.path.join(wd, ds)
        os.makedirs(rundir, exist_ok=True)
        for i, (nm, ty, shape) in enumerate(ins):
            arr = want_in.get(nm)
            if arr is None:
                return Result(name, "contract", "%sno data for input %s" % (pre, nm))
            if tuple(arr.shape) != shape:
                return Result(name, "contract", "%sinput %s: header shape %s, data %s"
                              % (pre, nm, shape, tuple(arr.shape)))
            if arr.dtype != np_dtype(ty):
                return Result(name, "contract", "%sinput %s: header type %s, data %s"
                              % (pre, nm, ty, arr.dtype))
            np.ascontiguousarray(arr).tofile(os.path.join(rundir, "in_%d.bin" % i))
        rc, _, err = run([exe, rundir], TIMEOUT_RUN)
        if rc != 0:
            return Result(name, "crash", "%sharness %s: %s%s" % (pre, describe_rc(rc), first_line(err),
                                                                note))
        for i, ((nm, ty, shape), want) in enumerate(zip(outs, want_out)):
            if np_dtype(ty) != want.dtype:
                return Result(name, "wrong", "output %s: type %s, expected %s" % (nm, ty, want.dtype))
            got = np.fromfile(os.path.join(rundir, "out_%d.bin" % i), dtype=np_dtype(ty))
            if got.size != int(np.prod(shape, dtype=np.int64)):
                return Result(name, "wrong", "output %s: %d elements written" % (nm, got.size))
            why = compare(nm, got.reshape(shape), want)
            if why:
                return Result(name, "wrong", pre + why + note)
    if not keep:
        shutil.rmtree(wd, ignore_errors=True)
    r = Result(name, "pass")
    r.frozen = frozen
    return r


# ---------------------------------------------------------------------------
# The lists: known failures (expected.txt) and the floor (passing.txt)
# ---------------------------------------------------------------------------

def list_lines(path):
    """(line number, text) of the lines of PATH that are not blank or # comments."""
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                yield ln, line


def read_expected(path):
    """{case: (kind, reason)} of expected.txt's `name  kind  reason` lines;
    ValueError naming the line when a kind is not one of KINDS."""
    exp = {}
    for ln, line in list_lines(path):
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in KINDS:
            raise ValueError("%s:%d: not `name  kind  reason` with a kind of %s: %s"
                             % (path, ln, ", ".join(KINDS), line))
        exp[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return exp


def read_passing(path):
    """The case names of passing.txt (the floor), one a line."""
    names = set()
    for ln, line in list_lines(path):
        if len(line.split()) != 1:
            raise ValueError("%s:%d: not one case name: %s" % (path, ln, line))
        names.add(line)
    return names


PASSING_HEADER = """\
# The conformance floor: every ONNX node test case that passes, one a line.
# tests/conformance/run.py --passing fails the run when a case listed here
# fails or is unsupported, and when a case passes that is not listed.  A change
# that adds an op (or makes more cases pass) adds its cases here:
#   run.py ... --write-passing tests/conformance/passing.txt   (see tests/README.md)
"""


def write_passing(path, results):
    """Rewrite the floor PATH: the cases of RESULTS that passed, plus the
    cases PATH lists that this run did not look at (--filter)."""
    seen = {r.name for r in results}
    keep = read_passing(path) - seen if os.path.exists(path) else set()
    names = sorted(keep | {r.name for r in results if r.status == "pass"})
    with open(path, "w") as f:
        f.write(PASSING_HEADER + "".join(n + "\n" for n in names))
    return len(names)


def verdict(r, expected, floor):
    """(tag, message, bad) of one result against expected.txt (EXPECTED) and
    the floor (FLOOR, None when not checked); BAD: it fails the run.  Tags:
    FAIL (a failure not listed, or listed as another kind), XFAIL (listed),
    XPASS (listed but passes), NEW (passes but not in the floor), LOST (in the
    floor but unsupported now), UNSUPPORTED, or None for a pass."""
    if r.failed:
        if r.name not in expected:
            return "FAIL", "[%s] %s" % (r.status, r.reason), True
        kind, why = expected[r.name]
        if kind != r.status:
            return "FAIL", ("[%s] %s; expected.txt lists it as [%s]: %s"
                            % (r.status, r.reason, kind, why)), True
        return "XFAIL", "[%s] %s" % (r.status, r.reason), False
    if r.status == "pass":
        if r.name in expected:
            return "XPASS", "passes but expected.txt says: [%s] %s" % expected[r.name], True
        if floor is not None and r.name not in floor:
            return "NEW", "passes but passing.txt does not list it: raise the floor", True
        return None, "", False
    if floor is not None and r.name in floor and not r.reason.startswith("llvm: "):
        return "LOST", "passed before (passing.txt), now unsupported: %s" % r.reason, True
    return "UNSUPPORTED", r.reason, False


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="ONNX backend node tests through tostc")
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--data", required=True, help="gen_onnx_tests.py output (or its node/ dir)")
    ap.add_argument("--work", required=True, help="scratch directory for generated code")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default=None, help="regex on test case names")
    ap.add_argument("--expect", default=None,
                    help="known failures: `test_name  kind  reason` lines (kinds: %s)" % ", ".join(KINDS))
    ap.add_argument("--passing", default=None, metavar="FILE",
                    help="the floor: the cases that must pass, one a line (passing.txt)")
    ap.add_argument("--isa", choices=("plain", "native"), default="plain",
                    help="plain: the generated C's plain C99 kernels (-DTR_NO_SIMD); native:"
                         " -march=native, this CPU's SIMD kernels (exit 77 when it has none)")
    ap.add_argument("--backend", choices=("c", "llvm"), default="c",
                    help="c: tostc -o model.c, built with the harness; llvm: tostc -o model.o"
                         " (--cpu x86-64 with --isa plain, the host's CPU with native), linked"
                         " with it; what the LLVM backend does not cover yet is unsupported"
                         " (exit 77 when tostc has no LLVM backend)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default=os.environ.get("TOSTC_TEST_CFLAGS", ""),
                    help="extra flags for the C compiler, e.g. -pedantic (default: $TOSTC_TEST_CFLAGS)")
    ap.add_argument("--keep", action="store_true", help="keep the work dirs of passing cases")
    ap.add_argument("--write-expected", default=None, metavar="FILE",
                    help="write every failing case as `name  kind  reason` to FILE"
                         " (a starting point for expected.txt: review it)")
    ap.add_argument("--write-passing", default=None, metavar="FILE",
                    help="rewrite the floor FILE: the cases that pass in this run (and those"
                         " FILE lists that --filter left out)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list unsupported cases")
    args = ap.parse_args()
    title = "conformance" if args.isa == "plain" else "conformance_native"
    llvm = None
    if args.backend == "llvm":
        title += "_llvm"
        llvm = ["--cpu", "x86-64"] if args.isa == "plain" else []
        _, version, _ = run([os.path.abspath(args.tostc), "--version"], 60)
        if "llvm (" not in version:
            print("%s: SKIPPED, this tostc has no LLVM backend" % title)
            return 77

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

    try:
        expected = read_expected(args.expect) if args.expect else {}
        floor = read_passing(args.passing) if args.passing else None
    except (OSError, ValueError) as e:
        print("%s: %s" % (title, e), file=sys.stderr)
        return 1
    both = sorted(set(expected) & (floor or set()))
    if both:
        print("%s: listed as passing and as known failures: %s" % (title, ", ".join(both)),
              file=sys.stderr)
        return 1
    if floor is not None and args.filter:
        floor = {c for c in floor if rx.search(c)}
    cc, isa = isa_build([args.cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]
                        + args.cflags.split(), args.isa)
    if args.isa == "native" and isa == PLAIN:
        print("%s: SKIPPED, -march=native selects no SIMD kernel on this CPU" % title)
        return 77

    tostc = os.path.abspath(args.tostc)
    rc, out, err = run([tostc, "--list-ops"], 60)
    if rc != 0:
        print("%s --list-ops: %s: %s" % (tostc, describe_rc(rc), first_line(err)), file=sys.stderr)
        return 1
    ops = {l.split()[0] for l in out.splitlines() if l.strip()}
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)

    results = []
    bad = []  # (tag, name) of what fails the run
    lock = threading.Lock()

    def one(c):
        try:
            r = run_case(where[c], work, tostc, ops, cc, args.keep, llvm)
        except Exception as e:  # a runner bug must not hide the other cases
            r = Result(c, "setup", "runner: %s: %s" % (type(e).__name__, e))
        tag, why, fails = verdict(r, expected, floor)
        with lock:
            results.append(r)
            if fails:
                bad.append((tag, c))
            if tag and (tag != "UNSUPPORTED" or args.verbose):
                print("%s %s: %s" % (tag, r.name, why), flush=True)
        return r

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        list(ex.map(one, cases))
    for c in sorted((floor or set()) - set(where)):
        print("LOST %s: passed before (passing.txt), not in the data now" % c)
        bad.append(("LOST", c))

    if args.write_expected:
        with open(args.write_expected, "w") as f:
            for r in sorted(results, key=lambda r: r.name):
                if r.failed:
                    f.write("%s  %s  %s\n" % (r.name, r.status, re.sub(r"\s+", " ", r.reason.replace(
                        os.path.join(where[r.name], "model.onnx") + ": ", ""))))
    if args.write_passing:
        print("%s: %d cases" % (args.write_passing, write_passing(args.write_passing, results)))
    passed = [r for r in results if r.status == "pass"]
    failed = [r for r in results if r.failed]
    unsup = [r for r in results if r.status == "unsupported"]
    n_op = sum(1 for r in unsup if r.reason.startswith("op "))
    tags = [t for t, _ in bad]
    print("unsupported: %d (op: %d, type: %d); failures: %d; run-failing: %d unexpected or of"
          " another kind, %d XPASS, %d NEW, %d LOST"
          % (len(unsup), n_op, len(unsup) - n_op, len(failed), tags.count("FAIL"),
             tags.count("XPASS"), tags.count("NEW"), tags.count("LOST")))
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
    # "failed" counts what breaks the run (see verdict); known failures of the
    # listed kind are reported beside it
    floor_note = "floor %d in passing.txt; " % len(floor) if floor is not None else ""
    print("%s: %d passed, %d failed (%s%d known failures in expected.txt, %d unsupported; %s)"
          % (title, len(passed), len(bad), floor_note, len(failed) - tags.count("FAIL"),
             len(unsup), "native: " + isa if args.isa == "native" else isa))
    print("%d passed, %d failed, %d unsupported" % (len(passed), len(bad), len(unsup)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
