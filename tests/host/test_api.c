/*
 * libs2's high-level calls (session.h, compile.h, run.h, results.h) against a real s2emu
 * ($S2EMU, booted with $S2_FIRMWARE): opening a machine, compiling in memory, deploying,
 * running with live spikes and energy samples, reading the results back, and their errors:
 * a machine file that does not parse, a board selection out of range, a network that does
 * not parse, an image for a bigger machine than the session, a board that is not booted with
 * no firmware to boot it, a board held by another session, and a board that dies mid-run
 * (s2emu --fault-at run:kill: a clear error code, results marked partial, never complete).
 * The energy record of a run (s2/energy_record.h) and its report (s2/energy_report.h): the
 * counters the record took from the live stream are the report's; the record of the run whose
 * board died is marked incomplete and its report refused unless allowed.
 *
 * Every s2emu started here is stopped whatever happens to the test: a failed assertion leaves
 * its test through cmocka's longjmp, and the per-test teardown (and, at exit, an atexit
 * handler) kills every emulator still running; if this process dies outright (a crash, a
 * sanitizer abort, ctest's timeout), the kernel kills them (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "cmocka_runner.h"
#include "s2/app.h"
#include "s2/board.h"
#include "s2/compile.h"
#include "s2/energy_record.h"
#include "s2/energy_report.h"
#include "s2/error.h"
#include "s2/health.h"
#include "s2/metrics.h"
#include "s2/subscribe.h"
#include "s2/transport.h"
#include "s2/machine.h"
#include "s2/network.h"
#include "s2/pedata.h"
#include "s2/wire.h"
#include "s2/run.h"
#include "s2/session.h"

#define NET_SCALE 0.1 /* Vogels-Abbott at 400 neurons: a few PEs */
#define RUN_MS 200.0

static char dir[512];

struct emu {
	pid_t pid;
	char machine[640];
};

/* The emulators running: a test's own emu_stop takes its one off; emu_stop_all the rest. */
static pid_t running[8];

static void emu_track(pid_t pid)
{
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (!running[i]) {
			running[i] = pid;
			return;
		}
	kill(pid, SIGKILL); /* more than this test ever starts: refuse rather than leak it */
	waitpid(pid, NULL, 0);
	fail_msg("more than %zu s2emu processes at once", sizeof running / sizeof running[0]);
}

static void emu_untrack(pid_t pid)
{
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (running[i] == pid)
			running[i] = 0;
}

/* Kill every emulator still running (SIGKILL also ends a SIGSTOPped one) and reap it. */
static void emu_stop_all(void)
{
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (running[i] > 0) {
			kill(running[i], SIGKILL);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
		}
}

/* Teardown of every test: cmocka runs it after a failed assertion too. */
static int emu_teardown(void **state)
{
	(void)state;
	emu_stop_all();
	return 0;
}

/* In the child, before exec: die with this process, and drop its output. */
static void emu_child(pid_t parent)
{
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* the parent died before prctl */
		_exit(127);
#else
	(void)parent;
#endif
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
}

/* Start s2emu (1 board) with extra arguments (NULL-terminated); fails the test if it does
 * not come up within 10 s. */
static void emu_start(struct emu *e, const char *name, const char *fault)
{
	const char *exe = getenv("S2EMU");
	assert_non_null(exe);
	char ready[700];
	snprintf(e->machine, sizeof e->machine, "%s/%s.pb", dir, name);
	snprintf(ready, sizeof ready, "%s/%s.ready", dir, name);
	pid_t parent = getpid();
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		emu_child(parent);
		if (fault)
			execl(exe, exe, "--boards", "1", "--write-machine", e->machine,
			      "--ready-file", ready, "--fault-at", fault, (char *)NULL);
		else
			execl(exe, exe, "--boards", "1", "--write-machine", e->machine,
			      "--ready-file", ready, (char *)NULL);
		_exit(127);
	}
	emu_track(e->pid);
	for (int i = 0; i < 200 && access(ready, F_OK) != 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(access(ready, F_OK), 0);
}

