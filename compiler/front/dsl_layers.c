/*
 * dsl_layers.c -- the layers of the ToST model language (see dsl.c and
 * docs/dsl.md): what each layer call appends to the IR, and the weights it
 * reads from the state_dict.
 *
 * Each layer is a row of the `layers` table: its name, its parameters (kind,
 * default) and a function that receives them bound and checked (dsl.c binds
 * positional and keyword arguments) together with the weights prefix of its
 * `@ path`.  Layers with weights read them with weight(): converted to f32,
 * checked against the shape the layer expects, cached per key (a tied
 * embedding and head share one constant).  TSSA lowers to the fused
 * OP_TSSA / OP_CAUSAL_TSSA; everything else to ONNX-equivalent ops, built
 * the way torch.onnx exports the same PyTorch module where it matters for
 * rounding (GELU).  Every node gets the loc of the call being lowered
 * (D->at) and its shape is inferred at once, so errors name the DSL line.
 */
#include "tostc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ERR DSL_ERR

static DslValue vint(int64_t i) { return (DslValue){.kind = DV_INT, .i = i}; }
static DslValue vtensor(Tensor *t) { return (DslValue){.kind = DV_TENSOR, .t = t}; }

/* ------------------------------------------------------------------ */
/* Building the graph                                                   */
/* ------------------------------------------------------------------ */

static const char *shape_str(Dsl *D, const Tensor *t) { return tensor_shape_str(D->c, t); }

/* A new node of `op` reading in[0..nin) (NULL: omitted optional input), with
 * one output, positioned at the construct being lowered (D->at).  Add
 * attributes, then finish() it. */
static Node *mknode(Dsl *D, OpKind op, const char *scope, int nin, Tensor *const *in)
{
	Graph *g = D->g;
	const char *name = ctx_printf(D->c, "%s#%d", scope && scope[0] ? scope : op_info[op].name,
	                              D->counter++);
	Node *n = node_new(g, op, name, nin, 1);
	n->index = g->nnodes;
	n->loc = (SrcLoc){D->file, D->at->line, D->at->col};
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	Tensor *t = tensor_new(g, ctx_printf(D->c, "%s:%s", name, op_info[op].name), TK_VALUE,
	                       DT_UNDEF, 0, NULL);
	t->producer = n;
	n->out[0] = t;
	return n;
}

/* Append the node and infer its output shape now.  An error from the op's
 * shape function (node_error: "file:line:col: error: Op: msg") gets the source
 * line and a caret appended, then unwinds on as before. */
static Tensor *finish(Dsl *D, Node *n)
{
	Ctx *c = D->c;
	graph_add_node(D->g, n);
	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (setjmp(jb)) {
		c->jmp = outer;
		dsl_excerpt(c, D->src, n->loc.line, n->loc.col);
		ctx_rethrow(c);
	}
	op_info[n->op].shape(D->g, n);
	shape_check_outputs(D->g, n);
	c->jmp = outer;
	return n->out[0];
}

Tensor *dsl_op1(Dsl *D, OpKind op, const char *scope, Tensor *a)
{
	return finish(D, mknode(D, op, scope, 1, &a));
}

Tensor *dsl_op2(Dsl *D, OpKind op, const char *scope, Tensor *a, Tensor *b)
{
	Tensor *in[2] = {a, b};
	return finish(D, mknode(D, op, scope, 2, in));
}

static void attr_i(Dsl *D, Node *n, const char *name, int64_t v)
{
	node_add_attr(D->g, n, name, AT_INT)->i = v;
}

static void attr_f(Dsl *D, Node *n, const char *name, float v)
{
	node_add_attr(D->g, n, name, AT_FLOAT)->f = v;
}

static void attr_is(Dsl *D, Node *n, const char *name, const int64_t *v, int k)
{
	Attr *a = node_add_attr(D->g, n, name, AT_INTS);
	a->ints = ctx_alloc(D->c, sizeof(int64_t) * (size_t)(k ? k : 1));
	memcpy(a->ints, v, sizeof(int64_t) * (size_t)k);
	a->n = k;
}

Tensor *dsl_const_f32(Dsl *D, float v)
{
	int64_t none[1] = {1};
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "const#%d", D->counter++), DT_F32, 0, none);
	((float *)t->data)[0] = v;
	return t;
}

Tensor *dsl_const_i64(Dsl *D, int rank, const int64_t *v, int n)
{
	int64_t dims[1] = {n};
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "const#%d", D->counter++), DT_I64, rank,
	                         dims);
	memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	return t;
}

static Tensor *reshape(Dsl *D, const char *scope, Tensor *x, int rank, const int64_t *dims)
{
	return dsl_op2(D, OP_RESHAPE, scope, x, dsl_const_i64(D, 1, dims, rank));
}

