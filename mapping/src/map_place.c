/*
 * Mapper stages 1-3 (docs/mapping.md): partition populations into PE-sized parts, place
 * them (METIS across boards, serpentine fill of chips and PEs within a board), and allocate
 * routing keys hierarchically. Also the mapping object itself and its queries.
 */
#include <math.h>
#include <metis.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"
#include "s2/error.h"
#include "s2/network.h"
#include "s2/pedata.h"

/* log2 of S2_PE_MAX_NEURONS */
#define MIN_KEY_BITS 7u
_Static_assert((1u << MIN_KEY_BITS) == S2_PE_MAX_NEURONS, "key block of a PE");

struct s2_mapping *s2_map_new(const struct s2_net *n, const struct s2_machine *m,
                              const struct s2_map_config *cfg)
{
	struct s2_mapping *mp = calloc(1, sizeof *mp);
	if (!mp)
		return NULL;
	mp->net = n;
	mp->m = m;
	if (cfg)
		mp->cfg = *cfg;
	struct s2_chip_resources r;
	s2_machine_chip_resources(m, &r);
	mp->cpb = s2_machine_chips_per_board(m);
	mp->pes = r.pes;
	mp->monitor = r.monitor_pe;
	mp->bw = s2_machine_board_width(m);
	mp->bh = s2_machine_board_height(m);
	mp->n_chips = (uint32_t)s2_machine_total_chips(m);
	if (!mp->cfg.key_bits || mp->cfg.key_bits > 32)
		mp->cfg.key_bits = 32;
	if (!mp->cfg.router_target || mp->cfg.router_target > r.router_entries)
		mp->cfg.router_target = r.router_entries;
	mp->nb = malloc((size_t)mp->n_chips * S2_MACHINE_LINKS * sizeof *mp->nb);
	mp->pops = calloc(n->pb->n_populations, sizeof *mp->pops);
	mp->lists = calloc(n->pb->n_projections + 1, sizeof *mp->lists);
	mp->out_first = calloc(n->pb->n_populations + 2, sizeof *mp->out_first);
	mp->out_proj = malloc((n->pb->n_projections + 1) * sizeof *mp->out_proj);
	mp->in_first = calloc(n->pb->n_populations + 2, sizeof *mp->in_first);
	mp->in_proj = malloc((n->pb->n_projections + 1) * sizeof *mp->in_proj);
	if (!mp->nb || !mp->pops || !mp->lists || !mp->out_first || !mp->out_proj ||
	    !mp->in_first || !mp->in_proj) {
		s2_map_free(mp);
		return NULL;
	}
	for (size_t j = 0; j < n->pb->n_projections; j++)
		mp->out_first[n->pre[j] + 2]++;
	for (size_t p = 0; p < n->pb->n_populations; p++)
		mp->out_first[p + 2] += mp->out_first[p + 1];
	for (size_t j = 0; j < n->pb->n_projections; j++)
		mp->out_proj[mp->out_first[n->pre[j] + 1]++] = (uint32_t)j;
	for (size_t j = 0; j < n->pb->n_projections; j++)
		mp->in_first[n->post[j] + 2]++;
	for (size_t p = 0; p < n->pb->n_populations; p++)
		mp->in_first[p + 2] += mp->in_first[p + 1];
	for (size_t j = 0; j < n->pb->n_projections; j++)
		mp->in_proj[mp->in_first[n->post[j] + 1]++] = (uint32_t)j;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		unsigned b = g / mp->cpb, c = g % mp->cpb;
		for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
			unsigned nb, nc;
			uint32_t to = NO_CHIP;
			if (!s2_machine_chip_dead(m, b, c) && !s2_machine_link_dead(m, b, c, l) &&
			    s2_machine_neighbour(m, b, c, l, &nb, &nc) &&
			    !s2_machine_chip_dead(m, nb, nc))
				to = nb * mp->cpb + nc;
			mp->nb[(size_t)g * S2_MACHINE_LINKS + l] = to;
		}
	}
	return mp;
}

void s2_map_free(struct s2_mapping *mp)
{
	if (!mp)
		return;
	if (mp->tables)
		for (uint32_t g = 0; g < mp->n_chips; g++) {
			free(mp->tables[g].e);
			free(mp->tables[g].orig);
		}
	if (mp->lists)
		for (size_t j = 0; j < mp->net->pb->n_projections; j++)
			free(mp->lists[j].pair);
	free(mp->tables);
	free(mp->lists);
	free(mp->wunit);
	free(mp->nb);
	free(mp->pops);
	free(mp->parts);
	free(mp->by_key);
	free(mp->link_load);
	free(mp->tbuf);
	free(mp->out_first);
	free(mp->out_proj);
	free(mp->in_first);
	free(mp->in_proj);
	free(mp->vstamp);
	free(mp->vwant);
	free(mp);
}

const struct s2_map_report *s2_map_report(const struct s2_mapping *mp)
{
	return &mp->rep;
}

void map_unplace(struct s2_mapping *mp)
{
	if (mp->stage < 2)
		return;
	if (mp->tables)
		for (uint32_t g = 0; g < mp->n_chips; g++) {
			free(mp->tables[g].e);
			free(mp->tables[g].orig);
		}
	free(mp->tables);
	free(mp->by_key);
	free(mp->link_load);
	mp->tables = NULL;
	mp->by_key = NULL;
	mp->link_load = NULL;
	for (uint64_t q = 0; q < mp->n_parts; q++) {
		mp->parts[q].chip = NO_CHIP;
		mp->parts[q].pe = 0;
		mp->parts[q].key = 0;
	}
	mp->stage = 1;
}

static int stage_check(struct s2_mapping *mp, int want, char *err, size_t errlen)
{
	if (mp->stage != want - 1) {
		net_seterr(err, errlen, "mapping stage %d run after stage %d (needs %d first)",
		           want, mp->stage, want - 1);
		return S2_E_STATE;
	}
	return 0;
}

int s2_map_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* ---- stage 1: partition ------------------------------------------------------------------- */

static bool value_const(const S2pb__Value *v)
{
	return !v || v->kind_case == S2PB__VALUE__KIND_CONSTANT;
}

/* Longest delay, in timesteps, a projection can produce. */
static uint32_t max_delay_steps(const S2pb__Projection *p, double dt)
{
	double d = dt;
	if (p->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST && p->from_list->n_delay) {
		for (size_t i = 0; i < p->from_list->n_delay; i++)
			if (p->from_list->delay[i] > d)
				d = p->from_list->delay[i];
	} else if (p->delay) {
		const S2pb__Value *v = p->delay;
		if (v->kind_case == S2PB__VALUE__KIND_CONSTANT)
			d = v->constant;
		else if (v->kind_case == S2PB__VALUE__KIND_ARRAY)
			for (size_t i = 0; i < v->array->n_values; i++)
				d = v->array->values[i] > d ? v->array->values[i] : d;
		else if (v->random->kind == S2PB__DISTRIBUTION__KIND__UNIFORM ||
		         v->random->kind == S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED)
			d = v->random->high;
		else /* unbounded (normal): clamped at the PE's ring, at least 64 steps */
			d = dt * S2_PE_MAX_DELAY;
	}
	double steps = ceil(d / dt - 1e-9);
	return steps < 1 ? 1 : steps > NET_MAX_DELAY_STEPS ? NET_MAX_DELAY_STEPS : (uint32_t)steps;
}

