/*
 * select.h -- kernels that pick elements by their order along one axis:
 * ArgMax, ArgMin, Hardmax and TopK, on x viewed as (outer, n, inner) with the
 * axis in the middle.
 *
 * Order, as ONNX's numpy reference has it: ties go to the lower index
 * (ArgMax/ArgMin with select_last_index: to the higher).  ArgMax, ArgMin and
 * Hardmax pick the first NaN, as numpy's argmax and argmin do; TopK counts
 * NaN as larger than any number (first when largest, last when smallest),
 * as numpy's sort and torch.topk do.
 *
 * ArgMax and Hardmax scan blocks of TR_ARG_BLOCK adjacent columns at once
 * (contiguous loads, the running best on the stack), so an axis that is not
 * the last one still reads x in order.  TopK keeps a heap of the k best
 * indices in the indices output itself, so it needs no scratch: O(n log k)
 * per column, then a heap sort for the order.
 */
#ifndef TOSTC_RT_ELEMENTWISE_SELECT_H
#define TOSTC_RT_ELEMENTWISE_SELECT_H
#include "../common.h"

/*@ tr_arg : tr_common */
#define TR_ARG_BLOCK 64
/* does v replace the running best b: the first or the last extreme */
#define TR_ARG_GT_FIRST(v, b) ((v) > (b))
#define TR_ARG_GT_LAST(v, b) ((v) >= (b))
#define TR_ARG_LT_FIRST(v, b) ((v) < (b))
#define TR_ARG_LT_LAST(v, b) ((v) <= (b))
/* floats: a NaN replaces any number (the first NaN wins, or the last) */
#define TR_ARG_GTF_FIRST(v, b) ((v) > (b) || ((v) != (v) && (b) == (b)))
#define TR_ARG_GTF_LAST(v, b) ((v) >= (b) || (v) != (v))
#define TR_ARG_LTF_FIRST(v, b) ((v) < (b) || ((v) != (v) && (b) == (b)))
#define TR_ARG_LTF_LAST(v, b) ((v) <= (b) || (v) != (v))
/* one pass over k = 1..r-1 of nb columns, replacing where BETTER(v, best) */
#define TR_ARG_SCAN(T, BETTER)                                                  \
	for (int64_t k = 1; k < r; k++) {                                       \
		const T *xk = x + k * inner;                                    \
		for (int64_t j = 0; j < nb; j++) {                              \
			T v = xk[j];                                            \
			int u = BETTER(v, best[j]);                             \
			best[j] = u ? v : best[j];                              \
			bi[j] = u ? k : bi[j];                                  \
		}                                                               \
	}
/* NAME: x (r, stride inner), nb adjacent columns -> bi (nb): the index of
 * each column's extreme */
#define TR_ARG_COLS(NAME, T, FIRST, LAST)                                       \
	TR_FN void NAME(const T *x, int64_t *bi, int64_t r, int64_t inner, int64_t nb, \
	                int64_t last)                                           \
	{                                                                       \
		T best[TR_ARG_BLOCK];                                           \
		for (int64_t j = 0; j < nb; j++) {                              \
			best[j] = x[j];                                         \
			bi[j] = 0;                                              \
		}                                                               \
		if (last) {                                                     \
			TR_ARG_SCAN(T, LAST)                                    \
		} else {                                                        \
			TR_ARG_SCAN(T, FIRST)                                   \
		}                                                               \
	}
/* NAME: x (outer, r, inner) -> y (outer, inner), by COLS */
#define TR_ARG(NAME, T, COLS)                                                   \
	TR_FN void NAME(const T *x, int64_t *y, int64_t outer, int64_t r, int64_t inner, \
	                int64_t last)                                           \
	{                                                                       \
		for (int64_t o = 0; o < outer; o++, x += r * inner, y += inner) \
			for (int64_t i0 = 0; i0 < inner; i0 += TR_ARG_BLOCK)    \
				COLS(x + i0, y + i0, r, inner, TR_MIN(TR_ARG_BLOCK, inner - i0), \
				     last);                                     \
	}
/*@end*/
/*@ tr_argmax_f32_cols : tr_arg */
TR_ARG_COLS(tr_argmax_f32_cols, float, TR_ARG_GTF_FIRST, TR_ARG_GTF_LAST)
/*@end*/
/*@ tr_argmax_f32 : tr_argmax_f32_cols */
TR_ARG(tr_argmax_f32, float, tr_argmax_f32_cols)
/*@end*/
/*@ tr_argmax_i64_cols : tr_arg */
TR_ARG_COLS(tr_argmax_i64_cols, int64_t, TR_ARG_GT_FIRST, TR_ARG_GT_LAST)
/*@end*/
/*@ tr_argmax_i64 : tr_argmax_i64_cols */
TR_ARG(tr_argmax_i64, int64_t, tr_argmax_i64_cols)
/*@end*/
/*@ tr_argmax_i32_cols : tr_arg */
TR_ARG_COLS(tr_argmax_i32_cols, int32_t, TR_ARG_GT_FIRST, TR_ARG_GT_LAST)
/*@end*/
/*@ tr_argmax_i32 : tr_argmax_i32_cols */
TR_ARG(tr_argmax_i32, int32_t, tr_argmax_i32_cols)
/*@end*/
/*@ tr_argmin_f32_cols : tr_arg */
TR_ARG_COLS(tr_argmin_f32_cols, float, TR_ARG_LTF_FIRST, TR_ARG_LTF_LAST)
/*@end*/
/*@ tr_argmin_f32 : tr_argmin_f32_cols */
TR_ARG(tr_argmin_f32, float, tr_argmin_f32_cols)
/*@end*/
/*@ tr_argmin_i64_cols : tr_arg */
TR_ARG_COLS(tr_argmin_i64_cols, int64_t, TR_ARG_LT_FIRST, TR_ARG_LT_LAST)
/*@end*/
/*@ tr_argmin_i64 : tr_argmin_i64_cols */
TR_ARG(tr_argmin_i64, int64_t, tr_argmin_i64_cols)
/*@end*/
/*@ tr_argmin_i32_cols : tr_arg */
TR_ARG_COLS(tr_argmin_i32_cols, int32_t, TR_ARG_LT_FIRST, TR_ARG_LT_LAST)
/*@end*/
/*@ tr_argmin_i32 : tr_argmin_i32_cols */
TR_ARG(tr_argmin_i32, int32_t, tr_argmin_i32_cols)
/*@end*/

