/*
 * op_linalg.c -- shape and lower functions of the linear algebra family:
 * MatMul, Gemm, Conv, BatchNormalization, MaxPool, AveragePool,
 * GlobalAveragePool, LayerNormalization.  Kernels: runtime/gemm, conv, norm,
 * pool.
 *
 * Everything that can be decided at compile time is: MatMul's batch
 * broadcasting becomes per-dim element strides (or, when B is shared by the
 * whole batch, one tall GEMM), Conv/Pool padding (auto_pad) and output sizes
 * become one parameter array, and kernels never look at attributes.  A Conv
 * with a constant weight (not depthwise) on a small map is one GEMM per block
 * of output pixels, pixels @ W^T with W^T packed here, its rows tap-major
 * (tr_conv_packed_f32; see conv_packed for when).  Spatial
 * ops take 1 to 3 spatial dims; they are passed to kernels padded to 3 with
 * leading size-1 dims (see runtime/conv/conv.h).  Only f32 is supported by this family.
 *
 * Unsupported features are rejected in the shape functions, by name:
 * BatchNormalization training mode, MaxPool's Indices output.
 */
#include "tostc.h"
#include "gemm/gemm.h"
#include "conv/conv.h"
#include "conv/conv_packed.h"
#include "conv/depthwise.h"
#include "norm/batchnorm.h"
#include "norm/layernorm.h"
#include "pool/pool.h"

#include <string.h>

#define F32_ONLY (1u << DT_F32)

static int64_t prod(const int64_t *d, int n)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= d[i];
	return p;
}

/* ------------------------------------------------------------------ */
/* MatMul and Gemm                                                      */
/* ------------------------------------------------------------------ */

/* A weight packed before, found again by its source and columns: the
 * graphs of the step API (stream.c) pack the same weights as NAME_run's, and
 * sharing the data lets the emitter write them once.  The hash of the
 * source's bytes guards against data rewritten in place since. */
struct PackedWeight {
	const void *src;
	uint64_t hash;
	int64_t k, n, c0, c1;
	int trans;
	void *data;
	struct PackedWeight *next;
};

