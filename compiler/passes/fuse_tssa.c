/*
 * fuse_tssa.c -- recognise Token Statistics Self-Attention in an ONNX graph
 * and rewrite it into one TSSA / CausalTSSA node (op_fused.c, runtime/tssa/tssa.h).
 *
 * The pass recognises the mathematics, not one op sequence.  Products and
 * quotients are flattened (flatten()) into a sign, a scalar constant and a
 * multiset of factors with integer exponents, looking through Mul, Div, Neg,
 * Reciprocal, Pow by a constant integer, Expand and Identity.  So
 * -(w * pi) * (1 / (1 + m)), -(w * pi) / (m + 1), w * w and w ** 2, x / c and
 * x * (1 / c) all look alike.  Every other value is identified by its role:
 *
 *   W4   head split of the projected tokens w (B,N,d): views of w to
 *        (B,N,K,p), then Transpose to (B,K,N,p)            head_split()
 *   c    column norm over tokens, clamped: Clip/Max of ReduceL2 or of
 *        Sqrt/Pow(.,0.5) of ReduceSum(W4^2)                 colnorm()
 *   pi   Softmax over the head axis (opset >= 13) of temp * s, s the sum
 *        over channels of W4^2 / c^2 (vision) or of W4^2 / D + denom_bias,
 *        D = clamp(CumSum(W4^2)) (causal)                   softmax_pi()
 *   m    the moments: sum_n P W4^2 by MatMul or Mul+ReduceSum (vision), or
 *        CumSum(W4^2 pi) (causal), divided by sum pi + eps  moments_*()
 *   y    -(W4 * pi) / (1 + m), Transpose back, views to (B,N,d)
 *
 * A match is a proof: every shape, axis, Softmax axis, CumSum direction,
 * constant (exponents, the 1 in 1 + m, the sign) is checked, and every value
 * computed inside the match must have no user outside it and must not be a
 * graph output.  Anything else leaves the graph untouched.  The epsilons
 * (norm clamp, pi-sum) and temp are taken from the model's constants, so a
 * model with other epsilons fuses with its own.
 *
 * Rewrite: the fused node takes the Softmax's name and index, writes the
 * merge output tensor y in place of the last matched node, reads w, a new
 * (K) temp constant and (causal) a new (K, N, 1) denom_bias constant; the
 * matched nodes are marked dead and compacted away.
 */
#include "tostc.h"

#include <math.h>
#include <string.h>

enum { MAX_MATCH = 128, MAX_FACTORS = 12 };

typedef struct {
	Tensor *t;   /* leaf; for a W4 factor, the projected tokens w */
	bool w4;     /* a head split of w */
	int exp;
} Factor;

typedef struct {
	Factor f[MAX_FACTORS];
	int n;
	double scalar;
	bool ok;
} Product;

typedef struct {
	Graph *g;
	Users users;          /* live readers of each tensor (at pass start) */
	/* the match in progress */
	Node *nodes[MAX_MATCH];
	int nnodes;
	bool overflow;
	bool causal;
	int r;                /* rank of W4: 4 (B,K,N,p) or 3 (K,N,p) */
	int64_t B, K, N, p;
	Tensor *w;            /* projected tokens (B,N,d) or (N,d) */
	Tensor *pi;           /* softmax output (B,K,N) */
	Node *softmax;
	double *temp;         /* (K) */
	double *bias;         /* (K, N) causal denom_bias, or NULL */
	float eps_norm, eps_pi;
	bool have_norm_eps, have_pi_eps;
	bool failed;          /* pi was claimed but did not verify */
} Fuser;

static bool softmax_pi(Fuser *F, Tensor *t);

/* ---- helpers ---- */

static void take(Fuser *F, Node *n)
{
	for (int i = 0; i < F->nnodes; i++)
		if (F->nodes[i] == n)
			return;
	if (F->nnodes == MAX_MATCH) {
		F->overflow = true;
		return;
	}
	F->nodes[F->nnodes++] = n;
}

/* Follow views (contiguous reinterpretations) up to the first real value. */
static Tensor *strip(Fuser *F, Tensor *t)
{
	while (t && t->kind == TK_VALUE && t->producer && !t->producer->dead &&
	       (op_info[t->producer->op].flags & OPF_VIEW)) {
		take(F, t->producer);
		t = t->producer->in[0];
	}
	return t;
}

