/*
 * ir.c -- the compilation context, its arena, errors, and the IR itself.
 *
 * One Ctx per compilation owns every byte the compiler allocates, in a chain
 * of chunks freed by ctx_free(); passes never free single nodes.  Errors are
 * formatted once into ctx->errmsg and unwind with longjmp to whoever set
 * ctx->jmp (the driver, or a unit test), so a failing compile never exits the
 * process.
 */
#include "tostc.h"
#include "quant/half.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct Chunk {
	Chunk *next;
	size_t size, used;
	_Alignas(64) unsigned char data[];
};

/* ---- element types ---- */

static const struct {
	const char *name, *ctype, *suffix, *numpy;
	size_t size;
} dtypes[DT_COUNT] = {
	[DT_UNDEF] = {"undef", "void", "undef", "?", 0},
	[DT_F32] = {"f32", "float", "f32", "float32", 4},
	[DT_I64] = {"i64", "int64_t", "i64", "int64", 8},
	[DT_I32] = {"i32", "int32_t", "i32", "int32", 4},
	[DT_BOOL] = {"bool", "uint8_t", "b8", "bool", 1},
	[DT_I8] = {"i8", "int8_t", "i8", "int8", 1},
	[DT_U8] = {"u8", "uint8_t", "u8", "uint8", 1},
	[DT_F16] = {"f16", "uint16_t", "f16", "float16", 2},
	[DT_BF16] = {"bf16", "uint16_t", "bf16", "bfloat16", 2},
};

const char *dtype_name(DType t) { return t < DT_COUNT ? dtypes[t].name : "?"; }
const char *dtype_ctype(DType t) { return t < DT_COUNT ? dtypes[t].ctype : "?"; }
const char *dtype_suffix(DType t) { return t < DT_COUNT ? dtypes[t].suffix : "?"; }
size_t dtype_size(DType t) { return t < DT_COUNT ? dtypes[t].size : 0; }
const char *dtype_numpy(DType t) { return t < DT_COUNT ? dtypes[t].numpy : "?"; }

/* ---- context and arena ---- */

void ctx_init(Ctx *c, const char *path)
{
	memset(c, 0, sizeof *c);
	c->path = path ? path : "<input>";
}

void ctx_free(Ctx *c)
{
	Chunk *k = c->chunks, *next;
	for (; k; k = next) {
		next = k->next;
		free(k);
	}
	c->chunks = NULL;
}

/* TOSTC_MAX_MEMORY, or the environment's TOSTC_MAX_MEMORY (bytes) when it
 * is a positive integer (the fuzzers lower it to their RSS limit). */
int64_t ctx_memory_limit(void)
{
	const char *e = getenv("TOSTC_MAX_MEMORY");
	if (e && *e) {
		char *end;
		long long v = strtoll(e, &end, 10);
		if (!*end && v > 0)
			return v;
	}
	return TOSTC_MAX_MEMORY;
}

void *ctx_alloc(Ctx *c, size_t n)
{
	if (n > ((size_t)1 << 40))
		ctx_error(c, "allocation of %zu bytes is too large", n);
	size_t need = (n + 63) & ~(size_t)63;
	Chunk *k = c->chunks;
	if (!k || k->size - k->used < need) {
		size_t size = need > (1u << 20) ? need : (1u << 20);
		/* the whole arena stays under the limit: refuse, don't thrash */
		uint64_t total = size;
		for (Chunk *q = c->chunks; q; q = q->next)
			total += q->size;
		int64_t limit = ctx_memory_limit();
		if (total > (uint64_t)limit)
			ctx_error(c, "out of memory: compiling this model needs more than %lld MiB "
			          "(the limit; set TOSTC_MAX_MEMORY=BYTES to raise it)",
			          (long long)(limit >> 20));
		k = aligned_alloc(64, (sizeof(Chunk) + size + 63) / 64 * 64);
		if (!k)
			ctx_error(c, "out of memory (%zu bytes)", size);
		k->size = size;
		k->used = 0;
		/* keep the chunk with room first; big one-off chunks go second */
		if (c->chunks && need > (1u << 20)) {
			k->next = c->chunks->next;
			c->chunks->next = k;
		} else {
			k->next = c->chunks;
			c->chunks = k;
		}
	}
	void *p = k->data + k->used;
	k->used += need;
	memset(p, 0, n);
	return p;
}

