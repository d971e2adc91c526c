/*
 * s2 networks: the description of a spiking network (populations, spike sources,
 * projections with connectors, recordings; proto/pb/network.proto, docs/network.md) as a
 * validated, immutable object. Read from the binary form (protobuf) or the JSON text form,
 * written to either losslessly, or generated from the reference workloads of the brief.
 *
 * Every constructor validates completely: a network that exists is consistent (labels
 * resolve, sizes and slices agree, parameters are in range), so the mapper never checks
 * again. Errors name the item and the reason, e.g.
 *   "projections[2] (E->X): post population 'X' does not exist".
 * Pure computation apart from the *_file functions; no global state; thread-compatible.
 */
#ifndef S2_NETWORK_H
#define S2_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_net;

#define S2_NET_FORMAT 1u
#define S2_NET_FILE_MAX (1024u << 20) /**< largest description file read: 1 GiB */

/**
 * Decode and validate a binary network description (protobuf s2pb.Network). The bytes are
 * untrusted: every size, index, label and value is checked.
 * @param err  receives a message naming the item and the reason on failure
 * @return a new network (free with s2_net_free), or NULL with err set.
 */
struct s2_net *s2_net_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);

/**
 * Parse and validate the JSON text form (docs/network.md). The text is untrusted; unknown
 * keys, wrong types and nesting deeper than 32 are errors. text need not be NUL-terminated.
 * @return a new network, or NULL with err set (naming the JSON path of the item).
 */
struct s2_net *s2_net_from_json(const char *text, size_t len, char *err, size_t errlen);

/**
 * Read a file in either form: JSON when its first non-blank byte is '{', else the binary file
 * (s2_net_encode_file; a bare protobuf without the container is refused).
 * @return a new network, or NULL with err set ("PATH: ...").
 */
struct s2_net *s2_net_load_file(const char *path, char *err, size_t errlen);

/** s2_net_load_file on bytes in memory; messages start with name. */
struct s2_net *s2_net_decode_file(const uint8_t *buf, size_t len, const char *name, char *err,
                                  size_t errlen);

/** Encode as protobuf. *out is malloc'd, the caller frees it. @return 0 or S2_E_NOMEM. */
int s2_net_encode(const struct s2_net *n, uint8_t **out, size_t *len);

/**
 * Encode as the binary network file: the protobuf of s2_net_encode in the checksummed s2 file
 * container (kind "NETW", docs/network.md), a section per part ("network", "population N",
 * "projection N", "recordings"), so s2_net_load_file names the damaged part.
 * @return 0, S2_E_NOMEM or S2_E_FORMAT.
 */
int s2_net_encode_file(const struct s2_net *n, uint8_t **out, size_t *len);

/**
 * Write the JSON text form (two-space indented, keys in schema order, numbers in the shortest
 * form that reads back to the same double). *out is malloc'd and NUL-terminated.
 * @return 0 or S2_E_NOMEM.
 */
int s2_net_to_json(const struct s2_net *n, char **out, size_t *len);

/**
 * Write n to path atomically (temporary file renamed over path; no file on failure), as JSON
 * text when json is true, else the binary file (s2_net_encode_file). @return 0 or a negative
 * S2_E_* code with err set.
 */
int s2_net_save_file(const struct s2_net *n, const char *path, bool json, char *err, size_t errlen);

void s2_net_free(struct s2_net *n);

/**
 * Generate a reference workload (brief section 5) at a scale (1.0 = the published size;
 * neuron counts scale, connection probabilities stay). Names: "microcircuit", "vogels_abbott",
 * "brunel", "synfire", "synthetic_board", "synthetic_rack", "synthetic_8racks" (the last
 * three fill that many standard boards at scale 1).
 * @return a new network, or NULL with err set (unknown name, scale out of (0, 100]).
 */
struct s2_net *s2_net_example(const char *name, double scale, char *err, size_t errlen);

/** NULL-terminated list of example names. */
const char *const *s2_net_example_names(void);

/* ---- queries -------------------------------------------------------------------------- */

const char *s2_net_name(const struct s2_net *n);
double s2_net_timestep_ms(const struct s2_net *n);
double s2_net_run_ms(const struct s2_net *n);
uint64_t s2_net_seed(const struct s2_net *n);
unsigned s2_net_populations(const struct s2_net *n);
unsigned s2_net_projections(const struct s2_net *n);
unsigned s2_net_recordings(const struct s2_net *n);
/** Neurons in all populations (spike sources included). */
uint64_t s2_net_neurons(const struct s2_net *n);
/** Label, size and model name of population p (p < s2_net_populations). */
const char *s2_net_pop_label(const struct s2_net *n, unsigned p);
uint32_t s2_net_pop_size(const struct s2_net *n, unsigned p);
const char *s2_net_pop_model(const struct s2_net *n, unsigned p);
/**
 * Expected synapses of projection j (exact for all-to-all, one-to-one, fixed numbers and
 * lists; the mean for fixed probability).
 */
double s2_net_proj_synapses(const struct s2_net *n, unsigned j);

/**
 * The real-time cost of neuron model i (0, 1, ... in the order of docs/network.md): its name,
 * Cortex-M4F cycles per neuron per timestep and per synaptic event it receives, as the mapper
 * budgets them (docs/mapping.md "Real-time budget"; measured with bench/engine.sh).
 * @return 0, or S2_E_RANGE past the last model (nothing set).
 */
int s2_net_model_cost(unsigned i, const char **name, double *cycles_update, double *cycles_event);
/** Cycles per multicast packet a PE receives (key lookup and row fetch), the same figure. */
double s2_net_packet_cycles(void);

#ifdef __cplusplus
}
#endif
#endif
