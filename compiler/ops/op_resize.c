/*
 * op_resize.c -- Resize (opsets 10 to 19) and Upsample (opsets 7 and 9).
 *
 * The output size, and for every output position along every axis which
 * input positions it reads with which weights, depend only on shapes,
 * attributes and the constant scales / sizes / roi: they are computed here
 * in double precision, following ONNX's reference implementation
 * (onnx/backend/test/case/node/resize.py and, for opsets 18 and 19,
 * onnx/reference/ops/op_resize.py), and handed to the kernels of
 * runtime/tensor/resize.h as constant tables:
 *
 *   - coordinate: output position o -> input coordinate x by
 *     coordinate_transformation_mode (half_pixel, half_pixel_symmetric,
 *     pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
 *     tf_crop_and_resize with its roi), with `scale` the given scale or
 *     out/in for sizes, and output_width = scale * in unrounded;
 *   - nearest: one tap, rounded by nearest_mode (opset 10 and Upsample:
 *     floor, ceil when downsampling, as onnxruntime does), clamped;
 *   - linear and cubic: x = base + r with r in (0, 1], taps base + i with
 *     the triangle or Keys cubic (cubic_coeff_a) weight of i - r, clamped
 *     to the edge; antialias (opset 18) stretches the filter by 1 / scale
 *     when downsampling and normalises it; exclude_outside drops the taps
 *     outside the input and normalises; a tf_crop_and_resize position
 *     outside the input gets no taps and extrapolation_value.
 *
 * Nearest is one gather for any element type (tr_resize_nearest); linear
 * and cubic (and nearest with extrapolated positions) are separable passes
 * over f32 (tr_resize_f32), one per axis that is not the identity, the
 * axis that shrinks most first.
 */
#include <math.h>
#include <string.h>

#include "tostc.h"

#define ALL_DTYPES ((1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32) | (1u << DT_BOOL))

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
static const char *const rs_modes[] = {"nearest", "linear", "cubic"};
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYMMETRIC, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS,
       CT_ASYMMETRIC, CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE };
static const char *const ct_modes[] = {"half_pixel", "half_pixel_symmetric",
                                       "pytorch_half_pixel", "align_corners", "asymmetric",
                                       "tf_half_pixel_for_nn", "tf_crop_and_resize"};
/* NM_SIMPLE: opset 10's Resize and Upsample, which have no nearest_mode */
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };
static const char *const nm_modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                       "ceil"};
enum { KA_STRETCH, KA_NOT_LARGER, KA_NOT_SMALLER };
static const char *const ka_modes[] = {"stretch", "not_larger", "not_smaller"};

/* Everything that decides a Resize or Upsample node's tables. */
typedef struct {
	int rank;
	int mode, coord, nearest;         /* RS_*, CT_*, NM_* */
	double cubic_a, extrapolation;
	bool exclude_outside, antialias;
	double scale[MAX_RANK];           /* per axis; 1 where not resized */
	double roi0[MAX_RANK], roi1[MAX_RANK];   /* tf_crop_and_resize's region */
	int64_t in[MAX_RANK], out[MAX_RANK];
} ResizeSpec;

/* The constant f32 (or i64: sizes) list in input i, or -1 when the input is
 * absent or empty. */
static int resize_list(Graph *g, Node *n, int i, DType dt, double *v, const char *what)
{
	if (i >= n->nin || !n->in[i] || tensor_nelem(n->in[i]) == 0)
		return -1;
	need_dtype(g, n, i, 1u << dt);
	Tensor *t = need_const(g, n, i);
	if (t->rank != 1 || tensor_nelem(t) > 2 * MAX_RANK)
		node_error(g, n, "%s (input %d) must be 1-D with at most %d values, not %s", what, i,
		           2 * MAX_RANK, tensor_shape_str(g->ctx, t));
	for (int64_t k = 0; k < tensor_nelem(t); k++)
		v[k] = dt == DT_F32 ? tensor_get_f(t, k) : (double)tensor_get_i(t, k);
	return (int)tensor_nelem(t);
}

