#!/bin/sh
# symbols.sh -- ctest `symbols`: compile every ONNX backend node test model
# with tostc (those it accepts; shape-determining inputs stay unbound, so a
# few cases that need --const-input are skipped), then run
# scripts/check_symbols.sh on them and on the C the other tests generated.
#
#   tests/harden/symbols.sh TOSTC ONNXDATA WORK DIR...
set -eu
tostc=$1 data=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
n=0
for m in "$data"/node/*/model.onnx; do
	[ -f "$m" ] || continue
	c=$(basename "$(dirname "$m")")
	mkdir -p "$work/$c"
	if "$tostc" "$m" -o "$work/$c/model.c" > /dev/null 2>&1; then
		n=$((n + 1))
	else
		rmdir "$work/$c"
	fi
done
echo "symbols: tostc compiled $n conformance models"
existing=""
for d in "$@"; do
	[ -d "$d" ] && existing="$existing $d"
done
# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../../scripts/check_symbols.sh" -j 2 "$work" $existing
