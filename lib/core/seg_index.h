/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Address -> segment map, O(1) for segments of any size (the allocator
 * core's, and the capability heaps' address map).
 *
 * Address space is cut into aligned chunks of HM_SEG_CHUNK bytes.  A
 * segment is entered as a *start* in the chunk holding its first byte,
 * and as the *cover* of every later chunk it reaches.  Segments do not
 * overlap, so a chunk has at most one cover; it may hold any number of
 * starts (segments smaller than a chunk), kept sorted by address: a
 * lookup is one hash probe plus, for chunks holding several starts, a
 * binary search among them.  An open-addressing hash keyed by chunk
 * number holds the chunks; each segment's extent is kept by its id.
 *
 * Ids are the caller's small integers (< HM_SEG_NONE); the index keeps an
 * array indexed by them.
 */
#ifndef HAPMEM_CORE_SEG_INDEX_H
#define HAPMEM_CORE_SEG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HM_SEG_CHUNK_SHIFT	16
#define HM_SEG_NONE		0xffffu

struct hm_seg_slot {
	uint64_t chunk;		/* chunk number + 1; 0 marks an empty slot */
	uint32_t cover;		/* segment covering the chunk's first byte, or HM_SEG_NONE */
	uint32_t nstarts;	/* segments starting inside the chunk */
	union {
		uint32_t one;	/* nstarts == 1 */
		uint32_t *many;	/* nstarts > 1: sorted by base */
	} starts;
};

struct hm_seg_extent {
	uintptr_t base, end;	/* end == base: id unused */
};

struct hm_seg_index {
	struct hm_seg_slot *slots;
	uint32_t mask;		/* slots - 1; slots is a power of two */
	uint32_t count;
	struct hm_seg_extent *ext;	/* by id */
	uint32_t next_cap;
	size_t many_bytes;	/* lists of starts (chunks holding several) */
};

void hm_seg_index_fini(struct hm_seg_index *ix);
/*
 * Enter [base, base + len) (len > 0) as segment @id.  -EEXIST if it
 * overlaps a segment already entered, -EINVAL for an id in use or out of
 * range, -ENOMEM; on error @ix is unchanged.
 */
int hm_seg_index_add(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id);
void hm_seg_index_remove(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id);
/* The segment holding @addr, or HM_SEG_NONE. */
unsigned int hm_seg_index_find(const struct hm_seg_index *ix, uintptr_t addr);
/*
 * Callers that pick between two candidates: *@lo is the segment holding
 * @addr (HM_SEG_NONE if none), *@hi is always HM_SEG_NONE.
 */
void hm_seg_index_lookup(const struct hm_seg_index *ix, uintptr_t addr,
			 unsigned int *lo, unsigned int *hi);
/* Does [base, base + len) meet an entered segment? */
bool hm_seg_index_overlaps(const struct hm_seg_index *ix, uintptr_t base, size_t len);
size_t hm_seg_index_bytes(const struct hm_seg_index *ix);

#endif /* HAPMEM_CORE_SEG_INDEX_H */
