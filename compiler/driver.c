/*
 * driver.c -- the tostc command line.
 *
 *   tostc MODEL -o OUT.c [--name N] [--dim S=V]... [--weights=MODE]
 *         [--depfile F] [--report[=json]] [--dump-ir[=PASS]] [--no-fuse]
 *         [--stream | --no-stream] [--prefill-chunk N] [--step-batch N]
 *         [--list-ops] [--version] [--help]
 *   tostc MODEL -o OUT.o|.s|.ll|.bc [--emit=KIND] [--target TRIPLE] [--cpu CPU] ...
 *   tostc run MODEL --inputs IN.npz ...      (run.c)
 *
 * The suffix of OUT picks the backend: .c the C emitter (emit_c.c), the
 * others the LLVM backend (emit_llvm.c) when this tostc has it.
 *
 * The driver owns the one setjmp every user error unwinds to.  Output files
 * (OUT.c, OUT.h, and OUT.weights, OUT.weights.S as --weights says) are
 * written to temporary files beside the destination and renamed only when
 * everything succeeded, so a failed compile leaves nothing behind.
 */
#include "tostc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_head[] =
	"usage: tostc MODEL -o OUT.c [options]\n"
	"\n"
	"Compile an ONNX model (.onnx) or a ToST model description (.tost, see\n"
	"docs/dsl.md) into self-contained, allocation-free C:\n"
	"OUT.c and OUT.h, with the entry points NAME_run and NAME_run_v.\n"
	"\n"
	"options:\n"
	"  -o, --output OUT.c    the C file to write; the header goes beside it (OUT.h).\n"
	"                        OUT.o, OUT.s, OUT.ll, OUT.bc: an object file, assembly,\n"
	"                        LLVM IR or bitcode from the LLVM backend (see --version)\n"
	"  --name NAME           prefix of the generated API (default: OUT's stem)\n"
	"  --dim NAME=VALUE      bind a symbolic dimension, or set a .tost hyperparameter\n"
	"                        (repeatable)\n"
	"  --weights=MODE        where the weights go: embed (default: in OUT.c),\n"
	"                        blob (OUT.weights, linked by assembling OUT.weights.S),\n"
	"                        extern (OUT.weights, passed in at run time: NAME_run_w)\n"
	"  --depfile FILE        write the files the compile read as a Makefile rule\n"
	"                        (OUT.c: MODEL [weights...]), for build systems\n"
	"  --report[=json]       print per-node op, shape, FLOPs, bytes and totals\n";
/* here --dump-ir and the passes (print_usage) */
static const char usage_tail[] =
	"  --const-input NAME=F  make graph input NAME a constant, read from F (a serialized\n"
	"                        ONNX TensorProto, as in ONNX test data); it is no longer\n"
	"                        an argument of NAME_run\n"
	"  --no-fuse             skip the fusion passes\n"
	"  --stream              also emit the step API (NAME_reset, NAME_step, NAME_prefill:\n"
	"                        generation one token at a time with a fixed-size state);\n"
	"                        an error when the model cannot run token by token.\n"
	"                        Default: on for models with causal TSSA (a note says why\n"
	"                        when such a model cannot be streamed)\n"
	"  --no-stream           never emit the step API\n"
	"  --prefill-chunk N     tokens NAME_prefill runs through the model at once\n"
	"                        (default 64, or the block if shorter)\n"
	"  --step-batch N        sequences NAME_step_batch steps at once (default 7)\n"
	"  --emit=KIND           the LLVM backend's output whatever OUT's suffix: obj, asm,\n"
	"                        llvm (textual IR) or bc\n"
	"  --target TRIPLE       the LLVM backend's target (default: this machine's)\n"
	"  --cpu CPU             the CPU to compile for (default: this machine's; with\n"
	"                        --target: the target's generic CPU)\n"
	"  --list-ops[=md]       list the supported ONNX ops and attributes (md: as docs/ops.md)\n"
	"  --version             print the version\n"
	"  -h, --help            print this help\n"
	"\n"
	"tostc run MODEL --inputs IN.npz [--outputs OUT.npz] [--dim S=V]... [--bench N]\n"
	"          [--threads T]: compile MODEL with $CC, run it on IN.npz (see tostc run --help)\n"
	"\n"
	"exit status: 0 ok, 1 error in the input or options (nothing written), 2 internal error\n";

