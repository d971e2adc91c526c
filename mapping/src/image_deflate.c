/*
 * A fast zlib (RFC 1950/1951) encoder for chip blobs whose records repeat (docs/image.md): the
 * PE records of a chip differ from the previous record of the same length in a few bytes (key
 * base, seeds, first neuron), router entries from the previous entry in the key. The caller
 * names, per span of the blob, the one distance worth trying (the previous record or entry);
 * the encoder takes the longest match at that distance, else a literal. No hash tables, no
 * search: about twenty times faster than a general deflate on such blobs. A first pass counts
 * the symbols, Huffman codes are built for them (RFC 1951 3.2.7, lengths limited to 15 bits),
 * and a second pass writes one block with those codes, or with the fixed codes of 3.2.6 where
 * that is smaller. Any zlib inflater reads the result; the image writer keeps a general
 * compressor's output where that is much smaller (blobs without the repetition, e.g.
 * per-neuron random values).
 */
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"
#include "s2/wire.h"

#define WINDOW 32768u
#define MIN_MATCH 3u
#define MAX_MATCH 258u

/* Length codes 257..285: base length and extra bits (RFC 1951 3.2.5). */
static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                      15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
/* Distance codes 0..29. */
static const uint16_t dist_base[30] = {
        1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

struct bits {
	uint8_t *p, *end;
	uint64_t acc;
	unsigned n; /* bits in acc */
	bool over;
};

/* Append n <= 32 bits; whole 32-bit words are stored at once while 4 bytes of room remain,
 * bytes one by one near the end. */
static inline void put(struct bits *b, uint32_t v, unsigned n)
{
	b->acc |= (uint64_t)v << b->n;
	b->n += n;
	if (b->n < 32)
		return;
	if (b->end - b->p >= 4) {
		s2_st32(b->p, (uint32_t)b->acc);
		b->p += 4;
		b->acc >>= 32;
		b->n -= 32;
		return;
	}
	while (b->n >= 8) {
		if (b->p == b->end) {
			b->over = true;
			b->n = 0;
			b->acc = 0;
			return;
		}
		*b->p++ = (uint8_t)b->acc;
		b->acc >>= 8;
		b->n -= 8;
	}
}

/* The bits still in the accumulator, as whole bytes (the last one padded with zeros). */
static void flush(struct bits *b)
{
	while (b->n > 0 && !b->over) {
		if (b->p == b->end) {
			b->over = true;
			return;
		}
		*b->p++ = (uint8_t)b->acc;
		b->acc >>= 8;
		b->n = b->n > 8 ? b->n - 8 : 0;
	}
}

static uint32_t reverse(uint32_t code, unsigned n)
{
	uint32_t r = 0;
	for (unsigned i = 0; i < n; i++, code >>= 1)
		r = r << 1 | (code & 1);
	return r;
}

/* A prefix code: per symbol its bit-reversed code (for the LSB-first stream) and length. */
struct code {
	uint16_t c[288];
	uint8_t n[288];
};

#define LITLEN_SYMS 286 /* 0-255 literals, 256 end of block, 257-285 lengths */
#define DIST_SYMS 30
#define CL_SYMS 19
#define MAX_BITS 15
#define CL_MAX_BITS 7

/* The length code (0..28, symbol 257 + k) of each match length, and the fixed codes (RFC 1951
 * 3.2.6), made once. */
static uint8_t len_code[MAX_MATCH + 1];
static struct code fixed_lit, fixed_dist;

/* Bytes bit-reversed (made once, by tables_init). */
static uint8_t rev8[256];

/* The n <= 16 low bits of code, reversed. */
static inline uint16_t rev(uint32_t code, unsigned n)
{
	return (uint16_t)(((unsigned)rev8[code & 0xff] << 8 | rev8[code >> 8 & 0xff]) >> (16 - n));
}

/* Canonical codes from lengths n[0..ns) (RFC 1951 3.2.2). */
static void code_make(struct code *c, unsigned ns)
{
	unsigned count[MAX_BITS + 1] = {0}, next[MAX_BITS + 2];
	for (unsigned s = 0; s < ns; s++)
		count[c->n[s]]++;
	count[0] = 0;
	next[1] = 0;
	for (unsigned b = 1; b <= MAX_BITS; b++)
		next[b + 1] = (next[b] + count[b]) << 1;
	for (unsigned s = 0; s < ns; s++)
		c->c[s] = c->n[s] ? rev(next[c->n[s]]++, c->n[s]) : 0;
}

static void tables_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		rev8[v] = (uint8_t)reverse(v, 8);
	for (unsigned len = MIN_MATCH, k = 0; len <= MAX_MATCH; len++) {
		while (k < 28 && len_base[k + 1] <= len)
			k++;
		len_code[len] = (uint8_t)k;
	}
	for (unsigned s = 0; s < 288; s++)
		fixed_lit.n[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
	code_make(&fixed_lit, 288);
	for (unsigned d = 0; d < 32; d++)
		fixed_dist.n[d] = 5;
	code_make(&fixed_dist, 32);
}

struct sym {
	uint32_t f;
	uint16_t s;
};

/* Sort a[0..m) by frequency, stably (tmp: room for m): a byte of the frequency per pass, as
 * many passes as the largest needs. */
static void sym_sort(struct sym *a, unsigned m, struct sym *tmp)
{
	uint32_t all = 0;
	for (unsigned i = 0; i < m; i++)
		all |= a[i].f;
	struct sym *from = a, *to = tmp;
	for (unsigned sh = 0; sh < 32 && all >> sh; sh += 8) {
		unsigned at[257] = {0};
		for (unsigned i = 0; i < m; i++)
			at[(from[i].f >> sh & 0xff) + 1]++;
		for (unsigned d = 0; d < 256; d++)
			at[d + 1] += at[d];
		for (unsigned i = 0; i < m; i++)
			to[at[from[i].f >> sh & 0xff]++] = from[i];
		struct sym *t = from;
		from = to;
		to = t;
	}
	if (from != a)
		memcpy(a, from, m * sizeof *a);
}

/*
 * Huffman code lengths n[0..ns) for frequencies f[0..ns), at most maxb bits. At least two
 * symbols get a code (a symbol is given frequency 1 if needed), so the code is complete and
 * every inflater takes it. Deterministic: equal frequencies keep the order of their symbols.
 */
static void lengths(const uint32_t *f, unsigned ns, unsigned maxb, uint8_t *n)
{
	struct sym sy[288];
	unsigned m = 0;
	for (unsigned s = 0; s < ns; s++) {
		n[s] = 0;
		if (f[s])
			sy[m++] = (struct sym){f[s], (uint16_t)s};
	}
	for (unsigned s = 0; m < 2; s++) /* symbols 0, 1 as the missing ones */
		if (!f[s])
			sy[m++] = (struct sym){1, (uint16_t)s};
	if (m < 2) /* (not reached: two symbols were just given codes) */
		return;
	struct sym tmp[288];
	sym_sort(sy, m, tmp);
	/* Two queues: the sorted leaves, and internal nodes in the order they are made. */
	uint64_t w[2 * 288];
	uint16_t parent[2 * 288];
	uint8_t depth[2 * 288];
	for (unsigned i = 0; i < m; i++)
		w[i] = sy[i].f;
	unsigned li = 0, ii = m, nn = m;
	for (unsigned j = 0; j + 1 < m; j++) {
		unsigned ab[2];
		for (unsigned t = 0; t < 2; t++)
			ab[t] = li < m && (ii == nn || w[li] <= w[ii]) ? li++ : ii++;
		w[nn] = w[ab[0]] + w[ab[1]];
		parent[ab[0]] = parent[ab[1]] = (uint16_t)nn;
		nn++;
	}
	unsigned root = 2 * m - 2; /* = nn - 1: m leaves, m - 1 internal nodes */
	depth[root] = 0;
	for (unsigned x = root; x-- > 0;)
		depth[x] = (uint8_t)(depth[parent[x]] + 1 > 60 ? 60 : depth[parent[x]] + 1);
	/* Lengths limited to maxb (Kraft sum kept at 1): count per length, longer ones moved
	 * to maxb, then codes lengthened one at a time from the longest below maxb. */
	unsigned count[64] = {0};
	for (unsigned i = 0; i < m; i++)
		count[depth[i] > maxb ? maxb : depth[i]]++;
	uint64_t kraft = 0;
	for (unsigned b = 1; b <= maxb; b++)
		kraft += (uint64_t)count[b] << (maxb - b);
	while (kraft > (1ull << maxb)) {
		count[maxb]--;
		for (unsigned b = maxb - 1; b > 0; b--)
			if (count[b]) {
				count[b]--;
				count[b + 1] += 2;
				break;
			}
		kraft--;
	}
	/* The most frequent symbols (last in sy) get the shortest codes. */
	for (unsigned b = 1, j = m; b <= maxb; b++)
		for (unsigned k = count[b]; k > 0; k--)
			n[sy[--j].s] = (uint8_t)b;
}

static void put_code(struct bits *b, const struct code *c, unsigned sym)
{
	put(b, c->c[sym], c->n[sym]);
}

static unsigned dist_code(unsigned dist)
{
	unsigned d = 0;
	while (d < 29 && dist_base[d + 1] <= dist)
		d++;
	return d;
}

/* Bytes p[0..] and p[-dist..] have in common, at most max. */
static unsigned common(const uint8_t *p, unsigned dist, unsigned max)
{
	const uint8_t *q = p - dist;
	unsigned n = 0;
	while (n + 8 <= max) {
		uint64_t a, c;
		memcpy(&a, p + n, 8);
		memcpy(&c, q + n, 8);
		if (a != c) {
			uint64_t x = a ^ c; /* little-endian host: the first differing byte */
			return n + (unsigned)(__builtin_ctzll(x) / 8);
		}
		n += 8;
	}
	while (n < max && p[n] == q[n])
		n++;
	return n;
}

/* How many of the bytes p[0..lim) cannot start a match at distance dist (fewer than
 * MIN_MATCH equal bytes from there), eight bytes at a time: the literals before the next
 * match, or lim. Needs p[0..lim + 2) readable (lim + 2 <= the blob's end). */
static size_t literals(const uint8_t *p, size_t dist, size_t lim)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;
	size_t j = 0;
	while (j + 8 <= lim + 2) {
		uint64_t a, c;
		memcpy(&a, p + j, 8);
		memcpy(&c, p + j - dist, 8);
		uint64_t x = a ^ c;
		/* 0x80 in each byte of x that is zero (exact: no borrow between bytes) */
		uint64_t z = ~(((x & lo7) + lo7) | x | lo7);
		uint64_t t = z & z >> 8 & z >> 16; /* byte k: bytes k, k+1, k+2 equal */
		if (t) {
			size_t k = j + (size_t)(__builtin_ctzll(t) / 8);
			return k < lim ? k : lim;
		}
		j += 6; /* bytes j..j+5 start no match */
	}
	for (; j < lim; j++)
		if (p[j] == p[j - dist] && p[j + 1] == p[j + 1 - dist] &&
		    p[j + 2] == p[j + 2 - dist])
			return j;
	return lim;
}

