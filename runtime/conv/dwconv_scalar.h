/*
 * dwconv_scalar.h -- the depthwise convolution's tile (dwconv.h) in
 * portable C99, on every path but AVX-512 and AVX2: blocks of 16 channels
 * that gcc vectorises, 4 output pixels at once.
 */
#ifndef TOSTC_RT_CONV_DWCONV_SCALAR_H
#define TOSTC_RT_CONV_DWCONV_SCALAR_H
#include "../gemm/config.h"

/*@ tr_dwconv_tile_scalar : tr_gemm_isa */
#if !defined(TR_GEMM_AVX512) && !defined(TR_GEMM_AVX2)
/* np (<= 4) pixels of nl (<= 16) channels */
TR_FN void tr_dw_pixels(int64_t np, int64_t nl, float *restrict y, const float *const *xr,
                        const float *const *wr, int64_t nrow, int64_t ntap, int64_t off,
                        int64_t xs, int64_t ts, int64_t c, const float *bias)
{
	float a[4][16];
	for (int64_t j = 0; j < 4; j++)
		for (int l = 0; l < 16; l++)
			a[j][l] = bias && l < nl ? bias[l] : 0.0f;
	for (int64_t r = 0; r < nrow; r++)
		for (int64_t t = 0; t < ntap; t++) {
			const float *restrict w = wr[r] + t * c, *restrict s = xr[r] + off + t * ts;
			if (nl == 16 && np == 4) {
				for (int j = 0; j < 4; j++)
					for (int l = 0; l < 16; l++)
						a[j][l] = TR_FMA(s[j * xs + l], w[l], a[j][l]);
			} else {
				for (int64_t j = 0; j < np; j++)
					for (int64_t l = 0; l < nl; l++)
						a[j][l] = TR_FMA(s[j * xs + l], w[l], a[j][l]);
			}
		}
	for (int64_t j = 0; j < np; j++)
		for (int64_t l = 0; l < nl; l++)
			y[j * c + l] = a[j][l];
}
/*
 * y (npix, c), pixel j channel ch = bias[ch] + sum over kernel rows r < nrow
 * and taps t < ntap, in that order, of xr[r][j * xs + t * ts + ch] *
 * wr[r][t * c + ch] (one fma chain per element).
 */
TR_FN void tr_dwconv_tile(float *y, const float *const *xr, const float *const *wr,
                          int64_t nrow, int64_t ntap, int64_t npix, int64_t xs, int64_t ts,
                          int64_t c, const float *bias)
{
	const float *xo[16], *wo[16];
	for (int64_t cb = 0; cb < c; cb += 16) {
		int64_t nl = TR_MIN(16, c - cb);
		for (int64_t r = 0; r < nrow; r++)
			xo[r] = xr[r] + cb, wo[r] = wr[r] + cb;
		for (int64_t j = 0; j < npix; j += 4) {
			int64_t np = TR_MIN(4, npix - j);
			tr_dw_pixels(np, nl, y + j * c + cb, xo, wo, nrow, ntap, j * xs, xs, ts, c,
			             bias ? bias + cb : (const float *)0);
		}
	}
}
#endif
/*@end*/
#endif