static bool dims_are(const Tensor *t, int rank, const int64_t *d)
{
	if (!t || !t->shape_known || t->rank != rank || t->dtype != DT_F32)
		return false;
	for (int i = 0; i < rank; i++)
		if (t->dims[i] != d[i])
			return false;
	return true;
}

/* Expected shapes; `r` is the rank of W4.  The batch axis exists when r == 4. */
static bool is_shape(Fuser *F, const Tensor *t, int64_t a, int64_t b, int64_t c, int64_t d)
{
	int64_t v[4] = {a, b, c, d};
	if (F->r == 4)
		return dims_are(t, 4, v);
	return dims_are(t, 3, v + 1);
}

static bool is_shape3(Fuser *F, const Tensor *t, int64_t a, int64_t b, int64_t c)
{
	int64_t v[3] = {a, b, c};
	if (F->r == 4)
		return dims_are(t, 3, v);
	return dims_are(t, 2, v + 1);
}

/* Pow's exponent: a constant scalar of any numeric type. */
static bool pow_exponent(const Tensor *t, double *v)
{
	if (!t || t->kind != TK_CONST || tensor_nelem(t) != 1)
		return false;
	if (t->dtype == DT_F32)
		*v = tensor_get_f(t, 0);
	else if (t->dtype == DT_I64 || t->dtype == DT_I32)
		*v = (double)tensor_get_i(t, 0);
	else
		return false;
	return true;
}

/* The reduction axes of a Reduce* node, normalised; false when not static. */
static bool reduce_axes(Fuser *F, Node *n, int64_t *axes, int *na)
{
	int rank = n->in[0]->rank;
	*na = 0;
	if (n->nin > 1 && n->in[1]) {
		Tensor *a = n->in[1];
		if (a->kind != TK_CONST || a->dtype != DT_I64 || tensor_nelem(a) > MAX_RANK)
			return false;
		for (int64_t i = 0; i < tensor_nelem(a); i++)
			axes[(*na)++] = tensor_get_i(a, i);
	} else {
		const int64_t *v;
		int k = attr_ints(n, "axes", &v);
		if (k <= 0 || k > MAX_RANK)
			return false;   /* absent: all axes */
		for (int i = 0; i < k; i++)
			axes[(*na)++] = v[i];
	}
	for (int i = 0; i < *na; i++) {
		if (axes[i] < 0)
			axes[i] += rank;
		if (axes[i] < 0 || axes[i] >= rank)
			return false;
	}
	return true;
}

/* n reduces exactly over `axis` of its input; keepdims must equal `keep` (-1: any). */
static bool reduces_over(Fuser *F, Node *n, int axis, int keep)
{
	int64_t axes[MAX_RANK];
	int na;
	if (!reduce_axes(F, n, axes, &na) || na != 1 || axes[0] != axis)
		return false;
	return keep < 0 || attr_int(n, "keepdims", 1) == keep;
}

/* CumSum along `axis` of its rank, forward, inclusive. */
static bool cumsum_over(Node *n, int axis)
{
	Tensor *a = n->in[1];
	int64_t ax;
	if (!a || a->kind != TK_CONST || tensor_nelem(a) != 1 ||
	    (a->dtype != DT_I64 && a->dtype != DT_I32))
		return false;
	ax = tensor_get_i(a, 0);
	if (ax < 0)
		ax += n->in[0]->rank;
	return ax == axis && attr_int(n, "exclusive", 0) == 0 && attr_int(n, "reverse", 0) == 0;
}

/* Lower clamp: Clip(x, min) or Max(x, min) with a constant scalar min. Sets
 * *inner and *eps; without a clamp *inner = t and *eps = 0 (the clamped
 * quantities are sums of squares and norms, never negative). */
