/*
 * Booting a session's boards and what is alive on them (s2/health.h): the monitor image's
 * check, boot and survey of every selected board in parallel on the session's event loop, and
 * each board compared with the machine description (its known-dead chips, PEs and links are
 * not expected).
 */
#include "s2/health.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/board.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/fwident.h"
#include "s2/machine.h"
#include "s2/packet.h"
#include "s2/transport.h"

int s2_monitor_image_load(const char *path, uint8_t **image, size_t *len, char *err, size_t errlen)
{
	*image = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(S2_FW_IMAGE_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, S2_FW_IMAGE_MAX + 1, f) : 0;
	int e = !f ? errno : !buf ? ENOMEM : ferror(f) ? EIO : n > S2_FW_IMAGE_MAX ? EFBIG : 0;
	if (f)
		fclose(f);
	if (e) {
		free(buf);
		snprintf(err, errlen, "image %s: %s", path,
		         e == EFBIG ? "larger than a PE's 128 KiB SRAM" : strerror(e));
		return e == ENOMEM ? S2_E_NOMEM : S2_E_IO;
	}
	struct s2_fw_ident id;
	int rc = s2_fw_ident_decode(buf, n, &id);
	if (rc < 0 || id.kind != S2_FW_MONITOR || id.protocol != S2_PROTOCOL_VERSION) {
		free(buf);
		snprintf(err, errlen, "image %s: not a monitor image for protocol %u (%s)", path,
		         S2_PROTOCOL_VERSION,
		         rc < 0 ? s2_strerror(rc) : "wrong kind or protocol in identity block");
		return S2_E_FORMAT;
	}
	*image = buf;
	*len = n;
	return 0;
}

/* Progress summed over the selected boards' ops. */
struct progress {
	struct s2_session *s;
	struct s2_op *ops;
	s2_health_progress cb;
	void *arg;
	const char *label;
};

static void on_progress(void *arg)
{
	struct progress *p = arg;
	const bool *sel = s2_session_selection(p->s);
	uint64_t done = 0, total = 0;
	for (unsigned b = 0; b < s2_session_boards(p->s); b++) {
		if (!sel[b])
			continue;
		done += p->ops[b].done;
		total += p->ops[b].total;
	}
	p->cb(p->arg, p->label, done, total);
}

/* Each selected board's op failure into its report (if it had not failed); the first code. */
static int take_failures(struct s2_session *s, const struct s2_op *ops, struct s2_board_health *rep)
{
	const bool *sel = s2_session_selection(s);
	int first = 0;
	for (unsigned b = 0; b < s2_session_boards(s); b++) {
		if (!sel[b] || rep[b].status || !ops[b].status)
			continue;
		rep[b].status = ops[b].status;
		snprintf(rep[b].what, sizeof rep[b].what, "%s", ops[b].what);
		if (!first)
			first = ops[b].status;
	}
	return first;
}

int s2_health_boot(struct s2_session *s, const uint8_t *image, size_t len, s2_health_progress cb,
                   void *cb_arg, struct s2_board_health *rep)
{
	unsigned n = s2_session_boards(s);
	const bool *sel = s2_session_selection(s);
	struct s2_conn **eth = s2_session_eth(s);
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	if (!ops)
		return S2_E_NOMEM;
	struct progress pg = {s, ops, cb, cb_arg, "boot"};
	for (unsigned b = 0; b < n; b++) {
		if (!sel[b] || rep[b].status)
			continue;
		s2_op_init(&ops[b], cb ? on_progress : NULL, &pg);
		int rc = eth[b] ? s2_boot_start(eth[b], image, len, S2_BOOT_BLOCK_MAX, &ops[b],
		                                &rep[b].st)
		                : S2_E_INVAL;
		if (rc < 0)
			ops[b].status = rc;
	}
	s2_client_wait(s2_session_client(s));
	int rc = take_failures(s, ops, rep);
	free(ops);
	return rc;
}

int s2_health_status(struct s2_session *s, struct s2_board_health *rep)
{
	unsigned n = s2_session_boards(s);
	const bool *sel = s2_session_selection(s);
	struct s2_conn **eth = s2_session_eth(s);
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	uint8_t(*bodies)[16] = calloc(n ? n : 1, sizeof *bodies);
	size_t *blen = calloc(n ? n : 1, sizeof *blen);
	int first = 0;
	if (!ops || !bodies || !blen) {
		first = S2_E_NOMEM;
		goto out;
	}
	for (unsigned b = 0; b < n; b++) {
		if (!sel[b])
			continue;
		s2_op_init(&ops[b], NULL, NULL);
		int rc = eth[b] ? s2_simple_start(eth[b], S2_MSG_BOARD_STATUS, S2_ADDR_ANY,
		                                  S2_PE_MONITOR, NULL, 0, bodies[b],
		                                  sizeof bodies[b], &blen[b], &ops[b])
		                : S2_E_INVAL;
		if (rc < 0)
			ops[b].status = rc;
	}
	s2_client_wait(s2_session_client(s));
	for (unsigned b = 0; b < n; b++) {
		struct s2_board_health *r = &rep[b];
		if (!sel[b])
			continue;
		int rc = ops[b].status ? ops[b].status
		                       : s2_msg_board_status_decode(bodies[b], blen[b], &r->st);
		if (rc == 0 && r->st.state != S2_BOARD_BOOTED)
			rc = S2_E_STATE;
		if (rc) {
			r->status = rc;
			snprintf(r->what, sizeof r->what, "%s",
			         rc == S2_E_STATE ? "BOARD_STATUS (board not booted)"
			                          : "BOARD_STATUS");
			if (!first)
				first = rc;
		}
	}
out:
	free(ops);
	free(bodies);
	free(blen);
	return first;
}

