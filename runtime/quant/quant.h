/*
 * quant.h -- linear quantisation: ONNX QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, and the integer matmul of MatMulInteger and
 * QLinearMatMul, in plain C99 (gcc vectorises the inner loops).
 *
 * Per-tensor and per-axis forms are one kernel: x is viewed as (outer, c,
 * inner) with one scale and zero point per index of c (c = 1 per tensor).
 *
 * Rounding, everywhere: to nearest, ties to even (tr_q_round: rintf in C's
 * default rounding mode), then saturation to the type's range; NaN
 * quantises to the zero point.  Quantize rounds x / scale (a float
 * division, as the ONNX spec and ONNX Runtime's MLAS); QLinearMatMul
 * rounds acc * (a_scale * b_scale / y_scale), the multiplier in float, as
 * MLAS's requantisation does.
 *
 * The integer matmul accumulates (a - a_zp) (b - b_zp) in 32 bits, wrapping
 * like two's complement (uint32 arithmetic: no undefined behaviour), which
 * only matters beyond k * 255 * 255 >= 2^31.  Integer sums are exact, so
 * any order, and any split over threads, gives the same result.
 */
#ifndef TOSTC_RT_QUANT_QUANT_H
#define TOSTC_RT_QUANT_QUANT_H
#include "../common.h"

/*@ tr_quant : tr_common */
/* v rounded to nearest, ties to even; NaN -> 0 */
static inline float tr_q_round(float v)
{
	return v != v ? 0.0f : rintf(v);
}

