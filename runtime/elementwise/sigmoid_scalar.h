/*
 * sigmoid_scalar.h -- tr_sigmoid_span in portable C99 with libm's expf, for
 * targets without AVX-512 or AVX2+FMA (included by act.h, which chooses the
 * path).
 */
#ifndef TOSTC_RT_ELEMENTWISE_SIGMOID_SCALAR_H
#define TOSTC_RT_ELEMENTWISE_SIGMOID_SCALAR_H
#include "../gemm/config.h"

/*@ tr_sigmoid_scalar : tr_gemm_isa */
#if !defined(TR_GEMM_AVX512) && !defined(TR_GEMM_AVX2)
/* y (n) = sigmoid(x (n)) = 1 / (1 + exp(-x)), or x * sigmoid(x) when silu;
 * y may be x */
TR_FN void tr_sigmoid_span(const float *x, float *y, int64_t n, int silu)
{
	for (int64_t i = 0; i < n; i++) {
		float s = 1.0f / (1.0f + expf(-x[i]));
		y[i] = silu ? x[i] * s : s;
	}
}
#endif
/*@end*/
#endif
