/*
 * test_linalg.c -- unit tests for the linear algebra kernels (runtime/gemm/,
 * conv/, norm/, pool/) and the shape functions of compiler/ops/op_linalg.c.
 *
 * GEMM and convolution are checked against naive double-precision loops
 * written out here, on ragged sizes that hit every edge path of the blocked
 * kernel (m < 4, m and n not multiples of the tile, k > the k block);
 * normalisation and pooling against hand-computed literals.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"
#include "gemm/gemm.h"
#include "conv/conv.h"
#include "conv/conv_packed.h"
#include "conv/depthwise.h"
#include "norm/batchnorm.h"
#include "norm/layernorm.h"
#include "pool/pool.h"

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* max |got - want| / (1 + |want|) */
static double max_rel_err(const float *got, const double *want, int64_t n)
{
	double e = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
		if (!(d <= e))
			e = d;   /* also catches NaN */
	}
	return e;
}

/* ---- GEMM ---- */

static void check_gemm(int64_t m, int64_t k, int64_t n, int ta, int tb, float alpha, int accumulate)
{
	unsigned s = (unsigned)(m * 131 + k * 17 + n * 3 + ta * 7 + tb);
	float *a = malloc(sizeof(float) * (size_t)(m * k + 1));
	float *b = malloc(sizeof(float) * (size_t)(k * n + 1));
	float *y = malloc(sizeof(float) * (size_t)(m * n + 1));
	double *want = malloc(sizeof(double) * (size_t)(m * n + 1));
	float *pack = malloc((size_t)tr_gemm_pack_bytes(m, k, n));   /* exact: ASan checks it */
	for (int64_t i = 0; i < m * k; i++)
		a[i] = frand(&s);
	for (int64_t i = 0; i < k * n; i++)
		b[i] = frand(&s);
	for (int64_t i = 0; i < m * n; i++)
		y[i] = frand(&s);
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double acc = 0;
			for (int64_t p = 0; p < k; p++) {
				double av = ta ? a[p * m + i] : a[i * k + p];
				double bv = tb ? b[j * k + p] : b[p * n + j];
				acc += av * bv;
			}
			want[i * n + j] = alpha * acc + (accumulate ? y[i * n + j] : 0.0);
		}
	tr_gemm_f32(a, b, y, pack, m, k, n, ta, tb, alpha, accumulate);
	double e = max_rel_err(y, want, m * n);
	if (e > 1e-5)
		fprintf(stderr, "\n  gemm m=%lld k=%lld n=%lld ta=%d tb=%d acc=%d: rel err %g\n",
		        (long long)m, (long long)k, (long long)n, ta, tb, accumulate, e);
	CU_ASSERT(e <= 1e-5);
	free(a);
	free(b);
	free(y);
	free(want);
	free(pack);
}

static void test_gemm_sizes(void)
{
	static const int64_t sz[] = {1, 3, 17, 63, 100};
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++)
			for (int l = 0; l < 5; l++)
				check_gemm(sz[i], sz[j], sz[l], 0, 0, 1.0f, 0);
	/* k beyond one k block, n beyond one n block */
	check_gemm(37, 300, 150, 0, 0, 1.0f, 0);
	check_gemm(9, 513, 33, 0, 0, 1.0f, 0);
	/* m beyond one m block */
	check_gemm(300, 40, 50, 0, 0, 1.0f, 0);
	check_gemm(517, 270, 20, 1, 1, 1.5f, 1);
}

static void test_gemm_transposed(void)
{
	static const int64_t sz[] = {1, 3, 17, 63, 100};
	for (int i = 0; i < 5; i++)
		for (int l = 0; l < 5; l++) {
			check_gemm(sz[i], 17, sz[l], 0, 1, 1.0f, 0);
			check_gemm(sz[i], 63, sz[l], 1, 0, 0.5f, 0);
			check_gemm(sz[i], 3, sz[l], 1, 1, -2.0f, 1);
		}
	check_gemm(40, 300, 131, 0, 1, 0.25f, 1);
}

static void test_gemm_k0_and_bias(void)
{
	/* k = 0: y = 0 (or unchanged when accumulating) */
	float y[6] = {1, 2, 3, 4, 5, 6}, a[1] = {0}, b[1] = {0}, pack[4];
	tr_gemm_f32(a, b, y, pack, 2, 0, 3, 0, 0, 1.0f, 1);
	CU_ASSERT_EQUAL(y[5], 6.0f);
	tr_gemm_f32(a, b, y, pack, 2, 0, 3, 0, 0, 1.0f, 0);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], 0.0f);
	/* C (1, 3) row vector and (2, 1) column broadcast to (2, 3), beta 2 */
	const float row[3] = {1, 2, 3}, col[2] = {10, 20};
	tr_gemm_bias_f32(row, y, 2, 3, 1, 3, 2.0f);
	CU_ASSERT_EQUAL(y[0], 2.0f);
	CU_ASSERT_EQUAL(y[5], 6.0f);
	tr_gemm_bias_f32(col, y, 2, 3, 2, 1, 2.0f);
	CU_ASSERT_EQUAL(y[2], 20.0f);
	CU_ASSERT_EQUAL(y[3], 40.0f);
}

