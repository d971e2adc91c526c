/*
 * A bounded reader of NumPy .npy files (format versions 1.0, 2.0 and 3.0) for spike rasters:
 * C order, little-endian (or single-byte) bool, integer and float dtypes, converted to double.
 * The header dict is parsed strictly; Fortran order, big-endian data, object and structured
 * dtypes are refused with a message naming the reason.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "nir_internal.h"

void npy_free(struct npy_array *a)
{
	if (!a)
		return;
	free(a->v);
	a->v = NULL;
}

struct hp {
	const char *s, *e;
};

static void skip_ws(struct hp *p)
{
	while (p->s < p->e && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n'))
		p->s++;
}

static bool eat(struct hp *p, char c)
{
	skip_ws(p);
	if (p->s < p->e && *p->s == c) {
		p->s++;
		return true;
	}
	return false;
}

/* A quoted Python string ('...' or "...") without escapes, into out[cap]. */
static bool str_lit(struct hp *p, char *out, size_t cap)
{
	skip_ws(p);
	if (p->s >= p->e || (*p->s != '\'' && *p->s != '"'))
		return false;
	char q = *p->s++;
	size_t n = 0;
	while (p->s < p->e && *p->s != q) {
		if (*p->s == '\\' || n + 1 >= cap)
			return false;
		out[n++] = *p->s++;
	}
	if (p->s >= p->e)
		return false;
	p->s++;
	out[n] = 0;
	return true;
}

static bool word(struct hp *p, const char *w)
{
	skip_ws(p);
	size_t l = strlen(w);
	if ((size_t)(p->e - p->s) >= l && !memcmp(p->s, w, l)) {
		p->s += l;
		return true;
	}
	return false;
}

