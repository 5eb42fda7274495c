/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the allocator core shared by core.c and core_walk.c.
 *
 * Metadata layout (all out of band, dense):
 *  - Per segment, a block-start bitmap: one bit per granule, set at the
 *    first granule of every block (live, cached or free), with summary
 *    levels above it (a bit per non-zero word of the level below, up to a
 *    single word: at most 6 levels for 2^32 granules).  A block's size is
 *    the distance to the next set bit, its left neighbour the previous set
 *    bit; both searches are bounded by the level count.
 *  - A second, flat bitmap marks the starts of free and cached blocks
 *    ("not live"): a start bit without it is a live block, which has no
 *    record at all.
 *  - Free and cached blocks have a 20-byte record (struct hm_rec) in a pool
 *    addressed by 32-bit ids (0 = none).  Free records are found from
 *    (segment, offset) through an open-addressing hash of ids, and sit in
 *    the segregated lists of a two-level bitmap (TLSF): first level = power
 *    of two, second level = 16 linear steps, sizes in granules, lists
 *    doubly linked through prev/next.  Cached records are only stacked
 *    through next, per size class (the hash keeps room for all of them).
 *  - An "orphan" is a free block that could get no record (the pool could
 *    not grow when it was freed): its start has both bits set like any free
 *    block, but no record, so it is on no list and not allocatable yet.
 *    Free blocks, orphans included, never touch each other: a block freed
 *    next to an orphan absorbs it (or grows it).  Orphans exist only while
 *    the cache is empty, so a not-live start without a record is a cached
 *    block when there are no orphans and an orphan otherwise.  They are
 *    given records (adopted) on the allocation path, a bounded scan per
 *    call, and a whole scan before an allocation fails.
 *  - Tags (hm_core_set_tag()) are kept only for blocks allocated with a
 *    non-zero tag, in a small hash keyed by (segment, offset).
 *  - Segments come from an O(1) chunk map (seg_index.h).
 */
#ifndef HAPMEM_CORE_IMPL_H
#define HAPMEM_CORE_IMPL_H

#include "core.h"
#include "seg_index.h"
#include "util/invariant.h"

/*
 * Internal invariant checks, cheap ones (a few loads and bitmap tests,
 * bounded by BM_LEVELS at most), at the points where a broken invariant
 * would spread: a block handed out or taken back, a merge, a counter
 * going down.  Compiled in with HAPMEM_DEBUG (build/lib-debug, which the
 * plain unit tests link, the sanitizer builds of the library and the
 * fuzzer), where a failure aborts with the condition; the release library
 * has none of them.  hm_core_check() remains the full O(n) audit.
 */
#define HM_CORE_ASSERT(cond) HM_INVARIANT("hapmem core", cond)

#define GRAN_SHIFT	4
#define SL_LOG2		4
#define SL_COUNT	(1u << SL_LOG2)
/* Sizes are < 2^32 granules: highest first level is 31 - SL_LOG2 + 1. */
#define FL_COUNT	(32 - SL_LOG2 + 1)
#define BUCKETS		(FL_COUNT * SL_COUNT)

/*
 * Front-end cache: blocks up to CACHE_MAX_GRAN granules (8 KiB), at most
 * CACHE_DEPTH per size class, in total at most 1/CACHE_HEAP_SHARE of the
 * heap (so the peak footprint grows by at most ~3%).
 */
#define CACHE_MAX_GRAN		512u
/* bucket_of(CACHE_MAX_GRAN): first level 9 - SL_LOG2 + 1, second level 0. */
#define CACHE_BUCKETS		((9 - SL_LOG2 + 1) * SL_COUNT + 1)
#define CACHE_DEPTH		64u
#define CACHE_HEAP_SHARE	32u

/* Best-fit probe: entries of a class examined for the smallest fit. */
#define FIT_PROBE		8

enum { ST_POOL = 0, ST_FREE, ST_CACHED };

/* Record of a free or cached block. */
struct hm_rec {
	uint32_t off;		/* granule offset inside the segment */
	uint32_t size;		/* granules */
	uint32_t prev;		/* bucket list (free) */
	uint32_t next;		/* bucket list (free), cache stack (cached), pool (pool) */
	uint16_t seg;
	uint8_t state;
	uint8_t pad;
};

/* Bitmap levels: 2^32 granules need 6 (2^26, 2^20, 2^14, 2^8, 4, 1 words). */
#define BM_LEVELS	6