static void test_matmul_batched_broadcast(void)
{
	/* a (2, 1, 5, 7) @ b (3, 7, 6) -> y (2, 3, 5, 6) */
	enum { M = 5, K = 7, N = 6 };
	unsigned s = 99;
	float a[2 * M * K], b[3 * K * N], y[6 * M * N];
	double want[6 * M * N];
	float *pack = malloc((size_t)tr_gemm_pack_bytes(M, K, N));
	for (int i = 0; i < 2 * M * K; i++)
		a[i] = frand(&s);
	for (int i = 0; i < 3 * K * N; i++)
		b[i] = frand(&s);
	for (int i0 = 0; i0 < 2; i0++)
		for (int i1 = 0; i1 < 3; i1++)
			for (int i = 0; i < M; i++)
				for (int j = 0; j < N; j++) {
					double acc = 0;
					for (int p = 0; p < K; p++)
						acc += (double)a[i0 * M * K + i * K + p] * b[i1 * K * N + p * N + j];
					want[((i0 * 3 + i1) * M + i) * N + j] = acc;
				}
	const int64_t bdims[2] = {2, 3}, astr[2] = {M * K, 0}, bstr[2] = {0, K * N};
	tr_matmul_f32(a, b, y, pack, M, K, N, 2, bdims, astr, bstr);
	CU_ASSERT(max_rel_err(y, want, 6 * M * N) <= 1e-5);
	free(pack);
}

/* ---- convolution vs a naive direct loop (2-D, NCHW) ---- */

