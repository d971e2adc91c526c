/*
 * s2ctl deploy, run and results (docs/cli/deploy.md, run.md, results.md): put a compiled
 * network on the machine, run it, bring the recordings back.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "plan.h"
#include "energy_rec.h"
#include "results.h"
#include "s2/app.h"
#include "s2/error.h"
#include "s2/fwident.h"
#include "s2/machine.h"
#include "session.h"

struct run_opts {
	const char *duration, *out, *energy, *energy_every, *stall;
	bool realtime, deployed;
};

/* Default of --stall-timeout: seconds a phase may go without progress (docs/cli/run.md). */
#define STALL_DEFAULT_S 60.0

static int run_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct run_opts *o = ctx;
	if (id == 256)
		o->duration = arg;
	else if (id == 257)
		o->realtime = true;
	else if (id == 'o')
		o->out = arg;
	else if (id == 258)
		o->deployed = true;
	else if (id == 259)
		o->energy = arg;
	else if (id == 260)
		o->energy_every = arg;
	else if (id == 261)
		o->stall = arg;
	else
		return -1;
	return 0;
}

static int parse_stall(const struct cli *c, const char *arg, double *s)
{
	char *end;
	*s = STALL_DEFAULT_S;
	if (!arg)
		return 0;
	*s = strtod(arg, &end);
	if (*end || !(*s >= 1 && *s <= 86400)) {
		cli_error(c, EXIT_USAGE, "--stall-timeout: '%s' is not 1..86400 seconds", arg);
		return -1;
	}
	return 0;
}

static int parse_duration(const struct cli *c, const char *arg, double *dur)
{
	char *end;
	*dur = strtod(arg, &end);
	if (*end || !(*dur > 0 && *dur <= 1e7)) {
		cli_error(c, EXIT_USAGE, "--duration: '%s' is not a time in ms", arg);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct ctx {
	struct cli *c;
	struct session s;
	struct plan *plan;
	struct s2_op *ops; /* [machine boards] */
	int *failed;       /* [machine boards]: first error */
	char (*what)[128]; /* [machine boards] */
	double t_deploy;
	double t_dep0, t_boot_end, t_dep_end; /* CLOCK_MONOTONIC seconds: deploy's phases */
	double stall_s; /* --stall-timeout: a phase without progress for this long fails */
	struct erec_host h_dep0, h_boot_end, h_dep_end; /* the host's spending at those moments */
	unsigned booted;                                /* boards boot_missing booted */
	uint64_t bytes;
	struct s2_bulk_stats load, rec; /* bulk transfer counters: loading, recordings */
};

/* Wait for the ops of every live plan board; record failures. */
static void settle(struct ctx *x, const char *step)
{
	s2_client_wait(x->s.client);
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (!x->failed[b] && x->ops[b].status) {
			x->failed[b] = x->ops[b].status;
			if (strcmp(step, x->ops[b].what))
				snprintf(x->what[b], sizeof x->what[b], "%s: %s", step,
				         x->ops[b].what);
			else
				snprintf(x->what[b], sizeof x->what[b], "%s", step);
		}
	}
}

static unsigned live(const struct ctx *x)
{
	unsigned n = 0;
	for (unsigned i = 0; i < x->plan->n_boards; i++)
		n += !x->failed[x->plan->boards[i].board];
	return n;
}

static void progress_cb(void *arg)
{
	struct ctx *x = arg;
	uint64_t d = 0, t = 0;
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		d += x->ops[b].done;
		t += x->ops[b].total;
	}
	cli_progress(x->c, "load", d, t);
}

/* Boot the plan's boards that are not booted, with the default monitor image. */
static void boot_missing(struct ctx *x)
{
	struct s2_msg_board_status *st = calloc(x->s.n, sizeof *st);
	uint8_t(*body)[32] = calloc(x->s.n, sizeof *body);
	size_t *blen = calloc(x->s.n, sizeof *blen);
	if (!st || !body || !blen)
		goto out;
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		s2_op_init(&x->ops[b], NULL, NULL);
		s2_simple_start(x->s.eth[b], S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR, NULL,
		                0, body[b], sizeof body[b], &blen[b], &x->ops[b]);
	}
	settle(x, "BOARD_STATUS");
	const char *path = cli_default_firmware();
	size_t len = 0;
	uint8_t *image = NULL;
	bool any = false;
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (x->failed[b] || s2_msg_board_status_decode(body[b], blen[b], &st[b]) < 0 ||
		    st[b].state == S2_BOARD_BOOTED)
			continue;
		if (!image && !(image = cli_read_file(path, S2_FW_IMAGE_MAX, &len))) {
			x->failed[b] = S2_E_STATE;
			snprintf(x->what[b], sizeof x->what[b],
			         "not booted, and no monitor image to boot it (%s)",
			         strerror(errno));
			continue;
		}
		s2_op_init(&x->ops[b], NULL, NULL);
		if (s2_boot_start(x->s.eth[b], image, len, S2_BOOT_BLOCK_MAX, &x->ops[b], &st[b]) <
		    0)
			x->ops[b].status = S2_E_NOMEM;
		any = true;
		x->booted++;
	}
	if (any)
		settle(x, "boot");
	free(image);