/* columns [c0, c1) of b (k, n), or of b' (n, k) with trans, packed */
static Tensor *prepack_cols(Graph *g, Tensor *b, int64_t k, int64_t n, int trans, int64_t c0,
                            int64_t c1)
{
	Tensor *r = tensor_root(b);
	int64_t npad = (c1 - c0 + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t dims[1] = {ctx_mul(g->ctx, k, npad)};
	ir_assert(g->ctx, r->kind == TK_CONST && r->data && r->dtype == DT_F32);
	Tensor *p = tensor_new(g, ctx_printf(g->ctx, "%s.packed%d", b->name, g->ntensors), TK_CONST,
	                       DT_F32, 1, dims);
	uint64_t h = fnv1a(FNV1A_BASIS, r->data, (size_t)tensor_nbytes(r));
	p->shape_known = true;
	for (struct PackedWeight *w = g->ctx->packed; w; w = w->next)
		if (w->src == r->data && w->hash == h && w->k == k && w->n == n && w->c0 == c0 &&
		    w->c1 == c1 && w->trans == trans) {
			p->data = w->data;
			return p;
		}
	p->data = ctx_alloc(g->ctx, (size_t)tensor_nbytes(p) + 1);
	const float *src = (const float *)r->data + (trans ? c0 * k : c0);
	tr_gemm_prepack_f32(src, trans ? 1 : n, trans ? k : 1, p->data, k, c1 - c0);
	struct PackedWeight *w = ctx_alloc(g->ctx, sizeof *w);
	*w = (struct PackedWeight){r->data, h, k, n, c0, c1, trans, p->data, g->ctx->packed};
	g->ctx->packed = w;
	return p;
}

Tensor *linalg_prepack(Graph *g, Tensor *b, int64_t k, int64_t n, int trans)
{
	return prepack_cols(g, b, k, n, trans, 0, n);
}

/* B can be packed for the micro-kernel now: a constant weight, and A has 4
 * rows or more (fewer take the GEMM's unpacked small-m path) */
static int gemm_packable(Tensor *b, int64_t m, int64_t k, int64_t nn)
{
	Tensor *r = tensor_root(b);
	return r->kind == TK_CONST && r->data && m >= 4 && k > 0 && nn > 0;
}

/* the arguments every GEMM kernel call shares after its tensors: the packing
 * scratch, m, k, n and trans_a */
static void call_gemm_shape(Call *c, int64_t m, int64_t k, int64_t nn, int trans_a)
{
	call_scratch(c, tr_gemm_pack_bytes(m, k, nn));
	call_int(c, m);
	call_int(c, k);
	call_int(c, nn);
	call_int(c, trans_a);
}

/* Append y (m, n) = alpha * A' @ B' [+ y] as one tr_gemm_f32 call, or, when B
 * is gemm_packable, as tr_gemm_packed_f32 with B packed for the micro-kernel
 * now (no packing of B at run time). */
static void emit_gemm(Graph *g, Node *n, Tensor *a, Tensor *b, Tensor *y, int64_t m, int64_t k,
                      int64_t nn, int trans_a, int trans_b, float alpha, int accumulate)
{
	if (gemm_packable(b, m, k, nn)) {
		Call *c = call_new(g, n, K_tr_gemm_packed_f32);
		call_in(c, a);
		call_in(c, linalg_prepack(g, b, k, nn, trans_b));
		call_out(c, y);
		call_gemm_shape(c, m, k, nn, trans_a);
		call_float(c, alpha);
		call_int(c, accumulate);
		return;
	}
	Call *c = call_new(g, n, K_tr_gemm_f32);
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	call_gemm_shape(c, m, k, nn, trans_a);
	call_int(c, trans_b);
	call_float(c, alpha);
	call_int(c, accumulate);
}

void linalg_gemm(Graph *g, Node *n, Tensor *a, Tensor *b, Tensor *y, int64_t m, int64_t k,
                 int64_t nn, int trans_a, int trans_b)
{
	emit_gemm(g, n, a, b, y, m, k, nn, trans_a, trans_b, 1.0f, 0);
}

/* y (m, n) = [gelu]([start +] [beta * bias +] alpha * A' @ B') as one
 * tr_gemm_packed_start_f32 call, the start (m, n) and the bias (a row of n,
 * broadcast) added and the GELU applied as the GEMM makes each tile; 0 (nothing
 * appended) unless B is gemm_packable. */
static int emit_gemm_start(Graph *g, Node *n, Tensor *a, Tensor *b, Tensor *y, int64_t m,
                           int64_t k, int64_t nn, int trans_a, int trans_b, float alpha,
                           Tensor *bias, float beta, Tensor *start, int gelu)
{
	if (!gemm_packable(b, m, k, nn))
		return 0;
	Call *c = call_new(g, n, K_tr_gemm_packed_start_f32);
	call_in(c, a);
	call_in(c, linalg_prepack(g, b, k, nn, trans_b));
	call_in(c, bias ? bias : a);     /* unread without a bias */
	call_in(c, start ? start : a);   /* unread without a start */
	call_out(c, y);
	call_gemm_shape(c, m, k, nn, trans_a);
	call_float(c, alpha);
	call_float(c, beta);
	call_int(c, bias != NULL);
	call_int(c, start != NULL);
	call_int(c, gelu);
	return 1;
}

/* a Gemm C or GemmResidual c that is one row of n values broadcast over the rows */
static int is_bias_row(Tensor *c, int64_t nn)
{
	return c && tensor_nelem(c) == nn && c->dims[c->rank - 1] == nn;
}

/* (tostc.h) numpy matmul: 1-D a is (1, k) with m dropped, 1-D b is (k, 1)
 * with n dropped */
void linalg_matmul_shape(Graph *g, Node *n, Tensor *a, Tensor *b, DType dt)
{
	if (a->rank < 1 || b->rank < 1)
		node_error(g, n, "%s inputs must have rank >= 1 (got %s and %s)", op_info[n->op].name,
		           tensor_shape_str(g->ctx, a), tensor_shape_str(g->ctx, b));
	int64_t ka = a->dims[a->rank - 1];
	int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
	if (ka != kb)
		node_error(g, n, "%s inner dimensions differ: a %s has k = %lld, b %s has k = %lld",
		           op_info[n->op].name, tensor_shape_str(g->ctx, a), (long long)ka,
		           tensor_shape_str(g->ctx, b), (long long)kb);
	int64_t dims[MAX_RANK], bat[MAX_RANK];
	int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
	int r = shape_broadcast(g, n, ba, a->dims, bb, b->dims, bat);
	memcpy(dims, bat, sizeof(int64_t) * (size_t)r);
	if (a->rank > 1)
		dims[r++] = a->dims[a->rank - 2];
	if (b->rank > 1)
		dims[r++] = b->dims[b->rank - 1];
	shape_set(n->out[0], dt, r, dims);
}

void shape_matmul(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	need_dtype(g, n, 1, F32_ONLY);
	linalg_matmul_shape(g, n, n->in[0], n->in[1], DT_F32);
}

/* (tostc.h) the batches of a numpy matmul: returns nb */
int linalg_matmul_batch(const Tensor *a, const Tensor *b, int64_t *m, int64_t *k, int64_t *nn,
                        int64_t *bdims, int64_t *astr, int64_t *bstr)
{
	*m = a->rank > 1 ? a->dims[a->rank - 2] : 1;
	*k = a->dims[a->rank - 1];
	*nn = b->rank > 1 ? b->dims[b->rank - 1] : 1;
	int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
	int nb = ba > bb ? ba : bb;
	int64_t sa = *m * *k, sb = *k * *nn;
	/* element strides per output batch dim, 0 where a or b broadcasts */
	for (int d = nb - 1; d >= 0; d--) {
		int da = d - (nb - ba), db = d - (nb - bb);
		int64_t ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;
		bdims[d] = ea > eb ? ea : eb;
		if (ea == 0 || eb == 0)
			bdims[d] = 0;
		astr[d] = ea == 1 ? 0 : sa;
		bstr[d] = eb == 1 ? 0 : sb;
		sa *= ea;
		sb *= eb;
	}
	return nb;
}

void lower_matmul(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1], *y = n->out[0];
	int64_t m, k, nn, bdims[MAX_RANK], astr[MAX_RANK], bstr[MAX_RANK];
	int nb = linalg_matmul_batch(a, b, &m, &k, &nn, bdims, astr, bstr);
	int64_t batch = prod(bdims, nb);
	int a_full = 1, b_shared = 1;
	for (int d = 0; d < nb; d++) {
		if (bdims[d] != 1 && astr[d] == 0)
			a_full = 0;
		if (bdims[d] != 1 && bstr[d] != 0)
			b_shared = 0;
	}
	if (a_full && b_shared) {
		/* one tall GEMM: (batch * m, k) @ (k, n) */
		emit_gemm(g, n, a, b, y, batch * m, k, nn, 0, 0, 1.0f, 0);
		return;
	}
	Call *c = call_new(g, n, K_tr_matmul_f32);
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	call_scratch(c, tr_gemm_pack_bytes(m, k, nn));
	call_int(c, m);
	call_int(c, k);
	call_int(c, nn);
	call_int(c, nb);
	call_ints(g, c, bdims, nb);
	call_ints(g, c, astr, nb);
	call_ints(g, c, bstr, nb);
}

