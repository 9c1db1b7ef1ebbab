/*
 * text.c -- model text on its way out.
 *
 * Every string that comes from an input file (graph, node, tensor and
 * initializer names, safetensors keys, DSL strings, paths) is untrusted.  It
 * reaches generated C and the user's terminal only through one function per
 * context, so that an emitter cannot forget the rules of the context:
 *
 *   text_comment  inside a C block comment, between characters other than
 *                 '*', '/' and '?' (a space, a quote, a colon...): never
 *                 ends, opens or nests it, never splices lines, never forms
 *                 a trigraph, shows no control, bidirectional or invalid
 *                 bytes (they are written as \xNN)
 *   text_cstring  a whole C string literal with its quotes: C escapes for '"',
 *                 '\\' and '\n', three-digit octal for every other byte outside
 *                 printable ASCII, "?\?" so that no trigraph forms
 *   text_ident    a C identifier: never a keyword of C or C++, never a name a
 *                 standard header or the generated code defines as a macro
 *   text_json     a JSON string (--report=json): every character kept, the
 *                 hidden ones as \uXXXX, bytes that are not UTF-8 as U+FFFD
 *   text_msg      for a message: shortened, with the same escapes as comments
 *                 except that '/', '*' and '?' are shown as they are
 *   text_term     the sink under every message (ctx_error, node_error): escapes
 *                 whatever a caller formatted without text_msg
 *   text_depfile  a path in a Makefile rule (--depfile): ' ', '#' and '$'
 *                 escaped; refused (NULL) when Make cannot name it
 *
 * text_short cuts a long name for display (comments and messages), with a
 * marker that says how long it was; the _NAME macros keep names whole.
 *
 * Valid UTF-8 is kept in comments and messages except for the code points
 * that reorder or hide text: C0 and C1 controls, the bidirectional and other
 * format controls, line and paragraph separators, the byte order mark.
 */
#include "tostc.h"

#include <stdio.h>
#include <string.h>

/* An output string: growing in the arena, or (c NULL) a fixed buffer that
 * keeps what fits. */
typedef struct {
	Ctx *c;
	char *p;
	size_t n, cap;
} Buf;

static void put(Buf *b, const char *s, size_t n)
{
	if (!b->c) {
		if (b->n + n + 1 > b->cap) {
			b->cap = 0;   /* full: nothing after a piece that did not fit */
			return;
		}
	} else if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = ctx_alloc(b->c, cap);
		if (b->n)
			memcpy(p, b->p, b->n);
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void putc_(Buf *b, char ch) { put(b, &ch, 1); }

static void put_hex(Buf *b, unsigned char ch)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
	put(b, e, 4);
}

static const char *done(Buf *b) { return b->p ? b->p : ""; }

/* The code points text_comment and text_msg never show as they are. */
static bool hidden_cp(uint32_t u)
{
	return u < 0x20 || (u >= 0x7f && u <= 0x9f) || u == 0xad || u == 0x061c ||
	       (u >= 0x0600 && u <= 0x0605) || u == 0x06dd || u == 0x070f || u == 0x180e ||
	       (u >= 0x200b && u <= 0x200f) || (u >= 0x2028 && u <= 0x202e) ||
	       (u >= 0x2060 && u <= 0x206f) || u == 0xfeff || (u >= 0xfff9 && u <= 0xfffb) ||
	       (u >= 0xfdd0 && u <= 0xfdef) || (u & 0xfffe) == 0xfffe ||
	       (u >= 0xe0000 && u <= 0xe007f);
}

/* Length of the valid, shortest-form UTF-8 sequence at s (its code point in
 * *u), or 0 when the bytes there are not one. */
