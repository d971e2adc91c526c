/*
 * Project-internal state of a mapping (mapping/include/s2/mapper.h), shared by the stage
 * files: map_place.c (partition, place, keys), map_route.c (routes, tables, compression,
 * verification) and image.c (per-PE data, image file).
 */
#ifndef S2_MAP_INTERNAL_H
#define S2_MAP_INTERNAL_H

#include <stdint.h>

#include "net_internal.h"
#include "s2/machine.h"
#include "s2/mapper.h"

#define NO_CHIP UINT32_MAX
#define IN_LOCAL 6u /* entry's packets come from a PE of the chip */
#define IN_MIXED 7u /* merged entry: packets come in on more than one link */

struct part {
	uint32_t pop, lo, n;
	uint32_t chip; /* global chip id: board * chips_per_board + chip */
	uint16_t pe;
	uint8_t kbits; /* key block of 2^kbits keys */
	uint32_t key;
};

struct pop_map {
	uint64_t first;    /* first part */
	uint32_t count;    /* parts */
	uint32_t per_part; /* neurons per part (the last may hold fewer) */
	double rate_hz;    /* expected firing rate, for traffic estimates */
	double budget_hz;  /* the same for the real-time budget: never from run_ms (map_place.c) */
	uint32_t sram_per_neuron;
	uint32_t delay_slots;
};

struct ent {
	uint32_t key, mask;
	struct s2_route route;
	uint8_t in; /* link the packets arrive on (0-5), IN_LOCAL or IN_MIXED */
};

struct table {
	struct ent *e;
	uint32_t n, cap;
	uint32_t n_before;
	struct ent *orig; /* before compression, kept only for compressed chips */
	uint32_t n_orig;
	bool ordered; /* entries overlap: the first match wins (else sorted and disjoint) */
};

/* from_list projections: unique (pre part, post part) pairs, sorted. */
struct list_pairs {
	uint64_t *pair; /* pre part << 32 | post part offset within post population */
	size_t n;
};

struct s2_mapping {
	const struct s2_net *net;
	const struct s2_machine *m;
	struct s2_map_config cfg;
	int stage; /* last stage done */
	unsigned cpb, pes, monitor, bw, bh;
	uint32_t n_chips;
	uint32_t *nb; /* n_chips * 6: neighbour over a live link to a live chip, or NO_CHIP */
	struct pop_map *pops;
	struct part *parts;
	uint64_t n_parts;
	struct list_pairs *lists; /* per projection (empty unless from_list) */
	double *wunit;            /* weight unit per population and receptor (image_weight_units) */
	uint32_t *out_first, *out_proj; /* projections of population p: out_proj[out_first[p]..] */
	uint32_t *in_first, *in_proj;   /* projections into population p, likewise */
	uint32_t *by_key;               /* part indices sorted by key (after stage 3) */
	struct table *tables;           /* per chip */
	double *link_load;              /* n_chips * 6, packets per timestep */
	struct s2_map_report rep;
	/* scratch for target sets */
	uint64_t *tbuf;
	size_t tcap;
	/* scratch for verification: wanted PEs per chip */
	uint32_t *vstamp;
	struct s2_route *vwant;
	uint32_t vcur;
	/* placement: the traffic order is tried (cfg.fine_place, or s2_map_run's default) and
	 * moved some chunk */
	bool try_traffic, traffic_moved;
};

/** Back to stage 1 (partitioned): placement, keys, routes and tables undone. */
void map_unplace(struct s2_mapping *mp);

static inline unsigned route_bit(const struct s2_route *r, unsigned bit)
{
	return (r->w[bit / 32] >> (bit % 32)) & 1u;
}

static inline void route_set(struct s2_route *r, unsigned bit)
{
	r->w[bit / 32] |= 1u << (bit % 32);
}

/**
 * Target parts of part i into mp->tbuf as sorted, disjoint ranges [tbuf[2k], tbuf[2k+1]).
 * @return the number of ranges, or S2_E_NOMEM.
 */