static uint32_t pow2ceil32(uint32_t x)
{
	uint32_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

/* A population's expected firing rate, for traffic and budget estimates: its hint (10 Hz
 * without one); Poisson sources their rate, spike arrays their spikes over the run. */
static double pop_rate(const S2pb__Network *pb, size_t p, const struct net_model *md)
{
	const S2pb__Population *pop = pb->populations[p];
	double rate = md->id == MODEL_POISSON
	                      ? net_model_find("spike_source_poisson")->params[0].def
	                      : (pop->rate_hint_hz > 0 ? pop->rate_hint_hz : 10.0);
	if (md->id == MODEL_POISSON)
		for (size_t i = 0; i < pop->n_params; i++)
			if (!strcmp(pop->params[i]->name, "rate_hz")) {
				const S2pb__Value *v = pop->params[i]->value;
				rate = v->kind_case == S2PB__VALUE__KIND_CONSTANT ? v->constant
				       : v->kind_case == S2PB__VALUE__KIND_RANDOM ? v->random->mean
				                                                  : rate;
			}
	if (md->id == MODEL_SPIKE_ARRAY) {
		double spikes = 0;
		for (size_t i = 0; i < pop->n_spike_times; i++)
			spikes += (double)pop->spike_times[i]->n_times_ms;
		rate = spikes / pop->size / (pb->run_ms / 1000.0);
	}
	return rate;
}

/*
 * The rate the real-time budget charges for population p's spikes: pop_rate's, except that a
 * spike array without a rate hint fires its spikes over the span of its trains (up to the
 * last spike), not over the run. So the partition, and with it every PE's seeds and the
 * synapses the PEs draw, never depends on run_ms: pyNN.s2 compiles the network for
 * Projection.get() before run() knows the run's length (docs/pynn.md) and must get the
 * machine's synapses.
 */
static double budget_rate(const S2pb__Network *pb, size_t p, const struct net_model *md,
                          double rate)
{
	const S2pb__Population *pop = pb->populations[p];
	if (md->id != MODEL_SPIKE_ARRAY || pop->rate_hint_hz > 0)
		return rate;
	double spikes = 0, last_ms = pb->timestep_ms;
	for (size_t i = 0; i < pop->n_spike_times; i++) {
		const S2pb__SpikeTrain *st = pop->spike_times[i];
		spikes += (double)st->n_times_ms;
		for (size_t k = 0; k < st->n_times_ms; k++)
			last_ms = st->times_ms[k] > last_ms ? st->times_ms[k] : last_ms;
	}
	return spikes / pop->size / (last_ms / 1000.0);
}

/*
 * The modelled cycles of one step of a PE holding n neurons of population p (the engine's
 * model, docs/engine.md "Real-time budget"): n neuron updates and the synaptic events the
 * rate hints predict. Not the packets: each costs the same whatever its row, so their
 * number, the spiking pre neurons with a synapse on the PE, hardly falls with fewer neurons
 * per PE, and at the default hint of 10 Hz it would halve the microcircuit's neurons per PE
 * although at its published rates it fits (docs/mapping.md); the engine counts them.
 */
static double step_cycles(const struct s2_mapping *mp, size_t p, uint32_t n)
{
	const S2pb__Network *pb = mp->net->pb;
	const struct net_model *md = mp->net->model[p];
	double dt_s = pb->timestep_ms / 1000.0, ev = 0;
	for (uint32_t k = mp->in_first[p]; k < mp->in_first[p + 1]; k++) {
		unsigned j = mp->in_proj[k];
		double npost = mp->net->post_hi[j] - mp->net->post_lo[j];
		double m = n < npost ? n : npost; /* post neurons of the slice on the PE */
		ev += s2_net_proj_synapses(mp->net, j) / npost * m *
		      mp->pops[mp->net->pre[j]].budget_hz * dt_s;
	}
	return n * md->cycles_update + ev * md->cycles_event;
}

/*
 * Lower *per to the neurons whose step fits budget cycles; a population of which not even
 * one neuron fits is refused, or with cfg.allow_slow placed one neuron per PE and the
 * slow-down recorded (the report's slowdown).
 */
static int budget_limit(struct s2_mapping *mp, size_t p, double budget, uint32_t *per, char *err,
                        size_t errlen)
{
	const S2pb__Population *pop = mp->net->pb->populations[p];
	const struct net_model *md = mp->net->model[p];
	uint32_t n = *per;
	while (n > 0 && step_cycles(mp, p, n) > budget)
		n--;
	if (n > 0) {
		*per = n;
		return 0;
	}
	double one = step_cycles(mp, p, 1), f = one / budget;
	if (!mp->cfg.allow_slow) {
		net_seterr(err, errlen,
		           "population %s: one %s neuron takes %.0f cycles per step (%.0f per "
		           "update, measured; with its expected input), more than the %.0f a PE "
		           "has per %g ms step at %u MHz: it cannot run in real time (allow slower "
		           "than real time, s2ctl compile --allow-slow, to run %.1f times slower)",
		           pop->label, md->name, one, md->cycles_update, budget,
		           mp->net->pb->timestep_ms,
		           (unsigned)(budget / mp->net->pb->timestep_ms / 1000), f);
		return S2_E_RANGE;
	}
	*per = 1;
	if (f > mp->rep.slowdown) {
		mp->rep.slowdown = f;
		mp->rep.slowest_pop = (uint32_t)p;
	}
	return 0;
}

int s2_map_partition(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 1, err, errlen);
	if (rc < 0)
		return rc;
	const S2pb__Network *pb = mp->net->pb;
	size_t np = pb->n_populations;
	double dt = pb->timestep_ms;
	struct s2_chip_resources r;
	s2_machine_chip_resources(mp->m, &r);
	uint32_t app_pes = r.pes > 1 ? r.pes - 1 : 1;
	double dram_per_pe = (double)r.dram_bytes / app_pes;
	uint32_t *delay = calloc(np, sizeof *delay);
	double *syn_in = calloc(np, sizeof *syn_in); /* synapses per post neuron */
	if (!delay || !syn_in) {
		free(delay);
		free(syn_in);
		net_seterr(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	for (size_t j = 0; j < pb->n_projections; j++) {
		uint32_t post = mp->net->post[j];
		uint32_t d = max_delay_steps(pb->projections[j], dt);
		if (d > delay[post])
			delay[post] = d;
		double npost = mp->net->post_hi[j] - mp->net->post_lo[j];
		syn_in[post] += s2_net_proj_synapses(mp->net, (unsigned)j) / npost;
	}
	for (size_t p = 0; p < np; p++) {
		mp->pops[p].rate_hz = pop_rate(pb, p, mp->net->model[p]);
		mp->pops[p].budget_hz = budget_rate(pb, p, mp->net->model[p], mp->pops[p].rate_hz);
	}
	/* the real-time budget: cycles a PE has per timestep (docs/mapping.md) */
	double budget_cyc = (double)r.pe_mhz * 1000.0 * dt;
	mp->rep.slowdown = 1.0;
	mp->rep.budget_cycles = budget_cyc;
	uint64_t parts = 0;
	uint32_t budget = S2_MAP_SRAM_DATA - S2_MAP_PE_OVERHEAD;
	for (size_t p = 0; p < np && rc == 0; p++) {
		const S2pb__Population *pop = pb->populations[p];
		const struct net_model *md = mp->net->model[p];
		struct pop_map *pm = &mp->pops[p];
		uint32_t bpn = md->sram_fixed;
		for (size_t i = 0; i < pop->n_params; i++)
			bpn += value_const(pop->params[i]->value) ? 0 : 4;
		for (size_t i = 0; i < pop->n_initial; i++)
			bpn += value_const(pop->initial[i]->value) ? 0 : 4;
		if (md->has_synapses) {
			pm->delay_slots = pow2ceil32((delay[p] ? delay[p] : 1) + 1);
			bpn += 2 * pm->delay_slots * 2; /* two receptors, 16-bit accumulators */
		}
		size_t max_spikes = 0;
		for (size_t i = 0; i < pop->n_spike_times; i++)
			if (pop->spike_times[i]->n_times_ms > max_spikes)
				max_spikes = pop->spike_times[i]->n_times_ms;
		if (max_spikes > budget / 4) {
			net_seterr(
			        err, errlen,
			        "population %s: a neuron with %zu spike times needs more than the "
			        "%u bytes of SRAM a PE has for data",
			        pop->label, max_spikes, budget);
			rc = S2_E_RANGE;
			break;
		}
		bpn += 4 * (uint32_t)max_spikes;
		uint32_t per = md->max_per_pe;
		if (pop->max_per_pe && pop->max_per_pe < per)
			per = pop->max_per_pe;
		/* The engine's input ring holds longer delays on PEs with fewer neurons
		 * (pedata.h s2_pe_max_delay); network.c refused what no PE holds. */
		if (md->has_synapses && delay[p] > S2_PE_MAX_DELAY &&
		    s2_pe_neurons_for_delay(delay[p]) < per)
			per = s2_pe_neurons_for_delay(delay[p]);
		/* A PE records S2_PE_MAX_RECORD_V values per step (pedata.h RECORD_V): with more
		 * than two variables recorded, fewer neurons per PE. */
		const char *vars[S2_REC_VARS];
		unsigned nv = 0;
		for (size_t ri = 0; ri < pb->n_recordings; ri++) {
			const S2pb__Recording *rec = pb->recordings[ri];
			if (strcmp(rec->population, pop->label) || !strcmp(rec->variable, "spikes"))
				continue;
			unsigned k = 0;
			while (k < nv && strcmp(vars[k], rec->variable))
				k++;
			if (k == nv && nv < S2_REC_VARS)
				vars[nv++] = rec->variable;
		}
		if (nv && S2_PE_MAX_RECORD_V / nv < per)
			per = S2_PE_MAX_RECORD_V / nv;
		if (budget / bpn < per)
			per = budget / bpn;
		double dram_need = syn_in[p] * 4.0;
		if (dram_need > 0 && dram_per_pe / dram_need < per)
			per = (uint32_t)(dram_per_pe / dram_need);
		if (per == 0) {
			net_seterr(err, errlen,
			           "population %s: one neuron needs %u bytes of SRAM and %.0f "
			           "bytes of "
			           "DRAM for synapses, more than a PE has (%u and %.0f)",
			           pop->label, bpn, dram_need, budget, dram_per_pe);
			rc = S2_E_RANGE;
			break;
		}
		if (per > 0 && (rc = budget_limit(mp, p, budget_cyc, &per, err, errlen)) < 0)
			break;
		pm->per_part = per;
		pm->count = (pop->size + per - 1) / per;
		pm->first = parts;
		pm->sram_per_neuron = bpn;
		parts += pm->count;
	}
	free(delay);
	free(syn_in);
	if (rc < 0)
		return rc;
	uint64_t usable = 0;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		unsigned b = g / mp->cpb, c = g % mp->cpb;
		if (s2_machine_chip_dead(mp->m, b, c))
			continue;
		for (unsigned pe = 0; pe < mp->pes; pe++)
			usable += pe != mp->monitor && !s2_machine_pe_dead(mp->m, b, c, pe);
	}
	if (parts > usable) {
		net_seterr(
		        err, errlen,
		        "network too large for machine %s: it needs %llu PEs, the machine has %llu "
		        "usable (live, not monitors)",
		        s2_machine_name(mp->m), (unsigned long long)parts,
		        (unsigned long long)usable);
		return S2_E_NOSPACE;
	}
	mp->parts = calloc(parts ? parts : 1, sizeof *mp->parts);
	if (!mp->parts) {
		net_seterr(err, errlen, "out of memory (%llu parts)", (unsigned long long)parts);
		return S2_E_NOMEM;
	}
	mp->n_parts = parts;
	for (size_t p = 0; p < np; p++) {
		const struct pop_map *pm = &mp->pops[p];
		uint32_t size = pb->populations[p]->size;
		for (uint32_t k = 0; k < pm->count; k++) {
			struct part *pt = &mp->parts[pm->first + k];
			pt->pop = (uint32_t)p;
			pt->lo = k * pm->per_part;
			pt->n = size - pt->lo < pm->per_part ? size - pt->lo : pm->per_part;
			pt->chip = NO_CHIP;
			/* at least a block of S2_PE_MAX_NEURONS keys: the engine's PE data wants
			 * the low 7 bits of a PE's key base clear (proto/include/s2/pedata.h) */
			uint8_t kb = MIN_KEY_BITS;
			while ((1u << kb) < pt->n)
				kb++;
			pt->kbits = kb;
		}
	}
	/* from_list: which post parts each pre part reaches. */
	for (size_t j = 0; j < pb->n_projections; j++) {
		const S2pb__Projection *pj = pb->projections[j];
		if (pj->connector_case != S2PB__PROJECTION__CONNECTOR_FROM_LIST)
			continue;
		const S2pb__FromList *l = pj->from_list;
		struct list_pairs *lp = &mp->lists[j];
		lp->pair = malloc((l->n_pre ? l->n_pre : 1) * sizeof *lp->pair);
		if (!lp->pair) {
			net_seterr(err, errlen, "out of memory");
			return S2_E_NOMEM;
		}
		uint32_t pre = mp->net->pre[j], post = mp->net->post[j];
		for (size_t i = 0; i < l->n_pre; i++) {
			uint64_t a = map_part_of(mp, pre, mp->net->pre_lo[j] + l->pre[i]);
			uint64_t b = (mp->net->post_lo[j] + l->post[i]) / mp->pops[post].per_part;
			lp->pair[i] = a << 32 | b;
		}
		size_t n = l->n_pre;
		qsort(lp->pair, n, sizeof *lp->pair, s2_map_cmp_u64);
		size_t u = 0;
		for (size_t i = 0; i < n; i++)
			if (u == 0 || lp->pair[u - 1] != lp->pair[i])
				lp->pair[u++] = lp->pair[i];
		lp->n = u;
	}
	mp->rep.parts = parts;
	mp->stage = 1;
	return 0;
}

/* ---- targets ---------------------------------------------------------------------------- */

static int tpush(struct s2_mapping *mp, size_t *n, uint64_t a, uint64_t b)
{
	if (*n + 2 > mp->tcap) {
		size_t cap = mp->tcap ? mp->tcap * 2 : 1024;
		uint64_t *nb = realloc(mp->tbuf, cap * sizeof *nb);
		if (!nb)
			return S2_E_NOMEM;
		mp->tbuf = nb;
		mp->tcap = cap;
	}
	mp->tbuf[(*n)++] = a;
	mp->tbuf[(*n)++] = b;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

long map_targets(struct s2_mapping *mp, uint64_t i)
{
	const struct part *pt = &mp->parts[i];
	const struct s2_net *net = mp->net;
	const S2pb__Network *pb = net->pb;
	size_t n = 0;
	for (uint32_t oj = mp->out_first[pt->pop]; oj < mp->out_first[pt->pop + 1]; oj++) {
		uint32_t j = mp->out_proj[oj];
		uint32_t lo = pt->lo > net->pre_lo[j] ? pt->lo : net->pre_lo[j];
		uint32_t hi = pt->lo + pt->n < net->pre_hi[j] ? pt->lo + pt->n : net->pre_hi[j];
		if (lo >= hi)
			continue;
		uint32_t post = net->post[j];
		const struct pop_map *pm = &mp->pops[post];
		uint32_t a, b; /* post neurons [a, b) */
		const S2pb__Projection *pj = pb->projections[j];
		if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
			const struct list_pairs *lp = &mp->lists[j];
			size_t L = 0, H = lp->n;
			while (L < H) {
				size_t mid = (L + H) / 2;
				if ((lp->pair[mid] >> 32) < i)
					L = mid + 1;
				else
					H = mid;
			}
			for (; L < lp->n && (lp->pair[L] >> 32) == i; L++) {
				uint64_t q = pm->first + (uint32_t)lp->pair[L];
				if (tpush(mp, &n, q, q + 1) < 0)
					return S2_E_NOMEM;
			}
			continue;
		}
		if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE) {
			a = net->post_lo[j] + (lo - net->pre_lo[j]);
			b = net->post_lo[j] + (hi - net->pre_lo[j]);
		} else {
			a = net->post_lo[j];
			b = net->post_hi[j];
		}
		if (tpush(mp, &n, pm->first + a / pm->per_part,
		          pm->first + (b - 1) / pm->per_part + 1) < 0)
			return S2_E_NOMEM;
	}
	/* sort the ranges and merge those that overlap or touch */
	size_t nr = n / 2;
	if (nr > 1) {
		qsort(mp->tbuf, nr, 2 * sizeof *mp->tbuf, cmp_range);
		size_t u = 0;
		for (size_t k = 1; k < nr; k++) {
			if (mp->tbuf[2 * k] <= mp->tbuf[2 * u + 1]) {
				if (mp->tbuf[2 * k + 1] > mp->tbuf[2 * u + 1])
					mp->tbuf[2 * u + 1] = mp->tbuf[2 * k + 1];
			} else {
				u++;
				mp->tbuf[2 * u] = mp->tbuf[2 * k];
				mp->tbuf[2 * u + 1] = mp->tbuf[2 * k + 1];
			}
		}
		nr = u + 1;
	}
	return (long)nr;
}

