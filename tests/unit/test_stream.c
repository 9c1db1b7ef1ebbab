/*
 * test_stream.c -- the streaming proof (compiler/passes/stream.c) on small graphs
 * built by hand: a causal LM skeleton is accepted (token axis tracked through
 * Gather, a position-indexed constant, MatMul, CausalTSSA, Transpose), and
 * each token-mixing construction is rejected naming its node.  The step
 * API's graphs' interfaces (inputs, outputs, state and workspace layout) are
 * checked too; their numerics are tested end to end by ctest `stream`.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"

enum { T = 8, D = 12, K = 3, V = 10 };

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
	Tensor *idx;
	int n;
} G;

static Tensor *cst(G *s, int rank, const int64_t *dims)
{
	Tensor *t = tensor_const(s->g, ctx_printf(&s->c, "c%d", s->n++), DT_F32, rank, dims);
	for (int64_t i = 0; i < tensor_nelem(t); i++)
		((float *)t->data)[i] = 0.01f * (float)(i % 17);
	return t;
}

static Tensor *axes(G *s, int64_t a)
{
	int64_t one[1] = {1};
	Tensor *t = tensor_const(s->g, ctx_printf(&s->c, "ax%d", s->n++), DT_I64, 1, one);
	((int64_t *)t->data)[0] = a;
	return t;
}

static Node *op(G *s, OpKind k, const char *name, Tensor *a, Tensor *b, Tensor *c)
{
	int nin = c ? 3 : b ? 2 : 1;
	Node *n = node_new(s->g, k, name, nin, 1);
	n->index = s->n++;
	n->in[0] = a;
	if (b)
		n->in[1] = b;
	if (c)
		n->in[2] = c;
	n->out[0] = tensor_new(s->g, ctx_printf(&s->c, "%s_out", name), TK_VALUE, DT_UNDEF, 0, NULL);
	n->out[0]->producer = n;
	graph_add_node(s->g, n);
	return n;
}

/* idx (1, T) -> x = wte[idx] + pe (T, D) -> w = x @ Wq -> (1, T, D) */
static Tensor *lm_front(G *s)
{
	int64_t it[2] = {1, T}, wte[2] = {V, D}, pe[2] = {T, D}, wq[2] = {D, D};
	s->n = 0;
	ctx_init(&s->c, "unit");
	s->c.jmp = &s->jb;
	s->g = graph_new(&s->c);
	s->g->opset = 17;
	s->idx = tensor_new(s->g, "idx", TK_INPUT, DT_I64, 2, it);
	s->g->inputs = ctx_alloc(&s->c, sizeof(Tensor *) * 2);
	s->g->inputs[s->g->ninputs++] = s->idx;
	Tensor *e = op(s, OP_GATHER, "wte", cst(s, 2, wte), s->idx, NULL)->out[0];
	Tensor *x = op(s, OP_ADD, "add_pos", e, cst(s, 2, pe), NULL)->out[0];
	return op(s, OP_MATMUL, "c_attn", x, cst(s, 2, wq), NULL)->out[0];
}

static Tensor *causal(G *s, Tensor *w)
{
	int64_t tk[1] = {K}, db[3] = {K, T, 1};
	Node *n = op(s, OP_CAUSAL_TSSA, "tssa", w, cst(s, 1, tk), cst(s, 3, db));
	node_add_attr(s->g, n, "heads", AT_INT)->i = K;
	return n->out[0];
}

/* logits = y @ Wout, the graph output; then shapes. */
static void lm_back(G *s, Tensor *y)
{
	int64_t wo[2] = {D, V};
	Tensor *o = op(s, OP_MATMUL, "lm_head", y, cst(s, 2, wo), NULL)->out[0];
	o->is_output = true;
	s->g->outputs = ctx_alloc(&s->c, sizeof(Tensor *));
	s->g->outputs[s->g->noutputs++] = o;
	shape_infer(s->g);
}

