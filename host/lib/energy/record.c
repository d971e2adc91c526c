/*
 * Recording what a run cost (s2/energy_record.h): every chip's counter samples and the run
 * events as the live stream brings them, the host's phase windows with its CPU time and RAPL
 * energy, the boards' identities and the run's provenance, written as an energy record (JSON,
 * s2-energy-record-2, sealed with its CRC-32) that s2_energy_report_open() reads.
 */
#include "s2/energy_record.h"

#include <stdbool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include "s2/crc32.h"
#include "s2/fileio.h"

#include "jsonw_internal.h"
#include "s2/board.h"
#include "s2/energy.h"
#include "s2/error.h"
#include "s2/fwident.h"
#include "s2/msg.h"
#include "s2/key.h"
#include "s2/stream.h"
#include "s2/version.h"
#include "s2/wire.h"
#include "s2_git.h"
#include "sha256_internal.h"

struct sample {
	uint16_t board, chip;
	uint32_t step;
	uint64_t time_us;
	uint64_t host_us; /* CLOCK_MONOTONIC when s2ctl took the sample's packet */
	uint64_t c[S2_LIVE_COUNTERS];
};

struct phase {
	char name[16];
	uint64_t t0, t1;  /* microseconds */
	uint64_t cpu_us;  /* s2ctl's CPU time (user + system) in the phase */
	bool rapl;        /* RAPL readable at both ends */
	uint64_t rapl_uj; /* the package domains' energy in the phase, unwrapped */
	unsigned rapl_n;  /* domains */
};

struct board_id {
	bool ok;
	int status;
	struct s2_msg_board_id id;
};

struct s2_energy_record {
	struct s2_session *s;
	const struct s2_plan *plan;
	struct s2_stream_stats ss; /* the run's live stream (s2_energy_record_stream_stats) */
	uint32_t every;
	struct sample *smp;
	size_t n_smp, cap_smp;
	struct s2_run_event *ev;
	uint64_t *ev_host_us; /* CLOCK_MONOTONIC when each event's packet arrived */
	size_t n_ev, cap_ev;
	uint64_t utc_us0, mono_us0; /* CLOCK_REALTIME and CLOCK_MONOTONIC, read together */
	struct board_id *bid;       /* [plan boards] */
	struct phase ph[8];
	unsigned n_ph;
	bool nomem;
};

static uint64_t clock_us(clockid_t id);

void s2_energy_record_sample(struct s2_energy_record *r, const struct s2_energy_sample *e)
{
	if (r->n_smp == r->cap_smp) {
		size_t cap = r->cap_smp ? 2 * r->cap_smp : 1024;
		struct sample *q = realloc(r->smp, cap * sizeof *q);
		if (!q) {
			r->nomem = true;
			return;
		}
		r->smp = q;
		r->cap_smp = cap;
	}
	struct sample *x = &r->smp[r->n_smp++];
	x->host_us = clock_us(CLOCK_MONOTONIC);
	x->board = e->board;
	x->chip = e->chip;
	x->step = e->step;
	x->time_us = e->time_us;
	memcpy(x->c, e->counters, sizeof x->c);
}

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void s2_energy_record_event(struct s2_energy_record *r, const struct s2_run_event *ev)
{
	uint64_t host_us = clock_us(CLOCK_MONOTONIC);
	if (r->n_ev == r->cap_ev) {
		size_t cap = r->cap_ev ? 2 * r->cap_ev : 64;
		struct s2_run_event *q = realloc(r->ev, cap * sizeof *q);
		if (q)
			r->ev = q;
		uint64_t *h = q ? realloc(r->ev_host_us, cap * sizeof *h) : NULL;
		if (!q || !h) {
			r->nomem = true;
			return;
		}
		r->ev_host_us = h;
		r->cap_ev = cap;
	}
	r->ev_host_us[r->n_ev] = host_us;
	r->ev[r->n_ev++] = *ev;
}

