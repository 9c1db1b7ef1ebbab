/*
 * fold.c -- constant folding: evaluate nodes whose inputs are all constant.
 *
 * Folding runs the node's own lowering (the same runtime kernels the generated
 * code would call) inside the compiler, so a folded value is bit-for-bit what
 * the model would have computed at run time.  Shape inference folds eagerly,
 * node by node (fold_node), because shape-determining inputs such as
 * Reshape's target shape are often computed by Shape/Gather/Concat chains;
 * the fold_constants pass catches what later passes make constant.
 *
 * Shape is folded from static shapes even though its input is not constant.
 * Outputs larger than FOLD_MAX_BYTES are left to run time, so folding never
 * turns a cheap broadcast into megabytes of weights.
 */
#include "tostc.h"

#include <string.h>

#define FOLD_MAX_BYTES ((int64_t)64 << 20)

void eval_node(Graph *g, Node *n)
{
	Ctx *c = g->ctx;
	n->calls = NULL;
	op_info[n->op].lower(g, n);
	calls_check(g, n);
	for (int j = 0; j < n->nout; j++) {
		Tensor *t = n->out[j];
		if (t && !t->data)
			t->data = ctx_alloc(c, (size_t)tensor_nbytes(t) + 1);
	}
	for (Call *k = n->calls; k; k = k->next) {
		for (int a = 0; a < k->nargs; a++) {
			Arg *arg = &k->args[a];
			if (arg->kind == ARG_IN || arg->kind == ARG_OUT) {
				ir_assert(c, arg->t->data != NULL);
				arg->ptr = arg->t->data;
			} else if (arg->kind == ARG_SCRATCH) {
				arg->ptr = ctx_alloc(c, (size_t)arg->i + 64);
			}
		}
		kernel_info[k->kernel].invoke(k);
	}
	n->calls = NULL;
}

static void fold_shape(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t r = x->rank, start = attr_int(n, "start", 0), end = attr_int(n, "end", r);
	if (start < 0)
		start += r;
	if (end < 0)
		end += r;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	ir_assert(g->ctx, y->dtype == DT_I64 && tensor_nelem(y) == (end > start ? end - start : 0));
	y->data = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(r + 1));
	for (int64_t i = start; i < end; i++)
		((int64_t *)y->data)[i - start] = x->dims[i];
}

bool fold_node(Graph *g, Node *n)
{
	if (n->dead || (op_info[n->op].flags & OPF_NOFOLD))
		return false;
	bool all_const = true, outs_const = true;
	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && n->in[j]->kind != TK_CONST)
			all_const = false;
	for (int j = 0; j < n->nout; j++)
		if (n->out[j] && n->out[j]->kind != TK_CONST)
			outs_const = false;
	if (!outs_const) {
		if (n->op != OP_SHAPE && !all_const)
			return false;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && tensor_nbytes(n->out[j]) > FOLD_MAX_BYTES)
				return false;
		if (n->op == OP_SHAPE)
			fold_shape(g, n);
		else
			eval_node(g, n);
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				n->out[j]->kind = TK_CONST;
	}
	n->dead = true;
	return true;
}

void fold_constants(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		fold_node(g, g->nodes[i]);
	graph_compact(g);
}
