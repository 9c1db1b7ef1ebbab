/*
 * emit_weights.c -- where the weights of the generated code live (--weights).
 *
 *   embed   one string literal at the end of model.c, behind weights(): two
 *           files and nothing else to build (the default)
 *   blob    model.weights holds them and model.weights.S links that file
 *           into .rodata with .incbin: model.c is only code, so a C compiler
 *           builds it in seconds and little memory; the API is embed's
 *   extern  model.weights is not linked: the caller loads or maps it (from a
 *           file, from flash) and passes it to NAME_run_w, NAME_step_w, ...,
 *           which check its size, alignment and header on every call, never
 *           read past it, and keep no mutable globals
 *
 * The forward functions are the same in every mode: they read the weights
 * through a pointer W that the public functions fetch (emit_weights_fetch),
 * so the three modes compute bitwise the same outputs.
 *
 * A .weights file is a header of WEIGHTS_HEADER_SIZE bytes, then the blob:
 * every constant of the model at a 64-byte aligned offset, raw little-endian
 * bytes, laid out as the table at the end of model.c says.
 *
 *   offset  bytes  field
 *        0      8  magic "TOSTCWTS"
 *        8      4  format version: 1 (u32, little-endian)
 *       12      4  header bytes: 64 (u32)
 *       16      8  file bytes, header included (u64): NAME_WEIGHTS_SIZE
 *       24      8  the hash of the blob, bytes 64 to the end (u64): NAME_WEIGHTS_HASH
 *       32     32  zero
 *
 * The hash reads the blob as little-endian 64-bit words w (its size is a
 * multiple of 64): from h = 0xcbf29ce484222325, h = (h ^ w) * 0x100000001b3,
 * then h ^= h >> 32, for each word.  Each step is a bijection of h for a
 * given w, so a change within any one word always changes the hash; and it
 * runs at about a gigabyte a second, several times FNV-1a's byte at a time.
 *
 * The generated code reads the header a byte at a time, so it is the same on
 * any host; the blob is little-endian, and model.c refuses (#error) to build
 * for a big-endian target.
 */
#include "tostc.h"

#include <ctype.h>
#include <string.h>

#define WEIGHTS_HEADER_SIZE 64   /* bytes before the blob */
#define WEIGHTS_MAGIC "TOSTCWTS"
#define WEIGHTS_VERSION 1

