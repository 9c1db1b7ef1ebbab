/*
 * test_tssa.c -- the fused TSSA kernels (runtime/tssa/tssa.h) against hand-
 * computed values, a direct double-precision transcription of the ToST
 * formulas, and the invariants: pi sums to 1 over heads, vision TSSA is
 * equivariant to permuting tokens, causal TSSA never looks ahead.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tssa/tssa.h"

#define CHECK_NEAR(a, b, tol)                                                            \
	do {                                                                                 \
		double a_ = (a), b_ = (b);                                                       \
		if (!(fabs(a_ - b_) <= (tol) * (1.0 + fabs(b_))))                                \
			printf("\n  %s:%d: %s = %.9g, expected %.9g\n", __FILE__, __LINE__, #a, a_, b_); \
		CU_ASSERT(fabs(a_ - b_) <= (tol) * (1.0 + fabs(b_)));                            \
	} while (0)

enum { MAXB = 2, MAXN = 40, MAXK = 4, MAXP = 20, MAXD = MAXK * MAXP };

/* Deterministic pseudo-random floats in [-1.5, 1.5]. */
static float rnd(unsigned *s)
{
	*s = *s * 1664525u + 1013904223u;
	return ((float)(*s >> 8) / (float)(1u << 24)) * 3.0f - 1.5f;
}

/* Vision TSSA from the formulas in TOST.md, in double; pi out (B, N, K). */
static void ref_tssa(const float *w, const float *temp, double *y, double *pi, int B, int N,
                     int K, int p)
{
	int d = K * p;
	for (int b = 0; b < B; b++) {
		double c[MAXD], m[MAXD], P[MAXK];
		for (int i = 0; i < d; i++) {
			double s = 0;
			for (int n = 0; n < N; n++)
				s += (double)w[(b * N + n) * d + i] * w[(b * N + n) * d + i];
			c[i] = fmax(sqrt(s), 1e-12);
		}
		for (int n = 0; n < N; n++) {
			double z[MAXK], zs = 0;
			for (int k = 0; k < K; k++) {
				double s = 0;
				for (int j = 0; j < p; j++) {
					double u = w[(b * N + n) * d + k * p + j] / c[k * p + j];
					s += u * u;
				}
				z[k] = exp(temp[k] * s);
				zs += z[k];
			}
			for (int k = 0; k < K; k++)
				pi[(b * N + n) * K + k] = z[k] / zs;
		}
		for (int k = 0; k < K; k++) {
			P[k] = 0;
			for (int n = 0; n < N; n++)
				P[k] += pi[(b * N + n) * K + k];
			for (int j = 0; j < p; j++) {
				double s = 0;
				for (int n = 0; n < N; n++) {
					double v = w[(b * N + n) * d + k * p + j];
					s += pi[(b * N + n) * K + k] * v * v;
				}
				m[k * p + j] = s / (P[k] + 1e-8);
			}
		}
		for (int n = 0; n < N; n++)
			for (int k = 0; k < K; k++)
				for (int j = 0; j < p; j++) {
					int i = (b * N + n) * d + k * p + j;
					y[i] = -pi[(b * N + n) * K + k] * w[i] / (1 + m[k * p + j]);
				}
	}
}

/* Causal TSSA by explicit prefix sums (the CumSum form), in double. */
static void ref_causal(const float *w, const float *temp, const float *db, double *y, int B,
                       int T, int K, int p, int L)
{
	static double pi[MAXB * MAXN * MAXK];
	int d = K * p;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			double z[MAXK], zs = 0;
			for (int k = 0; k < K; k++) {
				double r = 0;
				for (int j = 0; j < p; j++) {
					double D = 0, q = w[(b * T + t) * d + k * p + j];
					for (int u = 0; u <= t; u++) {
						double v = w[(b * T + u) * d + k * p + j];
						D += v * v;
					}
					r += q * q / fmax(D, 1e-12) + db[k * L + t];
				}
				z[k] = exp(temp[k] * r);
				zs += z[k];
			}
			for (int k = 0; k < K; k++)
				pi[(b * T + t) * K + k] = z[k] / zs;
			for (int k = 0; k < K; k++)
				for (int j = 0; j < p; j++) {
					double sp = 0, spw = 0;
					for (int u = 0; u <= t; u++) {
						double v = w[(b * T + u) * d + k * p + j];
						sp += pi[(b * T + u) * K + k];
						spw += pi[(b * T + u) * K + k] * v * v;
					}
					int i = (b * T + t) * d + k * p + j;
					y[i] = -pi[(b * T + t) * K + k] * w[i] / (1 + spw / (sp + 1e-8));
				}
		}
}

