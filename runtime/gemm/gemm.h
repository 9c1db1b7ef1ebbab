/*
 * gemm.h -- the kernels of MatMul and Gemm (compiler/ops/op_linalg.c), all
 * on tr_sgemm: B packed at run time or a weight packed at compile time, a
 * bias or a start added as the epilogue, only the parts of the output its
 * readers use (compiler/passes/demand.c), broadcast batches.
 */
#ifndef TOSTC_RT_GEMM_GEMM_H
#define TOSTC_RT_GEMM_GEMM_H
#include "sgemm.h"

/*@ tr_gemm_prepack_f32 : tr_gemm_config */
/*
 * Pack op(b) (k, n) (op(b)[p][j] = b[p*brs + j*bcs]) for tr_sgemm_impl's bpre:
 * per k block of KC rows, strips of TR_GEMM_PB columns zero-padded past n, each
 * strip (kc, PB) row-major -> dst, k * round_up(n, PB) floats.  PB = 32 is a
 * multiple of every path's NR, so one packed weight serves every target.
 */
TR_FN void tr_gemm_prepack_f32(const float *b, int64_t brs, int64_t bcs, float *dst, int64_t k,
                               int64_t n)
{
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	for (int64_t k0 = 0; k0 < k; k0 += TR_GEMM_KC) {
		int64_t kc = TR_MIN(TR_GEMM_KC, k - k0);
		for (int64_t js = 0; js < npad; js += TR_GEMM_PB)
			for (int64_t p = 0; p < kc; p++)
				for (int64_t j = 0; j < TR_GEMM_PB; j++)
					dst[k0 * npad + js * kc + p * TR_GEMM_PB + j] =
						js + j < n ? b[(k0 + p) * brs + (js + j) * bcs] : 0.0f;
	}
}
/*@end*/

/*@ tr_gemm_f32 : tr_sgemm */
/* y (m, n) = alpha * A' (m, k) @ B' (k, n) [+ y when accumulate];
 * A' = trans_a ? a (k, m)^T : a (m, k);  B' = trans_b ? b (n, k)^T : b (k, n) */
TR_FN void tr_gemm_f32(const float *a, const float *b, float *y, float *pack, int64_t m,
                       int64_t k, int64_t n, int64_t trans_a, int64_t trans_b, float alpha,
                       int64_t accumulate)
{
	tr_sgemm(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, b, trans_b ? 1 : n,
	         trans_b ? k : 1, y, n, (int)accumulate, pack);
}
/*@end*/

/*@ tr_gemm_packed_f32 : tr_sgemm_impl */
/* y (m, n) = alpha * A' (m, k) @ B (k, n) [+ y when accumulate], A' = trans_a ? a (k, m)^T :
 * a (m, k); B a weight packed by tr_gemm_prepack_f32 when the model was compiled */
TR_FN void tr_gemm_packed_f32(const float *a, const float *bp, float *y, float *pack, int64_t m,
                              int64_t k, int64_t n, int64_t trans_a, float alpha,
                              int64_t accumulate)
{
	tr_sgemm_impl(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, (const float *)0, 0, 0, bp,
	              y, n, (int)accumulate, pack);
}
/*@end*/

/*@ tr_gemm_packed_start_f32 : tr_sgemm_epi */
/* y (m, n) = [gelu](([start (m, n) +] [beta * bias (n) +] alpha * A' (m, k) @ B (k, n)), the
 * start and bias added and the GELU applied as each output tile is made (TrEpi), in
 * the order the separate fill, accumulate and Gelu would; A' = trans_a ? a (k, m)^T
 * : a (m, k); B a weight packed when the model was compiled; y must not alias start */
TR_FN void tr_gemm_packed_start_f32(const float *a, const float *bp, const float *bias,
                                    const float *start, float *y, float *pack, int64_t m,
                                    int64_t k, int64_t n, int64_t trans_a, float alpha,
                                    float beta, int64_t has_bias, int64_t has_start,
                                    int64_t gelu)
{
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	e.bias = has_bias ? bias : (const float *)0;
	e.start = has_start ? start : (const float *)0;
	e.beta = beta;
	e.lds = n;
	e.gelu = gelu != 0;
	tr_sgemm_epi(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, (const float *)0, 0, 0, bp,
	             y, n, 0, pack, &e);
}
/*@end*/

