/*
 * s2ctl boot and s2ctl info: bring boards up and report what is alive against what the
 * machine description expects; info reports the same for boards already booted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/health.h"
#include "s2/machine.h"
#include "session.h"

/* For info: who holds the board (what it reported is libs2's struct s2_board_health). */
struct board_report {
	bool lease_asked; /* info: who holds the board */
	int lease_status;
	struct s2_msg_lease_rep lease;
};

struct totals {
	unsigned chips_exp, chips_alive, pes_exp, pes_alive, links_exp, links_alive;
	uint64_t sent, retransmits, duplicates, bad; /* transport, all selected boards */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	cli_progress(arg, what, done, total);
}

/* Compare reports with the description; print or emit JSON; optionally mark the dead. */
static void report(struct session *s, struct board_report *rep, struct s2_board_health *hs,
                   struct s2_machine *found, double seconds, double total, bool boot)
{
	struct cli *c = s->c;
	unsigned chips = s2_machine_chips_per_board(s->m), pes = s2_machine_pes_per_chip(s->m);
	struct totals t = {0};
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		if (boot) {
			json_num(&j, "seconds", total);
			json_num(&j, "boot_seconds", seconds);
			json_num(&j, "survey_seconds", total - seconds);
		}
		json_arr(&j, "boards");
	}
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		const struct s2_board_health *r = &hs[b];
		struct s2_board_check ck;
		int crc = s2_health_check(s->ls, hs, b, &ck);
		if (crc < 0)
			cli_error(c, EXIT_FAIL, "board %u: %s", b, s2_strerror(crc));
		struct totals bt = {.chips_exp = ck.chips_expected,
		                    .chips_alive = ck.chips_alive,
		                    .pes_exp = ck.pes_expected,
		                    .pes_alive = ck.pes_alive,
		                    .links_exp = ck.links_expected,
		                    .links_alive = ck.links_alive};
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", r->status == 0);
			if (r->status) {
				json_str(&j, "error", s2_errname(r->status));
				json_str(&j, "step", r->what);
			}
			json_arr(&j, "dead_chips");
			for (unsigned i = 0; i < ck.n_dead_chips; i++)
				json_uint(&j, NULL, ck.dead_chips[i]);
			json_end_arr(&j);
			json_arr(&j, "dead_pes");
			for (size_t i = 0; i < ck.n_dead_pes; i++) {
				json_arr(&j, NULL);
				json_uint(&j, NULL, ck.dead_pes[i].chip);
				json_uint(&j, NULL, ck.dead_pes[i].item);
				json_end_arr(&j);
			}
			json_end_arr(&j);
			json_arr(&j, "dead_links");
			for (size_t i = 0; i < ck.n_dead_links; i++) {
				json_arr(&j, NULL);
				json_uint(&j, NULL, ck.dead_links[i].chip);
				json_uint(&j, NULL, ck.dead_links[i].item);
				json_end_arr(&j);
			}
		}
		/* What a board that answered found dead is marked so in the new description. */
		for (unsigned i = 0; found && r->status == 0 && i < ck.n_dead_chips; i++)
			s2_machine_mark_chip_dead(found, b, ck.dead_chips[i]);
		for (size_t i = 0; found && i < ck.n_dead_pes; i++)
			s2_machine_mark_pe_dead(found, b, ck.dead_pes[i].chip, ck.dead_pes[i].item);
		for (size_t i = 0; found && i < ck.n_dead_links; i++)
			s2_machine_mark_link_dead(found, b, ck.dead_links[i].chip,
			                          ck.dead_links[i].item);
		s2_board_check_free(&ck);
		if (c->json) {
			json_end_arr(&j);
			json_uint(&j, "chips_expected", bt.chips_exp);
			json_uint(&j, "chips_alive", bt.chips_alive);
			json_uint(&j, "pes_expected", bt.pes_exp);
			json_uint(&j, "pes_alive", bt.pes_alive);
			json_uint(&j, "links_expected", bt.links_exp);
			json_uint(&j, "links_alive", bt.links_alive);
			if (r->status == 0) {
				json_uint(&j, "pes_per_chip", pes);
				json_uint(&j, "boot_us", r->st.boot_us);
				const char *v = "";
				for (unsigned ch = 0; ch < chips && !*v; ch++)
					if (r->chip_status[ch] == 0)
						v = r->info[ch].version;
				json_str(&j, "monitor", v);
			}
			if (rep[b].lease_asked && rep[b].lease_status == 0) {
				json_obj(&j, "lease");
				json_flag(&j, "held", rep[b].lease.held);
				json_str(&j, "holder",
				         rep[b].lease.held ? rep[b].lease.holder : NULL);
				json_num(&j, "remaining_s", rep[b].lease.remaining_ms / 1000.0);
				json_uint(&j, "refused", rep[b].lease.refused);
				json_uint(&j, "forced", rep[b].lease.forced);
				json_end_obj(&j);
			}
			cli_json_conn(&j, "transport", s->eth[b]);
			json_end_obj(&j);
		} else if (r->status) {
			printf("board %u: FAILED at %s: %s\n", b, r->what, s2_strerror(r->status));
		} else {
			printf("board %u: chips %u/%u, PEs %u/%u, links %u/%u alive\n", b,
			       bt.chips_alive, bt.chips_exp, bt.pes_alive, bt.pes_exp,
			       bt.links_alive, bt.links_exp);
		}
		if (!c->json && rep[b].lease_asked && rep[b].lease_status == 0) {
			char lt[160];
			session_lease_text(&rep[b].lease, lt, sizeof lt);
			printf("board %u: lease %s; %u requests refused as busy, %u taken by "
			       "force\n",
			       b, lt, rep[b].lease.refused, rep[b].lease.forced);
		}
		t.chips_exp += bt.chips_exp;
		t.chips_alive += bt.chips_alive;
		t.pes_exp += bt.pes_exp;
		t.pes_alive += bt.pes_alive;
		t.links_exp += bt.links_exp;
		t.links_alive += bt.links_alive;
		const struct s2_conn_stats *cs = s2_conn_stats(s->eth[b]);
		t.sent += cs->sent;
		t.retransmits += cs->retransmits;
		t.duplicates += cs->duplicates;
		t.bad += cs->bad + cs->wrong_source + cs->mismatched;
	}
	if (c->json) {
		json_end_arr(&j);
		json_uint(&j, "chips_expected", t.chips_exp);
		json_uint(&j, "chips_alive", t.chips_alive);
		json_uint(&j, "pes_expected", t.pes_exp);
		json_uint(&j, "pes_alive", t.pes_alive);
		json_uint(&j, "links_expected", t.links_exp);
		json_uint(&j, "links_alive", t.links_alive);
		json_obj(&j, "transport");
		json_uint(&j, "sent", t.sent);
		json_uint(&j, "retransmits", t.retransmits);
		json_uint(&j, "duplicates", t.duplicates);
		json_uint(&j, "bad", t.bad);
		json_end_obj(&j);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		printf("total: chips %u/%u, PEs %u/%u, links %u/%u alive", t.chips_alive,
		       t.chips_exp, t.pes_alive, t.pes_exp, t.links_alive, t.links_exp);
		if (boot)
			printf(", booted in %.3f s (image and flood %.3f s, survey %.3f s)", total,
			       seconds, total - seconds);
		printf("\ntransport: %llu datagrams sent, %llu retransmitted, %llu duplicate "
		       "replies, "
		       "%llu bad or stray datagrams\n",
		       (unsigned long long)t.sent, (unsigned long long)t.retransmits,
		       (unsigned long long)t.duplicates, (unsigned long long)t.bad);
	}
}

