/*
 * views.c -- Reshape, Flatten, Squeeze, Unsqueeze and Identity become views.
 *
 * Their output holds the same elements in the same order as their input, so
 * it can share the input's memory: out->view_of = root of the input, and the
 * node lowers to nothing.  Exception: a graph output lives in the caller's
 * buffer, not in the arena, so an op producing one stays a copy.  The planner
 * extends the root's lifetime over all of its views' uses.
 */
#include "tostc.h"

void make_views(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || !(op_info[n->op].flags & OPF_VIEW))
			continue;
		Tensor *x = n->in[0], *y = n->out[0];
		if (y->is_output || y->kind != TK_VALUE)
			continue;
		ir_assert(g->ctx, tensor_nbytes(x) == tensor_nbytes(y));
		y->view_of = tensor_root(x);
	}
}
