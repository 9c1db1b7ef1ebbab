/*
 * test_rnn.c -- unit tests for the recurrent layers: the activations of
 * runtime/rnn/rnn.h against their formulas, RNN and LSTM nodes evaluated in
 * the compiler (eval_node) against values worked out by hand, and every
 * error the shape function of compiler/ops/op_rnn.c reports.  The layers
 * against a numpy reference and PyTorch: tests/models/test_rnn.py.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"
#include "rnn/rnn.h"

static void test_activations(void)
{
	static const float xs[6] = {-2.0f, -0.5f, 0.0f, 0.25f, 1.5f, 30.0f};
	for (int i = 0; i < 6; i++) {
		float x = xs[i], v;
		double e = x;
#define CHECK(kind, a, b, want)                                          \
	v = x;                                                           \
	tr_rnn_act(&v, 1, kind, a, b, HUGE_VALF);                        \
	CU_ASSERT_DOUBLE_EQUAL(v, want, 1e-6 * (1 + fabs(want)))
		CHECK(TR_RNN_RELU, 0, 0, e > 0 ? e : 0);
		CHECK(TR_RNN_TANH, 0, 0, tanh(e));
		CHECK(TR_RNN_SIGMOID, 0, 0, 1 / (1 + exp(-e)));
		CHECK(TR_RNN_AFFINE, 2.0f, -1.0f, 2 * e - 1);
		CHECK(TR_RNN_LEAKY_RELU, 0.1f, 0, e >= 0 ? e : 0.1f * e);
		CHECK(TR_RNN_THRESHOLDED_RELU, 0.25f, 0, e >= 0.25 ? e : 0);
		CHECK(TR_RNN_SCALED_TANH, 1.5f, 0.5f, 1.5 * tanh(0.5 * e));
		CHECK(TR_RNN_HARD_SIGMOID, 0.2f, 0.5f, fmin(fmax(0.2f * e + 0.5f, 0), 1));
		CHECK(TR_RNN_ELU, 0.7f, 0, e >= 0 ? e : 0.7f * (exp(e) - 1));
		CHECK(TR_RNN_SOFTSIGN, 0, 0, e / (1 + fabs(e)));
		CHECK(TR_RNN_SOFTPLUS, 0, 0, log1p(exp(e)));
#undef CHECK
	}
	/* sigmoid and tanh (tr_rnn_exp, not libm) on a sweep: relative error */
	enum { N = 40001 };
	static float sw[N], t[N], sg[N];
	for (int i = 0; i < N; i++)
		sw[i] = t[i] = sg[i] = -20.0f + 40.0f * (float)i / (N - 1) + (float)(i % 7) * 1e-4f;
	tr_rnn_act(t, N, TR_RNN_TANH, 0, 0, HUGE_VALF);
	tr_rnn_act(sg, N, TR_RNN_SIGMOID, 0, 0, HUGE_VALF);
	double et = 0, es = 0;
	for (int i = 0; i < N; i++) {
		double x = sw[i];
		et = fmax(et, fabs(t[i] - tanh(x)) / fabs(tanh(x) == 0 ? 1 : tanh(x)));
		es = fmax(es, fabs(sg[i] - 1 / (1 + exp(-x))) * (1 + exp(-x)));
	}
	CU_ASSERT(et < 1e-6);
	CU_ASSERT(es < 1e-6);
	float sp[6] = {0.0f, -0.0f, 1e-30f, INFINITY, -INFINITY, -100.0f};
	tr_rnn_act(sp, 6, TR_RNN_TANH, 0, 0, HUGE_VALF);
	CU_ASSERT(sp[0] == 0.0f && sp[1] == 0.0f && sp[2] == 1e-30f);
	CU_ASSERT(sp[3] == 1.0f && sp[4] == -1.0f && sp[5] == -1.0f);
	/* clip before the activation; NaN passes through */
	float v[3] = {-5.0f, 0.5f, NAN};
	tr_rnn_act(v, 3, TR_RNN_RELU, 0, 0, 1.0f);
	CU_ASSERT_EQUAL(v[0], 0.0f);
	CU_ASSERT_EQUAL(v[1], 0.5f);
	CU_ASSERT(isnan(v[2]));
	for (int k = TR_RNN_RELU; k <= TR_RNN_SOFTPLUS; k++) {
		float u = NAN;
		if (k == TR_RNN_THRESHOLDED_RELU)
			continue;   /* NaN >= alpha is false: 0, as ONNX's ThresholdedRelu */
		tr_rnn_act(&u, 1, k, 0.5f, 0.5f, HUGE_VALF);
		CU_ASSERT(isnan(u));
	}
	v[0] = 5.0f;
	tr_rnn_act(v, 1, TR_RNN_AFFINE, 1.0f, 0.0f, 2.0f);
	CU_ASSERT_EQUAL(v[0], 2.0f);
}

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
} Fixture;

static Tensor *const_f32(Graph *g, const char *name, int rank, const int64_t *dims,
                         const float *v)
{
	Tensor *t = tensor_const(g, name, DT_F32, rank, dims);
	memcpy(t->data, v, sizeof(float) * (size_t)tensor_nelem(t));
	return t;
}