static int finish(struct session *s, const struct s2_board_health *hs)
{
	unsigned ok = 0, bad = 0;
	int worst = 0;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		if (hs[b].status) {
			bad++;
			worst = hs[b].status;
			char line[300];
			cli_conn_summary(s->eth[b], line, sizeof line);
			fprintf(stderr, "s2ctl %s: board %u failed at %s: %s (%s)\n", s->c->verb, b,
			        hs[b].what, s2_strerror(hs[b].status), line);
		} else {
			ok++;
		}
	}
	if (!bad)
		return EXIT_OK;
	return ok ? EXIT_PARTIAL : cli_exit_for(worst);
}

struct boot_opts {
	const char *image;
	const char *write_machine;
};

static int boot_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct boot_opts *o = ctx;
	if (id == 256)
		o->image = arg;
	else if (id == 257)
		o->write_machine = arg;
	return 0;
}

int verb_boot(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"image", required_argument, 0, 256},
	        {"write-machine", required_argument, 0, 257},
	        {0, 0, 0, 0},
	};
	struct cli c;
	struct boot_opts o = {0};
	int pos = cli_parse(&c, "boot", argc, argv, extra, boot_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);

	/* Check the image before touching any board: a bad image changes nothing. */
	const char *path = o.image ? o.image : cli_default_firmware();
	uint8_t *image;
	size_t len;
	char err[512];
	int rc = s2_monitor_image_load(path, &image, &len, err, sizeof err);
	if (rc < 0)
		return cli_error(&c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT, "%s", err);

	struct session s;
	int ec = session_open(&s, &c, true, false);
	if (!ec)
		ec = session_lease(&s);
	struct board_report *rep = ec ? NULL : calloc(s.n, sizeof *rep);
	struct s2_board_health *hs = ec ? NULL : calloc(s.n, sizeof *hs);
	if (ec || !rep || !hs) {
		free(image);
		free(rep);
		free(hs);
		session_close(&s);
		return ec ? ec : cli_error(&c, EXIT_FAIL, "out of memory");
	}
	double t0 = now_s();
	s2_health_boot(s.ls, image, len, on_progress, &c, hs);
	double seconds = now_s() - t0;
	cli_progress_end(&c);
	s2_health_survey(s.ls, on_progress, &c, hs);
	cli_progress_end(&c);
	double total = now_s() - t0;
	struct s2_machine *found = NULL;
	if (o.write_machine && !(found = s2_machine_clone(s.m)))
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
	report(&s, rep, hs, found, seconds, total, true);
	if (found) {
		if (s2_machine_save_file(found, o.write_machine, err, sizeof err) < 0)
			ec = cli_error(&c, EXIT_INPUT, "%s", err);
		s2_machine_free(found);
	}
	if (!ec)
		ec = finish(&s, hs);
	free(rep);
	free(hs);
	free(image);
	session_close(&s);
	return ec;
}

