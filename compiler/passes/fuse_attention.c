/*
 * fuse_attention.c -- softmax attention as one streaming node.
 *
 * PyTorch exports scaled dot-product attention as
 *
 *   s = MatMul(q', k')            q' = q [* or / a scalar], k' = k^T [* or / a scalar]
 *   s = s [* or / scalar]...      the scale on the scores (BERT), or folded into q (ViT)
 *   s = Add(s, mask)              optional, any f32 tensor that broadcasts to s
 *   p = Softmax(s, last axis)
 *   o = MatMul(p, v)
 *
 * with q, k, v cut from the projections by Reshape, Transpose, Slice or
 * Gather, and o often followed by a Transpose that merges the heads again.
 * This pass proves that chain (every intermediate read once and no graph
 * output, scales scalar constants, the softmax over the keys) and replaces it
 * by SoftmaxAttention(q, k, v [, mask]) (runtime/attention/attention.h), which
 * never makes the m x n scores: workspace linear in n, not quadratic.
 *
 * The node reads q, k, v and the mask where they lie: each is followed back
 * through the ops that only move elements (views, Transpose, Slice, Split,
 * Gather of one index) while its elements stay an affine function of its indices, and
 * is read from the tensor at the end with element strides (an offset, a
 * stride per batch dim, the row and column strides).  A Transpose that reads
 * o alone is absorbed the same way: the node writes its output with strides.
 * The ops left unread go with dce_after_fuse.
 *
 * Float safety: the scale multiplies the dot products (not q), Div by s
 * becomes a product with 1 / s, and the softmax's maximum and sum are taken
 * tile by tile: the results differ from the unfused graph by float rounding
 * (1e-6 relative here; ctest `attention` holds them to 1e-4).  NaN and inf
 * propagate as in the unfused graph; a row masked entirely with -inf gives
 * NaN in both.  It is a fusion pass: --no-fuse turns it off.  It runs after
 * fuse_absorb, so class attention whose projections fuse_absorb moves into
 * its contractions (ToST) keeps that cheaper form.
 */
#include "tostc.h"

#include <string.h>

/* Where an operand's elements are: element [i_0, .., i_(r-1)] of the tensor
 * is element base + sum_d i_d st[d] of root (flat, row-major). */
typedef struct {
	Tensor *root;
	int64_t base;
	int64_t st[MAX_RANK];
} Addr;

typedef struct {
	Graph *g;
	Users users;      /* built once at the start of the pass */
} Fa;

/* t is computed, read by one live node only, and no graph output */
static bool single(Fa *F, Tensor *t)
{
	return t && t->kind == TK_VALUE && !t->is_output && t->id < F->users.ntensors &&
	       F->users.count[t->id] == 1;
}

/* p = Mul(x, c), Mul(c, x) or Div(x, c) with c a scalar constant and x = the
 * other input: *x and the factor x is multiplied by */
static bool scaled(const Node *p, Tensor **x, double *f)
{
	double c;
	if (!p || p->dead || (p->op != OP_MUL && p->op != OP_DIV))
		return false;
	for (int i = 0; i < 2; i++)
		if (tensor_scalar(p->in[i], &c) && (p->op == OP_MUL || i == 1) && c != 0.0 &&
		    p->in[1 - i]->dtype == DT_F32) {
			*x = p->in[1 - i];
			*f = p->op == OP_MUL ? c : 1.0 / c;
			return true;
		}
	return false;
}

/* ---- addresses ---- */

static void row_major(const Tensor *t, int64_t *st)
{
	tensor_strides(t->rank, t->dims, st);
}

/*
 * An operand of dims (rank r) that reads a->root at a's address; the root is
 * op(y) for an op whose element e of the root is element ob + sum_k e_k os[k]
 * of y (e the root's index, its dims rdims, rank rr).  The operand reads y at
 * an affine address when each of its dims moves a single dim of the root,
 * by a whole step, without leaving it: then the root's index is affine in
 * the operand's and so is y's offset.  false (a untouched) otherwise.
 */
