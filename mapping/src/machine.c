/*
 * s2 machine model (mapping/include/s2/machine.h, docs/machine.md).
 *
 * In memory: per board its endpoint and grid position; per chip one byte of flags and one
 * byte of dead-link bits, and a dead-PE bitmap of ceil(pes/8) bytes; a board-grid table maps
 * grid positions back to boards. Dead state is dense here and sparse in the description.
 */
#include "s2/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s2/error.h"
#include "s2/fileio.h"
#include "s2pb/machine.pb-c.h"

#define FORMAT_VERSION 1u
#define FILE_MAX (256u << 20)
#define NO_BOARD UINT32_MAX
#define FILE_KIND S2_SFILE_KIND('M', 'A', 'C', 'H')
#define FILE_VERSION 1u

/* The hardware numbers of brief section 2. The one place they live. */
static const struct s2_machine_defaults DEFAULTS = {
        .board_width = 8,
        .board_height = 6,
        .eth_chip = 0,
        .pes = 152,
        .monitor_pe = 0,
        .sram_per_pe = 128u * 1024u,
        .dram_bytes = 2ull << 30,
        .router_entries = 16384,
        /* Brief section 2: per-PE performance levels, 150 MHz at 0.5 V and 300 MHz at 0.8 V
         * (Höppner et al. 2019, arXiv:1903.08941); the energy model runs PEs at the high
         * level (docs/energy.md, pl), so the real-time budget does too. */
        .pe_mhz = 300,
        .rack_width = 10,
        .rack_height = 9,
        .link_dx = {1, 1, 0, -1, -1, 0},
        .link_dy = {0, 1, 1, 0, -1, -1},
        .link_name = {"E", "NE", "N", "W", "SW", "S"},
};

const struct s2_machine_defaults *s2_machine_defaults(void)
{
	return &DEFAULTS;
}

enum { CHIP_DEAD = 1u };

struct board {
	struct s2_board_endpoint ep;
	unsigned rack, gx, gy;
};

struct s2_machine {
	char *name;
	unsigned bw, bh; /* chips per board across / up */
	unsigned eth_chip;
	struct s2_chip_resources res;
	int dx[S2_MACHINE_LINKS], dy[S2_MACHINE_LINKS];
	char link_name[S2_MACHINE_LINKS][8];
	unsigned opposite[S2_MACHINE_LINKS];
	unsigned gw, gh; /* board grid */
	bool wrap;
	unsigned per_rack;
	unsigned n_boards;
	struct board *boards;
	uint32_t *grid;      /* gw * gh board indices, NO_BOARD where empty */
	uint8_t *chip_flags; /* n_boards * chips */
	uint8_t *link_dead;  /* n_boards * chips, bit l = link l */
	uint8_t *pe_dead;    /* n_boards * chips * pe_bytes */
	unsigned pe_bytes;
};

static unsigned chips_of(const struct s2_machine *m)
{
	return m->bw * m->bh;
}

static size_t chip_id(const struct s2_machine *m, unsigned b, unsigned c)
{
	return (size_t)b * chips_of(m) + c;
}

static bool chip_ok(const struct s2_machine *m, unsigned b, unsigned c)
{
	return b < m->n_boards && c < chips_of(m);
}

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen, const char *fmt,
                                                         ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- construction ------------------------------------------------------------------- */

/* Allocate the per-board and per-chip arrays once shape fields are set. */
static int alloc_arrays(struct s2_machine *m)
{
	size_t chips = (size_t)m->n_boards * chips_of(m);
	m->pe_bytes = (m->res.pes + 7) / 8;
	m->boards = calloc(m->n_boards, sizeof *m->boards);
	m->grid = malloc((size_t)m->gw * m->gh * sizeof *m->grid);
	m->chip_flags = calloc(chips, 1);
	m->link_dead = calloc(chips, 1);
	m->pe_dead = calloc(chips, m->pe_bytes);
	if (!m->boards || !m->grid || !m->chip_flags || !m->link_dead || !m->pe_dead)
		return S2_E_NOMEM;
	for (size_t i = 0; i < (size_t)m->gw * m->gh; i++)
		m->grid[i] = NO_BOARD;
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++)
		m->opposite[l] = (l + S2_MACHINE_LINKS / 2) % S2_MACHINE_LINKS;
	return 0;
}

static void set_standard_chip(struct s2_machine *m)
{
	const struct s2_machine_defaults *d = &DEFAULTS;
	m->bw = d->board_width;
	m->bh = d->board_height;
	m->eth_chip = d->eth_chip;
	m->res.pes = d->pes;
	m->res.monitor_pe = d->monitor_pe;
	m->res.sram_per_pe = d->sram_per_pe;
	m->res.dram_bytes = d->dram_bytes;
	m->res.router_entries = d->router_entries;
	m->res.pe_mhz = d->pe_mhz;
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
		m->dx[l] = d->link_dx[l];
		m->dy[l] = d->link_dy[l];
		snprintf(m->link_name[l], sizeof m->link_name[l], "%s", d->link_name[l]);
	}
	m->wrap = true;
}

