/*
 * s2 mapper: turns a network (network.h) and a machine (machine.h) into everything a machine
 * needs to run it: which PE holds which neurons, the routing keys, the multicast routes and
 * the compressed router tables of every chip, and the data of every PE (docs/mapping.md).
 *
 * Stages, run in this order by s2_map_run or one by one (each needs the previous ones):
 *   1 partition  split populations into PE-sized parts (SRAM budget, per-model limits)
 *   2 place      coarse: parts to boards with METIS, minimising spike traffic between
 *                boards; fine: to chips and PEs, chunks ordered so that heavy traffic stays
 *                on a chip or goes to a neighbour; dead chips and PEs and each chip's
 *                monitor PE are never used
 *   3 keys       32-bit routing keys, allocated hierarchically (board, chip, PE blocks)
 *   4 route      a multicast tree per source over live links and chips, sharing branches
 *   5 tables     per-chip key/mask/route tables, compressed to fit the router (to the
 *                target; or, with router_min, as far as they go: ordered tables)
 *   6 verify     every key routes exactly as before compression, and every source's spikes
 *                reach exactly the PEs that hold its targets (walks the compressed tables)
 * Per-PE data and the image file are written by image.h.
 *
 * Pure computation: no I/O, no global state; a mapping may be used by one thread at a time.
 * Errors name the item and the reason ("population L4E: ...", "chip (3, 17): ...").
 */
#ifndef S2_MAPPER_H
#define S2_MAPPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_net;
struct s2_machine;
struct s2_mapping;

#define S2_MAP_SRAM_DATA (96u * 1024u)  /**< bytes of a PE's SRAM for data (brief, section 2) */
#define S2_MAP_PE_OVERHEAD (8u * 1024u) /**< of which: header, lookup table, descriptors */

struct s2_map_config {
	uint32_t router_target; /**< entries per chip to compress to; 0: the router's size */
	bool router_min;        /**< compress every table as far as it goes (ordered tables) */
	unsigned image_threads; /**< threads building the image (s2_image_write); 0: 2. The
	                             image's bytes do not depend on it */
	bool fine_place;        /**< always order each board's chunks to keep heavy traffic on
	                             a chip or next door (s2ctl compile --place traffic) */
	bool place_order;       /**< always fill boards in population order (--place order).
	                             Neither (the default): s2_map_run maps both ways when the
	                             traffic order moves anything and keeps the one with fewer
	                             router hops per spike (docs/mapping.md) */
	bool no_verify;         /**< skip stage 6 (benchmarks measure it separately) */
	unsigned key_bits;      /**< bits of a routing key; 0: 32 (smaller only for tests) */
	/** Allow slower than real time: a population of which not even one neuron's step fits
	 *  a PE's cycles per timestep is placed one neuron per PE instead of being refused,
	 *  and the report gives the slow-down (s2ctl compile --allow-slow; docs/mapping.md
	 *  "Real-time budget") */
	bool allow_slow;
};

/** Route bits: bit l (0-5) = link l, bit 6 + p = PE p. Enough for 154 PEs per chip. */
#define S2_ROUTE_WORDS 5

struct s2_route {
	uint32_t w[S2_ROUTE_WORDS];
};

struct s2_rt_entry {
	uint32_t key, mask;
	struct s2_route route;
	uint8_t in; /**< s2_map_table: the link its packets arrive on (0-5), 6 a local PE, 7 mixed
	             */
};

/** The report of a mapping (docs/mapping.md). */
struct s2_map_report {
	uint64_t parts;                         /**< PEs used */
	uint32_t chips, boards;                 /**< chips and boards with at least one part */
	uint64_t entries_before, entries_after; /**< router entries, all chips */
	uint32_t max_entries_before, max_entries_after; /**< on the fullest chip */
	uint32_t chips_compressed;
	double busiest_link_load; /**< expected packets per timestep */
	uint32_t busiest_board, busiest_chip, busiest_link;
	/** Router hops per spike: links a spike crosses in its multicast tree (each chip of the
	 *  tree but the source receives it over one link). Mean weighted by expected spikes,
	 *  and the largest tree; path_max: the longest source-to-target path, in hops. */
	double hops_mean;
	uint32_t hops_max, path_max;
	double synaptic_events_per_step; /**< expected, from rate hints */
	uint64_t keys_used;              /**< keys of all parts */
	uint64_t key_span;               /**< key space taken, alignment included */
	unsigned key_mode;               /**< 0: board+chip+PE blocks, 1: chip+PE, 2: PE */
	uint64_t routes, route_chips;    /**< trees built; chips on all trees */
	bool placed_by_traffic; /**< boards' chunks in the traffic order (else population order) */
	/** Mean router hops per spike of the placement not kept, when s2_map_run tried both
	 *  (the default), else a negative value. */
	double hops_mean_other;
	double seconds[7]; /**< wall time of stages 1-6 (index 1-6) */
	/** The real-time budget (docs/mapping.md): a PE's cycles per timestep (machine clock x
	 *  timestep), and the factor by which the slowest PE's modelled step exceeds it: 1 when
	 *  every PE keeps real time, more only with s2_map_config.allow_slow (then slowest_pop
	 *  is the population that sets it). */
	double budget_cycles, slowdown;
	uint32_t slowest_pop;
};

