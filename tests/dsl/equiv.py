#!/usr/bin/python3
"""
equiv.py -- the same ToST model from the DSL (+ .safetensors) and from ONNX
gives the same outputs, and both match PyTorch.

    /usr/bin/python3 tests/dsl/equiv.py --tostc build/tostc --work DIR

For each case: build the PyTorch reference model (tests/models/tost_ref.py,
official architecture) with random weights, write its state_dict as
.safetensors (F32, or F16 / BF16 to test conversion) and export it to ONNX;
compile tests/dsl/<kind>.tost (sizes overridden with --dim) and the .onnx
with tostc; build both with tests/harness.py's harness; run them on the same input and
compare each output with PyTorch's and with each other:

    |got - ref| <= RTOL * |ref| + ATOL_REL * max|ref|    RTOL 1e-4, ATOL_REL 1e-5

F16 / BF16 cases round the PyTorch weights to that type first, so the
reference sees exactly the weights the compiler reads.  Last line:
`dsl_equiv: N passed, N failed`; exit status 0 when all pass.
"""
import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
sys.path.insert(0, os.path.join(HERE, ".."))

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402
import tost_ref  # noqa: E402

CC = ["cc", "-std=c99", "-O2"] + os.environ.get("TOSTC_TEST_CFLAGS", "").split()  # e.g. sanitizers (CI)
warnings.filterwarnings("ignore")

# name, kind, model args, --dim overrides for the .tost, weight dtype
CASES = [
    ("vision_d32", "vision", dict(dim=32, depth=2, heads=4, img=32, num_classes=10, cls_depth=2),
     dict(d=32, depth=2, heads=4, img=32, classes=10, cls_depth=2), torch.float32),
    ("vision_d64_h8", "vision", dict(dim=64, depth=3, heads=8, img=48, num_classes=7, cls_depth=1),
     dict(d=64, depth=3, heads=8, img=48, classes=7, cls_depth=1), torch.float32),
    ("lm_d32", "lm", dict(dim=32, depth=2, heads=4, vocab=61, block=32, seq=16, bias=False),
     dict(d=32, depth=2, heads=4, vocab=61, block=32, seq=16), torch.float32),
    ("lm_bias_f16", "lm", dict(dim=48, depth=3, heads=6, vocab=50, block=24, seq=20, bias=True),
     dict(d=48, depth=3, heads=6, vocab=50, block=24, seq=20, bias=1), torch.float16),
    ("lm_bf16", "lm", dict(dim=32, depth=1, heads=2, vocab=40, block=16, seq=16, bias=False),
     dict(d=32, depth=1, heads=2, vocab=40, block=16, seq=16), torch.bfloat16),
]

def close(got, ref):
    why, err, _ = harness.tolerance_error(got, ref, "")
    return why is None, err


def case(tostc, work, name, kind, margs, dims, wdtype):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    torch.manual_seed(0)
    if kind == "vision":
        m = tost_ref.ToSTVision(margs["dim"], margs["depth"], margs["heads"], margs["img"],
                                margs["num_classes"], margs["cls_depth"])
    else:
        m = tost_ref.ToSTLM(margs["dim"], margs["depth"], margs["heads"], margs["vocab"],
                            margs["block"], margs["seq"], bias=margs["bias"])
    tost_ref.randomize(m, seed=1)
    if wdtype != torch.float32:   # the reference uses the rounded weights
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(p.to(wdtype).float())
            for b in m.buffers():
                if b.is_floating_point():
                    b.copy_(b.to(wdtype).float())
    tost_ref.save_safetensors(os.path.join(d, kind + ".safetensors"), m.state_dict(),
                              {"format": "pt"}, wdtype)
    shutil.copy(os.path.join(HERE, kind + ".tost"), d)
    x, y = tost_ref.export(m, os.path.join(d, "model.onnx"), 17,
                           seq=margs.get("seq"))
    ref = y.detach().numpy().astype(np.float32)
    outs = {}
    for src in ("tost", "onnx"):
        sd = os.path.join(d, src)
        model = os.path.join(d, kind + ".tost") if src == "tost" else os.path.join(d, "model.onnx")
        extra = []
        if src == "tost":
            for k, v in dims.items():
                extra += ["--dim", f"{k}={v}"]
        e, _, _, io = harness.compile_model(tostc, model, sd, "net", CC, extra)
        if e:
            raise RuntimeError(f"{src}: {e}")
        outs[src] = harness.one_output(harness.execute(sd, [x.numpy()], io))
    ok1, e1 = close(outs["tost"], ref)
    ok2, e2 = close(outs["onnx"], ref)
    ok3, e3 = close(outs["tost"], outs["onnx"])
    print(f"{name}: dsl vs torch {e1:.2e}, onnx vs torch {e2:.2e}, dsl vs onnx {e3:.2e} "
          f"-> {'ok' if ok1 and ok2 and ok3 else 'FAIL'}", flush=True)
    return ok1 and ok2 and ok3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    passed = failed = 0
    for c in CASES:
        if a.filter not in c[0]:
            continue
        try:
            ok = case(os.path.abspath(a.tostc), os.path.abspath(a.work), *c)
        except Exception as e:  # report and go on with the next case
            print(f"{c[0]}: FAIL\n{e}", flush=True)
            ok = False
        passed += ok
        failed += not ok
    print(f"dsl_equiv: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
