/*
 * dsl.c -- the ToST model language: AST (from grammar/tost.y) -> IR.
 *
 * A .tost file reads like the forward() of a PyTorch module: assignments of
 * hyperparameters and tensors, layer calls, `for i in range(n)` loops, `def`
 * blocks and `output`.  Every layer call that has weights names where they live
 * in the state_dict with `@ path`, e.g. `layernorm(x) @ blocks[i].norm1`, and a
 * `def` block called with `@ path` prefixes every path inside it, exactly as a
 * submodule prefixes its parameters' keys.  See docs/dsl.md.
 *
 * Lowering is direct interpretation: statements run once, loops unroll, and
 * each layer call appends ordinary IR nodes (Gemm, LayerNormalization, Conv,
 * ...) or the fused OP_TSSA / OP_CAUSAL_TSSA to the graph.  Every node gets
 * the loc of the call that made it, and its shape is inferred immediately
 * (op_info[op].shape), so a wrong dimension is reported at the DSL line that
 * caused it.  Weights are read from the .safetensors file named by `weights`,
 * converted to f32, checked against the shape the layer expects, and cached
 * per key (a tied embedding and head share one constant).
 *
 * Errors never exit: dsl_error_at() formats "file:line:col: error: msg", the
 * source line and a caret, and unwinds through ctx_error().
 */
#include "tostc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tost.tab.h"
#include "tost.lex.h"

/* ------------------------------------------------------------------ */
/* Parsing and error reporting                                         */
/* ------------------------------------------------------------------ */

Ast *ast_new(DslParser *p, AstKind k, int line, int col)
{
	Ast *a = ctx_alloc(p->ctx, sizeof *a);
	a->kind = k;
	a->line = line;
	a->col = col;
	return a;
}

void dsl_lex_error(DslParser *p, const struct YYLTYPE *loc, const char *fmt, ...)
{
	if (p->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	p->failed = true;
	p->err = ctx_strdup(p->ctx, buf);
	p->err_line = loc->first_line;
	p->err_col = loc->first_column;
}

void dsl_syntax_error(DslParser *p, const struct YYLTYPE *loc, const char *msg)
{
	if (p->failed)
		return;
	if (strcmp(msg, "memory exhausted") == 0)
		msg = "expression nested too deeply";
	dsl_lex_error(p, loc, "%s", msg);
}

void dsl_error_at(Ctx *c, const char *file, const char *src, int line, int col,
                  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* find the source line */
	const char *s = src ? src : "";
	for (int l = 1; l < line && *s; s++)
		if (*s == '\n')
			l++;
	int len = 0;
	while (s[len] && s[len] != '\n' && s[len] != '\r')
		len++;
	char caret[512];
	int k = 0;
	for (int i = 0; i < col - 1 && i < len && k < (int)sizeof caret - 2; i++)
		caret[k++] = s[i] == '\t' ? '\t' : ' ';
	caret[k++] = '^';
	caret[k] = 0;
	/* ctx_error prints "<path>: error: <msg>": make the path "file:line:col" */
	c->path = ctx_printf(c, "%s:%d:%d", file, line, col);
	if (len > 400)
		len = 400;
	ctx_error(c, "%s\n  %.*s\n  %s", msg, len, s, caret);
}

Ast *dsl_parse(Ctx *c, const char *file, const char *src)
{
	DslParser p = {.ctx = c, .file = file, .src = src, .line = 1, .col = 1};
	yyscan_t scanner;
	if (yylex_init_extra(&p, &scanner) != 0)
		ctx_error(c, "cannot start the lexer");
	yy_scan_string(src, scanner);
	int rc = yyparse(scanner, &p);
	yylex_destroy(scanner);
	if (p.failed)
		dsl_error_at(c, file, src, p.err_line, p.err_col, "%s", p.err);
	if (rc != 0)
		dsl_error_at(c, file, src, p.line, p.col, "cannot parse this file");
	return p.prog;
}

/* ------------------------------------------------------------------ */
/* Values and scopes                                                    */
/* ------------------------------------------------------------------ */

typedef enum { V_NONE, V_INT, V_FLOAT, V_BOOL, V_STR, V_TENSOR } ValKind;

typedef struct {
	ValKind kind;
	int64_t i;        /* V_INT, V_BOOL */
	double f;         /* V_FLOAT */
	const char *s;    /* V_STR */
	Tensor *t;        /* V_TENSOR */
} Value;

typedef struct Var Var;
struct Var {
	const char *name;
	Value v;
	Var *next;
};

typedef struct Scope Scope;
struct Scope {
	Var *vars;
	Scope *parent;       /* globals for a def body; NULL for globals */
	const char *prefix;  /* state_dict prefix ("" or "blocks.3.") */
	int depth;           /* def call depth, to stop runaway recursion */
};

typedef struct WCache WCache;
struct WCache {
	const char *key;
	Tensor *t;
	WCache *next;
};

/* The interpreter's state for one .tost file. */
typedef struct {
	Ctx *c;
	Graph *g;
	const char *file;         /* .tost path as given */
	const char *src;
	const char *dir;          /* directory of the .tost file, for `weights` */
	SafeTensors *st;          /* NULL until `weights` */
	Ast *defs;                /* AST_DEF statements, by name */
	WCache *wcache;
	Scope globals;
	int counter;              /* unique tensor names */
	bool returned;            /* a `return` ran in the current def */
	Value retval;
	int maxin, maxout;        /* capacity of g->inputs / g->outputs */
	Ast *at;                  /* the construct being lowered (for errors) */
} Dsl;

#define ERR(D, a, ...) dsl_error_at((D)->c, (D)->file, (D)->src, (a)->line, (a)->col, __VA_ARGS__)

static const char *kind_name(ValKind k)
{
	static const char *names[] = {"nothing", "an integer", "a number", "a bool", "a string",
	                              "a tensor"};
	return names[k];
}

static Var *lookup(Scope *s, const char *name)
{
	for (; s; s = s->parent)
		for (Var *v = s->vars; v; v = v->next)
			if (strcmp(v->name, name) == 0)
				return v;
	return NULL;
}

static void assign(Dsl *D, Scope *s, const char *name, Value v)
{
	for (Var *x = s->vars; x; x = x->next)
		if (strcmp(x->name, name) == 0) {
			x->v = v;
			return;
		}
	Var *x = ctx_alloc(D->c, sizeof *x);
	x->name = name;
	x->v = v;
	x->next = s->vars;
	s->vars = x;
}

static Value vint(int64_t i) { return (Value){.kind = V_INT, .i = i}; }
static Value vfloat(double f) { return (Value){.kind = V_FLOAT, .f = f}; }
static Value vtensor(Tensor *t) { return (Value){.kind = V_TENSOR, .t = t}; }

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
		const char *s = D->src;
		for (int l = 1; l < n->loc.line && *s; s++)
			if (*s == '\n')
				l++;
		int len = 0;
		while (s[len] && s[len] != '\n' && s[len] != '\r' && len < 400)
			len++;
		size_t k = strlen(c->errmsg);
		int w = snprintf(c->errmsg + k, sizeof c->errmsg - k, "\n  %.*s\n  ", len, s);
		for (int i = 0; w > 0 && i < n->loc.col - 1 && i < len; i++) {
			k = strlen(c->errmsg);
			if (k + 2 < sizeof c->errmsg)
				c->errmsg[k] = s[i] == '\t' ? '\t' : ' ', c->errmsg[k + 1] = 0;
		}
		k = strlen(c->errmsg);
		if (k + 2 < sizeof c->errmsg)
			c->errmsg[k] = '^', c->errmsg[k + 1] = 0;
		if (outer)
			longjmp(*outer, 1);
		unreachable(c);
	}
	op_info[n->op].shape(D->g, n);
	c->jmp = outer;
	return n->out[0];
}

