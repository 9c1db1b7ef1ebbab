/*
 * dwconv_avx2.h -- the depthwise convolution's tile (dwconv.h) with
 * AVX2+FMA: 8 channels a vector, 4 output pixels at once.
 */
#ifndef TOSTC_RT_CONV_DWCONV_AVX2_H
#define TOSTC_RT_CONV_DWCONV_AVX2_H
#include "../gemm/config.h"

/*@ tr_dwconv_tile_avx2 : tr_gemm_isa */
#if defined(TR_GEMM_AVX2)
/* np (a constant: 4 or 1) pixels of one 8-channel block, lanes m */
TR_ALWAYS_INLINE void tr_dw_pixels(const int np, float *restrict y, const float *const *xr,
                                   const float *const *wr, int64_t nrow, int64_t ntap,
                                   int64_t off, int64_t xs, int64_t ts, int64_t c, const float *bias,
                                   __m256i m)
{
	__m256 b = bias ? _mm256_maskload_ps(bias, m) : _mm256_setzero_ps();
	__m256 a0 = b, a1 = b, a2 = b, a3 = b;
	for (int64_t r = 0; r < nrow; r++)
		for (int64_t t = 0; t < ntap; t++) {
			__m256 w = _mm256_maskload_ps(wr[r] + t * c, m);
			const float *s = xr[r] + off + t * ts;
			a0 = _mm256_fmadd_ps(_mm256_maskload_ps(s, m), w, a0);
			if (np > 1) {
				a1 = _mm256_fmadd_ps(_mm256_maskload_ps(s + xs, m), w, a1);
				a2 = _mm256_fmadd_ps(_mm256_maskload_ps(s + 2 * xs, m), w, a2);
				a3 = _mm256_fmadd_ps(_mm256_maskload_ps(s + 3 * xs, m), w, a3);
			}
		}
	_mm256_maskstore_ps(y, m, a0);
	if (np > 1) {
		_mm256_maskstore_ps(y + c, m, a1);
		_mm256_maskstore_ps(y + 2 * c, m, a2);
		_mm256_maskstore_ps(y + 3 * c, m, a3);
	}
}
/*
 * y (npix, c), pixel j channel ch = bias[ch] + sum over kernel rows r < nrow
 * and taps t < ntap, in that order, of xr[r][j * xs + t * ts + ch] *
 * wr[r][t * c + ch] (one fma chain per element).  Per block of 8 channels
 * (the last one masked), 4 pixels at once.
 */
TR_FN void tr_dwconv_tile(float *y, const float *const *xr, const float *const *wr,
                          int64_t nrow, int64_t ntap, int64_t npix, int64_t xs, int64_t ts,
                          int64_t c, const float *bias)
{
	const float *xo[16], *wo[16];
	for (int64_t cb = 0; cb < c; cb += 8) {
		int64_t left = c - cb;
		__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(left, 8)),
		                               _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		for (int64_t r = 0; r < nrow; r++)
			xo[r] = xr[r] + cb, wo[r] = wr[r] + cb;
		const float *bo = bias ? bias + cb : (const float *)0;
		int64_t j = 0;
		for (; j + 4 <= npix; j += 4)
			tr_dw_pixels(4, y + j * c + cb, xo, wo, nrow, ntap, j * xs, xs, ts, c, bo, m);
		for (; j < npix; j++)
			tr_dw_pixels(1, y + j * c + cb, xo, wo, nrow, ntap, j * xs, xs, ts, c, bo, m);
	}
}
#endif
/*@end*/
#endif
