/*
 * stream.c -- the streaming (one token at a time) form of a causal model.
 *
 * A causal ToST language model computes, at position t, a function of tokens
 * 0..t only, and its one sequence-mixing op, causal TSSA, has an exact
 * streaming form with O(d) running statistics per layer (the kernel
 * tr_causal_tssa_step_f32; README.md, "Streaming generation").  So after the
 * pipeline, for a graph whose one input is token ids (B, T):
 *
 * 1. The proof (stream_check).  Every tensor gets its token axis: the input's
 *    last axis, then propagated node by node, op by op (rule()).  A node is
 *    accepted when it is token-wise -- elementwise, LayerNorm, MatMul/Gemm
 *    with constant weights, Gather (the token embedding), views and
 *    transposes that keep the token axis whole, reductions, softmaxes and
 *    concatenations along other axes -- or a CausalTSSA.  A constant that
 *    varies along the token axis where an elementwise op reads it (the folded
 *    positional embedding wpe[arange(T)]) is position-indexed: at step t it
 *    is its slice t.  Anything else (CumSum over tokens, a vision TSSA,
 *    MatMul of two token-dependent tensors, a Reshape that merges tokens) is
 *    rejected with the node and the reason.
 *
 * 2. The step graph (stream_build).  The same nodes with the token axis of
 *    every tensor set to 1: token ids (B, 1) and the position (an int64
 *    input) in; position-indexed constants become PositionSlice(table, pos);
 *    CausalTSSA becomes CausalTSSAStep(w, temp, denom_bias, pos), whose second
 *    output is the layer's running statistics, which live in the caller's
 *    state; Reshape/Expand get their shape constants rewritten.  Then shape
 *    inference, views, lowering and planning as for any graph.  Constants
 *    share their data with the full graph, so the emitter writes each weight
 *    once (emit_c.c), and emit_step.c writes NAME_reset / NAME_step /
 *    NAME_prefill around the step graph's entry point.
 *
 * The step API takes positions 0 .. T-1: T is the sequence length the full
 * graph was compiled for (compile with --dim seq=BLOCK for the whole block).
 */
#include "tostc.h"

#include <string.h>

typedef struct {
	Graph *g;
	StreamInfo *s;
	int *tax;            /* per tensor id: token axis; -1 token-independent */
	Tensor *input;       /* the token ids */
} Stream;

static bool is_elementwise(OpKind op)
{
	switch (op) {
	case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_POW: case OP_MIN: case OP_MAX:
	case OP_EQUAL: case OP_LESS: case OP_LESS_EQ: case OP_GREATER: case OP_GREATER_EQ:
	case OP_AND: case OP_OR: case OP_WHERE: case OP_NEG: case OP_ABS: case OP_SQRT:
	case OP_RECIPROCAL: case OP_EXP: case OP_LOG: case OP_ERF: case OP_TANH: case OP_SIGMOID:
	case OP_RELU: case OP_LEAKY_RELU: case OP_SIN: case OP_COS: case OP_FLOOR: case OP_CEIL:
	case OP_NOT: case OP_CLIP: case OP_CAST: case OP_GELU:
		return true;
	default:
		return false;
	}
}

/* The axis of token-independent input j of elementwise node n (or Concat)
 * that lines up with the output's token axis `ot`, when the input varies
 * along it (a position-indexed constant); -1 when it broadcasts. */
static int pos_axis(Stream *S, Node *n, int j, int ot)
{
	Tensor *x = n->in[j], *y = n->out[0];
	int ax;
	if (!x || S->s->T < 2)
		return -1;
	ax = ot - (y->rank - x->rank);
	if (ax < 0 || ax >= x->rank || x->dims[ax] != S->s->T)
		return -1;
	return ax;
}

/* The normalised axes a Reduce* node reduces over; -1 for "all axes". */
static int reduce_axes(Node *n, int64_t *axes)
{
	int r = n->in[0]->rank, na = 0;
	if (n->nin > 1 && n->in[1]) {
		Tensor *a = n->in[1];
		if (a->kind != TK_CONST)
			return -1;
		for (int64_t i = 0; i < tensor_nelem(a) && na < MAX_RANK; i++)
			axes[na++] = tensor_get_i(a, i);
	} else {
		const int64_t *v;
		int k = attr_ints(n, "axes", &v);
		for (int i = 0; i < k && na < MAX_RANK; i++)
			axes[na++] = v[i];
	}
	if (na == 0)
		return attr_int(n, "noop_with_empty_axes", 0) ? 0 : -1;
	for (int i = 0; i < na; i++)
		if (axes[i] < 0)
			axes[i] += r;
	return na;
}

