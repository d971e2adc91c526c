/*
 * s2ctl key: key files and the keys boards hold (docs/security.md). init writes a new
 * machine key file; rotate replaces the machine key on the boards and in its file; grant and
 * revoke install and remove a job's key on chosen boards (the SLURM prolog and epilog); list
 * shows each board's keys and what its guard refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "s2/error.h"
#include "s2/key.h"
#include "session.h"

enum { K_INIT, K_ROTATE, K_GRANT, K_REVOKE, K_LIST };

struct key_opts {
	unsigned long id;
	bool have_id;
};

static int key_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	struct key_opts *o = ctx;
	if (id != 'i')
		return -1;
	if (cli_uint(c, "--id", arg, UINT32_MAX, &o->id) < 0 || o->id == 0)
		return -1;
	o->have_id = true;
	return 0;
}

static const char *role_name(uint8_t role)
{
	return role == S2_KEY_MACHINE ? "machine" : role == S2_KEY_JOB ? "job" : "?";
}

/* One KEY request (op ADD of k, REVOKE of id, or LIST) to every selected board's endpoints;
 * reps[b] gets board b's answer. Prints a line per failing board. 0 or an exit code. */
static int key_all(struct session *s, int op, const struct s2_key *k, uint32_t id,
                   struct s2_msg_key_rep *reps)
{
	struct cli *c = s->c;
	struct s2_op *ops = calloc(2 * s->n, sizeof *ops);
	if (!ops)
		return cli_error(c, EXIT_FAIL, "out of memory");
	for (unsigned b = 0; b < s->n; b++) {
		struct s2_conn *conns[2] = {s->eth[b], op == S2_KEY_LIST ? NULL : s->bmp[b]};
		for (unsigned e = 0; e < 2; e++) {
			struct s2_op *o = &ops[2 * b + e];
			s2_op_init(o, NULL, NULL);
			if (!s->sel[b] || !conns[e])
				continue;
			int rc = op == S2_KEY_ADD ? s2_key_add_start(conns[e], k, &reps[b], o)
			         : op == S2_KEY_REVOKE
			                 ? s2_key_revoke_start(conns[e], id, &reps[b], o)
			                 : s2_key_list_start(conns[e], &reps[b], o);
			if (rc < 0)
				o->status = rc;
		}
	}
	s2_client_wait(s->client);
	int ec = 0;
	unsigned ok = 0, bad = 0;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		int rc = ops[2 * b].status ? ops[2 * b].status : ops[2 * b + 1].status;
		if (rc) {
			bad++;
			cli_error(c, cli_exit_for(rc), "board %u: %s", b,
			          rc == S2_E_AUTH ? "refused: the board does not accept this key "
			                            "for this (docs/security.md)"
			                          : s2_strerror(rc));
			ec = cli_exit_for(rc);
		} else {
			ok++;
		}
	}
	free(ops);
	if (bad && ok)
		ec = EXIT_PARTIAL;
	return ec;
}

/* The outcome of init, rotate, grant and revoke: a line, or with --json one object. */
static void say(const struct cli *c, const char *action, const char *path, uint32_t id,
                uint8_t role, uint32_t replaced)
{
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "action", action);
		json_str(&j, "file", path);
		json_uint(&j, "key_id", id);
		json_str(&j, "role", role_name(role));
		if (replaced)
			json_uint(&j, "replaced", replaced);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		if (!strcmp(action, "rotate"))
			printf("%s: machine key %u replaces %u on every board\n", path,
			       (unsigned)id, (unsigned)replaced);
		else if (!strcmp(action, "init"))
			printf("%s: machine key %u (mode 0600)\n", path, (unsigned)id);
		else
			printf("%s: %s key %u %s on the selected boards\n", path, role_name(role),
			       (unsigned)id, !strcmp(action, "grant") ? "granted" : "revoked");
	}
}

