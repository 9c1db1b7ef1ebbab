/*
 * op_tensor.c -- data movement and shape ops: Transpose, Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Concat, Split, Slice, Gather, Expand, Tile,
 * Range, Shape, Constant, ConstantOfShape.
 *
 * Shape functions validate the node and set output shapes; every input that
 * determines a shape (Reshape's shape, Slice's starts, Squeeze's axes from
 * opset 13, ...) must be a constant.  Shape and Constant are known in full at
 * compile time: their shape functions turn the output into a TK_CONST tensor
 * and mark the node dead, so later shape functions (a Reshape fed by
 * Shape -> Gather -> Concat) see constants.
 *
 * Lowering maps each op onto a handful of byte-generic kernels in
 * runtime/tensor/tensor.h.  Transpose, Slice, Expand and Tile are all one
 * "strided copy": the output is contiguous and element i0..ik of it reads
 * x[base + sum i_j * stride_j].  Before emitting, the index map is
 * simplified (size-1 axes dropped, axes that are contiguous in both merged),
 * so a 2-D transpose, a batched transpose (moving one axis) and a slice of
 * whole rows reach the kernel as rank 1-3 with fast paths.  The view ops
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity) emit nothing when views.c
 * made the output an alias (out->view_of), else one plain copy.
 */
#include <string.h>

#include "tostc.h"
#include "tensor/tensor.h"

#define ALL_DTYPES DT_MASK_ALL
#define INT_DTYPES ((1u << DT_I64) | (1u << DT_I32))
#define MAX_MAP_RANK 16   /* tr_strided_copy handles up to 16 axes (Tile doubles the rank) */

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* (tostc.h) row-major element strides of a shape */
void tensor_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int k = rank - 1; k >= 0; k--) {
		strides[k] = s;
		s *= dims[k];
	}
}

/* (tostc.h) the product of dims[from..to), checked */
int64_t tensor_prod(Graph *g, const int64_t *dims, int from, int to)
{
	int64_t p = 1;
	for (int k = from; k < to; k++)
		p = ctx_mul(g->ctx, p, dims[k]);
	return p;
}

/* (tostc.h) the constant integer list in input i into v */
int tensor_const_ints(Graph *g, Node *n, int i, int64_t *v, int max, const char *what)
{
	Tensor *t = need_const(g, n, i);
	if (t->dtype != DT_I64 && t->dtype != DT_I32)
		node_error(g, n, "%s (input %d) must be int64 or int32, not %s", what, i,
		           dtype_name(t->dtype));
	if (t->rank > 1)
		node_error(g, n, "%s (input %d) must be 1-D, not %s", what, i,
		           tensor_shape_str(g->ctx, t));
	int64_t cnt = tensor_nelem(t);
	if (cnt > max)
		node_error(g, n, "%s (input %d) has %lld values, at most %d are supported", what, i,
		           (long long)cnt, max);
	for (int64_t k = 0; k < cnt; k++)
		v[k] = tensor_get_i(t, k);
	return (int)cnt;
}

/* An axes list from input i (when present) or from attribute "axes";
 * returns -1 when neither is given. */
static int get_axes(Graph *g, Node *n, int i, int64_t *axes)
{
	if (i < n->nin && n->in[i])
		return tensor_const_ints(g, n, i, axes, MAX_RANK, "axes");
	const int64_t *v;
	int cnt = attr_ints(n, "axes", &v);
	if (cnt > MAX_RANK)
		node_error(g, n, "%d axes given, at most %d are supported", cnt, MAX_RANK);
	for (int k = 0; k < cnt; k++)
		axes[k] = v[k];
	return cnt;
}

/* The output of Shape / Constant is known now: make it a constant with
 * `data` (nbytes, arena memory) and retire the node. */
static void make_const(Node *n, Tensor *t, void *data)
{
	t->kind = TK_CONST;
	t->data = data;
	t->producer = NULL;
	n->dead = true;
}

static void copy_bytes(void *d, const void *s, int64_t nbytes)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	for (int64_t i = 0; i < nbytes; i++)
		dp[i] = sp[i];
}

/* Simplify the index map y (dims) <- x (strides, base): drop size-1 axes and
 * merge axis k into k+1 when strides[k] == strides[k+1] * dims[k+1].
 * Returns the new rank (dims/strides rewritten in place). */
static int simplify_map(int rank, int64_t *dims, int64_t *strides)
{
	int r = 0;
	for (int k = 0; k < rank; k++) {
		if (dims[k] == 1)
			continue;
		if (r > 0 && strides[r - 1] == strides[k] * dims[k]) {
			dims[r - 1] *= dims[k];
			strides[r - 1] = strides[k];
			continue;
		}
		dims[r] = dims[k];
		strides[r] = strides[k];
		r++;
	}
	return r;
}

/* (tostc.h) y <- x through an index map: tr_strided_copy, or tr_copy */
void tensor_emit_strided(Graph *g, Node *n, Tensor *x, Tensor *y, int rank, int64_t *dims,
                         int64_t *strides, int64_t base)
{
	int64_t es = (int64_t)dtype_size(y->dtype);
	if (tensor_nelem(y) == 0)
		return;
	rank = simplify_map(rank, dims, strides);
	ir_assert(g->ctx, rank <= MAX_MAP_RANK);
	if (base == 0 && (rank == 0 || (rank == 1 && strides[0] == 1))) {
		Call *c = call_new(g, n, K_tr_copy);
		call_in(c, x);
		call_out(c, y);
		call_int(c, tensor_nbytes(y));
		return;
	}
	Call *c = call_new(g, n, K_tr_strided_copy);
	call_in(c, x);
	call_out(c, y);
	call_int(c, rank);
	call_ints(g, c, dims, rank);
	call_ints(g, c, strides, rank);
	call_int(c, base);
	call_int(c, es);
}

