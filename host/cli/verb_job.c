/*
 * SLURM integration of s2ctl (docs/cluster.md): the job's view of the machine for every verb
 * (cli_job_view, from cli_load_machine), `s2ctl job begin|end|show` (the prolog's and
 * epilog's steps that need s2: the allocation file, the job's energy report),
 * `s2ctl machine slurm` (gres.conf and slurm.conf lines) and `s2ctl energy jobs` (energy per
 * job, user and account over a period). The logic is libs2's (s2/alloc.h, s2/jobs.h).
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"
#include "s2/alloc.h"
#include "s2/app.h"
#include "s2/energy.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/jobs.h"
#include "s2/machine.h"
#include "s2/stream.h"

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The job's allocation, loaded once per process. 1: in a job, 0: not, <0: error (printed). */
static int job_alloc(const struct cli *c, const struct s2_alloc **out)
{
	static struct s2_alloc a;
	static int state = 2; /* 2: not loaded yet */
	static char err[768];
	if (state == 2)
		state = s2_alloc_from_env(&a, err, sizeof err);
	if (state < 0)
		cli_error(c, EXIT_INPUT, "%s", err);
	*out = state == 1 ? &a : NULL;
	return state;
}

struct s2_machine *cli_job_view(const struct cli *c, struct s2_machine *m, const char *what)
{
	if (c->site)
		return m;
	const struct s2_alloc *a;
	int rc = job_alloc(c, &a);
	if (rc == 0)
		return m;
	struct s2_machine *v = NULL;
	if (rc == 1) {
		char err[1024];
		v = s2_alloc_view(a, m, what, err, sizeof err);
		if (!v)
			cli_error(c, EXIT_INPUT, "%s", err);
	}
	s2_machine_free(m);
	return v;
}

uint16_t cli_job_wire_board(const struct cli *c, const struct s2_machine *m, unsigned b)
{
	const struct s2_alloc *a;
	if (c->site || job_alloc(c, &a) != 1)
		return (uint16_t)b;
	struct s2_board_endpoint ep;
	s2_machine_board_endpoint(m, b, &ep);
	return (uint16_t)s2_alloc_wire_board(a, &ep, b);
}

int cli_job_stream_map(const struct cli *c, const struct s2_machine *m, struct s2_stream *st)
{
	unsigned n = s2_machine_boards(m);
	bool differs = false;
	uint16_t *wire = malloc((n ? n : 1) * sizeof *wire);
	if (!wire)
		return S2_E_NOMEM;
	for (unsigned b = 0; b < n; b++)
		differs |= (wire[b] = cli_job_wire_board(c, m, b)) != b;
	int rc = differs ? s2_stream_map_boards(st, wire, n) : 0;
	free(wire);
	return rc;
}

const char *cli_job_key(const struct cli *c)
{
	if (c->site)
		return NULL;
	const struct s2_alloc *a;
	return job_alloc(c, &a) == 1 && *a->key ? a->key : NULL;
}

int cli_job_labels(char *out, size_t cap)
{
	struct s2_alloc *a = malloc(sizeof *a);
	char err[256];
	int rc = a ? s2_alloc_from_env(a, err, sizeof err) : 0;
	if (rc == 1)
		snprintf(out, cap, "%s\t%s\t%s", a->job, a->user, a->account);
	free(a);
	return rc == 1;
}

/* ---- s2ctl job ------------------------------------------------------------------------ */

struct job_opts {
	const char *job, *user, *uid, *account, *gres_idx, *scontrol, *model;
};

static int job_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct job_opts *o = ctx;
	const char **slot[] = {&o->job,      &o->user,     &o->uid,  &o->account,
	                       &o->gres_idx, &o->scontrol, &o->model};
	if (id < 256 || id >= 256 + (int)(sizeof slot / sizeof slot[0]))
		return -1;
	*slot[id - 256] = arg;
	return 0;
}

static const char *env_or(const char *v, const char *name, const char *dflt)
{
	if (v)
		return v;
	const char *e = getenv(name);
	return e && *e ? e : dflt;
}

