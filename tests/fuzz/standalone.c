/*
 * standalone.c -- a main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput on every file named on the command line (a
 * directory: every regular file in it, sorted), so crash inputs found by the
 * fuzzers replay as ordinary regression tests under any compiler.  Each input
 * gets REPLAY_SECONDS (60, several times what any input needs even under the
 * sanitizers): a slower one fails the run, so hangs found by the fuzzers stay
 * fixed too.
 */
#define _DEFAULT_SOURCE   /* realpath */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_SECONDS 60

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_alarm(int sig)
{
	static const char msg[] = "timeout: an input ran longer than the replay limit\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(1);
	_exit(1);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		return 1;
	}
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			abort();
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	fprintf(stderr, "running %s (%zu bytes)\n", path, n);
	signal(SIGALRM, on_alarm);
	alarm(REPLAY_SECONDS);
	LLVMFuzzerTestOneInput(buf, n);
	alarm(0);
	free(buf);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int bad = 0, count = 0;
	/* absolute paths: a target may chdir (fuzz_cli) */
	for (int i = 1; i < argc; i++) {
		char *abs = realpath(argv[i], NULL);
		if (abs)
			argv[i] = abs;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: no such file\n", argv[i]);
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d)
			return 1;
		char **names = NULL;
		size_t nn = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (nn + 1) * sizeof *names);
			size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
			names[nn] = malloc(len);
			snprintf(names[nn++], len, "%s/%s", argv[i], e->d_name);
		}
		closedir(d);
		if (nn)
			qsort(names, nn, sizeof *names, by_name);
		for (size_t k = 0; k < nn; k++) {
			bad |= run_file(names[k]);
			count++;
			free(names[k]);
		}
		free(names);
	}
	fprintf(stderr, "%d inputs replayed, none crashed\n", count);
	return bad;
}