static int open_keyed(struct session *s, struct cli *c)
{
	if (!c->key_path && !getenv("S2_KEY_FILE"))
		return cli_error(c, EXIT_USAGE, "needs the machine key: --key FILE or S2_KEY_FILE");
	return session_open(s, c, true, true);
}

static int key_init(struct cli *c, const char *path, const struct key_opts *o)
{
	if (!c->force && access(path, F_OK) == 0)
		return cli_error(c, EXIT_USAGE,
		                 "%s exists: a new key would lock out every board that holds the "
		                 "old one (s2ctl key rotate replaces it; --force overwrites)",
		                 path);
	struct s2_key k;
	uint32_t id = o->have_id ? (uint32_t)o->id : s2_key_random_id();
	char err[512];
	if (s2_key_generate(&k, id, S2_KEY_MACHINE) < 0)
		return cli_error(c, EXIT_FAIL, "cannot make a key: libsodium could not start");
	int rc = s2_key_save(path, &k, err, sizeof err);
	memset(&k, 0, sizeof k);
	if (rc < 0)
		return cli_error(c, EXIT_INPUT, "%s", err);
	say(c, "init", path, id, S2_KEY_MACHINE, 0);
	return 0;
}

static int key_rotate(struct cli *c, const char *path, const struct key_opts *o)
{
	c->key_path = path;
	struct session s;
	int ec = session_open(&s, c, true, true);
	struct s2_msg_key_rep *reps = calloc(s.n ? s.n : 1, sizeof *reps);
	struct s2_key old = *s2_client_key(s.client), nk;
	char next[4200], err[512];
	if (ec || !reps)
		goto out;
	uint32_t id = o->have_id ? (uint32_t)o->id : s2_key_random_id();
	while (id == old.id)
		id = s2_key_random_id();
	if (s2_key_generate(&nk, id, S2_KEY_MACHINE) < 0) {
		ec = cli_error(c, EXIT_FAIL, "cannot make a key: libsodium could not start");
		goto out;
	}
	/* The new key is on disk before any board holds it: a crash cannot lose it. */
	snprintf(next, sizeof next, "%s.next", path);
	if (s2_key_save(next, &nk, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_INPUT, "%s", err);
		goto out;
	}
	ec = key_all(&s, S2_KEY_ADD, &nk, 0, reps);
	if (ec) {
		cli_error(c, ec,
		          "the new key %u is in %s and on the boards that took it; %s still "
		          "holds key %u, which every board still accepts",
		          (unsigned)id, next, path, (unsigned)old.id);
		goto out;
	}
	if (rename(next, path) != 0) {
		ec = cli_error(c, EXIT_INPUT, "%s: cannot replace it with %s: %s", path, next,
		               strerror(errno));
		goto out;
	}
	(void)s2_client_set_key(s.client, &nk);
	ec = key_all(&s, S2_KEY_REVOKE, NULL, old.id, reps);
	if (ec)
		cli_error(c, ec,
		          "%s holds the new key %u; the old key %u is still held by the "
		          "boards named above (run rotate again, or revoke it)",
		          path, (unsigned)id, (unsigned)old.id);
	else
		say(c, "rotate", path, id, S2_KEY_MACHINE, old.id);
out:
	memset(&old, 0, sizeof old);
	memset(&nk, 0, sizeof nk);
	free(reps);
	session_close(&s);
	return ec;
}

static int key_grant(struct cli *c, const char *path, const struct key_opts *o)
{
	struct session s;
	int ec = open_keyed(&s, c);
	struct s2_msg_key_rep *reps = calloc(s.n ? s.n : 1, sizeof *reps);
	char err[512];
	struct s2_key k;
	memset(&k, 0, sizeof k);
	if (ec || !reps)
		goto out;
	if (!c->force && access(path, F_OK) == 0) {
		ec = cli_error(c, EXIT_USAGE, "%s exists (--force overwrites)", path);
		goto out;
	}
	uint32_t id = o->have_id ? (uint32_t)o->id : s2_key_random_id();
	if (s2_key_generate(&k, id, S2_KEY_JOB) < 0) {
		ec = cli_error(c, EXIT_FAIL, "cannot make a key: libsodium could not start");
		goto out;
	}
	if (s2_key_save(path, &k, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_INPUT, "%s", err);
		goto out;
	}
	ec = key_all(&s, S2_KEY_ADD, &k, 0, reps);
	if (!ec)
		say(c, "grant", path, id, S2_KEY_JOB, 0);
out:
	memset(&k, 0, sizeof k);
	free(reps);
	session_close(&s);
	return ec;
}

