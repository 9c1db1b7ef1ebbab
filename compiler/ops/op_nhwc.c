/*
 * op_nhwc.c -- shape and lower functions of the channels-last ops that
 * passes/layout.c makes from Conv and the pools: ConvNhwc and PoolNhwc.
 * Kernels: runtime/conv/conv_nhwc.h, conv/dwconv.h, pool/pool_nhwc.h.
 *
 * Both carry the kernels' spatial parameter array as attribute p (in[3],
 * out[3], kernel[3], stride[3], dilation[3], pads[6]; op_linalg.c's
 * conv_params and pool_params, computed from the channels-first node), so
 * nothing here looks at the original attributes again.  A channels-last
 * tensor of rank r is (N, spatial[r - 2], C).
 *
 * ConvNhwc's weight is the Conv's, (M, C/group, k...), a constant: lowering
 * packs it, tap by tap with the channels inner, for the depthwise kernel
 * (one input channel per group and per output channel, at most
 * TR_DWCONV_ROWS kernel rows), or as the GEMM's compile-time packed B (W_g^T
 * per group, rows tap-major) for everything else.  Its epilogue is
 * y = act2(act(conv + bias) + r) (elementwise/act.h's TR_ACT_* codes), the
 * activations and r put there by fuse_conv.c.
 */
#include "tostc.h"
#include "conv/conv_nhwc.h"
#include "conv/conv_packed.h"
#include "conv/dwconv.h"
#include "gemm/gemm.h"
#include "pool/pool_nhwc.h"

#define F32_ONLY (1u << DT_F32)

/* the attribute p: 21 ints (a global pool has none) */
static const int64_t *nhwc_params(Graph *g, Node *n)
{
	const int64_t *p;
	if (attr_ints(n, "p", &p) != 21)
		unreachable(g->ctx);
	return p;
}

/* x (N, in..., C) or channels first; y (N, out..., M) */
void shape_conv_nhwc(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *w = n->in[1];
	const int64_t *p = nhwc_params(g, n);
	int ns = x->rank - 2;
	need_dtype(g, n, 0, F32_ONLY);
	need_dtype(g, n, 1, F32_ONLY);
	ir_assert(g->ctx, ns >= 1 && ns <= 3 && w->rank == x->rank);
	int64_t dims[MAX_RANK] = {x->dims[0]};
	for (int i = 0; i < ns; i++)
		dims[1 + i] = p[3 + 3 - ns + i];
	dims[1 + ns] = w->dims[0];
	shape_set(n->out[0], DT_F32, x->rank, dims);
	if (n->nin > 3 && n->in[3]) {
		Tensor *r = n->in[3];
		ir_assert(g->ctx, r->rank == x->rank && tensor_nelem(r) == tensor_nelem(n->out[0]));
	}
}

/* The weight packed for tr_dwconv_nhwc_f32 (wt (K, c)) or tr_conv_nhwc_f32
 * (per group W_g^T (kdim, mpad), rows tap-major) */
static Tensor *pack_weight(Graph *g, Node *n, bool depthwise, int64_t group)
{
	Tensor *w = n->in[1], *wr = tensor_root(w);
	int64_t m = w->dims[0], cg = w->dims[1], kk = tensor_nelem(w) / (m * cg);
	int64_t mg = m / group, kdim = cg * kk;
	if (wr->kind != TK_CONST || !wr->data)
		node_error(g, n, "ConvNhwc needs a constant weight");
	const float *src = wr->data;
	if (depthwise) {
		int64_t dims[2] = {kk, m};
		Tensor *wt = tensor_const(g, ctx_printf(g->ctx, "%s.dw%d", w->name, g->ntensors), DT_F32, 2,
		                          dims);
		tr_dwconv_pack(src, wt->data, m, kk);
		return wt;
	}
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t dims[1] = {ctx_mul(g->ctx, ctx_mul(g->ctx, group, kdim), mpad)};
	Tensor *wp = tensor_const(g, ctx_printf(g->ctx, "%s.nhwc%d", w->name, g->ntensors), DT_F32, 1,
	                          dims);
	float *wt = ctx_alloc(g->ctx, sizeof(float) * (size_t)(mg * kdim));
	for (int64_t gi = 0; gi < group; gi++) {
		tr_conv_tapmajor(src + gi * mg * kdim, wt, mg, cg, kk);
		tr_gemm_prepack_f32(wt, 1, kdim, (float *)wp->data + gi * kdim * mpad, kdim, mg);
	}
	return wp;
}