/*@ tr_gemm_packed_parts_f32 : tr_sgemm_part */
/* tr_gemm_packed_start_f32 without a start, on np parts of y (m, ldy) only:
 * bp holds n packed columns, columns [off, off + n) of the weight; part p is
 * rows [parts[4p], parts[4p+1]) x columns [parts[4p+2], parts[4p+3]) of
 * those n, its first column a multiple of TR_GEMM_PB (compiler/passes/demand.c
 * finds the parts that the readers of y use); the rest of y is not written */
TR_FN void tr_gemm_packed_parts_f32(const float *a, const float *bp, const float *bias, float *y,
                                    float *pack, int64_t m, int64_t k, int64_t n, int64_t ldy,
                                    int64_t off, float alpha, float beta, int64_t has_bias,
                                    int64_t np, const int64_t *parts)
{
	TrEpi e = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	(void)m;
	e.bias = has_bias ? bias + off : (const float *)0;
	e.beta = beta;
	for (int64_t p = 0; p < np; p++)
		tr_sgemm_part(parts[4 * p], parts[4 * p + 1], parts[4 * p + 2], parts[4 * p + 3], n, k,
		              alpha, a, k, 1, (const float *)0, 0, 0, bp, y + off, ldy, 0, pack, &e);
}
/*@end*/

/*@ tr_gemm_bias_f32 : tr_common */
/* c (cm, cn) broadcast to (m, n), cm in {1, m}, cn in {1, n} -> y (m, n) = beta * c */
TR_FN void tr_gemm_bias_f32(const float *c, float *y, int64_t m, int64_t n, int64_t cm,
                            int64_t cn, float beta)
{
	TR_OMP(omp parallel for schedule(static) if (m * n >= TR_PAR_MIN))
	for (int64_t i = 0; i < m; i++) {
		const float *cr = c + (cm == 1 ? 0 : i * cn);
		float *yr = y + i * n;
		if (cn == 1)
			for (int64_t j = 0; j < n; j++)
				yr[j] = beta * cr[0];
		else
			for (int64_t j = 0; j < n; j++)
				yr[j] = beta * cr[j];
	}
}
/*@end*/

/*@ tr_gemm_residual_f32 : tr_common */
/* r (m, n) + beta * c (cm, cn) broadcast -> y (m, n); no c when has_c is 0:
 * the start of a GemmResidual, whose product is then accumulated into y */
TR_FN void tr_gemm_residual_f32(const float *c, const float *r, float *y, int64_t m, int64_t n,
                                int64_t cm, int64_t cn, float beta, int64_t has_c)
{
	TR_OMP(omp parallel for schedule(static) if (m * n >= TR_PAR_MIN))
	for (int64_t i = 0; i < m; i++) {
		const float *rr = r + i * n;
		float *yr = y + i * n;
		if (!has_c) {
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j];
			continue;
		}
		const float *cr = c + (cm == 1 ? 0 : i * cn);
		if (cn == 1)
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j] + beta * cr[0];
		else
			for (int64_t j = 0; j < n; j++)
				yr[j] = rr[j] + beta * cr[j];
	}
}
/*@end*/

/*@ tr_matmul_f32 : tr_sgemm */
/*
 * Batched matmul with broadcast batch dims: for every batch index (i_0..i_{nb-1})
 * of bdims, y[batch] (m, n) = a[batch] (m, k) @ b[batch] (k, n), where the
 * batch's matrix starts at sum(i_d * astr[d]) in a and sum(i_d * bstr[d]) in b
 * (strides in elements, 0 on broadcast dims); y is contiguous.
 */
TR_FN void tr_matmul_f32(const float *a, const float *b, float *y, float *pack, int64_t m,
                         int64_t k, int64_t n, int64_t nb, const int64_t *bdims,
                         const int64_t *astr, const int64_t *bstr)
{
	int64_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 1, ao = 0, bo = 0;
	for (int64_t d = 0; d < nb; d++)
		total *= bdims[d];
	for (int64_t t = 0; t < total; t++) {
		tr_sgemm(m, n, k, 1.0f, a + ao, k, 1, b + bo, n, 1, y + t * m * n, n, 0, pack);
		/* odometer over the batch dims, last fastest */
		for (int64_t d = nb - 1; d >= 0; d--) {
			ao += astr[d];
			bo += bstr[d];
			if (++idx[d] < bdims[d])
				break;
			ao -= astr[d] * bdims[d];
			bo -= bstr[d] * bdims[d];
			idx[d] = 0;
		}
	}
}
/*@end*/

#endif
