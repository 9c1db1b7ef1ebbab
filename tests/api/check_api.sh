#!/usr/bin/env bash
# check_api.sh TOSTC WORKDIR -- the generated-code contract, on the bundled
# digits model:
#   1. model.c compiles alone beside model.h: cc -std=c99 -O2 -Wall -Wextra
#      -pedantic -Werror, in a directory holding only those two files;
#   2. the header works from C++ (extern "C"): a C++ program includes it,
#      calls digits_run and links against the C object;
#   3. the output is deterministic: compiling twice gives identical bytes,
#      and --name changes every exported symbol;
#   4. the typed and the array entry points, and a NULL workspace (the
#      static one), give bitwise-identical logits;
#   5. the weights blob and the static workspace are 64-byte aligned.
# The programs that run generated code (2, 4 and 5) are built with
# $TOSTC_TEST_CFLAGS too (e.g. the sanitizers: CI's sanitizer pass).
set -euo pipefail
tostc=$1
work=$2
# shellcheck disable=SC2206  # extra flags, split on spaces
flags=(${TOSTC_TEST_CFLAGS:-})
here=$(cd "$(dirname "$0")" && pwd)
model=$here/../../samples/digits/digits.onnx
rm -rf "$work"
mkdir -p "$work/a" "$work/b" "$work/alone"
# same command line (the provenance comment records it), two directories
(cd "$work/a" && "$tostc" "$model" -o digits.c)
(cd "$work/b" && "$tostc" "$model" -o digits.c)
cmp "$work/a/digits.c" "$work/b/digits.c"
cmp "$work/a/digits.h" "$work/b/digits.h"
echo "deterministic: ok"

cp "$work/a/digits.c" "$work/a/digits.h" "$work/alone/"
(cd "$work/alone" && cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror "${flags[@]}" -c digits.c -o digits.o)
echo "compiles alone with -std=c99 -pedantic -Werror: ok"

cat > "$work/alone/main.cpp" <<'CPP'
#include "digits.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
int main()
{
	std::vector<float> x(DIGITS_INPUT0_SIZE), y1(DIGITS_OUTPUT0_SIZE), y2(DIGITS_OUTPUT0_SIZE),
	    y3(DIGITS_OUTPUT0_SIZE);
	for (size_t i = 0; i < x.size(); i++)
		x[i] = (float)((i * 7) % 17) / 16.0f;
	void *ws = std::aligned_alloc(64, (DIGITS_WORKSPACE_SIZE + 63) / 64 * 64 + 64);
	if (digits_run(x.data(), y1.data(), ws) != 0)
		return 1;
	const void *in[] = {x.data()};
	void *out[] = {y2.data()};
	if (digits_run_v(in, out, ws) != 0)
		return 1;
	if (digits_run(x.data(), y3.data(), NULL) != 0)
		return 1;
	std::free(ws);
	if (std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) != 0 ||
	    std::memcmp(y1.data(), y3.data(), y1.size() * sizeof(float)) != 0) {
		std::puts("entry points disagree");
		return 1;
	}
	std::printf("C++ caller: logits[0] = %g\n", (double)y1[0]);
	return 0;
}
CPP
(cd "$work/alone" && c++ -std=c++17 -O1 -Wall -Wextra -Werror "${flags[@]}" main.cpp digits.o -lm -o cxx_main &&
	./cxx_main)
echo "C++ caller, typed/array/NULL-workspace entry points agree: ok"

"$tostc" "$model" -o "$work/b/other.c" --name tiny_net
if nm "$work/alone/digits.o" | grep -q ' T tiny_net'; then exit 1; fi
cc -std=c99 -c "$work/b/other.c" -o "$work/b/other.o"
nm "$work/b/other.o" | grep -q ' T tiny_net_run$'
nm "$work/b/other.o" | grep -q ' T tiny_net_run_v$'
# two models link into one program: only the prefixed entry points are global
test "$(nm -g --defined-only "$work/b/other.o" | awk '{print $3}' | sort | tr '\n' ' ')" = "tiny_net_run tiny_net_run_v "
echo "--name prefixes every exported symbol: ok"

# the weights blob and the static workspace start 64-byte aligned (each
# tensor sits at a 64-byte offset in the blob), under C99 (a GNU attribute)
# and C11 (_Alignas); the program sees the statics by including digits.c
cat > "$work/alone/align.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include "digits.c"
int main(void)
{
	uintptr_t w = (uintptr_t)weights(), s = (uintptr_t)&static_workspace;
	printf("weights at %% 64 = %u, static workspace at %% 64 = %u\n", (unsigned)(w % 64),
	       (unsigned)(s % 64));
	return w % 64 != 0 || s % 64 != 0;
}
C
for std in c99 c11; do
	(cd "$work/alone" && cc -std=$std -O1 "${flags[@]}" align.c -lm -o align_$std && ./align_$std)
done
echo "weights and static workspace 64-byte aligned: ok"
echo "api: 5 passed, 0 failed"
