/* The authenticated packet's trailer, encoder and board-side MAC (auth.h, protocol 2.3). */
#include "s2/auth.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

int s2_auth_trailer_get(const uint8_t *payload, size_t len, struct s2_auth_trailer *t)
{
	if (len < S2_AUTH_TRAILER_LEN)
		return S2_E_SHORT;
	const uint8_t *p = payload + len - S2_AUTH_TRAILER_LEN;
	t->key_id = s2_ld32(p);
	t->counter = s2_ld32(p + 4);
	t->session = s2_ld64(p + 8);
	return 0;
}

void s2_auth_trailer_put(uint8_t *p, const struct s2_auth_trailer *t)
{
	s2_st32(p, t->key_id);
	s2_st32(p + 4, t->counter);
	s2_st64(p + 8, t->session);
}

int s2_auth_encode(uint8_t *out, size_t cap, const struct s2_header *h, const void *body,
                   size_t len, const struct s2_auth_trailer *t)
{
	if (len > S2_AUTH_MAX_BODY)
		return S2_E_RANGE;
	uint8_t tr[S2_AUTH_TRAILER_LEN];
	s2_auth_trailer_put(tr, t);
	struct s2_header a = *h;
	a.flags = (uint16_t)(a.flags | S2_F_AUTH);
	memset(a.auth_tag, 0, sizeof a.auth_tag);
	return s2_packet_encode2(out, cap, &a, body, len, tr, sizeof tr);
}

void s2_auth_key_init(struct s2_auth_key *k, const uint8_t key[S2_AUTH_KEY_LEN])
{
	(void)s2_blake2b_init(&k->keyed, S2_AUTH_TAG_LEN, key, S2_AUTH_KEY_LEN);
}

void s2_auth_mac(const struct s2_auth_key *k, const uint8_t *dgram, size_t len,
                 uint8_t tag[S2_AUTH_TAG_LEN])
{
	struct s2_blake2b s = k->keyed;
	s2_blake2b_update(&s, dgram, 20);
	s2_blake2b_update(&s, dgram + S2_HEADER_LEN, len - S2_HEADER_LEN);
	s2_blake2b_final(&s, tag);
}

bool s2_auth_tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	for (unsigned i = 0; i < S2_AUTH_TAG_LEN; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

int s2_msg_key_req_encode(uint8_t *out, size_t cap, const struct s2_msg_key_req *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->op);
	s2_wr_u8(&w, m->role);
	s2_wr_u16(&w, 0);
	s2_wr_u32(&w, m->key_id);
	s2_wr_bytes(&w, m->wrapped, S2_AUTH_KEY_LEN);
	return w.err ? w.err : (int)w.pos;
}

int s2_msg_key_req_decode(const uint8_t *p, size_t len, struct s2_msg_key_req *m)
{
	if (len < S2_KEY_REQ_LEN)
		return S2_E_SHORT;
	if (len > S2_KEY_REQ_LEN)
		return S2_E_LENGTH;
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->op = s2_rd_u8(&r);
	m->role = s2_rd_u8(&r);
	uint16_t reserved = s2_rd_u16(&r);
	m->key_id = s2_rd_u32(&r);
	s2_rd_bytes(&r, m->wrapped, S2_AUTH_KEY_LEN);
	if (r.err)
		return r.err;
	if (reserved)
		return S2_E_RESERVED;
	if (m->op > S2_KEY_REVOKE)
		return S2_E_RANGE;
	if (m->op == S2_KEY_ADD && (m->role < S2_KEY_MACHINE || m->role > S2_KEY_JOB || !m->key_id))
		return S2_E_RANGE;
	return 0;
}

int s2_msg_key_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_key_rep *m)
{
	if (m->n > S2_KEY_MAX_LIST)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	for (unsigned i = 0; i < 6; i++)
		s2_wr_u32(&w, m->counters[i]);
	s2_wr_u32(&w, m->n);
	for (unsigned i = 0; i < m->n; i++) {
		s2_wr_u32(&w, m->key_id[i]);
		s2_wr_u8(&w, m->role[i]);
		s2_wr_u8(&w, 0);
		s2_wr_u16(&w, 0);
	}
	return w.err ? w.err : (int)w.pos;
}

int s2_msg_key_rep_decode(const uint8_t *p, size_t len, struct s2_msg_key_rep *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	if (len < 28)
		return S2_E_SHORT;
	for (unsigned i = 0; i < 6; i++)
		m->counters[i] = s2_rd_u32(&r);
	m->n = s2_rd_u32(&r);
	if (m->n > S2_KEY_MAX_LIST)
		return S2_E_RANGE;
	if (len != 28u + 8u * m->n)
		return len < 28u + 8u * m->n ? S2_E_SHORT : S2_E_LENGTH;
	for (unsigned i = 0; i < m->n; i++) {
		m->key_id[i] = s2_rd_u32(&r);
		m->role[i] = s2_rd_u8(&r);
		uint8_t r1 = s2_rd_u8(&r);
		uint16_t r2 = s2_rd_u16(&r);
		if (r1 || r2)
			return S2_E_RESERVED;
	}
	return r.err;
}

void s2_auth_wrap_msg(const struct s2_auth_trailer *t, uint8_t msg[S2_AUTH_WRAP_MSG_LEN])
{
	memcpy(msg, S2_AUTH_WRAP_LABEL, 13);
	s2_auth_trailer_put(msg + 13, t);
}

void s2_auth_wrap(const uint8_t machine[S2_AUTH_KEY_LEN], const struct s2_auth_trailer *t,
                  const uint8_t in[S2_AUTH_KEY_LEN], uint8_t out[S2_AUTH_KEY_LEN])
{
	uint8_t msg[S2_AUTH_WRAP_MSG_LEN], ks[S2_AUTH_KEY_LEN];
	s2_auth_wrap_msg(t, msg);
	(void)s2_blake2b(ks, sizeof ks, machine, S2_AUTH_KEY_LEN, msg, sizeof msg);
	for (unsigned i = 0; i < S2_AUTH_KEY_LEN; i++)
		out[i] = (uint8_t)(in[i] ^ ks[i]);
}

int s2_auth_bulk_end_decode(const uint8_t *p, size_t len, uint32_t *region, const uint8_t **hash)
{
	if (len < 4)
		return S2_E_SHORT;
	if (len != 4 && len != 4 + S2_AUTH_HASH_LEN)
		return len < 4 + S2_AUTH_HASH_LEN ? S2_E_SHORT : S2_E_LENGTH;
	*region = s2_ld32(p);
	*hash = len == 4 ? NULL : p + 4;
	return 0;
}
