/*
 * attention.h -- softmax attention in one streaming kernel (op
 * SoftmaxAttention, made by compiler/passes/fuse_attention.c):
 *
 *   o[b] (m, cv) = softmax_rows(scale * q[b] (m, c) @ k[b]^T (c, n) [+ mask[b] (m, n)])
 *                  @ v[b] (n, cv)
 *
 * for every batch index b (heads and images).  The m x n scores never exist
 * whole: a block of at most TR_ATT_MB query rows meets the keys in tiles of
 * TR_ATT_NB, and an online softmax (flash attention) keeps, per query row,
 * the running maximum mx and sum l of exp(s - mx); when a tile raises the
 * maximum, the row's sum and output accumulator are rescaled by
 * exp(mx_old - mx_new).  Both tile products run on the GEMM micro-kernels
 * (tr_sgemm_epi): the scores as q rows read in place against the keys packed
 * once per batch index into the micro-kernel's B layout, the values as the
 * probabilities read in place against the value rows.  The row maximum and
 * exponentials (tr_att_rowmax, tr_att_exprow) have one path per instruction
 * set, the GEMM's: attention_avx512.h, attention_avx2.h, attention_scalar.h
 * (portable C that gcc vectorises), all the polynomial of tr_att_exp16.
 *
 * Every operand is addressed through element strides, so the transposes and
 * head splits around attention in exported models cost nothing: stride
 * arrays hold nb batch strides, then the row and the column stride (q: rows
 * i, columns c; k: rows j, columns c; v: rows j, columns cv; o: rows i,
 * columns cv; mask: rows i, columns j; 0 where an operand broadcasts).
 *
 * Scratch: TR_ATT_SLOTS slots of tr_attention_slot_floats floats, one per
 * thread (so at most TR_ATT_SLOTS threads run it): the keys of one batch
 * index packed (linear in n), one score tile, the accumulators of one query
 * block, and the GEMM's packing.  Nothing is m x n.
 *
 * Threads split the (batch index, query block) pairs; each pair is computed
 * by the same operations in the same order on any thread, so results are
 * bitwise independent of the thread count.  Against the unfused graph the
 * results differ by float rounding only (the scale applied to the dot
 * product instead of q, the softmax's sum accumulated tile by tile).  A row
 * whose scores are all -inf gives NaN, as the unfused softmax does.
 */
#ifndef TOSTC_RT_ATTENTION_ATTENTION_H
#define TOSTC_RT_ATTENTION_ATTENTION_H
#include "../gemm/gemm.h"

/*@ tr_att_exp : tr_common */
/* Keys per tile, the bound of query rows per block, threads (slots of scratch) */
#define TR_ATT_NB 256
#define TR_ATT_MB_MAX 192
#define TR_ATT_SLOTS 8
#define TR_ATT_R16(n) (((n) + 15) / 16 * 16)
/*
 * y[l] = exp(x[l] - m) for 16 lanes, where x - m <= 0 (or -inf, or NaN):
 * 2^n p(r) with n = round(t / ln 2), r = t - n ln 2 in two parts, p a degree
 * 5 polynomial (relative error below 2e-7); t < -87 gives 0 (e^-87 is below
 * float's smallest normal: nothing a softmax's sum can see).  Each loop does
 * one simple thing so that gcc vectorises all three at -O2 on x86 and aarch64
 * (a select whose arm computes is control flow to its cost model).
 */
