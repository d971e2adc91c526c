/*
 * s2 machine model: the boards of a machine, their UDP endpoints, the chip grid of a board,
 * chip-to-chip links inside a board and between boards, dead chips, PEs and links, and the
 * resources of a chip. Data-driven: everything comes from a machine description (protobuf,
 * proto/pb/machine.proto, docs/machine.md); the standard shapes are generated from the one
 * table of hardware numbers in machine.c (brief section 2).
 *
 * Coordinates:
 *   hierarchical  (rack, board, chip, PE); `board` is the board's index in the machine,
 *                 `chip` the chip's index within its board (y * board_width + x).
 *   global        (x, y) of a chip on the machine's chip grid; links and hop distances are
 *                 computed there, wrapping at the edges when the machine is a torus.
 * Links of a chip are numbered 0-5: E, NE, N, W, SW, S on the standard hexagonal mesh; the
 * link opposite l is (l + 3) % 6.
 *
 * Memory: a few bytes per chip (dead-PE bitmap, dead-link bits); the 8-rack machine
 * (34,560 chips, 5.25 million PEs) takes about 2 MB (bench/machine_model.sh measures it).
 * Not thread-safe for writers; concurrent readers are fine.
 */
#ifndef S2_MACHINE_H
#define S2_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_machine;

#define S2_MACHINE_LINKS 6
#define S2_MACHINE_HOST_MAX 64 /**< bytes of an endpoint host string, with its NUL */
#define S2_MACHINE_MAX_PES 1024
#define S2_MACHINE_MAX_BOARD_CHIPS 1024
#define S2_MACHINE_MAX_BOARDS 65536

/** The standard hardware numbers (brief section 2), kept in one place. */
struct s2_machine_defaults {
	unsigned board_width, board_height; /**< chips: 8 x 6 = 48 per board */
	unsigned eth_chip;                  /**< chip index of the Ethernet chip */
	unsigned pes;                       /**< PEs per chip: 152 */
	unsigned monitor_pe;                /**< PE of the monitor firmware: 0 */
	uint32_t sram_per_pe;               /**< bytes: 128 KiB */
	uint64_t dram_bytes;                /**< bytes per chip: 2 GiB */
	uint32_t router_entries;            /**< per chip: 16,384 */
	uint32_t pe_mhz; /**< PE clock the real-time budget assumes: 300 (the high performance
	                      level; docs/mapping.md "Real-time budget") */
	unsigned rack_width, rack_height; /**< boards per rack on the grid: 10 x 9 = 90 */
	int link_dx[S2_MACHINE_LINKS], link_dy[S2_MACHINE_LINKS];
	const char *link_name[S2_MACHINE_LINKS];
};
const struct s2_machine_defaults *s2_machine_defaults(void);

/** Resources of every chip of the machine. */
struct s2_chip_resources {
	unsigned pes;
	unsigned monitor_pe;
	uint32_t sram_per_pe;
	uint64_t dram_bytes;
	uint32_t router_entries;
	uint32_t pe_mhz; /**< PE clock, MHz: a PE has pe_mhz x 1000 x dt_ms cycles per step */
};

/** Where the host reaches a board. */
struct s2_board_endpoint {
	char host[S2_MACHINE_HOST_MAX];
	uint16_t eth_port; /**< Ethernet chip: boot, load, run, stream */
	uint16_t bmp_port; /**< board controller: power, reset, flash */
};

/* ---- construction ------------------------------------------------------------------- */

/**
 * A machine of n standard boards on a near-square board grid (the most square w x h with
 * w * h == n, w >= h), wrapped into one torus. Board b listens on host at base_port + 2b
 * (Ethernet chip) and base_port + 2b + 1 (board controller); base_port 0 means "not yet
 * known" (all ports 0; s2emu fills them in once bound).
 * @return a new machine (free with s2_machine_free), or NULL if n is 0, too large, or memory
 *         runs out.
 */
struct s2_machine *s2_machine_new_boards(unsigned n, const char *host, uint16_t base_port);

/**
 * A machine of `racks` standard 90-board racks (each 10 x 9 boards), side by side, wrapped
 * into one torus. Ports as for s2_machine_new_boards. Board index = rack * 90 + board in rack.
 */
