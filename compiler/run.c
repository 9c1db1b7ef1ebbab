/*
 * run.c -- `tostc run`: check a model before shipping it.
 *
 *   tostc run MODEL --inputs IN.npz [--outputs OUT.npz] [--dim S=V]...
 *             [--const-input NAME=F]... [--no-fuse] [--bench N] [--threads T]
 *
 * The model is compiled as `tostc -o model.c --weights=extern` would, into
 * a private temporary directory, beside a harness that reads the weights
 * and each input from a file, calls model_run_v_w and writes each output
 * (with --bench, then times N runs after a warm-up).  The system C compiler
 * ($CC, default cc; $CFLAGS, default -O2 -march=native) builds the two,
 * and the harness runs as a child process; tostc checks every input's name,
 * element type and shape against the model before anything is built, reads
 * the outputs back, writes them to OUT.npz (or .npy) or prints a summary,
 * and removes the directory, also when something fails.  extern weights:
 * the C builds quickly and in little memory whatever the model's size, and
 * the outputs are bitwise those of every other weights mode.
 *
 * The command line, not the library: it starts processes and prints; its
 * errors still go through ctx_error, and the driver prints them.
 */
#define _POSIX_C_SOURCE 200809L
#include "tostc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
	"usage: tostc run MODEL --inputs IN.npz [options]\n"
	"\n"
	"Compile MODEL, build it with the system C compiler ($CC, default cc; $CFLAGS,\n"
	"default -O2 -march=native) and run it on the arrays of IN.npz (np.savez), each\n"
	"matched to the model input of its name (np.savez(f, a, b): arr_0, arr_1 in\n"
	"input order; a .npy for a model with one input).\n"
	"\n"
	"options:\n"
	"  --inputs IN.npz       the inputs (required)\n"
	"  --outputs OUT.npz     write the outputs there, by output name (.npy: the one\n"
	"                        output); default: print each output's shape, min, max,\n"
	"                        mean and first values\n"
	"  --bench N             then time N runs after a warm-up: median and min latency\n"
	"  --threads T           build with -fopenmp and run on T threads (OMP_NUM_THREADS)\n"
	"  --dim NAME=VALUE      bind a symbolic dimension (repeatable)\n"
	"  --const-input NAME=F  make graph input NAME a constant read from F (repeatable)\n"
	"  --no-fuse             skip the fusion passes\n"
	"\n"
	"exit status: 0 ok, 1 error (bad inputs, no C compiler, the model failed), 2 internal error\n";

/* One run: what the error path needs to clean up lives here (in the arena,
 * behind a pointer that does not change after setjmp). */
typedef struct {
	Ctx *c;
	const char *dir;         /* the temporary directory, or NULL */
	const char *model, *inputs, *outputs;
	long bench, threads;
	FILE *out;
} Run;

/* Remove the temporary directory: it holds only what this run wrote. */
static void cleanup(Run *r)
{
	if (!r->dir)
		return;
	DIR *d = opendir(r->dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(r->dir);
	r->dir = NULL;
}

static long positive(Ctx *c, const char *opt, const char *v)
{
	char *end;
	errno = 0;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || errno || n < 1 || n > 1000000)
		ctx_error(c, "%s needs a count from 1 to 1000000", opt);
	return n;
}

/* ---- the model's inputs from the archive ---- */

static const char *shape_of(Ctx *c, const Tensor *t)
{
	NpyArray a = {.rank = t->rank};
	memcpy(a.dims, t->dims, sizeof a.dims);
	return npy_shape_text(c, &a);
}

static const char *inputs_text(Ctx *c, Graph *g)
{
	const char *s = "";
	for (int i = 0; i < g->ninputs; i++)
		s = ctx_printf(c, "%s%s'%s' %s (%s)", s, i ? ", " : "", text_msg(c, g->inputs[i]->name),
		               npy_type_name(npy_descr(g->inputs[i]->dtype)), shape_of(c, g->inputs[i]));
	return g->ninputs ? s : "none";
}

