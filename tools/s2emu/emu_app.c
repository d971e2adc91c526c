/*
 * Applications in the emulator (protocol 4.15, docs/s2emu.md "Applications"): the firmware
 * engine (firmware/engine, the host build of the same source as on Cortex-M4F) on every
 * loaded PE, multicast routing through the router tables the host loaded, and the
 * machine-wide timestep.
 *
 * All boards of this process that have an application advance in lockstep: a step ticks
 * every loaded PE of every running board, then routes every spike sent in it through the
 * routers (table lookup; no entry: straight on, as the default route, or dropped at the
 * source chip), so spikes sent in step t are in their targets' rings before step t + 1.
 * Boards start together: a board that is armed waits until every board with a loaded
 * application in this process is armed (the emulator's sync signal).
 */
#include "emu_app.h"
#include "emu_fault.h"

#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "emu_geo.h"
#include "engine.h"
#include "emu_link.h"
#include "emu_live.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/wire.h"

#define NO_LINK 0xFFu
#define HOP_LIMIT 1024u

struct rt_entry {
	uint32_t key, mask, route[S2_RT_ROUTE_WORDS];
};

/* A packet routed to a PE in the current step, delivered (s2_eng_receive) after routing. */
struct dlv {
	uint32_t key, payload;
	bool has_payload;
	uint64_t ord; /* the source's place in machine order */
};

/* What routing one packet found: a delivery to PE `board` of chip q, or a crossing to chip
 * `chip` of board `board` of another process over link `in` (from board p). */
struct rres {
	uint8_t kind, has_payload, in, chip;
	uint16_t board;
	uint8_t bucket; /* RR_PE: the gather bucket of the target PE */
	uint32_t key, payload;
	void *p, *q;
	uint64_t ord;
};
enum { RR_PE, RR_LINK };

/* A packet sent by the PE in the current step. */
struct sent {
	uint32_t key, payload;
	uint8_t flags;
};
enum { SENT_PAYLOAD = 1, SENT_ROUTE = 2 };

struct pe_app {
	struct s2_eng eng;
	uint8_t *blob;
	struct emu_board *board;
	struct emu_chip *chip;
	uint16_t pe;
	/* The PE's DRAM area [fast_lo, fast_hi) in one host mapping (emu_mem_reserve), read
	 * without the page tables; NULL: through them. */
	const uint8_t *fast;
	uint64_t fast_lo, fast_hi;
	uint64_t fast_used; /* the end of what the PE wrote there (its expansion) */
	uint32_t rec_addr[2], rec_size[2], rec_len[2];
	uint32_t rec_hdr; /* the regions' header (APP_LOAD): S2_REC_HDR_LEN, _V2 or _V1 */
	uint64_t clip[S2_REC_CLIPS]; /* the clipping counters last written to the header */
	/* The current step: what the PE sent (filled by the thread ticking it, routed in machine
	 * order), and the packets routed to it (in routing order, delivered after routing). */
	struct sent *out;
	uint32_t n_out, cap_out;
	struct dlv *in;
	uint32_t n_in, cap_in;
	struct rres *rr; /* what routing its packets found, to apply in machine order */
	uint32_t n_rr, cap_rr;
};

struct emu_app_chip {
	struct rt_entry *rt;
	uint32_t *rt_keys; /* [n_rt]: the entries' keys, searched apart for fewer cache misses */
	uint32_t n_rt;
	bool rt_ordered;    /* entries overlap: the first match wins, as in the router's TCAM */
	struct pe_app **pe; /* [pes] */
	unsigned n_loaded;
	uint64_t routed; /* packets through this chip's router */
};

static struct event *step_ev;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- the engine's hardware layer ---------------------------------------------------------- */

static int pe_dram_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct pe_app *a = ctx;
	if (addr >= a->fast_lo && addr < a->fast_hi && len <= a->fast_hi - addr) {
		memcpy(dst, a->fast + (addr - a->fast_lo), len);
		return 0;
	}
	return emu_mem_read(&a->chip->dram, addr, dst, len);
}

static const void *pe_dram_peek(void *ctx, uint32_t addr, uint32_t len)
{
	struct pe_app *a = ctx;
	if (addr >= a->fast_lo && addr < a->fast_hi && len <= a->fast_hi - addr)
		return a->fast + (addr - a->fast_lo);
	return emu_mem_peek(&a->chip->dram, addr, len);
}

static int pe_dram_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct pe_app *a = ctx;
	if (addr >= a->fast_lo && addr < a->fast_hi && (uint64_t)addr + len > a->fast_used)
		a->fast_used = (uint64_t)addr + len;
	return emu_mem_write(&a->chip->dram, addr, src, len);
}

/*
 * Called by the thread ticking the PE: the packet joins the PE's list of the step, to be
 * routed (and shown to live streams) in machine order once every PE has ticked.
 */
static void pe_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	struct pe_app *c = ctx;
	/* With no targets, nowhere to go (not a packet, not a drop): only live streams see it. */
	bool routed = !(c->eng.pd.flags & S2_PD_F_NO_TARGETS);
	if (!routed && !c->board->live)
		return;
	if (c->n_out == c->cap_out) {
		uint32_t cap = c->cap_out ? 2 * c->cap_out : 256;
		struct sent *q = realloc(c->out, cap * sizeof *q);
		if (!q) { /* out of memory: the spike is lost, and counted */
			__atomic_fetch_add(&c->board->app.packets_dropped, 1, __ATOMIC_RELAXED);
			return;
		}
		c->out = q;
		c->cap_out = cap;
	}
	c->out[c->n_out++] =
	        (struct sent){key, payload ? *payload : 0,
	                      (uint8_t)((payload ? SENT_PAYLOAD : 0) | (routed ? SENT_ROUTE : 0))};
}

/* The PE's clipping counters into the header of its spike region (rec_hdr bytes), when
 * they changed. */
static void pe_clips(struct pe_app *a)
{
	const struct s2_eng_counters *c = &a->eng.c;
	const struct s2_pl_counters *pc = &a->eng.pl.c;
	uint64_t v[S2_REC_CLIPS] = {[S2_CLIP_INPUT] = c->ring_saturated,
	                            [S2_CLIP_WZERO] = c->weights_zero,
	                            [S2_CLIP_WMAX] = c->weights_clipped,
	                            [S2_CLIP_DELAY] = c->delays_clamped,
	                            [S2_CLIP_PLASTIC] =
	                                    pc->zero + pc->clipped + pc->hist_lost + pc->queue_full,
	                            [S2_CLIP_PL_ZERO] = pc->zero,
	                            [S2_CLIP_PL_CLIPPED] = pc->clipped,
	                            [S2_CLIP_PL_HIST] = pc->hist_lost,
	                            [S2_CLIP_PL_QUEUE] = pc->queue_full,
	                            [S2_CLIP_OVERRUN] = c->steps_over,
	                            [S2_CLIP_WORST] = c->worst_permille};
	if (a->rec_size[0] < a->rec_hdr || !memcmp(v, a->clip, sizeof v))
		return;
	memcpy(a->clip, v, sizeof v);
	uint8_t b[8 * S2_REC_CLIPS];
	for (unsigned k = 0; k < S2_REC_CLIPS; k++)
		s2_st64(b + 8 * k, v[k]);
	emu_mem_write(&a->chip->dram, a->rec_addr[0] + 8, b, a->rec_hdr - 8);
}

/* Recording region: u32 bytes recorded, u32 bytes lost, (spikes: the clipping counters,)
 * then the data, rec_hdr bytes in. */
