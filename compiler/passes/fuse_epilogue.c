/*
 * fuse_epilogue.c -- constant epilogues folded into the op that produces
 * their input:
 *
 *   Conv -> BatchNormalization          ->  Conv with W' = W s, b' = (b - mean) s + B,
 *                                          s = scale / sqrt(var + eps) per output channel
 *   Conv -> Gelu                         ->  Conv with gelu=1: the GELU runs on each
 *                                          output tile as it is made (bitwise the
 *                                          separate Gelu)
 *   Gemm [-> Reshape view] -> Gelu      ->  Gemm with gelu=1: the GELU on each output
 *                                          tile (or one pass after an unpacked GEMM;
 *                                          bitwise the separate Gelu either way)
 *   Gemm [-> Reshape view] -> Mul gamma ->  Gemm with B' = B gamma, C' = C gamma
 *                                          (LayerScale: gamma per output column;
 *                                          also MatMul by a constant (k, n) matrix)
 *   Add(x, Gemm/MatMul [-> view])        ->  GemmResidual(a, B, x, c): the output
 *                                          starts as x + c and the product is
 *                                          accumulated into it (the residual add
 *                                          costs no pass of its own)
 *
 * Both are exact up to float rounding: the new weights are computed in double
 * and rounded once.  Safety rule: every parameter is a constant, the
 * intermediate tensor has exactly one reader and is not a graph output, and
 * the epilogue broadcasts only along the channel (Conv) or last (Gemm) axis.
 * Otherwise the graph is left as it is.  The rewritten node takes over the
 * epilogue's output tensor; the epilogue node dies (dce-style compaction).
 * GemmResidual reassociates x + (c + a B) as (x + c) + a B: float rounding
 * only.  It is placed where the Add was, after everything it reads.
 */
#include "tostc.h"

#include <math.h>
#include <string.h>

static bool is_f32_const(const Tensor *t) { return t && t->kind == TK_CONST && t->dtype == DT_F32; }

/* The reader of t when it is the only one (NULL otherwise).  The index is
 * built once per pass; rewrites keep it valid because each replaces one
 * reader of a tensor by one other and only queries the outputs of nodes that
 * existed when it was built. */
static Node *only_reader(const Users *u, const Tensor *t)
{
	if (!t || t->is_output || t->nusers != 1 || t->id >= u->ntensors)
		return NULL;
	return u->nodes[t->id][0];
}

/* A constant vector of n values along the last of `rank` axes: every other dim 1. */
static bool channel_vector(const Tensor *t, int rank, int64_t n)
{
	if (!is_f32_const(t) || t->rank > rank)
		return false;
	for (int i = 0; i < t->rank - 1; i++)
		if (t->dims[i] != 1)
			return false;
	int64_t last = t->rank ? t->dims[t->rank - 1] : 1;
	return last == n || last == 1;
}

static float vec_at(const Tensor *t, int64_t i)
{
	int64_t n = tensor_nelem(t);
	return ((const float *)t->data)[n == 1 ? 0 : i];
}

/* y (the epilogue's output) becomes n's output; the epilogue e dies. */
static void take_output(Graph *g, Node *n, Node *e, int slot)
{
	Tensor *y = e->out[0];
	n->out[slot] = y;
	y->producer = n;
	e->dead = true;
	n->fused_from = ctx_printf(g->ctx, "%s, %s", n->fused_from ? n->fused_from : node_label(g->ctx, n),
	                           node_label(g->ctx, e));
}

/* Conv -> BatchNormalization (inference, one output) */
static bool fuse_conv_bn(Graph *g, const Users *users, Node *conv)
{
	Tensor *w = conv->in[1], *b = conv->nin > 2 ? conv->in[2] : NULL;
	Node *bn = only_reader(users, conv->out[0]);
	if (!bn || bn->op != OP_BATCH_NORM || bn->nout != 1 || bn->in[0] != conv->out[0])
		return false;
	if (!is_f32_const(w) || (b && !is_f32_const(b)))
		return false;
	int64_t m = w->dims[0];
	for (int i = 1; i < 5; i++)
		if (!is_f32_const(bn->in[i]) || bn->in[i]->rank != 1 || bn->in[i]->dims[0] != m)
			return false;
	if (attr_int(bn, "training_mode", 0))
		return false;
	double eps = attr_float(bn, "epsilon", 1e-5f);
	const float *sc = bn->in[1]->data, *bb = bn->in[2]->data, *mu = bn->in[3]->data,
	            *var = bn->in[4]->data;
	Tensor *nw = tensor_const(g, ctx_printf(g->ctx, "%s.bnfold", w->name), DT_F32, w->rank, w->dims);
	Tensor *nb = tensor_const(g, ctx_printf(g->ctx, "%s.bnfold_bias", conv->out[0]->name), DT_F32,
	                          1, &m);
	int64_t per = tensor_nelem(w) / (m ? m : 1);
	for (int64_t o = 0; o < m; o++) {
		/* BatchNormalization computes in float: (x - mean) / sqrt(var + eps) */
		double s = (double)sc[o] / sqrt((double)(float)(var[o] + (float)eps));
		for (int64_t k = 0; k < per; k++)
			((float *)nw->data)[o * per + k] = (float)(((const float *)w->data)[o * per + k] * s);
		double bo = b ? ((const float *)b->data)[o] : 0.0;
		((float *)nb->data)[o] = (float)((bo - mu[o]) * s + bb[o]);
	}
	if (conv->nin < 3) {
		Tensor **in = ctx_alloc(g->ctx, sizeof(Tensor *) * 3);
		in[0] = conv->in[0];
		conv->in = in;
		conv->nin = 3;
	}
	conv->in[1] = nw;
	conv->in[2] = nb;
	take_output(g, conv, bn, 0);
	return true;
}

