/*
 * npz.c -- numpy's .npy and .npz files, read and written (tostc run).
 *
 * A .npy is a magic string, a version, a header that is a Python dict
 * literal -- {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } --
 * and the array's bytes.  A .npz is a zip archive of .npy entries, one per
 * array, named NAME.npy; np.savez stores them uncompressed (with zip64
 * extra fields when asked to), and that is all this reader takes:
 * np.savez_compressed's deflated entries are refused with a message that
 * says so.
 *
 * npz_read refuses, with a message that names it: compressed entries,
 * damaged or truncated zip structures, CRC mismatches, .npy headers that are
 * not numpy's, Fortran order, big-endian types, shapes whose bytes are not
 * all there.  The writer refuses archives past 4 GiB (no zip64 written).
 *
 * Everything in the file is untrusted, as in the other readers: the zip
 * structures are read from the central directory, and every offset, size
 * and count is checked against the bytes that are there before it is used;
 * each entry's local header must agree with the directory, its CRC-32 with
 * its bytes, and the .npy inside must hold exactly the bytes its shape
 * says.  Names reach messages only through text_msg.  The arrays point into
 * the caller's buffer; nothing is copied.
 */
#include "tostc.h"

#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER (1 << 20)   /* bytes of a .npy header dict */

/* ---- little-endian fields and CRC-32 ---- */

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

/* CRC-32 (zip's, reflected 0xEDB88320), from a table the caller holds. */
static void crc_init(uint32_t t[256])
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
}

static uint32_t crc32_update(const uint32_t t[256], uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- .npy ---- */

/* numpy's type strings of tostc's types */
static const struct {
	const char *descr;
	DType t;
} descrs[] = {{"<f4", DT_F32}, {"<i8", DT_I64}, {"<i4", DT_I32}, {"|b1", DT_BOOL}};

static DType descr_dtype(const char *d)
{
	for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
		if (strcmp(d, descrs[i].descr) == 0)
			return descrs[i].t;
	return DT_UNDEF;
}

const char *npy_descr(DType t)
{
	for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
		if (descrs[i].t == t)
			return descrs[i].descr;
	return NULL;
}

const char *npy_type_name(const char *descr)
{
	static const struct {
		const char *code, *name;
	} names[] = {{"f4", "float32"}, {"f8", "float64"}, {"f2", "float16"}, {"i8", "int64"},
	             {"i4", "int32"}, {"i2", "int16"}, {"i1", "int8"}, {"u8", "uint64"},
	             {"u4", "uint32"}, {"u2", "uint16"}, {"u1", "uint8"}, {"b1", "bool"}};
	if (strlen(descr) == 3)
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(descr + 1, names[i].code) == 0)
				return names[i].name;
	return descr;
}

/* The header dict's parser: a cursor over [p, end). */
typedef struct {
	Ctx *c;
	const char *what;          /* the array, for messages */
	const char *p, *end;
} Dict;

static void skip_space(Dict *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t'))
		d->p++;
}

static _Noreturn void dict_error(Dict *d, const char *why)
{
	ctx_error(d->c, "%s: the .npy header is not numpy's ({'descr': ..., 'fortran_order': ..., "
	          "'shape': (...)}): %s", d->what, why);
}

static bool accept(Dict *d, const char *s)
{
	skip_space(d);
	size_t n = strlen(s);
	if ((size_t)(d->end - d->p) >= n && memcmp(d->p, s, n) == 0) {
		d->p += n;
		return true;
	}
	return false;
}

static void expect(Dict *d, const char *s)
{
	if (!accept(d, s))
		dict_error(d, ctx_printf(d->c, "'%s' expected", s));
}

/* a quoted string without escapes, at most 63 bytes */
static const char *dict_string(Dict *d)
{
	skip_space(d);
	if (d->p == d->end || (*d->p != '\'' && *d->p != '"'))
		dict_error(d, "a quoted string expected");
	char q = *d->p++;
	const char *s = d->p;
	while (d->p < d->end && *d->p != q && *d->p != '\\')
		d->p++;
	if (d->p == d->end || *d->p != q || d->p - s > 63)
		dict_error(d, "a string too long, unterminated or with escapes");
	d->p++;
	return ctx_printf(d->c, "%.*s", (int)(d->p - 1 - s), s);
}