/* ------------------------------------------------------------------ */
/* Transpose                                                            */
/* ------------------------------------------------------------------ */

/* perm attribute, default reversed; validated. */
static void get_perm(Graph *g, Node *n, int r, int *perm)
{
	const int64_t *v;
	int cnt = attr_ints(n, "perm", &v);
	if (cnt < 0) {
		for (int k = 0; k < r; k++)
			perm[k] = r - 1 - k;
		return;
	}
	if (cnt != r)
		node_error(g, n, "perm has %d entries but the input has rank %d", cnt, r);
	bool seen[MAX_RANK] = {0};
	for (int k = 0; k < r; k++) {
		if (v[k] < 0 || v[k] >= r)
			node_error(g, n, "perm[%d] = %lld is out of range for rank %d", k,
			           (long long)v[k], r);
		if (seen[v[k]])
			node_error(g, n, "perm repeats axis %lld", (long long)v[k]);
		seen[v[k]] = true;
		perm[k] = (int)v[k];
	}
}

void shape_transpose(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int perm[MAX_RANK];
	int64_t dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	get_perm(g, n, x->rank, perm);
	for (int k = 0; k < x->rank; k++)
		dims[k] = x->dims[perm[k]];
	shape_set(n->out[0], x->dtype, x->rank, dims);
}

/* x (d0, ..., dr) -> y (d_perm[0], ..., d_perm[r]) */
void lower_transpose(Graph *g, Node *n)
{
	int64_t dims[MAX_MAP_RANK], strides[MAX_MAP_RANK], base;
	int r = tensor_index_map(g, n, dims, strides, &base);
	tensor_emit_strided(g, n, n->in[0], n->out[0], r, dims, strides, base);
}

/* ------------------------------------------------------------------ */
/* Views: Reshape, Flatten, Squeeze, Unsqueeze, Identity                */
/* ------------------------------------------------------------------ */

void shape_reshape(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t shape[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	if (n->in[1] && n->in[1]->dtype != DT_I64)
		node_error(g, n, "shape (input 1) must be int64, not %s", dtype_name(n->in[1]->dtype));
	int r = tensor_const_ints(g, n, 1, shape, MAX_RANK, "shape");
	bool allowzero = g->opset >= 14 && attr_int(n, "allowzero", 0) != 0;
	int infer = -1;
	int64_t known = 1;
	for (int k = 0; k < r; k++) {
		if (shape[k] == -1) {
			if (infer >= 0)
				node_error(g, n, "shape has more than one -1 (entries %d and %d)", infer, k);
			infer = k;
			continue;
		}
		if (shape[k] < -1)
			node_error(g, n, "shape[%d] = %lld is negative", k, (long long)shape[k]);
		if (shape[k] == 0 && !allowzero) {
			if (k >= x->rank)
				node_error(g, n, "shape[%d] = 0 copies input axis %d, but the input %s "
				           "has rank %d", k, k, tensor_shape_str(g->ctx, x), x->rank);
			shape[k] = x->dims[k];
		}
		known = ctx_mul(g->ctx, known, shape[k]);
	}
	int64_t total = tensor_nelem(x);
	if (infer >= 0) {
		if (known == 0)
			node_error(g, n, "cannot infer the -1 in shape: the other entries multiply to 0");
		if (total % known != 0)
			node_error(g, n, "cannot reshape %s (%lld elements) to a shape whose known "
			           "entries multiply to %lld", tensor_shape_str(g->ctx, x),
			           (long long)total, (long long)known);
		shape[infer] = total / known;
	} else if (known != total) {
		node_error(g, n, "cannot reshape %s (%lld elements) to %d-D shape with %lld elements",
		           tensor_shape_str(g->ctx, x), (long long)total, r, (long long)known);
	}
	shape_set(n->out[0], x->dtype, r, shape);
}

void shape_flatten(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, ALL_DTYPES);
	int64_t axis = attr_int(n, "axis", 1);
	if (axis < -x->rank || axis > x->rank)
		node_error(g, n, "axis %lld is out of range for rank %d (allowed [%d, %d])",
		           (long long)axis, x->rank, -x->rank, x->rank);
	if (axis < 0)
		axis += x->rank;
	int64_t dims[2] = {tensor_prod(g, x->dims, 0, (int)axis), tensor_prod(g, x->dims, (int)axis, x->rank)};
	shape_set(n->out[0], x->dtype, 2, dims);
}

void shape_squeeze(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t axes[MAX_RANK], dims[MAX_RANK];
	bool drop[MAX_RANK] = {0};
	need_dtype(g, n, 0, ALL_DTYPES);
	int na = get_axes(g, n, 1, axes);
	if (na <= 0) {          /* no (or empty) axes: remove every size-1 axis */
		for (int k = 0; k < x->rank; k++)
			drop[k] = x->dims[k] == 1;
	}
	for (int k = 0; k < na; k++) {
		int a = shape_axis(g, n, axes[k], x->rank);
		if (drop[a])
			node_error(g, n, "axes list axis %d twice", a);
		if (x->dims[a] != 1)
			node_error(g, n, "cannot squeeze axis %d of %s: its size is %lld, not 1", a,
			           tensor_shape_str(g->ctx, x), (long long)x->dims[a]);
		drop[a] = true;
	}
	int r = 0;
	for (int k = 0; k < x->rank; k++)
		if (!drop[k])
			dims[r++] = x->dims[k];
	shape_set(n->out[0], x->dtype, r, dims);
}

