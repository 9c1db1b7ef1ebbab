/*
 * im2col_avx512.h -- the convolutions' data movement with AVX-512: the rows
 * of tr_conv_f32's im2col (conv.h), and the transposes and im2row taps of
 * tr_conv_packed_f32 (conv_packed.h).  Every part is whole or masked
 * vectors, so no element is read twice and no loop becomes a libc call.
 */
#ifndef TOSTC_RT_CONV_IM2COL_AVX512_H
#define TOSTC_RT_CONV_IM2COL_AVX512_H
#include "../gemm/config.h"

/*@ tr_conv_rows_avx512 : tr_gemm_isa */
/*
 * One output row of an im2col line: d[i] = s[i * st + off] for i in [lo, hi)
 * (s the input row, off the tap's offset; only those elements are read),
 * d[i] = 0 for the rest of [0, w); stride 2 through a permute of two loads.
 */
#if defined(TR_GEMM_AVX512)
TR_FN void tr_conv_row(float *restrict d, const float *restrict s, int64_t off, int64_t w,
                       int64_t lo, int64_t hi, int64_t st)
{
	const __m512 z = _mm512_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= lo; i += 16)
		_mm512_storeu_ps(d + i, z);
	if (i < lo)
		_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << (lo - i)) - 1u), z);
	i = lo;
	if (st == 1) {
		for (; i + 16 <= hi; i += 16)
			_mm512_storeu_ps(d + i, _mm512_loadu_ps(s + i + off));
		if (i < hi) {
			__mmask16 m = (__mmask16)((1u << (hi - i)) - 1u);
			_mm512_mask_storeu_ps(d + i, m, _mm512_maskz_loadu_ps(m, s + i + off));
		}
	} else if (st == 2) {
		/* d[i..i+15] = t[0], t[2] .. t[30], t = s + 2i + off: the even lanes of
		 * two loads, the second stopping at t[30] */
		const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6,
		                                    4, 2, 0);
		for (; i + 16 <= hi; i += 16) {
			const float *t = s + 2 * i + off;
			__m512 a = _mm512_loadu_ps(t), b = _mm512_maskz_loadu_ps(0x7fff, t + 16);
			_mm512_storeu_ps(d + i, _mm512_permutex2var_ps(a, ev, b));
		}
		if (i < hi) {
			/* c < 16 elements: t[0] .. t[2c - 2], 2c - 1 floats */
			const float *t = s + 2 * i + off;
			int64_t c = hi - i, f = 2 * c - 1;
			__mmask16 m1 = (__mmask16)(f >= 16 ? 0xffffu : (1u << f) - 1u);
			__mmask16 m2 = (__mmask16)(f > 16 ? (1u << (f - 16)) - 1u : 0u);
			__m512 a = _mm512_maskz_loadu_ps(m1, t), b = _mm512_maskz_loadu_ps(m2, t + 16);
			_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << c) - 1u), _mm512_permutex2var_ps(a, ev, b));
		}
	} else {
		for (; i < hi; i++)
			d[i] = s[i * st + off];
	}
	for (i = hi; i + 16 <= w; i += 16)
		_mm512_storeu_ps(d + i, z);
	if (i < w)
		_mm512_mask_storeu_ps(d + i, (__mmask16)((1u << (w - i)) - 1u), z);
}
/*
 * The three taps of a 3-wide, stride-2, pad-1 kernel row at once (the vision
 * stems' convs): d0[i] = s[2i - 1], d1[i] = s[2i], d2[i] = s[2i + 1] for i in
 * [0, w), 0 where the index falls outside the row s[0, n).  Each block of 16
 * outputs is two (masked) loads, the even and odd lanes by permutes, and the
 * odd lanes moved up one lane with the last of the block before for d0:
 * the same values as three tr_conv_row calls, from one pass over the row.
 */
