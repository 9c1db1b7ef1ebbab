/*
 * rt_elementwise.h -- elementwise kernels, reductions, softmax, cumsum.
 *
 * The kernels come from a few generator macros (one per kernel shape:
 * binary, binary broadcast, unary, where, reduce) instantiated once per
 * (op, element type) in its own section, so a model copies only the kernels
 * it calls and every copied static function is used.  The per-element
 * operation is a small function-like macro (TR_E_*) that the generators call.
 *
 * Broadcasting is resolved by the compiler (op_elementwise.c): it collapses
 * the output shape by dropping size-1 axes and merging axes along which every
 * operand is contiguous or broadcast alike, then calls
 *   - the flat kernel  tr_<op>_<t>(a, b, y, n)            when a, b and y have
 *     the same shape, or
 *   - the strided one  tr_<op>_<t>_bc(a, b, y, rank, dims, sa, sb)  otherwise,
 *     with sa/sb the operands' element strides per output axis (0 where
 *     broadcast).  Its innermost axis runs as a tight loop in one of four
 *     forms (vector/scalar per operand), and only the outer axes step an
 *     odometer, so a row-vector bias becomes (rows, n) with b's row stride 0
 *     and a scalar becomes rank 1 with stride 0.
 * All elementwise kernels allow y == a (or y == b) when the shapes match.
 *
 * Integer arithmetic wraps (computed in unsigned types) instead of being
 * undefined on overflow; integer division truncates toward zero and gives 0
 * for a zero divisor.  Float min/max propagate NaN like numpy.
 */
#ifndef TOSTC_RT_ELEMENTWISE_H
#define TOSTC_RT_ELEMENTWISE_H
#include "rt_common.h"

/*@ tr_binary : tr_common */
/* Per-element operations (u, v: operands). */
#define TR_E_ADDF(u, v) ((u) + (v))
#define TR_E_SUBF(u, v) ((u) - (v))
#define TR_E_MULF(u, v) ((u) * (v))
#define TR_E_DIVF(u, v) ((u) / (v))
#define TR_E_ADD64(u, v) ((int64_t)((uint64_t)(u) + (uint64_t)(v)))
#define TR_E_SUB64(u, v) ((int64_t)((uint64_t)(u) - (uint64_t)(v)))
#define TR_E_MUL64(u, v) ((int64_t)((uint64_t)(u) * (uint64_t)(v)))
#define TR_E_DIV64(u, v) ((v) == 0 ? 0 : (v) == -1 ? TR_E_SUB64(0, u) : (u) / (v))
#define TR_E_ADD32(u, v) ((int32_t)((uint32_t)(u) + (uint32_t)(v)))
#define TR_E_SUB32(u, v) ((int32_t)((uint32_t)(u) - (uint32_t)(v)))
#define TR_E_MUL32(u, v) ((int32_t)((uint32_t)(u) * (uint32_t)(v)))
#define TR_E_DIV32(u, v) ((v) == 0 ? 0 : (v) == -1 ? TR_E_SUB32(0, u) : (u) / (v))
#define TR_E_MINF(u, v) ((isnan(u) || (u) < (v)) ? (u) : (v))
#define TR_E_MAXF(u, v) ((isnan(u) || (u) > (v)) ? (u) : (v))
#define TR_E_MINI(u, v) ((u) < (v) ? (u) : (v))
#define TR_E_MAXI(u, v) ((u) > (v) ? (u) : (v))
#define TR_E_POWF(u, v) powf((u), (v))
#define TR_E_POWFI(u, v) powf((u), (float)(v))
#define TR_E_POWIF(u, v) pow((double)(u), (double)(v))
#define TR_E_POWII(u, v) tr_ipow((int64_t)(u), (int64_t)(v))
#define TR_E_EQ(u, v) ((u) == (v))
#define TR_E_LT(u, v) ((u) < (v))
#define TR_E_LE(u, v) ((u) <= (v))
#define TR_E_GT(u, v) ((u) > (v))
#define TR_E_GE(u, v) ((u) >= (v))
#define TR_E_AND(u, v) ((u) && (v))
#define TR_E_OR(u, v) ((u) || (v))

/* a (n), b (n) -> y (n) */
#define TR_BINARY(NAME, TA, TB, TY, OP)                                         \
	TR_FN void NAME(const TA *a, const TB *b, TY *y, int64_t n)             \
	{                                                                       \
		for (int64_t i = 0; i < n; i++)                                 \
			y[i] = OP(a[i], b[i]);                                  \
	}