void shape_unsqueeze(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t axes[MAX_RANK], dims[MAX_RANK];
	bool ins[MAX_RANK] = {0};
	need_dtype(g, n, 0, ALL_DTYPES);
	int na = get_axes(g, n, 1, axes);
	if (na < 0)
		node_error(g, n, g->opset >= 13 ? "axes (input 1) is required"
		                                 : "the axes attribute is required");
	int r = x->rank + na;
	if (r > MAX_RANK)
		node_error(g, n, "the output would have rank %d; at most %d is supported", r, MAX_RANK);
	for (int k = 0; k < na; k++) {
		int a = shape_axis(g, n, axes[k], r);
		if (ins[a])
			node_error(g, n, "axes list axis %d twice", a);
		ins[a] = true;
	}
	for (int k = 0, j = 0; k < r; k++)
		dims[k] = ins[k] ? 1 : x->dims[j++];
	shape_set(n->out[0], x->dtype, r, dims);
}

void shape_identity(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, ALL_DTYPES);
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

/* x -> y, same bytes: nothing when views.c made y an alias of x, else a copy. */
void lower_view(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	if (y->view_of || tensor_nbytes(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_copy);
	call_in(c, n->in[0]);
	call_out(c, y);
	call_int(c, tensor_nbytes(y));
}

/* ------------------------------------------------------------------ */
/* Concat, Split                                                        */
/* ------------------------------------------------------------------ */

static int concat_axis(Graph *g, Node *n, int r)
{
	if (!attr_find(n, "axis") && g->opset >= 4)
		node_error(g, n, "the axis attribute is required");
	return shape_axis(g, n, attr_int(n, "axis", 1), r);
}

void shape_concat(Graph *g, Node *n)
{
	Tensor *x0 = n->in[0];
	int64_t dims[MAX_RANK];
	for (int i = 0; i < n->nin; i++) {
		if (!n->in[i])
			node_error(g, n, "input %d is missing", i);
		need_dtype(g, n, i, ALL_DTYPES);
	}
	if (x0->rank == 0)
		node_error(g, n, "cannot concatenate scalars (input 0 has rank 0)");
	int axis = concat_axis(g, n, x0->rank);
	for (int k = 0; k < x0->rank; k++)
		dims[k] = x0->dims[k];
	for (int i = 1; i < n->nin; i++) {
		Tensor *x = n->in[i];
		if (x->dtype != x0->dtype)
			node_error(g, n, "inputs 0 and %d differ in element type (%s vs %s)", i,
			           dtype_name(x0->dtype), dtype_name(x->dtype));
		if (x->rank != x0->rank)
			node_error(g, n, "inputs 0 and %d differ in rank (%d vs %d)", i, x0->rank,
			           x->rank);
		for (int k = 0; k < x0->rank; k++)
			if (k != axis && x->dims[k] != x0->dims[k])
				node_error(g, n, "inputs 0 and %d differ in axis %d (%lld vs %lld)", i, k,
				           (long long)x0->dims[k], (long long)x->dims[k]);
		dims[axis] = ctx_add(g->ctx, dims[axis], x->dims[axis]);
	}
	shape_set(n->out[0], x0->dtype, x0->rank, dims);
}

/* Copy x (outer, xlen, inner) <-> a band of the wider (outer, ylen, inner):
 * rows of len*inner elements at x_off / y_off (in axis units). */
static void emit_rows(Graph *g, Node *n, Tensor *x, Tensor *y, int64_t outer, int64_t len,
                      int64_t inner, int64_t xlen, int64_t ylen, int64_t xoff, int64_t yoff)
{
	int64_t es = (int64_t)dtype_size(y->dtype);
	int64_t unit = inner * es;   /* bytes of one step along the axis */
	if (outer == 0 || len * unit == 0)
		return;
	Call *c = call_new(g, n, K_tr_copy_rows);
	call_in(c, x);
	call_out(c, y);
	call_int(c, outer);
	call_int(c, len * unit);
	call_int(c, xlen * unit);
	call_int(c, ylen * unit);
	call_int(c, xoff * unit);
	call_int(c, yoff * unit);
}

/* x_i (outer, a_i, inner) -> y (outer, sum a_i, inner), one row copy per input */
void lower_concat(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	int axis = concat_axis(g, n, y->rank);
	int64_t outer = tensor_prod(g, y->dims, 0, axis), inner = tensor_prod(g, y->dims, axis + 1, y->rank);
	int64_t off = 0;
	for (int i = 0; i < n->nin; i++) {
		Tensor *x = n->in[i];
		int64_t a = x->dims[axis];
		emit_rows(g, n, x, y, outer, a, inner, a, y->dims[axis], 0, off);
		off += a;
	}
}

/* The split sizes along the axis: input 1, attribute "split", attribute
 * "num_outputs" (opset 18: chunks of ceil(size / num_outputs), the last one
 * smaller), or equal parts. */
static void split_sizes(Graph *g, Node *n, int axis, int64_t *sizes)
{
	Tensor *x = n->in[0];
	int cnt;
	const Attr *no = attr_find(n, "num_outputs");
	if (no) {
		int64_t d = x->dims[axis], k = no->i, chunk = k > 0 ? (d + k - 1) / k : 0;
		if (n->nin > 1 && n->in[1])
			node_error(g, n, "Split takes a split input or num_outputs, not both");
		if (no->kind != AT_INT || k < n->nout)   /* more: trailing outputs left out */
			node_error(g, n, "num_outputs must be an integer, at least the node's %d outputs",
			           n->nout);
		if (d - chunk * (k - 1) < 1)
			node_error(g, n, "axis %d of size %lld does not split into %lld chunks of %lld "
			           "(the last one would be empty)", axis, (long long)d, (long long)k,
			           (long long)chunk);
		for (int i = 0; i < n->nout; i++)
			sizes[i] = i + 1 < k ? chunk : d - chunk * (k - 1);
		return;
	}
	if (n->nin > 1 && n->in[1]) {
		int64_t *v = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(n->nout + 1));
		cnt = tensor_const_ints(g, n, 1, v, n->nout + 1, "split");
		for (int k = 0; k < cnt && k < n->nout; k++)
			sizes[k] = v[k];
	} else {
		const int64_t *v;
		cnt = attr_ints(n, "split", &v);
		for (int k = 0; k < cnt && k < n->nout; k++)
			sizes[k] = v[k];
	}
	int64_t d = x->dims[axis];
	if (cnt < 0) {
		if (d % n->nout != 0)
			node_error(g, n, "axis %d of size %lld does not split into %d equal parts", axis,
			           (long long)d, n->nout);
		for (int k = 0; k < n->nout; k++)
			sizes[k] = d / n->nout;
		return;
	}
	if (cnt != n->nout)
		node_error(g, n, "split has %d entries but the node has %d outputs", cnt, n->nout);
	int64_t sum = 0;
	for (int k = 0; k < cnt; k++) {
		if (sizes[k] < 0)
			node_error(g, n, "split[%d] = %lld is negative", k, (long long)sizes[k]);
		sum = ctx_add(g->ctx, sum, sizes[k]);
	}
	if (sum != d)
		node_error(g, n, "split sizes add up to %lld but axis %d has size %lld",
		           (long long)sum, axis, (long long)d);
}

