/*
 * tensor.h -- data movement kernels: copy, strided copy (transpose, slice,
 * expand, tile), row copies (concat, split), gather, range, fill, constants.
 *
 * These ops only move bytes, so most kernels are byte-generic: tensors are
 * `const void *` / `void *` and the element size `es` (1, 4 or 8) is an
 * argument.  Element and run copies go through TR_MOVE, which is
 * __builtin_memcpy on GCC/Clang (a single load/store for a constant 4 or 8,
 * and aliasing-safe, unlike copying floats through int32_t pointers) and a
 * byte loop elsewhere.  Hot loops are specialised for es = 1, 4, 8 by calling
 * an always-inline body with a literal size.
 *
 * Strides and offsets are in elements unless a name says bytes.  The
 * compiler (op_tensor.c) simplifies the index maps before calling: size-1
 * axes dropped, contiguous axes merged, so the kernels mostly see rank 1-3.
 * No kernel here allows y to overlap x.
 */
#ifndef TOSTC_RT_TENSOR_TENSOR_H
#define TOSTC_RT_TENSOR_TENSOR_H
#include "../common.h"

/*@ tr_move : tr_common */
#if defined(__GNUC__) || defined(__clang__)
#define TR_MOVE(d, s, n) __builtin_memcpy((d), (s), (size_t)(n))
#else
#define TR_MOVE(d, s, n) tr_move_bytes((d), (s), (int64_t)(n))
/* d[0..n) = s[0..n) for byte buffers that do not overlap. */
static inline void tr_move_bytes(void *d, const void *s, int64_t n)
{
	unsigned char *dp = (unsigned char *)d;
	const unsigned char *sp = (const unsigned char *)s;
	int64_t i;
	for (i = 0; i < n; i++)
		dp[i] = sp[i];
}
#endif
/*@end*/

/*@ tr_copy : tr_move */
/* x (nbytes) -> y (nbytes): a plain copy (a view that could not alias). */
TR_FN void tr_copy(const void *x, void *y, int64_t nbytes)
{
	if (nbytes > 0)
		TR_MOVE(y, x, nbytes);
}
/*@end*/

/*@ tr_strided_copy : tr_move */
/* One 2-D block: y (m, n) contiguous <- x with element strides (sm, sn). */
TR_ALWAYS_INLINE void tr_strided_block(unsigned char *y, const unsigned char *x, int64_t m,
                                       int64_t n, int64_t sm, int64_t sn, int64_t es)
{
	int64_t i, j, i0, j0;
	if (sn == 1) {                       /* rows are contiguous runs */
		for (i = 0; i < m; i++)
			TR_MOVE(y + i * n * es, x + i * sm * es, n * es);
	} else if (sm == 1 && m >= 8 && n >= 8) {   /* a transpose: 32x32 tiles */
		const int64_t tb = 32;
		for (i0 = 0; i0 < m; i0 += tb) {
			int64_t i1 = TR_MIN(m, i0 + tb);
			for (j0 = 0; j0 < n; j0 += tb) {
				int64_t j1 = TR_MIN(n, j0 + tb);
				for (i = i0; i < i1; i++)
					for (j = j0; j < j1; j++)
						TR_MOVE(y + (i * n + j) * es, x + (i + j * sn) * es, es);
			}
		}
	} else if (sn == 0) {                /* broadcast along the last axis */
		for (i = 0; i < m; i++)
			for (j = 0; j < n; j++)
				TR_MOVE(y + (i * n + j) * es, x + i * sm * es, es);
	} else {
		for (i = 0; i < m; i++)
			for (j = 0; j < n; j++)
				TR_MOVE(y + (i * n + j) * es, x + (i * sm + j * sn) * es, es);
	}
}

/* y (dims[0], ..., dims[rank-1]) contiguous
 *   <- x[base + sum_k i_k * strides[k]]      (strides, base in elements; may be < 0 or 0)
 * Transpose (permuted strides), Slice (strides * steps), Expand (0 strides)
 * and Tile (repeat axes with stride 0) are all this one map.  The last two
 * axes run as a 2-D block (contiguous rows, tiled transpose, broadcast); the
 * axes before them advance an odometer once per block.  rank <= 16. */
TR_FN void tr_strided_copy(const void *x, void *y, int64_t rank, const int64_t *dims,
                           const int64_t *strides, int64_t base, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	int64_t idx[16] = {0};
	int64_t k, nblocks = 1, blk, off = base, m, n, sm, sn;
	for (k = 0; k < rank; k++)
		if (dims[k] <= 0)
			return;
	if (rank == 0) {
		TR_MOVE(yb, xb + base * es, es);
		return;
	}
	n = dims[rank - 1];
	sn = strides[rank - 1];
	m = rank >= 2 ? dims[rank - 2] : 1;
	sm = rank >= 2 ? strides[rank - 2] : 0;
	for (k = 0; k + 2 < rank; k++)
		nblocks *= dims[k];
	for (blk = 0; blk < nblocks; blk++) {
		unsigned char *yo = yb + blk * m * n * es;
		const unsigned char *xo = xb + off * es;
		switch (es) {
		case 1: tr_strided_block(yo, xo, m, n, sm, sn, 1); break;
		case 4: tr_strided_block(yo, xo, m, n, sm, sn, 4); break;
		case 8: tr_strided_block(yo, xo, m, n, sm, sn, 8); break;
		default: tr_strided_block(yo, xo, m, n, sm, sn, es); break;
		}
		for (k = rank - 3; k >= 0; k--) {       /* odometer over the outer axes */
			off += strides[k];
			if (++idx[k] < dims[k])
				break;
			off -= idx[k] * strides[k];
			idx[k] = 0;
		}
	}
}
/*@end*/