/* Scales or sizes of the axes listed (Resize opset 18's axes attribute, or
 * all), spread over the whole rank. */
static void resize_targets(Graph *g, Node *n, ResizeSpec *s, const double *scales, int ns,
                           const double *sizes, int nz, const double *roi, int nr)
{
	int r = s->rank, axes[MAX_RANK], na = r;
	const int64_t *av;
	int cnt = attr_ints(n, "axes", &av);
	for (int k = 0; k < r; k++)
		axes[k] = k;
	if (cnt >= 0) {
		bool seen[MAX_RANK] = {0};
		if (cnt > r)
			node_error(g, n, "axes has %d values for an input of rank %d", cnt, r);
		for (int k = 0; k < cnt; k++) {
			axes[k] = shape_axis(g, n, av[k], r);
			if (seen[axes[k]])
				node_error(g, n, "axes lists axis %d twice", axes[k]);
			seen[axes[k]] = true;
		}
		na = cnt;
	}
	if ((ns >= 0) == (nz >= 0))
		node_error(g, n, ns >= 0 ? "scales and sizes are both given; ONNX allows one"
		                         : "scales or sizes is required");
	if ((ns >= 0 ? ns : nz) != na)
		node_error(g, n, "%s has %d values for %d axes", ns >= 0 ? "scales" : "sizes",
		           ns >= 0 ? ns : nz, na);
	if (s->coord == CT_TF_CROP_AND_RESIZE && nr != 2 * na)
		node_error(g, n, "tf_crop_and_resize needs roi (input 1) with %d values (start and end "
		           "of each axis), not %d", 2 * na, nr < 0 ? 0 : nr);
	int policy = op_attr_choice(g, n, "keep_aspect_ratio_policy", "stretch", ka_modes, 3);
	double keep = policy == KA_NOT_LARGER ? INFINITY : 0;
	for (int k = 0; k < r; k++) {
		s->scale[k] = 1;
		s->out[k] = s->in[k];
		s->roi0[k] = 0;
		s->roi1[k] = 1;
	}
	for (int k = 0; k < na; k++) {
		int a = axes[k];
		if (s->in[a] == 0)
			node_error(g, n, "cannot resize axis %d of size 0", a);
		if (s->coord == CT_TF_CROP_AND_RESIZE) {
			s->roi0[a] = roi[k];
			s->roi1[a] = roi[na + k];
		}
		if (ns >= 0) {
			if (!(scales[k] > 0 && scales[k] < 1e6))
				node_error(g, n, "scales[%d] = %g must be positive", k, scales[k]);
			if (s->coord == CT_TF_CROP_AND_RESIZE && (s->roi0[a] != 0 || s->roi1[a] != 1))
				node_error(g, n, "tf_crop_and_resize with scales and a partial roi: ONNX's "
				           "spec and its reference disagree on the output size; give sizes");
			double out = floor(scales[k] * (double)s->in[a]);
			if (out > 1e15)
				node_error(g, n, "scales[%d] = %g makes axis %d too large", k, scales[k], a);
			s->scale[a] = scales[k];
			s->out[a] = (int64_t)out;
			continue;
		}
		if (!(sizes[k] >= 0 && sizes[k] < 1e15))
			node_error(g, n, "sizes[%d] = %g is out of range", k, sizes[k]);
		s->out[a] = (int64_t)sizes[k];
		s->scale[a] = sizes[k] / (double)s->in[a];
		if (policy == KA_NOT_LARGER)
			keep = fmin(keep, s->scale[a]);
		else if (policy == KA_NOT_SMALLER)
			keep = fmax(keep, s->scale[a]);
	}
	if (nz >= 0 && policy != KA_STRETCH)
		for (int k = 0; k < na; k++) {   /* one scale for all axes, sizes rounded half up */
			s->scale[axes[k]] = keep;
			s->out[axes[k]] = (int64_t)(keep * (double)s->in[axes[k]] + 0.5);
		}
}

