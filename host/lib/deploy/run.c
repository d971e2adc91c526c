/*
 * Deploying and running a network image (run.h): the orchestration s2ctl deploy and run,
 * pyNN.s2 and host applications share. Every step is started on every board at once and
 * waited for together (s2_client_wait); a board that fails is recorded with the step and the
 * reason and left out of what follows, so one dead board never hangs the others and never
 * makes a partial run read as complete.
 */
#include "s2/run.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "s2/app.h"
#include "s2/bulk.h"
#include "s2/error.h"
#include "s2/fwident.h"
#include "s2/key.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/pedata.h"
#include "s2/wire.h"

#define STALL_DEFAULT_S 60.0
#define POLL_NS (20 * 1000 * 1000) /* status poll interval */

struct s2_deployment {
	struct s2_session *s;
	struct s2_plan *plan;
	unsigned n;        /* boards in the machine */
	struct s2_op *ops; /* [n] */
	int *failed;       /* [n]: first error */
	char (*what)[160]; /* [n] */
	uint32_t sized_steps;
	uint32_t fit_steps; /* the steps every PE's recording regions hold (UINT32_MAX: any) */
	/* s2_run() runs in parts; the part running is the first, the last */
	bool in_parts, first_part, last_part;
	uint64_t steps_run; /* steps run since the deployment was loaded, by completed runs */
	bool resumable;     /* the last s2_run() completed on every board */
	bool ran;      /* a run was started since loading: the PEs are no longer at t = 0 and their
	                  recordings hold that run's (only a resumed run may follow) */
	uint8_t **upd; /* [plan->pes] PE data given by s2_deployment_update (owned), or NULL */
	double stall_s;
	const struct s2_run_callbacks *cb;
	struct s2_run_stats stats;
	/* the live stream of a run */
	struct s2_stream *st;
	uint32_t stream_id, stream_flags, n_streams;
	bool *ended; /* [n] a board's end event arrived */
	struct s2_run_callbacks user;
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(const struct s2_deployment *d, const char *what, uint64_t done, uint64_t total)
{
	if (d->cb && d->cb->progress)
		d->cb->progress(d->cb->arg, what, done, total);
}

static void phase(const struct s2_deployment *d, enum s2_phase ph, bool end)
{
	/* A run in parts is one run phase, from the first part's start to the last one's end
	 * (the readouts between parts within it), then the last part's readout. */
	if (d->in_parts && ((ph == S2_PHASE_RUN && (end ? !d->last_part : !d->first_part)) ||
	                    (ph == S2_PHASE_READOUT && !d->last_part)))
		return;
	if (d->cb && d->cb->phase)
		d->cb->phase(d->cb->arg, ph, end);
}

static struct s2_conn *eth(const struct s2_deployment *d, unsigned b)
{
	return s2_session_eth(d->s)[b];
}

/* Wait for the ops of every live plan board; record failures. */
static void settle(struct s2_deployment *d, const char *step)
{
	s2_client_wait(s2_session_client(d->s));
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (!d->failed[b] && d->ops[b].status) {
			d->failed[b] = d->ops[b].status;
			if (strcmp(step, d->ops[b].what))
				snprintf(d->what[b], sizeof d->what[b], "%s: %s", step,
				         d->ops[b].what);
			else
				snprintf(d->what[b], sizeof d->what[b], "%s", step);
			if (d->ops[b].status == S2_E_LENGTH &&
			    !strcmp(d->ops[b].what, "APP_LOAD")) /* protocol 4.15, rec_hdr */
				snprintf(d->what[b] + strlen(d->what[b]),
				         sizeof d->what[b] - strlen(d->what[b]),
				         " (the board's firmware is older than this s2: it keeps a "
				         "shorter recording header; boot it with this s2's)");
			else if (d->ops[b].status == S2_E_RANGE &&
			         !strcmp(d->ops[b].what,
			                 "APP_LOAD")) /* rec_hdr 96 to an 80-byte s2 */
				snprintf(d->what[b] + strlen(d->what[b]),
				         sizeof d->what[b] - strlen(d->what[b]),
				         " (a board whose firmware keeps the 80-byte recording "
				         "header "
				         "of an older s2 refuses this s2's 96 bytes so; boot it "
				         "with "
				         "this s2's)");
		}
	}
}

unsigned s2_deployment_live_boards(const struct s2_deployment *d)
{
	unsigned n = 0;
	for (unsigned i = 0; i < d->plan->n_boards; i++)
		n += !d->failed[d->plan->boards[i].board];
	return n;
}

/* The first failed board as the call's error (0 if none). */
static int first_failure(const struct s2_deployment *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (d->failed[b])
			return fail(err, errlen, d->failed[b], "board %u failed at %s: %s", b,
			            d->what[b], s2_strerror(d->failed[b]));
	}
	return 0;
}

