/*
 * paths_test.c -- the runtime's compile-time fast paths against exact
 * references.  tests.cmake builds this file once per target flag set (plain
 * -O2, -DTR_NO_SIMD, -mavx2 -mfma, -march=native ...), so every micro-kernel
 * (AVX-512, AVX2+FMA, plain C99) is checked on the machine that can run it.
 *
 * GEMM: tr_gemm_f32, and tr_gemm_packed_f32 on a weight packed by
 * tr_gemm_prepack_f32 (as the compiler packs constant weights), on odd sizes (m = 1 .. 203 around every MR / MC edge,
 * k around 384 and KC (1536), n around NR / NC), both transposes, alpha, accumulate, against
 * a double-precision triple loop: |got - ref| <= 1e-5 * sum_p |a b| + 1e-6.
 * The packing scratch is exactly tr_gemm_pack_bytes (runtime/gemm/config.h,
 * as the compiler sizes it) and guarded: a kernel writing past it fails the test.
 * Conv: tr_conv_f32 and tr_conv_packed_f32 on odd shapes (groups, strides, pads, dilation, 1x1,
 * 1-D, 3-D, kdim > KC) against a direct double loop, scratch guarded the same way.
 * GELU: tr_gelu_f32 against x * (1 + erf(x / sqrt 2)) / 2 in double, within
 * 3e-7 * (1 + |ref|) on the vector paths (their piecewise erf) and 2e-6 on
 * the plain one (the rational erf), and NaN, +-inf as that formula gives them.
 * LayerNorm: tr_layernorm_f32 (its sums are this path's own vector chains)
 * against a two-pass double reference for every d in 1 .. 140 and 383 .. 385,
 * within 1e-5 * (1 + |ref|).
 * ProjContract: tr_proj_contract_f32 against double on row widths around
 * 16 and term counts around 4, every bias mode.
 * Attention: tr_attention_f32 (its softmax rows on this path's vectors, its
 * products on this path's micro-kernel) on odd sizes, one and several key
 * tiles, with and without a mask with -inf scores, against double.
 * Epilogues: tr_gemm_packed_start_f32 and tr_mlp_block_f32 (bias, GELU,
 * LayerScale, residual applied per output tile) bitwise equal to the separate
 * fill, accumulate and elementwise passes they replace (on this path's tile
 * widths, so the vectorised epilogue loops are the ones checked).
 * `paths_test --quick` (the aarch64 builds run under qemu, tests/paths/
 * run_aarch64.sh) runs a third of the channels-last cases (every shape
 * still), skips the GEMM cases with m * k * n > 10^6 and adds four
 * that cross MC, KC and NC at once: every size edge is still crossed, at a
 * tenth of the arithmetic.
 * Channels last: tr_conv_nhwc_f32 and the direct depthwise tr_dwconv_nhwc_f32
 * (3x3 and 5x5, strides 1 and 2, odd channel counts, borders) with every
 * fused activation and the residual against a double loop, the fused
 * epilogue bitwise equal to tr_act_apply after the fact; the channels-last
 * pools bitwise equal to the channels-first ones; tr_sigmoid_span.
 * Exit status 0 when everything passes; prints the path it tested.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise/gelu.h"
#include "gemm/gemm.h"
#include "gemm/proj_contract.h"
#include "conv/conv.h"
#include "conv/conv_packed.h"
#include "conv/conv_nhwc.h"
#include "conv/dwconv.h"
#include "pool/pool.h"
#include "pool/pool_nhwc.h"
#include "attention/attention.h"
#include "norm/layernorm.h"
#include "mlp/mlp.h"

static unsigned seed = 12345;
static float rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static int fails;

static void check_gemm(int64_t m, int64_t k, int64_t n, int ta, int tb, float alpha, int acc,
                       int packed)
{
	float *a = malloc(sizeof(float) * (size_t)(m * k + 1));
	float *b = malloc(sizeof(float) * (size_t)(k * n + 1));
	float *y = malloc(sizeof(float) * (size_t)(m * n + 1));
	float *y0 = malloc(sizeof(float) * (size_t)(m * n + 1));
	int64_t pb = tr_gemm_pack_bytes(packed && m < 8 ? 8 : m, k, n), guard = 64;
	int64_t npad = (n + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	float *bp = malloc(sizeof(float) * (size_t)(k * npad + 1));
	void *raw;
	if (posix_memalign(&raw, 64, (size_t)(pb + guard * 4)))
		exit(2);
	float *pack = raw;
	for (int64_t i = 0; i < m * k; i++)
		a[i] = rnd();
	for (int64_t i = 0; i < k * n; i++)
		b[i] = rnd();
	for (int64_t i = 0; i < m * n; i++)
		y[i] = y0[i] = rnd();
	for (int64_t i = 0; i < guard; i++)
		pack[pb / 4 + i] = 12345.0f;
	if (packed) {
		/* the weight packed as the compiler does (op_linalg.c linalg_prepack) */
		tr_gemm_prepack_f32(b, tb ? 1 : n, tb ? k : 1, bp, k, n);
		tr_gemm_packed_f32(a, bp, y, pack, m, k, n, ta, alpha, acc);
	} else {
		tr_gemm_f32(a, b, y, pack, m, k, n, ta, tb, alpha, acc);
	}
	for (int64_t i = 0; i < guard; i++)
		if (pack[pb / 4 + i] != 12345.0f) {
			printf("FAIL gemm %lldx%lldx%lld: wrote past the packing scratch\n", (long long)m,
			       (long long)k, (long long)n);
			fails++;
			break;
		}
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double s = 0.0, mag = 0.0;
			for (int64_t p = 0; p < k; p++) {
				double av = ta ? a[p * m + i] : a[i * k + p];
				double bv = tb ? b[j * k + p] : b[p * n + j];
				s += av * bv;
				mag += fabs(av * bv);
			}
			double ref = alpha * s + (acc ? y0[i * n + j] : 0.0);
			double tol = 1e-5 * fabs(alpha) * mag + 1e-6 * (1.0 + fabs(ref));
			if (!(fabs(y[i * n + j] - ref) <= tol)) {
				printf("FAIL gemm%s %lldx%lldx%lld ta %d tb %d alpha %g acc %d: y[%lld][%lld] = "
				       "%.8g, want %.8g\n", packed ? " (prepacked B)" : "", (long long)m,
				       (long long)k, (long long)n, ta, tb, (double)alpha, acc, (long long)i,
				       (long long)j, (double)y[i * n + j], ref);
				fails++;
				goto out;
			}
		}
out:
	free(a), free(b), free(bp), free(y), free(y0), free(raw);
}

