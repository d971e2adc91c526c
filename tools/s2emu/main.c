/*
 * s2emu: an emulated SpiNNaker2 machine that speaks the s2 UDP protocol. Each emulated
 * board has an Ethernet-chip endpoint and a board-controller endpoint on loopback; boards
 * start unbooted, announce themselves, accept the boot protocol, and once booted answer
 * monitor commands on every chip. Faults are injected from the command line or at run time
 * through a control socket (docs/s2emu.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "emu.h"
#include "emu_fault.h"
#include "emu_geo.h"
#include "emu_link.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/key.h"
#include "s2/machine.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: s2emu [options]\n"
	        "       s2emu ctl CONTROL_FILE COMMAND...\n"
	        "\n"
	        "Emulate SpiNNaker2 boards on UDP (docs/s2emu.md).\n"
	        "\n"
	        "Machine:\n"
	        "  --boards N            emulate a machine of N boards (default 1)\n"
	        "  --host ADDR           address to bind (default 127.0.0.1)\n"
	        "  --base-port P         board b: Ethernet port P+2b, controller P+2b+1;\n"
	        "                        0 (default): ports chosen by the system\n"
	        "  --write-machine FILE  write the machine description (with the bound ports)\n"
	        "  --machine FILE        emulate boards of this description, at its endpoints\n"
	        "  --serve A-B           with --machine: only boards A..B (several processes\n"
	        "                        can form one machine)\n"
	        "  --flash-dir DIR       keep each board's flash in DIR/board-B.flash (default:\n"
	        "                        in memory, lost at exit)\n"
	        "  --power-cut-after N[:torn]  fault: the power fails (SIGKILL) at the (N+1)th\n"
	        "                        flash write; with :torn that write lands half-way\n"
	        "  --boot-fail-version V fault: flash images of version V fail to boot\n"
	        "  --fault-at PHASE:ACTION[:N]  fault: the whole process stops (SIGSTOP) or\n"
	        "                        dies (SIGKILL) the Nth time (default 1) a board\n"
	        "                        reaches PHASE: boot, flash, load, run (a step done),\n"
	        "                        readout or stream (a STREAM_DATA sent)\n"
	        "  --key-file FILE       every board holds this key (s2ctl key init) and\n"
	        "                        requires authentication (docs/security.md)\n"
	        "  --announce ADDR:PORT  unbooted boards announce themselves there once a second\n"
	        "                        (default 127.0.0.1:17893, where s2ctl discover listens;\n"
	        "                        'none': do not announce)\n"
	        "Faults:\n"
	        "  --dead-chip B:C       chip C of board B is dead (repeatable)\n"
	        "  --dead-pe B:C:P       PE P of chip C of board B is dead (repeatable)\n"
	        "  --dead-link B:C:L     link L (0-5) of chip C of board B is dead (repeatable)\n"
	        "  --stuck-dram B:C:A    fault: DRAM byte A (< 1 MiB) of chip C does not take a\n"
	        "                        zero when scrubbed (reads 0xA5 after SCRUB)\n"
	        "  --loss P --dup P --reorder P   probabilities (0..1) per datagram\n"
	        "  --delay-us N          delay every datagram by N microseconds\n"
	        "  --mute B              board B answers nothing (repeatable)\n"
	        "  --seed N              seed of the fault generator (default 1)\n"
	        "Control:\n"
	        "  --control-file FILE   open a control socket on loopback, write its port to "
	        "FILE\n"
	        "  --ready-file FILE     write FILE once every endpoint is open\n"
	        "  --load-threads N      threads expanding PEs' synapses at load (default: one\n"
	        "                        per online CPU)\n"
	        "  --threads N           threads computing the timesteps (default: one per\n"
	        "                        online CPU); the results are the same for every N\n"
	        "  --link-loss P         with --serve: each packet crossing to another s2emu\n"
	        "                        process is lost with probability P (counted)\n"
	        "  -v, --verbose         log requests to stderr\n"
	        "  -h, --help            this text\n");
}

static struct emu E;
static char ctl_reply[65000]; /* one UDP datagram: stats of about 190 boards */

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_prob(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

/* "B:C[:X]" into up to three numbers. */
static int parse_tuple(const char *s, unsigned n, unsigned long *v)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	char *save = NULL, *tok = strtok_r(buf, ":", &save);
	for (unsigned i = 0; i < n; i++) {
		if (!tok || parse_uint(tok, 1u << 20, &v[i]) < 0)
			return -1;
		tok = strtok_r(NULL, ":", &save);
	}
	return tok ? -1 : 0;
}