static void set_ports(struct s2_machine *m, const char *host, uint16_t base_port)
{
	for (unsigned b = 0; b < m->n_boards; b++) {
		uint32_t eth = base_port ? base_port + 2u * b : 0, bmp = base_port ? eth + 1 : 0;
		if (eth > 65535 || bmp > 65535)
			eth = bmp = 0;
		s2_machine_set_board_endpoint(m, b, host ? host : "127.0.0.1", (uint16_t)eth,
		                              (uint16_t)bmp);
	}
}

struct s2_machine *s2_machine_new_boards(unsigned n, const char *host, uint16_t base_port)
{
	if (n == 0 || n > S2_MACHINE_MAX_BOARDS)
		return NULL;
	struct s2_machine *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	set_standard_chip(m);
	/* Most square w x h == n with w >= h. */
	unsigned h = 1;
	for (unsigned k = 1; (unsigned long)k * k <= n; k++)
		if (n % k == 0)
			h = k;
	m->gw = n / h;
	m->gh = h;
	m->n_boards = n;
	m->per_rack = DEFAULTS.rack_width * DEFAULTS.rack_height;
	char name[48];
	snprintf(name, sizeof name, "%u-board", n);
	m->name = strdup(name);
	if (!m->name || alloc_arrays(m) < 0)
		goto fail;
	for (unsigned b = 0; b < n; b++) {
		m->boards[b].gx = b % m->gw;
		m->boards[b].gy = b / m->gw;
		m->boards[b].rack = b / m->per_rack;
		m->grid[b] = b;
	}
	set_ports(m, host, base_port);
	return m;
fail:
	s2_machine_free(m);
	return NULL;
}

struct s2_machine *s2_machine_new_racks(unsigned racks, const char *host, uint16_t base_port)
{
	const unsigned rw = DEFAULTS.rack_width, rh = DEFAULTS.rack_height;
	if (racks == 0 || (unsigned long)racks * rw * rh > S2_MACHINE_MAX_BOARDS)
		return NULL;
	struct s2_machine *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	set_standard_chip(m);
	m->gw = racks * rw;
	m->gh = rh;
	m->per_rack = rw * rh;
	m->n_boards = racks * m->per_rack;
	char name[48];
	snprintf(name, sizeof name, "%u-rack", racks);
	m->name = strdup(name);
	if (!m->name || alloc_arrays(m) < 0)
		goto fail;
	for (unsigned b = 0; b < m->n_boards; b++) {
		unsigned r = b / m->per_rack, i = b % m->per_rack;
		m->boards[b].rack = r;
		m->boards[b].gx = r * rw + i % rw;
		m->boards[b].gy = i / rw;
		m->grid[(size_t)m->boards[b].gy * m->gw + m->boards[b].gx] = b;
	}
	set_ports(m, host, base_port);
	return m;
fail:
	s2_machine_free(m);
	return NULL;
}

void s2_machine_free(struct s2_machine *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->boards);
	free(m->grid);
	free(m->chip_flags);
	free(m->link_dead);
	free(m->pe_dead);
	free(m);
}

struct s2_machine *s2_machine_subset(const struct s2_machine *m, const unsigned *boards, unsigned k,
                                     char *err, size_t errlen)
{
	if (k == 0 || k > m->n_boards) {
		seterr(err, errlen, "%u boards asked of a machine of %u", k, m->n_boards);
		return NULL;
	}
	for (unsigned i = 0; i < k; i++) {
		if (boards[i] >= m->n_boards) {
			seterr(err, errlen, "board %u: the machine has boards 0-%u", boards[i],
			       m->n_boards - 1);
			return NULL;
		}
		for (unsigned j = 0; j < i; j++)
			if (boards[j] == boards[i]) {
				seterr(err, errlen, "board %u named twice", boards[i]);
				return NULL;
			}
	}
	struct s2_machine *s = calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	*s = *m;
	s->name = NULL;
	s->boards = NULL;
	s->grid = NULL;
	s->chip_flags = s->link_dead = s->pe_dead = NULL;
	s->n_boards = k;
	s->name = strdup(m->name);
	if (!s->name || alloc_arrays(s) < 0)
		goto nomem;
	size_t chips = chips_of(m);
	for (unsigned i = 0; i < k; i++) {
		unsigned b = boards[i];
		s->boards[i] = m->boards[b];
		s->grid[(size_t)m->boards[b].gy * m->gw + m->boards[b].gx] = i;
		memcpy(s->chip_flags + i * chips, m->chip_flags + b * chips, chips);
		memcpy(s->link_dead + i * chips, m->link_dead + b * chips, chips);
		memcpy(s->pe_dead + i * chips * m->pe_bytes, m->pe_dead + b * chips * m->pe_bytes,
		       chips * m->pe_bytes);
	}
	return s;
nomem:
	s2_machine_free(s);
	seterr(err, errlen, "out of memory");
	return NULL;
}

