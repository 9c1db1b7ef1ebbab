/*
 * op_einsum.c -- Einsum: the equation parsed here, the contraction lowered
 * onto the GEMM (runtime/gemm/einsum.h, or a plain Gemm call).
 *
 * Labels: 'A'-'Z' are ids 0-25 and 'a'-'z' 26-51 (so id order is ASCII
 * order, numpy's implicit output order); the dims an ellipsis stands for are
 * ids 52 and up, right-aligned across the operands and broadcast like numpy's
 * (a dim of size 1 broadcasts, for letters too).  A label repeated in one
 * operand takes its diagonal.
 *
 * One operand: y is the operand viewed with the output's labels first and the
 * others after them, summed (transposes, diagonals, traces, sums:
 * tr_einsum_sum_f32).  Two operands: each label is a batch label (in both and
 * in the output), an m label (only the first and the output), an n label
 * (only the second and the output), a contracted k label (in both, not the
 * output), or summed away before the product (in one only).  The product is
 * y' (batch, m, n) = A' (batch, m, k) @ B' (batch, k, n); an operand that is
 * not already in that layout (or transposed per batch) is gathered first, and
 * an output whose label order is not (batch, m, n) is gathered from y'.  A
 * single product with nothing to gather is a plain Gemm (linalg_gemm: a
 * constant B is packed when the model is compiled).
 *
 * Refused, naming the equation: more than two operands, element types other
 * than f32, and anything numpy itself rejects.
 */
#include "tostc.h"
#include "gemm/einsum.h"
#include "gemm/config.h"

#include <string.h>

#define NLAB (52 + MAX_RANK)   /* letters, then the ellipsis dims */

typedef struct {
	int nops;                  /* operands: 1 or 2 */
	int rank[2];               /* labels per operand (its rank) */
	int lab[2][MAX_RANK];      /* operand i's axis j -> label */
	int nout;
	int out[MAX_RANK];         /* the output's labels */
	int64_t size[NLAB];        /* each label's size (0: unused) */
	int64_t str[2][NLAB];      /* each operand's element stride per label (summed over a
	                            * diagonal; 0 where it broadcasts) */
	bool has[2][NLAB];         /* operand i has the label */
} Einsum;

static int letter_id(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return 26 + ch - 'a';
	return -1;
}

/* fail: a node_error when g is given (the shape function), else false (flops) */
#define EFAIL(...)                                             \
	do {                                                   \
		if (g)                                         \
			node_error(g, n, __VA_ARGS__);         \
		return false;                                  \
	} while (0)

/*
 * Parse one term of s (up to a ',', '-' or the end) into labels, its axes'
 * label ids (an ellipsis as -1); *len: the labels and ellipsis count.
 * Returns the position after the term, or NULL when it is malformed.
 */
static const char *parse_term(const char *s, int *ids, int *len, int *ell)
{
	*len = 0;
	*ell = 0;
	for (; *s && *s != ',' && *s != '-'; s++) {
		if (*s == '.') {
			if (s[1] != '.' || s[2] != '.' || (*ell)++)
				return NULL;
			s += 2;
			if (*len >= MAX_RANK + 1)
				return NULL;
			ids[(*len)++] = -1;
		} else if (letter_id(*s) >= 0 && *len < MAX_RANK + 1) {
			ids[(*len)++] = letter_id(*s);
		} else {
			return NULL;
		}
	}
	return s;
}

/* a label's letter for messages ('.' for an ellipsis dim) */
static char label_char(int l)
{
	return l < 26 ? (char)('A' + l) : l < 52 ? (char)('a' + l - 26) : '.';
}

