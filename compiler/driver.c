/*
 * driver.c -- the tostc command line.
 *
 *   tostc MODEL -o OUT.c [--name N] [--dim S=V]... [--report[=json]]
 *         [--dump-ir[=PASS]] [--no-fuse] [--list-ops] [--version] [--help]
 *
 * The driver owns the one setjmp every user error unwinds to.  Output files
 * are written to temporary files beside the destination and renamed only
 * when everything succeeded, so a failed compile leaves nothing behind.
 */
#include "tostc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: tostc MODEL -o OUT.c [options]\n"
	"\n"
	"Compile an ONNX model (.onnx) into self-contained, allocation-free C:\n"
	"OUT.c and OUT.h, with the entry points NAME_run and NAME_run_v.\n"
	"\n"
	"options:\n"
	"  -o, --output OUT.c    the C file to write; the header goes beside it (OUT.h)\n"
	"  --name NAME           prefix of the generated API (default: OUT's stem)\n"
	"  --dim NAME=VALUE      bind a symbolic dimension (repeatable)\n"
	"  --report[=json]       print per-node op, shape, FLOPs, bytes and totals\n"
	"  --dump-ir[=PASS]      print the IR after PASS (input, shape, fold, dce, views,\n"
	"                        lower, plan; default: plan)\n"
	"  --no-fuse             skip the fusion passes\n"
	"  --list-ops            list the supported ONNX ops and attributes\n"
	"  --version             print the version\n"
	"  -h, --help            print this help\n"
	"\n"
	"exit status: 0 ok, 1 error in the input or options (nothing written), 2 internal error\n";

