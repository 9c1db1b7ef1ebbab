/*
 * emit_c.c -- the C emitter: Graph + kernel calls + memory plan -> model.c/.h.
 *
 * The generated model.c reads top to bottom like a hand-written inference
 * file (llama2.c's forward()): a provenance comment; the runtime's prelude and
 * the prototypes of the kernels the model calls (runtime/kernels.def); the
 * forward pass NAME_run_v, one line per node with its name and shapes in a
 * comment and every argument named after the kernel's parameter; the typed
 * NAME_run; the step API's graphs and functions (emit_step.c) of a model
 * that has them; then the runtime sections the model uses, copied from
 * runtime/; and last the weights, with a table of what lies where
 * (emit_weights.c: in model.c, linked from model.weights, or passed in by the
 * caller).  Every function that runs a graph reads the weights through its
 * parameter W; the public functions fetch W as the weights mode says.
 *
 * Output is a pure function of the graph and options (no addresses, times or
 * hash-table orders), so the same model and flags give identical bytes.
 */
#include "tostc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *name;    /* first kernel name of the section */
	const char *names;   /* the names line, space separated */
	const char *deps;    /* dependencies, space separated */
	const char *body;    /* text between the header line and the end marker */
	int bodylen;
	int file, order;
	bool needed, emitted;
} Section;

typedef struct {
	Graph *g;
	Ctx *c;
	const EmitOptions *o;
	FILE *f;
	Section *sec;
	int nsec;
	int64_t *woff;       /* per tensor id: offset in the weight blob, -1 if none */
	WeightBlob wb;       /* the distinct weights (by data), in blob order */
	bool uses_in, uses_out, uses_ws, uses_w;  /* what the function being written reads */
	struct SubFn *subs;  /* the branches of run-time Ifs, nested ones first */
	int nsubs;
	const StreamInfo *stream; /* the step API to emit, or NULL */
	int *outslot;        /* per tensor id: index in outputs it is written to, -1 */
	int *inslot;         /* per tensor id: index in inputs, -1 */
} Emitter;

/* A branch of a run-time If, written as a function of its own. */
typedef struct SubFn {
	const Node *node;    /* the If */
	int branch;          /* 0 then, 1 else */
	Graph *g;
	int64_t *woff;       /* its weights' offsets in the blob */
	const char *fname;
} SubFn;

/* The run-time Ifs and Loops of g (their subgraphs are compiled; a folded If
 * or an unrolled Loop is gone). */
static bool is_runtime_if(const Node *n)
{
	return (n->op == OP_IF || n->op == OP_LOOP) && !n->dead && n->sub[0];
}

/* ---- runtime sections ---- */

static bool word_in(const char *list, int listlen, const char *w)
{
	size_t n = strlen(w);
	const char *p = list, *end = list + listlen;
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *q = p;
		while (q < end && !isspace((unsigned char)*q))
			q++;
		if ((size_t)(q - p) == n && strncmp(p, w, n) == 0)
			return true;
		p = q;
	}
	return false;
}

static void parse_sections(Emitter *e)
{
	int cap = 0;   /* a section per marker */
	for (int fi = 0; fi < nruntime_files; fi++)
		for (const char *p = runtime_files[fi].text; (p = strstr(p, "/*@ ")) != NULL; p += 4)
			cap++;
	e->sec = ctx_alloc(e->c, sizeof(Section) * (size_t)(cap ? cap : 1));
	for (int fi = 0; fi < nruntime_files; fi++) {
		const char *t = runtime_files[fi].text;
		const char *p = t;
		while ((p = strstr(p, "/*@ ")) != NULL) {
			const char *hdr_end = strstr(p, "*/");
			if (!hdr_end)
				break;
			const char *colon = memchr(p, ':', (size_t)(hdr_end - p));
			const char *names = p + 4;
			int nameslen = (int)((colon ? colon : hdr_end) - names);
			const char *deps = colon ? colon + 1 : hdr_end;
			int depslen = (int)(hdr_end - deps);
			const char *body = hdr_end + 2;
			if (*body == '\n')
				body++;
			const char *end = strstr(body, "/*@end*/");
			if (!end)
				ctx_bug(e->c, __FILE__, __LINE__, "runtime section without /*@end*/");
			ir_assert(e->c, e->nsec < cap);
			Section *s = &e->sec[e->nsec++];
			s->names = ctx_printf(e->c, "%.*s", nameslen, names);
			s->deps = ctx_printf(e->c, "%.*s", depslen, deps);
			char first[128] = "";
			sscanf(s->names, "%127s", first);
			s->name = ctx_strdup(e->c, first);
			s->body = body;
			s->bodylen = (int)(end - body);
			s->file = fi;
			s->order = e->nsec;
			p = end + 8;
		}
	}
}

static Section *section_for(Emitter *e, const char *name)
{
	for (int i = 0; i < e->nsec; i++)
		if (word_in(e->sec[i].names, (int)strlen(e->sec[i].names), name))
			return &e->sec[i];
	return NULL;
}

static void emit_section(Emitter *e, Section *s, int depth)
{
	if (s->emitted)
		return;
	if (depth > 64)
		ctx_bug(e->c, __FILE__, __LINE__, "runtime section dependency cycle");
	s->emitted = true;
	const char *p = s->deps;
	char w[128];
	int k;
	while (sscanf(p, "%127s%n", w, &k) == 1) {
		Section *d = section_for(e, w);
		if (!d) {
			char msg[256];
			snprintf(msg, sizeof msg, "runtime section '%s' needs unknown '%s'", s->name, w);
			ctx_bug(e->c, __FILE__, __LINE__, msg);
		}
		emit_section(e, d, depth + 1);
		p += k;
	}
	fprintf(e->f, "%.*s\n", s->bodylen, s->body);
}

