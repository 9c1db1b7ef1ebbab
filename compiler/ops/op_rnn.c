/*
 * op_rnn.c -- shape, lower and FLOP functions of the recurrent layers: RNN,
 * GRU and LSTM.  Kernels: runtime/rnn/rnn.h, one call per node.
 *
 * The kernel makes the input projections of all time steps in one GEMM, then
 * runs the steps, one recurrent GEMM per step over the batch rows (the
 * kernel's comment has the details).  What is known when the model is
 * compiled is settled here:
 *   - constant W and R are packed for the GEMM micro-kernel now, each where
 *     its product has 4 rows or more (TR_RNN_PACKS; `packed` tells the
 *     kernel), so a call packs nothing;
 *   - the activations become the runtime's TR_RNN_* kinds, each with its
 *     alpha and beta (consumed in order by the activations that take them,
 *     as ONNX Runtime reads them; defaults those of the ONNX operators);
 *   - missing optional inputs become constants: zero biases and peepholes,
 *     every sequence at full length.  Missing initial states do not (they
 *     would be as large as the state): the kernel starts from zeros when
 *     has_init is 0.
 * A stateful model (the state a graph input, the final state an output)
 * needs nothing more: its caller feeds Y_h back as the next call's
 * initial_h (README, "Stateful recurrent models").
 *
 * Refused, by name: element types other than f32, a direction, layout or
 * activation outside the ONNX spec, activation_alpha/beta values that no
 * activation takes, a clip that is not positive, an initial state or
 * peephole of the wrong shape.
 */
#include "tostc.h"
#include "rnn/rnn.h"

#include <ctype.h>
#include <string.h>

/* What differs between the three layers */
typedef struct {
	int gates;             /* G: blocks of H rows in W and R */
	int nact;              /* activations per direction */
	const char *dflt[3];   /* the default ones */
	KernelId kernel;
} RnnKind;

static const RnnKind rnn_kinds[3] = {
	{1, 1, {"Tanh"}, K_tr_rnn_f32},
	{3, 2, {"Sigmoid", "Tanh"}, K_tr_gru_f32},
	{4, 3, {"Sigmoid", "Tanh", "Tanh"}, K_tr_lstm_f32},
};

static const RnnKind *rnn_kind(const Node *n)
{
	return &rnn_kinds[n->op == OP_RNN ? 0 : n->op == OP_GRU ? 1 : 2];
}

/* The activations of the ONNX spec: the runtime's kind, whether they take
 * alpha and beta, and the defaults (required: none, the model must say) */
static const struct {
	const char *name;
	int kind;
	bool alpha, beta, required;
	float da, db;
} rnn_acts[] = {
	{"Relu", TR_RNN_RELU, false, false, false, 0.0f, 0.0f},
	{"Tanh", TR_RNN_TANH, false, false, false, 0.0f, 0.0f},
	{"Sigmoid", TR_RNN_SIGMOID, false, false, false, 0.0f, 0.0f},
	{"Affine", TR_RNN_AFFINE, true, true, true, 0.0f, 0.0f},
	{"LeakyRelu", TR_RNN_LEAKY_RELU, true, false, false, 0.01f, 0.0f},
	{"ThresholdedRelu", TR_RNN_THRESHOLDED_RELU, true, false, false, 1.0f, 0.0f},
	{"ScaledTanh", TR_RNN_SCALED_TANH, true, true, true, 0.0f, 0.0f},
	{"HardSigmoid", TR_RNN_HARD_SIGMOID, true, true, false, 0.2f, 0.5f},
	{"Elu", TR_RNN_ELU, true, false, false, 1.0f, 0.0f},
	{"Softsign", TR_RNN_SOFTSIGN, false, false, false, 0.0f, 0.0f},
	{"Softplus", TR_RNN_SOFTPLUS, false, false, false, 0.0f, 0.0f},
};
#define NACTS ((int)(sizeof rnn_acts / sizeof rnn_acts[0]))

/* a == b ignoring ASCII case (PyTorch writes "Tanh", others "tanh") */
static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

/*
 * The node's D * nact activations as runtime kinds in act[] and (alpha,
 * beta) pairs in ab[]: direction 0's, then direction 1's.  A list of nact
 * names serves both directions of a bidirectional layer when no alpha or
 * beta is given.
 */