static float *rvec(int64_t n)
{
	float *v = malloc(sizeof(float) * (size_t)(n + 1));
	for (int64_t i = 0; i < n; i++)
		v[i] = rnd();
	return v;
}

static float *packed(const float *w, int64_t k, int64_t n)
{
	float *p = malloc(sizeof(float) * (size_t)(k * ((n + 31) / 32 * 32)));
	tr_gemm_prepack_f32(w, n, 1, p, k, n);
	return p;
}

/* start / bias / GELU epilogue == residual or bias fill, then the accumulating
 * GEMM, then the GELU pass */
static void check_start(int64_t m, int64_t k, int64_t n, int has_bias, int has_start, int gelu)
{
	float *a = rvec(m * k), *w = rvec(k * n), *bias = rvec(n), *st = rvec(m * n);
	float *y = rvec(m * n), *ref = rvec(m * n), *wp = packed(w, k, n);
	float *pack = malloc((size_t)tr_gemm_pack_bytes(m, k, n));
	if (has_start)
		tr_gemm_residual_f32(bias, st, ref, m, n, 1, n, 0.75f, has_bias);
	else
		tr_gemm_bias_f32(bias, ref, m, n, 1, n, 0.75f);
	tr_gemm_packed_f32(a, wp, ref, pack, m, k, n, 0, 1.5f, 1);
	if (gelu)
		tr_gelu_f32(ref, ref, m * n);
	tr_gemm_packed_start_f32(a, wp, bias, st, y, pack, m, k, n, 0, 1.5f, 0.75f, has_bias,
	                         has_start, gelu);
	if (memcmp(y, ref, sizeof(float) * (size_t)(m * n)) != 0) {
		printf("FAIL gemm start epilogue %lldx%lldx%lld bias %d start %d gelu %d differs\n",
		       (long long)m, (long long)k, (long long)n, has_bias, has_start, gelu);
		fails++;
	}
	free(a), free(w), free(bias), free(st), free(y), free(ref), free(wp), free(pack);
}

/* tr_mlp_block_f32 == LayerNorm, bias fill + GEMM, GELU, bias fill + GEMM,
 * x + gamma * o, one kernel after another (also in place) */
static void check_mlp(int64_t rows, int64_t d, int64_t h, int64_t tm)
{
	float *x = rvec(rows * d), *ls = rvec(d), *lb = rvec(d), *w1 = rvec(d * h), *b1 = rvec(h);
	float *w2 = rvec(h * d), *b2 = rvec(d), *gm = rvec(d), *w1p = packed(w1, d, h);
	float *w2p = packed(w2, h, d), *ln = rvec(rows * d), *hid = rvec(rows * h), *o = rvec(rows * d);
	float *mean = rvec(rows), *rstd = rvec(rows), *ref = rvec(rows * d), *y = rvec(rows * d);
	float *xy = rvec(rows * d);
	int64_t pb = tr_gemm_pack_bytes(rows < 8 ? 8 : rows, h > d ? h : d, h > d ? h : d);
	float *pack = malloc((size_t)pb);
	float *scr = malloc(sizeof(float) * (size_t)(TR_MLP_R16(tm * d) * 2 + TR_MLP_R16(tm * h) +
	                                             TR_MLP_R16(tm) * 2 + pb / 4));
	size_t nb = sizeof(float) * (size_t)(rows * d);
	tr_layernorm_f32(x, ls, lb, ln, mean, rstd, rows, d, 1e-5f, 1, 1, 1);
	tr_gemm_bias_f32(b1, hid, rows, h, 1, h, 1.0f);
	tr_gemm_packed_f32(ln, w1p, hid, pack, rows, d, h, 0, 1.0f, 1);
	tr_gelu_f32(hid, hid, rows * h);
	tr_gemm_bias_f32(b2, o, rows, d, 1, d, 1.0f);
	tr_gemm_packed_f32(hid, w2p, o, pack, rows, h, d, 0, 1.0f, 1);
	for (int64_t i = 0; i < rows * d; i++)
		ref[i] = x[i] + gm[i % d] * o[i];
	tr_mlp_block_f32(x, ls, lb, w1p, b1, w2p, b2, gm, y, scr, rows, d, h, tm, 1e-5f, 1, 1, 1);
	memcpy(xy, x, nb);
	tr_mlp_block_f32(xy, ls, lb, w1p, b1, w2p, b2, gm, xy, scr, rows, d, h, tm, 1e-5f, 1, 1, 1);
	if (memcmp(y, ref, nb) != 0 || memcmp(xy, ref, nb) != 0) {
		printf("FAIL mlp block %lld rows d %lld h %lld tile %lld differs from the unfused kernels\n",
		       (long long)rows, (long long)d, (long long)h, (long long)tm);
		fails++;
	}
	free(x), free(ls), free(lb), free(w1), free(b1), free(w2), free(b2), free(gm), free(w1p);
	free(w2p), free(ln), free(hid), free(o), free(mean), free(rstd), free(ref), free(y), free(xy);
	free(pack), free(scr);
}

/*
 * tr_conv_packed_f32 (x (nb, c, in...) with W^T packed per group, pixels as GEMM
 * rows) against a direct double loop; p = in[3], out[3], k[3], s[3], d[3],
 * pads[6] (leading size-1 dims).  Scratch exactly as lower_conv sizes it,
 * guarded.  Returns 1 when it ran.
 */
/* tr_layernorm_f32 on 3 rows of d (the middle one offset by 10: the
 * centred variance) against double; 1 when it matches */
static int check_layernorm(int64_t d)
{
	float x[3 * 385], y[3 * 385], sc[385], bi[385], mean[3], rstd[3];
	for (int64_t j = 0; j < 3 * d; j++)
		x[j] = (float)((j * 7919) % 1000) * 0.01f - 5.0f + (j / d == 1 ? 10.0f : 0.0f);
	for (int64_t j = 0; j < d; j++) {
		sc[j] = 0.5f + (float)(j % 7) * 0.25f;
		bi[j] = (float)(j % 5) - 2.0f;
	}
	tr_layernorm_f32(x, sc, bi, y, mean, rstd, 3, d, 1e-5f, 1, 1, 1);
	for (int64_t r = 0; r < 3; r++) {
		double mu = 0.0, var = 0.0;
		for (int64_t j = 0; j < d; j++)
			mu += x[r * d + j];
		mu /= (double)d;
		for (int64_t j = 0; j < d; j++)
			var += (x[r * d + j] - mu) * (x[r * d + j] - mu);
		double rs = 1.0 / sqrt(var / (double)d + 1e-5);
		for (int64_t j = 0; j < d; j++) {
			double ref = (x[r * d + j] - mu) * rs * sc[j] + bi[j];
			if (!(fabs(y[r * d + j] - ref) <= 1e-5 * (1.0 + fabs(ref)))) {
				printf("FAIL layernorm d %lld row %lld: y[%lld] = %.8g, want %.8g\n", (long long)d,
				       (long long)r, (long long)j, (double)y[r * d + j], ref);
				fails++;
				return 0;
			}
		}
	}
	return 1;
}

