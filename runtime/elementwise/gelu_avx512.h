/*
 * gelu_avx512.h -- tr_gelu_span with AVX-512 intrinsics (included by gelu.h,
 * which chooses the path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_GELU_AVX512_H
#define TOSTC_RT_ELEMENTWISE_GELU_AVX512_H
#include "../common.h"

/*@ tr_gelu_avx512 : tr_gelu_isa */
#if defined(TR_GELU_VW) && TR_GELU_VW == 16
/*
 * The GELU on whole vectors, as 0.5 x + 0.5 x erf(x / sqrt 2) with
 * erf(|x| / sqrt 2) a piecewise polynomial: u = 4 |x| (exact), clamped below
 * 32, picks interval i = trunc(u) of 32 pieces of width 1/4 (|x| < 8; erf is
 * 1 in float beyond), and Horner's rule of degree 4 in t = u - i runs on
 * coefficients that one two-register permute per coefficient looks up: 7
 * multiplies and fmas per vector, against 17 and a reciprocal for the
 * rational erf (gelu_scalar.h), |error| < 9e-8 against erf.  The tables are
 * made by scripts/gelu_coeffs.py.  The tail is masked, so it goes through the
 * same vector code.  A NaN stays NaN (through 0.5 x; the clamp maps it to
 * the last interval).
 */
/* 32 intervals, degree 4: |error| <= 8.2e-08 against erf */
static const float tr_gelu_t32[5][32] = {
	{3.668195703e-08f, 1.974126846e-01f, 3.829249442e-01f, 5.467453003e-01f,
	 6.826894879e-01f, 7.887004018e-01f, 8.663855791e-01f, 9.198817015e-01f,
	 9.544997215e-01f, 9.755510688e-01f, 9.875806570e-01f, 9.940404892e-01f,
	 9.973002076e-01f, 9.988459349e-01f, 9.995347261e-01f, 9.998231530e-01f,
	 9.999366403e-01f, 9.999786019e-01f, 9.999932051e-01f, 9.999979734e-01f,
	 9.999994040e-01f, 9.999998212e-01f, 9.999999404e-01f, 1.000000000e+00f,
	 1.000000000e+00f, 1.000000000e+00f, 1.000000000e+00f, 1.000000000e+00f,
	 1.000000000e+00f, 1.000000000e+00f, 1.000000000e+00f, 1.000000000e+00f},
	{1.994692981e-01f, 1.933327317e-01f, 1.760321856e-01f, 1.505690962e-01f,
	 1.209863424e-01f, 9.132571518e-02f, 6.475980580e-02f, 4.313930869e-02f,
	 2.699575014e-02f, 1.586980373e-02f, 8.763971739e-03f, 4.546560813e-03f,
	 2.215730492e-03f, 1.014383393e-03f, 4.362523905e-04f, 1.762476750e-04f,
	 6.688952271e-05f, 2.384741674e-05f, 7.986793207e-06f, 2.512758556e-06f,
	 7.426355069e-07f, 2.061800615e-07f, 5.377285106e-08f, 1.317420484e-08f,
	 3.032006646e-09f, 6.555107568e-10f, 1.331288135e-10f, 2.539853571e-11f,
	 4.551382708e-12f, 7.668779891e-13f, 1.212682569e-13f, 1.907297122e-14f},
	{1.475965382e-05f, -6.030918099e-03f, -1.099802647e-02f, -1.411874034e-02f,
	 -1.513091475e-02f, -1.427883282e-02f, -1.215041522e-02f, -9.441873990e-03f,
	 -6.751088891e-03f, -4.463263322e-03f, -2.737393370e-03f, -1.561193960e-03f,
	 -8.294129511e-04f, -4.110129375e-04f, -1.901774522e-04f, -8.223118493e-05f,
	 -3.324868158e-05f, -1.257786425e-05f, -4.453773727e-06f, -1.476729381e-06f,
	 -4.586305806e-07f, -1.334541793e-07f, -3.639232915e-08f, -9.302169701e-09f,
	 -2.229114893e-09f, -5.008666815e-10f, -1.055380505e-10f, -2.085761945e-11f,
	 -3.863428241e-12f, -6.755769989e-13f, -1.097242550e-13f, -2.301749693e-14f},
	{-2.119364683e-03f, -1.918906230e-03f, -1.387432683e-03f, -6.788096507e-04f,
	 2.124023013e-05f, 5.613212707e-04f, 8.662888431e-04f, 9.420318529e-04f,
	 8.501873817e-04f, 6.714650663e-04f, 4.754651163e-04f, 3.058872535e-04f,
	 1.802513143e-04f, 9.781416884e-05f, 4.906395407e-05f, 2.281138768e-05f,
	 9.850732567e-06f, 3.957407444e-06f, 1.480921696e-06f, 5.167495942e-07f,
	 1.682761166e-07f, 5.117587776e-08f, 1.454342069e-08f, 3.864085940e-09f,
	 9.602726392e-10f, 2.232924540e-10f, 4.859756347e-11f, 9.904191182e-12f,
	 1.884359422e-12f, 3.438655068e-13f, 5.624690438e-14f, 2.027247151e-14f},
	{4.788200022e-05f, 1.293123642e-04f, 1.736281993e-04f, 1.726615301e-04f,
	 1.343337353e-04f, 7.698832633e-05f, 2.044738540e-05f, -2.139268690e-05f,
	 -4.352059477e-05f, -4.839261237e-05f, -4.224693112e-05f, -3.153258149e-05f,
	 -2.083064828e-05f, -1.239816447e-05f, -6.718756140e-06f, -3.337715043e-06f,
	 -1.527123800e-06f, -6.457084964e-07f, -2.529540097e-07f, -9.199074213e-08f,
	 -3.110432090e-08f, -9.790785072e-09f, -2.871992422e-09f, -7.857669515e-10f,
	 -2.006611544e-10f, -4.785872046e-11f, -1.066561509e-11f, -2.223036208e-12f,
	 -4.299219672e-13f, -8.241824378e-14f, -1.316779971e-14f, -8.565640161e-15f},
};
/* gelu of one vector */
static inline __m512 tr_gelu_vec(__m512 x)
{
	/* u = 4 |x| is exact, so t = u - i is too */
	__m512 u = _mm512_min_ps(_mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(4.0f)),
	                         _mm512_set1_ps(31.9999981f));
	__m512i i = _mm512_cvttps_epi32(u);
	__m512 t = _mm512_sub_ps(u, _mm512_cvtepi32_ps(i)), hx = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
#define TR_GELU_C32(k)                                                                    \
	_mm512_permutex2var_ps(_mm512_loadu_ps(tr_gelu_t32[k]), i, _mm512_loadu_ps(tr_gelu_t32[k] + 16))
	__m512 e = _mm512_fmadd_ps(TR_GELU_C32(4), t, TR_GELU_C32(3));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C32(2));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C32(1));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C32(0));
#undef TR_GELU_C32
	/* erf takes the sign of x */
	e = _mm512_castsi512_ps(_mm512_xor_si512(
		_mm512_castps_si512(e),
		_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
	return _mm512_fmadd_ps(hx, e, hx);
}
/* y (n) = gelu(x (n)), serial; y may be x (each block is read before it is
 * written) */
TR_FN void tr_gelu_span(const float *x, float *y, int64_t n)
{
	int64_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, tr_gelu_vec(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
		_mm512_mask_storeu_ps(y + i, m, tr_gelu_vec(_mm512_maskz_loadu_ps(m, x + i)));
	}
}
#endif
/*@end*/
#endif