static void check_conv(int64_t nb, int64_t c, int64_t mo, int64_t g, int64_t h, int64_t w,
                       int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                       int64_t pt, int64_t pl, int64_t pbm, int64_t pr, int with_bias)
{
	int64_t oh = (h + pt + pbm - ((kh - 1) * dh + 1)) / sh + 1;
	int64_t ow = (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
	int64_t cg = c / g, mg = mo / g;
	unsigned s = (unsigned)(c * 7 + mo * 13 + kh + g);
	int64_t nx = nb * c * h * w, nw = mo * cg * kh * kw, ny = nb * mo * oh * ow;
	float *x = malloc(sizeof(float) * (size_t)nx), *wt = malloc(sizeof(float) * (size_t)nw);
	float *bias = malloc(sizeof(float) * (size_t)mo), *y = malloc(sizeof(float) * (size_t)ny);
	double *want = malloc(sizeof(double) * (size_t)ny);
	for (int64_t i = 0; i < nx; i++)
		x[i] = frand(&s);
	for (int64_t i = 0; i < nw; i++)
		wt[i] = frand(&s);
	for (int64_t i = 0; i < mo; i++)
		bias[i] = frand(&s);
	for (int64_t b = 0; b < nb; b++)
		for (int64_t o = 0; o < mo; o++)
			for (int64_t yi = 0; yi < oh; yi++)
				for (int64_t xi = 0; xi < ow; xi++) {
					double acc = with_bias ? bias[o] : 0.0;
					int64_t gi = o / mg;
					for (int64_t ci = 0; ci < cg; ci++)
						for (int64_t u = 0; u < kh; u++)
							for (int64_t v = 0; v < kw; v++) {
								int64_t iy = yi * sh - pt + u * dh, ix = xi * sw - pl + v * dw;
								if (iy < 0 || iy >= h || ix < 0 || ix >= w)
									continue;
								acc += (double)x[((b * c + gi * cg + ci) * h + iy) * w + ix] *
								       wt[((o * cg + ci) * kh + u) * kw + v];
							}
					want[((b * mo + o) * oh + yi) * ow + xi] = acc;
				}
	const int64_t p[21] = {1, h, w, 1, oh, ow, 1, kh, kw, 1, sh, sw, 1, dh, dw,
	                       0, pt, pl, 0, pbm, pr};
	/* each kernel also with the fused GELU: bitwise tr_gelu_f32 of its output */
	float *yg = malloc(sizeof(float) * (size_t)ny);
	if (cg == 1) {
		tr_conv_depthwise_f32(x, wt, bias, y, nb, c, mo, with_bias, 0, p);
		tr_conv_depthwise_f32(x, wt, bias, yg, nb, c, mo, with_bias, 1, p);
	} else {
		int direct = kh * kw == 1 && sh * sw == 1 && pt + pl + pbm + pr == 0;
		int64_t qb = oh * ow;
		if (!direct)
			qb = tr_conv_block_rows(cg * kh * kw, oh, ow) * ow;
		size_t scratch = (direct ? 0 : sizeof(float) * (size_t)tr_conv_col_floats(cg * kh * kw, qb)) +
		                 (size_t)tr_gemm_pack_bytes(mg < 4 ? 4 : mg, cg * kh * kw, qb);
		float *sc = malloc(scratch);
		tr_conv_f32(x, wt, bias, y, sc, nb, c, mo, g, with_bias, 0, p);
		tr_conv_f32(x, wt, bias, yg, sc, nb, c, mo, g, with_bias, 1, p);
		free(sc);
	}
	float *gy = calloc((size_t)ny, sizeof(float));
	tr_gelu_f32(y, gy, ny);
	CU_ASSERT(memcmp(gy, yg, sizeof(float) * (size_t)ny) == 0);
	free(gy);
	free(yg);
	double e = max_rel_err(y, want, ny);
	if (e > 1e-5)
		fprintf(stderr, "\n  conv c=%lld m=%lld g=%lld k=%lldx%lld: rel err %g\n", (long long)c,
		        (long long)mo, (long long)g, (long long)kh, (long long)kw, e);
	CU_ASSERT(e <= 1e-5);
	free(x);
	free(wt);
	free(bias);
	free(y);
	free(want);
}

static void test_conv_vs_naive(void)
{
	/* nb c mo g  h w  kh kw  sh sw  dh dw  pads t l b r  bias */
	check_conv(1, 3, 8, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
	check_conv(2, 4, 6, 2, 10, 7, 3, 2, 2, 1, 1, 2, 0, 1, 2, 0, 0);     /* groups, asym pads */
	check_conv(1, 5, 17, 1, 12, 12, 5, 5, 2, 2, 2, 2, 3, 3, 3, 3, 1);   /* dilation */
	check_conv(2, 16, 20, 1, 6, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);    /* 1x1: no im2col */
	check_conv(1, 3, 5, 1, 5, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);     /* wide: im2col blocks */
	check_conv(1, 3, 5, 1, 6, 75, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0);     /* same, stride 2 */
	check_conv(1, 2, 4, 1, 3, 60, 1, 3, 1, 3, 1, 1, 0, 2, 0, 1, 1);     /* stride 3 */
	check_conv(1, 6, 6, 6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);      /* depthwise */
	check_conv(1, 4, 8, 4, 7, 9, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, 0);      /* depthwise x2 */
}

/* ---- normalisation and pooling: literals ---- */

static void test_layernorm_known(void)
{
	/* rows [1 2 3 4] and [2 2 2 2]: mean 2.5, var 1.25 -> (x - 2.5) / sqrt(1.25) */
	const float x[8] = {1, 2, 3, 4, 2, 2, 2, 2}, scale[4] = {1, 2, 1, 1}, bias[4] = {0, 0, 1, 0};
	float y[8], mean[2], rstd[2];
	tr_layernorm_f32(x, scale, bias, y, mean, rstd, 2, 4, 0.0f, 1, 1, 1);
	CU_ASSERT_DOUBLE_EQUAL(mean[0], 2.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(rstd[0], 0.894427191, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[0], -1.341640786, 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(y[1], -0.894427191, 1e-5);   /* scaled by 2 */
	CU_ASSERT_DOUBLE_EQUAL(y[2], 1.447213595, 1e-5);    /* + bias 1 */
	CU_ASSERT_DOUBLE_EQUAL(y[3], 1.341640786, 1e-5);
	/* constant row: var 0, eps 1e-5 -> rstd = 1/sqrt(1e-5), y = bias */
	tr_layernorm_f32(x, scale, bias, y, mean, rstd, 2, 4, 1e-5f, 1, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(rstd[1], 316.227766, 1e-2);
	CU_ASSERT_EQUAL(y[4], 0.0f);
	CU_ASSERT_EQUAL(y[6], 0.0f);   /* no bias */
	/* scalar scale (stride 0) */
	const float two = 2.0f;
	tr_layernorm_f32(x, &two, &two, y, mean, rstd, 1, 4, 0.0f, 0, 1, 0);
	CU_ASSERT_DOUBLE_EQUAL(y[3], 2.0 * 1.341640786 + 2.0, 1e-5);
}

static void test_batchnorm_known(void)
{
	/* x (1, 2, 2): channel 0 scale 2 mean 1 var 3 (eps 1 -> /2) bias 0.5; channel 1 identity */
	const float x[4] = {1, 3, 5, 7}, sc[2] = {2, 1}, b[2] = {0.5f, 0}, mu[2] = {1, 0},
	            var[2] = {3, 1};
	float y[4];
	tr_batchnorm_f32(x, sc, b, mu, var, y, 1, 2, 2, 1.0f);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 0.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[1], 2.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[2], 5 / sqrt(2.0), 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(y[3], 7 / sqrt(2.0), 1e-5);
}

static void test_pool_known(void)
{
	/* x (1, 4, 4) = 0..15 */
	float x[16], y[9];
	for (int i = 0; i < 16; i++)
		x[i] = (float)i;
	/* max 2x2 stride 2 */
	const int64_t p1[21] = {1, 4, 4, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0};
	tr_maxpool_f32(x, y, 1, p1);
	CU_ASSERT_EQUAL(y[0], 5.0f);
	CU_ASSERT_EQUAL(y[1], 7.0f);
	CU_ASSERT_EQUAL(y[2], 13.0f);
	CU_ASSERT_EQUAL(y[3], 15.0f);
	/* avg 3x3 stride 2, pads 1: corner window covers {0, 1, 4, 5} */
	const int64_t p2[21] = {1, 4, 4, 1, 2, 2, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1};
	tr_avgpool_f32(x, y, 1, p2, 0);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 2.5, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(y[3], 90 / 9.0, 1e-5);   /* rows and cols 1..3, all inside */
	tr_avgpool_f32(x, y, 1, p2, 1);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 10 / 9.0, 1e-6);
	/* max with dilation 2, 2x2 kernel, 1-D view of row 0: taps 0 and 2 */
	const int64_t p3[21] = {1, 1, 4, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0};
	tr_maxpool_f32(x, y, 1, p3);
	CU_ASSERT_EQUAL(y[0], 2.0f);
	CU_ASSERT_EQUAL(y[1], 3.0f);
	/* global average of each 4x4 plane */
	tr_global_avgpool_f32(x, y, 1, 16);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 7.5, 1e-6);
}

/* ---- shape functions ---- */

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
} Fixture;

static Node *mk_node(Graph *g, OpKind op, int nin, Tensor **in)
{
	Node *n = node_new(g, op, "n", nin, 1);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	n->out[0] = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	return n;
}

static void test_shape_matmul(void)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb) == 0) {
		f.g = graph_new(&f.c);
		f.g->opset = 13;
		const int64_t da[3] = {2, 5, 7}, db[4] = {3, 1, 7, 4}, dv[1] = {7};
		Tensor *in[2] = {tensor_new(f.g, "a", TK_INPUT, DT_F32, 3, da),
		                 tensor_new(f.g, "b", TK_INPUT, DT_F32, 4, db)};
		Node *n = mk_node(f.g, OP_MATMUL, 2, in);
		shape_matmul(f.g, n);
		CU_ASSERT_EQUAL(n->out[0]->rank, 4);
		CU_ASSERT_EQUAL(n->out[0]->dims[0], 3);
		CU_ASSERT_EQUAL(n->out[0]->dims[1], 2);
		CU_ASSERT_EQUAL(n->out[0]->dims[2], 5);
		CU_ASSERT_EQUAL(n->out[0]->dims[3], 4);
		/* (2, 5, 7) @ (7) -> (2, 5) */
		in[1] = tensor_new(f.g, "v", TK_INPUT, DT_F32, 1, dv);
		n = mk_node(f.g, OP_MATMUL, 2, in);
		shape_matmul(f.g, n);
		CU_ASSERT_EQUAL(n->out[0]->rank, 2);
		CU_ASSERT_EQUAL(n->out[0]->dims[1], 5);
		/* (7) @ (2, 5, 7): inner dims differ -> error */
		Tensor *bad[2] = {in[1], in[0]};
		n = mk_node(f.g, OP_MATMUL, 2, bad);
		shape_matmul(f.g, n);
		CU_FAIL("no error for mismatched k");
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(f.c.errmsg, "MatMul inner dimensions differ"));
	ctx_free(&f.c);
}

