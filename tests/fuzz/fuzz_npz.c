/*
 * fuzz_npz.c -- the .npy and .npz reader of tostc run: the zip directory and
 * its zip64 records and fields, local headers, CRC-32, the .npy header dict,
 * shapes and sizes.  Every archive the reader accepts is written back with
 * npz_write (a .npy with npy_write) and must read back the same: names,
 * types, shapes and bytes.
 */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include "fuzz.h"

/* The arrays of a and b are the same (abort otherwise). */
static void same(const NpyArray *a, const NpyArray *b, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].descr, b[i].descr) != 0 ||
		    a[i].dtype != b[i].dtype || a[i].rank != b[i].rank || a[i].nbytes != b[i].nbytes ||
		    memcmp(a[i].dims, b[i].dims, sizeof a[i].dims) != 0 ||
		    memcmp(a[i].data, b[i].data, (size_t)a[i].nbytes) != 0) {
			fprintf(stderr, "fuzz_npz: array %d reads back differently\n", i);
			abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	static Ctx ctx;
	static jmp_buf jb;
	Ctx *c = &ctx;
	char *out = NULL;
	size_t outlen = 0;
	ctx_init(c, "fuzz.npz");
	c->jmp = &jb;
	if (setjmp(jb) == 0) {
		/* a private copy, so reads past `size` are caught by ASan */
		unsigned char *buf = ctx_alloc(c, size ? size : 1);
		memcpy(buf, data, size);
		bool npy = size >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0;
		NpzFile one = {ctx_alloc(c, sizeof(NpyArray)), 1}, *z = &one;
		if (npy)
			npy_parse(c, "fuzz.npy", buf, (int64_t)size, &one.arrays[0]), one.arrays[0].name = "";
		else
			z = npz_parse(c, "fuzz.npz", buf, (int64_t)size);
		FILE *f = open_memstream(&out, &outlen);
		if (!f)
			abort();
		if (npy)
			npy_write(c, f, &z->arrays[0]);
		else
			npz_write(c, f, z->arrays, z->n);
		if (fclose(f) != 0)
			abort();
		if (npy) {
			NpyArray back;
			npy_parse(c, "rewritten.npy", (unsigned char *)out, (int64_t)outlen, &back);
			back.name = "";
			same(z->arrays, &back, 1);
		} else {
			NpzFile *back = npz_parse(c, "rewritten.npz", (unsigned char *)out, (int64_t)outlen);
			if (back->n != z->n)
				abort();
			same(z->arrays, back->arrays, z->n);
		}
	}
	fuzz_check_code(c);
	free(out);
	ctx_free(c);
	return 0;
}