static void *dup_mem(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

struct s2_machine *s2_machine_clone(const struct s2_machine *m)
{
	struct s2_machine *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	*c = *m;
	size_t chips = (size_t)m->n_boards * chips_of(m);
	c->name = strdup(m->name);
	c->boards = dup_mem(m->boards, m->n_boards * sizeof *m->boards);
	c->grid = dup_mem(m->grid, (size_t)m->gw * m->gh * sizeof *m->grid);
	c->chip_flags = dup_mem(m->chip_flags, chips);
	c->link_dead = dup_mem(m->link_dead, chips);
	c->pe_dead = dup_mem(m->pe_dead, chips * m->pe_bytes);
	if (!c->name || !c->boards || !c->grid || !c->chip_flags || !c->link_dead || !c->pe_dead) {
		s2_machine_free(c);
		return NULL;
	}
	return c;
}

/* ---- shape ---------------------------------------------------------------------------- */

unsigned s2_machine_boards(const struct s2_machine *m)
{
	return m->n_boards;
}

unsigned s2_machine_racks(const struct s2_machine *m)
{
	unsigned r = 0;
	for (unsigned b = 0; b < m->n_boards; b++)
		if (m->boards[b].rack + 1 > r)
			r = m->boards[b].rack + 1;
	return r;
}

unsigned s2_machine_boards_per_rack(const struct s2_machine *m)
{
	return m->per_rack;
}

unsigned s2_machine_chips_per_board(const struct s2_machine *m)
{
	return chips_of(m);
}

unsigned s2_machine_board_width(const struct s2_machine *m)
{
	return m->bw;
}

unsigned s2_machine_board_height(const struct s2_machine *m)
{
	return m->bh;
}

unsigned s2_machine_pes_per_chip(const struct s2_machine *m)
{
	return m->res.pes;
}

unsigned s2_machine_eth_chip(const struct s2_machine *m)
{
	return m->eth_chip;
}

void s2_machine_chip_resources(const struct s2_machine *m, struct s2_chip_resources *r)
{
	*r = m->res;
}

void s2_machine_set_dram(struct s2_machine *m, uint64_t bytes)
{
	m->res.dram_bytes = bytes;
}

void s2_machine_set_pe_mhz(struct s2_machine *m, uint32_t mhz)
{
	m->res.pe_mhz = mhz;
}

const char *s2_machine_name(const struct s2_machine *m)
{
	return m->name;
}

bool s2_machine_wraps(const struct s2_machine *m)
{
	return m->wrap;
}

unsigned s2_machine_width(const struct s2_machine *m)
{
	return m->gw * m->bw;
}

unsigned s2_machine_height(const struct s2_machine *m)
{
	return m->gh * m->bh;
}

uint64_t s2_machine_total_chips(const struct s2_machine *m)
{
	return (uint64_t)m->n_boards * chips_of(m);
}

uint64_t s2_machine_total_pes(const struct s2_machine *m)
{
	return s2_machine_total_chips(m) * m->res.pes;
}

/* ---- boards --------------------------------------------------------------------------- */

void s2_machine_board_endpoint(const struct s2_machine *m, unsigned b, struct s2_board_endpoint *ep)
{
	if (b < m->n_boards)
		*ep = m->boards[b].ep;
	else
		memset(ep, 0, sizeof *ep);
}

int s2_machine_set_board_endpoint(struct s2_machine *m, unsigned b, const char *host,
                                  uint16_t eth_port, uint16_t bmp_port)
{
	if (b >= m->n_boards || !host || strlen(host) >= S2_MACHINE_HOST_MAX)
		return S2_E_INVAL;
	struct s2_board_endpoint *ep = &m->boards[b].ep;
	memmove(ep->host, host, strlen(host) + 1);
	ep->eth_port = eth_port;
	ep->bmp_port = bmp_port;
	return 0;
}

unsigned s2_machine_board_rack(const struct s2_machine *m, unsigned b)
{
	return b < m->n_boards ? m->boards[b].rack : 0;
}

void s2_machine_board_pos(const struct s2_machine *m, unsigned b, unsigned *gx, unsigned *gy)
{
	*gx = b < m->n_boards ? m->boards[b].gx : 0;
	*gy = b < m->n_boards ? m->boards[b].gy : 0;
}

/* ---- coordinates, links, distance ----------------------------------------------------- */

void s2_machine_chip_xy(const struct s2_machine *m, unsigned b, unsigned c, unsigned *x,
                        unsigned *y)
{
	if (!chip_ok(m, b, c)) {
		*x = *y = 0;
		return;
	}
	*x = m->boards[b].gx * m->bw + c % m->bw;
	*y = m->boards[b].gy * m->bh + c / m->bw;
}

bool s2_machine_chip_at(const struct s2_machine *m, unsigned x, unsigned y, unsigned *b,
                        unsigned *c)
{
	if (x >= s2_machine_width(m) || y >= s2_machine_height(m))
		return false;
	uint32_t bi = m->grid[(size_t)(y / m->bh) * m->gw + x / m->bw];
	if (bi == NO_BOARD)
		return false;
	*b = bi;
	*c = (y % m->bh) * m->bw + x % m->bw;
	return true;
}

bool s2_machine_neighbour(const struct s2_machine *m, unsigned b, unsigned c, unsigned l,
                          unsigned *nb, unsigned *nc)
{
	if (!chip_ok(m, b, c) || l >= S2_MACHINE_LINKS)
		return false;
	unsigned x, y;
	s2_machine_chip_xy(m, b, c, &x, &y);
	long w = (long)s2_machine_width(m), h = (long)s2_machine_height(m);
	long nx = (long)x + m->dx[l], ny = (long)y + m->dy[l];
	if (m->wrap) {
		nx = ((nx % w) + w) % w;
		ny = ((ny % h) + h) % h;
	} else if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
		return false;
	}
	return s2_machine_chip_at(m, (unsigned)nx, (unsigned)ny, nb, nc);
}

