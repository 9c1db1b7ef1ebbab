/*
 * test_movement.c -- unit tests for the kernels of runtime/tensor/movement.h,
 * index.h and resize.h, and for what the shape functions of
 * compiler/ops/op_movement.c, op_index.c and op_resize.c refuse.
 *
 * The kernel tests cover the edge cases ONNX's node tests and the derived
 * conformance cases do not reach: pads wider than the axis, a crop and a pad
 * on one axis, whole rows of pad value, run-time indices out of range
 * (clamped), NaN and wrapping in scatter reductions, float OneHot indices,
 * row reuse in the nearest gather, resize passes with a constant.  The graph
 * tests build one node on constants and run shape_infer, which folds it
 * through the op's own lowering: values, rewrites (an all-zero Pad becomes an
 * Identity) and every refusal's message.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tostc.h"
#include "tensor/index.h"
#include "tensor/movement.h"
#include "tensor/resize.h"

/* ---- Pad ---- */

static void test_pad_source(void)
{
	/* d = 3: reflect is periodic over 4 (0 1 2 1), wrap over 3, edge clamps */
	static const int64_t reflect[10] = {0, 1, 2, 1, 0, 1, 2, 1, 0, 1};   /* i = -4 .. 5 */
	static const int64_t wrap[10] = {2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
	static const int64_t edge[10] = {0, 0, 0, 0, 0, 1, 2, 2, 2, 2};
	for (int64_t i = -4; i < 6; i++) {
		CU_ASSERT_EQUAL(tr_pad_source(i, 3, 1), reflect[i + 4]);
		CU_ASSERT_EQUAL(tr_pad_source(i, 3, 3), wrap[i + 4]);
		CU_ASSERT_EQUAL(tr_pad_source(i, 3, 2), edge[i + 4]);
		CU_ASSERT_EQUAL(tr_pad_source(i, 3, 0), i >= 0 && i < 3 ? i : -1);
		CU_ASSERT_EQUAL(tr_pad_source(i, 1, 1), 0);   /* one element reflects onto itself */
	}
}

static void test_pad_crop_and_rows(void)
{
	/* x (3, 4) = 0..11, crop row 0 and column 3, then pad one row below and
	 * one column on the left with 9: y (3, 4) =
	 *   [9 4 5 6] [9 8 9 10] [9 9 9 9]   (the last row all pad value) */
	const int32_t x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, v = 9;
	const int32_t want[12] = {9, 4, 5, 6, 9, 8, 9, 10, 9, 9, 9, 9};
	const int64_t yd[2] = {3, 4}, xd[2] = {2, 3}, xs[2] = {4, 1}, b[2] = {0, 1};
	int32_t y[12];
	tr_pad(x, &v, y, 2, yd, xd, xs, b, 4, 0, 4);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_pad_wrap_bytes(void)
{
	/* bool-sized elements, x = [1 2 3], 4 before and 5 after, wrap */
	const uint8_t x[3] = {1, 2, 3};
	const uint8_t want[12] = {3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2};
	const int64_t yd[1] = {12}, xd[1] = {3}, xs[1] = {1}, b[1] = {4};
	uint8_t y[12];
	tr_pad(x, x, y, 1, yd, xd, xs, b, 0, 3, 1);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- Trilu, EyeLike, ReverseSequence ---- */

static void test_trilu_eye(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]] int64 */
	const int64_t x[6] = {1, 2, 3, 4, 5, 6};
	const int64_t up1[6] = {0, 2, 3, 0, 0, 6}, lowm1[6] = {0, 0, 0, 4, 0, 0};
	int64_t y[6];
	tr_trilu(x, y, 1, 2, 3, 1, 1, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], up1[i]);
	tr_trilu(x, y, 1, 2, 3, -1, 0, 8);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], lowm1[i]);
	tr_trilu(x, y, 1, 2, 3, 3, 0, 8);   /* k past the last column: all kept */
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(y[i], x[i]);
	int32_t e[6];
	tr_eye_i32(e, 2, 3, -1);   /* [[0 0 0] [1 0 0]] */
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(e[i], i == 3);
	tr_eye_i32(e, 2, 3, -2);   /* below the matrix: all 0 */
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(e[i], 0);
}

