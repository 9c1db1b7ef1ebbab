/*
 * ab_driver.c -- two builds of one model in one process, run alternately
 * (bench/ab.sh): both see the same machine from one run to the next, which
 * interleaved processes do not.  The generated files are named with
 * `tostc --name ma` and `--name mb`.
 *
 *   ./ab INPUT.bin PAIRS
 *
 * Prints each build's median time per run and the median, first and third
 * quartile of the per-pair ratio b / a (the order alternates a-b, b-a), and
 * whether the two outputs are bitwise the same.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ma.h"
#include "mb.h"
#include "timing.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s INPUT.bin PAIRS\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[2]);
	size_t isz = INPUT0_BYTES(MA);
	size_t osz = (size_t)MA_OUTPUT0_SIZE * 4;
	if (n < 1)
		n = 1;
	void *in = read_input(argv[1], isz), *wa = alloc64(MA_WORKSPACE_SIZE);
	void *wb = alloc64(MB_WORKSPACE_SIZE);
	float *oa = malloc(osz), *ob = malloc(osz);
	double *ta = malloc(sizeof(double) * (size_t)n), *tb = malloc(sizeof(double) * (size_t)n);
	double *r = malloc(sizeof(double) * (size_t)n);
	if (!in || !wa || !wb || !oa || !ob || !ta || !tb || !r)
		return 2;
	const void *ins[1] = {in};
	void *outa[1] = {oa}, *outb[1] = {ob};
	ma_run_v(ins, outa, wa);   /* warm-up: pages in both builds' weights */
	mb_run_v(ins, outb, wb);
	for (int i = 0; i < n; i++) {
		double t0 = clk(CLOCK_MONOTONIC);
		if (i & 1) {
			mb_run_v(ins, outb, wb);
			tb[i] = clk(CLOCK_MONOTONIC) - t0;
			t0 = clk(CLOCK_MONOTONIC);
			ma_run_v(ins, outa, wa);
			ta[i] = clk(CLOCK_MONOTONIC) - t0;
		} else {
			ma_run_v(ins, outa, wa);
			ta[i] = clk(CLOCK_MONOTONIC) - t0;
			t0 = clk(CLOCK_MONOTONIC);
			mb_run_v(ins, outb, wb);
			tb[i] = clk(CLOCK_MONOTONIC) - t0;
		}
		r[i] = tb[i] / ta[i];
	}
	qsort(ta, (size_t)n, sizeof(double), cmp);
	qsort(tb, (size_t)n, sizeof(double), cmp);
	qsort(r, (size_t)n, sizeof(double), cmp);
	printf("a %.3f ms, b %.3f ms, b/a median %.3f (quartiles %.3f-%.3f), %d pairs, "
	       "outputs %s\n",
	       ta[n / 2] * 1e3, tb[n / 2] * 1e3, r[n / 2], r[n / 4], r[3 * n / 4], n,
	       memcmp(oa, ob, osz) == 0 ? "bitwise the same" : "differ");
	return 0;
}
