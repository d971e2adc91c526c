/*
 * Mapper: each stage on small networks and machines (partition sizes, placement avoids dead
 * and monitor PEs, keys aligned and disjoint), and the property checks on the reference
 * workloads: every source's keys reach exactly the PEs of its targets through the compressed
 * tables, and compressed tables route every key as before. Plus the mapping errors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s2/error.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"

static struct s2_net *json_net(const char *text)
{
	char err[512];
	struct s2_net *n = s2_net_from_json(text, strlen(text), err, sizeof err);
	if (!n)
		fail_msg("%s", err);
	return n;
}

static const char *SMALL =
        "{\"format\": 1, \"name\": \"small\", \"timestep_ms\": 1, \"run_ms\": 100,"
        " \"populations\": ["
        "  {\"label\": \"in\", \"size\": 3000, \"model\": \"spike_source_poisson\"},"
        "  {\"label\": \"A\", \"size\": 1000, \"model\": \"lif_curr_exp\"},"
        "  {\"label\": \"B\", \"size\": 700, \"model\": \"lif_curr_exp\", \"max_per_pe\": 100}],"
        " \"projections\": ["
        "  {\"pre\": \"in\", \"post\": \"A\", \"pre_slice\": [0, 1000],"
        "   \"connector\": {\"type\": \"one_to_one\"}, \"weight\": 1},"
        "  {\"pre\": \"A\", \"post\": \"B\", \"post_slice\": [100, 300],"
        "   \"connector\": {\"type\": \"fixed_probability\", \"p\": 0.1}, \"weight\": 1},"
        "  {\"pre\": \"B\", \"post\": \"A\", \"connector\": {\"type\": \"from_list\","
        "   \"pre\": [0, 650], \"post\": [999, 3]}, \"weight\": 1}]}";

/* Every part: its first and last keys reach exactly its target PEs (what verify does, here
 * from the outside through the public API). */
static void check_delivery(struct s2_mapping *mp)
{
	size_t cap = 1 << 16;
	uint32_t *want = malloc(cap * 3 * sizeof *want), *got = malloc(cap * 3 * sizeof *got);
	for (uint64_t i = 0; i < s2_map_parts(mp); i++) {
		struct s2_part_info pi;
		s2_map_part(mp, i, &pi);
		size_t nt = s2_map_targets(mp, i, want, cap);
		if (nt == 0)
			continue;
		long n = s2_map_deliver(mp, pi.key + pi.n - 1, got, cap);
		assert_int_equal(n, (long)nt);
		for (size_t k = 0; k < nt; k++) {
			bool found = false;
			for (long q = 0; q < n && !found; q++)
				found = !memcmp(&got[3 * q], &want[3 * k], 3 * sizeof *got);
			assert_true(found);
		}
	}
	free(want);
	free(got);
}

