/*
 * gemm_bench.c -- GFLOP/s of the runtime f32 GEMM (runtime/gemm/) against
 * a naive triple loop, for y (m, n) = x (m, k) @ w, with w stored (k, n)
 * (MatMul) and (n, k) (Gemm transB = 1).  Not part of ctest; build and run by hand:
 *
 *   gcc -std=c99 -O2 -march=native -Iruntime tests/bench/gemm_bench.c -lm -o /tmp/gb
 *   /tmp/gb [m k n]        (default 196 384 1536)
 *
 * Times are the best of several runs (the machine may be shared).
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gemm/gemm.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* x (m, k) @ w (k, n) -> y (m, n) */
static void naive(const float *x, const float *w, float *y, int64_t m, int64_t k, int64_t n)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			float s = 0.0f;
			for (int64_t p = 0; p < k; p++)
				s += x[i * k + p] * w[p * n + j];
			y[i * n + j] = s;
		}
}

int main(int argc, char **argv)
{
	int64_t m = 196, k = 384, n = 1536;
	if (argc == 4) {
		m = atoll(argv[1]);
		k = atoll(argv[2]);
		n = atoll(argv[3]);
	}
	float *x = malloc(sizeof(float) * (size_t)(m * k)), *w = malloc(sizeof(float) * (size_t)(k * n));
	float *wt = malloc(sizeof(float) * (size_t)(k * n)), *y = malloc(sizeof(float) * (size_t)(m * n));
	float *ref = malloc(sizeof(float) * (size_t)(m * n));
	/* generous packing scratch, MC * KC + KC * NC floats, 64-byte aligned like the
	 * generated code's workspace */
	char *raw = malloc(sizeof(float) * (TR_GEMM_MC * TR_GEMM_KC + TR_GEMM_KC * TR_GEMM_NC) + 64);
	float *pack = (float *)(void *)(raw + (64 - (size_t)raw % 64) % 64);
	unsigned s = 1;
	for (int64_t i = 0; i < m * k; i++)
		x[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0xff) / 128.0f - 1.0f;
	for (int64_t i = 0; i < k * n; i++)
		w[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0xff) / 128.0f - 1.0f;
	for (int64_t p = 0; p < k; p++)
		for (int64_t j = 0; j < n; j++)
			wt[j * k + p] = w[p * n + j];
	double flop = 2.0 * (double)m * (double)k * (double)n, best[3] = {1e30, 1e30, 1e30};
	for (int r = 0; r < 3; r++) {
		double t = now();
		naive(x, w, ref, m, k, n);
		t = now() - t;
		best[0] = t < best[0] ? t : best[0];
	}
	double err = 0.0;
	for (int tb = 0; tb < 2; tb++) {
		for (int r = 0; r < 30; r++) {
			double t = now();
			tr_gemm_f32(x, tb ? wt : w, y, pack, m, k, n, 0, tb, 1.0f, 0);
			t = now() - t;
			best[1 + tb] = t < best[1 + tb] ? t : best[1 + tb];
		}
		for (int64_t i = 0; i < m * n; i++)
			err = fmax(err, fabs(y[i] - ref[i]) / (1.0 + fabs(ref[i])));
	}
	printf("m=%lld k=%lld n=%lld  naive %.1f GFLOP/s  gemm %.1f GFLOP/s (%.3f ms)  "
	       "gemm transB %.1f GFLOP/s (%.3f ms)  max rel err %.1e\n",
	       (long long)m, (long long)k, (long long)n, flop / best[0] * 1e-9,
	       flop / best[1] * 1e-9, best[1] * 1e3, flop / best[2] * 1e-9, best[2] * 1e3, err);
	free(x);
	free(w);
	free(wt);
	free(y);
	free(ref);
	free(raw);
	return err > 1e-4;
}
