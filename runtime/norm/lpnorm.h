/*
 * lpnorm.h -- LpNormalization: each vector along an axis divided by its L1
 * or L2 norm.
 */
#ifndef TOSTC_RT_NORM_LPNORM_H
#define TOSTC_RT_NORM_LPNORM_H
#include "layernorm_avx512.h"
#include "layernorm_avx2.h"
#include "layernorm_scalar.h"

/*@ tr_lp_norm_f32 : tr_common tr_ln_sums_avx512 tr_ln_sums_avx2 tr_ln_sums_scalar */
/*
 * x (outer, n, inner) -> y like x = x / norm, the norm over the n axis
 * (sum |x| for p 1, sqrt(sum x^2) for p 2); a vector whose norm is 0 gives
 * zeros (as onnxruntime).  norm: scratch of inner floats, the norms of one
 * outer slice, made a row at a time so the loops run along inner.
 */
TR_FN void tr_lp_norm_f32(const float *x, float *y, float *norm, int64_t outer, int64_t n,
                          int64_t inner, int64_t p)
{
	for (int64_t o = 0; o < outer; o++) {
		const float *xo = x + o * n * inner;
		float *yo = y + o * n * inner;
		if (inner == 1 && p != 1) {
			/* one contiguous vector: LayerNorm's row sums */
			norm[0] = tr_ln_sums(xo, n, 0.0f, 1);
		} else {
			for (int64_t j = 0; j < inner; j++)
				norm[j] = 0.0f;
			for (int64_t i = 0; i < n; i++) {
				const float *xr = xo + i * inner;
				if (p == 1)
					for (int64_t j = 0; j < inner; j++)
						norm[j] += fabsf(xr[j]);
				else
					for (int64_t j = 0; j < inner; j++)
						norm[j] += xr[j] * xr[j];
			}
		}
		if (p != 1)
			for (int64_t j = 0; j < inner; j++)
				norm[j] = sqrtf(norm[j]);
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 0; j < inner; j++)
				yo[i * inner + j] = norm[j] != 0.0f ? xo[i * inner + j] / norm[j] : 0.0f;
	}
}
/*@end*/
#endif