int s2_deployment_new(struct s2_session *s, struct s2_plan *plan, bool force,
                      struct s2_deployment **out, char *err, size_t errlen)
{
	*out = NULL;
	struct s2_deployment *d = calloc(1, sizeof *d);
	int rc = 0;
	if (!d) {
		s2_plan_free(plan);
		return fail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	d->s = s;
	d->plan = plan;
	d->n = s2_session_boards(s);
	d->stall_s = STALL_DEFAULT_S;
	d->ops = calloc(d->n + 1, sizeof *d->ops);
	d->failed = calloc(d->n + 1, sizeof *d->failed);
	d->what = calloc(d->n + 1, sizeof *d->what);
	d->ended = calloc(d->n + 1, sizeof *d->ended);
	bool *in_plan = calloc(d->n + 1, sizeof *in_plan);
	if (!d->ops || !d->failed || !d->what || !d->ended || !in_plan) {
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
		goto fail;
	}
	/* Board numbers are checked before any datagram is sent; then the lease. */
	bool *sel = s2_session_selection(s);
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		if (b >= d->n) {
			rc = fail(err, errlen, S2_E_RANGE,
			          "image: board %u is not in the machine description (%u boards): "
			          "the image was compiled for a bigger machine",
			          b, d->n);
			goto fail;
		}
		if (!sel[b]) {
			rc = fail(err, errlen, S2_E_INVAL,
			          "board %u holds part of the network: --boards must include it",
			          b);
			goto fail;
		}
		if (!eth(d, b)) {
			rc = fail(err, errlen, S2_E_INVAL,
			          "board %u: the session has no Ethernet endpoint for it", b);
			goto fail;
		}
		in_plan[b] = true;
	}
	/* Lease only the boards that hold part of the network; the others stay free. */
	for (unsigned b = 0; b < d->n; b++)
		sel[b] = sel[b] && in_plan[b];
	free(in_plan);
	in_plan = NULL;
	if ((rc = s2_session_lease(s, force, err, errlen)) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	free(in_plan);
	s2_deployment_free(d);
	return rc;
}

const struct s2_plan *s2_deployment_plan(const struct s2_deployment *d)
{
	return d->plan;
}

int s2_deployment_board_error(const struct s2_deployment *d, unsigned board, const char **what)
{
	if (board >= d->n || !d->failed[board]) {
		if (what)
			*what = "";
		return 0;
	}
	if (what)
		*what = d->what[board];
	return d->failed[board];
}

const struct s2_run_stats *s2_deployment_stats(const struct s2_deployment *d)
{
	return &d->stats;
}

void s2_deployment_free(struct s2_deployment *d)
{
	if (!d)
		return;
	s2_stream_free(d->st);
	free(d->ops);
	free(d->failed);
	free(d->what);
	free(d->ended);
	for (uint64_t g = 0; d->upd && g < d->plan->pes; g++)
		free(d->upd[g]);
	free(d->upd);
	s2_plan_free(d->plan);
	free(d);
}

/* Recording regions sized for a run of steps (the spikes bitmap and the voltages of every
 * step, capped by the PE's share of the recording area). */
static void size_recordings(struct s2_deployment *d, uint32_t steps)
{
	d->sized_steps = steps;
	d->fit_steps = UINT32_MAX;
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		struct s2_plan_board *pb = &d->plan->boards[i];
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				const struct s2_plan_pe_info *in = &pb->info[ch][q];
				/* the spike region always: its header holds the clipping counters
				 */
				uint64_t sp =
				        S2_REC_HDR_LEN +
				        (in->rec_spikes ? (uint64_t)steps * ((in->n + 7) / 8) : 0);
				uint64_t vv = in->n_vrec ? S2_REC_HDR_LEN +
				                                   (uint64_t)steps * in->n_vrec * 4
				                         : 0;
				uint32_t cap = s2_app_area(q, pb->chips[ch].n_pes).rec_max;
				uint64_t per[2] = {in->rec_spikes ? (in->n + 7u) / 8u : 0,
				                   (uint64_t)in->n_vrec * 4u};
				for (int k = 0; k < 2; k++)
					if (per[k] && cap > S2_REC_HDR_LEN &&
					    (cap - S2_REC_HDR_LEN) / per[k] < d->fit_steps)
						d->fit_steps =
						        (uint32_t)((cap - S2_REC_HDR_LEN) / per[k]);
				pb->chips[ch].pes[q].rec_size[0] = (uint32_t)(sp > cap ? cap : sp);
				pb->chips[ch].pes[q].rec_size[1] = (uint32_t)(vv > cap ? cap : vv);
			}
	}
}

static uint32_t steps_for(const struct s2_deployment *d, double duration_ms)
{
	double dur = duration_ms > 0 ? duration_ms : d->plan->run_ms;
	return (uint32_t)llround(dur / d->plan->dt_ms);
}

static uint8_t *read_firmware(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(S2_FW_IMAGE_MAX + 1);
	size_t n = buf ? fread(buf, 1, S2_FW_IMAGE_MAX + 1, f) : 0;
	int e = ferror(f) ? EIO : n > S2_FW_IMAGE_MAX ? EFBIG : n == 0 ? EINVAL : 0;
	fclose(f);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	*len = n;
	return buf;
}

/* Boot the plan's boards that are not booted, with the monitor image firmware. */
static void boot_missing(struct s2_deployment *d, const char *firmware)
{
	struct s2_msg_board_status *st = calloc(d->n + 1, sizeof *st);
	uint8_t(*body)[32] = calloc(d->n + 1, sizeof *body);
	size_t *blen = calloc(d->n + 1, sizeof *blen);
	if (!st || !body || !blen)
		goto out;
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		s2_op_init(&d->ops[b], NULL, NULL);
		s2_simple_start(eth(d, b), S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0,
		                body[b], sizeof body[b], &blen[b], &d->ops[b]);
	}
	settle(d, "BOARD_STATUS");
	size_t len = 0;
	uint8_t *image = NULL;
	bool any = false;
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (d->failed[b] || s2_msg_board_status_decode(body[b], blen[b], &st[b]) < 0 ||
		    st[b].state == S2_BOARD_BOOTED)
			continue;
		if (!image && (!firmware || !(image = read_firmware(firmware, &len)))) {
			d->failed[b] = S2_E_STATE;
			if (firmware)
				snprintf(d->what[b], sizeof d->what[b],
				         "not booted, and no monitor image to boot it (%.60s: %s)",
				         firmware, strerror(errno));
			else
				snprintf(d->what[b], sizeof d->what[b],
				         "not booted, and no monitor image was given to boot it");
			continue;
		}
		s2_op_init(&d->ops[b], NULL, NULL);
		if (s2_boot_start(eth(d, b), image, len, S2_BOOT_BLOCK_MAX, &d->ops[b], &st[b]) < 0)
			d->ops[b].status = S2_E_NOMEM;
		any = true;
		d->stats.booted++;
	}
	if (any)
		settle(d, "boot");
	free(image);
out:
	free(st);
	free(body);
	free(blen);
}

static void load_progress_cb(void *arg)
{
	struct s2_deployment *d = arg;
	uint64_t done = 0, total = 0;
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		done += d->ops[b].done;
		total += d->ops[b].total;
	}
	progress(d, "load", done, total);
}

/* Wait until every board has expanded every PE's synapses (bounded: each board must finish
 * at least one more PE within stall_s). */
static void wait_expanded(struct s2_deployment *d)
{
	struct s2_msg_app_status *st = calloc(d->n + 1, sizeof *st);
	uint32_t *pend = calloc(d->n + 1, sizeof *pend);
	double *moved = calloc(d->n + 1, sizeof *moved);
	for (unsigned i = 0; pend && moved && i < d->plan->n_boards; i++) {
		pend[d->plan->boards[i].board] = UINT32_MAX;
		moved[d->plan->boards[i].board] = now_s();
	}
	if (!st || !pend || !moved)
		for (unsigned i = 0; i < d->plan->n_boards; i++)
			d->failed[d->plan->boards[i].board] = S2_E_NOMEM;
	for (bool busy = st && pend && moved; busy;) {
		busy = false;
		for (unsigned i = 0; i < d->plan->n_boards; i++) {
			unsigned b = d->plan->boards[i].board;
			if (d->failed[b])
				continue;
			s2_op_init(&d->ops[b], NULL, NULL);
			s2_app_status_start(eth(d, b), &st[b], &d->ops[b]);
		}
		settle(d, "APP_STATUS while loading");
		uint64_t loaded = 0;
		for (unsigned i = 0; i < d->plan->n_boards; i++) {
			unsigned b = d->plan->boards[i].board;
			if (d->failed[b])
				continue;
			loaded += st[b].pes;
			if (st[b].state == S2_APP_LOADING) {
				double now = now_s();
				if (st[b].pending < pend[b]) {
					pend[b] = st[b].pending;
					moved[b] = now;
				}
				if (now - moved[b] > d->stall_s) {
					d->failed[b] = S2_E_TIMEOUT;
					snprintf(d->what[b], sizeof d->what[b],
					         "loading: no PE finished expanding its synapses "
					         "for "
					         "%.0f s (%u PE loads pending; --stall-timeout)",
					         d->stall_s, st[b].pending);
				} else {
					busy = true;
				}
			} else if (st[b].state == S2_APP_FAILED) {
				d->failed[b] = st[b].load_error ? st[b].load_error : S2_E_STATE;
				snprintf(d->what[b], sizeof d->what[b],
				         "loading: chip %u PE %u refused its PE data",
				         st[b].load_chip, st[b].load_pe);
			} else if (st[b].pes != d->plan->boards[i].pes) {
				d->failed[b] = S2_E_STATE;
				snprintf(d->what[b], sizeof d->what[b],
				         "loading: %u of %llu PEs loaded", st[b].pes,
				         (unsigned long long)d->plan->boards[i].pes);
			}
		}
		progress(d, "expand", loaded, d->plan->pes);
		if (busy) {
			struct timespec ts = {0, POLL_NS};
			nanosleep(&ts, NULL);
		}
	}
	free(st);
	free(pend);
	free(moved);
}

