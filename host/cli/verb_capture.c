/*
 * s2ctl capture and replay (docs/stream.md, "Capture and replay"). capture records every UDP
 * datagram to or from the boards of a machine with libpcap into a pcap file, written
 * atomically; replay reads such a file offline, finds the live-stream packets in it
 * (cap_frame.c does the link, IPv4 and UDP layers) and feeds them to the same receiver
 * (s2_stream_feed) with the same sources and printing (stream_out.c) as s2ctl stream, so it
 * prints what the live stream printed. Every record of the file is accounted for.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "cap_frame_internal.h"
#include "cli.h"
#include "s2/plan.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/packet.h"
#include "s2/stream.h"
#include "s2/wire.h"
#include "s2/replay.h"
#include "s2/serve.h"
#include "stream_out.h"

#define CAP_SNAPLEN 65535        /* whole frames: an s2 datagram is at most 1472 bytes */
#define CAP_BUFFER (64u << 20)   /* kernel ring: room for bursts of a rack's stream */
#define CAP_MAX_TERMS 32         /* port terms in the kernel filter (about 15 insns each) */
#define CAP_POLL_MS 100          /* longest wait between checks of the stop conditions */
#define REPLAY_WARN_MAX 10       /* malformed records reported one by one; then counted */
#define REPLAY_QUEUE (4ul << 20) /* --serve: bytes a client may have waiting (as stream) */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SIGINT and SIGTERM set `interrupted` and interrupt a blocking poll (no SA_RESTART). */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- capture ------------------------------------------------------------------------------ */

struct capture_opts {
	const char *out, *iface, *duration, *packets, *ready;
};

static int capture_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct capture_opts *o = ctx;
	switch (id) {
	case 'o':
		o->out = arg;
		return 0;
	case 256:
		o->iface = arg;
		return 0;
	case 257:
		o->duration = arg;
		return 0;
	case 258:
		o->packets = arg;
		return 0;
	case 259:
		o->ready = arg;
		return 0;
	default:
		return -1;
	}
}

/* The ports of the machine's boards, sorted and unique. */
struct portset {
	uint16_t *v;
	size_t n;
	bool exact; /* the kernel filter names exactly these ports; else a coarse cover */
};

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static bool portset_has(const struct portset *ps, uint16_t port)
{
	return bsearch(&port, ps->v, ps->n, sizeof *ps->v, cmp_u16) != NULL;
}

struct range {
	uint16_t lo, hi;
};

/* The gap between run `at` and run `at + 1`. */
struct gap {
	unsigned width;
	size_t at;
};

static int cmp_gap(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;
	if (x->width != y->width)
		return x->width < y->width ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * The kernel filter "udp and (port A or portrange B-C ...)": runs of consecutive ports become
 * one portrange. Each term costs the kernel about 15 instructions per packet (and libpcap's
 * optimiser time grows fast with them), so with more than CAP_MAX_TERMS runs (a rack of 90
 * s2emu boards on ports the system chose: 180 scattered ports) the runs separated by the
 * smallest gaps are merged until CAP_MAX_TERMS remain, and the callback keeps only the exact
 * ports. Returns the filter (malloc'd) or NULL when out of memory.
 */
static char *build_filter(struct portset *ps)
{
	struct range *r = malloc(ps->n * sizeof *r);
	struct gap *g = malloc(ps->n * sizeof *g);
	bool *merge = calloc(ps->n, sizeof *merge);
	char *f = malloc(32 + ps->n * 32);
	if (!r || !g || !merge || !f) {
		free(f);
		f = NULL;
		goto out;
	}
	size_t nr = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (nr && ps->v[i] == r[nr - 1].hi + 1)
			r[nr - 1].hi = ps->v[i];
		else
			r[nr++] = (struct range){ps->v[i], ps->v[i]};
	}
	ps->exact = nr <= CAP_MAX_TERMS;
	if (!ps->exact) {
		for (size_t i = 0; i + 1 < nr; i++)
			g[i] = (struct gap){(unsigned)(r[i + 1].lo - r[i].hi), i};
		qsort(g, nr - 1, sizeof *g, cmp_gap);
		for (size_t k = 0; k < nr - CAP_MAX_TERMS; k++)
			merge[g[k].at] = true;
		size_t m = 0;
		for (size_t i = 0; i < nr; i++) {
			if (i && merge[i - 1])
				r[m - 1].hi = r[i].hi;
			else
				r[m++] = r[i];
		}
		nr = m;
	}
	size_t o = (size_t)sprintf(f, "udp and (");
	for (size_t i = 0; i < nr; i++) {
		const char *sep = i ? " or " : "";
		if (r[i].lo == r[i].hi)
			o += (size_t)sprintf(f + o, "%sport %u", sep, r[i].lo);
		else
			o += (size_t)sprintf(f + o, "%sportrange %u-%u", sep, r[i].lo, r[i].hi);
	}
	sprintf(f + o, ")");
out:
	free(r);
	free(g);
	free(merge);
	return f;
}

static bool is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "localhost");
}

