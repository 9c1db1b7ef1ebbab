/*
 * test_ir.c -- the IR core: arena and errors, the op table, the memory
 * planner (randomised: no two simultaneously live buffers overlap), and the
 * driver's option errors (run in-process: they must return, not exit).
 */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tostc.h"
#include "unit.h"

static void test_arena_and_error(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m.onnx");
	c.jmp = &jb;
	volatile int reached = 0;
	if (setjmp(jb) == 0) {
		char *p = ctx_alloc(&c, 100);
		CU_ASSERT_PTR_NOT_NULL(p);
		CU_ASSERT_EQUAL((uintptr_t)p % 64, 0);
		CU_ASSERT_EQUAL(p[99], 0);
		/* a big allocation after a small one must keep working */
		char *big = ctx_alloc(&c, 3u << 20);
		char *q = ctx_alloc(&c, 10);
		CU_ASSERT(big != q);
		ctx_mul(&c, (int64_t)1 << 40, (int64_t)1 << 40);
		reached = 1;
	}
	CU_ASSERT_EQUAL(reached, 0);
	CU_ASSERT_EQUAL(c.errcode, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.errmsg, "m.onnx: error: size overflow"));
	ctx_free(&c);
}

static void test_node_error_names_node(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m.onnx");
	c.jmp = &jb;
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(&c);
		Node *n = node_new(g, OP_ADD, "blk/add", 2, 1);
		n->index = 7;
		node_error(g, n, "bad %d", 3);
	}
	CU_ASSERT_STRING_EQUAL(c.errmsg, "m.onnx: error: node 'blk/add' (Add, #7): bad 3");
	ctx_free(&c);
}

static void test_op_table(void)
{
	CU_ASSERT_EQUAL(op_lookup("MatMul"), OP_MATMUL);
	CU_ASSERT_EQUAL(op_lookup("LayerNormalization"), OP_LAYER_NORM);
	CU_ASSERT_EQUAL(op_lookup("NoSuchOp"), OP_COUNT);
	CU_ASSERT_STRING_EQUAL(op_info[OP_CUMSUM].name, "CumSum");
	CU_ASSERT(op_info[OP_RESHAPE].flags & OPF_VIEW);
	CU_ASSERT(op_info[OP_TSSA].flags & OPF_INTERNAL);
}

/* The facts ops.def adds for stream.c and --report agree with each other:
 * elementwise ops and views have their streaming rule from their flag, so
 * they name none; every op has a FLOP count. */
static void test_op_facts(void)
{
	for (int i = 0; i < OP_COUNT; i++) {
		const OpInfo *o = &op_info[i];
		CU_ASSERT_PTR_NOT_NULL(o->flops);
		CU_ASSERT(!((o->flags & OPF_ELEMENTWISE) && (o->flags & OPF_VIEW)));
		if (o->flags & (OPF_ELEMENTWISE | OPF_VIEW))
			CU_ASSERT_PTR_NULL(o->stream);
		if (o->flags & OPF_ELEMENTWISE)
			CU_ASSERT_EQUAL(o->max_out, 1);
	}
	CU_ASSERT(op_info[OP_ADD].flags & OPF_ELEMENTWISE);
	CU_ASSERT(op_info[OP_GELU].flags & OPF_ELEMENTWISE);
	CU_ASSERT(!(op_info[OP_SOFTMAX].flags & OPF_ELEMENTWISE));
	CU_ASSERT_PTR_EQUAL(op_info[OP_LAYER_NORM].stream, stream_layernorm);
	CU_ASSERT_PTR_NULL(op_info[OP_CONV].stream);   /* never token-wise */
	CU_ASSERT_PTR_EQUAL(op_info[OP_RESHAPE].flops, flops_none);

	/* (2, 3) @ (3, 4): 8 outputs of 3 multiply-adds */
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "m.onnx");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	Graph *g = graph_new(&c);
	int64_t da[2] = {2, 3}, db[2] = {3, 4}, dy[2] = {2, 4};
	Node *n = node_new(g, OP_MATMUL, "mm", 2, 1);
	n->in[0] = tensor_new(g, "a", TK_INPUT, DT_F32, 2, da);
	n->in[1] = tensor_const(g, "b", DT_F32, 2, db);
	n->out[0] = tensor_new(g, "y", TK_VALUE, DT_F32, 2, dy);
	CU_ASSERT_EQUAL(node_flops(g, n), 2 * 8 * 3);
	ctx_free(&c);
}

/* Randomised planner check: many buffers with random sizes and live ranges;
 * any two whose ranges overlap must not overlap in memory, all must fit in
 * the arena, and the arena must be at least the peak live size. */