TR_FN void tr_att_exp16(float *restrict y, const float *restrict x, float m)
{
	float t[16], e[16];
	for (int l = 0; l < 16; l++) {
		float a = x[l] - m;
		t[l] = a < -87.0f ? -87.0f : a;
	}
	for (int l = 0; l < 16; l++) {
		float s = TR_FMA(t[l], 1.44269504f, 12582912.0f);   /* 1.5 * 2^23 + n */
		float n = s - 12582912.0f;
		float r = TR_FMA(n, -0.693145751953125f, t[l]);
		r = TR_FMA(n, -1.428606765330187e-06f, r);
		float p = 8.37312452e-3f;
		p = TR_FMA(p, r, 4.16695364e-2f);
		p = TR_FMA(p, r, 0.166664720f);
		p = TR_FMA(p, r, 0.499999851f);
		p = TR_FMA(p, r, 1.0f);
		p = TR_FMA(p, r, 1.0f);
		union {
			float f;
			uint32_t u;
		} b;
		b.f = s;                              /* n in the low mantissa bits */
		b.u = (b.u << 23) + 0x3F800000u;      /* 2^n */
		e[l] = p * b.f;
	}
	for (int l = 0; l < 16; l++)
		y[l] = x[l] - m < -87.0f ? 0.0f : e[l];
}

/* exp(x - m) for one value, by the same code */
TR_FN float tr_att_exp1(float x, float m)
{
	float v[16], y[16];
	for (int l = 0; l < 16; l++)
		v[l] = x;
	tr_att_exp16(y, v, m);
	return y[0];
}
/*@end*/

#include "attention_avx512.h"
#include "attention_avx2.h"
#include "attention_scalar.h"

/*@ tr_attention_f32 : tr_sgemm_epi tr_gemm_prepack_f32 tr_att_exp tr_att_rows_avx512 tr_att_rows_avx2 tr_att_rows_scalar */
/* Query rows per block: whole micro-kernel panels, at most TR_ATT_MB_MAX */
#define TR_ATT_MB (TR_ATT_MB_MAX / TR_GEMM_MR * TR_GEMM_MR)

/* Keys k (n, c) (row stride krs, column stride kcs) as the GEMM's packed B
 * k^T (c, n) (tr_gemm_prepack_f32's layout) -> kp, tile by tile of
 * TR_ATT_NB keys (tile j0 at kp + j0 * c).  Row by row when c fits one k
 * block and the channels are contiguous: the gather down the columns of a
 * strided k costs a cache miss an element. */
TR_FN void tr_att_packk(const float *k, int64_t krs, int64_t kcs, float *kp, int64_t n,
                        int64_t c)
{
	for (int64_t j0 = 0; j0 < n; j0 += TR_ATT_NB) {
		int64_t nt = TR_MIN(TR_ATT_NB, n - j0);
		if (c > TR_GEMM_KC || kcs != 1) {
			tr_gemm_prepack_f32(k + j0 * krs, kcs, krs, kp + j0 * c, c, nt);
			continue;
		}
		for (int64_t s0 = 0; s0 < nt; s0 += TR_GEMM_PB) {
			float *d = kp + (j0 + s0) * c;   /* strip (c, PB) */
			for (int64_t jj = 0; jj < TR_GEMM_PB; jj++) {
				const float *kr = k + (j0 + s0 + jj) * krs;
				if (s0 + jj < nt)
					for (int64_t p = 0; p < c; p++)
						d[p * TR_GEMM_PB + jj] = kr[p];
				else
					for (int64_t p = 0; p < c; p++)
						d[p * TR_GEMM_PB + jj] = 0.0f;
			}
		}
	}
}

/* y (n) = x (n) * a, blocks of 16 (gcc -O2 vectorises fixed trip counts) */
TR_FN void tr_att_scale(float *restrict y, const float *restrict x, float a, int64_t n)
{
	int64_t j = 0;
	for (; j + 16 <= n; j += 16)
		for (int l = 0; l < 16; l++)
			y[j + l] = x[j + l] * a;
	for (int l = 0; l < 16 && j + l < n; l++)
		y[j + l] = x[j + l] * a;
}

/* s (n) += mask row mr (column stride mcs) */
TR_FN void tr_att_addmask(float *restrict s, const float *restrict mr, int64_t mcs, int64_t n)
{
	int64_t j = 0;
	if (mcs == 1) {
		for (; j + 16 <= n; j += 16)
			for (int l = 0; l < 16; l++)
				s[j + l] = s[j + l] + mr[j + l];
		for (int l = 0; l < 16 && j + l < n; l++)
			s[j + l] = s[j + l] + mr[j + l];
	} else {
		for (; j < n; j++)
			s[j] = s[j] + mr[j * mcs];
	}
}

