/*
 * test_tensor.c -- unit tests for the data movement kernels (runtime/tensor/tensor.h)
 * and the shape/lower functions of compiler/ops/op_tensor.c.
 *
 * Kernel tests call the runtime directly on small inputs and compare with
 * literal expected values or with a naive index formula written out here.
 * Graph tests build one node on constant inputs and run shape_infer, which
 * checks the node and folds it through the op's own lowering, so they check
 * shapes, attribute/opset handling, error messages and the values together.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "tostc.h"
#include "tensor/tensor.h"

/* ---- transpose: all permutations of (2, 3, 4), via the strided map ---- */

static void check_transpose3(const int *perm)
{
	const int64_t d[3] = {2, 3, 4}, xs[3] = {12, 4, 1};
	float x[24], y[24];
	int64_t dims[3], strides[3];
	for (int i = 0; i < 24; i++)
		x[i] = (float)i;
	for (int k = 0; k < 3; k++) {
		dims[k] = d[perm[k]];
		strides[k] = xs[perm[k]];
	}
	tr_strided_copy(x, y, 3, dims, strides, 0, 4);
	/* y[i0, i1, i2] = x[idx] where idx[perm[k]] = i_k */
	for (int i0 = 0; i0 < dims[0]; i0++)
		for (int i1 = 0; i1 < dims[1]; i1++)
			for (int i2 = 0; i2 < dims[2]; i2++) {
				int idx[3];
				idx[perm[0]] = i0;
				idx[perm[1]] = i1;
				idx[perm[2]] = i2;
				float want = (float)(idx[0] * 12 + idx[1] * 4 + idx[2]);
				CU_ASSERT_EQUAL(y[(i0 * dims[1] + i1) * dims[2] + i2], want);
			}
}

