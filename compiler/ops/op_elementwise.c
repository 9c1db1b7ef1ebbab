/*
 * op_elementwise.c -- shape and lower functions of the elementwise family:
 * binary ops with numpy broadcasting (arithmetic, Mod, BitShift, PRelu,
 * logic), comparisons, variadic Min/Max/Sum/Mean, Where, unary math, Clip,
 * Cast and CastLike, Softmax/LogSoftmax/Hardmax and CumSum; and the ops that
 * are no work at inference: Dropout (a view, its mask a constant) and Size (a
 * constant).  The activations with attributes are op_activation.c's, the
 * reductions op_reduce.c's.
 *
 * Each kernel of runtime/elementwise/ is a row of runtime/kernels.def that
 * also names its op and element types; the tables below are read from those
 * rows, and lowering looks a kernel up by (op, types), never by string.
 * Broadcasting is decided here, at compile time: the output shape is
 * collapsed (size-1 axes dropped, axes merged where every operand is
 * contiguous or broadcast alike), so a same-shape op becomes one flat loop, a
 * bias add becomes (rows, n) with a zero row stride, and only genuinely
 * strided cases pay for an odometer.
 *
 * Clip's min/max inputs (opset >= 11) become kernel literals when constant;
 * when they are computed at run time Clip lowers to Max then Min calls with
 * a broadcast scalar, so it never has to reject a model.
 */
#include "tostc.h"

#include <string.h>

#include "elementwise/binary.h"
#include "elementwise/cast_any.h"
#include "elementwise/unary.h"
#include "elementwise/reduce.h"

#define M_F32 (1u << DT_F32)
#define M_I64 (1u << DT_I64)
#define M_I32 (1u << DT_I32)
#define M_BOOL (1u << DT_BOOL)
#define M_NUM (M_F32 | M_I64 | M_I32)
#define M_ALL (M_NUM | M_BOOL)

/* ------------------------------------------------------------------ */
/* Kernel tables: the elementwise rows of runtime/kernels.def           */
/* ------------------------------------------------------------------ */

/* Kernel variants that an attribute selects, named in kernels.def's rows like
 * ops: Mod with fmod = 1, BitShift with direction RIGHT. */
#define OP_FMOD ((OpKind)OP_COUNT)
#define OP_SHIFT_RIGHT ((OpKind)(OP_COUNT + 1))

#define KERNEL(...)

/* Binary kernels: y has a's type, or bool for comparisons; _bc broadcasts. */
typedef struct {
	OpKind op;
	DType a, b;
	KernelId flat, bc;
} BinKernel;

static const BinKernel binary_kernels[] = {
#define EW_BINARY(op, ta, tb, ty, k) {OP_##op, K_DT_##ta, K_DT_##tb, K_##k, K_##k##_bc},
#define EW_UNARY(op, tx, ty, k)
#define EW_REDUCE(op, t, k)
#define EW_WHERE(t, k)
#define EW_CUMSUM(t, k)
#include "kernels.def"
};

/* One-type kernels (unary, where, cumsum) and casts (a -> b). */
typedef struct {
	OpKind op;
	DType a, b;
	KernelId fn, fn_g;
} Kernel;

static const Kernel unary_kernels[] = {
#define EW_BINARY(op, ta, tb, ty, k)
#define EW_UNARY(op, tx, ty, k) {OP_##op, K_DT_##tx, K_DT_##ty, K_##k, K_##k},
#define EW_REDUCE(op, t, k)
#define EW_WHERE(t, k)
#define EW_CUMSUM(t, k)
#include "kernels.def"
};
static const Kernel where_kernels[] = {
#define EW_BINARY(op, ta, tb, ty, k)
#define EW_UNARY(op, tx, ty, k)
#define EW_REDUCE(op, t, k)
#define EW_WHERE(t, k) {OP_WHERE, K_DT_##t, K_DT_##t, K_##k, K_##k},
#define EW_CUMSUM(t, k)
#include "kernels.def"
};
static const Kernel cumsum_kernels[] = {
#define EW_BINARY(op, ta, tb, ty, k)
#define EW_UNARY(op, tx, ty, k)
#define EW_REDUCE(op, t, k)
#define EW_WHERE(t, k)
#define EW_CUMSUM(t, k) {OP_CUMSUM, K_DT_##t, K_DT_##t, K_##k, K_##k},
#include "kernels.def"
};
#undef KERNEL

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const BinKernel *find_binary(Graph *g, Node *n, OpKind op, DType a, DType b)
{
	for (int i = 0; i < COUNT(binary_kernels); i++)
		if (binary_kernels[i].op == op && binary_kernels[i].a == a && binary_kernels[i].b == b)
			return &binary_kernels[i];
	node_error(g, n, "%s has no kernel for element types %s and %s", op_info[n->op].name,
	           dtype_name(a), dtype_name(b));
}

