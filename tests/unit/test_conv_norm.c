/*
 * test_conv_norm.c -- unit tests for ConvTranspose, the normalisations and
 * Einsum (compiler/ops/op_conv.c, op_norm.c, op_einsum.c; runtime/conv/
 * conv_transpose.h, norm/, gemm/einsum.h).
 *
 * ConvTranspose against a naive double-precision scatter, on the edge paths
 * of its kernel: several col blocks, an output extended past the last tap (a
 * negative end pad), groups with dilation, the weight transposed or not, the
 * single GEMM of a 1x1 kernel.  The normalisations and Einsum's gather
 * against hand-computed values; the shape functions' refusals, one each.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"
#include "conv/conv_transpose.h"
#include "gemm/einsum.h"
#include "norm/groupnorm.h"
#include "norm/lpnorm.h"
#include "norm/lrn.h"
#include "norm/mvn.h"

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* ---- ConvTranspose vs a naive scatter (2-D, NCHW) ---- */

typedef struct {
	int64_t nb, c, mo, g, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow;
	int bias, wt;
} ConvT;

static void check_convt(ConvT t)
{
	int64_t cg = t.c / t.g, mg = t.mo / t.g, kk = t.kh * t.kw, mk = mg * kk;
	int64_t nx = t.nb * t.c * t.h * t.w, nw = t.c * mk, ny = t.nb * t.mo * t.oh * t.ow;
	unsigned s = (unsigned)(t.c * 7 + t.mo * 13 + t.kh + t.g + t.oh);
	float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
	float *wtr = malloc(sizeof(float) * (size_t)nw), *bias = malloc(sizeof(float) * (size_t)t.mo);
	float *y = malloc(sizeof(float) * (size_t)ny);
	double *want = calloc((size_t)ny, sizeof(double));
	for (int64_t i = 0; i < nx; i++)
		x[i] = frand(&s);
	for (int64_t i = 0; i < nw; i++)
		w[i] = frand(&s);
	for (int64_t i = 0; i < t.mo; i++)
		bias[i] = frand(&s);
	/* w (c, mg, kh, kw) -> per group (mk, cg), as lower_conv_transpose makes it */
	for (int64_t gi = 0; gi < t.g; gi++)
		for (int64_t ci = 0; ci < cg; ci++)
			for (int64_t j = 0; j < mk; j++)
				wtr[(gi * mk + j) * cg + ci] = w[(gi * cg + ci) * mk + j];
	for (int64_t b = 0; b < t.nb; b++)
		for (int64_t o = 0; o < t.mo; o++) {
			double *yo = want + (b * t.mo + o) * t.oh * t.ow;
			int64_t gi = o / mg;
			for (int64_t q = 0; q < t.oh * t.ow; q++)
				yo[q] = t.bias ? bias[o] : 0.0;
			for (int64_t ci = gi * cg; ci < (gi + 1) * cg; ci++)
				for (int64_t i = 0; i < t.h; i++)
					for (int64_t j = 0; j < t.w; j++)
						for (int64_t u = 0; u < t.kh; u++)
							for (int64_t v = 0; v < t.kw; v++) {
								int64_t r = i * t.sh - t.pt + u * t.dh, q = j * t.sw - t.pl + v * t.dw;
								if (r >= 0 && r < t.oh && q >= 0 && q < t.ow)
									yo[r * t.ow + q] += (double)x[((b * t.c + ci) * t.h + i) * t.w + j] *
									                    w[((ci * mg + o % mg) * t.kh + u) * t.kw + v];
							}
		}
	const int64_t p[21] = {1, t.h, t.w, 1, t.oh, t.ow, 1, t.kh, t.kw, 1, t.sh, t.sw, 1, t.dh, t.dw,
	                       0, t.pt, t.pl, 0, 0, 0};
	int64_t qb = tr_convt_block_rows(mk, t.h, t.w) * t.w;
	size_t scratch = sizeof(float) * (size_t)((mk * qb + 15) / 16 * 16) +
	                 (size_t)tr_gemm_pack_bytes(mk, cg, qb);
	float *sc = malloc(scratch);
	tr_conv_transpose_f32(x, t.wt ? wtr : w, bias, y, sc, t.nb, t.c, t.mo, t.g, t.bias, t.wt, p);
	double e = 0;
	for (int64_t i = 0; i < ny; i++) {
		double d = fabs(y[i] - want[i]) / (1.0 + fabs(want[i]));
		e = d > e || d != d ? d : e;
	}
	if (e > 1e-5)
		fprintf(stderr, "\n  conv_transpose c=%lld m=%lld g=%lld k=%lldx%lld: rel err %g\n",
		        (long long)t.c, (long long)t.mo, (long long)t.g, (long long)t.kh,
		        (long long)t.kw, e);
	CU_ASSERT(e <= 1e-5);
	free(x);
	free(w);
	free(wtr);
	free(bias);
	free(y);
	free(want);
	free(sc);
}

