/*
 * loss.h -- NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: pure
 * functions of their inputs, so they compile like any other op.
 *
 * x is (N, C, D) with the classes in the middle (D: the product of the
 * trailing dimensions, 1 for (N, C)), target (N, D) holds a class per
 * position.  The loss of position (n, d) with class c is -x[n, c, d] * w[c]
 * (w = 1 without weights), and 0 with weight 0 when c is the ignore index.
 * reduction: 0 none (y is (N, D)), 1 sum, 2 mean (the sum over the sum of
 * the weights, as ONNX's reference divides; NaN when every position is
 * ignored).  The sums run in double, in order.  A class outside [0, C) that
 * is not ignored is undefined in ONNX: its loss is NaN here, never a read
 * out of bounds.
 */
#ifndef TOSTC_RT_ELEMENTWISE_LOSS_H
#define TOSTC_RT_ELEMENTWISE_LOSS_H
#include "../common.h"
#include "reduce.h"

/*@ tr_nll_loss : tr_common */
#define TR_NLL_LOSS(NAME, TI)                                                   \
	TR_FN void NAME(const float *x, const TI *target, const float *weight, float *y, \
	                int64_t n, int64_t c, int64_t d, int64_t has_weight,    \
	                int64_t ignore_index, int64_t has_ignore, int64_t reduction) \
	{                                                                       \
		double sum = 0.0, wsum = 0.0;                                   \
		for (int64_t b = 0; b < n; b++, x += c * d)                     \
			for (int64_t i = 0; i < d; i++) {                       \
				int64_t t = (int64_t)target[b * d + i];         \
				float l = 0.0f, w = 0.0f; /* when ignored */    \
				if (!(has_ignore && t == ignore_index)) {       \
					if (t >= 0 && t < c) {                  \
						w = has_weight ? weight[t] : 1.0f; \
						l = -x[t * d + i] * w;          \
					} else {                                \
						l = w = NAN;                    \
					}                                       \
				}                                               \
				if (reduction == 0)                             \
					y[b * d + i] = l;                       \
				sum += l;                                       \
				wsum += w;                                      \
			}                                                       \
		if (reduction == 1)                                             \
			y[0] = (float)sum;                                      \
		else if (reduction == 2)                                        \
			y[0] = (float)(sum / wsum);                             \
	}
/* NAME: NLL of log_prob = LogSoftmax(x) over the classes; log_prob (N, C, D)
 * is an output (or scratch) */
#define TR_SCE_LOSS(NAME, TI, NLL)                                              \
	TR_FN void NAME(const float *x, const TI *target, const float *weight, float *y, \
	                float *log_prob, int64_t n, int64_t c, int64_t d, int64_t has_weight, \
	                int64_t ignore_index, int64_t has_ignore, int64_t reduction) \
	{                                                                       \
		tr_log_softmax_f32(x, log_prob, n, c, d);                       \
		NLL(log_prob, target, weight, y, n, c, d, has_weight, ignore_index, has_ignore, \
		    reduction);                                                 \
	}
/*@end*/
/*@ tr_nll_loss_f32_i64 : tr_nll_loss */
TR_NLL_LOSS(tr_nll_loss_f32_i64, int64_t)
/*@end*/
/*@ tr_nll_loss_f32_i32 : tr_nll_loss */
TR_NLL_LOSS(tr_nll_loss_f32_i32, int32_t)
/*@end*/
/*@ tr_sce_loss_f32_i64 : tr_nll_loss_f32_i64 tr_log_softmax_f32 */
TR_SCE_LOSS(tr_sce_loss_f32_i64, int64_t, tr_nll_loss_f32_i64)
/*@end*/
/*@ tr_sce_loss_f32_i32 : tr_nll_loss_f32_i32 tr_log_softmax_f32 */
TR_SCE_LOSS(tr_sce_loss_f32_i32, int32_t, tr_nll_loss_f32_i32)
/*@end*/
#endif