/* Views keep the token axis whole when the elements before it and the
 * token axis itself reappear as a prefix and an axis of the output. */
static int view_axis(const Tensor *x, int a, const Tensor *y)
{
	int64_t pre = 1, q = 1;
	for (int i = 0; i < a; i++)
		pre *= x->dims[i];
	for (int b = 0; b < y->rank; b++) {
		if (q == pre && y->dims[b] == x->dims[a])
			return b;
		q *= y->dims[b];
		if (q > pre)
			break;
	}
	return -1;
}

#define REJECT(...) return ctx_printf(c, __VA_ARGS__)

/* Check node n and set its outputs' token axes; NULL when it is token-wise,
 * otherwise why not. */
static const char *rule(Stream *S, Node *n)
{
	Graph *g = S->g;
	Ctx *c = g->ctx;
	int *tax = S->tax, ndep = 0, t = -1, dep = -1;
	Tensor *y = n->out[0];

	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && tax[n->in[j]->id] >= 0)
			ndep++, dep = j, t = tax[n->in[j]->id];
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			tax[n->out[j]->id] = -1;
	if (ndep == 0)
		return NULL;   /* depends on no token: the same at every step */

	if (is_elementwise(n->op)) {
		int ot = -1;
		for (int j = 0; j < n->nin; j++) {
			Tensor *x = n->in[j];
			if (!x || tax[x->id] < 0)
				continue;
			int a = tax[x->id] + (y->rank - x->rank);
			if (ot >= 0 && a != ot)
				REJECT("inputs have their tokens along different axes (%d and %d)", ot, a);
			ot = a;
		}
		for (int j = 0; j < n->nin; j++) {
			Tensor *x = n->in[j];
			if (!x || tax[x->id] >= 0 || pos_axis(S, n, j, ot) < 0)
				continue;
			if (x->kind != TK_CONST)
				REJECT("input %d varies along the token axis but is neither a constant nor "
				       "computed from the tokens", j);
			if (x->dtype != DT_F32)
				REJECT("input %d is a %s constant that varies along the token axis (only f32 "
				       "position-indexed constants are supported)", j, dtype_name(x->dtype));
		}
		tax[y->id] = ot;
		return NULL;
	}
	switch (n->op) {
	case OP_CAUSAL_TSSA:
		if (dep != 0 || ndep != 1)
			REJECT("CausalTSSA's temp and denom_bias depend on the tokens");
		if (t != n->in[0]->rank - 2)
			REJECT("CausalTSSA's tokens are not its rows");
		tax[y->id] = t;
		return NULL;
	case OP_TSSA:
		REJECT("non-causal TSSA: every output token depends on every input token");
	case OP_CUMSUM: {
		Tensor *ax = n->in[1];
		if (dep != 0 || ndep != 1 || ax->kind != TK_CONST)
			REJECT("CumSum with a token-dependent axis");
		int64_t a = tensor_get_i(ax, 0);
		if (a < 0)
			a += n->in[0]->rank;
		if (a == t)
			REJECT("CumSum over the token axis (a prefix sum over tokens that is not part of "
			       "a fused causal TSSA)");
		tax[y->id] = t;
		return NULL;
	}
	case OP_SOFTMAX: case OP_LOG_SOFTMAX: {
		int r = n->in[0]->rank;
		int64_t a = attr_int(n, "axis", g->opset >= 13 ? -1 : 1);
		if (a < 0)
			a += r;
		if (g->opset < 13 ? t >= a : t == a)
			REJECT("%s over the token axis mixes tokens", op_info[n->op].name);
		tax[y->id] = t;
		return NULL;
	}
	case OP_REDUCE_SUM: case OP_REDUCE_MEAN: case OP_REDUCE_MAX: case OP_REDUCE_L2: {
		int64_t axes[MAX_RANK];
		int na = reduce_axes(n, axes), below = 0;
		if (dep != 0)
			REJECT("reduction axes depend on the tokens");
		if (na < 0)
			REJECT("%s over all axes mixes tokens", op_info[n->op].name);
		for (int i = 0; i < na; i++) {
			if (axes[i] == t)
				REJECT("%s over the token axis mixes tokens", op_info[n->op].name);
			below += axes[i] < t;
		}
		tax[y->id] = attr_int(n, "keepdims", 1) ? t : t - below;
		return NULL;
	}
	case OP_LAYER_NORM: {
		int r = n->in[0]->rank;
		int64_t a = attr_int(n, "axis", -1);
		if (a < 0)
			a += r;
		if (dep != 0 || ndep != 1)
			REJECT("LayerNormalization's scale or bias depends on the tokens");
		if (t >= a)
			REJECT("LayerNormalization normalises over the token axis");
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				tax[n->out[j]->id] = t;
		return NULL;
	}
	case OP_MLP_BLOCK:   /* fuse_mlp.c: row-wise over the last axis of x */
		if (dep != 0 || ndep != 1)
			REJECT("MlpBlock's weights depend on the tokens");
		if (t == n->in[0]->rank - 1)
			REJECT("MlpBlock mixes the token axis");
		tax[y->id] = t;
		return NULL;
	case OP_MATMUL: {
		Tensor *a = n->in[0], *b = n->in[1];
		if (ndep != 1 || dep != 0)
			REJECT("MatMul %s: mixes tokens", ndep == 2 ? "of two token-dependent inputs"
			                                            : "with token-dependent weights");
		if (a->rank < 2 || t == a->rank - 1)
			REJECT("MatMul sums over the token axis");
		int ot = b->rank == 1 ? t : t + (y->rank - a->rank);
		if (t < a->rank - 2 && b->rank > 2) {
			int bx = ot - (y->rank - b->rank);
			if (bx >= 0 && bx < b->rank - 2 && b->dims[bx] != 1)
				REJECT("MatMul weights vary along the token axis");
		}
		tax[y->id] = ot;
		return NULL;
	}
	case OP_GEMM_RESIDUAL:   /* fuse_epilogue.c: rows of a @ B' + c, plus r row by row */
		if (ndep != 2 || tax[n->in[0]->id] < 0 || tax[n->in[2]->id] < 0)
			REJECT("GemmResidual with token-dependent weights or bias");
		/* rows of a (all but its last axis, flattened) pair with rows of r: the
		 * token axis must be a row axis of both (the reshapes around a were
		 * checked where a was made) */
		t = tax[n->in[2]->id];
		if (tax[n->in[0]->id] == n->in[0]->rank - 1 || t == n->in[2]->rank - 1)
			REJECT("GemmResidual mixes the token axis");
		if (n->nin > 3 && n->in[3] && n->in[3]->rank == 2 && n->in[3]->dims[0] != 1)
			REJECT("GemmResidual bias varies along the token axis");
		tax[y->id] = t;
		return NULL;
	case OP_GEMM: {
		int64_t ta = attr_int(n, "transA", 0);
		if (ndep != 1 || dep != 0)
			REJECT("Gemm with token-dependent weights or bias");
		if (t != (ta ? 1 : 0))
			REJECT("Gemm sums over the token axis");
		if (n->nin > 2 && n->in[2] && n->in[2]->rank == 2 && n->in[2]->dims[0] != 1 &&
		    y->dims[0] > 1)
			REJECT("Gemm bias varies along the token axis");
		tax[y->id] = 0;
		return NULL;
	}
	case OP_GATHER: {
		Tensor *d = n->in[0], *ix = n->in[1];
		int64_t a = attr_int(n, "axis", 0);
		if (a < 0)
			a += d->rank;
		if (ndep == 2)
			REJECT("Gather of token-dependent data by token-dependent indices");
		if (dep == 1) {   /* embedding lookup of the tokens */
			tax[y->id] = (int)a + t;
			return NULL;
		}
		if (a == t)
			REJECT("Gather selects tokens (along the token axis)");
		tax[y->id] = t < a ? t : t + ix->rank - 1;
		return NULL;
	}
	case OP_TRANSPOSE: {
		const int64_t *perm;
		int np = attr_ints(n, "perm", &perm);
		if (np != y->rank) {   /* default: reverse */
			tax[y->id] = y->rank - 1 - t;
			return NULL;
		}
		for (int j = 0; j < np; j++)
			if (perm[j] == t)
				tax[y->id] = j;
		return NULL;
	}
	case OP_RESHAPE: case OP_FLATTEN: case OP_SQUEEZE: case OP_UNSQUEEZE: case OP_IDENTITY: {
		if (dep != 0)
			REJECT("the shape depends on the tokens");
		int b = view_axis(n->in[0], t, y);
		if (b < 0)
			REJECT("%s %s -> %s merges or splits the token axis %d", op_info[n->op].name,
			       tensor_shape_str(c, n->in[0]), tensor_shape_str(c, y), t);
		tax[y->id] = b;
		return NULL;
	}
	case OP_EXPAND:
		if (dep != 0)
			REJECT("the shape depends on the tokens");
		tax[y->id] = t + (y->rank - n->in[0]->rank);
		return NULL;
	case OP_CONCAT: case OP_SPLIT: {
		int r = n->in[0]->rank;
		int64_t a = attr_int(n, "axis", 0);
		if (a < 0)
			a += r;
		if (a == t)
			REJECT("%s along the token axis", op_info[n->op].name);
		for (int j = 0; j < n->nin; j++) {
			Tensor *x = n->in[j];
			if (!x || (n->op == OP_SPLIT && j > 0))
				continue;
			if (tax[x->id] >= 0 && tax[x->id] != t)
				REJECT("inputs have their tokens along different axes");
			if (tax[x->id] < 0 && S->s->T > 1 && x->dims[t] == S->s->T &&
			    (x->kind != TK_CONST || x->dtype != DT_F32))
				REJECT("input %d varies along the token axis but is not an f32 constant", j);
		}
		if (n->op == OP_SPLIT && dep != 0)
			REJECT("the split sizes depend on the tokens");
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				tax[n->out[j]->id] = t;
		return NULL;
	}
	case OP_SLICE: {
		int64_t axes[MAX_RANK];
		int na = 0;
		if (dep != 0)
			REJECT("the slice bounds depend on the tokens");
		if (g->opset < 10) {
			const int64_t *v, *st;
			int k = attr_ints(n, "axes", &v), ks = attr_ints(n, "starts", &st);
			for (int i = 0; i < (k >= 0 ? k : ks) && na < MAX_RANK; i++)
				axes[na++] = k >= 0 ? v[i] : i;
		} else if (n->nin > 3 && n->in[3]) {
			for (int64_t i = 0; i < tensor_nelem(n->in[3]) && na < MAX_RANK; i++)
				axes[na++] = tensor_get_i(n->in[3], i);
		} else {
			for (int64_t i = 0; i < tensor_nelem(n->in[1]) && na < MAX_RANK; i++)
				axes[na++] = i;
		}
		for (int i = 0; i < na; i++)
			if ((axes[i] < 0 ? axes[i] + y->rank : axes[i]) == t)
				REJECT("Slice along the token axis selects tokens");
		tax[y->id] = t;
		return NULL;
	}
	default:
		REJECT("%s is not known to be token-wise", op_info[n->op].name);
	}
}

