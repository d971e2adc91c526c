/*
 * Bulk transfer benchmark and probe (docs/protocol.md section 4.16), against booted boards
 * of a machine description (s2emu or hardware).
 *
 *   bench_bulk MACHINE.pb BOARDS MIB CHIP random|compressible [nozlib]
 *     writes MIB MiB to CHIP of boards 0..BOARDS-1 in parallel in one event loop, reads
 *     them back in parallel, checks every byte; prints throughput per board and in total
 *     and the protocol efficiency: payload bytes / every byte of every datagram both ways
 *     (s2 headers included; UDP/IP/Ethernet headers excluded). Exit 0 if byte-exact.
 *   bench_bulk MACHINE.pb probe CHIP
 *     crafted datagrams: a block with a bad CRC is rejected and counted, END with a block
 *     missing is S2_E_STATE, a region whose whole CRC disagrees is S2_E_CRC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "s2/key.h"
#include "s2/board.h"
#include "s2/bulk.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/machine.h"
#include "s2/msg.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x243F6A8885A308D3ull;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static uint64_t wire(struct s2_conn **conn, unsigned n)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += s2_conn_stats(conn[i])->tx_bytes + s2_conn_stats(conn[i])->rx_bytes;
	return t;
}

static int simple(struct s2_client *c, struct s2_conn *conn, uint8_t type, uint16_t chip,
                  const void *body, size_t len, void *rep, size_t cap, size_t *rlen)
{
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	int rc = s2_simple_start(conn, type, chip, S2_PE_MONITOR, body, len, rep, cap, rlen, &op);
	return rc < 0 ? rc : s2_op_wait(c, &op);
}

static int probe(struct s2_client *c, struct s2_conn *conn, uint16_t chip)
{
	int fails = 0;
	uint8_t blk[256], body[S2_MAX_PAYLOAD], rep[S2_MAX_PAYLOAD];
	size_t rlen = 0;
	for (unsigned i = 0; i < sizeof blk; i++)
		blk[i] = (uint8_t)(i * 13);
	uint32_t region = 0x7E570001u;
	struct s2_msg_bulk_begin bg = {.region = region,
	                               .space = S2_MEM_DRAM,
	                               .addr = 0x4000,
	                               .len = sizeof blk,
	                               .crc = s2_crc32(0, blk, sizeof blk),
	                               .block_size = 1024};
	int n = s2_msg_bulk_begin_encode(body, sizeof body, &bg);
	int rc = simple(c, conn, S2_MSG_BULK_BEGIN, chip, body, (size_t)n, rep, sizeof rep, &rlen);
	printf("%s BULK_BEGIN: %s\n", rc == 0 ? "ok  " : "FAIL", s2_strerror(rc));
	fails += rc != 0;
	struct s2_msg_bulk_data d = {.region = region,
	                             .block = 0,
	                             .raw_len = sizeof blk,
	                             .raw_crc = s2_crc32(0, blk, sizeof blk) ^ 1u,
	                             .data = blk,
	                             .len = sizeof blk};
	n = s2_msg_bulk_data_encode(body, sizeof body, &d);
	s2_conn_send(conn, S2_MSG_BULK_DATA, chip, S2_PE_MONITOR, body, (size_t)n);
	uint8_t rb[4];
	int rn = s2_msg_bulk_region_encode(rb, sizeof rb, region);
	rc = simple(c, conn, S2_MSG_BULK_POLL, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	struct s2_msg_bulk_sack s = {0};
	if (rc == 0)
		rc = s2_msg_bulk_sack_decode(rep, rlen, &s);
	bool ok = rc == 0 && s.cum == 0 && s.bad == 1;
	printf("%s bad block CRC rejected and counted (cum %u, bad %u)\n", ok ? "ok  " : "FAIL",
	       s.cum, s.bad);
	fails += !ok;
	rc = simple(c, conn, S2_MSG_BULK_END, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	printf("%s END with the block missing: %s\n", rc == S2_E_STATE ? "ok  " : "FAIL",
	       s2_strerror(rc));
	fails += rc != S2_E_STATE;
	d.raw_crc ^= 1u;
	n = s2_msg_bulk_data_encode(body, sizeof body, &d);
	s2_conn_send(conn, S2_MSG_BULK_DATA, chip, S2_PE_MONITOR, body, (size_t)n);
	rc = simple(c, conn, S2_MSG_BULK_POLL, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	if (rc == 0)
		rc = s2_msg_bulk_sack_decode(rep, rlen, &s);
	ok = rc == 0 && s.cum == 1;
	printf("%s good block accepted (cum %u)\n", ok ? "ok  " : "FAIL", s.cum);
	fails += !ok;
	rc = simple(c, conn, S2_MSG_BULK_END, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	printf("%s END: %s\n", rc == 0 ? "ok  " : "FAIL", s2_strerror(rc));
	fails += rc != 0;
	/* A region whose blocks are fine but whose whole CRC is not. */
	bg.region = ++region;
	bg.crc ^= 1u;
	n = s2_msg_bulk_begin_encode(body, sizeof body, &bg);
	rc = simple(c, conn, S2_MSG_BULK_BEGIN, chip, body, (size_t)n, rep, sizeof rep, &rlen);
	d.region = region;
	n = s2_msg_bulk_data_encode(body, sizeof body, &d);
	s2_conn_send(conn, S2_MSG_BULK_DATA, chip, S2_PE_MONITOR, body, (size_t)n);
	rn = s2_msg_bulk_region_encode(rb, sizeof rb, region);
	rc = simple(c, conn, S2_MSG_BULK_POLL, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	rc = simple(c, conn, S2_MSG_BULK_END, chip, rb, (size_t)rn, rep, sizeof rep, &rlen);
	printf("%s END of a region with a wrong CRC: %s\n", rc == S2_E_CRC ? "ok  " : "FAIL",
	       s2_strerror(rc));
	fails += rc != S2_E_CRC;
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_bulk MACHINE.pb BOARDS MIB CHIP random|compressible "
		                "[nozlib]\n       bench_bulk MACHINE.pb probe CHIP\n");
		return 2;
	}
	char err[256];
	struct s2_machine *m = s2_machine_load_file(argv[1], err, sizeof err);
	if (!m) {
		fprintf(stderr, "bench_bulk: %s\n", err);
		return 2;
	}
	struct s2_client *c = s2_client_new(NULL);
	/* S2_KEY_FILE: authenticate (docs/security.md), to measure what it costs. */
	if (c && s2_client_key_from_env(c, err, sizeof err) < 0) {
		fprintf(stderr, "bench_bulk: S2_KEY_FILE: %s\n", err);
		return 2;
	}
	bool is_probe = !strcmp(argv[2], "probe");
	unsigned nb = is_probe ? 1 : (unsigned)atoi(argv[2]);
	if (!c || nb < 1 || nb > s2_machine_boards(m) || (!is_probe && argc < 6))
		return 2;
	struct s2_conn **conn = calloc(nb, sizeof *conn);
	for (unsigned i = 0; i < nb; i++) {
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(m, i, &ep);
		conn[i] = s2_conn_open(c, ep.host, ep.eth_port, (uint16_t)i);
		if (!conn[i])
			return 2;
	}
	if (is_probe) {
		int rc = probe(c, conn[0], (uint16_t)atoi(argv[3]));
		s2_client_free(c);
		free(conn);
		s2_machine_free(m);
		return rc;
	}
	size_t len = (size_t)(atof(argv[3]) * 1048576.0);
	uint16_t chip = (uint16_t)atoi(argv[4]);
	bool compressible = !strcmp(argv[5], "compressible");
	struct s2_bulk_opts o;
	s2_bulk_defaults(&o);
	o.compress = !(argc > 6 && !strcmp(argv[6], "nozlib"));
	uint8_t **src = calloc(nb, sizeof *src), **dst = calloc(nb, sizeof *dst);
	for (unsigned i = 0; i < nb; i++) {
		src[i] = malloc(len);
		dst[i] = calloc(1, len);
		if (!src[i] || !dst[i])
			return 2;
		/* compressible: small values in 32-bit words, like counters and weights */
		for (size_t k = 0; k < len; k++)
			src[i][k] =
			        compressible ? (k % 4 == 0 ? (uint8_t)(rnd8() & 0x0F) : 0) : rnd8();
	}
	struct s2_op *op = calloc(nb, sizeof *op);
	struct s2_bulk_stats *st = calloc(nb, sizeof *st);
	const char *what[2] = {"write", "read"};
	int status = 0;
	for (int dir = 0; dir < 2; dir++) {
		uint64_t w0 = wire(conn, nb);
		double t0 = now_s();
		double *t_end = calloc(nb, sizeof *t_end);
		for (unsigned i = 0; i < nb; i++) {
			s2_op_init(&op[i], NULL, NULL);
			memset(&st[i], 0, sizeof st[i]);
			int rc = dir == 0 ? s2_bulk_write_start_ex(conn[i], chip, S2_PE_MONITOR,
			                                           S2_MEM_DRAM, 0x100000, src[i],
			                                           len, &o, &st[i], &op[i])
			                  : s2_bulk_read_start_ex(conn[i], chip, S2_PE_MONITOR,
			                                          S2_MEM_DRAM, 0x100000, dst[i],
			                                          len, &o, &st[i], &op[i]);
			if (rc < 0)
				op[i].status = rc;
		}
		/* Run until all are done, noting when each board finished. */
		for (;;) {
			unsigned left = 0;
			for (unsigned i = 0; i < nb; i++) {
				if (op[i].outstanding == 0 && t_end[i] == 0)
					t_end[i] = now_s();
				left += op[i].outstanding != 0;
			}
			if (!left)
				break;
			event_base_loop(s2_client_base(c), EVLOOP_ONCE);
		}
		s2_client_wait(c);
		double secs = now_s() - t0;
		uint64_t wb = wire(conn, nb) - w0;
		uint64_t payload = (uint64_t)len * nb;
		for (unsigned i = 0; i < nb; i++) {
			double s = t_end[i] - t0;
			printf("%-5s board %u: %s %.1f MiB in %.3f s = %.1f MiB/s (%.0f Mbit/s); "
			       "blocks %llu sent %llu retransmits %llu dup %llu bad %llu sacks "
			       "%llu "
			       "timeouts %llu zlib %llu\n",
			       what[dir], i, op[i].status ? s2_strerror(op[i].status) : "ok",
			       (double)len / 1048576.0, s, (double)len / 1048576.0 / s,
			       (double)len * 8 / 1e6 / s, (unsigned long long)st[i].blocks,
			       (unsigned long long)st[i].blocks_sent,
			       (unsigned long long)st[i].retransmits,
			       (unsigned long long)st[i].duplicates,
			       (unsigned long long)st[i].bad_blocks,
			       (unsigned long long)st[i].sacks, (unsigned long long)st[i].timeouts,
			       (unsigned long long)st[i].compressed);
			if (op[i].status)
				status = 1;
		}
		printf("%-5s total  : %u board(s) %.1f MiB in %.3f s = %.1f MiB/s (%.0f Mbit/s); "
		       "efficiency %.2f%% (payload %llu / wire %llu bytes, s2 headers included, "
		       "UDP/IP headers excluded)\n",
		       what[dir], nb, (double)payload / 1048576.0, secs,
		       (double)payload / 1048576.0 / secs, (double)payload * 8 / 1e6 / secs,
		       100.0 * (double)payload / (double)wb, (unsigned long long)payload,
		       (unsigned long long)wb);
		free(t_end);
	}
	for (unsigned i = 0; i < nb; i++) {
		if (memcmp(src[i], dst[i], len) != 0) {
			printf("board %u: read-back differs\n", i);
			status = 1;
		}
		free(src[i]);
		free(dst[i]);
	}
	printf("%s\n", status ? "FAILED" : "read-back byte-exact on every board");
	free(src);
	free(dst);
	free(op);
	free(st);
	free(conn);
	s2_client_free(c);
	s2_machine_free(m);
	return status;
}