static void test_reverse_sequence_clamped(void)
{
	/* x (batch 3, time 3), lengths 9 (clamped to 3), -1 (to 0), 2 */
	const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float want[9] = {3, 2, 1, 4, 5, 6, 8, 7, 9};
	const int64_t lens[3] = {9, -1, 2};
	float y[9];
	tr_reverse_sequence(x, lens, y, 3, 3, 1, 3, 1, 4);
	for (int i = 0; i < 9; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

/* ---- gathers, scatters, OneHot ---- */

static void test_gather_elements_clamped(void)
{
	/* x (2, 3) = [[1 2 3] [4 5 6]], axis 1, idx (2, 2) = [[7 -1] [-9 1]]:
	 * 7 clamps to 2, -9 to 0 */
	const float x[6] = {1, 2, 3, 4, 5, 6}, want[4] = {3, 3, 4, 5};
	const int32_t idx[4] = {7, -1, -9, 1};
	const int64_t dims[2] = {2, 2}, xs[2] = {3, 1};
	float y[4];
	tr_gather_elements(x, idx, y, 2, dims, xs, 1, 3, 4, 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_scatter_reductions(void)
{
	/* max with NaN on either side propagates it, like numpy */
	float y[3] = {1, NAN, 3};
	const int64_t idx[3] = {0, 1, -1}, ydims[1] = {3};
	const float upd[3] = {NAN, 5, 2};
	tr_scatter_nd_f32(idx, upd, y, 3, 1, ydims, 1, 8, 3);
	CU_ASSERT(isnan(y[0]) && isnan(y[1]));
	CU_ASSERT_EQUAL(y[2], 3.0f);
	/* int32 add wraps around instead of overflowing; repeated indices add up */
	int32_t yi[2] = {INT32_MAX, 0};
	const int64_t ei[3] = {0, 1, 1}, dims[1] = {3}, ys[1] = {1};
	const int32_t ui[3] = {1, 5, 6};
	tr_scatter_elements_i32(ei, ui, yi, 1, dims, ys, 0, 2, 8, 1);
	CU_ASSERT_EQUAL(yi[0], INT32_MIN);
	CU_ASSERT_EQUAL(yi[1], 11);
	/* min on int64 */
	int64_t yl[2] = {4, -4};
	const int64_t ul[2] = {-9, 9}, li[2] = {0, 1};
	tr_scatter_elements_i64(li, ul, yl, 1, (const int64_t[]){2}, ys, 0, 2, 8, 4);
	CU_ASSERT_EQUAL(yl[0], -9);
	CU_ASSERT_EQUAL(yl[1], -4);
}

static void test_one_hot_float_indices(void)
{
	/* depth 3, float indices 2.7 (-> 2), NaN, -1 (-> 2 with neg), 3 (off) */
	const float idx[4] = {2.7f, NAN, -1.0f, 3.0f};
	const int64_t values[2] = {-1, 7};
	int64_t y[12];
	tr_one_hot(idx, values, y, 4, 3, 1, 2, 1, 8);
	static const int64_t want[12] = {-1, -1, 7, -1, -1, -1, -1, -1, 7, -1, -1, -1};
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
	tr_one_hot(idx, values, y, 4, 3, 1, 2, 0, 8);   /* opset 9: -1 is off */
	CU_ASSERT_EQUAL(y[8], -1);
}

/* ---- Resize ---- */

static void test_resize_nearest_rows(void)
{
	/* x (2, 3) bytes, y (4, 2): rows 0 0 1 1 (repeated rows copied from y),
	 * columns 2 0 (not a run) */
	const uint8_t x[6] = {1, 2, 3, 4, 5, 6}, want[8] = {3, 1, 3, 1, 6, 4, 6, 4};
	const int64_t map[6] = {0, 0, 3, 3, 2, 0}, dims[2] = {4, 2};
	uint8_t y[8];
	tr_resize_nearest(x, map, y, 2, dims, 1);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(y[i], want[i]);
}

static void test_resize_passes(void)
{
	/* x (2, 2) = [[1 2] [3 4]]; pass 1 along axis 1 to 3 columns with two taps
	 * (mean of both, first, a constant 5); pass 2 along axis 0 to 1 row,
	 * the mean of both rows */
	const float x[4] = {1, 2, 3, 4};
	const int64_t taps[8] = {0, 0, 0, 1, 0, 0, 0, 1};
	const int64_t plan[10] = {2, 2, 3, 1, 2, 1, 2, 1, 3, 2};
	float y[3], scratch[16];
	/* tap-major: pass 1 weights (2 taps x 3) then constants (3), pass 2
	 * weights (2 x 1) then (1) */
	const float w[12] = {0.5f, 1, 0, 0.5f, 0, 0, 0, 0, 5, 0.5f, 0.5f, 0};
	tr_resize_f32(x, taps, w, y, scratch, 2, plan, 16);
	CU_ASSERT_DOUBLE_EQUAL(y[0], 2.5, 1e-6);   /* mean of 1.5 and 3.5 */
	CU_ASSERT_DOUBLE_EQUAL(y[1], 2.0, 1e-6);   /* mean of 1 and 3 */
	CU_ASSERT_DOUBLE_EQUAL(y[2], 5.0, 1e-6);   /* the constant */
}

/* ---- graph: one node, shape inference and folding ---- */

typedef struct {
	Ctx c;
	jmp_buf jb;
	Graph *g;
	Node *n;
} Case;

static void case_init(Case *t, int opset)
{
	ctx_init(&t->c, "m.onnx");
	t->c.jmp = &t->jb;
	t->g = graph_new(&t->c);
	t->g->opset = opset;
}

/* A constant of dt and shape; values from v (as double), or 0, 1, 2, ... */
static Tensor *konst(Case *t, DType dt, int rank, const int64_t *dims, const double *v)
{
	Tensor *x = tensor_const(t->g, ctx_printf(&t->c, "k%d", t->g->ntensors), dt, rank, dims);
	for (int64_t i = 0; i < tensor_nelem(x); i++) {
		double e = v ? v[i] : (double)i;
		if (dt == DT_F32)
			((float *)x->data)[i] = (float)e;
		else if (dt == DT_I64)
			((int64_t *)x->data)[i] = (int64_t)e;
		else if (dt == DT_I32)
			((int32_t *)x->data)[i] = (int32_t)e;
		else
			((uint8_t *)x->data)[i] = e != 0;
	}
	return x;
}

static Node *add_node(Case *t, OpKind op, int nin, Tensor *const *in)
{
	Node *n = node_new(t->g, op, "n", nin, 1);
	memcpy(n->in, in, sizeof(Tensor *) * (size_t)nin);
	n->out[0] = tensor_new(t->g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	n->out[0]->producer = n;
	graph_add_node(t->g, n);
	return t->n = n;
}

static void set_str(Case *t, const char *name, const char *s)
{
	node_add_attr(t->g, t->n, name, AT_STRING)->s = s;
}

static void set_int(Case *t, const char *name, int64_t v)
{
	node_add_attr(t->g, t->n, name, AT_INT)->i = v;
}

/* shape_infer on the case: 0, or the error code (message in t->c.errmsg) */
static int run(Case *t)
{
	if (setjmp(t->jb))
		return t->c.errcode;
	shape_infer(t->g);
	return 0;
}

/* The case is refused with a message containing `part`; frees it. */
static void refused(Case *t, const char *part)
{
	CU_ASSERT_EQUAL(run(t), 1);
	if (!strstr(t->c.errmsg, part)) {
		fprintf(stderr, "\n  message: %s\n  wanted:  %s\n", t->c.errmsg, part);
		CU_FAIL("error message");
	}
	ctx_free(&t->c);
}

static const int64_t D23[2] = {2, 3}, D4[1] = {4};

static void test_g_pad(void)
{
	Case t;
	/* all-zero pads: an Identity (a view), even in a mode the opset lacks */
	case_init(&t, 13);
	Tensor *in[4] = {konst(&t, DT_F32, 2, D23, NULL), konst(&t, DT_I64, 1, D4, NULL), NULL,
	                 NULL};
	((int64_t *)in[1]->data)[1] = ((int64_t *)in[1]->data)[2] = 0;
	((int64_t *)in[1]->data)[3] = 0;
	Node *n = add_node(&t, OP_PAD, 2, in);
	set_str(&t, "mode", "wrap");
	CU_ASSERT_EQUAL(run(&t), 0);
	CU_ASSERT_EQUAL(n->op, OP_IDENTITY);
	CU_ASSERT_EQUAL(n->out[0]->kind, TK_CONST);
	ctx_free(&t.c);
	/* wrap before opset 19 */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 1, D4, (const double[]){1, 0, 0, 0});
	add_node(&t, OP_PAD, 2, in);
	set_str(&t, "mode", "wrap");
	refused(&t, "mode 'wrap' is new in opset 19");
	/* reflect of an axis cropped away */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 1, D4, (const double[]){-2, 0, 1, 0});
	add_node(&t, OP_PAD, 2, in);
	set_str(&t, "mode", "reflect");
	refused(&t, "none of its elements is left");
	/* a mode that does not exist names those that do */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 1, D4, (const double[]){0, 1, 0, 0});
	add_node(&t, OP_PAD, 2, in);
	set_str(&t, "mode", "mirror");
	refused(&t, "mode 'mirror' is not supported (tostc supports constant, reflect, edge, wrap)");
	/* pads computed at run time */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = tensor_new(t.g, "pads", TK_INPUT, DT_I64, 1, D4);
	add_node(&t, OP_PAD, 2, in);
	refused(&t, "input 1 ('pads') must be a constant");
	/* pads and axes disagree (opset 18) */
	case_init(&t, 18);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 1, D4, NULL);
	in[3] = konst(&t, DT_I64, 1, (const int64_t[]){1}, (const double[]){-1});
	add_node(&t, OP_PAD, 4, in);
	refused(&t, "pads has 4 values; 1 axes need 2");
}

static void test_g_resize(void)
{
	Case t;
	static const int64_t d1[1] = {1}, d8[1] = {8};
	/* linear, half_pixel, 4 -> 8: (o + 0.5) / 2 - 0.5, clamped at the edges */
	case_init(&t, 13);
	Tensor *in[4] = {konst(&t, DT_F32, 1, D4, NULL), NULL, NULL,
	                 konst(&t, DT_I64, 1, d1, (const double[]){8})};
	Node *n = add_node(&t, OP_RESIZE, 4, in);
	set_str(&t, "mode", "linear");
	CU_ASSERT_EQUAL_FATAL(run(&t), 0);
	static const float want[8] = {0, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3};
	CU_ASSERT_EQUAL_FATAL(n->out[0]->dims[0], 8);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_DOUBLE_EQUAL(((const float *)n->out[0]->data)[i], want[i], 1e-6);
	ctx_free(&t.c);
	/* scales and sizes both */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 1, D4, NULL);
	in[2] = konst(&t, DT_F32, 1, d1, (const double[]){2});
	in[3] = konst(&t, DT_I64, 1, d1, (const double[]){8});
	add_node(&t, OP_RESIZE, 4, in);
	refused(&t, "scales and sizes are both given");
	/* linear interpolation of integers */
	case_init(&t, 13);
	in[0] = konst(&t, DT_I64, 1, D4, NULL);
	in[2] = NULL;
	in[3] = konst(&t, DT_I64, 1, d1, (const double[]){8});
	add_node(&t, OP_RESIZE, 4, in);
	set_str(&t, "mode", "linear");
	refused(&t, "has element type i64; this op supports f32");
	/* tf_crop_and_resize with scales and a partial roi */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 1, D4, NULL);
	in[1] = konst(&t, DT_F32, 1, (const int64_t[]){2}, (const double[]){0.25, 1});
	in[2] = konst(&t, DT_F32, 1, d1, (const double[]){2});
	add_node(&t, OP_RESIZE, 3, in);
	set_str(&t, "coordinate_transformation_mode", "tf_crop_and_resize");
	refused(&t, "give sizes");
	/* nearest extrapolating int data */
	case_init(&t, 13);
	in[0] = konst(&t, DT_I32, 1, D4, NULL);
	in[1] = konst(&t, DT_F32, 1, (const int64_t[]){2}, (const double[]){-0.5, 1});
	in[2] = NULL;
	in[3] = konst(&t, DT_I64, 1, d1, (const double[]){8});
	add_node(&t, OP_RESIZE, 4, in);
	set_str(&t, "coordinate_transformation_mode", "tf_crop_and_resize");
	refused(&t, "needs f32 data");
	/* cubic is not a mode of opset 10 */
	case_init(&t, 10);
	in[0] = konst(&t, DT_F32, 1, D4, NULL);
	in[1] = konst(&t, DT_F32, 1, d1, (const double[]){2});
	add_node(&t, OP_RESIZE, 2, in);
	set_str(&t, "mode", "cubic");
	refused(&t, "mode 'cubic' is not supported (tostc supports nearest, linear)");
	/* Upsample: nearest, asymmetric, floor: [0 0 1 1 2 2 3 3] */
	case_init(&t, 9);
	in[0] = konst(&t, DT_I32, 1, D4, NULL);
	in[1] = konst(&t, DT_F32, 1, d1, (const double[]){2});
	n = add_node(&t, OP_UPSAMPLE, 2, in);
	CU_ASSERT_EQUAL_FATAL(run(&t), 0);
	CU_ASSERT_EQUAL_FATAL(n->out[0]->dims[0], d8[0]);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(((const int32_t *)n->out[0]->data)[i], i / 2);
	ctx_free(&t.c);
}

