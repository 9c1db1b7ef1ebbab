#!/bin/sh
# ab.sh -- A/B of two tostc builds (or two C flag sets) on one benchmark model,
# in one process that runs them alternately (bench/ab_driver.c):
#
#   bench/ab.sh TOSTC_A TOSTC_B MODEL [PAIRS] [CFLAGS_A] [CFLAGS_B]
#
# MODEL is a name under build/bench/models (run bench/run.sh first).  Each
# tostc compiles the model (--name ma / mb); both are built with
# gcc -std=c99 -O2 -march=native plus CFLAGS_A / CFLAGS_B, e.g.
#   bench/ab.sh build/tostc build/tostc stack_256 300 "-DTR_ALIGN64=" ""
# to measure one macro.  PAIRS defaults to 100.
set -e
[ $# -ge 3 ] || { echo "usage: $0 TOSTC_A TOSTC_B MODEL [PAIRS] [CFLAGS_A] [CFLAGS_B]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
m=$3
md=$root/build/bench/models/$m
d=$root/build/bench/ab/$m
mkdir -p "$d"
"$1" "$md/model.onnx" -o "$d/ma.c" --name ma >/dev/null
"$2" "$md/model.onnx" -o "$d/mb.c" --name mb >/dev/null
cc=${CC:-gcc}
$cc -std=c99 -O2 -march=native ${5:-} -I"$d" -c "$d/ma.c" -o "$d/ma.o"
$cc -std=c99 -O2 -march=native ${6:-} -I"$d" -c "$d/mb.c" -o "$d/mb.o"
$cc -std=c99 -O2 -march=native -I"$d" "$root/bench/ab_driver.c" "$d/ma.o" "$d/mb.o" -lm -o "$d/ab"
printf '%s: ' "$m"
"$d/ab" "$md/input.bin" "${4:-100}"
