/*
 * micro_scalar.h -- the GEMM micro-kernel in portable C99, for every target
 * without one in intrinsics (and with -DTR_NO_SIMD): an 8 x TR_VW tile whose
 * accumulators are 8 local arrays of TR_VW floats, one vector register each
 * once gcc vectorises the fixed-count loops.  The contract of tr_gemm_micro
 * is in config.h.
 */
#ifndef TOSTC_RT_GEMM_MICRO_SCALAR_H
#define TOSTC_RT_GEMM_MICRO_SCALAR_H
#include "config.h"

/*@ tr_gemm_micro_scalar : tr_gemm_config */
#if defined(TR_GEMM_SCALAR)
/* copy NR floats (one row of a B strip) */
#define TR_GEMM_COPY_NR(d, s)                                                             \
	do {                                                                              \
		for (int j_ = 0; j_ < TR_GEMM_NR; j_++)                                   \
			(d)[j_] = (s)[j_];                                                \
	} while (0)
TR_NOINLINE TR_FN void tr_gemm_micro(int64_t kc, const float *restrict ap, int64_t ars, int64_t acs,
                                     const float *restrict bp, int64_t ldb, float *restrict y,
                                     int64_t ldy, float alpha, int acc)
{
	float c0[TR_GEMM_NR], c1[TR_GEMM_NR], c2[TR_GEMM_NR], c3[TR_GEMM_NR];
	float c4[TR_GEMM_NR], c5[TR_GEMM_NR], c6[TR_GEMM_NR], c7[TR_GEMM_NR];
	float *cs[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
	/* start from the p = 0 products, not from zero: a zeroing loop would be
	 * turned into memset calls that keep the accumulators in memory */
	for (int j = 0; j < TR_GEMM_NR; j++) {
		c0[j] = ap[0] * bp[j];
		c1[j] = ap[ars] * bp[j];
		c2[j] = ap[2 * ars] * bp[j];
		c3[j] = ap[3 * ars] * bp[j];
		c4[j] = ap[4 * ars] * bp[j];
		c5[j] = ap[5 * ars] * bp[j];
		c6[j] = ap[6 * ars] * bp[j];
		c7[j] = ap[7 * ars] * bp[j];
	}
	for (int64_t p = 1; p < kc; p++) {
		const float *a = ap + p * acs, *b = bp + p * ldb;
		float a0 = a[0], a1 = a[ars], a2 = a[2 * ars], a3 = a[3 * ars];
		float a4 = a[4 * ars], a5 = a[5 * ars], a6 = a[6 * ars], a7 = a[7 * ars];
		for (int j = 0; j < TR_GEMM_NR; j++) {
			c0[j] = TR_FMA(a0, b[j], c0[j]);
			c1[j] = TR_FMA(a1, b[j], c1[j]);
			c2[j] = TR_FMA(a2, b[j], c2[j]);
			c3[j] = TR_FMA(a3, b[j], c3[j]);
			c4[j] = TR_FMA(a4, b[j], c4[j]);
			c5[j] = TR_FMA(a5, b[j], c5[j]);
			c6[j] = TR_FMA(a6, b[j], c6[j]);
			c7[j] = TR_FMA(a7, b[j], c7[j]);
		}
	}
	for (int i = 0; i < 8; i++) {
		float *yr = y + i * ldy;
		const float *c = cs[i];
		if (acc)
			for (int j = 0; j < TR_GEMM_NR; j++)
				yr[j] += alpha * c[j];
		else
			for (int j = 0; j < TR_GEMM_NR; j++)
				yr[j] = alpha * c[j];
	}
}
#endif
/*@end*/
#endif
