/*
 * index.h -- kernels that move elements by run-time indices, for
 * compiler/ops/op_index.c: GatherElements, GatherND, ScatterND,
 * ScatterElements (and the older Scatter), OneHot.
 *
 * Indices are int64_t (idx_size 8) or int32_t (idx_size 4).  A negative
 * index counts from the end (ONNX); one still outside [0, n) after that is
 * invalid input, and since generated code has no error channel it is clamped
 * into [0, n - 1], so nothing outside a tensor is ever read or written.
 *
 * Gathers and plain scatters only move elements: byte-generic, element size
 * es.  Scatters with a reduction (add, mul, max, min) are typed: one kernel
 * per element type from a generator macro, the reduction an argument.  A
 * scatter writes into y, which the compiler first fills with a copy of the
 * data input (tr_copy); updates are applied in order, so with repeated
 * indices and no reduction the last update wins, as in ONNX's reference.
 */
#ifndef TOSTC_RT_TENSOR_INDEX_H
#define TOSTC_RT_TENSOR_INDEX_H
#include "tensor.h"

/*@ tr_index : tr_move */
/* Element i of the index tensor idx, counted from the end when negative,
 * clamped into [0, n) (n >= 1). */
TR_ALWAYS_INLINE int64_t tr_index_at(const void *idx, int64_t i, int64_t idx_size, int64_t n)
{
	int64_t k = idx_size == 4 ? (int64_t)((const int32_t *)idx)[i] : ((const int64_t *)idx)[i];
	if (k < 0)
		k += n;
	return k < 0 ? 0 : k >= n ? n - 1 : k;
}

/* The element-wise index map of GatherElements and ScatterElements: for
 * every element e of idx (dims[0..rank), rank 1..8), in order, run BODY with
 * `e` and `off`, the offset in the other tensor (strides xs, n elements along
 * axis) of the element with e's coordinates except idx[e] along axis.  The
 * outer coordinates step an odometer once per row of the last axis. */
#define TR_ELEMENTS_LOOP(rank, dims, xs, axis, n, idx, idx_size, BODY)                  \
	do {                                                                            \
		int64_t pos_[8] = {0}, rows_ = 1, e = 0, len_ = (dims)[(rank) - 1];    \
		int64_t sj_ = (axis) == (rank) - 1 ? 0 : (xs)[(rank) - 1];             \
		int64_t k_, row_, j_;                                                  \
		for (k_ = 0; k_ < (rank); k_++) {                                      \
			if ((dims)[k_] <= 0)                                           \
				rows_ = 0;                                             \
			rows_ *= k_ + 1 < (rank) ? (dims)[k_] : 1;                     \
		}                                                                      \
		for (row_ = 0; row_ < rows_; row_++) {                                 \
			int64_t base_ = 0;                                             \
			for (k_ = 0; k_ + 1 < (rank); k_++)                            \
				base_ += k_ != (axis) ? pos_[k_] * (xs)[k_] : 0;       \
			for (k_ = (rank) - 2; k_ >= 0; k_--) {                         \
				if (++pos_[k_] < (dims)[k_])                           \
					break;                                         \
				pos_[k_] = 0;                                          \
			}                                                              \
			for (j_ = 0; j_ < len_; j_++, e++) {                          \
				int64_t off = base_ + j_ * sj_ +                       \
				    tr_index_at(idx, e, idx_size, n) * (xs)[axis];     \
				BODY;                                                  \
			}                                                              \
		}                                                                      \
	} while (0)

/* For every index tuple j < count of idx (count, m), in order, run BODY with
 * `j` and `off`, the row-major offset of the tuple in dims[0..m) (each index
 * clamped into its axis). */
#define TR_ND_LOOP(count, m, dims, idx, idx_size, BODY)                                 \
	do {                                                                            \
		int64_t j, t_;                                                         \
		for (j = 0; j < (count); j++) {                                        \
			int64_t off = 0;                                               \
			for (t_ = 0; t_ < (m); t_++)                                   \
				off = off * (dims)[t_] +                               \
				      tr_index_at(idx, j * (m) + t_, idx_size, (dims)[t_]); \
			BODY;                                                          \
		}                                                                      \
	} while (0)
/*@end*/

/*@ tr_gather_elements : tr_index */
/* data x (strides xs, n elements along axis), idx (dims[0..rank)) -> y
 * (dims): y[e] = x[e's coordinates with idx[e] along axis] */