static int make_dir(const struct cli *c, const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return cli_error(c, EXIT_FAIL, "%s: %s", path, strerror(errno));
	return 0;
}

static int job_begin(struct cli *c, struct job_opts *o)
{
	const char *job = env_or(o->job, "SLURM_JOB_ID", NULL);
	if (!job)
		return cli_error(c, EXIT_USAGE, "begin needs --job ID or SLURM_JOB_ID");
	if (!o->gres_idx && !o->scontrol)
		return cli_error(c, EXIT_USAGE, "begin needs --gres-idx LIST or --scontrol FILE");
	struct s2_machine *m = cli_load_machine(c);
	if (!m)
		return EXIT_INPUT;
	int ec = EXIT_OK;
	struct s2_alloc *a = calloc(1, sizeof *a);
	unsigned *idx = calloc(S2_ALLOC_MAX_BOARDS, sizeof *idx), n = 0;
	char *text = NULL, err[768];
	if (!a || !idx) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	if (o->scontrol) {
		size_t len;
		FILE *f = strcmp(o->scontrol, "-") ? fopen(o->scontrol, "r") : stdin;
		if (!f) {
			ec = cli_error(c, EXIT_INPUT, "%s: %s", o->scontrol, strerror(errno));
			goto out;
		}
		text = malloc(1 << 20);
		len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
		if (f != stdin)
			fclose(f);
		if (!text) {
			ec = cli_error(c, EXIT_FAIL, "out of memory");
			goto out;
		}
		text[len] = 0;
	}
	int rc;
	if (o->scontrol) {
		rc = s2_alloc_parse_gres(text, "s2board", idx, S2_ALLOC_MAX_BOARDS, &n, err,
		                         sizeof err);
	} else {
		rc = s2_alloc_parse_list(o->gres_idx, idx, S2_ALLOC_MAX_BOARDS, &n);
		if (rc < 0)
			snprintf(err, sizeof err, "--gres-idx '%s' is not a list like 0-1,3",
			         o->gres_idx);
	}
	if (rc < 0) {
		ec = cli_error(c, EXIT_INPUT, "job %s: %s", job, err);
		goto out;
	}
	snprintf(a->job, sizeof a->job, "%s", job);
	snprintf(a->user, sizeof a->user, "%s", env_or(o->user, "SLURM_JOB_USER", "-"));
	snprintf(a->account, sizeof a->account, "%s", env_or(o->account, "SLURM_JOB_ACCOUNT", "-"));
	unsigned long uid = 0;
	if (cli_uint(c, "--uid", env_or(o->uid, "SLURM_JOB_UID", "0"), UINT32_MAX, &uid) < 0) {
		ec = EXIT_USAGE;
		goto out;
	}
	a->uid = (uint32_t)uid;
	snprintf(a->machine, sizeof a->machine, "%s",
	         c->machine_path ? c->machine_path : getenv("S2_MACHINE"));
	if (s2_alloc_set_boards(a, m, idx, n, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_INPUT, "job %s: %s", job, err);
		goto out;
	}
	char dir[1024], path[1100];
	snprintf(dir, sizeof dir, "%s/jobs", s2_alloc_state_dir());
	if ((ec = make_dir(c, s2_alloc_state_dir())) || (ec = make_dir(c, dir)))
		goto out;
	snprintf(dir, sizeof dir, "%s/jobs/%s", s2_alloc_state_dir(), job);
	if ((ec = make_dir(c, dir)))
		goto out;
	if (snprintf(a->key, sizeof a->key, "%s/job.key", dir) >= (int)sizeof a->key) {
		ec = cli_error(c, EXIT_USAGE, "%s: the state directory's path is too long", dir);
		goto out;
	}
	a->start_us = now_us();
	s2_alloc_path(job, path, sizeof path);
	if (s2_alloc_save(a, path, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "%s", err);
		goto out;
	}
	for (unsigned i = 0; i < a->n; i++)
		printf("%s%u", i ? "," : "", a->board[i]);
	printf("\n");
out:
	free(text);
	free(idx);
	free(a);
	s2_machine_free(m);
	return ec;
}

/* The activity counters APP_STATUS gives, as the model's counter increases (DMA bytes are not
 * in APP_STATUS: 0). */
