/*
 * onnx_inline.c -- ONNX local functions, expanded into their callers at load.
 *
 * PyTorch's newer exporter writes a model as a graph of calls of the
 * model's own functions (ModelProto.functions: a name and domain, formal
 * inputs, outputs and attributes, and a body of nodes).  A node whose
 * (domain, op_type) names such a function is replaced by the function's
 * body, with
 *   - the formal inputs and outputs renamed to the call's actual names (an
 *     omitted optional input becomes an omitted input of the body's nodes);
 *   - every other name of the body made unique to this call,
 *     "<call>/<function>:<name>", so two calls never share a tensor;
 *   - attributes that refer to the function's attributes (ref_attr_name)
 *     replaced by the call's value, or the function's default value
 *     (attribute_proto, ONNX 1.13 and later), or dropped when neither is
 *     given;
 *   - node names "<call name>/<body node name>", and the caller's position
 *     in the graph as their index (for messages).
 * Bodies may call functions in turn, up to FN_MAX_DEPTH deep; a function
 * that calls itself is an error.  The result is the graph's nodes as one
 * flat list that the loader reads as if the file held it.
 */
#include "tostc.h"

#include <string.h>

#include "onnx_front.h"

#define FN_MAX_DEPTH 32

typedef struct {
	Ctx *c;
	const Onnx__ModelProto *m;
	const Onnx__NodeProto **nodes;
	int *index;
	int n, cap;
	int calls;            /* calls expanded so far: unique name prefixes */
} Flat;

/* One call being expanded: the renaming of its body's names. */
typedef struct Scope Scope;
struct Scope {
	const Scope *up;                    /* the call this one is inside */
	const Onnx__FunctionProto *fn;
	const Onnx__NodeProto *call;
	const char *prefix;                 /* for the body's own names */
	int depth;
};

static bool is_default_domain(const char *d)
{
	return !*d || strcmp(d, "ai.onnx") == 0;
}

/* The model's function called by node np, or NULL. */
static const Onnx__FunctionProto *called(const Flat *F, const Onnx__NodeProto *np)
{
	const char *op = str(np->op_type), *dom = str(np->domain);
	for (size_t i = 0; i < F->m->n_functions; i++) {
		const Onnx__FunctionProto *fn = F->m->functions[i];
		const char *fd = str(fn->domain);
		if (strcmp(str(fn->name), op) == 0 &&
		    (strcmp(fd, dom) == 0 || (is_default_domain(fd) && is_default_domain(dom))))
			return fn;
	}
	return NULL;
}

static void push(Flat *F, const Onnx__NodeProto *np, int index)
{
	if (F->n == TOSTC_MAX_NODES)
		ctx_error(F->c, "the graph has more than %d nodes once its functions are expanded, "
		          "tostc's limit", TOSTC_MAX_NODES);
	if (F->n == F->cap) {
		int cap = F->cap ? 2 * F->cap : 256;
		const Onnx__NodeProto **v = ctx_alloc(F->c, sizeof *v * (size_t)cap);
		int *ix = ctx_alloc(F->c, sizeof *ix * (size_t)cap);
		if (F->n) {
			memcpy(v, F->nodes, sizeof *v * (size_t)F->n);
			memcpy(ix, F->index, sizeof *ix * (size_t)F->n);
		}
		F->nodes = v, F->index = ix, F->cap = cap;
	}
	F->nodes[F->n] = np;
	F->index[F->n++] = index;
}

/* The name `name` of s's body seen by its caller. */
static const char *outer_name(Flat *F, const Scope *s, const char *name)
{
	if (!*name)
		return "";
	const Onnx__FunctionProto *fn = s->fn;
	const Onnx__NodeProto *call = s->call;
	for (size_t i = 0; i < fn->n_input; i++)
		if (strcmp(str(fn->input[i]), name) == 0)
			return i < call->n_input ? str(call->input[i]) : "";
	for (size_t i = 0; i < fn->n_output; i++)
		if (strcmp(str(fn->output[i]), name) == 0)
			return i < call->n_output ? str(call->output[i]) : "";
	return ctx_printf(F->c, "%s:%s", s->prefix, name);
}