static void list_ops(FILE *f)
{
	for (int i = 0; i < OP_COUNT; i++) {
		if (op_info[i].flags & OPF_INTERNAL)
			continue;
		fprintf(f, "%-20s %s%s%s\n", op_info[i].name, op_info[i].doc,
		        op_info[i].attrs[0] ? "; attributes: " : "", op_info[i].attrs);
	}
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* "out/model.c" -> stem "out/model", base "model" */
static const char *default_name(Ctx *c, const char *out)
{
	const char *base = strrchr(out, '/');
	base = base ? base + 1 : out;
	char *n = ctx_strdup(c, base);
	char *dot = strrchr(n, '.');
	if (dot && dot != n)
		*dot = 0;
	char *r = ctx_alloc(c, strlen(n) + 3);
	size_t k = 0;
	if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') || n[0] == '_'))
		r[k++] = 'm', r[k++] = '_';
	for (char *p = n; *p; p++)
		r[k++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		          (*p >= '0' && *p <= '9')) ? *p : '_';
	return r;
}

static bool valid_ident(const char *s)
{
	if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

static void parse_dim(Ctx *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		ctx_error(c, "--dim %s: expected NAME=VALUE, e.g. --dim seq=1024", arg);
	char *end;
	errno = 0;
	long long v = strtoll(eq + 1, &end, 10);
	if (*end || errno)
		ctx_error(c, "--dim %s: '%s' is not an integer", arg, eq + 1);
	if (v <= 0)
		ctx_error(c, "--dim %s: a dimension must be positive", arg);
	if (v > ((long long)1 << 31))
		ctx_error(c, "--dim %s: %lld is too large (limit 2^31)", arg, v);
	char *name = ctx_printf(c, "%.*s", (int)(eq - arg), arg);
	for (int i = 0; i < c->ndims; i++)
		if (strcmp(c->dims[i].name, name) == 0)
			ctx_error(c, "--dim %s: '%s' is bound twice", arg, name);
	if (c->ndims == MAX_DIM_BINDINGS)
		ctx_error(c, "--dim: at most %d bindings", MAX_DIM_BINDINGS);
	c->dims[c->ndims++] = (DimBinding){name, v, false};
}

typedef struct {
	const char *model, *out, *name, *report, *dump;
	bool want_report, want_dump;
} Options;

/* Open a temp file beside `dest`; its name goes to *tmp. */
static FILE *open_temp(Ctx *c, const char *dest, char **tmp)
{
	*tmp = ctx_printf(c, "%s.tmpXXXXXX", dest);
	int fd = mkstemp(*tmp);
	if (fd < 0) {
		const char *why = strerror(errno);
		*tmp = NULL;
		ctx_error(c, "cannot create '%s': %s", dest, why);
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(*tmp);
		*tmp = NULL;
		ctx_error(c, "cannot open '%s' for writing", dest);
	}
	return f;
}

/* Files being written; the error path removes the temporaries. */
typedef struct {
	char *tmp_c, *tmp_h;
	FILE *fc, *fh;
} Files;

static void close_temp(Ctx *c, FILE **f, const char *dest)
{
	bool bad = ferror(*f) != 0;
	if (fclose(*f) != 0)
		bad = true;
	*f = NULL;
	if (bad)
		ctx_error(c, "writing '%s' failed (disk full?)", dest);
}

static int compile(Ctx *c, Files *w, const Options *o, int argc, char **argv)
{
	Graph *g;
	if (ends_with(o->model, ".tost"))
		ctx_error(c, "the DSL front end (.tost) is not built into this tostc");
	g = onnx_load(c, o->model);
	pipeline_run(g, o->want_dump ? o->dump : NULL, stdout);
	if (o->want_report) {
		if (o->report && strcmp(o->report, "json") == 0)
			report_json(g, stdout);
		else
			report_text(g, stdout);
	}
	if (!o->out)
		return 0;

	/* the command line, for the provenance comment (no newlines or comment ends) */
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *cmd = ctx_alloc(c, len), *p = cmd;
	for (int i = 0; i < argc; i++) {
		for (const char *s = argv[i]; *s; s++)
			*p++ = (*s == '\n' || (*s == '*' && s[1] == '/')) ? ' ' : *s;
		*p++ = i + 1 < argc ? ' ' : 0;
	}
	*p = 0;

	char *stem = ctx_strdup(c, o->out);
	if (ends_with(stem, ".c"))
		stem[strlen(stem) - 2] = 0;
	const char *hpath = ctx_printf(c, "%s.h", stem);
	const char *hbase = strrchr(hpath, '/');
	hbase = hbase ? hbase + 1 : hpath;
	EmitOptions eo = {o->name ? o->name : default_name(c, o->out), cmd, hbase};
	w->fc = open_temp(c, o->out, &w->tmp_c);
	w->fh = open_temp(c, hpath, &w->tmp_h);
	emit_c(g, &eo, w->fc, w->fh);
	close_temp(c, &w->fc, o->out);
	close_temp(c, &w->fh, hpath);
	if (rename(w->tmp_h, hpath) != 0)
		ctx_error(c, "cannot write '%s': %s", hpath, strerror(errno));
	w->tmp_h = NULL;
	if (rename(w->tmp_c, o->out) != 0) {
		const char *why = strerror(errno);
		unlink(hpath);
		ctx_error(c, "cannot write '%s': %s", o->out, why);
	}
	w->tmp_c = NULL;
	return 0;
}

struct State {
	Ctx ctx;
	Files w;
	Options o;
	jmp_buf jb;
};
static int parse_and_compile(struct State *st, int argc, char **argv);

int driver_main(int argc, char **argv, FILE *err)
{
	/* Everything the error path reads lives behind pointers that do not
	 * change after setjmp (C11 7.13.2.1: changed locals are indeterminate). */
	struct State *st = calloc(1, sizeof *st);
	if (!st) {
		fputs("tostc: error: out of memory\n", err);
		return 1;
	}
	Ctx *const c = &st->ctx;
	ctx_init(c, "tostc");
	c->jmp = &st->jb;
	if (setjmp(st->jb)) {
		Files *w = &st->w;
		if (w->fc)
			fclose(w->fc);
		if (w->fh)
			fclose(w->fh);
		if (w->tmp_c)
			unlink(w->tmp_c);
		if (w->tmp_h)
			unlink(w->tmp_h);
		fprintf(err, "%s\n", c->errmsg);
		int code = c->errcode == 2 ? 2 : 1;
		ctx_free(c);
		free(st);
		return code;
	}
	int r = parse_and_compile(st, argc, argv);
	ctx_free(c);
	free(st);
	return r;
}

static int parse_and_compile(struct State *st, int argc, char **argv)
{
	Ctx *c = &st->ctx;
	Options *op = &st->o;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("tostc %s\n", TOSTC_VERSION);
			return 0;
		} else if (strcmp(a, "--list-ops") == 0) {
			list_ops(stdout);
			return 0;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (++i == argc)
				ctx_error(c, "%s needs a file name", a);
			op->out = argv[i];
		} else if (strcmp(a, "--name") == 0) {
			if (++i == argc)
				ctx_error(c, "--name needs a C identifier");
			op->name = argv[i];
			if (!valid_ident(op->name) || strlen(op->name) > 64)
				ctx_error(c, "--name %s: not a C identifier", op->name);
		} else if (strcmp(a, "--dim") == 0) {
			if (++i == argc)
				ctx_error(c, "--dim needs NAME=VALUE");
			parse_dim(c, argv[i]);
		} else if (strncmp(a, "--dim=", 6) == 0) {
			parse_dim(c, a + 6);
		} else if (strcmp(a, "--report") == 0 || strncmp(a, "--report=", 9) == 0) {
			op->want_report = true;
			op->report = a[8] == '=' ? a + 9 : NULL;
			if (op->report && strcmp(op->report, "json") != 0 && strcmp(op->report, "text") != 0)
				ctx_error(c, "--report=%s: expected --report or --report=json", op->report);
		} else if (strcmp(a, "--dump-ir") == 0 || strncmp(a, "--dump-ir=", 10) == 0) {
			op->want_dump = true;
			op->dump = a[9] == '=' ? a + 10 : passes[npasses - 1].name;
			bool ok = strcmp(op->dump, "input") == 0;
			for (int k = 0; k < npasses; k++)
				ok |= strcmp(op->dump, passes[k].name) == 0;
			if (!ok) {
				char list[512] = "input";
				for (int k = 0; k < npasses; k++)
					snprintf(list + strlen(list), sizeof list - strlen(list), ", %s",
					         passes[k].name);
				ctx_error(c, "--dump-ir=%s: no such pass (passes: %s)", op->dump, list);
			}
		} else if (strcmp(a, "--no-fuse") == 0) {
			c->no_fuse = true;
		} else if (a[0] == '-' && a[1]) {
			ctx_error(c, "unknown option '%s' (see tostc --help)", a);
		} else {
			if (op->model)
				ctx_error(c, "two model files given ('%s' and '%s')", op->model, a);
			op->model = a;
		}
	}
	if (!op->model)
		ctx_error(c, "no model file given (see tostc --help)");
	if (!op->out && !op->want_report && !op->want_dump)
		ctx_error(c, "no output file given: use -o OUT.c (or --report / --dump-ir)");
	if (op->out && !ends_with(op->out, ".c"))
		ctx_error(c, "-o %s: the output file must end in .c (the header is written beside it)", op->out);
	c->path = op->model;
	return compile(c, &st->w, op, argc, argv);
}