void shape_split(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	if (x->rank == 0)
		node_error(g, n, "cannot split a scalar");
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
	int64_t *sizes = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)n->nout);
	split_sizes(g, n, axis, sizes);
	for (int i = 0; i < n->nout; i++) {
		for (int k = 0; k < x->rank; k++)
			dims[k] = x->dims[k];
		dims[axis] = sizes[i];
		if (n->out[i])
			shape_set(n->out[i], x->dtype, x->rank, dims);
	}
}

/* x (outer, sum a_i, inner) -> y_i (outer, a_i, inner) */
void lower_split(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
	int64_t outer = tensor_prod(g, x->dims, 0, axis), inner = tensor_prod(g, x->dims, axis + 1, x->rank);
	int64_t off = 0;
	for (int i = 0; i < n->nout; i++) {
		Tensor *y = n->out[i];
		if (!y)
			continue;
		int64_t a = y->dims[axis];
		emit_rows(g, n, x, y, outer, a, inner, x->dims[axis], a, off, 0);
		off += a;
	}
}

/* ------------------------------------------------------------------ */
/* Slice                                                                */
/* ------------------------------------------------------------------ */

/* Per input axis: first index, step and count of the slice. */
typedef struct {
	int64_t start[MAX_RANK], step[MAX_RANK], count[MAX_RANK];
} SliceMap;

