/*
 * test_dsl.c -- the ToST model language and the safetensors reader.
 *
 * Lexer and parser: good programs give the expected AST; every bad input
 * gives its exact message at its exact file:line:col with the source line and
 * a caret.  Lowering: layers become the expected IR (Gemm with transB, the
 * fused TSSA with its attributes, loc on every node), loops and defs build
 * the state_dict keys, --dim overrides hyperparameters, and the errors a user
 * meets (unknown layer or parameter, heads not dividing dim, missing weight,
 * wrong shape or dtype) point at the offending line.  safetensors: exact
 * F32 / F16 / BF16 conversion, and each kind of corrupt file is rejected with
 * its own message.  Weight files are written to a temporary directory.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tostc.h"
#include "unit.h"

static char tmpdir[256];
static char errbuf[4096];

/* ---- helpers ---- */

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Write a .safetensors file: header JSON + raw data; returns its path. */
static const char *write_st(const char *name, const char *json, const void *data, size_t n)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	unsigned char len[8];
	put_u64(len, strlen(json));
	fwrite(len, 1, 8, f);
	fwrite(json, 1, strlen(json), f);
	if (n)
		fwrite(data, 1, n, f);
	fclose(f);
	return path;
}

/* Parse `src`; NULL on success, else the error message. */
static const char *parse_err(const char *src)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t.tost");
	c.jmp = &jb;
	const char *r = NULL;
	if (setjmp(jb) == 0) {
		dsl_parse(&c, "t.tost", src);
	} else {
		snprintf(errbuf, sizeof errbuf, "%s", c.errmsg);
		r = errbuf;
	}
	ctx_free(&c);
	return r;
}

/* Load `src` as tmpdir/t.tost (so `weights "w.safetensors"` is found there).
 * With g_out: keeps the context alive in *c_out (caller frees). */
static const char *load_err_dims(const char *src, const char *dim, int64_t val)
{
	Ctx c;
	jmp_buf jb;
	char path[512];
	snprintf(path, sizeof path, "%s/t.tost", tmpdir);
	ctx_init(&c, path);
	c.jmp = &jb;
	if (dim) {
		c.dims[0].name = dim;
		c.dims[0].value = val;
		c.ndims = 1;
	}
	const char *r = NULL;
	if (setjmp(jb) == 0) {
		dsl_load_string(&c, path, src);
	} else {
		/* strip the temporary directory from the message */
		const char *m = c.errmsg;
		if (strncmp(m, tmpdir, strlen(tmpdir)) == 0)
			m += strlen(tmpdir) + 1;
		snprintf(errbuf, sizeof errbuf, "%s", m);
		r = errbuf;
	}
	ctx_free(&c);
	return r;
}

static const char *load_err(const char *src) { return load_err_dims(src, NULL, 0); }

#define ASSERT_PREFIX(msg, prefix)                                                         \
	do {                                                                                   \
		const char *m_ = (msg);                                                            \
		CU_ASSERT_PTR_NOT_NULL_FATAL(m_);                                                  \
		if (strncmp(m_, (prefix), strlen(prefix)) != 0) {                                  \
			fprintf(stderr, "\n  expected prefix: %s\n  got:             %s\n", (prefix), m_); \
			CU_FAIL("message prefix");                                                     \
		}                                                                                  \
	} while (0)

#define ASSERT_CONTAINS(msg, part)                                                         \
	do {                                                                                   \
		const char *m_ = (msg);                                                            \
		CU_ASSERT_PTR_NOT_NULL_FATAL(m_);                                                  \
		if (!strstr(m_, (part))) {                                                         \
			fprintf(stderr, "\n  expected to contain: %s\n  got: %s\n", (part), m_);       \
			CU_FAIL("message content");                                                    \
		}                                                                                  \
	} while (0)

/* A weights file for the lowering tests:
 *   fc.weight (3, 4) = 0..11, fc.bias (3) = 1 2 3, blocks.{0,1}.fc.weight (4, 4),
 *   attn.qkv.weight (8, 8) + bias, attn.temp (2, 1), attn.to_out.0.weight (8, 8) + bias,
 *   ids (2) I64 */
