/*
 * charlm_logits.c -- print the logits of the charlm sample (samples/charlm,
 * idx i64 (1, 128) -> logits f32 (1, 128, 76)) for NSEQ fixed pseudo-random
 * token sequences: one line per position, 76 values "%.9g".  128 rows make
 * every GEMM of the model run whole MR x NR micro-tiles on every path.
 * run_aarch64.sh builds it with the generated charlm.c for x86 (host cc) and
 * for aarch64 (NEON, run under qemu) and compares the two outputs.
 */
#include <stdint.h>
#include <stdio.h>

#include "charlm.h"

#define NSEQ 2

int main(void)
{
	static unsigned char workspace[CHARLM_WORKSPACE_SIZE + 64] __attribute__((aligned(64)));
	static int64_t idx[CHARLM_INPUT0_SIZE];          /* (1, 128) */
	static float logits[CHARLM_OUTPUT0_SIZE];        /* (1, 128, 76) */
	const int64_t vocab = 76, t = CHARLM_INPUT0_SIZE;
	unsigned seed = 12345;
	for (int s = 0; s < NSEQ; s++) {
		for (int64_t i = 0; i < t; i++) {
			seed = seed * 1103515245u + 12345u;
			idx[i] = (int64_t)((seed >> 8) % (unsigned)vocab);
		}
		if (charlm_run(idx, logits, workspace) != 0) {
			fprintf(stderr, "charlm_run failed\n");
			return 1;
		}
		for (int64_t i = 0; i < t; i++)
			for (int64_t k = 0; k < vocab; k++)
				printf("%.9g%c", (double)logits[i * vocab + k], k + 1 < vocab ? ' ' : '\n');
	}
	return 0;
}
