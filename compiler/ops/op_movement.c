/*
 * op_movement.c -- data movement ops beyond op_tensor.c's: Pad,
 * DepthToSpace, SpaceToDepth, Trilu, EyeLike, ReverseSequence.
 *
 * Pad: pads come from the attribute (opset < 11) or a constant input, with
 * the opset 18 axes input, in modes constant, reflect, edge and wrap (opset
 * 19).  Negative pads crop; the compiler folds the crop into the kernel's
 * base offset and extents, so tr_pad (runtime/tensor/movement.h) only pads.
 * Axes that are neither padded nor cropped are merged, so an NCHW pad of H
 * and W reaches the kernel as (N*C, H, W).  A Pad of all zeros becomes an
 * Identity here (then a view: views.c), whatever its mode, so it never
 * blocks a model.
 *
 * DepthToSpace and SpaceToDepth are transposes of a 6-D view of the input:
 * tensor_emit_strided (op_tensor.c) writes them as one strided copy.
 *
 * Trilu's k and everything that decides a shape must be constants;
 * ReverseSequence's lengths and Pad's constant_value may be run-time values.
 */
#include <string.h>

#include "tostc.h"
#include "quant/half.h"

#define ALL_DTYPES DT_MASK_ALL

/* (tostc.h) the string attribute `name` as an index into names[0..count) */
int op_attr_choice(Graph *g, Node *n, const char *name, const char *dflt,
                   const char *const *names, int count)
{
	const char *s = attr_string(n, name, dflt);
	char list[256] = "";
	for (int i = 0; i < count; i++) {
		if (!strcmp(s, names[i]))
			return i;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
		         names[i]);
	}
	node_error(g, n, "%s '%s' is not supported (tostc supports %s)", name, text_msg(g->ctx, s),
	           list);
}

/* ------------------------------------------------------------------ */
/* Pad                                                                  */
/* ------------------------------------------------------------------ */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };   /* tr_pad's modes */
static const char *const pad_modes[] = {"constant", "reflect", "edge", "wrap"};

/* The pads of every axis (negative: cropped); true when they are all 0. */
static bool pad_amounts(Graph *g, Node *n, int64_t *begin, int64_t *end)
{
	int r = n->in[0]->rank, np, na = r;
	int64_t pads[2 * MAX_RANK], axes[MAX_RANK];
	if (g->opset < 11) {
		const int64_t *v;
		np = attr_ints(n, "pads", &v);
		if (np < 0)
			node_error(g, n, "the pads attribute is required");
		if (np > 2 * MAX_RANK)
			node_error(g, n, "pads has %d values, at most %d are supported", np, 2 * MAX_RANK);
		memcpy(pads, v, sizeof(int64_t) * (size_t)np);
	} else {
		need_dtype(g, n, 1, 1u << DT_I64);
		np = tensor_const_ints(g, n, 1, pads, 2 * MAX_RANK, "pads");
	}
	for (int k = 0; k < r; k++)
		axes[k] = k;
	if (n->nin > 3 && n->in[3])
		na = tensor_const_ints(g, n, 3, axes, MAX_RANK, "axes");
	if (np != 2 * na)
		node_error(g, n, "pads has %d values; %d axes need %d (begin and end of each)", np, na,
		           2 * na);
	bool seen[MAX_RANK] = {0}, zero = true;
	for (int k = 0; k < r; k++)
		begin[k] = end[k] = 0;
	for (int k = 0; k < na; k++) {
		int a = shape_axis(g, n, axes[k], r);
		if (seen[a])
			node_error(g, n, "axes lists axis %d twice", a);
		seen[a] = true;
		begin[a] = pads[k];
		end[a] = pads[k + na];
		zero &= pads[k] == 0 && pads[k + na] == 0;
	}
	return zero;
}

