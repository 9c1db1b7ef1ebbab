/*
 * safetensors.c -- reader for .safetensors weight files.
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {...}, "<key>": {"dtype": "F32", "shape": [d0, ...],
 *    "data_offsets": [begin, end]}, ...}
 * then the data section; offsets are relative to its start.
 *
 * Everything is validated before any tensor is used, and every failure is a
 * user error naming the file and the problem: a header length beyond the
 * file, malformed JSON, an unknown dtype, a negative or huge dimension, a byte
 * range that disagrees with dtype x shape, runs past the end of the file, or
 * overlaps another tensor.  The JSON reader is a small recursive-descent
 * parser for exactly this subset (objects, arrays, strings, non-negative
 * integers; any value inside __metadata__).  Memory comes from the arena.
 */
#include "tostc.h"

#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER ((int64_t)100 << 20)   /* as the reference implementation */
#define ST_MAX_INT ((int64_t)1 << 53)

typedef struct {
	Ctx *c;
	const char *path;
	const char *s, *end;   /* the JSON text */
	const char *begin;
} Json;

static _Noreturn void jerr(Json *j, const char *what)
{
	ctx_error(j->c, "%s: malformed safetensors header at byte %lld: %s", j->path,
	          (long long)(8 + (j->s - j->begin)), what);
}

