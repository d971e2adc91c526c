/**
 * @file transport.h
 * @brief Reliable request/reply transport to boards over UDP (docs/protocol.md section 6).
 *
 * One s2_client owns a libevent loop; it holds one s2_conn per board endpoint, so many
 * boards are driven from one loop in parallel. A conn keeps up to `window` requests
 * outstanding, numbers them, retransmits on a timeout derived from measured round-trip
 * times (RFC 6298 smoothing, Karn's rule, exponential back-off; no fixed sleeps), drops
 * duplicate and stray replies, and counts every retry, loss, timeout and bad datagram.
 * A request that gets no reply after its retries completes with S2_E_TIMEOUT; the conn is
 * then marked unresponsive and its queued requests fail at once, so a dead board costs a
 * bounded time and never stalls the other boards.
 *
 * Typical use:
 *   c = s2_client_new();
 *   conn = s2_conn_open(c, "127.0.0.1", 17000, 0);
 *   s2_conn_request(conn, S2_MSG_CHIP_INFO, chip, S2_PE_MONITOR, NULL, 0, done_cb, arg);
 *   s2_client_wait(c);           // runs the loop until nothing is outstanding
 *   s2_client_free(c);           // closes every conn
 */
#ifndef S2_TRANSPORT_H
#define S2_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/packet.h"

struct event_base;
struct s2_client;
struct s2_conn;

/** Transport tuning; s2_transport_defaults() fills the documented defaults. */
struct s2_transport_opts {
	unsigned window;          /**< requests outstanding per conn (default 32, max 256) */
	unsigned max_attempts;    /**< sends of one request before S2_E_TIMEOUT (default 8,
	                               1..S2_ATTEMPTS_MAX); bulk transfers on the client (s2/bulk.h)
	                               allow max_attempts + 2 stalls in a row */
	unsigned min_patience_us; /**< ... and not before this long after the first (3 s) */
	unsigned rto_initial_us;  /**< timeout before the first RTT sample (default 100 ms) */
	unsigned rto_min_us;      /**< lower bound of the timeout (default 5 ms) */
	unsigned rto_max_us;      /**< upper bound, also of back-off (default 1 s) */
};

/** The largest max_attempts a client takes (s2_client_new clamps to 1..this). Each wait
 * between sends is at most rto_max_us (1 s), so a silent board costs at most about
 * max_attempts seconds: under two minutes. */
#define S2_ATTEMPTS_MAX 100u

/** Fill o with the defaults above (every field; nothing is allocated). */
void s2_transport_defaults(struct s2_transport_opts *o);

/** Counters of one conn. Every datagram sent or received lands in exactly one of them. */
struct s2_conn_stats {
	uint64_t requests;        /**< requests submitted */
	uint64_t completed;       /**< requests completed with a reply (ok or error reply) */
	uint64_t failed;          /**< requests completed without a reply (timeout, closed) */
	uint64_t sent;            /**< datagrams sent, first sends and retransmissions */
	uint64_t send_errors;     /**< of which the kernel refused (treated as lost) */
	uint64_t retransmits;     /**< of which retransmissions */
	uint64_t timeouts;        /**< retransmission timer expiries */
	uint64_t replies;         /**< datagrams received that matched an outstanding request */
	uint64_t duplicates;      /**< replies for a request already answered (or unknown seq) */
	uint64_t unsolicited;     /**< valid non-reply datagrams (e.g. ANNOUNCE) */
	uint64_t bad;             /**< datagrams that failed to decode (see bad_by_code) */
	uint64_t bad_by_code[24]; /**< indexed by -S2_E_ code */
	uint64_t wrong_source;    /**< datagrams from an address other than the board's */
	uint64_t mismatched;      /**< replies whose type or address disagree with the request */
	uint32_t srtt_us;         /**< smoothed round-trip time, 0 before the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;       /**< current retransmission timeout */
	uint64_t sent_noreply; /**< of sent: datagrams that expect no reply (s2_conn_send) */
	uint64_t tx_bytes;     /**< bytes of every datagram sent (UDP payload, no UDP/IP headers) */
	uint64_t rx_bytes;     /**< bytes of every datagram received from the board's address */
	uint64_t auth_bad;     /**< replies dropped: not authenticated as the request (2.3) */
	uint64_t session_restarts; /**< new sessions after a board forgot ours (S2_E_STALE) */
	/* The last request given up (S2_E_TIMEOUT after its sends), for messages: */
	uint32_t gaveup_sends; /**< its sends (0: no request given up yet) */
	uint32_t gaveup_ms;    /**< ms from its first send to the give-up */
	uint16_t gaveup_chip;  /**< its chip */
	uint8_t gaveup_type;   /**< its message type (s2_msg_name) */
};

