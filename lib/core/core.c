// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocator core: segregated fit with out-of-band metadata.
 * Design notes are in core_impl.h and Documentation/heap.rst.
 *
 * Every operation is O(1) or bounded: size classes come from two bitmaps
 * and a count of leading zeros, block sizes and neighbours from the
 * per-segment block-start bitmap (a bounded number of levels), free
 * blocks from a hash of records.  Live blocks cost no record, so
 * a free() whose block has no free neighbour needs one: the record pool
 * and its hash keep spare room grown on the allocation path, and free()
 * grows them itself only when that room is used up (amortised O(1)).  If
 * even that fails, free() still succeeds: the cache gives its records
 * back, and failing that the block becomes an orphan (core_impl.h), free
 * but not allocatable until the allocation path gives it a record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define NO_SEG16	((uint16_t)HM_SEG_NONE)
/* Spare records and hash room kept by the allocation path for free(). */
#define REC_SPARE	8u
/* Scan budget for orphans per allocation: bitmap words plus lookups. */
#define ADOPT_BUDGET	64u

/*
 * Every metadata allocation goes through these: a unit test that includes
 * this file defines them first to make them fail.
 */
#ifndef meta_calloc
#define meta_calloc(n, size)	calloc(n, size)
#define meta_realloc(p, size)	realloc(p, size)
#endif

/* ---- block-start bitmap ------------------------------------------------- */

static void bm_set(struct hm_seg *g, uint32_t pos)
{
	unsigned int k;
	uint64_t p = pos, *w, was;

	for (k = 0; k <= g->bm_top; k++, p >>= 6) {
		w = &g->bm[g->bm_lo[k] + (p >> 6)];
		was = *w;
		*w |= 1ull << (p & 63);
		if (was)
			break;
	}
}

static void bm_clear(struct hm_seg *g, uint32_t pos)
{
	unsigned int k;
	uint64_t p = pos, *w;

	for (k = 0; k <= g->bm_top; k++, p >>= 6) {
		w = &g->bm[g->bm_lo[k] + (p >> 6)];
		*w &= ~(1ull << (p & 63));
		if (*w)
			break;
	}
}

/* Size the levels of @g's bitmap for g->ngran granules and allocate it clear. */
static int bm_alloc(struct hm_seg *g)
{
	uint64_t bits = g->ngran, words = 0;
	unsigned int k = 0;

	for (;;) {
		uint64_t nw = (bits + 63) / 64;

		g->bm_lo[k] = (uint32_t)words;
		g->bm_nw[k] = (uint32_t)nw;
		words += nw;
		if (nw == 1)
			break;
		bits = nw;
		k++;
	}
	g->bm_top = (uint8_t)k;
	g->bm_words = (uint32_t)(words + g->bm_nw[0]);
	g->bm = meta_calloc(g->bm_words, sizeof(*g->bm));
	if (!g->bm)
		return -ENOMEM;
	g->nl = g->bm + words;
	return 0;
}

/* ---- record pool -------------------------------------------------------- */

/* Make @n records available without further allocation. */
static int rec_reserve(struct hm_core *c, uint32_t n)
{
	uint32_t cap, i;
	struct hm_rec *nr;

	if (c->rec_spare >= n)
		return 0;
	/* Grow by an eighth: the pool stays within ~12% of its peak need. */
	cap = c->rec_cap;
	while (cap - c->rec_cap + c->rec_spare < n) {
		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		cap += cap / 8 > 16 ? cap / 8 : 16;
	}
	nr = meta_realloc(c->rec, (size_t)cap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	/* Id 0 means "none", so a fresh pool starts handing out id 1. */
	for (i = cap; i-- > (c->rec_cap ? c->rec_cap : 1);) {
		nr[i] = (struct hm_rec){ .state = ST_POOL, .next = c->rec_pool };
		c->rec_pool = i;
		c->rec_spare++;
	}
	if (!c->rec_cap)
		nr[0] = (struct hm_rec){ 0 };
	c->rec = nr;
	c->rec_cap = cap;
	return 0;
}

static uint32_t rec_get(struct hm_core *c)
{
	uint32_t id = c->rec_pool;

	c->rec_pool = c->rec[id].next;
	c->rec_spare--;
	return id;
}

/* Every taker of a record from the pool fills it whole. */
static void rec_put(struct hm_core *c, uint32_t id)
{
	c->rec[id].state = ST_POOL;
	c->rec[id].next = c->rec_pool;
	c->rec_pool = id;
	c->rec_spare++;
}

/* ---- record index ------------------------------------------------------- */


static void rix_put(struct hm_core *c, uint32_t id)
{
	uint32_t i = rix_hash(c, c->rec[id].seg, c->rec[id].off);

	while (c->rix[i])
		i = rix_next(c, i);
	c->rix[i] = id;
	c->rix_count++;
}

/*
 * Room for @n more entries at a load factor of at most 1/2.  The table
 * doubles when needed and quarters below 1/8 full (hysteresis), so its
 * size follows the free and cached block count both ways; a rehash costs
 * amortised O(1) per operation.
 */
static int rix_reserve(struct hm_core *c, uint32_t n)
{
	uint32_t old_size = c->rix_size, size, i, *old = c->rix;
	bool shrink = false;

	if ((uint64_t)(c->rix_count + n) * 2 <= old_size) {
		if (old_size <= 64 || (uint64_t)(c->rix_count + n) * 8 >= old_size)
			return 0;
		size = old_size / 4;
		shrink = true;
	} else {
		size = old_size ? old_size : 32;
		while ((uint64_t)(c->rix_count + n) * 2 > size) {
			if (size >= (1u << 31))
				return -ENOMEM;
			size *= 2;
		}
	}
	c->rix = meta_calloc(size, sizeof(*c->rix));
	if (!c->rix) {
		c->rix = old;
		/* A failed shrink is harmless: the larger table stays. */
		return shrink ? 0 : -ENOMEM;
	}
	c->rix_size = size;
	c->rix_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i])
			rix_put(c, old[i]);
	free(old);
	return 0;
}