static void test_shape_conv_pool(void)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb) == 0) {
		f.g = graph_new(&f.c);
		f.g->opset = 13;
		const int64_t dx[4] = {1, 4, 7, 5}, dw[4] = {6, 2, 3, 3};
		Tensor *in[2] = {tensor_new(f.g, "x", TK_INPUT, DT_F32, 4, dx),
		                 tensor_new(f.g, "w", TK_CONST, DT_F32, 4, dw)};
		/* group 2, SAME_LOWER, stride 2: out = ceil(in / 2) */
		Node *n = mk_node(f.g, OP_CONV, 2, in);
		Attr *a = node_add_attr(f.g, n, "group", AT_INT);
		a->i = 2;
		a = node_add_attr(f.g, n, "auto_pad", AT_STRING);
		a->s = "SAME_LOWER";
		a = node_add_attr(f.g, n, "strides", AT_INTS);
		static int64_t st[2] = {2, 2};
		a->ints = st;
		a->n = 2;
		shape_conv(f.g, n);
		CU_ASSERT_EQUAL(n->out[0]->dims[1], 6);
		CU_ASSERT_EQUAL(n->out[0]->dims[2], 4);
		CU_ASSERT_EQUAL(n->out[0]->dims[3], 3);
		/* MaxPool 3x3 stride 2 ceil_mode on 7x5 -> 3x2 */
		n = mk_node(f.g, OP_MAX_POOL, 1, in);
		a = node_add_attr(f.g, n, "kernel_shape", AT_INTS);
		static int64_t ks[2] = {3, 3};
		a->ints = ks;
		a->n = 2;
		a = node_add_attr(f.g, n, "strides", AT_INTS);
		a->ints = st;
		a->n = 2;
		a = node_add_attr(f.g, n, "ceil_mode", AT_INT);
		a->i = 1;
		shape_pool(f.g, n);
		CU_ASSERT_EQUAL(n->out[0]->dims[2], 3);
		CU_ASSERT_EQUAL(n->out[0]->dims[3], 2);
		/* group 3 does not divide 4 channels */
		n = mk_node(f.g, OP_CONV, 2, in);
		a = node_add_attr(f.g, n, "group", AT_INT);
		a->i = 3;
		shape_conv(f.g, n);
		CU_FAIL("no error for a bad group");
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(f.c.errmsg, "group 3 must divide"));
	ctx_free(&f.c);
}

