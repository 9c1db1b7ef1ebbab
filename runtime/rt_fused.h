/*
 * rt_fused.h -- kernels of the small fused ops made by fuse_common.c.
 * (TSSA has its own header, rt_tssa.h.)
 */
#ifndef TOSTC_RT_FUSED_H
#define TOSTC_RT_FUSED_H
#include "rt_common.h"

/*@ tr_gelu_f32 : tr_common */
/* x (n) -> y (n) = x * (1 + erf(x / sqrt 2)) * 0.5, the exact GELU in the
 * association PyTorch exports; y may be x. */
TR_FN void tr_gelu_f32(const float *x, float *y, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		y[i] = (v * (erff(v / 1.41421354f) + 1.0f)) * 0.5f;
	}
}
/*@end*/
#endif
