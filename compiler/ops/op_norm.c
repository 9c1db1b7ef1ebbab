/*
 * op_norm.c -- shape and lower functions of the normalisations beyond
 * BatchNormalization and LayerNormalization (op_linalg.c):
 * InstanceNormalization, GroupNormalization, LpNormalization, LRN and
 * MeanVarianceNormalization.  Kernels: runtime/norm/.
 *
 * InstanceNormalization is GroupNormalization with a group per channel: both
 * run tr_group_norm_f32 over rows of (channels of a group) x (positions).
 * GroupNormalization's scale and bias are one per group before opset 21 and
 * one per channel from opset 21 (the schema changed); each opset's form is
 * required, as its spec says.  Statistics are computed in f32 (stash_type 1,
 * the default; others are refused).  MeanVarianceNormalization's axes are
 * merged into runs of reduced and kept axes for tr_mvn_f32.  Only f32.
 */
#include "tostc.h"
#include "norm/groupnorm.h"
#include "norm/lpnorm.h"
#include "norm/lrn.h"
#include "norm/mvn.h"

#define F32_ONLY (1u << DT_F32)

/* every input f32, input 0 of rank >= min_rank; the output is shaped like it */
static Tensor *norm_input(Graph *g, Node *n, int min_rank, const char *form)
{
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			need_dtype(g, n, i, F32_ONLY);
	Tensor *x = n->in[0];
	if (x->rank < min_rank)
		node_error(g, n, "input %s must be %s", tensor_shape_str(g->ctx, x), form);
	shape_set(n->out[0], DT_F32, x->rank, x->dims);
	return x;
}

/* input i (named what) must be a vector of len values, one per `per` */
static void need_vector(Graph *g, Node *n, int i, const char *what, int64_t len, const char *per)
{
	Tensor *t = n->in[i];
	if (t->rank != 1 || t->dims[0] != len)
		node_error(g, n, "%s %s must be (%lld): one value per %s", what,
		           tensor_shape_str(g->ctx, t), (long long)len, per);
}

/* ------------------------------------------------------------------ */
/* InstanceNormalization and GroupNormalization                         */
/* ------------------------------------------------------------------ */

/* x (N, C, s...), scale, B (C) -> y like x, normalised over s per (n, c) */
void shape_instance_norm(Graph *g, Node *n)
{
	Tensor *x = norm_input(g, n, 3, "(N, C, D1, ...)");
	need_vector(g, n, 1, "scale", x->dims[1], "channel");
	need_vector(g, n, 2, "B", x->dims[1], "channel");
}

/* GroupNormalization's num_groups, checked against the channels c */
static int64_t group_count(Graph *g, Node *n, int64_t c)
{
	const Attr *a = attr_find(n, "num_groups");
	if (!a || a->kind != AT_INT)
		node_error(g, n, "attribute num_groups (an int) is required");
	if (a->i < 1 || c % a->i)
		node_error(g, n, "num_groups %lld must divide the channels %lld", (long long)a->i,
		           (long long)c);
	return a->i;
}

/* x (N, C, s...), scale, bias (num_groups; opset >= 21: C) -> y like x,
 * normalised over (C / num_groups, s...) per (n, group) */
void shape_group_norm(Graph *g, Node *n)
{
	Tensor *x = norm_input(g, n, 2, "(N, C, ...)");
	int64_t c = x->dims[1], groups = group_count(g, n, c);
	if (g->opset >= 21) {
		need_vector(g, n, 1, "scale", c, "channel (opset 21)");
		need_vector(g, n, 2, "bias", c, "channel (opset 21)");
	} else {
		need_vector(g, n, 1, "scale", groups, "group (opsets 18 to 20)");
		need_vector(g, n, 2, "bias", groups, "group (opsets 18 to 20)");
	}
	int64_t stash = attr_int(n, "stash_type", 1);
	if (stash != 1)
		node_error(g, n, "stash_type %lld is not supported: statistics are computed in float32 "
		           "(stash_type 1)", (long long)stash);
}

void lower_group_norm(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t c = x->dims[1];
	int inst = n->op == OP_INSTANCE_NORM;
	int64_t groups = inst ? c : group_count(g, n, c);
	Call *k = call_new(g, n, K_tr_group_norm_f32);
	call_in(k, x);
	call_in(k, n->in[1]);
	call_in(k, n->in[2]);
	call_out(k, n->out[0]);
	call_int(k, x->dims[0]);
	call_int(k, groups);
	call_int(k, c / groups);
	call_int(k, tensor_nelem(x) / (x->dims[0] * c));
	call_float(k, attr_float(n, "epsilon", 1e-5f));
	call_int(k, !inst && g->opset < 21);
}