/* Conv [-> BatchNormalization, folded first] -> Gelu (fuse_common.c) */
static bool fuse_conv_gelu(Graph *g, const Users *users, Node *conv)
{
	Node *ge = only_reader(users, conv->out[0]);
	if (!ge || !op_gelu_exact(ge) || attr_int(conv, "gelu", 0) || conv->out[0]->dtype != DT_F32)
		return false;
	node_add_attr(g, conv, "gelu", AT_INT)->i = 1;
	take_output(g, conv, ge, 0);
	return true;
}

/* Gemm [-> Reshape view] -> Gelu (fuse_common.c) */
static bool fuse_gemm_gelu(Graph *g, const Users *users, Node *gemm)
{
	Tensor *y = gemm->out[0];
	if (gemm->op != OP_GEMM || y->dtype != DT_F32 || y->rank != 2 || attr_int(gemm, "gelu", 0))
		return false;
	Node *view = NULL, *ge = only_reader(users, y);
	if (ge && ge->op == OP_RESHAPE && ge->in[0] == y) {
		view = ge;
		ge = only_reader(users, view->out[0]);
	}
	if (!ge || !op_gelu_exact(ge) || ge->in[0] != (view ? view->out[0] : y))
		return false;
	node_add_attr(g, gemm, "gelu", AT_INT)->i = 1;
	take_output(g, view ? view : gemm, ge, 0);
	if (view)
		gemm->fused_from = view->fused_from;
	return true;
}

/* Gemm or MatMul by a constant (k, n) matrix [-> view] -> Mul(gamma) with
 * gamma along the last axis */
static bool fuse_gemm_scale(Graph *g, const Users *users, Node *gemm)
{
	Tensor *y = gemm->out[0], *bw = gemm->in[1], *c = gemm->nin > 2 ? gemm->in[2] : NULL;
	if (attr_int(gemm, "gelu", 0))
		return false;   /* the scale would come before the GELU */
	if (!is_f32_const(bw) || bw->rank != 2 || (c && !is_f32_const(c)) || y->rank < 1)
		return false;
	if (gemm->op == OP_GEMM && y->rank != 2)
		return false;
	int64_t n = y->dims[y->rank - 1];
	Node *view = NULL, *mul = only_reader(users, y);
	if (mul && mul->op == OP_RESHAPE && mul->in[0] == y) {
		view = mul;
		mul = only_reader(users, view->out[0]);
	}
	Tensor *u = view ? view->out[0] : y;
	if (!mul || mul->op != OP_MUL || u->dims[u->rank - 1] != n)
		return false;
	Tensor *gamma = mul->in[0] == u ? mul->in[1] : mul->in[0];
	if (mul->in[0] == mul->in[1] || !channel_vector(gamma, u->rank, n))
		return false;
	Tensor *out = mul->out[0];
	if (out->rank != u->rank || memcmp(out->dims, u->dims, sizeof(int64_t) * (size_t)u->rank))
		return false;
	if (c && !(c->rank <= 2 && (c->rank == 0 || c->dims[c->rank - 1] == n || c->dims[c->rank - 1] == 1)))
		return false;

	bool tb = gemm->op == OP_GEMM && attr_int(gemm, "transB", 0) != 0;
	Tensor *nw = tensor_const(g, ctx_printf(g->ctx, "%s.scaled", bw->name), DT_F32, bw->rank, bw->dims);
	int64_t rows = bw->dims[0], cols = bw->dims[1];
	for (int64_t i = 0; i < rows; i++)
		for (int64_t j = 0; j < cols; j++) {
			float s = vec_at(gamma, tb ? i : j);
			((float *)nw->data)[i * cols + j] = ((const float *)bw->data)[i * cols + j] * s;
		}
	gemm->in[1] = nw;
	if (c) {
		/* C' = C gamma, with C widened to (.., n) when it was a scalar */
		int64_t dims[2] = {c->rank == 2 ? c->dims[0] : 1, n};
		Tensor *nc = tensor_const(g, ctx_printf(g->ctx, "%s.scaled", c->name), DT_F32, 2, dims);
		int64_t cr = c->rank == 2 ? c->dims[0] : 1, cc = c->rank ? c->dims[c->rank - 1] : 1;
		for (int64_t i = 0; i < dims[0]; i++)
			for (int64_t j = 0; j < n; j++)
				((float *)nc->data)[i * n + j] =
					((const float *)c->data)[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)] *
					vec_at(gamma, j);
		gemm->in[2] = nc;
	}
	take_output(g, view ? view : gemm, mul, 0);
	if (view)
		gemm->fused_from = view->fused_from;
	return true;
}

