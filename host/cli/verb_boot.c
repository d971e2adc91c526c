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
#include "s2/fwident.h"
#include "s2/machine.h"
#include "session.h"

/* What one board reported. */
struct board_report {
	int status; /* 0, or why the board failed */
	char what[96];
	struct s2_msg_board_status st;
	struct s2_msg_chip_info info[S2_BOARD_MAX_CHIPS];
	int chip_status[S2_BOARD_MAX_CHIPS];
	struct s2_op op;
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

struct progress {
	struct cli *c;
	struct board_report *rep;
	struct session *s;
	const char *label;
};

static void on_progress(void *arg)
{
	struct progress *p = arg;
	uint64_t done = 0, total = 0;
	for (unsigned b = 0; b < p->s->n; b++) {
		if (!p->s->sel[b])
			continue;
		done += p->rep[b].op.done;
		total += p->rep[b].op.total;
	}
	cli_progress(p->c, p->label, done, total);
}

/* Does link l of chip c on board b work, as reported by both ends we know about? */
static bool link_reported_alive(struct session *s, struct board_report *rep, unsigned b, unsigned c,
                                unsigned l)
{
	if (!((rep[b].info[c].links_alive >> l) & 1u))
		return false;
	unsigned nb, nc;
	if (!s2_machine_neighbour(s->m, b, c, l, &nb, &nc))
		return false;
	if (s->sel[nb] && rep[nb].status == 0 && rep[nb].chip_status[nc] == 0)
		return (rep[nb].info[nc].links_alive >> ((l + 3) % 6)) & 1u;
	return true;
}

/* Compare reports with the description; print or emit JSON; optionally mark the dead. */
static void report(struct session *s, struct board_report *rep, struct s2_machine *found,
                   double seconds, double total, bool boot)
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
		struct board_report *r = &rep[b];
		struct totals bt = {0};
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", r->status == 0);
			if (r->status) {
				json_str(&j, "error", s2_errname(r->status));
				json_str(&j, "step", r->what);
			}
			json_arr(&j, "dead_chips");
		}
		/* Chips and PEs. */
		for (unsigned ch = 0; ch < chips; ch++) {
			if (s2_machine_chip_dead(s->m, b, ch))
				continue; /* known dead: not expected */
			bt.chips_exp++;
			unsigned pe_exp = 0;
			for (unsigned p = 0; p < pes; p++)
				pe_exp += !s2_machine_pe_dead(s->m, b, ch, p);
			bt.pes_exp += pe_exp;
			if (r->status == 0 && r->chip_status[ch] == 0) {
				bt.chips_alive++;
				for (unsigned p = 0; p < pes; p++)
					bt.pes_alive += s2_bitmap_get(r->info[ch].pe_alive, p);
			} else {
				if (c->json)
					json_uint(&j, NULL, ch);
				if (found && r->status == 0)
					s2_machine_mark_chip_dead(found, b, ch);
			}
		}
		if (c->json) {
			json_end_arr(&j);
			json_arr(&j, "dead_pes");
		}
		for (unsigned ch = 0; r->status == 0 && ch < chips; ch++) {
			if (r->chip_status[ch] != 0 || s2_machine_chip_dead(s->m, b, ch))
				continue;
			for (unsigned p = 0; p < pes; p++) {
				if (s2_bitmap_get(r->info[ch].pe_alive, p) ||
				    s2_machine_pe_dead(s->m, b, ch, p))
					continue;
				if (c->json) {
					json_arr(&j, NULL);
					json_uint(&j, NULL, ch);
					json_uint(&j, NULL, p);
					json_end_arr(&j);
				}
				if (found)
					s2_machine_mark_pe_dead(found, b, ch, p);
			}
		}
		if (c->json) {
			json_end_arr(&j);
			json_arr(&j, "dead_links");
		}
		/* Links between two chips that are both alive; each counted from both ends. */
		for (unsigned ch = 0; r->status == 0 && ch < chips; ch++) {
			if (r->chip_status[ch] != 0)
				continue;
			for (unsigned l = 0; l < 6; l++) {
				unsigned nb, nc;
				if (!s2_machine_neighbour(s->m, b, ch, l, &nb, &nc) ||
				    s2_machine_link_dead(s->m, b, ch, l))
					continue;
				bool far_known = s->sel[nb] && rep[nb].status == 0;
				if (far_known && rep[nb].chip_status[nc] != 0)
					continue; /* the far chip is dead: not a link fault */
				bt.links_exp++;
				if (link_reported_alive(s, rep, b, ch, l)) {
					bt.links_alive++;
					continue;
				}
				if (c->json) {
					json_arr(&j, NULL);
					json_uint(&j, NULL, ch);
					json_uint(&j, NULL, l);
					json_end_arr(&j);
				}
				if (found)
					s2_machine_mark_link_dead(found, b, ch, l);
			}
		}
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
			if (r->lease_asked && r->lease_status == 0) {
				json_obj(&j, "lease");
				json_flag(&j, "held", r->lease.held);
				json_str(&j, "holder", r->lease.held ? r->lease.holder : NULL);
				json_num(&j, "remaining_s", r->lease.remaining_ms / 1000.0);
				json_uint(&j, "refused", r->lease.refused);
				json_uint(&j, "forced", r->lease.forced);
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
		if (!c->json && r->lease_asked && r->lease_status == 0) {
			char lt[160];
			session_lease_text(&r->lease, lt, sizeof lt);
			printf("board %u: lease %s; %u requests refused as busy, %u taken by "
			       "force\n",
			       b, lt, r->lease.refused, r->lease.forced);
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

/* Survey every chip the board says is alive; failures land in the report. */
static void survey_all(struct session *s, struct board_report *rep, struct progress *pg)
{
	for (unsigned b = 0; b < s->n; b++) {
		struct board_report *r = &rep[b];
		if (!s->sel[b] || r->status)
			continue;
		for (unsigned ch = 0; ch < S2_BOARD_MAX_CHIPS; ch++)
			r->chip_status[ch] = S2_E_DEAD;
		s2_op_init(&r->op, on_progress, pg);
		int rc = s2_survey_start(s->eth[b], r->st.chips_alive, r->info, r->chip_status,
		                         &r->op);
		if (rc < 0)
			r->op.status = rc;
	}
	pg->label = "survey";
	s2_client_wait(s->client);
	for (unsigned b = 0; b < s->n; b++) {
		struct board_report *r = &rep[b];
		if (s->sel[b] && !r->status && r->op.status) {
			r->status = r->op.status;
			snprintf(r->what, sizeof r->what, "%s", r->op.what);
		}
	}
	cli_progress_end(s->c);
}

static int finish(struct session *s, struct board_report *rep)
{
	unsigned ok = 0, bad = 0;
	int worst = 0;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		if (rep[b].status) {
			bad++;
			worst = rep[b].status;
			char line[300];
			cli_conn_summary(s->eth[b], line, sizeof line);
			fprintf(stderr, "s2ctl %s: board %u failed at %s: %s (%s)\n", s->c->verb, b,
			        rep[b].what, s2_strerror(rep[b].status), line);
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
	size_t len = 0;
	uint8_t *image = cli_read_file(path, S2_FW_IMAGE_MAX, &len);
	if (!image)
		return cli_error(&c, EXIT_INPUT, "image %s: %s", path,
		                 errno == EFBIG ? "larger than a PE's 128 KiB SRAM"
		                                : strerror(errno));
	struct s2_fw_ident id;
	int rc = s2_fw_ident_decode(image, len, &id);
	if (rc < 0 || id.kind != S2_FW_MONITOR || id.protocol != S2_PROTOCOL_VERSION) {
		free(image);
		return cli_error(
		        &c, EXIT_INPUT, "image %s: not a monitor image for protocol %u (%s)", path,
		        S2_PROTOCOL_VERSION,
		        rc < 0 ? s2_strerror(rc) : "wrong kind or protocol in identity block");
	}

	struct session s;
	int ec = session_open(&s, &c, true, false);
	if (!ec)
		ec = session_lease(&s);
	struct board_report *rep = ec ? NULL : calloc(s.n, sizeof *rep);
	if (ec || !rep) {
		free(image);
		session_close(&s);
		return ec ? ec : cli_error(&c, EXIT_FAIL, "out of memory");
	}
	struct progress pg = {&c, rep, &s, "boot"};
	double t0 = now_s();
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&rep[b].op, on_progress, &pg);
		rc = s2_boot_start(s.eth[b], image, len, S2_BOOT_BLOCK_MAX, &rep[b].op, &rep[b].st);
		if (rc < 0)
			rep[b].op.status = rc;
	}
	s2_client_wait(s.client);
	double seconds = now_s() - t0;
	cli_progress_end(&c);
	for (unsigned b = 0; b < s.n; b++) {
		if (s.sel[b] && rep[b].op.status) {
			rep[b].status = rep[b].op.status;
			snprintf(rep[b].what, sizeof rep[b].what, "%s", rep[b].op.what);
		}
	}
	survey_all(&s, rep, &pg);
	double total = now_s() - t0;
	struct s2_machine *found = NULL;
	if (o.write_machine && !(found = s2_machine_clone(s.m)))
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
	report(&s, rep, found, seconds, total, true);
	if (found) {
		char err[512];
		if (s2_machine_save_file(found, o.write_machine, err, sizeof err) < 0)
			ec = cli_error(&c, EXIT_INPUT, "%s", err);
		s2_machine_free(found);
	}
	if (!ec)
		ec = finish(&s, rep);
	free(rep);
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
	if (ec || !rep) {
		session_close(&s);
		return ec ? ec : cli_error(&c, EXIT_FAIL, "out of memory");
	}
	struct progress pg = {&c, rep, &s, "status"};
	uint8_t bodies[720][16];
	size_t blen[720];
	for (unsigned b = 0; b < s.n && b < 720; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&rep[b].op, NULL, NULL);
		int rc =
		        s2_simple_start(s.eth[b], S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR,
		                        NULL, 0, bodies[b], sizeof bodies[b], &blen[b], &rep[b].op);
		if (rc < 0)
			rep[b].op.status = rc;
	}
	s2_client_wait(s.client);
	for (unsigned b = 0; b < s.n && b < 720; b++) {
		struct board_report *r = &rep[b];
		if (!s.sel[b])
			continue;
		int rc = r->op.status ? r->op.status
		                      : s2_msg_board_status_decode(bodies[b], blen[b], &r->st);
		if (rc == 0 && r->st.state != S2_BOARD_BOOTED)
			rc = S2_E_STATE;
		if (rc) {
			r->status = rc;
			snprintf(r->what, sizeof r->what, "%s",
			         rc == S2_E_STATE ? "BOARD_STATUS (board not booted)"
			                          : "BOARD_STATUS");
		}
	}
	survey_all(&s, rep, &pg);
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
	report(&s, rep, NULL, 0, 0, false);
	ec = finish(&s, rep);
	free(rep);
	session_close(&s);
	return ec;
}
