/*
 * layout.c -- a convolutional graph runs channels last (NHWC).
 *
 * ONNX tensors are channels first (N, C, H, W).  Channels last, every pixel
 * is a contiguous run of channels: a 1x1 convolution is a GEMM that reads
 * its input in place, a k x k one a GEMM on an im2row whose taps are whole
 * runs, a depthwise one and the pools are vectors of channels, and the
 * per-channel operands of bias, BatchNorm or squeeze-excite broadcast along
 * the last axis (runtime/conv/conv_nhwc.h, dwconv.h, pool/pool_nhwc.h).  The
 * layout is chosen per graph, and it is the same on every target: a graph
 * with a depthwise, grouped or 1x1 convolution, or a pool, goes channels
 * last; one whose convolutions are all dense k x k (ToST's stem) stays as it
 * is, on its im2col kernels.
 *
 * The pass walks the nodes in order and gives tensors a channels-last form:
 *   - Conv (2-D, constant weight) becomes ConvNhwc (op_nhwc.c); one reading
 *     a channels-first tensor that has no channels-last form (the image)
 *     reads it as it is (x_nchw: its im2row gathers the channels);
 *   - MaxPool, AveragePool, GlobalAveragePool and ReduceMean over H and W
 *     become PoolNhwc;
 *   - elementwise ops, Concat, Slice, Identity and Dropout whose input has a
 *     channels-last form run on it, their axes, constants and broadcast
 *     operands permuted (a (1, C, 1, 1) constant becomes (1, 1, 1, C));
 *   - ShuffleNet's channel shuffle (Reshape to (N, g, C/g, H, W), Transpose
 *     (0, 2, 1, 3, 4), Reshape back) becomes the same three ops on the last
 *     axis.
 * Any other node reads the channels-first form, made by a Transpose where
 * it is first needed (a Reshape, which is free, when the spatial size is
 * 1 x 1), and so do graph outputs.  A tensor is converted at most once each
 * way.  Results are the same up to float rounding: the convolutions sum in
 * another order.
 */
#include "tostc.h"

#include <string.h>

typedef struct {
	Graph *g;
	int n0;          /* tensors when the pass began: the maps below cover them */
	Tensor **cl;     /* per tensor id: its channels-last form, or NULL */
	bool *gone;      /* per tensor id: no node makes its channels-first form any more */
} Layout;

static const int64_t TO_CL[4] = {0, 2, 3, 1}, TO_CF[4] = {0, 3, 1, 2};

static bool rank4(const Tensor *t) { return t && t->rank == 4 && t->dtype == DT_F32; }

static Tensor *cl_of(Layout *L, const Tensor *t)
{
	return t && t->id < L->n0 ? L->cl[t->id] : NULL;
}

/* The node appended for n that computes y from x with x's axes permuted by
 * perm: a Reshape (a view) when that keeps the elements in order, i.e. the
 * axes of size > 1 keep their order; a Transpose otherwise. */
static void emit_permute(Layout *L, Node *n, Tensor *x, Tensor *y, const int64_t *perm)
{
	Graph *g = L->g;
	int last = -1, view = 1;
	for (int i = 0; i < 4; i++)
		if (x->dims[perm[i]] != 1) {
			view &= perm[i] > last;
			last = (int)perm[i];
		}
	Node *t = node_new(g, view ? OP_RESHAPE : OP_TRANSPOSE, ctx_printf(g->ctx, "%s.layout", n->name),
	                   view ? 2 : 1, 1);
	t->index = n->index;
	t->loc = n->loc;
	t->in[0] = x;
	t->out[0] = y;
	y->producer = t;
	if (view) {
		int64_t four = 4;
		Tensor *s = tensor_const(g, ctx_printf(g->ctx, "%s.shape%d", y->name, g->ntensors), DT_I64,
		                         1, &four);
		for (int i = 0; i < 4; i++)
			((int64_t *)s->data)[i] = x->dims[perm[i]];
		t->in[1] = s;
	} else {
		Attr *a = node_add_attr(g, t, "perm", AT_INTS);
		a->n = 4;
		a->ints = ctx_alloc(g->ctx, sizeof(int64_t) * 4);
		memcpy(a->ints, perm, sizeof(int64_t) * 4);
	}
	op_info[t->op].shape(g, t);
	graph_add_node(g, t);
}