static void test_tssa_hand(void)
{
	/* N = 1, K = 2, p = 1: every normalised square is 1, so
	 * pi = softmax(temp) = (1/4, 3/4) for temp = (0, ln 3);
	 * m = w^2 (up to 1e-8), y = -pi w / (1 + w^2). */
	float w[2] = {1.0f, 2.0f}, temp[2] = {0.0f, logf(3.0f)}, y[2], sc[16];
	tr_tssa_f32(w, temp, y, 1, 1, 2, 1, 1e-12f, 1e-8f, sc);
	CHECK_NEAR(y[0], -0.125, 1e-6);
	CHECK_NEAR(y[1], -0.3, 1e-6);
	/* an all-zero column: the clamp keeps it finite and y = 0 */
	float w0[2] = {0.0f, 0.0f};
	tr_tssa_f32(w0, temp, y, 1, 1, 2, 1, 1e-12f, 1e-8f, sc);
	CU_ASSERT(y[0] == 0.0f && y[1] == 0.0f);
}

static void test_causal_hand(void)
{
	/* K = 1, p = 1: pi = 1; y_t = -w_t / (1 + mean_{u<=t} w_u^2). */
	float w[3] = {1.0f, 3.0f, 2.0f}, temp[1] = {0.7f}, db[4] = {0.5f, -1, 2, 0}, y[3], sc[16];
	tr_causal_tssa_f32(w, temp, db, y, 1, 3, 1, 1, 4, 1e-12f, 1e-8f, sc);
	CHECK_NEAR(y[0], -1.0 / 2.0, 1e-6);
	CHECK_NEAR(y[1], -3.0 / 6.0, 1e-6);
	CHECK_NEAR(y[2], -2.0 / (1.0 + 14.0 / 3.0), 1e-6);
}

static void fill(float *a, int n, unsigned seed)
{
	unsigned s = seed;
	for (int i = 0; i < n; i++)
		a[i] = rnd(&s);
}

static void test_tssa_vs_formula(void)
{
	static float w[MAXB * MAXN * MAXD], y[MAXB * MAXN * MAXD];
	static double yr[MAXB * MAXN * MAXD], pi[MAXB * MAXN * MAXK];
	float temp[MAXK] = {0.6f, 1.3f, -0.4f, 2.0f}, sc[2 * MAXD + 3 * MAXK];
	int shapes[][4] = {{1, 1, 1, 1}, {1, 7, 4, 6}, {2, 40, 3, 5}, {2, 3, 4, 1}, {1, 9, 2, 8}, {2, 13, 3, 13}, {1, 40, 4, 20}};
	for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
		int B = shapes[s][0], N = shapes[s][1], K = shapes[s][2], p = shapes[s][3];
		double err = 0, mx = 0;
		fill(w, B * N * K * p, 7u + s);
		tr_tssa_f32(w, temp, y, B, N, K, p, 1e-12f, 1e-8f, sc);
		ref_tssa(w, temp, yr, pi, B, N, K, p);
		for (int i = 0; i < B * N * K * p; i++) {
			err = fmax(err, fabs(y[i] - yr[i]));
			mx = fmax(mx, fabs(yr[i]));
		}
		CU_ASSERT(mx > 0.01);
		CHECK_NEAR(err / mx, 0.0, 1e-5);
	}
}

/* pi is not an output, but it is recoverable: q = -y / w = pi / (1 + m) per
 * (n, k, j), m = sum_n q w^2 / sum_n q (the (1 + m) factor cancels, up to
 * eps_pi = 0), so pi = q (1 + m) must sum to 1 over heads for every token. */
