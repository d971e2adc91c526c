/**
 * @file msg.h
 * @brief Message bodies of protocol version 1 (docs/protocol.md section 4).
 *
 * Each message type has a request body and, unless S2_F_ERROR is set on the reply, a reply
 * body, encoded here into the payload of a packet (packet.h). Decoders trust nothing:
 * every field is bounds-checked, reserved bytes must be zero, and the whole payload must be
 * consumed (S2_E_LENGTH otherwise). Encoders return the number of bytes written or a
 * negative S2_E_ code. Sections refer to docs/protocol.md.
 */
#ifndef S2_MSG_H
#define S2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Message types (section 4.1). */
enum s2_msg_type {
	S2_MSG_ANNOUNCE = 0x01,     /**< board -> host, unsolicited: board identity */
	S2_MSG_DISCOVER = 0x02,     /**< host -> board: reply is a board identity */
	S2_MSG_BOOT_START = 0x03,   /**< begin boot: image length, CRC, block size */
	S2_MSG_BOOT_DATA = 0x04,    /**< one block of the boot image */
	S2_MSG_BOOT_END = 0x05,     /**< check image, spread it, reply board status */
	S2_MSG_BOARD_STATUS = 0x06, /**< reply board status (chips alive) */
	S2_MSG_LEASE = 0x07,        /**< either endpoint: take, renew, release or show a lease */
	S2_MSG_KEY = 0x08,          /**< either endpoint: install, revoke or list keys (4.19) */
	S2_MSG_CHIP_INFO = 0x10,    /**< a chip's monitor: resources, PEs and links alive */
	S2_MSG_MEM_READ = 0x11,     /**< read PE SRAM or chip DRAM */
	S2_MSG_MEM_WRITE = 0x12,    /**< write PE SRAM or chip DRAM */
	S2_MSG_CORE_STATES = 0x13,  /**< state of every PE of a chip */
	S2_MSG_IOBUF = 0x14,        /**< read a PE's (or the monitor's) log buffer */
	S2_MSG_SIGNAL = 0x15,       /**< start, stop or reset a set of PEs */
	S2_MSG_SCRUB = 0x16,        /**< stop the PEs, zero and verify SRAM and DRAM (4.20) */
	S2_MSG_ROUTER_LOAD = 0x20,  /**< a chip: load its router table from its DRAM (4.15) */
	S2_MSG_APP_LOAD = 0x21,     /**< a chip's PE: start the engine on PE data in DRAM */
	S2_MSG_APP_RUN = 0x22,      /**< board: arm the loaded application to run n steps */
	S2_MSG_APP_STATUS = 0x23,   /**< board: run state, steps done, activity counters */
	S2_MSG_APP_STOP = 0x24,     /**< board: stop running and unload the application */
	S2_MSG_APP_UPDATE = 0x25,   /**< a chip's PE, between runs: take new PE data, keep state */
	S2_MSG_BMP_INFO = 0x30,     /**< board controller: power state, identity */
	S2_MSG_BMP_POWER = 0x31,    /**< board controller: power off, on or reset */
	S2_MSG_FLASH_STATUS = 0x32, /**< board controller: both flash slots (section 4.13) */
	S2_MSG_FLASH_BEGIN = 0x33,  /**< erase a slot and start writing an image into it */
	S2_MSG_FLASH_DATA = 0x34,   /**< one block, zlib-compressed or stored, with its CRC */
	S2_MSG_FLASH_READ = 0x35,   /**< read back bytes of a slot */
	S2_MSG_FLASH_COMMIT = 0x36, /**< check the slot and make it the newest valid image */
	S2_MSG_BULK_BEGIN = 0x40,   /**< start a bulk write of a region (section 4.16) */
	S2_MSG_BULK_DATA = 0x41,    /**< one block of a region, either way; never answered */
	S2_MSG_BULK_SACK = 0x42,    /**< selective acknowledgement of a region's blocks */
	S2_MSG_BULK_POLL = 0x43,    /**< host asks for a SACK of a bulk write (the reply) */
	S2_MSG_BULK_END = 0x44,     /**< check the whole region's CRC and forget the region */
	S2_MSG_BULK_READ = 0x45,    /**< start a bulk read: the board streams BULK_DATA */
};

