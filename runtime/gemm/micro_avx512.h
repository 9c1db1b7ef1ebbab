/*
 * micro_avx512.h -- the GEMM micro-kernels for AVX-512: a 14 x 32 tile (28
 * zmm accumulators), its first 12 and first 7 rows for short panels, and a
 * 4 x 64 tile for a last panel of 4 rows.  The contract of tr_gemm_micro is
 * in config.h; tr_sgemm_strips (sgemm.h) picks the kernel per panel.
 */
#ifndef TOSTC_RT_GEMM_MICRO_AVX512_H
#define TOSTC_RT_GEMM_MICRO_AVX512_H
#include "config.h"

/*@ tr_gemm_micro_avx512 : tr_gemm_config */
#if defined(TR_GEMM_AVX512)
/* copy NR floats (one row of a B strip) */
#define TR_GEMM_COPY_NR(d, s)                                                             \
	(_mm512_storeu_ps((d), _mm512_loadu_ps(s)),                                        \
	 _mm512_storeu_ps((d) + 16, _mm512_loadu_ps((s) + 16)))
/* row r of the tile: a[r] broadcast times the two B vectors */
#define TR_M512_ROW(r, c0, c1)                                                            \
	{                                                                                 \
		__m512 ai = _mm512_set1_ps(a[(r) * ars]);                                  \
		c0 = _mm512_fmadd_ps(ai, b0, c0);                                         \
		c1 = _mm512_fmadd_ps(ai, b1, c1);                                         \
	}
#define TR_M512_OUT(r, c0, c1)                                                            \
	{                                                                                 \
		float *yr = y + (r) * ldy;                                                \
		__m512 v0 = _mm512_mul_ps(c0, al), v1 = _mm512_mul_ps(c1, al);             \
		if (acc) {                                                                \
			v0 = _mm512_add_ps(_mm512_loadu_ps(yr), v0);                      \
			v1 = _mm512_add_ps(_mm512_loadu_ps(yr + 16), v1);                 \
		}                                                                         \
		_mm512_storeu_ps(yr, v0);                                                 \
		_mm512_storeu_ps(yr + 16, v1);                                            \
	}
/* Prefetch B's row p + TR_GEMM_PF (its NR floats: two cache lines).  The
 * address runs past the strip's end, on into the next strip (strips are
 * contiguous); a prefetch never faults, so it is formed as an integer. */
#if TR_GEMM_PF > 0
#define TR_GEMM_PREFETCH_B(row, ldb)                                                      \
	{                                                                                 \
		uintptr_t pf_ = (uintptr_t)(row) + (uintptr_t)(TR_GEMM_PF * (ldb)) * sizeof(float); \
		_mm_prefetch((const char *)pf_, _MM_HINT_T0);                             \
		_mm_prefetch((const char *)(pf_ + 64), _MM_HINT_T0);                      \
	}
#else
#define TR_GEMM_PREFETCH_B(row, ldb)
#endif
/* The first `rows` rows of the 14 x 32 tile (28 accumulators, 2 B vectors
 * and the broadcast: 31 of 32 zmm registers); rows is 7, 12 or 14, a
 * constant in each kernel below, so the rows past it and their accumulators
 * drop out.  Each element is the same fma chain in every kernel. */
TR_ALWAYS_INLINE void tr_gemm_micro_rows(const int rows, int64_t kc, const float *restrict ap,
                                         int64_t ars, int64_t acs, const float *restrict bp,
                                         int64_t ldb, float *restrict y, int64_t ldy,
                                         float alpha, int acc)
{
	__m512 z = _mm512_setzero_ps(), al = _mm512_set1_ps(alpha);
	__m512 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
	__m512 c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
	__m512 c80 = z, c81 = z, c90 = z, c91 = z, c100 = z, c101 = z, c110 = z, c111 = z;
	__m512 c120 = z, c121 = z, c130 = z, c131 = z;
/* step R (TR_M512_ROW or TR_M512_OUT) on each of the first `rows` rows */
#define TR_M512_ROWS(R)                                                                   \
	{                                                                                 \
		R(0, c00, c01) R(1, c10, c11) R(2, c20, c21) R(3, c30, c31)               \
		R(4, c40, c41) R(5, c50, c51) R(6, c60, c61)                              \
		if (rows > 7) {                                                           \
			R(7, c70, c71) R(8, c80, c81) R(9, c90, c91)                      \
			R(10, c100, c101) R(11, c110, c111)                               \
		}                                                                         \
		if (rows > 12) {                                                          \
			R(12, c120, c121) R(13, c130, c131)                               \
		}                                                                         \
	}
	for (int64_t p = 0; p < kc; p++) {
		const float *a = ap + p * acs;
		__m512 b0 = _mm512_loadu_ps(bp + p * ldb), b1 = _mm512_loadu_ps(bp + p * ldb + 16);
		TR_GEMM_PREFETCH_B(bp + p * ldb, ldb)
		TR_M512_ROWS(TR_M512_ROW)
	}
	TR_M512_ROWS(TR_M512_OUT)
#undef TR_M512_ROWS
}
/* 14 x 32, the full tile */
TR_NOINLINE TR_FN void tr_gemm_micro(int64_t kc, const float *restrict ap, int64_t ars, int64_t acs,
                                     const float *restrict bp, int64_t ldb, float *restrict y,
                                     int64_t ldy, float alpha, int acc)
{
	tr_gemm_micro_rows(14, kc, ap, ars, acs, bp, ldb, y, ldy, alpha, acc);
}
/* 12 x 32: 12-row panels complete the m blocks that 14-row ones leave a
 * short panel in (tr_gemm_panels12): 256 rows are blocks of 140 = 10 x 14
 * and 116 = 4 x 14 + 5 x 12, not 8 x 14 + 4 with a 4-row panel */
