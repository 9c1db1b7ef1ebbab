/*
 * rt_fused.h -- kernels of the small fused ops made by fuse_common.c.
 * (TSSA has its own header, rt_tssa.h.)
 */
#ifndef TOSTC_RT_FUSED_H
#define TOSTC_RT_FUSED_H
#include "rt_common.h"

/*@ tr_gelu_row : tr_common */
/*
 * GELU(x) = x * (1 + erf(x / sqrt 2)) * 0.5, the exact GELU in the
 * association PyTorch exports.  erf is a branch-free rational
 * approximation (the one Eigen and XLA use: odd degree-13 over even degree-8
 * polynomial on x clamped to [-4, 4]; |error| < 4e-7 against erf), so the
 * loop vectorises instead of calling libm's erff per element.
 */
/* one element of the GELU: out = gelu(xv) */
#define TR_GELU1(xv, out)                                                       \
	do {                                                                    \
		float v_ = (xv) * 0.707106769f;                                 \
		float a_ = v_ > 4.0f ? 4.0f : v_ < -4.0f ? -4.0f : v_;          \
		float a2_ = a_ * a_, p_, q_;                                    \
		p_ = -2.72614225801306e-10f;                                    \
		p_ = TR_FMA(p_, a2_, 2.77068142495902e-08f);                    \
		p_ = TR_FMA(p_, a2_, -2.10102402082508e-06f);                   \
		p_ = TR_FMA(p_, a2_, -5.69250639462346e-05f);                   \
		p_ = TR_FMA(p_, a2_, -7.34990630326855e-04f);                   \
		p_ = TR_FMA(p_, a2_, -2.95459980854025e-03f);                   \
		p_ = TR_FMA(p_, a2_, -1.60960333262415e-02f);                   \
		q_ = -1.45660718464996e-05f;                                    \
		q_ = TR_FMA(q_, a2_, -2.13374055278905e-04f);                   \
		q_ = TR_FMA(q_, a2_, -1.68282697438203e-03f);                   \
		q_ = TR_FMA(q_, a2_, -7.37332916720468e-03f);                   \
		q_ = TR_FMA(q_, a2_, -1.42647390514189e-02f);                   \
		(out) = ((xv) * (a_ * p_ / q_ + 1.0f)) * 0.5f;                  \
	} while (0)
/*
 * With AVX-512 or AVX2+FMA the GELU runs on whole vectors through intrinsics,
 * as 0.5 x + 0.5 x erf(x / sqrt 2) with erf(|x| / sqrt 2) a piecewise
 * polynomial: u = |x| / W, clamped below NI, picks interval i = trunc(u) of
 * NI equal pieces of width W (erf is 1 in float beyond), and Horner's rule in
 * t = u - i runs on coefficients that one vector permute per coefficient
 * looks up: with AVX-512 32 intervals of width 1/4 (|x| < 8; u = 4 |x| is
 * exact) of degree 4 through two-register permutes, with AVX2 8 intervals of
 * width sqrt(2) / 2 of degree 6 (the entries one permute holds).  That is 7
 * or 9 multiplies and fmas per vector, against 17 and a reciprocal for the
 * rational erf above, and |error| < 9e-8 against erf.  (The AVX-512 layout
 * was 16 intervals of degree 5: six permutes and five fmas where it is now
 * five and four, 0.88x the time per vector.)  The tables are made by
 * scripts/gelu_coeffs.py.  Tails go through the same vector code (masked, or
 * via a local block), so an element's result does not depend on where it
 * sits in the row.  A NaN stays NaN (through 0.5 x; the clamp maps it to the
 * last interval).
 */
#if !defined(TR_NO_SIMD) && defined(__AVX512F__)
#define TR_GELU_VW 16
#include <immintrin.h>
#elif !defined(TR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define TR_GELU_VW 8
#include <immintrin.h>
#endif
#if defined(TR_GELU_VW) && TR_GELU_VW == 16
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
#elif defined(TR_GELU_VW)
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
#endif
/* y (n) = gelu(x (n)), serial; y may be x (each block is read before it is
 * written) */
TR_FN void tr_gelu_span(const float *x, float *y, int64_t n)
{
	int64_t i = 0;
#if defined(TR_GELU_VW) && TR_GELU_VW == 16
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, tr_gelu_vec(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
		_mm512_mask_storeu_ps(y + i, m, tr_gelu_vec(_mm512_maskz_loadu_ps(m, x + i)));
	}
#elif defined(TR_GELU_VW)
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
#else
	/* blocks of 16 through a local array: fixed trip counts and no aliasing
	 * question (y may be x), so gcc vectorises them even at -O2 */
	for (; i + 16 <= n; i += 16) {
		float v[16];
		for (int l = 0; l < 16; l++)
			v[l] = x[i + l];
		for (int l = 0; l < 16; l++)
			TR_GELU1(v[l], v[l]);
		for (int l = 0; l < 16; l++)
			y[i + l] = v[l];
	}
	/* a tail bounded by 16 too: an open `i < n` loop trips GCC's
	 * -Waggressive-loop-optimizations at -O3 under constant propagation */
	for (int l = 0; l < 16 && i + l < n; l++)
		TR_GELU1(x[i + l], y[i + l]);
#endif
}
/* y (n) = gelu(y) in place: the GEMM epilogue's row helper */
TR_FN void tr_gelu_row(float *y, int64_t n)
{
	tr_gelu_span(y, y, n);
}
/*@end*/

/*@ tr_gelu_f32 : tr_gelu_row */
/* x (n) -> y (n) = gelu(x); y may be x.  Blocks of 1024 elements through
 * tr_gelu_span, so every element goes through the same code as in a GEMM
 * epilogue, whatever its position */
TR_FN void tr_gelu_f32(const float *x, float *y, int64_t n)
{
	int64_t nb = (n + 1023) / 1024;
	TR_OMP(omp parallel for schedule(static) if (n >= TR_PAR_MIN))
	for (int64_t b = 0; b < nb; b++)
		tr_gelu_span(x + b * 1024, y + b * 1024, TR_MIN(1024, n - b * 1024));
}
/*@end*/
#endif
