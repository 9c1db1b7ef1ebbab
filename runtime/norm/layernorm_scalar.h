/*
 * layernorm_scalar.h -- tr_ln_sums, the LayerNorm row sums, in portable C99
 * (every path but AVX-512 and AVX2): the row's sum (mu = 0) or sum of
 * squared deviations from mu in 8 lanes that gcc vectorises, and a scalar
 * tail.
 */
#ifndef TOSTC_RT_NORM_LAYERNORM_SCALAR_H
#define TOSTC_RT_NORM_LAYERNORM_SCALAR_H
#include "../gemm/config.h"

/*@ tr_ln_sums_scalar : tr_gemm_isa */
#if !defined(TR_GEMM_AVX512) && !defined(TR_GEMM_AVX2)
TR_FN float tr_ln_sums(const float *x, int64_t d, float mu, int sq)
{
	/* 8 independent lanes: vectorises without reassociation flags */
	float l8[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0.0f;
	const int64_t d8 = d - d % 8;   /* separate bounds: keeps gcc's loop analysis sane */
	int64_t j;
	if (sq)
		for (j = 0; j < d8; j += 8)
			for (int l = 0; l < 8; l++)
				l8[l] += (x[j + l] - mu) * (x[j + l] - mu);
	else
		for (j = 0; j < d8; j += 8)
			for (int l = 0; l < 8; l++)
				l8[l] += x[j + l];
	for (j = d8; j < d; j++)
		s += sq ? (x[j] - mu) * (x[j] - mu) : x[j];
	for (int l = 0; l < 8; l++)
		s += l8[l];
	return s;
}
#endif
/*@end*/
#endif
