/*
 * movement.h -- data movement kernels of compiler/ops/op_movement.c: Pad,
 * Trilu, EyeLike, ReverseSequence.  (DepthToSpace and SpaceToDepth are
 * transposes: tensor.h's strided copy.)
 *
 * Like tensor.h, the kernels are byte-generic where they only move elements
 * (tensors as `const void *`, the element size `es` an argument, runs copied
 * with TR_MOVE); EyeLike writes typed ones.  Strides and offsets are in
 * elements.  No kernel here allows y to overlap x.
 */
#ifndef TOSTC_RT_TENSOR_MOVEMENT_H
#define TOSTC_RT_TENSOR_MOVEMENT_H
#include "tensor.h"

/*@ tr_pad : tr_move */
/* The element of an axis of d elements that position i (the output position
 * minus the leading pad; outside [0, d) in the padding) reads in `mode`:
 * 0 constant (-1: the pad value), 1 reflect (mirrored without repeating the
 * edge), 2 edge (clamped), 3 wrap (periodic).  d >= 1 unless constant. */
TR_ALWAYS_INLINE int64_t tr_pad_source(int64_t i, int64_t d, int64_t mode)
{
	int64_t p;
	if (i >= 0 && i < d)
		return i;
	switch (mode) {
	case 0:
		return -1;
	case 1:
		if (d == 1)
			return 0;
		p = 2 * (d - 1);
		i %= p;
		i += i < 0 ? p : 0;
		return i < d ? i : p - i;
	case 2:
		return i < 0 ? 0 : d - 1;
	default:
		i %= d;
		return i < 0 ? i + d : i;
	}
}

/* One output row of n elements: [0, b) and [b + d, n) are padding, the
 * middle is the d elements of the source row xr copied as one run. */
TR_ALWAYS_INLINE void tr_pad_row(unsigned char *yr, const unsigned char *xr,
                                 const unsigned char *v, int64_t n, int64_t d, int64_t b,
                                 int64_t mode, int64_t es)
{
	int64_t o, lo = TR_MIN(b, n), hi = TR_MIN(b + d, n);
	if (!xr) {                               /* the whole row is the pad value */
		for (o = 0; o < n; o++)
			TR_MOVE(yr + o * es, v, es);
		return;
	}
	for (o = 0; o < lo; o++) {
		int64_t s = tr_pad_source(o - b, d, mode);
		TR_MOVE(yr + o * es, s < 0 ? v : xr + s * es, es);
	}
	if (hi > lo)
		TR_MOVE(yr + lo * es, xr + (lo - b) * es, (hi - lo) * es);
	for (o = TR_MAX(hi, 0); o < n; o++) {
		int64_t s = tr_pad_source(o - b, d, mode);
		TR_MOVE(yr + o * es, s < 0 ? v : xr + s * es, es);
	}
}

/* x -> y (ydims[0..rank)): along axis k, output position o reads element
 * tr_pad_source(o - begin[k], xdims[k], mode) of the input region that starts
 * at element `base` of x and spans xdims[k] elements with strides xstrides[k]
 * (negative pads crop: the compiler moved them into base and xdims).  value
 * is one element, the pad of mode 0 (unread otherwise).  The last axis must
 * have x stride 1: a row is its padding plus one contiguous run.  rank <= 8. */
TR_FN void tr_pad(const void *x, const void *value, void *y, int64_t rank, const int64_t *ydims,
                  const int64_t *xdims, const int64_t *xstrides, const int64_t *begin,
                  int64_t base, int64_t mode, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x, *v = (const unsigned char *)value;
	unsigned char *yb = (unsigned char *)y;
	int64_t idx[8] = {0}, src[8] = {0}, k, row, rows = 1, n, d, b;
	if (rank <= 0) {
		TR_MOVE(yb, xb + base * es, es);
		return;
	}
	for (k = 0; k < rank; k++)
		if (ydims[k] <= 0)
			return;
	n = ydims[rank - 1];
	d = xdims[rank - 1];
	b = begin[rank - 1];
	for (k = 0; k + 1 < rank; k++) {
		rows *= ydims[k];
		src[k] = tr_pad_source(-begin[k], xdims[k], mode);
	}
	for (row = 0; row < rows; row++) {
		int64_t off = base;
		int inside = 1;
		for (k = 0; k + 1 < rank; k++) {
			inside &= src[k] >= 0;
			off += src[k] * xstrides[k];
		}
		const unsigned char *xr = inside ? xb + off * es : (const unsigned char *)0;
		unsigned char *yr = yb + row * n * es;
		switch (es) {
		case 1: tr_pad_row(yr, xr, v, n, d, b, mode, 1); break;
		case 4: tr_pad_row(yr, xr, v, n, d, b, mode, 4); break;
		case 8: tr_pad_row(yr, xr, v, n, d, b, mode, 8); break;
		default: tr_pad_row(yr, xr, v, n, d, b, mode, es); break;
		}
		for (k = rank - 2; k >= 0; k--) {        /* odometer over the outer axes */
			if (++idx[k] < ydims[k]) {
				src[k] = tr_pad_source(idx[k] - begin[k], xdims[k], mode);
				break;
			}
			idx[k] = 0;
			src[k] = tr_pad_source(-begin[k], xdims[k], mode);
		}
	}
}
/*@end*/

