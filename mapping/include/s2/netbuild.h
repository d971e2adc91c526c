/**
 * @file netbuild.h
 * @brief Building a network in memory, item by item (net_build.c): populations, their
 * parameters and initial values (one value, one per neuron, or a distribution), spike
 * times, projections with their connector, weight and delay, recordings and current sources,
 * the same model as the network file (proto/pb/network.proto, docs/network.md) without
 * writing or parsing any text. pyNN.s2 builds its networks this way (python/libs2.py), with
 * NumPy arrays passed by pointer.
 *
 * Names are the network format's: models ("lif_curr_exp", ...), parameters and state
 * variables ("tau_m_ms", "v_mv", ...), receptors ("excitatory", ...), connector types and
 * their fields ("fixed_probability" with "p", "allow_self"), recording variables, current
 * source kinds and fields ("dc" with "amplitude_na", ...).
 *
 * Errors: every call returns a negative S2_E_ code and writes a message naming the item and
 * the reason into err (which may be NULL); a call that fails changes nothing in the builder.
 * Each call checks what it can alone: S2_E_INVAL for a NULL argument or an array of the
 * wrong length ("population 'E' (4000 neurons): 3 values of 'tau_m_ms' given, 1 or 4000
 * needed"), S2_E_NOTFOUND for a population, projection or current source index that was
 * not made by this builder or a name the format does not have, S2_E_STATE for a second
 * connector or a slice given twice. Everything else (ranges, spike times in order, slices
 * within the population, a model's recordable variables, ...) is checked by
 * s2_netb_finish(), by the one validation every network passes (s2_net_decode), with the
 * same messages as for a file.
 *
 * Ownership: the builder is the caller's (s2_netb_free). Strings and arrays given to a call
 * are copied; nothing the caller passes is kept. A network from s2_netb_finish() is the
 * caller's (s2_net_free) and independent of the builder, which may go on being used.
 * Not thread-safe: one builder per thread.
 */
#ifndef S2_NETBUILD_H
#define S2_NETBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/network.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_netb;

/** A random value drawn on the machine (network.proto's Distribution). */
enum s2_netb_dist_kind {
	S2_NETB_UNIFORM = 0,        /**< low <= x < high */
	S2_NETB_NORMAL = 1,         /**< mean, sd */
	S2_NETB_NORMAL_CLIPPED = 2, /**< mean, sd, redrawn until low <= x <= high */
	S2_NETB_EXPONENTIAL = 3     /**< mean */
};

struct s2_netb_dist {
	enum s2_netb_dist_kind kind;
	double low, high, mean, sd;
};

/**
 * A new, empty network: its name (NULL: "network"), timestep, run length and seed (checked
 * by s2_netb_finish). @return the builder, or NULL when memory runs out.
 */
struct s2_netb *s2_netb_new(const char *name, double timestep_ms, double run_ms, uint64_t seed);

/** Free a builder (NULL is fine); networks it finished stay valid. */
void s2_netb_free(struct s2_netb *b);

/** The run length of the next s2_netb_finish() (as given to s2_netb_new). */
void s2_netb_set_run_ms(struct s2_netb *b, double run_ms);

/**
 * Add a population of size neurons of model (a network-format model name) labelled label
 * (unique; checked by s2_netb_finish).
 * @return its index (0, 1, ... in order), or S2_E_INVAL (NULL label or model, size 0),
 *         S2_E_NOTFOUND (no such model: err lists the models), S2_E_NOMEM.
 */
int s2_netb_population(struct s2_netb *b, const char *label, const char *model, uint32_t size,
                       char *err, size_t errlen);

/**
 * Set a parameter (initial = false) or the initial value of a state variable (initial = true)
 * of population pop: n = 1 value for every neuron, or n = the population's size values, one
 * per neuron (copied). Set again, the later value replaces the earlier one.
 * @return 0, S2_E_NOTFOUND (pop not a population of this builder, or name not a parameter /
 *         state variable of its model: err lists them), S2_E_INVAL (values NULL, n neither 1
 *         nor the size), S2_E_NOMEM.
 */
int s2_netb_pop_param(struct s2_netb *b, int pop, const char *name, bool initial,
                      const double *values, size_t n, char *err, size_t errlen);

/** As s2_netb_pop_param(), a value drawn on the machine from d for each neuron. */
int s2_netb_pop_param_random(struct s2_netb *b, int pop, const char *name, bool initial,
                             const struct s2_netb_dist *d, char *err, size_t errlen);