double map_part_rate(const struct s2_mapping *mp, uint64_t i)
{
	const struct part *pt = &mp->parts[i];
	return pt->n * mp->pops[pt->pop].rate_hz * mp->net->pb->timestep_ms / 1000.0;
}

/* ---- stage 2: place ------------------------------------------------------------------------ */

struct edge {
	uint32_t u, v;
	uint32_t w;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	if (x->u != y->u)
		return x->u < y->u ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

struct chunk {
	uint64_t first; /* part */
	uint32_t count;
	uint32_t pop;
};

/* The chunk graph in compressed rows: the neighbours of chunk v are adj[xadj[v]..xadj[v+1])
 * with weights adjw (both directions of every edge). */
struct cgraph {
	idx_t *xadj, *adj, *adjw, *vw;
};

static void cgraph_free(struct cgraph *g)
{
	free(g->xadj);
	free(g->adj);
	free(g->adjw);
	free(g->vw);
}

/* Graph of chunks (up to one chip of parts of one population), edges weighted by the
 * spikes per timestep the source chunk sends (both directions summed). */
static int chunk_graph(struct s2_mapping *mp, const struct chunk *ch, uint32_t nch,
                       struct cgraph *g, char *err, size_t errlen)
{
	const S2pb__Network *pb = mp->net->pb;
	/* first chunk of each population */
	uint32_t *pop_chunk = malloc((pb->n_populations + 1) * sizeof *pop_chunk);
	if (!pop_chunk)
		return S2_E_NOMEM;
	for (uint32_t i = nch; i-- > 0;)
		pop_chunk[ch[i].pop] = i;
	pop_chunk[pb->n_populations] = nch;
	size_t ne = 0, ecap = 1024;
	struct edge *e = malloc(ecap * sizeof *e);
	int rc = S2_E_NOMEM;
	if (!e)
		goto out;
	for (size_t j = 0; j < pb->n_projections; j++) {
		uint32_t pre = mp->net->pre[j], post = mp->net->post[j];
		uint32_t cpp = mp->pes - 1 ? mp->pes - 1 : 1;
		uint32_t a0 = pop_chunk[pre] +
		              (uint32_t)(mp->net->pre_lo[j] / mp->pops[pre].per_part / cpp);
		uint32_t a1 = pop_chunk[pre] +
		              (uint32_t)((mp->net->pre_hi[j] - 1) / mp->pops[pre].per_part / cpp) +
		              1;
		uint32_t b0 = pop_chunk[post] +
		              (uint32_t)(mp->net->post_lo[j] / mp->pops[post].per_part / cpp);
		uint32_t b1 =
		        pop_chunk[post] +
		        (uint32_t)((mp->net->post_hi[j] - 1) / mp->pops[post].per_part / cpp) + 1;
		uint64_t na = a1 - a0, nbb = b1 - b0;
		bool one = pb->projections[j]->connector_case ==
		                   S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE ||
		           na * nbb > 4096;
		uint64_t pairs = one ? (na > nbb ? na : nbb) : na * nbb;
		for (uint64_t k = 0; k < pairs; k++) {
			uint32_t u, v;
			if (one) {
				u = a0 + (uint32_t)(na > nbb ? k : k * na / nbb);
				v = b0 + (uint32_t)(na > nbb ? k * nbb / na : k);
			} else {
				u = a0 + (uint32_t)(k / nbb);
				v = b0 + (uint32_t)(k % nbb);
			}
			if (u == v)
				continue;
			double rate = 0;
			for (uint64_t q = ch[u].first; q < ch[u].first + ch[u].count; q++)
				rate += map_part_rate(mp, q);
			uint32_t w = rate * 100 > 1e6 ? 1000000u : (uint32_t)(rate * 100) + 1;
			if (ne + 2 > ecap) {
				ecap *= 2;
				struct edge *ne2 = realloc(e, ecap * sizeof *e);
				if (!ne2)
					goto out;
				e = ne2;
			}
			e[ne++] = (struct edge){u, v, w};
			e[ne++] = (struct edge){v, u, w};
		}
	}
	qsort(e, ne, sizeof *e, cmp_edge);
	size_t u = 0;
	for (size_t k = 0; k < ne; k++) {
		if (u && e[u - 1].u == e[k].u && e[u - 1].v == e[k].v) {
			uint64_t w = (uint64_t)e[u - 1].w + e[k].w;
			e[u - 1].w = w > 100000000u ? 100000000u : (uint32_t)w;
		} else {
			e[u++] = e[k];
		}
	}
	ne = u;
	g->xadj = malloc((nch + 1) * sizeof *g->xadj);
	g->adj = malloc((ne + 1) * sizeof *g->adj);
	g->adjw = malloc((ne + 1) * sizeof *g->adjw);
	g->vw = malloc((nch + 1) * sizeof *g->vw);
	if (!g->xadj || !g->adj || !g->adjw || !g->vw) {
		cgraph_free(g);
		goto out;
	}
	size_t k = 0;
	for (uint32_t v = 0; v < nch; v++) {
		g->xadj[v] = (idx_t)k;
		while (k < ne && e[k].u == v) {
			g->adj[k] = (idx_t)e[k].v;
			g->adjw[k] = (idx_t)e[k].w;
			k++;
		}
		g->vw[v] = (idx_t)ch[v].count;
	}
	g->xadj[nch] = (idx_t)k;
	rc = 0;
out:
	if (rc < 0)
		net_seterr(err, errlen, "out of memory building the placement graph");
	free(e);
	free(pop_chunk);
	return rc;
}

/* METIS recursive bisection of the chunk graph into `nparts` parts weighted by capacity.
 * part_of[] receives the partition of each chunk. */
static int metis_boards(struct s2_mapping *mp, struct cgraph *g, uint32_t nch, const uint64_t *cap,
                        unsigned nparts, idx_t *part_of)
{
	if (nparts <= 1 || nch <= 1) {
		for (uint32_t i = 0; i < nch; i++)
			part_of[i] = 0;
		return 0;
	}
	real_t *tp = malloc(nparts * sizeof *tp);
	if (!tp)
		return S2_E_NOMEM;
	double total = 0;
	for (unsigned b = 0; b < nparts; b++)
		total += (double)cap[b];
	for (unsigned b = 0; b < nparts; b++)
		tp[b] = (real_t)((double)cap[b] / total);
	idx_t nv = (idx_t)nch, ncon = 1, np = (idx_t)nparts, obj;
	idx_t opts[METIS_NOPTIONS];
	real_t ub = 1.01f;
	METIS_SetDefaultOptions(opts);
	opts[METIS_OPTION_SEED] = (idx_t)(mp->net->pb->seed & 0x7fffffff);
	int mr = METIS_PartGraphRecursive(&nv, &ncon, g->xadj, g->adj, g->vw, NULL, g->adjw, &np,
	                                  tp, &ub, opts, &obj, part_of);
	if (mr != METIS_OK) {
		/* METIS declines some degenerate graphs; fall back to filling boards in order. */
		for (uint32_t i = 0; i < nch; i++)
			part_of[i] = 0;
	}
	free(tp);
	return 0;
}

/* Fine placement within a board: the order in which the board's chunks fill its slots (the
 * serpentine path over its chips). Cost of an order: over the graph's edges between chunks
 * of the board, weight x hops between their chips, each chunk seen at its first, middle and
 * last slot. Hill climbing from the given order (population order): the best swap of two
 * chunks while one improves, at most `budget` evaluations. Deterministic. */
struct fine {
	const struct cgraph *g;
	const struct chunk *ch;
	const uint32_t *slot_chip; /* the board's slots: chip of each */
	uint64_t cap;
	const uint8_t *dist; /* cpb x cpb hops */
	unsigned cpb;
	uint32_t *local; /* per chunk: index in the board's order, or UINT32_MAX */
	uint64_t *start; /* per position: first slot */
};

static double fine_cost(struct fine *f, const uint32_t *o, uint32_t k)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < k; i++) {
		f->local[o[i]] = i;
		f->start[i] = s;
		s += f->ch[o[i]].count;
	}
	double cost = 0;
	for (uint32_t i = 0; i < k; i++) {
		uint32_t u = o[i];
		uint32_t cu[3];
		uint64_t su = f->start[i], nu = f->ch[u].count;
		uint64_t pu[3] = {su, su + nu / 2, su + nu - 1};
		for (int a = 0; a < 3; a++)
			cu[a] = f->slot_chip[pu[a] < f->cap ? pu[a] : f->cap - 1];
		for (idx_t e = f->g->xadj[u]; e < f->g->xadj[u + 1]; e++) {
			uint32_t v = (uint32_t)f->g->adj[e];
			uint32_t j = f->local[v];
			if (j == UINT32_MAX || j <= i)
				continue;
			uint64_t sv = f->start[j], nv = f->ch[v].count;
			uint64_t pv[3] = {sv, sv + nv / 2, sv + nv - 1};
			unsigned d = 0;
			for (int b = 0; b < 3; b++) {
				uint32_t cv = f->slot_chip[pv[b] < f->cap ? pv[b] : f->cap - 1];
				for (int a = 0; a < 3; a++)
					d += f->dist[cu[a] * f->cpb + cv];
			}
			cost += (double)f->g->adjw[e] * d;
		}
	}
	return cost;
}

