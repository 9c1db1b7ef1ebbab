/*
 * onnx_tensor.c -- ONNX tensors (initializers, attribute values,
 * --const-input files) as TK_CONST tensors, and the element types.
 *
 * Every count and length in a TensorProto is untrusted: the dims are checked
 * non-negative and multiplied with ctx_mul, and the data (raw_data, a typed
 * field, or external data read with pread from a regular file beside the
 * model) must hold exactly the bytes the dims need before anything is
 * copied.  Data is little-endian on the wire and converted on a big-endian
 * host.
 */
#define _POSIX_C_SOURCE 200809L   /* pread */
#include "tostc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_front.h"

/* ------------------------------------------------------------------ */
/* Element types                                                        */
/* ------------------------------------------------------------------ */

DType dtype_from_onnx(int onnx_type)
{
	switch (onnx_type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return DT_F32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return DT_I64;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return DT_I32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return DT_BOOL;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return DT_I8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return DT_U8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return DT_F16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return DT_BF16;
	default: return DT_UNDEF;
	}
}

const char *onnx_type_name(int onnx_type)
{
	static const char *const names[] = {
		"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
		"INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
		"COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
		"FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
	};
	if (onnx_type < 0 || onnx_type >= (int)(sizeof names / sizeof names[0]))
		return "UNKNOWN";
	return names[onnx_type];
}

/* ------------------------------------------------------------------ */
/* Tensors                                                              */
/* ------------------------------------------------------------------ */

static bool host_little_endian(void)
{
	uint16_t x = 1;
	unsigned char b;
	memcpy(&b, &x, 1);
	return b == 1;
}

/* Copy n elements of size esz stored little-endian at src to dst. */
static void copy_le(void *dst, const void *src, int64_t n, size_t esz, DType dt)
{
	size_t bytes = (size_t)n * esz;
	if (bytes)
		memcpy(dst, src, bytes);
	unsigned char *d = dst;
	if (dt == DT_BOOL) {
		for (int64_t i = 0; i < n; i++)
			d[i] = d[i] != 0;
		return;
	}
	if (esz == 1 || host_little_endian())
		return;
	for (int64_t i = 0; i < n; i++, d += esz)
		for (size_t a = 0, b = esz - 1; a < b; a++, b--) {
			unsigned char tmp = d[a];
			d[a] = d[b];
			d[b] = tmp;
		}
}

/* Parse a non-negative decimal int64 strictly; -1 when malformed. */
static int64_t parse_size(const char *s)
{
	int64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		int d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	return v;
}

/* Read a tensor stored outside the model: external_data gives location
 * (relative to the model's directory), offset and length. */
