/*
 * The board controller's flash (docs/s2emu.md "Flash", protocol sections 4.13-4.14).
 *
 * Two slots, each a 64-byte header in its own sector and a data area of S2_FLASHIMG_MAX
 * bytes. A header is written in one program operation and carries its own CRC, so a header
 * torn by a power cut reads as EMPTY. The only write that makes a new image bootable is the
 * VALID header at FLASH_COMMIT, after the data was checked: before it the old image is the
 * newest bootable one, after it the new one is, and there is no moment with neither.
 *
 * File layout (one file per board, sparse): header of slot s at s * 4096, data of slot s
 * at 8192 + s * S2_FLASHIMG_MAX. Without a flash directory the same layout lives in memory
 * (allocated at the first FLASH_BEGIN) and is lost when the emulator exits.
 *
 * Header (little-endian): magic 'S2FS' u32, state u8, 3 reserved, seq u32, length u32,
 * crc u32, version[32], 12 reserved, header CRC u32 of bytes 0..59.
 */
#include "emu_flash.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "emu.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/flashimg.h"
#include "s2/wire.h"

#define HDR_MAGIC 0x53463253u /* 'S' '2' 'F' 'S' */
#define HDR_LEN 64u
#define SECTOR 4096u
#define DATA_BASE (2u * SECTOR)
#define SLOT_SIZE S2_FLASHIMG_MAX
#define FLASH_BYTES ((size_t)DATA_BASE + (size_t)S2_FLASH_SLOTS * SLOT_SIZE)

/* Power-cut injection shared by every board of the process. */
static long long cut_after = -1; /* program operations left before the cut; -1: never */
static bool cut_torn;
static const char *boot_fail_version;

void emu_flash_set_power_cut(long long after, bool torn)
{
	cut_after = after;
	cut_torn = torn;
}

void emu_flash_set_boot_fail(const char *version)
{
	boot_fail_version = version;
}

static uint64_t data_off(unsigned slot)
{
	return DATA_BASE + (uint64_t)slot * SLOT_SIZE;
}

/* Program (write) flash. Every write counts towards an injected power cut. With sync the
 * write, and everything written before it, is on disk before this returns: headers are
 * written that way, so data always reaches the disk before the header that vouches for
 * it. (Process death loses nothing either way: the page cache survives it.) */
static int program(struct emu_flash *f, uint64_t off, const uint8_t *src, size_t len, bool sync)
{
	if (cut_after == 0) {
		/* The power fails now: part of this write reaches the flash, then nothing. */
		size_t part = cut_torn ? len / 2 : 0;
		if (f->fd >= 0 && part)
			(void)!pwrite(f->fd, src, part, (off_t)off);
		if (f->fd >= 0)
			fsync(f->fd);
		fprintf(stderr, "s2emu: injected power cut (%zu of %zu bytes written)\n", part,
		        len);
		raise(SIGKILL);
	}
	if (cut_after > 0)
		cut_after--;
	f->writes++;
	if (f->fd < 0) {
		memcpy(f->mem + off, src, len);
		return 0;
	}
	if (pwrite(f->fd, src, len, (off_t)off) != (ssize_t)len || (sync && fdatasync(f->fd) != 0))
		return S2_E_IO;
	return 0;
}

static int flash_read(struct emu_flash *f, uint64_t off, uint8_t *dst, size_t len)
{
	if (f->fd < 0) {
		if (f->mem)
			memcpy(dst, f->mem + off, len);
		else
			memset(dst, 0xFF, len);
		return 0;
	}
	ssize_t n = pread(f->fd, dst, len, (off_t)off);
	if (n < 0)
		return S2_E_IO;
	if ((size_t)n < len)
		memset(dst + n, 0xFF, len - (size_t)n); /* never written: erased */
	return 0;
}

static void hdr_load(struct emu_flash *f, unsigned s)
{
	uint8_t h[HDR_LEN];
	struct emu_flash_slot *sl = &f->slot[s];
	memset(sl, 0, sizeof *sl);
	if (flash_read(f, (uint64_t)s * SECTOR, h, sizeof h) < 0 || s2_ld32(h) != HDR_MAGIC ||
	    s2_crc32(0, h, 60) != s2_ld32(h + 60) || h[4] > S2_FLASH_BAD)
		return; /* erased, torn or damaged: EMPTY */
	sl->state = h[4];
	sl->seq = s2_ld32(h + 8);
	sl->length = s2_ld32(h + 12);
	sl->crc = s2_ld32(h + 16);
	memcpy(sl->version, h + 20, S2_VERSION_STR_LEN);
	sl->version[S2_VERSION_STR_LEN] = 0;
	if (sl->length > SLOT_SIZE)
		memset(sl, 0, sizeof *sl);
}

