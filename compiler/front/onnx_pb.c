/*
 * onnx_pb.c -- unpacking untrusted protobuf with protobuf-c, safely.
 *
 * protobuf-c unpacks nested messages recursively with no depth limit, so a
 * 40 KB file of messages nested 9000 deep (a graph attribute holding a
 * graph holding a node ...) overflowed the stack.  pb_check_depth walks the
 * wire format first, following only fields the schema says are messages, and
 * refuses nesting deeper than PB_MAX_DEPTH (its own recursion stops there).
 * Malformed bytes are left for protobuf-c to reject.  Its allocations go
 * through a PbGuard, which refuses more than the memory limit in all (small
 * repeated entries can unpack to 100 times their size).
 */
#include "tostc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_front.h"

#define PB_MAX_DEPTH 32

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The nesting depth of message fields below d, capped at PB_MAX_DEPTH + 1.
 * A string field holding a NUL byte sets *nul to the field (protobuf-c
 * would cut the string there, so "a\0b" and "a\0c" would name one tensor);
 * doc strings, which tostc never reads, may hold one. */
static int pb_depth(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                    int depth, const ProtobufCFieldDescriptor **nul)
{
	int max = depth;
	if (depth > PB_MAX_DEPTH)
		return depth;
	while (p < end) {
		uint64_t tag, v;
		if (!pb_varint(&p, end, &tag))
			return max;
		switch (tag & 7) {
		case 0:
			if (!pb_varint(&p, end, &v))
				return max;
			break;
		case 1:
			if (end - p < 8)
				return max;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return max;
			p += 4;
			break;
		case 2: {
			if (!pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return max;
			const ProtobufCFieldDescriptor *f = tag >> 3 <= 0xffffffffu
				? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int k = pb_depth(f->descriptor, p, p + v, depth + 1, nul);
				if (k > max)
					max = k;
				if (max > PB_MAX_DEPTH)
					return max;
			} else if (f && f->type == PROTOBUF_C_TYPE_STRING && !*nul && memchr(p, 0, v) &&
			           strcmp(f->name, "doc_string") != 0) {
				*nul = f;
			}
			p += v;
			break;
		}
		default:
			return max;   /* groups or garbage: protobuf-c refuses them */
		}
	}
	return max;
}

void pb_check_depth(Ctx *c, const ProtobufCMessageDescriptor *d, const void *bytes, size_t len,
                    const char *what)
{
	const uint8_t *p = bytes;
	const ProtobufCFieldDescriptor *nul = NULL;
	if (pb_depth(d, p, p + len, 0, &nul) > PB_MAX_DEPTH)
		ctx_error(c, "%s nests protobuf messages more than %d deep (graphs inside "
		          "attributes inside graphs ...), tostc's limit", what, PB_MAX_DEPTH);
	if (nul)
		ctx_error(c, "%s: a string field ('%s') holds a NUL byte, which no name or "
		          "string may contain", what, nul->name);
}

typedef struct {
	size_t size;
	max_align_t align;
} PbHeader;

static void *pb_malloc(void *data, size_t size)
{
	PbGuard *g = data;
	if (size > g->limit - g->used || size > SIZE_MAX - sizeof(PbHeader)) {
		g->over = true;
		return NULL;
	}
	PbHeader *h = malloc(sizeof *h + size);
	if (!h) {
		g->over = true;
		return NULL;
	}
	h->size = size;
	g->used += size;
	return h + 1;
}

static void pb_free(void *data, void *p)
{
	PbGuard *g = data;
	if (!p)
		return;
	PbHeader *h = (PbHeader *)p - 1;
	g->used -= h->size;
	free(h);
}

void pb_guard_init(PbGuard *g, Ctx *c)
{
	*g = (PbGuard){c, {pb_malloc, pb_free, g}, 0, (size_t)ctx_memory_limit(), false};
}

void pb_check_memory(PbGuard *g)
{
	if (g->over)
		ctx_error(g->c, "unpacking the protobuf needs more than %lld MiB, the memory limit "
		          "(TOSTC_MAX_MEMORY)", (long long)(g->limit >> 20));
}
