/*
 * Machine model: generators, coordinates, links, hop distance, dead state, description
 * round trip and the checks on untrusted descriptions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "s2/error.h"
#include "cmocka_runner.h"
#include "s2/machine.h"
#include "s2/sfile.h"
#include "s2pb/machine.pb-c.h"

static void t_one_board(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(1, "127.0.0.1", 20000);
	assert_non_null(m);
	assert_int_equal(s2_machine_boards(m), 1);
	assert_int_equal(s2_machine_chips_per_board(m), 48);
	assert_int_equal(s2_machine_pes_per_chip(m), 152);
	assert_int_equal(s2_machine_total_pes(m), 48 * 152);
	struct s2_chip_resources r;
	s2_machine_chip_resources(m, &r);
	assert_int_equal(r.sram_per_pe, 128 * 1024);
	assert_true(r.dram_bytes == 2ull << 30);
	assert_int_equal(r.router_entries, 16384);
	assert_int_equal(r.monitor_pe, 0);
	struct s2_board_endpoint ep;
	s2_machine_board_endpoint(m, 0, &ep);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_int_equal(ep.eth_port, 20000);
	assert_int_equal(ep.bmp_port, 20001);
	s2_machine_free(m);
}

static void t_shapes(void **state)
{
	(void)state;
	struct {
		unsigned n, w, h;
	} cases[] = {{1, 8, 6}, {2, 16, 6}, {4, 16, 12}, {6, 24, 12}, {7, 56, 6}, {90, 80, 54}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct s2_machine *m = s2_machine_new_boards(cases[i].n, "h", 0);
		assert_non_null(m);
		assert_int_equal(s2_machine_width(m), cases[i].w);
		assert_int_equal(s2_machine_height(m), cases[i].h);
		s2_machine_free(m);
	}
	assert_null(s2_machine_new_boards(0, "h", 0));

	struct s2_machine *rack = s2_machine_new_racks(1, "h", 0);
	assert_int_equal(s2_machine_boards(rack), 90);
	assert_int_equal(s2_machine_total_chips(rack), 4320);
	assert_int_equal(s2_machine_total_pes(rack), 656640);
	assert_int_equal(s2_machine_racks(rack), 1);
	s2_machine_free(rack);

	struct s2_machine *big = s2_machine_new_racks(8, "h", 0);
	assert_int_equal(s2_machine_boards(big), 720);
	assert_int_equal(s2_machine_racks(big), 8);
	assert_int_equal(s2_machine_total_pes(big), 5253120);
	assert_int_equal(s2_machine_board_rack(big, 95), 1);
	unsigned gx, gy;
	s2_machine_board_pos(big, 95, &gx, &gy);
	assert_int_equal(gx, 15); /* rack 1 starts at x 10; board 5 of it */
	assert_int_equal(gy, 0);
	s2_machine_free(big);
}

static void t_coordinates(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "h", 0); /* 2 x 2 boards */
	unsigned x, y, b, c;
	s2_machine_chip_xy(m, 3, 9, &x, &y); /* board (1,1), chip (1,1) */
	assert_int_equal(x, 9);
	assert_int_equal(y, 7);
	assert_true(s2_machine_chip_at(m, 9, 7, &b, &c));
	assert_int_equal(b, 3);
	assert_int_equal(c, 9);
	assert_false(s2_machine_chip_at(m, 16, 0, &b, &c));
	/* Every chip maps back to itself. */
	for (b = 0; b < 4; b++)
		for (c = 0; c < 48; c++) {
			unsigned b2, c2;
			s2_machine_chip_xy(m, b, c, &x, &y);
			assert_true(s2_machine_chip_at(m, x, y, &b2, &c2));
			assert_int_equal(b2, b);
			assert_int_equal(c2, c);
		}
	s2_machine_free(m);
}