/* A new value tensor like t (name, element type) with dims (rank r). */
static Tensor *new_value(Layout *L, const Tensor *t, int r, const int64_t *dims)
{
	Graph *g = L->g;
	return tensor_new(g, ctx_printf(g->ctx, "%s.nhwc%d", t->name, g->ntensors), TK_VALUE,
	                  t->dtype, r, dims);
}

/* t channels last: a constant permuted now (padded to rank 4 first), any
 * other tensor through a node appended for n, once */
static Tensor *need_cl(Layout *L, Node *n, Tensor *t)
{
	Graph *g = L->g;
	Tensor *c = cl_of(L, t);
	if (c)
		return c;
	if (t->kind == TK_CONST) {
		int64_t d[4] = {1, 1, 1, 1}, nd[4];
		for (int i = 0; i < t->rank; i++)
			d[4 - t->rank + i] = t->dims[i];
		for (int i = 0; i < 4; i++)
			nd[i] = d[TO_CL[i]];
		c = tensor_const(g, ctx_printf(g->ctx, "%s.nhwc%d", t->name, g->ntensors), t->dtype, 4, nd);
		size_t es = dtype_size(t->dtype);
		for (int64_t a = 0; a < d[0]; a++)
			for (int64_t h = 0; h < d[2]; h++)
				for (int64_t w = 0; w < d[3]; w++)
					for (int64_t ch = 0; ch < d[1]; ch++)
						memcpy((char *)c->data + (((a * d[2] + h) * d[3] + w) * d[1] + ch) * es,
						       (const char *)t->data + (((a * d[1] + ch) * d[2] + h) * d[3] + w) * es,
						       es);
	} else {
		int64_t nd[4];
		for (int i = 0; i < 4; i++)
			nd[i] = t->dims[TO_CL[i]];
		c = new_value(L, t, 4, nd);
		emit_permute(L, n, t, c, TO_CL);
	}
	if (t->id < L->n0)
		L->cl[t->id] = c;
	return c;
}

/* t channels first again, where a node that is not converted reads it */
static void need_cf(Layout *L, Node *n, Tensor *t)
{
	if (!t || t->id >= L->n0 || !L->gone[t->id])
		return;
	emit_permute(L, n, L->cl[t->id], t, TO_CF);
	L->gone[t->id] = false;
}

/* n's output 0 is now c, the channels-last form of the old one */
static void set_output(Layout *L, Node *n, Tensor *c)
{
	Tensor *t = n->out[0];
	n->out[0] = c;
	c->producer = n;
	L->cl[t->id] = c;
	L->gone[t->id] = true;
}

static int64_t *ints_attr(Graph *g, Node *n, const char *name, int count)
{
	Attr *a = NULL;
	for (int i = 0; i < n->nattrs; i++)
		if (!strcmp(n->attrs[i].name, name))
			a = &n->attrs[i];
	if (!a)
		a = node_add_attr(g, n, name, AT_INTS);
	a->kind = AT_INTS;
	a->n = count;
	a->ints = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(count ? count : 1));
	return a->ints;
}

static void set_int(Graph *g, Node *n, const char *name, int64_t v)
{
	for (int i = 0; i < n->nattrs; i++)
		if (!strcmp(n->attrs[i].name, name)) {
			n->attrs[i].kind = AT_INT;
			n->attrs[i].i = v;
			return;
		}
	node_add_attr(g, n, name, AT_INT)->i = v;
}

/* a channels-first axis of a rank-4 tensor, as a channels-last one */
static int64_t cl_axis(int64_t a)
{
	static const int64_t map[4] = {0, 3, 1, 2};
	return map[a < 0 ? a + 4 : a];
}

static Tensor *i64_const(Graph *g, const char *name, const int64_t *v, int64_t cnt)
{
	Tensor *t = tensor_const(g, ctx_printf(g->ctx, "%s%d", name, g->ntensors), DT_I64, 1, &cnt);
	memcpy(t->data, v, sizeof(int64_t) * (size_t)cnt);
	return t;
}

/* ---- the conversions: each returns false, touching nothing, when n stays ---- */

