/*
 * test_onnx.c -- unit tests of the ONNX front end (onnx.c).
 *
 * Each test builds a small ModelProto with the protobuf-c C API, packs it into
 * a fresh temporary directory (mkdtemp under /tmp; external data files go next
 * to the model), loads it with onnx_load and checks the IR or the exact error
 * message.  Errors are caught with a local jmp_buf in c->jmp, as the driver does.
 */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "tostc.h"

/* ------------------------------------------------------------------ */
/* Building models                                                      */
/* ------------------------------------------------------------------ */

#define MAXP 512
#define MAXN 16

typedef struct {
	void *ptrs[MAXP];          /* everything calloc'd for the model */
	int nptrs;
	char dir[64];              /* the temporary directory */
	char path[128];            /* dir/model.onnx */
	Onnx__ModelProto m;
	Onnx__GraphProto g;
	Onnx__OperatorSetIdProto os;
	Onnx__OperatorSetIdProto *osp[1];
	Onnx__NodeProto *nodes[MAXN];
	Onnx__TensorProto *inits[MAXN];
	Onnx__ValueInfoProto *inputs[MAXN], *outputs[MAXN];
} Model;

static void *mnew(Model *b, size_t n)
{
	CU_ASSERT_FATAL(b->nptrs < MAXP);
	void *p = calloc(1, n);
	CU_ASSERT_FATAL(p != NULL);
	b->ptrs[b->nptrs++] = p;
	return p;
}

static char *mstr(Model *b, const char *s)
{
	char *d = mnew(b, strlen(s) + 1);
	strcpy(d, s);
	return d;
}

static void model_init(Model *b, int opset)
{
	memset(b, 0, sizeof *b);
	strcpy(b->dir, "/tmp/tostc_onnx_XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(b->dir) != NULL);
	snprintf(b->path, sizeof b->path, "%s/model.onnx", b->dir);
	onnx__model_proto__init(&b->m);
	onnx__graph_proto__init(&b->g);
	onnx__operator_set_id_proto__init(&b->os);
	b->m.has_ir_version = 1;
	b->m.ir_version = 8;
	b->m.graph = &b->g;
	b->g.name = "test_graph";
	b->os.domain = "";
	b->os.has_version = 1;
	b->os.version = opset;
	b->osp[0] = &b->os;
	b->m.opset_import = b->osp;
	b->m.n_opset_import = 1;
	b->g.node = b->nodes;
	b->g.initializer = b->inits;
	b->g.input = b->inputs;
	b->g.output = b->outputs;
}

static void rm_file(Model *b, const char *name)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", b->dir, name);
	unlink(p);
}

static void model_free(Model *b)
{
	rm_file(b, "model.onnx");
	rm_file(b, "weights.bin");
	rmdir(b->dir);
	for (int i = 0; i < b->nptrs; i++)
		free(b->ptrs[i]);
	b->nptrs = 0;
}

/* A graph input (or output when out) with element type dt; syms[i] non-NULL
 * makes axis i symbolic ("" for an unnamed dimension). */
static Onnx__ValueInfoProto *value_info(Model *b, const char *name, int dt, int rank,
                                        const int64_t *dims, const char *const *syms)
{
	Onnx__ValueInfoProto *vi = mnew(b, sizeof *vi);
	Onnx__TypeProto *tp = mnew(b, sizeof *tp);
	Onnx__TypeProto__Tensor *tt = mnew(b, sizeof *tt);
	Onnx__TensorShapeProto *sh = mnew(b, sizeof *sh);
	onnx__value_info_proto__init(vi);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sh);
	vi->name = mstr(b, name);
	vi->type = tp;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = dt;
	tt->shape = sh;
	sh->n_dim = (size_t)rank;
	sh->dim = mnew(b, (size_t)(rank + 1) * sizeof *sh->dim);
	for (int i = 0; i < rank; i++) {
		Onnx__TensorShapeProto__Dimension *d = mnew(b, sizeof *d);
		onnx__tensor_shape_proto__dimension__init(d);
		if (syms && syms[i]) {
			if (*syms[i]) {
				d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
				d->dim_param = mstr(b, syms[i]);
			}
		} else {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		}
		sh->dim[i] = d;
	}
	return vi;
}

static void add_input(Model *b, const char *name, int dt, int rank, const int64_t *dims,
                      const char *const *syms)
{
	b->inputs[b->g.n_input++] = value_info(b, name, dt, rank, dims, syms);
}

static void add_output(Model *b, const char *name)
{
	b->outputs[b->g.n_output++] = value_info(b, name, 1, 0, NULL, NULL);
}

