/*
 * stream_rules.c -- the streaming rules of the ops (ops.def's stream column):
 * which axis of a node's outputs holds the tokens, and when the node is not
 * token-wise at all.
 *
 * stream.c proves that a causal model can run one token at a time by giving
 * every tensor its token axis, node by node.  For a node with at least one
 * input that depends on the tokens it calls the op's rule, which either sets
 * the token axis of each output in tok->tax (-1: depends on no token) and
 * returns NULL, or returns why the node mixes tokens.  Elementwise ops and
 * views share rules in stream.c (OPF_ELEMENTWISE, OPF_VIEW); an op with no
 * rule here or there is never token-wise, and a model using it on the tokens
 * gets no step API.  A rule must be exact: what it accepts, the step graphs
 * computes one token at a time.
 */
#include "tostc.h"

#define REJECT(...) return ctx_printf(tok->g->ctx, __VA_ARGS__)

/* causal TSSA: row t of y reads rows 0..t of w, which the step form keeps as
 * running statistics */
const char *stream_causal_tssa(TokenAxes *tok, Node *n)
{
	if (tok->dep != 0 || tok->ndep != 1)
		REJECT("CausalTSSA's temp and denom_bias depend on the tokens");
	if (tok->t != n->in[0]->rank - 2)
		REJECT("CausalTSSA's tokens are not its rows");
	tok->tax[n->out[0]->id] = tok->t;
	return NULL;
}

const char *stream_tssa(TokenAxes *tok, Node *n)
{
	REJECT("non-causal TSSA: every output token depends on every input token");
}

const char *stream_cumsum(TokenAxes *tok, Node *n)
{
	Tensor *ax = n->in[1];
	if (tok->dep != 0 || tok->ndep != 1 || ax->kind != TK_CONST)
		REJECT("CumSum with a token-dependent axis");
	int64_t axis = tensor_get_i(ax, 0);
	if (axis < 0)
		axis += n->in[0]->rank;
	if (axis == tok->t)
		REJECT("CumSum over the token axis (a prefix sum over tokens that is not part of "
		       "a fused causal TSSA)");
	tok->tax[n->out[0]->id] = tok->t;
	return NULL;
}

/* Softmax, LogSoftmax */
const char *stream_softmax(TokenAxes *tok, Node *n)
{
	Graph *g = tok->g;
	int r = n->in[0]->rank;
	int64_t axis = attr_int(n, "axis", g->opset >= 13 ? -1 : 1);
	if (axis < 0)
		axis += r;
	if (g->opset < 13 ? tok->t >= axis : tok->t == axis)
		REJECT("%s over the token axis mixes tokens", op_info[n->op].name);
	tok->tax[n->out[0]->id] = tok->t;
	return NULL;
}

/* Reduce* (a no-op with noop_with_empty_axes is elementwise) */
const char *stream_reduce(TokenAxes *tok, Node *n)
{
	bool mask[MAX_RANK];
	int r = n->in[0]->rank, below = 0, all = 1;
	if (tok->dep != 0)
		REJECT("reduction axes depend on the tokens");
	if (!op_reduce_axes(tok->g, n, mask)) {   /* not the identity */
		for (int i = 0; i < r; i++) {
			all &= mask[i];
			below += i < tok->t && mask[i];
		}
		if (all)
			REJECT("%s over all axes mixes tokens", op_info[n->op].name);
		if (mask[tok->t])
			REJECT("%s over the token axis mixes tokens", op_info[n->op].name);
	}
	tok->tax[n->out[0]->id] = attr_int(n, "keepdims", 1) ? tok->t : tok->t - below;
	return NULL;
}

const char *stream_layernorm(TokenAxes *tok, Node *n)
{
	int r = n->in[0]->rank;
	int64_t axis = attr_int(n, "axis", -1);
	if (axis < 0)
		axis += r;
	if (tok->dep != 0 || tok->ndep != 1)
		REJECT("LayerNormalization's scale or bias depends on the tokens");
	if (tok->t >= axis)
		REJECT("LayerNormalization normalises over the token axis");
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			tok->tax[n->out[j]->id] = tok->t;
	return NULL;
}

/* MlpBlock (fuse_mlp.c): row-wise over the last axis of x */
const char *stream_mlp_block(TokenAxes *tok, Node *n)
{
	if (tok->dep != 0 || tok->ndep != 1)
		REJECT("MlpBlock's weights depend on the tokens");
	if (tok->t == n->in[0]->rank - 1)
		REJECT("MlpBlock mixes the token axis");
	tok->tax[n->out[0]->id] = tok->t;
	return NULL;
}

const char *stream_matmul(TokenAxes *tok, Node *n)
{
	Tensor *x = n->in[0], *w = n->in[1], *y = n->out[0];
	int t = tok->t;
	if (tok->ndep != 1 || tok->dep != 0)
		REJECT("MatMul %s: mixes tokens",
		       tok->ndep == 2 ? "of two token-dependent inputs" : "with token-dependent weights");
	if (x->rank < 2 || t == x->rank - 1)
		REJECT("MatMul sums over the token axis");
	int ot = w->rank == 1 ? t : t + (y->rank - x->rank);
	if (t < x->rank - 2 && w->rank > 2) {
		int bx = ot - (y->rank - w->rank);
		if (bx >= 0 && bx < w->rank - 2 && w->dims[bx] != 1)
			REJECT("MatMul weights vary along the token axis");
	}
	tok->tax[y->id] = ot;
	return NULL;
}

