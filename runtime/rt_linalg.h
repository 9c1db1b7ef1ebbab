/*
 * rt_linalg.h -- runtime kernels of the linear algebra family: GEMM (MatMul,
 * Gemm), convolution, pooling, batch and layer normalisation.
 *
 * Everything that multiplies matrices goes through tr_sgemm, a cache- and
 * register-blocked f32 GEMM in plain C99 that gcc vectorises at -O2: op(B) is
 * packed in KC x NC blocks of NR-wide column strips, op(A) in MC x KC blocks
 * of MR-row panels (each packed once per k block), and the MR x NR micro-kernel keeps its accumulators in MR local
 * arrays of NR floats (one vector register each) with the k loop outermost.
 * Operands are addressed through (row stride, column stride) pairs, so a
 * transposed A or B (Gemm transA/transB, weights stored (N, K)) costs nothing
 * but a strided pack.  The packing buffer is node scratch (ARG_SCRATCH), not
 * stack, so kernels stay safe on small thread stacks.
 *
 * Spatial ops (conv, pooling) take up to three spatial dims; 1-D and 2-D
 * problems are passed padded with leading size-1 dims, so one kernel serves
 * all.  Parameter arrays follow one layout: in[3], out[3], kernel[3],
 * stride[3], dilation[3], pads[6] (three begins, then three ends).
 */
#ifndef TOSTC_RT_LINALG_H
#define TOSTC_RT_LINALG_H
#include "rt_common.h"
#include "rt_fused.h"

/*@ tr_sgemm_axpy : tr_common */
/* y (n) += s * x (n), blocks of 16 (vectorised at -O2) and a bounded tail */
TR_FN void tr_sgemm_axpy(float *restrict y, const float *restrict x, float s, int64_t n)
{
	int64_t j = 0;
	for (; j + 16 <= n; j += 16)
		for (int l = 0; l < 16; l++)
			y[j + l] = TR_FMA(s, x[j + l], y[j + l]);
	for (int l = 0; l < 16 && j + l < n; l++)
		y[j + l] = TR_FMA(s, x[j + l], y[j + l]);
}
/*@end*/

/*@ tr_sgemm_part : tr_common tr_gelu_row tr_sgemm_axpy */
/*
 * The micro-kernel is chosen at C-compile time from the target flags:
 *   __AVX512F__            14 x 32 tile, 28 zmm accumulators (intrinsics)
 *   __AVX2__ + __FMA__     6 x 16 tile, 12 ymm accumulators (intrinsics)
 *   __ARM_NEON + aarch64   8 x 8 tile, 16 q accumulators (intrinsics)
 *   anything else          8 x TR_VW tile in plain C99 that gcc vectorises
 * Define TR_NO_SIMD to force the plain C path.  Every path computes each
 * y[i][j] as the same ordered chain of fused (or, in plain C without a fast
 * fmaf, unfused) multiply-adds over p, so a path is bit-identical run to run.
 */
#if !defined(TR_NO_SIMD) && defined(__AVX512F__)
#define TR_GEMM_AVX512 1
#elif !defined(TR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define TR_GEMM_AVX2 1
#elif !defined(TR_NO_SIMD) && defined(__ARM_NEON) && defined(__aarch64__)
#define TR_GEMM_NEON 1
#endif
#if defined(TR_GEMM_AVX512) || defined(TR_GEMM_AVX2)
#include <immintrin.h>
#elif defined(TR_GEMM_NEON)
#include <arm_neon.h>
#endif
#ifndef TR_VW
#if defined(__AVX512F__)
#define TR_VW 16 /* floats per vector register; may be predefined to 4, 8 or 16 */
#elif defined(__AVX__)
#define TR_VW 8
#else
#define TR_VW 4
#endif
#endif
/* The micro-kernel is kept out of line so that its accumulators are register
 * allocated on their own, whatever the caller looks like. */
#ifndef TR_NOINLINE
#if defined(__GNUC__) || defined(__clang__)
#define TR_NOINLINE __attribute__((noinline))
#else
#define TR_NOINLINE
#endif
#endif
#if defined(TR_GEMM_AVX512)
#define TR_GEMM_MR 14       /* micro-tile rows: 196 = 14 x 14 tokens (224 px, patch 16) */
#define TR_GEMM_NR 32       /* micro-tile columns */
#define TR_GEMM_MC 252      /* m block (multiple of MR) */
#elif defined(TR_GEMM_AVX2)
#define TR_GEMM_MR 6
#define TR_GEMM_NR 16
#define TR_GEMM_MC 252
#elif defined(TR_GEMM_NEON)
#define TR_GEMM_MR 8
#define TR_GEMM_NR 8
#define TR_GEMM_MC 256
#else
#define TR_GEMM_MR 8
#define TR_GEMM_NR TR_VW
#define TR_GEMM_MC 256
#endif
/* k block: a whole MLP's fc2 (k = 4d = 1536 at d = 384) in one block, so
 * each output tile is stored once, not accumulated four times; bench/ab.sh
 * against KC 384 (2026-12-03): stack_256 0.992x the time (600 pairs), lm_256
 * 0.993x, stack_1024 0.995x, tost_s 0.996x.  The compile-time packed weights
 * are laid out in KC blocks, so the compiler and the generated code must
 * agree on it: it is not a macro to override. */
#define TR_GEMM_KC 1536
#define TR_GEMM_NC 128      /* n block (multiple of NR and PB) */
#define TR_GEMM_PB 32       /* strip width of weights packed at compile time */
/* B strip rows prefetched ahead into L1 by the x86 micro-kernels (0: none).
 * Most weights come from L3 or memory, and the B strip (kc x NR, 48 KB on
 * AVX-512) does not stay in L1 between panels. */
#ifndef TR_GEMM_PF
#define TR_GEMM_PF 40
#endif
/* Packing scratch of tr_sgemm, none when m < 4: the A block, min(round_up(m, MR), MC)
 * * min(k, KC) floats rounded up to a multiple of 16, then the B block,
 * min(k, KC) * min(round_up(n, NR), NC) floats.  Pass it 64-byte aligned.
 * (MR <= 14, MC <= 256 and NR <= 32 on every path: the compiler sizes the
 * scratch for all of them, see linalg_gemm_pack_bytes.) */

/* copy NR floats (one row of a B strip): gcc -O2 does not vectorise the loop */
#if defined(TR_GEMM_AVX512)
#define TR_GEMM_COPY_NR(d, s)                                                             \
	(_mm512_storeu_ps((d), _mm512_loadu_ps(s)),                                        \
	 _mm512_storeu_ps((d) + 16, _mm512_loadu_ps((s) + 16)))
#elif defined(TR_GEMM_AVX2)
#define TR_GEMM_COPY_NR(d, s)                                                             \
	(_mm256_storeu_ps((d), _mm256_loadu_ps(s)), _mm256_storeu_ps((d) + 8, _mm256_loadu_ps((s) + 8)))
#elif defined(TR_GEMM_NEON)
#define TR_GEMM_COPY_NR(d, s) (vst1q_f32((d), vld1q_f32(s)), vst1q_f32((d) + 4, vld1q_f32((s) + 4)))
#else
#define TR_GEMM_COPY_NR(d, s)                                                             \
	do {                                                                              \
		for (int j_ = 0; j_ < TR_GEMM_NR; j_++)                                   \
			(d)[j_] = (s)[j_];                                                \
	} while (0)
#endif

/* m rows in blocks of at most cap rows: how many blocks, and block b's rows
 * [*r0, *r1).  With cap a whole number of MR-row panels, the fewest blocks,
 * each a whole number of panels (but the last, which ends at m) and no two
 * differing by more than one panel: 256 rows with cap 252 as 132 + 124,
 * 16384 as 46 x 252 + 20 x 240, not 65 x 252 + 4 (a 4-row block streams
 * all of B again for one panel).  Else blocks of cap rows. */
TR_FN int64_t tr_gemm_mblocks(int64_t m, int64_t cap)
{
	int64_t c = cap / TR_GEMM_MR, np = (m + TR_GEMM_MR - 1) / TR_GEMM_MR;
	if (m <= 0 || cap <= 0)
		return 0;
	return cap % TR_GEMM_MR == 0 ? (np + c - 1) / c : (m + cap - 1) / cap;
}
TR_FN void tr_gemm_mblock(int64_t m, int64_t cap, int64_t nb, int64_t b, int64_t *r0,
                          int64_t *r1)
{
	int64_t np = (m + TR_GEMM_MR - 1) / TR_GEMM_MR, q = np / nb, r = np % nb;
	if (cap % TR_GEMM_MR == 0) {
		*r0 = TR_MIN((b * q + TR_MIN(b, r)) * TR_GEMM_MR, m);
		*r1 = TR_MIN(((b + 1) * q + TR_MIN(b + 1, r)) * TR_GEMM_MR, m);
	} else {
		*r0 = b * cap;
		*r1 = TR_MIN(*r0 + cap, m);
	}
}

/*
 * a (MR, kc) @ bp (kc, NR) -> y (MR, NR) row stride ldy; bp's rows are ldb apart
 * (NR when packed at run time, TR_GEMM_PB in a prepacked weight):
 * y = alpha * (a @ bp) [+ y when acc]; kc >= 1.  a[i][p] = ap[i*ars + p*acs]:
 * a packed panel (ars 1, acs MR) or MR rows of a row-major A read in place
 * (ars = row stride, acs 1).
 */
#if defined(TR_GEMM_AVX512)
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
 * and 116 = 4 x 14 + 5 x 12, where 8 x 14 + 4 took the slower 4 x 64 kernel */
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
#elif defined(TR_GEMM_AVX2)
/* as on AVX-512: the NR = 16 floats of B's row p + TR_GEMM_PF, one cache line */
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
#elif defined(TR_GEMM_NEON)
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
#else
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

/* Bytes ahead of the B row being read that tr_sgemm_small prefetches (0:
 * none).  Its B is a weight read once, from memory: a 1 x 384 @ 384 x 1536
 * and a 1 x 1536 @ 1536 x 384 from memory took 0.78x-0.80x the time with 8 KB
 * ahead than with none in a timed harness (the class token's MLP, a
 * classifier head, every projection of the step API). */
#ifndef TR_SMALL_PF
#define TR_SMALL_PF 8192
#endif
#if TR_SMALL_PF > 0 && (defined(__GNUC__) || defined(__clang__))
/* the n floats at row + TR_SMALL_PF bytes, one line in 64 bytes; formed as
 * an integer: it may run past B's end, and a prefetch never faults */
