/*
 * plan.c -- static memory planning: one arena for all intermediate tensors.
 *
 * Every run-time tensor that is not a graph input, output or constant gets a
 * byte offset in one workspace.  A tensor is live from the node that writes
 * it to the last node that reads it or any view of it (views share their
 * root's memory).  Node scratch buffers are live for their node only.
 * Elementwise ops marked OPF_INPLACE write over an input of the same size
 * whose last reader is that op: the two tensors become one buffer.
 *
 * Buffers are placed greedily, largest first, at the lowest offset that does
 * not overlap any placed buffer with an overlapping live range (the "greedy
 * by size" strategy of TFLite's planner).  The arena size is the exact high
 * water mark; offsets are 64-byte aligned for vector loads.
 */
#include "tostc.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64

typedef struct {
	int64_t size;
	int def, last;
	int idx;      /* input order, for deterministic ties */
} Buf;

static int by_size(const void *a, const void *b)
{
	const Buf *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->def != y->def)
		return x->def - y->def;
	return x->idx - y->idx;
}

int64_t plan_intervals(Ctx *c, int n, const int64_t *size, const int *def, const int *last,
                       int64_t *offset)
{
	if (n == 0)
		return 0;
	Buf *b = ctx_alloc(c, sizeof(Buf) * (size_t)n);
	for (int i = 0; i < n; i++)
		b[i] = (Buf){(size[i] + ALIGN - 1) / ALIGN * ALIGN, def[i], last[i], i};
	qsort(b, (size_t)n, sizeof(Buf), by_size);
	int64_t *off = ctx_alloc(c, sizeof(int64_t) * (size_t)n);  /* by sorted index */
	/* the buffers placed so far, ordered by offset: each new one scans them
	 * once (O(n) per buffer, O(n^2) in all; sorting the busy list for every
	 * buffer made 20000 simultaneously live tensors take 20 s) */
	int *ord = ctx_alloc(c, sizeof(int) * (size_t)n);
	int64_t top = 0;
	for (int i = 0; i < n; i++) {
		int64_t at = 0;
		for (int k = 0; k < i; k++) {
			const Buf *o = &b[ord[k]];
			if (!(o->def <= b[i].last && b[i].def <= o->last))
				continue;   /* not live at the same time */
			if (off[ord[k]] - at >= b[i].size)
				break;      /* the gap before it fits */
			if (off[ord[k]] + o->size > at)
				at = off[ord[k]] + o->size;
		}
		off[i] = at;
		offset[b[i].idx] = at;
		if (at + b[i].size > top)
			top = ctx_add(c, at, b[i].size);
		/* insert i into ord after every buffer with offset <= at */
		int lo = 0, hi = i;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (off[ord[mid]] <= at)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(ord + lo + 1, ord + lo, sizeof(int) * (size_t)(i - lo));
		ord[lo] = i;
	}
	return top;
}

/* A tensor that lives in the arena (as opposed to caller memory or weights). */
static bool in_arena(const Tensor *t)
{
	return t->kind == TK_VALUE && !t->is_output && !t->view_of;
}

