/*
 * fuse_mlp.c -- the MLP half of a transformer block as one node, tiled over
 * tokens (op MlpBlock; its shape and lower functions are in ops/op_fused.c).
 *
 * After fuse_common, a pre-norm block's second half reads
 *
 *   y = x + gamma * fc2(gelu(fc1(LayerNorm(x))))
 *
 * with fc = Gemm (weight + bias) or MatMul (weight only), views between the
 * (1, N, d) activations and the (N, d) rows the Gemms see, and the LayerScale
 * gamma a (d) constant.  This pass proves that chain (every intermediate has
 * one reader and is no graph output; weights, biases, gamma and the norm's
 * parameters are constants of the right shapes; the norm is over the last
 * axis only) and replaces it by MlpBlock(x, ln_scale, ln_bias, w1, b1, w2, b2,
 * gamma).  The kernel (runtime/mlp/mlp.h) runs the chain on tiles of TM rows,
 * so the N x 4d hidden activation never exists whole: its scratch is one
 * TM x 4d tile, O(1) in N, and the tiles stay in cache between the steps.
 * Each output element is computed by the same operations in the same order as
 * the unfused kernels, so fused and unfused results are bitwise equal (for 4
 * rows or more; see runtime/mlp/mlp.h).  Weights are packed for the GEMM
 * micro-kernel when the node is lowered (linalg_prepack).
 */
#include "tostc.h"

/* t through single-reader views that keep the last dim: the viewed tensor */
static Tensor *unview(Tensor *t)
{
	while (t && t->kind == TK_VALUE && t->producer && !t->producer->dead &&
	       (op_info[t->producer->op].flags & OPF_VIEW)) {
		Tensor *s = t->producer->in[0];
		if (s->rank < 1 || t->rank < 1 || s->dims[s->rank - 1] != t->dims[t->rank - 1] ||
		    s->nusers != 1 || s->is_output)
			break;
		t = s;
	}
	return t;
}

/* the producer of t (after views) when it is op and t is only read once */
static Node *from(Tensor *t, OpKind op)
{
	if (!t || t->is_output || t->nusers != 1)
		return NULL;
	return tensor_producer(t, op);
}

static bool vec_const(const Tensor *t, int64_t d)
{
	if (!t || t->kind != TK_CONST || t->dtype != DT_F32 || tensor_nelem(t) != d)
		return false;
	for (int i = 0; i < t->rank - 1; i++)
		if (t->dims[i] != 1)
			return false;
	return true;
}

/* A fully connected layer on rows of k channels: w (k, n) [transposed: (n, k)], bias or NULL */
typedef struct {
	Node *n;
	Tensor *a, *w, *b;
	int trans;
} Fc;

static bool fc_of(Tensor *t, int64_t k, Fc *f)
{
	Node *n = from(t, OP_GEMM);
	if (n) {
		if (attr_int(n, "transA", 0) || attr_float(n, "alpha", 1.0f) != 1.0f)
			return false;
		f->trans = attr_int(n, "transB", 0) != 0;
		f->b = n->nin > 2 ? n->in[2] : NULL;
		if (f->b && attr_float(n, "beta", 1.0f) != 1.0f)
			return false;
		f->w = n->in[1];
		if (f->w->rank != 2)
			return false;
		int64_t nn = f->trans ? f->w->dims[0] : f->w->dims[1];
		if (f->b && !vec_const(f->b, nn))
			return false;
	} else if ((n = from(t, OP_MATMUL))) {
		f->trans = 0;
		f->b = NULL;
		f->w = n->in[1];
		if (f->w->rank != 2)
			return false;
	} else {
		return false;
	}
	if (f->w->kind != TK_CONST || f->w->dtype != DT_F32 || f->w->dims[f->trans ? 1 : 0] != k)
		return false;
	f->n = n;
	f->a = n->in[0];
	return f->a->dims[f->a->rank - 1] == k;
}

static int64_t fc_out(const Fc *f)
{
	return f->trans ? f->w->dims[0] : f->w->dims[1];
}

static bool only(const Tensor *t)
{
	return t && t->kind == TK_VALUE && t->nusers == 1 && !t->is_output;
}

/* kill the views unview(t) walked through */
static void kill_views(Tensor *t)
{
	Tensor *end = unview(t);
	while (t != end) {
		t->producer->dead = true;
		t = t->producer->in[0];
	}
}