static void test_accepts_causal_lm(void)
{
	G s;
	StreamInfo si;
	if (setjmp(s.jb)) {
		FAIL_ERROR(&s.c);
		return;
	}
	lm_back(&s, causal(&s, lm_front(&s)));
	CU_ASSERT_TRUE(stream_check(s.g, &si));
	CU_ASSERT_EQUAL(si.T, T);
	CU_ASSERT_EQUAL(si.B, 1);
	CU_ASSERT_EQUAL(si.ntssa, 1);
	CU_ASSERT_PTR_NULL(si.bad);

	StreamOptions so = {3, 3};   /* chunks of 3 tokens, batches of 3 sequences */
	CU_ASSERT_TRUE(stream_build(s.g, &so, &si));
	Graph *sg = si.graph[FORM_STEP].g;
	CU_ASSERT_EQUAL(sg->ninputs, 2);
	CU_ASSERT_EQUAL(sg->inputs[0]->dims[1], 1);
	CU_ASSERT_EQUAL(sg->inputs[1]->dtype, DT_I64);
	CU_ASSERT_EQUAL(sg->noutputs, 2);
	CU_ASSERT_EQUAL(sg->outputs[0]->rank, 3);
	CU_ASSERT_EQUAL(sg->outputs[0]->dims[1], 1);
	CU_ASSERT_EQUAL(sg->outputs[0]->dims[2], V);
	CU_ASSERT_EQUAL(tensor_nelem(sg->outputs[1]), 2 * D + K);   /* S_w, S_pw, S_p */
	CU_ASSERT_EQUAL(si.state_off[0], 64);
	CU_ASSERT_EQUAL(si.state_size, 64 + ((2 * D + K) * 4 + 63) / 64 * 64);
	CU_ASSERT_EQUAL(si.out_axis[0], 1);
	int nslice = 0, nstep = 0;
	for (int i = 0; i < sg->nnodes; i++) {
		nslice += sg->nodes[i]->op == OP_POS_SLICE;
		nstep += sg->nodes[i]->op == OP_CAUSAL_TSSA_STEP;
	}
	CU_ASSERT_EQUAL(nslice, 1);   /* the positional table */
	CU_ASSERT_EQUAL(nstep, 1);
	/* the advance graph: only the statistics, the output head dropped */
	Graph *ag = si.graph[FORM_ADVANCE].g;
	CU_ASSERT_EQUAL(ag->noutputs, 1);
	CU_ASSERT_EQUAL(tensor_nelem(ag->outputs[0]), 2 * D + K);
	CU_ASSERT_TRUE(ag->nnodes < sg->nnodes);

	/* the chunk: 3 consecutive tokens, their positions and how many are real */
	Graph *cg = si.graph[FORM_CHUNK].g;
	CU_ASSERT_EQUAL(si.graph[FORM_CHUNK].rows, 3);
	CU_ASSERT_EQUAL(cg->ninputs, 3);
	CU_ASSERT_EQUAL(cg->inputs[0]->dims[1], 3);
	CU_ASSERT_EQUAL(tensor_nelem(cg->inputs[1]), 3);
	CU_ASSERT_EQUAL(tensor_nelem(cg->inputs[2]), 1);
	CU_ASSERT_EQUAL(cg->outputs[0]->dims[1], 3);
	CU_ASSERT_EQUAL(tensor_nelem(cg->outputs[1]), 2 * D + K);   /* one sequence's statistics */
	int nchunk = 0;
	for (int i = 0; i < cg->nnodes; i++)
		nchunk += cg->nodes[i]->op == OP_CAUSAL_TSSA_CHUNK;
	CU_ASSERT_EQUAL(nchunk, 1);
	CU_ASSERT_EQUAL(si.graph[FORM_CHUNK_ADVANCE].g->noutputs, 1);
	/* the batch: one row per sequence, each with its own statistics; a graph
	 * of 3 rows and one of 2 */
	CU_ASSERT_EQUAL(si.ngraphs, FORM_BATCH + 2);
	CU_ASSERT_STRING_EQUAL(si.graph[FORM_BATCH].name, "batch3");
	CU_ASSERT_EQUAL(si.graph[FORM_BATCH + 1].rows, 2);
	Graph *bg = si.graph[FORM_BATCH].g;
	CU_ASSERT_EQUAL(bg->ninputs, 2);
	CU_ASSERT_EQUAL(bg->inputs[0]->dims[1], 3);
	CU_ASSERT_EQUAL(tensor_nelem(bg->inputs[1]), 3);
	CU_ASSERT_EQUAL(tensor_nelem(bg->outputs[1]), 3 * (2 * D + K));
	CU_ASSERT_EQUAL(tensor_nelem(si.graph[FORM_BATCH + 1].g->outputs[1]), 2 * (2 * D + K));
	/* workspaces: the graphs' arena, then their inputs and outputs, aligned */
	CU_ASSERT_TRUE(si.prefill.ids >= cg->arena_size && si.prefill.ids % 64 == 0);
	CU_ASSERT_TRUE(si.prefill.pos > si.prefill.ids && si.prefill.count > si.prefill.pos);
	CU_ASSERT_TRUE(si.prefill.out[0] > si.prefill.count && si.prefill.out[0] % 64 == 0);
	CU_ASSERT_TRUE(si.prefill.size >= si.prefill.out[0] + 3 * V * 4);
	CU_ASSERT_TRUE(si.prefill.size >= si.step_ws);
	CU_ASSERT_TRUE(si.batch.ids >= bg->arena_size);
	CU_ASSERT_TRUE(si.batch.state[0] >= si.batch.out[0] + 3 * V * 4);
	int64_t end = si.batch.state[0] + ((3 * (2 * D + K)) * 4 + 63) / 64 * 64;
	CU_ASSERT_EQUAL(si.batch.size, end > si.step_ws ? end : si.step_ws);
	ctx_free(&s.c);
}