/* --help: the --dump-ir option lists the passes of pipeline.c, wrapped. */
static void print_usage(FILE *f)
{
	char line[160] = "  --dump-ir[=PASS]      print the IR after PASS (input,", word[80];
	fputs(usage_head, f);
	for (int k = 0; k <= npasses; k++) {
		if (k < npasses)
			snprintf(word, sizeof word, "%s%s", passes[k].name, k + 1 < npasses ? "," : ";");
		else
			snprintf(word, sizeof word, "default: %s)", passes[npasses - 1].name);
		if (strlen(line) + 1 + strlen(word) > 84) {
			fprintf(f, "%s\n", line);
			snprintf(line, sizeof line, "%24s%s", "", word);
		} else {
			snprintf(line + strlen(line), sizeof line - strlen(line), " %s", word);
		}
	}
	fprintf(f, "%s\n", line);
	fputs(usage_tail, f);
}

/* docs/ops.md's notes on the 8- and 16-bit types and the rounding of the
 * quantisation ops (runtime/quant/, runtime/elementwise/cast_any.h) */
static const char quant_notes[] =
	"\n## 8- and 16-bit types, quantisation and rounding\n\n"
	"- In model.h and the typed `NAME_run`, int8 is `int8_t`, uint8 `uint8_t`, and float16\n"
	"  and bfloat16 are `uint16_t` holding the bits (`_TYPE` \"float16\", \"bfloat16\").\n"
	"- Cast to float16 and bfloat16 rounds to nearest, ties to even (float16 keeps\n"
	"  subnormals, and values from 65520 up overflow to infinity; NaN stays a quiet\n"
	"  NaN). Integers go through float32 first, so an integer above 2^24 is rounded\n"
	"  twice. A float to an integer type truncates toward zero and saturates, NaN gives\n"
	"  0; an integer to a narrower integer keeps the low bits. onnx 1.12's reference\n"
	"  truncates to bfloat16; tostc rounds, as ONNX's references from 1.14 on.\n"
	"- QuantizeLinear: `y = saturate(rint(x / scale) + zero_point)`: the division in\n"
	"  float32, rounding to nearest with ties to even (`rintf` in C's default rounding\n"
	"  mode), then saturation to the type's range; NaN gives the zero point. This is\n"
	"  ONNX's definition, step for step.\n"
	"- DequantizeLinear: `y = float(x - zero_point) * scale`, the difference exact.\n"
	"- DynamicQuantizeLinear: scale `(max(0, max x) - min(0, min x)) / 255` in float32,\n"
	"  zero point `saturate(rint(-min / scale))`; an all-zero x gets scale 1 and zero\n"
	"  point 0 (ONNX's formula divides by 0 there).\n"
	"- MatMulInteger sums `(a - a_zp) (b - b_zp)` exactly in int32 (wrapping past 2^31,\n"
	"  which needs k above 33000). QLinearMatMul then computes\n"
	"  `saturate(rint(float(acc) * m) + y_zp)` with `m = a_scale * b_scale / y_scale`\n"
	"  rounded to float32 (one requantisation multiplier). ONNX's reference\n"
	"  dequantizes, multiplies in float and quantizes: where `acc * m` lies within\n"
	"  rounding error of a tie (k + 0.5), the two can differ by one step.\n"
	"- A DequantizeLinear of a constant (a QDQ model's weights) is folded at compile\n"
	"  time, so those weights are stored as float32.\n";

