/*
 * test_quant.c -- unit tests for runtime/quant/ (half.h, quant.h) and
 * elementwise/cast_any.h, and for what compiler/ops/op_quant.c refuses.
 *
 * The kernel tests cover what the conformance cases reach only in part:
 * every float16 and bfloat16 bit pattern round-trips through float, ties of
 * both narrowings go to even, float16 subnormals and the overflow
 * threshold, NaN keeps its sign and stays quiet; quantisation ties,
 * saturation and NaN; the int32 wrap of the integer matmul; an all-zero
 * DynamicQuantizeLinear.  The graph tests build one node on constants and
 * run shape_infer: each refusal's message names the problem.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "tostc.h"
#include "elementwise/cast_any.h"
#include "quant/half.h"
#include "quant/quant.h"

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* every 16-bit pattern widens exactly and narrows back to itself (NaNs to a NaN) */
static void test_half_roundtrip(void)
{
	int bad16 = 0, badbf = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = tr_f16_to_f32((uint16_t)h), b = tr_bf16_to_f32((uint16_t)h);
		int nan16 = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu);
		int nanbf = (h & 0x7f80u) == 0x7f80u && (h & 0x7fu);
		if (nan16 ? !(f != f) || (tr_f32_to_f16(f) & 0x8000u) != (h & 0x8000u) ||
		                (tr_f32_to_f16(f) & 0x7e00u) != 0x7e00u
		          : tr_f32_to_f16(f) != h)
			bad16++;
		if (nanbf ? !(b != b) || (tr_f32_to_bf16(b) & 0xffc0u) != ((h & 0x8000u) | 0x7fc0u)
		          : tr_f32_to_bf16(b) != h || f32_bits(b) != h << 16)
			badbf++;
	}
	CU_ASSERT_EQUAL(bad16, 0);
	CU_ASSERT_EQUAL(badbf, 0);
	/* known values */
	CU_ASSERT_EQUAL(tr_f16_to_f32(0x3c00), 1.0f);
	CU_ASSERT_EQUAL(tr_f16_to_f32(0x0001), 5.9604644775390625e-8f);   /* 2^-24 */
	CU_ASSERT_EQUAL(tr_f16_to_f32(0x7bff), 65504.0f);
	CU_ASSERT(isinf(tr_f16_to_f32(0xfc00)) && tr_f16_to_f32(0xfc00) < 0);
}

static void test_half_rounding(void)
{
	/* float16: 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even (1); 1 + 3 * 2^-11
	 * goes up to 1 + 2^-9 */
	CU_ASSERT_EQUAL(tr_f32_to_f16(1.00048828125f), 0x3c00);
	CU_ASSERT_EQUAL(tr_f32_to_f16(1.00146484375f), 0x3c02);
	CU_ASSERT_EQUAL(tr_f32_to_f16(bits_f32(f32_bits(1.00048828125f) + 1)), 0x3c01);   /* above the tie */
	/* overflow: 65519 -> 65504, 65520 -> inf; -0 keeps its sign */
	CU_ASSERT_EQUAL(tr_f32_to_f16(65519.0f), 0x7bff);
	CU_ASSERT_EQUAL(tr_f32_to_f16(65520.0f), 0x7c00);
	CU_ASSERT_EQUAL(tr_f32_to_f16(-1e30f), 0xfc00);
	CU_ASSERT_EQUAL(tr_f32_to_f16(-0.0f), 0x8000);
	/* subnormals: 2^-25 is a tie between 0 and 2^-24: even (0); 3 * 2^-25 -> 2 * 2^-24;
	 * the largest subnormal rounds up into the smallest normal */
	CU_ASSERT_EQUAL(tr_f32_to_f16(2.98023223876953125e-8f), 0x0000);
	CU_ASSERT_EQUAL(tr_f32_to_f16(8.94069671630859375e-8f), 0x0002);
	CU_ASSERT_EQUAL(tr_f32_to_f16(6.1032e-5f), 0x0400);
	CU_ASSERT_EQUAL(tr_f32_to_f16(1e-10f), 0x0000);
	/* bfloat16: ties to even both ways, overflow to inf, NaN with its sign */
	CU_ASSERT_EQUAL(tr_f32_to_bf16(1.00390625f), 0x3f80);
	CU_ASSERT_EQUAL(tr_f32_to_bf16(1.01171875f), 0x3f82);
	CU_ASSERT_EQUAL(tr_f32_to_bf16(bits_f32(0x7f7fffffu)), 0x7f80);   /* FLT_MAX -> inf */
	CU_ASSERT_EQUAL(tr_f32_to_bf16(bits_f32(0xff800001u)) & 0xffc0u, 0xffc0u);
	CU_ASSERT_EQUAL(tr_f32_to_bf16(bits_f32(0x7f800001u)) & 0xffc0u, 0x7fc0u);
}

