/*
 * onnx.c -- the ONNX front end: a model file -> one Graph.
 *
 * The file is mapped, hashed (FNV-1a 64, for the provenance comment: the
 * model file, then the external data of each tensor in the order read) and
 * unpacked with protobuf-c (default allocator).  Everything the IR needs is
 * copied into the Ctx arena and the protobuf message is freed before
 * onnx_load returns; on an error the local jmp_buf releases the mapping, the
 * message and any open external-data file, then re-raises to the caller's
 * handler, so a failing load leaks nothing.
 *
 * The bytes are checked for nesting depth and unpacked within the memory
 * limit first (onnx_pb.c); tensors become constants in onnx_tensor.c.
 * protobuf-c checks the wire format; these files check the meaning: every
 * count, index, dimension and data length is validated before it is used
 * (dims are non-negative, element counts are computed with ctx_mul, data
 * lengths must match the dims exactly), so no byte sequence can make the
 * loader read or write out of bounds.
 *
 * Order of work: initializers (TK_CONST), graph inputs (TK_INPUT, shapes bound
 * from --dim), a name table of every node output, a stable topological order
 * (the file order when the file is already sorted, as ONNX requires), then
 * the nodes themselves (outputs TK_VALUE with their producer), the graph
 * outputs, and last the check that every --dim binding was used.
 *
 * Node errors before a Node exists are formatted here like node_error():
 * "node 'name' (Op, #index): ..." or "node #index (Op): ..." when unnamed.
 */
#define _POSIX_C_SOURCE 200809L   /* pread, mmap */
#include "tostc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_front.h"

#define OPSET_MIN 7
#define OPSET_MAX 21


/* ------------------------------------------------------------------ */
/* Loader state                                                         */
/* ------------------------------------------------------------------ */

/* One name of the graph: an initializer/input (t set, node -1) or a node
 * output (node = index in the file; t set once the node is built). */
typedef struct {
	const char *key;
	Tensor *t;
	int node;
} Entry;

/* One graph being read: the model's, or a subgraph (an If branch, a Loop
 * body) whose names reach into the graphs around it. */
typedef struct Scope Scope;
struct Scope {
	Graph *g;
	Scope *up;            /* the enclosing graph's scope; NULL for the model's */
	/* name table: open addressing, cap a power of two */
	Entry *tab;
	size_t cap, count;
	/* the graph's nodes, local functions expanded (onnx_inline.c) */
	const Onnx__NodeProto **nodes;
	int *index;           /* position in the file of each (of its call, when expanded) */
	int nnodes;
	const char ***free;   /* per node: the names its subgraphs read from this graph */
	int *nfree;
	/* captures: tensors of enclosing graphs that this one reads, and the
	 * inputs that stand for them here */
	Tensor **outer, **inner;
	int ncap, capcap;
};

typedef struct {
	Ctx *c;
	Scope s;              /* the graph being read */
	Graph *root;          /* the model's graph */
	const char *path;     /* the model file */
	/* resources released on success and on error */
	void *map;
	size_t maplen;
	int fd, ext_fd;
	Onnx__ModelProto *model;
	/* symbolic dimensions: every name seen, and those left unbound */
	const char **sym;
	int nsym, capsym;
	const char **unbound;
	int nunbound, capunbound;
	int fresh;            /* counter for invented tensor names */
	Onnx__TensorProto *const_tp; /* --const-input being converted (freed on error too) */
	/* protobuf-c's allocations, counted against the memory limit */
	PbGuard pb;
} Loader;

static void loader_release(Loader *L)
{
	if (L->const_tp)
		protobuf_c_message_free_unpacked(&L->const_tp->base, &L->pb.alloc);
	L->const_tp = NULL;
	if (L->model)
		protobuf_c_message_free_unpacked(&L->model->base, &L->pb.alloc);
	L->model = NULL;
	if (L->map)
		munmap(L->map, L->maplen);
	L->map = NULL;
	if (L->fd >= 0)
		close(L->fd);
	L->fd = -1;
	if (L->ext_fd >= 0)
		close(L->ext_fd);
	L->ext_fd = -1;
}

/* ------------------------------------------------------------------ */
/* Name table                                                           */
/* ------------------------------------------------------------------ */

static Entry *name_slot(Scope *s, const char *key)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)fnv1a(FNV1A_BASIS, key, strlen(key)) & mask;
	while (s->tab[i].key && strcmp(s->tab[i].key, key) != 0)
		i = (i + 1) & mask;
	return &s->tab[i];
}

static Entry *scope_find(Scope *s, const char *key)
{
	if (!s->cap)
		return NULL;
	Entry *e = name_slot(s, key);
	return e->key ? e : NULL;
}

/* A name of the graph being read (not of the graphs around it). */
static Entry *name_find(Loader *L, const char *key) { return scope_find(&L->s, key); }

/* Insert key (an arena string) into s; NULL when it is already there. */
static Entry *scope_add(Ctx *c, Scope *s, const char *key)
{
	if (2 * (s->count + 1) > s->cap) {
		Entry *old = s->tab;
		size_t oldcap = s->cap;
		s->cap = oldcap ? 2 * oldcap : 256;
		s->tab = ctx_alloc(c, (size_t)ctx_mul(c, (int64_t)s->cap, sizeof(Entry)));
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*name_slot(s, old[i].key) = old[i];
	}
	Entry *e = name_slot(s, key);
	if (e->key)
		return NULL;
	e->key = key;
	e->t = NULL;
	e->node = -1;
	s->count++;
	return e;
}

static Entry *name_add(Loader *L, const char *key) { return scope_add(L->c, &L->s, key); }

/* Is `name` a tensor of an enclosing graph of s? */
static bool outer_has(Scope *s, const char *name)
{
	for (Scope *u = s->up; u; u = u->up)
		if (scope_find(u, name))
			return true;
	return false;
}