static const char *arrays_text(Ctx *c, const NpzFile *z)
{
	const char *s = "";
	for (int i = 0; i < z->n; i++)
		s = ctx_printf(c, "%s%s'%s'", s, i ? ", " : "", text_msg(c, z->arrays[i].name));
	return z->n ? s : "nothing";
}

/* np.savez(f, a, b) names its arrays arr_0, arr_1, ...; a .npy has one, "" */
static bool positional(const NpzFile *z, Graph *g)
{
	for (int i = 0; i < z->n; i++) {
		if (strcmp(z->arrays[i].name, ctx_printf(g->ctx, "arr_%d", i)) != 0 &&
		    z->arrays[i].name[0])
			return false;
		for (int k = 0; k < g->ninputs; k++)
			if (strcmp(z->arrays[i].name, g->inputs[k]->name) == 0)
				return false;
	}
	return true;
}

/* The array for each input of g, checked: present, the element type and
 * the shape the model takes, and nothing else in the archive. */
static const NpyArray **match_inputs(Run *r, Graph *g, const NpzFile *z)
{
	Ctx *c = r->c;
	const NpyArray **v = ctx_alloc(c, sizeof(NpyArray *) * (size_t)(g->ninputs + 1));
	bool bypos = positional(z, g);
	if (bypos && z->n != g->ninputs)
		ctx_error(c, "%s holds %d unnamed array%s, the model takes %d input%s: %s", r->inputs,
		          z->n, z->n == 1 ? "" : "s", g->ninputs, g->ninputs == 1 ? "" : "s",
		          inputs_text(c, g));
	for (int i = 0; i < g->ninputs; i++) {
		Tensor *t = g->inputs[i];
		for (int k = 0; k < z->n && !v[i]; k++)
			if (bypos ? k == i : strcmp(z->arrays[k].name, t->name) == 0)
				v[i] = &z->arrays[k];
		if (!v[i])
			ctx_error(c, "%s has no array '%s' for the model's input of that name (inputs: %s; "
			          "the archive holds: %s)", r->inputs, text_msg(c, t->name), inputs_text(c, g),
			          arrays_text(c, z));
		const NpyArray *a = v[i];
		if (a->dtype != t->dtype)
			ctx_error(c, "input '%s': %s holds %s ('%s'), the model takes %s", text_msg(c, t->name),
			          r->inputs, npy_type_name(a->descr), text_msg(c, a->descr),
			          npy_type_name(npy_descr(t->dtype)));
		bool same = a->rank == t->rank;
		for (int k = 0; same && k < a->rank; k++)
			same = a->dims[k] == t->dims[k];
		if (!same)
			ctx_error(c, "input '%s': %s holds shape (%s), the model takes (%s)",
			          text_msg(c, t->name), r->inputs, npy_shape_text(c, a), shape_of(c, t));
	}
	for (int k = 0; k < z->n && !bypos; k++) {
		bool used = false;
		for (int i = 0; i < g->ninputs; i++)
			used |= v[i] == &z->arrays[k];
		if (!used)
			ctx_error(c, "%s: array '%s' is not an input of the model (inputs: %s)", r->inputs,
			          text_msg(c, z->arrays[k].name), inputs_text(c, g));
	}
	return v;
}

/* ---- files in the temporary directory ---- */

static const char *in_dir(Run *r, const char *name)
{
	return ctx_printf(r->c, "%s/%s", r->dir, name);
}

static FILE *create(Run *r, const char *name)
{
	FILE *f = fopen(in_dir(r, name), "wb");
	if (!f)
		ctx_error(r->c, "cannot write '%s': %s", in_dir(r, name), strerror(errno));
	return f;
}

static void finish(Run *r, FILE *f, const char *name)
{
	if ((ferror(f) | fclose(f)) != 0)
		ctx_error(r->c, "writing '%s' failed (disk full?)", in_dir(r, name));
}

/* The harness: weights and inputs from files, model_run_v_w, outputs to
 * files; then, with a run count, the timed runs (nanoseconds, a line each). */