#define S2_VERSION_STR_LEN 32u /**< NUL-padded version strings on the wire */
#define S2_PE_BITMAP_LEN 20u   /**< bitmap of up to 160 PEs (152 used) */
#define S2_MAX_CHIP_PES 160u
#define S2_BOOT_BLOCK_MAX 1024u /**< largest boot block */
#define S2_MEM_XFER_MAX 1024u   /**< largest MEM_READ / MEM_WRITE data */
#define S2_IOBUF_XFER_MAX 1024u /**< largest IOBUF reply data */
#define S2_BOARD_MAX_CHIPS 64u  /**< chips_alive is a 64-bit bitmap */

/** Board states (section 4.2). */
enum s2_board_state { S2_BOARD_UNBOOTED = 0, S2_BOARD_BOOTING = 1, S2_BOARD_BOOTED = 2 };

/** Memory spaces of MEM_READ / MEM_WRITE (section 4.6). */
enum s2_mem_space { S2_MEM_DRAM = 0, S2_MEM_SRAM = 1 };

/** PE states of CORE_STATES (section 4.7). */
enum s2_pe_state {
	S2_PE_STATE_DEAD = 0,    /**< failed its test at boot; never used */
	S2_PE_STATE_IDLE = 1,    /**< alive, reset, not running */
	S2_PE_STATE_RUNNING = 2, /**< started */
	S2_PE_STATE_STOPPED = 3, /**< stopped after running */
	S2_PE_STATE_MONITOR = 4, /**< runs the chip's monitor firmware */
};

/** Signals (section 4.9). */
enum s2_signal { S2_SIG_START = 1, S2_SIG_STOP = 2, S2_SIG_RESET = 3 };

/** Flash slot states (section 4.13). */
enum s2_flash_state {
	S2_FLASH_EMPTY = 0,   /**< erased, or a header that fails its CRC */
	S2_FLASH_WRITING = 1, /**< FLASH_BEGIN done, not committed: never booted */
	S2_FLASH_VALID = 2,   /**< committed, not yet booted */
	S2_FLASH_TRYING = 3,  /**< a boot from it started and has not been confirmed */
	S2_FLASH_GOOD = 4,    /**< booted successfully */
	S2_FLASH_BAD = 5,     /**< failed to boot; never tried again */
};

#define S2_FLASH_SLOTS 2u
#define S2_FLASH_NO_SLOT 0xFFu
#define S2_FLASH_READ_MAX 1024u /**< largest FLASH_READ reply */
#define S2_FLASH_RAW_MAX 32768u /**< largest raw (uncompressed) FLASH_DATA block */
#define S2_FLASH_F_ZLIB 0x01u   /**< FLASH_DATA flag: data is a zlib stream */

/** One slot in a FLASH_STATUS reply. */
struct s2_msg_flash_slot {
	uint8_t state;        /**< enum s2_flash_state */
	uint32_t seq;         /**< generation: the newest bootable slot has the highest */
	uint32_t length, crc; /**< image length and CRC-32 recorded at FLASH_BEGIN */
	char version[S2_VERSION_STR_LEN + 1];
};

/** FLASH_STATUS reply (section 4.13). */
struct s2_msg_flash_status {
	uint16_t board_type; /**< S2_BOARD_TYPE_* of flashimg.h */
	uint8_t booted_slot; /**< slot the board booted from at power-on, or S2_FLASH_NO_SLOT */
	uint32_t slot_size;  /**< bytes an image may take */
	struct s2_msg_flash_slot slot[S2_FLASH_SLOTS];
};

/** FLASH_BEGIN request. */
struct s2_msg_flash_begin {
	uint8_t slot;
	uint32_t length, crc; /**< of the whole image */
	char version[S2_VERSION_STR_LEN + 1];
};