void lower_conv_nhwc(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *w = n->in[1], *y = n->out[0];
	Tensor *b = n->nin > 2 ? n->in[2] : NULL, *r = n->nin > 3 ? n->in[3] : NULL;
	const int64_t *p = nhwc_params(g, n);
	int64_t group = attr_int(n, "group", 1), x_nchw = attr_int(n, "x_nchw", 0);
	int64_t nb = x->dims[0], c = x_nchw ? x->dims[1] : x->dims[x->rank - 1], m = w->dims[0];
	int64_t act[2] = {attr_int(n, "act", 0), attr_int(n, "act2", 0)};
	float f[4] = {attr_float(n, "act_a", 0.0f), attr_float(n, "act_b", 0.0f),
	              attr_float(n, "act2_a", 0.0f), attr_float(n, "act2_b", 0.0f)};
	bool depthwise = group == c && m == c && !x_nchw && p[6] * p[7] <= TR_DWCONV_ROWS;
	Tensor *wp = pack_weight(g, n, depthwise, group);
	Call *k;
	if (depthwise) {
		k = call_new(g, n, K_tr_dwconv_nhwc_f32);
		call_in(k, x);
		call_in(k, wp);
		call_in(k, b ? b : wp);   /* unread when !has_bias */
		call_in(k, r ? r : wp);   /* unread when !has_res */
		call_out(k, y);
		call_int(k, nb);
		call_int(k, c);
	} else {
		int64_t cg = c / group, mg = m / group, kdim = cg * p[6] * p[7] * p[8];
		int64_t osz = p[3] * p[4] * p[5], pc = osz < TR_CONV_NHWC_PC ? osz : TR_CONV_NHWC_PC;
		int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
		int inplace = !x_nchw && kdim == cg && p[9] == 1 && p[10] == 1 && p[11] == 1 &&
		              p[15] == 0 && p[16] == 0 && p[17] == 0 && p[18] == 0 && p[19] == 0 &&
		              p[20] == 0 && osz == p[0] * p[1] * p[2];
		int64_t col = inplace ? 0 : 4 * ((ctx_mul(g->ctx, pc, kdim) + 15) / 16 * 16);
		k = call_new(g, n, K_tr_conv_nhwc_f32);
		call_in(k, x);
		call_in(k, wp);
		call_in(k, b ? b : wp);
		call_in(k, r ? r : wp);
		call_out(k, y);
		call_scratch(k, col + tr_gemm_pack_bytes(inplace ? (osz < 4 ? 4 : osz) : (pc < 4 ? 4 : pc),
		                                         kdim, mpad));
		call_int(k, nb);
		call_int(k, c);
		call_int(k, m);
		call_int(k, group);
		call_int(k, x_nchw);
	}
	call_int(k, b != NULL);
	call_int(k, r != NULL);
	call_ints(g, k, act, 2);
	call_floats(g, k, f, 4);
	call_ints(g, k, p, 21);
}

/* x (N, in..., C) -> y (N, out..., C) (global: out 1...) */
void shape_pool_nhwc(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int ns = x->rank - 2;
	need_dtype(g, n, 0, F32_ONLY);
	ir_assert(g->ctx, ns >= 1 && ns <= 3);
	int64_t dims[MAX_RANK] = {x->dims[0]}, mode = attr_int(n, "mode", 0);
	for (int i = 0; i < ns; i++)
		dims[1 + i] = mode == 2 ? 1 : nhwc_params(g, n)[3 + 3 - ns + i];
	dims[1 + ns] = x->dims[x->rank - 1];
	shape_set(n->out[0], DT_F32, x->rank, dims);
}

void lower_pool_nhwc(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t mode = attr_int(n, "mode", 0), c = x->dims[x->rank - 1];
	Call *k;
	if (mode == 2) {
		k = call_new(g, n, K_tr_global_avgpool_nhwc_f32);
		call_in(k, x);
		call_out(k, y);
		call_int(k, x->dims[0]);
		call_int(k, tensor_nelem(x) / (x->dims[0] * c));
		call_int(k, c);
		return;
	}
	k = call_new(g, n, K_tr_pool_nhwc_f32);
	call_in(k, x);
	call_out(k, y);
	call_int(k, x->dims[0]);
	call_int(k, c);
	call_ints(g, k, nhwc_params(g, n), 21);
	call_int(k, mode == 0);
	call_int(k, attr_int(n, "count_include_pad", 0) != 0);
}
