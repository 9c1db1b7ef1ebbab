/*
 * lrn.h -- LRN, local response normalisation across channels (AlexNet,
 * GoogLeNet).
 */
#ifndef TOSTC_RT_NORM_LRN_H
#define TOSTC_RT_NORM_LRN_H
#include "../common.h"

/*@ tr_lrn_f32 tr_lrn_sq : tr_common */
/* sq (n) += x (n)^2, blocks of 16 (vectorised at -O2) and a bounded tail */
TR_FN void tr_lrn_sq(float *restrict sq, const float *restrict x, int64_t n)
{
	int64_t q = 0;
	for (; q + 16 <= n; q += 16)
		for (int l = 0; l < 16; l++)
			sq[q + l] += x[q + l] * x[q + l];
	for (int l = 0; l < 16 && q + l < n; l++)
		sq[q + l] += x[q + l] * x[q + l];
}
/*
 * x (nb, c, s) -> y like x = x / (bias + alpha / size * sq) ^ beta, where sq at
 * channel ch is the sum of x^2 over channels [ch - (size - 1) / 2,
 * ch + size / 2] clipped to [0, c).  sq: scratch of s floats, one channel's
 * sums, added a channel row at a time.
 */
TR_FN void tr_lrn_f32(const float *x, float *y, float *sq, int64_t nb, int64_t c, int64_t s,
                      int64_t size, float alpha, float beta, float bias)
{
	int64_t lo = (size - 1) / 2, hi = size / 2;
	float a = alpha / (float)size;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t ch = 0; ch < c; ch++) {
			const float *xc = x + (b * c + ch) * s;
			float *yc = y + (b * c + ch) * s;
			for (int64_t q = 0; q < s; q++)
				sq[q] = 0.0f;
			for (int64_t i = TR_MAX(0, ch - lo); i <= TR_MIN(c - 1, ch + hi); i++)
				tr_lrn_sq(sq, x + (b * c + i) * s, s);
			if (beta == 0.75f)   /* the usual beta: t^0.75 = sqrt(t) sqrt(sqrt(t)), no powf */
				for (int64_t q = 0; q < s; q++) {
					float t = bias + a * sq[q], r = sqrtf(t);
					yc[q] = xc[q] / (r * sqrtf(r));
				}
			else
				for (int64_t q = 0; q < s; q++)
					yc[q] = xc[q] / powf(bias + a * sq[q], beta);
		}
}
/*@end*/
#endif