static struct emu_board *board_by_index(unsigned long b)
{
	if (b < E.first || b >= E.first + E.n_boards)
		return NULL;
	return &E.boards[b - E.first];
}

/* Apply a fault given as text ("dead-chip 0:5"); used by options and the control socket. */
static int apply_fault(const char *kind, const char *arg, char *err, size_t errlen)
{
	unsigned long v[3];
	struct emu_board *b;
	if (!strcmp(kind, "dead-chip") || !strcmp(kind, "dead-pe") || !strcmp(kind, "dead-link")) {
		unsigned n = !strcmp(kind, "dead-chip") ? 2 : 3;
		if (parse_tuple(arg, n, v) < 0) {
			snprintf(err, errlen, "%s: '%s' is not %s", kind, arg,
			         n == 2 ? "BOARD:CHIP" : "BOARD:CHIP:N");
			return -1;
		}
		b = board_by_index(v[0]);
		if (!b || v[1] >= b->n_chips) {
			snprintf(err, errlen, "%s %s: no such board or chip here", kind, arg);
			return -1;
		}
		struct emu_chip *c = &b->chips[v[1]];
		if (!strcmp(kind, "dead-chip")) {
			c->dead = true;
		} else if (!strcmp(kind, "dead-pe")) {
			if (v[2] >= emu_geo_pes(&E)) {
				snprintf(err, errlen, "dead-pe %s: PE %lu does not exist", arg,
				         v[2]);
				return -1;
			}
			s2_bitmap_set(c->pe_dead, (unsigned)v[2], true);
		} else {
			if (v[2] >= EMU_LINKS) {
				snprintf(err, errlen, "dead-link %s: link %lu is not 0-5", arg,
				         v[2]);
				return -1;
			}
			c->links_dead = (uint8_t)(c->links_dead | 1u << v[2]);
		}
		emu_board_reroute(b);
		return 0;
	}
	if (!strcmp(kind, "stuck-dram")) {
		if (parse_tuple(arg, 3, v) < 0 || !(b = board_by_index(v[0])) ||
		    v[1] >= b->n_chips) {
			snprintf(err, errlen, "stuck-dram: '%s' is not BOARD:CHIP:ADDR here", arg);
			return -1;
		}
		b->chips[v[1]].stuck_dram = (uint32_t)v[2] + 1;
		return 0;
	}
	if (!strcmp(kind, "mute") || !strcmp(kind, "unmute")) {
		if (parse_uint(arg, 1u << 20, &v[0]) < 0 || !(b = board_by_index(v[0]))) {
			snprintf(err, errlen, "%s: no board '%s' here", kind, arg);
			return -1;
		}
		b->muted = !strcmp(kind, "mute");
		return 0;
	}
	double *p = !strcmp(kind, "loss")      ? &E.faults.loss
	            : !strcmp(kind, "dup")     ? &E.faults.dup
	            : !strcmp(kind, "reorder") ? &E.faults.reorder
	                                       : NULL;
	if (p) {
		if (parse_prob(arg, p) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a probability in [0, 1]", kind, arg);
			return -1;
		}
		return 0;
	}
	if (!strcmp(kind, "delay-us")) {
		if (parse_uint(arg, 10000000, &v[0]) < 0) {
			snprintf(err, errlen, "delay-us: '%s' is not 0..10000000", arg);
			return -1;
		}
		E.faults.delay_us = (uint32_t)v[0];
		return 0;
	}
	snprintf(err, errlen, "unknown fault '%s'", kind);
	return -1;
}

