#!/usr/bin/python3
"""bench.py -- tostc against ONNX Runtime on the ToST benchmark models.

    bench/run.sh [--runs N] [--models a,b,...] [--threads 1,2]

(run.sh builds tostc, installs onnxruntime-node 1.30.0 under build/bench/ort,
then calls this script.)  Everything generated lives in build/bench:
models/NAME (ONNX export + input), gen/NAME (model.c, the driver binary),
results.json and results.md.

For every model: export (bench/export.py), compile with tostc (time), build
the generated C with gcc -O2 -march=native (time), run it (bench/driver.c;
for 2 threads the same model.c built with -fopenmp, OMP_NUM_THREADS=2),
run ONNX Runtime with 1 and 2 intra-op threads (bench/ort_bench.js), compare
outputs, and report the medians over RUNS timed runs after one warm-up run.
Also measured on the spot: the FMA peak of one core (bench/peak.c) and the
runtime GEMM's GFLOP/s on the models' shapes (bench/gemm.c).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "build", "bench")
MODELS = ["tost_s", "tost_t", "stack_256", "stack_1024", "stack_4096", "stack_16384",
          "lm_256", "lm_2048"]
SHAPES = {"tost_s": [1, 3, 224, 224], "tost_t": [1, 3, 224, 224], "lm_256": [1, 256],
          "lm_2048": [1, 2048]}
CC = os.environ.get("CC", "gcc")
CFLAGS = os.environ.get("BENCH_CFLAGS", "-std=c99 -O2 -march=native").split()


def sh(cmd, **kw):
    """stdout of cmd; exits with its output when it fails"""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit("bench: %s failed:\n%s%s" % (" ".join(cmd), r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def last_json(s):
    return json.loads(s.strip().splitlines()[-1])


def shape_of(name):
    if name in SHAPES:
        return SHAPES[name]
    return [1, int(name.split("_")[1]), 384]


def tokens(name):
    """tokens the TSSA blocks see (for time per token)"""
    if name.startswith("stack_") or name.startswith("lm_"):
        return shape_of(name)[1]
    return 196


def run_model(name, a, tostc):
    md = os.path.join(OUT, "models", name)
    gd = os.path.join(OUT, "gen", name)
    os.makedirs(gd, exist_ok=True)
    r = {"model": name}
    t0 = time.time()
    rep = sh([tostc, os.path.join(md, "model.onnx"), "-o", os.path.join(gd, "model.c"),
              "--name", "model", "--report"])
    r["tostc_s"] = time.time() - t0
    tot = re.search(r"total: (\d+) nodes, (\d+) flops, (\d+) weight bytes, (\d+) arena bytes", rep)
    r["nodes"], r["flops"], r["weights"], r["arena"] = map(int, tot.groups())
    r["c_bytes"] = os.path.getsize(os.path.join(gd, "model.c"))
    t0 = time.time()
    sh([CC] + CFLAGS + ["-I" + gd, os.path.join(ROOT, "bench", "driver.c"),
                        os.path.join(gd, "model.c"), "-lm", "-o", os.path.join(gd, "run")])
    r["cc_s"] = time.time() - t0
    inp = os.path.join(md, "input.bin")
    ours = os.path.join(gd, "out_tostc.bin")
    r["tostc"] = last_json(sh([os.path.join(gd, "run"), inp, str(a.runs), ours]))
    if any(th > 1 for th in a.threads):
        # the same model.c with OpenMP: threads split the kernels' work so that
        # the output is bitwise the single-thread one (checked here)
        sh([CC] + CFLAGS + ["-fopenmp", "-I" + gd, os.path.join(ROOT, "bench", "driver.c"),
                            os.path.join(gd, "model.c"), "-lm", "-o", os.path.join(gd, "run_omp")])
    for th in a.threads:
        if th == 1:
            continue
        par = os.path.join(gd, "out_tostc%d.bin" % th)
        r["tostc%d" % th] = last_json(sh([os.path.join(gd, "run_omp"), inp, str(a.runs), par],
                                         env=dict(os.environ, OMP_NUM_THREADS=str(th))))
        r["tostc%d" % th]["same_as_1T"] = open(par, "rb").read() == open(ours, "rb").read()
    env = dict(os.environ, ORT_NODE_MODULES=os.path.join(OUT, "ort", "node_modules"),
               ORT_INPUT_SHAPE=json.dumps(shape_of(name)),
               ORT_INPUT_TYPE="int64" if name.startswith("lm_") else "float32")
    for th in a.threads:
        theirs = os.path.join(gd, "out_ort%d.bin" % th)
        cmd = ["node", os.path.join(ROOT, "bench", "ort_bench.js"), os.path.join(md, "model.onnx"),
               inp, str(th), str(a.runs), theirs]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode:
            # ORT 1.30 crashes (SIGSEGV) building its session for the causal LM at
            # optimisation levels extended / all; fall back to basic and say so
            print("  ORT (%d threads) failed with status %d at level all; retrying at basic"
                  % (th, p.returncode), flush=True)
            env["ORT_OPT"] = "basic"
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if p.returncode:
                sys.exit("bench: ORT failed: %s" % p.stderr[-2000:])
        r["ort%d" % th] = last_json(p.stdout)
        if th == a.threads[0]:
            x = np.fromfile(ours, np.float32)
            y = np.fromfile(theirs, np.float32)
            r["max_abs_diff"] = float(np.abs(x - y).max())
            r["max_abs_ort"] = float(np.abs(y).max())
    return r


def fmt_mb(b):
    return "%.1f" % (b / 1e6)


def table(res, peak):
    """1-thread figures use CPU-time medians (see docs/performance.md); wall
    medians are given beside them; ORT 2T is wall-clock."""
    lines = ["| model | GFLOP | tostc 1T ms (wall) | ORT 1T ms (wall) | ORT/tostc 1T | "
             "tostc 2T ms wall | ORT 2T ms wall | ORT/tostc 2T | "
             "best-of ORT/tostc 1T | tostc GFLOP/s 1T (% peak) | tostc us/token | tostc RSS MB | "
             "arena + weights MB | ORT RSS MB (node+lib base) | max abs diff |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res:
        t = r["tostc"]["cpu_median"]
        o1 = r.get("ort1", {})
        o2 = r.get("ort2", {})
        t2 = r.get("tostc2", {})
        gf = r["flops"] / t * 1e-9
        best = "%.2fx" % (min(o1["cpu_runs"]) / min(r["tostc"]["cpu_runs"])) if o1 else "-"
        lines.append("| %s | %.2f | %.1f (%.1f) | %s | %s | %s | %s | %s | %s | %.1f (%.0f%%) | %.2f | %s | %s + %s | %s | %.1e |" % (
            r["model"] + (" (ORT opt %s)" % o1["opt"] if o1 and o1.get("opt") != "all" else ""),
            r["flops"] * 1e-9, t * 1e3, r["tostc"]["median"] * 1e3,
            "%.1f (%.1f)" % (o1["cpu_median"] * 1e3, o1["median"] * 1e3) if o1 else "-",
            "%.2fx" % (o1["cpu_median"] / t) if o1 else "-",
            "%.1f" % (t2["median"] * 1e3) if t2 else "-",
            "%.1f" % (o2["median"] * 1e3) if o2 else "-",
            "%.2fx" % (o2["median"] / t2["median"]) if o2 and t2 else "-", best,
            gf, 100 * gf / peak, t / tokens(r["model"]) * 1e6, fmt_mb(r["tostc"]["rss"]),
            fmt_mb(r["arena"]), fmt_mb(r["weights"]),
            "%s (%s)" % (fmt_mb(o1["rss"]), fmt_mb(o1["rss_base"])) if o1 else "-",
            r.get("max_abs_diff", 0.0)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--tostc", default=os.path.join(OUT, "tostc-build", "tostc"))
    a = ap.parse_args()
    a.threads = [int(t) for t in a.threads.split(",") if t]
    names = a.models.split(",")
    os.makedirs(OUT, exist_ok=True)
    sh(["/usr/bin/python3", os.path.join(ROOT, "bench", "export.py"), os.path.join(OUT, "models")]
       + names)
    tools = os.path.join(OUT, "tools")
    os.makedirs(tools, exist_ok=True)
    sh([CC, "-O2", "-march=native", os.path.join(ROOT, "bench", "peak.c"), "-o",
        os.path.join(tools, "peak")])
    peak = last_json(sh([os.path.join(tools, "peak")]))
    sh([CC] + CFLAGS + ["-I" + os.path.join(ROOT, "runtime"), os.path.join(ROOT, "bench", "gemm.c"),
                        "-lm", "-o", os.path.join(tools, "gemm")])
    gemm = [json.loads(l) for l in sh([os.path.join(tools, "gemm")]).strip().splitlines()]
    print("peak: %.1f GFLOP/s (%s)" % (peak["gflops"], peak["isa"]), flush=True)
    for g in gemm:
        print("gemm %dx%dx%d: %.1f GFLOP/s (%.0f%% of peak)" % (
            g["m"], g["k"], g["n"], g["gflops"], 100 * g["gflops"] / peak["gflops"]), flush=True)
    res = []
    for n in names:
        r = run_model(n, a, a.tostc)
        res.append(r)
        print("%s: tostc %.1f ms cpu, ORT %s ms cpu (1T) / wall; tostc compile %.1f s, cc %.1f s, "
              "diff %.1e" % (
            n, r["tostc"]["cpu_median"] * 1e3,
            "/".join("%.1f" % (r["ort%d" % t]["cpu_median" if t == 1 else "median"] * 1e3)
                     for t in a.threads),
            r["tostc_s"], r["cc_s"], r.get("max_abs_diff", 0)), flush=True)
        if not r["tostc"]["bitwise_same"]:
            print("  WARNING: tostc runs were not bitwise identical", flush=True)
        for t in a.threads:
            rt = r.get("tostc%d" % t)
            if rt:
                print("  tostc %d threads: %.1f ms wall%s" % (
                    t, rt["median"] * 1e3, "" if rt["same_as_1T"] and rt["bitwise_same"]
                    else "; WARNING: output differs from 1 thread"), flush=True)
    cpu = ""
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    out = {"peak": peak, "gemm": gemm, "models": res, "cpu": cpu, "cflags": CFLAGS,
           "runs": a.runs, "date": time.strftime("%Y-%m-%d %H:%M")}
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(out, f, indent=1)
    md = table(res, peak["gflops"])
    gl = ["| runtime GEMM m x k x n (CPU time) | median GFLOP/s (% peak) | best GFLOP/s (% peak) |",
          "|---|---|---|"]
    for g in gemm:
        gl.append("| %d x %d x %d | %.1f (%.0f%%) | %.1f (%.0f%%) |" % (
            g["m"], g["k"], g["n"], g["gflops"], 100 * g["gflops"] / peak["gflops"],
            g["best_gflops"], 100 * g["best_gflops"] / peak["gflops"]))
    load = open("/proc/loadavg").read().split()[:3]
    out["loadavg"] = load
    text = ("Measured %s on %s (2 cores; load average %s during the run); FMA peak of one "
            "core %.1f GFLOP/s (%s, CPU time); generated C built with %s; medians of %d runs "
            "after one warm-up; 1-thread times are CPU time (wall-clock in parentheses), "
            "2-thread times wall-clock (tostc: the same model.c built with -fopenmp, "
            "OMP_NUM_THREADS=2).\n\n"
            % (out["date"], cpu, "/".join(load), peak["gflops"], peak["isa"], " ".join(CFLAGS),
               a.runs)
            + md + "\n\n" + "\n".join(gl) + "\n\n"
            + "Compile times: " + ", ".join("%s tostc %.1f s + cc %.1f s (model.c %.0f MB)" % (
                r["model"], r["tostc_s"], r["cc_s"], r["c_bytes"] / 1e6) for r in res) + ".\n")
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