void shape_pad(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t begin[MAX_RANK], end[MAX_RANK], dims[MAX_RANK];
	need_dtype(g, n, 0, ALL_DTYPES);
	if (pad_amounts(g, n, begin, end)) {   /* nothing to pad: a view of x */
		n->op = OP_IDENTITY;
		n->nin = 1;
		shape_identity(g, n);
		return;
	}
	int mode = op_attr_choice(g, n, "mode", "constant", pad_modes, 4);
	if (mode == PAD_WRAP && g->opset < 19)
		node_error(g, n, "mode 'wrap' is new in opset 19; the model imports opset %d",
		           g->opset);
	for (int k = 0; k < x->rank; k++) {
		const int64_t big = (int64_t)1 << 48;   /* no sum below overflows */
		if (begin[k] < -big || begin[k] > big || end[k] < -big || end[k] > big)
			node_error(g, n, "pads %lld and %lld of axis %d are too large", (long long)begin[k],
			           (long long)end[k], k);
		int64_t kept = x->dims[k] + (begin[k] < 0 ? begin[k] : 0) + (end[k] < 0 ? end[k] : 0);
		dims[k] = x->dims[k] + begin[k] + end[k];
		if (dims[k] < 0 || kept < 0)
			node_error(g, n, "pads %lld and %lld crop axis %d of size %lld below 0",
			           (long long)begin[k], (long long)end[k], k, (long long)x->dims[k]);
		if (mode != PAD_CONSTANT && kept == 0 && dims[k] > 0)
			node_error(g, n, "mode '%s' cannot pad axis %d: none of its elements is left to "
			           "repeat", pad_modes[mode], k);
	}
	if (g->opset >= 11 && n->nin > 2 && n->in[2]) {
		Tensor *v = n->in[2];
		if (v->dtype != x->dtype)
			node_error(g, n, "constant_value (input 2) is %s but the data is %s",
			           dtype_name(v->dtype), dtype_name(x->dtype));
		if (tensor_nelem(v) != 1)
			node_error(g, n, "constant_value (input 2) must be one value, not %s",
			           tensor_shape_str(g->ctx, v));
	}
	shape_set(n->out[0], x->dtype, x->rank, dims);
}

/* The pad value as a new constant of x's type: the value attribute (opset
 * < 11) or 0. */
static Tensor *pad_value_const(Graph *g, Node *n, DType dt)
{
	double v = g->opset < 11 ? attr_float(n, "value", 0.0f) : 0.0;
	Tensor *t = tensor_const(g, ctx_printf(g->ctx, "%s.pad_value%d", n->out[0]->name,
	                                       g->ntensors), dt, 0, (const int64_t[]){1});
	switch (dt) {
	case DT_F32: *(float *)t->data = (float)v; break;
	case DT_I64: *(int64_t *)t->data = (int64_t)v; break;
	case DT_I32: *(int32_t *)t->data = (int32_t)v; break;
	case DT_BOOL: *(uint8_t *)t->data = v != 0; break;
	case DT_I8: *(int8_t *)t->data = (int8_t)v; break;
	case DT_U8: *(uint8_t *)t->data = (uint8_t)v; break;
	case DT_F16: *(uint16_t *)t->data = tr_f32_to_f16((float)v); break;
	case DT_BF16: *(uint16_t *)t->data = tr_f32_to_bf16((float)v); break;
	default: unreachable(g->ctx);
	}
	return t;
}

/* x (d_0, ..)-> y (d_0 + begin_0 + end_0, ..): cropped axes read from an
 * offset, padded ones through tr_pad_source; plain axes merged */
void lower_pad(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t begin[MAX_RANK], end[MAX_RANK], xs[MAX_RANK];
	int64_t yd[MAX_RANK], xd[MAX_RANK], st[MAX_RANK], b[MAX_RANK], base = 0;
	int mode = op_attr_choice(g, n, "mode", "constant", pad_modes, 4), r = 0;
	pad_amounts(g, n, begin, end);
	if (tensor_nelem(y) == 0)
		return;
	tensor_strides(x->rank, x->dims, xs);
	for (int k = 0; k < x->rank; k++) {
		int64_t crop0 = begin[k] < 0 ? -begin[k] : 0, crop1 = end[k] < 0 ? -end[k] : 0;
		bool plain = begin[k] == 0 && end[k] == 0;
		base += crop0 * xs[k];
		if (plain && r > 0 && b[r - 1] == 0 && yd[r - 1] == xd[r - 1]) {
			yd[r - 1] *= y->dims[k];   /* merge into the plain axis before */
			xd[r - 1] *= y->dims[k];
			st[r - 1] = xs[k];
			continue;
		}
		yd[r] = y->dims[k];
		xd[r] = x->dims[k] - crop0 - crop1;
		st[r] = xs[k];
		b[r++] = begin[k] > 0 ? begin[k] : 0;
	}
	Tensor *v = x;   /* unread unless mode constant */
	if (mode == PAD_CONSTANT)
		v = g->opset >= 11 && n->nin > 2 && n->in[2] ? n->in[2] : pad_value_const(g, n, x->dtype);
	Call *c = call_new(g, n, K_tr_pad);
	call_in(c, x);
	call_in(c, v);
	call_out(c, y);
	call_int(c, r);
	call_ints(g, c, yd, r);
	call_ints(g, c, xd, r);
	call_ints(g, c, st, r);
	call_ints(g, c, b, r);
	call_int(c, base);
	call_int(c, mode);
	call_int(c, (int64_t)dtype_size(x->dtype));
}

