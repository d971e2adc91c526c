/**
 * @file live.h
 * @brief Live streams (protocol section 4.17): a board sends the spikes of chosen PEs, its
 * chips' activity counters and run events to a host while the network runs, and takes spikes
 * injected by the host.
 *
 * STREAM_START / STREAM_STOP / INJECT are ordinary requests to the Ethernet endpoint.
 * STREAM_DATA is sent by the board, never answered: its header `seq` counts the stream's
 * packets from 0, so the host can count every one it lost; its body is the stream id, the
 * board's own count of records it could not send, the board's clock when the packet's oldest
 * record was made, and records. Every decoder here checks
 * bounds and is fuzzed (tests/fuzz/fuzz_live.c).
 */
#ifndef S2_LIVE_H
#define S2_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"

enum {
	S2_MSG_STREAM_START = 0x50, /**< host -> board: send a live stream to an address */
	S2_MSG_STREAM_STOP = 0x51,  /**< host -> board: stop it */
	S2_MSG_STREAM_DATA = 0x52,  /**< board -> host, never answered: records */
	S2_MSG_INJECT = 0x53,       /**< host -> board: spikes for source neurons at a step */
};

#define S2_LIVE_F_SPIKES 0x1u      /**< stream the spikes of the live PEs */
#define S2_LIVE_F_ENERGY 0x2u      /**< stream every chip's counters every energy_period steps */
#define S2_LIVE_MAX_STREAMS 4u     /**< streams a board serves at once */
#define S2_LIVE_START_HDR 20u      /**< STREAM_START fixed part */
#define S2_LIVE_MAX_CHIPS 70u      /**< live-PE bitmaps one STREAM_START holds */
#define S2_LIVE_DATA_HDR 16u       /**< STREAM_DATA: id, dropped, time of the oldest record */
#define S2_LIVE_REC_HDR 4u         /**< record: kind, reserved, length */
#define S2_LIVE_COUNTERS 8u        /**< counters of an ENERGY record */
#define S2_LIVE_ENERGY_LEN 80u     /**< ENERGY record body */
#define S2_LIVE_RUN_LEN 16u        /**< RUN record body */
#define S2_LIVE_SPIKES_HDR 8u      /**< SPIKES record body before the neurons */
#define S2_INJECT_HDR 8u           /**< INJECT fixed part */
#define S2_INJECT_ENTRY 6u         /**< INJECT: chip, neuron, pe, reserved */
#define S2_INJECT_MAX 237u         /**< entries in one INJECT */
#define S2_INJECT_NEXT 0xFFFFFFFFu /**< INJECT step: the next step the board computes */

/** Record kinds of STREAM_DATA. */
enum s2_live_kind { S2_LIVE_SPIKES = 1, S2_LIVE_ENERGY = 2, S2_LIVE_RUN = 3 };

/** RUN record events. */
enum s2_live_event { S2_LIVE_STARTED = 1, S2_LIVE_DONE = 2, S2_LIVE_STOPPED = 3 };

/** Counters of an ENERGY record: raw, monotonic since the application was loaded. */
enum s2_live_counter {
	S2_LC_NEURON_UPDATES,
	S2_LC_SYNAPTIC_EVENTS,
	S2_LC_SPIKES_SENT,
	S2_LC_PACKETS_IN,
	S2_LC_PACKETS_ROUTED, /**< by the chip's router */
	S2_LC_DMA_BYTES,
	S2_LC_PE_STEPS,  /**< timesteps computed, summed over the chip's PEs */
	S2_LC_ENERGY_UJ, /**< measured energy, microjoules; 0: not measured (the emulator) */
};

/** STREAM_START request. */
struct s2_msg_stream_start {
	uint32_t id;            /**< nonzero, chosen by the host, echoed in every packet */
	uint32_t flags;         /**< S2_LIVE_F_* */
	uint32_t energy_period; /**< steps between ENERGY samples (>= 1 with S2_LIVE_F_ENERGY) */
	uint8_t addr[4];        /**< IPv4 destination; 0.0.0.0: the requester's address */
	uint16_t port;          /**< destination port; 0: the requester's port */
	uint16_t n_chips;       /**< bitmaps that follow, chips 0..n_chips-1 */
	uint8_t live[S2_LIVE_MAX_CHIPS][S2_PE_BITMAP_LEN]; /**< PEs whose spikes are streamed */
};

