/*
 * op_control.c -- If and Loop: nodes that hold subgraphs (Node.sub).
 *
 * The loader reads each subgraph into a Graph of its own whose inputs are
 * its declared ones (a Loop body's iteration number, condition and carried
 * values) followed by the node's captures, the tensors of the enclosing
 * graph it reads (onnx.c, read_control).  Shape inference decides what
 * becomes of the node:
 *
 *   If, condition constant (folded, or from --const-input): the chosen
 *     branch is copied into the graph after the node (graph_splice) and the
 *     node's outputs become Identity views of the branch's; the node dies.
 *   If, condition computed at run time: both branches are compiled, each
 *     through the whole pipeline, as graphs of their own; their outputs must
 *     have the same types and shapes.  The generated code calls one of two
 *     functions (emit_c.c) with a workspace of the larger branch's size,
 *     inside this graph's (sub_ws).
 *   Loop with a constant trip count M, a condition that is absent or true,
 *     and at most LOOP_MAX_UNROLL iterations of at most LOOP_MAX_NODES nodes
 *     in all: the body is copied M times, each copy reading the previous
 *     one's carried values, its iteration number a constant; a LoopCheck
 *     node per copy requires the body's condition to fold to true.  Scan
 *     outputs are stacked along a new first axis.
 *   Any other Loop runs as a loop: the body is compiled on its own, and the
 *     generated code calls it once an iteration (emit_c.c), its carried
 *     values in two buffers that trade places, its scan outputs written row
 *     by row.  Scan outputs need a constant M and a body condition that
 *     folds to true (their shape is static); without scan outputs M may be
 *     computed at run time or omitted, and the condition may stop the loop.
 */
#include "tostc.h"

#include <string.h>

#define LOOP_MAX_UNROLL 1024
#define LOOP_MAX_NODES 8192   /* nodes an unrolled loop may add */

/* ---- copying subgraphs ---- */

static Graph *clone_graph(Ctx *c, Graph *sg);

/* The copies of sg's nodes after position pos of g: map[id] is the tensor of
 * g that tensor id of sg became (preset for sg's inputs). */
static void copy_nodes(Graph *g, int pos, Graph *sg, Tensor **map)
{
	Ctx *c = g->ctx;
	for (int i = 0; i < sg->ntensors; i++) {
		Tensor *t = sg->tensors[i];
		if (map[i])
			continue;
		if (t->kind == TK_CONST) {
			map[i] = tensor_new(g, t->name, TK_CONST, t->dtype, t->rank, t->dims);
			map[i]->data = t->data;
			map[i]->from_double = t->from_double;
		} else {
			map[i] = tensor_new(g, t->name, TK_VALUE, t->dtype, t->rank,
			                    t->shape_known ? t->dims : NULL);
			map[i]->shape_known = false;
		}
	}
	for (int i = 0; i < sg->nnodes; i++) {
		Node *s = sg->nodes[i];
		if (s->dead)
			continue;
		Node *n = node_new(g, s->op, s->name, s->nin, s->nout);
		n->src_op = s->src_op;
		n->index = s->index;
		n->loc = s->loc;
		n->attrs = s->attrs;
		n->nattrs = s->nattrs;
		for (int j = 0; j < s->nin; j++)
			n->in[j] = s->in[j] ? map[s->in[j]->id] : NULL;
		for (int j = 0; j < s->nout; j++) {
			n->out[j] = s->out[j] ? map[s->out[j]->id] : NULL;
			if (n->out[j])
				n->out[j]->producer = n;
		}
		for (int b = 0; b < 2; b++)
			n->sub[b] = s->sub[b] ? clone_graph(c, s->sub[b]) : NULL;
		graph_insert_node(g, pos++, n);
	}
}