/* The map from pcap's link type to the parser's (the DLT_ numbers differ between systems,
 * so only the names of pcap.h are used). */
static bool link_of(int dlt, enum cap_link *link)
{
	switch (dlt) {
	case DLT_NULL:
		*link = CAP_LINK_NULL;
		return true;
	case DLT_LOOP:
		*link = CAP_LINK_LOOP;
		return true;
	case DLT_EN10MB:
		*link = CAP_LINK_ETHER;
		return true;
	case DLT_LINUX_SLL:
		*link = CAP_LINK_SLL;
		return true;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		*link = CAP_LINK_SLL2;
		return true;
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
		*link = CAP_LINK_RAW;
		return true;
	default:
		return false;
	}
}

struct capture {
	pcap_dumper_t *dumper;
	const struct portset *ps;
	bool parse; /* check ports in the callback (coarse kernel filter) */
	enum cap_link link;
	unsigned long long packets, bytes, discarded, limit;
};

static void capture_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *k = (struct capture *)user;
	if (k->limit && k->packets >= k->limit)
		return;
	if (k->parse) {
		struct cap_udp u;
		const char *why;
		/* what cannot be parsed is kept: better a packet too many than one missing */
		if (cap_frame_udp(k->link, bytes, h->caplen, h->len, &u, &why) == CAP_UDP &&
		    !portset_has(k->ps, u.sport) && !portset_has(k->ps, u.dport)) {
			k->discarded++;
			return;
		}
	}
	pcap_dump((u_char *)k->dumper, h, bytes);
	k->packets++;
	k->bytes += h->caplen;
}

/* Collect the boards' ports; pick the interface when none is given. 0 or an exit code. */
static int machine_ports(struct cli *c, const struct s2_machine *m, struct portset *ps,
                         bool *all_loopback)
{
	unsigned n = s2_machine_boards(m);
	ps->v = malloc(2 * (size_t)n * sizeof *ps->v);
	if (!ps->v)
		return cli_error(c, EXIT_FAIL, "out of memory");
	*all_loopback = true;
	for (unsigned b = 0; b < n; b++) {
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(m, b, &ep);
		if (!ep.eth_port || !ep.bmp_port)
			return cli_error(
			        c, EXIT_INPUT,
			        "board %u has no UDP port in the machine description (written "
			        "before the boards were bound?)",
			        b);
		ps->v[ps->n++] = ep.eth_port;
		ps->v[ps->n++] = ep.bmp_port;
		*all_loopback = *all_loopback && is_loopback(ep.host);
	}
	qsort(ps->v, ps->n, sizeof *ps->v, cmp_u16);
	size_t u = 0;
	for (size_t i = 0; i < ps->n; i++)
		if (!u || ps->v[i] != ps->v[u - 1])
			ps->v[u++] = ps->v[i];
	ps->n = u;
	return 0;
}