/** FLASH_DATA request. data points into the decoded payload. */
struct s2_msg_flash_data {
	uint8_t slot;
	uint8_t flags;    /**< S2_FLASH_F_ZLIB */
	uint16_t raw_len; /**< bytes after decompression, 1..S2_FLASH_RAW_MAX */
	uint32_t offset;  /**< where the raw bytes go in the slot */
	uint32_t raw_crc; /**< CRC-32 of the raw bytes */
	const uint8_t *data;
	uint16_t len;
};

/** FLASH_READ request. */
struct s2_msg_flash_read {
	uint8_t slot;
	uint32_t offset;
	uint16_t len; /**< 1..S2_FLASH_READ_MAX */
};

/** FLASH_COMMIT request: the host's idea of what the slot holds. */
struct s2_msg_flash_commit {
	uint8_t slot;
	uint32_t length, crc;
};

/** A router entry in chip DRAM for ROUTER_LOAD: key u32, mask u32, route 5 x u32 (bits
 * 0-5 links, bit 6 + p PE p). */
#define S2_RT_ENTRY_LEN 28u
#define S2_RT_ROUTE_WORDS 5u

/** ROUTER_LOAD request (section 4.15). */
struct s2_msg_router_load {
	uint32_t addr;      /**< chip DRAM address of the entries */
	uint32_t n_entries; /**< <= the chip's router entries */
};

/**
 * A recording region (protocol 4.15) starts with a header: recorded u32, lost u32, and in the
 * spike stream's region (stream 0) the PE's clipping counters, S2_REC_CLIPS x u64 (enum
 * s2_rec_clip), kept current by the PE; then the data. A region of stream 0 is at least
 * the header, so that every PE reports its counters. The header is as long as APP_LOAD asks
 * (s2_msg_app_load.rec_hdr): S2_REC_HDR_LEN bytes, or the second layout, S2_REC_HDR_LEN_V2
 * with the first S2_REC_CLIPS_V2 counters, or without it the first layout,
 * S2_REC_HDR_LEN_V1 bytes with the first S2_REC_CLIPS_V1 counters (what hosts of earlier
 * s2 releases read).
 */
#define S2_REC_HDR_LEN 96u
#define S2_REC_HDR_LEN_V2 80u /**< the second layout: S2_REC_CLIPS_V2 counters */
#define S2_REC_HDR_LEN_V1 48u
enum s2_rec_clip {
	S2_CLIP_INPUT = 0, /**< input additions clipped at a neuron's 16-bit per-step slot */
	S2_CLIP_WZERO = 1, /**< drawn weights above 0 that rounded to 0 weight units */
	S2_CLIP_WMAX = 2,  /**< drawn weights above 65535 units (stored as 65535) */
	S2_CLIP_DELAY = 3, /**< drawn delays outside 1-64 steps (stored as 1 or 64) */
	/** Plasticity (docs/engine.md "Plasticity"), the sum of its counters (the four
	 *  below). Zero from a PE without it. */
	S2_CLIP_PLASTIC = 4,
	S2_REC_CLIPS_V1 = 5,    /**< counters in the first layout */
	S2_CLIP_PL_ZERO = 5,    /**< delivered plastic weights above 0 that rounded to 0 units */
	S2_CLIP_PL_CLIPPED = 6, /**< delivered plastic weights above 65535 units; traces
	                           above 65535 (saturated) */
	S2_CLIP_PL_HIST = 7,    /**< updates that needed a post spike gone from the history */
	S2_CLIP_PL_QUEUE = 8,   /**< axonal pre events applied early: their slot's queue full */
	S2_REC_CLIPS_V2 = 9,    /**< counters in the second layout */
	/** The real-time budget (docs/engine.md "Real-time budget"): steps whose cycles
	 *  exceeded the PE's budget, and the costliest step in thousandths of it. */
	S2_CLIP_OVERRUN = 9,
	S2_CLIP_WORST = 10,
	S2_REC_CLIPS = 11, /**< counters in the header */
};

