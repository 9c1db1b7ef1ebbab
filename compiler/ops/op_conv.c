/*
 * op_conv.c -- shape and lower functions of ConvTranspose and GlobalMaxPool
 * (Conv and the other pools are in op_linalg.c).  Kernels:
 * runtime/conv/conv_transpose.h, and the reductions' max for GlobalMaxPool.
 *
 * ConvTranspose is lowered onto the GEMM: per group, W_g^T @ x_g gives each
 * input pixel's contribution to every output channel and kernel tap, and
 * col2im adds them into the output (tr_conv_transpose_f32).  A constant
 * weight is transposed here, (C, M/group, K) into (group, M/group * K,
 * C/group), so that the GEMM reads it in place.  Its geometry is decided
 * here too, into Conv's parameter array (runtime/conv/conv.h: 1 to 3 spatial
 * dims, padded to 3 with leading size-1 dims):
 *   - pads, or auto_pad VALID: out = stride * (in - 1) + output_padding +
 *     (kernel - 1) * dilation + 1 - pad_begin - pad_end;
 *   - output_shape, or auto_pad SAME_*: out is output_shape, or in * stride,
 *     and the total padding (the full size minus out) is split as the ONNX
 *     spec says: SAME_UPPER puts the odd one at the end, NOTSET and
 *     SAME_LOWER at the beginning.  An out larger than the full size extends
 *     the output at the end (those positions get the bias alone).
 * Only f32; at most 3 spatial dims; explicit pads together with output_shape
 * are refused (ONNX leaves their meaning open).
 */
#include "tostc.h"
#include "conv/conv_transpose.h"
#include "gemm/config.h"

#include <string.h>

#define F32_ONLY (1u << DT_F32)

/* the ints attribute `name` with one value per spatial dim (ns), or, when
 * absent, dflt in each; node_error when it has another length or a value
 * below lo */
static void spatial_attr(Graph *g, Node *n, const char *name, int ns, int64_t dflt, int64_t lo,
                         int64_t *v)
{
	const int64_t *a;
	int cnt = attr_ints(n, name, &a);
	if (cnt >= 0 && cnt != ns)
		node_error(g, n, "%s has %d values; the input has %d spatial dims", name, cnt, ns);
	for (int i = 0; i < ns; i++) {
		v[i] = cnt >= 0 ? a[i] : dflt;
		if (v[i] < lo)
			node_error(g, n, "%s[%d] = %lld must be >= %lld", name, i, (long long)v[i],
			           (long long)lo);
	}
}

/*
 * ConvTranspose's geometry: x (N, C, in...), w (C, M/group, k...) ->
 * p = in[3], out[3], kernel[3], stride[3], dilation[3], pads[6] (the ends may
 * be negative: an output past the last tap), padded with leading size-1 dims.
 */