static bool einsum_parse(Graph *g, const Node *n, Einsum *e)
{
	const char *eq0 = attr_string(n, "equation", NULL);
	char eq[256];
	int len = 0;
	if (!eq0)
		EFAIL("attribute equation is required");
	const char *shown = g ? text_msg(g->ctx, eq0) : "";
	for (const char *s = eq0; *s; s++)
		if (*s != ' ') {
			if (len + 1 >= (int)sizeof eq)
				EFAIL("equation '%s' is too long", shown);
			eq[len++] = *s;
		}
	eq[len] = 0;
	memset(e, 0, sizeof *e);
	e->nops = n->nin;
	if (n->nin > 2)
		EFAIL("Einsum '%s' has %d operands; at most two are supported", shown, n->nin);
	/* the operands' terms; nell: the most dims an ellipsis stands for */
	int ids[2][MAX_RANK + 1], cnt[2], ells[2], nell = 0;
	const char *s = eq;
	for (int i = 0; i < n->nin; i++) {
		s = parse_term(s, ids[i], &cnt[i], &ells[i]);
		if (!s || (i + 1 < n->nin && *s++ != ','))
			EFAIL("equation '%s': term %d is not labels with at most one '...' "
			      "(or there are not %d terms)", shown, i + 1, n->nin);
		Tensor *t = n->in[i];
		int ne = t->rank - (cnt[i] - ells[i]);
		if (ne < 0 || (!ells[i] && ne))
			EFAIL("equation '%s': term %d has %d labels; input %d %s has rank %d", shown,
			      i + 1, cnt[i] - ells[i], i, tensor_shape_str(g->ctx, t), t->rank);
		nell = ne > nell ? ne : nell;
	}
	if (*s && strncmp(s, "->", 2))
		EFAIL("equation '%s' has more terms than the %d inputs", shown, n->nin);
	/* axes to labels, the ellipsis dims right-aligned; sizes broadcast */
	for (int i = 0; i < n->nin; i++) {
		Tensor *t = n->in[i];
		int ne = t->rank - (cnt[i] - ells[i]), ax = 0;
		for (int j = 0; j < cnt[i]; j++)
			for (int q = 0; q < (ids[i][j] >= 0 ? 1 : ne); q++, ax++) {
				int l = ids[i][j] >= 0 ? ids[i][j] : 52 + nell - ne + q;
				int64_t d = t->dims[ax];
				if (e->size[l] && d != e->size[l] && d != 1 && e->size[l] != 1)
					EFAIL("equation '%s': label %c has sizes %lld and %lld", shown,
					      label_char(l), (long long)e->size[l], (long long)d);
				if (!e->size[l] || e->size[l] == 1)
					e->size[l] = d;
				e->lab[i][ax] = l;
			}
		e->rank[i] = t->rank;
	}
	/* strides, once the sizes are known (a size-1 axis of a larger label broadcasts) */
	for (int i = 0; i < n->nin; i++) {
		Tensor *t = n->in[i];
		int64_t st = 1;
		for (int j = t->rank - 1; j >= 0; st *= t->dims[j--]) {
			int l = e->lab[i][j];
			for (int q = j + 1; q < t->rank; q++)
				if (e->lab[i][q] == l && t->dims[q] != t->dims[j])
					EFAIL("equation '%s': label %c, repeated in term %d, has sizes %lld and "
					      "%lld", shown, label_char(l), i + 1, (long long)t->dims[q],
					      (long long)t->dims[j]);
			e->has[i][l] = true;
			if (t->dims[j] == e->size[l])
				e->str[i][l] += st;
		}
	}
	/* the output: explicit, or numpy's implicit one (the ellipsis dims, then
	 * the labels used once, in ASCII order) */
	if (*s) {
		int oids[MAX_RANK + 1], ocnt, oell;
		const char *r = parse_term(s + 2, oids, &ocnt, &oell);
		if (!r || *r)
			EFAIL("equation '%s': the output is not labels with at most one '...'", shown);
		if (!oell && nell)
			EFAIL("equation '%s': the output has no '...' for the inputs' %d broadcast dims",
			      shown, nell);
		for (int j = 0; j < ocnt; j++)
			for (int q = 0; q < (oids[j] >= 0 ? 1 : nell); q++) {
				int l = oids[j] >= 0 ? oids[j] : 52 + q;
				if (!e->size[l])
					EFAIL("equation '%s': output label %c is in no input", shown,
					      label_char(l));
				for (int k = 0; k < e->nout; k++)
					if (e->out[k] == l)
						EFAIL("equation '%s': output label %c is repeated", shown,
						      label_char(l));
				if (e->nout >= MAX_RANK)
					EFAIL("equation '%s': the output has more than %d dims", shown, MAX_RANK);
				e->out[e->nout++] = l;
			}
	} else {
		for (int l = 52; l < 52 + nell; l++)
			e->out[e->nout++] = l;
		for (int l = 0; l < 52; l++) {
			int uses = 0;
			for (int i = 0; i < n->nin; i++)
				for (int j = 0; j < e->rank[i]; j++)
					uses += e->lab[i][j] == l;
			if (uses != 1)
				continue;
			if (e->nout >= MAX_RANK)
				EFAIL("equation '%s': the output has more than %d dims", shown, MAX_RANK);
			e->out[e->nout++] = l;
		}
	}
	return true;
}

