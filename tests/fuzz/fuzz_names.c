/*
 * fuzz_names.c -- random bytes in the names, doc strings and metadata of a
 * small valid model must not change what the generated C means.
 *
 * The input is split at NUL bytes into up to NFIELDS strings, which become
 * the model's strings (graph, node, tensor, initializer and attribute names,
 * doc strings, producer, domain, metadata; absent ones stay "x<k>").  The
 * model is y = relu(x + w) written directly in protobuf's wire format, so
 * any bytes get through.  tostc compiles it, and the same model with safe
 * names.  Then:
 *   - refused: the message must show no control, DEL or bidirectional
 *     character and no byte that is not UTF-8;
 *   - compiled: model.c and model.h are tokenized as a C compiler would
 *     (trigraphs, line splices, comments dropped; preprocessor lines end in
 *     a newline token) and must give the same tokens as with safe names,
 *     with string literals' contents ignored and identifiers compared up to
 *     a consistent renaming (the parameters made from names).
 * A difference aborts, so libFuzzer keeps the input.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

enum {
	F_GRAPH, F_NODE1, F_NODE2, F_X, F_W, F_T, F_Y, F_DOC, F_PRODUCER, F_VERSION, F_DOMAIN,
	F_META_KEY, F_META_VALUE, F_ATTR, NFIELDS
};

/* ---- protobuf wire format ---- */

typedef struct {
	unsigned char *p;
	size_t n, cap;
} Bytes;