out:
	free(st);
	free(body);
	free(blen);
}

/* Deploy the plan: boot what is not booted, clear, write, activate, verify. */
static void deploy(struct ctx *x)
{
	erec_host_now(&x->h_dep0);
	double t0 = now_s();
	x->t_dep0 = t0;
	boot_missing(x);
	x->t_boot_end = now_s();
	erec_host_now(&x->h_boot_end);
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (x->failed[b])
			continue;
		s2_op_init(&x->ops[b], NULL, NULL);
		s2_app_stop_start(x->s.eth[b], &x->ops[b]);
	}
	settle(x, "APP_STOP");
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		struct plan_board *pb = &x->plan->boards[i];
		if (x->failed[pb->board])
			continue;
		s2_op_init(&x->ops[pb->board], progress_cb, x);
		int rc = s2_app_write_start(x->s.eth[pb->board], pb->chips, pb->n_chips, &x->load,
		                            &x->ops[pb->board]);
		if (rc < 0)
			x->ops[pb->board].status = rc;
	}
	settle(x, "writing tables and PE data");
	cli_progress_end(x->c);
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		struct plan_board *pb = &x->plan->boards[i];
		if (x->failed[pb->board])
			continue;
		x->bytes += x->ops[pb->board].total;
		s2_op_init(&x->ops[pb->board], NULL, NULL);
		int rc = s2_app_activate_start(x->s.eth[pb->board], pb->chips, pb->n_chips,
		                               &x->ops[pb->board]);
		if (rc < 0)
			x->ops[pb->board].status = rc;
	}
	settle(x, "loading");
	for (unsigned i = 0; i < x->plan->n_boards; i++)
		s2_app_release(x->plan->boards[i].chips, x->plan->boards[i].n_chips);
	/* The PEs expand their synapses: wait until every board has loaded everything. */
	struct s2_msg_app_status *st = calloc(x->s.n, sizeof *st);
	/* Deadline: every board must finish at least one more PE within --stall-timeout, so
	 * the wait is bounded by the work (PEs to expand) times the stall limit. */
	uint32_t *pend = calloc(x->s.n + 1, sizeof *pend);
	double *moved = calloc(x->s.n + 1, sizeof *moved);
	for (unsigned i = 0; pend && moved && i < x->plan->n_boards; i++) {
		pend[x->plan->boards[i].board] = UINT32_MAX;
		moved[x->plan->boards[i].board] = now_s();
	}
	for (bool busy = st && pend && moved; busy;) {
		busy = false;
		for (unsigned i = 0; i < x->plan->n_boards; i++) {
			unsigned b = x->plan->boards[i].board;
			if (x->failed[b])
				continue;
			s2_op_init(&x->ops[b], NULL, NULL);
			s2_app_status_start(x->s.eth[b], &st[b], &x->ops[b]);
		}
		settle(x, "APP_STATUS while loading");
		uint64_t loaded = 0;
		for (unsigned i = 0; i < x->plan->n_boards; i++) {
			unsigned b = x->plan->boards[i].board;
			if (x->failed[b])
				continue;
			loaded += st[b].pes;
			if (st[b].state == S2_APP_LOADING) {
				double now = now_s();
				if (st[b].pending < pend[b]) {
					pend[b] = st[b].pending;
					moved[b] = now;
				}
				if (now - moved[b] > x->stall_s) {
					x->failed[b] = S2_E_TIMEOUT;
					snprintf(x->what[b], sizeof x->what[b],
					         "loading: no PE finished expanding its synapses "
					         "for "
					         "%.0f s (%u PE loads pending; --stall-timeout)",
					         x->stall_s, st[b].pending);
				} else {
					busy = true;
				}
			} else if (st[b].state == S2_APP_FAILED) {
				x->failed[b] = st[b].load_error ? st[b].load_error : S2_E_STATE;
				snprintf(x->what[b], sizeof x->what[b],
				         "loading: chip %u PE %u refused its PE data",
				         st[b].load_chip, st[b].load_pe);
			} else if (st[b].pes != x->plan->boards[i].pes) {
				x->failed[b] = S2_E_STATE;
				snprintf(x->what[b], sizeof x->what[b],
				         "loading: %u of %llu PEs loaded", st[b].pes,
				         (unsigned long long)x->plan->boards[i].pes);
			}
		}
		cli_progress(x->c, "expand", loaded, x->plan->pes);
		if (busy) {
			struct timespec ts = {0, 20 * 1000 * 1000}; /* status poll interval */
			nanosleep(&ts, NULL);
		}
	}
	cli_progress_end(x->c);
	free(st);
	free(pend);
	free(moved);
	x->t_dep_end = now_s();
	x->t_deploy = x->t_dep_end - t0;
	erec_host_now(&x->h_dep_end);
}

