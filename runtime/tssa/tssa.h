/*
 * tssa.h -- fused Token Statistics Self-Attention kernels (ToST).
 *
 * The kernels take the projected tokens w (B, N, d), d = K heads x p
 * channels (head k owns channels k*p .. k*p+p-1, the layout a head split
 * `reshape (B, N, K, p)` gives), and write y (B, N, d), the heads already
 * merged back, ready for the output projection.  No N x N (or N x K) buffer
 * exists: statistics are O(d) floats of scratch, time is linear in N.
 *
 * The streaming forms (tr_causal_tssa_step_f32: one token each of several
 * sequences; tr_causal_tssa_chunk_f32: consecutive tokens of one) run the
 * same per-token arithmetic as tr_causal_tssa_f32 from running statistics
 * the caller keeps between calls (the step API, compiler/passes/stream.c).
 *
 * Numerics mirror the unfused ONNX graph of the official code: the norm
 * clamp is max(., eps_norm), pi is a max-subtracted softmax over heads of
 * temp[k] * s, moments are divided by (sum pi + eps_pi), and the output is
 * -(w * pi) * (1 / (1 + m)).  Only the summation order of the norms differs
 * from the graph (a running sum over tokens, as CumSum / ReduceSum do).
 */
#ifndef TOSTC_RT_TSSA_TSSA_H
#define TOSTC_RT_TSSA_TSSA_H
#include "../common.h"

/*@ tr_tssa_row : tr_common */
/*
 * Row helpers of the TSSA kernels.  Loops run in blocks of 8 with a
 * constant-count inner loop, which compilers turn into vector code even at
 * -O2 (GCC's cheap vectoriser will not touch a loop of unknown length with a
 * scalar epilogue); reductions keep 8 partial sums.  Tails are loops bounded
 * by 8 too (a plain `for (; i < n; i++)` tail trips GCC's
 * -Waggressive-loop-optimizations under constant propagation).  Pointers do
 * not alias.
 */
/* acc (n) += x (n)^2 */
TR_FN void tr_tssa_addsq(float *restrict acc, const float *restrict x, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++)
			acc[i + q] += x[i + q] * x[i + q];
	for (int q = 0; q < 8 && i + q < n; q++)
		acc[i + q] += x[i + q] * x[i + q];
}

/* acc (n) += a * x (n)^2 */
TR_FN void tr_tssa_addsq_scaled(float *restrict acc, const float *restrict x, float a, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++)
			acc[i + q] += a * (x[i + q] * x[i + q]);
	for (int q = 0; q < 8 && i + q < n; q++)
		acc[i + q] += a * (x[i + q] * x[i + q]);
}

/* sum_i (x[i] * r[i])^2 */
TR_FN float tr_tssa_sumsq_scaled(const float *restrict x, const float *restrict r, int64_t n)
{
	float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++) {
			float u = x[i + q] * r[i + q];
			s[q] += u * u;
		}
	for (int q = 0; q < 8 && i + q < n; q++) {
		float u = x[i + q] * r[i + q];
		s[q] += u * u;
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* y (n) = -(x (n) * a) * r (n) */
TR_FN void tr_tssa_out(float *restrict y, const float *restrict x, float a,
                       const float *restrict r, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++)
			y[i + q] = -(x[i + q] * a) * r[i + q];
	for (int q = 0; q < 8 && i + q < n; q++)
		y[i + q] = -(x[i + q] * a) * r[i + q];
}
/*@end*/

/*@ tr_tssa_f32 : tr_tssa_row */
/*
 * vision TSSA, four sweeps over w per batch item:
 *   1. c[k,j]   = max(sqrt(sum_n w[n,k,j]^2), eps_norm)         column norms
 *   2. s[n,k]   = sum_j (w[n,k,j] / c[k,j])^2
 *      pi[n,k]  = softmax_k(temp[k] * s[n,k])                   (kept in y)
 *   2b. m[k,j]  = sum_n pi[n,k] w[n,k,j]^2 / (sum_n pi[n,k] + eps_pi)
 *   3. y[n,k,j] = -(w[n,k,j] pi[n,k]) * (1 / (1 + m[k,j]))
 * (2 and 2b were one sweep before threads: pi is per token and the moments
 * are sums over tokens, so threads split them differently.  The cost is one
 * more read of w, against the block's GEMMs' 10 N d^2 multiply-adds.)
 * w (B, N, K*p), temp (K) -> y (B, N, K*p); scratch 2*K*p + K floats.
 * Sweep 2 parks pi[n, 0..K-1] in row n of y (d >= K); sweep 3 writes the
 * heads of a row last to first, so each pi[n,k] is read before a head's
 * output covers it; y must not alias w.  With OpenMP, the sums over tokens
 * are split by columns and the per-token work by tokens: every value is
 * computed in the same order whatever the thread count.
 */
