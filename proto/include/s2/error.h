/**
 * @file error.h
 * @brief The one error convention of s2 (docs/protocol.md section 7).
 *
 * Actions return int: 0 on success or a negative S2_E... code. Predicates return bool,
 * constructors a pointer or NULL. The codes are shared by host, emulator and firmware, and
 * the wire carries them (as their positive value) in status fields, so their numbers are
 * part of the protocol: append new codes, never renumber.
 */
#ifndef S2_ERROR_H
#define S2_ERROR_H

/** Error codes. Negative; 0 is success. */
enum s2_err {
	S2_OK = 0,
	S2_E_SHORT = -1,     /**< input shorter than the fixed part it must hold */
	S2_E_MAGIC = -2,     /**< packet magic is not S2_MAGIC */
	S2_E_VERSION = -3,   /**< protocol version not supported */
	S2_E_LENGTH = -4,    /**< a length field disagrees with the bytes present */
	S2_E_CRC = -5,       /**< CRC-32 check failed */
	S2_E_RESERVED = -6,  /**< a reserved field or flag bit is not zero */
	S2_E_TYPE = -7,      /**< unknown message type */
	S2_E_RANGE = -8,     /**< a value is outside its allowed range */
	S2_E_NOSPACE = -9,   /**< output buffer too small */
	S2_E_INVAL = -10,    /**< invalid argument from the caller */
	S2_E_NOMEM = -11,    /**< allocation failed */
	S2_E_IO = -12,       /**< I/O error (file or socket); errno has details */
	S2_E_TIMEOUT = -13,  /**< no answer within the time allowed */
	S2_E_FORMAT = -14,   /**< malformed file or message body */
	S2_E_NOTFOUND = -15, /**< the named item does not exist */
	S2_E_STATE = -16,    /**< the target is not in a state that allows this */
	S2_E_DEAD = -17,     /**< the addressed board, chip, PE or link is dead */
	S2_E_AUTH = -18,     /**< authentication tag missing or wrong */
	S2_E_BUSY = -19,     /**< the board is held by another session's lease */
	S2_E_STALE = -20,    /**< the board forgot this authenticated session: start a new one */
	S2_E__LAST = -21     /**< not a code: one past the last */
};

/**
 * A short, static, human-readable description of an error code.
 * @param err 0 or a negative S2_E... code; anything else gives "unknown error".
 * @return a string with static storage duration; never NULL.
 */
const char *s2_strerror(int err);

/** The symbolic name of a code ("S2_E_CRC"), for logs and JSON; "S2_E_UNKNOWN" if none. */
const char *s2_errname(int err);

#endif