static void b_put(Bytes *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void b_varint(Bytes *b, uint64_t v)
{
	unsigned char c[10];
	int k = 0;
	do {
		c[k] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			c[k] |= 0x80;
		k++;
	} while (v);
	b_put(b, c, (size_t)k);
}

static void f_int(Bytes *b, int field, uint64_t v)
{
	b_varint(b, (uint64_t)field << 3);
	b_varint(b, v);
}

static void f_bytes(Bytes *b, int field, const void *s, size_t n)
{
	b_varint(b, (uint64_t)field << 3 | 2);
	b_varint(b, n);
	b_put(b, s, n);
}

static void f_str(Bytes *b, int field, const char *s) { f_bytes(b, field, s, strlen(s)); }

/* a sub-message: its bytes are moved into b and freed */
static void f_msg(Bytes *b, int field, Bytes *m)
{
	f_bytes(b, field, m->p, m->n);
	free(m->p);
	*m = (Bytes){0};
}

/* ValueInfoProto of a float tensor of shape (2) */
static void value_info(Bytes *b, int field, const char *name, const char *doc)
{
	Bytes dim = {0}, shape = {0}, tt = {0}, type = {0}, vi = {0};
	f_int(&dim, 1, 2);
	f_msg(&shape, 1, &dim);
	f_int(&tt, 1, 1);
	f_msg(&tt, 2, &shape);
	f_msg(&type, 1, &tt);
	f_str(&vi, 1, name);
	f_msg(&vi, 2, &type);
	f_str(&vi, 3, doc);
	f_msg(b, field, &vi);
}

static Bytes model_bytes(const char *const *s)
{
	Bytes node1 = {0}, node2 = {0}, attr = {0}, init = {0}, graph = {0}, opset = {0},
	      opset2 = {0}, meta = {0}, model = {0};
	f_str(&node1, 1, s[F_X]);
	f_str(&node1, 1, s[F_W]);
	f_str(&node1, 2, s[F_T]);
	f_str(&node1, 3, s[F_NODE1]);
	f_str(&node1, 4, "Add");
	f_str(&node1, 6, s[F_DOC]);
	f_str(&attr, 1, s[F_ATTR]);
	f_int(&attr, 20, 3);   /* STRING */
	f_str(&attr, 4, s[F_DOC]);
	f_str(&node2, 1, s[F_T]);
	f_str(&node2, 2, s[F_Y]);
	f_str(&node2, 3, s[F_NODE2]);
	f_str(&node2, 4, "Relu");
	f_msg(&node2, 5, &attr);
	f_str(&node2, 6, s[F_DOC]);
	static const float w[2] = {0.5f, 0.25f};
	f_int(&init, 1, 2);
	f_int(&init, 2, 1);   /* FLOAT */
	f_str(&init, 8, s[F_W]);
	f_bytes(&init, 9, w, sizeof w);
	f_str(&init, 12, s[F_DOC]);
	f_msg(&graph, 1, &node1);
	f_msg(&graph, 1, &node2);
	f_str(&graph, 2, s[F_GRAPH]);
	f_msg(&graph, 5, &init);
	f_str(&graph, 10, s[F_DOC]);
	value_info(&graph, 11, s[F_X], s[F_DOC]);
	value_info(&graph, 12, s[F_Y], s[F_DOC]);
	value_info(&graph, 13, s[F_T], s[F_DOC]);
	f_int(&model, 1, 8);
	f_str(&opset, 1, "");
	f_int(&opset, 2, 13);
	f_msg(&model, 8, &opset);
	f_str(&opset2, 1, s[F_DOMAIN]);
	f_int(&opset2, 2, 1);
	f_msg(&model, 8, &opset2);
	f_str(&model, 2, s[F_PRODUCER]);
	f_str(&model, 3, s[F_VERSION]);
	f_str(&model, 4, s[F_DOMAIN]);
	f_str(&model, 6, s[F_DOC]);
	f_msg(&model, 7, &graph);
	f_str(&meta, 1, s[F_META_KEY]);
	f_str(&meta, 2, s[F_META_VALUE]);
	f_msg(&model, 14, &meta);
	return model;
}

/* ---- compiling ---- */

static char dir[] = "/tmp/tostc_fuzz_names.XXXXXX";
static char path[256];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

typedef struct {
	int code;             /* 0 compiled, 1 refused (2 aborts) */
	char *c, *h;          /* the generated files (malloc'd) */
	size_t nc, nh;
	char msg[sizeof ((Ctx *)0)->errmsg];
} Result;

static Result compile(const Bytes *m)
{
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		snprintf(path, sizeof path, "%s/model.onnx", dir);
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(m->p, 1, m->n, f) != m->n || fclose(f) != 0)
		abort();
	Result r = {0};
	static Ctx ctx;
	static jmp_buf jb;
	static FILE *fc, *fh;
	Ctx *c = &ctx;
	ctx_init(c, path);
	c->jmp = &jb;
	fc = open_memstream(&r.c, &r.nc);
	fh = open_memstream(&r.h, &r.nh);
	if (!fc || !fh)
		abort();
	if (setjmp(jb) == 0) {
		Graph *g = onnx_load(c, path);
		pipeline_run(g, NULL, NULL);
		EmitOptions eo = {"m", "tostc model.onnx -o model.c --name m", "model.h", WEIGHTS_EMBED, NULL};
		emit_c(g, &eo, fc, fh);
	}
	fuzz_check_code(c);
	fclose(fc);
	fclose(fh);
	r.code = c->errcode;
	memcpy(r.msg, c->errmsg, sizeof r.msg);
	ctx_free(c);
	return r;
}

/* ---- a C tokenizer (translation phases 1 to 3) ---- */

typedef enum { T_IDENT, T_NUMBER, T_STRING, T_CHAR, T_PUNCT, T_NEWLINE, T_OTHER } TokKind;

typedef struct {
	TokKind kind;
	const char *s;   /* into the phase-2 text */
	int len;
} Tok;

typedef struct {
	Tok *t;
	int n, cap;
	char *text;      /* the text after trigraphs and line splices */
	const char *err;
} Toks;

static void tok_add(Toks *ts, TokKind k, const char *s, int len)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap * 2 + 256;
		ts->t = realloc(ts->t, sizeof(Tok) * (size_t)ts->cap);
		if (!ts->t)
			abort();
	}
	ts->t[ts->n++] = (Tok){k, s, len};
}

static bool ident_char(unsigned char ch)
{
	return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch >= 0x80;
}