static void write_model_weights(void)
{
	static float data[4096];
	char json[2048];
	int off = 0, k = 0;
	struct { const char *name, *shape; int n; } t[] = {
		{"fc.weight", "[3,4]", 12}, {"fc.bias", "[3]", 3},
		{"blocks.0.fc.weight", "[4,4]", 16}, {"blocks.1.fc.weight", "[4,4]", 16},
		{"attn.qkv.weight", "[8,8]", 64}, {"attn.qkv.bias", "[8]", 8},
		{"attn.temp", "[2,1]", 2}, {"attn.to_out.0.weight", "[8,8]", 64},
		{"attn.to_out.0.bias", "[8]", 8},
	};
	k += snprintf(json + k, sizeof json - k, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		k += snprintf(json + k, sizeof json - k,
		              ",\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%d,%d]}",
		              t[i].name, t[i].shape, off * 4, (off + t[i].n) * 4);
		for (int j = 0; j < t[i].n; j++)
			data[off + j] = (float)j;
		off += t[i].n;
	}
	/* fc.bias = 1 2 3 */
	data[12] = 1, data[13] = 2, data[14] = 3;
	/* an integer tensor, 2 x I64 */
	int64_t ids[2] = {5, 7};
	memcpy(&data[off], ids, 16);
	k += snprintf(json + k, sizeof json - k,
	              ",\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[%d,%d]}}",
	              off * 4, off * 4 + 16);
	write_st("w.safetensors", json, data, (size_t)off * 4 + 16);
}

/* ---- lexer and parser ---- */

static void test_parse_good(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "t.tost");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	const char *src = "# comment\n"
	                  "model m  weights \"w.safetensors\"\n"
	                  "d = 2 * (3 + 1) - -1   eps = 1e-6\n"
	                  "input x: f32[1, d]\n"
	                  "y = linear(x, 4, bias=false) @ blocks[i + 1].fc.sub\n"
	                  "for i in range(1, 3) { ; }\n"
	                  "def f(a, b) { return a }\n"
	                  "output y\n";
	Ast *a = dsl_parse(&c, "t.tost", src);
	AstKind kinds[] = {AST_MODEL, AST_WEIGHTS, AST_ASSIGN, AST_ASSIGN, AST_INPUT,
	                   AST_ASSIGN, AST_FOR, AST_DEF, AST_OUTPUT};
	int n = 0;
	for (Ast *s = a; s; s = s->next, n++)
		if (n < 9)
			CU_ASSERT_EQUAL(s->kind, kinds[n]);
	CU_ASSERT_EQUAL(n, 9);
	Ast *d = a->next->next;
	CU_ASSERT_STRING_EQUAL(d->name, "d");
	CU_ASSERT_EQUAL(d->lhs->kind, AST_BINARY);
	CU_ASSERT_EQUAL(d->lhs->op, '-');              /* (2 * (3 + 1)) - (-1) */
	CU_ASSERT_EQUAL(d->lhs->rhs->kind, AST_NEG);
	CU_ASSERT_EQUAL(d->lhs->lhs->op, '*');
	Ast *eps = d->next;
	CU_ASSERT_EQUAL(eps->lhs->kind, AST_FLOAT);
	CU_ASSERT_DOUBLE_EQUAL(eps->lhs->fval, 1e-6, 1e-15);
	Ast *in = eps->next;
	CU_ASSERT_STRING_EQUAL(in->str, "f32");
	CU_ASSERT_EQUAL(in->line, 4);
	CU_ASSERT_EQUAL(in->col, 7);
	Ast *call = in->next->lhs;
	CU_ASSERT_EQUAL(call->kind, AST_CALL);
	CU_ASSERT_STRING_EQUAL(call->name, "linear");
	CU_ASSERT_EQUAL(call->line, 5);
	CU_ASSERT_EQUAL(call->col, 5);
	CU_ASSERT_EQUAL(call->args->next->next->kind, AST_KWARG);
	CU_ASSERT_STRING_EQUAL(call->args->next->next->name, "bias");
	Ast *p = call->path;                           /* blocks [i+1] fc.sub */
	CU_ASSERT_EQUAL(p->kind, AST_PATH_NAME);
	CU_ASSERT_STRING_EQUAL(p->name, "blocks");
	CU_ASSERT_EQUAL(p->next->kind, AST_PATH_INDEX);
	CU_ASSERT_EQUAL(p->next->next->kind, AST_PATH_NAME);
	CU_ASSERT_STRING_EQUAL(p->next->next->name, "fc.sub");
	Ast *loop = in->next->next;
	CU_ASSERT_EQUAL(loop->lhs->ival, 1);
	CU_ASSERT_EQUAL(loop->rhs->ival, 3);
	CU_ASSERT_PTR_NULL(loop->body);                /* `;` is an empty statement */
	ctx_free(&c);
}