static void rnn_activations(Graph *g, Node *n, const RnnKind *k, int D, int64_t *act, float *ab)
{
	const char *op = op_info[n->op].name;
	const Attr *at = attr_find(n, "activations");
	const char *const *names = k->dflt;
	int na = k->nact;
	if (at && at->kind != AT_STRINGS)
		node_error(g, n, "attribute activations must be a list of strings");
	if (at)
		na = at->n, names = at->strs;
	const float *alpha = NULL, *beta = NULL;
	int nal = attr_floats(n, "activation_alpha", &alpha);
	int nbe = attr_floats(n, "activation_beta", &beta);
	nal = nal < 0 ? 0 : nal;
	nbe = nbe < 0 ? 0 : nbe;
	if (na != D * k->nact && !(na == k->nact && nal == 0 && nbe == 0))
		node_error(g, n, "has %d activations; %s takes %d per direction (%d in all here)", na, op,
		           k->nact, D * k->nact);
	int ia = 0, ib = 0;
	for (int i = 0; i < D * k->nact; i++) {
		const char *name = names[i % na];
		int a = 0;
		while (a < NACTS && !same_name(name, rnn_acts[a].name))
			a++;
		if (a == NACTS)
			node_error(g, n, "activation '%s' is not supported; %s takes Relu, Tanh, Sigmoid, "
			           "Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, "
			           "Softsign and Softplus", text_msg(g->ctx, name), op);
		if (rnn_acts[a].required && (ia >= nal || ib >= nbe))
			node_error(g, n, "activation %s needs values in both activation_alpha and "
			           "activation_beta", rnn_acts[a].name);
		act[i] = rnn_acts[a].kind;
		ab[2 * i] = !rnn_acts[a].alpha ? 0.0f : ia < nal ? alpha[ia++] : rnn_acts[a].da;
		ab[2 * i + 1] = !rnn_acts[a].beta ? 0.0f : ib < nbe ? beta[ib++] : rnn_acts[a].db;
	}
	if (ia < nal || ib < nbe)
		node_error(g, n, "activation_alpha has %d values and activation_beta %d, but the "
		           "activations take %d and %d (in order, only those that use them)", nal, nbe,
		           ia, ib);
}

/* The sizes and options of a node, checked */
typedef struct {
	int64_t T, B, I, H, D;
	int direction;       /* 0 forward, 1 reverse, 2 bidirectional (the kernels' encoding) */
	int layout;
} RnnDims;

/* optional input i, or NULL when the node omits it */
static Tensor *rnn_opt(const Node *n, int i)
{
	return i < n->nin ? n->in[i] : NULL;
}

/* optional input i, when present, is f32 (or i32 for sequence_lens) of this shape */
static void rnn_need_shape(Graph *g, Node *n, int i, const char *what, DType dt, int rank,
                           const int64_t *dims)
{
	Tensor *t = rnn_opt(n, i);
	if (!t)
		return;
	need_dtype(g, n, i, 1u << dt);
	bool ok = t->rank == rank;
	for (int k = 0; ok && k < rank; k++)
		ok = t->dims[k] == dims[k];
	if (!ok) {
		char want[96] = "";
		for (int k = 0; k < rank; k++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", k ? ", " : "",
			         (long long)dims[k]);
		node_error(g, n, "input %s must have shape (%s), got %s", what, want,
		           tensor_shape_str(g->ctx, t));
	}
}