/* ------------------------------------------------------------------ */
/* DepthToSpace, SpaceToDepth                                           */
/* ------------------------------------------------------------------ */

static const char *const d2s_modes[] = {"DCR", "CRD"};

/* The blocksize attribute, checked against x (N, C, H, W). */
static int64_t block_size(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, ALL_DTYPES);
	if (x->rank != 4)
		node_error(g, n, "the input must be 4-D (N, C, H, W), not %s",
		           tensor_shape_str(g->ctx, x));
	if (!attr_find(n, "blocksize"))
		node_error(g, n, "the blocksize attribute is required");
	int64_t b = attr_int(n, "blocksize", 0);
	if (b < 1 || b > ((int64_t)1 << 20))
		node_error(g, n, "blocksize %lld must be positive", (long long)b);
	return b;
}

void shape_depth_to_space(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t b = block_size(g, n);
	op_attr_choice(g, n, "mode", "DCR", d2s_modes, 2);
	if (x->dims[1] % (b * b))
		node_error(g, n, "%lld channels do not split into blocks of %lld x %lld",
		           (long long)x->dims[1], (long long)b, (long long)b);
	int64_t dims[4] = {x->dims[0], x->dims[1] / (b * b), ctx_mul(g->ctx, x->dims[2], b),
	                   ctx_mul(g->ctx, x->dims[3], b)};
	shape_set(n->out[0], x->dtype, 4, dims);
}

/* x (N, C, H, W) -> y (N, C/b^2, H*b, W*b) seen as (N, C', H, b, W, b):
 * DCR reads channel (i*b + j)*C' + c, CRD reads c*b*b + i*b + j */
void lower_depth_to_space(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t b = attr_int(n, "blocksize", 1), C = x->dims[1], H = x->dims[2], W = x->dims[3];
	int64_t cb = C / (b * b), hw = H * W;
	bool crd = op_attr_choice(g, n, "mode", "DCR", d2s_modes, 2) == 1;
	int64_t dims[6] = {x->dims[0], cb, H, b, W, b};
	int64_t strides[6] = {C * hw, crd ? b * b * hw : hw, W, crd ? b * hw : b * cb * hw, 1,
	                      crd ? hw : cb * hw};
	tensor_emit_strided(g, n, x, n->out[0], 6, dims, strides, 0);
}

void shape_space_to_depth(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t b = block_size(g, n);
	if (x->dims[2] % b || x->dims[3] % b)
		node_error(g, n, "the spatial size %lld x %lld is not a multiple of blocksize %lld",
		           (long long)x->dims[2], (long long)x->dims[3], (long long)b);
	int64_t dims[4] = {x->dims[0], ctx_mul(g->ctx, x->dims[1], b * b), x->dims[2] / b,
	                   x->dims[3] / b};
	shape_set(n->out[0], x->dtype, 4, dims);
}

/* x (N, C, H, W) -> y (N, C*b^2, H/b, W/b) seen as (N, b, b, C, H/b, W/b):
 * y[n, (i*b + j)*C + c, h, w] = x[n, c, h*b + i, w*b + j] */
void lower_space_to_depth(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	int64_t b = attr_int(n, "blocksize", 1), C = x->dims[1], H = x->dims[2], W = x->dims[3];
	int64_t dims[6] = {x->dims[0], b, b, C, H / b, W / b};
	int64_t strides[6] = {C * H * W, W, 1, H * W, b * W, b};
	tensor_emit_strided(g, n, x, n->out[0], 6, dims, strides, 0);
}

/* ------------------------------------------------------------------ */
/* Trilu, EyeLike                                                       */
/* ------------------------------------------------------------------ */

/* k clamped to [-rows, cols], where every larger |k| acts the same */
static int64_t diagonal(int64_t k, int64_t rows, int64_t cols)
{
	return k < -rows ? -rows : k > cols ? cols : k;
}

static int64_t trilu_k(Graph *g, Node *n)
{
	if (n->nin < 2 || !n->in[1])
		return 0;
	need_dtype(g, n, 1, 1u << DT_I64);
	Tensor *k = need_const(g, n, 1);
	if (tensor_nelem(k) != 1)
		node_error(g, n, "k (input 1) must be one value, not %s", tensor_shape_str(g->ctx, k));
	return tensor_get_i(k, 0);
}

