/*
 * conv_transpose.h -- ConvTranspose as GEMMs and col2im.  Per image and
 * group, col (mg * K, pixels) = W_g^T (mg * K, cg) @ x_g (cg, pixels), one
 * block of input rows at a time; then each row of col, one output channel and
 * kernel tap, is added into the output at the tap's offset from each input
 * pixel (col2im).  The parameter array is Conv's (conv.h): in[3] (the input
 * map), out[3], kernel[3], stride[3], dilation[3], pads[6] (begins, then
 * ends; only the begins are read: the output size says where it ends, and an
 * end may be negative, for an output_shape or output_padding past the last
 * tap, whose positions get the bias alone).
 */
#ifndef TOSTC_RT_CONV_CONV_TRANSPOSE_H
#define TOSTC_RT_CONV_CONV_TRANSPOSE_H
#include "../gemm/sgemm.h"

/*@ tr_conv_transpose_f32 tr_convt_block_rows tr_convt_add2 tr_convt_taps : tr_sgemm_epi */
#define TR_CONVT_COLF 262144 /* floats of one col block: 1 MB */
/* input rows (of w pixels each, rows in all) per col block of mk rows: as many
 * as TR_CONVT_COLF floats hold, at least one */
TR_FN int64_t tr_convt_block_rows(int64_t mk, int64_t rows, int64_t w)
{
	int64_t r = mk * w > 0 ? TR_CONVT_COLF / (mk * w) : rows;
	return TR_MAX(1, TR_MIN(r, rows));
}
/* y (2n) += a (n) and b (n) interleaved: y[2j] += a[j], y[2j + 1] += b[j]; in
 * blocks of 16 through a local array, which gcc -O2 vectorises (a stride-2
 * scatter does not) */
TR_FN void tr_convt_add2(float *restrict y, const float *restrict a, const float *restrict b,
                         int64_t n)
{
	int64_t j = 0;
	for (; j + 16 <= n; j += 16) {
		float t[32];
		for (int l = 0; l < 16; l++) {
			t[2 * l] = a[j + l];
			t[2 * l + 1] = b[j + l];
		}
		for (int l = 0; l < 32; l++)
			y[2 * j + l] += t[l];
	}
	for (int l = 0; l < 16 && j + l < n; l++) {
		y[2 * (j + l)] += a[j + l];
		y[2 * (j + l) + 1] += b[j + l];
	}
}
/*
 * col2im of one kernel row (the kn taps of one (kd, kh)) into the output row
 * yr (out floats) from the col rows cr (in floats of each, qb apart): tap kw's
 * pixel iw lands at iw * s + kw * d - pb.  With stride 2 and no dilation,
 * taps kw and kw + 1 land side by side: the pixels both place are one
 * interleaved add (tr_convt_add2), the rest a strided one.
 */
TR_FN void tr_convt_taps(float *yr, const float *cr, int64_t qb, int64_t kn, int64_t s,
                         int64_t d, int64_t pb, int64_t in, int64_t out)
{
	for (int64_t kw = 0; kw < kn;) {
		int np = s == 2 && d == 1 && kw + 1 < kn ? 2 : 1;   /* taps taken together */
		int64_t lo[2], hi[2], off[2];
		/* tap t's pixels [lo, hi) land inside [0, out) */
		for (int t = 0; t < np; t++) {
			off[t] = (kw + t) * d - pb;
			lo[t] = TR_MIN(off[t] >= 0 ? 0 : (-off[t] + s - 1) / s, in);
			hi[t] = out - off[t] <= 0 ? 0 : (out - off[t] + s - 1) / s;
			hi[t] = TR_MIN(TR_MAX(hi[t], lo[t]), in);
		}
		/* [c0, c1): the pixels both taps of a pair place (empty for one tap) */
		int64_t c0 = np == 2 ? TR_MAX(lo[0], lo[1]) : lo[0], c1 = c0;
		if (np == 2) {
			c1 = TR_MAX(c0, TR_MIN(hi[0], hi[1]));
			tr_convt_add2(yr + (c0 * 2 + off[0]), cr + c0, cr + qb + c0, c1 - c0);
		}
		for (int t = 0; t < np; t++) {
			const float *ct = cr + t * qb;
			if (s == 1) {
				tr_epi_add1(yr + (lo[t] + off[t]), ct + lo[t], hi[t] - lo[t]);
				continue;
			}
			for (int64_t iw = lo[t]; iw < TR_MIN(c0, hi[t]); iw++)
				yr[iw * s + off[t]] += ct[iw];
			for (int64_t iw = TR_MAX(c1, lo[t]); iw < hi[t]; iw++)
				yr[iw * s + off[t]] += ct[iw];
		}
		cr += np * qb;
		kw += np;
	}
}
/*
 * x (nb, c, in...), w (c, mo/g, k...) or, when wt, its transpose per group
 * (g, mo/g * K, c/g), bias (mo) when has_bias -> y (nb, mo, out...);
 * p = in[3], out[3], kernel[3], stride[3], dilation[3], pads[6].
 * A 1x1 kernel of stride 1 without padding whose output is its input's size
 * is one GEMM per group into y (the bias its epilogue); otherwise y starts as
 * the bias and col2im adds each block's col.  Every output element is summed
 * in the same order (blocks, then channels of the row, then taps) whatever
 * the blocking and the thread count.
 * scratch: col, round_up(mo/g * K * block pixels, 16) floats
 * (tr_convt_block_rows; none for the single GEMM), then tr_sgemm's packing.
 */
