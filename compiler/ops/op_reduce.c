/*
 * op_reduce.c -- shape and lower functions of the ops that reduce along
 * axes: the Reduce* family (Sum, Mean, Max, Min, Prod, L1, L2, SumSquare,
 * LogSum, LogSumExp), ArgMax and ArgMin, TopK, and the losses
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
 *
 * Kernels are found by (op, element type) in the EW_REDUCE, EW_ARG and
 * EW_TOPK rows of runtime/kernels.def.  A reduction's axes of size > 1 are
 * grouped into runs of reduced and kept axes: one reduced run is x (outer, r,
 * inner) for the plain kernels, more go through the general strided form.
 *
 * Axes are an attribute before opset 18 (13 for ReduceSum) and a constant
 * input from then on.  Empty axes reduce everything, unless
 * noop_with_empty_axes is set: then nothing is reduced but the op's
 * elementwise part still applies, as ONNX defines it (ReduceSumSquare
 * squares, ReduceL1 takes |x|, ReduceLogSum the log); ops whose elementwise
 * part is the identity copy their input.
 *
 * TopK's k decides the output shape, so it must be known when compiling: an
 * attribute before opset 10, a constant input from then on.
 */
#include "tostc.h"

#include <string.h>

#define M_F32 (1u << DT_F32)
#define M_INT ((1u << DT_I64) | (1u << DT_I32))
#define M_NUM (M_F32 | M_INT)

/* ------------------------------------------------------------------ */
/* Kernel tables: the EW_REDUCE, EW_ARG, EW_TOPK rows of kernels.def  */
/* ------------------------------------------------------------------ */

#define KERNEL(...)

/* fn_g: a reduction's general strided form (fn for the others) */
typedef struct {
	OpKind op;
	DType t;
	KernelId fn, fn_g;
} Kernel;

static const Kernel reduce_kernels[] = {
#define EW_REDUCE(op, t, k) {OP_##op, K_DT_##t, K_##k, K_##k##_g},
#include "kernels.def"
	/* plain KERNEL rows: the general form takes scratch for the sums */
	{OP_REDUCE_LOG_SUM_EXP, DT_F32, K_tr_reduce_log_sum_exp_f32, K_tr_reduce_log_sum_exp_f32_g},
};
static const Kernel arg_kernels[] = {
#define EW_ARG(op, t, k) {OP_##op, K_DT_##t, K_##k, K_##k},
#include "kernels.def"
};
static const Kernel topk_kernels[] = {
#define EW_TOPK(t, fn) {OP_TOP_K, K_DT_##t, K_##fn, K_##fn},
#include "kernels.def"
};
#undef KERNEL

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const Kernel *find_kernel(Graph *g, Node *n, const Kernel *tab, int ntab, DType t)
{
	for (int i = 0; i < ntab; i++)
		if (tab[i].op == n->op && tab[i].t == t)
			return &tab[i];
	node_error(g, n, "%s has no kernel for element type %s", op_info[n->op].name,
	           dtype_name(t));
}

static int64_t prod(const int64_t *d, int from, int to)
{
	int64_t p = 1;
	for (int i = from; i < to; i++)
		p *= d[i];
	return p;
}

/* An attribute that must be 0 or 1. */
static int64_t flag_attr(Graph *g, Node *n, const char *name, int64_t dflt)
{
	int64_t v = attr_int(n, name, dflt);
	if (v != 0 && v != 1)
		node_error(g, n, "%s must be 0 or 1, got %lld", name, (long long)v);
	return v;
}