/* The tensor of s's graph that `name` stands for: its own, or for a tensor
 * of an enclosing graph an input of s's graph made on first use (a capture:
 * s->outer[k] is read through s->inner[k]).  NULL when no graph has it. */
static Tensor *scope_tensor(Ctx *c, Scope *s, const char *name)
{
	Entry *e = scope_find(s, name);
	if (e)
		return e->t;
	if (!s->up)
		return NULL;
	Tensor *outer = scope_tensor(c, s->up, name);
	if (!outer)
		return NULL;
	e = scope_add(c, s, ctx_strdup(c, name));
	e->node = -3;
	e->t = tensor_new(s->g, e->key, TK_INPUT, outer->dtype, 0, NULL);
	e->t->shape_known = false;
	if (s->ncap == s->capcap) {
		int cap = s->capcap ? 2 * s->capcap : 8;
		Tensor **o = ctx_alloc(c, sizeof *o * (size_t)cap), **i = ctx_alloc(c, sizeof *i * (size_t)cap);
		if (s->ncap) {
			memcpy(o, s->outer, sizeof *o * (size_t)s->ncap);
			memcpy(i, s->inner, sizeof *i * (size_t)s->ncap);
		}
		s->outer = o, s->inner = i, s->capcap = cap;
	}
	s->outer[s->ncap] = outer;
	s->inner[s->ncap++] = e->t;
	return e->t;
}

/* A name no tensor of the graph has: base, base_1, base_2, ... */
static const char *fresh_name(Loader *L, const char *base)
{
	const char *s = ctx_strdup(L->c, base);
	while (name_find(L, s))
		s = ctx_printf(L->c, "%s_%d", base, ++L->fresh);
	return s;
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

/* "node 'name' (Op, #12)" or "node #12 (Op)", as node_error prints it. */
static const char *node_where(Loader *L, const Onnx__NodeProto *np, int index)
{
	const char *name = str(np->name);
	const char *op = str(np->op_type);
	if (*name)
		return ctx_printf(L->c, "node '%s' (%s, #%d)", text_msg(L->c, name),
		                  text_msg(L->c, op), index);
	return ctx_printf(L->c, "node #%d (%s)", index, text_msg(L->c, op));
}

__attribute__((format(printf, 4, 5)))
static _Noreturn void proto_node_error(Loader *L, const Onnx__NodeProto *np, int index,
                                       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctx_error(L->c, "%s: %s", node_where(L, np, index), msg);
}


/* A TensorProto as a constant of the graph being read (onnx_tensor.c). */
static Tensor *tensor_from_proto(Loader *L, const Onnx__TensorProto *tp, const char *name,
                                 const char *what)
{
	OnnxTensors s = {L->s.g, L->path, &L->ext_fd, &L->root->source_hash};
	return onnx_tensor(&s, tp, name, what);
}

/* ------------------------------------------------------------------ */
/* Graph inputs and symbolic dimensions                                 */
/* ------------------------------------------------------------------ */

static void list_add(Loader *L, const char ***list, int *n, int *cap, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (strcmp((*list)[i], s) == 0)
			return;
	if (*n == *cap) {
		int ncap = *cap ? 2 * *cap : 16;
		const char **nl = ctx_alloc(L->c, (size_t)ncap * sizeof *nl);
		if (*n)
			memcpy(nl, *list, (size_t)*n * sizeof *nl);
		*list = nl;
		*cap = ncap;
	}
	(*list)[(*n)++] = s;
}

static const char *list_join(Loader *L, const char **list, int n)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(list[i]) + 2;
	char *s = ctx_alloc(L->c, len);
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, list[i]);
	}
	return s;
}

/* The value of symbolic dimension `name` from --dim, or 0 when unbound. */
static int64_t bind_dim(Loader *L, const char *name)
{
	Ctx *c = L->c;
	for (int i = 0; i < c->ndims && i < MAX_DIM_BINDINGS; i++)
		if (c->dims[i].name && strcmp(c->dims[i].name, name) == 0) {
			c->dims[i].used = true;
			if (c->dims[i].value <= 0)
				ctx_error(c, "--dim %s=%lld: dimensions must be positive", name,
				          (long long)c->dims[i].value);
			return c->dims[i].value;
		}
	return 0;
}

/* --const-input NAME=FILE: the input becomes a constant read from FILE, a
 * serialized TensorProto.  Returns the constant, or NULL when not bound. */
static Tensor *const_input(Loader *L, const char *name)
{
	Ctx *c = L->c;
	for (int i = 0; i < c->nconsts; i++) {
		ConstInput *b = &c->consts[i];
		if (strcmp(b->name, name) != 0)
			continue;
		b->used = true;
		struct stat sb;
		if (stat(b->path, &sb) == 0 && !S_ISREG(sb.st_mode))
			ctx_error(c, "--const-input %s: '%s' is not a regular file",
			          text_msg(c, name), b->path);
		FILE *f = fopen(b->path, "rb");
		if (!f)
			ctx_error(c, "--const-input %s: cannot open '%s': %s", text_msg(c, name),
			          b->path, strerror(errno));
		size_t cap = 1 << 16, len = 0;
		unsigned char *buf = ctx_alloc(c, cap);
		for (;;) {
			len += fread(buf + len, 1, cap - len, f);
			if (len < cap || cap >= ((size_t)1 << 30))
				break;
			unsigned char *nb = ctx_alloc(c, cap * 2);
			memcpy(nb, buf, len);
			buf = nb;
			cap *= 2;
		}
		bool bad = ferror(f) || len == cap;
		fclose(f);
		if (bad)
			ctx_error(c, "--const-input %s: cannot read '%s'", text_msg(c, name),
			          b->path);
		ctx_depend(c, b->path);
		pb_check_depth(c, &onnx__tensor_proto__descriptor, buf, len,
		               ctx_printf(c, "--const-input %s: '%s'", text_msg(c, name), b->path));
		L->const_tp = (Onnx__TensorProto *)protobuf_c_message_unpack(
			&onnx__tensor_proto__descriptor, &L->pb.alloc, len, buf);
		pb_check_memory(&L->pb);
		if (!L->const_tp)
			ctx_error(c,
			          "--const-input %s: '%s' is not a serialized ONNX TensorProto", text_msg(c, name),
			          b->path);
		Tensor *t = tensor_from_proto(L, L->const_tp, name,
		                              ctx_printf(c, "--const-input %s", name));
		protobuf_c_message_free_unpacked(&L->const_tp->base, &L->pb.alloc);
		L->const_tp = NULL;
		return t;
	}
	return NULL;
}