static void write_harness(Run *r, Graph *g)
{
	FILE *f = create(r, "harness.c");
	fputs("/* harness.c -- written by tostc run */\n#define _POSIX_C_SOURCE 200112L\n"
	      "#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n#include \"model.h\"\n\n", f);
	fputs("static const long long in_bytes[] = {0", f);
	for (int i = 0; i < g->ninputs; i++)
		fprintf(f, ", %lld", (long long)tensor_nbytes(g->inputs[i]));
	fputs("}, out_bytes[] = {0", f);
	for (int i = 0; i < g->noutputs; i++)
		fprintf(f, ", %lld", (long long)tensor_nbytes(g->outputs[i]));
	fprintf(f, "};\n#define NIN %d\n#define NOUT %d\n\n", g->ninputs, g->noutputs);
	fputs("static void *buffer(long long n)\n{\n\tvoid *p = 0;\n"
	      "\tif (posix_memalign(&p, 64, n > 64 ? (size_t)n : 64) != 0)\n\t\texit(4);\n"
	      "\treturn p;\n}\n\n"
	      "/* dir/<kind>_<i>.bin, n bytes, read into or written from p */\n"
	      "static int io(const char *dir, const char *kind, int i, void *p, long long n, int w)\n{\n"
	      "\tchar path[4096];\n\tsnprintf(path, sizeof path, \"%s/%s_%d.bin\", dir, kind, i);\n"
	      "\tFILE *f = fopen(path, w ? \"wb\" : \"rb\");\n\tif (!f)\n\t\treturn 1;\n"
	      "\tsize_t k = w ? fwrite(p, 1, (size_t)n, f) : fread(p, 1, (size_t)n, f);\n"
	      "\treturn (fclose(f) != 0) | (k != (size_t)n);\n}\n\n"
	      "static double now(void)\n{\n\tstruct timespec t;\n"
	      "\tclock_gettime(CLOCK_MONOTONIC, &t);\n\treturn (double)t.tv_sec * 1e9 + (double)t.tv_nsec;\n}\n\n"
	      "int main(int argc, char **argv)\n{\n"
	      "\tconst char *dir = argv[1];\n\tlong runs = argc > 2 ? atol(argv[2]) : 0;\n"
	      "\tvoid *in[NIN + 1], *out[NOUT + 1], *w = buffer(MODEL_WEIGHTS_SIZE);\n"
	      "\tvoid *ws = buffer(MODEL_WORKSPACE_SIZE);\n"
	      "\tif (io(dir, \"model\", 0, w, MODEL_WEIGHTS_SIZE, 0) != 0)\n\t\treturn 4;\n"
	      "\tfor (int i = 0; i < NIN; i++)\n"
	      "\t\tif (io(dir, \"in\", i, in[i] = buffer(in_bytes[i + 1]), in_bytes[i + 1], 0) != 0)\n"
	      "\t\t\treturn 4;\n"
	      "\tfor (int i = 0; i < NOUT; i++)\n\t\tout[i] = buffer(out_bytes[i + 1]);\n"
	      "\tint r = model_run_v_w(w, MODEL_WEIGHTS_SIZE, (const void *const *)in, out, ws);\n"
	      "\tif (r != 0) {\n\t\tfprintf(stderr, \"model_run_v_w returned %d\\n\", r);\n\t\treturn 3;\n\t}\n"
	      "\tfor (int i = 0; i < NOUT; i++)\n"
	      "\t\tif (io(dir, \"out\", i, out[i], out_bytes[i + 1], 1) != 0)\n\t\t\treturn 4;\n"
	      "\tif (runs > 0) {\n\t\tchar path[4096];\n"
	      "\t\tsnprintf(path, sizeof path, \"%s/times.txt\", dir);\n"
	      "\t\tFILE *t = fopen(path, \"w\");\n\t\tif (!t)\n\t\t\treturn 4;\n"
	      "\t\tfor (long k = 0; k < (runs / 10 > 1 ? runs / 10 : 1); k++) /* warm-up */\n"
	      "\t\t\tmodel_run_v_w(w, MODEL_WEIGHTS_SIZE, (const void *const *)in, out, ws);\n"
	      "\t\tfor (long k = 0; k < runs; k++) {\n\t\t\tdouble t0 = now();\n"
	      "\t\t\tmodel_run_v_w(w, MODEL_WEIGHTS_SIZE, (const void *const *)in, out, ws);\n"
	      "\t\t\tfprintf(t, \"%.0f\\n\", now() - t0);\n\t\t}\n"
	      "\t\tif (fclose(t) != 0)\n\t\t\treturn 4;\n\t}\n"
	      "\tfor (int i = 0; i < NIN; i++)\n\t\tfree(in[i]);\n"
	      "\tfor (int i = 0; i < NOUT; i++)\n\t\tfree(out[i]);\n"
	      "\tfree(w);\n\tfree(ws);\n\treturn 0;\n}\n", f);
	finish(r, f, "harness.c");
}

