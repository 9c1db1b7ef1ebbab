/*
 * fuse_absorb.c -- a projection absorbed into the contraction that reads it.
 *
 * Class attention (CaiT, XCiT, the ToST vision models) scores one query per
 * head against the keys of all N tokens, then sums the tokens' values:
 *
 *   s[h][j] = sum_c q[h][c] k[h][j][c],      o[h][c] = sum_j a[h][j] v[h][j][c],
 *
 * where k and v are columns of one projection y = alpha x @ W + beta b of the
 * tokens x (N, I).  Making k and v costs N x I multiply-adds per column.
 * Moved to the other side of the contraction, the weights cost I per column
 * and the tokens I per score:
 *
 *   s[h][j] = x[j] . (sum_c q[h][c] W[:, col(h, c)])  + sum_c q[h][c] b[col(h, c)]
 *   o[h][c] = (sum_j a[h][j] x[j]) . W[:, col(h, c)]  + b[col(h, c)] sum_j a[h][j]
 *
 * for a class-attention block of ToST-S 1.5 M multiply-adds (scores and
 * values) where k and v took 58 M.
 *
 * The pass looks at every contraction: ReduceSum of a Mul (over any axes)
 * and MatMul.  It writes it as out[s] = sum_t u[iu(s, t)] * w[iw(s, t)] and
 * follows w's elements back through ops that only move them (views,
 * Transpose, Slice, Gather with constant indices) to a Gemm with a constant
 * weight and a bias row, so that w[iw(s, t)] = y[row(s, t)][col(s, t)].
 * When each output element reads one row of y (the weights side above) or
 * one column (the tokens side), the elements are grouped by what they share
 * (u's indices and the columns, or the rows), and when that makes at most a
 * quarter of the multiply-adds, the contraction becomes a ProjContract node
 * (runtime/gemm/proj_contract.h) with the weight columns
 * gathered (and scaled by alpha, the bias by beta) now.  demand.c then
 * finds that nothing reads those columns of y any more, and the Gemm makes
 * only the rest.
 *
 * Float safety: this reassociates sums (different rounding, no other
 * change); an inf or NaN in u, x or the weights still makes the output inf
 * or NaN, though which of the two can differ.  It is a fusion pass:
 * --no-fuse turns it off.
 */
#include "tostc.h"

#include <string.h>

/* contractions larger than this (output elements x terms) are left alone */
#define ABSORB_MAX_PAIRS (1 << 20)

/* A contraction out[s] = sum_t u[iu[s * nt + t]] * w[iw[s * nt + t]], with w's
 * elements those of y (a Gemm's output) at yi[s * nt + t]. */
typedef struct {
	Node *n;            /* the ReduceSum or MatMul */
	Node *mul;          /* the Mul a ReduceSum reads, or NULL */
	Tensor *u, *y;      /* the other operand; the Gemm output w comes from */
	Node *gemm;
	int64_t ns, nt;
	int64_t *iu, *yi;
} Ctr;

/* Whether t's elements come, through ops that only move them, from a Gemm
 * with a constant weight and a bias row: the walk trace makes, without its
 * maps (so that most contractions cost no memory) */
static bool traceable(const Tensor *t, int depth)
{
	const Node *p = t->producer;
	if (t->kind != TK_VALUE || !p || p->dead || depth > 64 || p->nout != 1 || p->out[0] != t)
		return false;
	if (gemm_parts_ok(p))
		return true;
	bool gather = p->op == OP_GATHER && p->in[1]->kind == TK_CONST && p->in[1]->data;
	if (!(op_info[p->op].flags & OPF_VIEW) && !gather && p->op != OP_TRANSPOSE &&
	    p->op != OP_SLICE)
		return false;
	return tensor_nelem(p->in[0]) <= ABSORB_MAX_PAIRS && traceable(p->in[0], depth + 1);
}

/* The Gemm output whose elements t's are: map[e] = the flat index in it of
 * t's element e; t traceable (so every map here is bounded). */