static Node *mk_node(Graph *g, OpKind op, int nin, Tensor **in, int nout)
{
	Node *n = node_new(g, op, "n", nin, nout);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	for (int i = 0; i < nout; i++)
		n->out[i] = tensor_new(g, ctx_printf(g->ctx, "y%d", i), TK_VALUE, DT_UNDEF, 0, NULL);
	return n;
}

static void set_string(Graph *g, Node *n, const char *name, const char *s)
{
	Attr *a = node_add_attr(g, n, name, AT_STRING);
	a->s = s;
}

static void set_acts(Graph *g, Node *n, int k, const char **names)
{
	Attr *a = node_add_attr(g, n, "activations", AT_STRINGS);
	a->strs = names;
	a->n = k;
}

/* LSTM, H = I = 1, every weight 0.5, batch 2 with lengths 1 and 0: row 0
 * takes one step, row 1 none (its Y, Y_h, Y_c are 0) */
static void lstm_lengths(Graph *g)
{
	const int64_t dx[3] = {2, 2, 1}, dw[3] = {1, 4, 1}, dl[1] = {2};
	const float x[4] = {1, 3, 2, 4}, w[4] = {0.5f, 0.5f, 0.5f, 0.5f}, r[4] = {0};
	Tensor *lens = tensor_const(g, "lens", DT_I32, 1, dl);
	((int32_t *)lens->data)[0] = 1;
	((int32_t *)lens->data)[1] = 0;
	Tensor *in[5] = {const_f32(g, "lx", 3, dx, x), const_f32(g, "lw", 3, dw, w),
	                 const_f32(g, "lr", 3, dw, r), NULL, lens};
	Node *n = mk_node(g, OP_LSTM, 5, in, 3);
	shape_rnn(g, n);
	eval_node(g, n);
	const float *y = n->out[0]->data, *yh = n->out[1]->data, *yc = n->out[2]->data;
	double s = 1 / (1 + exp(-0.5)), c = s * tanh(0.5), h = s * tanh(c);
	/* y (T 2, D 1, B 2, H 1) */
	CU_ASSERT_DOUBLE_EQUAL(y[0], h, 1e-6);
	CU_ASSERT_EQUAL(y[1], 0.0f);
	CU_ASSERT_EQUAL(y[2], 0.0f);
	CU_ASSERT_EQUAL(y[3], 0.0f);
	CU_ASSERT_DOUBLE_EQUAL(yh[0], h, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(yc[0], c, 1e-6);
	CU_ASSERT_EQUAL(yh[1], 0.0f);
	CU_ASSERT_EQUAL(yc[1], 0.0f);
}

/* RNN, H = I = 1: h_t = relu(x_t + 0.5 h_(t-1) + 0.1 + 0.2) over x = 1, 2,
 * forward and reverse; then lstm_lengths */
static void test_eval(void)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb)) {
		FAIL_ERROR(&f.c);
		return;
	}
	f.g = graph_new(&f.c);
	f.g->opset = 14;
	const int64_t dx[3] = {2, 1, 1}, dw[3] = {1, 1, 1}, db[2] = {1, 2};
	const float x[2] = {1, 2}, w[1] = {1}, r[1] = {0.5f}, b[2] = {0.1f, 0.2f};
	Tensor *in[4] = {const_f32(f.g, "x", 3, dx, x), const_f32(f.g, "w", 3, dw, w),
	                 const_f32(f.g, "r", 3, dw, r), const_f32(f.g, "b", 2, db, b)};
	static const char *relu[1] = {"Relu"};
	for (int reverse = 0; reverse < 2; reverse++) {
		Node *n = mk_node(f.g, OP_RNN, 4, in, 2);
		set_acts(f.g, n, 1, relu);
		if (reverse)
			set_string(f.g, n, "direction", "reverse");
		shape_rnn(f.g, n);
		CU_ASSERT_EQUAL(n->out[0]->rank, 4);
		CU_ASSERT_EQUAL(n->out[0]->dims[0], 2);
		CU_ASSERT_EQUAL(n->out[1]->rank, 3);
		eval_node(f.g, n);
		const float *y = n->out[0]->data, *yh = n->out[1]->data;
		/* forward: 1.3, 2.95; reverse: t 1 first, 2.3, then 1 + 1.15 + 0.3 */
		CU_ASSERT_DOUBLE_EQUAL(y[0], reverse ? 2.45 : 1.3, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(y[1], reverse ? 2.3 : 2.95, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(yh[0], reverse ? 2.45 : 2.95, 1e-6);
	}
	lstm_lengths(f.g);
	ctx_free(&f.c);
}

/* ---- the shape function's errors ---- */

typedef void Edit(Graph *g, Node *n);

static void edit_rank(Graph *g, Node *n)
{
	const int64_t d[2] = {2, 3};
	n->in[0] = tensor_new(g, "x2", TK_INPUT, DT_F32, 2, d);
}
static void edit_layout(Graph *g, Node *n) { node_add_attr(g, n, "layout", AT_INT)->i = 2; }
static void edit_direction(Graph *g, Node *n) { set_string(g, n, "direction", "both"); }
static void edit_hidden(Graph *g, Node *n) { node_add_attr(g, n, "hidden_size", AT_INT)->i = 5; }
static void edit_w(Graph *g, Node *n)
{
	const int64_t d[3] = {1, 9, 2};
	n->in[1] = tensor_new(g, "w2", TK_INPUT, DT_F32, 3, d);
}
static void edit_lens(Graph *g, Node *n)
{
	const int64_t d[1] = {2};
	n->in[4] = tensor_new(g, "lens", TK_INPUT, DT_F32, 1, d);
}
static void edit_init(Graph *g, Node *n)
{
	const int64_t d[3] = {2, 2, 4};
	n->in[5] = tensor_new(g, "h0", TK_INPUT, DT_F32, 3, d);
}
static void edit_act_name(Graph *g, Node *n)
{
	static const char *v[2] = {"Sigmoid", "Gelu"};
	set_acts(g, n, 2, v);
}
static void edit_act_count(Graph *g, Node *n)
{
	static const char *v[3] = {"Sigmoid", "Tanh", "Tanh"};
	set_acts(g, n, 3, v);
}
static void edit_affine(Graph *g, Node *n)
{
	static const char *v[2] = {"Sigmoid", "Affine"};
	static float alpha[1] = {1.0f};
	set_acts(g, n, 2, v);
	Attr *a = node_add_attr(g, n, "activation_alpha", AT_FLOATS);
	a->floats = alpha;
	a->n = 1;
}
static void edit_leftover(Graph *g, Node *n)
{
	static float alpha[1] = {0.3f};
	Attr *a = node_add_attr(g, n, "activation_alpha", AT_FLOATS);
	a->floats = alpha;
	a->n = 1;
}
static void edit_clip(Graph *g, Node *n) { node_add_attr(g, n, "clip", AT_FLOAT)->f = -1.0f; }
static void edit_lbr(Graph *g, Node *n)
{
	node_add_attr(g, n, "linear_before_reset", AT_INT)->i = 2;
}
static void edit_dtype(Graph *g, Node *n)
{
	const int64_t d[3] = {3, 2, 2};
	n->in[0] = tensor_new(g, "xi", TK_INPUT, DT_I64, 3, d);
}

/* a GRU (T 3, B 2, I 2, H 4) edited by edit: shape_rnn must report want */
static void check_error(Edit *edit, const char *want)
{
	Fixture f;
	ctx_init(&f.c, "m.onnx");
	f.c.jmp = &f.jb;
	if (setjmp(f.jb) == 0) {
		f.g = graph_new(&f.c);
		f.g->opset = 14;
		const int64_t dx[3] = {3, 2, 2}, dw[3] = {1, 12, 2}, dr[3] = {1, 12, 4};
		Tensor *in[6] = {tensor_new(f.g, "x", TK_INPUT, DT_F32, 3, dx),
		                 tensor_new(f.g, "w", TK_INPUT, DT_F32, 3, dw),
		                 tensor_new(f.g, "r", TK_INPUT, DT_F32, 3, dr), NULL, NULL, NULL};
		Node *n = mk_node(f.g, OP_GRU, 6, in, 2);
		edit(f.g, n);
		shape_rnn(f.g, n);
		CU_FAIL("no error");
		fprintf(stderr, "\n  expected an error with '%s'\n", want);
	} else if (!strstr(f.c.errmsg, want)) {
		CU_FAIL("another error");
		fprintf(stderr, "\n  expected '%s', got: %s\n", want, f.c.errmsg);
	}
	ctx_free(&f.c);
}

static void test_shape_errors(void)
{
	check_error(edit_rank, "inputs X, W and R must be 3-D");
	check_error(edit_dtype, "this op supports f32");
	check_error(edit_layout, "layout 2 is not 0 or 1");
	check_error(edit_direction, "direction 'both' is not forward, reverse or bidirectional");
	check_error(edit_hidden, "hidden_size 5 differs from R's last dimension");
	check_error(edit_w, "input W must have shape (1, 12, 2)");
	check_error(edit_lens, "input 4 ('lens') has element type f32; this op supports i32");
	check_error(edit_init, "input initial_h must have shape (1, 2, 4)");
	check_error(edit_act_name, "activation 'Gelu' is not supported");
	check_error(edit_act_count, "has 3 activations; GRU takes 2 per direction");
	check_error(edit_affine, "activation Affine needs values in both activation_alpha and "
	                         "activation_beta");
	check_error(edit_leftover, "activation_alpha has 1 values and activation_beta 0, but the "
	                           "activations take 0 and 0");
	check_error(edit_clip, "clip -1 is not positive");
	check_error(edit_lbr, "linear_before_reset 2 is not 0 or 1");
}

void register_rnn(void)
{
	CU_pSuite s = CU_add_suite("rnn", NULL, NULL);
	CU_add_test(s, "activations vs formulas, clip", test_activations);
	CU_add_test(s, "lower+eval: RNN forward and reverse, LSTM lengths 1 and 0", test_eval);
	CU_add_test(s, "shape: every error", test_shape_errors);
}