static bool conv_to_cl(Layout *L, Node *n)
{
	Graph *g = L->g;
	Tensor *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL;
	Tensor *wr = tensor_root(w);
	if (!rank4(x) || wr->kind != TK_CONST || !wr->data || (b && b->kind != TK_CONST))
		return false;
	int64_t p[21], group = attr_int(n, "group", 1);
	conv_params(g, n, p);
	bool depthwise = group == x->dims[1] && group == w->dims[0];
	Tensor *xc = cl_of(L, x);
	int x_nchw = !xc && !depthwise;
	if (!x_nchw)
		xc = need_cl(L, n, x);
	Tensor **in = ctx_alloc(g->ctx, sizeof(Tensor *) * 3);
	in[0] = x_nchw ? x : xc;
	in[1] = w;
	in[2] = b;
	n->in = in;
	n->nin = 3;
	n->op = OP_CONV_NHWC;
	memcpy(ints_attr(g, n, "p", 21), p, sizeof p);
	set_int(g, n, "group", group);
	set_int(g, n, "x_nchw", x_nchw);
	if (attr_int(n, "gelu", 0))
		set_int(g, n, "act", 7);   /* TR_ACT_GELU (runtime/elementwise/act.h) */
	int64_t d[4] = {x->dims[0], p[4], p[5], w->dims[0]};
	set_output(L, n, new_value(L, n->out[0], 4, d));
	return true;
}

/* MaxPool, AveragePool, GlobalAveragePool; ReduceMean over H and W, whose
 * output without keepdims comes from *after, a Reshape to add after n */
static bool pool_to_cl(Layout *L, Node *n, Node **after)
{
	Graph *g = L->g;
	Tensor *x = n->in[0], *xc = cl_of(L, x), *y = n->out[0];
	if (!xc || !rank4(x) || (n->nout > 1 && n->out[1]))
		return false;
	int64_t mode = n->op == OP_MAX_POOL ? 0 : n->op == OP_AVG_POOL ? 1 : 2, p[21];
	bool keep = true;
	if (n->op == OP_REDUCE_MEAN) {
		bool mask[MAX_RANK];
		if (op_reduce_axes(g, n, mask) || mask[0] || mask[1] || !mask[2] || !mask[3])
			return false;
		keep = attr_int(n, "keepdims", 1) != 0;
	}
	if (mode < 2) {
		pool_params(g, n, p);
		memcpy(ints_attr(g, n, "p", 21), p, sizeof p);
	}
	n->op = OP_POOL_NHWC;
	n->in[0] = xc;
	n->nin = 1;
	set_int(g, n, "mode", mode);
	int64_t d[4] = {x->dims[0], mode == 2 ? 1 : y->dims[2], mode == 2 ? 1 : y->dims[3],
	                x->dims[1]};
	Tensor *c = new_value(L, y, 4, d);
	if (keep) {
		set_output(L, n, c);
		return true;
	}
	/* (N, 1, 1, C) is (N, C) as it is: a view makes the old output */
	n->out[0] = c;
	c->producer = n;
	Node *r = node_new(g, OP_RESHAPE, ctx_printf(g->ctx, "%s.layout", n->name), 2, 1);
	r->index = n->index;
	r->loc = n->loc;
	r->in[0] = c;
	r->in[1] = i64_const(g, "layout.shape", y->dims, y->rank);
	r->out[0] = y;
	y->producer = r;
	*after = r;
	return true;
}

/* elementwise ops whose inputs have, or can take, a channels-last form */
static bool elementwise_to_cl(Layout *L, Node *n)
{
	bool any = false;
	if (!rank4(n->out[0]) || n->nout != 1)
		return false;
	for (int i = 0; i < n->nin; i++) {
		Tensor *t = n->in[i];
		if (!t)
			continue;
		if (cl_of(L, t))
			any = true;
		else if (t->kind == TK_CONST ? t->rank > 4 : t->rank != 4)
			return false;   /* a broadcast operand made at run time */
	}
	if (!any)
		return false;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i] && tensor_nelem(n->in[i]) > 1)
			n->in[i] = need_cl(L, n, n->in[i]);
	Tensor *y = n->out[0];
	int64_t d[4];
	for (int i = 0; i < 4; i++)
		d[i] = y->dims[TO_CL[i]];
	set_output(L, n, new_value(L, y, 4, d));
	return true;
}

