#!/bin/sh
# stream.sh -- the streaming-generation benchmark in one command (see
# bench/stream.py and docs/performance.md, section "Streaming generation"):
#   bench/stream.sh [--block 512] [--dim 256] [--depth 4] [--passes 5] [--runs 5]
# Builds tostc (Release) in build/bench/tostc-build, installs onnxruntime-node
# 1.30.0 in build/bench/ort (as bench/run.sh does), then runs bench/stream.py.
set -e
cd "$(dirname "$0")/.."
B=build/bench
mkdir -p $B/ort
cmake -S . -B $B/tostc-build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build $B/tostc-build -j2 --target tostc >/dev/null
if [ ! -f $B/ort/node_modules/onnxruntime-node/package.json ]; then
	(cd $B/ort && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
exec /usr/bin/python3 bench/stream.py "$@"
