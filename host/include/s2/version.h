/**
 * @file version.h
 * @brief Version of libs2 and of the wire protocol it speaks.
 */
#ifndef S2_VERSION_H
#define S2_VERSION_H

/** libs2 version as "MAJOR.MINOR.PATCH". */
const char *s2_version(void);

/** The wire protocol version this library speaks (docs/protocol.md section 2). */
unsigned s2_protocol_version(void);

#endif
