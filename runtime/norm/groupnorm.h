/*
 * groupnorm.h -- GroupNormalization and InstanceNormalization (a group per
 * channel): statistics over each group's channels and positions, then a
 * scale and bias per channel, or per group (GroupNormalization before opset
 * 21).  The sums are LayerNorm's (tr_ln_sums, per instruction set).
 */
#ifndef TOSTC_RT_NORM_GROUPNORM_H
#define TOSTC_RT_NORM_GROUPNORM_H
#include "layernorm_avx512.h"
#include "layernorm_avx2.h"
#include "layernorm_scalar.h"

/*@ tr_group_norm_f32 : tr_common tr_ln_sums_avx512 tr_ln_sums_avx2 tr_ln_sums_scalar */
/*
 * x (nb, groups, cg, s) -> y like x = (x - mean) / sqrt(var + eps) * scale + bias,
 * mean and var over each (cg, s) block (two passes: mean, then centred
 * variance); scale and bias (groups * cg), one per channel, or (groups) when
 * per_group.  y may be x.
 */
TR_FN void tr_group_norm_f32(const float *x, const float *scale, const float *bias, float *y,
                             int64_t nb, int64_t groups, int64_t cg, int64_t s, float eps,
                             int64_t per_group)
{
	int64_t d = cg * s;
	TR_OMP(omp parallel for schedule(static) if (nb * groups * d >= TR_PAR_MIN))
	for (int64_t r = 0; r < nb * groups; r++) {
		const float *xr = x + r * d;
		float *yr = y + r * d;
		int64_t gi = r % groups;
		float mu = d > 0 ? tr_ln_sums(xr, d, 0.0f, 0) / (float)d : 0.0f;
		float v = d > 0 ? tr_ln_sums(xr, d, mu, 1) / (float)d : 0.0f;
		float rs = 1.0f / sqrtf(v + eps);
		for (int64_t j = 0; j < cg; j++) {
			int64_t ch = per_group ? gi : gi * cg + j;
			float a = rs * scale[ch], b = bias[ch];
			for (int64_t q = 0; q < s; q++)
				yr[j * s + q] = (xr[j * s + q] - mu) * a + b;
		}
	}
}
/*@end*/
#endif
