/*
 * digits_logits.c -- print the logits of the digits sample (samples/digits)
 * for the first N test images, one image a line, "%.9g" each, then the
 * accuracy on those images.  run_aarch64.sh builds it with the generated
 * digits.c for x86 (host cc) and for aarch64 (NEON, run under qemu) and
 * compares the two outputs element by element.
 *
 *     digits_logits digits_test.bin [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "digits.h"

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int32_t n;
	if (!f || fread(&n, sizeof n, 1, f) != 1 || n <= 0 || n > 100000) {
		fprintf(stderr, "usage: digits_logits digits_test.bin [N]\n");
		return 2;
	}
	int use = argc > 2 ? atoi(argv[2]) : n;
	if (use <= 0 || use > n)
		use = n;
	float *x = malloc(sizeof(float) * 64 * (size_t)n);      /* (n, 1, 8, 8) */
	uint8_t *y = malloc((size_t)n);                          /* (n) labels */
	if (!x || !y || fread(x, sizeof(float) * 64, (size_t)n, f) != (size_t)n ||
	    fread(y, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: truncated\n", argv[1]);
		return 2;
	}
	fclose(f);
	static unsigned char workspace[DIGITS_WORKSPACE_SIZE + 64] __attribute__((aligned(64)));
	int correct = 0;
	for (int i = 0; i < use; i++) {
		float logits[10];                                    /* (1, 10) */
		if (digits_run(x + 64 * i, logits, workspace) != 0) {
			fprintf(stderr, "digits_run failed\n");
			return 1;
		}
		int best = 0;
		for (int k = 0; k < 10; k++) {
			printf("%s%.9g", k ? " " : "", (double)logits[k]);
			if (logits[k] > logits[best])
				best = k;
		}
		printf("\n");
		correct += best == y[i];
	}
	printf("accuracy %d/%d\n", correct, use);
	free(x);
	free(y);
	return 0;
}
