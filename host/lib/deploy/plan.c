/*
 * Load plans from network images (plan.h, docs/image.md): the image is checked whole by
 * s2_image_check (header, manifest, every blob's CRC before and after inflation, the chip
 * blobs' structure); then every chip blob is inflated into a loader view per board.
 */
#include "s2/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "s2/error.h"
#include "s2/image.h"
#include "s2/pedata.h"
#include "s2/wire.h"
#include "s2pb/image.pb-c.h"

struct owned {
	uint8_t **blobs;
	size_t n;
};

void s2_plan_free(struct s2_plan *p)
{
	if (!p)
		return;
	for (unsigned b = 0; b < p->n_boards; b++) {
		struct s2_plan_board *pb = &p->boards[b];
		for (unsigned c = 0; c < pb->n_chips; c++) {
			free(pb->chips[c].pes);
			free(pb->info[c]);
		}
		free(pb->chips);
		free(pb->info);
	}
	free(p->boards);
	for (unsigned i = 0; i < p->n_pops; i++)
		free(p->pops[i].label);
	free(p->pops);
	free(p->network);
	struct owned *o = p->owned;
	if (o) {
		for (size_t i = 0; i < o->n; i++)
			free(o->blobs[i]);
		free(o->blobs);
		free(o);
	}
	free(p);
}

static uint8_t *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	uint8_t *buf = NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size < (1ll << 34) &&
	    (buf = malloc((size_t)st.st_size)) &&
	    fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
		*len = (size_t)st.st_size;
	} else {
		free(buf);
		buf = NULL;
		snprintf(err, errlen, "%s: cannot read (empty, too large or unreadable)", path);
	}
	fclose(f);
	return buf;
}

struct s2_plan *s2_plan_load(const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof dummy;
	}
	uint8_t *buf = read_all(path, &len, err, errlen);
	if (!buf)
		return NULL;
	struct s2_plan *p = s2_plan_decode(buf, len, path, err, errlen);
	free(buf);
	return p;
}

struct s2_plan *s2_plan_decode(const uint8_t *buf, size_t len, const char *path, char *err,
                               size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof dummy;
	}
	char why[400];
	struct s2_image_summary sum;
	struct s2_plan *p = NULL;
	S2pb__Image *img = NULL;
	if (s2_image_check(buf, len, &sum, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	uint32_t mlen = s2_ld32(buf + 12);
	uint64_t moff = s2_ld64(buf + 16);
	img = s2pb__image__unpack(NULL, mlen, buf + moff);
	p = calloc(1, sizeof *p);
	struct owned *o = calloc(1, sizeof *o);
	if (!img || !p || !o) {
		free(o);
		goto nomem;
	}
	p->owned = o;
	p->dt_ms = img->timestep_ms;
	p->run_ms = img->run_ms;
	p->network_crc32 = img->network_crc32;
	if (!(p->network = strdup(img->network ? img->network : "")))
		goto nomem;
	p->n_pops = (unsigned)img->n_populations;
	p->pops = calloc(p->n_pops + 1, sizeof *p->pops);
	o->blobs = calloc(img->n_blobs + 1, sizeof *o->blobs);
	p->boards = calloc(img->n_blobs + 1, sizeof *p->boards);
	if (!p->pops || !o->blobs || !p->boards)
		goto nomem;
	for (unsigned i = 0; i < p->n_pops; i++) {
		p->pops[i].label = strdup(img->populations[i]->label);
		p->pops[i].size = img->populations[i]->size;
		if (!p->pops[i].label)
			goto nomem;
	}
	for (size_t i = 0; i < img->n_blobs; i++) {
		const S2pb__ImageBlob *ib = img->blobs[i];
		uint8_t *raw = malloc(ib->raw_size ? ib->raw_size : 1);
		uLongf rl = ib->raw_size;
		if (!raw)
			goto nomem;
		o->blobs[o->n++] = raw;
		if (uncompress(raw, &rl, buf + ib->offset, ib->size) != Z_OK ||
		    rl != ib->raw_size) {
			snprintf(err, errlen, "%s: blobs[%zu]: does not inflate", path, i);
			goto fail;
		}
		/* The board's entry (blobs are in board order). */
		struct s2_plan_board *pb = p->n_boards ? &p->boards[p->n_boards - 1] : NULL;
		if (!pb || pb->board != ib->board) {
			pb = &p->boards[p->n_boards++];
			pb->board = ib->board;
			pb->chips = calloc(img->n_blobs, sizeof *pb->chips);
			pb->info = calloc(img->n_blobs, sizeof *pb->info);
			if (!pb->chips || !pb->info)
				goto nomem;
		}
		struct s2_app_chip *ch = &pb->chips[pb->n_chips];
		struct s2_plan_pe_info **info = &pb->info[pb->n_chips];
		pb->n_chips++;
		uint32_t np = s2_ld16(raw + 6), ne = s2_ld32(raw + 8);
		ch->chip = (uint16_t)ib->chip;
		ch->rt = raw + S2_IMAGE_CHIP_HDR;
		ch->n_rt = ne;
		ch->n_pes = np;
		ch->pes = calloc(np + 1, sizeof *ch->pes);
		*info = calloc(np + 1, sizeof **info);
		if (!ch->pes || !*info)
			goto nomem;
		const uint8_t *dir = raw + S2_IMAGE_CHIP_HDR + (size_t)ne * S2_RT_ENTRY_LEN;
		for (uint32_t k = 0; k < np; k++) {
			const uint8_t *d = dir + (size_t)k * S2_IMAGE_PE_DIR;
			uint32_t off = s2_ld32(d + 8), plen = s2_ld32(d + 12);
			struct s2_pedata pd;
			/* s2_image_check verified the bounds and the PE data */
			if (s2_pedata_decode(raw + off, plen, &pd) < 0) {
				snprintf(err, errlen, "%s: blobs[%zu]: PE %u: bad PE data", path, i,
				         k);
				goto fail;
			}
			ch->pes[k].pe = (uint8_t)s2_ld16(d);
			ch->pes[k].pedata = raw + off;
			ch->pes[k].len = plen;
			struct s2_plan_pe_info *in = &(*info)[k];
			in->pop = s2_ld16(d + 2);
			in->lo = s2_ld32(d + 4);
			in->n = pd.n_neurons;
			in->rec_spikes = pd.flags & 1u;
			in->n_vrec = pd.n_record_v;
			in->vrec = pd.sect[S2_SECT_RECORD_V];
			if (in->pop >= p->n_pops) {
				snprintf(err, errlen,
				         "%s: blobs[%zu]: PE %u: population %u does not exist",
				         path, i, k, in->pop);
				goto fail;
			}
			pb->pes++;
			p->pes++;
		}
		p->raw_bytes += ib->raw_size;
	}
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	s2_plan_free(p);
	p = NULL;
out:
	if (img)
		s2pb__image__free_unpacked(img, NULL);
	return p;
}