/** APP_LOAD request (section 4.15); the PE is the header's pe field. */
struct s2_msg_app_load {
	uint32_t blob_addr, blob_len;      /**< the PE data blob in chip DRAM */
	uint32_t rec_addr[2], rec_size[2]; /**< recording regions (spikes, voltages) in chip DRAM */
	/** The recording regions' header: S2_REC_HDR_LEN or S2_REC_HDR_LEN_V2 (a 28-byte
	 *  body), or 0 when encoding (a 24-byte body, as an earlier s2 sends) =
	 *  S2_REC_HDR_LEN_V1 when decoded. */
	uint32_t rec_hdr;
};

/** APP_UPDATE request (section 4.15); the PE is the header's pe field. */
struct s2_msg_app_update {
	uint32_t blob_addr, blob_len; /**< the new PE data blob in chip DRAM */
};

/** APP_RUN request. */
#define S2_APP_F_REALTIME 0x01u /**< pace timesteps to wall-clock time */
/** Continue the run that ended (state done): every PE keeps its state (neurons, synaptic
 *  rings, random streams, step), and recording starts again at the start of each region
 *  (the host read the previous run's recordings). */
#define S2_APP_F_RESUME 0x02u
struct s2_msg_app_run {
	uint32_t n_steps;
	uint32_t flags;
};

/** Application states of APP_STATUS. */
enum s2_app_state {
	S2_APP_IDLE = 0,   /**< nothing loaded */
	S2_APP_LOADED = 1, /**< loaded, not armed */
	S2_APP_ARMED = 2,  /**< waiting for the other boards of the machine to be armed */
	S2_APP_RUNNING = 3,
	S2_APP_DONE = 4,
	S2_APP_LOADING = 5, /**< PEs are still expanding their synapses */
	S2_APP_FAILED = 6,  /**< a PE refused its data: see load_error, load_chip, load_pe */
};

/** APP_STATUS reply (section 4.15), 100 bytes. */
struct s2_msg_app_status {
	uint8_t state;      /**< enum s2_app_state */
	uint32_t pes;       /**< application PEs loaded on the board */
	uint32_t pending;   /**< APP_LOADs accepted, still being loaded */
	int32_t load_error; /**< the first load failure (an S2_E_ code), or 0 */
	uint16_t load_chip, load_pe;
	uint32_t steps_done, n_steps;
	uint64_t neuron_updates, synaptic_events, spikes_sent, packets_in;
	uint64_t packets_unrouted; /**< reached a PE whose key table had no entry */
	uint64_t packets_routed;   /**< router traversals (chip hops) */
	uint64_t packets_dropped;  /**< no route, dead link or chip, or off this emulator */
	uint64_t rec_lost;         /**< recording bytes that did not fit their regions */
	uint64_t ring_saturated;
};

/** Board-controller power actions (section 4.11). */
enum s2_power { S2_POWER_OFF = 0, S2_POWER_ON = 1, S2_POWER_RESET = 2 };

/** ANNOUNCE body and DISCOVER reply (section 4.2). */
struct s2_msg_board_id {
	uint16_t board;        /**< board index in the machine, S2_ADDR_ANY if unknown */
	uint8_t state;         /**< enum s2_board_state */
	uint8_t eth_chip;      /**< index of the Ethernet chip within the board */
	uint32_t serial;       /**< board serial number */
	uint16_t chips;        /**< chips on the board, <= S2_BOARD_MAX_CHIPS */
	uint16_t pes_per_chip; /**< PEs per chip, <= S2_MAX_CHIP_PES */
	char version[S2_VERSION_STR_LEN + 1]; /**< NUL-terminated */
};

/** BOOT_START request (section 4.3). */
struct s2_msg_boot_start {
	uint32_t image_len;  /**< bytes, > 0 */
	uint32_t image_crc;  /**< CRC-32 of the whole image */
	uint16_t block_size; /**< bytes per BOOT_DATA block, 1..S2_BOOT_BLOCK_MAX */
};

/** BOOT_DATA request (section 4.3). data points into the decoded payload. */
struct s2_msg_boot_data {
	uint32_t block;
	const uint8_t *data;
	uint16_t len;
};

