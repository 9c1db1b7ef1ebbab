/*
 * op_quant.c -- linear quantisation: QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, MatMulInteger, QLinearMatMul (runtime/quant/).
 *
 * The quantised types are int8 and uint8 (int32 too for DequantizeLinear),
 * the scales float32.  A scale and its zero point are one value (per tensor)
 * or, from opset 13, a 1-D tensor along `axis` (per axis); the matmuls take
 * them per tensor, per row of a (and y) or per column of b.  A missing zero
 * point is 0, of the quantised type (QuantizeLinear without one writes
 * uint8, or output_dtype at opset 21).  Refused, naming the node: blocked
 * quantisation (block_size, opset 21), float8/int4 types, scales that are
 * not float32, a constant scale that is 0 (or not finite), a nonzero zero
 * point for int32, scale and zero point shapes that do not fit the axis.
 *
 * Rounding (runtime/quant/quant.h): to nearest, ties to even, then
 * saturation.  A DequantizeLinear of a constant folds at compile time like
 * any other node, with the same kernel.
 */
#include "tostc.h"

#define M_F32 (1u << DT_F32)
#define M_Q8 ((1u << DT_I8) | (1u << DT_U8))

/* an optional input: NULL when absent */
static Tensor *opt_in(Node *n, int i)
{
	return i < n->nin ? n->in[i] : NULL;
}

/* A constant scale must be finite and nonzero: dividing by it (Quantize) or
 * multiplying (Dequantize) would make every value inf, NaN or 0. */
static void check_scale(Graph *g, Node *n, int i, const char *what)
{
	Tensor *s = n->in[i];
	if (s->kind != TK_CONST)
		return;
	for (int64_t k = 0; k < tensor_nelem(s); k++) {
		double v = tensor_get_f(s, k);
		if (v == 0.0 || v != v || v - v != 0.0)
			node_error(g, n, "%s (input %d) [%lld] is %g: a scale must be finite and nonzero",
			           what, i, (long long)k, v);
	}
}

/* Scale input i and zero point input i + 1 (optional) of a per-tensor or
 * per-axis (de)quantisation of x: checks them, returns the axis (-1 per
 * tensor). */
static int quant_params(Graph *g, Node *n, Tensor *x, int i, const char *sname,
                        const char *zname)
{
	need_dtype(g, n, i, M_F32);
	Tensor *s = n->in[i], *z = opt_in(n, i + 1);
	if (attr_int(n, "block_size", 0) != 0)
		node_error(g, n, "blocked quantisation (block_size %lld) is not supported",
		           (long long)attr_int(n, "block_size", 0));
	check_scale(g, n, i, sname);
	int axis = -1;
	if (s->rank > 1)
		node_error(g, n, "%s (input %d) must be a scalar or 1-D, not %s", sname, i,
		           tensor_shape_str(g->ctx, s));
	if (s->rank == 1) {
		if (g->opset < 13)
			node_error(g, n, "%s (input %d) must be a scalar before opset 13, not %s", sname,
			           i, tensor_shape_str(g->ctx, s));
		axis = shape_axis(g, n, attr_int(n, "axis", 1), x->rank);
		if (s->dims[0] != x->dims[axis])
			node_error(g, n, "%s (input %d) has %lld values but axis %d of x %s has %lld",
			           sname, i, (long long)s->dims[0], axis, tensor_shape_str(g->ctx, x),
			           (long long)x->dims[axis]);
	}
	if (z) {
		if (z->rank != s->rank || tensor_nelem(z) != tensor_nelem(s))
			node_error(g, n, "%s (input %d) is %s but %s is %s", zname, i + 1,
			           tensor_shape_str(g->ctx, z), sname, tensor_shape_str(g->ctx, s));
	}
	return axis;
}

/* x viewed as (outer, c, inner) around axis (c = 1 when axis < 0) */
static void axis_split(const Tensor *x, int axis, int64_t *outer, int64_t *c, int64_t *inner)
{
	*outer = 1;
	*c = 1;
	*inner = 1;
	for (int d = 0; d < x->rank; d++) {
		if (d < axis)
			*outer *= x->dims[d];
		else if (d == axis)
			*c = x->dims[d];
		else
			*inner *= x->dims[d];
	}
}

/* input i, or a constant zero of type dt with n values when it is absent */
static Tensor *zp_or_zero(Graph *g, Node *n, int i, DType dt, int64_t count)
{
	Tensor *z = opt_in(n, i);
	if (z)
		return z;
	return tensor_const(g, ctx_printf(g->ctx, "%s.zero_point%d", n->out[0]->name, g->ntensors),
	                    dt, 1, &count);
}

/* ---- QuantizeLinear: y = saturate(round(x / scale) + zero_point) ---- */

