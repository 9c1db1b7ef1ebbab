#!/usr/bin/python3
"""
run_stream.py -- ctest `stream`: the step API of causal ToST models.

    /usr/bin/python3 tests/stream/run_stream.py --tostc build/tostc --work DIR

Streamable cases (tests/models/tost_ref.py ToSTLM with random weights, from
ONNX at opsets 13 and 17, fixed or symbolic length, batch 1 and 2, biased
Linear layers, from the DSL tests/dsl/lm.tost + .safetensors, and the trained
samples/charlm model): compile with tostc (prefill chunks and step batches
smaller than the block), build tests/stream/check_stream.c against the model,
run it.  It checks that step t equals the full-sequence model_run at t for
every t, reset reproducibility, chunked prefill (n = 1, chunk - 1, chunk,
chunk + 1, the block; and from a later position) + steps == steps,
prefill_all == the steps' logits, step_batch == single steps per sequence
(different positions, one at the limit), the MODEL_ERR_FULL limit, and that
the state and the workspaces stay within the sizes the header gives.  Some
cases are built once more with OpenMP, every kernel threaded
(-DTR_PAR_MIN=1): on 1 and 3 threads they must give bitwise the results of
the serial build.

Rejections: --stream on a vision ToST (non-causal TSSA) and on an unfused
causal model (--no-fuse: CumSum over tokens) fail naming the node; a causal
model with a token-mixing op (mean over tokens) compiles with a note naming
that node and no step API; --no-stream emits no step API.
Last line: `stream: N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "models"))
sys.path.insert(0, os.path.join(HERE, ".."))
warnings.filterwarnings("ignore")

import torch  # noqa: E402

import harness  # noqa: E402
import tost_ref  # noqa: E402

CC = ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic", "-Werror"]
CC += os.environ.get("TOSTC_TEST_CFLAGS", "").split()  # e.g. the sanitizers (CI)

# name, model args, opset, dynamic seq (--dim seq=block), source, tostc options
# (chunks and batches smaller than the block, so that prefill and step_batch
# cross their edges; lm17 and charlm have chunks long enough for a short last
# chunk to go token by token; lm_dynamic: the default chunk, longer than its
# block, and a step_batch of single steps)
CASES = [
    ("lm17", dict(dim=64, depth=2, heads=4, vocab=97, block=32, seq=32), 17, False, "onnx",
     ["--prefill-chunk", "12", "--step-batch", "3"]),
    ("lm13_bias", dict(dim=48, depth=3, heads=6, vocab=50, block=24, seq=24, bias=True), 13,
     False, "onnx", ["--prefill-chunk", "5", "--step-batch", "4"]),
    ("lm_dynamic", dict(dim=32, depth=2, heads=2, vocab=40, block=40, seq=8), 17, True, "onnx",
     ["--step-batch", "1"]),
    ("lm_short", dict(dim=32, depth=1, heads=4, vocab=30, block=32, seq=12), 17, False, "onnx",
     ["--prefill-chunk", "4", "--step-batch", "2"]),
    ("lm_batch2", dict(dim=32, depth=2, heads=4, vocab=33, block=16, seq=16), 17, False, "onnx",
     ["--prefill-chunk", "6", "--step-batch", "3"]),
    ("lm_dsl", dict(dim=32, depth=2, heads=4, vocab=61, block=20, seq=20), 17, False, "dsl",
     ["--prefill-chunk", "7", "--step-batch", "5"]),
    ("charlm", None, None, False, os.path.join(ROOT, "samples", "charlm", "charlm.onnx"), []),
]


# the cases also built with OpenMP
OPENMP = ("lm17", "lm_batch2", "charlm")


def lm(a, seed=0):
    m = tost_ref.ToSTLM(a["dim"], a["depth"], a["heads"], a["vocab"], a["block"], a["seq"],
                        bias=a.get("bias", False))
    return tost_ref.randomize(m, seed)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def streamable(tostc, work, name, a, opset, dynamic, src, extra):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    m = lm(a) if a else None
    if src.endswith(".onnx"):
        model, dims = src, []
    elif src == "dsl":
        tost_ref.save_safetensors(os.path.join(d, "lm.safetensors"), m.state_dict())
        tost = os.path.join(d, "lm.tost")
        with open(os.path.join(ROOT, "tests", "dsl", "lm.tost")) as f:
            text = f.read()
        with open(tost, "w") as f:
            f.write(text)
        model = tost
        dims = ["--dim", "d=%d" % a["dim"], "--dim", "depth=%d" % a["depth"],
                "--dim", "heads=%d" % a["heads"], "--dim", "vocab=%d" % a["vocab"],
                "--dim", "block=%d" % a["block"], "--dim", "seq=%d" % a["seq"]]
    else:
        model = os.path.join(d, "model.onnx")
        batch = 2 if name.endswith("batch2") else 1
        tost_ref.export(m, model, opset, dynamic_seq=dynamic, batch=batch, seq=a["seq"])
        dims = ["--dim", "seq=%d" % a["block"]] if dynamic else []
    rc, out, err = harness.tostc(tostc, model, d, "model", dims + extra)
    if rc != 0:
        return "tostc failed: " + out + err
    e = harness.build(CC, d, os.path.join(HERE, "check_stream.c"), os.path.join(d, "check"))
    if e:
        return e
    r = run([os.path.join(d, "check"), "1"])
    print("  " + r.stdout.strip().replace("\n", "\n  "))
    if r.returncode != 0:
        return "check_stream failed"
    if name not in OPENMP:
        return None
    # the same with OpenMP, every kernel threaded: bitwise the same results
    e = harness.build(CC + ["-fopenmp", "-DTR_PAR_MIN=1"], d, os.path.join(HERE, "check_stream.c"),
                      os.path.join(d, "check_omp"))
    if e:
        return "OpenMP build: " + e
    want = [x for x in r.stdout.splitlines() if x.startswith("digest")]
    for nt in (1, 3):
        o = run([os.path.join(d, "check_omp"), "1"], env=dict(os.environ, OMP_NUM_THREADS=str(nt)))
        got = [x for x in o.stdout.splitlines() if x.startswith("digest")]
        if o.returncode != 0 or got != want:
            return "OpenMP, %d threads: %s, not the serial build's %s" % (
                nt, got[0] if got else o.stdout[-300:], want)
    print("  OpenMP 1 and 3 threads: the same digest")
    return None


class MeanMix(torch.nn.Module):
    """A causal LM followed by a token-mixing op: not streamable."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, idx):
        y = self.m(idx)
        return y + y.mean(dim=1, keepdim=True)

    def example_input(self, batch=1, seq=None):
        return self.m.example_input(batch, seq)


