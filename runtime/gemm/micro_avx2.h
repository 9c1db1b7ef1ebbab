/*
 * micro_avx2.h -- the GEMM micro-kernel for AVX2 with FMA: a 6 x 16 tile
 * (12 ymm accumulators).  The contract of tr_gemm_micro is in config.h.
 */
#ifndef TOSTC_RT_GEMM_MICRO_AVX2_H
#define TOSTC_RT_GEMM_MICRO_AVX2_H
#include "config.h"

/*@ tr_gemm_micro_avx2 : tr_gemm_config */
#if defined(TR_GEMM_AVX2)
/* copy NR floats (one row of a B strip) */
#define TR_GEMM_COPY_NR(d, s)                                                             \
	(_mm256_storeu_ps((d), _mm256_loadu_ps(s)), _mm256_storeu_ps((d) + 8, _mm256_loadu_ps((s) + 8)))
/* Prefetch B's row p + TR_GEMM_PF (its NR = 16 floats: one cache line),
 * formed as an integer: it may run past the strip, a prefetch never faults */
#if TR_GEMM_PF > 0
#define TR_GEMM_PREFETCH_B(row, ldb)                                                      \
	_mm_prefetch((const char *)((uintptr_t)(row) +                                    \
	                            (uintptr_t)(TR_GEMM_PF * (ldb)) * sizeof(float)),     \
	             _MM_HINT_T0);
#else
#define TR_GEMM_PREFETCH_B(row, ldb)
#endif
#define TR_M256_ROW(i)                                                                    \
	{                                                                                 \
		__m256 ai = _mm256_broadcast_ss(a + i * ars);                              \
		c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                               \
		c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                               \
	}
#define TR_M256_OUT(i)                                                                    \
	{                                                                                 \
		float *yr = y + i * ldy;                                                  \
		__m256 v0 = _mm256_mul_ps(c##i##0, al), v1 = _mm256_mul_ps(c##i##1, al);   \
		if (acc) {                                                                \
			v0 = _mm256_add_ps(_mm256_loadu_ps(yr), v0);                      \
			v1 = _mm256_add_ps(_mm256_loadu_ps(yr + 8), v1);                  \
		}                                                                         \
		_mm256_storeu_ps(yr, v0);                                                 \
		_mm256_storeu_ps(yr + 8, v1);                                             \
	}
TR_NOINLINE TR_FN void tr_gemm_micro(int64_t kc, const float *restrict ap, int64_t ars, int64_t acs,
                                     const float *restrict bp, int64_t ldb, float *restrict y,
                                     int64_t ldy, float alpha, int acc)
{
	__m256 z = _mm256_setzero_ps(), al = _mm256_set1_ps(alpha);
	__m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
	__m256 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
	for (int64_t p = 0; p < kc; p++) {
		const float *a = ap + p * acs;
		__m256 b0 = _mm256_loadu_ps(bp + p * ldb), b1 = _mm256_loadu_ps(bp + p * ldb + 8);
		TR_GEMM_PREFETCH_B(bp + p * ldb, ldb)
		TR_M256_ROW(0) TR_M256_ROW(1) TR_M256_ROW(2)
		TR_M256_ROW(3) TR_M256_ROW(4) TR_M256_ROW(5)
	}
	TR_M256_OUT(0) TR_M256_OUT(1) TR_M256_OUT(2)
	TR_M256_OUT(3) TR_M256_OUT(4) TR_M256_OUT(5)
}
#endif
/*@end*/
#endif