/* tr_proj_contract_f32 on random tables against double, bias modes 0-2, row
 * widths around 16 (the blocks of 16 and their tails) and term counts around
 * 4 (the rows taken four at a time); 1 when it matches */
static int check_proj_contract(int64_t ng, int64_t nt, int64_t ns, int64_t in, int64_t bias)
{
	int64_t nu = 37, np = 11, nq = 13;
	float *u = rvec(nu), *p = rvec(np * in), *q = rvec(nq * in), *b = rvec(np + nq);
	float *y = rvec(ns), *scr = rvec(ng * in + ng);
	int64_t *ia = malloc(sizeof(int64_t) * (size_t)(ng * nt)), *pr = malloc(sizeof(int64_t) * (size_t)(ng * nt));
	int64_t *grp = malloc(sizeof(int64_t) * (size_t)ns), *qr = malloc(sizeof(int64_t) * (size_t)ns);
	const float *bb = bias == 2 ? b + np : b;
	int ok = 1;
	for (int64_t e = 0; e < ng * nt; e++) {
		ia[e] = (e * 7 + 3) % nu;
		pr[e] = (e * 5 + 1) % np;
	}
	for (int64_t e = 0; e < ns; e++) {
		grp[e] = (e * 3) % ng;
		qr[e] = (e * 11 + 2) % nq;
	}
	tr_proj_contract_f32(u, p, q, bb, ia, pr, grp, qr, y, scr, ng, nt, ns, in, bias);
	for (int64_t e = 0; ok && e < ns; e++) {
		int64_t g = grp[e];
		double ref = 0.0, mag = 0.0, s = 0.0;
		for (int64_t i = 0; i < in; i++) {
			double v = 0.0, vm = 0.0;
			for (int64_t t = 0; t < nt; t++) {
				v += (double)u[ia[g * nt + t]] * p[pr[g * nt + t] * in + i];
				vm += fabs((double)u[ia[g * nt + t]] * p[pr[g * nt + t] * in + i]);
			}
			ref += v * q[qr[e] * in + i];
			mag += vm * fabs(q[qr[e] * in + i]);
		}
		for (int64_t t = 0; t < nt; t++)
			s += (double)u[ia[g * nt + t]] * (bias == 1 ? bb[pr[g * nt + t]] : 1.0);
		if (bias == 1)
			ref += s;
		else if (bias == 2)
			ref += bb[qr[e]] * s;
		mag += fabs(s) * (bias == 2 ? fabs(bb[qr[e]]) : 1.0);
		if (!(fabs(y[e] - ref) <= 1e-5 * mag + 1e-6)) {
			printf("FAIL proj_contract ng %lld nt %lld in %lld bias %lld: y[%lld] = %.8g, want %.8g\n",
			       (long long)ng, (long long)nt, (long long)in, (long long)bias, (long long)e,
			       (double)y[e], ref);
			fails++;
			ok = 0;
		}
	}
	free(u); free(p); free(q); free(b); free(y); free(scr); free(ia); free(pr); free(grp); free(qr);
	return ok;
}