static int utf8_len(const unsigned char *s, uint32_t *u)
{
	unsigned char b = s[0];
	int n;
	uint32_t v, min;
	if (b < 0x80) {
		*u = b;
		return 1;
	} else if ((b & 0xe0) == 0xc0) {
		n = 2, v = b & 0x1f, min = 0x80;
	} else if ((b & 0xf0) == 0xe0) {
		n = 3, v = b & 0x0f, min = 0x800;
	} else if ((b & 0xf8) == 0xf0) {
		n = 4, v = b & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*u = v;
	return n;
}

typedef enum {
	SHOW_COMMENT, /* inside a C block comment */
	SHOW_MSG,     /* a name in a message: '\\' doubled, so escapes are unambiguous */
	SHOW_SINK,    /* a whole message: '\\' as it is (text_msg's escapes stay) */
} ShowMode;

/* Append text, escaped for display: printable ASCII and visible UTF-8 as
 * they are, '\n' '\t' '\r' as C escapes, every other byte as \xNN.  In a
 * comment also '\\', a '/' next to a '/' or '*' (it could end, open or nest
 * the comment) and the second '?' of "??" (a trigraph). */
static void put_shown(Buf *b, const char *text, size_t len, ShowMode mode)
{
	bool comment = mode == SHOW_COMMENT;
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		uint32_t u;
		int n = utf8_len(s + i, &u);
		if (n > 0 && (size_t)n > len - i)
			n = 0;
		if (n == 0 || hidden_cp(u)) {
			if (ch == '\n')
				put(b, "\\n", 2);
			else if (ch == '\t')
				put(b, "\\t", 2);
			else if (ch == '\r')
				put(b, "\\r", 2);
			else
				put_hex(b, ch);
			i++;
			continue;
		}
		if (comment && n == 1) {
			int prev = i ? s[i - 1] : -1, next = i + 1 < len ? s[i + 1] : -1;
			if (ch == '\\' ||
			    (ch == '/' && (prev == '*' || prev == '/' || next == '*' || next == '/')) ||
			    (ch == '?' && prev == '?')) {
				put_hex(b, ch);
				i++;
				continue;
			}
		} else if (mode == SHOW_MSG && ch == '\\') {
			put(b, "\\\\", 2);
			i++;
			continue;
		}
		put(b, text + i, (size_t)n);
		i += (size_t)n;
	}
}

/* The cut a name gets in comments and messages: at most TEXT_SHOWN_MAX bytes,
 * ending on a character boundary. */
static size_t shown_len(const char *s)
{
	size_t n = strlen(s);
	if (n <= TEXT_SHOWN_MAX)
		return n;
	size_t k = TEXT_SHOWN_MAX - 24;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

const char *text_short(Ctx *c, const char *s)
{
	size_t n = strlen(s), k = shown_len(s);
	if (k == n)
		return s;
	return ctx_printf(c, "%.*s...(%zu bytes)", (int)k, s, n);
}

const char *text_comment(Ctx *c, const char *s)
{
	Buf b = {.c = c};
	put_shown(&b, s, strlen(s), SHOW_COMMENT);
	return done(&b);
}

static void put_msg(Buf *b, const char *s)
{
	size_t n = strlen(s), k = shown_len(s);
	put_shown(b, s, k, SHOW_MSG);
	if (k < n) {
		char tail[40];
		snprintf(tail, sizeof tail, "...(%zu bytes)", n);
		put(b, tail, strlen(tail));
	}
}

const char *text_msg(Ctx *c, const char *s)
{
	Buf b = {.c = c};
	put_msg(&b, s);
	return done(&b);
}

void text_msg_into(char *dst, size_t cap, const char *s)
{
	Buf b = {NULL, dst, 0, cap};
	if (cap)
		dst[0] = 0;
	put_msg(&b, s);
}

void text_term(char *dst, size_t cap, const char *src)
{
	Buf b = {NULL, dst, 0, cap};
	if (cap)
		dst[0] = 0;
	put_shown(&b, src, strlen(src), SHOW_SINK);
}

const char *text_cstring(Ctx *c, const char *s)
{
	Buf b = {.c = c};
	putc_(&b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			put(&b, e, 2);
		} else if (*p == '\n') {
			put(&b, "\\n", 2);
		} else if (*p == '?' && p > (const unsigned char *)s && p[-1] == '?') {
			put(&b, "\\?", 2);
		} else if (*p >= 0x20 && *p < 0x7f) {
			putc_(&b, (char)*p);
		} else {
			char e[4] = {'\\', (char)('0' + (*p >> 6)), (char)('0' + ((*p >> 3) & 7)),
			             (char)('0' + (*p & 7))};
			put(&b, e, 4);
		}
	}
	putc_(&b, '"');
	return done(&b);
}

