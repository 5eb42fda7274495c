/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Address -> segment map of the allocator core, O(1).
 *
 * Address space is cut into aligned chunks of HM_SEG_CHUNK bytes.  Segments
 * are at least one chunk long, so a chunk meets at most two segments: the
 * one covering its first byte ("lo") and one starting inside it ("hi").
 * An open-addressing hash keyed by chunk number stores both; the caller
 * picks hi when the address is at or past hi's base.
 */
#ifndef HAPMEM_CORE_SEG_INDEX_H
#define HAPMEM_CORE_SEG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define HM_SEG_CHUNK_SHIFT	16
#define HM_SEG_NONE		0xffffu

struct hm_seg_slot {
	uint64_t chunk;		/* chunk number + 1; 0 marks an empty slot */
	uint16_t lo, hi;	/* segment ids, HM_SEG_NONE when absent */
};

struct hm_seg_index {
	struct hm_seg_slot *slots;
	uint32_t mask;		/* slots - 1; slots is a power of two */
	uint32_t count;
};

void hm_seg_index_fini(struct hm_seg_index *ix);
/* Map every chunk of [base, base + len) to @id; -ENOMEM leaves @ix unchanged. */
int hm_seg_index_add(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id);
void hm_seg_index_remove(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id);
/* The (up to) two segment candidates for @addr. */
void hm_seg_index_lookup(const struct hm_seg_index *ix, uintptr_t addr,
			 unsigned int *lo, unsigned int *hi);
size_t hm_seg_index_bytes(const struct hm_seg_index *ix);

#endif /* HAPMEM_CORE_SEG_INDEX_H */