static void add_input(Loader *L, const Onnx__ValueInfoProto *vi, Tensor **inputs, int *ninputs)
{
	Ctx *c = L->c;
	const char *name = str(vi->name);
	if (!*name)
		ctx_error(c, "graph input #%d has no name", *ninputs);
	Entry *e = name_find(L, name);
	if (e && e->node == -2)
		return; /* an initializer: a weight, not a run-time input */
	if (e)
		ctx_error(c, "graph input '%s' is declared twice", text_msg(c, name));
	Tensor *k = const_input(L, name);
	if (k) {
		/* the constant must fit what the model declares for the input */
		const Onnx__TypeProto *ktp = vi->type;
		if (ktp && ktp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && ktp->tensor_type) {
			const Onnx__TypeProto__Tensor *kt = ktp->tensor_type;
			DType want = dtype_from_onnx(kt->has_elem_type ? kt->elem_type : 0);
			if (want != DT_UNDEF && want != k->dtype)
				ctx_error(c, "--const-input %s: the file holds %s, the model declares %s", name,
				          tensor_shape_str(c, k), dtype_name(want));
			if (kt->shape) {
				bool ok = (int)kt->shape->n_dim == k->rank;
				for (int i = 0; ok && i < k->rank; i++) {
					const Onnx__TensorShapeProto__Dimension *d = kt->shape->dim[i];
					if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
					    d->dim_value != k->dims[i])
						ok = false;
				}
				if (!ok)
					ctx_error(c, "--const-input %s: the file holds %s, which does not match the "
					          "input's declared shape", name, tensor_shape_str(c, k));
			}
		}
		e = name_add(L, ctx_strdup(c, name));
		e->node = -2;
		e->t = k;
		return;
	}

	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		ctx_error(c, "graph input '%s' is not a tensor (sequences, maps and optionals "
		          "are not supported)", text_msg(c, name));
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	int onnx_dt = tt->has_elem_type ? tt->elem_type : 0;
	DType dt = dtype_from_onnx(onnx_dt);
	if (dt == DT_UNDEF)
		ctx_error(c, "graph input '%s' has element type %s, which tostc does not support "
		          "(supported: " SUPPORTED_TYPES ")", text_msg(c, name), onnx_type_name(onnx_dt));
	if (!tt->shape)
		ctx_error(c, "graph input '%s' has no shape (its rank is unknown)",
		          text_msg(c, name));
	if (tt->shape->n_dim > MAX_RANK)
		ctx_error(c, "graph input '%s' has rank %zu; tostc supports at most %d",
		          text_msg(c, name),
		          tt->shape->n_dim, MAX_RANK);
	int rank = (int)tt->shape->n_dim;
	int64_t dims[MAX_RANK] = {0};
	for (int i = 0; i < rank; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (d->dim_value <= 0)
				ctx_error(c, "graph input '%s' has dimension %lld at axis %d; dimensions "
				          "must be positive", text_msg(c, name), (long long)d->dim_value, i);
			dims[i] = d->dim_value;
			continue;
		}
		const char *sym = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
			? str(d->dim_param) : "";
		/* an unnamed dimension is named INPUT:AXIS so --dim can still bind it */
		if (!*sym)
			sym = ctx_printf(c, "%s:%d", name, i);
		else
			sym = ctx_strdup(c, sym);
		list_add(L, &L->sym, &L->nsym, &L->capsym, sym);
		dims[i] = bind_dim(L, sym);
		if (dims[i] == 0)
			list_add(L, &L->unbound, &L->nunbound, &L->capunbound, sym);
	}
	shape_nbytes_checked(c, ctx_printf(c, "graph input '%s'", name), dt, rank, dims);
	e = name_add(L, ctx_strdup(c, name));
	e->t = tensor_new(L->s.g, e->key, TK_INPUT, dt, rank, dims);
	e->t->shape_known = true;
	inputs[(*ninputs)++] = e->t;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                                */
/* ------------------------------------------------------------------ */

static char *copy_bytes(Ctx *c, const ProtobufCBinaryData *b)
{
	char *s = ctx_alloc(c, b->len + 1);
	if (b->len)
		memcpy(s, b->data, b->len);
	return s;
}