static void test_parse_errors(void)
{
	ASSERT_PREFIX(parse_err("x = 3 +\n  * 4\n"),
	              "t.tost:2:3: error: syntax error, unexpected '*'");
	/* source line and caret */
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_err("x = 3 +\n  * 4\n"), "\n    * 4\n    ^"));
	ASSERT_PREFIX(parse_err("x = 3 $ 4\n"), "t.tost:1:7: error: unexpected character '$'");
	ASSERT_PREFIX(parse_err("a = 1\nx = \"abc\n"), "t.tost:2:5: error: unterminated string");
	ASSERT_PREFIX(parse_err("x = 99999999999999999999999\n"),
	              "t.tost:1:5: error: integer '99999999999999999999999' is too large");
	ASSERT_PREFIX(parse_err("for i in range(3) {\n x = 1\n"),
	              "t.tost:3:1: error: syntax error, unexpected end of file");
	ASSERT_PREFIX(parse_err("input x f32[1]\n"),
	              "t.tost:1:9: error: syntax error, unexpected name, expecting ':'");
	ASSERT_PREFIX(parse_err("y = f(x) @ \n"),
	              "t.tost:2:1: error: syntax error, unexpected end of file, expecting name or '['");
	ASSERT_PREFIX(parse_err("x = \x01\n"), "t.tost:1:5: error: unexpected byte 0x01");
	/* nesting deeper than the parser stack is an error, not a crash */
	char deep[6000] = "x = ";
	for (int i = 0; i < 2500; i++)
		strcat(deep, "(");
	ASSERT_CONTAINS(parse_err(deep), "expression nested too deeply");
	CU_ASSERT_PTR_NULL(parse_err(""));
	CU_ASSERT_PTR_NULL(parse_err("# only a comment"));
}

/* ---- lowering ---- */

static int count_op(Graph *g, OpKind op)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		k += g->nodes[i]->op == op;
	return k;
}

static void test_lower_linear_and_loops(void)
{
	write_model_weights();
	Ctx c;
	jmp_buf jb;
	char path[512];
	snprintf(path, sizeof path, "%s/t.tost", tmpdir);
	ctx_init(&c, path);
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	const char *src = "model tiny\n"
	                  "weights \"w.safetensors\"\n"
	                  "input x: f32[2, 5, 4]\n"
	                  "def blk(h) { return h + linear(h, 4, bias=false) @ fc }\n"
	                  "for i in range(2) { x = blk(x) @ blocks[i] }\n"
	                  "output y = linear(x, 3) @ fc\n";
	Graph *g = dsl_load_string(&c, path, src);
	CU_ASSERT_STRING_EQUAL(g->name, "tiny");
	CU_ASSERT_EQUAL(g->ninputs, 1);
	CU_ASSERT_EQUAL(g->noutputs, 1);
	Tensor *y = g->outputs[0];
	CU_ASSERT_STRING_EQUAL(y->name, "y");
	CU_ASSERT(y->is_output);
	CU_ASSERT_EQUAL(y->rank, 3);
	CU_ASSERT_EQUAL(y->dims[0], 2);
	CU_ASSERT_EQUAL(y->dims[1], 5);
	CU_ASSERT_EQUAL(y->dims[2], 3);
	CU_ASSERT_EQUAL(count_op(g, OP_GEMM), 3);
	CU_ASSERT_EQUAL(count_op(g, OP_ADD), 2);
	/* the loop bound the keys blocks.0.fc.weight and blocks.1.fc.weight */
	CU_ASSERT_PTR_NOT_NULL(graph_tensor(g, "blocks.0.fc.weight"));
	CU_ASSERT_PTR_NOT_NULL(graph_tensor(g, "blocks.1.fc.weight"));
	Tensor *b = graph_tensor(g, "fc.bias");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->kind, TK_CONST);
	CU_ASSERT_EQUAL(((float *)b->data)[2], 3.0f);
	/* every node carries its DSL position; the Gemm of `fc` has transB = 1 */
	int gemm_line6 = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		CU_ASSERT_PTR_NOT_NULL(n->loc.file);
		CU_ASSERT(n->loc.line >= 4 && n->loc.line <= 6);
		if (n->op == OP_GEMM && n->loc.line == 6) {
			gemm_line6++;
			CU_ASSERT_EQUAL(n->loc.col, 12);
			CU_ASSERT_EQUAL(attr_int(n, "transB", 0), 1);
			CU_ASSERT_EQUAL(n->nin, 3);
		}
	}
	CU_ASSERT_EQUAL(gemm_line6, 1);
	ctx_free(&c);
}