unsigned s2_machine_link_opposite(const struct s2_machine *m, unsigned l)
{
	return m->opposite[l % S2_MACHINE_LINKS];
}

const char *s2_machine_link_name(const struct s2_machine *m, unsigned l)
{
	return l < S2_MACHINE_LINKS ? m->link_name[l] : "?";
}

/* Hops for an offset on the hexagonal mesh with links (+-1,0), (0,+-1), +-(1,1). */
static unsigned hex_hops(long dx, long dy)
{
	long ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
	if ((dx >= 0) == (dy >= 0))
		return (unsigned)(ax > ay ? ax : ay);
	return (unsigned)(ax + ay);
}

unsigned s2_machine_hops(const struct s2_machine *m, unsigned b1, unsigned c1, unsigned b2,
                         unsigned c2)
{
	unsigned x1, y1, x2, y2;
	s2_machine_chip_xy(m, b1, c1, &x1, &y1);
	s2_machine_chip_xy(m, b2, c2, &x2, &y2);
	long dx = (long)x2 - x1, dy = (long)y2 - y1;
	if (!m->wrap)
		return hex_hops(dx, dy);
	long w = (long)s2_machine_width(m), h = (long)s2_machine_height(m);
	unsigned best = UINT32_MAX;
	for (int i = -1; i <= 1; i++)
		for (int j = -1; j <= 1; j++) {
			unsigned d = hex_hops(dx + i * w, dy + j * h);
			if (d < best)
				best = d;
		}
	return best;
}

/* ---- dead state ----------------------------------------------------------------------- */

bool s2_machine_chip_dead(const struct s2_machine *m, unsigned b, unsigned c)
{
	return chip_ok(m, b, c) && (m->chip_flags[chip_id(m, b, c)] & CHIP_DEAD);
}

bool s2_machine_pe_dead(const struct s2_machine *m, unsigned b, unsigned c, unsigned pe)
{
	if (!chip_ok(m, b, c) || pe >= m->res.pes)
		return false;
	return (m->pe_dead[chip_id(m, b, c) * m->pe_bytes + pe / 8] >> (pe % 8)) & 1u;
}

bool s2_machine_link_dead(const struct s2_machine *m, unsigned b, unsigned c, unsigned l)
{
	if (!chip_ok(m, b, c) || l >= S2_MACHINE_LINKS)
		return false;
	return (m->link_dead[chip_id(m, b, c)] >> l) & 1u;
}

void s2_machine_mark_chip_dead(struct s2_machine *m, unsigned b, unsigned c)
{
	if (chip_ok(m, b, c))
		m->chip_flags[chip_id(m, b, c)] |= CHIP_DEAD;
}

void s2_machine_mark_pe_dead(struct s2_machine *m, unsigned b, unsigned c, unsigned pe)
{
	if (chip_ok(m, b, c) && pe < m->res.pes)
		m->pe_dead[chip_id(m, b, c) * m->pe_bytes + pe / 8] |= (uint8_t)(1u << (pe % 8));
}

void s2_machine_mark_link_dead(struct s2_machine *m, unsigned b, unsigned c, unsigned l)
{
	if (!chip_ok(m, b, c) || l >= S2_MACHINE_LINKS)
		return;
	m->link_dead[chip_id(m, b, c)] |= (uint8_t)(1u << l);
	unsigned nb, nc;
	if (s2_machine_neighbour(m, b, c, l, &nb, &nc))
		m->link_dead[chip_id(m, nb, nc)] |= (uint8_t)(1u << m->opposite[l]);
}

unsigned s2_machine_count_dead_chips(const struct s2_machine *m)
{
	unsigned n = 0;
	for (size_t i = 0; i < s2_machine_total_chips(m); i++)
		n += m->chip_flags[i] & CHIP_DEAD;
	return n;
}

unsigned s2_machine_count_dead_pes(const struct s2_machine *m)
{
	unsigned n = 0;
	size_t bytes = s2_machine_total_chips(m) * m->pe_bytes;
	for (size_t i = 0; i < bytes; i++)
		n += (unsigned)__builtin_popcount(m->pe_dead[i]);
	return n;
}

/* A link's canonical end: the end with the lower chip id (or lower link, for a self-loop). */
static bool canonical_end(const struct s2_machine *m, unsigned b, unsigned c, unsigned l)
{
	unsigned nb, nc;
	if (!s2_machine_neighbour(m, b, c, l, &nb, &nc))
		return true;
	size_t me = chip_id(m, b, c), far = chip_id(m, nb, nc);
	if (me != far)
		return me < far;
	return l < m->opposite[l];
}