/* ------------------------------------------------------------------ */
/* LpNormalization, LRN                                                 */
/* ------------------------------------------------------------------ */

/* x -> y like x, each vector along axis divided by its L1 or L2 norm */
void shape_lp_norm(Graph *g, Node *n)
{
	Tensor *x = norm_input(g, n, 1, "of rank >= 1");
	shape_axis(g, n, attr_int(n, "axis", -1), x->rank);
	int64_t p = attr_int(n, "p", 2);
	if (p != 1 && p != 2)
		node_error(g, n, "p = %lld: only the L1 and L2 norms (p 1 or 2) are defined", (long long)p);
}

void lower_lp_norm(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int axis = shape_axis(g, n, attr_int(n, "axis", -1), x->rank);
	int64_t outer = 1, inner = 1;
	for (int d = 0; d < x->rank; d++) {
		outer *= d < axis ? x->dims[d] : 1;
		inner *= d > axis ? x->dims[d] : 1;
	}
	Call *k = call_new(g, n, K_tr_lp_norm_f32);
	call_in(k, x);
	call_out(k, n->out[0]);
	call_scratch(k, 4 * inner);
	call_int(k, outer);
	call_int(k, x->dims[axis]);
	call_int(k, inner);
	call_int(k, attr_int(n, "p", 2));
}

/* x (N, C, s...) -> y like x, normalised over a window of size channels */
void shape_lrn(Graph *g, Node *n)
{
	norm_input(g, n, 2, "(N, C, ...)");
	const Attr *a = attr_find(n, "size");
	if (!a || a->kind != AT_INT)
		node_error(g, n, "attribute size (an int) is required");
	if (a->i < 1)
		node_error(g, n, "size = %lld must be >= 1", (long long)a->i);
}

void lower_lrn(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t s = tensor_nelem(x) / (x->dims[0] * x->dims[1]);
	Call *k = call_new(g, n, K_tr_lrn_f32);
	call_in(k, x);
	call_out(k, n->out[0]);
	call_int(k, x->dims[0]);
	call_int(k, x->dims[1]);
	call_int(k, s);
	call_int(k, attr_int(n, "size", 1));
	call_float(k, attr_float(n, "alpha", 1e-4f));
	call_float(k, attr_float(n, "beta", 0.75f));
	call_float(k, attr_float(n, "bias", 1.0f));
}

/* ------------------------------------------------------------------ */
/* MeanVarianceNormalization                                            */
/* ------------------------------------------------------------------ */

/* the axes MVN normalises over (attribute axes, default 0, 2, 3) as mask */
static void mvn_axes(Graph *g, Node *n, bool *mask)
{
	static const int64_t dflt[3] = {0, 2, 3};
	const int64_t *v = dflt;
	int cnt = attr_ints(n, "axes", &v), r = n->in[0]->rank;
	if (cnt < 0) {
		cnt = 3;
		v = dflt;
	}
	for (int d = 0; d < r; d++) {
		int hits = 0;
		for (int i = 0; i < cnt; i++)
			hits += shape_axis(g, n, v[i], r) == d;
		if (hits > 1)
			node_error(g, n, "axes names axis %d twice", d);
		mask[d] = hits == 1;
	}
}

/* x -> y like x = (x - mean) / (std + 1e-9), mean and std over axes */
void shape_mvn(Graph *g, Node *n)
{
	bool mask[MAX_RANK];
	norm_input(g, n, 1, "of rank >= 1");
	mvn_axes(g, n, mask);
}

void lower_mvn(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	bool mask[MAX_RANK], red[MAX_RANK];
	int64_t dims[MAX_RANK], st[MAX_RANK], nk = 1;
	int r = 0;
	mvn_axes(g, n, mask);
	/* runs of reduced or kept axes merged, size-1 axes dropped */
	for (int d = 0; d < x->rank; d++) {
		if (x->dims[d] == 1)
			continue;
		if (r == 0 || red[r - 1] != mask[d]) {
			dims[r] = 1;
			red[r++] = mask[d];
		}
		dims[r - 1] *= x->dims[d];
	}
	if (r == 0) {
		dims[0] = 1;
		red[r++] = true;
	}
	for (int d = r - 1; d >= 0; d--) {
		st[d] = red[d] ? 0 : nk;
		nk *= red[d] ? 1 : dims[d];
	}
	Call *k = call_new(g, n, K_tr_mvn_f32);
	call_in(k, x);
	call_out(k, n->out[0]);
	call_scratch(k, 8 * nk);
	call_int(k, r);
	call_ints(g, k, dims, r);
	call_ints(g, k, st, r);
	call_int(k, nk);
	call_float(k, 1e-9f);
}