static Tensor *transpose(Dsl *D, const char *scope, Tensor *x, const int64_t *perm)
{
	Node *n = mknode(D, OP_TRANSPOSE, scope, 1, &x);
	attr_is(D, n, "perm", perm, x->rank);
	return finish(D, n);
}

/* x[start:end] along axis (the opset-13 form: starts, ends, axes inputs). */
static Tensor *slice(Dsl *D, const char *scope, Tensor *x, int64_t axis, int64_t start,
                     int64_t end)
{
	Tensor *in[4] = {x, dsl_const_i64(D, 1, &start, 1), dsl_const_i64(D, 1, &end, 1),
	                 dsl_const_i64(D, 1, &axis, 1)};
	return finish(D, mknode(D, OP_SLICE, scope, 4, in));
}

static Tensor *concat(Dsl *D, const char *scope, Tensor *a, Tensor *b, int64_t axis)
{
	Tensor *in[2] = {a, b};
	Node *n = mknode(D, OP_CONCAT, scope, 2, in);
	attr_i(D, n, "axis", axis);
	return finish(D, n);
}

/* x[..., i, ...] along axis: the axis disappears (Gather with a scalar index). */
static Tensor *pick(Dsl *D, const char *scope, Tensor *x, int64_t axis, int64_t i)
{
	Tensor *in[2] = {x, dsl_const_i64(D, 0, &i, 1)};
	Node *n = mknode(D, OP_GATHER, scope, 2, in);
	attr_i(D, n, "axis", axis);
	return finish(D, n);
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */
/* ------------------------------------------------------------------ */

static const char *dims_str(Dsl *D, int rank, const int64_t *dims)
{
	char buf[256];
	int k = snprintf(buf, sizeof buf, "[");
	for (int i = 0; i < rank && k < (int)sizeof buf - 24; i++)
		k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%lld", i ? ", " : "",
		              (long long)dims[i]);
	snprintf(buf + k, sizeof buf - (size_t)k, "]");
	return ctx_strdup(D->c, buf);
}

/* The state_dict entry `key` as an f32 constant (cached per key).  rank < 0:
 * any shape; dims[i] < 0: any size in that axis. */
static Tensor *weight(Dsl *D, const char *key, int rank, const int64_t *dims)
{
	if (!D->st)
		ERR(D, D->at, "'%s' needs weights, but no weights file is named "
		              "(add: weights \"model.safetensors\")", text_msg(D->c, key));
	Tensor *t = NULL;
	for (DslWeight *w = D->wcache; w && !t; w = w->next)
		if (strcmp(w->key, key) == 0)
			t = w->t;
	if (!t) {
		const StEntry *e = safetensors_find(D->st, key);
		if (!e) {
			/* list the keys under the nearest enclosing module that has any,
			 * to help spot a typo */
			char near[400] = "";
			int plen = 0, shown = 0;
			for (int end = (int)strlen(key) - 1; end > 0 && !shown; end--) {
				if (key[end] != '.')
					continue;
				plen = end + 1;   /* the prefix "a.b." up to this dot */
				int k = 0;
				for (int i = 0; i < D->st->nentries && shown < 8; i++) {
					const char *nm = D->st->entries[i].name;
					if (strncmp(nm, key, (size_t)plen) == 0 && k < (int)sizeof near - 80) {
						k += snprintf(near + k, sizeof near - (size_t)k, "%s%s",
						              shown ? ", " : "", nm);
						shown++;
					}
				}
			}
			if (shown)
				ERR(D, D->at, "missing weight '%s' in %s (keys under '%.*s': %s)",
				    text_msg(D->c, key),
				    D->st->path, plen, text_msg(D->c, key), near);
			ERR(D, D->at, "missing weight '%s' in %s", text_msg(D->c, key),
			    D->st->path);
		}
		if (strcmp(e->dtype, "F32") && strcmp(e->dtype, "F16") && strcmp(e->dtype, "BF16"))
			ERR(D, D->at, "weight '%s' has dtype %s; expected F32, F16 or BF16",
			    text_msg(D->c, key), text_msg(D->c, e->dtype));
		t = tensor_const(D->g, key, DT_F32, e->rank, e->dims);
		float *f = safetensors_get_f32(D->c, D->st, e);
		memcpy(t->data, f, (size_t)tensor_nbytes(t));
		DslWeight *w = ctx_alloc(D->c, sizeof *w);
		w->key = key;
		w->t = t;
		w->next = D->wcache;
		D->wcache = w;
	}
	if (rank >= 0) {
		bool ok = t->rank == rank;
		for (int i = 0; ok && i < rank; i++)
			if (dims[i] >= 0 && dims[i] != t->dims[i])
				ok = false;
		if (!ok) {
			char want[256];
			int k = snprintf(want, sizeof want, "[");
			for (int i = 0; i < rank && k < (int)sizeof want - 24; i++) {
				if (dims[i] >= 0)
					k += snprintf(want + k, sizeof want - (size_t)k, "%s%lld", i ? ", " : "",
					              (long long)dims[i]);
				else
					k += snprintf(want + k, sizeof want - (size_t)k, "%s_", i ? ", " : "");
			}
			snprintf(want + k, sizeof want - (size_t)k, "]");
			ERR(D, D->at, "weight '%s' has shape %s, expected %s", text_msg(D->c, key),
			    dims_str(D, t->rank, t->dims), want);
		}
	}
	return t;
}

