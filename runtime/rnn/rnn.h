/*
 * rnn.h -- the recurrent layers of ONNX: RNN, GRU and LSTM
 * (compiler/ops/op_rnn.c), one kernel each on one shared driver.
 *
 * A layer runs in two parts:
 *   1. the input projections of every time step and direction at once, one
 *      GEMM: xw (T*B, D*G*H) = x (T*B, I) @ W^T, its rows the (t, b) pairs in
 *      x's order, then the biases that do not depend on the state;
 *   2. per direction, per step: the recurrent GEMM hr (B, G*H) = h (B, H) @
 *      R^T over the batch rows, then the gates of each row that is still
 *      inside its sequence.
 * G is the number of gate blocks of H rows in W (D, G*H, I) and R (D, G*H,
 * H), in ONNX's order: RNN one; GRU z, r, h; LSTM i, o, f, c.  B (D, 2*G*H)
 * holds W's biases then R's.  The states are kept in the work area as (D, B,
 * H); x, Y, Y_h, Y_c and the initial states are in the node's layout:
 *   layout 0: x (T, B, I), y (T, D, B, H), states (D, B, H);
 *   layout 1: x (B, T, I), y (B, T, D, H), states (B, D, H).
 * Sequence lengths (B) are clamped to [0, T].  Row b runs steps 0 .. len-1:
 * forward over times 0 .. len-1, backward (direction "reverse", or the
 * second direction of "bidirectional") over len-1 .. 0; y at times len and
 * later is 0, and so are Y_h and Y_c of a row of length 0.
 *
 * Weights: with `packed`, W and R were packed for the GEMM micro-kernel when
 * the model was compiled, each where its product has 4 rows or more
 * (TR_RNN_PACKS: W for T*B rows, R for B rows) and raw elsewhere; without
 * it, the kernel packs R into the work area once per call when B >= 4.  With
 * fewer rows the products take tr_sgemm's small path, which reads the raw
 * weights in place.  Sigmoid and tanh are computed in arithmetic that
 * vectorises (tr_rnn_exp); the rarer activations call libm.
 */
#ifndef TOSTC_RT_RNN_RNN_H
#define TOSTC_RT_RNN_RNN_H
#include "../gemm/gemm.h"

/*@ tr_rnn_act : tr_common */
/* for (i = 0; i < n; i++) BODY, in blocks of 8 with a tail bounded by 8,
 * so that gcc -O2 vectorises it (see tr_tssa_row) */