static int64_t dict_int(Dict *d)
{
	skip_space(d);
	int64_t v = 0;
	const char *s = d->p;
	while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			dict_error(d, "a dimension too large");
		v = v * 10 + (*d->p++ - '0');
	}
	if (d->p == s)
		dict_error(d, "a dimension (a non-negative integer) expected");
	(void)accept(d, "L");   /* Python 2's long */
	return v;
}

/* Parse the header dict into a (descr, fortran, shape). */
static void parse_dict(Dict *d, NpyArray *a)
{
	bool have_descr = false, have_fortran = false, have_shape = false, fortran = false;
	expect(d, "{");
	while (!accept(d, "}")) {
		const char *key = dict_string(d);
		expect(d, ":");
		if (strcmp(key, "descr") == 0 && !have_descr) {
			a->descr = dict_string(d);
			have_descr = true;
		} else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
			if (accept(d, "True"))
				fortran = true;
			else if (!accept(d, "False"))
				dict_error(d, "'fortran_order' is neither True nor False");
			have_fortran = true;
		} else if (strcmp(key, "shape") == 0 && !have_shape) {
			expect(d, "(");
			a->rank = 0;
			while (!accept(d, ")")) {
				if (a->rank == MAX_RANK)
					ctx_error(d->c, "%s: rank over %d, the most tostc supports", d->what,
					          MAX_RANK);
				a->dims[a->rank++] = dict_int(d);
				if (!accept(d, ",")) {
					expect(d, ")");
					break;
				}
			}
			have_shape = true;
		} else {
			dict_error(d, ctx_printf(d->c, "key '%s' unknown or repeated", text_msg(d->c, key)));
		}
		if (!accept(d, ",")) {
			expect(d, "}");
			break;
		}
	}
	skip_space(d);
	if (d->p != d->end)
		dict_error(d, "text after the dict");
	if (!have_descr || !have_fortran || !have_shape)
		dict_error(d, "'descr', 'fortran_order' or 'shape' missing");
	if (fortran && a->rank > 1)
		ctx_error(d->c, "%s: stored in Fortran order; save np.ascontiguousarray(a) instead",
		          d->what);
}

void npy_parse(Ctx *c, const char *what, const unsigned char *p, int64_t n, NpyArray *a)
{
	if (n < 10 || memcmp(p, NPY_MAGIC, 6) != 0)
		ctx_error(c, "%s: not a .npy array (no \\x93NUMPY magic)", what);
	int major = p[6];
	int64_t hlen, start;
	if (major == 1) {
		hlen = (int64_t)le(p + 8, 2), start = 10;
	} else if (major == 2 || major == 3) {
		if (n < 12)
			ctx_error(c, "%s: truncated .npy header", what);
		hlen = (int64_t)le(p + 8, 4), start = 12;
	} else {
		ctx_error(c, "%s: .npy format version %d.%d, not 1, 2 or 3", what, major, p[7]);
	}
	if (hlen > NPY_MAX_HEADER || hlen > n - start)
		ctx_error(c, "%s: the .npy header (%lld bytes) runs past the array's %lld bytes", what,
		          (long long)hlen, (long long)n);
	const char *h = (const char *)p + start;
	int64_t k = hlen;
	while (k > 0 && (h[k - 1] == '\n' || h[k - 1] == ' ' || h[k - 1] == '\0'))
		k--;
	for (int64_t i = 0; i < k; i++)
		if ((unsigned char)h[i] < 0x20 || (unsigned char)h[i] >= 0x7f)
			ctx_error(c, "%s: the .npy header has a byte that is not printable ASCII", what);
	Dict d = {c, what, h, h + k};
	memset(a, 0, sizeof *a);
	parse_dict(&d, a);
	const char *ds = a->descr;
	int itemsize = 0;
	if (strlen(ds) >= 3 && strchr("<>|=", ds[0]) && strchr("fiub", ds[1]) && strlen(ds) <= 4) {
		for (const char *q = ds + 2; *q; q++)
			itemsize = *q >= '0' && *q <= '9' ? itemsize * 10 + (*q - '0') : -1000;
	}
	if (itemsize <= 0)
		ctx_error(c, "%s: element type '%s' is not a plain number type", what, text_msg(c, ds));
	if (ds[0] == '>' && itemsize > 1)
		ctx_error(c, "%s: stored big-endian ('%s'); save it little-endian, e.g. "
		          "a.astype('<%s')", what, text_msg(c, ds), text_msg(c, ds + 1));
	a->dtype = descr_dtype(ds);
	if (ds[0] == '=' || ds[0] == '>')  /* native (little-endian) or one byte */
		a->dtype = descr_dtype(ctx_printf(c, "%c%s", itemsize == 1 ? '|' : '<', ds + 1));
	int64_t count = 1;
	for (int i = 0; i < a->rank; i++)
		count = ctx_mul(c, count, a->dims[i]);
	a->nbytes = ctx_mul(c, count, itemsize);
	if (a->nbytes != n - start - hlen)
		ctx_error(c, "%s: shape (%s) of %s needs %lld bytes, but %lld follow the header", what,
		          npy_shape_text(c, a), npy_type_name(ds), (long long)a->nbytes,
		          (long long)(n - start - hlen));
	a->data = p + start + hlen;
}

