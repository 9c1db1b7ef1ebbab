/*
 * config.h -- which GEMM micro-kernel a build uses, and the blocking of the
 * f32 GEMM (gemm/sgemm.h) that every path shares.
 *
 * Everything that multiplies matrices goes through tr_sgemm: op(B) is packed
 * in KC x NC blocks of NR-wide column strips, op(A) in MC x KC blocks of
 * MR-row panels (each packed once per k block), and an MR x NR micro-kernel
 * (gemm/micro_<isa>.h) keeps its accumulators in registers with the k loop
 * outermost.  The micro-kernel, and with it MR, NR and MC, is chosen when the
 * generated C is compiled, from the target flags; KC, NC and PB are the same
 * on every path, because weights are packed at compile time (by tostc, which
 * does not know the target) in KC blocks of PB-wide strips.  The compiler
 * sizes the packing scratch from the bounds over every path
 * (tr_gemm_pack_bytes, below).
 */
#ifndef TOSTC_RT_GEMM_CONFIG_H
#define TOSTC_RT_GEMM_CONFIG_H
#include "../common.h"

/*@ tr_gemm_isa : tr_common */
/*
 * The micro-kernel is chosen at C-compile time from the target flags:
 *   __AVX512F__            14 x 32 tile, 28 zmm accumulators (micro_avx512.h)
 *   __AVX2__ + __FMA__     6 x 16 tile, 12 ymm accumulators (micro_avx2.h)
 *   __ARM_NEON + aarch64   8 x 8 tile, 16 q accumulators (micro_neon.h)
 *   anything else          8 x TR_VW tile in portable C99 (micro_scalar.h)
 * Define TR_NO_SIMD to force the portable path.  Every path computes each
 * y[i][j] as the same ordered chain of fused (or, in portable C without a
 * fast fmaf, unfused) multiply-adds over p, so a path is bit-identical run to
 * run.  The LayerNorm sums and the convolutions' im2col follow the same
 * choice (norm/layernorm_<isa>.h, conv/im2col_<isa>.h).
 */
#if !defined(TR_NO_SIMD) && defined(__AVX512F__)
#define TR_GEMM_AVX512 1
#elif !defined(TR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define TR_GEMM_AVX2 1
#elif !defined(TR_NO_SIMD) && defined(__ARM_NEON) && defined(__aarch64__)
#define TR_GEMM_NEON 1
#else
#define TR_GEMM_SCALAR 1
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
/*@end*/

/*@ tr_gemm_config : tr_gemm_isa */
#if defined(TR_GEMM_AVX512)
#define TR_GEMM_MR 14       /* micro-tile rows: 196 tokens (14 x 14 patches) are 14 panels */
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
 * each output tile is stored once, not accumulated four times.  The
 * compile-time packed weights are laid out in KC blocks, so the compiler and
 * the generated code must agree on it: it is not a macro to override. */
#define TR_GEMM_KC 1536
#define TR_GEMM_NC 128      /* n block (multiple of NR and PB) */
#define TR_GEMM_PB 32       /* strip width of weights packed at compile time */
/* Bounds over every path, which the compiler sizes scratch for without
 * knowing the target: MR <= MR_MAX, MC <= MC_MAX, NR divides NR_MAX */
#define TR_GEMM_MR_MAX 14
#define TR_GEMM_MC_MAX 256
#define TR_GEMM_NR_MAX 32
#if TR_GEMM_MR > TR_GEMM_MR_MAX || TR_GEMM_MC > TR_GEMM_MC_MAX || TR_GEMM_NR_MAX % TR_GEMM_NR != 0
#error "GEMM blocking outside the bounds tostc sizes the packing scratch for"
#endif
/* B strip rows prefetched ahead into L1 by the x86 micro-kernels (0: none).
 * Most weights come from L3 or memory, and the B strip (kc x NR, 48 KB on
 * AVX-512) does not stay in L1 between panels. */
#ifndef TR_GEMM_PF
#define TR_GEMM_PF 40
#endif
/* Packing scratch of tr_sgemm, none when m < 4: the A block,
 * min(round_up(m, MR), MC) * min(k, KC) floats rounded up to a multiple of
 * 16, then the B block, min(k, KC) * min(round_up(n, NR), NC) floats.  Pass
 * it 64-byte aligned; tr_gemm_pack_bytes is enough on every path. */
/*
 * Every path defines the micro-kernel tr_gemm_micro:
 * a (MR, kc) @ bp (kc, NR) -> y (MR, NR) row stride ldy; bp's rows are ldb apart
 * (NR when packed at run time, TR_GEMM_PB in a prepacked weight):
 * y = alpha * (a @ bp) [+ y when acc]; kc >= 1.  a[i][p] = ap[i*ars + p*acs]:
 * a packed panel (ars 1, acs MR) or MR rows of a row-major A read in place
 * (ars = row stride, acs 1).  It also defines TR_GEMM_COPY_NR(d, s), which
 * copies the NR floats of one row of a B strip (gcc -O2 does not vectorise
 * the loop).
 */
/*@end*/

/* Bytes of tr_sgemm's packing scratch for an (m, k) @ (k, n) product on any
 * path (see the packing scratch above): round_up(m + MR_MAX - 1, 8), capped
 * at MC_MAX, bounds round_up(m, MR), and round_up(n, NR_MAX) bounds
 * round_up(n, NR).  Compile time only: outside the sections, never emitted. */
TR_FN int64_t tr_gemm_pack_bytes(int64_t m, int64_t k, int64_t n)
{
	if (m < 4 || k <= 0 || n <= 0)
		return 4;
	int64_t kc = TR_MIN(k, TR_GEMM_KC);
	int64_t mc = TR_MIN((m + TR_GEMM_MR_MAX - 1 + 7) / 8 * 8, TR_GEMM_MC_MAX);
	int64_t nc = TR_MIN((n + TR_GEMM_NR_MAX - 1) / TR_GEMM_NR_MAX * TR_GEMM_NR_MAX, TR_GEMM_NC);
	return 4 * ((mc * kc + 15) / 16 * 16 + kc * nc);
}
#endif