/* A match found by the scan: where, how long, at which distance (and its code). */
struct match {
	uint32_t pos;
	uint16_t len_dcode; /* length | distance code << 9 */
	uint16_t dist;
};

/* The scan: the longest match at the span's distance, else literals; the symbols counted
 * into lf and df, the matches into m[] (at most n / MIN_MATCH + 1). Returns their number. */
static size_t scan(const uint8_t *in, size_t n, const struct image_span *sp, size_t nsp,
                   uint32_t *lf, uint32_t *df, struct match *m)
{
	size_t k = 0, i = 0, dist = 0, end = 0, nm = 0; /* end: where the span's distance ends */
	unsigned dcode = 0;
	while (i < n) {
		if (k < nsp && sp[k].start <= i) { /* a new span: its distance */
			while (k + 1 < nsp && sp[k + 1].start <= i)
				k++;
			dist = sp[k].dist <= WINDOW ? sp[k].dist : 0;
			dcode = dist_code((unsigned)dist);
			k++;
		}
		end = k < nsp && sp[k].start < n ? sp[k].start : n;
		size_t lit = end - i; /* literals from i: no distance, or none reaching back yet */
		if (dist > i) {
			lit = (end < dist ? end : dist) - i;
		} else if (dist) {
			size_t max = n - i < MAX_MATCH ? n - i : MAX_MATCH;
			unsigned len = common(in + i, (unsigned)dist, (unsigned)max);
			if (len >= MIN_MATCH) {
				lf[257 + len_code[len]]++;
				df[dcode]++;
				m[nm++] = (struct match){(uint32_t)i, (uint16_t)(len | dcode << 9),
				                         (uint16_t)dist};
				i += len;
				continue;
			}
			/* i is a literal; so are the next ones up to a match or the span's end
			 * (the last two bytes of the blob cannot start one) */
			size_t lim = end < n - 2 ? end : n - 2;
			lit = lim > i + 1 ? 1 + literals(in + i + 1, dist, lim - i - 1) : 1;
		}
		for (const uint8_t *q = in + i, *qe = q + lit; q < qe; q++)
			lf[*q]++;
		i += lit;
	}
	return nm;
}