unsigned s2_machine_count_dead_links(const struct s2_machine *m)
{
	unsigned n = 0;
	for (unsigned b = 0; b < m->n_boards; b++)
		for (unsigned c = 0; c < chips_of(m); c++) {
			uint8_t bits = m->link_dead[chip_id(m, b, c)];
			for (unsigned l = 0; bits && l < S2_MACHINE_LINKS; l++)
				if ((bits >> l) & 1u && canonical_end(m, b, c, l))
					n++;
		}
	return n;
}

/* ---- description files ---------------------------------------------------------------- */

int s2_machine_encode(const struct s2_machine *m, uint8_t **out, size_t *len)
{
	int rc = S2_E_NOMEM;
	S2pb__Machine pm = S2PB__MACHINE__INIT;
	S2pb__ChipResources res = S2PB__CHIP_RESOURCES__INIT;
	S2pb__LinkDir dirs[S2_MACHINE_LINKS], *pdirs[S2_MACHINE_LINKS];
	S2pb__Board *boards = NULL, **pboards = NULL;
	S2pb__DeadChip *dc = NULL, **pdc = NULL;
	S2pb__DeadPe *dp = NULL, **pdp = NULL;
	S2pb__DeadLink *dl = NULL, **pdl = NULL;
	uint8_t *buf = NULL;
	size_t ndc = s2_machine_count_dead_chips(m), ndp = s2_machine_count_dead_pes(m),
	       ndl = s2_machine_count_dead_links(m);

	pm.format = FORMAT_VERSION;
	pm.name = m->name;
	pm.board_width = m->bw;
	pm.board_height = m->bh;
	pm.eth_chip = m->eth_chip;
	res.pes = m->res.pes;
	res.sram_per_pe = m->res.sram_per_pe;
	res.dram_bytes = m->res.dram_bytes;
	res.router_entries = m->res.router_entries;
	/* the default as 0, so that a standard machine's description keeps its bytes */
	res.pe_mhz = m->res.pe_mhz == DEFAULTS.pe_mhz ? 0 : m->res.pe_mhz;
	res.monitor_pe = m->res.monitor_pe;
	pm.chip = &res;
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
		s2pb__link_dir__init(&dirs[l]);
		dirs[l].dx = m->dx[l];
		dirs[l].dy = m->dy[l];
		dirs[l].name = (char *)m->link_name[l];
		pdirs[l] = &dirs[l];
	}
	pm.n_links = S2_MACHINE_LINKS;
	pm.links = pdirs;
	pm.grid_width = m->gw;
	pm.grid_height = m->gh;
	pm.wrap = m->wrap;
	pm.boards_per_rack = m->per_rack;

	boards = calloc(m->n_boards, sizeof *boards);
	pboards = calloc(m->n_boards, sizeof *pboards);
	dc = calloc(ndc + 1, sizeof *dc);
	pdc = calloc(ndc + 1, sizeof *pdc);
	dp = calloc(ndp + 1, sizeof *dp);
	pdp = calloc(ndp + 1, sizeof *pdp);
	dl = calloc(ndl + 1, sizeof *dl);
	pdl = calloc(ndl + 1, sizeof *pdl);
	if (!boards || !pboards || !dc || !pdc || !dp || !pdp || !dl || !pdl)
		goto out;
	for (unsigned b = 0; b < m->n_boards; b++) {
		s2pb__board__init(&boards[b]);
		boards[b].rack = m->boards[b].rack;
		boards[b].grid_x = m->boards[b].gx;
		boards[b].grid_y = m->boards[b].gy;
		boards[b].host = (char *)m->boards[b].ep.host;
		boards[b].eth_port = m->boards[b].ep.eth_port;
		boards[b].bmp_port = m->boards[b].ep.bmp_port;
		pboards[b] = &boards[b];
		for (unsigned c = 0; c < chips_of(m); c++) {
			if (s2_machine_chip_dead(m, b, c)) {
				S2pb__DeadChip *d = &dc[pm.n_dead_chips];
				s2pb__dead_chip__init(d);
				d->board = b;
				d->chip = c;
				pdc[pm.n_dead_chips++] = d;
			}
			for (unsigned p = 0; p < m->res.pes; p++) {
				if (!s2_machine_pe_dead(m, b, c, p))
					continue;
				S2pb__DeadPe *d = &dp[pm.n_dead_pes];
				s2pb__dead_pe__init(d);
				d->board = b;
				d->chip = c;
				d->pe = p;
				pdp[pm.n_dead_pes++] = d;
			}
			for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
				if (!s2_machine_link_dead(m, b, c, l) || !canonical_end(m, b, c, l))
					continue;
				S2pb__DeadLink *d = &dl[pm.n_dead_links];
				s2pb__dead_link__init(d);
				d->board = b;
				d->chip = c;
				d->link = l;
				pdl[pm.n_dead_links++] = d;
			}
		}
	}
	pm.n_boards = m->n_boards;
	pm.boards = pboards;
	pm.dead_chips = pdc;
	pm.dead_pes = pdp;
	pm.dead_links = pdl;

	size_t n = s2pb__machine__get_packed_size(&pm);
	buf = malloc(n ? n : 1);
	if (!buf)
		goto out;
	*len = s2pb__machine__pack(&pm, buf);
	*out = buf;
	rc = 0;
