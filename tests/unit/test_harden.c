/*
 * test_harden.c -- the input limits of docs/reliability.md: every one is
 * refused with an error naming it, quickly, without the memory or time the
 * input asks for.  ONNX models are built with the protobuf-c API and written
 * to a temporary directory; DSL sources are strings; IR-level limits use
 * small graphs built directly.
 */
#define _DEFAULT_SOURCE   /* mkdtemp, setenv, mkfifo */
#include <CUnit/Basic.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "tostc.h"
#include "elementwise/unary.h"

static char dir[64];
static char msg[4096];

#define ASSERT_CONTAINS(m, part)                                                           \
	do {                                                                                   \
		const char *m_ = (m);                                                              \
		CU_ASSERT_PTR_NOT_NULL_FATAL(m_);                                                  \
		if (!strstr(m_, (part))) {                                                         \
			fprintf(stderr, "\n  expected to contain: %s\n  got: %s\n", (part), m_);       \
			CU_FAIL("message content");                                                    \
		}                                                                                  \
	} while (0)

/* ---- ONNX models: one graph input or initializer, one Relu ---- */

typedef struct {
	Onnx__ModelProto m;
	Onnx__GraphProto g;
	Onnx__OperatorSetIdProto os, *osp[1];
	Onnx__NodeProto node, *nodes[1];
	Onnx__ValueInfoProto in, out, *ins[1], *outs[1];
	Onnx__TypeProto type;
	Onnx__TypeProto__Tensor tt;
	Onnx__TensorShapeProto shape;
	Onnx__TensorShapeProto__Dimension dim[MAX_RANK + 2], *dimp[MAX_RANK + 2];
	Onnx__TensorProto init, *inits[1];
	int64_t idims[MAX_RANK + 2];
	char *node_in[1], *node_out[1];
} Mini;

/* x (the input, or an initializer when as_init) -> Relu -> y */
static void mini(Mini *b, bool as_init, int rank, const int64_t *dims)
{
	memset(b, 0, sizeof *b);
	onnx__model_proto__init(&b->m);
	onnx__graph_proto__init(&b->g);
	onnx__operator_set_id_proto__init(&b->os);
	onnx__node_proto__init(&b->node);
	onnx__value_info_proto__init(&b->in);
	onnx__value_info_proto__init(&b->out);
	b->m.has_ir_version = 1;
	b->m.ir_version = 8;
	b->m.graph = &b->g;
	b->os.has_version = 1;
	b->os.version = 13;
	b->os.domain = "";
	b->osp[0] = &b->os;
	b->m.opset_import = b->osp;
	b->m.n_opset_import = 1;
	b->node.op_type = "Relu";
	b->node_in[0] = "x";
	b->node_out[0] = "y";
	b->node.input = b->node_in;
	b->node.n_input = 1;
	b->node.output = b->node_out;
	b->node.n_output = 1;
	b->nodes[0] = &b->node;
	b->g.node = b->nodes;
	b->g.n_node = 1;
	b->out.name = "y";
	b->outs[0] = &b->out;
	b->g.output = b->outs;
	b->g.n_output = 1;
	if (as_init) {
		onnx__tensor_proto__init(&b->init);
		b->init.name = "x";
		b->init.has_data_type = 1;
		b->init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
		memcpy(b->idims, dims, sizeof(int64_t) * (size_t)rank);
		b->init.dims = b->idims;
		b->init.n_dims = (size_t)rank;
		b->inits[0] = &b->init;
		b->g.initializer = b->inits;
		b->g.n_initializer = 1;
		return;
	}
	onnx__type_proto__init(&b->type);
	onnx__type_proto__tensor__init(&b->tt);
	onnx__tensor_shape_proto__init(&b->shape);
	b->tt.has_elem_type = 1;
	b->tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	for (int i = 0; i < rank; i++) {
		onnx__tensor_shape_proto__dimension__init(&b->dim[i]);
		b->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
		b->dim[i].dim_value = dims[i];
		b->dimp[i] = &b->dim[i];
	}
	b->shape.dim = b->dimp;
	b->shape.n_dim = (size_t)rank;
	b->tt.shape = &b->shape;
	b->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	b->type.tensor_type = &b->tt;
	b->in.name = "x";
	b->in.type = &b->type;
	b->ins[0] = &b->in;
	b->g.input = b->ins;
	b->g.n_input = 1;
}

