/*
 * flops.c -- the FLOP count of a node, per op (ops.def's flops column), for
 * --report.
 *
 * A multiply-add counts as two, an elementwise op as one per output element,
 * and so does an op that only moves data; a view costs nothing.  These are
 * estimates for comparing models and fusions, not cycle counts.
 */
#include "tostc.h"

static int64_t out_elems(const Node *n)
{
	return n->nout > 0 && n->out[0] ? tensor_nelem(n->out[0]) : 0;
}

/* one per output element */
int64_t flops_elem(const Node *n) { return out_elems(n); }

/* one per element of input 0: reductions, pooling, scans */
int64_t flops_reads(const Node *n) { return n->nin > 0 && n->in[0] ? tensor_nelem(n->in[0]) : 0; }

/* views */
int64_t flops_none(const Node *n) { return 0; }

/* about five per output element: LayerNorm, Softmax (max or mean, subtract,
 * exp or square, sum, scale) */
int64_t flops_norm(const Node *n) { return 5 * out_elems(n); }

/* TSSA: eleven per output element */
int64_t flops_tssa(const Node *n) { return 11 * out_elems(n); }

int64_t flops_matmul(const Node *n)
{
	const Tensor *a = n->in[0];
	int64_t k = a->rank ? a->dims[a->rank - 1] : 1;
	return 2 * out_elems(n) * k;
}

int64_t flops_gemm(const Node *n)
{
	const Tensor *a = n->in[0];
	int64_t out = out_elems(n);
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

int64_t flops_gemm_residual(const Node *n)
{
	int64_t out = out_elems(n);
	return 2 * out * n->in[1]->dims[attr_int(n, "transB", 0) ? 1 : 0] + out;
}

/* 2 per multiply-add: each of elems elements meets every tap of the weights
 * (dims[1:]) */
static int64_t weight_macs(const Node *n, int64_t elems)
{
	const Tensor *w = n->in[1];
	int64_t per = 1;
	for (int i = 1; i < w->rank; i++)
		per *= w->dims[i];
	return 2 * elems * per;
}

/* weights (M, C/group, kh, kw): each output element is C/group*kh*kw MACs */
int64_t flops_conv(const Node *n) { return weight_macs(n, out_elems(n)); }

/* weights (C, M/group, k...): each input element is M/group*k MACs */
int64_t flops_conv_transpose(const Node *n) { return weight_macs(n, tensor_nelem(n->in[0])); }

/* two GEMMs (rows, d) @ (d, h) and back, LayerNorm, biases, GELU, residual */
int64_t flops_mlp_block(const Node *n)
{
	const Tensor *x = n->in[0];
	int64_t out = out_elems(n), d = x->dims[x->rank - 1], h = tensor_nelem(n->in[3]) / d;
	return 4 * out * h + 5 * out + 2 * (out / d) * h + 3 * out;
}

/* groups x terms rows summed, one dot per output element */
int64_t flops_proj_contract(const Node *n)
{
	int64_t in = n->in[1]->dims[1];
	return 2 * in * (attr_int(n, "groups", 0) * attr_int(n, "terms", 0) + out_elems(n));
}

/* two products of m x n multiply-adds per batch index, about five per score
 * for the softmax, one for the scale and one for the mask (as unfused) */
int64_t flops_attention(const Node *n)
{
	const int64_t *mnc, *bd;
	int nb = attr_ints(n, "bdims", &bd);
	int64_t nbat = 1;
	if (attr_ints(n, "mnc", &mnc) != 4)
		return 0;
	for (int d = 0; d < nb; d++)
		nbat *= bd[d];
	int64_t s = nbat * mnc[0] * mnc[1];
	return s * (2 * (mnc[2] + mnc[3]) + 6 + (n->nin > 3 ? 1 : 0));
}
