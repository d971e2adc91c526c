/*
 * Host file helpers (s2/fileio.h): the one atomic writer (temporary file in the target's
 * directory, fsync, rename, directory fsync) and whole-file reader used by every s2 file, and
 * the in-memory builder and checker of the checksummed container (s2/sfile.h).
 */
#include "s2/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/wire.h"

static int fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_parts(const char *path, const void *const *parts, const size_t *lens, unsigned n,
                       mode_t mode, char *err, size_t errlen);

int s2_file_write_parts(const char *path, const void *const *parts, const size_t *lens, unsigned n,
                        char *err, size_t errlen)
{
	return write_parts(path, parts, lens, n, 0644, err, errlen);
}

int s2_file_write_private(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	return write_parts(path, &data, &len, 1, 0600, err, errlen);
}

static int write_parts(const char *path, const void *const *parts, const size_t *lens, unsigned n,
                       mode_t mode, char *err, size_t errlen)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%.200s...: path too long", path);
		return S2_E_IO;
	}
	(void)unlink(tmp); /* a stale one from a dead process of the same pid: not its mode */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
		return S2_E_IO;
	}
	bool ok = true;
	for (unsigned i = 0; ok && i < n; i++) {
		const uint8_t *p = parts[i];
		size_t left = lens[i];
		while (ok && left) {
			ssize_t w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			ok = w > 0;
			if (ok) {
				p += w;
				left -= (size_t)w;
			}
		}
	}
	ok = ok && fsync(fd) == 0;
	int e = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
		unlink(tmp);
		return S2_E_IO;
	}
	(void)fsync_dir(path); /* durability of the rename; the file itself is complete */
	return 0;
}

int s2_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	return s2_file_write_parts(path, &data, &len, 1, err, errlen);
}

FILE *s2_file_tmp_open(const char *path, const char *mode, char *tmp, size_t tmplen, char *err,
                       size_t errlen)
{
	if (snprintf(tmp, tmplen, "%s.tmp%ld", path, (long)getpid()) >= (int)tmplen) {
		snprintf(err, errlen, "%.200s...: path too long", path);
		return NULL;
	}
	FILE *f = fopen(tmp, mode);
	if (!f)
		snprintf(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
	return f;
}

int s2_file_tmp_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen)
{
	bool ok = fflush(f) == 0 && !ferror(f);
	ok = ok && fsync(fileno(f)) == 0;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e ? e : EIO));
		unlink(tmp);
		return S2_E_IO;
	}
	(void)fsync_dir(path);
	return 0;
}

void s2_file_tmp_abort(FILE *f, const char *tmp)
{
	if (f)
		fclose(f);
	unlink(tmp);
}

