/*
 * test_elementwise.c -- the kernels of runtime/elementwise/ evaluated
 * directly on small inputs with independently known answers: flat and
 * broadcast binary paths (row, column, scalar, general strided), in-place
 * use, integer semantics (truncating division, wrap, integer Pow), NaN in
 * Min/Max, Where, unary ops, Clip, Cast, the (outer, r, inner) and general
 * reduction kernels, Softmax/LogSoftmax and CumSum (the activations and
 * the newer math ops: test_activation.c).  Then, on small graphs built in
 * memory, which kernel form lowering picks (collapsed broadcast shapes,
 * reduction views, attribute variants), eval_node results, Dropout, Size and
 * CastLike, and the user errors of the shape functions.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"
#include "elementwise/binary.h"
#include "elementwise/unary.h"
#include "elementwise/reduce.h"

static void test_add_flat_inplace(void)
{
	float a[7] = {1, 2, 3, 4, 5, 6, 7}, b[7] = {10, 20, 30, 40, 50, 60, 70};
	tr_add_f32(a, b, a, 7);  /* y == a */
	for (int i = 0; i < 7; i++)
		CHECK_F(a[i], 11.0 * (i + 1), 0);
	tr_sub_f32(a, b, b, 7);  /* y == b: a - b = i + 1 */
	for (int i = 0; i < 7; i++)
		CHECK_F(b[i], i + 1, 0);
}

static void test_bc_row(void)
{
	/* x (3, 5) + bias (5) -> collapsed (3, 5), bias row stride 0 */
	float x[15], bias[5] = {100, 200, 300, 400, 500}, y[15];
	for (int i = 0; i < 15; i++)
		x[i] = (float)i;
	tr_add_f32_bc(x, bias, y, 2, (const int64_t[]){3, 5}, (const int64_t[]){5, 1},
	              (const int64_t[]){0, 1});
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 5; c++)
			CHECK_F(y[r * 5 + c], r * 5 + c + 100 * (c + 1), 0);
	/* in place, bias on the left */
	tr_sub_f32_bc(bias, x, x, 2, (const int64_t[]){3, 5}, (const int64_t[]){0, 1},
	              (const int64_t[]){5, 1});
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 5; c++)
			CHECK_F(x[r * 5 + c], 100 * (c + 1) - (r * 5 + c), 0);
}

static void test_bc_scalar_and_column(void)
{
	float x[5] = {1, 2, 3, 4, 5}, s = 2, y[5];
	tr_div_f32_bc(x, &s, y, 1, (const int64_t[]){5}, (const int64_t[]){1}, (const int64_t[]){0});
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], (i + 1) / 2.0, 0);
	tr_div_f32_bc(&s, x, y, 1, (const int64_t[]){5}, (const int64_t[]){0}, (const int64_t[]){1});
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], 2.0f / (i + 1), 1e-7);
	/* m (3, 4) * col (3, 1) */
	int64_t m[12], col[3] = {1, -2, 3}, z[12];
	for (int i = 0; i < 12; i++)
		m[i] = i;
	tr_mul_i64_bc(m, col, z, 2, (const int64_t[]){3, 4}, (const int64_t[]){4, 1},
	              (const int64_t[]){1, 0});
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			CHECK_I(z[r * 4 + c], (r * 4 + c) * col[r]);
}

static void test_bc_general(void)
{
	/* a (2, 1, 3) + b (1, 4, 1) -> y (2, 4, 3), odd sizes, rank 3 odometer */
	int32_t a[6] = {1, 2, 3, 4, 5, 6}, b[4] = {10, 20, 30, 40}, y[24];
	tr_add_i32_bc(a, b, y, 3, (const int64_t[]){2, 4, 3}, (const int64_t[]){3, 0, 1},
	              (const int64_t[]){0, 1, 0});
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 4; j++)
			for (int k = 0; k < 3; k++)
				CHECK_I(y[(i * 4 + j) * 3 + k], a[i * 3 + k] + b[j]);
	/* both operands broadcast in the innermost axis: (3, 2) <- (3, 1), (3, 1) */
	float p[3] = {1, 2, 3}, q[3] = {4, 5, 6}, r[6];
	tr_mul_f32_bc(p, q, r, 2, (const int64_t[]){3, 2}, (const int64_t[]){1, 0},
	              (const int64_t[]){1, 0});
	for (int i = 0; i < 6; i++)
		CHECK_F(r[i], p[i / 2] * q[i / 2], 0);
}

static void test_int_semantics(void)
{
	int64_t a[5] = {-7, 7, 7, 5, INT64_MIN}, b[5] = {2, -2, 0, 5, -1}, y[5];
	tr_div_i64(a, b, y, 5);
	CHECK_I(y[0], -3);
	CHECK_I(y[1], -3);
	CHECK_I(y[2], 0);  /* zero divisor gives 0, not a trap */
	CHECK_I(y[3], 1);
	CHECK_I(y[4], INT64_MIN);  /* wraps like two's complement */
	int32_t c[3] = {INT32_MAX, -9, 9}, d[3] = {1, 4, -4}, z[3];
	tr_add_i32(c, d, z, 3);
	CHECK_I(z[0], INT32_MIN);
	tr_div_i32(c, d, z, 3);
	CHECK_I(z[1], -2);
	CHECK_I(z[2], -2);
}