int s2_health_survey(struct s2_session *s, s2_health_progress cb, void *cb_arg,
                     struct s2_board_health *rep)
{
	unsigned n = s2_session_boards(s);
	const bool *sel = s2_session_selection(s);
	struct s2_conn **eth = s2_session_eth(s);
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	if (!ops)
		return S2_E_NOMEM;
	struct progress pg = {s, ops, cb, cb_arg, "survey"};
	for (unsigned b = 0; b < n; b++) {
		struct s2_board_health *r = &rep[b];
		if (!sel[b] || r->status)
			continue;
		for (unsigned ch = 0; ch < S2_BOARD_MAX_CHIPS; ch++)
			r->chip_status[ch] = S2_E_DEAD;
		s2_op_init(&ops[b], cb ? on_progress : NULL, &pg);
		int rc = eth[b] ? s2_survey_start(eth[b], r->st.chips_alive, r->info,
		                                  r->chip_status, &ops[b])
		                : S2_E_INVAL;
		if (rc < 0)
			ops[b].status = rc;
	}
	s2_client_wait(s2_session_client(s));
	int rc = take_failures(s, ops, rep);
	free(ops);
	return rc;
}

/* Does link l of chip c on board b work, as reported by both ends we know about? */
static bool link_reported_alive(struct s2_session *s, const struct s2_board_health *rep, unsigned b,
                                unsigned c, unsigned l)
{
	if (!((rep[b].info[c].links_alive >> l) & 1u))
		return false;
	unsigned nb, nc;
	if (!s2_machine_neighbour(s2_session_machine(s), b, c, l, &nb, &nc))
		return false;
	if (s2_session_selection(s)[nb] && rep[nb].status == 0 && rep[nb].chip_status[nc] == 0)
		return (rep[nb].info[nc].links_alive >> ((l + 3) % 6)) & 1u;
	return true;
}

static int add_item(struct s2_dead_item **list, size_t *n, unsigned chip, unsigned item)
{
	if (!(*n & (*n + 1)) || !*list) { /* n + 1 a power of two: grow */
		struct s2_dead_item *q = realloc(*list, 2 * (*n + 1) * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		*list = q;
	}
	(*list)[(*n)++] = (struct s2_dead_item){(uint16_t)chip, (uint16_t)item};
	return 0;
}

int s2_health_check(struct s2_session *s, const struct s2_board_health *rep, unsigned b,
                    struct s2_board_check *out)
{
	memset(out, 0, sizeof *out);
	const struct s2_machine *m = s2_session_machine(s);
	if (b >= s2_session_boards(s) || !s2_session_selection(s)[b])
		return S2_E_INVAL;
	unsigned chips = s2_machine_chips_per_board(m), pes = s2_machine_pes_per_chip(m);
	if (chips > S2_BOARD_MAX_CHIPS)
		chips = S2_BOARD_MAX_CHIPS;
	const struct s2_board_health *r = &rep[b];
	/* Chips and PEs. */
	for (unsigned ch = 0; ch < chips; ch++) {
		if (s2_machine_chip_dead(m, b, ch))
			continue; /* known dead: not expected */
		out->chips_expected++;
		for (unsigned p = 0; p < pes; p++)
			out->pes_expected += !s2_machine_pe_dead(m, b, ch, p);
		if (r->status == 0 && r->chip_status[ch] == 0) {
			out->chips_alive++;
			for (unsigned p = 0; p < pes; p++)
				out->pes_alive += s2_bitmap_get(r->info[ch].pe_alive, p);
		} else {
			out->dead_chips[out->n_dead_chips++] = (uint16_t)ch;
		}
	}
	for (unsigned ch = 0; r->status == 0 && ch < chips; ch++) {
		if (r->chip_status[ch] != 0 || s2_machine_chip_dead(m, b, ch))
			continue;
		for (unsigned p = 0; p < pes; p++)
			if (!s2_bitmap_get(r->info[ch].pe_alive, p) &&
			    !s2_machine_pe_dead(m, b, ch, p) &&
			    add_item(&out->dead_pes, &out->n_dead_pes, ch, p) < 0)
				return S2_E_NOMEM;
	}
	/* Links between two chips that are both alive; each counted from both ends. */
	const bool *sel = s2_session_selection(s);
	for (unsigned ch = 0; r->status == 0 && ch < chips; ch++) {
		if (r->chip_status[ch] != 0)
			continue;
		for (unsigned l = 0; l < 6; l++) {
			unsigned nb, nc;
			if (!s2_machine_neighbour(m, b, ch, l, &nb, &nc) ||
			    s2_machine_link_dead(m, b, ch, l))
				continue;
			bool far_known = sel[nb] && rep[nb].status == 0;
			if (far_known && rep[nb].chip_status[nc] != 0)
				continue; /* the far chip is dead: not a link fault */
			out->links_expected++;
			if (link_reported_alive(s, rep, b, ch, l))
				out->links_alive++;
			else if (add_item(&out->dead_links, &out->n_dead_links, ch, l) < 0)
				return S2_E_NOMEM;
		}
	}
	return 0;
}

void s2_board_check_free(struct s2_board_check *c)
{
	free(c->dead_pes);
	free(c->dead_links);
	c->dead_pes = c->dead_links = NULL;
}