static bool compose(Addr *a, int r, const int64_t *dims, Tensor *y, int rr, const int64_t *rdims,
                    const int64_t *os, int64_t ob)
{
	int64_t rs[MAX_RANK], e0[MAX_RANK], lo[MAX_RANK], hi[MAX_RANK], nst[MAX_RANK];
	int64_t rem = a->base, nb = ob;
	tensor_strides(rr, rdims, rs);
	for (int k = 0; k < rr; k++) {
		e0[k] = rs[k] ? rem / rs[k] : 0;
		rem -= e0[k] * rs[k];
		lo[k] = hi[k] = e0[k];
		nb += e0[k] * os[k];
	}
	if (rem != 0)
		return false;
	for (int d = 0; d < r; d++) {
		nst[d] = 0;
		if (dims[d] == 1)
			continue;
		int64_t s = a->st[d], mag = s < 0 ? -s : s;
		int pick = -1;
		/* the outermost root dim the step is a whole number of, within it */
		for (int k = 0; k < rr && pick < 0; k++)
			if (rdims[k] > 1 && mag % rs[k] == 0 && mag / rs[k] < rdims[k] && mag != 0)
				pick = k;
		if (pick < 0)
			return false;
		int64_t step = s / rs[pick], span = step * (dims[d] - 1);
		if (span > 0)
			hi[pick] += span;
		else
			lo[pick] += span;
		nst[d] = step * os[pick];
	}
	for (int k = 0; k < rr; k++)
		if (lo[k] < 0 || hi[k] >= rdims[k])
			return false;
	a->root = y;
	a->base = nb;
	memcpy(a->st, nst, sizeof(int64_t) * (size_t)r);
	return true;
}

/* Follow t back through ops that only move elements while its address stays
 * affine: the tensor to read and the strides (over t's dims) to read it with. */
static Addr trace(Graph *g, Tensor *t)
{
	Addr a = {t, 0, {0}};
	row_major(t, a.st);
	for (int depth = 0; depth < 16; depth++) {
		Tensor *r = a.root;
		Node *p = r->producer;
		int oi = 0;   /* which output of p r is */
		while (p && oi < p->nout && p->out[oi] != r)
			oi++;
		if (r->kind != TK_VALUE || !p || p->dead || oi == p->nout || !p->in[0] ||
		    (oi > 0 && p->op != OP_SPLIT))
			break;
		Tensor *y = p->in[0];
		if (op_info[p->op].flags & OPF_VIEW) {
			/* same elements, same flat order */
			if (tensor_nelem(y) != tensor_nelem(r) || y->dtype != r->dtype)
				break;
			a.root = y;
			continue;
		}
		int64_t os[MAX_RANK], ob = 0, dims[MAX_RANK];
		if (p->op == OP_TRANSPOSE || p->op == OP_SLICE) {
			if (tensor_index_map(g, p, dims, os, &ob) != r->rank)
				break;
		} else if (p->op == OP_GATHER && p->in[1]->kind == TK_CONST && p->in[1]->data &&
		           tensor_nelem(p->in[1]) == 1) {
			/* one index along axis: the root is y without that axis (or with it, size 1) */
			int ax = shape_axis(g, p, attr_int(p, "axis", 0), y->rank);
			int64_t ys[MAX_RANK], ix = tensor_get_i(p->in[1], 0);
			tensor_strides(y->rank, y->dims, ys);
			ix = ix < 0 ? ix + y->dims[ax] : ix;
			ob = ix * ys[ax];
			int k = 0;
			for (int j = 0; j < y->rank; j++)
				if (j != ax || p->in[1]->rank > 0)
					os[k++] = j == ax ? 0 : ys[j];
			if (k != r->rank)
				break;
		} else if (p->op == OP_SPLIT && y->rank == r->rank) {
			/* output oi: the part of y from the sum of the earlier parts on */
			int ax = shape_axis(g, p, attr_int(p, "axis", 0), y->rank);
			int64_t start = 0;
			int j = 0;
			tensor_strides(y->rank, y->dims, os);
			for (; j < oi && p->out[j]; j++)
				start += p->out[j]->dims[ax];
			if (j < oi)
				break;   /* an omitted part before: its size is not at hand */
			ob = start * os[ax];
		} else {
			break;
		}
		if (!compose(&a, t->rank, t->dims, y, r->rank, r->dims, os, ob))
			break;
	}
	return a;
}

/* ---- the match ---- */

/* the scores' MatMul behind s, through scalar scales read once; *scale
 * multiplied by them, their nodes appended to ns */
static Node *scores_of(Fa *F, Tensor *s, double *scale, Node **ns, int *nn)
{
	double f;
	Tensor *x;
	for (int i = 0; i < 4 && single(F, s); i++) {
		Node *p = s->producer;
		if (p->op == OP_MATMUL) {
			ns[(*nn)++] = p;
			return p;
		}
		if (!scaled(p, &x, &f))
			return NULL;
		*scale *= f;
		ns[(*nn)++] = p;
		s = x;
	}
	return NULL;
}

/* t with its scalar scales (any readers) peeled off into *scale */
static Tensor *unscaled(Tensor *t, double *scale)
{
	double f;
	Tensor *x;
	for (int i = 0; i < 4 && t->kind == TK_VALUE && scaled(t->producer, &x, &f); i++) {
		*scale *= f;
		t = x;
	}
	return t;
}

/* The strides of operand a (a tensor of rank ra, its last two dims the
 * kernel's rows and columns, or columns and rows when swap) in the kernel's
 * coordinates: base, rb batch dims (right-aligned; 0 where a broadcasts),
 * row, column. */
