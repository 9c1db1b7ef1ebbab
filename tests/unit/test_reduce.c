/*
 * test_reduce.c -- the kernels and shape functions of the reductions,
 * ArgMax/ArgMin, TopK, Hardmax and the losses (compiler/ops/op_reduce.c,
 * runtime/elementwise/reduce.h, select.h, loss.h), on the edges the ONNX
 * node tests and the derived conformance cases do not reach: NaN and
 * infinities, integer wrap-around, TopK's heap against a brute-force order
 * on many random columns full of ties, a class index out of range; then the
 * kernel form lowering picks, folding, and every user error the shape
 * functions report.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"
#include "elementwise/loss.h"
#include "elementwise/reduce.h"
#include "elementwise/select.h"

static void test_reduce_nan_inf(void)
{
	/* a NaN in a lane of the 8 partial results, and after the last full 8 */
	float x[20];
	for (int i = 0; i < 20; i++)
		x[i] = (float)i;
	float y[2];
	x[5] = NAN;
	tr_reduce_min_f32(x, y, 1, 20, 1);
	CU_ASSERT(isnan(y[0]));
	x[5] = 5;
	x[18] = NAN;
	tr_reduce_max_f32(x, y, 1, 20, 1);
	CU_ASSERT(isnan(y[0]));
	/* strided (r 10, inner 2): the NaN stays in its column */
	tr_reduce_min_f32(x, y, 1, 10, 2);
	CU_ASSERT(isnan(y[0]));
	CHECK_F(y[1], 1, 0);
	/* LogSumExp: all -inf, an inf, huge values, NaN; contiguous and strided */
	float l[8] = {-INFINITY, -INFINITY, INFINITY, 1, 1000, 1000, NAN, 1}, z[4];
	tr_reduce_log_sum_exp_f32(l, z, 4, 2, 1);
	CU_ASSERT(isinf(z[0]) && z[0] < 0);
	CU_ASSERT(isinf(z[1]) && z[1] > 0);
	CHECK_F(z[2], 1000 + log(2.0), 1e-4);
	CU_ASSERT(isnan(z[3]));
	/* columns (-inf, 1000), (-inf, 1000), (inf, NaN), (1, 1) */
	tr_reduce_log_sum_exp_f32(l, z, 1, 2, 4);
	CHECK_F(z[0], 1000, 0);
	CHECK_F(z[1], 1000, 0);
	CU_ASSERT(isnan(z[2]));
	CHECK_F(z[3], 1 + log(2.0), 1e-6);
}

/* the general form against doubles: x (2, 3, 4, 5) over axes 0 and 2 */
static void test_reduce_lse_strided(void)
{
	float x[120], y[15], s[15];
	for (int i = 0; i < 120; i++)
		x[i] = (float)((i * 37) % 23) - 11.0f;
	tr_reduce_log_sum_exp_f32_g(x, y, s, 4, (const int64_t[]){2, 3, 4, 5},
	                            (const int64_t[]){0, 5, 0, 1});
	for (int b = 0; b < 3; b++)
		for (int d = 0; d < 5; d++) {
			double sum = 0;
			for (int a = 0; a < 2; a++)
				for (int c = 0; c < 4; c++)
					sum += exp(x[((a * 3 + b) * 4 + c) * 5 + d]);
			CHECK_F(y[b * 5 + d], log(sum), 1e-5 * fabs(log(sum)) + 1e-6);
		}
}

static void test_reduce_integers(void)
{
	int64_t a[3] = {INT64_MAX, 2, 1}, b[2] = {INT64_MIN, 0}, y;
	tr_reduce_prod_i64(a, &y, 1, 3, 1);
	CHECK_I(y, -2);   /* wraps: (2^63 - 1) * 2 = 2^64 - 2 */
	tr_reduce_l1_i64(b, &y, 1, 2, 1);
	CHECK_I(y, INT64_MIN);   /* |INT64_MIN| wraps to itself */
	int32_t c[4] = {-3, 4, -5, 6}, z[2];
	tr_reduce_sum_square_i32(c, z, 2, 2, 1);
	CHECK_I(z[0], 25);
	CHECK_I(z[1], 61);
	tr_reduce_l1_i32(c, z, 1, 2, 2);   /* columns (-3, -5), (4, 6) */
	CHECK_I(z[0], 8);
	CHECK_I(z[1], 10);
	uint8_t t[6] = {1, 1, 0, 1, 1, 1}, u[3];
	tr_reduce_min_b8(t, u, 2, 3, 1);
	CHECK_I(u[0], 0);
	CHECK_I(u[1], 1);
	tr_reduce_max_b8(t, u, 1, 2, 3);   /* columns (1, 1), (1, 1), (0, 1) */
	CHECK_I(u[2], 1);
}