static int hdr_store(struct emu_flash *f, unsigned s)
{
	const struct emu_flash_slot *sl = &f->slot[s];
	uint8_t h[HDR_LEN] = {0};
	s2_st32(h, HDR_MAGIC);
	h[4] = sl->state;
	s2_st32(h + 8, sl->seq);
	s2_st32(h + 12, sl->length);
	s2_st32(h + 16, sl->crc);
	memcpy(h + 20, sl->version, strlen(sl->version));
	s2_st32(h + 60, s2_crc32(0, h, 60));
	if (f->fd >= 0 && fdatasync(f->fd) != 0) /* the data the header describes, first */
		return S2_E_IO;
	return program(f, (uint64_t)s * SECTOR, h, sizeof h, true);
}

int emu_flash_open(struct emu_flash *f, const char *dir, unsigned board)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->booted_slot = S2_FLASH_NO_SLOT;
	if (dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/board-%u.flash", dir, board);
		f->fd = open(path, O_RDWR | O_CREAT, 0644);
		if (f->fd < 0) {
			fprintf(stderr, "s2emu: flash of board %u: %s: %s\n", board, path,
			        strerror(errno));
			return S2_E_IO;
		}
	}
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++)
		hdr_load(f, s);
	return 0;
}

void emu_flash_close(struct emu_flash *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->mem);
	f->mem = NULL;
	f->fd = -1;
}

static bool bootable(uint8_t state)
{
	return state == S2_FLASH_VALID || state == S2_FLASH_TRYING || state == S2_FLASH_GOOD;
}

/* Read a slot's image and check it completely. NULL if it is not a bootable image. */
static uint8_t *load_image(struct emu_flash *f, unsigned s, struct s2_flashimg *fi)
{
	const struct emu_flash_slot *sl = &f->slot[s];
	if (sl->length < S2_FLASHIMG_HDR_LEN)
		return NULL;
	uint8_t *img = malloc(sl->length);
	if (!img)
		return NULL;
	if (flash_read(f, data_off(s), img, sl->length) < 0 ||
	    s2_crc32(0, img, sl->length) != sl->crc ||
	    s2_flashimg_decode(img, sl->length, fi) < 0 || fi->board_type != S2_BOARD_TYPE_S2_48) {
		free(img);
		return NULL;
	}
	return img;
}

int emu_flash_power_on(struct emu_flash *f, struct emu_board *b)
{
	f->booted_slot = S2_FLASH_NO_SLOT;
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++)
		hdr_load(f, s);
	for (;;) {
		/* The newest slot that may still boot. */
		int best = -1;
		for (unsigned s = 0; s < S2_FLASH_SLOTS; s++)
			if (bootable(f->slot[s].state) &&
			    (best < 0 || f->slot[s].seq > f->slot[best].seq))
				best = (int)s;
		if (best < 0)
			return S2_E_NOTFOUND; /* nothing to boot: wait for the host's boot */
		struct emu_flash_slot *sl = &f->slot[best];
		if (sl->state == S2_FLASH_TRYING) {
			/* A boot from it started and never confirmed: it failed. */
			sl->state = S2_FLASH_BAD;
			hdr_store(f, (unsigned)best);
			continue;
		}
		bool first = sl->state == S2_FLASH_VALID;
		if (first) {
			sl->state = S2_FLASH_TRYING;
			if (hdr_store(f, (unsigned)best) < 0)
				return S2_E_IO;
		}
		struct s2_flashimg fi;
		uint8_t *img = load_image(f, (unsigned)best, &fi);
		int rc = img ? 0 : S2_E_CRC;
		if (rc == 0 && boot_fail_version && !strcmp(fi.version, boot_fail_version))
			rc = S2_E_STATE; /* injected: this firmware crashes at start-up */
		if (rc == 0)
			rc = emu_board_boot_image(b, img + fi.monitor_off, fi.monitor_len);
		free(img);
		if (rc < 0) {
			fprintf(stderr, "s2emu: board %u: flash slot %d (%s) failed to boot: %s\n",
			        b->index, best, sl->version, s2_strerror(rc));
			sl->state = S2_FLASH_BAD;
			hdr_store(f, (unsigned)best);
			continue;
		}
		if (first) {
			sl->state = S2_FLASH_GOOD;
			hdr_store(f, (unsigned)best);
		}
		f->booted_slot = (uint8_t)best;
		return 0;
	}
}

/* --- requests ----------------------------------------------------------------------------- */

static int do_status(struct emu_flash *f, uint8_t *out, size_t cap)
{
	struct s2_msg_flash_status st = {.board_type = S2_BOARD_TYPE_S2_48,
	                                 .booted_slot = f->booted_slot,
	                                 .slot_size = SLOT_SIZE};
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++) {
		st.slot[s].state = f->slot[s].state;
		st.slot[s].seq = f->slot[s].seq;
		st.slot[s].length = f->slot[s].length;
		st.slot[s].crc = f->slot[s].crc;
		memcpy(st.slot[s].version, f->slot[s].version, sizeof st.slot[s].version);
	}
	return s2_msg_flash_status_encode(out, cap, &st);
}

