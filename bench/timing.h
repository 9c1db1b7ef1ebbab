/* timing.h -- clocks, medians and input files shared by the benchmark
 * drivers (driver.c, step_driver.c, opprof_driver.c, ab_driver.c); included
 * once per program. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline double clk(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(double), cmp);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* n bytes of the file at path in a new buffer, or NULL after a message */
static inline void *read_input(const char *path, size_t n)
{
	void *p = malloc(n ? n : 1);
	FILE *f = fopen(path, "rb");
	int ok = p && f && fread(p, 1, n, f) == n;
	if (f)
		fclose(f);
	if (!ok) {
		fprintf(stderr, "%s: cannot read %zu bytes\n", path, n);
		free(p);
		return NULL;
	}
	return p;
}

/* bytes of input 0 of a model generated with --name P (model.h's P_INPUT0_*):
 * token ids are int64, everything else f32 */
#define INPUT0_BYTES(P)                                                                   \
	((size_t)P##_INPUT0_SIZE * (strcmp(P##_INPUT0_TYPE, "int64") == 0 ? 8 : 4))

/* n bytes (at least 64) aligned to 64, or NULL: a model's workspace */
static inline void *alloc64(size_t n)
{
	void *p = NULL;
	return posix_memalign(&p, 64, n > 0 ? n : 64) ? NULL : p;
}
#endif
