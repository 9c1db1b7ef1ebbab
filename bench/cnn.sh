#!/bin/sh
# cnn.sh -- tostc against ONNX Runtime on torchvision's CNN classifiers
# (batch 1, 224 px, random weights; bench/export.py's CNNS), with
# bench/run.sh's machinery: the same interleaved rounds, CPU-time medians,
# 1 and 2 threads, GFLOP/s and share of the measured FMA peak.
#   bench/cnn.sh [--runs N] [--rounds R] [--models a,b,...] [--threads 1,2]
# Results: build/bench/cnn.json and cnn.md.
set -e
cd "$(dirname "$0")/.."
. bench/setup.sh
models=mobilenet_v2,mobilenet_v3_small,mobilenet_v3_large,efficientnet_b0,mnasnet0_5
models=$models,shufflenet_v2_x0_5,squeezenet1_1,regnet_y_400mf,resnet18
exec /usr/bin/python3 bench/bench.py --models $models --results cnn "$@"
