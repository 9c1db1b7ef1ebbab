#!/usr/bin/env bash
# fuzz.sh -- build the libFuzzer targets (clang + ASan + UBSan) and run them.
#
#   scripts/fuzz.sh ctest            # the short runs: ctest -R '^fuzz_' (30 s each)
#   scripts/fuzz.sh run TARGET SECS  # one long campaign, corpus kept in
#                                    # $BUILD_DIR/fuzz_campaign/TARGET
#
# TARGET: onnx, dsl, safetensors, cli, names, npz.  Environment: CC (default clang-14),
# BUILD_DIR (default build-fuzz), FUZZ_JOBS (parallel fuzzer processes for
# `run`, default 1), FUZZ_NICE (default 10), FUZZ_NO_BUILD=1 (use the built
# binaries as they are, e.g. while another campaign runs from them).  A long run starts from the
# committed seeds, the regression inputs, and the sample and test models
# (samples/digits, the ONNX node tests of the conformance build if present).
# Crashes land in $BUILD_DIR/fuzz_campaign/TARGET-crashes: minimise them
# (fuzz_TARGET -minimize_crash=1), add them under tests/fuzz/regress/TARGET/
# and fix the bug.  docs/reliability.md records the campaigns.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
BUILD_DIR=${BUILD_DIR:-build-fuzz}
CC=${CC:-clang-14}
export CC
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOSTC_FUZZ=ON >/dev/null
	nice -n "${FUZZ_NICE:-10}" cmake --build "$BUILD_DIR" -j2 >/dev/null
fi
case "${1:-ctest}" in
ctest)
	cd "$BUILD_DIR"
	# without the libFuzzer targets, ctest would only replay the seeds
	for t in onnx dsl safetensors cli npz; do
		if [ ! -x "tests/fuzz_$t" ]; then
			echo "fuzz.sh: $BUILD_DIR/tests/fuzz_$t was not built: $CC cannot link libFuzzer" \
				"(install clang-14 and libclang-rt-14-dev)" >&2
			exit 1
		fi
	done
	nice -n "${FUZZ_NICE:-10}" ctest --output-on-failure -R '^fuzz_' ;;
run)
	t=$2 secs=$3
	camp="$(cd "$BUILD_DIR" && pwd)/fuzz_campaign"   # absolute: fuzz_cli chdirs
	corpus="$camp/$t" crashes="$camp/$t-crashes"
	mkdir -p "$corpus" "$crashes"
	cp -n tests/fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
	cp -n tests/fuzz/regress/"$t"/* "$corpus"/ 2>/dev/null || true
	case $t in
	onnx)
		cp -n samples/digits/digits.onnx "$corpus"/ || true
		for d in build/onnxdata/node /tmp/onnxdata/node; do
			[ -d "$d" ] || continue
			for m in "$d"/*/model.onnx; do
				cp -n "$m" "$corpus/$(basename "$(dirname "$m")").onnx"
			done
			break
		done
		for m in build/models_work/*/*.onnx; do
			[ -f "$m" ] && cp -n "$m" "$corpus/model_$(basename "$(dirname "$m")").onnx"
		done ;;
	dsl) cp -n samples/digits/digits.tost "$corpus"/ || true ;;
	safetensors) cp -n samples/digits/digits.safetensors "$corpus"/ || true ;;
	esac
	jobs=${FUZZ_JOBS:-1}
	extra=()
	[ "$jobs" -gt 1 ] && extra=(-jobs="$jobs" -workers="$jobs")
	nice -n "${FUZZ_NICE:-10}" "$BUILD_DIR/tests/fuzz_$t" -max_total_time="$secs" -timeout=20 \
		-rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
		-artifact_prefix="$crashes/" -dict="tests/fuzz/$t.dict" "${extra[@]}" "$corpus" ;;
*)
	echo "usage: scripts/fuzz.sh ctest | run TARGET SECONDS" >&2
	exit 2 ;;
esac
