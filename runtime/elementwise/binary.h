/*
 * binary.h -- elementwise kernels of two operands (arithmetic, comparison,
 * logic, Pow, Mod, BitShift, PRelu) and Where.  unary.h and reduce.h build on its macros.
 *
 * The kernels of elementwise/ come from a few generator macros (one per
 * kernel shape: binary, binary broadcast, unary, where, reduce, cumsum)
 * instantiated once per
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
#ifndef TOSTC_RT_ELEMENTWISE_BINARY_H
#define TOSTC_RT_ELEMENTWISE_BINARY_H
#include "../common.h"

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
#define TR_E_XOR(u, v) ((u) != (v))
/* Mod: fmod = 0 takes the divisor's sign (Python's %), fmod = 1 the
 * dividend's (C's %, fmodf); an integer divisor 0 gives 0 and so does -1
 * (INT_MIN % -1 overflows in C) */
#define TR_E_MODI(u, v) ((v) == 0 || (v) == -1 ? 0 : TR_MOD_SIGN((u) % (v), v))
#define TR_MOD_SIGN(r, v) ((r) != 0 && ((r) < 0) != ((v) < 0) ? (r) + (v) : (r))
#define TR_E_FMODI(u, v) ((v) == 0 || (v) == -1 ? 0 : (u) % (v))
#define TR_E_FMODF(u, v) fmodf((u), (v))
/* BitShift on the bits of a signed type as unsigned (ONNX defines it on
 * unsigned types): logical shifts, by as many bits as the type has or more
 * (or a negative count) gives 0 */
#define TR_E_SHL64(u, v) ((uint64_t)(v) < 64 ? (int64_t)((uint64_t)(u) << (v)) : 0)
#define TR_E_SHR64(u, v) ((uint64_t)(v) < 64 ? (int64_t)((uint64_t)(u) >> (v)) : 0)
#define TR_E_SHL32(u, v) ((uint32_t)(v) < 32 ? (int32_t)((uint32_t)(u) << (v)) : 0)
#define TR_E_SHR32(u, v) ((uint32_t)(v) < 32 ? (int32_t)((uint32_t)(u) >> (v)) : 0)
/* PRelu: u < 0 ? slope * u : u */
#define TR_E_PRELUF(u, v) ((u) < 0.0f ? (v) * (u) : (u))
#define TR_E_PRELU64(u, v) ((u) < 0 ? TR_E_MUL64(v, u) : (u))
#define TR_E_PRELU32(u, v) ((u) < 0 ? TR_E_MUL32(v, u) : (u))

/* y (n) = E (of i_): the rows of the kernels below, in blocks of 16 that gcc vectorises without alias
 * checks (each block's results are made before any is stored, so y may be
 * a or b) and a bounded tail */
#define TR_BC_ROW(TY, E)                                                        \
	do {                                                                    \
		TY t_[16];                                                      \
		int64_t j_ = 0;                                                 \
		for (; j_ + 16 <= n; j_ += 16) {                                \
			for (int l_ = 0; l_ < 16; l_++) {                       \
				int64_t i_ = j_ + l_;                           \
				t_[l_] = E;                                     \
			}                                                       \
			for (int l_ = 0; l_ < 16; l_++)                         \
				y[j_ + l_] = t_[l_];                            \
		}                                                               \
		for (int l_ = 0; l_ < 16 && j_ + l_ < n; l_++) {                \
			int64_t i_ = j_ + l_;                                   \
			y[i_] = E;                                              \
		}                                                               \
	} while (0)