/* Build front + `mix` + CausalTSSA + back; expect the proof to name `bad`. */
typedef Tensor *MixFn(G *s, Tensor *w);

static void expect_reject(MixFn *mix, const char *bad, const char *reason)
{
	G s;
	StreamInfo si;
	if (setjmp(s.jb)) {
		FAIL_ERROR(&s.c);
		return;
	}
	lm_back(&s, causal(&s, mix(&s, lm_front(&s))));
	bool ok = stream_check(s.g, &si);
	CU_ASSERT_FALSE(ok);
	if (!ok) {
		CU_ASSERT_PTR_NOT_NULL(si.bad);
		if (si.bad)
			CU_ASSERT_STRING_EQUAL(si.bad->name, bad);
		CU_ASSERT_PTR_NOT_NULL(strstr(si.why, reason));
		CU_ASSERT_PTR_NOT_NULL(strstr(si.why, bad));
		if (!strstr(si.why, reason))
			printf("\n  why: %s\n", si.why);
	}
	ctx_free(&s.c);
}

static Tensor *mix_reduce(G *s, Tensor *w)
{
	Node *r = op(s, OP_REDUCE_SUM, "tokmean", w, axes(s, 1), NULL);
	return op(s, OP_ADD, "plus", w, r->out[0], NULL)->out[0];
}

static Tensor *mix_softmax(G *s, Tensor *w)
{
	Node *n = op(s, OP_SOFTMAX, "tok_softmax", w, NULL, NULL);
	node_add_attr(s->g, n, "axis", AT_INT)->i = 1;
	return n->out[0];
}

static Tensor *mix_reshape(G *s, Tensor *w)
{
	int64_t sh[2] = {1, T * D}, back[3] = {1, T, D}, two[1] = {2}, three[1] = {3};
	Tensor *a = tensor_const(s->g, "shape_a", DT_I64, 1, two);
	Tensor *b = tensor_const(s->g, "shape_b", DT_I64, 1, three);
	memcpy(a->data, sh, sizeof sh);
	memcpy(b->data, back, sizeof back);
	Tensor *f = op(s, OP_RESHAPE, "flat", w, a, NULL)->out[0];
	return op(s, OP_RESHAPE, "unflat", f, b, NULL)->out[0];
}