int s2_deploy(struct s2_deployment *d, const struct s2_deploy_opts *o, char *err, size_t errlen)
{
	static const struct s2_deploy_opts none;
	if (!o)
		o = &none;
	d->cb = o->cb;
	d->stall_s = o->stall_s > 0 ? o->stall_s : STALL_DEFAULT_S;
	size_recordings(d, steps_for(d, o->duration_ms));
	double t0 = now_s();
	phase(d, S2_PHASE_BOOT, false);
	boot_missing(d, o->firmware);
	phase(d, S2_PHASE_BOOT, true);
	phase(d, S2_PHASE_LOAD, false);
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (d->failed[b])
			continue;
		s2_op_init(&d->ops[b], NULL, NULL);
		s2_app_stop_start(eth(d, b), &d->ops[b]);
	}
	settle(d, "APP_STOP");
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		struct s2_plan_board *pb = &d->plan->boards[i];
		if (d->failed[pb->board])
			continue;
		s2_op_init(&d->ops[pb->board], load_progress_cb, d);
		int rc = s2_app_write_start(eth(d, pb->board), pb->chips, pb->n_chips,
		                            &d->stats.load, &d->ops[pb->board]);
		if (rc < 0)
			d->ops[pb->board].status = rc;
	}
	settle(d, "writing tables and PE data");
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		struct s2_plan_board *pb = &d->plan->boards[i];
		if (d->failed[pb->board])
			continue;
		d->stats.bytes += d->ops[pb->board].total;
		s2_op_init(&d->ops[pb->board], NULL, NULL);
		int rc = s2_app_activate_start(eth(d, pb->board), pb->chips, pb->n_chips,
		                               &d->ops[pb->board]);
		if (rc < 0)
			d->ops[pb->board].status = rc;
	}
	settle(d, "loading");
	for (unsigned i = 0; i < d->plan->n_boards; i++)
		s2_app_release(d->plan->boards[i].chips, d->plan->boards[i].n_chips);
	/* The PEs expand their synapses: wait until every board has loaded everything. */
	wait_expanded(d);
	phase(d, S2_PHASE_LOAD, true);
	d->ran = d->resumable = false;
	d->steps_run = 0;
	d->stats.deploy_s = now_s() - t0;
	return first_failure(d, err, errlen);
}

/* ---- Changing the loaded network between runs ------------------------------------------ */

static bool sect_eq(const struct s2_pedata *a, const struct s2_pedata *b, unsigned t)
{
	return a->sect_len[t] == b->sect_len[t] &&
	       (!a->sect_len[t] || !memcmp(a->sect[t], b->sect[t], a->sect_len[t]));
}

/* What of a PE's data s2_eng_update cannot take (NULL: nothing): checked on the host first so
 * that a refused update changes nothing. */
static const char *update_refused(const uint8_t *old, uint32_t olen, const uint8_t *nw,
                                  uint32_t nlen)
{
	struct s2_pedata a, b;
	if (s2_pedata_decode(old, olen, &a) < 0 || s2_pedata_decode(nw, nlen, &b) < 0)
		return "its PE data";
	if (a.model != b.model)
		return "the cell type";
	if (a.n_neurons != b.n_neurons)
		return "the number of neurons";
	if (a.dt_us != b.dt_us)
		return "the timestep";
	if (a.n_record_v != b.n_record_v || a.flags != b.flags ||
	    !sect_eq(&a, &b, S2_SECT_RECORD_V))
		return "what is recorded";
	if (a.key_base != b.key_base || a.seed != b.seed)
		return "the keys or the seed";
	if (a.w_scale_e != b.w_scale_e || a.w_scale_i != b.w_scale_i ||
	    !sect_eq(&a, &b, S2_SECT_ROWS) || !sect_eq(&a, &b, S2_SECT_EXPAND) ||
	    !sect_eq(&a, &b, S2_SECT_SLICES))
		return "the connections (weights, delays, connectors)";
	return NULL; /* parameters, spike times, currents, initial values (s2_eng_update) */
}

int s2_deployment_read_dram(struct s2_deployment *d, unsigned board, uint16_t chip, uint32_t addr,
                            void *out, size_t len, char *err, size_t errlen)
{
	bool found = false;
	for (unsigned i = 0; i < d->plan->n_boards; i++)
		found |= d->plan->boards[i].board == board;
	if (!found || board >= d->n)
		return fail(err, errlen, S2_E_RANGE, "board %u is not in the loaded plan", board);
	if (!len)
		return 0;
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	int rc = s2_bulk_read_start(eth(d, board), chip, S2_PE_MONITOR, S2_MEM_DRAM, addr, out, len,
	                            &op);
	if (rc == 0)
		rc = s2_op_wait(s2_session_client(d->s), &op);
	if (rc < 0)
		return fail(err, errlen, rc,
		            "board %u chip %u: reading %zu bytes of DRAM at 0x%08x: %s", board,
		            chip, len, addr, op.what[0] ? op.what : s2_strerror(rc));
	return 0;
}