#define TR_SMALL_PREFETCH(row, n)                                                         \
	do {                                                                              \
		uintptr_t pf_ = (uintptr_t)(row) + TR_SMALL_PF;                           \
		for (int64_t o_ = 0; o_ < (int64_t)(n) * 4; o_ += 64)                     \
			__builtin_prefetch((const void *)(pf_ + (uintptr_t)o_), 0, 3);    \
	} while (0)
#else
#define TR_SMALL_PREFETCH(row, n) ((void)0)
#endif

/* Few rows (m < 4): no packing. y (m, n) (+)= alpha * op(a) (m, k) @ op(b) (k, n) */
TR_FN void tr_sgemm_small(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                          int64_t ars, int64_t acs, const float *b, int64_t brs, int64_t bcs,
                          float *y, int64_t ldy, int accumulate)
{
	for (int64_t i = 0; i < m; i++) {
		float *yr = y + i * ldy;
		if (bcs == 1) {
			/* rows of b are contiguous: accumulate a[i][p] * b[p][:] */
			if (!accumulate)
				for (int64_t j = 0; j < n; j++)
					yr[j] = 0.0f;
			for (int64_t p = 0; p < k; p++) {
				TR_SMALL_PREFETCH(b + p * brs, n);
				tr_sgemm_axpy(yr, b + p * brs, alpha * a[i * ars + p * acs], n);
			}
		} else {
			for (int64_t j = 0; j < n; j++) {
				float s = 0.0f;
				int64_t p = 0;
				if (acs == 1 && brs == 1) {
					/* contiguous dot product in 16 independent lanes (vectorises) */
					const float *ar = a + i * ars, *bc = b + j * bcs;
					float lane[16];
					for (int l = 0; l < 16; l++)
						lane[l] = 0.0f;
					for (; p + 16 <= k; p += 16)
						for (int l = 0; l < 16; l++)
							lane[l] = TR_FMA(ar[p + l], bc[p + l], lane[l]);
					for (int l = 0; l < 16; l++)
						s += lane[l];
					/* a tail bounded by 16 (see tr_gelu_row) */
					for (int l = 0; l < 16 && p + l < k; l++)
						s = TR_FMA(ar[p + l], bc[p + l], s);
				} else {
					for (; p < k; p++)
						s = TR_FMA(a[i * ars + p * acs], b[p * brs + j * bcs], s);
				}
				yr[j] = accumulate ? yr[j] + alpha * s : alpha * s;
			}
		}
	}
}

/*
 * An epilogue applied to each tile of the product while it is in cache (the
 * passes over y it replaces would read and write the whole output again).
 * It keeps the unfused order of operations, so results are bitwise those of
 * the separate passes:
 *   start  on the first k block, instead of filling y and accumulating (the
 *          caller's accumulate is 0): y = (start[i][j] + beta * bias[j]) + p,
 *          or start[i][j] + p, or beta * bias[j] + p, where p = alpha * (a @ b),
 *          with bias (n) and start (m, n) row stride lds each optional; or
 *          y = rbias[i] + p, with rbias (m) a bias per row (a convolution's
 *          per output channel)
 *   gelu   on the last k block, y = gelu(y) (tr_gelu_row)
 *   out    on the last k block, out[i][j] = res[i][j] + gamma[j] * y[i][j],
 *          row strides ldo and ldr (out may be res: element by element)
 * y must not alias start, bias, gamma or res.
 */
typedef struct {
	const float *bias, *start;
	float beta;
	int64_t lds;
	int gelu;
	float *out;
	const float *res, *gamma;
	int64_t ldo, ldr;
	const float *rbias;
} TrEpi;

/* y (n) = beta * b (n) + y (n); blocks of 16, as gcc -O2 vectorises only
 * fixed trip counts (and honours restrict only on parameters) */
TR_FN void tr_epi_add(float *restrict y, const float *restrict b, float beta, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = beta * b[c + l] + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)   /* bounded tail: see tr_gelu_row */
		y[c + l] = beta * b[c + l] + y[c + l];
}

/* y (n) = (s (n) + beta * b (n)) + y (n) */
TR_FN void tr_epi_add2(float *restrict y, const float *restrict s, const float *restrict b,
                       float beta, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = (s[c + l] + beta * b[c + l]) + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = (s[c + l] + beta * b[c + l]) + y[c + l];
}

/* y (n) = s + y (n) */
TR_FN void tr_epi_addc(float *restrict y, float s, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = s + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = s + y[c + l];
}

/* y (n) = s (n) + y (n) */
TR_FN void tr_epi_add1(float *restrict y, const float *restrict s, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = s[c + l] + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = s[c + l] + y[c + l];
}

/* out (n) = x (n) + g (n) * y (n); out may be x, not y: blocks of 16 through
 * a local array (every load of a block before its stores) vectorise anyway */
TR_FN void tr_epi_scale_add(float *out, const float *x, const float *restrict g,
                            const float *restrict y, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16) {
		float v[16];
		for (int l = 0; l < 16; l++)
			v[l] = x[c + l] + g[c + l] * y[c + l];
		for (int l = 0; l < 16; l++)
			out[c + l] = v[l];
	}
	for (int l = 0; l < 16 && c + l < n; l++)
		out[c + l] = x[c + l] + g[c + l] * y[c + l];
}

/* the epilogue on the tile y (mr, nr), row stride ldy, at row i, column j of the product */
TR_FN void tr_gemm_epi_tile(const TrEpi *e, int first, int last, float *y, int64_t ldy, int64_t i,
                            int64_t j, int64_t mr, int64_t nr)
{
	const float *bias = first ? e->bias : (const float *)0;
	const float *start = first ? e->start : (const float *)0;
	const float *rbias = first ? e->rbias : (const float *)0;
	int gelu = last && e->gelu;
	float *out = last ? e->out : (float *)0;
	for (int64_t r = 0; r < mr; r++) {
		float *yr = y + r * ldy;
		if (start && bias)
			tr_epi_add2(yr, start + (i + r) * e->lds + j, bias + j, e->beta, nr);
		else if (start)
			tr_epi_add1(yr, start + (i + r) * e->lds + j, nr);
		else if (bias)
			tr_epi_add(yr, bias + j, e->beta, nr);
		else if (rbias)
			tr_epi_addc(yr, rbias[i + r], nr);
		if (gelu)
			tr_gelu_row(yr, nr);
		/* out may be res (element by element), but neither is y */
		if (out)
			tr_epi_scale_add(out + (i + r) * e->ldo + j, e->res + (i + r) * e->ldr + j,
			                 e->gamma + j, yr, nr);
	}
}

/* y (mr, nr) row stride ldy (+)= the edge tile t (MR, NR) made by a micro-kernel */
TR_FN void tr_gemm_tile_out(float *y, int64_t ldy, const float *t, int64_t mr, int64_t nr,
                            int acc)
{
	for (int64_t i = 0; i < mr; i++) {
		float *restrict yr = y + i * ldy;
		const float *restrict tr = t + i * TR_GEMM_NR;
		if (nr == TR_GEMM_NR && acc)
			for (int j = 0; j < TR_GEMM_NR; j++)
				yr[j] = yr[j] + tr[j];
		else if (nr == TR_GEMM_NR)
			for (int j = 0; j < TR_GEMM_NR; j++)
				yr[j] = tr[j];
		else
			for (int64_t j = 0; j < nr; j++)
				yr[j] = acc ? yr[j] + tr[j] : tr[j];
	}
}

/* Rows the micro-kernel computes for a panel of mr <= MR rows: 7 on AVX-512
 * when mr <= 7 (tr_gemm_micro_half), else MR */
#ifdef TR_GEMM_MICRO_HALF
#define TR_GEMM_KROWS(mr) ((mr) <= TR_GEMM_MR / 2 ? TR_GEMM_MR / 2 : TR_GEMM_MR)
#else
#define TR_GEMM_KROWS(mr) TR_GEMM_MR
#endif
/* A row-major A (acs 1) is read in place, not packed.  So is a last, partial
 * panel of mr rows starting at row r0 of A when A has the KROWS(mr) - mr rows
 * above it: the kernel runs on the panel moved up by that many rows, and only
 * its last mr rows are kept (each element is the same fma chain wherever its
 * tile starts, so the results do not change). */
#define TR_GEMM_INPLACE(acs, mr, r0) ((acs) == 1 && (r0) >= TR_GEMM_KROWS(mr) - (mr))

/* 12-row panels that, with MR-row panels, make up an m block of mc rows
 * exactly, where an MR-row tiling would leave a short last panel: the fewest
 * (at most 6, as 12 j mod 14 repeats every 7), or 0 when none do (mc odd,
 * under 12, or 18 = 14 + 4, which tr_gemm_micro4x2 takes), when A is packed
 * (in MR-row panels) or on paths without the 12-row kernel */
TR_FN int64_t tr_gemm_panels12(int64_t mc, int64_t acs)
{
#ifdef TR_GEMM_MICRO12
	if (acs == 1 && mc % TR_GEMM_MR != 0)
		for (int64_t j = 1; j <= 6 && 12 * j <= mc; j++)
			if ((mc - 12 * j) % TR_GEMM_MR == 0)
				return j;
#else
	(void)mc, (void)acs;
#endif
	return 0;
}

/*
 * Strips [s0, s1) (NR columns each, counted from column j0) of the MC block
 * at row m0: y[m0 + i][j0 + ...] (+)= alpha * A panels @ B strips, panels
 * outer and strips inner in groups of NC / NR strips (B stays in cache while
 * the panels stream).  B strip s is bp + s * NR * kc (packed at run time) or
 * in the compile-time packed weight bpre (k block k0, npad columns).
 */