/* ---- processes ---- */

/* argv, with stdout and stderr to the file log in the directory; extra: one
 * more environment variable (or NULL).  The exit status, 128 + a signal's
 * number, or -1 with *err set when it could not be started. */
static int spawn(Run *r, char **argv, const char *log, const char *extra, int *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, in_dir(r, log), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int n = 0;
	while (environ[n])
		n++;
	char **env = ctx_alloc(r->c, sizeof(char *) * (size_t)(n + 2));
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!extra || strncmp(environ[i], extra, (size_t)(strchr(extra, '=') - extra + 1)) != 0)
			env[k++] = environ[i];
	if (extra)
		env[k++] = (char *)extra;
	pid_t pid;
	*err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (*err)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first lines of a log, for a message. */
static const char *log_head(Run *r, const char *log)
{
	long n;
	char *s = ctx_read_file(r->c, "", in_dir(r, log), &n);
	int lines = 0;
	for (char *p = s; *p; p++)
		if (*p == '\n' && ++lines == 12) {
			*p = 0;
			break;
		}
	return s;
}

/* $CC (words), $CFLAGS, -fopenmp for --threads, the sources, -lm */
static void build(Run *r)
{
	Ctx *c = r->c;
	const char *cc = getenv("CC"), *cflags = getenv("CFLAGS");
	char *words = ctx_printf(c, "%s %s%s", cc && *cc ? cc : "cc",
	                         cflags ? cflags : "-O2 -march=native", r->threads ? " -fopenmp" : "");
	char **argv = ctx_alloc(c, sizeof(char *) * (strlen(words) / 2 + 8));
	int n = 0;
	for (char *w = strtok(words, " \t\n"); w; w = strtok(NULL, " \t\n"))
		argv[n++] = w;
	const char *cmd = ctx_printf(c, "%s", "");
	for (int i = 0; i < n; i++)
		cmd = ctx_printf(c, "%s%s%s", cmd, i ? " " : "", argv[i]);
	argv[n++] = (char *)in_dir(r, "harness.c");
	argv[n++] = (char *)in_dir(r, "model.c");
	argv[n++] = "-o";
	argv[n++] = (char *)in_dir(r, "run");
	argv[n++] = "-lm";
	argv[n] = NULL;
	int err, st = spawn(r, argv, "cc.log", NULL, &err);
	if (st < 0 && (err == ENOENT || err == EACCES))
		ctx_error(c, "no C compiler: cannot run '%s' (set CC to one)", argv[0]);
	if (st < 0)
		ctx_error(c, "cannot run '%s': %s", argv[0], strerror(err));
	if (st != 0)
		ctx_error(c, "the C compiler failed (%s, exit status %d):\n%s", cmd, st,
		          log_head(r, "cc.log"));
}