static int check_conv(int64_t nb, int64_t c, int64_t mo, int64_t g, const int64_t *p, int bias)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pd = p + 15;
	int64_t cg = c / g, mg = mo / g, kk = ks[0] * ks[1] * ks[2], kdim = cg * kk;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB;
	int64_t pc = osz < TR_CONV_PC ? osz : TR_CONV_PC, guard = 64;
	int direct = kk == 1 && st[0] == 1 && st[1] == 1 && st[2] == 1 && pd[0] == 0 && pd[1] == 0 &&
	             pd[2] == 0 && osz == isz;
	int64_t sb = (direct ? 0 : 4 * ((cg * isz + 15) / 16 * 16 + (kdim * pc + 15) / 16 * 16)) +
	             4 * ((mpad * pc + 15) / 16 * 16) + tr_gemm_pack_bytes(pc < 4 ? 4 : pc, kdim, mpad);
	float *x = malloc(sizeof(float) * (size_t)(nb * c * isz));
	float *w = malloc(sizeof(float) * (size_t)(mo * kdim));
	float *wp = malloc(sizeof(float) * (size_t)(g * kdim * mpad));
	float *bs = malloc(sizeof(float) * (size_t)mo);
	float *y = malloc(sizeof(float) * (size_t)(nb * mo * osz));
	void *raw;
	if (posix_memalign(&raw, 64, (size_t)(sb + guard * 4)))
		exit(2);
	float *scratch = raw;
	for (int i = 0; i < 3; i++)
		if (out[i] != (in[i] + pd[i] + pd[3 + i] - (ks[i] - 1) * dl[i] - 1) / st[i] + 1) {
			printf("FAIL conv test case: out[%d] = %lld is inconsistent\n", i, (long long)out[i]);
			fails++;
		}
	for (int64_t i = 0; i < nb * c * isz; i++)
		x[i] = rnd();
	for (int64_t i = 0; i < mo * kdim; i++)
		w[i] = rnd();
	for (int64_t i = 0; i < mo; i++)
		bs[i] = rnd();
	for (int64_t i = 0; i < guard; i++)
		scratch[sb / 4 + i] = 12345.0f;
	float *wt = malloc(sizeof(float) * (size_t)(mg * kdim));
	for (int64_t gi = 0; gi < g; gi++) {   /* as lower_conv packs the weight */
		if (!direct)
			tr_conv_tapmajor(w + gi * mg * kdim, wt, mg, cg, kk);
		tr_gemm_prepack_f32(direct ? w + gi * mg * kdim : wt, 1, kdim, wp + gi * kdim * mpad,
		                    kdim, mg);
	}
	free(wt);
	/* tr_conv_f32 (weight rows @ im2col) on the same input, first */
	int64_t qb = direct ? osz : tr_conv_block_rows(kdim, out[0] * out[1], out[2]) * out[2];
	int64_t sb0 = (direct ? 0 : 4 * tr_conv_col_floats(kdim, qb)) + tr_gemm_pack_bytes(mg < 4 ? 4 : mg, kdim, qb);
	float *y0 = malloc(sizeof(float) * (size_t)(nb * mo * osz));
	float *yg = malloc(sizeof(float) * (size_t)(nb * mo * osz));
	void *raw0;
	if (posix_memalign(&raw0, 64, (size_t)(sb0 + guard * 4)))
		exit(2);
	for (int64_t i = 0; i < guard; i++)
		((float *)raw0)[sb0 / 4 + i] = 12345.0f;
	/* each kernel with the fused GELU (its bits: tr_gelu_f32 of the output
	 * without), then without */
	tr_conv_f32(x, w, bs, yg, raw0, nb, c, mo, g, bias, 1, p);
	tr_conv_f32(x, w, bs, y0, raw0, nb, c, mo, g, bias, 0, p);
	for (int64_t i = 0; i < guard; i++)
		if (((float *)raw0)[sb0 / 4 + i] != 12345.0f) {
			printf("FAIL tr_conv_f32 c %lld mo %lld g %lld: wrote past the scratch\n",
			       (long long)c, (long long)mo, (long long)g);
			fails++;
			break;
		}
	free(raw0);
	tr_gelu_f32(y0, y, nb * mo * osz);
	if (memcmp(y, yg, sizeof(float) * (size_t)(nb * mo * osz)) != 0) {
		printf("FAIL tr_conv_f32 c %lld mo %lld g %lld: the fused GELU differs from tr_gelu_f32\n",
		       (long long)c, (long long)mo, (long long)g);
		fails++;
	}
	tr_conv_packed_f32(x, wp, bs, yg, scratch, nb, c, mo, g, bias, 1, p);
	tr_conv_packed_f32(x, wp, bs, y, scratch, nb, c, mo, g, bias, 0, p);
	for (int64_t i = 0; i < guard; i++)
		if (scratch[sb / 4 + i] != 12345.0f) {
			printf("FAIL conv c %lld mo %lld g %lld: wrote past the scratch\n", (long long)c,
			       (long long)mo, (long long)g);
			fails++;
			break;
		}
	tr_gelu_f32(y, y, nb * mo * osz);
	int gdiff = memcmp(y, yg, sizeof(float) * (size_t)(nb * mo * osz)) != 0;
	tr_conv_packed_f32(x, wp, bs, y, scratch, nb, c, mo, g, bias, 0, p);
	if (gdiff) {
		printf("FAIL conv c %lld mo %lld g %lld: the fused GELU differs from tr_gelu_f32\n",
		       (long long)c, (long long)mo, (long long)g);
		fails++;
	}
	for (int64_t b = 0; b < nb; b++)
		for (int64_t o = 0; o < mo; o++)
			for (int64_t q = 0; q < osz; q++) {
				int64_t od = q / (out[1] * out[2]), oh = q / out[2] % out[1], ow = q % out[2];
				double s = bias ? bs[o] : 0.0, mag = fabs(s);
				for (int64_t ci = 0; ci < cg; ci++)
					for (int64_t t = 0; t < kk; t++) {
						int64_t kd = t / (ks[1] * ks[2]), kh = t / ks[2] % ks[1], kw = t % ks[2];
						int64_t id = od * st[0] - pd[0] + kd * dl[0];
						int64_t ih = oh * st[1] - pd[1] + kh * dl[1];
						int64_t iw = ow * st[2] - pd[2] + kw * dl[2];
						if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2])
							continue;
						double v = (double)x[(b * c + o / mg * cg + ci) * isz +
						                     (id * in[1] + ih) * in[2] + iw] * w[o * kdim + ci * kk + t];
						s += v;
						mag += fabs(v);
					}
				double got = y[(b * mo + o) * osz + q], got0 = y0[(b * mo + o) * osz + q];
				if (!(fabs(got0 - s) <= 1e-5 * mag + 1e-6 * (1.0 + fabs(s)))) {
					printf("FAIL tr_conv_f32 c %lld mo %lld g %lld: y[%lld][%lld][%lld] = %.8g, "
					       "want %.8g\n", (long long)c, (long long)mo, (long long)g, (long long)b,
					       (long long)o, (long long)q, got0, s);
					fails++;
					goto out;
				}
				if (!(fabs(got - s) <= 1e-5 * mag + 1e-6 * (1.0 + fabs(s)))) {
					printf("FAIL conv c %lld mo %lld g %lld k %lldx%lldx%lld: y[%lld][%lld][%lld] "
					       "= %.8g, want %.8g\n", (long long)c, (long long)mo, (long long)g,
					       (long long)ks[0], (long long)ks[1], (long long)ks[2], (long long)b,
					       (long long)o, (long long)q, got, s);
					fails++;
					goto out;
				}
			}
out:
	free(x), free(w), free(wp), free(bs), free(y), free(y0), free(yg), free(raw);
	return 1;
}

/* y = act(v) in double, TR_ACT_* code k with parameters a, b (act.h) */
static double act_ref(int64_t k, double v, double a, double b)
{
	switch (k) {
	case TR_ACT_RELU: return v < 0 ? 0 : v;
	case TR_ACT_CLIP: return v < a ? a : v > b ? b : v;
	case TR_ACT_HARDSWISH: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
	case TR_ACT_HARDSIGMOID: return fmax(0.0, fmin(1.0, a * v + b));
	case TR_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
	case TR_ACT_SILU: return v / (1.0 + exp(-v));
	case TR_ACT_GELU: return v * (1.0 + erf(v / sqrt(2.0))) * 0.5;
	default: return v;
	}
}

/*
 * Channels-last convolution: tr_conv_nhwc_f32 (im2row or in place, x
 * channels last or first) and, when depthwise, tr_dwconv_nhwc_f32, on the
 * weight packed as lower_conv_nhwc packs it, with bias, activations and a
 * residual (act = {act, act2}, f = {a, b, a2, b2}), against a double loop:
 * |got - ref| <= 2e-5 (sum |x w| + |bias| + |res|) + 2e-6 (1 + |ref|).  The
 * fused epilogue must equal, bit for bit, tr_act_apply on the output made
 * without it.  Scratch exactly as lower_conv_nhwc sizes it, guarded.
 */