static double status_dynamic_j(const struct s2_energy_model *em, const struct s2_msg_app_status *st)
{
	uint64_t inc[S2_LIVE_COUNTERS] = {0};
	inc[S2_LC_NEURON_UPDATES] = st->neuron_updates;
	inc[S2_LC_SYNAPTIC_EVENTS] = st->synaptic_events;
	inc[S2_LC_SPIKES_SENT] = st->spikes_sent;
	inc[S2_LC_PACKETS_IN] = st->packets_in;
	inc[S2_LC_PACKETS_ROUTED] = st->packets_routed;
	return s2_energy_dynamic_j(em, inc, NULL);
}

static double board_static_w(const struct s2_energy_model *em, const struct s2_machine *m)
{
	return s2_machine_chips_per_board(m) * em->chip_idle_w + em->board_other_w;
}

static int load_model(const struct cli *c, const char *path, struct s2_energy_model *em)
{
	s2_energy_model_default(em);
	if (!path)
		return 0;
	size_t len;
	char err[600];
	uint8_t *t = NULL;
	int rc = s2_file_read_all(path, 1 << 20, &t, &len, err, sizeof err);
	if (rc < 0)
		return cli_error(c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT, "--model %s", err);
	char *s = (char *)t;
	s[len] = 0; /* the byte s2_file_read_all leaves beyond the data */
	rc = s2_energy_model_parse(em, s, err, sizeof err);
	free(s);
	if (rc < 0)
		return cli_error(c, EXIT_INPUT, "--model %s: %s", path, err);
	return 0;
}

static int job_end(struct cli *c, struct job_opts *o)
{
	const char *job = env_or(o->job, "SLURM_JOB_ID", NULL);
	if (!job)
		return cli_error(c, EXIT_USAGE, "end needs --job ID or SLURM_JOB_ID");
	struct s2_energy_model em;
	int ec = load_model(c, o->model, &em);
	if (ec)
		return ec;
	char path[1100], err[768];
	s2_alloc_path(job, path, sizeof path);
	struct s2_alloc *a = calloc(1, sizeof *a);
	struct s2_job_energy *r = calloc(1, sizeof *r);
	struct s2_msg_app_status *st = NULL;
	struct s2_op *ops = NULL;
	struct session s = {0};
	bool opened = false;
	if (!a || !r) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	if (s2_alloc_load(path, a, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_INPUT, "job %s: %s", job, err);
		goto out;
	}
	uint64_t end = now_us();
	char list[8192];
	size_t ln = 0;
	for (unsigned i = 0; i < a->n && ln < sizeof list; i++)
		ln += (size_t)snprintf(list + ln, sizeof list - ln, "%s%u", i ? "," : "",
		                       a->board[i]);
	c->boards_spec = list;
	if ((ec = session_open(&s, c, true, false)))
		goto out;
	opened = true;
	st = calloc(s.n, sizeof *st);
	ops = calloc(s.n, sizeof *ops);
	if (!st || !ops) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < a->n; i++) {
		s2_op_init(&ops[a->board[i]], NULL, NULL);
		s2_app_status_start(s.eth[a->board[i]], &st[a->board[i]], &ops[a->board[i]]);
	}
	s2_client_wait(s.client);
	snprintf(r->job, sizeof r->job, "%s", a->job);
	snprintf(r->user, sizeof r->user, "%s", *a->user ? a->user : "-");
	snprintf(r->account, sizeof r->account, "%s", *a->account ? a->account : "-");
	snprintf(r->model, sizeof r->model, "%s", em.version);
	r->start_us = a->start_us;
	r->end_us = end > a->start_us ? end : a->start_us;
	r->n = a->n;
	double w = board_static_w(&em, s.m);
	for (unsigned i = 0; i < a->n; i++) {
		unsigned b = a->board[i];
		r->board[i] = b;
		r->static_w[i] = w;
		/* A board that is not booted (or was reset by the job) has no application and no
		 * counters: its dynamic energy since the last load is 0, said on stderr. */
		r->dynamic_j[i] = ops[b].status == 0 ? status_dynamic_j(&em, &st[b]) : 0;
		if (ops[b].status < 0 && !c->quiet)
			fprintf(stderr,
			        "s2ctl job: board %u: no activity counters (%s): dynamic 0 J\n", b,
			        s2_strerror(ops[b].status));
	}
	char dir[1024], rpath[1100];
	snprintf(dir, sizeof dir, "%s/energy", s2_alloc_state_dir());
	if ((ec = make_dir(c, dir)))
		goto out;
	snprintf(rpath, sizeof rpath, "%s/%s.s2job", dir, a->job);
	if (s2_job_energy_save(r, rpath, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "%s", err);
		goto out;
	}
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "job", r->job);
		json_str(&j, "user", r->user);
		json_str(&j, "account", r->account);
		json_str(&j, "report", rpath);
		json_num(&j, "seconds", (double)(r->end_us - r->start_us) * 1e-6);
		json_num(&j, "energy_j", s2_job_total_j(r));
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		printf("job %s (user %s, account %s): %u boards for %.3f s: %.6g J (%s, static "
		       "%.4g W per board, idle included) -> %s\n",
		       r->job, r->user, r->account, r->n, (double)(r->end_us - r->start_us) * 1e-6,
		       s2_job_total_j(r), r->model, w, rpath);
	}
