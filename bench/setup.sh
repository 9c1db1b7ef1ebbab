#!/bin/sh
# setup.sh -- what every benchmark needs first (sourced by run.sh and stream.sh,
# from the repository root): a Release tostc in build/bench/tostc-build and
# onnxruntime-node 1.30.0 in build/bench/ort (the npm install script is skipped:
# it tries a download; the CPU library is inside the package).
B=build/bench
mkdir -p $B/ort
cmake -S . -B $B/tostc-build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build $B/tostc-build -j2 --target tostc >/dev/null
if [ ! -f $B/ort/node_modules/onnxruntime-node/package.json ]; then
	(cd $B/ort && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