/* Every kernel of kernels.def has a runtime section, and every section's
 * dependencies resolve without a cycle (ctx_bug otherwise): the sections
 * of all kernels are written to f, as a model calling all of them would
 * get them.  For the tests; the emitter finds the same faults, later. */
void emit_check_runtime(Ctx *c, FILE *f)
{
	Emitter e = {.c = c, .f = f};
	parse_sections(&e);
	for (int k = 0; k < K_COUNT; k++) {
		Section *s = section_for(&e, kernel_info[k].name);
		if (!s) {
			char msg[256];
			snprintf(msg, sizeof msg, "no runtime section defines kernel '%s'", kernel_info[k].name);
			ctx_bug(c, __FILE__, __LINE__, msg);
		}
		emit_section(&e, s, 0);
	}
}

/* ---- names and literals ---- */

/* A name from the model in a comment: shortened, then made safe there. */
static const char *shown(Ctx *c, const char *name)
{
	return text_comment(c, text_short(c, name));
}

static const char *float_text(Ctx *c, float v)
{
	if (isnan(v))
		return "NAN";
	if (isinf(v))
		return v > 0 ? "HUGE_VALF" : "(-HUGE_VALF)";
	char buf[64];
	snprintf(buf, sizeof buf, "%.9g", (double)v);
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return ctx_printf(c, "%sf", buf);
}

static const char *int_text(Ctx *c, int64_t v)
{
	if (v == INT64_MIN)
		return "INT64_MIN";
	if (v > 2147483647 || v < -2147483647)
		return ctx_printf(c, "INT64_C(%lld)", (long long)v);
	return ctx_printf(c, "%lld", (long long)v);
}

/* The C expression for a tensor's memory, typed for reading or writing. */
static const char *ptr_text(Emitter *e, Tensor *t, bool write)
{
	Ctx *c = e->c;
	Tensor *r = tensor_root(t);
	const char *ct = dtype_ctype(t->dtype);
	const char *cq = write ? "" : "const ";
	if (r->kind == TK_CONST) {
		ir_assert(c, !write && e->woff[r->id] >= 0);
		e->uses_w = true;
		return ctx_printf(c, "(const %s *)(W + %lld)", ct, (long long)e->woff[r->id]);
	}
	if (e->outslot[r->id] >= 0) {
		e->uses_out = true;
		return ctx_printf(c, "(%s%s *)out[%d]", cq, ct, e->outslot[r->id]);
	}
	if (r->kind == TK_INPUT) {
		ir_assert(c, !write);
		e->uses_in = true;
		return ctx_printf(c, "(const %s *)in[%d]", ct, e->inslot[r->id]);
	}
	ir_assert(c, r->offset >= 0);
	e->uses_ws = true;
	return ctx_printf(c, "(%s%s *)(ws + %lld)", cq, ct, (long long)r->offset);
}

/* A literal array argument: "(const int64_t[]){1, 2}" */
static const char *array_text(Ctx *c, const Arg *x)
{
	bool ints = x->kind == ARG_INTS;
	if (!x->n)
		return ints ? "(const int64_t *)0" : "(const float *)0";
	size_t cap = 32, len = 0;
	char *s = ctx_alloc(c, cap);
	for (int i = -1; i <= x->n; i++) {
		const char *piece = i < 0 ? (ints ? "(const int64_t[]){" : "(const float[]){")
		                    : i == x->n ? "}"
		                    : ctx_printf(c, "%s%s", i ? ", " : "",
		                                 ints ? int_text(c, x->ints[i]) : float_text(c, x->floats[i]));
		size_t n = strlen(piece);
		if (len + n + 1 > cap) {
			char *t = ctx_alloc(c, (len + n + 1) * 2);
			memcpy(t, s, len);
			s = t, cap = (len + n + 1) * 2;
		}
		memcpy(s + len, piece, n + 1);
		len += n;
	}
	return s;
}

/* One argument, after its parameter's name: "/ * x * / (const float *)in[0]" */
static const char *arg_text(Emitter *e, const Arg *x, const KernelParam *p)
{
	Ctx *c = e->c;
	const char *v = "";
	switch (x->kind) {
	case ARG_IN: v = ptr_text(e, x->t, false); break;
	case ARG_OUT: v = ptr_text(e, x->t, true); break;
	case ARG_SCRATCH:
		e->uses_ws = true;
		v = ctx_printf(c, "(float *)(ws + %lld)", (long long)x->offset);
		break;
	case ARG_INT: v = int_text(c, x->i); break;
	case ARG_FLOAT: v = float_text(c, x->f); break;
	case ARG_INTS:
	case ARG_FLOATS: v = array_text(c, x); break;
	}
	return ctx_printf(c, "/* %s */ %s", p->name, v);
}

/* kernel(args...); with the arguments named and the line folded at 100 columns */
static void print_call(Emitter *e, const Call *k)
{
	FILE *f = e->f;
	const KernelInfo *ki = &kernel_info[k->kernel];
	int col = 8 + fprintf(f, "\t%s(", ki->name) - 1;
	for (int a = 0; a < k->nargs; a++) {
		const char *t = arg_text(e, &k->args[a], &ki->params[a]);
		int len = (int)strlen(t) + (a + 1 < k->nargs ? 1 : 2);
		if (a && col + 1 + len > 100) {
			fputs(",\n\t\t", f);
			col = 16;
		} else if (a) {
			fputs(", ", f);
			col += 2;
		}
		fputs(t, f);
		col += len;
	}
	fputs(");\n", f);
}

