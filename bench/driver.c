/*
 * driver.c -- times one tostc-generated model (the benchmark's C side).
 *
 *   cc -O2 -march=native -I GENDIR bench/driver.c GENDIR/model.c -lm -o run
 *   ./run INPUT.bin RUNS [OUTPUT.bin]
 *
 * The model is compiled with `tostc --name model`, so model.h defines
 * MODEL_WORKSPACE_SIZE and MODEL_INPUT0_SIZE / MODEL_OUTPUT0_SIZE.  The driver
 * reads the raw input, runs the model once to warm up, then RUNS timed runs,
 * and prints one JSON line: every run's wall-clock and CPU seconds (CPU time
 * of the process: on a shared machine it leaves out the time the scheduler
 * gave to others), their medians, the workspace
 * (arena) bytes, and the peak resident set size of the process (VmHWM,
 * which includes the weights once they are paged in).  With OUTPUT.bin it
 * writes the output of the last run (to compare with ONNX Runtime's) and
 * checks that every run produced bitwise the same output.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model.h"
#include "timing.h"

/* Peak resident set size in bytes: VmHWM of /proc/self/status (ru_maxrss
 * survives exec on Linux, so it would report the parent's peak when that
 * is larger), else ru_maxrss. */
static long peak_rss(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = atol(line + 6);
	if (f)
		fclose(f);
	if (kb < 0) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		kb = ru.ru_maxrss;
	}
	return kb * 1024L;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s INPUT.bin RUNS [OUTPUT.bin]\n", argv[0]);
		return 2;
	}
	int runs = atoi(argv[2]);
	size_t isz = INPUT0_BYTES(MODEL);
	size_t osz = (size_t)MODEL_OUTPUT0_SIZE * 4;
	void *in = read_input(argv[1], isz), *ws = alloc64(MODEL_WORKSPACE_SIZE);
	float *out = malloc(osz), *first = malloc(osz);
	if (!in || !ws || !out || !first)
		return 2;
	const void *ins[1] = {in};
	void *outs[1] = {out};
	model_run_v(ins, outs, ws);   /* warm-up: pages in weights and workspace */
	memcpy(first, out, osz);
	if (runs < 1)
		runs = 1;
	double *t = malloc(sizeof(double) * (size_t)runs), *c = malloc(sizeof(double) * (size_t)runs);
	int same = 1;
	for (int r = 0; r < runs; r++) {
		double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
		model_run_v(ins, outs, ws);
		t[r] = clk(CLOCK_MONOTONIC) - t0;
		c[r] = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
		same &= memcmp(first, out, osz) == 0;
	}
	if (argc > 3) {
		FILE *f = fopen(argv[3], "wb");
		if (!f || fwrite(out, 1, osz, f) != osz)
			return 2;
		fclose(f);
	}
	printf("{\"runs\": [");
	for (int r = 0; r < runs; r++)
		printf("%s%.6f", r ? ", " : "", t[r]);
	printf("], \"cpu_runs\": [");
	for (int r = 0; r < runs; r++)
		printf("%s%.6f", r ? ", " : "", c[r]);
	printf("], \"median\": %.6f, \"cpu_median\": %.6f, \"workspace\": %lld, \"rss\": %ld, "
	       "\"bitwise_same\": %s}\n", median(t, runs), median(c, runs),
	       (long long)MODEL_WORKSPACE_SIZE, peak_rss(), same ? "true" : "false");
	return 0;
}