static const char *node_desc(Graph *g, const Node *n)
{
	if (n->loc.file)
		return ctx_printf(g->ctx, "%s:%d:%d (%s)", n->loc.file, n->loc.line, n->loc.col,
		                  op_info[n->op].name);
	return ctx_printf(g->ctx, "node '%s' (%s, #%d)", text_msg(g->ctx, n->name), n->src_op,
	                  n->index);
}

static bool check(Stream *S)
{
	Graph *g = S->g;
	StreamInfo *s = S->s;
	Ctx *c = g->ctx;
	Tensor *in;

	memset(s, 0, sizeof *s);
	S->tax = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	for (int i = 0; i < g->ntensors; i++)
		S->tax[i] = -1;
	if (g->ninputs != 1) {
		s->why = ctx_printf(c, "the model has %d inputs; the step API needs exactly one, "
		                    "token ids (B, T)", g->ninputs);
		return false;
	}
	in = S->input = g->inputs[0];
	if ((in->dtype != DT_I64 && in->dtype != DT_I32) || in->rank < 1 || in->rank > 2) {
		s->why = ctx_printf(c, "input '%s' is %s; the step API needs token ids (B, T) or (T), "
		                    "int64 or int32", text_msg(c, in->name), tensor_shape_str(c, in));
		return false;
	}
	S->tax[in->id] = in->rank - 1;
	s->T = in->dims[in->rank - 1];
	s->B = in->rank == 2 ? in->dims[0] : 1;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		const char *why;
		if (n->dead)
			continue;
		if ((why = rule(S, n))) {
			s->bad = n;
			s->why = ctx_printf(c, "%s: %s", node_desc(g, n), why);
			return false;
		}
		s->ntssa += n->op == OP_CAUSAL_TSSA;
	}
	if (s->ntssa > STREAM_MAX_STATE) {
		s->why = ctx_printf(c, "%d causal TSSA layers; the step API supports %d", s->ntssa,
		                    STREAM_MAX_STATE);
		return false;
	}
	return true;
}