/* The part of fine_cost from the edges of chunk o[i] (at position i) to the board's other
 * chunks but `skip`. With f->local and f->start those of the order o. */
static double fine_edges(const struct fine *f, const uint32_t *o, uint32_t i, uint32_t skip)
{
	uint32_t u = o[i];
	uint32_t cu[3];
	uint64_t su = f->start[i], nu = f->ch[u].count;
	uint64_t pu[3] = {su, su + nu / 2, su + nu - 1};
	for (int a = 0; a < 3; a++)
		cu[a] = f->slot_chip[pu[a] < f->cap ? pu[a] : f->cap - 1];
	double cost = 0;
	for (idx_t e = f->g->xadj[u]; e < f->g->xadj[u + 1]; e++) {
		uint32_t v = (uint32_t)f->g->adj[e];
		uint32_t j = f->local[v];
		if (j == UINT32_MAX || v == skip || v == u)
			continue;
		uint64_t sv = f->start[j], nv = f->ch[v].count;
		uint64_t pv[3] = {sv, sv + nv / 2, sv + nv - 1};
		unsigned d = 0;
		for (int b = 0; b < 3; b++) {
			uint32_t cv = f->slot_chip[pv[b] < f->cap ? pv[b] : f->cap - 1];
			for (int a = 0; a < 3; a++)
				d += f->dist[cu[a] * f->cpb + cv];
		}
		cost += (double)f->g->adjw[e] * d;
	}
	return cost;
}

