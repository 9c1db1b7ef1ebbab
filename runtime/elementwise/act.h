/*
 * act.h -- the activations and the residual add that a convolution applies
 * to its output while it is in cache (the GEMM epilogue, gemm/epilogue.h,
 * and the direct kernels of conv/): Relu, Clip, HardSwish, HardSigmoid,
 * Sigmoid, SiLU (x * sigmoid(x)) and the exact GELU, each a TR_ACT_* code.
 *
 * Relu, Clip, HardSwish and HardSigmoid compute what the elementwise
 * kernels compute (unary.h, activation.h), bit for bit, NaN included.
 * Sigmoid and SiLU take exp from sigmoid_<isa>.h: a vector polynomial on
 * AVX-512 and AVX2 (within 2 ulp of expf), libm's expf in portable C.
 */
#ifndef TOSTC_RT_ELEMENTWISE_ACT_H
#define TOSTC_RT_ELEMENTWISE_ACT_H
#include "gelu.h"
#include "sigmoid_avx512.h"
#include "sigmoid_avx2.h"
#include "sigmoid_scalar.h"

/*@ tr_act_row : tr_gelu_row tr_sigmoid_avx512 tr_sigmoid_avx2 tr_sigmoid_scalar */
#define TR_ACT_NONE 0
#define TR_ACT_RELU 1        /* x < 0 ? 0 : x */
#define TR_ACT_CLIP 2        /* min(max(x, a), b): Relu6 is Clip(0, 6) */
#define TR_ACT_HARDSWISH 3   /* x * max(0, min(1, x / 6 + 1 / 2)) */
#define TR_ACT_HARDSIGMOID 4 /* max(0, min(1, a x + b)) */
#define TR_ACT_SIGMOID 5     /* 1 / (1 + exp(-x)) */
#define TR_ACT_SILU 6        /* x * sigmoid(x), as Mul(x, Sigmoid(x)) */
#define TR_ACT_GELU 7        /* the exact GELU (gelu.h) */

/*
 * What follows a convolution, in this order: y = act(y), then y += res
 * (row stride ldr) when res, then y = act2(y).  a, b and a2, b2 are the two
 * activations' parameters (Clip's min and max, HardSigmoid's alpha and beta).
 */
typedef struct {
	int64_t act;
	float a, b;
	const float *res;
	int64_t ldr;
	int64_t act2;
	float a2, b2;
} TrAct;

/* y (n) = act(y), in blocks of 16 that gcc vectorises and a bounded tail */
#define TR_ACT_LOOP(OP)                                                                   \
	do {                                                                              \
		int64_t i_ = 0;                                                           \
		for (; i_ + 16 <= n; i_ += 16)                                            \
			for (int l_ = 0; l_ < 16; l_++)                                   \
				OP(y[i_ + l_]);                                           \
		for (int l_ = 0; l_ < 16 && i_ + l_ < n; l_++)                            \
			OP(y[i_ + l_]);                                                   \
	} while (0)
#define TR_ACT_RELU1(v) ((v) = (v) < 0.0f ? 0.0f : (v))
#define TR_ACT_CLIP1(v)                                                                   \
	do {                                                                              \
		float u_ = (v) < a ? a : (v);                                             \
		(v) = u_ > b ? b : u_;                                                    \
	} while (0)
#define TR_ACT_HSWISH1(v) ((v) = (v) * TR_MAX(0.0f, TR_MIN(1.0f, (v) * (1.0f / 6.0f) + 0.5f)))
#define TR_ACT_HSIGM1(v)                                                                  \
	do {                                                                              \
		float u_ = a * (v) + b;                                                   \
		u_ = u_ > 1.0f ? 1.0f : u_;                                               \
		(v) = u_ < 0.0f ? 0.0f : u_;                                              \
	} while (0)
TR_FN void tr_act_row(float *restrict y, int64_t n, int64_t act, float a, float b)
{
	switch (act) {
	case TR_ACT_RELU: TR_ACT_LOOP(TR_ACT_RELU1); break;
	case TR_ACT_CLIP: TR_ACT_LOOP(TR_ACT_CLIP1); break;
	case TR_ACT_HARDSWISH: TR_ACT_LOOP(TR_ACT_HSWISH1); break;
	case TR_ACT_HARDSIGMOID: TR_ACT_LOOP(TR_ACT_HSIGM1); break;
	case TR_ACT_SIGMOID: tr_sigmoid_span(y, y, n, 0); break;
	case TR_ACT_SILU: tr_sigmoid_span(y, y, n, 1); break;
	case TR_ACT_GELU: tr_gelu_row(y, n); break;
	default: break;
	}
}
/* row i of a tile, columns [j, j + n): the whole of t on y (n) */
TR_FN void tr_act_apply(const TrAct *t, float *restrict y, int64_t i, int64_t j, int64_t n)
{
	tr_act_row(y, n, t->act, t->a, t->b);
	if (t->res) {
		const float *restrict r = t->res + i * t->ldr + j;
		int64_t c = 0;
		for (; c + 16 <= n; c += 16)
			for (int l = 0; l < 16; l++)
				y[c + l] = y[c + l] + r[c + l];
		for (int l = 0; l < 16 && c + l < n; l++)
			y[c + l] = y[c + l] + r[c + l];
	}
	tr_act_row(y, n, t->act2, t->a2, t->b2);
}
/*@end*/
#endif
