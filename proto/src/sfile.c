/*
 * The s2 file container (s2/sfile.h, docs/files.md): header, section table and per-section
 * CRC-32. Verification walks the table once with bounds checks before it trusts any length,
 * then checks each section's CRC, so a reader never sees unverified bytes.
 */
#include "s2/sfile.h"

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/wire.h"

#define ENTRY_FIXED 13u /* u64 length, u32 crc, u8 name length */

bool s2_sfile_is(const uint8_t *buf, size_t len)
{
	return len >= 4 && s2_ld32(buf) == S2_SFILE_MAGIC;
}

static int fault(struct s2_sfile_fault *why, enum s2_sfile_fault_kind what, uint64_t want,
                 uint64_t have, int code)
{
	if (why) {
		why->what = what;
		why->want = want;
		why->have = have;
	}
	return code;
}

int s2_sfile_verify(const uint8_t *buf, size_t len, uint32_t kind, uint16_t max_version,
                    struct s2_sfile *f, struct s2_sfile_fault *why)
{
	if (why)
		*why = (struct s2_sfile_fault){0};
	if (len < 4 || s2_ld32(buf) != S2_SFILE_MAGIC)
		return fault(why, S2_SFILE_NOT_S2, S2_SFILE_MAGIC, len >= 4 ? s2_ld32(buf) : 0,
		             S2_E_MAGIC);
	if (len < S2_SFILE_HEADER)
		return fault(why, S2_SFILE_SHORT_HDR, S2_SFILE_HEADER, len, S2_E_SHORT);
	uint16_t cver = s2_ld16(buf + 4);
	if (cver != S2_SFILE_VERSION)
		return fault(why, S2_SFILE_CVERSION, S2_SFILE_VERSION, cver, S2_E_VERSION);
	uint64_t total = s2_ld64(buf + 16);
	uint32_t table_len = s2_ld32(buf + 24);
	/* The header CRC covers the table, so the table must be present to check it; a file cut
	 * inside its table is reported as truncated against the length the header states. */
	if (table_len > len - S2_SFILE_HEADER) {
		if (total > len)
			return fault(why, S2_SFILE_TRUNCATED, total, len, S2_E_SHORT);
		return fault(why, S2_SFILE_HDR_CRC, 0, 0, S2_E_CRC);
	}
	uint32_t crc = s2_crc32(0, buf, 28);
	crc = s2_crc32(crc, buf + S2_SFILE_HEADER, table_len);
	if (crc != s2_ld32(buf + 28))
		return fault(why, S2_SFILE_HDR_CRC, s2_ld32(buf + 28), crc, S2_E_CRC);
	/* From here the header and table are as written. */
	if (total < (uint64_t)S2_SFILE_HEADER + table_len)
		return fault(why, S2_SFILE_TABLE, 0, 0, S2_E_FORMAT);
	if (total > len)
		return fault(why, S2_SFILE_TRUNCATED, total, len, S2_E_SHORT);
	if (total < len)
		return fault(why, S2_SFILE_TRAILING, total, len, S2_E_LENGTH);
	uint32_t k = s2_ld32(buf + 8);
	if (kind && k != kind)
		return fault(why, S2_SFILE_KIND, kind, k, S2_E_TYPE);
	uint16_t ver = s2_ld16(buf + 6);
	if (ver > max_version || ver == 0)
		return fault(why, S2_SFILE_FVERSION, max_version, ver, S2_E_VERSION);
	uint32_t n = s2_ld32(buf + 12);
	if (n == 0 || n > S2_SFILE_MAX_SECTIONS)
		return fault(why, S2_SFILE_TABLE, 0, n, S2_E_FORMAT);
	struct s2_sfile v = {
	        .kind = k,
	        .version = ver,
	        .n_sections = n,
	        .table = buf + S2_SFILE_HEADER,
	        .table_len = table_len,
	        .content = buf + S2_SFILE_HEADER + table_len,
	        .content_len = total - S2_SFILE_HEADER - table_len,
	};
	/* Table: entries must fill it exactly and their lengths the content exactly. */
	size_t tab = 0;
	uint64_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (table_len - tab < ENTRY_FIXED) {
			if (why)
				why->section = i;
			return fault(why, S2_SFILE_TABLE, 0, 0, S2_E_FORMAT);
		}
		const uint8_t *e = v.table + tab;
		uint64_t sl = s2_ld64(e);
		unsigned nl = e[12];
		if (nl == 0 || nl > table_len - tab - ENTRY_FIXED || sl > v.content_len - off) {
			if (why)
				why->section = i;
			return fault(why, S2_SFILE_TABLE, 0, 0, S2_E_FORMAT);
		}
		tab += ENTRY_FIXED + nl;
		off += sl;
	}
	if (tab != table_len || off != v.content_len)
		return fault(why, S2_SFILE_TABLE, 0, 0, S2_E_FORMAT);
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec s;
	while (s2_sfile_next(&v, &it, &s)) {
		uint32_t want = s2_ld32(v.table + it.tab - ENTRY_FIXED - s.name_len + 8);
		uint32_t have = s2_crc32(0, s.data, (size_t)s.len);
		if (want != have) {
			if (why) {
				why->section = it.i - 1;
				why->name = s.name;
				why->name_len = s.name_len;
			}
			return fault(why, S2_SFILE_SEC_CRC, want, have, S2_E_CRC);
		}
	}
	if (f)
		*f = v;
	return 0;
}