static void pe_record(void *ctx, unsigned s, const void *data, uint32_t len)
{
	struct pe_app *a = ctx;
	if (s > 1 || a->rec_size[s] < a->rec_hdr)
		return;
	uint32_t room = a->rec_size[s] - a->rec_hdr - a->rec_len[s];
	uint32_t hdr[2];
	if (len > room) {
		__atomic_fetch_add(&a->board->app.rec_lost, len, __ATOMIC_RELAXED);
		emu_mem_read(&a->chip->dram, a->rec_addr[s], hdr, 8);
		hdr[1] += len;
		emu_mem_write(&a->chip->dram, a->rec_addr[s], hdr, 8);
		return;
	}
	emu_mem_write(&a->chip->dram, a->rec_addr[s] + a->rec_hdr + a->rec_len[s], data, len);
	a->rec_len[s] += len;
	emu_mem_write(&a->chip->dram, a->rec_addr[s], &a->rec_len[s], 4); /* bytes recorded */
}

/* --- loading -------------------------------------------------------------------------------- */

static struct emu_app_chip *chip_app(struct emu_chip *c, unsigned pes)
{
	if (!c->app) {
		c->app = calloc(1, sizeof *c->app);
		if (c->app && !(c->app->pe = calloc(pes, sizeof *c->app->pe))) {
			free(c->app);
			c->app = NULL;
		}
	}
	return c->app;
}

int emu_app_router_load(struct emu_board *b, struct emu_chip *c, const uint8_t *p, size_t len)
{
	struct s2_msg_router_load m;
	int rc = s2_msg_router_load_decode(p, len, &m);
	if (rc < 0)
		return rc;
	if (m.n_entries > emu_geo_router_entries(b->emu))
		return S2_E_NOSPACE;
	struct emu_app_chip *a = chip_app(c, emu_geo_pes(b->emu));
	struct rt_entry *rt = malloc((m.n_entries ? m.n_entries : 1) * sizeof *rt);
	uint32_t *keys = malloc((m.n_entries ? m.n_entries : 1) * sizeof *keys);
	uint8_t e[S2_RT_ENTRY_LEN];
	if (!a || !rt || !keys) {
		free(rt);
		free(keys);
		return S2_E_NOMEM;
	}
	for (uint32_t i = 0; i < m.n_entries; i++) {
		if ((rc = emu_mem_read(&c->dram, (uint64_t)m.addr + i * S2_RT_ENTRY_LEN, e,
		                       sizeof e)) < 0) {
			free(rt);
			free(keys);
			return rc;
		}
		rt[i].key = s2_ld32(e);
		rt[i].mask = s2_ld32(e + 4);
		for (unsigned w = 0; w < S2_RT_ROUTE_WORDS; w++)
			rt[i].route[w] = s2_ld32(e + 8 + 4 * w);
		if (rt[i].key & ~rt[i].mask) {
			free(rt);
			free(keys);
			return S2_E_RANGE;
		}
	}
	/* the router matches in table order (the first entry wins); a table sorted by key with
	 * disjoint entries (the mapper's default) is searched by bisection, any other in order
	 * (tables compressed to the minimum overlap; docs/image.md) */
	bool ordered = false;
	for (uint32_t i = 1; i < m.n_entries && !ordered; i++)
		ordered = rt[i].key <= (rt[i - 1].key | ~rt[i - 1].mask);
	for (uint32_t i = 0; i < m.n_entries; i++)
		keys[i] = rt[i].key;
	free(a->rt);
	free(a->rt_keys);
	a->rt = rt;
	a->rt_keys = keys;
	a->n_rt = m.n_entries;
	a->rt_ordered = ordered;
	/* A board whose routers carry a network's packets between its other boards takes part
	 * in the run with no PE of its own: router tables are an application too (protocol
	 * 4.15), so an idle board is loaded from here (APP_STOP unloads it again). */
	if (b->app.state == S2_APP_IDLE)
		b->app.state = S2_APP_LOADED;
	return 0;
}

/*
 * PE loads. APP_LOAD is answered at once and the PE expands its synapses afterwards, as on
 * silicon. Here the expansions (s2_eng_init: the same engine code as on Cortex-M4F) run on a
 * pool of worker threads, as the PEs of a real chip expand in parallel; the event loop stays
 * free to answer, and installs each loaded PE when its worker is done. Workers touch only
 * their own job and the chip's DRAM (emu_mem is safe for that); everything else is the
 * event loop's.
 */
struct load {
	struct load *next;
	struct emu_board *b;
	struct emu_chip *c;
	unsigned pe;
	uint32_t gen; /* the board's application generation when queued */
	struct s2_msg_app_load m;
	struct pe_app *x; /* the loaded PE, or NULL */
	int rc;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct load *todo, **todo_tail, *done, **done_tail;
	struct load **busy; /* [n_threads]: each worker's job, or NULL */
	pthread_t *th;
	unsigned n_threads, want;
	int pipe[2]; /* workers -> event loop: "jobs are done" */
	struct event *ev;
	bool quit;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .work = PTHREAD_COND_INITIALIZER,
       .idle = PTHREAD_COND_INITIALIZER,
       .todo_tail = &W.todo,
       .done_tail = &W.done,
       .pipe = {-1, -1}};

void emu_app_set_threads(unsigned n)
{
	W.want = n;
}

static void free_pe(struct pe_app *x)
{
	if (x) {
		free(x->in);
		free(x->out);
		free(x->rr);
		free(x->blob);
		free(x);
	}
}

/* Worker side: read the PE data from DRAM, clear the recording headers, expand. */
static int expand(struct load *l)
{
	struct pe_app *x = calloc(1, sizeof *x);
	uint8_t *blob = malloc(l->m.blob_len ? l->m.blob_len : 1);
	int rc;
	if (!x || !blob) {
		free(x);
		free(blob);
		return S2_E_NOMEM;
	}
	x->blob = blob;
	x->board = l->b;
	x->chip = l->c;
	x->pe = (uint16_t)l->pe;
	if ((rc = emu_mem_read(&l->c->dram, l->m.blob_addr, blob, l->m.blob_len)) < 0)
		goto fail;
	x->rec_hdr = l->m.rec_hdr;
	for (int s = 0; s < 2; s++) {
		x->rec_addr[s] = l->m.rec_addr[s];
		x->rec_size[s] = l->m.rec_size[s];
		static const uint8_t zero[S2_REC_HDR_LEN];
		if (l->m.rec_size[s] &&
		    (rc = emu_mem_write(&l->c->dram, l->m.rec_addr[s], zero,
		                        l->m.rec_size[s] < x->rec_hdr ? l->m.rec_size[s]
		                                                      : x->rec_hdr)) < 0)
			goto fail;
	}
	/* Its rows' area in one host mapping, if nothing is there yet (writes still go through
	 * the page tables, which then take the mapping's pages). */
	struct s2_pedata pd;
	if (s2_pedata_decode(blob, l->m.blob_len, &pd) == 0 && pd.dram_size &&
	    (x->fast = emu_mem_reserve(&l->c->dram, pd.dram_base, pd.dram_size, &x->fast_lo,
	                               &x->fast_hi)) == NULL)
		x->fast_lo = x->fast_hi = 0;
	const struct s2_eng_hal hal = {x, pe_dram_read, pe_dram_write, pe_send, pe_record, NULL};
	if ((rc = s2_eng_init(&x->eng, blob, l->m.blob_len, &hal)) < 0)
		goto fail;
	x->eng.dram_peek = pe_dram_peek;
	if (x->fast && x->fast_used > x->fast_lo) /* rows are written from the area's start */
		emu_mem_hugepages(x->fast, (size_t)(x->fast_used - x->fast_lo));
	pe_clips(x); /* the expansion's */
	l->x = x;
	return 0;
fail:
	free_pe(x);
	return rc;
}