static void test_cast_any(void)
{
	/* float -> int8 / uint8: truncation, saturation, NaN -> 0 */
	const float x[6] = {-1000.0f, -1.9f, 1.9f, 127.5f, 1000.0f, NAN};
	int8_t y8[6];
	uint8_t u8[6];
	tr_cast_any(x, y8, 6, TR_T_F32, TR_T_I8);
	tr_cast_any(x, u8, 6, TR_T_F32, TR_T_U8);
	const int8_t w8[6] = {-128, -1, 1, 127, 127, 0};
	const uint8_t wu[6] = {0, 0, 1, 127, 255, 0};
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(y8[i], w8[i]);
		CU_ASSERT_EQUAL(u8[i], wu[i]);
	}
	/* int64 -> int8 / uint8 / int32 keep the low bits; float -> int64 saturates */
	const int64_t v[4] = {-129, 256 + 7, INT64_MIN, (int64_t)1 << 40};
	int8_t z8[4];
	int32_t z32[4];
	tr_cast_any(v, z8, 4, TR_T_I64, TR_T_I8);
	tr_cast_any(v, z32, 4, TR_T_I64, TR_T_I32);
	CU_ASSERT(z8[0] == 127 && z8[1] == 7 && z8[2] == 0 && z8[3] == 0);
	CU_ASSERT(z32[0] == -129 && z32[1] == 263 && z32[2] == 0 && z32[3] == 0);
	const float big[2] = {1e30f, -1e30f};
	int64_t w64[2];
	tr_cast_any(big, w64, 2, TR_T_F32, TR_T_I64);
	CU_ASSERT(w64[0] == INT64_MAX && w64[1] == INT64_MIN);
	/* uint8 -> bfloat16 -> float16: 255 exact in both */
	const uint8_t b = 255;
	uint16_t h, g;
	tr_cast_any(&b, &h, 1, TR_T_U8, TR_T_BF16);
	tr_cast_any(&h, &g, 1, TR_T_BF16, TR_T_F16);
	CU_ASSERT_EQUAL(h, 0x437f);
	CU_ASSERT_EQUAL(g, 0x5bf8);
}

static void test_quantize_kernels(void)
{
	/* scale 0.5: x / s = 2.5 -> 2, 3.5 -> 4, -2.5 -> -2; saturation; NaN -> zp */
	const float x[7] = {1.25f, 1.75f, -1.25f, 1000.0f, -1000.0f, NAN, 0.2f};
	const float s = 0.5f;
	const int8_t z8 = -3;
	const uint8_t zu = 250;
	int8_t y8[7];
	uint8_t yu[7];
	tr_quantize_f32_i8(x, &s, &z8, y8, 1, 1, 7);
	tr_quantize_f32_u8(x, &s, &zu, yu, 1, 1, 7);
	const int8_t w8[7] = {-1, 1, -5, 127, -128, -3, -3};
	const uint8_t wu[7] = {252, 254, 248, 255, 0, 250, 250};
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(y8[i], w8[i]);
		CU_ASSERT_EQUAL(yu[i], wu[i]);
	}
	/* per axis: x (2, 2, 2) along axis 1 with scales 1, 2 and zero points 0, 10 */
	const float xa[8] = {1, 2, 4, 6, -1, -2, -4, -6}, sa[2] = {1, 2};
	const int8_t za[2] = {0, 10};
	int8_t ya[8];
	tr_quantize_f32_i8(xa, sa, za, ya, 2, 2, 2);
	const int8_t wa[8] = {1, 2, 12, 13, -1, -2, 8, 7};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(ya[i], wa[i]);
	/* dequantize int32 extremes: the difference in 64 bits */
	const int32_t q[2] = {INT32_MIN, INT32_MAX}, zq = 0;
	const float one = 1.0f;
	float d[2];
	tr_dequantize_i32_f32(q, &one, &zq, d, 1, 1, 2);
	CU_ASSERT_EQUAL(d[0], -2147483648.0f);
	CU_ASSERT_EQUAL(d[1], 2147483648.0f);
	/* DynamicQuantizeLinear: all zeros -> scale 1, zp 0; all negative -> zp 255 */
	const float zeros[3] = {0, 0, 0}, neg[3] = {-1.0f, -0.5f, -2.55f};
	uint8_t dy[3], dz;
	float ds;
	tr_dynamic_quantize_u8(zeros, dy, &ds, &dz, 3);
	CU_ASSERT(ds == 1.0f && dz == 0 && dy[0] == 0 && dy[2] == 0);
	tr_dynamic_quantize_u8(neg, dy, &ds, &dz, 3);
	CU_ASSERT(ds == 2.55f / 255.0f && dz == 255 && dy[2] == 0 && dy[0] == 155);
}