bool s2_sfile_next(const struct s2_sfile *f, struct s2_sfile_it *it, struct s2_sfile_sec *s)
{
	if (it->i >= f->n_sections || f->table_len - it->tab < ENTRY_FIXED)
		return false;
	const uint8_t *e = f->table + it->tab;
	s->len = s2_ld64(e);
	s->name_len = e[12];
	s->name = (const char *)e + ENTRY_FIXED;
	s->data = f->content + it->off;
	it->tab += ENTRY_FIXED + s->name_len;
	it->off += s->len;
	it->i++;
	return true;
}

bool s2_sfile_sec_is(const struct s2_sfile_sec *s, const char *name)
{
	size_t n = strlen(name);
	return n == s->name_len && memcmp(s->name, name, n) == 0;
}

size_t s2_sfile_head_size(const struct s2_sfile_sec *secs, uint32_t n)
{
	size_t t = S2_SFILE_HEADER;
	for (uint32_t i = 0; i < n; i++)
		t += ENTRY_FIXED + secs[i].name_len;
	return t;
}

int s2_sfile_encode_head(uint8_t *out, size_t cap, uint32_t kind, uint16_t version,
                         const struct s2_sfile_sec *secs, uint32_t n, size_t *head_len)
{
	if (n == 0 || n > S2_SFILE_MAX_SECTIONS || version == 0)
		return S2_E_INVAL;
	uint64_t content = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (secs[i].name_len == 0 || secs[i].name_len > S2_SFILE_NAME_MAX)
			return S2_E_INVAL;
		content += secs[i].len;
	}
	size_t head = s2_sfile_head_size(secs, n);
	if (cap < head)
		return S2_E_NOSPACE;
	uint8_t *e = out + S2_SFILE_HEADER;
	for (uint32_t i = 0; i < n; i++) {
		s2_st64(e, secs[i].len);
		s2_st32(e + 8, s2_crc32(0, secs[i].data, (size_t)secs[i].len));
		e[12] = (uint8_t)secs[i].name_len;
		memcpy(e + ENTRY_FIXED, secs[i].name, secs[i].name_len);
		e += ENTRY_FIXED + secs[i].name_len;
	}
	s2_st32(out, S2_SFILE_MAGIC);
	s2_st16(out + 4, S2_SFILE_VERSION);
	s2_st16(out + 6, version);
	s2_st32(out + 8, kind);
	s2_st32(out + 12, n);
	s2_st64(out + 16, head + content);
	s2_st32(out + 24, (uint32_t)(head - S2_SFILE_HEADER));
	uint32_t crc = s2_crc32(0, out, 28);
	s2_st32(out + 28, s2_crc32(crc, out + S2_SFILE_HEADER, head - S2_SFILE_HEADER));
	*head_len = head;
	return 0;
}