static const Kernel *find_kernel(Graph *g, Node *n, const Kernel *tab, int ntab, OpKind op,
                                 DType a, DType b)
{
	for (int i = 0; i < ntab; i++)
		if (tab[i].op == op && tab[i].a == a && tab[i].b == b)
			return &tab[i];
	node_error(g, n, "%s has no kernel for element type %s", op_info[n->op].name, dtype_name(a));
}

/* ------------------------------------------------------------------ */
/* Broadcast helpers                                                    */
/* ------------------------------------------------------------------ */

/* Element strides of t broadcast to an output of rank `rank` (right-aligned,
 * numpy); 0 on the axes where t has size 1. */
static void bcast_strides(const Tensor *t, int rank, int64_t *st)
{
	int64_t s = 1;
	for (int d = rank - 1; d >= 0; d--) {
		int td = d - (rank - t->rank);
		int64_t n = td >= 0 ? t->dims[td] : 1;
		st[d] = n == 1 ? 0 : s;
		s *= n;
	}
}

/* Collapse dims[0..rank) and the strides of nops operands in place: drop
 * size-1 axes, merge an axis into the previous one when every operand steps
 * through both as one axis.  Returns the new rank, at least 1. */
static int collapse(int rank, int64_t *dims, int nops, int64_t (*st)[MAX_RANK])
{
	int r = 0;
	for (int d = 0; d < rank; d++) {
		if (dims[d] == 1)
			continue;
		bool merge = r > 0;
		for (int j = 0; j < nops && merge; j++)
			merge = st[j][r - 1] == st[j][d] * dims[d];
		if (merge) {
			dims[r - 1] *= dims[d];
			for (int j = 0; j < nops; j++)
				st[j][r - 1] = st[j][d];
		} else {
			dims[r] = dims[d];
			for (int j = 0; j < nops; j++)
				st[j][r] = st[j][d];
			r++;
		}
	}
	if (r == 0) {
		dims[0] = 1;
		for (int j = 0; j < nops; j++)
			st[j][0] = 0;
		r = 1;
	}
	return r;
}

static int64_t prod(const int64_t *d, int from, int to)
{
	int64_t p = 1;
	for (int i = from; i < to; i++)
		p *= d[i];
	return p;
}

/* y = a op b with a and b broadcast to y's shape. */
static void emit_binary(Graph *g, Node *n, const BinKernel *k, Tensor *a, Tensor *b, Tensor *y)
{
	int64_t dims[MAX_RANK], st[2][MAX_RANK];
	memcpy(dims, y->dims, sizeof dims);
	bcast_strides(a, y->rank, st[0]);
	bcast_strides(b, y->rank, st[1]);
	int r = collapse(y->rank, dims, 2, st);
	int64_t ny = tensor_nelem(y);
	bool flat = ny == 0 || (r == 1 && (dims[0] == 1 || (st[0][0] == 1 && st[1][0] == 1)));
	Call *c = call_new(g, n, flat ? k->flat : k->bc);
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	if (flat) {
		call_int(c, ny);
		return;
	}
	call_int(c, r);
	call_ints(g, c, dims, r);
	call_ints(g, c, st[0], r);
	call_ints(g, c, st[1], r);
}

/* y = copy of x (same element count and type). */
static void emit_copy(Graph *g, Node *n, Tensor *x, Tensor *y)
{
	const Kernel *k = find_kernel(g, n, unary_kernels, COUNT(unary_kernels), OP_CAST, x->dtype,
	                              y->dtype);
	Call *c = call_new(g, n, k->fn);
	call_in(c, x);
	call_out(c, y);
	call_int(c, tensor_nelem(y));
}

