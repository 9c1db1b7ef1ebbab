#!/usr/bin/python3
"""
run_run.py -- `tostc run`: a model compiled, built with $CC and run on the
arrays of an .npz (compiler/run.c, compiler/front/npz.c).

    /usr/bin/python3 tests/run/run_run.py --tostc build/tostc --work DIR

1. Outputs: digits (f32 image), charlm (i64 token ids) and a two-input,
   two-output model with a bool input (onnx.helper) run with --outputs
   OUT.npz; np.load reads it, and every output is bitwise what an embed
   build of the same model, with the same compiler flags, computes
   (tests/harness.py).  Inputs as a .npy, by position (np.savez(f, a)),
   outputs to a .npy; --threads 2 gives bitwise the one-thread outputs.
2. Reports: the summary without --outputs (name, type, shape, min, max,
   mean, first values), --bench N's line (runs, warm-up, median, min,
   workspace).
3. Errors, each exit status 1 with one message that names the problem and
   nothing left behind (no temporary directory in $TMPDIR, no OUT.npz):
   a missing input, an extra array, a wrong element type, a wrong shape,
   np.savez_compressed, a damaged (CRC) and a truncated archive, not an
   archive, no such file, no C compiler ($CC not found), a C compiler that
   fails, a .npy for two outputs, bad options.

$TOSTC_TEST_CFLAGS is added to the C flags of both builds (CI: the
sanitizers).  Last line: `run: N passed, N failed`.
"""
import argparse
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import harness  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DIGITS = os.path.join(ROOT, "samples", "digits", "digits.onnx")
CHARLM = os.path.join(ROOT, "samples", "charlm", "charlm.onnx")
CFLAGS = ["-O2"] + os.environ.get("TOSTC_TEST_CFLAGS", "").split()