/* y (m, n) = alpha * A' @ B' + beta * C, C unidirectionally broadcast to (m, n) */
void shape_gemm(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	need_dtype(g, n, 1, F32_ONLY);
	Tensor *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
	if (a->rank != 2 || b->rank != 2)
		node_error(g, n, "Gemm inputs A and B must be 2-D (got %s and %s)",
		           tensor_shape_str(g->ctx, a), tensor_shape_str(g->ctx, b));
	int64_t ta = attr_int(n, "transA", 0), tb = attr_int(n, "transB", 0);
	int64_t m = ta ? a->dims[1] : a->dims[0], ka = ta ? a->dims[0] : a->dims[1];
	int64_t kb = tb ? b->dims[1] : b->dims[0], nn = tb ? b->dims[0] : b->dims[1];
	if (ka != kb)
		node_error(g, n, "Gemm inner dimensions differ: A' has k = %lld, B' has k = %lld "
		           "(transA %lld, transB %lld)", (long long)ka, (long long)kb, (long long)ta,
		           (long long)tb);
	if (!c && g->opset < 11)
		node_error(g, n, "Gemm input C is required before opset 11 (model opset %d)", g->opset);
	if (c) {
		need_dtype(g, n, 2, F32_ONLY);
		int64_t want[2] = {m, nn};
		if (c->rank > 2)
			node_error(g, n, "Gemm input C %s has rank > 2", tensor_shape_str(g->ctx, c));
		for (int i = 0; i < c->rank; i++) {
			int64_t cd = c->dims[i], wd = want[2 - c->rank + i];
			if (cd != 1 && cd != wd)
				node_error(g, n, "Gemm input C %s does not broadcast to the output (%lld, %lld)",
				           tensor_shape_str(g->ctx, c), (long long)m, (long long)nn);
		}
	}
	int64_t dims[2] = {m, nn};
	shape_set(n->out[0], DT_F32, 2, dims);
}

/* Gemm n can be made in parts (demand.c): B a packable constant, A not
 * transposed, C absent or a bias row, no GELU in its epilogue */
bool gemm_parts_ok(const Node *n)
{
	if (n->op != OP_GEMM || attr_int(n, "transA", 0) || attr_int(n, "gelu", 0) ||
	    n->out[0]->rank != 2)
		return false;
	Tensor *c = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
	int64_t m = y->dims[0], nn = y->dims[1], k = n->in[0]->dims[1];
	if (c && attr_float(n, "beta", 1.0f) != 0.0f && !is_bias_row(c, nn))
		return false;
	return gemm_packable(n->in[1], m, k, nn);
}