TR_FN void tr_conv_transpose_f32(const float *x, const float *w, const float *bias, float *y,
                                 float *scratch, int64_t nb, int64_t c, int64_t mo, int64_t g,
                                 int64_t has_bias, int64_t wt, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t cg = c / g, mg = mo / g, kk = ks[0] * ks[1] * ks[2], mk = mg * kk;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2], rows = in[0] * in[1];
	int direct = kk == 1 && st[0] == 1 && st[1] == 1 && st[2] == 1 && pb[0] == 0 &&
	             pb[1] == 0 && pb[2] == 0 && out[0] == in[0] && out[1] == in[1] &&
	             out[2] == in[2];
	int64_t rb = tr_convt_block_rows(mk, rows, in[2]);
	float *col = scratch, *pack = direct ? scratch : scratch + (mk * rb * in[2] + 15) / 16 * 16;
	/* W_g^T (mk, cg): the compile-time transpose read in place, or w_g strided */
	int64_t ars = wt ? cg : 1, acs = wt ? 1 : mk;
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	for (int64_t b = 0; b < nb; b++)
		for (int64_t gi = 0; gi < g; gi++) {
			const float *xg = x + (b * c + gi * cg) * isz, *wg = w + gi * cg * mk;
			float *yg = y + (b * mo + gi * mg) * osz;
			if (direct) {
				e.rbias = has_bias ? bias + gi * mg : (const float *)0;
				tr_sgemm_epi(mg, isz, cg, 1.0f, wg, ars, acs, xg, isz, 1, (const float *)0, yg,
				             osz, 0, pack, has_bias ? &e : (const TrEpi *)0);
				continue;
			}
			for (int64_t m = 0; m < mg; m++)
				for (int64_t q = 0; q < osz; q++)
					yg[m * osz + q] = has_bias ? bias[gi * mg + m] : 0.0f;
			for (int64_t r0 = 0; r0 < rows; r0 += rb) {
				int64_t r1 = TR_MIN(r0 + rb, rows), qb = (r1 - r0) * in[2];
				tr_sgemm_epi(mk, qb, cg, 1.0f, wg, ars, acs, xg + r0 * in[2], isz, 1,
				             (const float *)0, col, qb, 0, pack, (const TrEpi *)0);
				/* col2im: row (m, kd, kh, kw) of col into output channel m; each
				 * thread its own channels */
				TR_OMP(omp parallel for schedule(static) if (mk * qb >= TR_PAR_MIN))
				for (int64_t m = 0; m < mg; m++)
					for (int64_t kd = 0; kd < ks[0]; kd++)
						for (int64_t kh = 0; kh < ks[1]; kh++) {
							const float *cr = col + ((m * ks[0] + kd) * ks[1] + kh) * ks[2] * qb;
							for (int64_t r = r0; r < r1; r++) {
								int64_t od = r / in[1] * st[0] - pb[0] + kd * dl[0];
								int64_t oh = r % in[1] * st[1] - pb[1] + kh * dl[1];
								if (od >= 0 && od < out[0] && oh >= 0 && oh < out[1])
									tr_convt_taps(yg + ((m * out[0] + od) * out[1] + oh) * out[2],
									              cr + (r - r0) * in[2], qb, ks[2], st[2], dl[2],
									              pb[2], in[2], out[2]);
							}
						}
			}
		}
}
/*@end*/
#endif
