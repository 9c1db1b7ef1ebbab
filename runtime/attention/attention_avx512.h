/*
 * attention_avx512.h -- the softmax rows of tr_attention_f32 with AVX-512
 * (included by attention.h; the path follows the GEMM's, gemm/config.h).
 *
 * exp(x - m) for x - m <= 0 is the polynomial of tr_att_exp16
 * (attention.h) on whole vectors: 2^n p(r), n = round((x - m) / ln 2), r in
 * two parts, 0 below -87; NaN stays NaN.  Tails are masked loads and
 * stores, so every element goes through the same vector code.
 */
#ifndef TOSTC_RT_ATTENTION_ATTENTION_AVX512_H
#define TOSTC_RT_ATTENTION_ATTENTION_AVX512_H
#include "../gemm/config.h"

/*@ tr_att_rows_avx512 : tr_gemm_isa */
#if defined(TR_GEMM_AVX512)
/* exp(a) for 16 lanes of a = x - m <= 0 */
static inline __m512 tr_att_expv(__m512 a)
{
	const __m512 magic = _mm512_set1_ps(12582912.0f);   /* 1.5 * 2^23 */
	__m512 t = _mm512_max_ps(_mm512_set1_ps(-87.0f), a);   /* a NaN stays (second operand) */
	__m512 s = _mm512_fmadd_ps(t, _mm512_set1_ps(1.44269504f), magic);
	__m512 n = _mm512_sub_ps(s, magic);
	__m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693145751953125f), t);
	r = _mm512_fmadd_ps(n, _mm512_set1_ps(-1.428606765330187e-06f), r);
	__m512 p = _mm512_set1_ps(8.37312452e-3f);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16695364e-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.166664720f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.499999851f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	__m512i b = _mm512_add_epi32(_mm512_slli_epi32(_mm512_castps_si512(s), 23),
	                             _mm512_set1_epi32(0x3F800000));   /* 2^n */
	__mmask16 keep = _mm512_cmp_ps_mask(a, _mm512_set1_ps(-87.0f), _CMP_NLT_UQ);
	return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(b));
}

/* max of s (n); NaN ignored, as by the other paths */
TR_FN float tr_att_rowmax(const float *s, int64_t n)
{
	__m512 mv = _mm512_set1_ps(-INFINITY);
	int64_t j = 0;
	for (; j + 16 <= n; j += 16)
		mv = _mm512_max_ps(_mm512_loadu_ps(s + j), mv);
	if (j < n) {
		__mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
		mv = _mm512_max_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, s + j), mv);
	}
	return _mm512_reduce_max_ps(mv);
}

/* s (n) = exp(s - m) in place; returns their sum (one vector of lanes, reduced
 * in a fixed order) */
TR_FN float tr_att_exprow(float *s, int64_t n, float m)
{
	const __m512 mv = _mm512_set1_ps(m);
	__m512 acc = _mm512_setzero_ps();
	int64_t j = 0;
	for (; j + 16 <= n; j += 16) {
		__m512 e = tr_att_expv(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv));
		_mm512_storeu_ps(s + j, e);
		acc = _mm512_add_ps(acc, e);
	}
	if (j < n) {
		__mmask16 k = (__mmask16)((1u << (n - j)) - 1u);
		__m512 e = tr_att_expv(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), mv));
		e = _mm512_maskz_mov_ps(k, e);
		_mm512_mask_storeu_ps(s + j, k, e);
		acc = _mm512_add_ps(acc, e);
	}
	return _mm512_reduce_add_ps(acc);
}
#endif
/*@end*/
#endif
