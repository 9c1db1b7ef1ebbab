/*
 * mvn.h -- MeanVarianceNormalization over any set of axes: the statistics of
 * each kept position over the reduced axes, then every element normalised.
 * A run of reduced elements is summed by LayerNorm's row sums (tr_ln_sums,
 * per instruction set), a run of kept ones element by element.
 */
#ifndef TOSTC_RT_NORM_MVN_H
#define TOSTC_RT_NORM_MVN_H
#include "layernorm_avx512.h"
#include "layernorm_avx2.h"
#include "layernorm_scalar.h"

/*@ tr_mvn_f32 tr_mvn_pass : tr_common tr_ln_sums_avx512 tr_ln_sums_avx2 tr_ln_sums_scalar */
/*
 * One pass over x (dims[0..rank)) in memory order; st[d] is the stride of axis
 * d in the statistics (the kept axes, row-major; 0 for a reduced axis).
 * mode 0: acc[k] += x; mode 1: acc[k] += (x - mean[k])^2;
 * mode 2: y = (x - mean[k]) * acc[k].
 */
TR_FN void tr_mvn_pass(const float *x, float *y, const float *mean, float *acc, int64_t rank,
                       const int64_t *dims, const int64_t *st, int mode)
{
	int64_t total = 1, idx[8] = {0}, ik = 0, n = dims[rank - 1], sn = st[rank - 1];
	for (int64_t d = 0; d < rank; d++)
		total *= dims[d];
	for (int64_t o = 0; o < (n ? total / n : 0); o++, x += n) {
		const float *mk = mean + ik;
		float *ak = acc + ik;
		if (mode == 2) {
			for (int64_t i = 0; i < n; i++)
				y[o * n + i] = (x[i] - mk[i * sn]) * ak[i * sn];
		} else if (!sn) {
			ak[0] += tr_ln_sums(x, n, mode ? mk[0] : 0.0f, mode);
		} else if (mode) {
			for (int64_t i = 0; i < n; i++)
				ak[i] += (x[i] - mk[i]) * (x[i] - mk[i]);
		} else {
			for (int64_t i = 0; i < n; i++)
				ak[i] += x[i];
		}
		for (int64_t d = rank - 2; d >= 0; d--) {   /* odometer over the outer axes */
			ik += st[d];
			if (++idx[d] < dims[d])
				break;
			ik -= st[d] * dims[d];
			idx[d] = 0;
		}
	}
}
/*
 * x (dims[0..rank)) -> y like x = (x - mean) / (sqrt(var) + eps), mean and
 * (biased) var over the axes whose st[d] is 0, st as for tr_mvn_pass; the
 * variance is centred (a second pass), where ONNX's definition subtracts
 * squared means.  y may be x.  stats: scratch of 2 * nk floats, nk the kept
 * positions.
 */
TR_FN void tr_mvn_f32(const float *x, float *y, float *stats, int64_t rank, const int64_t *dims,
                      const int64_t *st, int64_t nk, float eps)
{
	float *mean = stats, *acc = stats + nk;
	int64_t total = 1;
	for (int64_t d = 0; d < rank; d++)
		total *= dims[d];
	if (total == 0)
		return;
	for (int64_t k = 0; k < 2 * nk; k++)
		stats[k] = 0.0f;
	tr_mvn_pass(x, y, mean, mean, rank, dims, st, 0);
	for (int64_t k = 0; k < nk; k++)
		mean[k] /= (float)(total / nk);
	tr_mvn_pass(x, y, mean, acc, rank, dims, st, 1);
	for (int64_t k = 0; k < nk; k++)
		acc[k] = 1.0f / (sqrtf(acc[k] / (float)(total / nk)) + eps);
	tr_mvn_pass(x, y, mean, acc, rank, dims, st, 2);
}
/*@end*/
#endif
