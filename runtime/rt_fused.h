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
 * polynomial: u = |x| * NI / (4 sqrt 2), clamped below NI, picks interval
 * i = trunc(u) of NI equal pieces of [0, 4) in x / sqrt 2 (erf is 1 in float
 * beyond), and Horner's rule in t = u - i runs on coefficients that one
 * vector permute per coefficient looks up: 16 intervals of degree 5 with
 * AVX-512, 8 of degree 6 with AVX2 (the entries one permute holds).  That is
 * 8 or 9 multiplies and fmas per vector, against 17 and a reciprocal for the
 * rational erf above, and |error| < 8e-8 against erf.  The tables are made by
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
/* 16 intervals, degree 5: |error| <= 6.2e-08 against erf */
static const float tr_gelu_t16[6][16] = {
	{2.500757601e-09f, 2.763263881e-01f, 5.204998851e-01f, 7.111556530e-01f,
	 8.427007794e-01f, 9.229001403e-01f, 9.661051631e-01f, 9.866716862e-01f,
	 9.953222871e-01f, 9.985373020e-01f, 9.995930195e-01f, 9.998993874e-01f,
	 9.999778867e-01f, 9.999957085e-01f, 9.999992847e-01f, 9.999998808e-01f},
	{2.820946276e-01f, 2.650031149e-01f, 2.196952850e-01f, 1.607326716e-01f,
	 1.037769988e-01f, 5.913047120e-02f, 2.973270044e-02f, 1.319378801e-02f,
	 5.166732706e-03f, 1.785553177e-03f, 5.445512943e-04f, 1.465590904e-04f,
	 3.480914893e-05f, 7.295906471e-06f, 1.349487434e-06f, 2.202727103e-07f},
	{1.967016942e-06f, -1.655781642e-02f, -2.745768428e-02f, -3.013613261e-02f,
	 -2.594563551e-02f, -1.848042943e-02f, -1.115122717e-02f, -5.772739649e-03f,
	 -2.583218738e-03f, -1.004078076e-03f, -3.401242138e-04f, -1.006454841e-04f,
	 -2.606104135e-05f, -5.912913821e-06f, -1.176704245e-06f, -2.055607666e-07f},
	{-5.884862039e-03f, -4.851558246e-03f, -2.306966577e-03f, 4.128116416e-04f,
	 2.167844214e-03f, 2.627209295e-03f, 2.174573252e-03f, 1.410838682e-03f,
	 7.528699934e-04f, 3.381222195e-04f, 1.294639223e-04f, 4.260385322e-05f,
	 1.211507697e-05f, 2.988446340e-06f, 6.412593052e-07f, 1.199567379e-07f},
	{1.356769462e-05f, 5.354881287e-04f, 7.515257457e-04f, 6.009610370e-04f,
	 2.597582934e-04f, -4.230694321e-05f, -1.872723951e-04f, -1.923557429e-04f,
	 -1.335178094e-04f, -7.199729589e-05f, -3.169803676e-05f, -1.167326354e-05f,
	 -3.646040341e-06f, -9.744347835e-07f, -2.241831965e-07f, -4.459162284e-08f},
	{1.011015556e-04f, 4.426381929e-05f, -2.640141429e-05f, -6.514568668e-05f,
	 -5.963007425e-05f, -2.992569898e-05f, -2.249269528e-06f, 1.106252148e-05f,
	 1.215255088e-05f, 8.164627616e-06f, 4.137123142e-06f, 1.687214194e-06f,
	 5.705683748e-07f, 1.626755619e-07f, 3.951130267e-08f, 8.232814430e-09f},
};
/* gelu of one vector */
static inline __m512 tr_gelu_vec(__m512 x)
{
	__m512 u = _mm512_min_ps(_mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(2.82842712f)),
	                         _mm512_set1_ps(15.9999990f));
	__m512i i = _mm512_cvttps_epi32(u);
	__m512 t = _mm512_sub_ps(u, _mm512_cvtepi32_ps(i)), hx = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
#define TR_GELU_C16(k) _mm512_permutexvar_ps(i, _mm512_loadu_ps(tr_gelu_t16[k]))
	__m512 e = _mm512_fmadd_ps(TR_GELU_C16(5), t, TR_GELU_C16(4));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C16(3));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C16(2));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C16(1));
	e = _mm512_fmadd_ps(e, t, TR_GELU_C16(0));
#undef TR_GELU_C16
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