static Graph *clone_graph(Ctx *c, Graph *sg)
{
	Graph *g = graph_new(c);
	g->name = sg->name;
	g->opset = sg->opset;
	Tensor **map = ctx_alloc(c, sizeof(Tensor *) * (size_t)(sg->ntensors + 1));
	g->inputs = ctx_alloc(c, sizeof(Tensor *) * (size_t)(sg->ninputs + 1));
	for (int i = 0; i < sg->ninputs; i++) {
		Tensor *t = sg->inputs[i];
		map[t->id] = tensor_new(g, t->name, TK_INPUT, t->dtype, 0, NULL);
		map[t->id]->shape_known = false;
		g->inputs[g->ninputs++] = map[t->id];
	}
	copy_nodes(g, 0, sg, map);
	g->outputs = ctx_alloc(c, sizeof(Tensor *) * (size_t)(sg->noutputs + 1));
	for (int i = 0; i < sg->noutputs; i++) {
		g->outputs[g->noutputs++] = map[sg->outputs[i]->id];
		map[sg->outputs[i]->id]->is_output = true;
	}
	return g;
}

void graph_splice(Graph *g, int pos, Graph *sg, Tensor *const *bind, Tensor **out)
{
	Ctx *c = g->ctx;
	Tensor **map = ctx_alloc(c, sizeof(Tensor *) * (size_t)(sg->ntensors + 1));
	for (int i = 0; i < sg->ninputs; i++)
		map[sg->inputs[i]->id] = bind[i];
	copy_nodes(g, pos, sg, map);
	for (int i = 0; i < sg->noutputs; i++)
		out[i] = map[sg->outputs[i]->id];
}

/* n's output j becomes a view of t (an Identity node after position pos). */
static void alias_output(Graph *g, Node *n, int j, Tensor *t, int pos)
{
	Node *id = node_new(g, OP_IDENTITY, n->name, 1, 1);
	id->src_op = n->src_op;
	id->index = n->index;
	id->loc = n->loc;
	id->in[0] = t;
	id->out[0] = n->out[j];
	n->out[j]->producer = id;
	graph_insert_node(g, pos, id);
}

/* ---- If ---- */

static bool const_true(const Tensor *t)
{
	return t->kind == TK_CONST && tensor_nelem(t) >= 1 && tensor_get_i(t, 0) != 0;
}

/* The subgraph's inputs take the types and shapes of the node's inputs from
 * `first` on; a captured constant becomes a constant of the subgraph (it
 * folds there) and leaves both input lists. */
static void bind_inputs(Graph *g, Node *n, int first, int declared)
{
	int nsub = n->sub[1] ? 2 : 1, k = first;
	for (int j = first; j < n->nin; j++) {
		Tensor *x = n->in[j];
		bool konst = x->kind == TK_CONST;
		for (int b = 0; b < nsub; b++) {
			Graph *sg = n->sub[b];
			Tensor *t = sg->inputs[declared + (j - first)];
			shape_set(t, x->dtype, x->rank, x->dims);
			if (konst) {
				t->kind = TK_CONST;
				t->data = x->data;
				t->from_double = x->from_double;
			}
		}
		if (!konst)
			n->in[k++] = x;
	}
	for (int b = 0; b < nsub; b++) {
		Graph *sg = n->sub[b];
		int m = declared;
		for (int j = declared; j < sg->ninputs; j++)
			if (sg->inputs[j]->kind == TK_INPUT)
				sg->inputs[m++] = sg->inputs[j];
		sg->ninputs = m;
	}
	n->nin = k;
	(void)g;
}