/**
 * The spike times (ms, ascending per neuron) of a spike_source_array population: counts[i]
 * times for neuron i (n_counts = the population's size), times of all neurons one after the
 * other (n_times = the sum of counts; times may be NULL when it is 0). Copied.
 * @return 0, S2_E_NOTFOUND (pop), S2_E_INVAL (n_counts not the size, the counts' sum not
 *         n_times, counts NULL), S2_E_NOMEM.
 */
int s2_netb_pop_spike_times(struct s2_netb *b, int pop, const uint32_t *counts, size_t n_counts,
                            const double *times, size_t n_times, char *err, size_t errlen);

/**
 * Set a number of population pop by its network-format name: "rate_hint_hz" (its expected
 * mean rate, for the mapper's traffic estimate), "max_per_pe" (a cap on its neurons per PE;
 * 0 the model's limit; a whole number). @return 0, S2_E_NOTFOUND (pop, or another name),
 * S2_E_RANGE (max_per_pe not a whole number).
 */
int s2_netb_pop_set(struct s2_netb *b, int pop, const char *field, double value, char *err,
                    size_t errlen);

/**
 * Add a projection from population pre to population post onto receptor (a network-format
 * receptor name: "excitatory", "inhibitory", ...), with label (NULL: none). It needs a
 * connector (s2_netb_proj_connector) before s2_netb_finish.
 * @return its index (0, 1, ...), or S2_E_NOTFOUND (pre or post not a population of this
 *         builder, an unknown receptor), S2_E_INVAL (NULL receptor), S2_E_NOMEM.
 */
int s2_netb_projection(struct s2_netb *b, int pre, int post, const char *receptor,
                       const char *label, char *err, size_t errlen);

/**
 * Restrict projection proj to neurons [start, stop) of its pre (post = false) or post
 * (post = true) population (checked against its size by s2_netb_finish).
 * @return 0, S2_E_NOTFOUND (proj), S2_E_STATE (that slice given already), S2_E_NOMEM.
 */
int s2_netb_proj_slice(struct s2_netb *b, int proj, bool post, uint32_t start, uint32_t stop,
                       char *err, size_t errlen);

/**
 * Give projection proj its connector, of a network-format type ("all_to_all", "one_to_one",
 * "fixed_probability", "fixed_number_pre", "fixed_number_post", "fixed_total",
 * "from_list"), with the format's defaults; s2_netb_proj_connector_set /
 * s2_netb_proj_connector_array set its fields.
 * @return 0, S2_E_NOTFOUND (proj, or an unknown type: err lists the types), S2_E_STATE (it
 *         has a connector already), S2_E_NOMEM.
 */
int s2_netb_proj_connector(struct s2_netb *b, int proj, const char *type, char *err, size_t errlen);

/**
 * Set a scalar field of projection proj's connector by its network-format name: "p" (a
 * probability), "n" (a whole number), "allow_self" and "with_replacement" (0 false, else
 * true).
 * @return 0, S2_E_NOTFOUND (proj; a field its connector type does not have), S2_E_STATE (no
 *         connector yet), S2_E_RANGE (n not a whole number >= 0 within the field's type).
 */
int s2_netb_proj_connector_set(struct s2_netb *b, int proj, const char *field, double value,
                               char *err, size_t errlen);

/**
 * The lists of a from_list connector, n entries each (copied): pre and post neuron indices
 * (within the slices); weight and delay per connection, or NULL for the projection's own
 * weight and delay (s2_netb_proj_value). Given again, they replace the earlier lists.
 * @return 0, S2_E_NOTFOUND (proj), S2_E_STATE (its connector is not from_list), S2_E_INVAL
 *         (pre or post NULL with n > 0), S2_E_NOMEM.
 */
int s2_netb_proj_list(struct s2_netb *b, int proj, const uint32_t *pre, const uint32_t *post,
                      const double *weight, const double *delay, size_t n, char *err,
                      size_t errlen);

/**
 * The weight (field "weight") or delay ("delay") of projection proj's connections: one value
 * (n = 1, the only form besides a distribution).
 * @return 0, S2_E_NOTFOUND (proj, or another field), S2_E_INVAL (values NULL or n not 1),
 *         S2_E_NOMEM.
 */
