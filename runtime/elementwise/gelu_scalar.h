/*
 * gelu_scalar.h -- tr_gelu_span in portable C99, for targets without
 * AVX-512 or AVX2+FMA (included by gelu.h, which chooses the path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_GELU_SCALAR_H
#define TOSTC_RT_ELEMENTWISE_GELU_SCALAR_H
#include "../common.h"

/*@ tr_gelu_scalar : tr_gelu_isa */
#if !defined(TR_GELU_VW)
/*
 * erf is a branch-free rational approximation (the one Eigen and XLA use:
 * odd degree-13 over even degree-8 polynomial on x clamped to [-4, 4];
 * |error| < 4e-7 against erf), so the loop vectorises instead of calling
 * libm's erff per element.
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
/* y (n) = gelu(x (n)), serial; y may be x (each block is read before it is
 * written) */
TR_FN void tr_gelu_span(const float *x, float *y, int64_t n)
{
	int64_t i = 0;
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
}
#endif
/*@end*/
#endif