TR_FN void tr_sgemm_strips(int64_t s0, int64_t s1, int64_t m0, int64_t mc, int64_t n,
                           int64_t j0, int64_t k0, int64_t kc, float alpha, const float *a,
                           int64_t ars, int64_t acs, const float *ap, const float *bp,
                           const float *bpre, int64_t npad, float *y, int64_t ldy, int acc,
                           const TrEpi *epi, int last)
{
	float t[TR_GEMM_MR * TR_GEMM_NR];
	/* MR-row panels up to row e14, then 12-row ones (tr_gemm_panels12) */
	int64_t e14 = mc - 12 * tr_gemm_panels12(mc, acs), mr;
	for (int64_t g0 = s0; g0 < s1; g0 += TR_GEMM_NC / TR_GEMM_NR) {
		int64_t g1 = TR_MIN(g0 + TR_GEMM_NC / TR_GEMM_NR, s1);
		for (int64_t i0 = 0; i0 < mc; i0 += mr) {
			int p12 = i0 >= e14;   /* a 12-row panel of a row-major A, read in place */
			mr = p12 ? 12 : TR_MIN(TR_GEMM_MR, e14 - i0);
			int inplace = p12 || TR_GEMM_INPLACE(acs, mr, m0 + i0);
			/* sh: rows the in-place panel is moved up (partial panels only) */
			int64_t sh = inplace && !p12 && mr < TR_GEMM_MR ? TR_GEMM_KROWS(mr) - mr : 0;
			const float *pa = inplace ? a + (m0 + i0 - sh) * ars + k0 : ap + i0 * kc;
			int64_t prs = inplace ? ars : 1, pcs = inplace ? 1 : TR_GEMM_MR;
			for (int64_t s = g0; s < g1; s++) {
				int64_t jj = j0 + s * TR_GEMM_NR, nr = TR_MIN(TR_GEMM_NR, n - jj);
				float *yt = y + (m0 + i0) * ldy + jj;
				const float *pb = bp + s * TR_GEMM_NR * kc;
				int64_t ldb = TR_GEMM_NR;
				if (bpre) {
					pb = bpre + k0 * npad + jj / TR_GEMM_PB * TR_GEMM_PB * kc + jj % TR_GEMM_PB;
					ldb = TR_GEMM_PB;
				}
				if (mr == TR_GEMM_MR && nr == TR_GEMM_NR) {
					tr_gemm_micro(kc, pa, prs, pcs, pb, ldb, yt, ldy, alpha, acc);
#ifdef TR_GEMM_MICRO12
				} else if (p12 && nr == TR_GEMM_NR) {
					tr_gemm_micro12(kc, pa, prs, pcs, pb, ldb, yt, ldy, alpha, acc);
#endif
#ifdef TR_GEMM_MICRO4
				} else if (mr == 4 && s + 1 < g1 && jj + 2 * TR_GEMM_NR <= n) {
					/* a 4-row panel, two whole strips at once, written in place
					 * (the in-place A moved back down to its own rows) */
					const float *pb2 = bp + (s + 1) * TR_GEMM_NR * kc;
					if (bpre)
						pb2 = bpre + k0 * npad + (jj + TR_GEMM_NR) / TR_GEMM_PB * TR_GEMM_PB * kc +
						      (jj + TR_GEMM_NR) % TR_GEMM_PB;
					tr_gemm_micro4x2(kc, pa + sh * prs, prs, pcs, pb, pb2, ldb, yt, ldy, alpha, acc);
					s++;
#endif
				} else {
					/* edge tile: through the local tile t */
#ifdef TR_GEMM_MICRO12
					if (p12)
						tr_gemm_micro12(kc, pa, prs, pcs, pb, ldb, t, TR_GEMM_NR, alpha, 0);
					else
#endif
#ifdef TR_GEMM_MICRO_HALF
					if (mr <= TR_GEMM_MR / 2)
						tr_gemm_micro_half(kc, pa, prs, pcs, pb, ldb, t, TR_GEMM_NR, alpha, 0);
					else
#endif
						tr_gemm_micro(kc, pa, prs, pcs, pb, ldb, t, TR_GEMM_NR, alpha, 0);
					tr_gemm_tile_out(yt, ldy, t + sh * TR_GEMM_NR, mr, nr, acc);
				}
			}
			/* the epilogue on the panel's rows of the whole group of strips
			 * (up to MR x NC) while they are in cache: long rows keep the
			 * GELU's chains independent and its loop overhead small */
			if (epi) {
				int64_t ja = j0 + g0 * TR_GEMM_NR, jb = TR_MIN(j0 + g1 * TR_GEMM_NR, n);
				tr_gemm_epi_tile(epi, k0 == 0, last, y + (m0 + i0) * ldy + ja, ldy, m0 + i0,
				                 ja, mr, jb - ja);
			}
		}
	}
}

/*
 * The part rows [r0, r1) x columns [c0, c1) of tr_sgemm_epi's product
 * (c0 a multiple of TR_GEMM_PB); the rest of y is not touched.  Every element
 * it writes is the same fma chain as when the whole product is made.
 */
TR_FN void tr_sgemm_part(int64_t r0, int64_t r1, int64_t c0, int64_t c1, int64_t n, int64_t k,
                         float alpha, const float *a, int64_t ars, int64_t acs, const float *b,
                         int64_t brs, int64_t bcs, const float *bpre, float *y, int64_t ldy,
                         int accumulate, float *pack, const TrEpi *epi)
{
	int64_t m = r1 - r0;
	int64_t mcap = TR_MIN((m + TR_GEMM_MR - 1) / TR_GEMM_MR * TR_GEMM_MR, TR_GEMM_MC);
	/* the B block starts 64-byte aligned (given an aligned pack) */
	float *ap = pack, *bp = pack + (mcap * TR_MIN(k, TR_GEMM_KC) + 15) / 16 * 16;
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t cs0 = c0 / TR_GEMM_NR, ns = (c1 + TR_GEMM_NR - 1) / TR_GEMM_NR - cs0;
	/* m blocks of at most MC rows, as even as whole panels allow */
	int64_t nmb = tr_gemm_mblocks(m, TR_GEMM_MC);
	if (m <= 0 || c1 <= c0)
		return;
	if (k <= 0) {
		if (!accumulate)
			for (int64_t i = r0; i < r1; i++)
				for (int64_t j = c0; j < c1; j++)
					y[i * ldy + j] = 0.0f;
		return;
	}
	if (m < 4 && !bpre) {
		tr_sgemm_small(m, c1 - c0, k, alpha, a + r0 * ars, ars, acs, b + c0 * bcs, brs, bcs,
		               y + r0 * ldy + c0, ldy, accumulate);
		if (epi)
			tr_gemm_epi_tile(epi, 1, 1, y + r0 * ldy + c0, ldy, r0, c0, m, c1 - c0);
		return;
	}
	for (int64_t k0 = 0; k0 < k; k0 += TR_GEMM_KC) {
		int64_t kc = TR_MIN(TR_GEMM_KC, k - k0);
		int acc = accumulate || k0 > 0, last = k0 + kc >= k;
		for (int64_t mb = 0; mb < nmb; mb++) {
			int64_t m0, m1;
			tr_gemm_mblock(m, TR_GEMM_MC, nmb, mb, &m0, &m1);
			int64_t mc = m1 - m0;
			m0 += r0;
			/* pack op(a)[m0:m0+mc, k0:k0+kc] as MR-row panels (kc, MR), zero-padded;
			 * a row-major A (acs 1) is read in place, a partial panel too when A has
			 * the rows above it that the kernel also computes (TR_GEMM_INPLACE), and
			 * every panel of a block that 12-row panels complete */
			int64_t npk = tr_gemm_panels12(mc, acs) > 0 ? 0 : mc;   /* rows to look at */
			for (int64_t i0 = 0; i0 < npk; i0 += TR_GEMM_MR) {
				int64_t mr = TR_MIN(TR_GEMM_MR, mc - i0);
				if (TR_GEMM_INPLACE(acs, mr, m0 + i0))
					continue;
				const float *restrict src = a + (m0 + i0) * ars + k0 * acs;
				float *restrict dst = ap + i0 * kc;
				for (int64_t p = 0; p < kc; p++)
					for (int64_t i = 0; i < TR_GEMM_MR; i++)
						dst[p * TR_GEMM_MR + i] = i < mr ? src[i * ars + p * acs] : 0.0f;
			}
			if (bpre) {
				int par = mc * kc * (c1 - c0) >= 32 * (int64_t)TR_PAR_MIN && ns > 1;
				(void)par;
				TR_OMP(omp parallel if (par))
				{
					int64_t th = TR_THREAD(), nt = TR_NTHREADS();
					tr_sgemm_strips(cs0 + ns * th / nt, cs0 + ns * (th + 1) / nt, m0, mc, c1, 0,
					                k0, kc, alpha, a, ars, acs, ap, bp, bpre, npad, y, ldy, acc,
					                epi, last);
				}
				continue;
			}
			/* B packed here, one NC block at a time; with threads, they pack the
			 * block's strips in turn, then each multiplies its range of them */
			int par = mc * kc * (c1 - c0) >= 32 * (int64_t)TR_PAR_MIN;
			(void)par;
			TR_OMP(omp parallel if (par))
			{
				int64_t th = TR_THREAD(), nt = TR_NTHREADS();
				for (int64_t j0 = c0; j0 < c1; j0 += TR_GEMM_NC) {
					int64_t nc = TR_MIN(TR_GEMM_NC, c1 - j0);
					int64_t nsb = (nc + TR_GEMM_NR - 1) / TR_GEMM_NR;
					/* pack op(b)[k0:k0+kc, j0:j0+nc] as NR-wide strips, zero-padded */
					for (int64_t sb = th; sb < nsb; sb += nt) {
						int64_t jr = sb * TR_GEMM_NR, nr = TR_MIN(TR_GEMM_NR, nc - jr);
						float *restrict dst = bp + jr * kc;
						const float *restrict src = b + k0 * brs + (j0 + jr) * bcs;
						if (bcs == 1 && nr == TR_GEMM_NR) {
							for (int64_t p = 0; p < kc; p++)
								TR_GEMM_COPY_NR(dst + p * TR_GEMM_NR, src + p * brs);
						} else {
							for (int64_t j = 0; j < TR_GEMM_NR; j++)
								for (int64_t p = 0; p < kc; p++)
									dst[p * TR_GEMM_NR + j] =
										j < nr ? src[p * brs + j * bcs] : 0.0f;
						}
					}
					TR_OMP(omp barrier)
					tr_sgemm_strips(nsb * th / nt, nsb * (th + 1) / nt, m0, mc, c1, j0, k0,
					                kc, alpha, a, ars, acs, ap, bp, (const float *)0, npad, y,
					                ldy, acc, epi, last);
					/* the next block's packing overwrites bp */
					TR_OMP(omp barrier)
				}
			}
		}
	}
}

/*@end*/