/* Lower `src` (as tmpdir/t.tost) with one --dim binding; the Graph, or NULL
 * with the message in errbuf.  The caller frees *c. */
static Graph *lower_with(Ctx *c, jmp_buf *jb, const char *src, const char *dim, int64_t v)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/t.tost", tmpdir);
	ctx_init(c, path);
	c->jmp = jb;
	if (dim) {
		c->dims[0].name = dim;
		c->dims[0].value = v;
		c->ndims = 1;
	}
	return dsl_load_string(c, path, src);
}

static void test_lower_tssa(void)
{
	write_model_weights();
	const char *src = "weights \"w.safetensors\"\n"
	                  "heads = 1\n"
	                  "input x: f32[1, 6, 8]\n"
	                  "output y = tssa(x, heads=heads, eps_pi=1e-5) @ attn\n";
	Ctx c;
	jmp_buf jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = lower_with(&c, &jb, src, "heads", 2);   /* --dim heads=2 */
	CU_ASSERT(c.dims[0].used);
	CU_ASSERT_EQUAL(count_op(g, OP_TSSA), 1);
	CU_ASSERT_EQUAL(count_op(g, OP_GEMM), 2);           /* qkv and to_out.0 */
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->op != OP_TSSA)
			continue;
		CU_ASSERT_EQUAL(attr_int(n, "heads", 0), 2);
		CU_ASSERT_DOUBLE_EQUAL(attr_float(n, "eps_pi", 0), 1e-5, 1e-12);
		CU_ASSERT_DOUBLE_EQUAL(attr_float(n, "eps_norm", 0), 1e-12, 1e-18);
		CU_ASSERT_EQUAL(n->in[1]->rank, 1);            /* temp (2, 1) -> (2) */
		CU_ASSERT_EQUAL(n->in[1]->dims[0], 2);
		CU_ASSERT_EQUAL(n->in[0]->dims[2], 8);
		CU_ASSERT_EQUAL(n->loc.line, 4);
	}
	CU_ASSERT_EQUAL(g->outputs[0]->dims[1], 6);
	CU_ASSERT_EQUAL(g->outputs[0]->dims[2], 8);
	ctx_free(&c);
	/* without the override temp has the wrong number of elements */
	ASSERT_PREFIX(load_err(src), "t.tost:4:12: error: weight 'attn.temp' has shape [2, 1]; "
	                             "temp (one per head) needs 1 elements");
}

