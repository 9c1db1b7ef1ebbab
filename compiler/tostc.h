/*
 * tostc.h -- the one internal header of the tostc compiler.
 *
 * The compiler is a straight pipeline (see pipeline.c):
 *
 *   front end (onnx.c, dsl.c)  ->  Graph (this header's IR)
 *   passes    (shape.c, fold.c, dce.c, views.c, fuse_*.c)  : void pass(Graph *g)
 *   lowering  (lower.c + op_*.c)  : every live node gets a list of kernel Calls
 *   planning  (plan.c)  : every intermediate tensor and scratch gets an arena offset
 *   emitters  (emit_c.c) : Graph + Calls + plan -> model.c / model.h
 *
 * Invariants of the IR between passes (checked by ir_check):
 *   - g->nodes is in topological order; a node's inputs are produced earlier,
 *     are graph inputs, or are constants (TK_CONST with data);
 *   - after shape inference every tensor has a static shape and an element type;
 *   - nothing is freed individually: everything lives in the Ctx arena and goes
 *     with ctx_free().
 *
 * Errors: user errors go through ctx_error()/node_error(), which format one
 * message and longjmp to the driver (exit status 1); internal bugs use
 * unreachable() (exit status 2).  Library code never calls exit().
 *
 * The file is sectioned per source file; each section lists that file's public
 * functions.  Everything else in a .c file is static.
 */
#ifndef TOSTC_H
#define TOSTC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TOSTC_VERSION "0.1.0"

#define MAX_RANK 8        /* highest tensor rank the IR and runtime support */
#define MAX_ARGS 24       /* arguments of one kernel call */
#define MAX_DIM_BINDINGS 64

typedef struct Ctx Ctx;
typedef struct Graph Graph;
typedef struct Tensor Tensor;
typedef struct Node Node;
typedef struct Attr Attr;
typedef struct Call Call;
typedef struct TokenAxes TokenAxes;
typedef struct WeightBlob WeightBlob;

/* ------------------------------------------------------------------ */
/* Element types                                                        */
/* ------------------------------------------------------------------ */

typedef enum {
	DT_UNDEF,
	DT_F32,  /* float */
	DT_I64,  /* int64_t */
	DT_I32,  /* int32_t */
	DT_BOOL, /* uint8_t holding 0 or 1 */
	DT_I8,   /* int8_t: quantized values */
	DT_U8,   /* uint8_t: quantized values */
	DT_F16,  /* uint16_t holding IEEE binary16 bits */
	DT_BF16, /* uint16_t holding bfloat16 bits (the high half of a float) */
	DT_COUNT
} DType;

/* Every element type: the mask of need_dtype for ops that only move bytes */
#define DT_MASK_ALL ((1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32) | (1u << DT_BOOL) | \
                     (1u << DT_I8) | (1u << DT_U8) | (1u << DT_F16) | (1u << DT_BF16))

const char *dtype_name(DType t);  /* "f32", "i64", ... */
const char *dtype_ctype(DType t); /* "float", "int64_t", ... */
const char *dtype_suffix(DType t);/* kernel suffix: "f32", "i64", "i32", "b8", "u8", ... */
const char *dtype_numpy(DType t); /* numpy's name: "float32", "int8", ...; "bfloat16" */
size_t dtype_size(DType t);
DType dtype_from_onnx(int onnx_type); /* DT_UNDEF when unsupported */
const char *onnx_type_name(int onnx_type); /* "FLOAT", "DOUBLE", ... for messages */

/* ------------------------------------------------------------------ */
/* ir.c: context, arena, errors, tensors, nodes, attributes, dump, check */
/* ------------------------------------------------------------------ */

/* A --dim NAME=VALUE binding. */
typedef struct {
	const char *name;
	int64_t value;
	bool used;
} DimBinding;

/* A --const-input NAME=FILE.pb binding: graph input NAME becomes a constant
 * read from a serialized ONNX TensorProto (as in ONNX test data). */
typedef struct {
	const char *name, *path;
	bool used;
} ConstInput;

typedef struct Chunk Chunk;

struct Ctx {
	const char *path;        /* input file, as the user named it (for messages) */
	jmp_buf *jmp;            /* where ctx_error() unwinds to */
	char errmsg[2048];       /* the formatted error, without "error: " */
	int errcode;             /* 1: user error, 2: internal error */
	Chunk *chunks;           /* the arena: everything of one compilation */
	DimBinding dims[MAX_DIM_BINDINGS];
	int ndims;
	ConstInput consts[MAX_DIM_BINDINGS];
	int nconsts;
	bool no_fuse;            /* --no-fuse */
	const char **deps;       /* every input file the compile read (ctx_depend) */
	int ndeps, capdeps;
	struct PackedWeight *packed; /* op_linalg.c: weights packed so far, shared by the
	                          * compilation's graphs (the step API's reuse them) */
};

