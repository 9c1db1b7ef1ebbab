/*
 * unary.h -- elementwise kernels of one operand: Neg, Abs, Sqrt, Exp, Erf,
 * Sigmoid, Softplus, Relu, the trigonometric and hyperbolic functions, Round,
 * Sign, IsNaN and the rest, LeakyRelu, Clip, Mean's division, and Cast
 * between the element types.  The generator (TR_UNARY) and the per-element
 * operations (TR_E_*) follow binary.h; Cast from float to an integer
 * saturates (see TR_E_F2I64).  The activations that take attributes are in
 * activation.h.
 */
#ifndef TOSTC_RT_ELEMENTWISE_UNARY_H
#define TOSTC_RT_ELEMENTWISE_UNARY_H
#include "binary.h"

/*@ tr_unary : tr_binary */
#define TR_E_NEGF(u) (-(u))
#define TR_E_NEG64(u) TR_E_SUB64(0, u)
#define TR_E_NEG32(u) TR_E_SUB32(0, u)
#define TR_E_ABSF(u) fabsf(u)
#define TR_E_ABS64(u) ((u) < 0 ? TR_E_SUB64(0, u) : (u))
#define TR_E_ABS32(u) ((u) < 0 ? TR_E_SUB32(0, u) : (u))
#define TR_E_SQRT(u) sqrtf(u)
#define TR_E_RECIP(u) (1.0f / (u))
#define TR_E_EXP(u) expf(u)
#define TR_E_LOG(u) logf(u)
#define TR_E_ERF(u) erff(u)
#define TR_E_TANH(u) tanhf(u)
#define TR_E_SIGMOID(u) (1.0f / (1.0f + expf(-(u))))
/* log(1 + exp(u)) as max(u, 0) + log1p(exp(-|u|)): no overflow for large u */
#define TR_E_SOFTPLUS(u) (((u) > 0.0f ? (u) : 0.0f) + log1pf(expf(-fabsf(u))))
#define TR_E_RELU(u) ((u) < 0.0f ? 0.0f : (u))
#define TR_E_RELUI(u) ((u) < 0 ? 0 : (u))
#define TR_E_SOFTSIGN(u) ((u) / (1.0f + fabsf(u)))
/* x * tanh(softplus(x)) */
#define TR_E_MISH(u) ((u) * tanhf(TR_E_SOFTPLUS(u)))
/* x * HardSigmoid(x) with ONNX's alpha 1/6, beta 1/2 */
#define TR_E_HARDSWISH(u) ((u) * TR_MAX(0.0f, TR_MIN(1.0f, (u) * (1.0f / 6.0f) + 0.5f)))
#define TR_E_SIN(u) sinf(u)
#define TR_E_COS(u) cosf(u)
#define TR_E_TAN(u) tanf(u)
#define TR_E_ASIN(u) asinf(u)
#define TR_E_ACOS(u) acosf(u)
#define TR_E_ATAN(u) atanf(u)
#define TR_E_SINH(u) sinhf(u)
#define TR_E_COSH(u) coshf(u)
#define TR_E_ASINH(u) asinhf(u)
#define TR_E_ACOSH(u) acoshf(u)
#define TR_E_ATANH(u) atanhf(u)
#define TR_E_FLOOR(u) floorf(u)
#define TR_E_CEIL(u) ceilf(u)
/* to the nearest integer, halves to even: rintf in the default rounding mode
 * (C99 programs start in it and tostc's code never changes it) */
#define TR_E_ROUND(u) rintf(u)
/* -1, 0 or 1; a float keeps its zero's sign and NaN (as numpy.sign) */
#define TR_E_SIGNF(u) ((u) > 0.0f ? 1.0f : (u) < 0.0f ? -1.0f : (u))
#define TR_E_SIGNI(u) (((u) > 0) - ((u) < 0))
#define TR_E_ISNAN(u) ((u) != (u))
#define TR_E_NOT(u) (!(u))
#define TR_E_SAME(u) (u)          /* Cast: C conversion; float -> int truncates */
/* float -> int truncates toward zero; NaN gives 0 and values beyond the
 * integer type saturate (a plain C conversion would be undefined behaviour) */
#define TR_E_F2I64(u) ((u) != (u) ? (int64_t)0 : (u) >= 9223372036854775808.0f ? INT64_MAX \
                       : (u) < -9223372036854775808.0f ? INT64_MIN : (int64_t)(u))
#define TR_E_F2I32(u) ((u) != (u) ? (int32_t)0 : (u) >= 2147483648.0f ? INT32_MAX \
                       : (u) < -2147483648.0f ? INT32_MIN : (int32_t)(u))
#define TR_E_TOBOOL(u) ((u) != 0)
/* x (n) -> y (n) */
#define TR_UNARY(NAME, TX, TY, OP)                                              \
	TR_FN void NAME(const TX *x, TY *y, int64_t n)                          \
	{                                                                       \
		for (int64_t i = 0; i < n; i++)                                 \
			y[i] = OP(x[i]);                                        \
	}