static void slice_map(Graph *g, Node *n, SliceMap *m)
{
	Tensor *x = n->in[0];
	int r = x->rank;
	int64_t starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
	int ns, ne, na = -1, nst = -1;
	if (g->opset < 10 && n->nin == 1) {
		const int64_t *v;
		ns = attr_ints(n, "starts", &v);
		if (ns < 0 || ns > MAX_RANK)
			node_error(g, n, "the starts attribute is required (at most %d values)", MAX_RANK);
		for (int k = 0; k < ns; k++)
			starts[k] = v[k];
		ne = attr_ints(n, "ends", &v);
		if (ne < 0 || ne > MAX_RANK)
			node_error(g, n, "the ends attribute is required (at most %d values)", MAX_RANK);
		for (int k = 0; k < ne; k++)
			ends[k] = v[k];
		na = attr_ints(n, "axes", &v);
		if (na > MAX_RANK)
			node_error(g, n, "%d axes given, at most %d are supported", na, MAX_RANK);
		for (int k = 0; k < na; k++)
			axes[k] = v[k];
	} else {
		if (n->nin < 3 || !n->in[1] || !n->in[2])
			node_error(g, n, "inputs starts (1) and ends (2) are required");
		ns = tensor_const_ints(g, n, 1, starts, MAX_RANK, "starts");
		ne = tensor_const_ints(g, n, 2, ends, MAX_RANK, "ends");
		if (n->nin > 3 && n->in[3])
			na = tensor_const_ints(g, n, 3, axes, MAX_RANK, "axes");
		if (n->nin > 4 && n->in[4])
			nst = tensor_const_ints(g, n, 4, steps, MAX_RANK, "steps");
	}
	if (ns != ne)
		node_error(g, n, "starts has %d values but ends has %d", ns, ne);
	if (na >= 0 && na != ns)
		node_error(g, n, "axes has %d values but starts has %d", na, ns);
	if (nst >= 0 && nst != ns)
		node_error(g, n, "steps has %d values but starts has %d", nst, ns);
	for (int k = 0; k < r; k++) {
		m->start[k] = 0;
		m->step[k] = 1;
		m->count[k] = x->dims[k];
	}
	bool seen[MAX_RANK] = {0};
	for (int k = 0; k < ns; k++) {
		int a = na >= 0 ? shape_axis(g, n, axes[k], r) : k;
		if (a >= r)
			node_error(g, n, "%d starts given for an input of rank %d", ns, r);
		if (seen[a])
			node_error(g, n, "axis %d is sliced twice", a);
		seen[a] = true;
		int64_t d = x->dims[a], st = nst >= 0 ? steps[k] : 1, s = starts[k], e = ends[k];
		if (st == 0)
			node_error(g, n, "steps[%d] is 0", k);
		/* ONNX: negative indices count from the end, then clamp; INT64_MIN/MAX
		 * as "to the end" fall out of the clamping. */
		if (s < 0)
			s = s < -d ? -1 : s + d;   /* avoid overflow for INT64_MIN */
		if (e < 0)
			e = e < -d ? -1 : e + d;
		int64_t cnt;   /* ceil(|e - s| / |st|), written not to overflow */
		if (st > 0) {
			s = s < 0 ? 0 : s > d ? d : s;
			e = e < 0 ? 0 : e > d ? d : e;
			cnt = e > s ? (e - s - 1) / st + 1 : 0;
		} else {
			s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
			e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
			cnt = s <= e ? 0 : st == INT64_MIN ? 1 : (s - e - 1) / -st + 1;
		}
		if (d == 0)
			cnt = 0;
		m->start[a] = cnt > 0 ? s : 0;
		m->step[a] = st;
		m->count[a] = cnt;
	}
}

void shape_slice(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	SliceMap m;
	need_dtype(g, n, 0, ALL_DTYPES);
	slice_map(g, n, &m);
	shape_set(n->out[0], x->dtype, x->rank, m.count);
}

/* x (d0, ..., dr) -> y (c0, ..., cr): y[i] = x[start + i * step] per axis */
void lower_slice(Graph *g, Node *n)
{
	int64_t dims[MAX_MAP_RANK], strides[MAX_MAP_RANK], base;
	int r = tensor_index_map(g, n, dims, strides, &base);
	tensor_emit_strided(g, n, n->in[0], n->out[0], r, dims, strides, base);
}

/* (tostc.h) demand.c and fuse_absorb.c follow elements through the node */
bool tensor_elem_map(Graph *g, Node *n, int64_t *src)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t ny = tensor_nelem(y);
	if (n->op == OP_GATHER && n->in[1]->kind == TK_CONST && n->in[1]->data) {
		Tensor *ix = n->in[1];
		int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
		int64_t outer = 1, inner = 1, d = x->dims[axis], ni = tensor_nelem(ix);
		for (int k = 0; k < axis; k++)
			outer *= x->dims[k];
		for (int k = axis + 1; k < x->rank; k++)
			inner *= x->dims[k];
		for (int64_t o = 0; o < outer; o++)
			for (int64_t j = 0; j < ni; j++) {
				int64_t s = tensor_get_i(ix, j);
				s = s < 0 ? s + d : s;   /* in range: checked by shape_gather */
				for (int64_t i = 0; i < inner; i++)
					src[(o * ni + j) * inner + i] = (o * d + s) * inner + i;
			}
		return true;
	}
	if (n->op != OP_TRANSPOSE && n->op != OP_SLICE)
		return false;
	int64_t dims[MAX_RANK], strides[MAX_RANK], off, idx[MAX_RANK] = {0};
	int r = tensor_index_map(g, n, dims, strides, &off);
	for (int64_t e = 0; e < ny; e++) {
		src[e] = off;
		for (int k = r - 1; k >= 0; k--) {   /* the next element's input offset */
			off += strides[k];
			if (++idx[k] < dims[k])
				break;
			off -= strides[k] * dims[k];
			idx[k] = 0;
		}
	}
	return true;
}

/* (tostc.h) the index map under tensor_elem_map and the strided copy */
int tensor_index_map(Graph *g, Node *n, int64_t *dims, int64_t *strides, int64_t *base)
{
	Tensor *x = n->in[0];
	int64_t xs[MAX_RANK];
	tensor_strides(x->rank, x->dims, xs);
	*base = 0;
	if (n->op == OP_TRANSPOSE) {
		int perm[MAX_RANK];
		get_perm(g, n, x->rank, perm);
		for (int k = 0; k < x->rank; k++) {
			dims[k] = x->dims[perm[k]];
			strides[k] = xs[perm[k]];
		}
		return x->rank;
	}
	ir_assert(g->ctx, n->op == OP_SLICE);
	SliceMap m;
	slice_map(g, n, &m);
	for (int k = 0; k < x->rank; k++) {
		dims[k] = m.count[k];
		strides[k] = xs[k] * m.step[k];
		*base += m.start[k] * xs[k];
	}
	return x->rank;
}

