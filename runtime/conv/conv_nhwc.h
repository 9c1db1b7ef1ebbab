/*
 * conv_nhwc.h -- Conv on channels-last tensors (the layout compiler/passes/
 * layout.c gives a convolutional graph) as GEMMs of output pixels (rows) by
 * output channels, the weight packed at compile time.
 *
 * Channels last, a 1x1 convolution with stride 1 is one GEMM whose A is the
 * input itself, (pixels, c) read in place; any other is the same GEMM on an
 * im2row of a block of output pixels, each row the taps of one pixel, each
 * tap a run of input channels copied whole.  The output is written straight
 * in channels-last order, and the epilogue (bias, activations, a residual
 * add: elementwise/act.h) runs on each tile as the GEMM makes it.
 */
#ifndef TOSTC_RT_CONV_CONV_NHWC_H
#define TOSTC_RT_CONV_CONV_NHWC_H
#include "../gemm/sgemm.h"
#include "im2col_avx512.h"
#include "im2col_scalar.h"

/*@ tr_conv_nhwc_f32 tr_conv_nhwc_im2row : tr_sgemm_epi tr_act_row tr_conv_tap_avx512 tr_conv_tap_scalar */
/* output pixels per GEMM block: a multiple of the x86 MRs, <= every MC */
#define TR_CONV_NHWC_PC 252

/*
 * im2row of output pixels [q0, q1) of group gi, into colT (q1 - q0, kdim):
 * row (od, oh, ow), columns tap-major (kd, kh, kw, ci) over the group's cg
 * channels; zeros where a tap falls in the padding.  x is one image,
 * channels last (in[0], in[1], in[2], c), or channels first (c, in[0],
 * in[1], in[2]) when nchw.  p as for tr_conv_f32 (conv.h).
 */
TR_FN void tr_conv_nhwc_im2row(const float *x, float *colT, int64_t c, int64_t cg, int64_t gi,
                               int nchw, const int64_t *p, int64_t q0, int64_t q1)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t isz = in[0] * in[1] * in[2];
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
					int64_t pix = (id * in[1] + ih) * in[2] + iw;
					if (!nchw) {
						tr_conv_tap(d, inside ? x + pix * c + gi * cg : x, cg, inside);
					} else {
						const float *s = x + gi * cg * isz + pix;
						for (int64_t ci = 0; ci < cg; ci++)
							d[ci] = inside ? s[ci * isz] : 0.0f;
					}
				}
			}
		}
	}
}

/*
 * Convolution, channels last, with a weight packed when the model was
 * compiled:
 *   x (nb, in[0], in[1], in[2], c), or (nb, c, in...) when x_nchw;
 *   wp (g, kdim, round_up(mo/g, TR_GEMM_PB)): per group W_g^T (kdim, mo/g),
 *     kdim = c/g * K, rows tap-major (tr_conv_tapmajor), packed by
 *     tr_gemm_prepack_f32;
 *   bias (mo) when has_bias; res (nb, out..., mo) when has_res
 * -> y (nb, out[0], out[1], out[2], mo), y = act2(act(conv + bias) + res)
 * (TrAct: act = {act, act2}, f = {a, b, a2, b2}).
 * p as for tr_conv_f32.  A 1x1 convolution with stride 1 and no padding on
 * channels-last x multiplies x in place; any other takes blocks of at most
 * TR_CONV_NHWC_PC output pixels through tr_conv_nhwc_im2row.
 * scratch (64-byte aligned): colT pc * kdim floats rounded up to 16 (none
 * when in place), then tr_sgemm_epi's packing for (max(pc, 4), kdim) @
 * (kdim, mpad); pc = min(P, TR_CONV_NHWC_PC).
 */
TR_FN void tr_conv_nhwc_f32(const float *x, const float *wp, const float *bias, const float *res,
                            float *y, float *scratch, int64_t nb, int64_t c, int64_t mo,
                            int64_t g, int64_t x_nchw, int64_t has_bias, int64_t has_res,
                            const int64_t *act, const float *f, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *pb = p + 15, *pe = p + 18;
	int64_t cg = c / g, mg = mo / g;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	int64_t kdim = cg * ks[0] * ks[1] * ks[2];
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t pc = TR_MIN(osz, TR_CONV_NHWC_PC);
	int inplace = !x_nchw && kdim == cg && st[0] == 1 && st[1] == 1 && st[2] == 1 &&
	              pb[0] == 0 && pb[1] == 0 && pb[2] == 0 && pe[0] == 0 && pe[1] == 0 &&
	              pe[2] == 0 && osz == isz;
	float *colT = scratch, *pack = scratch + (inplace ? 0 : (pc * kdim + 15) / 16 * 16);
	TrAct post = {act[0], f[0], f[1], (const float *)0, mo, act[1], f[2], f[3]};
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	e.post = &post;
	for (int64_t b = 0; b < nb; b++) {
		const float *xb = x + b * c * isz;
		for (int64_t gi = 0; gi < g; gi++) {
			const float *wg = wp + gi * kdim * mpad;
			float *yg = y + b * osz * mo + gi * mg;
			e.bias = has_bias ? bias + gi * mg : (const float *)0;
			if (inplace) {
				/* one GEMM over every pixel: A = x_g (osz, cg), row stride c */
				post.res = has_res ? res + b * osz * mo + gi * mg : (const float *)0;
				tr_sgemm_epi(osz, mg, kdim, 1.0f, xb + gi * cg, c, 1, (const float *)0, 0, 0, wg,
				             yg, mo, 0, pack, &e);
				continue;
			}
			for (int64_t q0 = 0; q0 < osz; q0 += pc) {
				int64_t m = TR_MIN(pc, osz - q0);
				tr_conv_nhwc_im2row(xb, colT, c, cg, gi, (int)x_nchw, p, q0, q0 + m);
				post.res = has_res ? res + (b * osz + q0) * mo + gi * mg : (const float *)0;
				tr_sgemm_epi(m, mg, kdim, 1.0f, colT, kdim, 1, (const float *)0, 0, 0, wg,
				             yg + q0 * mo, mo, 0, pack, &e);
			}
		}
	}
}
/*@end*/
#endif