static Tensor *weight1(Dsl *D, const char *key, int64_t n) { return weight(D, key, 1, &n); }

/* A weight with exactly n elements of any shape ((K,1) temp), as a 1-D (n). */
static Tensor *weight_flat(Dsl *D, const char *key, int64_t n, const char *what)
{
	Tensor *t = weight(D, key, -1, NULL);
	if (tensor_nelem(t) != n)
		ERR(D, D->at, "weight '%s' has shape %s; %s needs %lld elements",
		    text_msg(D->c, key),
		    dims_str(D, t->rank, t->dims), what, (long long)n);
	if (t->rank == 1)
		return t;
	Tensor *f = tensor_const(D->g, ctx_printf(D->c, "%s(flat)", key), DT_F32, 1, &n);
	memcpy(f->data, t->data, (size_t)n * sizeof(float));
	return f;
}

/* ------------------------------------------------------------------ */
/* Layers                                                              */
/* ------------------------------------------------------------------ */

static const char *sub(Dsl *D, const char *prefix, const char *s)
{
	return ctx_printf(D->c, "%s.%s", prefix, s);
}

static Tensor *T(DslArgs *a, int i) { return a->v[i].t; }
static int64_t I(DslArgs *a, int i) { return a->v[i].i; }
static double F(DslArgs *a, int i) { return a->v[i].f; }
static bool B(DslArgs *a, int i) { return a->v[i].i != 0; }
static const char *S(DslArgs *a, int i) { return a->v[i].s; }
static bool has(DslArgs *a, int i) { return a->v[i].kind != DV_NONE; }

static void need_rank(Dsl *D, Tensor *x, int lo, int hi, const char *layer, const char *what)
{
	if (x->rank < lo || x->rank > hi)
		ERR(D, D->at, "%s expects %s, got %s", layer, what, shape_str(D, x));
}

static void need_f32(Dsl *D, Tensor *x, const char *layer)
{
	if (x->dtype != DT_F32)
		ERR(D, D->at, "%s expects an f32 tensor, got %s", layer, shape_str(D, x));
}

static int64_t last_dim(const Tensor *x) { return x->rank ? x->dims[x->rank - 1] : 1; }

static int64_t axis_of(Dsl *D, Tensor *x, int64_t dim, const char *layer)
{
	if (dim < -x->rank || dim >= x->rank)
		ERR(D, D->at, "%s: dim %lld is out of range for %s", layer, (long long)dim,
		    shape_str(D, x));
	return dim < 0 ? dim + x->rank : dim;
}

/* y = x W^T + b, W (out, in) as PyTorch stores it.  A Gemm with transB on x
 * flattened to 2-D; the Reshapes around it are views. */
static Tensor *linear(Dsl *D, const char *prefix, Tensor *x, int64_t out, bool bias)
{
	need_rank(D, x, 1, MAX_RANK, "linear", "a tensor (..., in)");
	need_f32(D, x, "linear");
	int64_t in = last_dim(x);
	int64_t wd[2] = {out, in};
	Tensor *w = weight(D, sub(D, prefix, "weight"), 2, wd);
	out = w->dims[0];
	Tensor *b = bias ? weight1(D, sub(D, prefix, "bias"), out) : NULL;
	int64_t rows = 1;
	for (int i = 0; i < x->rank - 1; i++)
		rows *= x->dims[i];
	Tensor *x2 = x;
	if (x->rank != 2) {
		int64_t d2[2] = {rows, in};
		x2 = reshape(D, prefix, x, 2, d2);
	}
	Tensor *in3[3] = {x2, w, b};
	Node *n = mknode(D, OP_GEMM, prefix, b ? 3 : 2, in3);
	attr_i(D, n, "transB", 1);
	Tensor *y = finish(D, n);
	if (x->rank == 2)
		return y;
	int64_t yd[MAX_RANK];
	for (int i = 0; i < x->rank - 1; i++)
		yd[i] = x->dims[i];
	yd[x->rank - 1] = out;
	return reshape(D, prefix, y, x->rank, yd);
}

static DslValue l_linear(Dsl *D, DslArgs *a)
{
	return vtensor(linear(D, a->prefix, T(a, 0), has(a, 1) ? I(a, 1) : -1, B(a, 2)));
}

