/*
 * load_weights.h -- for WEIGHTS extern: read a model's .weights file into
 * 64-byte aligned memory (mmap would do as well), then let the model check
 * all of it once.  The calls check its size and header every time.
 */
#ifndef LOAD_WEIGHTS_H
#define LOAD_WEIGHTS_H

#include <stdio.h>
#include <stdlib.h>

/* size bytes from path, or exit(1) with a message; check: the model's
 * NAME_weights_check */
static void *load_weights(const char *path, size_t size, int (*check)(const void *, size_t))
{
	FILE *f = fopen(path, "rb");
	void *p = aligned_alloc(64, (size + 63) / 64 * 64);
	int r = -1;
	if (f && p && fread(p, 1, size, f) == size && fgetc(f) == EOF)
		r = check(p, size);
	if (f)
		fclose(f);
	if (r != 0) {
		fprintf(stderr, "%s: not the weights this program was built with (error %d)\n", path, r);
		exit(1);
	}
	return p;
}

#endif