struct s2_machine *s2_machine_new_racks(unsigned racks, const char *host, uint16_t base_port);

/** Deep copy, or NULL when memory runs out. */
struct s2_machine *s2_machine_clone(const struct s2_machine *m);

/**
 * The machine made of boards[0..k) of m only, renumbered 0..k-1 in that order (a SLURM job's
 * view, host/include/s2/alloc.h): each keeps its endpoint, rack and position on m's board
 * grid, with its dead chips, PEs and links; the other grid positions are empty, so no link
 * leads off the chosen boards and the mapper never routes through a board left out.
 * @return a new machine, or NULL with err set (a board index out of range or repeated,
 *         k == 0, out of memory).
 */
struct s2_machine *s2_machine_subset(const struct s2_machine *m, const unsigned *boards, unsigned k,
                                     char *err, size_t errlen);

/** Free a machine; NULL is fine. */
void s2_machine_free(struct s2_machine *m);

/* ---- description files ---------------------------------------------------------------- */

/**
 * Decode and validate a machine description (the bare protobuf Machine, as inside a
 * description file). The bytes are untrusted: every size, index and position is checked,
 * and each board's endpoint (host a valid IPv4 address or DNS name, ports distinct, no two
 * boards at one address and port); errors name the board and field
 * ("board 3: field host: '!27.0.0.1' is not an IPv4 address or host name").
 * @param err  receives a message naming the item and the reason on failure
 * @return a new machine, or NULL with err set.
 */
struct s2_machine *s2_machine_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);

/**
 * Encode m as a protobuf Machine. Dead links are listed once per link.
 * @param out  receives a malloc'd buffer the caller frees
 * @return 0, or S2_E_NOMEM.
 */
int s2_machine_encode(const struct s2_machine *m, uint8_t **out, size_t *len);

/**
 * Encode m as a description file: the protobuf Machine of s2_machine_encode inside the
 * checksummed s2 file container (kind "MACH", docs/machine.md), one section per part:
 * "machine" (shape and resources), "board N" per board, "dead chips", "dead PEs",
 * "dead links".
 * @return 0, or S2_E_NOMEM.
 */
int s2_machine_encode_file(const struct s2_machine *m, uint8_t **out, size_t *len);

/**
 * Verify and decode the bytes of a description file (s2_machine_encode_file). A damaged file
 * is refused naming the part ("m.pb: section 'board 3' fails its checksum"), a truncated one
 * with both lengths; then as s2_machine_decode. Messages start with name.
 * @return a new machine, or NULL with err set.
 */
struct s2_machine *s2_machine_decode_file(const uint8_t *buf, size_t len, const char *name,
                                          char *err, size_t errlen);

/** Read and decode a description file (at most 256 MiB). NULL with err set on failure. */
struct s2_machine *s2_machine_load_file(const char *path, char *err, size_t errlen);

/**
 * Write m to path (s2_machine_encode_file) atomically (a temporary file renamed over path),
 * so a reader never sees a partial description; a description that reading would refuse
 * (an invalid host, two boards at one port) is not written (S2_E_INVAL, err says why).
 * @return 0, or a negative S2_E_* code with err set.
 */
int s2_machine_save_file(const struct s2_machine *m, const char *path, char *err, size_t errlen);

/* ---- shape ---------------------------------------------------------------------------- */

unsigned s2_machine_boards(const struct s2_machine *m);
unsigned s2_machine_racks(const struct s2_machine *m);
unsigned s2_machine_boards_per_rack(const struct s2_machine *m);
unsigned s2_machine_chips_per_board(const struct s2_machine *m);
unsigned s2_machine_board_width(const struct s2_machine *m);
unsigned s2_machine_board_height(const struct s2_machine *m);
unsigned s2_machine_pes_per_chip(const struct s2_machine *m);
unsigned s2_machine_eth_chip(const struct s2_machine *m);
void s2_machine_chip_resources(const struct s2_machine *m, struct s2_chip_resources *r);
/** Set the DRAM bytes of every chip (a board revision with other memory); the mapper refuses
 *  networks that do not fit it. */