int64_t weights_place(WeightBlob *b, Tensor *r)
{
	for (int i = 0; i < b->n; i++)
		if (b->t[i]->data == r->data && tensor_nbytes(b->t[i]) == tensor_nbytes(r))
			return b->off[i];
	if (b->n == b->cap) {
		int cap = b->cap ? 2 * b->cap : 64;
		Tensor **t = ctx_alloc(b->c, sizeof(Tensor *) * (size_t)cap);
		int64_t *off = ctx_alloc(b->c, sizeof(int64_t) * (size_t)cap);
		if (b->n) {
			memcpy(t, b->t, sizeof(Tensor *) * (size_t)b->n);
			memcpy(off, b->off, sizeof(int64_t) * (size_t)b->n);
		}
		b->t = t, b->off = off, b->cap = cap;
	}
	int64_t at = b->size;
	b->t[b->n] = r;
	b->off[b->n++] = at;
	b->size = ctx_add(b->c, b->size, (tensor_nbytes(r) + 63) / 64 * 64);
	return at;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* the hash of the blob (above), as the generated NAME_weights_check computes it */
static uint64_t blob_hash(const unsigned char *p, int64_t n)
{
	uint64_t h = FNV1A_BASIS;
	for (int64_t i = 0; i < n; i += 8) {
		h = (h ^ le64(p + i)) * 0x100000001b3ull;
		h ^= h >> 32;
	}
	return h;
}

void weights_finish(WeightBlob *b)
{
	unsigned char *p = ctx_alloc(b->c, (size_t)b->size + 1);
	for (int i = 0; i < b->n; i++)
		memcpy(p + b->off[i], b->t[i]->data, (size_t)tensor_nbytes(b->t[i]));
	b->bytes = p;
	b->hash = blob_hash(p, b->size);
}

static const char *upper(Ctx *c, const char *s)
{
	char *u = ctx_strdup(c, s);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* ---- the API: what the public functions take and how they find W ---- */

const char *weights_params(const EmitOptions *o)
{
	return o->weights == WEIGHTS_EXTERN ? "const void *weights, size_t weights_size, " : "";
}

const char *weights_suffix(const EmitOptions *o)
{
	return o->weights == WEIGHTS_EXTERN ? "_w" : "";
}

void emit_weights_fetch(const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	if (o->weights == WEIGHTS_EXTERN)
		fputs("\tconst unsigned char *W;\n"
		      "\tint r = weights_open(weights, weights_size, &W);\n"
		      "\tif (r != 0)\n\t\treturn r;\n", f);
	else if (b->size > 0)
		fputs("\tconst unsigned char *W = weights();\n", f);
	else
		fputs("\tconst unsigned char *W = 0; /* the model has no weights */\n", f);
}

void emit_weights_decl(const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	const char *U = upper(b->c, o->name);
	switch (o->weights) {
	case WEIGHTS_EMBED:
		if (b->size > 0)
			fputs("/* The weights, one blob (defined at the end). */\n"
			      "static const unsigned char *weights(void);\n", f);
		break;
	case WEIGHTS_BLOB:
		if (b->size > 0)
			fprintf(f, "/* The weights: %s, linked by %s.S (see the end). */\n"
			           "static const unsigned char *weights(void);\n",
			        text_comment(b->c, o->weights_name), text_comment(b->c, o->weights_name));
		break;
	case WEIGHTS_EXTERN:
		fprintf(f, "/* The weights come from the caller (see the end); no mutable globals. */\n"
		           "#ifndef %s_NO_STATIC_WORKSPACE\n#define %s_NO_STATIC_WORKSPACE\n#endif\n"
		           "static int weights_open(const void *weights, size_t weights_size,\n"
		           "\tconst unsigned char **W);\n",
		        U, U);
		break;
	}
}

/* ---- the end of model.c ---- */

/* The table of what lies where, and the byte order the blob needs. */
static void emit_table(const WeightBlob *b, FILE *f, const char *where)
{
	Ctx *c = b->c;
	fprintf(f, "\n/* ---- the weights ---- */\n\n"
	           "/*\n * %s: one little-endian blob, each tensor 64-byte aligned.\n"
	           " *   offset      bytes  shape                 name\n", where);
	for (int i = 0; i < b->n; i++) {
		Tensor *t = b->t[i];
		fprintf(f, " * %9lld %10lld  %-20s  %s\n", (long long)b->off[i],
		        (long long)tensor_nbytes(t), tensor_shape_str(c, t),
		        text_comment(c, text_short(c, t->name)));
	}
	fputs(" */\n", f);
	fputs("#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
	      "#error \"tostc weights are little-endian; this target is not\"\n#endif\n", f);
}

/* embed: the blob as the body of weights().  Weights are written as string
 * literals of octal escapes, not as lists of float literals: compilers parse
 * a string literal in linear time and little memory, while a 20M-element
 * initializer list makes them crawl. */
static void emit_embedded(const WeightBlob *b, FILE *f)
{
	emit_table(b, f, "Embedded");
	fputs("#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n#endif\n",
	      f);
	/* 64-byte aligned, so that each tensor's 64-byte aligned offset is too: a
	 * weight vector that straddles two cache lines costs two loads */
	fprintf(f, "static const unsigned char *weights(void)\n{\n"
	           "\tTR_ALIGN64 static const union {\n\t\tunsigned char bytes[%lld];\n"
	           "\t\tdouble align;\n\t} blob = {{\n",
	        (long long)b->size + 1);
	const unsigned char *blob = b->bytes;
	/* Strings of octal escapes; printable characters as themselves.  Always
	 * three octal digits, so a following digit can't extend an escape.  Each
	 * line is built in a buffer: this loop writes hundreds of megabytes for
	 * large models. */
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _+-*/.,:=<>()";
	char line[512];
	int col = 0;
	line[col++] = '"';
	for (int64_t i = 0; i < b->size; i++) {
		unsigned char ch = blob[i];
		if (col >= 100) {
			line[col++] = '"';
			line[col++] = '\n';
			fwrite(line, 1, (size_t)col, f);
			col = 0;
			line[col++] = '"';
		}
		if (ch && strchr(plain, ch)) {
			line[col++] = (char)ch;
		} else {
			line[col++] = '\\';
			line[col++] = (char)('0' + (ch >> 6));
			line[col++] = (char)('0' + ((ch >> 3) & 7));
			line[col++] = (char)('0' + (ch & 7));
		}
	}
	line[col++] = '"';
	fwrite(line, 1, (size_t)col, f);
	fputs("\n\t}};\n\treturn blob.bytes;\n}\n", f);
}

/* blob: the symbol model.weights.S defines (hidden: not exported from a
 * shared library either). */
static void emit_linked(const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	emit_table(b, f, ctx_printf(b->c, "In %s, after its %d-byte header, linked by %s.S",
	                            text_comment(b->c, o->weights_name), WEIGHTS_HEADER_SIZE,
	                            text_comment(b->c, o->weights_name)));
	fprintf(f, "#if defined(__GNUC__)\n__attribute__((visibility(\"hidden\")))\n#endif\n"
	           "extern const unsigned char %s_weights_blob[];\n\n"
	           "static const unsigned char *weights(void)\n{\n\treturn %s_weights_blob;\n}\n",
	        o->name, o->name);
}

/* extern: the checks of the caller's blob.  weights_open reads the header
 * only after the size check, and the forward pass only after all of them. */
static void emit_checks(const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	const char *N = o->name, *U = upper(b->c, N);
	emit_table(b, f, ctx_printf(b->c, "Passed in by the caller: %s, after its %d-byte header",
	                            text_comment(b->c, o->weights_name), WEIGHTS_HEADER_SIZE));
	fprintf(f, "\n/* the little-endian integer of n bytes at p */\n"
	           "static uint64_t weights_le(const unsigned char *p, int n)\n{\n"
	           "\tuint64_t v = 0;\n\tfor (int i = n - 1; i >= 0; i--)\n"
	           "\t\tv = v << 8 | p[i];\n\treturn v;\n}\n\n");
	fprintf(f, "/* 0, with *W the blob after the header, or the first check that fails. */\n"
	           "static int weights_open(const void *weights, size_t weights_size,\n"
	           "\tconst unsigned char **W)\n{\n"
	           "\tconst unsigned char *p = (const unsigned char *)weights;\n"
	           "\tstatic const char magic[] = \"" WEIGHTS_MAGIC "\";\n"
	           "\tif (!p || weights_size < %d)\n\t\treturn %s_ERR_WEIGHTS_SIZE;\n"
	           "\tif ((uintptr_t)p %% %s_WEIGHTS_ALIGN != 0)\n\t\treturn %s_ERR_WEIGHTS_ALIGN;\n"
	           "\tfor (int i = 0; i < 8; i++)\n\t\tif (p[i] != (unsigned char)magic[i])\n"
	           "\t\t\treturn %s_ERR_WEIGHTS_HEADER;\n"
	           "\tif (weights_le(p + 8, 4) != %d || weights_le(p + 12, 4) != %d)\n"
	           "\t\treturn %s_ERR_WEIGHTS_HEADER;\n"
	           "\tif (weights_le(p + 24, 8) != %s_WEIGHTS_HASH)\n\t\treturn %s_ERR_WEIGHTS_MODEL;\n"
	           "\tif (weights_le(p + 16, 8) != %s_WEIGHTS_SIZE)\n\t\treturn %s_ERR_WEIGHTS_HEADER;\n"
	           "\tif (weights_size != %s_WEIGHTS_SIZE)\n\t\treturn %s_ERR_WEIGHTS_SIZE;\n"
	           "\t*W = p + %d;\n\treturn 0;\n}\n\n",
	        WEIGHTS_HEADER_SIZE, U, U, U, U, WEIGHTS_VERSION, WEIGHTS_HEADER_SIZE, U, U, U, U, U,
	        U, U, WEIGHTS_HEADER_SIZE);
	fprintf(f, "/* the hash of the blob: its little-endian 64-bit words, each mixed in */\n"
	           "int %s_weights_check(const void *weights, size_t weights_size)\n{\n"
	           "\tconst unsigned char *W;\n\tuint64_t h = UINT64_C(0x%016llx);\n"
	           "\tint r = weights_open(weights, weights_size, &W);\n"
	           "\tif (r != 0)\n\t\treturn r;\n"
	           "\tfor (size_t i = 0; i < %s_WEIGHTS_SIZE - %d; i += 8) {\n"
	           "\t\th = (h ^ weights_le(W + i, 8)) * UINT64_C(0x100000001b3);\n"
	           "\t\th ^= h >> 32;\n\t}\n"
	           "\treturn h == %s_WEIGHTS_HASH ? 0 : %s_ERR_WEIGHTS_HASH;\n}\n",
	        N, (unsigned long long)FNV1A_BASIS, U, WEIGHTS_HEADER_SIZE, U, U);
}

void emit_weights_def(const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	switch (o->weights) {
	case WEIGHTS_EMBED:
		if (b->size > 0)
			emit_embedded(b, f);
		break;
	case WEIGHTS_BLOB:
		if (b->size > 0)
			emit_linked(o, b, f);
		break;
	case WEIGHTS_EXTERN:
		emit_checks(o, b, f);
		break;
	}
}

/* ---- model.h ---- */

void emit_weights_header(const EmitOptions *o, const WeightBlob *b, FILE *h)
{
	if (o->weights != WEIGHTS_EXTERN)
		return;
	const char *N = o->name, *U = upper(b->c, N);
	const char *wn = text_comment(b->c, o->weights_name);
	fprintf(h, "\n/*\n"
	           " * Weights (tostc --weights=extern): not linked in.  The caller loads or maps\n"
	           " * %s (from a file, from flash...) and passes it to every call,\n"
	           " * as `weights`, `weights_size`: %s_WEIGHTS_SIZE bytes at a %s_WEIGHTS_ALIGN-\n"
	           " * byte aligned address (mmap's are), read-only, shared by any number of\n"
	           " * threads.  Its bytes are little-endian (this code builds for little-endian\n"
	           " * targets only): a 64-byte header (magic \"" WEIGHTS_MAGIC "\", format %d, the\n"
	           " * size, the hash), then every tensor, 64-byte aligned.  Every call checks the\n"
	           " * size, the alignment and the header, in that order, and returns the first\n"
	           " * error below before it reads anything else; %s_weights_check also\n"
	           " * hashes all the bytes (once, after loading: under a second per GB).\n"
	           " * There is no static workspace in this mode: a NULL workspace returns -1.\n"
	           " */\n",
	        wn, U, U, WEIGHTS_VERSION, N);
	fprintf(h, "#define %s_WEIGHTS_SIZE %lld\n", U, (long long)b->size + WEIGHTS_HEADER_SIZE);
	fprintf(h, "#define %s_WEIGHTS_HASH UINT64_C(0x%016llx) /* of the bytes after the header */\n",
	        U, (unsigned long long)b->hash);
	fprintf(h, "#define %s_WEIGHTS_ALIGN 64\n", U);
	fprintf(h, "#define %s_ERR_WEIGHTS_SIZE (-3)   /* NULL, or not %s_WEIGHTS_SIZE bytes */\n", U, U);
	fprintf(h, "#define %s_ERR_WEIGHTS_ALIGN (-4)  /* not %s_WEIGHTS_ALIGN-byte aligned */\n", U, U);
	fprintf(h, "#define %s_ERR_WEIGHTS_HEADER (-5) /* not a tostc weights header of format %d */\n",
	        U, WEIGHTS_VERSION);
	fprintf(h, "#define %s_ERR_WEIGHTS_MODEL (-6)  /* the weights of another model (hash differs) */\n",
	        U);
	fprintf(h, "#define %s_ERR_WEIGHTS_HASH (-7)   /* %s_weights_check: bytes corrupted */\n", U, N);
	fprintf(h, "/* 0, or the first error code above (the last only from this function). */\n"
	           "int %s_weights_check(const void *weights, size_t weights_size);\n",
	        N);
}

/* ---- model.weights and model.weights.S ---- */

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

void emit_weights_files(const EmitOptions *o, const WeightBlob *b, const EmitFiles *out)
{
	Ctx *c = b->c;
	if (o->weights == WEIGHTS_EMBED)
		return;
	ir_assert(c, out->weights && (o->weights != WEIGHTS_BLOB || out->asm_));
	unsigned char head[WEIGHTS_HEADER_SIZE] = {0};
	memcpy(head, WEIGHTS_MAGIC, 8);
	put_le(head + 8, WEIGHTS_VERSION, 4);
	put_le(head + 12, WEIGHTS_HEADER_SIZE, 4);
	put_le(head + 16, (uint64_t)(b->size + WEIGHTS_HEADER_SIZE), 8);
	put_le(head + 24, b->hash, 8);
	fwrite(head, 1, sizeof head, out->weights);
	fwrite(b->bytes, 1, (size_t)b->size, out->weights);
	if (o->weights != WEIGHTS_BLOB)
		return;

	/* The .S goes through the C preprocessor (hence the C comments and the
	 * #error); .incbin skips the header, and the .if refuses a weights file
	 * of another size (a stale one) when it is assembled. */
	const char *N = o->name, *wn = o->weights_name;
	fprintf(out->asm_, "/*\n * %s.S -- generated by tostc %s; do not edit.\n * Command: %s\n"
	                   " *\n * Links %s (the %lld bytes after its %d-byte header) into\n"
	                   " * .rodata as %s_weights_blob, 64-byte aligned, for %.*s.c.\n"
	                   " * Assemble it with the C compiler: cc -c %s.S, with -I naming\n"
	                   " * the directory of %s when that is not the current one.\n"
	                   " * ELF targets (Linux, the BSDs), gcc or clang.\n */\n",
	        text_comment(c, wn), TOSTC_VERSION, text_comment(c, o->cmdline), text_comment(c, wn),
	        (long long)b->size, WEIGHTS_HEADER_SIZE, N, (int)strlen(o->header_name) - 2,
	        text_comment(c, o->header_name),
	        text_comment(c, wn), text_comment(c, wn));
	fprintf(out->asm_, "#if !defined(__ELF__)\n"
	                   "#error \"tostc --weights=blob makes ELF objects; use --weights=embed or extern\"\n"
	                   "#endif\n"
	                   "\t.section .rodata\n\t.balign 64\n"
	                   "\t.globl %s_weights_blob\n\t.hidden %s_weights_blob\n"
	                   "\t.type %s_weights_blob, %%object\n"
	                   "%s_weights_blob:\n"
	                   "\t.incbin %s, %d\n"
	                   "\t.if . - %s_weights_blob - %lld\n"
	                   "\t.error \"the weights file is not this model's (its size differs): run tostc again\"\n"
	                   "\t.endif\n"
	                   "\t.size %s_weights_blob, . - %s_weights_blob\n"
	                   "\t.section .note.GNU-stack,\"\",%%progbits\n",
	        N, N, N, N, text_cstring(c, wn), WEIGHTS_HEADER_SIZE, N, (long long)b->size, N, N);
}