/* Open and start the capture on iface with the filter. NULL after printing why. */
static pcap_t *capture_open(struct cli *c, const char *iface, const char *filter, int *ec)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(iface, errbuf);
	if (!p) {
		*ec = cli_error(c, EXIT_FAIL, "--interface %s: %s", iface, errbuf);
		return NULL;
	}
	pcap_set_snaplen(p, CAP_SNAPLEN);
	pcap_set_promisc(p, 0);
	pcap_set_timeout(p, CAP_POLL_MS);
	pcap_set_buffer_size(p, (int)CAP_BUFFER);
	int rc = pcap_activate(p);
	if (rc == PCAP_ERROR_PERM_DENIED) {
		*ec = cli_error(c, EXIT_FAIL,
		                "capturing on %s needs root or the CAP_NET_RAW capability (%s)",
		                iface, pcap_geterr(p));
		goto fail;
	}
	if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
		*ec = cli_error(c, EXIT_USAGE, "--interface %s: no such interface (%s)", iface,
		                pcap_geterr(p));
		goto fail;
	}
	if (rc < 0) {
		*ec = cli_error(c, EXIT_FAIL, "--interface %s: %s (%s)", iface,
		                pcap_statustostr(rc), pcap_geterr(p));
		goto fail;
	}
	if (rc > 0 && !c->quiet)
		fprintf(stderr, "s2ctl capture: warning: %s: %s\n", iface, pcap_statustostr(rc));
	struct bpf_program prog;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		*ec = cli_error(c, EXIT_FAIL, "filter '%s': %s", filter, pcap_geterr(p));
		goto fail;
	}
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		*ec = cli_error(c, EXIT_FAIL, "filter '%s' on %s: %s", filter, iface,
		                pcap_geterr(p));
		goto fail;
	}
	if (pcap_setnonblock(p, 1, errbuf) < 0) {
		*ec = cli_error(c, EXIT_FAIL, "%s: %s", iface, errbuf);
		goto fail;
	}
	return p;
fail:
	pcap_close(p);
	return NULL;
}

/*
 * Capture until a stop condition, then drain. Packets are not delivered one by one (immediate
 * mode): on lo, whose MTU is 64 KiB, libpcap would then give each packet a fixed 64 KiB slot
 * and the 64 MiB ring would hold only about a thousand of them, which a busy host overflows.
 * Instead the kernel packs them into blocks that it hands over when full or CAP_POLL_MS after
 * their first packet; so after a stop the loop reads on for two such periods, and everything
 * captured before the stop is kept. 0 or an exit code.
 */
