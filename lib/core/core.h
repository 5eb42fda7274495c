/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hm_core: an O(1) two-level segregated-fit allocator whose metadata lives
 * entirely outside the memory it manages.
 *
 * The core hands out *addresses* (uintptr_t) inside segments registered by
 * its user; it never reads or writes them, so it can manage CPU memory,
 * uncached memory or device-only memory alike.  It knows nothing of ioctls,
 * backends or locking: callers serialise access (see lib/heap/heap.c).
 *
 * All functions return 0 or -errno unless stated otherwise.
 */
#ifndef HAPMEM_CORE_H
#define HAPMEM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation unit: every block is a multiple of this, and aligned to it. */
#define HM_CORE_GRANULE		16u
/* Segments are at least one granule long (seg_index.h maps any size in O(1)). */
#define HM_CORE_MIN_SEGMENT	HM_CORE_GRANULE
/* Largest block: sizes are kept in 32-bit granule counts. */
#define HM_CORE_MAX_BLOCK	((size_t)UINT32_MAX * HM_CORE_GRANULE)

struct hm_core;

struct hm_core_stats {
	uint64_t total_bytes;	/* sum of segment lengths (granule-rounded) */
	uint64_t used_bytes;	/* in live blocks, rounded to granules */
	uint64_t free_bytes;	/* total - used: includes the front-end cache */
	uint64_t cached_bytes;	/* freed blocks parked in the size-class cache */
	uint64_t peak_used_bytes;
	uint64_t largest_free;	/* see hm_core_largest_free() */
	uint32_t live_blocks;
	uint32_t free_blocks;	/* coalesced free blocks (not counting cached) */
	uint32_t cached_blocks;
	uint32_t segments;
	uint32_t segments_free;	/* segments holding no live block */
	uint32_t frag_permille;	/* 1000 * (1 - largest_free / free_bytes) */
	uint64_t meta_bytes;	/* out-of-band metadata currently allocated */
};

enum hm_block_state { HM_BLOCK_FREE, HM_BLOCK_USED, HM_BLOCK_CACHED };

struct hm_block_info {
	uintptr_t addr;
	size_t size;		/* bytes, granule-rounded */
	uint64_t dev;		/* device address of addr */
	unsigned int seg;	/* segment id */
	uint32_t tag;		/* hm_core_set_tag() value at allocation */
	enum hm_block_state state;
};

/* Resumable position of an incremental walk; zero-initialise to start. */
struct hm_core_cursor {
	unsigned int seg;	/* segment slot being walked */
	uint32_t seg_gen;	/* generation of that slot when the walk entered it */
	uintptr_t last;		/* address of the last block reported in it, 0 if none */
	bool in_seg;
};

typedef void (*hm_core_visit_fn)(const struct hm_block_info *blk, void *arg);

struct hm_core *hm_core_create(void);
/* Frees the metadata only; the caller still owns the segments' memory. */
void hm_core_destroy(struct hm_core *c);

/*
 * Register [base, base + len) with device address @dev; @owner is the
 * caller's cookie, returned by hm_core_remove_segment().  @base must be
 * granule-aligned; @len is rounded down to the granule.  Returns the new
 * segment id (>= 0) or -errno.
 */
int hm_core_add_segment(struct hm_core *c, uintptr_t base, uint64_t dev,
			size_t len, uintptr_t owner);
/* Unregister a segment holding no live block: -EBUSY otherwise. */
int hm_core_remove_segment(struct hm_core *c, unsigned int seg, uintptr_t *owner);
/* A segment holding no live nor cached block, or -ENOENT. */
int hm_core_unused_segment(const struct hm_core *c);
/* Segment's base, device address, length and owner cookie. */
int hm_core_segment(const struct hm_core *c, unsigned int seg, uintptr_t *base,
		    uint64_t *dev, size_t *len, uintptr_t *owner);

/* @align: 0 or a power of two. -ENOMEM when no segment can hold it. */
int hm_core_alloc(struct hm_core *c, size_t size, size_t align, uintptr_t *out);
/*
 * -EFAULT: not inside any segment; -EINVAL: not a live block (double free).
 * Never fails for a live block: when the metadata cannot grow, the block
 * is free at once (stats, double-free checks) and allocatable again once
 * it can (merged into a free neighbour, or given a record by a later
 * hm_core_alloc()).
 */
int hm_core_free(struct hm_core *c, uintptr_t addr);
/* Resize a live block in place (shrink, or grow into a free right neighbour);
 * -ENOMEM when it cannot be done in place. */
int hm_core_resize(struct hm_core *c, uintptr_t addr, size_t size);
/* Size (granule-rounded) of the live block starting at @addr. */
int hm_core_block_size(const struct hm_core *c, uintptr_t addr, size_t *size);
/* Device address of any address inside a segment. */
int hm_core_dev_addr(const struct hm_core *c, uintptr_t addr, uint64_t *dev);

/*
 * Bytes a fresh, empty segment needs so that hm_core_alloc(size, align)
 * surely succeeds in it; 0 on overflow.
 */
size_t hm_core_need(size_t size, size_t align);
/*
 * Largest block size the core can hand out without growing, as the lower
 * bound of the largest non-empty size class: hm_core_alloc() of this size
 * succeeds.  At most 1/16 below the exact largest free block.
 */
size_t hm_core_largest_free(const struct hm_core *c);
void hm_core_stats(const struct hm_core *c, struct hm_core_stats *s);
/* O(1): bytes in live blocks, and in segments holding no live nor cached block. */
uint64_t hm_core_used_bytes(const struct hm_core *c);
uint64_t hm_core_unused_bytes(const struct hm_core *c);
/* O(1): bytes parked in the cache; bytes not in live blocks (cache included). */
uint64_t hm_core_cached_bytes(const struct hm_core *c);
uint64_t hm_core_free_bytes(const struct hm_core *c);

/* Tag stamped into every block allocated from now on (markers use it). */
void hm_core_set_tag(struct hm_core *c, uint32_t tag);

/*
 * Size-class cache in front of the segregated lists: freed small blocks
 * are parked uncoalesced so the next request of their class is a pop.
 * Bounded by @limit bytes and a fraction of the heap; 0 disables it.
 */
void hm_core_set_cache_limit(struct hm_core *c, size_t limit);
void hm_core_flush_cache(struct hm_core *c);

/*
 * Visit up to @budget blocks, in address order per segment, resuming from
 * @cur.  Returns 1 while blocks remain, 0 when the walk is complete.  The
 * heap may change between calls: the walk then stays well-defined (every
 * block that exists throughout is visited once) but is not a snapshot.
 */
int hm_core_walk(struct hm_core *c, struct hm_core_cursor *cur,
		 unsigned int budget, hm_core_visit_fn fn, void *arg);

/*
 * Full consistency check of all metadata (lists, bitmaps, neighbours,
 * index, counters): O(blocks), for tests and fuzzing.  0 or -EUCLEAN, with
 * the first violation described in @why.
 */
int hm_core_check(const struct hm_core *c, const char **why);

#endif /* HAPMEM_CORE_H */
