/* Process faults at a protocol phase (emu_fault.h). */
#include "emu_fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const phase_name[EMU_PH__N] = {"boot", "flash",   "load",
                                                  "run",  "readout", "stream"};

static struct {
	int phase; /* -1: none armed */
	int sig;
	unsigned long n;
	unsigned long count[EMU_PH__N];
} F = {.phase = -1};

int emu_fault_parse(const char *spec)
{
	char ph[16], act[8];
	unsigned long n = 1;
	int k = sscanf(spec, "%15[a-z]:%7[a-z]:%lu", ph, act, &n);
	if (k < 2 || n == 0)
		return -1;
	F.phase = -1;
	for (int i = 0; i < EMU_PH__N; i++)
		if (!strcmp(ph, phase_name[i]))
			F.phase = i;
	F.sig = !strcmp(act, "stop") ? SIGSTOP : !strcmp(act, "kill") ? SIGKILL : 0;
	F.n = n;
	return F.phase >= 0 && F.sig ? 0 : -1;
}

void emu_fault_point(enum emu_phase ph)
{
	if (++F.count[ph] != F.n || F.phase != (int)ph)
		return;
	fprintf(stderr, "s2emu: --fault-at: %s the process at %s #%lu\n",
	        F.sig == SIGSTOP ? "stopping" : "killing", phase_name[ph], F.n);
	fflush(stderr);
	raise(F.sig);
}