/* a (n), b (n) -> y (n) */
#define TR_BINARY(NAME, TA, TB, TY, OP)                                         \
	TR_FN void NAME(const TA *a, const TB *b, TY *y, int64_t n)             \
	{                                                                       \
		TR_BC_ROW(TY, OP(a[i_], b[i_]));                                \
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
				TR_BC_ROW(TY, OP(ap[i_], bp[i_]));              \
			else if (va)                                            \
				TR_BC_ROW(TY, OP(ap[i_], bp[0]));               \
			else if (vb)                                            \
				TR_BC_ROW(TY, OP(ap[0], bp[i_]));               \
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
/*@ tr_xor_b8 : tr_binary */
TR_BINARY(tr_xor_b8, uint8_t, uint8_t, uint8_t, TR_E_XOR)
/*@end*/
/*@ tr_xor_b8_bc : tr_binary */
TR_BINARY_BC(tr_xor_b8_bc, uint8_t, uint8_t, uint8_t, TR_E_XOR)
/*@end*/

/* Mod (fmod 0: the divisor's sign; fmod 1: the dividend's), BitShift left
 * and right, PRelu (b: the slope, broadcast to a). */
/*@ tr_mod_i64 : tr_binary */
TR_BINARY(tr_mod_i64, int64_t, int64_t, int64_t, TR_E_MODI)
/*@end*/
/*@ tr_mod_i64_bc : tr_binary */
TR_BINARY_BC(tr_mod_i64_bc, int64_t, int64_t, int64_t, TR_E_MODI)
/*@end*/
/*@ tr_mod_i32 : tr_binary */
TR_BINARY(tr_mod_i32, int32_t, int32_t, int32_t, TR_E_MODI)
/*@end*/
/*@ tr_mod_i32_bc : tr_binary */
TR_BINARY_BC(tr_mod_i32_bc, int32_t, int32_t, int32_t, TR_E_MODI)
/*@end*/
/*@ tr_fmod_f32 : tr_binary */
TR_BINARY(tr_fmod_f32, float, float, float, TR_E_FMODF)
/*@end*/
/*@ tr_fmod_f32_bc : tr_binary */
TR_BINARY_BC(tr_fmod_f32_bc, float, float, float, TR_E_FMODF)
/*@end*/
/*@ tr_fmod_i64 : tr_binary */
TR_BINARY(tr_fmod_i64, int64_t, int64_t, int64_t, TR_E_FMODI)
/*@end*/
/*@ tr_fmod_i64_bc : tr_binary */
TR_BINARY_BC(tr_fmod_i64_bc, int64_t, int64_t, int64_t, TR_E_FMODI)
/*@end*/
/*@ tr_fmod_i32 : tr_binary */
TR_BINARY(tr_fmod_i32, int32_t, int32_t, int32_t, TR_E_FMODI)
/*@end*/
/*@ tr_fmod_i32_bc : tr_binary */
TR_BINARY_BC(tr_fmod_i32_bc, int32_t, int32_t, int32_t, TR_E_FMODI)
/*@end*/
/*@ tr_shift_left_i64 : tr_binary */
TR_BINARY(tr_shift_left_i64, int64_t, int64_t, int64_t, TR_E_SHL64)
/*@end*/
/*@ tr_shift_left_i64_bc : tr_binary */
TR_BINARY_BC(tr_shift_left_i64_bc, int64_t, int64_t, int64_t, TR_E_SHL64)
/*@end*/
/*@ tr_shift_left_i32 : tr_binary */
TR_BINARY(tr_shift_left_i32, int32_t, int32_t, int32_t, TR_E_SHL32)
/*@end*/
/*@ tr_shift_left_i32_bc : tr_binary */
TR_BINARY_BC(tr_shift_left_i32_bc, int32_t, int32_t, int32_t, TR_E_SHL32)
/*@end*/
/*@ tr_shift_right_i64 : tr_binary */
TR_BINARY(tr_shift_right_i64, int64_t, int64_t, int64_t, TR_E_SHR64)
/*@end*/
/*@ tr_shift_right_i64_bc : tr_binary */
TR_BINARY_BC(tr_shift_right_i64_bc, int64_t, int64_t, int64_t, TR_E_SHR64)
/*@end*/
/*@ tr_shift_right_i32 : tr_binary */
TR_BINARY(tr_shift_right_i32, int32_t, int32_t, int32_t, TR_E_SHR32)
/*@end*/
/*@ tr_shift_right_i32_bc : tr_binary */
TR_BINARY_BC(tr_shift_right_i32_bc, int32_t, int32_t, int32_t, TR_E_SHR32)
/*@end*/
/*@ tr_prelu_f32 : tr_binary */
TR_BINARY(tr_prelu_f32, float, float, float, TR_E_PRELUF)
/*@end*/
/*@ tr_prelu_f32_bc : tr_binary */
TR_BINARY_BC(tr_prelu_f32_bc, float, float, float, TR_E_PRELUF)
/*@end*/
/*@ tr_prelu_i64 : tr_binary */
TR_BINARY(tr_prelu_i64, int64_t, int64_t, int64_t, TR_E_PRELU64)
/*@end*/
/*@ tr_prelu_i64_bc : tr_binary */
TR_BINARY_BC(tr_prelu_i64_bc, int64_t, int64_t, int64_t, TR_E_PRELU64)
/*@end*/
/*@ tr_prelu_i32 : tr_binary */
TR_BINARY(tr_prelu_i32, int32_t, int32_t, int32_t, TR_E_PRELU32)
/*@end*/
/*@ tr_prelu_i32_bc : tr_binary */
TR_BINARY_BC(tr_prelu_i32_bc, int32_t, int32_t, int32_t, TR_E_PRELU32)
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
#endif
