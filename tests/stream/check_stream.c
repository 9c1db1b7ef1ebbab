/*
 * check_stream.c -- the step API of a generated causal model against its own
 * full-sequence entry point.  Compiled together with a model generated as
 * `tostc MODEL -o model.c --name model` (one input: token ids (B, T); output
 * 0: logits (B, T, V)).
 *
 *   check_stream [seed]
 *
 * Checks, for a random token sequence of the full length T ("close" below:
 * max |diff| <= 1e-4 * max(1, max |reference|), per position; for a state,
 * per statistic):
 *   1. step t's logits are close to model_run's at position t, every t < T;
 *   2. after model_reset the same steps give bitwise the same logits;
 *   3. prefill(k) + steps gives what steps alone give (close) at every
 *      position, for k = 1, C - 1, C, C + 1, C + 2 and T (C =
 *      MODEL_PREFILL_CHUNK; a short last chunk goes token by token),
 *      and the state after prefill(k) is close to the state after k steps;
 *      so do two prefills in a row (the second from a position not a
 *      multiple of C) and a prefill with the static workspace (NULL);
 *   4. prefill_all writes logits close to the steps' at every position, from
 *      position 0 and from a later one, and for a chunk and one token;
 *   5. step_batch of more sequences than MODEL_STEP_BATCH, at different
 *      positions, one of them at the limit and one reaching it: each stepped
 *      sequence's logits and state are close to a single step's, the full
 *      ones are left alone and the call returns MODEL_ERR_FULL; so are those
 *      of 1 to MODEL_STEP_BATCH + 2 sequences with room (every batch graph);
 *      step_batch of one sequence is bitwise a step;
 *   6. a step or prefill past T returns MODEL_ERR_FULL and changes nothing;
 *   7. no function writes past MODEL_STATE_SIZE bytes of a state or the
 *      workspace size the header gives for it (guard bytes after each);
 *      a digest of prefill_all's and step_batch's results is printed (the
 *      OpenMP builds must give bitwise the same, tests/stream/run_stream.py);
 *   8. timing (printed): time per step over the first and last quarter of
 *      positions (flat when they agree), and the time to take T tokens with
 *      prefill, with T steps and with model_run.
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
#define C MODEL_PREFILL_CHUNK
#define NSEQ (MODEL_STEP_BATCH + 2)   /* two passes of step_batch */
#define S MODEL_STATE_SIZE
#define GUARD 256
#define TOL 1e-4

static int failures;
static double worst;   /* the largest relative difference seen in a close check */
static unsigned long long digest = 1469598103934665603ULL;   /* FNV-1a 64 of the results */

static void mix(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		digest = (digest ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
}

static void fail(const char *what, long long t, double v)
{
	if (failures++ < 30)
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

/* max |got - ref| / max(1, max |ref|) over n values */
static double rel_diff(const float *got, const float *ref, int n)
{
	double m = 1, d = 0;
	for (int i = 0; i < n; i++) {
		m = fabs(ref[i]) > m ? fabs(ref[i]) : m;
		d = fabs(ref[i] - got[i]) > d ? fabs(ref[i] - got[i]) : d;
	}
	return d / m;
}

/* logits of one position (B rows of V), close to ref */
static void check_logits(const char *what, long long t, const float *got, const float *ref)
{
	for (int b = 0; b < B; b++) {
		double d = rel_diff(got + b * V, ref + b * V, V);
		worst = d > worst ? d : worst;
		if (!(d <= TOL))
			fail(what, t, d);
	}
}

/* a state close to ref: the same position, every statistic within TOL of
 * max(1, |reference|) */
static void check_state(const char *what, long long t, const unsigned char *got,
                        const unsigned char *ref)
{
	const float *g = (const float *)(got + 64), *r = (const float *)(ref + 64);
	double d = 0;
	if (*(const int64_t *)got != *(const int64_t *)ref)
		fail(what, t, (double)*(const int64_t *)got);
	for (int i = 0; i < (S - 64) / 4; i++) {
		double e = fabs(g[i] - r[i]) / (fabs(r[i]) > 1 ? fabs(r[i]) : 1);
		d = e > d ? e : d;
	}
	worst = d > worst ? d : worst;
	if (!(d <= TOL))
		fail(what, t, d);
}

/* n bytes, 64-byte aligned, filled with 0xff (NaN as floats), then GUARD
 * bytes of 0xA5 that nothing may write */
static unsigned char *guarded(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n + GUARD))
		exit(1);
	memset(p, 0xff, n);
	memset((unsigned char *)p + n, 0xA5, GUARD);
	return p;
}

