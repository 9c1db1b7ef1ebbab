/*
 * micro_neon.h -- the GEMM micro-kernel for aarch64 NEON: an 8 x 8 tile (16
 * q accumulators, lane FMAs).  The contract of tr_gemm_micro is in config.h.
 */
#ifndef TOSTC_RT_GEMM_MICRO_NEON_H
#define TOSTC_RT_GEMM_MICRO_NEON_H
#include "config.h"

/*@ tr_gemm_micro_neon : tr_gemm_config */
#if defined(TR_GEMM_NEON)
/* copy NR floats (one row of a B strip) */
#define TR_GEMM_COPY_NR(d, s) (vst1q_f32((d), vld1q_f32(s)), vst1q_f32((d) + 4, vld1q_f32((s) + 4)))
#define TR_NEON_ROW(i, lo, l)                                                             \
	{                                                                                 \
		c##i##0 = vfmaq_laneq_f32(c##i##0, b0, lo, l);                             \
		c##i##1 = vfmaq_laneq_f32(c##i##1, b1, lo, l);                             \
	}
#define TR_NEON_OUT(i)                                                                    \
	{                                                                                 \
		float *yr = y + i * ldy;                                                  \
		float32x4_t v0 = vmulq_n_f32(c##i##0, alpha), v1 = vmulq_n_f32(c##i##1, alpha); \
		if (acc) {                                                                \
			v0 = vaddq_f32(vld1q_f32(yr), v0);                                 \
			v1 = vaddq_f32(vld1q_f32(yr + 4), v1);                             \
		}                                                                         \
		vst1q_f32(yr, v0);                                                        \
		vst1q_f32(yr + 4, v1);                                                    \
	}
TR_NOINLINE TR_FN void tr_gemm_micro(int64_t kc, const float *restrict ap, int64_t ars, int64_t acs,
                                     const float *restrict bp, int64_t ldb, float *restrict y,
                                     int64_t ldy, float alpha, int acc)
{
	float32x4_t z = vdupq_n_f32(0.0f);
	float32x4_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
	float32x4_t c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
	for (int64_t p = 0; p < kc; p++) {
		const float *a = ap + p * acs;
		float32x4_t a0, a1;
		if (ars == 1) {
			a0 = vld1q_f32(a);
			a1 = vld1q_f32(a + 4);
		} else {
			float t[8] = {a[0], a[ars], a[2 * ars], a[3 * ars], a[4 * ars], a[5 * ars],
			              a[6 * ars], a[7 * ars]};
			a0 = vld1q_f32(t);
			a1 = vld1q_f32(t + 4);
		}
		float32x4_t b0 = vld1q_f32(bp + p * ldb), b1 = vld1q_f32(bp + p * ldb + 4);
		TR_NEON_ROW(0, a0, 0) TR_NEON_ROW(1, a0, 1) TR_NEON_ROW(2, a0, 2) TR_NEON_ROW(3, a0, 3)
		TR_NEON_ROW(4, a1, 0) TR_NEON_ROW(5, a1, 1) TR_NEON_ROW(6, a1, 2) TR_NEON_ROW(7, a1, 3)
	}
	TR_NEON_OUT(0) TR_NEON_OUT(1) TR_NEON_OUT(2) TR_NEON_OUT(3)
	TR_NEON_OUT(4) TR_NEON_OUT(5) TR_NEON_OUT(6) TR_NEON_OUT(7)
}
#endif
/*@end*/
#endif