/* ArgMax over 70 columns (a block of 64 and a tail) of ties; last index too */
static void test_arg_blocks(void)
{
	enum { R = 5, INNER = 70 };
	int32_t x[R * INNER];
	int64_t y[INNER];
	for (int i = 0; i < R * INNER; i++)
		x[i] = (i * 7 + i / INNER) % 3;
	for (int last = 0; last < 2; last++) {
		tr_argmax_i32(x, y, 1, R, INNER, last);
		for (int j = 0; j < INNER; j++) {
			int best = 0;
			for (int k = 1; k < R; k++)
				if (last ? x[k * INNER + j] >= x[best * INNER + j]
				         : x[k * INNER + j] > x[best * INNER + j])
					best = k;
			CHECK_I(y[j], best);
		}
	}
	float f[6] = {1, NAN, 3, NAN, -1, 5};
	int64_t g;
	tr_argmin_f32(f, &g, 1, 6, 1, 0);
	CHECK_I(g, 1);   /* the first NaN, as numpy */
	tr_argmin_f32(f, &g, 1, 6, 1, 1);
	CHECK_I(g, 3);
	float h[6];
	tr_hardmax_f32(f, h, 2, 3, 1);   /* rows (1, NaN, 3), (NaN, -1, 5) */
	CHECK_F(h[1] + h[3], 2, 0);
	CHECK_F(h[0] + h[2] + h[4] + h[5], 0, 0);
}

/* does (u, a) come before (w, b) in TopK's order: NaN largest, ties by index */
static int before(float u, float w, int a, int b, int largest)
{
	if (isnan(u) || isnan(w)) {
		if (isnan(u) && isnan(w))
			return a < b;
		return largest ? isnan(u) != 0 : isnan(w) != 0;
	}
	if (u != w)
		return largest ? u > w : u < w;
	return a < b;
}

/* TopK's heap against selection by the order above, on 400 random columns */
static void test_topk_random(void)
{
	unsigned s = 7;
	float x[3 * 40], v[3 * 40];
	int64_t ix[3 * 40];
	for (int trial = 0; trial < 400; trial++) {
		int n = 1 + trial % 40, inner = 1 + trial % 3, k = 1 + (trial * 7) % n;
		int largest = trial % 2;
		for (int i = 0; i < n * inner; i++) {
			s = s * 1103515245u + 12345u;
			int r = (int)((s >> 16) % 6);
			x[i] = r == 5 && trial % 5 == 0 ? NAN : (float)r;
		}
		tr_topk_f32(x, v, ix, 1, n, inner, k, largest);
		for (int i = 0; i < inner; i++) {
			int used[40] = {0};
			for (int j = 0; j < k; j++) {
				int best = -1;
				for (int e = 0; e < n; e++)
					if (!used[e] && (best < 0 || before(x[e * inner + i], x[best * inner + i],
					                                    e, best, largest)))
						best = e;
				used[best] = 1;
				CHECK_I(ix[j * inner + i], best);
				CU_ASSERT(memcmp(&v[j * inner + i], &x[best * inner + i], sizeof(float)) == 0);
			}
		}
	}
	int64_t xi[5] = {3, -1, 3, 7, -1}, vi[5], ii[5];
	tr_topk_i64(xi, vi, ii, 1, 5, 1, 5, 0);   /* a full sort, smallest first */
	const int64_t want[5] = {1, 4, 0, 2, 3};
	for (int j = 0; j < 5; j++)
		CHECK_I(ii[j], want[j]);
}