/*@end*/
/*@ tr_neg_f32 : tr_unary */
TR_UNARY(tr_neg_f32, float, float, TR_E_NEGF)
/*@end*/
/*@ tr_neg_i64 : tr_unary */
TR_UNARY(tr_neg_i64, int64_t, int64_t, TR_E_NEG64)
/*@end*/
/*@ tr_neg_i32 : tr_unary */
TR_UNARY(tr_neg_i32, int32_t, int32_t, TR_E_NEG32)
/*@end*/
/*@ tr_abs_f32 : tr_unary */
TR_UNARY(tr_abs_f32, float, float, TR_E_ABSF)
/*@end*/
/*@ tr_abs_i64 : tr_unary */
TR_UNARY(tr_abs_i64, int64_t, int64_t, TR_E_ABS64)
/*@end*/
/*@ tr_abs_i32 : tr_unary */
TR_UNARY(tr_abs_i32, int32_t, int32_t, TR_E_ABS32)
/*@end*/
/*@ tr_sqrt_f32 : tr_unary */
TR_UNARY(tr_sqrt_f32, float, float, TR_E_SQRT)
/*@end*/
/*@ tr_reciprocal_f32 : tr_unary */
TR_UNARY(tr_reciprocal_f32, float, float, TR_E_RECIP)
/*@end*/
/*@ tr_exp_f32 : tr_unary */
TR_UNARY(tr_exp_f32, float, float, TR_E_EXP)
/*@end*/
/*@ tr_log_f32 : tr_unary */
TR_UNARY(tr_log_f32, float, float, TR_E_LOG)
/*@end*/
/*@ tr_erf_f32 : tr_unary */
TR_UNARY(tr_erf_f32, float, float, TR_E_ERF)
/*@end*/
/*@ tr_tanh_f32 : tr_unary */
TR_UNARY(tr_tanh_f32, float, float, TR_E_TANH)
/*@end*/
/*@ tr_sigmoid_f32 : tr_unary */
TR_UNARY(tr_sigmoid_f32, float, float, TR_E_SIGMOID)
/*@end*/
/*@ tr_softplus_f32 : tr_unary */
TR_UNARY(tr_softplus_f32, float, float, TR_E_SOFTPLUS)
/*@end*/
/*@ tr_softsign_f32 : tr_unary */
TR_UNARY(tr_softsign_f32, float, float, TR_E_SOFTSIGN)
/*@end*/
/*@ tr_mish_f32 : tr_unary */
TR_UNARY(tr_mish_f32, float, float, TR_E_MISH)
/*@end*/
/*@ tr_hard_swish_f32 : tr_unary */
TR_UNARY(tr_hard_swish_f32, float, float, TR_E_HARDSWISH)
/*@end*/
/*@ tr_relu_f32 : tr_unary */
TR_UNARY(tr_relu_f32, float, float, TR_E_RELU)
/*@end*/
/*@ tr_relu_i64 : tr_unary */
TR_UNARY(tr_relu_i64, int64_t, int64_t, TR_E_RELUI)
/*@end*/
/*@ tr_relu_i32 : tr_unary */
TR_UNARY(tr_relu_i32, int32_t, int32_t, TR_E_RELUI)
/*@end*/
/*@ tr_sin_f32 : tr_unary */
TR_UNARY(tr_sin_f32, float, float, TR_E_SIN)
/*@end*/
/*@ tr_cos_f32 : tr_unary */
TR_UNARY(tr_cos_f32, float, float, TR_E_COS)
/*@end*/
/*@ tr_tan_f32 : tr_unary */
TR_UNARY(tr_tan_f32, float, float, TR_E_TAN)
/*@end*/
/*@ tr_asin_f32 : tr_unary */
TR_UNARY(tr_asin_f32, float, float, TR_E_ASIN)
/*@end*/
/*@ tr_acos_f32 : tr_unary */
TR_UNARY(tr_acos_f32, float, float, TR_E_ACOS)
/*@end*/
/*@ tr_atan_f32 : tr_unary */
TR_UNARY(tr_atan_f32, float, float, TR_E_ATAN)
/*@end*/
/*@ tr_sinh_f32 : tr_unary */
TR_UNARY(tr_sinh_f32, float, float, TR_E_SINH)
/*@end*/
/*@ tr_cosh_f32 : tr_unary */
TR_UNARY(tr_cosh_f32, float, float, TR_E_COSH)
/*@end*/
/*@ tr_asinh_f32 : tr_unary */
TR_UNARY(tr_asinh_f32, float, float, TR_E_ASINH)
/*@end*/
/*@ tr_acosh_f32 : tr_unary */
TR_UNARY(tr_acosh_f32, float, float, TR_E_ACOSH)
/*@end*/
/*@ tr_atanh_f32 : tr_unary */
TR_UNARY(tr_atanh_f32, float, float, TR_E_ATANH)
/*@end*/
/*@ tr_floor_f32 : tr_unary */
TR_UNARY(tr_floor_f32, float, float, TR_E_FLOOR)
/*@end*/
/*@ tr_ceil_f32 : tr_unary */
TR_UNARY(tr_ceil_f32, float, float, TR_E_CEIL)
/*@end*/
/*@ tr_round_f32 : tr_unary */
TR_UNARY(tr_round_f32, float, float, TR_E_ROUND)
/*@end*/
/*@ tr_sign_f32 : tr_unary */
TR_UNARY(tr_sign_f32, float, float, TR_E_SIGNF)
/*@end*/
/*@ tr_sign_i64 : tr_unary */
TR_UNARY(tr_sign_i64, int64_t, int64_t, TR_E_SIGNI)
/*@end*/
/*@ tr_sign_i32 : tr_unary */
TR_UNARY(tr_sign_i32, int32_t, int32_t, TR_E_SIGNI)
/*@end*/
/*@ tr_isnan_f32 : tr_unary */
TR_UNARY(tr_isnan_f32, float, uint8_t, TR_E_ISNAN)
/*@end*/
/*@ tr_not_b8 : tr_unary */
TR_UNARY(tr_not_b8, uint8_t, uint8_t, TR_E_NOT)
/*@end*/