static void clampmin(Fuser *F, Tensor *t, Tensor **inner, double *eps)
{
	Node *n;
	double v, hi;
	*inner = t;
	*eps = 0.0;
	if ((n = tensor_producer(t, OP_CLIP))) {
		if (F->g->opset >= 11) {
			if (n->nin < 2 || !tensor_scalar(n->in[1], &v))
				return;
			if (n->nin > 2 && n->in[2] && (!tensor_scalar(n->in[2], &hi) || hi < 3.0e38))
				return;
		} else {
			if (!attr_find(n, "min") || attr_float(n, "max", INFINITY) < 3.0e38f)
				return;
			v = attr_float(n, "min", 0.0f);
		}
		take(F, n);
		*inner = n->in[0];
		*eps = v > 0 ? v : 0.0;
	} else if ((n = tensor_producer(t, OP_MAX)) && n->nin == 2) {
		for (int i = 0; i < 2; i++)
			if (tensor_scalar(n->in[i], &v)) {
				take(F, n);
				*inner = n->in[1 - i];
				*eps = v > 0 ? v : 0.0;
				return;
			}
	}
}

/* ---- head split ---- */

/* t is W4 (B,K,N,p) = Transpose(view of w (B,N,K*p)); returns w or NULL. */
static Tensor *head_split(Fuser *F, Tensor *t)
{
	Node *tr = tensor_producer(t, OP_TRANSPOSE);
	const int64_t *perm;
	int r = F->r;
	int64_t d = F->K * F->p;
	if (!tr || !is_shape(F, t, F->B, F->K, F->N, F->p))
		return NULL;
	if (attr_ints(tr, "perm", &perm) != r)
		return NULL;
	for (int i = 0; i < r; i++) {
		int want = i == r - 3 ? r - 2 : i == r - 2 ? r - 3 : i;
		if (perm[i] != want)
			return NULL;
	}
	Tensor *x = tr->in[0];
	Node *chain[8];
	int nc = 0;
	for (;;) {
		int64_t w3[3] = {F->B, F->N, d}, w2[2] = {F->N, d};
		if (dims_are(x, 3, w3) || (F->B == 1 && dims_are(x, 2, w2)))
			break;
		if (x->kind != TK_VALUE || !x->producer || x->producer->dead ||
		    !(op_info[x->producer->op].flags & OPF_VIEW) || nc == 8)
			return NULL;
		chain[nc++] = x->producer;
		x = x->producer->in[0];
	}
	if (nc == 0 || (F->w && F->w != x))
		return NULL;
	F->w = x;
	take(F, tr);
	for (int i = 0; i < nc; i++)
		take(F, chain[i]);
	return x;
}

/* ---- products ---- */

static void add_factor(Product *P, Tensor *t, bool w4, int e)
{
	for (int i = 0; i < P->n; i++)
		if (P->f[i].t == t && P->f[i].w4 == w4) {
			P->f[i].exp += e;
			return;
		}
	if (P->n == MAX_FACTORS) {
		P->ok = false;
		return;
	}
	P->f[P->n++] = (Factor){t, w4, e};
}

static void flatten_rec(Fuser *F, Tensor *t, int e, Product *P, int depth)
{
	double v;
	Node *n;
	Tensor *w;
	if (!P->ok)
		return;
	if (depth > 24 || !t || t->dtype != DT_F32 || !t->shape_known) {
		P->ok = false;
		return;
	}
	if (tensor_scalar(t, &v)) {
		P->scalar *= pow(v, e);
		return;
	}
	n = t->kind == TK_VALUE ? t->producer : NULL;
	if (n && !n->dead) {
		switch (n->op) {
		case OP_MUL:
			take(F, n);
			flatten_rec(F, n->in[0], e, P, depth + 1);
			flatten_rec(F, n->in[1], e, P, depth + 1);
			return;
		case OP_DIV:
			take(F, n);
			flatten_rec(F, n->in[0], e, P, depth + 1);
			flatten_rec(F, n->in[1], -e, P, depth + 1);
			return;
		case OP_NEG:
			take(F, n);
			if (e % 2)
				P->scalar = -P->scalar;
			flatten_rec(F, n->in[0], e, P, depth + 1);
			return;
		case OP_RECIPROCAL:
			take(F, n);
			flatten_rec(F, n->in[0], -e, P, depth + 1);
			return;
		case OP_POW:
			if (pow_exponent(n->in[1], &v) && (v == 1 || v == 2 || v == -1 || v == -2)) {
				take(F, n);
				flatten_rec(F, n->in[0], e * (int)v, P, depth + 1);
				return;
			}
			break;
		case OP_EXPAND:   /* a broadcast the product does anyway */
		case OP_IDENTITY:
			take(F, n);
			flatten_rec(F, n->in[0], e, P, depth + 1);
			return;
		default:
			break;
		}
	}
	if ((w = head_split(F, t)))
		add_factor(P, w, true, e);
	else
		add_factor(P, t, false, e);
}