static Tensor *op1(Dsl *D, OpKind op, const char *scope, Tensor *a)
{
	return finish(D, mknode(D, op, scope, 1, &a));
}

static Tensor *op2(Dsl *D, OpKind op, const char *scope, Tensor *a, Tensor *b)
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

static Tensor *const_f32(Dsl *D, float v)
{
	int64_t none[1] = {1};
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "const#%d", D->counter++), DT_F32, 0, none);
	((float *)t->data)[0] = v;
	return t;
}

static Tensor *const_i64(Dsl *D, int rank, const int64_t *v, int n)
{
	int64_t dims[1] = {n};
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "const#%d", D->counter++), DT_I64, rank,
	                         dims);
	memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	return t;
}

static Tensor *reshape(Dsl *D, const char *scope, Tensor *x, int rank, const int64_t *dims)
{
	return op2(D, OP_RESHAPE, scope, x, const_i64(D, 1, dims, rank));
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
	Tensor *in[4] = {x, const_i64(D, 1, &start, 1), const_i64(D, 1, &end, 1),
	                 const_i64(D, 1, &axis, 1)};
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
	Tensor *in[2] = {x, const_i64(D, 0, &i, 1)};
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
		              "(add: weights \"model.safetensors\")", key);
	Tensor *t = NULL;
	for (WCache *w = D->wcache; w && !t; w = w->next)
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
				ERR(D, D->at, "missing weight '%s' in %s (keys under '%.*s': %s)", key,
				    D->st->path, plen, key, near);
			ERR(D, D->at, "missing weight '%s' in %s", key, D->st->path);
		}
		if (strcmp(e->dtype, "F32") && strcmp(e->dtype, "F16") && strcmp(e->dtype, "BF16"))
			ERR(D, D->at, "weight '%s' has dtype %s; expected F32, F16 or BF16", key, e->dtype);
		t = tensor_const(D->g, key, DT_F32, e->rank, e->dims);
		float *f = safetensors_get_f32(D->c, D->st, e);
		memcpy(t->data, f, (size_t)tensor_nbytes(t));
		WCache *w = ctx_alloc(D->c, sizeof *w);
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
			ERR(D, D->at, "weight '%s' has shape %s, expected %s", key,
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
		ERR(D, D->at, "weight '%s' has shape %s; %s needs %lld elements", key,
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

/* One parameter of a layer: kind 't' tensor, 'i' int, 'f' number, 'b' bool,
 * 's' string.  dflt NULL: required; "": optional, no default. */
typedef struct {
	const char *name;
	char kind;
	const char *dflt;
} Param;

#define MAX_PARAMS 10

/* A layer call being lowered: bound arguments and its weights prefix. */
typedef struct {
	const char *prefix;    /* "blocks.3.attn" (no trailing dot); NULL without `@` */
	Value v[MAX_PARAMS];   /* by Param index; V_NONE when absent */
} Args;

typedef Value LayerFn(Dsl *D, Args *a);

typedef struct {
	const char *name;
	LayerFn *fn;
	bool weights;          /* needs `@ path` */
	const char *doc;       /* one line, for error hints */
	Param params[MAX_PARAMS];
} Layer;

static const char *sub(Dsl *D, const char *prefix, const char *s)
{
	return ctx_printf(D->c, "%s.%s", prefix, s);
}

static Tensor *T(Args *a, int i) { return a->v[i].t; }
static int64_t I(Args *a, int i) { return a->v[i].i; }
static double F(Args *a, int i) { return a->v[i].f; }
static bool B(Args *a, int i) { return a->v[i].i != 0; }
static const char *S(Args *a, int i) { return a->v[i].s; }
static bool has(Args *a, int i) { return a->v[i].kind != V_NONE; }

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

static Value l_linear(Dsl *D, Args *a)
{
	return vtensor(linear(D, a->prefix, T(a, 0), has(a, 1) ? I(a, 1) : -1, B(a, 2)));
}

/* Exact GELU as torch exports it: x * (1 + erf(x / sqrt 2)) * 0.5 */
static Tensor *gelu(Dsl *D, const char *scope, Tensor *x)
{
	need_f32(D, x, "gelu");
	Tensor *e = op1(D, OP_ERF, scope, op2(D, OP_DIV, scope, x, const_f32(D, 1.4142135381698608f)));
	Tensor *y = op2(D, OP_MUL, scope, x, op2(D, OP_ADD, scope, e, const_f32(D, 1.0f)));
	return op2(D, OP_MUL, scope, y, const_f32(D, 0.5f));
}

static Tensor *activation(Dsl *D, const char *scope, Tensor *x, const char *act)
{
	if (strcmp(act, "gelu") == 0)
		return gelu(D, scope, x);
	if (strcmp(act, "relu") == 0)
		return op1(D, OP_RELU, scope, x);
	if (strcmp(act, "tanh") == 0)
		return op1(D, OP_TANH, scope, x);
	if (strcmp(act, "sigmoid") == 0)
		return op1(D, OP_SIGMOID, scope, x);
	ERR(D, D->at, "unknown activation '%s' (gelu, relu, tanh, sigmoid)", act);
}

static Value l_gelu(Dsl *D, Args *a) { return vtensor(gelu(D, NULL, T(a, 0))); }
static Value l_relu(Dsl *D, Args *a) { return vtensor(op1(D, OP_RELU, NULL, T(a, 0))); }
static Value l_tanh(Dsl *D, Args *a) { return vtensor(op1(D, OP_TANH, NULL, T(a, 0))); }
static Value l_sigmoid(Dsl *D, Args *a) { return vtensor(op1(D, OP_SIGMOID, NULL, T(a, 0))); }

static Value l_softmax(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	need_f32(D, x, "softmax");
	Node *n = mknode(D, OP_SOFTMAX, NULL, 1, &x);
	attr_i(D, n, "axis", axis_of(D, x, I(a, 1), "softmax"));
	return vtensor(finish(D, n));
}

/* mlp: fc1 -> act -> fc2 (timm Mlp). */
static Value l_mlp(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	int64_t out = has(a, 2) ? I(a, 2) : last_dim(x);
	Tensor *h = linear(D, sub(D, a->prefix, S(a, 5)), x, has(a, 1) ? I(a, 1) : -1, B(a, 3));
	h = activation(D, a->prefix, h, S(a, 4));
	return vtensor(linear(D, sub(D, a->prefix, S(a, 6)), h, out, B(a, 3)));
}

static Value l_conv2d(Dsl *D, Args *a)
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

static Value l_batchnorm(Dsl *D, Args *a)
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

static Value l_layernorm(Dsl *D, Args *a)
{
	return vtensor(layernorm(D, a->prefix, T(a, 0), F(a, 1), B(a, 2)));
}

static Value l_embedding(Dsl *D, Args *a)
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
static Value l_scale(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	need_f32(D, x, "scale");
	Tensor *g = weight1(D, a->prefix, last_dim(x));
	return vtensor(op2(D, OP_MUL, a->prefix, g, x));
}

static Value l_param(Dsl *D, Args *a) { return vtensor(weight(D, a->prefix, -1, NULL)); }

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

static Value l_tssa(Dsl *D, Args *a)
{
	return vtensor(tssa(D, a->prefix, T(a, 0), I(a, 1), F(a, 2), F(a, 3), B(a, 4), B(a, 5),
	                    S(a, 6), S(a, 7), B(a, 8)));
}

static Value l_causal_tssa(Dsl *D, Args *a)
{
	return vtensor(tssa(D, a->prefix, T(a, 0), I(a, 1), F(a, 2), F(a, 3), B(a, 4), B(a, 4),
	                    S(a, 5), S(a, 6), true));
}

/* Class attention (XCiT / CaiT): the class token x[:, 0] attends to all
 * tokens; returns the new class token (B, 1, d) after `proj`.
 *   qkv (B,N,3d) -> (B,N,3,K,p) -> (3,B,K,N,p); q0 = q[:, :, 0:1]
 *   a = softmax(sum_j q0 * k * p^-0.5) (B,K,N);  cls = a @ v (B,K,1,p) */
static Value l_class_attention(Dsl *D, Args *a)
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
	Tensor *s = op2(D, OP_REDUCE_SUM, P, op2(D, OP_MUL, P, q0, k), const_i64(D, 1, &ax, 1));
	/* keepdims defaults to 1: (B,K,N,1) -> squeeze later via reshape */
	s = op2(D, OP_MUL, P, s, const_f32(D, has(a, 4) ? (float)F(a, 4) : 1.0f / sqrtf((float)p)));
	int64_t d4[4] = {Bn, K, 1, N};
	s = reshape(D, P, s, 4, d4);
	Node *n = mknode(D, OP_SOFTMAX, P, 1, &s);
	attr_i(D, n, "axis", -1);
	s = finish(D, n);
	Tensor *c = op2(D, OP_MATMUL, P, s, v); /* (B,K,1,p) */
	int64_t perm4[4] = {0, 2, 1, 3};
	c = transpose(D, P, c, perm4);
	int64_t d3[3] = {Bn, 1, d};
	c = reshape(D, P, c, 3, d3);
	return vtensor(linear(D, sub(D, P, "proj"), c, d, B(a, 3)));
}

/* (B, C, H, W) -> (B, H*W, C): x.flatten(2).transpose(1, 2) */
static Value l_tokens(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 4, 4, "tokens", "an image batch (B, C, H, W)");
	int64_t d3[3] = {x->dims[0], x->dims[1], x->dims[2] * x->dims[3]};
	int64_t perm[3] = {0, 2, 1};
	return vtensor(transpose(D, NULL, reshape(D, NULL, x, 3, d3), perm));
}

