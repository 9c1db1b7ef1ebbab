/*
 * mvn.h -- MeanVarianceNormalization over any set of axes: the statistics of
 * each kept position over the reduced axes, then every element normalised.
 */
#ifndef TOSTC_RT_NORM_MVN_H
#define TOSTC_RT_NORM_MVN_H
#include "../elementwise/reduce.h"

/*@ tr_mvn_f32 : tr_reduce_mean_f32_g */
/*
 * One pass over x (dims[0..rank)) in memory order; st[d] is the stride of axis
 * d in the statistics (the kept axes, row-major; 0 for a reduced axis).
 * Without y: acc[k] += (x - mean[k])^2.  With y: y = (x - mean[k]) * acc[k].
 */
TR_FN void tr_mvn_pass(const float *x, float *y, const float *mean, float *acc, int64_t rank,
                       const int64_t *dims, const int64_t *st)
{
	int64_t total = 1, idx[8] = {0}, ik = 0, n = dims[rank - 1], sn = st[rank - 1];
	for (int64_t d = 0; d < rank; d++)
		total *= dims[d];
	for (int64_t o = 0; o < (n ? total / n : 0); o++, x += n) {
		const float *mk = mean + ik;
		float *ak = acc + ik;
		if (y) {
			for (int64_t i = 0; i < n; i++)
				y[i] = (x[i] - mk[i * sn]) * ak[i * sn];
			y += n;
		} else if (sn) {
			for (int64_t i = 0; i < n; i++)
				ak[i] += (x[i] - mk[i]) * (x[i] - mk[i]);
		} else {
			float s = ak[0];
			for (int64_t i = 0; i < n; i++)
				s += (x[i] - mk[0]) * (x[i] - mk[0]);
			ak[0] = s;
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
 * squared means.  stats: scratch of 2 * nk floats, nk the kept positions.
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
	tr_reduce_mean_f32_g(x, mean, rank, dims, st);
	for (int64_t k = 0; k < nk; k++)
		acc[k] = 0.0f;
	tr_mvn_pass(x, (float *)0, mean, acc, rank, dims, st);
	for (int64_t k = 0; k < nk; k++)
		acc[k] = 1.0f / (sqrtf(acc[k] / (float)(total / nk)) + eps);
	tr_mvn_pass(x, y, mean, acc, rank, dims, st);
}
/*@end*/
#endif
