#!/usr/bin/python3
"""
run_cli.py -- tostc's command-line error behaviour.

    /usr/bin/python3 tests/cli/run_cli.py --tostc build/tostc --work DIR

Every bad invocation must exit with status 1 (never 2, never a signal), print
a short message on stderr that names the problem (checked with a regex per
case), and leave no output file behind.  Each case runs in its own empty
directory and the directory is compared before and after.  Two sanity cases
(a valid model; the symbolic model with --dim) must succeed, so the error
cases are known to fail for their own reason and not for a general one.

The models are built with onnx.helper (no torch needed); random inputs are
seeded.  Last line: `cli: N passed, N failed`.
"""
import argparse
import json
import os
import random
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import harness  # noqa: E402

OPSET = 13


def model_bytes(nodes, inputs, outputs, inits=(), opset=OPSET, extra_opsets=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name="tostc-cli-test")
    m.ir_version = 8
    return m.SerializeToString()


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def valid_model():
    """y = relu(x @ W + b): big enough that truncations cut the weights."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((8,)).astype(np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"], name="mm"),
             helper.make_node("Add", ["xw", "b"], ["xwb"], name="add"),
             helper.make_node("Relu", ["xwb"], ["y"], name="relu")]
    return model_bytes(nodes, [f32("x", [2, 16])], [f32("y", [2, 8])], [w, b])


def symbolic_model():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return model_bytes(nodes, [f32("x", ["batch_sz", 3])], [f32("y", ["batch_sz", 3])])


def det_model():
    nodes = [helper.make_node("Det", ["x"], ["y"], name="det")]
    return model_bytes(nodes, [f32("x", [2, 3, 3])], [f32("y", [2])])


def custom_op_model():
    nodes = [helper.make_node("FrobOp", ["x"], ["y"], name="frob", domain="com.example")]
    return model_bytes(nodes, [f32("x", [2, 3])], [f32("y", [2, 3])],
                       extra_opsets=[("com.example", 1)])


def mismatch_model():
    nodes = [helper.make_node("Add", ["a", "b"], ["y"], name="bad_add")]
    return model_bytes(nodes, [f32("a", [2, 3]), f32("b", [4, 5])], [f32("y", [2, 3])])


def expect_re(rx):
    def check(out):
        return None if re.search(rx, out, re.M) else "stdout does not match /%s/: %r" % (rx, out[:200])
    return check


def check_list_ops(out):
    ops = [l.split()[0] for l in out.splitlines() if l.strip()]
    for op in ("MatMul", "Conv", "LayerNormalization", "CumSum", "Gather", "Softmax"):
        if op not in ops:
            return "--list-ops does not list %s" % op
    for op in ("TSSA", "CausalTSSA"):
        if op in ops:
            return "--list-ops lists the internal op %s" % op
    if len(set(ops)) != len(ops):
        return "--list-ops lists an op twice"
    return None


def check_report_json(out):
    try:
        r = json.loads(out)
    except ValueError as e:
        return "--report=json is not JSON (%s): %r" % (e, out[:200])
    for k in ("nodes", "flops", "weight_bytes", "arena_bytes"):
        if k not in r:
            return "--report=json lacks %r" % k
    # y = relu(x @ W + b), x (2, 16), W (16, 8): at least the 2*2*16*8 FLOPs of the product
    if not isinstance(r["flops"], int) or r["flops"] < 2 * 2 * 16 * 8:
        return "--report=json flops %r < %d" % (r["flops"], 2 * 2 * 16 * 8)
    if r["weight_bytes"] < 4 * (16 * 8 + 8):
        return "--report=json weight_bytes %r < %d" % (r["weight_bytes"], 4 * (16 * 8 + 8))
    return None


def x_pb(shape):
    """A serialized float TensorProto named x."""
    return numpy_helper.from_array(np.ones(shape, np.float32), "x").SerializeToString()


def truncations(data):
    """Cut points inside the model whose prefix protobuf itself refuses."""
    cuts = sorted({1, 7, len(data) // 10, len(data) // 4, len(data) // 2,
                   3 * len(data) // 4, len(data) - 9, len(data) - 1})
    out = []
    for n in cuts:
        try:
            onnx.load_model_from_string(data[:n])
        except Exception:  # noqa: BLE001 -- any parse error: a truly broken file
            out.append(n)
    return out


class Case:
    """rc: the exit status required (or a tuple of those allowed); msg: regex
    (or list of regexes) the message must match."""

    def __init__(self, name, files, args, rc=1, msg=None, max_lines=3, check=None, outputs=True):
        self.name, self.files, self.args = name, files, args
        self.check = check        # exit 0: check(stdout) -> None or what is wrong
        self.outputs = outputs    # exit 0: True: out.c and out.h must exist; a list: those
        self.rc = rc if isinstance(rc, tuple) else (rc,)
        self.msg = [msg] if isinstance(msg, str) else (msg or [])
        self.max_lines = max_lines


def cases():
    good = valid_model()
    sym = symbolic_model()
    cs = [
        # informational options and reports: exit 0, stdout checked
        Case("version", {}, ["--version"], rc=0, outputs=False,
             check=expect_re(r"^tostc \d+\.\d+")),
        Case("help", {}, ["--help"], rc=0, outputs=False, check=expect_re(r"(?i)usage")),
        Case("list_ops", {}, ["--list-ops"], rc=0, outputs=False, check=check_list_ops),
        Case("report_json", {"m.onnx": good}, ["m.onnx", "--report=json"], rc=0, outputs=False,
             check=check_report_json),
        Case("report_text", {"m.onnx": good}, ["m.onnx", "--report"], rc=0, outputs=False,
             check=expect_re(r"(?i)flops")),
        Case("report_json_with_output", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--report=json"],
             rc=0, check=check_report_json),
        # sanity: these must work
        Case("ok_valid_model", {"m.onnx": good}, ["m.onnx", "-o", "out.c"], rc=0),
        Case("ok_symbolic_with_dim", {"m.onnx": sym}, ["m.onnx", "-o", "out.c", "--dim", "batch_sz=4"],
             rc=0),
        # files
        Case("missing_file", {}, ["nosuch.onnx", "-o", "out.c"], msg=r"nosuch\.onnx"),
        Case("empty_file", {"empty.onnx": b""}, ["empty.onnx", "-o", "out.c"], msg=r"empty\.onnx"),
        Case("directory_as_model", {"dir.onnx/": None}, ["dir.onnx", "-o", "out.c"], msg=r"dir\.onnx"),
        Case("output_dir_missing", {"m.onnx": good}, ["m.onnx", "-o", "no/such/dir/out.c"],
             msg=r"no/such/dir"),
        # unsupported, invalid models
        Case("unsupported_op_det", {"m.onnx": det_model()}, ["m.onnx", "-o", "out.c"],
             msg=r"Det"),
        Case("unsupported_custom_domain", {"m.onnx": custom_op_model()}, ["m.onnx", "-o", "out.c"],
             msg=r"FrobOp"),
        Case("shape_mismatch_add", {"m.onnx": mismatch_model()}, ["m.onnx", "-o", "out.c"],
             msg=[r"bad_add", r"2\D{1,4}3|4\D{1,4}5|broadcast"]),
        Case("unbound_symbolic_dim", {"m.onnx": sym}, ["m.onnx", "-o", "out.c"], msg=r"batch_sz"),
        # --dim syntax and values
        Case("dim_zero", {"m.onnx": sym}, ["m.onnx", "-o", "out.c", "--dim", "batch_sz=0"],
             msg=r"batch_sz|--dim"),
        Case("dim_negative", {"m.onnx": sym}, ["m.onnx", "-o", "out.c", "--dim", "batch_sz=-3"],
             msg=r"batch_sz|--dim"),
    ]
    cs += [
        Case("name_not_identifier", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--name", "1abc"],
             msg=r"1abc"),
        Case("name_with_dash", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--name", "a-b"],
             msg=r"a-b"),
        Case("name_missing_value", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--name"],
             msg=r"--name", max_lines=40),
        Case("output_not_dot_c", {"m.onnx": good}, ["m.onnx", "-o", "out.h"], msg=r"out\.h"),
        Case("output_is_dir", {"m.onnx": good, "sub/": None}, ["m.onnx", "-o", "sub"], msg=r"sub"),
        Case("two_models", {"m.onnx": good, "s.onnx": sym}, ["m.onnx", "s.onnx", "-o", "out.c"],
             msg=r"s\.onnx"),
        Case("dump_ir_no_such_pass", {"m.onnx": good},
             ["m.onnx", "-o", "out.c", "--dump-ir=nosuch"], msg=r"nosuch"),
        Case("report_bad_format", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--report=xml"],
             msg=r"xml"),
        Case("dim_not_in_model", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--dim", "nosuch=3"],
             msg=r"nosuch"),
        Case("dim_bound_twice", {"m.onnx": sym},
             ["m.onnx", "-o", "out.c", "--dim", "batch_sz=3", "--dim", "batch_sz=4"],
             msg=r"batch_sz"),
        Case("const_input_malformed", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--const-input", "x"],
             msg=r"--const-input"),
        Case("const_input_missing_file", {"m.onnx": good},
             ["m.onnx", "-o", "out.c", "--const-input", "x=missing.pb"], msg=r"missing\.pb"),
        Case("const_input_not_a_tensor", {"m.onnx": good, "bad.pb": b"garbage"},
             ["m.onnx", "-o", "out.c", "--const-input", "x=bad.pb"], msg=r"bad\.pb"),
        Case("const_input_no_such_input", {"m.onnx": good, "x.pb": x_pb((2, 16))},
             ["m.onnx", "-o", "out.c", "--const-input", "nosuch=x.pb"], msg=r"nosuch"),
        Case("const_input_wrong_shape", {"m.onnx": good, "x.pb": x_pb((3, 3))},
             ["m.onnx", "-o", "out.c", "--const-input", "x=x.pb"],
             msg=[r"--const-input x|'x'", r"3, ?3"]),  # names the input and its wrong shape
        # --weights and --depfile
        Case("ok_weights_blob", {"m.onnx": good},
             ["m.onnx", "-o", "out.c", "--weights=blob", "--depfile", "out.d"], rc=0),
        Case("ok_weights_extern", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--weights", "extern"],
             rc=0),
        Case("weights_bad_mode", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--weights=zip"],
             msg=r"--weights=zip"),
        Case("weights_missing_value", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--weights"],
             msg=r"--weights"),
        Case("depfile_without_output", {"m.onnx": good}, ["m.onnx", "--report", "--depfile", "d"],
             msg=r"--depfile"),
        Case("depfile_missing_value", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--depfile"],
             msg=r"--depfile"),
        # a failed compile writes none of its four files
        Case("failure_blob_writes_nothing", {"m.onnx": det_model()},
             ["m.onnx", "-o", "out.c", "--weights=blob", "--depfile", "out.d"], msg=r"Det"),
        # a failed compile must leave earlier outputs alone (compared byte for byte)
        Case("failure_keeps_old_outputs", {"m.onnx": det_model(), "out.c": b"/* old */\n",
                                           "out.h": b"/* old */\n"},
             ["m.onnx", "-o", "out.c"], msg=r"Det"),
    ]
    for i, bad in enumerate(["batch_sz", "batch_sz=", "=4", "batch_sz=abc", "batch_sz=4x",
                             "batch_sz=99999999999999999999999"]):
        cs.append(Case("dim_malformed_%d" % i, {"m.onnx": sym},
                       ["m.onnx", "-o", "out.c", "--dim", bad], msg=r"--dim|batch_sz|" + re.escape(bad)))
    cs.append(Case("dim_missing_value", {"m.onnx": sym}, ["m.onnx", "-o", "out.c", "--dim"],
                   msg=r"--dim", max_lines=40))
    cs.append(Case("unknown_option", {"m.onnx": good}, ["m.onnx", "-o", "out.c", "--frobnicate"],
                   msg=r"--frobnicate", max_lines=40))
    cs.append(Case("no_output_option", {"m.onnx": good}, ["m.onnx"], msg=r"-o|output", max_lines=40))
    for n in truncations(good):
        cs.append(Case("truncated_%d_of_%d" % (n, len(good)), {"cut.onnx": good[:n]},
                       ["cut.onnx", "-o", "out.c"], msg=r"cut\.onnx"))
    rng = random.Random(20261128)
    for i, size in enumerate([1, 16, 100, 1000, 5000, 40000]):
        data = bytes(rng.getrandbits(8) for _ in range(size))
        cs.append(Case("random_bytes_%d" % size, {"rnd.onnx": data}, ["rnd.onnx", "-o", "out.c"],
                       msg=r"rnd\.onnx"))
    # a valid model with a few bytes changed: often still parses, so these reach
    # the front end's validation; a mutant may even be a valid model (exit 0)
    for i in range(24):
        data = bytearray(good)
        for _ in range(1 + i % 4):
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        cs.append(Case("mutated_%d" % i, {"mut.onnx": bytes(data)}, ["mut.onnx", "-o", "out.c"],
                       rc=(0, 1), msg=r"mut\.onnx"))
    return cs


def if_model():
    """y = x + 1 when c else x - 1, c a graph input: an If decided at run time."""
    one = numpy_helper.from_array(np.ones((2, 3), np.float32), "one")
    then_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["t"])], "then", [],
                               [f32("t", [2, 3])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "one"], ["e"])], "else", [],
                               [f32("e", [2, 3])])
    nodes = [helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then_g,
                              else_branch=else_g)]
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    return model_bytes(nodes, [f32("x", [2, 3]), c], [f32("y", [2, 3])], [one])


def loop_model():
    """y = x + 1, n times, n a graph input: a Loop run as a loop."""
    one = numpy_helper.from_array(np.ones((2, 3), np.float32), "one")
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("Add", ["x_in", "one"], ["x_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []), f32("x_in", [2, 3])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []), f32("x_out", [2, 3])])
    nodes = [helper.make_node("Loop", ["n", "", "x"], ["y"], name="repeat", body=body)]
    n = helper.make_tensor_value_info("n", TensorProto.INT64, [])
    return model_bytes(nodes, [f32("x", [2, 3]), n], [f32("y", [2, 3])], [one])


def llvm_cases(tostc, good):
    """-o OUT.o and the LLVM backend's options: the clear refusal of a tostc
    built without it, or its errors (unknown target or CPU, a target without
    kernels yet, a graph feature not covered yet: a Loop run as a loop) when it
    is built in."""
    _, out, _ = harness.run([tostc, "--version"])
    opts = [("cpu_with_c_output", ["m.onnx", "-o", "out.c", "--cpu", "x86-64"], r"--cpu.*LLVM"),
            ("target_with_c_output", ["m.onnx", "-o", "out.c", "--target", "x86_64-linux-gnu"],
             r"--target.*LLVM"),
            ("emit_unknown", ["m.onnx", "-o", "out.o", "--emit=exe"], r"--emit=exe")]
    cs = [Case("llvm_" + n, {"m.onnx": good}, a, msg=m) for n, a, m in opts]
    if "llvm (" not in out:
        for suffix in ("o", "s", "ll", "bc"):
            cs.append(Case("llvm_not_built_" + suffix, {"m.onnx": good},
                           ["m.onnx", "-o", "out." + suffix],
                           msg=[r"without the LLVM backend", r"TOSTC_LLVM"]))
        return cs
    errs = [("unknown_target", ["--target", "nosuch-unknown-none"], r"nosuch-unknown-none"),
            ("unknown_cpu", ["--cpu", "nosuchcpu"], r"nosuchcpu"),
            ("target_not_covered", ["--target", "riscv64-linux-gnu"], r"riscv64.*x86-64, aarch64"),
            ("cortex_m_without_fpu", ["--target", "thumbv7em-none-eabihf", "--cpu", "cortex-m3"],
             r"cortex-m3.*FPU"),
            ("native_cpu_other_target", ["--target", "aarch64-linux-gnu", "--cpu", "native"],
             r"--cpu native"),
            ("cpu_without_sse", ["--cpu", "i386"], r"i386")]
    for n, a, m in errs:
        cs.append(Case("llvm_" + n, {"m.onnx": good}, ["m.onnx", "-o", "out.o"] + a, msg=m))
    cs.append(Case("llvm_loop_at_run_time", {"m.onnx": loop_model()}, ["m.onnx", "-o", "out.o"],
                   msg=[r"repeat", r"Loop", r"LLVM backend"]))
    cs.append(Case("llvm_if_at_run_time", {"m.onnx": if_model()}, ["m.onnx", "-o", "out.o"],
                   rc=0, outputs=["out.o", "out.h"]))
    cs.append(Case("llvm_header_is_output", {"m.onnx": good},
                   ["m.onnx", "-o", "out.h", "--emit=obj"], msg=r"out\.h"))
    for suffix in ("o", "s", "ll", "bc"):
        cs.append(Case("llvm_ok_" + suffix, {"m.onnx": good}, ["m.onnx", "-o", "out." + suffix],
                       rc=0, outputs=["out." + suffix, "out.h"]))
    return cs


def dump_ir_cases(tostc, good):
    """--dump-ir=PASS for every pass `--dump-ir=nosuch` names."""
    _, _, err = harness.run([tostc, "-", "--dump-ir=nosuch"], 60)
    m = re.search(r"passes: ([^)]*)\)", err)
    if not m:
        return [Case("dump_ir_pass_list", {}, ["--dump-ir=nosuch"], msg=r"passes: ")]
    return [Case("dump_ir_%s" % ps.strip(), {"m.onnx": good}, ["m.onnx", "--dump-ir=%s" % ps.strip()],
                 rc=0, outputs=False, check=expect_re(r"MatMul|Gemm"))
            for ps in m.group(1).split(",")]


def snapshot(d):
    """{relative path: file contents (None for directories)} under d."""
    res = {}
    for root, dirs, files in os.walk(d):
        for f in dirs:
            res[os.path.relpath(os.path.join(root, f), d)] = None
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                res[os.path.relpath(os.path.join(root, f), d)] = fh.read()
    return res


def run_case(c, tostc, work, log=None):
    wd = os.path.join(work, c.name)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    for fn, data in c.files.items():
        if fn.endswith("/"):
            os.makedirs(os.path.join(wd, fn))
            continue
        with open(os.path.join(wd, fn), "wb") as f:
            f.write(data)
    before = snapshot(wd)
    rc, out, err = harness.run([tostc] + c.args, 60, cwd=wd)
    if rc is None:
        return "timed out"
    err = err.strip()
    if log is not None:
        log.append(err.splitlines()[0] if err else "")
    after = snapshot(wd)
    if rc not in c.rc:
        return "%s (expected exit %s); stderr: %s" % (harness.describe_rc(rc),
                                                   " or ".join(map(str, c.rc)),
                                                   err.splitlines()[0] if err else "(empty)")
    if rc == 0:
        if c.outputs is True and not {"out.c", "out.h"} <= set(after):
            return "exit 0 but out.c / out.h missing (have %s)" % sorted(after)
        if c.outputs is not True and c.outputs and not set(c.outputs) <= set(after):
            return "exit 0 but %s missing (have %s)" % (sorted(c.outputs), sorted(after))
        if not c.outputs and set(after) != set(before):
            return "wrote files: %s" % sorted(set(after) - set(before))
        if c.check:
            return c.check(out)
        return None
    if set(after) != set(before):
        return "left files behind: %s" % sorted(set(after) - set(before))
    changed = sorted(k for k in before if before[k] != after[k])
    if changed:
        return "changed existing files: %s" % changed
    if not err:
        return "no message on stderr"
    lines = err.splitlines()
    if len(lines) > c.max_lines:
        return "%d lines on stderr (at most %d): %s" % (len(lines), c.max_lines, lines[0])
    for rx in c.msg:
        if not re.search(rx, err):
            return "message does not name the problem (/%s/): %s" % (rx, lines[0])
    return None


def main():
    ap = argparse.ArgumentParser(description="tostc command-line error tests")
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    tostc = os.path.abspath(args.tostc)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    npass = nfail = 0
    for c in cases() + dump_ir_cases(tostc, valid_model()) + llvm_cases(tostc, valid_model()):
        log = []
        why = run_case(c, tostc, work, log)
        if why:
            nfail += 1
            print("FAIL %s: %s" % (c.name, why), flush=True)
        else:
            npass += 1
            if args.verbose:
                print("ok   %-28s %s" % (c.name, log[0] if log else ""), flush=True)
    print("cli: %d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