static int find(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

void plan_memory(Graph *g)
{
	Ctx *c = g->ctx;
	int nt = g->ntensors;
	for (int i = 0; i < nt; i++) {
		Tensor *t = g->tensors[i];
		t->def = -1;
		t->last_use = -1;
		t->offset = -1;
	}
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && n->out[j]->def < 0)
				n->out[j]->def = p;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j]) {
				Tensor *r = tensor_root(n->in[j]);
				if (r->last_use < p)
					r->last_use = p;
			}
	}
	/* in-place: merge an output with an input whose last reader is this node */
	int *parent = ctx_alloc(c, sizeof(int) * (size_t)(nt + 1));
	for (int i = 0; i < nt; i++)
		parent[i] = i;
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		if (!(op_info[n->op].flags & OPF_INPLACE) || n->nout != 1 || !in_arena(n->out[0]))
			continue;
		Tensor *y = n->out[0];
		for (int j = 0; j < n->nin && j < 2; j++) {
			Tensor *x = n->in[j];
			if (!x || !in_arena(x) || x->last_use != p || tensor_nbytes(x) != tensor_nbytes(y) ||
			    dtype_size(x->dtype) != dtype_size(y->dtype))
				continue;
			/* every other input must not alias x with a different shape */
			int rx = find(parent, x->id);
			if (rx == find(parent, y->id))
				continue;
			parent[find(parent, y->id)] = rx;
			break;
		}
	}
	/* buffers: one per group of merged arena tensors, plus one per scratch arg
	 * and one per run-time If (its branches' workspace) */
	int nscratch = 0;
	for (int p = 0; p < g->nnodes; p++) {
		nscratch += g->nodes[p]->sub_ws > 0;
		for (Call *k = g->nodes[p]->calls; k; k = k->next)
			for (int a = 0; a < k->nargs; a++)
				nscratch += k->args[a].kind == ARG_SCRATCH;
	}
	int cap = nt + nscratch + 1;
	int64_t *size = ctx_alloc(c, sizeof(int64_t) * (size_t)cap);
	int *def = ctx_alloc(c, sizeof(int) * (size_t)cap);
	int *last = ctx_alloc(c, sizeof(int) * (size_t)cap);
	int64_t *off = ctx_alloc(c, sizeof(int64_t) * (size_t)cap);
	int *bufof = ctx_alloc(c, sizeof(int) * (size_t)(nt + 1));
	int nb = 0;
	for (int i = 0; i < nt; i++)
		bufof[i] = -1;
	for (int i = 0; i < nt; i++) {
		Tensor *t = g->tensors[i];
		if (!in_arena(t) || t->def < 0)
			continue;
		int r = find(parent, i);
		if (bufof[r] < 0) {
			bufof[r] = nb;
			size[nb] = 0;
			def[nb] = t->def;
			last[nb] = t->last_use;
			nb++;
		}
		int k = bufof[r];
		int64_t s = tensor_nbytes(t);
		if (s > size[k])
			size[k] = s;
		if (t->def < def[k])
			def[k] = t->def;
		int lu = t->last_use < t->def ? t->def : t->last_use;
		if (lu > last[k])
			last[k] = lu;
		bufof[i] = k;
	}
	int first_scratch = nb;
	for (int p = 0; p < g->nnodes; p++) {
		if (g->nodes[p]->sub_ws > 0) {
			size[nb] = g->nodes[p]->sub_ws;
			def[nb] = last[nb] = p;
			nb++;
		}
		for (Call *k = g->nodes[p]->calls; k; k = k->next)
			for (int a = 0; a < k->nargs; a++)
				if (k->args[a].kind == ARG_SCRATCH) {
					size[nb] = k->args[a].i > 0 ? k->args[a].i : 1;
					def[nb] = last[nb] = p;
					nb++;
				}
	}
	g->arena_size = plan_intervals(c, nb, size, def, last, off);
	if (g->arena_size > TOSTC_MAX_WORKSPACE)
		ctx_error(c, "the model needs a workspace of %lld bytes for its intermediate tensors; "
		          "tostc's limit is %lld (2^40)", (long long)g->arena_size,
		          (long long)TOSTC_MAX_WORKSPACE);
	for (int i = 0; i < nt; i++)
		if (bufof[i] >= 0)
			g->tensors[i]->offset = off[bufof[i]];
	int s = first_scratch;
	for (int p = 0; p < g->nnodes; p++) {
		if (g->nodes[p]->sub_ws > 0)
			g->nodes[p]->sub_ws_offset = off[s++];
		for (Call *k = g->nodes[p]->calls; k; k = k->next)
			for (int a = 0; a < k->nargs; a++)
				if (k->args[a].kind == ARG_SCRATCH)
					k->args[a].offset = off[s++];
	}
}
