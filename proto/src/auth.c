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

int s2_auth_encode(uint8_t *out, size_t cap, const struct s2_header *h, const void *body, size_t len,
                   const struct s2_auth_trailer *t)
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
