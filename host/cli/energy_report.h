/*
 * The energy report's computation, for other verbs (s2ctl plot): an energy record of `s2ctl
 * run --energy` read and turned into joules and watts by the model of docs/energy.md, exactly
 * as `s2ctl energy report` does it (verb_energy.c).
 */
#ifndef S2CTL_ENERGY_REPORT_H
#define S2CTL_ENERGY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

struct energy_report;

/** One chip's run: its counters' increase over the run and the modelled dynamic energy. */
struct energy_chip {
	unsigned board, chip;
	uint64_t synaptic_events;
	double run_dynamic_j; /**< modelled, joules */
};

/**
 * Read the record at path with the default model (s2-energy-model-1) and compute the report.
 * @return the report (free with energy_report_free), or NULL after printing an error naming
 *         the file and the reason, with *exit_code set (EXIT_INPUT for bad input).
 */
struct energy_report *energy_report_open(const struct cli *c, const char *path, int *exit_code);
void energy_report_free(struct energy_report *r);

/** The boards of the run (the record's `boards`), in the record's order. */
unsigned energy_report_boards(const struct energy_report *r, const unsigned **boards);

/**
 * Every chip with samples on a board of the run, as energy report --json lists them.
 * @return the number of chips; *out is malloc'd (caller frees), NULL when there are none or
 *         memory ran out (then returns 0).
 */
size_t energy_report_chips(const struct energy_report *r, struct energy_chip **out);

/**
 * Plot power per board over the run (what energy report --svg writes) into path, atomically.
 * @return 0, or S2_E_IO with err set and no file.
 */
int energy_report_power_svg(const struct energy_report *r, const char *path, char *err,
                            size_t errlen);

#endif