static bool concat_to_cl(Layout *L, Node *n)
{
	bool any = false;
	for (int i = 0; i < n->nin; i++) {
		if (!rank4(n->in[i]))
			return false;
		any |= cl_of(L, n->in[i]) != NULL;
	}
	if (!any)
		return false;
	for (int i = 0; i < n->nin; i++)
		n->in[i] = need_cl(L, n, n->in[i]);
	set_int(L->g, n, "axis", cl_axis(attr_int(n, "axis", 0)));
	Tensor *y = n->out[0];
	int64_t d[4];
	for (int i = 0; i < 4; i++)
		d[i] = y->dims[TO_CL[i]];
	set_output(L, n, new_value(L, y, 4, d));
	return true;
}

/* a Slice with positive steps, as explicit starts, ends, axes and steps */
static bool slice_to_cl(Layout *L, Node *n)
{
	Graph *g = L->g;
	Tensor *x = n->in[0], *xc = cl_of(L, x), *y = n->out[0];
	if (!xc || !rank4(x) || g->opset < 10)
		return false;
	int64_t dims[MAX_RANK], strides[MAX_RANK], base, xs[4];
	if (tensor_index_map(g, n, dims, strides, &base) != 4)
		return false;
	tensor_strides(4, x->dims, xs);
	int64_t start[4], end[4], axes[4], step[4];
	for (int k = 0; k < 4; k++) {
		if (strides[k] <= 0 || strides[k] % xs[k])
			return false;
		step[k] = strides[k] / xs[k];
	}
	for (int k = 0; k < 4; k++) {   /* base = sum start[k] xs[k], start[k] < x->dims[k] */
		int64_t s = base / xs[k];
		base -= s * xs[k];
		int64_t a = cl_axis(k);
		axes[a] = a;
		start[a] = s;
		end[a] = s + (dims[k] - 1) * step[k] + 1;
		if (dims[k] == 0)
			return false;
	}
	int64_t stp[4];
	for (int k = 0; k < 4; k++)
		stp[cl_axis(k)] = step[k];
	Tensor **in = ctx_alloc(g->ctx, sizeof(Tensor *) * 5);
	in[0] = xc;
	in[1] = i64_const(g, "layout.starts", start, 4);
	in[2] = i64_const(g, "layout.ends", end, 4);
	in[3] = i64_const(g, "layout.axes", axes, 4);
	in[4] = i64_const(g, "layout.steps", stp, 4);
	n->in = in;
	n->nin = 5;
	int64_t d[4];
	for (int i = 0; i < 4; i++)
		d[i] = y->dims[TO_CL[i]];
	set_output(L, n, new_value(L, y, 4, d));
	return true;
}

/* x (N, C, H, W) -> Reshape (N, G, C/G, H, W) -> Transpose (0, 2, 1, 3, 4) ->
 * Reshape (N, C, H, W), each read only by the next: the same on the last
 * axis, (N, H, W, G, C/G) -> (N, H, W, C/G, G); rewrites all three, in place */