/*@ tr_copy_rows : tr_move */
/* rows x row_bytes: y[r * y_stride + y_off ...] <- x[r * x_stride + x_off ...]
 * (all in bytes).  Concat copies each input into its column band of y;
 * Split copies each band of x into one output. */
TR_FN void tr_copy_rows(const void *x, void *y, int64_t rows, int64_t row_bytes,
                        int64_t x_stride, int64_t y_stride, int64_t x_off, int64_t y_off)
{
	const unsigned char *xb = (const unsigned char *)x + x_off;
	unsigned char *yb = (unsigned char *)y + y_off;
	int64_t r;
	if (row_bytes <= 0)
		return;
	for (r = 0; r < rows; r++)
		TR_MOVE(yb + r * y_stride, xb + r * x_stride, row_bytes);
}
/*@end*/

/*@ tr_gather : tr_move */
/* x (outer, n, inner), idx (nidx) -> y (outer, nidx, inner):
 *   y[o, j, :] = x[o, idx[j], :]
 * idx holds int64_t (idx_size 8) or int32_t (idx_size 4) values.  A negative
 * index counts from the end (ONNX); an index still outside [0, n) after that
 * is invalid ONNX input: it is clamped to [0, n-1] so that nothing is read
 * out of bounds (no error channel at run time). */
TR_FN void tr_gather(const void *x, const void *idx, void *y, int64_t outer, int64_t n,
                     int64_t inner, int64_t nidx, int64_t idx_size, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	const int64_t row = inner * es;
	int64_t o, j;
	if (n <= 0 || row <= 0)
		return;
	for (o = 0; o < outer; o++) {
		for (j = 0; j < nidx; j++) {
			int64_t k = idx_size == 4 ? (int64_t)((const int32_t *)idx)[j]
			                          : ((const int64_t *)idx)[j];
			if (k < 0)
				k += n;
			k = k < 0 ? 0 : k >= n ? n - 1 : k;
			unsigned char *d = yb + (o * nidx + j) * row;
			const unsigned char *s = xb + (o * n + k) * row;
			switch (row) {
			case 4: TR_MOVE(d, s, 4); break;
			case 8: TR_MOVE(d, s, 8); break;
			default: TR_MOVE(d, s, row); break;
			}
		}
	}
}
/*@end*/

/*@ tr_range_f32 : tr_common */
/* -> y (n): y[i] = start + i * delta */
TR_FN void tr_range_f32(float *y, float start, float delta, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = start + (float)i * delta;
}
/*@end*/

/*@ tr_range_i64 : tr_common */
/* -> y (n): y[i] = start + i * delta */
TR_FN void tr_range_i64(int64_t *y, int64_t start, int64_t delta, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = start + i * delta;
}
/*@end*/

/*@ tr_range_i32 : tr_common */
/* -> y (n): y[i] = start + i * delta */
TR_FN void tr_range_i32(int32_t *y, int64_t start, int64_t delta, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = (int32_t)(start + i * delta);
}
/*@end*/

/*@ tr_fill_f32 : tr_common */
/* -> y (n): y[i] = v   (ConstantOfShape) */
TR_FN void tr_fill_f32(float *y, int64_t n, float v)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = v;
}
/*@end*/

/*@ tr_fill_i64 : tr_common */
/* -> y (n): y[i] = v */
TR_FN void tr_fill_i64(int64_t *y, int64_t n, int64_t v)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = v;
}
/*@end*/

/*@ tr_fill_i32 : tr_common */
/* -> y (n): y[i] = v */
TR_FN void tr_fill_i32(int32_t *y, int64_t n, int64_t v)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = (int32_t)v;
}
/*@end*/

/*@ tr_fill_b8 : tr_common */
/* -> y (n): y[i] = v != 0 */
TR_FN void tr_fill_b8(uint8_t *y, int64_t n, int64_t v)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = (uint8_t)(v != 0);
}
/*@end*/

/*@ tr_const_f32 : tr_common */
/* v (n) -> y (n): write literal values (Constant, Shape when not folded away) */
TR_FN void tr_const_f32(float *y, const float *v, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = v[i];
}
/*@end*/

/*@ tr_const_i64 : tr_common */
/* v (n) -> y (n) */
TR_FN void tr_const_i64(int64_t *y, const int64_t *v, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = v[i];
}
/*@end*/

/*@ tr_const_i32 : tr_common */
/* v (n) -> y (n) */
TR_FN void tr_const_i32(int32_t *y, const int64_t *v, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = (int32_t)v[i];
}
/*@end*/

/*@ tr_const_b8 : tr_common */
/* v (n) -> y (n) */
TR_FN void tr_const_b8(uint8_t *y, const int64_t *v, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		y[i] = (uint8_t)(v[i] != 0);
}
/*@end*/

/*@ tr_fill_any : tr_common */
/* -> y (n elements of es bytes): each the low es bytes of bits, little-endian
 * (ConstantOfShape of the 8- and 16-bit types) */
TR_FN void tr_fill_any(void *y, int64_t n, int64_t es, int64_t bits)
{
	unsigned char *p = (unsigned char *)y;
	int64_t i, b;
	for (i = 0; i < n; i++)
		for (b = 0; b < es; b++)
			p[i * es + b] = (unsigned char)(((uint64_t)bits >> (8 * b)) & 0xffu);
}
/*@end*/

/*@ tr_const_bytes : tr_common */
/* v (n), each a byte value -> y (n bytes): literals of the 8- and 16-bit types */
TR_FN void tr_const_bytes(void *y, const int64_t *v, int64_t n)
{
	unsigned char *p = (unsigned char *)y;
	int64_t i;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v[i] & 0xff);
}
/*@end*/
#endif
