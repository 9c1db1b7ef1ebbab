/*
 * cast_any.h -- Cast to and from the 8- and 16-bit element types (int8,
 * uint8, float16, bfloat16), from and to every element type, in one kernel:
 * the casts among float, int64, int32 and bool have a kernel each
 * (unary.h).  Element types are the TR_T_* codes below.
 *
 * Rules: a float (float16 and bfloat16 widened exactly) to an integer type
 * truncates toward zero and saturates to the type's range, NaN gives 0 (as
 * the float -> int64 cast in unary.h); an integer to a narrower integer type
 * keeps its low bits (two's complement, as numpy's astype); anything to bool
 * is != 0; to float16 and bfloat16 rounds to nearest, ties to even
 * (quant/half.h), through float.
 */
#ifndef TOSTC_RT_ELEMENTWISE_CAST_ANY_H
#define TOSTC_RT_ELEMENTWISE_CAST_ANY_H
#include "../quant/half.h"

/*@ tr_cast_any : tr_half */
enum { TR_T_F32, TR_T_I64, TR_T_I32, TR_T_B8, TR_T_I8, TR_T_U8, TR_T_F16, TR_T_BF16 };

/* element i of x (type t) as a float: 1, as an int64: 0 in *isf */
static inline int tr_cast_read(const void *x, int64_t t, int64_t i, float *f, int64_t *v)
{
	switch (t) {
	case TR_T_F32: *f = ((const float *)x)[i]; return 1;
	case TR_T_F16: *f = tr_f16_to_f32(((const uint16_t *)x)[i]); return 1;
	case TR_T_BF16: *f = tr_bf16_to_f32(((const uint16_t *)x)[i]); return 1;
	case TR_T_I64: *v = ((const int64_t *)x)[i]; return 0;
	case TR_T_I32: *v = ((const int32_t *)x)[i]; return 0;
	case TR_T_I8: *v = ((const int8_t *)x)[i]; return 0;
	default: *v = ((const uint8_t *)x)[i]; return 0;   /* bool, uint8 */
	}
}

/* a float truncated toward zero and saturated to [lo, hi]; NaN -> 0 */
static inline int64_t tr_cast_sat(float f, int64_t lo, int64_t hi)
{
	if (f != f)
		return 0;
	if ((double)f <= (double)lo)
		return lo;
	if ((double)f >= (double)hi)   /* (double)INT64_MAX is 2^63: no overflow below */
		return hi;
	return (int64_t)f;
}

/* x (n) of type from -> y (n) of type to */
TR_FN void tr_cast_any(const void *x, void *y, int64_t n, int64_t from, int64_t to)
{
	for (int64_t i = 0; i < n; i++) {
		float f = 0.0f;
		int64_t v = 0;
		int isf = tr_cast_read(x, from, i, &f, &v);
		uint64_t u = (uint64_t)v;   /* low bits of v, without signed overflow */
		switch (to) {
		case TR_T_F32: ((float *)y)[i] = isf ? f : (float)v; break;
		case TR_T_F16: ((uint16_t *)y)[i] = tr_f32_to_f16(isf ? f : (float)v); break;
		case TR_T_BF16: ((uint16_t *)y)[i] = tr_f32_to_bf16(isf ? f : (float)v); break;
		case TR_T_B8: ((uint8_t *)y)[i] = isf ? f != 0.0f : v != 0; break;
		case TR_T_I64:
			((int64_t *)y)[i] = isf ? tr_cast_sat(f, INT64_MIN, INT64_MAX) : v;
			break;
		case TR_T_I32:
			if (isf)
				((int32_t *)y)[i] = (int32_t)tr_cast_sat(f, INT32_MIN, INT32_MAX);
			else
				((int32_t *)y)[i] = (int32_t)(u & 0x80000000u ? -(int64_t)(0x100000000ull - (u & 0xffffffffu)) : (int64_t)(u & 0x7fffffffu));
			break;
		case TR_T_I8:
			if (isf)
				((int8_t *)y)[i] = (int8_t)tr_cast_sat(f, -128, 127);
			else
				((int8_t *)y)[i] = (int8_t)((int)(u & 0xffu) - (u & 0x80u ? 256 : 0));
			break;
		default:   /* uint8 */
			((uint8_t *)y)[i] = (uint8_t)(isf ? tr_cast_sat(f, 0, 255) : (int64_t)(u & 0xffu));
			break;
		}
	}
}
/*@end*/
#endif
