/*
 * sigmoid_avx2.h -- tr_sigmoid_span with AVX2+FMA intrinsics (included by
 * act.h, which chooses the path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_SIGMOID_AVX2_H
#define TOSTC_RT_ELEMENTWISE_SIGMOID_AVX2_H
#include "../gemm/config.h"

/*@ tr_sigmoid_avx2 : tr_gemm_isa */
#if defined(TR_GEMM_AVX2)
/*
 * exp(x) for x clamped to [-87, 88]: x = n ln 2 + r with n = round(x / ln 2)
 * and ln 2 in two parts, exp(r) by Cephes' degree-7 polynomial on |r| <=
 * ln 2 / 2, times 2^n made in the exponent bits (n in [-126, 127]): within
 * 2 ulp of expf there.
 */
static inline __m256 tr_exp_vec(__m256 x)
{
	x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
	__m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
	                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
	__m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
	return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}
/* sigmoid(x) = 1 / (1 + exp(-x)), times x when silu; a NaN stays NaN */
static inline __m256 tr_sigmoid_vec(__m256 x, int silu)
{
	__m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f),
	                         _mm256_add_ps(_mm256_set1_ps(1.0f), tr_exp_vec(_mm256_sub_ps(_mm256_setzero_ps(), x))));
	if (silu)
		s = _mm256_mul_ps(x, s);
	return _mm256_blendv_ps(s, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
/* y (n) = sigmoid(x (n)), or x * sigmoid(x) when silu; y may be x */
TR_FN void tr_sigmoid_span(const float *x, float *y, int64_t n, int silu)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, tr_sigmoid_vec(_mm256_loadu_ps(x + i), silu));
	if (i < n) {
		float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
		for (int l = 0; l < 8 && i + l < n; l++)
			t[l] = x[i + l];
		_mm256_storeu_ps(t, tr_sigmoid_vec(_mm256_loadu_ps(t), silu));
		for (int l = 0; l < 8 && i + l < n; l++)
			y[i + l] = t[l];
	}
}
#endif
/*@end*/
#endif