/* y: the output's labels' sizes */
void shape_einsum(Graph *g, Node *n)
{
	for (int i = 0; i < n->nin; i++)
		need_dtype(g, n, i, 1u << DT_F32);
	Einsum e;
	einsum_parse(g, n, &e);
	int64_t dims[MAX_RANK];
	for (int j = 0; j < e.nout; j++)
		dims[j] = e.size[e.out[j]];
	shape_set(n->out[0], DT_F32, e.nout, dims);
}

/* 2 * the product of every label's size for a product, one per read element
 * for one operand */
int64_t flops_einsum(const Node *n)
{
	Einsum e;
	double f = 1;
	if (!einsum_parse(NULL, n, &e))
		return 0;
	for (int l = 0; l < NLAB; l++)
		f *= e.size[l] ? (double)e.size[l] : 1.0;
	f *= e.nops;
	return f < 9e18 ? (int64_t)f : INT64_MAX;
}

static int64_t labels_size(Graph *g, const Einsum *e, const int *l, int nl)
{
	int64_t p = 1;
	for (int j = 0; j < nl; j++)
		p = ctx_mul(g->ctx, p, e->size[l[j]]);
	return p;
}

/* whether labels l[0..nl) are laid out row-major and dense with strides str
 * (size-1 labels anywhere) */
static bool dense(const Einsum *e, const int64_t *str, const int *l, int nl)
{
	int64_t want = 1;
	for (int j = nl - 1; j >= 0; j--) {
		if (e->size[l[j]] == 1)
			continue;
		if (str[l[j]] != want)
			return false;
		want *= e->size[l[j]];
	}
	return true;
}

/* v (TR_EINSUM_VIEW) = strides str over labels l[0..nl), then summed sl[0..ns) */
static void make_view(const Einsum *e, const int64_t *str, const int *l, int nl, const int *sl,
                      int ns, int64_t *v)
{
	v[0] = nl + ns;
	v[1] = ns;
	for (int j = 0; j < 8; j++) {
		int lab = j < nl ? l[j] : j < nl + ns ? sl[j - nl] : -1;
		v[2 + j] = lab >= 0 ? e->size[lab] : 1;
		v[10 + j] = lab >= 0 ? str[lab] : 0;
	}
}

/* the labels of the operands and the output, by their part in a product */
enum { EB, EM, EN, EK, ESA, ESB, EPARTS };

