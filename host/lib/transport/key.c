/*
 * Key files, key generation and the KEY message from the host (s2/key.h). Secrets come from
 * libsodium's generator and are wiped from memory that is given back.
 */
#include "s2/key.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/wire.h"

#define KEY_KIND S2_SFILE_KIND('K', 'E', 'Y', ' ')
#define KEY_VERSION 1u
#define KEY_BODY (8u + S2_AUTH_KEY_LEN)

int s2_key_generate(struct s2_key *k, uint32_t id, uint8_t role)
{
	if (!id || (role != S2_KEY_MACHINE && role != S2_KEY_JOB))
		return S2_E_RANGE;
	if (sodium_init() < 0)
		return S2_E_IO;
	k->id = id;
	k->role = role;
	randombytes_buf(k->secret, sizeof k->secret);
	return 0;
}

uint32_t s2_key_random_id(void)
{
	uint32_t id = 0;
	if (sodium_init() < 0)
		return 1;
	while (!id)
		id = randombytes_random();
	return id;
}

int s2_key_load(const char *path, struct s2_key *k, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return S2_E_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return S2_E_STATE;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		         "%s: mode %04o lets %s the key; a key file must be 0600 (chmod 600 %s)",
		         path, (unsigned)(st.st_mode & 07777),
		         st.st_mode & 07 ? "every user read or change" : "its group read or change",
		         path);
		return S2_E_STATE;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = s2_file_read_all(path, 4096, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	struct s2_sfile f;
	rc = s2_file_check(buf, len, KEY_KIND, KEY_VERSION, path, &f, err, errlen);
	if (rc == 0) {
		const uint8_t *p = f.content;
		if (f.n_sections != 1 || f.content_len != KEY_BODY) {
			snprintf(err, errlen, "%s: not a key: %zu bytes of content, want %u", path,
			         (size_t)f.content_len, KEY_BODY);
			rc = S2_E_FORMAT;
		} else {
			k->id = s2_ld32(p);
			k->role = p[4];
			memcpy(k->secret, p + 8, S2_AUTH_KEY_LEN);
			if (!k->id || (k->role != S2_KEY_MACHINE && k->role != S2_KEY_JOB) ||
			    p[5] || p[6] || p[7]) {
				snprintf(err, errlen, "%s: not a key: id %u, role %u", path,
				         (unsigned)k->id, (unsigned)k->role);
				rc = S2_E_FORMAT;
			}
		}
	}
	if (rc < 0)
		sodium_memzero(k, sizeof *k);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int s2_key_save(const char *path, const struct s2_key *k, char *err, size_t errlen)
{
	uint8_t body[KEY_BODY] = {0};
	s2_st32(body, k->id);
	body[4] = k->role;
	memcpy(body + 8, k->secret, S2_AUTH_KEY_LEN);
	struct s2_file_w *w = s2_file_w_new(KEY_KIND, KEY_VERSION);
	uint8_t *out = NULL;
	size_t len = 0;
	int rc = S2_E_NOMEM;
	if (w && s2_file_w_section(w, "key") == 0 && s2_file_w_put(w, body, sizeof body) == 0)
		rc = s2_file_w_finish(w, &out, &len);
	s2_file_w_free(w);
	sodium_memzero(body, sizeof body);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, s2_strerror(rc));
		return rc;
	}
	rc = s2_file_write_private(path, out, len, err, errlen);
	sodium_memzero(out, len);
	free(out);
	return rc;
}

int s2_client_key_from_env(struct s2_client *c, char *err, size_t errlen)
{
	const char *path = getenv("S2_KEY_FILE");
	if (!path || !*path)
		return 0;
	struct s2_key k;
	int rc = s2_key_load(path, &k, err, errlen);
	if (rc == 0 && (rc = s2_client_set_key(c, &k)) < 0)
		snprintf(err, errlen, "%s: libsodium could not start", path);
	sodium_memzero(&k, sizeof k);
	return rc;
}

/* --- KEY requests ---------------------------------------------------------------------- */

struct key_req {
	struct s2_op *op;
	struct s2_msg_key_rep *rep;
};

static void key_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct key_req *r = arg;
	struct s2_op *op = r->op;
	op->outstanding--;
	struct s2_msg_key_rep rep;
	if (status == 0 && s2_msg_key_rep_decode(p, len, &rep) < 0)
		status = S2_E_FORMAT;
	if (status == 0 && r->rep)
		*r->rep = rep;
	if (status < 0 && !op->status) {
		op->status = status;
		snprintf(op->what, sizeof op->what, "KEY");
	} else if (status == 0) {
		op->done++;
	}
	free(r);
}

static int key_start(struct s2_conn *conn, const struct s2_msg_key_req *q,
                     struct s2_msg_key_rep *rep, struct s2_op *op)
{
	if (!s2_client_key(s2_conn_client(conn)))
		return S2_E_STATE;
	uint8_t body[S2_KEY_REQ_LEN];
	int n = s2_msg_key_req_encode(body, sizeof body, q);
	if (n < 0)
		return n;
	struct key_req *r = calloc(1, sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	r->op = op;
	r->rep = rep;
	/* KEY ADD: the transport wraps the secret for the datagram it travels in. */
	int rc = s2_conn_request(conn, S2_MSG_KEY, S2_ADDR_ANY, S2_PE_MONITOR, body, (size_t)n,
	                         key_cb, r);
	sodium_memzero(body, sizeof body);
	if (rc < 0) {
		free(r);
		return rc;
	}
	op->outstanding++;
	op->total++;
	return 0;
}

int s2_key_add_start(struct s2_conn *conn, const struct s2_key *k, struct s2_msg_key_rep *rep,
                     struct s2_op *op)
{
	struct s2_msg_key_req q = {.op = S2_KEY_ADD, .role = k->role, .key_id = k->id};
	memcpy(q.wrapped, k->secret, S2_AUTH_KEY_LEN);
	int rc = key_start(conn, &q, rep, op);
	sodium_memzero(&q, sizeof q);
	return rc;
}

int s2_key_revoke_start(struct s2_conn *conn, uint32_t id, struct s2_msg_key_rep *rep,
                        struct s2_op *op)
{
	struct s2_msg_key_req q = {.op = S2_KEY_REVOKE, .key_id = id};
	return key_start(conn, &q, rep, op);
}

int s2_key_list_start(struct s2_conn *conn, struct s2_msg_key_rep *rep, struct s2_op *op)
{
	struct s2_msg_key_req q = {.op = S2_KEY_LIST};
	return key_start(conn, &q, rep, op);
}
