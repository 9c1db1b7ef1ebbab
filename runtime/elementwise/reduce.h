/*
 * reduce.h -- reductions over axes (ReduceSum, ReduceMean, ReduceMax,
 * ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum,
 * ReduceLogSumExp), Softmax, LogSoftmax and CumSum.  Contiguous reductions
 * keep 8 partial results so that gcc vectorises them without reassociation
 * flags; the order is fixed, so a result is the same run to run.  Integer
 * reductions wrap like binary.h's arithmetic; float Min/Max propagate NaN.
 */
#ifndef TOSTC_RT_ELEMENTWISE_REDUCE_H
#define TOSTC_RT_ELEMENTWISE_REDUCE_H
#include "binary.h"

/*@ tr_reduce : tr_binary */
/*
 * Reductions: INIT is the identity, ACC(acc, x) folds one element in,
 * COMB(acc, partial) merges two partial results, FIN(acc, count) finishes
 * (mean divides, L2 takes the root).
 */
#define TR_R_SUMF(acc, x) ((acc) + (x))
#define TR_R_SQF(acc, x) ((acc) + (x) * (x))
#define TR_R_ABSF(acc, x) ((acc) + fabsf(x))
#define TR_R_MAXF(acc, x) TR_E_MAXF(x, acc)
#define TR_R_MINF(acc, x) TR_E_MINF(x, acc)
#define TR_R_SQ64(acc, x) TR_E_ADD64(acc, TR_E_MUL64(x, x))
#define TR_R_SQ32(acc, x) TR_E_ADD32(acc, TR_E_MUL32(x, x))
#define TR_R_ABS64(acc, x) TR_E_ADD64(acc, (x) < 0 ? TR_E_SUB64(0, x) : (x))
#define TR_R_ABS32(acc, x) TR_E_ADD32(acc, (x) < 0 ? TR_E_SUB32(0, x) : (x))
#define TR_R_SAME(acc, cnt) (acc)
#define TR_R_MEAN(acc, cnt) ((acc) / (float)(cnt))
#define TR_R_ROOT(acc, cnt) sqrtf(acc)
#define TR_R_LOG(acc, cnt) logf(acc)
/* x (outer, r, inner) -> y (outer, inner), reducing the middle axis.  A
 * contiguous reduction (inner == 1) keeps 8 partial accumulators, combined
 * with COMB at the end, so the loop vectorises without reassociation flags. */
#define TR_REDUCE(NAME, T, INIT, ACC, COMB, FIN)                                \
	TR_FN void NAME(const T *x, T *y, int64_t outer, int64_t r, int64_t inner) \
	{                                                                       \
		for (int64_t o = 0; o < outer; o++, x += r * inner, y += inner) { \
			if (inner == 1) {                                       \
				T p[8], acc = INIT;                             \
				int64_t k, r8 = r - r % 8;                      \
				for (int j = 0; j < 8; j++)                     \
					p[j] = INIT;                            \
				for (k = 0; k < r8; k += 8)                     \
					for (int j = 0; j < 8; j++)             \
						p[j] = ACC(p[j], x[k + j]);     \
				for (k = r8; k < r; k++)                        \
					acc = ACC(acc, x[k]);                   \
				for (int j = 0; j < 8; j++)                     \
					acc = COMB(acc, p[j]);                  \
				y[0] = FIN(acc, r);                             \
				continue;                                       \
			}                                                       \
			for (int64_t i = 0; i < inner; i++)                     \
				y[i] = INIT;                                    \
			for (int64_t k = 0; k < r; k++)                         \
				for (int64_t i = 0; i < inner; i++)             \
					y[i] = ACC(y[i], x[k * inner + i]);     \
			for (int64_t i = 0; i < inner; i++)                     \
				y[i] = FIN(y[i], r);                            \
		}                                                               \
	}
/* The general form walks x (dims[0..rank)) in order, a row of the last axis
 * at a time; ys[d] is y's stride for axis d, 0 for a reduced axis.  Returns
 * y's element count, and the element count of x in *total. */
