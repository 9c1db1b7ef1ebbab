#!/bin/sh
# run.sh -- compile the character-level ToST language model (charlm.onnx)
# with tostc, build main.c against it, and generate text one token at a time
# with the step API, printing tokens/s against re-running the prefix.
# Usage: samples/charlm/run.sh [main.c options: -n N -t TEMP -s SEED -g PROMPT]
#        samples/charlm/run.sh --check   the greedy and the sampled continuations
#                                        must equal PyTorch's (expected.txt);
#                                        ctest charlm_sample
# (from anywhere; builds tostc if needed).  CFLAGS default: -O2 -march=native;
# $TOSTC_TEST_CFLAGS is added (the test suite's extra flags, e.g. sanitizers).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TOSTC_BUILD:-$root/build}
out=${OUT:-$build/samples/charlm}
cc=${CC:-cc}
cflags=${CFLAGS:--O2 -march=native}

if [ ! -x "$build/tostc" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j2 --target tostc >/dev/null
fi
mkdir -p "$out"
"$build/tostc" "$here/charlm.onnx" -o "$out/charlm.c" --name charlm
# shellcheck disable=SC2086
$cc -std=c99 $cflags ${TOSTC_TEST_CFLAGS:-} -I"$out" -I"$here" -o "$out/charlm" "$here/main.c" "$out/charlm.c" -lm
if [ "${1:-}" = "--check" ]; then
	status=0
	for mode in greedy sample; do
		want=$(sed -n "s/^$mode //p" "$here/expected.txt")
		flag=-e
		[ $mode = greedy ] && flag="-e -g"
		"$out/charlm" $flag >"$out/$mode.txt" || status=1
		cat "$out/$mode.txt"
		if [ "$(head -n 1 "$out/$mode.txt")" != "$want" ]; then
			echo "charlm: the $mode continuation differs from PyTorch's:" >&2
			echo "  want: $want" >&2
			status=1
		else
			echo "charlm: the $mode continuation equals PyTorch's"
		fi
	done
	exit $status
fi
exec "$out/charlm" "$@"
