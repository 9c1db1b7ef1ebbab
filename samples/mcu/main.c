/*
 * main.c -- the digits classifier on a Cortex-M4F: classify the test digits
 * the image carries, print the accuracy and the image's footprint.
 *
 * The test split (samples/digits/digits_test.bin: int32 n, n x 64 float32
 * pixels, n uint8 labels) is linked in as read-only data (run.sh: objcopy).
 * The model runs on its static workspace (workspace NULL), so the image has
 * no heap use of its own; printf goes to the host through semihosting.
 * The same file builds against the C backend's digits.c and the LLVM
 * backend's digits.o (run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "digits.h"

extern const unsigned char _binary_digits_test_bin_start[], _binary_digits_test_bin_end[];
extern char __flash_end[], __data_start[], __bss_end__[];

int main(void)
{
	const unsigned char *data = _binary_digits_test_bin_start;
	int32_t n;
	memcpy(&n, data, sizeof n);
	const float *x = (const float *)(data + 4);             /* (n, 1, 8, 8) */
	const uint8_t *y = data + 4 + 64 * sizeof(float) * (size_t)n;   /* (n) labels */
	int correct = 0;
	for (int i = 0; i < n; i++) {
		float logits[10];                                    /* (1, 10) */
		if (digits_run(x + 64 * i, logits, NULL) != 0) {
			printf("digits_run failed\n");
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
				printf(" %.6g", (double)logits[k]);
			printf("\n");
		}
	}
	printf("test accuracy: %d/%d = %.4f\n", (int)correct, (int)n, (double)correct / n);
	printf("footprint: flash %lu bytes (%lu of them the test digits), "
	       "static RAM %lu bytes (%lu of them the model's workspace)\n",
	       (unsigned long)(uintptr_t)__flash_end,
	       (unsigned long)(_binary_digits_test_bin_end - _binary_digits_test_bin_start),
	       (unsigned long)(__bss_end__ - __data_start), (unsigned long)DIGITS_WORKSPACE_SIZE);
	return 0;
}
