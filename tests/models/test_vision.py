#!/usr/bin/python3
"""
test_vision.py -- torchvision architectures through tostc, against PyTorch
(ctest `vision`).

    /usr/bin/python3 tests/models/test_vision.py --tostc build/tostc --work DIR [--filter RE]

The architectures a user tried and tostc refused (issue 21), built from
torchvision 0.14's own classes with seeded random weights (BatchNorm running
statistics randomised too) at small widths and input sizes, so that the
same ops appear at a fraction of the cost:

  mobilenet_v3_small   width 0.5, 64 px: HardSwish, HardSigmoid, squeeze-excite
  densenet121          the DenseNet class, growth 8, 64 px: Pad, Concat chains
  inception_v3         the full network (no aux logits), 75 px: Pad, pooling
  swin_t               the SwinTransformer class, dim 24, 112 px: shifted
                       windows (Mod, ScatterND, masks), Dropout
  maxvit_t             the MaxVit class, 16-128 channels, 128 px: Einsum,
                       relative position bias

Each is exported with torch.onnx.export (eval, opset 17), compiled with
tostc, built twice (-DTR_NO_SIMD and -march=native, as run_models.py does)
and compared with PyTorch: |got - ref| <= 1e-4 |ref| + 1e-5 max|ref|.
Last line: `vision: N passed, N failed (ISAs)`.
"""
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402

CFLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]
CFLAGS += os.environ.get("TOSTC_TEST_CFLAGS", "").split()


def mobilenet_v3_small():
    from torchvision.models import mobilenet_v3_small as m
    return m(width_mult=0.5), (1, 3, 64, 64)


def densenet121():
    from torchvision.models import DenseNet
    return DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16), (1, 3, 64, 64)


def inception_v3():
    from torchvision.models import inception_v3 as m
    return m(aux_logits=False, init_weights=False), (1, 3, 75, 75)


def swin_t():
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2, 2, 2],
                           num_heads=[1, 2, 2, 4], window_size=[7, 7],
                           stochastic_depth_prob=0.0), (1, 3, 112, 112)


def maxvit_t():
    from torchvision.models.maxvit import MaxVit
    return MaxVit(input_size=(128, 128), stem_channels=16, partition_size=4,
                  block_channels=[16, 32, 64, 128], block_layers=[1, 1, 1, 1], head_dim=8,
                  stochastic_depth_prob=0.0), (1, 3, 128, 128)


CASES = [("mobilenet_v3_small", mobilenet_v3_small), ("densenet121", densenet121),
         ("inception_v3", inception_v3), ("swin_t", swin_t), ("maxvit_t", maxvit_t)]


def randomize(m, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(1, p[0].numel()) ** 0.5))
        for mod in m.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=g) + 0.5)
    return m.eval()


def run_case(name, make, tostc, work, builds):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    model, shape = make()
    model = randomize(model, 1)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(x).numpy()
    path = os.path.join(d, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=17)
    rc, _, err = harness.tostc(tostc, path, d, "net")
    if rc != 0:
        return ["tostc %s: %s" % (harness.describe_rc(rc), harness.first_line(err))] * len(builds)
    P, ins, outs = harness.model_io(d, "net")
    harness_c = os.path.join(d, "harness.c")
    with open(harness_c, "w") as f:
        f.write(harness.make_harness("net", P, ins, outs))
    results = []
    for label, cc in builds:
        exe = "harness_" + label
        why = harness.build(cc, d, harness_c, os.path.join(d, exe))
        if why:
            results.append(why)
            continue
        got = harness.execute(d, [x.numpy()], outs, run_dir=os.path.join(d, label), exe=exe)
        e = harness.count_error(got, [ref], label)
        if not e:
            e, _, _ = harness.tolerance_error(got[0], ref, label)
        results.append(e)
    return results


def main():
    tostc, work, cc, picked = harness.runner_args(__doc__, CASES)
    plain, _ = harness.isa_build([cc] + CFLAGS, "plain")
    native, isa = harness.isa_build([cc] + CFLAGS, "native")
    builds = [("plain", plain)] + ([("native", native)] if isa != harness.PLAIN else [])
    passed = failed = 0
    for name, make in picked:
        for (label, _), why in zip(builds, run_case(name, make, tostc, work, builds)):
            if why:
                failed += 1
                print("FAIL %s (%s): %s" % (name, label, why))
            else:
                passed += 1
                print("ok   %s (%s)" % (name, label))
    isas = "plain C99" + (" + native: " + isa if isa != harness.PLAIN else "; native skipped: "
                          "-march=native selects no SIMD kernels")
    print("vision: %d passed, %d failed (%s)" % (passed, failed, isas))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