void shape_if(Graph *g, Node *n)
{
	Tensor *cond = n->in[0];
	need_dtype(g, n, 0, 1u << DT_BOOL);
	if (tensor_nelem(cond) != 1)
		node_error(g, n, "the condition must hold one element, not %s", tensor_shape_str(g->ctx, cond));
	if (cond->kind == TK_CONST) {
		/* the branch it takes, copied in; the node's outputs are its outputs */
		Graph *sg = n->sub[const_true(cond) ? 0 : 1];
		if (sg->noutputs != n->nout)
			node_error(g, n, "the branch has %d outputs; the node %d", sg->noutputs, n->nout);
		Tensor **out = ctx_alloc(g->ctx, sizeof(Tensor *) * (size_t)(n->nout + 1));
		graph_splice(g, n->pos + 1, sg, n->in + 1, out);
		int at = n->pos + 1;
		for (int i = 0; i < sg->nnodes; i++)
			at += !sg->nodes[i]->dead;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				alias_output(g, n, j, out[j], at++);
		n->dead = true;
		return;
	}
	/* both branches, compiled on their own; one runs */
	bind_inputs(g, n, 1, 0);
	for (int b = 0; b < 2; b++) {
		Graph *sg = n->sub[b];
		if (sg->noutputs != n->nout)
			node_error(g, n, "the %s branch has %d outputs; the node %d", b ? "else" : "then",
			           sg->noutputs, n->nout);
		pipeline_run(sg, NULL, NULL);
		if (sg->arena_size > n->sub_ws)
			n->sub_ws = sg->arena_size;
	}
	for (int j = 0; j < n->nout; j++) {
		Tensor *a = n->sub[0]->outputs[j], *b = n->sub[1]->outputs[j];
		bool same = a->dtype == b->dtype && a->rank == b->rank;
		for (int k = 0; same && k < a->rank; k++)
			same = a->dims[k] == b->dims[k];
		if (!same)
			node_error(g, n, "output %d is %s in the then branch and %s in the else branch; "
			           "tostc needs one static shape", j, tensor_shape_str(g->ctx, a),
			           tensor_shape_str(g->ctx, b));
		if (n->out[j])
			shape_set(n->out[j], a->dtype, a->rank, a->dims);
	}
}

/* A run-time If makes no kernel calls: emit_c.c writes the branch calls. */
void lower_if(Graph *g, Node *n)
{
	(void)g;
	(void)n;
}

/* ---- Loop ---- */

void lower_none(Graph *g, Node *n)
{
	(void)g;
	(void)n;
}

void shape_loop_check(Graph *g, Node *n)
{
	Tensor *c = n->in[0];
	if (c->kind != TK_CONST)
		node_error(g, n, "the loop body's condition is computed at run time; tostc unrolls "
		           "only loops that run their full trip count");
	if (!const_true(c))
		node_error(g, n, "the loop body's condition becomes false: the loop stops early, "
		           "which tostc does not compile");
	n->dead = true;
}

void loop_layout(const Node *n, int64_t *iter, int64_t *cond, int64_t *cur, int64_t *next)
{
	Graph *body = n->sub[0];
	int ncarried = (int)attr_int(n, "carried", 0);
	int64_t at = (body->arena_size + 63) / 64 * 64;
	*iter = at;
	*cond = at + 8;   /* two bytes: the condition, the body's next one */
	at += 64;
	for (int k = 0; k < ncarried; k++) {
		int64_t b = (tensor_nbytes(body->inputs[2 + k]) + 63) / 64 * 64;
		cur[k] = at;
		next[k] = at + b;
		at += 2 * b;
	}
	if (n->sub_ws < at)
		ctx_bug(body->ctx, __FILE__, __LINE__, "a loop's workspace is smaller than its layout");
}

/* The loop run as a loop (see the file comment): its body compiled, its
 * outputs' shapes set, its workspace sized. */
