/*
 * dce.c -- dead-code removal: keep only nodes some graph output depends on.
 *
 * A backward sweep marks the producers of needed tensors; every other node
 * is dropped.  Unused constants simply stop being referenced (the emitter
 * writes only the constants live nodes read).
 */
#include "tostc.h"

void dce(Graph *g)
{
	Ctx *c = g->ctx;
	unsigned char *need = ctx_alloc(c, (size_t)g->ntensors + 1);
	for (int i = 0; i < g->noutputs; i++)
		need[g->outputs[i]->id] = 1;
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		bool live = false;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && need[n->out[j]->id])
				live = true;
		if (!live) {
			n->dead = true;
			continue;
		}
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				need[n->in[j]->id] = 1;
	}
	graph_compact(g);
	graph_count_users(g);
}