#define TR_GEMM_MICRO12 1
TR_NOINLINE TR_FN void tr_gemm_micro12(int64_t kc, const float *restrict ap, int64_t ars,
                                       int64_t acs, const float *restrict bp, int64_t ldb,
                                       float *restrict y, int64_t ldy, float alpha, int acc)
{
	tr_gemm_micro_rows(12, kc, ap, ars, acs, bp, ldb, y, ldy, alpha, acc);
}
/* the first 7 rows, for a last panel of 7 rows or fewer that 12-row panels
 * do not absorb (an odd m block; 4-row panels on two strips take
 * tr_gemm_micro4x2) */
#define TR_GEMM_MICRO_HALF 1
TR_NOINLINE TR_FN void tr_gemm_micro_half(int64_t kc, const float *restrict ap, int64_t ars,
                                          int64_t acs, const float *restrict bp, int64_t ldb,
                                          float *restrict y, int64_t ldy, float alpha, int acc)
{
	tr_gemm_micro_rows(7, kc, ap, ars, acs, bp, ldb, y, ldy, alpha, acc);
}
/* 4 x 64: a last panel of exactly 4 rows (256 = 18 x 14 + 4) on two
 * adjacent B strips, bp and bp2, at once: 16 accumulators keep both FMA
 * pipes busy where a 4 x 32 tile's 8 would not, and no padding row is
 * computed (the half kernel made 7 rows for these 4).  Each element is the
 * same fma chain as in tr_gemm_micro; y (4, 64) is written in place. */
#define TR_GEMM_MICRO4 1
#define TR_M512_ROW4(r, c0, c1, c2, c3)                                                   \
	{                                                                                 \
		__m512 ai = _mm512_set1_ps(a[(r) * ars]);                                  \
		c0 = _mm512_fmadd_ps(ai, b0, c0);                                         \
		c1 = _mm512_fmadd_ps(ai, b1, c1);                                         \
		c2 = _mm512_fmadd_ps(ai, b2, c2);                                         \
		c3 = _mm512_fmadd_ps(ai, b3, c3);                                         \
	}
TR_NOINLINE TR_FN void tr_gemm_micro4x2(int64_t kc, const float *restrict ap, int64_t ars,
                                        int64_t acs, const float *restrict bp,
                                        const float *restrict bp2, int64_t ldb,
                                        float *restrict y, int64_t ldy, float alpha, int acc)
{
	__m512 z = _mm512_setzero_ps(), al = _mm512_set1_ps(alpha);
	__m512 c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
	__m512 c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
	for (int64_t p = 0; p < kc; p++) {
		const float *a = ap + p * acs;
		__m512 b0 = _mm512_loadu_ps(bp + p * ldb), b1 = _mm512_loadu_ps(bp + p * ldb + 16);
		__m512 b2 = _mm512_loadu_ps(bp2 + p * ldb), b3 = _mm512_loadu_ps(bp2 + p * ldb + 16);
		TR_GEMM_PREFETCH_B(bp + p * ldb, ldb)
		TR_GEMM_PREFETCH_B(bp2 + p * ldb, ldb)
		TR_M512_ROW4(0, c00, c01, c02, c03) TR_M512_ROW4(1, c10, c11, c12, c13)
		TR_M512_ROW4(2, c20, c21, c22, c23) TR_M512_ROW4(3, c30, c31, c32, c33)
	}
	TR_M512_OUT(0, c00, c01) TR_M512_OUT(1, c10, c11) TR_M512_OUT(2, c20, c21)
	TR_M512_OUT(3, c30, c31)
	y += 32;
	TR_M512_OUT(0, c02, c03) TR_M512_OUT(1, c12, c13) TR_M512_OUT(2, c22, c23)
	TR_M512_OUT(3, c32, c33)
}
#undef TR_M512_ROW4
#endif
/*@end*/
#endif
