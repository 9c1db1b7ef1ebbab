/*
 * activation.h -- the elementwise kernels whose scalar parameters are the
 * op's attributes: HardSigmoid, Elu, Selu, Celu, ThresholdedRelu, Shrink,
 * IsInf; and the tanh form of the GELU (the exact one is gelu.h's).
 *
 * Every kernel is x (n) -> y (n) followed by its parameters, each named
 * after the ONNX attribute it receives (runtime/kernels.def), which is how
 * op_activation.c lowers them.  y may be x.  The loops are branch-free
 * selects or one libm call an element.  A NaN input gives what ONNX's
 * reference gives: NaN, but 0 from ThresholdedRelu and Shrink (their
 * comparisons are false) and false from IsInf.
 */
#ifndef TOSTC_RT_ELEMENTWISE_ACTIVATION_H
#define TOSTC_RT_ELEMENTWISE_ACTIVATION_H
#include "../common.h"

/*@ tr_hard_sigmoid_f32 : tr_common */
/* x (n) -> y (n) = max(0, min(1, alpha x + beta)) */
TR_FN void tr_hard_sigmoid_f32(const float *x, float *y, int64_t n, float alpha, float beta)
{
	for (int64_t i = 0; i < n; i++) {
		float v = alpha * x[i] + beta;
		v = v > 1.0f ? 1.0f : v;
		y[i] = v < 0.0f ? 0.0f : v;   /* NaN stays NaN */
	}
}
/*@end*/

/*@ tr_elu_f32 : tr_common */
/* x (n) -> y (n) = x < 0 ? alpha (exp(x) - 1) : x; expm1 keeps small x exact */
TR_FN void tr_elu_f32(const float *x, float *y, int64_t n, float alpha)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? alpha * expm1f(x[i]) : x[i];
}
/*@end*/

/*@ tr_selu_f32 : tr_common */
/* x (n) -> y (n) = gamma (x <= 0 ? alpha (exp(x) - 1) : x) */
TR_FN void tr_selu_f32(const float *x, float *y, int64_t n, float alpha, float gamma)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = gamma * (x[i] <= 0.0f ? alpha * expm1f(x[i]) : x[i]);
}
/*@end*/

/*@ tr_celu_f32 : tr_common */
/* x (n) -> y (n) = max(0, x) + min(0, alpha (exp(x / alpha) - 1)); alpha != 0
 * (the shape function checks it) */
TR_FN void tr_celu_f32(const float *x, float *y, int64_t n, float alpha)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? alpha * expm1f(x[i] / alpha) : x[i];
}
/*@end*/

/*@ tr_thresholded_relu_f32 : tr_common */
/* x (n) -> y (n) = x > alpha ? x : 0 */
TR_FN void tr_thresholded_relu_f32(const float *x, float *y, int64_t n, float alpha)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] > alpha ? x[i] : 0.0f;
}
/*@end*/

/*@ tr_shrink_f32 : tr_common */
/* x (n) -> y (n) = x < -lambd ? x + bias : x > lambd ? x - bias : 0 */
TR_FN void tr_shrink_f32(const float *x, float *y, int64_t n, float bias, float lambd)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		y[i] = v < -lambd ? v + bias : v > lambd ? v - bias : 0.0f;
	}
}
/*@end*/

/*@ tr_isinf_f32 : tr_common */
/* x (n) -> y (n) bool: x is +inf (when detect_positive) or -inf (when
 * detect_negative) */
TR_FN void tr_isinf_f32(const float *x, uint8_t *y, int64_t n, int64_t detect_negative,
                        int64_t detect_positive)
{
	float lo = detect_negative ? -INFINITY : NAN, hi = detect_positive ? INFINITY : NAN;
	for (int64_t i = 0; i < n; i++)
		y[i] = (x[i] == lo) | (x[i] == hi);
}
/*@end*/

/*@ tr_gelu_tanh_f32 : tr_common */
/* x (n) -> y (n) = x (1 + tanh(u)) / 2 with u = sqrt(2 / pi) (x + 0.044715
 * x^3), computed as x / (1 + exp(-2u)): the same function, without the
 * cancellation of 1 + tanh(u) at negative x.  -inf gives NaN, as the
 * formula does (-inf * 0) */
TR_FN void tr_gelu_tanh_f32(const float *x, float *y, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		float u = 0.7978845608f * (v + 0.044715f * v * v * v);
		y[i] = v / (1.0f + expf(-2.0f * u));
	}
}
/*@end*/
#endif
