/**
 * @file health.h
 * @brief Booting a session's boards and seeing what is alive against what the machine
 * description expects (health.c): the monitor image checked before any board is touched,
 * every selected board booted in parallel, each board's chips surveyed, and per board the
 * chips, PEs and links expected and alive with the lists of the dead. `s2ctl boot` and
 * `s2ctl info` print what these calls find.
 *
 * Use, in order:
 *  1. s2_monitor_image_load() (a bad image changes nothing on the boards);
 *  2. a session with Ethernet endpoints (s2/session.h), leased (booting changes the boards);
 *  3. s2_health_boot() (or s2_health_status() for boards already booted);
 *  4. s2_health_survey();
 *  5. s2_health_check() for each selected board, and s2_board_check_free().
 * rep is an array of s2_session_boards() entries, zero-initialised by the caller; only the
 * selected boards' entries are used. A board that fails keeps its error and the step in its
 * entry, and is left out of what follows; the other boards go on.
 *
 * Threads: none of its own; the calls wait on the session's event loop.
 */
#ifndef S2_HEALTH_H
#define S2_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"
#include "s2/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What one board reported. */
struct s2_board_health {
	int status;    /**< 0, or why the board failed (an S2_E_ code) */
	char what[96]; /**< with status: the step it failed at ("BOOT_DATA block 3") */
	struct s2_msg_board_status st;                    /**< after boot, or asked */
	struct s2_msg_chip_info info[S2_BOARD_MAX_CHIPS]; /**< surveyed chips */
	int chip_status[S2_BOARD_MAX_CHIPS]; /**< 0: surveyed; else why not (S2_E_DEAD: the
	                                          board says the chip is dead) */
};

/** Progress of a phase ("boot", "survey"): bytes or items, summed over the boards. */
typedef void (*s2_health_progress)(void *arg, const char *what, uint64_t done, uint64_t total);

/**
 * Read a monitor image file and check its identity block: a monitor (not an application)
 * for this host's protocol version.
 * @param image the image (malloc'd, the caller frees it) on success, else NULL
 * @return 0; S2_E_IO: the file cannot be read or is larger than a PE's 128 KiB SRAM;
 *         S2_E_FORMAT: not a monitor image for protocol S2_PROTOCOL_VERSION; err says
 *         "image PATH: reason".
 */
int s2_monitor_image_load(const char *path, uint8_t **image, size_t *len, char *err, size_t errlen);

/**
 * Boot every selected board with image (BOOT_START, every block windowed, BOOT_END), in
 * parallel; rep[b].st gets each booted board's status.
 * @param cb progress (may be NULL), labelled "boot"
 * @return 0 if every selected board booted; else the first failed board's code (the others'
 *         in rep).
 */
int s2_health_boot(struct s2_session *s, const uint8_t *image, size_t len, s2_health_progress cb,
                   void *cb_arg, struct s2_board_health *rep);

/**
 * Instead of booting: ask every selected board its status (BOARD_STATUS); a board that is not
 * booted fails with S2_E_STATE ("BOARD_STATUS (board not booted)").
 * @return 0 if every selected board is booted; else the first failed board's code.
 */
int s2_health_status(struct s2_session *s, struct s2_board_health *rep);

/**
 * Survey every chip each selected board that has not failed says is alive (CHIP_INFO), in
 * parallel: rep[b].info and rep[b].chip_status.
 * @param cb progress (may be NULL), labelled "survey"
 * @return 0, or the first failed board's code.
 */
int s2_health_survey(struct s2_session *s, s2_health_progress cb, void *cb_arg,
                     struct s2_board_health *rep);

/** A chip's PE, or a chip's link (0-5), found dead. */
struct s2_dead_item {
	uint16_t chip;
	uint16_t item;
};

/** One board against the machine description. */
struct s2_board_check {
	/* What the description expects (its known-dead chips, PEs and links left out), and what
	 * is alive. A link counts only between two chips found alive, from both ends. */
	unsigned chips_expected, chips_alive, pes_expected, pes_alive, links_expected, links_alive;
	unsigned n_dead_chips;
	uint16_t dead_chips[S2_BOARD_MAX_CHIPS]; /**< expected, not alive (all, if it failed) */
	size_t n_dead_pes, n_dead_links;
	struct s2_dead_item *dead_pes;   /**< (chip, PE), of chips alive; malloc'd */
	struct s2_dead_item *dead_links; /**< (chip, link), of chips alive; malloc'd */
};

/**
 * Compare board b's report with the session's machine description (a link is alive if this
 * end says so and the far end, when it was surveyed, says so too).
 * @param out filled; free its lists with s2_board_check_free (also after a failure)
 * @return 0; S2_E_INVAL: b is not a selected board; S2_E_NOMEM.
 */
int s2_health_check(struct s2_session *s, const struct s2_board_health *rep, unsigned b,
                    struct s2_board_check *out);

/** Free the lists of c (not c); the lists become NULL. */
void s2_board_check_free(struct s2_board_check *c);

#ifdef __cplusplus
}
#endif
#endif