static void test_loss_kernels(void)
{
	/* x (2, 3): classes 0..2; the second target is out of range */
	float x[6] = {-1, -2, -3, -4, -5, -6}, w[3] = {1, 2, 4}, y[2];
	int64_t t[2] = {2, 3};
	tr_nll_loss_f32_i64(x, t, w, y, 2, 3, 1, 1, -100, 1, 0);
	CHECK_F(y[0], 12, 0);
	CU_ASSERT(isnan(y[1]));
	/* ignored: loss 0, weight 0; mean = 12 / 4 over the other */
	int32_t ti[2] = {2, -1};
	tr_nll_loss_f32_i32(x, ti, w, y, 2, 3, 1, 1, -1, 1, 2);
	CHECK_F(y[0], 3, 0);
	/* all ignored: mean is 0 / 0 */
	ti[0] = -1;
	tr_nll_loss_f32_i32(x, ti, w, y, 2, 3, 1, 0, -1, 1, 2);
	CU_ASSERT(isnan(y[0]));
	/* SoftmaxCrossEntropy of equal logits: log C per position, summed */
	float e[6] = {0, 0, 0, 0, 0, 0}, lp[6];
	int64_t tt[2] = {0, 1};
	tr_sce_loss_f32_i64(e, tt, e, y, lp, 2, 3, 1, 0, 0, 0, 1);
	CHECK_F(y[0], 2 * log(3.0), 1e-6);
	CHECK_F(lp[4], -log(3.0), 1e-6);
}

/* ------------------------------------------------------------------ */
/* Nodes: lowering forms, folding, user errors                          */
/* ------------------------------------------------------------------ */

/* A node of op on inputs in[0..nin) with nout fresh outputs, in g. */
static Node *node(Graph *g, OpKind op, int nin, Tensor **in, int nout)
{
	Node *n = node_new(g, op, "n", nin, nout);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	for (int i = 0; i < nout; i++)
		n->out[i] = tensor_new(g, i ? "y1" : "y0", TK_VALUE, DT_UNDEF, 0, NULL);
	graph_add_node(g, n);
	return n;
}

static Tensor *const_i64(Graph *g, const char *name, int n, const int64_t *v)
{
	Tensor *t = tensor_const(g, name, DT_I64, 1, (const int64_t[]){n});
	if (n)
		memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	return t;
}

static void test_lower_and_fold(void)
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
	g->opset = 18;
	Tensor *x = tensor_const(g, "x", DT_F32, 3, (const int64_t[]){2, 3, 4});
	for (int i = 0; i < 24; i++)
		((float *)x->data)[i] = (float)(i % 5) - 2.0f;
	/* noop_with_empty_axes: ReduceSumSquare squares, as (1, 1, 24) */
	Node *n = node(g, OP_REDUCE_SUM_SQUARE, 1, &x, 1);
	node_add_attr(g, n, "noop_with_empty_axes", AT_INT)->i = 1;
	shape_reduce(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 3);
	lower_reduce(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_reduce_sum_square_f32");
	CHECK_I(n->calls->args[4].i, 24);
	eval_node(g, n);
	CHECK_F(((float *)n->out[0]->data)[0], 4, 0);
	/* ... ReduceMean copies */
	n = node(g, OP_REDUCE_MEAN, 1, &x, 1);
	node_add_attr(g, n, "noop_with_empty_axes", AT_INT)->i = 1;
	shape_reduce(g, n);
	lower_reduce(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_copy");
	/* LogSumExp over axes {0, 2}: the general form with scratch for 3 sums */
	Tensor *in[2] = {x, const_i64(g, "axes", 2, (const int64_t[]){0, 2})};
	n = node(g, OP_REDUCE_LOG_SUM_EXP, 2, in, 1);
	shape_reduce(g, n);
	lower_reduce(g, n);
	CU_ASSERT_STRING_EQUAL(kernel_info[n->calls->kernel].name, "tr_reduce_log_sum_exp_f32_g");
	CU_ASSERT_EQUAL(n->calls->args[2].kind, ARG_SCRATCH);
	CHECK_I(n->calls->args[2].i, 12);
	/* TopK folds both outputs: k 2 along axis 1, smallest */
	Tensor *tin[2] = {x, const_i64(g, "k", 1, (const int64_t[]){2})};
	n = node(g, OP_TOP_K, 2, tin, 2);
	node_add_attr(g, n, "axis", AT_INT)->i = 1;
	node_add_attr(g, n, "largest", AT_INT)->i = 0;
	shape_topk(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dims[1], 2);
	CU_ASSERT_EQUAL(n->out[1]->dtype, DT_I64);
	eval_node(g, n);
	/* column (0, 0): x = -2, 2, 1 -> -2 at 0, then 1 at 2 */
	CHECK_F(((float *)n->out[0]->data)[4], 1, 0);
	CHECK_I(((int64_t *)n->out[1]->data)[4], 2);
	/* ArgMax, keepdims 0, over the last axis */
	n = node(g, OP_ARG_MAX, 1, &x, 1);
	node_add_attr(g, n, "axis", AT_INT)->i = -1;
	node_add_attr(g, n, "keepdims", AT_INT)->i = 0;
	shape_arg(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 2);
	eval_node(g, n);
	CHECK_I(((int64_t *)n->out[0]->data)[0], 3);   /* row -2, -1, 0, 1 */
	ctx_free(&c);
}

/* The message of the user error a one-node graph's shape function reports. */
typedef Node *Build(Graph *g);
static const char *shape_message(Ctx *c, int opset, Build *build)
{
	static char msg[2048];
	jmp_buf jb;
	ctx_init(c, "m.onnx");
	c->jmp = &jb;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(c);
		g->opset = opset;
		Node *n = build(g);
		op_info[n->op].shape(g, n);
		strcpy(msg, "(no error)");
	} else {
		strcpy(msg, c->errmsg);
	}
	ctx_free(c);
	return msg;
}