/* The cost of order o with o[i] and o[j] swapped, cur being o's (f->local and f->start
 * those of o, and left so). Chunks of equal size leave every other chunk's slots where they
 * were, so only their own edges change (hops are symmetric, so the edge between the two does
 * not change either): those are summed before and after. Weights and hops are integers, so
 * the result is exactly fine_cost's. Otherwise the whole cost is evaluated. */
static double fine_swap_cost(struct fine *f, uint32_t *o, uint32_t k, uint32_t i, uint32_t j,
                             double cur)
{
	uint32_t u = o[i], v = o[j];
	double c;
	if (f->ch[u].count == f->ch[v].count) {
		double before = fine_edges(f, o, i, v) + fine_edges(f, o, j, u);
		o[i] = v;
		o[j] = u;
		f->local[u] = j;
		f->local[v] = i;
		double after = fine_edges(f, o, i, u) + fine_edges(f, o, j, v);
		o[i] = u;
		o[j] = v;
		f->local[u] = i;
		f->local[v] = j;
		return cur - before + after;
	}
	o[i] = v;
	o[j] = u;
	c = fine_cost(f, o, k);
	o[i] = u;
	o[j] = v;
	uint64_t s = 0;
	for (uint32_t x = 0; x < k; x++) {
		f->local[o[x]] = x;
		f->start[x] = s;
		s += f->ch[o[x]].count;
	}
	return c;
}

