/*
 * The emulator's view of the machine description: board shape, chip resources and the
 * chip-to-chip wiring, all taken from the machine model (mapping/machine.h) so that a
 * different board revision is a different description, not different emulator code.
 */
#ifndef S2EMU_GEO_H
#define S2EMU_GEO_H

#include <stdbool.h>
#include <stdint.h>

struct emu;

unsigned emu_geo_chips(const struct emu *e);    /**< chips per board */
unsigned emu_geo_eth_chip(const struct emu *e); /**< Ethernet chip index within a board */
unsigned emu_geo_pes(const struct emu *e);      /**< PEs per chip */
uint32_t emu_geo_sram_per_pe(const struct emu *e);
uint32_t emu_geo_router_entries(const struct emu *e);
uint64_t emu_geo_dram_bytes(const struct emu *e);

/**
 * The chip at the far end of link l of chip `chip` on board `board`.
 * @return false if there is none (edge of a machine that does not wrap).
 */
bool emu_geo_neighbour(const struct emu *e, unsigned board, unsigned chip, unsigned link,
                       int *nb_board, int *nb_chip);

#endif
