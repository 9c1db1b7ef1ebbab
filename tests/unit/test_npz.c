/*
 * test_npz.c -- numpy's .npy and .npz files (compiler/front/npz.c): what the
 * writer writes reads back; the header forms numpy writes (versions 1 and 2,
 * key orders, one-dimensional shapes); every refusal names its reason.
 * Also text_depfile (compiler/text.c), the other new way out of tostc.
 */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include <CUnit/Basic.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"

/* At the top of a test: a fresh context c whose errors fail the test. */
#define BEGIN(c, jb)                  \
	ctx_init(&(c), "t.npz");      \
	(c).jmp = &(jb);              \
	if (setjmp(jb)) {             \
		FAIL_ERROR(&(c));     \
		return;               \
	}

/* arrays -> a .npz in memory (malloc'd), its size in *n */
static unsigned char *archive(Ctx *c, const NpyArray *a, int k, size_t *n)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, n);
	npz_write(c, f, a, k);
	fclose(f);
	return (unsigned char *)buf;
}

static void test_round_trip(void)
{
	Ctx c;
	jmp_buf jb;
	BEGIN(c, jb);
	static const float x[6] = {1, -2, 3.5f, 0, 1e-30f, 7};
	static const int64_t s[1] = {-5};
	static const unsigned char b[4] = {1, 0, 0, 1};
	NpyArray a[4] = {
		{"x", "<f4", DT_F32, 2, {2, 3}, sizeof x, (const unsigned char *)x},
		{"scalar", "<i8", DT_I64, 0, {0}, sizeof s, (const unsigned char *)s},
		{"mask", "|b1", DT_BOOL, 1, {4}, sizeof b, b},
		{"none", "<i4", DT_I32, 2, {0, 5}, 0, b},
	};
	size_t n;
	unsigned char *buf = archive(&c, a, 4, &n);
	NpzFile *z = npz_parse(&c, "t.npz", buf, (int64_t)n);
	CU_ASSERT_EQUAL_FATAL(z->n, 4);
	for (int i = 0; i < 4; i++) {
		NpyArray *r = &z->arrays[i];
		CU_ASSERT_STRING_EQUAL(r->name, a[i].name);
		CU_ASSERT_STRING_EQUAL(r->descr, a[i].descr);
		CU_ASSERT_EQUAL(r->dtype, a[i].dtype);
		CU_ASSERT_EQUAL(r->rank, a[i].rank);
		CU_ASSERT_EQUAL(r->nbytes, a[i].nbytes);
		CU_ASSERT(memcmp(r->dims, a[i].dims, sizeof r->dims) == 0);
		CU_ASSERT(r->nbytes == 0 || memcmp(r->data, a[i].data, (size_t)r->nbytes) == 0);
	}
	CU_ASSERT_STRING_EQUAL(npy_shape_text(&c, &z->arrays[2]), "4,");
	CU_ASSERT_STRING_EQUAL(npy_shape_text(&c, &z->arrays[1]), "");
	CU_ASSERT_STRING_EQUAL(npy_type_name("<f8"), "float64");
	free(buf);
	ctx_free(&c);
}

/* a whole .npy with header text h and nbytes of data */
static unsigned char *npy(int major, const char *h, int nbytes, size_t *n)
{
	size_t hl = strlen(h), pre = major == 1 ? 10 : 12;
	unsigned char *p = calloc(1, pre + hl + (size_t)nbytes + 1);
	memcpy(p, "\x93NUMPY", 6);
	p[6] = (unsigned char)major;
	p[8] = (unsigned char)(hl & 0xff);
	p[9] = (unsigned char)(hl >> 8);
	memcpy(p + pre, h, hl);
	*n = pre + hl + (size_t)nbytes;
	return p;
}

/* a .npy with header h parses to the rank and first dimension given */
static void header_ok(int major, const char *h, int nbytes, int rank, int64_t d0)
{
	Ctx c;
	jmp_buf jb;
	size_t n;
	unsigned char *p = npy(major, h, nbytes, &n);
	ctx_init(&c, "t.npy");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);   /* p leaks: the test failed */
		return;
	}
	NpyArray a;
	npy_parse(&c, "t.npy", p, (int64_t)n, &a);
	CU_ASSERT_EQUAL(a.rank, rank);
	CU_ASSERT(a.rank == 0 || a.dims[0] == d0);
	CU_ASSERT(a.dtype != DT_UNDEF);
	free(p);
	ctx_free(&c);
}