void ctx_init(Ctx *c, const char *path);
void ctx_free(Ctx *c);
void *ctx_alloc(Ctx *c, size_t n);               /* zeroed, 64-byte aligned */
char *ctx_strdup(Ctx *c, const char *s);
char *ctx_printf(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a user error ("<path>: error: <msg>") and unwind to the driver.
 * ctx->errmsg then holds the whole line the driver prints. */
_Noreturn void ctx_error(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a user error about a node:
 * "<path>: error: node 'name' (Op, #index): <msg>", or for DSL nodes
 * "<file>:<line>:<col>: error: <layer>: <msg>". */
_Noreturn void node_error(Graph *g, const Node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void ctx_bug(Ctx *c, const char *file, int line, const char *msg);
/* Unwind again with the error already in ctx->errmsg (a handler that only
 * added to the message). */
_Noreturn void ctx_rethrow(Ctx *c);
#define unreachable(c) ctx_bug((c), __FILE__, __LINE__, "unreachable")
#define ir_assert(c, e) ((e) ? (void)0 : ctx_bug((c), __FILE__, __LINE__, #e))

/* Checked arithmetic on sizes: errors (not UB) on overflow. */
int64_t ctx_mul(Ctx *c, int64_t a, int64_t b);
int64_t ctx_add(Ctx *c, int64_t a, int64_t b);

/* The whole file at path, NUL-terminated, in the arena; *size is its length.
 * ctx_error "cannot open <what> '<path>'" (also for anything but a regular
 * file) or "cannot read ..."; what names the kind of file ("" for none). */
char *ctx_read_file(Ctx *c, const char *what, const char *path, long *size);
/* The compile read path (--depfile lists each once; ctx_read_file calls it). */
void ctx_depend(Ctx *c, const char *path);

/* FNV-1a 64 of n bytes, continuing from hash h (FNV1A_BASIS to start): the
 * source hash in the provenance comment, and onnx.c's name table. */
#define FNV1A_BASIS 0xcbf29ce484222325ull
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* Where a node came from. ONNX: name/op/index; DSL: file:line:col. */
typedef struct {
	const char *file;  /* DSL file, NULL for ONNX */
	int line, col;
} SrcLoc;

typedef enum {
	TK_VALUE,  /* computed at run time by a node */
	TK_INPUT,  /* graph input: a pointer the caller passes */
	TK_CONST,  /* constant: weight, initializer, or folded value; data != NULL */
} TensorKind;

struct Tensor {
	const char *name;        /* unique within the graph */
	TensorKind kind;
	DType dtype;
	int rank;
	int64_t dims[MAX_RANK];  /* static; valid once shape_known */
	bool shape_known;
	bool is_output;          /* a graph output (written to a caller pointer) */
	void *data;              /* TK_CONST: nelem * dtype_size bytes, row-major */
	Node *producer;          /* TK_VALUE: the node that writes it */
	Tensor *view_of;         /* views.c: shares the memory of this (root) tensor */
	bool from_double;        /* onnx.c: a DOUBLE constant rounded to f32 (must feed a Cast to float) */
	int id;                  /* index in g->tensors */
	/* planner results (plan.c) */
	int64_t offset;          /* byte offset in the arena; -1 when not in the arena */
	int def, last_use;       /* live range in node positions */
	int nusers;              /* number of live node inputs that read it */
};

typedef enum { AT_INT, AT_FLOAT, AT_INTS, AT_FLOATS, AT_STRING, AT_TENSOR, AT_STRINGS, AT_OTHER } AttrKind;

struct Attr {
	const char *name;
	AttrKind kind;
	int64_t i;
	float f;
	int64_t *ints;
	float *floats;
	int n;                   /* element count of ints / floats / strs */
	const char *s;
	const char **strs;       /* AT_STRINGS (the recurrent layers' activations) */
	Tensor *t;               /* AT_TENSOR: a TK_CONST tensor */
};

/* The op table: ops.def, one line an op. */
typedef enum {
#define OP(id, onnx, min_in, max_in, min_out, max_out, flags, shape, lower, stream, flops, \
           attrs, doc) OP_##id,
#include "ops.def"
#undef OP
	OP_COUNT
} OpKind;

enum {
	OPF_VIEW = 1,        /* output is input 0 reinterpreted: Reshape, Squeeze, ... */
	OPF_INPLACE = 2,     /* output may share memory with input 0 (or 1) of the same shape */
	OPF_INTERNAL = 4,    /* produced by passes (fusion), not an ONNX op */
	OPF_NOFOLD = 8,      /* never constant-folded (nothing to fold) */
	OPF_ELEMENTWISE = 16,/* output element i reads element i of every input, broadcast
	                      * numpy-style, and nothing else (streams token by token) */
};

typedef void ShapeFn(Graph *g, Node *n);   /* set n->out[*] dtype and dims */
typedef void LowerFn(Graph *g, Node *n);   /* append kernel calls to n->calls */
/* stream.c: set the token axes of n's outputs; NULL when n is token-wise,
 * otherwise why not (stream_rules.c) */
typedef const char *StreamFn(TokenAxes *tok, Node *n);
typedef int64_t FlopsFn(const Node *n);    /* --report's FLOPs of n (flops.c) */

typedef struct {
	const char *name;     /* ONNX op type ("MatMul"), or internal name */
	int min_in, max_in;   /* max_in -1: variadic */
	int min_out, max_out;
	int flags;            /* OPF_* */
	ShapeFn *shape;
	LowerFn *lower;
	StreamFn *stream;     /* NULL: not token-wise, unless elementwise or a view */
	FlopsFn *flops;
	const char *attrs;    /* supported attributes, for --help and docs/ops.md */
	const char *doc;      /* one line */
} OpInfo;

extern const OpInfo op_info[OP_COUNT];
OpKind op_lookup(const char *onnx_name);   /* OP_COUNT when unknown */

struct Node {
	OpKind op;
	const char *name;        /* ONNX node name (may be ""), or DSL label */
	const char *src_op;      /* op type as written in the source */
	int index;               /* position in the source graph */
	SrcLoc loc;              /* DSL position; loc.file NULL for ONNX */
	Tensor **in;             /* in[i] NULL: omitted optional input */
	int nin;
	Tensor **out;
	int nout;
	Attr *attrs;
	int nattrs;
	bool dead;               /* removed by a pass; dce drops it from g->nodes */
	int pos;                 /* position in g->nodes (plan, emit) */
	Call *calls;             /* lowering result: kernel calls in order */
	Call *calls_tail;        /* last of calls (valid while calls != NULL), for O(1) append */
	const char *fused_from;  /* fusion: the source nodes, for comments */
	/* control flow (ops/op_control.c): If's then and else graphs, Loop's
	 * body; each takes its declared inputs, then the node's captures */
	Graph *sub[2];
	int64_t sub_ws;          /* a run-time If: workspace its branches need ... */
	int64_t sub_ws_offset;   /* ... and where it lies in this graph's (plan.c) */
};

struct Graph {
	Ctx *ctx;
	const char *name;        /* graph name from the model, may be "" */
	int opset;               /* default-domain opset the model imports */
	uint64_t source_hash;    /* FNV-1a 64 of the input file(s) */
	Node **nodes;  int nnodes,   capnodes;
	Tensor **tensors; int ntensors, captensors;
	Tensor **inputs;  int ninputs;   /* in graph order; excludes initializers */
	Tensor **outputs; int noutputs;
	int64_t arena_size;      /* plan.c: exact bytes of workspace */
};

Graph *graph_new(Ctx *c);
Tensor *graph_tensor(Graph *g, const char *name);        /* find, NULL when absent */
Tensor *tensor_new(Graph *g, const char *name, TensorKind kind, DType dt, int rank,
                   const int64_t *dims);
/* A new TK_CONST tensor with zeroed data of the given shape. */
Tensor *tensor_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims);
Node *node_new(Graph *g, OpKind op, const char *name, int nin, int nout);
/* A node's name for lists of fused nodes: shortened (text_short), or its op
 * type when it has none.  Raw text: it still needs text_comment or text_msg. */
const char *node_label(Ctx *c, const Node *n);
void graph_add_node(Graph *g, Node *n);
/* Insert n at position pos (nodes after it shift); for fusion passes. */
void graph_insert_node(Graph *g, int pos, Node *n);
void graph_compact(Graph *g);   /* drop dead nodes, renumber pos */
void graph_count_users(Graph *g); /* fill Tensor.nusers from live nodes */

/* The use-def index: for every tensor, the live nodes that read it, each node
 * once, in graph order.  A snapshot: tensors made after it (id >= ntensors)
 * are not in it. */
typedef struct {
	int ntensors;     /* g->ntensors when it was built */
	int *count;       /* per tensor id: how many live nodes read it */
	Node ***nodes;    /* per tensor id: those nodes */
} Users;
/* Build the index (and refresh Tensor.nusers, as graph_count_users). */
Users graph_users(Graph *g);

int64_t tensor_nelem(const Tensor *t);
int64_t tensor_nbytes(const Tensor *t);
const char *tensor_shape_str(Ctx *c, const Tensor *t);   /* "f32[1,196,384]" */
/* Read element i of a constant integer/float tensor as int64/double. */
int64_t tensor_get_i(const Tensor *t, int64_t i);
double tensor_get_f(const Tensor *t, int64_t i);
Tensor *tensor_root(Tensor *t);  /* follow view_of */
/* For the fusion passes' matchers: the live node of kind op that computes t,
 * or NULL (t a constant or an input, or made by another op). */
Node *tensor_producer(Tensor *t, OpKind op);
/* A one-element f32 constant's value in *v; false for anything else. */
bool tensor_scalar(const Tensor *t, double *v);

const Attr *attr_find(const Node *n, const char *name);
int64_t attr_int(const Node *n, const char *name, int64_t dflt);
float attr_float(const Node *n, const char *name, float dflt);
const char *attr_string(const Node *n, const char *name, const char *dflt);
/* ints attribute; returns count (-1 when absent) and sets *v */
int attr_ints(const Node *n, const char *name, const int64_t **v);
int attr_floats(const Node *n, const char *name, const float **v);
/* strings attribute; returns count (-1 when absent) and sets *v */
int attr_strings(const Node *n, const char *name, const char *const **v);
Attr *node_add_attr(Graph *g, Node *n, const char *name, AttrKind kind);

/* Print the IR in a stable text form (--dump-ir). */
void ir_dump(Graph *g, FILE *f, const char *after_pass);
/* The verifier: structural invariants; internal errors on failure. */
void ir_check(Graph *g, const char *after_pass);

/* ------------------------------------------------------------------ */
/* text.c: model text on its way out (generated C and messages)         */
/* ------------------------------------------------------------------ */
/* Text from an input file reaches generated C and messages only through
 * these, one function per context (docs/reliability.md, "Untrusted models"). */

#define TEXT_SHOWN_MAX 96   /* bytes of a name shown in a comment or message */

/* s itself, or its first bytes and "...(N bytes)" when longer than TEXT_SHOWN_MAX */
const char *text_short(Ctx *c, const char *s);
/* s made safe inside a C block comment, where the characters around it are
 * not '*', '/' or '?' (whole: callers shorten names) */
const char *text_comment(Ctx *c, const char *s);
/* s as a complete C string literal, quotes included, every byte kept */
const char *text_cstring(Ctx *c, const char *s);
/* a C identifier made from s: never a keyword or a standard macro, never in
 * the namespace of the generated API (`prefix`_, any case) or the runtime
 * (tr_); callers make the names they derive distinct */
const char *text_ident(Ctx *c, const char *s, const char *prefix);
/* s as a path in a Makefile rule (--depfile); NULL for control bytes, '\\' */
const char *text_depfile(Ctx *c, const char *s);
/* s as a JSON string with its quotes (hidden code points as \\uXXXX, bytes
 * that are not UTF-8 as U+FFFD) */
const char *text_json(Ctx *c, const char *s);
/* s shortened and escaped for a message (control bytes, bidirectional
 * controls and invalid UTF-8 as \xNN, '\\' doubled) */
const char *text_msg(Ctx *c, const char *s);
/* the same into dst (cap bytes; for error paths, which must not allocate) */
void text_msg_into(char *dst, size_t cap, const char *s);
/* the sink under every message: src escaped as text_msg does, but '\\' kept,
 * into dst (cap bytes, NUL-terminated, cut when full) */
void text_term(char *dst, size_t cap, const char *src);

/* ------------------------------------------------------------------ */
/* onnx.c: ONNX front end                                               */
/* ------------------------------------------------------------------ */

/* Load an ONNX model file (and its external data) into a new Graph.
 * Symbolic dimensions of graph inputs are bound from ctx->dims. */
Graph *onnx_load(Ctx *c, const char *path);

/* onnx_inline.c: the graph's nodes with every call of one of the model's
 * local functions replaced by the function's body (renamed for the call);
 * index[i]: the position in the file of node i, or of the call it came from */
struct Onnx__ModelProto;
struct Onnx__GraphProto;
struct Onnx__NodeProto;
const struct Onnx__NodeProto **onnx_inline_functions(Ctx *c, const struct Onnx__ModelProto *m,
                                                     const struct Onnx__GraphProto *gp,
                                                     int **index, int *n);

/* ------------------------------------------------------------------ */
/* Passes: each one file, one signature. The order is in pipeline.c.    */
/* ------------------------------------------------------------------ */

typedef void PassFn(Graph *g);

void shape_infer(Graph *g);     /* shape.c: calls op_info[op].shape in order */
void fold_constants(Graph *g);  /* fold.c: evaluate nodes whose inputs are all constant */
/* fold.c: fold one node if its inputs are constant (shape_infer calls it
 * right after each node's shape function); true when folded (node dead). */
bool fold_node(Graph *g, Node *n);
void dce(Graph *g);             /* dce.c: drop nodes and tensors no output depends on */
void make_views(Graph *g);      /* views.c: Reshape/Squeeze/... share their input's memory */
void demand(Graph *g);          /* demand.c: Gemms compute only the rows their readers use */
void lower(Graph *g);           /* lower.c: op_info[op].lower for every live node */
void plan_memory(Graph *g);     /* plan.c: arena offsets, exact arena size */
/* plan.c: the allocator alone: n buffers of size[i] bytes live over node
 * positions [def[i], last[i]]; writes 64-byte aligned offsets, returns the
 * arena size. Buffers whose live ranges overlap never overlap in memory. */
int64_t plan_intervals(Ctx *c, int n, const int64_t *size, const int *def, const int *last,
                       int64_t *offset);

/* shape.c helpers for the op_*.c shape functions */
void shape_set(Tensor *t, DType dt, int rank, const int64_t *dims);
/* Numpy-style broadcast of a and b into out (rank, dims); node_error on mismatch. */
int shape_broadcast(Graph *g, Node *n, int ra, const int64_t *da, int rb, const int64_t *db,
                    int64_t *out);
/* Normalise a possibly negative axis for rank r; node_error when out of range. */
int shape_axis(Graph *g, Node *n, int64_t axis, int r);
/* op_tensor.c: the index map of a Transpose or Slice node, before
 * simplification: y[i_0, ..., i_(r-1)] = x[base + sum_k i_k * strides[k]] for
 * i_k < dims[k]; returns r */
int tensor_index_map(Graph *g, Node *n, int64_t *dims, int64_t *strides, int64_t *base);
/* op_tensor.c: the product of dims[from..to) (ctx_mul: overflow is an error) */
int64_t tensor_prod(Graph *g, const int64_t *dims, int from, int to);
/* op_tensor.c: the row-major element strides of dims[0..rank) */
void tensor_strides(int rank, const int64_t *dims, int64_t *strides);
/* op_tensor.c: the constant integer list in input i (1-D or scalar, i64 or
 * i32; need_const) into v[0..max); returns the count.  node_error names it
 * `what` when it is not such a list or has more than max values. */
int tensor_const_ints(Graph *g, Node *n, int i, int64_t *v, int max, const char *what);
/* op_tensor.c: append the calls that write y (contiguous, dims[0..rank),
 * rank <= 16) from x[base + sum_k i_k * strides[k]]: the map simplified,
 * then tr_strided_copy, or tr_copy when it is the identity */
void tensor_emit_strided(Graph *g, Node *n, Tensor *x, Tensor *y, int rank, int64_t *dims,
                         int64_t *strides, int64_t base);
/* op_tensor.c: for a node that only moves elements (Transpose, Slice, Gather
 * with constant indices), src[e] = the flat index in input 0 of output
 * element e, for every e (src has the output's element count); false, with
 * src untouched, for any other node */
bool tensor_elem_map(Graph *g, Node *n, int64_t *src);
/* op_reduce.c: the axes a Reduce* node reduces, as mask[0..rank of its
 * input); true when the node is the identity (empty axes with
 * noop_with_empty_axes) */
bool op_reduce_axes(Graph *g, Node *n, bool *mask);
/* op_activation.c: n is a Gelu computing the exact GELU (approximate "none"),
 * the one that fusions may move into a kernel's epilogue */
bool op_gelu_exact(const Node *n);
/* op_movement.c: the string attribute `name` (default dflt) as its index in
 * names[0..count); node_error listing the names when it is none of them */
int op_attr_choice(Graph *g, Node *n, const char *name, const char *dflt,
                   const char *const *names, int count);
/* op_linalg.c: a Gemm demand.c may split into parts (lower_gemm honours them) */
bool gemm_parts_ok(const Node *n);
/* op_linalg.c: the spatial parameter array of the kernels (in[3], out[3],
 * kernel[3], stride[3], dilation[3], pads[6], 1-D and 2-D padded with
 * leading size-1 dims; runtime/conv/conv.h) of a Conv, or of a MaxPool or
 * AveragePool, from its attributes and its channels-first input */
void conv_params(Graph *g, Node *n, int64_t p[21]);
void pool_params(Graph *g, Node *n, int64_t p[21]);
/* Require input i to be present and constant (e.g. Reshape's shape); returns it. */
Tensor *need_const(Graph *g, Node *n, int i);
/* Require input i's element type to be one of a mask of (1 << DT_x). */
void need_dtype(Graph *g, Node *n, int i, unsigned mask);

/* pipeline.c: the pass lists */
enum {
	PASS_FUSION = 1,      /* a fusion pass: skipped with --no-fuse */
};
typedef struct {
	const char *name;     /* for --dump-ir and the verifier's messages */
	PassFn *fn;
	int flags;            /* PASS_* */
} Pass;
extern const Pass passes[];       /* the compiler */
extern const int npasses;
extern const Pass step_passes[];  /* stream.c's step API graphs */
extern const int nstep_passes;
/* Run the n passes of list on g, the verifier after each.  dump_after: the
 * pass to --dump-ir after (or NULL). */
void pipeline_run_passes(Graph *g, const Pass *list, int n, const char *dump_after, FILE *dump);
/* Run all passes (the list `passes`). */
void pipeline_run(Graph *g, const char *dump_after, FILE *dump);

/* ops/op_control.c: If and Loop */
/* A copy of the nodes of sg after position pos of g, its inputs bound to
 * bind[] (tensors of g), its constants shared, its other tensors new; the
 * tensors its outputs became in out[].  Nested subgraphs are copied too. */
void graph_splice(Graph *g, int pos, Graph *sg, Tensor *const *bind, Tensor **out);
/* A Loop run as a loop: the byte offsets, in its workspace (after the
 * body's own), of the iteration number, the condition (and the body's next
 * one after it), and of each carried value's two buffers. */
void loop_layout(const Node *n, int64_t *iter, int64_t *cond, int64_t *cur, int64_t *next);

/* ------------------------------------------------------------------ */
/* Kernel calls (lower.c, ops/kernels.c) -- the seam between ops and the  */
/* runtime's kernels, declared once in runtime/kernels.def                */
/* ------------------------------------------------------------------ */
/*
 * An op's lower function turns a node into one or more calls of runtime
 * kernels: call_new(g, n, K_tr_xxx), then the arguments in the order of the
 * kernel's declaration.  The same Call is used twice:
 *   - fold.c evaluates it in the compiler: kernel_info[k].invoke(c), with
 *     args[i].ptr set;
 *   - emit_c.c prints it as C, each argument beside its parameter's name,
 *     and copies the runtime section that defines the kernel.
 */
typedef enum {
	ARG_IN,      /* a tensor the kernel reads:  const T * */
	ARG_OUT,     /* a tensor the kernel writes: T * */
	ARG_SCRATCH, /* node-local scratch in the arena: float *, `bytes` long */
	ARG_INT,     /* int64_t */
	ARG_FLOAT,   /* float */
	ARG_INTS,    /* const int64_t[n] */
	ARG_FLOATS,  /* const float[n] */
} ArgKind;

typedef enum {
#define KERNEL(name, ...) K_##name,
#include "kernels.def"
#undef KERNEL
	K_COUNT
} KernelId;

/* kernels.def's element types as DType (kernels.c, and the ops' tables
 * made from the EW_* rows) */
#define K_DT_f32 DT_F32
#define K_DT_i64 DT_I64
#define K_DT_i32 DT_I32
#define K_DT_b8 DT_BOOL
#define K_DT_i8 DT_I8
#define K_DT_u8 DT_U8
#define K_DT_f16 DT_F16
#define K_DT_bf16 DT_BF16
#define K_DT_any DT_UNDEF

typedef struct {
	ArgKind kind;        /* ARG_OUT also takes scratch: an output a node drops */
	DType dtype;         /* ARG_IN / ARG_OUT: element type; DT_UNDEF: any (void *) */
	const char *name;    /* as in the kernel's C signature */
} KernelParam;

typedef void InvokeFn(const Call *c);

typedef struct {
	const char *name;    /* the C function in runtime/ */
	InvokeFn *invoke;    /* calls it inside the compiler (fold.c) */
	int nparams;
	KernelParam params[MAX_ARGS];
} KernelInfo;

extern const KernelInfo kernel_info[K_COUNT];

typedef struct {
	ArgKind kind;
	Tensor *t;          /* ARG_IN / ARG_OUT */
	int64_t i;          /* ARG_INT; ARG_SCRATCH: bytes */
	float f;            /* ARG_FLOAT */
	int64_t *ints;      /* ARG_INTS */
	float *floats;      /* ARG_FLOATS */
	int n;              /* ARG_INTS / ARG_FLOATS count */
	int64_t offset;     /* ARG_SCRATCH: arena offset (plan.c) */
	void *ptr;          /* fold.c: resolved pointer for IN/OUT/SCRATCH */
} Arg;

struct Call {
	KernelId kernel;
	Arg args[MAX_ARGS];
	int nargs;
	bool overflow;        /* more than MAX_ARGS were added (a lowering bug) */
	Call *next;
};

/* Start a call of `kernel` appended to n->calls. */
Call *call_new(Graph *g, Node *n, KernelId kernel);
void call_in(Call *c, Tensor *t);
void call_out(Call *c, Tensor *t);
void call_scratch(Call *c, int64_t bytes);
void call_int(Call *c, int64_t v);
void call_float(Call *c, float v);
void call_ints(Graph *g, Call *c, const int64_t *v, int n);
void call_floats(Graph *g, Call *c, const float *v, int n);
/* The calls of n against their kernels' declarations: count, kind and
 * element type of every argument (ctx_bug when one differs). */
void calls_check(Graph *g, const Node *n);

/* Evaluate one node now (all inputs TK_CONST): used by fold.c and tests. */
void eval_node(Graph *g, Node *n);

/* ------------------------------------------------------------------ */
/* op_*.c, flops.c: shape, lower and FLOP functions named in ops.def    */
/* ------------------------------------------------------------------ */

#define OP(id, onnx, min_in, max_in, min_out, max_out, flags, shape, lower, stream, flops, \
           attrs, doc) \
	ShapeFn shape; LowerFn lower; FlopsFn flops;