static void add_attrs(Loader *L, Node *n, const Onnx__NodeProto *np, int index)
{
	Ctx *c = L->c;
	for (size_t k = 0; k < np->n_attribute; k++) {
		const Onnx__AttributeProto *ap = np->attribute[k];
		const char *aname = str(ap->name);
		if (!*aname)
			proto_node_error(L, np, index, "attribute #%zu has no name", k);
		if (attr_find(n, aname))
			proto_node_error(L, np, index, "attribute '%s' is given twice",
			                 text_msg(c, aname));
		int type = ap->has_type ? (int)ap->type : 0;
		if (type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
			/* IR version 1 had no type field: infer it from what is set */
			if (ap->has_f) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
			else if (ap->has_i) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
			else if (ap->has_s) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
			else if (ap->t) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
			else if (ap->n_floats) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
			else if (ap->n_ints) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
		}
		const char *an = ctx_strdup(c, aname);
		Attr *a;
		switch (type) {
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
			a = node_add_attr(L->s.g, n, an, AT_INT);
			a->i = ap->i;
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
			a = node_add_attr(L->s.g, n, an, AT_FLOAT);
			a->f = ap->f;
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
			if (ap->n_ints > INT_MAX / 8)
				proto_node_error(L, np, index, "attribute '%s' is too long",
				                 text_msg(c, aname));
			a = node_add_attr(L->s.g, n, an, AT_INTS);
			a->n = (int)ap->n_ints;
			a->ints = ctx_alloc(c, (ap->n_ints ? ap->n_ints : 1) * sizeof(int64_t));
			if (ap->n_ints)
				memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
			if (ap->n_floats > INT_MAX / 8)
				proto_node_error(L, np, index, "attribute '%s' is too long",
				                 text_msg(c, aname));
			a = node_add_attr(L->s.g, n, an, AT_FLOATS);
			a->n = (int)ap->n_floats;
			a->floats = ctx_alloc(c, (ap->n_floats ? ap->n_floats : 1) * sizeof(float));
			if (ap->n_floats)
				memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
			a = node_add_attr(L->s.g, n, an, AT_STRING);
			a->s = copy_bytes(c, &ap->s);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
			if (ap->n_strings > INT_MAX / 8)
				proto_node_error(L, np, index, "attribute '%s' is too long",
				                 text_msg(c, aname));
			a = node_add_attr(L->s.g, n, an, AT_STRINGS);
			a->n = (int)ap->n_strings;
			a->strs = ctx_alloc(c, (ap->n_strings ? ap->n_strings : 1) * sizeof(char *));
			for (size_t k = 0; k < ap->n_strings; k++)
				a->strs[k] = copy_bytes(c, &ap->strings[k]);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
			if (!ap->t)
				proto_node_error(L, np, index,
				                 "tensor attribute '%s' has no tensor", text_msg(c, aname));
			const char *base = n->nout > 0 && n->out[0]
				? ctx_printf(c, "%s.%s", n->out[0]->name, aname)
				: ctx_printf(c, "node%d.%s", index, aname);
			Entry *e = name_add(L, fresh_name(L, base));
			const char *what = ctx_printf(c, "%s: attribute '%s'", node_where(L, np, index),
			                              text_msg(c, aname));
			e->t = tensor_from_proto(L, ap->t, e->key, what);
			a = node_add_attr(L->s.g, n, an, AT_TENSOR);
			a->t = e->t;
			break;
		}
		default:
			a = node_add_attr(L->s.g, n, an, AT_OTHER);
			break;
		}
	}
}

/* Positions of the nodes in a topological order: the file order when the
 * file is sorted; otherwise a depth-first order that keeps it as far as the
 * dependencies allow.  Errors on undefined inputs and cycles. */
static int *topo_order(Loader *L)
{
	Ctx *c = L->c;
	int nn = L->s.nnodes;
	int *order = ctx_alloc(c, ((size_t)nn + 1) * sizeof(int));
	unsigned char *state = ctx_alloc(c, (size_t)nn + 1);   /* 0 new, 1 open, 2 done */
	int *stack = ctx_alloc(c, ((size_t)nn + 1) * sizeof(int));
	size_t *next = ctx_alloc(c, ((size_t)nn + 1) * sizeof(size_t));
	int norder = 0;
	for (int root = 0; root < nn; root++) {
		if (state[root])
			continue;
		int sp = 0;
		stack[sp++] = root;
		state[root] = 1;
		next[root] = 0;
		while (sp > 0) {
			int v = stack[sp - 1];
			const Onnx__NodeProto *np = L->s.nodes[v];
			size_t nin = np->n_input + (size_t)L->s.nfree[v];
			if (next[v] < nin) {
				size_t k = next[v]++;
				const char *in = k < np->n_input ? str(np->input[k])
				                                 : L->s.free[v][k - np->n_input];
				if (!*in)
					continue;
				Entry *e = name_find(L, in);
				if (!e && (k >= np->n_input || outer_has(&L->s, in)))
					continue;   /* a name of an enclosing graph */
				if (!e)
					proto_node_error(L, np, L->s.index[v], "input '%s' is not produced by any "
					                 "node and is neither a graph input nor an initializer",
					                 text_msg(c, in));
				if (e->node < 0)
					continue;
				if (state[e->node] == 1)
					proto_node_error(L, np, L->s.index[v], "the graph has a cycle through "
					                 "tensor '%s'", text_msg(c, in));
				if (state[e->node] == 0) {
					state[e->node] = 1;
					next[e->node] = 0;
					stack[sp++] = e->node;
				}
				continue;
			}
			sp--;
			state[v] = 2;
			order[norder++] = v;
		}
	}
	return order;
}

/* Input and output counts without trailing empty names: ONNX spells an
 * omitted trailing optional input or output either way. */
static size_t count_in(const Onnx__NodeProto *np, OpKind op)
{
	size_t n = np->n_input;
	while (n > 0 && (int64_t)n > op_info[op].min_in && !*str(np->input[n - 1]))
		n--;
	return n;
}

static size_t count_out(const Onnx__NodeProto *np, OpKind op)
{
	size_t n = np->n_output;
	while (n > 0 && (int64_t)n > op_info[op].min_out && !*str(np->output[n - 1]))
		n--;
	return n;
}

/* "2", "1 to 3", "at least 1": an op's arity for messages. */
static const char *arity(Ctx *c, int lo, int hi)
{
	if (hi < 0)
		return ctx_printf(c, "at least %d", lo);
	if (lo == hi)
		return ctx_printf(c, "%d", lo);
	return ctx_printf(c, "%d to %d", lo, hi);
}