TR_FN void tr_gather_elements(const void *x, const void *idx, void *y, int64_t rank,
                              const int64_t *dims, const int64_t *xs, int64_t axis, int64_t n,
                              int64_t idx_size, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	TR_ELEMENTS_LOOP(rank, dims, xs, axis, n, idx, idx_size,
	                 TR_MOVE(yb + e * es, xb + off * es, es));
}
/*@end*/

/*@ tr_gather_nd : tr_index */
/* x (batch, d_0 .. d_(m-1), slice) with xbatch = the elements of one batch
 * entry, idx (batch, nidx, m) -> y (batch, nidx, slice): every index tuple
 * picks one slice of its batch entry; xdims = d_0 .. d_(m-1). */
TR_FN void tr_gather_nd(const void *x, const void *idx, void *y, int64_t batch, int64_t nidx,
                        int64_t m, const int64_t *xdims, int64_t slice, int64_t xbatch,
                        int64_t idx_size, int64_t es)
{
	const unsigned char *xb = (const unsigned char *)x;
	unsigned char *yb = (unsigned char *)y;
	int64_t b;
	for (b = 0; b < batch; b++) {
		const unsigned char *ib = (const unsigned char *)idx + b * nidx * m * idx_size;
		unsigned char *yo = yb + b * nidx * slice * es;
		const unsigned char *xo = xb + b * xbatch * es;
		TR_ND_LOOP(nidx, m, xdims, ib, idx_size,
		           TR_MOVE(yo + j * slice * es, xo + off * slice * es, slice * es));
	}
}
/*@end*/

/*@ tr_scatter_nd : tr_index */
/* y (d_0 .. d_(m-1), slice), idx (nupd, m), updates (nupd, slice): the slice
 * of y each index tuple names is overwritten with its update, in order. */
TR_FN void tr_scatter_nd(const void *idx, const void *upd, void *y, int64_t nupd, int64_t m,
                         const int64_t *ydims, int64_t slice, int64_t idx_size, int64_t es)
{
	const unsigned char *ub = (const unsigned char *)upd;
	unsigned char *yb = (unsigned char *)y;
	TR_ND_LOOP(nupd, m, ydims, idx, idx_size,
	           TR_MOVE(yb + off * slice * es, ub + j * slice * es, slice * es));
}
/*@end*/

/*@ tr_scatter_elements : tr_index */
/* y (strides ys, n elements along axis), idx and updates (dims[0..rank)):
 * the element of y with idx[e] along axis and e's other coordinates is
 * overwritten with upd[e], in order. */
TR_FN void tr_scatter_elements(const void *idx, const void *upd, void *y, int64_t rank,
                               const int64_t *dims, const int64_t *ys, int64_t axis, int64_t n,
                               int64_t idx_size, int64_t es)
{
	const unsigned char *ub = (const unsigned char *)upd;
	unsigned char *yb = (unsigned char *)y;
	TR_ELEMENTS_LOOP(rank, dims, ys, axis, n, idx, idx_size,
	                 TR_MOVE(yb + off * es, ub + e * es, es));
}
/*@end*/

/*@ tr_scatter_reduce : tr_index */
/* Reductions of the typed scatters: 1 add, 2 mul, 3 max, 4 min.  Integers
 * wrap (computed unsigned); float max/min propagate NaN like numpy. */
#define TR_SC_MAXF(u, v) ((isnan(u) || (u) > (v)) ? (u) : (v))
#define TR_SC_MINF(u, v) ((isnan(u) || (u) < (v)) ? (u) : (v))
#define TR_SC_MAXI(u, v) ((u) > (v) ? (u) : (v))
#define TR_SC_MINI(u, v) ((u) < (v) ? (u) : (v))
#define TR_SC_F32(r, u, v) ((r) == 1 ? (u) + (v) : (r) == 2 ? (u) * (v)                  \
                           : (r) == 3 ? TR_SC_MAXF(u, v) : TR_SC_MINF(u, v))
#define TR_SC_INT(T, U, r, u, v) ((r) == 1 ? (T)((U)(u) + (U)(v))                          \
                                 : (r) == 2 ? (T)((U)(u) * (U)(v))                        \
                                 : (r) == 3 ? TR_SC_MAXI(u, v) : TR_SC_MINI(u, v))