static Product flatten(Fuser *F, Tensor *t)
{
	Product P;
	P.n = 0;
	P.scalar = 1.0;
	P.ok = true;
	flatten_rec(F, t, 1, &P, 0);
	/* drop factors that cancelled */
	int k = 0;
	for (int i = 0; i < P.n; i++)
		if (P.f[i].exp != 0)
			P.f[k++] = P.f[i];
	P.n = k;
	return P;
}

/* P is exactly W4^e times the scalar 1. */
static bool is_w4_pow(Fuser *F, Tensor *t, int e)
{
	Product P = flatten(F, t);
	return P.ok && P.n == 1 && P.f[0].w4 && P.f[0].exp == e && P.scalar == 1.0;
}

/* ---- statistics ---- */

/* The norm clamp's epsilon: the first match sets it, later ones must agree. */
static bool set_norm_eps(Fuser *F, double eps)
{
	if (F->have_norm_eps && F->eps_norm != (float)eps)
		return false;
	F->eps_norm = (float)eps;
	F->have_norm_eps = true;
	return true;
}

/* c (B,K,1,p): clamp(ReduceL2(W4 over tokens)) or clamp(sqrt(ReduceSum(W4^2))). */
static bool colnorm(Fuser *F, Tensor *c)
{
	Tensor *r;
	Node *n;
	double eps, v;
	int tok = F->r - 2;
	if (!is_shape(F, c, F->B, F->K, 1, F->p))
		return false;
	clampmin(F, c, &r, &eps);
	if (!is_shape(F, r, F->B, F->K, 1, F->p))
		return false;
	if ((n = tensor_producer(r, OP_REDUCE_L2))) {
		if (!reduces_over(F, n, tok, 1) || !is_w4_pow(F, n->in[0], 1))
			return false;
	} else {
		Node *rs;
		if ((n = tensor_producer(r, OP_SQRT)))
			;
		else if ((n = tensor_producer(r, OP_POW)) && pow_exponent(n->in[1], &v) && v == 0.5)
			;
		else
			return false;
		if (!(rs = tensor_producer(n->in[0], OP_REDUCE_SUM)) || !reduces_over(F, rs, tok, 1) ||
		    !is_w4_pow(F, rs->in[0], 2))
			return false;
		take(F, rs);
	}
	take(F, n);
	return set_norm_eps(F, eps);
}

/* Causal: D (B,K,N,p) = clamp(CumSum over tokens of W4^2). */
static bool prefix_norm(Fuser *F, Tensor *D)
{
	Tensor *s;
	Node *n;
	double eps;
	if (!is_shape(F, D, F->B, F->K, F->N, F->p))
		return false;
	clampmin(F, D, &s, &eps);
	if (!(n = tensor_producer(s, OP_CUMSUM)) || !cumsum_over(n, F->r - 2) ||
	    !is_w4_pow(F, n->in[0], 2))
		return false;
	take(F, n);
	return set_norm_eps(F, eps);
}

/* A constant denom_bias broadcast as (1, K, N, 1) onto (B,K,N,p): fills F->bias. */
static bool denom_bias(Fuser *F, Tensor *db)
{
	int r = F->r;
	int64_t want[4] = {F->B, F->K, F->N, F->p};
	const int64_t *full = r == 4 ? want : want + 1;
	int64_t st[4] = {0, 0, 0, 0};   /* strides of db along the W4 axes */
	if (!db || db->kind != TK_CONST || db->dtype != DT_F32 || db->rank > r)
		return false;
	int64_t stride = 1;
	for (int i = db->rank - 1; i >= 0; i--) {
		int ax = r - db->rank + i;
		if (db->dims[i] != 1 && db->dims[i] != full[ax])
			return false;
		if (db->dims[i] != 1) {
			if (ax == r - 1 || (r == 4 && ax == 0))
				return false;   /* varies over channels or batch */
			st[ax] = stride;
		}
		stride *= db->dims[i];
	}
	F->bias = ctx_alloc(F->g->ctx, sizeof(double) * (size_t)(F->K * F->N));
	for (int64_t k = 0; k < F->K; k++)
		for (int64_t n = 0; n < F->N; n++)
			F->bias[k * F->N + n] = tensor_get_f(db, k * st[r - 3] + n * st[r - 2]);
	return true;
}

