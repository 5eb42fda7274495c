/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the allocator core shared by core.c and core_walk.c.
 *
 * Metadata layout (all out of band):
 *  - struct hm_block, one per block (live, cached or free), 32 bytes, in
 *    one array addressed by 32-bit ids (0 = none).  Blocks of a segment are
 *    doubly linked in address order (prev_phys/next_phys), which gives the
 *    neighbours for coalescing without touching the managed memory.
 *  - Free blocks sit in the segregated lists of a two-level bitmap (TLSF):
 *    first level = power of two, second level = 16 linear steps, sizes in
 *    granules.  Bucket lists are doubly linked through prev_free/next_free.
 *  - Live and cached blocks are found from their address through an
 *    open-addressing hash of block ids (the address index): free() is O(1)
 *    with no list walk, and unknown addresses are rejected.
 *  - Segments come from an O(1) chunk map (seg_index.h), used only for
 *    interior-pointer queries (device address, error classification).
 */
#ifndef HAPMEM_CORE_IMPL_H
#define HAPMEM_CORE_IMPL_H

#include "core.h"
#include "seg_index.h"

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

/* Exact-fit probe: entries of the request's own class examined first. */
#define FIT_PROBE		4

enum { ST_POOL = 0, ST_FREE, ST_USED, ST_CACHED };

struct hm_block {
	uint32_t off;		/* granule offset inside the segment */
	uint32_t size;		/* granules */
	uint32_t prev_phys;	/* address-order neighbours in the segment */
	uint32_t next_phys;
	uint32_t prev_free;	/* bucket list (free) */
	uint32_t next_free;	/* bucket list (free), cache stack (cached), pool (pool) */
	uint32_t tag;
	uint16_t seg;
	uint8_t state;
	uint8_t pad;
};

struct hm_seg {
	uintptr_t base;
	uint64_t dev;
	uintptr_t owner;
	uint64_t busy;		/* granules in live + cached blocks */
	uint32_t ngran;
	uint32_t first;		/* block at offset 0 */
	uint32_t gen;		/* bumped whenever the slot is (re)used */
	uint16_t unused_prev;	/* list of live segments with busy == 0 */
	uint16_t unused_next;
	uint8_t live;
};

struct hm_core {
	/* Segregated free lists. */
	uint32_t fl_bitmap;
	uint32_t sl_bitmap[FL_COUNT];
	uint32_t heads[BUCKETS];

	/* Front-end cache of freed small blocks, per size class. */
	uint32_t cache_head[CACHE_BUCKETS];
	uint32_t cache_count[CACHE_BUCKETS];
	uint64_t cache_cap_gran;	/* effective bound */
	size_t cache_limit;		/* configured bound, bytes */

	/* Block descriptors. */
	struct hm_block *blk;
	uint32_t blk_cap;
	uint32_t blk_pool;		/* first unused descriptor */
	uint32_t blk_spare;

	/* Address index of live and cached blocks. */
	uint32_t *ix;
	uint32_t ix_size;		/* slots, a power of two (or 0) */
	uint32_t ix_count;

	/* Segments. */
	struct hm_seg *seg;
	uint32_t seg_slots;
	uint32_t nsegs;
	uint16_t unused_head;
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
};

static inline uintptr_t blk_addr(const struct hm_core *c, const struct hm_block *b)
{
	return c->seg[b->seg].base + ((uintptr_t)b->off << GRAN_SHIFT);
}

/* Home slot: Fibonacci hashing onto the power-of-two table. */
static inline uint32_t ix_hash(const struct hm_core *c, uintptr_t addr)
{
	return (uint32_t)(((uint64_t)(addr >> GRAN_SHIFT) * 0x9e3779b97f4a7c15ull) >> 32) &
	       (c->ix_size - 1);
}

static inline uint32_t ix_next(const struct hm_core *c, uint32_t i)
{
	return (i + 1) & (c->ix_size - 1);
}

/* Id of the live or cached block starting at @addr, or 0. */
static inline uint32_t ix_find(const struct hm_core *c, uintptr_t addr)
{
	uint32_t i, id;

	if (!c->ix)
		return 0;
	for (i = ix_hash(c, addr); (id = c->ix[i]) != 0; i = ix_next(c, i))
		if (blk_addr(c, &c->blk[id]) == addr)
			return id;
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