/**
 * Completion of a request. Called exactly once, from the event loop.
 * @param status  0: a reply came and payload/len hold its body; a negative S2_E_ code:
 *                either the board's error reply (S2_F_ERROR, h non-NULL) or a local
 *                failure (S2_E_TIMEOUT, S2_E_IO; h NULL).
 * The payload is valid only during the call.
 */
typedef void (*s2_reply_cb)(void *arg, int status, const struct s2_header *h,
                            const uint8_t *payload, size_t len);

/** Called for valid datagrams that are not replies (ANNOUNCE). */
typedef void (*s2_unsolicited_cb)(void *arg, const struct s2_header *h, const uint8_t *payload,
                                  size_t len);

/** New client with its own event loop; NULL if out of memory. */
struct s2_client *s2_client_new(const struct s2_transport_opts *opts);

/** The client's options as in force (clamped by s2_client_new); owned by the client. */
const struct s2_transport_opts *s2_client_opts(const struct s2_client *c);

/** Close every conn (outstanding requests complete with S2_E_IO) and free the client. */
void s2_client_free(struct s2_client *c);

/** The client's libevent loop (owned by the client): add your own events (a stream's
 * socket, a server) to it, and they run while the client waits. */
struct event_base *s2_client_base(struct s2_client *c);

/**
 * Run the loop until no request is outstanding or queued on any conn.
 * @return 0, or S2_E_IO if the loop failed.
 */
int s2_client_wait(struct s2_client *c);

/**
 * Open a conn to a board endpoint.
 * @param host   numeric IPv4 or IPv6 address or host name
 * @param port   UDP port
 * @param board  board index written into every request's header
 * @return the conn (owned by the client; freed by s2_client_free), or NULL with errno set.
 */
struct s2_conn *s2_conn_open(struct s2_client *c, const char *host, uint16_t port, uint16_t board);

/**
 * Queue a request. body[0..len) is copied; len <= S2_MAX_PAYLOAD (S2_AUTH_MAX_BODY when the
 * client has a key: s2/key.h).
 * @return 0 (cb will be called), S2_E_RANGE if len is too long, S2_E_NOMEM. If the conn
 *         is unresponsive the request is still accepted and cb gets S2_E_TIMEOUT from
 *         the loop, so callers have one completion path.
 */
int s2_conn_request(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                    size_t len, s2_reply_cb cb, void *arg);

/** Call back for datagrams that are not replies. */
void s2_conn_on_unsolicited(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg);

/**
 * Send one datagram that expects no reply (bulk data and acknowledgements, section 4.16):
 * no retransmission, no timer; counted in sent, sent_noreply and tx_bytes. Its seq is
 * taken from the conn's sequence so it never collides with a request.
 * @return 0 (also when the kernel refused it: counted in send_errors, lost like any other
 *         datagram), S2_E_RANGE if len > S2_MAX_PAYLOAD.
 */
int s2_conn_send(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                 size_t len);

/**
 * Add a listener for datagrams that are not replies, called after the on_unsolicited
 * callback, in the order added. Used by protocols with their own demultiplexing (bulk).
 * @return 0 or S2_E_NOMEM.
 */
int s2_conn_listen(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg);

/** Remove the listener added with the same cb and arg (safe from inside a callback). */
void s2_conn_unlisten(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg);

/**
 * Keep s2_client_wait() running while an operation waits for something other than a
 * reply (a timer, datagrams from a board). Every hold is matched by one release.
 */
void s2_client_hold(struct s2_client *c);
/** End one s2_client_hold(). */
void s2_client_release(struct s2_client *c);

/** Requests outstanding plus queued. */
size_t s2_conn_pending(const struct s2_conn *conn);

/** True once a request timed out; cleared by s2_conn_reset_responsive(). */
bool s2_conn_unresponsive(const struct s2_conn *conn);
/** Clear the unresponsive mark (to try the board again). */
void s2_conn_reset_responsive(struct s2_conn *conn);

/** The conn's counters (owned by the conn, updated as datagrams come and go). */
const struct s2_conn_stats *s2_conn_stats(const struct s2_conn *conn);
/** The board number the conn's packets carry. */
uint16_t s2_conn_board(const struct s2_conn *conn);
/** The client the conn belongs to (not owned by the caller). */
struct s2_client *s2_conn_client(const struct s2_conn *conn);

/** "host:port" of the conn's endpoint, for messages. */
const char *s2_conn_peer(const struct s2_conn *conn);

/** The conn's peer and transport counters as one line, for error messages ("127.0.0.1:5000:
 * 3 requests, 4 sent, 1 retransmitted, 0 timeouts, 0 duplicate replies, 0 bad datagrams,
 * srtt 120 us"; after a give-up also "; gave up on CHIP_INFO to chip 37 after 8 sends in
 * 3.3 s"), into out[cap] (always NUL-terminated when cap > 0). */
void s2_conn_summary(const struct s2_conn *conn, char *out, size_t cap);

#endif
