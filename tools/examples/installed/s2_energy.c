/*
 * What a run cost, from a host application (docs/api.md): read the energy record of a run
 * (`s2ctl run IMAGE --energy RECORD`, or s2_energy_record_write() in your own program), turn
 * it into joules with libs2's energy report, print a few figures and write the whole report
 * as JSON, exactly as `s2ctl energy report RECORD --json` does. Built against the installed
 * package:
 *
 *   cc -std=c11 s2_energy.c -o s2_energy $(pkg-config --cflags --libs s2)
 *   ./s2_energy RECORD [PUE REPORT.json]
 *
 * Exit 0, 1 if the record cannot be reported (the message says why: unreadable, damaged, of a
 * run that did not complete), 2 on bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>

#include <s2/s2.h>

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: s2_energy RECORD [PUE REPORT.json]\n");
		return 2;
	}
	/* 1. What the report covers beyond the boards: here, the facility's PUE. */
	struct s2_energy_report_opts o = {0};
	if (argc == 4) {
		o.have_pue = true;
		o.pue = atof(argv[2]);
	}
	/* 2. Read the record and compute the report (a partial run's is refused). */
	struct s2_energy_report *r;
	char err[1024];
	int rc = s2_energy_report_open(argv[1], &o, &r, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "s2_energy: %s (%s)\n", err, s2_strerror(rc));
		return 1;
	}
	/* 3. Its figures as numbers ... */
	struct s2_energy_figures f;
	s2_energy_report_figures(r, &f);
	printf("%s, model %s: %.6g J in all, the run %.6g J (%.6g J dynamic) over %llu steps\n",
	       f.measured ? "measured" : "modelled", f.model_version, f.energy_j, f.run_j,
	       f.run_dynamic_j, (unsigned long long)f.steps);
	printf("%llu synaptic events, %.6g J each; peak %.6g W; host %.6g J\n",
	       (unsigned long long)f.synaptic_events, f.per_synaptic_event_j, f.peak_w, f.host_j);
	/* ... and the whole report, rendered as s2ctl energy report --json renders it. */
	if (argc == 4) {
		FILE *out = fopen(argv[3], "w");
		int bad = !out || s2_energy_report_json(r, out) < 0;
		if ((out && fclose(out) != 0) || bad) {
			fprintf(stderr, "s2_energy: %s: cannot write\n", argv[3]);
			s2_energy_report_free(r);
			return 1;
		}
	}
	s2_energy_report_free(r);
	return 0;
}