static void wake_loop(void)
{
	char one = 1;
	/* Non-blocking: a full pipe already holds a wake-up. */
	if (write(W.pipe[1], &one, 1) < 0) {
	}
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	pthread_mutex_lock(&W.mu);
	while (!W.quit) {
		if (!W.todo) {
			pthread_cond_wait(&W.work, &W.mu);
			continue;
		}
		struct load *l = W.todo;
		if (!(W.todo = l->next))
			W.todo_tail = &W.todo;
		W.busy[id] = l;
		pthread_mutex_unlock(&W.mu);
		l->rc = expand(l);
		pthread_mutex_lock(&W.mu);
		W.busy[id] = NULL;
		l->next = NULL;
		*W.done_tail = l;
		W.done_tail = &l->next;
		pthread_cond_broadcast(&W.idle);
		wake_loop();
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

static void done_cb(evutil_socket_t fd, short what, void *arg);

/* The pool, on the first load: one worker per online CPU unless --load-threads says. */
static int pool_start(struct emu *e)
{
	if (W.n_threads)
		return 0;
	unsigned n = W.want;
	if (!n) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	}
	if (pipe(W.pipe) < 0)
		return S2_E_NOMEM;
	for (int i = 0; i < 2; i++)
		fcntl(W.pipe[i], F_SETFL, fcntl(W.pipe[i], F_GETFL) | O_NONBLOCK);
	W.busy = calloc(n, sizeof *W.busy);
	W.th = calloc(n, sizeof *W.th);
	W.ev = event_new(e->base, W.pipe[0], EV_READ | EV_PERSIST, done_cb, NULL);
	if (!W.busy || !W.th || !W.ev || event_add(W.ev, NULL) < 0)
		return S2_E_NOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&W.th[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			break;
		W.n_threads++;
	}
	return W.n_threads ? 0 : S2_E_NOMEM;
}

/* Event loop side: install a finished load, or record why it failed. */
static void finish(struct load *l)
{
	struct emu_board *b = l->b;
	if (l->gen != b->app.gen || b->app.state != S2_APP_LOADING) {
		free_pe(l->x); /* the board stopped or rebooted meanwhile */
		return;
	}
	int rc = l->rc;
	struct emu_app_chip *a = rc < 0 ? NULL : chip_app(l->c, emu_geo_pes(b->emu));
	if (rc == 0 && (!a || !l->c->booted))
		rc = a ? S2_E_STATE : S2_E_NOMEM;
	if (rc < 0) {
		free_pe(l->x);
		/* Several failures: report the first PE of the first chip (deterministic). */
		uint32_t at = (uint32_t)l->c->index << 16 | l->pe;
		if (!b->app.load_error ||
		    at < ((uint32_t)b->app.load_chip << 16 | b->app.load_pe)) {
			b->app.load_error = rc;
			b->app.load_chip = l->c->index;
			b->app.load_pe = (uint16_t)l->pe;
		}
	} else {
		if (a->pe[l->pe]) {
			free_pe(a->pe[l->pe]);
			a->n_loaded--;
			b->app.pes--;
		}
		a->pe[l->pe] = l->x;
		a->n_loaded++;
		b->app.pes++;
	}
	if (b->app.pending && !--b->app.pending)
		b->app.state = b->app.load_error ? S2_APP_FAILED : S2_APP_LOADED;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0) {
	}
	pthread_mutex_lock(&W.mu);
	struct load *l = W.done;
	W.done = NULL;
	W.done_tail = &W.done;
	pthread_mutex_unlock(&W.mu);
	while (l) {
		struct load *next = l->next;
		finish(l);
		free(l);
		l = next;
	}
}

static bool matches(const struct load *l, const struct emu_board *b, const struct emu_chip *c)
{
	return (!b || l->b == b) && (!c || l->c == c);
}

/*
 * Before a board's or a chip's memory goes away: wait for its running expansions, and turn
 * its queued and finished ones into failures (S2_E_STATE) that touch nothing.
 */
static void quiesce(const struct emu_board *b, const struct emu_chip *c)
{
	if (!W.n_threads)
		return;
	pthread_mutex_lock(&W.mu);
	for (;;) {
		bool running = false;
		for (unsigned i = 0; i < W.n_threads; i++)
			running |= W.busy[i] && matches(W.busy[i], b, c);
		if (!running)
			break;
		pthread_cond_wait(&W.idle, &W.mu);
	}
	for (struct load *l = W.done; l; l = l->next)
		if (matches(l, b, c) && l->x) {
			free_pe(l->x);
			l->x = NULL;
			l->rc = S2_E_STATE;
		}
	for (struct load **pp = &W.todo; *pp;) {
		struct load *l = *pp;
		if (!matches(l, b, c)) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		l->next = NULL;
		l->rc = S2_E_STATE;
		*W.done_tail = l;
		W.done_tail = &l->next;
	}
	W.todo_tail = &W.todo;
	while (*W.todo_tail)
		W.todo_tail = &(*W.todo_tail)->next;
	pthread_mutex_unlock(&W.mu);
	wake_loop();
}