#include "ops.def"
#undef OP

/* ------------------------------------------------------------------ */
/* runtime_text.c (generated by CMake from the headers in runtime/)         */
/* ------------------------------------------------------------------ */

typedef struct {
	const char *file;   /* its path under runtime/, e.g. "gemm/sgemm.h" */
	const char *text;   /* whole file */
} RuntimeFile;
extern const RuntimeFile runtime_files[];
extern const int nruntime_files;

/* ------------------------------------------------------------------ */
/* emit_c.c: the C emitter                                              */
/* ------------------------------------------------------------------ */

/* Where the weights go (--weights): docs in emit_weights.c. */
typedef enum {
	WEIGHTS_EMBED,   /* a string literal in model.c (the default) */
	WEIGHTS_BLOB,    /* model.weights, linked by model.weights.S (.incbin) */
	WEIGHTS_EXTERN,  /* model.weights, passed in by the caller at run time */
} WeightsMode;

typedef struct {
	const char *name;        /* C identifier prefix of the generated API */
	const char *cmdline;     /* for the provenance comment */
	const char *header_name; /* "model.h" as #included by model.c */
	WeightsMode weights;
	const char *weights_name;/* "model.weights" as model.weights.S .incbins it */
} EmitOptions;

/* The files one compile writes; weights and asm_ only when the mode needs them. */
typedef struct {
	FILE *c, *h;
	FILE *weights;           /* model.weights: the header, then the blob */
	FILE *asm_;              /* model.weights.S */
} EmitFiles;

