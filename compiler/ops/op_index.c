/*
 * op_index.c -- ops that move elements by run-time indices: GatherElements,
 * GatherND, ScatterND, ScatterElements (and the older Scatter, opsets 9 and
 * 10), OneHot.
 *
 * Shapes never depend on the index values, so indices may be run-time
 * values; constant ones are checked here (a run-time index out of range is
 * clamped by the kernels: runtime/tensor/index.h).  OneHot's depth decides
 * the output's shape and must be a constant.
 *
 * A scatter is two calls: tr_copy of the data into the output, then the
 * scatter of the updates into it (tr_scatter_* for no reduction, whatever
 * the element type; tr_scatter_*_<t> with add, mul (opset 16), max, min
 * (opset 18) for f32, i64, i32).
 */
#include "tostc.h"

#define ALL_DTYPES ((1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32) | (1u << DT_BOOL))
#define INT_DTYPES ((1u << DT_I64) | (1u << DT_I32))

/* Constant indices (input i) must lie in [-n, n) of the axis they index;
 * `per` > 1: the indices are tuples of `per` values, the t-th indexing an
 * axis of dims[t]. */
static void check_indices(Graph *g, Node *n, int i, const int64_t *dims, int per)
{
	Tensor *idx = n->in[i];
	if (idx->kind != TK_CONST)
		return;
	for (int64_t e = 0; e < tensor_nelem(idx); e++) {
		int64_t k = tensor_get_i(idx, e), d = dims[e % per];
		if (k < -d || k >= d)
			node_error(g, n, "index %lld (element %lld of the indices) is out of range for an "
			           "axis of size %lld", (long long)k, (long long)e, (long long)d);
	}
}

/* An elements op (GatherElements, ScatterElements): indices (input 1) of
 * x's rank, no larger than x except along the axis; returns the axis. */
static int elements_axis(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, INT_DTYPES);
	if (x->rank == 0)
		node_error(g, n, "the data must have rank 1 or more");
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
	if (idx->rank != x->rank)
		node_error(g, n, "the indices %s and the data %s differ in rank",
		           tensor_shape_str(g->ctx, idx), tensor_shape_str(g->ctx, x));
	for (int k = 0; k < x->rank; k++)
		if (k != axis && idx->dims[k] > x->dims[k])
			node_error(g, n, "the indices %s are larger than the data %s along axis %d",
			           tensor_shape_str(g->ctx, idx), tensor_shape_str(g->ctx, x), k);
	if (x->dims[axis] == 0 && tensor_nelem(idx) > 0)
		node_error(g, n, "indexing axis %d of size 0", axis);
	check_indices(g, n, 1, &x->dims[axis], 1);
	return axis;
}

/* ------------------------------------------------------------------ */
/* GatherElements, GatherND                                             */
/* ------------------------------------------------------------------ */

void shape_gather_elements(Graph *g, Node *n)
{
	elements_axis(g, n);
	shape_set(n->out[0], n->in[0]->dtype, n->in[1]->rank, n->in[1]->dims);
}

/* x (..), idx (..) -> y (idx's shape): y[e] = x[e's coordinates, idx[e] on the axis] */
void lower_gather_elements(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *y = n->out[0];
	int axis = elements_axis(g, n);
	int64_t xs[MAX_RANK];
	if (tensor_nelem(y) == 0)
		return;
	tensor_strides(x->rank, x->dims, xs);
	Call *c = call_new(g, n, K_tr_gather_elements);
	call_in(c, x);
	call_in(c, idx);
	call_out(c, y);
	call_int(c, idx->rank);
	call_ints(g, c, idx->dims, idx->rank);
	call_ints(g, c, xs, x->rank);
	call_int(c, axis);
	call_int(c, x->dims[axis]);
	call_int(c, (int64_t)dtype_size(idx->dtype));
	call_int(c, (int64_t)dtype_size(x->dtype));
}