/* The prototype of a kernel, from its declaration in kernels.def. */
static void print_kernel_prototype(FILE *f, KernelId id)
{
	const KernelInfo *k = &kernel_info[id];
	fprintf(f, "TR_FN void %s(", k->name);
	for (int i = 0; i < k->nparams; i++) {
		const KernelParam *p = &k->params[i];
		const char *t = dtype_ctype(p->dtype);
		if (i)
			fputs(", ", f);
		switch (p->kind) {
		case ARG_IN: fprintf(f, "const %s *", t); break;
		case ARG_OUT: fprintf(f, "%s *", t); break;
		case ARG_SCRATCH: fputs("float *", f); break;
		case ARG_INT: fputs("int64_t ", f); break;
		case ARG_FLOAT: fputs("float ", f); break;
		case ARG_INTS: fputs("const int64_t *", f); break;
		case ARG_FLOATS: fputs("const float *", f); break;
		}
		fputs(p->name, f);
	}
	fputs(");\n", f);
}

/* ---- weights ---- */

static bool is_weight(Emitter *e, Tensor *t)
{
	return t && tensor_root(t)->kind == TK_CONST;
}

/* Give weight r of e->g its blob offset; a constant sharing its data with
 * one already placed (the step API graphs') shares the offset. */
static void place_weight(Emitter *e, Tensor *r)
{
	if (e->woff[r->id] < 0)
		e->woff[r->id] = weights_place(&e->wb, r);
}

/* Place the weights of e->g after those of graphs collected before. */
static void collect_weights(Emitter *e)
{
	Graph *g = e->g;
	e->woff = ctx_alloc(e->c, sizeof(int64_t) * (size_t)(g->ntensors + 1));
	for (int i = 0; i < g->ntensors; i++)
		e->woff[i] = -1;
	for (int p = 0; p < g->nnodes; p++)
		for (Call *k = g->nodes[p]->calls; k; k = k->next)
			for (int a = 0; a < k->nargs; a++)
				if (k->args[a].kind == ARG_IN && is_weight(e, k->args[a].t))
					place_weight(e, tensor_root(k->args[a].t));
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *r = tensor_root(g->outputs[i]);
		if (r->kind == TK_CONST)
			place_weight(e, r);
	}
}

/* TR_ALIGN64: a 64-byte alignment for a declaration, in the dialect at hand */
#define ALIGN64_DEF                                                                     \
	"#ifndef TR_ALIGN64\n"                                                           \
	"#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"                  \
	"#define TR_ALIGN64 _Alignas(64)\n"                                              \
	"#elif defined(__GNUC__) || defined(__clang__)\n"                                 \
	"#define TR_ALIGN64 __attribute__((aligned(64)))\n"                              \
	"#elif defined(_MSC_VER)\n"                                                      \
	"#define TR_ALIGN64 __declspec(align(64))\n"                                     \
	"#else\n"                                                                        \
	"#define TR_ALIGN64\n"                                                           \
	"#endif\n"                                                                       \
	"#endif\n"

/* ---- header ---- */

