/*
 * step_driver.c -- times the step API of a tostc-generated causal LM (the
 * streaming benchmark's C side; see bench/stream.py).
 *
 *   cc -O2 -march=native -I GENDIR bench/step_driver.c GENDIR/model.c -lm -o step
 *   ./step TOKENS.bin PASSES
 *
 * The model is compiled with `tostc --name model --dim seq=BLOCK`, so model.h
 * declares model_reset / model_step and MODEL_MAX_POSITIONS = BLOCK.  The
 * driver reads BLOCK token ids (int64), then PASSES times (after one warm-up
 * pass): model_reset, then one model_step per position t = 1..BLOCK, timing
 * every step (CPU time of the process, and wall-clock).  It prints one JSON
 * line: per position, the median over the passes of the step's CPU and wall
 * seconds, and the median over passes of the whole generation's CPU and wall
 * seconds (BLOCK steps, reset included).
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "timing.h"

#define T MODEL_MAX_POSITIONS
#define B MODEL_STEP_TOKENS


int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s TOKENS.bin PASSES\n", argv[0]);
		return 2;
	}
	int passes = atoi(argv[2]);
	if (passes < 1)
		passes = 1;
	static float logits[MODEL_STEP_OUTPUT0_SIZE];
	const int64_t *tok = read_input(argv[1], sizeof(int64_t) * (size_t)(T * B));
	void *state = alloc64(MODEL_STATE_SIZE), *ws = alloc64(MODEL_STEP_WORKSPACE_SIZE);
	if (!tok || !state || !ws)
		return 2;
	/* c[t * passes + p], w[...]: step t of pass p */
	double *c = malloc(sizeof(double) * (size_t)T * (size_t)passes);
	double *w = malloc(sizeof(double) * (size_t)T * (size_t)passes);
	double *tc = malloc(sizeof(double) * (size_t)passes), *tw = malloc(sizeof(double) * (size_t)passes);
	for (int p = -1; p < passes; p++) {   /* pass -1: warm-up */
		double c0 = clk(CLOCK_PROCESS_CPUTIME_ID), w0 = clk(CLOCK_MONOTONIC);
		model_reset(state);
		for (int t = 0; t < T; t++) {
			double sc = clk(CLOCK_PROCESS_CPUTIME_ID), sw = clk(CLOCK_MONOTONIC);
			if (model_step(state, tok + t * B, logits, ws) != 0) {
				fprintf(stderr, "step %d failed\n", t);
				return 1;
			}
			if (p >= 0) {
				c[t * passes + p] = clk(CLOCK_PROCESS_CPUTIME_ID) - sc;
				w[t * passes + p] = clk(CLOCK_MONOTONIC) - sw;
			}
		}
		if (p >= 0) {
			tc[p] = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
			tw[p] = clk(CLOCK_MONOTONIC) - w0;
		}
	}
	printf("{\"block\": %d, \"state_bytes\": %d, \"step_cpu\": [", T, (int)MODEL_STATE_SIZE);
	for (int t = 0; t < T; t++)
		printf("%s%.9f", t ? ", " : "", median(c + t * passes, passes));
	printf("], \"step_wall\": [");
	for (int t = 0; t < T; t++)
		printf("%s%.9f", t ? ", " : "", median(w + t * passes, passes));
	printf("], \"total_cpu\": %.6f, \"total_wall\": %.6f, \"logit0\": %.6g}\n",
	       median(tc, passes), median(tw, passes), (double)logits[0]);
	return 0;
}