static void test_transpose_perms(void)
{
	static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	                                {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (int p = 0; p < 6; p++)
		check_transpose3(perms[p]);
}

static void test_transpose_2d_literal(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]] -> y (3, 2) = [[1 4] [2 5] [3 6]] */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6}, want[6] = {1, 4, 2, 5, 3, 6};
	const int64_t dims[2] = {3, 2}, strides[2] = {1, 3};
	int64_t y[6];
	tr_strided_copy(x, y, 2, dims, strides, 0, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_transpose_tiled(void)
{
	/* (37, 45) -> (45, 37): big enough for the 32x32 tile path, ragged edges */
	enum { M = 37, N = 45 };
	static int32_t x[M * N], y[M * N];
	const int64_t dims[2] = {N, M}, strides[2] = {1, N};
	for (int i = 0; i < M * N; i++)
		x[i] = i * 7 + 1;
	tr_strided_copy(x, y, 2, dims, strides, 0, 4);
	int bad = 0;
	for (int j = 0; j < N; j++)
		for (int i = 0; i < M; i++)
			bad += y[j * M + i] != x[i * N + j];
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_transpose_bool_batched(void)
{
	/* bool (2, 2, 3) -> perm (0, 2, 1) -> (2, 3, 2), 1-byte elements */
	const uint8_t x[12] = {1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
	const uint8_t want[12] = {1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0};
	const int64_t dims[3] = {2, 3, 2}, strides[3] = {6, 1, 3};
	uint8_t y[12];
	tr_strided_copy(x, y, 3, dims, strides, 0, 1);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- slice ---- */

static void test_slice_negative_step(void)
{
	/* x = 0..9, x[8:0:-3] = [8, 5, 2] */
	float x[10], y[3];
	const int64_t dims[1] = {3}, strides[1] = {-3};
	for (int i = 0; i < 10; i++)
		x[i] = (float)i;
	tr_strided_copy(x, y, 1, dims, strides, 8, 4);
	CU_ASSERT_EQUAL(y[0], 8.0f);
	CU_ASSERT_EQUAL(y[1], 5.0f);
	CU_ASSERT_EQUAL(y[2], 2.0f);
}

static void test_slice_2d_reversed(void)
{
	/* x (3, 4) = 0..11; x[::-1, 1:3] = [[9 10] [5 6] [1 2]] */
	int64_t x[12], y[6];
	const int64_t want[6] = {9, 10, 5, 6, 1, 2};
	const int64_t dims[2] = {3, 2}, strides[2] = {-4, 1};
	for (int i = 0; i < 12; i++)
		x[i] = i;
	tr_strided_copy(x, y, 2, dims, strides, 2 * 4 + 1, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- expand / tile ---- */

static void test_expand_tile(void)
{
	/* expand x (3, 1) = [1 2 3] to (2, 3, 2): strides (0, 1, 0) */
	const float x[3] = {1, 2, 3};
	const float want[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
	const int64_t dims[3] = {2, 3, 2}, strides[3] = {0, 1, 0};
	float y[12];
	tr_strided_copy(x, y, 3, dims, strides, 0, 4);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
	/* tile x (2) = [5 6] by 3: (3, 2) with strides (0, 1) */
	const int32_t t[2] = {5, 6};
	const int64_t td[2] = {3, 2}, ts[2] = {0, 1};
	int32_t ty[6];
	tr_strided_copy(t, ty, 2, td, ts, 0, 4);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(ty[i], i % 2 ? 6 : 5);
}

static void test_strided_rank0_and_empty(void)
{
	const float x[4] = {1, 2, 3, 4};
	float y[1] = {0};
	tr_strided_copy(x, y, 0, NULL, NULL, 2, 4);
	CU_ASSERT_EQUAL(y[0], 3.0f);
	const int64_t dims[2] = {0, 3}, strides[2] = {3, 1};
	y[0] = -1;
	tr_strided_copy(x, y, 2, dims, strides, 0, 4);   /* writes nothing */
	CU_ASSERT_EQUAL(y[0], -1.0f);
}

/* ---- concat / split (row copies) ---- */

static void test_concat_axes(void)
{
	/* a (2, 2) = [[1 2] [3 4]], b (2, 2) = [[5 6] [7 8]] */
	const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	float y[8];
	/* axis 0: y (4, 2): one row of 16 bytes each, at byte offsets 0 and 16 */
	tr_copy_rows(a, y, 1, 16, 16, 32, 0, 0);
	tr_copy_rows(b, y, 1, 16, 16, 32, 0, 16);
	const float want0[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want0[i]);
	/* axis 1: y (2, 4): 2 rows of 8 bytes, y rows are 16 bytes */
	tr_copy_rows(a, y, 2, 8, 8, 16, 0, 0);
	tr_copy_rows(b, y, 2, 8, 8, 16, 0, 8);
	const float want1[8] = {1, 2, 5, 6, 3, 4, 7, 8};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want1[i]);
}

static void test_split_rows(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]] split on axis 1 into 1 and 2 columns */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6};
	int64_t y0[2], y1[4];
	tr_copy_rows(x, y0, 2, 8, 24, 8, 0, 0);
	tr_copy_rows(x, y1, 2, 16, 24, 16, 8, 0);
	CU_ASSERT_EQUAL(y0[0], 1);
	CU_ASSERT_EQUAL(y0[1], 4);
	CU_ASSERT_EQUAL(y1[0], 2);
	CU_ASSERT_EQUAL(y1[1], 3);
	CU_ASSERT_EQUAL(y1[2], 5);
	CU_ASSERT_EQUAL(y1[3], 6);
}

/* ---- gather ---- */

static void test_gather_negative(void)
{
	/* x (3, 2) = [[1 2] [3 4] [5 6]], idx = [-1, 0, -3] along axis 0 */
	const float x[6] = {1, 2, 3, 4, 5, 6};
	const int64_t idx[3] = {-1, 0, -3};
	const float want[6] = {5, 6, 1, 2, 1, 2};
	float y[6];
	tr_gather(x, idx, y, 1, 3, 2, 3, 8, 4);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_gather_axis1_i32_clamped(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]], axis 1, int32 idx = [2, -2, 7, -9]:
	 * 7 and -9 are out of range and clamp to 2 and 0 */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6};
	const int32_t idx[4] = {2, -2, 7, -9};
	const int64_t want[8] = {3, 2, 3, 1, 6, 5, 6, 4};
	int64_t y[8];
	tr_gather(x, idx, y, 2, 3, 1, 4, 4, 8);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- range, fill, const ---- */

static void test_range_fill(void)
{
	int32_t r[2];
	tr_range_i32(r, 10, -3, 2);   /* Range(10, 6, -3) = [10, 7] */
	CU_ASSERT_EQUAL(r[0], 10);
	CU_ASSERT_EQUAL(r[1], 7);
	float f[2];
	tr_range_f32(f, 1.0f, 2.0f, 2);   /* Range(1, 5, 2) = [1, 3] */
	CU_ASSERT_EQUAL(f[0], 1.0f);
	CU_ASSERT_EQUAL(f[1], 3.0f);
	uint8_t b[3] = {0, 0, 0};
	tr_fill_b8(b, 3, 5);
	CU_ASSERT_EQUAL(b[0] + b[1] + b[2], 3);
	int64_t c[2];
	const int64_t v[2] = {-4, 9};
	tr_const_i64(c, v, 2);
	CU_ASSERT_EQUAL(c[0], -4);
	CU_ASSERT_EQUAL(c[1], 9);
}


/* ------------------------------------------------------------------ */
/* Graph-level tests: one node, shape inference + folding                */
/* ------------------------------------------------------------------ */

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
	Node *n;
} TG;

static void tg_init(TG *t, int opset)
{
	ctx_init(&t->c, "t.onnx");
	t->c.jmp = &t->jb;
	t->g = graph_new(&t->c);
	t->g->opset = opset;
	t->n = NULL;
}

static Tensor *tg_i64(TG *t, int rank, const int64_t *dims, const int64_t *v)
{
	static const int64_t scalar[1] = {0};   /* rank 0 still needs dims != NULL */
	Tensor *x = tensor_const(t->g, ctx_printf(&t->c, "c%d", t->g->ntensors), DT_I64, rank,
	                         dims ? dims : scalar);
	for (int64_t i = 0; i < tensor_nelem(x); i++)
		((int64_t *)x->data)[i] = v[i];
	return x;
}

static Tensor *tg_ints(TG *t, int n, const int64_t *v)
{
	int64_t d = n;
	return tg_i64(t, 1, &d, v);
}

/* A float constant holding 0, 1, 2, ... */
static Tensor *tg_iota(TG *t, int rank, const int64_t *dims)
{
	Tensor *x = tensor_const(t->g, ctx_printf(&t->c, "c%d", t->g->ntensors), DT_F32, rank, dims);
	for (int64_t i = 0; i < tensor_nelem(x); i++)
		((float *)x->data)[i] = (float)i;
	return x;
}

static Node *tg_node(TG *t, OpKind op, int nin, Tensor *const *in, int nout)
{
	Node *n = node_new(t->g, op, "n", nin, nout);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	for (int i = 0; i < nout; i++) {
		n->out[i] = tensor_new(t->g, ctx_printf(&t->c, "y%d", i), TK_VALUE, DT_UNDEF, 0, NULL);
		n->out[i]->producer = n;
	}
	graph_add_node(t->g, n);
	t->n = n;
	return n;
}

static void tg_attr_ints(TG *t, const char *name, int cnt, const int64_t *v)
{
	Attr *a = node_add_attr(t->g, t->n, name, AT_INTS);
	a->ints = ctx_alloc(&t->c, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
	for (int i = 0; i < cnt; i++)
		a->ints[i] = v[i];
	a->n = cnt;
}

static void tg_attr_int(TG *t, const char *name, int64_t v)
{
	node_add_attr(t->g, t->n, name, AT_INT)->i = v;
}

/* Run shape inference (+ folding); returns 0 or the error code, errmsg in t->c. */
static int tg_run(TG *t)
{
	if (setjmp(t->jb))
		return t->c.errcode;
	shape_infer(t->g);
	return 0;
}

static void check_shape(const Tensor *y, int rank, const int64_t *dims)
{
	CU_ASSERT_EQUAL_FATAL(y->rank, rank);
	for (int k = 0; k < rank; k++)
		CU_ASSERT_EQUAL(y->dims[k], dims[k]);
}

static void check_f32(const Tensor *y, int n, const float *want)
{
	CU_ASSERT_EQUAL_FATAL(y->kind, TK_CONST);
	CU_ASSERT_EQUAL_FATAL(tensor_nelem(y), n);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(((const float *)y->data)[i], want[i]);
}

static void check_i64(const Tensor *y, int n, const int64_t *want)
{
	CU_ASSERT_EQUAL_FATAL(y->kind, TK_CONST);
	CU_ASSERT_EQUAL_FATAL(tensor_nelem(y), n);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(((const int64_t *)y->data)[i], want[i]);
}

/* Expect a user error whose message contains `part`. */
static void check_error(TG *t, const char *part)
{
	int rc = tg_run(t);
	CU_ASSERT_EQUAL(rc, 1);
	if (!strstr(t->c.errmsg, part)) {
		fprintf(stderr, "\n  message: %s\n  wanted:  %s\n", t->c.errmsg, part);
		CU_FAIL("error message");
	}
}

static void test_g_reshape(void)
{
	TG t;
	const int64_t d[3] = {2, 3, 4};
	/* 0 copies the input dim, -1 is inferred */
	tg_init(&t, 14);
	Tensor *in[2] = {tg_iota(&t, 3, d), tg_ints(&t, 2, (const int64_t[]){0, -1})};
	Node *n = tg_node(&t, OP_RESHAPE, 2, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 2, (const int64_t[]){2, 12});
	ctx_free(&t.c);
	/* allowzero = 1: a 0 is a real 0, so 24 elements cannot become 0 */
	tg_init(&t, 14);
	in[0] = tg_iota(&t, 3, d);
	in[1] = tg_ints(&t, 3, (const int64_t[]){2, 0, 12});
	tg_node(&t, OP_RESHAPE, 2, in, 1);
	tg_attr_int(&t, "allowzero", 1);
	check_error(&t, "24 elements");
	ctx_free(&t.c);
	/* two -1 */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 3, d);
	in[1] = tg_ints(&t, 2, (const int64_t[]){-1, -1});
	tg_node(&t, OP_RESHAPE, 2, in, 1);
	check_error(&t, "more than one -1");
	ctx_free(&t.c);
	/* a run-time shape is refused */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 3, d);
	in[1] = tensor_new(t.g, "s", TK_INPUT, DT_I64, 1, (const int64_t[]){2});
	tg_node(&t, OP_RESHAPE, 2, in, 1);
	check_error(&t, "must be a constant");
	ctx_free(&t.c);
}