static void t_links(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(2, "h", 0); /* 16 x 6 chips */
	unsigned nb, nc;
	/* Chip 20 = (4,2): NE is (5,3) = chip 29 on the same board. */
	assert_true(s2_machine_neighbour(m, 0, 20, 1, &nb, &nc));
	assert_int_equal(nb, 0);
	assert_int_equal(nc, 29);
	/* East edge of board 0 leads to board 1. */
	assert_true(s2_machine_neighbour(m, 0, 7, 0, &nb, &nc));
	assert_int_equal(nb, 1);
	assert_int_equal(nc, 0);
	/* West edge of board 0 wraps around the torus to board 1's east edge. */
	assert_true(s2_machine_neighbour(m, 0, 0, 3, &nb, &nc));
	assert_int_equal(nb, 1);
	assert_int_equal(nc, 7);
	/* South of row 0 wraps to row 5. */
	assert_true(s2_machine_neighbour(m, 0, 2, 5, &nb, &nc));
	assert_int_equal(nb, 0);
	assert_int_equal(nc, 42);
	/* Every link leads back through its opposite. */
	for (unsigned b = 0; b < 2; b++)
		for (unsigned c = 0; c < 48; c++)
			for (unsigned l = 0; l < 6; l++) {
				unsigned bb, cc;
				assert_true(s2_machine_neighbour(m, b, c, l, &nb, &nc));
				assert_true(s2_machine_neighbour(
				        m, nb, nc, s2_machine_link_opposite(m, l), &bb, &cc));
				assert_int_equal(bb, b);
				assert_int_equal(cc, c);
			}
	assert_false(s2_machine_neighbour(m, 0, 48, 0, &nb, &nc));
	assert_false(s2_machine_neighbour(m, 0, 0, 6, &nb, &nc));
	assert_string_equal(s2_machine_link_name(m, 1), "NE");
	s2_machine_free(m);
}

/* Breadth-first hop counts from (b, c) over the link geometry, for cross-checking. */
static void bfs(const struct s2_machine *m, unsigned b, unsigned c, unsigned *dist)
{
	unsigned chips = s2_machine_chips_per_board(m), n = s2_machine_boards(m) * chips;
	unsigned *q = malloc(n * sizeof *q), head = 0, tail = 0;
	for (unsigned i = 0; i < n; i++)
		dist[i] = UINT32_MAX;
	dist[b * chips + c] = 0;
	q[tail++] = b * chips + c;
	while (head < tail) {
		unsigned id = q[head++];
		for (unsigned l = 0; l < 6; l++) {
			unsigned nb, nc;
			if (!s2_machine_neighbour(m, id / chips, id % chips, l, &nb, &nc))
				continue;
			unsigned nid = nb * chips + nc;
			if (dist[nid] == UINT32_MAX) {
				dist[nid] = dist[id] + 1;
				q[tail++] = nid;
			}
		}
	}
	free(q);
}

static void t_hops_match_bfs(void **state)
{
	(void)state;
	unsigned sizes[] = {1, 3, 4};
	for (size_t s = 0; s < 3; s++) {
		struct s2_machine *m = s2_machine_new_boards(sizes[s], "h", 0);
		unsigned chips = 48, n = sizes[s] * chips;
		unsigned *dist = malloc(n * sizeof *dist);
		for (unsigned src = 0; src < n; src += 7) {
			bfs(m, src / chips, src % chips, dist);
			for (unsigned d = 0; d < n; d++)
				assert_int_equal(s2_machine_hops(m, src / chips, src % chips,
				                                 d / chips, d % chips),
				                 dist[d]);
		}
		free(dist);
		s2_machine_free(m);
	}
}

