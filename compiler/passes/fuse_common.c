/*
 * fuse_common.c -- the transformer fusions every exported model needs:
 *
 *   LayerNorm   ReduceMean, Sub, Pow 2 (or Mul), ReduceMean, Add eps, Sqrt,
 *               Div, [Mul scale], [Add bias] over the last axis (how opsets
 *               < 17 spell LayerNormalization)  ->  LayerNormalization
 *   GELU        x * (1 + erf(x / sqrt 2)) * 0.5 in any association, or with
 *               x * (1 / sqrt 2)                 ->  Gelu (internal)
 *   MatMul+bias (..., k) @ W (k, n) + b (n)      ->  Reshape, Gemm with C, Reshape
 *               (Gemm writes the bias, then accumulates the product: one pass
 *               over the output less, one buffer less; the Reshapes are views)
 *
 * Like fuse_tssa.c, a rewrite happens only when the match is proven: axes,
 * constants (sqrt 2 and 0.5 within float rounding, exponent 2, keepdims),
 * parameter shapes, and every intermediate value used only inside the match
 * and not a graph output.  The fused node keeps the name and index of the
 * node whose output it now writes, and lists the source nodes in fused_from.
 */
#include "tostc.h"

#include <math.h>
#include <string.h>

typedef struct {
	Graph *g;
	Users users;      /* built once at the start of the pass */
} Fc;