out:
	if (opened)
		session_close(&s);
	free(st);
	free(ops);
	free(a);
	free(r);
	return ec;
}

static int job_show(struct cli *c, const struct job_opts *o)
{
	const struct s2_alloc *a;
	static struct s2_alloc given;
	if (o->job) { /* the operator, outside the job */
		char path[1100], err[768];
		s2_alloc_path(o->job, path, sizeof path);
		if (s2_alloc_load(path, &given, err, sizeof err) < 0)
			return cli_error(c, EXIT_INPUT, "job %s: %s", o->job, err);
		a = &given;
	} else {
		c->site = false;
		int rc = job_alloc(c, &a);
		if (rc < 0)
			return EXIT_INPUT;
		if (rc == 0)
			return cli_error(
			        c, EXIT_USAGE,
			        "not inside a SLURM job with s2 boards (no SLURM_JOB_ID, or "
			        "no %s/jobs); --job ID names one",
			        s2_alloc_state_dir());
	}
	if (c->quiet) { /* the site boards, for scripts */
		for (unsigned i = 0; i < a->n; i++)
			printf("%s%u", i ? "," : "", a->board[i]);
		printf("\n");
		return EXIT_OK;
	}
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "job", a->job);
		json_str(&j, "user", a->user);
		json_str(&j, "account", a->account);
		json_str(&j, "machine", a->machine);
		json_str(&j, "key", a->key);
		json_arr(&j, "boards");
		for (unsigned i = 0; i < a->n; i++) {
			json_obj(&j, NULL);
			json_uint(&j, "board", i);
			json_uint(&j, "site_board", a->board[i]);
			json_str(&j, "host", a->ep[i].host);
			json_uint(&j, "eth_port", a->ep[i].eth_port);
			json_uint(&j, "bmp_port", a->ep[i].bmp_port);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
		return EXIT_OK;
	}
	printf("job %s (user %s, account %s): %u boards of %s, key %s\n", a->job, a->user,
	       a->account, a->n, a->machine, *a->key ? a->key : "none");
	for (unsigned i = 0; i < a->n; i++)
		printf("  board %u = site board %u (%s eth %u bmp %u)\n", i, a->board[i],
		       a->ep[i].host, a->ep[i].eth_port, a->ep[i].bmp_port);
	return EXIT_OK;
}

int verb_job(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"job", required_argument, 0, 256},      {"user", required_argument, 0, 257},
	        {"uid", required_argument, 0, 258},      {"account", required_argument, 0, 259},
	        {"gres-idx", required_argument, 0, 260}, {"scontrol", required_argument, 0, 261},
	        {"model", required_argument, 0, 262},    {0, 0, 0, 0}};
	struct cli c;
	struct job_opts o = {0};
	int pos = cli_parse(&c, "job", argc, argv, extra, job_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "say begin, end or show (see --help)");
	/* The prolog and epilog act on the site's machine, not on a job's view of it. */
	c.site = true;
	if (!strcmp(argv[pos], "begin"))
		return job_begin(&c, &o);
	if (!strcmp(argv[pos], "end"))
		return job_end(&c, &o);
	if (!strcmp(argv[pos], "show"))
		return job_show(&c, &o);
	return cli_error(&c, EXIT_USAGE, "unknown job command '%s' (begin, end, show)", argv[pos]);
}