int npy_parse(const uint8_t *buf, size_t len, struct npy_array *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
		net_seterr(err, errlen, "not a .npy file (no \\x93NUMPY magic)");
		return -1;
	}
	unsigned major = buf[6], minor = buf[7];
	size_t hl, off;
	if (major == 1 && minor == 0) {
		hl = (size_t)buf[8] | (size_t)buf[9] << 8;
		off = 10;
	} else if ((major == 2 || major == 3) && minor == 0) {
		if (len < 12) {
			net_seterr(err, errlen, ".npy header is truncated");
			return -1;
		}
		hl = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
		     (size_t)buf[11] << 24;
		off = 12;
	} else {
		net_seterr(err, errlen,
		           ".npy format version %u.%u is not supported (1.0, 2.0, 3.0)", major,
		           minor);
		return -1;
	}
	if (hl > len - off || hl > (1u << 20)) {
		net_seterr(err, errlen, ".npy header of %zu bytes does not fit the file", hl);
		return -1;
	}
	struct hp p = {(const char *)buf + off, (const char *)buf + off + hl};
	char descr[32] = "";
	int fortran = -1;
	bool have_shape = false;
	if (!eat(&p, '{'))
		goto bad;
	for (;;) {
		char key[32];
		if (eat(&p, '}'))
			break;
		if (!str_lit(&p, key, sizeof key) || !eat(&p, ':'))
			goto bad;
		if (!strcmp(key, "descr")) {
			skip_ws(&p);
			if (p.s < p.e && *p.s == '[') {
				net_seterr(err, errlen, ".npy structured dtypes are not supported");
				return -1;
			}
			if (!str_lit(&p, descr, sizeof descr))
				goto bad;
		} else if (!strcmp(key, "fortran_order")) {
			if (word(&p, "True"))
				fortran = 1;
			else if (word(&p, "False"))
				fortran = 0;
			else
				goto bad;
		} else if (!strcmp(key, "shape")) {
			if (!eat(&p, '('))
				goto bad;
			out->rank = 0;
			for (;;) {
				skip_ws(&p);
				if (eat(&p, ')'))
					break;
				if (p.s >= p.e || !isdigit((unsigned char)*p.s))
					goto bad;
				uint64_t d = 0;
				while (p.s < p.e && isdigit((unsigned char)*p.s)) {
					if (d > (1ull << 40))
						goto bad;
					d = d * 10 + (uint64_t)(*p.s++ - '0');
				}
				if (out->rank == NIR_MAX_RANK) {
					net_seterr(err, errlen,
					           ".npy array has more than %d dimensions",
					           NIR_MAX_RANK);
					return -1;
				}
				out->dims[out->rank++] = d;
				if (!eat(&p, ',')) {
					if (!eat(&p, ')'))
						goto bad;
					break;
				}
			}
			have_shape = true;
		} else {
			goto bad;
		}
		if (!eat(&p, ',')) {
			if (!eat(&p, '}'))
				goto bad;
			break;
		}
	}
	if (!descr[0] || fortran < 0 || !have_shape)
		goto bad;
	if (fortran) {
		net_seterr(err, errlen, ".npy array is in Fortran order (save it C-contiguous)");
		return -1;
	}
	static const char *const DT[] = {"|b1", "|u1", "|i1", "<u2", "<i2", "<u4",
	                                 "<i4", "<u8", "<i8", "<f4", "<f8"};
	static const unsigned SZ[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
	int dt = -1;
	for (int i = 0; i < 11; i++)
		if (!strcmp(descr, DT[i]))
			dt = i;
	/* single-byte types may also be written with '<' or '=' */
	if (dt < 0 && (descr[0] == '<' || descr[0] == '=') && descr[2] == '1' && !descr[3]) {
		char alt[4] = {'|', descr[1], '1', 0};
		for (int i = 0; i < 3; i++)
			if (!strcmp(alt, DT[i]))
				dt = i;
	}
	if (dt < 0) {
		if (descr[0] == '>')
			net_seterr(err, errlen, ".npy dtype '%s' is big-endian (use little-endian)",
			           descr);
		else if (!strcmp(descr, "|O"))
			net_seterr(err, errlen, ".npy object arrays are not supported");
		else
			net_seterr(err, errlen,
			           ".npy dtype '%s' is not supported (bool, integer or float)",
			           descr);
		return -1;
	}
	uint64_t n = 1;
	for (unsigned i = 0; i < out->rank; i++) {
		if (out->dims[i] && n > NPY_MAX_ELEMS / out->dims[i]) {
			net_seterr(err, errlen, ".npy array has more than %u elements",
			           NPY_MAX_ELEMS);
			return -1;
		}
		n *= out->dims[i];
	}
	size_t body = len - off - hl;
	if (n * SZ[dt] > body) {
		net_seterr(err, errlen,
		           ".npy data is truncated: %llu elements need %llu bytes, %zu "
		           "there",
		           (unsigned long long)n, (unsigned long long)(n * SZ[dt]), body);
		return -1;
	}
	out->n = (size_t)n;
	out->v = malloc((n ? n : 1) * sizeof *out->v);
	if (!out->v) {
		net_seterr(err, errlen, ".npy array: out of memory");
		return -1;
	}
	const uint8_t *d = buf + off + hl;
	for (size_t i = 0; i < out->n; i++, d += SZ[dt]) {
		uint64_t u = 0;
		for (unsigned b = 0; b < SZ[dt]; b++)
			u |= (uint64_t)d[b] << (8 * b);
		double x;
		switch (dt) {
		case 0:
			x = u != 0;
			break;
		case 1:
		case 3:
		case 5:
		case 7:
			x = (double)u;
			break;
		case 2:
			x = (int8_t)u;
			break;
		case 4:
			x = (int16_t)u;
			break;
		case 6:
			x = (int32_t)u;
			break;
		case 8:
			x = (double)(int64_t)u;
			break;
		case 9: {
			uint32_t w = (uint32_t)u;
			float f;
			memcpy(&f, &w, 4);
			x = f;
			break;
		}
		default:
			memcpy(&x, &u, 8);
			break;
		}
		out->v[i] = x;
	}
	return 0;
bad:
	net_seterr(err, errlen,
	           ".npy header is not a valid dict of descr, fortran_order and shape");
	return -1;
}