/* ---- lower functions, evaluated in the compiler (eval_node) ---- */

static Tensor *rand_const(Graph *g, const char *name, int rank, const int64_t *dims, unsigned seed)
{
	Tensor *t = tensor_const(g, name, DT_F32, rank, dims);
	float *d = t->data;
	for (int64_t i = 0; i < tensor_nelem(t); i++)
		d[i] = frand(&seed);
	return t;
}

static void test_lower_matmul_gemm(void)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb)) {
		FAIL_ERROR(&f.c);
		return;
	}
	f.g = graph_new(&f.c);
	f.g->opset = 13;
	/* MatMul a (3, 1, 9, 5) @ b (4, 5, 6) -> (3, 4, 9, 6): batched broadcast strides */
	const int64_t da[4] = {3, 1, 9, 5}, db[3] = {4, 5, 6};
	Tensor *in[3] = {rand_const(f.g, "a", 4, da, 1), rand_const(f.g, "b", 3, db, 2), NULL};
	Node *n = mk_node(f.g, OP_MATMUL, 2, in);
	shape_matmul(f.g, n);
	eval_node(f.g, n);
	const float *a = in[0]->data, *b = in[1]->data, *y = n->out[0]->data;
	int bad = 0;
	for (int i0 = 0; i0 < 3; i0++)
		for (int i1 = 0; i1 < 4; i1++)
			for (int i = 0; i < 9; i++)
				for (int j = 0; j < 6; j++) {
					double acc = 0;
					for (int p = 0; p < 5; p++)
						acc += (double)a[(i0 * 9 + i) * 5 + p] * b[(i1 * 5 + p) * 6 + j];
					bad += fabs(y[((i0 * 4 + i1) * 9 + i) * 6 + j] - acc) > 1e-5;
				}
	CU_ASSERT_EQUAL(bad, 0);
	/* Gemm transA, alpha 0.5, beta 2, C (M, 1) column broadcast */
	const int64_t dA[2] = {7, 10}, dB[2] = {7, 12}, dC[2] = {10, 1};
	Tensor *gin[3] = {rand_const(f.g, "A", 2, dA, 3), rand_const(f.g, "B", 2, dB, 4),
	                  rand_const(f.g, "C", 2, dC, 5)};
	n = mk_node(f.g, OP_GEMM, 3, gin);
	node_add_attr(f.g, n, "transA", AT_INT)->i = 1;
	node_add_attr(f.g, n, "alpha", AT_FLOAT)->f = 0.5f;
	node_add_attr(f.g, n, "beta", AT_FLOAT)->f = 2.0f;
	shape_gemm(f.g, n);
	CU_ASSERT_EQUAL(n->out[0]->dims[0], 10);
	CU_ASSERT_EQUAL(n->out[0]->dims[1], 12);
	eval_node(f.g, n);
	const float *A = gin[0]->data, *B = gin[1]->data, *C = gin[2]->data;
	y = n->out[0]->data;
	bad = 0;
	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 12; j++) {
			double acc = 0;
			for (int p = 0; p < 7; p++)
				acc += (double)A[p * 10 + i] * B[p * 12 + j];
			bad += fabs(y[i * 12 + j] - (0.5 * acc + 2.0 * C[i])) > 1e-5;
		}
	CU_ASSERT_EQUAL(bad, 0);
	ctx_free(&f.c);
}