#define TR_SC_I64(r, u, v) TR_SC_INT(int64_t, uint64_t, r, u, v)
#define TR_SC_I32(r, u, v) TR_SC_INT(int32_t, uint32_t, r, u, v)

/* tr_scatter_nd with y[...] = OP(reduction, y[...], update) */
#define TR_SCATTER_ND_RED(NAME, T, OP)                                                 \
	TR_FN void NAME(const void *idx, const T *upd, T *y, int64_t nupd, int64_t m,      \
	                const int64_t *ydims, int64_t slice, int64_t idx_size,             \
	                int64_t reduction)                                             \
	{                                                                              \
		TR_ND_LOOP(nupd, m, ydims, idx, idx_size, {                            \
			for (int64_t i = 0; i < slice; i++)                            \
				y[off * slice + i] = OP(reduction, y[off * slice + i], \
				                        upd[j * slice + i]);           \
		});                                                                    \
	}
/* tr_scatter_elements with y[...] = OP(reduction, y[...], update) */
#define TR_SCATTER_ELEMENTS_RED(NAME, T, OP)                                           \
	TR_FN void NAME(const void *idx, const T *upd, T *y, int64_t rank,                 \
	                const int64_t *dims, const int64_t *ys, int64_t axis, int64_t n,   \
	                int64_t idx_size, int64_t reduction)                           \
	{                                                                              \
		TR_ELEMENTS_LOOP(rank, dims, ys, axis, n, idx, idx_size,               \
		                 y[off] = OP(reduction, y[off], upd[e]));              \
	}
/*@end*/
/*@ tr_scatter_nd_f32 : tr_scatter_reduce */
TR_SCATTER_ND_RED(tr_scatter_nd_f32, float, TR_SC_F32)
/*@end*/
/*@ tr_scatter_nd_i64 : tr_scatter_reduce */
TR_SCATTER_ND_RED(tr_scatter_nd_i64, int64_t, TR_SC_I64)
/*@end*/
/*@ tr_scatter_nd_i32 : tr_scatter_reduce */
TR_SCATTER_ND_RED(tr_scatter_nd_i32, int32_t, TR_SC_I32)
/*@end*/
/*@ tr_scatter_elements_f32 : tr_scatter_reduce */
TR_SCATTER_ELEMENTS_RED(tr_scatter_elements_f32, float, TR_SC_F32)
/*@end*/
/*@ tr_scatter_elements_i64 : tr_scatter_reduce */
TR_SCATTER_ELEMENTS_RED(tr_scatter_elements_i64, int64_t, TR_SC_I64)
/*@end*/
/*@ tr_scatter_elements_i32 : tr_scatter_reduce */
TR_SCATTER_ELEMENTS_RED(tr_scatter_elements_i32, int32_t, TR_SC_I32)
/*@end*/

/*@ tr_one_hot : tr_move */
/* indices (outer, inner) -> y (outer, depth, inner): values[1] (on) where
 * the depth position is the index, values[0] (off) elsewhere.  Indices are
 * read as idx_kind 0 int64_t, 1 int32_t, 2 float (truncated); a negative
 * index counts from the end when neg, and an index outside [0, depth) after
 * that sets nothing (all off), as ONNX says. */
TR_FN void tr_one_hot(const void *idx, const void *values, void *y, int64_t outer, int64_t depth,
                      int64_t inner, int64_t idx_kind, int64_t neg, int64_t es)
{
	const unsigned char *v = (const unsigned char *)values;
	unsigned char *yb = (unsigned char *)y;
	int64_t o, i, e, total = outer * depth * inner;
	for (e = 0; e < total; e++)
		TR_MOVE(yb + e * es, v, es);
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t j = o * inner + i, k;
			if (idx_kind == 2) {
				float f = ((const float *)idx)[j];
				if (!(f > -9.0e18f && f < 9.0e18f))   /* NaN or beyond int64 */
					continue;
				k = (int64_t)f;
			} else {
				k = idx_kind == 1 ? (int64_t)((const int32_t *)idx)[j]
				                  : ((const int64_t *)idx)[j];
			}
			if (k < 0 && neg)
				k += depth;
			if (k >= 0 && k < depth)
				TR_MOVE(yb + ((o * depth + k) * inner + i) * es, v + es, es);
		}
}
/*@end*/
#endif