static Tensor *input(Graph *g, DType dt, int rank, const int64_t *dims)
{
	return tensor_new(g, "x", TK_INPUT, dt, rank, dims);
}

static Tensor *x345(Graph *g) { return input(g, DT_F32, 3, (const int64_t[]){3, 4, 5}); }

static Node *logsum_int(Graph *g)
{
	Tensor *x = input(g, DT_I64, 1, (const int64_t[]){3});
	return node(g, OP_REDUCE_LOG_SUM, 1, &x, 1);
}
/* op on x (3, 4, 5) with the integer attribute name = v */
static Node *with_int(Graph *g, OpKind op, const char *name, int64_t v)
{
	Tensor *x = x345(g);
	Node *n = node(g, op, 1, &x, 1);
	node_add_attr(g, n, name, AT_INT)->i = v;
	return n;
}
static Node *noop_two(Graph *g) { return with_int(g, OP_REDUCE_PROD, "noop_with_empty_axes", 2); }
static Node *axes_attr_18(Graph *g)
{
	Tensor *x = x345(g);
	static int64_t axes[1] = {1};
	Node *n = node(g, OP_REDUCE_MIN, 1, &x, 1);
	Attr *a = node_add_attr(g, n, "axes", AT_INTS);
	a->ints = axes;
	a->n = 1;
	return n;
}
static Node *argmax_keep2(Graph *g) { return with_int(g, OP_ARG_MAX, "keepdims", 2); }
static Node *argmin_bool(Graph *g)
{
	Tensor *x = input(g, DT_BOOL, 1, (const int64_t[]){3});
	return node(g, OP_ARG_MIN, 1, &x, 1);
}
static Node *topk_k(Graph *g, int64_t k, bool constant)
{
	Tensor *in[2] = {x345(g), constant ? const_i64(g, "k", 1, &k)
	                                   : input(g, DT_I64, 1, (const int64_t[]){1})};
	return node(g, OP_TOP_K, 2, in, 2);
}
static Node *topk_k6(Graph *g) { return topk_k(g, 6, true); }
static Node *topk_k0(Graph *g) { return topk_k(g, 0, true); }
static Node *topk_runtime_k(Graph *g) { return topk_k(g, 2, false); }
static Node *topk_attr_11(Graph *g)
{
	Node *n = topk_k(g, 2, true);
	node_add_attr(g, n, "k", AT_INT)->i = 2;
	return n;
}
static Node *topk_no_attr_9(Graph *g)
{
	Tensor *x = x345(g);
	return node(g, OP_TOP_K, 1, &x, 2);
}
static Node *loss(Graph *g, OpKind op, const int64_t *tdims, int wlen, const char *red)
{
	Tensor *in[3] = {input(g, DT_F32, 3, (const int64_t[]){2, 4, 5}),
	                 input(g, DT_I64, 2, tdims), input(g, DT_F32, 1, (const int64_t[]){wlen})};
	Node *n = node(g, op, 3, in, 1);
	if (red)
		node_add_attr(g, n, "reduction", AT_STRING)->s = red;
	return n;
}
static Node *nll_target(Graph *g)
{
	return loss(g, OP_NLL_LOSS, (const int64_t[]){2, 4}, 4, NULL);
}
static Node *nll_weight(Graph *g)
{
	return loss(g, OP_NLL_LOSS, (const int64_t[]){2, 5}, 5, NULL);
}
static Node *sce_reduction(Graph *g)
{
	return loss(g, OP_SCE_LOSS, (const int64_t[]){2, 5}, 4, "average");
}
/* x (3, 4, 5) split along axis into num_outputs = num, nout outputs */
static Node *split(Graph *g, int axis, int nout, int64_t num, bool with_input)
{
	Tensor *in[2] = {x345(g), const_i64(g, "split", 2, (const int64_t[]){1, 2})};
	Node *n = node_new(g, OP_SPLIT, "n", with_input ? 2 : 1, nout);
	for (int i = 0; i < n->nin; i++)
		n->in[i] = in[i];
	for (int i = 0; i < nout; i++)
		n->out[i] = tensor_new(g, ctx_printf(g->ctx, "y%d", i), TK_VALUE, DT_UNDEF, 0, NULL);
	node_add_attr(g, n, "num_outputs", AT_INT)->i = num;
	node_add_attr(g, n, "axis", AT_INT)->i = axis;
	graph_add_node(g, n);
	return n;
}
static Node *split_both(Graph *g) { return split(g, 1, 2, 2, true); }
static Node *split_fewer(Graph *g) { return split(g, 1, 3, 2, false); }
static Node *split_empty_last(Graph *g) { return split(g, 1, 3, 3, false); }   /* 2 + 2 + 0 */
static Node *split_uneven(Graph *g) { return split(g, 2, 3, 3, false); }       /* 2 + 2 + 1 */
/* the last output left out: 2 + 2 of 2 + 2 + 1 */
static Node *split_fewer_outputs(Graph *g) { return split(g, 2, 2, 3, false); }