static Tensor *trace(Graph *g, Tensor *t, int64_t *map, int depth)
{
	Node *p = t->producer;
	int64_t ne = tensor_nelem(t);
	if (t->kind != TK_VALUE || !p || p->dead || depth > 64 || p->nout != 1 || p->out[0] != t)
		return NULL;
	if (gemm_parts_ok(p)) {
		for (int64_t e = 0; e < ne; e++)
			map[e] = e;
		return t;
	}
	Tensor *x = p->in[0];
	if (op_info[p->op].flags & OPF_VIEW)
		return trace(g, x, map, depth + 1);   /* same elements, same order */
	int64_t nx = tensor_nelem(x);
	int64_t *src = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(ne + 1));
	if (nx > ABSORB_MAX_PAIRS || !tensor_elem_map(g, p, src))
		return NULL;
	int64_t *xm = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(nx + 1));
	Tensor *y = trace(g, x, xm, depth + 1);
	for (int64_t e = 0; y && e < ne; e++)
		map[e] = xm[src[e]];
	return y;
}

/* Strides of a tensor of rank ra broadcast into rank r (0 on broadcast axes). */
static void bcast_strides(const Tensor *a, int r, int64_t *st)
{
	int64_t s = 1;
	for (int k = r - 1; k >= 0; k--) {
		int ka = k - (r - a->rank);
		st[k] = ka >= 0 && a->dims[ka] != 1 ? s : 0;
		if (ka >= 0)
			s *= a->dims[ka];
	}
}

/* The index pairs of a ReduceSum of Mul(a, b) or of a MatMul a @ b: ia / ib
 * (ns x nt each).  false when n is neither (or too large). */
static bool pairs(Graph *g, Node *n, Node **mul, Tensor **a, Tensor **b, int64_t *ns, int64_t *nt,
                  int64_t **ia, int64_t **ib)
{
	int64_t dims[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK];
	bool red[MAX_RANK];
	int r;
	if (n->op == OP_REDUCE_SUM) {
		Node *m = n->in[0]->producer;
		if (!m || m->dead || m->op != OP_MUL || n->in[0]->nusers != 1 || n->in[0]->is_output ||
		    n->in[0]->kind != TK_VALUE || n->in[0]->dtype != DT_F32 ||
		    op_reduce_axes(g, n, red))
			return false;
		*mul = m;
		*a = m->in[0];
		*b = m->in[1];
		r = n->in[0]->rank;
		memcpy(dims, n->in[0]->dims, sizeof(int64_t) * (size_t)r);
	} else if (n->op == OP_MATMUL) {
		*mul = NULL;
		*a = n->in[0];
		*b = n->in[1];
		if ((*a)->rank < 2 || (*b)->rank < 2)
			return false;
		/* as the Mul (.., m, k, 1) * (.., 1, k, n) summed over k */
		Tensor *y = n->out[0];
		r = y->rank + 1;
		memcpy(dims, y->dims, sizeof(int64_t) * (size_t)(r - 3));
		dims[r - 3] = y->dims[r - 3];
		dims[r - 2] = (*a)->dims[(*a)->rank - 1];
		dims[r - 1] = y->dims[r - 2];
		for (int k = 0; k < r; k++)
			red[k] = k == r - 2;
	} else {
		return false;
	}
	int64_t tot = 1, t = 1;
	for (int k = 0; k < r; k++) {
		tot *= dims[k];
		t *= red[k] ? dims[k] : 1;
		if (tot > ABSORB_MAX_PAIRS)
			return false;
	}
	if (tot == 0)
		return false;
	if (n->op == OP_REDUCE_SUM) {
		bcast_strides(*a, r, sa);
		bcast_strides(*b, r, sb);
	} else {
		/* a (.., m, k) read as (.., m, k, 1); b (.., k, n) as (.., 1, k, n) */
		Tensor *A = *a, *B = *b;
		int64_t ta[MAX_RANK], tb[MAX_RANK];
		bcast_strides(A, r - 1, ta);   /* over (.., m, k) */
		bcast_strides(B, r - 1, tb);   /* over (.., k, n) */
		for (int k = 0; k < r - 3; k++) {
			sa[k] = ta[k];
			sb[k] = tb[k];
		}
		sa[r - 3] = ta[r - 3];   /* m */
		sa[r - 2] = ta[r - 2];   /* k */
		sa[r - 1] = 0;           /* n */
		sb[r - 3] = 0;
		sb[r - 2] = tb[r - 3];
		sb[r - 1] = tb[r - 2];
	}
	*ns = tot / t;
	*nt = t;
	*ia = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)tot);
	*ib = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)tot);
	/* walk every (kept, reduced) index: kept axes outermost in order, then
	 * the reduced ones, as the output and the sum order them */
	int kept[MAX_RANK], rd[MAX_RANK], nk = 0, nr = 0;
	for (int k = 0; k < r; k++) {
		if (red[k])
			rd[nr++] = k;
		else
			kept[nk++] = k;
	}
	int order[MAX_RANK], no = 0;
	for (int k = 0; k < nk; k++)
		order[no++] = kept[k];
	for (int k = 0; k < nr; k++)
		order[no++] = rd[k];
	int64_t idx[MAX_RANK] = {0}, oa = 0, ob = 0;
	for (int64_t e = 0; e < tot; e++) {
		(*ia)[e] = oa;
		(*ib)[e] = ob;
		for (int q = r - 1; q >= 0; q--) {
			int k = order[q];
			oa += sa[k];
			ob += sb[k];
			if (++idx[k] < dims[k])
				break;
			oa -= sa[k] * dims[k];
			ob -= sb[k] * dims[k];
			idx[k] = 0;
		}
	}
	return true;
}