/* The block's symbols written with codes lc, dc: literals between the matches m[0..nm). */
static void emit(struct bits *b, const uint8_t *in, size_t n, const struct match *m, size_t nm,
                 const struct code *lc, const struct code *dc)
{
	size_t i = 0;
	for (size_t j = 0; j <= nm && !b->over; j++) {
		size_t to = j < nm ? m[j].pos : n;
		for (; i + 1 < to; i += 2) { /* two literals at once: at most 30 bits */
			unsigned x = in[i], y = in[i + 1];
			put(b, lc->c[x] | (uint32_t)lc->c[y] << lc->n[x], lc->n[x] + lc->n[y]);
		}
		if (i < to)
			put_code(b, lc, in[i++]);
		if (j == nm)
			break;
		unsigned len = m[j].len_dcode & 0x1ff, d = m[j].len_dcode >> 9, lk = len_code[len];
		put_code(b, lc, 257 + lk);
		if (len_extra[lk])
			put(b, len - len_base[lk], len_extra[lk]);
		put_code(b, dc, d);
		if (dist_extra[d])
			put(b, m[j].dist - dist_base[d], dist_extra[d]);
		i += len;
	}
	put_code(b, lc, 256); /* end of block */
}

/* Bits of the symbols counted in lf, df with codes lc, dc (extra bits included). */
static uint64_t cost(const uint32_t *lf, const uint32_t *df, const struct code *lc,
                     const struct code *dc)
{
	uint64_t t = 0;
	for (unsigned s = 0; s < LITLEN_SYMS; s++)
		t += (uint64_t)lf[s] * (lc->n[s] + (s > 256 ? len_extra[s - 257] : 0));
	for (unsigned d = 0; d < DIST_SYMS; d++)
		t += (uint64_t)df[d] * (dc->n[d] + dist_extra[d]);
	return t;
}

