/*
 * rt_mlp.h -- the fused MLP half of a transformer block (op MlpBlock, made by
 * compiler/fuse_mlp.c): y = x + gamma * fc2(gelu(fc1(LayerNorm(x)))), run on
 * tiles of tm token rows so that the (rows, h) hidden activation only ever
 * exists as one (tm, h) tile of scratch.  It calls the same kernels the
 * unfused ops call (tr_layernorm_f32, the GEMM on compile-time packed weights,
 * tr_gelu_f32), in the same order per element, so it is bitwise equal to the
 * unfused graph whenever that has 4 rows or more (below that the unfused Gemm
 * takes the GEMM's small-m path: equal to float rounding).
 */
#ifndef TOSTC_RT_MLP_H
#define TOSTC_RT_MLP_H
#include "rt_common.h"
#include "rt_fused.h"
#include "rt_linalg.h"

/*@ tr_mlp_block_f32 : tr_sgemm_impl tr_layernorm_f32 tr_gelu_f32 */
/* floats rounded up to 16: scratch pieces stay 64-byte aligned */
#ifndef TR_MLP_R16
#define TR_MLP_R16(n) (((n) + 15) / 16 * 16)
#endif
/*
 * x (rows, d), ln scale/bias (d), w1 (d, h), b1 (h), w2 (h, d), b2 (d), gamma (d)
 * -> y (rows, d);  y = x + gamma * (gelu(LN(x) @ w1 + b1) @ w2 + b2)
 * w1 and w2 are packed by tr_gemm_prepack_f32 when the model is compiled.
 * Absent biases are flagged off by has_lb / has_b1 / has_b2.  y may alias x
 * (each tile of x is read before its rows of y are written).
 * scratch (floats, each piece rounded up to 16): ln (tm, d), hidden (tm, h),
 * out (tm, d), mean (tm), rstd (tm), then tr_sgemm packing for both GEMMs.
 */
TR_FN void tr_mlp_block_f32(const float *x, const float *ls, const float *lb, const float *w1,
                            const float *b1, const float *w2, const float *b2,
                            const float *gamma, float *y, float *scratch, int64_t rows, int64_t d,
                            int64_t h, int64_t tm, float eps, int64_t has_lb, int64_t has_b1,
                            int64_t has_b2)
{
	float *ln = scratch, *hid = ln + TR_MLP_R16(tm * d), *o = hid + TR_MLP_R16(tm * h);
	float *mean = o + TR_MLP_R16(tm * d), *rstd = mean + TR_MLP_R16(tm);
	float *pack = rstd + TR_MLP_R16(tm);
	for (int64_t r0 = 0; r0 < rows; r0 += tm) {
		int64_t mt = TR_MIN(tm, rows - r0);
		const float *xt = x + r0 * d;
		float *yt = y + r0 * d;
		tr_layernorm_f32(xt, ls, lb, ln, mean, rstd, mt, d, eps, 1, has_lb, 1);
		if (has_b1) {
			TR_OMP(omp parallel for schedule(static) if (mt * h >= TR_PAR_MIN))
			for (int64_t i = 0; i < mt; i++)
				for (int64_t j = 0; j < h; j++)
					hid[i * h + j] = b1[j];
		}
		tr_sgemm_impl(mt, h, d, 1.0f, ln, d, 1, (const float *)0, 0, 0, w1, hid, h, (int)has_b1,
		              pack);
		tr_gelu_f32(hid, hid, mt * h);
		if (has_b2) {
			TR_OMP(omp parallel for schedule(static) if (mt * d >= TR_PAR_MIN))
			for (int64_t i = 0; i < mt; i++)
				for (int64_t j = 0; j < d; j++)
					o[i * d + j] = b2[j];
		}
		tr_sgemm_impl(mt, d, h, 1.0f, hid, h, 1, (const float *)0, 0, 0, w2, o, d, (int)has_b2,
		              pack);
		TR_OMP(omp parallel for schedule(static) if (mt * d >= TR_PAR_MIN))
		for (int64_t i = 0; i < mt; i++)
			for (int64_t j = 0; j < d; j++)
				yt[i * d + j] = xt[i * d + j] + gamma[j] * o[i * d + j];
	}
}
/*@end*/
#endif
