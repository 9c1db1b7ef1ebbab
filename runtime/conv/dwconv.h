/*
 * dwconv.h -- depthwise convolution (one input channel per output channel)
 * on channels-last tensors, in direct loops vectorised over channels.
 *
 * Channels last, every tap of an output pixel is a run of c contiguous
 * channels, so whole vectors of channels multiply-add with the tap's weight
 * vector, the weight laid out tap by tap (tr_dwconv_pack, at compile time).
 * Output row by output row: the kernel rows that fall inside the input are
 * gathered once, the pixels whose taps are all inside the row run as one
 * tile (dwconv_<isa>.h: several pixels at once per weight load), the few
 * pixels at the borders with their own range of taps.  The activations and
 * the residual add (elementwise/act.h) run on each output row while it is in
 * cache.  Each output element is one fma chain from the bias over the taps
 * in order, whatever the tile or the thread.
 */
#ifndef TOSTC_RT_CONV_DWCONV_H
#define TOSTC_RT_CONV_DWCONV_H
#include "../elementwise/act.h"
#include "dwconv_avx512.h"
#include "dwconv_avx2.h"
#include "dwconv_scalar.h"

/*@ tr_dwconv_pack : tr_common */
/* w (c, 1, K) -> wt (K, c): tap-major, channels inner (lower_conv packs wt;
 * compile time only, never emitted) */
TR_FN void tr_dwconv_pack(const float *w, float *wt, int64_t c, int64_t kk)
{
	for (int64_t ch = 0; ch < c; ch++)
		for (int64_t t = 0; t < kk; t++)
			wt[t * c + ch] = w[ch * kk + t];
}
/*@end*/

/*@ tr_dwconv_nhwc_f32 : tr_act_row tr_dwconv_tile_avx512 tr_dwconv_tile_avx2 tr_dwconv_tile_scalar */
/* the kernel rows (kd, kh) of at most 16 */
#define TR_DWCONV_ROWS 16
/*
 * Depthwise convolution, channels last:
 *   x (nb, in[0], in[1], in[2], c), wt (K, c) (tr_dwconv_pack), bias (c)
 *   when has_bias, res (nb, out..., c) when has_res
 * -> y (nb, out[0], out[1], out[2], c), y = act2(act(conv + bias) + res)
 * (TrAct: act = {act, act2}, f = {a, b, a2, b2}).  p as for tr_conv_f32
 * (conv.h); ks[0] * ks[1] <= TR_DWCONV_ROWS.  With OpenMP, threads take
 * whole output rows.
 */
TR_FN void tr_dwconv_nhwc_f32(const float *x, const float *wt, const float *bias,
                              const float *res, float *y, int64_t nb, int64_t c,
                              int64_t has_bias, int64_t has_res, const int64_t *act,
                              const float *f, const int64_t *p)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	int64_t rows = nb * out[0] * out[1], rowlen = out[2] * c;
	int64_t s2 = st[2], d2 = dl[2], k2 = ks[2];
	/* ow in [lo, hi): every tap inside the input row */
	int64_t lo = (pb[2] + s2 - 1) / s2, hi = in[2] - 1 + pb[2] - (k2 - 1) * d2;
	hi = hi < 0 ? 0 : hi / s2 + 1;
	lo = TR_MIN(lo, out[2]);
	hi = TR_MIN(TR_MAX(hi, lo), out[2]);
	const float *bv = has_bias ? bias : (const float *)0;
	TR_OMP(omp parallel for schedule(static) if (rows * rowlen * ks[0] * ks[1] * k2 >= TR_PAR_MIN))
	for (int64_t row = 0; row < rows; row++) {
		int64_t b = row / (out[0] * out[1]), od = row / out[1] % out[0], oh = row % out[1];
		const float *xr[TR_DWCONV_ROWS], *wr[TR_DWCONV_ROWS];
		int64_t nrow = 0;
		for (int64_t kd = 0; kd < ks[0]; kd++) {
			int64_t id = od * st[0] - pb[0] + kd * dl[0];
			for (int64_t kh = 0; kh < ks[1]; kh++) {
				int64_t ih = oh * st[1] - pb[1] + kh * dl[1];
				if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1])
					continue;
				xr[nrow] = x + ((b * in[0] + id) * in[1] + ih) * in[2] * c;
				wr[nrow++] = wt + (kd * ks[1] + kh) * k2 * c;
			}
		}
		float *yr = y + row * rowlen;
		const float *xo[TR_DWCONV_ROWS], *wo[TR_DWCONV_ROWS];
		for (int64_t ow = 0; ow < out[2]; ow = ow == lo && hi > lo ? hi : ow + 1) {
			/* taps [t0, t1) inside the row at ow; all of them on [lo, hi) */
			int64_t iw = ow * s2 - pb[2], t0 = 0, t1 = k2, np = 1;
			if (ow == lo && hi > lo) {
				np = hi - lo;
			} else {
				while (t0 < k2 && iw + t0 * d2 < 0)
					t0++;
				while (t1 > t0 && iw + (t1 - 1) * d2 >= in[2])
					t1--;
			}
			int64_t o = t1 > t0 ? (iw + t0 * d2) * c : 0;
			for (int64_t r = 0; r < nrow; r++) {
				xo[r] = xr[r] + o;
				wo[r] = wr[r] + t0 * c;
			}
			tr_dwconv_tile(yr + ow * c, xo, wo, t1 > t0 ? nrow : 0, t1 - t0, np, s2 * c,
			               d2 * c, c, bv);
		}
		TrAct post = {act[0], f[0], f[1], has_res ? res : (const float *)0, rowlen, act[1], f[2],
		              f[3]};
		tr_act_apply(&post, yr, row, 0, rowlen);
	}
}
/*@end*/
#endif