/* x's shape without the axes of mask, or with them as 1 (keep); returns the rank */
static int reduced_shape(const Tensor *x, const bool *mask, bool keep, int64_t *dims)
{
	int r = 0;
	for (int d = 0; d < x->rank; d++) {
		if (!mask[d])
			dims[r++] = x->dims[d];
		else if (keep)
			dims[r++] = 1;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Reduce*                                                              */
/* ------------------------------------------------------------------ */

/* (tostc.h) also used by fuse_absorb.c and stream_rules.c */
bool op_reduce_axes(Graph *g, Node *n, bool *mask)
{
	Tensor *x = n->in[0];
	int r = x->rank;
	bool from_input = (n->op == OP_REDUCE_SUM && g->opset >= 13) || g->opset >= 18;
	int64_t axes[MAX_RANK];
	int na = 0;
	if (from_input) {
		if (attr_find(n, "axes"))
			node_error(g, n, "%s takes axes as an input at opset %d, not as an attribute",
			           op_info[n->op].name, g->opset);
		if (n->nin > 1 && n->in[1]) {
			Tensor *t = need_const(g, n, 1);
			need_dtype(g, n, 1, 1u << DT_I64);
			if (t->rank > 1)
				node_error(g, n, "axes must be 1-D, got %s", tensor_shape_str(g->ctx, t));
			int64_t cnt = tensor_nelem(t);
			if (cnt > r)
				node_error(g, n, "lists %lld axes for an input of rank %d",
				           (long long)cnt, r);
			for (int64_t i = 0; i < cnt; i++)
				axes[na++] = tensor_get_i(t, i);
		}
	} else {
		if (n->nin > 1 && n->in[1])
			node_error(g, n, "%s takes axes as an attribute at opset %d, not as an input",
			           op_info[n->op].name, g->opset);
		const int64_t *v;
		int cnt = attr_ints(n, "axes", &v);
		if (cnt > r)
			node_error(g, n, "lists %d axes for an input of rank %d", cnt, r);
		for (int i = 0; i < cnt; i++)
			axes[na++] = v[i];
	}
	for (int d = 0; d < MAX_RANK; d++)
		mask[d] = false;
	for (int i = 0; i < na; i++) {
		int a = shape_axis(g, n, axes[i], r);
		if (mask[a])
			node_error(g, n, "axis %d is listed twice", a);
		mask[a] = true;
	}
	if (na == 0) {
		if (flag_attr(g, n, "noop_with_empty_axes", 0))
			return true;
		for (int d = 0; d < r; d++)
			mask[d] = true;
	}
	return false;
}

void shape_reduce(Graph *g, Node *n)
{
	unsigned mask = M_F32;
	switch (n->op) {
	case OP_REDUCE_MAX:
	case OP_REDUCE_MIN: mask = M_NUM | (1u << DT_BOOL); break;   /* bool: opset 20 */
	case OP_REDUCE_SUM:
	case OP_REDUCE_PROD:
	case OP_REDUCE_L1:
	case OP_REDUCE_SUM_SQUARE: mask = M_NUM; break;
	default: break;
	}
	need_dtype(g, n, 0, mask);
	Tensor *x = n->in[0];
	bool keep = flag_attr(g, n, "keepdims", 1), axes[MAX_RANK];
	op_reduce_axes(g, n, axes);   /* a no-op leaves every axis out of the mask */
	int64_t dims[MAX_RANK];
	int r = reduced_shape(x, axes, keep, dims);
	shape_set(n->out[0], x->dtype, r, dims);
}

/* The reductions whose elementwise part is the identity: with no axes and
 * noop_with_empty_axes they copy. */
static bool identity_when_noop(OpKind op)
{
	return op == OP_REDUCE_SUM || op == OP_REDUCE_MEAN || op == OP_REDUCE_MAX ||
	       op == OP_REDUCE_MIN || op == OP_REDUCE_PROD;
}

void lower_reduce(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	bool mask[MAX_RANK];
	if (op_reduce_axes(g, n, mask) && identity_when_noop(n->op)) {
		Call *c = call_new(g, n, K_tr_copy);
		call_in(c, x);
		call_out(c, y);
		call_int(c, tensor_nbytes(y));
		return;
	}
	/* the axes of size > 1 in runs of reduced / kept axes */
	int64_t gd[MAX_RANK];
	bool gr[MAX_RANK];
	int ng = 0, nred = 0, first = -1;
	for (int d = 0; d < x->rank; d++) {
		if (x->dims[d] == 1)
			continue;
		if (ng && gr[ng - 1] == mask[d]) {
			gd[ng - 1] *= x->dims[d];
			continue;
		}
		gd[ng] = x->dims[d];
		gr[ng] = mask[d];
		if (mask[d]) {
			nred++;
			if (first < 0)
				first = ng;
		}
		ng++;
	}
	const Kernel *k = find_kernel(g, n, reduce_kernels, COUNT(reduce_kernels), x->dtype);
	if (nred <= 1) {
		/* x (outer, r, inner) -> y (outer, inner); nothing reduced: (1, 1, all) */
		int64_t outer = first < 0 ? 1 : prod(gd, 0, first);
		int64_t r = first < 0 ? 1 : gd[first];
		int64_t inner = first < 0 ? prod(gd, 0, ng) : prod(gd, first + 1, ng);
		Call *c = call_new(g, n, k->fn);
		call_in(c, x);
		call_out(c, y);
		call_int(c, outer);
		call_int(c, r);
		call_int(c, inner);
		return;
	}
	int64_t ys[MAX_RANK], s = 1;
	for (int i = ng - 1; i >= 0; i--) {
		ys[i] = gr[i] ? 0 : s;
		if (!gr[i])
			s *= gd[i];
	}
	Call *c = call_new(g, n, k->fn_g);
	call_in(c, x);
	call_out(c, y);
	if (n->op == OP_REDUCE_LOG_SUM_EXP)
		call_scratch(c, (int64_t)sizeof(float) * tensor_nelem(y));   /* the sums */
	call_int(c, ng);
	call_ints(g, c, gd, ng);
	call_ints(g, c, ys, ng);
}

/* ------------------------------------------------------------------ */
/* ArgMax, ArgMin, TopK: one axis, x as (outer, n, inner)               */
/* ------------------------------------------------------------------ */

/* the axis attribute (dflt when absent) */
static int select_axis(Graph *g, Node *n, int64_t dflt)
{
	Tensor *x = n->in[0];
	if (x->rank == 0)
		node_error(g, n, "input must have rank >= 1");
	return shape_axis(g, n, attr_int(n, "axis", dflt), x->rank);
}

/* the call's outer, n and inner for x and the axis */
static void call_axis(Call *c, const Tensor *x, int axis)
{
	call_int(c, prod(x->dims, 0, axis));
	call_int(c, x->dims[axis]);
	call_int(c, prod(x->dims, axis + 1, x->rank));
}

void shape_arg(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_NUM);
	Tensor *x = n->in[0];
	bool mask[MAX_RANK] = {false};
	mask[select_axis(g, n, 0)] = true;
	bool keep = flag_attr(g, n, "keepdims", 1);
	flag_attr(g, n, "select_last_index", 0);
	int64_t dims[MAX_RANK];
	int r = reduced_shape(x, mask, keep, dims);
	shape_set(n->out[0], DT_I64, r, dims);
}

/* x (outer, r, inner) -> y (outer, inner) */
void lower_arg(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	const Kernel *k = find_kernel(g, n, arg_kernels, COUNT(arg_kernels), x->dtype);
	Call *c = call_new(g, n, k->fn);
	call_in(c, x);
	call_out(c, n->out[0]);
	call_axis(c, x, select_axis(g, n, 0));
	call_int(c, attr_int(n, "select_last_index", 0));
}

/* k: the attribute before opset 10, constant input 1 from then on */
static int64_t topk_k(Graph *g, Node *n, int axis)
{
	int64_t k, len = n->in[0]->dims[axis];
	if (g->opset < 10) {
		const Attr *a = attr_find(n, "k");
		if (n->nin > 1)
			node_error(g, n, "TopK takes k as an attribute at opset %d, not as an input",
			           g->opset);
		if (!a || a->kind != AT_INT)
			node_error(g, n, "TopK needs an integer attribute 'k' at opset %d", g->opset);
		k = a->i;
	} else {
		if (attr_find(n, "k"))
			node_error(g, n, "TopK takes k as an input at opset %d, not as an attribute",
			           g->opset);
		/* k decides the output shape */
		Tensor *t = need_const(g, n, 1);
		need_dtype(g, n, 1, 1u << DT_I64);
		if (t->rank > 1 || tensor_nelem(t) != 1)
			node_error(g, n, "k must hold one value, got %s", tensor_shape_str(g->ctx, t));
		k = tensor_get_i(t, 0);
	}
	if (k < 1 || k > len)
		node_error(g, n, "k = %lld is out of range for axis %d of size %lld (1 to %lld)",
		           (long long)k, axis, (long long)len, (long long)len);
	return k;
}

void shape_topk(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_NUM);
	Tensor *x = n->in[0];
	int axis = select_axis(g, n, -1);
	flag_attr(g, n, "largest", 1);
	flag_attr(g, n, "sorted", 1);   /* unsorted output may be in any order: sorted it is */
	int64_t dims[MAX_RANK];
	memcpy(dims, x->dims, sizeof dims);
	dims[axis] = topk_k(g, n, axis);
	shape_set(n->out[0], x->dtype, x->rank, dims);
	shape_set(n->out[1], DT_I64, x->rank, dims);
}