/* Exact GELU as torch exports it: x * (1 + erf(x / sqrt 2)) * 0.5 */
static Tensor *gelu(Dsl *D, const char *scope, Tensor *x)
{
	need_f32(D, x, "gelu");
	Tensor *e = dsl_op1(D, OP_ERF, scope, dsl_op2(D, OP_DIV, scope, x, dsl_const_f32(D, 1.4142135381698608f)));
	Tensor *y = dsl_op2(D, OP_MUL, scope, x, dsl_op2(D, OP_ADD, scope, e, dsl_const_f32(D, 1.0f)));
	return dsl_op2(D, OP_MUL, scope, y, dsl_const_f32(D, 0.5f));
}

static Tensor *activation(Dsl *D, const char *scope, Tensor *x, const char *act)
{
	if (strcmp(act, "gelu") == 0)
		return gelu(D, scope, x);
	if (strcmp(act, "relu") == 0)
		return dsl_op1(D, OP_RELU, scope, x);
	if (strcmp(act, "tanh") == 0)
		return dsl_op1(D, OP_TANH, scope, x);
	if (strcmp(act, "sigmoid") == 0)
		return dsl_op1(D, OP_SIGMOID, scope, x);
	ERR(D, D->at, "unknown activation '%s' (gelu, relu, tanh, sigmoid)", text_msg(D->c, act));
}

static DslValue l_gelu(Dsl *D, DslArgs *a) { return vtensor(gelu(D, NULL, T(a, 0))); }
static DslValue l_relu(Dsl *D, DslArgs *a) { return vtensor(dsl_op1(D, OP_RELU, NULL, T(a, 0))); }
static DslValue l_tanh(Dsl *D, DslArgs *a) { return vtensor(dsl_op1(D, OP_TANH, NULL, T(a, 0))); }
static DslValue l_sigmoid(Dsl *D, DslArgs *a) { return vtensor(dsl_op1(D, OP_SIGMOID, NULL, T(a, 0))); }

static DslValue l_softmax(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_f32(D, x, "softmax");
	Node *n = mknode(D, OP_SOFTMAX, NULL, 1, &x);
	attr_i(D, n, "axis", axis_of(D, x, I(a, 1), "softmax"));
	return vtensor(finish(D, n));
}

/* mlp: fc1 -> act -> fc2 (timm Mlp). */
static DslValue l_mlp(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	int64_t out = has(a, 2) ? I(a, 2) : last_dim(x);
	Tensor *h = linear(D, sub(D, a->prefix, S(a, 5)), x, has(a, 1) ? I(a, 1) : -1, B(a, 3));
	h = activation(D, a->prefix, h, S(a, 4));
	return vtensor(linear(D, sub(D, a->prefix, S(a, 6)), h, out, B(a, 3)));
}

static DslValue l_conv2d(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 4, 4, "conv2d", "an image batch (B, C, H, W)");
	need_f32(D, x, "conv2d");
	int64_t k = I(a, 2), stride = I(a, 3), pad = I(a, 4), groups = I(a, 5), dil = I(a, 6);
	if (k < 1 || stride < 1 || pad < 0 || groups < 1 || dil < 1)
		ERR(D, D->at, "conv2d: kernel, stride, groups, dilation must be >= 1 and padding >= 0");
	if (x->dims[1] % groups)
		ERR(D, D->at, "conv2d: %lld input channels are not divisible by groups=%lld",
		    (long long)x->dims[1], (long long)groups);
	int64_t wd[4] = {has(a, 1) ? I(a, 1) : -1, x->dims[1] / groups, k, k};
	Tensor *w = weight(D, sub(D, a->prefix, "weight"), 4, wd);
	Tensor *b = B(a, 7) ? weight1(D, sub(D, a->prefix, "bias"), w->dims[0]) : NULL;
	Tensor *in[3] = {x, w, b};
	Node *n = mknode(D, OP_CONV, a->prefix, b ? 3 : 2, in);
	int64_t ks[2] = {k, k}, st[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad},
	        dl[2] = {dil, dil};
	attr_is(D, n, "kernel_shape", ks, 2);
	attr_is(D, n, "strides", st, 2);
	attr_is(D, n, "pads", pads, 4);
	attr_is(D, n, "dilations", dl, 2);
	attr_i(D, n, "group", groups);
	return vtensor(finish(D, n));
}

static DslValue l_batchnorm(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 2, MAX_RANK, "batchnorm", "a tensor (B, C, ...)");
	need_f32(D, x, "batchnorm");
	int64_t C = x->dims[1];
	Tensor *in[5] = {x, weight1(D, sub(D, a->prefix, "weight"), C),
	                 weight1(D, sub(D, a->prefix, "bias"), C),
	                 weight1(D, sub(D, a->prefix, "running_mean"), C),
	                 weight1(D, sub(D, a->prefix, "running_var"), C)};
	Node *n = mknode(D, OP_BATCH_NORM, a->prefix, 5, in);
	attr_f(D, n, "epsilon", (float)F(a, 1));
	return vtensor(finish(D, n));
}