int s2_deployment_update(struct s2_deployment *d, struct s2_plan *np, char *err, size_t errlen)
{
	struct s2_plan *op = d->plan;
	int rc = 0;
	/* copies of the changed PE data, [op->pes] by PE in plan order: the loaded plan keeps them
	 */
	uint8_t **fresh = calloc(op->pes + 1, sizeof *fresh);
	if (!fresh || (!d->upd && !(d->upd = calloc(op->pes + 1, sizeof *d->upd)))) {
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = first_failure(d, err, errlen)) < 0)
		goto out;
	/* Every board, chip, PE and router table as loaded; only PE data may differ. */
	bool same =
	        np->n_boards == op->n_boards && np->n_pops == op->n_pops && np->dt_ms == op->dt_ms;
	for (unsigned i = 0; same && i < op->n_boards; i++) {
		const struct s2_plan_board *a = &op->boards[i], *b = &np->boards[i];
		same = a->board == b->board && a->n_chips == b->n_chips;
		for (unsigned c = 0; same && c < a->n_chips; c++) {
			const struct s2_app_chip *x = &a->chips[c], *y = &b->chips[c];
			same = x->chip == y->chip && x->n_pes == y->n_pes && x->n_rt == y->n_rt &&
			       !memcmp(x->rt, y->rt, (size_t)x->n_rt * S2_RT_ENTRY_LEN);
			for (unsigned k = 0; same && k < x->n_pes; k++)
				same = x->pes[k].pe == y->pes[k].pe;
		}
	}
	if (!same) {
		rc = fail(err, errlen, S2_E_STATE,
		          "cannot update the loaded network: its placement or routing changed "
		          "(populations, projections or boards); deploy it again");
		goto out;
	}
	/* Check every PE before anything is sent. */
	unsigned changed = 0;
	uint64_t g = 0;
	for (unsigned i = 0; i < op->n_boards; i++)
		for (unsigned c = 0; c < op->boards[i].n_chips; c++) {
			struct s2_app_chip *x = &op->boards[i].chips[c],
			                   *y = &np->boards[i].chips[c];
			if (!x->region_len) {
				rc = fail(err, errlen, S2_E_STATE,
				          "cannot update the network: it was not loaded by this "
				          "deployment (s2_deploy)");
				goto out;
			}
			for (unsigned k = 0; k < x->n_pes; k++, g++) {
				struct s2_app_pe *p = &x->pes[k], *q = &y->pes[k];
				if (g >= op->pes) {
					rc = fail(err, errlen, S2_E_STATE,
					          "the plan's PE count is wrong");
					goto out;
				}
				if (q->len < S2_PEDATA_HDR_LEN || q->len > S2_APP_BLOB_MAX) {
					rc = fail(
					        err, errlen, S2_E_RANGE,
					        "cannot update board %u chip %u PE %u: its PE data "
					        "(%u bytes) is not 64..%u bytes",
					        op->boards[i].board, x->chip, p->pe, q->len,
					        S2_APP_BLOB_MAX);
					goto out;
				}
				memcpy(q->pedata + 32, p->pedata + 32,
				       8); /* dram_base, dram_size */
				q->rec_size[0] = p->rec_size[0];
				q->rec_size[1] = p->rec_size[1];
				if (p->len == q->len && !memcmp(p->pedata, q->pedata, p->len))
					continue;
				const char *what =
				        update_refused(p->pedata, p->len, q->pedata, q->len);
				if (what) {
					unsigned pop = op->boards[i].info[c][k].pop;
					rc = fail(err, errlen, S2_E_STATE,
					          "cannot change %s of population '%s' (board %u "
					          "chip %u "
					          "PE %u) between runs: only parameters, spike "
					          "times, rates "
					          "and currents; deploy it again",
					          what,
					          pop < op->n_pops ? op->pops[pop].label : "?",
					          op->boards[i].board, x->chip, p->pe);
					goto out;
				}
				if (!(fresh[g] = malloc(q->len))) {
					rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
					goto out;
				}
				memcpy(fresh[g], q->pedata, q->len);
				changed++;
			}
		}
	/* Each changed PE's data goes to its own slot after the loaded tables and blobs. */
	for (unsigned i = 0; i < op->n_boards && changed; i++) {
		struct s2_plan_board *pb = &np->boards[i];
		s2_op_init(&d->ops[pb->board], NULL, NULL);
		for (unsigned c = 0; c < pb->n_chips; c++) {
			struct s2_app_chip *x = &op->boards[i].chips[c], *y = &pb->chips[c];
			/* after the region loaded (its length stays in the loaded plan) */
			uint64_t base = ((uint64_t)x->region_len + 0xFFFu) & ~(uint64_t)0xFFFu;
			for (unsigned k = 0; k < y->n_pes; k++) {
				struct s2_app_pe *p = &x->pes[k], *q = &y->pes[k];
				uint64_t at = base + (uint64_t)k * S2_APP_BLOB_MAX;
				if (p->len == q->len && !memcmp(p->pedata, q->pedata, p->len))
					continue;
				if (at + S2_APP_BLOB_MAX > S2_APP_DATA_MAX) {
					d->ops[pb->board].status = S2_E_NOSPACE;
					continue;
				}
				int r2 = s2_bulk_write_start_ex(
				        eth(d, pb->board), y->chip, S2_PE_MONITOR, S2_MEM_DRAM,
				        S2_APP_DATA_ADDR + (uint32_t)at, q->pedata, q->len, NULL,
				        &d->stats.load, &d->ops[pb->board]);
				if (r2 < 0)
					d->ops[pb->board].status = r2;
			}
		}
	}
	settle(d, "writing updated PE data");
	for (unsigned i = 0; i < op->n_boards && changed; i++) {
		struct s2_plan_board *pb = &np->boards[i];
		if (d->failed[pb->board])
			continue;
		s2_op_init(&d->ops[pb->board], NULL, NULL);
		for (unsigned c = 0; c < pb->n_chips; c++) {
			struct s2_app_chip *x = &op->boards[i].chips[c], *y = &pb->chips[c];
			/* after the region loaded (its length stays in the loaded plan) */
			uint64_t base = ((uint64_t)x->region_len + 0xFFFu) & ~(uint64_t)0xFFFu;
			for (unsigned k = 0; k < y->n_pes; k++) {
				struct s2_app_pe *p = &x->pes[k], *q = &y->pes[k];
				if (p->len == q->len && !memcmp(p->pedata, q->pedata, p->len))
					continue;
				uint8_t body[16];
				struct s2_msg_app_update m = {
				        S2_APP_DATA_ADDR +
				                (uint32_t)(base + (uint64_t)k * S2_APP_BLOB_MAX),
				        q->len};
				int len = s2_msg_app_update_encode(body, sizeof body, &m);
				int r2 = len < 0 ? len
				                 : s2_simple_start(eth(d, pb->board),
				                                   S2_MSG_APP_UPDATE, y->chip,
				                                   q->pe, body, (size_t)len, NULL,
				                                   0, NULL, &d->ops[pb->board]);
				if (r2 < 0)
					d->ops[pb->board].status = r2;
			}
		}
	}
	settle(d, "APP_UPDATE");
	if ((rc = first_failure(d, err, errlen)) < 0)
		goto out;
	/* The new PE data is what the boards hold now (the loaded plan keeps its layout). */
	g = 0;
	for (unsigned i = 0; i < op->n_boards; i++)
		for (unsigned c = 0; c < op->boards[i].n_chips; c++) {
			struct s2_app_chip *x = &op->boards[i].chips[c],
			                   *y = &np->boards[i].chips[c];
			for (unsigned k = 0; k < x->n_pes; k++, g++) {
				if (!fresh[g])
					continue;
				free(d->upd[g]);
				d->upd[g] = fresh[g];
				fresh[g] = NULL;
				x->pes[k].pedata = d->upd[g];
				x->pes[k].len = y->pes[k].len;
			}
		}