/* GatherND's batch_dims (opset 12) and the length m of an index tuple,
 * checked against x (rank r) and the indices (rank q). */
static int gather_nd_dims(Graph *g, Node *n, int *m)
{
	Tensor *x = n->in[0], *idx = n->in[1];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, 1u << DT_I64);
	int64_t b = attr_int(n, "batch_dims", 0);
	if (x->rank < 1 || idx->rank < 1)
		node_error(g, n, "the data and the indices must have rank 1 or more");
	if (b < 0 || b >= x->rank || b >= idx->rank)
		node_error(g, n, "batch_dims %lld must be less than the ranks of the data (%d) and the "
		           "indices (%d)", (long long)b, x->rank, idx->rank);
	for (int k = 0; k < b; k++)
		if (idx->dims[k] != x->dims[k])
			node_error(g, n, "batch axis %d differs between the data %s and the indices %s", k,
			           tensor_shape_str(g->ctx, x), tensor_shape_str(g->ctx, idx));
	int64_t mm = idx->dims[idx->rank - 1];
	if (mm < 1 || mm > x->rank - b)
		node_error(g, n, "index tuples of %lld values cannot index the %lld non-batch axes of "
		           "the data %s", (long long)mm, (long long)(x->rank - b),
		           tensor_shape_str(g->ctx, x));
	*m = (int)mm;
	check_indices(g, n, 1, &x->dims[b], *m);
	return (int)b;
}

void shape_gather_nd(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1];
	int m, b = gather_nd_dims(g, n, &m), r = 0;
	int64_t dims[2 * MAX_RANK];
	for (int k = 0; k + 1 < idx->rank; k++)
		dims[r++] = idx->dims[k];
	for (int k = b + m; k < x->rank; k++)
		dims[r++] = x->dims[k];
	if (r > MAX_RANK)
		node_error(g, n, "the output would have rank %d; at most %d is supported", r, MAX_RANK);
	shape_set(n->out[0], x->dtype, r, dims);
}