int s2_file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
                     size_t errlen)
{
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return S2_E_IO;
	}
	int rc = 0;
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				rc = S2_E_RANGE;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > max)
				cap = max +
				      1; /* one byte more than allowed tells a too large file */
			uint8_t *nb = realloc(b, cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				rc = S2_E_NOMEM;
				break;
			}
			b = nb;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
				rc = S2_E_IO;
			}
			break;
		}
	}
	fclose(f);
	if (rc == 0 && n > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		rc = S2_E_RANGE;
	}
	if (rc < 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

static void kind_str(uint32_t k, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(k >> (8 * i));
		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[4] = 0;
}

/* What a kind is called in messages. */
static const char *kind_noun(uint32_t k)
{
	static const struct {
		uint32_t kind;
		const char *noun;
	} nouns[] = {
	        {S2_SFILE_KIND('R', 'S', 'L', 'T'), "s2 results file"},
	        {S2_SFILE_KIND('M', 'A', 'C', 'H'), "s2 machine description"},
	        {S2_SFILE_KIND('C', 'A', 'P', 'X'), "s2 capture index"},
	};
	for (size_t i = 0; i < sizeof nouns / sizeof nouns[0]; i++)
		if (nouns[i].kind == k)
			return nouns[i].noun;
	return "s2 file";
}

int s2_file_check(const uint8_t *buf, size_t len, uint32_t kind, uint16_t max_version,
                  const char *what, struct s2_sfile *f, char *err, size_t errlen)
{
	struct s2_sfile_fault why;
	int rc = s2_sfile_verify(buf, len, kind, max_version, f, &why);
	if (rc == 0)
		return 0;
	char a[5], b[5];
	switch (why.what) {
	case S2_SFILE_NOT_S2:
		snprintf(err, errlen, "%s: not an %s (no S2FC header)", what, kind_noun(kind));
		break;
	case S2_SFILE_SHORT_HDR:
		snprintf(err, errlen, "%s: truncated: %llu bytes, shorter than the %u-byte header",
		         what, (unsigned long long)why.have, S2_SFILE_HEADER);
		break;
	case S2_SFILE_CVERSION:
		snprintf(err, errlen,
		         "%s: header: container version %llu is not supported (this is %u)", what,
		         (unsigned long long)why.have, S2_SFILE_VERSION);
		break;
	case S2_SFILE_HDR_CRC:
		snprintf(err, errlen, "%s: header fails its checksum", what);
		break;
	case S2_SFILE_TRUNCATED:
		snprintf(err, errlen, "%s: truncated: header says %llu bytes, file has %llu", what,
		         (unsigned long long)why.want, (unsigned long long)why.have);
		break;
	case S2_SFILE_TRAILING:
		snprintf(err, errlen, "%s: trailing bytes: header says %llu bytes, file has %llu",
		         what, (unsigned long long)why.want, (unsigned long long)why.have);
		break;
	case S2_SFILE_KIND:
		kind_str((uint32_t)why.want, a);
		kind_str((uint32_t)why.have, b);
		snprintf(err, errlen, "%s: not an %s (an s2 '%s' file, not '%s')", what,
		         kind_noun(kind), b, a);
		break;
	case S2_SFILE_FVERSION:
		snprintf(err, errlen,
		         "%s: format version %llu is not supported (this s2 reads 1 to %llu)", what,
		         (unsigned long long)why.have, (unsigned long long)why.want);
		break;
	case S2_SFILE_TABLE:
		snprintf(err, errlen, "%s: section table: entry %u is inconsistent", what,
		         why.section);
		break;
	case S2_SFILE_SEC_CRC:
		snprintf(err, errlen, "%s: section '%.*s' fails its checksum", what,
		         (int)why.name_len, why.name);
		break;
	default:
		snprintf(err, errlen, "%s: %s", what, s2_strerror(rc));
	}
	return rc;
}

/* ---- builder --------------------------------------------------------------------------- */

struct wsec {
	char name[S2_SFILE_NAME_MAX + 1];
	size_t off, len;
};

struct s2_file_w {
	uint32_t kind;
	uint16_t version;
	uint8_t *buf;
	size_t len, cap;
	struct wsec *sec;
	uint32_t n, cap_sec;
	int err;
};

struct s2_file_w *s2_file_w_new(uint32_t kind, uint16_t version)
{
	struct s2_file_w *w = calloc(1, sizeof *w);
	if (w) {
		w->kind = kind;
		w->version = version;
	}
	return w;
}

void s2_file_w_free(struct s2_file_w *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w->sec);
	free(w);
}

int s2_file_w_section(struct s2_file_w *w, const char *name)
{
	if (w->err)
		return w->err;
	if (!name[0])
		return w->err = S2_E_INVAL;
	if (w->n == w->cap_sec) {
		uint32_t nc = w->cap_sec ? 2 * w->cap_sec : 8;
		struct wsec *ns =
		        nc > S2_SFILE_MAX_SECTIONS ? NULL : realloc(w->sec, nc * sizeof *ns);
		if (!ns)
			return w->err = S2_E_NOMEM;
		w->sec = ns;
		w->cap_sec = nc;
	}
	struct wsec *s = &w->sec[w->n++];
	size_t nl = strlen(name);
	if (nl > S2_SFILE_NAME_MAX)
		snprintf(s->name, sizeof s->name, "%.*s...", (int)S2_SFILE_NAME_MAX - 3, name);
	else
		memcpy(s->name, name, nl + 1);
	s->off = w->len;
	s->len = 0;
	return 0;
}

