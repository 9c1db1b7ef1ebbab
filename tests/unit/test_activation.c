/*
 * test_activation.c -- the activation and math kernels of
 * runtime/elementwise/ (activation.h, and the newer ops of unary.h and
 * binary.h) on the inputs ONNX's cases miss: NaN, infinities, -0.0, halves,
 * integer extremes and zero or -1 divisors, shift counts of the type's width
 * or more, very negative x where exp(x) or 1 + erf(x) underflow or cancel.
 * References are the ONNX formulas evaluated in double.  The ops' shape and
 * lower functions are tested with the elementwise family (test_elementwise.c).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>

#include "tostc.h"
#include "unit.h"
#include "elementwise/activation.h"
#include "elementwise/binary.h"
#include "elementwise/gelu.h"
#include "elementwise/unary.h"

/* Softplus: log(1 + exp(x)) without overflow or underflow at large |x| */
static void test_softplus(void)
{
	float x[6] = {-100, -1, 0, 1, 30, 100}, y[6];
	tr_softplus_f32(x, y, 6);
	CHECK_F(y[0], exp(-100.0), 1e-45);
	CU_ASSERT(y[0] > 0);
	CHECK_F(y[1], log1p(exp(-1.0)), 1e-7);
	CHECK_F(y[2], log(2.0), 1e-7);
	CHECK_F(y[3], 1 + log1p(exp(-1.0)), 2e-7);
	CHECK_F(y[4], 30, 0);   /* log(1 + e^30) rounds to 30 in float */
	CHECK_F(y[5], 100, 0);  /* exp(100) overflows float; the result does not */
	float nan = NAN;
	tr_softplus_f32(&nan, y, 1);
	CU_ASSERT(isnan(y[0]));
}

/* y (n) against want (n) within rtol relative plus atol; a NaN in want
 * expects NaN */
static void check_tol(const char *what, const float *y, const double *want, int n, double rtol,
                      double atol)
{
	for (int i = 0; i < n; i++) {
		bool ok = isnan(want[i]) ? isnan(y[i])
		        : y[i] == want[i] || fabs(y[i] - want[i]) <= rtol * fabs(want[i]) + atol;
		if (!ok)
			fprintf(stderr, "\n  %s[%d] = %.9g, want %.9g\n", what, i, y[i], want[i]);
		CU_ASSERT(ok);
	}
}

static void check_row(const char *what, const float *y, const double *want, int n, double rtol)
{
	check_tol(what, y, want, n, rtol, 1e-30);
}

#define NX 10
static const float ax[NX] = {-INFINITY, -30, -3, -0.5f, -1e-4f, -0.0f, 0.5f, 3, INFINITY, NAN};