/* The value of the function attribute `name` in call s: the caller's, the
 * function's default, or NULL. */
static const Onnx__AttributeProto *attr_value(const Scope *s, const char *name)
{
	for (size_t i = 0; i < s->call->n_attribute; i++)
		if (strcmp(str(s->call->attribute[i]->name), name) == 0)
			return s->call->attribute[i];
	for (size_t i = 0; i < s->fn->n_attribute_proto; i++)
		if (strcmp(str(s->fn->attribute_proto[i]->name), name) == 0)
			return s->fn->attribute_proto[i];
	return NULL;
}

/* A copy of body node np as the caller sees it (names, attributes). */
static const Onnx__NodeProto *instantiate(Flat *F, const Scope *s, const Onnx__NodeProto *np)
{
	Ctx *c = F->c;
	Onnx__NodeProto *q = ctx_alloc(c, sizeof *q);
	*q = *np;
	q->input = ctx_alloc(c, sizeof(char *) * (np->n_input + 1));
	for (size_t i = 0; i < np->n_input; i++)
		q->input[i] = (char *)outer_name(F, s, str(np->input[i]));
	q->output = ctx_alloc(c, sizeof(char *) * (np->n_output + 1));
	for (size_t i = 0; i < np->n_output; i++)
		q->output[i] = (char *)outer_name(F, s, str(np->output[i]));
	q->name = ctx_printf(c, "%s/%s", str(s->call->name), str(np->name));
	q->attribute = ctx_alloc(c, sizeof(void *) * (np->n_attribute + 1));
	q->n_attribute = 0;
	for (size_t i = 0; i < np->n_attribute; i++) {
		const Onnx__AttributeProto *a = np->attribute[i];
		if (a->ref_attr_name && *a->ref_attr_name) {
			const Onnx__AttributeProto *v = attr_value(s, a->ref_attr_name);
			if (!v)
				continue;   /* not given: the op's own default applies */
			Onnx__AttributeProto *b = ctx_alloc(c, sizeof *b);
			*b = *v;
			b->name = a->name;
			a = b;
		}
		q->attribute[q->n_attribute++] = (Onnx__AttributeProto *)a;
	}
	return q;
}

static void flatten(Flat *F, const Scope *s, Onnx__NodeProto *const *nodes, size_t n, int index)
{
	for (size_t i = 0; i < n; i++) {
		const Onnx__NodeProto *np = s ? instantiate(F, s, nodes[i]) : nodes[i];
		int ix = s ? index : (int)i;
		const Onnx__FunctionProto *fn = called(F, np);
		if (!fn) {
			push(F, np, ix);
			continue;
		}
		for (const Scope *u = s; u; u = u->up)
			if (u->fn == fn)
				ctx_error(F->c, "function '%s' calls itself (through node '%s'); ONNX "
				          "functions may not recurse", text_msg(F->c, str(fn->name)),
				          text_msg(F->c, str(np->name)));
		int depth = s ? s->depth + 1 : 1;
		if (depth > FN_MAX_DEPTH)
			ctx_error(F->c, "functions call functions more than %d deep, tostc's limit",
			          FN_MAX_DEPTH);
		if (np->n_input > fn->n_input || np->n_output > fn->n_output)
			ctx_error(F->c, "node '%s' calls function '%s' with %zu inputs and %zu outputs; "
			          "it has %zu and %zu", text_msg(F->c, str(np->name)),
			          text_msg(F->c, str(fn->name)), np->n_input, np->n_output, fn->n_input,
			          fn->n_output);
		Scope in = {s, fn, np, NULL, depth};
		in.prefix = ctx_printf(F->c, "%s/%s#%d", *str(np->name) ? np->name : "call",
		                       str(fn->name), ++F->calls);
		flatten(F, &in, fn->node, fn->n_node, ix);
	}
}

const Onnx__NodeProto **onnx_inline_functions(Ctx *c, const Onnx__ModelProto *m,
                                              const Onnx__GraphProto *gp, int **index, int *n)
{
	Flat F = {c, m, NULL, NULL, 0, 0, 0};
	flatten(&F, NULL, gp->node, gp->n_node, 0);
	*index = F.index;
	*n = F.n;
	return F.nodes;
}