static Tensor *layernorm(Dsl *D, const char *prefix, Tensor *x, double eps, bool bias)
{
	need_rank(D, x, 1, MAX_RANK, "layernorm", "a tensor (..., d)");
	need_f32(D, x, "layernorm");
	int64_t d = last_dim(x);
	Tensor *in[3] = {x, weight1(D, sub(D, prefix, "weight"), d),
	                 bias ? weight1(D, sub(D, prefix, "bias"), d) : NULL};
	Node *n = mknode(D, OP_LAYER_NORM, prefix, bias ? 3 : 2, in);
	attr_i(D, n, "axis", -1);
	attr_f(D, n, "epsilon", (float)eps);
	return finish(D, n);
}

static DslValue l_layernorm(Dsl *D, DslArgs *a)
{
	return vtensor(layernorm(D, a->prefix, T(a, 0), F(a, 1), B(a, 2)));
}

static DslValue l_embedding(Dsl *D, DslArgs *a)
{
	Tensor *ids = T(a, 0);
	if (ids->dtype != DT_I64 && ids->dtype != DT_I32)
		ERR(D, D->at, "embedding expects integer ids (i64 or i32), got %s", shape_str(D, ids));
	int64_t wd[2] = {has(a, 1) ? I(a, 1) : -1, has(a, 2) ? I(a, 2) : -1};
	Tensor *w = weight(D, sub(D, a->prefix, "weight"), 2, wd);
	Node *n = mknode(D, OP_GATHER, a->prefix, 2, (Tensor *[]){w, ids});
	attr_i(D, n, "axis", 0);
	return vtensor(finish(D, n));
}

/* LayerScale: gamma * x, gamma (d) the parameter at the path itself. */
static DslValue l_scale(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_f32(D, x, "scale");
	Tensor *g = weight1(D, a->prefix, last_dim(x));
	return vtensor(dsl_op2(D, OP_MUL, a->prefix, g, x));
}

static DslValue l_param(Dsl *D, DslArgs *a) { return vtensor(weight(D, a->prefix, -1, NULL)); }

/* TSSA: projection `qkv` -> fused OP_TSSA (vision) or OP_CAUSAL_TSSA (with
 * denom_bias (K, block, 1)) -> output projection `proj`.  Official names:
 * vision AttentionTSSA qkv / temp / to_out.0; causal CausalSelfAttention_TSSA
 * c_attn / temp / denom_bias / c_proj. */
static Tensor *tssa(Dsl *D, const char *prefix, Tensor *x, int64_t K, double eps_norm,
                    double eps_pi, bool qkv_bias, bool proj_bias, const char *qkv,
                    const char *proj, bool causal)
{
	const char *layer = causal ? "causal_tssa" : "tssa";
	need_rank(D, x, 3, 3, layer, "tokens (B, N, d)");
	need_f32(D, x, layer);
	int64_t d = x->dims[2], N = x->dims[1];
	if (K < 1 || d % K)
		ERR(D, D->at, "%s: dim %lld is not divisible by heads=%lld", layer, (long long)d,
		    (long long)K);
	Tensor *w = linear(D, sub(D, prefix, qkv), x, d, qkv_bias);
	Tensor *temp = weight_flat(D, sub(D, prefix, "temp"), K, "temp (one per head)");
	Node *n;
	if (causal) {
		int64_t bd[3] = {K, -1, 1};
		Tensor *db = weight(D, sub(D, prefix, "denom_bias"), 3, bd);
		if (db->dims[1] < N)
			ERR(D, D->at, "causal_tssa: %lld tokens, but denom_bias covers a block of %lld",
			    (long long)N, (long long)db->dims[1]);
		n = mknode(D, OP_CAUSAL_TSSA, prefix, 3, (Tensor *[]){w, temp, db});
	} else {
		n = mknode(D, OP_TSSA, prefix, 2, (Tensor *[]){w, temp});
	}
	attr_i(D, n, "heads", K);
	attr_f(D, n, "eps_norm", (float)eps_norm);
	attr_f(D, n, "eps_pi", (float)eps_pi);
	Tensor *y = finish(D, n);
	return linear(D, sub(D, prefix, proj), y, d, proj_bias);
}

static DslValue l_tssa(Dsl *D, DslArgs *a)
{
	return vtensor(tssa(D, a->prefix, T(a, 0), I(a, 1), F(a, 2), F(a, 3), B(a, 4), B(a, 5),
	                    S(a, 6), S(a, 7), B(a, 8)));
}

static DslValue l_causal_tssa(Dsl *D, DslArgs *a)
{
	return vtensor(tssa(D, a->prefix, T(a, 0), I(a, 1), F(a, 2), F(a, 3), B(a, 4), B(a, 4),
	                    S(a, 5), S(a, 6), true));
}

