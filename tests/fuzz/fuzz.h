/*
 * fuzz.h -- shared by the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput(data, size) and runs one
 * front end on the bytes, then (where it builds a Graph) the whole pipeline
 * and the C emitter into /dev/null.  A user error (ctx_error / node_error)
 * is the expected outcome for most inputs; an internal error (exit status 2,
 * ctx_bug) is a finding and aborts, as does any sanitizer report.  The same
 * files build with libFuzzer (clang -fsanitize=fuzzer) or with standalone.c
 * (any compiler), which replays files for the regression tests.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include "tostc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The compiler's arena limit below libFuzzer's -rss_limit_mb (2048), so an
 * input asking for more memory is refused by tostc, not killed by the fuzzer. */
static inline void fuzz_init(void)
{
	static int done;
	if (!done) {
		setenv("TOSTC_MAX_MEMORY", "1073741824", 0);
		done = 1;
	}
}

/* Where generated C goes: nowhere, but through the real stdio path. */
static inline FILE *fuzz_devnull(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

/* An internal error is a bug: make the fuzzer stop on it. */
static inline void fuzz_check_code(const Ctx *c)
{
	if (c->errcode && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "  -> %s\n", c->errmsg);
	if (c->errcode == 2) {
		fprintf(stderr, "fuzz: internal error: %s\n", c->errmsg);
		abort();
	}
}

/* Passes and emission; errors longjmp to the caller's handler. */
static inline void fuzz_compile(Graph *g)
{
	pipeline_run(g, NULL, NULL);
	EmitOptions eo = {"fuzz", "tostc fuzz", "fuzz.h", WEIGHTS_EMBED, NULL};
	FILE *f = fuzz_devnull();
	emit_c(g, &eo, f, f);
	fflush(f);
}

#endif
