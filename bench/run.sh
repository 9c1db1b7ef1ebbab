#!/bin/sh
# run.sh -- the benchmark in one command (see bench/bench.py and docs/performance.md):
#   bench/run.sh [--runs N] [--rounds R] [--models tost_s,tost_t,...] [--threads 1,2]
# Builds tostc (Release) in build/bench/tostc-build, installs onnxruntime-node
# 1.30.0 in build/bench/ort, then exports, compiles, runs and compares.
set -e
cd "$(dirname "$0")/.."
. bench/setup.sh
exec /usr/bin/python3 bench/bench.py "$@"