static void t_dead(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(2, "h", 0);
	s2_machine_mark_chip_dead(m, 0, 5);
	s2_machine_mark_pe_dead(m, 1, 40, 151);
	s2_machine_mark_pe_dead(m, 1, 40, 151); /* twice: still one */
	s2_machine_mark_link_dead(m, 1, 20, 1);
	s2_machine_mark_pe_dead(m, 1, 40, 152); /* out of range: ignored */
	s2_machine_mark_chip_dead(m, 2, 0);     /* out of range: ignored */
	assert_true(s2_machine_chip_dead(m, 0, 5));
	assert_false(s2_machine_chip_dead(m, 0, 6));
	assert_true(s2_machine_pe_dead(m, 1, 40, 151));
	assert_false(s2_machine_pe_dead(m, 1, 40, 150));
	assert_true(s2_machine_link_dead(m, 1, 20, 1));
	assert_true(s2_machine_link_dead(m, 1, 29, 4)); /* the far end */
	assert_false(s2_machine_link_dead(m, 1, 20, 0));
	assert_int_equal(s2_machine_count_dead_chips(m), 1);
	assert_int_equal(s2_machine_count_dead_pes(m), 1);
	assert_int_equal(s2_machine_count_dead_links(m), 1);

	struct s2_machine *c = s2_machine_clone(m);
	s2_machine_mark_chip_dead(c, 1, 1);
	assert_false(s2_machine_chip_dead(m, 1, 1)); /* a deep copy */
	assert_true(s2_machine_link_dead(c, 1, 29, 4));
	s2_machine_free(c);
	s2_machine_free(m);
}