class NonCausalLM(torch.nn.Module):
    """Token ids in, logits out, but with the vision (non-causal) TSSA."""
    def __init__(self, dim=32, heads=4, vocab=30, seq=16):
        super().__init__()
        self.seq, self.vocab = seq, vocab
        self.wte = torch.nn.Embedding(vocab, dim)
        self.block = tost_ref.TSSABlock(dim, heads)
        self.head = torch.nn.Linear(dim, vocab)

    def forward(self, idx):
        return self.head(self.block(self.wte(idx)))

    def example_input(self, batch=1, seq=None):
        return torch.randint(0, self.vocab, (batch, seq or self.seq))


def rejections(tostc, work):
    d = os.path.join(work, "reject")
    os.makedirs(d, exist_ok=True)
    errs = []
    out = os.path.join(d, "out.c")
    # token ids through a non-causal TSSA
    for f in ("out.c", "out.h"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    v = tost_ref.randomize(NonCausalLM(), 0)
    tost_ref.export(v, os.path.join(d, "noncausal.onnx"), 17)
    r = run([tostc, os.path.join(d, "noncausal.onnx"), "-o", out, "--stream"])
    if r.returncode != 1 or "node '" not in r.stdout or "non-causal TSSA" not in r.stdout:
        errs.append("non-causal --stream: expected an error naming the TSSA node, got: " + r.stdout)
    else:
        print("  non-causal TSSA --stream: " + r.stdout.strip())
    if os.path.exists(out):
        errs.append("a failed --stream left an output file")
    # vision: not token ids at all
    v = tost_ref.randomize(tost_ref.ToSTVision(32, 1, 4, 32, 10, 1), 0)
    tost_ref.export(v, os.path.join(d, "vision.onnx"), 17)
    r = run([tostc, os.path.join(d, "vision.onnx"), "-o", out, "--stream"])
    if r.returncode != 1 or "token ids" not in r.stdout:
        errs.append("vision --stream: expected an error about the input, got: " + r.stdout)
    else:
        print("  vision --stream: " + r.stdout.strip())
    # unfused causal attention: CumSum over tokens
    a = dict(dim=32, depth=1, heads=4, vocab=30, block=16, seq=16)
    tost_ref.export(lm(a), os.path.join(d, "lm.onnx"), 17)
    r = run([tostc, os.path.join(d, "lm.onnx"), "-o", out, "--stream", "--no-fuse"])
    if r.returncode != 1 or "CumSum" not in r.stdout or "node '" not in r.stdout:
        errs.append("--no-fuse --stream: expected an error naming a CumSum node, got: " + r.stdout)
    else:
        print("  lm --no-fuse --stream: " + r.stdout.strip())
    # default mode: a note, NAME_run only
    tost_ref.export(MeanMix(lm(a)).eval(), os.path.join(d, "mix.onnx"), 17)
    r = run([tostc, os.path.join(d, "mix.onnx"), "-o", out, "--name", "mix"])
    h = open(os.path.join(d, "out.h")).read() if os.path.exists(os.path.join(d, "out.h")) else ""
    if r.returncode != 0 or "note: no step API" not in r.stdout or "ReduceMean" not in r.stdout \
            or "mix_run(" not in h or "mix_step" in h:
        errs.append("token-mixing model: expected a note naming ReduceMean and NAME_run only, "
                    "got: " + r.stdout)
    else:
        print("  mean over tokens: " + r.stdout.strip())
    # --no-stream; and the default does emit the step API
    r = run([tostc, os.path.join(d, "lm.onnx"), "-o", out, "--name", "m", "--no-stream"])
    h = open(os.path.join(d, "out.h")).read()
    if r.returncode != 0 or "m_step" in h:
        errs.append("--no-stream still emitted the step API")
    r = run([tostc, os.path.join(d, "lm.onnx"), "-o", out, "--name", "m"])
    h = open(os.path.join(d, "out.h")).read()
    if r.returncode != 0 or "int m_step(void *state, const int64_t *token, float *logits" not in h:
        errs.append("default: no step API for a causal model: " + r.stdout)
    # the chunk and the batch are counts
    for opt in (["--prefill-chunk", "0"], ["--step-batch", "x"], ["--step-batch"]):
        r = run([tostc, os.path.join(d, "lm.onnx"), "-o", out] + opt)
        if r.returncode != 1 or opt[0] not in r.stdout or "count from 1 to 4096" not in r.stdout:
            errs.append("%s: expected an error about the count, got: %s" % (" ".join(opt), r.stdout))
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    tostc = os.path.abspath(a.tostc)
    ok = bad = 0
    for name, margs, opset, dyn, src, extra in CASES:
        print(name)
        err = streamable(tostc, a.work, name, margs, opset, dyn, src, extra)
        if err:
            print("FAIL %s: %s" % (name, err))
            bad += 1
        else:
            ok += 1
    print("rejections")
    errs = rejections(tostc, a.work)
    for e in errs:
        print("FAIL " + e)
    bad += len(errs)
    ok += 9 - len(errs)
    print("stream: %d passed, %d failed" % (ok, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
