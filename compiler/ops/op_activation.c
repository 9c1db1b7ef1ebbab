/*
 * op_activation.c -- shape and lower functions of the activations whose
 * kernels take the op's attributes (LeakyRelu, HardSigmoid, Elu, Selu, Celu,
 * ThresholdedRelu, Shrink, IsInf) and of Gelu.
 *
 * Such a kernel is x (n) -> y (n) followed by one scalar parameter per
 * attribute, and each parameter is named after its attribute in
 * runtime/kernels.def (tr_selu_f32(x, y, n, alpha, gamma)).  So an
 * activation here is one table row, its kernel and the ONNX defaults of its
 * attributes in the kernel's parameter order; the shape function checks each
 * attribute the kernel names, and lowering passes attr(name) or the default.
 *
 * Gelu is the exact GELU that fuse_common.c makes from the erf pattern
 * torch exports, and since opset 20 an ONNX op with approximate = "none"
 * (the same kernel, gelu.h) or "tanh" (activation.h).  The fusions that put
 * a GELU into a GEMM or Conv epilogue or an MlpBlock take only the exact one
 * (op_gelu_exact).
 */
#include "tostc.h"

#include <string.h>

typedef struct {
	OpKind op;
	KernelId kernel;
	double dflt[2];   /* the attributes' defaults, in the kernel's parameter order */
} Activation;

#define SELU_ALPHA 1.67326319217681884765625   /* ONNX's float defaults */
#define SELU_GAMMA 1.05070102214813232421875

static const Activation activations[] = {
	{OP_LEAKY_RELU, K_tr_leaky_relu_f32, {0.01}},
	{OP_HARD_SIGMOID, K_tr_hard_sigmoid_f32, {0.2, 0.5}},
	{OP_ELU, K_tr_elu_f32, {1.0}},
	{OP_SELU, K_tr_selu_f32, {SELU_ALPHA, SELU_GAMMA}},
	{OP_CELU, K_tr_celu_f32, {1.0}},
	{OP_THRESHOLDED_RELU, K_tr_thresholded_relu_f32, {1.0}},
	{OP_SHRINK, K_tr_shrink_f32, {0.0, 0.5}},     /* bias, lambd */
	{OP_IS_INF, K_tr_isinf_f32, {1, 1}},          /* detect_negative, detect_positive */
};

enum { FIRST_PARAM = 3 };   /* after x, y, n */

static const Activation *activation(Graph *g, const Node *n)
{
	for (size_t i = 0; i < sizeof activations / sizeof activations[0]; i++)
		if (activations[i].op == n->op)
			return &activations[i];
	unreachable(g->ctx);
}

void shape_activation(Graph *g, Node *n)
{
	const Activation *a = activation(g, n);
	const KernelInfo *k = &kernel_info[a->kernel];
	need_dtype(g, n, 0, 1u << DT_F32);
	for (int i = FIRST_PARAM; i < k->nparams; i++) {
		const KernelParam *p = &k->params[i];
		const Attr *at = attr_find(n, p->name);
		if (!at)
			continue;
		if (p->kind == ARG_FLOAT && at->kind != AT_FLOAT && at->kind != AT_INT)
			node_error(g, n, "attribute '%s' must be a float", p->name);
		if (p->kind == ARG_INT && at->kind != AT_INT)
			node_error(g, n, "attribute '%s' must be an integer", p->name);
	}
	if (n->op == OP_CELU && attr_float(n, "alpha", 1.0f) == 0.0f)
		node_error(g, n, "alpha must not be 0 (Celu divides by it)");
	Tensor *x = n->in[0];
	shape_set(n->out[0], k->params[1].dtype, x->rank, x->dims);
}

/* x (n) -> y (n), then each attribute by the name of its kernel parameter */
void lower_activation(Graph *g, Node *n)
{
	const Activation *a = activation(g, n);
	const KernelInfo *k = &kernel_info[a->kernel];
	Call *c = call_new(g, n, a->kernel);
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_int(c, tensor_nelem(n->out[0]));
	for (int i = FIRST_PARAM; i < k->nparams; i++) {
		const KernelParam *p = &k->params[i];
		double d = a->dflt[i - FIRST_PARAM];
		if (p->kind == ARG_FLOAT)
			call_float(c, attr_float(n, p->name, (float)d));
		else
			call_int(c, attr_int(n, p->name, (int64_t)d));
	}
}

/* ---- Gelu ---- */

/* (tostc.h) also used by the fusions that take a GELU into a kernel */
bool op_gelu_exact(const Node *n)
{
	return n->op == OP_GELU && strcmp(attr_string(n, "approximate", "none"), "none") == 0;
}

void shape_gelu(Graph *g, Node *n)
{
	need_dtype(g, n, 0, 1u << DT_F32);
	const Attr *a = attr_find(n, "approximate");
	if (a && (a->kind != AT_STRING || (strcmp(a->s, "none") && strcmp(a->s, "tanh"))))
		node_error(g, n, "approximate must be \"none\" or \"tanh\", got %s",
		           a->kind == AT_STRING ? text_msg(g->ctx, ctx_printf(g->ctx, "\"%s\"", a->s))
		                                : "a non-string value");
	shape_set(n->out[0], DT_F32, n->in[0]->rank, n->in[0]->dims);
}

/* x (n) -> y (n) */
void lower_gelu(Graph *g, Node *n)
{
	Call *c = call_new(g, n, op_gelu_exact(n) ? K_tr_gelu_f32 : K_tr_gelu_tanh_f32);
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_int(c, tensor_nelem(n->in[0]));
}
