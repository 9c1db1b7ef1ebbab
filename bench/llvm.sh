#!/bin/sh
# llvm.sh -- the LLVM backend against the C backend on the benchmark models:
# the time and peak memory to get an object file (tostc -o model.o, against
# tostc -o model.c plus gcc -O2 -march=native -c), and the run time of the two
# objects, measured in the same run, interleaved.
#
#   bench/llvm.sh [OUT] [MODEL ...]       (default: tost_s stack_4096)
#
# Models come from bench/export.py (OUT/models/NAME/model.onnx); each object
# is linked with bench/driver.c, run RUNS times (default 10) in ROUNDS
# (default 3) alternating rounds; the medians of CPU seconds per run are
# printed.  docs/performance.md, "The LLVM backend", has the figures.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench_llvm}
[ $# -gt 0 ] && shift
models=${*:-tost_s stack_4096}
tostc=${TOSTC:-$root/build/tostc}
runs=${RUNS:-10}
rounds=${ROUNDS:-3}
mkdir -p "$out/models"
# shellcheck disable=SC2086
/usr/bin/python3 "$root/bench/export.py" "$out/models" $models > /dev/null
measure() {   # measure LOG CMD...: wall seconds and peak KB of CMD into LOG
	log=$1
	shift
	/usr/bin/time -f "%e %M" -o "$log" "$@" > /dev/null
}
printf '%-12s %22s %22s %12s %12s\n' model "tostc+gcc: s, MB" "tostc -o .o: s, MB" "run C (s)" "run LLVM (s)"
for m in $models; do
	d=$out/$m
	mkdir -p "$d/c" "$d/o"
	onnx=$out/models/$m/model.onnx
	measure "$d/t_c" "$tostc" "$onnx" -o "$d/c/model.c" --name model --no-stream
	measure "$d/t_gcc" gcc -std=c99 -O2 -march=native -c "$d/c/model.c" -o "$d/c/model.o"
	measure "$d/t_o" "$tostc" "$onnx" -o "$d/o/model.o" --name model --no-stream
	for b in c o; do
		cc -std=c99 -O2 -march=native -I "$d/$b" "$root/bench/driver.c" "$d/$b/model.o" -lm \
			-o "$d/$b/run"
	done
	: > "$d/runs_c"
	: > "$d/runs_o"
	r=0
	while [ $r -lt "$rounds" ]; do
		for b in c o; do
			"$d/$b/run" "$out/models/$m/input.bin" "$runs" >> "$d/runs_$b"
		done
		r=$((r + 1))
	done
	read -r tc mc < "$d/t_c"
	read -r tg mg < "$d/t_gcc"
	read -r to mo < "$d/t_o"
	med() {   # the median of the per-round medians of CPU seconds
		sed -n 's/.*"cpu_median": *\([0-9.e-]*\).*/\1/p' "$1" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
	}
	mem=$(( (mc > mg ? mc : mg) / 1024 ))
	printf '%-12s %14.1f, %5d %14.1f, %5d %12s %12s\n' "$m" "$(echo "$tc + $tg" | bc)" "$mem" \
		"$to" $((mo / 1024)) "$(med "$d/runs_c")" "$(med "$d/runs_o")"
done
