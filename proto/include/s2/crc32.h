/**
 * @file crc32.h
 * @brief CRC-32 (docs/protocol.md section 3).
 *
 * The IEEE 802.3 / zlib CRC-32: reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF. crc32("123456789") == 0xCBF43926. Identical on every build (a
 * table-driven implementation in portable C with a const table, so firmware keeps it in
 * code memory); host tests check it against zlib's crc32() and the QEMU tests check the
 * same vectors on Cortex-M4F.
 */
#ifndef S2_CRC32_H
#define S2_CRC32_H

#include <stddef.h>
#include <stdint.h>

/**
 * Continue a CRC-32 over len bytes. Start with crc = 0; feed the previous result to
 * continue over split data: s2_crc32(s2_crc32(0, a, n), b, m) == CRC of a followed by b.
 */
uint32_t s2_crc32(uint32_t crc, const void *data, size_t len);

#endif
