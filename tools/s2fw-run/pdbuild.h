/*
 * Building PE data blobs (proto/include/s2/pedata.h) on the host: a header, then sections
 * appended one by one. For s2fw-run and tests; the mapper writes the same format.
 */
#ifndef S2FW_PDBUILD_H
#define S2FW_PDBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "s2/pedata.h"

struct pdb {
	struct s2_pedata h; /**< the header's fields (written by s2_pedata_header_encode) */
	uint8_t table[S2_SECT__MAX][S2_PEDATA_SECT_LEN];
	unsigned n_sect;
	uint8_t *body;
	size_t len, cap, start;
};

/** Start a blob: the header fields of pedata.h. */
void pdb_init(struct pdb *b, unsigned model, unsigned n_neurons, unsigned dt_us, uint32_t key_base,
              uint32_t seed, float w_scale_e, float w_scale_i, uint32_t dram_base,
              uint32_t dram_size);
/** Open a section of this type; append to it with pdb_grow/pdb_u32/pdb_f32; close it. */
void pdb_begin(struct pdb *b, unsigned type);
uint8_t *pdb_grow(struct pdb *b, size_t n);
void pdb_u32(struct pdb *b, uint32_t v);
void pdb_f32(struct pdb *b, float v);
void pdb_end(struct pdb *b);
/** Set the voltage-recording count (the RECORD_V section holds the indices). */
void pdb_set_record_v(struct pdb *b, unsigned n);
/** The finished blob (malloc'd, caller frees); b's body is freed. */
uint8_t *pdb_finish(struct pdb *b, size_t *len);

#endif