static void test_planner_random(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "plan");
	c.jmp = &jb;
	if (setjmp(jb)) {
		FAIL_ERROR(&c);
		return;
	}
	srand(12345);
	for (int round = 0; round < 200; round++) {
		int n = 1 + rand() % 60, steps = 1 + rand() % 40;
		int64_t size[64], off[64];
		int def[64], last[64];
		for (int i = 0; i < n; i++) {
			size[i] = 1 + rand() % 5000;
			def[i] = rand() % steps;
			last[i] = def[i] + rand() % 8;
		}
		int64_t arena = plan_intervals(&c, n, size, def, last, off);
		int64_t peak = 0;
		for (int s = 0; s < steps + 8; s++) {
			int64_t live = 0;
			for (int i = 0; i < n; i++)
				if (def[i] <= s && s <= last[i])
					live += size[i];
			if (live > peak)
				peak = live;
		}
		CU_ASSERT(arena >= peak);
		for (int i = 0; i < n; i++) {
			CU_ASSERT(off[i] >= 0 && off[i] % 64 == 0);
			CU_ASSERT(off[i] + size[i] <= arena);
			for (int j = i + 1; j < n; j++) {
				bool live = def[i] <= last[j] && def[j] <= last[i];
				bool mem = off[i] < off[j] + size[j] && off[j] < off[i] + size[i];
				if (live && mem)
					CU_FAIL("two live buffers overlap");
			}
		}
	}
	/* disjoint lifetimes share memory */
	int64_t size[2] = {1000, 1000}, off[2];
	int def[2] = {0, 2}, last[2] = {1, 3};
	CU_ASSERT_EQUAL(plan_intervals(&c, 2, size, def, last, off), 1024);
	CU_ASSERT_EQUAL(off[0], off[1]);
	ctx_free(&c);
}

static int run_driver(const char *const *args, char *msg, size_t cap)
{
	int argc = 0;
	while (args[argc])
		argc++;
	FILE *err = tmpfile();
	int r = driver_main(argc, (char **)args, err);
	rewind(err);
	size_t k = fread(msg, 1, cap - 1, err);
	msg[k] = 0;
	fclose(err);
	return r;
}

/* Bad command lines: exit status 1 and a message naming the problem. */
static void test_driver_errors(void)
{
	static const struct {
		const char *args[8]; /* argv, NULL-terminated */
		const char *says;    /* a part of the message */
	} cases[] = {
		{{"tostc", "/nonexistent/model.onnx", "-o", "/tmp/x.c"}, "/nonexistent/model.onnx"},
		{{"tostc", "m.onnx", "-o", "x.c", "--dim", "seq"}, "expected NAME=VALUE"},
		{{"tostc", "m.onnx", "-o", "x.c", "--dim", "seq=0"}, "must be positive"},
		{{"tostc", "m.onnx", "-o", "x.c", "--dim", "seq=12x"}, "not an integer"},
		{{"tostc", "m.onnx", "--frobnicate"}, "unknown option '--frobnicate'"},
		{{"tostc", "m.onnx", "-o", "x.c", "--name", "9bad"}, "not a C identifier"},
		{{"tostc", "m.onnx", "--dump-ir=nosuch"}, "no such pass"},
		{{"tostc", "m.onnx"}, "no output file"},
	};
	char msg[4096];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = run_driver(cases[i].args, msg, sizeof msg);
		if (r != 1 || !strstr(msg, cases[i].says))
			fprintf(stderr, "\n  %s ...: exit %d, message '%s', want 1 and '%s'\n",
			        cases[i].args[1], r, msg, cases[i].says);
		CU_ASSERT_EQUAL(r, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, cases[i].says));
	}
}

/* Build x (2,3) + w (3) -> Relu -> Mul(., 2) -> y in memory and compile it. */
static Graph *small_graph(Ctx *c)
{
	Graph *g = graph_new(c);
	g->opset = 17;
	g->name = "small";
	int64_t d23[2] = {2, 3}, d3[1] = {3};
	Tensor *x = tensor_new(g, "x", TK_INPUT, DT_F32, 2, d23);
	Tensor *w = tensor_const(g, "w", DT_F32, 1, d3);
	Tensor *two = tensor_const(g, "two", DT_F32, 0, NULL);
	two->shape_known = true;
	((float *)w->data)[0] = 1.5f, ((float *)w->data)[1] = -2.0f, ((float *)w->data)[2] = 0.25f;
	*(float *)two->data = 2.0f;
	Tensor *t = tensor_new(g, "t", TK_VALUE, DT_UNDEF, 0, NULL);
	Tensor *r = tensor_new(g, "r", TK_VALUE, DT_UNDEF, 0, NULL);
	Tensor *y = tensor_new(g, "y", TK_VALUE, DT_UNDEF, 0, NULL);
	Node *a = node_new(g, OP_ADD, "add", 2, 1), *b = node_new(g, OP_RELU, "relu", 1, 1),
	     *m = node_new(g, OP_MUL, "mul", 2, 1);
	a->in[0] = x, a->in[1] = w, a->out[0] = t, t->producer = a;
	b->in[0] = t, b->out[0] = r, r->producer = b;
	m->in[0] = r, m->in[1] = two, m->out[0] = y, y->producer = m;
	a->index = 0, b->index = 1, m->index = 2;
	graph_add_node(g, a);
	graph_add_node(g, b);
	graph_add_node(g, m);
	g->inputs = ctx_alloc(c, sizeof(Tensor *));
	g->inputs[0] = x;
	g->ninputs = 1;
	g->outputs = ctx_alloc(c, sizeof(Tensor *));
	g->outputs[0] = y;
	g->noutputs = 1;
	y->is_output = true;
	pipeline_run(g, NULL, NULL);
	return g;
}