static void t_stages(void **state)
{
	(void)state;
	struct s2_net *n = json_net(SMALL);
	struct s2_machine *m = s2_machine_new_boards(1, "h", 0);
	s2_machine_mark_chip_dead(m, 0, 0); /* the first chip of the fill order */
	s2_machine_mark_pe_dead(m, 0, 1, 1);
	struct s2_mapping *mp = s2_map_new(n, m, NULL);
	char err[512];
	assert_int_equal(s2_map_place(mp, err, sizeof err), S2_E_STATE);
	assert_int_equal(s2_map_partition(mp, err, sizeof err), 0);
	uint64_t first;
	uint32_t count, per;
	s2_map_pop_parts(mp, 0, &first, &count, &per);
	assert_int_equal(per, 128); /* Poisson: model limit */
	assert_int_equal(count, 24);
	s2_map_pop_parts(mp, 1, &first, &count, &per);
	assert_int_equal(per, 128);
	assert_int_equal(count, 8);
	s2_map_pop_parts(mp, 2, &first, &count, &per);
	assert_int_equal(per, 100); /* max_per_pe */
	assert_int_equal(count, 7);
	assert_int_equal(s2_map_parts(mp), 39);
	assert_int_equal(s2_map_place(mp, err, sizeof err), 0);
	for (uint64_t i = 0; i < s2_map_parts(mp); i++) {
		struct s2_part_info pi;
		s2_map_part(mp, i, &pi);
		assert_int_not_equal(pi.pe, 0); /* the monitor */
		assert_false(s2_machine_chip_dead(m, pi.board, pi.chip));
		assert_false(s2_machine_pe_dead(m, pi.board, pi.chip, pi.pe));
		for (uint64_t j = 0; j < i; j++) {
			struct s2_part_info pj;
			s2_map_part(mp, j, &pj);
			assert_false(pj.board == pi.board && pj.chip == pi.chip && pj.pe == pi.pe);
		}
	}
	assert_int_equal(s2_map_keys(mp, err, sizeof err), 0);
	for (uint64_t i = 0; i < s2_map_parts(mp); i++) {
		struct s2_part_info pi, pj;
		s2_map_part(mp, i, &pi);
		assert_int_equal(pi.key & ~pi.mask, 0); /* aligned */
		assert_true((uint64_t)(~pi.mask) + 1 >= pi.n);
		for (uint64_t j = 0; j < i; j++) {
			s2_map_part(mp, j, &pj);
			assert_true((pi.key & pj.mask) != pj.key && (pj.key & pi.mask) != pi.key);
		}
	}
	assert_int_equal(s2_map_report(mp)->key_mode, 0);
	assert_int_equal(s2_map_route(mp, err, sizeof err), 0);
	assert_int_equal(s2_map_tables(mp, err, sizeof err), 0);
	assert_int_equal(s2_map_verify(mp, err, sizeof err), 0);
	check_delivery(mp);
	s2_map_free(mp);
	s2_machine_free(m);
	s2_net_free(n);
}

/* Run all stages on an example; compress to `target` entries per chip. */
static const struct s2_map_report *run_example(const char *name, double scale, struct s2_machine *m,
                                               uint32_t target, struct s2_mapping **out,
                                               struct s2_net **net)
{
	char err[512];
	struct s2_net *n = s2_net_example(name, scale, err, sizeof err);
	assert_non_null(n);
	struct s2_map_config cfg = {.router_target = target};
	struct s2_mapping *mp = s2_map_new(n, m, &cfg);
	if (s2_map_run(mp, err, sizeof err) < 0)
		fail_msg("%s: %s", name, err);
	check_delivery(mp);
	*out = mp;
	*net = n;
	return s2_map_report(mp);
}

static void t_examples(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "h", 0);
	s2_machine_mark_chip_dead(m, 0, 9);
	s2_machine_mark_link_dead(m, 0, 10, 0);
	s2_machine_mark_link_dead(m, 1, 3, 2);
	const char *names[] = {"microcircuit", "vogels_abbott", "brunel", "synfire",
	                       "synthetic_board"};
	const double scales[] = {0.1, 1, 0.2, 0.05, 0.3};
	for (int i = 0; i < 5; i++) {
		struct s2_mapping *mp;
		struct s2_net *n;
		const struct s2_map_report *r = run_example(names[i], scales[i], m, 0, &mp, &n);
		assert_true(r->parts > 0);
		assert_int_equal(r->entries_before, r->entries_after); /* nothing to compress */
		s2_map_free(mp);
		s2_net_free(n);
	}
	s2_machine_free(m);
}

static void t_compression(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(1, "h", 0);
	struct s2_mapping *mp;
	struct s2_net *n;
	/* the microcircuit at 0.2 (125 PEs) on one board: compress hard, verify checks
	 * equivalence */
	const struct s2_map_report *r = run_example("microcircuit", 0.2, m, 96, &mp, &n);
	assert_true(r->chips_compressed > 0);
	assert_true(r->entries_after < r->entries_before);
	assert_true(r->max_entries_after <= 96);
	/* compressed tables: sorted, disjoint */
	struct s2_rt_entry e[128];
	for (unsigned c = 0; c < 48; c++) {
		size_t ne = s2_map_table(mp, 0, c, e, 128);
		assert_true(ne <= 96);
		for (size_t k = 1; k < ne; k++)
			assert_true((e[k].key & e[k - 1].mask) != e[k - 1].key &&
			            e[k].key > e[k - 1].key);
	}
	s2_map_free(mp);
	s2_net_free(n);
	s2_machine_free(m);
}