static Toks tokenize(const char *src, size_t n)
{
	Toks ts = {0};
	/* phase 1: trigraphs (as -std=c99 reads them); phase 2: line splices */
	char *a = malloc(n + 1), *b = malloc(n + 1);
	if (!a || !b)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		static const char from[] = "=(/)'<!>-", to[] = "#[\\]^{|}~";
		const char *q;
		if (src[i] == '?' && i + 2 < n && src[i + 1] == '?' && src[i + 2] &&
		    (q = strchr(from, src[i + 2])) != NULL) {
			a[k++] = to[q - from];
			i += 2;
		} else {
			a[k++] = src[i];
		}
	}
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (a[i] == '\\' && i + 1 < k && a[i + 1] == '\n')
			i++;
		else
			b[m++] = a[i];
	}
	b[m] = 0;
	free(a);
	ts.text = b;
	/* phase 3 */
	static const char *const puncts[] = {"%:%:", "...", "<<=", ">>=", "->", "++", "--", "<<",
	    ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=",
	    "##", "<:", ":>", "<%", "%>", "%:", NULL};
	bool line_start = true, directive = false;
	const char *p = b;
	while (*p) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\n') {
			if (directive)
				tok_add(&ts, T_NEWLINE, p, 1);
			directive = false;
			line_start = true;
			p++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
			p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			if (!e) {
				ts.err = "unterminated comment";
				return ts;
			}
			p = e + 2;
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (line_start && (ch == '#' || (p[0] == '%' && p[1] == ':')))
			directive = true;
		line_start = false;
		const char *s = p;
		if (ch == '"' || ch == '\'') {
			for (p++; *p != (char)ch; p++) {
				if (!*p || *p == '\n') {
					ts.err = "unterminated literal";
					return ts;
				}
				if (*p == '\\' && p[1])
					p++;
			}
			p++;
			tok_add(&ts, ch == '"' ? T_STRING : T_CHAR, s, (int)(p - s));
		} else if ((ch >= '0' && ch <= '9') || (ch == '.' && p[1] >= '0' && p[1] <= '9')) {
			for (p++; ident_char((unsigned char)*p) || *p == '.' ||
			          ((*p == '+' || *p == '-') && strchr("eEpP", p[-1])); p++)
				;
			tok_add(&ts, T_NUMBER, s, (int)(p - s));
		} else if (ident_char(ch)) {
			while (ident_char((unsigned char)*p))
				p++;
			tok_add(&ts, T_IDENT, s, (int)(p - s));
		} else {
			int len = 1;
			for (int i = 0; puncts[i]; i++)
				if (strncmp(p, puncts[i], strlen(puncts[i])) == 0) {
					len = (int)strlen(puncts[i]);
					break;
				}
			tok_add(&ts, strchr("[](){}.&*+-~!/%<>^|?:;=,#", ch) ? T_PUNCT : T_OTHER, s, len);
			p += len;
		}
	}
	return ts;
}

static void toks_free(Toks *ts)
{
	free(ts->t);
	free(ts->text);
}

/* The renaming of identifiers seen so far (safe -> fuzzed), both ways. */
typedef struct {
	char *from[256], *to[256];
	int n;
} Renaming;

static bool tok_eq(const Tok *a, const Tok *b)
{
	return a->len == b->len && memcmp(a->s, b->s, (size_t)a->len) == 0;
}

static bool tok_is(const Tok *a, const char *s)
{
	return strlen(s) == (size_t)a->len && memcmp(a->s, s, (size_t)a->len) == 0;
}

static bool renamed_ok(Renaming *r, const Tok *a, const Tok *b)
{
	for (int i = 0; i < r->n; i++) {
		bool fa = tok_is(a, r->from[i]), fb = tok_is(b, r->to[i]);
		if (fa || fb)
			return fa && fb;
	}
	if (r->n == 256)
		return false;
	r->from[r->n] = strndup(a->s, (size_t)a->len);
	r->to[r->n++] = strndup(b->s, (size_t)b->len);
	return true;
}

static void renaming_free(Renaming *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->from[i]);
		free(r->to[i]);
	}
}

