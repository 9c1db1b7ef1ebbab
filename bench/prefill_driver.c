/*
 * prefill_driver.c -- times the prompt and batch side of a tostc-generated
 * causal LM's step API (bench/stream.py's "Time to first token" and
 * "Several sequences").
 *
 *   cc -O2 -march=native -I GENDIR bench/prefill_driver.c GENDIR/model.c -lm -o prefill
 *   ./prefill TOKENS.bin REPS PROMPTS BATCHES
 *
 * TOKENS.bin holds MODEL_MAX_POSITIONS int64 token ids; PROMPTS and BATCHES
 * are comma-separated lists ("64,256,1024", "1,4,8"; "-" for none).
 *   - for each prompt length L: model_reset + model_prefill of the first L
 *     tokens (the logits of the last), the median over REPS of its CPU time
 *     after one warm-up: the time to the first token's logits;
 *   - for each B: B sequences prefilled to different positions (sequence j
 *     to 64 + 37 j), then STEPS calls of model_step_batch, each one token of
 *     every sequence; per call, the median over REPS of the CPU time of the
 *     STEPS calls divided by STEPS (the states restored before each rep).
 * Prints one JSON line: {"prefill": {L: s}, "batch": {B: s per call}}.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "timing.h"

#define T MODEL_MAX_POSITIONS
#define STEPS 32
#define MAXB 64

static int parse_list(const char *s, int *v, int max)
{
	int n = 0;
	while (*s && *s != '-' && n < max) {
		v[n++] = atoi(s);
		s = strchr(s, ',');
		if (!s)
			break;
		s++;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s TOKENS.bin REPS PROMPTS BATCHES\n", argv[0]);
		return 2;
	}
	int reps = atoi(argv[2]), prompts[16], batches[16];
	int np = parse_list(argv[3], prompts, 16), nb = parse_list(argv[4], batches, 16);
	const int64_t *tok = read_input(argv[1], sizeof(int64_t) * (size_t)T);
	void *ws = alloc64(MODEL_STEP_WORKSPACE_SIZE);
	static float logits[MAXB * MODEL_STEP_OUTPUT0_SIZE];
	static int64_t ids[MAXB];
	double *t = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
	void *states[MAXB], *saved[MAXB];
	if (!tok || !ws || !t || reps < 1)
		return 2;
	for (int j = 0; j < MAXB; j++)
		if (!(states[j] = alloc64(MODEL_STATE_SIZE)) || !(saved[j] = alloc64(MODEL_STATE_SIZE)))
			return 2;

	printf("{\"prefill\": {");
	for (int i = 0; i < np; i++) {
		int L = prompts[i];
		if (L < 1 || L > T) {
			fprintf(stderr, "prompt %d: not in 1..%d\n", L, T);
			return 2;
		}
		for (int r = -1; r < reps; r++) {   /* r -1: warm-up */
			double c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
			model_reset(states[0]);
			if (model_prefill(states[0], tok, L, logits, ws) != 0) {
				fprintf(stderr, "prefill %d failed\n", L);
				return 1;
			}
			if (r >= 0)
				t[r] = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
		}
		printf("%s\"%d\": %.9f", i ? ", " : "", L, median(t, reps));
	}
	printf("}, \"batch\": {");
	for (int i = 0; i < nb; i++) {
		int nseq = batches[i];
		if (nseq < 1 || nseq > MAXB || 64 + 37 * (nseq - 1) + STEPS > T) {
			fprintf(stderr, "batch %d: does not fit\n", nseq);
			return 2;
		}
		for (int j = 0; j < nseq; j++) {
			model_reset(saved[j]);
			model_prefill(saved[j], tok, 64 + 37 * j, logits, ws);
		}
		for (int r = -1; r < reps; r++) {
			for (int j = 0; j < nseq; j++)
				memcpy(states[j], saved[j], MODEL_STATE_SIZE);
			double c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
			for (int s = 0; s < STEPS; s++) {
				for (int j = 0; j < nseq; j++)
					ids[j] = tok[model_position(states[j])];
				if (model_step_batch(states, ids, nseq, logits, ws) != 0) {
					fprintf(stderr, "step_batch of %d failed\n", nseq);
					return 1;
				}
			}
			if (r >= 0)
				t[r] = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / STEPS;
		}
		printf("%s\"%d\": %.9f", i ? ", " : "", nseq, median(t, reps));
	}
	printf("}, \"logit0\": %.6g}\n", (double)logits[0]);
	return 0;
}