static void check_arity(Loader *L, const Onnx__NodeProto *np, int index, OpKind op)
{
	const OpInfo *oi = &op_info[op];
	size_t nin = count_in(np, op), nout = count_out(np, op);
	if ((int64_t)nin < oi->min_in || (oi->max_in >= 0 && (int64_t)nin > oi->max_in))
		proto_node_error(L, np, index, "has %zu inputs; %s takes %s", nin, oi->name,
		                 arity(L->c, oi->min_in, oi->max_in));
	if ((int64_t)nout < oi->min_out || (oi->max_out >= 0 && (int64_t)nout > oi->max_out))
		proto_node_error(L, np, index, "has %zu outputs; tostc's %s produces %s", nout,
		                 oi->name, arity(L->c, oi->min_out, oi->max_out));
	for (int i = 0; i < oi->min_in; i++)
		if (!*str(np->input[i]))
			proto_node_error(L, np, index, "required input %d is empty", i);
	if (nin > INT_MAX / 8 || nout > INT_MAX / 8)
		proto_node_error(L, np, index, "has too many inputs or outputs");
}

static void read_control(Loader *L, Node *n, const Onnx__NodeProto *np, int first);

/* Node v of L->s.nodes (its outputs' entries name v as their producer). */
static void add_node(Loader *L, int v, OpKind op)
{
	Ctx *c = L->c;
	const Onnx__NodeProto *np = L->s.nodes[v];
	int index = L->s.index[v];
	int nin = (int)count_in(np, op), nout = (int)count_out(np, op);
	Node *n = node_new(L->s.g, op, ctx_strdup(c, str(np->name)), nin, nout);
	n->src_op = ctx_strdup(c, str(np->op_type));
	n->index = index;
	for (int i = 0; i < nin; i++) {
		const char *in = str(np->input[i]);
		if (!*in) {
			n->in[i] = NULL;
			continue;
		}
		n->in[i] = scope_tensor(c, &L->s, in);
		ir_assert(c, n->in[i] != NULL);   /* topo_order checked it */
	}
	for (int i = 0; i < nout; i++) {
		const char *out = str(np->output[i]);
		Entry *e;
		if (*out) {
			e = name_find(L, out);
			ir_assert(c, e && e->node == v && !e->t);
		} else {
			/* an omitted optional output still gets a (private) tensor */
			const char *base = *str(np->name)
				? ctx_printf(c, "%s_out%d", np->name, i)
				: ctx_printf(c, "node%d_out%d", index, i);
			e = name_add(L, fresh_name(L, base));
			e->node = v;
		}
		e->t = tensor_new(L->s.g, e->key, TK_VALUE, DT_UNDEF, 0, NULL);
		e->t->shape_known = false;
		e->t->producer = n;
		n->out[i] = e->t;
	}
	add_attrs(L, n, np, index);
	if (n->op == OP_IF || n->op == OP_LOOP)
		read_control(L, n, np, nin);
	graph_add_node(L->s.g, n);
}

/* The ops a model uses that tostc does not support: each op (and domain),
 * how many nodes use it and the first of them. */
typedef struct {
	const char **op, **dom, **first;
	int *count, n, cap, nodes;
} Gaps;

static void collect_gaps(Loader *L, const Onnx__GraphProto *gp, Gaps *G, int depth)
{
	Ctx *c = L->c;
	if (depth > 32)
		ctx_error(c, "subgraphs are nested more than 32 deep, tostc's limit");
	int *index, nn;
	const Onnx__NodeProto **nodes = onnx_inline_functions(c, L->model, gp, &index, &nn);
	for (int i = 0; i < nn; i++) {
		const Onnx__NodeProto *np = nodes[i];
		for (size_t k = 0; k < np->n_attribute; k++) {   /* If branches, Loop bodies */
			const Onnx__AttributeProto *a = np->attribute[k];
			if (a->g)
				collect_gaps(L, a->g, G, depth + 1);
			for (size_t j = 0; j < a->n_graphs; j++)
				collect_gaps(L, a->graphs[j], G, depth + 1);
		}
		const char *t = str(np->op_type), *d = str(np->domain);
		bool dflt = !*d || strcmp(d, "ai.onnx") == 0;
		OpKind k = op_lookup(t);
		if (dflt && k != OP_COUNT && !(op_info[k].flags & OPF_INTERNAL))
			continue;
		G->nodes++;
		int j = 0;
		while (j < G->n && !(strcmp(G->op[j], t) == 0 && strcmp(G->dom[j], d) == 0))
			j++;
		if (j == G->n) {
			if (G->n == G->cap) {
				int cap = G->cap ? 2 * G->cap : 16;
				const char **o = ctx_alloc(c, sizeof *o * (size_t)cap);
				const char **dm = ctx_alloc(c, sizeof *dm * (size_t)cap);
				const char **f = ctx_alloc(c, sizeof *f * (size_t)cap);
				int *cn = ctx_alloc(c, sizeof *cn * (size_t)cap);
				if (G->n) {
					memcpy(o, G->op, sizeof *o * (size_t)G->n);
					memcpy(dm, G->dom, sizeof *dm * (size_t)G->n);
					memcpy(f, G->first, sizeof *f * (size_t)G->n);
					memcpy(cn, G->count, sizeof *cn * (size_t)G->n);
				}
				G->op = o, G->dom = dm, G->first = f, G->count = cn, G->cap = cap;
			}
			G->op[j] = t, G->dom[j] = d, G->count[j] = 0;
			G->first[j] = node_where(L, np, index[i]);
			G->n++;
		}
		G->count[j]++;
	}
}

/* Every unsupported op of the model, its subgraphs included, in one
 * message: a user fixes or reports them all at once. */
static void check_ops(Loader *L, const Onnx__GraphProto *gp)
{
	Ctx *c = L->c;
	enum { SHOWN = 12 };
	Gaps G = {0};
	collect_gaps(L, gp, &G, 0);
	if (!G.n)
		return;
	const char *list = "";
	for (int j = 0; j < G.n && j < SHOWN; j++) {
		const char *d = *G.dom[j] && strcmp(G.dom[j], "ai.onnx") != 0
			? ctx_printf(c, " (domain '%s')", text_msg(c, G.dom[j])) : "";
		list = ctx_printf(c, "%s%s%s%s: %d node%s, first %s", list, j ? "; " : "",
		                  text_msg(c, G.op[j]), d, G.count[j], G.count[j] == 1 ? "" : "s",
		                  G.first[j]);
	}
	if (G.n > SHOWN)
		list = ctx_printf(c, "%s; and %d more", list, G.n - SHOWN);
	ctx_error(c, "%d unsupported op%s in %d node%s (opset %d): %s; `tostc --list-ops` lists "
	          "the supported ops", G.n, G.n == 1 ? "" : "s", G.nodes, G.nodes == 1 ? "" : "s",
	          L->root->opset, list);
}