static void test_header_forms(void)
{
	header_ok(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }    \n", 20, 1, 5);
	header_ok(2, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i8'}\n", 48, 2, 2);
	header_ok(1, "{\"descr\": \"|b1\", \"fortran_order\": True, \"shape\": (7,)}\n", 7, 1, 7);
	header_ok(1, "{'descr':'<i4','fortran_order':False,'shape':(3L, 1L)}\n", 12, 2, 3);
	header_ok(1, "{'descr': '=f4', 'fortran_order': False, 'shape': (), }\n", 4, 0, 0);
}

/* parse must fail with a message containing `want` */
static void refused(const unsigned char *p, size_t n, bool is_npy, const char *want)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t.npz");
	c.jmp = &jb;
	if (setjmp(jb) == 0) {
		NpyArray a;
		if (is_npy)
			npy_parse(&c, "t.npy", p, (int64_t)n, &a);
		else
			npz_parse(&c, "t.npz", p, (int64_t)n);
		CU_FAIL("parsed");
		fprintf(stderr, "\n  accepted, wanted an error with '%s'\n", want);
	} else if (!strstr(c.errmsg, want)) {
		CU_FAIL("another message");
		fprintf(stderr, "\n  got: %s\n  want: ...%s...\n", c.errmsg, want);
	}
	ctx_free(&c);
}

static void test_refusals(void)
{
	static const struct {
		const char *h, *want;
		int nbytes;
	} bad[] = {
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }\n", "needs 20 bytes", 19},
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", "Fortran order", 16},
		{"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", "big-endian", 8},
		{"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", "not a plain number", 16},
		{"{'descr': '<f4', 'shape': (2,), }\n", "missing", 8},
		{"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", "repeated", 8},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}\n", "rank", 4},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}\n", "overflow", 4},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", "dimension", 4},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x\n", "after the dict", 8},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n;
		unsigned char *p = npy(1, bad[i].h, bad[i].nbytes, &n);
		refused(p, n, true, bad[i].want);
		free(p);
	}
	refused((const unsigned char *)"\x93NUMPY\x04\x00\x10\x00", 10, true, "version 4.0");

	/* zip: damaged in each of its parts */
	Ctx c;
	jmp_buf jb;
	BEGIN(c, jb);
	static const float x[4] = {1, 2, 3, 4};
	NpyArray a[2] = {{"x", "<f4", DT_F32, 1, {4}, 16, (const unsigned char *)x},
	                 {"x", "<f4", DT_F32, 1, {4}, 16, (const unsigned char *)x}};
	size_t n, n2;
	unsigned char *z = archive(&c, a, 1, &n), *twice = archive(&c, a, 2, &n2);
	unsigned char *p = malloc(n);
	size_t dir = n - 22 - 46 - 5;   /* the directory entry of x.npy */
	CU_ASSERT_EQUAL_FATAL(n, 30 + 5 + 128 + 16 + 46 + 5 + 22);   /* .npy header: 128 */
	refused(twice, n2, false, "holds 'x' twice");
	refused(z, n - 1, false, "central directory (truncated?)");
	refused((const unsigned char *)"a text file, not a zip archive", 30, false, "not a .npz");
	refused(z, n / 2, false, "central directory (truncated?)");
	memcpy(p, z, n), p[30 + 5 + 128 + 2] ^= 1;         /* a byte of the array */
	refused(p, n, false, "CRC-32");
	memcpy(p, z, n), p[8] = 8, p[dir + 10] = 8;         /* deflated, local and directory */
	refused(p, n, false, "np.savez_compressed");
	memcpy(p, z, n), p[dir + 46] = 'y';                 /* the directory's name */
	refused(p, n, false, "does not match the directory");
	memcpy(p, z, n), p[dir + 42] = 9;                   /* the local header's offset */
	refused(p, n, false, "local header is not where");
	memcpy(p, z, n), p[n - 22 + 10] = 200;              /* the entry count */
	refused(p, n, false, "too small for its 200 entries");
	free(p), free(z), free(twice);
	ctx_free(&c);
}

static void test_depfile(void)
{
	Ctx c;
	ctx_init(&c, "m.tost");
	CU_ASSERT_STRING_EQUAL(text_depfile(&c, "/a b/c#d$e.onnx"), "/a\\ b/c\\#d$$e.onnx");
	CU_ASSERT_PTR_NULL(text_depfile(&c, "x\ny"));
	CU_ASSERT_PTR_NULL(text_depfile(&c, "a\\b"));
	ctx_free(&c);
}

void register_npz(void)
{
	CU_pSuite s = CU_add_suite("npz", NULL, NULL);
	CU_add_test(s, "written arrays read back", test_round_trip);
	CU_add_test(s, "the .npy headers numpy writes", test_header_forms);
	CU_add_test(s, "every refusal names its reason", test_refusals);
	CU_add_test(s, "depfile paths", test_depfile);
}
