/*
 * fuzz_dsl.c -- the ToST DSL: lexer, parser, interpreter (layer lowering),
 * then every pass and the C emitter.  The source is named
 * samples/digits/fuzz.tost, so `weights` statements resolve beside the digits
 * sample and `weights "digits.safetensors"` reaches real layer lowering.
 */
#include "fuzz.h"

#ifndef TOSTC_SOURCE_DIR
#define TOSTC_SOURCE_DIR "."
#endif
/* `weights "digits.safetensors"` finds the sample's weights */
#define DSL_PATH TOSTC_SOURCE_DIR "/samples/digits/fuzz.tost"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	static Ctx ctx;
	static jmp_buf jb;
	Ctx *c = &ctx;
	if (size > (1 << 20))
		return 0;
	ctx_init(c, DSL_PATH);
	c->jmp = &jb;
	if (setjmp(jb) == 0) {
		char *src = ctx_alloc(c, size + 1);
		memcpy(src, data, size);
		src[size] = 0;
		/* dsl_load refuses NUL bytes in files; strings end at the first */
		Graph *g = dsl_load_string(c, DSL_PATH, src);
		fuzz_compile(g);
	}
	fuzz_check_code(c);
	ctx_free(c);
	return 0;
}
