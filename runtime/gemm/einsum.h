/*
 * einsum.h -- Einsum as strided gathers around tr_sgemm.  The compiler
 * (op_einsum.c) parses the equation and describes each operand as a view:
 * its labels in the order the product wants, each with its element stride in
 * the operand (a label repeated in one operand, a diagonal, has the sum of
 * its strides; a broadcast one stride 0), and after them the labels summed
 * away before the product.  An operand already in a layout the GEMM reads
 * (row-major, or transposed per batch) is read in place.
 *
 * A view is 18 integers: nd, nsum, dims[8], strides[8].
 */
#ifndef TOSTC_RT_GEMM_EINSUM_H
#define TOSTC_RT_GEMM_EINSUM_H
#include "sgemm.h"
#include "../tensor/tensor.h"

/*@ tr_einsum_gather : tr_strided_copy */
#define TR_EINSUM_VIEW 18
/*
 * dst (dims[0..nd-nsum)) = x viewed through v, summed over its last nsum
 * labels: one strided pass over dst per index of the summed labels, in
 * order (a plain strided copy when nothing is summed).
 */
TR_FN void tr_einsum_gather(const float *x, float *dst, const int64_t *v)
{
	int64_t nd = v[0], nsum = v[1], no = nd - nsum, ne = 1, ns = 1, so = 0;
	const int64_t *dims = v + 2, *str = v + 10;
	int64_t is[8] = {0}, io[8] = {0};
	if (nsum == 0) {
		tr_strided_copy(x, dst, no, dims, str, 0, 4);
		return;
	}
	for (int64_t d = 0; d < no; d++)
		ne *= dims[d];
	for (int64_t d = no; d < nd; d++)
		ns *= dims[d];
	for (int64_t e = 0; e < ne; e++)
		dst[e] = 0.0f;
	if (ne == 0)
		return;
	for (int64_t s = 0; s < ns; s++) {
		/* dst += the view at the summed labels' index is */
		int64_t n = no ? dims[no - 1] : 1, sn = no ? str[no - 1] : 0, off = so;
		float *dp = dst;
		for (int64_t o = 0; o < ne / n; o++, dp += n) {
			for (int64_t i = 0; i < n; i++)
				dp[i] += x[off + i * sn];
			for (int64_t d = no - 2; d >= 0; d--) {   /* odometer over the kept labels */
				off += str[d];
				if (++io[d] < dims[d])
					break;
				off -= io[d] * str[d];
				io[d] = 0;
			}
		}
		for (int64_t d = nd - 1; d >= no; d--) {         /* ... and over the summed ones */
			so += str[d];
			if (++is[d - no] < dims[d])
				break;
			so -= is[d - no] * str[d];
			is[d - no] = 0;
		}
	}
}
/*@end*/

/*@ tr_einsum_sum_f32 : tr_einsum_gather */
/* one operand: y = x viewed through v (18 integers), summed over its last
 * nsum labels (transposes, diagonals, traces, sums) */
TR_FN void tr_einsum_sum_f32(const float *x, float *y, const int64_t *v)
{
	tr_einsum_gather(x, y, v);
}
/*@end*/

/*@ tr_einsum_f32 : tr_sgemm tr_einsum_gather */
/*
 * Two operands: for each of batch products, y'[t] (m, n) = A'[t] (m, k) @
 * B'[t] (k, n).  p = batch, m, k, n, ta, tb, ga, gb, gy, then the views of A',
 * B' and y (TR_EINSUM_VIEW each).  ga: A' is gathered through its view into
 * scratch as (batch, m, k); else a is A' in place, (batch, m, k), or (batch,
 * k, m) when ta.  Likewise B' (batch, k, n), transposed when tb.  gy: the
 * product goes to scratch and y is gathered from it through y's view; else
 * the product is y.
 * scratch: each of A', B', y' gathered, rounded up to 16 floats, then the
 * packing of tr_sgemm (tr_gemm_pack_bytes(m, k, n)).
 */
TR_FN void tr_einsum_f32(const float *a, const float *b, float *y, float *scratch,
                         const int64_t *p)
{
	int64_t batch = p[0], m = p[1], k = p[2], n = p[3], ta = p[4], tb = p[5];
	const float *ap = a, *bp = b;
	float *yp = y, *s = scratch;
	if (p[6]) {
		tr_einsum_gather(a, s, p + 9);
		ap = s;
		ta = 0;
		s += (batch * m * k + 15) / 16 * 16;
	}
	if (p[7]) {
		tr_einsum_gather(b, s, p + 9 + TR_EINSUM_VIEW);
		bp = s;
		tb = n == 1;   /* (k, 1) read as (1, k): tr_sgemm's small path takes dot products */
		s += (batch * k * n + 15) / 16 * 16;
	}
	if (p[8]) {
		yp = s;
		s += (batch * m * n + 15) / 16 * 16;
	}
	for (int64_t t = 0; t < batch; t++)
		tr_sgemm(m, n, k, 1.0f, ap + t * m * k, ta ? 1 : k, ta ? m : 1, bp + t * k * n,
		         tb ? 1 : n, tb ? k : 1, yp + t * m * n, n, 0, s);
	if (p[8])
		tr_einsum_gather(yp, y, p + 9 + 2 * TR_EINSUM_VIEW);
}
/*@end*/
#endif