/*@ tr_trilu : tr_move */
/* x (batch, n, m) -> y: the upper (upper = 1: column - row >= k) or lower
 * (column - row <= k) triangle of every matrix kept, the rest zero bytes
 * (0 in every element type). */
TR_FN void tr_trilu(const void *x, void *y, int64_t batch, int64_t n, int64_t m, int64_t k,
                    int64_t upper, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	int64_t bi, i, j;
	for (bi = 0; bi < batch; bi++) {
		for (i = 0; i < n; i++) {
			const unsigned char *xr = xb + ((bi * n + i) * m) * es;
			unsigned char *yr = yb + ((bi * n + i) * m) * es;
			/* kept columns: [c, m) for upper, [0, c) for lower */
			int64_t c = upper ? i + k : i + k + 1;
			c = c < 0 ? 0 : c > m ? m : c;
			int64_t z0 = upper ? 0 : c, z1 = upper ? c : m, k0 = upper ? c : 0;
			int64_t k1 = upper ? m : c;
			for (j = z0 * es; j < z1 * es; j++)
				yr[j] = 0;
			if (k1 > k0)
				TR_MOVE(yr + k0 * es, xr + k0 * es, (k1 - k0) * es);
		}
	}
}
/*@end*/

/*@ tr_eye : tr_common */
/* -> y (n, m): 1 where column - row == k, else 0 */
#define TR_EYE(NAME, T)                                                       \
	TR_FN void NAME(T *y, int64_t n, int64_t m, int64_t k)                    \
	{                                                                     \
		for (int64_t i = 0; i < n * m; i++)                           \
			y[i] = (T)0;                                          \
		for (int64_t i = k < 0 ? -k : 0; i < n && i + k < m; i++)     \
			y[i * m + i + k] = (T)1;                              \
	}
/*@end*/
/*@ tr_eye_f32 : tr_eye */
TR_EYE(tr_eye_f32, float)
/*@end*/
/*@ tr_eye_i64 : tr_eye */
TR_EYE(tr_eye_i64, int64_t)
/*@end*/
/*@ tr_eye_i32 : tr_eye */
TR_EYE(tr_eye_i32, int32_t)
/*@end*/
/*@ tr_eye_b8 : tr_eye */
TR_EYE(tr_eye_b8, uint8_t)
/*@end*/

/*@ tr_reverse_sequence : tr_move */
/* x -> y, both with a batch axis and a time axis (strides bs and ts, in
 * units of `inner` elements) over inner-element runs: for batch entry b the
 * first lens[b] steps in reverse order, the rest as they are.  A length
 * outside [0, time] is clamped into it (no error channel at run time). */
TR_FN void tr_reverse_sequence(const void *x, const int64_t *lens, void *y, int64_t batch,
                               int64_t time, int64_t inner, int64_t bs, int64_t ts, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	const int64_t run = inner * es;
	int64_t b, t;
	for (b = 0; b < batch; b++) {
		int64_t len = lens[b] < 0 ? 0 : lens[b] > time ? time : lens[b];
		for (t = 0; t < time; t++) {
			int64_t s = t < len ? len - 1 - t : t;
			TR_MOVE(yb + (b * bs + t * ts) * run, xb + (b * bs + s * ts) * run, run);
		}
	}
}
/*@end*/
#endif
