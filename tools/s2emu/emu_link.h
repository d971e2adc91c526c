/*
 * Board-to-board links between s2emu processes (docs/s2emu.md "Several processes, one
 * machine"). When a process serves only some boards of its machine description, the multicast
 * packets that leave its boards over a board-to-board link are carried over UDP to the process
 * that serves the neighbour board, which routes them on from that chip, as they would cross the
 * link of one process. Processes with an application start together and compute every
 * timestep together: after routing its own packets, each sends every other one a batch of the
 * packets for its boards (empty or not) and waits for theirs; packets arriving may be routed to
 * a third process, so the exchange goes on in rounds until a round in which no process sent
 * anything. The results are those of one process (deliveries are ordered by their source).
 *
 * The link's own model: --link-loss P drops each packet crossing between processes with
 * probability P (seeded by --seed); every loss is counted per link and in the sending board's
 * packets_dropped. Datagrams the host network loses are asked for again (and counted).
 */
#ifndef S2EMU_LINK_H
#define S2EMU_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct emu;
struct emu_board;

/** A packet crossing into this process: routed on at (board, chip), arriving over link in. */
struct emu_link_pkt {
	uint16_t board;
	uint8_t chip, in, has_payload;
	uint32_t key, payload;
	uint64_t ord; /**< the source's place in machine order (delivery order) */
};

/** Open the link socket if this process serves part of its machine only: 0 or S2_E_ code. */
int emu_link_open(struct emu *e, const char *host);
/** Whether spikes may leave this process (it serves part of the machine). */
bool emu_link_active(const struct emu *e);
/** --link-loss P, --seed: the link model. */
void emu_link_set_loss(double p, uint64_t seed);
/** A datagram of the link protocol (checked by magic)? */
bool emu_link_is(const uint8_t *d, size_t len);
/** Handle one, arrived on fd (a board endpoint or the link socket). */
void emu_link_input(struct emu *e, int fd, const struct sockaddr_storage *from, socklen_t fromlen,
                    const uint8_t *d, size_t len);

/** May the armed boards start? True at once in a process serving the whole machine; else once
 *  every other process with an application is ready too (the link module kicks the step
 *  event when answers arrive). */
bool emu_link_start_ok(struct emu *e);
/** A packet leaving board src over a link to board `board` of another process (round of the
 *  current exchange). 0 if queued; S2_E_ code if dropped (counted by the caller). */
int emu_link_out(struct emu *e, const struct emu_board *src, unsigned board, unsigned chip,
                 unsigned in, uint32_t key, const uint32_t *payload, uint64_t ord);
/** Send this process's batches of (step, round) to every other process. */
void emu_link_send_round(struct emu *e, uint32_t step, unsigned round);
/**
 * The packets of (step, round) from every other process, in machine order of their senders:
 * 1 when complete (*pkts valid until the next call, *any: whether any process, this one
 * included, sent a packet in the round), 0 while waiting (the step event is kicked when a
 * datagram arrives).
 */
int emu_link_recv_round(struct emu *e, uint32_t step, unsigned round,
                        const struct emu_link_pkt **pkts, size_t *n, bool *any);
/** Per-link counters as a JSON array into out (at most cap bytes); returns the length. */
size_t emu_link_format_stats(char *out, size_t cap);
/** The step event to kick when a round completes or a peer answers. */
void emu_link_set_kick(void (*kick)(void));
/** At exit. */
void emu_link_shutdown(void);

#endif
