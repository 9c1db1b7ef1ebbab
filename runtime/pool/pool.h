/*
 * pool.h -- MaxPool, AveragePool and GlobalAveragePool over up to 3 spatial
 * dims, in direct loops; parameter arrays as for Conv (conv/conv.h).
 */
#ifndef TOSTC_RT_POOL_POOL_H
#define TOSTC_RT_POOL_POOL_H
#include "../common.h"

/*@ tr_pool_f32 : tr_common */
/*
 * Pooling over up to 3 spatial dims: x (nc, in...) -> y (nc, out...);
 * p = in[3], out[3], kernel[3], stride[3], dilation[3], pads[6].
 * Padding never wins a max; an average divides by the number of input
 * elements in the window, or (count_include_pad) by the window's size
 * clipped to the padded input.
 */
TR_FN void tr_pool_f32(const float *x, float *y, int64_t nc, const int64_t *p, int is_max,
                       int64_t count_include_pad)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	const int64_t *pe = p + 18;
	int64_t isz = in[0] * in[1] * in[2];
	for (int64_t od = 0; od < out[0]; od++)
		for (int64_t oh = 0; oh < out[1]; oh++)
			for (int64_t ow = 0; ow < out[2]; ow++) {
				int64_t o[3] = {od, oh, ow}, lo[3], hi[3], cnt = 1;
				/* kernel taps [lo, hi) that land inside the input, per dim */
				for (int d = 0; d < 3; d++) {
					int64_t start = o[d] * st[d] - pb[d], t0 = 0, t1 = ks[d];
					while (t0 < t1 && start + t0 * dl[d] < 0)
						t0++;
					while (t1 > t0 && start + (t1 - 1) * dl[d] >= in[d])
						t1--;
					lo[d] = t0;
					hi[d] = t1;
					if (count_include_pad) {
						int64_t u = ks[d];
						while (u > 0 && start + (u - 1) * dl[d] >= in[d] + pe[d])
							u--;
						cnt *= u;
					} else {
						cnt *= t1 - t0;
					}
				}
				int64_t yo = (od * out[1] + oh) * out[2] + ow;
				for (int64_t ch = 0; ch < nc; ch++) {
					const float *xc = x + ch * isz;
					float acc = is_max ? -INFINITY : 0.0f;
					for (int64_t kd = lo[0]; kd < hi[0]; kd++) {
						int64_t id = od * st[0] - pb[0] + kd * dl[0];
						for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
							int64_t ih = oh * st[1] - pb[1] + kh * dl[1];
							const float *xr = xc + (id * in[1] + ih) * in[2];
							int64_t iw0 = ow * st[2] - pb[2];
							if (is_max) {
								for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
									float v = xr[iw0 + kw * dl[2]];
									acc = v > acc || v != v ? v : acc;
								}
							} else {
								for (int64_t kw = lo[2]; kw < hi[2]; kw++)
									acc += xr[iw0 + kw * dl[2]];
							}
						}
					}
					y[ch * out[0] * out[1] * out[2] + yo] =
						is_max ? acc : (cnt > 0 ? acc / (float)cnt : 0.0f);
				}
			}
}

/*@end*/

/*@ tr_maxpool_f32 : tr_pool_f32 */
/* max over each window: x (nc, in...) -> y (nc, out...) */
TR_FN void tr_maxpool_f32(const float *x, float *y, int64_t nc, const int64_t *p)
{
	tr_pool_f32(x, y, nc, p, 1, 0);
}

/*@end*/

/*@ tr_avgpool_f32 : tr_pool_f32 */
/* average over each window: x (nc, in...) -> y (nc, out...) */
TR_FN void tr_avgpool_f32(const float *x, float *y, int64_t nc, const int64_t *p,
                          int64_t count_include_pad)
{
	tr_pool_f32(x, y, nc, p, 0, count_include_pad);
}
/*@end*/

/*@ tr_global_avgpool_f32 : tr_common */
/* x (nc, s) -> y (nc) = mean over s */
TR_FN void tr_global_avgpool_f32(const float *x, float *y, int64_t nc, int64_t s)
{
	for (int64_t i = 0; i < nc; i++) {
		const float *xr = x + i * s;
		float acc = 0.0f;
		for (int64_t q = 0; q < s; q++)
			acc += xr[q];
		y[i] = s > 0 ? acc / (float)s : 0.0f;
	}
}
/*@end*/
#endif