static void convt_setup(Graph *g, Node *n, int64_t p[21])
{
	Tensor *x = n->in[0], *w = n->in[1];
	if (x->rank < 3 || x->rank > 5)
		node_error(g, n, "input %s must be (N, C, D1[, D2[, D3]]): 1 to 3 spatial dims",
		           tensor_shape_str(g->ctx, x));
	if (w->rank != x->rank)
		node_error(g, n, "weights %s must have rank %d like the input %s",
		           tensor_shape_str(g->ctx, w), x->rank, tensor_shape_str(g->ctx, x));
	int ns = x->rank - 2, off = 3 - ns;
	int64_t group = attr_int(n, "group", 1), ch = x->dims[1];
	if (group < 1 || ch % group)
		node_error(g, n, "group %lld must divide the input channels %lld", (long long)group,
		           (long long)ch);
	if (w->dims[0] != ch)
		node_error(g, n, "weights %s must be (C, M/group, k...) with C = %lld, the input "
		           "channels", tensor_shape_str(g->ctx, w), (long long)ch);
	int64_t ks[3], st[3], dl[3], op[3], pads[6];
	spatial_attr(g, n, "kernel_shape", ns, 1, 1, ks);
	for (int i = 0; i < ns; i++)
		if (attr_find(n, "kernel_shape") && ks[i] != w->dims[2 + i])
			node_error(g, n, "kernel_shape[%d] = %lld differs from the weights %s", i,
			           (long long)ks[i], tensor_shape_str(g->ctx, w));
	spatial_attr(g, n, "strides", ns, 1, 1, st);
	spatial_attr(g, n, "dilations", ns, 1, 1, dl);
	spatial_attr(g, n, "output_padding", ns, 0, 0, op);
	const char *ap = attr_string(n, "auto_pad", "NOTSET");
	int same_upper = !strcmp(ap, "SAME_UPPER"), same = same_upper || !strcmp(ap, "SAME_LOWER");
	if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
		node_error(g, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
		           text_msg(g->ctx, ap));
	/* output_shape: the spatial sizes, or (older exporters) the whole shape */
	const int64_t *osv;
	int nos = attr_ints(n, "output_shape", &osv);
	if (nos >= 0 && nos != ns && nos != x->rank)
		node_error(g, n, "output_shape has %d values; the input has %d spatial dims", nos, ns);
	const int64_t *pv;
	int npads = attr_ints(n, "pads", &pv);
	bool explicit_pads = false;
	if (npads >= 0 && npads != 2 * ns)
		node_error(g, n, "pads has %d values; expected %d (begin and end per spatial dim)",
		           npads, 2 * ns);
	for (int i = 0; i < 2 * ns; i++) {
		pads[i] = npads >= 0 && !strcmp(ap, "NOTSET") ? pv[i] : 0;
		if (pads[i] < 0)
			node_error(g, n, "pads[%d] = %lld is negative", i, (long long)pads[i]);
		explicit_pads |= pads[i] != 0;
	}
	if (nos >= 0 && explicit_pads)
		node_error(g, n, "pads and output_shape are both given; only one of them is supported");
	for (int i = 0; i < ns; i++) {
		Ctx *c = g->ctx;   /* checked: strides and the like come from the file */
		int64_t in = x->dims[2 + i], k = w->dims[2 + i];
		int64_t full = ctx_add(c, ctx_add(c, ctx_mul(c, st[i], in - 1), op[i]),
		                       ctx_add(c, ctx_mul(c, k - 1, dl[i]), 1));
		int64_t out = nos >= 0 ? osv[nos - ns + i]
		              : same ? ctx_mul(c, in, st[i])
		                     : full - ctx_add(c, pads[i], pads[ns + i]);   /* >= 0: no overflow */
		if (out < 1)
			node_error(g, n, "the output would have size %lld in spatial dim %d", (long long)out,
			           i);
		/* the total padding, when out is given: both >= 1, no overflow */
		int64_t total = full - out, pb = pads[i];
		if (nos >= 0 || same)
			pb = total <= 0 ? 0 : same_upper ? total / 2 : total - total / 2;
		p[off + i] = in;
		p[3 + off + i] = out;
		p[6 + off + i] = k;
		p[9 + off + i] = st[i];
		p[12 + off + i] = dl[i];
		p[15 + off + i] = pb;
		p[18 + off + i] = full - pb - out;
	}
	for (int i = 0; i < off; i++) {
		p[i] = p[3 + i] = p[6 + i] = p[9 + i] = p[12 + i] = 1;
		p[15 + i] = p[18 + i] = 0;
	}
	if (nos == x->rank && (osv[0] != x->dims[0] || osv[1] != ctx_mul(g->ctx, w->dims[1], group)))
		node_error(g, n, "output_shape's batch and channels (%lld, %lld) are not the output's "
		           "(%lld, %lld)", (long long)osv[0], (long long)osv[1], (long long)x->dims[0],
		           (long long)(w->dims[1] * group));
}