static void test_g_squeeze_unsqueeze(void)
{
	TG t;
	const int64_t d[4] = {1, 3, 1, 5};
	/* opset 11: axes attribute */
	tg_init(&t, 11);
	Tensor *in[2] = {tg_iota(&t, 4, d), NULL};
	Node *n = tg_node(&t, OP_SQUEEZE, 1, in, 1);
	tg_attr_ints(&t, "axes", 1, (const int64_t[]){-2});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 3, (const int64_t[]){1, 3, 5});
	ctx_free(&t.c);
	/* no axes: every 1 goes */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 4, d);
	n = tg_node(&t, OP_SQUEEZE, 1, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 2, (const int64_t[]){3, 5});
	ctx_free(&t.c);
	/* squeezing a 3 is an error */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 4, d);
	in[1] = tg_ints(&t, 1, (const int64_t[]){1});
	tg_node(&t, OP_SQUEEZE, 2, in, 1);
	check_error(&t, "cannot squeeze axis 1");
	ctx_free(&t.c);
	/* Unsqueeze opset 11 attribute, axes refer to the output rank */
	tg_init(&t, 11);
	in[0] = tg_iota(&t, 2, (const int64_t[]){3, 4});
	n = tg_node(&t, OP_UNSQUEEZE, 1, in, 1);
	tg_attr_ints(&t, "axes", 2, (const int64_t[]){-1, 0});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 4, (const int64_t[]){1, 3, 4, 1});
	CU_ASSERT_EQUAL(((const float *)n->out[0]->data)[5], 5.0f);
	ctx_free(&t.c);
	/* Flatten with a negative axis */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 3, (const int64_t[]){2, 3, 4});
	n = tg_node(&t, OP_FLATTEN, 1, in, 1);
	tg_attr_int(&t, "axis", -1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 2, (const int64_t[]){6, 4});
	ctx_free(&t.c);
}