/* Read a Resize (opset 10: scales input; 11 and later: roi, scales, sizes)
 * or Upsample (opset < 9: scales attribute; 9: scales input) node. */
static void resize_spec(Graph *g, Node *n, ResizeSpec *s)
{
	Tensor *x = n->in[0];
	double scales[2 * MAX_RANK], sizes[2 * MAX_RANK], roi[2 * MAX_RANK];
	int ns = -1, nz = -1, nr = -1;
	bool v10 = n->op == OP_UPSAMPLE || g->opset < 11;   /* no coordinate modes yet */
	memset(s, 0, sizeof *s);
	s->rank = x->rank;
	for (int k = 0; k < x->rank; k++)
		s->in[k] = x->dims[k];
	s->mode = op_attr_choice(g, n, "mode", "nearest", rs_modes, v10 ? 2 : 3);
	s->coord = v10 ? CT_ASYMMETRIC
	               : op_attr_choice(g, n, "coordinate_transformation_mode", "half_pixel",
	                                ct_modes, 7);
	s->nearest = v10 ? NM_SIMPLE
	                 : op_attr_choice(g, n, "nearest_mode", "round_prefer_floor", nm_modes, 4);
	s->cubic_a = attr_float(n, "cubic_coeff_a", -0.75f);
	s->exclude_outside = attr_int(n, "exclude_outside", 0) != 0;
	s->extrapolation = attr_float(n, "extrapolation_value", 0.0f);
	s->antialias = attr_int(n, "antialias", 0) != 0 && s->mode != RS_NEAREST;
	if (x->rank < 1)
		node_error(g, n, "cannot resize a scalar");
	if (s->mode != RS_NEAREST)
		need_dtype(g, n, 0, 1u << DT_F32);
	else
		need_dtype(g, n, 0, ALL_DTYPES);
	if (n->op == OP_UPSAMPLE && g->opset < 9) {
		const float *v;
		ns = attr_floats(n, "scales", &v);
		if (ns < 0)
			node_error(g, n, "the scales attribute is required");
		for (int k = 0; k < ns && k < 2 * MAX_RANK; k++)
			scales[k] = v[k];
	} else if (v10) {
		ns = resize_list(g, n, 1, DT_F32, scales, "scales");
	} else {
		if (s->coord == CT_TF_CROP_AND_RESIZE)
			nr = resize_list(g, n, 1, DT_F32, roi, "roi");
		ns = resize_list(g, n, 2, DT_F32, scales, "scales");
		nz = resize_list(g, n, 3, DT_I64, sizes, "sizes");
	}
	if (v10 && attr_find(n, "axes"))
		node_error(g, n, "the axes attribute is new in Resize-18");
	resize_targets(g, n, s, scales, ns, sizes, nz, roi, nr);
}

/* ------------------------------------------------------------------ */
/* The tables                                                           */
/* ------------------------------------------------------------------ */

/* The input coordinate of output position o along axis a (ONNX's
 * reference); *outside: tf_crop_and_resize left the input there. */
static double resize_coord(const ResizeSpec *s, int a, int64_t o, bool *outside)
{
	double in = (double)s->in[a], scale = s->scale[a], width = scale * in, x = (double)o;
	*outside = false;
	switch (s->coord) {
	case CT_HALF_PIXEL:
		return (x + 0.5) / scale - 0.5;
	case CT_HALF_PIXEL_SYMMETRIC: {
		double offset = in / 2 * (1 - (double)s->out[a] / width);
		return offset + (x + 0.5) / scale - 0.5;
	}
	case CT_PYTORCH_HALF_PIXEL:
		return width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
	case CT_ALIGN_CORNERS:
		return width == 1 ? 0 : x * (in - 1) / (width - 1);
	case CT_ASYMMETRIC:
		return x / scale;
	case CT_TF_HALF_PIXEL_FOR_NN:
		return (x + 0.5) / scale;
	default: {
		double r0 = s->roi0[a], r1 = s->roi1[a];
		double c = width == 1 ? (r1 - r0) * (in - 1) / 2 : x * (r1 - r0) * (in - 1) / (width - 1);
		c += r0 * (in - 1);
		*outside = !(c >= 0 && c <= in - 1);   /* also NaN (a NaN roi) */
		return c;
	}
	}
}

