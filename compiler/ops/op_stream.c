/*
 * op_stream.c -- shape and lower functions of the ops stream.c puts in the
 * step API's graphs (a causal model's rows of tokens from running
 * statistics: NAME_step, NAME_step_batch, NAME_prefill):
 *
 *   CausalTSSAStep   w (B,R,d), temp (K), denom_bias (K,L,1), pos i64 (R)
 *                    -> y (B,R,d), state f32 (R*B*(2d+K)): row r is one token
 *                    of its own sequence, at position pos[r]
 *   CausalTSSAChunk  w (B,C,d), temp (K), denom_bias (K,L,1), pos i64 (C),
 *                    n i64 (1) -> y (B,C,d), state f32 (B*(2d+K)): rows
 *                    0..n-1 are consecutive tokens of one sequence, the rest
 *                    padding
 *   PositionSlice    table (..., L, ...), pos i64 (R) -> the slices at pos
 *                    along `axis` (that axis becomes R)
 *
 * pos (and n) are inputs of the graph, filled in by the generated API
 * (emit_step.c).  The TSSA ops' second output is the layers' running
 * statistics, in the caller's state (or a copy of it): the kernel reads and
 * updates it in place, so the node "produces" it only in the IR's sense.
 * Kernels: runtime/tssa/tssa.h.
 */
#include "tostc.h"
#include "tssa/tssa.h"

/* input i holds positions: i64 with `rows` elements */
static void need_pos(Graph *g, Node *n, int i, int64_t rows)
{
	need_dtype(g, n, i, 1u << DT_I64);
	if (tensor_nelem(n->in[i]) != rows)
		node_error(g, n, "input %d (positions) must have %lld elements, got %s", i,
		           (long long)rows, tensor_shape_str(g->ctx, n->in[i]));
}

/* The checks the two TSSA forms share; w (B, R, d) or (R, d).  *B, *R, *d, K */
static int64_t shape_tssa_rows(Graph *g, Node *n, int64_t *B, int64_t *R, int64_t *d)
{
	Tensor *w = n->in[0], *db = n->in[2];
	const char *op = op_info[n->op].name;
	int64_t K = attr_int(n, "heads", 0);
	need_dtype(g, n, 0, 1u << DT_F32);
	need_dtype(g, n, 1, 1u << DT_F32);
	need_dtype(g, n, 2, 1u << DT_F32);
	if (w->rank != 2 && w->rank != 3)
		node_error(g, n, "%s input w must be (B, rows, d) or (rows, d), got %s", op,
		           tensor_shape_str(g->ctx, w));
	*B = w->rank == 3 ? w->dims[0] : 1;
	*R = w->dims[w->rank - 2];
	*d = w->dims[w->rank - 1];
	if (K < 1 || *d % K != 0)
		node_error(g, n, "%s: %lld channels do not split into %lld heads", op, (long long)*d,
		           (long long)K);
	if (tensor_nelem(n->in[1]) != K)
		node_error(g, n, "%s input temp must have %lld elements", op, (long long)K);
	if (db->rank != 3 || db->dims[0] != K || db->dims[2] != 1)
		node_error(g, n, "%s input denom_bias must be (%lld, block, 1), got %s", op,
		           (long long)K, tensor_shape_str(g->ctx, db));
	need_pos(g, n, 3, *R);
	shape_set(n->out[0], DT_F32, w->rank, w->dims);
	return K;
}

void shape_tssa_step(Graph *g, Node *n)
{
	int64_t B, R, d, K = shape_tssa_rows(g, n, &B, &R, &d);
	int64_t sd[1] = {R * B * (2 * d + K)};
	shape_set(n->out[1], DT_F32, 1, sd);
}

void shape_tssa_chunk(Graph *g, Node *n)
{
	int64_t B, R, d, K = shape_tssa_rows(g, n, &B, &R, &d);
	int64_t sd[1] = {B * (2 * d + K)};
	need_pos(g, n, 4, 1);
	shape_set(n->out[1], DT_F32, 1, sd);
}

/* CausalTSSAStep:  w (B, R, K*p), temp (K), db (K, L, 1), pos (R)
 *                  -> y (B, R, K*p), state (R, B, 2*K*p + K)
 * CausalTSSAChunk: the same with n (1) after pos, and state (B, 2*K*p + K) */
void lower_tssa_rows(Graph *g, Node *n)
{
	Tensor *w = n->in[0];
	int64_t B = w->rank == 3 ? w->dims[0] : 1, R = w->dims[w->rank - 2];
	int64_t d = w->dims[w->rank - 1], K = attr_int(n, "heads", 1);
	Call *c = call_new(g, n, n->op == OP_CAUSAL_TSSA_CHUNK ? K_tr_causal_tssa_chunk_f32
	                                                       : K_tr_causal_tssa_step_f32);
	for (int i = 0; i < n->nin; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_out(c, n->out[1]);
	call_int(c, B); call_int(c, R); call_int(c, K); call_int(c, d / K);
	call_int(c, n->in[2]->dims[1]);
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
	int64_t R = tensor_nelem(n->in[1]);
	need_dtype(g, n, 0, 1u << DT_F32);
	need_pos(g, n, 1, R);
	int axis = shape_axis(g, n, attr_int(n, "axis", 0), t->rank);
	for (int i = 0; i < t->rank; i++)
		dims[i] = i == axis ? R : t->dims[i];
	shape_set(n->out[0], DT_F32, t->rank, dims);
}

/* table (outer, L, inner), pos (R) -> y (outer, R, inner) */
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
	call_int(c, tensor_nelem(n->in[1]));
}