/*@ tr_leaky_relu_f32 : tr_common */
/* x (n) -> y (n): x < 0 ? alpha * x : x */
TR_FN void tr_leaky_relu_f32(const float *x, float *y, int64_t n, float alpha)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}
/*@end*/

/*@ tr_div_scalar_f32 : tr_common */
/* x (n) -> y (n) = x / d: Mean's sum divided by the input count */
TR_FN void tr_div_scalar_f32(const float *x, float *y, int64_t n, float d)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] / d;
}
/*@end*/

/* Clip: min(max(x, lo), hi), so lo > hi gives hi everywhere, as numpy.clip. */
/*@ tr_clip_f32 : tr_common */
/* x (n) -> y (n) */
TR_FN void tr_clip_f32(const float *x, float *y, int64_t n, float lo, float hi)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i] < lo ? lo : x[i];
		y[i] = v > hi ? hi : v;
	}
}
/*@end*/
/*@ tr_clip_i64 : tr_common */
/* x (n) -> y (n) */
TR_FN void tr_clip_i64(const int64_t *x, int64_t *y, int64_t n, int64_t lo, int64_t hi)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t v = x[i] < lo ? lo : x[i];
		y[i] = v > hi ? hi : v;
	}
}
/*@end*/
/*@ tr_clip_i32 : tr_common */
/* x (n) -> y (n); lo, hi are int32 values passed as int64 */
TR_FN void tr_clip_i32(const int32_t *x, int32_t *y, int64_t n, int64_t lo, int64_t hi)
{
	int32_t l = (int32_t)lo, h = (int32_t)hi;
	for (int64_t i = 0; i < n; i++) {
		int32_t v = x[i] < l ? l : x[i];
		y[i] = v > h ? h : v;
	}
}
/*@end*/

/* Cast x (n) -> y (n) between f32, i64, i32, bool; the same type copies. */
/*@ tr_cast_f32_f32 : tr_unary */
TR_UNARY(tr_cast_f32_f32, float, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_f32_i64 : tr_unary */
TR_UNARY(tr_cast_f32_i64, float, int64_t, TR_E_F2I64)
/*@end*/
/*@ tr_cast_f32_i32 : tr_unary */
TR_UNARY(tr_cast_f32_i32, float, int32_t, TR_E_F2I32)
/*@end*/
/*@ tr_cast_f32_b8 : tr_unary */
TR_UNARY(tr_cast_f32_b8, float, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_i64_f32 : tr_unary */
TR_UNARY(tr_cast_i64_f32, int64_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_i64 : tr_unary */
TR_UNARY(tr_cast_i64_i64, int64_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_i32 : tr_unary */
TR_UNARY(tr_cast_i64_i32, int64_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i64_b8 : tr_unary */
TR_UNARY(tr_cast_i64_b8, int64_t, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_i32_f32 : tr_unary */
TR_UNARY(tr_cast_i32_f32, int32_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_i64 : tr_unary */
TR_UNARY(tr_cast_i32_i64, int32_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_i32 : tr_unary */
TR_UNARY(tr_cast_i32_i32, int32_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_i32_b8 : tr_unary */
TR_UNARY(tr_cast_i32_b8, int32_t, uint8_t, TR_E_TOBOOL)
/*@end*/
/*@ tr_cast_b8_f32 : tr_unary */
TR_UNARY(tr_cast_b8_f32, uint8_t, float, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_i64 : tr_unary */
TR_UNARY(tr_cast_b8_i64, uint8_t, int64_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_i32 : tr_unary */
TR_UNARY(tr_cast_b8_i32, uint8_t, int32_t, TR_E_SAME)
/*@end*/
/*@ tr_cast_b8_b8 : tr_unary */
TR_UNARY(tr_cast_b8_b8, uint8_t, uint8_t, TR_E_SAME)
/*@end*/
#endif
