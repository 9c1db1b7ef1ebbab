/*
 * sigmoid_avx512.h -- tr_sigmoid_span with AVX-512 intrinsics (included by
 * act.h, which chooses the path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_SIGMOID_AVX512_H
#define TOSTC_RT_ELEMENTWISE_SIGMOID_AVX512_H
#include "../gemm/config.h"

/*@ tr_sigmoid_avx512 : tr_gemm_isa */
#if defined(TR_GEMM_AVX512)
/*
 * exp(x) for x clamped to [-88, 88]: x = n ln 2 + r with n = round(x / ln 2)
 * and ln 2 in two parts (r exact to float rounding), exp(r) by Cephes'
 * degree-7 polynomial on |r| <= ln 2 / 2, times 2^n by scalef: within 2 ulp
 * of expf there.
 */
static inline __m512 tr_exp_vec(__m512 x)
{
	x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(88.0f));
	__m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
	                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
	__m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r, _mm512_set1_ps(1.3981999507e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
	p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
	return _mm512_scalef_ps(p, n);
}
/* sigmoid(x) = 1 / (1 + exp(-x)), times x when silu; a NaN stays NaN */
static inline __m512 tr_sigmoid_vec(__m512 x, int silu)
{
	__m512 s = _mm512_div_ps(_mm512_set1_ps(1.0f),
	                         _mm512_add_ps(_mm512_set1_ps(1.0f), tr_exp_vec(_mm512_sub_ps(_mm512_setzero_ps(), x))));
	if (silu)
		s = _mm512_mul_ps(x, s);
	return _mm512_mask_mov_ps(s, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}
/* y (n) = sigmoid(x (n)), or x * sigmoid(x) when silu; y may be x */
TR_FN void tr_sigmoid_span(const float *x, float *y, int64_t n, int silu)
{
	int64_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, tr_sigmoid_vec(_mm512_loadu_ps(x + i), silu));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
		_mm512_mask_storeu_ps(y + i, m, tr_sigmoid_vec(_mm512_maskz_loadu_ps(m, x + i), silu));
	}
}
#endif
/*@end*/
#endif
