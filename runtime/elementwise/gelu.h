/*
 * gelu.h -- the exact GELU, gelu(x) = x * (1 + erf(x / sqrt 2)) * 0.5 in the
 * association PyTorch exports: op Gelu (made by fuse_common.c) and the GEMM
 * epilogues (gemm/epilogue.h).
 *
 * All of it goes through tr_gelu_span, one per instruction set: gelu_avx512.h
 * and gelu_avx2.h (a piecewise polynomial erf on whole vectors) or
 * gelu_scalar.h (a rational erf that gcc vectorises); TR_GELU_VW, set here
 * from the target flags, picks one.  Each path's result for an element does
 * not depend on where the element sits in a row.
 */
#ifndef TOSTC_RT_ELEMENTWISE_GELU_H
#define TOSTC_RT_ELEMENTWISE_GELU_H
#include "../common.h"

/*@ tr_gelu_isa : tr_common */
/* floats per vector of the GELU's intrinsics path; none: portable C */
#if !defined(TR_NO_SIMD) && defined(__AVX512F__)
#define TR_GELU_VW 16
#include <immintrin.h>
#elif !defined(TR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define TR_GELU_VW 8
#include <immintrin.h>
#endif
/*@end*/

#include "gelu_avx512.h"
#include "gelu_avx2.h"
#include "gelu_scalar.h"

/*@ tr_gelu_row : tr_gelu_avx512 tr_gelu_avx2 tr_gelu_scalar */
/* y (n) = gelu(y) in place: the GEMM epilogue's row helper */
TR_FN void tr_gelu_row(float *y, int64_t n)
{
	tr_gelu_span(y, y, n);
}
/*@end*/

/*@ tr_gelu_f32 : tr_gelu_avx512 tr_gelu_avx2 tr_gelu_scalar */
/* x (n) -> y (n) = gelu(x); y may be x.  Blocks of 1024 elements through
 * tr_gelu_span, so every element goes through the same code as in a GEMM
 * epilogue, whatever its position */
TR_FN void tr_gelu_f32(const float *x, float *y, int64_t n)
{
	int64_t nb = (n + 1023) / 1024;
	TR_OMP(omp parallel for schedule(static) if (n >= TR_PAR_MIN))
	for (int64_t b = 0; b < nb; b++)
		tr_gelu_span(x + b * 1024, y + b * 1024, TR_MIN(1024, n - b * 1024));
}
/*@end*/
#endif
