/*
 * layernorm.h -- LayerNormalization over the last axis (tr_layernorm_f32),
 * also the first step of the fused MLP block (mlp/mlp.h).  The row sums
 * (tr_ln_sums) are per instruction set, layernorm_<isa>.h, on the GEMM's
 * choice of path (gemm/config.h).
 */
#ifndef TOSTC_RT_NORM_LAYERNORM_H
#define TOSTC_RT_NORM_LAYERNORM_H
#include "layernorm_avx512.h"
#include "layernorm_avx2.h"
#include "layernorm_scalar.h"

/*@ tr_layernorm_f32 : tr_common tr_ln_sums_avx512 tr_ln_sums_avx2 tr_ln_sums_scalar */
/*
 * x (rows, d) -> y (rows, d) = (x - mean) * rstd * scale + bias,
 * mean (rows), rstd (rows) = 1 / sqrt(var + eps) also written (outputs or scratch);
 * scale, bias (d), or (1) when their stride is 0; no bias when !has_bias.
 * Two passes over each row (mean, then centred variance: tr_ln_sums).
 */
TR_FN void tr_layernorm_f32(const float *x, const float *scale, const float *bias, float *y,
                            float *mean, float *rstd, int64_t rows, int64_t d, float eps,
                            int64_t scale_stride, int64_t has_bias, int64_t bias_stride)
{
	TR_OMP(omp parallel for schedule(static) if (rows * d >= TR_PAR_MIN))
	for (int64_t r = 0; r < rows; r++) {
		const float *xr = x + r * d;
		float *yr = y + r * d;
		int64_t j;
		float mu = tr_ln_sums(xr, d, 0.0f, 0) / (float)d;
		float v = tr_ln_sums(xr, d, mu, 1);
		float rs = 1.0f / sqrtf(v / (float)d + eps);
		mean[r] = mu;
		rstd[r] = rs;
		/* contiguous scale: blocks of 16 through a local array (y may be x;
		 * gcc -O2 left the plain loop scalar, its alias checks failing),
		 * element by element as the general loop, + 0.0f without a bias */
#define TR_LN_ROW(b)                                                                      \
	do {                                                                              \
		for (j = 0; j + 16 <= d; j += 16) {                                       \
			float t[16];                                                      \
			for (int l = 0; l < 16; l++)                                      \
				t[l] = (xr[j + l] - mu) * rs * scale[j + l] + (b);        \
			for (int l = 0; l < 16; l++)                                      \
				yr[j + l] = t[l];                                         \
		}                                                                         \
		for (int l = 0; l < 16 && j + l < d; l++) /* bounded: see tr_gelu_span */ \
			yr[j + l] = (xr[j + l] - mu) * rs * scale[j + l] + (b);           \
	} while (0)
		if (scale_stride == 1 && has_bias && bias_stride == 1) {
			TR_LN_ROW(bias[j + l]);
		} else if (scale_stride == 1 && !has_bias) {
			TR_LN_ROW(0.0f);
		} else
			for (j = 0; j < d; j++)
				yr[j] = (xr[j] - mu) * rs * scale[j * scale_stride] +
				        (has_bias ? bias[j * bias_stride] : 0.0f);
	}
}
#undef TR_LN_ROW
/*@end*/
#endif