static void test_g_slice(void)
{
	TG t;
	const int64_t d10 = 10;
	/* opset 13: x[-1::-2] with an INT64_MIN end = [9, 7, 5, 3, 1] */
	tg_init(&t, 13);
	Tensor *in[5] = {tg_iota(&t, 1, &d10), tg_ints(&t, 1, (const int64_t[]){-1}),
	                 tg_ints(&t, 1, (const int64_t[]){INT64_MIN}),
	                 tg_ints(&t, 1, (const int64_t[]){0}), tg_ints(&t, 1, (const int64_t[]){-2})};
	Node *n = tg_node(&t, OP_SLICE, 5, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 5, (const float[]){9, 7, 5, 3, 1});
	ctx_free(&t.c);
	/* x[8:0:-3] = [8, 5, 2] (axes omitted) */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 1, &d10);
	in[1] = tg_ints(&t, 1, (const int64_t[]){8});
	in[2] = tg_ints(&t, 1, (const int64_t[]){0});
	in[3] = NULL;
	in[4] = tg_ints(&t, 1, (const int64_t[]){-3});
	n = tg_node(&t, OP_SLICE, 5, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 3, (const float[]){8, 5, 2});
	ctx_free(&t.c);
	/* opset 13: x[2:INT64_MAX:3] = [2, 5, 8] */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 1, &d10);
	in[1] = tg_ints(&t, 1, (const int64_t[]){2});
	in[2] = tg_ints(&t, 1, (const int64_t[]){INT64_MAX});
	in[3] = tg_ints(&t, 1, (const int64_t[]){-1});
	in[4] = tg_ints(&t, 1, (const int64_t[]){3});
	n = tg_node(&t, OP_SLICE, 5, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 3, (const float[]){2, 5, 8});
	ctx_free(&t.c);
	/* opset 9 attributes: x (3, 4), axes [1], starts [-3], ends [-1] -> columns 1, 2 */
	tg_init(&t, 9);
	in[0] = tg_iota(&t, 2, (const int64_t[]){3, 4});
	n = tg_node(&t, OP_SLICE, 1, in, 1);
	tg_attr_ints(&t, "starts", 1, (const int64_t[]){-3});
	tg_attr_ints(&t, "ends", 1, (const int64_t[]){-1});
	tg_attr_ints(&t, "axes", 1, (const int64_t[]){1});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 6, (const float[]){1, 2, 5, 6, 9, 10});
	ctx_free(&t.c);
	/* a zero step is an error */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 1, &d10);
	in[1] = tg_ints(&t, 1, (const int64_t[]){0});
	in[2] = tg_ints(&t, 1, (const int64_t[]){5});
	in[3] = tg_ints(&t, 1, (const int64_t[]){0});
	in[4] = tg_ints(&t, 1, (const int64_t[]){0});
	tg_node(&t, OP_SLICE, 5, in, 1);
	check_error(&t, "steps[0] is 0");
	ctx_free(&t.c);
}

