/*
 * depthwise.h -- Conv with one input channel per group, in direct loops (no
 * GEMM: each output channel reads one input channel).
 */
#ifndef TOSTC_RT_CONV_DEPTHWISE_H
#define TOSTC_RT_CONV_DEPTHWISE_H
#include "../elementwise/gelu.h"

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
#endif