static void test_integer_matmul(void)
{
	/* k = 40000 of (-128 - 127) * (-128 - 127) = 65025 sums to 2601000000,
	 * which wraps to 2601000000 - 2^32 */
	enum { K = 40000 };
	static int8_t a[K], b[K];
	for (int i = 0; i < K; i++)
		a[i] = b[i] = -128;
	const int8_t z = 127;
	int32_t y;
	tr_matmul_integer(a, b, &z, &z, &y, 1, K, 1, 0, NULL, NULL, NULL, 1, 1, 0, 0);
	CU_ASSERT_EQUAL(y, (int32_t)(2601000000LL - 4294967296LL));
	/* QLinearMatMul: acc * 0.5 = 2.5 -> 2, 3.5 -> 4, 127.5 -> 128 (ties to even) */
	const uint8_t qa[1] = {1}, qb[3] = {5, 7, 255}, zero = 0, yz = 0;
	const float as = 1.0f, bs = 0.5f, ys = 1.0f;
	uint8_t qy[3];
	tr_qlinear_matmul(qa, &as, &zero, qb, &bs, &zero, &ys, &yz, qy, 1, 1, 3, 0, NULL, NULL, NULL,
	                  0, 0, 0, 0, 0, 0);
	CU_ASSERT(qy[0] == 2 && qy[1] == 4 && qy[2] == 128);
}

/* ---- graph: refusals ---- */

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
	Node *n;
} Case;

static void case_init(Case *t, int opset)
{
	ctx_init(&t->c, "m.onnx");
	t->c.jmp = &t->jb;
	t->g = graph_new(&t->c);
	t->g->opset = opset;
}

/* a constant of dt and shape, every element v (bits of v for the 8-bit types) */
static Tensor *konst(Case *t, DType dt, int rank, const int64_t *dims, double v)
{
	Tensor *x = tensor_const(t->g, ctx_printf(&t->c, "k%d", t->g->ntensors), dt, rank, dims);
	for (int64_t i = 0; i < tensor_nelem(x); i++) {
		if (dt == DT_F32)
			((float *)x->data)[i] = (float)v;
		else if (dt == DT_I32)
			((int32_t *)x->data)[i] = (int32_t)v;
		else
			((uint8_t *)x->data)[i] = (uint8_t)(int)v;
	}
	return x;
}

