/*
 * rt_fused.h -- kernels of the small fused ops made by fuse_common.c.
 * (TSSA has its own header, rt_tssa.h.)
 */
#ifndef TOSTC_RT_FUSED_H
#define TOSTC_RT_FUSED_H
#include "rt_common.h"

/*@ tr_gelu_f32 : tr_common */
/*
 * x (n) -> y (n) = x * (1 + erf(x / sqrt 2)) * 0.5, the exact GELU in the
 * association PyTorch exports; y may be x.  erf is a branch-free rational
 * approximation (the one Eigen and XLA use: odd degree-13 over even degree-8
 * polynomial on x clamped to [-4, 4]; |error| < 4e-7 against erf), so the
 * loop vectorises instead of calling libm's erff per element.
 */
TR_FN void tr_gelu_f32(const float *x, float *y, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i] * 0.707106769f;
		float a = v > 4.0f ? 4.0f : v < -4.0f ? -4.0f : v;
		float a2 = a * a, p, q;
		p = -2.72614225801306e-10f;
		p = p * a2 + 2.77068142495902e-08f;
		p = p * a2 + -2.10102402082508e-06f;
		p = p * a2 + -5.69250639462346e-05f;
		p = p * a2 + -7.34990630326855e-04f;
		p = p * a2 + -2.95459980854025e-03f;
		p = p * a2 + -1.60960333262415e-02f;
		q = -1.45660718464996e-05f;
		q = q * a2 + -2.13374055278905e-04f;
		q = q * a2 + -1.68282697438203e-03f;
		q = q * a2 + -7.37332916720468e-03f;
		q = q * a2 + -1.42647390514189e-02f;
		y[i] = (x[i] * (a * p / q + 1.0f)) * 0.5f;
	}
}
/*@end*/
#endif