static int capture_loop(struct cli *c, pcap_t *p, struct capture *k, double duration_s)
{
	int fd = pcap_get_selectable_fd(p);
	double t_end = duration_s > 0 ? now_s() + duration_s : 0, drain_end = 0;
	for (;;) {
		bool full = k->limit && k->packets >= k->limit;
		if (!drain_end && (interrupted || (t_end && now_s() >= t_end)))
			drain_end = now_s() + 2.0 * CAP_POLL_MS / 1000;
		if (full || (drain_end && now_s() >= drain_end))
			return 0;
		double until = drain_end ? drain_end : t_end;
		int ms = CAP_POLL_MS;
		if (until && (until - now_s()) * 1000 < ms)
			ms = (int)((until - now_s()) * 1000) + 1;
		if (fd >= 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			poll(&pfd, 1, ms);
		} else {
			struct timespec ts = {0, 10 * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (pcap_dispatch(p, -1, capture_cb, (u_char *)k) == PCAP_ERROR)
			return cli_error(c, EXIT_FAIL, "capture: %s", pcap_geterr(p));
	}
}

int verb_capture(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"output", required_argument, 0, 'o'},     {"interface", required_argument, 0, 256},
	        {"duration", required_argument, 0, 257},   {"packets", required_argument, 0, 258},
	        {"ready-file", required_argument, 0, 259}, {0, 0, 0, 0}};
	struct cli c;
	struct capture_opts o = {0};
	int pos = cli_parse(&c, "capture", argc, argv, extra, capture_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos != argc || !o.out)
		return cli_error(&c, EXIT_USAGE,
		                 "capture takes -o FILE.pcap and no other argument "
		                 "(see --help)");
	unsigned long duration = 0, packets = 0;
	if (o.duration && cli_uint(&c, "--duration", o.duration, 86400ul * 365, &duration) < 0)
		return EXIT_USAGE;
	if (o.packets && cli_uint(&c, "--packets", o.packets, 1ul << 40, &packets) < 0)
		return EXIT_USAGE;
	if (o.packets && !packets)
		return cli_error(&c, EXIT_USAGE, "--packets: at least 1");
	struct s2_machine *m = cli_load_machine(&c);
	if (!m)
		return c.machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;

	struct portset ps = {0};
	bool loopback = true;
	char *filter = NULL, *tmp = NULL;
	pcap_t *p = NULL;
	FILE *f = NULL;
	struct capture k = {.ps = &ps, .limit = packets};
	int ec = machine_ports(&c, m, &ps, &loopback);
	if (ec)
		goto out;
	const char *iface = o.iface ? o.iface : loopback ? "lo" : "any";
	filter = build_filter(&ps);
	tmp = malloc(strlen(o.out) + 5);
	if (!filter || !tmp) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	sprintf(tmp, "%s.tmp", o.out);
	if (!(p = capture_open(&c, iface, filter, &ec)))
		goto out;
	k.parse = !ps.exact && link_of(pcap_datalink(p), &k.link);
	catch_signals(); /* from here a signal stops the capture and the file is kept */
	if (!(f = fopen(tmp, "wb")) || !(k.dumper = pcap_dump_fopen(p, f))) {
		ec = cli_error(&c, EXIT_INPUT, "-o %s: cannot write %s: %s", o.out, tmp,
		               f ? pcap_geterr(p) : strerror(errno));
		goto out;
	}
	if (!c.quiet)
		fprintf(stderr, "s2ctl capture: capturing on %s: %s%s\n", iface, filter,
		        ps.exact ? "" : " (then the exact ports)");
	if (o.ready) {
		FILE *r = fopen(o.ready, "w");
		if (!r || fprintf(r, "%s\n", iface) < 0 || fclose(r)) {
			ec = cli_error(&c, EXIT_USAGE, "--ready-file %s: %s", o.ready,
			               strerror(errno));
			goto out;
		}
	}
	double t0 = now_s();
	if ((ec = capture_loop(&c, p, &k, (double)duration)))
		goto out;
	double secs = now_s() - t0;
	struct pcap_stat st = {0};
	bool have_stats = pcap_stats(p, &st) == 0;
	/* pcap_dump_close cannot report errors: flush and sync first, and check. */
	if (pcap_dump_flush(k.dumper) < 0 || ferror(f) || fsync(fileno(f)) < 0) {
		ec = cli_error(&c, EXIT_FAIL, "-o %s: writing %s failed: %s", o.out, tmp,
		               strerror(errno));
		goto out;
	}
	pcap_dump_close(k.dumper);
	k.dumper = NULL;
	f = NULL;
	if (rename(tmp, o.out) < 0) {
		ec = cli_error(&c, EXIT_FAIL, "-o %s: cannot rename %s to it: %s", o.out, tmp,
		               strerror(errno));
		goto out;
	}
	/* The pcap stays a pcap (tshark reads it); its checksums go beside it (docs/files.md). */
	char sum[4200], serr[512];
	snprintf(sum, sizeof sum, "%s.s2sum", o.out);
	if (s2_file_sum_write(o.out, sum, serr, sizeof serr) < 0) {
		ec = cli_error(&c, EXIT_FAIL, "%s", serr);
		goto out;
	}
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "file", o.out);
		json_str(&j, "interface", iface);
		json_str(&j, "filter", filter);
		json_flag(&j, "exact_filter", ps.exact);
		json_num(&j, "seconds", secs);
		json_uint(&j, "packets", k.packets);
		json_uint(&j, "bytes", k.bytes);
		json_uint(&j, "other_ports", k.discarded);
		if (have_stats) {
			json_uint(&j, "kernel_dropped", st.ps_drop);
			json_uint(&j, "interface_dropped", st.ps_ifdrop);
		} else {
			json_null(&j, "kernel_dropped");
			json_null(&j, "interface_dropped");
		}
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		printf("captured %llu packets (%llu bytes) in %.3f s to %s", k.packets, k.bytes,
		       secs, o.out);
		if (have_stats)
			printf("; dropped by the kernel %u, by the interface %u", st.ps_drop,
			       st.ps_ifdrop);
		else
			printf("; drop counts unavailable: %s", pcap_geterr(p));
		if (!ps.exact)
			printf("; %llu packets of other ports left out", k.discarded);
		putchar('\n');
	}
	if (have_stats && st.ps_drop + st.ps_ifdrop)
		fprintf(stderr,
		        "s2ctl capture: %u packets were dropped before they could be captured: "
		        "the capture is incomplete (counted above)\n",
		        st.ps_drop + st.ps_ifdrop);