char *ctx_strdup(Ctx *c, const char *s)
{
	size_t n = strlen(s);
	char *p = ctx_alloc(c, n + 1);
	memcpy(p, s, n);
	return p;
}

char *ctx_printf(Ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = ctx_alloc(c, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static _Noreturn void unwind(Ctx *c, int code)
{
	c->errcode = code;
	if (c->jmp)
		longjmp(*c->jmp, 1);
	/* No handler: a programming error in the caller; don't continue. */
	fprintf(stderr, "tostc: %s\n", c->errmsg);
	abort();
}

/* The message of ctx_error and node_error: where, then the caller's text,
 * all of it through the terminal sink (text_term): a name the caller did not
 * pass through text_msg still reaches the terminal escaped. */
static void set_errmsg(Ctx *c, const char *where, const char *fmt, va_list ap)
{
	char raw[sizeof c->errmsg];
	int k = snprintf(raw, sizeof raw, "%s", where);
	if (k < 0 || (size_t)k >= sizeof raw)
		k = 0;
	vsnprintf(raw + k, sizeof raw - (size_t)k, fmt, ap);
	text_term(c->errmsg, sizeof c->errmsg, raw);
}

void ctx_error(Ctx *c, const char *fmt, ...)
{
	char where[1024];
	snprintf(where, sizeof where, "%s: error: ", c->path);
	va_list ap;
	va_start(ap, fmt);
	set_errmsg(c, where, fmt, ap);
	va_end(ap);
	unwind(c, 1);
}

void node_error(Graph *g, const Node *n, const char *fmt, ...)
{
	Ctx *c = g->ctx;
	char where[1024], op[TEXT_SHOWN_MAX * 4 + 32], name[TEXT_SHOWN_MAX * 4 + 32];
	text_msg_into(op, sizeof op, n->src_op ? n->src_op : op_info[n->op].name);
	text_msg_into(name, sizeof name, n->name ? n->name : "");
	if (n->loc.file)
		snprintf(where, sizeof where, "%s:%d:%d: error: %s: ", n->loc.file, n->loc.line,
		         n->loc.col, op);
	else if (name[0])
		snprintf(where, sizeof where, "%s: error: node '%s' (%s, #%d): ", c->path, name, op,
		         n->index);
	else
		snprintf(where, sizeof where, "%s: error: node #%d (%s): ", c->path, n->index, op);
	va_list ap;
	va_start(ap, fmt);
	set_errmsg(c, where, fmt, ap);
	va_end(ap);
	unwind(c, 1);
}

void ctx_bug(Ctx *c, const char *file, int line, const char *msg)
{
	char raw[sizeof c->errmsg];
	snprintf(raw, sizeof raw,
	         "%s: internal error at %s:%d: %s (this is a bug in tostc; please report it with the model)",
	         c->path, file, line, msg);
	text_term(c->errmsg, sizeof c->errmsg, raw);
	unwind(c, 2);
}

const char *node_label(Ctx *c, const Node *n)
{
	return text_short(c, n->name && n->name[0] ? n->name : n->src_op ? n->src_op : op_info[n->op].name);
}

void ctx_rethrow(Ctx *c)
{
	unwind(c, c->errcode ? c->errcode : 1);
}

int64_t ctx_mul(Ctx *c, int64_t a, int64_t b)
{
	int64_t r;
	if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > ((int64_t)1 << 48))
		ctx_error(c, "size overflow: %lld x %lld is too large", (long long)a, (long long)b);
	return r;
}

int64_t ctx_add(Ctx *c, int64_t a, int64_t b)
{
	int64_t r;
	if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) || r > ((int64_t)1 << 48))
		ctx_error(c, "size overflow: %lld + %lld is too large", (long long)a, (long long)b);
	return r;
}

/* ---- input files ---- */

char *ctx_read_file(Ctx *c, const char *what, const char *path, long *size)
{
	const char *sp = *what ? " " : "";
	struct stat sb;   /* a FIFO or device would block or never end */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		ctx_error(c, "cannot open %s%s'%s': not a regular file", what, sp, path);
	FILE *f = fopen(path, "rb");
	if (!f)
		ctx_error(c, "cannot open %s%s'%s'", what, sp, path);
	char *buf = NULL;
	long n = 0;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = ctx_alloc(c, (size_t)n + 1);
		if (fread(buf, 1, (size_t)n, f) != (size_t)n)
			buf = NULL;
	}
	fclose(f);
	if (!buf)
		ctx_error(c, "cannot read %s%s'%s'", what, sp, path);
	buf[n] = 0;
	*size = n;
	ctx_depend(c, path);
	return buf;
}

