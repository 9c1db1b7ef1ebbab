/*
 * conv.h -- Conv as im2col and GEMMs (tr_conv_f32), for a weight computed at
 * run time or a map too large for conv_packed.h.  Spatial ops (conv,
 * pooling) take up to three spatial dims; 1-D and 2-D problems are passed
 * padded with leading size-1 dims, so one kernel serves all.  Parameter
 * arrays follow one layout: in[3], out[3], kernel[3], stride[3],
 * dilation[3], pads[6] (three begins, then three ends).
 */
#ifndef TOSTC_RT_CONV_CONV_H
#define TOSTC_RT_CONV_CONV_H
#include "../gemm/sgemm.h"
#include "im2col_avx512.h"
#include "im2col_avx2.h"
#include "im2col_scalar.h"

/*@ tr_conv_f32 tr_conv_in_row tr_conv_pack_line tr_conv_col_floats : tr_sgemm_epi tr_conv_rows_avx512 tr_conv_rows_avx2 tr_conv_rows_scalar */
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
 * AVX2; im2col_*.h), so the GEMM packs nothing.  The bias (per output
 * channel) and, when gelu, the GELU are the GEMM's epilogue (TrEpi),
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
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
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
#endif