static void test_conv_transpose_vs_naive(void)
{
	/* nb c mo g  h w  kh kw  sh sw  dh dw  pt pl  oh ow  bias wt */
	/* 3x3 stride 2, pads 1 */
	check_convt((ConvT){1, 3, 4, 1, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 9, 11, 1, 1});
	/* several col blocks: mk * w = 216 * 60 floats per input row, 50 rows */
	check_convt((ConvT){1, 5, 24, 1, 50, 60, 3, 3, 1, 1, 1, 1, 1, 1, 50, 60, 1, 1});
	/* an output past the last tap (2 * 3 + 2 = 8 rows full, 10 made) */
	check_convt((ConvT){2, 2, 3, 1, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 10, 9, 1, 1});
	/* groups, dilation, asymmetric, the weight as the model has it */
	check_convt((ConvT){2, 4, 6, 2, 5, 4, 3, 2, 2, 3, 2, 1, 2, 0, 10, 11, 0, 0});
	check_convt((ConvT){1, 6, 9, 3, 7, 3, 2, 3, 3, 1, 1, 2, 1, 2, 18, 5, 1, 1});
	/* 1x1, stride 1, no padding: one GEMM per group, the bias as its epilogue */
	check_convt((ConvT){2, 8, 6, 2, 3, 7, 1, 1, 1, 1, 1, 1, 0, 0, 3, 7, 1, 1});
	check_convt((ConvT){1, 5, 4, 1, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 4, 4, 0, 0});
	/* a 1x1 kernel with stride 2: col2im spreads the pixels */
	check_convt((ConvT){1, 3, 2, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 6, 6, 1, 1});
}

/* ---- normalisations: hand-computed values ---- */

static void test_group_norm_known(void)
{
	/* x (1, 4, 2): groups of 2 channels: [1 2 3 4] and [5 5 5 5] */
	const float x[8] = {1, 2, 3, 4, 5, 5, 5, 5}, sc[4] = {1, 2, 3, 4}, b[4] = {0, 1, 2, 3};
	float y[8];
	/* per channel: (x - 2.5) / sqrt(1.25) * scale + bias (eps 1e-6: a constant
	 * group is 0 / sqrt(eps), not 0 / 0) */
	tr_group_norm_f32(x, sc, b, y, 1, 2, 2, 2, 1e-6f, 0);
	CU_ASSERT_DOUBLE_EQUAL(y[0], -1.341640786, 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(y[2], 2 * 0.447213595 + 1, 1e-5);   /* channel 1 */
	CU_ASSERT_DOUBLE_EQUAL(y[4], 2.0, 1e-5);                   /* constant group: the bias */
	/* per group: scale, bias [1 2], [0 1] */
	tr_group_norm_f32(x, sc, b, y, 1, 2, 2, 2, 1e-6f, 1);
	CU_ASSERT_DOUBLE_EQUAL(y[3], 1.341640786, 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(y[7], 1.0, 1e-5);
	/* instance norm of the same x: four groups of one channel, eps 1 */
	tr_group_norm_f32(x, sc, b, y, 1, 4, 1, 2, 1.0f, 0);
	CU_ASSERT_DOUBLE_EQUAL(y[1], 0.5 / sqrt(1.25), 1e-5);
}

static void test_lp_norm_lrn_known(void)
{
	/* x (2, 2, 2), axis 1: vectors (x[o, 0, j], x[o, 1, j]) */
	const float x[8] = {3, 0, 4, 0, -1, 2, 1, -2};
	float y[8], norm[2];
	tr_lp_norm_f32(x, y, norm, 2, 2, 2, 2);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 0.6, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[2], 0.8, 1e-6);
	CU_ASSERT_EQUAL(y[1], 0.0f);   /* the zero vector stays zero */
	CU_ASSERT_EQUAL(y[3], 0.0f);
	tr_lp_norm_f32(x, y, norm, 2, 2, 2, 1);
	CU_ASSERT_DOUBLE_EQUAL(y[4], -0.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[7], -0.5, 1e-6);
	/* LRN, size 2: channel c sums channels c and c + 1 (ONNX's window) */
	const float z[3] = {1, 2, 3};
	tr_lrn_f32(z, y, 1, 3, 1, 2, 2.0f, 1.0f, 1.0f);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 1.0 / (1 + 5), 1e-6);    /* 1 + 2 / 2 * (1 + 4) */
	CU_ASSERT_DOUBLE_EQUAL(y[2], 3.0 / (1 + 9), 1e-6);    /* the last: only itself */
}