/* The offset of batch index t in an operand with strides str (the offset,
 * nb batch strides, row, column) */
TR_FN int64_t tr_att_off(int64_t t, int64_t nb, const int64_t *bdims, const int64_t *str)
{
	int64_t off = str[0];
	for (int64_t d = nb - 1; d >= 0; d--) {
		off += t % bdims[d] * str[1 + d];
		t /= bdims[d];
	}
	return off;
}

/*
 * Query rows [i0, i1) of batch index t, keys packed in kp (tr_gemm_prepack_f32,
 * tile by tile of TR_ATT_NB keys); slot holds the rest of the slot's scratch.
 */
TR_FN void tr_att_block(const float *q, const float *kp, const float *v, const float *mask,
                        float *o, float *slot, int64_t i0, int64_t i1, int64_t m, int64_t n,
                        int64_t c, int64_t cv, const int64_t *qs, const int64_t *vs,
                        const int64_t *os, const int64_t *ms, float scale, int64_t has_mask)
{
	int64_t mb = i1 - i0, mbm = TR_MIN(m, TR_ATT_MB_MAX), ld = TR_ATT_R16(TR_MIN(n, TR_ATT_NB));
	int64_t cv16 = TR_ATT_R16(cv);
	float *s = slot, *acc = s + TR_ATT_R16(mbm * ld), *mx = acc + TR_ATT_R16(mbm * cv16);
	float *l = mx + TR_ATT_R16(mbm), *pack = l + TR_ATT_R16(mbm);
	const float *qb = q + i0 * qs[0];
	for (int64_t j0 = 0; j0 < n; j0 += TR_ATT_NB) {
		int64_t nt = TR_MIN(TR_ATT_NB, n - j0);
		/* s (mb, nt) = scale * q rows @ k tile^T */
		tr_sgemm_epi(mb, nt, c, scale, qb, qs[0], qs[1], (const float *)0, 0, 0, kp + j0 * c, s,
		             ld, 0, pack, (const TrEpi *)0);
		for (int64_t i = 0; i < mb; i++) {
			float *si = s + i * ld;
			if (has_mask)
				tr_att_addmask(si, mask + (i0 + i) * ms[0] + j0 * ms[1], ms[1], nt);
			float mnew = tr_att_rowmax(si, nt);
			if (j0 > 0)
				mnew = mx[i] > mnew ? mx[i] : mnew;
			/* a row all -inf so far: exponents against 0 (they are 0) */
			float msafe = mnew == -INFINITY ? 0.0f : mnew;
			float rs = tr_att_exprow(si, nt, msafe);
			if (j0 == 0) {
				l[i] = rs;
			} else {
				float a = tr_att_exp1(mx[i], msafe), *ar = acc + i * cv16;
				l[i] = l[i] * a + rs;
				for (int64_t e = 0; e < cv; e++)   /* in place: no restrict */
					ar[e] = ar[e] * a;
			}
			mx[i] = mnew;
		}
		/* acc (mb, cv) (+)= p (mb, nt) @ v tile (nt, cv) */
		tr_sgemm_epi(mb, cv, nt, 1.0f, s, ld, 1, v + j0 * vs[0], vs[0], vs[1], (const float *)0,
		             acc, cv16, j0 > 0, pack, (const TrEpi *)0);
	}
	for (int64_t i = 0; i < mb; i++) {
		float inv = 1.0f / l[i], *orow = o + (i0 + i) * os[0];
		const float *ar = acc + i * cv16;
		if (os[1] == 1)
			tr_att_scale(orow, ar, inv, cv);
		else
			for (int64_t e = 0; e < cv; e++)
				orow[e * os[1]] = ar[e] * inv;
	}
}