const char *npy_shape_text(Ctx *c, const NpyArray *a)
{
	char *s = ctx_printf(c, "%s", "");
	for (int i = 0; i < a->rank; i++)
		s = ctx_printf(c, "%s%s%lld", s, i ? ", " : "", (long long)a->dims[i]);
	return a->rank == 1 ? ctx_printf(c, "%s,", s) : s;
}

/* ---- .npz ---- */

/* The end of central directory record (and its zip64 form): where the
 * directory is and how many entries it has. */
static void find_directory(Ctx *c, const char *path, const unsigned char *p, int64_t n,
                           int64_t *cd_off, int64_t *cd_size, int64_t *count)
{
	int64_t e = -1;
	for (int64_t i = n - 22; i >= 0 && i >= n - 22 - 65535; i--)
		if (le(p + i, 4) == 0x06054b50 && i + 22 + (int64_t)le(p + i + 20, 2) == n) {
			e = i;
			break;
		}
	if (e < 0) {
		if (n >= 4 && le(p, 4) == 0x04034b50)
			ctx_error(c, "%s: a zip archive without its central directory (truncated?)", path);
		ctx_error(c, "%s: not a .npz (zip) archive", path);
	}
	if (le(p + e + 4, 2) != 0 || le(p + e + 6, 2) != 0)
		ctx_error(c, "%s: a zip archive split over several disks", path);
	*count = (int64_t)le(p + e + 10, 2);
	*cd_size = (int64_t)le(p + e + 12, 4);
	*cd_off = (int64_t)le(p + e + 16, 4);
	if (*count != 0xffff && *cd_size != 0xffffffff && *cd_off != 0xffffffff)
		return;
	/* zip64: the locator just before, then the zip64 record it points to */
	if (e < 20 || le(p + e - 20, 4) != 0x07064b50)
		ctx_error(c, "%s: a zip64 archive without its zip64 locator", path);
	int64_t z = (int64_t)le(p + e - 12, 8);
	if (z < 0 || z > e - 20 - 56 || le(p + z, 4) != 0x06064b50)
		ctx_error(c, "%s: the zip64 directory record is not where its locator says", path);
	*count = (int64_t)le(p + z + 32, 8);
	*cd_size = (int64_t)le(p + z + 40, 8);
	*cd_off = (int64_t)le(p + z + 48, 8);
}

/* The zip64 extra field of a directory entry: the values that were too
 * large for their 32-bit fields, in the order the format gives. */
static void zip64_values(Ctx *c, const char *what, const unsigned char *x, int64_t xn,
                         int64_t *usize, int64_t *csize, int64_t *off)
{
	int64_t *want[3] = {usize, csize, off};
	while (xn >= 4) {
		int64_t id = (int64_t)le(x, 2), len = (int64_t)le(x + 2, 2);
		if (len > xn - 4)
			ctx_error(c, "%s: an extra field runs past its entry", what);
		if (id == 1) {
			int64_t at = 0;
			for (int i = 0; i < 3; i++) {
				if (*want[i] != 0xffffffff)
					continue;
				if (at + 8 > len)
					ctx_error(c, "%s: its zip64 field lacks a size or offset", what);
				*want[i] = (int64_t)le(x + 4 + at, 8);
				at += 8;
			}
			return;
		}
		x += 4 + len, xn -= 4 + len;
	}
	for (int i = 0; i < 3; i++)
		if (*want[i] == 0xffffffff)
			ctx_error(c, "%s: a size or offset marked zip64 without a zip64 field", what);
}