static void run_time_loop(Graph *g, Node *n, int64_t trips, int ncarried, int nscan)
{
	Ctx *c = g->ctx;
	Graph *body = n->sub[0];
	Tensor *M = n->nin > 0 ? n->in[0] : NULL, *cond = n->nin > 1 ? n->in[1] : NULL;
	if (!M && !cond)
		node_error(g, n, "has neither a trip count nor a condition: it never ends");
	if (M && (M->dtype != DT_I64 || tensor_nelem(M) != 1))
		node_error(g, n, "the trip count M must be one int64, not %s", tensor_shape_str(c, M));
	if (cond && (cond->dtype != DT_BOOL || tensor_nelem(cond) != 1))
		node_error(g, n, "the condition must be one bool, not %s", tensor_shape_str(c, cond));
	if (nscan > 0) {   /* scan outputs have a static shape: M rows, every time */
		need_const(g, n, 0);
		if (cond) {
			need_const(g, n, 1);
			if (!const_true(cond))
				node_error(g, n, "has scan outputs and a condition that is false: their shape "
				           "would have no rows");
		}
	}
	shape_set(body->inputs[0], DT_I64, 0, NULL);
	shape_set(body->inputs[1], DT_BOOL, 0, NULL);
	for (int k = 0; k < ncarried; k++) {
		Tensor *x = n->in[2 + k];
		if (!x)
			node_error(g, n, "carried value %d has no initial value", k);
		shape_set(body->inputs[2 + k], x->dtype, x->rank, x->dims);
	}
	bind_inputs(g, n, 2 + ncarried, 2 + ncarried);
	/* a scan output nobody reads is not made */
	int m = 1 + ncarried;
	for (int k = 0; k < nscan; k++)
		if (n->out[ncarried + k])
			body->outputs[m++] = body->outputs[1 + ncarried + k];
	body->noutputs = m;
	pipeline_run(body, NULL, NULL);
	Tensor *co = body->outputs[0];
	if (co->dtype != DT_BOOL || tensor_nelem(co) != 1)
		node_error(g, n, "the body's condition output must be one bool, not %s",
		           tensor_shape_str(c, co));
	/* the condition stays true when it folds to true or the body passes its own through */
	Tensor *ci = body->inputs[1];
	bool passes = co == ci || (co->producer && (op_info[co->producer->op].flags & OPF_VIEW) &&
	                           tensor_root(co->producer->in[0]) == ci);
	if (nscan > 0 && !passes && !(co->kind == TK_CONST && const_true(co)))
		node_error(g, n, "has scan outputs, so the body's condition must be a constant true "
		           "(a loop that stops early gives them no static shape)");
	for (int k = 0; k < ncarried; k++) {
		Tensor *a = body->inputs[2 + k], *b = body->outputs[1 + k];
		bool same = a->dtype == b->dtype && a->rank == b->rank;
		for (int j = 0; same && j < a->rank; j++)
			same = a->dims[j] == b->dims[j];
		if (!same)
			node_error(g, n, "carried value %d is %s in and %s out of the body; tostc needs "
			           "one static shape", k, tensor_shape_str(c, a), tensor_shape_str(c, b));
		if (n->out[k])
			shape_set(n->out[k], a->dtype, a->rank, a->dims);
	}
	for (int k = 0, b = 1 + ncarried; k < nscan; k++) {
		Tensor *y = n->out[ncarried + k];
		if (!y)
			continue;
		Tensor *s = body->outputs[b++];
		if (s->rank + 1 > MAX_RANK)
			node_error(g, n, "scan output %d would have rank %d", k, s->rank + 1);
		int64_t dims[MAX_RANK] = {trips};
		memcpy(dims + 1, s->dims, sizeof(int64_t) * (size_t)s->rank);
		shape_set(y, s->dtype, s->rank + 1, dims);
	}
	int64_t ws = (body->arena_size + 63) / 64 * 64 + 64;
	for (int k = 0; k < ncarried; k++)
		ws = ctx_add(c, ws, 2 * ((tensor_nbytes(body->inputs[2 + k]) + 63) / 64 * 64));
	n->sub_ws = ws;
}

