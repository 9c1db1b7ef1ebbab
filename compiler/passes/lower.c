/*
 * lower.c -- turn every live node into calls of runtime kernels.
 *
 * The op's lower function (ops.def) appends Calls to n->calls.  A Call names
 * a kernel of runtime/kernels.def and lists its arguments in the declared
 * order; fold.c invokes it inside the compiler, emit_c.c prints it.  Every
 * call is checked against the declaration here.  Views (views.c) lower to
 * nothing.
 */
#include "tostc.h"

#include <string.h>

Call *call_new(Graph *g, Node *n, KernelId kernel)
{
	Call *c = ctx_alloc(g->ctx, sizeof *c);
	c->kernel = kernel;
	if (n->calls)
		n->calls_tail->next = c;
	else
		n->calls = c;
	n->calls_tail = c;
	return c;
}

static Arg *add(Call *c)
{
	if (c->nargs >= MAX_ARGS) {
		c->overflow = true;  /* a lowering bug: lower() reports it */
		return &c->args[MAX_ARGS - 1];
	}
	return &c->args[c->nargs++];
}

void call_in(Call *c, Tensor *t) { Arg *a = add(c); a->kind = ARG_IN; a->t = t; }
void call_out(Call *c, Tensor *t) { Arg *a = add(c); a->kind = ARG_OUT; a->t = t; }
void call_scratch(Call *c, int64_t bytes) { Arg *a = add(c); a->kind = ARG_SCRATCH; a->i = bytes; a->offset = -1; }
void call_int(Call *c, int64_t v) { Arg *a = add(c); a->kind = ARG_INT; a->i = v; }
void call_float(Call *c, float v) { Arg *a = add(c); a->kind = ARG_FLOAT; a->f = v; }

void call_ints(Graph *g, Call *c, const int64_t *v, int n)
{
	Arg *a = add(c);
	a->kind = ARG_INTS;
	a->n = n;
	a->ints = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)(n ? n : 1));
	if (n)
		memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
}

void call_floats(Graph *g, Call *c, const float *v, int n)
{
	Arg *a = add(c);
	a->kind = ARG_FLOATS;
	a->n = n;
	a->floats = ctx_alloc(g->ctx, sizeof(float) * (size_t)(n ? n : 1));
	if (n)
		memcpy(a->floats, v, sizeof(float) * (size_t)n);
}

/* does argument a fit parameter p of the kernel */
static bool arg_fits(const Arg *a, const KernelParam *p)
{
	bool kind = a->kind == p->kind || (p->kind == ARG_OUT && a->kind == ARG_SCRATCH);
	if (!kind)
		return false;
	if ((a->kind == ARG_IN || a->kind == ARG_OUT) && p->dtype != DT_UNDEF)
		return a->t && a->t->dtype == p->dtype;
	return true;
}

void calls_check(Graph *g, const Node *n)
{
	for (const Call *c = n->calls; c; c = c->next) {
		const KernelInfo *k = &kernel_info[c->kernel];
		const char *bad = c->overflow || c->nargs != k->nparams ? "the number of arguments" : NULL;
		for (int i = 0; !bad && i < c->nargs; i++)
			if (!arg_fits(&c->args[i], &k->params[i]))
				bad = k->params[i].name;
		if (bad) {
			char msg[256];
			snprintf(msg, sizeof msg, "node #%d: a call of %s does not match runtime/kernels.def "
			         "(%s)", n->index, k->name, bad);
			ctx_bug(g->ctx, __FILE__, __LINE__, msg);
		}
	}
}

void lower(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		n->calls = NULL;
		op_info[n->op].lower(g, n);
		calls_check(g, n);
	}
}
