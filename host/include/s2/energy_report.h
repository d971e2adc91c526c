/**
 * @file energy_report.h
 * @brief The energy report of a run (report.c, docs/energy.md): an energy record (written by
 * s2_energy_record_write(), or `s2ctl run --energy`) read and turned into joules and watts per
 * phase, board, chip and PE, static and dynamic, per synaptic event, spike and inference;
 * activity metrics; CO2e and water with their sources; baselines of other platforms; the
 * run's task metrics. Renderers write it as JSON (docs/schemas/s2ctl-energy.schema.json),
 * text, OpenMetrics or CSV; the figures are also readable as numbers.
 *
 * Use, in order:
 *  1. fill a struct s2_energy_report_opts (zero-initialised: only the boards' energy);
 *  2. s2_energy_report_open(): every input file read and checked, the record read, the
 *     energy computed; nothing is written;
 *  3. any of the renderers and readers below, as often as wanted;
 *  4. s2_energy_report_free().
 *
 * Errors: actions return 0 or a negative S2_E_ code (s2/error.h) and write a message naming
 * the file or item and the reason into err (err may be NULL). The messages name options the
 * way `s2ctl energy report` spells them (--expect-rates FILE, --grid-hourly FILE, ...), each
 * the field of struct s2_energy_report_opts of the same name.
 */
#ifndef S2_ENERGY_REPORT_H
#define S2_ENERGY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "s2/energy.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_energy_report;

/** A task metric measured for the run (accuracy, loss, ...), shown beside its energy. */
struct s2_energy_metric {
	const char *name; /**< 1-47 letters, digits, _-. */
	double value;     /**< finite */
};

#define S2_ENERGY_REPORT_METRICS 8 /**< task metrics at most */

/**
 * What the report covers beyond the boards' energy (docs/cli/energy.md, docs/energy.md).
 * Zero-initialise, then set what you need; a value counts only with its have_ flag. Strings
 * and arrays are read during s2_energy_report_open() and copied where the report keeps them.
 */
struct s2_energy_report_opts {
	/** Constants of the energy model: a model in memory (NULL: s2-energy-model-2), with
	 * the "name = value" lines of model_path (s2_energy_model_load; NULL: none) over it. */
	const char *model_path;
	const struct s2_energy_model *model;
	/** Report a record of a run that did not complete (marked PARTIAL); false: refuse it. */
	bool allow_partial;

	/* Carbon and water (docs/energy.md "Carbon"). */
	bool have_pue;
	double pue; /**< power usage effectiveness, 1..5 (else 1) */
	bool have_grid;
	double grid_g_per_kwh; /**< location-based grid intensity, 0..5000 g CO2e/kWh */
	const char *grid_dataset, *grid_zone, *grid_year; /**< its source: all three needed */
	const char *grid_scope;       /**< what the intensity covers; NULL: not given */
	const char *grid_hourly_path; /**< hourly intensity CSV (UTC hour, g/kWh); NULL: none */
	bool have_market;
	double market_g_per_kwh;   /**< market-based intensity, 0..5000, shown apart */
	const char *market_source; /**< needed with it */
	bool have_wue;
	double wue_l_per_kwh;   /**< on-site water, 0..100 L per kWh of IT energy */
	const char *wue_source; /**< needed with it */
	bool have_water;
	double water_l_per_kwh;   /**< off-site water of the electricity, 0..1000 L/kWh */
	const char *water_source; /**< needed with it */
	bool have_embodied;
	double embodied_kg;    /**< embodied carbon per board, 0..1e6 kg CO2e */
	double lifetime_years; /**< the boards' lifetime, 0.1..100; 0: 5 */

	/* Per inference, beside other platforms, and the ML lifecycle. */
	double samples;            /**< inferences in the run, 1..1e15; 0: not given */
	const char *baseline_path; /**< baselines (s2-baselines-1 JSON); NULL: none */
	double requests;           /**< inference requests of the lifecycle, 1..1e18; 0: none */
	bool have_training_j;
	double training_j;        /**< the training run's energy, 0..1e18 J */
	const char *training_csv; /**< or read from a CodeCarbon or Zeus CSV */

	/* The run's correctness. */
	const struct s2_energy_metric *metrics; /**< [n_metrics] */
	unsigned n_metrics;                     /**< at most S2_ENERGY_REPORT_METRICS */
	/** Expected rates, lines "POPULATION RATE_HZ TOLERANCE_HZ", checked against the run's
	 * results (results_path, else the results file the record names, whose SHA-256 must be
	 * the record's). NULL: none. */
	const char *expect_rates_path;
	const char *results_path;

	/* The host. */
	bool have_clock_tolerance;
	double clock_tolerance_us; /**< boards' clock drift allowed, 0..1e9 us; else 5000 */
	bool have_compile_cpu;
	double compile_cpu_s; /**< CPU seconds `s2ctl compile` took, 0..1e7 (else excluded) */
};