out:
	for (uint64_t h = 0; fresh && h < op->pes; h++)
		free(fresh[h]);
	free(fresh);
	s2_plan_free(np);
	return rc;
}

int s2_deployment_check_loaded(struct s2_deployment *d, double duration_ms, char *err,
                               size_t errlen)
{
	size_recordings(d, steps_for(d, duration_ms));
	struct s2_msg_app_status *st = calloc(d->n + 1, sizeof *st);
	if (!st) {
		for (unsigned i = 0; i < d->plan->n_boards; i++)
			d->failed[d->plan->boards[i].board] = S2_E_NOMEM;
		return fail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		s2_op_init(&d->ops[b], NULL, NULL);
		s2_app_status_start(eth(d, b), &st[b], &d->ops[b]);
	}
	settle(d, "APP_STATUS");
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (d->failed[b])
			continue;
		if (st[b].state == S2_APP_DONE && st[b].pes == d->plan->boards[i].pes) {
			/* Running it again would not start at t = 0: the PEs go on from their
			 * state and the recordings hold the last run's. */
			d->ran = true;
			d->failed[b] = S2_E_STATE;
			snprintf(d->what[b], sizeof d->what[b],
			         "--deployed: the image already ran since it was deployed (a new "
			         "run would not start at t = 0): s2ctl deploy it again first");
		} else if (st[b].state != S2_APP_LOADED || st[b].pes != d->plan->boards[i].pes) {
			d->failed[b] = S2_E_STATE;
			snprintf(d->what[b], sizeof d->what[b],
			         "--deployed: the board holds %u PEs in state %u, not the image's "
			         "%llu PEs loaded (s2ctl deploy it first)",
			         st[b].pes, st[b].state,
			         (unsigned long long)d->plan->boards[i].pes);
		}
	}
	free(st);
	return first_failure(d, err, errlen);
}

/* ---- The live stream of a run -------------------------------------------------------- */

static void on_spikes(void *arg, const struct s2_spike *s, size_t n)
{
	struct s2_deployment *d = arg;
	if (d->user.spikes)
		d->user.spikes(d->user.arg, s, n);
}

static void on_energy(void *arg, const struct s2_energy_sample *e)
{
	struct s2_deployment *d = arg;
	if (d->user.energy)
		d->user.energy(d->user.arg, e);
}

static void on_event(void *arg, const struct s2_run_event *ev)
{
	struct s2_deployment *d = arg;
	if (ev->board < d->n && ev->event != S2_LIVE_STARTED)
		d->ended[ev->board] = true;
	if (d->user.event)
		d->user.event(d->user.arg, ev);
}

/* Subscribe every live board to spikes (of o->live_pops) and/or energy samples. */
static int stream_open(struct s2_deployment *d, const struct s2_run_opts *o, char *err,
                       size_t errlen)
{
	const struct s2_run_callbacks *cb = o->cb;
	uint32_t flags = (cb->spikes ? S2_LIVE_F_SPIKES : 0) |
	                 (cb->energy || cb->event ? S2_LIVE_F_ENERGY : 0);
	if (!flags)
		return 0;
	d->stream_flags = flags;
	d->user = *cb;
	/* a new id for every run's stream: the boards number each stream's packets afresh */
	s2_stream_free(d->st);
	d->st = NULL;
	memset(d->ended, 0, (d->n + 1) * sizeof *d->ended);
	d->n_streams++;
	d->stream_id =
	        ((uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)d << 8 ^ d->n_streams << 24) | 1u;
	struct s2_stream_callbacks scb = {on_spikes, on_energy, on_event, d};
	struct s2_client *client = s2_session_client(d->s);
	uint16_t port = 0;
	int rc = S2_E_NOMEM;
	/* one request per board, alive until every board has answered */
	struct s2_msg_stream_start *ms = calloc(d->plan->n_boards + 1, sizeof *ms);
	if (!ms || !(d->st = s2_stream_new(d->stream_id, &scb)) ||
	    (rc = s2_stream_listen(d->st, s2_client_base(client), "127.0.0.1", 0, &port)) < 0) {
		free(ms);
		return fail(err, errlen, rc, "live stream: %s", s2_strerror(rc));
	}
	s2_stream_set_key(d->st, s2_client_key(client));     /* docs/security.md */
	const uint16_t *wire = s2_session_wire_boards(d->s); /* a SLURM job's boards */
	if (wire && (rc = s2_stream_map_boards(d->st, wire, d->n)) < 0) {
		free(ms);
		return fail(err, errlen, rc, "live stream: out of memory");
	}
	rc = 0;
	for (unsigned i = 0; rc == 0 && i < d->plan->n_boards; i++) {
		const struct s2_plan_board *pb = &d->plan->boards[i];
		struct s2_msg_stream_start *m = &ms[i];
		if (d->failed[pb->board])
			continue;
		s2_stream_start_msg(d->st, flags, o->energy_every ? o->energy_every : 100, port, m);
		for (unsigned ch = 0; rc == 0 && cb->spikes && ch < pb->n_chips; ch++) {
			const struct s2_app_chip *ac = &pb->chips[ch];
			for (unsigned q = 0; rc == 0 && q < ac->n_pes; q++) {
				const struct s2_plan_pe_info *in = &pb->info[ch][q];
				uint8_t pe = ac->pes[q].pe;
				if (o->live_pops && !o->live_pops[in->pop])
					continue;
				if (ac->chip >= S2_LIVE_MAX_CHIPS) {
					rc = fail(err, errlen, S2_E_RANGE,
					          "live stream: board %u chip %u is beyond the %u "
					          "chips a subscription can name",
					          pb->board, ac->chip, S2_LIVE_MAX_CHIPS);
					break;
				}
				m->live[ac->chip][pe / 8] |= (uint8_t)(1u << (pe % 8));
				if (m->n_chips <= ac->chip)
					m->n_chips = (uint16_t)(ac->chip + 1);
				if (s2_stream_add_source(d->st, (uint16_t)pb->board, ac->chip, pe,
				                         in->pop, in->lo) < 0)
					rc = fail(err, errlen, S2_E_NOMEM,
					          "live stream: out of memory");
			}
		}
		s2_op_init(&d->ops[pb->board], NULL, NULL);
		if (rc == 0)
			s2_stream_start_start(eth(d, pb->board), m, &d->ops[pb->board]);
	}
	s2_client_wait(client);
	for (unsigned i = 0; rc == 0 && i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		if (!d->failed[b] && d->ops[b].status)
			rc = fail(err, errlen, d->ops[b].status, "board %u: STREAM_START: %s", b,
			          s2_strerror(d->ops[b].status));
	}
	free(ms);
	return rc;
}