static void test_tssa_pi_sums_to_one(void)
{
	enum { N = 9, K = 4, p = 3, d = K * p };
	float w[N * d], y[N * d], temp[K] = {1.5f, 0.2f, 0.9f, -0.7f}, sc[2 * d + 3 * K];
	double m[d];
	fill(w, N * d, 99u);
	for (int i = 0; i < N * d; i++)
		if (fabsf(w[i]) < 0.05f)
			w[i] = 0.5f;
	tr_tssa_f32(w, temp, y, 1, N, K, p, 1e-12f, 0.0f, sc);
	for (int i = 0; i < d; i++) {
		double a = 0, b = 0;
		for (int n = 0; n < N; n++) {
			double q = -y[n * d + i] / w[n * d + i];
			a += q * w[n * d + i] * w[n * d + i];
			b += q;
		}
		m[i] = a / b;
	}
	for (int n = 0; n < N; n++) {
		for (int j = 0; j < p; j++) {
			double sum = 0;
			for (int k = 0; k < K; k++) {
				double q = -y[n * d + k * p + j] / w[n * d + k * p + j];
				CU_ASSERT(q > 0.0);
				sum += q * (1 + m[k * p + j]);
			}
			CHECK_NEAR(sum, 1.0, 1e-5);
		}
	}
}

static void test_tssa_permutation(void)
{
	enum { N = 11, K = 3, p = 4, d = K * p };
	float w[N * d], wp[N * d], y[N * d], yp[N * d], temp[K] = {0.8f, 1.7f, 1.1f};
	float sc[2 * d + 3 * K];
	int perm[N];
	fill(w, N * d, 5u);
	for (int n = 0; n < N; n++)
		perm[n] = (n * 7 + 3) % N;  /* 7 is invertible mod 11 */
	for (int n = 0; n < N; n++)
		memcpy(wp + n * d, w + perm[n] * d, sizeof(float) * d);
	tr_tssa_f32(w, temp, y, 1, N, K, p, 1e-12f, 1e-8f, sc);
	tr_tssa_f32(wp, temp, yp, 1, N, K, p, 1e-12f, 1e-8f, sc);
	for (int n = 0; n < N; n++)
		for (int i = 0; i < d; i++)
			CHECK_NEAR(yp[n * d + i], y[perm[n] * d + i], 1e-5);
}

static void test_causal_vs_formula(void)
{
	static float w[MAXB * MAXN * MAXD], y[MAXB * MAXN * MAXD], db[MAXK * (MAXN + 5)];
	static double yr[MAXB * MAXN * MAXD];
	float temp[MAXK] = {0.6f, 1.3f, -0.4f, 2.0f}, sc[2 * MAXD + 2 * MAXK + MAXP];
	int shapes[][4] = {{1, 1, 1, 1}, {1, 7, 4, 6}, {2, 40, 3, 5}, {2, 3, 4, 1}, {1, 9, 2, 8}, {2, 13, 3, 13}, {1, 40, 4, 20}};
	for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
		int B = shapes[s][0], T = shapes[s][1], K = shapes[s][2], p = shapes[s][3];
		int L = T + 5;
		double err = 0, mx = 0;
		fill(w, B * T * K * p, 17u + s);
		fill(db, K * L, 3u + s);
		tr_causal_tssa_f32(w, temp, db, y, B, T, K, p, L, 1e-12f, 1e-8f, sc);
		ref_causal(w, temp, db, yr, B, T, K, p, L);
		for (int i = 0; i < B * T * K * p; i++) {
			err = fmax(err, fabs(y[i] - yr[i]));
			mx = fmax(mx, fabs(yr[i]));
		}
		CU_ASSERT(mx > 0.01);
		CHECK_NEAR(err / mx, 0.0, 1e-5);
	}
}