/* ------------------------------------------------------------------ */
/* Gather                                                               */
/* ------------------------------------------------------------------ */

void shape_gather(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1];
	int64_t dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, INT_DTYPES);
	if (x->rank == 0)
		node_error(g, n, "cannot gather from a scalar");
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
	int r = x->rank - 1 + idx->rank;
	if (r > MAX_RANK)
		node_error(g, n, "the output would have rank %d; at most %d is supported", r, MAX_RANK);
	int64_t d = x->dims[axis];
	if (idx->kind == TK_CONST) {   /* constant indices are checked now */
		for (int64_t i = 0; i < tensor_nelem(idx); i++) {
			int64_t k = tensor_get_i(idx, i);
			if (k < -d || k >= d)
				node_error(g, n, "index %lld (element %lld of the indices) is out of range "
				           "for axis %d of size %lld", (long long)k, (long long)i, axis,
				           (long long)d);
		}
	} else if (d == 0 && tensor_nelem(idx) > 0) {
		node_error(g, n, "gathering from axis %d of size 0", axis);
	}
	int j = 0;
	for (int k = 0; k < axis; k++)
		dims[j++] = x->dims[k];
	for (int k = 0; k < idx->rank; k++)
		dims[j++] = idx->dims[k];
	for (int k = axis + 1; k < x->rank; k++)
		dims[j++] = x->dims[k];
	shape_set(n->out[0], x->dtype, r, dims);
}

/* x (outer, n, inner), idx (...) -> y (outer, ..., inner) */
void lower_gather(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *idx = n->in[1], *y = n->out[0];
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), x->rank);
	if (tensor_nelem(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_gather);
	call_in(c, x);
	call_in(c, idx);
	call_out(c, y);
	call_int(c, tensor_prod(g, x->dims, 0, axis));
	call_int(c, x->dims[axis]);
	call_int(c, tensor_prod(g, x->dims, axis + 1, x->rank));
	call_int(c, tensor_nelem(idx));
	call_int(c, (int64_t)dtype_size(idx->dtype));
	call_int(c, (int64_t)dtype_size(x->dtype));
}

/* ------------------------------------------------------------------ */
/* Expand, Tile                                                         */
/* ------------------------------------------------------------------ */

void shape_expand(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t shape[MAX_RANK], dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, 1u << DT_I64);
	int r = tensor_const_ints(g, n, 1, shape, MAX_RANK, "shape");
	for (int k = 0; k < r; k++)
		if (shape[k] < 0)
			node_error(g, n, "shape[%d] = %lld is negative", k, (long long)shape[k]);
	int ro = shape_broadcast(g, n, x->rank, x->dims, r, shape, dims);
	shape_set(n->out[0], x->dtype, ro, dims);
}

/* x (broadcastable to y) -> y: stride 0 along the broadcast axes */
void lower_expand(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t xs[MAX_RANK], dims[MAX_MAP_RANK], strides[MAX_MAP_RANK];
	tensor_strides(x->rank, x->dims, xs);
	int lead = y->rank - x->rank;
	for (int k = 0; k < y->rank; k++) {
		int a = k - lead;
		dims[k] = y->dims[k];
		strides[k] = (a < 0 || x->dims[a] == 1) ? 0 : xs[a];
	}
	tensor_emit_strided(g, n, x, y, y->rank, dims, strides, 0);
}

void shape_tile(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t reps[MAX_RANK], dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, 1u << DT_I64);
	int r = tensor_const_ints(g, n, 1, reps, MAX_RANK, "repeats");
	if (r != x->rank)
		node_error(g, n, "repeats has %d values but the input has rank %d", r, x->rank);
	for (int k = 0; k < r; k++) {
		if (reps[k] < 0)
			node_error(g, n, "repeats[%d] = %lld is negative", k, (long long)reps[k]);
		dims[k] = ctx_mul(g->ctx, x->dims[k], reps[k]);
	}
	shape_set(n->out[0], x->dtype, r, dims);
}

/* x (d0, ..., dr) -> y (r0*d0, ..., rr*dr), seen as (r0, d0, ..., rr, dr)
 * with stride 0 along every repeat axis */
void lower_tile(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t xs[MAX_RANK], dims[MAX_MAP_RANK], strides[MAX_MAP_RANK];
	tensor_strides(x->rank, x->dims, xs);
	for (int k = 0; k < x->rank; k++) {
		dims[2 * k] = x->dims[k] ? y->dims[k] / x->dims[k] : 0;
		strides[2 * k] = 0;
		dims[2 * k + 1] = x->dims[k];
		strides[2 * k + 1] = xs[k];
	}
	tensor_emit_strided(g, n, x, y, 2 * x->rank, dims, strides, 0);
}

/* ------------------------------------------------------------------ */
/* Range                                                                */
/* ------------------------------------------------------------------ */

