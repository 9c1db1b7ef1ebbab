/*
 * opprof_driver.c -- runs a model.c instrumented by bench/opprof.py: one
 * warm-up, then RUNS runs with the per-node timers zeroed after the warm-up,
 * and prints each node's total seconds (model order), one per line.
 *
 *   cc -O2 -march=native -I GENDIR -DOP_NODES=n bench/opprof_driver.c GENDIR/opprof.c -lm
 *   ./opprof INPUT.bin RUNS
 */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "timing.h"

extern double op_time[];

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s INPUT.bin RUNS\n", argv[0]);
		return 2;
	}
	int runs = atoi(argv[2]);
	size_t isz = INPUT0_BYTES(MODEL);
	void *in = read_input(argv[1], isz), *ws = alloc64(MODEL_WORKSPACE_SIZE);
	float *out = malloc((size_t)MODEL_OUTPUT0_SIZE * 4);
	if (!in || !ws || !out)
		return 2;
	const void *ins[1] = {in};
	void *outs[1] = {out};
	model_run_v(ins, outs, ws);
	for (int i = 0; i < OP_NODES; i++)
		op_time[i] = 0.0;
	for (int r = 0; r < runs; r++)
		model_run_v(ins, outs, ws);
	for (int i = 0; i < OP_NODES; i++)
		printf("%.9f\n", op_time[i]);
	return 0;
}