/* ---- s2ctl machine slurm ------------------------------------------------------------- */

struct slurm_opts {
	const char *node, *dev_dir;
	bool make_files;
};

static int slurm_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct slurm_opts *o = ctx;
	if (id == 256)
		o->node = arg;
	else if (id == 257)
		o->dev_dir = arg;
	else if (id == 258)
		o->make_files = true;
	else
		return -1;
	return 0;
}

int cli_machine_slurm(int argc, char **argv)
{
	static const struct option extra[] = {{"node", required_argument, 0, 256},
	                                      {"dev-dir", required_argument, 0, 257},
	                                      {"make-files", no_argument, 0, 258},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct slurm_opts o = {0};
	int pos = cli_parse(&c, "machine", argc, argv, extra, slurm_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	const char *path = pos < argc ? argv[pos] : c.machine_path;
	if (!path || pos + 1 < argc)
		return cli_error(&c, EXIT_USAGE,
		                 "usage: s2ctl machine slurm MACHINE [--node NAME] "
		                 "[--dev-dir DIR] [--make-files]");
	if (c.json)
		return cli_error(&c, EXIT_USAGE,
		                 "slurm prints configuration lines; it has no --json");
	char err[512], host[256];
	struct s2_machine *m = s2_machine_load_file(path, err, sizeof err);
	if (!m)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	unsigned n = s2_machine_boards(m);
	s2_machine_free(m);
	if (!o.node) {
		if (gethostname(host, sizeof host) < 0)
			snprintf(host, sizeof host, "localhost");
		host[strcspn(host, ".")] = 0;
		o.node = host;
	}
	char dev[1024];
	snprintf(dev, sizeof dev, "%s", o.dev_dir ? o.dev_dir : S2_ALLOC_STATE_DEFAULT "/dev");
	if (o.make_files) {
		if (mkdir(dev, 0755) < 0 && errno != EEXIST)
			return cli_error(&c, EXIT_FAIL, "%s: %s", dev, strerror(errno));
		for (unsigned b = 0; b < n; b++) {
			char f[1100];
			snprintf(f, sizeof f, "%s/s2board%u", dev, b);
			FILE *fp = fopen(f, "a");
			if (!fp)
				return cli_error(&c, EXIT_FAIL, "%s: %s", f, strerror(errno));
			fclose(fp);
		}
	}
	printf("# s2ctl machine slurm %s: %u boards, gres s2board (docs/cluster.md)\n", path, n);
	printf("# --- gres.conf: gres index i is board i of %s; the files only number the\n"
	       "# boards (SLURM needs File= to hand out indices); %s\n",
	       path, o.make_files ? "created" : "create them with --make-files");
	if (n == 1)
		printf("NodeName=%s Name=s2board File=%s/s2board0\n", o.node, dev);
	else
		printf("NodeName=%s Name=s2board File=%s/s2board[0-%u]\n", o.node, dev, n - 1);
	printf("# --- slurm.conf\nGresTypes=s2board\n"
	       "# add to the NodeName line of %s:\n#   Gres=s2board:%u\n"
	       "PrologFlags=Alloc\nProlog=%s/s2-prolog\nEpilog=%s/s2-epilog\n",
	       o.node, n, S2_LIBEXEC_DIR, S2_LIBEXEC_DIR);
	return EXIT_OK;
}

/* ---- s2ctl energy jobs ---------------------------------------------------------------- */

struct ejobs_opts {
	const char *dir, *from, *to, *model;
};

static int ejobs_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct ejobs_opts *o = ctx;
	if (id == 256)
		o->dir = arg;
	else if (id == 257)
		o->from = arg;
	else if (id == 258)
		o->to = arg;
	else if (id == 259)
		o->model = arg;
	else
		return -1;
	return 0;
}

/* Unix seconds ("1765000000.25") or UTC "2026-12-06T21:00:00Z". */
static int parse_time(const struct cli *c, const char *what, const char *s, uint64_t *us)
{
	struct tm tm = {0};
	char *end;
	if (strchr(s, 'T')) {
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (end && (!strcmp(end, "Z") || !*end)) {
			time_t t = timegm(&tm);
			*us = (uint64_t)t * 1000000u;
			return 0;
		}
	} else {
		errno = 0;
		double v = strtod(s, &end);
		if (!errno && end != s && !*end && v >= 0 && isfinite(v)) {
			*us = (uint64_t)llround(v * 1e6);
			return 0;
		}
	}
	return cli_error(c, EXIT_USAGE, "%s: '%s' is neither Unix seconds nor YYYY-MM-DDTHH:MM:SSZ",
	                 what, s);
}

static void utc(uint64_t us, char *out, size_t cap)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct group {
	char user[64], account[64];
	double energy_j;
	unsigned jobs;
};

int cli_energy_jobs(int argc, char **argv)
{
	static const struct option extra[] = {{"dir", required_argument, 0, 256},
	                                      {"from", required_argument, 0, 257},
	                                      {"to", required_argument, 0, 258},
	                                      {"model", required_argument, 0, 259},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct ejobs_opts o = {0};
	int pos = cli_parse(&c, "energy", argc, argv, extra, ejobs_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos != argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	c.site = true;
	struct s2_energy_model em;
	int ec = load_model(&c, o.model, &em);
	if (ec)
		return ec;
	uint64_t from = 0, to = 0;
	if ((o.from && parse_time(&c, "--from", o.from, &from)) ||
	    (o.to && parse_time(&c, "--to", o.to, &to)))
		return EXIT_USAGE;
	struct s2_machine *m = cli_load_machine(&c);
	if (!m)
		return c.machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
	unsigned nb = s2_machine_boards(m);
	double w = board_static_w(&em, m);
	s2_machine_free(m);
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", o.dir ? o.dir : "");
	if (!o.dir)
		snprintf(dir, sizeof dir, "%s/energy", s2_alloc_state_dir());
	DIR *d = opendir(dir);
	if (!d)
		return cli_error(&c, EXIT_INPUT, "%s: %s", dir, strerror(errno));
	struct s2_job_energy **jobs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char err[1024];
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 7 || strcmp(de->d_name + l - 6, ".s2job"))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct s2_job_energy **q = realloc(jobs, cap * sizeof *q);
			if (!q) {
				ec = cli_error(&c, EXIT_FAIL, "out of memory");
				goto out;
			}
			jobs = q;
		}
		char p[2100];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (!(jobs[n] = malloc(sizeof *jobs[n]))) {
			ec = cli_error(&c, EXIT_FAIL, "out of memory");
			goto out;
		}
		if (s2_job_energy_load(p, jobs[n], err, sizeof err) < 0) {
			free(jobs[n]);
			ec = cli_error(&c, EXIT_INPUT, "%s", err);
			goto out;
		}
		n++;
	}
	if (!o.from || !o.to) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t k = 0; k < n; k++) {
			lo = jobs[k]->start_us < lo ? jobs[k]->start_us : lo;
			hi = jobs[k]->end_us > hi ? jobs[k]->end_us : hi;
		}
		if (!n) {
			ec = cli_error(&c, EXIT_INPUT,
			               "%s: no job reports (*.s2job); give --from "
			               "and --to for the idle machine",
			               dir);
			goto out;
		}
		if (!o.from)
			from = lo;
		if (!o.to)
			to = hi;
	}
	struct s2_jobs_share *share = calloc(n ? n : 1, sizeof *share);
	struct group *g = calloc(n ? n : 1, sizeof *g);
	struct s2_jobs_period p;
	if (!share || !g) {
		free(share);
		free(g);
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	if (s2_jobs_sum((const struct s2_job_energy *const *)jobs, n, nb, w, from, to, share, &p,
	                err, sizeof err) < 0) {
		free(share);
		free(g);
		ec = cli_error(&c, EXIT_INPUT, "%s", err);
		goto out;
	}
	size_t ng = 0;
	for (size_t k = 0; k < n; k++) {
		if (share[k].seconds <= 0 && share[k].energy_j <= 0)
			continue;
		size_t i = 0;
		while (i < ng &&
		       (strcmp(g[i].user, jobs[k]->user) || strcmp(g[i].account, jobs[k]->account)))
			i++;
		if (i == ng) {
			snprintf(g[i].user, sizeof g[i].user, "%s", jobs[k]->user);
			snprintf(g[i].account, sizeof g[i].account, "%s", jobs[k]->account);
			ng++;
		}
		g[i].energy_j += share[k].energy_j;
		g[i].jobs++;
	}
	char f[32], t[32];
	utc(from, f, sizeof f);
	utc(to, t, sizeof t);
	double diff = p.jobs_j + p.idle_j - p.total_j;
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "from_utc", f);
		json_str(&j, "to_utc", t);
		json_num(&j, "from_s", (double)from * 1e-6);
		json_num(&j, "to_s", (double)to * 1e-6);
		json_uint(&j, "boards", nb);
		json_num(&j, "board_static_w", w);
		json_str(&j, "model", em.version);
		json_arr(&j, "jobs");
		for (size_t k = 0; k < n; k++) {
			if (share[k].seconds <= 0 && share[k].energy_j <= 0)
				continue;
			json_obj(&j, NULL);
			json_str(&j, "job", jobs[k]->job);
			json_str(&j, "user", jobs[k]->user);
			json_str(&j, "account", jobs[k]->account);
			json_uint(&j, "boards", jobs[k]->n);
			json_num(&j, "seconds", share[k].seconds);
			json_num(&j, "energy_j", share[k].energy_j);
			json_num(&j, "report_energy_j", s2_job_total_j(jobs[k]));
			json_num(&j, "overlap_s", share[k].overlap_s);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_arr(&j, "groups");
		for (size_t i = 0; i < ng; i++) {
			json_obj(&j, NULL);
			json_str(&j, "user", g[i].user);
			json_str(&j, "account", g[i].account);
			json_uint(&j, "jobs", g[i].jobs);
			json_num(&j, "energy_j", g[i].energy_j);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_num(&j, "jobs_j", p.jobs_j);
		json_num(&j, "idle_j", p.idle_j);
		json_num(&j, "total_j", p.total_j);
		json_num(&j, "difference_j", diff);
		json_num(&j, "overlap_s", p.overlap_s);
		json_end_obj(&j);
		json_finish(&j);
	} else {
		printf("energy per job, %s to %s, %u boards (%s, %.4g W per board idle or held)\n",
		       f, t, nb, em.version, w);
		for (size_t k = 0; k < n; k++)
			if (share[k].seconds > 0 || share[k].energy_j > 0)
				printf("  job %-8s user %-12s account %-12s %3u boards %9.3f s "
				       "%12.6g J\n",
				       jobs[k]->job, jobs[k]->user, jobs[k]->account, jobs[k]->n,
				       share[k].seconds, share[k].energy_j);
		printf("per user and account:\n");
		for (size_t i = 0; i < ng; i++)
			printf("  user %-12s account %-12s %4u jobs %12.6g J\n", g[i].user,
			       g[i].account, g[i].jobs, g[i].energy_j);
		printf("jobs %.9g J + unallocated idle %.9g J = %.9g J; machine total %.9g J "
		       "(difference %.3g J)\n",
		       p.jobs_j, p.idle_j, p.jobs_j + p.idle_j, p.total_j, diff);
	}
	if (p.overlap_s > 0)
		fprintf(stderr,
		        "s2ctl energy: %.3f board-seconds claimed by two reports were counted once "
		        "(for the job that started first)\n",
		        p.overlap_s);
	free(share);
	free(g);
out:
	closedir(d);
	for (size_t k = 0; k < n; k++)
		free(jobs[k]);
	free(jobs);
	return ec;
}