long map_targets(struct s2_mapping *mp, uint64_t i);

/** Expected packets per timestep sent by part i. */
double map_part_rate(const struct s2_mapping *mp, uint64_t i);

/** Part index of neuron `neuron` of population p. */
static inline uint64_t map_part_of(const struct s2_mapping *mp, uint32_t p, uint32_t neuron)
{
	return mp->pops[p].first + neuron / mp->pops[p].per_part;
}

/* map_compress.c: compression to the minimum (docs/mapping.md, section 5). */
/**
 * Ordered covering of t[0..*n): disjoint entries in, an ordered table out (first match wins,
 * entries sorted by generality, possibly overlapping), never more entries. Keys outside every
 * input entry are taken as never sent. @return 0 or S2_E_NOMEM (t unchanged).
 */
int map_rt_ordered_covering(struct ent *t, uint32_t *n);
/**
 * Drop the entries of ordered table t[0..*n) that default routing handles (one link in, the
 * opposite link out, no PE) and that no later entry intersects. opposite[l]: the link
 * opposite l. @return 0.
 */
int map_rt_drop_defaults(struct ent *t, uint32_t *n, const unsigned opposite[S2_MACHINE_LINKS]);

/* A growable byte buffer (image.c): grow returns n zeroed bytes at the end, or NULL (and
 * sets failed, after which every grow fails) when memory runs out. */
struct map_buf {
	uint8_t *p;
	size_t n, cap;
	bool failed;
};
uint8_t *map_buf_grow(struct map_buf *b, size_t n);

/* image_pedata.c: the engine's PE data (docs/pedata.md). */
struct image_prep;
struct image_scratch;
/** Weight units of every population and receptor into mp->wunit (by image_prep_new). */
int image_weight_units(struct s2_mapping *mp);
/** What the PE records of a population or projection share, looked up once (weight units
 * included) before image_put_pedata runs in threads, which only read it. NULL: no memory. */
struct image_prep *image_prep_new(struct s2_mapping *mp, uint64_t seed_base);
void image_prep_free(struct image_prep *ip);
/** One thread's scratch for image_put_pedata (NULL: no memory). */
struct image_scratch *image_scratch_new(void);
void image_scratch_free(struct image_scratch *sc);
/**
 * Append the PE data of part q to out. src[0..nsrc): its source parts sorted by key; src_new
 * false when they are the same as for the previous call with this scratch (whose runs of
 * consecutive sources are then reused). @return 0, S2_E_NOMEM, or S2_E_RANGE with err set.
 */
int image_put_pedata(struct s2_mapping *mp, const struct image_prep *ip, struct image_scratch *sc,
                     uint64_t q, const uint64_t *src, long nsrc, bool src_new,
                     uint64_t *const *fixed_total_share, uint64_t seed_base, struct map_buf *out,
                     char *err, size_t errlen);

/* image_deflate.c: a zlib stream of blobs whose records repeat (docs/image.md). */
/** From byte start on (until the next span), the one match distance to try (0: none). */
struct image_span {
	uint32_t start, dist;
};
/** Bytes image_deflate may need for n bytes of input. */
size_t image_deflate_bound(size_t n);
/** image_deflate's scratch memory, kept between calls (free p when done). */
struct image_deflate_tmp {
	void *p;
	size_t cap;
};
/**
 * Compress in[0..n) into out[0..cap) as a zlib stream (one block with Huffman codes made for
 * it, or the fixed codes where smaller), trying at each position only its span's distance.
 * sp: spans in ascending start order. tmp: scratch grown as needed (NULL: allocated and
 * freed in the call). The bytes depend only on in and sp.
 * @return the stream's length, or 0 if cap is too small (or out of memory).
 */
size_t image_deflate(const uint8_t *in, size_t n, const struct image_span *sp, size_t nsp,
                     uint8_t *out, size_t cap, struct image_deflate_tmp *tmp);

/** qsort comparator of uint64_t values, ascending (map_place.c). */
int s2_map_cmp_u64(const void *a, const void *b);

#endif