/*@ tr_sgemm_epi : tr_sgemm_part */
/*
 * y (m, n) = alpha * op(a) (m, k) @ op(b) (k, n)  [+ y when accumulate]
 * op(a)[i][p] = a[i*ars + p*acs], op(b)[p][j] = b[p*brs + j*bcs], y row stride ldy;
 * pack: packing scratch, sized as described at TR_GEMM_NC; epi: an epilogue
 * (TrEpi) or null.
 * With OpenMP, the product is split over threads by column strips (each
 * thread a contiguous range of a compile-time packed B, or of each NC block
 * of a B the threads pack together); every y element is the same fma chain
 * whatever the thread count.
 */
TR_FN void tr_sgemm_epi(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t brs, int64_t bcs,
                        const float *bpre, float *y, int64_t ldy, int accumulate, float *pack,
                        const TrEpi *epi)
{
	tr_sgemm_part(0, m, 0, n, n, k, alpha, a, ars, acs, b, brs, bcs, bpre, y, ldy, accumulate,
	              pack, epi);
}

/*@end*/

/*@ tr_sgemm_impl : tr_sgemm_epi */
/* tr_sgemm_epi without an epilogue */
TR_FN void tr_sgemm_impl(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t ars, int64_t acs, const float *b, int64_t brs, int64_t bcs,
                         const float *bpre, float *y, int64_t ldy, int accumulate, float *pack)
{
	tr_sgemm_epi(m, n, k, alpha, a, ars, acs, b, brs, bcs, bpre, y, ldy, accumulate, pack,
	             (const TrEpi *)0);
}
/*@end*/

/*@ tr_sgemm : tr_sgemm_impl */
/* y (m, n) (+)= alpha * op(a) (m, k) @ op(b) (k, n), B packed at run time */
TR_FN void tr_sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t ars,
                    int64_t acs, const float *b, int64_t brs, int64_t bcs, float *y, int64_t ldy,
                    int accumulate, float *pack)
{
	tr_sgemm_impl(m, n, k, alpha, a, ars, acs, b, brs, bcs, (const float *)0, y, ldy, accumulate,
	              pack);
}
/*@end*/

/*@ tr_gemm_prepack_f32 : tr_sgemm_impl */
/*
 * Pack op(b) (k, n) (op(b)[p][j] = b[p*brs + j*bcs]) for tr_sgemm_impl's bpre:
 * per k block of KC rows, strips of TR_GEMM_PB columns zero-padded past n, each
 * strip (kc, PB) row-major -> dst, k * round_up(n, PB) floats.  PB = 32 is a
 * multiple of every path's NR, so one packed weight serves every target.
 */
TR_FN void tr_gemm_prepack_f32(const float *b, int64_t brs, int64_t bcs, float *dst, int64_t k,
                               int64_t n)
{
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	for (int64_t k0 = 0; k0 < k; k0 += TR_GEMM_KC) {
		int64_t kc = TR_MIN(TR_GEMM_KC, k - k0);
		for (int64_t js = 0; js < npad; js += TR_GEMM_PB)
			for (int64_t p = 0; p < kc; p++)
				for (int64_t j = 0; j < TR_GEMM_PB; j++)
					dst[k0 * npad + js * kc + p * TR_GEMM_PB + j] =
						js + j < n ? b[(k0 + p) * brs + (js + j) * bcs] : 0.0f;
	}
}
/*@end*/

/*@ tr_gemm_f32 : tr_sgemm */
/* y (m, n) = alpha * A' (m, k) @ B' (k, n) [+ y when accumulate];
 * A' = trans_a ? a (k, m)^T : a (m, k);  B' = trans_b ? b (n, k)^T : b (k, n) */
TR_FN void tr_gemm_f32(const float *a, const float *b, float *y, float *pack, int64_t m,
                       int64_t k, int64_t n, int64_t trans_a, int64_t trans_b, float alpha,
                       int64_t accumulate)
{
	tr_sgemm(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, b, trans_b ? 1 : n,
	         trans_b ? k : 1, y, n, (int)accumulate, pack);
}
/*@end*/

/*@ tr_gemm_packed_f32 : tr_sgemm_impl */
/* y (m, n) = alpha * A' (m, k) @ B (k, n) [+ y when accumulate], A' = trans_a ? a (k, m)^T :
 * a (m, k); B a weight packed by tr_gemm_prepack_f32 when the model was compiled */
TR_FN void tr_gemm_packed_f32(const float *a, const float *bp, float *y, float *pack, int64_t m,
                              int64_t k, int64_t n, int64_t trans_a, float alpha,
                              int64_t accumulate)
{
	tr_sgemm_impl(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, (const float *)0, 0, 0, bp,
	              y, n, (int)accumulate, pack);
}
/*@end*/

/*@ tr_gemm_packed_start_f32 : tr_sgemm_epi */
/* y (m, n) = [start (m, n) +] [beta * bias (n) +] alpha * A' (m, k) @ B (k, n), the
 * start and bias added as each output tile is made (TrEpi), in the order the
 * separate fill and accumulate would; A' = trans_a ? a (k, m)^T : a (m, k); B a
 * weight packed when the model was compiled; y must not alias start */
TR_FN void tr_gemm_packed_start_f32(const float *a, const float *bp, const float *bias,
                                    const float *start, float *y, float *pack, int64_t m,
                                    int64_t k, int64_t n, int64_t trans_a, float alpha,
                                    float beta, int64_t has_bias, int64_t has_start)
{
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0};
	e.bias = has_bias ? bias : (const float *)0;
	e.start = has_start ? start : (const float *)0;
	e.beta = beta;
	e.lds = n;
	tr_sgemm_epi(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, (const float *)0, 0, 0, bp,
	             y, n, 0, pack, &e);
}
/*@end*/

/*@ tr_gemm_packed_parts_f32 : tr_sgemm_part */
/* tr_gemm_packed_start_f32 without a start, on np parts of y (m, ldy) only:
 * bp holds n packed columns, columns [off, off + n) of the weight; part p is
 * rows [parts[4p], parts[4p+1]) x columns [parts[4p+2], parts[4p+3]) of
 * those n, its first column a multiple of TR_GEMM_PB (compiler/passes/demand.c
 * finds the parts that the readers of y use); the rest of y is not written */
TR_FN void tr_gemm_packed_parts_f32(const float *a, const float *bp, const float *bias, float *y,
                                    float *pack, int64_t m, int64_t k, int64_t n, int64_t ldy,
                                    int64_t off, float alpha, float beta, int64_t has_bias,
                                    int64_t np, const int64_t *parts)
{
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0};
	(void)m;
	e.bias = has_bias ? bias + off : (const float *)0;
	e.beta = beta;
	for (int64_t p = 0; p < np; p++)
		tr_sgemm_part(parts[4 * p], parts[4 * p + 1], parts[4 * p + 2], parts[4 * p + 3], n, k,
		              alpha, a, k, 1, (const float *)0, 0, 0, bp, y + off, ldy, 0, pack, &e);
}
/*@end*/

/*@ tr_gemm_bias_f32 : tr_common */
/* c (cm, cn) broadcast to (m, n), cm in {1, m}, cn in {1, n} -> y (m, n) = beta * c */
TR_FN void tr_gemm_bias_f32(const float *c, float *y, int64_t m, int64_t n, int64_t cm,
                            int64_t cn, float beta)
{
	TR_OMP(omp parallel for schedule(static) if (m * n >= TR_PAR_MIN))
	for (int64_t i = 0; i < m; i++) {
		const float *cr = c + (cm == 1 ? 0 : i * cn);
		float *yr = y + i * n;
		if (cn == 1)
			for (int64_t j = 0; j < n; j++)
				yr[j] = beta * cr[0];
		else
			for (int64_t j = 0; j < n; j++)
				yr[j] = beta * cr[j];
	}
}
/*@end*/

/*@ tr_gemm_residual_f32 : tr_common */
/* r (m, n) + beta * c (cm, cn) broadcast -> y (m, n); no c when has_c is 0:
 * the start of a GemmResidual, whose product is then accumulated into y */
TR_FN void tr_gemm_residual_f32(const float *c, const float *r, float *y, int64_t m, int64_t n,
                                int64_t cm, int64_t cn, float beta, int64_t has_c)
{
	TR_OMP(omp parallel for schedule(static) if (m * n >= TR_PAR_MIN))
	for (int64_t i = 0; i < m; i++) {
		const float *rr = r + i * n;
		float *yr = y + i * n;
		if (!has_c) {
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j];
			continue;
		}
		const float *cr = c + (cm == 1 ? 0 : i * cn);
		if (cn == 1)
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j] + beta * cr[0];
		else
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j] + beta * cr[j];
	}
}
/*@end*/

/*@ tr_matmul_f32 : tr_sgemm */
/*
 * Batched matmul with broadcast batch dims: for every batch index (i_0..i_{nb-1})
 * of bdims, y[batch] (m, n) = a[batch] (m, k) @ b[batch] (k, n), where the
 * batch's matrix starts at sum(i_d * astr[d]) in a and sum(i_d * bstr[d]) in b
 * (strides in elements, 0 on broadcast dims); y is contiguous.
 */
TR_FN void tr_matmul_f32(const float *a, const float *b, float *y, float *pack, int64_t m,
                         int64_t k, int64_t n, int64_t nb, const int64_t *bdims,
                         const int64_t *astr, const int64_t *bstr)
{
	int64_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 1, ao = 0, bo = 0;
	for (int64_t d = 0; d < nb; d++)
		total *= bdims[d];
	for (int64_t t = 0; t < total; t++) {
		tr_sgemm(m, n, k, 1.0f, a + ao, k, 1, b + bo, n, 1, y + t * m * n, n, 0, pack);
		/* odometer over the batch dims, last fastest */
		for (int64_t d = nb - 1; d >= 0; d--) {
			ao += astr[d];
			bo += bstr[d];
			if (++idx[d] < bdims[d])
				break;
			ao -= astr[d] * bdims[d];
			bo -= bstr[d] * bdims[d];
			idx[d] = 0;
		}
	}
}
/*@end*/

/*@ tr_conv_f32 tr_conv_row tr_conv_row3 tr_conv_in_row tr_conv_pack_line tr_conv_col_floats : tr_sgemm_epi */
/*
 * One output row of an im2col line: d[i] = s[i * st + off] for i in [lo, hi)
 * (s the input row, off the tap's offset; only those elements are read),
 * d[i] = 0 for the rest of [0, w).  With AVX-512 every part is whole or masked
 * vectors (stride 2 through a permute of two loads), so no element is read
 * twice and no loop becomes a libc call; else blocks of 16 (AVX2: stride 2
 * through a shuffle) and scalar edges.
 */