/* x (N, C, in...), w (C, M/group, k...), bias (M) -> y (N, M, out...) */
void shape_conv_transpose(Graph *g, Node *n)
{
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			need_dtype(g, n, i, F32_ONLY);
	int64_t p[21];
	convt_setup(g, n, p);
	Tensor *x = n->in[0], *w = n->in[1];
	int64_t m = ctx_mul(g->ctx, w->dims[1], attr_int(n, "group", 1));
	if (n->nin > 2 && n->in[2]) {
		Tensor *b = n->in[2];
		if (b->rank != 1 || b->dims[0] != m)
			node_error(g, n, "bias %s must be (%lld): one value per output channel",
			           tensor_shape_str(g->ctx, b), (long long)m);
	}
	int ns = x->rank - 2;
	int64_t dims[MAX_RANK] = {x->dims[0], m};
	for (int i = 0; i < ns; i++)
		dims[2 + i] = p[3 + 3 - ns + i];
	shape_set(n->out[0], DT_F32, x->rank, dims);
}

void lower_conv_transpose(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *w = n->in[1], *y = n->out[0];
	Tensor *b = n->nin > 2 && n->in[2] ? n->in[2] : NULL, *wr = tensor_root(w);
	int64_t p[21], group = attr_int(n, "group", 1);
	convt_setup(g, n, p);
	int64_t c = x->dims[1], cg = c / group, m = y->dims[1], mg = m / group;
	int64_t kk = p[6] * p[7] * p[8], mk = mg * kk, isz = p[0] * p[1] * p[2];
	int direct = kk == 1 && p[9] == 1 && p[10] == 1 && p[11] == 1 && p[15] == 0 && p[16] == 0 &&
	             p[17] == 0 && p[3] == p[0] && p[4] == p[1] && p[5] == p[2];
	int wt = wr->kind == TK_CONST && wr->data && tensor_nelem(wr) == tensor_nelem(w);
	if (wt) {
		/* W_g (cg, mk) -> W_g^T (mk, cg) per group, read in place by the GEMM */
		Tensor *t = tensor_const(g, ctx_printf(g->ctx, "%s.T%d", w->name, g->ntensors), DT_F32,
		                         1, (int64_t[1]){tensor_nelem(w)});
		const float *src = wr->data;
		float *dst = t->data;
		for (int64_t gi = 0; gi < group; gi++)
			for (int64_t ci = 0; ci < cg; ci++)
				for (int64_t j = 0; j < mk; j++)
					dst[(gi * mk + j) * cg + ci] = src[(gi * cg + ci) * mk + j];
		w = t;
	}
	/* col (tr_convt_block_rows) and the GEMM's packing */
	int64_t qb = direct ? isz : ctx_mul(g->ctx, tr_convt_block_rows(mk, p[0] * p[1], p[2]), p[2]);
	int64_t col = direct ? 0 : 4 * ((ctx_mul(g->ctx, mk, qb) + 15) / 16 * 16);
	Call *k = call_new(g, n, K_tr_conv_transpose_f32);
	call_in(k, x);
	call_in(k, w);
	call_in(k, b ? b : w);   /* unread when !has_bias */
	call_out(k, y);
	call_scratch(k, col + tr_gemm_pack_bytes(direct ? mg : mk, cg, qb));
	call_int(k, x->dims[0]);
	call_int(k, c);
	call_int(k, m);
	call_int(k, group);
	call_int(k, b != NULL);
	call_int(k, wt);
	call_ints(g, k, p, 21);
}

/* GlobalMaxPool (shape_global_pool, op_linalg.c): x (N, C, s...) -> the max of each (n, c) */
void lower_global_max_pool(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t s = 1;
	for (int i = 2; i < x->rank; i++)
		s *= x->dims[i];
	Call *c = call_new(g, n, K_tr_reduce_max_f32);
	call_in(c, x);
	call_out(c, n->out[0]);
	call_int(c, x->dims[0] * x->dims[1]);
	call_int(c, s);
	call_int(c, 1);
}