static void test_pow(void)
{
	int64_t a[5] = {2, 3, -2, 2, -1}, b[5] = {10, 0, 3, -1, -3}, y[5];
	tr_pow_i64_i64(a, b, y, 5);
	CHECK_I(y[0], 1024);
	CHECK_I(y[1], 1);
	CHECK_I(y[2], -8);
	CHECK_I(y[3], 0);
	CHECK_I(y[4], -1);
	float f[3] = {2, 3, 4}, fy[3];
	int32_t e[3] = {3, 2, -1};
	tr_pow_f32_i32(f, e, fy, 3);
	CHECK_F(fy[0], 8, 0);
	CHECK_F(fy[1], 9, 0);
	CHECK_F(fy[2], 0.25, 0);
	int32_t base[3] = {2, 9, 5}, iy[3];
	float ex[3] = {0.5f, 0.5f, 2.0f};
	tr_pow_i32_f32(base, ex, iy, 3);
	CHECK_I(iy[0], 1);  /* 1.414 truncates */
	CHECK_I(iy[1], 3);
	CHECK_I(iy[2], 25);
	float s = 2.0f;
	tr_pow_f32_f32_bc(f, &s, fy, 1, (const int64_t[]){3}, (const int64_t[]){1},
	                  (const int64_t[]){0});
	CHECK_F(fy[2], 16, 0);
}

static void test_min_max_compare(void)
{
	float a[3] = {1, NAN, 5}, b[3] = {2, 0, NAN}, y[3];
	tr_max_f32(a, b, y, 3);
	CHECK_F(y[0], 2, 0);
	CU_ASSERT(isnan(y[1]));
	CU_ASSERT(isnan(y[2]));
	tr_min_f32(a, b, y, 3);
	CHECK_F(y[0], 1, 0);
	CU_ASSERT(isnan(y[1]) && isnan(y[2]));
	int64_t p[4] = {1, 5, 3, 3}, q = 3;
	uint8_t r[4];
	tr_less_i64_bc(p, &q, r, 1, (const int64_t[]){4}, (const int64_t[]){1}, (const int64_t[]){0});
	CHECK_I(r[0] + 2 * r[1] + 4 * r[2] + 8 * r[3], 1);
	tr_greater_equal_i64_bc(p, &q, r, 1, (const int64_t[]){4}, (const int64_t[]){1},
	                        (const int64_t[]){0});
	CHECK_I(r[0] + 2 * r[1] + 4 * r[2] + 8 * r[3], 14);
	uint8_t u[4] = {0, 1, 0, 1}, v[4] = {0, 0, 1, 1}, w[4];
	tr_and_b8(u, v, w, 4);
	CHECK_I(w[0] + 2 * w[1] + 4 * w[2] + 8 * w[3], 8);
	tr_or_b8(u, v, w, 4);
	CHECK_I(w[0] + 2 * w[1] + 4 * w[2] + 8 * w[3], 14);
	tr_equal_b8(u, v, w, 4);
	CHECK_I(w[0] + 2 * w[1] + 4 * w[2] + 8 * w[3], 9);
}

static void test_where(void)
{
	/* cond (2, 1), a (2, 3), b scalar -> y (2, 3) */
	uint8_t c[2] = {1, 0};
	float a[6] = {1, 2, 3, 4, 5, 6}, b = -1, y[6];
	tr_where_f32(c, a, &b, y, 2, (const int64_t[]){2, 3}, (const int64_t[]){1, 0},
	             (const int64_t[]){3, 1}, (const int64_t[]){0, 0});
	float want[6] = {1, 2, 3, -1, -1, -1};
	for (int i = 0; i < 6; i++)
		CHECK_F(y[i], want[i], 0);
	int64_t p[3] = {1, 2, 3}, q[3] = {7, 8, 9}, z[3];
	uint8_t m[3] = {0, 1, 0};
	tr_where_i64(m, p, q, z, 1, (const int64_t[]){3}, (const int64_t[]){1},
	             (const int64_t[]){1}, (const int64_t[]){1});
	CHECK_I(z[0], 7);
	CHECK_I(z[1], 2);
	CHECK_I(z[2], 9);
}

static void test_unary(void)
{
	float x[4] = {-2, -0.5f, 0, 3}, y[4];
	tr_sigmoid_f32(x, y, 4);
	CHECK_F(y[2], 0.5, 1e-7);
	CHECK_F(y[3], 1 / (1 + exp(-3.0)), 1e-6);
	tr_relu_f32(x, y, 4);
	CHECK_F(y[0], 0, 0);
	CHECK_F(y[3], 3, 0);
	tr_leaky_relu_f32(x, y, 4, 0.1f);
	CHECK_F(y[0], -0.2, 1e-7);
	CHECK_F(y[3], 3, 0);
	tr_floor_f32(x, y, 4);
	CHECK_F(y[1], -1, 0);
	tr_ceil_f32(x, x, 4);  /* in place */
	CHECK_F(x[0], -2, 0);
	CHECK_F(x[1], 0, 0);
	int32_t i[3] = {-3, 0, INT32_MIN}, j[3];
	tr_abs_i32(i, j, 3);
	CHECK_I(j[0], 3);
	CHECK_I(j[2], INT32_MIN);
	tr_neg_i32(i, j, 3);
	CHECK_I(j[0], 3);
	tr_relu_i32(i, j, 3);
	CHECK_I(j[0], 0);
	CHECK_I(j[1], 0);
	CHECK_I(j[2], 0);
	uint8_t b[2] = {0, 1}, nb[2];
	tr_not_b8(b, nb, 2);
	CHECK_I(nb[0], 1);
	CHECK_I(nb[1], 0);
}

