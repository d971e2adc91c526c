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
#include "s2/energy_record.h"
#include "s2/error.h"
#include "s2/plan.h"
#include "s2/results.h"
#include "s2/run.h"
#include "session.h"

struct run_opts {
	const char *duration, *out, *energy, *energy_every, *stall, *part;
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
	else if (id == 262)
		o->part = arg;
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

static int parse_ms(const struct cli *c, const char *opt, const char *arg, double *dur)
{
	char *end;
	*dur = strtod(arg, &end);
	if (*end || !(*dur > 0 && *dur <= 1e7)) {
		cli_error(c, EXIT_USAGE, "%s: '%s' is not a time in ms", opt, arg);
		return -1;
	}
	return 0;
}

static int parse_duration(const struct cli *c, const char *arg, double *dur)
{
	return parse_ms(c, "--duration", arg, dur);
}

/* What a deploy or run prints while it waits: progress bars, and the host's snapshots at the
 * phase boundaries for the energy record. */
struct ctx {
	struct cli *c;
	struct session s;
	struct s2_deployment *d;
	const struct s2_plan *plan;
	struct s2_energy_record *er;
	struct s2_energy_host h[4][2]; /* [enum s2_phase][begin, end] */
	bool seen[4];
};

static void progress_cb(void *arg, const char *what, uint64_t done, uint64_t total)
{
	struct ctx *x = arg;
	cli_progress(x->c, what, done, total);
}

static void phase_cb(void *arg, enum s2_phase ph, bool end)
{
	struct ctx *x = arg;
	s2_energy_host_now(&x->h[ph][end]);
	x->seen[ph] = true;
	/* each bar ends with its phase */
	if (end || ph == S2_PHASE_READOUT)
		cli_progress_end(x->c);
}

static void energy_cb(void *arg, const struct s2_energy_sample *e)
{
	struct ctx *x = arg;
	s2_energy_record_sample(x->er, e);
}

static void event_cb(void *arg, const struct s2_run_event *ev)
{
	struct ctx *x = arg;
	s2_energy_record_event(x->er, ev);
}

/* The image, the session, and the deployment with the boards leased: 0 or an exit code. */
static int open_ctx(struct ctx *x, struct cli *c, const char *image)
{
	memset(x, 0, sizeof *x);
	x->c = c;
	char err[512];
	struct s2_plan *plan = s2_plan_load(image, err, sizeof err);
	if (!plan)
		return cli_error(c, EXIT_INPUT, "%s", err);
	int ec = session_open(&x->s, c, true, false);
	if (ec) {
		s2_plan_free(plan);
		return ec;
	}
	int rc = s2_deployment_new(x->s.ls, plan, c->force, &x->d, err, sizeof err);
	if (rc == S2_E_BUSY || rc == S2_E_TIMEOUT || rc == S2_E_AUTH)
		return session_exit_for(rc); /* each board's refusal was said (session.c) */
	if (rc == S2_E_RANGE)
		return cli_error(c, EXIT_INPUT, "%s: %s", image, err);
	if (rc < 0)
		return cli_error(c, session_exit_for(rc), "%s", err);
	x->plan = s2_deployment_plan(x->d);
	return 0;
}

static void close_ctx(struct ctx *x)
{
	s2_deployment_free(x->d);
	session_close(&x->s);
}

/* Report failed boards; exit code. */
static int failures(struct ctx *x)
{
	unsigned bad = 0;
	int worst = 0;
	for (unsigned i = 0; x->d && i < x->plan->n_boards; i++) {
		unsigned b = x->plan->boards[i].board;
		const char *what;
		int code = s2_deployment_board_error(x->d, b, &what);
		if (!code)
			continue;
		bad++;
		worst = code;
		char line[300];
		cli_conn_summary(x->s.eth[b], line, sizeof line);
		fprintf(stderr, "s2ctl %s: board %u failed at %s: %s (%s)\n", x->c->verb, b, what,
		        s2_strerror(code), line);
	}
	return bad == 0 ? EXIT_OK : cli_exit_for(worst);
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
	double dur = 0, stall;
	if ((o.duration && parse_duration(&c, o.duration, &dur) < 0) ||
	    parse_stall(&c, o.stall, &stall) < 0)
		return EXIT_USAGE;
	struct ctx x;
	int ec = open_ctx(&x, &c, argv[pos]);
	if (!ec) {
		struct s2_run_callbacks cb = {
		        .progress = progress_cb, .phase = phase_cb, .arg = &x};
		struct s2_deploy_opts d = {.duration_ms = dur,
		                           .stall_s = stall,
		                           .firmware = cli_default_firmware(),
		                           .cb = &cb};
		(void)s2_deploy(x.d, &d, NULL, 0); /* each board's failure: below */
		ec = failures(&x);
		const struct s2_run_stats *rs = s2_deployment_stats(x.d);
		if (c.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_flag(&j, "ok", ec == EXIT_OK);
			json_uint(&j, "boards", x.plan->n_boards);
			json_uint(&j, "pes", x.plan->pes);
			json_uint(&j, "bytes", rs->bytes);
			json_num(&j, "seconds", rs->deploy_s);
			json_uint(&j, "wire_bytes", rs->load.bytes_data + rs->load.bytes_sack);
			json_uint(&j, "retransmits", rs->load.retransmits);
			json_end_obj(&j);
			json_finish(&j);
		} else if (!c.quiet && ec == EXIT_OK) {
			printf("deployed %llu PEs on %u boards: %.2f MiB of tables and PE data in "
			       "%.3f s "
			       "(%.2f MiB on the wire, compressed; %llu blocks sent again)\n",
			       (unsigned long long)x.plan->pes, x.plan->n_boards,
			       (double)rs->load.bytes_raw / (1 << 20), rs->deploy_s,
			       (double)(rs->load.bytes_data + rs->load.bytes_sack) / (1 << 20),
			       (unsigned long long)rs->load.retransmits);
		}
	}
	close_ctx(&x);
	return ec;
}

/* The populations of a results set, for `run` and `results`: spikes and rate (or "not
 * recorded"), voltage traces, and every clipping counter that is not zero. Returns the
 * total of the clipping counters. */
static uint64_t print_pops(const struct s2_results *r, double secs, struct json *j, bool vtraces)
{
	uint64_t total = 0;
	if (j)
		json_arr(j, "populations");
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct s2_results_pop *P = &r->pops[p];
		/* A partial run has no duration to divide by, and a population whose recording
		 * lost bytes has lost spikes of unknown times: its spikes, but no rate (a rate over
		 * the whole run would be too low and look right). */
		bool rec_lost = P->clip[S2_RES_CLIP_RECLOST] != 0;
		bool has_rate = r->complete && P->spikes_recorded && !rec_lost;
		double rate = P->size && secs > 0 ? (double)P->n_spikes / P->size / secs : 0;
		uint64_t any = 0;
		for (unsigned k = 0; k < S2_RES_CLIPS; k++)
			any += P->clip[k];
		any += P->plastic;
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
				for (unsigned k = 0; k < S2_RES_CLIPS; k++)
					json_uint(j, s2_results_clip_names[k], P->clip[k]);
				json_uint(j, "plastic", P->plastic);
				if (r->has_plastic_causes) {
					json_obj(j, "plastic_causes");
					for (unsigned k = 0; k < S2_RES_PLASTICS; k++)
						json_uint(j, s2_results_plastic_names[k],
						          P->plastic_cause[k]);
					json_end_obj(j);
				} else {
					json_null(j, "plastic_causes");
				}
				json_end_obj(j);
			}
			if (r->has_budget) { /* docs/engine.md "Real-time budget" */
				json_obj(j, "budget");
				json_uint(j, "steps_over", P->steps_over);
				json_num(j, "worst_step", (double)P->worst_permille / 1000.0);
				json_end_obj(j);
			} else {
				json_null(j, "budget");
			}
			json_end_obj(j);
			continue;
		}
		if (has_rate)
			printf("  %-12s %8u neurons %10llu spikes %8.2f Hz", P->label, P->size,
			       (unsigned long long)P->n_spikes, rate);
		else if (P->spikes_recorded)
			printf("  %-12s %8u neurons %10llu spikes (%s: no rate)", P->label, P->size,
			       (unsigned long long)P->n_spikes,
			       r->complete ? "recording incomplete" : "partial run");
		else
			printf("  %-12s %8u neurons %30s", P->label, P->size,
			       "spikes not recorded");
		if (vtraces)
			printf(" %4u voltage traces", P->n_vrec);
		printf("\n");
		for (unsigned k = 0; any && k < S2_RES_CLIPS; k++)
			if (P->clip[k])
				printf("  %-12s   CLIPPED: %s %llu\n", P->label,
				       s2_results_clip_names[k], (unsigned long long)P->clip[k]);
		for (unsigned k = 0; r->has_plastic_causes && k < S2_RES_PLASTICS; k++)
			if (P->plastic_cause[k])
				printf("  %-12s   CLIPPED: plastic %s %llu (%s; docs/engine.md)\n",
				       P->label, s2_results_plastic_names[k],
				       (unsigned long long)P->plastic_cause[k],
				       s2_results_plastic_whys[k]);
		if (P->steps_over)
			printf("  %-12s   OVER BUDGET: %llu PE-steps exceeded the real-time budget "
			       "(worst step %.2f times its budget; docs/engine.md)\n",
			       P->label, (unsigned long long)P->steps_over,
			       (double)P->worst_permille / 1000.0);
		if (P->plastic && !r->has_plastic_causes)
			printf("  %-12s   CLIPPED: plastic %llu (plasticity: weights rounded to 0 "
			       "or clipped, traces saturated, post spikes lost, early events; the "
			       "file keeps only their sum; docs/engine.md)\n",
			       P->label, (unsigned long long)P->plastic);
	}
	if (j)
		json_end_arr(j);
	return total;
}