static void same_dtype(Graph *g, Node *n, int i, int j)
{
	Tensor *a = n->in[i], *b = n->in[j];
	if (a->dtype != b->dtype)
		node_error(g, n, "inputs %d and %d have different element types (%s and %s)", i, j,
		           dtype_name(a->dtype), dtype_name(b->dtype));
}

/* ------------------------------------------------------------------ */
/* Binary, comparisons, variadic Min/Max, Where                         */
/* ------------------------------------------------------------------ */

static void check_legacy_broadcast(Graph *g, Node *n)
{
	if (attr_find(n, "axis") && attr_int(n, "broadcast", 0))
		node_error(g, n, "legacy broadcasting with an 'axis' attribute (opset < 7) is not "
		           "supported; re-export the model with opset >= 7");
}

static void shape_broadcast2(Graph *g, Node *n, DType dt)
{
	Tensor *a = n->in[0], *b = n->in[1];
	int64_t dims[MAX_RANK];
	int r = shape_broadcast(g, n, a->rank, a->dims, b->rank, b->dims, dims);
	shape_set(n->out[0], dt, r, dims);
}

void shape_binary(Graph *g, Node *n)
{
	check_legacy_broadcast(g, n);
	unsigned mask = M_NUM;
	if (n->op == OP_AND || n->op == OP_OR || n->op == OP_XOR)
		mask = M_BOOL;
	else if (n->op == OP_BIT_SHIFT)
		mask = M_I64 | M_I32;
	need_dtype(g, n, 0, mask);
	need_dtype(g, n, 1, mask);
	if (n->op != OP_POW)
		same_dtype(g, n, 0, 1);
	if (n->op == OP_MOD) {
		int64_t fmod = attr_int(n, "fmod", 0);
		if (fmod != 0 && fmod != 1)
			node_error(g, n, "fmod must be 0 or 1, got %lld", (long long)fmod);
		if (!fmod && n->in[0]->dtype == DT_F32)
			node_error(g, n, "Mod of floats needs fmod = 1 (ONNX defines fmod = 0 for "
			           "integers only)");
	}
	if (n->op == OP_BIT_SHIFT) {
		const char *d = attr_string(n, "direction", NULL);
		if (!d || (strcmp(d, "LEFT") && strcmp(d, "RIGHT")))
			node_error(g, n, "direction must be \"LEFT\" or \"RIGHT\"%s",
			           d ? "" : " (the attribute is required)");
	}
	shape_broadcast2(g, n, n->in[0]->dtype);
}

/* PRelu broadcasts the slope to x, never x to the slope. */
void shape_prelu(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_NUM);
	same_dtype(g, n, 0, 1);
	Tensor *x = n->in[0], *s = n->in[1];
	int64_t dims[MAX_RANK];
	int r = shape_broadcast(g, n, x->rank, x->dims, s->rank, s->dims, dims);
	if (r != x->rank || memcmp(dims, x->dims, sizeof(int64_t) * (size_t)r))
		node_error(g, n, "slope %s does not broadcast to x %s", tensor_shape_str(g->ctx, s),
		           tensor_shape_str(g->ctx, x));
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

void shape_compare(Graph *g, Node *n)
{
	check_legacy_broadcast(g, n);
	unsigned mask = n->op == OP_EQUAL ? M_ALL : M_NUM;
	need_dtype(g, n, 0, mask);
	need_dtype(g, n, 1, mask);
	same_dtype(g, n, 0, 1);
	shape_broadcast2(g, n, DT_BOOL);
}

/* The kernels' op for a binary node: its own, or the variant its attribute
 * selects. */
static OpKind binary_variant(const Node *n)
{
	if (n->op == OP_MOD && attr_int(n, "fmod", 0))
		return OP_FMOD;
	if (n->op == OP_BIT_SHIFT && strcmp(attr_string(n, "direction", ""), "RIGHT") == 0)
		return OP_SHIFT_RIGHT;
	return n->op;
}

