/*
 * op_fused.c -- shape and lower functions of the fused ops made by passes:
 * TSSA and CausalTSSA (fuse_tssa.c), whose kernels live in runtime/tssa/tssa.h,
 * and MlpBlock (fuse_mlp.c; runtime/mlp/mlp.h).  (Gelu, which fuse_common.c
 * makes, is also an ONNX op: op_activation.c.)
 *
 * Both ops read the projected tokens w (B, N, d) (or (N, d): B = 1) with the
 * heads interleaved as d = heads x p, and write y of the same shape.  temp is
 * any f32 tensor of `heads` elements ((K) or (K, 1)); CausalTSSA's
 * denom_bias is (K, L, 1) with L >= N (the model's block size: positions
 * past it have no bias).  Attributes: heads (required), eps_norm (1e-12),
 * eps_pi (1e-8).  Scratch is O(d) floats: the statistics of one batch item.
 */
#include "tostc.h"
#include "gemm/gemm.h"
#include "attention/attention.h"
#include "gemm/proj_contract.h"
#include "mlp/mlp.h"
#include "tssa/tssa.h"

#define MLP_TILE 256   /* MlpBlock: token rows per tile (scratch); the kernel runs min(256, MC) */

/* The (B, N, d) view of input 0. */
static void tssa_dims(const Tensor *w, int64_t *B, int64_t *N, int64_t *d)
{
	*B = w->rank == 3 ? w->dims[0] : 1;
	*N = w->dims[w->rank - 2];
	*d = w->dims[w->rank - 1];
}

void shape_tssa(Graph *g, Node *n)
{
	const char *op = op_info[n->op].name;
	Tensor *w = n->in[0], *temp = n->in[1];
	int64_t B, N, d, K;
	float eps_norm, eps_pi;

	need_dtype(g, n, 0, 1u << DT_F32);
	need_dtype(g, n, 1, 1u << DT_F32);
	if (w->rank != 2 && w->rank != 3)
		node_error(g, n, "%s input w must have rank 2 or 3 (tokens, channels), got %s", op,
		           tensor_shape_str(g->ctx, w));
	tssa_dims(w, &B, &N, &d);
	K = attr_int(n, "heads", 0);
	if (K < 1)
		node_error(g, n, "%s needs a positive 'heads' attribute (got %lld)", op, (long long)K);
	if (d % K != 0)
		node_error(g, n, "%s: %lld channels do not split into %lld heads", op, (long long)d,
		           (long long)K);
	if (tensor_nelem(temp) != K)
		node_error(g, n, "%s input temp must have %lld elements (one per head), got %s", op,
		           (long long)K, tensor_shape_str(g->ctx, temp));
	eps_norm = attr_float(n, "eps_norm", 1e-12f);
	eps_pi = attr_float(n, "eps_pi", 1e-8f);
	if (!(eps_norm >= 0.0f) || !(eps_pi >= 0.0f) || isinf(eps_norm) || isinf(eps_pi))
		node_error(g, n, "%s epsilons must be finite and >= 0 (eps_norm %g, eps_pi %g)", op,
		           (double)eps_norm, (double)eps_pi);
	if (n->op == OP_CAUSAL_TSSA) {
		Tensor *db = n->in[2];
		need_dtype(g, n, 2, 1u << DT_F32);
		if (db->rank != 3 || db->dims[0] != K || db->dims[2] != 1)
			node_error(g, n, "CausalTSSA input denom_bias must be (%lld, block, 1), got %s",
			           (long long)K, tensor_shape_str(g->ctx, db));
		if (db->dims[1] < N)
			node_error(g, n, "CausalTSSA: %lld tokens exceed the denom_bias block size %lld",
			           (long long)N, (long long)db->dims[1]);
	}
	shape_set(n->out[0], DT_F32, w->rank, w->dims);
}