/** INJECT request: each neuron (of a spike source on that PE) spikes at step. */
struct s2_msg_inject {
	uint32_t step; /**< or S2_INJECT_NEXT */
	uint16_t n;
	struct s2_inject_entry {
		uint16_t chip, neuron;
		uint8_t pe;
	} e[S2_INJECT_MAX];
};

/** INJECT reply. */
struct s2_msg_inject_reply {
	uint16_t accepted; /**< all entries: an INJECT is accepted whole or refused */
	uint16_t late;     /**< of which came after their step: they spike at the next one */
};

/** One decoded STREAM_DATA record. */
struct s2_live_rec {
	uint8_t kind;
	uint32_t step;
	uint16_t chip;
	uint8_t pe;
	uint16_t n;             /**< SPIKES: neurons */
	const uint8_t *neurons; /**< SPIKES: n little-endian u16, within the datagram */
	uint16_t event;         /**< RUN */
	uint64_t time_us;       /**< ENERGY, RUN: the board's clock */
	uint64_t counters[S2_LIVE_COUNTERS]; /**< ENERGY */
};

int s2_msg_stream_start_encode(uint8_t *out, size_t cap, const struct s2_msg_stream_start *m);
int s2_msg_stream_start_decode(const uint8_t *p, size_t len, struct s2_msg_stream_start *m);
int s2_msg_inject_encode(uint8_t *out, size_t cap, const struct s2_msg_inject *m);
int s2_msg_inject_decode(const uint8_t *p, size_t len, struct s2_msg_inject *m);
int s2_msg_inject_reply_encode(uint8_t *out, size_t cap, const struct s2_msg_inject_reply *m);
int s2_msg_inject_reply_decode(const uint8_t *p, size_t len, struct s2_msg_inject_reply *m);

/** Reading STREAM_DATA: the body's header, then one record at a time. */
struct s2_live_rd {
	const uint8_t *p;
	size_t len, pos;
};
/** Check the body header; 0 or an S2_E_ code. */
int s2_live_open(struct s2_live_rd *r, const uint8_t *p, size_t len, uint32_t *id,
                 uint32_t *dropped, uint64_t *first_us);
/** The next record: 1, 0 at the end, or an S2_E_ code (the rest of the body is unusable). */
int s2_live_next(struct s2_live_rd *r, struct s2_live_rec *rec);

/** Building STREAM_DATA in a caller's buffer. */
struct s2_live_wr {
	uint8_t *buf;
	size_t cap, pos;
	size_t open; /**< offset of the SPIKES record being extended, 0: none */
	uint32_t step;
	uint16_t chip;
	uint8_t pe;
};
/** Start a body (cap >= S2_LIVE_DATA_HDR); the time field is 0 until s2_live_time(). */
void s2_live_begin(struct s2_live_wr *w, uint8_t *buf, size_t cap, uint32_t id, uint32_t dropped);
/** Set the body's time of its oldest record (the board's clock, microseconds). */
void s2_live_time(struct s2_live_wr *w, uint64_t first_us);
/** Add one spike; extends the open record when step, chip and pe match. 0 or S2_E_NOSPACE. */
int s2_live_spike(struct s2_live_wr *w, uint32_t step, uint16_t chip, uint8_t pe, uint16_t neuron);
/** Add an ENERGY record. 0 or S2_E_NOSPACE. */
int s2_live_energy(struct s2_live_wr *w, uint32_t step, uint16_t chip, uint64_t time_us,
                   const uint64_t counters[S2_LIVE_COUNTERS]);
/** Add a RUN record. 0 or S2_E_NOSPACE. */
int s2_live_run(struct s2_live_wr *w, uint32_t step, uint16_t event, uint64_t time_us);
/** Records in the body so far (false: only the header). */
static inline bool s2_live_any(const struct s2_live_wr *w)
{
	return w->pos > S2_LIVE_DATA_HDR;
}

#endif
