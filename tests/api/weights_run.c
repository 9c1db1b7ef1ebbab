/*
 * weights_run.c -- one model's outputs, whatever its weights mode, for
 * check_weights.sh to compare bitwise across embed, blob and extern builds,
 * and (extern) the error codes of bad weights.
 *
 *   cc -DM=charlm -DMU=CHARLM [-DSTEP] [-DEXTERN] -I DIR weights_run.c DIR/charlm.c
 *      [DIR/charlm.weights.S]
 *   ./a.out [WEIGHTS] > out.bin         the outputs of NAME_run_v on a fixed
 *                                       input, then (-DSTEP) of NAME_step at
 *                                       every position, of NAME_prefill and
 *                                       NAME_prefill_all, and of one
 *                                       NAME_step_batch of three sequences
 *   ./a.out WEIGHTS --errors OTHER      extern: every way a blob can be wrong
 *                                       (OTHER: another model's weights) gives
 *                                       its code from every entry point
 *
 * The input: floats (i * 7 % 17) / 16, or token ids i * 5 % 7.  Output bytes
 * go to stdout as they are.  Built with $TOSTC_TEST_CFLAGS (the sanitizers in
 * CI): each bad blob lives in a buffer of exactly its size.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)
#include STR(M.h)

#define F(suffix) CAT(M, suffix)   /* F(_run_v): charlm_run_v */
#define U(suffix) CAT(MU, suffix)  /* U(_WORKSPACE_SIZE) */

#if defined(EXTERN)
#define WARGS(w, n) w, n,
#define RUN_V F(_run_v_w)
#define STEP_FN F(_step_w)
#define PREFILL F(_prefill_w)
#define PREFILL_ALL F(_prefill_all_w)
#define STEP_BATCH F(_step_batch_w)
#else
#define WARGS(w, n)
#define RUN_V F(_run_v)
#define STEP_FN F(_step)
#define PREFILL F(_prefill)
#define PREFILL_ALL F(_prefill_all)
#define STEP_BATCH F(_step_batch)
#endif

static void *aligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 1) != 0) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	memset(p, 0, n);
	return p;
}