/* The reference workloads with tables compressed hard (as far as each can go): verify (in
 * s2_map_run) checks every compressed table against the original and every source's delivery;
 * check_delivery does the latter again from outside. */
static void t_compression_examples(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "h", 0);
	s2_machine_mark_chip_dead(m, 0, 9);
	s2_machine_mark_link_dead(m, 0, 10, 0);
	const struct {
		const char *name;
		double scale;
		uint32_t target;
	} cases[] = {{"microcircuit", 0.2, 97},
	             {"vogels_abbott", 1, 3},
	             {"brunel", 0.4, 22},
	             {"synthetic_board", 0.3, 3}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct s2_mapping *mp;
		struct s2_net *n;
		const struct s2_map_report *r =
		        run_example(cases[i].name, cases[i].scale, m, cases[i].target, &mp, &n);
		assert_true(r->chips_compressed > 0);
		assert_true(r->max_entries_after <= cases[i].target);
		s2_map_free(mp);
		s2_net_free(n);
	}
	s2_machine_free(m);
}

/* --router-target min on the reference workloads: every key of every entry of each chip's
 * uncompressed table (the same mapping without compression) routes identically through the
 * compressed, ordered table, looked up here independently of the library (first match; no
 * match: the default route, right only where the entry is exactly that); delivery is
 * checked end to end. */
static void t_min_examples(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "h", 0);
	s2_machine_mark_chip_dead(m, 0, 9);
	s2_machine_mark_link_dead(m, 0, 10, 0);
	static const unsigned opp[6] = {3, 4, 5, 0, 1, 2};
	const char *names[] = {"microcircuit", "vogels_abbott", "brunel", "synfire",
	                       "synthetic_board"};
	const double scales[] = {0.1, 1, 0.2, 0.05, 0.3};
	size_t cap = 20000;
	struct s2_rt_entry *raw = malloc(cap * sizeof *raw), *cmp = malloc(cap * sizeof *cmp);
	assert_non_null(raw);
	assert_non_null(cmp);
	for (int i = 0; i < 5; i++) {
		char err[512];
		struct s2_net *n = s2_net_example(names[i], scales[i], err, sizeof err);
		assert_non_null(n);
		struct s2_map_config c0 = {0}, c1 = {.router_min = true};
		struct s2_mapping *m0 = s2_map_new(n, m, &c0), *m1 = s2_map_new(n, m, &c1);
		assert_int_equal(s2_map_run(m0, err, sizeof err), 0);
		if (s2_map_run(m1, err, sizeof err) < 0)
			fail_msg("%s: %s", names[i], err);
		check_delivery(m1);
		const struct s2_map_report *r0 = s2_map_report(m0), *r1 = s2_map_report(m1);
		assert_int_equal(r0->entries_before, r1->entries_before);
		uint64_t keys = 0;
		for (unsigned b = 0; b < 4; b++)
			for (unsigned c = 0; c < 48; c++) {
				size_t n0 = s2_map_table(m0, b, c, raw, cap);
				size_t n1 = s2_map_table(m1, b, c, cmp, cap);
				assert_true(n0 <= cap && n1 <= n0);
				for (size_t k = 0; k < n0; k++) {
					const struct s2_rt_entry *o = &raw[k];
					for (uint64_t key = o->key; key <= (o->key | ~o->mask);
					     key++) {
						const struct s2_rt_entry *e = NULL;
						for (size_t j = 0; j < n1 && !e; j++)
							if (((uint32_t)key & cmp[j].mask) ==
							    cmp[j].key)
								e = &cmp[j];
						struct s2_route got = {{0}};
						if (e)
							got = e->route;
						else if (o->in < 6)
							got.w[0] = 1u << opp[o->in];
						if (memcmp(&got, &o->route, sizeof got))
							fail_msg("%s chip (%u, %u): key 0x%08x "
							         "routes "
							         "differently",
							         names[i], b, c, (unsigned)key);
						keys++;
					}
				}
			}
		assert_true(keys > 0);
		printf("# %s: %llu entries, %llu after min, %llu keys checked\n", names[i],
		       (unsigned long long)r1->entries_before,
		       (unsigned long long)r1->entries_after, (unsigned long long)keys);
		s2_map_free(m0);
		s2_map_free(m1);
		s2_net_free(n);
	}
	free(raw);
	free(cmp);
	s2_machine_free(m);
}

