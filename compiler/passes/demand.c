/*
 * demand.c -- a Gemm computes only the rows its readers use.
 *
 * Class attention (CaiT; the class-token head of the ToST vision models)
 * projects every token to q, k and v with one Gemm, but reads q for the
 * class token only: Gemm -> Reshape -> Transpose -> Gather (q) -> Slice
 * (token 0).  This pass follows a Gemm's output through the readers that
 * only move elements (views, Transpose, Slice, Gather with constant indices)
 * and marks the elements anything reads.  Per block of TR_GEMM_PB columns it
 * takes the rows from the first to the last marked one, merges neighbouring
 * blocks with the same rows, and when that leaves at most 90% of the product
 * it records the parts on the node (attribute parts: r0, r1, c0, c1 each);
 * lower_gemm then makes only those (tr_gemm_packed_parts_f32).  Elements
 * outside the parts are never written: only element-moving ops read them,
 * and what they move there nothing reads.
 */
#include "tostc.h"

#include <string.h>

#include "gemm/config.h"

/* tensors larger than this are taken as wholly read (the marks cost a byte each) */
#define DEMAND_MAX_ELEMS (1 << 22)

typedef struct {
	Graph *g;
	Users users;          /* live readers of each tensor */
	unsigned char **mark; /* per tensor: a byte per element, or NULL */
	unsigned char *state; /* per tensor: 0 not seen, 1 wholly read, 2 marked */
	int64_t *src;         /* tensor_elem_map of the reader in hand */
	int64_t srccap;
} Dm;

static void build_index(Dm *D)
{
	Graph *g = D->g;
	D->users = graph_users(g);
	D->mark = ctx_alloc(g->ctx, sizeof(unsigned char *) * ((size_t)g->ntensors + 1));
	D->state = ctx_alloc(g->ctx, (size_t)g->ntensors + 1);
}

static const unsigned char *marks_of(Dm *D, Tensor *t);

/* Mark in m (t's elements) what reader u reads of t through its output's
 * marks; false when u may read all of t, or computes on it. */
static bool pull(Dm *D, Node *u, Tensor *t, unsigned char *m)
{
	Graph *g = D->g;
	if (u->nin < 1 || u->in[0] != t || u->nout != 1 || !u->out[0])
		return false;
	for (int j = 1; j < u->nin; j++)
		if (u->in[j] == t)
			return false;
	Tensor *y = u->out[0];
	const unsigned char *ym = marks_of(D, y);   /* NULL: all of y is read */
	int64_t ny = tensor_nelem(y);
	if (op_info[u->op].flags & OPF_VIEW) {
		/* same elements in the same order */
		for (int64_t e = 0; e < ny; e++)
			if (!ym || ym[e])
				m[e] = 1;
		return true;
	}
	if (D->srccap < ny) {   /* one map, grown as needed: no call keeps it */
		D->src = ctx_alloc(g->ctx, sizeof(int64_t) * (size_t)ny);
		D->srccap = ny;
	}
	if (!tensor_elem_map(g, u, D->src))
		return false;
	for (int64_t e = 0; e < ny; e++)
		if (!ym || ym[e])
			m[D->src[e]] = 1;
	return true;
}

/* The elements of t that its readers use, a byte each; NULL when that is
 * all of them (or t is too large to track). */
static const unsigned char *marks_of(Dm *D, Tensor *t)
{
	if (D->state[t->id])
		return D->mark[t->id];
	D->state[t->id] = 1;
	int64_t ne = tensor_nelem(t);
	if (t->is_output || t->kind != TK_VALUE || ne <= 0 || ne > DEMAND_MAX_ELEMS)
		return NULL;
	unsigned char *m = ctx_alloc(D->g->ctx, (size_t)ne);
	for (int i = 0; i < D->users.count[t->id]; i++)
		if (!pull(D, D->users.nodes[t->id][i], t, m))
			return NULL;
	for (int64_t e = 0; e < ne; e++)
		if (!m[e]) {
			D->state[t->id] = 2;
			D->mark[t->id] = m;
			return m;
		}
	return NULL;
}

/* The parts of Gemm n's output (m, nn) that are read, as (r0, r1, c0, c1)
 * quadruples in parts (room for 4 * ceil(nn / PB)); returns their count, or
 * -1 when the whole product is worth making. */
static int gemm_parts(Dm *D, Node *n, int64_t *parts)
{
	Tensor *y = n->out[0];
	int64_t m = y->dims[0], nn = y->dims[1], kept = 0;
	const unsigned char *mk = marks_of(D, y);
	int np = 0;
	if (!mk)
		return -1;
	for (int64_t c0 = 0; c0 < nn; c0 += TR_GEMM_PB) {
		int64_t c1 = c0 + TR_GEMM_PB < nn ? c0 + TR_GEMM_PB : nn, r0 = -1, r1 = -1;
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = c0; j < c1; j++)
				if (mk[i * nn + j]) {
					r0 = r0 < 0 ? i : r0;
					r1 = i + 1;
					break;
				}
		if (r0 < 0)
			continue;   /* nothing reads these columns */
		kept += (r1 - r0) * (c1 - c0);
		int64_t *q = parts + 4 * (np - 1);
		if (np > 0 && q[0] == r0 && q[1] == r1 && q[3] == c0) {
			q[3] = c1;
			continue;
		}
		q = parts + 4 * np++;
		q[0] = r0;
		q[1] = r1;
		q[2] = c0;
		q[3] = c1;
	}
	return kept * 10 <= m * nn * 9 ? np : -1;
}

void demand(Graph *g)
{
	Dm D = {.g = g};
	bool built = false;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || !gemm_parts_ok(n))
			continue;
		if (!built) {
			build_index(&D);
			built = true;
		}
		int64_t nn = n->out[0]->dims[1];
		int64_t *parts = ctx_alloc(g->ctx, sizeof(int64_t) * 4 * (size_t)(nn / TR_GEMM_PB + 1));
		int np = gemm_parts(&D, n, parts);
		if (np < 0)
			continue;
		Attr *a = node_add_attr(g, n, "parts", AT_INTS);
		a->ints = parts;
		a->n = 4 * np;
	}
}