/* A node; inputs and outputs are space separated, "-" for an empty name. */
static Onnx__NodeProto *add_node(Model *b, const char *op, const char *name, const char *ins,
                                 const char *outs)
{
	Onnx__NodeProto *n = mnew(b, sizeof *n);
	onnx__node_proto__init(n);
	n->op_type = mstr(b, op);
	n->name = name ? mstr(b, name) : NULL;
	for (int k = 0; k < 2; k++) {
		const char *list = k ? outs : ins;
		char **v = mnew(b, 8 * sizeof(char *));
		size_t cnt = 0;
		char buf[64];
		for (const char *p = list; p && *p;) {
			size_t len = strcspn(p, " ");
			snprintf(buf, sizeof buf, "%.*s", (int)len, p);
			v[cnt++] = mstr(b, strcmp(buf, "-") ? buf : "");
			p += len;
			while (*p == ' ')
				p++;
		}
		if (k) {
			n->output = v;
			n->n_output = cnt;
		} else {
			n->input = v;
			n->n_input = cnt;
		}
	}
	b->nodes[b->g.n_node++] = n;
	return n;
}

static Onnx__AttributeProto *add_attr(Model *b, Onnx__NodeProto *n, const char *name, int type)
{
	Onnx__AttributeProto *a = mnew(b, sizeof *a);
	onnx__attribute_proto__init(a);
	a->name = mstr(b, name);
	a->has_type = 1;
	a->type = type;
	Onnx__AttributeProto **v = mnew(b, (n->n_attribute + 1) * sizeof *v);
	if (n->n_attribute)
		memcpy(v, n->attribute, n->n_attribute * sizeof *v);
	v[n->n_attribute++] = a;
	n->attribute = v;
	return a;
}

static Onnx__TensorProto *new_tensor(Model *b, const char *name, int dt, int rank,
                                     const int64_t *dims)
{
	Onnx__TensorProto *t = mnew(b, sizeof *t);
	onnx__tensor_proto__init(t);
	t->name = name ? mstr(b, name) : NULL;
	t->has_data_type = 1;
	t->data_type = dt;
	t->n_dims = (size_t)rank;
	t->dims = mnew(b, (size_t)(rank + 1) * sizeof(int64_t));
	if (rank)
		memcpy(t->dims, dims, (size_t)rank * sizeof(int64_t));
	return t;
}

static Onnx__TensorProto *add_init(Model *b, const char *name, int dt, int rank,
                                   const int64_t *dims)
{
	Onnx__TensorProto *t = new_tensor(b, name, dt, rank, dims);
	b->inits[b->g.n_initializer++] = t;
	return t;
}

static void set_raw(Model *b, Onnx__TensorProto *t, const void *data, size_t len)
{
	t->has_raw_data = 1;
	t->raw_data.len = len;
	t->raw_data.data = mnew(b, len + 1);
	memcpy(t->raw_data.data, data, len);
}

static void set_external(Model *b, Onnx__TensorProto *t, const char *location,
                         const char *offset, const char *length)
{
	const char *keys[3] = {"location", "offset", "length"};
	const char *vals[3] = {location, offset, length};
	t->has_data_location = 1;
	t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	t->external_data = mnew(b, 3 * sizeof *t->external_data);
	for (int i = 0; i < 3; i++) {
		if (!vals[i])
			continue;
		Onnx__StringStringEntryProto *kv = mnew(b, sizeof *kv);
		onnx__string_string_entry_proto__init(kv);
		kv->key = mstr(b, keys[i]);
		kv->value = mstr(b, vals[i]);
		t->external_data[t->n_external_data++] = kv;
	}
}

static void write_bytes(Model *b, const char *name, const void *data, size_t len)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", b->dir, name);
	FILE *f = fopen(p, "wb");
	CU_ASSERT_FATAL(f != NULL);
	if (len)
		CU_ASSERT_FATAL(fwrite(data, 1, len, f) == len);
	fclose(f);
}

/* Pack the model; returns its bytes (owned by b) and writes model.onnx. */
static uint8_t *model_write(Model *b, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(&b->m.base);
	uint8_t *buf = mnew(b, n + 1);
	CU_ASSERT_FATAL(protobuf_c_message_pack(&b->m.base, buf) == n);
	write_bytes(b, "model.onnx", buf, n);
	if (len)
		*len = n;
	return buf;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */

/* Load path into c; NULL (and c->errmsg set) on a user error. */
static Graph *load(Ctx *c, const char *path)
{
	jmp_buf jb;
	Graph *volatile g = NULL;
	c->errmsg[0] = 0;
	c->jmp = &jb;
	if (setjmp(jb) == 0)
		g = onnx_load(c, path);
	c->jmp = NULL;
	return g;
}

/* The load must fail with a message containing `want`. */
static void expect_error(Model *b, const char *want)
{
	Ctx c;
	ctx_init(&c, b->path);
	Graph *g = load(&c, b->path);
	CU_ASSERT_PTR_NULL(g);
	if (!strstr(c.errmsg, want))
		printf("\n  expected error containing \"%s\"\n  got \"%s\"\n", want, c.errmsg);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.errmsg, want));
	ctx_free(&c);
}