static int open_ctx(struct ctx *x, struct cli *c, const char *image)
{
	memset(x, 0, sizeof *x);
	x->c = c;
	char err[512];
	if (!(x->plan = plan_load(image, err, sizeof err)))
		return cli_error(c, EXIT_INPUT, "%s", err);
	int ec = session_open(&x->s, c, true, false);
	if (ec)
		return ec;
	/* Board numbers are checked (below) before any datagram is sent; then the lease. */
	x->ops = calloc(x->s.n, sizeof *x->ops);
	x->failed = calloc(x->s.n, sizeof *x->failed);
	x->what = calloc(x->s.n, sizeof *x->what);
	if (!x->ops || !x->failed || !x->what)
		return cli_error(c, EXIT_FAIL, "out of memory");
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (b >= x->s.n)
			return cli_error(
			        c, EXIT_INPUT,
			        "%s: board %u is not in the machine description (%u boards)", image,
			        b, x->s.n);
		if (!x->s.sel[b])
			return cli_error(c, EXIT_USAGE,
			                 "board %u holds part of the network: --boards "
			                 "must include it",
			                 b);
	}
	/* Lease only the boards that hold part of the network; the others stay free. */
	bool *in_plan = calloc(x->s.n + 1, sizeof *in_plan);
	if (!in_plan)
		return cli_error(c, EXIT_FAIL, "out of memory");
	for (unsigned i = 0; i < x->plan->n_boards; i++)
		in_plan[x->plan->boards[i].board] = true;
	for (unsigned b = 0; b < x->s.n; b++)
		x->s.sel[b] = x->s.sel[b] && in_plan[b];
	free(in_plan);
	return session_lease(&x->s);
}

static void close_ctx(struct ctx *x)
{
	free(x->ops);
	free(x->failed);
	free(x->what);
	plan_free(x->plan);
	session_close(&x->s);
}

/* Report failed boards; exit code. */
static int failures(struct ctx *x)
{
	unsigned bad = 0;
	int worst = 0;
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (!x->failed[b])
			continue;
		bad++;
		worst = x->failed[b];
		char line[300];
		cli_conn_summary(x->s.eth[b], line, sizeof line);
		fprintf(stderr, "s2ctl %s: board %u failed at %s: %s (%s)\n", x->c->verb, b,
		        x->what[b], s2_strerror(x->failed[b]), line);
	}
	return bad == 0 ? EXIT_OK : cli_exit_for(worst);
}

/* Recording regions sized for a run of steps (the spikes bitmap and the voltages of every
 * step, capped by the PE's share of the recording area). */
static void size_recordings(struct ctx *x, uint32_t steps)
{
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		struct plan_board *pb = &x->plan->boards[i];
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				const struct plan_pe_info *in = &pb->info[ch][q];
				/* the spike region always: its header holds the clipping counters
				 */
				uint64_t sp =
				        S2_REC_HDR_LEN +
				        (in->rec_spikes ? (uint64_t)steps * ((in->n + 7) / 8) : 0);
				uint64_t vv = in->n_vrec ? S2_REC_HDR_LEN +
				                                   (uint64_t)steps * in->n_vrec * 4
				                         : 0;
				uint32_t cap = s2_app_area(q, pb->chips[ch].n_pes).rec_max;
				pb->chips[ch].pes[q].rec_size[0] = (uint32_t)(sp > cap ? cap : sp);
				pb->chips[ch].pes[q].rec_size[1] = (uint32_t)(vv > cap ? cap : vv);
			}
	}
}

/* run --deployed: every board must hold the image's application, loaded (or done). */
static void check_deployed(struct ctx *x)
{
	struct s2_msg_app_status *st = calloc(x->s.n, sizeof *st);
	if (!st) {
		for (unsigned i = 0; i < x->plan->n_boards; i++)
			x->failed[x->plan->boards[i].board] = S2_E_NOMEM;
		return;
	}
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		s2_op_init(&x->ops[b], NULL, NULL);
		s2_app_status_start(x->s.eth[b], &st[b], &x->ops[b]);
	}
	settle(x, "APP_STATUS");
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		if (x->failed[b])
			continue;
		if ((st[b].state != S2_APP_LOADED && st[b].state != S2_APP_DONE) ||
		    st[b].pes != x->plan->boards[i].pes) {
			x->failed[b] = S2_E_STATE;
			snprintf(x->what[b], sizeof x->what[b],
			         "--deployed: the board holds %u PEs in state %u, not the image's "
			         "%llu PEs loaded (s2ctl deploy it first)",
			         st[b].pes, st[b].state,
			         (unsigned long long)x->plan->boards[i].pes);
		}
	}
	free(st);
}

