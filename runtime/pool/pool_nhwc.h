/*
 * pool_nhwc.h -- MaxPool, AveragePool and GlobalAveragePool on channels-last
 * tensors (compiler/passes/layout.c): every tap of an output pixel is a run
 * of c contiguous channels, pooled in blocks of 16 that gcc vectorises.
 * Each output element sees its taps in the order pool.h takes them, so the
 * results are bitwise those of the channels-first kernels.
 */
#ifndef TOSTC_RT_POOL_POOL_NHWC_H
#define TOSTC_RT_POOL_POOL_NHWC_H
#include "../common.h"

/*@ tr_pool_runs : tr_common */
/* y (c) = max(y, v (c)), a NaN in v winning as in tr_pool_f32 */
TR_ALWAYS_INLINE void tr_pool_max_run(float *restrict y, const float *restrict v, int64_t c)
{
	int64_t i = 0;
	for (; i + 16 <= c; i += 16)
		for (int l = 0; l < 16; l++)
			y[i + l] = v[i + l] > y[i + l] || v[i + l] != v[i + l] ? v[i + l] : y[i + l];
	for (int l = 0; l < 16 && i + l < c; l++)   /* bounded: see tr_gelu_span */
		y[i + l] = v[i + l] > y[i + l] || v[i + l] != v[i + l] ? v[i + l] : y[i + l];
}
/* y (c) += v (c) */
TR_ALWAYS_INLINE void tr_pool_add_run(float *restrict y, const float *restrict v, int64_t c)
{
	int64_t i = 0;
	for (; i + 16 <= c; i += 16)
		for (int l = 0; l < 16; l++)
			y[i + l] = y[i + l] + v[i + l];
	for (int l = 0; l < 16 && i + l < c; l++)
		y[i + l] = y[i + l] + v[i + l];
}
/*@end*/

/*@ tr_pool_nhwc_f32 : tr_pool_runs */
/*
 * Pooling, channels last: x (nb, in[0], in[1], in[2], c) -> y (nb, out[0],
 * out[1], out[2], c); p = in[3], out[3], kernel[3], stride[3], dilation[3],
 * pads[6].  Padding never wins a max; an average divides by the number of
 * input elements in the window, or (count_include_pad) by the window's size
 * clipped to the padded input, as tr_pool_f32 (pool.h).
 */
TR_FN void tr_pool_nhwc_f32(const float *x, float *y, int64_t nb, int64_t c, const int64_t *p,
                            int64_t is_max, int64_t count_include_pad)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pb = p + 15;
	const int64_t *pe = p + 18;
	int64_t npix = nb * out[0] * out[1] * out[2];
	TR_OMP(omp parallel for schedule(static) if (npix * c * ks[0] * ks[1] * ks[2] >= TR_PAR_MIN))
	for (int64_t q = 0; q < npix; q++) {
		int64_t b = q / (out[0] * out[1] * out[2]), r = q % (out[0] * out[1] * out[2]);
		int64_t o[3] = {r / (out[1] * out[2]), r / out[2] % out[1], r % out[2]};
		int64_t lo[3], hi[3], cnt = 1;
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
		float *yq = y + q * c;
		for (int64_t i = 0; i < c; i++)
			yq[i] = is_max ? -INFINITY : 0.0f;
		for (int64_t kd = lo[0]; kd < hi[0]; kd++) {
			int64_t id = o[0] * st[0] - pb[0] + kd * dl[0];
			for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
				int64_t ih = o[1] * st[1] - pb[1] + kh * dl[1];
				const float *xr = x + ((b * in[0] + id) * in[1] + ih) * in[2] * c;
				for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
					const float *v = xr + (o[2] * st[2] - pb[2] + kw * dl[2]) * c;
					if (is_max)
						tr_pool_max_run(yq, v, c);
					else
						tr_pool_add_run(yq, v, c);
				}
			}
		}
		if (!is_max)
			for (int64_t i = 0; i < c; i++)
				yq[i] = cnt > 0 ? yq[i] / (float)cnt : 0.0f;
	}
}
/*@end*/

/*@ tr_global_avgpool_nhwc_f32 : tr_pool_runs */
/* x (nb, s, c) -> y (nb, c) = mean over s, summed in the order of
 * tr_global_avgpool_f32 */
TR_FN void tr_global_avgpool_nhwc_f32(const float *x, float *y, int64_t nb, int64_t s, int64_t c)
{
	for (int64_t b = 0; b < nb; b++) {
		float *yb = y + b * c;
		for (int64_t i = 0; i < c; i++)
			yb[i] = 0.0f;
		for (int64_t q = 0; q < s; q++)
			tr_pool_add_run(yb, x + (b * s + q) * c, c);
		for (int64_t i = 0; i < c; i++)
			yb[i] = s > 0 ? yb[i] / (float)s : 0.0f;
	}
}
/*@end*/
#endif
