/*
 * test_text.c -- model text on its way out (compiler/text.c): each context's
 * escapes on the breakers docs/reliability.md lists, shortening, and the
 * message sink under ctx_error / node_error.
 */
#include <CUnit/Basic.h>
#include <string.h>

#include "tostc.h"
#include "unit.h"

static Ctx c;

static int setup(void)
{
	ctx_init(&c, "m.onnx");
	return 0;
}

static int teardown(void)
{
	ctx_free(&c);
	return 0;
}

static void test_comment(void)
{
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "*/ int x; /*"), "*\\x2f int x; \\x2f*");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "/blocks.0/attn"), "/blocks.0/attn");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "a//b"), "a\\x2f\\x2fb");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "a/b*c"), "a/b*c");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "x?" "?/"), "x?\\x3f/");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "x\\"), "x\\x5c");
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "a\nb\tc\x1b"), "a\\nb\\tc\\x1b");
	/* U+202E and an overlong '/' are escaped; U+00E9 is shown */
	CU_ASSERT_STRING_EQUAL(text_comment(&c, "\xe2\x80\xae\xc0\xaf\xc3\xa9"),
	                       "\\xe2\\x80\\xae\\xc0\\xaf\xc3\xa9");
}

static void test_cstring(void)
{
	CU_ASSERT_STRING_EQUAL(text_cstring(&c, "a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
	CU_ASSERT_STRING_EQUAL(text_cstring(&c, "?" "?/"), "\"?\\?/\"");
	CU_ASSERT_STRING_EQUAL(text_cstring(&c, "\xff" "1"), "\"\\3771\"");
	CU_ASSERT_STRING_EQUAL(text_cstring(&c, "*/"), "\"*/\"");
}

static void test_ident(void)
{
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "x", "m"), "x");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "a.b-c", "m"), "a_b_c");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "0x", "m"), "v_0x");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "_x", "m"), "v__x");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "int", "m"), "v_int");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "class", "m"), "v_class");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "INT64_MAX", "m"), "v_INT64_MAX");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "X", "m"), "X");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "m_run", "m"), "v_m_run");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "M_WORKSPACE_SIZE", "m"), "v_M_WORKSPACE_SIZE");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "mx", "m"), "mx");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "tr_relu_f32", "m"), "v_tr_relu_f32");
	CU_ASSERT_STRING_EQUAL(text_ident(&c, "", "m"), "v_");
}

static void test_short_and_msg(void)
{
	char name[5000];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = 0;
	const char *s = text_short(&c, name);
	CU_ASSERT(strlen(s) <= TEXT_SHOWN_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "...(4999 bytes)"));
	CU_ASSERT_STRING_EQUAL(text_short(&c, "short"), "short");
	/* a cut never splits a UTF-8 character: 40 x U+00E9 (80 bytes) + 40 'x' */
	char u[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(u, "\xc3\xa9");
	strcat(u, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	const char *m = text_msg(&c, u);
	CU_ASSERT_PTR_NULL(strstr(m, "\\x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "...(120 bytes)"));
	CU_ASSERT_STRING_EQUAL(text_msg(&c, "a\\b\x1b"), "a\\\\b\\x1b");
}

static void test_json(void)
{
	CU_ASSERT_STRING_EQUAL(text_json(&c, "a\"\\\n\xe2\x80\xae\xff\xc3\xa9"),
	                       "\"a\\\"\\\\\\u000a\\u202e\\ufffd\xc3\xa9\"");
}

/* ctx_error and node_error escape whatever the caller formatted. */
static void test_sink(void)
{
	Ctx e;
	jmp_buf jb;
	ctx_init(&e, "m\x1b.onnx");
	e.jmp = &jb;
	if (setjmp(jb) == 0)
		ctx_error(&e, "tensor '%s'", "a\nb\xe2\x80\xae");
	CU_ASSERT_STRING_EQUAL(e.errmsg, "m\\x1b.onnx: error: tensor 'a\\nb\\xe2\\x80\\xae'");
	if (setjmp(jb) == 0) {
		Graph *g = graph_new(&e);
		Node *n = node_new(g, OP_ADD, "x\n#define y", 2, 1);
		node_error(g, n, "bad");
	}
	CU_ASSERT_STRING_EQUAL(e.errmsg, "m\\x1b.onnx: error: node 'x\\n#define y' (Add, #0): bad");
	ctx_free(&e);
}

void register_text(void)
{
	CU_pSuite s = CU_add_suite("text", setup, teardown);
	CU_add_test(s, "comments never end, splice or hide", test_comment);
	CU_add_test(s, "string literals keep every byte", test_cstring);
	CU_add_test(s, "identifiers avoid keywords, macros and the API", test_ident);
	CU_add_test(s, "names shortened on a character boundary", test_short_and_msg);
	CU_add_test(s, "JSON strings", test_json);
	CU_add_test(s, "the message sink escapes everything", test_sink);
}