static void test_lower_errors(void)
{
	write_model_weights();
	const char *head = "weights \"w.safetensors\"\ninput x: f32[1, 6, 4]\n";
	char src[1024];
#define LOWER_ERR(body) (snprintf(src, sizeof src, "%s%s", head, body), load_err(src))
	ASSERT_PREFIX(LOWER_ERR("y = lienar(x, 3) @ fc\noutput y\n"),
	              "t.tost:3:5: error: unknown layer 'lienar'");
	ASSERT_PREFIX(LOWER_ERR("y = linear(x, 3, bais=false) @ fc\noutput y\n"),
	              "t.tost:3:18: error: linear has no parameter 'bais' (parameters: x, out, bias)");
	ASSERT_PREFIX(LOWER_ERR("output y = tssa(x, heads=3) @ attn\n"),
	              "t.tost:3:12: error: tssa: dim 4 is not divisible by heads=3");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(x, 3) @ head\n"),
	              "t.tost:3:12: error: missing weight 'head.weight' in ");
	ASSERT_CONTAINS(LOWER_ERR("output y = linear(x, 3) @ fc.weight\n"),
	                "(keys under 'fc.': fc.weight, fc.bias)");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(x, 5) @ fc\n"),
	              "t.tost:3:12: error: weight 'fc.weight' has shape [3, 4], expected [5, 4]");
	ASSERT_PREFIX(LOWER_ERR("output y = param() @ ids\n"),
	              "t.tost:3:12: error: weight 'ids' has dtype I64; expected F32, F16 or BF16");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(x, 3)\n"),
	              "t.tost:3:12: error: linear has weights: say where they are");
	ASSERT_PREFIX(LOWER_ERR("output y = gelu(x) @ fc\n"),
	              "t.tost:3:22: error: gelu has no weights");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(out=3, x) @ fc\n"),
	              "t.tost:3:26: error: positional argument after a keyword argument");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(x, bias=1) @ fc\n"),
	              "t.tost:3:27: error: linear: 'bias' must be true or false, got an integer");
	ASSERT_PREFIX(LOWER_ERR("output y = layernorm() @ fc\n"),
	              "t.tost:3:12: error: layernorm: missing argument 'x'");
	ASSERT_PREFIX(LOWER_ERR("output y = linear(z, 3) @ fc\n"),
	              "t.tost:3:19: error: unknown name 'z'");
	ASSERT_PREFIX(LOWER_ERR("n = 3\noutput n\n"),
	              "t.tost:4:8: error: output 'n' must be a tensor, got an integer");
	ASSERT_PREFIX(LOWER_ERR("return x\n"), "t.tost:3:1: error: 'return' outside a def");
	ASSERT_PREFIX(LOWER_ERR("def f(a) { return a }\noutput y = f(x, x)\n"),
	              "t.tost:4:17: error: too many arguments to 'f' (it takes 1)");
	ASSERT_PREFIX(LOWER_ERR("def linear(a) { return a }\n"),
	              "t.tost:3:5: error: 'linear' is a built-in layer");
	ASSERT_PREFIX(LOWER_ERR("output y = x + \"s\"\n"),
	              "t.tost:3:14: error: cannot apply '+' to a tensor and a string");
	ASSERT_PREFIX(LOWER_ERR("output y = slice(x, 1, 4, 2)\n"),
	              "t.tost:3:12: error: slice 4:2 is empty or out of range");
	ASSERT_PREFIX(load_err("input x: f32[1, 4]\noutput y = linear(x, 3) @ fc\n"),
	              "t.tost:2:12: error: 'fc.weight' needs weights, but no weights file is named");
	ASSERT_PREFIX(load_err("input x: f64[1, 4]\n"),
	              "t.tost:1:7: error: unknown element type 'f64'");
	ASSERT_PREFIX(load_err("input x: f32[1, 0]\n"),
	              "t.tost:1:17: error: dimension 0 of input 'x' must be positive");
	ASSERT_CONTAINS(load_err("weights \"nope.safetensors\"\n"),
	                "cannot open weights file");
	/* a corrupt weights file: the error points at the `weights` line */
	write_st("bad.safetensors", "{\"a\":{\"dtype\":\"F32\"]}", NULL, 0);
	ASSERT_PREFIX(load_err("x = 1\n  weights \"bad.safetensors\"\n"), "t.tost:2:3: error: ");
	ASSERT_CONTAINS(load_err("x = 1\n  weights \"bad.safetensors\"\n"),
	                "bad.safetensors: malformed safetensors header at byte 27: expected ','");
	ASSERT_CONTAINS(load_err("x = 1\n"), "no inputs");
	/* a --dim that names no hyperparameter */
	ASSERT_CONTAINS(load_err_dims("a = 2\nb = true\ninput x: f32[1, a]\noutput x\n", "c", 3),
	                "--dim c: the model has no top-level integer or bool 'c'; it has: a, b");
	ASSERT_PREFIX(load_err_dims("a = 2\nb = true\ninput x: f32[1, a]\noutput x\n", "b", 2),
	              "t.tost:2:1: error: --dim b=2: 'b' is a bool; use 0 or 1");
	/* an error raised by an op's shape function names the DSL line too */
	ASSERT_PREFIX(LOWER_ERR("input z: f32[1, 5, 4]\noutput y = x + z\n"),
	              "t.tost:4:14: error: Add: ");
	ASSERT_CONTAINS(LOWER_ERR("input z: f32[1, 5, 4]\noutput y = x + z\n"),
	                "\n  output y = x + z\n               ^");
	/* the source line and caret follow the message */
	ASSERT_CONTAINS(LOWER_ERR("y = lienar(x, 3) @ fc\noutput y\n"),
	                "\n  y = lienar(x, 3) @ fc\n      ^");