void emit_c(Graph *g, const EmitOptions *o, FILE *c_out, FILE *h_out);
/* Every kernel of runtime/kernels.def has a runtime section whose
 * dependencies resolve (ctx_bug otherwise); their text goes to f. */
void emit_check_runtime(Ctx *c, FILE *f);
/* model.h alone, as emit_c writes it (the LLVM backend's header). */
void emit_c_header(Graph *g, const EmitOptions *o, FILE *h_out);

/* ------------------------------------------------------------------ */
/* emit_llvm.c: the LLVM backend (built with -DTOSTC_LLVM; otherwise    */
/* emit_llvm_built() is false and emit_llvm is never called)            */
/* ------------------------------------------------------------------ */

typedef enum {
	LLVM_EMIT_OBJ,   /* .o: an object file */
	LLVM_EMIT_ASM,   /* .s: assembly */
	LLVM_EMIT_IR,    /* .ll: textual LLVM IR */
	LLVM_EMIT_BC,    /* .bc: LLVM bitcode */
} LlvmEmitKind;

typedef struct {
	LlvmEmitKind kind;
	const char *triple;      /* --target; NULL: the host's */
	const char *cpu;         /* --cpu; NULL: the host's CPU (with --target: generic) */
} LlvmOptions;

/* One embedded bitcode module of the runtime's kernels (CMake compiles
 * runtime/kernels_bitcode.c with clang per variant, cmake/embed_bitcode.cmake
 * embeds it): the variant's name, "x86_64_avx2", and its bytes. */
