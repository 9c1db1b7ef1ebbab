#!/usr/bin/python3
"""stream.py -- streaming generation: tostc's step API against re-running the
prefix per token (tostc's model_run and ONNX Runtime).

    bench/stream.sh [--block 512] [--dim 256] [--depth 4] [--heads 4] [--vocab 4096]
                    [--passes 5] [--runs 5] [--lengths 16,64,128,256]

(stream.sh builds tostc, installs onnxruntime-node 1.30.0 under build/bench/ort
like bench/run.sh, then calls this script.)  Everything generated lives in
build/bench/stream: the causal ToST LM (tests/models/tost_ref.py, seeded random
weights) exported once with a symbolic sequence axis, and one generated C
model per sample length.

1. step API: compiled with --dim seq=BLOCK; bench/step_driver.c times every
   model_step at t = 1..BLOCK (median over PASSES passes after a warm-up).
2. model_run re-running the prefix: compiled with --dim seq=L for the sample
   lengths L (and BLOCK); bench/driver.c times one run at each.  Generating
   BLOCK tokens this way costs sum over t = 1..BLOCK of run(t): estimated by
   linear interpolation between the sample lengths (constant below the
   smallest if it is not 1).
3. ONNX Runtime (bench/ort_bench.js, 1 intra-op thread) on the same ONNX file
   at the same lengths, same estimate.  ORT 1.30 crashes building the causal
   LM's session at optimisation levels extended / all: it is retried at basic.
All figures are CPU-time medians (the machine is shared); writes
build/bench/stream/results.json and results.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
OUT = os.path.join(ROOT, "build", "bench", "stream")
BENCH = os.path.join(ROOT, "build", "bench")
CC = os.environ.get("CC", "gcc")
CFLAGS = os.environ.get("BENCH_CFLAGS", "-std=c99 -O2 -march=native").split()


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit("stream: %s failed:\n%s%s" % (" ".join(cmd), r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def last_json(s):
    return json.loads(s.strip().splitlines()[-1])


def export(a, path):
    import torch
    import tost_ref
    if os.path.exists(path):
        return
    torch.manual_seed(0)
    m = tost_ref.ToSTLM(a.dim, a.depth, a.heads, a.vocab, a.block, 16)
    tost_ref.randomize(m, 0)
    tost_ref.export(m, path + ".tmp", 17, dynamic_seq=True)
    os.replace(path + ".tmp", path)


def compile_len(a, onnx, n, driver, extra=()):
    gd = os.path.join(OUT, "gen_%d" % n)
    os.makedirs(gd, exist_ok=True)
    t0 = time.time()
    sh([a.tostc, onnx, "-o", os.path.join(gd, "model.c"), "--name", "model", "--dim", "seq=%d" % n])
    t1 = time.time()
    exe = os.path.join(gd, os.path.splitext(os.path.basename(driver))[0])
    sh([CC] + CFLAGS + ["-I" + gd, driver, os.path.join(gd, "model.c"), "-lm", "-o", exe])
    print("  seq=%d: tostc %.1f s, cc %.1f s" % (n, t1 - t0, time.time() - t1), flush=True)
    return gd, exe


def ort_run(onnx, inp, n, runs, out):
    env = dict(os.environ, ORT_NODE_MODULES=os.path.join(BENCH, "ort", "node_modules"),
               ORT_INPUT_SHAPE=json.dumps([1, n]), ORT_INPUT_TYPE="int64")
    env.setdefault("ORT_OPT", "all")
    cmd = ["node", os.path.join(HERE, "ort_bench.js"), onnx, inp, "1", str(runs), out]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        print("  ORT failed with status %d at level %s; retrying at basic"
              % (p.returncode, env["ORT_OPT"]), flush=True)
        env["ORT_OPT"] = os.environ["ORT_OPT"] = "basic"   # keep it for the other lengths
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode:
            sys.exit("stream: ORT failed: %s" % p.stderr[-2000:])
    return last_json(p.stdout)


def total_estimate(lengths, times, block):
    """sum over t = 1..block of run(t), run linearly interpolated"""
    t = np.arange(1, block + 1)
    return float(np.interp(t, lengths, times).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", type=int, default=512)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lengths", default="1,16,64,128,256")
    ap.add_argument("--bucket", type=int, default=32)
    ap.add_argument("--tostc", default=os.path.join(BENCH, "tostc-build", "tostc"))
    a = ap.parse_args()
    lengths = sorted({int(x) for x in a.lengths.split(",") if x and int(x) < a.block} | {a.block})
    os.makedirs(OUT, exist_ok=True)
    onnx = os.path.join(OUT, "lm_d%d_l%d_b%d.onnx" % (a.dim, a.depth, a.block))
    export(a, onnx)
    rng = np.random.default_rng(1)
    toks = rng.integers(0, a.vocab, a.block, dtype=np.int64)
    res = {"model": dict(dim=a.dim, depth=a.depth, heads=a.heads, vocab=a.vocab, block=a.block),
           "lengths": lengths, "run": {}, "ort": {}}

    # 1. step API (the BLOCK model also serves model_run at BLOCK)
    gd, step = compile_len(a, onnx, a.block, os.path.join(HERE, "step_driver.c"))
    tb = os.path.join(OUT, "tokens_%d.bin" % a.block)
    toks.tofile(tb)
    s = last_json(sh([step, tb, str(a.passes)]))
    res["step"] = s
    # 2. model_run and 3. ORT at each sample length
    for n in lengths:
        inp = os.path.join(OUT, "tokens_%d.bin" % n)
        toks[:n].tofile(inp)
        gd, run = compile_len(a, onnx, n, os.path.join(HERE, "driver.c"))
        ours = os.path.join(gd, "out_tostc.bin")
        r = last_json(sh([run, inp, str(a.runs), ours]))
        o = ort_run(onnx, inp, n, a.runs, os.path.join(gd, "out_ort.bin"))
        x, y = np.fromfile(ours, np.float32), np.fromfile(os.path.join(gd, "out_ort.bin"), np.float32)
        res["run"][n] = r
        res["ort"][n] = o
        res.setdefault("diff", {})[n] = float(np.abs(x - y).max() / max(1.0, np.abs(y).max()))
        print("  t=%d: model_run %.2f ms, ORT %.2f ms (opt %s), rel diff %.1e" % (
            n, r["cpu_median"] * 1e3, o["cpu_median"] * 1e3, o["opt"], res["diff"][n]), flush=True)

    # the table
    c = np.array(s["step_cpu"])
    T = a.block
    bk = a.bucket
    edges = list(range(0, T, bk))
    buckets = [(i + 1, min(i + bk, T), float(np.median(c[i:i + bk]))) for i in edges]
    flat = buckets[-1][2] / buckets[0][2]
    step_total = s["total_cpu"]
    run_t = [res["run"][n]["cpu_median"] for n in lengths]
    ort_t = [res["ort"][n]["cpu_median"] for n in lengths]
    run_total = total_estimate(lengths, run_t, T)
    ort_total = total_estimate(lengths, ort_t, T)
    load = open("/proc/loadavg").read().split()[:3]
    cpu = ""
    try:
        import re
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    opt = res["ort"][lengths[0]]["opt"]
    L = []
    L.append("Measured %s on %s (2 cores, shared; load average %s), 1 thread, CPU-time "
             "medians; generated C built with %s. Causal ToST LM (tests/models/tost_ref.py, "
             "random weights): d %d, %d layers, %d heads, vocab %d, block %d; the state of the "
             "step API is %d bytes.\n" % (
                 time.strftime("%Y-%m-%d %H:%M"), cpu, "/".join(load), " ".join(CFLAGS),
                 a.dim, a.depth, a.heads, a.vocab, T, s["state_bytes"]))
    L.append("Time per step by position (median of the %d passes per position, then median "
             "over the bucket):\n" % a.passes)
    L.append("| positions t | " + " | ".join("%d-%d" % (b[0], b[1]) for b in buckets) + " |")
    L.append("|---|" + "---|" * len(buckets))
    L.append("| us / step | " + " | ".join("%.1f" % (b[2] * 1e6) for b in buckets) + " |")
    L.append("")
    L.append("Flatness: last bucket / first bucket = %.3fx (slowest bucket / fastest = %.3fx).\n"
             % (flat, max(b[2] for b in buckets) / min(b[2] for b in buckets)))
    L.append("One forward pass over the prefix, at the sample lengths (ms, CPU time):\n")
    L.append("| prefix length t | " + " | ".join(str(n) for n in lengths) + " |")
    L.append("|---|" + "---|" * len(lengths))
    L.append("| tostc model_run | " + " | ".join("%.2f" % (v * 1e3) for v in run_t) + " |")
    L.append("| ONNX Runtime 1.30 (opt %s) | " % opt
             + " | ".join("%.2f" % (v * 1e3) for v in ort_t) + " |")
    L.append("| step API, per token (mean) | " + " | ".join(
        "%.3f" % (step_total / T * 1e3) for _ in lengths) + " |")
    L.append("")
    L.append("Generating %d tokens (the whole block), one token at a time:\n" % T)
    L.append("| method | total s | tokens/s | vs step API |")
    L.append("|---|---|---|---|")
    L.append("| tostc step API (measured: reset + %d steps) | %.3f | %.0f | 1x |" % (
        T, step_total, T / step_total))
    L.append("| tostc model_run on the prefix per token (estimate) | %.2f | %.1f | %.1fx |" % (
        run_total, T / run_total, run_total / step_total))
    L.append("| ONNX Runtime on the prefix per token (estimate) | %.2f | %.1f | %.1fx |" % (
        ort_total, T / ort_total, ort_total / step_total))
    L.append("")
    L.append("The re-running totals are estimates: sum over t = 1..%d of one run at length t, "
             "linearly interpolated between the measured lengths %s%s. model_run vs ORT "
             "max |diff| / max(1, max |logit|): %s." % (
                 T, ", ".join(map(str, lengths)),
                 " (constant below %d, so slightly low)" % lengths[0] if lengths[0] > 1 else "",
                 ", ".join("%.1e" % res["diff"][n] for n in lengths)))
    text = "\n".join(L) + "\n"
    res.update(buckets=buckets, flatness=flat, run_total_est=run_total, ort_total_est=ort_total,
               loadavg=load, cpu=cpu)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