/* a, b broadcast to y (dims[0..rank)): element strides sa, sb per axis */
#define TR_BINARY_BC(NAME, TA, TB, TY, OP)                                      \
	TR_FN void NAME(const TA *a, const TB *b, TY *y, int64_t rank,          \
	                const int64_t *dims, const int64_t *sa, const int64_t *sb) \
	{                                                                       \
		int64_t n = dims[rank - 1], outer = 1, idx[8] = {0}, ia = 0, ib = 0; \
		int va = sa[rank - 1] != 0, vb = sb[rank - 1] != 0;             \
		for (int64_t d = 0; d < rank - 1; d++)                          \
			outer *= dims[d];                                       \
		for (int64_t o = 0; o < outer; o++, y += n) {                   \
			const TA *ap = a + ia;                                  \
			const TB *bp = b + ib;                                  \
			if (va && vb)                                           \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = OP(ap[i], bp[i]);                \
			else if (va)                                            \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = OP(ap[i], bp[0]);                \
			else if (vb)                                            \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = OP(ap[0], bp[i]);                \
			else                                                    \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = OP(ap[0], bp[0]);                \
			for (int64_t d = rank - 2; d >= 0; d--) {               \
				ia += sa[d];                                    \
				ib += sb[d];                                    \
				if (++idx[d] < dims[d])                         \
					break;                                  \
				ia -= sa[d] * dims[d];                          \
				ib -= sb[d] * dims[d];                          \
				idx[d] = 0;                                     \
			}                                                       \
		}                                                               \
	}
/*@end*/

/*@ tr_ipow : tr_common */
/* Integer power by squaring; wraps on overflow; b < 0 gives 0 unless |a| == 1. */
TR_FN int64_t tr_ipow(int64_t a, int64_t b)
{
	if (b < 0)
		return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
	uint64_t r = 1, x = (uint64_t)a;
	for (; b; b >>= 1, x *= x)
		if (b & 1)
			r *= x;
	return (int64_t)r;
}
/*@end*/

/*@ tr_add_f32 : tr_binary */
TR_BINARY(tr_add_f32, float, float, float, TR_E_ADDF)
/*@end*/
/*@ tr_add_f32_bc : tr_binary */
TR_BINARY_BC(tr_add_f32_bc, float, float, float, TR_E_ADDF)
/*@end*/
/*@ tr_add_i64 : tr_binary */
TR_BINARY(tr_add_i64, int64_t, int64_t, int64_t, TR_E_ADD64)
/*@end*/
/*@ tr_add_i64_bc : tr_binary */
TR_BINARY_BC(tr_add_i64_bc, int64_t, int64_t, int64_t, TR_E_ADD64)
/*@end*/
/*@ tr_add_i32 : tr_binary */
TR_BINARY(tr_add_i32, int32_t, int32_t, int32_t, TR_E_ADD32)
/*@end*/
/*@ tr_add_i32_bc : tr_binary */
TR_BINARY_BC(tr_add_i32_bc, int32_t, int32_t, int32_t, TR_E_ADD32)
/*@end*/
/*@ tr_sub_f32 : tr_binary */
TR_BINARY(tr_sub_f32, float, float, float, TR_E_SUBF)
/*@end*/
/*@ tr_sub_f32_bc : tr_binary */
TR_BINARY_BC(tr_sub_f32_bc, float, float, float, TR_E_SUBF)
/*@end*/
/*@ tr_sub_i64 : tr_binary */
TR_BINARY(tr_sub_i64, int64_t, int64_t, int64_t, TR_E_SUB64)
/*@end*/
/*@ tr_sub_i64_bc : tr_binary */
TR_BINARY_BC(tr_sub_i64_bc, int64_t, int64_t, int64_t, TR_E_SUB64)
/*@end*/
/*@ tr_sub_i32 : tr_binary */
TR_BINARY(tr_sub_i32, int32_t, int32_t, int32_t, TR_E_SUB32)
/*@end*/
/*@ tr_sub_i32_bc : tr_binary */
TR_BINARY_BC(tr_sub_i32_bc, int32_t, int32_t, int32_t, TR_E_SUB32)
/*@end*/
/*@ tr_mul_f32 : tr_binary */
TR_BINARY(tr_mul_f32, float, float, float, TR_E_MULF)
/*@end*/
/*@ tr_mul_f32_bc : tr_binary */
TR_BINARY_BC(tr_mul_f32_bc, float, float, float, TR_E_MULF)
/*@end*/
/*@ tr_mul_i64 : tr_binary */
TR_BINARY(tr_mul_i64, int64_t, int64_t, int64_t, TR_E_MUL64)
/*@end*/
/*@ tr_mul_i64_bc : tr_binary */
TR_BINARY_BC(tr_mul_i64_bc, int64_t, int64_t, int64_t, TR_E_MUL64)
/*@end*/
/*@ tr_mul_i32 : tr_binary */
TR_BINARY(tr_mul_i32, int32_t, int32_t, int32_t, TR_E_MUL32)
/*@end*/
/*@ tr_mul_i32_bc : tr_binary */
TR_BINARY_BC(tr_mul_i32_bc, int32_t, int32_t, int32_t, TR_E_MUL32)
/*@end*/
/*@ tr_div_f32 : tr_binary */
TR_BINARY(tr_div_f32, float, float, float, TR_E_DIVF)
/*@end*/
/*@ tr_div_f32_bc : tr_binary */
TR_BINARY_BC(tr_div_f32_bc, float, float, float, TR_E_DIVF)
/*@end*/
/*@ tr_div_i64 : tr_binary */
TR_BINARY(tr_div_i64, int64_t, int64_t, int64_t, TR_E_DIV64)
/*@end*/
/*@ tr_div_i64_bc : tr_binary */
TR_BINARY_BC(tr_div_i64_bc, int64_t, int64_t, int64_t, TR_E_DIV64)
/*@end*/
/*@ tr_div_i32 : tr_binary */
TR_BINARY(tr_div_i32, int32_t, int32_t, int32_t, TR_E_DIV32)
/*@end*/
/*@ tr_div_i32_bc : tr_binary */
TR_BINARY_BC(tr_div_i32_bc, int32_t, int32_t, int32_t, TR_E_DIV32)
/*@end*/
/*@ tr_min_f32 : tr_binary */
TR_BINARY(tr_min_f32, float, float, float, TR_E_MINF)
/*@end*/
/*@ tr_min_f32_bc : tr_binary */
TR_BINARY_BC(tr_min_f32_bc, float, float, float, TR_E_MINF)
/*@end*/
/*@ tr_min_i64 : tr_binary */
TR_BINARY(tr_min_i64, int64_t, int64_t, int64_t, TR_E_MINI)
/*@end*/
/*@ tr_min_i64_bc : tr_binary */
TR_BINARY_BC(tr_min_i64_bc, int64_t, int64_t, int64_t, TR_E_MINI)
/*@end*/
/*@ tr_min_i32 : tr_binary */
TR_BINARY(tr_min_i32, int32_t, int32_t, int32_t, TR_E_MINI)
/*@end*/
/*@ tr_min_i32_bc : tr_binary */
TR_BINARY_BC(tr_min_i32_bc, int32_t, int32_t, int32_t, TR_E_MINI)
/*@end*/
/*@ tr_max_f32 : tr_binary */
TR_BINARY(tr_max_f32, float, float, float, TR_E_MAXF)
/*@end*/
/*@ tr_max_f32_bc : tr_binary */
TR_BINARY_BC(tr_max_f32_bc, float, float, float, TR_E_MAXF)
/*@end*/
/*@ tr_max_i64 : tr_binary */
TR_BINARY(tr_max_i64, int64_t, int64_t, int64_t, TR_E_MAXI)
/*@end*/
/*@ tr_max_i64_bc : tr_binary */
TR_BINARY_BC(tr_max_i64_bc, int64_t, int64_t, int64_t, TR_E_MAXI)
/*@end*/
/*@ tr_max_i32 : tr_binary */
TR_BINARY(tr_max_i32, int32_t, int32_t, int32_t, TR_E_MAXI)
/*@end*/
/*@ tr_max_i32_bc : tr_binary */
TR_BINARY_BC(tr_max_i32_bc, int32_t, int32_t, int32_t, TR_E_MAXI)
/*@end*/