/** BOOT_END and BOARD_STATUS reply (section 4.4). */
struct s2_msg_board_status {
	uint8_t state;        /**< enum s2_board_state */
	uint8_t chips;        /**< chips on the board */
	uint64_t chips_alive; /**< bit c: chip c booted and answers */
	uint32_t boot_us;     /**< time the board took to spread the image, microseconds */
};

/** CHIP_INFO reply (section 4.5). */
struct s2_msg_chip_info {
	uint16_t chip;                      /**< chip index within the board */
	uint8_t pes;                        /**< PEs on the chip */
	uint8_t links_alive;                /**< bit l: link l works (6 links) */
	uint8_t pe_alive[S2_PE_BITMAP_LEN]; /**< bit p of byte p/8: PE p alive */
	uint32_t sram_per_pe;               /**< bytes */
	uint32_t router_entries;
	uint64_t dram_bytes;
	char version[S2_VERSION_STR_LEN + 1]; /**< monitor firmware version */
};

/** MEM_READ request (section 4.6). The PE for SRAM is the header's pe field. */
struct s2_msg_mem_read {
	uint8_t space; /**< enum s2_mem_space */
	uint32_t addr;
	uint16_t len; /**< 1..S2_MEM_XFER_MAX */
};

/** MEM_WRITE request (section 4.6). data points into the decoded payload. */
struct s2_msg_mem_write {
	uint8_t space;
	uint32_t addr;
	const uint8_t *data;
	uint16_t len; /**< 1..S2_MEM_XFER_MAX */
};

/** CORE_STATES reply (section 4.7). */
struct s2_msg_core_states {
	uint8_t n;
	uint8_t state[S2_MAX_CHIP_PES]; /**< enum s2_pe_state */
};

/** IOBUF request (section 4.8). */
struct s2_msg_iobuf_req {
	uint32_t offset;  /**< stream offset to read from */
	uint16_t max_len; /**< 1..S2_IOBUF_XFER_MAX */
};

/** IOBUF reply (section 4.8). */
struct s2_msg_iobuf_rep {
	uint32_t total;  /**< bytes ever written to this log */
	uint32_t offset; /**< stream offset of data[0] (later than asked if overwritten) */
	const uint8_t *data;
	uint16_t len;
};

/** SIGNAL request (section 4.9). */
struct s2_msg_signal {
	uint8_t signal; /**< enum s2_signal */
	uint8_t pes[S2_PE_BITMAP_LEN];
};

/** BMP_INFO reply (section 4.10). */
struct s2_msg_bmp_info {
	uint16_t board;
	uint8_t power; /**< 0 off, 1 on */
	uint32_t serial;
	char version[S2_VERSION_STR_LEN + 1];
};

/** LEASE operations (section 4.18). */
enum s2_lease_op { S2_LEASE_STATUS = 0, S2_LEASE_ACQUIRE = 1, S2_LEASE_RELEASE = 2 };
#define S2_LEASE_F_FORCE 0x01u    /**< ACQUIRE/RELEASE: whoever holds it */
#define S2_LEASE_F_RENEW 0x02u    /**< ACQUIRE: only renew a lease held with this token */
#define S2_LEASE_TTL_MAX 3600000u /**< longest lease, ms (one hour) */
#define S2_LEASE_HOLDER_LEN 32u   /**< holder names on the wire */

/** LEASE request, 48 bytes (section 4.18). */
struct s2_msg_lease_req {
	uint8_t op;      /**< enum s2_lease_op */
	uint8_t flags;   /**< S2_LEASE_F_FORCE */
	uint32_t ttl_ms; /**< ACQUIRE: 1..S2_LEASE_TTL_MAX; otherwise 0 */
	uint64_t token;  /**< the holder's secret id, not 0 for ACQUIRE and RELEASE */
	char holder[S2_LEASE_HOLDER_LEN + 1]; /**< who, for people: "user@host pid" */
};

/** LEASE reply, 48 bytes: the lease after the request. */
struct s2_msg_lease_rep {
	uint8_t held;          /**< 1: a live lease exists */
	uint8_t mine;          /**< 1: held with the request's token */
	uint32_t remaining_ms; /**< until it expires unless renewed */
	uint32_t refused;      /**< requests refused as busy since the board started */
	uint32_t forced;       /**< leases taken over by force since the board started */
	char holder[S2_LEASE_HOLDER_LEN + 1];
};

