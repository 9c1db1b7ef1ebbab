#!/usr/bin/python3
"""
run_models.py -- ToST-style PyTorch models through tostc, compared with PyTorch.

    /usr/bin/python3 tests/models/run_models.py --tostc build/tostc --work DIR [--filter RE]

For each case: build the model with seeded random weights (tost_ref.py: the
official ToST vision and language architectures; small_models.py: a simpler
vision model with a mean-pool head), export it with torch.onnx.export (eval mode) at the case's opset, compile it
with tostc (--dim for the symbolic-length export), build the generated C with
a harness that calls the typed entry point NAME_run, run it on random inputs
and compare every output with PyTorch's:

    |got - ref| <= RTOL * |ref| + ATOL_REL * max|ref|     RTOL = 1e-4, ATOL_REL = 1e-5

(the absolute term is relative to the output's scale, so elements near zero
are judged against the size of the whole output, not their own).

The generated C is built with cc -std=c99 -O2 -Wall -Wextra -Werror (plus
$TOSTC_MODELS_CFLAGS, e.g. -Wno-error=... to look past a warning, and
$TOSTC_TEST_CFLAGS, e.g. the sanitizers), and must also compile warning-free
with -O3 -march=native -pedantic -Werror.  It is built and checked twice:
with -DTR_NO_SIMD (the runtime's plain C99 kernels, whatever the other flags
select) and with -march=native (this CPU's SIMD kernels: AVX-512, AVX2+FMA or
NEON; when -march=native selects none, the summary says that this build was
skipped).  Every case counts once per build.

Thread-safety cases build a second harness: a reference run on the main
thread, then two pthreads, each with its own workspace (pre-filled with
different garbage) and output buffers, run NAME_run_v on the same inputs
REPS times; every output must be bitwise identical to the reference.

The same cases are built once more with OpenMP (-fopenmp, and
-DTR_PAR_MIN=1 so that every kernel with a threaded path takes it even on
these small shapes) and run with OMP_NUM_THREADS = 1, 2 and 3: every output
must be bitwise identical to the build without OpenMP.

Cases listed in XFAIL are known failures: failing is XFAIL, passing XPASS
(which fails the run, so the list stays honest).  Exit status 0 when every
other case passes.  The last line is `models: N passed, N failed (ISAs)`,
e.g. `(plain C99 + native: avx512f)`.
"""
import os
import shutil
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402
import small_models  # noqa: E402
import tost_ref  # noqa: E402

NAME = "net"
REPS = 4
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"] + os.environ.get("TOSTC_MODELS_CFLAGS", "").split()
# extra flags for the generated C, e.g. the sanitizers (CI's sanitizer pass)
CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()

# Models: tost_ref.py (helper "fuse": the official ToST architectures, op for
# op in TSSA) and small_models.py (simpler variants: mean-pool vision head).
VISION = dict(dim=64, depth=2, heads=4, img=64, num_classes=10)
LM = dict(dim=64, depth=2, heads=4, vocab=97, block=32)
TINY = dict(img=32, dim=32, depth=2, heads=4, classes=10)


def vision(seed):
    return tost_ref.randomize(tost_ref.ToSTVision(**VISION), seed)


def lm(seed):
    return tost_ref.randomize(tost_ref.ToSTLM(**LM), seed)


def vision_t(seed):
    """ToST-T width and heads (d 192, 4 heads), 2 TSSA blocks: realistic GEMM sizes."""
    return tost_ref.randomize(tost_ref.ToSTVision(**dict(VISION, dim=192)), seed)


def lm_wide(seed):
    """d 128, 8 heads, block 64, with biases."""
    return tost_ref.randomize(tost_ref.ToSTLM(**dict(LM, dim=128, heads=8, block=64, bias=True)),
                              seed)


def tiny_vision(seed):
    return small_models.randomize(small_models.TinyToSTVision(**TINY), seed)


def image(batch, size=VISION["img"]):
    return lambda g: (torch.randn(batch, 3, size, size, generator=g),)


def tokens(T):
    return lambda g: (torch.randint(0, LM["vocab"], (1, T), generator=g, dtype=torch.int64),)