NpzFile *npz_parse(Ctx *c, const char *path, const unsigned char *p, int64_t n)
{
	int64_t cd_off, cd_size, count;
	find_directory(c, path, p, n, &cd_off, &cd_size, &count);
	if (cd_off < 0 || cd_size < 0 || count < 0 || cd_off > n || cd_size > n - cd_off)
		ctx_error(c, "%s: the zip directory lies outside the file", path);
	if (count > cd_size / 46)
		ctx_error(c, "%s: the zip directory is too small for its %lld entries", path,
		          (long long)count);
	NpzFile *z = ctx_alloc(c, sizeof *z);
	z->arrays = ctx_alloc(c, sizeof(NpyArray) * (size_t)(count ? count : 1));
	uint32_t crc[256];
	crc_init(crc);
	int64_t at = cd_off, end = cd_off + cd_size;
	for (int64_t k = 0; k < count; k++) {
		const unsigned char *h = p + at;
		if (end - at < 46 || le(h, 4) != 0x02014b50)
			ctx_error(c, "%s: zip directory entry %lld is damaged", path, (long long)k + 1);
		int64_t flags = (int64_t)le(h + 8, 2), method = (int64_t)le(h + 10, 2);
		uint32_t want_crc = (uint32_t)le(h + 16, 4);
		int64_t csize = (int64_t)le(h + 20, 4), usize = (int64_t)le(h + 24, 4);
		int64_t nlen = (int64_t)le(h + 28, 2), xlen = (int64_t)le(h + 30, 2);
		int64_t clen = (int64_t)le(h + 32, 2), off = (int64_t)le(h + 42, 4);
		if (46 + nlen + xlen + clen > end - at)
			ctx_error(c, "%s: zip directory entry %lld runs past the directory", path,
			          (long long)k + 1);
		char *name = ctx_printf(c, "%.*s", (int)nlen, (const char *)h + 46);
		if (strlen(name) != (size_t)nlen)
			ctx_error(c, "%s: an entry name with a NUL byte", path);
		const char *what = ctx_printf(c, "%s: entry '%s'", path, text_msg(c, name));
		zip64_values(c, what, h + 46 + nlen, xlen, &usize, &csize, &off);
		at += 46 + nlen + xlen + clen;
		if (flags & 1)
			ctx_error(c, "%s is encrypted", what);
		if (method == 8)
			ctx_error(c, "%s is compressed (np.savez_compressed); tostc reads the arrays "
			          "np.savez stores uncompressed", what);
		if (method != 0)
			ctx_error(c, "%s is compressed (zip method %lld); tostc reads the arrays "
			          "np.savez stores uncompressed", what, (long long)method);
		if (csize != usize)
			ctx_error(c, "%s: stored, but its two sizes differ", what);
		/* the local header: the same name, then the bytes */
		if (off < 0 || off > cd_off || cd_off - off < 30 || le(p + off, 4) != 0x04034b50)
			ctx_error(c, "%s: its local header is not where the directory says", what);
		int64_t lnlen = (int64_t)le(p + off + 26, 2), lxlen = (int64_t)le(p + off + 28, 2);
		int64_t data = off + 30 + lnlen + lxlen;
		if (lnlen != nlen || data > cd_off || memcmp(p + off + 30, name, (size_t)nlen) != 0)
			ctx_error(c, "%s: its local header does not match the directory", what);
		if (csize > cd_off - data)
			ctx_error(c, "%s: its %lld bytes run past the data of the archive", what,
			          (long long)csize);
		if (crc32_update(crc, 0, p + data, (size_t)csize) != want_crc)
			ctx_error(c, "%s: its bytes do not match their CRC-32 (a damaged file)", what);
		size_t len = strlen(name);
		if (len < 4 || strcmp(name + len - 4, ".npy") != 0)
			ctx_error(c, "%s is not a .npy array", what);
		name[len - 4] = 0;
		for (int i = 0; i < z->n; i++)
			if (strcmp(z->arrays[i].name, name) == 0)
				ctx_error(c, "%s: the archive holds '%s' twice", path, text_msg(c, name));
		NpyArray *a = &z->arrays[z->n++];
		npy_parse(c, what, p + data, csize, a);
		a->name = name;
	}
	return z;
}