int s2_msg_lease_req_encode(uint8_t *out, size_t cap, const struct s2_msg_lease_req *m);
int s2_msg_lease_req_decode(const uint8_t *p, size_t len, struct s2_msg_lease_req *m);
int s2_msg_lease_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_lease_rep *m);
int s2_msg_lease_rep_decode(const uint8_t *p, size_t len, struct s2_msg_lease_rep *m);

int s2_msg_board_id_encode(uint8_t *out, size_t cap, const struct s2_msg_board_id *m);
int s2_msg_board_id_decode(const uint8_t *p, size_t len, struct s2_msg_board_id *m);
int s2_msg_boot_start_encode(uint8_t *out, size_t cap, const struct s2_msg_boot_start *m);
int s2_msg_boot_start_decode(const uint8_t *p, size_t len, struct s2_msg_boot_start *m);
int s2_msg_boot_data_encode(uint8_t *out, size_t cap, const struct s2_msg_boot_data *m);
int s2_msg_boot_data_decode(const uint8_t *p, size_t len, struct s2_msg_boot_data *m);
int s2_msg_board_status_encode(uint8_t *out, size_t cap, const struct s2_msg_board_status *m);
int s2_msg_board_status_decode(const uint8_t *p, size_t len, struct s2_msg_board_status *m);
int s2_msg_chip_info_encode(uint8_t *out, size_t cap, const struct s2_msg_chip_info *m);
int s2_msg_chip_info_decode(const uint8_t *p, size_t len, struct s2_msg_chip_info *m);
int s2_msg_mem_read_encode(uint8_t *out, size_t cap, const struct s2_msg_mem_read *m);
int s2_msg_mem_read_decode(const uint8_t *p, size_t len, struct s2_msg_mem_read *m);
int s2_msg_mem_write_encode(uint8_t *out, size_t cap, const struct s2_msg_mem_write *m);
int s2_msg_mem_write_decode(const uint8_t *p, size_t len, struct s2_msg_mem_write *m);
int s2_msg_core_states_encode(uint8_t *out, size_t cap, const struct s2_msg_core_states *m);
int s2_msg_core_states_decode(const uint8_t *p, size_t len, struct s2_msg_core_states *m);
int s2_msg_iobuf_req_encode(uint8_t *out, size_t cap, const struct s2_msg_iobuf_req *m);
int s2_msg_iobuf_req_decode(const uint8_t *p, size_t len, struct s2_msg_iobuf_req *m);
int s2_msg_iobuf_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_iobuf_rep *m);
int s2_msg_iobuf_rep_decode(const uint8_t *p, size_t len, struct s2_msg_iobuf_rep *m);
int s2_msg_signal_encode(uint8_t *out, size_t cap, const struct s2_msg_signal *m);
int s2_msg_signal_decode(const uint8_t *p, size_t len, struct s2_msg_signal *m);
int s2_msg_bmp_info_encode(uint8_t *out, size_t cap, const struct s2_msg_bmp_info *m);
int s2_msg_bmp_info_decode(const uint8_t *p, size_t len, struct s2_msg_bmp_info *m);

