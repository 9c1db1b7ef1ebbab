/*
 * epilogue.h -- the work tr_sgemm does on each output tile while it is in
 * cache: a bias or a start added, the GELU, LayerScale and a residual
 * (TrEpi).  Portable C, blocks of 16 that gcc vectorises.
 */
#ifndef TOSTC_RT_GEMM_EPILOGUE_H
#define TOSTC_RT_GEMM_EPILOGUE_H
#include "../elementwise/act.h"

/*@ tr_gemm_epilogue : tr_common tr_gelu_row tr_act_row */
/*
 * An epilogue applied to each tile of the product while it is in cache (the
 * passes over y it replaces would read and write the whole output again).
 * It keeps the unfused order of operations, so results are bitwise those of
 * the separate passes:
 *   start  on the first k block, instead of filling y and accumulating (the
 *          caller's accumulate is 0): y = (start[i][j] + beta * bias[j]) + p,
 *          or start[i][j] + p, or beta * bias[j] + p, where p = alpha * (a @ b),
 *          with bias (n) and start (m, n) row stride lds each optional; or
 *          y = rbias[i] + p, with rbias (m) a bias per row (a convolution's
 *          per output channel)
 *   gelu   on the last k block, y = gelu(y) (tr_gelu_row)
 *   out    on the last k block, out[i][j] = res[i][j] + gamma[j] * y[i][j],
 *          row strides ldo and ldr (out may be res: element by element)
 *   post   on the last k block, a convolution's activations and residual
 *          (TrAct, elementwise/act.h), at the tile's rows and columns
 * y must not alias start, bias, gamma or res.
 */
typedef struct {
	const float *bias, *start;
	float beta;
	int64_t lds;
	int gelu;
	float *out;
	const float *res, *gamma;
	int64_t ldo, ldr;
	const float *rbias;
	const TrAct *post;
} TrEpi;

/* y (n) = beta * b (n) + y (n); blocks of 16, as gcc -O2 vectorises only
 * fixed trip counts (and honours restrict only on parameters) */
TR_FN void tr_epi_add(float *restrict y, const float *restrict b, float beta, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = beta * b[c + l] + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)   /* bounded tail: see tr_gelu_span */
		y[c + l] = beta * b[c + l] + y[c + l];
}

/* y (n) = (s (n) + beta * b (n)) + y (n) */
TR_FN void tr_epi_add2(float *restrict y, const float *restrict s, const float *restrict b,
                       float beta, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = (s[c + l] + beta * b[c + l]) + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = (s[c + l] + beta * b[c + l]) + y[c + l];
}

/* y (n) = s + y (n) */
TR_FN void tr_epi_addc(float *restrict y, float s, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = s + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = s + y[c + l];
}

/* y (n) = s (n) + y (n) */
TR_FN void tr_epi_add1(float *restrict y, const float *restrict s, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16)
		for (int l = 0; l < 16; l++)
			y[c + l] = s[c + l] + y[c + l];
	for (int l = 0; l < 16 && c + l < n; l++)
		y[c + l] = s[c + l] + y[c + l];
}

/* out (n) = x (n) + g (n) * y (n); out may be x, not y: blocks of 16 through
 * a local array (every load of a block before its stores) vectorise anyway */
TR_FN void tr_epi_scale_add(float *out, const float *x, const float *restrict g,
                            const float *restrict y, int64_t n)
{
	int64_t c = 0;
	for (; c + 16 <= n; c += 16) {
		float v[16];
		for (int l = 0; l < 16; l++)
			v[l] = x[c + l] + g[c + l] * y[c + l];
		for (int l = 0; l < 16; l++)
			out[c + l] = v[l];
	}
	for (int l = 0; l < 16 && c + l < n; l++)
		out[c + l] = x[c + l] + g[c + l] * y[c + l];
}

/* the epilogue on the tile y (mr, nr), row stride ldy, at row i, column j of the product */
TR_FN void tr_gemm_epi_tile(const TrEpi *e, int first, int last, float *y, int64_t ldy, int64_t i,
                            int64_t j, int64_t mr, int64_t nr)
{
	const float *bias = first ? e->bias : (const float *)0;
	const float *start = first ? e->start : (const float *)0;
	const float *rbias = first ? e->rbias : (const float *)0;
	int gelu = last && e->gelu;
	float *out = last ? e->out : (float *)0;
	for (int64_t r = 0; r < mr; r++) {
		float *yr = y + r * ldy;
		if (start && bias)
			tr_epi_add2(yr, start + (i + r) * e->lds + j, bias + j, e->beta, nr);
		else if (start)
			tr_epi_add1(yr, start + (i + r) * e->lds + j, nr);
		else if (bias)
			tr_epi_add(yr, bias + j, e->beta, nr);
		else if (rbias)
			tr_epi_addc(yr, rbias[i + r], nr);
		if (gelu)
			tr_gelu_row(yr, nr);
		/* out may be res (element by element), but neither is y */
		if (out)
			tr_epi_scale_add(out + (i + r) * e->ldo + j, e->res + (i + r) * e->ldr + j,
			                 e->gamma + j, yr, nr);
		if (last && e->post)
			tr_act_apply(e->post, yr, i + r, j, nr);
	}
}
/*@end*/
#endif