void lower_tssa(Graph *g, Node *n)
{
	Tensor *w = n->in[0];
	int64_t B, N, d, K = attr_int(n, "heads", 1);
	float eps_norm = attr_float(n, "eps_norm", 1e-12f), eps_pi = attr_float(n, "eps_pi", 1e-8f);
	Call *c;

	tssa_dims(w, &B, &N, &d);
	if (n->op == OP_TSSA) {
		/* w (B, N, K*p), temp (K) -> y (B, N, K*p) */
		c = call_new(g, n, K_tr_tssa_f32);
		call_in(c, w);
		call_in(c, n->in[1]);
		call_out(c, n->out[0]);
		call_int(c, B); call_int(c, N); call_int(c, K); call_int(c, d / K);
		call_float(c, eps_norm); call_float(c, eps_pi);
		call_scratch(c, (int64_t)sizeof(float) * (2 * d + K));
	} else {
		/* w (B, T, K*p), temp (K), denom_bias (K, L, 1) -> y (B, T, K*p) */
		Tensor *db = n->in[2];
		c = call_new(g, n, K_tr_causal_tssa_f32);
		call_in(c, w);
		call_in(c, n->in[1]);
		call_in(c, db);
		call_out(c, n->out[0]);
		call_int(c, B); call_int(c, N); call_int(c, K); call_int(c, d / K);
		call_int(c, db->dims[1]);
		call_float(c, eps_norm); call_float(c, eps_pi);
		call_scratch(c, (int64_t)sizeof(float) * (2 * d + 2 * K + d / K));
	}
}

/* ---- ProjContract (fuse_absorb.c) ---- */

/* Index table i: constant i64 of n entries, each in [0, lim) */
static void need_index_table(Graph *g, Node *n, int i, int64_t cnt, int64_t lim)
{
	Tensor *t = need_const(g, n, i);
	need_dtype(g, n, i, 1u << DT_I64);
	if (tensor_nelem(t) != cnt)
		node_error(g, n, "ProjContract input %d must have %lld entries, got %s", i,
		           (long long)cnt, tensor_shape_str(g->ctx, t));
	for (int64_t e = 0; e < cnt; e++) {
		int64_t v = tensor_get_i(t, e);
		if (v < 0 || v >= lim)
			node_error(g, n, "ProjContract input %d entry %lld is %lld, outside [0, %lld)", i,
			           (long long)e, (long long)v, (long long)lim);
	}
}

/* The output keeps the shape of the contraction it replaces; the inputs must
 * agree with it and with each other: u (any), p (np, in), q (nq, in), b (np
 * or nq: bias 1 or 2), ia and prow (groups x terms), grp and qrow (one per
 * output element). */
void shape_proj_contract(Graph *g, Node *n)
{
	Tensor *u = n->in[0], *p = n->in[1], *q = n->in[2], *b = n->in[3], *y = n->out[0];
	int64_t ng = attr_int(n, "groups", 0), nt = attr_int(n, "terms", 0);
	int64_t bias = attr_int(n, "bias", 0), ns = tensor_nelem(y);
	for (int i = 0; i < 3; i++)
		need_dtype(g, n, i, 1u << DT_F32);
	if (p->rank != 2 || q->rank != 2 || p->dims[1] != q->dims[1] || ng < 1 || nt < 1 ||
	    bias < 0 || bias > 2 || (bias != 0) != (b != NULL))
		node_error(g, n, "ProjContract: p %s, q %s, groups %lld, terms %lld, bias %lld do not fit",
		           tensor_shape_str(g->ctx, p), tensor_shape_str(g->ctx, q), (long long)ng,
		           (long long)nt, (long long)bias);
	if (b) {
		need_dtype(g, n, 3, 1u << DT_F32);
		if (tensor_nelem(b) != (bias == 1 ? p : q)->dims[0])
			node_error(g, n, "ProjContract: bias %s does not fit", tensor_shape_str(g->ctx, b));
	}
	need_index_table(g, n, 4, ng * nt, tensor_nelem(u));
	need_index_table(g, n, 5, ng * nt, p->dims[0]);
	need_index_table(g, n, 6, ns, ng);
	need_index_table(g, n, 7, ns, q->dims[0]);
	shape_set(y, DT_F32, y->rank, y->dims);
}