/* The input index nearest coordinate c reads, before clamping. */
static double nearest_index(const ResizeSpec *s, int a, double c)
{
	double f = floor(c), r = c - f;
	if (r == 0)
		return c;
	switch (s->nearest) {
	case NM_ROUND_PREFER_FLOOR: return r <= 0.5 ? f : f + 1;
	case NM_ROUND_PREFER_CEIL: return r < 0.5 ? f : f + 1;
	case NM_FLOOR: return f;
	case NM_CEIL: return f + 1;
	default: return s->scale[a] < 1 ? f + 1 : f;   /* NM_SIMPLE */
	}
}

/* The Keys cubic kernel at distance d. */
static double cubic_weight(double a, double d)
{
	d = fabs(d);
	if (d <= 1)
		return ((a + 2) * d - (a + 3)) * d * d + 1;
	if (d < 2)
		return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
	return 0;
}

/* Taps per output position along axis a, and the first tap's offset from
 * base: (-start + 1) * 2 taps centred on the coordinate. */
static int resize_ntap(const ResizeSpec *s, int a, int64_t *start)
{
	double sc = s->antialias && s->scale[a] < 1 ? s->scale[a] : 1;
	if (s->mode == RS_NEAREST) {
		*start = 0;
		return 1;
	}
	/* a scale of 0 (an empty output) or a tiny one: more taps than any
	 * shape_resize allows, without overflow */
	double st = sc > 1e-6 ? floor((s->mode == RS_LINEAR ? -1 : -2) / sc) + 1 : -1e7;
	*start = (int64_t)st;
	return (int)(2 - 2 * *start);
}

/* Output position o along axis a: ntap indices and weights and the
 * constant b (tf_crop_and_resize's extrapolation value). */
static void resize_taps(const ResizeSpec *s, int a, int64_t o, int ntap, int64_t start,
                        int64_t *idx, double *w, double *b)
{
	bool outside;
	double c = resize_coord(s, a, o, &outside), sc = 1, sum = 0;
	int64_t in = s->in[a];
	if (!(c > -1e12 && c < 1e12))   /* far outside (it clamps to an edge), and castable */
		c = c > 0 ? 1e12 : -1e12;
	*b = 0;
	for (int t = 0; t < ntap; t++) {
		idx[t] = 0;
		w[t] = 0;
	}
	if (outside) {
		*b = s->extrapolation;
		return;
	}
	if (s->mode == RS_NEAREST) {
		double k = nearest_index(s, a, c);
		idx[0] = k < 0 ? 0 : k > (double)(in - 1) ? in - 1 : (int64_t)k;
		w[0] = 1;
		return;
	}
	if (s->antialias && s->scale[a] < 1)
		sc = s->scale[a];
	double r = c - floor(c);
	r = r == 0 ? 1 : r;
	int64_t base = (int64_t)(c - r);
	for (int t = 0; t < ntap; t++) {
		double d = (double)(start + t) - r;
		int64_t i = base + start + t;
		w[t] = s->mode == RS_LINEAR ? fmax(0, 1 - fabs(d * sc)) : cubic_weight(s->cubic_a, d * sc);
		if (s->exclude_outside && (i < 0 || i >= in))
			w[t] = 0;
		idx[t] = i < 0 ? 0 : i >= in ? in - 1 : i;
		sum += w[t];
	}
	if ((s->antialias || s->exclude_outside) && sum != 0)
		for (int t = 0; t < ntap; t++)
			w[t] /= sum;
}