/**
 * Read the energy record at path and compute its report.
 * Order of work (the first failure is returned, nothing after it is done): the options'
 * values, the baselines file, the training CSV, the hourly grid CSV, the model file, the
 * record, whether it is partial, the expected rates against the results, the hourly carbon.
 * @param o   NULL: the defaults (the boards' energy only, partial runs refused)
 * @param out the report, owned by the caller until s2_energy_report_free(); NULL on failure
 * @return 0; S2_E_INVAL: an option out of range or missing what it needs (a grid intensity
 *         without its dataset, zone and year; a water factor or market intensity without its
 *         source; a qualifier without what it qualifies; baselines, requests or training
 *         energy without samples; expected rates without any results file; err names the
 *         option); S2_E_IO: a file cannot be read; S2_E_FORMAT: a file is malformed (the
 *         record not JSON, damaged (its CRC-32 seal), not an energy record or missing a
 *         field; a model line; an expected-rates line; a population the results lack; the
 *         results not this run's; an hour of the run without grid intensity); S2_E_STATE:
 *         the record is of a run that did not complete and o->allow_partial is false;
 *         S2_E_NOMEM.
 */
int s2_energy_report_open(const char *path, const struct s2_energy_report_opts *o,
                          struct s2_energy_report **out, char *err, size_t errlen);

/** Free r and everything it owns; NULL is allowed. */
void s2_energy_report_free(struct s2_energy_report *r);

/** Why the recorded run did not complete, or NULL if it did (owned by r). */
const char *s2_energy_report_partial(const struct s2_energy_report *r);

/**
 * The report as one JSON document (format s2-energy-report-2, the schema
 * docs/schemas/s2ctl-energy.schema.json) and a newline, onto f.
 * @return 0, or S2_E_IO if f reports a write error.
 */
int s2_energy_report_json(const struct s2_energy_report *r, FILE *f);
/** The report as text for a person (docs/cli/energy.md), onto f. 0 or S2_E_IO. */
int s2_energy_report_text(const struct s2_energy_report *r, FILE *f);
/** Energy per board and phase, and activity totals, as OpenMetrics text, onto f. 0 or S2_E_IO. */
int s2_energy_report_openmetrics(const struct s2_energy_report *r, FILE *f);
/**
 * The raw samples (dir/samples.csv) and power per board over the run (dir/power.csv).
 * @return 0, or S2_E_IO with err naming the file (a file written before stays).
 */
int s2_energy_report_csv(const struct s2_energy_report *r, const char *dir, char *err,
                         size_t errlen);

/** The run's boards (the record's, in its order): *boards owned by r. */
unsigned s2_energy_report_boards(const struct s2_energy_report *r, const unsigned **boards);

/** One chip's run: its counters' increase over the run and the modelled dynamic energy. */
struct s2_energy_chip {
	unsigned board, chip;
	uint64_t synaptic_events;
	double run_dynamic_j; /**< modelled, joules */
};

/**
 * Every chip with samples on a board of the run.
 * @return the number of chips; *out is malloc'd (the caller frees it), NULL when there are
 *         none or memory ran out (then 0).
 */
size_t s2_energy_report_chips(const struct s2_energy_report *r, struct s2_energy_chip **out);

/** Power over one window between samples: steps [step_from, step_to), watts. */
struct s2_energy_power {
	uint32_t step_from, step_to;
	double watts;
};

/**
 * Power of board `board` (every board of the run if board < 0) over the run, window by
 * window between the steps at which samples exist: static power plus the dynamic energy of
 * the window over its biological duration.
 * @return windows written to out[0..cap), in step order (0 if memory ran out).
 */
size_t s2_energy_report_power(const struct s2_energy_report *r, int board,
                              struct s2_energy_power *out, size_t cap);

/** The report's main figures, as numbers. */
struct s2_energy_figures {
	double energy_j; /**< boards, every phase, static and dynamic */
	double static_j, dynamic_j;
	double run_j, run_dynamic_j; /**< the run phase (biological time) */
	double host_j;               /**< the host's energy, phases not excluded (+ compile) */
	double per_synaptic_event_j; /**< run energy per synaptic event (0: no events) */
	uint64_t synaptic_events, spikes, neuron_updates;
	double peak_w; /**< the highest power of the run over every board */
	/** Host seconds of each phase (0 if not recorded). */
	double boot_s, load_s, run_host_s, readout_s;
	double dt_ms;
	uint64_t steps;
	bool measured;          /**< the boards measured their energy (else modelled) */
	uint64_t booted_boards; /**< boards the run booted (a cold start if > 0) */
	char model_version[64];
};

/** Fill f with r's figures. */
void s2_energy_report_figures(const struct s2_energy_report *r, struct s2_energy_figures *f);

#ifdef __cplusplus
}
#endif
#endif
