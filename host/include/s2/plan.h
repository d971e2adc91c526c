/**
 * @file plan.h
 * @brief Load plans: a network image (docs/image.md) read, checked and laid out for the
 * loader, per board and chip (plan.c).
 *
 * A plan holds, per board with something to load, the router table and the PE data of each
 * application PE of each chip (the loader's view, struct s2_app_chip), and per population its
 * label and size. It is what s2_deploy() loads and what the results of a run are shaped by.
 */
#ifndef S2_PLAN_H
#define S2_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "s2/app.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What one application PE of the plan holds. */
struct s2_plan_pe_info {
	uint32_t pop, lo, n; /**< neurons [lo, lo + n) of population pop */
	uint16_t n_vrec;     /**< neurons with recorded voltage */
	const uint8_t *vrec; /**< their indices on the PE: n_vrec LE u16 in the PE data */
	uint8_t rec_spikes;  /**< 1: the PE records its spikes */
};

/** One board's part of the plan. */
struct s2_plan_board {
	uint32_t board;                /**< board number in the machine description */
	struct s2_app_chip *chips;     /**< [n_chips] loader view (router table and PE blobs) */
	struct s2_plan_pe_info **info; /**< [chip][pe index] */
	unsigned n_chips;
	uint64_t pes; /**< application PEs on this board */
};

/** One population of the network. */
struct s2_plan_pop {
	char *label;
	uint32_t size; /**< neurons */
};

/** A load plan. Every pointer is owned by the plan and freed by s2_plan_free(). */
struct s2_plan {
	double dt_ms, run_ms; /**< the image's timestep and default run length */
	struct s2_plan_pop *pops;
	unsigned n_pops;
	struct s2_plan_board *boards; /**< boards with something to load, in board order */
	unsigned n_boards;
	uint64_t pes, raw_bytes; /**< application PEs, and bytes of tables and PE data */
	char *network;           /**< the network the image was compiled from (its name) */
	uint32_t network_crc32;  /**< CRC-32 of its binary form, as the image records it */
	void *owned;             /**< inflated blobs */
};

/**
 * Read and check an image file whole (s2_image_check: header, manifest, every blob's bounds
 * and CRC-32, the PE data) and lay it out per board.
 * @param path the image file
 * @param err  on failure, a message naming the file and the item (may be NULL)
 * @return the plan (the caller owns it: s2_plan_free), or NULL: the file cannot be read, is
 *         damaged or malformed, or memory ran out (err says which).
 */
struct s2_plan *s2_plan_load(const char *path, char *err, size_t errlen);

/**
 * s2_plan_load() from an image already in memory (an image compiled in-process, fuzzing).
 * The bytes are untrusted and are not kept: the plan owns copies of what it needs.
 * @param name used in messages in place of a file name
 */
struct s2_plan *s2_plan_decode(const uint8_t *buf, size_t len, const char *name, char *err,
                               size_t errlen);

/** Free a plan and everything it owns; NULL is allowed. */
void s2_plan_free(struct s2_plan *p);

#ifdef __cplusplus
}
#endif
#endif