/* s (B,K,N): ReduceSum over channels of W4^2 / c^2 (vision) or of
 * W4^2 / D (+ denom_bias) (causal). */
static bool token_energy(Fuser *F, Tensor *s)
{
	Node *rs = tensor_producer(s, OP_REDUCE_SUM), *add;
	Tensor *e;
	Product P;
	if (!rs || !is_shape3(F, s, F->B, F->K, F->N) || !reduces_over(F, rs, F->r - 1, 0))
		return false;
	take(F, rs);
	e = rs->in[0];
	if (F->causal && (add = tensor_producer(e, OP_ADD))) {
		int i;
		for (i = 0; i < 2; i++)
			if (add->in[i]->kind == TK_CONST)
				break;
		if (i == 2 || !denom_bias(F, add->in[i]))
			return false;
		take(F, add);
		e = add->in[1 - i];
	}
	if (!is_shape(F, e, F->B, F->K, F->N, F->p))
		return false;
	P = flatten(F, e);
	if (!P.ok || P.n != 2 || P.scalar != 1.0)
		return false;
	for (int i = 0; i < 2; i++) {
		Factor *w = &P.f[i], *o = &P.f[1 - i];
		if (!w->w4 || w->exp != 2)
			continue;
		if (!F->causal)
			return o->exp == -2 && !o->w4 && colnorm(F, o->t);
		return o->exp == -1 && !o->w4 && prefix_norm(F, o->t);
	}
	return false;
}

/* pi (B,K,N) = Softmax over heads of temp * s. */
static bool softmax_pi(Fuser *F, Tensor *t)
{
	Node *sm = tensor_producer(t, OP_SOFTMAX);
	Product P;
	int head = F->r - 3, ns = 0;
	Tensor *s = NULL;
	if (F->pi)
		return t == F->pi && !F->failed;
	if (!sm || F->g->opset < 13 || !is_shape3(F, t, F->B, F->K, F->N))
		return false;
	int64_t axis = attr_int(sm, "axis", -1);
	if (axis < 0)
		axis += t->rank;
	if (axis != head)
		return false;
	F->pi = t;
	F->softmax = sm;
	take(F, sm);
	F->temp = ctx_alloc(F->g->ctx, sizeof(double) * (size_t)F->K);
	F->failed = true;   /* until verified below */
	P = flatten(F, sm->in[0]);
	if (!P.ok)
		return false;
	for (int64_t k = 0; k < F->K; k++)
		F->temp[k] = P.scalar;
	for (int i = 0; i < P.n; i++) {
		Tensor *c = P.f[i].t;
		if (P.f[i].w4)
			return false;
		if (c->kind != TK_CONST) {
			if (P.f[i].exp != 1 || ns++)
				return false;
			s = c;
			continue;
		}
		/* temp: constant along every axis but heads of (B,K,N) */
		int rs = t->rank;
		int64_t hs = 0;
		if (c->rank > rs)
			return false;
		int64_t stride = 1;
		for (int j = c->rank - 1; j >= 0; j--) {
			int ax = rs - c->rank + j;
			if (c->dims[j] != 1) {
				if (ax != head || c->dims[j] != F->K)
					return false;
				hs = stride;
			}
			stride *= c->dims[j];
		}
		for (int64_t k = 0; k < F->K; k++)
			F->temp[k] *= pow(tensor_get_f(c, k * hs), P.f[i].exp);
	}
	if (!s || !token_energy(F, s))
		return false;
	F->failed = false;
	return true;
}