TR_FN void tr_tssa_f32(const float *w, const float *temp, float *y, int64_t B, int64_t N,
                       int64_t K, int64_t p, float eps_norm, float eps_pi, float *scratch)
{
	int64_t d = K * p;
	float *rc = scratch;          /* (d) 1 / c, then 1 / (1 + m) */
	float *acc = scratch + d;     /* (d) sum_n pi w^2 */
	float *psum = acc + d;        /* (K) sum_n pi */
	int par = N * d >= TR_PAR_MIN;
	(void)par;
	for (int64_t b = 0; b < B; b++) {
		const float *wb = w + b * N * d;
		float *yb = y + b * N * d;
		TR_OMP(omp parallel if (par))
		{
			/* this thread's columns (multiples of 8, the row helpers' block) */
			int64_t th = TR_THREAD(), nt = TR_NTHREADS(), d8 = (d + 7) / 8;
			int64_t c0 = TR_MIN(d, d8 * th / nt * 8), c1 = TR_MIN(d, d8 * (th + 1) / nt * 8);
			/* 1. column norms over tokens */
			for (int64_t i = c0; i < c1; i++)
				rc[i] = 0.0f, acc[i] = 0.0f;
			for (int64_t n = 0; n < N; n++)
				tr_tssa_addsq(rc + c0, wb + n * d + c0, c1 - c0);
			for (int64_t i = c0; i < c1; i++) {
				float c = sqrtf(rc[i]);
				rc[i] = 1.0f / (c > eps_norm ? c : eps_norm);
			}
			TR_OMP(omp barrier)
			/* 2. pi per token (softmax over heads), parked in y */
			TR_OMP(omp for schedule(static))
			for (int64_t n = 0; n < N; n++) {
				const float *wr = wb + n * d;
				float *z = yb + n * d;
				float zmax = -INFINITY, zsum = 0.0f;
				for (int64_t k = 0; k < K; k++) {
					z[k] = temp[k] * tr_tssa_sumsq_scaled(wr + k * p, rc + k * p, p);
					zmax = z[k] > zmax ? z[k] : zmax;
				}
				for (int64_t k = 0; k < K; k++) {
					z[k] = expf(z[k] - zmax);
					zsum += z[k];
				}
				for (int64_t k = 0; k < K; k++)
					z[k] = z[k] / zsum;
			}
			/* (the implicit barrier of the loop: every pi is written) */
			/* moments, by this thread's columns; head k of column c0 .. */
			for (int64_t n = 0; n < N; n++) {
				const float *wr = wb + n * d, *pr = yb + n * d;
				for (int64_t c = c0; c < c1;) {
					int64_t k = c / p, e = TR_MIN(c1, (k + 1) * p);
					tr_tssa_addsq_scaled(acc + c, wr + c, pr[k], e - c);
					c = e;
				}
			}
			TR_OMP(omp single)
			{
				for (int64_t k = 0; k < K; k++)
					psum[k] = 0.0f;
				for (int64_t n = 0; n < N; n++)
					for (int64_t k = 0; k < K; k++)
						psum[k] += yb[n * d + k];
			}
			/* (the implicit barrier of single: psum is complete) */
			for (int64_t c = c0; c < c1; c++)
				rc[c] = 1.0f / (1.0f + acc[c] * (1.0f / (psum[c / p] + eps_pi)));
			TR_OMP(omp barrier)
			/* 3. output, heads last to first */
			TR_OMP(omp for schedule(static))
			for (int64_t n = 0; n < N; n++) {
				const float *wr = wb + n * d;
				float *yr = yb + n * d;
				for (int64_t k = K - 1; k >= 0; k--)
					tr_tssa_out(yr + k * p, wr + k * p, yr[k], rc + k * p, p);
			}
		}
	}
}
/*@end*/

/*@ tr_causal_tssa_row : tr_common */
/* sw (n) += x (n)^2; u (n) = x^2 / max(sw, eps) + bias */
TR_FN void tr_causal_tssa_terms(float *restrict sw, float *restrict u, const float *restrict x,
                                float eps, float bias, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++) {
			float v = x[i + q] * x[i + q];
			sw[i + q] += v;
			u[i + q] = v / (sw[i + q] > eps ? sw[i + q] : eps) + bias;
		}
	for (int q = 0; q < 8 && i + q < n; q++) {
		float v = x[i + q] * x[i + q];
		sw[i + q] += v;
		u[i + q] = v / (sw[i + q] > eps ? sw[i + q] : eps) + bias;
	}
}