static const char *write_model(Mini *b)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	size_t n = protobuf_c_message_get_packed_size(&b->m.base);
	uint8_t *buf = malloc(n);
	protobuf_c_message_pack(&b->m.base, buf);
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
	free(buf);
	return path;
}

/* Compile (load + every pass) a model file; NULL or the error message. */
static const char *compile_err(const char *path)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, path);
	c.jmp = &jb;
	const char *r = NULL;
	if (setjmp(jb) == 0) {
		Graph *g = strstr(path, ".tost") ? dsl_load(&c, path) : onnx_load(&c, path);
		pipeline_run(g, NULL, NULL);
	} else {
		snprintf(msg, sizeof msg, "%s", c.errmsg);
		r = msg;
	}
	ctx_free(&c);
	return r;
}

/* An initializer whose dims promise 4 TiB but holds no data is refused
 * before anything that size is allocated (it used to be zeroed first). */
static void test_onnx_huge_initializer(void)
{
	Mini b;
	int64_t d[2] = {(int64_t)1 << 20, (int64_t)1 << 20};
	mini(&b, true, 2, d);
	ASSERT_CONTAINS(compile_err(write_model(&b)),
	                "initializer 'x': float_data holds 0 elements, but the dims need 1099511627776");
	/* raw_data of the wrong length: the same, before allocation */
	uint8_t raw[8] = {0};
	b.init.has_raw_data = 1;
	b.init.raw_data.data = raw;
	b.init.raw_data.len = 8;
	ASSERT_CONTAINS(compile_err(write_model(&b)),
	                "raw_data is 8 bytes, but the dims need 4398046511104");
}

/* Graph input dims whose product overflows int64 (UB in tensor_nelem). */
static void test_onnx_input_overflow(void)
{
	Mini b;
	int64_t d[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 4};
	mini(&b, false, 3, d);
	ASSERT_CONTAINS(compile_err(write_model(&b)),
	                "graph input 'x' is too large: its element count overflows");
	int64_t r9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	mini(&b, false, 9, r9);
	ASSERT_CONTAINS(compile_err(write_model(&b)), "graph input 'x' has rank 9; tostc supports at most 8");
}

