/*
 * main.c -- classify the digits test split with the tostc-generated model.
 *
 * Reads digits_test.bin (written by train.py: int32 n, n x 64 float32 pixels
 * scaled to [0, 1], n uint8 labels), runs digits_run() on every image and
 * prints the accuracy, which equals PyTorch's on the same split (expected.txt).
 * Build: cc -O2 main.c digits.c -lm   (digits.c/.h from tostc, see run.sh)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "digits.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "digits_test.bin";
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	int32_t n;
	if (fread(&n, sizeof n, 1, f) != 1 || n <= 0 || n > 100000) {
		fprintf(stderr, "%s: bad header\n", path);
		return 1;
	}
	float *x = malloc(sizeof(float) * 64 * (size_t)n);      /* (n, 1, 8, 8) */
	uint8_t *y = malloc((size_t)n);                          /* (n) labels */
	if (!x || !y || fread(x, sizeof(float) * 64, (size_t)n, f) != (size_t)n ||
	    fread(y, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: truncated\n", path);
		return 1;
	}
	fclose(f);

	static unsigned char workspace[DIGITS_WORKSPACE_SIZE + 64]
		__attribute__((aligned(64)));
	int correct = 0;
	for (int i = 0; i < n; i++) {
		float logits[10];                                    /* (1, 10) */
		if (digits_run(x + 64 * i, logits, workspace) != 0) {
			fprintf(stderr, "digits_run failed\n");
			return 1;
		}
		int best = 0;
		for (int k = 1; k < 10; k++)
			if (logits[k] > logits[best])
				best = k;
		correct += best == y[i];
		if (i == 0) {
			printf("logits of test image 0:");
			for (int k = 0; k < 10; k++)
				printf(" %.6g", logits[k]);
			printf("\n");
		}
	}
	printf("test accuracy: %d/%d = %.4f\n", correct, n, (double)correct / n);
	free(x);
	free(y);
	return 0;
}
