/**
 * @file stream.h
 * @brief Receiving live streams (docs/stream.md, protocol section 4.17): spikes decoded to
 * (population, neuron, step), energy counter samples and run events, with every lost,
 * duplicated, late or malformed packet counted.
 *
 * A stream is fed datagrams: from its own UDP socket (s2_stream_listen, libevent) while a
 * network runs, or from a capture (s2ctl replay) through the same decoder, so a replay
 * reproduces the live stream exactly. Which populations the spikes belong to comes from the
 * caller (s2_stream_add_source, usually from the network image).
 */
#ifndef S2_STREAM_H
#define S2_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "s2/live.h"

struct event_base;
struct s2_stream;

/** One spike: neuron of population pop (the image's population index) at timestep step. */
struct s2_spike {
	uint32_t pop, neuron, step;
};

/** One chip's raw, monotonic counters (enum s2_live_counter) on the board's clock. */
struct s2_energy_sample {
	uint16_t board, chip;
	uint32_t step;
	uint64_t time_us;
	uint64_t counters[S2_LIVE_COUNTERS];
};

/** A board started, finished or stopped its run (enum s2_live_event). */
struct s2_run_event {
	uint16_t board, event;
	uint32_t step;
	uint64_t time_us;
};

struct s2_stream_stats {
	uint64_t packets; /**< STREAM_DATA packets taken */
	uint64_t bytes;   /**< their datagram bytes */
	uint64_t spikes, energy_samples, events;
	uint64_t lost;           /**< packets missing from the boards' numbering */
	uint64_t late;           /**< arrived after a later one (they filled a gap) */
	uint64_t duplicates;     /**< seen before: dropped */
	uint64_t stale;          /**< more than 64 packets late, too late to tell from a
	                              duplicate: dropped (and still counted in lost) */
	uint64_t bad;            /**< failed to decode (header, CRC, body): dropped */
	uint64_t foreign;        /**< another type, stream id or board: ignored */
	uint64_t unknown_source; /**< spikes of a PE with no population: dropped */
	uint64_t board_dropped;  /**< records the boards could not send (their own count) */
	uint64_t rx_errors;      /**< socket receive errors */
	uint64_t auth_bad; /**< keyed stream: packets not authenticated by the key (2.3): dropped */
};

struct s2_stream_callbacks {
	/** The spikes of one packet, in the board's order (by step, then PE). */
	void (*spikes)(void *ctx, const struct s2_spike *s, size_t n);
	void (*energy)(void *ctx, const struct s2_energy_sample *e);
	void (*event)(void *ctx, const struct s2_run_event *ev);
	void *ctx;
};

/** A stream with this id (0: the first id it is fed, for replays); callbacks may be NULL.
 * NULL if out of memory. */
struct s2_stream *s2_stream_new(uint32_t id, const struct s2_stream_callbacks *cb);
/** Close the stream's socket (if any) and free it and its sources; NULL is allowed. */
void s2_stream_free(struct s2_stream *s);

/**
 * Boards whose packets say board wire[i] are board i of this stream's sources and reports
 * (a SLURM job's view, s2/alloc.h: its board 0 may be site board 2); packets from any other
 * board are counted foreign. n 0 removes the map. 0 or S2_E_NOMEM.
 */
int s2_stream_map_boards(struct s2_stream *s, const uint16_t *wire, unsigned n);

struct s2_key;
/**
 * Accept only packets authenticated with k (copied; NULL: accept any, as before): the
 * boards tag the packets of a stream that an authenticated STREAM_START set up
 * (docs/security.md). Others are dropped and counted in auth_bad. Without a key, tagged
 * packets are taken with their tags unchecked (s2ctl replay of a capture).
 */
void s2_stream_set_key(struct s2_stream *s, const struct s2_key *k);

/** Spikes of (board, chip, pe) are neurons lo + i of population pop. 0 or S2_E_NOMEM. */
int s2_stream_add_source(struct s2_stream *s, uint16_t board, uint16_t chip, uint8_t pe,
                         uint32_t pop, uint32_t lo);

/**
 * Take one datagram (a whole s2 packet). Returns 1 if it was a STREAM_DATA packet of this
 * stream and was delivered, 0 if ignored (counted as foreign or duplicate), or a negative
 * S2_E_ code if malformed (counted as bad; records before the damage are not delivered).
 */
int s2_stream_feed(struct s2_stream *s, const uint8_t *dgram, size_t len);

/**
 * Open a UDP socket on addr ("127.0.0.1"), port 0 for any, and feed what arrives, from the
 * event loop of base. *port_out: the port bound. 0 or an S2_E_ code.
 */
int s2_stream_listen(struct s2_stream *s, struct event_base *base, const char *addr, uint16_t port,
                     uint16_t *port_out);

/** The stream's counters so far (owned by the stream, updated as packets arrive). */
const struct s2_stream_stats *s2_stream_stats(const struct s2_stream *s);

/**
 * In a callback: the board's clock (microseconds) when the oldest record of the packet being
 * delivered was made. The emulator's clock is the host's CLOCK_MONOTONIC, so on one host
 * now - this is the latency from the PE to the callback.
 */
uint64_t s2_stream_packet_time(const struct s2_stream *s);

/** A STREAM_START body for this stream: flags, energy period, the port to send to. */
void s2_stream_start_msg(const struct s2_stream *s, uint32_t flags, uint32_t energy_period,
                         uint16_t port, struct s2_msg_stream_start *m);

struct s2_plan;
struct s2_plan_board;
/**
 * Register the application PEs of pb (a board of plan, s2/plan.h) as sources of s, so that
 * their spikes decode to (population, neuron): only PEs of the populations labelled
 * pops[0..n_pops) (n_pops 0: every population). With m (the board's STREAM_START body, from
 * s2_stream_start_msg), also mark each such PE live in m. s2ctl stream and s2ctl replay both
 * use this, so a replay decodes a capture exactly as the live stream did (stream_plan.c).
 * @return 0; S2_E_RANGE if m is given and a PE's chip is beyond S2_LIVE_MAX_CHIPS (that chip
 *         in *bad_chip, which may be NULL otherwise); S2_E_NOMEM. Sources registered before
 *         a failure stay registered.
 */
int s2_stream_add_plan_sources(struct s2_stream *s, const struct s2_plan *plan,
                               const struct s2_plan_board *pb, const char *const *pops,
                               unsigned n_pops, struct s2_msg_stream_start *m, unsigned *bad_chip);

/* Requests to a board's Ethernet endpoint (asynchronous, reporting into op; board.h). */
struct s2_conn;
struct s2_op;
/** STREAM_START: the board sends its stream to the address in m (port 0: the requester's). */
int s2_stream_start_start(struct s2_conn *eth, const struct s2_msg_stream_start *m,
                          struct s2_op *op);
/** STREAM_STOP of stream id. */
int s2_stream_stop_start(struct s2_conn *eth, uint32_t id, struct s2_op *op);
/** INJECT; *reply holds the board's answer when the op completes (reply_buf: 4 bytes). */
int s2_inject_start(struct s2_conn *eth, const struct s2_msg_inject *m, uint8_t reply_buf[4],
                    size_t *reply_len, struct s2_op *op);

/** Hook for raw datagrams as they arrive (s2ctl capture); NULL to remove. */
void s2_stream_set_tap(struct s2_stream *s, void (*tap)(void *ctx, const uint8_t *d, size_t n),
                       void *ctx);

#endif