/** SCRUB request (section 4.20): 4 bytes. */
enum s2_scrub_op { S2_SCRUB_STATUS = 0, S2_SCRUB_START = 1 };
/** SCRUB reply state. */
enum s2_scrub_state {
	S2_SCRUB_NONE = 0,    /**< no scrub since the monitor started */
	S2_SCRUB_RUNNING = 1, /**< zeroing or verifying */
	S2_SCRUB_DONE = 2,    /**< every byte zeroed and read back as zero */
	S2_SCRUB_FAILED = 3,  /**< a byte read back non-zero, or the memory refused */
};
struct s2_msg_scrub_req {
	uint8_t op; /**< enum s2_scrub_op */
};
/** SCRUB reply, 40 bytes. */
struct s2_msg_scrub_rep {
	uint8_t state;           /**< enum s2_scrub_state */
	uint8_t phase;           /**< 0 zeroing, 1 verifying (meaningful while running) */
	uint16_t pes;            /**< PEs whose SRAM the scrub covers */
	uint32_t failures;       /**< regions that failed (write refused or non-zero read) */
	uint64_t bytes_total;    /**< SRAM of those PEs + the chip's DRAM */
	uint64_t bytes_zeroed;   /**< written with zeros so far */
	uint64_t bytes_verified; /**< read back as zero so far (after they were zeroed) */
	uint32_t fail_addr;      /**< first failure: address within its space */
	uint8_t fail_space;      /**< its space (S2_MEM_*) */
	uint8_t fail_pe;         /**< its PE (SRAM) */
};
int s2_msg_scrub_req_encode(uint8_t *out, size_t cap, const struct s2_msg_scrub_req *m);
int s2_msg_scrub_req_decode(const uint8_t *p, size_t len, struct s2_msg_scrub_req *m);
int s2_msg_scrub_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_scrub_rep *m);
int s2_msg_scrub_rep_decode(const uint8_t *p, size_t len, struct s2_msg_scrub_rep *m);

/** A one-byte body (BMP_POWER action, SIGNAL count...) and a 32-bit status. */
int s2_msg_u8_decode(const uint8_t *p, size_t len, uint8_t *v);
int s2_msg_status_encode(uint8_t *out, size_t cap, int status);
/** Decode an S2_F_ERROR reply body: *status receives a negative S2_E_ code. */
int s2_msg_status_decode(const uint8_t *p, size_t len, int *status);

/** Bitmap helpers for pe_alive / SIGNAL masks. */
static inline bool s2_bitmap_get(const uint8_t *bm, unsigned i)
{
	return (bm[i / 8] >> (i % 8)) & 1u;
}

static inline void s2_bitmap_set(uint8_t *bm, unsigned i, bool v)
{
	if (v)
		bm[i / 8] = (uint8_t)(bm[i / 8] | (1u << (i % 8)));
	else
		bm[i / 8] = (uint8_t)(bm[i / 8] & ~(1u << (i % 8)));
}

/** Name of a message type for logs ("MEM_READ"), or "UNKNOWN". */
const char *s2_msg_name(unsigned type);

/* Flash (section 4.13). */
int s2_msg_flash_status_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_status *m);
int s2_msg_flash_status_decode(const uint8_t *p, size_t len, struct s2_msg_flash_status *m);
int s2_msg_flash_begin_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_begin *m);
int s2_msg_flash_begin_decode(const uint8_t *p, size_t len, struct s2_msg_flash_begin *m);
int s2_msg_flash_data_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_data *m);
int s2_msg_flash_data_decode(const uint8_t *p, size_t len, struct s2_msg_flash_data *m);
int s2_msg_flash_read_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_read *m);
int s2_msg_flash_read_decode(const uint8_t *p, size_t len, struct s2_msg_flash_read *m);
int s2_msg_flash_commit_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_commit *m);
int s2_msg_flash_commit_decode(const uint8_t *p, size_t len, struct s2_msg_flash_commit *m);

/* Applications (section 4.15). */
int s2_msg_router_load_encode(uint8_t *out, size_t cap, const struct s2_msg_router_load *m);
int s2_msg_router_load_decode(const uint8_t *p, size_t len, struct s2_msg_router_load *m);
int s2_msg_app_load_encode(uint8_t *out, size_t cap, const struct s2_msg_app_load *m);
int s2_msg_app_load_decode(const uint8_t *p, size_t len, struct s2_msg_app_load *m);
int s2_msg_app_update_encode(uint8_t *out, size_t cap, const struct s2_msg_app_update *m);
int s2_msg_app_update_decode(const uint8_t *p, size_t len, struct s2_msg_app_update *m);
int s2_msg_app_run_encode(uint8_t *out, size_t cap, const struct s2_msg_app_run *m);
int s2_msg_app_run_decode(const uint8_t *p, size_t len, struct s2_msg_app_run *m);
int s2_msg_app_status_encode(uint8_t *out, size_t cap, const struct s2_msg_app_status *m);
int s2_msg_app_status_decode(const uint8_t *p, size_t len, struct s2_msg_app_status *m);

