/*
 * resize.h -- Resize and Upsample (compiler/ops/op_resize.c).
 *
 * Everything that depends only on shapes and attributes -- which input
 * elements an output element reads, and with which weights -- is worked out
 * by the compiler in double precision and handed to these kernels as
 * tables, so the kernels only gather and accumulate:
 *
 *   - nearest: tr_resize_nearest, one gather through a table of element
 *     offsets per axis (any element type);
 *   - linear, cubic, antialiased or not: tr_resize_f32, separable, one pass
 *     per resized axis, each output position a fixed number of taps
 *     (index, weight) plus a constant (tf_crop_and_resize's extrapolation
 *     value, with all weights 0).  Intermediate results between passes live
 *     in the node's scratch.  Every tap is read, also one of weight 0, as
 *     ONNX's reference does (an Inf there makes a NaN).
 */
#ifndef TOSTC_RT_TENSOR_RESIZE_H
#define TOSTC_RT_TENSOR_RESIZE_H
#include "tensor.h"

/*@ tr_resize_nearest : tr_move */
/* One output row of n elements gathered from xr through the offsets m. */
TR_ALWAYS_INLINE void tr_resize_row(unsigned char *yr, const unsigned char *xr, const int64_t *m,
                                    int64_t n, int64_t es)
{
	int64_t j;
	for (j = 0; j < n; j++)
		TR_MOVE(yr + j * es, xr + m[j] * es, es);
}

/* x -> y (dims[0..rank)): y[i_0, ..., i_(r-1)] = x[sum_k map_k[i_k]], where
 * `map` holds, axis after axis, dims[k] element offsets into x (the source
 * index along axis k times x's stride along it).  A row whose source row is
 * the previous one's (upsampling along an outer axis) is copied from y. */
TR_FN void tr_resize_nearest(const void *x, const int64_t *map, void *y, int64_t rank,
                             const int64_t *dims, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	const int64_t *axis[8], *last;
	int64_t idx[8] = {0}, k, row, rows = 1, n, prev = -1, j;
	int run = 1;                   /* the last axis reads one contiguous run */
	if (rank <= 0) {
		TR_MOVE(yb, xb, es);
		return;
	}
	for (k = 0; k < rank; k++) {
		if (dims[k] <= 0)
			return;
		axis[k] = k ? axis[k - 1] + dims[k - 1] : map;
		rows *= k + 1 < rank ? dims[k] : 1;
	}
	last = axis[rank - 1];
	n = dims[rank - 1];
	for (j = 1; j < n; j++)
		run &= last[j] == last[0] + j;
	for (row = 0; row < rows; row++) {
		int64_t base = 0;
		unsigned char *yr = yb + row * n * es;
		for (k = 0; k + 1 < rank; k++)
			base += axis[k][idx[k]];
		if (base == prev)
			TR_MOVE(yr, yr - n * es, n * es);
		else if (run)
			TR_MOVE(yr, xb + (base + last[0]) * es, n * es);
		else if (es == 4)
			tr_resize_row(yr, xb + base * 4, last, n, 4);
		else if (es == 8)
			tr_resize_row(yr, xb + base * 8, last, n, 8);
		else
			tr_resize_row(yr, xb + base * es, last, n, es);
		prev = base;
		for (k = rank - 2; k >= 0; k--) {        /* odometer over the outer axes */
			if (++idx[k] < dims[k])
				break;
			idx[k] = 0;
		}
	}
}
/*@end*/

/*@ tr_resize_f32 : tr_common */
/* y[0..n) += w * x[0..n), in blocks of 16: a fixed count that gcc
 * vectorises at -O2. */
TR_ALWAYS_INLINE void tr_resize_axpy(float *restrict y, const float *restrict x, float w,
                                     int64_t n)
{
	int64_t i = 0, k;
	for (; i + 16 <= n; i += 16)
		for (k = 0; k < 16; k++)
			y[i + k] += w * x[i + k];
	for (; i < n; i++)
		y[i] += w * x[i];
}

/* One pass along one axis: x (outer, nin, inner) -> y (outer, nout, inner),
 * y[o, j, i] = b[j] + sum_t w[t, j] * x[o, idx[t, j], i] over t < ntap
 * (the tables tap-major, so the last axis's pass runs along j). */
TR_ALWAYS_INLINE void tr_resize_pass(const float *x, float *y, const int64_t *idx, const float *w,
                                     const float *b, int64_t outer, int64_t nin, int64_t nout,
                                     int64_t inner, int64_t ntap)
{
	int64_t o, j, t, i;
	for (o = 0; o < outer; o++) {
		const float *xo = x + o * nin * inner;
		float *yo = y + o * nout * inner;
		if (inner == 1) {                        /* the last axis: weighted gathers */
			for (j = 0; j < nout; j++)
				yo[j] = b[j];
			for (t = 0; t < ntap; t++)
				for (j = 0; j < nout; j++)
					yo[j] += w[t * nout + j] * xo[idx[t * nout + j]];
			continue;
		}
		for (j = 0; j < nout; j++) {             /* whole rows: contiguous */
			float *yr = yo + j * inner;
			for (i = 0; i < inner; i++)
				yr[i] = b[j];
			for (t = 0; t < ntap; t++)
				tr_resize_axpy(yr, xo + idx[t * nout + j] * inner, w[t * nout + j], inner);
		}
	}
}

/* x -> y in npass passes; pass p resizes one axis as tr_resize_pass with
 * plan[5p .. 5p+5) = (outer, nin, nout, inner, ntap) and its tables next in
 * taps (ntap x nout indices) and w (ntap x nout weights, then nout
 * constants).  Pass p < npass - 1 writes scratch + (p % 2) * half, the last
 * writes y. */
TR_FN void tr_resize_f32(const float *x, const int64_t *taps, const float *w, float *y,
                         float *scratch, int64_t npass, const int64_t *plan, int64_t half)
{
	const float *src = x;
	int64_t p;
	for (p = 0; p < npass; p++) {
		const int64_t *q = plan + 5 * p;
		float *dst = p == npass - 1 ? y : scratch + (p % 2) * half;
		tr_resize_pass(src, dst, taps, w, w + q[2] * q[4], q[0], q[1], q[2], q[3], q[4]);
		taps += q[2] * q[4];
		w += q[2] * q[4] + q[2];
		src = dst;
	}
}
/*@end*/
#endif
