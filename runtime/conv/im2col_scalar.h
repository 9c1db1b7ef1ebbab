/*
 * im2col_scalar.h -- the convolutions' data movement in portable C99 (blocks
 * of 16 that gcc vectorises, scalar edges), on every path but AVX-512: the
 * im2col rows of tr_conv_f32 (conv.h; AVX2 adds its own parts, im2col_avx2.h)
 * and the transposes and im2row taps of tr_conv_packed_f32 (conv_packed.h).
 */
#ifndef TOSTC_RT_CONV_IM2COL_SCALAR_H
#define TOSTC_RT_CONV_IM2COL_SCALAR_H
#include "../gemm/config.h"
#include "im2col_avx2.h"

/*@ tr_conv_rows_scalar : tr_gemm_isa tr_conv_rows_avx2 */
#if !defined(TR_GEMM_AVX512)
/*
 * One output row of an im2col line: d[i] = s[i * st + off] for i in [lo, hi)
 * (s the input row, off the tap's offset; only those elements are read),
 * d[i] = 0 for the rest of [0, w): blocks of 16 (stride 2 with AVX2:
 * tr_conv_row_s2) and scalar edges.
 */
TR_FN void tr_conv_row(float *restrict d, const float *restrict s, int64_t off, int64_t w,
                       int64_t lo, int64_t hi, int64_t st)
{
	int64_t i = 0;
	for (; i < lo; i++)
		d[i] = 0.0f;
	/* blocks of 16: plain -O2 vectorises fixed-count loops */
	int64_t h16 = i + (hi - i) / 16 * 16;
	if (st == 1) {
		for (; i < h16; i += 16)
			for (int l = 0; l < 16; l++)
				d[i + l] = s[i + l + off];
	} else if (st == 2) {
#ifdef TR_CONV_ROW_S2
		i = tr_conv_row_s2(d, s, off, i, h16);
#else
		for (; i < h16; i += 16)
			for (int l = 0; l < 16; l++)
				d[i + l] = s[2 * (i + l) + off];
#endif
	}
	for (; i < hi; i++)
		d[i] = s[i * st + off];
	for (; i < w; i++)
		d[i] = 0.0f;
}
#endif
#if !defined(TR_GEMM_AVX512) && !defined(TR_GEMM_AVX2)
/* copy 32 floats (one strip row of the packed col) */
#define TR_CONV_COPY32(d, s)                                                              \
	do {                                                                              \
		for (int l_ = 0; l_ < 32; l_++)                                           \
			(d)[l_] = (s)[l_];                                                \
	} while (0)
#endif
/*@end*/

/*@ tr_conv_copy_scalar : tr_gemm_isa tr_conv_tap_scalar */
#if !defined(TR_GEMM_AVX512)
/*
 * dst[j * ldd + i] = src[i * lds + j] (+ bias[j] when bias) for i < rows, j <
 * cols: a transpose in 16 x 16 blocks of plain loops.  The bias is added
 * after the transpose, so each element is src + bias, as a separate pass
 * would make it.
 */
TR_FN void tr_conv_transpose(float *restrict dst, int64_t ldd, const float *restrict src,
                             int64_t lds, int64_t rows, int64_t cols, const float *bias)
{
	for (int64_t i0 = 0; i0 < rows; i0 += 16)
		for (int64_t j0 = 0; j0 < cols; j0 += 16) {
			int64_t nr = TR_MIN(16, rows - i0), nc = TR_MIN(16, cols - j0);
			for (int64_t j = 0; j < nc; j++) {
				float bv = bias ? bias[j0 + j] : 0.0f;
				float *restrict d = dst + (j0 + j) * ldd + i0;
				const float *restrict s = src + i0 * lds + j0 + j;
				if (bias)
					for (int64_t i = 0; i < nr; i++)
						d[i] = s[i * lds] + bv;
				else
					for (int64_t i = 0; i < nr; i++)
						d[i] = s[i * lds];
			}
		}
}
#endif
/*@end*/

/*@ tr_conv_tap_scalar : tr_gemm_isa */
#if !defined(TR_GEMM_AVX512)
/* d (cg) = s (cg), or zeros when !inside: one tap of an im2row row, in
 * blocks of 16 and a bounded tail (inlined: d and s are the caller's
 * restrict pointers) */
TR_ALWAYS_INLINE void tr_conv_tap(float *d, const float *s, int64_t cg, int inside)
{
	int64_t c = 0;
	if (inside) {
		for (; c + 16 <= cg; c += 16)
			for (int l = 0; l < 16; l++)
				d[c + l] = s[c + l];
		for (int l = 0; l < 16 && c + l < cg; l++)   /* bounded: see tr_gelu_span */
			d[c + l] = s[c + l];
	} else {
		for (; c + 16 <= cg; c += 16)
			for (int l = 0; l < 16; l++)
				d[c + l] = 0.0f;
		for (int l = 0; l < 16 && c + l < cg; l++)
			d[c + l] = 0.0f;
	}
}
#endif
/*@end*/
#endif