#define FINE_BUDGET 4000u /* cost evaluations per board */

static bool fine_order(struct fine *f, uint32_t *o, uint32_t k, unsigned budget)
{
	bool moved = false;
	if (k < 2)
		return false;
	double cur = fine_cost(f, o, k);
	unsigned evals = 1;
	for (;;) {
		double best = cur;
		uint32_t bi = 0, bj = 0;
		for (uint32_t i = 0; i < k && evals < budget; i++)
			for (uint32_t j = i + 1; j < k && evals < budget; j++) {
				double c = fine_swap_cost(f, o, k, i, j, cur);
				evals++;
				if (c < best - 1e-9 * (best > 0 ? best : 1)) {
					best = c;
					bi = i;
					bj = j;
				}
			}
		if (best >= cur || bi == bj)
			break;
		uint32_t t = o[bi];
		o[bi] = o[bj];
		o[bj] = t;
		cur = fine_cost(f, o, k); /* == best; f->local and f->start now those of o */
		moved = true;
		if (evals >= budget)
			break;
	}
	for (uint32_t i = 0; i < k; i++)
		f->local[o[i]] = UINT32_MAX;
	return moved;
}

/* Fine placement of every board's chunks (corder[cfirst[i]..cfirst[i+1]) for partition i,
 * on board chosen[i]), reordered in place. */
static int fine_place(struct s2_mapping *mp, const struct cgraph *g, const struct chunk *ch,
                      uint32_t nch, uint32_t *corder, const uint64_t *cfirst, unsigned nb,
                      const unsigned *chosen, const uint32_t *slots, const uint64_t *slot_first,
                      const uint64_t *cap)
{
	unsigned cpb = mp->cpb;
	uint64_t maxcap = 0;
	for (unsigned i = 0; i < nb; i++)
		if (cap[i] > maxcap)
			maxcap = cap[i];
	struct fine f = {.g = g, .ch = ch, .cpb = cpb};
	uint8_t *dist = malloc((size_t)cpb * cpb);
	uint32_t *slot_chip = malloc((maxcap + 1) * sizeof *slot_chip);
	f.local = malloc((nch + 1) * sizeof *f.local);
	f.start = malloc((nch + 1) * sizeof *f.start);
	int rc = S2_E_NOMEM;
	if (!dist || !slot_chip || !f.local || !f.start)
		goto out;
	for (uint32_t c = 0; c < nch; c++)
		f.local[c] = UINT32_MAX;
	f.dist = dist;
	f.slot_chip = slot_chip;
	for (unsigned i = 0; i < nb; i++) {
		unsigned b = chosen[i];
		uint32_t k = (uint32_t)(cfirst[i + 1] - cfirst[i]);
		if (k < 2 || cap[i] == 0)
			continue;
		for (unsigned c1 = 0; c1 < cpb; c1++)
			for (unsigned c2 = 0; c2 < cpb; c2++) {
				unsigned h = s2_machine_hops(mp->m, b, c1, b, c2);
				dist[c1 * cpb + c2] = (uint8_t)(h > 255 ? 255 : h);
			}
		for (uint64_t sl = 0; sl < cap[i]; sl++)
			slot_chip[sl] = slots[slot_first[b] + sl] >> 16;
		f.cap = cap[i];
		mp->traffic_moved |= fine_order(&f, corder + cfirst[i], k, FINE_BUDGET);
	}
	rc = 0;
out:
	free(dist);
	free(slot_chip);
	free(f.local);
	free(f.start);
	return rc;
}

struct board_ord {
	unsigned b, dist;
	uint64_t cap;
};

