/**
 * @file version.h
 * @brief Version of libs2 and of the wire protocol it speaks.
 */
#ifndef S2_VERSION_H
#define S2_VERSION_H

#include <stddef.h>

/** libs2 version as "MAJOR.MINOR.PATCH". */
const char *s2_version(void);

/** The wire protocol version this library speaks (docs/protocol.md section 2). */
unsigned s2_protocol_version(void);

/**
 * sizeof a public structure, by its name without "struct " ("s2_results", "s2_run_opts"):
 * for bindings that lay the structures out themselves (python/libs2.py checks its ctypes
 * layouts with it). 0 for a name it does not know.
 */
size_t s2_abi_sizeof(const char *name);

#endif