/* x (B.., d_0 .. d_(m-1), S..), idx (B.., I.., m) -> y (B.., I.., S..) */
void lower_gather_nd(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *y = n->out[0];
	int m, b = gather_nd_dims(g, n, &m);
	if (tensor_nelem(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_gather_nd);
	call_in(c, x);
	call_in(c, idx);
	call_out(c, y);
	call_int(c, tensor_prod(g, x->dims, 0, b));
	call_int(c, tensor_prod(g, idx->dims, b, idx->rank - 1));
	call_int(c, m);
	call_ints(g, c, &x->dims[b], m);
	call_int(c, tensor_prod(g, x->dims, b + m, x->rank));
	call_int(c, tensor_prod(g, x->dims, b, x->rank));
	call_int(c, 8);
	call_int(c, (int64_t)dtype_size(x->dtype));
}

/* ------------------------------------------------------------------ */
/* ScatterND, ScatterElements, Scatter                                  */
/* ------------------------------------------------------------------ */

static const char *const reductions[] = {"none", "add", "mul", "max", "min"};

/* The reduction attribute (opset 16; max and min opset 18): 0 none, 1 add,
 * 2 mul, 3 max, 4 min (the kernels' numbering). */
static int scatter_reduction(Graph *g, Node *n)
{
	int r = op_attr_choice(g, n, "reduction", "none", reductions, 5);
	if (r >= 3 && g->opset < 18)
		node_error(g, n, "reduction '%s' is new in opset 18; the model imports opset %d",
		           reductions[r], g->opset);
	if (r && n->in[0]->dtype == DT_BOOL)
		node_error(g, n, "reduction '%s' on bool data is not supported", reductions[r]);
	return r;
}

/* The copy of the data into y that a scatter of nupd updates starts with;
 * false when there is nothing to scatter after it. */
static bool scatter_copy(Graph *g, Node *n, int64_t nupd)
{
	if (tensor_nelem(n->out[0]) == 0)
		return false;
	Call *c = call_new(g, n, K_tr_copy);
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_int(c, tensor_nbytes(n->out[0]));
	return nupd > 0;
}

/* The kernel of a scatter with reduction r: the byte kernel `plain` for
 * none, else the typed one of the data's element type (f32, i64, i32). */
static Call *scatter_call(Graph *g, Node *n, int r, KernelId plain, KernelId f32, KernelId i64,
                          KernelId i32)
{
	if (!r)
		return call_new(g, n, plain);
	switch (n->in[0]->dtype) {
	case DT_F32: return call_new(g, n, f32);
	case DT_I64: return call_new(g, n, i64);
	case DT_I32: return call_new(g, n, i32);
	default: unreachable(g->ctx);
	}
}

/* ScatterND: the tuple length m, with updates (input 2) of shape
 * idx.dims[:-1] + data.dims[m:] */
static int scatter_nd_m(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *u = n->in[2];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, 1u << DT_I64);
	need_dtype(g, n, 2, 1u << x->dtype);
	if (x->rank < 1 || idx->rank < 1)
		node_error(g, n, "the data and the indices must have rank 1 or more");
	int64_t m = idx->dims[idx->rank - 1];
	if (m < 1 || m > x->rank)
		node_error(g, n, "index tuples of %lld values cannot index the data %s", (long long)m,
		           tensor_shape_str(g->ctx, x));
	bool ok = u->rank == idx->rank - 1 + x->rank - m;
	for (int k = 0; ok && k < u->rank; k++)
		ok = u->dims[k] == (k < idx->rank - 1 ? idx->dims[k] : x->dims[m + k - idx->rank + 1]);
	if (!ok)
		node_error(g, n, "the updates %s do not match the indices %s and the data %s",
		           tensor_shape_str(g->ctx, u), tensor_shape_str(g->ctx, idx),
		           tensor_shape_str(g->ctx, x));
	check_indices(g, n, 1, x->dims, (int)m);
	return (int)m;
}

/* data x (d_0 .. d_(m-1), S..), idx (I.., m), updates (I.., S..) -> y: x
 * with the slice of each index tuple replaced (or combined) by its update */
void lower_scatter_nd(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *y = n->out[0];
	int m = scatter_nd_m(g, n), r = scatter_reduction(g, n);
	int64_t nupd = tensor_prod(g, idx->dims, 0, idx->rank - 1);
	if (!scatter_copy(g, n, nupd))
		return;
	Call *c = scatter_call(g, n, r, K_tr_scatter_nd, K_tr_scatter_nd_f32, K_tr_scatter_nd_i64,
	                       K_tr_scatter_nd_i32);
	call_in(c, idx);
	call_in(c, n->in[2]);
	call_out(c, y);
	call_int(c, nupd);
	call_int(c, m);
	call_ints(g, c, x->dims, m);
	call_int(c, tensor_prod(g, x->dims, m, x->rank));
	call_int(c, 8);
	call_int(c, r ? r : (int64_t)dtype_size(x->dtype));
}

/* ScatterElements / Scatter: the axis, with updates of the indices' shape */
static int scatter_elements_axis(Graph *g, Node *n)
{
	Tensor *idx = n->in[1], *u = n->in[2];
	int axis = elements_axis(g, n);
	need_dtype(g, n, 2, 1u << n->in[0]->dtype);
	bool same = u->rank == idx->rank;
	for (int k = 0; same && k < u->rank; k++)
		same = u->dims[k] == idx->dims[k];
	if (!same)
		node_error(g, n, "the updates %s and the indices %s differ in shape",
		           tensor_shape_str(g->ctx, u), tensor_shape_str(g->ctx, idx));
	return axis;
}