static Value l_cat(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	return vtensor(concat(D, NULL, x, T(a, 1), axis_of(D, x, I(a, 2), "cat")));
}

static Value l_slice(Dsl *D, Args *a)
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

static Value l_index(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	int64_t ax = axis_of(D, x, I(a, 1), "index"), i = I(a, 2), n = x->dims[ax];
	if (i < -n || i >= n)
		ERR(D, D->at, "index %lld is out of range for dim %lld of %s", (long long)i,
		    (long long)ax, shape_str(D, x));
	return vtensor(pick(D, NULL, x, ax, i < 0 ? i + n : i));
}

static Value l_mean(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	int64_t ax = axis_of(D, x, I(a, 1), "mean");
	Node *n = mknode(D, OP_REDUCE_MEAN, NULL, 1, &x);
	attr_is(D, n, "axes", &ax, 1);
	attr_i(D, n, "keepdims", B(a, 2));
	return vtensor(finish(D, n));
}

static Value l_transpose(Dsl *D, Args *a)
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
static Value l_arange(Dsl *D, Args *a)
{
	int64_t n = I(a, 0);
	if (n < 1 || n > ((int64_t)1 << 24))
		ERR(D, D->at, "arange(%lld): the length must be between 1 and 2^24", (long long)n);
	Tensor *t = tensor_const(D->g, ctx_printf(D->c, "arange#%d", D->counter++), DT_I64, 1, &n);
	for (int64_t i = 0; i < n; i++)
		((int64_t *)t->data)[i] = i;
	return vtensor(t);
}