/* Contraction n with one operand traced to a Gemm output, in *c. */
static bool contraction(Graph *g, Node *n, Ctr *c)
{
	Tensor *a, *b;
	int64_t *ia, *ib;
	memset(c, 0, sizeof *c);
	if (n->nout != 1 || !n->out[0] || n->out[0]->dtype != DT_F32 || n->nin < 1 || !n->in[0])
		return false;
	Node *m = n->op == OP_REDUCE_SUM ? n->in[0]->producer : n;
	if (!m || m->dead || (m->op != OP_MUL && m->op != OP_MATMUL) ||
	    (!traceable(m->in[0], 0) && !traceable(m->in[1], 0)) ||
	    !pairs(g, n, &c->mul, &a, &b, &c->ns, &c->nt, &ia, &ib))
		return false;
	for (int side = 0; side < 2; side++) {
		Tensor *w = side ? a : b, *u = side ? b : a;
		int64_t *iw = side ? ia : ib, nw = tensor_nelem(w);
		if (u->dtype != DT_F32 || nw > ABSORB_MAX_PAIRS || !traceable(w, 0))
			continue;
		int64_t *map = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(nw + 1));
		Tensor *y = trace(g, w, map, 0);
		if (!y)
			continue;
		c->n = n;
		c->u = u;
		c->y = y;
		c->gemm = y->producer;
		c->iu = side ? ib : ia;
		c->yi = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(c->ns * c->nt));
		for (int64_t e = 0; e < c->ns * c->nt; e++)
			c->yi[e] = map[iw[e]];
		return true;
	}
	return false;
}

/* Distinct vectors of len int64s: add v, return its number (first seen, first
 * numbered).  Open addressing over FNV-1a hashes. */
typedef struct {
	int64_t len, n, cap;
	const int64_t **vec;
	int64_t *slot;      /* cap entries: vector number + 1, 0 empty */
} VecSet;

static void vs_init(Graph *g, VecSet *v, int64_t len, int64_t most)
{
	v->len = len;
	v->n = 0;
	v->cap = 16;
	while (v->cap < 2 * most)
		v->cap *= 2;
	v->vec = ctx_alloc(g->ctx, sizeof(int64_t *) * (size_t)most);
	v->slot = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)v->cap);
}

static int64_t vs_add(VecSet *v, const int64_t *x)
{
	uint64_t h = 1469598103934665603ull;
	for (int64_t i = 0; i < v->len; i++)
		h = (h ^ (uint64_t)x[i]) * 1099511628211ull;
	for (int64_t s = (int64_t)(h & (uint64_t)(v->cap - 1));; s = (s + 1) & (v->cap - 1)) {
		if (!v->slot[s]) {
			v->vec[v->n] = x;
			v->slot[s] = ++v->n;
			return v->n - 1;
		}
		if (!memcmp(v->vec[v->slot[s] - 1], x, sizeof(int64_t) * (size_t)v->len))
			return v->slot[s] - 1;
	}
}

static Tensor *const_i64(Graph *g, const char *name, int64_t n, const int64_t *v)
{
	Tensor *t = tensor_const(g, name, DT_I64, 1, &n);
	memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	return t;
}

