#!/bin/sh
# check_weights.sh TOSTC WORKDIR -- ctest `weights`: the three weights modes
# (tostc --weights=embed|blob|extern, compiler/emit/emit_weights.c).
#   1. digits (samples/digits/digits.tost) and charlm (samples/charlm/
#      charlm.onnx, with the step API) compiled in each mode: every model.c
#      builds alone with -std=c99 -pedantic -Wall -Wextra -Werror; the
#      outputs of NAME_run_v, and of charlm's step at every position and a
#      prefill, are bitwise the same in the three builds (tests/api/
#      weights_run.c), with gcc and with clang (when installed);
#   2. blob: a weights file of another size (a stale one) is refused when
#      model.weights.S is assembled, by gcc and by clang;
#   3. extern: weights_run.c --errors, for both models: NULL, empty,
#      truncated, too long, misaligned, a corrupted header and another
#      model's weights each give their error code from every entry point (and
#      leave the step state alone); a corrupted byte of the blob gives
#      NAME_weights_check's; every bit of the header flipped in turn: no
#      crash, no wrong verdict.
# The programs are built with $TOSTC_TEST_CFLAGS too (CI: ASan + UBSan, so
# any read past a blob, each in a buffer of exactly its size, fails).
set -eu
tostc=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
flags=${TOSTC_TEST_CFLAGS:-}
strict="-std=c99 -O2 -Wall -Wextra -pedantic -Werror"
rm -rf "$work"
mkdir -p "$work"
clang=
for c in clang clang-14; do
	if command -v "$c" > /dev/null 2>&1; then
		clang=$c
		break
	fi
done
compilers="cc${clang:+ $clang}"
status=0
n=0

# model NAME UPPER SOURCE [STEP]: compile, build and run in the three modes
model() {
	name=$1 upper=$2 src=$3 step=${4:-}
	for mode in embed blob extern; do
		d=$work/$name/$mode
		mkdir -p "$d"
		"$tostc" "$src" -o "$d/$name.c" --weights=$mode
		(cd "$d" && cc $strict -c "$name.c" -o "$name.o")
		for cc in $compilers; do
			srcs="$d/$name.c"
			def=
			arg=
			case $mode in
			blob) srcs="$srcs $d/$name.weights.S" ;;
			extern) def=-DEXTERN arg=$d/$name.weights ;;
			esac
			# shellcheck disable=SC2086  # flag lists
			$cc $strict $flags -DM="$name" -DMU="$upper" $step $def -I"$d" \
				"$here/weights_run.c" $srcs -lm -o "$d/run_$cc"
			"$d/run_$cc" $arg > "$d/out_$cc.bin"
			if cmp -s "$work/$name/embed/out_$cc.bin" "$d/out_$cc.bin"; then
				n=$((n + 1))
			else
				echo "$name: $mode built with $cc: outputs differ from embed's"
				status=1
			fi
		done
	done
	echo "$name: embed, blob and extern outputs bitwise equal ($compilers;" \
		"$(wc -c < "$work/$name/embed/out_cc.bin") bytes)"
}
model digits DIGITS "$root/samples/digits/digits.tost"
model charlm CHARLM "$root/samples/charlm/charlm.onnx" -DSTEP

# 2. a stale weights file is refused when the .S is assembled
d=$work/charlm/blob
head -c 1000 "$d/charlm.weights" > "$work/stale.weights"
cp "$d/charlm.weights.S" "$work/stale.weights.S"
sed -i 's/"charlm.weights"/"stale.weights"/' "$work/stale.weights.S"
for cc in $compilers; do
	if (cd "$work" && $cc -c stale.weights.S -o stale.o > stale.log 2>&1); then
		echo "blob: $cc assembled a .S whose weights file has another size"
		status=1
	elif grep -q "not this model's" "$work/stale.log"; then
		n=$((n + 1))
	else
		echo "blob: $cc refused the stale weights, but not with the .S's message:"
		cat "$work/stale.log"
		status=1
	fi
done
echo "blob: a stale weights file refused at assembly ($compilers)"

# 3. bad blobs in extern mode: each gives its code, never a crash
for m in "digits charlm" "charlm digits"; do
	set -- $m
	"$work/$1/extern/run_cc" "$work/$1/extern/$1.weights" --errors \
		"$work/$2/extern/$2.weights" > "$work/errors_$1.txt" || status=1
	sed "s/^/$1: /" "$work/errors_$1.txt"
	n=$((n + $(grep -c ' ok: ' "$work/errors_$1.txt" || true)))
done
if [ $status = 0 ]; then
	echo "weights: $n passed, 0 failed"
else
	echo "weights: FAILED"
fi
exit $status