int s2_netb_proj_value(struct s2_netb *b, int proj, const char *field, const double *values,
                       size_t n, char *err, size_t errlen);

/** As s2_netb_proj_value(), drawn on the machine per connection from d. */
int s2_netb_proj_value_random(struct s2_netb *b, int proj, const char *field,
                              const struct s2_netb_dist *d, char *err, size_t errlen);

/**
 * The synapse rule of projection proj (network-format name; checked by s2_netb_finish).
 * @return 0, S2_E_NOTFOUND (proj), S2_E_INVAL (NULL rule), S2_E_NOMEM.
 */
int s2_netb_proj_synapse(struct s2_netb *b, int proj, const char *rule, char *err, size_t errlen);

/**
 * Set a number of projection proj's synapse (after s2_netb_proj_synapse) by its
 * network-format name (docs/network.md "Plastic synapses": "w_min", "w_max", "tau_plus_ms",
 * "tau_minus_ms", "a_plus", "a_minus", "dendritic_delay_fraction", "u", "tau_rec_ms",
 * "tau_facil_ms", "tau_ms", "eta", "rho_hz"; ranges checked by s2_netb_finish).
 * @return 0, S2_E_NOTFOUND (proj, or an unknown field), S2_E_STATE (no synapse rule yet).
 */
int s2_netb_proj_synapse_set(struct s2_netb *b, int proj, const char *field, double value,
                             char *err, size_t errlen);

/**
 * Set a name of projection proj's synapse: "weight_dependence" ("additive",
 * "multiplicative"; checked by s2_netb_finish). Copied.
 * @return 0, S2_E_NOTFOUND (proj, or an unknown field), S2_E_STATE (no synapse rule yet),
 *         S2_E_INVAL (NULL value), S2_E_NOMEM.
 */
int s2_netb_proj_synapse_str(struct s2_netb *b, int proj, const char *field, const char *value,
                             char *err, size_t errlen);

/**
 * Record variable ("spikes" or a state variable of the model; checked by s2_netb_finish) of
 * the neurons neurons[0..n) of population pop (n = 0: all), every interval_ms (0: every
 * timestep). @return 0, S2_E_NOTFOUND (pop), S2_E_INVAL (NULL variable, or neurons NULL with
 * n > 0), S2_E_NOMEM.
 */
int s2_netb_record(struct s2_netb *b, int pop, const char *variable, const uint32_t *neurons,
                   size_t n, double interval_ms, char *err, size_t errlen);

/**
 * Add a current source of kind ("dc", "ac", "step", "noisy"; checked by s2_netb_finish) into
 * the neurons neurons[0..n) of population pop (n = 0: all); s2_netb_csource_set and
 * s2_netb_csource_array set its fields.
 * @return its index (0, 1, ...), or S2_E_NOTFOUND (pop), S2_E_INVAL (NULL kind, neurons NULL
 *         with n > 0), S2_E_NOMEM.
 */
int s2_netb_csource(struct s2_netb *b, int pop, const char *kind, const uint32_t *neurons, size_t n,
                    char *err, size_t errlen);

/**
 * Set a number of current source cs by its network-format name ("amplitude_na", "start_ms",
 * "stop_ms", "offset_na", "frequency_hz", "phase_deg", "mean_na", "stdev_na",
 * "interval_ms"). @return 0, S2_E_NOTFOUND (cs, or an unknown field).
 */
int s2_netb_csource_set(struct s2_netb *b, int cs, const char *field, double value, char *err,
                        size_t errlen);

/**
 * Set an array of current source cs ("times_ms", "amplitudes_na"), n values (copied).
 * @return 0, S2_E_NOTFOUND (cs, or an unknown field), S2_E_INVAL (values NULL with n > 0),
 *         S2_E_NOMEM.
 */
int s2_netb_csource_array(struct s2_netb *b, int cs, const char *field, const double *values,
                          size_t n, char *err, size_t errlen);

/**
 * The network built so far, validated as every network is (s2_net_decode).
 * @param out the network, owned by the caller (s2_net_free); NULL on failure
 * @return 0; S2_E_FORMAT for a network that does not validate, with err naming the item
 *         and the reason as for a network file ("projections[0] (p0->p1): ..."), as
 *         s2_compile_json() does; S2_E_NOMEM.
 */
int s2_netb_finish(const struct s2_netb *b, struct s2_net **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