void ctx_depend(Ctx *c, const char *path)
{
	for (int i = 0; i < c->ndeps; i++)
		if (strcmp(c->deps[i], path) == 0)
			return;
	if (c->ndeps == c->capdeps) {
		int cap = c->capdeps ? 2 * c->capdeps : 8;
		const char **d = ctx_alloc(c, sizeof(char *) * (size_t)cap);
		if (c->ndeps)
			memcpy(d, c->deps, sizeof(char *) * (size_t)c->ndeps);
		c->deps = d, c->capdeps = cap;
	}
	c->deps[c->ndeps++] = ctx_strdup(c, path);
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- the op table ---- */

const OpInfo op_info[OP_COUNT] = {
#define OP(id, onnx, min_in, max_in, min_out, max_out, flags, shape, lower, stream, flops, \
           attrs, doc) \
	{onnx, min_in, max_in, min_out, max_out, flags, shape, lower, stream, flops, attrs, doc},
#include "ops.def"
#undef OP
};

OpKind op_lookup(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (strcmp(op_info[i].name, name) == 0)
			return (OpKind)i;
	return OP_COUNT;
}

/* ---- graph, tensors, nodes ---- */

Graph *graph_new(Ctx *c)
{
	Graph *g = ctx_alloc(c, sizeof *g);
	g->ctx = c;
	g->name = "";
	return g;
}

static void *grow(Ctx *c, void *old, int n, int *cap, size_t elem)
{
	if (n < *cap)
		return old;
	int ncap = *cap ? *cap * 2 : 64;
	void *p = ctx_alloc(c, (size_t)ncap * elem);
	if (old)
		memcpy(p, old, (size_t)n * elem);
	*cap = ncap;
	return p;
}

/* Lookup by name, newest first.  Linear, but front ends cache what they
 * look up per node, and graphs have a few thousand tensors. */
Tensor *graph_tensor(Graph *g, const char *name)
{
	for (int i = g->ntensors - 1; i >= 0; i--)
		if (strcmp(g->tensors[i]->name, name) == 0)
			return g->tensors[i];
	return NULL;
}

Tensor *tensor_new(Graph *g, const char *name, TensorKind kind, DType dt, int rank,
                   const int64_t *dims)
{
	Ctx *c = g->ctx;
	if (rank < 0 || rank > MAX_RANK)
		ctx_error(c, "tensor '%s' has rank %d; tostc supports ranks 0 to %d",
		          text_msg(c, name), rank,
		          MAX_RANK);
	Tensor *t = ctx_alloc(c, sizeof *t);
	t->name = ctx_strdup(c, name);
	t->kind = kind;
	t->dtype = dt;
	t->rank = rank;
	if (dims) {
		for (int i = 0; i < rank; i++)
			t->dims[i] = dims[i];
		t->shape_known = true;
	}
	t->offset = -1;
	t->id = g->ntensors;
	g->tensors = grow(c, g->tensors, g->ntensors, &g->captensors, sizeof(Tensor *));
	g->tensors[g->ntensors++] = t;
	return t;
}

Tensor *tensor_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims)
{
	Tensor *t = tensor_new(g, name, TK_CONST, dt, rank, dims);
	t->shape_known = true;   /* a scalar may come with dims NULL */
	t->data = ctx_alloc(g->ctx, (size_t)tensor_nbytes(t) + 1);
	return t;
}

Node *node_new(Graph *g, OpKind op, const char *name, int nin, int nout)
{
	Ctx *c = g->ctx;
	Node *n = ctx_alloc(c, sizeof *n);
	n->op = op;
	n->name = name ? ctx_strdup(c, name) : "";
	n->src_op = op < OP_COUNT ? op_info[op].name : "?";
	n->nin = nin;
	n->nout = nout;
	n->in = ctx_alloc(c, sizeof(Tensor *) * (size_t)(nin ? nin : 1));
	n->out = ctx_alloc(c, sizeof(Tensor *) * (size_t)(nout ? nout : 1));
	return n;
}