/* The RAPL package domains (intel-rapl:N, not their sub-zones) under $S2_POWERCAP. */
static void read_rapl(struct s2_energy_host *h)
{
	const char *root = getenv("S2_POWERCAP");
	if (!root || !*root)
		root = "/sys/class/powercap";
	h->n_rapl = 0;
	for (unsigned d = 0; d < 64 && h->n_rapl < S2_ENERGY_RAPL_MAX; d++) {
		char p[4200];
		unsigned long long uj = 0, range = 0;
		snprintf(p, sizeof p, "%.4000s/intel-rapl:%u/energy_uj", root, d);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		int got = fscanf(f, "%llu", &uj);
		fclose(f);
		if (got != 1)
			continue;
		snprintf(p, sizeof p, "%.4000s/intel-rapl:%u/max_energy_range_uj", root, d);
		if ((f = fopen(p, "r"))) {
			if (fscanf(f, "%llu", &range) != 1)
				range = 0;
			fclose(f);
		}
		h->rapl_uj[h->n_rapl] = uj;
		h->rapl_range_uj[h->n_rapl++] = range;
	}
}

void s2_energy_host_now(struct s2_energy_host *h)
{
	memset(h, 0, sizeof *h);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	h->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	read_rapl(h);
	h->mono_s = (double)clock_us(CLOCK_MONOTONIC) * 1e-6;
}

/* The boards' identities (DISCOVER: serial and firmware version), for the provenance. */
static void identify(struct s2_energy_record *r)
{
	struct s2_session *s = r->s;
	const struct s2_plan *p = r->plan;
	unsigned n = s2_session_boards(s);
	struct s2_conn **eth = s2_session_eth(s);
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	uint8_t(*body)[64] = calloc(n ? n : 1, sizeof *body);
	size_t *blen = calloc(n ? n : 1, sizeof *blen);
	if (!(r->bid = calloc(p->n_boards + 1, sizeof *r->bid)) || !ops || !body || !blen)
		goto out;
	for (unsigned i = 0; i < p->n_boards; i++) {
		unsigned b = p->boards[i].board;
		if (b >= n)
			continue; /* not in the session's machine: no identity (below) */
		s2_op_init(&ops[b], NULL, NULL);
		if (!eth[b])
			ops[b].status = S2_E_INVAL; /* no Ethernet endpoint opened for it */
		else if (s2_simple_start(eth[b], S2_MSG_DISCOVER, S2_ADDR_ANY, S2_PE_MONITOR, NULL,
		                         0, body[b], sizeof body[b], &blen[b], &ops[b]) < 0)
			ops[b].status = S2_E_NOMEM;
	}
	s2_client_wait(s2_session_client(s));
	for (unsigned i = 0; i < p->n_boards; i++) {
		unsigned b = p->boards[i].board;
		struct board_id *id = &r->bid[i];
		if (b >= n) {
			id->status = S2_E_INVAL;
			continue;
		}
		id->status = ops[b].status;
		if (!id->status)
			id->status = s2_msg_board_id_decode(body[b], blen[b], &id->id);
		id->ok = id->status == 0;
	}
out:
	free(ops);
	free(body);
	free(blen);
}

struct s2_energy_record *s2_energy_record_start(struct s2_session *s, const struct s2_plan *p,
                                                uint32_t every, char *err, size_t errlen)
{
	struct s2_energy_record *r = calloc(1, sizeof *r);
	if (!r) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->s = s;
	r->plan = p;
	r->every = every;
	r->utc_us0 = clock_us(CLOCK_REALTIME);
	r->mono_us0 = clock_us(CLOCK_MONOTONIC);
	identify(r);
	return r;
}

void s2_energy_record_stream_stats(struct s2_energy_record *r, const struct s2_stream_stats *ss)
{
	r->ss = *ss;
}

