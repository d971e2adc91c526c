/*
 * Firmware test runner (runner.h) and the s2t_fail() hook that S2T_CHECK / S2T_EQ call on
 * failure outside cmocka. Output goes through port.h only; no stdio, no allocation.
 */
#include <stdbool.h>
#include <stdint.h>

#include "port.h"
#include "runner.h"

static bool case_failed;
static size_t n_passed, n_failed;

static void put_u64_dec(uint64_t v)
{
	char buf[21];
	size_t i = sizeof buf - 1;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	s2_port_puts(buf + i);
}

static void put_u64_hex(uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[19];
	size_t i = sizeof buf - 1;
	buf[i] = 0;
	do {
		buf[--i] = hex[v & 0xF];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	s2_port_puts(buf + i);
}

static void put_value(const char *label, uint64_t v)
{
	s2_port_puts(label);
	put_u64_dec(v);
	s2_port_puts(" (");
	put_u64_hex(v);
	s2_port_puts(")\n");
}

void s2t_fail(const char *file, int line, const char *expr, uint64_t a, uint64_t b)
{
	case_failed = true;
	s2_port_puts(file);
	s2_port_puts(":");
	put_u64_dec((uint64_t)(line < 0 ? 0 : line));
	s2_port_puts(": Failure: ");
	s2_port_puts(expr);
	s2_port_puts("\n");
	/* S2T_CHECK reports a == b == 0; a failed S2T_EQ always has a != b. */
	if (a != b) {
		put_value("  left:  ", a);
		put_value("  right: ", b);
	}
}

size_t s2fw_run_cases(const struct s2t_case *cases, size_t n)
{
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		s2_port_puts("[ RUN      ] ");
		s2_port_puts(cases[i].name);
		s2_port_puts("\n");
		case_failed = false;
		cases[i].fn();
		s2_port_puts(case_failed ? "[  FAILED  ] " : "[       OK ] ");
		s2_port_puts(cases[i].name);
		s2_port_puts("\n");
		if (case_failed)
			failed++;
	}
	n_failed += failed;
	n_passed += n - failed;
	return failed;
}

int s2fw_summary(void)
{
	put_u64_dec(n_passed);
	s2_port_puts(" passed, ");
	put_u64_dec(n_failed);
	s2_port_puts(" failed\n");
	return n_failed == 0 && n_passed > 0 ? 0 : 1;
}