/* u, p (np, in), q (nq, in), b, tables -> y (ns) */
void lower_proj_contract(Graph *g, Node *n)
{
	Tensor *p = n->in[1];
	int64_t ng = attr_int(n, "groups", 1), in = p->dims[1];
	Call *c = call_new(g, n, K_tr_proj_contract_f32);
	for (int i = 0; i < 3; i++)
		call_in(c, n->in[i]);
	call_in(c, n->in[3] ? n->in[3] : n->in[0]);   /* unread without a bias */
	for (int i = 4; i < 8; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_scratch(c, (int64_t)sizeof(float) * (ng * in + ng));
	call_int(c, ng);
	call_int(c, attr_int(n, "terms", 1));
	call_int(c, tensor_nelem(n->out[0]));
	call_int(c, in);
	call_int(c, attr_int(n, "bias", 0));
}

/* ---- op MlpBlock ---- */

void shape_mlp_block(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, 1u << DT_F32);
	/* inputs 2, 4 and 6 (norm bias, fc biases) are optional */
	if (n->nin != 8 || x->rank < 1 || !n->in[3] || !n->in[5] || !n->in[7] ||
	    n->in[3]->rank != 2 || n->in[5]->rank != 2)
		node_error(g, n, "MlpBlock needs x (.., d), 2-D weights and gamma");
	shape_set(n->out[0], DT_F32, x->rank, x->dims);
}

void lower_mlp_block(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t d = x->dims[x->rank - 1], rows = tensor_nelem(x) / d;
	int t1 = (int)attr_int(n, "trans1", 0), t2 = (int)attr_int(n, "trans2", 0);
	int64_t h = t1 ? n->in[3]->dims[0] : n->in[3]->dims[1];
	int64_t tm = rows < MLP_TILE ? rows : MLP_TILE;
	/* the GEMMs always pack A (a last tile of < 4 rows too): size for >= 8 rows */
	int64_t pm = tm < 8 ? 8 : tm;
	int64_t p1 = tr_gemm_pack_bytes(pm, d, h), p2 = tr_gemm_pack_bytes(pm, h, d);
	int64_t pack = (p1 > p2 ? p1 : p2) / 4;
	/* scratch: ln (tm, d), hidden (tm, h), out (tm, d), mean + rstd (tm), pack;
	 * every piece rounded to 16 floats (64-byte aligned) */
	int64_t fl = TR_MLP_R16(tm * d) * 2 + TR_MLP_R16(tm * h) + TR_MLP_R16(tm) * 2 + pack;
	Call *c = call_new(g, n, K_tr_mlp_block_f32);
	/* weights packed now, for the micro-kernel (tr_gemm_prepack_f32); absent
	 * optional inputs (norm bias, fc biases) are passed as gamma, flagged off */
	for (int i = 0; i < 8; i++) {
		Tensor *t = n->in[i] ? n->in[i] : n->in[7];
		if (i == 3)
			t = linalg_prepack(g, t, d, h, t1);
		else if (i == 5)
			t = linalg_prepack(g, t, h, d, t2);
		call_in(c, t);
	}
	call_out(c, n->out[0]);
	call_scratch(c, fl * 4);
	call_int(c, rows);
	call_int(c, d);
	call_int(c, h);
	call_int(c, tm);
	call_float(c, attr_float(n, "epsilon", 1e-5f));
	call_int(c, n->in[2] != NULL);
	call_int(c, n->in[4] != NULL);
	call_int(c, n->in[6] != NULL);
}

/* ---- op SoftmaxAttention (fuse_attention.c; runtime/attention/attention.h) ---- */

