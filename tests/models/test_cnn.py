#!/usr/bin/python3
"""
test_cnn.py -- the convolutional networks of the channels-last layout
(compiler/passes/layout.c, fuse_conv.c) through tostc, against PyTorch
(ctest `vision_cnn`).

    /usr/bin/python3 tests/models/test_cnn.py --tostc build/tostc --work DIR [--filter RE]

torchvision 0.14's own classes with seeded random weights (BatchNorm running
statistics randomised too), at 64 px so that every op of the 224 px network
appears at a tenth of the cost:

  mobilenet_v2         width 0.5: depthwise 3x3 at strides 1 and 2, Relu6
                       (Clip) epilogues, residual adds
  mnasnet0_5           depthwise 3x3 and 5x5, Relu, residual adds
  efficientnet_b0      depthwise 3x3 and 5x5, SiLU as Sigmoid and Mul,
                       squeeze-excite (ReduceMean, a channel scale)
  shufflenet_v2_x0_5   channel shuffle, Split / Slice, Concat, MaxPool
  resnet18             dense 3x3, 1x1 strided, MaxPool, Relu after the add
  regnet_y_400mf       grouped 3x3 (group width 8), squeeze-excite

Each is exported with torch.onnx.export (eval, opset 17) and compiled twice:
as tostc compiles it (channels last, fused epilogues) and with --no-fuse
(channels first, separate ops).  The fused C is built with the plain C99
kernels (-DTR_NO_SIMD) and with -march=native, the unfused one with
-march=native; each must match PyTorch: |got - ref| <= 1e-4 |ref| + 1e-5
max|ref|.  The fused C must call the channels-last kernels the network
needs (tr_conv_nhwc_f32, and tr_dwconv_nhwc_f32 where it has depthwise
convolutions), so a layout that silently stops applying fails.  The native
fused C is built once more with OpenMP (-fopenmp -DTR_PAR_MIN=1: every
threaded loop split) and run on 1, 2 and 3 threads: every output bitwise
equal to the serial build's.
Last line: `vision_cnn: N passed, N failed (ISAs)`.
"""
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402
from test_vision import randomize  # noqa: E402

CFLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]
CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()
SIZE = (1, 3, 64, 64)


def tv(name, **kw):
    import torchvision.models
    return lambda: getattr(torchvision.models, name)(**kw)


# name, constructor, whether it has depthwise convolutions
CASES = [("mobilenet_v2", (tv("mobilenet_v2", width_mult=0.5), True)),
         ("mnasnet0_5", (tv("mnasnet0_5"), True)),
         ("efficientnet_b0", (tv("efficientnet_b0"), True)),
         ("shufflenet_v2_x0_5", (tv("shufflenet_v2_x0_5"), True)),
         ("resnet18", (tv("resnet18"), False)),
         ("regnet_y_400mf", (tv("regnet_y_400mf"), False))]


def compile_one(tostc, path, d, extra):
    os.makedirs(d, exist_ok=True)
    rc, _, err = harness.tostc(tostc, path, d, "net", extra)
    if rc != 0:
        return "tostc %s: %s" % (harness.describe_rc(rc), harness.first_line(err)), None, None
    P, ins, outs = harness.model_io(d, "net")
    with open(os.path.join(d, "harness.c"), "w") as f:
        f.write(harness.make_harness("net", P, ins, outs))
    return None, outs, os.path.join(d, "harness.c")


def run_case(name, make, depthwise, tostc, work, builds):
    """[(label, error or None)] for the case's checks"""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    model = randomize(make(), 1)
    x = torch.randn(*SIZE, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(x).numpy()
    path = os.path.join(d, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=17)
    results = []
    for variant, extra in (("fused", []), ("unfused", ["--no-fuse"])):
        vd = os.path.join(d, variant)
        why, outs, hc = compile_one(tostc, path, vd, extra)
        labels = [(lb, cc) for lb, cc in builds if variant == "fused" or lb == builds[-1][0]]
        if why:
            results += [("%s %s" % (variant, lb), why) for lb, _ in labels]
            continue
        if variant == "fused":
            src = open(os.path.join(vd, "model.c")).read()
            want = ["tr_conv_nhwc_f32("] + (["tr_dwconv_nhwc_f32("] if depthwise else [])
            miss = [k for k in want if k not in src]
            results.append(("fused layout", "model.c calls no %s" % ", ".join(miss) if miss
                            else None))
        for label, cc in labels:
            exe = "harness_" + label
            why = harness.build(cc, vd, hc, os.path.join(vd, exe))
            got = None
            if not why:
                got = harness.execute(vd, [x.numpy()], outs, run_dir=os.path.join(vd, label),
                                      exe=exe)
                why = harness.count_error(got, [ref], label)
                if not why:
                    why, _, _ = harness.tolerance_error(got[0], ref, label)
            results.append(("%s %s" % (variant, label), why))
            if variant == "fused" and label == builds[-1][0] and got is not None:
                results.append(("fused omp", omp_check(vd, cc, hc, x, outs, got)))
    return results


def omp_check(vd, cc, hc, x, outs, got):
    exe = "harness_omp"
    why = harness.build(cc + ["-fopenmp", "-DTR_PAR_MIN=1"], vd, hc, os.path.join(vd, exe))
    if why:
        return "OpenMP build: " + why
    for nt in (1, 2, 3):
        par = harness.execute(vd, [x.numpy()], outs, exe=exe,
                              run_dir=os.path.join(vd, "omp%d" % nt),
                              env={"OMP_NUM_THREADS": str(nt)})
        for a, b in zip(par, got, strict=True):
            if a.tobytes() != b.tobytes():
                return "OpenMP, %d threads: differs from the serial build (max |diff| %.3g)" % (
                    nt, float(np.abs(a.astype(np.float64) - b).max()))
    return None


def main():
    tostc, work, cc, picked = harness.runner_args(__doc__, CASES)
    torch.set_num_threads(1)
    plain, _ = harness.isa_build([cc] + CFLAGS, "plain")
    native, isa = harness.isa_build([cc] + CFLAGS, "native")
    builds = [("plain", plain)] + ([("native", native)] if isa != harness.PLAIN else [])
    passed = failed = 0
    for name, (make, depthwise) in picked:
        for label, why in run_case(name, make, depthwise, tostc, work, builds):
            if why:
                failed += 1
                print("FAIL %s (%s): %s" % (name, label, why))
            else:
                passed += 1
                print("ok   %s (%s)" % (name, label))
    isas = "plain C99" + (" + native: " + isa if isa != harness.PLAIN else "; native skipped: "
                          "-march=native selects no SIMD kernels")
    print("vision_cnn: %d passed, %d failed (%s)" % (passed, failed, isas))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