static void test_lower_conv_layernorm(void)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb)) {
		FAIL_ERROR(&f.c);
		return;
	}
	f.g = graph_new(&f.c);
	f.g->opset = 13;
	/* Conv 1-D: x (2, 4, 11), w (6, 2, 3), bias, group 2, stride 2, pads (2, 1) */
	const int64_t dx[3] = {2, 4, 11}, dw[3] = {6, 2, 3}, dbias[1] = {6};
	Tensor *in[3] = {rand_const(f.g, "x", 3, dx, 6), rand_const(f.g, "w", 3, dw, 7),
	                 rand_const(f.g, "bias", 1, dbias, 8)};
	Node *n = mk_node(f.g, OP_CONV, 3, in);
	node_add_attr(f.g, n, "group", AT_INT)->i = 2;
	static int64_t st[1] = {2}, pads[2] = {2, 1};
	Attr *at = node_add_attr(f.g, n, "strides", AT_INTS);
	at->ints = st;
	at->n = 1;
	at = node_add_attr(f.g, n, "pads", AT_INTS);
	at->ints = pads;
	at->n = 2;
	shape_conv(f.g, n);
	CU_ASSERT_EQUAL(n->out[0]->dims[2], 6);   /* (11 + 3 - 3) / 2 + 1 */
	eval_node(f.g, n);
	const float *x = in[0]->data, *w = in[1]->data, *bs = in[2]->data, *y = n->out[0]->data;
	int bad = 0;
	for (int b = 0; b < 2; b++)
		for (int o = 0; o < 6; o++)
			for (int q = 0; q < 6; q++) {
				double acc = bs[o];
				for (int ci = 0; ci < 2; ci++)
					for (int k = 0; k < 3; k++) {
						int ix = q * 2 - 2 + k;
						if (ix >= 0 && ix < 11)
							acc += (double)x[(b * 4 + (o / 3) * 2 + ci) * 11 + ix] *
							       w[(o * 2 + ci) * 3 + k];
					}
				bad += fabs(y[(b * 6 + o) * 6 + q] - acc) > 1e-5;
			}
	CU_ASSERT_EQUAL(bad, 0);
	/* LayerNormalization axis 1 of (2, 3, 4) with Mean / InvStdDev outputs */
	const int64_t dl[3] = {2, 3, 4}, ds[2] = {3, 4};
	Tensor *lin[3] = {rand_const(f.g, "lx", 3, dl, 9), rand_const(f.g, "ls", 2, ds, 10), NULL};
	n = node_new(f.g, OP_LAYER_NORM, "ln", 2, 3);
	n->in[0] = lin[0];
	n->in[1] = lin[1];
	for (int i = 0; i < 3; i++)
		n->out[i] = tensor_new(f.g, i == 0 ? "ly" : i == 1 ? "lm" : "lr", TK_VALUE, DT_UNDEF, 0, NULL);
	node_add_attr(f.g, n, "axis", AT_INT)->i = 1;
	shape_layernorm(f.g, n);
	CU_ASSERT_EQUAL(n->out[1]->rank, 3);
	CU_ASSERT_EQUAL(n->out[1]->dims[0], 2);
	CU_ASSERT_EQUAL(n->out[1]->dims[1], 1);
	eval_node(f.g, n);
	const float *lx = lin[0]->data, *ls = lin[1]->data, *ly = n->out[0]->data;
	const float *lm = n->out[1]->data, *lr = n->out[2]->data;
	bad = 0;
	for (int r = 0; r < 2; r++) {
		double mu = 0, var = 0;
		for (int j = 0; j < 12; j++)
			mu += lx[r * 12 + j] / 12.0;
		for (int j = 0; j < 12; j++)
			var += (lx[r * 12 + j] - mu) * (lx[r * 12 + j] - mu) / 12.0;
		double rs = 1.0 / sqrt(var + 1e-5);
		bad += fabs(lm[r] - mu) > 1e-6 || fabs(lr[r] - rs) > 1e-4 * rs;
		for (int j = 0; j < 12; j++)
			bad += fabs(ly[r * 12 + j] - (lx[r * 12 + j] - mu) * rs * ls[j]) > 1e-5;
	}
	CU_ASSERT_EQUAL(bad, 0);
	ctx_free(&f.c);
}

/* ---- Conv with a constant weight (tr_conv_packed_f32 on small maps, else
 * tr_conv_f32) vs a direct double loop ---- */

typedef struct {
	int ns;                                  /* spatial dims, 1 to 3 */
	int64_t nb, c, mo, g, in[3], k[3], s[3], d[3], pb[3], pe[3];
	int bias;
	int packed;                              /* expected kernel: tr_conv_packed_f32 */
} ConvCase;