/* Class attention (XCiT / CaiT): the class token x[:, 0] attends to all
 * tokens; returns the new class token (B, 1, d) after `proj`.
 *   qkv (B,N,3d) -> (B,N,3,K,p) -> (3,B,K,N,p); q0 = q[:, :, 0:1]
 *   a = softmax(sum_j q0 * k * p^-0.5) (B,K,N);  cls = a @ v (B,K,1,p) */
static DslValue l_class_attention(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 3, 3, "class_attention", "tokens (B, N, d)");
	need_f32(D, x, "class_attention");
	const char *P = a->prefix;
	int64_t Bn = x->dims[0], N = x->dims[1], d = x->dims[2], K = I(a, 1);
	if (K < 1 || d % K)
		ERR(D, D->at, "class_attention: dim %lld is not divisible by heads=%lld",
		    (long long)d, (long long)K);
	int64_t p = d / K;
	Tensor *qkv = linear(D, sub(D, P, "qkv"), x, 3 * d, B(a, 2));
	int64_t d5[5] = {Bn, N, 3, K, p};
	qkv = reshape(D, P, qkv, 5, d5);
	int64_t perm[5] = {2, 0, 3, 1, 4};
	qkv = transpose(D, P, qkv, perm);
	Tensor *q = pick(D, P, qkv, 0, 0), *k = pick(D, P, qkv, 0, 1),
	       *v = pick(D, P, qkv, 0, 2);
	Tensor *q0 = slice(D, P, q, 2, 0, 1);
	int64_t ax = -1;
	Tensor *s = dsl_op2(D, OP_REDUCE_SUM, P, dsl_op2(D, OP_MUL, P, q0, k), dsl_const_i64(D, 1, &ax, 1));
	/* keepdims defaults to 1: (B,K,N,1) -> squeeze later via reshape */
	s = dsl_op2(D, OP_MUL, P, s, dsl_const_f32(D, has(a, 4) ? (float)F(a, 4) : 1.0f / sqrtf((float)p)));
	int64_t d4[4] = {Bn, K, 1, N};
	s = reshape(D, P, s, 4, d4);
	Node *n = mknode(D, OP_SOFTMAX, P, 1, &s);
	attr_i(D, n, "axis", -1);
	s = finish(D, n);
	Tensor *c = dsl_op2(D, OP_MATMUL, P, s, v); /* (B,K,1,p) */
	int64_t perm4[4] = {0, 2, 1, 3};
	c = transpose(D, P, c, perm4);
	int64_t d3[3] = {Bn, 1, d};
	c = reshape(D, P, c, 3, d3);
	return vtensor(linear(D, sub(D, P, "proj"), c, d, B(a, 3)));
}

/* (B, C, H, W) -> (B, H*W, C): x.flatten(2).transpose(1, 2) */
static DslValue l_tokens(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 4, 4, "tokens", "an image batch (B, C, H, W)");
	int64_t d3[3] = {x->dims[0], x->dims[1], x->dims[2] * x->dims[3]};
	int64_t perm[3] = {0, 2, 1};
	return vtensor(transpose(D, NULL, reshape(D, NULL, x, 3, d3), perm));
}

static DslValue l_cat(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	return vtensor(concat(D, NULL, x, T(a, 1), axis_of(D, x, I(a, 2), "cat")));
}

static DslValue l_slice(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	int64_t ax = axis_of(D, x, I(a, 1), "slice"), n = x->dims[ax];
	int64_t s = I(a, 2), e = has(a, 3) ? I(a, 3) : n;
	if (s < 0)
		s += n;
	if (e < 0)
		e += n;
	if (s < 0 || e > n || s >= e)
		ERR(D, D->at, "slice %lld:%lld is empty or out of range for dim %lld of %s",
		    (long long)I(a, 2), (long long)(has(a, 3) ? I(a, 3) : n), (long long)ax,
		    shape_str(D, x));
	return vtensor(slice(D, NULL, x, ax, s, e));
}

static DslValue l_index(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	int64_t ax = axis_of(D, x, I(a, 1), "index"), i = I(a, 2), n = x->dims[ax];
	if (i < -n || i >= n)
		ERR(D, D->at, "index %lld is out of range for dim %lld of %s", (long long)i,
		    (long long)ax, shape_str(D, x));
	return vtensor(pick(D, NULL, x, ax, i < 0 ? i + n : i));
}

static DslValue l_mean(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	int64_t ax = axis_of(D, x, I(a, 1), "mean");
	Node *n = mknode(D, OP_REDUCE_MEAN, NULL, 1, &x);
	attr_is(D, n, "axes", &ax, 1);
	attr_i(D, n, "keepdims", B(a, 2));
	return vtensor(finish(D, n));
}

static DslValue l_transpose(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	int64_t i = axis_of(D, x, I(a, 1), "transpose"), j = axis_of(D, x, I(a, 2), "transpose");
	int64_t perm[MAX_RANK];
	for (int k = 0; k < x->rank; k++)
		perm[k] = k;
	perm[i] = j;
	perm[j] = i;
	return vtensor(transpose(D, NULL, x, perm));
}