void lower_binary(Graph *g, Node *n)
{
	Tensor *a = n->in[0], *b = n->in[1];
	/* Pow(x, 2.0) with a constant scalar exponent (decomposed LayerNorm,
	 * L2 norms) is x * x: the same correctly rounded result as powf(x, 2),
	 * NaN and infinities included, without a libm call per element. */
	if (n->op == OP_POW && a->dtype == DT_F32 && b->dtype == DT_F32 && b->kind == TK_CONST &&
	    tensor_nelem(b) == 1 && tensor_get_f(b, 0) == 2.0 &&
	    tensor_nelem(a) == tensor_nelem(n->out[0])) {
		emit_binary(g, n, find_binary(g, n, OP_MUL, DT_F32, DT_F32), a, a, n->out[0]);
		return;
	}
	emit_binary(g, n, find_binary(g, n, binary_variant(n), a->dtype, b->dtype), a, b, n->out[0]);
}

void shape_variadic(Graph *g, Node *n)
{
	int64_t dims[MAX_RANK], tmp[MAX_RANK];
	need_dtype(g, n, 0, n->op == OP_MEAN ? M_F32 : M_NUM);
	int r = n->in[0]->rank;
	memcpy(dims, n->in[0]->dims, sizeof dims);
	for (int i = 1; i < n->nin; i++) {
		Tensor *t = n->in[i];
		if (!t)
			node_error(g, n, "input %d is missing", i);
		same_dtype(g, n, 0, i);
		r = shape_broadcast(g, n, r, dims, t->rank, t->dims, tmp);
		memcpy(dims, tmp, sizeof dims);
	}
	shape_set(n->out[0], n->in[0]->dtype, r, dims);
}

/* y = in0 op in1, then y = y op in_i: the first call already produces the
 * full output shape, so the later ones run in place on y.  Sum and Mean add
 * (in input order, as ONNX's reference), then Mean divides by the count. */
void lower_variadic(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	if (n->nin == 1) {
		emit_copy(g, n, n->in[0], y);
		return;
	}
	OpKind op = n->op == OP_SUM || n->op == OP_MEAN ? OP_ADD : n->op;
	const BinKernel *k = find_binary(g, n, op, y->dtype, y->dtype);
	emit_binary(g, n, k, n->in[0], n->in[1], y);
	for (int i = 2; i < n->nin; i++)
		emit_binary(g, n, k, y, n->in[i], y);
	if (n->op == OP_MEAN) {
		Call *c = call_new(g, n, K_tr_div_scalar_f32);
		call_in(c, y);
		call_out(c, y);
		call_int(c, tensor_nelem(y));
		call_float(c, (float)n->nin);
	}
}

void shape_where(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_BOOL);
	need_dtype(g, n, 1, M_ALL);
	same_dtype(g, n, 1, 2);
	int64_t d1[MAX_RANK], d2[MAX_RANK];
	Tensor *c = n->in[0], *a = n->in[1], *b = n->in[2];
	int r = shape_broadcast(g, n, c->rank, c->dims, a->rank, a->dims, d1);
	r = shape_broadcast(g, n, r, d1, b->rank, b->dims, d2);
	shape_set(n->out[0], a->dtype, r, d2);
}

void lower_where(Graph *g, Node *n)
{
	Tensor *y = n->out[0];
	int64_t dims[MAX_RANK], st[3][MAX_RANK];
	memcpy(dims, y->dims, sizeof dims);
	for (int j = 0; j < 3; j++)
		bcast_strides(n->in[j], y->rank, st[j]);
	int r = collapse(y->rank, dims, 3, st);
	const Kernel *k = find_kernel(g, n, where_kernels, COUNT(where_kernels), OP_WHERE, y->dtype,
	                              y->dtype);
	Call *c = call_new(g, n, k->fn);
	for (int j = 0; j < 3; j++)
		call_in(c, n->in[j]);
	call_out(c, y);
	call_int(c, r);
	call_ints(g, c, dims, r);
	for (int j = 0; j < 3; j++)
		call_ints(g, c, st[j], r);
}

/* ------------------------------------------------------------------ */
/* Unary, Clip, Cast                                                    */
/* ------------------------------------------------------------------ */

void shape_unary(Graph *g, Node *n)
{
	unsigned mask = M_F32;
	if (n->op == OP_NEG || n->op == OP_ABS || n->op == OP_RELU || n->op == OP_SIGN)
		mask = M_NUM;
	else if (n->op == OP_NOT)
		mask = M_BOOL;
	need_dtype(g, n, 0, mask);
	Tensor *x = n->in[0];
	shape_set(n->out[0], n->op == OP_IS_NAN ? DT_BOOL : x->dtype, x->rank, x->dims);
}