static bool shuffle_to_cl(Layout *L, Node *r1, const Users *u)
{
	Graph *g = L->g;
	Tensor *x = r1->in[0], *xc = cl_of(L, x), *a = r1->out[0];
	if (!xc || !rank4(x) || a->rank != 5 || a->is_output || u->count[a->id] != 1)
		return false;
	Node *tr = u->nodes[a->id][0];
	const int64_t *perm;
	static const int64_t want[5] = {0, 2, 1, 3, 4};
	if (tr->op != OP_TRANSPOSE || attr_ints(tr, "perm", &perm) != 5 ||
	    memcmp(perm, want, sizeof want) || tr->out[0]->is_output ||
	    u->count[tr->out[0]->id] != 1)
		return false;
	Node *r2 = u->nodes[tr->out[0]->id][0];
	Tensor *z = r2->out[0];
	if (r2->op != OP_RESHAPE || r2->in[0] != tr->out[0] || z->rank != 4 ||
	    memcmp(z->dims, x->dims, sizeof(int64_t) * 4) || a->dims[0] != x->dims[0] ||
	    a->dims[3] != x->dims[2] || a->dims[4] != x->dims[3])
		return false;
	int64_t grp = a->dims[1], cpg = a->dims[2];
	int64_t s1[5] = {x->dims[0], x->dims[2], x->dims[3], grp, cpg};
	int64_t s2[5] = {x->dims[0], x->dims[2], x->dims[3], cpg, grp};
	int64_t s3[4] = {x->dims[0], x->dims[2], x->dims[3], x->dims[1]};
	r1->in[0] = xc;
	r1->in[1] = i64_const(g, "layout.shape", s1, 5);
	r1->out[0] = new_value(L, a, 5, s1);
	r1->out[0]->producer = r1;
	op_info[OP_RESHAPE].shape(g, r1);
	tr->in[0] = r1->out[0];
	int64_t *pm = ints_attr(g, tr, "perm", 5);
	static const int64_t last2[5] = {0, 1, 2, 4, 3};
	memcpy(pm, last2, sizeof last2);
	tr->out[0] = new_value(L, tr->out[0], 5, s2);
	tr->out[0]->producer = tr;
	op_info[OP_TRANSPOSE].shape(g, tr);
	r2->in[0] = tr->out[0];
	r2->in[1] = i64_const(g, "layout.shape", s3, 4);
	set_output(L, r2, new_value(L, z, 4, s3));
	op_info[OP_RESHAPE].shape(g, r2);
	return true;   /* the walk places tr and r2: their inputs are new tensors */
}

/* whether the graph has what channels last is for */
static bool wants_cl(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || n->nin < 1 || !rank4(n->in[0]))
			continue;
		if (n->op == OP_MAX_POOL || n->op == OP_AVG_POOL || n->op == OP_GLOBAL_AVG_POOL)
			return true;
		if (n->op == OP_CONV && n->in[1]->rank == 4 &&
		    (attr_int(n, "group", 1) > 1 || n->in[1]->dims[2] * n->in[1]->dims[3] == 1))
			return true;
	}
	return false;
}

void layout_channels_last(Graph *g)
{
	if (!wants_cl(g))
		return;
	Layout L = {g, g->ntensors, NULL, NULL};
	L.cl = ctx_alloc(g->ctx, sizeof(Tensor *) * (size_t)(L.n0 + 1));
	L.gone = ctx_alloc(g->ctx, (size_t)L.n0 + 1);
	Users u = graph_users(g);
	Node **old = g->nodes;
	int nold = g->nnodes;
	g->nodes = NULL;
	g->nnodes = g->capnodes = 0;
	for (int i = 0; i < nold; i++) {
		Node *n = old[i], *after = NULL;
		bool done = false;
		if (n->dead)
			continue;
		switch (n->op) {
		case OP_CONV: done = conv_to_cl(&L, n); break;
		case OP_MAX_POOL:
		case OP_AVG_POOL:
		case OP_GLOBAL_AVG_POOL:
		case OP_REDUCE_MEAN: done = pool_to_cl(&L, n, &after); break;
		case OP_CONCAT: done = concat_to_cl(&L, n); break;
		case OP_SLICE: done = slice_to_cl(&L, n); break;
		case OP_RESHAPE: done = shuffle_to_cl(&L, n, &u); break;
		case OP_IDENTITY:
		case OP_DROPOUT:
			if (cl_of(&L, n->in[0]) && n->nout == 1 && n->out[0]->id < L.n0) {
				/* the output is the input: its channels-last form too */
				L.cl[n->out[0]->id] = cl_of(&L, n->in[0]);
				L.gone[n->out[0]->id] = true;
				continue;
			}
			break;
		default:
			if (op_info[n->op].flags & OPF_ELEMENTWISE)
				done = elementwise_to_cl(&L, n);
			break;
		}
		if (done) {
			op_info[n->op].shape(g, n);
		} else {
			for (int j = 0; j < n->nin; j++)
				need_cf(&L, n, n->in[j]);
		}
		graph_add_node(g, n);
		if (after) {
			op_info[after->op].shape(g, after);
			graph_add_node(g, after);
		}
	}
	for (int i = 0; i < g->noutputs; i++)
		need_cf(&L, g->nodes[g->nnodes - 1], g->outputs[i]);
	graph_count_users(g);
}