int verb_deploy(int argc, char **argv)
{
	static const struct option extra[] = {{"duration", required_argument, 0, 256},
	                                      {"stall-timeout", required_argument, 0, 261},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct run_opts o = {0};
	int pos = cli_parse(&c, "deploy", argc, argv, extra, run_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "deploy takes one IMAGE (see --help)");
	double dur = -1, stall;
	if ((o.duration && parse_duration(&c, o.duration, &dur) < 0) ||
	    parse_stall(&c, o.stall, &stall) < 0)
		return EXIT_USAGE;
	struct ctx x;
	int ec = open_ctx(&x, &c, argv[pos]);
	x.stall_s = stall;
	if (!ec) {
		if (dur < 0)
			dur = x.plan->run_ms;
		size_recordings(&x, (uint32_t)llround(dur / x.plan->dt_ms));
		deploy(&x);
		ec = failures(&x);
		if (c.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_flag(&j, "ok", ec == EXIT_OK);
			json_uint(&j, "boards", x.plan->n_boards);
			json_uint(&j, "pes", x.plan->pes);
			json_uint(&j, "bytes", x.bytes);
			json_num(&j, "seconds", x.t_deploy);
			json_uint(&j, "wire_bytes", x.load.bytes_data + x.load.bytes_sack);
			json_uint(&j, "retransmits", x.load.retransmits);
			json_end_obj(&j);
			json_finish(&j);
		} else if (!c.quiet && ec == EXIT_OK) {
			printf("deployed %llu PEs on %u boards: %.2f MiB of tables and PE data in "
			       "%.3f s "
			       "(%.2f MiB on the wire, compressed; %llu blocks sent again)\n",
			       (unsigned long long)x.plan->pes, x.plan->n_boards,
			       (double)x.load.bytes_raw / (1 << 20), x.t_deploy,
			       (double)(x.load.bytes_data + x.load.bytes_sack) / (1 << 20),
			       (unsigned long long)x.load.retransmits);
		}
	}
	close_ctx(&x);
	return ec;
}

_Static_assert((int)RES_CLIP_INPUT == (int)S2_CLIP_INPUT &&
                       (int)RES_CLIP_WZERO == (int)S2_CLIP_WZERO &&
                       (int)RES_CLIP_WMAX == (int)S2_CLIP_WMAX &&
                       (int)RES_CLIP_DELAY == (int)S2_CLIP_DELAY,
               "results and recording headers count the same causes");

/* The populations of a results set, for `run` and `results`: spikes and rate (or "not
 * recorded"), voltage traces, and every clipping counter that is not zero. Returns the
 * total of the clipping counters. */
static uint64_t print_pops(const struct results *r, double secs, struct json *j, bool vtraces)
{
	uint64_t total = 0;
	if (j)
		json_arr(j, "populations");
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct results_pop *P = &r->pops[p];
		/* A partial run has no duration to divide by: its spikes, but no rate. */
		bool has_rate = r->complete && P->spikes_recorded;
		double rate = P->size && secs > 0 ? (double)P->n_spikes / P->size / secs : 0;
		uint64_t any = 0;
		for (unsigned k = 0; k < RES_CLIPS; k++)
			any += P->clip[k];
		total += any;
		if (j) {
			json_obj(j, NULL);
			json_str(j, "label", P->label);
			json_uint(j, "size", P->size);
			json_flag(j, "spikes_recorded", P->spikes_recorded);
			if (P->spikes_recorded) {
				json_uint(j, "spikes", P->n_spikes);
				if (has_rate)
					json_num(j, "rate_hz", rate);
				else
					json_null(j, "rate_hz");
			} else {
				json_null(j, "spikes");
				json_null(j, "rate_hz");
			}
			if (vtraces)
				json_uint(j, "voltage_traces", P->n_vrec);
			if (r->has_clips) {
				json_obj(j, "clipped");
				for (unsigned k = 0; k < RES_CLIPS; k++)
					json_uint(j, results_clip_names[k], P->clip[k]);
				json_end_obj(j);
			}
			json_end_obj(j);
			continue;
		}
		if (has_rate)
			printf("  %-12s %8u neurons %10llu spikes %8.2f Hz", P->label, P->size,
			       (unsigned long long)P->n_spikes, rate);
		else if (P->spikes_recorded)
			printf("  %-12s %8u neurons %10llu spikes (partial run: no rate)", P->label,
			       P->size, (unsigned long long)P->n_spikes);
		else
			printf("  %-12s %8u neurons %30s", P->label, P->size,
			       "spikes not recorded");
		if (vtraces)
			printf(" %4u voltage traces", P->n_vrec);
		printf("\n");
		for (unsigned k = 0; any && k < RES_CLIPS; k++)
			if (P->clip[k])
				printf("  %-12s   CLIPPED: %s %llu\n", P->label,
				       results_clip_names[k], (unsigned long long)P->clip[k]);
	}
	if (j)
		json_end_arr(j);
	return total;
}