/* sum of u (n), 8 partial sums */
TR_FN float tr_causal_tssa_sum(const float *restrict u, int64_t n)
{
	float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++)
			s[q] += u[i + q];
	for (int q = 0; q < 8 && i + q < n; q++)
		s[q] += u[i + q];
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* spw (n) += x^2 * a; y (n) = -(x * a) * (1 / (1 + spw / den)) */
TR_FN void tr_causal_tssa_out(float *restrict y, float *restrict spw, const float *restrict x,
                              float a, float den, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int q = 0; q < 8; q++) {
			float v = x[i + q];
			spw[i + q] += (v * v) * a;
			y[i + q] = -(v * a) * (1.0f / (1.0f + spw[i + q] / den));
		}
	for (int q = 0; q < 8 && i + q < n; q++) {
		float v = x[i + q];
		spw[i + q] += (v * v) * a;
		y[i + q] = -(v * a) * (1.0f / (1.0f + spw[i + q] / den));
	}
}

/*
 * One token t of causal TSSA, all K heads: the whole-sequence kernel and the
 * streaming step both call this, so they do the same arithmetic in the same
 * order.  w, y (K*p) the token's row; prefix statistics sw, spw (K*p), sp (K)
 * updated in place; temp (K); db (K, L, 1); scratch z (K), u (p).
 */
TR_FN void tr_causal_tssa_token(const float *wr, float *yr, float *sw, float *spw, float *sp,
                                const float *temp, const float *db, int64_t L, int64_t t,
                                int64_t K, int64_t p, float eps_norm, float eps_pi, float *z,
                                float *u)
{
	float zmax = -INFINITY, zsum = 0.0f;
	for (int64_t k = 0; k < K; k++) {
		tr_causal_tssa_terms(sw + k * p, u, wr + k * p, eps_norm, db[k * L + t], p);
		z[k] = tr_causal_tssa_sum(u, p) * temp[k];
		zmax = z[k] > zmax ? z[k] : zmax;
	}
	for (int64_t k = 0; k < K; k++) {
		z[k] = expf(z[k] - zmax);
		zsum += z[k];
	}
	for (int64_t k = 0; k < K; k++) {
		float pk = z[k] / zsum;
		sp[k] += pk;
		tr_causal_tssa_out(yr + k * p, spw + k * p, wr + k * p, pk, sp[k] + eps_pi, p);
	}
}
/*@end*/

/*@ tr_causal_tssa_f32 : tr_causal_tssa_row */
/*
 * causal TSSA, one sweep over tokens with running prefix statistics
 * (per batch item, head k, channel j):
 *   S_w  += w_t^2;   r_k = sum_j (w_t^2 / max(S_w, eps_norm) + db[k, t])
 *   pi_t  = softmax_k(temp[k] * r_k)
 *   S_p  += pi_t;    S_pw += pi_t w_t^2
 *   y_t   = -(w_t pi_t) * (1 / (1 + S_pw / (S_p + eps_pi)))
 * w (B, T, K*p), temp (K), db (K, L, 1) with T <= L -> y (B, T, K*p);
 * scratch 2*K*p + 2*K + p floats; y must not alias w.
 */
TR_FN void tr_causal_tssa_f32(const float *w, const float *temp, const float *db, float *y,
                              int64_t B, int64_t T, int64_t K, int64_t p, int64_t L,
                              float eps_norm, float eps_pi, float *scratch)
{
	int64_t d = K * p;
	float *sw = scratch;          /* (d) prefix sum of w^2 */
	float *spw = scratch + d;     /* (d) prefix sum of pi w^2 */
	float *sp = spw + d;          /* (K) prefix sum of pi */
	float *z = sp + K;            /* (K) logits, then pi */
	float *u = z + K;             /* (p) the terms of one head's r */
	for (int64_t b = 0; b < B; b++) {
		for (int64_t i = 0; i < d; i++)
			sw[i] = 0.0f, spw[i] = 0.0f;
		for (int64_t k = 0; k < K; k++)
			sp[k] = 0.0f;
		for (int64_t t = 0; t < T; t++) {
			const float *wr = w + (b * T + t) * d;
			float *yr = y + (b * T + t) * d;
			tr_causal_tssa_token(wr, yr, sw, spw, sp, temp, db, L, t, K, p, eps_norm, eps_pi,
			                     z, u);
		}
	}
}
/*@end*/
/*@ tr_causal_tssa_chunk_f32 : tr_causal_tssa_row */
/*
 * causal TSSA over a chunk of consecutive tokens of one sequence, starting
 * from the running statistics of the tokens before it (NAME_prefill;
 * stream.c): row t < *n, at position pos[t], goes through the same
 * arithmetic, in the same order, as a token of tr_causal_tssa_f32 or one
 * call of tr_causal_tssa_step_f32.  Rows t >= *n pad the chunk: their y is
 * zero and the statistics do not see them.
 * w (B, T, K*p), temp (K), db (K, L, 1), pos (T) with pos[t] < L for t < *n,
 * n (1) -> y (B, T, K*p); state (B, 2*K*p + K): per batch row S_w (K*p),
 * S_pw (K*p), S_p (K), read and updated in place; scratch K + p floats;
 * y must not alias w.
 */