static void test_mvn_vs_naive(void)
{
	/* x (2, 3, 4), statistics over axes 0 and 2: one mean and std per channel */
	float x[24], y[24], stats[6];
	unsigned s = 5;
	for (int i = 0; i < 24; i++)
		x[i] = frand(&s) * 4 + 1;
	const int64_t dims[3] = {2, 3, 4}, st[3] = {0, 1, 0};
	tr_mvn_f32(x, y, stats, 3, dims, st, 3, 1e-9f);
	int bad = 0;
	for (int c = 0; c < 3; c++) {
		double m = 0, v = 0;
		for (int b = 0; b < 2; b++)
			for (int q = 0; q < 4; q++)
				m += x[(b * 3 + c) * 4 + q] / 8.0;
		for (int b = 0; b < 2; b++)
			for (int q = 0; q < 4; q++)
				v += pow(x[(b * 3 + c) * 4 + q] - m, 2) / 8.0;
		for (int b = 0; b < 2; b++)
			for (int q = 0; q < 4; q++) {
				int i = (b * 3 + c) * 4 + q;
				bad += fabs(y[i] - (x[i] - m) / (sqrt(v) + 1e-9)) > 1e-5;
			}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- Einsum's gather: transposes, diagonals, sums ---- */

static void test_einsum_gather(void)
{
	/* x (2, 3, 4) = 0..23 */
	float x[24], y[24];
	for (int i = 0; i < 24; i++)
		x[i] = (float)i;
	/* "ijk->k": the view (k) summed over (i, j) */
	const int64_t v1[18] = {3, 2, 4, 2, 3, 1, 1, 1, 1, 1, 1, 12, 4, 0, 0, 0, 0, 0};
	tr_einsum_sum_f32(x, y, v1);
	CU_ASSERT_EQUAL(y[0], 0 + 4 + 8 + 12 + 16 + 20);
	CU_ASSERT_EQUAL(y[3], 3 + 7 + 11 + 15 + 19 + 23);
	/* "ijk->": everything, a scalar */
	const int64_t v2[18] = {3, 3, 2, 3, 4, 1, 1, 1, 1, 1, 12, 4, 1, 0, 0, 0, 0, 0};
	tr_einsum_sum_f32(x, y, v2);
	CU_ASSERT_EQUAL(y[0], 276.0f);
	/* "kji": a transpose, no sum */
	const int64_t v3[18] = {3, 0, 4, 3, 2, 1, 1, 1, 1, 1, 1, 4, 12, 0, 0, 0, 0, 0};
	tr_einsum_sum_f32(x, y, v3);
	CU_ASSERT_EQUAL(y[1], 12.0f);   /* (k 0, j 0, i 1) */
	CU_ASSERT_EQUAL(y[6], 1.0f);    /* (k 1, j 0, i 0) */
	/* trace of the (4, 4) block x[0..16) viewed as "ii": stride 5 */
	const int64_t v4[18] = {1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 5, 0, 0, 0, 0, 0, 0, 0};
	tr_einsum_sum_f32(x, y, v4);
	CU_ASSERT_EQUAL(y[0], 0 + 5 + 10 + 15);
}

/* ---- shape functions: each refusal ---- */

static Tensor *input(Graph *g, int rank, ...)
{
	int64_t d[MAX_RANK];
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++)
		d[i] = va_arg(ap, int64_t);
	va_end(ap);
	return tensor_new(g, ctx_printf(g->ctx, "t%d", g->ntensors), TK_INPUT, DT_F32, rank, d);
}

static Node *op_node(Graph *g, OpKind op, int nin, Tensor *a, Tensor *b, Tensor *c)
{
	Node *n = node_new(g, op, "n", nin, 1);
	Tensor *in[3] = {a, b, c};
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	n->out[0] = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	return n;
}

static void set_ints(Graph *g, Node *n, const char *name, int cnt, const int64_t *v)
{
	Attr *a = node_add_attr(g, n, name, AT_INTS);
	a->ints = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)cnt);
	memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
	a->n = cnt;
}

/* builds one node at opset `opset` and runs its shape function, which must
 * refuse it with a message containing want */
typedef void Refusal(Graph *g);

static void expect_refusal(Refusal *build, int opset, const char *want)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m.onnx");
	c.jmp = &jb;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(&c);
		g->opset = opset;
		build(g);
		CU_FAIL("no error");
	} else if (!strstr(c.errmsg, want)) {
		fprintf(stderr, "\n  want '%s' in: %s\n", want, c.errmsg);
		CU_FAIL("another message");
	}
	ctx_free(&c);
}

