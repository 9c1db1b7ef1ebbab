/*
 * fuse_conv.c -- what follows a channels-last convolution (ConvNhwc, made by
 * layout.c) into its epilogue, which runs on each output tile while it is
 * in cache (runtime/elementwise/act.h):
 *
 *   ConvNhwc -> Relu | Clip | HardSwish | HardSigmoid | Sigmoid | Gelu  ->  act
 *   ConvNhwc -> Sigmoid s, Mul(y, s)    (SiLU, as PyTorch exports it)  ->  act SiLU
 *   ConvNhwc [-> act] -> Add(y, r)      (a residual)                   ->  input r
 *   ... -> Add(y, r) -> Relu | ...      (ResNet's Relu after the add)  ->  act2
 *
 * so y = act2(act(conv + bias) + r).  Safety rule: the tensor between the
 * convolution and what is fused has no other reader and is not a graph
 * output; Clip's bounds and the activations' attributes are constants; r
 * has y's shape.  Relu, Clip, HardSwish, HardSigmoid and the add compute
 * what the separate nodes would, bit for bit; Sigmoid and SiLU use the
 * epilogue's vector exp (act.h), within a few ulp of the separate
 * Sigmoid.  A fused residual add moves the convolution to where the Add
 * was, after everything it reads.
 */
#include "tostc.h"

#include <math.h>

/* act.h's TR_ACT_* codes */
enum { ACT_NONE, ACT_RELU, ACT_CLIP, ACT_HARDSWISH, ACT_HARDSIGMOID, ACT_SIGMOID, ACT_SILU,
       ACT_GELU };

typedef struct {
	int64_t code;
	float a, b;
	Node *last;     /* the node whose output the fused conv takes over */
} Act;

static Node *only_reader(const Users *u, const Tensor *t)
{
	if (!t || t->is_output || t->id >= u->ntensors || u->count[t->id] != 1)
		return NULL;
	return u->nodes[t->id][0]->dead ? NULL : u->nodes[t->id][0];   /* (fused already) */
}

/* a constant scalar bound of Clip (dflt when absent) into *v */
static bool clip_bound(Graph *g, Node *e, int i, const char *attr, float dflt, float *v)
{
	if (g->opset < 11) {
		*v = attr_float(e, attr, dflt);
		return true;
	}
	Tensor *t = e->nin > i ? e->in[i] : NULL;
	if (!t) {
		*v = dflt;
		return true;
	}
	if (t->kind != TK_CONST || t->dtype != DT_F32 || tensor_nelem(t) != 1)
		return false;
	*v = (float)tensor_get_f(t, 0);
	return true;
}

/* The activation applied to y by its readers, or false */
static bool match_act(Graph *g, const Users *u, Tensor *y, Act *act)
{
	if (!y || y->is_output || y->id >= u->ntensors)
		return false;
	act->a = act->b = 0.0f;
	if (u->count[y->id] == 2) {
		/* SiLU: Sigmoid s = sigmoid(y) read only by Mul(y, s) (either order) */
		Node *s = u->nodes[y->id][0], *m = u->nodes[y->id][1];
		if (s->dead || m->dead)
			return false;
		if (s->op == OP_MUL)
			s = u->nodes[y->id][1], m = u->nodes[y->id][0];
		if (s->op != OP_SIGMOID || m->op != OP_MUL || only_reader(u, s->out[0]) != m ||
		    !((m->in[0] == y && m->in[1] == s->out[0]) || (m->in[1] == y && m->in[0] == s->out[0])))
			return false;
		s->dead = true;
		act->code = ACT_SILU;
		act->last = m;
		return true;
	}
	Node *e = only_reader(u, y);
	if (!e || e->in[0] != y)
		return false;
	act->last = e;
	switch (e->op) {
	case OP_RELU: act->code = ACT_RELU; return true;
	case OP_HARD_SWISH: act->code = ACT_HARDSWISH; return true;
	case OP_SIGMOID: act->code = ACT_SIGMOID; return true;
	case OP_GELU:
		act->code = ACT_GELU;
		return op_gelu_exact(e);
	case OP_HARD_SIGMOID:
		act->code = ACT_HARDSIGMOID;
		act->a = attr_float(e, "alpha", 0.2f);
		act->b = attr_float(e, "beta", 0.5f);
		return true;
	case OP_CLIP:
		act->code = ACT_CLIP;
		return clip_bound(g, e, 1, "min", -INFINITY, &act->a) &&
		       clip_bound(g, e, 2, "max", INFINITY, &act->b);
	default: return false;
	}
}

/* conv takes over e's output; e dies */
static void take_output(Graph *g, Node *conv, Node *e)
{
	Tensor *y = e->out[0];
	conv->out[0] = y;
	y->producer = conv;
	e->dead = true;
	conv->fused_from = ctx_printf(g->ctx, "%s, %s",
	                              conv->fused_from ? conv->fused_from : node_label(g->ctx, conv),
	                              node_label(g->ctx, e));
}

static void set_act(Graph *g, Node *n, const char *code, const char *a, const char *b,
                    const Act *act)
{
	node_add_attr(g, n, code, AT_INT)->i = act->code;
	node_add_attr(g, n, a, AT_FLOAT)->f = act->a;
	node_add_attr(g, n, b, AT_FLOAT)->f = act->b;
	take_output(g, n, act->last);
}

/* Add(y, r), y the conv's output read only here, r of y's shape */
static bool fuse_residual(Graph *g, const Users *u, Node *conv)
{
	Tensor *y = conv->out[0];
	Node *add = only_reader(u, y);
	if (!add || add->op != OP_ADD || add->in[0] == add->in[1])
		return false;
	Tensor *r = add->in[0] == y ? add->in[1] : add->in[0], *z = add->out[0];
	if (r->dtype != DT_F32 || r->rank != y->rank || z->rank != y->rank)
		return false;
	for (int i = 0; i < y->rank; i++)
		if (r->dims[i] != y->dims[i] || z->dims[i] != y->dims[i])
			return false;
	Tensor **in = ctx_alloc(g->ctx, sizeof(Tensor *) * 4);
	for (int i = 0; i < conv->nin; i++)
		in[i] = conv->in[i];
	in[3] = r;
	conv->in = in;
	conv->nin = 4;
	take_output(g, conv, add);
	/* the conv now runs where the Add did: after r is made */
	int pc = conv->pos, pa = add->pos;
	g->nodes[pa] = conv;
	g->nodes[pc] = add;
	conv->pos = pa;
	add->pos = pc;
	return true;
}

void fuse_conv(Graph *g)
{
	Users u = graph_users(g);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		Act act;
		if (n->dead || n->op != OP_CONV_NHWC || (n->nin > 3 && n->in[3]))
			continue;   /* (one with a residual has all it can take) */
		if (!attr_int(n, "act", 0) && match_act(g, &u, n->out[0], &act))
			set_act(g, n, "act", "act_a", "act_b", &act);
		if (fuse_residual(g, &u, n) && match_act(g, &u, n->out[0], &act))
			set_act(g, n, "act2", "act2_a", "act2_b", &act);
	}
	graph_compact(g);
	graph_count_users(g);
}
