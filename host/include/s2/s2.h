/**
 * @file s2.h
 * @brief libs2, the s2 host library: umbrella header.
 *
 * libs2 talks to SpiNNaker2 boards (and to s2emu, the emulated machine) over UDP. It is
 * growing issue by issue; today it carries the version and the wire core shared with the
 * firmware (error codes, CRC-32, packet header).
 */
#ifndef S2_S2_H
#define S2_S2_H

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/packet.h"
#include "s2/version.h"

#endif
