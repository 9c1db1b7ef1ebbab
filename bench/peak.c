/*
 * peak.c -- this core's f32 FMA peak, measured on the spot: 24 independent
 * accumulator chains of vector FMAs (AVX-512: 16 lanes, AVX2+FMA: 8, else
 * scalar code the compiler may vectorise), enough to cover the FMA latency
 * on two FMA ports.  Prints one JSON line with GFLOP/s (an FMA is 2 FLOPs).
 *
 *   cc -O2 -march=native bench/peak.c -o peak && ./peak
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <time.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);  /* CPU time: robust on a shared machine */
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CHAINS 24
#define F512(c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
#define F256(c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);

int main(void)
{
	long iters = 20000000;
	double best = 0.0, sink = 0.0;
	const char *isa;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now(), flops;
#if defined(__AVX512F__)
		__m512 acc[CHAINS], a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
		for (int c = 0; c < CHAINS; c++)
			acc[c] = _mm512_set1_ps((float)c);
		for (long i = 0; i < iters; i++) {
			/* written out: the accumulators must stay in registers */
			F512(0) F512(1) F512(2) F512(3) F512(4) F512(5) F512(6) F512(7)
			F512(8) F512(9) F512(10) F512(11) F512(12) F512(13) F512(14) F512(15)
			F512(16) F512(17) F512(18) F512(19) F512(20) F512(21) F512(22) F512(23)
		}
		for (int c = 0; c < CHAINS; c++)
			sink += _mm512_reduce_add_ps(acc[c]);
		flops = 2.0 * 16 * CHAINS * (double)iters;
		isa = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
		__m256 acc[CHAINS / 2], a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
		float o[8];
		for (int c = 0; c < CHAINS / 2; c++)
			acc[c] = _mm256_set1_ps((float)c);
		for (long i = 0; i < iters; i++) {
			F256(0) F256(1) F256(2) F256(3) F256(4) F256(5)
			F256(6) F256(7) F256(8) F256(9) F256(10) F256(11)
		}
		for (int c = 0; c < CHAINS / 2; c++) {
			_mm256_storeu_ps(o, acc[c]);
			sink += o[0];
		}
		flops = 2.0 * 8 * (CHAINS / 2) * (double)iters;
		isa = "avx2";
#else
		float acc[CHAINS * 4];
		for (int c = 0; c < CHAINS * 4; c++)
			acc[c] = (float)c;
		for (long i = 0; i < iters / 4; i++)
			for (int c = 0; c < CHAINS * 4; c++)
				acc[c] = acc[c] * 0.999999f + 1e-7f;
		for (int c = 0; c < CHAINS * 4; c++)
			sink += acc[c];
		flops = 2.0 * CHAINS * 4 * (double)(iters / 4);
		isa = "c99";
#endif
		double g = flops / (now() - t0) * 1e-9;
		best = g > best ? g : best;
	}
	printf("{\"isa\": \"%s\", \"gflops\": %.2f, \"sink\": %g}\n", isa, best, sink);
	return 0;
}
