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
#   5. the weights blob and the static workspace are 64-byte aligned;
#   6. --weights=blob and extern: model.c compiles alone as in 1, the blob's
#      model.weights.S assembles with -I naming its directory, a C++ caller
#      gets bitwise the embed build's logits (extern: from the weights it
#      read itself), and the global symbols are the prefixed API only
#      (blob: plus NAME_weights_blob, hidden, from the .S).
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

for mode in blob extern; do
	d=$work/$mode
	mkdir -p "$d/alone"
	(cd "$d" && "$tostc" "$model" -o digits.c --weights=$mode)
	cp "$d/digits.c" "$d/digits.h" "$d/alone/"
	(cd "$d/alone" && cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror "${flags[@]}" -c digits.c -o digits.o)
	rm "$d/alone/digits.c"   # ctest symbols checks $d/digits.c, with its .weights.S beside it
	objs=("$d/alone/digits.o")
	if [ $mode = blob ]; then
		# from another directory: -I finds digits.weights
		cc -I "$d" -c "$d/digits.weights.S" -o "$d/alone/weights.o"
		objs+=("$d/alone/weights.o")
	fi
	test "$(nm -g --defined-only "${objs[@]}" | awk 'NF == 3 {print $3}' | sort | tr '\n' ' ')" = \
		"$(if [ $mode = blob ]; then echo "digits_run digits_run_v digits_weights_blob "; else
			echo "digits_run_v_w digits_run_w digits_weights_check "; fi)"
	cat > "$d/main.cpp" <<'CPP'
#include "digits.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
int main(int argc, char **argv)
{
	std::vector<float> x(DIGITS_INPUT0_SIZE), y(DIGITS_OUTPUT0_SIZE), ref(DIGITS_OUTPUT0_SIZE);
	if (argc < 3)
		return 2;
	for (size_t i = 0; i < x.size(); i++)
		x[i] = (float)((i * 7) % 17) / 16.0f;
	void *ws = std::aligned_alloc(64, (DIGITS_WORKSPACE_SIZE + 63) / 64 * 64 + 64);
#ifdef DIGITS_WEIGHTS_SIZE
	void *w = std::aligned_alloc(DIGITS_WEIGHTS_ALIGN, (DIGITS_WEIGHTS_SIZE + 63) / 64 * 64);
	std::FILE *f = std::fopen(argv[1], "rb");
	if (!w || !f || std::fread(w, 1, DIGITS_WEIGHTS_SIZE, f) != DIGITS_WEIGHTS_SIZE)
		return 1;
	std::fclose(f);
	if (digits_weights_check(w, DIGITS_WEIGHTS_SIZE) != 0 ||
	    digits_run_w(w, DIGITS_WEIGHTS_SIZE, x.data(), y.data(), ws) != 0)
		return 1;
	std::free(w);
#else
	if (digits_run(x.data(), y.data(), ws) != 0)
		return 1;
#endif
	std::free(ws);
	std::FILE *r = std::fopen(argv[2], "rb");
	if (!r || std::fread(ref.data(), sizeof(float), ref.size(), r) != ref.size())
		return 1;
	std::fclose(r);
	if (std::memcmp(y.data(), ref.data(), y.size() * sizeof(float)) != 0) {
		std::puts("logits differ from the embed build's");
		return 1;
	}
	return 0;
}
CPP
	cat > "$d/ref.c" <<'C'
#include <stdio.h>
#include "digits.h"
int main(void)
{
	static float x[DIGITS_INPUT0_SIZE], y[DIGITS_OUTPUT0_SIZE];
	for (int i = 0; i < DIGITS_INPUT0_SIZE; i++)
		x[i] = (float)((i * 7) % 17) / 16.0f;
	if (digits_run(x, y, NULL) != 0)
		return 1;
	fwrite(y, sizeof y, 1, stdout);
	return 0;
}
C
	if [ $mode = blob ]; then
		cc -std=c99 -O1 "${flags[@]}" -I "$work/alone" "$d/ref.c" "$work/alone/digits.o" -lm -o "$d/ref"
		"$d/ref" > "$d/ref.bin"
	fi
	c++ -std=c++17 -O1 -Wall -Wextra -Werror "${flags[@]}" -I "$d" "$d/main.cpp" "${objs[@]}" -lm \
		-o "$d/cxx_main"
	"$d/cxx_main" "$d/digits.weights" "$work/blob/ref.bin"
	echo "--weights=$mode: compiles alone, C++ caller gets the embed build's logits, symbols: ok"
done
echo "api: 6 passed, 0 failed"