/* The pi-sum denominator: a view of (sum over tokens of pi) + eps. */
static bool pi_den(Fuser *F, Tensor *t)
{
	Tensor *x = strip(F, t), *sum = x;
	Node *add = tensor_producer(x, OP_ADD), *rs;
	double eps = 0.0;
	if (add) {
		int i;
		for (i = 0; i < 2; i++)
			if (tensor_scalar(add->in[i], &eps))
				break;
		if (i == 2)
			return false;
		take(F, add);
		sum = strip(F, add->in[1 - i]);
	}
	if (F->causal) {
		if (!(rs = tensor_producer(sum, OP_CUMSUM)) || !cumsum_over(rs, F->r - 2) ||
		    !is_shape3(F, sum, F->B, F->K, F->N))
			return false;
	} else {
		if (!(rs = tensor_producer(sum, OP_REDUCE_SUM)) || !reduces_over(F, rs, F->r - 2, -1))
			return false;
	}
	if (!softmax_pi(F, rs->in[0]) || eps < 0.0)
		return false;
	take(F, rs);
	if (F->have_pi_eps)
		return false;   /* normalised twice */
	F->have_pi_eps = true;
	F->eps_pi = (float)eps;
	return true;
}

/* t is pi, maybe divided by its denominator, viewed with the given shape. */
static bool pi_maybe_normed(Fuser *F, Tensor *t)
{
	Tensor *x = strip(F, t);
	Product P;
	int npi = 0;
	if (softmax_pi(F, x))
		return true;
	if (!is_shape3(F, x, F->B, F->K, F->N))
		return false;
	P = flatten(F, x);
	if (!P.ok || P.scalar != 1.0)
		return false;
	for (int i = 0; i < P.n; i++) {
		if (P.f[i].w4)
			return false;
		if (P.f[i].exp == 1 && softmax_pi(F, P.f[i].t))
			npi++;
		else if (P.f[i].exp == -1 && is_shape3(F, P.f[i].t, F->B, F->K, 1) &&
		         pi_den(F, P.f[i].t))
			;
		else
			return false;
	}
	return npi == 1;
}

/* Vision moments m (B,K,1,p) = sum_n pi W4^2 / (sum_n pi + eps). */
static bool moments_vision(Fuser *F, Tensor *m)
{
	Product P = flatten(F, m);
	int ng = 0;
	if (!P.ok || P.scalar != 1.0)
		return false;
	for (int i = 0; i < P.n; i++) {
		Factor *f = &P.f[i];
		Node *n;
		if (f->w4)
			return false;
		if (f->exp == -1 && is_shape(F, f->t, F->B, F->K, 1, 1)) {
			if (!pi_den(F, f->t))
				return false;
			continue;
		}
		if (f->exp != 1 || !is_shape(F, f->t, F->B, F->K, 1, F->p) || ng++)
			return false;
		if ((n = tensor_producer(f->t, OP_MATMUL))) {
			/* (B,K,1,N) @ (B,K,N,p) */
			if (!is_shape(F, n->in[0], F->B, F->K, 1, F->N) || !pi_maybe_normed(F, n->in[0]) ||
			    !is_w4_pow(F, n->in[1], 2))
				return false;
		} else if ((n = tensor_producer(f->t, OP_REDUCE_SUM))) {
			Product H;
			int nw = 0, np = 0;
			if (!reduces_over(F, n, F->r - 2, 1))
				return false;
			H = flatten(F, n->in[0]);
			if (!H.ok || H.scalar != 1.0 || H.n != 2)
				return false;
			for (int j = 0; j < 2; j++) {
				if (H.f[j].w4 && H.f[j].exp == 2)
					nw++;
				else if (!H.f[j].w4 && H.f[j].exp == 1 &&
				         is_shape(F, H.f[j].t, F->B, F->K, F->N, 1) &&
				         pi_maybe_normed(F, H.f[j].t))
					np++;
			}
			if (nw != 1 || np != 1)
				return false;
		} else {
			return false;
		}
		take(F, n);
	}
	return ng == 1 && F->have_pi_eps;
}