CASES = [
    # name               model        seed opset fold   export input  run input   dynamic dims        threads
    ("vision_op13",      vision,      1,   13,   True,  image(1),     None,       None,   [],         False),
    ("vision_op17_b2",   vision,      3,   17,   True,  image(2),     None,       None,   [],         True),
    ("lm_op13",          lm,          2,   13,   True,  tokens(16),   None,       None,   [],         False),
    ("lm_op17_seq12",    lm,          4,   17,   True,  tokens(8),    tokens(12), "seq",  ["seq=12"], True),
    ("lm_op17_seq32",    lm,          4,   17,   True,  tokens(8),    tokens(32), "seq",  ["seq=32"], False),
    ("vision_d192_op17", vision_t,    7,   17,   True,  image(1),     None,       None,   [],         True),
    ("lm_d128_op17_seq64", lm_wide,   8,   17,   True,  tokens(16),   tokens(64), "seq",  ["seq=64"], True),
    ("tiny_vision_op17", tiny_vision, 5,   17,   True,  image(1, 32), None,       None,   [],         False),
    ("tiny_vision_op13_nofold", tiny_vision, 6, 13, False, image(1, 32), None,    None,   [],         False),
]

# Known failures: case -> reason.  Such a case failing is reported as XFAIL and
# does not fail the run; passing is XPASS and does (remove it from here then).
XFAIL = {
}

HARNESS_THREADS = r"""/* threads.c -- generated by tests/models/run_models.py: the same inputs
 * through %(N)s_run_v on two threads at once, each with its own workspace and
 * outputs, REPS times; every result must equal a single-threaded reference
 * bit for bit. */
#define _POSIX_C_SOURCE 200112L
#include "model.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIN %(NIN)d
#define NOUT %(NOUT)d
#define REPS %(REPS)d

static const size_t in_bytes[NIN] = {%(INB)s};
static const size_t out_bytes[NOUT] = {%(OUTB)s};
static const void *in[NIN];
static void *ref[NOUT];

typedef struct {
	unsigned char fill;     /* workspace garbage */
	unsigned char *ws_raw;
	void *out[NOUT];
	int bad;                /* runs that differed or failed */
} Job;

static void *xalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "threads: out of memory\n");
		exit(3);
	}
	return p;
}

static void *aligned_ws(unsigned char **raw, unsigned char fill)
{
	size_t n = (size_t)%(P)s_WORKSPACE_SIZE;
	unsigned char *ws;
	*raw = NULL;
	if (n == 0)
		return NULL;
	*raw = xalloc(n + 64);
	ws = *raw + (64 - (size_t)((uintptr_t)*raw %% 64)) %% 64;
	memset(ws, fill, n);
	return ws;
}

static void *worker(void *arg)
{
	Job *j = arg;
	void *ws = aligned_ws(&j->ws_raw, j->fill);
	int r, k;
	for (r = 0; r < REPS; r++) {
		for (k = 0; k < NOUT; k++)
			memset(j->out[k], j->fill, out_bytes[k]);
		if (%(N)s_run_v(in, j->out, ws) != 0)
			j->bad++;
		for (k = 0; k < NOUT; k++)
			if (memcmp(j->out[k], ref[k], out_bytes[k]) != 0)
				j->bad++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static char path[4096];
	pthread_t th[2];
	Job jobs[2];
	unsigned char *raw;
	void *ws;
	int i, k;
	FILE *f;
	if (argc != 2)
		return 3;
	for (i = 0; i < NIN; i++) {
		void *p = xalloc(in_bytes[i]);
		sprintf(path, "%%s/in_%%d.bin", argv[1], i);
		f = fopen(path, "rb");
		if (!f || fread(p, 1, in_bytes[i], f) != in_bytes[i]) {
			fprintf(stderr, "threads: cannot read %%s\n", path);
			return 3;
		}
		fclose(f);
		in[i] = p;
	}
	for (k = 0; k < NOUT; k++)
		ref[k] = xalloc(out_bytes[k]);
	ws = aligned_ws(&raw, 0x00);
	if (%(N)s_run_v(in, ref, ws) != 0)
		return 4;
	free(raw);
	for (i = 0; i < 2; i++) {
		jobs[i].fill = i ? 0xff : 0x5a;
		jobs[i].bad = 0;
		for (k = 0; k < NOUT; k++)
			jobs[i].out[k] = xalloc(out_bytes[k]);
		if (pthread_create(&th[i], NULL, worker, &jobs[i]) != 0)
			return 3;
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 2; i++) {
		if (jobs[i].bad) {
			fprintf(stderr, "threads: thread %%d: %%d of %%d results differ from the reference\n",
			        i, jobs[i].bad, REPS * (NOUT + 1));
			return 1;
		}
		free(jobs[i].ws_raw);
	}
	printf("threads: 2 x %%d runs bitwise identical\n", REPS);
	return 0;
}
"""