#undef LOWER_ERR
}

/* ---- safetensors ---- */

static const char *st_err(const char *json, const void *data, size_t n, int64_t trunc)
{
	const char *path = write_st("s.safetensors", json, data, n);
	if (trunc >= 0 && truncate(path, trunc) != 0)
		return "truncate failed";
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "s");
	c.jmp = &jb;
	const char *r = NULL;
	if (setjmp(jb) == 0) {
		safetensors_open(&c, path);
	} else {
		const char *m = strstr(c.errmsg, "s.safetensors");
		snprintf(errbuf, sizeof errbuf, "%s", m ? m : c.errmsg);
		r = errbuf;
	}
	ctx_free(&c);
	return r;
}

static void test_safetensors_dtypes(void)
{
	/* F32 (2): 1.5 -2; F16 (5): 1.5 -2 65504 2^-24 (subnormal) -0;
	 * BF16 (3): 1.5 -2 3.140625 */
	unsigned char data[8 + 10 + 6];
	float f32[2] = {1.5f, -2.0f};
	memcpy(data, f32, 8);
	uint16_t f16[5] = {0x3e00, 0xc000, 0x7bff, 0x0001, 0x8000};
	memcpy(data + 8, f16, 10);
	uint16_t bf16[3] = {0x3fc0, 0xc000, 0x4049};
	memcpy(data + 18, bf16, 6);
	const char *json = "{\"b\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[8,18]},"
	                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
	                   "\"c\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[18,24]},"
	                   "\"__metadata__\":{\"k\":\"v\",\"n\":[1,{\"x\":null}]}}";
	const char *path = write_st("d.safetensors", json, data, sizeof data);
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "s");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	SafeTensors *st = safetensors_open(&c, path);
	CU_ASSERT_EQUAL(st->nentries, 3);
	const StEntry *a = safetensors_find(st, "a"), *b = safetensors_find(st, "b"),
	              *cc = safetensors_find(st, "c");
	CU_ASSERT_PTR_NULL(safetensors_find(st, "__metadata__"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	CU_ASSERT_EQUAL(a->rank, 2);
	CU_ASSERT_EQUAL(a->dims[1], 2);
	float *fa = safetensors_get_f32(&c, st, a);
	CU_ASSERT_EQUAL(fa[0], 1.5f);
	CU_ASSERT_EQUAL(fa[1], -2.0f);
	float *fb = safetensors_get_f32(&c, st, b);
	CU_ASSERT_EQUAL(fb[0], 1.5f);
	CU_ASSERT_EQUAL(fb[1], -2.0f);
	CU_ASSERT_EQUAL(fb[2], 65504.0f);
	CU_ASSERT_EQUAL(fb[3], ldexpf(1.0f, -24));
	CU_ASSERT_EQUAL(fb[4], 0.0f);
	CU_ASSERT(signbit(fb[4]));
	float *fc = safetensors_get_f32(&c, st, cc);
	CU_ASSERT_EQUAL(fc[0], 1.5f);
	CU_ASSERT_EQUAL(fc[1], -2.0f);
	CU_ASSERT_EQUAL(fc[2], 3.140625f);
	ctx_free(&c);
}

static void test_safetensors_corrupt(void)
{
	unsigned char data[64] = {0};
	const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
	CU_ASSERT_PTR_NULL(st_err(ok, data, 8, -1));
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}",
	                       data, 8, -1), "malformed safetensors header");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}",
	                       data, 8, -1), "expected ','");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\" \"shape\":[2]}}", data, 8, -1),
	                "malformed safetensors header");
	ASSERT_CONTAINS(st_err("[1, 2]", data, 8, -1), "expected '{'");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
	                       data, 8, -1), "expected a non-negative integer");
	/* offsets past the end of the data */
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
	                       data, 8, -1),
	                "tensor 'a' has data_offsets [0, 16] past the end of the data (8 bytes)");
	/* overlapping tensors */
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
	                       data, 12, -1),
	                "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
	/* a huge shape */
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
	                       "\"data_offsets\":[0,8]}}", data, 8, -1),
	                "impossibly large");
	/* a huge number */
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
	                       "\"data_offsets\":[0,99999999999999999999]}}", data, 8, -1),
	                "integer too large");
	/* size disagrees with dtype x shape */
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
	                       data, 12, -1), "needs 12 bytes but data_offsets [0, 8] hold 8");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}",
	                       data, 8, -1), "unknown dtype 'F33'");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", data, 8, -1),
	                "lacks \"data_offsets\"");
	ASSERT_CONTAINS(st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
	                       data, 16, -1), "tensor 'a' appears twice");
	/* header length larger than the file (truncated in the header) */
	ASSERT_CONTAINS(st_err(ok, data, 8, 20), "is larger than the file (20 bytes)");
	/* truncated data section */
	ASSERT_CONTAINS(st_err(ok, data, 8, 8 + (int64_t)strlen(ok) + 4), "past the end of the data");
	ASSERT_CONTAINS(st_err(ok, data, 8, 5), "shorter than the 8-byte header length");
	ASSERT_CONTAINS(st_err("{} x", data, 0, -1), "text after the header object");
	CU_ASSERT_PTR_NULL(st_err("{}", data, 0, -1));
	/* a non-float tensor read as f32 */
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "s");
	c.jmp = &jb;
	const char *path = write_st("i.safetensors",
	                            "{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
	                            data, 8);
	if (setjmp(jb) == 0) {
		SafeTensors *st = safetensors_open(&c, path);
		safetensors_get_f32(&c, st, safetensors_find(st, "i"));
		CU_FAIL("I64 read as f32");
	} else {
		ASSERT_CONTAINS(c.errmsg, "tensor 'i' has dtype I64; expected F32, F16 or BF16");
	}
	ctx_free(&c);
}

static int suite_init(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tostc_test_dsl_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : 1;
}

static int suite_clean(void)
{
	const char *files[] = {"w.safetensors", "s.safetensors", "d.safetensors", "i.safetensors",
	                       "bad.safetensors"};
	char p[600];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

void register_dsl(void)
{
	CU_pSuite s = CU_add_suite("dsl", suite_init, suite_clean);
	CU_add_test(s, "parse: good program, AST and locations", test_parse_good);
	CU_add_test(s, "parse: lexical and syntax errors", test_parse_errors);
	CU_add_test(s, "lower: linear, def, for, weight keys, loc", test_lower_linear_and_loops);
	CU_add_test(s, "lower: fused TSSA, --dim override", test_lower_tssa);
	CU_add_test(s, "lower: user errors point at the line", test_lower_errors);
	CU_add_test(s, "safetensors: F32, F16, BF16", test_safetensors_dtypes);
	CU_add_test(s, "safetensors: corrupt files", test_safetensors_corrupt);
}
