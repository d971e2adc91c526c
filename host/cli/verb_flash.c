/*
 * s2ctl flash: write a flash image to boards, show their flash slots, or pack an image
 * (docs/cli/flash.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/flash.h"
#include "s2/fwident.h"
#include "session.h"

struct flash_opts {
	bool status;
	const char *version, *extra, *out, *board_type;
};

static int flash_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct flash_opts *o = ctx;
	switch (id) {
	case 256:
		o->status = true;
		break;
	case 257:
		o->version = arg;
		break;
	case 258:
		o->extra = arg;
		break;
	case 'o':
		o->out = arg;
		break;
	case 259:
		o->board_type = arg;
		break;
	default:
		return -1;
	}
	return 0;
}

static const struct option flash_options[] = {
        {"status", no_argument, 0, 256},           {"version", required_argument, 0, 257},
        {"extra", required_argument, 0, 258},      {"output", required_argument, 0, 'o'},
        {"board-type", required_argument, 0, 259}, {0, 0, 0, 0},
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void json_slots(struct json *j, const char *key, const struct s2_msg_flash_status *st)
{
	json_obj(j, key);
	json_uint(j, "board_type", st->board_type);
	if (st->booted_slot == S2_FLASH_NO_SLOT)
		json_null(j, "booted_slot");
	else
		json_uint(j, "booted_slot", st->booted_slot);
	json_uint(j, "slot_size", st->slot_size);
	json_arr(j, "slots");
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++) {
		const struct s2_msg_flash_slot *sl = &st->slot[s];
		json_obj(j, NULL);
		json_uint(j, "slot", s);
		json_str(j, "state", s2_flash_state_name(sl->state));
		json_uint(j, "seq", sl->seq);
		json_uint(j, "length", sl->length);
		json_uint(j, "crc", sl->crc);
		json_str(j, "version", sl->version);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static void print_slots(unsigned b, const struct s2_msg_flash_status *st)
{
	printf("board %u: type %u, booted from %s\n", b, st->board_type,
	       st->booted_slot == S2_FLASH_NO_SLOT ? "no slot (host boot)"
	       : st->booted_slot == 0              ? "slot 0"
	                                           : "slot 1");
	for (unsigned s = 0; s < S2_FLASH_SLOTS; s++) {
		const struct s2_msg_flash_slot *sl = &st->slot[s];
		printf("  slot %u: %-7s seq %u", s, s2_flash_state_name(sl->state), sl->seq);
		if (sl->state != S2_FLASH_EMPTY)
			printf(", %u bytes, CRC 0x%08x, %s", sl->length, sl->crc,
			       sl->version[0] ? sl->version : "(no version)");
		printf("\n");
	}
}

static int flash_status(struct cli *c)
{
	struct session s;
	int ec = session_open(&s, c, false, true);
	struct s2_msg_flash_status *st = ec ? NULL : calloc(s.n, sizeof *st);
	struct s2_op *ops = ec ? NULL : calloc(s.n, sizeof *ops);
	if (ec || !st || !ops) {
		free(st);
		free(ops);
		session_close(&s);
		return ec ? ec : cli_error(c, EXIT_FAIL, "out of memory");
	}
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&ops[b], NULL, NULL);
		if (s2_flash_status_start(s.bmp[b], &st[b], &ops[b]) < 0)
			ops[b].status = S2_E_NOMEM;
	}
	s2_client_wait(s.client);
	unsigned ok = 0, bad = 0;
	int worst = 0;
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_arr(&j, "boards");
	}
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		if (ops[b].status) {
			bad++;
			worst = ops[b].status;
			char line[300];
			cli_conn_summary(s.bmp[b], line, sizeof line);
			fprintf(stderr, "s2ctl flash: board %u: %s: %s (%s)\n", b, ops[b].what,
			        s2_strerror(ops[b].status), line);
		} else {
			ok++;
		}
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", ops[b].status == 0);
			if (ops[b].status)
				json_str(&j, "error", s2_errname(ops[b].status));
			else
				json_slots(&j, "flash", &st[b]);
			json_end_obj(&j);
		} else if (!ops[b].status) {
			print_slots(b, &st[b]);
		}
	}
	if (c->json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	}
	free(st);
	free(ops);
	session_close(&s);
	return bad == 0 ? EXIT_OK : ok ? EXIT_PARTIAL : cli_exit_for(worst);
}

static int flash_pack(struct cli *c, struct flash_opts *o, int argc, char **argv, int pos)
{
	if (pos + 1 != argc)
		return cli_error(c, EXIT_USAGE, "flash pack takes MONITOR.bin (see --help)");
	if (!o->out || !o->version)
		return cli_error(c, EXIT_USAGE, "flash pack needs --version V and -o FILE");
	unsigned long type = S2_BOARD_TYPE_S2_48;
	if (o->board_type && cli_uint(c, "--board-type", o->board_type, 65535, &type) < 0)
		return EXIT_USAGE;
	size_t mlen = 0, elen = 0;
	uint8_t *mon = NULL, *extra = NULL;
	char err[600];
	int rc = s2_file_read_all(argv[pos], S2_FW_IMAGE_MAX, &mon, &mlen, err, sizeof err);
	if (rc == S2_E_RANGE)
		return cli_error(c, EXIT_INPUT, "%s: larger than a PE's 128 KiB SRAM", argv[pos]);
	if (rc < 0)
		return cli_error(c, EXIT_INPUT, "%s", err);
	struct s2_fw_ident id;
	rc = s2_fw_ident_decode(mon, mlen, &id);
	if (rc < 0 || id.kind != S2_FW_MONITOR) {
		free(mon);
		return cli_error(c, EXIT_INPUT, "%s: not a sealed monitor image (%s)", argv[pos],
		                 rc < 0 ? s2_strerror(rc) : "not a monitor");
	}
	if (o->extra && (rc = s2_file_read_all(o->extra, S2_FLASHIMG_MAX - S2_FLASHIMG_HDR_LEN,
	                                       &extra, &elen, err, sizeof err)) < 0) {
		free(mon);
		if (rc == S2_E_RANGE)
			return cli_error(c, EXIT_INPUT, "%s: too large for a flash slot", o->extra);
		return cli_error(c, EXIT_INPUT, "%s", err);
	}
	size_t cap = S2_FLASHIMG_HDR_LEN + mlen + elen;
	uint8_t *img = malloc(cap);
	long n =
	        img ? s2_flashimg_pack(img, cap, (uint16_t)type, o->version, mon, mlen, extra, elen)
	            : S2_E_NOMEM;
	free(mon);
	free(extra);
	if (n < 0) {
		free(img);
		return cli_error(c, n == S2_E_FORMAT ? EXIT_USAGE : EXIT_INPUT, "cannot pack: %s",
		                 n == S2_E_FORMAT
		                         ? "--version must be up to 32 printable characters"
		                 : n == S2_E_RANGE ? "too large for a flash slot"
		                                   : s2_strerror((int)n));
	}
	int wrc = s2_file_write_atomic(o->out, img, (size_t)n, err, sizeof err);
	free(img);
	if (wrc < 0)
		return cli_error(c, EXIT_INPUT, "%s", err);
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "file", o->out);
		json_uint(&j, "bytes", (unsigned long long)n);
		json_str(&j, "version", o->version);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		printf("%s: flash image %s, %ld bytes (monitor %zu, extra %zu)\n", o->out,
		       o->version, n, mlen, elen);
	}
	return EXIT_OK;
}

struct progress {
	struct cli *c;
	struct s2_op *ops;
	unsigned n;
	const bool *sel;
};

static void on_progress(void *arg)
{
	struct progress *p = arg;
	uint64_t done = 0, total = 0;
	for (unsigned b = 0; b < p->n; b++) {
		if (!p->sel[b])
			continue;
		done += p->ops[b].done;
		total += p->ops[b].total;
	}
	cli_progress(p->c, "flash", done, total);
}

static int flash_write(struct cli *c, const char *path)
{
	size_t len = 0;
	uint8_t *image = NULL;
	char err[600];
	int rc = s2_file_read_all(path, S2_FLASHIMG_MAX, &image, &len, err, sizeof err);
	if (rc == S2_E_RANGE)
		return cli_error(c, EXIT_INPUT, "image %s: larger than a flash slot (4 MiB)", path);
	if (rc < 0)
		return cli_error(c, EXIT_INPUT, "image %s", err);
	struct s2_flash_plan *plan = s2_flash_plan_new(image, len, &rc);
	if (!plan) {
		free(image);
		const char *why = rc == S2_E_SHORT || rc == S2_E_LENGTH ? "truncated or padded"
		                  : rc == S2_E_CRC                      ? "damaged (CRC mismatch)"
		                  : rc == S2_E_MAGIC                    ? "not a flash image"
		                  : rc == S2_E_FORMAT ? "its monitor is not a sealed monitor image "
		                                        "for this protocol"
		                                      : s2_strerror(rc);
		return cli_error(c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT,
		                 "image %s: %s; no board was touched", path, why);
	}
	const struct s2_flashimg *fi = s2_flash_plan_image(plan);
	struct session s;
	int ec = session_open(&s, c, false, true);
	if (!ec)
		ec = session_lease(&s);
	struct s2_op *ops = ec ? NULL : calloc(s.n, sizeof *ops);
	struct s2_flash_result *res = ec ? NULL : calloc(s.n, sizeof *res);
	if (ec || !ops || !res) {
		free(ops);
		free(res);
		s2_flash_plan_free(plan);
		free(image);
		session_close(&s);
		return ec ? ec : cli_error(c, EXIT_FAIL, "out of memory");
	}
	struct progress pg = {c, ops, s.n, s.sel};
	double t0 = now_s();
	unsigned boards = 0;
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		boards++;
		s2_op_init(&ops[b], on_progress, &pg);
		if (s2_flash_start(s.bmp[b], plan, &ops[b], &res[b]) < 0)
			ops[b].status = S2_E_NOMEM;
	}
	s2_client_wait(s.client);
	double secs = now_s() - t0;
	cli_progress_end(c);

	unsigned ok = 0, bad = 0;
	int worst = 0;
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "image", path);
		json_str(&j, "version", fi->version);
		json_uint(&j, "bytes", len);
		json_uint(&j, "blocks", s2_flash_plan_blocks(plan));
		json_uint(&j, "wire_bytes", s2_flash_plan_wire_bytes(plan));
		json_num(&j, "seconds", secs);
		json_arr(&j, "boards");
	}
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		if (ops[b].status) {
			bad++;
			worst = ops[b].status;
			char line[300];
			cli_conn_summary(s.bmp[b], line, sizeof line);
			fprintf(stderr, "s2ctl flash: %s: board %u failed at %s: %s (%s)\n", path,
			        b, ops[b].what, s2_strerror(ops[b].status), line);
		} else {
			ok++;
		}
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", ops[b].status == 0);
			if (ops[b].status) {
				json_str(&j, "error", s2_errname(ops[b].status));
				json_str(&j, "step", ops[b].what);
			} else {
				json_uint(&j, "slot", res[b].slot);
				json_slots(&j, "flash", &res[b].after);
			}
			cli_json_conn(&j, "transport", s.bmp[b]);
			json_end_obj(&j);
		} else if (!ops[b].status && !c->quiet) {
			const struct s2_msg_flash_slot *old = &res[b].after.slot[1u - res[b].slot];
			bool fallback = old->state == S2_FLASH_VALID || old->state == S2_FLASH_GOOD;
			printf("board %u: %s written to slot %u and verified; it boots at the next "
			       "power-on",
			       b, fi->version, res[b].slot);
			if (fallback)
				printf(" (%s in slot %u kept as the fallback)\n", old->version,
				       1u - res[b].slot);
			else
				printf(" (no fallback image yet)\n");
		}
	}
	double mib = (double)len * ok / (1 << 20);
	if (c->json) {
		json_end_arr(&j);
		json_num(&j, "mib_per_s", secs > 0 ? mib / secs : 0);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		printf("flashed %u of %u boards in %.3f s: %zu bytes each as %zu blocks (%zu bytes "
		       "on "
		       "the wire), %.1f MiB/s in total\n",
		       ok, boards, secs, len, s2_flash_plan_blocks(plan),
		       s2_flash_plan_wire_bytes(plan), secs > 0 ? mib / secs : 0);
	}
	free(ops);
	free(res);
	s2_flash_plan_free(plan);
	free(image);
	session_close(&s);
	return bad == 0 ? EXIT_OK : ok ? EXIT_PARTIAL : cli_exit_for(worst);
}

int verb_flash(int argc, char **argv)
{
	struct cli c;
	struct flash_opts o = {0};
	bool pack = argc >= 2 && !strcmp(argv[1], "pack");
	int shift = pack ? 1 : 0;
	int pos = cli_parse(&c, "flash", argc - shift, argv + shift, flash_options, flash_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pack)
		return flash_pack(&c, &o, argc - 1, argv + 1, pos);
	if (o.status) {
		if (pos < argc)
			return cli_error(&c, EXIT_USAGE, "flash --status takes no image");
		return flash_status(&c);
	}
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "flash takes one IMAGE (see --help)");
	return flash_write(&c, argv[pos]);
}
