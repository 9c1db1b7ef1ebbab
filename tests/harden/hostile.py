#!/usr/bin/python3
"""
hostile.py -- ctest `hostile`: models whose text tries to write code.

    /usr/bin/python3 tests/harden/hostile.py --tostc build/tostc --work DIR [--filter RE] [--cc CC]

Every string of a model file is untrusted (docs/reliability.md, "Untrusted
models").  This test writes models whose strings each carry one breaker:
a comment end, a quote and a newline with #error or #define or #include,
trigraphs, a backslash at the end, bidirectional controls, terminal escapes,
printf conversions, invalid UTF-8, 4 KB names, C and C++ keywords, names of
the generated API, the runtime and the standard macros, and names that are
the same once made into C identifiers.

ONNX: one model a breaker b, with every string field set from b: the graph
input is b, the output b*2, the initializer b*3, the tensor between the two
nodes b*4 (all start and end with b), node, graph and value-info names, doc
strings, producer, domain, metadata and an extra opset import's domain.  Two
more models hold the identifier breakers as input and output names.  The
.tost side: a file whose own name is a breaker, with string values and a
weights file whose keys are breakers.  For each model that compiles:
  - model.c builds with -std=c99 and -std=c11 -pedantic -Wall -Wextra -Werror,
    and as C++ (-Wall -Wextra -Werror);
  - nm lists no symbol but the API (m_*) and the generated file's static
    functions and data (node<k>, tr_*, weights, static_workspace);
  - a program that #includes model.c and tests #ifdef on every macro a
    breaker names builds, runs the typed m_run and gets the right output.
Models that are refused (a NUL in a name, an op or domain that is a breaker)
must exit 1 with one line on stderr that shows no control, bidirectional or
invalid bytes, and leave no files.

Prints a line a case and `hostile: N passed, N failed`.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from harness import report_cases, run, runner_args  # noqa: E402

# Invalid UTF-8 can't go through onnx's Python strings: a placeholder of the
# same length is written, then swapped for the bytes in the serialized model.
INVALID = b"\xff\xfe\xc0\xaf\xed\xa0\x80"
INVALID_MARK = "Q7#invQ"
assert len(INVALID) == len(INVALID_MARK.encode())

# (case name, breaker, macros it tries to define)
BREAKERS = [
    ("comment_end", "*/ int pwn_a; /*", []),
    ("quote_error", '"\n#error pwn_b\n"', []),
    ("define", "x\n#define pwn_c 1\n", ["pwn_c"]),
    ("include", "\n#include <stdio.h>\n#define pwn_d printf\n", ["pwn_d"]),
    ("trigraph_splice", "x??/", []),
    ("trigraph_define", "??=define pwn_e 1\n", ["pwn_e"]),
    ("backslash_end", "x\\", []),
    ("line_comment", "// x\n#define pwn_f 1", ["pwn_f"]),
    ("comment_open", "/* nested", []),
    ("bidi", "a\u202e/*\u2066 int pwn_g;\u2069*/", []),
    ("bidi_alone", "\u202e", []),
    ("terminal_escape", "\x1b[2J\x1b]0;pwn\x07\r", []),
    ("printf", "%n%s%x%p%%", []),
    ("invalid_utf8", INVALID_MARK, []),
    ("long_4k", "n" * 4096 + "*/", []),
    ("separators", "a\u2028b\u2029c\u0085d\ufeff", []),
    ("cpp_raw", 'R"(*/)"', []),
]

# identifiers: keywords, API, runtime and macro names, collisions
IDENT_INPUTS = ["class", "int", "and", "m_run_v", "M_WORKSPACE_SIZE", "INT64_MAX", "_x", "__y",
                "tr_relu_f32", "W", "in", "out", "workspace", "ws", "NULL", "I", "errno", "0x",
                "a.b", "a-b", "a_b", "a b", "v_a_b"]
IDENT_OUTPUTS = ["bool", "a+b"]


def model_for(b):
    """The one-breaker model: y = relu(x + w), every string from b."""
    x, y, w, t = b, b * 2, b * 3, b * 4
    n1 = helper.make_node("Add", [x, w], [t], name=b, doc_string=b)
    n2 = helper.make_node("Relu", [t], [y], name=b * 2, doc_string=b)
    n2.attribute.append(helper.make_attribute(b, b))   # ignored, but read
    xi = helper.make_tensor_value_info(x, TensorProto.FLOAT, [2])
    yi = helper.make_tensor_value_info(y, TensorProto.FLOAT, [2])
    ti = helper.make_tensor_value_info(t, TensorProto.FLOAT, [2])
    for v in (xi, yi, ti):
        v.doc_string = b
    wt = numpy_helper.from_array(np.array([0.5, 0.25], np.float32), w)
    wt.doc_string = b
    g = helper.make_graph([n1, n2], b, [xi], [yi], [wt], doc_string=b, value_info=[ti])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid(b, 1)],
                          producer_name=b, producer_version=b, domain=b, doc_string=b)
    helper.set_model_props(m, {b: b, "k": b})
    return m


def ident_model(inputs, outputs):
    """sum of the inputs (Add chain), then Relu into each output."""
    nodes, acc = [], inputs[0]
    for i, name in enumerate(inputs[1:]):
        nxt = "sum%d" % i
        nodes.append(helper.make_node("Add", [acc, name], [nxt]))
        acc = nxt
    for o in outputs:
        nodes.append(helper.make_node("Relu", [acc], [o]))
    g = helper.make_graph(nodes, "idents",
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in outputs])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def save(m, path):
    data = m.SerializeToString().replace(INVALID_MARK.encode(), INVALID)
    with open(path, "wb") as f:
        f.write(data)


BIDI = re.compile("[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def message_problem(err):
    """Why tostc's stderr is not one clean message (None when it is): one
    line, or for a .tost file one line, the source line and a caret."""
    try:
        s = err.decode("utf-8")
    except UnicodeDecodeError:
        return "stderr is not UTF-8: %r" % err[:200]
    lines = s.split("\n")
    if lines[-1] != "" or not (len(lines) == 2 or (len(lines) == 4 and
                                                  re.fullmatch(r"  +\^", lines[2]))):
        return "stderr is not one message: %r" % s[:300]
    if re.search("[\x00-\x1f\x7f]", "".join(lines)) or BIDI.search(s):
        return "stderr shows a raw control or bidirectional character: %r" % s[:300]
    return None


def run_bytes(cmd, cwd=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=300)
    return p.returncode, p.stdout, p.stderr


SYMBOL_OK = re.compile(r"^(m_[A-Za-z0-9_]+|tr_[A-Za-z0-9_]+"
                       r"|weights|blob|static_workspace)(\.[A-Za-z0-9_.]+)?$")


def check_c(cc, d, macros, inputs, want):
    """The checks on a compiled model's C (see the module comment)."""
    problems = []
    extra = os.environ.get("TOSTC_TEST_CFLAGS", "").split()
    builds = [([cc, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror"], "model_c99.o"),
              ([cc, "-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror"], "model_c11.o"),
              (["g++", "-x", "c++", "-Wall", "-Wextra", "-Werror"], "model_cpp.o")]
    for flags, obj in builds:
        rc, _, err = run(flags + ["-c", "model.c", "-o", obj], cwd=d)
        if rc != 0:
            problems.append("%s: %s" % (" ".join(flags[:2]), err.strip().splitlines()[0][:300]))
    if problems:
        return problems
    rc, out, err = run(["nm", "model_c99.o"], cwd=d)
    for line in out.splitlines():
        parts = line.split()
        sym = parts[-1]
        if len(parts) == 2 and parts[0] == "U":
            continue   # undefined: libm and mem*, scripts/check_symbols.sh checks those
        if not SYMBOL_OK.match(sym) or "pwn" in sym:
            problems.append("nm: unexpected symbol %r" % sym)
    # #include model.c, check the macros, run the typed entry point
    nout = len(IDENT_OUTPUTS) if len(inputs) > 1 else 1
    args = ", ".join(["in%d" % i for i in range(len(inputs))]
                     + ["out%d" % i for i in range(nout)] + ["NULL"])
    checks = "".join("#ifdef %s\n#error \"the model defined %s\"\n#endif\n" % (m, m)
                     for m in macros + ["pwn_a", "pwn_b", "pwn_g"])
    decls = "".join("\tstatic float in%d[2] = {%r, %r};\n" % (i, float(v[0]), float(v[1]))
                    for i, v in enumerate(inputs))
    with open(os.path.join(d, "check.c"), "w") as f:
        f.write('#include <stdio.h>\n#include "model.c"\n%s'
                "int main(void)\n{\n%s%s"
                "\tif (m_run(%s) != 0)\n\t\treturn 1;\n"
                '\tprintf("%%.9g %%.9g\\n", out0[0], out0[1]);\n\treturn 0;\n}\n'
                % (checks, decls, "".join("\tstatic float out%d[2];\n" % i for i in range(nout)),
                   args))
    rc, _, err = run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror"] + extra
                     + ["check.c", "-o", "check", "-lm"], cwd=d)
    if rc != 0:
        return problems + ["check.c: %s" % err.strip().splitlines()[0][:300]]
    rc, out, err = run([os.path.join(d, "check")], cwd=d)
    if rc != 0:
        return problems + ["check: exit %s: %s" % (rc, err.strip()[:200])]
    got = np.array([float(v) for v in out.split()], np.float32)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-6, atol=0):
        problems.append("output %s, want %s" % (got.tolist(), want.tolist()))
    return problems