void shape_quantize(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_F32);
	Tensor *x = n->in[0], *z = opt_in(n, 2);
	quant_params(g, n, x, 1, "y_scale", "y_zero_point");
	int64_t sat = attr_int(n, "saturate", 1);
	if (sat != 0 && sat != 1)
		node_error(g, n, "saturate must be 0 or 1, got %lld", (long long)sat);
	DType dt = DT_U8;
	const Attr *od = attr_find(n, "output_dtype");
	if (od && od->kind == AT_INT && od->i != 0) {
		dt = dtype_from_onnx((int)od->i);
		if (dt != DT_I8 && dt != DT_U8)
			node_error(g, n, "output_dtype %s is not supported (tostc quantises to INT8 and "
			           "UINT8)", onnx_type_name((int)od->i));
	}
	if (z) {
		need_dtype(g, n, 2, M_Q8);
		if (od && od->kind == AT_INT && od->i != 0 && z->dtype != dt)
			node_error(g, n, "y_zero_point is %s but output_dtype is %s", dtype_name(z->dtype),
			           dtype_name(dt));
		dt = z->dtype;
	}
	shape_set(n->out[0], dt, x->rank, x->dims);
}

void lower_quantize(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int axis = n->in[1]->rank == 1 ? shape_axis(g, n, attr_int(n, "axis", 1), x->rank) : -1;
	int64_t outer, c, inner;
	axis_split(x, axis, &outer, &c, &inner);
	Call *k = call_new(g, n, y->dtype == DT_I8 ? K_tr_quantize_f32_i8 : K_tr_quantize_f32_u8);
	call_in(k, x);
	call_in(k, n->in[1]);
	call_in(k, zp_or_zero(g, n, 2, y->dtype, c));
	call_out(k, y);
	call_int(k, outer);
	call_int(k, c);
	call_int(k, inner);
}

/* ---- DequantizeLinear: y = (x - zero_point) * scale ---- */

void shape_dequantize(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_Q8 | (1u << DT_I32));
	Tensor *x = n->in[0], *z = opt_in(n, 2);
	quant_params(g, n, x, 1, "x_scale", "x_zero_point");
	if (z) {
		if (z->dtype != x->dtype)
			node_error(g, n, "x_zero_point is %s but x is %s", dtype_name(z->dtype),
			           dtype_name(x->dtype));
		if (x->dtype == DT_I32 && z->kind == TK_CONST)
			for (int64_t k = 0; k < tensor_nelem(z); k++)
				if (tensor_get_i(z, k) != 0)
					node_error(g, n, "x_zero_point[%lld] is %lld: an int32 x must have zero "
					           "point 0", (long long)k, (long long)tensor_get_i(z, k));
	}
	shape_set(n->out[0], DT_F32, x->rank, x->dims);
}

void lower_dequantize(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int axis = n->in[1]->rank == 1 ? shape_axis(g, n, attr_int(n, "axis", 1), x->rank) : -1;
	int64_t outer, c, inner;
	axis_split(x, axis, &outer, &c, &inner);
	KernelId kid = x->dtype == DT_I8 ? K_tr_dequantize_i8_f32
	             : x->dtype == DT_U8 ? K_tr_dequantize_u8_f32 : K_tr_dequantize_i32_f32;
	Call *k = call_new(g, n, kid);
	call_in(k, x);
	call_in(k, n->in[1]);
	call_in(k, zp_or_zero(g, n, 2, x->dtype, c));
	call_out(k, y);
	call_int(k, outer);
	call_int(k, c);
	call_int(k, inner);
}

/* ---- DynamicQuantizeLinear: x -> y (uint8), y_scale, y_zero_point ---- */

void shape_dynamic_quantize(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_F32);
	Tensor *x = n->in[0];
	shape_set(n->out[0], DT_U8, x->rank, x->dims);
	if (n->nout > 1 && n->out[1])
		shape_set(n->out[1], DT_F32, 0, NULL);
	if (n->nout > 2 && n->out[2])
		shape_set(n->out[2], DT_U8, 0, NULL);
}

void lower_dynamic_quantize(Graph *g, Node *n)
{
	Call *k = call_new(g, n, K_tr_dynamic_quantize_u8);
	call_in(k, n->in[0]);
	call_out(k, n->out[0]);
	call_out(k, n->out[1]);
	call_out(k, n->out[2]);
	call_int(k, tensor_nelem(n->in[0]));
}

/* ---- MatMulInteger, QLinearMatMul ---- */

/* the rows (m) of a and columns (n) of b of a numpy matmul */
static int64_t mm_rows(const Tensor *a) { return a->rank > 1 ? a->dims[a->rank - 2] : 1; }
static int64_t mm_cols(const Tensor *b) { return b->rank > 1 ? b->dims[b->rank - 1] : 1; }

/* Input i holds one value, or `per` values (per row or column, as `what`);
 * returns whether it is per row/column. */