void shape_trilu(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, ALL_DTYPES);
	if (x->rank < 2)
		node_error(g, n, "the input must have rank 2 or more, not %s",
		           tensor_shape_str(g->ctx, x));
	trilu_k(g, n);
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

/* x (.., n, m) -> y: one triangle of every matrix, zeros elsewhere */
void lower_trilu(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
	if (tensor_nelem(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_trilu);
	call_in(c, x);
	call_out(c, y);
	call_int(c, tensor_prod(g, x->dims, 0, x->rank - 2));
	call_int(c, rows);
	call_int(c, cols);
	call_int(c, diagonal(trilu_k(g, n), rows, cols));
	call_int(c, attr_int(n, "upper", 1) != 0);
	call_int(c, (int64_t)dtype_size(x->dtype));
}

void shape_eye_like(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	DType dt = x->dtype;
	need_dtype(g, n, 0, (1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32) | (1u << DT_BOOL));
	if (x->rank != 2)
		node_error(g, n, "the input must be 2-D, not %s", tensor_shape_str(g->ctx, x));
	const Attr *a = attr_find(n, "dtype");
	if (a) {
		dt = a->kind == AT_INT ? dtype_from_onnx((int)a->i) : DT_UNDEF;
		if (dt != DT_F32 && dt != DT_I64 && dt != DT_I32 && dt != DT_BOOL)
			node_error(g, n, "dtype %s is not supported (tostc supports FLOAT, INT64, INT32, "
			           "BOOL)", a->kind == AT_INT ? onnx_type_name((int)a->i) : "(not an int)");
	}
	shape_set(n->out[0], dt, 2, x->dims);
}

/* -> y (n, m): ones on diagonal k (the input gives only the shape) */
void lower_eye_like(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	Call *c;
	if (tensor_nelem(y) == 0)
		return;
	switch (y->dtype) {
	case DT_F32: c = call_new(g, n, K_tr_eye_f32); break;
	case DT_I64: c = call_new(g, n, K_tr_eye_i64); break;
	case DT_I32: c = call_new(g, n, K_tr_eye_i32); break;
	case DT_BOOL: c = call_new(g, n, K_tr_eye_b8); break;
	default: unreachable(g->ctx);
	}
	call_out(c, y);
	call_int(c, y->dims[0]);
	call_int(c, y->dims[1]);
	call_int(c, diagonal(attr_int(n, "k", 0), y->dims[0], y->dims[1]));
}

/* ------------------------------------------------------------------ */
/* ReverseSequence                                                      */
/* ------------------------------------------------------------------ */

static void seq_axes(Graph *g, Node *n, int *batch_axis, int *time_axis)
{
	int64_t ba = attr_int(n, "batch_axis", 1), ta = attr_int(n, "time_axis", 0);
	if ((ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta)
		node_error(g, n, "batch_axis %lld and time_axis %lld must be 0 and 1, one each",
		           (long long)ba, (long long)ta);
	*batch_axis = (int)ba;
	*time_axis = (int)ta;
}

void shape_reverse_sequence(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *lens = n->in[1];
	int ba, ta;
	need_dtype(g, n, 0, ALL_DTYPES);
	need_dtype(g, n, 1, 1u << DT_I64);
	if (x->rank < 2)
		node_error(g, n, "the input must have rank 2 or more, not %s",
		           tensor_shape_str(g->ctx, x));
	seq_axes(g, n, &ba, &ta);
	if (lens->rank != 1 || lens->dims[0] != x->dims[ba])
		node_error(g, n, "sequence_lens must be 1-D with one length per batch entry (%lld), "
		           "not %s", (long long)x->dims[ba], tensor_shape_str(g->ctx, lens));
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

/* x (time, batch, ..) or (batch, time, ..) -> y: each batch entry's first
 * lens[b] steps reversed */
void lower_reverse_sequence(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int ba, ta;
	seq_axes(g, n, &ba, &ta);
	if (tensor_nelem(y) == 0)
		return;
	Call *c = call_new(g, n, K_tr_reverse_sequence);
	call_in(c, x);
	call_in(c, n->in[1]);
	call_out(c, y);
	call_int(c, x->dims[ba]);
	call_int(c, x->dims[ta]);
	call_int(c, tensor_prod(g, x->dims, 2, x->rank));
	call_int(c, ba == 0 ? x->dims[1] : 1);
	call_int(c, ta == 0 ? x->dims[1] : 1);
	call_int(c, (int64_t)dtype_size(x->dtype));
}
