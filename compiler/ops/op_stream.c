/*
 * op_stream.c -- shape and lower functions of the two ops stream.c puts in
 * the step graph (the one-token form of a causal model, NAME_step):
 *
 *   CausalTSSAStep  w (B,1,d), temp (K), denom_bias (K,L,1), pos i64 (1)
 *                   -> y (B,1,d), state f32 (B*(2d+K))
 *   PositionSlice   table (..., L, ...), pos i64 (1) -> the slice at pos
 *                   along `axis` (that axis becomes 1)
 *
 * pos is the step graph's second input (the position the caller's state
 * holds).  CausalTSSAStep's second output is the layer's running statistics
 * in the caller's state: the kernel reads and updates it in place, so the
 * node "produces" it only in the IR's sense.  Kernels: runtime/tssa/tssa.h.
 */
#include "tostc.h"
#include "tssa/tssa.h"

static void need_pos(Graph *g, Node *n, int i)
{
	need_dtype(g, n, i, 1u << DT_I64);
	if (tensor_nelem(n->in[i]) != 1)
		node_error(g, n, "input %d (the position) must have one element, got %s", i,
		           tensor_shape_str(g->ctx, n->in[i]));
}

void shape_tssa_step(Graph *g, Node *n)
{
	Tensor *w = n->in[0], *db = n->in[2];
	int64_t K = attr_int(n, "heads", 0), B, d;
	need_dtype(g, n, 0, 1u << DT_F32);
	need_dtype(g, n, 1, 1u << DT_F32);
	need_dtype(g, n, 2, 1u << DT_F32);
	need_pos(g, n, 3);
	if ((w->rank != 2 && w->rank != 3) || w->dims[w->rank - 2] != 1)
		node_error(g, n, "CausalTSSAStep input w must be (B, 1, d) or (1, d), got %s",
		           tensor_shape_str(g->ctx, w));
	B = w->rank == 3 ? w->dims[0] : 1;
	d = w->dims[w->rank - 1];
	if (K < 1 || d % K != 0)
		node_error(g, n, "CausalTSSAStep: %lld channels do not split into %lld heads",
		           (long long)d, (long long)K);
	if (tensor_nelem(n->in[1]) != K)
		node_error(g, n, "CausalTSSAStep input temp must have %lld elements", (long long)K);
	if (db->rank != 3 || db->dims[0] != K || db->dims[2] != 1)
		node_error(g, n, "CausalTSSAStep input denom_bias must be (%lld, block, 1), got %s",
		           (long long)K, tensor_shape_str(g->ctx, db));
	shape_set(n->out[0], DT_F32, w->rank, w->dims);
	int64_t sd[1] = {B * (2 * d + K)};
	shape_set(n->out[1], DT_F32, 1, sd);
}

/* w (B, 1, K*p), temp (K), db (K, L, 1), pos (1) -> y (B, 1, K*p), state (B, 2*K*p + K) */
void lower_tssa_step(Graph *g, Node *n)
{
	Tensor *w = n->in[0], *db = n->in[2];
	int64_t B = w->rank == 3 ? w->dims[0] : 1, d = w->dims[w->rank - 1];
	int64_t K = attr_int(n, "heads", 1);
	Call *c = call_new(g, n, K_tr_causal_tssa_step_f32);
	call_in(c, w);
	call_in(c, n->in[1]);
	call_in(c, db);
	call_in(c, n->in[3]);
	call_out(c, n->out[0]);
	call_out(c, n->out[1]);
	call_int(c, B); call_int(c, K); call_int(c, d / K); call_int(c, db->dims[1]);
	call_float(c, attr_float(n, "eps_norm", 1e-12f));
	call_float(c, attr_float(n, "eps_pi", 1e-8f));
	call_scratch(c, (int64_t)sizeof(float) * (K + d / K));
}

/* (outer, L, inner) around `axis` */
static void pos_dims(const Tensor *t, int axis, int64_t *outer, int64_t *L, int64_t *inner)
{
	*outer = *inner = 1;
	for (int i = 0; i < axis; i++)
		*outer *= t->dims[i];
	*L = t->dims[axis];
	for (int i = axis + 1; i < t->rank; i++)
		*inner *= t->dims[i];
}

void shape_pos_slice(Graph *g, Node *n)
{
	Tensor *t = n->in[0];
	int64_t dims[MAX_RANK];
	need_dtype(g, n, 0, 1u << DT_F32);
	need_pos(g, n, 1);
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), t->rank);
	for (int i = 0; i < t->rank; i++)
		dims[i] = i == axis ? 1 : t->dims[i];
	shape_set(n->out[0], DT_F32, t->rank, dims);
}

/* table (outer, L, inner), pos (1) -> y (outer, 1, inner) */
void lower_pos_slice(Graph *g, Node *n)
{
	Tensor *t = n->in[0];
	int64_t outer, L, inner;
	pos_dims(t, (int)(attr_int(n, "axis", 0) < 0 ? attr_int(n, "axis", 0) + t->rank
	                                             : attr_int(n, "axis", 0)), &outer, &L, &inner);
	Call *c = call_new(g, n, K_tr_pos_slice_f32);
	call_in(c, t);
	call_in(c, n->in[1]);
	call_out(c, n->out[0]);
	call_int(c, outer); call_int(c, L); call_int(c, inner);
}
