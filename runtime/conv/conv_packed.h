/*
 * conv_packed.h -- a Conv with a constant weight on a small map as GEMMs of
 * output pixels (rows) by output channels, the weight packed at compile time
 * (tr_conv_packed_f32; compiler/ops/op_linalg.c decides when).  The input is
 * transposed to channels last so that each im2row tap copies a whole run of
 * channels; the transposes and taps are per instruction set (im2col_*.h).
 */
#ifndef TOSTC_RT_CONV_CONV_PACKED_H
#define TOSTC_RT_CONV_CONV_PACKED_H
#include "../gemm/sgemm.h"
#include "../elementwise/gelu.h"
#include "im2col_avx512.h"
#include "im2col_scalar.h"

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

/*@ tr_conv_packed_f32 tr_conv_im2row : tr_sgemm_impl tr_gelu_row tr_conv_copy_avx512 tr_conv_copy_scalar */
#define TR_CONV_PC 252 /* output pixels per GEMM block: a multiple of the x86 MRs, <= every MC */

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
					tr_conv_tap(d, s, cg, inside);
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
#endif