static void test_clip_cast(void)
{
	float x[5] = {-3, -1, 0, 1, 3}, y[5];
	tr_clip_f32(x, y, 5, -1.5f, 2.0f);
	float want[5] = {-1.5f, -1, 0, 1, 2};
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], want[i], 0);
	tr_clip_f32(x, y, 5, 2.0f, 1.0f);  /* min > max: numpy.clip gives max */
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], 1, 0);
	int32_t a[3] = {-100, 5, 100}, b[3];
	tr_clip_i32(a, b, 3, -10, 10);
	CHECK_I(b[0], -10);
	CHECK_I(b[1], 5);
	CHECK_I(b[2], 10);
	float f[4] = {-2.7f, 2.7f, 0.0f, -0.5f};
	int64_t g[4];
	uint8_t h[4];
	tr_cast_f32_i64(f, g, 4);
	CHECK_I(g[0], -2);
	CHECK_I(g[1], 2);
	CHECK_I(g[3], 0);
	tr_cast_f32_b8(f, h, 4);
	CHECK_I(h[0] + 2 * h[1] + 4 * h[2] + 8 * h[3], 11);
	float back[4];
	tr_cast_b8_f32(h, back, 4);
	CHECK_F(back[2], 0, 0);
	CHECK_F(back[3], 1, 0);
	int64_t big[2] = {((int64_t)1 << 32) + 5, -1};
	int32_t small[2];
	tr_cast_i64_i32(big, small, 2);
	CHECK_I(small[0], 5);
	CHECK_I(small[1], -1);
}

static void test_reduce(void)
{
	/* x (2, 3, 4) = 0..23 */
	float x[24], y[12];
	for (int i = 0; i < 24; i++)
		x[i] = (float)i;
	/* axis 1: (outer 2, r 3, inner 4): y[o][k] = 3 * (12 o + k) + 12 */
	tr_reduce_sum_f32(x, y, 2, 3, 4);
	for (int o = 0; o < 2; o++)
		for (int k = 0; k < 4; k++)
			CHECK_F(y[o * 4 + k], 3 * (12 * o + k) + 12, 0);
	/* last axis: (6, 4, 1): mean of 4 consecutive = 4 i + 1.5 */
	tr_reduce_mean_f32(x, y, 6, 4, 1);
	for (int i = 0; i < 6; i++)
		CHECK_F(y[i], 4 * i + 1.5, 1e-6);
	tr_reduce_max_f32(x, y, 1, 2, 12);
	for (int i = 0; i < 12; i++)
		CHECK_F(y[i], 12 + i, 0);
	/* L2 over all of (3, 4) = 0..11: sqrt(506) */
	tr_reduce_l2_f32(x, y, 1, 12, 1);
	CHECK_F(y[0], sqrt(506.0), 1e-4);
	/* axes {0, 2} of (2, 3, 4): general kernel, y[j] = 32 j + 60 */
	tr_reduce_sum_f32_g(x, y, 3, (const int64_t[]){2, 3, 4}, (const int64_t[]){0, 1, 0});
	for (int j = 0; j < 3; j++)
		CHECK_F(y[j], 32 * j + 60, 0);
	/* axes {1} of (2, 3, 4) through the general kernel (kept innermost) */
	tr_reduce_max_f32_g(x, y, 3, (const int64_t[]){2, 3, 4}, (const int64_t[]){4, 0, 1});
	for (int o = 0; o < 2; o++)
		for (int k = 0; k < 4; k++)
			CHECK_F(y[o * 4 + k], 12 * o + 8 + k, 0);
	/* mean over axes {0, 2}: (32 j + 60) / 8 */
	tr_reduce_mean_f32_g(x, y, 3, (const int64_t[]){2, 3, 4}, (const int64_t[]){0, 1, 0});
	CHECK_F(y[1], 92.0 / 8, 1e-6);
	/* long contiguous rows: the 8-lane partial accumulators plus a tail */
	float lx[2 * 21], ly[2];
	for (int i = 0; i < 42; i++)
		lx[i] = (float)(i % 21) - 10;  /* each row: -10..10, sum 0 */
	lx[21 + 17] = 100;                    /* row 1 sum: 100 - 7 */
	tr_reduce_sum_f32(lx, ly, 2, 21, 1);
	CHECK_F(ly[0], 0, 0);
	CHECK_F(ly[1], 93, 0);
	tr_reduce_max_f32(lx, ly, 2, 21, 1);
	CHECK_F(ly[0], 10, 0);
	CHECK_F(ly[1], 100, 0);
	lx[3] = NAN;
	tr_reduce_max_f32(lx, ly, 2, 21, 1);
	CU_ASSERT(isnan(ly[0]));
	CHECK_F(ly[1], 100, 0);
	tr_reduce_l2_f32(lx + 21, ly, 1, 21, 1);
	CHECK_F(ly[0], sqrt(2 * 385.0 - 49 + 10000), 1e-3);
	int64_t ix[6] = {-5, 3, -1, 7, -9, 2}, iy[2];
	tr_reduce_max_i64(ix, iy, 2, 3, 1);
	CHECK_I(iy[0], 3);
	CHECK_I(iy[1], 7);
	tr_reduce_sum_i64(ix, iy, 1, 3, 2);
	CHECK_I(iy[0], -5 - 1 - 9);
	CHECK_I(iy[1], 3 + 7 + 2);
}

static void test_softmax(void)
{
	float x[3] = {1, 2, 3}, y[3];
	double s = exp(1.0) + exp(2.0) + exp(3.0);
	tr_softmax_f32(x, y, 1, 3, 1);
	for (int i = 0; i < 3; i++)
		CHECK_F(y[i], exp(i + 1.0) / s, 1e-6);
	tr_log_softmax_f32(x, y, 1, 3, 1);
	for (int i = 0; i < 3; i++)
		CHECK_F(y[i], (i + 1.0) - log(s), 1e-5);
	/* large values: subtracting the max keeps it finite */
	float big[2] = {10000, 10001}, by[2];
	tr_softmax_f32(big, by, 1, 2, 1);
	CHECK_F(by[1], 1 / (1 + exp(-1.0)), 1e-6);
	/* (n 2, inner 3): softmax down columns */
	float m[6] = {0, 1, 2, 1, 1, 0}, my[6];
	tr_softmax_f32(m, my, 1, 2, 3);
	CHECK_F(my[0], 1 / (1 + exp(1.0)), 1e-6);
	CHECK_F(my[1], 0.5, 1e-6);
	CHECK_F(my[5], 1 / (1 + exp(2.0)), 1e-6);
	CHECK_F(my[0] + my[3], 1, 1e-6);
}