out:
	if (k.dumper)
		pcap_dump_close(k.dumper);
	else if (f)
		fclose(f);
	if (ec && tmp)
		unlink(tmp);
	if (p)
		pcap_close(p);
	free(tmp);
	free(filter);
	free(ps.v);
	s2_machine_free(m);
	return ec;
}

/* --- replay ------------------------------------------------------------------------------- */

struct replay_opts {
	const char *serve, *queue, *ready, *wait, *id;
	bool count_only, realtime;
};

static int replay_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct replay_opts *o = ctx;
	switch (id) {
	case 256:
		o->count_only = true;
		return 0;
	case 257:
		o->serve = arg;
		return 0;
	case 258:
		o->realtime = true;
		return 0;
	case 259:
		o->queue = arg;
		return 0;
	case 260:
		o->ready = arg;
		return 0;
	case 261:
		o->wait = arg;
		return 0;
	case 262:
		o->id = arg;
		return 0;
	default:
		return -1;
	}
}

/* Seconds of a record's timestamp (opened with nanosecond precision). */
static double ts_s(const struct pcap_pkthdr *h)
{
	return (double)h->ts.tv_sec + (double)h->ts.tv_usec * 1e-9;
}

/* Let time pass until wall clock `until` (CLOCK_MONOTONIC seconds), serving base if any. */
static void wait_until(struct event_base *base, double until)
{
	while (!interrupted) {
		double left = until - now_s();
		if (left <= 0)
			return;
		if (left > 0.05)
			left = 0.05;
		if (base) {
			struct timeval tv = {0, (long)(left * 1e6)};
			event_base_loopexit(base, &tv);
			event_base_dispatch(base);
		} else {
			struct timespec ts = {0, (long)(left * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
}

/* Say why a record was skipped: the first REPLAY_WARN_MAX ones; the rest are only counted. */
static void skipped(const char *file, unsigned long long rec, const char *why,
                    const struct pcap_pkthdr *h, bool cut, unsigned *warned)
{
	if (*warned >= REPLAY_WARN_MAX)
		return;
	const char *more = ++*warned == REPLAY_WARN_MAX ? "; further ones only counted" : "";
	fprintf(stderr, "s2ctl replay: %s: record %llu: %s", file, rec, why);
	if (cut)
		fprintf(stderr, ": the capture kept only %u of its %u bytes (snap length)",
		        h->caplen, h->len);
	else
		fprintf(stderr, " (%u bytes)", h->caplen);
	fprintf(stderr, ": skipped%s\n", more);
}

static void replay_report(const struct cli *c, const char *file, enum cap_link link,
                          const struct s2_replay_counts *n)
{
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "type", "replay");
		json_str(&j, "file", file);
		json_str(&j, "link", cap_link_name(link));
		json_uint(&j, "records", n->records);
		json_uint(&j, "stream_packets", n->stream);
		json_uint(&j, "other_streams", n->other_streams);
		json_uint(&j, "other_udp", n->other_udp);
		json_uint(&j, "other_protocols", n->other);
		json_uint(&j, "fragments", n->fragments);
		json_uint(&j, "truncated", n->truncated);
		json_uint(&j, "malformed", n->malformed);
		json_end_obj(&j);
		json_finish(&j);
		return;
	}
	fprintf(stderr,
	        "replay: %s (%s): %llu records: %llu stream packets, %llu of other streams, %llu "
	        "other UDP datagrams, %llu of other protocols, %llu IPv4 fragments, %llu "
	        "truncated, %llu malformed\n",
	        file, cap_link_name(link), (unsigned long long)n->records,
	        (unsigned long long)n->stream, (unsigned long long)n->other_streams,
	        (unsigned long long)n->other_udp, (unsigned long long)n->other,
	        (unsigned long long)n->fragments, (unsigned long long)n->truncated,
	        (unsigned long long)n->malformed);
}

int verb_replay(int argc, char **argv)
{
	static const struct option extra[] = {{"count-only", no_argument, 0, 256},
	                                      {"serve", required_argument, 0, 257},
	                                      {"realtime", no_argument, 0, 258},
	                                      {"client-queue", required_argument, 0, 259},
	                                      {"ready-file", required_argument, 0, 260},
	                                      {"wait", required_argument, 0, 261},
	                                      {"stream-id", required_argument, 0, 262},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct replay_opts o = {0};
	int pos = cli_parse(&c, "replay", argc, argv, extra, replay_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 2 != argc)
		return cli_error(&c, EXIT_USAGE, "replay takes FILE.pcap IMAGE (see --help)");
	const char *file = argv[pos], *image = argv[pos + 1];
	unsigned long queue = REPLAY_QUEUE, wait_s = 0, id = 0;
	if (o.queue && cli_uint(&c, "--client-queue", o.queue, 1ul << 32, &queue) < 0)
		return EXIT_USAGE;
	if (o.wait && cli_uint(&c, "--wait", o.wait, 86400, &wait_s) < 0)
		return EXIT_USAGE;
	if (o.id) {
		char *end;
		errno = 0;
		id = strtoul(o.id, &end, 16);
		if (errno || end == o.id || *end || !id || id > UINT32_MAX || *o.id == '-')
			return cli_error(
			        &c, EXIT_USAGE,
			        "--stream-id: '%s' is not a stream id (8 hex digits, not 0, as "
			        "s2ctl stream prints it)",
			        o.id);
	}
	if ((o.ready || o.wait) && !o.serve)
		return cli_error(&c, EXIT_USAGE, "--ready-file and --wait go with --serve");

	/* A capture of s2ctl capture has a checksum record beside it; others are read as they
	 * are (every record is still accounted for below). */
	char sum[4200], serr[600];
	snprintf(sum, sizeof sum, "%s.s2sum", file);
	int src = s2_file_sum_check(file, sum, serr, sizeof serr);
	if (src == S2_E_NOTFOUND && !c.quiet)
		fprintf(stderr, "s2ctl replay: %s: not checked for damage\n", serr);
	else if (src < 0 && src != S2_E_NOTFOUND)
		return cli_error(&c, EXIT_INPUT, "%s", serr);
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p =
	        pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		return cli_error(&c, EXIT_INPUT, "%s: not a readable pcap or pcapng capture: %s",
		                 file, errbuf);
	enum cap_link link;
	int dlt = pcap_datalink(p);
	if (!link_of(dlt, &link)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		pcap_close(p);
		return cli_error(&c, EXIT_INPUT,
		                 "%s: link type %s (%d) is not one replay reads (Ethernet, BSD "
		                 "loopback, Linux cooked, raw IP)",
		                 file, name ? name : "unknown", dlt);
	}
	char err[512];
	struct s2_plan *plan = s2_plan_load(image, err, sizeof err);
	if (!plan) {
		pcap_close(p);
		return cli_error(&c, EXIT_INPUT, "%s", err);
	}

	int ec = 0;
	struct sx x = {.c = &c, .plan = plan, .count_only = o.count_only, .out = stdout};
	for (unsigned i = 0; i < plan->n_boards; i++)
		if (plan->boards[i].board >= x.boards_total)
			x.boards_total = plan->boards[i].board + 1;
	x.state = calloc(x.boards_total ? x.boards_total : 1, 1);
	struct s2_stream_callbacks cb = {sx_spikes, sx_energy, sx_event, &x};
	struct s2_stream *st = s2_stream_new((uint32_t)id, &cb);
	struct event_base *base = NULL;
	if (!x.state || !st) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < plan->n_boards; i++)
		if (s2_stream_add_plan_sources(st, plan, &plan->boards[i], NULL, 0, NULL, NULL) <
		    0) {
			ec = cli_error(&c, EXIT_FAIL, "out of memory");
			goto out;
		}
	if (o.serve) {
		if (!(base = event_base_new())) {
			ec = cli_error(&c, EXIT_FAIL, "out of memory");
			goto out;
		}
		if (!(x.serve = s2_serve_open(base, o.serve, plan, (size_t)queue, cli_serve_log,
		                              (void *)"s2ctl replay", err, sizeof err))) {
			ec = cli_error(&c, EXIT_USAGE, "--serve %s: %s", o.serve, err);
			goto out;
		}
	}
	catch_signals();
	if (o.ready) {
		FILE *r = fopen(o.ready, "w");
		if (!r || fputs("ready\n", r) < 0 || fclose(r)) {
			ec = cli_error(&c, EXIT_USAGE, "--ready-file %s: %s", o.ready,
			               strerror(errno));
			goto out;
		}
	}
	if (wait_s)
		wait_until(base, now_s() + (double)wait_s);

	struct s2_replay *rp = s2_replay_new(st, (uint32_t)id, (enum s2_replay_link)link);
	if (!rp) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	const struct s2_replay_counts *n = s2_replay_counts(rp);
	struct pcap_pkthdr *h;
	const u_char *data;
	double first_ts = 0, last_ts = 0, t0_wall = 0, t0_cap = 0;
	unsigned warned = 0;
	int rc = 0;
	while (!interrupted && (rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (o.realtime) {
			if (n->records == 0) {
				t0_wall = now_s();
				t0_cap = ts_s(h);
			}
			wait_until(base, t0_wall + (ts_s(h) - t0_cap));
		}
		const char *why = "";
		enum s2_replay_verdict v = s2_replay_frame(rp, data, h->caplen, h->len, &why);
		if (v == S2_REPLAY_FED) {
			if (n->stream == 1)
				first_ts = ts_s(h);
			last_ts = ts_s(h);
		} else if (v == S2_REPLAY_TRUNCATED || v == S2_REPLAY_MALFORMED) {
			skipped(file, n->records, why, h, v == S2_REPLAY_TRUNCATED, &warned);
		}
		if (base)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	fflush(x.out);
	if (x.serve)
		s2_serve_finish(x.serve, s2_stream_stats(st));
	if (!c.quiet) {
		sx_summary(&c, s2_stream_stats(st), last_ts - first_ts, c.json ? stdout : stderr);
		replay_report(&c, file, link, n);
	}
	/* after the counters, so that it is the last thing said */
	if (!interrupted && rc == PCAP_ERROR)
		ec = cli_error(&c, EXIT_INPUT, "%s: record %llu: %s", file,
		               (unsigned long long)n->records + 1, pcap_geterr(p));
	else if (!n->stream)
		fprintf(stderr,
		        "s2ctl replay: %s: no live-stream (STREAM_DATA) packets%s in %llu "
		        "records\n",
		        file, id ? " of that --stream-id" : "", (unsigned long long)n->records);
	s2_replay_free(rp);
out:
	if (x.serve)
		s2_serve_close(x.serve);
	if (base)
		event_base_free(base);
	s2_stream_free(st);
	free(x.state);
	s2_plan_free(plan);
	pcap_close(p);
	return ec;
}