/* Pow: y has the base's type; the exponent may have another type. */
/*@ tr_pow_f32_f32 : tr_binary */
TR_BINARY(tr_pow_f32_f32, float, float, float, TR_E_POWF)
/*@end*/
/*@ tr_pow_f32_f32_bc : tr_binary */
TR_BINARY_BC(tr_pow_f32_f32_bc, float, float, float, TR_E_POWF)
/*@end*/
/*@ tr_pow_f32_i64 : tr_binary */
TR_BINARY(tr_pow_f32_i64, float, int64_t, float, TR_E_POWFI)
/*@end*/
/*@ tr_pow_f32_i64_bc : tr_binary */
TR_BINARY_BC(tr_pow_f32_i64_bc, float, int64_t, float, TR_E_POWFI)
/*@end*/
/*@ tr_pow_f32_i32 : tr_binary */
TR_BINARY(tr_pow_f32_i32, float, int32_t, float, TR_E_POWFI)
/*@end*/
/*@ tr_pow_f32_i32_bc : tr_binary */
TR_BINARY_BC(tr_pow_f32_i32_bc, float, int32_t, float, TR_E_POWFI)
/*@end*/
/*@ tr_pow_i64_f32 : tr_binary */
TR_BINARY(tr_pow_i64_f32, int64_t, float, int64_t, TR_E_POWIF)
/*@end*/
/*@ tr_pow_i64_f32_bc : tr_binary */
TR_BINARY_BC(tr_pow_i64_f32_bc, int64_t, float, int64_t, TR_E_POWIF)
/*@end*/
/*@ tr_pow_i64_i64 : tr_binary tr_ipow */
TR_BINARY(tr_pow_i64_i64, int64_t, int64_t, int64_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i64_i64_bc : tr_binary tr_ipow */
TR_BINARY_BC(tr_pow_i64_i64_bc, int64_t, int64_t, int64_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i64_i32 : tr_binary tr_ipow */
TR_BINARY(tr_pow_i64_i32, int64_t, int32_t, int64_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i64_i32_bc : tr_binary tr_ipow */
TR_BINARY_BC(tr_pow_i64_i32_bc, int64_t, int32_t, int64_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i32_f32 : tr_binary */
TR_BINARY(tr_pow_i32_f32, int32_t, float, int32_t, TR_E_POWIF)
/*@end*/
/*@ tr_pow_i32_f32_bc : tr_binary */
TR_BINARY_BC(tr_pow_i32_f32_bc, int32_t, float, int32_t, TR_E_POWIF)
/*@end*/
/*@ tr_pow_i32_i64 : tr_binary tr_ipow */
TR_BINARY(tr_pow_i32_i64, int32_t, int64_t, int32_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i32_i64_bc : tr_binary tr_ipow */
TR_BINARY_BC(tr_pow_i32_i64_bc, int32_t, int64_t, int32_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i32_i32 : tr_binary tr_ipow */
TR_BINARY(tr_pow_i32_i32, int32_t, int32_t, int32_t, TR_E_POWII)
/*@end*/
/*@ tr_pow_i32_i32_bc : tr_binary tr_ipow */
TR_BINARY_BC(tr_pow_i32_i32_bc, int32_t, int32_t, int32_t, TR_E_POWII)
/*@end*/

/* Comparisons and logic: y is bool (uint8_t 0/1). */
/*@ tr_equal_f32 : tr_binary */
TR_BINARY(tr_equal_f32, float, float, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_f32_bc : tr_binary */
TR_BINARY_BC(tr_equal_f32_bc, float, float, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_i64 : tr_binary */
TR_BINARY(tr_equal_i64, int64_t, int64_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_i64_bc : tr_binary */
TR_BINARY_BC(tr_equal_i64_bc, int64_t, int64_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_i32 : tr_binary */
TR_BINARY(tr_equal_i32, int32_t, int32_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_i32_bc : tr_binary */
TR_BINARY_BC(tr_equal_i32_bc, int32_t, int32_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_b8 : tr_binary */
TR_BINARY(tr_equal_b8, uint8_t, uint8_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_equal_b8_bc : tr_binary */
TR_BINARY_BC(tr_equal_b8_bc, uint8_t, uint8_t, uint8_t, TR_E_EQ)
/*@end*/
/*@ tr_less_f32 : tr_binary */
TR_BINARY(tr_less_f32, float, float, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_f32_bc : tr_binary */
TR_BINARY_BC(tr_less_f32_bc, float, float, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_i64 : tr_binary */
TR_BINARY(tr_less_i64, int64_t, int64_t, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_i64_bc : tr_binary */
TR_BINARY_BC(tr_less_i64_bc, int64_t, int64_t, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_i32 : tr_binary */
TR_BINARY(tr_less_i32, int32_t, int32_t, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_i32_bc : tr_binary */
TR_BINARY_BC(tr_less_i32_bc, int32_t, int32_t, uint8_t, TR_E_LT)
/*@end*/
/*@ tr_less_equal_f32 : tr_binary */
TR_BINARY(tr_less_equal_f32, float, float, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_less_equal_f32_bc : tr_binary */
TR_BINARY_BC(tr_less_equal_f32_bc, float, float, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_less_equal_i64 : tr_binary */
TR_BINARY(tr_less_equal_i64, int64_t, int64_t, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_less_equal_i64_bc : tr_binary */
TR_BINARY_BC(tr_less_equal_i64_bc, int64_t, int64_t, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_less_equal_i32 : tr_binary */
TR_BINARY(tr_less_equal_i32, int32_t, int32_t, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_less_equal_i32_bc : tr_binary */
TR_BINARY_BC(tr_less_equal_i32_bc, int32_t, int32_t, uint8_t, TR_E_LE)
/*@end*/
/*@ tr_greater_f32 : tr_binary */
TR_BINARY(tr_greater_f32, float, float, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_f32_bc : tr_binary */
TR_BINARY_BC(tr_greater_f32_bc, float, float, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_i64 : tr_binary */
TR_BINARY(tr_greater_i64, int64_t, int64_t, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_i64_bc : tr_binary */
TR_BINARY_BC(tr_greater_i64_bc, int64_t, int64_t, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_i32 : tr_binary */
TR_BINARY(tr_greater_i32, int32_t, int32_t, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_i32_bc : tr_binary */
TR_BINARY_BC(tr_greater_i32_bc, int32_t, int32_t, uint8_t, TR_E_GT)
/*@end*/
/*@ tr_greater_equal_f32 : tr_binary */
TR_BINARY(tr_greater_equal_f32, float, float, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_greater_equal_f32_bc : tr_binary */
TR_BINARY_BC(tr_greater_equal_f32_bc, float, float, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_greater_equal_i64 : tr_binary */
TR_BINARY(tr_greater_equal_i64, int64_t, int64_t, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_greater_equal_i64_bc : tr_binary */
TR_BINARY_BC(tr_greater_equal_i64_bc, int64_t, int64_t, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_greater_equal_i32 : tr_binary */
TR_BINARY(tr_greater_equal_i32, int32_t, int32_t, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_greater_equal_i32_bc : tr_binary */
TR_BINARY_BC(tr_greater_equal_i32_bc, int32_t, int32_t, uint8_t, TR_E_GE)
/*@end*/
/*@ tr_and_b8 : tr_binary */
TR_BINARY(tr_and_b8, uint8_t, uint8_t, uint8_t, TR_E_AND)
/*@end*/
/*@ tr_and_b8_bc : tr_binary */
TR_BINARY_BC(tr_and_b8_bc, uint8_t, uint8_t, uint8_t, TR_E_AND)
/*@end*/
/*@ tr_or_b8 : tr_binary */
TR_BINARY(tr_or_b8, uint8_t, uint8_t, uint8_t, TR_E_OR)
/*@end*/
/*@ tr_or_b8_bc : tr_binary */
TR_BINARY_BC(tr_or_b8_bc, uint8_t, uint8_t, uint8_t, TR_E_OR)
/*@end*/

/*@ tr_where : tr_common */
/* cond, a, b broadcast to y (dims[0..rank)), strides sc, sa, sb per axis */
#define TR_WHERE(NAME, T)                                                       \
	TR_FN void NAME(const uint8_t *c, const T *a, const T *b, T *y, int64_t rank, \
	                const int64_t *dims, const int64_t *sc, const int64_t *sa,   \
	                const int64_t *sb)                                      \
	{                                                                       \
		int64_t n = dims[rank - 1], outer = 1, idx[8] = {0};            \
		int64_t ic = 0, ia = 0, ib = 0;                                 \
		int64_t jc = sc[rank - 1], ja = sa[rank - 1], jb = sb[rank - 1]; \
		for (int64_t d = 0; d < rank - 1; d++)                          \
			outer *= dims[d];                                       \
		for (int64_t o = 0; o < outer; o++, y += n) {                   \
			const uint8_t *cp = c + ic;                             \
			const T *ap = a + ia, *bp = b + ib;                     \
			if (jc && ja && jb)                                     \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = cp[i] ? ap[i] : bp[i];           \
			else                                                    \
				for (int64_t i = 0; i < n; i++)                 \
					y[i] = cp[i * jc] ? ap[i * ja] : bp[i * jb]; \
			for (int64_t d = rank - 2; d >= 0; d--) {               \
				ic += sc[d];                                    \
				ia += sa[d];                                    \
				ib += sb[d];                                    \
				if (++idx[d] < dims[d])                         \
					break;                                  \
				ic -= sc[d] * dims[d];                          \
				ia -= sa[d] * dims[d];                          \
				ib -= sb[d] * dims[d];                          \
				idx[d] = 0;                                     \
			}                                                       \
		}                                                               \
	}
/*@end*/
/*@ tr_where_f32 : tr_where */
TR_WHERE(tr_where_f32, float)
/*@end*/
/*@ tr_where_i64 : tr_where */
TR_WHERE(tr_where_i64, int64_t)
/*@end*/
/*@ tr_where_i32 : tr_where */
TR_WHERE(tr_where_i32, int32_t)
/*@end*/
/*@ tr_where_b8 : tr_where */
TR_WHERE(tr_where_b8, uint8_t)
/*@end*/

/*@ tr_unary : tr_binary */
#define TR_E_NEGF(u) (-(u))
#define TR_E_NEG64(u) TR_E_SUB64(0, u)
#define TR_E_NEG32(u) TR_E_SUB32(0, u)
#define TR_E_ABSF(u) fabsf(u)
#define TR_E_ABS64(u) ((u) < 0 ? TR_E_SUB64(0, u) : (u))
#define TR_E_ABS32(u) ((u) < 0 ? TR_E_SUB32(0, u) : (u))
#define TR_E_SQRT(u) sqrtf(u)
#define TR_E_RECIP(u) (1.0f / (u))
#define TR_E_EXP(u) expf(u)
#define TR_E_LOG(u) logf(u)
#define TR_E_ERF(u) erff(u)
#define TR_E_TANH(u) tanhf(u)
#define TR_E_SIGMOID(u) (1.0f / (1.0f + expf(-(u))))
#define TR_E_RELU(u) ((u) < 0.0f ? 0.0f : (u))
#define TR_E_RELUI(u) ((u) < 0 ? 0 : (u))
#define TR_E_SIN(u) sinf(u)
#define TR_E_COS(u) cosf(u)
#define TR_E_FLOOR(u) floorf(u)
#define TR_E_CEIL(u) ceilf(u)
#define TR_E_NOT(u) (!(u))
#define TR_E_SAME(u) (u)          /* Cast: C conversion; float -> int truncates */
#define TR_E_TOBOOL(u) ((u) != 0)
/* x (n) -> y (n) */
#define TR_UNARY(NAME, TX, TY, OP)                                              \
	TR_FN void NAME(const TX *x, TY *y, int64_t n)                          \
	{                                                                       \
		for (int64_t i = 0; i < n; i++)                                 \
			y[i] = OP(x[i]);                                        \
	}
/*@end*/
/*@ tr_neg_f32 : tr_unary */
TR_UNARY(tr_neg_f32, float, float, TR_E_NEGF)
/*@end*/
/*@ tr_neg_i64 : tr_unary */
TR_UNARY(tr_neg_i64, int64_t, int64_t, TR_E_NEG64)
/*@end*/
/*@ tr_neg_i32 : tr_unary */
TR_UNARY(tr_neg_i32, int32_t, int32_t, TR_E_NEG32)
/*@end*/
/*@ tr_abs_f32 : tr_unary */
TR_UNARY(tr_abs_f32, float, float, TR_E_ABSF)
/*@end*/
/*@ tr_abs_i64 : tr_unary */
TR_UNARY(tr_abs_i64, int64_t, int64_t, TR_E_ABS64)
/*@end*/
/*@ tr_abs_i32 : tr_unary */
TR_UNARY(tr_abs_i32, int32_t, int32_t, TR_E_ABS32)
/*@end*/
/*@ tr_sqrt_f32 : tr_unary */
TR_UNARY(tr_sqrt_f32, float, float, TR_E_SQRT)
/*@end*/
/*@ tr_reciprocal_f32 : tr_unary */
TR_UNARY(tr_reciprocal_f32, float, float, TR_E_RECIP)
/*@end*/
/*@ tr_exp_f32 : tr_unary */
TR_UNARY(tr_exp_f32, float, float, TR_E_EXP)
/*@end*/
/*@ tr_log_f32 : tr_unary */
TR_UNARY(tr_log_f32, float, float, TR_E_LOG)
/*@end*/
/*@ tr_erf_f32 : tr_unary */
TR_UNARY(tr_erf_f32, float, float, TR_E_ERF)
/*@end*/
/*@ tr_tanh_f32 : tr_unary */
TR_UNARY(tr_tanh_f32, float, float, TR_E_TANH)
/*@end*/
/*@ tr_sigmoid_f32 : tr_unary */
TR_UNARY(tr_sigmoid_f32, float, float, TR_E_SIGMOID)
/*@end*/
/*@ tr_relu_f32 : tr_unary */
TR_UNARY(tr_relu_f32, float, float, TR_E_RELU)
/*@end*/
/*@ tr_relu_i64 : tr_unary */
TR_UNARY(tr_relu_i64, int64_t, int64_t, TR_E_RELUI)
/*@end*/
/*@ tr_relu_i32 : tr_unary */
TR_UNARY(tr_relu_i32, int32_t, int32_t, TR_E_RELUI)
/*@end*/
/*@ tr_sin_f32 : tr_unary */
TR_UNARY(tr_sin_f32, float, float, TR_E_SIN)
/*@end*/
/*@ tr_cos_f32 : tr_unary */
TR_UNARY(tr_cos_f32, float, float, TR_E_COS)
/*@end*/
/*@ tr_floor_f32 : tr_unary */
TR_UNARY(tr_floor_f32, float, float, TR_E_FLOOR)
/*@end*/
/*@ tr_ceil_f32 : tr_unary */
TR_UNARY(tr_ceil_f32, float, float, TR_E_CEIL)
/*@end*/
/*@ tr_not_b8 : tr_unary */
TR_UNARY(tr_not_b8, uint8_t, uint8_t, TR_E_NOT)
/*@end*/

/*@ tr_leaky_relu_f32 : tr_common */
/* x (n) -> y (n): x < 0 ? alpha * x : x */
TR_FN void tr_leaky_relu_f32(const float *x, float *y, int64_t n, float alpha)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}
/*@end*/

/* Clip: min(max(x, lo), hi), so lo > hi gives hi everywhere, as numpy.clip. */
/*@ tr_clip_f32 : tr_common */
/* x (n) -> y (n) */
TR_FN void tr_clip_f32(const float *x, float *y, int64_t n, float lo, float hi)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i] < lo ? lo : x[i];
		y[i] = v > hi ? hi : v;
	}
}
/*@end*/
/*@ tr_clip_i64 : tr_common */
/* x (n) -> y (n) */
TR_FN void tr_clip_i64(const int64_t *x, int64_t *y, int64_t n, int64_t lo, int64_t hi)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t v = x[i] < lo ? lo : x[i];
		y[i] = v > hi ? hi : v;
	}
}
/*@end*/
/*@ tr_clip_i32 : tr_common */
/* x (n) -> y (n); lo, hi are int32 values passed as int64 */
TR_FN void tr_clip_i32(const int32_t *x, int32_t *y, int64_t n, int64_t lo, int64_t hi)
{
	int32_t l = (int32_t)lo, h = (int32_t)hi;
	for (int64_t i = 0; i < n; i++) {
		int32_t v = x[i] < l ? l : x[i];
		y[i] = v > h ? h : v;
	}
}
/*@end*/

/* Cast x (n) -> y (n) between f32, i64, i32, bool; the same type copies. */
/*@ tr_cast_f32_f32 : tr_unary */
TR_UNARY(tr_cast_f32_f32, float, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_f32_i64 : tr_unary */
TR_UNARY(tr_cast_f32_i64, float, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_f32_i32 : tr_unary */
TR_UNARY(tr_cast_f32_i32, float, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_f32_b8 : tr_unary */
TR_UNARY(tr_cast_f32_b8, float, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_i64_f32 : tr_unary */
TR_UNARY(tr_cast_i64_f32, int64_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_i64 : tr_unary */
TR_UNARY(tr_cast_i64_i64, int64_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_i32 : tr_unary */
TR_UNARY(tr_cast_i64_i32, int64_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_b8 : tr_unary */
TR_UNARY(tr_cast_i64_b8, int64_t, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_i32_f32 : tr_unary */
TR_UNARY(tr_cast_i32_f32, int32_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_i64 : tr_unary */
TR_UNARY(tr_cast_i32_i64, int32_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_i32 : tr_unary */
TR_UNARY(tr_cast_i32_i32, int32_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_b8 : tr_unary */
TR_UNARY(tr_cast_i32_b8, int32_t, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_b8_f32 : tr_unary */
TR_UNARY(tr_cast_b8_f32, uint8_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_i64 : tr_unary */
TR_UNARY(tr_cast_b8_i64, uint8_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_i32 : tr_unary */
TR_UNARY(tr_cast_b8_i32, uint8_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_b8 : tr_unary */
TR_UNARY(tr_cast_b8_b8, uint8_t, uint8_t, TR_E_SAME)
/*@end*/

/*@ tr_reduce : tr_binary */
/*
 * Reductions: INIT is the identity, ACC(acc, x) folds one element in,
 * COMB(acc, partial) merges two partial results, FIN(acc, count) finishes
 * (mean divides, L2 takes the root).
 */
#define TR_R_SUMF(acc, x) ((acc) + (x))
#define TR_R_SQF(acc, x) ((acc) + (x) * (x))
#define TR_R_MAXF(acc, x) TR_E_MAXF(x, acc)
#define TR_R_SAME(acc, cnt) (acc)
#define TR_R_MEAN(acc, cnt) ((acc) / (float)(cnt))
#define TR_R_ROOT(acc, cnt) sqrtf(acc)
/* x (outer, r, inner) -> y (outer, inner), reducing the middle axis.  A
 * contiguous reduction (inner == 1) keeps 8 partial accumulators, combined
 * with COMB at the end, so the loop vectorises without reassociation flags. */
#define TR_REDUCE(NAME, T, INIT, ACC, COMB, FIN)                                \
	TR_FN void NAME(const T *x, T *y, int64_t outer, int64_t r, int64_t inner) \
	{                                                                       \
		for (int64_t o = 0; o < outer; o++, x += r * inner, y += inner) { \
			if (inner == 1) {                                       \
				T p[8], acc = INIT;                             \
				int64_t k, r8 = r - r % 8;                      \
				for (int j = 0; j < 8; j++)                     \
					p[j] = INIT;                            \
				for (k = 0; k < r8; k += 8)                     \
					for (int j = 0; j < 8; j++)             \
						p[j] = ACC(p[j], x[k + j]);     \
				for (k = r8; k < r; k++)                        \
					acc = ACC(acc, x[k]);                   \
				for (int j = 0; j < 8; j++)                     \
					acc = COMB(acc, p[j]);                  \
				y[0] = FIN(acc, r);                             \
				continue;                                       \
			}                                                       \
			for (int64_t i = 0; i < inner; i++)                     \
				y[i] = INIT;                                    \
			for (int64_t k = 0; k < r; k++)                         \
				for (int64_t i = 0; i < inner; i++)             \
					y[i] = ACC(y[i], x[k * inner + i]);     \
			for (int64_t i = 0; i < inner; i++)                     \
				y[i] = FIN(y[i], r);                            \
		}                                                               \
	}
/* x (dims[0..rank)) -> y: ys[d] is y's stride for axis d, 0 for a reduced axis */
#define TR_REDUCE_G(NAME, T, INIT, ACC, FIN)                                    \
	TR_FN void NAME(const T *x, T *y, int64_t rank, const int64_t *dims,      \
	                const int64_t *ys)                                      \
	{                                                                       \
		int64_t ny = 1, total = 1, idx[8] = {0}, iy = 0;                \
		for (int64_t d = 0; d < rank; d++) {                            \
			total *= dims[d];                                       \
			if (ys[d])                                              \
				ny *= dims[d];                                  \
		}                                                               \
		for (int64_t i = 0; i < ny; i++)                                \
			y[i] = INIT;                                            \
		int64_t n = dims[rank - 1], outer = n ? total / n : 0;          \
		for (int64_t o = 0; o < outer; o++, x += n) {                   \
			T *yp = y + iy;                                         \
			if (ys[rank - 1]) {                                     \
				for (int64_t i = 0; i < n; i++)                 \
					yp[i] = ACC(yp[i], x[i]);               \
			} else {                                                \
				T acc = yp[0];                                  \
				for (int64_t i = 0; i < n; i++)                 \
					acc = ACC(acc, x[i]);                   \
				yp[0] = acc;                                    \
			}                                                       \
			for (int64_t d = rank - 2; d >= 0; d--) {               \
				iy += ys[d];                                    \
				if (++idx[d] < dims[d])                         \
					break;                                  \
				iy -= ys[d] * dims[d];                          \
				idx[d] = 0;                                     \
			}                                                       \
		}                                                               \
		for (int64_t i = 0; i < ny; i++)                                \
			y[i] = FIN(y[i], total / ny);                           \
	}
/*@end*/
/*@ tr_reduce_sum_f32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_f32, float, 0.0f, TR_R_SUMF, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_f32_g, float, 0.0f, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i64 : tr_reduce */
TR_REDUCE(tr_reduce_sum_i64, int64_t, 0, TR_E_ADD64, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_i64_g, int64_t, 0, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_i32, int32_t, 0, TR_E_ADD32, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_i32_g, int32_t, 0, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_mean_f32 : tr_reduce */
TR_REDUCE(tr_reduce_mean_f32, float, 0.0f, TR_R_SUMF, TR_R_SUMF, TR_R_MEAN)
/*@end*/
/*@ tr_reduce_mean_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_mean_f32_g, float, 0.0f, TR_R_SUMF, TR_R_MEAN)
/*@end*/
/*@ tr_reduce_max_f32 : tr_reduce */
TR_REDUCE(tr_reduce_max_f32, float, -INFINITY, TR_R_MAXF, TR_R_MAXF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_f32_g, float, -INFINITY, TR_R_MAXF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i64 : tr_reduce */
TR_REDUCE(tr_reduce_max_i64, int64_t, INT64_MIN, TR_E_MAXI, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_i64_g, int64_t, INT64_MIN, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i32 : tr_reduce */
TR_REDUCE(tr_reduce_max_i32, int32_t, INT32_MIN, TR_E_MAXI, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_i32_g, int32_t, INT32_MIN, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l2_f32 : tr_reduce */
TR_REDUCE(tr_reduce_l2_f32, float, 0.0f, TR_R_SQF, TR_R_SUMF, TR_R_ROOT)
/*@end*/
/*@ tr_reduce_l2_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_l2_f32_g, float, 0.0f, TR_R_SQF, TR_R_ROOT)
/*@end*/

/*@ tr_softmax_f32 : tr_common */
/* x (outer, n, inner) -> y: exp(x - max) / sum over the n axis */
TR_FN void tr_softmax_f32(const float *x, float *y, int64_t outer, int64_t n, int64_t inner)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const float *xp = x + o * n * inner + i;
			float *yp = y + o * n * inner + i;
			float m = -INFINITY, s = 0.0f;
			for (int64_t k = 0; k < n; k++)
				m = TR_MAX(m, xp[k * inner]);
			for (int64_t k = 0; k < n; k++) {
				float e = expf(xp[k * inner] - m);
				yp[k * inner] = e;
				s += e;
			}
			float inv = 1.0f / s;
			for (int64_t k = 0; k < n; k++)
				yp[k * inner] *= inv;
		}
}
/*@end*/
/*@ tr_log_softmax_f32 : tr_common */
/* x (outer, n, inner) -> y: x - max - log(sum(exp(x - max))) over the n axis */
TR_FN void tr_log_softmax_f32(const float *x, float *y, int64_t outer, int64_t n, int64_t inner)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const float *xp = x + o * n * inner + i;
			float *yp = y + o * n * inner + i;
			float m = -INFINITY, s = 0.0f;
			for (int64_t k = 0; k < n; k++)
				m = TR_MAX(m, xp[k * inner]);
			for (int64_t k = 0; k < n; k++)
				s += expf(xp[k * inner] - m);
			float l = logf(s);  /* (x - m) - l: exact for large x, unlike x - (m + l) */
			for (int64_t k = 0; k < n; k++)
				yp[k * inner] = (xp[k * inner] - m) - l;
		}
}
/*@end*/

/*@ tr_cumsum : tr_binary */
/* x (outer, n, inner) -> y: running sums along n; exclusive leaves out the
 * current element, reverse runs from the end */
#define TR_CUMSUM(NAME, T, ADD)                                                 \
	TR_FN void NAME(const T *x, T *y, int64_t outer, int64_t n, int64_t inner, \
	                int64_t exclusive, int64_t reverse)                     \
	{                                                                       \
		for (int64_t o = 0; o < outer; o++)                             \
			for (int64_t i = 0; i < inner; i++) {                   \
				const T *xp = x + o * n * inner + i;            \
				T *yp = y + o * n * inner + i;                  \
				T acc = 0;                                      \
				for (int64_t j = 0; j < n; j++) {               \
					int64_t k = (reverse ? n - 1 - j : j) * inner; \
					T v = xp[k];                            \
					if (exclusive) {                        \
						yp[k] = acc;                    \
						acc = ADD(acc, v);              \
					} else {                                \
						acc = ADD(acc, v);              \
						yp[k] = acc;                    \
					}                                       \
				}                                               \
			}                                                       \
	}
/*@end*/
/*@ tr_cumsum_f32 : tr_cumsum */
TR_CUMSUM(tr_cumsum_f32, float, TR_E_ADDF)
/*@end*/
/*@ tr_cumsum_i64 : tr_cumsum */
TR_CUMSUM(tr_cumsum_i64, int64_t, TR_E_ADD64)
/*@end*/
/*@ tr_cumsum_i32 : tr_cumsum */
TR_CUMSUM(tr_cumsum_i32, int32_t, TR_E_ADD32)
/*@end*/

#endif