/* Placement: the traffic order (--place traffic) against population order (--place order),
 * and the default (auto), which keeps the one with fewer router hops per spike as routed: on
 * the reference workloads it never gives more hops than either, its report names the one it
 * kept and the other's hops, and the same inputs give the same placement. */
static void t_fine_place(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "h", 0);
	const char *names[] = {"microcircuit", "brunel", "synfire", "synthetic_board"};
	const double scales[] = {1, 0.2, 0.05, 1};
	for (int i = 0; i < 4; i++) {
		char err[512];
		struct s2_net *n = s2_net_example(names[i], scales[i], err, sizeof err);
		assert_non_null(n);
		struct s2_map_config c0 = {.no_verify = true, .place_order = true},
		                     c1 = {.fine_place = true}, ca = {0};
		struct s2_mapping *m0 = s2_map_new(n, m, &c0), *m1 = s2_map_new(n, m, &c1),
		                  *m2 = s2_map_new(n, m, &c1), *ma = s2_map_new(n, m, &ca);
		assert_int_equal(s2_map_run(m0, err, sizeof err), 0);
		assert_int_equal(s2_map_run(m1, err, sizeof err), 0);
		assert_int_equal(s2_map_run(m2, err, sizeof err), 0);
		assert_int_equal(s2_map_run(ma, err, sizeof err), 0);
		const struct s2_map_report *r0 = s2_map_report(m0), *r1 = s2_map_report(m1),
		                           *ra = s2_map_report(ma);
		printf("# %s: hops per spike %.4f in population order, %.4f in traffic order, "
		       "%.4f by default (%s); busiest link %.4g, %.4g, %.4g\n",
		       names[i], r0->hops_mean, r1->hops_mean, ra->hops_mean,
		       ra->placed_by_traffic ? "traffic" : "population", r0->busiest_link_load,
		       r1->busiest_link_load, ra->busiest_link_load);
		assert_false(r0->placed_by_traffic);
		assert_true(r0->hops_mean_other < 0 && r1->hops_mean_other < 0);
		/* the default never loses to either, and is one of them */
		double lo = r0->hops_mean < r1->hops_mean ? r0->hops_mean : r1->hops_mean;
		assert_true(ra->hops_mean <= lo * (1 + 1e-9) + 1e-12);
		const struct s2_map_report *kept = ra->placed_by_traffic ? r1 : r0;
		assert_true(fabs(ra->hops_mean - kept->hops_mean) <= 1e-9 * (1 + kept->hops_mean));
		assert_true(ra->busiest_link_load == kept->busiest_link_load);
		if (r1->placed_by_traffic) /* both were tried: the other's hops are reported */
			assert_true(fabs(ra->hops_mean_other -
			                 (ra->placed_by_traffic ? r0 : r1)->hops_mean) <=
			            1e-9 * (1 + ra->hops_mean_other));
		for (uint64_t q = 0; q < s2_map_parts(m1); q++) {
			struct s2_part_info a, b, c;
			s2_map_part(m1, q, &a);
			s2_map_part(m2, q, &b);
			assert_true(a.board == b.board && a.chip == b.chip && a.pe == b.pe &&
			            a.key == b.key);
			s2_map_part(ra->placed_by_traffic ? m1 : m0, q, &b);
			s2_map_part(ma, q, &c);
			assert_true(c.board == b.board && c.chip == b.chip && c.pe == b.pe &&
			            c.key == b.key);
		}
		s2_map_free(m0);
		s2_map_free(m1);
		s2_map_free(m2);
		s2_map_free(ma);
		s2_net_free(n);
	}
	s2_machine_free(m);
}