void graph_add_node(Graph *g, Node *n)
{
	if (g->nnodes >= TOSTC_MAX_NODES)
		ctx_error(g->ctx, "the graph has more than %d nodes, tostc's limit", TOSTC_MAX_NODES);
	g->nodes = grow(g->ctx, g->nodes, g->nnodes, &g->capnodes, sizeof(Node *));
	n->pos = g->nnodes;
	g->nodes[g->nnodes++] = n;
}

void graph_insert_node(Graph *g, int pos, Node *n)
{
	ir_assert(g->ctx, pos >= 0 && pos <= g->nnodes);
	if (g->nnodes >= TOSTC_MAX_NODES)
		ctx_error(g->ctx, "the graph has more than %d nodes, tostc's limit", TOSTC_MAX_NODES);
	g->nodes = grow(g->ctx, g->nodes, g->nnodes, &g->capnodes, sizeof(Node *));
	memmove(g->nodes + pos + 1, g->nodes + pos, sizeof(Node *) * (size_t)(g->nnodes - pos));
	g->nodes[pos] = n;
	g->nnodes++;
	for (int i = pos; i < g->nnodes; i++)
		g->nodes[i]->pos = i;
}

void graph_compact(Graph *g)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead) {
			g->nodes[k] = g->nodes[i];
			g->nodes[k]->pos = k;
			k++;
		}
	g->nnodes = k;
}

void graph_count_users(Graph *g)
{
	for (int i = 0; i < g->ntensors; i++)
		g->tensors[i]->nusers = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				n->in[j]->nusers++;
	}
}

Users graph_users(Graph *g)
{
	Ctx *c = g->ctx;
	Users u = {.ntensors = g->ntensors};
	u.count = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	u.nodes = ctx_alloc(c, sizeof(Node **) * (size_t)(g->ntensors + 1));
	graph_count_users(g);   /* input slots: room enough for the nodes */
	for (int t = 0; t < g->ntensors; t++)
		u.nodes[t] = ctx_alloc(c, sizeof(Node *) * (size_t)(g->tensors[t]->nusers + 1));
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++) {
			Tensor *t = n->in[j];
			/* a node reading t twice is one user; its slots come one after another */
			if (t && !(u.count[t->id] && u.nodes[t->id][u.count[t->id] - 1] == n))
				u.nodes[t->id][u.count[t->id]++] = n;
		}
	}
	return u;
}

int64_t tensor_nelem(const Tensor *t)
{
	int64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= t->dims[i];
	return n;
}

int64_t tensor_nbytes(const Tensor *t) { return tensor_nelem(t) * (int64_t)dtype_size(t->dtype); }

const char *tensor_shape_str(Ctx *c, const Tensor *t)
{
	char buf[256];
	int k = snprintf(buf, sizeof buf, "%s[", dtype_name(t->dtype));
	for (int i = 0; i < t->rank && k < (int)sizeof buf - 24; i++)
		k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%lld", i ? "," : "",
		              (long long)t->dims[i]);
	snprintf(buf + k, sizeof buf - (size_t)k, "]");
	return ctx_strdup(c, buf);
}

int64_t tensor_get_i(const Tensor *t, int64_t i)
{
	switch (t->dtype) {
	case DT_I64: return ((const int64_t *)t->data)[i];
	case DT_I32: return ((const int32_t *)t->data)[i];
	case DT_BOOL: return ((const uint8_t *)t->data)[i];
	case DT_I8: return ((const int8_t *)t->data)[i];
	case DT_U8: return ((const uint8_t *)t->data)[i];
	case DT_F32: case DT_F16: case DT_BF16: return (int64_t)tensor_get_f(t, i);
	default: return 0;
	}
}

double tensor_get_f(const Tensor *t, int64_t i)
{
	switch (t->dtype) {
	case DT_F32: return ((const float *)t->data)[i];
	case DT_F16: return tr_f16_to_f32(((const uint16_t *)t->data)[i]);
	case DT_BF16: return tr_bf16_to_f32(((const uint16_t *)t->data)[i]);
	default: return (double)tensor_get_i(t, i);
	}
}

Node *tensor_producer(Tensor *t, OpKind op)
{
	if (!t || t->kind != TK_VALUE || !t->producer || t->producer->dead)
		return NULL;
	return t->producer->op == op ? t->producer : NULL;
}