int verb_info(int argc, char **argv)
{
	struct cli c;
	int pos = cli_parse(&c, "info", argc, argv, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	struct session s;
	int ec = session_open(&s, &c, true, false);
	struct board_report *rep = ec ? NULL : calloc(s.n, sizeof *rep);
	struct s2_board_health *hs = ec ? NULL : calloc(s.n, sizeof *hs);
	if (ec || !rep || !hs) {
		free(rep);
		free(hs);
		session_close(&s);
		return ec ? ec : cli_error(&c, EXIT_FAIL, "out of memory");
	}
	s2_health_status(s.ls, hs);
	s2_health_survey(s.ls, on_progress, &c, hs);
	cli_progress_end(&c);
	struct s2_msg_lease_rep *lr = calloc(s.n, sizeof *lr);
	int *ls = calloc(s.n, sizeof *ls);
	if (lr && ls) {
		session_lease_status(&s, lr, ls);
		for (unsigned b = 0; b < s.n; b++)
			if (s.sel[b]) {
				rep[b].lease_asked = true;
				rep[b].lease_status = ls[b];
				rep[b].lease = lr[b];
			}
	}
	free(lr);
	free(ls);
	report(&s, rep, hs, NULL, 0, 0, false);
	ec = finish(&s, hs);
	free(rep);
	free(hs);
	session_close(&s);
	return ec;
}