static void ws(Json *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

static bool peek(Json *j, char ch)
{
	ws(j);
	return j->s < j->end && *j->s == ch;
}

static void expect(Json *j, char ch)
{
	if (!peek(j, ch)) {
		char m[40];
		snprintf(m, sizeof m, "expected '%c'", ch);
		jerr(j, m);
	}
	j->s++;
}

static const char *jstring(Json *j)
{
	expect(j, '"');
	const char *start = j->s;
	size_t n = 0;
	for (const char *p = j->s;; p++) {
		if (p >= j->end) {
			j->s = p;
			jerr(j, "unterminated string");
		}
		if (*p == '"')
			break;
		if ((unsigned char)*p < 0x20) {
			j->s = p;
			jerr(j, "control character in a string");
		}
		if (*p == '\\')
			p++;
		n++;
	}
	char *out = ctx_alloc(j->c, n + 1);
	size_t k = 0;
	const char *p = start;
	while (*p != '"') {
		if (*p == '\\') {
			p++;
			switch (*p) {
			case '"': case '\\': case '/': out[k++] = *p; break;
			case 'n': out[k++] = '\n'; break;
			case 't': out[k++] = '\t'; break;
			case 'r': out[k++] = '\r'; break;
			case 'b': out[k++] = '\b'; break;
			case 'f': out[k++] = '\f'; break;
			case 'u':
				/* keys are ASCII in practice; keep other code points as '?' */
				for (int i = 1; i <= 4; i++)
					if (p + i >= j->end || !strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						jerr(j, "bad \\u escape");
				out[k++] = '?';
				p += 4;
				break;
			default: j->s = p; jerr(j, "bad escape in a string");
			}
			p++;
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = 0;
	j->s = p + 1;
	return out;
}

static int64_t jint(Json *j)
{
	ws(j);
	if (j->s >= j->end || *j->s < '0' || *j->s > '9')
		jerr(j, "expected a non-negative integer");
	int64_t v = 0;
	while (j->s < j->end && *j->s >= '0' && *j->s <= '9') {
		v = v * 10 + (*j->s - '0');
		if (v > ST_MAX_INT)
			jerr(j, "integer too large");
		j->s++;
	}
	if (j->s < j->end && (*j->s == '.' || *j->s == 'e' || *j->s == 'E'))
		jerr(j, "expected an integer");
	return v;
}

/* Skip any JSON value (inside __metadata__). */
static void jskip(Json *j, int depth)
{
	if (depth > 64)
		jerr(j, "nested too deeply");
	ws(j);
	if (j->s >= j->end)
		jerr(j, "unexpected end");
	char ch = *j->s;
	if (ch == '"') {
		jstring(j);
	} else if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		j->s++;
		if (peek(j, close)) {
			j->s++;
			return;
		}
		for (;;) {
			if (ch == '{') {
				jstring(j);
				expect(j, ':');
			}
			jskip(j, depth + 1);
			if (peek(j, ',')) {
				j->s++;
				continue;
			}
			expect(j, close);
			return;
		}
	} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
		j->s++;
		while (j->s < j->end && strchr("0123456789.eE+-", *j->s))
			j->s++;
	} else {
		static const char *words[] = {"true", "false", "null"};
		for (int i = 0; i < 3; i++) {
			size_t n = strlen(words[i]);
			if ((size_t)(j->end - j->s) >= n && memcmp(j->s, words[i], n) == 0) {
				j->s += n;
				return;
			}
		}
		jerr(j, "unexpected character");
	}
}

static int dtype_bytes(const char *dt)
{
	static const struct { const char *name; int size; } t[] = {
		{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
		{"I16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8},
		{"F8_E4M3", 1}, {"F8_E5M2", 1},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(t[i].name, dt) == 0)
			return t[i].size;
	return 0;
}

static void entry(Json *j, StEntry *e)
{
	bool have_dt = false, have_shape = false, have_off = false;
	expect(j, '{');
	for (bool first = true; !peek(j, '}'); first = false) {
		if (!first)
			expect(j, ',');
		const char *k = jstring(j);
		expect(j, ':');
		if (strcmp(k, "dtype") == 0) {
			e->dtype = jstring(j);
			have_dt = true;
		} else if (strcmp(k, "shape") == 0) {
			expect(j, '[');
			e->rank = 0;
			for (bool f2 = true; !peek(j, ']'); f2 = false) {
				if (!f2)
					expect(j, ',');
				if (e->rank == MAX_RANK)
					ctx_error(j->c, "%s: tensor '%s' has more than %d dimensions", j->path,
					          text_msg(j->c, e->name), MAX_RANK);
				e->dims[e->rank++] = jint(j);
			}
			j->s++;
			have_shape = true;
		} else if (strcmp(k, "data_offsets") == 0) {
			expect(j, '[');
			e->begin = jint(j);
			expect(j, ',');
			e->end = jint(j);
			expect(j, ']');
			have_off = true;
		} else {
			jerr(j, "unknown field in a tensor entry");
		}
	}
	j->s++;
	if (!have_dt || !have_shape || !have_off)
		ctx_error(j->c, "%s: tensor '%s' lacks %s", j->path, text_msg(j->c, e->name),
		          !have_dt ? "\"dtype\"" : !have_shape ? "\"shape\"" : "\"data_offsets\"");
}

static int by_begin(const void *a, const void *b)
{
	const StEntry *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

SafeTensors *safetensors_parse(Ctx *c, const char *path, const unsigned char *bytes,
                               int64_t size)
{
	if (size < 8)
		ctx_error(c, "%s: not a safetensors file (%lld bytes, shorter than the 8-byte header "
		             "length)", path, (long long)size);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | bytes[i];
	if (n > (uint64_t)(size - 8))
		ctx_error(c, "%s: header length %llu is larger than the file (%lld bytes): truncated "
		             "or not a safetensors file", path, (unsigned long long)n, (long long)size);
	if ((int64_t)n > ST_MAX_HEADER)
		ctx_error(c, "%s: header length %llu is larger than the 100 MB limit", path,
		          (unsigned long long)n);
	Json j = {c, path, (const char *)bytes + 8, (const char *)bytes + 8 + n,
	          (const char *)bytes + 8};
	SafeTensors *st = ctx_alloc(c, sizeof *st);
	st->path = path;
	st->data = bytes + 8 + n;
	st->data_size = size - 8 - (int64_t)n;
	int cap = 16;
	st->entries = ctx_alloc(c, sizeof(StEntry) * (size_t)cap);
	expect(&j, '{');
	for (bool first = true; !peek(&j, '}'); first = false) {
		if (!first)
			expect(&j, ',');
		const char *k = jstring(&j);
		expect(&j, ':');
		if (strcmp(k, "__metadata__") == 0) {
			jskip(&j, 0);
			continue;
		}
		for (int i = 0; i < st->nentries; i++)
			if (strcmp(st->entries[i].name, k) == 0)
				ctx_error(c, "%s: tensor '%s' appears twice in the header", path,
				          text_msg(c, k));
		if (st->nentries == cap) {
			StEntry *e = ctx_alloc(c, sizeof(StEntry) * (size_t)cap * 2);
			memcpy(e, st->entries, sizeof(StEntry) * (size_t)cap);
			st->entries = e;
			cap *= 2;
		}
		StEntry *e = &st->entries[st->nentries++];
		e->name = k;
		entry(&j, e);
	}
	j.s++;
	ws(&j);
	if (j.s != j.end)
		jerr(&j, "text after the header object");
	/* sizes, bounds, overlaps */
	for (int i = 0; i < st->nentries; i++) {
		StEntry *e = &st->entries[i];
		int eb = dtype_bytes(e->dtype);
		if (!eb)
			ctx_error(c, "%s: tensor '%s' has unknown dtype '%s'", path,
			          text_msg(c, e->name), text_msg(c, e->dtype));
		int64_t bytes_needed = eb;
		for (int d = 0; d < e->rank; d++) {
			if (e->dims[d] && bytes_needed > ST_MAX_INT / e->dims[d])
				ctx_error(c, "%s: tensor '%s' is impossibly large (shape too big)", path,
				          text_msg(c, e->name));
			bytes_needed *= e->dims[d];
		}
		if (e->end < e->begin)
			ctx_error(c, "%s: tensor '%s' has data_offsets [%lld, %lld] that end before they "
			             "begin", path, text_msg(c, e->name), (long long)e->begin, (long long)e->end);
		if (e->end - e->begin != bytes_needed)
			ctx_error(c, "%s: tensor '%s' (%s, %d dims) needs %lld bytes but data_offsets "
			             "[%lld, %lld] hold %lld", path, text_msg(c, e->name), text_msg(c, e->dtype), e->rank,
			          (long long)bytes_needed, (long long)e->begin, (long long)e->end,
			          (long long)(e->end - e->begin));
		if (e->end > st->data_size)
			ctx_error(c, "%s: tensor '%s' has data_offsets [%lld, %lld] past the end of the "
			             "data (%lld bytes): truncated file?", path, text_msg(c, e->name),
			          (long long)e->begin, (long long)e->end, (long long)st->data_size);
	}
	qsort(st->entries, (size_t)st->nentries, sizeof(StEntry), by_begin);
	for (int i = 1; i < st->nentries; i++) {
		const StEntry *a = &st->entries[i - 1], *b = &st->entries[i];
		if (b->begin < a->end)
			ctx_error(c, "%s: tensors '%s' [%lld, %lld] and '%s' [%lld, %lld] overlap", path,
			          text_msg(c, a->name), (long long)a->begin, (long long)a->end, text_msg(c, b->name),
			          (long long)b->begin, (long long)b->end);
	}
	return st;
}

SafeTensors *safetensors_open(Ctx *c, const char *path)
{
	long n;
	unsigned char *buf = (unsigned char *)ctx_read_file(c, "weights file", path, &n);
	return safetensors_parse(c, path, buf, n);
}

const StEntry *safetensors_find(const SafeTensors *st, const char *name)
{
	for (int i = 0; i < st->nentries; i++)
		if (strcmp(st->entries[i].name, name) == 0)
			return &st->entries[i];
	return NULL;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		if (man == 0) {
			bits = sign;
		} else {
			/* subnormal: normalise */
			int e = -1;
			do {
				man <<= 1;
				e++;
			} while (!(man & 0x400));
			bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
		}
	} else if (exp == 31) {
		bits = sign | 0x7f800000u | man << 13;
	} else {
		bits = sign | (exp + 127 - 15) << 23 | man << 13;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

float *safetensors_get_f32(Ctx *c, const SafeTensors *st, const StEntry *e)
{
	int64_t n = 1;
	for (int d = 0; d < e->rank; d++)
		n = ctx_mul(c, n, e->dims[d]);
	float *out = ctx_alloc(c, (size_t)n * sizeof(float) + 1);
	const unsigned char *p = st->data + e->begin;
	if (strcmp(e->dtype, "F32") == 0) {
		for (int64_t i = 0; i < n; i++) {
			uint32_t b = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
			             (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
			memcpy(&out[i], &b, 4);
		}
	} else if (strcmp(e->dtype, "F16") == 0) {
		for (int64_t i = 0; i < n; i++)
			out[i] = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
	} else if (strcmp(e->dtype, "BF16") == 0) {
		for (int64_t i = 0; i < n; i++) {
			uint32_t b = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
			memcpy(&out[i], &b, 4);
		}
	} else {
		ctx_error(c, "%s: tensor '%s' has dtype %s; expected F32, F16 or BF16", st->path,
		          text_msg(c, e->name), text_msg(c, e->dtype));
	}
	return out;
}