static int key_revoke(struct cli *c, const char *path)
{
	struct session s;
	int ec = open_keyed(&s, c);
	struct s2_msg_key_rep *reps = calloc(s.n ? s.n : 1, sizeof *reps);
	char err[512];
	struct s2_key k;
	if (ec || !reps)
		goto out;
	if (s2_key_load(path, &k, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_INPUT, "%s", err);
		goto out;
	}
	ec = key_all(&s, S2_KEY_REVOKE, NULL, k.id, reps);
	if (!ec)
		say(c, "revoke", path, k.id, k.role, 0);
	memset(&k, 0, sizeof k);
out:
	free(reps);
	session_close(&s);
	return ec;
}

static int key_list(struct cli *c)
{
	struct session s;
	int ec = open_keyed(&s, c);
	struct s2_msg_key_rep *reps = calloc(s.n ? s.n : 1, sizeof *reps);
	if (ec || !reps)
		goto out;
	ec = key_all(&s, S2_KEY_LIST, NULL, 0, reps);
	static const char *const names[6] = {"ok",      "unauthenticated", "unknown_key",
	                                     "bad_tag", "replayed",        "forbidden"};
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_arr(&j, "boards");
	}
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		const struct s2_msg_key_rep *r = &reps[b];
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_arr(&j, "keys");
			for (unsigned i = 0; i < r->n; i++) {
				json_obj(&j, NULL);
				json_uint(&j, "id", r->key_id[i]);
				json_str(&j, "role", role_name(r->role[i]));
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_obj(&j, "guard");
			for (unsigned i = 0; i < 6; i++)
				json_uint(&j, names[i], r->counters[i]);
			json_end_obj(&j);
			json_end_obj(&j);
		} else if (!c->quiet) {
			printf("board %u: keys", b);
			for (unsigned i = 0; i < r->n; i++)
				printf(" %u (%s)", (unsigned)r->key_id[i], role_name(r->role[i]));
			printf("; guard:");
			for (unsigned i = 0; i < 6; i++)
				printf(" %s %u", names[i], (unsigned)r->counters[i]);
			printf("\n");
		}
	}
	if (c->json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	}
out:
	free(reps);
	session_close(&s);
	return ec;
}

int verb_key(int argc, char **argv)
{
	static const char *const words[] = {"init", "rotate", "grant", "revoke", "list"};
	int sub = -1;
	for (int k = 0; argc >= 2 && k < 5; k++)
		if (!strcmp(argv[1], words[k]))
			sub = k;
	if (sub < 0) {
		bool help = argc >= 2 && !strcmp(argv[1], "--help");
		fputs(cli_usage("key"), help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	static const struct option extra[] = {{"id", required_argument, 0, 'i'}, {0, 0, 0, 0}};
	struct cli c;
	struct key_opts o = {0};
	int pos = cli_parse(&c, "key", argc - 1, argv + 1, extra, key_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	int want = sub == K_LIST ? 0 : 1;
	if (argc - 1 - pos != want)
		return cli_error(&c, EXIT_USAGE, "key %s takes %s (see --help)", words[sub],
		                 want ? "one FILE" : "no file");
	const char *path = want ? argv[1 + pos] : NULL;
	switch (sub) {
	case K_INIT:
		return key_init(&c, path, &o);
	case K_ROTATE:
		return key_rotate(&c, path, &o);
	case K_GRANT:
		return key_grant(&c, path, &o);
	case K_REVOKE:
		return key_revoke(&c, path);
	default:
		return key_list(&c);
	}
}
