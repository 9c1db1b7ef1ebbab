/*
 * compare.cpp -- the same model compiled twice, under two names, in one C++
 * program (CMakeLists.txt builds it): digits with tostc's fused kernels and
 * digits_unfused (--no-fuse), run on the test split of samples/digits.
 *
 *   sample_cxx      prints how many images the two classify alike, the
 *                   largest logit difference, and both logits of image 0
 */
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "digits.h"
#include "digits_unfused.h"
#include "load_weights.h"

#ifdef DIGITS_WEIGHTS_SIZE   // WEIGHTS extern: loaded in main()
static void *digits_w, *unfused_w;
#define digits_run(x, y, ws) digits_run_w(digits_w, DIGITS_WEIGHTS_SIZE, x, y, ws)
#define digits_unfused_run(x, y, ws) \
	digits_unfused_run_w(unfused_w, DIGITS_UNFUSED_WEIGHTS_SIZE, x, y, ws)
#endif

static int argmax(const float *v, int n)
{
	int best = 0;
	for (int k = 1; k < n; k++)
		best = v[k] > v[best] ? k : best;
	return best;
}

int main()
{
#ifdef DIGITS_WEIGHTS_SIZE
	digits_w = load_weights(SAMPLE_DIGITS_WEIGHTS, DIGITS_WEIGHTS_SIZE, digits_weights_check);
	unfused_w = load_weights(SAMPLE_DIGITS_UNFUSED_WEIGHTS, DIGITS_UNFUSED_WEIGHTS_SIZE,
	                         digits_unfused_weights_check);
#endif
	std::FILE *f = std::fopen(SAMPLE_DIGITS_TEST, "rb");
	int32_t n = 0;
	if (!f || std::fread(&n, sizeof n, 1, f) != 1 || n <= 0 || n > 100000)
		return 1;
	std::vector<float> x(size_t(n) * DIGITS_INPUT0_SIZE);
	if (std::fread(x.data(), sizeof(float), x.size(), f) != x.size())
		return 1;
	std::fclose(f);
	// one workspace, large enough for either model (64-byte aligned)
	size_t wsize = DIGITS_WORKSPACE_SIZE > DIGITS_UNFUSED_WORKSPACE_SIZE
	                   ? DIGITS_WORKSPACE_SIZE : DIGITS_UNFUSED_WORKSPACE_SIZE;
	void *ws = std::aligned_alloc(64, (wsize + 63) / 64 * 64);
	float a[DIGITS_OUTPUT0_SIZE], b[DIGITS_UNFUSED_OUTPUT0_SIZE];
	int same = 0;
	double maxdiff = 0;
	for (int i = 0; i < n; i++) {
		const float *img = x.data() + size_t(i) * DIGITS_INPUT0_SIZE;
		if (digits_run(img, a, ws) != 0 || digits_unfused_run(img, b, ws) != 0)
			return 1;
		same += argmax(a, DIGITS_OUTPUT0_SIZE) == argmax(b, DIGITS_UNFUSED_OUTPUT0_SIZE);
		for (int k = 0; k < DIGITS_OUTPUT0_SIZE; k++)
			maxdiff = std::fmax(maxdiff, std::fabs(double(a[k]) - double(b[k])));
		if (i == 0) {
			std::printf("fused:   ");
			for (float v : a)
				std::printf(" %.9g", double(v));
			std::printf("\nunfused: ");
			for (float v : b)
				std::printf(" %.9g", double(v));
			std::printf("\n");
		}
	}
	std::printf("fused and unfused agree on %d of %d images; max |logit difference| %.2g\n", same,
	            n, maxdiff);
	std::free(ws);
	return same == n && maxdiff < 1e-3 ? 0 : 1;
}
