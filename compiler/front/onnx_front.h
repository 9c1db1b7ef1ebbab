/*
 * onnx_front.h -- what the ONNX front end's files share (front/onnx*.c);
 * the rest of tostc sees only onnx_load in tostc.h.
 */
#ifndef TOSTC_ONNX_FRONT_H
#define TOSTC_ONNX_FRONT_H

#include "tostc.h"
#include "onnx.pb-c.h"

/* a protobuf string field, "" when absent */
static inline const char *str(const char *s) { return s ? s : ""; }

/* the element types of dtype_from_onnx, for messages */
#define SUPPORTED_TYPES "FLOAT, INT64, INT32, BOOL, INT8, UINT8, FLOAT16, BFLOAT16"

/* ---- onnx_pb.c: unpacking untrusted protobuf ---- */

/* protobuf-c's allocations for one load, counted against the memory limit:
 * pass &alloc to protobuf-c. */
typedef struct {
	Ctx *c;
	ProtobufCAllocator alloc;
	size_t used, limit;
	bool over;            /* an allocation was refused */
} PbGuard;

void pb_guard_init(PbGuard *g, Ctx *c);
/* Before unpacking len bytes as a message of d: ctx_error when they nest
 * messages more than 32 deep, or a string field that names something holds
 * a NUL byte; `what` names the bytes. */
void pb_check_depth(Ctx *c, const ProtobufCMessageDescriptor *d, const void *bytes, size_t len,
                    const char *what);
/* After: ctx_error when protobuf-c was refused memory. */
void pb_check_memory(PbGuard *g);

/* ---- onnx_tensor.c: TensorProtos as constants ---- */

/* Where the constants of one graph come from and go. */
typedef struct {
	Graph *g;             /* the graph they belong to */
	const char *path;     /* the model file: external data is beside it */
	int *ext_fd;          /* the external-data file being read, -1 when none (the
	                       * loader closes it when an error unwinds) */
	uint64_t *hash;       /* the source hash, which external data joins */
} OnnxTensors;

/* A TensorProto (an initializer, an attribute's value, a --const-input
 * file) as a TK_CONST tensor named `name`; `what` names it in messages. */
Tensor *onnx_tensor(const OnnxTensors *s, const Onnx__TensorProto *tp, const char *name,
                    const char *what);
/* DOUBLE constants are rounded to float at load: every reader of one in g
 * must be a Cast to FLOAT, and no graph output may be one. */
void onnx_check_doubles(Graph *g);

#endif