/* docs/ops.md is this output; tests check that it is up to date. */
static void list_ops_markdown(FILE *f)
{
	fputs("# Supported ONNX operators\n\n"
	      "Generated by `tostc --list-ops=md` from compiler/ops/ops.def; do not edit.\n"
	      "Element types: float32 compute; int64, int32 and bool where the op allows them;\n"
	      "int8, uint8, float16 and bfloat16 in Cast, the data movement ops and the\n"
	      "quantisation ops (notes at the end).\n"
	      "Opsets 7 to 21 of the default domain; a model's local functions are expanded\n"
	      "where they are called; If and Loop subgraphs are compiled.\n\n"
	      "| op | what it computes | attributes and inputs supported |\n|---|---|---|\n", f);
	for (int i = 0; i < OP_COUNT; i++) {
		if (op_info[i].flags & OPF_INTERNAL)
			continue;
		fprintf(f, "| %s | %s | %s |\n", op_info[i].name, op_info[i].doc,
		        op_info[i].attrs[0] ? op_info[i].attrs : "-");
	}
	fputs("\nInternal ops made by fusion (not accepted from ONNX files):\n\n", f);
	for (int i = 0; i < OP_COUNT; i++)
		if (op_info[i].flags & OPF_INTERNAL)
			fprintf(f, "- `%s`: %s\n", op_info[i].name, op_info[i].doc);
	fputs(quant_notes, f);
}

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

void driver_dim(Ctx *c, const char *arg)
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

void driver_word(Ctx *c, const char *a, const char **model, const char *help)
{
	if (a[0] == '-' && a[1])
		ctx_error(c, "unknown option '%s' (see %s)", a, help);
	if (*model)
		ctx_error(c, "two model files given ('%s' and '%s')", *model, a);
	*model = a;
}

void driver_const_input(Ctx *c, const char *v)
{
	const char *eq = strchr(v, '=');
	if (!eq || eq == v || !eq[1])
		ctx_error(c, "--const-input needs NAME=FILE.pb");
	if (c->nconsts == MAX_DIM_BINDINGS)
		ctx_error(c, "--const-input: at most %d bindings", MAX_DIM_BINDINGS);
	c->consts[c->nconsts++] = (ConstInput){ctx_printf(c, "%.*s", (int)(eq - v), v), eq + 1, false};
}

typedef struct {
	const char *model, *out, *name, *report, *dump, *depfile;
	bool llvm;               /* the LLVM backend writes OUT (its suffix or --emit) */
	const char *emit;        /* --emit=KIND, NULL when absent */
	LlvmOptions lo;          /* its kind, --target, --cpu */
	bool want_report, want_dump;
	WeightsMode weights;     /* --weights */
	int stream;              /* --stream 1, --no-stream -1, default 0: when causal */
	StreamOptions so;        /* --prefill-chunk, --step-batch */
	FILE *err;               /* notes */
} Options;

/* A note on `err`: one line, escaped like an error message. */
static void note(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(FILE *err, const char *fmt, ...)
{
	char raw[4096], line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	text_term(line, sizeof line, raw);
	fprintf(err, "%s\n", line);
}

/* The step API (stream.c): built when asked for, or by default for models
 * with a causal TSSA; NULL when not built. */
static const StreamInfo *build_stream(Ctx *c, Graph *g, const Options *o)
{
	StreamInfo *s = ctx_alloc(c, sizeof *s);
	bool causal = false;
	if (o->stream < 0)
		return NULL;
	for (int i = 0; i < g->nnodes; i++)
		causal |= g->nodes[i]->op == OP_CAUSAL_TSSA;
	if (!causal && o->stream == 0)
		return NULL;
	if (o->stream > 0) {
		if (!stream_build(g, &o->so, s))
			ctx_error(c, "--stream: the model cannot run token by token: %s", s->why);
		return s;
	}
	/* By default a failure anywhere in the step graphs (they read g, never
	 * write it) costs only the step API: catch it and keep NAME_run. */
	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (setjmp(jb)) {
		c->jmp = outer;
		note(o->err, "%s: note: no step API (NAME_run only): %s", c->path, c->errmsg);
		c->errcode = 0;
		return NULL;
	}
	bool ok = stream_build(g, &o->so, s);
	c->jmp = outer;
	if (ok)
		return s;
	note(o->err, "%s: note: no step API (NAME_run only): %s", c->path, s->why);
	return NULL;
}

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
	/* mkstemp creates 0600; give the result the mode a plain fopen would */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(*tmp);
		*tmp = NULL;
		ctx_error(c, "cannot open '%s' for writing", dest);
	}
	return f;
}