/* s2emu (boards boards) with up to 8 more arguments, NULL-terminated. */
static void emu_start_args(struct emu *e, const char *name, const char *boards, ...)
{
	const char *exe = getenv("S2EMU");
	assert_non_null(exe);
	char ready[600];
	snprintf(e->machine, sizeof e->machine, "%s/%s.pb", dir, name);
	snprintf(ready, sizeof ready, "%s/%s.ready", dir, name);
	const char *argv[20] = {exe,        "--boards",     boards, "--write-machine",
	                        e->machine, "--ready-file", ready};
	unsigned n = 7;
	va_list ap;
	va_start(ap, boards);
	for (const char *a; n < 18 && (a = va_arg(ap, const char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid_t parent = getpid();
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		emu_child(parent);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	emu_track(e->pid);
	for (int i = 0; i < 200 && access(ready, F_OK) != 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(access(ready, F_OK), 0);
}

static void emu_stop(struct emu *e)
{
	kill(e->pid, SIGKILL);
	waitpid(e->pid, NULL, 0);
	emu_untrack(e->pid);
}

static struct s2_session *open_session(const char *machine)
{
	struct s2_session_opts o = {.machine_path = machine, .eth = true, .purpose = "test_api"};
	struct s2_session *s = NULL;
	char err[512];
	int rc = s2_session_open(&o, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_session_open: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

static void app_status(struct s2_session *s, struct s2_msg_app_status *st)
{
	struct s2_op op;
	memset(st, 0, sizeof *st);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_status_start(s2_session_eth(s)[0], st, &op), 0);
	assert_int_equal(s2_op_wait(s2_session_client(s), &op), 0);
}

/* A board that ran (state done) refuses a raw APP_RUN that is not resumed (a run from t = 0
 * it cannot give, protocol 4.15) and changes nothing: it stays done, runs no step, keeps
 * its counters; with the resume flag it runs. */
static void raw_run_refused(struct s2_session *s)
{
	struct s2_msg_app_status before, after;
	app_status(s, &before);
	assert_int_equal(before.state, S2_APP_DONE);
	assert_true(before.neuron_updates > 0);
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_run_start(s2_session_eth(s)[0], 50, 0, &op), 0);
	assert_int_equal(s2_op_wait(s2_session_client(s), &op), S2_E_STATE);
	struct timespec ts = {0, 200 * 1000 * 1000}; /* time for steps it should not run */
	nanosleep(&ts, NULL);
	app_status(s, &after);
	assert_int_equal(after.state, S2_APP_DONE);
	assert_int_equal(after.steps_done, before.steps_done);
	assert_int_equal(after.n_steps, before.n_steps);
	assert_int_equal(after.neuron_updates, before.neuron_updates);
	assert_int_equal(after.synaptic_events, before.synaptic_events);
	assert_int_equal(after.spikes_sent, before.spikes_sent);
	assert_int_equal(after.rec_lost, before.rec_lost);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_run_start(s2_session_eth(s)[0], 5, S2_APP_F_RESUME, &op), 0);
	assert_int_equal(s2_op_wait(s2_session_client(s), &op), 0);
	for (int i = 0; i < 100; i++) { /* at most 20 s */
		nanosleep(&ts, NULL);
		app_status(s, &after);
		if (after.state == S2_APP_DONE && after.steps_done == 5)
			break;
	}
	assert_int_equal(after.state, S2_APP_DONE);
	assert_int_equal(after.steps_done, 5);
	assert_true(after.neuron_updates > before.neuron_updates);
}

static struct s2_plan *compile_va(struct s2_session *s)
{
	char err[512];
	struct s2_net *n = s2_net_example("vogels_abbott", NET_SCALE, err, sizeof err);
	assert_non_null(n);
	struct s2_plan *p = NULL;
	int rc = s2_compile(n, s2_session_machine(s), NULL, &p, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_compile: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(p);
	s2_net_free(n);
	return p;
}

/* ---- errors before anything is sent ---------------------------------------------------- */

static void machine_file_that_does_not_parse(void **state)
{
	(void)state;
	char path[640], err[512] = "";
	snprintf(path, sizeof path, "%s/garbage.pb", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not a machine description\n", f);
	fclose(f);
	struct s2_session_opts o = {.machine_path = path, .eth = true};
	struct s2_session *s = (struct s2_session *)&o; /* must be reset to NULL */
	int rc = s2_session_open(&o, &s, err, sizeof err);
	assert_true(rc < 0);
	assert_int_not_equal(rc, S2_E_NOMEM);
	assert_null(s);
	assert_non_null(strstr(err, "garbage.pb"));
	/* no machine at all, and one that does not exist */
	struct s2_session_opts none = {.eth = true};
	assert_int_equal(s2_session_open(&none, &s, err, sizeof err), S2_E_INVAL);
	snprintf(path, sizeof path, "%s/missing.pb", dir);
	o.machine_path = path;
	assert_true(s2_session_open(&o, &s, err, sizeof err) < 0);
	assert_non_null(strstr(err, "missing.pb"));
}

static void board_selection_out_of_range(void **state)
{
	(void)state;
	char path[640], err[512] = "";
	snprintf(path, sizeof path, "%s/two.pb", dir);
	struct s2_machine *m = s2_machine_new_boards(2, "127.0.0.1", 1);
	assert_non_null(m);
	assert_int_equal(s2_machine_save_file(m, path, err, sizeof err), 0);
	s2_machine_free(m);
	struct s2_session_opts o = {.machine_path = path, .boards = "0,5", .eth = true};
	struct s2_session *s = NULL;
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), S2_E_INVAL);
	assert_non_null(strstr(err, "5"));
	o.boards = "1-0";
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), S2_E_INVAL);
	o.boards = "1";
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), 0);
	assert_false(s2_session_selection(s)[0]);
	assert_true(s2_session_selection(s)[1]);
	s2_session_close(s);
}

static int resolve_two(void *arg, const char *allocation, struct s2_machine **m,
                       const char **boards, char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(allocation, "job42")) {
		snprintf(err, errlen, "no such job");
		return S2_E_NOTFOUND;
	}
	*m = s2_machine_new_boards(2, "127.0.0.1", 1);
	*boards = "1";
	return *m ? 0 : S2_E_NOMEM;
}

static void allocation_through_a_resolver(void **state)
{
	(void)state;
	char err[512];
	struct s2_session *s = NULL;
	struct s2_session_opts o = {.allocation = "job42", .resolve = resolve_two, .eth = true};
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), 0);
	assert_int_equal(s2_session_boards(s), 2);
	assert_false(s2_session_selection(s)[0]);
	assert_true(s2_session_selection(s)[1]);
	s2_session_close(s);
	o.allocation = "job7";
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), S2_E_NOTFOUND);
	assert_non_null(strstr(err, "job7"));
	o.resolve = NULL;
	assert_int_equal(s2_session_open(&o, &s, err, sizeof err), S2_E_INVAL);
}

static void image_that_does_not_parse(void **state)
{
	(void)state;
	char path[640], err[512] = "";
	snprintf(path, sizeof path, "%s/garbage.s2img", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("S2IMAGE but not really an image at all, just text of some length", f);
	fclose(f);
	assert_null(s2_plan_load(path, err, sizeof err));
	assert_non_null(strstr(err, "garbage.s2img"));
	static const uint8_t few[3] = {1, 2, 3};
	assert_null(s2_plan_decode(few, sizeof few, "three bytes", err, sizeof err));
	assert_non_null(strstr(err, "three bytes"));
	snprintf(path, sizeof path, "%s/missing.s2img", dir);
	assert_null(s2_plan_load(path, err, sizeof err));
	assert_non_null(strstr(err, "missing.s2img"));
}

static void network_that_does_not_parse(void **state)
{
	(void)state;
	char err[512] = "";
	struct s2_machine *m = s2_machine_new_boards(1, "127.0.0.1", 1);
	struct s2_plan *p = (struct s2_plan *)m;
	static const char bad[] = "{\"format\": 1, \"populations\": [{\"size\": -3}]";
	assert_int_equal(s2_compile_json(bad, sizeof bad - 1, m, NULL, &p, err, sizeof err),
	                 S2_E_FORMAT);
	assert_null(p);
	assert_true(err[0] != 0);
	s2_machine_free(m);
}

/* ---- against an emulator ----------------------------------------------------------------- */

static void image_for_a_bigger_machine(void **state)
{
	(void)state;
	struct emu e;
	emu_start(&e, "big", NULL);
	struct s2_session *s = open_session(e.machine);
	struct s2_plan *p = compile_va(s);
	p->boards[0].board = 3; /* as if compiled for a machine of 4 boards */
	struct s2_deployment *d = (struct s2_deployment *)s;
	char err[512];
	assert_int_equal(s2_deployment_new(s, p, false, &d, err, sizeof err), S2_E_RANGE);
	assert_null(d);
	assert_non_null(strstr(err, "board 3"));
	/* nothing was taken: the board's lease is free */
	struct s2_msg_lease_rep rep;
	int st;
	s2_session_lease_status(s, &rep, &st);
	assert_int_equal(st, 0);
	assert_false(rep.held);
	s2_session_close(s);
	emu_stop(&e);
}

static void not_booted_and_no_firmware(void **state)
{
	(void)state;
	struct emu e;
	emu_start(&e, "unbooted", NULL);
	struct s2_session *s = open_session(e.machine);
	struct s2_deployment *d = NULL;
	char err[512];
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	/* nothing was deployed before: --deployed is refused */
	assert_true(s2_deployment_check_loaded(d, RUN_MS, err, sizeof err) < 0);
	assert_true(s2_deployment_board_error(d, 0, NULL) < 0);
	s2_deployment_free(d);
	d = NULL;
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	struct s2_deploy_opts o = {.duration_ms = RUN_MS}; /* no firmware */
	assert_int_equal(s2_deploy(d, &o, err, sizeof err), S2_E_STATE);
	assert_non_null(strstr(err, "not booted"));
	const char *what;
	assert_int_equal(s2_deployment_board_error(d, 0, &what), S2_E_STATE);
	assert_int_equal(s2_deployment_live_boards(d), 0);
	struct s2_results *res = (struct s2_results *)d;
	assert_int_equal(s2_run(d, NULL, &res, err, sizeof err), S2_E_STATE);
	assert_null(res);
	s2_deployment_free(d);
	s2_session_close(s);
	emu_stop(&e);
}

struct seen {
	uint64_t spikes, energy, events, progress;
	unsigned phases;
	uint32_t last_step; /* the latest step of a live spike */
};

static void on_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	(void)what;
	(void)done;
	(void)total;
	((struct seen *)arg)->progress++;
}