bool tensor_scalar(const Tensor *t, double *v)
{
	if (!t || t->kind != TK_CONST || t->dtype != DT_F32 || tensor_nelem(t) != 1)
		return false;
	*v = tensor_get_f(t, 0);
	return true;
}

Tensor *tensor_root(Tensor *t)
{
	while (t->view_of)
		t = t->view_of;
	return t;
}

/* ---- attributes ---- */

const Attr *attr_find(const Node *n, const char *name)
{
	for (int i = 0; i < n->nattrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	return NULL;
}

int64_t attr_int(const Node *n, const char *name, int64_t dflt)
{
	const Attr *a = attr_find(n, name);
	return a && a->kind == AT_INT ? a->i : dflt;
}

float attr_float(const Node *n, const char *name, float dflt)
{
	const Attr *a = attr_find(n, name);
	if (!a)
		return dflt;
	if (a->kind == AT_FLOAT)
		return a->f;
	if (a->kind == AT_INT)
		return (float)a->i;
	return dflt;
}

const char *attr_string(const Node *n, const char *name, const char *dflt)
{
	const Attr *a = attr_find(n, name);
	return a && a->kind == AT_STRING ? a->s : dflt;
}

int attr_ints(const Node *n, const char *name, const int64_t **v)
{
	const Attr *a = attr_find(n, name);
	if (!a || (a->kind != AT_INTS && a->kind != AT_INT))
		return -1;
	if (a->kind == AT_INT) {
		*v = &a->i;
		return 1;
	}
	*v = a->ints;
	return a->n;
}

int attr_floats(const Node *n, const char *name, const float **v)
{
	const Attr *a = attr_find(n, name);
	if (!a || (a->kind != AT_FLOATS && a->kind != AT_FLOAT))
		return -1;
	if (a->kind == AT_FLOAT) {
		*v = &a->f;
		return 1;
	}
	*v = a->floats;
	return a->n;
}

int attr_strings(const Node *n, const char *name, const char *const **v)
{
	const Attr *a = attr_find(n, name);
	if (!a || a->kind != AT_STRINGS)
		return -1;
	*v = a->strs;
	return a->n;
}

Attr *node_add_attr(Graph *g, Node *n, const char *name, AttrKind kind)
{
	Attr *a = ctx_alloc(g->ctx, sizeof(Attr) * (size_t)(n->nattrs + 1));
	if (n->nattrs)
		memcpy(a, n->attrs, sizeof(Attr) * (size_t)n->nattrs);
	n->attrs = a;
	Attr *r = &a[n->nattrs++];
	r->name = ctx_strdup(g->ctx, name);
	r->kind = kind;
	return r;
}

/* ---- dump and verifier ---- */

static void dump_tensor_ref(Ctx *c, FILE *f, const Tensor *t)
{
	if (!t) {
		fputs("_", f);
		return;
	}
	fprintf(f, "%%%s", text_msg(c, t->name));
}

static void dump_attr(Ctx *c, FILE *f, const Attr *a)
{
	fprintf(f, " %s=", text_msg(c, a->name));
	switch (a->kind) {
	case AT_INT: fprintf(f, "%lld", (long long)a->i); break;
	case AT_FLOAT: fprintf(f, "%.9g", a->f); break;
	case AT_STRING: fprintf(f, "\"%s\"", text_msg(c, a->s)); break;
	case AT_INTS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++)
			fprintf(f, "%s%lld", i ? "," : "", (long long)a->ints[i]);
		fputc(']', f);
		break;
	case AT_FLOATS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++)
			fprintf(f, "%s%.9g", i ? "," : "", a->floats[i]);
		fputc(']', f);
		break;
	case AT_TENSOR: fprintf(f, "<tensor %s>", a->t ? text_msg(c, a->t->name) : "?"); break;
	case AT_STRINGS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++)
			fprintf(f, "%s\"%s\"", i ? "," : "", text_msg(c, a->strs[i]));
		fputc(']', f);
		break;
	default: fputs("<other>", f); break;
	}
}

/*
 * Stable text form:
 *   input %x : f32[1,3,8,8]
 *   const %w : f32[16,3,3,3]
 *   %y = Conv(%x, %w, _) strides=[2,2] : f32[1,16,4,4]   # 'conv1' #0
 *   output %y
 */