static int check_nhwc(int64_t nb, int64_t c, int64_t mo, int64_t g, const int64_t *p, int x_nchw,
                      int bias, int res, const int64_t *act, const float *f)
{
	const int64_t *in = p, *out = p + 3, *ks = p + 6, *st = p + 9, *dl = p + 12, *pd = p + 15;
	int64_t cg = c / g, mg = mo / g, kk = ks[0] * ks[1] * ks[2], kdim = cg * kk;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2], ny = nb * osz * mo;
	int64_t mpad = (mg + TR_GEMM_PB - 1) / TR_GEMM_PB * TR_GEMM_PB, guard = 64;
	int64_t pc = osz < TR_CONV_NHWC_PC ? osz : TR_CONV_NHWC_PC;
	int inplace = !x_nchw && kdim == cg && st[0] == 1 && st[1] == 1 && st[2] == 1 && pd[0] == 0 &&
	              pd[1] == 0 && pd[2] == 0 && pd[3] == 0 && pd[4] == 0 && pd[5] == 0 && osz == isz;
	int64_t col = inplace ? 0 : 4 * ((pc * kdim + 15) / 16 * 16);
	int64_t sb = col + tr_gemm_pack_bytes(inplace ? (osz < 4 ? 4 : osz) : (pc < 4 ? 4 : pc), kdim,
	                                      mpad);
	int dw = g == c && mo == c && !x_nchw && ks[0] * ks[1] <= TR_DWCONV_ROWS;
	float *x = rvec(nb * c * isz), *w = rvec(mo * kdim), *bs = rvec(mo), *r = rvec(ny);
	float *wp = malloc(sizeof(float) * (size_t)(g * kdim * mpad)), *wt = rvec(mg * kdim);
	float *y = rvec(ny), *y0 = rvec(ny);
	void *raw;
	if (posix_memalign(&raw, 64, (size_t)(sb + guard * 4)))
		exit(2);
	float *scratch = raw;
	for (int64_t i = 0; i < guard; i++)
		scratch[sb / 4 + i] = 12345.0f;
	for (int64_t gi = 0; gi < g; gi++) {   /* as lower_conv_nhwc packs the weight */
		tr_conv_tapmajor(w + gi * mg * kdim, wt, mg, cg, kk);
		tr_gemm_prepack_f32(wt, 1, kdim, wp + gi * kdim * mpad, kdim, mg);
	}
	float *wd = rvec(kk * c);
	if (dw)
		tr_dwconv_pack(w, wd, c, kk);
	static const int64_t none[2] = {0, 0};
	static const float nf[4] = {0, 0, 0, 0};
	TrAct post = {act[0], f[0], f[1], res ? r : (const float *)0, mo, act[1], f[2], f[3]};
	for (int kind = 0; kind < 1 + dw; kind++) {
		const char *name = kind ? "tr_dwconv_nhwc_f32" : "tr_conv_nhwc_f32";
		if (kind) {
			tr_dwconv_nhwc_f32(x, wd, bs, r, y, nb, c, bias, res, act, f, p);
			tr_dwconv_nhwc_f32(x, wd, bs, r, y0, nb, c, bias, 0, none, nf, p);
		} else {
			tr_conv_nhwc_f32(x, wp, bs, r, y, scratch, nb, c, mo, g, x_nchw, bias, res, act, f, p);
			tr_conv_nhwc_f32(x, wp, bs, r, y0, scratch, nb, c, mo, g, x_nchw, bias, 0, none, nf,
			                 p);
		}
		for (int64_t i = 0; i < guard; i++)
			if (scratch[sb / 4 + i] != 12345.0f) {
				printf("FAIL %s c %lld mo %lld g %lld: wrote past the scratch\n", name,
				       (long long)c, (long long)mo, (long long)g);
				fails++;
				break;
			}
		for (int64_t q = 0; q < nb * osz; q++)
			tr_act_apply(&post, y0 + q * mo, q, 0, mo);
		if (memcmp(y, y0, sizeof(float) * (size_t)ny) != 0) {
			printf("FAIL %s c %lld mo %lld g %lld act %lld/%lld: the fused epilogue differs "
			       "from tr_act_apply\n", name, (long long)c, (long long)mo, (long long)g,
			       (long long)act[0], (long long)act[1]);
			fails++;
		}
		for (int64_t b = 0; b < nb; b++)
			for (int64_t q = 0; q < osz; q++)
				for (int64_t o = 0; o < mo; o++) {
					int64_t od = q / (out[1] * out[2]), oh = q / out[2] % out[1], ow = q % out[2];
					double s = bias ? bs[o] : 0.0, mag = fabs(s);
					for (int64_t ci = 0; ci < cg; ci++)
						for (int64_t t = 0; t < kk; t++) {
							int64_t kd = t / (ks[1] * ks[2]), kh = t / ks[2] % ks[1], kw = t % ks[2];
							int64_t id = od * st[0] - pd[0] + kd * dl[0];
							int64_t ih = oh * st[1] - pd[1] + kh * dl[1];
							int64_t iw = ow * st[2] - pd[2] + kw * dl[2];
							if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 ||
							    iw >= in[2])
								continue;
							int64_t pix = (id * in[1] + ih) * in[2] + iw, ch = o / mg * cg + ci;
							double v = (double)w[o * kdim + ci * kk + t] *
							           x[x_nchw ? (b * c + ch) * isz + pix : (b * isz + pix) * c + ch];
							s += v;
							mag += fabs(v);
						}
					int64_t at = (b * osz + q) * mo + o;
					s = act_ref(act[0], s, f[0], f[1]);
					if (res) {
						s += r[at];
						mag += fabs(r[at]);
					}
					s = act_ref(act[1], s, f[2], f[3]);
					if (!(fabs(y[at] - s) <= 2e-5 * mag + 2e-6 * (1.0 + fabs(s)))) {
						printf("FAIL %s c %lld mo %lld g %lld k %lldx%lld act %lld/%lld: "
						       "y[%lld][%lld][%lld] = %.8g, want %.8g\n", name, (long long)c,
						       (long long)mo, (long long)g, (long long)ks[1], (long long)ks[2],
						       (long long)act[0], (long long)act[1], (long long)b, (long long)q,
						       (long long)o, y[at], s);
						fails++;
						goto next;
					}
				}
next:;
	}
	free(x), free(w), free(bs), free(r), free(wp), free(wt), free(wd), free(y), free(y0), free(raw);
	return 1 + dw;
}

/* tr_pool_nhwc_f32 and tr_global_avgpool_nhwc_f32 bitwise equal to the
 * channels-first kernels (pool.h) on the transposed input */
static void check_pool_nhwc(int64_t nb, int64_t c, const int64_t *p, int is_max, int cip)
{
	const int64_t *in = p, *out = p + 3;
	int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
	float *x = rvec(nb * c * isz), *xc = rvec(nb * c * isz);
	float *y = rvec(nb * c * osz), *yc = rvec(nb * c * osz);
	for (int64_t b = 0; b < nb; b++)
		for (int64_t q = 0; q < isz; q++)
			for (int64_t ch = 0; ch < c; ch++)
				xc[(b * c + ch) * isz + q] = x[(b * isz + q) * c + ch];
	if (c > 2)
		x[c + 2] = xc[2 * isz + 1] = NAN;   /* a NaN wins a max, spoils an average */
	tr_pool_nhwc_f32(x, y, nb, c, p, is_max, cip);
	tr_pool_f32(xc, yc, nb * c, p, is_max, (int)cip);
	for (int pass = 0; pass < 2; pass++) {
		for (int64_t b = 0; b < nb; b++)
			for (int64_t q = 0; q < osz; q++)
				for (int64_t ch = 0; ch < c; ch++) {
					float u = y[(b * osz + q) * c + ch], v = yc[(b * c + ch) * osz + q];
					if (memcmp(&u, &v, sizeof u) != 0 && !(u != u && v != v)) {
						printf("FAIL %s nhwc c %lld: y[%lld][%lld][%lld] = %.8g, channels "
						       "first %.8g\n", pass ? "global avgpool" : is_max ? "maxpool" :
						       "avgpool", (long long)c, (long long)b, (long long)q,
						       (long long)ch, u, v);
						fails++;
						goto done;
					}
				}
		if (pass == 0) {   /* then the global average over the same input */
			tr_global_avgpool_nhwc_f32(x, y, nb, isz, c);
			tr_global_avgpool_f32(xc, yc, nb * c, isz);
			osz = 1;
		}
	}
done:
	free(x), free(xc), free(y), free(yc);
}