static void run_harness(Run *r)
{
	Ctx *c = r->c;
	char *argv[] = {(char *)in_dir(r, "run"), (char *)r->dir,
	                ctx_printf(c, "%ld", r->bench), NULL};
	const char *omp = r->threads ? ctx_printf(c, "OMP_NUM_THREADS=%ld", r->threads) : NULL;
	int err, st = spawn(r, argv, "run.log", omp, &err);
	if (st < 0)
		ctx_error(c, "cannot run the model: %s", strerror(err));
	if (st == 3)
		ctx_error(c, "the model failed: %s", log_head(r, "run.log"));
	if (st > 128)
		ctx_error(c, "the model crashed (signal %d); please report it: %s", st - 128,
		          log_head(r, "run.log"));
	if (st != 0)
		ctx_error(c, "the harness could not read or write its files (exit status %d)",
		          st);
}

/* ---- the outputs ---- */

static double value(const NpyArray *a, int64_t i)
{
	switch (a->dtype) {
	case DT_F32: { float v; memcpy(&v, a->data + 4 * i, 4); return v; }
	case DT_I64: { int64_t v; memcpy(&v, a->data + 8 * i, 8); return (double)v; }
	case DT_I32: { int32_t v; memcpy(&v, a->data + 4 * i, 4); return v; }
	default: return a->data[i];
	}
}

/* name: float32 (1, 10)  min .. max .. mean ..  first: .. */
static void summary(Run *r, const NpyArray *a)
{
	int64_t n = a->nbytes / (int64_t)dtype_size(a->dtype);
	double lo = INFINITY, hi = -INFINITY, sum = 0;
	int64_t nans = 0;
	for (int64_t i = 0; i < n; i++) {
		double v = value(a, i);
		if (isnan(v)) {
			nans++;
			continue;
		}
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		sum += v;
	}
	fprintf(r->out, "%s: %s (%s)", text_msg(r->c, a->name), npy_type_name(a->descr),
	        npy_shape_text(r->c, a));
	if (n > nans)
		fprintf(r->out, "  min %.6g  max %.6g  mean %.6g", lo, hi, sum / (double)(n - nans));
	if (nans)
		fprintf(r->out, "  NaN: %lld", (long long)nans);
	fputs("\n  first:", r->out);
	for (int64_t i = 0; i < n && i < 8; i++)
		fprintf(r->out, " %.6g", value(a, i));
	fputs(n > 8 ? " ...\n" : "\n", r->out);
}

static void outputs(Run *r, Graph *g)
{
	Ctx *c = r->c;
	NpyArray *v = ctx_alloc(c, sizeof(NpyArray) * (size_t)(g->noutputs + 1));
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *t = g->outputs[i];
		long n;
		v[i] = (NpyArray){.name = t->name, .descr = npy_descr(t->dtype), .dtype = t->dtype,
		                  .rank = t->rank};
		memcpy(v[i].dims, t->dims, sizeof v[i].dims);
		v[i].data = (const unsigned char *)ctx_read_file(c, "", in_dir(r, ctx_printf(c, "out_%d.bin", i)), &n);
		v[i].nbytes = n;
		ir_assert(c, n == tensor_nbytes(t) && v[i].descr);
	}
	if (!r->outputs) {
		for (int i = 0; i < g->noutputs; i++)
			summary(r, &v[i]);
		return;
	}
	size_t len = strlen(r->outputs);
	bool npy = len >= 4 && strcmp(r->outputs + len - 4, ".npy") == 0;
	if (npy && g->noutputs != 1)
		ctx_error(c, "--outputs %s: a .npy holds one array; the model has %d outputs (use .npz)",
		          r->outputs, g->noutputs);
	FILE *f = fopen(r->outputs, "wb");
	if (!f)
		ctx_error(c, "--outputs: cannot write '%s': %s", r->outputs, strerror(errno));
	if (npy)
		npy_write(c, f, &v[0]);
	else
		npz_write(c, f, v, g->noutputs);
	if ((ferror(f) | fclose(f)) != 0) {
		unlink(r->outputs);
		ctx_error(c, "--outputs: writing '%s' failed (disk full?)", r->outputs);
	}
	fprintf(r->out, "%d output%s written to %s\n", g->noutputs, g->noutputs == 1 ? "" : "s",
	        r->outputs);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void bench(Run *r, Graph *g)
{
	Ctx *c = r->c;
	long n;
	char *s = ctx_read_file(c, "", in_dir(r, "times.txt"), &n);
	double *t = ctx_alloc(c, sizeof(double) * (size_t)(r->bench + 1));
	int k = 0;
	for (char *p = s, *end; k < r->bench && (t[k] = strtod(p, &end), end != p); p = end)
		k++;
	ir_assert(c, k == r->bench);
	qsort(t, (size_t)k, sizeof(double), by_value);
	double med = k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
	fprintf(r->out, "bench: %d runs after %ld warm-up, %ld thread%s: median %.3f ms, min %.3f ms; "
	                "workspace %lld bytes\n",
	        k, r->bench / 10 > 1 ? r->bench / 10 : 1, r->threads ? r->threads : 1,
	        r->threads > 1 ? "s" : "", med / 1e6, t[0] / 1e6, (long long)g->arena_size);
}