static char *emit_to_string(Graph *g, size_t *len)
{
	char *buf = NULL, *hbuf = NULL;
	size_t hlen = 0;
	FILE *f = open_memstream(&buf, len), *h = open_memstream(&hbuf, &hlen);
	EmitOptions o = {"small", "tostc small.onnx -o small.c", "small.h", WEIGHTS_EMBED, NULL};
	emit_c(g, &o, f, h);
	fclose(f);
	fclose(h);
	free(hbuf);
	return buf;
}

/* The emitter is a pure function of the graph: two compilations of the same
 * model give the same bytes; and the plan shares memory where it may. */
static void test_emit_deterministic(void)
{
	Ctx c1, c2;
	jmp_buf jb;
	ctx_init(&c1, "small.onnx");
	ctx_init(&c2, "small.onnx");
	c1.jmp = c2.jmp = &jb;
	if (setjmp(jb)) {
		CU_FAIL(c1.errmsg[0] ? c1.errmsg : c2.errmsg);
		ctx_free(&c1);
		ctx_free(&c2);
		return;
	}
	Graph *g1 = small_graph(&c1), *g2 = small_graph(&c2);
	size_t n1, n2;
	char *s1 = emit_to_string(g1, &n1), *s2 = emit_to_string(g2, &n2);
	CU_ASSERT_EQUAL(n1, n2);
	CU_ASSERT(n1 == n2 && memcmp(s1, s2, n1) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "int small_run(const float *x, float *y, void *workspace)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "int small_run_v(const void *const *inputs, void *const *outputs, void *workspace)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "static int small_forward(const unsigned char *W, const void *const *in"));
	/* t (Add) and r (Relu, in place over t) share one 64-byte buffer: y is the
	 * caller's output, so the arena is exactly one buffer */
	CU_ASSERT_EQUAL(g1->arena_size, 64);
	free(s1);
	free(s2);
	ctx_free(&c1);
	ctx_free(&c2);
}

/* runtime/kernels.def against runtime/: a section for every kernel, every
 * dependency known, and all of it compiles as C99 (the emitter would only
 * find a missing section when a model first used the kernel). */
static void test_kernel_table(void)
{
	Ctx c;
	jmp_buf jb;
	ctx_init(&c, "kernels");
	c.jmp = &jb;
	char dir[] = "/tmp/tostc_kernels.XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	char path[256], cmd[600];
	snprintf(path, sizeof path, "%s/all.c", dir);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	if (setjmp(jb) == 0) {
		emit_check_runtime(&c, f);
		for (int k = 0; k < K_COUNT; k++) {
			const KernelInfo *ki = &kernel_info[k];
			CU_ASSERT(ki->name && ki->invoke && ki->nparams > 0 && ki->nparams <= MAX_ARGS);
			/* each kernel used once, so that -Wunused-function stays quiet */
			fprintf(f, "void *use_%s(void) { return (void *)&%s; }\n", ki->name, ki->name);
		}
	} else {
		CU_FAIL(c.errmsg);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd, "cc -std=c99 -Wall -Wextra -Werror -fsyntax-only %s", path);
	CU_ASSERT_EQUAL(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	ctx_free(&c);
}

void register_ir(void)
{
	CU_pSuite s = CU_add_suite("ir", NULL, NULL);
	CU_add_test(s, "arena and error unwinding", test_arena_and_error);
	CU_add_test(s, "node_error names the node", test_node_error_names_node);
	CU_add_test(s, "op table lookup", test_op_table);
	CU_add_test(s, "op table: stream rules and FLOP counts", test_op_facts);
	CU_add_test(s, "planner: random live ranges never overlap", test_planner_random);
	CU_add_test(s, "driver option errors exit 1", test_driver_errors);
	CU_add_test(s, "emitter output is deterministic; in-place planning", test_emit_deterministic);
	CU_add_test(s, "kernels.def: every kernel's runtime section, and it compiles", test_kernel_table);
}