TR_FN void tr_causal_tssa_chunk_f32(const float *w, const float *temp, const float *db,
                                    const int64_t *pos, const int64_t *n, float *y, float *state,
                                    int64_t B, int64_t T, int64_t K, int64_t p, int64_t L,
                                    float eps_norm, float eps_pi, float *scratch)
{
	int64_t d = K * p;
	float *z = scratch;           /* (K) logits, then pi */
	float *u = z + K;             /* (p) the terms of one head's r */
	for (int64_t b = 0; b < B; b++) {
		float *sw = state + b * (2 * d + K), *spw = sw + d, *sp = spw + d;
		for (int64_t t = 0; t < T; t++) {
			const float *wr = w + (b * T + t) * d;
			float *yr = y + (b * T + t) * d;
			if (t < *n) {
				tr_causal_tssa_token(wr, yr, sw, spw, sp, temp, db, L, pos[t], K, p, eps_norm,
				                     eps_pi, z, u);
				continue;
			}
			for (int64_t i = 0; i < d; i++)
				yr[i] = 0.0f;
		}
	}
}
/*@end*/

/*@ tr_causal_tssa_step_f32 : tr_causal_tssa_row */
/*
 * causal TSSA for ONE token of each of R independent sequences (the
 * streaming form; stream.c): row r is the token at position pos[r] of its
 * own sequence, with that sequence's prefix statistics kept by the caller
 * between calls; the same arithmetic, in the same order, as one t of
 * tr_causal_tssa_f32.  NAME_step has R = 1, NAME_step_batch one row per
 * sequence.
 * w (B, R, K*p), temp (K), db (K, L, 1), pos (R) with pos[r] < L
 * -> y (B, R, K*p); state (R, B, 2*K*p + K): per sequence and batch row
 * S_w (K*p), S_pw (K*p), S_p (K), read and updated in place (all zero before
 * position 0); scratch K + p floats; y must not alias w.
 */
TR_FN void tr_causal_tssa_step_f32(const float *w, const float *temp, const float *db,
                                   const int64_t *pos, float *y, float *state, int64_t B,
                                   int64_t R, int64_t K, int64_t p, int64_t L, float eps_norm,
                                   float eps_pi, float *scratch)
{
	int64_t d = K * p;
	float *z = scratch;           /* (K) logits, then pi */
	float *u = z + K;             /* (p) the terms of one head's r */
	for (int64_t b = 0; b < B; b++)
		for (int64_t r = 0; r < R; r++) {
			const float *wr = w + (b * R + r) * d;
			float *yr = y + (b * R + r) * d;
			float *sw = state + (r * B + b) * (2 * d + K), *spw = sw + d, *sp = spw + d;
			tr_causal_tssa_token(wr, yr, sw, spw, sp, temp, db, L, pos[r], K, p, eps_norm,
			                     eps_pi, z, u);
		}
}
/*@end*/

/*@ tr_pos_slice_f32 : tr_common */
/* the slices at positions pos[0..R-1] of a position-indexed table (stream.c),
 * each position clamped to 0..L-1 (the padding rows of a chunk may run past
 * the table): table (outer, L, inner), pos (R) -> y (outer, R, inner) */
TR_FN void tr_pos_slice_f32(const float *table, const int64_t *pos, float *y, int64_t outer,
                            int64_t L, int64_t inner, int64_t R)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t r = 0; r < R; r++) {
			int64_t t = pos[r] < 0 ? 0 : pos[r] >= L ? L - 1 : pos[r];
			const float *src = table + (o * L + t) * inner;
			float *dst = y + (o * R + r) * inner;
			for (int64_t i = 0; i < inner; i++)
				dst[i] = src[i];
		}
}
/*@end*/
#endif