struct hm_seg {
	uintptr_t base;
	uint64_t dev;
	uintptr_t owner;
	uint64_t busy;		/* granules in live + cached blocks */
	uint64_t *bm;		/* block-start bitmap, all levels, level 0 first */
	uint64_t *nl;		/* not-live bitmap (free and cached starts), after bm's levels */
	uint32_t bm_lo[BM_LEVELS];	/* first word of each level in bm */
	uint32_t bm_nw[BM_LEVELS];	/* words in each level */
	uint32_t bm_words;	/* words in all levels and the not-live bitmap */
	uint32_t ngran;
	uint32_t gen;		/* bumped whenever the slot is (re)used */
	uint32_t orphans;	/* free blocks without a record */
	uint16_t unused_prev;	/* list of live segments with busy == 0 */
	uint16_t unused_next;
	uint8_t bm_top;		/* highest level (a single word) */
	uint8_t live;
};

struct hm_tag_ent {
	uint64_t key;		/* (segment << 32 | offset) + 1; 0 marks an empty slot */
	uint32_t tag;
};

struct hm_core {
	/* Segregated free lists. */
	uint32_t fl_bitmap;
	uint32_t sl_bitmap[FL_COUNT];
	uint32_t heads[BUCKETS];

	/* Front-end cache of freed small blocks, per size class. */
	uint32_t cache_head[CACHE_BUCKETS];
	uint8_t cache_count[CACHE_BUCKETS];
	uint64_t cache_cap_gran;	/* effective bound */
	size_t cache_limit;		/* configured bound, bytes */

	/* Records of free and cached blocks. */
	struct hm_rec *rec;
	uint32_t rec_cap;
	uint32_t rec_pool;		/* first unused record */
	uint32_t rec_spare;
	uint32_t orphans;		/* free blocks without a record: see above */

	/* (segment, offset) -> free record id. */
	uint32_t *rix;
	uint32_t rix_size;		/* slots, a power of two (or 0) */
	uint32_t rix_count;

	/* Tags of live and cached blocks allocated with a non-zero tag. */
	struct hm_tag_ent *tags;
	uint32_t tag_size;		/* slots, a power of two (or 0) */
	uint32_t tag_count;

	/* Segments. */
	struct hm_seg *seg;
	uint32_t seg_slots;
	uint32_t nsegs;
	uint16_t unused_head;
	uint16_t adopt_seg;		/* where the scan for orphans resumes... */
	uint32_t nunused;
	uint64_t unused_gran;		/* granules of the segments on that list */
	struct hm_seg_index segix;

	/* Counters, all in granules or blocks. */
	uint64_t total_gran;
	uint64_t used_gran;
	uint64_t cached_gran;
	uint64_t peak_used_gran;
	uint32_t live_blocks;
	uint32_t free_blocks;
	uint32_t cached_blocks;

	uint32_t tag;

	/* Segment of the last allocation, where most frees land. */
	uintptr_t hint_base;
	uintptr_t hint_len;		/* 0 when none */
	uint16_t hint;
	uint32_t adopt_word;		/* ...and the word of adopt_seg's not-live bitmap */
};

#define BM_NONE		UINT32_MAX

static inline uintptr_t seg_addr(const struct hm_core *c, unsigned int seg, uint32_t off)
{
	return c->seg[seg].base + ((uintptr_t)off << GRAN_SHIFT);
}

static inline bool bm_test(const struct hm_seg *g, uint32_t pos)
{
	return (g->bm[pos >> 6] >> (pos & 63)) & 1;
}

static inline bool nl_test(const struct hm_seg *g, uint32_t pos)
{
	return (g->nl[pos >> 6] >> (pos & 63)) & 1;
}

static inline void nl_set(struct hm_seg *g, uint32_t pos)
{
	g->nl[pos >> 6] |= 1ull << (pos & 63);
}

static inline void nl_clear(struct hm_seg *g, uint32_t pos)
{
	g->nl[pos >> 6] &= ~(1ull << (pos & 63));
}

/* First block start at or after @pos, or g->ngran if none. */
static inline uint32_t bm_next(const struct hm_seg *g, uint64_t pos)
{
	unsigned int k = 0;
	uint64_t w, wi;

	for (;;) {
		wi = pos >> 6;
		if (wi >= g->bm_nw[k])
			return g->ngran;
		w = g->bm[g->bm_lo[k] + wi] & (~0ull << (pos & 63));
		if (w) {
			pos = (wi << 6) | (uint64_t)__builtin_ctzll(w);
			break;
		}
		if (k == g->bm_top)
			return g->ngran;
		pos = wi + 1;
		k++;
	}
	while (k--) {
		w = g->bm[g->bm_lo[k] + pos];
		pos = (pos << 6) | (uint64_t)__builtin_ctzll(w);
	}
	return (uint32_t)pos;
}

