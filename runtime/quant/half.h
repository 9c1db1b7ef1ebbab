/*
 * half.h -- IEEE binary16 (float16) and bfloat16 to and from float, one
 * element at a time; the casts, the quantisation kernels and the bf16 GEMM's
 * packing use them, and the compiler reads 16-bit constants with them.
 *
 * Both directions are exact or round to nearest, ties to even: a float16
 * or bfloat16 value widens to the float it is, and a float narrows to the
 * nearest one (overflow to infinity, float16 subnormals kept).  NaN stays
 * NaN (quiet), with its sign; no input is undefined behaviour.
 */
#ifndef TOSTC_RT_QUANT_HALF_H
#define TOSTC_RT_QUANT_HALF_H
#include "../common.h"

/*@ tr_half : tr_common */
/* a float's bits and back (a union: C99 allows reading the other member) */
typedef union {
	float f;
	uint32_t u;
} TrF32Bits;

/* bfloat16 bits -> float: the high 16 bits of the float */
static inline float tr_bf16_to_f32(uint16_t h)
{
	TrF32Bits v;
	v.u = (uint32_t)h << 16;
	return v.f;
}

/* float -> bfloat16 bits, to nearest, ties to even; NaN -> quiet NaN */
static inline uint16_t tr_f32_to_bf16(float f)
{
	TrF32Bits v;
	v.f = f;
	if ((v.u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((v.u >> 16) | 0x40u);
	return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

/* float16 bits -> float (exact, subnormals too) */
static inline float tr_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
	TrF32Bits v;
	if (e == 0x1f) {
		v.u = sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u);
	} else if (e != 0) {
		v.u = sign | ((e + 112u) << 23) | (m << 13);
	} else {
		/* zero or subnormal: m * 2^-24, exact in float */
		v.f = (float)m * 5.9604644775390625e-8f;
		v.u |= sign;
	}
	return v.f;
}

/* float -> float16 bits, to nearest, ties to even; beyond 65520 -> inf */
static inline uint16_t tr_f32_to_f16(float f)
{
	TrF32Bits v;
	v.f = f;
	uint32_t sign = (v.u >> 16) & 0x8000u, a = v.u & 0x7fffffffu;
	if (a > 0x7f800000u)
		return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
	if (a >= 0x477ff000u)   /* 65520 and up round to infinity */
		return (uint16_t)(sign | 0x7c00u);
	if (a < 0x38800000u) {
		/* a float16 subnormal (or 0): round |f| * 2^24 to an integer, ties to even;
		 * |f| < 2^-14, so the product is exact and below 1024 */
		TrF32Bits t;
		t.u = a;
		float s = t.f * 16777216.0f;
		uint32_t q = (uint32_t)s;
		float r = s - (float)q;
		if (r > 0.5f || (r == 0.5f && (q & 1u)))
			q++;
		return (uint16_t)(sign | q);
	}
	/* normal: drop 13 mantissa bits, to nearest, ties to even (a carry may
	 * move into the exponent, which is right) */
	uint32_t r = a - 0x38000000u;   /* rebias the exponent: 127 -> 15 */
	r = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
	return (uint16_t)(sign | r);
}
/*@end*/
#endif