/* y = Add(x, Mul(gamma, fc2(gelu(fc1(LayerNorm(x)))))) ending at `add` */
static bool fuse_one(Graph *g, Node *add)
{
	Tensor *y = add->out[0];
	for (int side = 0; side < 2; side++) {
		Tensor *x = add->in[side], *m = add->in[1 - side];
		Node *mul = from(m, OP_MUL);
		if (!mul || x->dtype != DT_F32 || x->rank < 2 || x->rank != y->rank)
			continue;
		int64_t d = x->dims[x->rank - 1], rows = tensor_nelem(x) / d, h;
		bool same = true;
		for (int i = 0; i < x->rank; i++)
			same &= x->dims[i] == y->dims[i];
		if (!same || d < 1 || rows < 1)
			continue;
		Tensor *gamma = NULL, *r = NULL;
		for (int j = 0; j < 2; j++)
			if (vec_const(mul->in[j], d) && mul->in[1 - j]->kind == TK_VALUE) {
				gamma = mul->in[j];
				r = mul->in[1 - j];
			}
		if (!gamma || !only(r) || tensor_nelem(mul->out[0]) != tensor_nelem(x) ||
		    tensor_nelem(r) != tensor_nelem(x))
			continue;
		/* fc2: rows of h -> d, h from its input */
		Tensor *r2 = unview(r);
		Node *n2 = r2->producer;
		if (!n2 || (n2->op != OP_GEMM && n2->op != OP_MATMUL))
			continue;
		h = n2->in[0]->dims[n2->in[0]->rank - 1];
		Fc f1, f2;
		if (!fc_of(r2, h, &f2) || fc_out(&f2) != d || !only(f2.a))
			continue;
		Node *gelu = from(unview(f2.a), OP_GELU);
		if (!gelu || !op_gelu_exact(gelu) || !only(gelu->in[0]))
			continue;
		if (!fc_of(unview(gelu->in[0]), d, &f1) || fc_out(&f1) != h || !only(f1.a))
			continue;
		Node *ln = from(unview(f1.a), OP_LAYER_NORM);
		if (!ln || ln->in[0] != x || (ln->nout > 1 && ln->out[1] && ln->out[1]->nusers) ||
		    (ln->nout > 2 && ln->out[2] && ln->out[2]->nusers))
			continue;
		int64_t axis = attr_int(ln, "axis", -1);
		if (axis != -1 && axis != x->rank - 1)
			continue;
		Tensor *ls = ln->in[1], *lb = ln->nin > 2 ? ln->in[2] : NULL;
		if (!vec_const(ls, d) || (lb && !vec_const(lb, d)))
			continue;
		/* every row count agrees (views only regroup leading dims) */
		if (tensor_nelem(f1.a) != rows * d || tensor_nelem(f2.a) != rows * h)
			continue;

		Node *f = node_new(g, OP_MLP_BLOCK, add->name, 8, 1);
		f->src_op = "MlpBlock";
		f->in[0] = x;
		f->in[1] = ls;
		f->in[2] = lb;
		f->in[3] = f1.w;
		f->in[4] = f1.b;
		f->in[5] = f2.w;
		f->in[6] = f2.b;
		f->in[7] = gamma;
		f->out[0] = y;
		Attr *at = node_add_attr(g, f, "epsilon", AT_FLOAT);
		at->f = attr_float(ln, "epsilon", 1e-5f);
		at = node_add_attr(g, f, "trans1", AT_INT);
		at->i = f1.trans;
		at = node_add_attr(g, f, "trans2", AT_INT);
		at->i = f2.trans;
		Ctx *c = g->ctx;
		f->fused_from = ctx_printf(c, "%s, %s, %s, %s, %s, %s", node_label(c, ln),
		                           node_label(c, f1.n), node_label(c, gelu), node_label(c, f2.n),
		                           node_label(c, mul), node_label(c, add));
		kill_views(f1.a);
		kill_views(gelu->in[0]);
		kill_views(f2.a);
		kill_views(r);
		ln->dead = f1.n->dead = gelu->dead = f2.n->dead = mul->dead = add->dead = true;
		f->index = add->index;
		f->loc = add->loc;
		f->pos = add->pos;
		g->nodes[add->pos] = f;
		y->producer = f;
		shape_mlp_block(g, f);
		return true;
	}
	return false;
}

void fuse_mlp(Graph *g)
{
	int changed = 0;
	graph_count_users(g);
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && g->nodes[i]->op == OP_ADD && fuse_one(g, g->nodes[i])) {
			changed++;
			graph_count_users(g);
		}
	if (changed) {
		graph_compact(g);
		graph_count_users(g);
	}
}