void shape_range(Graph *g, Node *n)
{
	Tensor *t[3];
	static const char *const what[3] = {"start", "limit", "delta"};
	for (int i = 0; i < 3; i++) {
		need_dtype(g, n, i, (1u << DT_F32) | INT_DTYPES);
		t[i] = need_const(g, n, i);
		if (tensor_nelem(t[i]) != 1 || t[i]->rank > 1)
			node_error(g, n, "%s (input %d) must be a scalar, not %s", what[i], i,
			           tensor_shape_str(g->ctx, t[i]));
		if (t[i]->dtype != t[0]->dtype)
			node_error(g, n, "start and %s differ in element type (%s vs %s)", what[i],
			           dtype_name(t[0]->dtype), dtype_name(t[i]->dtype));
	}
	int64_t cnt;
	if (t[0]->dtype == DT_F32) {
		double s = tensor_get_f(t[0], 0), l = tensor_get_f(t[1], 0), d = tensor_get_f(t[2], 0);
		if (d == 0 || d != d || s != s || l != l)
			node_error(g, n, "delta must be nonzero and all inputs must be numbers");
		double c = ceil((l - s) / d);
		if (c > 1e15)
			node_error(g, n, "the range has too many elements (%g)", c);
		cnt = c > 0 ? (int64_t)c : 0;
	} else {
		int64_t s = tensor_get_i(t[0], 0), l = tensor_get_i(t[1], 0), d = tensor_get_i(t[2], 0);
		if (d == 0)
			node_error(g, n, "delta is 0");
		/* ceil(|l - s| / |d|) in uint64_t: no overflow even for INT64_MIN/MAX */
		uint64_t span = d > 0 ? (l > s ? (uint64_t)l - (uint64_t)s : 0)
		                      : (s > l ? (uint64_t)s - (uint64_t)l : 0);
		uint64_t step = d > 0 ? (uint64_t)d : (uint64_t)0 - (uint64_t)d;
		uint64_t k = span ? (span - 1) / step + 1 : 0;
		if (k > ((uint64_t)1 << 48))
			node_error(g, n, "the range has too many elements (%llu)", (unsigned long long)k);
		cnt = (int64_t)k;
	}
	shape_set(n->out[0], t[0]->dtype, 1, &cnt);
}

/* -> y (n): start + i * delta */
void lower_range(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	Call *c;
	switch (y->dtype) {
	case DT_F32:
		c = call_new(g, n, K_tr_range_f32);
		call_out(c, y);
		call_float(c, (float)tensor_get_f(n->in[0], 0));
		call_float(c, (float)tensor_get_f(n->in[2], 0));
		break;
	case DT_I64:
	case DT_I32:
		c = call_new(g, n, y->dtype == DT_I64 ? K_tr_range_i64 : K_tr_range_i32);
		call_out(c, y);
		call_int(c, tensor_get_i(n->in[0], 0));
		call_int(c, tensor_get_i(n->in[2], 0));
		break;
	default:
		unreachable(g->ctx);
	}
	call_int(c, y->dims[0]);
}

/* ------------------------------------------------------------------ */
/* Shape, Constant, ConstantOfShape                                     */
/* ------------------------------------------------------------------ */

/* [start, end) of the input's axes (opset 15 start/end, clamped). */
static void shape_bounds(Graph *g, Node *n, int64_t *start, int64_t *end)
{
	int64_t r = n->in[0]->rank;
	int64_t s = g->opset >= 15 ? attr_int(n, "start", 0) : 0;
	int64_t e = g->opset >= 15 ? attr_int(n, "end", r) : r;
	if (s < 0)
		s += r;
	if (e < 0)
		e += r;
	*start = s < 0 ? 0 : s > r ? r : s;
	*end = e < 0 ? 0 : e > r ? r : e;
	if (*end < *start)
		*end = *start;
}

void shape_shape(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t s, e;
	shape_bounds(g, n, &s, &e);
	int64_t cnt = e - s;
	shape_set(y, DT_I64, 1, &cnt);
	int64_t *v = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
	for (int64_t k = 0; k < cnt; k++)
		v[k] = x->dims[s + k];
	make_const(n, y, v);
}

/* Write the known values `v` (t's shape and type) into t with literals: only
 * reached when a Shape/Constant node is evaluated although its output was
 * already made a constant (e.g. eval_node in tests). */
static void emit_literal(Graph *g, Node *n, Tensor *t, const void *v)
{
	int64_t cnt = tensor_nelem(t);
	if (cnt == 0)
		return;
	Call *c;
	if (t->dtype == DT_F32) {
		c = call_new(g, n, K_tr_const_f32);
		call_out(c, t);
		call_floats(g, c, v, (int)cnt);
	} else if (t->dtype == DT_I8 || t->dtype == DT_U8 || t->dtype == DT_F16 ||
	           t->dtype == DT_BF16) {
		/* the 8- and 16-bit types as their little-endian bytes */
		cnt = tensor_nbytes(t);
		int64_t *bv = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)cnt);
		for (int64_t k = 0; k < cnt; k++)
			bv[k] = ((const uint8_t *)v)[k];
		c = call_new(g, n, K_tr_const_bytes);
		call_out(c, t);
		call_ints(g, c, bv, (int)cnt);
	} else {
		int64_t *iv = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)cnt);
		for (int64_t k = 0; k < cnt; k++)
			iv[k] = t->dtype == DT_I64 ? ((const int64_t *)v)[k]
			      : t->dtype == DT_I32 ? ((const int32_t *)v)[k]
			                           : ((const uint8_t *)v)[k];
		switch (t->dtype) {
		case DT_I64: c = call_new(g, n, K_tr_const_i64); break;
		case DT_I32: c = call_new(g, n, K_tr_const_i32); break;
		case DT_BOOL: c = call_new(g, n, K_tr_const_b8); break;
		default: unreachable(g->ctx);
		}
		call_out(c, t);
		call_ints(g, c, iv, (int)cnt);
	}
	call_int(c, cnt);
}

