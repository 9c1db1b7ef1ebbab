#!/bin/sh
# run.sh -- the benchmark in one command (see bench/bench.py and docs/performance.md):
#   bench/run.sh [--runs N] [--models tost_s,tost_t,...] [--threads 1,2]
# Builds tostc (Release) in build/bench/tostc-build, installs onnxruntime-node
# 1.30.0 in build/bench/ort, then exports, compiles, runs and compares.
set -e
cd "$(dirname "$0")/.."
B=build/bench
mkdir -p $B/ort
cmake -S . -B $B/tostc-build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build $B/tostc-build -j2 --target tostc >/dev/null
if [ ! -f $B/ort/node_modules/onnxruntime-node/package.json ]; then
	(cd $B/ort && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
exec /usr/bin/python3 bench/bench.py "$@"
