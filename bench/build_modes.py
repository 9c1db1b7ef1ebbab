#!/usr/bin/python3
"""build_modes.py -- what it costs to build a model's generated C in each
weights mode (tostc --weights=embed|blob|extern): the size of model.c, and
the C compiler's wall-clock time, CPU time and peak memory for model.c (and
for blob, model.weights.S), median of 3 runs each.

    /usr/bin/python3 bench/build_modes.py [--cc CC] [--model M.onnx] [WORKDIR]

Default model: ToST-S (bench/export.py tost_s, exported into WORKDIR if
missing); default CC: cc; flags -O2 -march=native, as the README builds
model.c.  Peak memory is the largest resident set of the compiler's
processes (getrusage of the children: the driver, cc1, as).  Prints a
Markdown table (docs/performance.md, "Building the generated C").
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(cmd, cwd):
    """(wall s, cpu s, peak MB) of one run of cmd, in a child process of
    its own so that getrusage's maximum is this command's."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.time()\n"
             "subprocess.run(sys.argv[1:], check=True)\n"
             "w = time.time() - t\n"
             "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
             "print(w, r.ru_utime + r.ru_stime, r.ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe] + cmd, cwd=cwd, check=True,
                         stdout=subprocess.PIPE).stdout.split()
    return tuple(float(v) for v in out)


def median3(cmd, cwd):
    runs = [measure(cmd, cwd) for _ in range(3)]
    return tuple(statistics.median(r[i] for r in runs) for i in range(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", nargs="?", default=os.path.join(ROOT, "build", "bench", "modes"))
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--model")
    ap.add_argument("--tostc", default=os.path.join(ROOT, "build", "tostc"))
    a = ap.parse_args()
    model = a.model
    if not model:
        model = os.path.join(a.work, "tost_s", "model.onnx")
        if not os.path.exists(model):
            subprocess.run([sys.executable, os.path.join(HERE, "export.py"), a.work, "tost_s"],
                           check=True)
    print("| mode | model.c | %s -O2 -march=native -c model.c: wall / CPU / peak memory "
          "| model.weights.S: wall / CPU / peak memory |" % a.cc)
    print("|---|---|---|---|")
    for mode in ("embed", "blob", "extern"):
        d = os.path.join(a.work, mode)
        os.makedirs(d, exist_ok=True)
        subprocess.run([a.tostc, os.path.abspath(model), "-o", os.path.join(d, "model.c"),
                        "--weights=" + mode], check=True)
        size = os.path.getsize(os.path.join(d, "model.c"))
        c = median3([a.cc, "-O2", "-march=native", "-c", "model.c", "-o", "model.o"], d)
        s = "-"
        if mode == "blob":
            w = median3([a.cc, "-c", "model.weights.S", "-o", "weights.o"], d)
            s = "%.2f s / %.2f s / %.0f MB" % w
        sz = "%.0f MB" % (size / 1e6) if size > 1e6 else "%.0f KB" % (size / 1e3)
        print("| %s | %s | %.2f s / %.2f s / %.0f MB | %s |" % ((mode, sz) + c + (s,)),
              flush=True)
    print("(medians of 3 runs; load average %.1f)" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