/* Lower the Conv (constant x, w, bias) and evaluate it in the compiler;
 * returns max |y - ref| / (1 + |ref|), or 1 when it was not lowered to the
 * expected kernel (tr_conv_packed_f32 or tr_conv_f32). */
static double check_conv_packed(const ConvCase *cc, unsigned seed)
{
	Fixture f;
	double err = 1;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb)) {
		FAIL_ERROR(&f.c);
		return 1;
	}
	f.g = graph_new(&f.c);
	f.g->opset = 13;
	int ns = cc->ns, r = ns + 2;
	int64_t cg = cc->c / cc->g, mg = cc->mo / cc->g;
	int64_t dx[5] = {cc->nb, cc->c}, dw[5] = {cc->mo, cg}, db[1] = {cc->mo};
	int64_t st[3], dl[3], pads[6];
	for (int i = 0; i < ns; i++) {
		dx[2 + i] = cc->in[i];
		dw[2 + i] = cc->k[i];
		st[i] = cc->s[i];
		dl[i] = cc->d[i];
		pads[i] = cc->pb[i];
		pads[ns + i] = cc->pe[i];
	}
	Tensor *in[3] = {rand_const(f.g, "x", r, dx, seed), rand_const(f.g, "w", r, dw, seed + 1),
	                 cc->bias ? rand_const(f.g, "bias", 1, db, seed + 2) : NULL};
	Node *n = mk_node(f.g, OP_CONV, cc->bias ? 3 : 2, in);
	node_add_attr(f.g, n, "group", AT_INT)->i = cc->g;
	Attr *at = node_add_attr(f.g, n, "strides", AT_INTS);
	at->ints = st;
	at->n = ns;
	at = node_add_attr(f.g, n, "dilations", AT_INTS);
	at->ints = dl;
	at->n = ns;
	at = node_add_attr(f.g, n, "pads", AT_INTS);
	at->ints = pads;
	at->n = 2 * ns;
	shape_conv(f.g, n);
	lower_conv(f.g, n);
	int packed = n->calls && !strcmp(kernel_info[n->calls->kernel].name, cc->packed ? "tr_conv_packed_f32" :
	                                                                "tr_conv_f32");
	eval_node(f.g, n);
	/* reference, spatial dims padded to 3 with leading size-1 dims */
	int64_t I[3], O[3], K[3], S[3], D[3], PB[3];
	for (int i = 0; i < 3; i++) {
		int j = i - (3 - ns);
		I[i] = j >= 0 ? cc->in[j] : 1;
		K[i] = j >= 0 ? cc->k[j] : 1;
		S[i] = j >= 0 ? cc->s[j] : 1;
		D[i] = j >= 0 ? cc->d[j] : 1;
		PB[i] = j >= 0 ? cc->pb[j] : 0;
		O[i] = j >= 0 ? n->out[0]->dims[2 + j] : 1;
		int64_t ext = j >= 0 ? cc->in[j] + cc->pb[j] + cc->pe[j] - (K[i] - 1) * D[i] - 1 : 0;
		CU_ASSERT_EQUAL(O[i], ext / S[i] + 1);
	}
	const float *x = in[0]->data, *w = in[1]->data, *y = n->out[0]->data;
	const float *bs = cc->bias ? in[2]->data : NULL;
	int64_t isz = I[0] * I[1] * I[2], osz = O[0] * O[1] * O[2], kk = K[0] * K[1] * K[2];
	err = 0;
	for (int64_t b = 0; b < cc->nb; b++)
		for (int64_t o = 0; o < cc->mo; o++)
			for (int64_t q = 0; q < osz; q++) {
				int64_t od = q / (O[1] * O[2]), oh = q / O[2] % O[1], ow = q % O[2];
				int64_t gi = o / mg;
				double acc = bs ? bs[o] : 0.0;
				for (int64_t ci = 0; ci < cg; ci++)
					for (int64_t t = 0; t < kk; t++) {
						int64_t kd = t / (K[1] * K[2]), kh = t / K[2] % K[1], kw = t % K[2];
						int64_t id = od * S[0] - PB[0] + kd * D[0];
						int64_t ih = oh * S[1] - PB[1] + kh * D[1];
						int64_t iw = ow * S[2] - PB[2] + kw * D[2];
						if (id < 0 || id >= I[0] || ih < 0 || ih >= I[1] || iw < 0 || iw >= I[2])
							continue;
						acc += (double)x[(b * cc->c + gi * cg + ci) * isz + (id * I[1] + ih) * I[2] + iw] *
						       w[(o * cg + ci) * kk + t];
					}
				double e = fabs(y[(b * cc->mo + o) * osz + q] - acc) / (1.0 + fabs(acc));
				if (!(e <= err))
					err = e;
			}
	if (!packed)
		err = 1;
	ctx_free(&f.c);
	return err;
}