/* Write the model; loading it must fail with `want`; free the model. */
static void expect_rejected(Model *b, const char *want)
{
	model_write(b, NULL);
	expect_error(b, want);
	model_free(b);
}

static Tensor *find(Graph *g, const char *name)
{
	Tensor *t = graph_tensor(g, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

enum { F32 = 1, I32 = 6, I64 = 7, BOOL = 9, DOUBLE = 11 };

/* A model computing y = x + w for x, w: f32[2, 3] with w an initializer. */
static void model_add(Model *b, int opset)
{
	static const int64_t d23[2] = {2, 3};
	model_init(b, opset);
	add_input(b, "x", F32, 2, d23, NULL);
	add_node(b, "Add", "add0", "x w", "y");
	add_output(b, "y");
}

static const float W[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.125f, 1e30f};
static const int64_t D23[2] = {2, 3};

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

/* The same weights stored as raw_data, float_data and external data load
 * into identical tensors; i64/i32/bool in raw and typed forms too. */
static void test_initializer_forms(void)
{
	Model b;
	model_init(&b, 17);
	add_input(&b, "x", F32, 2, D23, NULL);
	add_node(&b, "Add", "a0", "x w_raw", "a");
	add_node(&b, "Add", "a1", "a w_typed", "b");
	add_node(&b, "Add", "a2", "b w_ext", "y");
	add_output(&b, "y");
	set_raw(&b, add_init(&b, "w_raw", F32, 2, D23), W, sizeof W);
	Onnx__TensorProto *t = add_init(&b, "w_typed", F32, 2, D23);
	t->n_float_data = 6;
	t->float_data = mnew(&b, sizeof W);
	memcpy(t->float_data, W, sizeof W);
	/* external: 16 bytes of padding, then the weights */
	uint8_t file[16 + sizeof W];
	memset(file, 0xAB, 16);
	memcpy(file + 16, W, sizeof W);
	write_bytes(&b, "weights.bin", file, sizeof file);
	set_external(&b, add_init(&b, "w_ext", F32, 2, D23), "weights.bin", "16", "24");
	/* other element types, not used by nodes */
	static const int64_t I64V[3] = {-1, 1LL << 40, 7};
	static const int64_t d3[1] = {3};
	set_raw(&b, add_init(&b, "i64_raw", I64, 1, d3), I64V, sizeof I64V);
	t = add_init(&b, "i64_typed", I64, 1, d3);
	t->n_int64_data = 3;
	t->int64_data = mnew(&b, sizeof I64V);
	memcpy(t->int64_data, I64V, sizeof I64V);
	static const int32_t I32V[3] = {-5, 0, 2147483647};
	t = add_init(&b, "i32_typed", I32, 1, d3);
	t->n_int32_data = 3;
	t->int32_data = mnew(&b, sizeof I32V);
	memcpy(t->int32_data, I32V, sizeof I32V);
	set_raw(&b, add_init(&b, "i32_raw", I32, 1, d3), I32V, sizeof I32V);
	static const int32_t BV[3] = {0, 2, 1};
	t = add_init(&b, "b_typed", BOOL, 1, d3);
	t->n_int32_data = 3;
	t->int32_data = mnew(&b, sizeof BV);
	memcpy(t->int32_data, BV, sizeof BV);
	static const uint8_t BR[3] = {1, 0, 5};
	set_raw(&b, add_init(&b, "b_raw", BOOL, 1, d3), BR, sizeof BR);
	add_init(&b, "empty", I64, 1, (const int64_t[]){0});   /* zero elements, no data */
	set_raw(&b, add_init(&b, "scalar", F32, 0, NULL), &W[2], 4);
	model_write(&b, NULL);

	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	if (!g)
		printf("\n  unexpected error: %s\n", c.errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	const char *names[3] = {"w_raw", "w_typed", "w_ext"};
	for (int i = 0; i < 3; i++) {
		Tensor *w = find(g, names[i]);
		CU_ASSERT_EQUAL(w->kind, TK_CONST);
		CU_ASSERT_EQUAL(w->dtype, DT_F32);
		CU_ASSERT_EQUAL(w->rank, 2);
		CU_ASSERT_EQUAL(w->dims[0], 2);
		CU_ASSERT_EQUAL(w->dims[1], 3);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w->data);
		CU_ASSERT_EQUAL(memcmp(w->data, W, sizeof W), 0);
	}
	Tensor *a = find(g, "i64_raw"), *bb = find(g, "i64_typed");
	CU_ASSERT_EQUAL(a->dtype, DT_I64);
	CU_ASSERT_EQUAL(memcmp(a->data, I64V, sizeof I64V), 0);
	CU_ASSERT_EQUAL(memcmp(bb->data, I64V, sizeof I64V), 0);
	a = find(g, "i32_raw"), bb = find(g, "i32_typed");
	CU_ASSERT_EQUAL(a->dtype, DT_I32);
	CU_ASSERT_EQUAL(memcmp(a->data, I32V, sizeof I32V), 0);
	CU_ASSERT_EQUAL(memcmp(bb->data, I32V, sizeof I32V), 0);
	a = find(g, "b_typed"), bb = find(g, "b_raw");
	CU_ASSERT_EQUAL(a->dtype, DT_BOOL);
	const uint8_t *ba = a->data, *bbr = bb->data;
	CU_ASSERT(ba[0] == 0 && ba[1] == 1 && ba[2] == 1);   /* normalised to 0/1 */
	CU_ASSERT(bbr[0] == 1 && bbr[1] == 0 && bbr[2] == 1);
	a = find(g, "empty");
	CU_ASSERT(a->kind == TK_CONST && a->rank == 1 && a->dims[0] == 0 && a->data != NULL);
	a = find(g, "scalar");
	CU_ASSERT(a->rank == 0 && *(float *)a->data == 3.25f);
	/* inputs, nodes, outputs */
	CU_ASSERT_EQUAL(g->ninputs, 1);
	CU_ASSERT_STRING_EQUAL(g->inputs[0]->name, "x");
	CU_ASSERT_EQUAL(g->inputs[0]->kind, TK_INPUT);
	CU_ASSERT_EQUAL(g->nnodes, 3);
	CU_ASSERT_EQUAL(g->nodes[2]->op, OP_ADD);
	CU_ASSERT_EQUAL(g->nodes[2]->in[1], find(g, "w_ext"));
	CU_ASSERT_EQUAL(g->noutputs, 1);
	CU_ASSERT_PTR_EQUAL(g->outputs[0], find(g, "y"));
	CU_ASSERT(g->outputs[0]->is_output && g->outputs[0]->kind == TK_VALUE);
	CU_ASSERT_PTR_EQUAL(g->outputs[0]->producer, g->nodes[2]);
	CU_ASSERT_STRING_EQUAL(g->name, "test_graph");
	CU_ASSERT_EQUAL(g->opset, 17);
	ctx_free(&c);
	model_free(&b);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The source hash covers the model file and the external data it reads. */
static void test_source_hash(void)
{
	Model b;
	model_add(&b, 17);
	uint8_t file[8 + sizeof W];
	memset(file, 7, 8);
	memcpy(file + 8, W, sizeof W);
	write_bytes(&b, "weights.bin", file, sizeof file);
	set_external(&b, add_init(&b, "w", F32, 2, D23), "weights.bin", "8", NULL);
	size_t len;
	uint8_t *bytes = model_write(&b, &len);
	uint64_t want = fnv(fnv(0xcbf29ce484222325ull, bytes, len), file + 8, sizeof W);
	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->source_hash, want);
	ctx_free(&c);
	file[12] ^= 1;   /* a changed weight changes the hash; the padding does not count */
	file[0] ^= 1;
	write_bytes(&b, "weights.bin", file, sizeof file);
	ctx_init(&c, b.path);
	g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_NOT_EQUAL(g->source_hash, want);
	CU_ASSERT_EQUAL(g->source_hash, fnv(fnv(0xcbf29ce484222325ull, bytes, len), file + 8,
	                                    sizeof W));
	ctx_free(&c);
	model_free(&b);
}

/* Malformed initializers: every one is an error naming the tensor. */
static void test_initializer_errors(void)
{
	Model b;
	model_add(&b, 17);
	set_raw(&b, add_init(&b, "w", F32, 2, D23), W, sizeof W - 4);
	expect_rejected(&b, "initializer 'w': raw_data is 20 bytes, but the dims need 24");

	model_add(&b, 17);
	Onnx__TensorProto *t = add_init(&b, "w", F32, 2, D23);
	t->n_float_data = 5;
	t->float_data = mnew(&b, sizeof W);
	expect_rejected(&b, "initializer 'w': float_data holds 5 elements, but the dims need 6");

	/* DOUBLE constants are accepted only as the input of Cast(to=FLOAT) */
	model_add(&b, 17);
	t = add_init(&b, "w", DOUBLE, 2, D23);
	t->n_double_data = 6;
	t->double_data = mnew(&b, 6 * sizeof(double));
	expect_rejected(&b, "node 'add0' (Add, #0): reads 'w', a DOUBLE constant");

	model_add(&b, 17);
	t = add_init(&b, "w", DOUBLE, 2, D23);
	t->n_double_data = 3;
	t->double_data = mnew(&b, 6 * sizeof(double));
	expect_rejected(&b, "initializer 'w': double_data holds 3 elements, but the dims need 6");

	model_add(&b, 17);
	add_init(&b, "w", F32, 2, (const int64_t[]){2, -3});
	expect_rejected(&b, "initializer 'w' has negative dimension -3 at axis 1");

	/* dims whose product overflows int64 */
	model_add(&b, 17);
	add_init(&b, "w", F32, 3, (const int64_t[]){1LL << 40, 1LL << 40, 1LL << 40});
	expect_rejected(&b, "");

	/* external data: bad paths, wrong lengths, past the end */
	static const struct { const char *loc, *off, *len, *want; } ext[] = {
		{"/etc/passwd", NULL, NULL, "is an absolute path"},
		{"../weights.bin", NULL, NULL, "leaves the model's directory"},
		{"sub/../../weights.bin", NULL, NULL, "leaves the model's directory"},
		{"weights.bin", "0", "20", "external data length is 20 bytes, but the dims need 24"},
		{"weights.bin", "8", NULL, "is past its end"},
		{"weights.bin", "-1", NULL, "not a non-negative integer"},
		{"missing.bin", NULL, NULL, "cannot open external data"},
		{"", NULL, NULL, "external data has no location"},
	};
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		model_add(&b, 17);
		write_bytes(&b, "weights.bin", W, sizeof W);
		set_external(&b, add_init(&b, "w", F32, 2, D23), ext[i].loc, ext[i].off, ext[i].len);
		expect_rejected(&b, ext[i].want);
	}
}

static void test_opset(void)
{
	Model b;
	model_add(&b, 11);
	set_raw(&b, add_init(&b, "w", F32, 2, D23), W, sizeof W);
	model_write(&b, NULL);
	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->opset, 11);
	ctx_free(&c);
	/* the domain may also be spelled ai.onnx; other domains are ignored */
	Onnx__OperatorSetIdProto ml = ONNX__OPERATOR_SET_ID_PROTO__INIT, *two[2] = {&ml, &b.os};
	ml.domain = "ai.onnx.ml";
	ml.has_version = 1;
	ml.version = 3;
	b.os.domain = "ai.onnx";
	b.os.version = 13;
	b.m.opset_import = two;
	b.m.n_opset_import = 2;
	model_write(&b, NULL);
	ctx_init(&c, b.path);
	g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->opset, 13);
	ctx_free(&c);
	b.os.version = 22;
	model_write(&b, NULL);
	expect_error(&b, "the model uses ONNX opset 22; tostc supports opsets 7 to 21");
	b.os.version = 6;
	model_write(&b, NULL);
	expect_error(&b, "the model uses ONNX opset 6; tostc supports opsets 7 to 21");
	b.m.opset_import = &two[0];
	b.m.n_opset_import = 1;
	expect_rejected(&b, "imports no opset of the default ONNX domain");
}