void s2_energy_record_phase(struct s2_energy_record *r, const char *name,
                            const struct s2_energy_host *h0, const struct s2_energy_host *h1)
{
	if (r->n_ph == sizeof r->ph / sizeof r->ph[0])
		return;
	struct phase *ph = &r->ph[r->n_ph++];
	memset(ph, 0, sizeof *ph);
	snprintf(ph->name, sizeof ph->name, "%s", name);
	ph->t0 = (uint64_t)(h0->mono_s * 1e6);
	ph->t1 = (uint64_t)(h1->mono_s * 1e6);
	double cpu = h1->cpu_s - h0->cpu_s;
	ph->cpu_us = cpu > 0 ? (uint64_t)(cpu * 1e6 + 0.5) : 0;
	ph->rapl = h0->n_rapl && h0->n_rapl == h1->n_rapl;
	ph->rapl_n = ph->rapl ? h0->n_rapl : 0;
	for (unsigned d = 0; ph->rapl && d < h0->n_rapl; d++) {
		uint64_t a = h0->rapl_uj[d], b = h1->rapl_uj[d], range = h0->rapl_range_uj[d];
		/* the counter wraps at max_energy_range_uj (one wrap at most in a phase) */
		ph->rapl_uj += b >= a ? b - a : range > a ? range - a + b : 0;
		if (b < a && range <= a)
			ph->rapl = false; /* a wrap we cannot unwrap: no figure, said so */
	}
}

/*
 * Host minus board clock near the run's start and end, per board: the least over the board's
 * samples and events in the first and last tenth of its clock's span of (when s2ctl took the
 * packet - the board's time stamp). Every packet's delay adds to the difference, never
 * subtracts, so the least-delayed packet bounds the offset best.
 */
static void write_clock_offsets(struct json *j, const struct s2_energy_record *r)
{
	s2_json_arr(j, "clock_offsets");
	for (unsigned i = 0; i < r->plan->n_boards; i++) {
		unsigned b = r->plan->boards[i].board;
		uint64_t t0 = UINT64_MAX, t1 = 0;
		for (size_t k = 0; k < r->n_smp; k++)
			if (r->smp[k].board == b) {
				t0 = r->smp[k].time_us < t0 ? r->smp[k].time_us : t0;
				t1 = r->smp[k].time_us > t1 ? r->smp[k].time_us : t1;
			}
		if (t0 > t1)
			continue;
		uint64_t w = (t1 - t0) / 10;
		int64_t best0 = INT64_MAX, best1 = INT64_MAX;
		unsigned n0 = 0, n1 = 0;
		for (size_t k = 0; k < r->n_smp; k++) {
			const struct sample *x = &r->smp[k];
			if (x->board != b)
				continue;
			int64_t off = (int64_t)x->host_us - (int64_t)x->time_us;
			if (x->time_us <= t0 + w) {
				n0++;
				best0 = off < best0 ? off : best0;
			}
			if (x->time_us + w >= t1) {
				n1++;
				best1 = off < best1 ? off : best1;
			}
		}
		s2_json_obj(j, NULL);
		s2_json_uint(j, "board", b);
		s2_json_int(j, "start_us", best0);
		s2_json_int(j, "end_us", best1);
		s2_json_uint(j, "samples_start", n0);
		s2_json_uint(j, "samples_end", n1);
		s2_json_uint(j, "window_us", w);
		s2_json_end_obj(j);
	}
	s2_json_end_arr(j);
}

static const char *event_name(unsigned e)
{
	return e == S2_LIVE_STARTED ? "started" : e == S2_LIVE_DONE ? "done" : "stopped";
}

/* A file's SHA-256, or null when it cannot be read. */
static void json_file_hash(struct json *j, const char *key, const char *path)
{
	char hex[65];
	if (path && s2_sha256_file(path, hex) == 0)
		s2_json_str(j, key, hex);
	else
		s2_json_null(j, key);
}