static void read_external(const OnnxTensors *L, const char *what, const Onnx__TensorProto *tp,
                          Tensor *t, int64_t nbytes)
{
	Ctx *c = L->g->ctx;
	const char *location = NULL;
	int64_t offset = 0, length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const Onnx__StringStringEntryProto *kv = tp->external_data[i];
		const char *k = str(kv->key), *v = str(kv->value);
		if (strcmp(k, "location") == 0) {
			location = v;
		} else if (strcmp(k, "offset") == 0) {
			if ((offset = parse_size(v)) < 0)
				ctx_error(c, "%s: external data offset '%s' is not a non-negative integer",
				          what, v);
		} else if (strcmp(k, "length") == 0) {
			if ((length = parse_size(v)) < 0)
				ctx_error(c, "%s: external data length '%s' is not a non-negative integer",
				          what, v);
		}
	}
	if (!location || !*location)
		ctx_error(c, "%s: external data has no location", what);
	if (location[0] == '/')
		ctx_error(c, "%s: external data location '%s' is an absolute path; it must be "
		          "relative to the model's directory", what, location);
	for (const char *p = location; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			ctx_error(c, "%s: external data location '%s' leaves the model's directory "
			          "('..')", what, location);
		p += len;
		if (*p == '/')
			p++;
	}
	if (length >= 0 && length != nbytes)
		ctx_error(c, "%s: external data length is %lld bytes, but the dims need %lld",
		          what, (long long)length, (long long)nbytes);

	const char *slash = strrchr(L->path, '/');
	const char *file = slash
		? ctx_printf(c, "%.*s/%s", (int)(slash - L->path), L->path, location)
		: location;
	*L->ext_fd = open(file, O_RDONLY | O_NONBLOCK);   /* a FIFO must not block */
	if (*L->ext_fd < 0)
		ctx_error(c, "%s: cannot open external data '%s': %s", what, text_msg(c, file),
		          strerror(errno));
	struct stat st;
	if (fstat(*L->ext_fd, &st) != 0 || !S_ISREG(st.st_mode))
		ctx_error(c, "%s: external data '%s' is not a regular file", what,
		          text_msg(c, file));
	if (offset > (int64_t)st.st_size || nbytes > (int64_t)st.st_size - offset)
		ctx_error(c, "%s: external data '%s' is %lld bytes; offset %lld + length %lld "
		          "is past its end", what, text_msg(c, file), (long long)st.st_size,
		          (long long)offset, (long long)nbytes);
	t->data = ctx_alloc(c, (size_t)nbytes + 1);
	unsigned char *d = t->data;
	for (int64_t done = 0; done < nbytes;) {
		size_t want = (size_t)(nbytes - done);
		if (want > ((size_t)1 << 30))
			want = (size_t)1 << 30;
		ssize_t r = pread(*L->ext_fd, d + done, want, (off_t)(offset + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			ctx_error(c, "%s: cannot read external data '%s': %s", what,
			          text_msg(c, file),
			          r < 0 ? strerror(errno) : "unexpected end of file");
		done += r;
	}
	ctx_depend(c, file);
	/* external weights are part of the source: they go into the hash too */
	*L->hash = fnv1a(*L->hash, t->data, (size_t)nbytes);
	close(*L->ext_fd);
	*L->ext_fd = -1;
}

/* Check a typed-field element count against the tensor's. */
static void need_count(Ctx *c, const char *what, const char *field, size_t have, int64_t want)
{
	if ((uint64_t)have != (uint64_t)want)
		ctx_error(c, "%s: %s holds %zu elements, but the dims need %lld", what, field,
		          have, (long long)want);
}

/* A TensorProto (initializer or attribute value) -> a TK_CONST tensor named
 * `name`.  `what` names it in messages. */
/*
 * PyTorch exports write some scalars (eps, scale factors) as DOUBLE constants
 * that are immediately Cast to FLOAT.  tostc computes in f32, so such a
 * constant is rounded to f32 here -- exactly what the Cast would do -- and
 * check_doubles() later proves that every reader is a Cast to FLOAT; any
 * other use is an unsupported-type error.
 */
static Tensor *double_const(const OnnxTensors *L, const Onnx__TensorProto *tp,
                            const char *name, const char *what)
{
	Ctx *c = L->g->ctx;
	if (tp->n_dims > MAX_RANK)
		ctx_error(c, "%s has rank %zu; tostc supports at most %d", what, tp->n_dims, MAX_RANK);
	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		ctx_error(c, "%s has element type DOUBLE in external data, which tostc does not support",
		          what);
	int rank = (int)tp->n_dims;
	int64_t dims[MAX_RANK] = {0}, nelem = 1;
	for (int i = 0; i < rank; i++) {
		if (tp->dims[i] < 0)
			ctx_error(c, "%s has negative dimension %lld at axis %d", what,
			          (long long)tp->dims[i], i);
		dims[i] = tp->dims[i];
		nelem = ctx_mul(c, nelem, dims[i]);
	}
	if (nelem > ((int64_t)1 << 24))
		ctx_error(c, "%s is a DOUBLE tensor of %lld elements; tostc converts only small DOUBLE "
		          "constants", what, (long long)nelem);
	Tensor *t = tensor_const(L->g, name, DT_F32, rank, dims);
	t->from_double = true;
	float *d = t->data;
	if (tp->has_raw_data) {
		if ((uint64_t)tp->raw_data.len != (uint64_t)nelem * 8)
			ctx_error(c, "%s: raw_data is %zu bytes, but the dims need %lld", what,
			          tp->raw_data.len, (long long)nelem * 8);
		for (int64_t i = 0; i < nelem; i++) {
			uint64_t bits = 0;
			for (int b = 0; b < 8; b++)  /* little-endian on the wire */
				bits |= (uint64_t)tp->raw_data.data[i * 8 + b] << (8 * b);
			double v;
			memcpy(&v, &bits, sizeof v);
			d[i] = (float)v;
		}
	} else {
		need_count(c, what, "double_data", tp->n_double_data, nelem);
		for (int64_t i = 0; i < nelem; i++)
			d[i] = (float)tp->double_data[i];
	}
	return t;
}

/* Every DOUBLE constant (an initializer, or a Constant node's value) must be
 * read only by Cast(to=FLOAT) nodes; then rounding it at load time is exact. */
void onnx_check_doubles(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		Tensor *src = NULL;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] && n->in[j]->from_double)
				src = n->in[j];
		if (n->op == OP_CONSTANT) {
			const Attr *a = attr_find(n, "value");
			if (a && a->kind == AT_TENSOR && a->t && a->t->from_double)
				n->out[0]->from_double = true;
		}
		if (src && !(n->op == OP_CAST && attr_int(n, "to", 0) == 1))
			node_error(g, n, "reads '%s', a DOUBLE constant; tostc computes in float32 and "
			           "accepts DOUBLE constants only as the input of Cast(to=FLOAT)", src->name);
	}
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i]->from_double)
			ctx_error(g->ctx, "graph output '%s' is a DOUBLE constant, which tostc does not "
			          "support (supported: " SUPPORTED_TYPES ")", g->outputs[i]->name);
}