/* GemmResidual (fuse_epilogue.c): rows of a @ B' + c, plus r row by row */
const char *stream_gemm_residual(TokenAxes *tok, Node *n)
{
	int *tax = tok->tax;
	if (tok->ndep != 2 || tax[n->in[0]->id] < 0 || tax[n->in[2]->id] < 0)
		REJECT("GemmResidual with token-dependent weights or bias");
	/* rows of a (all but its last axis, flattened) pair with rows of r: the
	 * token axis must be a row axis of both (the reshapes around a were
	 * checked where a was made) */
	int t = tax[n->in[2]->id];
	if (tax[n->in[0]->id] == n->in[0]->rank - 1 || t == n->in[2]->rank - 1)
		REJECT("GemmResidual mixes the token axis");
	if (n->nin > 3 && n->in[3] && n->in[3]->rank == 2 && n->in[3]->dims[0] != 1)
		REJECT("GemmResidual bias varies along the token axis");
	tax[n->out[0]->id] = t;
	return NULL;
}

const char *stream_gemm(TokenAxes *tok, Node *n)
{
	int64_t ta = attr_int(n, "transA", 0);
	if (tok->ndep != 1 || tok->dep != 0)
		REJECT("Gemm with token-dependent weights or bias");
	if (tok->t != (ta ? 1 : 0))
		REJECT("Gemm sums over the token axis");
	if (n->nin > 2 && n->in[2] && n->in[2]->rank == 2 && n->in[2]->dims[0] != 1 &&
	    n->out[0]->dims[0] > 1)
		REJECT("Gemm bias varies along the token axis");
	tok->tax[n->out[0]->id] = 0;
	return NULL;
}

const char *stream_gather(TokenAxes *tok, Node *n)
{
	Tensor *d = n->in[0], *ix = n->in[1];
	int t = tok->t;
	int64_t axis = attr_int(n, "axis", 0);
	if (axis < 0)
		axis += d->rank;
	if (tok->ndep == 2)
		REJECT("Gather of token-dependent data by token-dependent indices");
	if (tok->dep == 1) {   /* embedding lookup of the tokens */
		tok->tax[n->out[0]->id] = (int)axis + t;
		return NULL;
	}
	if (axis == t)
		REJECT("Gather selects tokens (along the token axis)");
	tok->tax[n->out[0]->id] = t < axis ? t : t + ix->rank - 1;
	return NULL;
}

const char *stream_transpose(TokenAxes *tok, Node *n)
{
	Tensor *y = n->out[0];
	const int64_t *perm;
	int np = attr_ints(n, "perm", &perm);
	if (np != y->rank) {   /* default: reverse */
		tok->tax[y->id] = y->rank - 1 - tok->t;
		return NULL;
	}
	for (int j = 0; j < np; j++)
		if (perm[j] == tok->t)
			tok->tax[y->id] = j;
	return NULL;
}

const char *stream_expand(TokenAxes *tok, Node *n)
{
	if (tok->dep != 0)
		REJECT("the shape depends on the tokens");
	tok->tax[n->out[0]->id] = tok->t + (n->out[0]->rank - n->in[0]->rank);
	return NULL;
}

/* Concat, Split */
const char *stream_concat(TokenAxes *tok, Node *n)
{
	int *tax = tok->tax, t = tok->t, r = n->in[0]->rank;
	int64_t axis = attr_int(n, "axis", 0);
	if (axis < 0)
		axis += r;
	if (axis == t)
		REJECT("%s along the token axis", op_info[n->op].name);
	for (int j = 0; j < n->nin; j++) {
		Tensor *x = n->in[j];
		if (!x || (n->op == OP_SPLIT && j > 0))
			continue;
		if (tax[x->id] >= 0 && tax[x->id] != t)
			REJECT("inputs have their tokens along different axes");
		if (tax[x->id] < 0 && tok->T > 1 && x->dims[t] == tok->T &&
		    (x->kind != TK_CONST || x->dtype != DT_F32))
			REJECT("input %d varies along the token axis but is not an f32 constant", j);
	}
	if (n->op == OP_SPLIT && tok->dep != 0)
		REJECT("the split sizes depend on the tokens");
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			tax[n->out[j]->id] = t;
	return NULL;
}

const char *stream_slice(TokenAxes *tok, Node *n)
{
	Tensor *y = n->out[0];
	int64_t axes[MAX_RANK];
	int na = 0;
	if (tok->dep != 0)
		REJECT("the slice bounds depend on the tokens");
	if (tok->g->opset < 10) {
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
		if ((axes[i] < 0 ? axes[i] + y->rank : axes[i]) == tok->t)
			REJECT("Slice along the token axis selects tokens");
	tok->tax[y->id] = tok->t;
	return NULL;
}

/* CastLike: y is x's elements; input 1 lends only its element type */
const char *stream_cast_like(TokenAxes *tok, Node *n)
{
	tok->tax[n->out[0]->id] = tok->tax[n->in[0]->id];
	return NULL;
}
