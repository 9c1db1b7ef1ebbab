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
 *    last axis, then propagated node by node by each op's rule (ops.def:
 *    elementwise ops and views here, the others in ops/stream_rules.c).  A
 *    node is accepted when it is token-wise -- elementwise, LayerNorm, MatMul/Gemm
 *    with constant weights, Gather (the token embedding), views and
 *    transposes that keep the token axis whole, reductions, softmaxes and
 *    concatenations along other axes -- or a CausalTSSA.  A constant that
 *    varies along the token axis where an elementwise op reads it (the folded
 *    positional embedding wpe[arange(T)]) is position-indexed: at step t it
 *    is its slice t.  Anything else (CumSum over tokens, a vision TSSA,
 *    MatMul of two token-dependent tensors, a Reshape that merges tokens) is
 *    rejected with the node and the reason.
 *
 * 2. The step API's graphs (stream_build).  The same nodes with the token
 *    axis of every tensor set to R rows (tostc.h, StreamForm): one token for
 *    NAME_step; C consecutive tokens of one sequence for NAME_prefill (the
 *    chunk, --prefill-chunk: GEMMs over C rows); one token each of R
 *    independent sequences for NAME_step_batch (--step-batch; and about R/2,
 *    R/4, ... 2 rows, for passes of fewer sequences).  The rows are
 *    independent in every node but causal TSSA, which is what the proof
 *    says, so rows may come from one sequence or from many.  Inputs: token
 *    ids (B, R), the rows' positions (R) and, for a chunk, how many rows are
 *    tokens (the rest pad it).  Position-indexed constants become
 *    PositionSlice(table, positions); CausalTSSA becomes CausalTSSAStep
 *    (each row its own sequence) or CausalTSSAChunk (the rows in order, from
 *    the statistics of the tokens before them), whose second output is the
 *    layer's running statistics, which live in the caller's state;
 *    Reshape/Expand get their shape constants rewritten.  The one-token and
 *    chunk forms have twins without the model's outputs, where only the
 *    statistics advance (prefill's tokens but the last).  Then the graphs'
 *    passes (pipeline.c's step_passes: dce, shape inference, views,
 *    lowering, planning), and the workspace of the functions that fill the
 *    graphs' inputs (layout).  Constants share their data with the full
 *    graph, and weights packed at lowering are packed once (linalg_prepack),
 *    so the emitter writes each weight once (emit_c.c); emit_step.c writes
 *    the API around the graphs' entry points.
 *
 * The step API takes positions 0 .. T-1: T is the sequence length the full
 * graph was compiled for (compile with --dim seq=BLOCK for the whole block).
 */
#include "tostc.h"

#include <string.h>

typedef struct {
	TokenAxes tok;       /* the token axes: what the ops' rules see */
	StreamInfo *s;
	Tensor *input;       /* the token ids */
} Stream;

#define REJECT(...) return ctx_printf(tok->g->ctx, __VA_ARGS__)

/* The axis of token-independent input j of elementwise node n (or Concat)
 * that lines up with the output's token axis `ot`, when the input varies
 * along it (a position-indexed constant); -1 when it broadcasts. */
static int pos_axis(const TokenAxes *tok, Node *n, int j, int ot)
{
	Tensor *x = n->in[j], *y = n->out[0];
	int ax;
	if (!x || tok->T < 2)
		return -1;
	ax = ot - (y->rank - x->rank);
	if (ax < 0 || ax >= x->rank || x->dims[ax] != tok->T)
		return -1;
	return ax;
}

/* The rule of elementwise ops (OPF_ELEMENTWISE): the token-dependent inputs
 * have their tokens along one axis of the output; a token-independent input
 * that varies along it is a position-indexed constant. */
static const char *elementwise(TokenAxes *tok, Node *n)
{
	int *tax = tok->tax, ot = -1;
	Tensor *y = n->out[0];
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
		if (!x || tax[x->id] >= 0 || pos_axis(tok, n, j, ot) < 0)
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

/* The rule of views (OPF_VIEW): they keep the token axis whole when the
 * elements before it and the token axis itself reappear as a prefix and an
 * axis of the output. */
static const char *view(TokenAxes *tok, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t pre = 1, q = 1;
	if (tok->dep != 0)
		REJECT("the shape depends on the tokens");
	for (int i = 0; i < tok->t; i++)
		pre *= x->dims[i];
	for (int b = 0; b < y->rank; b++) {
		if (q == pre && y->dims[b] == x->dims[tok->t]) {
			tok->tax[y->id] = b;
			return NULL;
		}
		q *= y->dims[b];
		if (q > pre)
			break;
	}
	REJECT("%s %s -> %s merges or splits the token axis %d", op_info[n->op].name,
	       tensor_shape_str(tok->g->ctx, x), tensor_shape_str(tok->g->ctx, y), tok->t);
}

/* Check node n and set its outputs' token axes; NULL when it is token-wise,
 * otherwise why not.  The rule is the op's (ops.def). */
static const char *rule(TokenAxes *tok, Node *n)
{
	const OpInfo *op = &op_info[n->op];
	StreamFn *fn = op->flags & OPF_ELEMENTWISE ? elementwise
	             : op->flags & OPF_VIEW ? view : op->stream;

	tok->ndep = 0;
	tok->dep = tok->t = -1;
	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && tok->tax[n->in[j]->id] >= 0)
			tok->ndep++, tok->dep = j, tok->t = tok->tax[n->in[j]->id];
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			tok->tax[n->out[j]->id] = -1;
	if (tok->ndep == 0)
		return NULL;   /* depends on no token: the same at every step */
	if (!fn)
		REJECT("%s is not known to be token-wise", op->name);
	return fn(tok, n);
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
	Graph *g = S->tok.g;
	StreamInfo *s = S->s;
	Ctx *c = g->ctx;
	Tensor *in;

	memset(s, 0, sizeof *s);
	S->tok.tax = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	for (int i = 0; i < g->ntensors; i++)
		S->tok.tax[i] = -1;
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
	S->tok.tax[in->id] = in->rank - 1;
	s->T = S->tok.T = in->dims[in->rank - 1];
	s->B = in->rank == 2 ? in->dims[0] : 1;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		const char *why;
		if (n->dead)
			continue;
		if ((why = rule(&S->tok, n))) {
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
	Stream S = {.tok.g = g, .s = s};
	return check(&S);
}

/* ---- the step API's graphs ---- */

typedef struct {
	Stream *S;
	Graph *sg;
	StreamForm form;
	int64_t rows;        /* the token axis of every tensor */
	Tensor **map;        /* full-graph tensor id -> this graph's tensor */
	Tensor *pos;         /* input: the rows' positions (rows) */
	Tensor *count;       /* input of the chunk forms: the valid rows (1) */
	Tensor *state[STREAM_MAX_STATE];
	int nstate;
} Builder;

static bool is_chunk(StreamForm f)
{
	return f == FORM_CHUNK || f == FORM_CHUNK_ADVANCE;
}

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

/* The shape of full-graph tensor t here: its token axis has b->rows. */
static void step_dims(Builder *b, const Tensor *t, int64_t *dims)
{
	int a = b->S->tok.tax[t->id];
	for (int i = 0; i < t->rank; i++)
		dims[i] = i == a ? b->rows : t->dims[i];
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
	int *tax = S->tok.tax;
	bool tssa = n->op == OP_CAUSAL_TSSA, chunk = is_chunk(b->form);
	int nin = !tssa ? n->nin : chunk ? 5 : 4;
	Node *m = node_new(sg, !tssa ? n->op : chunk ? OP_CAUSAL_TSSA_CHUNK : OP_CAUSAL_TSSA_STEP,
	                   n->name, nin, tssa ? 2 : n->nout);
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
		if (op_info[n->op].flags & OPF_ELEMENTWISE)
			pa = pos_axis(&S->tok, n, j, ot);
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
			d[i] = i == k ? b->rows : tensor_get_i(sh, i);
		m->in[1] = i64_const(b, ctx_printf(c, "%s.step_shape", n->out[0]->name), (int)ls, d);
	}
	if (tssa) {
		m->in[3] = b->pos;
		if (chunk)
			m->in[4] = b->count;
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

/* The graph of one form: the model on `rows` rows of tokens, lowered and
 * planned.  The *ADVANCE forms have only the statistics as outputs (the
 * model's outputs and what only they need are dropped). */
static Graph *build(Stream *S, StreamForm form, int64_t rows)
{
	Graph *g = S->tok.g;
	Ctx *c = g->ctx;
	Builder b = {.S = S, .form = form, .rows = rows};
	bool outputs = form != FORM_ADVANCE && form != FORM_CHUNK_ADVANCE;
	Graph *sg;
	int64_t d[MAX_RANK];

	sg = b.sg = graph_new(c);
	sg->name = g->name;
	sg->opset = g->opset;
	sg->source_hash = g->source_hash;
	b.map = ctx_alloc(c, sizeof(Tensor *) * (size_t)(g->ntensors + 1));

	step_dims(&b, S->input, d);
	sg->inputs = ctx_alloc(c, sizeof(Tensor *) * 3);
	sg->inputs[sg->ninputs++] = b.map[S->input->id] =
		tensor_new(sg, S->input->name, TK_INPUT, S->input->dtype, S->input->rank, d);
	int64_t nrows[1] = {rows}, one[1] = {1};
	sg->inputs[sg->ninputs++] = b.pos =
		tensor_new(sg, fresh_name(sg, "position"), TK_INPUT, DT_I64, 1, nrows);
	if (is_chunk(form))
		sg->inputs[sg->ninputs++] = b.count =
			tensor_new(sg, fresh_name(sg, "count"), TK_INPUT, DT_I64, 1, one);

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
	if (form == FORM_STEP) {
		int64_t at = 64;
		for (int i = 0; i < b.nstate; i++) {
			S->s->state_off[i] = at;
			at += (tensor_nbytes(b.state[i]) + 63) / 64 * 64;
		}
		S->s->state_size = at;
	}
	return sg;
}

static int64_t up64(int64_t n)
{
	return (n + 63) / 64 * 64;
}

/* The workspace of NAME_prefill* or NAME_step_batch: the arena of its
 * graphs (graph[first .. end)), then the inputs and outputs of the one with
 * the most rows (the first), which the others use a part of; at least
 * `min` bytes (NAME_step's, which both may call). */
static void layout(Ctx *c, StreamInfo *s, StreamWs *w, int first, int end, int64_t min)
{
	Graph *fg = s->graph[first].g;
	int64_t at = 0;
	for (int i = first; i < end; i++)
		at = s->graph[i].g->arena_size > at ? s->graph[i].g->arena_size : at;
	at = up64(at);
	int nout = fg->noutputs - s->ntssa;
	bool chunk = is_chunk(s->graph[first].form);
	w->ids = at;
	at = ctx_add(c, at, up64(tensor_nbytes(fg->inputs[0])));
	w->pos = at;
	at = ctx_add(c, at, up64(tensor_nbytes(fg->inputs[1])));
	w->count = at;
	if (chunk)
		at = ctx_add(c, at, 64);
	w->out = ctx_alloc(c, sizeof(int64_t) * (size_t)(nout + 1));
	for (int i = 0; i < nout; i++) {
		w->out[i] = at;
		at = ctx_add(c, at, up64(tensor_nbytes(fg->outputs[i])));
	}
	for (int i = 0; !chunk && i < s->ntssa; i++) {
		w->state[i] = at;
		at = ctx_add(c, at, up64(tensor_nbytes(fg->outputs[nout + i])));
	}
	w->size = at > min ? at : min;
}

static void add_graph(Stream *S, StreamForm form, int64_t rows)
{
	static const char *const name[FORM_COUNT] = {"step", "advance", "chunk", "chunk_advance",
	                                             "batch"};
	StreamInfo *s = S->s;
	Ctx *c = S->tok.g->ctx;
	ir_assert(c, s->ngraphs < STREAM_MAX_GRAPHS);
	s->graph[s->ngraphs++] = (StreamGraph){
		form, rows, build(S, form, rows),
		form == FORM_BATCH ? ctx_printf(c, "batch%lld", (long long)rows) : name[form]};
}

bool stream_build(Graph *g, const StreamOptions *o, StreamInfo *s)
{
	Stream S = {.tok.g = g, .s = s};
	Ctx *c = g->ctx;
	if (!check(&S))
		return false;
	int64_t chunk = o->chunk < s->T ? o->chunk : s->T;
	add_graph(&S, FORM_STEP, 1);
	add_graph(&S, FORM_ADVANCE, 1);
	add_graph(&S, FORM_CHUNK, chunk);
	add_graph(&S, FORM_CHUNK_ADVANCE, chunk);
	/* batches of N, then about N/2, N/4, ... 2 rows: a pass of fewer sequences
	 * runs the smallest that holds them */
	s->batch_rows = o->batch;
	for (int64_t r = o->batch; r > 1; r = (r + 1) / 2)
		add_graph(&S, FORM_BATCH, r);
	s->tail = chunk / STREAM_TAIL_DIV;
	s->out_axis = ctx_alloc(c, sizeof(int) * (size_t)(g->noutputs + 1));
	for (int i = 0; i < g->noutputs; i++)
		s->out_axis[i] = S.tok.tax[g->outputs[i]->id];
	Graph *sg = s->graph[FORM_STEP].g, *ag = s->graph[FORM_ADVANCE].g;
	s->step_ws = sg->arena_size > ag->arena_size ? sg->arena_size : ag->arena_size;
	layout(c, s, &s->prefill, FORM_CHUNK, FORM_CHUNK_ADVANCE + 1, s->step_ws);
	if (s->ngraphs > FORM_BATCH)
		layout(c, s, &s->batch, FORM_BATCH, s->ngraphs, s->step_ws);
	else
		s->batch.size = s->step_ws;   /* a batch of 1: steps */
	return true;
}