static const char *uname(Ctx *c, const char *s)
{
	char *u = ctx_strdup(c, s);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

static void emit_io_macros(Emitter *e, FILE *h, const char *U, const char *kind, int i, Tensor *t)
{
	fprintf(h, "/* %s %d: '%s' %s */\n", kind, i, shown(e->c, t->name), tensor_shape_str(e->c, t));
	fprintf(h, "#define %s_%s%d_NAME %s\n", U, kind, i, text_cstring(e->c, t->name));
	fprintf(h, "#define %s_%s%d_TYPE \"%s\"\n", U, kind, i, dtype_numpy(t->dtype));
	fprintf(h, "#define %s_%s%d_RANK %d\n", U, kind, i, t->rank);
	fprintf(h, "#define %s_%s%d_SHAPE {", U, kind, i);
	for (int k = 0; k < t->rank; k++)
		fprintf(h, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
	fprintf(h, "%s}\n", t->rank ? "" : "1");
	fprintf(h, "#define %s_%s%d_SIZE %lld\n", U, kind, i, (long long)tensor_nelem(t));
}

/* The parameters of the typed NAME_run: an identifier per input and output
 * (text_ident), distinct from each other and from the names the function
 * body and the generated file use. */
static const char **param_names(Emitter *e)
{
	Graph *g = e->g;
	int n = g->ninputs + g->noutputs;
	const char **v = ctx_alloc(e->c, sizeof(char *) * (size_t)(n + 1));
	static const char *const taken[] = {"workspace", "in", "out", "ws", "weights",
	                                    "weights_size", "W", "r", "static_workspace", NULL};
	for (int i = 0; i < n; i++) {
		Tensor *t = i < g->ninputs ? g->inputs[i] : g->outputs[i - g->ninputs];
		const char *base = text_ident(e->c, t->name, e->o->name);
		for (int j = 0; taken[j]; j++)
			if (strcmp(taken[j], base) == 0)
				base = ctx_printf(e->c, "v_%s", base);
		const char *cand = base;
		for (int k = 2;; k++) {
			bool clash = false;
			for (int j = 0; j < i && !clash; j++)
				clash = strcmp(v[j], cand) == 0;
			if (!clash)
				break;
			cand = ctx_printf(e->c, "%s_%d", base, k);
		}
		v[i] = cand;
	}
	return v;
}

static void emit_prototype(Emitter *e, FILE *f, const char **pn)
{
	Graph *g = e->g;
	fprintf(f, "int %s_run%s(%s", e->o->name, weights_suffix(e->o), weights_params(e->o));
	for (int i = 0; i < g->ninputs; i++)
		fprintf(f, "const %s *%s, ", dtype_ctype(g->inputs[i]->dtype), pn[i]);
	for (int i = 0; i < g->noutputs; i++)
		fprintf(f, "%s *%s, ", dtype_ctype(g->outputs[i]->dtype), pn[g->ninputs + i]);
	fputs("void *workspace)", f);
}

static void emit_header(Emitter *e, FILE *h, const char **pn)
{
	Graph *g = e->g;
	const char *N = e->o->name, *U = uname(e->c, N);
	fprintf(h, "/*\n * %s.h -- generated by tostc %s; do not edit.\n * Command: %s\n"
	           " * Source hash (FNV-1a 64): %016llx\n */\n",
	        N, TOSTC_VERSION, text_comment(e->c, e->o->cmdline), (unsigned long long)g->source_hash);
	fprintf(h, "#ifndef %s_H\n#define %s_H\n\n%s#include <stdint.h>\n\n"
	           "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
	        U, U, e->o->weights == WEIGHTS_EXTERN ? "#include <stddef.h>\n" : "");
	if (e->o->weights == WEIGHTS_EXTERN)
		fprintf(h, "/* Bytes of scratch memory %s_run_w needs (exact; 64-byte aligned pointer).\n"
		           " * There is no static workspace with --weights=extern (workspace == NULL\n"
		           " * returns -1).  Any number of threads may run the model at once, each\n"
		           " * with a workspace of its own.  Compiled with -fopenmp, %s.c also splits\n"
		           " * each call's work over OpenMP's threads (OMP_NUM_THREADS); the results\n"
		           " * are bitwise the same for any count. */\n",
		        N, N);
	else
		fprintf(h, "/* Bytes of scratch memory %s_run needs (exact; 64-byte aligned pointer).\n"
		           " * Passing workspace == NULL uses one static internal workspace instead:\n"
		           " * convenient on a microcontroller, but then calls must not overlap (not\n"
		           " * reentrant, not thread-safe). Define %s_NO_STATIC_WORKSPACE when compiling\n"
		           " * %s.c to leave it out (then NULL returns -1). With a workspace of their own,\n"
		           " * any number of threads may run the model at once. Compiled with\n"
		           " * -fopenmp, %s.c also splits each call's work over OpenMP's threads\n"
		           " * (OMP_NUM_THREADS); the results are bitwise the same for any count. */\n",
		        N, U, N, N);
	fprintf(h, "#define %s_WORKSPACE_SIZE %lld\n", U, (long long)g->arena_size);
	fprintf(h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n\n", U, g->ninputs, U,
	        g->noutputs);
	for (int i = 0; i < g->ninputs; i++)
		emit_io_macros(e, h, U, "INPUT", i, g->inputs[i]);
	for (int i = 0; i < g->noutputs; i++)
		emit_io_macros(e, h, U, "OUTPUT", i, g->outputs[i]);
	fprintf(h, "\n/* Run the model: %sinputs, then outputs, dense row-major, in graph order.\n"
	           " * Returns 0 on success, -1 if workspace is NULL and the static one is off%s. */\n",
	        e->o->weights == WEIGHTS_EXTERN ? "the weights, " : "",
	        e->o->weights == WEIGHTS_EXTERN ? ",\n * or a weights error (below)" : "");
	emit_prototype(e, h, pn);
	fputs(";\n", h);
	fprintf(h, "/* The same, with inputs and outputs as arrays of pointers in graph order. */\n"
	           "int %s_run_v%s(%sconst void *const *inputs, void *const *outputs, void *workspace);\n",
	        N, weights_suffix(e->o), weights_params(e->o));
	emit_weights_header(e->o, &e->wb, h);
	if (e->stream)
		emit_step_header(e->stream, e->o, h);
	fprintf(h, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}

/* ---- the forward pass ---- */

static void emit_if(Emitter *e, const Node *n);
static void emit_loop(Emitter *e, const Node *n);

/* A node's line: its calls, after a comment with its source and shapes. */
static void emit_node(Emitter *e, Node *n)
{
	FILE *f = e->f;
	Ctx *c = e->c;
	fprintf(f, "\t/* #%d %s", n->index, op_info[n->op].name);
	if (n->loc.file)
		fprintf(f, " %s:%d:%d", shown(c, n->loc.file), n->loc.line, n->loc.col);
	else if (n->name[0])
		fprintf(f, " '%s'", shown(c, n->name));
	if (n->fused_from)
		fprintf(f, " (fused: %s)", text_comment(c, n->fused_from));
	fputs(": ", f);
	for (int j = 0; j < n->nin; j++)
		fprintf(f, "%s%s", j ? ", " : "", n->in[j] ? tensor_shape_str(c, n->in[j]) : "_");
	fputs(" -> ", f);
	for (int j = 0; j < n->nout; j++)
		fprintf(f, "%s%s", j ? ", " : "", n->out[j] ? tensor_shape_str(c, n->out[j]) : "_");
	fputs(" */\n", f);
	if (is_runtime_if(n) && n->op == OP_IF)
		emit_if(e, n);
	else if (is_runtime_if(n))
		emit_loop(e, n);
	for (Call *k = n->calls; k; k = k->next)
		print_call(e, k);
}

static void copy_bytes(Emitter *e, const char *what, Tensor *src, int outslot)
{
	FILE *f = e->f;
	if (tensor_nbytes(src) == 0)
		return;
	e->uses_out = true;
	fprintf(f, "\t{ /* output %d is %s */\n\t\tconst unsigned char *s = (const unsigned char *)%s;\n"
	           "\t\tunsigned char *d = (unsigned char *)out[%d];\n"
	           "\t\tfor (size_t i = 0; i < %lld; i++)\n\t\t\td[i] = s[i];\n\t}\n",
	        outslot, what, ptr_text(e, src, false), outslot, (long long)tensor_nbytes(src));
}

/* Switch the emitter to graph g: its input and output slots. */
static void use_graph(Emitter *e, Graph *g)
{
	Ctx *c = e->c;
	e->g = g;
	e->outslot = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	e->inslot = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	for (int i = 0; i < g->ntensors; i++)
		e->outslot[i] = e->inslot[i] = -1;
	for (int i = 0; i < g->ninputs; i++)
		e->inslot[g->inputs[i]->id] = i;
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *t = g->outputs[i];
		if (t->kind == TK_VALUE && e->outslot[t->id] < 0)
			e->outslot[t->id] = i;
	}
}

/* Mark the sections g's kernels need, and the kernels (for prototypes). */
static void need_sections(Emitter *e, Graph *g, bool *used)
{
	for (int p = 0; p < g->nnodes; p++) {
		if (is_runtime_if(g->nodes[p]))
			for (int b = 0; b < 2 && g->nodes[p]->sub[b]; b++)
				need_sections(e, g->nodes[p]->sub[b], used);
		for (Call *k = g->nodes[p]->calls; k; k = k->next) {
			Section *s = section_for(e, kernel_info[k->kernel].name);
			if (!s) {
				char msg[256];
				snprintf(msg, sizeof msg, "no runtime section defines kernel '%s'",
				         kernel_info[k->kernel].name);
				ctx_bug(e->c, __FILE__, __LINE__, msg);
			}
			s->needed = true;
			used[k->kernel] = true;
		}
	}
}

/* The branches of g's run-time Ifs (nested ones first): their weights
 * placed in the blob and their function names chosen. */
static void collect_subgraphs(Emitter *e, Graph *g)
{
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		if (!is_runtime_if(n))
			continue;
		for (int b = 0; b < 2 && n->sub[b]; b++) {
			collect_subgraphs(e, n->sub[b]);
			use_graph(e, n->sub[b]);
			collect_weights(e);
			SubFn *sf = ctx_alloc(e->c, sizeof(SubFn) * (size_t)(e->nsubs + 1));
			if (e->nsubs)
				memcpy(sf, e->subs, sizeof(SubFn) * (size_t)e->nsubs);
			e->subs = sf;
			const char *what = n->op == OP_LOOP ? "body" : b ? "else" : "then";
			e->subs[e->nsubs] = (SubFn){n, b, n->sub[b], e->woff,
			                            ctx_printf(e->c, "%s_sub%d_%s", e->o->name, e->nsubs,
			                                       what)};
			e->nsubs++;
		}
	}
}

static const SubFn *sub_fn(const Emitter *e, const Node *n, int branch)
{
	for (int i = 0; i < e->nsubs; i++)
		if (e->subs[i].node == n && e->subs[i].branch == branch)
			return &e->subs[i];
	ctx_bug(e->c, __FILE__, __LINE__, "no function for an If branch");
}

/* A run-time If: its captures and outputs as pointer arrays, then one of
 * the two branch functions, with the workspace plan.c set aside for it. */
static void emit_if(Emitter *e, const Node *n)
{
	FILE *f = e->f;
	Ctx *c = e->c;
	fprintf(f, "\t{\n\t\tconst void *sin[%d] = {", n->nin > 1 ? n->nin - 1 : 1);
	for (int j = 1; j < n->nin; j++)
		fprintf(f, "%s%s", j > 1 ? ", " : "", ptr_text(e, n->in[j], false));
	fprintf(f, "%s};\n\t\tvoid *sout[%d] = {", n->nin > 1 ? "" : "0", n->nout ? n->nout : 1);
	for (int j = 0; j < n->nout; j++)
		fprintf(f, "%s%s", j ? ", " : "", n->out[j] ? ptr_text(e, n->out[j], true) : "0");
	fprintf(f, "%s};\n", n->nout ? "" : "0");
	const char *cond = ptr_text(e, n->in[0], false);
	const char *ws = "0";   /* branches that need no workspace */
	if (n->sub_ws > 0) {
		e->uses_ws = true;
		ws = ctx_printf(c, "ws + %lld", (long long)n->sub_ws_offset);
	}
	e->uses_w = true;   /* passed on */
	fprintf(f, "\t\tif (*%s)\n\t\t\t%s(W, sin, sout, %s);\n\t\telse\n\t\t\t%s(W, sin, sout, %s);\n"
	           "\t}\n",
	        cond, sub_fn(e, n, 0)->fname, ws, sub_fn(e, n, 1)->fname, ws);
}

/* A Loop run as a loop: its carried values in two buffers of its workspace
 * that trade places each iteration, the body called once an iteration,
 * each scan output written a row at a time (loop_layout says where). */
static void emit_loop(Emitter *e, const Node *n)
{
	FILE *f = e->f;
	Ctx *c = e->c;
	Graph *body = n->sub[0];
	int nc = (int)attr_int(n, "carried", 0), ns = body->noutputs - 1 - nc;
	int64_t it, cond, *cur = ctx_alloc(c, sizeof(int64_t) * (size_t)(nc + 1));
	int64_t *next = ctx_alloc(c, sizeof(int64_t) * (size_t)(nc + 1));
	loop_layout(n, &it, &cond, cur, next);
	Tensor *M = n->nin > 0 ? n->in[0] : NULL, *C = n->nin > 1 ? n->in[1] : NULL;
	e->uses_ws = true;
	fprintf(f, "\t{\n\t\tunsigned char *lw = ws + %lld;\n"
	           "\t\tint64_t *it = (int64_t *)(lw + %lld);\n"
	           "\t\tuint8_t *cond = lw + %lld, *next = lw + %lld;\n",
	        (long long)n->sub_ws_offset, (long long)it, (long long)cond, (long long)cond + 1);
	fprintf(f, "\t\tunsigned char *cur[%d] = {", nc ? nc : 1);
	for (int k = 0; k < nc; k++)
		fprintf(f, "%slw + %lld", k ? ", " : "", (long long)cur[k]);
	fprintf(f, "%s}, *nxt[%d] = {", nc ? "" : "0", nc ? nc : 1);
	for (int k = 0; k < nc; k++)
		fprintf(f, "%slw + %lld", k ? ", " : "", (long long)next[k]);
	fprintf(f, "%s};\n", nc ? "" : "0");
	fprintf(f, "\t\tconst int64_t trips = %s;\n",
	        !M ? "INT64_MAX"
	        : M->kind == TK_CONST ? ctx_printf(c, "INT64_C(%lld)", (long long)tensor_get_i(M, 0))
	        : ctx_printf(c, "*%s", ptr_text(e, M, false)));
	fprintf(f, "\t\t*cond = %s;\n", !C ? "1" : C->kind == TK_CONST
	        ? (tensor_get_i(C, 0) ? "1" : "0") : ctx_printf(c, "*%s", ptr_text(e, C, false)));
	for (int k = 0; k < nc; k++)
		fprintf(f, "\t\t{ /* carried value %d, its initial value */\n"
		           "\t\t\tconst unsigned char *s = (const unsigned char *)%s;\n"
		           "\t\t\tfor (size_t j = 0; j < %lld; j++)\n\t\t\t\tcur[%d][j] = s[j];\n\t\t}\n",
		        k, ptr_text(e, n->in[2 + k], false),
		        (long long)tensor_nbytes(body->inputs[2 + k]), k);
	fprintf(f, "\t\tfor (int64_t i = 0; i < trips && *cond; i++) {\n"
	           "\t\t\tconst void *bin[%d] = {it, cond", 2 + nc + (n->nin - 2 - nc));
	for (int k = 0; k < nc; k++)
		fprintf(f, ", cur[%d]", k);
	for (int j = 2 + nc; j < n->nin; j++)
		fprintf(f, ", %s", ptr_text(e, n->in[j], false));
	fprintf(f, "};\n\t\t\tvoid *bout[%d] = {next", 1 + nc + ns);
	for (int k = 0; k < nc; k++)
		fprintf(f, ", nxt[%d]", k);
	for (int k = 0; k < n->nout - nc; k++) {   /* the body makes only the scans read */
		Tensor *y = n->out[nc + k];
		if (!y)
			continue;
		int64_t row = tensor_nbytes(y) / (y->dims[0] ? y->dims[0] : 1);
		fprintf(f, ", (unsigned char *)%s + i * %lld", ptr_text(e, y, true), (long long)row);
	}
	e->uses_w = true;   /* passed on */
	fprintf(f, "};\n\t\t\t*it = i;\n\t\t\t%s(W, bin, bout, lw);\n\t\t\t*cond = *next;\n",
	        sub_fn(e, n, 0)->fname);
	for (int k = 0; k < nc; k++)
		fprintf(f, "\t\t\t{ unsigned char *t = cur[%d]; cur[%d] = nxt[%d]; nxt[%d] = t; }\n",
		        k, k, k, k);
	fputs("\t\t}\n", f);
	for (int k = 0; k < nc; k++) {
		if (!n->out[k])
			continue;
		fprintf(f, "\t\t{ /* carried value %d out */\n\t\t\tunsigned char *d = "
		           "(unsigned char *)%s;\n\t\t\tfor (size_t j = 0; j < %lld; j++)\n"
		           "\t\t\t\td[j] = cur[%d][j];\n\t\t}\n",
		        k, ptr_text(e, n->out[k], true), (long long)tensor_nbytes(n->out[k]), k);
	}
	fputs("\t}\n", f);
}

/* The forward pass of a graph with more nodes than this is split into
 * consecutive parts of this many: compilers take time superlinear in the
 * size of one function. */
#define EMIT_PART_NODES 128

/* The lines of the nodes [from, to) of e->g (and, with `outputs`, the copies
 * into outputs that are constants, inputs or other outputs), malloc'd;
 * e->uses_* say what they read. */
static char *node_lines(Emitter *e, int from, int to, bool outputs, size_t *len)
{
	Graph *g = e->g;
	FILE *cf = e->f;
	char *body = NULL;
	FILE *bf = open_memstream(&body, len);
	if (!bf)
		ctx_error(e->c, "out of memory");
	e->f = bf;
	e->uses_in = e->uses_out = e->uses_ws = e->uses_w = false;
	for (int p = from; p < to; p++)
		if (g->nodes[p]->calls || is_runtime_if(g->nodes[p]))
			emit_node(e, g->nodes[p]);
	for (int i = 0; outputs && i < g->noutputs; i++) {
		Tensor *t = g->outputs[i], *r = tensor_root(t);
		if (t->kind == TK_VALUE && e->outslot[t->id] == i)
			continue;
		const char *what = r->kind == TK_CONST ? "a constant" : r->kind == TK_INPUT ? "an input"
		                                                                            : "another output";
		copy_bytes(e, what, t, i);
	}
	bool bad = fclose(bf) != 0;
	e->f = cf;
	if (bad) {
		free(body);
		ctx_error(e->c, "out of memory");
	}
	return body;
}

/* (void) for what a function body does not read */
static void unused(Emitter *e, FILE *f, bool ws)
{
	if (!e->uses_in)
		fputs("\t(void)in;\n", f);
	if (!e->uses_out)
		fputs("\t(void)out;\n", f);
	if (ws && !e->uses_ws)
		fputs("\t(void)ws;\n", f);
}

/* static `fname`(W, in, out, workspace): the nodes of e->g in order, a line
 * each (in parts of EMIT_PART_NODES nodes, for a large graph), the weights
 * read at W. */
static void emit_entry(Emitter *e, const char *fname, bool branch)
{
	Graph *g = e->g;
	Ctx *c = e->c;
	FILE *cf = e->f;
	const char *U = uname(c, e->o->name);
	int nodes = 0;
	for (int p = 0; p < g->nnodes; p++)
		nodes += g->nodes[p]->calls || is_runtime_if(g->nodes[p]);
	bool parts = nodes > EMIT_PART_NODES, any_w = false;
	int npart = 0;
	if (parts) {
		int p = 0;
		while (p < g->nnodes) {
			int q = p;
			for (int k = 0; q < g->nnodes && k < EMIT_PART_NODES; q++)
				k += g->nodes[q]->calls || is_runtime_if(g->nodes[q]);
			size_t len;
			char *body = node_lines(e, p, q, false, &len);
			fprintf(cf, "/* nodes #%d to #%d */\n"
			            "static void %s_part%d(unsigned char *ws, const unsigned char *W,\n"
			            "\tconst void *const *in, void *const *out)\n{\n",
			        g->nodes[p]->index, g->nodes[q - 1]->index, fname, npart++);
			unused(e, cf, true);
			if (!e->uses_w)
				fputs("\t(void)W;\n", cf);
			any_w |= e->uses_w;
			fwrite(body, 1, len, cf);
			free(body);
			fputs("}\n\n", cf);
			p = q;
		}
	}
	size_t blen;
	char *body = node_lines(e, 0, parts ? 0 : g->nnodes, true, &blen);
	fprintf(cf, "static int %s(const unsigned char *W, const void *const *in, void *const *out,\n"
	            "\tvoid *workspace)\n{\n",
	        fname);
	if (g->arena_size > 0 && branch)
		fputs("\tunsigned char *ws = (unsigned char *)workspace;\n", cf);
	else if (g->arena_size > 0)
		fprintf(cf, "\tunsigned char *ws = (unsigned char *)workspace;\n"
		            "\tif (!ws) {\n#ifndef %s_NO_STATIC_WORKSPACE\n\t\tws = static_workspace.bytes;\n"
		            "#else\n\t\treturn -1;\n#endif\n\t}\n",
		        U);
	else if (parts)
		fputs("\tunsigned char *ws = (unsigned char *)workspace; /* unused: no workspace needed */\n",
		      cf);
	else
		fputs("\t(void)workspace; /* this graph needs no workspace */\n", cf);
	if (parts) {
		if (!any_w)
			fputs("\t(void)W;\n", cf);
		for (int k = 0; k < npart; k++)
			fprintf(cf, "\t%s_part%d(ws, W, in, out);\n", fname, k);
		e->uses_in = e->uses_ws = true;
		e->uses_out = e->uses_out || npart > 0;
		unused(e, cf, false);
	} else {
		if (!e->uses_w)
			fputs("\t(void)W;\n", cf);
		unused(e, cf, g->arena_size > 0);
	}
	fwrite(body, 1, blen, cf);
	free(body);
	fputs("\treturn 0;\n}\n\n", cf);
}

void emit_c_header(Graph *g, const EmitOptions *o, FILE *hf)
{
	Emitter e = {.g = g, .c = g->ctx, .o = o};
	use_graph(&e, g);
	emit_header(&e, hf, param_names(&e));
}

void emit_c(Graph *g, const EmitOptions *o, FILE *cf, FILE *hf)
{
	EmitFiles out = {cf, hf, NULL, NULL};
	emit_c_stream(g, o, NULL, &out);
}

void emit_c_stream(Graph *g, const EmitOptions *o, const StreamInfo *st, const EmitFiles *out)
{
	Ctx *c = g->ctx;
	FILE *cf = out->c;
	Emitter e = {.g = g, .c = c, .o = o, .f = cf, .stream = st, .wb = {.c = c}};

	/* weights: the step API graphs' constants share the full graph's data */
	int64_t *stream_woff[STREAM_MAX_GRAPHS];
	for (int i = 0; st && i < st->ngraphs; i++) {
		use_graph(&e, st->graph[i].g);
		collect_weights(&e);
		stream_woff[i] = e.woff;
	}
	collect_subgraphs(&e, g);
	use_graph(&e, g);
	collect_weights(&e);
	int64_t *run_woff = e.woff;
	weights_finish(&e.wb);

	const char **pn = param_names(&e);
	emit_header(&e, out->h, pn);

	const char *N = o->name, *U = uname(c, N);
	int64_t ws_size = g->arena_size;
	if (st && emit_step_workspace(st) > ws_size)
		ws_size = emit_step_workspace(st);
	fprintf(cf, "/*\n * %s.c -- generated by tostc %s; do not edit.\n * Command: %s\n"
	            " * Source hash (FNV-1a 64): %016llx\n"
	            " * Graph: %s, %d nodes after optimisation, opset %d\n"
	            " * Workspace: %lld bytes; needs only %s and libm.\n"
	            " *\n"
	            " * The forward pass %s_forward comes first, a line per node; then the\n"
	            " * API, the runtime kernels it calls, and the weights.\n */\n",
	        N, TOSTC_VERSION, text_comment(c, o->cmdline), (unsigned long long)g->source_hash,
	        g->name[0] ? shown(c, g->name) : "(unnamed)", g->nnodes, g->opset,
	        (long long)g->arena_size, text_comment(c, o->header_name), N);
	fprintf(cf, "#include \"%s\"\n\n", o->header_name);

	/* the prelude, and the kernels' prototypes (their sections come later) */
	parse_sections(&e);
	Section *common = section_for(&e, "tr_common");
	if (!common)
		ctx_bug(c, __FILE__, __LINE__, "runtime has no tr_common section");
	emit_section(&e, common, 0);
	fputs(ALIGN64_DEF, cf);
	bool *used = ctx_alloc(c, sizeof(bool) * K_COUNT);
	need_sections(&e, g, used);
	for (int i = 0; st && i < st->ngraphs; i++)
		need_sections(&e, st->graph[i].g, used);
	fputs("\n/* The runtime kernels this model calls (defined below). */\n", cf);
	for (int k = 0; k < K_COUNT; k++)
		if (used[k])
			print_kernel_prototype(cf, (KernelId)k);
	emit_weights_decl(o, &e.wb, cf);
	if (ws_size > 0)
		fprintf(cf, "\n#ifndef %s_NO_STATIC_WORKSPACE\n"
		            "/* Used only when the caller passes workspace == NULL (not reentrant). */\n"
		            "TR_ALIGN64 static union {\n\tunsigned char bytes[%lld];\n\tdouble align;\n"
		            "} static_workspace;\n#endif\n",
		        U, (long long)ws_size);

	if (e.nsubs)
		fputs("\n/* ---- the branches of Ifs decided at run time ---- */\n\n", cf);
	for (int i = 0; i < e.nsubs; i++) {
		use_graph(&e, e.subs[i].g);
		e.woff = e.subs[i].woff;
		emit_entry(&e, e.subs[i].fname, true);
	}
	use_graph(&e, g);
	e.woff = run_woff;
	fputs("\n/* ---- the forward pass ---- */\n\n", cf);
	emit_entry(&e, ctx_printf(c, "%s_forward", N), false);

	/* the API: the weights fetched, then the forward pass */
	const char *sfx = weights_suffix(o), *wp = weights_params(o);
	fprintf(cf, "/* ---- the API (%s.h) ---- */\n\n"
	            "int %s_run_v%s(%sconst void *const *inputs, void *const *outputs, void *workspace)\n{\n",
	        N, N, sfx, wp);
	emit_weights_fetch(o, &e.wb, cf);
	fprintf(cf, "\treturn %s_forward(W, inputs, outputs, workspace);\n}\n\n", N);
	emit_prototype(&e, cf, pn);
	fputs("\n{\n", cf);
	fprintf(cf, "\tconst void *in[%d] = {", g->ninputs ? g->ninputs : 1);
	for (int i = 0; i < g->ninputs; i++)
		fprintf(cf, "%s%s", i ? ", " : "", pn[i]);
	fprintf(cf, "%s};\n\tvoid *out[%d] = {", g->ninputs ? "" : "0", g->noutputs ? g->noutputs : 1);
	for (int i = 0; i < g->noutputs; i++)
		fprintf(cf, "%s%s", i ? ", " : "", pn[g->ninputs + i]);
	fprintf(cf, "%s};\n", g->noutputs ? "" : "0");
	emit_weights_fetch(o, &e.wb, cf);
	fprintf(cf, "\treturn %s_forward(W, in, out, workspace);\n}\n", N);

	for (int i = 0; st && i < st->ngraphs; i++) {
		fprintf(cf, "\n/* ---- %s ---- */\n\n", emit_step_title(st, i, N));
		use_graph(&e, st->graph[i].g);
		e.woff = stream_woff[i];
		emit_entry(&e, ctx_printf(c, "%s_%s_v", N, st->graph[i].name), false);
	}
	if (st) {
		emit_step_api(st, o, &e.wb, cf);
		use_graph(&e, g);
		e.woff = run_woff;
	}

	fputs("\n/* ---- the runtime kernels ---- */\n\n", cf);
	for (int i = 0; i < e.nsec; i++)
		if (e.sec[i].needed)
			emit_section(&e, &e.sec[i], 0);
	emit_weights_def(o, &e.wb, cf);
	emit_weights_files(o, &e.wb, out);
}