static void check_guard(const unsigned char *p, size_t n, const char *what)
{
	for (int i = 0; i < GUARD; i++)
		if (p[n + i] != 0xA5) {
			fail(what, i, 0);
			return;
		}
}

/* the state after t steps, and the logits of step t */
static int64_t saved[T + 1][(S + 7) / 8];
static float logits[T][B * V];
#define SAVED(t) ((unsigned char *)saved[t])

/* k tokens by prefill from a reset state (two prefills, of a then k - a,
 * when a > 0; the workspace `ws`), then steps to T: all close to the steps */
static void prefill_then_steps(const int64_t *tm, int a, int k, unsigned char *state,
                               unsigned char *ws, const char *what)
{
	static float got[B * V];
	model_reset(state);
	if (a > 0 && model_prefill(state, tm, a, got, ws) != 0)
		fail("first prefill returned nonzero", a, 0);
	if (model_prefill(state, tm + a * B, k - a, got, ws) != 0)
		fail("prefill returned nonzero", k, 0);
	if (model_position(state) != k)
		fail("position after prefill", k, (double)model_position(state));
	check_logits(what, k - 1, got, logits[k - 1]);
	check_state(what, k, state, SAVED(k));
	for (int t = k; t < T; t++) {
		model_step(state, tm + t * B, got, ws);
		check_logits(what, t, got, logits[t]);
	}
}

