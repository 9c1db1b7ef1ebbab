/*
 * sgemm.h -- tr_sgemm, the f32 GEMM every product goes through: the portable
 * driver (blocking, packing, threads, edge tiles, the epilogue calls) around
 * the micro-kernel of the build's instruction set (config.h chooses it).
 *
 * Operands are addressed through (row stride, column stride) pairs, so a
 * transposed A or B (Gemm transA/transB, weights stored (N, K)) costs nothing
 * but a strided pack.  B is either packed here, one KC x NC block at a time,
 * or a weight packed when the model was compiled (tr_gemm_prepack_f32, in
 * gemm.h), read in place.  A row-major A is read in place too; other A
 * panels are packed.  The packing buffer is node scratch (ARG_SCRATCH), not
 * stack, so kernels stay safe on small thread stacks.  Products of fewer than
 * 4 rows skip the packing (tr_sgemm_small).
 */
#ifndef TOSTC_RT_GEMM_SGEMM_H
#define TOSTC_RT_GEMM_SGEMM_H
#include "config.h"
#include "micro_avx512.h"
#include "micro_avx2.h"
#include "micro_neon.h"
#include "micro_scalar.h"
#include "epilogue.h"

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

/*@ tr_sgemm_part : tr_sgemm_axpy tr_gemm_micro_avx512 tr_gemm_micro_avx2 tr_gemm_micro_neon tr_gemm_micro_scalar tr_gemm_epilogue */
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

/* Bytes ahead of the B row being read that tr_sgemm_small prefetches (0:
 * none).  Its B is a weight read once, from memory (the class token's MLP, a
 * classifier head, every projection of the step API): prefetching it 8 KB
 * ahead hides much of the latency (docs/performance.md). */
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
					/* a tail bounded by 16 (see tr_gelu_span) */
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
 * pack: packing scratch, sized as described in gemm/config.h; epi: an epilogue
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
#endif