static void test_symbolic_dims(void)
{
	Model b;
	model_init(&b, 17);
	const char *syms[3] = {"batch", "seq", NULL};
	add_input(&b, "x", F32, 3, (const int64_t[]){0, 0, 4}, syms);
	add_input(&b, "m", F32, 2, (const int64_t[]){0, 0}, (const char *[]){"seq", ""});
	add_node(&b, "Relu", NULL, "x", "y");
	add_output(&b, "y");
	model_write(&b, NULL);

	Ctx c;
	ctx_init(&c, b.path);
	c.dims[0] = (DimBinding){"seq", 7, false};
	c.dims[1] = (DimBinding){"batch", 2, false};
	c.dims[2] = (DimBinding){"m:1", 5, false};
	c.ndims = 3;
	Graph *g = load(&c, b.path);
	if (!g)
		printf("\n  unexpected error: %s\n", c.errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	Tensor *x = find(g, "x"), *m = find(g, "m");
	CU_ASSERT(x->rank == 3 && x->dims[0] == 2 && x->dims[1] == 7 && x->dims[2] == 4);
	CU_ASSERT(m->rank == 2 && m->dims[0] == 7 && m->dims[1] == 5);
	CU_ASSERT(x->shape_known && x->dtype == DT_F32);
	CU_ASSERT(c.dims[0].used && c.dims[1].used && c.dims[2].used);
	CU_ASSERT_EQUAL(g->ninputs, 2);
	CU_ASSERT_PTR_EQUAL(g->inputs[0], x);
	CU_ASSERT_PTR_EQUAL(g->inputs[1], m);
	ctx_free(&c);

	/* nothing bound: one message listing every name */
	expect_error(&b, "unbound symbolic dimensions: batch, seq, m:1 (bind them with --dim "
	             "NAME=VALUE; an unnamed dimension is called INPUT:AXIS)");

	/* a binding that matches nothing */
	ctx_init(&c, b.path);
	c.dims[0] = (DimBinding){"seq", 7, false};
	c.dims[1] = (DimBinding){"batch", 2, false};
	c.dims[2] = (DimBinding){"m:1", 5, false};
	c.dims[3] = (DimBinding){"foo", 5, false};
	c.ndims = 4;
	CU_ASSERT_PTR_NULL(load(&c, b.path));
	CU_ASSERT_STRING_EQUAL(c.errmsg, ctx_printf(&c, "%s: error: --dim foo: the model has no symbolic "
	                       "dimension 'foo'; it has: batch, seq, m:1", b.path));
	ctx_free(&c);
	model_free(&b);

	model_init(&b, 17);
	add_input(&b, "x", F32, 2, (const int64_t[]){3, 0}, NULL);
	add_node(&b, "Relu", NULL, "x", "y");
	add_output(&b, "y");
	model_write(&b, NULL);
	expect_error(&b, "graph input 'x' has dimension 0 at axis 1; dimensions must be positive");
	b.inputs[0]->type->tensor_type->elem_type = DOUBLE;
	expect_rejected(&b, "graph input 'x' has element type DOUBLE");
}

static void test_unsupported_op(void)
{
	Model b;
	model_add(&b, 17);
	set_raw(&b, add_init(&b, "w", F32, 2, D23), W, sizeof W);
	add_node(&b, "Foo", "foo1", "y", "z");
	model_write(&b, NULL);
	Ctx c;
	ctx_init(&c, b.path);
	CU_ASSERT_PTR_NULL(load(&c, b.path));
	CU_ASSERT_STRING_EQUAL(c.errmsg, ctx_printf(&c, "%s: error: 1 unsupported op in 1 node "
	                       "(opset 17): Foo: 1 node, first node 'foo1' (Foo, #1); `tostc "
	                       "--list-ops` lists the supported ops", b.path));
	ctx_free(&c);
	b.nodes[1]->name = NULL;
	model_write(&b, NULL);
	expect_error(&b, "Foo: 1 node, first node #1 (Foo)");
	b.nodes[1]->op_type = "TSSA";   /* internal ops are not ONNX ops */
	model_write(&b, NULL);
	expect_error(&b, "TSSA: 1 node, first node #1 (TSSA)");
	b.nodes[1]->op_type = "Relu";
	b.nodes[1]->domain = "com.microsoft";
	model_write(&b, NULL);
	expect_error(&b, "Relu (domain 'com.microsoft'): 1 node, first node #1 (Relu)");
	b.nodes[1]->domain = NULL;
	b.nodes[1]->n_input = 0;
	expect_rejected(&b, "node #1 (Relu): has 0 inputs; Relu takes 1");
}

static void test_bad_files(void)
{
	Model b;
	model_add(&b, 17);
	set_raw(&b, add_init(&b, "w", F32, 2, D23), W, sizeof W);
	size_t len;
	uint8_t *bytes = model_write(&b, &len);

	/* the source hash is FNV-1a 64 of the file */
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ bytes[i]) * 0x100000001b3ull;
	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->source_hash, h);
	ctx_free(&c);

	/* every truncation is rejected or loads; most are protobuf errors */
	int parse_errors = 0;
	for (size_t n = 1; n < len; n++) {
		write_bytes(&b, "model.onnx", bytes, n);
		ctx_init(&c, b.path);
		g = load(&c, b.path);
		CU_ASSERT(g != NULL || c.errmsg[0] != 0);
		if (!g && strstr(c.errmsg, "not a valid ONNX model (protobuf parse failed)"))
			parse_errors++;
		ctx_free(&c);
	}
	CU_ASSERT(parse_errors > (int)len / 2);

	/* random bytes, and random corruptions of the valid file */
	uint64_t s = 12345;
	uint8_t buf[512];
	for (int k = 0; k < 400; k++) {
		size_t n = 1 + (size_t)(k * 7 % (int)sizeof buf);
		if (k % 2 && n > len)
			n = len;
		for (size_t i = 0; i < n; i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			buf[i] = k % 2 ? bytes[i] : (uint8_t)(s >> 56);
		}
		if (k % 2)
			buf[(s >> 20) % n] ^= (uint8_t)(1u << ((s >> 40) % 8));
		write_bytes(&b, "model.onnx", buf, n);
		ctx_init(&c, b.path);
		g = load(&c, b.path);
		if (k % 2 == 0)
			CU_ASSERT_PTR_NULL(g);   /* random bytes: never a model with a graph */
		CU_ASSERT(g != NULL || c.errmsg[0] != 0);
		ctx_free(&c);
	}

	write_bytes(&b, "model.onnx", "", 0);
	expect_error(&b, "is empty, not an ONNX model");
	rm_file(&b, "model.onnx");
	ctx_init(&c, b.path);
	CU_ASSERT_PTR_NULL(load(&c, b.path));
	CU_ASSERT_STRING_EQUAL(c.errmsg, ctx_printf(&c, "%s: error: cannot open '%s': No such file or "
	                       "directory", b.path, b.path));
	ctx_free(&c);
	/* a valid protobuf with no graph */
	Onnx__ModelProto empty = ONNX__MODEL_PROTO__INIT;
	empty.has_ir_version = 1;
	empty.ir_version = 8;
	uint8_t eb[16];
	size_t en = protobuf_c_message_pack(&empty.base, eb);
	write_bytes(&b, "model.onnx", eb, en);
	expect_error(&b, "the model has no graph");
	model_free(&b);
}

