/*
 * Live streams of an emulated board (protocol 4.17, emu_live.c): STREAM_START/STOP, the
 * spikes of live PEs tapped as they are sent, every chip's counters every N steps, run
 * events, and spikes injected by the host at a given step.
 */
#ifndef S2EMU_LIVE_H
#define S2EMU_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct emu_board;
struct emu_live;

/** STREAM_START from (from, fromlen): 0 or an S2_E_ code. */
int emu_live_start(struct emu_board *b, const struct sockaddr_storage *from, socklen_t fromlen,
                   const uint8_t *p, size_t len);
/** STREAM_STOP. */
int emu_live_stop(struct emu_board *b, const uint8_t *p, size_t len);
/** INJECT: reply body into out; its length or an S2_E_ code (nothing queued then). */
int emu_live_inject(struct emu_board *b, const uint8_t *p, size_t len, uint8_t *out, size_t cap);

/** Does any stream of the board want spikes of this PE? (Hot: called per spike.) */
int emu_live_wants(const struct emu_board *b, unsigned chip, unsigned pe);
/** A live PE's spike in step. */
void emu_live_spike(struct emu_board *b, uint32_t step, unsigned chip, unsigned pe,
                    unsigned neuron);
/** Before the board computes step: hand the injections due to the PEs. */
void emu_live_step_begin(struct emu_board *b, uint32_t step);
/** After the board computed step (its spikes routed): energy samples, send what is buffered. */
void emu_live_step_end(struct emu_board *b, uint32_t step);
/** A run event (enum s2_live_event) at step: sent at once. */
void emu_live_event(struct emu_board *b, uint32_t step, unsigned event);
/** The application was stopped or unloaded: pending injections go (streams stay). */
void emu_live_app_reset(struct emu_board *b);
/** Free everything (board reset or exit). */
void emu_live_free(struct emu_board *b);

#endif