/* tr_sigmoid_span (the fused Sigmoid and SiLU) against double, and NaN */
static void check_sigmoid(void)
{
	float x[3001], s[3001], u[3001];
	for (int i = 0; i < 3001; i++)
		x[i] = (float)(i - 1500) * 0.07f;   /* [-105, 105]: exp's clamp too */
	tr_sigmoid_span(x, s, 3001, 0);
	tr_sigmoid_span(x, u, 3001, 1);
	for (int i = 0; i < 3001; i++) {
		double v = x[i], rs = 1.0 / (1.0 + exp(-v)), ru = v * rs;
		if (!(fabs(s[i] - rs) <= 5e-7 * rs + 1e-30) || !(fabs(u[i] - ru) <= 5e-7 * fabs(ru) + 1e-30)) {
			printf("FAIL sigmoid(%.7g) = %.8g, silu %.8g; want %.8g, %.8g\n", v, (double)s[i],
			       (double)u[i], rs, ru);
			fails++;
			break;
		}
	}
	float n[1] = {NAN};
	tr_sigmoid_span(n, n, 1, 1);
	if (!isnan(n[0])) {
		printf("FAIL silu(nan) = %g\n", (double)n[0]);
		fails++;
	}

/*
 * tr_attention_f32 on batch dims bd (nb of them), q (m, c), k (n, c), v (n, cv)
 * per batch index, heads interleaved in the rows as exported models lay them
 * out (q row stride h * c), k read through its transpose's strides, an
 * optional mask broadcast over the first batch dim, the output written
 * transposed back; against a double softmax(scale q k^T + mask) v.  Scratch
 * sized by tr_attention_slot_floats and guarded.
 */
static int check_attention(int64_t m, int64_t n, int64_t c, int64_t cv, int64_t h, int mask)
{
	int64_t bd[2] = {2, h}, slot = tr_attention_slot_floats(m, n, c, cv);
	int64_t nsc = TR_ATT_SLOTS * slot;
	/* q (2, m, h, c), k (2, n, h, c), v (2, h, n, cv), mask (h, m, n), o (2, m, h, cv) */
	float *q = rvec(2 * m * h * c), *k = rvec(2 * n * h * c), *v = rvec(2 * h * n * cv);
	float *mk = rvec(h * m * n), *o = rvec(2 * m * h * cv), *scr = rvec(nsc + 64);
	int64_t qs[5] = {0, m * h * c, c, h * c, 1}, ks[5] = {0, n * h * c, c, h * c, 1};
	int64_t vs[5] = {0, h * n * cv, n * cv, cv, 1}, os[5] = {0, m * h * cv, cv, h * cv, 1};
	int64_t ms[5] = {0, 0, m * n, n, 1};
	float scale = 1.0f / sqrtf((float)c);
	int ok = 1;
	for (int64_t e = 0; e < h * m * n; e++)   /* every 7th score masked, never a whole row */
		mk[e] = e % 7 == 3 && e % n != 0 ? -INFINITY : mk[e];
	for (int64_t e = nsc; e < nsc + 64; e++)
		scr[e] = 12345.0f;
	tr_attention_f32(q, k, v, mk, o, scr, m, n, c, cv, 2, slot, bd, qs, ks, vs, os, ms, scale,
	                 mask);
	for (int64_t e = nsc; e < nsc + 64; e++)
		if (scr[e] != 12345.0f) {
			printf("FAIL attention m %lld n %lld: scratch overrun\n", (long long)m, (long long)n);
			fails++;
			ok = 0;
			break;
		}
	double *p = malloc(sizeof(double) * (size_t)n);
	for (int64_t b = 0; ok && b < 2; b++)
		for (int64_t hh = 0; ok && hh < h; hh++)
			for (int64_t i = 0; ok && i < m; i++) {
				double mx = -INFINITY, sum = 0.0;
				for (int64_t j = 0; j < n; j++) {
					double d = 0.0;
					for (int64_t p0 = 0; p0 < c; p0++)
						d += (double)q[b * qs[1] + hh * qs[2] + i * qs[3] + p0] *
						     k[b * ks[1] + hh * ks[2] + j * ks[3] + p0];
					p[j] = d * scale + (mask ? mk[hh * ms[2] + i * ms[3] + j] : 0.0);
					mx = p[j] > mx ? p[j] : mx;
				}
				for (int64_t j = 0; j < n; j++)
					sum += p[j] = exp(p[j] - mx);
				for (int64_t e = 0; ok && e < cv; e++) {
					double ref = 0.0, mag = 0.0;
					for (int64_t j = 0; j < n; j++) {
						double t = p[j] / sum * v[b * vs[1] + hh * vs[2] + j * vs[3] + e];
						ref += t;
						mag += fabs(t);
					}
					float got = o[b * os[1] + hh * os[2] + i * os[3] + e];
					if (!(fabs(got - ref) <= 1e-5 * mag + 1e-6)) {
						printf("FAIL attention m %lld n %lld c %lld cv %lld mask %d: o[%lld,%lld,%lld,%lld] = %.8g, want %.8g\n",
						       (long long)m, (long long)n, (long long)c, (long long)cv, mask,
						       (long long)b, (long long)i, (long long)hh, (long long)e,
						       (double)got, ref);
						fails++;
						ok = 0;
					}
				}
			}
	free(p); free(q); free(k); free(v); free(mk); free(o); free(scr);
	return ok;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	static const int64_t ms[] = {1, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 17, 18, 33, 196, 197, 203, 256, 260};
	static const int64_t ks[] = {1, 3, 17, 383, 385, 800, 1535, 1537};
	static const int64_t ns[] = {1, 5, 16, 17, 31, 33, 130, 200};
	int cases = 0;
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
		for (size_t p = 0; p < sizeof ks / sizeof ks[0]; p++)
			for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
				int v = (int)(i + p + j) % 4;
				if (quick && ms[i] * ks[p] * ns[j] > 1000000)
					continue;
				for (int pk = 0; pk < 2; pk++) {
					check_gemm(ms[i], ks[p], ns[j], v & 1, v >> 1, 1.0f, 0, pk);
					cases++;
					if ((i + j) % 3 == 0) {
						check_gemm(ms[i], ks[p], ns[j], 0, 1, -0.5f, 1, pk);
						cases++;
					}
				}
			}
	/* m blocks that 12-row panels complete (tr_gemm_panels12): one 12-row
	 * panel from row 0, two, 14 + 12, and the most, six (184 = 8 x 14 +
	 * 6 x 12, 1024's last block); A in place and packed, edge strips, k
	 * across KC (accumulated) */
	static const int64_t m12[] = {12, 24, 26, 184};
	for (size_t i = 0; i < sizeof m12 / sizeof m12[0]; i++)
		for (int pk = 0; pk < 2; pk++) {
			check_gemm(m12[i], 17, 130, 0, 0, 1.0f, 0, pk);
			check_gemm(m12[i], 385, 33, 1, 1, 1.0f, 0, pk);
			check_gemm(m12[i], 1537, 40, 0, 1, -0.5f, 1, pk);
			cases += 3;
		}
	if (quick)   /* m across MC, k across KC, n across NC in one problem */
		for (int pk = 0; pk < 2; pk++) {
			check_gemm(260, 1537, 130, 1, 0, 1.0f, 0, pk);
			check_gemm(260, 1537, 130, 0, 1, -0.5f, 1, pk);
			cases += 2;
		}
	static const int64_t es[][3] = {{197, 192, 96}, {5, 70, 33}, {260, 1600, 40}, {9, 384, 64},
	                                {70, 100, 300}};   /* 300 columns: groups of 128, 128, 44 */
	for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
		for (int v = 1; v < 4; v++)
			for (int ge = 0; ge < 2; ge++)
				check_start(es[i][0], es[i][1], es[i][2], v & 1, v >> 1, ge);
	check_mlp(300, 40, 160, 128);
	check_mlp(197, 64, 400, 256);
	check_mlp(30, 16, 1600, 32);   /* fc2's k = 1600 > KC: accumulated over two k blocks */
	check_mlp(13, 24, 96, 8);
	check_mlp(37, 20, 100, 64);    /* h 100: fc1's bias + GELU rows end in a 4-wide tail */
	check_mlp(520, 24, 96, 256);   /* tiles of min(256, MC) rows: 252 + 252 + 16 with MC 252 */
	/* Conv, weight packed per group: in, out, k, stride, dilation, pads (begin, end) */
	static const int64_t cp[][21] = {
		{1, 32, 30, 1, 16, 15, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},    /* stem 3x3/2 */
		{1, 17, 19, 1, 17, 19, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1},    /* P = 323 */
		{1, 13, 11, 1, 6, 6, 1, 5, 3, 1, 2, 2, 1, 1, 1, 0, 2, 1, 0, 0, 2},      /* asym pads */
		{1, 15, 17, 1, 15, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},    /* 1x1 direct */
		{1, 1, 29, 1, 1, 9, 1, 1, 4, 1, 1, 3, 1, 1, 2, 0, 0, 1, 0, 0, 3},      /* 1-D, dil 2 */
		{5, 6, 7, 4, 3, 8, 3, 2, 3, 1, 2, 1, 1, 1, 1, 1, 0, 2, 0, 1, 1},        /* 3-D */
		{1, 9, 75, 1, 5, 38, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},      /* wide, 3x3/2 */
		{1, 4, 67, 1, 4, 33, 1, 1, 3, 1, 1, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0},      /* wide, 1x3/2 */
	};
	static const int64_t cc[][4] = {{3, 24, 1, 1}, {48, 40, 1, 1}, {200, 34, 2, 0},
	                                {16, 20, 2, 1}, {6, 10, 2, 1}, {4, 9, 1, 0}};
	int conv_cases = 0;
	for (size_t i = 0; i < sizeof cp / sizeof cp[0]; i++)
		for (size_t j = 0; j < sizeof cc / sizeof cc[0]; j++)
			if ((i + j) % 2 == 0 || i == j)
				conv_cases += check_conv(1 + (int64_t)(j % 2), cc[j][0], cc[j][1], cc[j][2], cp[i],
				                         (int)cc[j][3]);
	/* tr_conv_f32 in several im2col blocks of output rows, the last one short:
	 * 20 rows as 13 + 7, and a 3-D map's 4 x 9 rows as 7 blocks of 5 and 1 */
	static const int64_t cb[][21] = {
		{1, 40, 70, 1, 20, 35, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},
		{4, 9, 9, 4, 9, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
	};
	if (tr_conv_block_rows(64 * 9, 20, 35) != 13 || tr_conv_block_rows(200 * 27, 36, 9) != 5) {
		printf("FAIL conv block rows: the cases below no longer span several blocks\n");
		fails++;
	}
	conv_cases += check_conv(1, 64, 24, 1, cb[0], 1);
	conv_cases += check_conv(2, 200, 12, 1, cb[1], 0);
	conv_cases += check_conv(1, 180, 40, 1, cp[0], 1);   /* kdim 1620 > KC */
	/* channels last: depthwise 3x3 / 5x5 at strides 1 and 2 (the direct
	 * kernel and the GEMM), asymmetric pads, dilation, maps smaller than the
	 * kernel; 1x1 in place and strided, grouped, dense with x channels first,
	 * blocks of output pixels across TR_CONV_NHWC_PC; every epilogue */
	static const int64_t dp[][21] = {
		{1, 9, 11, 1, 9, 11, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1},
		{1, 10, 13, 1, 5, 7, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},
		{1, 8, 21, 1, 8, 21, 1, 5, 5, 1, 1, 1, 1, 1, 1, 0, 2, 2, 0, 2, 2},
		{1, 15, 9, 1, 8, 5, 1, 5, 5, 1, 2, 2, 1, 1, 1, 0, 2, 2, 0, 2, 2},
		{1, 8, 8, 1, 4, 4, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0, 1, 1},
		{1, 3, 4, 1, 3, 4, 1, 5, 5, 1, 1, 1, 1, 1, 1, 0, 2, 2, 0, 2, 2},
		{1, 7, 9, 1, 7, 9, 1, 3, 3, 1, 1, 1, 1, 2, 2, 0, 2, 2, 0, 2, 2},
		{1, 17, 19, 1, 17, 19, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1},
	};
	static const int64_t dch[] = {1, 7, 16, 24, 37, 96};
	static const int64_t acts[][2] = {{0, 0}, {TR_ACT_RELU, 0}, {TR_ACT_CLIP, 0},
	                                  {TR_ACT_HARDSWISH, 0}, {TR_ACT_SILU, 0},
	                                  {TR_ACT_SIGMOID, TR_ACT_RELU}, {TR_ACT_HARDSIGMOID, 0},
	                                  {TR_ACT_GELU, TR_ACT_CLIP}};
	static const float af[][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 6, 0, 0}, {0, 0, 0, 0},
	                              {0, 0, 0, 0}, {0, 0, 0, 0}, {0.2f, 0.5f, 0, 0},
	                              {0, 0, -0.5f, 0.5f}};
	int nhwc_cases = 0;
	for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
		for (size_t j = 0; j < sizeof dch / sizeof dch[0]; j++) {
			size_t a = (i + 3 * j) % 8;
			if (quick && (j + i) % 3 != 0)   /* (qemu: a third of the cases, each shape) */
				continue;
			nhwc_cases += check_nhwc(1 + (int64_t)((i + j) % 2), dch[j], dch[j], dch[j], dp[i], 0,
			                         (int)(i + j) % 3 != 0, (int)(i + j) % 2, acts[a], af[a]);
		}
	static const int64_t pp[][21] = {
		{1, 9, 7, 1, 9, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},       /* 1x1 in place */
		{1, 17, 19, 1, 17, 19, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},   /* 323 pixels */
		{1, 9, 7, 1, 5, 4, 1, 1, 1, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0},       /* 1x1 stride 2 */
		{1, 17, 19, 1, 17, 19, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1},   /* 3x3: 252 + 71 */
		{1, 32, 30, 1, 16, 15, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},   /* stem 3x3/2 */
	};
	static const int64_t pc[][4] = {{24, 40, 1, 0}, {3, 17, 1, 1}, {64, 96, 1, 0}, {32, 32, 4, 0},
	                                {48, 24, 6, 0}, {200, 130, 2, 0}};
	for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
		for (size_t j = 0; j < sizeof pc / sizeof pc[0]; j++) {
			size_t a = (2 * i + j) % 8;
			if (quick && (j == 5 || (i + j) % 2 != 0))
				continue;
			nhwc_cases += check_nhwc(1 + (int64_t)(j % 2), pc[j][0], pc[j][1], pc[j][2], pp[i],
			                         pc[j][2] == 1 && (i + j) % 3 == 0, (int)j % 3 != 2,
			                         (int)(i + j) % 2, acts[a], af[a]);
		}
	/* pools channels last: 3x3/2 pad 1 (ResNet), 2x2/2 ceil-like end pad,
	 * with and without count_include_pad */
	static const int64_t qp[][21] = {
		{1, 12, 11, 1, 6, 6, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1},
		{1, 7, 9, 1, 4, 5, 1, 2, 2, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0, 1, 1},
		{1, 5, 5, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1},
	};
	for (size_t i = 0; i < sizeof qp / sizeof qp[0]; i++)
		for (int v = 0; v < 3; v++)
			check_pool_nhwc(1 + (int64_t)v % 2, v ? 37 : 16, qp[i], v == 0, v == 2);
	check_sigmoid();
	/* softmax attention: query blocks around MR and TR_ATT_MB, keys around
	 * the vector widths and past one tile of TR_ATT_NB (the online softmax
	 * rescales), channels odd and past KC */
	static const int64_t at[][5] = {{1, 1, 1, 1, 1}, {5, 7, 3, 2, 3}, {13, 29, 5, 3, 2},
	                                {17, 17, 64, 64, 2}, {197, 197, 64, 64, 1},
	                                {200, 300, 20, 12, 1}, {9, 515, 16, 33, 2}, {3, 40, 1540, 8, 1}};
	int att_cases = 0;
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		for (int mk = 0; mk < 2; mk++)
			att_cases += check_attention(at[i][0], at[i][1], at[i][2], at[i][3], at[i][4], mk);
	for (int64_t d = 1; d <= 385; d = d == 140 ? 383 : d + 1)
		check_layernorm(d);
	static const int64_t pw[] = {1, 15, 16, 17, 20, 48, 385};
	for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++)
		for (int64_t nt = 1; nt <= 9; nt += 2 + (int64_t)i % 2)
			check_proj_contract(1 + (int64_t)i % 3, nt, 29, pw[i], (int64_t)(i + nt) % 3);
	/* GELU over [-9, 9] (every interval of the piecewise erf, and beyond) and
	 * the sign/zero edges */
