#!/bin/sh
# run_aarch64.sh CC SRCDIR WORKDIR TOSTC -- the aarch64 paths, run under
# qemu-user (ctest `paths_aarch64`).  With aarch64-linux-gnu-gcc and
# qemu-aarch64 (Debian: gcc-aarch64-linux-gnu, qemu-user):
#   1. tests/paths/paths_test.c built for aarch64 (-static, the strict flags
#      of run_paths.sh) twice, NEON (the default there) and -DTR_NO_SIMD
#      (plain C99), each run under qemu with --quick; the line each prints
#      must name the kernel path it was built for;
#   2. two samples through tostc, each model.c built with the host CC (-O2)
#      and with aarch64-linux-gnu-gcc -static -O2 (NEON) and run: digits
#      (samples/digits/digits.tost, 450 test images, tests/paths/
#      digits_logits.c) and charlm (samples/charlm/charlm.onnx, 2 x 128
#      tokens: 128-row GEMMs, tests/paths/charlm_logits.c); every output of
#      the aarch64 run within 1e-4 * |x86| + 1e-5 * max |x86| of the x86
#      run's (not bitwise: the kernels' tiles and fused multiply-adds
#      differ), and digits' accuracy line equal;
#   3. charlm again with --weights=blob: its model.weights.S assembled by
#      aarch64-linux-gnu-gcc, and by clang --target=aarch64-linux-gnu when
#      clang is installed, linked and run: bitwise the output of 2.
# Without the tools it prints why it skipped and exits 77 (ctest: Skipped),
# or 1 when TOSTC_REQUIRE_AARCH64=1 (CI sets it).  AARCH64_CC and QEMU_AARCH64
# name other binaries.
set -e
CC=$1 SRC=$2 WORK=$3 TOSTC=$4
XCC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU_AARCH64:-}
if [ -z "$QEMU" ]; then
	for q in qemu-aarch64 qemu-aarch64-static; do
		if command -v "$q" > /dev/null 2>&1; then
			QEMU=$q
			break
		fi
	done
fi
why=
command -v "$XCC" > /dev/null 2>&1 || why="$XCC not found"
[ -n "$QEMU" ] && command -v "$QEMU" > /dev/null 2>&1 || why="${why:+$why, }qemu-aarch64 not found"
if [ -n "$why" ]; then
	echo "paths_aarch64: SKIPPED, the aarch64 builds did not run: $why" \
		"(apt-get install gcc-aarch64-linux-gnu qemu-user)"
	[ "${TOSTC_REQUIRE_AARCH64:-0}" = 1 ] && exit 1
	exit 77
fi
mkdir -p "$WORK"
status=0

# 1. the GEMM, conv, epilogue and GELU paths: NEON and plain C99
for f in "" "-DTR_NO_SIMD"; do
	case "$f" in
	"") exe=paths_neon want="NEON micro-kernel" ;;
	*) exe=paths_c99 want="plain C99 micro-kernel" ;;
	esac
	$XCC -std=c99 -D_POSIX_C_SOURCE=200112L -O2 -static $f -Wall -Wextra -pedantic -Werror \
		-I"$SRC/runtime" "$SRC/tests/paths/paths_test.c" -lm -o "$WORK/$exe"
	t0=$(date +%s)
	"$QEMU" "$WORK/$exe" --quick > "$WORK/$exe.txt" || status=1
	line=$(tail -n 1 "$WORK/$exe.txt")
	printf '%-28s %s (%ss)\n' "[aarch64 ${f:-default}]" "$line" $(($(date +%s) - t0))
	case "$line" in
	*"$want"*": ok") ;;
	*)
		# the first failures (all of them: $WORK/$exe.txt)
		grep '^FAIL' "$WORK/$exe.txt" | head -n 12
		echo "paths_aarch64: [aarch64 ${f:-default}] did not pass on the $want"
		status=1
		;;
	esac
done

