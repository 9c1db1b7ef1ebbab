/*
 * pipeline.c -- the compiler in one list: the passes, in order.
 *
 * Every pass is `void pass(Graph *g)`.  After each one the verifier checks
 * the IR's invariants, and --dump-ir=NAME prints the IR after pass NAME.
 * Fusion passes are skipped with --no-fuse.  The step API's graphs of a
 * causal model (stream.c) run a list of their own through the same function.
 */
#include "tostc.h"

#include <string.h>

const Pass passes[] = {
	{"shape",          shape_infer,    0},  /* static shapes and types; folds constants as it goes */
	{"fold",           fold_constants, 0},  /* anything else whose inputs are all constant */
	{"dce",            dce,            0},  /* drop what no output needs */
	{"fuse_tssa",      fuse_tssa,      PASS_FUSION},  /* TSSA / CausalTSSA subgraphs -> one node */
	{"fuse_common",    fuse_common,    PASS_FUSION},  /* LayerNorm, GELU, MatMul + bias */
	{"fuse_mlp",       fuse_mlp,       PASS_FUSION},  /* LN, fc1, GELU, fc2, LayerScale, residual */
	{"fuse_epilogue",  fuse_epilogue,  PASS_FUSION},  /* BatchNorm into Conv, LayerScale into Gemm */
	{"layout",         layout_channels_last, PASS_FUSION},  /* a convolutional graph channels last */
	{"fuse_conv",      fuse_conv,      PASS_FUSION},  /* activations, residual into ConvNhwc */
	{"fuse_absorb",    fuse_absorb,    PASS_FUSION},  /* a projection moved into its contraction */
	{"fuse_attention", fuse_attention, PASS_FUSION},  /* softmax attention -> one streaming node */
	{"dce_after_fuse", dce,            PASS_FUSION},  /* what fusion left unread */
	{"views",          make_views,     0},  /* Reshape & co. share their input's memory */
	{"demand",         demand,         0},  /* Gemm rows that only some readers use */
	{"lower",          lower,          0},  /* choose runtime kernels per node */
	{"plan",           plan_memory,    0},  /* one arena, exact size */
};
const int npasses = sizeof passes / sizeof passes[0];

/* The step API's graphs of a causal model (one token, a chunk, a batch):
 * stream.c builds them from the compiled graph, shapes still to infer. */
const Pass step_passes[] = {
	{"dce",   dce,         0},  /* the advance graph: what only the outputs needed */
	{"shape", shape_infer, 0},
	{"views", make_views,  0},
	{"lower", lower,       0},
	{"plan",  plan_memory, 0},
};
const int nstep_passes = sizeof step_passes / sizeof step_passes[0];

void pipeline_run_passes(Graph *g, const Pass *list, int n, const char *dump_after, FILE *dump)
{
	if (dump_after && strcmp(dump_after, "input") == 0)
		ir_dump(g, dump, "input");
	ir_check(g, "input");
	for (int i = 0; i < n; i++) {
		if (g->ctx->no_fuse && (list[i].flags & PASS_FUSION))
			continue;
		list[i].fn(g);
		ir_check(g, list[i].name);
		if (dump_after && strcmp(dump_after, list[i].name) == 0)
			ir_dump(g, dump, list[i].name);
	}
}

void pipeline_run(Graph *g, const char *dump_after, FILE *dump)
{
	pipeline_run_passes(g, passes, npasses, dump_after, dump);
}
