/*
 * main.c -- generate text with the character-level ToST model compiled by
 * tostc (charlm.c / charlm.h, see README.md), one token at a time through
 * the step API, and compare with re-running the model on the prefix.
 *
 *   charlm [-n N] [-t TEMP] [-s SEED] [-g] [-e] [PROMPT]
 *
 *   -n N     characters to generate (default: up to the block size)
 *   -t TEMP  sampling temperature (default 0.8); -g: greedy (argmax)
 *   -s SEED  random seed (default 1)
 *   -g       greedy (argmax) instead of sampling
 *   -e       print the text C-escaped on one line (as in expected.txt)
 *
 * Timings: the generation is repeated 5 times from a reset state (the same
 * text every time); per position the fastest time is kept.  Printed: the
 * time to first token (reset + charlm_prefill of the prompt, which runs it
 * in chunks through the whole-sequence kernels; against feeding the prompt
 * one charlm_step at a time and one charlm_run), step API tokens/s, the
 * mean step time over the first and last quarter of the generated positions
 * (flat: the state does not grow), and the same continuation produced by
 * re-running charlm_run on the whole prefix for every new token (the way
 * the official ToST code generates), tokens/s.
 */
#define _POSIX_C_SOURCE 200112L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "charlm.h"
#include "vocab.h"

#define T CHARLM_MAX_POSITIONS
#define V VOCAB_SIZE
#define REPEATS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned long long rng_state;
static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int64_t pick(const float *logits, double temp)
{
	int64_t best = 0;
	for (int v = 1; v < V; v++)
		if (logits[v] > logits[best])
			best = v;
	if (temp <= 0)
		return best;
	double p[V], sum = 0, u;
	for (int v = 0; v < V; v++)
		sum += p[v] = exp((logits[v] - logits[best]) / temp);
	u = uniform() * sum;
	for (int v = 0; v < V; v++)
		if ((u -= p[v]) <= 0)
			return v;
	return best;
}

static void put_escaped(int c)
{
	if (c == '\n')
		fputs("\\n", stdout);
	else if (c == '\\' || c == '"')
		printf("\\%c", c);
	else if (c >= 32 && c < 127)
		putchar(c);
	else
		printf("\\%03o", c);
}