static void kernel_strides(const Tensor *t, const Addr *a, int rb, int swap, int64_t *out)
{
	int r = t->rank;
	out[0] = a->base;
	for (int d = 0; d < rb; d++) {
		int k = d - (rb - (r - 2));
		out[1 + d] = k >= 0 && t->dims[k] != 1 ? a->st[k] : 0;
	}
	int64_t rs = r >= 2 && t->dims[r - 2] != 1 ? a->st[r - 2] : 0;
	int64_t cs = t->dims[r - 1] != 1 ? a->st[r - 1] : 0;
	out[1 + rb] = swap ? cs : rs;
	out[2 + rb] = swap ? rs : cs;
}

/* the permutation of a Transpose (its attribute, or reversed) */
static bool perm_of(const Node *t, int r, int *perm)
{
	const int64_t *v;
	int n = attr_ints(t, "perm", &v);
	if (n < 0) {
		for (int k = 0; k < r; k++)
			perm[k] = r - 1 - k;
		return true;
	}
	if (n != r)
		return false;
	for (int k = 0; k < r; k++)
		perm[k] = (int)(v[k] < 0 ? v[k] + r : v[k]);
	return true;
}

static bool fuse_one(Fa *F, Node *mm2)
{
	Graph *g = F->g;
	Node *ns[16];
	int nn = 0;
	double scale = 1.0;
	Tensor *p = mm2->in[0], *v = mm2->in[1], *o = mm2->out[0], *mask = NULL;
	if (!single(F, p) || !p->producer || p->producer->op != OP_SOFTMAX || p->rank < 2 ||
	    v->rank < 2 || o->dtype != DT_F32 || v->dtype != DT_F32)
		return false;
	Node *sm = p->producer;
	int axis = (int)attr_int(sm, "axis", g->opset < 13 ? 1 : -1);
	if ((axis < 0 ? axis + p->rank : axis) != p->rank - 1)
		return false;
	Tensor *z = sm->in[0];
	if (!single(F, z))
		return false;
	ns[nn++] = mm2;
	ns[nn++] = sm;
	Node *mm1 = NULL, *add = z->producer;
	if (add->op == OP_ADD) {
		ns[nn++] = add;
		for (int side = 0; side < 2 && !mm1; side++) {
			int n0 = nn;
			double s0 = 1.0;
			mm1 = scores_of(F, add->in[side], &s0, ns, &nn);
			if (mm1) {
				scale = s0;
				mask = add->in[1 - side];
			} else {
				nn = n0;
			}
		}
		/* the mask broadcasts to the scores, not the scores to it */
		if (!mm1 || mask->dtype != DT_F32 || mask->rank > z->rank ||
		    mm1->out[0]->rank != z->rank ||
		    memcmp(mm1->out[0]->dims, z->dims, sizeof(int64_t) * (size_t)z->rank))
			return false;
		for (int k = 0; k < mask->rank; k++) {
			int64_t zd = z->dims[z->rank - mask->rank + k];
			if (mask->dims[k] != 1 && mask->dims[k] != zd)
				return false;
		}
	} else {
		mm1 = scores_of(F, z, &scale, ns, &nn);
	}
	if (!mm1)
		return false;
	Tensor *q = unscaled(mm1->in[0], &scale), *kt = unscaled(mm1->in[1], &scale);
	if (q->rank < 2 || kt->rank < 2 || q->dtype != DT_F32 || kt->dtype != DT_F32)
		return false;
	int64_t M = q->dims[q->rank - 2], C = q->dims[q->rank - 1], N = kt->dims[kt->rank - 1];
	int64_t Cv = v->dims[v->rank - 1];
	if (v->dims[v->rank - 2] != N || o->rank < 2 || M < 1 || N < 1 || C < 1 || Cv < 1 ||
	    o->dims[o->rank - 2] != M || o->dims[o->rank - 1] != Cv)
		return false;
	int rb = o->rank - 2;
	if (q->rank - 2 > rb || kt->rank - 2 > rb || v->rank - 2 > rb || (mask && mask->rank - 2 > rb))
		return false;

	/* the output: o itself, or the Transpose that alone reads it */
	Tensor *y = o;
	Addr oa = {o, 0, {0}};
	row_major(o, oa.st);
	Node *tr = NULL;
	if (!o->is_output && o->id < F->users.ntensors && F->users.count[o->id] == 1) {
		Node *u = F->users.nodes[o->id][0];
		int perm[MAX_RANK];
		if (u->op == OP_TRANSPOSE && u->in[0] == o && perm_of(u, o->rank, perm)) {
			int64_t ys[MAX_RANK];
			tr = u;
			y = u->out[0];
			tensor_strides(y->rank, y->dims, ys);
			for (int k = 0; k < y->rank; k++)
				oa.st[perm[k]] = ys[k];
			oa.root = y;
		}
	}

	Addr qa = trace(g, q), ka = trace(g, kt), va = trace(g, v), ma = {NULL, 0, {0}};
	if (mask)
		ma = trace(g, mask);
	/* kernel coordinates: base, rb batch dims, rows, columns */
	int64_t st[5][MAX_RANK + 3], bd[MAX_RANK];
	kernel_strides(q, &qa, rb, 0, st[0]);
	kernel_strides(kt, &ka, rb, 1, st[1]);   /* k^T (c, n): keys are its columns */
	kernel_strides(v, &va, rb, 0, st[2]);
	kernel_strides(o, &oa, rb, 0, st[3]);
	if (mask) {
		/* a mask of rank < 2 is the same for every query (and key): left-pad
		 * its dims with 1s to the scores' rows and columns */
		Tensor m2 = *mask;
		Addr a2 = ma;
		int pad = mask->rank < 2 ? 2 - mask->rank : 0;
		m2.rank = mask->rank + pad;
		for (int k = m2.rank - 1; k >= 0; k--) {
			m2.dims[k] = k >= pad ? mask->dims[k - pad] : 1;
			a2.st[k] = k >= pad ? ma.st[k - pad] : 0;
		}
		kernel_strides(&m2, &a2, rb, 0, st[4]);
	} else {
		memset(st[4], 0, sizeof st[4]);
	}
	/* batch dims: drop the 1s, merge neighbours that every operand steps
	 * through alike (the outer stride is the inner one times its count) */
	int64_t ks[5][MAX_RANK + 3];
	int nb = 0;
	for (int d = 0; d < rb; d++) {
		if (o->dims[d] == 1)
			continue;
		bool merge = nb > 0;
		for (int w = 0; w < 5 && merge; w++)
			merge = ks[w][nb] == st[w][1 + d] * o->dims[d];
		if (merge) {
			bd[nb - 1] *= o->dims[d];
		} else {
			bd[nb] = o->dims[d];
			nb++;
		}
		for (int w = 0; w < 5; w++)
			ks[w][nb] = st[w][1 + d];
	}
	if (nb == 0) {
		/* one batch index, as a batch dim of 1 (the kernel's arrays are never empty) */
		bd[nb++] = 1;
		for (int w = 0; w < 5; w++)
			ks[w][1] = 0;
	}
	for (int w = 0; w < 5; w++) {
		ks[w][0] = st[w][0];
		ks[w][1 + nb] = st[w][1 + rb];
		ks[w][2 + nb] = st[w][2 + rb];
	}

	Node *last = tr ? tr : mm2;
	Node *f = node_new(g, OP_ATTENTION, last->name, mask ? 4 : 3, 1);
	f->src_op = "SoftmaxAttention";
	f->in[0] = qa.root;
	f->in[1] = ka.root;
	f->in[2] = va.root;
	if (mask)
		f->in[3] = ma.root;
	f->out[0] = y;
	y->producer = f;
	node_add_attr(g, f, "scale", AT_FLOAT)->f = (float)scale;
	const char *sn[5] = {"qstr", "kstr", "vstr", "ostr", "mstr"};
	int64_t mnc[4] = {M, N, C, Cv};
	Attr *at = node_add_attr(g, f, "mnc", AT_INTS);
	at->ints = ctx_alloc(g->ctx, sizeof mnc);
	memcpy(at->ints, mnc, sizeof mnc);
	at->n = 4;
	at = node_add_attr(g, f, "bdims", AT_INTS);
	at->ints = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)nb);
	memcpy(at->ints, bd, sizeof(int64_t) * (size_t)nb);
	at->n = nb;
	for (int w = 0; w < (mask ? 5 : 4); w++) {
		at = node_add_attr(g, f, sn[w], AT_INTS);
		at->ints = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(nb + 3));
		memcpy(at->ints, ks[w], sizeof(int64_t) * (size_t)(nb + 3));
		at->n = nb + 3;
	}
	if (tr)
		ns[nn++] = tr;
	Ctx *c = g->ctx;
	const char *from = "";
	for (int i = nn - 1; i >= 0; i--) {
		from = ctx_printf(c, "%s%s%s", from, *from ? ", " : "", node_label(c, ns[i]));
		ns[i]->dead = true;
	}
	f->fused_from = from;
	f->index = last->index;
	f->loc = last->loc;
	f->pos = last->pos;
	g->nodes[last->pos] = f;
	op_info[OP_ATTENTION].shape(g, f);
	return true;
}

void fuse_attention(Graph *g)
{
	Fa F;
	F.g = g;
	F.users = graph_users(g);
	int changed = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (!n->dead && n->op == OP_MATMUL)
			changed += fuse_one(&F, n);
	}
	if (changed) {
		graph_compact(g);
		graph_count_users(g);
	}
}
