#!/bin/sh
# run_paths.sh CC SRCDIR WORKDIR -- build tests/paths/paths_test.c once per
# target flag set and run every build this CPU can execute: the plain C99
# fallback (no -m flags, and -DTR_NO_SIMD with -march=native), AVX2+FMA,
# AVX-512 and -march=native, and the OpenMP builds (-fopenmp, every threaded
# kernel path forced with -DTR_PAR_MIN=1, run on 3 threads so that column
# ranges split unevenly).  Fails when any build fails or any run fails.  A
# build this CPU cannot run (no avx2/fma or avx512f in /proc/cpuinfo, or in
# $TOSTC_CPUINFO) is counted as skipped, never as passed.
# Last line: `paths: N passed, N failed, N skipped (...)`.
CC=$1 SRC=$2 WORK=$3
CPUINFO=${TOSTC_CPUINFO:-/proc/cpuinfo}
mkdir -p "$WORK" || exit 1
flags_ok() {
	case "$1" in
	*avx512f*) grep -q ' avx512f' "$CPUINFO" ;;
	*avx2*) grep -q ' avx2' "$CPUINFO" && grep -q ' fma' "$CPUINFO" ;;
	*) true ;;
	esac
}
i=0 passed=0 failed=0 skipped=0 skips=
export OMP_NUM_THREADS=3
for f in "" "-DTR_NO_SIMD -march=native" "-mavx2 -mfma" "-mavx512f -mfma" "-march=native" \
	"-fopenmp -DTR_PAR_MIN=1" "-march=native -fopenmp -DTR_PAR_MIN=1"; do
	i=$((i + 1))
	label="[${f:-plain -O2}]"
	if ! $CC -std=c99 -D_POSIX_C_SOURCE=200112L -O2 $f -Wall -Wextra -pedantic -Werror \
		-I"$SRC/runtime" "$SRC/tests/paths/paths_test.c" -lm -o "$WORK/paths$i"; then
		echo "$label FAILED: does not build"
		failed=$((failed + 1))
	elif ! flags_ok "$f"; then
		echo "$label SKIPPED: built, but this CPU cannot run it (see $CPUINFO)"
		skipped=$((skipped + 1))
		skips="$skips $label"
	else
		printf '%-28s ' "$label"
		if "$WORK/paths$i"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	fi
done
echo "paths: $passed passed, $failed failed, $skipped skipped${skips:+ (this CPU cannot run$skips)}"
[ "$failed" = 0 ]