/**
 * A mapping of n onto m. Both must outlive it and not change. cfg may be NULL (defaults).
 * @return a new mapping (free with s2_map_free) with no stage run, or NULL (out of memory).
 */
struct s2_mapping *s2_map_new(const struct s2_net *n, const struct s2_machine *m,
                              const struct s2_map_config *cfg);
void s2_map_free(struct s2_mapping *mp);

/* The stages, in order. Each returns 0, or a negative S2_E_* code with err set:
 * S2_E_NOSPACE (network too large, keys exhausted, a table that cannot fit), S2_E_DEAD (no
 * live route), S2_E_RANGE (a neuron does not fit a PE), S2_E_NOMEM, S2_E_STATE (stage out of
 * order), S2_E_FORMAT (verification failed: a bug, never expected). */
int s2_map_partition(struct s2_mapping *mp, char *err, size_t errlen);
int s2_map_place(struct s2_mapping *mp, char *err, size_t errlen);
int s2_map_keys(struct s2_mapping *mp, char *err, size_t errlen);
int s2_map_route(struct s2_mapping *mp, char *err, size_t errlen);
int s2_map_tables(struct s2_mapping *mp, char *err, size_t errlen);
int s2_map_verify(struct s2_mapping *mp, char *err, size_t errlen);
/** All stages (verify unless cfg->no_verify), timing each. */
int s2_map_run(struct s2_mapping *mp, char *err, size_t errlen);

const struct s2_map_report *s2_map_report(const struct s2_mapping *mp);

/* ---- results, for tests, the image writer and tools --------------------------------------- */

struct s2_part_info {
	uint32_t pop;   /**< population index */
	uint32_t lo, n; /**< neurons [lo, lo + n) of the population */
	uint32_t board, chip, pe;
	uint32_t key, mask; /**< neuron i sends key + i */
};
uint64_t s2_map_parts(const struct s2_mapping *mp);
void s2_map_part(const struct s2_mapping *mp, uint64_t i, struct s2_part_info *out);
/** Parts of population p: [first, first + count). */
void s2_map_pop_parts(const struct s2_mapping *mp, unsigned p, uint64_t *first, uint32_t *count,
                      uint32_t *per_part);

/**
 * The router table of chip c of board b (after stage 5: compressed): copies up to cap
 * entries to out, in the router's order: sorted by key and disjoint, or, for a table
 * compressed to the minimum (s2_map_table_ordered), in priority order (the first entry that
 * matches a key routes it; entries may overlap). @return the number of entries of the table.
 */
size_t s2_map_table(const struct s2_mapping *mp, unsigned b, unsigned c, struct s2_rt_entry *out,
                    size_t cap);
/** Whether chip (b, c)'s table is ordered (first match wins) rather than sorted and disjoint. */
bool s2_map_table_ordered(const struct s2_mapping *mp, unsigned b, unsigned c);

#define S2_RT_MIN_OC_ONLY 1u /**< s2_rt_minimise: ordered covering and default routes only */

/**
 * Compress one router table as far as it goes, as `--router-target min` does for every chip
 * (docs/mapping.md, section 5). e[0..n): disjoint entries (masks need not be prefixes);
 * in[i]: the link entry i's packets arrive on (0-5), or 6 for the chip's own PEs; keys outside
 * every entry are taken as never arriving. opposite[l]: the link opposite link l. flags:
 * S2_RT_MIN_OC_ONLY gives the plain published algorithm (ordered covering, then entries that
 * default routing handles dropped), for comparisons. On return e holds the ordered table
 * (the first matching entry wins). @return its entries (never more than n), or S2_E_NOMEM.
 */
long s2_rt_minimise(struct s2_rt_entry *e, const uint8_t *in, size_t n, const unsigned opposite[6],
                    unsigned flags);

/** Entries of chip (b, c) before compression. */
size_t s2_map_table_before(const struct s2_mapping *mp, unsigned b, unsigned c);

/**
 * The set of (board, chip, pe) that part i's spikes must reach, as computed from the
 * network (the targets of its projections). Writes up to cap triples (3 uint32 each) to out.
 * @return the number of target PEs.
 */
size_t s2_map_targets(struct s2_mapping *mp, uint64_t i, uint32_t *out, size_t cap);

/**
 * Deliver key from the chip holding its source through the tables (what the routers do,
 * default routing included). Writes up to cap (board, chip, pe) triples reached.
 * @return the number of PEs reached, or a negative S2_E_* code (a loop, a dropped packet).
 */
long s2_map_deliver(const struct s2_mapping *mp, uint32_t key, uint32_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