/* The files a compile writes, each to a temporary until all are written.
 * The error path closes and removes the temporaries, and the files already
 * renamed into place: a failed compile leaves nothing behind. */
enum { OUT_C, OUT_H, OUT_WEIGHTS, OUT_ASM, OUT_DEP, NOUT };
typedef struct {
	const char *dest[NOUT];  /* NULL: not written */
	char *tmp[NOUT];
	FILE *f[NOUT];
	bool renamed[NOUT];
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

/* The backend -o's suffix (or --emit) asks for, and whether this tostc has it. */
static void check_backend(Ctx *c, Options *op)
{
	static const struct { const char *suffix, *emit; LlvmEmitKind kind; } kinds[] = {
		{".o", "obj", LLVM_EMIT_OBJ}, {".s", "asm", LLVM_EMIT_ASM},
		{".ll", "llvm", LLVM_EMIT_IR}, {".bc", "bc", LLVM_EMIT_BC},
	};
	const char *what;
	for (int k = 0; k < 4; k++)
		if ((op->emit && strcmp(op->emit, kinds[k].emit) == 0) ||
		    (!op->emit && op->out && ends_with(op->out, kinds[k].suffix))) {
			op->llvm = true;
			op->lo.kind = kinds[k].kind;
		}
	if (op->emit && !op->llvm)
		ctx_error(c, "--emit=%s: expected obj, asm, llvm or bc", op->emit);
	if (!op->llvm && (op->lo.triple || op->lo.cpu))
		ctx_error(c, "%s: only for the LLVM backend (-o OUT.o, .s, .ll or .bc)",
		          op->lo.triple ? "--target" : "--cpu");
	if (op->llvm && !emit_llvm_built(c, &what))
		ctx_error(c, "-o %s: this tostc was built without the LLVM backend (configure with "
		          "-DTOSTC_LLVM=ON, LLVM 16 installed); write C with -o OUT.c",
		          op->out ? op->out : "");
	if (op->llvm && !op->out)
		ctx_error(c, "--emit=%s needs -o OUT", op->emit);
	if (op->llvm && op->weights != WEIGHTS_EMBED)
		ctx_error(c, "-o %s: the LLVM backend puts the weights in the object's .rodata; "
		          "--weights=blob and extern are for C output (-o OUT.c)", op->out);
	if (op->out && !op->llvm && !ends_with(op->out, ".c"))
		ctx_error(c, "-o %s: the output file must end in .c (the header is written beside "
		          "it), or .o, .s, .ll or .bc for the LLVM backend", op->out);
}

static void files_cleanup(Files *w)
{
	for (int i = 0; i < NOUT; i++) {
		if (w->f[i])
			fclose(w->f[i]);
		if (w->tmp[i])
			unlink(w->tmp[i]);
		if (w->renamed[i])
			unlink(w->dest[i]);
	}
}

/* Close every temporary, then rename each into place. */
static void files_commit(Ctx *c, Files *w)
{
	for (int i = 0; i < NOUT; i++)
		if (w->f[i])
			close_temp(c, &w->f[i], w->dest[i]);
	for (int i = 0; i < NOUT; i++) {
		if (!w->tmp[i])
			continue;
		if (rename(w->tmp[i], w->dest[i]) != 0)
			ctx_error(c, "cannot write '%s': %s", w->dest[i], strerror(errno));
		w->tmp[i] = NULL;
		w->renamed[i] = true;
	}
	memset(w->renamed, 0, sizeof w->renamed);
}

/* --depfile: "OUT.c: MODEL FILE...", every file the compile read (ctx_depend),
 * in Makefile syntax, as Ninja and CMake's DEPFILE read it. */
static void write_depfile(Ctx *c, FILE *f, const char *target)
{
	const char *t = text_depfile(c, target);
	if (!t)
		ctx_error(c, "--depfile: '%s' cannot be written in a Makefile rule (a newline in it)",
		          text_msg(c, target));
	fprintf(f, "%s:", t);
	for (int i = 0; i < c->ndeps; i++) {
		const char *d = text_depfile(c, c->deps[i]);
		if (!d)
			ctx_error(c, "--depfile: the input '%s' cannot be written in a Makefile rule "
			          "(a newline in its name)", text_msg(c, c->deps[i]));
		fprintf(f, " \\\n  %s", d);
	}
	fputs("\n", f);
}

Graph *driver_load(Ctx *c, const char *model, const char *dump_after, FILE *dump)
{
	Graph *g = ends_with(model, ".tost") ? dsl_load(c, model) : onnx_load(c, model);
	pipeline_run(g, dump_after, dump);
	return g;
}

static int compile(Ctx *c, Files *w, const Options *o, int argc, char **argv)
{
	Graph *g = driver_load(c, o->model, o->want_dump ? o->dump : NULL, stdout);
	if (o->want_report) {
		if (o->report && strcmp(o->report, "json") == 0)
			report_json(g, stdout);
		else
			report_text(g, stdout);
	}
	if (!o->out)
		return 0;

	/* the command line, for the provenance comment (text_comment escapes it);
	 * "tostc" for argv[0], so that where tostc lives does not change the file */
	size_t len = sizeof "tostc";
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *cmd = ctx_alloc(c, len), *p = cmd;
	memcpy(p, "tostc", 5);
	p += 5;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);
		*p++ = ' ';
		memcpy(p, argv[i], n);
		p += n;
	}
	*p = 0;

	char *stem = ctx_strdup(c, o->out);
	char *dot = strrchr(stem, '.');
	if (dot && !strchr(dot, '/') && (ends_with(stem, ".c") || o->llvm))
		*dot = 0;
	const char *hpath = ctx_printf(c, "%s.h", stem);
	if (strcmp(hpath, o->out) == 0)
		ctx_error(c, "-o %s: the header is written to that name; choose another", o->out);
	const char *hbase = strrchr(hpath, '/');
	hbase = hbase ? hbase + 1 : hpath;
	/* model.c #includes the header by this name, and model.weights.S
	 * .incbins the weights by the same stem, where no escape is possible */
	for (const char *q = hbase; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '"' || *q == '\\' ||
		    (q[0] == '?' && q[1] == '?'))
			ctx_error(c, "-o %s: the file name cannot be #included as written (no control "
			          "characters, '\"', '\\' or '?\?' in it, please)", o->out);
	const char *wpath = ctx_printf(c, "%s.weights", stem);
	EmitOptions eo = {o->name ? o->name : default_name(c, o->out), cmd, hbase, o->weights,
	                  ctx_printf(c, "%.*s.weights", (int)(strlen(hbase) - 2), hbase)};
	const StreamInfo *si = build_stream(c, g, o);
	if (si && o->llvm)
		ctx_error(c, "-o %s: the LLVM backend does not write the step API yet; pass "
		          "--no-stream for %s_run alone, or write C (-o %s.c)", o->out, eo.name, stem);
	w->dest[OUT_C] = o->out;
	w->dest[OUT_H] = hpath;
	if (o->weights != WEIGHTS_EMBED)
		w->dest[OUT_WEIGHTS] = wpath;
	if (o->weights == WEIGHTS_BLOB)
		w->dest[OUT_ASM] = ctx_printf(c, "%s.S", wpath);
	w->dest[OUT_DEP] = o->depfile;
	for (int i = 0; i < NOUT; i++)
		if (w->dest[i])
			w->f[i] = open_temp(c, w->dest[i], &w->tmp[i]);
	if (o->llvm) {
		/* LLVM writes the object by its name: the temporary, closed */
		close_temp(c, &w->f[OUT_C], o->out);
		emit_c_header(g, &eo, w->f[OUT_H]);
		emit_llvm(g, &eo, &o->lo, w->tmp[OUT_C]);
	} else {
		EmitFiles out = {w->f[OUT_C], w->f[OUT_H], w->f[OUT_WEIGHTS], w->f[OUT_ASM]};
		emit_c_stream(g, &eo, si, &out);
	}
	if (o->depfile)
		write_depfile(c, w->f[OUT_DEP], o->out);
	files_commit(c, w);
	return 0;
}

