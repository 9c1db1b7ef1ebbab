/*
 * gemm.c -- GFLOP/s of the runtime GEMM (runtime/gemm/, the code the
 * generated models run) on the GEMM shapes of the benchmark models, as the
 * models call it: y (m, n) = x (m, k) @ w (k, n) with w a weight.
 *
 *   cc -O2 -march=native -Iruntime bench/gemm.c -lm -o gemm && ./gemm
 *
 * One JSON line per shape: GFLOP/s of the median and of the best of 15 timed
 * runs (5 for the largest), CPU time.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gemm/gemm.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);  /* CPU time: robust on a shared machine */
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static const int64_t shapes[][3] = {
		{197, 384, 384}, {197, 384, 1536}, {197, 1536, 384},     /* ToST-S block */
		{1024, 384, 1536}, {16384, 384, 384}, {16384, 384, 1536}, {16384, 1536, 384}, /* stacks */
		{2048, 384, 8192},                                        /* LM head */
	};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
		float *x = malloc(sizeof(float) * (size_t)(m * k)), *w = malloc(sizeof(float) * (size_t)(k * n));
		float *y = malloc(sizeof(float) * (size_t)(m * n)), *pack = NULL;
		void *p;
		if (posix_memalign(&p, 64, (size_t)(TR_GEMM_MC * TR_GEMM_KC + TR_GEMM_KC * TR_GEMM_NC) * 8))
			return 1;
		pack = p;
		for (int64_t i = 0; i < m * k; i++)
			x[i] = (float)(i % 7) - 3.0f;
		for (int64_t i = 0; i < k * n; i++)
			w[i] = (float)(i % 5) - 2.0f;
		int reps = m * n * k > 4000000000LL ? 5 : 15;
		double t[15];
		tr_gemm_f32(x, w, y, pack, m, k, n, 0, 0, 1.0f, 0);
		for (int r = 0; r < reps; r++) {
			double t0 = now();
			tr_gemm_f32(x, w, y, pack, m, k, n, 0, 0, 1.0f, 0);
			t[r] = now() - t0;
		}
		qsort(t, (size_t)reps, sizeof(double), cmp);
		double fl = 2.0 * (double)m * (double)k * (double)n * 1e-9;
		printf("{\"m\": %lld, \"k\": %lld, \"n\": %lld, \"median\": %.6f, \"gflops\": %.2f, "
		       "\"best_gflops\": %.2f}\n", (long long)m, (long long)k, (long long)n, t[reps / 2],
		       fl / t[reps / 2], fl / t[0]);
		free(x), free(w), free(y), free(p);
	}
	return 0;
}