#ifdef TR_GELU_VW
	const double gtol = 3e-7;
#else
	const double gtol = 2e-6;
#endif
	float x[4001], g[4001];
	for (int i = 0; i < 4001; i++)
		x[i] = (float)(i - 2000) * 0.0045f;
	tr_gelu_f32(x, g, 4001);
	for (int i = 0; i < 4001; i++) {
		double v = x[i], ref = v * (1.0 + erf(v / sqrt(2.0))) * 0.5;
		if (!(fabs(g[i] - ref) <= gtol * (1.0 + fabs(ref)))) {
			printf("FAIL gelu(%.7g) = %.8g, want %.8g\n", v, (double)g[i], ref);
			fails++;
			break;
		}
	}
	/* x (1 + erf(x / sqrt 2)) / 2: NaN, inf and -inf * 0 = NaN; through the
	 * masked tail too (3 elements) */
	float sp[3] = {NAN, INFINITY, -INFINITY}, gs[3];
	tr_gelu_f32(sp, gs, 3);
	if (!isnan(gs[0]) || !(gs[1] == INFINITY) || !isnan(gs[2])) {
		printf("FAIL gelu(nan, inf, -inf) = %g, %g, %g\n", gs[0], gs[1], gs[2]);
		fails++;
	}
	tr_gelu_f32(x, x, 4001);   /* in place */
	if (memcmp(x, g, sizeof g) != 0) {
		printf("FAIL gelu in place differs\n");
		fails++;
	}
	printf("paths: %s micro-kernel %dx%d, %d GEMM cases, %d conv cases, %d channels-last conv "
	       "cases, %d attention cases, pools, sigmoid, epilogues, proj_contract, layernorm and "
	       "gelu: %s\n",
#if defined(TR_GEMM_AVX512)
	       "AVX-512",
#elif defined(TR_GEMM_AVX2)
	       "AVX2+FMA",
#elif defined(TR_GEMM_NEON)
	       "NEON",
#else
	       "plain C99",
#endif
	       TR_GEMM_MR, TR_GEMM_NR, cases, conv_cases, nhwc_cases, att_cases,
	       fails ? "FAILED" : "ok");
	return fails != 0;
}
