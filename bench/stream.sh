#!/bin/sh
# stream.sh -- the streaming-generation benchmark in one command (see
# bench/stream.py and docs/performance.md, section "Streaming generation"):
#   bench/stream.sh [--parts generation,prompt] [--block 512] [--dim 256] [--depth 4]
#                   [--prompts 64,256,1024] [--batches 1,4,8] [--rounds 4] ...
# Builds tostc (Release) in build/bench/tostc-build, installs onnxruntime-node
# 1.30.0 in build/bench/ort (as bench/run.sh does), then runs bench/stream.py.
set -e
cd "$(dirname "$0")/.."
. bench/setup.sh
exec /usr/bin/python3 bench/stream.py "$@"