/* ------------------------------------------------------------------ */
/* Graphs and subgraphs                                                 */
/* ------------------------------------------------------------------ */

/* initializers: constants (node -2 marks them) */
static void read_initializers(Loader *L, const Onnx__GraphProto *gp)
{
	Ctx *c = L->c;
	for (size_t i = 0; i < gp->n_initializer; i++) {
		const Onnx__TensorProto *tp = gp->initializer[i];
		const char *name = str(tp->name);
		if (!*name)
			ctx_error(c, "initializer #%zu has no name", i);
		Entry *e = name_add(L, ctx_strdup(c, name));
		if (!e)
			ctx_error(c, "initializer '%s' is defined twice", text_msg(c, name));
		e->node = -2;
		e->t = tensor_from_proto(L, tp, e->key, ctx_printf(c, "initializer '%s'", name));
	}
}

/* Add to *list every name the nodes of gp (and of their subgraphs) read that
 * gp itself does not define: what a subgraph reads from the graphs around it. */
static void free_names(Loader *L, const Onnx__GraphProto *gp, const char ***list, int *n,
                       int *cap, int depth)
{
	Ctx *c = L->c;
	if (depth > 32)
		ctx_error(c, "subgraphs are nested more than 32 deep, tostc's limit");
	const char **inner = NULL;
	int ni = 0, capi = 0;
	for (size_t i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		for (size_t k = 0; k < np->n_input; k++)
			if (*str(np->input[k]))
				list_add(L, &inner, &ni, &capi, str(np->input[k]));
		for (size_t k = 0; k < np->n_attribute; k++) {
			const Onnx__AttributeProto *a = np->attribute[k];
			if (a->g)
				free_names(L, a->g, &inner, &ni, &capi, depth + 1);
			for (size_t j = 0; j < a->n_graphs; j++)
				free_names(L, a->graphs[j], &inner, &ni, &capi, depth + 1);
		}
	}
	for (int i = 0; i < ni; i++) {
		bool defined = false;
		for (size_t k = 0; k < gp->n_initializer && !defined; k++)
			defined = strcmp(str(gp->initializer[k]->name), inner[i]) == 0;
		for (size_t k = 0; k < gp->n_input && !defined; k++)
			defined = strcmp(str(gp->input[k]->name), inner[i]) == 0;
		for (size_t k = 0; k < gp->n_node && !defined; k++)
			for (size_t j = 0; j < gp->node[k]->n_output && !defined; j++)
				defined = strcmp(str(gp->node[k]->output[j]), inner[i]) == 0;
		if (!defined)
			list_add(L, list, n, cap, inner[i]);
	}
}

/* The nodes of gp into L->s.g: functions expanded, every output named before
 * any node is built, each node's subgraph reads noted for the order, nodes
 * built in a topological order. */
static void read_nodes(Loader *L, const Onnx__GraphProto *gp)
{
	Ctx *c = L->c;
	L->s.nodes = onnx_inline_functions(c, L->model, gp, &L->s.index, &L->s.nnodes);
	L->s.free = ctx_alloc(c, sizeof(char **) * (size_t)(L->s.nnodes + 1));
	L->s.nfree = ctx_alloc(c, sizeof(int) * (size_t)(L->s.nnodes + 1));
	for (int i = 0; i < L->s.nnodes; i++) {
		const Onnx__NodeProto *np = L->s.nodes[i];
		for (size_t k = 0; k < np->n_output; k++) {
			const char *out = str(np->output[k]);
			if (!*out)
				continue;
			Entry *e = name_add(L, ctx_strdup(c, out));
			if (!e) {
				Entry *old = name_find(L, out);
				proto_node_error(L, np, L->s.index[i], "output '%s' is already %s",
				                 text_msg(c, out),
				                 old->node >= 0 ? "the output of another node"
				                 : old->node == -2 ? "an initializer" : "a graph input");
			}
			e->node = i;
		}
		int cap = 0;
		for (size_t k = 0; k < np->n_attribute; k++) {
			const Onnx__AttributeProto *a = np->attribute[k];
			if (a->g)
				free_names(L, a->g, &L->s.free[i], &L->s.nfree[i], &cap, 1);
			for (size_t j = 0; j < a->n_graphs; j++)
				free_names(L, a->graphs[j], &L->s.free[i], &L->s.nfree[i], &cap, 1);
		}
	}
	for (int i = 0; i < L->s.nnodes; i++)
		check_arity(L, L->s.nodes[i], L->s.index[i], op_lookup(str(L->s.nodes[i]->op_type)));
	int *order = topo_order(L);
	for (int k = 0; k < L->s.nnodes; k++)
		add_node(L, order[k], op_lookup(str(L->s.nodes[order[k]]->op_type)));
}

/* The graph's outputs (a subgraph's may be names of the graphs around it). */
static void read_outputs(Loader *L, const Onnx__GraphProto *gp)
{
	Ctx *c = L->c;
	Graph *g = L->s.g;
	if (gp->n_output == 0)
		ctx_error(c, "the graph has no outputs");
	g->outputs = ctx_alloc(c, gp->n_output * sizeof *g->outputs);
	for (size_t i = 0; i < gp->n_output; i++) {
		const char *name = str(gp->output[i]->name);
		if (!*name)
			ctx_error(c, "graph output #%zu has no name", i);
		Tensor *t = scope_tensor(c, &L->s, name);
		if (!t)
			ctx_error(c, "graph output '%s' is not produced by any node and is neither a "
			          "graph input nor an initializer", text_msg(c, name));
		if (t->is_output)
			ctx_error(c, "graph output '%s' is listed twice", text_msg(c, name));
		t->is_output = true;
		g->outputs[g->noutputs++] = t;
	}
}