/* Does nearest along axis a need a constant (an extrapolated position)? */
static bool resize_extrapolates(const ResizeSpec *s, int a)
{
	bool outside = false;
	for (int64_t o = 0; o < s->out[a] && !outside; o++)
		resize_coord(s, a, o, &outside);
	return outside;
}

/* Axis a maps every output position to the same input position. */
static bool resize_identity(const ResizeSpec *s, int a)
{
	int64_t start, idx[64];
	double w[64], b;
	int ntap = resize_ntap(s, a, &start);
	if (s->out[a] != s->in[a] || ntap > 64)
		return false;
	for (int64_t o = 0; o < s->out[a]; o++) {
		resize_taps(s, a, o, ntap, start, idx, w, &b);
		double one = 0;
		for (int t = 0; t < ntap; t++) {
			if (w[t] != 0 && idx[t] != o)
				return false;
			one += w[t];
		}
		if (b != 0 || one != 1)
			return false;
	}
	return true;
}

/* Nearest is a gather unless tf_crop_and_resize leaves the input somewhere:
 * then, like linear and cubic, it runs tr_resize_f32. */
static bool resize_gathers(const ResizeSpec *s)
{
	bool gather = s->mode == RS_NEAREST;
	for (int a = 0; gather && a < s->rank; a++)
		gather = !resize_extrapolates(s, a);
	return gather;
}

void shape_resize(Graph *g, Node *n)
{
	ResizeSpec s;
	int64_t start;
	resize_spec(g, n, &s);
	if (!resize_gathers(&s) && n->in[0]->dtype != DT_F32)
		node_error(g, n, "nearest with extrapolated positions (tf_crop_and_resize) needs f32 "
		           "data, not %s", dtype_name(n->in[0]->dtype));
	for (int a = 0; a < s.rank; a++)
		if (s.out[a] > 0 && resize_ntap(&s, a, &start) > 4096)
			node_error(g, n, "antialiasing a downscale by %g along axis %d would take more than "
			           "4096 inputs per output", 1 / s.scale[a], a);
	shape_set(n->out[0], n->in[0]->dtype, s.rank, s.out);
}

/* x -> y through one gather: per axis, the source index times x's stride */
static void lower_resize_nearest(Graph *g, Node *n, const ResizeSpec *s)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int64_t xs[MAX_RANK], total = 0, idx[1];
	double w[1], bias;
	tensor_strides(x->rank, x->dims, xs);
	for (int a = 0; a < s->rank; a++)
		total = ctx_add(g->ctx, total, s->out[a]);
	Tensor *map = tensor_const(g, ctx_printf(g->ctx, "%s.resize_map%d", y->name, g->ntensors),
	                           DT_I64, 1, &total);
	int64_t *m = map->data;
	for (int a = 0; a < s->rank; a++)
		for (int64_t o = 0; o < s->out[a]; o++) {
			resize_taps(s, a, o, 1, 0, idx, w, &bias);
			*m++ = idx[0] * xs[a];
		}
	Call *c = call_new(g, n, K_tr_resize_nearest);
	call_in(c, x);
	call_in(c, map);
	call_out(c, y);
	call_int(c, s->rank);
	call_ints(g, c, s->out, s->rank);
	call_int(c, (int64_t)dtype_size(x->dtype));
}

/* Is axis a's pass done before axis b's (a later axis than b)?  The one
 * that shrinks most first, so later passes have less to do; between equal
 * ratios the later axis (the last one's pass is a gather, the slower kind)
 * first when growing, last when shrinking. */
static bool resize_before(const ResizeSpec *s, int a, int b)
{
	double qa = (double)s->out[a] / (double)s->in[a], qb = (double)s->out[b] / (double)s->in[b];
	return qa < qb || (qa == qb && qa > 1);
}

/* The tables of the passes along axes order[0..np), one after the other:
 * taps (ntap x nout indices) and w (ntap x nout weights, nout constants),
 * tap-major. */