typedef struct {
	const char *name;
	const unsigned char *begin, *end;
} LlvmBitcode;
extern const LlvmBitcode llvm_bitcode[];
extern const int nllvm_bitcode;

/* Whether this tostc has the LLVM backend; `what` gets a line for
 * --version ("llvm (LLVM 16.0.6; kernels: ...)"). */
bool emit_llvm_built(Ctx *c, const char **what);
/* Compile g for lo's target and write lo->kind's file to `path`: NAME_run
 * and NAME_run_v as in model.c, the kernels linked from the bitcode and
 * optimised with the model's constants, the weights in read-only data.
 * User errors (unknown target or CPU, graph features not covered yet) go
 * through ctx_error / node_error. */
void emit_llvm(Graph *g, const EmitOptions *o, const LlvmOptions *lo, const char *path);

/* ------------------------------------------------------------------ */
/* driver.c: the command line (main.c only calls it)                   */
/* ------------------------------------------------------------------ */

/* Run tostc with argv; messages go to `err` (stderr in main). Returns the
 * exit status: 0 ok, 1 user error (no output files left), 2 internal error. */
int driver_main(int argc, char **argv, FILE *err);
/* MODEL loaded with c's bindings and run through the passes (--dump-ir after
 * dump_after, if not NULL, to dump). */
Graph *driver_load(Ctx *c, const char *model, const char *dump_after, FILE *dump);
/* A command-line word that is no option's value: the model into *model, or
 * an error (an unknown option, a second model; help: where to look). */
void driver_word(Ctx *c, const char *a, const char **model, const char *help);
/* --dim NAME=VALUE and --const-input NAME=FILE into c (ctx_error when malformed). */
void driver_dim(Ctx *c, const char *arg);
void driver_const_input(Ctx *c, const char *arg);

/* run.c: tostc run MODEL --inputs IN.npz [...] (argv[0] "run"): a model
 * built with $CC and run.  Summaries go to out; errors unwind through c. */
int run_main(Ctx *c, int argc, char **argv, FILE *out);

/* ------------------------------------------------------------------ */
/* report.c: --report                                                   */
/* ------------------------------------------------------------------ */

int64_t node_flops(Graph *g, const Node *n);
void report_text(Graph *g, FILE *f);
void report_json(Graph *g, FILE *f);

/* ------------------------------------------------------------------ */
/* safetensors.c: reader for .safetensors weight files                  */
/* ------------------------------------------------------------------ */

/* One tensor of a .safetensors file, as the header describes it. */
typedef struct {
	const char *name;        /* state_dict key, e.g. "blocks.3.attn.qkv.weight" */
	const char *dtype;       /* as written: "F32", "F16", "BF16", "I64", ... */
	int rank;
	int64_t dims[MAX_RANK];
	int64_t begin, end;      /* byte offsets into the data section */
} StEntry;

typedef struct {
	const char *path;
	StEntry *entries;        /* sorted by begin offset */
	int nentries;
	const unsigned char *data; /* the data section (after the header) */
	int64_t data_size;
} SafeTensors;

/* Read and validate a whole .safetensors file; ctx_error on anything wrong
 * (bad JSON, offsets past the end or overlapping, sizes that do not match the
 * dtype and shape, a header longer than the file). */
SafeTensors *safetensors_open(Ctx *c, const char *path);
/* Parse from memory (the bytes must stay alive); `path` names it in errors. */
SafeTensors *safetensors_parse(Ctx *c, const char *path, const unsigned char *bytes,
                               int64_t size);
const StEntry *safetensors_find(const SafeTensors *st, const char *name); /* NULL if absent */
/* The tensor `name` converted to float32 (F32, F16, BF16), arena memory.
 * ctx_error when absent or of another dtype. */
float *safetensors_get_f32(Ctx *c, const SafeTensors *st, const StEntry *e);

/* ------------------------------------------------------------------ */
/* npz.c: numpy's .npy and .npz files (tostc run's inputs and outputs)   */
/* ------------------------------------------------------------------ */

/* One array of a .npz (or a .npy file). */
typedef struct {
	const char *name;          /* .npz: its entry's name without ".npy"; .npy: "" */
	const char *descr;         /* numpy's element type as written, e.g. "<f4" */
	DType dtype;               /* DT_UNDEF: a type tostc has none for (float64...) */
	int rank;
	int64_t dims[MAX_RANK];
	int64_t nbytes;
	const unsigned char *data; /* little-endian, C order; in the buffer parsed */
} NpyArray;

typedef struct {
	NpyArray *arrays;          /* in the archive's order */
	int n;
} NpzFile;

/* A .npz (np.savez's stored entries), or one array named "" for a path
 * ending in .npy; ctx_error on anything wrong (npz.c says what).  _parse:
 * from memory that stays alive; path or `what` names it in errors. */
NpzFile *npz_read(Ctx *c, const char *path);
NpzFile *npz_parse(Ctx *c, const char *path, const unsigned char *bytes, int64_t size);
void npy_parse(Ctx *c, const char *what, const unsigned char *bytes, int64_t size, NpyArray *a);
/* arrays as a .npz np.load reads (NAME.npy entries), or one as a .npy */
void npz_write(Ctx *c, FILE *f, const NpyArray *arrays, int n);
void npy_write(Ctx *c, FILE *f, const NpyArray *a);
/* "<f4" for t (NULL: none); "float64" for "<f8"; "2, 3" (one dim: "5,") */
const char *npy_descr(DType t);
const char *npy_type_name(const char *descr);
const char *npy_shape_text(Ctx *c, const NpyArray *a);

