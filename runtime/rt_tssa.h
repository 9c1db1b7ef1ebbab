/*
 * rt_tssa.h -- fused Token Statistics Self-Attention kernels (ToST).
 *
 * Both kernels take the projected tokens w (B, N, d), d = K heads x p
 * channels (head k owns channels k*p .. k*p+p-1, the layout a head split
 * `reshape (B, N, K, p)` gives), and write y (B, N, d), the heads already
 * merged back, ready for the output projection.  No N x N (or N x K) buffer
 * exists: statistics are O(d) floats of scratch, time is linear in N.
 *
 * Numerics mirror the unfused ONNX graph of the official code: the norm
 * clamp is max(., eps_norm), pi is a max-subtracted softmax over heads of
 * temp[k] * s, moments are divided by (sum pi + eps_pi), and the output is
 * -(w * pi) * (1 / (1 + m)).  Only the summation order of the norms differs
 * from the graph (a running sum over tokens, as CumSum / ReduceSum do).
 */
#ifndef TOSTC_RT_TSSA_H
#define TOSTC_RT_TSSA_H
#include "rt_common.h"

/*@ tr_tssa_f32 : tr_common */
/*
 * vision TSSA, three sweeps over w per batch item:
 *   1. c[k,j]   = max(sqrt(sum_n w[n,k,j]^2), eps_norm)         column norms
 *   2. s[n,k]   = sum_j (w[n,k,j] / c[k,j])^2
 *      pi[n,k]  = softmax_k(temp[k] * s[n,k])                   (kept in y)
 *      m[k,j]   = sum_n pi[n,k] w[n,k,j]^2 / (sum_n pi[n,k] + eps_pi)
 *   3. y[n,k,j] = -(w[n,k,j] pi[n,k]) * (1 / (1 + m[k,j]))
 * w (B, N, K*p), temp (K) -> y (B, N, K*p); scratch 2*K*p + 3*K floats.
 * Sweep 2 parks pi[n, 0..K-1] in row n of y (d >= K), sweep 3 reads it back
 * before overwriting the row; y must not alias w.
 */
TR_FN void tr_tssa_f32(const float *w, const float *temp, float *y, int64_t B, int64_t N,
                       int64_t K, int64_t p, float eps_norm, float eps_pi, float *scratch)
{
	int64_t d = K * p, p4 = p - p % 4;
	float *rc = scratch;          /* (d) 1 / c, then 1 / (1 + m) */
	float *acc = scratch + d;     /* (d) sum_n pi w^2 */
	float *psum = acc + d;        /* (K) sum_n pi */
	float *z = psum + K;          /* (K) logits, then pi of one token */
	float *pis = z + K;           /* (K) pi of one token (sweep 3) */
	for (int64_t b = 0; b < B; b++) {
		const float *wb = w + b * N * d;
		float *yb = y + b * N * d;
		/* 1. column norms over tokens */
		for (int64_t i = 0; i < d; i++)
			rc[i] = 0.0f, acc[i] = 0.0f;
		for (int64_t n = 0; n < N; n++) {
			const float *wr = wb + n * d;
			for (int64_t i = 0; i < d; i++)
				rc[i] += wr[i] * wr[i];
		}
		for (int64_t i = 0; i < d; i++) {
			float c = sqrtf(rc[i]);
			rc[i] = 1.0f / (c > eps_norm ? c : eps_norm);
		}
		/* 2. pi per token (softmax over heads) and moments */
		for (int64_t k = 0; k < K; k++)
			psum[k] = 0.0f;
		for (int64_t n = 0; n < N; n++) {
			const float *wr = wb + n * d;
			float zmax = -INFINITY, zsum = 0.0f;
			for (int64_t k = 0; k < K; k++) {
				const float *wk = wr + k * p, *rk = rc + k * p;
				float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
				int64_t j = 0;
				/* four partial sums: no serial add chain (separate bound p4:
				 * keeps gcc's loop analysis sane) */
				for (; j < p4; j += 4) {
					float u0 = wk[j] * rk[j], u1 = wk[j + 1] * rk[j + 1];
					float u2 = wk[j + 2] * rk[j + 2], u3 = wk[j + 3] * rk[j + 3];
					s0 += u0 * u0;
					s1 += u1 * u1;
					s2 += u2 * u2;
					s3 += u3 * u3;
				}
				for (; j < p; j++) {
					float u = wk[j] * rk[j];
					s0 += u * u;
				}
				z[k] = temp[k] * ((s0 + s1) + (s2 + s3));
				zmax = z[k] > zmax ? z[k] : zmax;
			}
			for (int64_t k = 0; k < K; k++) {
				z[k] = expf(z[k] - zmax);
				zsum += z[k];
			}
			for (int64_t k = 0; k < K; k++) {
				float pk = z[k] / zsum;
				float *ak = acc + k * p;
				const float *wk = wr + k * p;
				psum[k] += pk;
				for (int64_t j = 0; j < p; j++)
					ak[j] += pk * (wk[j] * wk[j]);
				yb[n * d + k] = pk;
			}
		}
		for (int64_t k = 0; k < K; k++) {
			float inv = 1.0f / (psum[k] + eps_pi);
			for (int64_t j = 0; j < p; j++)
				rc[k * p + j] = 1.0f / (1.0f + acc[k * p + j] * inv);
		}
		/* 3. output */
		for (int64_t n = 0; n < N; n++) {
			const float *wr = wb + n * d;
			float *yr = yb + n * d;
			for (int64_t k = 0; k < K; k++)
				pis[k] = yr[k];
			for (int64_t k = 0; k < K; k++) {
				float pk = pis[k];
				for (int64_t j = 0; j < p; j++)
					yr[k * p + j] = -(wr[k * p + j] * pk) * rc[k * p + j];
			}
		}
	}
}
/*@end*/

