/* The emulator's view of the machine description (emu_geo.h): thin reads of the model. */
#include "emu_geo.h"

#include "emu.h"
#include "s2/machine.h"

unsigned emu_geo_chips(const struct emu *e)
{
	return s2_machine_chips_per_board(e->machine);
}

unsigned emu_geo_eth_chip(const struct emu *e)
{
	return s2_machine_eth_chip(e->machine);
}

unsigned emu_geo_pes(const struct emu *e)
{
	return s2_machine_pes_per_chip(e->machine);
}

uint32_t emu_geo_sram_per_pe(const struct emu *e)
{
	struct s2_chip_resources r;
	s2_machine_chip_resources(e->machine, &r);
	return r.sram_per_pe;
}

uint32_t emu_geo_router_entries(const struct emu *e)
{
	struct s2_chip_resources r;
	s2_machine_chip_resources(e->machine, &r);
	return r.router_entries;
}

uint64_t emu_geo_dram_bytes(const struct emu *e)
{
	struct s2_chip_resources r;
	s2_machine_chip_resources(e->machine, &r);
	return r.dram_bytes;
}

bool emu_geo_neighbour(const struct emu *e, unsigned board, unsigned chip, unsigned link,
                       int *nb_board, int *nb_chip)
{
	unsigned nb, nc;
	if (!s2_machine_neighbour(e->machine, board, chip, link, &nb, &nc))
		return false;
	*nb_board = (int)nb;
	*nb_chip = (int)nc;
	return true;
}
