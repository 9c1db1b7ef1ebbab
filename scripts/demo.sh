#!/usr/bin/env bash
# demo.sh -- the README's first command: set up, build tostc, compile the
# bundled ToST digits classifier (from .tost and from .onnx) and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target tostc
exec samples/digits/run.sh