int main(int argc, char **argv)
{
	static int64_t tokens[B * T], tm[T * B];   /* (B, T) for run; (T, B) for steps */
	static float full[B * T * V], again[B * V], all[T][B * V];
	static int64_t state_buf[(S + GUARD) / 8 + 8], copy_buf[S / 8 + 1];
	unsigned char *state = (unsigned char *)state_buf, *copy = (unsigned char *)copy_buf;
	unsigned char *ws_run = guarded(MODEL_WORKSPACE_SIZE);
	unsigned char *ws = guarded(MODEL_STEP_ONLY_WORKSPACE_SIZE);
	unsigned char *ws_pre = guarded(MODEL_PREFILL_WORKSPACE_SIZE);
	unsigned char *ws_bat = guarded(MODEL_BATCH_WORKSPACE_SIZE);
	double max_rel = 0;

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
	memset(state + S, 0xA5, GUARD);

	/* 1. step t == run at t */
	model_reset(state);
	memcpy(SAVED(0), state, S);
	for (int t = 0; t < T; t++) {
		if (model_position(state) != t)
			fail("position", t, (double)model_position(state));
		if (model_step(state, tm + t * B, logits[t], ws) != 0)
			fail("step returned nonzero", t, 0);
		memcpy(SAVED(t + 1), state, S);
		for (int b = 0; b < B; b++) {
			static float ref[V];
			for (int v = 0; v < V; v++)
				ref[v] = full[((size_t)b * T + t) * V + v];
			double d = rel_diff(logits[t] + b * V, ref, V);
			if (!(d <= TOL))
				fail("step != run", t, d);
			max_rel = d > max_rel ? d : max_rel;
		}
	}
	/* 6. the position limit */
	memcpy(copy, state, S);
	if (model_step(state, tm, again, ws) != MODEL_ERR_FULL)
		fail("step past the limit did not return MODEL_ERR_FULL", T, 0);
	if (memcmp(copy, state, S) != 0)
		fail("step past the limit changed the state", T, 0);

	/* 2. reset reproduces bitwise */
	model_reset(state);
	for (int t = 0; t < T; t++) {
		model_step(state, tm + t * B, again, ws);
		if (memcmp(again, logits[t], sizeof again) != 0)
			fail("not reproducible after reset", t, 0);
	}

	/* 3. prefill(k) + steps == steps, k at the chunk's edges */
	int ks[6] = {1, C - 1, C, C + 1, C + 2, T};
	for (int i = 0; i < 6; i++)
		if (ks[i] >= 1 && ks[i] <= T && (i == 0 || ks[i] != ks[i - 1]))
			prefill_then_steps(tm, 0, ks[i], state, ws_pre, "prefill + steps differ from steps");
	if (T >= 4)   /* from a position that is not a multiple of the chunk */
		prefill_then_steps(tm, 3, 3 + C + 2 <= T ? 3 + C + 2 : T, state, ws_pre,
		                   "two prefills + steps differ from steps");
	prefill_then_steps(tm, 0, T, state, NULL, "prefill with the static workspace differs");
	model_reset(state);
	model_prefill(state, tm, 3 < T ? 3 : T, again, ws_pre);
	memcpy(copy, state, S);
	if (model_prefill(state, tm, T, again, ws_pre) != MODEL_ERR_FULL)
		fail("prefill past the limit did not return MODEL_ERR_FULL", T + 3, 0);
	if (model_prefill_all(state, tm, T, all[0], ws_pre) != MODEL_ERR_FULL)
		fail("prefill_all past the limit did not return MODEL_ERR_FULL", T + 3, 0);
	if (memcmp(copy, state, S) != 0)
		fail("prefill past the limit changed the state", T, 0);
	model_reset(state);
	if (model_prefill(state, tm, 0, again, ws_pre) != 0 || model_position(state) != 0)
		fail("prefill of 0 tokens", 0, 0);

	/* 4. prefill_all: every position's logits, from 0 and from p0 */
	int p0 = T > 5 ? 5 : T - 1;
	model_reset(state);
	if (model_prefill_all(state, tm, T, all[0], ws_pre) != 0)
		fail("prefill_all returned nonzero", T, 0);
	for (int t = 0; t < T; t++)
		check_logits("prefill_all differs from the steps", t, all[t], logits[t]);
	mix(all, sizeof all);
	mix(state, S);
	check_state("state after prefill_all", T, state, SAVED(T));
	memcpy(state, SAVED(p0), S);
	memset(all, 0xff, sizeof all);
	if (model_prefill_all(state, tm + p0 * B, T - p0, all[0], ws_pre) != 0)
		fail("prefill_all from a position returned nonzero", p0, 0);
	for (int t = p0; t < T; t++)
		check_logits("prefill_all from a position differs from the steps", t, all[t - p0],
		             logits[t]);
	check_state("state after prefill_all from a position", T, state, SAVED(T));
	if (C + 1 <= T) {   /* a chunk and a token: the last goes by step */
		model_reset(state);
		if (model_prefill_all(state, tm, C + 1, all[0], ws_pre) != 0)
			fail("prefill_all of a chunk and a token returned nonzero", C + 1, 0);
		for (int t = 0; t <= C; t++)
			check_logits("prefill_all of a chunk and a token differs from the steps", t, all[t],
			             logits[t]);
		check_state("state after prefill_all of a chunk and a token", C + 1, state,
		            SAVED(C + 1));
	}

	/* 5. step_batch: sequence 0 is full, sequence 1 becomes full after one
	 * round, the others at scattered positions */
	static int64_t seq_buf[NSEQ][(S + GUARD) / 8 + 8];
	static float out[NSEQ][B * V];
	static int64_t toks[NSEQ * B];
	void *seqs[NSEQ];
	int pos[NSEQ];
	for (int j = 0; j < NSEQ; j++) {
		seqs[j] = seq_buf[j];
		pos[j] = j == 0 ? T : j == 1 ? T - 1 : (j * 7 + 2) % T;
		memcpy(seqs[j], SAVED(pos[j]), S);
		memset((unsigned char *)seqs[j] + S, 0xA5, GUARD);
	}
	for (int round = 0; round < 3; round++) {
		int any_full = 0;
		for (int j = 0; j < NSEQ; j++) {
			for (int b = 0; b < B; b++)
				toks[j * B + b] = pos[j] < T ? tm[pos[j] * B + b] : 0;
			any_full |= pos[j] >= T;
		}
		memset(out, 0xff, sizeof out);
		int r = model_step_batch(seqs, toks, NSEQ, out[0], ws_bat);
		if (r != (any_full ? MODEL_ERR_FULL : 0))
			fail("step_batch's return value", round, r);
		for (int j = 0; j < NSEQ; j++) {
			unsigned char *sj = seqs[j];
			if (pos[j] >= T) {
				unsigned char nan[B * V * 4];
				memset(nan, 0xff, sizeof nan);
				if (memcmp(sj, SAVED(T), S) != 0)
					fail("step_batch changed a full sequence's state", j, 0);
				if (memcmp(out[j], nan, sizeof nan) != 0)
					fail("step_batch wrote a full sequence's logits", j, 0);
				continue;
			}
			check_logits("step_batch's logits differ from a step's", pos[j], out[j],
			             logits[pos[j]]);
			check_state("step_batch's state differs from a step's", pos[j] + 1, sj,
			            SAVED(pos[j] + 1));
			memcpy(sj, SAVED(pos[j] + 1), S);   /* carry on from the steps' state */
			pos[j]++;
		}
		for (int j = 0; j < NSEQ; j++)
			check_guard(seqs[j], S, "step_batch wrote past MODEL_STATE_SIZE");
	}
	for (int nn = 1; nn <= NSEQ; nn++) {   /* none full: every size of pass, returns 0 */
		for (int j = 0; j < nn; j++) {
			pos[j] = (j * 5 + nn) % (T > 1 ? T - 1 : 1);
			memcpy(seqs[j], SAVED(pos[j]), S);
			for (int b = 0; b < B; b++)
				toks[j * B + b] = tm[pos[j] * B + b];
		}
		if (model_step_batch(seqs, toks, nn, out[0], ws_bat) != 0)
			fail("step_batch of sequences with room returned nonzero", nn, 0);
		mix(out, sizeof(float) * B * V * (size_t)nn);
		for (int j = 0; j < nn; j++) {
			check_logits("step_batch's logits differ from a step's", pos[j], out[j],
			             logits[pos[j]]);
			check_state("step_batch's state differs from a step's", pos[j] + 1, seqs[j],
			            SAVED(pos[j] + 1));
		}
	}
	memcpy(seqs[2], SAVED(p0), S);
	if (model_step_batch(seqs + 2, tm + p0 * B, 1, out[0], ws_bat) != 0 ||
	    memcmp(out[0], logits[p0], sizeof logits[p0]) != 0 ||
	    memcmp(seqs[2], SAVED(p0 + 1), S) != 0)
		fail("step_batch of one sequence is not a step", p0, 0);
	if (model_step_batch(seqs, toks, 0, out[0], ws_bat) != 0)
		fail("step_batch of no sequence returned nonzero", 0, 0);

	/* 7. nothing beyond the sizes the header gives */
	check_guard(state, S, "state written past MODEL_STATE_SIZE");
	check_guard(ws, MODEL_STEP_ONLY_WORKSPACE_SIZE, "step wrote past its workspace size");
	check_guard(ws_pre, MODEL_PREFILL_WORKSPACE_SIZE, "prefill wrote past its workspace size");
	check_guard(ws_bat, MODEL_BATCH_WORKSPACE_SIZE, "step_batch wrote past its workspace size");
	check_guard(ws_run, MODEL_WORKSPACE_SIZE, "model_run wrote past its workspace size");

	/* 8. time per step at each position of the first and last quarter: from
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
	for (int t = 0; t < T; t++) {
		if (t >= nq && t < T - nq)
			continue;
		double best = 1e30;
		for (int k = 0; k < 9; k++) {
			double t0 = now();
			for (int r = 0; r < reps; r++) {
				memcpy(state, SAVED(t), S);
				model_step(state, tm + t * B, again, ws);
			}
			double dt = (now() - t0) / reps;
			best = dt < best ? dt : best;
		}
		if (t < nq)
			q1 += best;
		else
			q4 += best;
	}
	double run_best = 1e30, pre_best = 1e30, steps_best = 1e30;
	for (int k = 0; k < 3; k++) {
		double t0 = now();
		model_run(tokens, full, ws_run);
		double t1 = now();
		model_reset(state);
		model_prefill(state, tm, T, again, ws_pre);
		double t2 = now();
		model_reset(state);
		for (int t = 0; t < T; t++)
			model_step(state, tm + t * B, again, ws);
		double t3 = now();
		run_best = t1 - t0 < run_best ? t1 - t0 : run_best;
		pre_best = t2 - t1 < pre_best ? t2 - t1 : pre_best;
		steps_best = t3 - t2 < steps_best ? t3 - t2 : steps_best;
	}
	printf("step vs run: max relative difference %.3g over %d positions x %d rows; "
	       "prefill, prefill_all, step_batch vs steps: %.3g\n", max_rel, T, B, worst);
	printf("state %d bytes; workspace: step %d, prefill %d (chunks of %d), step_batch %d "
	       "(%d sequences), run %d bytes\n", S, MODEL_STEP_ONLY_WORKSPACE_SIZE,
	       MODEL_PREFILL_WORKSPACE_SIZE, C, MODEL_BATCH_WORKSPACE_SIZE, MODEL_STEP_BATCH,
	       MODEL_WORKSPACE_SIZE);
	printf("time per step: positions 0..%d %.2f us, positions %d..%d %.2f us\n", nq - 1,
	       1e6 * q1 / nq, T - nq, T - 1, 1e6 * q4 / nq);
	printf("%d tokens: prefill %.2f us, %d steps %.2f us, model_run %.2f us\n", T,
	       1e6 * pre_best, T, 1e6 * steps_best, 1e6 * run_best);
	printf("digest %016llx (prefill_all's logits and state, step_batch's logits)\n", digest);
	printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
	free(ws_run);
	free(ws);
	free(ws_pre);
	free(ws_bat);
	return failures != 0;
}