static Tensor *mix_matmul(G *s, Tensor *w)
{
	Node *t = op(s, OP_TRANSPOSE, "wt", w, NULL, NULL);
	int64_t perm[3] = {0, 2, 1};
	Attr *a = node_add_attr(s->g, t, "perm", AT_INTS);
	a->ints = ctx_alloc(&s->c, sizeof perm);
	memcpy(a->ints, perm, sizeof perm);
	a->n = 3;
	Tensor *sc = op(s, OP_MATMUL, "scores", w, t->out[0], NULL)->out[0];   /* (1, T, T) */
	return op(s, OP_MATMUL, "attend", sc, w, NULL)->out[0];
}

/* Transpose to (1, D, T), reduce over channels (axis 1): fine; then back. */
static Tensor *ok_transposed(G *s, Tensor *w)
{
	int64_t perm[3] = {0, 2, 1};
	Node *t = op(s, OP_TRANSPOSE, "to_dt", w, NULL, NULL);
	Attr *a = node_add_attr(s->g, t, "perm", AT_INTS);
	a->ints = ctx_alloc(&s->c, sizeof perm);
	memcpy(a->ints, perm, sizeof perm);
	a->n = 3;
	Tensor *r = op(s, OP_REDUCE_SUM, "chan_sum", t->out[0], axes(s, 1), NULL)->out[0];
	Tensor *x = op(s, OP_SUB, "centre", t->out[0], r, NULL)->out[0];
	Node *b = op(s, OP_TRANSPOSE, "to_td", x, NULL, NULL);
	b->attrs = t->attrs;
	b->nattrs = t->nattrs;
	return b->out[0];
}

static void test_rejects(void)
{
	expect_reject(mix_reduce, "tokmean", "over the token axis");
	expect_reject(mix_softmax, "tok_softmax", "over the token axis");
	expect_reject(mix_reshape, "flat", "merges or splits the token axis");
	expect_reject(mix_matmul, "scores", "two token-dependent inputs");
}

static void test_transposed_ok(void)
{
	G s;
	StreamInfo si;
	if (setjmp(s.jb)) {
		FAIL_ERROR(&s.c);
		return;
	}
	lm_back(&s, causal(&s, ok_transposed(&s, lm_front(&s))));
	CU_ASSERT_TRUE(stream_check(s.g, &si));
	ctx_free(&s.c);
}

static void test_rejects_vision_tssa(void)
{
	G s;
	StreamInfo si;
	int64_t tk[1] = {K};
	if (setjmp(s.jb)) {
		FAIL_ERROR(&s.c);
		return;
	}
	Tensor *w = lm_front(&s);
	Node *n = op(&s, OP_TSSA, "vision_tssa", w, cst(&s, 1, tk), NULL);
	node_add_attr(s.g, n, "heads", AT_INT)->i = K;
	lm_back(&s, n->out[0]);
	CU_ASSERT_FALSE(stream_check(s.g, &si));
	CU_ASSERT_PTR_EQUAL(si.bad, n);
	CU_ASSERT_PTR_NOT_NULL(strstr(si.why, "non-causal TSSA"));
	ctx_free(&s.c);
}

static void test_rejects_float_input(void)
{
	G s;
	StreamInfo si;
	if (setjmp(s.jb)) {
		FAIL_ERROR(&s.c);
		return;
	}
	lm_back(&s, causal(&s, lm_front(&s)));
	s.idx->dtype = DT_F32;
	CU_ASSERT_FALSE(stream_check(s.g, &si));
	CU_ASSERT_PTR_NULL(si.bad);
	CU_ASSERT_PTR_NOT_NULL(strstr(si.why, "token ids"));
	ctx_free(&s.c);
}

void register_stream(void)
{
	CU_pSuite s = CU_add_suite("stream", NULL, NULL);
	CU_add_test(s, "accepts a causal LM; the step API graphs' interfaces", test_accepts_causal_lm);
	CU_add_test(s, "rejects token-mixing ops, naming the node", test_rejects);
	CU_add_test(s, "token axis followed through transposes", test_transposed_ok);
	CU_add_test(s, "rejects vision TSSA", test_rejects_vision_tssa);
	CU_add_test(s, "rejects a non-id input", test_rejects_float_input);
}