static void on_phase(void *arg, enum s2_phase ph, bool end)
{
	if (end)
		((struct seen *)arg)->phases |= 1u << ph;
}

static void on_spikes(void *arg, const struct s2_spike *sp, size_t n)
{
	struct seen *x = arg;
	x->spikes += n;
	for (size_t i = 0; i < n; i++)
		if (sp[i].step > x->last_step)
			x->last_step = sp[i].step;
}

static void on_energy(void *arg, const struct s2_energy_sample *e)
{
	(void)e;
	((struct seen *)arg)->energy++;
}

static void on_event(void *arg, const struct s2_run_event *ev)
{
	(void)ev;
	((struct seen *)arg)->events++;
}

static void deploy_run_live_and_results(void **state)
{
	(void)state;
	const char *fw = getenv("S2_FIRMWARE");
	assert_non_null(fw);
	struct emu e;
	emu_start(&e, "ok", NULL);
	struct s2_session *s = open_session(e.machine);
	struct s2_deployment *d = NULL, *d2 = NULL;
	char err[512];
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	/* a second session finds the board held */
	struct s2_session *other = open_session(e.machine);
	assert_int_equal(s2_deployment_new(other, compile_va(other), false, &d2, err, sizeof err),
	                 S2_E_BUSY);
	assert_non_null(strstr(err, "busy"));
	assert_null(d2);
	s2_session_close(other);

	struct seen seen = {0};
	struct s2_run_callbacks cb = {on_progress, on_phase, on_spikes, on_energy, on_event, &seen};
	struct s2_deploy_opts dop = {.duration_ms = RUN_MS, .firmware = fw, .cb = &cb};
	int rc = s2_deploy(d, &dop, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_deploy: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(s2_deployment_stats(d)->booted, 1);
	assert_true(seen.phases & (1u << S2_PHASE_LOAD));
	struct s2_run_opts rop = {.duration_ms = RUN_MS, .energy_every = 50, .cb = &cb};
	struct s2_results *res = NULL;
	rc = s2_run(d, &rop, &res, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_run: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(res);
	assert_true(res->complete);
	assert_int_equal(res->steps, (uint32_t)(RUN_MS / res->dt_ms + 0.5));
	assert_int_equal(res->n_boards, 1);
	assert_int_equal(res->boards[0].status, S2_RESULTS_BOARD_COMPLETE);
	uint64_t recorded = 0;
	for (unsigned p = 0; p < res->n_pops; p++)
		recorded += res->pops[p].n_spikes;
	const struct s2_run_stats *rs = s2_deployment_stats(d);
	assert_true(recorded > 0);
	/* every spike recorded also arrived live, none lost on the way */
	assert_int_equal(rs->stream.lost, 0);
	assert_int_equal(seen.spikes, recorded);
	assert_true(seen.energy > 0);
	assert_true(seen.events >= 2); /* started, finished */
	assert_true(seen.progress > 0);
	assert_true(seen.phases & (1u << S2_PHASE_RUN));
	assert_true(seen.phases & (1u << S2_PHASE_READOUT));
	/* the results file round trip */
	char path[640];
	snprintf(path, sizeof path, "%s/ok.s2res", dir);
	assert_int_equal(s2_results_write(res, path, err, sizeof err), 0);
	int rrc = 0;
	struct s2_results *back = s2_results_read(path, 0, &rrc, err, sizeof err);
	assert_non_null(back);
	assert_true(back->complete);
	assert_int_equal(back->n_pops, res->n_pops);
	for (unsigned p = 0; p < res->n_pops; p++)
		assert_int_equal(back->pops[p].n_spikes, res->pops[p].n_spikes);
	s2_results_free(back);
	s2_results_free(res);
	/* pause and resume: continue for half the time; longer than the recordings were sized
	 * for goes in parts; the same network given again changes nothing */
	struct s2_run_opts rsm = {.duration_ms = RUN_MS / 2, .resume = true};
	rc = s2_run(d, &rsm, &res, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_run resume: %s\n", err);
	assert_int_equal(rc, 0);
	assert_true(res->complete);
	assert_int_equal(res->steps, (uint32_t)(RUN_MS / 2 / res->dt_ms + 0.5));
	assert_int_equal(s2_deployment_stats(d)->steps_before,
	                 (uint64_t)(RUN_MS / res->dt_ms + 0.5));
	s2_results_free(res);
	res = NULL;
	/* longer than the recordings were sized for: in two parts, as one run (the live
	 * spikes' steps are the board's, since loading: 1.5 runs before this one) */
	struct seen two = {0};
	struct s2_run_callbacks cb3 = {.spikes = on_spikes, .arg = &two};
	rsm.duration_ms = 2 * RUN_MS;
	rsm.cb = &cb3;
	rc = s2_run(d, &rsm, &res, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_run resume in parts: %s\n", err);
	assert_int_equal(rc, 0);
	assert_true(res->complete);
	assert_int_equal(s2_deployment_stats(d)->parts, 2);
	uint32_t sized = (uint32_t)(RUN_MS / res->dt_ms + 0.5);
	assert_int_equal(res->steps, 2 * sized);
	uint64_t both = 0;
	uint32_t last = 0;
	for (unsigned p = 0; p < res->n_pops; p++) {
		both += res->pops[p].n_spikes;
		for (uint64_t i = 0; i < res->pops[p].n_spikes; i++)
			if (res->pops[p].spikes[i].step > last)
				last = res->pops[p].spikes[i].step;
	}
	assert_int_equal(two.spikes, both);
	assert_true(last >= sized && last < 2 * sized); /* the second part's, shifted */
	assert_int_equal(two.last_step, last + sized + sized / 2);
	s2_results_free(res);
	res = NULL;
	rsm.cb = NULL;
	assert_int_equal(s2_deployment_update(d, compile_va(s), err, sizeof err), 0);
	/* new parameters for the first PE (its first parameter 0.5 mV higher): written and
	 * taken; a new seed is refused, naming it, and changes nothing */
	struct s2_plan *np = compile_va(s);
	struct s2_app_pe *pe0 = &np->boards[0].chips[0].pes[0];
	struct s2_pedata pd;
	assert_int_equal(s2_pedata_decode(pe0->pedata, pe0->len, &pd), 0);
	uint8_t *par = pe0->pedata + (pd.sect[S2_SECT_PARAMS] - pe0->pedata);
	float f;
	memcpy(&f, par, 4);
	f += 0.5f;
	memcpy(par, &f, 4);
	rc = s2_deployment_update(d, np, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_deployment_update: %s\n", err);
	assert_int_equal(rc, 0);
	np = compile_va(s);
	s2_st32(np->boards[0].chips[0].pes[0].pedata + 20, 12345); /* the seed */
	assert_int_equal(s2_deployment_update(d, np, err, sizeof err), S2_E_STATE);
	assert_non_null(strstr(err, "seed"));
	rsm.duration_ms = RUN_MS / 2;
	assert_int_equal(s2_run(d, &rsm, &res, err, sizeof err), 0);
	assert_true(res->complete);
	s2_results_free(res);
	res = NULL;
	/* a run that is not resumed would not start at t = 0 (the PEs go on from their state,
	 * the recordings hold the last run's): refused, changing nothing; and so is running
	 * what already ran as if it were freshly loaded (s2ctl run --deployed) */
	struct s2_run_opts fresh = {.duration_ms = RUN_MS};
	assert_int_equal(s2_run(d, &fresh, &res, err, sizeof err), S2_E_STATE);
	assert_non_null(strstr(err, "already ran"));
	assert_null(res);
	assert_int_equal(s2_run(d, &rsm, &res, err, sizeof err), 0); /* resuming still works */
	s2_results_free(res);
	res = NULL;
	raw_run_refused(s);
	assert_int_equal(s2_deployment_check_loaded(d, RUN_MS, err, sizeof err), S2_E_STATE);
	assert_non_null(strstr(err, "already ran since it was deployed"));
	s2_deployment_free(d);
	/* a new deployment on the same session (its lease replaces the first), live spikes only
	 * (no energy samples): every recorded spike still arrives live */
	d = NULL;
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	struct s2_deploy_opts dop2 = {.duration_ms = RUN_MS, .firmware = fw};
	assert_int_equal(s2_deploy(d, &dop2, err, sizeof err), 0);
	assert_int_equal(s2_deployment_stats(d)->booted, 0); /* booted already */
	struct seen only = {0};
	struct s2_run_callbacks cb2 = {.spikes = on_spikes, .arg = &only};
	struct s2_run_opts rop2 = {.duration_ms = RUN_MS, .cb = &cb2};
	rc = s2_run(d, &rop2, &res, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_run again: %s\n", err);
	assert_int_equal(rc, 0);
	recorded = 0;
	for (unsigned p = 0; p < res->n_pops; p++)
		recorded += res->pops[p].n_spikes;
	assert_true(recorded > 0);
	assert_int_equal(only.spikes, recorded);
	assert_int_equal(s2_deployment_stats(d)->stream.lost, 0);
	s2_results_free(res);
	s2_deployment_free(d);
	s2_session_close(s);
	emu_stop(&e);
}

/* Poll the board's APP_STATUS until its state is want (at most 20 s). */
static void await_state(struct s2_session *s, uint8_t want, struct s2_msg_app_status *st)
{
	for (int i = 0; i < 400; i++) {
		app_status(s, st);
		if (st->state == want)
			return;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(st->state, want);
}

/* A host of an earlier s2 sends a 24-byte APP_LOAD (no rec_hdr): the board keeps the first
 * layout of the recording regions, a 48-byte header with five counters and the data right
 * after it, and the run is the one libs2 gets with the 80-byte header (protocol 4.15). */
static void earlier_hosts_recording_layout(void **state)
{
	(void)state;
	const char *fw = getenv("S2_FIRMWARE");
	assert_non_null(fw);
	struct emu e;
	emu_start(&e, "v1", NULL);
	struct s2_session *s = open_session(e.machine);
	char err[512];
	/* the reference: libs2's load and run */
	struct s2_deployment *d = NULL;
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	struct s2_deploy_opts dop = {.duration_ms = RUN_MS, .firmware = fw};
	assert_int_equal(s2_deploy(d, &dop, err, sizeof err), 0);
	struct s2_run_opts rop = {.duration_ms = RUN_MS};
	struct s2_results *res = NULL;
	assert_int_equal(s2_run(d, &rop, &res, err, sizeof err), 0);
	uint64_t want_spikes = 0, want_clip[S2_REC_CLIPS_V1] = {0};
	for (unsigned p = 0; p < res->n_pops; p++) {
		want_spikes += res->pops[p].n_spikes;
		for (unsigned k = 0; k < S2_CLIP_PLASTIC; k++)
			want_clip[k] += res->pops[p].clip[k];
	}
	assert_true(want_spikes > 0);
	s2_results_free(res);
	s2_deployment_free(d);
	/* the same network loaded as an earlier host loads it */
	struct s2_plan *plan = compile_va(s);
	struct s2_plan_board *pb = &plan->boards[0];
	struct s2_conn *eth = s2_session_eth(s)[0];
	struct s2_client *c = s2_session_client(s);
	uint32_t steps = (uint32_t)(RUN_MS / plan->dt_ms + 0.5);
	for (unsigned ch = 0; ch < pb->n_chips; ch++)
		for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
			const struct s2_plan_pe_info *in = &pb->info[ch][q];
			pb->chips[ch].pes[q].rec_size[0] =
			        S2_REC_HDR_LEN_V1 +
			        (in->rec_spikes ? steps * ((in->n + 7) / 8) : 0);
			pb->chips[ch].pes[q].rec_size[1] = 0;
		}
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_write_start(eth, pb->chips, pb->n_chips, NULL, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), 0);
	s2_op_init(&op, NULL, NULL);
	for (unsigned ch = 0; ch < pb->n_chips; ch++) {
		const struct s2_app_chip *ac = &pb->chips[ch];
		uint8_t body[64];
		struct s2_msg_router_load rl = {S2_APP_DATA_ADDR, ac->n_rt};
		int len = s2_msg_router_load_encode(body, sizeof body, &rl);
		assert_int_equal(s2_simple_start(eth, S2_MSG_ROUTER_LOAD, ac->chip, S2_PE_MONITOR,
		                                 body, (size_t)len, NULL, 0, NULL, &op),
		                 0);
		for (unsigned q = 0; q < ac->n_pes; q++) {
			struct s2_app_area ar = s2_app_area(q, ac->n_pes);
			struct s2_msg_app_load al = {.blob_addr =
			                                     S2_APP_DATA_ADDR + ac->blob_off[q],
			                             .blob_len = ac->pes[q].len,
			                             .rec_addr = {ar.rec[0], ar.rec[1]},
			                             .rec_size = {ac->pes[q].rec_size[0], 0}};
			len = s2_msg_app_load_encode(body, sizeof body, &al);
			assert_int_equal(len, 24);
			assert_int_equal(s2_simple_start(eth, S2_MSG_APP_LOAD, ac->chip,
			                                 ac->pes[q].pe, body, (size_t)len, NULL, 0,
			                                 NULL, &op),
			                 0);
		}
	}
	assert_int_equal(s2_op_wait(c, &op), 0);
	struct s2_msg_app_status st;
	await_state(s, S2_APP_LOADED, &st);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_run_start(eth, steps, 0, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), 0);
	await_state(s, S2_APP_DONE, &st);
	/* every spike region: the 48-byte header, then the bitmaps */
	uint64_t spikes = 0, clip[S2_REC_CLIPS_V1] = {0};
	for (unsigned ch = 0; ch < pb->n_chips; ch++)
		for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
			const struct s2_plan_pe_info *in = &pb->info[ch][q];
			uint32_t size = pb->chips[ch].pes[q].rec_size[0];
			uint8_t *r = malloc(size);
			assert_non_null(r);
			s2_op_init(&op, NULL, NULL);
			assert_int_equal(
			        s2_mem_read_start(
			                eth, pb->chips[ch].chip, S2_PE_MONITOR, S2_MEM_DRAM,
			                s2_app_area(q, pb->chips[ch].n_pes).rec[0], r, size, &op),
			        0);
			assert_int_equal(s2_op_wait(c, &op), 0);
			assert_int_equal(s2_ld32(r), size - S2_REC_HDR_LEN_V1); /* recorded */
			assert_int_equal(s2_ld32(r + 4), 0);                    /* lost */
			for (unsigned k = 0; k < S2_CLIP_PLASTIC; k++)
				clip[k] += s2_ld64(r + 8 + 8 * k);
			for (uint32_t i = S2_REC_HDR_LEN_V1; in->rec_spikes && i < size; i++)
				spikes += (uint64_t)__builtin_popcount(r[i]);
			free(r);
		}
	assert_int_equal(spikes, want_spikes);
	assert_memory_equal(clip, want_clip, sizeof clip);
	s2_app_release(pb->chips, pb->n_chips);
	s2_plan_free(plan);
	s2_session_close(s);
	emu_stop(&e);
}

static void board_dies_mid_run(void **state)
{
	(void)state;
	const char *fw = getenv("S2_FIRMWARE");
	assert_non_null(fw);
	struct emu e;
	emu_start(&e, "dies", "run:kill:100"); /* SIGKILL at the 100th completed step */
	struct s2_session *s = open_session(e.machine);
	struct s2_deployment *d = NULL;
	char err[512];
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	struct s2_deploy_opts dop = {.duration_ms = RUN_MS, .firmware = fw, .stall_s = 5};
	assert_int_equal(s2_deploy(d, &dop, err, sizeof err), 0);
	struct s2_results *res = NULL;
	struct s2_run_opts rop = {.duration_ms = RUN_MS, .stall_s = 5};
	int rc = s2_run(d, &rop, &res, err, sizeof err);
	assert_int_equal(rc, S2_E_TIMEOUT);
	assert_non_null(strstr(err, "board 0"));
	assert_int_equal(s2_deployment_board_error(d, 0, NULL), S2_E_TIMEOUT);
	/* what there is, is marked partial, never complete */
	assert_non_null(res);
	assert_false(res->complete);
	assert_int_equal(res->n_boards, 1);
	assert_int_equal(res->boards[0].status, S2_RESULTS_BOARD_NO_ANSWER);
	assert_true(res->boards[0].last_step < res->steps);
	assert_false(s2_results_is_complete(res));
	char path[640];
	snprintf(path, sizeof path, "%s/dies.s2res", dir);
	assert_int_equal(s2_results_write(res, path, err, sizeof err), 0);
	int rrc = 0;
	assert_null(s2_results_read(path, 0, &rrc, err, sizeof err));
	assert_int_equal(rrc, S2_E_STATE);
	struct s2_results *back =
	        s2_results_read(path, S2_RESULTS_ALLOW_PARTIAL, &rrc, err, sizeof err);
	assert_non_null(back);
	assert_false(back->complete);
	s2_results_free(back);
	s2_results_free(res);
	s2_deployment_free(d);
	s2_session_close(s);
	emu_stop(&e);
}

/* ---- the energy record of a run, and its report ---------------------------------------- */

struct rec_run {
	struct s2_energy_record *er;
	struct s2_energy_host h[4][2];
	bool seen[4];
	uint64_t syn; /* synaptic events over every sample, the last of each chip */
};

static void rec_phase(void *arg, enum s2_phase ph, bool end)
{
	struct rec_run *x = arg;
	s2_energy_host_now(&x->h[ph][end]);
	x->seen[ph] = true;
}

static void rec_energy(void *arg, const struct s2_energy_sample *e)
{
	struct rec_run *x = arg;
	s2_energy_record_sample(x->er, e);
}

static void rec_event(void *arg, const struct s2_run_event *ev)
{
	struct rec_run *x = arg;
	s2_energy_record_event(x->er, ev);
}

/* Deploy and run VA on the emulator e with an energy record written to dir/NAME.energy;
 * the run's return code. */
static int run_recorded(struct emu *e, const char *name, char *rec, size_t reclen)
{
	const char *fw = getenv("S2_FIRMWARE");
	struct s2_session *s = open_session(e->machine);
	struct s2_deployment *d = NULL;
	char err[512];
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	const struct s2_plan *plan = s2_deployment_plan(d);
	struct rec_run x = {0};
	x.er = s2_energy_record_start(s, plan, 20, err, sizeof err);
	assert_non_null(x.er);
	struct s2_run_callbacks cb = {
	        .phase = rec_phase, .energy = rec_energy, .event = rec_event, .arg = &x};
	struct s2_deploy_opts dop = {
	        .duration_ms = RUN_MS, .firmware = fw, .stall_s = 5, .cb = &cb};
	assert_int_equal(s2_deploy(d, &dop, err, sizeof err), 0);
	struct s2_results *res = NULL;
	struct s2_run_opts rop = {
	        .duration_ms = RUN_MS, .stall_s = 5, .energy_every = 20, .cb = &cb};
	int rc = s2_run(d, &rop, &res, err, sizeof err);
	static const char *const names[] = {"boot", "load", "run", "readout"};
	for (unsigned ph = 0; ph < 4; ph++)
		if (x.seen[ph])
			s2_energy_record_phase(x.er, names[ph], &x.h[ph][0], &x.h[ph][1]);
	s2_energy_record_stream_stats(x.er, &s2_deployment_stats(d)->stream);
	char why[300];
	struct s2_energy_record_info info = {.image = "va (in memory)",
	                                     .machine = e->machine,
	                                     .firmware = fw,
	                                     .booted = s2_deployment_stats(d)->booted,
	                                     .network = plan->network,
	                                     .network_crc32 = plan->network_crc32};
	if (!res || !res->complete) {
		if (res)
			s2_results_partial_why(res, why, sizeof why);
		info.partial = res ? why : "no results";
	}
	snprintf(rec, reclen, "%s/%s.energy", dir, name);
	assert_int_equal(s2_energy_record_write(x.er, rec, &info, plan->dt_ms,
	                                        s2_deployment_stats(d)->steps, err, sizeof err),
	                 0);
	s2_energy_record_free(x.er);
	s2_results_free(res);
	s2_deployment_free(d);
	s2_session_close(s);
	return rc;
}

static void energy_record_and_report(void **state)
{
	(void)state;
	struct emu e;
	emu_start(&e, "energy", NULL);
	char rec[640], err[1024];
	assert_int_equal(run_recorded(&e, "va", rec, sizeof rec), 0);
	emu_stop(&e);
	struct s2_energy_report *r = NULL;
	int rc = s2_energy_report_open(rec, NULL, &r, err, sizeof err);
	if (rc)
		fprintf(stderr, "s2_energy_report_open: %s\n", err);
	assert_int_equal(rc, 0);
	assert_null(s2_energy_report_partial(r));
	struct s2_energy_figures f;
	s2_energy_report_figures(r, &f);
	assert_int_equal(f.steps, (uint64_t)(RUN_MS / 0.1 + 0.5));
	assert_true(f.synaptic_events > 0);
	assert_true(f.run_dynamic_j > 0);
	assert_true(f.run_j > f.run_dynamic_j); /* and the boards' static power */
	assert_int_equal(f.booted_boards, 1);
	assert_true(f.run_host_s > 0 && f.load_s > 0);
	s2_energy_report_free(r);
	/* the record is sealed: one byte changed is refused, naming the damage */
	FILE *fp = fopen(rec, "r+");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 40, SEEK_SET), 0);
	int ch = fgetc(fp);
	assert_int_equal(fseek(fp, 40, SEEK_SET), 0);
	fputc(ch == '1' ? '2' : '1', fp);
	fclose(fp);
	r = (struct s2_energy_report *)&r;
	rc = s2_energy_report_open(rec, NULL, &r, err, sizeof err);
	assert_true(rc == S2_E_FORMAT);
	assert_null(r);
}

static void energy_record_of_a_board_that_dies(void **state)
{
	(void)state;
	struct emu e;
	emu_start(&e, "edies", "run:kill:100");
	char rec[640], err[1024];
	assert_int_equal(run_recorded(&e, "dies", rec, sizeof rec), S2_E_TIMEOUT);
	emu_stop(&e);
	/* the record says the run did not complete; its report is refused unless allowed */
	struct s2_energy_report *r = (struct s2_energy_report *)&r;
	assert_int_equal(s2_energy_report_open(rec, NULL, &r, err, sizeof err), S2_E_STATE);
	assert_null(r);
	assert_non_null(strstr(err, "record of a partial run"));
	assert_non_null(strstr(err, "board 0"));
	struct s2_energy_report_opts o = {.allow_partial = true};
	assert_int_equal(s2_energy_report_open(rec, &o, &r, err, sizeof err), 0);
	assert_non_null(s2_energy_report_partial(r));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(s2_energy_report_json(r, f), 0);
	fclose(f);
	assert_null(strstr(buf, "\"partial\":null"));
	assert_non_null(strstr(buf, "\"partial\":\"board 0"));
	free(buf);
	s2_energy_report_free(r);
}

/* ---- boot and health (s2/health.h) -------------------------------------------------------- */

static void monitor_image_errors(void **state)
{
	(void)state;
	uint8_t *img = (uint8_t *)&img;
	size_t len = 1;
	char err[512], path[600];
	snprintf(path, sizeof path, "%s/none.bin", dir);
	assert_int_equal(s2_monitor_image_load(path, &img, &len, err, sizeof err), S2_E_IO);
	assert_null(img);
	assert_non_null(strstr(err, "none.bin"));
	snprintf(path, sizeof path, "%s/short.bin", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a monitor image", f);
	fclose(f);
	assert_int_equal(s2_monitor_image_load(path, &img, &len, err, sizeof err), S2_E_FORMAT);
	assert_null(img);
	assert_non_null(strstr(err, "not a monitor image for protocol"));
	assert_int_equal(s2_monitor_image_load(getenv("S2_FIRMWARE"), &img, &len, err, sizeof err),
	                 0);
	assert_non_null(img);
	assert_true(len > 0);
	free(img);
}

static void boot_survey_and_check(void **state)
{
	(void)state;
	struct emu e;
	emu_start_args(&e, "health", "2", "--dead-chip", "0:5", "--dead-pe", "1:40:151",
	               "--dead-link", "1:20:1", (const char *)NULL);
	struct s2_session *s = open_session(e.machine);
	char err[512];
	assert_int_equal(s2_session_lease(s, false, err, sizeof err), 0);
	struct s2_board_health rep[2];
	memset(rep, 0, sizeof rep);
	/* not booted yet: BOARD_STATUS says so */
	assert_int_equal(s2_health_status(s, rep), S2_E_STATE);
	assert_int_equal(rep[1].status, S2_E_STATE);
	assert_string_equal(rep[1].what, "BOARD_STATUS (board not booted)");
	memset(rep, 0, sizeof rep);
	uint8_t *img;
	size_t len;
	assert_int_equal(s2_monitor_image_load(getenv("S2_FIRMWARE"), &img, &len, err, sizeof err),
	                 0);
	assert_int_equal(s2_health_boot(s, img, len, NULL, NULL, rep), 0);
	free(img);
	assert_int_equal(s2_health_survey(s, NULL, NULL, rep), 0);
	struct s2_board_check c0, c1;
	assert_int_equal(s2_health_check(s, rep, 0, &c0), 0);
	assert_int_equal(s2_health_check(s, rep, 1, &c1), 0);
	assert_int_equal(c0.chips_expected, 48);
	assert_int_equal(c0.chips_alive, 47);
	assert_int_equal(c0.n_dead_chips, 1);
	assert_int_equal(c0.dead_chips[0], 5);
	assert_int_equal(c1.n_dead_pes, 1);
	assert_int_equal(c1.dead_pes[0].chip, 40);
	assert_int_equal(c1.dead_pes[0].item, 151);
	assert_int_equal(c1.pes_alive, c1.pes_expected - 1);
	/* the dead link seen from both of its ends: one on board 1, one on its neighbour */
	assert_true(c1.n_dead_links >= 1);
	bool seen = false;
	for (size_t i = 0; i < c1.n_dead_links; i++)
		seen |= c1.dead_links[i].chip == 20 && c1.dead_links[i].item == 1;
	assert_true(seen);
	assert_int_equal(c0.n_dead_links + c1.n_dead_links, 2);
	s2_board_check_free(&c0);
	s2_board_check_free(&c1);
	/* now booted: BOARD_STATUS agrees */
	memset(rep, 0, sizeof rep);
	assert_int_equal(s2_health_status(s, rep), 0);
	/* a board outside the selection cannot be checked */
	s2_session_close(s);
	struct s2_session_opts so = {
	        .machine_path = e.machine, .eth = true, .boards = "1", .purpose = "test_api"};
	assert_int_equal(s2_session_open(&so, &s, err, sizeof err), 0);
	assert_int_equal(s2_health_check(s, rep, 0, &c0), S2_E_INVAL);
	s2_board_check_free(&c0);
	s2_session_close(s);
	emu_stop(&e);
}

static void board_dies_while_booting(void **state)
{
	(void)state;
	struct emu e;
	emu_start_args(&e, "bootdies", "1", "--fault-at", "boot:kill", (const char *)NULL);
	struct s2_session *s = open_session(e.machine);
	char err[512];
	assert_int_equal(s2_session_lease(s, false, err, sizeof err), 0);
	struct s2_board_health rep[1];
	memset(rep, 0, sizeof rep);
	uint8_t *img;
	size_t len;
	assert_int_equal(s2_monitor_image_load(getenv("S2_FIRMWARE"), &img, &len, err, sizeof err),
	                 0);
	int rc = s2_health_boot(s, img, len, NULL, NULL, rep);
	free(img);
	assert_int_equal(rc, S2_E_TIMEOUT);
	assert_int_equal(rep[0].status, S2_E_TIMEOUT);
	assert_true(rep[0].what[0] != 0); /* the step it failed at */
	/* the survey leaves the failed board out; its check lists every chip dead */
	assert_int_equal(s2_health_survey(s, NULL, NULL, rep), 0);
	struct s2_board_check c;
	assert_int_equal(s2_health_check(s, rep, 0, &c), 0);
	assert_int_equal(c.chips_alive, 0);
	assert_int_equal(c.n_dead_chips, c.chips_expected);
	s2_board_check_free(&c);
	s2_session_close(s);
	emu_stop(&e);
}

/* ---- listening to a network that runs (s2/subscribe.h) and its energy for Prometheus ---- */

struct heard {
	unsigned long long spikes, samples, events;
};

static void heard_spikes(void *arg, const struct s2_spike *sp, size_t n)
{
	(void)sp;
	((struct heard *)arg)->spikes += n;
}

static void heard_energy(void *arg, const struct s2_energy_sample *e)
{
	(void)e;
	((struct heard *)arg)->samples++;
}

static void heard_event(void *arg, const struct s2_run_event *ev)
{
	(void)ev;
	((struct heard *)arg)->events++;
}

static void subscribe_watch_and_a_board_that_dies(void **state)
{
	(void)state;
	const char *fw = getenv("S2_FIRMWARE");
	struct emu e;
	emu_start(&e, "listen", NULL);
	struct s2_session *s = open_session(e.machine);
	struct s2_deployment *d = NULL;
	char err[512];
	assert_int_equal(s2_deployment_new(s, compile_va(s), false, &d, err, sizeof err), 0);
	const struct s2_plan *plan = s2_deployment_plan(d);
	struct s2_deploy_opts dop = {.duration_ms = RUN_MS, .firmware = fw, .stall_s = 5};
	assert_int_equal(s2_deploy(d, &dop, err, sizeof err), 0);
	/* a second listener, as s2ctl stream is, on the session's event loop */
	struct heard h = {0};
	struct s2_stream_callbacks cb = {heard_spikes, heard_energy, heard_event, &h};
	struct s2_stream *st = s2_stream_new(0x51ab, &cb);
	assert_non_null(st);
	uint16_t port = 0;
	assert_int_equal(
	        s2_stream_listen(st, s2_client_base(s2_session_client(s)), "127.0.0.1", 0, &port),
	        0);
	unsigned boards = 0;
	bool sent = false;
	assert_int_equal(s2_stream_subscribe(s, st, plan, NULL, 0,
	                                     S2_LIVE_F_SPIKES | S2_LIVE_F_ENERGY, 50, port, &boards,
	                                     &sent, err, sizeof err),
	                 0);
	assert_int_equal(boards, 1);
	assert_true(sent);
	struct s2_results *res = NULL;
	struct s2_run_opts rop = {.duration_ms = RUN_MS, .stall_s = 5};
	assert_int_equal(s2_run(d, &rop, &res, err, sizeof err), 0);
	/* what the run recorded, the listener heard */
	uint64_t recorded = 0;
	for (unsigned p = 0; p < res->n_pops; p++)
		recorded += res->pops[p].n_spikes;
	struct event_base *base = s2_client_base(s2_session_client(s));
	for (int i = 0; i < 10 && h.spikes < recorded; i++) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_true(recorded > 0);
	assert_int_equal(h.spikes, recorded);
	assert_true(h.samples > 0 && h.events > 0);
	assert_int_equal(s2_stream_stats(st)->lost, 0);
	s2_results_free(res);
	/* the watch: quiet while the board answers, then names it once it stops */
	struct s2_stream_watch *w = s2_stream_watch_new(s, plan);
	assert_non_null(w);
	assert_int_equal(s2_stream_watch_poll(w, err, sizeof err), 0);
	kill(e.pid, SIGSTOP);
	int rc = 0;
	for (int i = 0; i < 600 && rc == 0; i++) { /* at most 30 s: two probes time out */
		struct timeval tv = {0, 50000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		rc = s2_stream_watch_poll(w, err, sizeof err);
	}
	assert_int_equal(rc, S2_E_TIMEOUT);
	assert_non_null(strstr(err, "board 0 stopped answering while streaming"));
	assert_non_null(strstr(err, "two probes in a row"));
	s2_stream_watch_free(w);
	/* subscribing to a board that does not answer: its silence, named */
	rc = s2_stream_subscribe(s, st, plan, NULL, 0, S2_LIVE_F_SPIKES, 0, port, &boards, &sent,
	                         err, sizeof err);
	assert_int_equal(rc, S2_E_TIMEOUT);
	assert_true(sent);
	assert_non_null(strstr(err, "board 0: STREAM_START:"));
	kill(e.pid, SIGCONT);
	s2_stream_unsubscribe(s, plan, 0x51ab);
	s2_stream_free(st);
	s2_deployment_free(d);
	s2_session_close(s);
	emu_stop(&e);
}

static char metrics_line[256];

static void metrics_log(void *arg, const char *line)
{
	(void)arg;
	snprintf(metrics_line, sizeof metrics_line, "%s", line);
}

/* GET /metrics from 127.0.0.1:port while the event loop runs; the reply (malloc'd). */
static char *http_get(struct event_base *base, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	char *buf = calloc(1, 65536);
	size_t len = 0;
	for (int i = 0; i < 200; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t got = recv(fd, buf + len, 65535 - len, MSG_DONTWAIT);
		if (got == 0)
			break;
		if (got > 0)
			len += (size_t)got;
		else {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	return buf;
}

static void metrics_export(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	assert_non_null(base);
	char err[256] = "";
	assert_null(s2_metrics_open(base, "udp:127.0.0.1:1", "r", NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "is not tcp:ADDR:PORT"));
	struct s2_metrics *m =
	        s2_metrics_open(base, "tcp:127.0.0.1:0", "va", metrics_log, NULL, err, sizeof err);
	assert_non_null(m);
	const char *at = strstr(metrics_line, "http://127.0.0.1:");
	assert_non_null(at);
	uint16_t port = (uint16_t)atoi(at + 17);
	/* the port is taken now */
	char spec[64];
	snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", port);
	assert_null(s2_metrics_open(base, spec, "r", NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "cannot listen"));
	struct s2_run_event ev = {.board = 0, .event = S2_LIVE_STARTED};
	s2_metrics_event(m, &ev);
	struct s2_energy_sample smp = {.board = 0, .chip = 3};
	smp.counters[S2_LC_SYNAPTIC_EVENTS] = 100;
	s2_metrics_energy(m, &smp);
	smp.counters[S2_LC_SYNAPTIC_EVENTS] = 1100;
	s2_metrics_energy(m, &smp);
	char *body = http_get(base, port);
	assert_non_null(strstr(body, "200 OK"));
	assert_non_null(
	        strstr(body, "s2_synaptic_events_total{run=\"va\",board=\"0\",chip=\"3\"} 1100"));
	assert_non_null(strstr(body, "phase=\"run\""));
	assert_non_null(strstr(body, "# EOF"));
	free(body);
	s2_metrics_close(m);
	s2_metrics_close(NULL);
	event_base_free(base);
}

int main(void)
{
	if (!getenv("S2EMU") || !getenv("S2_FIRMWARE") || access(getenv("S2_FIRMWARE"), R_OK)) {
		printf("test_api: skipped, needs S2EMU and S2_FIRMWARE (the monitor image)\n");
		return 77;
	}
	if (!s2t_mkdtemp(dir, sizeof dir, "s2api."))
		return 1;
	atexit(emu_stop_all); /* runs before the directory's removal, registered earlier */
#define TEST(f) cmocka_unit_test_teardown(f, emu_teardown)
	const struct CMUnitTest t[] = {
	        TEST(machine_file_that_does_not_parse),
	        TEST(board_selection_out_of_range),
	        TEST(allocation_through_a_resolver),
	        TEST(image_that_does_not_parse),
	        TEST(network_that_does_not_parse),
	        TEST(image_for_a_bigger_machine),
	        TEST(not_booted_and_no_firmware),
	        TEST(deploy_run_live_and_results),
	        TEST(earlier_hosts_recording_layout),
	        TEST(board_dies_mid_run),
	        TEST(energy_record_and_report),
	        TEST(energy_record_of_a_board_that_dies),
	        TEST(monitor_image_errors),
	        TEST(boot_survey_and_check),
	        TEST(board_dies_while_booting),
	        TEST(subscribe_watch_and_a_board_that_dies),
	        TEST(metrics_export),
	};
#undef TEST
	int failed = s2t_run_cmocka("api", NULL, 0, t, sizeof t / sizeof t[0]);
	return failed ? 1 : 0; /* dir goes with s2t_tmpdir() at exit */
}
