#!/usr/bin/python3
"""opprof.py -- where a generated model's time goes, op type by op type.

    bench/opprof.py NAME [--runs R] [--hot] [--nodes OP]

Run after bench/run.sh (it needs build/bench/gen/NAME/model.c, the input in
build/bench/models/NAME and the Release tostc).  It writes a copy of model.c
whose forward pass times every node's statements (CLOCK_MONOTONIC), builds it with
bench/opprof_driver.c (gcc -std=c99 -O2 -march=native, as the benchmark),
runs the model once to warm up and then R times (default 50), and prints per
op type: nodes, ms per run, share of the time, and GFLOP/s from the flops of
`tostc --report`.  --hot runs every node twice in a row and times the second
call, so its weights and inputs are in cache (in-place nodes then see their
own output as input: timing only).  --nodes OP then lists each node of op
type OP on its own.  The timers add about 0.1 us per node.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--hot", action="store_true")
    ap.add_argument("--nodes", metavar="OP", help="also list each node of op type OP")
    a = ap.parse_args()
    gd, md = os.path.join(OUT, "gen", a.name), os.path.join(OUT, "models", a.name)
    tostc = os.path.join(OUT, "tostc-build", "tostc")
    for p in (os.path.join(gd, "model.c"), os.path.join(md, "input.bin"), tostc):
        if not os.path.exists(p):
            sys.exit("opprof: %s is missing: run bench/run.sh --models %s first" % (p, a.name))
    # flops per node: "index op name output flops bytes" lines of --report
    rep = subprocess.run([tostc, os.path.join(md, "model.onnx"), "-o", os.path.join(gd, "rep.c"),
                          "--name", "model", "--report"], check=True, capture_output=True,
                         text=True).stdout
    flops = {}
    for line in rep.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0].isdigit() and f[-2].isdigit():
            flops[(f[0], f[1])] = int(f[-2])
    src = open(os.path.join(gd, "model.c")).read()
    # the forward pass: model_run_v (and its parts, for a large graph), where
    # each node's statements follow its comment "/* #N Op 'name': ... */"
    at = src.index("/* ---- the forward pass ---- */")
    end = src.index("\nint model_run(", at)
    node = re.compile(r"\t/\* #(\d+) (\w+) [^\n]*\*/\n")
    names, ops, pieces, pos = [], {}, [], 0   # names: one per timed node
    for m in node.finditer(src, at, end):
        stop = min(q for q in (src.find("\n\t/* #", m.end() - 1), src.find("\n}", m.end() - 1))
                   if q >= 0)
        body = src[m.end():stop + 1]
        i = len(names)
        names.append(i)
        ops[i] = (m.group(1), m.group(2))
        first = body if a.hot else ""
        pieces.append(src[pos:m.end()])
        pieces.append("\t{%s double t0_ = op_now();\n%s\top_time[%d] += op_now() - t0_;}\n"
                      % (first, body, i))
        pos = stop + 1
    pieces.append(src[pos:])
    head = "".join(pieces)
    inc = head.index("\n", head.index("#include")) + 1
    timer = ("#include <time.h>\ndouble op_time[%d];\nstatic double op_now(void)\n{\n"
             "\tstruct timespec t;\n\tclock_gettime(CLOCK_MONOTONIC, &t);\n"
             "\treturn (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;\n}\n" % max(1, len(names)))
    prof = os.path.join(gd, "opprof.c")
    with open(prof, "w") as f:
        f.write("#define _POSIX_C_SOURCE 200112L\n" + head[:inc] + timer + head[inc:])
    exe = os.path.join(gd, "opprof")
    subprocess.run(["gcc", "-std=c99", "-O2", "-march=native", "-I" + gd,
                    "-DOP_NODES=%d" % len(names), os.path.join(ROOT, "bench", "opprof_driver.c"),
                    prof, "-lm", "-o", exe], check=True)
    out = subprocess.run([exe, os.path.join(md, "input.bin"), str(a.runs)], check=True,
                         capture_output=True, text=True).stdout.split()
    per = [float(v) / a.runs for v in out]
    rows = {}
    for name, t in zip(names, per):
        idx, op = ops.get(name, ("?", "?"))
        r = rows.setdefault(op, [0, 0.0, 0])
        r[0] += 1
        r[1] += t
        r[2] += flops.get((idx, op), 0)
    total = sum(per)
    print("%s: %.3f ms per run (%s, %d runs)" % (a.name, total * 1e3,
                                                "hot: each node's second call" if a.hot
                                                else "nodes in model order", a.runs))
    print("| op | nodes | ms | share | GFLOP/s |")
    print("|---|---|---|---|---|")
    for op, (n, t, fl) in sorted(rows.items(), key=lambda kv: -kv[1][1]):
        gf = "%.1f" % (fl / t * 1e-9) if fl and t > 0 else ""
        print("| %s | %d | %.3f | %.1f%% | %s |" % (op, n, t * 1e3, 100 * t / total, gf))
    if a.nodes:
        print("\n| node | %s | ms | share | GFLOP/s |\n|---|---|---|---|---|" % a.nodes)
        for name, t in zip(names, per):
            idx, op = ops.get(name, ("?", "?"))
            if op == a.nodes:
                fl = flops.get((idx, op), 0)
                gf = "%.1f" % (fl / t * 1e-9) if fl and t > 0 else ""
                print("| #%s | %s | %.3f | %.1f%% | %s |" % (idx, op, t * 1e3, 100 * t / total, gf))


if __name__ == "__main__":
    main()
