/*
 * kernels.c -- time of the runtime's non-GEMM kernels on the ToST models'
 * shapes: the GELU of one MLP tile, LayerNorm over the tokens, and the
 * stride-2 3x3 convolutions of the vision stems (im2col, GEMM, bias and GELU)
 * through both conv kernels.
 *
 *   cc -std=c99 -O2 -march=native -Iruntime bench/kernels.c -lm -o kernels && ./kernels
 *
 * One line per kernel and shape: the median and best of 41 runs (CPU time,
 * after one warm-up), in microseconds.  Build it against another commit's
 * runtime/ (-I that directory) to compare two versions of a kernel (one with
 * runtime/ in folders, as gemm/ and conv/).
 */
#define _POSIX_C_SOURCE 200112L
#include "timing.h"

#include "elementwise/gelu.h"
#include "gemm/gemm.h"
#include "conv/conv.h"
#include "conv/conv_packed.h"
#include "norm/layernorm.h"

#define RUNS 41

static float *filled(int64_t n, float scale)
{
	float *p = alloc64(sizeof(float) * (size_t)n);
	for (int64_t i = 0; p && i < n; i++)
		p[i] = (float)((i * 7919) % 1000 - 500) * scale;
	return p;
}

static void report(const char *what, double *t)
{
	double best = t[0];
	for (int r = 1; r < RUNS; r++)
		best = t[r] < best ? t[r] : best;
	printf("%-40s median %9.1f us  best %9.1f us\n", what, median(t, RUNS) * 1e6, best * 1e6);
}

#define TIME(what, call)                                                                  \
	do {                                                                              \
		double t_[RUNS];                                                          \
		call;                                                                     \
		for (int r_ = 0; r_ < RUNS; r_++) {                                       \
			double t0_ = clk(CLOCK_PROCESS_CPUTIME_ID);                       \
			call;                                                             \
			t_[r_] = clk(CLOCK_PROCESS_CPUTIME_ID) - t0_;                     \
		}                                                                         \
		report(what, t_);                                                         \
	} while (0)

int main(void)
{
	char what[64];
	/* the GELU of one ToST-S MLP tile: 196 tokens x 1536 */
	float *h = filled(196 * 1536, 0.01f);
	if (!h)
		return 1;
	TIME("gelu 196 x 1536", tr_gelu_f32(h, h, 196 * 1536));
	/* LayerNorm over the tokens, d = 384 (ToST-S) and 192 (ToST-T) */
	static const int64_t lns[][2] = {{197, 384}, {197, 192}, {256, 384}};
	for (size_t i = 0; i < sizeof lns / sizeof lns[0]; i++) {
		int64_t rows = lns[i][0], d = lns[i][1];
		float *x = filled(rows * d, 0.01f), *y = filled(rows * d, 0.0f), *sc = filled(d, 0.001f);
		float *st = filled(2 * rows, 0.0f);
		if (!x || !y || !sc || !st)
			return 1;
		snprintf(what, sizeof what, "layernorm %lld x %lld", (long long)rows, (long long)d);
		TIME(what, tr_layernorm_f32(x, sc, sc, y, st, st + rows, rows, d, 1e-6f, 1, 1, 1));
		free(x), free(y), free(sc), free(st);
	}
	/* the stems' 3x3 stride-2 pad-1 convs with bias and GELU: c -> mo
	 * channels on an hw x hw map, through tr_conv_f32 and, on the weight
	 * packed as lower_conv packs it, tr_conv_packed_f32 (which of the two a
	 * model runs: conv_packed in compiler/ops/op_linalg.c) */
	static const int64_t cvs[][3] = {{48, 96, 112}, {96, 192, 56}, {192, 384, 28},
	                                 {3, 48, 224}, {24, 48, 112}, {48, 96, 56},
	                                 {96, 192, 28}};
	for (size_t i = 0; i < sizeof cvs / sizeof cvs[0]; i++) {
		int64_t c = cvs[i][0], mo = cvs[i][1], hw = cvs[i][2], o = hw / 2;
		int64_t p[18] = {1, hw, hw, 1, o, o, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1};
		float *x = filled(c * hw * hw, 0.001f), *w = filled(mo * c * 9, 0.001f);
		float *b = filled(mo, 0.01f), *y = filled(mo * o * o, 0.0f);
		float *s = filled(4 << 20, 0.0f);   /* 16 MB: more than any of these needs */
		if (!x || !w || !b || !y || !s)
			return 1;
		snprintf(what, sizeof what, "conv %lld -> %lld, %lld x %lld, gelu", (long long)c,
		         (long long)mo, (long long)hw, (long long)hw);
		TIME(what, tr_conv_f32(x, w, b, y, s, 1, c, mo, 1, 1, 1, p));
		int64_t kdim = c * 9, mpad = (mo + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
		float *wt = filled(mo * kdim, 0.0f), *wp = filled(kdim * mpad, 0.0f);
		if (!wt || !wp)
			return 1;
		tr_conv_tapmajor(w, wt, mo, c, 9);
		tr_gemm_prepack_f32(wt, 1, kdim, wp, kdim, mo);
		snprintf(what, sizeof what, "  packed (tr_conv_packed_f32)");
		TIME(what, tr_conv_packed_f32(x, wp, b, y, s, 1, c, mo, 1, 1, 1, p));
		free(x), free(w), free(b), free(y), free(s), free(wt), free(wp);
	}
	free(h);
	return 0;
}