static int cmp_board_dist(const void *a, const void *b)
{
	const struct board_ord *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

int s2_map_place(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 2, err, errlen);
	if (rc < 0)
		return rc;
	const struct s2_machine *m = mp->m;
	unsigned nboards = s2_machine_boards(m);
	unsigned cpp = mp->pes > 1 ? mp->pes - 1 : 1;
	struct board_ord *ord = calloc(nboards, sizeof *ord);
	uint32_t *slots = NULL; /* per board: slot list (chip << 16 | pe) in fill order */
	uint64_t *slot_first = calloc(nboards + 1, sizeof *slot_first);
	uint64_t *used = calloc(nboards, sizeof *used);
	struct chunk *ch = NULL;
	idx_t *part_of = NULL;
	uint64_t *capv = NULL;
	unsigned *chosen_board = NULL;
	uint32_t *corder = NULL;
	uint64_t *cfirst = NULL;
	struct cgraph graph = {0};
	rc = S2_E_NOMEM;
	if (!ord || !slot_first || !used)
		goto out;
	unsigned eth = s2_machine_eth_chip(m);
	for (unsigned b = 0; b < nboards; b++) {
		ord[b].b = b;
		ord[b].dist = s2_machine_hops(m, 0, eth, b, eth);
	}
	/* slots of every board, serpentine over the board's chips */
	uint64_t total_slots = 0;
	for (unsigned b = 0; b < nboards; b++)
		for (unsigned c = 0; c < mp->cpb; c++)
			if (!s2_machine_chip_dead(m, b, c))
				for (unsigned pe = 0; pe < mp->pes; pe++)
					total_slots += pe != mp->monitor &&
					               !s2_machine_pe_dead(m, b, c, pe);
	slots = malloc((total_slots + 1) * sizeof *slots);
	if (!slots)
		goto out;
	uint64_t s = 0;
	for (unsigned b = 0; b < nboards; b++) {
		slot_first[b] = s;
		for (unsigned y = 0; y < mp->bh; y++)
			for (unsigned xi = 0; xi < mp->bw; xi++) {
				unsigned x = y % 2 ? mp->bw - 1 - xi : xi, c = y * mp->bw + x;
				if (s2_machine_chip_dead(m, b, c))
					continue;
				for (unsigned pe = 0; pe < mp->pes; pe++)
					if (pe != mp->monitor && !s2_machine_pe_dead(m, b, c, pe))
						slots[s++] = c << 16 | pe;
			}
		ord[b].cap = s - slot_first[b];
	}
	slot_first[nboards] = s;
	/* boards to use: the nearest to board 0 until capacity covers the network with 10% slack */
	qsort(ord, nboards, sizeof *ord, cmp_board_dist);
	unsigned nb = 0;
	uint64_t capsum = 0;
	while (nb < nboards && (double)capsum < (double)mp->n_parts * 1.1) {
		capsum += ord[nb].cap;
		nb++;
	}
	/* in board-grid serpentine order, so that neighbouring partitions sit side by side */
	for (unsigned i = 0; i < nb; i++) {
		unsigned gx, gy, gw = s2_machine_width(m) / mp->bw;
		s2_machine_board_pos(m, ord[i].b, &gx, &gy);
		ord[i].dist = gy * gw + (gy % 2 ? gw - 1 - gx : gx);
	}
	qsort(ord, nb, sizeof *ord, cmp_board_dist);
	/* chunks */
	const S2pb__Network *pb = mp->net->pb;
	uint64_t nch = 0;
	for (size_t p = 0; p < pb->n_populations; p++)
		nch += (mp->pops[p].count + cpp - 1) / cpp;
	ch = malloc((nch + 1) * sizeof *ch);
	part_of = malloc((nch + 1) * sizeof *part_of);
	capv = malloc((nb + 1) * sizeof *capv);
	chosen_board = malloc((nb + 1) * sizeof *chosen_board);
	if (!ch || !part_of || !capv || !chosen_board || nch > INT32_MAX)
		goto out;
	uint64_t k = 0;
	for (size_t p = 0; p < pb->n_populations; p++)
		for (uint32_t q = 0; q < mp->pops[p].count; q += cpp) {
			ch[k].first = mp->pops[p].first + q;
			ch[k].count = mp->pops[p].count - q < cpp ? mp->pops[p].count - q : cpp;
			ch[k].pop = (uint32_t)p;
			k++;
		}
	for (unsigned i = 0; i < nb; i++) {
		capv[i] = ord[i].cap;
		chosen_board[i] = ord[i].b;
	}
	rc = chunk_graph(mp, ch, (uint32_t)nch, &graph, err, errlen);
	if (rc < 0)
		goto out;
	rc = metis_boards(mp, &graph, (uint32_t)nch, capv, nb, part_of);
	if (rc < 0)
		goto out;
	/* each board's chunks, in population order, then in the order that fine placement finds */
	rc = S2_E_NOMEM;
	corder = malloc((nch + 1) * sizeof *corder);
	cfirst = calloc(nb + 1, sizeof *cfirst);
	if (!corder || !cfirst)
		goto out;
	for (uint64_t c = 0; c < nch; c++)
		cfirst[part_of[c] + 1]++;
	for (unsigned i = 0; i < nb; i++)
		cfirst[i + 1] += cfirst[i];
	{
		uint64_t *fill = malloc((nb + 1) * sizeof *fill);
		if (!fill)
			goto out;
		memcpy(fill, cfirst, nb * sizeof *fill);
		for (uint64_t c = 0; c < nch; c++)
			corder[fill[part_of[c]]++] = (uint32_t)c;
		free(fill);
	}
	mp->traffic_moved = false;
	rc = !(mp->cfg.fine_place || mp->try_traffic)
	             ? 0
	             : fine_place(mp, &graph, ch, (uint32_t)nch, corder, cfirst, nb, chosen_board,
	                          slots, slot_first, capv);
	mp->rep.placed_by_traffic = mp->traffic_moved;
	if (rc < 0)
		goto out;
	/* fill each board's slots with its chunks in that order; what does not fit spills over
	 * to the nearest board (in partition order) with room */
	rc = S2_E_NOMEM;
	for (unsigned pass = 0; pass < 2; pass++)
		for (uint64_t ci = 0; ci < nch; ci++) {
			uint64_t c = corder[ci];
			for (uint64_t q = ch[c].first; q < ch[c].first + ch[c].count; q++) {
				struct part *pt = &mp->parts[q];
				if (pt->chip != NO_CHIP)
					continue;
				unsigned want = (unsigned)part_of[c];
				int found = -1;
				if (pass == 0) {
					if (used[want] < capv[want])
						found = (int)want;
				} else {
					for (unsigned d = 1; d <= nb && found < 0; d++) {
						if (want + d < nb &&
						    used[want + d] < capv[want + d])
							found = (int)(want + d);
						else if (want >= d &&
						         used[want - d] < capv[want - d])
							found = (int)(want - d);
					}
				}
				if (found < 0)
					continue;
				unsigned b = chosen_board[found];
				uint32_t sl = slots[slot_first[b] + used[found]++];
				pt->chip = b * mp->cpb + (sl >> 16);
				pt->pe = (uint16_t)(sl & 0xffff);
			}
		}
	for (uint64_t q = 0; q < mp->n_parts; q++)
		if (mp->parts[q].chip == NO_CHIP) {
			net_seterr(err, errlen, "network too large: population %s does not fit",
			           pb->populations[mp->parts[q].pop]->label);
			rc = S2_E_NOSPACE;
			goto out;
		}
	/* report: chips and boards used */
	uint8_t *mark = calloc(mp->n_chips, 1);
	if (!mark)
		goto out;
	for (uint64_t q = 0; q < mp->n_parts; q++)
		mark[mp->parts[q].chip] = 1;
	mp->rep.chips = 0;
	mp->rep.boards = 0;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		mp->rep.chips += mark[g];
		if (g % mp->cpb == 0) {
			bool any = false;
			for (unsigned c = 0; c < mp->cpb; c++)
				any |= mark[g + c];
			mp->rep.boards += any;
		}
	}
	free(mark);
	mp->stage = 2;
	rc = 0;
out:
	if (rc == S2_E_NOMEM)
		net_seterr(err, errlen, "out of memory placing %llu parts",
		           (unsigned long long)mp->n_parts);
	free(ord);
	free(slots);
	free(slot_first);
	free(used);
	free(ch);
	free(part_of);
	free(capv);
	free(chosen_board);
	free(corder);
	free(cfirst);
	cgraph_free(&graph);
	return rc;
}

/* ---- stage 3: keys ---------------------------------------------------------------------- */

struct kitem {
	uint64_t size;
	uint32_t id;
};