/* Bulk transfers (section 4.16). */
#define S2_BULK_DATA_HDR 16u    /**< BULK_DATA fixed part */
#define S2_BULK_BLOCK_MAX 1416u /**< S2_MAX_PAYLOAD - S2_BULK_DATA_HDR: a stored block fits */
#define S2_BULK_BLOCK_MIN 64u
#define S2_BULK_LEN_MAX (1u << 30)     /**< largest region, bytes */
#define S2_BULK_F_ZLIB 0x01u           /**< BULK_DATA flag, BULK_READ flag: zlib blocks */
#define S2_BULK_SACK_F_TIMEOUT 0x0001u /**< host SACK of a read: resend all unacknowledged */
#define S2_BULK_SACK_BITMAP_MAX 128u   /**< SACK bitmap bytes: 1024 blocks after cum */
#define S2_BULK_WINDOW_MAX 1024u

/** BULK_BEGIN request (section 4.16.2); chip and PE are the header's. */
struct s2_msg_bulk_begin {
	uint32_t region;     /**< chosen by the host, unique among its open regions of a board */
	uint8_t space;       /**< enum s2_mem_space */
	uint32_t addr;       /**< byte address in the space */
	uint32_t len;        /**< raw bytes, 1..S2_BULK_LEN_MAX */
	uint32_t crc;        /**< CRC-32 of the whole raw region */
	uint16_t block_size; /**< raw bytes per block, S2_BULK_BLOCK_MIN..S2_BULK_BLOCK_MAX */
};

/** BULK_READ request (section 4.16.5). */
struct s2_msg_bulk_read {
	uint32_t region;
	uint8_t space;
	uint8_t flags; /**< S2_BULK_F_ZLIB: the board may compress blocks */
	uint32_t addr, len;
	uint16_t block_size;
	uint16_t window; /**< blocks the board may have unacknowledged, 1..S2_BULK_WINDOW_MAX */
};

/** BULK_READ reply. */
struct s2_msg_bulk_read_rep {
	uint32_t region, len;
	uint32_t crc; /**< CRC-32 of the region as read */
	uint32_t n_blocks;
};

/** BULK_DATA (section 4.16.3). data points into the decoded payload. */
struct s2_msg_bulk_data {
	uint32_t region, block;
	uint16_t raw_len; /**< bytes after decompression, 1..S2_BULK_BLOCK_MAX */
	uint8_t flags;    /**< S2_BULK_F_ZLIB */
	uint32_t raw_crc; /**< CRC-32 of the raw bytes */
	const uint8_t *data;
	uint16_t len;
};

/** BULK_SACK (section 4.16.4): blocks < cum all received; bitmap bit i: block cum + 1 + i. */
struct s2_msg_bulk_sack {
	uint32_t region, cum;
	uint32_t bad;   /**< blocks of the region rejected so far (CRC, length, zlib) */
	uint16_t flags; /**< S2_BULK_SACK_F_TIMEOUT */
	uint16_t bm_len;
	uint8_t bitmap[S2_BULK_SACK_BITMAP_MAX];
};

int s2_msg_bulk_begin_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_begin *m);
int s2_msg_bulk_begin_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_begin *m);
int s2_msg_bulk_read_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_read *m);
int s2_msg_bulk_read_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_read *m);
int s2_msg_bulk_read_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_read_rep *m);
int s2_msg_bulk_read_rep_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_read_rep *m);
int s2_msg_bulk_data_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_data *m);
int s2_msg_bulk_data_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_data *m);
int s2_msg_bulk_sack_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_sack *m);
int s2_msg_bulk_sack_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_sack *m);
/** BULK_POLL and BULK_END request: the region (u32). */
int s2_msg_bulk_region_encode(uint8_t *out, size_t cap, uint32_t region);
int s2_msg_bulk_region_decode(const uint8_t *p, size_t len, uint32_t *region);

#endif