void lower_einsum(Graph *g, Node *n)
{
	Einsum e;
	einsum_parse(g, n, &e);
	Tensor *a = n->in[0], *y = n->out[0];
	bool in_out[NLAB] = {false}, seen[NLAB] = {false};
	for (int j = 0; j < e.nout; j++)
		in_out[e.out[j]] = true;
	int part[EPARTS][MAX_RANK], np[EPARTS] = {0};
	int64_t v[TR_EINSUM_VIEW];
	if (e.nops == 1) {
		/* the output's labels, then the rest summed */
		for (int j = 0; j < e.rank[0]; j++) {
			int l = e.lab[0][j];
			if (!in_out[l] && !seen[l])
				part[ESA][np[ESA]++] = l;
			seen[l] = true;
		}
		make_view(&e, e.str[0], e.out, e.nout, part[ESA], np[ESA], v);
		Call *c = call_new(g, n, K_tr_einsum_sum_f32);
		call_in(c, a);
		call_out(c, y);
		call_ints(g, c, v, TR_EINSUM_VIEW);
		return;
	}
	Tensor *b = n->in[1];
	for (int j = 0; j < e.nout; j++) {
		int l = e.out[j], p = e.has[0][l] ? (e.has[1][l] ? EB : EM) : EN;
		part[p][np[p]++] = l;
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < e.rank[i]; j++) {
			int l = e.lab[i][j], p = e.has[0][l] && e.has[1][l] ? EK : i ? ESB : ESA;
			if (!in_out[l] && !seen[l])
				part[p][np[p]++] = l;
			seen[l] = true;
		}
	int64_t batch = labels_size(g, &e, part[EB], np[EB]), m = labels_size(g, &e, part[EM], np[EM]);
	int64_t k = labels_size(g, &e, part[EK], np[EK]), nn = labels_size(g, &e, part[EN], np[EN]);
	int64_t mk = ctx_mul(g->ctx, m, k), kn = ctx_mul(g->ctx, k, nn), mn = ctx_mul(g->ctx, m, nn);
	/* the labels of A' (batch, m, k) and its transpose, B' (batch, k, n) and
	 * its transpose, y' (batch, m, n) */
	int la[MAX_RANK], lat[MAX_RANK], lb[MAX_RANK], lbt[MAX_RANK], ly[MAX_RANK], na = 0, nb = 0;
	int ny = 0;
	static const int order[5][3] = {{EB, EM, EK}, {EB, EK, EM}, {EB, EK, EN}, {EB, EN, EK},
	                                {EB, EM, EN}};
	int *lists[5] = {la, lat, lb, lbt, ly}, *lens[5] = {&na, &na, &nb, &nb, &ny};
	for (int o = 0; o < 5; o++) {
		*lens[o] = 0;
		for (int q = 0; q < 3; q++)
			for (int j = 0; j < np[order[o][q]]; j++)
				lists[o][(*lens[o])++] = part[order[o][q]][j];
	}
	int64_t ystr[NLAB] = {0}, st = 1;
	for (int j = ny - 1; j >= 0; j--) {
		ystr[ly[j]] = st;
		st *= e.size[ly[j]];
	}
	/* an operand is read in place when it is exactly A' (or B'), or its
	 * transpose per batch: no diagonal, broadcast or label summed away */
	bool a_fit = tensor_nelem(a) == ctx_mul(g->ctx, batch, mk);
	bool b_fit = tensor_nelem(b) == ctx_mul(g->ctx, batch, kn);
	int ta = a_fit && !dense(&e, e.str[0], la, na) && dense(&e, e.str[0], lat, na);
	/* B' (k, 1) is also its transpose (1, k): read so, the GEMM takes dot products */
	int tb = b_fit && (nn == 1 || !dense(&e, e.str[1], lb, nb)) && dense(&e, e.str[1], lbt, nb);
	int ga = !a_fit || (!ta && !dense(&e, e.str[0], la, na));
	int gb = !b_fit || (!tb && !dense(&e, e.str[1], lb, nb));
	int gy = !dense(&e, ystr, e.out, e.nout);
	if (batch == 1 && !ga && !gb && !gy) {
		linalg_gemm(g, n, a, b, y, m, k, nn, ta, tb);
		return;
	}
	int64_t p[9 + 3 * TR_EINSUM_VIEW] = {batch, m, k, nn, ta, tb, ga, gb, gy};
	make_view(&e, e.str[0], la, na, part[ESA], np[ESA], p + 9);
	make_view(&e, e.str[1], lb, nb, part[ESB], np[ESB], p + 9 + TR_EINSUM_VIEW);
	make_view(&e, ystr, e.out, e.nout, NULL, 0, p + 9 + 2 * TR_EINSUM_VIEW);
	int64_t floats = (ga ? (ctx_mul(g->ctx, batch, mk) + 15) / 16 * 16 : 0) +
	                 (gb ? (ctx_mul(g->ctx, batch, kn) + 15) / 16 * 16 : 0) +
	                 (gy ? (ctx_mul(g->ctx, batch, mn) + 15) / 16 * 16 : 0);
	Call *c = call_new(g, n, K_tr_einsum_f32);
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	call_scratch(c, 4 * floats + tr_gemm_pack_bytes(m, k, nn));
	call_ints(g, c, p, 9 + 3 * TR_EINSUM_VIEW);
}
