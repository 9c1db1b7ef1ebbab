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

/*@ tr_conv_transpose_f32 tr_convt_block_rows : tr_sgemm_epi */
#define TR_CONVT_COLF 262144 /* floats of one col block: 1 MB */
/* input rows (of w pixels each, rows in all) per col block of mk rows: as many
 * as TR_CONVT_COLF floats hold, at least one */
TR_FN int64_t tr_convt_block_rows(int64_t mk, int64_t rows, int64_t w)
{
	int64_t r = mk * w > 0 ? TR_CONVT_COLF / (mk * w) : rows;
	return TR_MAX(1, TR_MIN(r, rows));
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
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0};
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
				for (int64_t m = 0; m < mg; m++) {
					const float *cr = col + m * kk * qb;
					for (int64_t kd = 0; kd < ks[0]; kd++)
						for (int64_t kh = 0; kh < ks[1]; kh++)
							for (int64_t kw = 0; kw < ks[2]; kw++, cr += qb) {
								/* ow = iw * s2 + off is inside [0, out[2]) for iw in [lo, hi) */
								int64_t s2 = st[2], off = kw * dl[2] - pb[2];
								int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;
								int64_t hi = out[2] - off <= 0 ? 0 : (out[2] - off + s2 - 1) / s2;
								lo = TR_MIN(lo, in[2]);
								hi = TR_MIN(TR_MAX(hi, lo), in[2]);
								for (int64_t r = r0; r < r1; r++) {
									int64_t od = r / in[1] * st[0] - pb[0] + kd * dl[0];
									int64_t oh = r % in[1] * st[1] - pb[1] + kh * dl[1];
									const float *xr = cr + (r - r0) * in[2] + lo;
									float *yr;
									if (od < 0 || od >= out[0] || oh < 0 || oh >= out[1])
										continue;
									yr = yg + ((m * out[0] + od) * out[1] + oh) * out[2] + lo * s2 + off;
									if (s2 == 1)
										tr_epi_add1(yr, xr, hi - lo);
									else
										for (int64_t j = 0; j < hi - lo; j++)
											yr[j * s2] += xr[j];
								}
							}
				}
			}
		}
}
/*@end*/
#endif