/* Gemm weight element (i, col) of W (I, N), or of W' (N, I) with transB (the
 * Gemm's own 2-D view of it; the data is its root's) */
static float weight(const Node *gemm, int64_t i, int64_t col)
{
	const Tensor *w = gemm->in[1];
	const float *d = tensor_root(gemm->in[1])->data;
	return attr_int(gemm, "transB", 0) ? d[col * w->dims[1] + i] : d[i * w->dims[1] + col];
}

/* Rewrite contraction c as a ProjContract node when each output element
 * reads one row of y (weights side) or one column (tokens side) and that
 * saves three quarters of the work; true when done. */
static bool absorb(Graph *g, Ctr *c)
{
	Node *gm = c->gemm;
	Tensor *x = gm->in[0], *bias = gm->nin > 2 ? gm->in[2] : NULL;
	float alpha = attr_float(gm, "alpha", 1.0f), beta = attr_float(gm, "beta", 1.0f);
	int64_t ns = c->ns, nt = c->nt, nc = c->y->dims[1], in = x->dims[1];
	int64_t *row = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(ns * nt));
	int64_t *col = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(ns * nt));
	bool wside = true, tside = true;
	if (bias && beta == 0.0f)
		bias = NULL;
	if (bias && (bias->kind != TK_CONST || !bias->data))
		return false;   /* a bias made at run time: not gathered here */
	for (int64_t s = 0; s < ns; s++)
		for (int64_t t = 0; t < nt; t++) {
			int64_t e = s * nt + t;
			row[e] = c->yi[e] / nc;
			col[e] = c->yi[e] % nc;
			wside = wside && row[e] == row[s * nt];
			tside = tside && col[e] == col[s * nt];
		}
	if (!wside && !tside)
		return false;
	if (wside && tside)
		wside = nt > 1 ? ns >= nt : true;   /* one term, one row, one column: either way */
	/* group the output elements: key = u's indices, then the columns
	 * (weights side) or the rows (tokens side) */
	int64_t *key = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(2 * ns * nt));
	for (int64_t s = 0; s < ns; s++) {
		memcpy(key + 2 * s * nt, c->iu + s * nt, sizeof(int64_t) * (size_t)nt);
		memcpy(key + (2 * s + 1) * nt, (wside ? col : row) + s * nt,
		       sizeof(int64_t) * (size_t)nt);
	}
	VecSet groups;
	vs_init(g, &groups, 2 * nt, ns);
	int64_t *grp = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)ns);
	for (int64_t s = 0; s < ns; s++)
		grp[s] = vs_add(&groups, key + 2 * s * nt);
	int64_t ng = groups.n;
	/* the work it saves: making y's elements read here (in each) and the
	 * contraction (nt each), against ng weighted sums of nt rows and ns dots */
	unsigned char *seen = ctx_alloc(g->ctx, (size_t)tensor_nelem(c->y));
	int64_t distinct = 0;
	for (int64_t e = 0; e < ns * nt; e++)
		if (!seen[c->yi[e]]++)
			distinct++;
	double before = (double)distinct * (double)in + (double)ns * (double)nt;
	double after = ((double)ng * (double)nt + (double)ns) * (double)in;
	if (4.0 * after > before)
		return false;

	/* p: the rows summed into each group, q: the rows each element dots */
	Tensor *p, *q, *b = NULL;
	int64_t *prow = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(ng * nt));
	int64_t *qrow = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)ns);
	int64_t *ia = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(ng * nt));
	for (int64_t k = 0; k < ng; k++)
		memcpy(ia + k * nt, groups.vec[k], sizeof(int64_t) * (size_t)nt);
	const char *base = c->n->out[0]->name;
	if (wside) {
		/* p: alpha W[:, col] for each column set's columns, q: x's rows */
		VecSet sets;
		vs_init(g, &sets, nt, ng);
		for (int64_t k = 0; k < ng; k++) {
			int64_t cs = vs_add(&sets, groups.vec[k] + nt);
			for (int64_t t = 0; t < nt; t++)
				prow[k * nt + t] = cs * nt + t;
		}
		if (sets.n * nt > nc)   /* never more weight than W itself */
			return false;
		int64_t pd[2] = {sets.n * nt, in};
		p = tensor_const(g, ctx_printf(g->ctx, "%s.absorbed_w", base), DT_F32, 2, pd);
		if (bias)
			b = tensor_const(g, ctx_printf(g->ctx, "%s.absorbed_b", base), DT_F32, 1, pd);
		for (int64_t k = 0; k < sets.n; k++)
			for (int64_t t = 0; t < nt; t++) {
				int64_t cl = sets.vec[k][t];
				float *pr = (float *)p->data + (k * nt + t) * in;
				for (int64_t i = 0; i < in; i++)
					pr[i] = alpha * weight(gm, i, cl);
				if (b)
					((float *)b->data)[k * nt + t] = beta * (float)tensor_get_f(bias, cl);
			}
		for (int64_t s = 0; s < ns; s++)
			qrow[s] = row[s * nt];
		q = x;
	} else {
		/* p: x's rows, q: alpha W[:, col] for each column read */
		int64_t *num = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)nc), ncol = 0;
		int64_t *cols = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)nc);
		for (int64_t s = 0; s < ns; s++) {
			int64_t cl = col[s * nt];
			if (!num[cl]) {
				cols[ncol] = cl;
				num[cl] = ++ncol;
			}
			qrow[s] = num[cl] - 1;
		}
		for (int64_t k = 0; k < ng; k++)
			memcpy(prow + k * nt, groups.vec[k] + nt, sizeof(int64_t) * (size_t)nt);
		int64_t qd[2] = {ncol, in};
		q = tensor_const(g, ctx_printf(g->ctx, "%s.absorbed_w", base), DT_F32, 2, qd);
		if (bias)
			b = tensor_const(g, ctx_printf(g->ctx, "%s.absorbed_b", base), DT_F32, 1, qd);
		for (int64_t k = 0; k < ncol; k++) {
			float *qr = (float *)q->data + k * in;
			for (int64_t i = 0; i < in; i++)
				qr[i] = alpha * weight(gm, i, cols[k]);
			if (b)
				((float *)b->data)[k] = beta * (float)tensor_get_f(bias, cols[k]);
		}
		p = x;
	}

	Node *n = c->n, *f = node_new(g, OP_PROJ_CONTRACT, n->name, 8, 1);
	f->in[0] = c->u;
	f->in[1] = p;
	f->in[2] = q;
	f->in[3] = b;
	f->in[4] = const_i64(g, ctx_printf(g->ctx, "%s.absorbed_ia", base), ng * nt, ia);
	f->in[5] = const_i64(g, ctx_printf(g->ctx, "%s.absorbed_prow", base), ng * nt, prow);
	f->in[6] = const_i64(g, ctx_printf(g->ctx, "%s.absorbed_grp", base), ns, grp);
	f->in[7] = const_i64(g, ctx_printf(g->ctx, "%s.absorbed_qrow", base), ns, qrow);
	f->out[0] = n->out[0];
	f->out[0]->producer = f;
	f->index = n->index;
	f->loc = n->loc;
	f->src_op = n->src_op;
	f->fused_from = c->mul ? ctx_printf(g->ctx, "%s, %s, projection %s", node_label(g->ctx, c->mul),
	                                    node_label(g->ctx, n), node_label(g->ctx, gm))
	                       : ctx_printf(g->ctx, "%s, projection %s", node_label(g->ctx, n),
	                                    node_label(g->ctx, gm));
	node_add_attr(g, f, "groups", AT_INT)->i = ng;
	node_add_attr(g, f, "terms", AT_INT)->i = nt;
	node_add_attr(g, f, "bias", AT_INT)->i = !b ? 0 : wside ? 1 : 2;
	node_add_attr(g, f, "side", AT_STRING)->s = wside ? "weights" : "tokens";
	f->pos = n->pos;
	g->nodes[n->pos] = f;
	n->dead = true;
	if (c->mul)
		c->mul->dead = true;
	op_info[OP_PROJ_CONTRACT].shape(g, f);
	return true;
}

void fuse_absorb(Graph *g)
{
	graph_count_users(g);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		Ctr c;
		if (!n->dead && (n->op == OP_REDUCE_SUM || n->op == OP_MATMUL) && contraction(g, n, &c))
			absorb(g, &c);
	}
	/* the k and v chains nothing reads now are left to the next pass, dce_after_fuse */
	graph_compact(g);
	graph_count_users(g);
}
