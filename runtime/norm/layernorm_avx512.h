/*
 * layernorm_avx512.h -- tr_ln_sums, the LayerNorm row sums, with AVX-512.
 */
#ifndef TOSTC_RT_NORM_LAYERNORM_AVX512_H
#define TOSTC_RT_NORM_LAYERNORM_AVX512_H
#include "../gemm/config.h"

/*@ tr_ln_sums_avx512 : tr_gemm_isa */
/*
 * The row's sum (mu = 0) or sum of squared deviations from mu, in this
 * path's own order: four independent vector chains over blocks of 4
 * vectors, then one over the remaining whole vectors, a masked tail, and a
 * tree of the lanes.  (One chain, as gcc makes of the portable code, is
 * latency-bound.)
 */
#if defined(TR_GEMM_AVX512)
TR_FN float tr_ln_sums(const float *x, int64_t d, float mu, int sq)
{
	const __m512 m = _mm512_set1_ps(mu);
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	int64_t j = 0;
#define TR_LN_TERM(v) (sq ? _mm512_mul_ps(_mm512_sub_ps((v), m), _mm512_sub_ps((v), m)) : (v))
	for (; j + 64 <= d; j += 64) {
		a0 = _mm512_add_ps(a0, TR_LN_TERM(_mm512_loadu_ps(x + j)));
		a1 = _mm512_add_ps(a1, TR_LN_TERM(_mm512_loadu_ps(x + j + 16)));
		a2 = _mm512_add_ps(a2, TR_LN_TERM(_mm512_loadu_ps(x + j + 32)));
		a3 = _mm512_add_ps(a3, TR_LN_TERM(_mm512_loadu_ps(x + j + 48)));
	}
	for (; j + 16 <= d; j += 16)
		a0 = _mm512_add_ps(a0, TR_LN_TERM(_mm512_loadu_ps(x + j)));
	if (j < d) {
		/* masked lanes load 0: their term is 0 for the sum, (0 - mu)^2 else: zeroed */
		__mmask16 k = (__mmask16)((1u << (d - j)) - 1u);
		a1 = _mm512_add_ps(a1, _mm512_maskz_mov_ps(k, TR_LN_TERM(_mm512_maskz_loadu_ps(k, x + j))));
	}
#undef TR_LN_TERM
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
#endif
/*@end*/
#endif