NpzFile *npz_read(Ctx *c, const char *path)
{
	long n;
	const unsigned char *p = (const unsigned char *)ctx_read_file(c, "", path, &n);
	size_t len = strlen(path);
	if (len >= 4 && strcmp(path + len - 4, ".npy") == 0) {
		NpzFile *z = ctx_alloc(c, sizeof *z);
		z->arrays = ctx_alloc(c, sizeof(NpyArray));
		npy_parse(c, path, p, n, &z->arrays[0]);
		z->arrays[0].name = "";
		z->n = 1;
		return z;
	}
	return npz_parse(c, path, p, n);
}

/* ---- writing ---- */

/* The .npy header of a, padded so that the data starts 64-byte aligned. */
static const char *npy_header(Ctx *c, const NpyArray *a, size_t *len)
{
	const char *dict = ctx_printf(c, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
	                              a->descr, npy_shape_text(c, a));
	size_t n = strlen(dict), total = (10 + n + 1 + 63) / 64 * 64;
	char *h = ctx_alloc(c, total + 1);
	memcpy(h, NPY_MAGIC "\x01\x00", 8);
	put_le((unsigned char *)h + 8, total - 10, 2);
	memcpy(h + 10, dict, n);
	memset(h + 10 + n, ' ', total - 10 - n - 1);
	h[total - 1] = '\n';
	*len = total;
	return h;
}

void npz_write(Ctx *c, FILE *f, const NpyArray *arrays, int n)
{
	uint32_t crc[256];
	crc_init(crc);
	unsigned char *dir = ctx_alloc(c, (size_t)n * 46 + 1);
	int64_t at = 0, dirlen = 0;
	for (int i = 0; i < n; i++) {
		const NpyArray *a = &arrays[i];
		size_t hlen;
		const char *h = npy_header(c, a, &hlen);
		const char *name = ctx_printf(c, "%s.npy", a->name);
		size_t nlen = strlen(name);
		int64_t size = ctx_add(c, (int64_t)hlen, a->nbytes);
		if (size >= 0xffffffffLL || at >= 0xffffffffLL - size || nlen > 0xffff)
			ctx_error(c, "the outputs are too large for a .npz without zip64 (4 GiB)");
		uint32_t sum = crc32_update(crc, crc32_update(crc, 0, (const unsigned char *)h, hlen),
		                            a->data, (size_t)a->nbytes);
		unsigned char lh[30] = {0};
		put_le(lh, 0x04034b50, 4);
		put_le(lh + 4, 20, 2);         /* version needed: 2.0 */
		put_le(lh + 12, 0x21, 2);      /* 1980-01-01: the same bytes on every run */
		put_le(lh + 14, sum, 4);
		put_le(lh + 18, (uint64_t)size, 4);
		put_le(lh + 22, (uint64_t)size, 4);
		put_le(lh + 26, nlen, 2);
		fwrite(lh, 1, 30, f);
		fwrite(name, 1, nlen, f);
		fwrite(h, 1, hlen, f);
		fwrite(a->data, 1, (size_t)a->nbytes, f);
		/* its directory entry: the same fields, and where the header is */
		unsigned char *d = dir + i * 46;
		put_le(d, 0x02014b50, 4);
		put_le(d + 4, 20, 2);
		memcpy(d + 6, lh + 4, 26);
		put_le(d + 42, (uint64_t)at, 4);
		at += 30 + (int64_t)nlen + size;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ctx_printf(c, "%s.npy", arrays[i].name);
		fwrite(dir + i * 46, 1, 46, f);
		fputs(name, f);
		dirlen += 46 + (int64_t)strlen(name);
	}
	unsigned char e[22] = {0};
	put_le(e, 0x06054b50, 4);
	put_le(e + 8, (uint64_t)n, 2);
	put_le(e + 10, (uint64_t)n, 2);
	put_le(e + 12, (uint64_t)dirlen, 4);
	put_le(e + 16, (uint64_t)at, 4);
	if (n > 0xffff || at + dirlen >= 0xffffffffLL)
		ctx_error(c, "the outputs are too large for a .npz without zip64 (4 GiB)");
	fwrite(e, 1, 22, f);
}

void npy_write(Ctx *c, FILE *f, const NpyArray *a)
{
	size_t hlen;
	const char *h = npy_header(c, a, &hlen);
	fwrite(h, 1, hlen, f);
	fwrite(a->data, 1, (size_t)a->nbytes, f);
}