void shape_loop(Graph *g, Node *n)
{
	Ctx *c = g->ctx;
	Graph *body = n->sub[0];
	int ncarried = (int)attr_int(n, "carried", 0);
	int nscan = body->noutputs - 1 - ncarried;
	Tensor *M = n->nin > 0 ? n->in[0] : NULL, *cond = n->nin > 1 ? n->in[1] : NULL;
	if (nscan < 0 || n->nout != ncarried + nscan)
		node_error(g, n, "the body has %d outputs for %d carried values", body->noutputs,
		           ncarried);
	int64_t trips = M && M->kind == TK_CONST && tensor_nelem(M) == 1 ? tensor_get_i(M, 0) : -1;
	bool unroll = trips >= 0 && trips <= LOOP_MAX_UNROLL &&
	              trips * body->nnodes <= LOOP_MAX_NODES &&
	              (!cond || cond->kind == TK_CONST);
	if (trips < -1 || (M && M->kind == TK_CONST && trips < 0))
		node_error(g, n, "trip count %lld is negative", (long long)trips);
	if (!unroll) {
		run_time_loop(g, n, trips, ncarried, nscan);
		return;
	}
	if (cond && !const_true(cond))
		trips = 0;         /* the loop never runs */
	if (trips == 0 && nscan > 0)
		node_error(g, n, "a loop of 0 iterations with scan outputs has no element shape");
	/* bind: iteration number, condition, carried values, captures */
	int nbind = body->ninputs;
	Tensor **bind = ctx_alloc(c, sizeof(Tensor *) * (size_t)(nbind + 1));
	Tensor **out = ctx_alloc(c, sizeof(Tensor *) * (size_t)(body->noutputs + 1));
	Tensor ***scan = ctx_alloc(c, sizeof(Tensor **) * (size_t)(nscan + 1));
	for (int k = 0; k < nscan; k++)
		scan[k] = ctx_alloc(c, sizeof(Tensor *) * (size_t)(trips + 1));
	Tensor *yes = tensor_const(g, "loop.true", DT_BOOL, 0, NULL);
	((uint8_t *)yes->data)[0] = 1;
	for (int k = 0; k < ncarried; k++)
		bind[2 + k] = n->in[2 + k];
	for (int k = 2 + ncarried; k < nbind; k++)
		bind[k] = n->in[k];
	int at = n->pos + 1;
	for (int64_t it = 0; it < trips; it++) {
		Tensor *i = tensor_const(g, ctx_printf(c, "%s.iter%lld", n->name, (long long)it),
		                         DT_I64, 0, NULL);
		((int64_t *)i->data)[0] = it;
		bind[0] = i;
		bind[1] = yes;
		int before = g->nnodes;
		graph_splice(g, at, body, bind, out);
		at += g->nnodes - before;
		Node *chk = node_new(g, OP_LOOP_CHECK, n->name, 1, 0);
		chk->src_op = n->src_op;
		chk->index = n->index;
		chk->in[0] = out[0];
		graph_insert_node(g, at++, chk);
		for (int k = 0; k < ncarried; k++)
			bind[2 + k] = out[1 + k];
		for (int k = 0; k < nscan; k++)
			scan[k][it] = out[1 + ncarried + k];
	}
	for (int k = 0; k < ncarried; k++)
		if (n->out[k])
			alias_output(g, n, k, bind[2 + k], at++);
	/* scan outputs: each iteration's value with a new first axis, concatenated */
	for (int k = 0; k < nscan; k++) {
		Tensor *y = n->out[ncarried + k];
		if (!y)
			continue;
		Node *cat = node_new(g, OP_CONCAT, n->name, (int)trips, 1);
		cat->src_op = n->src_op;
		cat->index = n->index;
		node_add_attr(g, cat, "axis", AT_INT)->i = 0;
		for (int64_t it = 0; it < trips; it++) {
			Node *un = node_new(g, OP_UNSQUEEZE, n->name, g->opset >= 13 ? 2 : 1, 1);
			un->src_op = n->src_op;
			un->index = n->index;
			un->in[0] = scan[k][it];
			if (g->opset >= 13) {
				int64_t zero = 0;
				Tensor *ax = tensor_const(g, "loop.axis0", DT_I64, 1, (int64_t[]){1});
				memcpy(ax->data, &zero, sizeof zero);
				un->in[1] = ax;
			} else {
				Attr *a = node_add_attr(g, un, "axes", AT_INTS);
				a->ints = ctx_alloc(c, sizeof(int64_t));
				a->n = 1;
			}
			un->out[0] = tensor_new(g, ctx_printf(c, "%s.scan%d.%lld", n->name, k, (long long)it),
			                        TK_VALUE, DT_UNDEF, 0, NULL);
			un->out[0]->shape_known = false;
			un->out[0]->producer = un;
			graph_insert_node(g, at++, un);
			cat->in[it] = un->out[0];
		}
		cat->out[0] = y;
		y->producer = cat;
		graph_insert_node(g, at++, cat);
	}
	n->dead = true;
}

/* A loop run as a loop makes no kernel calls: emit_c.c writes the loop. */
void lower_loop(Graph *g, Node *n)
{
	(void)g;
	(void)n;
}