static void t_errors(void **state)
{
	(void)state;
	char err[512];
	struct s2_machine *m = s2_machine_new_boards(1, "h", 0);
	/* too large */
	struct s2_net *n = s2_net_example("synthetic_board", 1.1, err, sizeof err);
	struct s2_mapping *mp = s2_map_new(n, m, NULL);
	assert_int_equal(s2_map_run(mp, err, sizeof err), S2_E_NOSPACE);
	assert_non_null(strstr(err, "network too large for machine 1-board: it needs"));
	s2_map_free(mp);
	s2_net_free(n);
	/* keys exhausted: a 12-bit key space for 39 parts of 128 keys each */
	n = json_net(SMALL);
	struct s2_map_config kcfg = {.key_bits = 12};
	mp = s2_map_new(n, m, &kcfg);
	assert_int_equal(s2_map_run(mp, err, sizeof err), S2_E_NOSPACE);
	assert_non_null(strstr(err, "keys exhausted"));
	s2_map_free(mp);
	s2_net_free(n);
	/* with 13 bits the keys fit packed without chip alignment or with it */
	n = json_net(SMALL);
	kcfg.key_bits = 13;
	mp = s2_map_new(n, m, &kcfg);
	assert_int_equal(s2_map_run(mp, err, sizeof err), 0);
	assert_true(s2_map_report(mp)->key_span <= 8192);
	s2_map_free(mp);
	s2_net_free(n);
	/* tables cannot fit */
	n = s2_net_example("microcircuit", 0.1, err, sizeof err);
	struct s2_map_config cfg = {.router_target = 2};
	mp = s2_map_new(n, m, &cfg);
	assert_int_equal(s2_map_run(mp, err, sizeof err), S2_E_NOSPACE);
	assert_non_null(strstr(err, "cannot fit"));
	s2_map_free(mp);
	s2_net_free(n);
	/* no live route: only chips 0 and 1 live, 30 PEs each, the link between them dead */
	n = json_net(SMALL);
	struct s2_machine *cut = s2_machine_new_boards(1, "h", 0);
	for (unsigned c = 2; c < 48; c++)
		s2_machine_mark_chip_dead(cut, 0, c);
	for (unsigned pe = 31; pe < 152; pe++) {
		s2_machine_mark_pe_dead(cut, 0, 0, pe);
		s2_machine_mark_pe_dead(cut, 0, 1, pe);
	}
	s2_machine_mark_link_dead(cut, 0, 0, 0);
	/* in population order, a projection crosses the dead link (fine placement happens to
	 * keep this small network's traffic on each chip) */
	mp = s2_map_new(n, cut, NULL);
	assert_int_equal(s2_map_run(mp, err, sizeof err), S2_E_DEAD);
	assert_non_null(strstr(err, "no live path from chip"));
	s2_map_free(mp);
	s2_machine_free(cut);
	/* a neuron bigger than a PE */
	s2_net_free(n);
	n = json_net("{\"format\": 1, \"timestep_ms\": 1, \"run_ms\": 10, \"populations\": ["
	             "{\"label\": \"big\", \"size\": 1, \"model\": \"spike_source_array\","
	             " \"spike_times\": [["
	             "0,1,2,3,4,5,6,7,8,9]]}]}");
	mp = s2_map_new(n, m, NULL);
	assert_int_equal(s2_map_run(mp, err, sizeof err), 0);
	s2_map_free(mp);
	s2_net_free(n);
	s2_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_stages),       cmocka_unit_test(t_examples),
	        cmocka_unit_test(t_compression),  cmocka_unit_test(t_compression_examples),
	        cmocka_unit_test(t_min_examples), cmocka_unit_test(t_fine_place),
	        cmocka_unit_test(t_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