static void test_causal_no_lookahead(void)
{
	enum { T = 20, K = 2, p = 3, d = K * p, CUT = 8 };
	float w[T * d], y1[T * d], y2[T * d], temp[K] = {1.2f, 0.4f}, db[K * T], sc[2 * d + 2 * K + p];
	fill(w, T * d, 41u);
	fill(db, K * T, 43u);
	tr_causal_tssa_f32(w, temp, db, y1, 1, T, K, p, T, 1e-12f, 1e-8f, sc);
	for (int i = CUT * d; i < T * d; i++)
		w[i] = 10.0f * w[i] + 1.0f;
	tr_causal_tssa_f32(w, temp, db, y2, 1, T, K, p, T, 1e-12f, 1e-8f, sc);
	CU_ASSERT(memcmp(y1, y2, sizeof(float) * CUT * d) == 0);
	CU_ASSERT(memcmp(y1 + CUT * d, y2 + CUT * d, sizeof(float) * (T - CUT) * d) != 0);
}


/* ---- the fusion pass on hand-built IR graphs ---- */

#include "tostc.h"

typedef struct {
	Graph *g;
	int ntmp;
} Builder;

static Tensor *cf(Builder *b, float v)
{
	int64_t d[1] = {1};
	Tensor *t = tensor_const(b->g, ctx_printf(b->g->ctx, "c%d", b->ntmp++), DT_F32, 0, d);
	*(float *)t->data = v;
	return t;
}

static Tensor *ci(Builder *b, int n, const int64_t *v)
{
	int64_t d[1] = {n};
	Tensor *t = tensor_const(b->g, ctx_printf(b->g->ctx, "c%d", b->ntmp++), DT_I64, 1, d);
	memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	return t;
}

static Node *last_node;

static Tensor *op(Builder *b, OpKind k, Tensor *x, Tensor *y)
{
	Node *n = node_new(b->g, k, ctx_printf(b->g->ctx, "n%d", b->ntmp), y ? 2 : 1, 1);
	Tensor *o = tensor_new(b->g, ctx_printf(b->g->ctx, "t%d", b->ntmp++), TK_VALUE, DT_UNDEF, 0,
	                       NULL);
	n->in[0] = x;
	if (y)
		n->in[1] = y;
	n->out[0] = o;
	n->index = b->g->nnodes;
	o->producer = n;
	graph_add_node(b->g, n);
	last_node = n;
	return o;
}

static Tensor *transpose(Builder *b, Tensor *x, int r, const int64_t *perm)
{
	Tensor *o = op(b, OP_TRANSPOSE, x, NULL);
	Attr *a = node_add_attr(b->g, last_node, "perm", AT_INTS);
	a->ints = ctx_alloc(b->g->ctx, sizeof(int64_t) * (size_t)r);
	memcpy(a->ints, perm, sizeof(int64_t) * (size_t)r);
	a->n = r;
	return o;
}

static Tensor *reduce(Builder *b, OpKind k, Tensor *x, int64_t axis, int keep)
{
	Tensor *o;
	if (k == OP_REDUCE_SUM) {
		o = op(b, k, x, ci(b, 1, &axis));
	} else {
		o = op(b, k, x, NULL);
		Attr *a = node_add_attr(b->g, last_node, "axes", AT_INTS);
		a->ints = ctx_alloc(b->g->ctx, sizeof(int64_t));
		a->ints[0] = axis;
		a->n = 1;
	}
	node_add_attr(b->g, last_node, "keepdims", AT_INT)->i = keep;
	return o;
}

enum { MUT_NONE, MUT_TOKEN_SOFTMAX, MUT_PI_ESCAPES, MUT_NO_NEG, MUT_TEMP_PER_TOKEN };