def compile_ok(tostc, model, d):
    """tostc MODEL -o D/model.c --name m: None, or why it failed."""
    rc, out, err = run_bytes([tostc, model, "-o", os.path.join(d, "model.c"), "--name", "m"])
    if rc != 0:
        return "tostc exit %s: %r" % (rc, err[:300])
    if err:
        return "tostc printed %r" % err[:300]
    return None


def refused_ok(tostc, model, d, args=()):
    """The model must be refused: exit 1, one clean line, no files."""
    out_c = os.path.join(d, "model.c")
    rc, out, err = run_bytes([tostc, model, "-o", out_c, "--name", "m"] + list(args))
    if rc != 1:
        return "exit %s, want 1: %r" % (rc, err[:200])
    left = [f for f in os.listdir(d) if f.startswith("model.c") or f.startswith("model.h")]
    if left:
        return "left files behind: %s" % left
    return message_problem(err)


def case_breaker(tostc, cc, d, b, macros):
    m = model_for(b)
    path = os.path.join(d, "model.onnx")
    save(m, path)
    why = compile_ok(tostc, path, d)
    if why:
        return [why]
    return check_c(cc, d, macros, [np.array([-1.0, 2.0], np.float32)],
                   np.array([0.0, 2.25], np.float32))


def case_idents(tostc, cc, d, _b, _macros):
    path = os.path.join(d, "model.onnx")
    save(ident_model(IDENT_INPUTS, IDENT_OUTPUTS), path)
    why = compile_ok(tostc, path, d)
    if why:
        return [why]
    problems = []
    with open(os.path.join(d, "model.h")) as f:
        h = f.read()
    proto = re.search(r"int m_run\(([^)]*)\)", h).group(1)
    params = [p.split("*")[-1].strip() for p in proto.split(",")]
    if len(set(params)) != len(params):
        problems.append("parameters not distinct: %s" % params)
    for i, name in enumerate(IDENT_INPUTS):
        want = '#define M_INPUT%d_NAME "%s"' % (i, name)
        if want not in h:
            problems.append("header lacks %s" % want)
    n = len(IDENT_INPUTS)
    inputs = [np.array([float(i), -float(i)], np.float32) for i in range(n)]
    want = np.array([sum(range(n)), 0.0], np.float32)
    return problems + check_c(cc, d, ["pwn"], inputs, want)