static void test_g_split_concat(void)
{
	TG t;
	const int64_t d6 = 6;
	/* opset 11 split attribute [1, 2, 3] */
	tg_init(&t, 11);
	Tensor *in[3] = {tg_iota(&t, 1, &d6), NULL, NULL};
	Node *n = tg_node(&t, OP_SPLIT, 1, in, 3);
	tg_attr_ints(&t, "split", 3, (const int64_t[]){1, 2, 3});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 1, (const float[]){0});
	check_f32(n->out[1], 2, (const float[]){1, 2});
	check_f32(n->out[2], 3, (const float[]){3, 4, 5});
	ctx_free(&t.c);
	/* equal split that does not divide */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 1, &d6);
	tg_node(&t, OP_SPLIT, 1, in, 4);
	check_error(&t, "4 equal parts");
	ctx_free(&t.c);
	/* Concat (2, 1) and (2, 2) on axis -1 */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 1});
	in[1] = tg_iota(&t, 2, (const int64_t[]){2, 2});
	n = tg_node(&t, OP_CONCAT, 2, in, 1);
	tg_attr_int(&t, "axis", -1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 6, (const float[]){0, 0, 1, 1, 2, 3});
	ctx_free(&t.c);
	/* mismatch off the axis */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 1});
	in[1] = tg_iota(&t, 2, (const int64_t[]){2, 2});
	in[2] = tg_iota(&t, 2, (const int64_t[]){3, 1});
	tg_node(&t, OP_CONCAT, 3, in, 1);
	tg_attr_int(&t, "axis", 1);
	check_error(&t, "inputs 0 and 2 differ in axis 0 (2 vs 3)");
	ctx_free(&t.c);
}