int emu_app_load(struct emu_board *b, struct emu_chip *c, unsigned pe, const uint8_t *p, size_t len)
{
	struct s2_msg_app_load m;
	int rc = s2_msg_app_load_decode(p, len, &m);
	if (rc < 0)
		return rc;
	unsigned pes = emu_geo_pes(b->emu);
	if (pe == 0 || pe >= pes)
		return S2_E_RANGE; /* PE 0 runs the monitor */
	if (s2_bitmap_get(c->pe_dead, pe))
		return S2_E_DEAD;
	if (b->app.state == S2_APP_ARMED || b->app.state == S2_APP_RUNNING)
		return S2_E_STATE;
	if ((rc = pool_start(b->emu)) < 0)
		return rc;
	struct load *l = calloc(1, sizeof *l);
	if (!l)
		return S2_E_NOMEM;
	if (b->app.state != S2_APP_LOADING) {
		b->app.state = S2_APP_LOADING;
		b->app.load_error = 0;
	}
	b->app.pending++;
	*l = (struct load){.b = b, .c = c, .pe = pe, .gen = b->app.gen, .m = m};
	pthread_mutex_lock(&W.mu);
	*W.todo_tail = l;
	W.todo_tail = &l->next;
	pthread_cond_signal(&W.work);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

void emu_app_free_chip(struct emu_chip *c)
{
	quiesce(NULL, c);
	if (!c->app)
		return;
	for (unsigned p = 0; p < c->mon.cfg.pes && c->app->pe; p++)
		free_pe(c->app->pe[p]);
	free(c->app->pe);
	free(c->app->rt);
	free(c->app->rt_keys);
	free(c->app);
	c->app = NULL;
}

void emu_app_stop(struct emu_board *b)
{
	quiesce(b, NULL);
	if (b->app.pes || b->app.pending)
		emu_live_event(b, b->app.step, S2_LIVE_STOPPED);
	emu_live_app_reset(b);
	for (unsigned c = 0; c < b->n_chips; c++)
		emu_app_free_chip(&b->chips[c]);
	uint32_t gen = b->app.gen;
	memset(&b->app, 0, sizeof b->app);
	b->app.gen = gen + 1; /* loads still on their way back are dropped */
}

int emu_app_pe_inject(struct emu_board *b, unsigned chip, unsigned pe, unsigned neuron,
                      bool check_only)
{
	if (chip >= b->n_chips)
		return S2_E_RANGE;
	struct emu_app_chip *a = b->chips[chip].app;
	if (!a || pe >= b->chips[chip].mon.cfg.pes || !a->pe[pe])
		return S2_E_RANGE; /* no application on that PE */
	struct s2_eng *g = &a->pe[pe]->eng;
	if (g->model != S2_MODEL_POISSON && g->model != S2_MODEL_SPIKE_ARRAY)
		return S2_E_STATE;
	if (neuron >= g->n)
		return S2_E_RANGE;
	return check_only ? 0 : s2_eng_inject(g, neuron);
}

bool emu_app_chip_counters(const struct emu_chip *c, uint64_t out[S2_LIVE_COUNTERS])
{
	const struct emu_app_chip *a = c->app;
	if (!a || !a->n_loaded)
		return false;
	memset(out, 0, S2_LIVE_COUNTERS * sizeof *out);
	for (unsigned p = 0; p < c->mon.cfg.pes; p++) {
		if (!a->pe[p])
			continue;
		const struct s2_eng_counters *k = &a->pe[p]->eng.c;
		out[S2_LC_NEURON_UPDATES] += k->neuron_updates;
		out[S2_LC_SYNAPTIC_EVENTS] += k->synaptic_events;
		out[S2_LC_SPIKES_SENT] += k->spikes_sent;
		out[S2_LC_PACKETS_IN] += k->packets_in;
		out[S2_LC_DMA_BYTES] += k->dma_bytes;
		out[S2_LC_PE_STEPS] += k->steps;
	}
	out[S2_LC_PACKETS_ROUTED] = a->routed;
	return true;
}

/* --- running -------------------------------------------------------------------------------- */

static const struct rt_entry *lookup(const struct emu_app_chip *a, uint32_t key)
{
	if (!a || !a->n_rt)
		return NULL;
	if (a->rt_ordered) {
		for (uint32_t i = 0; i < a->n_rt; i++)
			if ((key & a->rt[i].mask) == a->rt[i].key)
				return &a->rt[i];
		return NULL;
	}
	/* Entries are disjoint and sorted by key: the candidate is the last key <= key. */
	const uint32_t *k = a->rt_keys;
	uint32_t lo = 0, n = a->n_rt;
	while (n > 1) { /* branch-free: lo + half stays <= the last key <= key, if any */
		uint32_t half = n / 2;
		lo = k[lo + half] <= key ? lo + half : lo;
		n -= half;
	}
	const struct rt_entry *e = &a->rt[lo];
	return (key & e->mask) == e->key ? e : NULL;
}

static struct emu_board *board_slot(struct emu *e, int board_index)
{
	if (board_index < (int)e->first || board_index >= (int)(e->first + e->n_boards))
		return NULL;
	return &e->boards[board_index - (int)e->first];
}

/* A PE, as the step's work lists name it: checked before use, as its board may stop (and free
 * it) between two slices of a step. */
struct pe_ref {
	struct emu_chip *c;
	uint16_t p;
};

/*
 * The gather is shared out by target PE: bucket j holds the PEs whose routed packets thread j
 * appends to their lists (route() notes the bucket of each finding), each bucket with its own
 * list of PEs reached, joined into dlv afterwards. n_buckets: the step threads.
 */
struct dlv_list {
	struct pe_ref *v;
	size_t n, cap;
};
static struct dlv_list *buckets;
static unsigned n_buckets;
/* PEs with packets waiting for delivery in the current step: the buckets' lists, then the
 * PEs reached by packets from other processes. */
static struct dlv_list dlv;

static int push_ref(struct pe_ref **v, size_t *n, size_t *cap, struct emu_chip *c, unsigned p)
{
	if (*n == *cap) {
		size_t k = *cap ? 2 * *cap : 1024;
		struct pe_ref *q = realloc(*v, k * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		*v = q;
		*cap = k;
	}
	(*v)[(*n)++] = (struct pe_ref){c, (uint16_t)p};
	return 0;
}

/* Queue a routed packet for PE x of chip ch; delivered after routing, in routing order. */
static int deliver_later(struct dlv_list *l, struct emu_chip *ch, struct pe_app *x, uint32_t key,
                         const uint32_t *payload, uint64_t ord)
{
	if (x->n_in == x->cap_in) {
		uint32_t cap = x->cap_in ? 2 * x->cap_in : 64;
		struct dlv *q = realloc(x->in, cap * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		x->in = q;
		x->cap_in = cap;
	}
	if (!x->n_in && push_ref(&l->v, &l->n, &l->cap, ch, x->pe) < 0)
		return S2_E_NOMEM;
	x->in[x->n_in++] = (struct dlv){key, payload ? *payload : 0, payload != NULL, ord};
	return 0;
}

/*
 * Routing counters of one step thread, added to the boards' and chips' counters between phases
 * (sums: the same whatever thread routed what).
 */
struct rcount {
	uint64_t *chip_routed;      /* [board slot * chips + chip] */
	uint64_t *routed, *dropped; /* [board slot] */
	bool dirty;
};
static struct rcount *rcounts; /* [step threads] */
static unsigned n_rcounts, rc_chips;
static _Thread_local unsigned step_tid; /* 0: the event loop's thread */

static int rcounts_init(const struct emu *e, unsigned threads)
{
	if (rcounts)
		return 0;
	rc_chips = emu_geo_chips(e);
	if (!(rcounts = calloc(threads, sizeof *rcounts)))
		return S2_E_NOMEM;
	n_rcounts = threads;
	for (unsigned t = 0; t < threads; t++) {
		struct rcount *k = &rcounts[t];
		k->chip_routed = calloc((size_t)e->n_boards * rc_chips, sizeof *k->chip_routed);
		k->routed = calloc(e->n_boards, sizeof *k->routed);
		k->dropped = calloc(e->n_boards, sizeof *k->dropped);
		if (!k->chip_routed || !k->routed || !k->dropped)
			return S2_E_NOMEM;
	}
	return 0;
}

static void rcounts_flush(struct emu *e)
{
	for (unsigned t = 0; t < n_rcounts; t++) {
		struct rcount *k = &rcounts[t];
		if (!k->dirty)
			continue;
		for (unsigned i = 0; i < e->n_boards; i++) {
			struct emu_board *b = &e->boards[i];
			if (!k->routed[i] && !k->dropped[i])
				continue;
			bool keep = b->app.state == S2_APP_RUNNING; /* else its counters are gone */
			b->app.packets_routed += keep ? k->routed[i] : 0;
			b->app.packets_dropped += keep ? k->dropped[i] : 0;
			k->routed[i] = k->dropped[i] = 0;
			uint64_t *cr = &k->chip_routed[(size_t)i * rc_chips];
			for (unsigned c = 0; c < rc_chips && c < b->n_chips; c++)
				if (cr[c]) {
					if (keep && b->chips[c].app)
						b->chips[c].app->routed += cr[c];
					cr[c] = 0;
				}
		}
		k->dirty = false;
	}
}

static int rr_push(struct rres **v, uint32_t *n, uint32_t *cap, struct rres r)
{
	if (*n == *cap) {
		uint32_t k = *cap ? 2 * *cap : 64;
		struct rres *q = realloc(*v, k * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		*v = q;
		*cap = k;
	}
	(*v)[(*n)++] = r;
	return 0;
}

/*
 * Route one packet (a spike, or a graded event with its payload) from chip c0 of board b0,
 * where it was sent (in0 NO_LINK) or arrived over link in0 from another process. ord is its
 * source's place in machine order. Touches nothing shared: what it finds goes to the list
 * (*v, *n, *cap), applied later in machine order (apply_rr), and its counts to k.
 */
static void route(struct emu *e, struct rcount *k, struct rres **v, uint32_t *n, uint32_t *cap,
                  struct emu_board *b0, unsigned c0, unsigned in0, uint32_t key,
                  const uint32_t *payload, uint64_t ord)
{
	struct hop {
		struct emu_board *b;
		uint16_t c;
		uint8_t in;
	} stack[64];
	unsigned sp = 0, hops = 0;
	struct rres r = {.has_payload = payload != NULL,
	                 .key = key,
	                 .payload = payload ? *payload : 0,
	                 .ord = ord};
	k->dirty = true;
	stack[sp++] = (struct hop){b0, (uint16_t)c0, (uint8_t)in0};
	while (sp) {
		struct hop h = stack[--sp];
		size_t slot = (size_t)(h.b - e->boards);
		struct emu_chip *ch = &h.b->chips[h.c];
		if (++hops > HOP_LIMIT) {
			k->dropped[b0 - e->boards]++;
			return;
		}
		k->routed[slot]++;
		k->chip_routed[slot * rc_chips + h.c]++;
		const struct rt_entry *re = lookup(ch->app, key);
		uint32_t route_w[S2_RT_ROUTE_WORDS] = {0};
		if (re) {
			memcpy(route_w, re->route, sizeof route_w);
		} else if (h.in != NO_LINK) {
			route_w[0] = 1u << ((h.in + 3) % 6); /* default route: straight on */
		} else {
			k->dropped[slot]++; /* a local spike nobody routes */
			continue;
		}
		/* PEs of this chip (route bits 6 on), in PE order. */
		unsigned pes = ch->mon.cfg.pes;
		for (unsigned w = 0; w < S2_RT_ROUTE_WORDS; w++) {
			uint32_t bits = w ? route_w[w] : route_w[0] & ~0x3Fu;
			while (bits) {
				unsigned p = 32 * w + (unsigned)__builtin_ctz(bits) - 6;
				bits &= bits - 1;
				if (p >= pes)
					break;
				struct pe_app *x = ch->app && ch->app->pe ? ch->app->pe[p] : NULL;
				r.kind = RR_PE;
				r.board = (uint16_t)p;
				r.bucket = (uint8_t)((h.c + p) % n_buckets);
				r.q = ch;
				if (!x || rr_push(v, n, cap, r) < 0)
					k->dropped[slot]++; /* no PE there, or out of memory */
			}
		}
		/* Links. */
		for (unsigned l = 0; l < 6; l++) {
			if (!((route_w[0] >> l) & 1u))
				continue;
			int nb, nc;
			if (ch->dead || ((ch->links_dead >> l) & 1u) ||
			    !emu_geo_neighbour(e, h.b->index, h.c, l, &nb, &nc)) {
				k->dropped[slot]++;
				continue;
			}
			struct emu_board *tb = board_slot(e, nb);
			if (!tb && emu_link_active(e)) { /* to a board of another process */
				r.kind = RR_LINK;
				r.board = (uint16_t)nb;
				r.chip = (uint8_t)nc;
				r.in = (uint8_t)((l + 3) % 6);
				r.p = h.b;
				if (rr_push(v, n, cap, r) < 0)
					k->dropped[slot]++;
				continue;
			}
			if (!tb || !tb->powered || tb->app.state != S2_APP_RUNNING ||
			    tb->chips[nc].dead ||
			    ((tb->chips[nc].links_dead >> ((l + 3) % 6)) & 1u) ||
			    sp == sizeof stack / sizeof stack[0]) {
				k->dropped[slot]++; /* off this emulator, dead, or not running */
				continue;
			}
			stack[sp++] = (struct hop){tb, (uint16_t)nc, (uint8_t)((l + 3) % 6)};
		}
	}
}

static struct pe_app *ref_pe(struct pe_ref r);

/* Apply what routing found, in machine order: a packet for a PE joins its list (on the thread
 * of the PE's bucket, l that bucket's list), a crossing to another process goes out (on the
 * event loop's thread). */
static void apply_rr(struct emu *e, const struct rres *r, struct dlv_list *l)
{
	const uint32_t *pl = r->has_payload ? &r->payload : NULL;
	if (r->kind == RR_PE) {
		/* Its board may have stopped since (between two slices of the step). */
		struct pe_app *x = ref_pe((struct pe_ref){r->q, r->board});
		if (x && deliver_later(l, r->q, x, r->key, pl, r->ord) < 0)
			__atomic_fetch_add(&x->board->app.packets_dropped, 1,
			                   __ATOMIC_RELAXED); /* out of memory: lost, counted */
	} else {
		struct emu_board *b = r->p;
		if (emu_link_out(e, b, r->board, r->chip, r->in, r->key, pl, r->ord) < 0)
			b->app.packets_dropped++; /* lost on the link, or not running there */
	}
}

/* A packet from another process, arriving at a chip of ours over a board-to-board link. */
static void route_in(struct emu *e, const struct emu_link_pkt *k)
{
	struct emu_board *tb = board_slot(e, k->board);
	if (!tb)
		return; /* not ours: the sender's machine description differs */
	if (!tb->powered || tb->app.state != S2_APP_RUNNING || k->chip >= tb->n_chips ||
	    k->in >= 6 || tb->chips[k->chip].dead ||
	    ((tb->chips[k->chip].links_dead >> k->in) & 1u)) {
		tb->app.packets_dropped++; /* dead or not running: counted here */
		return;
	}
	static struct rres *v;
	static uint32_t n, cap;
	n = 0;
	route(e, &rcounts[0], &v, &n, &cap, tb, k->chip, k->in, k->key,
	      k->has_payload ? &k->payload : NULL, k->ord);
	for (uint32_t i = 0; i < n; i++)
		apply_rr(e, &v[i], &dlv);
}

/*
 * One machine-wide step over every running board, in three phases:
 *  1. tick and route: every loaded PE of every running board computes the step, then its
 *     packets go through the routers (which only read); the PEs are shared out to the step
 *     threads (--threads); what a PE sends, and what routing found for it (target PEs,
 *     crossings to other processes), go to its own lists, the counts into the thread's
 *     counters (sums);
 *  2. gather: those lists are applied in machine order (board, chip, PE, sending order: the
 *     order of one thread), each packet for a PE joining that PE's list of the step. The
 *     target PEs are shared out in buckets, one thread per bucket, each thread reading every
 *     list and applying what goes to its bucket's PEs; the event loop's thread (bucket 0)
 *     also sends the crossings to the other processes (emu_link.c) and shows the spikes to
 *     live streams, in that order;
 *  3. deliver: the PEs with packets are shared out again; each takes its packets in that
 *     order (s2_eng_receive).
 * A PE's state is touched by one thread at a time, and every order that matters (packets at a
 * PE, live spikes, router counters) is the same whatever the number of threads, so the results
 * are bit-identical to one thread.
 *
 * A step can take seconds when a large network bursts, and a real board's monitor answers
 * meanwhile, so a step is resumable: each phase stops (at a PE's end) when its slice of time
 * is over and the event loop serves requests between slices. The results do not depend on the
 * slicing.
 */
enum { PH_TICK, PH_ROUTE, PH_GATHER, PH_LINK, PH_DELIVER };
static struct {
	bool active; /* a step has begun and not finished */
	int phase;
	size_t next;      /* next PE (gather: bucket) of the phase's list */
	uint32_t step_id; /* the running boards' step (the same in every process) */
	unsigned round;   /* link: exchange round with the other processes */
	bool sent;        /* link: this round's batches are sent */
	bool link_wait;   /* link: waiting for the other processes' batches */
} cur;

/* Loaded PEs of running boards, in machine order (board, chip, PE): fixed at the step's start. */
static struct pe_ref *act_pes;
static size_t n_act_pes, cap_act_pes;

/* The PE, if its board is still running. */
static struct pe_app *ref_pe(struct pe_ref r)
{
	if (!r.c->app || r.c->board->app.state != S2_APP_RUNNING)
		return NULL;
	return r.c->app->pe[r.p];
}

static void tick_pe(struct pe_app *x)
{
	x->n_out = 0;
	s2_eng_tick(&x->eng);
	pe_clips(x); /* writes only this PE's own recording header: safe on any thread */
}

static int cmp_dlv(const void *a, const void *b)
{
	const struct dlv *x = a, *y = b;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void deliver_pe(struct pe_app *x)
{
	/* Packets from other processes came in later rounds: put them in machine order (equal
	 * places are copies of one packet, so their order does not matter). */
	for (uint32_t i = 1; i < x->n_in; i++)
		if (x->in[i].ord < x->in[i - 1].ord) {
			qsort(x->in, x->n_in, sizeof *x->in, cmp_dlv);
			break;
		}
	uint64_t u0 = x->eng.c.packets_unknown;
	/* In batches whose memory is fetched ahead (s2_eng_prefetch*): the rows of the next
	 * batch, then the ring slots of this one, whose rows came meanwhile. One at a time, each
	 * row and slot would wait for memory (rows are scattered over the chip's DRAM, and the
	 * other PEs' steps have pushed this PE's ring out of the caches). */
	enum { B = S2_ENG_PREFETCH / 2 };
	uint32_t keys[2][B];
	for (uint32_t i = 0, h = 0; i < x->n_in; i += B, h ^= 1) {
		uint32_t m = x->n_in - i < B ? x->n_in - i : B;
		if (i == 0) {
			for (uint32_t j = 0; j < m; j++)
				keys[h][j] = x->in[j].key;
			s2_eng_prefetch(&x->eng, keys[h], m);
		}
		uint32_t m2 = x->n_in - i - m < B ? x->n_in - i - m : B;
		for (uint32_t j = 0; j < m2; j++)
			keys[h ^ 1][j] = x->in[i + m + j].key;
		if (m2)
			s2_eng_prefetch(&x->eng, keys[h ^ 1], m2);
		s2_eng_prefetch_ring(&x->eng, keys[h], m);
		for (uint32_t j = i; j < i + m; j++)
			s2_eng_receive(&x->eng, x->in[j].key,
			               x->in[j].has_payload ? &x->in[j].payload : NULL);
	}
	x->n_in = 0;
	if (x->eng.c.packets_unknown != u0)
		__atomic_fetch_add(&x->board->app.packets_unrouted, x->eng.c.packets_unknown - u0,
		                   __ATOMIC_RELAXED);
}

/* Route what PE x sent this step (any thread), into its list of findings. */
static void route_pe(struct emu *e, struct pe_app *x)
{
	struct emu_board *b = x->board;
	unsigned c = x->chip->index;
	uint64_t ord0 = (uint64_t)b->index << 48 | (uint64_t)c << 40 | (uint64_t)x->pe << 32;
	struct rcount *k = &rcounts[step_tid];
	x->n_rr = 0;
	for (uint32_t i = 0; i < x->n_out; i++) {
		const struct sent *q = &x->out[i];
		if (q->flags & SENT_ROUTE)
			route(e, k, &x->rr, &x->n_rr, &x->cap_rr, b, c, NO_LINK, q->key,
			      (q->flags & SENT_PAYLOAD) ? &q->payload : NULL, ord0 | i);
	}
}

/* Apply what the routing of the step's PEs found for the PEs of bucket j, in machine order
 * (board, chip, PE, sending order); bucket 0 also sends the crossings to other processes and
 * shows the PEs' spikes to live streams, in that order. */
static void gather_bucket(struct emu *e, unsigned j)
{
	for (size_t i = 0; i < n_act_pes; i++) {
		struct pe_app *x = ref_pe(act_pes[i]);
		if (!x)
			continue;
		struct emu_board *b = x->board;
		if (j == 0 && b->live && emu_live_wants(b, x->chip->index, x->pe))
			for (uint32_t s = 0; s < x->n_out; s++)
				emu_live_spike(b, b->app.step, x->chip->index, x->pe,
				               x->out[s].key - x->eng.pd.key_base);
		for (uint32_t s = 0; s < x->n_rr; s++) {
			const struct rres *r = &x->rr[s];
			if (r->kind == RR_PE ? r->bucket == j : j == 0)
				apply_rr(e, r, &buckets[j]);
		}
	}
}

/* The step threads: the event loop's thread and n_helpers more, working on one phase's list
 * of PEs; each PE is claimed by exactly one of them. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	pthread_t *th;
	unsigned want, n_helpers;
	unsigned active; /* helpers working on the phase */
	uint64_t gen;    /* the phase; helpers join it until it is closed */
	uint64_t closed; /* the last phase closed to late helpers */
	bool quit;
	/* The phase being worked on. */
	int phase;
	struct emu *e;
	struct pe_ref *pes;
	size_t n;
	_Atomic size_t next;
	_Atomic bool late;
	uint64_t t_end;
} T = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .go = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

void emu_app_set_step_threads(unsigned n)
{
	T.want = n;
}

static void phase_work(void)
{
	while (!atomic_load_explicit(&T.late, memory_order_relaxed)) {
		size_t i = atomic_fetch_add_explicit(&T.next, 1, memory_order_relaxed);
		if (i >= T.n)
			break;
		struct pe_app *x = T.phase == PH_GATHER ? NULL : ref_pe(T.pes[i]);
		if (x && i + 1 < T.n) {
			/* The next PE's lists and engine header, while this one works: with
			 * hundreds of PEs a step, each PE's state has left the caches since its
			 * last turn. */
			struct pe_ref r = T.pes[i + 1];
			struct pe_app *y = r.c->app ? r.c->app->pe[r.p] : NULL;
			if (y) {
				__builtin_prefetch(&y->n_out);
				__builtin_prefetch(&y->n_in);
				__builtin_prefetch(&y->eng.t);
				__builtin_prefetch(&y->eng.params[0][0]);
			}
		}
		if (T.phase == PH_GATHER) {
			gather_bucket(T.e, (unsigned)i);
		} else if (x && T.phase == PH_TICK) {
			tick_pe(x);
			route_pe(T.e, x);
		} else if (x) {
			deliver_pe(x);
		}
		if (now_us() >= T.t_end)
			atomic_store_explicit(&T.late, true, memory_order_relaxed);
	}
}

static void *step_thread(void *arg)
{
	step_tid = (unsigned)(uintptr_t)arg;
	uint64_t seen = 0;
	pthread_mutex_lock(&T.mu);
	for (;;) {
		while (!T.quit && T.gen == seen)
			pthread_cond_wait(&T.go, &T.mu);
		if (T.quit)
			break;
		seen = T.gen;
		if (T.closed == seen)
			continue; /* woken too late: the phase is done without us */
		T.active++;
		pthread_mutex_unlock(&T.mu);
		phase_work();
		pthread_mutex_lock(&T.mu);
		if (!--T.active)
			pthread_cond_signal(&T.done);
	}
	pthread_mutex_unlock(&T.mu);
	return NULL;
}

static void step_threads_start(void)
{
	static bool tried;
	if (tried)
		return;
	tried = true;
	unsigned n = T.want;
	if (!n) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	}
	if (n < 2 || !(T.th = calloc(n - 1, sizeof *T.th)))
		return;
	for (unsigned i = 0; i + 1 < n; i++) {
		if (pthread_create(&T.th[i], NULL, step_thread, (void *)(uintptr_t)(i + 1)) != 0)
			break; /* fewer threads: the same results, later */
		T.n_helpers++;
	}
}

/* Work on the pes[*next..n) of a phase until done (true) or t_end has passed (false). */
static bool run_phase(int phase, struct pe_ref *pes, size_t n, size_t *next, uint64_t t_end)
{
	if (*next >= n)
		return true;
	T.phase = phase;
	T.pes = pes;
	T.n = n;
	T.t_end = t_end;
	atomic_store(&T.next, *next);
	atomic_store(&T.late, false);
	/* Few PEs: not worth waking anyone. (The gather's buckets are few, and large.) */
	unsigned helpers = n - *next > 4 || (phase == PH_GATHER && n - *next > 1) ? T.n_helpers : 0;
	if (helpers) {
		pthread_mutex_lock(&T.mu);
		T.gen++;
		pthread_cond_broadcast(&T.go);
		pthread_mutex_unlock(&T.mu);
	}
	phase_work();
	if (helpers) {
		/* Every PE is claimed: close the phase to helpers not yet awake (on a busy host
		 * they may be; waiting for them would cost more than their work), and wait for
		 * the ones working. */
		pthread_mutex_lock(&T.mu);
		T.closed = T.gen;
		while (T.active)
			pthread_cond_wait(&T.done, &T.mu);
		pthread_mutex_unlock(&T.mu);
	}
	size_t k = atomic_load(&T.next);
	*next = k < n ? k : n;
	return *next >= n;
}

static bool any_running(const struct emu *e)
{
	for (unsigned i = 0; i < e->n_boards; i++)
		if (e->boards[i].app.state == S2_APP_RUNNING)
			return true;
	return false;
}

/* Work on the current step until it is done (true) or t_end has passed (false). */
/* The end of a run: every plastic row of the board's PEs gets the potentiation of the post
 * spikes seen so far (plastic.h), so chip DRAM holds the learned weights while it waits.
 * (The rows lie in the PE's own DRAM area, which its start-up checked: nothing can fail.) */
static void flush_plastic(struct emu_board *b)
{
	for (unsigned c = 0; c < b->n_chips; c++) {
		struct emu_app_chip *a = b->chips[c].app;
		for (unsigned p = 0; a && a->pe && p < b->chips[c].mon.cfg.pes; p++)
			if (a->pe[p] && a->pe[p]->eng.pl.n) {
				(void)s2_plastic_flush(&a->pe[p]->eng);
				pe_clips(a->pe[p]); /* what the flush counted */
			}
	}
}

static bool step_part(struct emu *e, uint64_t t_end)
{
	if (!cur.active) {
		memset(&cur, 0, sizeof cur);
		cur.active = true;
		n_act_pes = 0;
		dlv.n = 0;
		for (unsigned i = 0; i < e->n_boards; i++)
			if (e->boards[i].app.state == S2_APP_RUNNING) {
				cur.step_id = e->boards[i].app.step;
				break;
			}
		step_threads_start();
		T.e = e;
		if (rcounts_init(e, T.n_helpers + 1) < 0 ||
		    (!buckets && !(buckets = calloc(T.n_helpers + 1, sizeof *buckets)))) {
			fprintf(stderr, "s2emu: out of memory for the routing counters\n");
			abort();
		}
		n_buckets = T.n_helpers + 1;
		for (unsigned j = 0; j < n_buckets; j++)
			buckets[j].n = 0; /* (a step cut short by its boards stopping) */
		for (unsigned i = 0; i < e->n_boards; i++) {
			struct emu_board *b = &e->boards[i];
			if (b->app.state != S2_APP_RUNNING)
				continue;
			emu_live_step_begin(b, b->app.step);
			for (unsigned c = 0; c < b->n_chips; c++) {
				struct emu_app_chip *a = b->chips[c].app;
				for (unsigned p = 0;
				     a && a->n_loaded && p < b->chips[c].mon.cfg.pes; p++)
					if (a->pe[p] && push_ref(&act_pes, &n_act_pes, &cap_act_pes,
					                         &b->chips[c], p) < 0)
						b->app.packets_dropped++; /* no memory: PE's step
						                             lost */
			}
		}
	}
	if (cur.phase == PH_TICK) {
		if (!run_phase(PH_TICK, act_pes, n_act_pes, &cur.next, t_end))
			return false;
		cur.phase = PH_GATHER;
		cur.next = 0;
	}
	if (cur.phase == PH_GATHER) {
		if (!run_phase(PH_GATHER, NULL, n_buckets, &cur.next, t_end))
			return false;
		for (unsigned j = 0; j < n_buckets; j++) {
			for (size_t i = 0; i < buckets[j].n; i++)
				if (push_ref(&dlv.v, &dlv.n, &dlv.cap, buckets[j].v[i].c,
				             buckets[j].v[i].p) < 0) {
					/* out of memory: that PE's packets are lost, counted */
					struct pe_app *x = ref_pe(buckets[j].v[i]);
					if (x) {
						x->board->app.packets_dropped += x->n_in;
						x->n_in = 0;
					}
				}
			buckets[j].n = 0;
		}
		cur.phase = emu_link_active(e) ? PH_LINK : PH_DELIVER;
		cur.next = 0;
	}
	/* Packets that left for other processes, and theirs for us, in rounds until one in which
	 * no process sent any. */
	while (cur.phase == PH_LINK) {
		if (!cur.sent) {
			emu_link_send_round(e, cur.step_id, cur.round);
			cur.sent = true;
		}
		const struct emu_link_pkt *k;
		size_t n;
		bool any;
		int r = emu_link_recv_round(e, cur.step_id, cur.round, &k, &n, &any);
		if (r == 0) {
			cur.link_wait = true;
			return false;
		}
		cur.link_wait = false;
		for (size_t i = 0; r > 0 && i < n; i++)
			route_in(e, &k[i]);
		if (r < 0 || !any) {
			cur.phase = PH_DELIVER;
			cur.next = 0;
			rcounts_flush(e);
		} else {
			cur.round++;
			cur.sent = false;
		}
	}
	rcounts_flush(e);
	if (!run_phase(PH_DELIVER, dlv.v, dlv.n, &cur.next, t_end))
		return false;
	for (unsigned i = 0; i < e->n_boards; i++) {
		struct emu_board *b = &e->boards[i];
		if (b->app.state != S2_APP_RUNNING)
			continue;
		emu_live_step_end(b, b->app.step);
		b->app.step++;
		emu_fault_point(EMU_PH_RUN);
		if (++b->app.steps_done >= b->app.n_steps) {
			flush_plastic(b);
			b->app.state = S2_APP_DONE;
			emu_live_event(b, b->app.step, S2_LIVE_DONE);
		}
	}
	cur.active = false;
	return true;
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct emu *e = arg;
	/* Start together, between steps: every board with an application is armed (or
	 * already running). */
	bool armed = false, waiting = false, realtime = false;
	for (unsigned i = 0; i < e->n_boards; i++) {
		struct emu_board *b = &e->boards[i];
		armed |= b->app.state == S2_APP_ARMED;
		waiting |= b->app.state == S2_APP_LOADED;
	}
	if (armed && !waiting && !cur.active && emu_link_start_ok(e)) {
		uint64_t t0 = now_us();
		for (unsigned i = 0; i < e->n_boards; i++)
			if (e->boards[i].app.state == S2_APP_ARMED) {
				e->boards[i].app.state = S2_APP_RUNNING;
				e->boards[i].app.start_us = t0;
				emu_live_event(&e->boards[i], e->boards[i].app.step,
				               S2_LIVE_STARTED);
			}
	}
	double dt_us = 0;
	uint64_t start = 0;
	uint32_t done = 0;
	for (unsigned i = 0; i < e->n_boards; i++) {
		struct emu_board *b = &e->boards[i];
		if (b->app.state == S2_APP_RUNNING) {
			realtime |= (b->app.flags & S2_APP_F_REALTIME) != 0;
			start = b->app.start_us;
			done = b->app.steps_done;
			dt_us = b->app.dt_us;
		}
	}
	if (!any_running(e)) {
		cur.active = false; /* every board stopped, mid-step or not */
		if (rcounts)
			rcounts_flush(e); /* (drops the counts: no board runs) */
		if (armed) {              /* wait for the other boards to be armed */
			struct timeval tv = {0, 1000};
			event_add(step_ev, &tv);
		}
		return;
	}
	/* Run for about 5 ms, then let the network in (status requests, other boards). */
	uint64_t t_end = now_us() + 5000;
	bool paced = false;
	do {
		if (!cur.active && realtime && dt_us > 0 &&
		    (double)(now_us() - start) < (double)done * dt_us) {
			paced = true;
			break;
		}
		if (!step_part(e, t_end))
			break;
		done++;
	} while (any_running(e) && now_us() < t_end);
	if (any_running(e)) {
		/* Waiting for other processes: their datagrams kick the step (the timeout asks
		 * again for lost ones). */
		struct timeval tv = {0, cur.link_wait ? 20000 : paced ? 100 : 0};
		event_add(step_ev, &tv);
	}
}

/* A datagram from another process arrived: work on the step now. */
static void kick(void)
{
	if (step_ev && cur.link_wait) {
		event_del(step_ev);
		event_active(step_ev, EV_TIMEOUT, 1);
	}
}

int emu_app_update(struct emu_board *b, struct emu_chip *c, unsigned pe, const uint8_t *p,
                   size_t len)
{
	struct s2_msg_app_update m;
	int rc = s2_msg_app_update_decode(p, len, &m);
	if (rc < 0)
		return rc;
	/* Between runs only: loaded (or done), not loading, armed or running. */
	if (b->app.state != S2_APP_LOADED && b->app.state != S2_APP_DONE)
		return S2_E_STATE;
	if (pe == 0 || !c->app || pe >= c->mon.cfg.pes || !c->app->pe[pe])
		return S2_E_RANGE; /* no application on that PE */
	struct pe_app *x = c->app->pe[pe];
	uint8_t *blob = malloc(m.blob_len);
	if (!blob)
		return S2_E_NOMEM;
	if ((rc = emu_mem_read(&c->dram, m.blob_addr, blob, m.blob_len)) < 0 ||
	    (rc = s2_eng_update(&x->eng, blob, m.blob_len)) < 0) {
		free(blob);
		return rc;
	}
	free(x->blob); /* the engine reads spike times and currents from the new one now */
	x->blob = blob;
	return 0;
}

int emu_app_run(struct emu_board *b, const uint8_t *p, size_t len)
{
	struct s2_msg_app_run m;
	int rc = s2_msg_app_run_decode(p, len, &m);
	if (rc < 0)
		return rc;
	if (b->app.state == S2_APP_ARMED || b->app.state == S2_APP_RUNNING)
		return 0; /* a repeated request */
	/* A run from t = 0 only on a freshly loaded board, a resumed one only after a run: the
	 * PEs always go on from their state, so a board that ran cannot start again at t = 0
	 * (protocol 4.15); refused before anything changes. Any other state: S2_E_STATE too. */
	bool resume = m.flags & S2_APP_F_RESUME;
	if (b->app.state != (resume ? S2_APP_DONE : S2_APP_LOADED))
		return S2_E_STATE;
	if (resume) {
		/* Continue: the engines keep everything; recording starts again at the start of
		 * each region (the clipping counters in the spike header stay cumulative). */
		for (unsigned c = 0; c < b->n_chips; c++)
			for (unsigned q = 0; b->chips[c].app && q < b->chips[c].mon.cfg.pes; q++) {
				struct pe_app *x = b->chips[c].app->pe[q];
				for (unsigned s = 0; x && s < 2; s++) {
					static const uint32_t zero[2];
					x->rec_len[s] = 0;
					if (x->rec_size[s] >= x->rec_hdr)
						emu_mem_write(&x->chip->dram, x->rec_addr[s], zero,
						              sizeof zero);
				}
			}
		b->app.rec_lost = 0;
	}
	b->app.n_steps = m.n_steps;
	b->app.flags = m.flags;
	b->app.steps_done = 0;
	b->app.dt_us = 0;
	for (unsigned c = 0; c < b->n_chips && !b->app.dt_us; c++)
		for (unsigned q = 0; b->chips[c].app && q < b->chips[c].mon.cfg.pes; q++)
			if (b->chips[c].app->pe[q]) {
				b->app.dt_us = b->chips[c].app->pe[q]->eng.pd.dt_us;
				break;
			}
	b->app.state = m.n_steps ? S2_APP_ARMED : S2_APP_DONE;
	struct emu *e = b->emu;
	if (!step_ev && !(step_ev = evtimer_new(e->base, step_cb, e)))
		return S2_E_NOMEM;
	emu_link_set_kick(kick);
	static const struct timeval zero = {0, 0};
	event_add(step_ev, &zero);
	return 0;
}

int emu_app_status(struct emu_board *b, uint8_t *out, size_t cap)
{
	struct s2_msg_app_status st = {.state = b->app.state,
	                               .pes = b->app.pes,
	                               .pending = b->app.pending,
	                               .load_error = b->app.load_error,
	                               .load_chip = b->app.load_chip,
	                               .load_pe = b->app.load_pe,
	                               .steps_done = b->app.steps_done,
	                               .n_steps = b->app.n_steps,
	                               .packets_unrouted = b->app.packets_unrouted,
	                               .packets_routed = b->app.packets_routed,
	                               .packets_dropped = b->app.packets_dropped,
	                               .rec_lost = b->app.rec_lost};
	for (unsigned c = 0; c < b->n_chips; c++) {
		struct emu_app_chip *a = b->chips[c].app;
		for (unsigned p = 0; a && p < b->chips[c].mon.cfg.pes; p++) {
			if (!a->pe[p])
				continue;
			const struct s2_eng_counters *k = &a->pe[p]->eng.c;
			st.neuron_updates += k->neuron_updates;
			st.synaptic_events += k->synaptic_events;
			st.spikes_sent += k->spikes_sent;
			st.packets_in += k->packets_in;
			st.ring_saturated += k->ring_saturated;
		}
	}
	return s2_msg_app_status_encode(out, cap, &st);
}

void emu_app_shutdown(void)
{
	if (step_ev)
		event_free(step_ev);
	step_ev = NULL;
	pthread_mutex_lock(&W.mu);
	W.quit = true;
	pthread_cond_broadcast(&W.work);
	pthread_mutex_unlock(&W.mu);
	for (unsigned i = 0; i < W.n_threads; i++)
		pthread_join(W.th[i], NULL);
	for (struct load *lists[2] = {W.todo, W.done}, **k = lists; k < lists + 2; k++)
		while (*k) {
			struct load *l = *k;
			*k = l->next;
			free_pe(l->x);
			free(l);
		}
	W.todo = W.done = NULL;
	W.todo_tail = &W.todo;
	W.done_tail = &W.done;
	if (W.ev)
		event_free(W.ev);
	for (int i = 0; i < 2; i++)
		if (W.pipe[i] >= 0)
			close(W.pipe[i]);
	free(W.busy);
	free(W.th);
	W.ev = NULL;
	W.pipe[0] = W.pipe[1] = -1;
	W.busy = NULL;
	W.th = NULL;
	W.n_threads = 0;
	W.quit = false;
	pthread_mutex_lock(&T.mu);
	T.quit = true;
	pthread_cond_broadcast(&T.go);
	pthread_mutex_unlock(&T.mu);
	for (unsigned i = 0; i < T.n_helpers; i++)
		pthread_join(T.th[i], NULL);
	free(T.th);
	T.th = NULL;
	T.n_helpers = 0;
	for (unsigned t = 0; t < n_rcounts; t++) {
		free(rcounts[t].chip_routed);
		free(rcounts[t].routed);
		free(rcounts[t].dropped);
	}
	free(rcounts);
	rcounts = NULL;
	n_rcounts = 0;
	free(act_pes);
	free(dlv.v);
	for (unsigned j = 0; j < n_buckets; j++)
		free(buckets[j].v);
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	act_pes = NULL;
	dlv = (struct dlv_list){0};
	n_act_pes = cap_act_pes = 0;
}
