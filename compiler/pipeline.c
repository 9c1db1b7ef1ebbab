/*
 * pipeline.c -- the compiler in one list: the passes, in order.
 *
 * Every pass is `void pass(Graph *g)`.  After each one the verifier checks
 * the IR's invariants, and --dump-ir=NAME prints the IR after pass NAME.
 * Fusion passes are skipped with --no-fuse.
 */
#include "tostc.h"

#include <string.h>

const Pass passes[] = {
	{"shape", shape_infer},       /* static shapes and types; folds constant nodes as it goes */
	{"fold", fold_constants},     /* anything else whose inputs are all constant */
	{"dce", dce},                 /* drop what no output needs */
	{"fuse_tssa", fuse_tssa},     /* TSSA / CausalTSSA subgraphs -> one node each */
	{"fuse_common", fuse_common}, /* LayerNorm, GELU, MatMul + bias */
	{"fuse_mlp", fuse_mlp},       /* LN -> fc1 -> GELU -> fc2 -> LayerScale -> residual, tiled */
	{"fuse_epilogue", fuse_epilogue}, /* BatchNorm into Conv, LayerScale into Gemm/MatMul */
	{"fuse_absorb", fuse_absorb}, /* a projection moved into the contraction reading it */
	{"views", make_views},        /* Reshape & co. share their input's memory */
	{"demand", demand},           /* Gemm rows that only some readers use */
	{"lower", lower},             /* choose runtime kernels per node */
	{"plan", plan_memory},        /* one arena, exact size */
};
const int npasses = sizeof passes / sizeof passes[0];

static bool is_fusion(const char *name) { return strncmp(name, "fuse", 4) == 0; }

void pipeline_run(Graph *g, const char *dump_after, FILE *dump)
{
	if (dump_after && strcmp(dump_after, "input") == 0)
		ir_dump(g, dump, "input");
	ir_check(g, "input");
	for (int i = 0; i < npasses; i++) {
		if (g->ctx->no_fuse && is_fusion(passes[i].name))
			continue;
		passes[i].fn(g);
		ir_check(g, passes[i].name);
		if (dump_after && strcmp(dump_after, passes[i].name) == 0)
			ir_dump(g, dump, passes[i].name);
	}
}
