/*
 * A live stream's sources from a load plan (s2/stream.h, s2_stream_add_plan_sources): which
 * population and neuron each application PE's spikes are, and which PEs a board's
 * STREAM_START subscribes. One function for s2ctl stream, s2ctl replay and applications, so a
 * capture replayed decodes exactly as the live stream did.
 */
#include <stdbool.h>
#include <string.h>

#include "s2/error.h"
#include "s2/live.h"
#include "s2/plan.h"
#include "s2/stream.h"

static bool pop_selected(const char *const *pops, unsigned n_pops, const char *label)
{
	if (!n_pops)
		return true;
	for (unsigned i = 0; i < n_pops; i++)
		if (!strcmp(pops[i], label))
			return true;
	return false;
}

int s2_stream_add_plan_sources(struct s2_stream *st, const struct s2_plan *plan,
                               const struct s2_plan_board *pb, const char *const *pops,
                               unsigned n_pops, struct s2_msg_stream_start *m, unsigned *bad_chip)
{
	for (unsigned ch = 0; ch < pb->n_chips; ch++) {
		const struct s2_app_chip *ac = &pb->chips[ch];
		for (unsigned q = 0; q < ac->n_pes; q++) {
			const struct s2_plan_pe_info *in = &pb->info[ch][q];
			uint8_t pe = ac->pes[q].pe;
			if (!pop_selected(pops, n_pops, plan->pops[in->pop].label))
				continue;
			if (m) {
				if (ac->chip >= S2_LIVE_MAX_CHIPS) {
					if (bad_chip)
						*bad_chip = ac->chip;
					return S2_E_RANGE;
				}
				m->live[ac->chip][pe / 8] |= (uint8_t)(1u << (pe % 8));
				if (m->n_chips <= ac->chip)
					m->n_chips = (uint16_t)(ac->chip + 1);
			}
			int rc = s2_stream_add_source(st, (uint16_t)pb->board, ac->chip, pe,
			                              in->pop, in->lo);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
