#!/usr/bin/python3
"""
op_coverage.py -- ctest `op_coverage`: every op tostc claims has a value test.

    /usr/bin/python3 tests/conformance/op_coverage.py --tostc build/tostc --data DATA \
        --passing tests/conformance/passing.txt [--models DIR...] [-v]

Every op `tostc --list-ops` prints must be used by at least one model whose
outputs a test compares with an independent reference:

  - a conformance case of passing.txt (ctest conformance fails unless exactly
    those cases pass), its ops read from DATA/node/<case>/model.onnx or
    DATA/derived/<case>/model.onnx (scripts/gen_onnx_tests.py);
  - a model.onnx under a --models directory: the ONNX exports of the model
    tests (ctest models, fusion, epilogue, ...: every case there must pass
    against PyTorch or numpy for the suite to be green).

Fails naming each listed op that no such model uses.  -v prints every op with
its counts.  Last line: `op_coverage: N passed, N failed` (ops with a value
test, ops without).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

import onnx  # noqa: E402

from harness import describe_rc, first_line, run  # noqa: E402
from run import graph_ops, read_passing  # noqa: E402


def ops_of(path):
    """The default-domain ops of the ONNX model PATH (subgraphs included)."""
    return {op for dom, op in graph_ops(onnx.load(path).graph, set()) if dom in ("", "ai.onnx")}


def main():
    ap = argparse.ArgumentParser(description="every op of tostc --list-ops has a value test")
    ap.add_argument("--tostc", required=True)
    ap.add_argument("--data", required=True, help="gen_onnx_tests.py output")
    ap.add_argument("--passing", required=True, help="the conformance floor (passing.txt)")
    ap.add_argument("--models", nargs="*", default=[],
                    help="work directories of the model tests (model.onnx files)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    rc, out, err = run([args.tostc, "--list-ops"], 60)
    if rc != 0:
        print("%s --list-ops: %s: %s" % (args.tostc, describe_rc(rc), first_line(err)))
        return 1
    claimed = [l.split()[0] for l in out.splitlines() if l.strip()]
    if not claimed:
        print("op_coverage: tostc --list-ops lists no ops")
        return 1

    conf, models = {}, {}  # op -> how many conformance cases / model tests use it
    for case in sorted(read_passing(args.passing)):
        paths = [os.path.join(args.data, d, case, "model.onnx") for d in ("node", "derived")]
        path = next((p for p in paths if os.path.isfile(p)), None)
        if path is None:
            print("op_coverage: %s (passing.txt) is not in %s" % (case, args.data))
            return 1
        for op in ops_of(path):
            conf[op] = conf.get(op, 0) + 1
    for d in args.models:
        if not os.path.isdir(d):
            print("note: %s does not exist (its tests have not run)" % d)
        for root, _, files in os.walk(d):
            if "model.onnx" in files:
                for op in ops_of(os.path.join(root, "model.onnx")):
                    models[op] = models.get(op, 0) + 1

    bad = [op for op in claimed if not conf.get(op) and not models.get(op)]
    for op in claimed:
        if op in bad:
            print("FAIL %s: no passing value test (no case of passing.txt and no model test"
                  " uses it)" % op)
        elif args.verbose:
            print("ok   %-22s %4d conformance cases, %3d model tests"
                  % (op, conf.get(op, 0), models.get(op, 0)))
    print("op_coverage: %d passed, %d failed (of %d ops in tostc --list-ops)"
          % (len(claimed) - len(bad), len(bad), len(claimed)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