Tensor *onnx_tensor(const OnnxTensors *L, const Onnx__TensorProto *tp, const char *name,
                    const char *what)
{
	Ctx *c = L->g->ctx;
	int onnx_dt = tp->has_data_type ? tp->data_type : 0;
	DType dt = dtype_from_onnx(onnx_dt);
	if (onnx_dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
		return double_const(L, tp, name, what);
	if (dt == DT_UNDEF)
		ctx_error(c, "%s has element type %s, which tostc does not support "
		          "(supported: " SUPPORTED_TYPES ")", what, onnx_type_name(onnx_dt));
	if (tp->segment)
		ctx_error(c, "%s is segmented, which tostc does not support", what);
	if (tp->n_dims > MAX_RANK)
		ctx_error(c, "%s has rank %zu; tostc supports at most %d", what, tp->n_dims,
		          MAX_RANK);
	int rank = (int)tp->n_dims;
	int64_t dims[MAX_RANK] = {0};
	int64_t nelem = 1;
	for (int i = 0; i < rank; i++) {
		if (tp->dims[i] < 0)
			ctx_error(c, "%s has negative dimension %lld at axis %d", what,
			          (long long)tp->dims[i], i);
		dims[i] = tp->dims[i];
		nelem = ctx_mul(c, nelem, dims[i]);
	}
	size_t esz = dtype_size(dt);
	int64_t nbytes = ctx_mul(c, nelem, (int64_t)esz);
	if ((uint64_t)nbytes > (uint64_t)SIZE_MAX / 2)
		ctx_error(c, "%s is too large (%lld bytes)", what, (long long)nbytes);

	/* The data is allocated only once its source is known to hold exactly
	 * nbytes, so dims alone can never make tostc allocate (or zero) more
	 * memory than the file provides. */
	Tensor *t = tensor_new(L->g, name, TK_CONST, dt, rank, dims);
	t->shape_known = true;

	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		read_external(L, what, tp, t, nbytes);
		copy_le(t->data, t->data, nelem, esz, dt);
		return t;
	}
	if (tp->has_raw_data) {
		if ((uint64_t)tp->raw_data.len != (uint64_t)nbytes)
			ctx_error(c, "%s: raw_data is %zu bytes, but the dims need %lld", what,
			          tp->raw_data.len, (long long)nbytes);
		t->data = ctx_alloc(c, (size_t)nbytes + 1);
		copy_le(t->data, tp->raw_data.data, nelem, esz, dt);
		return t;
	}
	/* ONNX keeps BOOL, INT8, UINT8, FLOAT16 and BFLOAT16 in int32_data,
	 * one element (or its 16 bits) per int32 */
	size_t have = dt == DT_F32 ? tp->n_float_data : dt == DT_I64 ? tp->n_int64_data
	            : tp->n_int32_data;
	need_count(c, what, dt == DT_F32 ? "float_data" : dt == DT_I64 ? "int64_data"
	           : "int32_data", have, nelem);
	t->data = ctx_alloc(c, (size_t)nbytes + 1);
	switch (dt) {
	case DT_F32:
		need_count(c, what, "float_data", tp->n_float_data, nelem);
		if (nelem)
			memcpy(t->data, tp->float_data, (size_t)nbytes);
		break;
	case DT_I64:
		need_count(c, what, "int64_data", tp->n_int64_data, nelem);
		if (nelem)
			memcpy(t->data, tp->int64_data, (size_t)nbytes);
		break;
	case DT_I32:
		need_count(c, what, "int32_data", tp->n_int32_data, nelem);
		if (nelem)
			memcpy(t->data, tp->int32_data, (size_t)nbytes);
		break;
	case DT_BOOL: {
		need_count(c, what, "int32_data", tp->n_int32_data, nelem);
		uint8_t *d = t->data;
		for (int64_t i = 0; i < nelem; i++)
			d[i] = tp->int32_data[i] != 0;
		break;
	}
	case DT_I8:
	case DT_U8: {
		/* the values as written: a value out of the type's range is an error */
		int32_t lo = dt == DT_I8 ? -128 : 0, hi = dt == DT_I8 ? 127 : 255;
		uint8_t *d = t->data;
		for (int64_t i = 0; i < nelem; i++) {
			int32_t v = tp->int32_data[i];
			if (v < lo || v > hi)
				ctx_error(c, "%s: int32_data[%lld] = %d is out of range for %s", what,
				          (long long)i, (int)v, onnx_type_name(onnx_dt));
			d[i] = (uint8_t)(v & 0xff);
		}
		break;
	}
	case DT_F16:
	case DT_BF16: {
		uint16_t *d = t->data;
		for (int64_t i = 0; i < nelem; i++)
			d[i] = (uint16_t)(tp->int32_data[i] & 0xffff);
		break;
	}
	default:
		unreachable(c);
	}
	return t;
}