/* ScatterND, ScatterElements, Scatter: the output is the data's shape */
void shape_scatter(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	if (n->op == OP_SCATTER_ND)
		scatter_nd_m(g, n);
	else
		scatter_elements_axis(g, n);
	scatter_reduction(g, n);
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

/* data x, idx and updates (..) -> y: x with y[e's coordinates, idx[e] on
 * the axis] replaced (or combined) by upd[e] */
void lower_scatter_elements(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *y = n->out[0];
	int axis = scatter_elements_axis(g, n), r = scatter_reduction(g, n);
	int64_t ys[MAX_RANK];
	if (!scatter_copy(g, n, tensor_nelem(idx)))
		return;
	tensor_strides(y->rank, y->dims, ys);
	Call *c = scatter_call(g, n, r, K_tr_scatter_elements, K_tr_scatter_elements_f32,
	                       K_tr_scatter_elements_i64, K_tr_scatter_elements_i32);
	call_in(c, idx);
	call_in(c, n->in[2]);
	call_out(c, y);
	call_int(c, idx->rank);
	call_ints(g, c, idx->dims, idx->rank);
	call_ints(g, c, ys, y->rank);
	call_int(c, axis);
	call_int(c, x->dims[axis]);
	call_int(c, (int64_t)dtype_size(idx->dtype));
	call_int(c, r ? r : (int64_t)dtype_size(x->dtype));
}

/* ------------------------------------------------------------------ */
/* OneHot                                                               */
/* ------------------------------------------------------------------ */

/* The depth (input 1, a constant number) and the output axis. */
static int64_t one_hot_depth(Graph *g, Node *n, int *axis)
{
	Tensor *idx = n->in[0], *v = n->in[2];
	need_dtype(g, n, 0, (1u << DT_F32) | INT_DTYPES);
	need_dtype(g, n, 1, (1u << DT_F32) | INT_DTYPES);
	need_dtype(g, n, 2, ALL_DTYPES);
	Tensor *d = need_const(g, n, 1);
	if (tensor_nelem(d) != 1)
		node_error(g, n, "depth (input 1) must be one value, not %s", tensor_shape_str(g->ctx, d));
	double dv = tensor_get_f(d, 0);
	if (!(dv >= 1 && dv < 1e15))
		node_error(g, n, "depth %g must be a positive count", dv);
	if (v->rank != 1 || v->dims[0] != 2)
		node_error(g, n, "values (input 2) must be [off, on], not %s",
		           tensor_shape_str(g->ctx, v));
	if (idx->rank + 1 > MAX_RANK)
		node_error(g, n, "the output would have rank %d; at most %d is supported",
		           idx->rank + 1, MAX_RANK);
	*axis = shape_axis(g, n, attr_int(n, "axis", -1), idx->rank + 1);
	return (int64_t)dv;
}

void shape_one_hot(Graph *g, Node *n)
{
	Tensor *idx = n->in[0];
	int axis;
	int64_t depth = one_hot_depth(g, n, &axis), dims[MAX_RANK];
	for (int k = 0, j = 0; k <= idx->rank; k++)
		dims[k] = k == axis ? depth : idx->dims[j++];
	shape_set(n->out[0], n->in[2]->dtype, idx->rank + 1, dims);
}

/* indices (O.., I..), values [off, on] -> y (O.., depth, I..) */
void lower_one_hot(Graph *g, Node *n)
{
	Tensor *idx = n->in[0], *y = n->out[0];
	int axis;
	int64_t depth = one_hot_depth(g, n, &axis);
	if (tensor_nelem(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_one_hot);
	call_in(c, idx);
	call_in(c, n->in[2]);
	call_out(c, y);
	call_int(c, tensor_prod(g, idx->dims, 0, axis));
	call_int(c, depth);
	call_int(c, tensor_prod(g, idx->dims, axis, idx->rank));
	call_int(c, idx->dtype == DT_I64 ? 0 : idx->dtype == DT_I32 ? 1 : 2);
	call_int(c, g->opset >= 11);
	call_int(c, (int64_t)dtype_size(y->dtype));
}
