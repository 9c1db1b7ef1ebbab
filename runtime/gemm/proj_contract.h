/*
 * proj_contract.h -- a contraction with a projection absorbed into it (op
 * ProjContract, made by compiler/passes/fuse_absorb.c): gathered rows, fma
 * chains in a fixed order, no GEMM blocking.
 */
#ifndef TOSTC_RT_GEMM_PROJ_CONTRACT_H
#define TOSTC_RT_GEMM_PROJ_CONTRACT_H
#include "sgemm.h"

/*@ tr_proj_contract_f32 : tr_common tr_sgemm_axpy */
/* v (n) += w[0] * p0 (n) + ... + w[3] * p3 (n): four rows in one pass, each
 * element the same fma chain as four tr_sgemm_axpy calls in order */
TR_FN void tr_pc_axpy4(float *restrict v, const float *restrict p0, const float *restrict p1,
                       const float *restrict p2, const float *restrict p3, const float *w,
                       int64_t n)
{
	float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
	int64_t i = 0;
#define TR_PC_AXPY4(i)                                                                    \
	TR_FMA(w3, p3[i], TR_FMA(w2, p2[i], TR_FMA(w1, p1[i], TR_FMA(w0, p0[i], v[i]))))
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			v[i + l] = TR_PC_AXPY4(i + l);
	for (int l = 0; l < 16 && i + l < n; l++)   /* bounded: see tr_gelu_span */
		v[i + l] = TR_PC_AXPY4(i + l);
#undef TR_PC_AXPY4
}

/* a (n) . b (n): 16 ordered lanes, then their sum in order */
TR_FN float tr_pc_dot(const float *restrict a, const float *restrict b, int64_t n)
{
	float lane[16], d = 0.0f;
	int64_t i = 0;
	for (int l = 0; l < 16; l++)
		lane[l] = 0.0f;
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			lane[l] = TR_FMA(a[i + l], b[i + l], lane[l]);
	for (int l = 0; l < 16 && i + l < n; l++)
		lane[l] = TR_FMA(a[i + l], b[i + l], lane[l]);
	for (int l = 0; l < 16; l++)
		d += lane[l];
	return d;
}

/*
 * A contraction with a projection absorbed (op ProjContract, made by
 * compiler/passes/fuse_absorb.c).  For every output element s:
 *
 *   y[s] = v[grp[s]] . q[qrow[s]]  (+ the bias term below),
 *   v[g] = sum_t u[ia[g][t]] * p[prow[g][t]]   (rows of `in` floats),
 *
 * with u (the other operand of the contraction) read at run time, p and q
 * row-major matrices of `in` columns (one of them the projection's input
 * tokens, the other its weight columns gathered when the model was
 * compiled).  bias 1: y[s] += sum_t u[ia[g][t]] * b[prow[g][t]]; bias 2:
 * y[s] += b[qrow[s]] * sum_t u[ia[g][t]]; bias 0: none.  ia, prow (ng, nt),
 * grp, qrow (ns).  scratch: ng * in + ng floats (v, then the sums).  Each
 * v[g] is one ordered fma chain over t, each dot 16 ordered lanes then their
 * sum: the same result run to run.
 */
TR_FN void tr_proj_contract_f32(const float *u, const float *p, const float *q, const float *b,
                                const int64_t *ia, const int64_t *prow, const int64_t *grp,
                                const int64_t *qrow, float *y, float *scratch, int64_t ng,
                                int64_t nt, int64_t ns, int64_t in, int64_t bias)
{
	float *v = scratch, *sum = scratch + ng * in;
	for (int64_t g = 0; g < ng; g++) {
		const int64_t *ig = ia + g * nt, *pg = prow + g * nt;
		float *vg = v + g * in, s = 0.0f;
		for (int64_t i = 0; i < in; i++)
			vg[i] = 0.0f;
		for (int64_t t = 0; t < nt; t++)
			s = bias == 1 ? TR_FMA(u[ig[t]], b[pg[t]], s) : s + u[ig[t]];
		int64_t t = 0;
		for (; t + 4 <= nt; t += 4) {
			float w[4] = {u[ig[t]], u[ig[t + 1]], u[ig[t + 2]], u[ig[t + 3]]};
			tr_pc_axpy4(vg, p + pg[t] * in, p + pg[t + 1] * in, p + pg[t + 2] * in,
			            p + pg[t + 3] * in, w, in);
		}
		for (int r = 0; r < 3 && t < nt; r++, t++)   /* bounded: see tr_gelu_span */
			tr_sgemm_axpy(vg, p + pg[t] * in, u[ig[t]], in);
		sum[g] = s;
	}
	for (int64_t e = 0; e < ns; e++) {
		float d = tr_pc_dot(v + grp[e] * in, q + qrow[e] * in, in);
		if (bias == 1)
			d += sum[grp[e]];
		else if (bias == 2)
			d = TR_FMA(b[qrow[e]], sum[grp[e]], d);
		y[e] = d;
	}
}
/*@end*/
#endif