static void test_cumsum(void)
{
	float x[5] = {1, 2, 3, 4, 5}, y[5];
	float inc[5] = {1, 3, 6, 10, 15}, exc[5] = {0, 1, 3, 6, 10};
	float rev[5] = {15, 14, 12, 9, 5}, rexc[5] = {14, 12, 9, 5, 0};
	tr_cumsum_f32(x, y, 1, 5, 1, 0, 0);
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], inc[i], 0);
	tr_cumsum_f32(x, y, 1, 5, 1, 1, 0);
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], exc[i], 0);
	tr_cumsum_f32(x, y, 1, 5, 1, 0, 1);
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], rev[i], 0);
	tr_cumsum_f32(x, y, 1, 5, 1, 1, 1);
	for (int i = 0; i < 5; i++)
		CHECK_F(y[i], rexc[i], 0);
	/* (2, 3) along axis 0: (1, 2, 3) */
	int32_t m[6] = {1, 2, 3, 4, 5, 6}, my[6];
	tr_cumsum_i32(m, my, 1, 2, 3, 0, 0);
	CHECK_I(my[3], 5);
	CHECK_I(my[5], 9);
	CHECK_I(my[0], 1);
}


/* ---- graph level: shape, lowering choices, evaluation, errors ---- */

static Tensor *mk_in(Graph *g, const char *name, DType dt, int rank, const int64_t *dims)
{
	return tensor_new(g, name, TK_INPUT, dt, rank, dims);
}

static Node *mk_node(Graph *g, OpKind op, int nin, Tensor **in)
{
	Node *n = node_new(g, op, "n", nin, 1);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	n->out[0] = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	graph_add_node(g, n);
	return n;
}

static bool ints_eq(const Arg *a, int n, const int64_t *want)
{
	if (a->kind != ARG_INTS || a->n != n)
		return false;
	for (int i = 0; i < n; i++)
		if (a->ints[i] != want[i])
			return false;
	return true;
}