static void format_stats(char *out, size_t cap)
{
	size_t n = 0;
	n += (size_t)snprintf(out + n, cap - n, "{\"boards\":[");
	for (unsigned i = 0; i < E.n_boards && n < cap; i++) {
		const struct emu_board *b = &E.boards[i];
		const struct emu_stats *s = &b->st;
		n += (size_t)snprintf(
		        out + n, cap - n,
		        "%s{\"board\":%u,\"state\":%u,\"powered\":%s,\"muted\":%s,"
		        "\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"rx_bad\":%" PRIu64
		        ",\"rx_wrong_board\":%" PRIu64 ",\"dropped_loss\":%" PRIu64
		        ",\"duplicated\":%" PRIu64 ",\"reordered\":%" PRIu64
		        ",\"dropped_muted\":%" PRIu64 ",\"dropped_off\":%" PRIu64
		        ",\"dup_requests\":%" PRIu64 ",\"mesh_hops\":%" PRIu64
		        ",\"lease_refused\":%" PRIu64 ",\"auth_ok\":%" PRIu32
		        ",\"auth_unauth\":%" PRIu32 ",\"auth_unknown_key\":%" PRIu32
		        ",\"auth_bad_tag\":%" PRIu32 ",\"auth_replayed\":%" PRIu32
		        ",\"auth_forbidden\":%" PRIu32 "}",
		        i ? "," : "", b->index, b->state, b->powered ? "true" : "false",
		        b->muted ? "true" : "false", s->rx, s->tx, s->rx_bad, s->rx_wrong_board,
		        s->dropped_loss, s->duplicated, s->reordered, s->dropped_muted,
		        s->dropped_off, s->dup_requests, s->mesh_hops, s->lease_refused,
		        b->guard.st.ok, b->guard.st.unauth, b->guard.st.unknown_key,
		        b->guard.st.bad_tag, b->guard.st.replayed, b->guard.st.forbidden);
	}
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "],\"links\":");
	if (n < cap)
		n += emu_link_format_stats(out + n, cap - n);
	if (n < cap)
		snprintf(out + n, cap - n, "}");
}

/* Control socket: one text command per datagram, one text reply. */
static void ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	char buf[512];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof from;
	ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fromlen);
	if (n < 0)
		return;
	buf[n] = 0;
	char *save = NULL, *cmd = strtok_r(buf, " \t\r\n", &save);
	char *arg1 = strtok_r(NULL, " \t\r\n", &save);
	if (!cmd) {
		snprintf(ctl_reply, sizeof ctl_reply, "error: empty command");
	} else if (!strcmp(cmd, "stats")) {
		format_stats(ctl_reply, sizeof ctl_reply);
	} else if (!strcmp(cmd, "quit")) {
		snprintf(ctl_reply, sizeof ctl_reply, "ok");
		event_base_loopexit(E.base, NULL);
	} else if (!arg1) {
		snprintf(ctl_reply, sizeof ctl_reply, "error: %s needs an argument", cmd);
	} else {
		char err[200];
		if (apply_fault(cmd, arg1, err, sizeof err) < 0)
			snprintf(ctl_reply, sizeof ctl_reply, "error: %s", err);
		else
			snprintf(ctl_reply, sizeof ctl_reply, "ok");
	}
	(void)sendto(fd, ctl_reply, strlen(ctl_reply), 0, (struct sockaddr *)&from, fromlen);
}

static int write_file_atomic(const char *path, const void *data, size_t len)
{
	char err[300];
	return s2_file_write_atomic(path, data, len, err, sizeof err);
}