static void add_node(Case *t, OpKind op, int nin, Tensor *const *in)
{
	Node *n = node_new(t->g, op, "n", nin, 1);
	memcpy(n->in, in, sizeof(Tensor *) * (size_t)nin);
	n->out[0] = tensor_new(t->g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	n->out[0]->producer = n;
	graph_add_node(t->g, n);
	t->n = n;
}

static void refused(Case *t, const char *part)
{
	volatile int rc = 0;   /* set after the longjmp */
	if (setjmp(t->jb))
		rc = t->c.errcode;
	else
		shape_infer(t->g);
	CU_ASSERT_EQUAL(rc, 1);
	if (!strstr(t->c.errmsg, part)) {
		fprintf(stderr, "\n  message: %s\n  wanted:  %s\n", t->c.errmsg, part);
		CU_FAIL("error message");
	}
	ctx_free(&t->c);
}

static void test_g_refusals(void)
{
	static const int64_t d23[2] = {2, 3}, d2[1] = {2}, d4[1] = {4};
	Case t;
	Tensor *in[8];
	/* a zero scale */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 0, NULL, 0.0);
	add_node(&t, OP_QUANTIZE_LINEAR, 2, in);
	refused(&t, "y_scale (input 1) [0] is 0");
	/* per-axis scales that do not fit the axis */
	case_init(&t, 13);
	in[0] = konst(&t, DT_I8, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 1, d2, 0.5);
	add_node(&t, OP_DEQUANTIZE_LINEAR, 2, in);
	refused(&t, "x_scale (input 1) has 2 values but axis 1 of x i8[2,3] has 3");
	/* per axis before opset 13 */
	case_init(&t, 10);
	in[0] = konst(&t, DT_F32, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 1, d23 + 1, 0.5);
	add_node(&t, OP_QUANTIZE_LINEAR, 2, in);
	refused(&t, "must be a scalar before opset 13");
	/* a zero point of another type than x */
	case_init(&t, 13);
	in[0] = konst(&t, DT_U8, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 0, NULL, 0.5);
	in[2] = konst(&t, DT_I8, 0, NULL, 0.0);
	add_node(&t, OP_DEQUANTIZE_LINEAR, 3, in);
	refused(&t, "x_zero_point is i8 but x is u8");
	/* int32 with a nonzero zero point */
	case_init(&t, 13);
	in[0] = konst(&t, DT_I32, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 0, NULL, 0.5);
	in[2] = konst(&t, DT_I32, 0, NULL, 3.0);
	add_node(&t, OP_DEQUANTIZE_LINEAR, 3, in);
	refused(&t, "an int32 x must have zero point 0");
	/* blocked quantisation */
	case_init(&t, 21);
	in[0] = konst(&t, DT_F32, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 0, NULL, 0.5);
	add_node(&t, OP_QUANTIZE_LINEAR, 2, in);
	node_add_attr(t.g, t.n, "block_size", AT_INT)->i = 2;
	refused(&t, "blocked quantisation (block_size 2) is not supported");
	/* MatMulInteger: a zero point per row of the wrong count */
	case_init(&t, 10);
	in[0] = konst(&t, DT_U8, 2, d23, 1.0);
	in[1] = konst(&t, DT_U8, 2, (const int64_t[]){3, 4}, 1.0);
	in[2] = konst(&t, DT_U8, 1, d4, 0.0);
	add_node(&t, OP_MATMUL_INTEGER, 3, in);
	refused(&t, "it must hold one value or one per row of a (2)");
	/* QLinearMatMul: b's scale per column, its zero point per tensor */
	case_init(&t, 10);
	in[0] = konst(&t, DT_U8, 2, d23, 1.0);
	in[1] = konst(&t, DT_F32, 0, NULL, 0.5);
	in[2] = konst(&t, DT_U8, 0, NULL, 0.0);
	in[3] = konst(&t, DT_U8, 2, (const int64_t[]){3, 4}, 1.0);
	in[4] = konst(&t, DT_F32, 1, d4, 0.5);
	in[5] = konst(&t, DT_U8, 0, NULL, 0.0);
	in[6] = konst(&t, DT_F32, 0, NULL, 0.5);
	in[7] = konst(&t, DT_U8, 0, NULL, 0.0);
	add_node(&t, OP_QLINEAR_MATMUL, 8, in);
	refused(&t, "b_scale has 4 values but b_zero_point 1");
}

void register_quant(void)
{
	CU_pSuite s = CU_add_suite("quant", NULL, NULL);
	CU_add_test(s, "float16, bfloat16: every pattern round-trips", test_half_roundtrip);
	CU_add_test(s, "float16, bfloat16: ties, subnormals, overflow, NaN", test_half_rounding);
	CU_add_test(s, "cast_any: saturation, low bits, NaN", test_cast_any);
	CU_add_test(s, "quantize, dequantize, dynamic: ties, saturation, NaN, zeros",
	            test_quantize_kernels);
	CU_add_test(s, "integer matmul: int32 wrap; requantisation ties", test_integer_matmul);
	CU_add_test(s, "graph: refusals", test_g_refusals);
}