/* Read every PE's recordings back (both streams, all boards in parallel) into res. */
static int collect(struct ctx *x, struct results *res)
{
	struct s2_app_rec **recs[2];
	recs[0] = calloc(x->plan->n_boards + 1, sizeof *recs[0]);
	recs[1] = calloc(x->plan->n_boards + 1, sizeof *recs[1]);
	int rc = recs[0] && recs[1] ? 0 : S2_E_NOMEM;
	for (unsigned s = 0; rc == 0 && s < 2; s++)
		for (unsigned i = 0; i < x->plan->n_boards; i++)
			if (!(recs[s][i] = calloc(x->plan->boards[i].pes + 1, sizeof *recs[s][i])))
				rc = S2_E_NOMEM;
	if (rc) {
		for (unsigned s = 0; s < 2; s++)
			for (unsigned i = 0; recs[s] && i < x->plan->n_boards; i++)
				free(recs[s][i]);
		free(recs[0]);
		free(recs[1]);
		return rc;
	}
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned i = 0; i < x->plan->n_boards; i++) {
			struct plan_board *pb = &x->plan->boards[i];
			if (x->failed[pb->board])
				continue;
			s2_op_init(&x->ops[pb->board], NULL, NULL);
			s2_app_rec_head_start(x->s.eth[pb->board], pb->chips, pb->n_chips, s,
			                      recs[s][i], &x->ops[pb->board]);
		}
		settle(x, "reading recording headers");
		/* A board keeps a limited number of transfers open: waves of 32 per board. */
		size_t *cursor = calloc(x->plan->n_boards + 1, sizeof *cursor);
		if (!cursor)
			rc = S2_E_NOMEM;
		for (bool more = cursor != NULL; more;) {
			more = false;
			for (unsigned i = 0; i < x->plan->n_boards; i++) {
				struct plan_board *pb = &x->plan->boards[i];
				if (!recs[s][i] || x->failed[pb->board])
					continue;
				s2_op_init(&x->ops[pb->board], NULL, NULL);
				int r2 = s2_app_rec_data_start(x->s.eth[pb->board], pb->chips,
				                               pb->n_chips, s, recs[s][i], &x->rec,
				                               &cursor[i], 32, &x->ops[pb->board]);
				if (r2 < 0)
					x->ops[pb->board].status = r2;
				else if (r2 > 0)
					more = true;
			}
			settle(x, "reading recordings");
		}
		free(cursor);
	}
	for (unsigned i = 0; i < x->plan->n_boards; i++) {
		struct plan_board *pb = &x->plan->boards[i];
		size_t k = 0;
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++, k++) {
				const struct plan_pe_info *in = &pb->info[ch][q];
				struct s2_app_rec *sp = recs[0][i] ? &recs[0][i][k] : NULL;
				struct s2_app_rec *vv = recs[1][i] ? &recs[1][i][k] : NULL;
				if (!x->failed[pb->board] && in->pop < res->n_pops) {
					struct results_pop *P = &res->pops[in->pop];
					P->spikes_recorded |= in->rec_spikes != 0;
					for (unsigned c = 0; sp && c < RES_CLIP_RECLOST; c++)
						P->clip[c] += s2_app_rec_clip(sp, c);
					P->clip[RES_CLIP_RECLOST] +=
					        (sp ? sp->hdr[1] : 0) + (vv ? vv->hdr[1] : 0);
				}
				if (!x->failed[pb->board] && rc == 0)
					rc = results_add_pe(
					        res, in->pop, in->lo, in->n, sp ? sp->data : NULL,
					        sp ? sp->hdr[0] : 0, in->n_vrec, in->vrec,
					        vv ? vv->data : NULL, vv ? vv->hdr[0] : 0);
				if (sp)
					free(sp->data);
				if (vv)
					free(vv->data);
			}
		free(recs[0][i]);
		free(recs[1][i]);
	}
	free(recs[0]);
	free(recs[1]);
	return rc;
}

