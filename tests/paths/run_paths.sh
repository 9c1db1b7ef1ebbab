#!/bin/sh
# run_paths.sh CC SRCDIR WORKDIR -- build tests/paths/paths_test.c once per
# target flag set and run every build this CPU can execute: the plain C99
# fallback (no -m flags, and -DTR_NO_SIMD with -march=native), AVX2+FMA,
# AVX-512 and -march=native, and the OpenMP builds (-fopenmp, every threaded
# kernel path forced with -DTR_PAR_MIN=1, run on 3 threads so that column
# ranges split unevenly).  Fails when any build fails or any run fails.
set -e
CC=$1 SRC=$2 WORK=$3
mkdir -p "$WORK"
flags_ok() {
	case "$1" in
	*avx512f*) grep -q ' avx512f' /proc/cpuinfo ;;
	*avx2*) grep -q ' avx2' /proc/cpuinfo && grep -q ' fma' /proc/cpuinfo ;;
	*) true ;;
	esac
}
i=0
export OMP_NUM_THREADS=3
for f in "" "-DTR_NO_SIMD -march=native" "-mavx2 -mfma" "-mavx512f -mfma" "-march=native" \
	"-fopenmp -DTR_PAR_MIN=1" "-march=native -fopenmp -DTR_PAR_MIN=1"; do
	i=$((i + 1))
	$CC -std=c99 -D_POSIX_C_SOURCE=200112L -O2 $f -Wall -Wextra -pedantic -Werror \
		-I"$SRC/runtime" "$SRC/tests/paths/paths_test.c" -lm -o "$WORK/paths$i"
	if flags_ok "$f"; then
		printf '%-28s ' "[${f:-plain -O2}]"
		"$WORK/paths$i"
	else
		echo "[$f] built; this CPU cannot run it"
	fi
done