void lower_unary(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	const Kernel *k = find_kernel(g, n, unary_kernels, COUNT(unary_kernels), n->op, x->dtype,
	                              y->dtype);
	Call *c = call_new(g, n, k->fn);
	call_in(c, x);
	call_out(c, y);
	call_int(c, tensor_nelem(y));
}

void shape_clip(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	if (g->opset < 11) {
		need_dtype(g, n, 0, M_F32);
		if (n->nin > 1)
			node_error(g, n, "Clip takes min and max as attributes before opset 11, not inputs");
	} else {
		need_dtype(g, n, 0, M_NUM);
		for (int i = 1; i < n->nin; i++) {
			Tensor *t = n->in[i];
			if (!t)
				continue;
			same_dtype(g, n, 0, i);
			if (tensor_nelem(t) != 1)
				node_error(g, n, "input %d ('%s', %s) must be a scalar", i,
				           text_msg(g->ctx, t->name),
				           tensor_shape_str(g->ctx, t));
		}
	}
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

void lower_clip(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	Tensor *lo = n->nin > 1 ? n->in[1] : NULL, *hi = n->nin > 2 ? n->in[2] : NULL;
	if ((lo && lo->kind != TK_CONST) || (hi && hi->kind != TK_CONST)) {
		/* bounds computed at run time: y = min(max(x, lo), hi) */
		Tensor *src = x;
		if (lo) {
			emit_binary(g, n, find_binary(g, n, OP_MAX, x->dtype, x->dtype), x, lo, y);
			src = y;
		}
		if (hi)
			emit_binary(g, n, find_binary(g, n, OP_MIN, x->dtype, x->dtype), src, hi, y);
		return;
	}
	int64_t ny = tensor_nelem(y);
	Call *c;
	switch (x->dtype) {
	case DT_F32: {
		float l = -INFINITY, h = INFINITY;
		if (g->opset < 11) {
			l = attr_float(n, "min", l);
			h = attr_float(n, "max", h);
		} else {
			if (lo)
				l = (float)tensor_get_f(lo, 0);
			if (hi)
				h = (float)tensor_get_f(hi, 0);
		}
		c = call_new(g, n, K_tr_clip_f32);
		call_in(c, x);
		call_out(c, y);
		call_int(c, ny);
		call_float(c, l);
		call_float(c, h);
		return;
	}
	case DT_I64:
	case DT_I32: {
		bool w = x->dtype == DT_I64;
		int64_t l = w ? INT64_MIN : INT32_MIN, h = w ? INT64_MAX : INT32_MAX;
		if (lo)
			l = tensor_get_i(lo, 0);
		if (hi)
			h = tensor_get_i(hi, 0);
		c = w ? call_new(g, n, K_tr_clip_i64)
		      : call_new(g, n, K_tr_clip_i32);
		call_in(c, x);
		call_out(c, y);
		call_int(c, ny);
		call_int(c, l);
		call_int(c, h);
		return;
	}
	default:
		node_error(g, n, "Clip does not support element type %s", dtype_name(x->dtype));
	}
}

void shape_cast(Graph *g, Node *n)
{
	const Attr *a = attr_find(n, "to");
	if (!a || a->kind != AT_INT)
		node_error(g, n, "Cast needs an integer attribute 'to'");
	DType to = dtype_from_onnx((int)a->i);
	if (to == DT_UNDEF)
		node_error(g, n, "Cast to %s is not supported (tostc supports FLOAT, INT64, INT32, BOOL, "
		           "INT8, UINT8, FLOAT16, BFLOAT16)", onnx_type_name((int)a->i));
	int64_t sat = attr_int(n, "saturate", 1);
	if (sat != 0 && sat != 1)
		node_error(g, n, "saturate must be 0 or 1, got %lld", (long long)sat);
	need_dtype(g, n, 0, DT_MASK_ALL);
	Tensor *x = n->in[0];
	shape_set(n->out[0], to, x->rank, x->dims);
}

/* tr_cast_any's code of an element type */
static int64_t cast_code(DType t)
{
	switch (t) {
	case DT_F32: return TR_T_F32;
	case DT_I64: return TR_T_I64;
	case DT_I32: return TR_T_I32;
	case DT_BOOL: return TR_T_B8;
	case DT_I8: return TR_T_I8;
	case DT_U8: return TR_T_U8;
	case DT_F16: return TR_T_F16;
	default: return TR_T_BF16;
	}
}

/* Between float, int64, int32 and bool a kernel per pair (unary.h); to or
 * from int8, uint8, float16 and bfloat16, tr_cast_any (cast_any.h says how
 * it rounds and saturates). */
void lower_cast(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	if ((1u << x->dtype) & (1u << y->dtype) & M_ALL) {
		emit_copy(g, n, x, y);
		return;
	}
	if (x->dtype == y->dtype) {
		Call *c = call_new(g, n, K_tr_copy);
		call_in(c, x);
		call_out(c, y);
		call_int(c, tensor_nbytes(y));
		return;
	}
	Call *c = call_new(g, n, K_tr_cast_any);
	call_in(c, x);
	call_out(c, y);
	call_int(c, tensor_nelem(y));
	call_int(c, cast_code(x->dtype));
	call_int(c, cast_code(y->dtype));
}

/* CastLike: Cast to the element type of input 1, whose values are not read.
 * saturate (opset 19) only concerns float8 targets, which tostc lacks. */
void shape_cast_like(Graph *g, Node *n)
{
	need_dtype(g, n, 0, DT_MASK_ALL);
	need_dtype(g, n, 1, DT_MASK_ALL);
	int64_t sat = attr_int(n, "saturate", 1);
	if (sat != 0 && sat != 1)
		node_error(g, n, "saturate must be 0 or 1, got %lld", (long long)sat);
	Tensor *x = n->in[0];
	shape_set(n->out[0], n->in[1]->dtype, x->rank, x->dims);
}

/* ------------------------------------------------------------------ */
/* Dropout, Size: nothing to compute at inference                       */
/* ------------------------------------------------------------------ */

/* Output t (its shape set) becomes a constant with `data`: outputs known
 * from shapes alone are folded in the shape function, like Shape's. */
static void make_const(Tensor *t, void *data)
{
	t->kind = TK_CONST;
	t->data = data;
	t->producer = NULL;
}

/* Dropout at inference is the identity: y is a view of x, and the mask, when
 * asked for, a constant of ones (bool from opset 10, x's type before).  In
 * training mode (opset >= 12: input 2 true) it drops at random unless the
 * ratio is 0, so training_mode must be a constant, false or with a constant
 * ratio 0. */
void shape_dropout(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	need_dtype(g, n, 0, M_ALL);
	if (g->opset < 12 && n->nin > 1)
		node_error(g, n, "Dropout takes ratio as an attribute before opset 12, not an input");
	if (n->nin > 2 && n->in[2]) {
		Tensor *t = need_const(g, n, 2);
		need_dtype(g, n, 2, M_BOOL);
		if (tensor_nelem(t) != 1)
			node_error(g, n, "training_mode must be a scalar, got %s",
			           tensor_shape_str(g->ctx, t));
		double ratio = 0.5;
		if (tensor_get_i(t, 0) && n->in[1]) {
			Tensor *r = need_const(g, n, 1);
			need_dtype(g, n, 1, M_F32);
			if (tensor_nelem(r) != 1)
				node_error(g, n, "ratio must be a scalar, got %s",
				           tensor_shape_str(g->ctx, r));
			ratio = tensor_get_f(r, 0);
		}
		if (tensor_get_i(t, 0) && ratio != 0)
			node_error(g, n, "training_mode is true with ratio %g: Dropout would drop "
			           "elements at random; tostc compiles inference (export the model in "
			           "eval mode)", ratio);
	}
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
	if (n->nout < 2 || !n->out[1])
		return;
	Tensor *m = n->out[1];
	shape_set(m, g->opset < 10 ? x->dtype : DT_BOOL, x->rank, x->dims);
	int64_t cnt = tensor_nelem(m);
	void *v = ctx_alloc(g->ctx, (size_t)tensor_nbytes(m) + 1);
	for (int64_t i = 0; i < cnt; i++)
		switch (m->dtype) {
		case DT_F32: ((float *)v)[i] = 1.0f; break;
		case DT_I64: ((int64_t *)v)[i] = 1; break;
		case DT_I32: ((int32_t *)v)[i] = 1; break;
		default: ((uint8_t *)v)[i] = 1; break;
		}
	make_const(m, v);
}

/* The element count, an int64 scalar known from the static shape. */
void shape_size(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_ALL);
	Tensor *y = n->out[0];
	shape_set(y, DT_I64, 0, NULL);
	int64_t *v = ctx_alloc(g->ctx, sizeof *v);
	*v = tensor_nelem(n->in[0]);
	make_const(y, v);
	n->dead = true;
}