/* Causal moments m (B,K,N,p) = CumSum(W4^2 pi) / view(CumSum(pi) + eps). */
static bool moments_causal(Fuser *F, Tensor *m)
{
	Product P = flatten(F, m);
	int ng = 0;
	if (!P.ok || P.scalar != 1.0)
		return false;
	for (int i = 0; i < P.n; i++) {
		Factor *f = &P.f[i];
		Node *n;
		Product H;
		int nw = 0, np = 0;
		if (f->w4)
			return false;
		if (f->exp == -1 && is_shape(F, f->t, F->B, F->K, F->N, 1)) {
			if (!pi_den(F, f->t))
				return false;
			continue;
		}
		if (f->exp != 1 || !is_shape(F, f->t, F->B, F->K, F->N, F->p) || ng++)
			return false;
		if (!(n = tensor_producer(f->t, OP_CUMSUM)) || !cumsum_over(n, F->r - 2))
			return false;
		take(F, n);
		H = flatten(F, n->in[0]);
		if (!H.ok || H.scalar != 1.0 || H.n != 2)
			return false;
		for (int j = 0; j < 2; j++) {
			if (H.f[j].w4 && H.f[j].exp == 2)
				nw++;
			else if (!H.f[j].w4 && H.f[j].exp == 1 &&
			         is_shape(F, H.f[j].t, F->B, F->K, F->N, 1) && softmax_pi(F, strip(F, H.f[j].t)))
				np++;
		}
		if (nw != 1 || np != 1)
			return false;
	}
	return ng == 1 && F->have_pi_eps;
}

/* o4 (B,K,N,p) = -(W4 pi) / (1 + m). */
static bool tssa_output(Fuser *F, Tensor *o4)
{
	Product P = flatten(F, o4);
	int nw = 0, np = 0, na = 0;
	if (!P.ok || P.scalar != -1.0 || P.n != 3)
		return false;
	for (int i = 0; i < 3; i++) {
		Factor *f = &P.f[i];
		Node *add;
		double one;
		if (f->w4) {
			nw += f->exp == 1;
			continue;
		}
		if (f->exp == 1 && is_shape(F, f->t, F->B, F->K, F->N, 1)) {
			if (!softmax_pi(F, strip(F, f->t)))
				return false;
			np++;
			continue;
		}
		if (f->exp != -1 || !(add = tensor_producer(f->t, OP_ADD)))
			return false;
		int j;
		for (j = 0; j < 2; j++)
			if (tensor_scalar(add->in[j], &one) && one == 1.0)
				break;
		if (j == 2)
			return false;
		take(F, add);
		if (F->causal ? !moments_causal(F, add->in[1 - j]) : !moments_vision(F, add->in[1 - j]))
			return false;
		na++;
	}
	return nw == 1 && np == 1 && na == 1;
}

/* ---- the proof and the rewrite ---- */

static bool in_match(Fuser *F, Node *n)
{
	for (int i = 0; i < F->nnodes; i++)
		if (F->nodes[i] == n)
			return true;
	return false;
}

/* Every value computed in the match is used only inside it (y excepted). */
static bool closed(Fuser *F, Tensor *y)
{
	if (F->overflow || !F->w || in_match(F, F->w->producer ? F->w->producer : NULL))
		return false;
	for (int i = 0; i < F->nnodes; i++) {
		Node *n = F->nodes[i];
		if (n->dead)
			return false;
		for (int j = 0; j < n->nout; j++) {
			Tensor *o = n->out[j];
			if (!o || o == y)
				continue;
			if (o->is_output)
				return false;
			for (int u = 0; u < F->users.count[o->id]; u++)
				if (!in_match(F, F->users.nodes[o->id][u]))
					return false;
		}
	}
	return true;
}

static const char *fused_names(Fuser *F)
{
	Ctx *c = F->g->ctx;
	char buf[256];
	size_t len = 0;
	int shown = 0;
	buf[0] = 0;
	for (int i = 1; i < F->nnodes; i++)   /* source order */
		for (int j = i; j > 0 && F->nodes[j - 1]->index > F->nodes[j]->index; j--) {
			Node *t = F->nodes[j];
			F->nodes[j] = F->nodes[j - 1];
			F->nodes[j - 1] = t;
		}
	for (int i = 0; i < F->nnodes && len < 160; i++, shown++) {
		int k = snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "",
		                 node_label(c, F->nodes[i]));
		len += k > 0 ? (size_t)k : 0;
		if (len >= sizeof buf)
			len = sizeof buf - 1;
	}
	if (shown < F->nnodes)
		return ctx_printf(c, "%s, ... (%d nodes)", buf, F->nnodes);
	return ctx_printf(c, "%s (%d nodes)", buf, F->nnodes);
}

static Tensor *new_const(Graph *g, const char *base, const char *what, int rank,
                         const int64_t *dims)
{
	const char *name = ctx_printf(g->ctx, "%s.%s", base, what);
	for (int i = 2; graph_tensor(g, name); i++)
		name = ctx_printf(g->ctx, "%s.%s%d", base, what, i);
	return tensor_const(g, name, DT_F32, rank, dims);
}

