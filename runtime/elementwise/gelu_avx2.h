/*
 * gelu_avx2.h -- tr_gelu_span with AVX2+FMA intrinsics (included by gelu.h,
 * which chooses the path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_GELU_AVX2_H
#define TOSTC_RT_ELEMENTWISE_GELU_AVX2_H
#include "../common.h"

/*@ tr_gelu_avx2 : tr_gelu_isa */
#if defined(TR_GELU_VW) && TR_GELU_VW == 8
/*
 * As gelu_avx512.h, on 8 intervals of width sqrt(2) / 2 of degree 6 (the
 * entries one permute holds): u = sqrt(2) |x| clamped below 8, 9 multiplies
 * and fmas per vector.  The tail goes through a local block, so it takes the
 * same vector code.
 */
/* 8 intervals, degree 6: |error| <= 7.7e-08 against erf */
static const float tr_gelu_t8[7][8] = {
	{-1.615192602e-08f, 5.204998851e-01f, 8.427007794e-01f, 9.661051631e-01f,
	 9.953222871e-01f, 9.995930195e-01f, 9.999778867e-01f, 9.999992847e-01f},
	{5.641912222e-01f, 4.393896759e-01f, 2.075533122e-01f, 5.946570635e-02f,
	 1.033357624e-02f, 1.089081634e-03f, 6.960899191e-05f, 2.697918944e-06f},
	{-2.646214853e-05f, -1.098220721e-01f, -1.037694439e-01f, -4.460788146e-02f,
	 -1.033491362e-02f, -1.360456576e-03f, -1.041522773e-04f, -4.694728432e-06f},
	{-4.685183614e-02f, -1.845991425e-02f, 1.724784449e-02f, 1.739827357e-02f,
	 6.037132815e-03f, 1.037908369e-03f, 9.685289842e-05f, 5.098976089e-06f},
	{-4.895092570e-04f, 1.186439395e-02f, 4.478094168e-03f, -2.942721825e-03f,
	 -2.182533033e-03f, -5.221007741e-04f, -5.991174476e-05f, -3.652570967e-06f},
	{4.291217774e-03f, -3.558318131e-04f, -2.427298110e-03f, -2.376469201e-04f,
	 4.609528114e-04f, 1.664877927e-04f, 2.322667569e-05f, 1.601371764e-06f},
	{-6.146999076e-04f, -4.153567133e-04f, 3.218396450e-04f, 1.413983555e-04f,
	 -4.343070759e-05f, -2.606016460e-05f, -4.277475909e-06f, -3.233191137e-07f},
};
/* gelu of one vector */
static inline __m256 tr_gelu_vec(__m256 x)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 u = _mm256_min_ps(_mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(1.41421356f)),
	                         _mm256_set1_ps(7.99999952f));
	__m256i i = _mm256_cvttps_epi32(u);
	__m256 t = _mm256_sub_ps(u, _mm256_cvtepi32_ps(i)), hx = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
#define TR_GELU_C8(k) _mm256_permutevar8x32_ps(_mm256_loadu_ps(tr_gelu_t8[k]), i)
	__m256 e = _mm256_fmadd_ps(TR_GELU_C8(6), t, TR_GELU_C8(5));
	e = _mm256_fmadd_ps(e, t, TR_GELU_C8(4));
	e = _mm256_fmadd_ps(e, t, TR_GELU_C8(3));
	e = _mm256_fmadd_ps(e, t, TR_GELU_C8(2));
	e = _mm256_fmadd_ps(e, t, TR_GELU_C8(1));
	e = _mm256_fmadd_ps(e, t, TR_GELU_C8(0));
#undef TR_GELU_C8
	e = _mm256_xor_ps(e, _mm256_and_ps(sign, x));   /* erf takes the sign of x */
	return _mm256_fmadd_ps(hx, e, hx);
}
/* y (n) = gelu(x (n)), serial; y may be x (each block is read before it is
 * written) */
TR_FN void tr_gelu_span(const float *x, float *y, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, tr_gelu_vec(_mm256_loadu_ps(x + i)));
	if (i < n) {
		float t[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
		for (int l = 0; l < 8 && i + l < n; l++)
			t[l] = x[i + l];
		_mm256_storeu_ps(t, tr_gelu_vec(_mm256_loadu_ps(t)));
		for (int l = 0; l < 8 && i + l < n; l++)
			y[i + l] = t[l];
	}
}
#endif
/*@end*/
#endif