#if defined(TR_GEMM_AVX512)
TR_FN void tr_conv_row(float *restrict d, const float *restrict s, int64_t off, int64_t w,
                       int64_t lo, int64_t hi, int64_t st)
{
	const __m512 z = _mm512_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= lo; i += 16)
		_mm512_storeu_ps(d + i, z);
	if (i < lo)
		_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << (lo - i)) - 1u), z);
	i = lo;
	if (st == 1) {
		for (; i + 16 <= hi; i += 16)
			_mm512_storeu_ps(d + i, _mm512_loadu_ps(s + i + off));
		if (i < hi) {
			__mmask16 m = (__mmask16)((1u << (hi - i)) - 1u);
			_mm512_mask_storeu_ps(d + i, m, _mm512_maskz_loadu_ps(m, s + i + off));
		}
	} else if (st == 2) {
		/* d[i..i+15] = t[0], t[2] .. t[30], t = s + 2i + off: the even lanes of
		 * two loads, the second stopping at t[30] */
		const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6,
		                                    4, 2, 0);
		for (; i + 16 <= hi; i += 16) {
			const float *t = s + 2 * i + off;
			__m512 a = _mm512_loadu_ps(t), b = _mm512_maskz_loadu_ps(0x7fff, t + 16);
			_mm512_storeu_ps(d + i, _mm512_permutex2var_ps(a, ev, b));
		}
		if (i < hi) {
			/* c < 16 elements: t[0] .. t[2c - 2], 2c - 1 floats */
			const float *t = s + 2 * i + off;
			int64_t c = hi - i, f = 2 * c - 1;
			__mmask16 m1 = (__mmask16)(f >= 16 ? 0xffffu : (1u << f) - 1u);
			__mmask16 m2 = (__mmask16)(f > 16 ? (1u << (f - 16)) - 1u : 0u);
			__m512 a = _mm512_maskz_loadu_ps(m1, t), b = _mm512_maskz_loadu_ps(m2, t + 16);
			_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << c) - 1u), _mm512_permutex2var_ps(a, ev, b));
		}
	} else {
		for (; i < hi; i++)
			d[i] = s[i * st + off];
	}
	for (i = hi; i + 16 <= w; i += 16)
		_mm512_storeu_ps(d + i, z);
	if (i < w)
		_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << (w - i)) - 1u), z);
}
/*
 * The three taps of a 3-wide, stride-2, pad-1 kernel row at once (the vision
 * stems' convs): d0[i] = s[2i - 1], d1[i] = s[2i], d2[i] = s[2i + 1] for i in
 * [0, w), 0 where the index falls outside the row s[0, n).  Each block of 16
 * outputs is two (masked) loads, the even and odd lanes by permutes, and the
 * odd lanes moved up one lane with the last of the block before for d0:
 * the same values as three tr_conv_row calls, from one pass over the row.
 */
#define TR_CONV_ROW3 1
TR_FN void tr_conv_row3(float *restrict d0, float *restrict d1, float *restrict d2,
                        const float *restrict s, int64_t w, int64_t n)
{
	const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
	__m512 prev = _mm512_setzero_ps();   /* s[-1]: the padding */
	for (int64_t i = 0; i < w; i += 16) {
		/* s[2i .. 2i + 31], the part inside the row */
		int64_t f = n - 2 * i;
		__mmask16 m1 = (__mmask16)(f >= 16 ? 0xffffu : f > 0 ? (1u << f) - 1u : 0u);
		__mmask16 m2 = (__mmask16)(f >= 32 ? 0xffffu : f > 16 ? (1u << (f - 16)) - 1u : 0u);
		__m512 a = _mm512_maskz_loadu_ps(m1, s + 2 * i), b = _mm512_maskz_loadu_ps(m2, s + 2 * i + 16);
		__m512 e = _mm512_permutex2var_ps(a, ev, b), o = _mm512_permutex2var_ps(a, od, b);
		__m512 l = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(o),
		                                                  _mm512_castps_si512(prev), 15));
		__mmask16 k = (__mmask16)(w - i >= 16 ? 0xffffu : (1u << (w - i)) - 1u);
		_mm512_mask_storeu_ps(d0 + i, k, l);
		_mm512_mask_storeu_ps(d1 + i, k, e);
		_mm512_mask_storeu_ps(d2 + i, k, o);
		prev = o;
	}
}
/* copy 32 floats (one strip row of the packed col) */
#define TR_CONV_COPY32(d, s)                                                              \
	(_mm512_storeu_ps((d), _mm512_loadu_ps(s)), _mm512_storeu_ps((d) + 16, _mm512_loadu_ps((s) + 16)))
#else
TR_FN void tr_conv_row(float *restrict d, const float *restrict s, int64_t off, int64_t w,
                       int64_t lo, int64_t hi, int64_t st)
{
	int64_t i = 0;
	for (; i < lo; i++)
		d[i] = 0.0f;
	/* blocks of 16: plain -O2 vectorises fixed-count loops */
	int64_t h16 = i + (hi - i) / 16 * 16;
	if (st == 1) {
		for (; i < h16; i += 16)
			for (int l = 0; l < 16; l++)
				d[i + l] = s[i + l + off];
	} else if (st == 2) {
#if defined(TR_GEMM_AVX2)
		/* the even lanes of two loads from t = s + 2i + off, the second stopping at t[14] */
		const __m256i m7 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
		for (; i < h16; i += 8) {
			const float *t = s + 2 * i + off;
			__m256 a = _mm256_loadu_ps(t), b = _mm256_maskload_ps(t + 8, m7);
			__m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   /* 0 2 8 10 4 6 12 14 */
			_mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e),
			                                                                _MM_SHUFFLE(3, 1, 2, 0))));
		}
#else
		for (; i < h16; i += 16)
			for (int l = 0; l < 16; l++)
				d[i + l] = s[2 * (i + l) + off];
#endif
	}
	for (; i < hi; i++)
		d[i] = s[i * st + off];
	for (; i < w; i++)
		d[i] = 0.0f;
}
#if defined(TR_GEMM_AVX2)
/* tr_conv_row3 (above) in blocks of 8: the even and odd lanes of two loads by
 * shuffles, row 0 the odd lanes rotated up one lane with the last odd one of
 * the block before blended into lane 0 */
#define TR_CONV_ROW3 1
TR_FN void tr_conv_row3(float *restrict d0, float *restrict d1, float *restrict d2,
                        const float *restrict s, int64_t w, int64_t n)
{
	const __m256i up = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256 prev = _mm256_setzero_ps();   /* rotated: lane 0 is s[-1], the padding */
	for (int64_t i = 0; i < w; i += 8) {
		/* s[2i .. 2i + 15], the part inside the row: lanes below f, f - 8 */
		int64_t f = n - 2 * i, c = w - i;
		__m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(TR_MAX(f, 0), 16)), lane);
		__m256i m2 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(TR_MAX(f - 8, 0), 8)), lane);
		__m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(c, 8)), lane);
		__m256 a = _mm256_maskload_ps(s + 2 * i, m1), b = _mm256_maskload_ps(s + 2 * i + 8, m2);
		__m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   /* 0 2 8 10 4 6 12 14 */
		__m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));   /* 1 3 9 11 5 7 13 15 */
		e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
		o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
		__m256 r = _mm256_permutevar8x32_ps(o, up);                    /* o7 o0 .. o6 */
		_mm256_maskstore_ps(d0 + i, k, _mm256_blend_ps(r, prev, 1));
		_mm256_maskstore_ps(d1 + i, k, e);
		_mm256_maskstore_ps(d2 + i, k, o);
		prev = r;
	}
}
#define TR_CONV_COPY32(d, s)                                                              \
	(_mm256_storeu_ps((d), _mm256_loadu_ps(s)), _mm256_storeu_ps((d) + 8, _mm256_loadu_ps((s) + 8)), \
	 _mm256_storeu_ps((d) + 16, _mm256_loadu_ps((s) + 16)),                              \
	 _mm256_storeu_ps((d) + 24, _mm256_loadu_ps((s) + 24)))
#else
#define TR_CONV_COPY32(d, s)                                                              \
	do {                                                                              \
		for (int l_ = 0; l_ < 32; l_++)                                           \
			(d)[l_] = (s)[l_];                                                \
	} while (0)
#endif
#endif

/*
 * Convolution, NC + up to 3 spatial dims (1-D/2-D padded with size-1 dims).
 * x (nb, c, in...), w (mo, c/g, k...), bias (mo) when has_bias -> y (nb, mo, out...)
 * p = in[3], out[3], kernel[3], stride[3], dilation[3], pads[6].
 * Each group is GEMMs w_g (mo/g, c/g * K) @ col (c/g * K, pixels) on blocks of
 * output rows, col the im2col of one block (tr_conv_block_rows rows, so that
 * col and the output tile stay in cache; skipped for 1x1/stride 1/no pad,
 * which multiplies the input in place as one block).  col is written straight
 * in the layout of a compile-time packed weight (tr_gemm_prepack_f32: k blocks
 * of KC rows, each in PB-wide strips), one im2col row at a time through a
 * line of the block's pixels (the three taps of a 3-wide, stride-2, pad-1
 * kernel row at once through three lines, tr_conv_row3, with AVX-512 or
 * AVX2), so the GEMM packs nothing.  The bias (per
 * output channel) and, when gelu, the GELU are the GEMM's epilogue (TrEpi),
 * done on each output tile while it is in cache.  Each output element is the
 * same fma chain whatever the blocking.
 * scratch: tr_conv_col_floats(c/g * K, block pixels) floats (none when
 * skipped), then tr_sgemm's packing for that block, with at least 4 rows (A
 * panels are packed even below 4 rows: B is in the packed layout).
 */
#define TR_CONV_COLF 262144 /* floats of one im2col block: 1 MB */
/* output rows (of w pixels each, rows in all) per im2col block of a kdim-row
 * col: as many as TR_CONV_COLF floats hold, in whole units of u rows, u * w
 * a multiple of the PB-wide strips, so that no strip of the block is cut
 * (56 x 10 = 560 pixels left a half strip, 56 x 8 = 448 none); one unit
 * even past TR_CONV_COLF, up to twice it, when less than a unit fits */