static void convt_group(Graph *g)
{
	Node *n = op_node(g, OP_CONV_TRANSPOSE, 2, input(g, 4, 1, 4, 3, 3), input(g, 4, 4, 2, 3, 3),
	                  NULL);
	node_add_attr(g, n, "group", AT_INT)->i = 3;
	shape_conv_transpose(g, n);
}

static void convt_weights(Graph *g)
{
	shape_conv_transpose(g, op_node(g, OP_CONV_TRANSPOSE, 2, input(g, 4, 1, 4, 3, 3),
	                                input(g, 4, 2, 2, 3, 3), NULL));
}

static void convt_empty(Graph *g)
{
	Node *n = op_node(g, OP_CONV_TRANSPOSE, 2, input(g, 3, 1, 1, 2), input(g, 3, 1, 1, 3), NULL);
	set_ints(g, n, "pads", 2, (const int64_t[]){3, 2});
	shape_conv_transpose(g, n);
}

static void convt_bias(Graph *g)
{
	shape_conv_transpose(g, op_node(g, OP_CONV_TRANSPOSE, 3, input(g, 3, 1, 2, 4),
	                                input(g, 3, 2, 3, 2), input(g, 1, 2)));
}

static void groupnorm_no_groups(Graph *g)
{
	shape_group_norm(g, op_node(g, OP_GROUP_NORM, 3, input(g, 3, 2, 4, 5), input(g, 1, 2),
	                            input(g, 1, 2)));
}

static void groupnorm_opset18_channels(Graph *g)
{
	Node *n = op_node(g, OP_GROUP_NORM, 3, input(g, 3, 2, 4, 5), input(g, 1, 4), input(g, 1, 4));
	node_add_attr(g, n, "num_groups", AT_INT)->i = 2;
	shape_group_norm(g, n);
}

static void instnorm_rank(Graph *g)
{
	shape_instance_norm(g, op_node(g, OP_INSTANCE_NORM, 3, input(g, 2, 2, 4), input(g, 1, 4),
	                               input(g, 1, 4)));
}

static void lpnorm_p(Graph *g)
{
	Node *n = op_node(g, OP_LP_NORM, 1, input(g, 2, 2, 4), NULL, NULL);
	node_add_attr(g, n, "p", AT_INT)->i = 0;
	shape_lp_norm(g, n);
}

static void lrn_size(Graph *g)
{
	Node *n = op_node(g, OP_LRN, 1, input(g, 4, 1, 3, 2, 2), NULL, NULL);
	node_add_attr(g, n, "size", AT_INT)->i = 0;
	shape_lrn(g, n);
}

static void mvn_twice(Graph *g)
{
	Node *n = op_node(g, OP_MVN, 1, input(g, 3, 2, 3, 4), NULL, NULL);
	set_ints(g, n, "axes", 2, (const int64_t[]){2, -1});
	shape_mvn(g, n);
}

static Node *einsum(Graph *g, const char *eq, int nin, Tensor *a, Tensor *b)
{
	Node *n = op_node(g, OP_EINSUM, nin, a, b, NULL);
	node_add_attr(g, n, "equation", AT_STRING)->s = eq;
	return n;
}

static void einsum_no_ellipsis(Graph *g)
{
	shape_einsum(g, einsum(g, "...ij,jk->ik", 2, input(g, 3, 2, 3, 4), input(g, 2, 4, 5)));
}

static void einsum_repeated_out(Graph *g)
{
	shape_einsum(g, einsum(g, "ij->ii", 1, input(g, 2, 3, 3), NULL));
}

static void einsum_bad_char(Graph *g)
{
	shape_einsum(g, einsum(g, "i1,1->i", 2, input(g, 2, 3, 3), input(g, 1, 3)));
}

static void einsum_diag_sizes(Graph *g)
{
	shape_einsum(g, einsum(g, "ii->i", 1, input(g, 2, 3, 1), NULL));
}

