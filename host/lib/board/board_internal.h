/*
 * One request of a board operation whose reply is decoded into the caller's memory
 * (board.c): the pattern shared by the survey, scrub, simple requests and APP_STATUS (app.c).
 * The request is counted in op->outstanding while in flight; its completion records the
 * first failure in the op, named after the message type.
 */
#ifndef S2_BOARD_INTERNAL_H
#define S2_BOARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"

/** Decode a reply payload p[0..len) into out, for a request to chip: 0 or a negative code. */
typedef int (*s2_req_decode_fn)(const uint8_t *p, size_t len, void *out, uint16_t chip);

/** What to send and where its reply goes. */
struct s2_req_spec {
	uint8_t type;
	uint16_t chip;
	uint8_t pe;
	const void *body; /**< copied by the transport; may be NULL with len 0 */
	size_t len;
	/** NULL: the payload (at most cap bytes, else S2_E_LENGTH) is copied to out, its length
	 * to *out_len (either may be NULL) */
	s2_req_decode_fn decode;
	void *out;
	size_t cap;
	size_t *out_len;
	int *status;   /**< if not NULL: the request's own outcome, 0 or a negative code */
	int answer;    /**< a negative status that is an answer, not a failure of the op, or 0 */
	bool per_chip; /**< one of a fan-out over chips: named "TYPE of chip N" in op->what,
	                    op->done advances whatever the outcome */
	bool counted;  /**< an item of op->total (done advances when it completes) */
};

/**
 * Send the request of s on conn as part of op. The reply is handled on the client's loop
 * (s2_op_wait). A failure is named "TYPE" (transport) or "TYPE reply" (decode), or
 * "TYPE of chip N" for per_chip requests.
 * @return 0 (the completion will run), or the negative code of s2_conn_request or
 *         S2_E_NOMEM (nothing sent, op unchanged).
 */
int s2_req_start(struct s2_conn *conn, const struct s2_req_spec *s, struct s2_op *op);

#endif