static RnnDims rnn_dims(Graph *g, Node *n, const RnnKind *k)
{
	RnnDims s;
	Tensor *x = n->in[0], *w = n->in[1], *r = n->in[2];
	for (int i = 0; i < 3; i++)
		need_dtype(g, n, i, 1u << DT_F32);
	if (x->rank != 3 || w->rank != 3 || r->rank != 3)
		node_error(g, n, "inputs X, W and R must be 3-D (got %s, %s and %s)",
		           tensor_shape_str(g->ctx, x), tensor_shape_str(g->ctx, w),
		           tensor_shape_str(g->ctx, r));
	int64_t layout = attr_int(n, "layout", 0);
	if (layout != 0 && layout != 1)
		node_error(g, n, "layout %lld is not 0 or 1", (long long)layout);
	const char *dir = attr_string(n, "direction", "forward");
	s.direction = strcmp(dir, "forward") == 0 ? 0 : strcmp(dir, "reverse") == 0 ? 1
	            : strcmp(dir, "bidirectional") == 0 ? 2 : -1;
	if (s.direction < 0)
		node_error(g, n, "direction '%s' is not forward, reverse or bidirectional",
		           text_msg(g->ctx, dir));
	s.layout = (int)layout;
	s.D = s.direction == 2 ? 2 : 1;
	s.T = x->dims[layout ? 1 : 0];
	s.B = x->dims[layout ? 0 : 1];
	s.I = x->dims[2];
	s.H = r->dims[2];
	int64_t hs = attr_int(n, "hidden_size", s.H);
	if (hs != s.H)
		node_error(g, n, "hidden_size %lld differs from R's last dimension, %s", (long long)hs,
		           tensor_shape_str(g->ctx, r));
	int64_t gh = k->gates * s.H;
	int64_t wd[3] = {s.D, gh, s.I}, rd[3] = {s.D, gh, s.H}, bd[2] = {s.D, 2 * gh};
	int64_t sd[3] = {s.D, s.B, s.H}, sd1[3] = {s.B, s.D, s.H}, ld[1] = {s.B};
	int64_t pd[2] = {s.D, 3 * s.H};
	rnn_need_shape(g, n, 1, "W", DT_F32, 3, wd);
	rnn_need_shape(g, n, 2, "R", DT_F32, 3, rd);
	rnn_need_shape(g, n, 3, "B", DT_F32, 2, bd);
	rnn_need_shape(g, n, 4, "sequence_lens", DT_I32, 1, ld);
	rnn_need_shape(g, n, 5, "initial_h", DT_F32, 3, layout ? sd1 : sd);
	rnn_need_shape(g, n, 6, "initial_c", DT_F32, 3, layout ? sd1 : sd);
	rnn_need_shape(g, n, 7, "P", DT_F32, 2, pd);
	return s;
}

void shape_rnn(Graph *g, Node *n)
{
	const RnnKind *k = rnn_kind(n);
	RnnDims s = rnn_dims(g, n, k);
	int64_t act[6];
	float ab[12];
	rnn_activations(g, n, k, (int)s.D, act, ab);
	const Attr *clip = attr_find(n, "clip");
	if (clip && !(attr_float(n, "clip", 0.0f) > 0.0f))
		node_error(g, n, "clip %g is not positive", (double)attr_float(n, "clip", 0.0f));
	int64_t flag = n->op == OP_GRU ? attr_int(n, "linear_before_reset", 0)
	             : n->op == OP_LSTM ? attr_int(n, "input_forget", 0) : 0;
	if (flag != 0 && flag != 1)
		node_error(g, n, "%s %lld is not 0 or 1",
		           n->op == OP_GRU ? "linear_before_reset" : "input_forget", (long long)flag);
	int64_t y0[4] = {s.T, s.D, s.B, s.H}, y1[4] = {s.B, s.T, s.D, s.H};
	int64_t h0[3] = {s.D, s.B, s.H}, h1[3] = {s.B, s.D, s.H};
	shape_set(n->out[0], DT_F32, 4, s.layout ? y1 : y0);
	for (int i = 1; i < n->nout; i++)
		shape_set(n->out[i], DT_F32, 3, s.layout ? h1 : h0);
}

/* A new constant for node n: zeros, or filled by the caller */
static Tensor *rnn_const(Graph *g, Node *n, const char *what, DType dt, int rank,
                         const int64_t *dims)
{
	return tensor_const(g, ctx_printf(g->ctx, "%s.%s%d", n->out[0]->name, what, g->ntensors), dt,
	                    rank, dims);
}

static bool rnn_is_const(Tensor *t)
{
	Tensor *r = tensor_root(t);
	return r->kind == TK_CONST && r->data;
}