/* Take what arrives for s seconds (the stream's packets, as they come). */
static void pump(struct s2_deployment *d, double s)
{
	struct event_base *base = s2_client_base(s2_session_client(d->s));
	struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* After the run: every live board's end event (at most max_s; boards send run events with
 * energy samples only), what is still in flight, then unsubscribe. */
static void stream_close(struct s2_deployment *d, double max_s)
{
	if (!d->st)
		return;
	double t0 = now_s();
	for (bool events = d->stream_flags & S2_LIVE_F_ENERGY; events;) {
		bool all = true;
		for (unsigned i = 0; i < d->plan->n_boards; i++) {
			unsigned b = d->plan->boards[i].board;
			all &= d->failed[b] || d->ended[b];
		}
		if (all || now_s() - t0 >= max_s)
			break;
		pump(d, 0.02);
	}
	/* Packets still on their way: take them until none came for 100 ms (at most 1 s). */
	t0 = now_s();
	for (uint64_t seen = UINT64_MAX; now_s() - t0 < 1.0;) {
		uint64_t now = s2_stream_stats(d->st)->packets;
		if (now == seen)
			break;
		seen = now;
		pump(d, 0.1);
	}
	for (unsigned i = 0; i < d->plan->n_boards; i++) {
		unsigned b = d->plan->boards[i].board;
		s2_op_init(&d->ops[b], NULL, NULL);
		if (!d->failed[b])
			s2_stream_stop_start(eth(d, b), d->stream_id, &d->ops[b]);
	}
	s2_client_wait(s2_session_client(d->s));
	d->stats.stream = *s2_stream_stats(d->st);
}

/* ---- Running and reading back -------------------------------------------------------- */