/* Raw protobuf bytes (tag, length-delimited payload). */
static size_t pb_field(uint8_t *out, int num, const uint8_t *payload, size_t len)
{
	size_t k = 0;
	out[k++] = (uint8_t)(num << 3 | 2);
	for (size_t v = len;; v >>= 7) {
		out[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	memmove(out + k, payload, len);
	return k + len;
}

static const char *write_bytes(const uint8_t *b, size_t n)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	FILE *f = fopen(path, "wb");
	fwrite(b, 1, n, f);
	fclose(f);
	return path;
}

/* Messages nested 3000 deep (graph > node > attribute > graph ...) crashed
 * protobuf-c's recursive unpacker (stack overflow) before tostc saw them. */
static void test_onnx_nesting(void)
{
	size_t cap = 1 << 20, n = 0;
	uint8_t *a = calloc(1, cap), *b = calloc(1, cap);
	for (int i = 0; i < 3000; i++) {
		size_t k = pb_field(b, 1, (const uint8_t *)"a", 1);   /* AttributeProto.name */
		k += pb_field(b + k, 6, a, n);                         /* AttributeProto.g */
		n = pb_field(a, 5, b, k);                              /* NodeProto.attribute */
		n = pb_field(b, 1, a, n);                              /* GraphProto.node */
		memcpy(a, b, n);
	}
	n = pb_field(b, 7, a, n);                                  /* ModelProto.graph */
	ASSERT_CONTAINS(compile_err(write_bytes(b, n)),
	                "the model nests protobuf messages more than 32 deep");
	free(a);
	free(b);
}

/* 300000 empty nodes: 600 KB of file, ~50 MB once unpacked by protobuf-c;
 * its allocations count against TOSTC_MAX_MEMORY. */
static void test_onnx_unpack_memory(void)
{
	size_t n = 300000;
	uint8_t *g = malloc(2 * n + 16), *m = malloc(2 * n + 32);
	for (size_t i = 0; i < n; i++)
		g[2 * i] = 0x0a, g[2 * i + 1] = 0;   /* GraphProto.node = {} */
	size_t k = pb_field(m, 7, g, 2 * n);
	setenv("TOSTC_MAX_MEMORY", "16777216", 1);   /* 16 MiB */
	ASSERT_CONTAINS(compile_err(write_bytes(m, k)),
	                "unpacking the protobuf needs more than 16 MiB, the memory limit");
	unsetenv("TOSTC_MAX_MEMORY");
	/* within the default limit it unpacks, and fails on what it is */
	ASSERT_CONTAINS(compile_err(write_bytes(m, k)), "imports no opset");
	free(g);
	free(m);
}

/* A model whose intermediate tensor needs 4 TiB of workspace. */
static void test_workspace_limit(void)
{
	Mini b;
	int64_t d[2] = {(int64_t)1 << 20, (int64_t)1 << 20};
	mini(&b, false, 2, d);
	/* x -> Relu -> t -> Relu -> y: t lives in the arena */
	Onnx__NodeProto n2, *nodes[2];
	onnx__node_proto__init(&n2);
	char *i2[1] = {"t"}, *o2[1] = {"y"};
	b.node_out[0] = "t";
	n2.op_type = "Relu";
	n2.input = i2;
	n2.n_input = 1;
	n2.output = o2;
	n2.n_output = 1;
	nodes[0] = &b.node;
	nodes[1] = &n2;
	b.g.node = nodes;
	b.g.n_node = 2;
	ASSERT_CONTAINS(compile_err(write_model(&b)),
	                "needs a workspace of 4398046511104 bytes for its intermediate tensors; "
	                "tostc's limit is 1099511627776");
}

/* Input files that are not regular files are refused without blocking. */
static void test_not_regular_files(void)
{
	char fifo[128];
	snprintf(fifo, sizeof fifo, "%s/fifo.onnx", dir);
	CU_ASSERT_FATAL(mkfifo(fifo, 0600) == 0);
	ASSERT_CONTAINS(compile_err(fifo), "not a regular file");
	snprintf(fifo, sizeof fifo, "%s/fifo.tost", dir);
	CU_ASSERT_FATAL(mkfifo(fifo, 0600) == 0);
	ASSERT_CONTAINS(compile_err(fifo), "not a regular file");
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "w");
	c.jmp = &jb;
	if (setjmp(jb) == 0) {
		safetensors_open(&c, "/dev/null");
		CU_FAIL("/dev/null accepted as a weights file");
	} else {
		ASSERT_CONTAINS(c.errmsg, "cannot open weights file '/dev/null': not a regular file");
	}
	ctx_free(&c);
}

/* A .tost file over TOSTC_MAX_TOST_BYTES (sparse, so it costs nothing). */
static void test_tost_size_limit(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/big.tost", dir);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	fclose(f);
	CU_ASSERT_FATAL(truncate(path, TOSTC_MAX_TOST_BYTES + 1) == 0);
	ASSERT_CONTAINS(compile_err(path), "big.tost' is 16777217 bytes; a .tost file may have at most 16777216");
}

/* ---- the DSL ---- */

static const char *dsl_err(const char *src)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t.tost");
	c.jmp = &jb;
	const char *r = NULL;
	if (setjmp(jb) == 0) {
		Graph *g = dsl_load_string(&c, "t.tost", src);
		pipeline_run(g, NULL, NULL);
	} else {
		snprintf(msg, sizeof msg, "%s", c.errmsg);
		r = msg;
	}
	ctx_free(&c);
	return r;
}

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
	size_t len = strlen(head) + strlen(unit) * (size_t)n + strlen(tail) + 1;
	char *s = malloc(len), *p = s;
	p += sprintf(p, "%s", head);
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s", unit);
	sprintf(p, "%s", tail);
	return s;
}

static void test_dsl_depth(void)
{
	/* 1+1+...+1: left-recursive, cheap to parse, as deep as it is long */
	char *s = repeat("input x: f32[1]\nn = 1", " + 1", 100000, "\noutput y = x * n\n");
	ASSERT_CONTAINS(dsl_err(s), "nested more than 200 deep, tostc's limit");
	free(s);
	s = repeat("input x: f32[1]\nn = 1", " + 1", 150, "\noutput y = x * n\n");
	CU_ASSERT_PTR_NULL(dsl_err(s));   /* within the limit: compiles */
	free(s);
	/* 70 defs, each calling the next 195 levels deep in its expression: each
	 * level within its limit, the total (~13000 frames) overflowed the stack */
	char *d = malloc(1 << 20), *p = d;
	p += sprintf(p, "input x: f32[1]\n");
	for (int i = 0; i < 70; i++) {
		if (i < 69)
			p += sprintf(p, "def f%d(a) {\n  return f%d(a)", i, i + 1);
		else
			p += sprintf(p, "def f%d(a) {\n  return a", i);
		for (int k = 0; k < 195; k++)
			p += sprintf(p, " + 0");
		p += sprintf(p, "\n}\n");
	}
	sprintf(p, "output y = f0(x)\n");
	ASSERT_CONTAINS(dsl_err(d), "expressions and def calls nested more than 1000 deep in all");
	free(d);
	/* parentheses: the parser's own stack limit */
	s = repeat("input x: f32[1]\nn = ", "(", 5000, "1");
	ASSERT_CONTAINS(dsl_err(s), "nested too deeply");
	free(s);
}