/* Nodes out of order are sorted; cycles, undefined inputs, duplicate names
 * and missing outputs are errors. */
static void test_graph_structure(void)
{
	Model b;
	model_init(&b, 17);
	add_input(&b, "x", F32, 2, D23, NULL);
	add_node(&b, "Relu", "r2", "b", "y");
	add_node(&b, "Neg", "r1", "a", "b");
	add_node(&b, "Abs", "r0", "x", "a");
	add_output(&b, "y");
	add_output(&b, "x");   /* an output may name an input directly */
	model_write(&b, NULL);
	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL_FATAL(g->nnodes, 3);
	CU_ASSERT_STRING_EQUAL(g->nodes[0]->name, "r0");
	CU_ASSERT_STRING_EQUAL(g->nodes[1]->name, "r1");
	CU_ASSERT_STRING_EQUAL(g->nodes[2]->name, "r2");
	CU_ASSERT_EQUAL(g->nodes[0]->index, 2);
	CU_ASSERT_EQUAL(g->nodes[2]->index, 0);
	CU_ASSERT_STRING_EQUAL(g->nodes[2]->src_op, "Relu");
	CU_ASSERT_EQUAL(g->nodes[0]->op, OP_ABS);
	CU_ASSERT_EQUAL(g->noutputs, 2);
	CU_ASSERT(g->outputs[1]->kind == TK_INPUT && g->outputs[1]->is_output);
	ctx_free(&c);

	b.nodes[2]->input[0] = "y";   /* r0 now reads r2's output: a cycle */
	model_write(&b, NULL);
	expect_error(&b, "the graph has a cycle through tensor");
	b.nodes[2]->input[0] = "nowhere";
	model_write(&b, NULL);
	expect_error(&b, "node 'r0' (Abs, #2): input 'nowhere' is not produced by any node and is "
	             "neither a graph input nor an initializer");
	b.nodes[2]->input[0] = "x";
	b.nodes[2]->output[0] = "b";
	model_write(&b, NULL);
	expect_error(&b, "node 'r0' (Abs, #2): output 'b' is already the output of another node");
	b.nodes[2]->output[0] = "x";
	model_write(&b, NULL);
	expect_error(&b, "output 'x' is already a graph input");
	b.nodes[2]->output[0] = "a";
	b.outputs[1]->name = "ghost";
	expect_rejected(&b, "graph output 'ghost' is not produced by any node");
}