/* Read every PE's recordings back (both streams, all boards in parallel) into res. */
static int collect(struct s2_deployment *d, struct s2_results *res)
{
	const struct s2_plan *plan = d->plan;
	struct s2_app_rec **recs[2];
	recs[0] = calloc(plan->n_boards + 1, sizeof *recs[0]);
	recs[1] = calloc(plan->n_boards + 1, sizeof *recs[1]);
	int rc = recs[0] && recs[1] ? 0 : S2_E_NOMEM;
	for (unsigned s = 0; rc == 0 && s < 2; s++)
		for (unsigned i = 0; i < plan->n_boards; i++)
			if (!(recs[s][i] = calloc(plan->boards[i].pes + 1, sizeof *recs[s][i])))
				rc = S2_E_NOMEM;
	if (rc) {
		for (unsigned s = 0; s < 2; s++)
			for (unsigned i = 0; recs[s] && i < plan->n_boards; i++)
				free(recs[s][i]);
		free(recs[0]);
		free(recs[1]);
		return rc;
	}
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned i = 0; i < plan->n_boards; i++) {
			struct s2_plan_board *pb = &plan->boards[i];
			if (d->failed[pb->board])
				continue;
			s2_op_init(&d->ops[pb->board], NULL, NULL);
			s2_app_rec_head_start(eth(d, pb->board), pb->chips, pb->n_chips, s,
			                      recs[s][i], &d->ops[pb->board]);
		}
		settle(d, "reading recording headers");
		/* A board keeps a limited number of transfers open: waves of 32 per board. */
		size_t *cursor = calloc(plan->n_boards + 1, sizeof *cursor);
		if (!cursor)
			rc = S2_E_NOMEM;
		for (bool more = cursor != NULL; more;) {
			more = false;
			for (unsigned i = 0; i < plan->n_boards; i++) {
				struct s2_plan_board *pb = &plan->boards[i];
				if (!recs[s][i] || d->failed[pb->board])
					continue;
				s2_op_init(&d->ops[pb->board], NULL, NULL);
				int r2 = s2_app_rec_data_start(
				        eth(d, pb->board), pb->chips, pb->n_chips, s, recs[s][i],
				        &d->stats.rec, &cursor[i], 32, &d->ops[pb->board]);
				if (r2 < 0)
					d->ops[pb->board].status = r2;
				else if (r2 > 0)
					more = true;
			}
			settle(d, "reading recordings");
		}
		free(cursor);
	}
	for (unsigned i = 0; i < plan->n_boards; i++) {
		struct s2_plan_board *pb = &plan->boards[i];
		size_t k = 0;
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++, k++) {
				const struct s2_plan_pe_info *in = &pb->info[ch][q];
				struct s2_app_rec *sp = recs[0][i] ? &recs[0][i][k] : NULL;
				struct s2_app_rec *vv = recs[1][i] ? &recs[1][i][k] : NULL;
				if (!d->failed[pb->board] && in->pop < res->n_pops) {
					struct s2_results_pop *P = &res->pops[in->pop];
					P->spikes_recorded |= in->rec_spikes != 0;
					for (unsigned c = 0; sp && c < S2_RES_CLIP_RECLOST; c++)
						P->clip[c] += s2_app_rec_clip(sp, c);
					P->clip[S2_RES_CLIP_RECLOST] +=
					        (sp ? sp->hdr[1] : 0) + (vv ? vv->hdr[1] : 0);
					for (unsigned c = 0; sp && c < S2_RES_PLASTICS; c++) {
						uint64_t v =
						        s2_app_rec_clip(sp, S2_CLIP_PL_ZERO + c);
						P->plastic_cause[c] += v;
						P->plastic += v;
					}
					if (sp) { /* the real-time budget: PE-steps over, worst */
						uint64_t w = s2_app_rec_clip(sp, S2_CLIP_WORST);
						P->steps_over +=
						        s2_app_rec_clip(sp, S2_CLIP_OVERRUN);
						P->worst_permille = w > P->worst_permille
						                            ? w
						                            : P->worst_permille;
					}
				}
				if (!d->failed[pb->board] && rc == 0)
					rc = s2_results_add_pe(
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

_Static_assert((int)S2_RES_CLIP_INPUT == (int)S2_CLIP_INPUT &&
                       (int)S2_RES_CLIP_WZERO == (int)S2_CLIP_WZERO &&
                       (int)S2_RES_CLIP_WMAX == (int)S2_CLIP_WMAX &&
                       (int)S2_RES_CLIP_DELAY == (int)S2_CLIP_DELAY,
               "results and recording headers count the same causes");

/* Poll every live board until each is done, fails, or a board dies (then the others are
 * stopped). st[b], last[b]: each board's last status and steps done. */
static bool run_loop(struct s2_deployment *d, const struct s2_run_opts *o, uint32_t steps,
                     struct s2_msg_app_status *st, uint32_t *last, double *moved)
{
	const struct s2_plan *plan = d->plan;
	double t0 = now_s();
	for (unsigned i = 0; i < plan->n_boards; i++)
		moved[plan->boards[i].board] = t0;
	/* A real-time run cannot go faster than biological time: its boards get that long
	 * before the stall limit applies to their first step. */
	double rt_s = o->realtime ? steps * plan->dt_ms / 1000.0 : 0;
	for (;;) {
		for (unsigned i = 0; i < plan->n_boards; i++) {
			unsigned b = plan->boards[i].board;
			if (d->failed[b] || st[b].state == S2_APP_DONE)
				continue;
			s2_op_init(&d->ops[b], NULL, NULL);
			s2_app_status_start(eth(d, b), &st[b], &d->ops[b]);
		}
		settle(d, "APP_STATUS");
		bool all = true;
		uint64_t done = 0;
		double now = now_s();
		for (unsigned i = 0; i < plan->n_boards; i++) {
			unsigned b = plan->boards[i].board;
			if (d->failed[b])
				continue;
			if (st[b].steps_done > last[b] || st[b].state == S2_APP_DONE) {
				last[b] = st[b].steps_done;
				moved[b] = now;
			}
			uint8_t sb = st[b].state;
			if (sb != S2_APP_ARMED && sb != S2_APP_RUNNING && sb != S2_APP_DONE) {
				d->failed[b] = S2_E_STATE;
				snprintf(d->what[b], sizeof d->what[b],
				         "run: the board left the run at step %u of %u (state %u: "
				         "stopped or reset by someone else?)",
				         st[b].steps_done, steps, sb);
				continue;
			}
			if (sb != S2_APP_DONE &&
			    now - moved[b] > d->stall_s + (last[b] ? 0 : rt_s)) {
				d->failed[b] = S2_E_TIMEOUT;
				snprintf(d->what[b], sizeof d->what[b],
				         "run: no step for %.0f s at step %u of %u (the board "
				         "answers "
				         "but does not advance; --stall-timeout)",
				         d->stall_s, last[b], steps);
				continue;
			}
			all &= sb == S2_APP_DONE;
			done += st[b].steps_done;
		}
		unsigned live = s2_deployment_live_boards(d);
		progress(d, "run", done, (uint64_t)steps * live);
		if (all || !live)
			return false;
		if (live < plan->n_boards) {
			/* A board died: stop the others cleanly; their recordings stay in DRAM and
			 * are collected. */
			for (unsigned i = 0; i < plan->n_boards; i++) {
				unsigned b = plan->boards[i].board;
				if (d->failed[b])
					continue;
				s2_op_init(&d->ops[b], NULL, NULL);
				s2_app_stop_start(eth(d, b), &d->ops[b]);
			}
			settle(d, "APP_STOP after a board failed");
			return true;
		}
		if (d->st) {
			pump(d, 0.02); /* the live stream's packets, as they arrive */
		} else {
			/* Short runs (resumed runs, docs/pynn.md) end soon: poll more often in the
			 * first part of a run, an eighth of the time so far (1 ms..POLL_NS). */
			double wait_ns = (now_s() - t0) * 1e9 / 8;
			wait_ns = wait_ns < 1e6 ? 1e6 : wait_ns > POLL_NS ? POLL_NS : wait_ns;
			struct timespec ts = {0, (long)wait_ns};
			nanosleep(&ts, NULL);
		}
	}
}

/* One run of the boards (s2_run: a part of it). */
static int run_part(struct s2_deployment *d, const struct s2_run_opts *o, struct s2_results **out,
                    char *err, size_t errlen)
{
	*out = NULL;
	const struct s2_plan *plan = d->plan;
	d->cb = o->cb;
	if (o->stall_s > 0)
		d->stall_s = o->stall_s;
	uint32_t steps = o->duration_ms > 0 ? steps_for(d, o->duration_ms) : d->sized_steps;
	if (!steps)
		steps = steps_for(d, 0);
	if (!o->resume && d->ran)
		return fail(
		        err, errlen, S2_E_STATE,
		        "this deployment already ran: a new run would not start at t = 0 (the "
		        "PEs go on from their state, the recordings hold the last run's); deploy "
		        "it again (s2_deploy) or continue it (s2_run_opts.resume)");
	if (o->resume && !d->resumable)
		return fail(err, errlen, S2_E_STATE,
		            "cannot resume: no run of this deployment completed on every board "
		            "(run it without resume first)");
	if (o->resume && steps > d->sized_steps)
		return fail(err, errlen, S2_E_RANGE,
		            "cannot resume for %u steps: the recordings were sized for %u steps "
		            "(s2_deploy_opts.duration_ms); resume in parts of at most that",
		            steps, d->sized_steps);
	if (steps > d->sized_steps)
		size_recordings(d, steps); /* (effective on the next deployment only) */
	/* this run's counters (a deployment may run more than once) */
	d->stats.steps = steps;
	d->resumable = false;
	d->stats.run_s = d->stats.collect_s = 0;
	d->stats.synaptic_events = d->stats.spikes_sent = 0;
	d->stats.packets_dropped = d->stats.packets_unrouted = 0;
	d->stats.inputs_clipped = d->stats.recording_lost = 0;
	memset(&d->stats.rec, 0, sizeof d->stats.rec);
	memset(&d->stats.stream, 0, sizeof d->stats.stream);
	int rc = first_failure(d, err, errlen);
	if (!s2_deployment_live_boards(d))
		return rc ? rc : fail(err, errlen, S2_E_STATE, "no board to run on");
	if (o->cb && (rc = stream_open(d, o, err, errlen)) < 0)
		return rc;
	struct s2_msg_app_status *st = calloc(d->n + 1, sizeof *st);
	uint32_t *last = calloc(d->n + 1, sizeof *last); /* steps done, as last seen */
	double *moved = calloc(d->n + 1, sizeof *moved); /* when last seen to advance */
	struct s2_results *res = calloc(1, sizeof *res);
	if (!st || !last || !moved || !res) {
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
		goto out;
	}
	/* Start every board; they begin together. */
	phase(d, S2_PHASE_RUN, false);
	double t0 = now_s();
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		if (d->failed[b])
			continue;
		s2_op_init(&d->ops[b], NULL, NULL);
		s2_app_run_start(eth(d, b), steps,
		                 (o->realtime ? S2_APP_F_REALTIME : 0u) |
		                         (o->resume ? S2_APP_F_RESUME : 0u),
		                 &d->ops[b]);
	}
	d->ran = true;
	settle(d, "APP_RUN");
	bool stopped_early = run_loop(d, o, steps, st, last, moved);
	d->stats.run_s = now_s() - t0;
	phase(d, S2_PHASE_RUN, true);
	stream_close(d, 2.0);
	res->dt_ms = plan->dt_ms;
	res->steps = steps;
	res->has_clips = true;
	res->has_plastic_causes = true;
	res->has_budget = true;
	res->n_pops = plan->n_pops;
	res->pops = calloc(res->n_pops ? res->n_pops : 1, sizeof *res->pops);
	for (unsigned p = 0; res->pops && p < res->n_pops; p++) {
		res->pops[p].size = plan->pops[p].size;
		if (!(res->pops[p].label = strdup(plan->pops[p].label))) {
			rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
			goto out;
		}
	}
	phase(d, S2_PHASE_READOUT, false);
	double t1 = now_s();
	int crc = res->pops ? collect(d, res) : S2_E_NOMEM;
	if (res->pops)
		s2_results_sort(res);
	d->stats.collect_s = now_s() - t1;
	phase(d, S2_PHASE_READOUT, true);
	if (crc < 0) {
		rc = fail(err, errlen, crc, "reading the recordings: %s", s2_strerror(crc));
		goto out;
	}
	/* How each board's part ended: only a board that ran every step and whose recordings
	 * were read is complete; the results say so per board (docs/results.md). */
	bool complete = true;
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		enum s2_results_board_status bs = S2_RESULTS_BOARD_COMPLETE;
		uint32_t at = steps;
		char why[S2_RESULTS_REASON_MAX] = "";
		if (d->failed[b]) {
			bs = d->failed[b] == S2_E_TIMEOUT && !strstr(d->what[b], "--stall-timeout")
			             ? S2_RESULTS_BOARD_NO_ANSWER
			             : S2_RESULTS_BOARD_STOPPED;
			at = st[b].state == S2_APP_DONE ? steps : last[b];
			snprintf(why, sizeof why, "%s: %s", d->what[b], s2_strerror(d->failed[b]));
		} else if (st[b].state != S2_APP_DONE) {
			bs = S2_RESULTS_BOARD_STOPPED;
			at = last[b];
			snprintf(why, sizeof why, "%s",
			         stopped_early ? "stopped by s2ctl run after another board failed"
			                       : "did not finish");
		}
		complete &= bs == S2_RESULTS_BOARD_COMPLETE;
		if ((crc = s2_results_set_board_status(res, b, bs, at, bs ? why : NULL)) < 0) {
			rc = fail(err, errlen, crc, "out of memory");
			goto out;
		}
	}
	res->complete = complete;
	if (!o->resume)
		d->steps_run = 0;
	if (complete) {
		d->steps_run += steps;
		d->resumable = true;
	}
	d->stats.steps_before = complete ? d->steps_run - steps : 0;
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		d->stats.synaptic_events += st[b].synaptic_events;
		d->stats.packets_dropped += st[b].packets_dropped + st[b].packets_unrouted;
		d->stats.packets_unrouted += st[b].packets_unrouted;
		d->stats.recording_lost += st[b].rec_lost;
		d->stats.inputs_clipped += st[b].ring_saturated;
		d->stats.spikes_sent += st[b].spikes_sent;
	}
	rc = first_failure(d, err, errlen);
	if (!rc && !complete) {
		char why[300];
		s2_results_partial_why(res, why, sizeof why);
		rc = fail(err, errlen, S2_E_STATE, "partial run: %s", why);
	}
	*out = res;
	res = NULL;