# 2. real generated models: aarch64 (NEON) against x86, the same model.c.
# compare X86 AARCH64 LABEL: every number within 1e-4 * |x86| + 1e-5 * (the
# largest |x86| number), every other word equal.
compare() {
	awk -v label="$3" '
	function abs(v) { return v < 0 ? -v : v }
	function num(w) { return w ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
	NR == FNR { ref[FNR] = $0; for (k = 1; k <= NF; k++) if (num($k) && abs($k) > s) s = abs($k); next }
	{ got[FNR] = $0 }
	END {
		n = NR - FNR
		if (FNR != n || n == 0) { printf "%s: %d lines on aarch64, %d on x86\n", label, FNR, n; exit 1 }
		for (i = 1; i <= n; i++) {
			nr = split(ref[i], r, " "); ng = split(got[i], g, " ")
			if (nr != ng) { printf "%s: line %d: %d words on aarch64, %d on x86\n", label, i, ng, nr; exit 1 }
			for (k = 1; k <= nr; k++) {
				if (!num(r[k])) {
					if (r[k] != g[k]) { printf "%s: line %d: aarch64 %s, x86 %s\n", label, i, g[k], r[k]; exit 1 }
					continue
				}
				e = abs(g[k] - r[k]); q = e / (1e-4 * abs(r[k]) + 1e-5 * s); m++
				if (e > emax) emax = e
				if (q > qmax) qmax = q
				if (!(q <= 1)) { printf "%s: line %d value %d: aarch64 %s, x86 %s\n", label, i, k, g[k], r[k]; exit 1 }
			}
		}
		printf "%s: %d values within 1e-4 rel of x86 (max |diff| %.3g, max |value| %.3g, " \
		       "worst %.2f of the tolerance); %s\n", label, m, emax, s, qmax, ref[n] ~ /^acc/ ? got[n] : "bitwise " (qmax ? "different" : "equal")
	}' "$1" "$2"
}
# model NAME SOURCE DRIVER ARGS...: tostc, the two builds, the two runs, compare
model() {
	name=$1 src=$2 drv=$3
	shift 3
	d=$WORK/$name
	mkdir -p "$d"
	"$TOSTC" "$src" -o "$d/$name.c" --name "$name"
	$CC -std=c99 -O2 -Wall -Wextra -pedantic -Werror -I"$d" "$drv" "$d/$name.c" -lm -o "$d/x86"
	$XCC -std=c99 -O2 -static -Wall -Wextra -pedantic -Werror -I"$d" "$drv" "$d/$name.c" -lm \
		-o "$d/neon"
	"$d/x86" "$@" > "$d/x86.txt"
	t0=$(date +%s)
	"$QEMU" "$d/neon" "$@" > "$d/neon.txt" || return 1
	r=$(compare "$d/x86.txt" "$d/neon.txt" "[aarch64 $name model]") || { echo "$r"; return 1; }
	echo "$r ($(($(date +%s) - t0))s)"
}
# digits (from its .tost): 450 images, batch 1; charlm (ONNX): 2 x 128 tokens,
# GEMMs of 128 rows (whole 8 x 8 tiles)
model digits "$SRC/samples/digits/digits.tost" "$SRC/tests/paths/digits_logits.c" \
	"$SRC/samples/digits/digits_test.bin" || status=1
model charlm "$SRC/samples/charlm/charlm.onnx" "$SRC/tests/paths/charlm_logits.c" || status=1

# 3. the weights linked from charlm.weights by charlm.weights.S (.incbin)
d=$WORK/charlm_blob
mkdir -p "$d"
"$TOSTC" "$SRC/samples/charlm/charlm.onnx" -o "$d/charlm.c" --name charlm --weights=blob
asms="$XCC"
for c in clang clang-14; do
	if command -v $c > /dev/null 2>&1; then
		asms="$asms $c"
		break
	fi
done
for as in $asms; do
	case $as in
	clang*) $as --target=aarch64-linux-gnu -I"$d" -c "$d/charlm.weights.S" -o "$d/w_clang.o"
		obj=$d/w_clang.o ;;
	*) obj=$d/charlm.weights.S ;;
	esac
	$XCC -std=c99 -O2 -static -Wall -Wextra -pedantic -Werror -I"$d" \
		"$SRC/tests/paths/charlm_logits.c" "$d/charlm.c" "$obj" -lm -o "$d/neon"
	"$QEMU" "$d/neon" > "$d/neon.txt" || status=1
	if cmp -s "$WORK/charlm/neon.txt" "$d/neon.txt"; then
		echo "[aarch64 charlm, --weights=blob, .S by $as]: bitwise the embed build's output"
	else
		echo "[aarch64 charlm, --weights=blob, .S by $as]: output differs from the embed build's"
		status=1
	fi
done
[ $status = 0 ] || echo "paths_aarch64: FAILED"
exit $status