static void t_round_trip(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_racks(1, "10.0.0.1", 30000);
	s2_machine_mark_chip_dead(m, 89, 47);
	s2_machine_mark_pe_dead(m, 3, 0, 0);
	s2_machine_mark_link_dead(m, 0, 0, 3); /* crosses to board 9 */
	s2_machine_set_board_endpoint(m, 7, "board7.example", 17, 18);
	char path[1024];
	int fd = s2t_mkstemp(path, sizeof path, "s2machine");
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	assert_int_equal(s2_machine_save_file(m, path, err, sizeof err), 0);
	struct s2_machine *l = s2_machine_load_file(path, err, sizeof err);
	unlink(path);
	assert_non_null(l);
	assert_int_equal(s2_machine_boards(l), 90);
	assert_int_equal(s2_machine_width(l), 80);
	assert_true(s2_machine_chip_dead(l, 89, 47));
	assert_true(s2_machine_pe_dead(l, 3, 0, 0));
	assert_true(s2_machine_link_dead(l, 0, 0, 3));
	unsigned nb, nc;
	assert_true(s2_machine_neighbour(l, 0, 0, 3, &nb, &nc));
	assert_int_equal(nb, 9);
	assert_true(s2_machine_link_dead(l, nb, nc, 0));
	assert_int_equal(s2_machine_count_dead_links(l), 1);
	struct s2_board_endpoint ep;
	s2_machine_board_endpoint(l, 7, &ep);
	assert_string_equal(ep.host, "board7.example");
	assert_int_equal(ep.eth_port, 17);
	s2_machine_board_endpoint(l, 8, &ep);
	assert_int_equal(ep.eth_port, 30016);
	/* Encoding is deterministic: the reloaded machine encodes to the same bytes. */
	uint8_t *a, *b;
	size_t al, bl;
	assert_int_equal(s2_machine_encode(m, &a, &al), 0);
	assert_int_equal(s2_machine_encode(l, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	free(a);
	free(b);
	s2_machine_free(l);
	s2_machine_free(m);
}

/* Encode m, let `edit` break the protobuf, decode: must fail naming `want`. */
static void expect_reject(void (*edit)(S2pb__Machine *), const char *want)
{
	struct s2_machine *m = s2_machine_new_boards(2, "h", 1000);
	s2_machine_mark_chip_dead(m, 1, 1);
	uint8_t *buf;
	size_t len;
	assert_int_equal(s2_machine_encode(m, &buf, &len), 0);
	S2pb__Machine *pm = s2pb__machine__unpack(NULL, len, buf);
	assert_non_null(pm);
	size_t n_links = pm->n_links, n_boards = pm->n_boards; /* edits may shrink these */
	edit(pm);
	size_t n = s2pb__machine__get_packed_size(pm);
	uint8_t *out = malloc(n + 1);
	s2pb__machine__pack(pm, out);
	char err[256] = "";
	struct s2_machine *d = s2_machine_decode(out, n, err, sizeof err);
	if (d || !strstr(err, want))
		fail_msg("want rejection naming '%s', got %s '%s'", want, d ? "success" : "error",
		         err);
	pm->n_links = n_links;
	pm->n_boards = n_boards;
	s2pb__machine__free_unpacked(pm, NULL);
	free(out);
	free(buf);
	s2_machine_free(m);
}

static void e_format(S2pb__Machine *p)
{
	p->format = 9;
}
static void e_width(S2pb__Machine *p)
{
	p->board_width = 0;
}
static void e_eth(S2pb__Machine *p)
{
	p->eth_chip = 48;
}
static void e_pes(S2pb__Machine *p)
{
	p->chip->pes = 5000;
}
static void e_links(S2pb__Machine *p)
{
	p->n_links = 5;
}
static void e_link_dir(S2pb__Machine *p)
{
	p->links[1]->dx = 2;
}
static void e_board_pos(S2pb__Machine *p)
{
	p->boards[1]->grid_x = 5;
}
static void e_board_dup(S2pb__Machine *p)
{
	p->boards[1]->grid_x = 0;
}
static void e_port(S2pb__Machine *p)
{
	p->boards[0]->eth_port = 70000;
}
static void e_dead_chip(S2pb__Machine *p)
{
	p->dead_chips[0]->chip = 48;
}
static void e_no_boards(S2pb__Machine *p)
{
	p->n_boards = 0;
}
static void e_host(S2pb__Machine *p)
{
	p->boards[1]->host[0] = '!'; /* "h" -> "!" (the bit flip of '1' in 127.0.0.1 gives '!') */
}
static void e_dup_endpoint(S2pb__Machine *p)
{
	p->boards[1]->eth_port = p->boards[0]->eth_port;
}
static void e_same_ports(S2pb__Machine *p)
{
	p->boards[0]->bmp_port = p->boards[0]->eth_port;
}
static void e_link_name(S2pb__Machine *p)
{
	p->links[3]->name[0] = 'E'; /* "W" -> "E", the name of links[0] */
}
static void e_rack(S2pb__Machine *p)
{
	p->boards[1]->rack = 7;
}

static void t_rejects(void **state)
{
	(void)state;
	expect_reject(e_format, "format");
	expect_reject(e_width, "board_width");
	expect_reject(e_eth, "eth_chip");
	expect_reject(e_pes, "chip");
	expect_reject(e_links, "links");
	expect_reject(e_link_dir, "links[1]");
	expect_reject(e_board_pos, "board 1: field grid_x/grid_y: (5, 0) is outside");
	expect_reject(e_board_dup, "board 1: field grid_x/grid_y: (0, 0) is taken by board 0");
	expect_reject(e_port, "board 0: field eth_port: 70000 is not a port");
	expect_reject(e_host, "board 1: field host: '!' is not an IPv4 address");
	expect_reject(e_dup_endpoint, "board 1: field eth_port: h:1000 is also board 0's eth_port");
	expect_reject(e_same_ports, "board 0: field bmp_port: 1000 is also the board's eth_port");
	expect_reject(e_link_name, "links[3]: field name: 'E' is the name of another link");
	expect_reject(e_rack, "board 1: field rack: 7");
	expect_reject(e_dead_chip, "dead_chips[0]");
	expect_reject(e_no_boards, "boards");
	char err[256];
	const uint8_t junk[] = {0xff, 0xff, 0xff};
	assert_null(s2_machine_decode(junk, sizeof junk, err, sizeof err));
	assert_non_null(strstr(err, "protobuf"));
	assert_null(s2_machine_load_file("/nonexistent/m.pb", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/m.pb"));
}

static void expect_host(const char *host, bool ok)
{
	struct s2_machine *m = s2_machine_new_boards(1, host, 1000);
	uint8_t *buf;
	size_t len;
	char err[256] = "";
	assert_int_equal(s2_machine_encode(m, &buf, &len), 0);
	struct s2_machine *d = s2_machine_decode(buf, len, err, sizeof err);
	if (!d == ok)
		fail_msg("host '%s': want %s, got '%s'", host, ok ? "accepted" : "refused", err);
	s2_machine_free(d);
	s2_machine_free(m);
	free(buf);
}

static void t_hosts(void **state)
{
	(void)state;
	expect_host("127.0.0.1", true);
	expect_host("board-7.rack2.example.org", true);
	expect_host("::1", true);
	expect_host("fe80::1:2", true);
	expect_host("localhost", true);
	expect_host("!27.0.0.1", false);
	expect_host("127.0.0.256", false);
	expect_host("127.0.0", false);
	expect_host("127..0.1", false);
	expect_host("-board", false);
	expect_host("board-", false);
	expect_host("bo ard", false);
	expect_host("a.b_c", false);
	/* what reading refuses is never written */
	struct s2_machine *m = s2_machine_new_boards(1, "bad host", 1000);
	char path[1024], err[256];
	int fd = s2t_mkstemp(path, sizeof path, "s2badhost");
	close(fd);
	unlink(path);
	assert_int_equal(s2_machine_save_file(m, path, err, sizeof err), S2_E_INVAL);
	assert_non_null(strstr(err, "board 0: field host: 'bad host'"));
	assert_int_not_equal(access(path, F_OK), 0);
	s2_machine_free(m);
}

/* The description file: container round trip, damage named by section. */
static void t_file(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "127.0.0.1", 4000);
	s2_machine_mark_chip_dead(m, 2, 5);
	s2_machine_mark_pe_dead(m, 1, 3, 7);
	s2_machine_mark_link_dead(m, 0, 0, 1);
	uint8_t *buf, *pb;
	size_t len, pl;
	char err[256] = "";
	assert_int_equal(s2_machine_encode_file(m, &buf, &len), 0);
	assert_int_equal(s2_machine_encode(m, &pb, &pl), 0);
	struct s2_sfile f;
	assert_int_equal(s2_sfile_verify(buf, len, 0, 1, &f, NULL), 0);
	/* The sections concatenated are the protobuf message. */
	assert_int_equal(f.content_len, pl);
	assert_memory_equal(f.content, pb, pl);
	const char *want[] = {"machine", "board 0",    "board 1",  "board 2",
	                      "board 3", "dead chips", "dead PEs", "dead links"};
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec sec;
	unsigned i = 0;
	uint64_t board2_at = 0;
	while (s2_sfile_next(&f, &it, &sec)) {
		assert_true(i < 8);
		assert_true(s2_sfile_sec_is(&sec, want[i]));
		if (i == 3)
			board2_at = (uint64_t)(sec.data - buf);
		i++;
	}
	assert_int_equal(i, 8);
	struct s2_machine *d = s2_machine_decode_file(buf, len, "m.pb", err, sizeof err);
	assert_non_null(d);
	s2_machine_free(d);
	buf[board2_at + 3] ^= 0x10;
	assert_null(s2_machine_decode_file(buf, len, "m.pb", err, sizeof err));
	assert_string_equal(err, "m.pb: section 'board 2' fails its checksum");
	buf[board2_at + 3] ^= 0x10;
	assert_null(s2_machine_decode_file(buf, len - 10, "m.pb", err, sizeof err));
	char msg[128];
	snprintf(msg, sizeof msg, "m.pb: truncated: header says %zu bytes, file has %zu", len,
	         len - 10);
	assert_string_equal(err, msg);
	/* A bare protobuf (before the container) is refused, saying why. */
	assert_null(s2_machine_decode_file(pb, pl, "old.pb", err, sizeof err));
	assert_non_null(strstr(err, "old.pb: not an s2 machine description"));
	free(buf);
	free(pb);
	s2_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_one_board),      cmocka_unit_test(t_shapes),
	        cmocka_unit_test(t_coordinates),    cmocka_unit_test(t_links),
	        cmocka_unit_test(t_hops_match_bfs), cmocka_unit_test(t_dead),
	        cmocka_unit_test(t_round_trip),     cmocka_unit_test(t_rejects),
	        cmocka_unit_test(t_hosts),          cmocka_unit_test(t_file),
	};
	return cmocka_run_group_tests_name("machine", tests, NULL, NULL);
}
