/*
 * main.c -- two models compiled by tostc in one C program (CMakeLists.txt
 * builds it): digits classifies the test split of samples/digits, then
 * charlm continues a prompt one character at a time with its step API.
 *
 *   sample          prints digits' logits for image 0 and its accuracy, then
 *                   charlm's greedy continuation and its last logits
 *
 * The API is the same in every weights mode but extern, where each call
 * takes the weights too: the macros below give those calls the names of
 * the others, so the rest of the program reads the same in all three.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charlm.h"
#include "digits.h"
#include "load_weights.h"
#include "vocab.h"

#ifdef DIGITS_WEIGHTS_SIZE   /* WEIGHTS extern: loaded in main() */
static void *digits_w, *charlm_w;
#define digits_run(x, y, ws) digits_run_w(digits_w, DIGITS_WEIGHTS_SIZE, x, y, ws)
#define charlm_prefill(...) charlm_prefill_w(charlm_w, CHARLM_WEIGHTS_SIZE, __VA_ARGS__)
#define charlm_step(...) charlm_step_w(charlm_w, CHARLM_WEIGHTS_SIZE, __VA_ARGS__)
#endif

/* The test split: int32 n, n x 64 floats (8x8 images), n labels. */
static int classify(const char *path)
{
	FILE *f = fopen(path, "rb");
	int32_t n = 0;
	if (!f || fread(&n, sizeof n, 1, f) != 1 || n <= 0 || n > 100000) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	float *x = malloc(sizeof(float) * DIGITS_INPUT0_SIZE * (size_t)n);
	uint8_t *labels = malloc((size_t)n);
	void *ws = aligned_alloc(64, (DIGITS_WORKSPACE_SIZE + 63) / 64 * 64);
	if (!x || !labels || !ws || fread(x, sizeof(float) * DIGITS_INPUT0_SIZE, (size_t)n, f) != (size_t)n ||
	    fread(labels, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: truncated\n", path);
		return 1;
	}
	fclose(f);
	int correct = 0;
	for (int i = 0; i < n; i++) {
		float logits[DIGITS_OUTPUT0_SIZE];
		if (digits_run(x + DIGITS_INPUT0_SIZE * i, logits, ws) != 0)
			return 1;
		int best = 0;
		for (int k = 1; k < DIGITS_OUTPUT0_SIZE; k++)
			best = logits[k] > logits[best] ? k : best;
		correct += best == labels[i];
		if (i == 0) {
			printf("digits: logits of image 0:");
			for (int k = 0; k < DIGITS_OUTPUT0_SIZE; k++)
				printf(" %.9g", logits[k]);
			printf("\n");
		}
	}
	printf("digits: accuracy %d/%d\n", correct, n);
	free(x), free(labels), free(ws);
	return 0;
}

/* Greedy generation: the prompt through charlm_prefill, then a step per
 * new character, each from the previous step's logits. */
static int generate(const char *prompt, int n)
{
	int64_t ids[CHARLM_MAX_POSITIONS];
	float logits[CHARLM_STEP_OUTPUT0_SIZE];
	void *state = aligned_alloc(64, (CHARLM_STATE_SIZE + 63) / 64 * 64);
	void *ws = aligned_alloc(64, (CHARLM_STEP_WORKSPACE_SIZE + 63) / 64 * 64);
	int np = 0;
	for (const char *p = prompt; *p && np < CHARLM_MAX_POSITIONS - n; p++)
		if (strchr(VOCAB, *p))
			ids[np++] = strchr(VOCAB, *p) - VOCAB;
	if (!state || !ws || np == 0)
		return 1;
	charlm_reset(state);
	if (charlm_prefill(state, ids, np, logits, ws) != 0)
		return 1;
	printf("charlm: %s", prompt);
	for (int t = np; t < np + n; t++) {
		int best = 0;
		for (int v = 1; v < CHARLM_STEP_OUTPUT0_SIZE; v++)
			best = logits[v] > logits[best] ? v : best;
		ids[t] = best;
		putchar(VOCAB[best] == '\n' ? ' ' : VOCAB[best]);
		if (charlm_step(state, &ids[t], logits, ws) != 0)
			return 1;
	}
	printf("\ncharlm: last logits: %.9g %.9g %.9g %.9g\n", logits[0], logits[1], logits[2],
	       logits[3]);
	free(state), free(ws);
	return 0;
}

int main(void)
{
#ifdef DIGITS_WEIGHTS_SIZE
	digits_w = load_weights(SAMPLE_DIGITS_WEIGHTS, DIGITS_WEIGHTS_SIZE, digits_weights_check);
	charlm_w = load_weights(SAMPLE_CHARLM_WEIGHTS, CHARLM_WEIGHTS_SIZE, charlm_weights_check);
#endif
	if (classify(SAMPLE_DIGITS_TEST) != 0 || generate("This License", 50) != 0) {
		fprintf(stderr, "sample: a model call failed\n");
		return 1;
	}
	return 0;
}
