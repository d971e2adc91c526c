/**
 * @file app.h
 * @brief Loading and running applications on boards (docs/protocol.md 4.15, docs/cli/run.md).
 *
 * A load plan says, per chip, the router table and, per application PE, its PE data blob
 * (proto/include/s2/pedata.h) and the sizes of its recording regions. The loader lays the
 * chip's DRAM out (S2_APP_* addresses below), writes table and blobs, then asks the chip to
 * load them. All boards of a machine load in parallel in one event loop.
 */
#ifndef S2_APP_H
#define S2_APP_H

#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"
#include "s2/bulk.h"
#include "s2/msg.h"

/* Chip DRAM layout used by the loader (2 GiB per chip): router table, PE data blobs, then
 * the rows area and the recordings area shared out equally among the chip's application
 * PEs (the k-th of n gets the k-th share). */
#define S2_APP_DATA_ADDR 0x00100000u /**< router table, then the PE blobs, one region */
#define S2_APP_DATA_MAX 0x07F00000u  /**< up to S2_APP_ROWS_BASE */
#define S2_APP_BLOB_MAX 0x00080000u  /**< one PE's blob */
#define S2_APP_ROWS_BASE 0x08000000u /**< 1.5 GiB of synaptic rows */
#define S2_APP_ROWS_END 0x68000000u
#define S2_APP_REC_BASE 0x68000000u /**< 384 MiB of recordings */
#define S2_APP_REC_END 0x80000000u

/** Where the k-th of n application PEs of a chip keeps its rows and recordings. */
struct s2_app_area {
	uint32_t rows, rows_size;
	uint32_t rec[2], rec_max; /**< per stream, header included */
};
static inline struct s2_app_area s2_app_area(unsigned k, unsigned n)
{
	struct s2_app_area a;
	uint32_t rs = ((S2_APP_ROWS_END - S2_APP_ROWS_BASE) / (n ? n : 1)) & ~0xFFFu;
	uint32_t cs = ((S2_APP_REC_END - S2_APP_REC_BASE) / (n ? n : 1) / 2) & ~0xFFFu;
	a.rows = S2_APP_ROWS_BASE + k * rs;
	a.rows_size = rs;
	a.rec[0] = S2_APP_REC_BASE + 2 * k * cs;
	a.rec[1] = a.rec[0] + cs;
	a.rec_max = cs;
	return a;
}

struct s2_app_pe {
	uint8_t pe;
	uint8_t *pedata; /**< the loader patches dram_base/dram_size in place */
	uint32_t len;
	uint32_t rec_size[2]; /**< bytes per recording stream (spikes, voltages), 0: none */
};

struct s2_app_chip {
	uint16_t chip;
	const uint8_t *rt; /**< n_rt entries of S2_RT_ENTRY_LEN bytes */
	uint32_t n_rt;
	struct s2_app_pe *pes;
	unsigned n_pes;
	/* loader state: the chip's data region (table and blobs) and where each blob is */
	uint8_t *region;
	uint32_t region_len;
	uint32_t *blob_off;
};

/**
 * Stage 1 of loading a board: write every chip's router table and PE blobs to its DRAM as
 * one region per chip, by bulk transfers (protocol 4.16) whose counters add to st (may be
 * NULL). Stage 2 (after s2_client_wait): s2_app_activate_start. Then s2_app_release.
 */
int s2_app_write_start(struct s2_conn *eth, struct s2_app_chip *chips, unsigned n,
                       struct s2_bulk_stats *st, struct s2_op *op);
/** Stage 2: ROUTER_LOAD on every chip, APP_LOAD on every PE. */
int s2_app_activate_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          struct s2_op *op);
/** APP_RUN on a board. */
int s2_app_run_start(struct s2_conn *eth, uint32_t n_steps, uint32_t flags, struct s2_op *op);
/** APP_STATUS of a board into *st. */
int s2_app_status_start(struct s2_conn *eth, struct s2_msg_app_status *st, struct s2_op *op);
/** APP_STOP on a board. */
int s2_app_stop_start(struct s2_conn *eth, struct s2_op *op);

/** A recording region as read back: header (bytes recorded, bytes lost, the spike region's
 *  clipping counters, msg.h S2_REC_HDR_LEN) and data. */
struct s2_app_rec {
	uint32_t hdr[S2_REC_HDR_LEN / 4]; /**< as stored (little-endian words) */
	uint8_t *data;                    /**< malloc'd by s2_app_rec_data_start, hdr[0] bytes */
};
/** Clipping counter k (enum s2_rec_clip) of a spike region's header. */
static inline uint64_t s2_app_rec_clip(const struct s2_app_rec *r, unsigned k)
{
	return (uint64_t)r->hdr[2 + 2 * k] | (uint64_t)r->hdr[3 + 2 * k] << 32;
}
/** Read the headers (S2_REC_HDR_LEN bytes) of recording stream s of every PE of the plan. */
int s2_app_rec_head_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          unsigned s, struct s2_app_rec *out, struct s2_op *op);
/**
 * Then the data (out[i].hdr[0] bytes each), by bulk transfers counted in st (may be NULL):
 * starts at most max transfers from PE index *cursor on and advances it (a board keeps a
 * limited number of transfers open). @return transfers started, or a negative S2_E_ code.
 */
int s2_app_rec_data_start(struct s2_conn *eth, const struct s2_app_chip *chips, unsigned n,
                          unsigned s, struct s2_app_rec *out, struct s2_bulk_stats *st,
                          size_t *cursor, unsigned max, struct s2_op *op);
/** Free the loader state of s2_app_write_start. */
void s2_app_release(struct s2_app_chip *chips, unsigned n);

#endif
