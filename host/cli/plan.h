/*
 * A load plan read from a network image (docs/image.md): per chip its router table and the
 * PE data of each application PE, and per population its label and size (plan.c).
 */
#ifndef S2CTL_PLAN_H
#define S2CTL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "s2/app.h"

struct plan_pe_info {
	uint32_t pop, lo, n; /**< neurons [lo, lo + n) of population pop */
	uint16_t n_vrec;     /**< neurons with recorded voltage */
	const uint8_t *vrec; /**< their indices on the PE: n_vrec LE u16 in the PE data */
	uint8_t rec_spikes;
};

struct plan_board {
	uint32_t board;
	struct s2_app_chip *chips;  /**< loader view (router table and PE blobs) */
	struct plan_pe_info **info; /**< [chip][pe index] */
	unsigned n_chips;
	uint64_t pes;
};

struct plan_pop {
	char *label;
	uint32_t size;
};

struct plan {
	double dt_ms, run_ms;
	struct plan_pop *pops;
	unsigned n_pops;
	struct plan_board *boards; /**< boards with something to load */
	unsigned n_boards;
	uint64_t pes, raw_bytes;
	char *network;          /**< the network the image was compiled from (its name) */
	uint32_t network_crc32; /**< CRC-32 of its binary form, as the image records it */
	void *owned;            /**< inflated blobs */
};

/** Read and check an image; NULL with err naming the item on failure. */
struct plan *plan_load(const char *path, char *err, size_t errlen);
void plan_free(struct plan *p);

#endif