/* Attribute `name`: ints of count n (ir_assert: the pass writes them) */
static const int64_t *att_ints(Graph *g, Node *n, const char *name, int count)
{
	const int64_t *v = NULL;
	ir_assert(g->ctx, attr_ints(n, name, &v) == count);
	return v;
}

/* Every element the strides str (offset, batch strides, row, column) reach
 * over bdims x (rows, cols) lies in t. */
static void att_in_bounds(Graph *g, const Tensor *t, const int64_t *str, int nb,
                          const int64_t *bd, int64_t rows, int64_t cols)
{
	int64_t lo = str[0], hi = str[0];
	for (int d = 0; d < nb + 2; d++) {
		int64_t cnt = d < nb ? bd[d] : d == nb ? rows : cols, s = str[1 + d] * (cnt - 1);
		if (s > 0)
			hi += s;
		else
			lo += s;
	}
	ir_assert(g->ctx, lo >= 0 && hi < tensor_nelem(t));
}

/* The output keeps its tensor's shape; the strides must stay inside every
 * operand (the pass derived them; this re-checks them after every change). */
void shape_attention(Graph *g, Node *n)
{
	const char *sn[5] = {"qstr", "kstr", "vstr", "ostr", "mstr"};
	const int64_t *mnc = att_ints(g, n, "mnc", 4), *bd, *st;
	int nb = attr_ints(n, "bdims", &bd);
	ir_assert(g->ctx, nb >= 1 && mnc[0] > 0 && mnc[1] > 0 && mnc[2] > 0 && mnc[3] > 0);
	int64_t rows[5] = {mnc[0], mnc[1], mnc[1], mnc[0], mnc[0]};
	int64_t cols[5] = {mnc[2], mnc[2], mnc[3], mnc[3], mnc[1]}, nbat = 1;
	for (int i = 0; i < n->nin; i++)
		need_dtype(g, n, i, 1u << DT_F32);
	for (int d = 0; d < nb; d++)
		nbat *= bd[d];
	Tensor *y = n->out[0];
	ir_assert(g->ctx, tensor_nelem(y) == nbat * mnc[0] * mnc[3]);
	for (int w = 0; w < 5; w++) {
		if (w == 4 && n->nin < 4)
			break;
		st = att_ints(g, n, sn[w], nb + 3);
		att_in_bounds(g, w == 3 ? y : n->in[w == 4 ? 3 : w], st, nb, bd, rows[w], cols[w]);
	}
	shape_set(y, DT_F32, y->rank, y->dims);
}

void lower_attention(Graph *g, Node *n)
{
	const int64_t *mnc = att_ints(g, n, "mnc", 4), *bd;
	int nb = attr_ints(n, "bdims", &bd), has_mask = n->nin > 3 && n->in[3];
	int64_t zero[MAX_RANK + 3] = {0}, slot = tr_attention_slot_floats(mnc[0], mnc[1], mnc[2], mnc[3]);
	Call *c = call_new(g, n, K_tr_attention_f32);
	for (int i = 0; i < 3; i++)
		call_in(c, n->in[i]);
	call_in(c, has_mask ? n->in[3] : n->in[0]);   /* unread without a mask */
	call_out(c, n->out[0]);
	call_scratch(c, 4 * TR_ATT_SLOTS * slot);
	for (int i = 0; i < 4; i++)
		call_int(c, mnc[i]);
	call_int(c, nb);
	call_int(c, slot);
	call_ints(g, c, bd, nb);
	call_ints(g, c, att_ints(g, n, "qstr", nb + 3), nb + 3);
	call_ints(g, c, att_ints(g, n, "kstr", nb + 3), nb + 3);
	call_ints(g, c, att_ints(g, n, "vstr", nb + 3), nb + 3);
	call_ints(g, c, att_ints(g, n, "ostr", nb + 3), nb + 3);
	call_ints(g, c, has_mask ? att_ints(g, n, "mstr", nb + 3) : zero, nb + 3);
	call_float(c, attr_float(n, "scale", 1.0f));
	call_int(c, has_mask);
}