def case_refused(tostc, _cc, d, b, _macros):
    """A breaker as op type, as domain, as a symbolic dimension left unbound."""
    problems = []
    variants = []
    m = model_for("x")
    m.graph.node[0].op_type = b
    variants.append(("op", m, ()))
    m = model_for("x")
    m.graph.node[0].domain = b
    variants.append(("domain", m, ()))
    m = model_for("x")
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = b
    variants.append(("dim", m, ()))
    for what, m, args in variants:
        sub = os.path.join(d, what)
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, "model.onnx")
        save(m, path)
        why = refused_ok(tostc, path, sub, args)
        if why:
            problems.append("%s: %s" % (what, why))
    return problems


def case_nul(tostc, _cc, d, _b, _macros):
    """Names that differ after a NUL byte would be one tensor to protobuf-c."""
    m = model_for("x")
    path = os.path.join(d, "model.onnx")
    data = m.SerializeToString().replace(b"xxxx", b"x\x00yx")
    with open(path, "wb") as f:
        f.write(data)
    why = refused_ok(tostc, path, d)
    return [why] if why else []


# ---- the .tost side --------------------------------------------------------

def save_safetensors(path, tensors):
    """float32 tensors; keys as raw UTF-8 (json's \\u escapes only for controls)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def case_dsl(tostc, cc, d, b, macros):
    """A .tost file named after the breaker, with the breaker in a string
    value, a weights file whose keys are breakers; it compiles, and an
    unknown activation given as the string is refused cleanly."""
    problems = []
    if "\x00" in b or "/" in b or INVALID_MARK in b:
        return []
    fname = ("t" + b + ".tost")
    if len(fname.encode()) > 200:
        fname = fname[:100] + ".tost"
    st = os.path.join(d, "w.safetensors")
    save_safetensors(st, {"fc.weight": np.eye(2, dtype=np.float32),
                          "fc.bias": np.array([0.5, 0.25], np.float32),
                          b + ".weight": np.zeros((2, 2), np.float32)})
    lit = b.replace("\\", "\\\\").replace('"', '\\"')
    if "\n" in lit or "\r" in lit:
        lit = lit.replace("\n", " ").replace("\r", " ")
    src = ('model hostile\nweights "w.safetensors"\nlabel = "%s"\n'
           "input x: f32[1, 2]\noutput y = relu(linear(x, 2) @ fc)\n" % lit)
    path = os.path.join(d, fname)
    with open(path, "w") as f:
        f.write(src)
    why = compile_ok(tostc, path, d)
    if why:
        return [why]
    problems += check_c(cc, d, macros, [np.array([-1.0, 2.0], np.float32)],
                        np.array([0.0, 2.25], np.float32))
    # refused: the string as an activation, and a key that is missing (the
    # message lists the keys under the prefix, the breaker among them)
    for what, body in (("act", 'output y = mlp(x, hidden=2, act=label) @ fc\n'),
                       ("key", 'output y = linear(x, 2) @ nothere\n')):
        sub = os.path.join(d, what)
        os.makedirs(sub, exist_ok=True)
        shutil.copy(st, os.path.join(sub, "w.safetensors"))
        p = os.path.join(sub, fname)
        with open(p, "w") as f:
            f.write(src.rsplit("output", 1)[0] + body)
        why = refused_ok(tostc, p, sub)
        if why:
            problems.append("%s: %s" % (what, why))
    return problems


CASES = ([("onnx_" + n, case_breaker, b, m) for n, b, m in BREAKERS]
         + [("idents", case_idents, None, [])]
         + [("refused_" + n, case_refused, b, m) for n, b, m in BREAKERS]
         + [("nul", case_nul, None, [])]
         + [("dsl_" + n, case_dsl, b, m) for n, b, m in BREAKERS])


def main():
    tostc, work, cc, picked = runner_args(__doc__, CASES)

    def one(case):
        name, fn, b, macros = case
        d = os.path.join(work, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return fn(tostc, cc, d, b, macros)
    return report_cases("hostile", picked, one)


if __name__ == "__main__":
    sys.exit(main())