out:
	s2_results_free(res);
	free(st);
	free(last);
	free(moved);
	return rc;
}

/* dst += src, member by member, for a structure of uint64_t counters only. */
static void add_counters(void *dst, const void *src, size_t size)
{
	for (size_t i = 0; i + sizeof(uint64_t) <= size; i += sizeof(uint64_t)) {
		uint64_t a, b;
		memcpy(&a, (char *)dst + i, sizeof a);
		memcpy(&b, (const char *)src + i, sizeof b);
		a += b;
		memcpy((char *)dst + i, &a, sizeof a);
	}
}
_Static_assert(sizeof(struct s2_bulk_stats) % sizeof(uint64_t) == 0, "counters only");
_Static_assert(sizeof(struct s2_stream_stats) % sizeof(uint64_t) == 0, "counters only");

int s2_run(struct s2_deployment *d, const struct s2_run_opts *o, struct s2_results **out, char *err,
           size_t errlen)
{
	static const struct s2_run_opts none;
	if (!o)
		o = &none;
	*out = NULL;
	uint32_t steps = o->duration_ms > 0 ? steps_for(d, o->duration_ms) : d->sized_steps;
	if (!steps)
		steps = steps_for(d, 0);
	uint32_t part = o->part_ms > 0 ? steps_for(d, o->part_ms) : d->fit_steps;
	if (o->part_ms > 0 && !part)
		return fail(err, errlen, S2_E_INVAL, "part_ms %g is less than a timestep (%g ms)",
		            o->part_ms, d->plan->dt_ms);
	if (part > d->sized_steps)
		part = d->sized_steps;
	if (steps <= part || !part) {
		int rc = run_part(d, o, out, err, errlen);
		d->stats.parts = 1;
		return rc;
	}
	/* In parts: the first as asked (from t = 0 or resumed), the others resumed; each part's
	 * recordings are read before the next starts. The deployment's statistics are this
	 * s2_run()'s: the boards' activity counters are their totals since loading (the last
	 * part's), the rest summed over the parts. */
	struct s2_run_opts po = *o;
	struct s2_results *all = NULL;
	struct s2_run_stats sum = {0};
	int rc = 0;
	d->in_parts = true;
	for (uint32_t done = 0; done < steps;) {
		uint32_t n = steps - done < part ? steps - done : part;
		po.duration_ms = n * d->plan->dt_ms;
		po.resume = done ? true : o->resume;
		d->first_part = !done;
		d->last_part = done + n == steps;
		sum.parts++;
		struct s2_results *res = NULL;
		rc = run_part(d, &po, &res, err, errlen);
		sum.run_s += d->stats.run_s;
		sum.collect_s += d->stats.collect_s;
		sum.recording_lost += d->stats.recording_lost;
		add_counters(&sum.rec, &d->stats.rec, sizeof sum.rec);
		add_counters(&sum.stream, &d->stats.stream, sizeof sum.stream);
		if (res && all) {
			int arc = s2_results_append(all, res);
			s2_results_free(res);
			if (arc < 0 && !rc)
				rc = fail(err, errlen, arc,
				          "joining the results of the run's parts: %s",
				          s2_strerror(arc));
		} else if (res) {
			all = res;
		}
		if (rc)
			break;
		done += n;
	}
	d->in_parts = d->first_part = d->last_part = false;
	d->stats.parts = sum.parts;
	d->stats.run_s = sum.run_s;
	d->stats.collect_s = sum.collect_s;
	d->stats.recording_lost = sum.recording_lost;
	d->stats.rec = sum.rec;
	d->stats.stream = sum.stream;
	if (!rc) {
		d->stats.steps = steps;
		d->stats.steps_before = d->steps_run - steps;
	}
	*out = all;
	return rc;
}