/* A subgraph (an If branch, a Loop body) as a Graph of its own, read in a
 * scope inside the current one.  Its declared inputs come first (their
 * element types from the file, shapes set by the node's shape function);
 * the tensors it reads from the graphs around it are captured: *outer[k]
 * (a tensor of the current graph) is read through its input *inner[k],
 * after the declared ones. */
static Graph *read_subgraph(Loader *L, const Onnx__GraphProto *gp, Tensor ***outer,
                            Tensor ***inner, int *ncap)
{
	Ctx *c = L->c;
	if (gp->n_sparse_initializer)
		ctx_error(c, "a subgraph has sparse initializers, which tostc does not support");
	Scope saved = L->s;
	L->s = (Scope){.g = graph_new(c), .up = &saved};
	Graph *g = L->s.g;
	g->opset = L->root->opset;
	g->name = ctx_strdup(c, str(gp->name));
	read_initializers(L, gp);
	g->inputs = ctx_alloc(c, sizeof(Tensor *) * (gp->n_input + 1));
	for (size_t i = 0; i < gp->n_input; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		const char *name = str(vi->name);
		Entry *e = name_add(L, ctx_strdup(c, name));
		if (!*name || !e)
			ctx_error(c, "subgraph '%s': input #%zu has no name or is declared twice",
			          text_msg(c, g->name), i);
		const Onnx__TypeProto *tp = vi->type;
		int dt = tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type &&
		         tp->tensor_type->has_elem_type ? tp->tensor_type->elem_type : 0;
		e->t = tensor_new(g, e->key, TK_INPUT, dtype_from_onnx(dt), 0, NULL);
		e->t->shape_known = false;
		g->inputs[g->ninputs++] = e->t;
	}
	read_nodes(L, gp);
	read_outputs(L, gp);
	*outer = L->s.outer;
	*inner = L->s.inner;
	*ncap = L->s.ncap;
	L->s = saved;
	return g;
}

/* A control-flow node's subgraphs (If: then_branch, else_branch; Loop:
 * body): read, and their captures made one list, in[first..] of n, that
 * every subgraph takes after its declared inputs, in the same order. */
static void read_control(Loader *L, Node *n, const Onnx__NodeProto *np, int first)
{
	Ctx *c = L->c;
	static const char *const names[][2] = {{"then_branch", "else_branch"}, {"body", NULL}};
	const char *const *want = names[n->op == OP_IF ? 0 : 1];
	int nsub = want[1] ? 2 : 1;
	Tensor **outer[2], **inner[2];
	int ncap[2];
	for (int b = 0; b < nsub; b++) {
		const Onnx__AttributeProto *a = NULL;
		for (size_t k = 0; k < np->n_attribute && !a; k++)
			if (strcmp(str(np->attribute[k]->name), want[b]) == 0)
				a = np->attribute[k];
		if (!a || !a->g)
			proto_node_error(L, np, n->index, "needs the graph attribute '%s'", want[b]);
		n->sub[b] = read_subgraph(L, a->g, &outer[b], &inner[b], &ncap[b]);
	}
	if (n->op == OP_LOOP) {
		/* body inputs: iteration number, condition, the carried values */
		int carried = n->sub[0]->ninputs - 2;
		if (carried < 0 || first > 2 + carried)
			proto_node_error(L, np, n->index, "the body takes %d inputs; a Loop body takes the "
			                 "iteration number, the condition and the carried values",
			                 n->sub[0]->ninputs);
		node_add_attr(L->s.g, n, "carried", AT_INT)->i = carried;
		first = 2 + carried;   /* M and cond may be omitted: in[0], in[1] NULL */
	}
	/* the union of the captures, in first-seen order */
	Tensor **all = ctx_alloc(c, sizeof(Tensor *) * (size_t)(ncap[0] + (nsub > 1 ? ncap[1] : 0) + 1));
	int nall = 0;
	for (int b = 0; b < nsub; b++)
		for (int k = 0; k < ncap[b]; k++) {
			int j = 0;
			while (j < nall && all[j] != outer[b][k])
				j++;
			if (j == nall)
				all[nall++] = outer[b][k];
		}
	for (int b = 0; b < nsub; b++) {
		Graph *sg = n->sub[b];
		Tensor **in = ctx_alloc(c, sizeof(Tensor *) * (size_t)(sg->ninputs + nall + 1));
		memcpy(in, sg->inputs, sizeof(Tensor *) * (size_t)sg->ninputs);
		for (int j = 0; j < nall; j++) {
			Tensor *t = NULL;
			for (int k = 0; k < ncap[b] && !t; k++)
				if (outer[b][k] == all[j])
					t = inner[b][k];
			if (!t) {   /* read by the other branch only */
				t = tensor_new(sg, all[j]->name, TK_INPUT, all[j]->dtype, 0, NULL);
				t->shape_known = false;
			}
			in[sg->ninputs + j] = t;
		}
		sg->inputs = in;
		sg->ninputs += nall;
	}
	Tensor **nin = ctx_alloc(c, sizeof(Tensor *) * (size_t)(first + nall + 1));
	memcpy(nin, n->in, sizeof(Tensor *) * (size_t)(n->nin < first ? n->nin : first));
	memcpy(nin + first, all, sizeof(Tensor *) * (size_t)nall);
	n->in = nin;
	n->nin = first + nall;
}

/* ------------------------------------------------------------------ */
/* The model                                                            */
/* ------------------------------------------------------------------ */