/* Only reached when a Size node is evaluated again (eval_node in tests). */
void lower_size(Graph *g, Node *n)
{
	Call *c = call_new(g, n, K_tr_fill_i64);
	call_out(c, n->out[0]);
	call_int(c, 1);
	call_int(c, tensor_nelem(n->in[0]));
}

/* ------------------------------------------------------------------ */
/* Softmax, LogSoftmax, Hardmax, CumSum                               */
/* ------------------------------------------------------------------ */

static int softmax_axis(Graph *g, Node *n)
{
	Tensor *x = n->in[0];
	if (x->rank == 0)
		node_error(g, n, "input must have rank >= 1");
	return shape_axis(g, n, attr_int(n, "axis", g->opset < 13 ? 1 : -1), x->rank);
}

void shape_softmax(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_F32);
	softmax_axis(g, n);
	Tensor *x = n->in[0];
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

/* opset < 13: x is coerced to 2-D (prod dims[:axis], prod dims[axis:]) and
 * normalised along the second axis; opset >= 13: along `axis` alone. */
void lower_softmax(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int axis = softmax_axis(g, n);
	int64_t outer = prod(x->dims, 0, axis), len, inner;
	if (g->opset < 13) {
		len = prod(x->dims, axis, x->rank);
		inner = 1;
	} else {
		len = x->dims[axis];
		inner = prod(x->dims, axis + 1, x->rank);
	}
	Call *c = call_new(g, n, n->op == OP_SOFTMAX       ? K_tr_softmax_f32
	                         : n->op == OP_LOG_SOFTMAX ? K_tr_log_softmax_f32
	                                                   : K_tr_hardmax_f32);
	call_in(c, x);
	call_out(c, y);
	call_int(c, outer);
	call_int(c, len);
	call_int(c, inner);
}