/* -> y (end - start): the input's dims as literals */
void lower_shape(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t s, e, v[MAX_RANK];
	shape_bounds(g, n, &s, &e);
	for (int64_t k = s; k < e; k++)
		v[k - s] = x->dims[k];
	emit_literal(g, n, n->out[0], v);
}

void shape_constant(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	const Attr *a = NULL;
	static const char *const names[] = {"value", "value_float", "value_floats", "value_int",
	                                    "value_ints"};
	for (int i = 0; i < n->nattrs; i++) {
		const Attr *b = &n->attrs[i];
		bool known = false;
		for (int k = 0; k < 5; k++)
			if (!strcmp(b->name, names[k]))
				known = true;
		if (!known)
			node_error(g, n, "attribute '%s' is not supported (tostc supports %s)",
			           text_msg(g->ctx, b->name),
			           op_info[OP_CONSTANT].attrs);
		if (a)
			node_error(g, n, "both '%s' and '%s' are given; exactly one value is allowed",
			           text_msg(g->ctx, a->name), text_msg(g->ctx, b->name));
		a = b;
	}
	if (!a)
		node_error(g, n, "no value attribute");
	int64_t cnt;
	void *data;
	if (!strcmp(a->name, "value")) {
		if (a->kind != AT_TENSOR || !a->t || !a->t->data)
			node_error(g, n, "attribute 'value' must be a tensor");
		Tensor *t = a->t;
		shape_set(y, t->dtype, t->rank, t->dims);
		int64_t nb = tensor_nbytes(t);
		data = ctx_alloc(g->ctx, (size_t)(nb ? nb : 1));
		copy_bytes(data, t->data, nb);
	} else if (!strcmp(a->name, "value_float") || !strcmp(a->name, "value_floats")) {
		bool one = !strcmp(a->name, "value_float");
		if (a->kind != (one ? AT_FLOAT : AT_FLOATS))
			node_error(g, n, "attribute '%s' has the wrong kind",
			           text_msg(g->ctx, a->name));
		cnt = one ? 1 : a->n;
		shape_set(y, DT_F32, one ? 0 : 1, &cnt);
		float *v = ctx_alloc(g->ctx, sizeof(float) * (size_t)(cnt ? cnt : 1));
		for (int64_t k = 0; k < cnt; k++)
			v[k] = one ? a->f : a->floats[k];
		data = v;
	} else {
		bool one = !strcmp(a->name, "value_int");
		if (a->kind != (one ? AT_INT : AT_INTS))
			node_error(g, n, "attribute '%s' has the wrong kind",
			           text_msg(g->ctx, a->name));
		cnt = one ? 1 : a->n;
		shape_set(y, DT_I64, one ? 0 : 1, &cnt);
		int64_t *v = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
		for (int64_t k = 0; k < cnt; k++)
			v[k] = one ? a->i : a->ints[k];
		data = v;
	}
	make_const(n, y, data);
}

void lower_constant(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	ir_assert(g->ctx, y->data);
	emit_literal(g, n, y, y->data);
}

void shape_constant_of_shape(Graph *g, Node *n)
{
	int64_t dims[MAX_RANK];
	need_dtype(g, n, 0, 1u << DT_I64);
	int r = tensor_const_ints(g, n, 0, dims, MAX_RANK, "shape");
	for (int k = 0; k < r; k++)
		if (dims[k] < 0)
			node_error(g, n, "shape[%d] = %lld is negative", k, (long long)dims[k]);
	DType dt = DT_F32;
	const Attr *a = attr_find(n, "value");
	if (a) {
		if (a->kind != AT_TENSOR || !a->t)
			node_error(g, n, "attribute 'value' must be a tensor");
		if (tensor_nelem(a->t) != 1)
			node_error(g, n, "attribute 'value' must hold one element, not %s",
			           tensor_shape_str(g->ctx, a->t));
		dt = a->t->dtype;
	}
	shape_set(n->out[0], dt, r, dims);
	(void)tensor_prod(g, dims, 0, r);   /* overflow check */
}

/* -> y (shape): every element the value attribute (default 0.0f) */
void lower_constant_of_shape(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	const Attr *a = attr_find(n, "value");
	int64_t cnt = tensor_nelem(y);
	if (cnt == 0)
		return;
	Call *c;
	switch (y->dtype) {
	case DT_F32:
		c = call_new(g, n, K_tr_fill_f32);
		call_out(c, y);
		call_int(c, cnt);
		call_float(c, a ? (float)tensor_get_f(a->t, 0) : 0.0f);
		return;
	case DT_I64: c = call_new(g, n, K_tr_fill_i64); break;
	case DT_I32: c = call_new(g, n, K_tr_fill_i32); break;
	case DT_BOOL: c = call_new(g, n, K_tr_fill_b8); break;
	default: {
		/* the 8- and 16-bit types: the value's bits */
		int64_t es = (int64_t)dtype_size(y->dtype), bits = 0;
		for (int64_t b = 0; a && b < es; b++)
			bits |= (int64_t)((const uint8_t *)a->t->data)[b] << (8 * b);
		c = call_new(g, n, K_tr_fill_any);
		call_out(c, y);
		call_int(c, cnt);
		call_int(c, es);
		call_int(c, bits);
		return;
	}
	}
	call_out(c, y);
	call_int(c, cnt);
	call_int(c, a ? tensor_get_i(a->t, 0) : 0);
}
