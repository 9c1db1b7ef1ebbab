/*
 * dsl.c -- the ToST model language: parse (grammar/tost.l, grammar/tost.y)
 * and interpret a .tost file into the IR.
 *
 * A .tost file reads like the forward() of a PyTorch module: assignments of
 * hyperparameters and tensors, layer calls, `for i in range(n)` loops, `def`
 * blocks and `output`.  Every layer call that has weights names where they live
 * in the state_dict with `@ path`, e.g. `layernorm(x) @ blocks[i].norm1`, and a
 * `def` block called with `@ path` prefixes every path inside it, exactly as a
 * submodule prefixes its parameters' keys.  See docs/dsl.md.
 *
 * Lowering is direct interpretation: statements run once, loops unroll, and
 * each layer call (dsl_layers.c) appends IR nodes at once, with the loc of the
 * call and their shapes inferred, so wrong dimensions are reported at the DSL
 * line that caused them.  This file holds the parser glue and error display,
 * scopes, argument binding, expressions and statements.
 *
 * Errors never exit: dsl_error_at() formats "file:line:col: error: msg", the
 * source line and a caret, and unwinds through ctx_error().  The parser itself
 * never longjmps (see tost.y), so Flex and Bison always clean up.
 */
#include "tostc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void dsl_excerpt(Ctx *c, const char *src, int line, int col)
{
	const char *s = src ? src : "";
	for (int l = 1; l < line && *s; s++)
		if (*s == '\n')
			l++;
	int len = 0;
	while (s[len] && s[len] != '\n' && s[len] != '\r' && len < 400)
		len++;
	if (col - 1 > len)
		col = len + 1;
	/* the line (tabs expanded) and the part before the column, escaped as
	 * the sink does, so that the caret stands under the column */
	char raw[3300], text[1700], before[1700];
	int k = 0, at = 0;
	for (int i = 0; i < len; i++) {
		if (i == col - 1)
			at = k;
		if (s[i] == '\t')
			do
				raw[k++] = ' ';
			while (k % 8);
		else
			raw[k++] = s[i];
	}
	if (col - 1 >= len)
		at = k;
	raw[k] = 0;
	text_term(text, sizeof text, raw);
	raw[at] = 0;
	text_term(before, sizeof before, raw);
	size_t n = strlen(c->errmsg);
	snprintf(c->errmsg + n, sizeof c->errmsg - n, "\n  %s\n  %*s^", text, (int)strlen(before), "");
}

