/*
 * lrn.h -- LRN, local response normalisation across channels (AlexNet,
 * GoogLeNet).
 */
#ifndef TOSTC_RT_NORM_LRN_H
#define TOSTC_RT_NORM_LRN_H
#include "../common.h"

/*@ tr_lrn_f32 tr_lrn_block : tr_common */
/*
 * One block of n <= 16 positions of a channel: y = x / (bias + a * sq) ^ beta,
 * sq the sum of the squares of channels [i0, i1] at each position; xb is
 * channel 0 at the block, channels s apart, x its own channel.  Called with n
 * a constant 16, the sums run as vector code.
 */
TR_ALWAYS_INLINE void tr_lrn_block(const float *xb, const float *x, float *y, int64_t s,
                                   int64_t i0, int64_t i1, int n, float a, float beta,
                                   float bias)
{
	float sq[16];
	for (int l = 0; l < 16; l++)
		sq[l] = 0.0f;
	for (int64_t i = i0; i <= i1; i++)
		for (int l = 0; l < n; l++)
			sq[l] += xb[i * s + l] * xb[i * s + l];
	if (beta == 0.75f)   /* the usual beta: t^0.75 = sqrt(t) sqrt(sqrt(t)), no powf */
		for (int l = 0; l < n; l++) {
			float r = sqrtf(bias + a * sq[l]);
			y[l] = x[l] / (r * sqrtf(r));
		}
	else
		for (int l = 0; l < n; l++)
			y[l] = x[l] / powf(bias + a * sq[l], beta);
}
/*
 * x (nb, c, s) -> y (not x) like x = x / (bias + alpha / size * sq) ^ beta,
 * where sq at channel ch is the sum of x^2 over channels
 * [ch - (size - 1) / 2, ch + size / 2] clipped to [0, c); in blocks of 16
 * positions, the window's sums kept in registers.
 */
TR_FN void tr_lrn_f32(const float *x, float *y, int64_t nb, int64_t c, int64_t s, int64_t size,
                      float alpha, float beta, float bias)
{
	int64_t lo = (size - 1) / 2, hi = size / 2;
	float a = alpha / (float)size;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t ch = 0; ch < c; ch++) {
			const float *xb = x + b * c * s, *xc = xb + ch * s;
			float *yc = y + (b * c + ch) * s;
			int64_t i0 = TR_MAX(0, ch - lo), i1 = TR_MIN(c - 1, ch + hi), q = 0;
			for (; q + 16 <= s; q += 16)
				tr_lrn_block(xb + q, xc + q, yc + q, s, i0, i1, 16, a, beta, bias);
			if (q < s)
				tr_lrn_block(xb + q, xc + q, yc + q, s, i0, i1, (int)(s - q), a, beta, bias);
		}
}
/*@end*/
#endif