/* v clamped to [lo, hi] */
static inline float tr_q_sat(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* element i of an int8 (sign 1) or uint8 (sign 0) array */
static inline int32_t tr_q_get(const void *p, int64_t sign, int64_t i)
{
	return sign ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}
/*@end*/

/*@ tr_quantize : tr_quant */
/* x (outer, c, inner) float -> y = saturate(round(x / scale[ch]) + zp[ch]) */
#define TR_QUANTIZE(NAME, T, LO, HI)                                                 \
	TR_FN void NAME(const float *x, const float *scale, const T *zp, T *y,            \
	                int64_t outer, int64_t c, int64_t inner)                          \
	{                                                                                 \
		for (int64_t o = 0; o < outer; o++)                                       \
			for (int64_t ch = 0; ch < c; ch++) {                              \
				const float s = scale[ch], z = (float)zp[ch];             \
				const float *xp = x + (o * c + ch) * inner;               \
				T *yp = y + (o * c + ch) * inner;                         \
				for (int64_t i = 0; i < inner; i++)                       \
					yp[i] = (T)tr_q_sat(tr_q_round(xp[i] / s) + z, LO, HI); \
			}                                                                 \
	}
/*@end*/
/*@ tr_quantize_f32_i8 : tr_quantize */
TR_QUANTIZE(tr_quantize_f32_i8, int8_t, -128.0f, 127.0f)
/*@end*/
/*@ tr_quantize_f32_u8 : tr_quantize */
TR_QUANTIZE(tr_quantize_f32_u8, uint8_t, 0.0f, 255.0f)
/*@end*/

/*@ tr_dequantize : tr_quant */
/* x (outer, c, inner) integers -> y = (x - zp[ch]) * scale[ch], the
 * difference exact (64 bits), then one float rounding each for the
 * conversion and the product */
#define TR_DEQUANTIZE(NAME, T)                                                       \
	TR_FN void NAME(const T *x, const float *scale, const T *zp, float *y,            \
	                int64_t outer, int64_t c, int64_t inner)                          \
	{                                                                                 \
		for (int64_t o = 0; o < outer; o++)                                       \
			for (int64_t ch = 0; ch < c; ch++) {                              \
				const float s = scale[ch];                                \
				const int64_t z = zp[ch];                                 \
				const T *xp = x + (o * c + ch) * inner;                   \
				float *yp = y + (o * c + ch) * inner;                     \
				for (int64_t i = 0; i < inner; i++)                       \
					yp[i] = (float)((int64_t)xp[i] - z) * s;          \
			}                                                                 \
	}
/*@end*/
/*@ tr_dequantize_i8_f32 : tr_dequantize */
TR_DEQUANTIZE(tr_dequantize_i8_f32, int8_t)
/*@end*/
/*@ tr_dequantize_u8_f32 : tr_dequantize */
TR_DEQUANTIZE(tr_dequantize_u8_f32, uint8_t)
/*@end*/
/*@ tr_dequantize_i32_f32 : tr_dequantize */
TR_DEQUANTIZE(tr_dequantize_i32_f32, int32_t)
/*@end*/

/*@ tr_dynamic_quantize_u8 : tr_quant */
/* x (n) -> y (n) uint8, scale and zp (scalars), as ONNX's
 * DynamicQuantizeLinear: the range [min(0, min x), max(0, max x)] (NaN
 * ignored) over 255 steps, zp = saturate(round(-lo / scale)),
 * y = saturate(round(x / scale) + zp).  An all-zero x (lo == hi) has
 * scale 1 and zp 0, as ONNX Runtime (the spec's formula divides by 0). */
TR_FN void tr_dynamic_quantize_u8(const float *x, uint8_t *y, float *scale, uint8_t *zp,
                                  int64_t n)
{
	float lo = 0.0f, hi = 0.0f;
	for (int64_t i = 0; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	float s = hi == lo ? 1.0f : (hi - lo) / 255.0f;
	float z = tr_q_sat(tr_q_round((0.0f - lo) / s), 0.0f, 255.0f);
	for (int64_t i = 0; i < n; i++)
		y[i] = (uint8_t)tr_q_sat(tr_q_round(x[i] / s) + z, 0.0f, 255.0f);
	*scale = s;
	*zp = (uint8_t)z;
}
/*@end*/

/*@ tr_qmm : tr_quant */
#define TR_QMM_TILE 256   /* output columns accumulated at once, on the stack */

/* acc[0..nj) = sum over kk < k of (a[kk] - azp) * (b[kk, j0 + j] - bzp[j]),
 * a one row of k, b (k, n) row-major, bzp the tile's nj column zero points */
static inline void tr_qmm_row(const void *a, int64_t as, int32_t azp, const void *b, int64_t bs,
                              const int32_t *bzp, int64_t k, int64_t n, int64_t j0, int64_t nj,
                              uint32_t *acc)
{
	for (int64_t j = 0; j < nj; j++)
		acc[j] = 0;
	for (int64_t kk = 0; kk < k; kk++) {
		const int32_t av = tr_q_get(a, as, kk) - azp;
		if (bs) {
			const int8_t *bp = (const int8_t *)b + kk * n + j0;
			for (int64_t j = 0; j < nj; j++)
				acc[j] += (uint32_t)(av * ((int32_t)bp[j] - bzp[j]));
		} else {
			const uint8_t *bp = (const uint8_t *)b + kk * n + j0;
			for (int64_t j = 0; j < nj; j++)
				acc[j] += (uint32_t)(av * ((int32_t)bp[j] - bzp[j]));
		}
	}
}

/* the uint32 sum as the int32 it wraps to */
static inline int32_t tr_qmm_s32(uint32_t u)
{
	return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* the batch odometer of tr_matmul_f32: advance idx over bdims, moving the
 * element offsets ao and bo by the strides (0 on broadcast dims) */
static inline void tr_qmm_next(int64_t nb, const int64_t *bdims, const int64_t *astr,
                               const int64_t *bstr, int64_t *idx, int64_t *ao, int64_t *bo)
{
	for (int64_t d = nb - 1; d >= 0; d--) {
		*ao += astr[d];
		*bo += bstr[d];
		if (++idx[d] < bdims[d])
			return;
		*ao -= astr[d] * bdims[d];
		*bo -= bstr[d] * bdims[d];
		idx[d] = 0;
	}
}
/*@end*/

/*@ tr_matmul_integer : tr_qmm */
/*
 * MatMulInteger: y[batch] (m, n) int32 = (a[batch] (m, k) - azp) @
 * (b[batch] (k, n) - bzp), batches as tr_matmul_f32's (element offsets,
 * strides 0 on broadcast dims).  a and b are int8 (a_signed / b_signed 1) or
 * uint8; azp has a_signed's type and 1 value, or m (azp_rows: per row); bzp
 * b_signed's type and 1 value, or n (bzp_cols: per column).
 */
TR_FN void tr_matmul_integer(const void *a, const void *b, const void *azp, const void *bzp,
                             int32_t *y, int64_t m, int64_t k, int64_t n, int64_t nb,
                             const int64_t *bdims, const int64_t *astr, const int64_t *bstr,
                             int64_t a_signed, int64_t b_signed, int64_t azp_rows,
                             int64_t bzp_cols)
{
	int64_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 1, ao = 0, bo = 0;
	uint32_t acc[TR_QMM_TILE];
	int32_t bz[TR_QMM_TILE];
	for (int64_t d = 0; d < nb; d++)
		total *= bdims[d];
	for (int64_t t = 0; t < total; t++) {
		const unsigned char *ab = (const unsigned char *)a + ao;
		const unsigned char *bb = (const unsigned char *)b + bo;
		int32_t *yb = y + t * m * n;
		for (int64_t j0 = 0; j0 < n; j0 += TR_QMM_TILE) {
			const int64_t nj = TR_MIN(TR_QMM_TILE, n - j0);
			for (int64_t j = 0; j < nj; j++)
				bz[j] = tr_q_get(bzp, b_signed, bzp_cols ? j0 + j : 0);
			for (int64_t i = 0; i < m; i++) {
				tr_qmm_row(ab + i * k, a_signed, tr_q_get(azp, a_signed, azp_rows ? i : 0),
				           bb, b_signed, bz, k, n, j0, nj, acc);
				for (int64_t j = 0; j < nj; j++)
					yb[i * n + j0 + j] = tr_qmm_s32(acc[j]);
			}
		}
		tr_qmm_next(nb, bdims, astr, bstr, idx, &ao, &bo);
	}
}
/*@end*/

/*@ tr_qlinear_matmul : tr_qmm */
/*
 * QLinearMatMul: the int32 sums of tr_matmul_integer, requantised:
 * y = saturate(round(acc * (a_scale * b_scale / y_scale)) + yzp), the
 * multiplier rounded to float.  a_scale, azp per row (a_rows: m values) or
 * one; b_scale, bzp per column (b_cols: n) or one; y_scale, yzp per row
 * (y_rows) or one; yzp and y int8 (y_signed) or uint8.
 */
TR_FN void tr_qlinear_matmul(const void *a, const float *a_scale, const void *azp, const void *b,
                             const float *b_scale, const void *bzp, const float *y_scale,
                             const void *yzp, void *y, int64_t m, int64_t k, int64_t n,
                             int64_t nb, const int64_t *bdims, const int64_t *astr,
                             const int64_t *bstr, int64_t a_signed, int64_t b_signed,
                             int64_t y_signed, int64_t a_rows, int64_t b_cols, int64_t y_rows)
{
	int64_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 1, ao = 0, bo = 0;
	uint32_t acc[TR_QMM_TILE];
	int32_t bz[TR_QMM_TILE];
	const float lo = y_signed ? -128.0f : 0.0f, hi = y_signed ? 127.0f : 255.0f;
	for (int64_t d = 0; d < nb; d++)
		total *= bdims[d];
	for (int64_t t = 0; t < total; t++) {
		const unsigned char *ab = (const unsigned char *)a + ao;
		const unsigned char *bb = (const unsigned char *)b + bo;
		for (int64_t j0 = 0; j0 < n; j0 += TR_QMM_TILE) {
			const int64_t nj = TR_MIN(TR_QMM_TILE, n - j0);
			for (int64_t j = 0; j < nj; j++)
				bz[j] = tr_q_get(bzp, b_signed, b_cols ? j0 + j : 0);
			for (int64_t i = 0; i < m; i++) {
				const int64_t ia = a_rows ? i : 0, iy = y_rows ? i : 0;
				const float as = a_scale[ia], ys = y_scale[iy];
				const float z = (float)tr_q_get(yzp, y_signed, iy);
				const int64_t o = (t * m + i) * n + j0;
				tr_qmm_row(ab + i * k, a_signed, tr_q_get(azp, a_signed, ia), bb, b_signed, bz,
				           k, n, j0, nj, acc);
				for (int64_t j = 0; j < nj; j++) {
					const float mul = as * b_scale[b_cols ? j0 + j : 0] / ys;
					const float q = tr_q_sat(tr_q_round((float)tr_qmm_s32(acc[j]) * mul) + z,
					                         lo, hi);
					if (y_signed)
						((int8_t *)y)[o + j] = (int8_t)q;
					else
						((uint8_t *)y)[o + j] = (uint8_t)q;
				}
			}
		}
		tr_qmm_next(nb, bdims, astr, bstr, idx, &ao, &bo);
	}
}
/*@end*/
#endif