static Value l_size(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	return vint(x->dims[axis_of(D, x, I(a, 1), "size")]);
}

/* Prepend the class token p (1, 1, d) to x (B, N, d) -> (B, N+1, d). */
static Value l_prepend(Dsl *D, Args *a)
{
	Tensor *x = T(a, 0);
	need_rank(D, x, 3, 3, "prepend", "tokens (B, N, d)");
	int64_t wd[3] = {1, 1, x->dims[2]};
	Tensor *cls = weight(D, a->prefix, 3, wd);
	if (x->dims[0] != 1) {
		int64_t e[3] = {x->dims[0], 1, x->dims[2]};
		cls = op2(D, OP_EXPAND, a->prefix, cls, const_i64(D, 1, e, 3));
	}
	return vtensor(concat(D, a->prefix, cls, x, 1));
}

/* XCiT's PositionalEncodingFourier for a B x H x W grid: sin/cos features
 * of normalised coordinates (a constant), then token_projection (1x1 conv).
 * Returns (B, dim, H, W); the conv folds at compile time. */
static Value l_fourier_pos(Dsl *D, Args *a)
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

static const Layer layers[] = {
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

/* ------------------------------------------------------------------ */
/* The interpreter                                                      */
/* ------------------------------------------------------------------ */

static Value eval(Dsl *D, Scope *s, Ast *e);
static void exec(Dsl *D, Scope *s, Ast *stmts);

static int64_t eval_int(Dsl *D, Scope *s, Ast *e, const char *what)
{
	Value v = eval(D, s, e);
	if (v.kind != V_INT)
		ERR(D, e, "%s must be an integer, got %s", what, kind_name(v.kind));
	return v.i;
}

static Tensor *as_tensor(Dsl *D, Value v, DType like)
{
	if (v.kind == V_TENSOR)
		return v.t;
	double x = v.kind == V_FLOAT ? v.f : (double)v.i;
	if (like == DT_I64) {
		int64_t i = (int64_t)x;
		return const_i64(D, 0, &i, 1);
	}
	return const_f32(D, (float)x);
}

static Value binary(Dsl *D, Ast *e, Value a, Value b)
{
	int op = e->op;
	if ((a.kind == V_TENSOR || b.kind == V_TENSOR) &&
	    a.kind != V_STR && b.kind != V_STR && a.kind != V_NONE && b.kind != V_NONE) {
		DType like = a.kind == V_TENSOR ? a.t->dtype : b.t->dtype;
		OpKind k = op == '+' ? OP_ADD : op == '-' ? OP_SUB : op == '*' ? OP_MUL : OP_DIV;
		D->at = e;
		return vtensor(op2(D, k, NULL, as_tensor(D, a, like), as_tensor(D, b, like)));
	}
	if (a.kind == V_INT && b.kind == V_INT) {
		switch (op) {
		case '+': return vint(a.i + b.i);
		case '-': return vint(a.i - b.i);
		case '*': return vint(a.i * b.i);
		default:
			if (b.i == 0)
				ERR(D, e, "division by zero");
			/* exact integer division stays an integer (d / heads) */
			if (a.i % b.i == 0)
				return vint(a.i / b.i);
			return vfloat((double)a.i / (double)b.i);
		}
	}
	if ((a.kind == V_INT || a.kind == V_FLOAT) && (b.kind == V_INT || b.kind == V_FLOAT)) {
		double x = a.kind == V_INT ? (double)a.i : a.f, y = b.kind == V_INT ? (double)b.i : b.f;
		switch (op) {
		case '+': return vfloat(x + y);
		case '-': return vfloat(x - y);
		case '*': return vfloat(x * y);
		default: return vfloat(x / y);
		}
	}
	ERR(D, e, "cannot apply '%c' to %s and %s", op, kind_name(a.kind), kind_name(b.kind));
}

/* The weights prefix of `path` in scope s: "blocks.3.attn".  s->prefix is
 * "" or ends with '.'. */
static const char *eval_path(Dsl *D, Scope *s, Ast *path)
{
	const char *p = "";
	for (Ast *seg = path; seg; seg = seg->next) {
		const char *sep = seg == path ? "" : ".";
		if (seg->kind == AST_PATH_NAME) {
			p = ctx_printf(D->c, "%s%s%s", p, sep, seg->name);
		} else {
			int64_t i = eval_int(D, s, seg->lhs, "a path index");
			p = ctx_printf(D->c, "%s%s%lld", p, sep, (long long)i);
		}
	}
	return ctx_printf(D->c, "%s%s", s->prefix, p);
}

static Ast *find_def(Dsl *D, const char *name)
{
	for (Ast *d = D->defs; d; d = d->rhs)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static const Layer *find_layer(const char *name)
{
	for (int i = 0; i < NLAYERS; i++)
		if (strcmp(layers[i].name, name) == 0)
			return &layers[i];
	return NULL;
}

static Value convert(Dsl *D, Ast *at, const Layer *L, const Param *p, Value v)
{
	switch (p->kind) {
	case 't':
		if (v.kind == V_TENSOR)
			return v;
		break;
	case 'i':
		if (v.kind == V_INT)
			return v;
		break;
	case 'f':
		if (v.kind == V_FLOAT)
			return v;
		if (v.kind == V_INT)
			return vfloat((double)v.i);
		break;
	case 'b':
		if (v.kind == V_BOOL)
			return v;
		break;
	case 's':
		if (v.kind == V_STR)
			return v;
		break;
	}
	static const char *want[128] = {['t'] = "a tensor", ['i'] = "an integer",
	                                ['f'] = "a number", ['b'] = "true or false",
	                                ['s'] = "a string"};
	ERR(D, at, "%s: '%s' must be %s, got %s", L->name, p->name, want[(int)p->kind],
	    kind_name(v.kind));
}

static Value parse_default(const Param *p)
{
	switch (p->kind) {
	case 'i': return vint(strtoll(p->dflt, NULL, 10));
	case 'f': return vfloat(strtod(p->dflt, NULL));
	case 'b': return (Value){.kind = V_BOOL, .i = strcmp(p->dflt, "true") == 0};
	case 's': return (Value){.kind = V_STR, .s = p->dflt};
	default: return (Value){0};
	}
}

static const char *param_list(Dsl *D, const Layer *L)
{
	char *s = "";
	for (int i = 0; i < MAX_PARAMS && L->params[i].name; i++)
		s = ctx_printf(D->c, "%s%s%s", s, i ? ", " : "", L->params[i].name);
	return s[0] ? s : "none";
}

static Value call_layer(Dsl *D, Scope *s, Ast *call, const Layer *L)
{
	Args a = {0};
	int np = 0;
	while (np < MAX_PARAMS && L->params[np].name)
		np++;
	int pos = 0;
	bool kw_seen = false;
	for (Ast *arg = call->args; arg; arg = arg->next) {
		int idx;
		Ast *val = arg;
		if (arg->kind == AST_KWARG) {
			kw_seen = true;
			for (idx = 0; idx < np; idx++)
				if (strcmp(L->params[idx].name, arg->name) == 0)
					break;
			if (idx == np)
				ERR(D, arg, "%s has no parameter '%s' (parameters: %s)", L->name, arg->name,
				    param_list(D, L));
			val = arg->lhs;
		} else {
			if (kw_seen)
				ERR(D, arg, "positional argument after a keyword argument");
			if (pos >= np)
				ERR(D, arg, "too many arguments to %s (parameters: %s)", L->name,
				    param_list(D, L));
			idx = pos++;
		}
		if (a.v[idx].kind != V_NONE)
			ERR(D, arg, "%s: '%s' is given twice", L->name, L->params[idx].name);
		a.v[idx] = convert(D, val, L, &L->params[idx], eval(D, s, val));
	}
	for (int i = 0; i < np; i++)
		if (a.v[i].kind == V_NONE) {
			if (!L->params[i].dflt)
				ERR(D, call, "%s: missing argument '%s' (%s)", L->name, L->params[i].name,
				    L->doc);
			if (L->params[i].dflt[0])
				a.v[i] = parse_default(&L->params[i]);
		}
	if (L->weights && !call->path)
		ERR(D, call, "%s has weights: say where they are, e.g. %s(...) @ blocks[i].name",
		    L->name, L->name);
	if (!L->weights && call->path)
		ERR(D, call->path, "%s has no weights; remove the '@ ...'", L->name);
	if (call->path)
		a.prefix = eval_path(D, s, call->path);
	D->at = call;
	return L->fn(D, &a);
}

static Value call_def(Dsl *D, Scope *s, Ast *call, Ast *def)
{
	Scope local = {.parent = &D->globals, .prefix = s->prefix, .depth = s->depth + 1};
	if (local.depth > 64)
		ERR(D, call, "'%s' calls itself too deeply", def->name);
	if (call->path)
		local.prefix = ctx_printf(D->c, "%s.", eval_path(D, s, call->path));
	int np = 0;
	for (Ast *p = def->args; p; p = p->next)
		np++;
	int i = 0;
	for (Ast *arg = call->args; arg; arg = arg->next) {
		const char *name;
		Ast *val = arg;
		if (arg->kind == AST_KWARG) {
			Ast *p = def->args;
			while (p && strcmp(p->name, arg->name))
				p = p->next;
			if (!p)
				ERR(D, arg, "'%s' has no parameter '%s'", def->name, arg->name);
			name = arg->name;
			val = arg->lhs;
		} else {
			Ast *p = def->args;
			for (int k = 0; p && k < i; k++)
				p = p->next;
			if (!p)
				ERR(D, arg, "too many arguments to '%s' (it takes %d)", def->name, np);
			name = p->name;
			i++;
		}
		for (Var *v = local.vars; v; v = v->next)
			if (strcmp(v->name, name) == 0)
				ERR(D, arg, "'%s': parameter '%s' is given twice", def->name, name);
		assign(D, &local, name, eval(D, s, val));
	}
	for (Ast *p = def->args; p; p = p->next) {
		bool bound = false;
		for (Var *v = local.vars; v; v = v->next)
			bound |= strcmp(v->name, p->name) == 0;
		if (!bound)
			ERR(D, call, "'%s': missing argument '%s'", def->name, p->name);
	}
	bool saved = D->returned;
	D->returned = false;
	D->retval = (Value){0};
	exec(D, &local, def->body);
	Value r = D->retval;
	D->returned = saved;
	return r;
}

static Value eval(Dsl *D, Scope *s, Ast *e)
{
	switch (e->kind) {
	case AST_INT: return vint(e->ival);
	case AST_FLOAT: return vfloat(e->fval);
	case AST_BOOL: return (Value){.kind = V_BOOL, .i = e->ival};
	case AST_STR: return (Value){.kind = V_STR, .s = e->name};
	case AST_NAME: {
		Var *v = lookup(s, e->name);
		if (!v) {
			if (strchr(e->name, '.'))
				ERR(D, e, "'%s' is not a variable (dotted names are weight paths: "
				          "write layer(...) @ %s)", e->name, e->name);
			ERR(D, e, "unknown name '%s'", e->name);
		}
		return v->v;
	}
	case AST_NEG: {
		Value v = eval(D, s, e->lhs);
		if (v.kind == V_INT)
			return vint(-v.i);
		if (v.kind == V_FLOAT)
			return vfloat(-v.f);
		if (v.kind == V_TENSOR) {
			D->at = e;
			return vtensor(op1(D, OP_NEG, NULL, v.t));
		}
		ERR(D, e, "cannot negate %s", kind_name(v.kind));
	}
	case AST_BINARY: {
		Value a = eval(D, s, e->lhs), b = eval(D, s, e->rhs);
		return binary(D, e, a, b);
	}
	case AST_CALL: {
		Ast *def = find_def(D, e->name);
		if (def)
			return call_def(D, s, e, def);
		const Layer *L = find_layer(e->name);
		if (!L)
			ERR(D, e, "unknown layer '%s'", e->name);
		return call_layer(D, s, e, L);
	}
	default:
		ERR(D, e, "this is not an expression");
	}
}

static void add_input(Dsl *D, Scope *s, Ast *st)
{
	DType dt = !strcmp(st->str, "f32") ? DT_F32 : !strcmp(st->str, "i64") ? DT_I64
	         : !strcmp(st->str, "i32") ? DT_I32 : !strcmp(st->str, "bool") ? DT_BOOL : DT_UNDEF;
	if (dt == DT_UNDEF)
		ERR(D, st, "unknown element type '%s' (f32, i64, i32, bool)", st->str);
	int64_t dims[MAX_RANK];
	int rank = 0;
	for (Ast *d = st->args; d; d = d->next) {
		if (rank == MAX_RANK)
			ERR(D, d, "input '%s' has more than %d dims", st->name, MAX_RANK);
		dims[rank] = eval_int(D, s, d, "a dimension");
		if (dims[rank] < 1)
			ERR(D, d, "dimension %lld of input '%s' must be positive", (long long)dims[rank],
			    st->name);
		rank++;
	}
	if (graph_tensor(D->g, st->name))
		ERR(D, st, "input '%s' is defined twice", st->name);
	Tensor *t = tensor_new(D->g, st->name, TK_INPUT, dt, rank, dims);
	if (D->g->ninputs == D->maxin) {
		D->maxin = D->maxin ? 2 * D->maxin : 8;
		Tensor **in = ctx_alloc(D->c, sizeof(Tensor *) * (size_t)D->maxin);
		if (D->g->ninputs)
			memcpy(in, D->g->inputs, sizeof(Tensor *) * (size_t)D->g->ninputs);
		D->g->inputs = in;
	}
	D->g->inputs[D->g->ninputs++] = t;
	assign(D, s, st->name, vtensor(t));
}

static void add_output(Dsl *D, Scope *s, Ast *st)
{
	Value v;
	if (st->lhs)
		v = eval(D, s, st->lhs);
	else {
		Var *x = lookup(s, st->name);
		if (!x)
			ERR(D, st, "unknown name '%s'", st->name);
		v = x->v;
	}
	if (v.kind != V_TENSOR)
		ERR(D, st, "output '%s' must be a tensor, got %s", st->name, kind_name(v.kind));
	Tensor *t = v.t;
	Tensor *clash = graph_tensor(D->g, st->name);
	if (clash && clash != t)
		ERR(D, st, "output name '%s' is already used", st->name);
	if (t->kind != TK_VALUE || t->is_output) {
		/* a graph input, weight or another output: copy it */
		D->at = st;
		t = op1(D, OP_IDENTITY, NULL, t);
	}
	t->name = st->name;
	t->is_output = true;
	if (D->g->noutputs == D->maxout) {
		D->maxout = D->maxout ? 2 * D->maxout : 8;
		Tensor **o = ctx_alloc(D->c, sizeof(Tensor *) * (size_t)D->maxout);
		if (D->g->noutputs)
			memcpy(o, D->g->outputs, sizeof(Tensor *) * (size_t)D->g->noutputs);
		D->g->outputs = o;
	}
	D->g->outputs[D->g->noutputs++] = t;
	assign(D, s, st->name, vtensor(t));
}

static const char *join_dir(Dsl *D, const char *rel)
{
	if (rel[0] == '/' || !D->dir[0])
		return rel;
	return ctx_printf(D->c, "%s/%s", D->dir, rel);
}

static void exec(Dsl *D, Scope *s, Ast *st)
{
	for (; st && !D->returned; st = st->next) {
		D->at = st;
		bool global = s == &D->globals;
		switch (st->kind) {
		case AST_MODEL:
			if (!global)
				ERR(D, st, "'model' must be at the top level");
			D->g->name = st->name;
			break;
		case AST_WEIGHTS:
			if (!global)
				ERR(D, st, "'weights' must be at the top level");
			if (D->st)
				ERR(D, st, "a second 'weights' file; a model reads one");
			D->st = safetensors_open(D->c, join_dir(D, st->name));
			break;
		case AST_ASSIGN: {
			Value v = eval(D, s, st->lhs);
			/* --dim NAME=V overrides a top-level integer or bool (0/1)
			 * hyperparameter */
			if (global && (v.kind == V_INT || v.kind == V_BOOL))
				for (int i = 0; i < D->c->ndims; i++)
					if (strcmp(D->c->dims[i].name, st->name) == 0) {
						int64_t x = D->c->dims[i].value;
						if (v.kind == V_BOOL && x != 0 && x != 1)
							ERR(D, st, "--dim %s=%lld: '%s' is a bool; use 0 or 1",
							    st->name, (long long)x, st->name);
						v.i = x;
						D->c->dims[i].used = true;
					}
			if (v.kind == V_NONE)
				ERR(D, st->lhs, "this produces no value");
			assign(D, s, st->name, v);
			break;
		}
		case AST_INPUT:
			if (!global)
				ERR(D, st, "'input' must be at the top level");
			add_input(D, s, st);
			break;
		case AST_OUTPUT:
			if (!global)
				ERR(D, st, "'output' must be at the top level");
			add_output(D, s, st);
			break;
		case AST_FOR: {
			int64_t lo = st->lhs ? eval_int(D, s, st->lhs, "range start") : 0;
			int64_t hi = eval_int(D, s, st->rhs, "range end");
			for (int64_t i = lo; i < hi && !D->returned; i++) {
				assign(D, s, st->name, vint(i));
				exec(D, s, st->body);
			}
			break;
		}
		case AST_DEF:
			if (!global)
				ERR(D, st, "'def' must be at the top level");
			break; /* collected before execution */
		case AST_RETURN:
			if (global)
				ERR(D, st, "'return' outside a def");
			D->retval = eval(D, s, st->lhs);
			D->returned = true;
			break;
		default:
			unreachable(D->c);
		}
	}
}

static char *read_file(Ctx *c, const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		ctx_error(c, "cannot open '%s'", path);
	char *buf = NULL;
	long n = 0;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = ctx_alloc(c, (size_t)n + 1);
		if (fread(buf, 1, (size_t)n, f) != (size_t)n)
			buf = NULL;
	}
	fclose(f);
	if (!buf)
		ctx_error(c, "cannot read '%s'", path);
	buf[n] = 0;
	*size = n;
	return buf;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Lower an already parsed program (tests use this with in-memory sources). */
static Graph *dsl_lower(Ctx *c, const char *path, const char *src, Ast *prog)
{
	Dsl D = {.c = c, .file = path, .src = src};
	D.g = graph_new(c);
	D.g->opset = 17;
	D.g->name = "";
	const char *slash = strrchr(path, '/');
	D.dir = slash ? ctx_printf(c, "%.*s", (int)(slash - path), path) : "";
	D.globals.prefix = "";
	/* collect defs first, so a def may be used before it is written */
	for (Ast *st = prog; st; st = st->next)
		if (st->kind == AST_DEF) {
			if (find_def(&D, st->name))
				ERR(&D, st, "'%s' is defined twice", st->name);
			if (find_layer(st->name))
				ERR(&D, st, "'%s' is a built-in layer; choose another name", st->name);
			for (Ast *p = st->args; p; p = p->next)
				for (Ast *q = p->next; q; q = q->next)
					if (strcmp(p->name, q->name) == 0)
						ERR(&D, q, "parameter '%s' is listed twice", q->name);
			st->rhs = D.defs; /* chain through rhs */
			D.defs = st;
		}
	exec(&D, &D.globals, prog);
	if (c->nconsts)
		ctx_error(c, "--const-input %s: not supported for .tost models (make it a weight)",
		          c->consts[0].name);
	for (int i = 0; i < c->ndims && i < MAX_DIM_BINDINGS; i++)
		if (!c->dims[i].used) {
			const char *names = "";
			for (Var *v = D.globals.vars; v; v = v->next)
				if (v->v.kind == V_INT || v->v.kind == V_BOOL)
					names = ctx_printf(c, "%s%s%s", v->name, names[0] ? ", " : "", names);
			ctx_error(c, "--dim %s: the model has no top-level integer or bool '%s'%s%s",
			          c->dims[i].name, c->dims[i].name, names[0] ? "; it has: " : "", names);
		}
	if (D.g->ninputs == 0)
		ctx_error(c, "no inputs: declare one, e.g. input x: f32[1, 3, 224, 224]");
	if (D.g->noutputs == 0)
		ctx_error(c, "no outputs: declare one, e.g. output logits = ...");
	uint64_t h = fnv1a(1469598103934665603ull, src, strlen(src));
	if (D.st)
		h = fnv1a(h, D.st->data, (size_t)D.st->data_size);
	D.g->source_hash = h;
	return D.g;
}

Graph *dsl_load(Ctx *c, const char *path)
{
	long n;
	char *src = read_file(c, path, &n);
	if (memchr(src, 0, (size_t)n))
		ctx_error(c, "'%s' contains a NUL byte; is it a .tost text file?", path);
	Ast *prog = dsl_parse(c, path, src);
	return dsl_lower(c, path, src, prog);
}

Graph *dsl_load_string(Ctx *c, const char *path, const char *src)
{
	return dsl_lower(c, path, src, dsl_parse(c, path, src));
}