TR_ALWAYS_INLINE int64_t tr_reduce_sizes(int64_t rank, const int64_t *dims, const int64_t *ys,
                                         int64_t *total)
{
	int64_t ny = 1;
	*total = 1;
	for (int64_t d = 0; d < rank; d++) {
		*total *= dims[d];
		if (ys[d])
			ny *= dims[d];
	}
	return ny;
}
/* The next row: advance the index idx over the outer axes, *iy y's offset */
TR_ALWAYS_INLINE void tr_reduce_next(int64_t rank, const int64_t *dims, const int64_t *ys,
                                     int64_t *idx, int64_t *iy)
{
	for (int64_t d = rank - 2; d >= 0; d--) {
		*iy += ys[d];
		if (++idx[d] < dims[d])
			return;
		*iy -= ys[d] * dims[d];
		idx[d] = 0;
	}
}
/* x (dims[0..rank)) -> y: ys[d] is y's stride for axis d, 0 for a reduced axis */
#define TR_REDUCE_G(NAME, T, INIT, ACC, FIN)                                    \
	TR_FN void NAME(const T *x, T *y, int64_t rank, const int64_t *dims,      \
	                const int64_t *ys)                                      \
	{                                                                       \
		int64_t total, idx[8] = {0}, iy = 0;                            \
		int64_t ny = tr_reduce_sizes(rank, dims, ys, &total);           \
		for (int64_t i = 0; i < ny; i++)                                \
			y[i] = INIT;                                            \
		int64_t n = dims[rank - 1], outer = n ? total / n : 0;          \
		for (int64_t o = 0; o < outer; o++, x += n) {                   \
			T *yp = y + iy;                                         \
			if (ys[rank - 1]) {                                     \
				for (int64_t i = 0; i < n; i++)                 \
					yp[i] = ACC(yp[i], x[i]);               \
			} else {                                                \
				T acc = yp[0];                                  \
				for (int64_t i = 0; i < n; i++)                 \
					acc = ACC(acc, x[i]);                   \
				yp[0] = acc;                                    \
			}                                                       \
			tr_reduce_next(rank, dims, ys, idx, &iy);               \
		}                                                               \
		for (int64_t i = 0; i < ny; i++)                                \
			y[i] = FIN(y[i], total / ny);                           \
	}