static void test_refusals(void)
{
	expect_refusal(convt_group, 17, "group 3 must divide the input channels 4");
	expect_refusal(convt_weights, 17, "must be (C, M/group, k...) with C = 4");
	expect_refusal(convt_empty, 17, "the output would have size -1");
	expect_refusal(convt_bias, 17, "bias f32[2] must be (3)");
	expect_refusal(groupnorm_no_groups, 18, "num_groups (an int) is required");
	expect_refusal(groupnorm_opset18_channels, 18, "one value per group (opsets 18 to 20)");
	expect_refusal(instnorm_rank, 17, "must be (N, C, D1, ...)");
	expect_refusal(lpnorm_p, 17, "p = 0: only the L1 and L2 norms");
	expect_refusal(lrn_size, 17, "size = 0 must be >= 1");
	expect_refusal(mvn_twice, 17, "axes names axis 2 twice");
	expect_refusal(einsum_no_ellipsis, 12, "the output has no '...' for the inputs' 1 broadcast");
	expect_refusal(einsum_repeated_out, 12, "output label i is repeated");
	expect_refusal(einsum_bad_char, 12, "term 1 is not labels");
	expect_refusal(einsum_diag_sizes, 12, "label i, repeated in term 1, has sizes 1 and 3");
}

/* ---- lower + eval: the compile-time transposed weight, Einsum's paths ---- */

static void test_lower_eval(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m.onnx");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	g->opset = 17;
	/* ConvTranspose 1-D, x (1, 2, 3), w (2, 1, 2) constant, stride 2, output_shape 7:
	 * the full 6 positions and one more that only the bias reaches */
	const int64_t dx[3] = {1, 2, 3}, dw[3] = {2, 1, 2}, db[1] = {1};
	Tensor *x = tensor_const(g, "x", DT_F32, 3, dx), *w = tensor_const(g, "w", DT_F32, 3, dw);
	Tensor *b = tensor_const(g, "b", DT_F32, 1, db);
	const float xv[6] = {1, 2, 3, 4, 5, 6}, wv[4] = {1, 10, 100, 1000};
	memcpy(x->data, xv, sizeof xv);
	memcpy(w->data, wv, sizeof wv);
	((float *)b->data)[0] = 0.5f;
	Node *n = op_node(g, OP_CONV_TRANSPOSE, 3, x, w, b);
	set_ints(g, n, "strides", 1, (const int64_t[]){2});
	set_ints(g, n, "output_shape", 1, (const int64_t[]){7});
	shape_conv_transpose(g, n);
	CU_ASSERT_EQUAL(n->out[0]->dims[2], 7);
	eval_node(g, n);
	const float *y = n->out[0]->data;
	/* position 2t + k gets x0[t] * w0[k] + x1[t] * w1[k] */
	CU_ASSERT_DOUBLE_EQUAL(y[0], 0.5 + 1 + 400, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(y[5], 0.5 + 30 + 6000, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(y[6], 0.5, 1e-6);
	/* Einsum "bij,bkj->bik": B transposed per batch, batch 2 (tr_einsum_f32) */
	const int64_t da[3] = {2, 2, 3}, dbb[3] = {2, 4, 3};
	Tensor *a = tensor_const(g, "a", DT_F32, 3, da), *bb = tensor_const(g, "bb", DT_F32, 3, dbb);
	unsigned s = 3;
	for (int i = 0; i < 12; i++)
		((float *)a->data)[i] = frand(&s);
	for (int i = 0; i < 24; i++)
		((float *)bb->data)[i] = frand(&s);
	n = einsum(g, "bij,bkj->bik", 2, a, bb);
	shape_einsum(g, n);
	CU_ASSERT_EQUAL(n->out[0]->rank, 3);
	CU_ASSERT_EQUAL(n->out[0]->dims[2], 4);
	eval_node(g, n);
	const float *av = a->data, *bv = bb->data;
	y = n->out[0]->data;
	int bad = 0;
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 2; i++)
			for (int k = 0; k < 4; k++) {
				double acc = 0;
				for (int j = 0; j < 3; j++)
					acc += (double)av[(t * 2 + i) * 3 + j] * bv[(t * 4 + k) * 3 + j];
				bad += fabs(y[(t * 2 + i) * 4 + k] - acc) > 1e-5;
			}
	CU_ASSERT_EQUAL(bad, 0);
	ctx_free(&c);
}

void register_conv_norm(void)
{
	CU_pSuite s = CU_add_suite("conv_norm", NULL, NULL);
	CU_add_test(s, "conv_transpose vs naive scatter", test_conv_transpose_vs_naive);
	CU_add_test(s, "group / instance norm known values", test_group_norm_known);
	CU_add_test(s, "lp norm, lrn known values", test_lp_norm_lrn_known);
	CU_add_test(s, "mvn over axes 0 and 2 vs naive", test_mvn_vs_naive);
	CU_add_test(s, "einsum gather: sums, transpose, trace", test_einsum_gather);
	CU_add_test(s, "shape: every refusal", test_refusals);
	CU_add_test(s, "lower+eval: conv_transpose output_shape, einsum batched", test_lower_eval);
}