bool stream_check(Graph *g, StreamInfo *s)
{
	Stream S = {.g = g, .s = s};
	return check(&S);
}

/* ---- the step graph ---- */

typedef struct {
	Stream *S;
	Graph *sg;
	Tensor **map;        /* full-graph tensor id -> step tensor */
	Tensor *pos;
	Tensor *state[STREAM_MAX_STATE];
	int nstate;
} Builder;

static const char *fresh_name(Graph *g, const char *base)
{
	const char *name = base;
	for (int i = 2; graph_tensor(g, name); i++)
		name = ctx_printf(g->ctx, "%s_%d", base, i);
	return name;
}

static Tensor *map_tensor(Builder *b, Tensor *t)
{
	Graph *sg = b->sg;
	Tensor *m;
	if (!t)
		return NULL;
	if (b->map[t->id])
		return b->map[t->id];
	ir_assert(sg->ctx, t->kind == TK_CONST);
	m = tensor_new(sg, t->name, TK_CONST, t->dtype, t->rank, t->dims);
	m->data = t->data;   /* shared: the emitter writes it once */
	m->from_double = t->from_double;
	b->map[t->id] = m;
	return m;
}

/* The step shape of full-graph tensor t: its token axis becomes 1. */
static void step_dims(Builder *b, const Tensor *t, int64_t *dims)
{
	int a = b->S->tax[t->id];
	for (int i = 0; i < t->rank; i++)
		dims[i] = i == a ? 1 : t->dims[i];
}