/*@ tr_causal_tssa_f32 : tr_common */
/*
 * causal TSSA, one sweep over tokens with running prefix statistics
 * (per batch item, head k, channel j):
 *   S_w  += w_t^2;   r_k = sum_j (w_t^2 / max(S_w, eps_norm) + db[k, t])
 *   pi_t  = softmax_k(temp[k] * r_k)
 *   S_p  += pi_t;    S_pw += pi_t w_t^2
 *   y_t   = -(w_t pi_t) * (1 / (1 + S_pw / (S_p + eps_pi)))
 * w (B, T, K*p), temp (K), db (K, L, 1) with T <= L -> y (B, T, K*p);
 * scratch 2*K*p + 2*K + p floats.  y may alias w (each row is read before it
 * is written).
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
			float zmax = -INFINITY, zsum = 0.0f;
			for (int64_t k = 0; k < K; k++) {
				const float *wk = wr + k * p;
				float *sk = sw + k * p;
				float bias = db[k * L + t], r0 = 0.0f, r1 = 0.0f, r2 = 0.0f, r3 = 0.0f;
				int64_t j;
				/* vectorisable: prefix sums and terms; then four partial sums */
				for (j = 0; j < p; j++) {
					float q = wk[j] * wk[j];
					sk[j] += q;
					u[j] = q / (sk[j] > eps_norm ? sk[j] : eps_norm) + bias;
				}
				for (j = 0; j < p - p % 4; j += 4) {
					r0 += u[j];
					r1 += u[j + 1];
					r2 += u[j + 2];
					r3 += u[j + 3];
				}
				for (; j < p; j++)
					r0 += u[j];
				z[k] = ((r0 + r1) + (r2 + r3)) * temp[k];
				zmax = z[k] > zmax ? z[k] : zmax;
			}
			for (int64_t k = 0; k < K; k++) {
				z[k] = expf(z[k] - zmax);
				zsum += z[k];
			}
			for (int64_t k = 0; k < K; k++) {
				float pk = z[k] / zsum;
				float *ak = spw + k * p;
				float den;
				sp[k] += pk;
				den = sp[k] + eps_pi;
				for (int64_t j = 0; j < p; j++) {
					float wv = wr[k * p + j];
					ak[j] += (wv * wv) * pk;
					yr[k * p + j] = -(wv * pk) * (1.0f / (1.0f + ak[j] / den));
				}
			}
		}
	}
}
/*@end*/
#endif
