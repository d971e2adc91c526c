/*
 * Baselines and the ML lifecycle in the energy report (docs/energy.md "Beside other
 * platforms"): the same model's energy per inference on other platforms (rows written by
 * bench/egru.sh or by hand, each labelled measured, modelled or estimated), and a training
 * run's energy (given in joules, or read from a CodeCarbon or Zeus CSV) added to inference
 * energy times N requests.
 */
#ifndef S2_ENERGY_BASELINE_INTERNAL_H
#define S2_ENERGY_BASELINE_INTERNAL_H

#include <stddef.h>

#define EB_MAX_ROWS 16

struct eb_row {
	char platform[96], kind[16], basis[256], boundary[64];
	double per_inference_j; /**< J per inference (token or sample) */
	double latency_s;       /**< per inference, or < 0 if not given */
	double accuracy;        /**< the task's accuracy figure, or NAN */
	char accuracy_name[32]; /**< e.g. "top-1 agreement", "bits per character" */
};

struct eb_set {
	struct eb_row row[EB_MAX_ROWS];
	unsigned n;
	char inference[32]; /**< what one inference is ("token", "sample") */
};

/**
 * Read a baselines file (JSON, format "s2-baselines-1": {"format", "inference", "rows":
 * [{"platform", "per_inference_j", "kind", "basis", "boundary", "latency_s", "accuracy",
 * "accuracy_name"}]}). kind is measured, modelled or estimated; anything else, a missing field
 * or a negative energy is an error naming the row and field. @return 0 or a negative S2_E_ code
 * with err set.
 */
int eb_load(struct eb_set *s, const char *path, char *err, size_t errlen);

/**
 * A training run's energy in joules from a CSV: CodeCarbon's emissions.csv (column
 * energy_consumed, kWh, summed over the rows) or a Zeus CSV (every column whose name ends in
 * "_energy", joules, summed over rows and columns). *source says which. @return 0 or a negative
 * S2_E_ code with err set (no such column, a value that is not a number).
 */
int eb_training_csv(const char *path, double *joules, const char **source, char *err,
                    size_t errlen);

#endif