TR_FN int64_t tr_conv_block_rows(int64_t kdim, int64_t rows, int64_t w)
{
	int64_t r = kdim * w > 0 ? TR_CONV_COLF / (kdim * w) : rows, u = TR_GEMM_PB, a = w;
	r = TR_MAX(1, TR_MIN(r, rows));
	if (r == rows || w <= 0)
		return r;
	while (a % 2 == 0 && u > 1)   /* u = PB / gcd(w, PB), PB a power of two */
		a /= 2, u /= 2;
	if (r >= u)
		return r / u * u;
	return u <= rows && u * w * kdim <= 2 * TR_CONV_COLF ? u : r;
}
/* the input row (in[2] floats) of channel ci that output row r (od, oh) reads
 * through kernel row (kd, kh), or null where that falls in the padding; p as
 * for tr_conv_f32 */
TR_FN const float *tr_conv_in_row(const float *xg, const int64_t *p, int64_t ci, int64_t kd,
                                  int64_t kh, int64_t r)
{
	const int64_t *in = p, *out = p + 3, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t id = r / out[1] * st[0] - pb[0] + kd * dl[0];
	int64_t ih = r % out[1] * st[1] - pb[1] + kh * dl[1];
	if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1])
		return (const float *)0;
	return xg + ((ci * in[0] + id) * in[1] + ih) * in[2];
}
/* floats of tr_conv_f32's col scratch for blocks of qb pixels: the packed col
 * (kdim, qb rounded up to PB) and three lines (qb each: the taps of one
 * kernel row at once), each rounded up to 16 */
