/*
 * report.c -- --report: per-node op, shape, FLOPs and bytes, then totals.
 *
 * FLOPs are each op's estimate (ops.def, ops/flops.c): multiply-adds count
 * two, elementwise ops one per output element.  Bytes are the input plus
 * output bytes a node touches.
 */
#include "tostc.h"

#include <string.h>

int64_t node_flops(Graph *g, const Node *n)
{
	return op_info[n->op].flops(n);
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