/*
 * o[b] (m, cv) = softmax(scale * q[b] (m, c) @ k[b]^T + mask[b]) @ v[b] (n, cv)
 * for the batch indices b of bdims (nb dims); strides as at the top of this
 * file (qstr, kstr, vstr, ostr, mstr: the offset, nb batch strides, the row
 * and the column stride); mask is read only when has_mask; scratch:
 * TR_ATT_SLOTS slots of `slot` floats (tr_attention_slot_floats).
 */
TR_FN void tr_attention_f32(const float *q, const float *k, const float *v, const float *mask,
                            float *o, float *scratch, int64_t m, int64_t n, int64_t c, int64_t cv,
                            int64_t nb, int64_t slot, const int64_t *bdims, const int64_t *qstr,
                            const int64_t *kstr, const int64_t *vstr, const int64_t *ostr,
                            const int64_t *mstr, float scale, int64_t has_mask)
{
	int64_t nbat = 1;
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	for (int64_t d = 0; d < nb; d++)
		nbat *= bdims[d];
	int64_t nqb = tr_gemm_mblocks(m, TR_ATT_MB), items = nbat * nqb;
	if (m <= 0 || n <= 0 || cv <= 0 || nbat <= 0)
		return;
	int par = (double)nbat * (double)m * (double)n * (double)(c + cv) >= (double)TR_PAR_MIN &&
	          items > 1;
	int nth = 1;
	(void)par;
#ifdef _OPENMP
	nth = omp_get_max_threads();
	nth = (int)TR_MIN(TR_MIN((int64_t)nth, (int64_t)TR_ATT_SLOTS), items);
	if (nth < 1)
		nth = 1;
#endif
	(void)nth;
	TR_OMP(omp parallel num_threads(nth) if (par))
	{
		int64_t th = TR_THREAD(), nt = TR_NTHREADS();
		int64_t w0 = items * th / nt, w1 = items * (th + 1) / nt, packed = -1;
		float *kp = scratch + th * slot, *rest = kp + TR_ATT_R16(c * npad);
		for (int64_t w = w0; w < w1; w++) {
			int64_t t = w / nqb, qi = w % nqb, i0, i1;
			const float *kb = k + tr_att_off(t, nb, bdims, kstr);
			const int64_t *ks = kstr + 1 + nb;   /* row (key), column stride */
			if (t != packed) {
				tr_att_packk(kb, ks[0], ks[1], kp, n, c);
				packed = t;
			}
			tr_gemm_mblock(m, TR_ATT_MB, nqb, qi, &i0, &i1);
			tr_att_block(q + tr_att_off(t, nb, bdims, qstr), kp, v + tr_att_off(t, nb, bdims, vstr),
			             has_mask ? mask + tr_att_off(t, nb, bdims, mstr) : mask,
			             o + tr_att_off(t, nb, bdims, ostr), rest, i0, i1, m, n, c, cv,
			             qstr + 1 + nb, vstr + 1 + nb, ostr + 1 + nb, mstr + 1 + nb, scale,
			             has_mask);
		}
	}
}
/*@end*/

/* Floats of one slot of tr_attention_f32's scratch, each piece rounded to 16
 * floats: kp (c, round_up(n, PB)) packed keys, s (mb, ld) scores, acc (mb,
 * cv16) output accumulators, mx and l (mb), then the GEMM's packing for
 * blocks of mb rows.  Compile time only (outside the sections): the compiler
 * passes it to the kernel. */
TR_FN int64_t tr_attention_slot_floats(int64_t m, int64_t n, int64_t c, int64_t cv)
{
	int64_t mb = TR_MIN(m, TR_ATT_MB_MAX), nb = TR_MIN(n, TR_ATT_NB), pm = TR_MAX(mb, 8);
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t p1 = tr_gemm_pack_bytes(pm, c, nb), p2 = tr_gemm_pack_bytes(pm, nb, cv);
	return TR_ATT_R16(c * npad) + TR_ATT_R16(mb * TR_ATT_R16(nb)) + TR_ATT_R16(mb * TR_ATT_R16(cv)) +
	       2 * TR_ATT_R16(mb) + TR_ATT_R16(TR_MAX(p1, p2) / 4);
}
#endif