/*@ tr_hardmax_f32 : tr_argmax_f32_cols */
/* x (outer, n, inner) -> y: 1 at the first maximum along n, 0 elsewhere */
TR_FN void tr_hardmax_f32(const float *x, float *y, int64_t outer, int64_t n, int64_t inner)
{
	int64_t bi[TR_ARG_BLOCK];
	for (int64_t o = 0; o < outer; o++, x += n * inner, y += n * inner)
		for (int64_t i0 = 0; i0 < inner; i0 += TR_ARG_BLOCK) {
			int64_t nb = TR_MIN(TR_ARG_BLOCK, inner - i0);
			tr_argmax_f32_cols(x + i0, bi, n, inner, nb, 0);
			for (int64_t k = 0; k < n; k++) {
				float *yk = y + k * inner + i0;
				for (int64_t j = 0; j < nb; j++)
					yk[j] = bi[j] == k ? 1.0f : 0.0f;
			}
		}
}
/*@end*/

/*@ tr_topk : tr_common */
/*
 * NAME: x (outer, n, inner) -> values, indices (outer, k, inner): the k
 * largest (largest = 1) or smallest elements along n, best first.
 * NAME_before(u, w, a, b): does element a (value u) come before element b
 * in the output.  The heap h (stride s: a column of the indices output)
 * holds the k best so far with the worst at the root.
 */
#define TR_TOPK(NAME, T, ISNAN)                                                 \
	TR_ALWAYS_INLINE int NAME##_before(T u, T w, int64_t a, int64_t b, int64_t largest) \
	{                                                                       \
		if (u == w)                                                     \
			return a < b;                                           \
		if (u > w)                                                      \
			return largest != 0;                                    \
		if (u < w)                                                      \
			return largest == 0;                                    \
		if (ISNAN(u) && ISNAN(w)) /* unordered: a NaN is largest */     \
			return a < b;                                           \
		return largest ? ISNAN(u) : ISNAN(w);                           \
	}                                                                       \
	TR_ALWAYS_INLINE void NAME##_sift(const T *x, int64_t *h, int64_t s, int64_t size, \
	                                  int64_t p, int64_t largest)           \
	{                                                                       \
		for (;;) {                                                      \
			int64_t c = 2 * p + 1;                                  \
			if (c >= size)                                          \
				return;                                         \
			int64_t hc = h[c * s], hp = h[p * s];                   \
			if (c + 1 < size) {                                     \
				int64_t hr = h[(c + 1) * s];                    \
				if (NAME##_before(x[hc * s], x[hr * s], hc, hr, largest)) { \
					c++;                                    \
					hc = hr;                                \
				}                                               \
			}                                                       \
			if (!NAME##_before(x[hp * s], x[hc * s], hp, hc, largest)) \
				return;                                         \
			h[p * s] = hc;                                          \
			h[c * s] = hp;                                          \
			p = c;                                                  \
		}                                                               \
	}                                                                       \
	TR_FN void NAME(const T *x, T *values, int64_t *indices, int64_t outer, int64_t n, \
	                int64_t inner, int64_t k, int64_t largest)              \
	{                                                                       \
		int64_t s = inner;                                              \
		for (int64_t o = 0; o < outer; o++)                             \
			for (int64_t i = 0; i < inner; i++) {                   \
				const T *xc = x + o * n * inner + i;            \
				int64_t *h = indices + o * k * inner + i;       \
				T *v = values + o * k * inner + i;              \
				for (int64_t j = 0; j < k; j++)                 \
					h[j * s] = j;                           \
				for (int64_t p = k / 2 - 1; p >= 0; p--)        \
					NAME##_sift(xc, h, s, k, p, largest);   \
				for (int64_t j = k; j < n; j++)                 \
					if (NAME##_before(xc[j * s], xc[h[0] * s], j, h[0], \
					                  largest)) {           \
						h[0] = j;                       \
						NAME##_sift(xc, h, s, k, 0, largest); \
					}                                       \
				for (int64_t e = k - 1; e > 0; e--) {           \
					int64_t t = h[0];                       \
					h[0] = h[e * s];                        \
					h[e * s] = t;                           \
					NAME##_sift(xc, h, s, e, 0, largest);   \
				}                                               \
				for (int64_t j = 0; j < k; j++)                 \
					v[j * s] = xc[h[j * s] * s];            \
			}                                                       \
	}
#define TR_TOPK_NAN(v) isnan(v)
#define TR_TOPK_NONAN(v) 0
/*@end*/
/*@ tr_topk_f32 : tr_topk */
TR_TOPK(tr_topk_f32, float, TR_TOPK_NAN)
/*@end*/
/*@ tr_topk_i64 : tr_topk */
TR_TOPK(tr_topk_i64, int64_t, TR_TOPK_NONAN)
/*@end*/
/*@ tr_topk_i32 : tr_topk */
TR_TOPK(tr_topk_i32, int32_t, TR_TOPK_NONAN)
/*@end*/
#endif
