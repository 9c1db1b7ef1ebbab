/*
 * dwconv_avx512.h -- the depthwise convolution's tile (dwconv.h) with
 * AVX-512: 16 channels a vector, 8 output pixels at once.
 */
#ifndef TOSTC_RT_CONV_DWCONV_AVX512_H
#define TOSTC_RT_CONV_DWCONV_AVX512_H
#include "../gemm/config.h"

/*@ tr_dwconv_tile_avx512 : tr_gemm_isa */
#if defined(TR_GEMM_AVX512)
/* np (a constant: 8 or 1) pixels of one 16-channel block, lanes m */
TR_ALWAYS_INLINE void tr_dw_pixels(const int np, float *restrict y, const float *const *xr,
                                   const float *const *wr, int64_t nrow, int64_t ntap,
                                   int64_t off, int64_t xs, int64_t ts, int64_t c, const float *bias,
                                   __mmask16 m)
{
	__m512 b = bias ? _mm512_maskz_loadu_ps(m, bias) : _mm512_setzero_ps();
	__m512 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
	for (int64_t r = 0; r < nrow; r++)
		for (int64_t t = 0; t < ntap; t++) {
			__m512 w = _mm512_maskz_loadu_ps(m, wr[r] + t * c);
			const float *s = xr[r] + off + t * ts;
			a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s), w, a0);
			if (np > 1) {
				a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + xs), w, a1);
				a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 2 * xs), w, a2);
				a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 3 * xs), w, a3);
				a4 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 4 * xs), w, a4);
				a5 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 5 * xs), w, a5);
				a6 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 6 * xs), w, a6);
				a7 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + 7 * xs), w, a7);
			}
		}
	_mm512_mask_storeu_ps(y, m, a0);
	if (np > 1) {
		_mm512_mask_storeu_ps(y + c, m, a1);
		_mm512_mask_storeu_ps(y + 2 * c, m, a2);
		_mm512_mask_storeu_ps(y + 3 * c, m, a3);
		_mm512_mask_storeu_ps(y + 4 * c, m, a4);
		_mm512_mask_storeu_ps(y + 5 * c, m, a5);
		_mm512_mask_storeu_ps(y + 6 * c, m, a6);
		_mm512_mask_storeu_ps(y + 7 * c, m, a7);
	}
}
/*
 * y (npix, c), pixel j channel ch = bias[ch] + sum over kernel rows r < nrow
 * and taps t < ntap, in that order, of xr[r][j * xs + t * ts + ch] *
 * wr[r][t * c + ch] (one fma chain per element).  Per block of 16 channels
 * (the last one masked), 8 pixels at once, each weight vector loaded once
 * for the 8.
 */
TR_FN void tr_dwconv_tile(float *y, const float *const *xr, const float *const *wr,
                          int64_t nrow, int64_t ntap, int64_t npix, int64_t xs, int64_t ts,
                          int64_t c, const float *bias)
{
	const float *xo[16], *wo[16];
	for (int64_t cb = 0; cb < c; cb += 16) {
		__mmask16 m = (__mmask16)(c - cb >= 16 ? 0xffffu : (1u << (c - cb)) - 1u);
		for (int64_t r = 0; r < nrow; r++)
			xo[r] = xr[r] + cb, wo[r] = wr[r] + cb;
		const float *bo = bias ? bias + cb : (const float *)0;
		int64_t j = 0;
		for (; j + 8 <= npix; j += 8)
			tr_dw_pixels(8, y + j * c + cb, xo, wo, nrow, ntap, j * xs, xs, ts, c, bo, m);
		for (; j < npix; j++)
			tr_dw_pixels(1, y + j * c + cb, xo, wo, nrow, ntap, j * xs, xs, ts, c, bo, m);
	}
}
#endif
/*@end*/
#endif