int main(int argc, char **argv)
{
	const char *prompt = "The GNU General Public License";
	int n = T, greedy = 0, escaped = 0;
	double temp = 0.8;
	unsigned long long seed = 1;
	static int64_t ids[T], window[T];
	static float logits[V], full[T * V];
	static double best[T];
	double ttft = 0;
	void *state = malloc(CHARLM_STATE_SIZE), *ws = NULL, *ws_run = NULL;

	/* workspaces 64-byte aligned, as the API asks */
	if (!state || posix_memalign(&ws, 64, CHARLM_STEP_WORKSPACE_SIZE) ||
	    posix_memalign(&ws_run, 64, CHARLM_WORKSPACE_SIZE))
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			temp = atof(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-g") == 0)
			greedy = 1;
		else if (strcmp(argv[i], "-e") == 0)
			escaped = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: charlm [-n N] [-t TEMP] [-s SEED] [-g] [-e] [PROMPT]\n");
			return 2;
		} else
			prompt = argv[i];
	}
	if (greedy)
		temp = 0;
	int np = 0;
	for (const char *p = prompt; *p && np < T - 1; p++) {
		const char *q = strchr(VOCAB, *p);
		if (q && *p)
			ids[np++] = q - VOCAB;
	}
	if (np == 0)
		ids[np++] = strchr(VOCAB, ' ') - VOCAB;
	int end = np + n < T ? np + n : T;   /* positions 0 .. end-1 */

	/* step API: prefill the prompt, then one step per new character */
	for (int r = 0; r < REPEATS; r++) {
		rng_state = 88172645463325252ULL + seed * 0x9E3779B97F4A7C15ULL;
		double tp = now();
		charlm_reset(state);
		if (charlm_prefill(state, ids, np, logits, ws) != 0) {
			fprintf(stderr, "charlm_prefill failed\n");
			return 1;
		}
		if (r == 0 || now() - tp < ttft)
			ttft = now() - tp;
		for (int t = np; t < end; t++) {
			int64_t id = pick(logits, temp);
			if (r == 0)
				ids[t] = id;
			else if (ids[t] != id) {
				fprintf(stderr, "repeat %d differs at position %d\n", r, t);
				return 1;
			}
			double t0 = now();
			/* the last character needs no logits; a step past the block would
			 * return CHARLM_ERR_FULL */
			if (t + 1 < end && charlm_step(state, &ids[t], logits, ws) != 0) {
				fprintf(stderr, "charlm_step failed at %d\n", t);
				return 1;
			}
			double dt = now() - t0;
			if (r == 0 || dt < best[t])
				best[t] = dt;
		}
	}
	for (int t = 0; t < end; t++)
		if (escaped)
			put_escaped(VOCAB[ids[t]]);
		else
			putchar(VOCAB[ids[t]]);
	putchar('\n');
	int steps = end - 1 - np;   /* timed steps: positions np .. end-2 */
	if (steps <= 0)
		return 0;
	double total = 0, q1 = 0, q4 = 0;
	int nq = steps / 4 ? steps / 4 : 1;
	for (int t = np; t < end - 1; t++) {
		total += best[t];
		if (t < np + nq)
			q1 += best[t];
		if (t >= end - 1 - nq)
			q4 += best[t];
	}

	/* the prompt one step at a time, and in one charlm_run (fastest of 5) */
	double by_step = 1e30, by_run = 1e30;
	for (int r = 0; r < REPEATS; r++) {
		double t1 = now();
		charlm_reset(state);
		for (int t = 0; t < np; t++)
			charlm_step(state, &ids[t], logits, ws);
		double t2 = now();
		for (int i = 0; i < T; i++)
			window[i] = i < np ? ids[i] : 0;
		charlm_run(window, full, ws_run);
		double t3 = now();
		by_step = t2 - t1 < by_step ? t2 - t1 : by_step;
		by_run = t3 - t2 < by_run ? t3 - t2 : by_run;
	}

	/* the same continuation by re-running the model on the prefix per token */
	double t0 = now();
	int mismatch = 0;
	for (int t = np; t < end - 1; t++) {
		for (int i = 0; i < T; i++)
			window[i] = i <= t ? ids[i] : 0;   /* causal: padding after t is ignored */
		charlm_run(window, full, ws_run);
		if (temp <= 0 && pick(full + (size_t)t * V, 0) != ids[t + 1])
			mismatch++;
	}
	double rerun = now() - t0;

	printf("time to first token (prompt of %d characters): %.1f us with charlm_prefill "
	       "(chunks of %d), %.1f us one step at a time, %.1f us with charlm_run (%d tokens)\n",
	       np, 1e6 * ttft, CHARLM_PREFILL_CHUNK, 1e6 * by_step, 1e6 * by_run, T);
	printf("step API: %d tokens in %.3f ms: %.0f tokens/s (state %d bytes, workspace %d bytes)\n",
	       steps, 1e3 * total, steps / total, CHARLM_STATE_SIZE, CHARLM_STEP_WORKSPACE_SIZE);
	printf("per-step time: positions %d..%d %.1f us, positions %d..%d %.1f us\n", np,
	       np + nq - 1, 1e6 * q1 / nq, end - 1 - nq, end - 2, 1e6 * q4 / nq);
	printf("re-running charlm_run (%d tokens) per new token: %.0f tokens/s (%.1fx slower)\n", T,
	       steps / rerun, rerun / total);
	if (temp <= 0 && mismatch) {
		printf("greedy continuation differs between step and run at %d positions\n", mismatch);
		return 1;
	}
	free(state);
	free(ws);
	free(ws_run);
	return 0;
}
