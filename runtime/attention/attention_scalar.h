/*
 * attention_scalar.h -- the softmax rows of tr_attention_f32 in portable C99,
 * for targets without AVX-512 or AVX2+FMA (NEON, -DTR_NO_SIMD; included by
 * attention.h): blocks of 16 lanes through tr_att_exp16, loops that gcc
 * vectorises at -O2.
 */
#ifndef TOSTC_RT_ATTENTION_ATTENTION_SCALAR_H
#define TOSTC_RT_ATTENTION_ATTENTION_SCALAR_H
#include "../gemm/config.h"

/*@ tr_att_rows_scalar : tr_gemm_isa tr_att_exp */
#if !defined(TR_GEMM_AVX512) && !defined(TR_GEMM_AVX2)
/* max of s (n) */
TR_FN float tr_att_rowmax(const float *s, int64_t n)
{
	float mv[16], r;
	int64_t j = 0;
	for (int l = 0; l < 16; l++)
		mv[l] = -INFINITY;
	for (; j + 16 <= n; j += 16)
		for (int l = 0; l < 16; l++)
			mv[l] = s[j + l] > mv[l] ? s[j + l] : mv[l];
	for (int l = 0; l < 16 && j + l < n; l++)
		mv[l] = s[j + l] > mv[l] ? s[j + l] : mv[l];
	r = mv[0];
	for (int l = 1; l < 16; l++)
		r = mv[l] > r ? mv[l] : r;
	return r;
}

/* s (n) = exp(s - m) in place; returns their sum (16 lanes, added in a fixed order) */
TR_FN float tr_att_exprow(float *s, int64_t n, float m)
{
	float sv[16], e[16], t[16], r = 0.0f;
	int64_t j = 0;
	for (int l = 0; l < 16; l++)
		sv[l] = 0.0f;
	for (; j + 16 <= n; j += 16) {
		tr_att_exp16(e, s + j, m);
		/* separate loops: e's address escaped, so a store to s might be a
		 * store to e for all gcc knows */
		for (int l = 0; l < 16; l++)
			sv[l] += e[l];
		for (int l = 0; l < 16; l++)
			s[j + l] = e[l];
	}
	if (j < n) {
		/* the tail padded with -inf, whose exp is 0 */
		for (int l = 0; l < 16; l++)
			t[l] = j + l < n ? s[j + l] : -INFINITY;
		tr_att_exp16(e, t, m);
		for (int l = 0; l < 16; l++)
			sv[l] += e[l];
		for (int l = 0; l < 16 && j + l < n; l++)
			s[j + l] = e[l];
	}
	for (int l = 0; l < 16; l++)
		r += sv[l];
	return r;
}
#endif
/*@end*/
#endif