/* Add(x, u) where u is a Gemm / MatMul output (through at most one view) read
 * only here, and x, u and the sum have one shape. */
static bool fuse_residual(Graph *g, Node *add)
{
	Tensor *z = add->out[0];
	for (int side = 0; side < 2; side++) {
		Tensor *u = add->in[side], *x = add->in[1 - side];
		if (u == x || u->kind != TK_VALUE || u->is_output || u->nusers != 1 || !u->producer)
			continue;
		if (x->dtype != DT_F32 || u->dtype != DT_F32 || x->rank != z->rank ||
		    u->rank != z->rank || memcmp(x->dims, z->dims, sizeof(int64_t) * (size_t)z->rank) ||
		    memcmp(u->dims, z->dims, sizeof(int64_t) * (size_t)z->rank))
			continue;
		Node *view = NULL, *mm = u->producer;
		if (mm->op == OP_RESHAPE) {
			view = mm;
			Tensor *v = view->in[0];
			if (v->kind != TK_VALUE || v->is_output || v->nusers != 1 || !v->producer)
				continue;
			mm = v->producer;
		}
		if (mm->dead || (mm->op != OP_GEMM && mm->op != OP_MATMUL) || attr_int(mm, "gelu", 0))
			continue;
		Tensor *a = mm->in[0], *b = mm->in[1], *c = mm->nin > 2 ? mm->in[2] : NULL;
		if (b->rank != 2 || a->rank < 1 || a->dtype != DT_F32 || b->dtype != DT_F32)
			continue;
		int64_t tb = 0;
		if (mm->op == OP_GEMM) {
			if (attr_int(mm, "transA", 0))
				continue;
			tb = attr_int(mm, "transB", 0);
		} else if (a->rank < 2) {
			continue;
		}
		if (z->dims[z->rank - 1] != b->dims[tb ? 0 : 1])
			continue;
		Node *f = node_new(g, OP_GEMM_RESIDUAL, add->name, c ? 4 : 3, 1);
		f->in[0] = a, f->in[1] = b, f->in[2] = x;
		if (c)
			f->in[3] = c;
		f->out[0] = z;
		f->index = add->index;
		f->loc = add->loc;
		node_add_attr(g, f, "transB", AT_INT)->i = tb;
		node_add_attr(g, f, "alpha", AT_FLOAT)->f = mm->op == OP_GEMM ? attr_float(mm, "alpha", 1.0f) : 1.0f;
		node_add_attr(g, f, "beta", AT_FLOAT)->f = mm->op == OP_GEMM ? attr_float(mm, "beta", 1.0f) : 1.0f;
		f->fused_from = ctx_printf(g->ctx, "%s, %s",
		                           mm->fused_from ? mm->fused_from : node_label(g->ctx, mm),
		                           node_label(g->ctx, add));
		mm->dead = true;
		if (view)
			view->dead = true;
		add->dead = true;
		f->pos = add->pos;
		g->nodes[add->pos] = f;
		z->producer = f;
		op_info[f->op].shape(g, f);
		return true;
	}
	return false;
}

void fuse_epilogue(Graph *g)
{
	/* one count of readers serves the whole pass: every rewrite swaps one
	 * reader for another, so the counts of the tensors it later asks about
	 * stay exact */
	Users users = graph_users(g);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (n->op == OP_CONV) {
			fuse_conv_bn(g, &users, n);
			fuse_conv_gelu(g, &users, n);
		}
		else if ((n->op == OP_GEMM || n->op == OP_MATMUL) && !fuse_gemm_scale(g, &users, n))
			fuse_gemm_gelu(g, &users, n);
	}
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (!n->dead && n->op == OP_ADD)
			fuse_residual(g, n);
	}
	graph_compact(g);
	graph_count_users(g);
}
