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
 * With AVX-512 or AVX2+FMA the GELU runs on whole vectors through intrinsics:
 * the same operations as TR_GELU1, except that a * p / q is a * p times a
 * Newton-refined reciprocal of q (within 2 ulp of the quotient; a vector
 * divide costs about as much as all the rest of the GELU).  Tails go through
 * the same vector code (masked, or via a local block), so an element's result
 * does not depend on where it sits in the row.
 */
#if !defined(TR_NO_SIMD) && defined(__AVX512F__)
#define TR_GELU_VW 16
#include <immintrin.h>
#define TR_GELU_V __m512
#define TR_GELU_S(c) _mm512_set1_ps(c)
#define TR_GELU_MUL _mm512_mul_ps
#define TR_GELU_ADD _mm512_add_ps
#define TR_GELU_FMA _mm512_fmadd_ps
#define TR_GELU_FNMA _mm512_fnmadd_ps
#define TR_GELU_MIN _mm512_min_ps
#define TR_GELU_MAX _mm512_max_ps
#define TR_GELU_RCP _mm512_rcp14_ps
#elif !defined(TR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define TR_GELU_VW 8
#include <immintrin.h>
#define TR_GELU_V __m256
#define TR_GELU_S(c) _mm256_set1_ps(c)
#define TR_GELU_MUL _mm256_mul_ps
#define TR_GELU_ADD _mm256_add_ps
#define TR_GELU_FMA _mm256_fmadd_ps
#define TR_GELU_FNMA _mm256_fnmadd_ps
#define TR_GELU_MIN _mm256_min_ps
#define TR_GELU_MAX _mm256_max_ps
#define TR_GELU_RCP _mm256_rcp_ps
#endif
#ifdef TR_GELU_VW
/* gelu of one vector; min(4, v) and max(-4, .) keep a NaN, as TR_GELU1's clamp */
static inline TR_GELU_V tr_gelu_vec(TR_GELU_V x)
{
	TR_GELU_V v = TR_GELU_MUL(x, TR_GELU_S(0.707106769f));
	TR_GELU_V a = TR_GELU_MAX(TR_GELU_S(-4.0f), TR_GELU_MIN(TR_GELU_S(4.0f), v));
	TR_GELU_V a2 = TR_GELU_MUL(a, a), p, q, r;
	p = TR_GELU_FMA(TR_GELU_S(-2.72614225801306e-10f), a2, TR_GELU_S(2.77068142495902e-08f));
	p = TR_GELU_FMA(p, a2, TR_GELU_S(-2.10102402082508e-06f));
	p = TR_GELU_FMA(p, a2, TR_GELU_S(-5.69250639462346e-05f));
	p = TR_GELU_FMA(p, a2, TR_GELU_S(-7.34990630326855e-04f));
	p = TR_GELU_FMA(p, a2, TR_GELU_S(-2.95459980854025e-03f));
	p = TR_GELU_FMA(p, a2, TR_GELU_S(-1.60960333262415e-02f));
	q = TR_GELU_FMA(TR_GELU_S(-1.45660718464996e-05f), a2, TR_GELU_S(-2.13374055278905e-04f));
	q = TR_GELU_FMA(q, a2, TR_GELU_S(-1.68282697438203e-03f));
	q = TR_GELU_FMA(q, a2, TR_GELU_S(-7.37332916720468e-03f));
	q = TR_GELU_FMA(q, a2, TR_GELU_S(-1.42647390514189e-02f));
	/* q is in [-0.0151, -0.0142]: no zero, no denormal; one Newton step
	 * r (2 - q r) takes rcp14's 2^-14 (rcp's 1.5 * 2^-12) to about 2^-23 */
	r = TR_GELU_RCP(q);
	r = TR_GELU_MUL(r, TR_GELU_FNMA(q, r, TR_GELU_S(2.0f)));
	return TR_GELU_MUL(TR_GELU_MUL(x, TR_GELU_ADD(TR_GELU_MUL(TR_GELU_MUL(a, p), r),
	                                              TR_GELU_S(1.0f))),
	                   TR_GELU_S(0.5f));
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
