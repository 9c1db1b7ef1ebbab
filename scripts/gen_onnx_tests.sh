#!/bin/sh
# gen_onnx_tests.sh OUTDIR -- wrapper: the generator needs Debian's python3
# (onnx 1.12, numpy), not a pyenv python3 that may come first on PATH.
PY=${TOSTC_PYTHON:-/usr/bin/python3}
exec "$PY" "$(dirname "$0")/gen_onnx_tests.py" "$@"
