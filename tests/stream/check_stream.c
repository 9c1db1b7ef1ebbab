/*
 * check_stream.c -- the step API of a generated causal model against its own
 * full-sequence entry point.  Compiled together with a model generated as
 * `tostc MODEL -o model.c --name model` (one input: token ids (B, T); output
 * 0: logits (B, T, V)).
 *
 *   check_stream [seed]
 *
 * Checks, for a random token sequence of the full length T:
 *   1. step t's logits equal model_run's logits at position t, every t < T
 *      (max |diff| <= 1e-4 * max(1, max |logit|) per position);
 *   2. after model_reset the same steps give bitwise the same logits;
 *   3. prefill(k) + steps gives bitwise what steps alone give, for several k;
 *   4. a step at position T returns MODEL_ERR_FULL and changes nothing;
 *      prefill past T returns MODEL_ERR_FULL and changes nothing;
 *   5. the state size is a compile-time constant (no growth with t): the
 *      bytes after MODEL_STATE_SIZE in a guard buffer are never written;
 *   6. timing: microseconds per step over the first and last quarter of
 *      positions (printed; per-step time is flat when the two agree).
 * Prints one line per failure and a summary; exit status 0 when all pass.
 */
#define _POSIX_C_SOURCE 200112L
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define B MODEL_STEP_TOKENS
#define T MODEL_MAX_POSITIONS
#define V (MODEL_STEP_OUTPUT0_SIZE / MODEL_STEP_TOKENS)
#define GUARD 256

static int failures;