/* The official vision TSSA as PyTorch 1.13 exports it at opset 17, B=2 N=5 K=2 p=3. */
static Graph *official_tssa(Ctx *c, int mut)
{
	Builder b = {graph_new(c), 0};
	Graph *g = b.g;
	int64_t wd[3] = {2, 5, 6}, split[4] = {2, 5, 2, 3}, merge[3] = {2, 5, 6};
	int64_t p0213[4] = {0, 2, 1, 3}, tempd[2] = {2, 1}, tokd[2] = {1, 5}, ax;
	g->opset = 17;
	Tensor *w = tensor_new(g, "w", TK_INPUT, DT_F32, 3, wd);
	g->inputs = ctx_alloc(c, sizeof(Tensor *));
	g->inputs[g->ninputs++] = w;
	Tensor *temp = tensor_const(g, "temp", DT_F32, 2, mut == MUT_TEMP_PER_TOKEN ? tokd : tempd);
	for (int i = 0; i < (mut == MUT_TEMP_PER_TOKEN ? 5 : 2); i++)
		((float *)temp->data)[i] = 0.5f + (float)i;

	Tensor *w4 = transpose(&b, op(&b, OP_RESHAPE, w, ci(&b, 4, split)), 4, p0213);
	Tensor *nrm = reduce(&b, OP_REDUCE_L2, w4, -2, 1);
	Tensor *cl = op(&b, OP_CLIP, nrm, cf(&b, 1e-12f));
	Tensor *wn = op(&b, OP_DIV, w4, cl);
	Tensor *s = reduce(&b, OP_REDUCE_SUM, op(&b, OP_POW, wn, cf(&b, 2.0f)), -1, 0);
	Tensor *pi = op(&b, OP_SOFTMAX, op(&b, OP_MUL, s, temp), NULL);
	node_add_attr(g, last_node, "axis", AT_INT)->i = mut == MUT_TOKEN_SOFTMAX ? 2 : 1;
	Tensor *den = op(&b, OP_ADD, reduce(&b, OP_REDUCE_SUM, pi, -1, 1), cf(&b, 1e-8f));
	ax = -2;
	Tensor *pn = op(&b, OP_UNSQUEEZE, op(&b, OP_DIV, pi, den), ci(&b, 1, &ax));
	Tensor *m = op(&b, OP_MATMUL, pn, op(&b, OP_POW, w4, cf(&b, 2.0f)));
	Tensor *att = op(&b, OP_MUL, op(&b, OP_RECIPROCAL, op(&b, OP_ADD, m, cf(&b, 1.0f)), NULL),
	                 cf(&b, 1.0f));
	ax = -1;
	Tensor *wp = op(&b, OP_MUL, w4, op(&b, OP_UNSQUEEZE, pi, ci(&b, 1, &ax)));
	Tensor *o4 = op(&b, OP_MUL, wp, att);
	if (mut != MUT_NO_NEG)
		o4 = op(&b, OP_NEG, o4, NULL);
	Tensor *y = op(&b, OP_RESHAPE, transpose(&b, o4, 4, p0213), ci(&b, 3, merge));
	g->outputs = ctx_alloc(c, sizeof(Tensor *) * 2);
	g->outputs[g->noutputs++] = y;
	y->is_output = true;
	if (mut == MUT_PI_ESCAPES) {
		g->outputs[g->noutputs++] = pi;
		pi->is_output = true;
	}
	return g;
}

static int count_op(Graph *g, OpKind k)
{
	int n = 0;
	for (int i = 0; i < g->nnodes; i++)
		n += !g->nodes[i]->dead && g->nodes[i]->op == k;
	return n;
}