def make_threads(P, ins, outs):
    nb = lambda kind, i, ty: "(size_t)%s_%s%d_SIZE * sizeof(%s)" % (P, kind, i, harness.CTYPES[ty])
    return HARNESS_THREADS % dict(
        N=NAME, P=P, NIN=len(ins), NOUT=len(outs), REPS=REPS,
        INB=", ".join(nb("INPUT", i, t) for i, (_, t, _) in enumerate(ins)),
        OUTB=", ".join(nb("OUTPUT", i, t) for i, (_, t, _) in enumerate(outs)))


def run_case(case, tostc, work, cc, builds):
    """Export CASE, compile it with tostc and check the generated C once per
    build of BUILDS ([(label, cc and flags)]); CC: the compiler alone.  A list
    of (label, (None, notes) or the reason it failed, seconds: the first
    build's include the export and tostc)."""
    t0 = time.time()
    name, build, seed, opset, fold, mk_export, mk_run, dyn, dims, threads = case
    wd = os.path.join(work, name)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    torch.manual_seed(seed)
    model = build(seed)
    g = torch.Generator().manual_seed(1000 + seed)
    ex_in = mk_export(g)
    run_in = (mk_run or mk_export)(g)
    in_names = ["idx"] if ex_in[0].dtype == torch.int64 else ["image"]
    dynamic = {in_names[0]: {1: dyn}, "logits": {1: dyn}} if dyn else None
    onnx_path = os.path.join(wd, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            torch.onnx.export(model, ex_in, onnx_path, opset_version=opset, input_names=in_names,
                              output_names=["logits"], dynamic_axes=dynamic,
                              do_constant_folding=fold)
            ref = [model(*run_in).numpy()]

    extra = []
    for d in dims:
        extra += ["--dim", d]
    e, P, ins, outs = harness.compile_model(tostc, onnx_path, wd, NAME, None, extra, typed=True)
    if e:
        return [(label, e, 0) for label, _ in builds]
    if len(ins) != len(run_in) or len(outs) != len(ref):
        return [(label, "header has %d inputs, %d outputs" % (len(ins), len(outs)), 0)
                for label, _ in builds]
    for (nm, ty, shape), t in zip(ins, run_in):
        a = t.numpy()
        if tuple(a.shape) != shape or np.dtype(ty) != a.dtype:
            why = "input %s: header %s %s, data %s %s" % (nm, ty, shape, a.dtype, a.shape)
            return [(label, why, 0) for label, _ in builds]
    # users build with other flags too: -O3 inlines and propagates constants
    # further, where gcc's loop warnings have fired on kernel tails before
    rc, _, err = harness.run([cc, "-std=c99", "-O3", "-march=native", "-Wall", "-Wextra",
                              "-pedantic", "-Werror", "-c", os.path.join(wd, "model.c"), "-o",
                              os.path.join(wd, "model_o3.o")])
    if rc != 0:
        return [(label, "cc -O3 -march=native -Werror: " + harness.cc_error(err), 0)
                for label, _ in builds]
    inputs = [t.numpy() for t in run_in]
    res = []
    for label, flags in builds:
        try:
            r = check_build(wd, P, ins, outs, inputs, ref, label, flags, threads and REPS)
        except Exception as e:  # noqa: BLE001 -- report and go on with the next build
            r = "runner: %s: %s" % (type(e).__name__, e)
        res.append((label, r, time.time() - t0))
        t0 = time.time()
    return res


def check_build(wd, P, ins, outs, inputs, ref, label, flags, reps):
    """Build WD's generated C and harness.c with FLAGS (executables and run
    directories named after LABEL), run it on INPUTS and compare with the
    PyTorch references REF; with REPS, also the two-thread and the OpenMP
    determinism checks.  (None, notes) or the reason it failed."""
    exe = "harness_" + label
    e = harness.build(flags, wd, os.path.join(wd, "harness.c"), os.path.join(wd, exe))
    if e:
        return e
    got = harness.execute(wd, inputs, outs, run_dir=os.path.join(wd, label), exe=exe)
    why = harness.count_error(got, ref, "outputs")
    if why:
        return why
    notes = []
    for (nm, ty, shape), g, r in zip(outs, got, ref):
        why, err_max, scale = harness.tolerance_error(g, r, "output " + nm)
        if why:
            return why
        notes.append("max |err| %.2g, scale %.2g" % (err_max, scale))
    if not reps:
        return None, "; ".join(notes)

    threads_c = os.path.join(wd, "threads.c")
    with open(threads_c, "w") as f:
        f.write(make_threads(P, ins, outs))
    texe = os.path.join(wd, "threads_" + label)
    e = harness.build(flags + ["-pthread"], wd, threads_c, texe)
    if e:
        return "threads.c: " + e
    rc, out, err = harness.run([texe, os.path.join(wd, label)], 120)
    if rc != 0:
        return "threads %s: %s" % (harness.describe_rc(rc), harness.first_line(err or out))
    notes.append(out.strip().replace("threads: ", ""))

    omp = "harness_omp_" + label
    e = harness.build(flags + ["-fopenmp", "-DTR_PAR_MIN=1"], wd, os.path.join(wd, "harness.c"),
                      os.path.join(wd, omp))
    if e:
        return "OpenMP build: " + e
    for nt in (1, 2, 3):
        par = harness.execute(wd, inputs, outs, exe=omp,
                              run_dir=os.path.join(wd, "%s_omp%d" % (label, nt)),
                              env={"OMP_NUM_THREADS": str(nt)})
        for (nm, _, _), a, b in zip(outs, par, got, strict=True):
            if a.tobytes() != b.tobytes():
                return "OpenMP, %d threads: output %s differs from the serial build (max |diff| %.3g)" % (
                    nt, nm, float(np.abs(a.astype(np.float64) - b).max()))
    notes.append("OpenMP 1/2/3 threads bitwise equal")
    return None, "; ".join(notes)


def main():
    tostc, work, cc, cases = harness.runner_args("ToST-style models: tostc vs PyTorch", CASES)
    torch.set_num_threads(1)
    # the plain C99 kernels, and this CPU's SIMD kernels when it has some
    plain, _ = harness.isa_build([cc] + CFLAGS, "plain")
    native, isa = harness.isa_build([cc] + CFLAGS, "native")
    builds = [("plain", plain)]
    ran = harness.PLAIN
    if isa != harness.PLAIN:
        builds.append(("native", native))
        ran += " + native: " + isa
    else:
        ran += "; native: skipped, -march=native selects no SIMD kernel on this CPU"
    npass = nfail = nbad = nxfail = 0
    for c in cases:
        try:
            res = run_case(c, tostc, work, cc, builds)
        except Exception as e:  # noqa: BLE001 -- report and go on with the next model
            res = [(label, "runner: %s: %s" % (type(e).__name__, e), 0) for label, _ in builds]
        xf = XFAIL.get(c[0])
        for label, r, dt in res:
            what = "%s %s" % (c[0], label if label == "plain" else isa)
            if isinstance(r, tuple):
                npass += 1
                if xf:
                    nbad += 1
                print("%s %-32s %5.1fs  %s" % ("XPASS" if xf else "PASS", what, dt,
                                              r[1] + ("; listed in XFAIL: " + xf if xf else "")),
                      flush=True)
            else:
                nfail += 1
                if not xf:
                    nbad += 1
                else:
                    nxfail += 1
                print("%s %-32s %5.1fs  %s" % ("XFAIL" if xf else "FAIL", what, dt, r), flush=True)
    if nxfail:
        print("%d of the failures are known (XFAIL)" % nxfail)
    print("models: %d passed, %d failed (%s)" % (npass, nfail, ran))
    if nbad:
        print("%d unexpected results" % nbad)
    return 1 if nbad or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
