/* The energy model (energy.h, docs/energy.md). */
#include "s2/energy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"

#define PES_PER_CHIP 152.0

void s2_energy_model_default(struct s2_energy_model *m)
{
	memset(m, 0, sizeof *m);
	snprintf(m->version, sizeof m->version, "%s", S2_ENERGY_MODEL_VERSION);
	m->pl = S2_PL_HIGH;
	m->mhz[S2_PL_LOW] = 150;
	m->volts[S2_PL_LOW] = 0.5;
	m->mhz[S2_PL_HIGH] = 300;
	m->volts[S2_PL_HIGH] = 0.8;
	m->chip_idle_w = 0.24;
	m->chip_busy_w = 2.2;
	m->board_other_w = 26.84 - 48 * 0.35;
	/* Measured under QEMU (bench/engine.sh, 2026-12-07; the mapper's budget table,
	 * s2ctl net models): a current-based LIF update (the counters do not say which model
	 * updated), the synaptic inner loop, a packet's key lookup and row fetch. Model 1 had
	 * 80 (assumed), 22.1 and 361. */
	m->cycles[S2_EP_NEURON_UPDATES] = 63.4;
	m->cycles[S2_EP_SYNAPTIC_EVENTS] = 27.1;
	m->cycles[S2_EP_SPIKES_SENT] = 30;
	m->cycles[S2_EP_PACKETS_IN] = 376;
	m->j_packet_routed = 1e-9;
	m->j_dma_byte = 20e-12;
	m->counter_bits = 64;
	m->host_w_per_core = S2_ENERGY_HOST_W_PER_CORE;
}

static const struct {
	const char *name;
	size_t off;
	double lo, hi;
} params[] = {
#define P(n, f, lo, hi)                                        \
	{                                                      \
		n, offsetof(struct s2_energy_model, f), lo, hi \
	}
        P("chip_idle_w", chip_idle_w, 0, 1e3),
        P("chip_busy_w", chip_busy_w, 0, 1e3),
        P("board_other_w", board_other_w, 0, 1e4),
        P("mhz_low", mhz[S2_PL_LOW], 1, 1e4),
        P("mhz_high", mhz[S2_PL_HIGH], 1, 1e4),
        P("volts_low", volts[S2_PL_LOW], 0.1, 5),
        P("volts_high", volts[S2_PL_HIGH], 0.1, 5),
        P("cycles_neuron_update", cycles[S2_EP_NEURON_UPDATES], 0, 1e6),
        P("cycles_synaptic_event", cycles[S2_EP_SYNAPTIC_EVENTS], 0, 1e6),
        P("cycles_spike_sent", cycles[S2_EP_SPIKES_SENT], 0, 1e6),
        P("cycles_packet_in", cycles[S2_EP_PACKETS_IN], 0, 1e6),
        P("j_packet_routed", j_packet_routed, 0, 1e-3),
        P("j_dma_byte", j_dma_byte, 0, 1e-3),
        P("host_w_per_core", host_w_per_core, 0.01, 1e3),
#undef P
};

int s2_energy_model_parse(struct s2_energy_model *m, const char *text, char *err, size_t errlen)
{
	struct s2_energy_model t = *m;
	bool changed = false;
	unsigned line = 0;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char buf[256];
		line++;
		if (n >= sizeof buf) {
			snprintf(err, errlen, "line %u: longer than %zu characters", line,
			         sizeof buf - 1);
			return S2_E_FORMAT;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		p += n + (e ? 1 : 0);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char name[64], rest[128];
		int got = sscanf(buf, " %63[a-z_] = %127s", name, rest);
		if (got <= 0) {
			char tail[2];
			if (sscanf(buf, " %1s", tail) != 1)
				continue; /* blank */
		}
		if (got != 2) {
			snprintf(err, errlen, "line %u: not 'name = value'", line);
			return S2_E_FORMAT;
		}
		if (!strcmp(name, "pl")) {
			if (!strcmp(rest, "low"))
				t.pl = S2_PL_LOW;
			else if (!strcmp(rest, "high"))
				t.pl = S2_PL_HIGH;
			else {
				snprintf(err, errlen, "line %u: pl: '%s' is not low or high", line,
				         rest);
				return S2_E_RANGE;
			}
			changed = true;
			continue;
		}
		if (!strcmp(name, "counter_bits")) {
			char *end;
			unsigned long b = strtoul(rest, &end, 10);
			if (*end || b < 16 || b > 64) {
				snprintf(err, errlen, "line %u: counter_bits: '%s' is not 16..64",
				         line, rest);
				return S2_E_RANGE;
			}
			t.counter_bits = (unsigned)b;
			changed = true;
			continue;
		}
		size_t k = 0;
		while (k < sizeof params / sizeof params[0] && strcmp(params[k].name, name))
			k++;
		if (k == sizeof params / sizeof params[0]) {
			snprintf(err, errlen, "line %u: unknown constant '%s'", line, name);
			return S2_E_FORMAT;
		}
		char *end;
		double v = strtod(rest, &end);
		if (*end || !(v >= params[k].lo && v <= params[k].hi)) {
			snprintf(err, errlen, "line %u: %s: '%s' is not a number in %g..%g", line,
			         name, rest, params[k].lo, params[k].hi);
			return S2_E_RANGE;
		}
		memcpy((char *)&t + params[k].off, &v, sizeof v);
		changed = true;
	}
	if (t.chip_busy_w < t.chip_idle_w) {
		snprintf(err, errlen, "chip_busy_w %g is below chip_idle_w %g", t.chip_busy_w,
		         t.chip_idle_w);
		return S2_E_RANGE;
	}
	if (changed)
		snprintf(t.version, sizeof t.version, "%s+custom", S2_ENERGY_MODEL_VERSION);
	*m = t;
	return 0;
}