#define TR_RNN_LOOP(i, n, ...)                                                    \
	do {                                                                      \
		int64_t i##0_ = 0;                                                \
		for (; i##0_ + 8 <= (n); i##0_ += 8)                              \
			for (int i##q_ = 0; i##q_ < 8; i##q_++) {                 \
				int64_t i = i##0_ + i##q_;                        \
				__VA_ARGS__;                                      \
			}                                                         \
		for (int i##q_ = 0; i##q_ < 8 && i##0_ + i##q_ < (n); i##q_++) {  \
			int64_t i = i##0_ + i##q_;                                \
			__VA_ARGS__;                                              \
		}                                                                 \
	} while (0)

/* The activation functions of ONNX's recurrent layers (their alpha and beta
 * as in the ONNX operators of the same names) */
enum {
	TR_RNN_RELU,            /* max(0, x) */
	TR_RNN_TANH,
	TR_RNN_SIGMOID,         /* 1 / (1 + e^-x) */
	TR_RNN_AFFINE,          /* alpha x + beta */
	TR_RNN_LEAKY_RELU,      /* x >= 0 ? x : alpha x */
	TR_RNN_THRESHOLDED_RELU,/* x >= alpha ? x : 0 */
	TR_RNN_SCALED_TANH,     /* alpha tanh(beta x) */
	TR_RNN_HARD_SIGMOID,    /* min(max(alpha x + beta, 0), 1) */
	TR_RNN_ELU,             /* x >= 0 ? x : alpha (e^x - 1) */
	TR_RNN_SOFTSIGN,        /* x / (1 + |x|) */
	TR_RNN_SOFTPLUS         /* log(1 + e^x) */
};

/*
 * e^x for x in [-87, 88] (callers clamp), within 2 ulp: Cephes' expf (the
 * range reduced by ln 2, split in two for exactness, a degree 6 polynomial,
 * 2^n made in the exponent bits), in plain arithmetic that gcc vectorises,
 * where a libm call would not be.  n = round(x / ln 2) is found as the
 * truncation of a positive number, k = n + 127 in [1, 254].
 */
TR_ALWAYS_INLINE float tr_rnn_exp(float x)
{
	int32_t k = (int32_t)(x * 1.44269504f + 127.5f);
	float n = (float)(k - 127);
	float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	union {
		int32_t i;
		float f;
	} u;
	u.i = k * 8388608;   /* 2^n */
	return p * u.f;
}

/*
 * Sigmoid and tanh of 16 values in a local array x, in place, in passes of
 * fixed trip count over local arrays, each select stored as it is: gcc -O2
 * vectorises every pass on every target (with -ftrapping-math, the default,
 * it keeps a branch around any select whose sides compute).  NaN is
 * computed as 0 and put back at the end.
 */
/* 1 / (1 + e^-x); below -87 it is e^-87 (about 1.6e-38), not 0 */
TR_FN void tr_rnn_sigmoid16(float *restrict x)
{
	float t[16];
	for (int l = 0; l < 16; l++)
		t[l] = x[l] == x[l] ? -x[l] : 0.0f;
	for (int l = 0; l < 16; l++)
		t[l] = t[l] > 88.0f ? 88.0f : t[l];
	for (int l = 0; l < 16; l++)
		t[l] = t[l] < -87.0f ? -87.0f : t[l];
	for (int l = 0; l < 16; l++)
		t[l] = 1.0f / (1.0f + tr_rnn_exp(t[l]));
	for (int l = 0; l < 16; l++)
		x[l] = x[l] == x[l] ? t[l] : x[l];
}

/* tanh x within 3 ulp: Cephes' odd polynomial below 0.625, where 1 - 2 /
 * (e^2|x| + 1) would lose digits, that formula above */
TR_FN void tr_rnn_tanh16(float *restrict x)
{
	float a[16], s[16], e[16], t[16];
	for (int l = 0; l < 16; l++)
		a[l] = x[l] == x[l] ? fabsf(x[l]) : 0.0f;
	for (int l = 0; l < 16; l++)
		s[l] = a[l] < 0.625f ? a[l] : 0.625f;
	for (int l = 0; l < 16; l++) {
		float z = s[l] * s[l], p = -5.70498872745e-3f;
		p = p * z + 2.06390887954e-2f;
		p = p * z - 5.37397155531e-2f;
		p = p * z + 1.33314422036e-1f;
		p = p * z - 3.33332819422e-1f;
		s[l] = p * z * s[l] + s[l];
	}
	for (int l = 0; l < 16; l++)
		e[l] = 2.0f * a[l];
	for (int l = 0; l < 16; l++)
		e[l] = e[l] > 88.0f ? 88.0f : e[l];
	for (int l = 0; l < 16; l++)
		e[l] = 1.0f - 2.0f / (tr_rnn_exp(e[l]) + 1.0f);
	for (int l = 0; l < 16; l++)
		t[l] = a[l] < 0.625f ? s[l] : e[l];
	for (int l = 0; l < 16; l++)
		t[l] = copysignf(t[l], x[l]);
	for (int l = 0; l < 16; l++)
		x[l] = x[l] == x[l] ? t[l] : x[l];
}

/* v (n) = sigmoid(v) (is_tanh: tanh(v)) in place, 16 at a time, the last
 * block padded with zeros */
TR_FN void tr_rnn_span(float *v, int64_t n, int is_tanh)
{
	for (int64_t i = 0; i < n; i += 16) {
		float x[16];
		int64_t m = TR_MIN(16, n - i);
		if (m == 16)
			for (int l = 0; l < 16; l++)
				x[l] = v[i + l];
		else
			for (int l = 0; l < 16; l++)
				x[l] = l < m ? v[i + TR_MIN(l, m - 1)] : 0.0f;
		if (is_tanh)
			tr_rnn_tanh16(x);
		else
			tr_rnn_sigmoid16(x);
		for (int l = 0; l < 16 && l < m; l++)
			v[i + l] = x[l];
	}
}

/* v (n) = act(min(max(v, -clip), clip)) in place; NaN stays NaN, and a clip
 * of HUGE_VALF (the node has none) changes nothing */
TR_FN void tr_rnn_act(float *v, int64_t n, int64_t kind, float alpha, float beta, float clip)
{
	TR_RNN_LOOP(i, n, v[i] = v[i] > clip ? clip : v[i]);
	TR_RNN_LOOP(i, n, v[i] = v[i] < -clip ? -clip : v[i]);
	switch (kind) {
	case TR_RNN_RELU: TR_RNN_LOOP(i, n, v[i] = v[i] < 0.0f ? 0.0f : v[i]); break;
	case TR_RNN_TANH: tr_rnn_span(v, n, 1); break;
	case TR_RNN_SIGMOID: tr_rnn_span(v, n, 0); break;
	case TR_RNN_AFFINE: TR_RNN_LOOP(i, n, v[i] = alpha * v[i] + beta); break;
	case TR_RNN_LEAKY_RELU: TR_RNN_LOOP(i, n, v[i] = v[i] >= 0.0f ? v[i] : alpha * v[i]); break;
	case TR_RNN_THRESHOLDED_RELU: TR_RNN_LOOP(i, n, v[i] = v[i] >= alpha ? v[i] : 0.0f); break;
	case TR_RNN_SCALED_TANH:
		TR_RNN_LOOP(i, n, v[i] = beta * v[i]);
		tr_rnn_span(v, n, 1);
		TR_RNN_LOOP(i, n, v[i] = alpha * v[i]);
		break;
	case TR_RNN_HARD_SIGMOID:
		TR_RNN_LOOP(i, n, v[i] = alpha * v[i] + beta);
		TR_RNN_LOOP(i, n, v[i] = v[i] < 0.0f ? 0.0f : v[i]);
		TR_RNN_LOOP(i, n, v[i] = v[i] > 1.0f ? 1.0f : v[i]);
		break;
	case TR_RNN_ELU: TR_RNN_LOOP(i, n, v[i] = v[i] >= 0.0f ? v[i] : alpha * expm1f(v[i])); break;
	case TR_RNN_SOFTSIGN: TR_RNN_LOOP(i, n, v[i] = v[i] / (1.0f + fabsf(v[i]))); break;
	case TR_RNN_SOFTPLUS:
		/* log(1 + e^x) without overflow: x + log(1 + e^-x) for x > 0 */
		TR_RNN_LOOP(i, n, v[i] = v[i] > 0.0f ? v[i] + log1pf(expf(-v[i])) : log1pf(expf(v[i])));
		break;
	default: break;
	}
}
/*@end*/

/*@ tr_rnn_core : tr_sgemm tr_gemm_prepack_f32 tr_rnn_act */
/* The products of R have 4 rows or more: R (and W, for T*B rows) is used
 * packed for the micro-kernel; fewer rows take tr_sgemm_small on raw weights */
#define TR_RNN_PACKS(rows) ((rows) >= 4)
#define TR_RNN_PAD(n) (((n) + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB)
#define TR_RNN_PAD16(n) (((n) + 15) / 16 * 16)

/* One layer's sizes and options, and where the parts of its work area are */
typedef struct {
	int64_t T, B, I, H, D;  /* steps, batch rows, input size, hidden size, directions */
	int64_t G;              /* gate blocks: RNN 1, GRU 3, LSTM 4 */
	int64_t reverse0;       /* direction 0 runs backward in time */
	int64_t layout;         /* 0 or 1 (see the top of this file) */
	int64_t packed;         /* W and R arrive packed where TR_RNN_PACKS */
	int64_t split;          /* GRU: R's h block is a product of its own */
	/* the work area, offsets in floats; each part 64-byte aligned */
	int64_t xw;             /* (T*B, D*G*H) input projections + biases */
	int64_t h, c;           /* (D, B, H) hidden state; LSTM's cell state */
	int64_t hr;             /* (B, G*H) one step's recurrent product, then gates */
	int64_t rh;             /* (B, H) GRU's r * h (linear_before_reset 0) */
	int64_t rp;             /* R packed at run time: D * tr_rnn_rpack_floats */
	int64_t pack;           /* tr_sgemm's packing scratch, to the end */
} TrRnn;

/* Floats of one direction's R, (G*H, H), packed (tr_rnn_pack_r) */
TR_FN int64_t tr_rnn_rpack_floats(int64_t g, int64_t h, int64_t split)
{
	return split ? h * (TR_RNN_PAD(2 * h) + TR_RNN_PAD(h)) : h * TR_RNN_PAD(g * h);
}

/* R (D, G*H, H) -> per direction R^T (H, G*H) packed for tr_sgemm_impl's
 * bpre (tr_gemm_prepack_f32), split: as two products, columns [0, 2H) and
 * [2H, 3H).  The compiler packs a constant R with it too. */
TR_FN void tr_rnn_pack_r(const float *r, float *dst, int64_t d, int64_t g, int64_t h,
                         int64_t split)
{
	int64_t per = tr_rnn_rpack_floats(g, h, split), n0 = split ? 2 * h : g * h;
	for (int64_t k = 0; k < d; k++) {
		const float *rk = r + k * g * h * h;
		tr_gemm_prepack_f32(rk, 1, h, dst + k * per, h, n0);
		if (split)
			tr_gemm_prepack_f32(rk + n0 * h, 1, h, dst + k * per + h * TR_RNN_PAD(n0), h, h);
	}
}

/* Fill p's work-area offsets from its sizes (rh when GRU computes r * h,
 * c when LSTM keeps a cell state) */
TR_FN void tr_rnn_plan(TrRnn *p, int64_t cell_state, int64_t rh)
{
	int64_t at = 0, dbh = p->D * p->B * p->H;
	p->xw = at;
	at += TR_RNN_PAD16(p->T * p->B * p->D * p->G * p->H);
	p->h = at;
	at += TR_RNN_PAD16(dbh);
	p->c = at;
	at += cell_state ? TR_RNN_PAD16(dbh) : 0;
	p->hr = at;
	at += TR_RNN_PAD16(p->B * p->G * p->H);
	p->rh = at;
	at += rh ? TR_RNN_PAD16(p->B * p->H) : 0;
	p->rp = at;
	if (!p->packed && TR_RNN_PACKS(p->B))
		at += TR_RNN_PAD16(p->D * tr_rnn_rpack_floats(p->G, p->H, p->split));
	p->pack = at;
}

/* p's sizes and options, its work area planned */
TR_FN TrRnn tr_rnn_setup(int64_t seq, int64_t batch, int64_t input, int64_t hidden,
                         int64_t direction, int64_t layout, int64_t packed, int64_t gates,
                         int64_t split, int64_t cell_state, int64_t rh)
{
	TrRnn p;
	p.T = seq, p.B = batch, p.I = input, p.H = hidden;
	p.D = direction == 2 ? 2 : 1;
	p.G = gates;
	p.reverse0 = direction == 1;
	p.layout = layout, p.packed = packed, p.split = split;
	tr_rnn_plan(&p, cell_state, rh);
	return p;
}

/* xw = x @ W^T + biases: W's and R's, but for R's h block when rbh_apart
 * (GRU's linear_before_reset, where it goes inside r * (...)) */
TR_FN void tr_rnn_project(const TrRnn *p, const float *x, const float *w, const float *b,
                          float *work, int64_t rbh_apart)
{
	int64_t rows = p->T * p->B, gh = p->G * p->H, n = p->D * gh;
	float *xw = work + p->xw, *bs = work + p->hr;
	if (rows <= 0 || n <= 0)
		return;
	if (p->packed && TR_RNN_PACKS(rows))
		tr_sgemm_impl(rows, n, p->I, 1.0f, x, p->I, 1, (const float *)0, 0, 0, w, xw, n, 0,
		              work + p->pack);
	else
		tr_sgemm(rows, n, p->I, 1.0f, x, p->I, 1, w, 1, p->I, xw, n, 0, work + p->pack);
	for (int64_t d = 0; d < p->D; d++) {
		const float *wb = b + d * 2 * gh, *rb = wb + gh;
		/* the bias row of direction d, (G*H), in hr's first row */
		TR_RNN_LOOP(j, gh, bs[j] = wb[j] + (rbh_apart && j >= 2 * p->H ? 0.0f : rb[j]));
		for (int64_t i = 0; i < rows; i++) {
			float *row = xw + i * n + d * gh;
			TR_RNN_LOOP(j, gh, row[j] += bs[j]);
		}
	}
}

/* direction d's R for the recurrent products: packed (the weight, or packed
 * into the work area now) when TR_RNN_PACKS(B), else NULL: raw r is read */
TR_FN const float *tr_rnn_rpacked(const TrRnn *p, const float *r, float *work)
{
	if (!TR_RNN_PACKS(p->B))
		return (const float *)0;
	if (p->packed)
		return r;
	tr_rnn_pack_r(r, work + p->rp, p->D, p->G, p->H, p->split);
	return work + p->rp;
}

/* out (B, n) row stride G*H = h (B, H) @ R_d[c0 : c0 + n]^T, direction d's R
 * rows c0 .. c0+n-1: from rp (packed; part 1 of a split R when c0 > 0) or raw r */
TR_FN void tr_rnn_recur(const TrRnn *p, const float *h, const float *r, const float *rp,
                        int64_t d, int64_t c0, int64_t n, float *out, float *pack)
{
	int64_t gh = p->G * p->H;
	if (rp) {
		const float *part = rp + d * tr_rnn_rpack_floats(p->G, p->H, p->split) +
		                    (c0 > 0 ? p->H * TR_RNN_PAD(c0) : 0);
		tr_sgemm_impl(p->B, n, p->H, 1.0f, h, p->H, 1, (const float *)0, 0, 0, part, out, gh, 0,
		              pack);
	} else {
		tr_sgemm(p->B, n, p->H, 1.0f, h, p->H, 1, r + (d * gh + c0) * p->H, 1, p->H, out, gh, 0,
		         pack);
	}
}

/* The states (D, B, H) from s0 in the node's layout, or zeros without it */
TR_FN void tr_rnn_init(const TrRnn *p, const float *s0, int64_t has, float *s)
{
	for (int64_t d = 0; d < p->D; d++)
		for (int64_t b = 0; b < p->B; b++) {
			const float *src = s0 + (p->layout ? b * p->D + d : d * p->B + b) * p->H;
			float *dst = s + (d * p->B + b) * p->H;
			TR_RNN_LOOP(j, p->H, dst[j] = has ? src[j] : 0.0f);
		}
}

/* Row b's length, clamped to [0, T] */
TR_FN int64_t tr_rnn_len(const TrRnn *p, const int32_t *lens, int64_t b)
{
	return lens[b] < 0 ? 0 : lens[b] > p->T ? p->T : lens[b];
}

/* The final states out, in the node's layout, from s (D, B, H); 0 for rows
 * of length 0 */
TR_FN void tr_rnn_final(const TrRnn *p, const float *s, const int32_t *lens, float *out)
{
	for (int64_t d = 0; d < p->D; d++)
		for (int64_t b = 0; b < p->B; b++) {
			const float *src = s + (d * p->B + b) * p->H;
			float *dst = out + (p->layout ? b * p->D + d : d * p->B + b) * p->H;
			int64_t live = tr_rnn_len(p, lens, b) > 0;
			TR_RNN_LOOP(j, p->H, dst[j] = live ? src[j] : 0.0f);
		}
}

/* The steps direction d runs: the longest length */
TR_FN int64_t tr_rnn_steps(const TrRnn *p, const int32_t *lens)
{
	int64_t s = 0;
	for (int64_t b = 0; b < p->B; b++)
		s = TR_MAX(s, tr_rnn_len(p, lens, b));
	return s;
}

/* The time of step s of row b in direction d, or -1 when the row has ended */
TR_FN int64_t tr_rnn_time(const TrRnn *p, const int32_t *lens, int64_t d, int64_t s, int64_t b)
{
	int64_t len = tr_rnn_len(p, lens, b);
	if (s >= len)
		return -1;
	return d == 1 || p->reverse0 ? len - 1 - s : s;
}

/* Row (t, b) of xw, direction d's G*H columns */
TR_FN float *tr_rnn_xrow(const TrRnn *p, float *work, int64_t t, int64_t b, int64_t d)
{
	int64_t row = p->layout ? b * p->T + t : t * p->B + b;
	return work + p->xw + (row * p->D + d) * p->G * p->H;
}

/* y's H values at time t, direction d, row b */
TR_FN float *tr_rnn_yrow(const TrRnn *p, float *y, int64_t t, int64_t d, int64_t b)
{
	return y + (p->layout ? (b * p->T + t) * p->D + d : (t * p->D + d) * p->B + b) * p->H;
}

/* y is 0 at the times past each row's length */
TR_FN void tr_rnn_zero_tail(const TrRnn *p, const int32_t *lens, float *y)
{
	for (int64_t b = 0; b < p->B; b++)
		for (int64_t t = tr_rnn_len(p, lens, b); t < p->T; t++)
			for (int64_t d = 0; d < p->D; d++) {
				float *yr = tr_rnn_yrow(p, y, t, d, b);
				TR_RNN_LOOP(j, p->H, yr[j] = 0.0f);
			}
}

/* The gate block g of row b of hr, after adding xw's: pre-activations */
TR_FN float *tr_rnn_gates(const TrRnn *p, float *work, const float *xr, int64_t b, int64_t n)
{
	float *g = work + p->hr + b * p->G * p->H;
	TR_RNN_LOOP(j, n, g[j] += xr[j]);
	return g;
}
/*@end*/

/*@ tr_rnn_f32 : tr_rnn_core */
/*
 * Simple RNN: h = f(x W^T + h R^T + Wb + Rb), f = act[d] with its alpha
 * and beta in act_ab[2d], act_ab[2d+1], clipped to [-clip, clip] first.
 * x, y, yh in the node's layout; w, r, b as at the top of the file; lens
 * (B) sequence lengths; h0 the initial state when has_init.
 */
TR_FN void tr_rnn_f32(const float *x, const float *w, const float *r, const float *b,
                      const int32_t *lens, const float *h0, float *y, float *yh, float *work,
                      int64_t seq, int64_t batch, int64_t input, int64_t hidden,
                      int64_t direction, int64_t layout, int64_t packed, int64_t has_init,
                      const int64_t *act, const float *act_ab, float clip)
{
	TrRnn p = tr_rnn_setup(seq, batch, input, hidden, direction, layout, packed, 1, 0, 0, 0);
	const float *rp = tr_rnn_rpacked(&p, r, work);
	int64_t steps = tr_rnn_steps(&p, lens);
	tr_rnn_project(&p, x, w, b, work, 0);
	tr_rnn_init(&p, h0, has_init, work + p.h);
	for (int64_t d = 0; d < p.D; d++) {
		float *h = work + p.h + d * p.B * p.H;
		for (int64_t s = 0; s < steps; s++) {
			tr_rnn_recur(&p, h, r, rp, d, 0, p.H, work + p.hr, work + p.pack);
			for (int64_t i = 0; i < p.B; i++) {
				int64_t t = tr_rnn_time(&p, lens, d, s, i);
				if (t < 0)
					continue;
				float *g = tr_rnn_gates(&p, work, tr_rnn_xrow(&p, work, t, i, d), i, p.H);
				float *hi = h + i * p.H, *yr = tr_rnn_yrow(&p, y, t, d, i);
				tr_rnn_act(g, p.H, act[d], act_ab[2 * d], act_ab[2 * d + 1], clip);
				TR_RNN_LOOP(j, p.H, hi[j] = yr[j] = g[j]);
			}
		}
	}
	tr_rnn_zero_tail(&p, lens, y);
	tr_rnn_final(&p, work + p.h, lens, yh);
}
/*@end*/

/*@ tr_gru_f32 : tr_rnn_core */
/*
 * GRU, gates z, r, h; f = act[2d], g = act[2d+1] (alpha, beta in act_ab[4d ..]):
 *   z = f(x Wz^T + h Rz^T + Wbz + Rbz),  r = f(x Wr^T + h Rr^T + Wbr + Rbr)
 *   n = g(x Wh^T + (r * h) Rh^T + Rbh + Wbh)          linear_before_reset 0
 *   n = g(x Wh^T + r * (h Rh^T + Rbh) + Wbh)          linear_before_reset 1
 *   h = (1 - z) * n + z * h
 * each pre-activation clipped to [-clip, clip].  Arguments as tr_rnn_f32's.
 */
TR_FN void tr_gru_f32(const float *x, const float *w, const float *r, const float *b,
                      const int32_t *lens, const float *h0, float *y, float *yh, float *work,
                      int64_t seq, int64_t batch, int64_t input, int64_t hidden,
                      int64_t direction, int64_t layout, int64_t packed, int64_t has_init,
                      int64_t linear_before_reset, const int64_t *act, const float *act_ab,
                      float clip)
{
	int64_t lbr = linear_before_reset != 0;
	TrRnn p = tr_rnn_setup(seq, batch, input, hidden, direction, layout, packed, 3, 1, 0, !lbr);
	const float *rp = tr_rnn_rpacked(&p, r, work);
	int64_t steps = tr_rnn_steps(&p, lens), H = p.H, gh = 3 * H;
	tr_rnn_project(&p, x, w, b, work, lbr);
	tr_rnn_init(&p, h0, has_init, work + p.h);
	for (int64_t d = 0; d < p.D; d++) {
		float *h = work + p.h + d * p.B * H, *hr = work + p.hr, *rh = work + p.rh;
		const float *rbh = b + d * 2 * gh + gh + 2 * H, *ab = act_ab + 4 * d;
		for (int64_t s = 0; s < steps; s++) {
			/* z and r; with linear_before_reset, h Rh^T too */
			tr_rnn_recur(&p, h, r, rp, d, 0, 2 * H, hr, work + p.pack);
			if (lbr)
				tr_rnn_recur(&p, h, r, rp, d, 2 * H, H, hr + 2 * H, work + p.pack);
			for (int64_t i = 0; i < p.B; i++) {
				int64_t t = tr_rnn_time(&p, lens, d, s, i);
				float *hi = h + i * H, *rhi = rh + i * H;
				if (t < 0) {
					if (!lbr)
						TR_RNN_LOOP(j, H, rhi[j] = 0.0f);
					continue;
				}
				float *g = tr_rnn_gates(&p, work, tr_rnn_xrow(&p, work, t, i, d), i, 2 * H);
				tr_rnn_act(g, 2 * H, act[2 * d], ab[0], ab[1], clip);
				if (!lbr)
					TR_RNN_LOOP(j, H, rhi[j] = g[H + j] * hi[j]);
			}
			/* without linear_before_reset: (r * h) Rh^T */
			if (!lbr)
				tr_rnn_recur(&p, rh, r, rp, d, 2 * H, H, hr + 2 * H, work + p.pack);
			for (int64_t i = 0; i < p.B; i++) {
				int64_t t = tr_rnn_time(&p, lens, d, s, i);
				if (t < 0)
					continue;
				const float *xh = tr_rnn_xrow(&p, work, t, i, d) + 2 * H;
				float *z = hr + i * gh, *rg = z + H, *n = z + 2 * H;
				float *hi = h + i * H, *yr = tr_rnn_yrow(&p, y, t, d, i);
				if (lbr)
					TR_RNN_LOOP(j, H, n[j] = xh[j] + rg[j] * (n[j] + rbh[j]));
				else
					TR_RNN_LOOP(j, H, n[j] += xh[j]);
				tr_rnn_act(n, H, act[2 * d + 1], ab[2], ab[3], clip);
				TR_RNN_LOOP(j, H, hi[j] = yr[j] = (1.0f - z[j]) * n[j] + z[j] * hi[j]);
			}
		}
	}
	tr_rnn_zero_tail(&p, lens, y);
	tr_rnn_final(&p, work + p.h, lens, yh);
}
/*@end*/

/*@ tr_lstm_f32 : tr_rnn_core */
/*
 * LSTM, gates i, o, f, c; f = act[3d], g = act[3d+1], h = act[3d+2] (alpha,
 * beta in act_ab[6d ..]); peepholes p (D, 3H) as pi, po, pf:
 *   i = f(x Wi^T + h Ri^T + pi * c + Wbi + Rbi)
 *   f = f(x Wf^T + h Rf^T + pf * c + Wbf + Rbf)    (1 - i with input_forget)
 *   c = f * c + i * g(x Wc^T + h Rc^T + Wbc + Rbc)
 *   o = f(x Wo^T + h Ro^T + po * c + Wbo + Rbo)    (the new c)
 *   h = o * h(c)
 * each pre-activation clipped to [-clip, clip].  c0 the initial cell state
 * and yc the final one, as h0 and yh; the rest as tr_rnn_f32's.
 */
TR_FN void tr_lstm_f32(const float *x, const float *w, const float *r, const float *b,
                       const int32_t *lens, const float *h0, const float *c0, const float *pp,
                       float *y, float *yh, float *yc, float *work, int64_t seq, int64_t batch,
                       int64_t input, int64_t hidden, int64_t direction, int64_t layout,
                       int64_t packed, int64_t has_init, int64_t input_forget,
                       const int64_t *act, const float *act_ab, float clip)
{
	TrRnn p = tr_rnn_setup(seq, batch, input, hidden, direction, layout, packed, 4, 0, 1, 0);
	const float *rp = tr_rnn_rpacked(&p, r, work);
	int64_t steps = tr_rnn_steps(&p, lens), H = p.H;
	tr_rnn_project(&p, x, w, b, work, 0);
	tr_rnn_init(&p, h0, has_init, work + p.h);
	tr_rnn_init(&p, c0, has_init, work + p.c);
	for (int64_t d = 0; d < p.D; d++) {
		float *h = work + p.h + d * p.B * H, *c = work + p.c + d * p.B * H;
		const float *pi = pp + d * 3 * H, *po = pi + H, *pf = pi + 2 * H;
		const int64_t *ak = act + 3 * d;
		const float *ab = act_ab + 6 * d;
		for (int64_t s = 0; s < steps; s++) {
			tr_rnn_recur(&p, h, r, rp, d, 0, 4 * H, work + p.hr, work + p.pack);
			for (int64_t k = 0; k < p.B; k++) {
				int64_t t = tr_rnn_time(&p, lens, d, s, k);
				if (t < 0)
					continue;
				float *gi = tr_rnn_gates(&p, work, tr_rnn_xrow(&p, work, t, k, d), k, 4 * H);
				float *go = gi + H, *gf = gi + 2 * H, *gc = gi + 3 * H;
				float *hk = h + k * H, *ck = c + k * H, *yr = tr_rnn_yrow(&p, y, t, d, k);
				TR_RNN_LOOP(j, H, gi[j] += pi[j] * ck[j]);
				tr_rnn_act(gi, H, ak[0], ab[0], ab[1], clip);
				if (input_forget) {
					TR_RNN_LOOP(j, H, gf[j] = 1.0f - gi[j]);
				} else {
					TR_RNN_LOOP(j, H, gf[j] += pf[j] * ck[j]);
					tr_rnn_act(gf, H, ak[0], ab[0], ab[1], clip);
				}
				tr_rnn_act(gc, H, ak[1], ab[2], ab[3], clip);
				TR_RNN_LOOP(j, H, ck[j] = gf[j] * ck[j] + gi[j] * gc[j]);
				TR_RNN_LOOP(j, H, go[j] += po[j] * ck[j]);
				tr_rnn_act(go, H, ak[0], ab[0], ab[1], clip);
				/* h(c) in gc's place (g is spent) */
				TR_RNN_LOOP(j, H, gc[j] = ck[j]);
				tr_rnn_act(gc, H, ak[2], ab[4], ab[5], HUGE_VALF);
				TR_RNN_LOOP(j, H, hk[j] = yr[j] = go[j] * gc[j]);
			}
		}
	}
	tr_rnn_zero_tail(&p, lens, y);
	tr_rnn_final(&p, work + p.h, lens, yh);
	tr_rnn_final(&p, work + p.c, lens, yc);
}
/*@end*/

#endif