static void write_firmware(struct json *j, const struct s2_energy_record *r,
                           const struct s2_energy_record_info *info)
{
	s2_json_obj(j, "firmware");
	s2_json_str(j, "path", info->firmware);
	json_file_hash(j, "sha256", info->firmware);
	size_t len = 0;
	uint8_t *img = NULL;
	char rerr[64];
	if (info->firmware &&
	    s2_file_read_all(info->firmware, S2_FW_IMAGE_MAX, &img, &len, rerr, sizeof rerr) < 0)
		img = NULL;
	struct s2_fw_ident id;
	if (img && s2_fw_ident_decode(img, len, &id) == 0) {
		s2_json_str(j, "version", id.version);
		s2_json_uint(j, "protocol", id.protocol);
		char crc[16];
		snprintf(crc, sizeof crc, "%08x", (unsigned)s2_ld32(img + S2_FW_IDENT_OFFSET + 12));
		s2_json_str(j, "image_crc32", crc);
	} else {
		s2_json_null(j, "version");
		s2_json_null(j, "protocol");
		s2_json_null(j, "image_crc32");
	}
	free(img);
	s2_json_uint(j, "booted_boards", info->booted);
	s2_json_uint(j, "boards", r->plan->n_boards);
	s2_json_end_obj(j);
}