static void test_dsl_steps(void)
{
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nfor i in range(100000000) {\n  n = i\n}\noutput y = x\n"),
	                "runs more than 1000000 statements and loop iterations (loops unrolled), "
	                "tostc's limit");
	/* empty loop bodies count too (a fuzzer found 10^9 empty iterations taking a minute) */
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nfor i in range(1000) {\n for j in range(1000) {\n"
	                        "  for k in range(1000) {}\n }\n}\noutput y = x\n"),
	                "tostc's limit");
	/* nested loops multiply: 10^9 iterations are refused after 10^6 */
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nfor i in range(1000) {\n for j in range(1000) {\n"
	                        "  for k in range(1000) {\n   n = k\n  }\n }\n}\noutput y = x\n"),
	                "tostc's limit");
	/* recursion has its own bound */
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\ndef f(a) {\n  for i in range(2) {\n    a = f(a)\n  }\n"
	                        "  return a\n}\noutput y = f(x)\n"),
	                "'f' calls itself too deeply");
}

static void test_dsl_integer_overflow(void)
{
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nn = 9223372036854775807 + 1\noutput y = x\n"),
	                "integer overflow: 9223372036854775807 + 1 does not fit in 64 bits");
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nn = 4294967296 * 4294967296\noutput y = x\n"),
	                "integer overflow");
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nm = -9223372036854775807 - 1\nn = -m\noutput y = x\n"),
	                "integer overflow: -(-9223372036854775808)");
	ASSERT_CONTAINS(dsl_err("input x: f32[1]\nm = -9223372036854775807 - 1\nn = m / -1\noutput y = x\n"),
	                "integer overflow");
	ASSERT_CONTAINS(dsl_err("input x: f32[1048576, 1048576, 1048576]\noutput y = x\n"),
	                "input 'x' is too large");
}

/* ---- IR-level limits ---- */

static void test_node_limit(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "g");
	c.jmp = &jb;
	volatile int added = 0;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(&c);
		Node *n = node_new(g, OP_RELU, "n", 1, 1);
		for (;;) {
			graph_add_node(g, n);   /* the same node: only the count matters */
			added++;
		}
	}
	CU_ASSERT_EQUAL(added, TOSTC_MAX_NODES);
	ASSERT_CONTAINS(c.errmsg, "the graph has more than 262144 nodes, tostc's limit");
	ctx_free(&c);
}

static void test_memory_limit(void)
{
	setenv("TOSTC_MAX_MEMORY", "67108864", 1);   /* 64 MiB */
	CU_ASSERT_EQUAL(ctx_memory_limit(), 67108864);
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m");
	c.jmp = &jb;
	volatile int ok = 0;
	if (setjmp(jb) == 0) {
		ctx_alloc(&c, 40 << 20);
		ok = 1;
		ctx_alloc(&c, 40 << 20);   /* 80 MiB in all */
		ok = 2;
	}
	CU_ASSERT_EQUAL(ok, 1);
	ASSERT_CONTAINS(c.errmsg, "out of memory: compiling this model needs more than 64 MiB");
	ctx_free(&c);
	unsetenv("TOSTC_MAX_MEMORY");
	CU_ASSERT_EQUAL(ctx_memory_limit(), TOSTC_MAX_MEMORY);
}