/* Attributes of every kind; Constant's tensor; optional inputs and outputs. */
static void test_attributes(void)
{
	Model b;
	model_init(&b, 13);
	add_input(&b, "x", F32, 2, D23, NULL);
	Onnx__NodeProto *k = add_node(&b, "Constant", "k", "", "kc");
	Onnx__AttributeProto *a = add_attr(&b, k, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
	a->t = new_tensor(&b, NULL, I64, 1, (const int64_t[]){2});
	set_raw(&b, a->t, (const int64_t[]){3, 2}, 16);
	Onnx__NodeProto *s = add_node(&b, "Split", "sp", "x", "s0 - s2");
	a = add_attr(&b, s, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = -1;
	Onnx__NodeProto *cl = add_node(&b, "Clip", NULL, "s0 - cmax", "y");
	a = add_attr(&b, cl, "ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	a->n_ints = 3;
	a->ints = mnew(&b, 3 * sizeof(int64_t));
	a->ints[0] = 4, a->ints[1] = -5, a->ints[2] = 6;
	a = add_attr(&b, cl, "fl", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
	a->has_f = 1;
	a->f = 0.5f;
	a = add_attr(&b, cl, "str", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	a->has_s = 1;
	a->s.data = (uint8_t *)"NOTSET";
	a->s.len = 6;
	a = add_attr(&b, cl, "g", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
	set_raw(&b, add_init(&b, "cmax", F32, 0, NULL), &W[0], 4);
	add_node(&b, "Reshape", "r", "y kc", "z");
	add_output(&b, "z");
	model_write(&b, NULL);

	Ctx c;
	ctx_init(&c, b.path);
	Graph *g = load(&c, b.path);
	if (!g)
		printf("\n  unexpected error: %s\n", c.errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL_FATAL(g->nnodes, 4);
	Node *kn = g->nodes[0], *sn = g->nodes[1], *cn = g->nodes[2];
	CU_ASSERT_EQUAL(kn->op, OP_CONSTANT);
	CU_ASSERT_EQUAL(kn->nin, 0);
	const Attr *at = attr_find(kn, "value");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	CU_ASSERT_EQUAL(at->kind, AT_TENSOR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at->t);
	CU_ASSERT(at->t->kind == TK_CONST && at->t->dtype == DT_I64 && at->t->rank == 1);
	CU_ASSERT(((int64_t *)at->t->data)[0] == 3 && ((int64_t *)at->t->data)[1] == 2);
	CU_ASSERT(at->t != kn->out[0]);
	at = attr_find(sn, "axis");
	CU_ASSERT(at && at->kind == AT_INT && at->i == -1);
	/* Split's omitted middle output gets a fresh, unique name */
	CU_ASSERT_EQUAL_FATAL(sn->nout, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sn->out[1]);
	CU_ASSERT(strcmp(sn->out[1]->name, "s0") && strcmp(sn->out[1]->name, "s2") &&
	          *sn->out[1]->name);
	CU_ASSERT_PTR_EQUAL(sn->out[1]->producer, sn);
	CU_ASSERT_PTR_EQUAL(graph_tensor(g, sn->out[1]->name), sn->out[1]);
	/* Clip's omitted min is NULL */
	CU_ASSERT_STRING_EQUAL(cn->name, "");
	CU_ASSERT_EQUAL(cn->nin, 3);
	CU_ASSERT_PTR_NULL(cn->in[1]);
	CU_ASSERT_PTR_EQUAL(cn->in[2], find(g, "cmax"));
	at = attr_find(cn, "ints");
	CU_ASSERT(at && at->kind == AT_INTS && at->n == 3 && at->ints[1] == -5);
	at = attr_find(cn, "fl");
	CU_ASSERT(at && at->kind == AT_FLOAT && at->f == 0.5f);
	at = attr_find(cn, "str");
	CU_ASSERT(at && at->kind == AT_STRING && strcmp(at->s, "NOTSET") == 0);
	at = attr_find(cn, "g");
	CU_ASSERT(at && at->kind == AT_OTHER);
	CU_ASSERT_PTR_EQUAL(g->nodes[3]->in[1], kn->out[0]);
	ctx_free(&c);
	model_free(&b);

	/* trailing empty names are omitted optionals, even past the op's maximum */
	model_init(&b, 13);
	add_input(&b, "x", F32, 2, D23, NULL);
	add_node(&b, "Clip", NULL, "x - -", "c");
	add_node(&b, "Relu", NULL, "c", "y - -");
	add_output(&b, "y");
	model_write(&b, NULL);
	ctx_init(&c, b.path);
	g = load(&c, b.path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->nodes[0]->nin, 1);
	CU_ASSERT_EQUAL(g->nodes[1]->nout, 1);
	ctx_free(&c);
	b.nodes[1]->output[2] = "z";   /* a real third output is an error */
	expect_rejected(&b, "node #1 (Relu): has 3 outputs; tostc's Relu produces 1");
}

void register_onnx(void)
{
	CU_pSuite s = CU_add_suite("onnx", NULL, NULL);
	CU_add_test(s, "initializer storage forms", test_initializer_forms);
	CU_add_test(s, "initializer errors", test_initializer_errors);
	CU_add_test(s, "source hash", test_source_hash);
	CU_add_test(s, "opset", test_opset);
	CU_add_test(s, "symbolic dims", test_symbolic_dims);
	CU_add_test(s, "unsupported op", test_unsupported_op);
	CU_add_test(s, "bad files", test_bad_files);
	CU_add_test(s, "graph structure", test_graph_structure);
	CU_add_test(s, "attributes", test_attributes);
}