/* The code lengths of both codes, run-length coded with symbols 16, 17, 18 (RFC 1951
 * 3.2.7): rl[] holds symbol | extra value << 8. */
static unsigned rle(const uint8_t *len, unsigned nl, uint16_t *rl)
{
	unsigned r = 0;
	for (unsigned i = 0; i < nl;) {
		unsigned v = len[i], run = 1;
		while (i + run < nl && len[i + run] == v)
			run++;
		i += run;
		if (v == 0) {
			while (run >= 11) {
				unsigned t = run > 138 ? 138 : run;
				rl[r++] = (uint16_t)(18 | (t - 11) << 8);
				run -= t;
			}
			if (run >= 3) {
				rl[r++] = (uint16_t)(17 | (run - 3) << 8);
				run = 0;
			}
		} else {
			rl[r++] = (uint16_t)v;
			run--;
			while (run >= 3) {
				unsigned t = run > 6 ? 6 : run;
				rl[r++] = (uint16_t)(16 | (t - 3) << 8);
				run -= t;
			}
		}
		while (run--)
			rl[r++] = (uint16_t)v;
	}
	return r;
}

static const uint8_t cl_order[CL_SYMS] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                          11, 4,  12, 3, 13, 2, 14, 1, 15};

/* A dynamic block's header for codes lc, dc: its parts, and its size in bits. */
struct dyn_hdr {
	unsigned hlit, hdist, hclen, nrl;
	uint16_t rl[LITLEN_SYMS + DIST_SYMS];
	struct code cl;
};