def two_io_model(path):
    """y = Where(c, x, -x) (f32, bool -> f32); m = n * n (i64)."""
    nodes = [helper.make_node("Neg", ["x"], ["nx"], name="neg"),
             helper.make_node("Where", ["c", "x", "nx"], ["y"], name="where"),
             helper.make_node("Mul", ["n", "n"], ["m"], name="square")]
    g = helper.make_graph(nodes, "two", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
        helper.make_tensor_value_info("c", TensorProto.BOOL, [2, 3]),
        helper.make_tensor_value_info("n", TensorProto.INT64, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("m", TensorProto.INT64, [4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


class Runner:
    def __init__(self, tostc, work):
        self.tostc, self.work = tostc, work
        self.tmp = os.path.join(work, "tmp")   # $TMPDIR of tostc run: must stay empty
        os.makedirs(self.tmp, exist_ok=True)
        self.npass = self.nfail = 0

    def result(self, name, why):
        if why:
            self.nfail += 1
            print("FAIL %s: %s" % (name, why), flush=True)
        else:
            self.npass += 1
            print("ok   %s" % name, flush=True)

    def run(self, args, env=None):
        e = {"TMPDIR": self.tmp, "CFLAGS": " ".join(CFLAGS)}
        e.update(env or {})
        rc, out, err = harness.run([self.tostc, "run"] + args, 600, env=e)
        left = os.listdir(self.tmp)
        if left:
            for d in left:
                shutil.rmtree(os.path.join(self.tmp, d), ignore_errors=True)
            return rc, out, err, "left %s in $TMPDIR" % left
        return rc, out, err, None

    def reference(self, model, name, inputs):
        """The outputs of an embed build of MODEL, by the tests' own harness."""
        d = os.path.join(self.work, "ref_" + name)
        e, _, _, outs = harness.compile_model(self.tostc, model, d, name, ["cc"] + CFLAGS)
        if e:
            raise RuntimeError(e)
        return harness.execute(d, inputs, outs)

    def check_outputs(self, name, model, arrays, refs, extra=(), outfile="out.npz", names=None):
        out = os.path.join(self.work, name + "_" + outfile)
        rc, _, err, left = self.run([model, "--inputs", arrays, "--outputs", out] + list(extra))
        if rc != 0 or left:
            return self.result(name, left or "%s: %s" % (harness.describe_rc(rc),
                                                          harness.first_line(err)))
        if out.endswith(".npy"):
            got = [np.load(out)]
        else:
            z = np.load(out)
            if names and list(z.keys()) != names:
                return self.result(name, "OUT.npz holds %s, not %s" % (list(z.keys()), names))
            got = [z[k] for k in z.keys()]
        for i, (g, r) in enumerate(zip(got, refs)):
            if g.dtype != r.dtype or g.shape != r.shape or g.tobytes() != r.tobytes():
                return self.result(name, "output %d: %s %s differs from the embed build's %s %s"
                                   % (i, g.dtype, g.shape, r.dtype, r.shape))
        self.result(name, None if len(got) == len(refs) else "%d outputs, not %d"
                    % (len(got), len(refs)))

    def check_report(self, name, args, rx):
        rc, out, err, left = self.run(args)
        if rc != 0 or left:
            return self.result(name, left or "%s: %s" % (harness.describe_rc(rc),
                                                          harness.first_line(err)))
        self.result(name, None if re.search(rx, out, re.M) else
                    "stdout does not match /%s/: %r" % (rx, out[:300]))

    def check_error(self, name, args, rx, env=None):
        out = os.path.join(self.work, name + "_out.npz")
        rc, _, err, left = self.run(args + ["--outputs", out] if "--outputs" not in args else args,
                                    env)
        err = err.strip()
        if rc != 1:
            why = "%s (expected exit 1): %s" % (harness.describe_rc(rc), harness.first_line(err))
        elif left:
            why = left
        elif os.path.exists(out):
            why = "wrote %s" % out
        elif not re.search(rx, err):
            why = "message does not match /%s/: %s" % (rx, err[:300])
        elif len(err.splitlines()) > 3:
            why = "%d lines on stderr" % len(err.splitlines())
        else:
            why = None
        self.result(name, why)


def main():
    ap = argparse.ArgumentParser(description="tostc run")
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    R = Runner(os.path.abspath(args.tostc), work)
    w = lambda f: os.path.join(work, f)  # noqa: E731

    # the inputs
    raw = np.fromfile(os.path.join(ROOT, "samples", "digits", "digits_test.bin"), np.uint8)
    n = int(np.frombuffer(raw[:4].tobytes(), np.int32)[0])
    image = np.frombuffer(raw[4:4 + 256 * n].tobytes(), np.float32).reshape(n, 1, 8, 8)[3:4].copy()
    ids = (np.arange(128) * 5 % 7).reshape(1, 128).astype(np.int64)
    two = w("two.onnx")
    two_io_model(two)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    c = rng.random((2, 3)) < 0.5
    nn = np.array([3, -4, 5, 1 << 20], np.int64)
    np.savez(w("digits.npz"), image=image)
    np.save(w("digits.npy"), image)
    np.savez(w("charlm_pos.npz"), ids)
    np.savez(w("two.npz"), n=nn, x=x, c=c)

    # 1. outputs, bitwise those of an embed build
    ref_d = R.reference(DIGITS, "digits", [image])
    ref_c = R.reference(CHARLM, "charlm", [ids])
    ref_t = R.reference(two, "two", [x, c, nn])
    R.check_outputs("digits", DIGITS, w("digits.npz"), ref_d, names=["logits"])
    R.check_outputs("digits_npy_in_npy_out", DIGITS, w("digits.npy"), ref_d, outfile="out.npy")
    R.check_outputs("charlm_by_position", CHARLM, w("charlm_pos.npz"), ref_c, names=["logits"])
    R.check_outputs("charlm_2_threads", CHARLM, w("charlm_pos.npz"), ref_c, ["--threads", "2"])
    R.check_outputs("two_inputs_two_outputs", two, w("two.npz"), ref_t, names=["y", "m"])

    # 2. the summary and --bench
    R.check_report("summary", [DIGITS, "--inputs", w("digits.npz")],
                   r"^logits: float32 \(1, 10\)  min -?[\d.]+  max [\d.]+  mean -?[\d.e-]+\n"
                   r"  first: (-?[\d.e-]+ ){8}\.\.\.$")
    R.check_report("summary_int64", [two, "--inputs", w("two.npz")],
                   r"^m: int64 \(4,\)  min 9  max 1\.09951e\+12  mean .*\n  first: 9 16 25 1\.09951e\+12$")
    R.check_report("bench", [CHARLM, "--inputs", w("charlm_pos.npz"), "--bench", "5"],
                   r"^bench: 5 runs after 1 warm-up, 1 thread: median [\d.]+ ms, min [\d.]+ ms; "
                   r"workspace \d+ bytes$")

    # 3. errors
    np.savez(w("missing.npz"), img=image)
    np.savez(w("extra.npz"), image=image, other=image)
    np.savez(w("f64.npz"), image=image.astype(np.float64))
    np.savez(w("shape.npz"), image=np.zeros((2, 1, 8, 8), np.float32))
    np.savez_compressed(w("compressed.npz"), image=image)
    good = open(w("digits.npz"), "rb").read()
    bad = bytearray(good)
    bad[len(good) // 2] ^= 0x40   # inside the array's bytes
    open(w("crc.npz"), "wb").write(bytes(bad))
    open(w("truncated.npz"), "wb").write(good[:len(good) // 2])
    open(w("random.npz"), "wb").write(bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
    E = R.check_error
    E("missing_input", [DIGITS, "--inputs", w("missing.npz")], r"no array 'image'.*holds: 'img'")
    E("extra_array", [DIGITS, "--inputs", w("extra.npz")], r"'other' is not an input")
    E("wrong_dtype", [DIGITS, "--inputs", w("f64.npz")], r"float64.*takes float32")
    E("wrong_shape", [DIGITS, "--inputs", w("shape.npz")], r"shape \(2, 1, 8, 8\).*\(1, 1, 8, 8\)")
    E("savez_compressed", [DIGITS, "--inputs", w("compressed.npz")], r"savez_compressed")
    E("damaged_crc", [DIGITS, "--inputs", w("crc.npz")], r"CRC-32")
    E("truncated", [DIGITS, "--inputs", w("truncated.npz")], r"truncated|not a \.npz")
    E("not_an_archive", [DIGITS, "--inputs", w("random.npz")], r"not a \.npz")
    E("no_such_inputs", [DIGITS, "--inputs", w("nosuch.npz")], r"nosuch\.npz")
    E("no_inputs_option", [DIGITS], r"--inputs")
    E("no_c_compiler", [DIGITS, "--inputs", w("digits.npz")], r"no C compiler.*nosuch-cc",
      env={"CC": "nosuch-cc"})
    E("c_compiler_fails", [DIGITS, "--inputs", w("digits.npz")], r"C compiler failed",
      env={"CC": "false"})
    E("npy_for_two_outputs", [two, "--inputs", w("two.npz"), "--outputs", w("two_out.npy")],
      r"\.npy holds one array")
    E("bench_zero", [DIGITS, "--inputs", w("digits.npz"), "--bench", "0"], r"--bench")
    E("threads_word", [DIGITS, "--inputs", w("digits.npz"), "--threads", "two"], r"--threads")
    E("unknown_option", [DIGITS, "--inputs", w("digits.npz"), "--frob"], r"--frob")
    E("model_error", [w("two.npz"), "--inputs", w("digits.npz")], r"two\.npz")
    print("run: %d passed, %d failed" % (R.npass, R.nfail))
    return 1 if R.nfail else 0


if __name__ == "__main__":
    sys.exit(main())