/*@end*/
/*@ tr_reduce_sum_f32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_f32, float, 0.0f, TR_R_SUMF, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_f32_g, float, 0.0f, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i64 : tr_reduce */
TR_REDUCE(tr_reduce_sum_i64, int64_t, 0, TR_E_ADD64, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_i64_g, int64_t, 0, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_i32, int32_t, 0, TR_E_ADD32, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_i32_g, int32_t, 0, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_mean_f32 : tr_reduce */
TR_REDUCE(tr_reduce_mean_f32, float, 0.0f, TR_R_SUMF, TR_R_SUMF, TR_R_MEAN)
/*@end*/
/*@ tr_reduce_mean_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_mean_f32_g, float, 0.0f, TR_R_SUMF, TR_R_MEAN)
/*@end*/
/*@ tr_reduce_max_f32 : tr_reduce */
TR_REDUCE(tr_reduce_max_f32, float, -INFINITY, TR_R_MAXF, TR_R_MAXF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_f32_g, float, -INFINITY, TR_R_MAXF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i64 : tr_reduce */
TR_REDUCE(tr_reduce_max_i64, int64_t, INT64_MIN, TR_E_MAXI, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_i64_g, int64_t, INT64_MIN, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i32 : tr_reduce */
TR_REDUCE(tr_reduce_max_i32, int32_t, INT32_MIN, TR_E_MAXI, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_i32_g, int32_t, INT32_MIN, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l2_f32 : tr_reduce */
TR_REDUCE(tr_reduce_l2_f32, float, 0.0f, TR_R_SQF, TR_R_SUMF, TR_R_ROOT)
/*@end*/
/*@ tr_reduce_l2_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_l2_f32_g, float, 0.0f, TR_R_SQF, TR_R_ROOT)
/*@end*/
/*@ tr_reduce_max_b8 : tr_reduce */
TR_REDUCE(tr_reduce_max_b8, uint8_t, 0, TR_E_MAXI, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_max_b8_g : tr_reduce */
TR_REDUCE_G(tr_reduce_max_b8_g, uint8_t, 0, TR_E_MAXI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_f32 : tr_reduce */
TR_REDUCE(tr_reduce_min_f32, float, INFINITY, TR_R_MINF, TR_R_MINF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_min_f32_g, float, INFINITY, TR_R_MINF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_i64 : tr_reduce */
TR_REDUCE(tr_reduce_min_i64, int64_t, INT64_MAX, TR_E_MINI, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_min_i64_g, int64_t, INT64_MAX, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_i32 : tr_reduce */
TR_REDUCE(tr_reduce_min_i32, int32_t, INT32_MAX, TR_E_MINI, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_min_i32_g, int32_t, INT32_MAX, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_b8 : tr_reduce */
TR_REDUCE(tr_reduce_min_b8, uint8_t, 1, TR_E_MINI, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_min_b8_g : tr_reduce */
TR_REDUCE_G(tr_reduce_min_b8_g, uint8_t, 1, TR_E_MINI, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_f32 : tr_reduce */
TR_REDUCE(tr_reduce_prod_f32, float, 1.0f, TR_E_MULF, TR_E_MULF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_prod_f32_g, float, 1.0f, TR_E_MULF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_i64 : tr_reduce */
TR_REDUCE(tr_reduce_prod_i64, int64_t, 1, TR_E_MUL64, TR_E_MUL64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_prod_i64_g, int64_t, 1, TR_E_MUL64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_i32 : tr_reduce */
TR_REDUCE(tr_reduce_prod_i32, int32_t, 1, TR_E_MUL32, TR_E_MUL32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_prod_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_prod_i32_g, int32_t, 1, TR_E_MUL32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_f32 : tr_reduce */
TR_REDUCE(tr_reduce_l1_f32, float, 0.0f, TR_R_ABSF, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_l1_f32_g, float, 0.0f, TR_R_ABSF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_i64 : tr_reduce */
TR_REDUCE(tr_reduce_l1_i64, int64_t, 0, TR_R_ABS64, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_l1_i64_g, int64_t, 0, TR_R_ABS64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_i32 : tr_reduce */
TR_REDUCE(tr_reduce_l1_i32, int32_t, 0, TR_R_ABS32, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_l1_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_l1_i32_g, int32_t, 0, TR_R_ABS32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_f32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_square_f32, float, 0.0f, TR_R_SQF, TR_R_SUMF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_square_f32_g, float, 0.0f, TR_R_SQF, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_i64 : tr_reduce */
TR_REDUCE(tr_reduce_sum_square_i64, int64_t, 0, TR_R_SQ64, TR_E_ADD64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_i64_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_square_i64_g, int64_t, 0, TR_R_SQ64, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_i32 : tr_reduce */
TR_REDUCE(tr_reduce_sum_square_i32, int32_t, 0, TR_R_SQ32, TR_E_ADD32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_sum_square_i32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_sum_square_i32_g, int32_t, 0, TR_R_SQ32, TR_R_SAME)
/*@end*/
/*@ tr_reduce_log_sum_f32 : tr_reduce */
TR_REDUCE(tr_reduce_log_sum_f32, float, 0.0f, TR_R_SUMF, TR_R_SUMF, TR_R_LOG)
/*@end*/
/*@ tr_reduce_log_sum_f32_g : tr_reduce */
TR_REDUCE_G(tr_reduce_log_sum_f32_g, float, 0.0f, TR_R_SUMF, TR_R_LOG)
/*@end*/

/*@ tr_reduce_lse : tr_common */
/* log(sum(exp(x))) as m + log(sum(exp(x - m))), m the maximum, so that
 * large x do not overflow; an infinite (or NaN) m is the result itself. */
#define TR_LSE_FIN(m, s) (isinf(m) ? (m) : (m) + logf(s))
#define TR_LSE_BLOCK 64
/*@end*/
/*@ tr_reduce_log_sum_exp_f32 : tr_reduce_lse tr_reduce_max_f32 */
/* x (outer, r, inner) -> y (outer, inner): the maxima go to y first, then
 * the sums of exp(x - m); columns (inner > 1) in blocks of TR_LSE_BLOCK whose
 * sums are on the stack. */
TR_FN void tr_reduce_log_sum_exp_f32(const float *x, float *y, int64_t outer, int64_t r,
                                     int64_t inner)
{
	tr_reduce_max_f32(x, y, outer, r, inner);
	for (int64_t o = 0; o < outer; o++, x += r * inner, y += inner) {
		if (inner == 1) {
			float m = y[0], p[8] = {0}, s = 0.0f;
			int64_t k, r8 = r - r % 8;
			for (k = 0; k < r8; k += 8)
				for (int j = 0; j < 8; j++)
					p[j] += expf(x[k + j] - m);
			for (k = r8; k < r; k++)
				s += expf(x[k] - m);
			for (int j = 0; j < 8; j++)
				s += p[j];
			y[0] = TR_LSE_FIN(m, s);
			continue;
		}
		for (int64_t i0 = 0; i0 < inner; i0 += TR_LSE_BLOCK) {
			int64_t nb = TR_MIN(TR_LSE_BLOCK, inner - i0);
			float s[TR_LSE_BLOCK], *m = y + i0;
			for (int64_t j = 0; j < nb; j++)
				s[j] = 0.0f;
			for (int64_t k = 0; k < r; k++) {
				const float *xk = x + k * inner + i0;
				for (int64_t j = 0; j < nb; j++)
					s[j] += expf(xk[j] - m[j]);
			}
			for (int64_t j = 0; j < nb; j++)
				m[j] = TR_LSE_FIN(m[j], s[j]);
		}
	}
}
/*@end*/
/*@ tr_reduce_log_sum_exp_f32_g : tr_reduce_lse tr_reduce_max_f32_g */
/* x (dims[0..rank)) -> y as tr_reduce_max_f32_g, s (y's size): the sums */
TR_FN void tr_reduce_log_sum_exp_f32_g(const float *x, float *y, float *s, int64_t rank,
                                       const int64_t *dims, const int64_t *ys)
{
	int64_t total, idx[8] = {0}, iy = 0;
	int64_t ny = tr_reduce_sizes(rank, dims, ys, &total);
	tr_reduce_max_f32_g(x, y, rank, dims, ys);
	for (int64_t i = 0; i < ny; i++)
		s[i] = 0.0f;
	int64_t n = dims[rank - 1], outer = n ? total / n : 0;
	for (int64_t o = 0; o < outer; o++, x += n) {
		const float *m = y + iy;
		float *sp = s + iy;
		if (ys[rank - 1]) {
			for (int64_t i = 0; i < n; i++)
				sp[i] += expf(x[i] - m[i]);
		} else {
			float acc = sp[0];
			for (int64_t i = 0; i < n; i++)
				acc += expf(x[i] - m[0]);
			sp[0] = acc;
		}
		tr_reduce_next(rank, dims, ys, idx, &iy);
	}
	for (int64_t i = 0; i < ny; i++)
		y[i] = TR_LSE_FIN(y[i], s[i]);
}
/*@end*/

/*@ tr_softmax_f32 : tr_common */
/* x (outer, n, inner) -> y: exp(x - max) / sum over the n axis */
TR_FN void tr_softmax_f32(const float *x, float *y, int64_t outer, int64_t n, int64_t inner)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const float *xp = x + o * n * inner + i;
			float *yp = y + o * n * inner + i;
			float m = -INFINITY, s = 0.0f;
			for (int64_t k = 0; k < n; k++)
				m = TR_MAX(m, xp[k * inner]);
			for (int64_t k = 0; k < n; k++) {
				float e = expf(xp[k * inner] - m);
				yp[k * inner] = e;
				s += e;
			}
			float inv = 1.0f / s;
			for (int64_t k = 0; k < n; k++)
				yp[k * inner] *= inv;
		}
}
/*@end*/
/*@ tr_log_softmax_f32 : tr_common */
/* x (outer, n, inner) -> y: x - max - log(sum(exp(x - max))) over the n axis */
TR_FN void tr_log_softmax_f32(const float *x, float *y, int64_t outer, int64_t n, int64_t inner)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const float *xp = x + o * n * inner + i;
			float *yp = y + o * n * inner + i;
			float m = -INFINITY, s = 0.0f;
			for (int64_t k = 0; k < n; k++)
				m = TR_MAX(m, xp[k * inner]);
			for (int64_t k = 0; k < n; k++)
				s += expf(xp[k * inner] - m);
			float l = logf(s);  /* (x - m) - l: exact for large x, unlike x - (m + l) */
			for (int64_t k = 0; k < n; k++)
				yp[k * inner] = (xp[k * inner] - m) - l;
		}
}
/*@end*/

/*@ tr_cumsum : tr_binary */
/* x (outer, n, inner) -> y: running sums along n; exclusive leaves out the
 * current element, reverse runs from the end */
#define TR_CUMSUM(NAME, T, ADD)                                                 \
	TR_FN void NAME(const T *x, T *y, int64_t outer, int64_t n, int64_t inner, \
	                int64_t exclusive, int64_t reverse)                     \
	{                                                                       \
		for (int64_t o = 0; o < outer; o++)                             \
			for (int64_t i = 0; i < inner; i++) {                   \
				const T *xp = x + o * n * inner + i;            \
				T *yp = y + o * n * inner + i;                  \
				T acc = 0;                                      \
				for (int64_t j = 0; j < n; j++) {               \
					int64_t k = (reverse ? n - 1 - j : j) * inner; \
					T v = xp[k];                            \
					if (exclusive) {                        \
						yp[k] = acc;                    \
						acc = ADD(acc, v);              \
					} else {                                \
						acc = ADD(acc, v);              \
						yp[k] = acc;                    \
					}                                       \
				}                                               \
			}                                                       \
	}
/*@end*/
/*@ tr_cumsum_f32 : tr_cumsum */
TR_CUMSUM(tr_cumsum_f32, float, TR_E_ADDF)
/*@end*/
/*@ tr_cumsum_i64 : tr_cumsum */
TR_CUMSUM(tr_cumsum_i64, int64_t, TR_E_ADD64)
/*@end*/
/*@ tr_cumsum_i32 : tr_cumsum */
TR_CUMSUM(tr_cumsum_i32, int32_t, TR_E_ADD32)
/*@end*/
#endif
