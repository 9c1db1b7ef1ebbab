/*
 * fuzz_cli.c -- the command line: driver_main in-process, with argv made
 * from the input (arguments separated by NUL bytes, at most 40).
 *
 * Arguments "@0" .. "@3" stand for the sample models (digits.onnx,
 * digits.tost, digits.safetensors, a missing file), so the fuzzer can reach a
 * real compile with its options.  To keep the fuzzer from writing anywhere,
 * the process works in a private temporary directory, the value of every
 * option that names a file to write (-o, --output, --depfile, and tostc
 * run's --outputs) loses every '/', and the directory is emptied after each
 * input (after a failed run it must already be empty: no half-written
 * output); stdout (--help, --report, --dump-ir) goes to /dev/null.  tostc
 * run gets a C compiler that does not exist ($CC) and the directory as its
 * $TMPDIR: it reads its arrays and compiles the model, then stops there.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <dirent.h>
#include <unistd.h>

#ifndef TOSTC_SOURCE_DIR
#define TOSTC_SOURCE_DIR "."
#endif

#define MAX_ARGV 40

static const char *const models[] = {
	TOSTC_SOURCE_DIR "/samples/digits/digits.onnx",
	TOSTC_SOURCE_DIR "/samples/digits/digits.tost",
	TOSTC_SOURCE_DIR "/samples/digits/digits.safetensors",
	TOSTC_SOURCE_DIR "/samples/digits/no-such-model.onnx",
};

static char workdir[64];

static void cleanup(void)
{
	rmdir(workdir);
}

static void setup(void)
{
	if (workdir[0])
		return;
	atexit(cleanup);
	snprintf(workdir, sizeof workdir, "/tmp/tostc_fuzz_cli.XXXXXX");
	if (!mkdtemp(workdir) || chdir(workdir) != 0)
		abort();
	setenv("CC", "/nonexistent/tostc-fuzz-cc", 1);
	setenv("TMPDIR", workdir, 1);
	if (!freopen("/dev/null", "w", stdout))
		abort();
}

/* After a failed run nothing may be left behind: no output, no temporary. */
static void check_empty(void)
{
	DIR *d = opendir(workdir);
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			fprintf(stderr, "fuzz: a failed run left '%s' behind\n", e->d_name);
			abort();
		}
	closedir(d);
}

static void clean(void)
{
	DIR *d = opendir(workdir);
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(e->d_name);
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	if (size > 4096)
		return 0;
	setup();
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	char *argv[MAX_ARGV + 2];
	int argc = 0;
	argv[argc++] = "tostc";
	for (size_t i = 0; i <= size && argc < MAX_ARGV + 1;) {
		char *a = buf + i;
		size_t n = strlen(a);
		const char *prev = argv[argc - 1];
		if (argc > 1 && (!strcmp(prev, "-o") || !strcmp(prev, "--output") ||
		                 !strcmp(prev, "--depfile") || !strcmp(prev, "--outputs"))) {
			char *w = a;   /* strip the slashes in place (a is inside buf) */
			for (char *r = a; *r; r++)
				if (*r != '/')
					*w++ = *r;
			*w = 0;
		} else if (a[0] == '@' && a[1] >= '0' && a[1] <= '3' && !a[2]) {
			a = (char *)models[a[1] - '0'];
		}
		argv[argc++] = a;
		i += n + 1;
	}
	argv[argc] = NULL;
	FILE *err = fuzz_devnull();
	int rc = driver_main(argc, argv, getenv("FUZZ_VERBOSE") ? stderr : err);
	fflush(stdout);
	if (rc != 0)
		check_empty();
	clean();
	free(buf);
	if (rc == 2) {
		fprintf(stderr, "fuzz: tostc exited with status 2 (internal error)\n");
		abort();
	}
	if (rc != 0 && rc != 1)
		abort();
	return 0;
}