const char *text_depfile(Ctx *c, const char *s)
{
	Buf b = {.c = c};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return NULL;   /* Make and Ninja read these differently, or not at all */
		if (*p == ' ' || *p == '#')
			putc_(&b, '\\');
		else if (*p == '$')
			putc_(&b, '$');
		putc_(&b, (char)*p);
	}
	return done(&b);
}

const char *text_json(Ctx *c, const char *s)
{
	Buf b = {.c = c};
	putc_(&b, '"');
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t u;
		int n = utf8_len(p, &u);
		char e[16];
		if (n == 0) {   /* not UTF-8: the replacement character */
			put(&b, "\\ufffd", 6);
			p++;
			continue;
		}
		if (u == '"' || u == '\\') {
			e[0] = '\\', e[1] = (char)u;
			put(&b, e, 2);
		} else if (hidden_cp(u) && u > 0xffff) {
			uint32_t v = u - 0x10000;
			snprintf(e, sizeof e, "\\u%04x\\u%04x", (unsigned)(0xd800 + (v >> 10)),
			         (unsigned)(0xdc00 + (v & 0x3ff)));
			put(&b, e, 12);
		} else if (hidden_cp(u)) {
			snprintf(e, sizeof e, "\\u%04x", (unsigned)u);
			put(&b, e, 6);
		} else {
			put(&b, (const char *)p, (size_t)n);
		}
		p += n;
	}
	putc_(&b, '"');
	return done(&b);
}

/* Keywords of C (C89 to C23) and C++, and the object-like macros of the
 * standard headers without an underscore, which a header that includes the
 * generated one may have seen; all-capital names with an underscore are
 * taken as macros too (INT64_MAX, HUGE_VALF, M_PI, ...). */
static const char *const reserved[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
	"enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
	"restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
	"union", "unsigned", "void", "volatile", "while", "bool", "true", "false", "nullptr",
	"alignas", "alignof", "constexpr", "static_assert", "thread_local", "typeof",
	"typeof_unqual", "noreturn", "complex", "imaginary", "asm", "catch", "class", "concept",
	"const_cast", "consteval", "constinit", "co_await", "co_return", "co_yield", "decltype",
	"delete", "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace", "new",
	"noexcept", "operator", "private", "protected", "public", "reinterpret_cast", "requires",
	"static_cast", "template", "this", "throw", "try", "typeid", "typename", "using",
	"virtual", "wchar_t", "char8_t", "char16_t", "char32_t", "and", "and_eq", "bitand",
	"bitor", "compl", "not", "not_eq", "or", "or_eq", "xor", "xor_eq", "errno", "stdin",
	"stdout", "stderr", "math_errhandling", "NULL", "NAN", "INFINITY", "EOF", "BUFSIZ",
	"EDOM", "ERANGE", "EILSEQ", "I", "HUGE", "MAXFLOAT", "DOMAIN", "SING", "OVERFLOW",
	"UNDERFLOW", "TLOSS", "PLOSS", "W", NULL};

static bool is_reserved(const char *s)
{
	bool caps = strchr(s, '_') != NULL;
	for (const char *p = s; *p && caps; p++)
		caps = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (caps)
		return true;
	for (int i = 0; reserved[i]; i++)
		if (strcmp(reserved[i], s) == 0)
			return true;
	return false;
}

/* "model_" or "MODEL_" at the start of s (case aside) */
static bool has_prefix(const char *s, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = s[i], p = prefix[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (p >= 'A' && p <= 'Z')
			p = (char)(p - 'A' + 'a');
		if (a != p)
			return false;
	}
	return s[n] == '_';
}

const char *text_ident(Ctx *c, const char *s, const char *prefix)
{
	size_t n = strlen(s);
	if (n > 64)
		n = 64;
	char *r = ctx_alloc(c, n + 4);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		r[k++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
		         ? ch : '_';
	}
	r[k] = 0;
	/* a leading digit or '_' (the implementation's names), a reserved word,
	 * the generated API's and the runtime's prefixes: "v_" in front */
	if (k == 0 || r[0] == '_' || (r[0] >= '0' && r[0] <= '9') || is_reserved(r) ||
	    has_prefix(r, prefix) || has_prefix(r, "tr"))
		return ctx_printf(c, "v_%s", r);
	return r;
}