void lower_gemm(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
	int ta = attr_int(n, "transA", 0) != 0, tb = attr_int(n, "transB", 0) != 0;
	float alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
	int64_t m = y->dims[0], nn = y->dims[1], k = ta ? a->dims[0] : a->dims[1];
	int acc = 0;
	const int64_t *parts;
	int np = attr_ints(n, "parts", &parts);
	if (np >= 0 && gemm_parts_ok(n)) {
		/* only the parts of y that its readers use (demand.c), with only
		 * the columns [lo, hi) they span packed (parts start on strips) */
		int bias = c && beta != 0.0f;
		int64_t lo = nn, hi = 0, *sh = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)np);
		for (int i = 0; i + 3 < np; i += 4) {
			lo = parts[i + 2] < lo ? parts[i + 2] : lo;
			hi = parts[i + 3] > hi ? parts[i + 3] : hi;
		}
		for (int i = 0; i < np; i++)
			sh[i] = parts[i] - (i % 4 >= 2 ? lo : 0);
		Call *k0 = call_new(g, n, K_tr_gemm_packed_parts_f32);
		call_in(k0, a);
		call_in(k0, prepack_cols(g, b, k, nn, tb, lo, hi));
		call_in(k0, bias ? c : a);   /* unread without a bias */
		call_out(k0, y);
		call_scratch(k0, tr_gemm_pack_bytes(m, k, nn));
		call_int(k0, m);
		call_int(k0, k);
		call_int(k0, hi - lo);
		call_int(k0, nn);
		call_int(k0, lo);
		call_float(k0, alpha);
		call_float(k0, beta);
		call_int(k0, bias);
		call_int(k0, np / 4);
		call_ints(g, k0, sh, np);
		return;
	}
	/* a GELU fused by fuse_epilogue.c: on each tile, or one pass after the GEMM */
	int gelu = attr_int(n, "gelu", 0) != 0, bias = c && beta != 0.0f;
	if ((bias ? is_bias_row(c, nn) : gelu) &&
	    emit_gemm_start(g, n, a, b, y, m, k, nn, ta, tb, alpha, bias ? c : NULL, beta, NULL, gelu))
		return;
	if (c && beta != 0.0f) {
		int64_t cm = c->rank == 2 ? c->dims[0] : 1;
		int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
		Call *k0 = call_new(g, n, K_tr_gemm_bias_f32);
		call_in(k0, c);
		call_out(k0, y);
		call_int(k0, m);
		call_int(k0, nn);
		call_int(k0, cm);
		call_int(k0, cn);
		call_float(k0, beta);
		acc = 1;
	}
	emit_gemm(g, n, a, b, y, m, k, nn, ta, tb, alpha, acc);
	if (gelu) {
		Call *k1 = call_new(g, n, K_tr_gelu_f32);   /* in place */
		call_in(k1, y);
		call_out(k1, y);
		call_int(k1, m * nn);
	}
}

/*
 * GemmResidual(a, B, r [, c]) (fuse_epilogue.c): y = r + alpha a @ B' + beta c, where a is
 * (.., k) read as (m, k) rows, B' = transB ? B^T : B is (k, n), c broadcasts
 * to (m, n) like Gemm's C (or is absent), and r, y have the residual's shape
 * (.., n) with m rows.
 */
void shape_gemm_residual(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1], *r = n->in[2], *c = n->nin > 3 ? n->in[3] : NULL;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			need_dtype(g, n, i, F32_ONLY);
	int64_t tb = attr_int(n, "transB", 0);
	int64_t k = b->dims[tb ? 1 : 0], nn = b->dims[tb ? 0 : 1];
	ir_assert(g->ctx, b->rank == 2 && a->rank >= 1 && a->dims[a->rank - 1] == k);
	ir_assert(g->ctx, r->rank >= 1 && r->dims[r->rank - 1] == nn);
	ir_assert(g->ctx, tensor_nelem(a) / k == tensor_nelem(r) / nn);
	ir_assert(g->ctx, !c || c->rank <= 2);
	shape_set(n->out[0], DT_F32, r->rank, r->dims);
}

void lower_gemm_residual(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1], *r = n->in[2], *c = n->nin > 3 ? n->in[3] : NULL;
	Tensor *y = n->out[0];
	int tb = attr_int(n, "transB", 0) != 0;
	int64_t k = b->dims[tb ? 1 : 0], nn = b->dims[tb ? 0 : 1], m = tensor_nelem(a) / k;
	float alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
	if ((!c || is_bias_row(c, nn)) &&
	    emit_gemm_start(g, n, a, b, y, m, k, nn, 0, tb, alpha, c, beta, r, 0))
		return;
	Call *k0 = call_new(g, n, K_tr_gemm_residual_f32);
	call_in(k0, c ? c : r);   /* any valid pointer when there is no c */
	call_in(k0, r);
	call_out(k0, y);
	call_int(k0, m);
	call_int(k0, nn);
	call_int(k0, c && c->rank == 2 ? c->dims[0] : 1);
	call_int(k0, c && c->rank >= 1 ? c->dims[c->rank - 1] : 1);
	call_float(k0, beta);
	call_int(k0, c != NULL);
	emit_gemm(g, n, a, b, y, m, k, nn, 0, tb, alpha, 1);
}

/* ------------------------------------------------------------------ */
/* Spatial parameters shared by Conv and the pools                      */
/* ------------------------------------------------------------------ */

/* One spatial op's geometry; arrays hold ns entries (1 to 3). */
typedef struct {
	int ns;
	int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} Spatial;

/*
 * Fill sp from x (N, C, in...) and the node's pads / strides / dilations /
 * auto_pad attributes; ks: kernel size per spatial dim; ceil_mode for pools.
 */