TR_FN int64_t tr_conv_col_floats(int64_t kdim, int64_t qb)
{
	int64_t npad = (qb + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	return (kdim * npad + 15) / 16 * 16 + 3 * ((qb + 15) / 16 * 16);
}
/* one im2col row, line (qb), into row pk of its k block (kcb rows deep) of the
 * packed col at dst = k block + pk * PB: PB floats per strip, strips PB * kcb
 * apart, the last zero-padded */
TR_FN void tr_conv_pack_line(float *restrict dst, const float *restrict line, int64_t qb,
                             int64_t kcb)
{
	int64_t q = 0;
	for (; q + TR_GEMM_PB <= qb; q += TR_GEMM_PB, dst += TR_GEMM_PB * kcb)
		TR_CONV_COPY32(dst, line + q);
	if (q < qb)
		for (int l = 0; l < TR_GEMM_PB; l++)
			dst[l] = q + l < qb ? line[q + l] : 0.0f;
}
TR_FN void tr_conv_f32(const float *x, const float *w, const float *bias, float *y,
                       float *scratch, int64_t nb, int64_t c, int64_t mo, int64_t g,
                       int64_t has_bias, int64_t gelu, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t cg = c / g, mg = mo / g;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	int64_t kk = ks[0] * ks[1] * ks[2], kdim = cg * kk, rows = out[0] * out[1];
	int direct = kk == 1 && st[0] == 1 && st[1] == 1 && st[2] == 1 && pb[0] == 0 &&
	             pb[1] == 0 && pb[2] == 0 && osz == isz;
	int64_t rb = direct ? rows : tr_conv_block_rows(kdim, rows, out[2]);
	int64_t qmax = rb * out[2], npmax = (qmax + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	float *col = scratch, *line = col + (kdim * npmax + 15) / 16 * 16;
#ifdef TR_CONV_ROW3
	int64_t lstride = (qmax + 15) / 16 * 16;   /* the three lines, lstride apart */
	int row3 = ks[2] == 3 && st[2] == 2 && dl[2] == 1 && pb[2] == 1;
#endif
	float *pack = direct ? scratch : scratch + tr_conv_col_floats(kdim, qmax);
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0};
	e.gelu = (int)gelu;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t gi = 0; gi < g; gi++) {
			const float *xg = x + (b * c + gi * cg) * isz;
			float *yg = y + (b * mo + gi * mg) * osz;
			e.rbias = has_bias ? bias + gi * mg : (const float *)0;
			for (int64_t r0 = 0; r0 < rows; r0 += rb) {
				int64_t r1 = TR_MIN(r0 + rb, rows), q0 = r0 * out[2], qb = (r1 - r0) * out[2];
				int64_t npad = (qb + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB, kr = 0;
				if (!direct) {
					/* col (cg * K, qb): row kr = (ci, kd, kh, kw), column (od, oh, ow)
					 * of the block, made in line and packed */
					for (int64_t ci = 0; ci < cg; ci++)
						for (int64_t kd = 0; kd < ks[0]; kd++)
							for (int64_t kh = 0; kh < ks[1]; kh++) {
#ifdef TR_CONV_ROW3
								if (row3) {
									/* the kernel row's three taps in one pass per input row */
									float *cr = line;
									for (int64_t r = r0; r < r1; r++, cr += out[2]) {
										const float *xr = tr_conv_in_row(xg, p, ci, kd, kh, r);
										tr_conv_row3(cr, cr + lstride, cr + 2 * lstride, xr ? xr : xg,
										             out[2], xr ? in[2] : 0);
									}
									for (int64_t kw = 0; kw < 3; kw++, kr++) {
										int64_t k0 = kr / TR_GEMM_KC * TR_GEMM_KC;
										tr_conv_pack_line(col + k0 * npad + (kr - k0) * TR_GEMM_PB,
										                  line + kw * lstride, qb,
										                  TR_MIN(TR_GEMM_KC, kdim - k0));
									}
									continue;
								}
#endif
								for (int64_t kw = 0; kw < ks[2]; kw++, kr++) {
									/* iw = ow * s2 + off is inside [0, in[2]) for ow in [lo, hi) */
									float *cr = line;
									int64_t s2 = st[2], off = kw * dl[2] - pb[2];
									int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;
									int64_t hi = in[2] - off <= 0 ? 0 : (in[2] - off + s2 - 1) / s2;
									lo = TR_MIN(lo, out[2]);
									hi = TR_MIN(TR_MAX(hi, lo), out[2]);
									for (int64_t r = r0; r < r1; r++, cr += out[2]) {
										const float *xr = tr_conv_in_row(xg, p, ci, kd, kh, r);
										if (xr)
											tr_conv_row(cr, xr, off, out[2], lo, hi, s2);
										else
											tr_conv_row(cr, xg, 0, out[2], 0, 0, 1);   /* zeros */
									}
									int64_t k0 = kr / TR_GEMM_KC * TR_GEMM_KC;
									tr_conv_pack_line(col + k0 * npad + (kr - k0) * TR_GEMM_PB,
									                  line, qb, TR_MIN(TR_GEMM_KC, kdim - k0));
								}
							}
				}
				tr_sgemm_epi(mg, qb, kdim, 1.0f, w + gi * mg * kdim, kdim, 1, xg + q0, osz, 1,
				             direct ? (const float *)0 : col, yg + q0, osz, 0, pack,
				             has_bias || gelu ? &e : (const TrEpi *)0);
			}
		}
}

/*@end*/

/*@ tr_conv_tapmajor : tr_common */
/* A weight w (mg, cg, K) with its columns in tap-major order: wt[o][t * cg +
 * ci] = w[o][ci * K + t], the order of tr_conv_im2row's columns (lower_conv
 * packs wt; compile time only, never emitted) */
TR_FN void tr_conv_tapmajor(const float *w, float *wt, int64_t mg, int64_t cg, int64_t kk)
{
	for (int64_t o = 0; o < mg; o++)
		for (int64_t ci = 0; ci < cg; ci++)
			for (int64_t t = 0; t < kk; t++)
				wt[(o * kk + t) * cg + ci] = w[(o * cg + ci) * kk + t];
}
/*@end*/

/*@ tr_conv_packed_f32 tr_conv_im2row tr_conv_transpose : tr_sgemm_impl tr_gelu_row */
#define TR_CONV_PC 252 /* output pixels per GEMM block: a multiple of every MR, <= every MC */

/*
 * dst[j * ldd + i] = src[i * lds + j] (+ bias[j] when bias) for i < rows, j <
 * cols: a transpose in 16 x 16 blocks.  With AVX-512 each block is sixteen
 * (masked) loads, an in-register transpose and sixteen (masked) stores; else
 * plain loops over the block.  The bias is added after the transpose, so each
 * element is src + bias, as a separate pass would make it.
 */
TR_FN void tr_conv_transpose(float *restrict dst, int64_t ldd, const float *restrict src,
                             int64_t lds, int64_t rows, int64_t cols, const float *bias)
{
	for (int64_t i0 = 0; i0 < rows; i0 += 16)
		for (int64_t j0 = 0; j0 < cols; j0 += 16) {
			int64_t nr = TR_MIN(16, rows - i0), nc = TR_MIN(16, cols - j0);
#if defined(TR_GEMM_AVX512)
			__mmask16 mc = (__mmask16)((1u << nc) - 1u), mr = (__mmask16)((1u << nr) - 1u);
			__m512 r[16], t[16];
			for (int i = 0; i < 16; i++)
				r[i] = i < nr ? _mm512_maskz_loadu_ps(mc, src + (i0 + i) * lds + j0)
				              : _mm512_setzero_ps();
			for (int i = 0; i < 16; i += 2) {   /* pairs of rows, within 128-bit lanes */
				t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
				t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
			}
			/* r[4 q + c], lane l: rows 4 q .. 4 q + 3 of column 4 l + c */
			for (int q = 0; q < 4; q++) {
				r[4 * q] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
				r[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
				r[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
				r[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
			}
			/* t[4 l + c]: column 4 l + c, lanes from r[c], r[4 + c], r[8 + c], r[12 + c] */
			for (int c = 0; c < 4; c++) {
				__m512 w0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
				__m512 w1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
				__m512 w2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
				__m512 w3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
				t[c] = _mm512_shuffle_f32x4(w0, w2, 0x88);
				t[8 + c] = _mm512_shuffle_f32x4(w0, w2, 0xDD);
				t[4 + c] = _mm512_shuffle_f32x4(w1, w3, 0x88);
				t[12 + c] = _mm512_shuffle_f32x4(w1, w3, 0xDD);
			}
			for (int j = 0; j < nc; j++) {
				__m512 v = t[j];
				if (bias)
					v = _mm512_add_ps(v, _mm512_set1_ps(bias[j0 + j]));
				_mm512_mask_storeu_ps(dst + (j0 + j) * ldd + i0, mr, v);
			}
#else
			for (int64_t j = 0; j < nc; j++) {
				float bv = bias ? bias[j0 + j] : 0.0f;
				float *restrict d = dst + (j0 + j) * ldd + i0;
				const float *restrict s = src + i0 * lds + j0 + j;
				if (bias)
					for (int64_t i = 0; i < nr; i++)
						d[i] = s[i * lds] + bv;
				else
					for (int64_t i = 0; i < nr; i++)
						d[i] = s[i * lds];
			}
#endif
		}
}

/*
 * im2col, one row per output pixel, of output pixels [q0, q1) of one group,
 * from xt, the group's input with channels last (in[0] * in[1] * in[2], cg):
 * colT (q1 - q0, kdim), row (od, oh, ow), columns tap-major (kd, kh, kw, ci),
 * so each tap is the cg channels of one input pixel copied whole, or zeros
 * where the tap falls in the padding.  p as for tr_conv_f32.
 */
TR_FN void tr_conv_im2row(const float *xt, float *colT, int64_t cg, const int64_t *p, int64_t q0,
                          int64_t q1)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	float *restrict d = colT;
	for (int64_t q = q0; q < q1; q++) {
		int64_t ow = q % out[2], oh = q / out[2] % out[1], od = q / out[2] / out[1];
		for (int64_t kd = 0; kd < ks[0]; kd++) {
			int64_t id = od * st[0] - pb[0] + kd * dl[0];
			for (int64_t kh = 0; kh < ks[1]; kh++) {
				int64_t ih = oh * st[1] - pb[1] + kh * dl[1];
				for (int64_t kw = 0; kw < ks[2]; kw++, d += cg) {
					int64_t iw = ow * st[2] - pb[2] + kw * dl[2];
					int inside = id >= 0 && id < in[0] && ih >= 0 && ih < in[1] && iw >= 0 &&
					             iw < in[2];
					const float *restrict s = inside ? xt + ((id * in[1] + ih) * in[2] + iw) * cg : xt;
					int64_t c = 0;
#if defined(TR_GEMM_AVX512)
					for (; c + 16 <= cg; c += 16)
						_mm512_storeu_ps(d + c, inside ? _mm512_loadu_ps(s + c) : _mm512_setzero_ps());
					if (c < cg) {
						__mmask16 m = (__mmask16)((1u << (cg - c)) - 1u);
						_mm512_mask_storeu_ps(d + c, m, inside ? _mm512_maskz_loadu_ps(m, s + c)
						                                       : _mm512_setzero_ps());
					}
#else
					if (inside) {
						for (; c + 16 <= cg; c += 16)
							for (int l = 0; l < 16; l++)
								d[c + l] = s[c + l];
						for (int l = 0; l < 16 && c + l < cg; l++)   /* bounded: see tr_gelu_row */
							d[c + l] = s[c + l];
					} else {
						for (; c + 16 <= cg; c += 16)
							for (int l = 0; l < 16; l++)
								d[c + l] = 0.0f;
						for (int l = 0; l < 16 && c + l < cg; l++)
							d[c + l] = 0.0f;
					}
#endif
				}
			}
		}
	}
}

/*
 * Convolution with a constant weight packed when the model was compiled.
 * x (nb, c, in...), wp (g, kdim, round_up(mo/g, TR_GEMM_PB)): per group g, W_g^T
 * (kdim, mo/g) packed by tr_gemm_prepack_f32, kdim = c/g * K, its rows
 * tap-major (tr_conv_tapmajor) unless direct; bias (mo) when has_bias ->
 * y (nb, mo, out...); p as for tr_conv_f32.
 * Per image and group: xt = x_g with channels last (tr_conv_transpose), then
 * per block of at most TR_CONV_PC output pixels:
 * colT (pc, kdim) = im2row(xt) (x_g itself, transposed, for 1x1/stride 1/no pad),
 * yT (pc, mpad) = colT @ W_g^T, then y_g (mo/g, pc) = yT^T + bias
 * (tr_conv_transpose), and gelu(y_g) when gelu (bitwise the separate
 * tr_gelu_f32).
 * The product runs over the packed weight's zero-padded width mpad =
 * round_up(mo/g, TR_GEMM_PB), so every micro-tile is a full one.
 * scratch (64-byte aligned): xt cg * isz floats and colT pc * kdim floats
 * (neither when direct), yT pc * mpad floats, each rounded up to a multiple
 * of 16, then tr_sgemm_impl's packing for (max(pc, 4), kdim) @ (kdim, mpad);
 * pc = min(P, TR_CONV_PC).
 */
TR_FN void tr_conv_packed_f32(const float *x, const float *wp, const float *bias, float *y,
                              float *scratch, int64_t nb, int64_t c, int64_t mo, int64_t g,
                              int64_t has_bias, int64_t gelu, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *pb = p + 15;
	int64_t cg = c / g, mg = mo / g;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	int64_t kdim = cg * ks[0] * ks[1] * ks[2];
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB, pc = TR_MIN(osz, TR_CONV_PC);
	int direct = kdim == cg && st[0] == 1 && st[1] == 1 && st[2] == 1 && pb[0] == 0 &&
	             pb[1] == 0 && pb[2] == 0 && osz == isz;
	float *xt = scratch, *colT = xt + (direct ? 0 : (cg * isz + 15) / 16 * 16);
	float *yT = colT + (direct ? 0 : (pc * kdim + 15) / 16 * 16);
	float *pack = yT + (pc * mpad + 15) / 16 * 16;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t gi = 0; gi < g; gi++) {
			const float *xg = x + (b * c + gi * cg) * isz, *wg = wp + gi * kdim * mpad;
			const float *bg = has_bias ? bias + gi * mg : (const float *)0;
			float *yg = y + (b * mo + gi * mg) * osz;
			if (!direct)
				tr_conv_transpose(xt, cg, xg, isz, cg, isz, (const float *)0);
			for (int64_t q0 = 0; q0 < osz; q0 += pc) {
				int64_t m = TR_MIN(pc, osz - q0);
				if (direct) {
					tr_sgemm_impl(m, mpad, kdim, 1.0f, xg + q0, 1, isz, (const float *)0, 0, 0, wg,
					              yT, mpad, 0, pack);
				} else {
					tr_conv_im2row(xt, colT, cg, p, q0, q0 + m);
					tr_sgemm_impl(m, mpad, kdim, 1.0f, colT, kdim, 1, (const float *)0, 0, 0, wg,
					              yT, mpad, 0, pack);
				}
				/* y_g[:, q0:q0+m] = yT^T (+ bias) */
				tr_conv_transpose(yg + q0, osz, yT, mpad, m, mg, bg);
				if (gelu)
					for (int64_t o = 0; o < mg; o++)
						tr_gelu_row(yg + o * osz + q0, m);
			}
		}
}
/*@end*/

/*@ tr_conv_depthwise_f32 : tr_gelu_row */
/* Convolution with one input channel per group (depthwise, c/g == 1), direct loops.
 * x (nb, c, in...), w (mo, 1, k...), bias (mo) when has_bias -> y (nb, mo, out...),
 * then y = gelu(y) when gelu (bitwise the separate tr_gelu_f32) */
TR_FN void tr_conv_depthwise_f32(const float *x, const float *w, const float *bias, float *y,
                                 int64_t nb, int64_t c, int64_t mo, int64_t has_bias,
                                 int64_t gelu, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t mg = mo / c, isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	int64_t kk = ks[0] * ks[1] * ks[2];
	for (int64_t b = 0; b < nb; b++)
		for (int64_t o = 0; o < mo; o++) {
			const float *xc = x + (b * c + o / mg) * isz, *wk = w + o * kk;
			float *yo = y + (b * mo + o) * osz;
			float bv = has_bias ? bias[o] : 0.0f;
			for (int64_t od = 0; od < out[0]; od++)
				for (int64_t oh = 0; oh < out[1]; oh++)
					for (int64_t ow = 0; ow < out[2]; ow++) {
						float s = bv;
						for (int64_t kd = 0; kd < ks[0]; kd++) {
							int64_t id = od * st[0] - pb[0] + kd * dl[0];
							if (id < 0 || id >= in[0])
								continue;
							for (int64_t kh = 0; kh < ks[1]; kh++) {
								int64_t ih = oh * st[1] - pb[1] + kh * dl[1];
								if (ih < 0 || ih >= in[1])
									continue;
								const float *xr = xc + (id * in[1] + ih) * in[2];
								const float *wr = wk + (kd * ks[1] + kh) * ks[2];
								for (int64_t kw = 0; kw < ks[2]; kw++) {
									int64_t iw = ow * st[2] - pb[2] + kw * dl[2];
									if (iw >= 0 && iw < in[2])
										s += xr[iw] * wr[kw];
								}
							}
						}
						yo[(od * out[1] + oh) * out[2] + ow] = s;
					}
			if (gelu)
				tr_gelu_row(yo, osz);
		}
}
/*@end*/

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

/*@ tr_pool_f32 : tr_common */
/*
 * Pooling over up to 3 spatial dims: x (nc, in...) -> y (nc, out...);
 * p = in[3], out[3], kernel[3], stride[3], dilation[3], pads[6].
 * Padding never wins a max; an average divides by the number of input
 * elements in the window, or (count_include_pad) by the window's size
 * clipped to the padded input.
 */
TR_FN void tr_pool_f32(const float *x, float *y, int64_t nc, const int64_t *p, int is_max,
                       int64_t count_include_pad)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	const int64_t *pe = p + 18;
	int64_t isz = in[0] * in[1] * in[2];
	for (int64_t od = 0; od < out[0]; od++)
		for (int64_t oh = 0; oh < out[1]; oh++)
			for (int64_t ow = 0; ow < out[2]; ow++) {
				int64_t o[3] = {od, oh, ow}, lo[3], hi[3], cnt = 1;
				/* kernel taps [lo, hi) that land inside the input, per dim */
				for (int d = 0; d < 3; d++) {
					int64_t start = o[d] * st[d] - pb[d], t0 = 0, t1 = ks[d];
					while (t0 < t1 && start + t0 * dl[d] < 0)
						t0++;
					while (t1 > t0 && start + (t1 - 1) * dl[d] >= in[d])
						t1--;
					lo[d] = t0;
					hi[d] = t1;
					if (count_include_pad) {
						int64_t u = ks[d];
						while (u > 0 && start + (u - 1) * dl[d] >= in[d] + pe[d])
							u--;
						cnt *= u;
					} else {
						cnt *= t1 - t0;
					}
				}
				int64_t yo = (od * out[1] + oh) * out[2] + ow;
				for (int64_t ch = 0; ch < nc; ch++) {
					const float *xc = x + ch * isz;
					float acc = is_max ? -INFINITY : 0.0f;
					for (int64_t kd = lo[0]; kd < hi[0]; kd++) {
						int64_t id = od * st[0] - pb[0] + kd * dl[0];
						for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
							int64_t ih = oh * st[1] - pb[1] + kh * dl[1];
							const float *xr = xc + (id * in[1] + ih) * in[2];
							int64_t iw0 = ow * st[2] - pb[2];
							if (is_max) {
								for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
									float v = xr[iw0 + kw * dl[2]];
									acc = v > acc || v != v ? v : acc;
								}
							} else {
								for (int64_t kw = lo[2]; kw < hi[2]; kw++)
									acc += xr[iw0 + kw * dl[2]];
							}
						}
					}
					y[ch * out[0] * out[1] * out[2] + yo] =
						is_max ? acc : (cnt > 0 ? acc / (float)cnt : 0.0f);
				}
			}
}