int s2_file_w_put(struct s2_file_w *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if (!w->n)
		return w->err = S2_E_INVAL;
	if (n > w->cap - w->len) {
		size_t nc = w->cap ? w->cap : 4096;
		while (nc - w->len < n) {
			if (nc > SIZE_MAX / 2)
				return w->err = S2_E_NOMEM;
			nc *= 2;
		}
		uint8_t *nb = realloc(w->buf, nc);
		if (!nb)
			return w->err = S2_E_NOMEM;
		w->buf = nb;
		w->cap = nc;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->sec[w->n - 1].len += n;
	return 0;
}

int s2_file_w_u16(struct s2_file_w *w, uint16_t v)
{
	uint8_t b[2];
	s2_st16(b, v);
	return s2_file_w_put(w, b, 2);
}

int s2_file_w_u32(struct s2_file_w *w, uint32_t v)
{
	uint8_t b[4];
	s2_st32(b, v);
	return s2_file_w_put(w, b, 4);
}

int s2_file_w_u64(struct s2_file_w *w, uint64_t v)
{
	uint8_t b[8];
	s2_st64(b, v);
	return s2_file_w_put(w, b, 8);
}

static bool pb_varint(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*at >= n)
			return false;
		uint8_t c = p[(*at)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* Protobuf wire format: the end of the top-level field at p[at..n); its number in *field. */
static int pb_field(const uint8_t *p, size_t n, size_t at, uint32_t *field, size_t *end)
{
	uint64_t key, v;
	if (!pb_varint(p, n, &at, &key))
		return S2_E_FORMAT;
	*field = (uint32_t)(key >> 3);
	switch (key & 7) {
	case 0:
		if (!pb_varint(p, n, &at, &v))
			return S2_E_FORMAT;
		break;
	case 1:
	case 5:
		v = (key & 7) == 1 ? 8 : 4;
		if (v > n - at)
			return S2_E_FORMAT;
		at += (size_t)v;
		break;
	case 2:
		if (!pb_varint(p, n, &at, &v) || v > n - at)
			return S2_E_FORMAT;
		at += (size_t)v;
		break;
	default:
		return S2_E_FORMAT;
	}
	*end = at;
	return 0;
}

#define PB_FIELDS 64 /* occurrence counters for field numbers below this; others share one */

int s2_file_w_protobuf(struct s2_file_w *w, const uint8_t *pb, size_t len,
                       void (*name)(uint32_t field, unsigned nth, char *buf, size_t n))
{
	unsigned nth[PB_FIELDS + 1] = {0};
	char cur[S2_SFILE_NAME_MAX + 1] = "", nm[S2_SFILE_NAME_MAX + 1];
	for (size_t at = 0; at < len;) {
		uint32_t field;
		size_t end;
		int rc = pb_field(pb, len, at, &field, &end);
		if (rc < 0)
			return w->err = rc;
		unsigned *k = &nth[field < PB_FIELDS ? field : PB_FIELDS];
		name(field, (*k)++, nm, sizeof nm);
		if (strcmp(nm, cur) != 0 || !w->n) {
			if ((rc = s2_file_w_section(w, nm)) < 0)
				return rc;
			memcpy(cur, nm, sizeof cur);
		}
		if ((rc = s2_file_w_put(w, pb + at, end - at)) < 0)
			return rc;
		at = end;
	}
	if (!len && !w->n)
		return s2_file_w_section(w, "empty");
	return 0;
}

/* Header and table into a new buffer. */
static int w_head(struct s2_file_w *w, uint8_t **head, size_t *head_len)
{
	if (w->err)
		return w->err;
	if (!w->n)
		return S2_E_INVAL;
	struct s2_sfile_sec *secs = malloc(w->n * sizeof *secs);
	if (!secs)
		return S2_E_NOMEM;
	for (uint32_t i = 0; i < w->n; i++)
		secs[i] = (struct s2_sfile_sec){w->sec[i].name, (unsigned)strlen(w->sec[i].name),
		                                w->buf ? w->buf + w->sec[i].off : NULL,
		                                w->sec[i].len};
	size_t hs = s2_sfile_head_size(secs, w->n);
	uint8_t *h = malloc(hs);
	int rc = h ? s2_sfile_encode_head(h, hs, w->kind, w->version, secs, w->n, head_len)
	           : S2_E_NOMEM;
	free(secs);
	if (rc < 0) {
		free(h);
		return rc;
	}
	*head = h;
	return 0;
}

int s2_file_w_finish(struct s2_file_w *w, uint8_t **out, size_t *len)
{
	uint8_t *h;
	size_t hl;
	int rc = w_head(w, &h, &hl);
	if (rc < 0)
		return rc;
	uint8_t *o = realloc(h, hl + w->len + 1);
	if (!o) {
		free(h);
		return S2_E_NOMEM;
	}
	if (w->len)
		memcpy(o + hl, w->buf, w->len);
	*out = o;
	*len = hl + w->len;
	return 0;
}

int s2_file_w_save(struct s2_file_w *w, const char *path, char *err, size_t errlen)
{
	uint8_t *h;
	size_t hl;
	int rc = w_head(w, &h, &hl);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot encode: %s", path, s2_strerror(rc));
		return rc;
	}
	const void *parts[2] = {h, w->buf};
	size_t lens[2] = {hl, w->len};
	rc = s2_file_write_parts(path, parts, lens, 2, err, errlen);
	free(h);
	return rc;
}

/* ---- checksum records of foreign files ------------------------------------------------- */

#define SUM_KIND S2_SFILE_KIND('S', 'U', 'M', 'S')
#define SUM_MAX (1ull << 40) /* bytes of a file a record describes */

int s2_file_sum_write(const char *path, const char *sum_path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return S2_E_IO;
	}
	struct s2_file_w *w = s2_file_w_new(SUM_KIND, 1);
	uint8_t *chunk = malloc(S2_FILE_SUM_CHUNK);
	uint64_t total = 0;
	int rc = w && chunk ? 0 : S2_E_NOMEM;
	if (rc == 0)
		rc = s2_file_w_section(w, "chunks");
	while (rc == 0) {
		size_t n = fread(chunk, 1, S2_FILE_SUM_CHUNK, f);
		if (n)
			rc = s2_file_w_u32(w, s2_crc32(0, chunk, n));
		total += n;
		if (n < S2_FILE_SUM_CHUNK)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = S2_E_IO;
	fclose(f);
	free(chunk);
	if (rc == 0) {
		rc = s2_file_w_section(w, "file");
		s2_file_w_u64(w, total);
		s2_file_w_u32(w, S2_FILE_SUM_CHUNK);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot read for its checksum record: %s", path,
		         rc == S2_E_IO ? strerror(errno) : s2_strerror(rc));
	else
		rc = s2_file_w_save(w, sum_path, err, errlen);
	s2_file_w_free(w);
	return rc;
}

int s2_file_sum_check(const char *path, const char *sum_path, char *err, size_t errlen)
{
	uint8_t *rec;
	size_t rl;
	struct stat st;
	if (stat(sum_path, &st) != 0 && errno == ENOENT) {
		snprintf(err, errlen, "%s: no checksum record (%s)", path, sum_path);
		return S2_E_NOTFOUND;
	}
	int rc = s2_file_read_all(sum_path, 64u << 20, &rec, &rl, err, errlen);
	if (rc < 0)
		return rc;
	struct s2_sfile sf;
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec chunks, file;
	rc = s2_file_check(rec, rl, SUM_KIND, 1, sum_path, &sf, err, errlen);
	if (rc == 0 && (!s2_sfile_next(&sf, &it, &chunks) || !s2_sfile_sec_is(&chunks, "chunks") ||
	                !s2_sfile_next(&sf, &it, &file) || !s2_sfile_sec_is(&file, "file") ||
	                file.len != 12 || chunks.len % 4)) {
		snprintf(err, errlen, "%s: not a checksum record of one file", sum_path);
		rc = S2_E_FORMAT;
	}
	uint64_t total = rc == 0 ? s2_ld64(file.data) : 0;
	uint32_t csize = rc == 0 ? s2_ld32(file.data + 8) : 0;
	if (rc == 0 && (csize == 0 || csize > (64u << 20) ||
	                chunks.len / 4 != (total + csize - 1) / csize || total > SUM_MAX)) {
		snprintf(err, errlen, "%s: chunk count disagrees with the length", sum_path);
		rc = S2_E_FORMAT;
	}
	FILE *f = rc == 0 ? fopen(path, "rb") : NULL;
	if (rc == 0 && !f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = S2_E_IO;
	}
	uint8_t *chunk = rc == 0 ? malloc(csize) : NULL;
	if (rc == 0 && !chunk) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = S2_E_NOMEM;
	}
	uint64_t at = 0;
	for (uint64_t i = 0; rc == 0; i++) {
		size_t n = fread(chunk, 1, csize, f);
		if (n == 0 && ferror(f)) {
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			rc = S2_E_IO;
			break;
		}
		if (at + n > total) {
			uint64_t have = at + n;
			while ((n = fread(chunk, 1, csize, f)) > 0)
				have += n;
			snprintf(err, errlen,
			         "%s: trailing bytes: %s says %llu bytes, file has %llu", path,
			         sum_path, (unsigned long long)total, (unsigned long long)have);
			rc = S2_E_LENGTH;
			break;
		}
		if (n == 0 && at == total)
			break;
		uint64_t want_n = total - at < csize ? total - at : csize;
		if (n < want_n) {
			snprintf(err, errlen, "%s: truncated: %s says %llu bytes, file has %llu",
			         path, sum_path, (unsigned long long)total,
			         (unsigned long long)(at + n));
			rc = S2_E_SHORT;
			break;
		}
		if (s2_crc32(0, chunk, n) != s2_ld32(chunks.data + 4 * i)) {
			snprintf(err, errlen, "%s: bytes %llu-%llu fail their checksum (%s)", path,
			         (unsigned long long)at, (unsigned long long)(at + n - 1),
			         sum_path);
			rc = S2_E_CRC;
			break;
		}
		at += n;
	}
	free(chunk);
	if (f)
		fclose(f);
	free(rec);
	return rc;
}
