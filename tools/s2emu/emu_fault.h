/*
 * Process faults at a phase of the protocol (s2emu --fault-at PHASE:ACTION[:N]): the whole
 * emulator stops (SIGSTOP, as if frozen) or dies (SIGKILL) the N-th time a board reaches the
 * phase, so tests can fail a machine at an exact point of boot, flash, load, run, readout or
 * streaming (tests/integration/test_fault_matrix.sh, docs/faults.md).
 */
#ifndef EMU_FAULT_H
#define EMU_FAULT_H

#include <stdint.h>

enum emu_phase {
	EMU_PH_BOOT,    /**< a BOOT_DATA block arrives */
	EMU_PH_FLASH,   /**< a FLASH_DATA block arrives */
	EMU_PH_LOAD,    /**< a BULK_BEGIN (write) or APP_LOAD arrives */
	EMU_PH_RUN,     /**< a board completes a timestep */
	EMU_PH_READOUT, /**< a BULK_READ arrives */
	EMU_PH_STREAM,  /**< a STREAM_DATA datagram is sent */
	EMU_PH__N
};

/** Parse "PHASE:ACTION[:N]" (ACTION stop or kill, N >= 1, default 1). 0 or -1. */
int emu_fault_parse(const char *spec);

/** Count one occurrence of ph; stops or kills the process when the armed point is reached. */
void emu_fault_point(enum emu_phase ph);

#endif
