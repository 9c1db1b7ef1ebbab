/*
 * fuzz_safetensors.c -- the .safetensors reader: header JSON, offsets,
 * dtype/shape sizes, and the conversion to float of every F32/F16/BF16
 * tensor it accepts.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	static Ctx ctx;
	static jmp_buf jb;
	Ctx *c = &ctx;
	ctx_init(c, "fuzz.safetensors");
	c->jmp = &jb;
	if (setjmp(jb) == 0) {
		/* a private copy, so reads past `size` are caught by ASan */
		unsigned char *buf = ctx_alloc(c, size ? size : 1);
		memcpy(buf, data, size);
		SafeTensors *st = safetensors_parse(c, "fuzz.safetensors", buf, (int64_t)size);
		for (int i = 0; i < st->nentries; i++) {
			const StEntry *e = &st->entries[i];
			if (safetensors_find(st, e->name) == NULL)
				abort();   /* every parsed name must be found again */
			if (!strcmp(e->dtype, "F32") || !strcmp(e->dtype, "F16") ||
			    !strcmp(e->dtype, "BF16"))
				safetensors_get_f32(c, st, e);
		}
	}
	fuzz_check_code(c);
	ctx_free(c);
	return 0;
}