void dsl_error_at(Ctx *c, const char *file, const char *src, int line, int col,
                  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* ctx_error prints "<path>: error: <msg>": make the path "file:line:col" */
	c->path = ctx_printf(c, "%s:%d:%d", file, line, col);
	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (!setjmp(jb))
		ctx_error(c, "%s", msg);
	c->jmp = outer;
	dsl_excerpt(c, src, line, col);
	ctx_rethrow(c);
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

typedef struct Var Var;
struct Var {
	const char *name;
	DslValue v;
	Var *next;
};

typedef struct DslScope Scope;
struct DslScope {
	Var *vars;
	Scope *parent;       /* globals for a def body; NULL for globals */
	const char *prefix;  /* state_dict prefix ("" or "blocks.3.") */
	int depth;           /* def call depth, to stop runaway recursion */
	int64_t steps;       /* globals: statements executed (TOSTC_MAX_DSL_STEPS) */
	int eval_depth;      /* globals: expressions being evaluated, through def calls */
};

#define ERR DSL_ERR

static DslValue vint(int64_t i) { return (DslValue){.kind = DV_INT, .i = i}; }
static DslValue vfloat(double f) { return (DslValue){.kind = DV_FLOAT, .f = f}; }
static DslValue vtensor(Tensor *t) { return (DslValue){.kind = DV_TENSOR, .t = t}; }

static const char *kind_name(DslValKind k)
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

static void assign(Dsl *D, Scope *s, const char *name, DslValue v)
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


/* ------------------------------------------------------------------ */
/* The interpreter                                                      */
/* ------------------------------------------------------------------ */

static DslValue eval(Dsl *D, Scope *s, Ast *e);
static void exec(Dsl *D, Scope *s, Ast *stmts);

static int64_t eval_int(Dsl *D, Scope *s, Ast *e, const char *what)
{
	DslValue v = eval(D, s, e);
	if (v.kind != DV_INT)
		ERR(D, e, "%s must be an integer, got %s", what, kind_name(v.kind));
	return v.i;
}

static Tensor *as_tensor(Dsl *D, DslValue v, DType like)
{
	if (v.kind == DV_TENSOR)
		return v.t;
	double x = v.kind == DV_FLOAT ? v.f : (double)v.i;
	if (like == DT_I64) {
		int64_t i = (int64_t)x;
		return dsl_const_i64(D, 0, &i, 1);
	}
	return dsl_const_f32(D, (float)x);
}

static DslValue binary(Dsl *D, Ast *e, DslValue a, DslValue b)
{
	int op = e->op;
	if ((a.kind == DV_TENSOR || b.kind == DV_TENSOR) &&
	    a.kind != DV_STR && b.kind != DV_STR && a.kind != DV_NONE && b.kind != DV_NONE) {
		DType like = a.kind == DV_TENSOR ? a.t->dtype : b.t->dtype;
		OpKind k = op == '+' ? OP_ADD : op == '-' ? OP_SUB : op == '*' ? OP_MUL : OP_DIV;
		D->at = e;
		return vtensor(dsl_op2(D, k, NULL, as_tensor(D, a, like), as_tensor(D, b, like)));
	}
	if (a.kind == DV_INT && b.kind == DV_INT) {
		int64_t r;
		bool ovf = false;
		switch (op) {
		case '+': ovf = __builtin_add_overflow(a.i, b.i, &r); break;
		case '-': ovf = __builtin_sub_overflow(a.i, b.i, &r); break;
		case '*': ovf = __builtin_mul_overflow(a.i, b.i, &r); break;
		default: ovf = a.i == INT64_MIN && b.i == -1; break;
		}
		if (ovf)
			ERR(D, e, "integer overflow: %lld %c %lld does not fit in 64 bits",
			    (long long)a.i, op, (long long)b.i);
		switch (op) {
		case '+': case '-': case '*': return vint(r);
		default:
			if (b.i == 0)
				ERR(D, e, "division by zero");
			/* exact integer division stays an integer (d / heads) */
			if (a.i % b.i == 0)
				return vint(a.i / b.i);
			return vfloat((double)a.i / (double)b.i);
		}
	}
	if ((a.kind == DV_INT || a.kind == DV_FLOAT) && (b.kind == DV_INT || b.kind == DV_FLOAT)) {
		double x = a.kind == DV_INT ? (double)a.i : a.f, y = b.kind == DV_INT ? (double)b.i : b.f;
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

static DslValue convert(Dsl *D, Ast *at, const DslLayer *L, const DslParam *p, DslValue v)
{
	switch (p->kind) {
	case 't':
		if (v.kind == DV_TENSOR)
			return v;
		break;
	case 'i':
		if (v.kind == DV_INT)
			return v;
		break;
	case 'f':
		if (v.kind == DV_FLOAT)
			return v;
		if (v.kind == DV_INT)
			return vfloat((double)v.i);
		break;
	case 'b':
		if (v.kind == DV_BOOL)
			return v;
		break;
	case 's':
		if (v.kind == DV_STR)
			return v;
		break;
	}
	static const char *want[128] = {['t'] = "a tensor", ['i'] = "an integer",
	                                ['f'] = "a number", ['b'] = "true or false",
	                                ['s'] = "a string"};
	ERR(D, at, "%s: '%s' must be %s, got %s", L->name, p->name, want[(int)p->kind],
	    kind_name(v.kind));
}

static DslValue parse_default(const DslParam *p)
{
	switch (p->kind) {
	case 'i': return vint(strtoll(p->dflt, NULL, 10));
	case 'f': return vfloat(strtod(p->dflt, NULL));
	case 'b': return (DslValue){.kind = DV_BOOL, .i = strcmp(p->dflt, "true") == 0};
	case 's': return (DslValue){.kind = DV_STR, .s = p->dflt};
	default: return (DslValue){0};
	}
}

static const char *param_list(Dsl *D, const DslLayer *L)
{
	char *s = "";
	for (int i = 0; i < DSL_MAX_PARAMS && L->params[i].name; i++)
		s = ctx_printf(D->c, "%s%s%s", s, i ? ", " : "", L->params[i].name);
	return s[0] ? s : "none";
}

static DslValue call_layer(Dsl *D, Scope *s, Ast *call, const DslLayer *L)
{
	DslArgs a = {0};
	int np = 0;
	while (np < DSL_MAX_PARAMS && L->params[np].name)
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
				ERR(D, arg, "%s has no parameter '%s' (parameters: %s)", L->name,
				    text_msg(D->c, arg->name),
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
		if (a.v[idx].kind != DV_NONE)
			ERR(D, arg, "%s: '%s' is given twice", L->name, L->params[idx].name);
		a.v[idx] = convert(D, val, L, &L->params[idx], eval(D, s, val));
	}
	for (int i = 0; i < np; i++)
		if (a.v[i].kind == DV_NONE) {
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

static DslValue call_def(Dsl *D, Scope *s, Ast *call, Ast *def)
{
	Scope local = {.parent = D->globals, .prefix = s->prefix, .depth = s->depth + 1};
	if (local.depth > 64)
		ERR(D, call, "'%s' calls itself too deeply", text_msg(D->c, def->name));
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
				ERR(D, arg, "'%s' has no parameter '%s'",
				    text_msg(D->c, def->name), text_msg(D->c, arg->name));
			name = arg->name;
			val = arg->lhs;
		} else {
			Ast *p = def->args;
			for (int k = 0; p && k < i; k++)
				p = p->next;
			if (!p)
				ERR(D, arg, "too many arguments to '%s' (it takes %d)",
				    text_msg(D->c, def->name), np);
			name = p->name;
			i++;
		}
		for (Var *v = local.vars; v; v = v->next)
			if (strcmp(v->name, name) == 0)
				ERR(D, arg, "'%s': parameter '%s' is given twice",
				    text_msg(D->c, def->name), text_msg(D->c, name));
		assign(D, &local, name, eval(D, s, val));
	}
	for (Ast *p = def->args; p; p = p->next) {
		bool bound = false;
		for (Var *v = local.vars; v; v = v->next)
			bound |= strcmp(v->name, p->name) == 0;
		if (!bound)
			ERR(D, call, "'%s': missing argument '%s'", text_msg(D->c, def->name),
			    p->name);
	}
	bool saved = D->returned;
	D->returned = false;
	D->retval = (DslValue){0};
	exec(D, &local, def->body);
	DslValue r = D->retval;
	D->returned = saved;
	return r;
}

static DslValue eval_expr(Dsl *D, Scope *s, Ast *e);

/* Expressions nest inside def calls inside expressions: each is bounded
 * (TOSTC_MAX_DSL_DEPTH, 64 calls), but not their product, which overflowed
 * the stack (ASan's frames are big); so the total is bounded too. */
static DslValue eval(Dsl *D, Scope *s, Ast *e)
{
	if (++D->globals->eval_depth > TOSTC_MAX_DSL_EVAL_DEPTH)
		ERR(D, e, "expressions and def calls nested more than %d deep in all, tostc's limit",
		    TOSTC_MAX_DSL_EVAL_DEPTH);
	DslValue v = eval_expr(D, s, e);
	D->globals->eval_depth--;
	return v;
}

static DslValue eval_expr(Dsl *D, Scope *s, Ast *e)
{
	switch (e->kind) {
	case AST_INT: return vint(e->ival);
	case AST_FLOAT: return vfloat(e->fval);
	case AST_BOOL: return (DslValue){.kind = DV_BOOL, .i = e->ival};
	case AST_STR: return (DslValue){.kind = DV_STR, .s = e->name};
	case AST_NAME: {
		Var *v = lookup(s, e->name);
		if (!v) {
			if (strchr(e->name, '.'))
				ERR(D, e, "'%s' is not a variable (dotted names are weight paths: "
				          "write layer(...) @ %s)", text_msg(D->c, e->name), text_msg(D->c, e->name));
			ERR(D, e, "unknown name '%s'", text_msg(D->c, e->name));
		}
		return v->v;
	}
	case AST_NEG: {
		DslValue v = eval(D, s, e->lhs);
		if (v.kind == DV_INT && v.i == INT64_MIN)
			ERR(D, e, "integer overflow: -(%lld) does not fit in 64 bits", (long long)v.i);
		if (v.kind == DV_INT)
			return vint(-v.i);
		if (v.kind == DV_FLOAT)
			return vfloat(-v.f);
		if (v.kind == DV_TENSOR) {
			D->at = e;
			return vtensor(dsl_op1(D, OP_NEG, NULL, v.t));
		}
		ERR(D, e, "cannot negate %s", kind_name(v.kind));
	}
	case AST_BINARY: {
		DslValue a = eval(D, s, e->lhs), b = eval(D, s, e->rhs);
		return binary(D, e, a, b);
	}
	case AST_CALL: {
		Ast *def = find_def(D, e->name);
		if (def)
			return call_def(D, s, e, def);
		const DslLayer *L = dsl_find_layer(e->name);
		if (!L)
			ERR(D, e, "unknown layer '%s'", text_msg(D->c, e->name));
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
		ERR(D, st, "unknown element type '%s' (f32, i64, i32, bool)",
		    text_msg(D->c, st->str));
	int64_t dims[MAX_RANK];
	int rank = 0;
	for (Ast *d = st->args; d; d = d->next) {
		if (rank == MAX_RANK)
			ERR(D, d, "input '%s' has more than %d dims", text_msg(D->c, st->name),
			    MAX_RANK);
		dims[rank] = eval_int(D, s, d, "a dimension");
		if (dims[rank] < 1)
			ERR(D, d, "dimension %lld of input '%s' must be positive", (long long)dims[rank],
			    text_msg(D->c, st->name));
		rank++;
	}
	int64_t nelem = 1;
	for (int i = 0; i < rank; i++)
		if (__builtin_mul_overflow(nelem, dims[i], &nelem) || nelem > ((int64_t)1 << 45))
			ERR(D, st, "input '%s' is too large: its element count overflows tostc's limit "
			    "of 2^45", text_msg(D->c, st->name));
	if (graph_tensor(D->g, st->name))
		ERR(D, st, "input '%s' is defined twice", text_msg(D->c, st->name));
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
	DslValue v;
	if (st->lhs)
		v = eval(D, s, st->lhs);
	else {
		Var *x = lookup(s, st->name);
		if (!x)
			ERR(D, st, "unknown name '%s'", text_msg(D->c, st->name));
		v = x->v;
	}
	if (v.kind != DV_TENSOR)
		ERR(D, st, "output '%s' must be a tensor, got %s", text_msg(D->c, st->name),
		    kind_name(v.kind));
	Tensor *t = v.t;
	Tensor *clash = graph_tensor(D->g, st->name);
	if (clash && clash != t)
		ERR(D, st, "output name '%s' is already used", text_msg(D->c, st->name));
	if (t->kind != TK_VALUE || t->is_output) {
		/* a graph input, weight or another output: copy it */
		D->at = st;
		t = dsl_op1(D, OP_IDENTITY, NULL, t);
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

/* Read the `weights` file; its errors point at the `weights` statement:
 * "m.tost:2:1: error: w.safetensors: tensors 'a' ... overlap". */
static SafeTensors *open_weights(Dsl *D, Ast *st)
{
	Ctx *c = D->c;
	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (setjmp(jb)) {
		c->jmp = outer;
		if (c->errcode != 1 || !outer)
			longjmp(*outer, 1);
		char msg[sizeof c->errmsg];
		const char *m = strstr(c->errmsg, "error: ");
		snprintf(msg, sizeof msg, "%s", m ? m + 7 : c->errmsg);
		dsl_error_at(c, D->file, D->src, st->line, st->col, "%s", msg);
	}
	SafeTensors *w = safetensors_open(c, join_dir(D, st->name));
	c->jmp = outer;
	return w;
}

/* one more statement or loop iteration executed (an empty loop body still
 * costs time: it counts too) */
static void count_step(Dsl *D, Ast *st)
{
	if (++D->globals->steps > TOSTC_MAX_DSL_STEPS)
		ERR(D, st, "the model runs more than %d statements and loop iterations (loops "
		    "unrolled), tostc's limit", TOSTC_MAX_DSL_STEPS);
}

static void exec(Dsl *D, Scope *s, Ast *st)
{
	for (; st && !D->returned; st = st->next) {
		D->at = st;
		count_step(D, st);
		bool global = s == D->globals;
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
			D->st = open_weights(D, st);
			break;
		case AST_ASSIGN: {
			DslValue v = eval(D, s, st->lhs);
			/* --dim NAME=V overrides a top-level integer or bool (0/1)
			 * hyperparameter */
			if (global && (v.kind == DV_INT || v.kind == DV_BOOL))
				for (int i = 0; i < D->c->ndims; i++)
					if (strcmp(D->c->dims[i].name, st->name) == 0) {
						int64_t x = D->c->dims[i].value;
						if (v.kind == DV_BOOL && x != 0 && x != 1)
							ERR(D, st, "--dim %s=%lld: '%s' is a bool; use 0 or 1",
							    text_msg(D->c, st->name), (long long)x, text_msg(D->c, st->name));
						v.i = x;
						D->c->dims[i].used = true;
					}
			if (v.kind == DV_NONE)
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
				count_step(D, st);
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

/* A .tost file, checked against the size limit before it is read. */
static char *read_source(Ctx *c, const char *path, long *size)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > TOSTC_MAX_TOST_BYTES)
		ctx_error(c, "'%s' is %lld bytes; a .tost file may have at most %d", path,
		          (long long)sb.st_size, TOSTC_MAX_TOST_BYTES);
	return ctx_read_file(c, "", path, size);
}

/* Nesting depth of expressions and blocks: the interpreter recurses on it,
 * and a long chain like 1+1+...+1 is as deep as it is long.  The walk
 * itself stops at the limit, so it is bounded too. */
static void check_depth(Dsl *D, Ast *a, int depth)
{
	for (; a; a = a->next) {
		if (depth > TOSTC_MAX_DSL_DEPTH)
			ERR(D, a, "expressions or blocks nested more than %d deep, tostc's limit",
			    TOSTC_MAX_DSL_DEPTH);
		check_depth(D, a->lhs, depth + 1);
		check_depth(D, a->rhs, depth + 1);
		check_depth(D, a->args, depth + 1);
		check_depth(D, a->body, depth + 1);
		check_depth(D, a->path, depth + 1);
	}
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
	Scope globals = {.prefix = ""};
	D.globals = &globals;
	check_depth(&D, prog, 0);
	/* collect defs first, so a def may be used before it is written */
	for (Ast *st = prog; st; st = st->next)
		if (st->kind == AST_DEF) {
			if (find_def(&D, st->name))
				ERR(&D, st, "'%s' is defined twice", text_msg(c, st->name));
			if (dsl_find_layer(st->name))
				ERR(&D, st, "'%s' is a built-in layer; choose another name",
				    text_msg(c, st->name));
			for (Ast *p = st->args; p; p = p->next)
				for (Ast *q = p->next; q; q = q->next)
					if (strcmp(p->name, q->name) == 0)
						ERR(&D, q, "parameter '%s' is listed twice",
						    text_msg(c, q->name));
			st->rhs = D.defs; /* chain through rhs */
			D.defs = st;
		}
	exec(&D, D.globals, prog);
	if (c->nconsts)
		ctx_error(c, "--const-input %s: not supported for .tost models (make it a weight)",
		          c->consts[0].name);
	for (int i = 0; i < c->ndims && i < MAX_DIM_BINDINGS; i++)
		if (!c->dims[i].used) {
			const char *names = "";
			for (Var *v = D.globals->vars; v; v = v->next)
				if (v->v.kind == DV_INT || v->v.kind == DV_BOOL)
					names = ctx_printf(c, "%s%s%s", v->name, names[0] ? ", " : "", names);
			ctx_error(c, "--dim %s: the model has no top-level integer or bool '%s'%s%s",
			          c->dims[i].name, c->dims[i].name, names[0] ? "; it has: " : "", names);
		}
	if (D.g->ninputs == 0)
		ctx_error(c, "no inputs: declare one, e.g. input x: f32[1, 3, 224, 224]");
	if (D.g->noutputs == 0)
		ctx_error(c, "no outputs: declare one, e.g. output logits = ...");
	uint64_t h = fnv1a(FNV1A_BASIS, src, strlen(src));
	if (D.st)
		h = fnv1a(h, D.st->data, (size_t)D.st->data_size);
	D.g->source_hash = h;
	return D.g;
}

Graph *dsl_load(Ctx *c, const char *path)
{
	long n;
	char *src = read_source(c, path, &n);
	if (memchr(src, 0, (size_t)n))
		ctx_error(c, "'%s' contains a NUL byte; is it a .tost text file?", path);
	Ast *prog = dsl_parse(c, path, src);
	return dsl_lower(c, path, src, prog);
}

Graph *dsl_load_string(Ctx *c, const char *path, const char *src)
{
	return dsl_lower(c, path, src, dsl_parse(c, path, src));
}