int verb_run(int argc, char **argv)
{
	static const struct option extra[] = {{"duration", required_argument, 0, 256},
	                                      {"realtime", no_argument, 0, 257},
	                                      {"output", required_argument, 0, 'o'},
	                                      {"deployed", no_argument, 0, 258},
	                                      {"energy", required_argument, 0, 259},
	                                      {"energy-every", required_argument, 0, 260},
	                                      {"stall-timeout", required_argument, 0, 261},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct run_opts o = {0};
	int pos = cli_parse(&c, "run", argc, argv, extra, run_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "run takes one IMAGE (see --help)");
	double dur = -1, stall;
	if ((o.duration && parse_duration(&c, o.duration, &dur) < 0) ||
	    parse_stall(&c, o.stall, &stall) < 0)
		return EXIT_USAGE;
	const char *out = o.out ? o.out : "run.s2res";
	unsigned long every = 100;
	if (o.energy_every &&
	    (cli_uint(&c, "--energy-every", o.energy_every, 1000000, &every) < 0 || !every))
		return cli_error(&c, EXIT_USAGE, "--energy-every: a number of steps, at least 1");
	struct ctx x;
	int ec = open_ctx(&x, &c, argv[pos]);
	x.stall_s = stall;
	if (ec) {
		close_ctx(&x);
		return ec;
	}
	if (dur < 0)
		dur = x.plan->run_ms;
	uint32_t steps = (uint32_t)llround(dur / x.plan->dt_ms);
	size_recordings(&x, steps);
	if (o.deployed)
		check_deployed(&x);
	else
		deploy(&x);
	if (!live(&x)) {
		ec = failures(&x);
		close_ctx(&x);
		return ec;
	}
	if (!c.quiet && !c.json && !o.deployed)
		fprintf(stderr, "deployed %llu PEs on %u boards in %.3f s\n",
		        (unsigned long long)x.plan->pes, x.plan->n_boards, x.t_deploy);
	/* The energy record: every chip's counters every --energy-every steps. */
	struct erec *er = NULL;
	if (o.energy) {
		char eerr[512];
		if (!(er = erec_start(&x.s, x.plan, (uint32_t)every, eerr, sizeof eerr))) {
			close_ctx(&x);
			return cli_error(&c, EXIT_FAIL, "--energy %s: %s", o.energy, eerr);
		}
	}
	/* Start every board; they begin together. */
	struct erec_host h_run0, h_run1, h_out0, h_out1;
	erec_host_now(&h_run0);
	double t0 = now_s();
	for (unsigned i = 0; i < x.plan->n_boards; i++) {
		unsigned b = x.plan->boards[i].board;
		if (x.failed[b])
			continue;
		s2_op_init(&x.ops[b], NULL, NULL);
		s2_app_run_start(x.s.eth[b], steps, o.realtime ? S2_APP_F_REALTIME : 0, &x.ops[b]);
	}
	settle(&x, "APP_RUN");
	struct s2_msg_app_status *st = calloc(x.s.n, sizeof *st);
	uint32_t *last = calloc(x.s.n + 1, sizeof *last); /* steps done, as last seen */
	double *moved = calloc(x.s.n + 1, sizeof *moved); /* when last seen to advance */
	if (!st || !last || !moved) {
		free(st);
		free(last);
		free(moved);
		close_ctx(&x);
		return cli_error(&c, EXIT_FAIL, "out of memory");
	}
	for (unsigned i = 0; i < x.plan->n_boards; i++)
		moved[x.plan->boards[i].board] = t0;
	/* A real-time run cannot go faster than biological time: its boards get that long
	 * before the stall limit applies to their first step. */
	double rt_s = o.realtime ? steps * x.plan->dt_ms / 1000.0 : 0;
	bool stopped_early = false; /* the live boards were stopped because one failed */
	/* Poll until every live board is done. A board that stops answering, that does not
	 * advance for --stall-timeout, or that leaves the run ends its part (bounded waits). */
	for (;;) {
		for (unsigned i = 0; i < x.plan->n_boards; i++) {
			unsigned b = x.plan->boards[i].board;
			if (x.failed[b] || st[b].state == S2_APP_DONE)
				continue;
			s2_op_init(&x.ops[b], NULL, NULL);
			s2_app_status_start(x.s.eth[b], &st[b], &x.ops[b]);
		}
		settle(&x, "APP_STATUS");
		bool all = true;
		uint64_t done = 0;
		double now = now_s();
		for (unsigned i = 0; i < x.plan->n_boards; i++) {
			unsigned b = x.plan->boards[i].board;
			if (x.failed[b])
				continue;
			if (st[b].steps_done > last[b] || st[b].state == S2_APP_DONE) {
				last[b] = st[b].steps_done;
				moved[b] = now;
			}
			uint8_t sb = st[b].state;
			if (sb != S2_APP_ARMED && sb != S2_APP_RUNNING && sb != S2_APP_DONE) {
				x.failed[b] = S2_E_STATE;
				snprintf(x.what[b], sizeof x.what[b],
				         "run: the board left the run at step %u of %u (state %u: "
				         "stopped or reset by someone else?)",
				         st[b].steps_done, steps, sb);
				continue;
			}
			if (sb != S2_APP_DONE &&
			    now - moved[b] > x.stall_s + (last[b] ? 0 : rt_s)) {
				x.failed[b] = S2_E_TIMEOUT;
				snprintf(x.what[b], sizeof x.what[b],
				         "run: no step for %.0f s at step %u of %u (the board "
				         "answers but does not advance; --stall-timeout)",
				         x.stall_s, last[b], steps);
				continue;
			}
			all &= sb == S2_APP_DONE;
			done += st[b].steps_done;
		}
		cli_progress(&c, "run", done, (uint64_t)steps * live(&x));
		if (all || !live(&x))
			break;
		if (live(&x) < x.plan->n_boards) {
			/* A board died: stop the others cleanly; their recordings stay in DRAM and
			 * are collected below. */
			for (unsigned i = 0; i < x.plan->n_boards; i++) {
				unsigned b = x.plan->boards[i].board;
				if (x.failed[b])
					continue;
				s2_op_init(&x.ops[b], NULL, NULL);
				s2_app_stop_start(x.s.eth[b], &x.ops[b]);
			}
			settle(&x, "APP_STOP after a board failed");
			stopped_early = true;
			if (!c.quiet)
				fprintf(stderr, "s2ctl run: a board failed; the others were "
				                "stopped and their results are kept, marked "
				                "partial\n");
			break;
		}
		struct timespec ts = {0, 20 * 1000 * 1000}; /* status poll interval */
		if (er)
			erec_pump(er, 0.02); /* the energy stream's packets, as they arrive */
		else
			nanosleep(&ts, NULL);
	}
	cli_progress_end(&c);
	double t_run = now_s() - t0;
	erec_host_now(&h_run1);
	if (er)
		erec_finish(er, 2.0);
	/* Boards that failed: stop the rest cleanly (they are done or stopped anyway). */
	struct results *res = calloc(1, sizeof *res);
	if (!res) {
		free(st);
		free(last);
		free(moved);
		close_ctx(&x);
		return cli_error(&c, EXIT_FAIL, "out of memory");
	}
	res->dt_ms = x.plan->dt_ms;
	res->steps = steps;
	res->has_clips = true;
	res->n_pops = x.plan->n_pops;
	res->pops = calloc(res->n_pops ? res->n_pops : 1, sizeof *res->pops);
	for (unsigned p = 0; res->pops && p < res->n_pops; p++) {
		res->pops[p].label = strdup(x.plan->pops[p].label);
		res->pops[p].size = x.plan->pops[p].size;
	}
	erec_host_now(&h_out0);
	double t1 = now_s();
	int rc = res->pops ? collect(&x, res) : S2_E_NOMEM;
	double t_collect = now_s() - t1;
	erec_host_now(&h_out1);
	char err[512];
	/* How each board's part ended: only a board that ran every step and whose recordings
	 * were read is complete; the results say so per board (docs/results.md). */
	bool complete = true;
	for (unsigned i = 0; rc == 0 && i < x.plan->n_boards; i++) {
		unsigned b = x.plan->boards[i].board;
		enum results_board_status bs = RESULTS_BOARD_COMPLETE;
		uint32_t at = steps;
		char why[RESULTS_REASON_MAX] = "";
		if (x.failed[b]) {
			bs = x.failed[b] == S2_E_TIMEOUT && !strstr(x.what[b], "--stall-timeout")
			             ? RESULTS_BOARD_NO_ANSWER
			             : RESULTS_BOARD_STOPPED;
			at = st[b].state == S2_APP_DONE ? steps : last[b];
			snprintf(why, sizeof why, "%s: %s", x.what[b], s2_strerror(x.failed[b]));
		} else if (st[b].state != S2_APP_DONE) {
			bs = RESULTS_BOARD_STOPPED;
			at = last[b];
			snprintf(why, sizeof why, "%s",
			         stopped_early ? "stopped by s2ctl run after another board failed"
			                       : "did not finish");
		}
		complete &= bs == RESULTS_BOARD_COMPLETE;
		rc = results_set_board_status(res, b, bs, at, bs ? why : NULL);
	}
	res->complete = complete;
	if (rc == 0 && results_write(res, out, err, sizeof err) < 0)
		rc = cli_error(&c, EXIT_FAIL, "%s", err);
	if (er) {
		if (!o.deployed) {
			erec_phase(er, "boot", &x.h_dep0, &x.h_boot_end);
			erec_phase(er, "load", &x.h_boot_end, &x.h_dep_end);
		}
		erec_phase(er, "run", &h_run0, &h_run1);
		erec_phase(er, "readout", &h_out0, &h_out1);
		struct erec_info info = {argv[pos],
		                         c.machine_path ? c.machine_path : getenv("S2_MACHINE"),
		                         cli_default_firmware(),
		                         x.booted,
		                         out,
		                         x.plan->network,
		                         x.plan->network_crc32,
		                         NULL};
		char pwhy[300];
		if (!complete) {
			results_partial_why(res, pwhy, sizeof pwhy);
			info.partial = pwhy;
		}
		if (erec_write(er, o.energy, &info, x.plan->dt_ms, steps, err, sizeof err) < 0 &&
		    rc == 0)
			rc = cli_error(&c, EXIT_FAIL, "%s", err);
		erec_free(er);
	}
	uint64_t events = 0, dropped = 0, unrouted = 0, lost = 0, spikes = 0, clipped = 0;
	for (unsigned i = 0; i < x.plan->n_boards; i++) {
		unsigned b = x.plan->boards[i].board;
		events += st[b].synaptic_events;
		dropped += st[b].packets_dropped + st[b].packets_unrouted;
		unrouted += st[b].packets_unrouted;
		lost += st[b].rec_lost;
		clipped += st[b].ring_saturated;
		spikes += st[b].spikes_sent;
	}
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "results", out);
		json_flag(&j, "complete", complete);
		json_arr(&j, "boards");
		for (unsigned i = 0; i < res->n_boards; i++) {
			json_obj(&j, NULL);
			json_uint(&j, "board", res->boards[i].board);
			json_str(&j, "status", results_status_name(res->boards[i].status));
			json_uint(&j, "last_step", res->boards[i].last_step);
			if (res->boards[i].reason[0])
				json_str(&j, "reason", res->boards[i].reason);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_num(&j, "deploy_seconds", x.t_deploy);
		json_num(&j, "run_seconds", t_run);
		json_num(&j, "collect_seconds", t_collect);
		json_num(&j, "biological_ms", dur);
		json_uint(&j, "steps", steps);
		json_uint(&j, "synaptic_events", events);
		json_uint(&j, "spikes", spikes);
		json_uint(&j, "packets_dropped", dropped);
		json_uint(&j, "packets_unrouted", unrouted);
		json_uint(&j, "inputs_clipped", clipped);
		uint64_t syn_clipped = 0;
		for (unsigned p = 0; p < res->n_pops; p++)
			syn_clipped += res->pops[p].clip[RES_CLIP_WZERO] +
			               res->pops[p].clip[RES_CLIP_WMAX] +
			               res->pops[p].clip[RES_CLIP_DELAY];
		json_uint(&j, "synapses_clipped", syn_clipped);
		json_uint(&j, "recording_bytes_lost", lost);
		json_uint(&j, "load_bytes", x.load.bytes_raw);
		json_uint(&j, "load_wire_bytes", x.load.bytes_data + x.load.bytes_sack);
		json_uint(&j, "recording_bytes", x.rec.bytes_raw);
		json_uint(&j, "recording_wire_bytes", x.rec.bytes_data + x.rec.bytes_sack);
		print_pops(res, dur / 1000, &j, false);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		if (complete) {
			printf("ran %g ms of biological time (%u steps) in %.3f s; %llu synaptic "
			       "events, %llu packets dropped, %llu recording bytes lost\n",
			       dur, steps, t_run, (unsigned long long)events,
			       (unsigned long long)dropped, (unsigned long long)lost);
		} else {
			char why[300];
			results_partial_why(res, why, sizeof why);
			printf("PARTIAL run: %s; what was recorded until then is kept, marked "
			       "partial (s2ctl results --allow-partial reads it)\n",
			       why);
		}
		print_pops(res, dur / 1000, NULL, false);
		printf("%s in %s\n", complete ? "results" : "partial results", out);
	}
	if (clipped && !c.quiet)
		fprintf(stderr,
		        "s2ctl run: %llu inputs were clipped: a neuron's input in one step "
		        "exceeded 65535 weight units of its receptor (docs/engine.md), or an event "
		        "layer's value or sum its fixed-point range (docs/egru.md); the run is not "
		        "what the network says\n",
		        (unsigned long long)clipped);
	uint64_t drawn = 0;
	for (unsigned p = 0; p < res->n_pops; p++)
		drawn += res->pops[p].clip[RES_CLIP_WZERO] + res->pops[p].clip[RES_CLIP_WMAX] +
		         res->pops[p].clip[RES_CLIP_DELAY];
	if (drawn && !c.quiet)
		fprintf(stderr,
		        "s2ctl run: %llu synapses drawn on the PEs had a weight or delay the "
		        "engine cannot hold (rounded to zero, or clamped; per population above, "
		        "docs/engine.md); the run is not what the network says\n",
		        (unsigned long long)drawn);
	results_free(res);
	free(st);
	free(last);
	free(moved);
	ec = failures(&x);
	if (!ec && !complete)
		ec = EXIT_FAIL; /* never a zero exit for a run that did not complete */
	if (!ec && rc)
		ec = rc < 0 ? cli_exit_for(rc) : rc;
	if (!ec && (dropped || lost) && !c.quiet)
		fprintf(stderr,
		        "s2ctl run: %llu packets dropped, %llu recording bytes lost (counted "
		        "above)\n",
		        (unsigned long long)dropped, (unsigned long long)lost);
	close_ctx(&x);
	return ec;
}