static void test_fuse_official_graph(void)
{
	int muts[] = {MUT_NONE, MUT_TOKEN_SOFTMAX, MUT_PI_ESCAPES, MUT_NO_NEG, MUT_TEMP_PER_TOKEN};
	for (int i = 0; i < 5; i++) {
		Ctx c;
		jmp_buf jb;
		ctx_init(&c, "tssa.onnx");
		c.jmp = &jb;
		if (setjmp(jb) != 0) {
			printf("\n  mutation %d: %s\n", muts[i], c.errmsg);
			CU_FAIL("compile error");
			ctx_free(&c);
			continue;
		}
		Graph *g = official_tssa(&c, muts[i]);
		int before = g->nnodes;
		shape_infer(g);
		fold_constants(g);
		dce(g);
		fuse_tssa(g);
		ir_check(g, "fuse_tssa");
		if (muts[i] == MUT_NONE) {
			CU_ASSERT_EQUAL(g->nnodes, 1);
			CU_ASSERT_EQUAL(count_op(g, OP_TSSA), 1);
			Node *f = g->nodes[0];
			CU_ASSERT_EQUAL(attr_int(f, "heads", 0), 2);
			CU_ASSERT_EQUAL(attr_float(f, "eps_norm", 0), 1e-12f);
			CU_ASSERT_EQUAL(attr_float(f, "eps_pi", 0), 1e-8f);
			CU_ASSERT_STRING_EQUAL(f->in[0]->name, "w");
			CU_ASSERT(f->out[0]->is_output && f->out[0]->producer == f);
			CU_ASSERT_EQUAL(((float *)f->in[1]->data)[1], 1.5f);
			CU_ASSERT_PTR_NOT_NULL(f->fused_from);
		} else {
			/* not TSSA, or TSSA whose pi is needed elsewhere: untouched */
			CU_ASSERT_EQUAL(count_op(g, OP_TSSA), 0);
			CU_ASSERT_EQUAL(g->nnodes, before);
		}
		ctx_free(&c);
	}
}

/* ---- fuse_common on hand-built graphs, evaluated node by node ---- */

enum { G_LN, G_LN_AXIS1, G_GELU, G_GELU_06, G_MMB, G_MMB_ROWBIAS };

static float *cfv(Builder *b, Tensor **t, int rank, const int64_t *dims, unsigned seed)
{
	*t = tensor_const(b->g, ctx_printf(b->g->ctx, "c%d", b->ntmp++), DT_F32, rank, dims);
	fill((float *)(*t)->data, (int)tensor_nelem(*t), seed);
	return (float *)(*t)->data;
}

static Graph *common_graph(Ctx *c, int kind)
{
	Builder b = {graph_new(c), 0};
	Graph *g = b.g;
	int64_t xd[3] = {2, 3, 8}, d8[1] = {8}, wd[2] = {8, 5}, d5[1] = {5}, rb[2] = {3, 5};
	Tensor *x = tensor_new(g, "x", TK_INPUT, DT_F32, 3, xd), *y, *p1, *p2;
	g->opset = 13;
	g->inputs = ctx_alloc(c, sizeof(Tensor *));
	g->inputs[g->ninputs++] = x;
	switch (kind) {
	case G_LN:
	case G_LN_AXIS1: {
		int64_t ax = kind == G_LN ? -1 : 1;
		Tensor *mu = op(&b, OP_REDUCE_MEAN, x, NULL);
		Attr *a = node_add_attr(g, last_node, "axes", AT_INTS);
		a->ints = ctx_alloc(c, sizeof(int64_t));
		a->ints[0] = ax;
		a->n = 1;
		Tensor *dv = op(&b, OP_SUB, x, mu);
		Tensor *v = op(&b, OP_REDUCE_MEAN, op(&b, OP_POW, dv, cf(&b, 2.0f)), NULL);
		a = node_add_attr(g, last_node, "axes", AT_INTS);
		a->ints = ctx_alloc(c, sizeof(int64_t));
		a->ints[0] = ax;
		a->n = 1;
		Tensor *sd = op(&b, OP_SQRT, op(&b, OP_ADD, v, cf(&b, 1e-5f)), NULL);
		cfv(&b, &p1, 1, d8, 3);
		cfv(&b, &p2, 1, d8, 4);
		y = op(&b, OP_ADD, p2, op(&b, OP_MUL, op(&b, OP_DIV, dv, sd), p1));
		break;
	}
	case G_GELU:
	case G_GELU_06: {
		Tensor *e = op(&b, OP_ERF, op(&b, OP_DIV, x, cf(&b, 1.41421354f)), NULL);
		y = op(&b, OP_MUL, op(&b, OP_MUL, x, op(&b, OP_ADD, e, cf(&b, 1.0f))),
		       cf(&b, kind == G_GELU ? 0.5f : 0.6f));
		break;
	}
	default:
		cfv(&b, &p1, 2, wd, 5);
		cfv(&b, &p2, kind == G_MMB ? 1 : 2, kind == G_MMB ? d5 : rb, 6);
		y = op(&b, OP_ADD, p2, op(&b, OP_MATMUL, x, p1));
		break;
	}
	g->outputs = ctx_alloc(c, sizeof(Tensor *));
	g->outputs[g->noutputs++] = y;
	y->is_output = true;
	return g;
}