/* ------------------------------------------------------------------ */
/* dsl.c (+ grammar/tost.l, grammar/tost.y): the ToST model language    */
/* ------------------------------------------------------------------ */

/* Parse a .tost file, bind its weights, and lower it to a new Graph. */
Graph *dsl_load(Ctx *c, const char *path);
/* The same from a string; `path` names it in messages and locates `weights`. */
Graph *dsl_load_string(Ctx *c, const char *path, const char *src);

/* The AST the parser builds; one flat node type (chibicc style). */
typedef enum {
	AST_INT, AST_FLOAT, AST_BOOL, AST_STR, AST_NAME,  /* literals and variables */
	AST_BINARY,     /* lhs op rhs, op one of + - * / */
	AST_NEG,        /* -lhs */
	AST_CALL,       /* name(args) [@ path] */
	AST_KWARG,      /* name = lhs (in call args) */
	AST_PATH_NAME,  /* path segment: name (may contain dots) */
	AST_PATH_INDEX, /* path segment: [lhs] */
	AST_MODEL, AST_WEIGHTS, AST_ASSIGN, AST_INPUT, AST_OUTPUT, AST_FOR, AST_DEF, AST_RETURN,
} AstKind;

typedef struct Ast Ast;
struct Ast {
	AstKind kind;
	int line, col;     /* 1-based position of the construct */
	Ast *next;         /* next in a list: statements, args, dims, path, params */
	const char *name;  /* variable, callee, keyword, target, segment, string value */
	const char *str;   /* AST_INPUT: element type name */
	int64_t ival;      /* AST_INT, AST_BOOL */
	double fval;       /* AST_FLOAT */
	int op;            /* AST_BINARY: '+', '-', '*', '/' */
	Ast *lhs, *rhs;    /* operands; value of assign/kwarg/return/output; for: lo, hi */
	Ast *args;         /* call args, input dims, def params */
	Ast *body;         /* for / def body */
	Ast *path;         /* AST_CALL: '@' path (weights prefix), or NULL */
};

/* Parser state shared by the lexer, the parser and dsl.c. */
typedef struct {
	Ctx *ctx;
	const char *file;  /* for messages */
	const char *src;   /* the whole source text, NUL-terminated */
	int line, col;     /* lexer position */
	Ast *prog;         /* the statements */
	bool failed;       /* a lexical or syntax error was recorded */
	int err_line, err_col;
	const char *err;   /* the first error message */
} DslParser;

