/*
 * mlp.h -- the fused MLP half of a transformer block (op MlpBlock, made by
 * compiler/passes/fuse_mlp.c): y = x + gamma * fc2(gelu(fc1(LayerNorm(x)))), run on
 * tiles of tm token rows so that the (rows, h) hidden activation only ever
 * exists as one (tm, h) tile of scratch.  Bias, GELU, LayerScale and the
 * residual are GEMM epilogues (TrEpi), done on each output tile while it is
 * in cache.  Every element goes through the same operations in the same order
 * as in the unfused kernels (tr_layernorm_f32, the GEMM on compile-time packed
 * weights after a bias fill, tr_gelu_f32, the residual Mul and Add), so it is
 * bitwise equal to the unfused graph whenever that has 4 rows or more (below
 * that the unfused Gemm takes the GEMM's small-m path: equal to float
 * rounding); tests/paths/paths_test.c checks it on every micro-kernel path.
 */
#ifndef TOSTC_RT_MLP_MLP_H
#define TOSTC_RT_MLP_MLP_H
#include "../gemm/sgemm.h"
#include "../norm/layernorm.h"

/*@ tr_mlp_block_f32 : tr_sgemm_epi tr_layernorm_f32 */
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
	/* fc1's epilogue adds b1 and applies GELU; fc2's adds b2 and writes
	 * x + gamma * (.) to y, tile by tile while each is in cache */
	TrEpi e1 = {0, 0, 1.0f, 0, 1, 0, 0, 0, 0, 0, 0, 0}, e2 = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	e1.bias = has_b1 ? b1 : (const float *)0;
	e2.bias = has_b2 ? b2 : (const float *)0;
	e2.gamma = gamma;
	e2.ldo = e2.ldr = d;
	/* tiles of at most one m block of the GEMM (252 rows with AVX-512 or
	 * AVX2, 256 else; the scratch is sized for tm), as even as whole panels
	 * allow (tr_gemm_mblock): 256 rows as 140 + 116 with AVX-512 (10 panels,
	 * then 4 of 14 rows and 5 of 12), not 252 + 4, whose 4-row tile would
	 * stream all of w1 and w2 again for one panel; rows are independent, so
	 * the results do not change */
	int64_t tt = TR_MIN(tm, TR_GEMM_MC), nt = tr_gemm_mblocks(rows, tt);
	for (int64_t t = 0; t < nt; t++) {
		int64_t r0, r1;
		tr_gemm_mblock(rows, tt, nt, t, &r0, &r1);
		int64_t mt = r1 - r0;
		tr_layernorm_f32(x + r0 * d, ls, lb, ln, mean, rstd, mt, d, eps, 1, has_lb, 1);
		tr_sgemm_epi(mt, h, d, 1.0f, ln, d, 1, (const float *)0, 0, 0, w1, hid, h, 0, pack, &e1);
		e2.out = y + r0 * d;
		e2.res = x + r0 * d;
		tr_sgemm_epi(mt, d, h, 1.0f, hid, h, 1, (const float *)0, 0, 0, w2, o, d, 0, pack, &e2);
	}
}
/*@end*/
#endif
