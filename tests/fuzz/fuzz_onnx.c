/*
 * fuzz_onnx.c -- the ONNX front end (protobuf, IR construction), shape
 * inference, folding, fusion, lowering, planning and emission.
 *
 * onnx_load reads a file, so each input is written to model.onnx in a
 * private temporary directory (created once per process), which also holds
 * a small external-data file ext.bin for models that refer to it.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

static char dir[] = "/tmp/tostc_fuzz_onnx.XXXXXX";
static char path[256];

static void cleanup(void)
{
	char p[300];
	snprintf(p, sizeof p, "%s/ext.bin", dir);
	unlink(p);
	unlink(path);
	rmdir(dir);
}

static const char *model_path(void)
{
	if (path[0])
		return path;
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	snprintf(path, sizeof path, "%s/ext.bin", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	for (int i = 0; i < 4096; i++)
		fputc((i * 37) & 0xff, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	static Ctx ctx;
	static jmp_buf jb;
	const char *path = model_path();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t w = write(fd, data + done, size - done);
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	close(fd);
	Ctx *c = &ctx;
	ctx_init(c, path);
	c->jmp = &jb;
	if (setjmp(jb) == 0) {
		Graph *g = onnx_load(c, path);
		fuzz_compile(g);
	}
	fuzz_check_code(c);
	ctx_free(c);
	return 0;
}