static unsigned char *load(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = aligned(*n);
	if (fread(p, 1, *n, f) != *n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	return p;
}

/* The buffers of one run: input 0, filled (floats (i * 7 % 17) / 16, or
 * token ids i * 5 % 7), output 0, the workspaces and the step state. */
typedef struct {
	void *x, *ws;
	float *y;
	const void *in[1];
	void *out[1];
#if defined(STEP)
	unsigned char *state;
	void *sws;
	float *logits;
#endif
} Bufs;

static Bufs bufs(void)
{
	Bufs b;
#if defined(STEP)
	int64_t *x = aligned(sizeof(int64_t) * U(_INPUT0_SIZE));
	for (long i = 0; i < U(_INPUT0_SIZE); i++)
		x[i] = i * 5 % 7;
	b.state = aligned(U(_STATE_SIZE));
	b.sws = aligned(U(_STEP_WORKSPACE_SIZE));
	b.logits = aligned(sizeof(float) * U(_STEP_OUTPUT0_SIZE));
#else
	float *x = aligned(sizeof(float) * U(_INPUT0_SIZE));
	for (long i = 0; i < U(_INPUT0_SIZE); i++)
		x[i] = (float)(i * 7 % 17) / 16.0f;
#endif
	b.x = x;
	b.in[0] = x;
	b.out[0] = b.y = aligned(sizeof(float) * U(_OUTPUT0_SIZE));
	b.ws = aligned(U(_WORKSPACE_SIZE));
	return b;
}

static void bufs_free(Bufs *b)
{
	free(b->x), free(b->y), free(b->ws);
#if defined(STEP)
	free(b->state), free(b->sws), free(b->logits);
#endif
}

static int outputs(const void *w, size_t wn)
{
	Bufs b = bufs();
	(void)w, (void)wn;
	if (RUN_V(WARGS(w, wn) b.in, b.out, b.ws) != 0)
		return 1;
	fwrite(b.y, sizeof(float), U(_OUTPUT0_SIZE), stdout);
#if defined(STEP)
	const int64_t *ids = b.x;
	F(_reset)(b.state);
	for (long t = 0; t < U(_MAX_POSITIONS); t++) {
		if (STEP_FN(WARGS(w, wn) b.state, ids + t, b.logits, b.sws) != 0)
			return 1;
		fwrite(b.logits, sizeof(float), U(_STEP_OUTPUT0_SIZE), stdout);
	}
	F(_reset)(b.state);
	if (PREFILL(WARGS(w, wn) b.state, ids, U(_MAX_POSITIONS) / 2, b.logits, b.sws) != 0)
		return 1;
	fwrite(b.logits, sizeof(float), U(_STEP_OUTPUT0_SIZE), stdout);
	/* every position's outputs, through the chunks */
	long half = U(_MAX_POSITIONS) / 2;
	float *all = aligned(sizeof(float) * (size_t)(half * U(_STEP_OUTPUT0_SIZE)));
	F(_reset)(b.state);
	if (PREFILL_ALL(WARGS(w, wn) b.state, ids, half, all, b.sws) != 0)
		return 1;
	fwrite(all, sizeof(float), (size_t)(half * U(_STEP_OUTPUT0_SIZE)), stdout);
	free(all);
	/* three sequences at positions 0, 5 and 12, one step each */
	enum { NSEQ = 3 };
	unsigned char *st[NSEQ];
	void *states[NSEQ];
	float *out = aligned(sizeof(float) * NSEQ * U(_STEP_OUTPUT0_SIZE));
	for (int q = 0; q < NSEQ; q++) {
		states[q] = st[q] = aligned(U(_STATE_SIZE));
		F(_reset)(st[q]);
		if (PREFILL(WARGS(w, wn) st[q], ids, q * q + 4 * q, b.logits, b.sws) != 0)
			return 1;
	}
	if (STEP_BATCH(WARGS(w, wn) states, ids + 1, NSEQ, out, b.sws) != 0)
		return 1;
	fwrite(out, sizeof(float), NSEQ * U(_STEP_OUTPUT0_SIZE), stdout);
	for (int q = 0; q < NSEQ; q++)
		free(st[q]);
	free(out);
#endif
	bufs_free(&b);
	return 0;
}

#if defined(EXTERN)
static int failures;

/* every entry point on (w, n) must return `want` */
static void expect(const char *what, const void *w, size_t n, int want)
{
	Bufs b = bufs();
	int got[7], k = 0;
	got[k++] = RUN_V(w, n, b.in, b.out, b.ws);
	got[k++] = F(_run_w)(w, n, b.x, b.y, b.ws);
#if defined(STEP)
	F(_reset)(b.state);
	got[k++] = STEP_FN(w, n, b.state, b.x, b.logits, b.sws);
	got[k++] = PREFILL(w, n, b.state, b.x, 3, b.logits, b.sws);
	if (want != 0 && F(_position)(b.state) != 0)
		got[k - 1] = 99;   /* a refused call must leave the state alone */
	{
		void *states[1] = {b.state};
		got[k++] = PREFILL_ALL(w, n, b.state, b.x, 1, b.logits, b.sws);
		got[k++] = STEP_BATCH(w, n, states, b.x, 1, b.logits, b.sws);
		if (want != 0 && F(_position)(b.state) != 0)
			got[k - 1] = 99;
	}
#endif
	int check = F(_weights_check)(w, n);
	int bad = 0;
	for (int i = 0; i < k; i++)
		bad |= got[i] != want;
	/* check also hashes: it finds corrupted bytes the calls cannot */
	int want_check = want == 0 && strstr(what, "corrupted blob") ? U(_ERR_WEIGHTS_HASH) : want;
	bad |= check != want_check;
	printf("%-36s %s: calls return", what, bad ? "FAIL" : "ok");
	for (int i = 0; i < k; i++)
		printf(" %d", got[i]);
	printf(", %s_weights_check %d (want %d, %d)\n", STR(M), check, want, want_check);
	failures += bad;
	bufs_free(&b);
}

static size_t blob_size;   /* of the blob copy() copies from */

/* the first n bytes of w (zeros past its end) in a buffer of exactly n
 * bytes, 64-byte aligned, with byte at changed to v (at < 0: unchanged) */
static unsigned char *copy(const unsigned char *w, size_t n, long at, int v)
{
	unsigned char *p = aligned(n);
	memcpy(p, w, n < blob_size ? n : blob_size);
	if (at >= 0)
		p[at] = (unsigned char)v;
	return p;
}

static int errors(const unsigned char *w, size_t n, const char *other_path)
{
	size_t on;
	unsigned char *other = load(other_path, &on), *p;
	blob_size = n;
	expect("the right weights", w, n, 0);
	expect("NULL", NULL, n, U(_ERR_WEIGHTS_SIZE));
	expect("an empty blob", w, 0, U(_ERR_WEIGHTS_SIZE));
	expect("63 bytes", p = copy(w, 63, -1, 0), 63, U(_ERR_WEIGHTS_SIZE)), free(p);
	expect("truncated by one byte", p = copy(w, n - 1, -1, 0), n - 1, U(_ERR_WEIGHTS_SIZE)), free(p);
	expect("truncated to its header", p = copy(w, 64, -1, 0), 64, U(_ERR_WEIGHTS_SIZE)), free(p);
	expect("one byte too long", p = copy(w, n + 1, -1, 0), n + 1, U(_ERR_WEIGHTS_SIZE)), free(p);
	{
		unsigned char *q = aligned(n + 64);
		memcpy(q + 8, w, n);
		expect("8 bytes off alignment", q + 8, n, U(_ERR_WEIGHTS_ALIGN));
		free(q);
	}
	expect("corrupted magic", p = copy(w, n, 3, w[3] ^ 0x20), n, U(_ERR_WEIGHTS_HEADER)), free(p);
	expect("corrupted format version", p = copy(w, n, 8, 2), n, U(_ERR_WEIGHTS_HEADER)), free(p);
	expect("corrupted header size", p = copy(w, n, 12, 32), n, U(_ERR_WEIGHTS_HEADER)), free(p);
	expect("corrupted size field", p = copy(w, n, 17, w[17] ^ 1), n, U(_ERR_WEIGHTS_HEADER)), free(p);
	expect("corrupted hash field", p = copy(w, n, 30, w[30] ^ 1), n, U(_ERR_WEIGHTS_MODEL)), free(p);
	expect("another model's weights", other, on, U(_ERR_WEIGHTS_MODEL));
	expect("corrupted blob (last byte)", p = copy(w, n, (long)n - 1, w[n - 1] ^ 0x80), n, 0), free(p);
	/* any bit of the header flipped: never a crash, never 0 but for the
	 * padding, which nothing reads (weights_check runs the checks of every
	 * call, then hashes the blob: the header is not in the hash) */
	int odd = 0;
	for (long at = 0; at < 64; at++) {
		for (int bit = 0; bit < 8; bit++) {
			p = copy(w, n, at, w[at] ^ (1 << bit));
			int r = F(_weights_check)(p, n);
			if ((r == 0) != (at >= 32))
				odd++;
			free(p);
		}
	}
	printf("%-36s %s: %d of 512 single-bit header changes misjudged\n", "every header bit flipped",
	       odd ? "FAIL" : "ok", odd);
	failures += odd != 0;
	free(other);
	return failures != 0;
}
#endif

int main(int argc, char **argv)
{
	size_t n = 0;
	unsigned char *w = NULL;
	int r;
	if (argc > 1)
		w = load(argv[1], &n);
#if defined(EXTERN)
	if (!w) {
		fputs("usage: weights_run WEIGHTS [--errors OTHER.weights]\n", stderr);
		return 2;
	}
	if (argc > 3 && strcmp(argv[2], "--errors") == 0) {
		r = errors(w, n, argv[3]);
		free(w);
		return r;
	}
#endif
	r = outputs(w, n);
	free(w);
	return r;
}
