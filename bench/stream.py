#!/usr/bin/python3
"""stream.py -- streaming generation: tostc's step API against re-running the
prefix per token (tostc's model_run and ONNX Runtime), the time to the first
token of a prompt, and several sequences per step.

    bench/stream.sh [--parts generation,prompt] [--block 512] [--dim 256] [--depth 4]
                    [--heads 4] [--vocab 4096] [--passes 5] [--runs 5]
                    [--lengths 1,16,64,128,256] [--prompts 64,256,1024]
                    [--chunks 16,32,128,256] [--batches 1,4,8] [--step-batch N]
                    [--rounds 4] [--reps 5]

(stream.sh builds tostc, installs onnxruntime-node 1.30.0 under build/bench/ort
like bench/run.sh, then calls this script.)  Everything generated lives in
build/bench/stream: the causal ToST LM (tests/models/tost_ref.py, seeded random
weights) exported with a symbolic sequence axis, and one generated C model per
length and option.

Part "generation":
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
Part "prompt", on the same LM with a block of the longest prompt:
4. time to first token: bench/prefill_driver.c times model_reset +
   model_prefill of each prompt length, compiled with the default chunk, with
   each of --chunks and with --prefill-chunk 1 (token by token); bench/driver.c
   times model_run compiled at each prompt length.
5. several sequences: model_step_batch of B sequences, tokens/s (built with
   tostc's default --step-batch, or STEP_BATCH).
   Every program of 4 and 5 runs once per round (the median of REPS reps),
   ROUNDS interleaved rounds; the tables give the best round's median.
All figures are CPU time (the machine is shared); writes
build/bench/stream/results.json and results.md.
"""
import argparse
import json
import os
import re
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


def export(a, path, block):
    import torch
    import tost_ref
    if os.path.exists(path):
        return
    torch.manual_seed(0)
    m = tost_ref.ToSTLM(a.dim, a.depth, a.heads, a.vocab, block, 16)
    tost_ref.randomize(m, 0)
    tost_ref.export(m, path + ".tmp", 17, dynamic_seq=True)
    os.replace(path + ".tmp", path)


def model_tag(a, block):
    """the exported model's name: its hyperparameters"""
    return "lm_d%d_l%d_h%d_v%d_b%d" % (a.dim, a.depth, a.heads, a.vocab, block)


def compile_len(a, onnx, n, driver, extra=(), tag=None):
    gd = os.path.join(OUT, "gen_%s" % (tag or n))
    os.makedirs(gd, exist_ok=True)
    t0 = time.time()
    sh([a.tostc, onnx, "-o", os.path.join(gd, "model.c"), "--name", "model", "--dim", "seq=%d" % n]
       + list(extra))
    t1 = time.time()
    exe = os.path.join(gd, os.path.splitext(os.path.basename(driver))[0])
    sh([CC] + CFLAGS + ["-I" + gd, driver, os.path.join(gd, "model.c"), "-lm", "-o", exe])
    print("  %s: tostc %.1f s, cc %.1f s" % (tag or "seq=%d" % n, t1 - t0, time.time() - t1),
          flush=True)
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


def cpu_name():
    """'AMD EPYC (family 25, model 17)', from /proc/cpuinfo"""
    try:
        info = open("/proc/cpuinfo").read()
        name = re.search(r"model name\s*:\s*(.*)", info).group(1)
        fam = re.search(r"cpu family\s*:\s*(\d+)", info)
        mod = re.search(r"\nmodel\s*:\s*(\d+)", info)
        if fam and mod:
            name += " (family %s, model %s)" % (fam.group(1), mod.group(1))
        return name
    except (OSError, AttributeError):
        return "unknown CPU"


