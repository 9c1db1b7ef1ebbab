/*
 * test_tensor.c -- unit tests for the data movement kernels (runtime/rt_tensor.h)
 * and the shape/lower functions of compiler/op_tensor.c.
 *
 * Kernel tests call the runtime directly on small inputs and compare with
 * literal expected values or with a naive index formula written out here.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>

#include "rt_tensor.h"

/* ---- transpose: all permutations of (2, 3, 4), via the strided map ---- */

static void check_transpose3(const int *perm)
{
	const int64_t d[3] = {2, 3, 4}, xs[3] = {12, 4, 1};
	float x[24], y[24];
	int64_t dims[3], strides[3];
	for (int i = 0; i < 24; i++)
		x[i] = (float)i;
	for (int k = 0; k < 3; k++) {
		dims[k] = d[perm[k]];
		strides[k] = xs[perm[k]];
	}
	tr_strided_copy(x, y, 3, dims, strides, 0, 4);
	/* y[i0, i1, i2] = x[idx] where idx[perm[k]] = i_k */
	for (int i0 = 0; i0 < dims[0]; i0++)
		for (int i1 = 0; i1 < dims[1]; i1++)
			for (int i2 = 0; i2 < dims[2]; i2++) {
				int idx[3];
				idx[perm[0]] = i0;
				idx[perm[1]] = i1;
				idx[perm[2]] = i2;
				float want = (float)(idx[0] * 12 + idx[1] * 4 + idx[2]);
				CU_ASSERT_EQUAL(y[(i0 * dims[1] + i1) * dims[2] + i2], want);
			}
}

