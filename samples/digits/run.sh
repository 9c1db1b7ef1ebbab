#!/bin/sh
# run.sh -- compile the digits ToST classifier with tostc from both its .tost
# description and its ONNX export, build each with main.c, and classify the
# test split.  Both must print the accuracy PyTorch reached (expected.txt).
# Usage: samples/digits/run.sh   (from anywhere; builds tostc if needed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TOSTC_BUILD:-$root/build}
out=${OUT:-$build/samples/digits}
cc=${CC:-cc}

if [ ! -x "$build/tostc" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$build" -j2 --target tostc >/dev/null
fi
mkdir -p "$out/tost" "$out/onnx"
cd "$here"

want="$(sed -n 's/^correct //p' expected.txt)/$(sed -n 's/^total //p' expected.txt)"
echo "PyTorch: test accuracy: $want"
status=0
for src in tost onnx; do
	"$build/tostc" "digits.$src" -o "$out/$src/digits.c" --name digits
	$cc -std=c99 -O2 -I"$out/$src" -o "$out/$src/digits" main.c "$out/$src/digits.c" -lm
	line=$("$out/$src/digits" digits_test.bin | tail -n 1)
	echo "digits.$src: $line"
	case "$line" in
	*" $want = "*) ;;
	*) echo "digits.$src: accuracy differs from PyTorch's ($want)" >&2; status=1 ;;
	esac
done
exit $status