out:
	free(boards);
	free(pboards);
	free(dc);
	free(pdc);
	free(dp);
	free(pdp);
	free(dl);
	free(pdl);
	return rc;
}

/* A host name (RFC 1123 labels) or an IPv4 dotted quad or an IPv6 literal. */
static bool valid_host(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n >= S2_MACHINE_HOST_MAX)
		return false;
	if (strchr(h, ':')) { /* IPv6 literal: hex digits, ':' and '.' (embedded IPv4) */
		for (const char *p = h; *p; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return false;
		return true;
	}
	bool numeric = true;
	for (const char *p = h; *p; p++)
		numeric &= (*p >= '0' && *p <= '9') || *p == '.';
	if (numeric) {
		unsigned parts = 0, v = 0, digits = 0;
		for (const char *p = h;; p++) {
			if (*p == '.' || !*p) {
				if (!digits || v > 255)
					return false;
				parts++;
				v = digits = 0;
				if (!*p)
					break;
			} else {
				v = v * 10 + (unsigned)(*p - '0');
				if (++digits > 3)
					return false;
			}
		}
		return parts == 4;
	}
	size_t label = 0;
	for (const char *p = h;; p++) {
		if (*p == '.' || !*p) {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
			if (!*p)
				break;
			continue;
		}
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		          (*p >= '0' && *p <= '9') || (*p == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return true;
}

/* One board's endpoint: ports in range and distinct, host valid (may be empty only while
 * both ports are 0, "not known yet"). */
static int check_endpoint(const S2pb__Board *pb, unsigned b, char *err, size_t errlen)
{
	if (pb->eth_port > 65535 || pb->bmp_port > 65535) {
		bool eth = pb->eth_port > 65535;
		seterr(err, errlen, "board %u: field %s: %u is not a port (0-65535)", b,
		       eth ? "eth_port" : "bmp_port", eth ? pb->eth_port : pb->bmp_port);
		return S2_E_RANGE;
	}
	if (pb->eth_port && pb->eth_port == pb->bmp_port) {
		seterr(err, errlen, "board %u: field bmp_port: %u is also the board's eth_port", b,
		       pb->bmp_port);
		return S2_E_RANGE;
	}
	const char *host = pb->host ? pb->host : "";
	if (!host[0] && !pb->eth_port && !pb->bmp_port)
		return 0;
	if (!valid_host(host)) {
		seterr(err, errlen,
		       "board %u: field host: '%.64s' is not an IPv4 address, IPv6 address or host "
		       "name",
		       b, host);
		return S2_E_RANGE;
	}
	return 0;
}

struct ep_key {
	const char *host;
	uint16_t port;
	unsigned board;
	bool bmp;
};

static int ep_cmp(const void *a, const void *b)
{
	const struct ep_key *x = a, *y = b;
	int c = strcmp(x->host, y->host);
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->board < y->board ? -1 : x->board > y->board;
}

/* No two boards at one host and port (ports 0 are unknown, not compared). */
static int check_duplicates(const struct s2_machine *m, char *err, size_t errlen)
{
	struct ep_key *k = malloc(2 * (size_t)m->n_boards * sizeof *k);
	if (!k) {
		seterr(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	size_t n = 0;
	for (unsigned b = 0; b < m->n_boards; b++) {
		const struct s2_board_endpoint *ep = &m->boards[b].ep;
		if (ep->eth_port)
			k[n++] = (struct ep_key){ep->host, ep->eth_port, b, false};
		if (ep->bmp_port)
			k[n++] = (struct ep_key){ep->host, ep->bmp_port, b, true};
	}
	qsort(k, n, sizeof *k, ep_cmp);
	int rc = 0;
	for (size_t i = 1; i < n; i++)
		if (k[i].port == k[i - 1].port && !strcmp(k[i].host, k[i - 1].host)) {
			seterr(err, errlen, "board %u: field %s: %s:%u is also board %u's %s",
			       k[i].board, k[i].bmp ? "bmp_port" : "eth_port", k[i].host, k[i].port,
			       k[i - 1].board, k[i - 1].bmp ? "bmp_port" : "eth_port");
			rc = S2_E_RANGE;
			break;
		}
	free(k);
	return rc;
}

/* Check a decoded description; build the machine. */
static struct s2_machine *from_pb(const S2pb__Machine *pm, char *err, size_t errlen)
{
	if (pm->format != FORMAT_VERSION) {
		seterr(err, errlen, "format: version %u is not supported (this is %u)", pm->format,
		       FORMAT_VERSION);
		return NULL;
	}
	if (pm->board_width == 0 || pm->board_height == 0 ||
	    (uint64_t)pm->board_width * pm->board_height > S2_MACHINE_MAX_BOARD_CHIPS) {
		seterr(err, errlen, "board_width x board_height: %u x %u chips is not 1-%u chips",
		       pm->board_width, pm->board_height, S2_MACHINE_MAX_BOARD_CHIPS);
		return NULL;
	}
	uint32_t chips = pm->board_width * pm->board_height;
	if (pm->eth_chip >= chips) {
		seterr(err, errlen, "eth_chip: %u is not a chip of a %u-chip board", pm->eth_chip,
		       chips);
		return NULL;
	}
	const S2pb__ChipResources *r = pm->chip;
	if (!r || r->pes == 0 || r->pes > S2_MACHINE_MAX_PES || r->monitor_pe >= r->pes) {
		seterr(err, errlen, "chip: PEs per chip must be 1-%u and monitor_pe one of them",
		       S2_MACHINE_MAX_PES);
		return NULL;
	}
	if (pm->n_links != S2_MACHINE_LINKS) {
		seterr(err, errlen, "links: %zu link directions given, %u needed", pm->n_links,
		       S2_MACHINE_LINKS);
		return NULL;
	}
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
		const S2pb__LinkDir *a = pm->links[l], *o = pm->links[(l + 3) % S2_MACHINE_LINKS];
		if (a->dx < -1 || a->dx > 1 || a->dy < -1 || a->dy > 1 ||
		    (a->dx == 0 && a->dy == 0) || o->dx != -a->dx || o->dy != -a->dy) {
			seterr(err, errlen,
			       "links[%u]: (%d, %d) is not a unit step whose opposite is links[%u]",
			       l, a->dx, a->dy, (l + 3) % S2_MACHINE_LINKS);
			return NULL;
		}
	}
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
		const char *nm = pm->links[l]->name ? pm->links[l]->name : "";
		bool dup = false;
		for (unsigned k = 0; k < l; k++)
			dup |= pm->links[k]->name && !strcmp(pm->links[k]->name, nm);
		if (!nm[0] || strlen(nm) >= sizeof((struct s2_machine *)0)->link_name[0] || dup) {
			seterr(err, errlen, "links[%u]: field name: '%.16s' is %s", l, nm,
			       dup ? "the name of another link" : "not 1-7 characters");
			return NULL;
		}
	}
	if (pm->n_boards == 0 || pm->n_boards > S2_MACHINE_MAX_BOARDS) {
		seterr(err, errlen, "boards: %zu boards is not 1-%u", pm->n_boards,
		       S2_MACHINE_MAX_BOARDS);
		return NULL;
	}
	if (pm->grid_width == 0 || pm->grid_height == 0 ||
	    (uint64_t)pm->grid_width * pm->grid_height > 4ull * S2_MACHINE_MAX_BOARDS ||
	    (uint64_t)pm->grid_width * pm->board_width > 1u << 20 ||
	    (uint64_t)pm->grid_height * pm->board_height > 1u << 20) {
		seterr(err, errlen, "grid_width x grid_height: %u x %u is not a usable board grid",
		       pm->grid_width, pm->grid_height);
		return NULL;
	}
	if (pm->boards_per_rack == 0) {
		seterr(err, errlen, "boards_per_rack: must not be 0");
		return NULL;
	}

	struct s2_machine *m = calloc(1, sizeof *m);
	if (!m)
		goto nomem;
	m->name = strdup(pm->name ? pm->name : "");
	m->bw = pm->board_width;
	m->bh = pm->board_height;
	m->eth_chip = pm->eth_chip;
	m->res.pes = r->pes;
	m->res.monitor_pe = r->monitor_pe;
	m->res.sram_per_pe = r->sram_per_pe;
	m->res.dram_bytes = r->dram_bytes;
	m->res.router_entries = r->router_entries;
	/* 0: a description written before the field, whose machines run at the default */
	m->res.pe_mhz = r->pe_mhz ? r->pe_mhz : DEFAULTS.pe_mhz;
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
		m->dx[l] = pm->links[l]->dx;
		m->dy[l] = pm->links[l]->dy;
		snprintf(m->link_name[l], sizeof m->link_name[l], "%s",
		         pm->links[l]->name ? pm->links[l]->name : "");
	}
	m->gw = pm->grid_width;
	m->gh = pm->grid_height;
	m->wrap = pm->wrap;
	m->per_rack = pm->boards_per_rack;
	m->n_boards = (unsigned)pm->n_boards;
	if (!m->name || alloc_arrays(m) < 0)
		goto nomem;
	for (unsigned b = 0; b < m->n_boards; b++) {
		const S2pb__Board *pb = pm->boards[b];
		if (pb->grid_x >= m->gw || pb->grid_y >= m->gh) {
			seterr(err, errlen,
			       "board %u: field grid_x/grid_y: (%u, %u) is outside the %u x %u "
			       "grid",
			       b, pb->grid_x, pb->grid_y, m->gw, m->gh);
			goto fail;
		}
		uint32_t *slot = &m->grid[(size_t)pb->grid_y * m->gw + pb->grid_x];
		if (*slot != NO_BOARD) {
			seterr(err, errlen,
			       "board %u: field grid_x/grid_y: (%u, %u) is taken by board %u", b,
			       pb->grid_x, pb->grid_y, *slot);
			goto fail;
		}
		if (check_endpoint(pb, b, err, errlen) < 0)
			goto fail;
		const char *host = pb->host ? pb->host : "";
		if (s2_machine_set_board_endpoint(m, b, host, (uint16_t)pb->eth_port,
		                                  (uint16_t)pb->bmp_port) < 0) {
			seterr(err, errlen, "board %u: field host: longer than %u bytes", b,
			       S2_MACHINE_HOST_MAX - 1);
			goto fail;
		}
		if (pb->rack >= pm->n_boards) {
			seterr(err, errlen, "board %u: field rack: %u is more racks than boards", b,
			       pb->rack);
			goto fail;
		}
		*slot = b;
		m->boards[b].gx = pb->grid_x;
		m->boards[b].gy = pb->grid_y;
		m->boards[b].rack = pb->rack;
	}
	if (check_duplicates(m, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < pm->n_dead_chips; i++) {
		const S2pb__DeadChip *d = pm->dead_chips[i];
		if (!chip_ok(m, d->board, d->chip)) {
			seterr(err, errlen, "dead_chips[%zu]: board %u chip %u does not exist", i,
			       d->board, d->chip);
			goto fail;
		}
		s2_machine_mark_chip_dead(m, d->board, d->chip);
	}
	for (size_t i = 0; i < pm->n_dead_pes; i++) {
		const S2pb__DeadPe *d = pm->dead_pes[i];
		if (!chip_ok(m, d->board, d->chip) || d->pe >= m->res.pes) {
			seterr(err, errlen, "dead_pes[%zu]: board %u chip %u PE %u does not exist",
			       i, d->board, d->chip, d->pe);
			goto fail;
		}
		s2_machine_mark_pe_dead(m, d->board, d->chip, d->pe);
	}
	for (size_t i = 0; i < pm->n_dead_links; i++) {
		const S2pb__DeadLink *d = pm->dead_links[i];
		if (!chip_ok(m, d->board, d->chip) || d->link >= S2_MACHINE_LINKS) {
			seterr(err, errlen,
			       "dead_links[%zu]: board %u chip %u link %u does not exist", i,
			       d->board, d->chip, d->link);
			goto fail;
		}
		s2_machine_mark_link_dead(m, d->board, d->chip, d->link);
	}
	return m;
nomem:
	seterr(err, errlen, "out of memory");
fail:
	s2_machine_free(m);
	return NULL;
}

struct s2_machine *s2_machine_decode(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	S2pb__Machine *pm = s2pb__machine__unpack(NULL, len, buf);
	if (!pm) {
		seterr(err, errlen, "not a valid protobuf Machine message (%zu bytes)", len);
		return NULL;
	}
	struct s2_machine *m = from_pb(pm, err, errlen);
	s2pb__machine__free_unpacked(pm, NULL);
	return m;
}

/* Section names of the description file: the top-level fields of Machine. */
static void pb_part(uint32_t field, unsigned nth, char *name, size_t n)
{
	switch (field) {
	case 12:
		snprintf(name, n, "board %u", nth);
		break;
	case 13:
		snprintf(name, n, "dead chips");
		break;
	case 14:
		snprintf(name, n, "dead PEs");
		break;
	case 15:
		snprintf(name, n, "dead links");
		break;
	default:
		snprintf(name, n, "machine");
	}
}

int s2_machine_encode_file(const struct s2_machine *m, uint8_t **out, size_t *len)
{
	uint8_t *pb;
	size_t n;
	int rc = s2_machine_encode(m, &pb, &n);
	if (rc < 0)
		return rc;
	struct s2_file_w *w = s2_file_w_new(FILE_KIND, FILE_VERSION);
	rc = w ? s2_file_w_protobuf(w, pb, n, pb_part) : S2_E_NOMEM;
	if (rc == 0)
		rc = s2_file_w_finish(w, out, len);
	s2_file_w_free(w);
	free(pb);
	return rc;
}

struct s2_machine *s2_machine_decode_file(const uint8_t *buf, size_t len, const char *name,
                                          char *err, size_t errlen)
{
	struct s2_sfile f;
	if (!s2_sfile_is(buf, len)) {
		seterr(err, errlen,
		       "%s: not an s2 machine description (no S2FC header; a description from "
		       "before format 1 of the container is a bare protobuf: generate it again)",
		       name);
		return NULL;
	}
	if (s2_file_check(buf, len, FILE_KIND, FILE_VERSION, name, &f, err, errlen) < 0)
		return NULL;
	char why[256];
	struct s2_machine *m = s2_machine_decode(f.content, (size_t)f.content_len, why, sizeof why);
	if (!m)
		seterr(err, errlen, "%s: %s", name, why);
	return m;
}

struct s2_machine *s2_machine_load_file(const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (s2_file_read_all(path, FILE_MAX, &buf, &len, err, errlen) < 0)
		return NULL;
	struct s2_machine *m = s2_machine_decode_file(buf, len, path, err, errlen);
	free(buf);
	return m;
}

int s2_machine_save_file(const struct s2_machine *m, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (s2_machine_encode_file(m, &buf, &len) < 0) {
		seterr(err, errlen, "%s: out of memory encoding the description", path);
		return S2_E_NOMEM;
	}
	/* Never write a description that reading would refuse (a bad --host, say). */
	struct s2_machine *back = s2_machine_decode_file(buf, len, path, err, errlen);
	if (!back) {
		free(buf);
		return S2_E_INVAL;
	}
	s2_machine_free(back);
	int rc = s2_file_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}
