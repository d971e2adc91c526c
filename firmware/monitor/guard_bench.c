/*
 * The guard's cost per datagram on the Cortex-M4F build (bench/auth.sh): under QEMU with
 * -icount shift=0 (one instruction per nanosecond), SysTick calibrated against a loop of
 * known length as in the engine bench. For request bodies of 0 to 1416 bytes it times
 * s2_guard_check (tag, key lookup, replay window) on fresh authenticated requests and
 * s2_guard_seal of a reply of the same size, and prints one line per size:
 *   G BODY_BYTES n N check_ticks T seal_ticks S
 */
#include <stdint.h>
#include <string.h>

#include "guard.h"
#include "port.h"
#include "s2/msg.h"
#include "s2/packet.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define REPS 16u

static struct s2_guard guard;
static uint8_t dgram[S2_MAX_DATAGRAM], out[S2_MAX_DATAGRAM], body[S2_AUTH_MAX_BODY];

static uint32_t now(void)
{
	return 0xFFFFFFu - SYST_CVR; /* counts up, 24 bits */
}

static void put_u(uint64_t v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	s2_port_puts(b + i);
}

int main(void)
{
	s2_port_init();
	SYST_RVR = 0xFFFFFFu;
	SYST_CVR = 0;
	SYST_CSR = 5; /* enable, core clock, no interrupt */
	uint32_t n = 1000000u, c0 = now();
	__asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
	uint32_t c1 = now();
	s2_port_puts("calibration instructions 2000000 ticks ");
	put_u((c1 - c0) & 0xFFFFFFu);
	s2_port_puts("\n");
	s2_port_puts("guard state bytes ");
	put_u(sizeof(struct s2_guard));
	s2_port_puts("\n");

	uint8_t key[S2_AUTH_KEY_LEN];
	for (unsigned i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(3 * i + 1);
	for (unsigned i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)i;
	s2_guard_init(&guard);
	if (s2_guard_add(&guard, 7, S2_KEY_MACHINE, key) < 0)
		s2_port_exit(1);
	struct s2_auth_key k;
	s2_auth_key_init(&k, key);
	static const uint16_t sizes[] = {0, 8, 24, 64, 256, 1032, 1416};
	uint32_t counter = 0;
	for (unsigned z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
		uint32_t check = 0, seal = 0;
		for (unsigned r = 0; r < REPS; r++) {
			struct s2_header h = {
			        .type = S2_MSG_MEM_WRITE, .seq = r, .chip = 0xFFFF, .pe = 0xFF};
			struct s2_auth_trailer t = {
			        .key_id = 7, .counter = ++counter, .session = 0x1000};
			int len = s2_auth_encode(dgram, sizeof dgram, &h, body, sizes[z], &t);
			uint8_t tag[S2_AUTH_TAG_LEN];
			s2_auth_mac(&k, dgram, (size_t)len, tag);
			s2_packet_set_tag(dgram, (size_t)len, tag);
			struct s2_header d;
			const uint8_t *p;
			if (s2_packet_decode(dgram, (size_t)len, &d, &p) < 0)
				s2_port_exit(2);
			struct s2_guard_ctx ctx;
			uint32_t a = now();
			int rc = s2_guard_check(&guard, dgram, (size_t)len, &d, p, &ctx);
			uint32_t b = now();
			if (rc < 0)
				s2_port_exit(3);
			struct s2_header rep = d;
			rep.flags = S2_F_REPLY;
			int olen =
			        s2_guard_seal(&guard, &ctx, out, sizeof out, &rep, body, sizes[z]);
			uint32_t c = now();
			if (olen < 0)
				s2_port_exit(4);
			check += (b - a) & 0xFFFFFFu;
			seal += (c - b) & 0xFFFFFFu;
		}
		s2_port_puts("G ");
		put_u(sizes[z]);
		s2_port_puts(" n ");
		put_u(REPS);
		s2_port_puts(" check_ticks ");
		put_u(check);
		s2_port_puts(" seal_ticks ");
		put_u(seal);
		s2_port_puts("\n");
	}
	s2_port_exit(0);
	return 0;
}