/* A shape function's output rank over MAX_RANK: Unsqueeze of a rank-8 input. */
static void test_rank_limit(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "r");
	c.jmp = &jb;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(&c);
		g->opset = 11;
		int64_t d[8] = {1, 1, 1, 1, 1, 1, 1, 1};
		Tensor *x = tensor_new(g, "x", TK_INPUT, DT_F32, 8, d);
		Node *n = node_new(g, OP_UNSQUEEZE, "u", 1, 1);
		n->in[0] = x;
		n->out[0] = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
		n->out[0]->shape_known = false;
		n->out[0]->producer = n;
		Attr *a = node_add_attr(g, n, "axes", AT_INTS);
		static int64_t ax[1] = {0};
		a->ints = ax;
		a->n = 1;
		graph_add_node(g, n);
		g->inputs = &n->in[0];
		g->ninputs = 1;
		g->outputs = &n->out[0];
		g->noutputs = 1;
		n->out[0]->is_output = true;
		shape_infer(g);
		CU_FAIL("rank 9 accepted");
	} else {
		ASSERT_CONTAINS(c.errmsg, "rank");
		CU_ASSERT_EQUAL(c.errcode, 1);
	}
	ctx_free(&c);
}

/* driver_main: --dim values that do not fit, in-process. */
static void test_cli_dims(void)
{
	FILE *err = tmpfile();
	char *argv1[] = {"tostc", "m.onnx", "-o", "x.c", "--dim", "n=99999999999999999999", NULL};
	CU_ASSERT_EQUAL(driver_main(6, argv1, err), 1);
	char *argv2[] = {"tostc", "m.onnx", "-o", "x.c", "--dim", "n=4294967296", NULL};
	CU_ASSERT_EQUAL(driver_main(6, argv2, err), 1);
	char *argv3[] = {"tostc", "m.onnx", "-o", "x.c", "--dim", "=3", NULL};
	CU_ASSERT_EQUAL(driver_main(6, argv3, err), 1);
	rewind(err);
	char buf[2048];
	size_t n = fread(buf, 1, sizeof buf - 1, err);
	buf[n] = 0;
	fclose(err);
	ASSERT_CONTAINS(buf, "'99999999999999999999' is not an integer");
	ASSERT_CONTAINS(buf, "4294967296 is too large (limit 2^31)");
	ASSERT_CONTAINS(buf, "--dim =3: expected NAME=VALUE");
}

/* Cast float -> int in the runtime: NaN and out-of-range values must not be
 * plain C conversions (undefined behaviour); they give 0 and saturate. */
static void test_cast_saturates(void)
{
	const float x[7] = {NAN, 1e30f, -1e30f, 3.7f, -3.7f, INFINITY, -2147483648.0f};
	int64_t y64[7];
	int32_t y32[7];
	tr_cast_f32_i64(x, y64, 7);
	tr_cast_f32_i32(x, y32, 7);
	const int64_t w64[7] = {0, INT64_MAX, INT64_MIN, 3, -3, INT64_MAX, -2147483648LL};
	const int32_t w32[7] = {0, INT32_MAX, INT32_MIN, 3, -3, INT32_MAX, INT32_MIN};
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(y64[i], w64[i]);
		CU_ASSERT_EQUAL(y32[i], w32[i]);
	}
}

static int suite_init(void)
{
	snprintf(dir, sizeof dir, "/tmp/tostc_harden_XXXXXX");
	return mkdtemp(dir) ? 0 : 1;
}

static int suite_clean(void)
{
	const char *names[] = {"model.onnx", "fifo.onnx", "fifo.tost", "big.tost"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

void register_harden(void)
{
	CU_pSuite s = CU_add_suite("harden", suite_init, suite_clean);
	CU_add_test(s, "onnx huge initializer", test_onnx_huge_initializer);
	CU_add_test(s, "onnx input overflow and rank", test_onnx_input_overflow);
	CU_add_test(s, "workspace limit", test_workspace_limit);
	CU_add_test(s, "onnx nesting depth", test_onnx_nesting);
	CU_add_test(s, "onnx unpack memory", test_onnx_unpack_memory);
	CU_add_test(s, "not regular files", test_not_regular_files);
	CU_add_test(s, "tost size limit", test_tost_size_limit);
	CU_add_test(s, "dsl depth", test_dsl_depth);
	CU_add_test(s, "dsl steps", test_dsl_steps);
	CU_add_test(s, "dsl integer overflow", test_dsl_integer_overflow);
	CU_add_test(s, "node limit", test_node_limit);
	CU_add_test(s, "memory limit", test_memory_limit);
	CU_add_test(s, "rank limit", test_rank_limit);
	CU_add_test(s, "cli dims", test_cli_dims);
	CU_add_test(s, "cast saturates", test_cast_saturates);
}