static void test_transpose_perms(void)
{
	static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	                                {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (int p = 0; p < 6; p++)
		check_transpose3(perms[p]);
}

static void test_transpose_2d_literal(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]] -> y (3, 2) = [[1 4] [2 5] [3 6]] */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6}, want[6] = {1, 4, 2, 5, 3, 6};
	const int64_t dims[2] = {3, 2}, strides[2] = {1, 3};
	int64_t y[6];
	tr_strided_copy(x, y, 2, dims, strides, 0, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_transpose_tiled(void)
{
	/* (37, 45) -> (45, 37): big enough for the 32x32 tile path, ragged edges */
	enum { M = 37, N = 45 };
	static int32_t x[M * N], y[M * N];
	const int64_t dims[2] = {N, M}, strides[2] = {1, N};
	for (int i = 0; i < M * N; i++)
		x[i] = i * 7 + 1;
	tr_strided_copy(x, y, 2, dims, strides, 0, 4);
	int bad = 0;
	for (int j = 0; j < N; j++)
		for (int i = 0; i < M; i++)
			bad += y[j * M + i] != x[i * N + j];
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_transpose_bool_batched(void)
{
	/* bool (2, 2, 3) -> perm (0, 2, 1) -> (2, 3, 2), 1-byte elements */
	const uint8_t x[12] = {1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
	const uint8_t want[12] = {1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0};
	const int64_t dims[3] = {2, 3, 2}, strides[3] = {6, 1, 3};
	uint8_t y[12];
	tr_strided_copy(x, y, 3, dims, strides, 0, 1);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- slice ---- */

static void test_slice_negative_step(void)
{
	/* x = 0..9, x[8:0:-3] = [8, 5, 2] */
	float x[10], y[3];
	const int64_t dims[1] = {3}, strides[1] = {-3};
	for (int i = 0; i < 10; i++)
		x[i] = (float)i;
	tr_strided_copy(x, y, 1, dims, strides, 8, 4);
	CU_ASSERT_EQUAL(y[0], 8.0f);
	CU_ASSERT_EQUAL(y[1], 5.0f);
	CU_ASSERT_EQUAL(y[2], 2.0f);
}

static void test_slice_2d_reversed(void)
{
	/* x (3, 4) = 0..11; x[::-1, 1:3] = [[9 10] [5 6] [1 2]] */
	int64_t x[12], y[6];
	const int64_t want[6] = {9, 10, 5, 6, 1, 2};
	const int64_t dims[2] = {3, 2}, strides[2] = {-4, 1};
	for (int i = 0; i < 12; i++)
		x[i] = i;
	tr_strided_copy(x, y, 2, dims, strides, 2 * 4 + 1, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- expand / tile ---- */

static void test_expand_tile(void)
{
	/* expand x (3, 1) = [1 2 3] to (2, 3, 2): strides (0, 1, 0) */
	const float x[3] = {1, 2, 3};
	const float want[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
	const int64_t dims[3] = {2, 3, 2}, strides[3] = {0, 1, 0};
	float y[12];
	tr_strided_copy(x, y, 3, dims, strides, 0, 4);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
	/* tile x (2) = [5 6] by 3: (3, 2) with strides (0, 1) */
	const int32_t t[2] = {5, 6};
	const int64_t td[2] = {3, 2}, ts[2] = {0, 1};
	int32_t ty[6];
	tr_strided_copy(t, ty, 2, td, ts, 0, 4);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(ty[i], i % 2 ? 6 : 5);
}

static void test_strided_rank0_and_empty(void)
{
	const float x[4] = {1, 2, 3, 4};
	float y[1] = {0};
	tr_strided_copy(x, y, 0, NULL, NULL, 2, 4);
	CU_ASSERT_EQUAL(y[0], 3.0f);
	const int64_t dims[2] = {0, 3}, strides[2] = {3, 1};
	y[0] = -1;
	tr_strided_copy(x, y, 2, dims, strides, 0, 4);   /* writes nothing */
	CU_ASSERT_EQUAL(y[0], -1.0f);
}

/* ---- concat / split (row copies) ---- */

static void test_concat_axes(void)
{
	/* a (2, 2) = [[1 2] [3 4]], b (2, 2) = [[5 6] [7 8]] */
	const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	float y[8];
	/* axis 0: y (4, 2): one row of 16 bytes each, at byte offsets 0 and 16 */
	tr_copy_rows(a, y, 1, 16, 16, 32, 0, 0);
	tr_copy_rows(b, y, 1, 16, 16, 32, 0, 16);
	const float want0[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want0[i]);
	/* axis 1: y (2, 4): 2 rows of 8 bytes, y rows are 16 bytes */
	tr_copy_rows(a, y, 2, 8, 8, 16, 0, 0);
	tr_copy_rows(b, y, 2, 8, 8, 16, 0, 8);
	const float want1[8] = {1, 2, 5, 6, 3, 4, 7, 8};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want1[i]);
}

static void test_split_rows(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]] split on axis 1 into 1 and 2 columns */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6};
	int64_t y0[2], y1[4];
	tr_copy_rows(x, y0, 2, 8, 24, 8, 0, 0);
	tr_copy_rows(x, y1, 2, 16, 24, 16, 8, 0);
	CU_ASSERT_EQUAL(y0[0], 1);
	CU_ASSERT_EQUAL(y0[1], 4);
	CU_ASSERT_EQUAL(y1[0], 2);
	CU_ASSERT_EQUAL(y1[1], 3);
	CU_ASSERT_EQUAL(y1[2], 5);
	CU_ASSERT_EQUAL(y1[3], 6);
}

/* ---- gather ---- */

static void test_gather_negative(void)
{
	/* x (3, 2) = [[1 2] [3 4] [5 6]], idx = [-1, 0, -3] along axis 0 */
	const float x[6] = {1, 2, 3, 4, 5, 6};
	const int64_t idx[3] = {-1, 0, -3};
	const float want[6] = {5, 6, 1, 2, 1, 2};
	float y[6];
	tr_gather(x, idx, y, 1, 3, 2, 3, 8, 4);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_gather_axis1_i32_clamped(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]], axis 1, int32 idx = [2, -2, 7, -9]:
	 * 7 and -9 are out of range and clamp to 2 and 0 */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6};
	const int32_t idx[4] = {2, -2, 7, -9};
	const int64_t want[8] = {3, 2, 3, 1, 6, 5, 6, 4};
	int64_t y[8];
	tr_gather(x, idx, y, 2, 3, 1, 4, 4, 8);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- range, fill, const ---- */

static void test_range_fill(void)
{
	int32_t r[2];
	tr_range_i32(r, 10, -3, 2);   /* Range(10, 6, -3) = [10, 7] */
	CU_ASSERT_EQUAL(r[0], 10);
	CU_ASSERT_EQUAL(r[1], 7);
	float f[2];
	tr_range_f32(f, 1.0f, 2.0f, 2);   /* Range(1, 5, 2) = [1, 3] */
	CU_ASSERT_EQUAL(f[0], 1.0f);
	CU_ASSERT_EQUAL(f[1], 3.0f);
	uint8_t b[3] = {0, 0, 0};
	tr_fill_b8(b, 3, 5);
	CU_ASSERT_EQUAL(b[0] + b[1] + b[2], 3);
	int64_t c[2];
	const int64_t v[2] = {-4, 9};
	tr_const_i64(c, v, 2);
	CU_ASSERT_EQUAL(c[0], -4);
	CU_ASSERT_EQUAL(c[1], 9);
}

void register_tensor(void)
{
	CU_pSuite s = CU_add_suite("tensor", NULL, NULL);
	CU_add_test(s, "transpose all perms of (2,3,4)", test_transpose_perms);
	CU_add_test(s, "transpose 2-D literal", test_transpose_2d_literal);
	CU_add_test(s, "transpose tiled 37x45", test_transpose_tiled);
	CU_add_test(s, "transpose bool batched", test_transpose_bool_batched);
	CU_add_test(s, "slice negative step", test_slice_negative_step);
	CU_add_test(s, "slice 2-D reversed rows", test_slice_2d_reversed);
	CU_add_test(s, "expand and tile", test_expand_tile);
	CU_add_test(s, "strided rank 0 and empty", test_strided_rank0_and_empty);
	CU_add_test(s, "concat along each axis", test_concat_axes);
	CU_add_test(s, "split rows", test_split_rows);
	CU_add_test(s, "gather negative indices", test_gather_negative);
	CU_add_test(s, "gather axis 1, int32, clamped", test_gather_axis1_i32_clamped);
	CU_add_test(s, "range, fill, const", test_range_fill);
}