def generation(a, res, L):
    """1-3: the step API per position, against re-running the prefix."""
    lengths = sorted({int(x) for x in a.lengths.split(",") if x and int(x) < a.block} | {a.block})
    onnx = os.path.join(OUT, "%s.onnx" % model_tag(a, a.block))
    export(a, onnx, a.block)
    rng = np.random.default_rng(1)
    toks = rng.integers(0, a.vocab, a.block, dtype=np.int64)
    res.update(lengths=lengths, run={}, ort={})

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
    opt = res["ort"][lengths[0]]["opt"]
    L.append("### Generation\n")
    L.append("Causal ToST LM (tests/models/tost_ref.py, random weights): d %d, %d layers, %d "
             "heads, vocab %d, block %d; the state of the step API is %d bytes.\n" % (
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
             "max |diff| / max(1, max |logit|): %s.\n" % (
                 T, ", ".join(map(str, lengths)),
                 " (constant below %d, so slightly low)" % lengths[0] if lengths[0] > 1 else "",
                 ", ".join("%.1e" % res["diff"][n] for n in lengths)))
    res.update(buckets=buckets, flatness=flat, run_total_est=run_total, ort_total_est=ort_total)


def batch_rows(n):
    """the rows of the batch graphs of --step-batch n (stream.c)"""
    r = []
    while n > 1:
        r.append(n)
        n = (n + 1) // 2
    return r


def header_define(gd, macro):
    m = re.search(r"#define %s (\d+)" % macro, open(os.path.join(gd, "model.h")).read())
    return int(m.group(1))


def prompt(a, res, L):
    """4-5: time to first token (prefill in chunks, token by token, model_run on
    the prompt) and several sequences per step, on a model whose block is the
    longest prompt; every program runs once per round, ROUNDS rounds."""
    plens = sorted({int(x) for x in a.prompts.split(",") if x})
    batches = sorted({int(x) for x in a.batches.split(",") if x})
    block = max(plens)
    onnx = os.path.join(OUT, "%s.onnx" % model_tag(a, block))
    export(a, onnx, block)
    toks = np.random.default_rng(2).integers(0, a.vocab, block, dtype=np.int64)
    tb = os.path.join(OUT, "prompt_tokens_%d.bin" % block)
    toks.tofile(tb)
    drv = os.path.join(HERE, "prefill_driver.c")
    m = model_tag(a, block)
    gd, exe = compile_len(a, onnx, block, drv, tag="%s_default" % m)
    c0 = header_define(gd, "MODEL_PREFILL_CHUNK")
    bd, bexe = compile_len(a, onnx, block, drv,
                           ["--step-batch", str(a.step_batch)] if a.step_batch else [],
                           tag="%s_batch%s" % (m, a.step_batch or "_default"))
    nbatch = header_define(bd, "MODEL_STEP_BATCH")
    pre = {c0: exe}
    for c in sorted({int(x) for x in a.chunks.split(",") if x} | {1}):
        if c != c0:
            pre[c] = compile_len(a, onnx, block, drv, ["--prefill-chunk", str(c)],
                                 tag="%s_chunk%d" % (m, c))[1]
    runs = {}
    for n in plens:
        inp = os.path.join(OUT, "prompt_tokens_%d_%d.bin" % (block, n))
        toks[:n].tofile(inp)
        runs[n] = (inp, compile_len(a, onnx, n, os.path.join(HERE, "driver.c"),
                                    tag="%s_run%d" % (m, n))[1])
    plist = ",".join(map(str, plens))
    t_pre = {c: {n: [] for n in plens} for c in pre}
    t_run = {n: [] for n in plens}
    t_bat = {b: [] for b in batches}
    for r in range(a.rounds):
        for c in sorted(pre):
            j = last_json(sh([pre[c], tb, str(a.reps), plist, "-"]))
            for n in plens:
                t_pre[c][n].append(j["prefill"][str(n)])
        j = last_json(sh([bexe, tb, str(a.reps), "-", ",".join(map(str, batches))]))
        for b in batches:
            t_bat[b].append(j["batch"][str(b)])
        for n in plens:
            t_run[n].append(last_json(sh([runs[n][1], runs[n][0], str(a.reps)]))["cpu_median"])
        print("  round %d: " % (r + 1) + ", ".join(
            "L=%d prefill %.2f ms / run %.2f ms" % (n, t_pre[c0][n][-1] * 1e3, t_run[n][-1] * 1e3)
            for n in plens), flush=True)

    def best(v):
        return min(v)

    res["prompt"] = dict(block=block, chunk=c0, step_batch=nbatch, prefill=t_pre, run=t_run,
                         batch=t_bat)
    L.append("### Time to first token\n")
    L.append("The same LM with block %d: the time from a reset state to the logits after a "
             "prompt of L tokens. `model_prefill` (compiled with the default chunk of %d "
             "tokens, and with `--prefill-chunk C` for the other columns; chunk 1 is token "
             "by token, as NAME_prefill was before chunks) against `model_run` compiled with "
             "`--dim seq=L` (logits at all L positions). %d interleaved rounds, each program "
             "once per round with the median of %d reps; the best round's median, CPU time, "
             "ms; ratio range over the rounds in parentheses.\n" % (
                 block, c0, a.rounds, a.reps))
    others = [c for c in sorted(pre) if c not in (c0, 1)]
    L.append("| prompt L | model_run | prefill (chunk %d) | / model_run | token by token | "
             "/ model_run | " % c0 + " | ".join("chunk %d" % c for c in others) + " |")
    L.append("|---|---|---|---|---|---|" + "---|" * len(others))
    for n in plens:
        rr = [p / q for p, q in zip(t_pre[c0][n], t_run[n])]
        L.append("| %d | %.2f | %.2f | %.2fx (%.2f-%.2f) | %.2f | %.1fx | " % (
            n, best(t_run[n]) * 1e3, best(t_pre[c0][n]) * 1e3,
            best(t_pre[c0][n]) / best(t_run[n]), min(rr), max(rr), best(t_pre[1][n]) * 1e3,
            best(t_pre[1][n]) / best(t_run[n]))
            + " | ".join("%.2f" % (best(t_pre[c][n]) * 1e3) for c in others) + " |")
    L.append("")
    L.append("### Several sequences per step\n")
    L.append("`model_step_batch` on B sequences at different positions (prefilled to 64 + 37 j), "
             "one token each per call, %d calls; compiled with `--step-batch %d` (batch graphs "
             "of %s rows; one sequence takes `model_step`). Best round's median, CPU "
             "time.\n" % (32, nbatch, ", ".join(map(str, batch_rows(nbatch)))))
    L.append("| B | ms per call | tokens/s | vs B = 1 |")
    L.append("|---|---|---|---|")
    b1 = best(t_bat[batches[0]]) / batches[0]
    for b in batches:
        L.append("| %d | %.3f | %.0f | %.2fx |" % (
            b, best(t_bat[b]) * 1e3, b / best(t_bat[b]), b1 / (best(t_bat[b]) / b)))
    L.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="generation,prompt",
                    help="generation (step API vs re-running the prefix), prompt (time to "
                         "first token, several sequences)")
    # the LM (block: generation's; prompt's is the longest prompt), then the runs
    for name, default in (("block", 512), ("dim", 256), ("depth", 4), ("heads", 4),
                          ("vocab", 4096), ("passes", 5), ("runs", 5), ("bucket", 32),
                          ("rounds", 4), ("reps", 5)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--lengths", default="1,16,64,128,256")
    ap.add_argument("--prompts", default="64,256,1024")
    ap.add_argument("--chunks", default="16,32,128,256",
                    help="prefill chunks to compare with the default (and 1)")
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--step-batch", type=int, default=0,
                    help="tostc --step-batch for the batches (default: tostc's)")
    ap.add_argument("--tostc", default=os.path.join(BENCH, "tostc-build", "tostc"))
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    parts = a.parts.split(",")
    res = {"model": dict(dim=a.dim, depth=a.depth, heads=a.heads, vocab=a.vocab, block=a.block)}
    load0 = open("/proc/loadavg").read().split()[:3]
    L = []
    if "generation" in parts:
        generation(a, res, L)
    if "prompt" in parts:
        prompt(a, res, L)
    load1 = open("/proc/loadavg").read().split()[:3]
    head = ("Measured %s on %s (2 cores, shared; load average %s at the start, %s at the end), "
            "1 thread, CPU time; generated C built with %s.\n" % (
                time.strftime("%Y-%m-%d %H:%M"), cpu_name(), "/".join(load0), "/".join(load1),
                " ".join(CFLAGS)))
    text = head + "\n" + "\n".join(L) + "\n"
    res.update(loadavg=[load0, load1], cpu=cpu_name())
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