/* the activations against their formulas in double, specials included */
static void test_activations(void)
{
	float y[NX];
	double w[NX];
	const double al = 1.6732632423543772, ga = 1.0507009873554805;
#define FORMULA(e) for (int i = 0; i < NX; i++) { double v = ax[i]; w[i] = (e); }
	tr_hard_sigmoid_f32(ax, y, NX, 0.2f, 0.5f);
	FORMULA(isnan(v) ? v : fmin(1, fmax(0, 0.2f * v + 0.5)));
	check_row("hard_sigmoid", y, w, NX, 1e-7);
	tr_hard_swish_f32(ax, y, NX);   /* -inf * 0 is NaN, as in ONNX's formula */
	FORMULA(isinf(v) && v < 0 ? NAN : isnan(v) ? v : v * fmin(1, fmax(0, v / 6 + 0.5)));
	check_row("hard_swish", y, w, NX, 1e-7);
	tr_elu_f32(ax, y, NX, 0.7f);    /* expm1: exact near 0 */
	FORMULA(v < 0 ? 0.7f * expm1(v) : v);
	check_row("elu", y, w, NX, 2e-7);
	tr_selu_f32(ax, y, NX, (float)al, (float)ga);
	FORMULA(v <= 0 ? ga * al * expm1(v) : ga * v);
	check_row("selu", y, w, NX, 3e-7);
	tr_celu_f32(ax, y, NX, -2.0f);  /* a negative alpha bends the other half */
	FORMULA(fmax(0, v) + fmin(0, -2 * expm1(v / -2)));
	w[NX - 1] = NAN;   /* fmin and fmax drop a NaN; ONNX's maximum and minimum keep it */
	check_row("celu", y, w, NX, 3e-7);
	tr_thresholded_relu_f32(ax, y, NX, 0.25f);   /* NaN > alpha is false: 0 */
	FORMULA(v > 0.25 ? v : 0);
	check_row("thresholded_relu", y, w, NX, 0);
	tr_shrink_f32(ax, y, NX, 0.1f, 0.5f);         /* +-lambd itself gives 0 */
	FORMULA(v < -0.5 ? v + 0.1f : v > 0.5 ? v - 0.1f : 0);
	check_row("shrink", y, w, NX, 1e-7);
	tr_softsign_f32(ax, y, NX);   /* inf / inf: NaN, as ONNX's formula (not the limit) */
	FORMULA(v / (1 + fabs(v)));
	check_row("softsign", y, w, NX, 1e-7);
	tr_mish_f32(ax, y, NX);
	FORMULA(isinf(v) && v < 0 ? NAN : v * tanh(v > 0 ? v + log1p(exp(-v)) : log1p(exp(v))));
	w[NX - 2] = INFINITY;
	check_row("mish", y, w, NX, 3e-7);
	tr_gelu_tanh_f32(ax, y, NX);
	FORMULA(isinf(v) ? (v > 0 ? v : NAN)
	        : 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
	w[1] = -0.0;   /* 1 + tanh(u) underflows in double too: the kernel's is exact */
	check_row("gelu_tanh", y, w, NX, 2e-6);
	CU_ASSERT(fabsf(y[1]) < 1e-30f);
	/* the exact GELU (fuse_common's kernel): 4e-7 absolute, like any float
	 * evaluation of 1 + erf(x / sqrt 2), which cancels below x = -3 */
	tr_gelu_f32(ax, y, NX);
	FORMULA(isinf(v) ? (v > 0 ? v : NAN) : 0.5 * v * (1 + erf(v / sqrt(2))));
	check_tol("gelu", y, w, NX, 1e-6, 4e-7);
#undef FORMULA
}

static void test_math_unary(void)
{
	float h[10] = {-2.5f, -1.5f, -0.5f, -0.0f, 0.5f, 1.5f, 2.5f, 8388609.0f, INFINITY, NAN}, y[10];
	tr_round_f32(h, y, 10);   /* halves to even, -0.5 to -0.0 */
	check_row("round", y, (const double[]){-2, -2, -0.0, -0.0, 0, 2, 2, 8388609, INFINITY, NAN},
	          10, 0);
	CU_ASSERT(signbit(y[2]) && signbit(y[3]));
	tr_sign_f32(h, y, 10);    /* the sign of zero and NaN kept */
	check_row("sign", y, (const double[]){-1, -1, -1, -0.0, 1, 1, 1, 1, 1, NAN}, 10, 0);
	CU_ASSERT(signbit(y[3]));
	int64_t i64[3] = {INT64_MIN, 0, INT64_MAX}, s64[3];
	tr_sign_i64(i64, s64, 3);
	CHECK_I(s64[0], -1);
	CHECK_I(s64[1], 0);
	CHECK_I(s64[2], 1);
	uint8_t b[10];
	tr_isnan_f32(h, b, 10);
	for (int i = 0; i < 10; i++)
		CHECK_I(b[i], i == 9);
	float s[4] = {INFINITY, -INFINITY, NAN, 3.4e38f};
	for (int neg = 0; neg < 2; neg++)
		for (int pos = 0; pos < 2; pos++) {
			tr_isinf_f32(s, b, 4, neg, pos);
			CHECK_I(b[0], pos);
			CHECK_I(b[1], neg);
			CHECK_I(b[2], 0);
			CHECK_I(b[3], 0);
		}
	/* domains: outside gives NaN, the ends infinities */
	float d[3] = {1.5f, 1.0f, -1.0f};
	tr_asin_f32(d, y, 1);
	CU_ASSERT(isnan(y[0]));
	tr_atanh_f32(d, y, 3);
	CU_ASSERT(isnan(y[0]) && y[1] == INFINITY && y[2] == -INFINITY);
	float e[2] = {0.5f, 1.0f};
	tr_acosh_f32(e, y, 2);
	CU_ASSERT(isnan(y[0]) && y[1] == 0);
	float t[2] = {100, -100};
	tr_sinh_f32(t, y, 2);
	CU_ASSERT(y[0] == INFINITY && y[1] == -INFINITY);
	tr_cosh_f32(t, y, 2);
	CU_ASSERT(y[0] == INFINITY && y[1] == INFINITY);
	tr_div_scalar_f32(t, y, 2, 3.0f);
	CHECK_F(y[1], -100.0f / 3.0f, 0);
}

/* Mod's two sign rules, the zero and -1 divisors, BitShift, Xor, PRelu */
static void test_mod_shift(void)
{
	int64_t a[8] = {7, -7, 7, -7, 5, INT64_MIN, 4, -4}, b[8] = {3, 3, -3, -3, 0, -1, 2, -2}, y[8];
	tr_mod_i64(a, b, y, 8);   /* the divisor's sign, as Python's % */
	const int64_t mod[8] = {1, 2, -2, -1, 0, 0, 0, 0}, fmod[8] = {1, -1, 1, -1, 0, 0, 0, 0};
	for (int i = 0; i < 8; i++)
		CHECK_I(y[i], mod[i]);
	tr_fmod_i64(a, b, y, 8);  /* the dividend's, as C's % */
	for (int i = 0; i < 8; i++)
		CHECK_I(y[i], fmod[i]);
	int32_t c[3] = {INT32_MIN, -9, 9}, d[3] = {-1, 4, -4}, z[3];
	tr_mod_i32(c, d, z, 3);
	CHECK_I(z[0], 0);
	CHECK_I(z[1], 3);
	CHECK_I(z[2], -3);
	float fa[4] = {-7.5f, 7.5f, -0.0f, 1}, fb[4] = {2, -2, 3, 0}, fy[4];
	tr_fmod_f32(fa, fb, fy, 4);
	check_row("fmod", fy, (const double[]){-1.5, 1.5, -0.0, NAN}, 4, 0);
	CU_ASSERT(signbit(fy[2]));
	/* shifts: logical on the bits; the type's width or more, or a negative
	 * count, gives 0 */
	int64_t u[5] = {1, 1, -1, -1, 3}, n[5] = {63, 64, 1, -1, 0}, r[5];
	tr_shift_left_i64(u, n, r, 5);
	CHECK_I(r[0], INT64_MIN);
	CHECK_I(r[1], 0);
	CHECK_I(r[2], -2);
	CHECK_I(r[3], 0);
	CHECK_I(r[4], 3);
	tr_shift_right_i64(u, n, r, 5);
	CHECK_I(r[2], INT64_MAX);  /* logical: a zero comes in at the top */
	CHECK_I(r[0], 0);
	int32_t v[2] = {-1, 1 << 30}, m[2] = {31, 2}, q[2];
	tr_shift_right_i32(v, m, q, 2);
	CHECK_I(q[0], 1);
	CHECK_I(q[1], 1 << 28);
	tr_shift_left_i32(v, m, q, 2);
	CHECK_I(q[0], INT32_MIN);
	CHECK_I(q[1], 0);
	uint8_t p[4] = {0, 0, 1, 1}, pq[4] = {0, 1, 0, 1}, px[4];
	tr_xor_b8(p, pq, px, 4);
	for (int i = 0; i < 4; i++)
		CHECK_I(px[i], i == 1 || i == 2);
	/* PRelu: x (2, 3) with a per-column slope (3) */
	float x[6] = {-1, -2, -3, 1, 2, NAN}, sl[3] = {0.5f, -1, 2}, py[6];
	tr_prelu_f32_bc(x, sl, py, 2, (const int64_t[]){2, 3}, (const int64_t[]){3, 1},
	                (const int64_t[]){0, 1});
	check_row("prelu", py, (const double[]){-0.5, 2, -6, 1, 2, NAN}, 6, 0);
	int64_t xi[2] = {INT64_MIN, -3}, si[2] = {2, -2}, yi[2];
	tr_prelu_i64(xi, si, yi, 2);   /* wraps */
	CHECK_I(yi[0], 0);
	CHECK_I(yi[1], 6);
}

void register_activation(void)
{
	CU_pSuite s = CU_add_suite("activation", NULL, NULL);
	CU_add_test(s, "softplus", test_softplus);
	CU_add_test(s, "activations: specials against the formulas", test_activations);
	CU_add_test(s, "round, sign, isnan, isinf, domains", test_math_unary);
	CU_add_test(s, "mod, fmod, bitshift, xor, prelu", test_mod_shift);
}