static void spatial_setup(Graph *g, Node *n, const Tensor *x, const int64_t *ks, int ceil_mode,
                          Spatial *sp)
{
	int ns = x->rank - 2;
	const int64_t *v;
	int cnt;
	sp->ns = ns;
	for (int i = 0; i < ns; i++) {
		sp->in[i] = x->dims[2 + i];
		sp->k[i] = ks[i];
		sp->s[i] = 1;
		sp->d[i] = 1;
		sp->pb[i] = sp->pe[i] = 0;
		if (ks[i] < 1)
			node_error(g, n, "kernel size %lld in spatial dim %d must be >= 1", (long long)ks[i], i);
	}
	if ((cnt = attr_ints(n, "strides", &v)) >= 0) {
		if (cnt != ns)
			node_error(g, n, "strides has %d values; the input has %d spatial dims", cnt, ns);
		for (int i = 0; i < ns; i++)
			if ((sp->s[i] = v[i]) < 1)
				node_error(g, n, "strides[%d] = %lld must be >= 1", i, (long long)v[i]);
	}
	if ((cnt = attr_ints(n, "dilations", &v)) >= 0) {
		if (cnt != ns)
			node_error(g, n, "dilations has %d values; the input has %d spatial dims", cnt, ns);
		for (int i = 0; i < ns; i++)
			if ((sp->d[i] = v[i]) < 1)
				node_error(g, n, "dilations[%d] = %lld must be >= 1", i, (long long)v[i]);
	}
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	int same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
	if (!same_upper && !same_lower && strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
		node_error(g, n,
		           "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", text_msg(g->ctx, ap));
	if (!strcmp(ap, "NOTSET") && (cnt = attr_ints(n, "pads", &v)) >= 0) {
		if (cnt != 2 * ns)
			node_error(g, n, "pads has %d values; expected %d (begin and end per spatial dim)",
			           cnt, 2 * ns);
		for (int i = 0; i < 2 * ns; i++)
			if (v[i] < 0)
				node_error(g, n, "pads[%d] = %lld is negative", i, (long long)v[i]);
		for (int i = 0; i < ns; i++) {
			sp->pb[i] = v[i];
			sp->pe[i] = v[ns + i];
		}
	}
	for (int i = 0; i < ns; i++) {
		int64_t dk = (sp->k[i] - 1) * sp->d[i] + 1;   /* dilated kernel extent */
		if (same_upper || same_lower) {
			int64_t o = (sp->in[i] + sp->s[i] - 1) / sp->s[i];
			int64_t total = (o - 1) * sp->s[i] + dk - sp->in[i];
			if (total < 0)
				total = 0;
			sp->pb[i] = same_upper ? total / 2 : total - total / 2;
			sp->pe[i] = total - sp->pb[i];
			sp->out[i] = o;
			continue;
		}
		int64_t span = sp->in[i] + sp->pb[i] + sp->pe[i] - dk;
		if (span < 0)
			node_error(g, n, "kernel extent %lld exceeds the padded input size %lld in spatial dim %d",
			           (long long)dk, (long long)(sp->in[i] + sp->pb[i] + sp->pe[i]), i);
		sp->out[i] = (ceil_mode ? (span + sp->s[i] - 1) / sp->s[i] : span / sp->s[i]) + 1;
	}
}

/* Kernel parameter array: in[3], out[3], kernel[3], stride[3], dilation[3], pads[6],
 * padded with leading size-1 dims. */
static void spatial_ints(const Spatial *sp, int64_t p[21])
{
	int off = 3 - sp->ns;
	for (int i = 0; i < 3; i++) {
		int j = i - off;
		p[i] = j >= 0 ? sp->in[j] : 1;
		p[3 + i] = j >= 0 ? sp->out[j] : 1;
		p[6 + i] = j >= 0 ? sp->k[j] : 1;
		p[9 + i] = j >= 0 ? sp->s[j] : 1;
		p[12 + i] = j >= 0 ? sp->d[j] : 1;
		p[15 + i] = j >= 0 ? sp->pb[j] : 0;
		p[18 + i] = j >= 0 ? sp->pe[j] : 0;
	}
}

static void need_spatial_input(Graph *g, Node *n, const Tensor *x)
{
	if (x->rank < 3 || x->rank > 5)
		node_error(g, n, "input %s must be (N, C, D1[, D2[, D3]]): 1 to 3 spatial dims",
		           tensor_shape_str(g->ctx, x));
}

/* ------------------------------------------------------------------ */
/* Conv                                                                 */
/* ------------------------------------------------------------------ */

/* x (N, C, in...), w (M, C/group, k...), bias (M) -> y (N, M, out...) */
static void conv_setup(Graph *g, Node *n, Spatial *sp)
{
	Tensor *x = n->in[0], *w = n->in[1];
	need_spatial_input(g, n, x);
	int ns = x->rank - 2;
	if (w->rank != x->rank)
		node_error(g, n, "weights %s must have rank %d like the input %s",
		           tensor_shape_str(g->ctx, w), x->rank, tensor_shape_str(g->ctx, x));
	int64_t group = attr_int(n, "group", 1), c = x->dims[1], m = w->dims[0];
	if (group < 1 || c % group || m % group)
		node_error(g, n, "group %lld must divide the input channels %lld and output channels %lld",
		           (long long)group, (long long)c, (long long)m);
	if (w->dims[1] * group != c)
		node_error(g, n, "weights %s have %lld input channels per group; input has %lld channels "
		           "in %lld groups", tensor_shape_str(g->ctx, w), (long long)w->dims[1],
		           (long long)c, (long long)group);
	const int64_t *v;
	int cnt = attr_ints(n, "kernel_shape", &v);
	if (cnt >= 0) {
		if (cnt != ns)
			node_error(g, n, "kernel_shape has %d values; the input has %d spatial dims", cnt, ns);
		for (int i = 0; i < ns; i++)
			if (v[i] != w->dims[2 + i])
				node_error(g, n, "kernel_shape[%d] = %lld differs from the weights %s", i,
				           (long long)v[i], tensor_shape_str(g->ctx, w));
	}
	spatial_setup(g, n, x, w->dims + 2, 0, sp);
}

void shape_conv(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	need_dtype(g, n, 1, F32_ONLY);
	Spatial sp;
	conv_setup(g, n, &sp);
	Tensor *x = n->in[0], *w = n->in[1];
	if (n->nin > 2 && n->in[2]) {
		need_dtype(g, n, 2, F32_ONLY);
		Tensor *b = n->in[2];
		if (b->rank != 1 || b->dims[0] != w->dims[0])
			node_error(g, n, "bias %s must be (%lld): one value per output channel",
			           tensor_shape_str(g->ctx, b), (long long)w->dims[0]);
	}
	int64_t dims[MAX_RANK] = {x->dims[0], w->dims[0]};
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[i];
	shape_set(n->out[0], DT_F32, x->rank, dims);
}

/*
 * Whether a (not depthwise) Conv with cg input and mg output channels per
 * group and osz output pixels per image runs as tr_conv_packed_f32: the weight
 * must be a constant, and the transposed product must pay off.  Its pixel-row
 * GEMM keeps full NR tiles where tr_conv_f32's n = osz leaves a ragged edge
 * (196 = 6 x 32 + 4), and its im2row copies whole runs of cg channels, but
 * mg is padded to a multiple of TR_GEMM_PB (so at most 1/8 waste).  It wins
 * on small maps and loses on large ones with few channels, whose taps are
 * short runs; the thresholds below come from bench/kernels.c (measurements
 * in docs/performance.md).
 */
static bool conv_packed(const Tensor *wr, const Tensor *w, int64_t cg, int64_t mg, int64_t osz)
{
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	return wr->kind == TK_CONST && wr->data && tensor_nelem(wr) == tensor_nelem(w) && mg > 0 &&
	       osz > 0 && (osz <= 256 || (osz <= 1024 && cg >= 32)) && 8 * (mpad - mg) <= mg;
}

void lower_conv(Graph *g, Node *n)
{
	Spatial sp;
	conv_setup(g, n, &sp);
	Tensor *x = n->in[0], *w = n->in[1], *y = n->out[0];
	Tensor *b = n->nin > 2 && n->in[2] ? n->in[2] : NULL;
	int64_t p[21], group = attr_int(n, "group", 1);
	int64_t nb = x->dims[0], c = x->dims[1], m = w->dims[0], cg = c / group;
	Tensor *wr = tensor_root(w);
	spatial_ints(&sp, p);
	Call *k;
	if (cg == 1) {
		k = call_new(g, n, K_tr_conv_depthwise_f32);
		call_in(k, x);
		call_in(k, w);
		call_in(k, b ? b : w);   /* unread when !has_bias */
		call_out(k, y);
	} else if (conv_packed(wr, w, cg, m / group, p[3] * p[4] * p[5])) {
		/* constant weight: per group, W_g^T (kdim, mg) packed now, pixels as GEMM rows */
		int64_t kdim = cg * p[6] * p[7] * p[8], osz = p[3] * p[4] * p[5], mg = m / group;
		int64_t pc = osz < TR_CONV_PC ? osz : TR_CONV_PC;
		int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
		int direct = p[6] * p[7] * p[8] == 1 && p[9] == 1 && p[10] == 1 && p[11] == 1 &&
		             p[15] == 0 && p[16] == 0 && p[17] == 0 && osz == p[0] * p[1] * p[2];
		int64_t dims[1] = {ctx_mul(g->ctx, ctx_mul(g->ctx, group, kdim), mpad)};
		Tensor *wp = tensor_const(g, ctx_printf(g->ctx, "%s.packed%d", w->name, g->ntensors),
		                          DT_F32, 1, dims);
		/* the weight's rows in the tap-major order of tr_conv_im2row's columns
		 * (direct: one tap, the order is the same) */
		float *wt = direct ? NULL : ctx_alloc(g->ctx, sizeof(float) * (size_t)(mg * kdim));
		for (int64_t gi = 0; gi < group; gi++) {
			const float *wg = (const float *)wr->data + gi * mg * kdim;
			if (!direct)
				tr_conv_tapmajor(wg, wt, mg, cg, p[6] * p[7] * p[8]);
			tr_gemm_prepack_f32(direct ? wg : wt, 1, kdim, (float *)wp->data + gi * kdim * mpad,
			                    kdim, mg);
		}
		/* xt, the input with channels last, and colT (tr_conv_packed_f32) */
		int64_t isz = p[0] * p[1] * p[2];
		int64_t col = direct ? 0 : 4 * ((cg * isz + 15) / 16 * 16 + (kdim * pc + 15) / 16 * 16);
		k = call_new(g, n, K_tr_conv_packed_f32);
		call_in(k, x);
		call_in(k, wp);
		call_in(k, b ? b : w);
		call_out(k, y);
		call_scratch(k, col + 4 * ((mpad * pc + 15) / 16 * 16) +
		                    tr_gemm_pack_bytes(pc < 4 ? 4 : pc, kdim, mpad));
	} else {
		/* weight computed at run time: im2col (kdim, P), W_g @ col, B packed at run time */
		int64_t kdim = cg * p[6] * p[7] * p[8], osz = p[3] * p[4] * p[5];
		int direct = p[6] * p[7] * p[8] == 1 && p[9] == 1 && p[10] == 1 && p[11] == 1 &&
		             p[15] == 0 && p[16] == 0 && p[17] == 0 && osz == p[0] * p[1] * p[2];
		/* im2col in blocks of output rows (tr_conv_block_rows); checking
		 * kdim * osz first bounds every product the block size takes */
		int64_t qb = osz;
		if (!direct && ctx_mul(g->ctx, kdim, osz) > 0)
			qb = tr_conv_block_rows(kdim, p[3] * p[4], p[5]) * p[5];
		/* the packed col and its line (tr_conv_col_floats) */
		int64_t col = 0;
		if (!direct && ctx_mul(g->ctx, kdim, qb + TR_GEMM_PB) > 0)
			col = 4 * tr_conv_col_floats(kdim, qb);
		k = call_new(g, n, K_tr_conv_f32);
		call_in(k, x);
		call_in(k, w);
		call_in(k, b ? b : w);
		call_out(k, y);
		/* the GEMM packs A panels even below 4 rows (B is packed: no small-m path) */
		call_scratch(k, col + tr_gemm_pack_bytes(m / group < 4 ? 4 : m / group, kdim, qb));
	}
	call_int(k, nb);
	call_int(k, c);
	call_int(k, m);
	if (cg != 1)
		call_int(k, group);
	call_int(k, b != NULL);
	call_int(k, attr_int(n, "gelu", 0));   /* a GELU fused by fuse_epilogue.c */
	call_ints(g, k, p, 21);
}

/* The kernels' parameter array of a Conv (its x channels first) */
void conv_params(Graph *g, Node *n, int64_t p[21])
{
	Spatial sp;
	conv_setup(g, n, &sp);
	spatial_ints(&sp, p);
}

/* ------------------------------------------------------------------ */
/* Pooling                                                              */
/* ------------------------------------------------------------------ */

static void pool_setup(Graph *g, Node *n, Spatial *sp)
{
	Tensor *x = n->in[0];
	need_spatial_input(g, n, x);
	int ns = x->rank - 2;
	const int64_t *ks;
	int cnt = attr_ints(n, "kernel_shape", &ks);
	if (cnt < 0)
		node_error(g, n, "attribute kernel_shape is required");
	if (cnt != ns)
		node_error(g, n, "kernel_shape has %d values; the input %s has %d spatial dims", cnt,
		           tensor_shape_str(g->ctx, x), ns);
	int64_t ceil_mode = attr_int(n, "ceil_mode", 0);
	spatial_setup(g, n, x, ks, ceil_mode != 0, sp);
}

/* The kernels' parameter array of a MaxPool or AveragePool */
void pool_params(Graph *g, Node *n, int64_t p[21])
{
	Spatial sp;
	pool_setup(g, n, &sp);
	spatial_ints(&sp, p);
}

/* MaxPool / AveragePool: x (N, C, in...) -> y (N, C, out...) */
void shape_pool(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	if (n->nout > 1 && n->out[1])
		node_error(g, n, "MaxPool's Indices output is not supported");
	Spatial sp;
	pool_setup(g, n, &sp);
	Tensor *x = n->in[0];
	int64_t dims[MAX_RANK] = {x->dims[0], x->dims[1]};
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[i];
	shape_set(n->out[0], DT_F32, x->rank, dims);
}

void lower_pool(Graph *g, Node *n)
{
	Spatial sp;
	pool_setup(g, n, &sp);
	int64_t p[21];
	spatial_ints(&sp, p);
	Tensor *x = n->in[0];
	Call *c;
	if (n->op == OP_MAX_POOL)
		c = call_new(g, n, K_tr_maxpool_f32);
	else
		c = call_new(g, n, K_tr_avgpool_f32);
	call_in(c, x);
	call_out(c, n->out[0]);
	call_int(c, x->dims[0] * x->dims[1]);
	call_ints(g, c, p, 21);
	if (n->op != OP_MAX_POOL)
		call_int(c, attr_int(n, "count_include_pad", 0) != 0);
}

/* x (N, C, in...) -> y (N, C, 1...) */
void shape_global_pool(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	Tensor *x = n->in[0];
	if (x->rank < 3)
		node_error(g, n, "input %s must be (N, C, D1, ...)", tensor_shape_str(g->ctx, x));
	int64_t dims[MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < 2 ? x->dims[i] : 1;
	shape_set(n->out[0], DT_F32, x->rank, dims);
}

void lower_global_pool(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	Call *c = call_new(g, n, K_tr_global_avgpool_f32);
	call_in(c, x);
	call_out(c, n->out[0]);
	call_int(c, x->dims[0] * x->dims[1]);
	call_int(c, prod(x->dims + 2, x->rank - 2));
}

/* ------------------------------------------------------------------ */
/* BatchNormalization (inference) and LayerNormalization                */
/* ------------------------------------------------------------------ */

/* x (N, C, ...), scale, B, mean, var (C) -> y like x */
void shape_batchnorm(Graph *g, Node *n)
{
	static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
	for (int i = 0; i < 5; i++)
		need_dtype(g, n, i, F32_ONLY);
	if (attr_int(n, "training_mode", 0) != 0)
		node_error(g, n, "training mode (training_mode = 1) is not supported; export the model "
		           "in eval mode");
	for (int i = 1; i < n->nout; i++)
		if (n->out[i])
			node_error(g, n, "output %d (running mean/var, training mode) is not supported", i);
	if (attr_int(n, "spatial", 1) != 1)
		node_error(g, n, "spatial = 0 (per-element statistics) is not supported");
	Tensor *x = n->in[0];
	if (x->rank < 2)
		node_error(g, n, "input %s must be (N, C, ...)", tensor_shape_str(g->ctx, x));
	for (int i = 1; i < 5; i++) {
		Tensor *t = n->in[i];
		if (t->rank != 1 || t->dims[0] != x->dims[1])
			node_error(g, n, "%s %s must be (%lld): one value per channel of %s", names[i],
			           tensor_shape_str(g->ctx, t), (long long)x->dims[1],
			           tensor_shape_str(g->ctx, x));
	}
	shape_set(n->out[0], DT_F32, x->rank, x->dims);
}

void lower_batchnorm(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	Call *c = call_new(g, n, K_tr_batchnorm_f32);
	for (int i = 0; i < 5; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_int(c, x->dims[0]);
	call_int(c, x->dims[1]);
	call_int(c, prod(x->dims + 2, x->rank - 2));
	call_float(c, attr_float(n, "epsilon", 1e-5f));
}

/*
 * Element stride of LayerNorm's Scale or B over the normalised block
 * x.dims[axis:] of d elements: 1 when it has that shape (leading 1s allowed),
 * 0 when it is a single value.
 */
static int64_t ln_param_stride(Graph *g, Node *n, int i, int axis)
{
	Tensor *x = n->in[0], *t = n->in[i];
	const char *what = i == 1 ? "Scale" : "B";
	int nr = x->rank - axis;
	if (tensor_nelem(t) == 1)
		return 0;
	if (t->rank > x->rank)
		node_error(g, n, "%s %s has a higher rank than X %s", what,
		           tensor_shape_str(g->ctx, t), tensor_shape_str(g->ctx, x));
	for (int j = 0; j < t->rank; j++) {
		int xj = x->rank - t->rank + j;
		int64_t want = xj >= axis ? x->dims[xj] : 1;
		if (t->dims[j] != want)
			node_error(g, n, "%s %s must have the normalised shape of X %s from axis %d "
			           "(%d trailing dims)", what, tensor_shape_str(g->ctx, t),
			           tensor_shape_str(g->ctx, x), axis, nr);
	}
	if (tensor_nelem(t) != prod(x->dims + axis, nr))
		node_error(g, n, "%s %s covers only part of the normalised dims of X %s from axis %d; "
		           "partial broadcast is not supported", what, tensor_shape_str(g->ctx, t),
		           tensor_shape_str(g->ctx, x), axis);
	return 1;
}

/* x (..., d...) normalised over dims [axis:] -> y like x,
 * Mean and InvStdDev: x.dims[:axis] followed by 1s */
void shape_layernorm(Graph *g, Node *n)
{
	need_dtype(g, n, 0, F32_ONLY);
	need_dtype(g, n, 1, F32_ONLY);
	Tensor *x = n->in[0];
	if (x->rank < 1)
		node_error(g, n, "input X must have rank >= 1");
	int axis = shape_axis(g, n, attr_int(n, "axis", -1), x->rank);
	ln_param_stride(g, n, 1, axis);
	if (n->nin > 2 && n->in[2]) {
		need_dtype(g, n, 2, F32_ONLY);
		ln_param_stride(g, n, 2, axis);
	}
	shape_set(n->out[0], DT_F32, x->rank, x->dims);
	int64_t dims[MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < axis ? x->dims[i] : 1;
	for (int i = 1; i < n->nout && i < 3; i++)
		if (n->out[i])
			shape_set(n->out[i], DT_F32, x->rank, dims);
}

void lower_layernorm(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *b = n->nin > 2 && n->in[2] ? n->in[2] : NULL;
	int axis = shape_axis(g, n, attr_int(n, "axis", -1), x->rank);
	int64_t rows = prod(x->dims, axis), d = prod(x->dims + axis, x->rank - axis);
	Call *c = call_new(g, n, K_tr_layernorm_f32);
	call_in(c, x);
	call_in(c, n->in[1]);
	call_in(c, b ? b : n->in[1]);   /* unread when !has_bias */
	call_out(c, n->out[0]);
	/* Mean and InvStdDev go to their outputs, or to scratch when not wanted */
	for (int i = 1; i < 3; i++) {
		if (i < n->nout && n->out[i])
			call_out(c, n->out[i]);
		else
			call_scratch(c, 4 * (rows > 0 ? rows : 1));
	}
	call_int(c, rows);
	call_int(c, d);
	call_float(c, attr_float(n, "epsilon", 1e-5f));
	call_int(c, ln_param_stride(g, n, 1, axis));
	call_int(c, b != NULL);
	call_int(c, b ? ln_param_stride(g, n, 2, axis) : 0);
}
