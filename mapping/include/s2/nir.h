/*
 * Import of NIR graphs (the Neuromorphic Intermediate Representation, .nir files: HDF5 as
 * written by nir/serialization.py) as s2 networks (docs/nir.md). Stateful nodes (LIF,
 * CubaLIF, IF, I, LI, CubaLI, Threshold) become `nir_neuron` populations, Input nodes
 * `spike_source_array` populations; the linear nodes between them (Affine, Linear, Scale,
 * Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Delay) are composed into from_list
 * projections on the host (convolution and pooling kernels expanded into explicit synapses),
 * biases into the targets' `bias`. Nested graphs are flattened, their node names joined with
 * '.'. Every error names the node: "node 'conv1' (Conv2d): weight has 3 dimensions, expected 4".
 */
#ifndef S2_NIR_H
#define S2_NIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_net;

/** A spike raster for an Input node: a .npy file of shape (T, *node shape) or (T, N). */
struct s2_nir_input {
	const char *node;
	const char *path;
};

struct s2_nir_opts {
	double dt;       /**< seconds; 0: 0.001 */
	bool reset_zero; /**< v = v_reset on a spike (default: v -= v_thresh) */
	bool euler;      /**< forward-Euler coefficients (default: exact exponentials) */
	const struct s2_nir_input *inputs;
	unsigned n_inputs;
	uint64_t steps; /**< run length in steps; 0: the longest input's T, else 100 */
	uint64_t seed;  /**< the network seed when seed_set, else 1 */
	bool seed_set;
};

/** What became of each node (filled when a report is passed; free with s2_nir_report_free). */
struct s2_nir_report {
	unsigned n_pops;
	struct s2_nir_pop {
		char *label;
		char *type; /**< NIR node type */
		uint32_t size;
		bool spiking;
	} * pops;
	unsigned n_folded;
	struct s2_nir_folded {
		char *name;
		char *type;
	} * folded;
	unsigned n_projs;
	struct s2_nir_proj {
		char *label, *pre, *post;
		bool inhibitory;
		uint64_t synapses;
	} * projs;
	uint64_t synapses; /**< from_list entries in all projections */
	uint64_t steps;
};

/**
 * Read a .nir file and import it. @return a new network (free with s2_net_free), or NULL with
 * err set naming the node (or the file / --input) and the reason.
 */
struct s2_net *s2_net_import_nir(const char *path, const struct s2_nir_opts *o,
                                 struct s2_nir_report *report, char *err, size_t errlen);

/** The same from an HDF5 file image in memory (for tests and fuzzing). */
struct s2_net *s2_net_import_nir_image(const void *buf, size_t len, const struct s2_nir_opts *o,
                                       struct s2_nir_report *report, char *err, size_t errlen);

void s2_nir_report_free(struct s2_nir_report *r);

#ifdef __cplusplus
}
#endif
#endif