int s2_energy_record_write(struct s2_energy_record *r, const char *path,
                           const struct s2_energy_record_info *info, double dt_ms, uint32_t steps,
                           char *err, size_t errlen)
{
	if (r->nomem) {
		snprintf(err, errlen, "%.400s: out of memory while recording", path);
		return S2_E_NOMEM;
	}
	/* Built in memory, sealed with the CRC-32 of every byte before its "crc32" field (the
	 * last; docs/energy.md), then written atomically (s2/fileio.h). */
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (!f) {
		snprintf(err, errlen, "%.400s: out of memory", path);
		return S2_E_NOMEM;
	}
	const struct s2_stream_stats *ss = &r->ss;
	struct json j;
	s2_json_begin(&j, f);
	s2_json_obj(&j, NULL);
	s2_json_str(&j, "format", "s2-energy-record-2");
	s2_json_str(&j, "image", info->image);
	s2_json_num(&j, "timestep_ms", dt_ms);
	s2_json_uint(&j, "steps", steps);
	/* A run that did not complete never reads as complete (docs/results.md). */
	s2_json_flag(&j, "complete", !info->partial);
	if (info->partial)
		s2_json_str(&j, "partial", info->partial);
	s2_json_uint(&j, "energy_every", r->every);
	s2_json_uint(&j, "machine_boards", s2_session_boards(r->s));
	s2_json_arr(&j, "boards");
	for (unsigned i = 0; i < r->plan->n_boards; i++) {
		const struct s2_plan_board *pb = &r->plan->boards[i];
		s2_json_obj(&j, NULL);
		s2_json_uint(&j, "board", pb->board);
		s2_json_uint(&j, "chips_used", pb->n_chips);
		s2_json_uint(&j, "pes", pb->pes);
		if (r->bid && r->bid[i].ok) {
			s2_json_uint(&j, "serial", r->bid[i].id.serial);
			s2_json_str(&j, "version", r->bid[i].id.version);
		} else {
			s2_json_null(&j, "serial");
			s2_json_str(&j, "version", NULL);
			s2_json_str(&j, "identity_error",
			            s2_strerror(r->bid ? r->bid[i].status : S2_E_NOMEM));
		}
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	/* Provenance: what made the record, from what, where and when. */
	s2_json_obj(&j, "provenance");
	s2_json_str(&j, "s2_version", s2_version());
	s2_json_str(&j, "git_commit", S2_GIT_COMMIT);
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) < 0)
		host[0] = 0;
	s2_json_str(&j, "host", host[0] ? host : NULL);
	s2_json_str(&j, "image", info->image);
	json_file_hash(&j, "image_sha256", info->image);
	s2_json_str(&j, "network", info->network);
	char crc[16];
	snprintf(crc, sizeof crc, "%08x", (unsigned)info->network_crc32);
	s2_json_str(&j, "network_crc32", crc);
	s2_json_str(&j, "machine", info->machine);
	json_file_hash(&j, "machine_sha256", info->machine);
	s2_json_str(&j, "results", info->results);
	json_file_hash(&j, "results_sha256", info->results);
	s2_json_end_obj(&j);
	write_firmware(&j, r, info);
	s2_json_obj(&j, "host_clock");
	s2_json_uint(&j, "utc_us", r->utc_us0);
	s2_json_uint(&j, "mono_us", r->mono_us0);
	s2_json_end_obj(&j);
	s2_json_arr(&j, "phases");
	for (unsigned i = 0; i < r->n_ph; i++) {
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "name", r->ph[i].name);
		s2_json_uint(&j, "start_us", r->ph[i].t0);
		s2_json_uint(&j, "end_us", r->ph[i].t1);
		s2_json_uint(&j, "cpu_us", r->ph[i].cpu_us);
		if (r->ph[i].rapl) {
			s2_json_uint(&j, "rapl_uj", r->ph[i].rapl_uj);
			s2_json_uint(&j, "rapl_domains", r->ph[i].rapl_n);
		} else {
			s2_json_null(&j, "rapl_uj");
		}
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	s2_json_arr(&j, "events");
	for (size_t k = 0; k < r->n_ev; k++) {
		s2_json_obj(&j, NULL);
		s2_json_uint(&j, "board", r->ev[k].board);
		s2_json_str(&j, "event", event_name(r->ev[k].event));
		s2_json_uint(&j, "step", r->ev[k].step);
		s2_json_uint(&j, "time_us", r->ev[k].time_us);
		s2_json_uint(&j, "host_us", r->ev_host_us[k]);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	write_clock_offsets(&j, r);
	s2_json_obj(&j, "stream");
	s2_json_uint(&j, "packets", ss->packets);
	s2_json_uint(&j, "lost", ss->lost);
	s2_json_uint(&j, "late", ss->late);
	s2_json_uint(&j, "duplicates", ss->duplicates);
	s2_json_uint(&j, "stale", ss->stale);
	s2_json_uint(&j, "bad", ss->bad);
	s2_json_uint(&j, "board_dropped", ss->board_dropped);
	s2_json_end_obj(&j);
	/* Samples: one array per sample, counters in the order of the names. */
	static const char *const names[S2_LIVE_COUNTERS] = {
	        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};
	s2_json_arr(&j, "sample_fields");
	s2_json_str(&j, NULL, "board");
	s2_json_str(&j, NULL, "chip");
	s2_json_str(&j, NULL, "step");
	s2_json_str(&j, NULL, "time_us");
	for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
		s2_json_str(&j, NULL, names[k]);
	s2_json_end_arr(&j);
	s2_json_arr(&j, "samples");
	for (size_t i = 0; i < r->n_smp; i++) {
		const struct sample *x = &r->smp[i];
		s2_json_arr(&j, NULL);
		s2_json_uint(&j, NULL, x->board);
		s2_json_uint(&j, NULL, x->chip);
		s2_json_uint(&j, NULL, x->step);
		s2_json_uint(&j, NULL, x->time_us);
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			s2_json_uint(&j, NULL, x->c[k]);
		s2_json_end_arr(&j);
	}
	s2_json_end_arr(&j);
	fflush(f);
	char seal[16];
	snprintf(seal, sizeof seal, "%08x", (unsigned)s2_crc32(0, buf, blen));
	s2_json_str(&j, "crc32", seal);
	s2_json_end_obj(&j);
	s2_json_finish(&j);
	bool bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		snprintf(err, errlen, "%.400s: out of memory", path);
		return S2_E_NOMEM;
	}
	int rc = s2_file_write_atomic(path, buf, blen, err, errlen);
	free(buf);
	return rc;
}

void s2_energy_record_free(struct s2_energy_record *r)
{
	if (!r)
		return;
	free(r->smp);
	free(r->ev);
	free(r->ev_host_us);
	free(r->bid);
	free(r);
}