/* opset, the one-node graph, what its shape function says */
static const struct {
	int opset;
	Build *build;
	const char *want;
} shape_cases[] = {
	{18, logsum_int, "has element type i64; this op supports f32"},
	{18, noop_two, "noop_with_empty_axes must be 0 or 1, got 2"},
	{18, axes_attr_18, "ReduceMin takes axes as an input at opset 18, not as an attribute"},
	{17, axes_attr_18, "(no error)"},
	{13, argmax_keep2, "keepdims must be 0 or 1, got 2"},
	{13, argmin_bool, "has element type bool"},
	{11, topk_k6, "k = 6 is out of range for axis 2 of size 5 (1 to 5)"},
	{11, topk_k0, "k = 0 is out of range"},
	{11, topk_runtime_k, "must be a constant (tostc compiles static shapes)"},
	{11, topk_attr_11, "TopK takes k as an input at opset 11, not as an attribute"},
	{9, topk_no_attr_9, "TopK needs an integer attribute 'k'"},
	{13, nll_target, "target i64[2,4] does not fit input f32[2,4,5]"},
	{13, nll_weight, "weight must be (C) = (4), got f32[5]"},
	{13, sce_reduction, "reduction 'average' is not supported (none, sum or mean)"},
	{18, split_both, "Split takes a split input or num_outputs, not both"},
	{18, split_fewer, "num_outputs must be an integer, at least the node's 3 outputs"},
	{18, split_empty_last,
	 "axis 1 of size 4 does not split into 3 chunks of 2 (the last one would be empty)"},
	{18, split_uneven, "(no error)"},
	{18, split_fewer_outputs, "(no error)"},
};

static void test_shape_errors(void)
{
	Ctx c;
	for (size_t i = 0; i < sizeof shape_cases / sizeof shape_cases[0]; i++)
		CHECK_MSG(shape_message(&c, shape_cases[i].opset, shape_cases[i].build),
		          shape_cases[i].want);
}

void register_reduce(void)
{
	CU_pSuite s = CU_add_suite("reduce", NULL, NULL);
	CU_add_test(s, "NaN and infinities in Min/Max/LogSumExp", test_reduce_nan_inf);
	CU_add_test(s, "strided LogSumExp against doubles", test_reduce_lse_strided);
	CU_add_test(s, "integer wrap, bool Min/Max", test_reduce_integers);
	CU_add_test(s, "ArgMax/ArgMin blocks, ties, NaN; Hardmax", test_arg_blocks);
	CU_add_test(s, "TopK against brute force on ties and NaN", test_topk_random);
	CU_add_test(s, "losses: out-of-range class, ignored, all ignored", test_loss_kernels);
	CU_add_test(s, "lowering forms and folding", test_lower_and_fold);
	CU_add_test(s, "shape errors", test_shape_errors);
}