struct results_opts {
	const char *csv, *npy;
	bool allow_partial;
};

static int results_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct results_opts *o = ctx;
	if (id == 256)
		o->csv = arg;
	else if (id == 257)
		o->npy = arg;
	else if (id == 258)
		o->allow_partial = true;
	else
		return -1;
	return 0;
}

int verb_results(int argc, char **argv)
{
	static const struct option extra[] = {{"csv", required_argument, 0, 256},
	                                      {"npy", required_argument, 0, 257},
	                                      {"allow-partial", no_argument, 0, 258},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct results_opts o = {0};
	int pos = cli_parse(&c, "results", argc, argv, extra, results_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "results takes one FILE (see --help)");
	char err[512];
	int rrc;
	struct results *r = results_read(argv[pos], o.allow_partial ? RESULTS_ALLOW_PARTIAL : 0,
	                                 &rrc, err, sizeof err);
	if (!r)
		return cli_error(&c, rrc == S2_E_STATE ? EXIT_PARTIAL : EXIT_INPUT, "%s", err);
	char why[300] = "";
	if (!r->complete)
		results_partial_why(r, why, sizeof why);
	int ec = EXIT_OK;
	if (o.csv && results_export(r, o.csv, false, err, sizeof err) < 0)
		ec = cli_error(&c, EXIT_FAIL, "%s", err);
	if (!ec && o.npy && results_export(r, o.npy, true, err, sizeof err) < 0)
		ec = cli_error(&c, EXIT_FAIL, "%s", err);
	double secs = r->steps * r->dt_ms / 1000.0;
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_num(&j, "dt_ms", r->dt_ms);
		json_uint(&j, "steps", r->steps);
		json_flag(&j, "complete", r->complete);
		if (why[0])
			json_str(&j, "partial", why);
		json_arr(&j, "boards");
		for (unsigned b = 0; b < r->n_boards; b++) {
			json_obj(&j, NULL);
			json_uint(&j, "board", r->boards[b].board);
			json_str(&j, "status", results_status_name(r->boards[b].status));
			json_uint(&j, "last_step", r->boards[b].last_step);
			if (r->boards[b].reason[0])
				json_str(&j, "reason", r->boards[b].reason);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		print_pops(r, secs, &j, true);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		printf("%s: %u steps of %g ms (%g ms)%s%s\n", argv[pos], r->steps, r->dt_ms,
		       r->steps * r->dt_ms, why[0] ? "; PARTIAL RUN: " : "", why);
		print_pops(r, secs, NULL, true);
		if (!r->has_clips)
			printf("  (written before s2 counted clipping: no clipping counters)\n");
	}
	results_free(r);
	return ec;
}