static void test_lower_broadcast_forms(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 17;
	Tensor *x = mk_in(g, "x", DT_F32, 3, (const int64_t[]){4, 3, 5});
	Tensor *bias = mk_in(g, "b", DT_F32, 1, (const int64_t[]){5});
	Tensor *col = mk_in(g, "c", DT_F32, 3, (const int64_t[]){4, 1, 1});
	Tensor *s = mk_in(g, "s", DT_F32, 0, NULL);
	s->shape_known = true;
	/* bias: (12, 5) with the bias row stride 0 */
	Node *n = mk_node(g, OP_ADD, 2, (Tensor *[]){x, bias});
	shape_binary(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 3);
	lower_binary(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_add_f32_bc");
	CU_ASSERT_EQUAL(n->calls->args[3].i, 2);
	CU_ASSERT(ints_eq(&n->calls->args[4], 2, (const int64_t[]){12, 5}));
	CU_ASSERT(ints_eq(&n->calls->args[5], 2, (const int64_t[]){5, 1}));
	CU_ASSERT(ints_eq(&n->calls->args[6], 2, (const int64_t[]){0, 1}));
	/* same shape: flat */
	n = mk_node(g, OP_MUL, 2, (Tensor *[]){x, x});
	shape_binary(g, n);
	lower_binary(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_mul_f32");
	CU_ASSERT_EQUAL(n->calls->args[3].i, 60);
	/* scalar on the left: rank 1, stride 0 */
	n = mk_node(g, OP_SUB, 2, (Tensor *[]){s, x});
	shape_binary(g, n);
	lower_binary(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_sub_f32_bc");
	CU_ASSERT(ints_eq(&n->calls->args[4], 1, (const int64_t[]){60}));
	CU_ASSERT(ints_eq(&n->calls->args[5], 1, (const int64_t[]){0}));
	/* per-row scale (4, 1, 1): (4, 15) with the column operand's inner stride 0 */
	n = mk_node(g, OP_DIV, 2, (Tensor *[]){x, col});
	shape_binary(g, n);
	lower_binary(g, n);
	CU_ASSERT(ints_eq(&n->calls->args[4], 2, (const int64_t[]){4, 15}));
	CU_ASSERT(ints_eq(&n->calls->args[6], 2, (const int64_t[]){1, 0}));
	/* Pow(x, 2.0) with a constant exponent is x * x; 3.0 stays Pow */
	Tensor *two = tensor_const(g, "two", DT_F32, 0, NULL);
	two->shape_known = true;
	*(float *)two->data = 2.0f;
	n = mk_node(g, OP_POW, 2, (Tensor *[]){x, two});
	shape_binary(g, n);
	lower_binary(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_mul_f32");
	CU_ASSERT_PTR_EQUAL(n->calls->args[1].t, x);
	*(float *)two->data = 3.0f;
	n = mk_node(g, OP_POW, 2, (Tensor *[]){x, two});
	shape_binary(g, n);
	lower_binary(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_pow_f32_f32_bc");
	/* comparison output is bool */
	n = mk_node(g, OP_LESS, 2, (Tensor *[]){x, bias});
	shape_compare(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_BOOL);
	ctx_free(&c);
}

static void test_lower_reduce_forms(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 11;
	Tensor *x = mk_in(g, "x", DT_F32, 4, (const int64_t[]){2, 1, 3, 4});
	/* axes {1, 2}: the size-1 axis vanishes, (outer 2, r 3, inner 4) */
	Node *n = mk_node(g, OP_REDUCE_MEAN, 1, &x);
	node_add_attr(g, n, "axes", AT_INTS);
	n->attrs[0].ints = (int64_t[]){1, 2};
	n->attrs[0].n = 2;
	shape_reduce(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 4);
	CU_ASSERT_EQUAL(n->out[0]->dims[2], 1);
	lower_reduce(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_reduce_mean_f32");
	CU_ASSERT_EQUAL(n->calls->args[2].i, 2);
	CU_ASSERT_EQUAL(n->calls->args[3].i, 3);
	CU_ASSERT_EQUAL(n->calls->args[4].i, 4);
	/* axes {0, -1}, keepdims 0: not adjacent -> the general kernel */
	n = mk_node(g, OP_REDUCE_SUM, 1, &x);
	Attr *a = node_add_attr(g, n, "axes", AT_INTS);
	a->ints = (int64_t[]){0, -1};
	a->n = 2;
	a = node_add_attr(g, n, "keepdims", AT_INT);
	a->i = 0;
	shape_reduce(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 2);
	CU_ASSERT_EQUAL(n->out[0]->dims[0], 1);
	CU_ASSERT_EQUAL(n->out[0]->dims[1], 3);
	lower_reduce(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_reduce_sum_f32_g");
	CU_ASSERT(ints_eq(&n->calls->args[3], 3, (const int64_t[]){2, 3, 4}));
	CU_ASSERT(ints_eq(&n->calls->args[4], 3, (const int64_t[]){0, 1, 0}));
	ctx_free(&c);
}

static void test_eval_variadic_max(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 13;
	/* max(a (3), b (2, 1), c ()) -> (2, 3); the first call already writes (2, 3) */
	Tensor *a = tensor_const(g, "a", DT_I64, 1, (const int64_t[]){3});
	Tensor *b = tensor_const(g, "b", DT_I64, 2, (const int64_t[]){2, 1});
	Tensor *s = tensor_const(g, "s", DT_I64, 0, NULL);
	s->shape_known = true;
	memcpy(a->data, (int64_t[]){1, 5, 3}, 3 * sizeof(int64_t));
	memcpy(b->data, (int64_t[]){2, 4}, 2 * sizeof(int64_t));
	*(int64_t *)s->data = 3;
	Node *n = mk_node(g, OP_MAX, 3, (Tensor *[]){a, b, s});
	shape_variadic(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 2);
	eval_node(g, n);
	const int64_t *y = n->out[0]->data, want[6] = {3, 5, 3, 4, 5, 4};
	for (int i = 0; i < 6; i++)
		CHECK_I(y[i], want[i]);
	ctx_free(&c);
}

static void test_eval_nodes(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 11;
	/* x (2, 3) = 1..6 */
	Tensor *x = tensor_const(g, "x", DT_F32, 2, (const int64_t[]){2, 3});
	for (int i = 0; i < 6; i++)
		((float *)x->data)[i] = (float)(i + 1);
	/* CumSum along axis -1, exclusive and reverse: rows (1,2,3) -> (5,3,0) */
	Tensor *ax = tensor_const(g, "ax", DT_I32, 0, NULL);
	ax->shape_known = true;
	*(int32_t *)ax->data = -1;
	Node *n = mk_node(g, OP_CUMSUM, 2, (Tensor *[]){x, ax});
	node_add_attr(g, n, "exclusive", AT_INT)->i = 1;
	node_add_attr(g, n, "reverse", AT_INT)->i = 1;
	shape_cumsum(g, n);
	eval_node(g, n);
	const float *y = n->out[0]->data, want[6] = {5, 3, 0, 11, 6, 0};
	for (int i = 0; i < 6; i++)
		CHECK_F(y[i], want[i], 0);
	/* Softmax at opset 11, axis 0: over all 6 values */
	n = mk_node(g, OP_SOFTMAX, 1, &x);
	node_add_attr(g, n, "axis", AT_INT)->i = 0;
	shape_softmax(g, n);
	eval_node(g, n);
	y = n->out[0]->data;
	double s = 0;
	for (int i = 1; i <= 6; i++)
		s += exp(i);
	CHECK_F(y[0], exp(1) / s, 1e-6);
	CHECK_F(y[5], exp(6) / s, 1e-6);
	/* Cast to INT32 (ONNX 6), then Clip (opset 11) with constant bounds */
	n = mk_node(g, OP_CAST, 1, &x);
	node_add_attr(g, n, "to", AT_INT)->i = 6;
	shape_cast(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_I32);
	eval_node(g, n);
	Tensor *xi = n->out[0];
	xi->kind = TK_CONST;
	Tensor *lo = tensor_const(g, "lo", DT_I32, 0, NULL), *hi = tensor_const(g, "hi", DT_I32, 0, NULL);
	lo->shape_known = hi->shape_known = true;
	*(int32_t *)lo->data = 2;
	*(int32_t *)hi->data = 4;
	n = mk_node(g, OP_CLIP, 3, (Tensor *[]){xi, lo, hi});
	shape_clip(g, n);
	eval_node(g, n);
	const int32_t *yi = n->out[0]->data, wanti[6] = {2, 2, 3, 4, 4, 4};
	for (int i = 0; i < 6; i++)
		CHECK_I(yi[i], wanti[i]);
	/* ReduceSum at opset 13: axes input {0}, keepdims 0 -> (5, 7, 9) */
	g->opset = 13;
	Tensor *axes = tensor_const(g, "axes", DT_I64, 1, (const int64_t[]){1});
	*(int64_t *)axes->data = 0;
	n = mk_node(g, OP_REDUCE_SUM, 2, (Tensor *[]){x, axes});
	node_add_attr(g, n, "keepdims", AT_INT)->i = 0;
	shape_reduce(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 1);
	eval_node(g, n);
	y = n->out[0]->data;
	CHECK_F(y[0], 5, 0);
	CHECK_F(y[2], 9, 0);
	ctx_free(&c);
}

static void test_eval_softplus(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 17;
	Tensor *x = tensor_const(g, "x", DT_F32, 2, (const int64_t[]){1, 3});
	memcpy(x->data, (float[]){-2, 0.5f, 200}, 3 * sizeof(float));
	Node *n = mk_node(g, OP_SOFTPLUS, 1, &x);
	shape_unary(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_F32);
	CU_ASSERT_EQUAL(n->out[0]->rank, 2);
	eval_node(g, n);
	const float *y = n->out[0]->data;
	CHECK_F(y[0], log1p(exp(-2.0)), 1e-7);
	CHECK_F(y[1], log1p(exp(0.5)), 1e-6);
	CHECK_F(y[2], 200, 0);
	ctx_free(&c);
}

/* Attribute variants and attribute parameters in the calls lowering makes */
static void test_lower_variants(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 21;
	Tensor *i = mk_in(g, "i", DT_I64, 1, (const int64_t[]){4});
	Tensor *x = mk_in(g, "x", DT_F32, 2, (const int64_t[]){2, 4});
	static const struct {
		OpKind op;
		const char *attr, *sval;
		int64_t ival;
		const char *kernel;
	} v[] = {
		{OP_MOD, NULL, NULL, 0, "tr_mod_i64"},
		{OP_MOD, "fmod", NULL, 1, "tr_fmod_i64"},
		{OP_BIT_SHIFT, "direction", "LEFT", 0, "tr_shift_left_i64"},
		{OP_BIT_SHIFT, "direction", "RIGHT", 0, "tr_shift_right_i64"},
	};
	for (int k = 0; k < 4; k++) {
		Node *n = mk_node(g, v[k].op, 2, (Tensor *[]){i, i});
		if (v[k].sval)
			node_add_attr(g, n, v[k].attr, AT_STRING)->s = v[k].sval;
		else if (v[k].attr)
			node_add_attr(g, n, v[k].attr, AT_INT)->i = v[k].ival;
		shape_binary(g, n);
		lower_binary(g, n);
		CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, v[k].kernel);
	}
	/* Selu: alpha given, gamma its default, each to the parameter of its name */
	Node *n = mk_node(g, OP_SELU, 1, &x);
	node_add_attr(g, n, "alpha", AT_FLOAT)->f = 2.5f;
	shape_activation(g, n);
	lower_activation(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_selu_f32");
	CU_ASSERT_EQUAL(n->calls->nargs, 5);
	CHECK_F(n->calls->args[3].f, 2.5f, 0);
	CHECK_F(n->calls->args[4].f, 1.05070102214813232421875, 0);
	/* IsInf: bool out, the two flags as integers */
	n = mk_node(g, OP_IS_INF, 1, &x);
	node_add_attr(g, n, "detect_positive", AT_INT)->i = 0;
	shape_activation(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_BOOL);
	lower_activation(g, n);
	CU_ASSERT_EQUAL(n->calls->args[3].i, 1);
	CU_ASSERT_EQUAL(n->calls->args[4].i, 0);
	/* Gelu: the exact kernel (fusable) unless approximate = tanh */
	n = mk_node(g, OP_GELU, 1, &x);
	shape_gelu(g, n);
	lower_gelu(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_gelu_f32");
	CU_ASSERT(op_gelu_exact(n));
	node_add_attr(g, n, "approximate", AT_STRING)->s = "tanh";
	n->calls = NULL;
	lower_gelu(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_gelu_tanh_f32");
	CU_ASSERT(!op_gelu_exact(n));
	/* Mean of three: two adds in place, then the division by 3 */
	n = mk_node(g, OP_MEAN, 3, (Tensor *[]){x, x, x});
	shape_variadic(g, n);
	lower_variadic(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->next->next->kernel].name, "tr_div_scalar_f32");
	CHECK_F(n->calls->next->next->args[3].f, 3, 0);
	ctx_free(&c);
}

/* Dropout, Size and CastLike: nothing to compute but their outputs' types,
 * shapes and constants */
static void test_inference_noops(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 7;
	Tensor *x = mk_in(g, "x", DT_F32, 2, (const int64_t[]){2, 3});
	/* opset 7: the mask has x's type; a view of x; the mask a constant of ones */
	Node *n = node_new(g, OP_DROPOUT, "d", 1, 2);
	n->in[0] = x;
	n->out[0] = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	n->out[1] = tensor_new(g, "m", TK_VALUE, DT_UNDEF, 0, NULL);
	graph_add_node(g, n);
	shape_dropout(g, n);
	CU_ASSERT_EQUAL(n->out[1]->dtype, DT_F32);
	CU_ASSERT_EQUAL(n->out[1]->kind, TK_CONST);
	CHECK_F(((float *)n->out[1]->data)[5], 1, 0);
	CU_ASSERT(!n->dead);
	/* opset 13, training_mode true with ratio 0: still the identity, mask bool */
	g->opset = 13;
	Tensor *r = tensor_const(g, "r", DT_F32, 0, NULL), *t = tensor_const(g, "t", DT_BOOL, 0, NULL);
	r->shape_known = t->shape_known = true;
	*(uint8_t *)t->data = 1;
	n->in = (Tensor *[]){x, r, t};
	n->nin = 3;
	shape_dropout(g, n);
	CU_ASSERT_EQUAL(n->out[1]->dtype, DT_BOOL);
	CHECK_I(((uint8_t *)n->out[1]->data)[0], 1);
	/* Size: an int64 scalar constant, the node done */
	n = mk_node(g, OP_SIZE, 1, &x);
	shape_size(g, n);
	CU_ASSERT(n->dead && n->out[0]->kind == TK_CONST && n->out[0]->rank == 0);
	CHECK_I(*(int64_t *)n->out[0]->data, 6);
	/* CastLike: input 1's type, input 0's values */
	Tensor *xc = tensor_const(g, "xc", DT_F32, 1, (const int64_t[]){3});
	memcpy(xc->data, (float[]){-2.7f, 0.5f, 3.9f}, 3 * sizeof(float));
	Tensor *like = mk_in(g, "like", DT_I32, 2, (const int64_t[]){5, 5});
	n = mk_node(g, OP_CAST_LIKE, 2, (Tensor *[]){xc, like});
	node_add_attr(g, n, "saturate", AT_INT)->i = 0;
	shape_cast_like(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dtype, DT_I32);
	CU_ASSERT_EQUAL(n->out[0]->rank, 1);
	eval_node(g, n);
	const int32_t *yi = n->out[0]->data;
	CHECK_I(yi[0], -2);
	CHECK_I(yi[2], 3);
	ctx_free(&c);
}

/* Run the shape function of a one-node graph and return the error text. */
static const char *shape_error(Ctx *c, int opset, OpKind op, int nin, DType *dt, int *rank,
                               const int64_t (*dims)[4], void (*setup)(Graph *, Node *))
{
	static char msg[2048];
	jmp_buf jb;
	ctx_init(c, "m.onnx");
	c->jmp = &jb;
	msg[0] = 0;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(c);
		g->opset = opset;
		Tensor *in[4];
		for (int i = 0; i < nin; i++) {
			char name[8] = {'i', (char)('0' + i), 0};
			in[i] = mk_in(g, name, dt[i], rank[i], dims[i]);
		}
		Node *n = mk_node(g, op, nin, in);
		if (setup)
			setup(g, n);
		op_info[op].shape(g, n);
		strcpy(msg, "(no error)");
	} else {
		strcpy(msg, c->errmsg);
	}
	ctx_free(c);
	return msg;
}

static void set_cast_double(Graph *g, Node *n) { node_add_attr(g, n, "to", AT_INT)->i = 11; }
static void set_fmod_2(Graph *g, Node *n) { node_add_attr(g, n, "fmod", AT_INT)->i = 2; }
static void set_up(Graph *g, Node *n) { node_add_attr(g, n, "direction", AT_STRING)->s = "UP"; }
static void set_alpha_str(Graph *g, Node *n) { node_add_attr(g, n, "alpha", AT_STRING)->s = "1"; }
static void set_alpha_0(Graph *g, Node *n) { node_add_attr(g, n, "alpha", AT_FLOAT)->f = 0; }
static void set_erf(Graph *g, Node *n) { node_add_attr(g, n, "approximate", AT_STRING)->s = "erf"; }
static void set_true(Graph *g, Node *n)
{
	Tensor *t = tensor_const(g, "t", DT_BOOL, 0, NULL);
	t->shape_known = true;
	*(uint8_t *)t->data = 1;
	n->in[2] = t;   /* ratio: i1, a graph input */
}
static void set_axis_3(Graph *g, Node *n) { node_add_attr(g, n, "axis", AT_INT)->i = 3; }
static void set_dup_axes(Graph *g, Node *n)
{
	static int64_t axes[2] = {1, -1};
	Attr *a = node_add_attr(g, n, "axes", AT_INTS);
	a->ints = axes;
	a->n = 2;
}

static void test_shape_errors(void)
{
	Ctx c;
	const int64_t d[4][4] = {{2, 3}, {4}, {2, 3}, {}};
	CHECK_MSG(shape_error(&c, 13, OP_ADD, 2, (DType[]){DT_F32, DT_I64}, (int[]){2, 2}, d, NULL),
	          "inputs 0 and 1 have different element types (f32 and i64)");
	CHECK_MSG(shape_error(&c, 13, OP_ADD, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 1}, d, NULL),
	          "do not broadcast");
	CHECK_MSG(shape_error(&c, 13, OP_AND, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 2}, d, NULL),
	          "this op supports bool");
	CHECK_MSG(shape_error(&c, 13, OP_SQRT, 1, (DType[]){DT_I64}, (int[]){2}, d, NULL),
	          "has element type i64; this op supports f32");
	CHECK_MSG(shape_error(&c, 17, OP_SOFTPLUS, 1, (DType[]){DT_I32}, (int[]){2}, d, NULL),
	          "has element type i32; this op supports f32");
	CHECK_MSG(shape_error(&c, 13, OP_CAST, 1, (DType[]){DT_F32}, (int[]){2}, d, set_cast_double),
	          "Cast to DOUBLE is not supported");
	CHECK_MSG(shape_error(&c, 13, OP_SOFTMAX, 1, (DType[]){DT_F32}, (int[]){2}, d, set_axis_3),
	          "axis 3 is out of range for rank 2");
	CHECK_MSG(shape_error(&c, 13, OP_REDUCE_MAX, 1, (DType[]){DT_F32}, (int[]){2}, d, set_dup_axes),
	          "axis 1 is listed twice");
	/* ReduceSum >= 13 reads axes from input 1, which must be constant */
	CHECK_MSG(shape_error(&c, 13, OP_REDUCE_SUM, 2, (DType[]){DT_F32, DT_I64}, (int[]){2, 1}, d,
	                      NULL),
	          "input 1 ('i1') must be a constant");
	CHECK_MSG(shape_error(&c, 11, OP_REDUCE_SUM, 1, (DType[]){DT_F32}, (int[]){2}, d, set_dup_axes),
	          "listed twice");
	CHECK_MSG(shape_error(&c, 14, OP_CUMSUM, 2, (DType[]){DT_F32, DT_I64}, (int[]){2, 0}, d, NULL),
	          "input 1 ('i1') must be a constant");
	CHECK_MSG(shape_error(&c, 13, OP_CLIP, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 2}, d, NULL),
	          "must be a scalar");
	CHECK_MSG(shape_error(&c, 13, OP_WHERE, 3, (DType[]){DT_F32, DT_F32, DT_F32}, (int[]){2, 2, 2},
	                      d, NULL),
	          "input 0 ('i0') has element type f32; this op supports bool");
	CHECK_MSG(shape_error(&c, 13, OP_POW, 2, (DType[]){DT_F32, DT_I64}, (int[]){2, 1}, d, NULL),
	          "do not broadcast");
	/* the new ops' errors */
	CHECK_MSG(shape_error(&c, 13, OP_MOD, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 2}, d, NULL),
	          "Mod of floats needs fmod = 1");
	CHECK_MSG(shape_error(&c, 13, OP_MOD, 2, (DType[]){DT_I64, DT_I64}, (int[]){2, 2}, d,
	                      set_fmod_2), "fmod must be 0 or 1, got 2");
	CHECK_MSG(shape_error(&c, 13, OP_BIT_SHIFT, 2, (DType[]){DT_I32, DT_I32}, (int[]){2, 2}, d,
	                      NULL), "direction must be \"LEFT\" or \"RIGHT\" (the attribute is required)");
	CHECK_MSG(shape_error(&c, 13, OP_BIT_SHIFT, 2, (DType[]){DT_I32, DT_I32}, (int[]){2, 2}, d,
	                      set_up), "direction must be");
	CHECK_MSG(shape_error(&c, 13, OP_BIT_SHIFT, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 2}, d,
	                      NULL), "this op supports i64, i32");
	CHECK_MSG(shape_error(&c, 13, OP_XOR, 2, (DType[]){DT_I64, DT_I64}, (int[]){2, 2}, d, NULL),
	          "this op supports bool");
	const int64_t pr[4][4] = {{3}, {2, 3}};   /* the slope would broadcast x */
	CHECK_MSG(shape_error(&c, 16, OP_PRELU, 2, (DType[]){DT_F32, DT_F32}, (int[]){1, 2}, pr,
	                      NULL), "slope f32[2,3] does not broadcast to x f32[3]");
	CHECK_MSG(shape_error(&c, 13, OP_MEAN, 2, (DType[]){DT_I64, DT_I64}, (int[]){2, 2}, d, NULL),
	          "this op supports f32");
	CHECK_MSG(shape_error(&c, 13, OP_ELU, 1, (DType[]){DT_F32}, (int[]){2}, d, set_alpha_str),
	          "attribute 'alpha' must be a float");
	CHECK_MSG(shape_error(&c, 13, OP_CELU, 1, (DType[]){DT_F32}, (int[]){2}, d, set_alpha_0),
	          "alpha must not be 0");
	CHECK_MSG(shape_error(&c, 20, OP_GELU, 1, (DType[]){DT_F32}, (int[]){2}, d, set_erf),
	          "approximate must be \"none\" or \"tanh\", got \"erf\"");
	CHECK_MSG(shape_error(&c, 13, OP_SHRINK, 1, (DType[]){DT_I32}, (int[]){2}, d, NULL),
	          "this op supports f32");
	/* Dropout: training_mode computed at run time; true with a ratio that is
	 * not constant; ratio as an input before opset 12 */
	CHECK_MSG(shape_error(&c, 13, OP_DROPOUT, 3, (DType[]){DT_F32, DT_F32, DT_BOOL},
	                      (int[]){2, 0, 0}, d, NULL), "input 2 ('i2') must be a constant");
	CHECK_MSG(shape_error(&c, 13, OP_DROPOUT, 3, (DType[]){DT_F32, DT_F32, DT_BOOL},
	                      (int[]){2, 0, 0}, d, set_true), "input 1 ('i1') must be a constant");
	CHECK_MSG(shape_error(&c, 10, OP_DROPOUT, 2, (DType[]){DT_F32, DT_F32}, (int[]){2, 0}, d,
	                      NULL), "takes ratio as an attribute before opset 12");
	const int64_t same[4][4] = {{2, 3}, {2, 3}};
	CHECK_MSG(shape_error(&c, 13, OP_POW, 2, (DType[]){DT_I32, DT_F32}, (int[]){2, 2}, same, NULL),
	          "(no error)");
}

void register_elementwise(void)
{
	CU_pSuite s = CU_add_suite("elementwise", NULL, NULL);
	CU_add_test(s, "add flat, in place", test_add_flat_inplace);
	CU_add_test(s, "broadcast row vector", test_bc_row);
	CU_add_test(s, "broadcast scalar and column", test_bc_scalar_and_column);
	CU_add_test(s, "broadcast general strided", test_bc_general);
	CU_add_test(s, "integer semantics", test_int_semantics);
	CU_add_test(s, "pow mixed types", test_pow);
	CU_add_test(s, "min/max NaN, comparisons, logic", test_min_max_compare);
	CU_add_test(s, "where", test_where);
	CU_add_test(s, "unary", test_unary);
	CU_add_test(s, "clip and cast", test_clip_cast);
	CU_add_test(s, "reductions", test_reduce);
	CU_add_test(s, "softmax", test_softmax);
	CU_add_test(s, "cumsum", test_cumsum);
	CU_add_test(s, "lowering picks broadcast forms", test_lower_broadcast_forms);
	CU_add_test(s, "lowering picks reduction forms", test_lower_reduce_forms);
	CU_add_test(s, "eval variadic Max with broadcast", test_eval_variadic_max);
	CU_add_test(s, "eval CumSum, Softmax-11, Cast, Clip, ReduceSum-13", test_eval_nodes);
	CU_add_test(s, "eval Softplus", test_eval_softplus);
	CU_add_test(s, "lowering picks attribute variants and parameters", test_lower_variants);
	CU_add_test(s, "Dropout, Size, CastLike", test_inference_noops);
	CU_add_test(s, "shape errors", test_shape_errors);
}
