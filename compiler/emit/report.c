/*
 * report.c -- --report: per-node op, shape, FLOPs and bytes, then totals.
 *
 * FLOPs count multiply-adds as two and elementwise ops as one per output
 * element; they are estimates for comparing models and fusions, not cycle
 * counts.  Bytes are the input plus output bytes a node touches.
 */
#include "tostc.h"

#include <string.h>

int64_t node_flops(Graph *g, const Node *n)
{
	const Tensor *y = n->out[0];
	int64_t out = y ? tensor_nelem(y) : 0;
	const Tensor *a = n->nin > 0 ? n->in[0] : NULL, *b = n->nin > 1 ? n->in[1] : NULL;
	switch (n->op) {
	case OP_MATMUL: {
		int64_t k = a->rank ? a->dims[a->rank - 1] : 1;
		return 2 * out * k;
	}
	case OP_GEMM_RESIDUAL:
		return 2 * out * n->in[1]->dims[attr_int(n, "transB", 0) ? 1 : 0] + out;
	case OP_GEMM: {
		int64_t k = attr_int(n, "transA", 0) ? a->dims[0] : a->dims[a->rank - 1];
		const int64_t *p;
		int np = attr_ints(n, "parts", &p);
		if (np >= 0) {   /* only these parts are made (demand.c) */
			out = 0;
			for (int i = 0; i + 3 < np; i += 4)
				out += (p[i + 1] - p[i]) * (p[i + 3] - p[i + 2]);
		}
		return 2 * out * k + (n->nin > 2 && n->in[2] ? out : 0);
	}
	case OP_CONV: {
		/* weights (M, C/group, kh, kw): each output element is C/group*kh*kw MACs */
		int64_t per = 1;
		for (int i = 1; i < b->rank; i++)
			per *= b->dims[i];
		return 2 * out * per;
	}
	case OP_TSSA:
	case OP_CAUSAL_TSSA:
		return 11 * out;
	case OP_MLP_BLOCK: {
		/* two GEMMs (rows, d) @ (d, h) and back, LayerNorm, biases, GELU, residual */
		int64_t d = a->dims[a->rank - 1], h = tensor_nelem(n->in[3]) / d;
		return 4 * out * h + 5 * out + 2 * (out / d) * h + 3 * out;
	}
	case OP_PROJ_CONTRACT: {
		/* groups x terms rows summed, one dot per output element */
		int64_t in = n->in[1]->dims[1];
		return 2 * in * (attr_int(n, "groups", 0) * attr_int(n, "terms", 0) + out);
	}
	case OP_LAYER_NORM:
	case OP_SOFTMAX:
	case OP_LOG_SOFTMAX:
		return 5 * out;
	case OP_REDUCE_SUM:
	case OP_REDUCE_MEAN:
	case OP_REDUCE_MAX:
	case OP_REDUCE_L2:
	case OP_CUMSUM:
	case OP_MAX_POOL:
	case OP_AVG_POOL:
	case OP_GLOBAL_AVG_POOL:
		return a ? tensor_nelem(a) : 0;
	default:
		if (op_info[n->op].flags & OPF_VIEW)
			return 0;
		return out;
	}
}

static int64_t node_bytes(const Node *n)
{
	int64_t s = 0;
	for (int j = 0; j < n->nin; j++)
		if (n->in[j])
			s += tensor_nbytes(n->in[j]);
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			s += tensor_nbytes(n->out[j]);
	return s;
}

static int64_t weight_bytes(Graph *g)
{
	int64_t s = 0;
	unsigned char *seen = ctx_alloc(g->ctx, (size_t)g->ntensors + 1);
	/* what the generated code embeds: constants read by kernel calls */
	for (int p = 0; p < g->nnodes; p++)
		for (Call *k = g->nodes[p]->calls; k; k = k->next)
			for (int a = 0; a < k->nargs; a++) {
				if (k->args[a].kind != ARG_IN)
					continue;
				Tensor *t = tensor_root(k->args[a].t);
				if (t->kind == TK_CONST && !seen[t->id]) {
					seen[t->id] = 1;
					s += tensor_nbytes(t);
				}
			}
	return s;
}

static void count_ops(Graph *g, int *count)
{
	memset(count, 0, sizeof(int) * OP_COUNT);
	for (int p = 0; p < g->nnodes; p++)
		count[g->nodes[p]->op]++;
}

void report_text(Graph *g, FILE *f)
{
	Ctx *c = g->ctx;
	int64_t flops = 0;
	fprintf(f, "%-5s %-20s %-28s %-24s %14s %12s\n", "#", "op", "name", "output", "flops",
	        "bytes");
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		int64_t fl = node_flops(g, n);
		flops += fl;
		fprintf(f, "%-5d %-20s %-28.28s %-24s %14lld %12lld\n", n->index, op_info[n->op].name,
		        text_msg(c, n->name), n->out[0] ? tensor_shape_str(c, n->out[0]) : "_", (long long)fl,
		        (long long)node_bytes(n));
	}
	int count[OP_COUNT];
	count_ops(g, count);
	fputs("ops:", f);
	for (int i = 0; i < OP_COUNT; i++)
		if (count[i])
			fprintf(f, " %s=%d", op_info[i].name, count[i]);
	fprintf(f, "\ntotal: %d nodes, %lld flops, %lld weight bytes, %lld arena bytes\n", g->nnodes,
	        (long long)flops, (long long)weight_bytes(g), (long long)g->arena_size);
}

void report_json(Graph *g, FILE *f)
{
	Ctx *c = g->ctx;
	int64_t flops = 0;
	fputs("{\n  \"nodes\": [", f);
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		int64_t fl = node_flops(g, n);
		flops += fl;
		fprintf(f, "%s\n    {\"index\": %d, \"op\": ", p ? "," : "", n->index);
		fprintf(f, "\"%s\", \"name\": %s", op_info[n->op].name, text_json(c, n->name));
		fputs(", \"output\": ", f);
		fputs(text_json(c, n->out[0] ? tensor_shape_str(c, n->out[0]) : ""), f);
		if (n->fused_from) {
			fputs(", \"fused_from\": ", f);
			fputs(text_json(c, n->fused_from), f);
		}
		fprintf(f, ", \"flops\": %lld, \"bytes\": %lld}", (long long)fl, (long long)node_bytes(n));
	}
	fputs("\n  ],\n  \"ops\": {", f);
	int count[OP_COUNT], k = 0;
	count_ops(g, count);
	for (int i = 0; i < OP_COUNT; i++)
		if (count[i])
			fprintf(f, "%s\"%s\": %d", k++ ? ", " : "", op_info[i].name, count[i]);
	fprintf(f, "},\n  \"flops\": %lld,\n  \"weight_bytes\": %lld,\n  \"arena_bytes\": %lld\n}\n",
	        (long long)flops, (long long)weight_bytes(g), (long long)g->arena_size);
}
