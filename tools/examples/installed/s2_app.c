/*
 * A host application on libs2's high-level API (docs/api.md): open a machine, deploy a
 * network image, run it while taking the live spikes and energy samples as they arrive, and
 * print the results. Built against the installed package:
 *
 *   cc -std=c11 s2_app.c -o s2_app $(pkg-config --cflags --libs s2)
 *   ./s2_app MACHINE.pb NETWORK.s2img [DURATION_MS [FIRMWARE]]
 *
 * FIRMWARE (default $S2_FIRMWARE) boots boards that are not booted. Exit 0 if the run
 * completed on every board, 1 if not (the results are then partial and say why), 2 on bad
 * arguments.
 */
#include <stdio.h>
#include <stdlib.h>

#include <s2/s2.h>

struct live {
	unsigned long long spikes, samples;
	unsigned first_printed;
};

static void on_spikes(void *arg, const struct s2_spike *s, size_t n)
{
	struct live *l = arg;
	for (size_t i = 0; i < n && l->first_printed < 5; i++, l->first_printed++)
		printf("live spike: population %u neuron %u step %u\n", s[i].pop, s[i].neuron,
		       s[i].step);
	l->spikes += n;
}

static void on_energy(void *arg, const struct s2_energy_sample *e)
{
	struct live *l = arg;
	if (l->samples++ == 0)
		printf("first energy sample: board %u chip %u step %u, %llu synaptic events\n",
		       e->board, e->chip, e->step,
		       (unsigned long long)e->counters[S2_LC_SYNAPTIC_EVENTS]);
}

static void on_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	(void)arg;
	if (done == total)
		fprintf(stderr, "%s: %llu of %llu\n", what, (unsigned long long)done,
		        (unsigned long long)total);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr,
		        "usage: s2_app MACHINE.pb NETWORK.s2img [DURATION_MS [FIRMWARE]]\n");
		return 2;
	}
	double duration = argc > 3 ? atof(argv[3]) : 0;
	const char *fw = argc > 4 ? argv[4] : getenv("S2_FIRMWARE");
	char err[512];
	int rc, ec = 1;
	struct s2_session *s = NULL;
	struct s2_deployment *d = NULL;
	struct s2_results *res = NULL;

	/* 1. The machine's boards, and the image laid out for them. */
	struct s2_session_opts so = {.machine_path = argv[1], .eth = true, .purpose = "s2_app"};
	if ((rc = s2_session_open(&so, &s, err, sizeof err)) < 0) {
		fprintf(stderr, "s2_app: %s (%s)\n", err, s2_strerror(rc));
		return 1;
	}
	struct s2_plan *plan = s2_plan_load(argv[2], err, sizeof err);
	if (!plan) {
		fprintf(stderr, "s2_app: %s\n", err);
		goto out;
	}
	/* 2. Lease the plan's boards (the deployment owns the plan from here). */
	if ((rc = s2_deployment_new(s, plan, false, &d, err, sizeof err)) < 0) {
		fprintf(stderr, "s2_app: %s (%s)\n", err, s2_strerror(rc));
		goto out;
	}
	/* 3. Boot what is not booted, load tables and PE data. */
	struct live l = {0};
	struct s2_run_callbacks cb = {
	        .progress = on_progress, .spikes = on_spikes, .energy = on_energy, .arg = &l};
	struct s2_deploy_opts dop = {.duration_ms = duration, .firmware = fw, .cb = &cb};
	if ((rc = s2_deploy(d, &dop, err, sizeof err)) < 0) {
		fprintf(stderr, "s2_app: deploy: %s\n", err);
		goto out;
	}
	/* 4. Run, taking the live stream; then the recordings, as results. */
	struct s2_run_opts rop = {.duration_ms = duration, .energy_every = 100, .cb = &cb};
	rc = s2_run(d, &rop, &res, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "s2_app: run: %s\n", err);
	if (!res)
		goto out;
	/* 5. What came back. */
	const struct s2_run_stats *st = s2_deployment_stats(d);
	printf("%s: %u steps of %g ms in %.3f s (deployed in %.3f s); %llu synaptic events\n",
	       res->complete ? "complete" : "PARTIAL", res->steps, res->dt_ms, st->run_s,
	       st->deploy_s, (unsigned long long)st->synaptic_events);
	printf("live: %llu spikes, %llu energy samples (%llu stream packets lost)\n", l.spikes,
	       l.samples, (unsigned long long)st->stream.lost);
	for (uint32_t p = 0; p < res->n_pops; p++) {
		const struct s2_results_pop *q = &res->pops[p];
		double secs = res->steps * res->dt_ms / 1000.0;
		printf("  %-12s %6u neurons %8llu spikes", q->label, q->size,
		       (unsigned long long)q->n_spikes);
		if (q->spikes_recorded && res->complete && q->size && secs > 0)
			printf(" %7.2f Hz", q->n_spikes / (double)q->size / secs);
		printf("\n");
	}
	if (!res->complete) {
		char why[300];
		s2_results_partial_why(res, why, sizeof why);
		printf("partial run: %s\n", why);
	}
	ec = res->complete ? 0 : 1;
out:
	s2_results_free(res);
	s2_deployment_free(d);
	s2_session_close(s);
	return ec;
}
