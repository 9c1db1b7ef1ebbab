/*
 * attention_avx2.h -- the softmax rows of tr_attention_f32 with AVX2+FMA
 * (included by attention.h; the path follows the GEMM's, gemm/config.h).
 *
 * exp(x - m) for x - m <= 0 is the polynomial of tr_att_exp16
 * (attention.h) on whole vectors of 8; the tail (under 8 elements) is padded
 * with -inf (exp 0) through a small buffer, so it runs the same vector code.
 */
#ifndef TOSTC_RT_ATTENTION_ATTENTION_AVX2_H
#define TOSTC_RT_ATTENTION_ATTENTION_AVX2_H
#include "../gemm/config.h"

/*@ tr_att_rows_avx2 : tr_gemm_isa */
#if defined(TR_GEMM_AVX2)
/* exp(a) for 8 lanes of a = x - m <= 0 */
static inline __m256 tr_att_expv(__m256 a)
{
	const __m256 magic = _mm256_set1_ps(12582912.0f);   /* 1.5 * 2^23 */
	__m256 t = _mm256_max_ps(_mm256_set1_ps(-87.0f), a);   /* a NaN stays (second operand) */
	__m256 s = _mm256_fmadd_ps(t, _mm256_set1_ps(1.44269504f), magic);
	__m256 n = _mm256_sub_ps(s, magic);
	__m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693145751953125f), t);
	r = _mm256_fmadd_ps(n, _mm256_set1_ps(-1.428606765330187e-06f), r);
	__m256 p = _mm256_set1_ps(8.37312452e-3f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.16695364e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.166664720f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.499999851f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	__m256i b = _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(s), 23),
	                             _mm256_set1_epi32(0x3F800000));   /* 2^n */
	__m256 keep = _mm256_cmp_ps(a, _mm256_set1_ps(-87.0f), _CMP_NLT_UQ);
	return _mm256_and_ps(keep, _mm256_mul_ps(p, _mm256_castsi256_ps(b)));
}

/* max of s (n); NaN ignored, as by the other paths */
TR_FN float tr_att_rowmax(const float *s, int64_t n)
{
	__m256 mv = _mm256_set1_ps(-INFINITY);
	float t[8], r;
	int64_t j = 0;
	for (; j + 8 <= n; j += 8)
		mv = _mm256_max_ps(_mm256_loadu_ps(s + j), mv);
	_mm256_storeu_ps(t, mv);
	r = t[0];
	for (int l = 1; l < 8; l++)
		r = t[l] > r ? t[l] : r;
	for (; j < n; j++)
		r = s[j] > r ? s[j] : r;
	return r;
}

/* s (n) = exp(s - m) in place; returns their sum (8 lanes added in a fixed order) */
TR_FN float tr_att_exprow(float *s, int64_t n, float m)
{
	const __m256 mv = _mm256_set1_ps(m);
	__m256 acc = _mm256_setzero_ps();
	float t[8];
	int64_t j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 e = tr_att_expv(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
		_mm256_storeu_ps(s + j, e);
		acc = _mm256_add_ps(acc, e);
	}
	if (j < n) {
		for (int l = 0; l < 8; l++)
			t[l] = j + l < n ? s[j + l] : -INFINITY;
		__m256 e = tr_att_expv(_mm256_sub_ps(_mm256_loadu_ps(t), mv));
		acc = _mm256_add_ps(acc, e);
		_mm256_storeu_ps(t, e);
		for (int l = 0; j + l < n; l++)
			s[j + l] = t[l];
	}
	_mm256_storeu_ps(t, acc);
	return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
}
#endif
/*@end*/
#endif