static void test_g_gather_transpose(void)
{
	TG t;
	/* Gather axis 1 of (2, 3) with constant indices [-1, 0] */
	tg_init(&t, 13);
	Tensor *in[2] = {tg_iota(&t, 2, (const int64_t[]){2, 3}), NULL};
	in[1] = tg_ints(&t, 2, (const int64_t[]){-1, 0});
	Node *n = tg_node(&t, OP_GATHER, 2, in, 1);
	tg_attr_int(&t, "axis", 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 4, (const float[]){2, 0, 5, 3});
	ctx_free(&t.c);
	/* a constant index out of range is reported */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 3});
	in[1] = tg_ints(&t, 1, (const int64_t[]){3});
	tg_node(&t, OP_GATHER, 2, in, 1);
	tg_attr_int(&t, "axis", 1);
	check_error(&t, "index 3");
	ctx_free(&t.c);
	/* Transpose (2, 3) default perm */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 3});
	n = tg_node(&t, OP_TRANSPOSE, 1, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 6, (const float[]){0, 3, 1, 4, 2, 5});
	ctx_free(&t.c);
	/* a perm with a repeat */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 3});
	tg_node(&t, OP_TRANSPOSE, 1, in, 1);
	tg_attr_ints(&t, "perm", 2, (const int64_t[]){1, 1});
	check_error(&t, "perm repeats axis 1");
	ctx_free(&t.c);
	/* lowering simplifies: (1, 3, 1, 4) perm (2, 3, 0, 1) is a 2-D transpose */
	tg_init(&t, 13);
	in[0] = tensor_new(t.g, "x", TK_INPUT, DT_F32, 4, (const int64_t[]){1, 3, 1, 4});
	n = tg_node(&t, OP_TRANSPOSE, 1, in, 1);
	tg_attr_ints(&t, "perm", 4, (const int64_t[]){2, 3, 0, 1});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 4, (const int64_t[]){1, 4, 1, 3});
	if (setjmp(t.jb) == 0) {
		lower_transpose(t.g, n);
		CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_strided_copy");
		CU_ASSERT_EQUAL(n->calls->args[2].i, 2);            /* rank */
		CU_ASSERT_EQUAL(n->calls->args[3].ints[0], 4);      /* dims */
		CU_ASSERT_EQUAL(n->calls->args[3].ints[1], 3);
		CU_ASSERT_EQUAL(n->calls->args[4].ints[0], 1);      /* strides */
		CU_ASSERT_EQUAL(n->calls->args[4].ints[1], 4);
	} else {
		CU_FAIL(t.c.errmsg);
	}
	ctx_free(&t.c);
}

