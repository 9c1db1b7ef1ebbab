/*
 * im2col_avx2.h -- the parts of tr_conv_f32's im2col (conv.h) that AVX2 does
 * faster: stride 2 through shuffles, the three taps of a kernel row at once,
 * the strip copies.  The rest of tr_conv_row and tr_conv_packed_f32's
 * transposes and taps are the portable ones (im2col_scalar.h).
 */
#ifndef TOSTC_RT_CONV_IM2COL_AVX2_H
#define TOSTC_RT_CONV_IM2COL_AVX2_H
#include "../gemm/config.h"

/*@ tr_conv_rows_avx2 : tr_gemm_isa */
#if defined(TR_GEMM_AVX2)
/* d[i] = s[2 i + off] for i from i0 up to h16 (blocks of 8) through the even
 * lanes of two loads from t = s + 2i + off, the second stopping at t[14]:
 * the stride-2 part of tr_conv_row (im2col_scalar.h), which returns where it
 * stopped (inlined: d and s are the caller's restrict pointers) */
#define TR_CONV_ROW_S2 1
TR_ALWAYS_INLINE int64_t tr_conv_row_s2(float *d, const float *s, int64_t off, int64_t i0,
                                        int64_t h16)
{
	const __m256i m7 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
	int64_t i = i0;
	for (; i < h16; i += 8) {
		const float *t = s + 2 * i + off;
		__m256 a = _mm256_loadu_ps(t), b = _mm256_maskload_ps(t + 8, m7);
		__m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   /* 0 2 8 10 4 6 12 14 */
		_mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e),
		                                                                _MM_SHUFFLE(3, 1, 2, 0))));
	}
	return i;
}
/* The three taps of a 3-wide, stride-2, pad-1 kernel row at once (as
 * tr_conv_row3 in im2col_avx512.h) in blocks of 8: the even and odd lanes of
 * two loads by shuffles, row 0 the odd lanes rotated up one lane with the
 * last odd one of the block before blended into lane 0 */
#define TR_CONV_ROW3 1
TR_FN void tr_conv_row3(float *restrict d0, float *restrict d1, float *restrict d2,
                        const float *restrict s, int64_t w, int64_t n)
{
	const __m256i up = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256 prev = _mm256_setzero_ps();   /* rotated: lane 0 is s[-1], the padding */
	for (int64_t i = 0; i < w; i += 8) {
		/* s[2i .. 2i + 15], the part inside the row: lanes below f, f - 8 */
		int64_t f = n - 2 * i, c = w - i;
		__m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(TR_MAX(f, 0), 16)), lane);
		__m256i m2 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(TR_MAX(f - 8, 0), 8)), lane);
		__m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)TR_MIN(c, 8)), lane);
		__m256 a = _mm256_maskload_ps(s + 2 * i, m1), b = _mm256_maskload_ps(s + 2 * i + 8, m2);
		__m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   /* 0 2 8 10 4 6 12 14 */
		__m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));   /* 1 3 9 11 5 7 13 15 */
		e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
		o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
		__m256 r = _mm256_permutevar8x32_ps(o, up);                    /* o7 o0 .. o6 */
		_mm256_maskstore_ps(d0 + i, k, _mm256_blend_ps(r, prev, 1));
		_mm256_maskstore_ps(d1 + i, k, e);
		_mm256_maskstore_ps(d2 + i, k, o);
		prev = r;
	}
}
/* copy 32 floats (one strip row of the packed col) */
#define TR_CONV_COPY32(d, s)                                                              \
	(_mm256_storeu_ps((d), _mm256_loadu_ps(s)), _mm256_storeu_ps((d) + 8, _mm256_loadu_ps((s) + 8)), \
	 _mm256_storeu_ps((d) + 16, _mm256_loadu_ps((s) + 16)),                              \
	 _mm256_storeu_ps((d) + 24, _mm256_loadu_ps((s) + 24)))
#endif
/*@end*/
#endif