static Tensor *i64_const(Builder *b, const char *base, int n, const int64_t *v)
{
	int64_t d[1] = {n};
	Tensor *t = tensor_const(b->sg, fresh_name(b->sg, base), DT_I64, 1, d);
	for (int i = 0; i < n; i++)
		((int64_t *)t->data)[i] = v[i];
	return t;
}

static Tensor *pos_slice(Builder *b, Node *n, Tensor *table, int axis)
{
	Graph *sg = b->sg;
	Node *p = node_new(sg, OP_POS_SLICE, ctx_printf(sg->ctx, "%s.pos", table->name), 2, 1);
	p->index = n->index;
	p->loc = n->loc;
	p->in[0] = table;
	p->in[1] = b->pos;
	node_add_attr(sg, p, "axis", AT_INT)->i = axis;
	p->out[0] = tensor_new(sg, fresh_name(sg, ctx_printf(sg->ctx, "%s@pos", table->name)),
	                       TK_VALUE, DT_F32, 0, NULL);
	p->out[0]->producer = p;
	graph_add_node(sg, p);
	return p->out[0];
}

static void build_node(Builder *b, Node *n)
{
	Stream *S = b->S;
	Graph *sg = b->sg;
	Ctx *c = sg->ctx;
	int *tax = S->tax;
	bool step = n->op == OP_CAUSAL_TSSA;
	Node *m = node_new(sg, step ? OP_CAUSAL_TSSA_STEP : n->op, n->name, step ? 4 : n->nin,
	                   step ? 2 : n->nout);
	int ot = n->nout > 0 && n->out[0] ? tax[n->out[0]->id] : -1;

	m->src_op = n->src_op;
	m->index = n->index;
	m->loc = n->loc;
	m->attrs = n->attrs;
	m->nattrs = n->nattrs;
	m->fused_from = n->fused_from;
	for (int j = 0; j < n->nin; j++) {
		Tensor *x = n->in[j];
		m->in[j] = map_tensor(b, x);
		if (!x || x->kind != TK_CONST || ot < 0)
			continue;
		int pa = -1;
		if (is_elementwise(n->op))
			pa = pos_axis(S, n, j, ot);
		else if (n->op == OP_CONCAT && S->s->T > 1 && x->dims[ot] == S->s->T)
			pa = ot;
		if (pa >= 0)
			m->in[j] = pos_slice(b, n, m->in[j], pa);
	}
	if (ot >= 0 && n->op == OP_RESHAPE) {
		int64_t d[MAX_RANK];
		step_dims(b, n->out[0], d);
		m->in[1] = i64_const(b, ctx_printf(c, "%s.step_shape", n->out[0]->name),
		                     n->out[0]->rank, d);
	} else if (ot >= 0 && n->op == OP_EXPAND) {
		Tensor *sh = n->in[1];
		int64_t d[MAX_RANK], ls = tensor_nelem(sh);
		int k = ot - (n->out[0]->rank - (int)ls);
		for (int i = 0; i < ls && i < MAX_RANK; i++)
			d[i] = i == k ? 1 : tensor_get_i(sh, i);
		m->in[1] = i64_const(b, ctx_printf(c, "%s.step_shape", n->out[0]->name), (int)ls, d);
	}
	if (step) {
		m->in[3] = b->pos;
		Tensor *st = tensor_new(sg, fresh_name(sg, ctx_printf(c, "%s.state", n->out[0]->name)),
		                        TK_VALUE, DT_F32, 0, NULL);
		st->producer = m;
		st->is_output = true;
		m->out[1] = st;
		b->state[b->nstate++] = st;
	}
	for (int j = 0; j < n->nout; j++) {
		Tensor *y = n->out[j];
		if (!y)
			continue;
		Tensor *z = tensor_new(sg, y->name, TK_VALUE, y->dtype, 0, NULL);
		z->producer = m;
		z->is_output = y->is_output;
		m->out[j] = z;
		b->map[y->id] = z;
	}
	graph_add_node(sg, m);
}