static void test_g_expand_tile_range(void)
{
	TG t;
	/* Expand (3, 1) by shape (2, 1, 2) -> (2, 3, 2) */
	tg_init(&t, 13);
	Tensor *in[3] = {tg_iota(&t, 2, (const int64_t[]){3, 1}),
	                 tg_ints(&t, 3, (const int64_t[]){2, 1, 2}), NULL};
	Node *n = tg_node(&t, OP_EXPAND, 2, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 3, (const int64_t[]){2, 3, 2});
	check_f32(n->out[0], 12, (const float[]){0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2});
	ctx_free(&t.c);
	/* Tile (2, 2) by (1, 2) */
	tg_init(&t, 13);
	in[0] = tg_iota(&t, 2, (const int64_t[]){2, 2});
	in[1] = tg_ints(&t, 2, (const int64_t[]){1, 2});
	n = tg_node(&t, OP_TILE, 2, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_f32(n->out[0], 8, (const float[]){0, 1, 0, 1, 2, 3, 2, 3});
	ctx_free(&t.c);
	/* Range(0, 10, 3) int64 = [0, 3, 6, 9] */
	tg_init(&t, 11);
	in[0] = tg_i64(&t, 0, NULL, (const int64_t[]){0});
	in[1] = tg_i64(&t, 0, NULL, (const int64_t[]){10});
	in[2] = tg_i64(&t, 0, NULL, (const int64_t[]){3});
	n = tg_node(&t, OP_RANGE, 3, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_i64(n->out[0], 4, (const int64_t[]){0, 3, 6, 9});
	ctx_free(&t.c);
	/* Range(5, 0, -2) = [5, 3, 1] */
	tg_init(&t, 11);
	in[0] = tg_i64(&t, 0, NULL, (const int64_t[]){5});
	in[1] = tg_i64(&t, 0, NULL, (const int64_t[]){0});
	in[2] = tg_i64(&t, 0, NULL, (const int64_t[]){-2});
	n = tg_node(&t, OP_RANGE, 3, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_i64(n->out[0], 3, (const int64_t[]){5, 3, 1});
	ctx_free(&t.c);
}

static void test_g_shape_constant(void)
{
	TG t;
	/* Shape opset 15, start = -2 of a run-time (2, 3, 4) -> [3, 4] */
	tg_init(&t, 15);
	Tensor *in[1] = {tensor_new(t.g, "x", TK_INPUT, DT_F32, 3, (const int64_t[]){2, 3, 4})};
	Node *n = tg_node(&t, OP_SHAPE, 1, in, 1);
	tg_attr_int(&t, "start", -2);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_i64(n->out[0], 2, (const int64_t[]){3, 4});
	ctx_free(&t.c);
	/* Constant value_ints */
	tg_init(&t, 13);
	n = tg_node(&t, OP_CONSTANT, 0, NULL, 1);
	tg_attr_ints(&t, "value_ints", 3, (const int64_t[]){7, -1, 2});
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	check_shape(n->out[0], 1, (const int64_t[]){3});
	check_i64(n->out[0], 3, (const int64_t[]){7, -1, 2});
	ctx_free(&t.c);
	/* Constant with a string value is refused */
	tg_init(&t, 13);
	tg_node(&t, OP_CONSTANT, 0, NULL, 1);
	node_add_attr(t.g, t.n, "value_string", AT_STRING)->s = "hi";
	check_error(&t, "'value_string' is not supported");
	ctx_free(&t.c);
	/* ConstantOfShape without value: float zeros */
	tg_init(&t, 9);
	in[0] = tg_ints(&t, 2, (const int64_t[]){2, 3});
	n = tg_node(&t, OP_CONSTANT_OF_SHAPE, 1, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_F32);
	check_f32(n->out[0], 6, (const float[]){0, 0, 0, 0, 0, 0});
	ctx_free(&t.c);
}

static void test_g_view_lowering(void)
{
	TG t;
	tg_init(&t, 13);
	Tensor *in[1] = {tensor_new(t.g, "x", TK_INPUT, DT_I32, 2, (const int64_t[]){2, 3})};
	Node *n = tg_node(&t, OP_IDENTITY, 1, in, 1);
	CU_ASSERT_EQUAL(tg_run(&t), 0);
	if (setjmp(t.jb) == 0) {
		lower_view(t.g, n);       /* not a view: one copy of 24 bytes */
		CU_ASSERT_PTR_NOT_NULL_FATAL(n->calls);
		CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_copy");
		CU_ASSERT_EQUAL(n->calls->args[2].i, 24);
		n->calls = NULL;
		n->out[0]->view_of = in[0];
		lower_view(t.g, n);       /* a view: nothing */
		CU_ASSERT_PTR_NULL(n->calls);
	} else {
		CU_FAIL(t.c.errmsg);
	}
	ctx_free(&t.c);
}

void register_tensor(void)
{
	CU_pSuite s = CU_add_suite("tensor", NULL, NULL);
	CU_add_test(s, "transpose all perms of (2,3,4)", test_transpose_perms);
	CU_add_test(s, "transpose 2-D literal", test_transpose_2d_literal);
	CU_add_test(s, "transpose tiled 37x45", test_transpose_tiled);
	CU_add_test(s, "transpose bool batched", test_transpose_bool_batched);
	CU_add_test(s, "slice negative step", test_slice_negative_step);
	CU_add_test(s, "slice 2-D reversed rows", test_slice_2d_reversed);
	CU_add_test(s, "expand and tile", test_expand_tile);
	CU_add_test(s, "strided rank 0 and empty", test_strided_rank0_and_empty);
	CU_add_test(s, "concat along each axis", test_concat_axes);
	CU_add_test(s, "split rows", test_split_rows);
	CU_add_test(s, "gather negative indices", test_gather_negative);
	CU_add_test(s, "gather axis 1, int32, clamped", test_gather_axis1_i32_clamped);
	CU_add_test(s, "range, fill, const", test_range_fill);
	CU_add_test(s, "graph: reshape", test_g_reshape);
	CU_add_test(s, "graph: squeeze, unsqueeze, flatten", test_g_squeeze_unsqueeze);
	CU_add_test(s, "graph: slice", test_g_slice);
	CU_add_test(s, "graph: split, concat", test_g_split_concat);
	CU_add_test(s, "graph: gather, transpose", test_g_gather_transpose);
	CU_add_test(s, "graph: expand, tile, range", test_g_expand_tile_range);
	CU_add_test(s, "graph: shape, constant, constant of shape", test_g_shape_constant);
	CU_add_test(s, "graph: view lowering", test_g_view_lowering);
}
