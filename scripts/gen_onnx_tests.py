#!/usr/bin/python3
"""
gen_onnx_tests.py -- regenerate the ONNX backend test data offline.

    /usr/bin/python3 scripts/gen_onnx_tests.py OUTDIR [--op-type OP] [--force]

The equivalent of `backend-test-tools generate-data -o OUTDIR` from the onnx
package (1.12 here): writes OUTDIR/node/test_*/model.onnx and
test_data_set_N/{input,output}_M.pb (plus OUTDIR/simple and OUTDIR/real, which
onnx's tool also writes; the conformance runner only reads node/).

onnx 1.12's case generators still use numpy aliases removed in numpy 1.24
(np.float, np.int, np.bool, np.object, np.complex); they are restored before
onnx's generator modules are imported.

Idempotent and fast: a stamp file OUTDIR/.generated (onnx version + op filter)
is written last; when it matches, nothing is regenerated (--force does).  The
data is generated into OUTDIR.tmp and renamed into place, so an interrupted run
never leaves a half-written OUTDIR that looks complete.
"""
import argparse
import os
import shutil
import sys

import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _type in (("float", float), ("int", int), ("bool", bool),
                          ("object", object), ("complex", complex)):
        setattr(np, _alias, _type)

import onnx  # noqa: E402  (after the numpy aliases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--op-type", default=None, help="only cases containing this op")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = ap.parse_args()

    out = os.path.abspath(args.outdir)
    stamp = os.path.join(out, ".generated")
    want = "onnx %s op_type=%s\n" % (onnx.__version__, args.op_type or "*")
    if not args.force and os.path.isfile(stamp):
        with open(stamp) as f:
            if f.read() == want:
                print("%s: up to date (%s)" % (out, want.strip()))
                return 0

    from onnx.backend.test import cmd_tools  # imports the case generators

    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    cmd_tools.generate_data(argparse.Namespace(output=tmp, op_type=args.op_type))
    with open(os.path.join(tmp, ".generated"), "w") as f:
        f.write(want)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    n = len(os.listdir(os.path.join(out, "node")))
    print("%s: %d node test cases (%s)" % (out, n, want.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