/* 0, 1, ..., n-1 as i64 (positions for a learned position embedding) */
static DslValue l_arange(Dsl *D, DslArgs *a)
{
	int64_t n = I(a, 0);
	if (n < 1 || n > ((int64_t)1 << 24))
		ERR(D, D->at, "arange(%lld): the length must be between 1 and 2^24", (long long)n);
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "arange#%d", D->counter++), DT_I64, 1, &n);
	for (int64_t i = 0; i < n; i++)
		((int64_t *)t->data)[i] = i;
	return vtensor(t);
}

static DslValue l_size(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	return vint(x->dims[axis_of(D, x, I(a, 1), "size")]);
}

/* Prepend the class token p (1, 1, d) to x (B, N, d) -> (B, N+1, d). */
static DslValue l_prepend(Dsl *D, DslArgs *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 3, 3, "prepend", "tokens (B, N, d)");
	int64_t wd[3] = {1, 1, x->dims[2]};
	Tensor *cls = weight(D, a->prefix, 3, wd);
	if (x->dims[0] != 1) {
		int64_t e[3] = {x->dims[0], 1, x->dims[2]};
		cls = dsl_op2(D, OP_EXPAND, a->prefix, cls, dsl_const_i64(D, 1, e, 3));
	}
	return vtensor(concat(D, a->prefix, cls, x, 1));
}

/* XCiT's PositionalEncodingFourier for a B x H x W grid: sin/cos features
 * of normalised coordinates (a constant), then token_projection (1x1 conv).
 * Returns (B, dim, H, W); the conv folds at compile time. */
static DslValue l_fourier_pos(Dsl *D, DslArgs *a)
{
	int64_t Bn = I(a, 0), H = I(a, 1), W = I(a, 2), dim = I(a, 3), hid = I(a, 4);
	double temperature = F(a, 5);
	if (Bn < 1 || H < 1 || W < 1 || dim < 1 || hid < 2 || hid % 2)
		ERR(D, D->at, "fourier_pos: sizes must be positive and hidden even");
	int64_t pd[4] = {Bn, 2 * hid, H, W};
	Tensor *pos = tensor_const(D->g, ctx_printf(D->c, "%s.grid", a->prefix), DT_F32, 4, pd);
	float *P = pos->data;
	const float scale = 2.0f * 3.14159265358979f, eps = 1e-6f;
	for (int64_t b = 0; b < Bn; b++)
		for (int64_t y = 0; y < H; y++)
			for (int64_t x = 0; x < W; x++) {
				float ye = (float)(y + 1) / ((float)H + eps) * scale;
				float xe = (float)(x + 1) / ((float)W + eps) * scale;
				for (int64_t c = 0; c < hid; c++) {
					float dt = powf((float)temperature, (float)(2 * (c / 2)) / (float)hid);
					float py = ye / dt, px = xe / dt;
					/* stack(sin of even, cos of odd).flatten: channel c -> c */
					float vy = c % 2 ? cosf(py) : sinf(py), vx = c % 2 ? cosf(px) : sinf(px);
					P[((b * 2 * hid + c) * H + y) * W + x] = vy;
					P[((b * 2 * hid + hid + c) * H + y) * W + x] = vx;
				}
			}
	int64_t wd[4] = {dim, 2 * hid, 1, 1};
	const char *pp = sub(D, a->prefix, "token_projection");
	Tensor *w = weight(D, sub(D, pp, "weight"), 4, wd);
	Tensor *bias = weight1(D, sub(D, pp, "bias"), dim);
	Node *n = mknode(D, OP_CONV, pp, 3, (Tensor *[]){pos, w, bias});
	int64_t one[2] = {1, 1}, zero[4] = {0, 0, 0, 0};
	attr_is(D, n, "kernel_shape", one, 2);
	attr_is(D, n, "strides", one, 2);
	attr_is(D, n, "pads", zero, 4);
	return vtensor(finish(D, n));
}