static int open_control(const char *file)
{
	E.ctl_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (E.ctl_fd < 0 || bind(E.ctl_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(E.ctl_fd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "s2emu: control socket: %s\n", strerror(errno));
		return -1;
	}
	evutil_make_socket_nonblocking(E.ctl_fd);
	E.ctl_ev = event_new(E.base, E.ctl_fd, EV_READ | EV_PERSIST, ctl_cb, NULL);
	if (!E.ctl_ev || event_add(E.ctl_ev, NULL) < 0)
		return -1;
	char text[32];
	int n = snprintf(text, sizeof text, "%u\n", (unsigned)ntohs(sa.sin_port));
	if (write_file_atomic(file, text, (size_t)n) < 0) {
		fprintf(stderr, "s2emu: cannot write %s: %s\n", file, strerror(errno));
		return -1;
	}
	return 0;
}

/* s2emu ctl FILE CMD...: send one control command and print the answer. */
static int ctl_main(int argc, char **argv)
{
	if (argc < 4) {
		usage(stderr);
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	unsigned port = 0;
	if (!f || fscanf(f, "%u", &port) != 1 || port == 0 || port > 65535) {
		fprintf(stderr, "s2emu ctl: cannot read a port from %s\n", argv[2]);
		if (f)
			fclose(f);
		return 2;
	}
	fclose(f);
	char cmd[512] = "";
	for (int i = 3; i < argc; i++) {
		strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
		if (i + 1 < argc)
			strcat(cmd, " ");
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (sendto(fd, cmd, strlen(cmd), 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "s2emu ctl: %s\n", strerror(errno));
		return 1;
	}
	ssize_t n = recv(fd, ctl_reply, sizeof ctl_reply - 1, 0);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "s2emu ctl: no answer from port %u\n", port);
		return 1;
	}
	ctl_reply[n] = 0;
	printf("%s\n", ctl_reply);
	return strncmp(ctl_reply, "error", 5) == 0 ? 1 : 0;
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(E.base, NULL);
}

struct pending_fault {
	const char *kind;
	const char *arg;
};

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc, argv);

	enum {
		O_BOARDS = 256,
		O_HOST,
		O_BASE,
		O_WRITE,
		O_MACHINE,
		O_SERVE,
		O_ANNOUNCE,
		O_FAULT,
		O_SEED,
		O_CONTROL,
		O_READY,
		O_FLASH_DIR,
		O_CUT,
		O_BOOT_FAIL,
		O_THREADS,
		O_STEP_THREADS,
		O_LINK_LOSS,
		O_FAULT_AT,
		O_KEY_FILE
	};
	static const struct option opts[] = {
	        {"boards", required_argument, 0, O_BOARDS},
	        {"flash-dir", required_argument, 0, O_FLASH_DIR},
	        {"power-cut-after", required_argument, 0, O_CUT},
	        {"boot-fail-version", required_argument, 0, O_BOOT_FAIL},
	        {"host", required_argument, 0, O_HOST},
	        {"base-port", required_argument, 0, O_BASE},
	        {"write-machine", required_argument, 0, O_WRITE},
	        {"machine", required_argument, 0, O_MACHINE},
	        {"serve", required_argument, 0, O_SERVE},
	        {"announce", required_argument, 0, O_ANNOUNCE},
	        {"dead-chip", required_argument, 0, O_FAULT},
	        {"dead-pe", required_argument, 0, O_FAULT},
	        {"dead-link", required_argument, 0, O_FAULT},
	        {"stuck-dram", required_argument, 0, O_FAULT},
	        {"loss", required_argument, 0, O_FAULT},
	        {"dup", required_argument, 0, O_FAULT},
	        {"reorder", required_argument, 0, O_FAULT},
	        {"delay-us", required_argument, 0, O_FAULT},
	        {"mute", required_argument, 0, O_FAULT},
	        {"seed", required_argument, 0, O_SEED},
	        {"control-file", required_argument, 0, O_CONTROL},
	        {"ready-file", required_argument, 0, O_READY},
	        {"load-threads", required_argument, 0, O_THREADS},
	        {"threads", required_argument, 0, O_STEP_THREADS},
	        {"link-loss", required_argument, 0, O_LINK_LOSS},
	        {"fault-at", required_argument, 0, O_FAULT_AT},
	        {"key-file", required_argument, 0, O_KEY_FILE},
	        {"verbose", no_argument, 0, 'v'},
	        {"help", no_argument, 0, 'h'},
	        {0, 0, 0, 0},
	};
	unsigned long n_boards = 1, base_port = 0, seed = 1, serve_a = 0, serve_b = ~0ul;
	double link_loss = 0;
	const char *host = "127.0.0.1", *write_machine = NULL, *machine_file = NULL;
	const char *control_file = NULL, *ready_file = NULL, *announce = "127.0.0.1:17893";
	const char *key_file = NULL;
	static struct pending_fault faults[4096];
	unsigned n_faults = 0;
	int c, idx;
	while ((c = getopt_long(argc, argv, "vh", opts, &idx)) != -1) {
		switch (c) {
		case O_BOARDS:
			if (parse_uint(optarg, 720, &n_boards) < 0 || n_boards == 0) {
				fprintf(stderr, "s2emu: --boards: '%s' is not 1..720\n", optarg);
				return 2;
			}
			break;
		case O_HOST:
			host = optarg;
			break;
		case O_BASE:
			if (parse_uint(optarg, 65535, &base_port) < 0) {
				fprintf(stderr, "s2emu: --base-port: '%s' is not a port\n", optarg);
				return 2;
			}
			break;
		case O_WRITE:
			write_machine = optarg;
			break;
		case O_MACHINE:
			machine_file = optarg;
			break;
		case O_SERVE:
			if (sscanf(optarg, "%lu-%lu", &serve_a, &serve_b) != 2 ||
			    serve_a > serve_b) {
				fprintf(stderr, "s2emu: --serve: '%s' is not A-B\n", optarg);
				return 2;
			}
			break;
		case O_ANNOUNCE:
			announce = optarg;
			break;
		case O_FAULT:
			if (n_faults == sizeof faults / sizeof faults[0]) {
				fprintf(stderr, "s2emu: too many fault options (at most 4096)\n");
				return 2;
			}
			faults[n_faults++] = (struct pending_fault){opts[idx].name, optarg};
			break;
		case O_SEED:
			if (parse_uint(optarg, ~0ul, &seed) < 0) {
				fprintf(stderr, "s2emu: --seed: '%s' is not a number\n", optarg);
				return 2;
			}
			break;
		case O_CONTROL:
			control_file = optarg;
			break;
		case O_READY:
			ready_file = optarg;
			break;
		case O_FLASH_DIR:
			E.flash_dir = optarg;
			break;
		case O_CUT: {
			char *end;
			unsigned long long n = strtoull(optarg, &end, 10);
			bool torn = !strcmp(end, ":torn");
			if (end == optarg || (*end && !torn) || n > (1ull << 40)) {
				fprintf(stderr,
				        "s2emu: --power-cut-after: '%s' is not N or N:torn\n",
				        optarg);
				return 2;
			}
			emu_flash_set_power_cut((long long)n, torn);
			break;
		}
		case O_BOOT_FAIL:
			emu_flash_set_boot_fail(optarg);
			break;
		case O_FAULT_AT:
			if (emu_fault_parse(optarg) < 0) {
				fprintf(stderr,
				        "s2emu: --fault-at: '%s' is not PHASE:ACTION[:N] (PHASE "
				        "boot, "
				        "flash, load, run, readout or stream; ACTION stop or kill; "
				        "N >= 1)\n",
				        optarg);
				return 2;
			}
			break;
		case O_THREADS: {
			unsigned long n;
			if (parse_uint(optarg, 64, &n) < 0 || n == 0) {
				fprintf(stderr, "s2emu: --load-threads: '%s' is not 1..64\n",
				        optarg);
				return 2;
			}
			emu_app_set_threads((unsigned)n);
			break;
		}
		case O_STEP_THREADS: {
			unsigned long n;
			if (parse_uint(optarg, 64, &n) < 0 || n == 0) {
				fprintf(stderr, "s2emu: --threads: '%s' is not 1..64\n", optarg);
				return 2;
			}
			emu_app_set_step_threads((unsigned)n);
			break;
		}
		case O_LINK_LOSS: {
			char *end;
			link_loss = strtod(optarg, &end);
			if (end == optarg || *end || !(link_loss >= 0 && link_loss <= 1)) {
				fprintf(stderr,
				        "s2emu: --link-loss: '%s' is not a probability 0..1\n",
				        optarg);
				return 2;
			}
			break;
		}
		case O_KEY_FILE:
			key_file = optarg;
			break;
		case 'v':
			E.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "s2emu: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	char err[512];
	struct s2_key key;
	if (key_file && s2_key_load(key_file, &key, err, sizeof err) < 0) {
		fprintf(stderr, "s2emu: --key-file: %s\n", err);
		return 2;
	}
	if (machine_file) {
		E.machine = s2_machine_load_file(machine_file, err, sizeof err);
		if (!E.machine) {
			fprintf(stderr, "s2emu: %s\n", err);
			return 2;
		}
	} else {
		E.machine = s2_machine_new_boards((unsigned)n_boards, host, (uint16_t)base_port);
		if (!E.machine) {
			fprintf(stderr, "s2emu: cannot make a %lu-board machine\n", n_boards);
			return 1;
		}
	}
	unsigned total = s2_machine_boards(E.machine);
	if (serve_b == ~0ul)
		serve_b = total - 1;
	if (serve_b >= total) {
		fprintf(stderr, "s2emu: --serve %lu-%lu: the machine has boards 0-%u\n", serve_a,
		        serve_b, total - 1);
		return 2;
	}
	E.first = (unsigned)serve_a;
	E.n_boards = (unsigned)(serve_b - serve_a + 1);
	E.rng = seed;
	E.ctl_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	E.base = event_base_new();
	E.boards = calloc(E.n_boards, sizeof *E.boards);
	if (!E.base || !E.boards) {
		fprintf(stderr, "s2emu: out of memory\n");
		return 1;
	}
	if (announce && strcmp(announce, "none") != 0) {
		int len = sizeof E.announce_to;
		if (evutil_parse_sockaddr_port(announce, (struct sockaddr *)&E.announce_to, &len) <
		    0) {
			fprintf(stderr, "s2emu: --announce: '%s' is not ADDR:PORT\n", announce);
			return 2;
		}
		E.announce_len = (socklen_t)len;
	}
	for (unsigned i = 0; i < E.n_boards; i++) {
		unsigned b = E.first + i;
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(E.machine, b, &ep);
		if (emu_board_init(&E, &E.boards[i], (uint16_t)b) < 0 ||
		    emu_net_open(&E, &E.boards[i], ep.host, ep.eth_port, ep.bmp_port) < 0)
			return 1;
		if (key_file && s2_guard_add(&E.boards[i].guard, key.id, key.role, key.secret) < 0)
			return 1;
		if (!machine_file) {
			/* Ports chosen by the system go into the description we write out. */
			struct sockaddr_storage sa;
			socklen_t len = sizeof sa;
			uint16_t ports[2];
			int fds[2] = {E.boards[i].eth_fd, E.boards[i].bmp_fd};
			for (int k = 0; k < 2; k++) {
				len = sizeof sa;
				getsockname(fds[k], (struct sockaddr *)&sa, &len);
				ports[k] = ntohs(sa.ss_family == AF_INET6
				                         ? ((struct sockaddr_in6 *)&sa)->sin6_port
				                         : ((struct sockaddr_in *)&sa)->sin_port);
			}
			s2_machine_set_board_endpoint(E.machine, b, ep.host, ports[0], ports[1]);
		}
	}
	emu_link_set_loss(link_loss, seed);
	{
		struct s2_board_endpoint
		        ep; /* the link socket: beside the first board's endpoints */
		s2_machine_board_endpoint(E.machine, E.first, &ep);
		if (emu_link_open(&E, ep.host) < 0)
			return 1;
	}
	for (unsigned i = 0; i < n_faults; i++) {
		if (apply_fault(faults[i].kind, faults[i].arg, err, sizeof err) < 0) {
			fprintf(stderr, "s2emu: --%s\n", err);
			return 2;
		}
	}
	/* Power on, with the faults in place: boards with a valid flash image boot from it. */
	for (unsigned i = 0; i < E.n_boards; i++)
		emu_board_power(&E.boards[i], true);
	if (write_machine && s2_machine_save_file(E.machine, write_machine, err, sizeof err) < 0) {
		fprintf(stderr, "s2emu: %s\n", err);
		return 1;
	}
	if (control_file && open_control(control_file) < 0)
		return 1;
	struct event *sigint = evsignal_new(E.base, SIGINT, stop_cb, NULL);
	struct event *sigterm = evsignal_new(E.base, SIGTERM, stop_cb, NULL);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	if (ready_file && write_file_atomic(ready_file, "ready\n", 6) < 0) {
		fprintf(stderr, "s2emu: cannot write %s: %s\n", ready_file, strerror(errno));
		return 1;
	}
	fprintf(stderr, "s2emu: %u board(s) %u-%u of %u, %u chips x %u PEs each\n", E.n_boards,
	        E.first, E.first + E.n_boards - 1, total, emu_geo_chips(&E), emu_geo_pes(&E));
	event_base_dispatch(E.base);

	if (E.verbose) {
		format_stats(ctl_reply, sizeof ctl_reply);
		fprintf(stderr, "s2emu: stats %s\n", ctl_reply);
	}
	for (unsigned i = 0; i < E.n_boards; i++) {
		emu_board_free(&E.boards[i]);
		if (E.boards[i].eth_fd >= 0)
			close(E.boards[i].eth_fd);
		if (E.boards[i].bmp_fd >= 0)
			close(E.boards[i].bmp_fd);
	}
	free(E.boards);
	event_free(sigint);
	event_free(sigterm);
	if (E.ctl_ev)
		event_free(E.ctl_ev);
	if (E.ctl_fd >= 0)
		close(E.ctl_fd);
	event_base_free(E.base);
	emu_app_shutdown();
	emu_link_shutdown();
	s2_machine_free(E.machine);
	return 0;
}