/* Last block start at or before @pos, or BM_NONE. */
static inline uint32_t bm_prev(const struct hm_seg *g, uint64_t pos)
{
	unsigned int k = 0;
	uint64_t w, wi;

	for (;;) {
		wi = pos >> 6;
		w = g->bm[g->bm_lo[k] + wi] & (~0ull >> (63 - (pos & 63)));
		if (w) {
			pos = (wi << 6) | (uint64_t)(63 - __builtin_clzll(w));
			break;
		}
		if (k == g->bm_top || !wi)
			return BM_NONE;
		pos = wi - 1;
		k++;
	}
	while (k--) {
		w = g->bm[g->bm_lo[k] + pos];
		pos = (pos << 6) | (uint64_t)(63 - __builtin_clzll(w));
	}
	return (uint32_t)pos;
}

/* Size in granules of the block starting at @off. */
static inline uint32_t blk_size(const struct hm_seg *g, uint32_t off)
{
	return bm_next(g, (uint64_t)off + 1) - off;
}

static inline uint32_t rix_hash(const struct hm_core *c, unsigned int seg, uint32_t off)
{
	return (uint32_t)((((uint64_t)seg << 32 | off) * 0x9e3779b97f4a7c15ull) >> 32) &
	       (c->rix_size - 1);
}

static inline uint32_t rix_next(const struct hm_core *c, uint32_t i)
{
	return (i + 1) & (c->rix_size - 1);
}

/* Record of the free block starting at (@seg, @off), or 0. */
static inline uint32_t rix_find(const struct hm_core *c, unsigned int seg, uint32_t off)
{
	uint32_t i, id;

	if (!c->rix_count)
		return 0;
	for (i = rix_hash(c, seg, off); (id = c->rix[i]) != 0; i = rix_next(c, i))
		if (c->rec[id].off == off && c->rec[id].seg == seg)
			return id;
	return 0;
}

static inline uint64_t tag_key(unsigned int seg, uint32_t off)
{
	return ((uint64_t)seg << 32 | off) + 1;
}

static inline uint32_t tag_hash(const struct hm_core *c, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (c->tag_size - 1);
}

/* Tag of the block at (@seg, @off): 0 when none was recorded. */
static inline uint32_t tag_find(const struct hm_core *c, unsigned int seg, uint32_t off)
{
	uint64_t key = tag_key(seg, off);
	uint32_t i;

	if (!c->tag_count)
		return 0;
	for (i = tag_hash(c, key); c->tags[i].key; i = (i + 1) & (c->tag_size - 1))
		if (c->tags[i].key == key)
			return c->tags[i].tag;
	return 0;
}

/* Segment id containing @addr, or HM_SEG_NONE. */
static inline unsigned int seg_find(const struct hm_core *c, uintptr_t addr)
{
	unsigned int lo, hi, s;

	hm_seg_index_lookup(&c->segix, addr, &lo, &hi);
	s = (hi != HM_SEG_NONE && addr >= c->seg[hi].base) ? hi : lo;
	if (s != HM_SEG_NONE &&
	    addr - c->seg[s].base < ((uintptr_t)c->seg[s].ngran << GRAN_SHIFT))
		return s;
	return HM_SEG_NONE;
}

/* Size class of a block of @size granules (rounding down). */
static inline unsigned int bucket_of(uint32_t size)
{
	unsigned int msb, fl, sl;

	if (size < SL_COUNT)
		return size;
	msb = 31u - (unsigned int)__builtin_clz(size);
	fl = msb - SL_LOG2 + 1;
	sl = (size >> (msb - SL_LOG2)) - SL_COUNT;
	return fl * SL_COUNT + sl;
}

/* Smallest size in a class. */
static inline uint64_t bucket_min(unsigned int bucket)
{
	unsigned int fl = bucket / SL_COUNT, sl = bucket % SL_COUNT;

	return fl ? (uint64_t)(SL_COUNT + sl) << (fl - 1) : sl;
}

/* First class whose every block holds @size granules (rounding up); BUCKETS if none. */
static inline unsigned int bucket_fit(uint32_t size)
{
	unsigned int msb;
	uint64_t up;

	if (size < SL_COUNT)
		return size;
	msb = 31u - (unsigned int)__builtin_clz(size);
	up = (uint64_t)size + (1u << (msb - SL_LOG2)) - 1;
	return up > UINT32_MAX ? BUCKETS : bucket_of((uint32_t)up);
}

#endif /* HAPMEM_CORE_IMPL_H */
