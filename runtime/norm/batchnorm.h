/*
 * batchnorm.h -- BatchNormalization in inference mode, one scale and shift
 * per channel.
 */
#ifndef TOSTC_RT_NORM_BATCHNORM_H
#define TOSTC_RT_NORM_BATCHNORM_H
#include "../common.h"

/*@ tr_batchnorm_f32 : tr_common */
/* x (nb, c, s), scale/bias/mean/var (c) -> y (nb, c, s) =
 * (x - mean) / sqrt(var + eps) * scale + bias; y may be x */
TR_FN void tr_batchnorm_f32(const float *x, const float *scale, const float *bias,
                            const float *mean, const float *var, float *y, int64_t nb,
                            int64_t c, int64_t s, float eps)
{
	for (int64_t ci = 0; ci < c; ci++) {
		float a = scale[ci] / sqrtf(var[ci] + eps);
		float d = bias[ci] - mean[ci] * a;
		for (int64_t b = 0; b < nb; b++) {
			const float *xr = x + (b * c + ci) * s;
			float *yr = y + (b * c + ci) * s;
			for (int64_t q = 0; q < s; q++)
				yr[q] = xr[q] * a + d;
		}
	}
}
/*@end*/
#endif