static int cmp_kitem(const void *a, const void *b)
{
	const struct kitem *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t pow2ceil64(uint64_t x)
{
	uint64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

/* Assign keys in `mode`; returns the key space needed (may exceed 2^32: then nothing valid). */
static uint64_t assign_keys(struct s2_mapping *mp, unsigned mode, const uint32_t *order,
                            const uint64_t *chip_first, struct kitem *tmp, uint64_t *chip_size,
                            uint64_t *chip_base)
{
	unsigned nboards = s2_machine_boards(mp->m);
	/* chip blocks: parts packed largest first (so each stays aligned) */
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		uint64_t sum = 0;
		for (uint64_t i = chip_first[g]; i < chip_first[g + 1]; i++)
			sum += 1ull << mp->parts[order[i]].kbits;
		chip_size[g] = mode <= 1 ? pow2ceil64(sum) : sum;
		if (chip_first[g] == chip_first[g + 1])
			chip_size[g] = 0;
	}
	uint64_t total = 0;
	if (mode == 0) {
		/* boards: chips largest first inside, boards largest first */
		struct kitem *bl = tmp;
		for (unsigned b = 0; b < nboards; b++) {
			uint64_t sum = 0;
			for (unsigned c = 0; c < mp->cpb; c++)
				sum += chip_size[b * mp->cpb + c];
			bl[b] = (struct kitem){sum ? pow2ceil64(sum) : 0, b};
		}
		qsort(bl, nboards, sizeof *bl, cmp_kitem);
		struct kitem cl[S2_MACHINE_MAX_BOARD_CHIPS];
		for (unsigned i = 0; i < nboards; i++) {
			unsigned b = bl[i].id;
			for (unsigned c = 0; c < mp->cpb; c++)
				cl[c] = (struct kitem){chip_size[b * mp->cpb + c], c};
			qsort(cl, mp->cpb, sizeof *cl, cmp_kitem);
			uint64_t off = total;
			for (unsigned c = 0; c < mp->cpb; c++) {
				chip_base[b * mp->cpb + cl[c].id] = off;
				off += cl[c].size;
			}
			total += bl[i].size;
		}
	} else {
		for (uint32_t g = 0; g < mp->n_chips; g++)
			tmp[g] = (struct kitem){chip_size[g], g};
		if (mode == 1)
			qsort(tmp, mp->n_chips, sizeof *tmp, cmp_kitem);
		for (uint32_t i = 0; i < mp->n_chips; i++) {
			chip_base[tmp[i].id] = total;
			total += tmp[i].size;
		}
	}
	if (total > (1ull << 32))
		return total;
	/* parts within chips, largest first; mode 2 sorted the parts of a chip likewise, and
	 * chips were laid end to end, so parts stay aligned only if chip bases are: mode 2 packs
	 * parts globally instead. */
	if (mode == 2) {
		uint64_t off = 0;
		/* all parts, largest block first: every block aligned */
		for (int kb = 31; kb >= 0; kb--)
			for (uint64_t i = 0; i < mp->n_parts; i++)
				if (mp->parts[i].kbits == kb) {
					mp->parts[i].key = (uint32_t)off;
					off += 1ull << kb;
				}
		return off;
	}
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		uint64_t off = chip_base[g];
		for (int kb = 31; kb >= 0; kb--)
			for (uint64_t i = chip_first[g]; i < chip_first[g + 1]; i++)
				if (mp->parts[order[i]].kbits == kb) {
					mp->parts[order[i]].key = (uint32_t)off;
					off += 1ull << kb;
				}
	}
	return total;
}

int s2_map_keys(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 3, err, errlen);
	if (rc < 0)
		return rc;
	if (mp->n_parts > UINT32_MAX) {
		net_seterr(err, errlen, "keys exhausted: %llu parts",
		           (unsigned long long)mp->n_parts);
		return S2_E_NOSPACE;
	}
	uint64_t *chip_first = calloc((size_t)mp->n_chips + 2, sizeof *chip_first);
	uint32_t *order = malloc((mp->n_parts + 1) * sizeof *order);
	uint64_t *chip_size = malloc(((size_t)mp->n_chips + 1) * sizeof *chip_size);
	uint64_t *chip_base = calloc((size_t)mp->n_chips + 1, sizeof *chip_base);
	struct kitem *tmp = malloc(((size_t)mp->n_chips + S2_MACHINE_MAX_BOARDS + 1) * sizeof *tmp);
	rc = S2_E_NOMEM;
	if (!chip_first || !order || !chip_size || !chip_base || !tmp) {
		net_seterr(err, errlen, "out of memory allocating keys");
		goto out;
	}
	/* parts of each chip, in PE order: counting sort by chip, then by PE within the chip */
	for (uint64_t i = 0; i < mp->n_parts; i++)
		chip_first[mp->parts[i].chip + 1]++;
	for (uint32_t g = 0; g < mp->n_chips; g++)
		chip_first[g + 1] += chip_first[g];
	uint64_t *fill = malloc(((size_t)mp->n_chips + 1) * sizeof *fill);
	if (!fill) {
		net_seterr(err, errlen, "out of memory allocating keys");
		goto out;
	}
	memcpy(fill, chip_first, ((size_t)mp->n_chips + 1) * sizeof *fill);
	for (uint64_t i = 0; i < mp->n_parts; i++)
		order[fill[mp->parts[i].chip]++] = (uint32_t)i;
	free(fill);
	for (uint32_t g = 0; g < mp->n_chips; g++)
		for (uint64_t i = chip_first[g] + 1; i < chip_first[g + 1]; i++) {
			uint32_t v = order[i];
			uint64_t k = i;
			while (k > chip_first[g] && mp->parts[order[k - 1]].pe > mp->parts[v].pe) {
				order[k] = order[k - 1];
				k--;
			}
			order[k] = v;
		}
	uint64_t need = 0;
	unsigned mode;
	for (mode = 0; mode < 3; mode++) {
		need = assign_keys(mp, mode, order, chip_first, tmp, chip_size, chip_base);
		if (need <= (1ull << mp->cfg.key_bits))
			break;
	}
	if (mode == 3) {
		net_seterr(err, errlen,
		           "keys exhausted: the network's %llu parts need %llu keys even packed "
		           "without alignment, and a key has %u bits (%llu keys)",
		           (unsigned long long)mp->n_parts, (unsigned long long)need,
		           mp->cfg.key_bits, 1ull << mp->cfg.key_bits);
		rc = S2_E_NOSPACE;
		goto out;
	}
	mp->rep.key_mode = mode;
	mp->rep.key_span = need;
	mp->rep.keys_used = 0;
	for (uint64_t i = 0; i < mp->n_parts; i++)
		mp->rep.keys_used += 1ull << mp->parts[i].kbits;
	/* by_key: parts sorted by key (keys are unique) */
	uint64_t *kv = malloc((mp->n_parts + 1) * sizeof *kv);
	if (!kv) {
		net_seterr(err, errlen, "out of memory allocating keys");
		goto out;
	}
	for (uint64_t i = 0; i < mp->n_parts; i++)
		kv[i] = (uint64_t)mp->parts[i].key << 32 | i;
	qsort(kv, mp->n_parts, sizeof *kv, s2_map_cmp_u64);
	for (uint64_t i = 0; i < mp->n_parts; i++)
		order[i] = (uint32_t)kv[i];
	free(kv);
	mp->by_key = order;
	order = NULL;
	mp->stage = 3;
	rc = 0;
out:
	free(chip_first);
	free(order);
	free(chip_size);
	free(chip_base);
	free(tmp);
	return rc;
}

/* ---- queries ---------------------------------------------------------------------------- */

uint64_t s2_map_parts(const struct s2_mapping *mp)
{
	return mp->n_parts;
}

void s2_map_part(const struct s2_mapping *mp, uint64_t i, struct s2_part_info *out)
{
	const struct part *pt = &mp->parts[i];
	out->pop = pt->pop;
	out->lo = pt->lo;
	out->n = pt->n;
	out->board = pt->chip == NO_CHIP ? 0 : pt->chip / mp->cpb;
	out->chip = pt->chip == NO_CHIP ? 0 : pt->chip % mp->cpb;
	out->pe = pt->pe;
	out->key = pt->key;
	out->mask = pt->kbits >= 32 ? 0 : ~((1u << pt->kbits) - 1u);
}

void s2_map_pop_parts(const struct s2_mapping *mp, unsigned p, uint64_t *first, uint32_t *count,
                      uint32_t *per_part)
{
	*first = mp->pops[p].first;
	*count = mp->pops[p].count;
	*per_part = mp->pops[p].per_part;
}