void ir_dump(Graph *g, FILE *f, const char *after_pass)
{
	Ctx *c = g->ctx;
	fprintf(f, "# tostc IR after %s: %d nodes, opset %d\n", after_pass, g->nnodes, g->opset);
	for (int i = 0; i < g->ninputs; i++)
		fprintf(f, "input %%%s : %s\n", text_msg(c, g->inputs[i]->name),
		        tensor_shape_str(c, g->inputs[i]));
	unsigned char *shown = ctx_alloc(c, (size_t)g->ntensors + 1);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		/* each constant once, before its first use */
		for (int j = 0; j < n->nin; j++) {
			Tensor *t = n->in[j];
			if (t && t->kind == TK_CONST && (!t->producer || t->producer->dead) &&
			    !shown[t->id]) {
				shown[t->id] = 1;
				fprintf(f, "const %%%s : %s\n", text_msg(c, t->name), tensor_shape_str(c, t));
			}
		}
		for (int j = 0; j < n->nout; j++) {
			if (j)
				fputs(", ", f);
			dump_tensor_ref(c, f, n->out[j]);
		}
		fprintf(f, " = %s(", op_info[n->op].name);
		for (int j = 0; j < n->nin; j++) {
			if (j)
				fputs(", ", f);
			dump_tensor_ref(c, f, n->in[j]);
		}
		fputc(')', f);
		for (int j = 0; j < n->nattrs; j++)
			dump_attr(c, f, &n->attrs[j]);
		fputs(" :", f);
		for (int j = 0; j < n->nout; j++) {
			Tensor *t = n->out[j];
			fprintf(f, " %s", t && t->shape_known ? tensor_shape_str(c, t) : "?");
			if (t && t->view_of)
				fprintf(f, " view(%%%s)", text_msg(c, t->view_of->name));
		}
		if (n->loc.file)
			fprintf(f, "   # %s:%d:%d", n->loc.file, n->loc.line, n->loc.col);
		else
			fprintf(f, "   # '%s' #%d", text_msg(c, n->name), n->index);
		if (n->fused_from)
			fprintf(f, " fused from %s", n->fused_from);
		fputc('\n', f);
	}
	for (int i = 0; i < g->noutputs; i++)
		fprintf(f, "output %%%s : %s\n", text_msg(c, g->outputs[i]->name),
		        g->outputs[i]->shape_known ? tensor_shape_str(c, g->outputs[i]) : "?");
}

/* Structural invariants; an internal error when one fails. */
void ir_check(Graph *g, const char *after_pass)
{
	Ctx *c = g->ctx;
	char msg[512];
	/* produced-before-use: mark tensors available in order */
	unsigned char *avail = ctx_alloc(c, (size_t)g->ntensors + 1);
	for (int i = 0; i < g->ntensors; i++) {
		Tensor *t = g->tensors[i];
		if (t->id != i) {
			snprintf(msg, sizeof msg, "after %s: tensor '%s' has id %d at %d", after_pass,
			         t->name, t->id, i);
			ctx_bug(c, __FILE__, __LINE__, msg);
		}
		avail[i] = t->kind == TK_INPUT || t->kind == TK_CONST;
	}
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (n->pos != i) {
			snprintf(msg, sizeof msg, "after %s: node #%d has pos %d at %d", after_pass,
			         n->index, n->pos, i);
			ctx_bug(c, __FILE__, __LINE__, msg);
		}
		for (int j = 0; j < n->nin; j++) {
			Tensor *t = n->in[j];
			if (t && !avail[t->id]) {
				snprintf(msg, sizeof msg,
				         "after %s: node '%s' (%s) reads '%s' before it is produced",
				         after_pass, n->name, op_info[n->op].name, t->name);
				ctx_bug(c, __FILE__, __LINE__, msg);
			}
		}
		for (int j = 0; j < n->nout; j++) {
			Tensor *t = n->out[j];
			if (!t)
				continue;
			if (t->kind == TK_VALUE && t->producer != n) {
				snprintf(msg, sizeof msg, "after %s: '%s' has the wrong producer",
				         after_pass, t->name);
				ctx_bug(c, __FILE__, __LINE__, msg);
			}
			avail[t->id] = 1;
		}
	}
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *t = g->outputs[i];
		if (!avail[t->id]) {
			snprintf(msg, sizeof msg, "after %s: output '%s' is never produced", after_pass,
			         t->name);
			ctx_bug(c, __FILE__, __LINE__, msg);
		}
	}
}
