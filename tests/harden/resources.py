#!/usr/bin/python3
"""
resources.py -- tostc's own peak memory and time, so a regression shows.

    /usr/bin/python3 tests/harden/resources.py --tostc build/tostc --work DIR [--scan DIR...]

Compiles, each in a fresh process measured with wait4 (peak RSS, user+sys
CPU, wall time):
  - the largest model among samples/digits and the --scan directories (the
    work directories of the model and DSL tests, when they have run);
  - a synthetic "wide and deep" ONNX model generated here: LAYERS blocks of
    MatMul (64x64 weights) + Add + Relu + Mul, about 4 * LAYERS nodes
    (stresses every per-node pass, the name table, fusion and the planner).
Prints one line per model and fails when a bound is exceeded.  The bounds are
generous (several times today's figures, docs/reliability.md), meant to catch
regressions such as quadratic passes or copies of the weights, not noise.
"""
import argparse
import os
import subprocess
import sys
import time

# bounds: peak RSS <= MEM_BASE + MEM_FACTOR * model bytes; CPU <= TIME_S
MEM_BASE_MB = 64
MEM_FACTOR = 8
TIME_S = 20.0
LAYERS = 1500


def measure(cmd):
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime, wall, err


def synthetic(path):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for i in range(LAYERS):
        w = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32) * 0.1, "w%d" % i)
        b = numpy_helper.from_array(rng.standard_normal(64).astype(np.float32), "b%d" % i)
        inits += [w, b]
        nodes += [helper.make_node("MatMul", [x, "w%d" % i], ["m%d" % i]),
                  helper.make_node("Add", ["m%d" % i, "b%d" % i], ["a%d" % i]),
                  helper.make_node("Relu", ["a%d" % i], ["r%d" % i]),
                  helper.make_node("Mul", ["r%d" % i, "a%d" % i], ["y%d" % i])]
        x = "y%d" % i
    g = helper.make_graph(nodes, "wide_deep",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--synthetic":
        synthetic(sys.argv[2])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--scan", nargs="*", default=[])
    ap.add_argument("--slack", type=float, default=1.0,
                    help="multiply the bounds (a sanitizer build of tostc: 4)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

    cands = [os.path.join(src, "samples", "digits", "digits.onnx")]
    for d in args.scan:
        for root, _, files in os.walk(d):
            cands += [os.path.join(root, f) for f in files if f.endswith(".onnx")]
    largest = max(cands, key=os.path.getsize)
    syn = os.path.join(args.work, "wide_deep.onnx")
    # in a child: this process must stay small, as a forked child's peak RSS
    # counts the parent's pages it had before exec
    subprocess.run([sys.executable, os.path.abspath(__file__), "--synthetic", syn], check=True)

    failed = 0
    for label, model, extra in (("largest test model", largest, []),
                                ("synthetic %d-layer model" % LAYERS, syn, ["--dim", "n=16"])):
        # symbolic dims of a scanned model: bind every one to 4
        dims = list(extra)
        rc, _, _, _, err = measure([args.tostc, model, "--report"] + dims)
        while rc == 1 and "unbound symbolic dimensions:" in err and not dims:
            names = err.split("unbound symbolic dimensions:")[1].split("(")[0]
            for n in names.split(","):
                dims += ["--dim", "%s=4" % n.strip()]
            rc, _, _, _, err = measure([args.tostc, model, "--report"] + dims)
        out = os.path.join(args.work, "out.c")
        rc, rss, cpu, wall, err = measure([args.tostc, model, "-o", out] + dims)
        size = os.path.getsize(model)
        mem_bound = (MEM_BASE_MB + MEM_FACTOR * size / 2**20) * args.slack
        time_bound = TIME_S * args.slack
        ok = rc == 0 and rss <= mem_bound and cpu <= time_bound
        print("resources: %s %s (%.1f MB): exit %d, peak RSS %.1f MB (bound %.0f), CPU %.2f s "
              "(bound %.0f), wall %.2f s%s" % (label, os.path.relpath(model, src), size / 2**20, rc,
                                            rss, mem_bound, cpu, time_bound, wall, "" if ok else "  FAIL"))
        if rc != 0:
            print(err.strip())
        failed += not ok
    print("resources: %d passed, %d failed" % (2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