static int per_count(Graph *g, Node *n, int i, int64_t per, const char *what)
{
	Tensor *t = n->in[i];
	int64_t cnt = tensor_nelem(t);
	if (cnt == 1)
		return 0;
	if (cnt != per)
		node_error(g, n, "input %d ('%s') is %s: it must hold one value or one per %s (%lld)",
		           i, text_msg(g->ctx, t->name), tensor_shape_str(g->ctx, t), what,
		           (long long)per);
	return 1;
}

void shape_matmul_integer(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_Q8);
	need_dtype(g, n, 1, M_Q8);
	Tensor *a = n->in[0], *b = n->in[1];
	linalg_matmul_shape(g, n, a, b, DT_I32);
	for (int i = 2; i < 4; i++) {
		Tensor *z = opt_in(n, i);
		if (!z)
			continue;
		if (z->dtype != n->in[i - 2]->dtype)
			node_error(g, n, "input %d (a zero point) is %s but input %d is %s", i,
			           dtype_name(z->dtype), i - 2, dtype_name(n->in[i - 2]->dtype));
		per_count(g, n, i, i == 2 ? mm_rows(a) : mm_cols(b), i == 2 ? "row of a" : "column of b");
	}
}

/* the matmul's shape arguments, as tr_matmul_integer and tr_qlinear_matmul take them */
static void call_mm_shape(Graph *g, Call *k, const Tensor *a, const Tensor *b)
{
	int64_t m, kk, nn, bdims[MAX_RANK], astr[MAX_RANK], bstr[MAX_RANK];
	int nb = linalg_matmul_batch(a, b, &m, &kk, &nn, bdims, astr, bstr);
	call_int(k, m);
	call_int(k, kk);
	call_int(k, nn);
	call_int(k, nb);
	call_ints(g, k, bdims, nb);
	call_ints(g, k, astr, nb);
	call_ints(g, k, bstr, nb);
}

void lower_matmul_integer(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1];
	Tensor *az = zp_or_zero(g, n, 2, a->dtype, 1), *bz = zp_or_zero(g, n, 3, b->dtype, 1);
	Call *k = call_new(g, n, K_tr_matmul_integer);
	call_in(k, a);
	call_in(k, b);
	call_in(k, az);
	call_in(k, bz);
	call_out(k, n->out[0]);
	call_mm_shape(g, k, a, b);
	call_int(k, a->dtype == DT_I8);
	call_int(k, b->dtype == DT_I8);
	call_int(k, tensor_nelem(az) > 1);
	call_int(k, tensor_nelem(bz) > 1);
}

/* inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point */
void shape_qlinear_matmul(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_Q8);
	need_dtype(g, n, 3, M_Q8);
	need_dtype(g, n, 7, M_Q8);
	Tensor *a = n->in[0], *b = n->in[3];
	static const char *const what[3] = {"a", "b", "y"};
	for (int j = 0; j < 3; j++) {
		int si = 3 * j + 1 - (j == 2), zi = si + 1;   /* 1, 2; 4, 5; 6, 7 */
		need_dtype(g, n, si, M_F32);
		check_scale(g, n, si, ctx_printf(g->ctx, "%s_scale", what[j]));
		if (j < 2 && n->in[zi]->dtype != n->in[3 * j]->dtype)
			node_error(g, n, "%s_zero_point is %s but %s is %s", what[j],
			           dtype_name(n->in[zi]->dtype), what[j], dtype_name(n->in[3 * j]->dtype));
		int64_t per = j == 1 ? mm_cols(b) : mm_rows(a);
		const char *pw = j == 1 ? "column of b" : "row of a";
		int ps = per_count(g, n, si, per, pw), pz = per_count(g, n, zi, per, pw);
		if (ps != pz)
			node_error(g, n, "%s_scale has %lld values but %s_zero_point %lld", what[j],
			           (long long)tensor_nelem(n->in[si]), what[j],
			           (long long)tensor_nelem(n->in[zi]));
	}
	linalg_matmul_shape(g, n, a, b, n->in[7]->dtype);
}

void lower_qlinear_matmul(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[3], *y = n->out[0];
	Call *k = call_new(g, n, K_tr_qlinear_matmul);
	call_in(k, a);
	call_in(k, n->in[1]);
	call_in(k, n->in[2]);
	call_in(k, b);
	call_in(k, n->in[4]);
	call_in(k, n->in[5]);
	call_in(k, n->in[6]);
	call_in(k, n->in[7]);
	call_out(k, y);
	call_mm_shape(g, k, a, b);
	call_int(k, a->dtype == DT_I8);
	call_int(k, b->dtype == DT_I8);
	call_int(k, y->dtype == DT_I8);
	call_int(k, tensor_nelem(n->in[1]) > 1);
	call_int(k, tensor_nelem(n->in[4]) > 1);
	call_int(k, tensor_nelem(n->in[6]) > 1);
}