/* Whether the run kept real time (JSON: null when the results do not know), and the
 * slow-down of its worst PE-step (1 or less when it did). */
static void json_real_time(struct json *j, const struct s2_results *r)
{
	double worst = 0;
	for (unsigned p = 0; p < r->n_pops; p++)
		if ((double)r->pops[p].worst_permille / 1000.0 > worst)
			worst = (double)r->pops[p].worst_permille / 1000.0;
	if (!r->has_budget) {
		json_null(j, "real_time");
		json_null(j, "slowdown");
		return;
	}
	json_flag(j, "real_time", !s2_results_over_budget(r));
	json_num(j, "slowdown", worst);
}

/* One line on the real-time budget when a step exceeded it (nothing otherwise). */
static void print_over_budget(FILE *f, const char *pre, const struct s2_results *r)
{
	if (!s2_results_over_budget(r))
		return;
	uint64_t over = 0, worst = 0;
	for (unsigned p = 0; p < r->n_pops; p++) {
		over += r->pops[p].steps_over;
		worst = r->pops[p].worst_permille > worst ? r->pops[p].worst_permille : worst;
	}
	fprintf(f,
	        "%sNOT REAL TIME: %llu PE-steps exceeded the PE's cycles per step (worst %.2f "
	        "times; per population above; docs/engine.md \"Real-time budget\"): a board "
	        "runs this network %.2f times slower than real time\n",
	        pre, (unsigned long long)over, (double)worst / 1000.0, (double)worst / 1000.0);
}