static void fail(const char *what, const char *safe, size_t ns, const char *bad, size_t nb)
{
	fprintf(stderr, "fuzz_names: %s\n--- safe names:\n%.*s\n--- fuzzed names:\n%.*s\n", what,
	        (int)(ns > 4000 ? 4000 : ns), safe, (int)(nb > 4000 ? 4000 : nb), bad);
	abort();
}

/* The tokens of `bad` must be those of `safe` (see the file comment). */
static void same_tokens(Renaming *r, const char *safe, size_t ns, const char *bad, size_t nb)
{
	Toks a = tokenize(safe, ns), b = tokenize(bad, nb);
	if (a.err)
		fail(a.err, safe, ns, bad, nb);
	if (b.err)
		fail(b.err, safe, ns, bad, nb);
	if (a.n != b.n)
		fail("a different number of tokens", safe, ns, bad, nb);
	for (int i = 0; i < a.n; i++) {
		const Tok *x = &a.t[i], *y = &b.t[i];
		bool ok = x->kind == y->kind;
		if (ok && x->kind == T_IDENT && !tok_eq(x, y))
			ok = renamed_ok(r, x, y);
		else if (ok && x->kind != T_STRING)
			ok = tok_eq(x, y);
		if (!ok) {
			char what[200];
			snprintf(what, sizeof what, "token %d differs: '%.*s' / '%.*s'", i,
			         x->len > 60 ? 60 : x->len, x->s, y->len > 60 ? 60 : y->len, y->s);
			fail(what, safe, ns, bad, nb);
		}
	}
	toks_free(&a);
	toks_free(&b);
}

/* A message that reached the user: no raw control, bidirectional or non-UTF-8 bytes. */
static void clean_message(const char *m)
{
	const unsigned char *p = (const unsigned char *)m;
	while (*p) {
		if (*p < 0x20 || *p == 0x7f)
			fail("a control byte in the message", m, strlen(m), "", 0);
		if (*p < 0x80) {
			p++;
			continue;
		}
		int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t u = n == 2 ? *p & 0x1f : n == 3 ? *p & 0x0f : *p & 0x07;
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
			else
				u = u << 6 | (p[i] & 0x3f);
		}
		if (n == 0 || (u >= 0x80 && u <= 0x9f) || (u >= 0x200b && u <= 0x200f) ||
		    (u >= 0x2028 && u <= 0x202e) || (u >= 0x2060 && u <= 0x206f) || u == 0xfeff ||
		    u == 0x061c)
			fail("a hidden or invalid character in the message", m, strlen(m), "", 0);
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	const char *safe[NFIELDS], *bad[NFIELDS];
	char defaults[NFIELDS][8];
	for (int i = 0; i < NFIELDS; i++) {
		snprintf(defaults[i], sizeof defaults[i], "x%d", i);
		safe[i] = bad[i] = defaults[i];
	}
	const char *p = buf;
	for (int i = 0; i < NFIELDS && p <= buf + size; i++) {
		bad[i] = p;
		p += strlen(p) + 1;
	}
	/* tensor names that coincide make another graph: nothing to compare */
	bool distinct = true;
	for (int i = F_X; i <= F_Y; i++)
		for (int j = F_X; j < i; j++)
			distinct &= strcmp(bad[i], bad[j]) != 0;
	Bytes ms = model_bytes(safe), mb = model_bytes(bad);
	Result rs = compile(&ms), rb = compile(&mb);
	if (rs.code != 0)
		fail("the model with safe names does not compile", rs.msg, strlen(rs.msg), "", 0);
	if (rb.code != 0) {
		clean_message(rb.msg);
	} else if (distinct) {
		Renaming r = {0};
		same_tokens(&r, rs.h, rs.nh, rb.h, rb.nh);
		same_tokens(&r, rs.c, rs.nc, rb.c, rb.nc);
		renaming_free(&r);
	}
	free(rs.c);
	free(rs.h);
	free(rb.c);
	free(rb.h);
	free(ms.p);
	free(mb.p);
	free(buf);
	return 0;
}