static uint64_t dyn_header(struct dyn_hdr *h, const struct code *lc, const struct code *dc)
{
	h->hlit = LITLEN_SYMS;
	while (h->hlit > 257 && !lc->n[h->hlit - 1])
		h->hlit--;
	h->hdist = DIST_SYMS;
	while (h->hdist > 1 && !dc->n[h->hdist - 1])
		h->hdist--;
	uint8_t all[LITLEN_SYMS + DIST_SYMS];
	memcpy(all, lc->n, h->hlit);
	memcpy(all + h->hlit, dc->n, h->hdist);
	h->nrl = rle(all, h->hlit + h->hdist, h->rl);
	uint32_t cf[CL_SYMS] = {0};
	for (unsigned i = 0; i < h->nrl; i++)
		cf[h->rl[i] & 0xff]++;
	lengths(cf, CL_SYMS, CL_MAX_BITS, h->cl.n);
	code_make(&h->cl, CL_SYMS);
	h->hclen = CL_SYMS;
	while (h->hclen > 4 && !h->cl.n[cl_order[h->hclen - 1]])
		h->hclen--;
	uint64_t bits = 5 + 5 + 4 + 3 * (uint64_t)h->hclen;
	for (unsigned i = 0; i < h->nrl; i++) {
		unsigned s = h->rl[i] & 0xff;
		bits += h->cl.n[s] + (s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0);
	}
	return bits;
}

static void put_dyn_header(struct bits *b, const struct dyn_hdr *h)
{
	put(b, h->hlit - 257, 5);
	put(b, h->hdist - 1, 5);
	put(b, h->hclen - 4, 4);
	for (unsigned i = 0; i < h->hclen; i++)
		put(b, h->cl.n[cl_order[i]], 3);
	for (unsigned i = 0; i < h->nrl; i++) {
		unsigned s = h->rl[i] & 0xff, x = h->rl[i] >> 8;
		put_code(b, &h->cl, s);
		if (s >= 16)
			put(b, x, s == 16 ? 2 : s == 17 ? 3 : 7);
	}
}

size_t image_deflate_bound(size_t n)
{
	return n + n / 8 + 64; /* literals of 9 bits at worst, header, trailer */
}

size_t image_deflate(const uint8_t *in, size_t n, const struct image_span *sp, size_t nsp,
                     uint8_t *out, size_t cap, struct image_deflate_tmp *tmp)
{
	if (cap < 6)
		return 0;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, tables_init);
	struct image_deflate_tmp own = {0};
	if (!tmp)
		tmp = &own;
	size_t need = (n / MIN_MATCH + 1) * sizeof(struct match);
	if (tmp->cap < need) {
		free(tmp->p);
		tmp->cap = need + need / 4;
		if (!(tmp->p = malloc(tmp->cap))) {
			tmp->cap = 0;
			return 0;
		}
	}
	/* The symbols, their codes, and whichever block is smaller: dynamic (codes and header)
	 * or fixed. */
	uint32_t lf[LITLEN_SYMS] = {0}, df[DIST_SYMS] = {0};
	struct match *m = tmp->p;
	size_t nm = scan(in, n, sp, nsp, lf, df, m);
	lf[256] = 1; /* end of block */
	struct code lc, dc;
	lengths(lf, LITLEN_SYMS, MAX_BITS, lc.n);
	code_make(&lc, LITLEN_SYMS);
	lengths(df, DIST_SYMS, MAX_BITS, dc.n);
	code_make(&dc, DIST_SYMS);
	struct dyn_hdr h;
	uint64_t dyn = dyn_header(&h, &lc, &dc) + cost(lf, df, &lc, &dc);
	bool dynamic = dyn < cost(lf, df, &fixed_lit, &fixed_dist);
	out[0] = 0x78; /* deflate, 32 KiB window */
	out[1] = 0x01; /* fastest; (0x78 << 8 | 0x01) % 31 == 0 */
	struct bits b = {.p = out + 2, .end = out + cap - 4};
	put(&b, 1, 1);               /* BFINAL */
	put(&b, dynamic ? 2 : 1, 2); /* BTYPE 10 dynamic, 01 fixed Huffman codes */
	if (dynamic)
		put_dyn_header(&b, &h);
	emit(&b, in, n, m, nm, dynamic ? &lc : &fixed_lit, dynamic ? &dc : &fixed_dist);
	flush(&b);
	free(own.p);
	if (b.over)
		return 0;
	uint32_t a = libdeflate_adler32(1, in, n);
	uint8_t *t = b.p; /* the trailer's 4 bytes are kept free (end = out + cap - 4) */
	t[0] = (uint8_t)(a >> 24);
	t[1] = (uint8_t)(a >> 16);
	t[2] = (uint8_t)(a >> 8);
	t[3] = (uint8_t)a;
	return (size_t)(t + 4 - out);
}