/* Run every live node with eval_node; returns the output's data. */
static const float *run_graph(Graph *g, const float *x)
{
	g->inputs[0]->data = (void *)x;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			eval_node(g, g->nodes[i]);
	return g->outputs[0]->data;
}

static void test_fuse_common_graphs(void)
{
	static const struct { int kind; OpKind want; int nodes; } cases[] = {
		{G_LN, OP_LAYER_NORM, 1}, {G_LN_AXIS1, OP_COUNT, 9}, {G_GELU, OP_GELU, 1},
		{G_GELU_06, OP_COUNT, 5}, {G_MMB, OP_GEMM, 3}, {G_MMB_ROWBIAS, OP_COUNT, 2},
	};
	float x[48];
	fill(x, 48, 77u);
	for (volatile int i = 0; i < 6; i++) {   /* read after a longjmp */
		Ctx c1, c2;
		jmp_buf jb;
		ctx_init(&c1, "a.onnx");
		ctx_init(&c2, "b.onnx");
		c1.jmp = c2.jmp = &jb;
		if (setjmp(jb) != 0) {
			printf("\n  case %d: %s%s\n", i, c1.errmsg, c2.errmsg);
			CU_FAIL("compile error");
		} else {
			Graph *gf = common_graph(&c1, cases[i].kind), *gu = common_graph(&c2, cases[i].kind);
			shape_infer(gf);
			dce(gf);
			fuse_common(gf);
			ir_check(gf, "fuse_common");
			shape_infer(gu);
			dce(gu);
			if (gf->nnodes != cases[i].nodes)
				printf("\n  case %d: %d nodes, expected %d\n", i, gf->nnodes, cases[i].nodes);
			CU_ASSERT_EQUAL(gf->nnodes, cases[i].nodes);
			if (cases[i].want != OP_COUNT) {
				CU_ASSERT_EQUAL(count_op(gf, cases[i].want), 1);
				CU_ASSERT(gf->outputs[0]->producer->fused_from != NULL ||
				          gf->outputs[0]->producer->op == OP_RESHAPE);
			}
			const float *yf = run_graph(gf, x), *yu = run_graph(gu, x);
			int64_t n = tensor_nelem(gf->outputs[0]);
			CU_ASSERT_EQUAL(n, tensor_nelem(gu->outputs[0]));
			double err = 0;
			for (int64_t k = 0; k < n; k++)
				err = fmax(err, fabs(yf[k] - yu[k]) / (1.0 + fabs(yu[k])));
			CHECK_NEAR(err, 0.0, 2e-6);
		}
		ctx_free(&c1);
		ctx_free(&c2);
	}
}

void register_tssa(void)
{
	CU_pSuite s = CU_add_suite("tssa", NULL, NULL);
	CU_add_test(s, "vision TSSA, hand-computed", test_tssa_hand);
	CU_add_test(s, "causal TSSA, hand-computed", test_causal_hand);
	CU_add_test(s, "vision TSSA vs the formulas", test_tssa_vs_formula);
	CU_add_test(s, "vision TSSA: pi sums to 1", test_tssa_pi_sums_to_one);
	CU_add_test(s, "vision TSSA: token permutation equivariance", test_tssa_permutation);
	CU_add_test(s, "causal TSSA vs the CumSum form", test_causal_vs_formula);
	CU_add_test(s, "causal TSSA: no look-ahead", test_causal_no_lookahead);
	CU_add_test(s, "fuse_tssa: the official graph and four near misses", test_fuse_official_graph);
	CU_add_test(s, "fuse_common: LayerNorm, GELU, MatMul + bias and near misses",
	            test_fuse_common_graphs);
}
