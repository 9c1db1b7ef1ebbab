/*
 * shape.c -- shape inference: every tensor gets a static shape and type.
 *
 * Nodes are visited in topological order and each op's shape function (named
 * in ops.def, written in op_*.c) sets its outputs from its inputs.  The
 * helpers here are shared by those functions: numpy broadcasting, axis
 * normalisation, and "this input must be a constant" checks.  All element
 * counts are checked for overflow, so later passes can multiply freely.
 */
#include "tostc.h"

#include <string.h>

void shape_set(Tensor *t, DType dt, int rank, const int64_t *dims)
{
	/* A rank beyond MAX_RANK is recorded but not copied past dims[];
	 * shape_infer reports it (shape functions should have already). */
	t->dtype = dt;
	t->rank = rank;
	for (int i = 0; i < rank && i < MAX_RANK; i++)
		t->dims[i] = dims[i];
	t->shape_known = true;
}

int shape_broadcast(Graph *g, Node *n, int ra, const int64_t *da, int rb, const int64_t *db,
                    int64_t *out)
{
	int r = ra > rb ? ra : rb;
	for (int i = 0; i < r; i++) {
		int64_t a = i < r - ra ? 1 : da[i - (r - ra)];
		int64_t b = i < r - rb ? 1 : db[i - (r - rb)];
		if (a != b && a != 1 && b != 1)
			node_error(g, n, "shapes do not broadcast: axis %d is %lld in one input and %lld in the other",
			           i, (long long)a, (long long)b);
		out[i] = a == 1 ? b : a;
	}
	return r;
}

int shape_axis(Graph *g, Node *n, int64_t axis, int r)
{
	if (axis < -r || axis >= (r ? r : 1))
		node_error(g, n, "axis %lld is out of range for rank %d", (long long)axis, r);
	return (int)(axis < 0 ? axis + r : axis);
}

Tensor *need_const(Graph *g, Node *n, int i)
{
	if (i >= n->nin || !n->in[i])
		node_error(g, n, "input %d is required", i);
	Tensor *t = n->in[i];
	if (t->kind != TK_CONST)
		node_error(g, n, "input %d ('%s') must be a constant (tostc compiles static shapes); "
		           "it is computed at run time", i, t->name);
	return t;
}

void need_dtype(Graph *g, Node *n, int i, unsigned mask)
{
	if (i >= n->nin || !n->in[i])
		node_error(g, n, "input %d is required", i);
	DType t = n->in[i]->dtype;
	if (!(mask & (1u << t))) {
		char list[128] = "";
		for (int d = 1; d < DT_COUNT; d++)
			if (mask & (1u << d)) {
				if (list[0])
					strcat(list, ", ");
				strcat(list, dtype_name((DType)d));
			}
		node_error(g, n, "input %d ('%s') has element type %s; this op supports %s", i,
		           text_msg(g->ctx, n->in[i]->name), dtype_name(t), list);
	}
}

int64_t shape_nbytes_checked(Ctx *c, const char *what, DType dt, int rank,
                             const int64_t *dims)
{
	int64_t e = 1;
	for (int k = 0; k < rank; k++) {
		if (dims[k] < 0)
			ctx_error(c, "%s has negative dimension %lld", what, (long long)dims[k]);
		if (dims[k] && e > ((int64_t)1 << 48) / dims[k])
			ctx_error(c, "%s is too large: its element count overflows tostc's limit of "
			          "2^48", what);
		e *= dims[k];
	}
	if (e > ((int64_t)1 << 48) / 8)
		ctx_error(c, "%s is too large: %lld elements", what, (long long)e);
	return e * (int64_t)dtype_size(dt);
}

void shape_check_outputs(Graph *g, Node *n)
{
	Ctx *c = g->ctx;
	for (int j = 0; j < n->nout; j++) {
		Tensor *t = n->out[j];
		if (!t)
			continue;
		if (!t->shape_known)
			ctx_bug(c, __FILE__, __LINE__, "shape function left an output unknown");
		if (t->rank < 0 || t->rank > MAX_RANK)
			node_error(g, n, "output %d would have rank %d; tostc supports ranks 0 to %d",
			           j, t->rank, MAX_RANK);
		int64_t e = 1;
		for (int k = 0; k < t->rank; k++) {
			if (t->dims[k] < 0)
				node_error(g, n, "output %d would have a negative dimension", j);
			e = ctx_mul(c, e, t->dims[k]);
		}
		ctx_mul(c, e, (int64_t)dtype_size(t->dtype));
	}
}

void shape_infer(Graph *g)
{
	Ctx *c = g->ctx;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		const OpInfo *op = &op_info[n->op];
		if (n->nin < op->min_in || (op->max_in >= 0 && n->nin > op->max_in))
			node_error(g, n, "has %d inputs; %s takes %d to %d", n->nin, op->name, op->min_in,
			           op->max_in);
		if (n->nout < op->min_out || (op->max_out >= 0 && n->nout > op->max_out))
			node_error(g, n, "has %d outputs; %s gives %d to %d", n->nout, op->name,
			           op->min_out, op->max_out);
		for (int j = 0; j < op->min_in && j < n->nin; j++)
			if (!n->in[j])
				node_error(g, n, "input %d is required", j);
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] && !n->in[j]->shape_known)
				ir_assert(c, !"input shape unknown in topological order");
		op->shape(g, n);
		if (n->dead)
			continue;   /* it replaced itself (a folded If, an unrolled Loop) */
		shape_check_outputs(g, n);
		fold_node(g, n);
	}
	graph_compact(g);
}
