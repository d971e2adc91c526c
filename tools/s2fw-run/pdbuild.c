/* Building PE data blobs (pdbuild.h). Allocation failure ends the program: host tools only. */
#include "pdbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/wire.h"

void pdb_init(struct pdb *b, unsigned model, unsigned n_neurons, unsigned dt_us, uint32_t key_base,
              uint32_t seed, float w_scale_e, float w_scale_i, uint32_t dram_base,
              uint32_t dram_size)
{
	memset(b, 0, sizeof *b);
	b->h.model = (uint16_t)model;
	b->h.n_neurons = (uint16_t)n_neurons;
	b->h.dt_us = dt_us;
	b->h.key_base = key_base;
	b->h.seed = seed;
	b->h.w_scale_e = w_scale_e;
	b->h.w_scale_i = w_scale_i;
	b->h.dram_base = dram_base;
	b->h.dram_size = dram_size;
	b->h.flags = S2_PD_F_RECORD_SPIKES;
}

void pdb_set_record_v(struct pdb *b, unsigned n)
{
	b->h.n_record_v = (uint16_t)n;
}

uint8_t *pdb_grow(struct pdb *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->body = realloc(b->body, b->cap);
		if (!b->body) {
			fputs("out of memory\n", stderr);
			exit(1);
		}
	}
	uint8_t *p = b->body + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

void pdb_u32(struct pdb *b, uint32_t v)
{
	s2_st32(pdb_grow(b, 4), v);
}

void pdb_f32(struct pdb *b, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	pdb_u32(b, u);
}

void pdb_begin(struct pdb *b, unsigned type)
{
	s2_st16(b->table[b->n_sect], (uint16_t)type);
	b->start = b->len;
}

void pdb_end(struct pdb *b)
{
	s2_st32(b->table[b->n_sect] + 4, (uint32_t)b->start);
	s2_st32(b->table[b->n_sect] + 8, (uint32_t)(b->len - b->start));
	b->n_sect++;
}

uint8_t *pdb_finish(struct pdb *b, size_t *len)
{
	size_t head = S2_PEDATA_HDR_LEN + b->n_sect * S2_PEDATA_SECT_LEN;
	uint8_t *out = calloc(1, head + b->len);
	if (!out) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	s2_pedata_header_encode(out, &b->h, b->n_sect);
	for (unsigned i = 0; i < b->n_sect; i++) {
		uint8_t *e = out + S2_PEDATA_HDR_LEN + i * S2_PEDATA_SECT_LEN;
		memcpy(e, b->table[i], S2_PEDATA_SECT_LEN);
		s2_st32(e + 4, s2_ld32(e + 4) + (uint32_t)head);
	}
	if (b->len)
		memcpy(out + head, b->body, b->len);
	free(b->body);
	b->body = NULL;
	*len = head + b->len;
	return out;
}
