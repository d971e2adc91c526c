/*
 * Applications in the emulator: router tables, the firmware engine on loaded PEs, and the
 * machine-wide timestep (emu_app.c, protocol 4.15).
 */
#ifndef S2EMU_APP_H
#define S2EMU_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu_board;
struct emu_chip;
struct emu_app_chip;

/** Board-level application state and counters. */
struct emu_app_board {
	uint8_t state; /**< enum s2_app_state */
	uint32_t pes, n_steps, steps_done, flags, dt_us;
	uint64_t start_us;
	uint64_t packets_unrouted, packets_routed, packets_dropped, rec_lost;
	uint32_t pending;   /**< APP_LOADs accepted, not yet done */
	int32_t load_error; /**< first failure, with its chip and PE */
	uint16_t load_chip, load_pe;
	uint32_t gen;  /**< application generation: bumped by every stop */
	uint32_t step; /**< steps computed since the application was loaded (all runs) */
};

/** ROUTER_LOAD on chip c: 0 or an S2_E_ code. */
int emu_app_router_load(struct emu_board *b, struct emu_chip *c, const uint8_t *p, size_t len);
/** APP_LOAD on PE pe of chip c. */
int emu_app_load(struct emu_board *b, struct emu_chip *c, unsigned pe, const uint8_t *p,
                 size_t len);
/** APP_UPDATE on PE pe of chip c, between runs: the engine takes new PE data and keeps its
 *  state (s2_eng_update). */
int emu_app_update(struct emu_board *b, struct emu_chip *c, unsigned pe, const uint8_t *p,
                   size_t len);
/** APP_RUN: arm the board; it runs when every board with an application here is armed. */
int emu_app_run(struct emu_board *b, const uint8_t *p, size_t len);
/** APP_STATUS reply into out; returns its length or an S2_E_ code. */
int emu_app_status(struct emu_board *b, uint8_t *out, size_t cap);
/** APP_STOP, and on unboot: unload everything of the board. */
void emu_app_stop(struct emu_board *b);
/** Free a chip's tables and PEs. */
void emu_app_free_chip(struct emu_chip *c);
/** Check (check_only) or make an injected spike of a source neuron: 0 or an S2_E_ code. */
int emu_app_pe_inject(struct emu_board *b, unsigned chip, unsigned pe, unsigned neuron,
                      bool check_only);
/** A chip's activity counters (enum s2_live_counter); false if it has no application. */
bool emu_app_chip_counters(const struct emu_chip *c, uint64_t out[8]);
/** Worker threads expanding PEs' synapses: 0 (default) = one per online CPU. */
void emu_app_set_threads(unsigned n);
/** Threads computing the timesteps (the event loop's and n - 1 more): 0 (default) = one per
 *  online CPU. The results are bit-identical whatever n. */
void emu_app_set_step_threads(unsigned n);
/** At exit: stops the workers. */
void emu_app_shutdown(void);

#endif