static bool dims_equal(const Tensor *a, const Tensor *b)
{
	if (a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return false;
	return true;
}

/* The only live user of t (NULL when t has none, several, or is an output). */
static Node *sole_user(Fc *F, Tensor *t, OpKind op)
{
	if (!t || t->is_output || t->id >= F->users.ntensors || F->users.count[t->id] != 1)
		return NULL;
	Node *u = F->users.nodes[t->id][0];
	return !u->dead && u->op == op ? u : NULL;
}

static bool near(double a, double b) { return fabs(a - b) <= 1e-6 * fabs(b); }

/* The other input of a binary node whose input `known` is one of its two. */
static Tensor *other(Node *n, Tensor *known)
{
	return n->in[0] == known ? n->in[1] : n->in[1] == known ? n->in[0] : NULL;
}

static bool last_axis_only(Fc *F, Node *n)
{
	int64_t ax;
	int rank = n->in[0]->rank;
	if (n->nin > 1 && n->in[1]) {
		Tensor *a = n->in[1];
		if (a->kind != TK_CONST || tensor_nelem(a) != 1)
			return false;
		ax = tensor_get_i(a, 0);
	} else {
		const int64_t *v;
		if (attr_ints(n, "axes", &v) != 1)
			return false;
		ax = v[0];
	}
	if (ax < 0)
		ax += rank;
	return ax == rank - 1 && attr_int(n, "keepdims", 1) == 1;
}

/* A LayerNormalization parameter: f32 constant, one value or the (d) vector
 * laid out along the last axis of x only. */
static bool ln_param(const Tensor *t, const Tensor *x)
{
	int64_t d = x->dims[x->rank - 1];
	if (!t || t->kind != TK_CONST || t->dtype != DT_F32 || t->rank > x->rank)
		return false;
	if (tensor_nelem(t) == 1)
		return true;
	for (int j = 0; j < t->rank; j++)
		if (t->dims[j] != (j == t->rank - 1 ? d : 1))
			return false;
	return true;
}

static void kill(Node **ns, int n)
{
	for (int i = 0; i < n; i++)
		ns[i]->dead = true;
}

static const char *names(Graph *g, Node **ns, int n)
{
	const char *s = "";
	for (int i = 0; i < n; i++)
		s = ctx_printf(g->ctx, "%s%s%s", s, i ? ", " : "", node_label(g->ctx, ns[i]));
	return s;
}

/* Put f where `last` was (it writes last's output); the others die. */
static void replace(Graph *g, Node *f, Node *last, Node **ns, int n)
{
	f->index = last->index;
	f->loc = last->loc;
	f->fused_from = names(g, ns, n);
	kill(ns, n);
	f->pos = last->pos;
	g->nodes[last->pos] = f;
	for (int j = 0; j < f->nout; j++)
		if (f->out[j])
			f->out[j]->producer = f;
	op_info[f->op].shape(g, f);
}

/* ---- LayerNorm ---- */

static bool fuse_layernorm(Fc *F, Node *mean1)
{
	Graph *g = F->g;
	Node *ns[12];
	int nn = 0;
	double eps, two;
	Tensor *x = mean1->in[0], *mu = mean1->out[0], *scale = NULL, *bias = NULL, *y;
	Node *sub, *sq, *mean2, *add, *sqrt_, *div, *mul, *badd, *u;

	if (x->dtype != DT_F32 || x->rank < 1 || !last_axis_only(F, mean1))
		return false;
	ns[nn++] = mean1;
	if (!(sub = sole_user(F, mu, OP_SUB)) || sub->in[0] != x || sub->in[1] != mu)
		return false;
	ns[nn++] = sub;
	Tensor *dev = sub->out[0];
	if (dev->is_output || F->users.count[dev->id] != 2)
		return false;
	/* dev feeds the square and the division */
	sq = div = NULL;
	for (int i = 0; i < 2; i++) {
		u = F->users.nodes[dev->id][i];
		if (u->op == OP_POW && u->in[0] == dev && tensor_scalar(u->in[1], &two) && two == 2.0)
			sq = u;
		else if (u->op == OP_MUL && u->in[0] == dev && u->in[1] == dev)
			sq = u;
		else if (u->op == OP_DIV && u->in[0] == dev)
			div = u;
	}
	if (!sq || !div)
		return false;
	ns[nn++] = sq;
	if (!(mean2 = sole_user(F, sq->out[0], OP_REDUCE_MEAN)) || !last_axis_only(F, mean2))
		return false;
	ns[nn++] = mean2;
	if (!(add = sole_user(F, mean2->out[0], OP_ADD)) ||
	    !tensor_scalar(other(add, mean2->out[0]), &eps) || eps < 0)
		return false;
	ns[nn++] = add;
	if (!(sqrt_ = sole_user(F, add->out[0], OP_SQRT)) || div->in[1] != sqrt_->out[0] ||
	    F->users.count[sqrt_->out[0]->id] != 1 || sqrt_->out[0]->is_output)
		return false;
	ns[nn++] = sqrt_;
	ns[nn++] = div;
	y = div->out[0];
	if ((mul = sole_user(F, y, OP_MUL)) && ln_param(other(mul, y), x)) {
		scale = other(mul, y);
		ns[nn++] = mul;
		y = mul->out[0];
	}
	if ((badd = sole_user(F, y, OP_ADD)) && ln_param(other(badd, y), x)) {
		bias = other(badd, y);
		ns[nn++] = badd;
		y = badd->out[0];
	}
	if (!dims_equal(y, x))
		return false;
	Node *last = y->producer;
	Node *f = node_new(g, OP_LAYER_NORM, last->name, bias ? 3 : 2, 1);
	if (!scale) {
		int64_t one = 1;
		scale = tensor_const(g, ctx_printf(g->ctx, "%s.scale", y->name), DT_F32, 1, &one);
		*(float *)scale->data = 1.0f;
	}
	f->in[0] = x;
	f->in[1] = scale;
	if (bias)
		f->in[2] = bias;
	f->out[0] = y;
	node_add_attr(g, f, "axis", AT_INT)->i = -1;
	node_add_attr(g, f, "epsilon", AT_FLOAT)->f = (float)eps;
	replace(g, f, last, ns, nn);
	return true;
}

/* ---- GELU ---- */

/* t = x * (1 + erf(x / sqrt 2)) * 0.5, any association: returns x or NULL;
 * collects the matched nodes. */
static Tensor *gelu_of(Fc *F, Node *top, Node **ns, int *nn)
{
	/* flatten the top Mul tree (at most 3 leaves: x, 1 + erf, 0.5) */
	Tensor *leaf[4];
	Node *stack[4];
	int nl = 0, ns0 = 0;
	stack[ns0++] = top;
	while (ns0) {
		Node *m = stack[--ns0];
		ns[(*nn)++] = m;
		for (int i = 0; i < 2; i++) {
			Tensor *t = m->in[i];
			Node *p = tensor_producer(t, OP_MUL);
			if (p && m != p && *nn + ns0 < 2 && sole_user(F, t, OP_MUL) == m)
				stack[ns0++] = p;
			else if (nl < 4)
				leaf[nl++] = t;
			else
				return NULL;
		}
	}
	if (nl != 3)
		return NULL;
	double half = 0, v;
	Tensor *x = NULL, *onep = NULL;
	for (int i = 0; i < 3; i++) {
		if (tensor_scalar(leaf[i], &v)) {
			if (half != 0)
				return NULL;
			half = v;
		} else if (tensor_producer(leaf[i], OP_ADD)) {
			if (onep)
				x = leaf[i];   /* x itself may be an Add output */
			else
				onep = leaf[i];
		} else {
			if (x)
				return NULL;
			x = leaf[i];
		}
	}
	if (half != 0.5 || !onep || !x)
		return NULL;
	/* onep might be x when x is an Add: try both ways */
	for (int swap = 0; swap < 2; swap++) {
		Tensor *a = swap ? x : onep, *xx = swap ? onep : x;
		Node *add = tensor_producer(a, OP_ADD), *erf, *sc;
		double one;
		if (!add || sole_user(F, a, OP_MUL) == NULL)
			continue;
		Tensor *e = NULL;
		for (int i = 0; i < 2; i++)
			if (tensor_scalar(add->in[i], &one) && one == 1.0)
				e = add->in[1 - i];
		if (!e || !(erf = tensor_producer(e, OP_ERF)) || !sole_user(F, e, OP_ADD))
			continue;
		Tensor *s = erf->in[0];
		if ((sc = tensor_producer(s, OP_DIV)) && sc->in[0] == xx && tensor_scalar(sc->in[1], &v) &&
		    near(v, sqrt(2.0)))
			;
		else if ((sc = tensor_producer(s, OP_MUL)) && other(sc, xx) && tensor_scalar(other(sc, xx), &v) &&
		         near(v, sqrt(0.5)))
			;
		else
			continue;
		if (!sole_user(F, s, OP_ERF))
			continue;
		ns[(*nn)++] = add;
		ns[(*nn)++] = erf;
		ns[(*nn)++] = sc;
		return xx;
	}
	return NULL;
}

static bool fuse_gelu(Fc *F, Node *top)
{
	Graph *g = F->g;
	Node *ns[8];
	int nn = 0;
	Tensor *y = top->out[0], *x;
	/* an inner Mul of the tree has two leaves, never three: only the
	 * outermost Mul matches */
	if (y->dtype != DT_F32 || !(x = gelu_of(F, top, ns, &nn)) || !dims_equal(y, x))
		return false;
	/* every inner value is used only inside the match (checked by sole_user
	 * above); x is read by the scaling Mul and the Div/Mul only */
	Node *f = node_new(g, OP_GELU, top->name, 1, 1);
	f->in[0] = x;
	f->out[0] = y;
	replace(g, f, top, ns, nn);
	return true;
}

/* ---- MatMul + bias ---- */

/* A Reshape node x -> y (a new tensor when y is NULL) of the given dims. */
static Node *view(Graph *g, Tensor *x, Tensor *y, int rank, const int64_t *dims, const char *what)
{
	int64_t r = rank;
	Tensor *shape = tensor_const(g, ctx_printf(g->ctx, "%s.%s_shape", x->name, what), DT_I64, 1, &r);
	memcpy(shape->data, dims, sizeof(int64_t) * (size_t)rank);
	Node *n = node_new(g, OP_RESHAPE, ctx_printf(g->ctx, "%s.%s", x->name, what), 2, 1);
	if (!y)
		y = tensor_new(g, ctx_printf(g->ctx, "%s.%s", x->name, what), TK_VALUE, DT_F32, rank, dims);
	n->in[0] = x;
	n->in[1] = shape;
	n->out[0] = y;
	y->producer = n;
	return n;
}

static bool fuse_matmul_bias(Fc *F, Node *mm)
{
	Graph *g = F->g;
	Tensor *a = mm->in[0], *w = mm->in[1], *p = mm->out[0], *b, *y;
	Node *add;
	if (a->rank < 2 || w->rank != 2 || a->dtype != DT_F32 || w->dtype != DT_F32)
		return false;
	if (!(add = sole_user(F, p, OP_ADD)) || !(b = other(add, p)) || b == p)
		return false;
	int64_t k = w->dims[0], n = w->dims[1], m = tensor_nelem(a) / k;
	/* b: a constant row of n values (or one value) along the last axis only */
	if (b->kind != TK_CONST || b->dtype != DT_F32 || b->rank > p->rank)
		return false;
	if (tensor_nelem(b) != 1) {
		for (int j = 0; j < b->rank; j++)
			if (b->dims[j] != (j == b->rank - 1 ? n : 1))
				return false;
	}
	y = add->out[0];
	if (!dims_equal(y, p))
		return false;
	Node *ns[2] = {mm, add};
	Node *gemm = node_new(g, OP_GEMM, add->name, 3, 1);
	Node *pre = NULL, *post = NULL;
	Tensor *a2 = a, *y2 = y;
	if (a->rank != 2) {
		int64_t d2[2] = {m, k}, o2[2] = {m, n};
		pre = view(g, a, NULL, 2, d2, "rows");
		a2 = pre->out[0];
		y2 = tensor_new(g, ctx_printf(g->ctx, "%s.gemm", y->name), TK_VALUE, DT_F32, 2, o2);
		post = view(g, y2, y, y->rank, y->dims, "unrows");   /* writes y itself */
	}
	Tensor *c = b;
	if (b->rank != 1) {
		int64_t cn = tensor_nelem(b);
		c = tensor_const(g, ctx_printf(g->ctx, "%s.bias", y->name), DT_F32, 1, &cn);
		memcpy(c->data, b->data, sizeof(float) * (size_t)cn);
	}
	gemm->in[0] = a2;
	gemm->in[1] = w;
	gemm->in[2] = c;
	gemm->out[0] = y2;
	y2->producer = gemm;
	gemm->index = add->index;
	gemm->loc = add->loc;
	gemm->fused_from = names(g, ns, 2);
	/* positions: the MatMul's slot gets the input view (or the Gemm), the
	 * Add's slot the Gemm (or the output view); one insert when both views */
	kill(ns, 2);
	if (!pre) {
		gemm->pos = add->pos;
		g->nodes[add->pos] = gemm;
		op_info[OP_GEMM].shape(g, gemm);
		return true;
	}
	pre->index = post->index = add->index;
	pre->pos = mm->pos;
	g->nodes[mm->pos] = pre;
	op_info[OP_RESHAPE].shape(g, pre);
	graph_insert_node(g, add->pos, gemm);   /* before the Add's slot */
	op_info[OP_GEMM].shape(g, gemm);
	post->pos = add->pos;
	g->nodes[add->pos] = post;
	op_info[OP_RESHAPE].shape(g, post);
	return true;
}

void fuse_common(Graph *g)
{
	Fc F;
	memset(&F, 0, sizeof F);
	F.g = g;
	int changed = 0;
	F.users = graph_users(g);
	/* one op kind at a time; each rewrite only touches nodes it proved local */
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && g->nodes[i]->op == OP_REDUCE_MEAN)
			changed += fuse_layernorm(&F, g->nodes[i]);
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && g->nodes[i]->op == OP_MUL)
			changed += fuse_gelu(&F, g->nodes[i]);
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = g->nodes[i];
		if (!n->dead && n->op == OP_MATMUL && i < g->nnodes)
			changed += fuse_matmul_bias(&F, n);
	}
	if (changed) {
		graph_compact(g);
		graph_count_users(g);
	}
}