double s2_energy_j_per_cycle(const struct s2_energy_model *m, unsigned pl)
{
	double hi = (m->chip_busy_w - m->chip_idle_w) / (PES_PER_CHIP * m->mhz[S2_PL_HIGH] * 1e6);
	double r = m->volts[pl] / m->volts[S2_PL_HIGH];
	return hi * r * r;
}

double s2_energy_pe_active_w(const struct s2_energy_model *m)
{
	double r = m->volts[m->pl] / m->volts[S2_PL_LOW];
	return m->chip_idle_w / PES_PER_CHIP * (r * r - 1);
}

void s2_energy_unit_j(const struct s2_energy_model *m, double out[S2_EP_COUNT])
{
	double jc = s2_energy_j_per_cycle(m, m->pl);
	for (unsigned k = 0; k < S2_EP_COUNT; k++)
		out[k] = m->cycles[k] * jc;
	out[S2_EP_PACKETS_ROUTED] = m->j_packet_routed;
	out[S2_EP_DMA_BYTES] = m->j_dma_byte;
}

uint64_t s2_energy_delta(uint64_t from, uint64_t to, unsigned bits)
{
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	return (to - from) & mask;
}

void s2_energy_increase(const struct s2_energy_model *m, const struct s2_energy_point *p,
                        size_t first, size_t last, uint64_t out[S2_LIVE_COUNTERS])
{
	memset(out, 0, S2_LIVE_COUNTERS * sizeof *out);
	for (size_t i = first; i < last; i++)
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			out[k] += s2_energy_delta(p[i].c[k], p[i + 1].c[k], m->counter_bits);
}

double s2_energy_dynamic_j(const struct s2_energy_model *m, const uint64_t inc[S2_LIVE_COUNTERS],
                           double parts[S2_EP_COUNT])
{
	static const unsigned counter_of[S2_EP_COUNT] = {
	        S2_LC_NEURON_UPDATES, S2_LC_SYNAPTIC_EVENTS, S2_LC_SPIKES_SENT,
	        S2_LC_PACKETS_IN,     S2_LC_PACKETS_ROUTED,  S2_LC_DMA_BYTES};
	double unit[S2_EP_COUNT], total = 0;
	s2_energy_unit_j(m, unit);
	for (unsigned k = 0; k < S2_EP_COUNT; k++) {
		double j = (double)inc[counter_of[k]] * unit[k];
		if (parts)
			parts[k] = j;
		total += j;
	}
	return total;
}

int s2_energy_model_load(struct s2_energy_model *m, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return S2_E_IO;
	}
	enum { MAX = 1 << 20 };
	char *t = malloc(MAX + 1);
	size_t n = t ? fread(t, 1, MAX + 1, f) : 0;
	int e = !t ? ENOMEM : ferror(f) ? EIO : n > MAX ? EFBIG : 0;
	fclose(f);
	if (e) {
		free(t);
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOMEM ? S2_E_NOMEM : S2_E_IO;
	}
	t[n] = 0;
	char perr[256];
	int rc = s2_energy_model_parse(m, t, perr, sizeof perr);
	free(t);
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "%s: %s", path, perr);
	return rc;
}