static int cumsum_axis(Graph *g, Node *n)
{
	Tensor *t = need_const(g, n, 1);
	need_dtype(g, n, 1, M_I64 | M_I32);
	if (tensor_nelem(t) != 1)
		node_error(g, n, "axis input must be a scalar, got %s", tensor_shape_str(g->ctx, t));
	return shape_axis(g, n, tensor_get_i(t, 0), n->in[0]->rank);
}

void shape_cumsum(Graph *g, Node *n)
{
	need_dtype(g, n, 0, M_NUM);
	cumsum_axis(g, n);
	static const char *const flags[] = {"exclusive", "reverse"};
	for (int i = 0; i < 2; i++) {
		int64_t v = attr_int(n, flags[i], 0);
		if (v != 0 && v != 1)
			node_error(g, n, "%s must be 0 or 1, got %lld", flags[i], (long long)v);
	}
	Tensor *x = n->in[0];
	shape_set(n->out[0], x->dtype, x->rank, x->dims);
}

void lower_cumsum(Graph *g, Node *n)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int axis = cumsum_axis(g, n);
	const Kernel *k = find_kernel(g, n, cumsum_kernels, COUNT(cumsum_kernels), OP_CUMSUM,
	                              x->dtype, x->dtype);
	Call *c = call_new(g, n, k->fn);
	call_in(c, x);
	call_out(c, y);
	call_int(c, prod(x->dims, 0, axis));
	call_int(c, x->rank ? x->dims[axis] : 1);
	call_int(c, x->rank ? prod(x->dims, axis + 1, x->rank) : 1);
	call_int(c, attr_int(n, "exclusive", 0));
	call_int(c, attr_int(n, "reverse", 0));
}