Ast *ast_new(DslParser *p, AstKind k, int line, int col);
/* Record the first lexer / parser error (the parser stops after it). */
struct YYLTYPE;
void dsl_lex_error(DslParser *p, const struct YYLTYPE *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dsl_syntax_error(DslParser *p, const struct YYLTYPE *loc, const char *msg);
/* Parse only (no lowering): the AST, or ctx_error with file:line:col. */
Ast *dsl_parse(Ctx *c, const char *file, const char *src);
/* Append the source line `line` and a caret under `col` to ctx->errmsg,
 * escaped like the rest of the message. */
void dsl_excerpt(Ctx *c, const char *src, int line, int col);
/* "file:line:col: error: msg" + the source line + a caret, via ctx_error. */
_Noreturn void dsl_error_at(Ctx *c, const char *file, const char *src, int line, int col,
                            const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ------------------------------------------------------------------ */
/* dsl_layers.c: the layer table of the ToST model language             */
/* (the interpreter state dsl.c shares with it)                         */
/* ------------------------------------------------------------------ */

typedef enum { DV_NONE, DV_INT, DV_FLOAT, DV_BOOL, DV_STR, DV_TENSOR } DslValKind;

/* A value of the language: a hyperparameter or a tensor. */
typedef struct {
	DslValKind kind;
	int64_t i;        /* DV_INT, DV_BOOL */
	double f;         /* DV_FLOAT */
	const char *s;    /* DV_STR */
	Tensor *t;        /* DV_TENSOR */
} DslValue;

typedef struct DslScope DslScope;     /* variables (dsl.c) */

/* A weight read once, by state_dict key (dsl_layers.c). */
typedef struct DslWeight DslWeight;
struct DslWeight {
	const char *key;
	Tensor *t;
	DslWeight *next;
};

/* The interpreter's state for one .tost file. */
typedef struct {
	Ctx *c;
	Graph *g;
	const char *file;         /* .tost path as given */
	const char *src;
	const char *dir;          /* directory of the .tost file, for `weights` */
	SafeTensors *st;          /* NULL until `weights` */
	Ast *defs;                /* AST_DEF statements, chained through rhs */
	DslWeight *wcache;
	DslScope *globals;
	int counter;              /* unique node and tensor names */
	bool returned;            /* a `return` ran in the current def */
	DslValue retval;
	int maxin, maxout;        /* capacity of g->inputs / g->outputs */
	Ast *at;                  /* the construct being lowered (errors, node loc) */
} Dsl;

/* An error at AST node a of the file being lowered. */
#define DSL_ERR(D, a, ...) \
	dsl_error_at((D)->c, (D)->file, (D)->src, (a)->line, (a)->col, __VA_ARGS__)

/* One parameter of a layer: kind 't' tensor, 'i' int, 'f' number, 'b' bool,
 * 's' string.  dflt NULL: required; "": optional, no default. */
typedef struct {
	const char *name;
	char kind;
	const char *dflt;
} DslParam;

#define DSL_MAX_PARAMS 10

/* A layer call being lowered: bound arguments and its weights prefix. */
typedef struct {
	const char *prefix;    /* "blocks.3.attn" (no trailing dot); NULL without `@` */
	DslValue v[DSL_MAX_PARAMS];   /* by DslParam index; DV_NONE when absent */
} DslArgs;

typedef DslValue DslLayerFn(Dsl *D, DslArgs *a);

typedef struct {
	const char *name;
	DslLayerFn *fn;
	bool weights;          /* needs `@ path` */
	const char *doc;       /* one line, for error hints */
	DslParam params[DSL_MAX_PARAMS];
} DslLayer;

/* The layer called `name`, or NULL. */
const DslLayer *dsl_find_layer(const char *name);
/* Nodes and constants at D->at, shape inferred at once (for the interpreter's
 * arithmetic on tensors). */
Tensor *dsl_op1(Dsl *D, OpKind op, const char *scope, Tensor *a);
Tensor *dsl_op2(Dsl *D, OpKind op, const char *scope, Tensor *a, Tensor *b);
Tensor *dsl_const_f32(Dsl *D, float v);
Tensor *dsl_const_i64(Dsl *D, int rank, const int64_t *v, int n);

/* ------------------------------------------------------------------ */
/* fuse_tssa.c: TSSA fusion                                             */
/* ------------------------------------------------------------------ */

/* Rewrite every proven vision / causal TSSA subgraph (head split of the
 * projected tokens .. merge of heads) into one TSSA / CausalTSSA node. */
void fuse_tssa(Graph *g);


/* ------------------------------------------------------------------ */
/* fuse_common.c: LayerNorm, GELU, MatMul + bias fusions                */
/* ------------------------------------------------------------------ */

/* Decomposed LayerNorm -> LayerNormalization, erf GELU -> Gelu (internal),
 * MatMul (.., k) @ (k, n) + bias -> Gemm with C between two views. */
void fuse_common(Graph *g);

/* ------------------------------------------------------------------ */
/* op_linalg.c                                                          */
/* ------------------------------------------------------------------ */

/* A new constant: the constant weight b, (k, n) or with trans (n, k), packed
 * for the GEMM micro-kernel (tr_gemm_prepack_f32): k * round_up(n, 32) floats. */
Tensor *linalg_prepack(Graph *g, Tensor *b, int64_t k, int64_t n, int trans);
/* numpy matmul's output shape (element type dt) from a and b, node_error
 * naming n's op when they do not multiply */
void linalg_matmul_shape(Graph *g, Node *n, Tensor *a, Tensor *b, DType dt);
/* the matrices and broadcast batches of a @ b: m, k, n, and per batch dim
 * its size and a's and b's element strides (0 on broadcast); returns the
 * count of batch dims */
int linalg_matmul_batch(const Tensor *a, const Tensor *b, int64_t *m, int64_t *k, int64_t *nn,
                        int64_t *bdims, int64_t *astr, int64_t *bstr);
/* Append n's call of y (m, n) = A' @ B' (A' = trans_a ? a^T : a, likewise B'):
 * the GEMM MatMul and Gemm use, with a constant B packed now (op_einsum.c). */
void linalg_gemm(Graph *g, Node *n, Tensor *a, Tensor *b, Tensor *y, int64_t m, int64_t k,
                 int64_t nn, int trans_a, int trans_b);

/* ------------------------------------------------------------------ */
/* fuse_mlp.c: the MLP half of a block as one token-tiled node          */
/* ------------------------------------------------------------------ */

/* x + gamma * fc2(gelu(fc1(LayerNorm(x)))) -> MlpBlock (shape_mlp_block and
 * lower_mlp_block are declared through ops.def). */
void fuse_mlp(Graph *g);

/* ------------------------------------------------------------------ */
/* fuse_epilogue.c: constant epilogues folded into their producer       */
/* ------------------------------------------------------------------ */

/* Conv -> BatchNormalization -> Conv; Gemm/MatMul [-> view] -> Mul(gamma)
 * -> Gemm/MatMul with gamma folded into the weights. */
void fuse_epilogue(Graph *g);

/* ------------------------------------------------------------------ */
/* layout.c: a convolutional graph runs channels last                   */
/* ------------------------------------------------------------------ */

/* Conv, the pools and what lies between them on channels-last tensors
 * (ConvNhwc, PoolNhwc: op_nhwc.c), transposes only where the graph leaves
 * them; a graph without depthwise, grouped or 1x1 convolutions or pools is
 * left as it is. */
void layout_channels_last(Graph *g);

/* ------------------------------------------------------------------ */
/* fuse_conv.c: activations and a residual add into ConvNhwc            */
/* ------------------------------------------------------------------ */

/* ConvNhwc -> activation -> Add(residual) -> activation -> one ConvNhwc
 * whose epilogue does them all (runtime/elementwise/act.h). */
void fuse_conv(Graph *g);

/* ------------------------------------------------------------------ */
/* fuse_absorb.c: a projection moved into the contraction that reads it  */
/* ------------------------------------------------------------------ */

/* ReduceSum(Mul) or MatMul over elements of a Gemm with constant weights,
 * each output element reading one row or one column of it -> ProjContract
 * (class attention's keys and values never made). */
void fuse_absorb(Graph *g);

/* ------------------------------------------------------------------ */
/* fuse_attention.c: softmax attention as one streaming node            */
/* ------------------------------------------------------------------ */

/* MatMul(Softmax(scale MatMul(q, k^T) [+ mask]), v) -> SoftmaxAttention,
 * reading q, k, v and the mask through the views and transposes around them
 * with strides (runtime/attention/attention.h). */
void fuse_attention(Graph *g);

/* ------------------------------------------------------------------ */
/* stream.c: the step API of causal models (token by token, O(1) state) */
/* ------------------------------------------------------------------ */

#define STREAM_MAX_STATE 256   /* running-statistics tensors (CausalTSSA layers) */
#define STREAM_CHUNK 64        /* default --prefill-chunk (docs/performance.md, "Time to
                                * first token") */
#define STREAM_BATCH 7         /* default --step-batch: the rows of the AVX-512 GEMM's
                                * half micro-kernel; a pass of 8 costs as much as 14
                                * (docs/performance.md, "Several sequences per step") */
#define STREAM_TAIL_DIV 6      /* a prefill's last chunk of fewer than chunk / this tokens
                                * goes token by token: a chunk of 64 costs about 9-10
                                * statistics-only steps (docs/performance.md, "Time to first token") */

/* The step API's graphs: the model on R rows of tokens, from the running
 * statistics in the caller's state (stream.c). */
typedef enum {
	FORM_STEP,           /* one token: NAME_step */
	FORM_ADVANCE,        /* the same, statistics only: short prefill tails */
	FORM_CHUNK,          /* `chunk` consecutive tokens of one sequence: NAME_prefill_all */
	FORM_CHUNK_ADVANCE,  /* the same, statistics only: NAME_prefill */
	FORM_BATCH,          /* one token each of R sequences: NAME_step_batch */
	FORM_COUNT
} StreamForm;

typedef struct {
	StreamForm form;
	int64_t rows;        /* tokens per call */
	Graph *g;            /* lowered and planned */
	const char *name;    /* its entry point in the generated code: NAME_<name>_v */
} StreamGraph;

#define STREAM_MAX_GRAPHS (FORM_BATCH + 16)

/* The driver's choices (--prefill-chunk, --step-batch). */
typedef struct {
	int64_t chunk;       /* tokens per prefill chunk (at most the block) */
	int64_t batch;       /* sequences per NAME_step_batch pass */
} StreamOptions;

/* Where NAME_prefill and NAME_step_batch keep the inputs and outputs of their
 * graphs in the workspace, after the graphs' own arena (byte offsets). */
typedef struct {
	int64_t ids;                 /* token ids (B, rows) */
	int64_t pos;                 /* int64 positions (rows) */
	int64_t count;               /* int64 valid rows (the chunk forms) */
	int64_t *out;                /* per model output: its value at the rows */
	int64_t state[STREAM_MAX_STATE]; /* batch: each layer's statistics of the rows' sequences */
	int64_t size;                /* bytes of workspace the function needs in all */
} StreamWs;

/* What stream_check proves and stream_build makes. */
typedef struct StreamInfo {
	const Node *bad;          /* the node that prevents streaming (NULL: none or input) */
	const char *why;          /* the reason, a whole sentence naming the node */
	int64_t T;                /* tokens per NAME_run: positions the step API can take */
	int64_t B;                /* batch rows: tokens per step */
	int ntssa;                /* CausalTSSA nodes */
	StreamGraph graph[STREAM_MAX_GRAPHS]; /* stream_build: one of each form, in the
	                           * order of StreamForm, except FORM_BATCH: a graph of
	                           * `batch_rows` rows, then halving down to 2 (none for a batch
	                           * of 1).  Inputs: token ids (B, rows), positions (rows),
	                           * for the chunk forms the valid rows (1); outputs: the
	                           * model's outputs at those rows (not the *ADVANCE forms),
	                           * then one running-statistics tensor per CausalTSSA layer */
	int ngraphs;
	int64_t batch_rows;       /* sequences per NAME_step_batch pass */
	int64_t tail;             /* a prefill's last chunk of fewer tokens goes token by token */
	int *out_axis;            /* per model output: its token axis (-1: none) */
	int64_t step_ws;          /* bytes of workspace of NAME_step (and FORM_ADVANCE) */
	StreamWs prefill;         /* NAME_prefill*: the chunk forms, then a step */
	StreamWs batch;           /* NAME_step_batch: the FORM_BATCH graphs */
	int64_t state_off[STREAM_MAX_STATE];  /* byte offset in the caller's state of the
	                           * i-th statistics tensor (the position: int64 at 0) */
	int64_t state_size;       /* bytes of state */
} StreamInfo;

/* Prove that g (after the pipeline) can run one token at a time: every node is
 * token-wise along the token axis of the one input of token ids, a causal TSSA,
 * or reads a position-indexed constant.  false with s->why (and s->bad) set. */
bool stream_check(Graph *g, StreamInfo *s);
/* stream_check, then build, lower and plan the graphs of s->graph and lay
 * out their workspaces.  false (nothing built) when the check fails. */
bool stream_build(Graph *g, const StreamOptions *o, StreamInfo *s);

/* What an op's streaming rule (ops.def, StreamFn) sees: the token axis
 * found so far for every tensor, and the token-dependent inputs of the node
 * in hand (it has at least one). */
struct TokenAxes {
	Graph *g;
	int *tax;         /* per tensor id: its token axis; -1: the same for every token
	                   * (the node's outputs start at -1) */
	int64_t T;        /* tokens: the last dimension of the token ids */
	int ndep;         /* inputs of the node that depend on the tokens */
	int dep;          /* the last of them */
	int t;            /* its token axis */
};

/* stream_rules.c: the rules named in ops.def */
const char *stream_causal_tssa(TokenAxes *tok, Node *n);
const char *stream_tssa(TokenAxes *tok, Node *n);
const char *stream_cumsum(TokenAxes *tok, Node *n);
const char *stream_softmax(TokenAxes *tok, Node *n);
const char *stream_reduce(TokenAxes *tok, Node *n);
const char *stream_layernorm(TokenAxes *tok, Node *n);
const char *stream_mlp_block(TokenAxes *tok, Node *n);
const char *stream_matmul(TokenAxes *tok, Node *n);
const char *stream_gemm_residual(TokenAxes *tok, Node *n);
const char *stream_gemm(TokenAxes *tok, Node *n);
const char *stream_gather(TokenAxes *tok, Node *n);
const char *stream_transpose(TokenAxes *tok, Node *n);
const char *stream_expand(TokenAxes *tok, Node *n);
const char *stream_concat(TokenAxes *tok, Node *n);
const char *stream_slice(TokenAxes *tok, Node *n);
const char *stream_cast_like(TokenAxes *tok, Node *n);

/* emit_c.c: emit_c, plus the step API of s (NULL: none), sharing weights
 * and runtime with NAME_run; the weights files too, as o->weights says. */
void emit_c_stream(Graph *g, const EmitOptions *o, const StreamInfo *s, const EmitFiles *out);

/* emit_step.c: the step API in the generated code (emit_c.c calls these) */
void emit_step_header(const StreamInfo *s, const EmitOptions *o, FILE *h);
void emit_step_api(const StreamInfo *s, const EmitOptions *o, const WeightBlob *b, FILE *c);
/* bytes of workspace the step API needs (the largest of its functions') */
int64_t emit_step_workspace(const StreamInfo *s);
/* the comment above the entry point of s->graph[i] in model.c */
const char *emit_step_title(const StreamInfo *s, int i, const char *name);

/* ------------------------------------------------------------------ */
/* emit_weights.c: the weights of the generated code, in the three modes */
/* ------------------------------------------------------------------ */

/* A model's distinct constants, each 64-byte aligned in one little-endian blob. */
struct WeightBlob {
	Ctx *c;                  /* the arena it lives in */
	Tensor **t;              /* in blob order */
	int64_t *off;            /* their offsets */
	int n, cap;
	int64_t size;            /* bytes, a multiple of 64 */
	const unsigned char *bytes; /* weights_finish: the blob, padding zero */
	uint64_t hash;           /* weights_finish: its hash (NAME_WEIGHTS_HASH) */
};

/* The offset of constant r (a root tensor) in b: a constant with the same
 * data and size as one placed before shares its offset. */
int64_t weights_place(WeightBlob *b, Tensor *r);
/* Once every weight is placed: lay out the bytes and hash them. */
void weights_finish(WeightBlob *b);
/* What the public functions take first ("" or, extern, "const void
 * *weights, size_t weights_size, "), and their names' suffix ("" or "_w"). */
const char *weights_params(const EmitOptions *o);
const char *weights_suffix(const EmitOptions *o);
/* The lines of a public function that set `const unsigned char *W` to the
 * blob (in extern mode: return the weights error, if any). */
void emit_weights_fetch(const EmitOptions *o, const WeightBlob *b, FILE *c);
/* Near the top of model.c: what the functions before the blob need. */
void emit_weights_decl(const EmitOptions *o, const WeightBlob *b, FILE *c);
/* At the end of model.c: the blob (embed), the reference to the linked blob
 * (blob), or the checks of the caller's blob (extern). */
void emit_weights_def(const EmitOptions *o, const WeightBlob *b, FILE *c);
/* In model.h: extern mode's macros, error codes and NAME_weights_check. */
void emit_weights_header(const EmitOptions *o, const WeightBlob *b, FILE *h);
/* model.weights and model.weights.S, as the mode needs (EmitFiles). */
void emit_weights_files(const EmitOptions *o, const WeightBlob *b, const EmitFiles *out);

/* ------------------------------------------------------------------ */
/* Input limits (helper "harden"; docs/reliability.md)                  */
/* ------------------------------------------------------------------ */
/* Every input is untrusted: beyond these, tostc refuses the input with an
 * error naming the limit, instead of exhausting memory or time. */

#define TOSTC_MAX_NODES (1 << 18)            /* nodes in one graph (ir.c) */
#define TOSTC_MAX_MEMORY ((int64_t)16 << 30) /* compiler arena total; env
                                                TOSTC_MAX_MEMORY overrides (ir.c) */
#define TOSTC_MAX_WORKSPACE ((int64_t)1 << 40) /* generated code's arena (plan.c) */
#define TOSTC_MAX_TOST_BYTES (16 << 20)      /* a .tost source file (dsl.c) */
#define TOSTC_MAX_DSL_DEPTH 200              /* nesting of DSL expressions (dsl.c) */
#define TOSTC_MAX_DSL_EVAL_DEPTH 1000        /* the same through def calls, in all */
#define TOSTC_MAX_DSL_STEPS 1000000          /* DSL statements executed, loops
                                                unrolled (dsl.c) */

/* ir.c: the limit in force (TOSTC_MAX_MEMORY or the environment's). */
int64_t ctx_memory_limit(void);
/* shape.c: after a shape function: every output known, rank <= MAX_RANK,
 * dims >= 0, element and byte counts within ctx_mul's bound (node_error). */
void shape_check_outputs(Graph *g, Node *n);
/* Element and byte count of a shape, checked (ctx_error naming `what`). */
int64_t shape_nbytes_checked(Ctx *c, const char *what, DType dt, int rank,
                             const int64_t *dims);

#endif