/* The run's summary line, JSON, and the warnings about what was clipped or lost. */
static void report_run(const struct cli *c, const struct s2_results *res,
                       const struct s2_run_stats *rs, const char *out, double dur)
{
	bool complete = res->complete;
	uint64_t drawn = 0, plastic = 0, cause[S2_RES_PLASTICS] = {0};
	for (unsigned p = 0; p < res->n_pops; p++) {
		drawn += res->pops[p].clip[S2_RES_CLIP_WZERO] +
		         res->pops[p].clip[S2_RES_CLIP_WMAX] + res->pops[p].clip[S2_RES_CLIP_DELAY];
		plastic += res->pops[p].plastic;
		for (unsigned k = 0; k < S2_RES_PLASTICS; k++)
			cause[k] += res->pops[p].plastic_cause[k];
	}
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "results", out);
		json_flag(&j, "complete", complete);
		json_arr(&j, "boards");
		for (unsigned i = 0; i < res->n_boards; i++) {
			json_obj(&j, NULL);
			json_uint(&j, "board", res->boards[i].board);
			json_str(&j, "status", s2_results_status_name(res->boards[i].status));
			json_uint(&j, "last_step", res->boards[i].last_step);
			if (res->boards[i].reason[0])
				json_str(&j, "reason", res->boards[i].reason);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_num(&j, "deploy_seconds", rs->deploy_s);
		json_num(&j, "run_seconds", rs->run_s);
		json_num(&j, "collect_seconds", rs->collect_s);
		json_num(&j, "biological_ms", dur);
		json_uint(&j, "steps", rs->steps);
		json_uint(&j, "parts", rs->parts);
		json_uint(&j, "synaptic_events", rs->synaptic_events);
		json_uint(&j, "spikes", rs->spikes_sent);
		json_uint(&j, "packets_dropped", rs->packets_dropped);
		json_uint(&j, "packets_unrouted", rs->packets_unrouted);
		json_uint(&j, "inputs_clipped", rs->inputs_clipped);
		json_uint(&j, "synapses_clipped", drawn);
		json_uint(&j, "recording_bytes_lost", rs->recording_lost);
		json_uint(&j, "load_bytes", rs->load.bytes_raw);
		json_uint(&j, "load_wire_bytes", rs->load.bytes_data + rs->load.bytes_sack);
		json_uint(&j, "recording_bytes", rs->rec.bytes_raw);
		json_uint(&j, "recording_wire_bytes", rs->rec.bytes_data + rs->rec.bytes_sack);
		json_real_time(&j, res);
		print_pops(res, dur / 1000, &j, false);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		if (complete) {
			char parts[80] = "";
			if (rs->parts > 1)
				snprintf(parts, sizeof parts,
				         " in %u parts (their recordings read back after each)",
				         rs->parts);
			printf("ran %g ms of biological time (%u steps)%s in %.3f s; %llu synaptic "
			       "events, %llu packets dropped, %llu recording bytes lost\n",
			       dur, rs->steps, parts, rs->run_s,
			       (unsigned long long)rs->synaptic_events,
			       (unsigned long long)rs->packets_dropped,
			       (unsigned long long)rs->recording_lost);
		} else {
			char why[300];
			s2_results_partial_why(res, why, sizeof why);
			printf("PARTIAL run: %s; what was recorded until then is kept, marked "
			       "partial (s2ctl results --allow-partial reads it)\n",
			       why);
		}
		print_pops(res, dur / 1000, NULL, false);
		print_over_budget(stdout, "", res);
		printf("%s in %s\n", complete ? "results" : "partial results", out);
	}
	if (c->json && !c->quiet)
		print_over_budget(stderr, "s2ctl run: ", res);
	if (rs->inputs_clipped && !c->quiet)
		fprintf(stderr,
		        "s2ctl run: %llu inputs were clipped: a neuron's input in one step "
		        "exceeded 65535 weight units of its receptor (docs/engine.md), or an event "
		        "layer's value or sum its fixed-point range (docs/egru.md); the run is not "
		        "what the network says\n",
		        (unsigned long long)rs->inputs_clipped);
	if (drawn && !c->quiet)
		fprintf(stderr,
		        "s2ctl run: %llu synapses drawn on the PEs had a weight or delay the "
		        "engine cannot hold (rounded to zero, or clamped; per population above, "
		        "docs/engine.md); the run is not what the network says\n",
		        (unsigned long long)drawn);
	if (plastic && !c->quiet) {
		char by[200] = "";
		size_t n = 0;
		for (unsigned k = 0; k < S2_RES_PLASTICS && n < sizeof by; k++)
			if (cause[k])
				n += (size_t)snprintf(by + n, sizeof by - n, "%s%s %llu",
				                      n ? ", " : "", s2_results_plastic_names[k],
				                      (unsigned long long)cause[k]);
		fprintf(stderr,
		        "s2ctl run: plasticity counted %llu values it could not hold (%s: weights "
		        "delivered rounded to zero units or clipped, traces saturated, post spikes "
		        "gone from the 16-spike history, axonal events applied early; per "
		        "population above, docs/engine.md); the run is not what the network says\n",
		        (unsigned long long)plastic, by);
	}
}