static void fail(const char *what, long long t, double v)
{
	if (failures++ < 20)
		printf("FAIL %s at position %lld (%g)\n", what, t, v);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

int main(int argc, char **argv)
{
	static int64_t tokens[B * T], tm[T * B];   /* (B, T) for run; (T, B) for steps */
	static float full[B * T * V], logits[T][B * V], again[B * V];
	static unsigned char state_buf[MODEL_STATE_SIZE + GUARD + 64], copy[MODEL_STATE_SIZE];
	unsigned char *state = state_buf + (64 - (size_t)state_buf % 64) % 64;
	void *ws_run = NULL, *ws = NULL;   /* 64-byte aligned, as the API asks */
	double max_rel = 0;

	if (posix_memalign(&ws_run, 64, MODEL_WORKSPACE_SIZE + 64) ||
	    posix_memalign(&ws, 64, MODEL_STEP_WORKSPACE_SIZE + 64))
		return 1;
	if (argc > 1)
		rng += strtoull(argv[1], NULL, 10) * 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < B * T; i++)
		tokens[i] = rnd() % V;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++)
			tm[t * B + b] = tokens[b * T + t];
	if (model_run(tokens, full, ws_run) != 0) {
		printf("FAIL model_run\n");
		return 1;
	}
	memset(state + MODEL_STATE_SIZE, 0xA5, GUARD);

	/* 1. step t == run at t */
	model_reset(state);
	for (int t = 0; t < T; t++) {
		if (model_position(state) != t)
			fail("position", t, (double)model_position(state));
		if (model_step(state, tm + t * B, logits[t], ws) != 0)
			fail("step returned nonzero", t, 0);
		for (int b = 0; b < B; b++) {
			const float *ref = full + ((size_t)b * T + t) * V, *got = logits[t] + b * V;
			double m = 1, d = 0;
			for (int v = 0; v < V; v++) {
				m = fabs(ref[v]) > m ? fabs(ref[v]) : m;
				d = fabs(ref[v] - got[v]) > d ? fabs(ref[v] - got[v]) : d;
			}
			if (!(d <= 1e-4 * m))
				fail("step != run", t, d / m);
			max_rel = d / m > max_rel ? d / m : max_rel;
		}
	}
	/* 4. the position limit */
	memcpy(copy, state, MODEL_STATE_SIZE);
	if (model_step(state, tm, again, ws) != MODEL_ERR_FULL)
		fail("step past the limit did not return MODEL_ERR_FULL", T, 0);
	if (memcmp(copy, state, MODEL_STATE_SIZE) != 0)
		fail("step past the limit changed the state", T, 0);
	/* 5. nothing beyond MODEL_STATE_SIZE was touched */
	for (int i = 0; i < GUARD; i++)
		if (state[MODEL_STATE_SIZE + i] != 0xA5)
			fail("state written past MODEL_STATE_SIZE", i, 0);

	/* 2. reset reproduces bitwise */
	model_reset(state);
	for (int t = 0; t < T; t++) {
		model_step(state, tm + t * B, again, ws);
		if (memcmp(again, logits[t], sizeof again) != 0)
			fail("not reproducible after reset", t, 0);
	}

	/* 3. prefill(k) + steps == steps */
	int ks[4] = {1, 2, T / 2, T};
	for (int i = 0; i < 4; i++) {
		int k = ks[i];
		model_reset(state);
		if (model_prefill(state, tm, k, again, ws) != 0)
			fail("prefill returned nonzero", k, 0);
		if (model_position(state) != k)
			fail("position after prefill", k, (double)model_position(state));
		if (memcmp(again, logits[k - 1], sizeof again) != 0)
			fail("prefill's last logits differ from step's", k - 1, 0);
		for (int t = k; t < T; t++) {
			model_step(state, tm + t * B, again, ws);
			if (memcmp(again, logits[t], sizeof again) != 0)
				fail("prefill + steps differ from steps", t, 0);
		}
	}
	model_reset(state);
	model_prefill(state, tm, 3 < T ? 3 : T, again, ws);
	memcpy(copy, state, MODEL_STATE_SIZE);
	if (model_prefill(state, tm, T, again, ws) != MODEL_ERR_FULL)
		fail("prefill past the limit did not return MODEL_ERR_FULL", T + 3, 0);
	if (memcmp(copy, state, MODEL_STATE_SIZE) != 0)
		fail("prefill past the limit changed the state", T, 0);
	model_reset(state);
	if (model_prefill(state, tm, 0, again, ws) != 0 || model_position(state) != 0)
		fail("prefill of 0 tokens", 0, 0);

	/* 6. time per step at each position of the first and last quarter: from
	 * a saved state, the fastest of 9 batches of `reps` (restore + step) */
	int nq = T / 4 ? T / 4 : 1, reps = 1;
	double q1 = 0, q4 = 0;
	for (;;) {   /* reps: a batch of at least ~2 ms */
		double t0 = now();
		model_reset(state);
		for (int r = 0; r < reps; r++)
			model_step(state, tm, again, ws), *(int64_t *)state = 0;
		if (now() - t0 > 2e-3 || reps > 1 << 20)
			break;
		reps *= 2;
	}
	model_reset(state);
	for (int t = 0; t < T; t++) {
		if (t < nq || t >= T - nq) {
			double best = 1e30;
			memcpy(copy, state, MODEL_STATE_SIZE);
			for (int k = 0; k < 9; k++) {
				double t0 = now();
				for (int r = 0; r < reps; r++) {
					memcpy(state, copy, MODEL_STATE_SIZE);
					model_step(state, tm + t * B, again, ws);
				}
				double dt = (now() - t0) / reps;
				best = dt < best ? dt : best;
			}
			memcpy(state, copy, MODEL_STATE_SIZE);
			if (t < nq)
				q1 += best;
			else
				q4 += best;
		}
		model_step(state, tm + t * B, again, ws);
	}
	double run_best = 1e30;
	for (int k = 0; k < 3; k++) {
		double t0 = now();
		model_run(tokens, full, ws_run);
		run_best = now() - t0 < run_best ? now() - t0 : run_best;
	}
	printf("step vs run: max relative difference %.3g over %d positions x %d rows\n", max_rel,
	       T, B);
	printf("state %d bytes, step workspace %d bytes, run workspace %d bytes\n",
	       MODEL_STATE_SIZE, MODEL_STEP_WORKSPACE_SIZE, MODEL_WORKSPACE_SIZE);
	printf("time per step: positions 0..%d %.2f us, positions %d..%d %.2f us\n", nq - 1,
	       1e6 * q1 / nq, T - nq, T - 1, 1e6 * q4 / nq);
	printf("model_run on %d tokens: %.2f us (re-running the prefix per new token: "
	       "%.0f tokens/s; steps: %.0f tokens/s)\n", T, 1e6 * run_best, 1 / run_best,
	       2 * nq / (q1 + q4));
	printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
	free(ws_run);
	free(ws);
	return failures != 0;
}