/* x (outer, n, inner) -> values, indices (outer, k, inner) */
void lower_topk(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int axis = select_axis(g, n, -1);
	const Kernel *k = find_kernel(g, n, topk_kernels, COUNT(topk_kernels), x->dtype);
	Call *c = call_new(g, n, k->fn);
	call_in(c, x);
	call_out(c, n->out[0]);
	call_out(c, n->out[1]);
	call_axis(c, x, axis);
	call_int(c, n->out[0]->dims[axis]);
	call_int(c, attr_int(n, "largest", 1));
}

/* ------------------------------------------------------------------ */
/* NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss                   */
/* ------------------------------------------------------------------ */

/* 0 none, 1 sum, 2 mean (the kernels' reduction) */
static int loss_reduction(Graph *g, Node *n)
{
	static const char *const names[] = {"none", "sum", "mean"};
	const char *r = attr_string(n, "reduction", "mean");
	for (int i = 0; i < 3; i++)
		if (strcmp(r, names[i]) == 0)
			return i;
	node_error(g, n, "reduction '%s' is not supported (none, sum or mean)", text_msg(g->ctx, r));
}

/* input x (N, C, d1, ..), target (N, d1, ..) int64 or int32, weight (C) */
void shape_loss(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_F32);
	need_dtype(g, n, 1, M_INT);
	Tensor *x = n->in[0], *t = n->in[1], *w = n->nin > 2 ? n->in[2] : NULL;
	if (x->rank < 2)
		node_error(g, n, "input 0 must be (N, C, ...), got %s", tensor_shape_str(g->ctx, x));
	bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
	for (int d = 2; ok && d < x->rank; d++)
		ok = t->dims[d - 1] == x->dims[d];
	if (!ok)
		node_error(g, n, "target %s does not fit input %s: for (N, C, d1, ..) it must be "
		           "(N, d1, ..)", tensor_shape_str(g->ctx, t), tensor_shape_str(g->ctx, x));
	if (w) {
		need_dtype(g, n, 2, M_F32);
		if (w->rank != 1 || w->dims[0] != x->dims[1])
			node_error(g, n, "weight must be (C) = (%lld), got %s", (long long)x->dims[1],
			           tensor_shape_str(g->ctx, w));
	}
	if (loss_reduction(g, n) == 0)
		shape_set(n->out[0], DT_F32, t->rank, t->dims);
	else
		shape_set(n->out[0], DT_F32, 0, NULL);
	if (n->nout > 1 && n->out[1])   /* SoftmaxCrossEntropyLoss's log_prob */
		shape_set(n->out[1], DT_F32, x->rank, x->dims);
}

void lower_loss(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *t = n->in[1], *w = n->nin > 2 ? n->in[2] : NULL;
	bool i64 = t->dtype == DT_I64;
	Call *c;
	if (n->op == OP_NLL_LOSS)
		c = call_new(g, n, i64 ? K_tr_nll_loss_f32_i64 : K_tr_nll_loss_f32_i32);
	else
		c = call_new(g, n, i64 ? K_tr_sce_loss_f32_i64 : K_tr_sce_loss_f32_i32);
	call_in(c, x);
	call_in(c, t);
	call_in(c, w ? w : x);   /* unread without weights */
	call_out(c, n->out[0]);
	if (n->op == OP_SCE_LOSS) {
		if (n->nout > 1 && n->out[1])
			call_out(c, n->out[1]);
		else
			call_scratch(c, (int64_t)sizeof(float) * tensor_nelem(x));
	}
	call_int(c, x->dims[0]);
	call_int(c, x->dims[1]);
	call_int(c, prod(x->dims, 2, x->rank));
	call_int(c, w != NULL);
	call_int(c, attr_int(n, "ignore_index", 0));
	call_int(c, attr_find(n, "ignore_index") != NULL);
	call_int(c, loss_reduction(g, n));
}
