/**
 * @file s2test.h
 * @brief Test cases that run under two runners: cmocka on the host and the firmware's own
 * runner on Cortex-M4F under QEMU.
 *
 * A case is a plain `void f(void)` using S2T_CHECK / S2T_EQ. On the host (S2T_CMOCKA
 * defined) they map to cmocka assertions; in firmware they record the failure, print it
 * through the port's console and return from the case. Shared cases are how the suite
 * proves the same code gives the same answers on both builds.
 */
#ifndef S2TEST_H
#define S2TEST_H

#include <stddef.h>
#include <stdint.h>

typedef void (*s2t_fn)(void);

struct s2t_case {
	const char *name;
	s2t_fn fn;
};

#define S2T_CASE(f)   \
	{             \
#f, f \
	}

#ifdef S2T_CMOCKA
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#define S2T_CHECK(c) assert_true(c)
#define S2T_EQ(a, b) assert_int_equal((a), (b))
#else
/** Firmware runner hook: note a failed check (prints file, line, expression and values). */
void s2t_fail(const char *file, int line, const char *expr, uint64_t a, uint64_t b);
#define S2T_CHECK(c)                                            \
	do {                                                    \
		if (!(c)) {                                     \
			s2t_fail(__FILE__, __LINE__, #c, 0, 0); \
			return;                                 \
		}                                               \
	} while (0)
#define S2T_EQ(a, b)                                                                \
	do {                                                                        \
		uint64_t s2t_a_ = (uint64_t)(a), s2t_b_ = (uint64_t)(b);            \
		if (s2t_a_ != s2t_b_) {                                             \
			s2t_fail(__FILE__, __LINE__, #a " == " #b, s2t_a_, s2t_b_); \
			return;                                                     \
		}                                                                   \
	} while (0)
#endif

/** The shared proto cases (tests/proto/proto_cases.c). */
extern const struct s2t_case s2_proto_cases[];
extern const size_t s2_proto_ncases;

/** The shared message-body cases (tests/proto/msg_cases.c). */
extern const struct s2t_case s2_msg_cases[];
extern const size_t s2_msg_ncases;

/** The shared monitor command-handler cases (tests/firmware/monitor_cases.c). */
extern const struct s2t_case s2_monitor_cases[];
extern const size_t s2_monitor_ncases;

/**
 * Emit the proto test vectors (tests/proto/proto_vectors.c): one text line per call of
 * emit, no newline included. The same lines must come out on every build; the expected
 * output is tests/proto/proto_vectors.golden.
 */
void s2_proto_vectors(void (*emit)(const char *line, void *ctx), void *ctx);

/** The pseudo-random bytes the "crc" vector lines are computed over (valid after a run). */
const uint8_t *s2_proto_vector_data(size_t *len);

#endif