void lower_rnn(Graph *g, Node *n)
{
	const RnnKind *k = rnn_kind(n);
	RnnDims s = rnn_dims(g, n, k);
	int64_t act[6], gh = k->gates * s.H, rows = s.T * s.B;
	float ab[12];
	rnn_activations(g, n, k, (int)s.D, act, ab);
	bool lstm = n->op == OP_LSTM, gru = n->op == OP_GRU;
	int lbr = gru && attr_int(n, "linear_before_reset", 0);
	Tensor *x = n->in[0], *w = n->in[1], *r = n->in[2];

	/* constant weights packed now, where the kernel's products use them packed */
	bool packed = rnn_is_const(w) && rnn_is_const(r);
	if (packed && TR_RNN_PACKS(rows))
		w = linalg_prepack(g, w, s.I, s.D * gh, 1);
	if (packed && TR_RNN_PACKS(s.B)) {
		int64_t dims[1] = {ctx_mul(g->ctx, s.D, tr_rnn_rpack_floats(k->gates, s.H, gru))};
		Tensor *rp = rnn_const(g, n, "R.packed", DT_F32, 1, dims);
		tr_rnn_pack_r(tensor_root(r)->data, rp->data, s.D, k->gates, s.H, gru);
		r = rp;
	}
	/* missing inputs: zero biases and peepholes, full lengths */
	int64_t bd[2] = {s.D, 2 * gh}, pd[2] = {s.D, 3 * s.H}, ld[1] = {s.B}, sd[3] = {s.D, s.B, s.H};
	Tensor *b = rnn_opt(n, 3) ? n->in[3] : rnn_const(g, n, "B0_", DT_F32, 2, bd);
	Tensor *lens = rnn_opt(n, 4);
	if (!lens) {
		lens = rnn_const(g, n, "lens", DT_I32, 1, ld);
		for (int64_t i = 0; i < s.B; i++)
			((int32_t *)lens->data)[i] = (int32_t)s.T;
	}
	Tensor *h0 = rnn_opt(n, 5), *c0 = lstm ? rnn_opt(n, 6) : NULL;
	bool has_init = h0 || c0;
	if (has_init && !h0)
		h0 = rnn_const(g, n, "h0_", DT_F32, 3, sd);
	if (lstm && has_init && !c0)
		c0 = rnn_const(g, n, "c0_", DT_F32, 3, sd);

	Call *c = call_new(g, n, k->kernel);
	call_in(c, x);
	call_in(c, w);
	call_in(c, r);
	call_in(c, b);
	call_in(c, lens);
	call_in(c, has_init ? h0 : x);   /* unread without has_init */
	if (lstm) {
		call_in(c, has_init ? c0 : x);
		call_in(c, rnn_opt(n, 7) ? n->in[7] : rnn_const(g, n, "P0_", DT_F32, 2, pd));
	}
	/* Y, Y_h (and Y_c): the node's outputs, or scratch for those it omits */
	int64_t state_bytes = ctx_mul(g->ctx, 4, s.D * s.B * s.H);
	for (int i = 0; i < (lstm ? 3 : 2); i++) {
		if (i < n->nout && n->out[i])
			call_out(c, n->out[i]);
		else
			call_scratch(c, i == 0 ? ctx_mul(g->ctx, state_bytes, s.T) : state_bytes);
	}
	TrRnn p = tr_rnn_setup(s.T, s.B, s.I, s.H, s.direction, s.layout, packed, k->gates, gru,
	                       lstm, gru && !lbr);
	int64_t pack = tr_gemm_pack_bytes(rows, s.I, s.D * gh);
	if (TR_RNN_PACKS(s.B) && tr_gemm_pack_bytes(s.B, s.H, gh) > pack)
		pack = tr_gemm_pack_bytes(s.B, s.H, gh);
	call_scratch(c, ctx_add(g->ctx, ctx_mul(g->ctx, 4, p.pack), pack));
	call_int(c, s.T);
	call_int(c, s.B);
	call_int(c, s.I);
	call_int(c, s.H);
	call_int(c, s.direction);
	call_int(c, s.layout);
	call_int(c, packed);
	call_int(c, has_init);
	if (gru)
		call_int(c, lbr);
	if (lstm)
		call_int(c, attr_int(n, "input_forget", 0));
	call_ints(g, c, act, (int)s.D * k->nact);
	call_floats(g, c, ab, 2 * (int)s.D * k->nact);
	call_float(c, attr_find(n, "clip") ? attr_float(n, "clip", 0.0f) : HUGE_VALF);
}

/* per step and direction: the two products' multiply-adds, and about four
 * operations per gate value */
int64_t flops_rnn(const Node *n)
{
	const Tensor *x = n->in[0], *r = n->in[2];
	int layout = attr_int(n, "layout", 0) != 0;
	int64_t T = x->dims[layout ? 1 : 0], B = x->dims[layout ? 0 : 1], I = x->dims[2];
	int64_t D = r->dims[0], gh = r->dims[1], H = r->dims[2];
	return T * B * D * gh * (2 * I + 2 * H + 4);
}