static const DslLayer layers[] = {
	{"linear", l_linear, true, "linear(x, out, bias=true) @ path: x W^T + b",
	 {{"x", 't', NULL}, {"out", 'i', ""}, {"bias", 'b', "true"}}},
	{"conv2d", l_conv2d, true, "conv2d(x, out, kernel, stride=1, padding=0, groups=1, "
	                           "dilation=1, bias=true) @ path",
	 {{"x", 't', NULL}, {"out", 'i', ""}, {"kernel", 'i', NULL}, {"stride", 'i', "1"},
	  {"padding", 'i', "0"}, {"groups", 'i', "1"}, {"dilation", 'i', "1"},
	  {"bias", 'b', "true"}}},
	{"batchnorm", l_batchnorm, true, "batchnorm(x, eps=1e-5) @ path",
	 {{"x", 't', NULL}, {"eps", 'f', "1e-5"}}},
	{"layernorm", l_layernorm, true, "layernorm(x, eps=1e-5, bias=true) @ path",
	 {{"x", 't', NULL}, {"eps", 'f', "1e-5"}, {"bias", 'b', "true"}}},
	{"embedding", l_embedding, true, "embedding(ids, num, dim) @ path",
	 {{"ids", 't', NULL}, {"num", 'i', ""}, {"dim", 'i', ""}}},
	{"mlp", l_mlp, true, "mlp(x, hidden, out=in, bias=true, act=\"gelu\", fc1=\"fc1\", "
	                     "fc2=\"fc2\") @ path",
	 {{"x", 't', NULL}, {"hidden", 'i', ""}, {"out", 'i', ""}, {"bias", 'b', "true"},
	  {"act", 's', "gelu"}, {"fc1", 's', "fc1"}, {"fc2", 's', "fc2"}}},
	{"tssa", l_tssa, true, "tssa(x, heads, ...) @ path",
	 {{"x", 't', NULL}, {"heads", 'i', NULL}, {"eps_norm", 'f', "1e-12"},
	  {"eps_pi", 'f', "1e-8"}, {"qkv_bias", 'b', "true"}, {"proj_bias", 'b', "true"},
	  {"qkv", 's', "qkv"}, {"proj", 's', "to_out.0"}, {"causal", 'b', "false"}}},
	{"causal_tssa", l_causal_tssa, true, "causal_tssa(x, heads, bias=false, ...) @ path",
	 {{"x", 't', NULL}, {"heads", 'i', NULL}, {"eps_norm", 'f', "1e-12"},
	  {"eps_pi", 'f', "1e-8"}, {"bias", 'b', "false"}, {"qkv", 's', "c_attn"},
	  {"proj", 's', "c_proj"}}},
	{"class_attention", l_class_attention, true, "class_attention(x, heads) @ path",
	 {{"x", 't', NULL}, {"heads", 'i', NULL}, {"qkv_bias", 'b', "true"},
	  {"proj_bias", 'b', "true"}, {"scale", 'f', ""}}},
	{"scale", l_scale, true, "scale(x) @ gamma: LayerScale gamma * x", {{"x", 't', NULL}}},
	{"param", l_param, true, "param() @ path: the tensor itself", {{NULL, 0, NULL}}},
	{"prepend", l_prepend, true, "prepend(x) @ cls_token", {{"x", 't', NULL}}},
	{"fourier_pos", l_fourier_pos, true,
	 "fourier_pos(batch, height, width, dim, hidden=32, temperature=10000) @ path",
	 {{"batch", 'i', NULL}, {"height", 'i', NULL}, {"width", 'i', NULL}, {"dim", 'i', NULL},
	  {"hidden", 'i', "32"}, {"temperature", 'f', "10000"}}},
	{"gelu", l_gelu, false, "gelu(x)", {{"x", 't', NULL}}},
	{"relu", l_relu, false, "relu(x)", {{"x", 't', NULL}}},
	{"tanh", l_tanh, false, "tanh(x)", {{"x", 't', NULL}}},
	{"sigmoid", l_sigmoid, false, "sigmoid(x)", {{"x", 't', NULL}}},
	{"softmax", l_softmax, false, "softmax(x, dim=-1)", {{"x", 't', NULL}, {"dim", 'i', "-1"}}},
	{"tokens", l_tokens, false, "tokens(x): (B,C,H,W) -> (B,H*W,C)", {{"x", 't', NULL}}},
	{"cat", l_cat, false, "cat(a, b, dim)",
	 {{"a", 't', NULL}, {"b", 't', NULL}, {"dim", 'i', NULL}}},
	{"slice", l_slice, false, "slice(x, dim, start, end=size)",
	 {{"x", 't', NULL}, {"dim", 'i', NULL}, {"start", 'i', NULL}, {"end", 'i', ""}}},
	{"index", l_index, false, "index(x, dim, i)",
	 {{"x", 't', NULL}, {"dim", 'i', NULL}, {"i", 'i', NULL}}},
	{"mean", l_mean, false, "mean(x, dim, keepdim=false)",
	 {{"x", 't', NULL}, {"dim", 'i', NULL}, {"keepdim", 'b', "false"}}},
	{"transpose", l_transpose, false, "transpose(x, dim0, dim1)",
	 {{"x", 't', NULL}, {"dim0", 'i', NULL}, {"dim1", 'i', NULL}}},
	{"arange", l_arange, false, "arange(n): 0 .. n-1 (i64)", {{"n", 'i', NULL}}},
	{"size", l_size, false, "size(x, dim)", {{"x", 't', NULL}, {"dim", 'i', NULL}}},
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

const DslLayer *dsl_find_layer(const char *name)
{
	for (int i = 0; i < NLAYERS; i++)
		if (strcmp(layers[i].name, name) == 0)
			return &layers[i];
	return NULL;
}