static void rewrite(Fuser *F, Tensor *y)
{
	Graph *g = F->g;
	Node *last = y->producer, *sm = F->softmax;
	Node *f = node_new(g, F->causal ? OP_CAUSAL_TSSA : OP_TSSA, sm->name, F->causal ? 3 : 2, 1);
	int64_t kd[1] = {F->K};
	Tensor *temp = new_const(g, y->name, "temp", 1, kd);

	f->index = sm->index;
	f->loc = sm->loc;
	for (int64_t k = 0; k < F->K; k++)
		((float *)temp->data)[k] = (float)F->temp[k];
	f->in[0] = F->w;
	f->in[1] = temp;
	if (F->causal) {
		int64_t bd[3] = {F->K, F->N, 1};
		Tensor *db = new_const(g, y->name, "denom_bias", 3, bd);
		for (int64_t i = 0; i < F->K * F->N; i++)
			((float *)db->data)[i] = F->bias ? (float)F->bias[i] : 0.0f;
		f->in[2] = db;
	}
	f->out[0] = y;
	node_add_attr(g, f, "heads", AT_INT)->i = F->K;
	node_add_attr(g, f, "eps_norm", AT_FLOAT)->f = F->eps_norm;
	node_add_attr(g, f, "eps_pi", AT_FLOAT)->f = F->eps_pi;
	f->fused_from = fused_names(F);
	for (int i = 0; i < F->nnodes; i++)
		F->nodes[i]->dead = true;
	f->pos = last->pos;
	g->nodes[last->pos] = f;
	y->producer = f;
	op_info[f->op].shape(g, f);
}

/* Try to fuse the TSSA whose heads are merged by Transpose node `tr`. */
static bool try_fuse(Fuser *F, Node *tr, bool causal)
{
	Tensor *o4 = tr->in[0], *y;
	const int64_t *perm;
	int r = o4->rank;
	Node *last = tr;

	F->nnodes = 0;
	F->overflow = false;
	F->causal = causal;
	F->w = NULL;
	F->pi = NULL;
	F->softmax = NULL;
	F->bias = NULL;
	F->have_norm_eps = F->have_pi_eps = false;
	F->failed = false;
	F->eps_norm = F->eps_pi = 0.0f;
	if ((r != 3 && r != 4) || o4->dtype != DT_F32 || !o4->shape_known)
		return false;
	if (attr_ints(tr, "perm", &perm) != r)
		return false;
	for (int i = 0; i < r; i++) {
		int want = i == r - 3 ? r - 2 : i == r - 2 ? r - 3 : i;
		if (perm[i] != want)
			return false;
	}
	F->r = r;
	F->B = r == 4 ? o4->dims[0] : 1;
	F->K = o4->dims[r - 3];
	F->N = o4->dims[r - 2];
	F->p = o4->dims[r - 1];
	take(F, tr);
	if (!tssa_output(F, o4) || !F->w || F->failed || !F->pi)
		return false;
	/* merge: views of the transposed output back to w's shape */
	y = tr->out[0];
	while (!dims_are(y, F->w->rank, F->w->dims)) {
		Node *v;
		if (F->users.count[y->id] != 1 || y->is_output)
			return false;
		v = F->users.nodes[y->id][0];
		if (!(op_info[v->op].flags & OPF_VIEW) || v->dead || v->in[0] != y)
			return false;
		take(F, v);
		last = v;
		y = v->out[0];
	}
	if (last == tr)
		return false;   /* (B,N,K,p) is never w's shape */
	if (causal && !F->bias) {
		F->bias = ctx_alloc(F->g->ctx, sizeof(double) * (size_t)(F->K * F->N));
	}
	if (!closed(F, y))
		return false;
	rewrite(F, y);
	return true;
}

void fuse_tssa(Graph *g)
{
	Fuser F;
	int nfused = 0;

	memset(&F, 0, sizeof F);
	F.g = g;
	F.users = graph_users(g);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || n->op != OP_TRANSPOSE)
			continue;
		if (try_fuse(&F, n, false) || try_fuse(&F, n, true))
			nfused++;
	}
	if (nfused) {
		graph_compact(g);
		graph_count_users(g);
	}
}