static void resize_tables(Graph *g, const ResizeSpec *s, const int *order, int np, int64_t *ti,
                          float *tw)
{
	for (int p = 0; p < np; p++) {
		int a = order[p];
		int64_t start, nout = s->out[a];
		int ntap = resize_ntap(s, a, &start);
		int64_t *idx = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)ntap);
		double *w = ctx_alloc(g->ctx, sizeof(double) * (size_t)ntap), b;
		for (int64_t o = 0; o < nout; o++) {
			resize_taps(s, a, o, ntap, start, idx, w, &b);
			for (int t = 0; t < ntap; t++) {
				ti[t * nout + o] = idx[t];
				tw[t * nout + o] = (float)w[t];
			}
			tw[ntap * nout + o] = (float)b;
		}
		ti += ntap * nout;
		tw += (ntap + 1) * nout;
	}
}

/* x -> y in separable passes over f32 along the axes that are not the
 * identity, in the order of resize_before */
static void lower_resize_passes(Graph *g, Node *n, const ResizeSpec *s)
{
	Tensor *x = n->in[0], *y = n->out[0];
	int order[MAX_RANK], np = 0;
	int64_t plan[5 * MAX_RANK], cur[MAX_RANK], ntaps = 0, nw = 0, half = 0;
	for (int a = 0; a < s->rank; a++) {
		if (resize_identity(s, a))
			continue;
		int j = np++;   /* insertion sort */
		while (j > 0 && resize_before(s, a, order[j - 1])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = a;
	}
	if (np == 0) {
		Call *c = call_new(g, n, K_tr_copy);
		call_in(c, x);
		call_out(c, y);
		call_int(c, tensor_nbytes(y));
		return;
	}
	memcpy(cur, s->in, sizeof(int64_t) * (size_t)s->rank);
	for (int p = 0; p < np; p++) {
		int a = order[p];
		int64_t start, *q = plan + 5 * p;
		q[0] = 1;
		for (int k = 0; k < a; k++)
			q[0] *= cur[k];
		q[1] = cur[a];
		q[2] = s->out[a];
		q[3] = 1;
		for (int k = a + 1; k < s->rank; k++)
			q[3] *= cur[k];
		q[4] = resize_ntap(s, a, &start);
		cur[a] = s->out[a];
		ntaps = ctx_add(g->ctx, ntaps, ctx_mul(g->ctx, q[2], q[4]));
		nw = ctx_add(g->ctx, nw, ctx_mul(g->ctx, q[2], q[4] + 1));
		int64_t size = ctx_mul(g->ctx, ctx_mul(g->ctx, q[0], q[2]), q[3]);
		if (p < np - 1 && size > half)
			half = size;
	}
	half = (half + 15) / 16 * 16;   /* 64-byte aligned second buffer */
	Tensor *taps = tensor_const(g, ctx_printf(g->ctx, "%s.resize_taps%d", y->name, g->ntensors),
	                            DT_I64, 1, &ntaps);
	Tensor *wts = tensor_const(g, ctx_printf(g->ctx, "%s.resize_weights%d", y->name,
	                                         g->ntensors), DT_F32, 1, &nw);
	resize_tables(g, s, order, np, taps->data, wts->data);
	Call *c = call_new(g, n, K_tr_resize_f32);
	call_in(c, x);
	call_in(c, taps);
	call_in(c, wts);
	call_out(c, y);
	call_scratch(c, (np > 2 ? 2 : np - 1) * half * 4);
	call_int(c, np);
	call_ints(g, c, plan, 5 * np);
	call_int(c, half);
}

void lower_resize(Graph *g, Node *n)
{
	ResizeSpec s;
	resize_spec(g, n, &s);
	if (tensor_nelem(n->out[0]) == 0)
		return;
	if (resize_gathers(&s))
		lower_resize_nearest(g, n, &s);
	else
		lower_resize_passes(g, n, &s);
}