/* Write the energy record of the run (--energy). 0 or an exit code after a message. */
static int write_energy(struct ctx *x, const char *image, const char *path, const char *out,
                        const struct s2_results *res, bool deployed)
{
	static const char *const names[] = {"boot", "load", "run", "readout"};
	for (unsigned ph = 0; ph < 4; ph++)
		if (x->seen[ph] && (ph >= S2_PHASE_RUN || !deployed))
			s2_energy_record_phase(x->er, names[ph], &x->h[ph][0], &x->h[ph][1]);
	s2_energy_record_stream_stats(x->er, &s2_deployment_stats(x->d)->stream);
	struct s2_energy_record_info info = {image,
	                                     x->c->machine_path ? x->c->machine_path
	                                                        : getenv("S2_MACHINE"),
	                                     cli_default_firmware(),
	                                     s2_deployment_stats(x->d)->booted,
	                                     out,
	                                     x->plan->network,
	                                     x->plan->network_crc32,
	                                     NULL};
	char pwhy[300], err[512];
	if (res && !res->complete) {
		s2_results_partial_why(res, pwhy, sizeof pwhy);
		info.partial = pwhy;
	} else if (!res) {
		info.partial = "no results: the run failed before its recordings were read";
	}
	if (s2_energy_record_write(x->er, path, &info, x->plan->dt_ms,
	                           s2_deployment_stats(x->d)->steps, err, sizeof err) < 0)
		return cli_error(x->c, EXIT_FAIL, "%s", err);
	return 0;
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
	                                      {"part-ms", required_argument, 0, 262},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct run_opts o = {0};
	int pos = cli_parse(&c, "run", argc, argv, extra, run_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "run takes one IMAGE (see --help)");
	double dur = 0, stall, part = 0;
	if ((o.duration && parse_duration(&c, o.duration, &dur) < 0) ||
	    (o.part && parse_ms(&c, "--part-ms", o.part, &part) < 0) ||
	    parse_stall(&c, o.stall, &stall) < 0)
		return EXIT_USAGE;
	const char *out = o.out ? o.out : "run.s2res";
	unsigned long every = 100;
	if (o.energy_every &&
	    (cli_uint(&c, "--energy-every", o.energy_every, 1000000, &every) < 0 || !every))
		return cli_error(&c, EXIT_USAGE, "--energy-every: a number of steps, at least 1");
	struct ctx x;
	int ec = open_ctx(&x, &c, argv[pos]);
	if (ec) {
		close_ctx(&x);
		return ec;
	}
	if (dur <= 0)
		dur = x.plan->run_ms;
	struct s2_run_callbacks cb = {.progress = progress_cb, .phase = phase_cb, .arg = &x};
	if (o.deployed) {
		(void)s2_deployment_check_loaded(x.d, dur, NULL, 0);
	} else {
		struct s2_deploy_opts d = {.duration_ms = dur,
		                           .stall_s = stall,
		                           .firmware = cli_default_firmware(),
		                           .cb = &cb};
		(void)s2_deploy(x.d, &d, NULL, 0);
	}
	if (!s2_deployment_live_boards(x.d)) {
		ec = failures(&x);
		close_ctx(&x);
		return ec;
	}
	if (!c.quiet && !c.json && !o.deployed)
		fprintf(stderr, "deployed %llu PEs on %u boards in %.3f s\n",
		        (unsigned long long)x.plan->pes, x.plan->n_boards,
		        s2_deployment_stats(x.d)->deploy_s);
	/* The energy record: every chip's counters every --energy-every steps. */
	if (o.energy) {
		char eerr[512];
		if (!(x.er = s2_energy_record_start(x.s.ls, x.plan, (uint32_t)every, eerr,
		                                    sizeof eerr))) {
			close_ctx(&x);
			return cli_error(&c, EXIT_FAIL, "--energy %s: %s", o.energy, eerr);
		}
		cb.energy = energy_cb;
		cb.event = event_cb;
	}
	struct s2_run_opts ro = {.duration_ms = dur,
	                         .stall_s = stall,
	                         .realtime = o.realtime,
	                         .energy_every = (uint32_t)every,
	                         .cb = &cb,
	                         .part_ms = part};
	char err[512];
	struct s2_results *res = NULL;
	int rc = s2_run(x.d, &ro, &res, err, sizeof err);
	cli_progress_end(&c);
	if (rc < 0 && !res) {
		/* nothing to write: say why (a board's failure is said below) */
		if (!failures(&x))
			cli_error(&c, cli_exit_for(rc), "%s", err);
	}
	if (res && !res->complete && !c.quiet && rc != 0 && s2_deployment_live_boards(x.d))
		fprintf(stderr, "s2ctl run: a board failed; the others were stopped and their "
		                "results are kept, marked partial\n");
	int wrc = 0;
	if (res && s2_results_write(res, out, err, sizeof err) < 0)
		wrc = cli_error(&c, EXIT_FAIL, "%s", err);
	if (x.er) {
		int erc = write_energy(&x, argv[pos], o.energy, out, res, o.deployed);
		if (!wrc)
			wrc = erc;
		s2_energy_record_free(x.er);
	}
	const struct s2_run_stats *rs = s2_deployment_stats(x.d);
	if (res)
		report_run(&c, res, rs, out, dur);
	bool complete = res && res->complete;
	s2_results_free(res);
	ec = failures(&x);
	if (!ec && !complete)
		ec = rc < 0 && rc != S2_E_STATE ? cli_exit_for(rc) : EXIT_FAIL;
	if (!ec && wrc)
		ec = wrc;
	if (!ec && (rs->packets_dropped || rs->recording_lost) && !c.quiet)
		fprintf(stderr,
		        "s2ctl run: %llu packets dropped, %llu recording bytes lost (counted "
		        "above)\n",
		        (unsigned long long)rs->packets_dropped,
		        (unsigned long long)rs->recording_lost);
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
	struct s2_results *r = s2_results_read(
	        argv[pos], o.allow_partial ? S2_RESULTS_ALLOW_PARTIAL : 0, &rrc, err, sizeof err);
	if (!r)
		return cli_error(&c, rrc == S2_E_STATE ? EXIT_PARTIAL : EXIT_INPUT, "%s", err);
	char why[300] = "";
	if (!r->complete)
		s2_results_partial_why(r, why, sizeof why);
	int ec = EXIT_OK;
	if (o.csv && s2_results_export(r, o.csv, false, err, sizeof err) < 0)
		ec = cli_error(&c, EXIT_FAIL, "%s", err);
	if (!ec && o.npy && s2_results_export(r, o.npy, true, err, sizeof err) < 0)
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
			json_str(&j, "status", s2_results_status_name(r->boards[b].status));
			json_uint(&j, "last_step", r->boards[b].last_step);
			if (r->boards[b].reason[0])
				json_str(&j, "reason", r->boards[b].reason);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_real_time(&j, r);
		print_pops(r, secs, &j, true);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		printf("%s: %u steps of %g ms (%g ms)%s%s\n", argv[pos], r->steps, r->dt_ms,
		       r->steps * r->dt_ms, why[0] ? "; PARTIAL RUN: " : "", why);
		print_pops(r, secs, NULL, true);
		print_over_budget(stdout, "", r);
		if (!r->has_clips)
			printf("  (written before s2 counted clipping: no clipping counters)\n");
		if (!r->has_budget)
			printf("  (written before s2 counted the real-time budget: not known "
			       "whether "
			       "the run kept real time)\n");
	}
	s2_results_free(r);
	return ec;
}