/* ---- the command ---- */

static void parse(Run *r, int argc, char **argv)
{
	Ctx *c = r->c;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, r->out);
			r->model = NULL;
			r->inputs = "";
			return;
		} else if (strcmp(a, "--inputs") == 0 && v) {
			r->inputs = argv[++i];
		} else if (strcmp(a, "--outputs") == 0 && v) {
			r->outputs = argv[++i];
		} else if (strcmp(a, "--bench") == 0) {
			r->bench = positive(c, a, v), i++;
		} else if (strcmp(a, "--threads") == 0) {
			r->threads = positive(c, a, v), i++;
		} else if (strcmp(a, "--dim") == 0 && v) {
			driver_dim(c, argv[++i]);
		} else if (strcmp(a, "--const-input") == 0 && v) {
			driver_const_input(c, argv[++i]);
		} else if (strcmp(a, "--no-fuse") == 0) {
			c->no_fuse = true;
		} else if (!v && strstr(" --inputs --outputs --dim --const-input ",
		                        ctx_printf(c, " %s ", a))) {
			ctx_error(c, "%s needs a value (see tostc run --help)", a);
		} else {
			driver_word(c, a, &r->model, "tostc run --help");
		}
	}
	if (!r->model)
		ctx_error(c, "no model file given (see tostc run --help)");
	if (!r->inputs)
		ctx_error(c, "no inputs given: --inputs IN.npz (np.savez)");
}

int run_main(Ctx *c, int argc, char **argv, FILE *out)
{
	Run *r = ctx_alloc(c, sizeof *r);
	c->path = "tostc run";   /* errors name the model only while it loads */
	r->c = c;
	r->out = out;
	parse(r, argc, argv);
	if (!r->model)
		return 0;   /* --help */
	const NpzFile *z = npz_read(c, r->inputs);
	c->path = r->model;
	Graph *g = driver_load(c, r->model, NULL, NULL);
	c->path = "tostc run";
	const NpyArray **in = match_inputs(r, g, z);

	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (setjmp(jb)) {
		cleanup(r);
		c->jmp = outer;
		ctx_rethrow(c);
	}
	const char *tmp = getenv("TMPDIR");
	char *dir = ctx_printf(c, "%s/tostc-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		ctx_error(c, "cannot make a directory '%s': %s", dir, strerror(errno));
	r->dir = dir;

	EmitOptions eo = {"model", "tostc run", "model.h", WEIGHTS_EXTERN, "model.weights"};
	EmitFiles files = {create(r, "model.c"), create(r, "model.h"), create(r, "model_0.bin"), NULL};
	emit_c_stream(g, &eo, NULL, &files);
	finish(r, files.c, "model.c");
	finish(r, files.h, "model.h");
	finish(r, files.weights, "model_0.bin");
	write_harness(r, g);
	for (int i = 0; i < g->ninputs; i++) {
		const char *name = ctx_printf(c, "in_%d.bin", i);
		FILE *f = create(r, name);
		fwrite(in[i]->data, 1, (size_t)in[i]->nbytes, f);
		finish(r, f, name);
	}
	build(r);
	run_harness(r);
	outputs(r, g);
	if (r->bench)
		bench(r, g);
	cleanup(r);
	c->jmp = outer;
	return 0;
}