static int do_begin(struct emu_flash *f, const uint8_t *p, size_t len)
{
	struct s2_msg_flash_begin m;
	int rc = s2_msg_flash_begin_decode(p, len, &m);
	if (rc < 0)
		return rc;
	if (m.length > SLOT_SIZE)
		return S2_E_RANGE;
	if (m.slot == f->booted_slot)
		return S2_E_STATE; /* never overwrite the image the board is running */
	if (f->fd < 0 && !f->mem && !(f->mem = malloc(FLASH_BYTES)))
		return S2_E_NOMEM;
	struct emu_flash_slot *sl = &f->slot[m.slot];
	memset(sl, 0, sizeof *sl);
	sl->state = S2_FLASH_WRITING;
	sl->length = m.length;
	sl->crc = m.crc;
	memcpy(sl->version, m.version, sizeof sl->version);
	return hdr_store(f, m.slot);
}

static int do_data(struct emu_flash *f, const uint8_t *p, size_t len)
{
	struct s2_msg_flash_data m;
	int rc = s2_msg_flash_data_decode(p, len, &m);
	if (rc < 0)
		return rc;
	struct emu_flash_slot *sl = &f->slot[m.slot];
	if (sl->state != S2_FLASH_WRITING)
		return S2_E_STATE;
	if (m.offset > sl->length || m.raw_len > sl->length - m.offset)
		return S2_E_RANGE;
	static uint8_t raw[S2_FLASH_RAW_MAX];
	const uint8_t *src = m.data;
	if (m.flags & S2_FLASH_F_ZLIB) {
		uLongf n = sizeof raw;
		if (uncompress(raw, &n, m.data, m.len) != Z_OK || n != m.raw_len)
			return S2_E_FORMAT;
		src = raw;
	}
	if (s2_crc32(0, src, m.raw_len) != m.raw_crc)
		return S2_E_CRC;
	return program(f, data_off(m.slot) + m.offset, src, m.raw_len, false);
}

static int do_read(struct emu_flash *f, const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	struct s2_msg_flash_read m;
	int rc = s2_msg_flash_read_decode(p, len, &m);
	if (rc < 0)
		return rc;
	if (m.offset > SLOT_SIZE || m.len > SLOT_SIZE - m.offset || m.len > cap)
		return S2_E_RANGE;
	rc = flash_read(f, data_off(m.slot) + m.offset, out, m.len);
	return rc < 0 ? rc : m.len;
}

static int do_commit(struct emu_flash *f, const uint8_t *p, size_t len)
{
	struct s2_msg_flash_commit m;
	int rc = s2_msg_flash_commit_decode(p, len, &m);
	if (rc < 0)
		return rc;
	struct emu_flash_slot *sl = &f->slot[m.slot];
	if (sl->state == S2_FLASH_VALID && sl->length == m.length && sl->crc == m.crc)
		return 0; /* committed already (a retransmission that outlived the cache) */
	if (sl->state != S2_FLASH_WRITING)
		return S2_E_STATE;
	if (sl->length != m.length || sl->crc != m.crc)
		return S2_E_LENGTH;
	struct s2_flashimg fi;
	uint8_t *img = malloc(sl->length);
	if (!img)
		return S2_E_NOMEM;
	rc = flash_read(f, data_off(m.slot), img, sl->length);
	if (rc == 0 && s2_crc32(0, img, sl->length) != sl->crc)
		rc = S2_E_CRC;
	if (rc == 0)
		rc = s2_flashimg_decode(img, sl->length, &fi);
	if (rc == 0 && fi.board_type != S2_BOARD_TYPE_S2_48)
		rc = S2_E_FORMAT;
	free(img);
	if (rc < 0)
		return rc;
	uint32_t seq = 0;
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++)
		if (f->slot[s].seq > seq)
			seq = f->slot[s].seq;
	sl->state = S2_FLASH_VALID;
	sl->seq = seq + 1;
	return hdr_store(f, m.slot); /* the switch: one header write */
}

int emu_flash_request(struct emu_flash *f, uint8_t type, const uint8_t *p, size_t len, uint8_t *out,
                      size_t cap)
{
	switch (type) {
	case S2_MSG_FLASH_STATUS:
		return len ? S2_E_LENGTH : do_status(f, out, cap);
	case S2_MSG_FLASH_BEGIN:
		return do_begin(f, p, len);
	case S2_MSG_FLASH_DATA:
		return do_data(f, p, len);
	case S2_MSG_FLASH_READ:
		return do_read(f, p, len, out, cap);
	case S2_MSG_FLASH_COMMIT:
		return do_commit(f, p, len);
	default:
		return S2_E_TYPE;
	}
}