void s2_machine_set_dram(struct s2_machine *m, uint64_t bytes);
/** Set the PE clock (MHz, > 0) the mapper's real-time budget assumes (a PE has
 *  mhz x 1000 x dt_ms cycles per timestep; docs/mapping.md "Real-time budget"). */
void s2_machine_set_pe_mhz(struct s2_machine *m, uint32_t mhz);
const char *s2_machine_name(const struct s2_machine *m);
bool s2_machine_wraps(const struct s2_machine *m);
/** Global chip grid size. */
unsigned s2_machine_width(const struct s2_machine *m);
unsigned s2_machine_height(const struct s2_machine *m);
/** Chips and PEs in total (dead included). */
uint64_t s2_machine_total_chips(const struct s2_machine *m);
uint64_t s2_machine_total_pes(const struct s2_machine *m);

/* ---- boards --------------------------------------------------------------------------- */

/** Endpoint of board b (b < s2_machine_boards). */
void s2_machine_board_endpoint(const struct s2_machine *m, unsigned b,
                               struct s2_board_endpoint *ep);
/** @return 0, or S2_E_INVAL when b is out of range or host does not fit. */
int s2_machine_set_board_endpoint(struct s2_machine *m, unsigned b, const char *host,
                                  uint16_t eth_port, uint16_t bmp_port);
unsigned s2_machine_board_rack(const struct s2_machine *m, unsigned b);
/** Position of board b on the board grid. */
void s2_machine_board_pos(const struct s2_machine *m, unsigned b, unsigned *gx, unsigned *gy);

/* ---- coordinates, links, distance ----------------------------------------------------- */

/** Global coordinates of chip c of board b. */
void s2_machine_chip_xy(const struct s2_machine *m, unsigned b, unsigned c, unsigned *x,
                        unsigned *y);
/** The board and chip at global (x, y). @return false if no board sits there. */
bool s2_machine_chip_at(const struct s2_machine *m, unsigned x, unsigned y, unsigned *b,
                        unsigned *c);
/**
 * The chip at the far end of link l of chip c on board b, whether or not either is dead.
 * @return false if there is none (edge of a machine that does not wrap, or an empty grid
 *         position).
 */
bool s2_machine_neighbour(const struct s2_machine *m, unsigned b, unsigned c, unsigned l,
                          unsigned *nb, unsigned *nc);
/** Link of the far chip that leads back: (l + 3) % 6 on the standard mesh. */
unsigned s2_machine_link_opposite(const struct s2_machine *m, unsigned l);
const char *s2_machine_link_name(const struct s2_machine *m, unsigned l);
/**
 * Fewest link hops from chip (b1, c1) to chip (b2, c2) on the mesh geometry (wrapping when
 * the machine does), ignoring dead chips and links. O(1).
 */
unsigned s2_machine_hops(const struct s2_machine *m, unsigned b1, unsigned c1, unsigned b2,
                         unsigned c2);

/* ---- dead chips, PEs and links -------------------------------------------------------- */

bool s2_machine_chip_dead(const struct s2_machine *m, unsigned b, unsigned c);
bool s2_machine_pe_dead(const struct s2_machine *m, unsigned b, unsigned c, unsigned pe);
/** True when link l of (b, c) or its far end is marked dead. */
bool s2_machine_link_dead(const struct s2_machine *m, unsigned b, unsigned c, unsigned l);
/** Mark dead. Out-of-range arguments are ignored. Marking a link marks both of its ends. */
void s2_machine_mark_chip_dead(struct s2_machine *m, unsigned b, unsigned c);
void s2_machine_mark_pe_dead(struct s2_machine *m, unsigned b, unsigned c, unsigned pe);
void s2_machine_mark_link_dead(struct s2_machine *m, unsigned b, unsigned c, unsigned l);
/** Counts of what is marked dead (a dead link counted once, not once per end). */
unsigned s2_machine_count_dead_chips(const struct s2_machine *m);
unsigned s2_machine_count_dead_pes(const struct s2_machine *m);
unsigned s2_machine_count_dead_links(const struct s2_machine *m);

#ifdef __cplusplus
}
#endif
#endif