/* Remove record @id (present) by backward shift, keeping probe chains intact. */
static void rix_remove(struct hm_core *c, uint32_t id)
{
	uint32_t hole = rix_hash(c, c->rec[id].seg, c->rec[id].off), i, mask = c->rix_size - 1;

	while (c->rix[hole] != id)
		hole = rix_next(c, hole);
	for (i = hole;;) {
		uint32_t home, j;

		i = rix_next(c, i);
		j = c->rix[i];
		if (!j)
			break;
		home = rix_hash(c, c->rec[j].seg, c->rec[j].off);
		/* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			c->rix[hole] = j;
			hole = i;
		}
	}
	c->rix[hole] = 0;
	c->rix_count--;
}

/* Record @id starts at @off from now on. */
static void rix_move(struct hm_core *c, uint32_t id, uint32_t off)
{
	rix_remove(c, id);
	c->rec[id].off = off;
	rix_put(c, id);
}

/* Record @src (in use) becomes record @dst (unused): every reference follows. */
static void rec_move(struct hm_core *c, uint32_t src, uint32_t dst)
{
	struct hm_rec *b = &c->rec[src];
	unsigned int bk = bucket_of(b->size);
	uint32_t i, x;

	if (b->state == ST_FREE) {
		for (i = rix_hash(c, b->seg, b->off); c->rix[i] != src; i = rix_next(c, i))
			;
		c->rix[i] = dst;
		if (b->prev)
			c->rec[b->prev].next = dst;
		else
			c->heads[bk] = dst;
		if (b->next)
			c->rec[b->next].prev = dst;
	} else if (c->cache_head[bk] == src) {
		c->cache_head[bk] = dst;
	} else {
		/* A cache stack is at most CACHE_DEPTH deep. */
		for (x = c->cache_head[bk]; c->rec[x].next != src; x = c->rec[x].next)
			;
		c->rec[x].next = dst;
	}
	c->rec[dst] = *b;
}
/*
 * Give back most of a pool at most 1/4 in use: records above the new end
 * move down (O(pool), amortised over the frees that emptied it), so the
 * pool follows the free and cached block count down as well as up.
 */
static void rec_shrink(struct hm_core *c)
{
	uint32_t used = c->rec_cap - 1 - c->rec_spare, cap = 2 * used + 2, src, dst = 1, i;
	struct hm_rec *nr;

	if (c->rec_cap <= 64 || (uint64_t)used * 4 >= c->rec_cap)
		return;
	if (cap < 64)
		cap = 64;
	for (src = cap; src < c->rec_cap; src++) {
		if (c->rec[src].state == ST_POOL)
			continue;
		while (c->rec[dst].state != ST_POOL)
			dst++;
		rec_move(c, src, dst);
		c->rec[src].state = ST_POOL;
		dst++;
	}
	c->rec_pool = 0;
	c->rec_spare = 0;
	for (i = cap; i-- > 1;)
		if (c->rec[i].state == ST_POOL) {
			c->rec[i].next = c->rec_pool;
			c->rec_pool = i;
			c->rec_spare++;
		}
	nr = meta_realloc(c->rec, (size_t)cap * sizeof(*nr));
	if (nr)
		c->rec = nr;
	c->rec_cap = cap;
}

/*
 * Room for everything a free() may add: one record and its index entry,
 * and index room for every cached block (a flush indexes them all).
 */
static __attribute__((noinline)) int free_room_grow(struct hm_core *c)
{
	return rec_reserve(c, 1) || rix_reserve(c, c->cached_blocks + 1) ? -ENOMEM : 0;
}

/* Room for @n new free or cached records without allocating. */
static inline bool room_for(const struct hm_core *c, uint32_t n)
{
	return c->rec_spare >= n &&
	       (uint64_t)(c->rix_count + c->cached_blocks + n) * 2 <= c->rix_size;
}

static inline int free_room(struct hm_core *c)
{
	if (room_for(c, 1))
		return 0;
	return free_room_grow(c);
}
/* ---- tags --------------------------------------------------------------- */

static void tag_put(struct hm_core *c, uint64_t key, uint32_t tag)
{
	uint32_t i;

	for (i = tag_hash(c, key); c->tags[i].key && c->tags[i].key != key;
	     i = (i + 1) & (c->tag_size - 1))
		;
	if (!c->tags[i].key)
		c->tag_count++;
	c->tags[i] = (struct hm_tag_ent){ .key = key, .tag = tag };
}

/* Room for one more tag, at a load factor of at most 1/2. */
static int tag_reserve(struct hm_core *c)
{
	uint32_t old_size = c->tag_size, size, i;
	struct hm_tag_ent *old = c->tags;

	if ((uint64_t)(c->tag_count + 1) * 2 <= old_size)
		return 0;
	if (old_size >= (1u << 31))
		return -ENOMEM;
	size = old_size ? old_size * 2 : 16;
	c->tags = meta_calloc(size, sizeof(*c->tags));
	if (!c->tags) {
		c->tags = old;
		return -ENOMEM;
	}
	c->tag_size = size;
	c->tag_count = 0;
	for (i = 0; i < old_size; i++)
		if (old[i].key)
			tag_put(c, old[i].key, old[i].tag);
	free(old);
	return 0;
}

/* Forget the tag of (@seg, @off), if any; the table goes once empty. */
static void tag_drop_slow(struct hm_core *c, unsigned int seg, uint32_t off)
{
	uint64_t key = tag_key(seg, off);
	uint32_t hole, i, mask;

	if (!c->tag_count)
		return;
	mask = c->tag_size - 1;
	for (hole = tag_hash(c, key); c->tags[hole].key != key; hole = (hole + 1) & mask)
		if (!c->tags[hole].key)
			return;
	for (i = hole;;) {
		uint32_t home;

		i = (i + 1) & mask;
		if (!c->tags[i].key)
			break;
		home = tag_hash(c, c->tags[i].key);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			c->tags[hole] = c->tags[i];
			hole = i;
		}
	}
	c->tags[hole].key = 0;
	if (!--c->tag_count) {
		free(c->tags);
		c->tags = NULL;
		c->tag_size = 0;
	}
}

static inline void tag_drop(struct hm_core *c, unsigned int seg, uint32_t off)
{
	if (c->tag_count)
		tag_drop_slow(c, seg, off);
}

/* Stamp the current tag on a block becoming live (room reserved when non-zero). */
static void tag_stamp(struct hm_core *c, unsigned int seg, uint32_t off)
{
	if (c->tag)
		tag_put(c, tag_key(seg, off), c->tag);
	else
		tag_drop(c, seg, off);
}

/* ---- segregated free lists ---------------------------------------------- */

static void list_insert(struct hm_core *c, uint32_t id)
{
	struct hm_rec *b = &c->rec[id];
	unsigned int bk = bucket_of(b->size);

	b->state = ST_FREE;
	b->prev = 0;
	b->next = c->heads[bk];
	if (b->next)
		c->rec[b->next].prev = id;
	c->heads[bk] = id;
	c->fl_bitmap |= 1u << (bk / SL_COUNT);
	c->sl_bitmap[bk / SL_COUNT] |= 1u << (bk % SL_COUNT);
	c->free_blocks++;
}

static void list_remove(struct hm_core *c, uint32_t id)
{
	struct hm_rec *b = &c->rec[id];
	unsigned int bk = bucket_of(b->size);

	if (b->prev)
		c->rec[b->prev].next = b->next;
	else
		c->heads[bk] = b->next;
	if (b->next)
		c->rec[b->next].prev = b->prev;
	if (!c->heads[bk]) {
		c->sl_bitmap[bk / SL_COUNT] &= ~(1u << (bk % SL_COUNT));
		if (!c->sl_bitmap[bk / SL_COUNT])
			c->fl_bitmap &= ~(1u << (bk / SL_COUNT));
	}
	c->free_blocks--;
}

/* First non-empty class at or above @bk, or BUCKETS. */
static unsigned int bucket_nonempty(const struct hm_core *c, unsigned int bk)
{
	unsigned int fl = bk / SL_COUNT;
	uint32_t sl_map, fl_map;

	if (bk >= BUCKETS)
		return BUCKETS;
	sl_map = c->sl_bitmap[fl] & (~0u << (bk % SL_COUNT));
	if (!sl_map) {
		fl_map = c->fl_bitmap & (~0u << (fl + 1));
		if (!fl_map)
			return BUCKETS;
		fl = (unsigned int)__builtin_ctz(fl_map);
		sl_map = c->sl_bitmap[fl];
	}
	return fl * SL_COUNT + (unsigned int)__builtin_ctz(sl_map);
}

/* Is free block @a a better fit than @b (or 0): smaller, or as small and lower? */
static bool better_fit(const struct hm_core *c, uint32_t a, uint32_t b)
{
	const struct hm_rec *x = &c->rec[a], *y = &c->rec[b];

	if (!b || x->size != y->size)
		return !b || x->size < y->size;
	return ((uint64_t)x->seg << 32 | x->off) < ((uint64_t)y->seg << 32 | y->off);
}

/*
 * Unlink and return a free block of at least @n granules, or 0: the best
 * fit among the first FIT_PROBE blocks of @n's own class, else among the
 * first FIT_PROBE of the first non-empty class whose blocks all fit.  The
 * rounded-up search alone would skip a block that fits exactly (as when a
 * fresh segment is sized to the request); preferring the smallest block,
 * and of equal ones the lowest, keeps large blocks whole and the free
 * space at the end of the segments in one piece.
 */
static uint32_t take_free(struct hm_core *c, uint32_t n)
{
	unsigned int k, bk = bucket_of(n);
	uint32_t id, best = 0;

	for (k = 0, id = c->heads[bk]; id && k < FIT_PROBE; k++, id = c->rec[id].next)
		if (c->rec[id].size >= n && better_fit(c, id, best))
			best = id;
	if (!best) {
		bk = bucket_nonempty(c, bucket_fit(n));
		if (bk == BUCKETS)
			return 0;
		for (k = 0, id = c->heads[bk]; id && k < FIT_PROBE; k++, id = c->rec[id].next)
			if (better_fit(c, id, best))
				best = id;
	}
	list_remove(c, best);
	return best;
}

/* ---- segment accounting ------------------------------------------------- */

static void unused_link(struct hm_core *c, uint16_t s)
{
	c->unused_gran += c->seg[s].ngran;
	c->seg[s].unused_prev = NO_SEG16;
	c->seg[s].unused_next = c->unused_head;
	if (c->unused_head != NO_SEG16)
		c->seg[c->unused_head].unused_prev = s;
	c->unused_head = s;
	c->nunused++;
}

static void unused_unlink(struct hm_core *c, uint16_t s)
{
	struct hm_seg *g = &c->seg[s];

	c->unused_gran -= g->ngran;
	if (g->unused_prev != NO_SEG16)
		c->seg[g->unused_prev].unused_next = g->unused_next;
	else
		c->unused_head = g->unused_next;
	if (g->unused_next != NO_SEG16)
		c->seg[g->unused_next].unused_prev = g->unused_prev;
	c->nunused--;
}

static void seg_busy_add(struct hm_core *c, uint16_t s, uint32_t n)
{
	if (!c->seg[s].busy)
		unused_unlink(c, s);
	c->seg[s].busy += n;
}

static void seg_busy_sub(struct hm_core *c, uint16_t s, uint32_t n)
{
	HM_CORE_ASSERT(c->seg[s].busy >= n);
	c->seg[s].busy -= n;
	if (!c->seg[s].busy)
		unused_link(c, s);
}

static void used_add(struct hm_core *c, uint32_t n)
{
	c->used_gran += n;
	if (c->used_gran > c->peak_used_gran)
		c->peak_used_gran = c->used_gran;
}

/* The cache's bound: none while there are orphans (see core_impl.h). */
static void update_cache_cap(struct hm_core *c)
{
	uint64_t share = c->total_gran / CACHE_HEAP_SHARE;
	uint64_t limit = c->cache_limit >> GRAN_SHIFT;

	c->cache_cap_gran = c->orphans ? 0 : share < limit ? share : limit;
}

/* ---- block life cycle --------------------------------------------------- */

/* The block at (@s, @off) of @n granules becomes live (its start bit is set). */
static uintptr_t make_live(struct hm_core *c, uint16_t s, uint32_t off, uint32_t n)
{
	HM_CORE_ASSERT(n && off < c->seg[s].ngran && n <= c->seg[s].ngran - off);
	HM_CORE_ASSERT(bm_test(&c->seg[s], off) && !nl_test(&c->seg[s], off));
	HM_CORE_ASSERT(blk_size(&c->seg[s], off) == n);
	tag_stamp(c, s, off);
	seg_busy_add(c, s, n);
	used_add(c, n);
	c->live_blocks++;
	return seg_addr(c, s, off);
}

/* The orphan count of segment @s changes by @d; the cache closes while there are any. */
static void orphans_add(struct hm_core *c, uint16_t s, int d)
{
	bool had = c->orphans;

	HM_CORE_ASSERT(d >= 0 || (c->orphans >= (uint32_t)-d &&
				  c->seg[s].orphans >= (uint32_t)-d));
	c->orphans += (uint32_t)d;
	c->seg[s].orphans += (uint32_t)d;
	if (had != !!c->orphans)
		update_cache_cap(c);
}

/*
 * The block [@off, @off + @n) of segment @s, live or cached, returns to the
 * free lists, merged with its free neighbours (orphans included).  @id is
 * its record (cached block, out of the index) or 0 (live block).  The
 * merged block keeps a neighbour's record, else @id, else a spare one; with
 * none of these it becomes (or stays) an orphan.
 */
static void release(struct hm_core *c, uint16_t s, uint32_t off, uint32_t n, uint32_t id)
{
	struct hm_seg *g = &c->seg[s];
	uint32_t r = 0, l = 0, end = off + n, start = off, keep;
	bool ro = false, lo = false;

	/* A block start, live (@id 0) or cached (its record, state cached). */
	HM_CORE_ASSERT(bm_test(g, off) && blk_size(g, off) == n);
	HM_CORE_ASSERT(id ? nl_test(g, off) && c->rec[id].state == ST_CACHED : !nl_test(g, off));
	seg_busy_sub(c, s, n);
	tag_drop(c, s, off);
	/* A not-live start without a record: cached, or an orphan if there are any. */
	if (end < g->ngran && nl_test(g, end)) {
		r = rix_find(c, s, end);
		ro = !r && c->orphans;
	}
	if (off) {
		uint32_t p = bm_prev(g, off - 1);

		if (nl_test(g, p)) {
			l = rix_find(c, s, p);
			lo = !l && c->orphans;
			if (l || lo)
				start = p;
		}
	}
	if (r || ro) {
		if (r) {
			/* The record's size is the bitmap's distance to the next start. */
			HM_CORE_ASSERT(c->rec[r].size == blk_size(g, end) && c->rec[r].state == ST_FREE);
			list_remove(c, r);
			n += c->rec[r].size;
		} else {
			n += blk_size(g, end);
		}
		bm_clear(g, end);
		nl_clear(g, end);
	}
	if (start != off) {
		n += off - start;
		bm_clear(g, off);
		nl_clear(g, off);
	} else {
		nl_set(g, off);
	}
	if (ro || lo)
		orphans_add(c, s, -(int)ro - (int)lo);
	if (l) {
		/* The left neighbour's record takes it all. */
		HM_CORE_ASSERT(c->rec[l].size == off - start && c->rec[l].state == ST_FREE);
		list_remove(c, l);
		keep = l;
	} else if (r) {
		/* The right neighbour's record moves to the block's start. */
		rix_move(c, r, start);
		keep = r;
		r = 0;
	} else if (id || room_for(c, 1)) {
		keep = id ? id : rec_get(c);
		id = 0;
		c->rec[keep] = (struct hm_rec){ .off = start, .seg = s };
		rix_put(c, keep);
	} else {
		orphans_add(c, s, 1);
		return;
	}
	if (r) {
		rix_remove(c, r);
		rec_put(c, r);
	}
	if (id)
		rec_put(c, id);
	c->rec[keep].size = n;
	list_insert(c, keep);
}

/* ---- front-end cache ---------------------------------------------------- */

/*
 * Park the live block (@s, @off, @n) in the cache (room for a record is
 * there, see free_room()); 0 if it does not go there.
 */
static int cache_put(struct hm_core *c, uint16_t s, uint32_t off, uint32_t n)
{
	unsigned int bk;
	uint32_t id;

	if (n > CACHE_MAX_GRAN || c->cached_gran + n > c->cache_cap_gran)
		return 0;
	bk = bucket_of(n);
	if (c->cache_count[bk] >= CACHE_DEPTH)
		return 0;
	id = rec_get(c);
	c->rec[id] = (struct hm_rec){
		.off = off, .size = n, .seg = s, .state = ST_CACHED, .next = c->cache_head[bk],
	};
	nl_set(&c->seg[s], off);
	c->cache_head[bk] = id;
	c->cache_count[bk]++;
	c->cached_gran += n;
	c->cached_blocks++;
	return 1;
}

/* Address of a cached block of at least @n granules made live again, or 0. */
static uintptr_t cache_get(struct hm_core *c, uint32_t n)
{
	unsigned int bk = bucket_fit(n);
	uint32_t id, size, off;
	uint16_t s;

	if (bk >= CACHE_BUCKETS || !(id = c->cache_head[bk]))
		return 0;
	if (c->tag && tag_reserve(c))
		return 0;
	c->cache_head[bk] = c->rec[id].next;
	c->cache_count[bk]--;
	s = c->rec[id].seg;
	off = c->rec[id].off;
	size = c->rec[id].size;
	rec_put(c, id);
	HM_CORE_ASSERT(bm_test(&c->seg[s], off) && nl_test(&c->seg[s], off));
	HM_CORE_ASSERT(c->cached_gran >= size && c->cached_blocks);
	nl_clear(&c->seg[s], off);
	c->cached_gran -= size;
	c->cached_blocks--;
	tag_stamp(c, s, off);
	used_add(c, size);
	c->live_blocks++;
	return seg_addr(c, s, off);
}

void hm_core_flush_cache(struct hm_core *c)
{
	unsigned int bk;
	uint32_t id;

	for (bk = 0; bk < CACHE_BUCKETS; bk++) {
		while ((id = c->cache_head[bk]) != 0) {
			struct hm_rec *b = &c->rec[id];

			c->cache_head[bk] = b->next;
			c->cached_gran -= b->size;
			c->cached_blocks--;
			release(c, b->seg, b->off, b->size, id);
		}
		c->cache_count[bk] = 0;
	}
}

void hm_core_set_cache_limit(struct hm_core *c, size_t limit)
{
	c->cache_limit = limit;
	update_cache_cap(c);
	if (c->cached_gran > c->cache_cap_gran)
		hm_core_flush_cache(c);
}

/* ---- allocation --------------------------------------------------------- */

static uint32_t granules(size_t size)
{
	return size ? (uint32_t)((size + HM_CORE_GRANULE - 1) >> GRAN_SHIFT) : 1;
}

size_t hm_core_need(size_t size, size_t align)
{
	size_t lead = align > HM_CORE_GRANULE ? align - HM_CORE_GRANULE : 0;

	if (size > HM_CORE_MAX_BLOCK || lead > HM_CORE_MAX_BLOCK - size)
		return 0;
	return ((size_t)granules(size) << GRAN_SHIFT) + lead;
}

/*
 * Carve a live block of @n granules out of free block @id (unlinked), at
 * @lead granules from its start; what is left on either side stays free.
 * Needs one spare record and index slot.  Returns the block's offset.
 */
static uint32_t carve(struct hm_core *c, uint32_t id, uint32_t lead, uint32_t n)
{
	struct hm_rec *b = &c->rec[id];
	struct hm_seg *g = &c->seg[b->seg];
	uint32_t off = b->off + lead, rest = b->size - lead - n, t;
	uint16_t s = b->seg;

	if (lead) {
		/* The leading gap keeps the record; its left neighbour is not free. */
		bm_set(g, off);
		b->size = lead;
		list_insert(c, id);
		if (rest) {
			t = rec_get(c);
			c->rec[t] = (struct hm_rec){ .off = off + n, .size = rest, .seg = s };
			bm_set(g, off + n);
			nl_set(g, off + n);
			rix_put(c, t);
			list_insert(c, t);
		}
		return off;
	}
	nl_clear(g, off);
	if (rest) {
		/* The tail keeps the record. */
		bm_set(g, off + n);
		nl_set(g, off + n);
		rix_move(c, id, off + n);
		c->rec[id].size = rest;
		list_insert(c, id);
	} else {
		rix_remove(c, id);
		rec_put(c, id);
	}
	return off;
}

/*
 * Give records to orphans, scanning the not-live bitmaps on from where the
 * last scan stopped, for at most @budget bitmap words and lookups (and
 * never more than one round of every segment); one record and index slot
 * stay spare for the allocation.  Returns how many were adopted.
 */
static __attribute__((noinline, cold)) uint32_t adopt(struct hm_core *c, uint64_t budget)
{
	uint64_t words = (c->total_gran >> 6) + 2 * (uint64_t)c->seg_slots + 2;
	uint32_t done = 0;

	while (c->orphans && budget && words && room_for(c, 2)) {
		struct hm_seg *g;
		uint64_t w;

		budget--;
		words--;
		if (c->adopt_seg >= c->seg_slots) {
			c->adopt_seg = 0;
			c->adopt_word = 0;
		}
		g = &c->seg[c->adopt_seg];
		if (!g->live || !g->orphans || c->adopt_word >= g->bm_nw[0]) {
			c->adopt_seg++;
			c->adopt_word = 0;
			continue;
		}
		/* With orphans there are no cached blocks: a start without a record is one. */
		for (w = g->nl[c->adopt_word]; w && budget && room_for(c, 2); w &= w - 1) {
			uint32_t off = c->adopt_word << 6 | (uint32_t)__builtin_ctzll(w), id;

			budget--;
			if (rix_find(c, c->adopt_seg, off))
				continue;
			id = rec_get(c);
			c->rec[id] = (struct hm_rec){
				.off = off, .size = blk_size(g, off), .seg = (uint16_t)c->adopt_seg,
			};
			rix_put(c, id);
			list_insert(c, id);
			orphans_add(c, (uint16_t)c->adopt_seg, -1);
			done++;
		}
		if (!w)
			c->adopt_word++;
	}
	return done;
}

/* Adopt every orphan the metadata can be grown for: before an allocation fails. */
static __attribute__((noinline, cold)) uint32_t adopt_all(struct hm_core *c)
{
	if (!rec_reserve(c, c->orphans + 1))
		rix_reserve(c, c->cached_blocks + c->orphans + 1);
	return adopt(c, UINT64_MAX);
}

int hm_core_alloc(struct hm_core *c, size_t size, size_t align, uintptr_t *out)
{
	uint32_t n, id, lead = 0;
	int retried = 0;
	uintptr_t addr;
	uint16_t s;

	if (align & (align - 1))
		return -EINVAL;
	if (size > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	n = granules(size);
	/* Shrink the record pool and index first if they are mostly empty. */
	if (c->rec_cap > 64 && (uint64_t)(c->rec_cap - 1 - c->rec_spare) * 4 < c->rec_cap)
		rec_shrink(c);
	if (c->rix_size > 64 &&
	    (uint64_t)(c->rix_count + c->cached_blocks + REC_SPARE) * 8 < c->rix_size)
		rix_reserve(c, c->cached_blocks + REC_SPARE);
	if (align <= HM_CORE_GRANULE && (addr = cache_get(c, n)) != 0) {
		*out = addr;
		return 0;
	}
	/*
	 * Spare room for free(), and for orphans; short of that, the one new
	 * record a split may need (a gap on both sides) is enough.
	 */
	if (c->tag && tag_reserve(c))
		return -ENOMEM;
	if ((rec_reserve(c, REC_SPARE) || rix_reserve(c, c->cached_blocks + REC_SPARE)) &&
	    !room_for(c, 1))
		return -ENOMEM;
	if (__builtin_expect(c->orphans != 0, 0)) {
		adopt(c, ADOPT_BUDGET);
		if (!room_for(c, 1))
			return -ENOMEM;
	}
	for (;;) {
		if (align <= HM_CORE_GRANULE) {
			id = take_free(c, n);
		} else {
			uint64_t span = (uint64_t)n + (align >> GRAN_SHIFT) - 1;

			id = span > UINT32_MAX ? 0 : take_free(c, (uint32_t)span);
			if (id) {
				addr = seg_addr(c, c->rec[id].seg, c->rec[id].off);
				lead = (uint32_t)((((addr + align - 1) & ~(uintptr_t)(align - 1)) -
						   addr) >> GRAN_SHIFT);
			}
		}
		if (id)
			break;
		/*
		 * Cached blocks may coalesce into a fit, orphans may be one: slow
		 * paths, taken only when full.
		 */
		if (!retried && c->cached_blocks) {
			hm_core_flush_cache(c);
			retried = 1;
		} else if (!c->orphans || !adopt_all(c)) {
			return -ENOMEM;
		}
	}
	s = c->rec[id].seg;
	if (s != c->hint || !c->hint_len) {
		c->hint = s;
		c->hint_base = c->seg[s].base;
		c->hint_len = (uintptr_t)c->seg[s].ngran << GRAN_SHIFT;
	}
	*out = make_live(c, s, carve(c, id, lead, n), n);
	HM_CORE_ASSERT(!(*out & (HM_CORE_GRANULE - 1)));
	HM_CORE_ASSERT(align <= HM_CORE_GRANULE || !(*out & (align - 1)));
	return 0;
}

/*
 * The live block starting at @addr: its segment and offset, or -EFAULT
 * (not inside any segment) or -EINVAL (not the start of a live block).
 */
static inline int find_live(const struct hm_core *c, uintptr_t addr, uint16_t *seg,
			    uint32_t *off)
{
	unsigned int s = c->hint;
	const struct hm_seg *g;
	uint32_t o;

	/* Most blocks are freed into the segment of the last allocation. */
	if (addr - c->hint_base >= c->hint_len) {
		s = seg_find(c, addr);
		if (s == HM_SEG_NONE)
			return -EFAULT;
	}
	if (addr & (HM_CORE_GRANULE - 1))
		return -EINVAL;
	g = &c->seg[s];
	o = (uint32_t)((addr - g->base) >> GRAN_SHIFT);
	if (!bm_test(g, o) || nl_test(g, o))
		return -EINVAL;		/* inside a block, or free, or cached (freed already) */
	*seg = (uint16_t)s;
	*off = o;
	return 0;
}

/*
 * free() of the live block (@s, @off) without room for a record: the
 * cache's records come back, and failing that release() leaves an orphan.
 */
static __attribute__((noinline, cold)) int free_nomem(struct hm_core *c, uint16_t s, uint32_t off)
{
	uint32_t n = blk_size(&c->seg[s], off);

	HM_CORE_ASSERT(c->used_gran >= n && c->live_blocks);
	c->used_gran -= n;
	c->live_blocks--;
	if (c->cached_blocks)
		hm_core_flush_cache(c);
	release(c, s, off, n, 0);
	return 0;
}

int hm_core_free(struct hm_core *c, uintptr_t addr)
{
	uint32_t off, n;
	uint16_t s;
	int err = find_live(c, addr, &s, &off);

	if (err)
		return err;
	if (__builtin_expect(free_room(c) != 0, 0))
		return free_nomem(c, s, off);
	n = blk_size(&c->seg[s], off);
	HM_CORE_ASSERT(c->used_gran >= n && c->live_blocks);
	c->used_gran -= n;
	c->live_blocks--;
	if (cache_put(c, s, off, n))
		return 0;
	release(c, s, off, n, 0);
	return 0;
}

int hm_core_resize(struct hm_core *c, uintptr_t addr, size_t size)
{
	uint32_t off, n, cur, r, k, end;
	struct hm_seg *g;
	uint16_t s;
	int err = find_live(c, addr, &s, &off);

	if (err)
		return err;
	if (size > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	n = granules(size);
	g = &c->seg[s];
	cur = blk_size(g, off);
	end = off + cur;
	r = end < g->ngran && nl_test(g, end) ? rix_find(c, s, end) : 0;
	if (n < cur) {
		k = cur - n;
		if (r) {
			/* The freed tail joins the free right neighbour. */
			list_remove(c, r);
			bm_clear(g, end);
			nl_clear(g, end);
			bm_set(g, off + n);
			nl_set(g, off + n);
			rix_move(c, r, off + n);
			c->rec[r].size += k;
			list_insert(c, r);
		} else {
			/* Keeping the block whole is a valid (if wasteful) shrink. */
			if (free_room(c))
				return 0;
			r = rec_get(c);
			c->rec[r] = (struct hm_rec){ .off = off + n, .size = k, .seg = s };
			if (end < g->ngran && nl_test(g, end) && c->orphans) {
				/* The tail takes in the orphan after it. */
				c->rec[r].size += blk_size(g, end);
				bm_clear(g, end);
				nl_clear(g, end);
				orphans_add(c, s, -1);
			}
			bm_set(g, off + n);
			nl_set(g, off + n);
			rix_put(c, r);
			list_insert(c, r);
		}
		c->used_gran -= k;
		c->seg[s].busy -= k;
		return 0;
	}
	k = n - cur;
	if (!k)
		return 0;
	if (!r || c->rec[r].size < k)
		return -ENOMEM;
	list_remove(c, r);
	bm_clear(g, end);
	nl_clear(g, end);
	if (c->rec[r].size == k) {
		rix_remove(c, r);
		rec_put(c, r);
	} else {
		bm_set(g, end + k);
		nl_set(g, end + k);
		rix_move(c, r, end + k);
		c->rec[r].size -= k;
		list_insert(c, r);
	}
	c->seg[s].busy += k;
	used_add(c, k);
	return 0;
}

int hm_core_block_size(const struct hm_core *c, uintptr_t addr, size_t *size)
{
	uint32_t off;
	uint16_t s;
	int err = find_live(c, addr, &s, &off);

	if (err)
		return err;
	*size = (size_t)blk_size(&c->seg[s], off) << GRAN_SHIFT;
	return 0;
}

int hm_core_dev_addr(const struct hm_core *c, uintptr_t addr, uint64_t *dev)
{
	unsigned int s = seg_find(c, addr);

	if (s == HM_SEG_NONE)
		return -EFAULT;
	*dev = c->seg[s].dev + (addr - c->seg[s].base);
	return 0;
}

void hm_core_set_tag(struct hm_core *c, uint32_t tag)
{
	c->tag = tag;
}

/* ---- segments ----------------------------------------------------------- */

/* Does [base, base + len) meet a registered segment?  Checked chunk by chunk. */
static int overlaps(const struct hm_core *c, uintptr_t base, size_t len)
{
	uintptr_t a;

	for (a = base & ~(((uintptr_t)1 << HM_SEG_CHUNK_SHIFT) - 1); a < base + len;
	     a += (uintptr_t)1 << HM_SEG_CHUNK_SHIFT) {
		unsigned int lo, hi, s, k;

		hm_seg_index_lookup(&c->segix, a, &lo, &hi);
		for (k = 0; k < 2; k++) {
			s = k ? hi : lo;
			if (s != HM_SEG_NONE && c->seg[s].base < base + len &&
			    base < c->seg[s].base + ((uintptr_t)c->seg[s].ngran << GRAN_SHIFT))
				return 1;
		}
	}
	return 0;
}

int hm_core_add_segment(struct hm_core *c, uintptr_t base, uint64_t dev,
			size_t len, uintptr_t owner)
{
	uint32_t s, id;
	struct hm_seg *g, ng;
	int err;

	len &= ~(size_t)(HM_CORE_GRANULE - 1);
	if ((base & (HM_CORE_GRANULE - 1)) || len < HM_CORE_MIN_SEGMENT ||
	    len > HM_CORE_MAX_BLOCK || base + len < base)
		return -EINVAL;
	if (overlaps(c, base, len))
		return -EEXIST;
	for (s = 0; s < c->seg_slots && c->seg[s].live; s++)
		;
	if (s == c->seg_slots) {
		if (s >= HM_SEG_NONE)
			return -ENOSPC;
		g = meta_realloc(c->seg, (size_t)(s + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		c->seg = g;
		c->seg[s] = (struct hm_seg){ 0 };
		c->seg_slots++;
	}
	ng = (struct hm_seg){
		.base = base, .dev = dev, .owner = owner,
		.ngran = (uint32_t)(len >> GRAN_SHIFT), .gen = c->seg[s].gen + 1, .live = 1,
	};
	err = rec_reserve(c, 1);
	if (!err)
		err = rix_reserve(c, c->cached_blocks + 1);
	if (!err)
		err = bm_alloc(&ng);
	if (!err) {
		err = hm_seg_index_add(&c->segix, base, len, s);
		if (err)
			free(ng.bm);
	}
	if (err)
		return err;
	g = &c->seg[s];
	*g = ng;
	bm_set(g, 0);
	nl_set(g, 0);
	id = rec_get(c);
	c->rec[id] = (struct hm_rec){ .size = g->ngran, .seg = (uint16_t)s };
	rix_put(c, id);
	list_insert(c, id);
	unused_link(c, (uint16_t)s);
	c->nsegs++;
	c->total_gran += g->ngran;
	update_cache_cap(c);
	return (int)s;
}

int hm_core_remove_segment(struct hm_core *c, unsigned int seg, uintptr_t *owner)
{
	struct hm_seg *g;
	uint32_t id;

	if (seg >= c->seg_slots || !c->seg[seg].live)
		return -EINVAL;
	g = &c->seg[seg];
	if (g->busy)
		return -EBUSY;
	/* No live or cached block: the segment is a single free block, or an orphan. */
	id = rix_find(c, seg, 0);
	if (id) {
		list_remove(c, id);
		rix_remove(c, id);
		rec_put(c, id);
	} else {
		orphans_add(c, (uint16_t)seg, -1);
	}
	free(g->bm);
	g->bm = g->nl = NULL;
	if (seg == c->hint)
		c->hint_len = 0;
	unused_unlink(c, (uint16_t)seg);
	hm_seg_index_remove(&c->segix, g->base, (size_t)g->ngran << GRAN_SHIFT, seg);
	c->total_gran -= g->ngran;
	c->nsegs--;
	g->live = 0;
	if (owner)
		*owner = g->owner;
	update_cache_cap(c);
	if (c->cached_gran > c->cache_cap_gran)
		hm_core_flush_cache(c);
	return 0;
}

int hm_core_unused_segment(const struct hm_core *c)
{
	return c->unused_head == NO_SEG16 ? -ENOENT : c->unused_head;
}

int hm_core_segment(const struct hm_core *c, unsigned int seg, uintptr_t *base,
		    uint64_t *dev, size_t *len, uintptr_t *owner)
{
	if (seg >= c->seg_slots || !c->seg[seg].live)
		return -EINVAL;
	*base = c->seg[seg].base;
	*dev = c->seg[seg].dev;
	*len = (size_t)c->seg[seg].ngran << GRAN_SHIFT;
	*owner = c->seg[seg].owner;
	return 0;
}

/* ---- statistics --------------------------------------------------------- */

size_t hm_core_largest_free(const struct hm_core *c)
{
	unsigned int fl;

	if (!c->fl_bitmap)
		return 0;
	fl = 31u - (unsigned int)__builtin_clz(c->fl_bitmap);
	return (size_t)bucket_min(fl * SL_COUNT + 31u -
				  (unsigned int)__builtin_clz(c->sl_bitmap[fl])) << GRAN_SHIFT;
}

uint64_t hm_core_used_bytes(const struct hm_core *c)
{
	return c->used_gran << GRAN_SHIFT;
}

uint64_t hm_core_unused_bytes(const struct hm_core *c)
{
	return c->unused_gran << GRAN_SHIFT;
}

uint64_t hm_core_cached_bytes(const struct hm_core *c)
{
	return c->cached_gran << GRAN_SHIFT;
}

uint64_t hm_core_free_bytes(const struct hm_core *c)
{
	return (c->total_gran - c->used_gran) << GRAN_SHIFT;
}

/* Every byte of metadata the core holds: records, indexes, bitmaps, segments. */
static uint64_t meta_bytes(const struct hm_core *c)
{
	uint64_t m = sizeof(*c) + (uint64_t)c->rec_cap * sizeof(*c->rec) +
		     (uint64_t)c->rix_size * sizeof(*c->rix) +
		     (uint64_t)c->tag_size * sizeof(*c->tags) +
		     (uint64_t)c->seg_slots * sizeof(*c->seg) + hm_seg_index_bytes(&c->segix);
	uint32_t s;

	for (s = 0; s < c->seg_slots; s++)
		if (c->seg[s].live)
			m += (uint64_t)c->seg[s].bm_words * sizeof(uint64_t);
	return m;
}

void hm_core_stats(const struct hm_core *c, struct hm_core_stats *s)
{
	uint64_t free_gran = c->total_gran - c->used_gran - c->cached_gran;

	*s = (struct hm_core_stats){
		.total_bytes = c->total_gran << GRAN_SHIFT,
		.used_bytes = c->used_gran << GRAN_SHIFT,
		.free_bytes = (c->total_gran - c->used_gran) << GRAN_SHIFT,
		.cached_bytes = c->cached_gran << GRAN_SHIFT,
		.peak_used_bytes = c->peak_used_gran << GRAN_SHIFT,
		.largest_free = hm_core_largest_free(c),
		.live_blocks = c->live_blocks,
		.free_blocks = c->free_blocks + c->orphans,
		.cached_blocks = c->cached_blocks,
		.segments = c->nsegs,
		.segments_free = c->nunused,
		.meta_bytes = meta_bytes(c),
	};
	/* Fragmentation of the coalesced free space (the cache is transient). */
	if (free_gran)
		s->frag_permille = (uint32_t)(1000 - (s->largest_free >> GRAN_SHIFT) * 1000 / free_gran);
}

/* ---- life time ---------------------------------------------------------- */

struct hm_core *hm_core_create(void)
{
	struct hm_core *c = meta_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->unused_head = NO_SEG16;
	c->cache_limit = SIZE_MAX;
	return c;
}

void hm_core_destroy(struct hm_core *c)
{
	uint32_t s;

	if (!c)
		return;
	for (s = 0; s < c->seg_slots; s++)
		free(c->seg[s].bm);
	free(c->rec);
	free(c->rix);
	free(c->tags);
	free(c->seg);
	hm_seg_index_fini(&c->segix);
	free(c);
}