static int model_opset(Loader *L, const Onnx__ModelProto *m)
{
	Ctx *c = L->c;
	int64_t opset = -1;
	for (size_t i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *os = m->opset_import[i];
		const char *dom = str(os->domain);
		if (*dom && strcmp(dom, "ai.onnx") != 0)
			continue;
		if (opset >= 0)
			ctx_error(c, "the model imports the default ONNX domain twice");
		opset = os->has_version ? os->version : 0;
	}
	if (opset < 0)
		ctx_error(c, "the model imports no opset of the default ONNX domain");
	if (opset < OPSET_MIN || opset > OPSET_MAX)
		ctx_error(c, "the model uses ONNX opset %lld; tostc supports opsets %d to %d",
		          (long long)opset, OPSET_MIN, OPSET_MAX);
	return (int)opset;
}

static void map_file(Loader *L, const char *path)
{
	Ctx *c = L->c;
	L->fd = open(path, O_RDONLY | O_NONBLOCK);   /* a FIFO must not block */
	if (L->fd < 0)
		ctx_error(c, "cannot open '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(L->fd, &st) != 0)
		ctx_error(c, "cannot open '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		ctx_error(c, "cannot open '%s': %s", path, strerror(EISDIR));
	if (!S_ISREG(st.st_mode))
		ctx_error(c, "cannot open '%s': not a regular file", path);
	if (st.st_size == 0)
		ctx_error(c, "'%s' is empty, not an ONNX model", path);
	if ((uint64_t)st.st_size >= ((uint64_t)1 << 31))
		ctx_error(c, "'%s' is %lld bytes, over the 2 GiB protobuf limit; store the weights "
		          "as external data", path, (long long)st.st_size);
	L->maplen = (size_t)st.st_size;
	void *p = mmap(NULL, L->maplen, PROT_READ, MAP_PRIVATE, L->fd, 0);
	if (p == MAP_FAILED)
		ctx_error(c, "cannot read '%s': %s", path, strerror(errno));
	L->map = p;
	close(L->fd);
	L->fd = -1;
	ctx_depend(c, path);
}

static Graph *load(Loader *L, const char *path)
{
	Ctx *c = L->c;
	L->path = path;
	map_file(L, path);

	Graph *g = graph_new(c);
	L->s.g = g;
	L->root = g;
	g->source_hash = fnv1a(FNV1A_BASIS, L->map, L->maplen);
	pb_check_depth(c, &onnx__model_proto__descriptor, L->map, L->maplen, "the model");
	L->model = (Onnx__ModelProto *)protobuf_c_message_unpack(&onnx__model_proto__descriptor,
	                                                         &L->pb.alloc, L->maplen, L->map);
	pb_check_memory(&L->pb);
	if (!L->model)
		ctx_error(c, "not a valid ONNX model (protobuf parse failed)");
	munmap(L->map, L->maplen);
	L->map = NULL;

	const Onnx__ModelProto *m = L->model;
	if (!m->graph)
		ctx_error(c, "the model has no graph (not an ONNX model?)");
	g->opset = model_opset(L, m);
	const Onnx__GraphProto *gp = m->graph;
	g->name = ctx_strdup(c, str(gp->name));
	if (gp->n_sparse_initializer)
		ctx_error(c, "the model has sparse initializers, which tostc does not support");
	if (gp->n_node > INT_MAX / 16 || gp->n_input > INT_MAX / 16 ||
	    gp->n_output > INT_MAX / 16 || gp->n_initializer > INT_MAX / 16)
		ctx_error(c, "the graph is too large");
	check_ops(L, gp);

	read_initializers(L, gp);

	/* graph inputs that are not initializers */
	Tensor **inputs = ctx_alloc(c, (gp->n_input + 1) * sizeof *inputs);
	int ninputs = 0;
	for (size_t i = 0; i < gp->n_input; i++)
		add_input(L, gp->input[i], inputs, &ninputs);
	if (L->nunbound) {
		bool unnamed = false;
		for (int i = 0; i < L->nunbound; i++)
			unnamed |= strchr(L->unbound[i], ':') != NULL;
		ctx_error(c, "unbound symbolic dimensions: %s (bind them with --dim NAME=VALUE%s)",
		          list_join(L, L->unbound, L->nunbound),
		          unnamed ? "; an unnamed dimension is called INPUT:AXIS" : "");
	}
	g->inputs = inputs;
	g->ninputs = ninputs;

	read_nodes(L, gp);
	read_outputs(L, gp);

	onnx_check_doubles(L->s.g);

	for (int i = 0; i < c->nconsts; i++)
		if (!c->consts[i].used)
			ctx_error(c, "--const-input %s: the model has no graph input '%s'",
			          c->consts[i].name, c->consts[i].name);

	/* every --dim must have matched a symbolic dimension */
	for (int i = 0; i < c->ndims && i < MAX_DIM_BINDINGS; i++)
		if (!c->dims[i].used)
			ctx_error(c, "--dim %s: the model has no symbolic dimension '%s'; %s%s",
			          str(c->dims[i].name), str(c->dims[i].name),
			          L->nsym ? "it has: " : "it has none",
			          L->nsym ? list_join(L, L->sym, L->nsym) : "");
	return g;
}

Graph *onnx_load(Ctx *c, const char *path)
{
	Loader *L = ctx_alloc(c, sizeof *L);
	L->c = c;
	L->fd = L->ext_fd = -1;
	pb_guard_init(&L->pb, c);
	if (!c->jmp)   /* nobody to unwind to: nothing to clean up either */
		return load(L, path);

	/* Release the mapping, the message and open files on error, then
	 * re-raise to the caller's handler. */
	jmp_buf *outer = c->jmp;
	jmp_buf here;
	int code = setjmp(here);
	if (code) {
		loader_release(L);
		c->jmp = outer;
		longjmp(*outer, code);
	}
	c->jmp = &here;
	Graph *g = load(L, path);
	loader_release(L);
	c->jmp = outer;
	return g;
}