#define TR_CONV_ROW3 1
TR_FN void tr_conv_row3(float *restrict d0, float *restrict d1, float *restrict d2,
                        const float *restrict s, int64_t w, int64_t n)
{
	const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
	__m512 prev = _mm512_setzero_ps();   /* s[-1]: the padding */
	for (int64_t i = 0; i < w; i += 16) {
		/* s[2i .. 2i + 31], the part inside the row */
		int64_t f = n - 2 * i;
		__mmask16 m1 = (__mmask16)(f >= 16 ? 0xffffu : f > 0 ? (1u << f) - 1u : 0u);
		__mmask16 m2 = (__mmask16)(f >= 32 ? 0xffffu : f > 16 ? (1u << (f - 16)) - 1u : 0u);
		__m512 a = _mm512_maskz_loadu_ps(m1, s + 2 * i), b = _mm512_maskz_loadu_ps(m2, s + 2 * i + 16);
		__m512 e = _mm512_permutex2var_ps(a, ev, b), o = _mm512_permutex2var_ps(a, od, b);
		__m512 l = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(o),
		                                                  _mm512_castps_si512(prev), 15));
		__mmask16 k = (__mmask16)(w - i >= 16 ? 0xffffu : (1u << (w - i)) - 1u);
		_mm512_mask_storeu_ps(d0 + i, k, l);
		_mm512_mask_storeu_ps(d1 + i, k, e);
		_mm512_mask_storeu_ps(d2 + i, k, o);
		prev = o;
	}
}
/* copy 32 floats (one strip row of the packed col) */
#define TR_CONV_COPY32(d, s)                                                              \
	(_mm512_storeu_ps((d), _mm512_loadu_ps(s)), _mm512_storeu_ps((d) + 16, _mm512_loadu_ps((s) + 16)))
#endif
/*@end*/

/*@ tr_conv_copy_avx512 : tr_gemm_isa tr_conv_tap_avx512 */
#if defined(TR_GEMM_AVX512)
/*
 * dst[j * ldd + i] = src[i * lds + j] (+ bias[j] when bias) for i < rows, j <
 * cols: a transpose in 16 x 16 blocks, each sixteen (masked) loads, an
 * in-register transpose and sixteen (masked) stores.  The bias is added after
 * the transpose, so each element is src + bias, as a separate pass would
 * make it.
 */
TR_FN void tr_conv_transpose(float *restrict dst, int64_t ldd, const float *restrict src,
                             int64_t lds, int64_t rows, int64_t cols, const float *bias)
{
	for (int64_t i0 = 0; i0 < rows; i0 += 16)
		for (int64_t j0 = 0; j0 < cols; j0 += 16) {
			int64_t nr = TR_MIN(16, rows - i0), nc = TR_MIN(16, cols - j0);
			__mmask16 mc = (__mmask16)((1u << nc) - 1u), mr = (__mmask16)((1u << nr) - 1u);
			__m512 r[16], t[16];
			for (int i = 0; i < 16; i++)
				r[i] = i < nr ? _mm512_maskz_loadu_ps(mc, src + (i0 + i) * lds + j0)
				              : _mm512_setzero_ps();
			for (int i = 0; i < 16; i += 2) {   /* pairs of rows, within 128-bit lanes */
				t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
				t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
			}
			/* r[4 q + c], lane l: rows 4 q .. 4 q + 3 of column 4 l + c */
			for (int q = 0; q < 4; q++) {
				r[4 * q] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
				r[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
				r[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
				r[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
			}
			/* t[4 l + c]: column 4 l + c, lanes from r[c], r[4 + c], r[8 + c], r[12 + c] */
			for (int c = 0; c < 4; c++) {
				__m512 w0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
				__m512 w1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
				__m512 w2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
				__m512 w3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
				t[c] = _mm512_shuffle_f32x4(w0, w2, 0x88);
				t[8 + c] = _mm512_shuffle_f32x4(w0, w2, 0xDD);
				t[4 + c] = _mm512_shuffle_f32x4(w1, w3, 0x88);
				t[12 + c] = _mm512_shuffle_f32x4(w1, w3, 0xDD);
			}
			for (int j = 0; j < nc; j++) {
				__m512 v = t[j];
				if (bias)
					v = _mm512_add_ps(v, _mm512_set1_ps(bias[j0 + j]));
				_mm512_mask_storeu_ps(dst + (j0 + j) * ldd + i0, mr, v);
			}
		}
}
#endif
/*@end*/

/*@ tr_conv_tap_avx512 : tr_gemm_isa */
#if defined(TR_GEMM_AVX512)
/* d (cg) = s (cg), or zeros when !inside: one tap of an im2row row, as
 * whole and masked vectors (inlined: d and s are the caller's restrict
 * pointers) */
TR_ALWAYS_INLINE void tr_conv_tap(float *d, const float *s, int64_t cg, int inside)
{
	int64_t c = 0;
	for (; c + 16 <= cg; c += 16)
		_mm512_storeu_ps(d + c, inside ? _mm512_loadu_ps(s + c) : _mm512_setzero_ps());
	if (c < cg) {
		__mmask16 m = (__mmask16)((1u << (cg - c)) - 1u);
		_mm512_mask_storeu_ps(d + c, m, inside ? _mm512_maskz_loadu_ps(m, s + c)
		                                       : _mm512_setzero_ps());
	}
}
#endif
/*@end*/
#endif
