#!/usr/bin/python3
"""
mutate_onnx.py -- structured mutation of the ONNX node test models: integer
and float attributes, int64 initializers and input dims set to extreme values,
each mutant compiled by tostc (use an ASan + UBSan build).  Any exit status
other than 0 or 1, or a timeout, is reported and the mutant kept.

    /usr/bin/python3 tests/harden/mutate_onnx.py TOSTC [SEED [NMODELS]]

Models from /tmp/onnxdata/node (scripts/gen_onnx_tests.py /tmp/onnxdata);
mutants in /tmp/hz/smut.  docs/reliability.md has the figures.
"""
import onnx, os, sys, subprocess, random, glob, copy
from onnx import numpy_helper
import numpy as np
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
tostc = sys.argv[1]
os.makedirs('/tmp/hz/smut', exist_ok=True)
EXT = [0, -1, 1, 2**62, -2**62, 2**31, -2**31, 2**40, 7, -7]
bad = 0; runs = 0
models = sorted(glob.glob('/tmp/onnxdata/node/*/model.onnx'))
random.shuffle(models)
for path in models[:int(sys.argv[3]) if len(sys.argv) > 3 else None]:
    try:
        m0 = onnx.load(path)
    except Exception:
        continue
    for trial in range(6):
        m = copy.deepcopy(m0)
        g = m.graph
        changed = False
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.INT and random.random() < 0.7:
                    a.i = random.choice(EXT); changed = True
                elif a.type == onnx.AttributeProto.INTS and random.random() < 0.7 and len(a.ints):
                    k = random.randrange(len(a.ints)); a.ints[k] = random.choice(EXT); changed = True
                elif a.type == onnx.AttributeProto.FLOAT and random.random() < 0.5:
                    a.f = random.choice([float('nan'), float('inf'), -1e30, 0.0, 1e-45]); changed = True
        for t in g.initializer:
            if t.data_type == onnx.TensorProto.INT64 and random.random() < 0.7:
                arr = numpy_helper.to_array(t).copy()
                if arr.size:
                    arr.flat[random.randrange(arr.size)] = random.choice(EXT)
                    t.CopyFrom(numpy_helper.from_array(arr, t.name)); changed = True
        # graph input dims
        for vi in g.input:
            sh = vi.type.tensor_type.shape
            if random.random() < 0.2 and len(sh.dim):
                sh.dim[random.randrange(len(sh.dim))].dim_value = random.choice([1, 2**20, 2**31, 3])
                changed = True
        if not changed:
            continue
        out = '/tmp/hz/smut/m%d.onnx' % (runs % 4)
        with open(out, 'wb') as f:
            f.write(m.SerializeToString())
        runs += 1
        try:
            p = subprocess.run([tostc, out, '-o', '/tmp/hz/smut/o.c'], capture_output=True, timeout=60,
                               env=dict(os.environ, TOSTC_MAX_MEMORY=str(1 << 30)))
        except subprocess.TimeoutExpired:
            print('TIMEOUT', path); bad += 1
            os.rename(out, '/tmp/hz/smut/timeout_%d.onnx' % bad); continue
        if p.returncode not in (0, 1):
            bad += 1
            keep = '/tmp/hz/smut/crash_%d.onnx' % bad
            os.rename(out, keep)
            err = p.stderr.decode(errors='replace')
            line = [l for l in err.splitlines() if 'ERROR' in l or 'runtime error' in l or 'internal error' in l][:1]
            print('CRASH rc=%d %s %s %s' % (p.returncode, path.split('/')[-2], keep, line))
            sys.stdout.flush()
print('runs', runs, 'bad', bad)