static void test_g_index(void)
{
	Case t;
	static const int64_t d21[2] = {2, 1}, d2[1] = {2};
	/* max before opset 18 */
	case_init(&t, 16);
	Tensor *in[3] = {konst(&t, DT_F32, 1, D4, NULL), konst(&t, DT_I64, 2, d21, NULL),
	                 konst(&t, DT_F32, 1, d2, NULL)};
	add_node(&t, OP_SCATTER_ND, 3, in);
	set_str(&t, "reduction", "max");
	refused(&t, "reduction 'max' is new in opset 18");
	/* add on bools */
	case_init(&t, 16);
	in[0] = konst(&t, DT_BOOL, 1, D4, NULL);
	in[1] = konst(&t, DT_I64, 2, d21, NULL);
	in[2] = konst(&t, DT_BOOL, 1, d2, NULL);
	add_node(&t, OP_SCATTER_ND, 3, in);
	set_str(&t, "reduction", "add");
	refused(&t, "reduction 'add' on bool data is not supported");
	/* a constant index out of range */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 2, (const int64_t[]){1, 2}, (const double[]){0, 3});
	add_node(&t, OP_GATHER_ELEMENTS, 2, in);
	set_int(&t, "axis", 1);
	refused(&t, "index 3 (element 1 of the indices) is out of range");
	/* GatherND tuples longer than the data's rank */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	in[1] = konst(&t, DT_I64, 2, (const int64_t[]){1, 3}, NULL);
	add_node(&t, OP_GATHER_ND, 2, in);
	refused(&t, "index tuples of 3 values cannot index");
	/* OneHot's depth must be known */
	case_init(&t, 11);
	in[0] = konst(&t, DT_I64, 1, D4, NULL);
	in[1] = tensor_new(t.g, "depth", TK_INPUT, DT_I64, 0, d2);
	in[2] = konst(&t, DT_F32, 1, d2, NULL);
	add_node(&t, OP_ONE_HOT, 3, in);
	refused(&t, "input 1 ('depth') must be a constant");
	/* EyeLike of an unsupported type */
	case_init(&t, 9);
	in[0] = konst(&t, DT_F32, 2, D23, NULL);
	add_node(&t, OP_EYE_LIKE, 1, in);
	set_int(&t, "dtype", 11);
	refused(&t, "dtype DOUBLE is not supported");
	/* DepthToSpace: channels that do not fill the blocks */
	case_init(&t, 13);
	in[0] = konst(&t, DT_F32, 4, (const int64_t[]){1, 6, 2, 2}, NULL);
	add_node(&t, OP_DEPTH_TO_SPACE, 1, in);
	set_int(&t, "blocksize", 2);
	refused(&t, "6 channels do not split into blocks of 2 x 2");
}

void register_movement(void)
{
	CU_pSuite s = CU_add_suite("movement", NULL, NULL);
	CU_add_test(s, "pad: source index per mode", test_pad_source);
	CU_add_test(s, "pad: crop, pad, whole pad rows", test_pad_crop_and_rows);
	CU_add_test(s, "pad: wrap wider than the axis, bytes", test_pad_wrap_bytes);
	CU_add_test(s, "trilu, eye", test_trilu_eye);
	CU_add_test(s, "reverse sequence, lengths clamped", test_reverse_sequence_clamped);
	CU_add_test(s, "gather elements, indices clamped", test_gather_elements_clamped);
	CU_add_test(s, "scatter reductions: NaN, wrapping, repeats", test_scatter_reductions);
	CU_add_test(s, "one hot, float indices", test_one_hot_float_indices);
	CU_add_test(s, "resize nearest, repeated rows", test_resize_nearest_rows);
	CU_add_test(s, "resize passes, constant", test_resize_passes);
	CU_add_test(s, "graph: pad", test_g_pad);
	CU_add_test(s, "graph: resize, upsample", test_g_resize);
	CU_add_test(s, "graph: gathers, scatters, one hot, eye like, depth to space", test_g_index);
}