/*@end*/

/*@ tr_maxpool_f32 : tr_pool_f32 */
/* max over each window: x (nc, in...) -> y (nc, out...) */
TR_FN void tr_maxpool_f32(const float *x, float *y, int64_t nc, const int64_t *p)
{
	tr_pool_f32(x, y, nc, p, 1, 0);
}

/*@end*/

/*@ tr_avgpool_f32 : tr_pool_f32 */
/* average over each window: x (nc, in...) -> y (nc, out...) */
TR_FN void tr_avgpool_f32(const float *x, float *y, int64_t nc, const int64_t *p,
                          int64_t count_include_pad)
{
	tr_pool_f32(x, y, nc, p, 0, count_include_pad);
}
/*@end*/

/*@ tr_global_avgpool_f32 : tr_common */
/* x (nc, s) -> y (nc) = mean over s */
TR_FN void tr_global_avgpool_f32(const float *x, float *y, int64_t nc, int64_t s)
{
	for (int64_t i = 0; i < nc; i++) {
		const float *xr = x + i * s;
		float acc = 0.0f;
		for (int64_t q = 0; q < s; q++)
			acc += xr[q];
		y[i] = s > 0 ? acc / (float)s : 0.0f;
	}
}
/*@end*/

/*@ tr_layernorm_f32 tr_ln_sums : tr_common */
/*
 * The row's sum (mu = 0) or sum of squared deviations from mu, in this
 * path's own order: with AVX-512 or AVX2, four independent vector chains
 * over blocks of 4 vectors, then one over the remaining whole vectors, a
 * masked (AVX-512) or scalar tail, and a tree of the lanes; else 8 lanes
 * that gcc vectorises, and a scalar tail.  (One chain of 8 lanes, as gcc
 * makes of the plain code, is latency-bound: about 90 ns for a row of 384.)
 */
#if defined(TR_GEMM_AVX512)
TR_FN float tr_ln_sums(const float *x, int64_t d, float mu, int sq)
{
	const __m512 m = _mm512_set1_ps(mu);
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	int64_t j = 0;
#define TR_LN_TERM(v) (sq ? _mm512_mul_ps(_mm512_sub_ps((v), m), _mm512_sub_ps((v), m)) : (v))
	for (; j + 64 <= d; j += 64) {
		a0 = _mm512_add_ps(a0, TR_LN_TERM(_mm512_loadu_ps(x + j)));
		a1 = _mm512_add_ps(a1, TR_LN_TERM(_mm512_loadu_ps(x + j + 16)));
		a2 = _mm512_add_ps(a2, TR_LN_TERM(_mm512_loadu_ps(x + j + 32)));
		a3 = _mm512_add_ps(a3, TR_LN_TERM(_mm512_loadu_ps(x + j + 48)));
	}
	for (; j + 16 <= d; j += 16)
		a0 = _mm512_add_ps(a0, TR_LN_TERM(_mm512_loadu_ps(x + j)));
	if (j < d) {
		/* masked lanes load 0: their term is 0 for the sum, (0 - mu)^2 else: zeroed */
		__mmask16 k = (__mmask16)((1u << (d - j)) - 1u);
		a1 = _mm512_add_ps(a1, _mm512_maskz_mov_ps(k, TR_LN_TERM(_mm512_maskz_loadu_ps(k, x + j))));
	}
#undef TR_LN_TERM
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
#elif defined(TR_GEMM_AVX2)
TR_FN float tr_ln_sums(const float *x, int64_t d, float mu, int sq)
{
	const __m256 m = _mm256_set1_ps(mu);
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	float t[8], s = 0.0f;
	int64_t j = 0;
#define TR_LN_TERM(v) (sq ? _mm256_mul_ps(_mm256_sub_ps((v), m), _mm256_sub_ps((v), m)) : (v))
	for (; j + 32 <= d; j += 32) {
		a0 = _mm256_add_ps(a0, TR_LN_TERM(_mm256_loadu_ps(x + j)));
		a1 = _mm256_add_ps(a1, TR_LN_TERM(_mm256_loadu_ps(x + j + 8)));
		a2 = _mm256_add_ps(a2, TR_LN_TERM(_mm256_loadu_ps(x + j + 16)));
		a3 = _mm256_add_ps(a3, TR_LN_TERM(_mm256_loadu_ps(x + j + 24)));
	}
	for (; j + 8 <= d; j += 8)
		a0 = _mm256_add_ps(a0, TR_LN_TERM(_mm256_loadu_ps(x + j)));
#undef TR_LN_TERM
	_mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
	for (; j < d; j++)
		s += sq ? (x[j] - mu) * (x[j] - mu) : x[j];
	return (((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]))) + s;
}
#else
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
		for (int l = 0; l < 16 && j + l < d; l++) /* bounded: see tr_gelu_row */ \
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

/*@ tr_proj_contract_f32 : tr_common tr_sgemm_axpy */
/* v (n) += w[0] * p0 (n) + ... + w[3] * p3 (n): four rows in one pass, each
 * element the same fma chain as four tr_sgemm_axpy calls in order */
TR_FN void tr_pc_axpy4(float *restrict v, const float *restrict p0, const float *restrict p1,
                       const float *restrict p2, const float *restrict p3, const float *w,
                       int64_t n)
{
	float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
	int64_t i = 0;
#define TR_PC_AXPY4(i)                                                                    \
	TR_FMA(w3, p3[i], TR_FMA(w2, p2[i], TR_FMA(w1, p1[i], TR_FMA(w0, p0[i], v[i]))))
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			v[i + l] = TR_PC_AXPY4(i + l);
	for (int l = 0; l < 16 && i + l < n; l++)   /* bounded: see tr_gelu_row */
		v[i + l] = TR_PC_AXPY4(i + l);
#undef TR_PC_AXPY4
}

/* a (n) . b (n): 16 ordered lanes, then their sum in order */
TR_FN float tr_pc_dot(const float *restrict a, const float *restrict b, int64_t n)
{
	float lane[16], d = 0.0f;
	int64_t i = 0;
	for (int l = 0; l < 16; l++)
		lane[l] = 0.0f;
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			lane[l] = TR_FMA(a[i + l], b[i + l], lane[l]);
	for (int l = 0; l < 16 && i + l < n; l++)
		lane[l] = TR_FMA(a[i + l], b[i + l], lane[l]);
	for (int l = 0; l < 16; l++)
		d += lane[l];
	return d;
}

/*
 * A contraction with a projection absorbed (op ProjContract, made by
 * compiler/passes/fuse_absorb.c).  For every output element s:
 *
 *   y[s] = v[grp[s]] . q[qrow[s]]  (+ the bias term below),
 *   v[g] = sum_t u[ia[g][t]] * p[prow[g][t]]   (rows of `in` floats),
 *
 * with u (the other operand of the contraction) read at run time, p and q
 * row-major matrices of `in` columns (one of them the projection's input
 * tokens, the other its weight columns gathered when the model was
 * compiled).  bias 1: y[s] += sum_t u[ia[g][t]] * b[prow[g][t]]; bias 2:
 * y[s] += b[qrow[s]] * sum_t u[ia[g][t]]; bias 0: none.  ia, prow (ng, nt),
 * grp, qrow (ns).  scratch: ng * in + ng floats (v, then the sums).  Each
 * v[g] is one ordered fma chain over t, each dot 16 ordered lanes then their
 * sum: the same result run to run.
 */
TR_FN void tr_proj_contract_f32(const float *u, const float *p, const float *q, const float *b,
                                const int64_t *ia, const int64_t *prow, const int64_t *grp,
                                const int64_t *qrow, float *y, float *scratch, int64_t ng,
                                int64_t nt, int64_t ns, int64_t in, int64_t bias)
{
	float *v = scratch, *sum = scratch + ng * in;
	for (int64_t g = 0; g < ng; g++) {
		const int64_t *ig = ia + g * nt, *pg = prow + g * nt;
		float *vg = v + g * in, s = 0.0f;
		for (int64_t i = 0; i < in; i++)
			vg[i] = 0.0f;
		for (int64_t t = 0; t < nt; t++)
			s = bias == 1 ? TR_FMA(u[ig[t]], b[pg[t]], s) : s + u[ig[t]];
		int64_t t = 0;
		for (; t + 4 <= nt; t += 4) {
			float w[4] = {u[ig[t]], u[ig[t + 1]], u[ig[t + 2]], u[ig[t + 3]]};
			tr_pc_axpy4(vg, p + pg[t] * in, p + pg[t + 1] * in, p + pg[t + 2] * in,
			            p + pg[t + 3] * in, w, in);
		}
		for (int r = 0; r < 3 && t < nt; r++, t++)   /* bounded: see tr_gelu_row */
			tr_sgemm_axpy(vg, p + pg[t] * in, u[ig[t]], in);
		sum[g] = s;
	}
	for (int64_t e = 0; e < ns; e++) {
		float d = tr_pc_dot(v + grp[e] * in, q + qrow[e] * in, in);
		if (bias == 1)
			d += sum[grp[e]];
		else if (bias == 2)
			d = TR_FMA(b[qrow[e]], sum[grp[e]], d);
		y[e] = d;
	}
}
/*@end*/

#endif