struct State {
	FILE *err;
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
	st->err = err;
	c->jmp = &st->jb;
	if (setjmp(st->jb)) {
		files_cleanup(&st->w);
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
	op->err = st->err;
	if (argc > 1 && strcmp(argv[1], "run") == 0)
		return run_main(c, argc - 1, argv + 1, stdout);
	op->so = (StreamOptions){STREAM_CHUNK, STREAM_BATCH};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			const char *what;
			bool llvm = emit_llvm_built(c, &what);
			printf("tostc %s\nbackends: c%s%s\n", TOSTC_VERSION, llvm ? ", " : "",
			       llvm ? what : " (built without the LLVM backend: -DTOSTC_LLVM=ON)");
			return 0;
		} else if (strcmp(a, "--list-ops") == 0) {
			list_ops(stdout);
			return 0;
		} else if (strcmp(a, "--list-ops=md") == 0) {
			list_ops_markdown(stdout);
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
			driver_dim(c, argv[i]);
		} else if (strncmp(a, "--dim=", 6) == 0) {
			driver_dim(c, a + 6);
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
		} else if (strcmp(a, "--const-input") == 0) {
			driver_const_input(c, ++i < argc ? argv[i] : "");
		} else if (strcmp(a, "--target") == 0 || strcmp(a, "--cpu") == 0) {
			if (++i == argc || !argv[i][0])
				ctx_error(c, "%s needs a value (see tostc --help)", a);
			*(a[2] == 't' ? &op->lo.triple : &op->lo.cpu) = argv[i];
		} else if (strncmp(a, "--emit=", 7) == 0) {
			op->emit = a + 7;
		} else if (strcmp(a, "--weights") == 0 || strncmp(a, "--weights=", 10) == 0) {
			const char *v = a[9] == '=' ? a + 10 : ++i < argc ? argv[i] : "";
			if (strcmp(v, "embed") == 0)
				op->weights = WEIGHTS_EMBED;
			else if (strcmp(v, "blob") == 0)
				op->weights = WEIGHTS_BLOB;
			else if (strcmp(v, "extern") == 0)
				op->weights = WEIGHTS_EXTERN;
			else
				ctx_error(c, "--weights=%s: expected embed, blob or extern", v);
		} else if (strcmp(a, "--depfile") == 0) {
			if (++i == argc)
				ctx_error(c, "--depfile needs a file name");
			op->depfile = argv[i];
		} else if (strcmp(a, "--no-fuse") == 0) {
			c->no_fuse = true;
		} else if (strcmp(a, "--stream") == 0) {
			op->stream = 1;
		} else if (strcmp(a, "--no-stream") == 0) {
			op->stream = -1;
		} else if (strcmp(a, "--prefill-chunk") == 0 || strcmp(a, "--step-batch") == 0) {
			const char *v = ++i < argc ? argv[i] : "";
			char *end;
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (!*v)
				ctx_error(c, "%s needs a count from 1 to 4096", a);
			if (*end || errno || n < 1 || n > 4096)
				ctx_error(c, "%s %s: expected a count from 1 to 4096", a, v);
			*(a[2] == 'p' ? &op->so.chunk : &op->so.batch) = n;
		} else {
			driver_word(c, a, &op->model, "tostc --help");
		}
	}
	if (!op->model)
		ctx_error(c, "no model file given (see tostc --help)");
	if (!op->out && !op->want_report && !op->want_dump)
		ctx_error(c, "no output file given: use -o OUT.c (or --report / --dump-ir)");
	if (op->depfile && !op->out)
		ctx_error(c, "--depfile needs -o OUT.c (the rule's target)");
	check_backend(c, op);
	c->path = op->model;
	return compile(c, &st->w, op, argc, argv);
}