static void test_conv_packed_vs_naive(void)
{
	static const ConvCase cases[] = {
		/* ns nb c mo g  in  k  s  d  pads begin, end  bias  packed */
		/* 3x3 pad 1, P = 13 * 19 = 247: the second pixel block starts mid-row */
		{2, 1, 3, 30, 1, {13, 19}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 1},
		/* the ToST stem shape 3x3/2, out 16x20 (stride-2 blocks of 16); mg 24 pads
		 * to 32: tr_conv_f32 */
		{2, 1, 3, 24, 1, {32, 40}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, 0},
		/* P = 17 * 19 = 323 (a large map): tr_conv_f32 */
		{2, 1, 5, 32, 1, {17, 19}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 0, 0},
		/* P = 20 * 18 = 360 with 40 channels (taps of 2 x 16 + 8): packed,
		 * in two pixel blocks */
		{2, 1, 40, 32, 1, {20, 18}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 1},
		/* P = 33 * 32 = 1056 > 1024 with 32 channels: tr_conv_f32 */
		{2, 1, 32, 32, 1, {33, 32}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 0, 0},
		/* groups 2, 5x3, stride 2, asymmetric pads, batch 2, no bias, mg 31 */
		{2, 2, 4, 62, 2, {13, 11}, {5, 3}, {2, 2}, {1, 1}, {2, 1}, {0, 2}, 0, 1},
		/* dilation 2, mg = 60 (not a multiple of 32) */
		{2, 1, 5, 60, 1, {12, 12}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {2, 2}, 1, 1},
		/* 1x1 stride 1 unpadded: x read in place, P = 255 */
		{2, 2, 16, 60, 2, {15, 17}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1, 1},
		/* 1x1 stride 2 (im2row), no bias */
		{2, 1, 8, 30, 1, {9, 10}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, 0, 1},
		/* kdim = 180 * 9 = 1620 > KC, P = 63, mg 58 */
		{2, 1, 180, 58, 1, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 1},
		/* kdim = 48 * 9 = 432, P = 63, mg 58 */
		{2, 1, 48, 58, 1, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 1},
		/* groups 2 with kdim = 100 * 4 = 400, mg = 29, asymmetric pads */
		{2, 2, 200, 58, 2, {6, 5}, {2, 2}, {1, 1}, {1, 1}, {1, 0}, {0, 1}, 0, 1},
		/* 1-D: k 4, stride 3, dilation 2, pads (1, 3), groups 2 */
		{1, 2, 6, 60, 2, {29}, {4}, {3}, {2}, {1}, {3}, 1, 1},
		/* 3-D: k 3x2x3, strides (1, 2, 1), asymmetric pads, batch 2 */
		{3, 2, 4, 31, 1, {5, 6, 7}, {3, 2, 3}, {1, 2, 1}, {1, 1, 1}, {1, 0, 2}, {0, 1, 1}, 1, 1},
		/* P = 1 (fewer pixels than any tile) */
		{2, 1, 4, 32, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1, 1},
		/* 1-D, dilation 3, stride 2, mg 5, no bias: tr_conv_f32 */
		{1, 1, 3, 5, 1, {40}, {3}, {2}, {3}, {4}, {1}, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double e = check_conv_packed(&cases[i], 11u + 3u * (unsigned)i);
		if (e > 2e-5)
			fprintf(stderr, "\n  packed conv case %zu: rel err %g\n", i, e);
		CU_ASSERT(e <= 2e-5);
	}
}

void register_linalg(void)
{
	CU_pSuite s = CU_add_suite("linalg", NULL, NULL);
	CU_add_test(s, "gemm vs naive, ragged sizes", test_gemm_sizes);
	CU_add_test(s, "gemm transA/transB/alpha/accumulate", test_gemm_transposed);
	CU_add_test(s, "gemm k = 0 and C broadcast", test_gemm_k0_and_bias);
	CU_add_test(s, "matmul batched broadcast", test_matmul_batched_broadcast);
	CU_add_test(s, "conv vs naive direct conv", test_conv_vs_naive);
	CU_add_test(s, "layernorm known values", test_layernorm_known);
	CU_add_test(s, "batchnorm known values", test_batchnorm_known);
	CU_add_test(s, "pooling known values", test_pool_known);
	CU_add_test(s, "shape: matmul broadcast, 1-D, error", test_shape_matmul);
	CU_add_test(s, "shape: conv groups/auto_pad, pool ceil", test_shape_conv_pool);
	CU_add_test(s, "lower+eval: matmul broadcast, gemm transA/C", test_lower_matmul_gemm);
	CU_add_test(s, "lower+eval: conv 1-D groups/bias, layernorm stats", test_lower_conv_layernorm);
	CU_add_test(s, "lower+eval: constant-weight conv vs naive, odd shapes", test_conv_packed_vs_naive);
}
