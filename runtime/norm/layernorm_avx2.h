/*
 * layernorm_avx2.h -- tr_ln_sums, the LayerNorm row sums, with AVX2: the
 * row's sum (mu = 0) or sum of squared deviations from mu as four
 * independent vector chains over blocks of 4 vectors, then one over the
 * remaining whole vectors, a tree of the lanes and a scalar tail.
 */
#ifndef TOSTC_RT_NORM_LAYERNORM_AVX2_H
#define TOSTC_RT_NORM_LAYERNORM_AVX2_H
#include "../gemm/config.h"

/*@ tr_ln_sums_avx2 : tr_gemm_isa */
#if defined(TR_GEMM_AVX2)
TR_FN float tr_ln_sums(const float *x, int64_t d, float mu, int sq)
{
	const __m256 m = _mm256_set1_ps(mu);
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	float t[8], s = 0.0f;
	int64_t j = 0;
#define TR_LN_TERM(v) (sq ? _mm256_mul_ps(_mm256_sub_ps((v), m), _mm256_sub_ps((v), m)) : (v))
	for (; j + 32 <= d; j += 32) {
		a0 = _mm256_add_ps(a0, TR_LN_TERM(_mm256_loadu_ps(x + j)));
		a1 = _mm256_add_ps(a1, TR_LN_TERM(_mm256_loadu_ps(x + j + 8)));
		a2 = _mm256_add_ps(a2, TR_LN_TERM(_mm256_loadu_ps(x + j + 16)));
		a3 = _mm256_add_ps(a3, TR_LN_TERM(_mm256_loadu_ps(x + j + 24)));
	}
	for (; j + 8 <= d; j += 8)
		a0 = _mm256_add_ps(a0, TR_LN_TERM(_mm256_loadu_ps(x + j)));
#undef TR_LN_TERM
	_mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
	for (; j < d; j++)
		s += sq ? (x[j] - mu) * (x[j] - mu) : x[j];
	return (((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]))) + s;
}
#endif
/*@end*/
#endif