/* The step graph; with outputs false only the statistics are outputs (the
 * model's outputs and what only they need are dropped). */
static Graph *build(Stream *S, bool outputs)
{
	Graph *g = S->g;
	StreamInfo *s = S->s;
	Ctx *c = g->ctx;
	Builder b = {.S = S};
	Graph *sg;
	int64_t d[MAX_RANK];

	sg = b.sg = graph_new(c);
	sg->name = g->name;
	sg->opset = g->opset;
	sg->source_hash = g->source_hash;
	b.map = ctx_alloc(c, sizeof(Tensor *) * (size_t)(g->ntensors + 1));

	step_dims(&b, S->input, d);
	sg->inputs = ctx_alloc(c, sizeof(Tensor *) * 2);
	sg->inputs[0] = b.map[S->input->id] =
		tensor_new(sg, S->input->name, TK_INPUT, S->input->dtype, S->input->rank, d);
	int64_t one[1] = {1};
	sg->inputs[1] = b.pos = tensor_new(sg, fresh_name(sg, "position"), TK_INPUT, DT_I64, 1, one);
	sg->ninputs = 2;

	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			build_node(&b, g->nodes[i]);

	sg->outputs = ctx_alloc(c, sizeof(Tensor *) * (size_t)(g->noutputs + b.nstate + 1));
	for (int i = 0; i < g->noutputs && outputs; i++) {
		Tensor *o = g->outputs[i];
		sg->outputs[sg->noutputs++] = o->kind == TK_VALUE ? b.map[o->id] : map_tensor(&b, o);
	}
	for (int i = 0; i < g->noutputs && !outputs; i++)
		if (g->outputs[i]->kind == TK_VALUE)
			b.map[g->outputs[i]->id]->is_output = false;
	for (int i = 0; i < b.nstate; i++)
		sg->outputs[sg->noutputs++] = b.state[i];

	pipeline_run_passes(sg, step_passes, nstep_passes, NULL, NULL);

	/* the caller's state: the position, then each layer's statistics */
	int64_t at = 64;
	for (int i = 0; i < b.nstate; i++) {
		s->state_off[i] = at;
		at += (tensor_nbytes(b.state[i]) + 63) / 64 * 64;
	}
	s->state_size = at;
	return sg;
}

bool stream_build(Graph *g, StreamInfo *s)
{
	Stream S = {.g = g, .s = s};
	if (!check(&S))
		return false;
	s->step = build(&S, true);
	s->advance = build(&S, false);
	return true;
}
