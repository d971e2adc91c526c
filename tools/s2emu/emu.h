/*
 * s2emu internals: the emulated machine. One process emulates one or more boards of a
 * machine description; each board has two UDP endpoints (Ethernet chip, board controller)
 * and 48 chips, each running the monitor firmware's command handler (firmware/monitor,
 * the host build of the same source as on silicon) over sparse emulated memory.
 */
#ifndef S2EMU_EMU_H
#define S2EMU_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "emu_app.h"
#include "emu_flash.h"
#include "emu_log.h"
#include "emu_mem.h"
#include "guard.h"
#include "lease.h"
#include "monitor.h"
#include "s2/msg.h"
#include "s2/packet.h"

struct emu_bulk;
struct event;
struct event_base;
struct s2_machine;

#define EMU_LINKS 6u
#define EMU_REPLY_CACHE 64u
#define EMU_MONITOR_LOG 4096u
#define EMU_PE_LOG 1024u

/** Network faults, applied to every datagram in and out of an endpoint. */
struct emu_faults {
	double loss;       /**< probability a datagram is dropped */
	double dup;        /**< probability it is delivered twice */
	double reorder;    /**< probability it is held back so later ones overtake it */
	uint32_t delay_us; /**< added to every datagram */
};

/** Counters of a board: nothing is lost without being counted here. */
struct emu_stats {
	uint64_t rx, tx;         /**< datagrams received and sent (after faults) */
	uint64_t rx_bad;         /**< failed to decode */
	uint64_t rx_wrong_board; /**< addressed to another board */
	uint64_t dropped_loss;   /**< dropped by injected loss */
	uint64_t duplicated;     /**< injected duplicates */
	uint64_t reordered;      /**< injected reorders */
	uint64_t dropped_muted;  /**< dropped because the board is muted */
	uint64_t dropped_off;    /**< arrived while powered off */
	uint64_t dup_requests;   /**< repeated requests answered from the reply cache */
	uint64_t mesh_hops;      /**< chip-to-chip hops travelled by commands */
	uint64_t lease_refused;  /**< requests refused: the board is held by another session */
};

struct emu_chip {
	bool dead; /**< injected: the chip never boots */
	bool booted;
	uint8_t links_dead;                /**< injected dead links (bit l) */
	uint8_t pe_dead[S2_PE_BITMAP_LEN]; /**< injected dead PEs */
	uint32_t stuck_dram; /**< injected: 1 + address of a DRAM byte that keeps 0xA5 (0: none) */
	uint8_t parent;      /**< next chip towards the Ethernet chip (boot tree) */
	uint8_t hops;        /**< distance from the Ethernet chip */
	struct s2_monitor mon;
	struct emu_mem dram;
	struct emu_mem sram; /**< all PEs: PE p at p * sram_per_pe */
	struct emu_log mon_log;
	struct emu_log *pe_log; /**< [pes], allocated on first use */
	struct emu_board *board;
	struct emu_app_chip *app; /**< router table and loaded PEs, NULL if none */
	uint16_t index;
};

struct cached_reply {
	bool used;
	uint32_t seq;
	uint32_t req_crc; /**< CRC-32 of the request datagram: a repeat is the same request */
	struct sockaddr_storage from;
	socklen_t fromlen;
	uint16_t len;
	uint8_t dgram[S2_MAX_DATAGRAM];
};

struct emu_board {
	struct emu *emu;
	uint16_t index; /**< board index in the machine */
	uint32_t serial;
	int eth_fd, bmp_fd;
	struct event *eth_ev, *bmp_ev, *announce_ev;
	struct event *scrub_ev; /**< drives the chips' monitors' scrubs (protocol 4.20) */
	bool powered;
	bool muted;
	uint8_t state; /**< enum s2_board_state */
	uint16_t n_chips;
	uint16_t eth_chip;
	struct emu_chip *chips; /**< [n_chips] */
	uint64_t chips_alive;
	uint32_t boot_us;
	/* Boot in progress. */
	uint8_t *image;
	uint32_t image_len, image_crc;
	uint16_t block_size;
	uint32_t n_blocks, blocks_have;
	uint8_t *have; /**< [n_blocks] */
	/* Duplicate suppression. */
	struct cached_reply *cache; /**< [EMU_REPLY_CACHE] */
	unsigned cache_next;
	struct emu_flash flash;
	struct emu_app_board app;
	struct emu_live *live; /**< live streams and pending injections (emu_live.c), or NULL */
	const struct sockaddr_storage *req_from; /**< sender of the request being handled */
	socklen_t req_fromlen;
	bool req_auth; /**< the request being handled was authenticated (protocol 2.3) */
	const struct s2_guard_ctx *req_gctx; /**< ... by this key and trailer */
	struct emu_bulk *bulk;               /**< open bulk regions (emu_bulk.c), NULL if none */
	struct s2_lease lease; /**< who holds the board (both endpoints; survives power cycles) */
	struct s2_guard guard; /**< keys and replay state (both endpoints; survive power cycles) */
	struct emu_stats st;
};

struct emu {
	struct event_base *base;
	struct s2_machine *machine;
	struct emu_board *boards; /**< [n_boards], machine boards first..first+n-1 */
	unsigned n_boards;
	unsigned first;
	struct emu_faults faults;
	uint64_t rng;
	struct sockaddr_storage announce_to;
	socklen_t announce_len; /**< 0: no announcements */
	const char *flash_dir;  /**< --flash-dir, or NULL: flash in memory */
	int ctl_fd;
	struct event *ctl_ev;
	bool verbose;
};

/* emu_net.c: endpoints and the fault shaper. */
int emu_net_open(struct emu *e, struct emu_board *b, const char *host, uint16_t eth_port,
                 uint16_t bmp_port);
void emu_net_send(struct emu_board *b, int fd, const struct sockaddr_storage *to, socklen_t tolen,
                  const uint8_t *dgram, size_t len);
double emu_rand01(struct emu *e);

/* emu_board.c: the board's protocol. */
int emu_board_init(struct emu *e, struct emu_board *b, uint16_t index);
void emu_board_power(struct emu_board *b, bool on);
void emu_board_handle(struct emu_board *b, int fd, const struct sockaddr_storage *from,
                      socklen_t fromlen, const uint8_t *dgram, size_t len);
void emu_board_free(struct emu_board *b);
/** Boot every chip of b from a monitor image (the flash boot path); 0 or an S2_E_ code. */
int emu_board_boot_image(struct emu_board *b, const uint8_t *image, size_t len);
/** Re-run the boot-time route computation after a fault changed (booted boards). */
void emu_board_reroute(struct emu_board *b);

#endif
