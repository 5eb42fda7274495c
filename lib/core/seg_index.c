// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address -> segment map of the allocator core (see seg_index.h).
 *
 * Only segment add and remove modify it, so its growth (a rehash) never
 * happens on the allocation path.
 */
#include <errno.h>
#include <stdlib.h>

#include "seg_index.h"

static uint32_t slot_of(const struct hm_seg_index *ix, uint64_t key)
{
	/* Fibonacci hashing: consecutive chunks spread over the table. */
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & ix->mask;
}

static struct hm_seg_slot *find(const struct hm_seg_index *ix, uint64_t key)
{
	uint32_t i;

	if (!ix->slots)
		return NULL;
	for (i = slot_of(ix, key); ix->slots[i].chunk; i = (i + 1) & ix->mask)
		if (ix->slots[i].chunk == key)
			return &ix->slots[i];
	return NULL;
}

static struct hm_seg_slot *insert_new(struct hm_seg_index *ix, uint64_t key)
{
	uint32_t i = slot_of(ix, key);

	while (ix->slots[i].chunk)
		i = (i + 1) & ix->mask;
	ix->slots[i] = (struct hm_seg_slot){ .chunk = key, .lo = HM_SEG_NONE, .hi = HM_SEG_NONE };
	ix->count++;
	return &ix->slots[i];
}

/* Linear-probing delete by backward shift: no tombstones, so lookups stay short. */
static void delete_slot(struct hm_seg_index *ix, struct hm_seg_slot *s)
{
	uint32_t hole = (uint32_t)(s - ix->slots), i = hole;

	for (;;) {
		uint32_t home;

		i = (i + 1) & ix->mask;
		if (!ix->slots[i].chunk)
			break;
		home = slot_of(ix, ix->slots[i].chunk);
		/* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & ix->mask) >= ((i - hole) & ix->mask)) {
			ix->slots[hole] = ix->slots[i];
			hole = i;
		}
	}
	ix->slots[hole].chunk = 0;
	ix->count--;
}

/* Keep the load factor at or below one half. */
static int reserve(struct hm_seg_index *ix, uint32_t more)
{
	uint32_t size = ix->slots ? ix->mask + 1 : 0, nsize, i;
	struct hm_seg_slot *old = ix->slots;

	if ((uint64_t)(ix->count + more) * 2 <= size)
		return 0;
	nsize = size ? size : 16;
	while ((uint64_t)(ix->count + more) * 2 > nsize) {
		if (nsize >= (1u << 30))
			return -ENOMEM;
		nsize *= 2;
	}
	ix->slots = calloc(nsize, sizeof(*ix->slots));
	if (!ix->slots) {
		ix->slots = old;
		return -ENOMEM;
	}
	ix->mask = nsize - 1;
	ix->count = 0;
	for (i = 0; i < size; i++)
		if (old[i].chunk)
			*insert_new(ix, old[i].chunk) = old[i];
	free(old);
	return 0;
}

int hm_seg_index_add(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id)
{
	uint64_t first = (uint64_t)base >> HM_SEG_CHUNK_SHIFT;
	uint64_t last = (uint64_t)(base + len - 1) >> HM_SEG_CHUNK_SHIFT;
	uint64_t c;
	int err;

	if (last - first + 1 > UINT32_MAX / 4)
		return -ENOMEM;
	err = reserve(ix, (uint32_t)(last - first + 1));
	if (err)
		return err;
	for (c = first; c <= last; c++) {
		struct hm_seg_slot *s = find(ix, c + 1);

		if (!s)
			s = insert_new(ix, c + 1);
		/* Only the first chunk can start mid-chunk; it is then "hi". */
		if (c == first && (base & ((1u << HM_SEG_CHUNK_SHIFT) - 1)))
			s->hi = (uint16_t)id;
		else
			s->lo = (uint16_t)id;
	}
	return 0;
}

void hm_seg_index_remove(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id)
{
	uint64_t first = (uint64_t)base >> HM_SEG_CHUNK_SHIFT;
	uint64_t last = (uint64_t)(base + len - 1) >> HM_SEG_CHUNK_SHIFT;
	uint64_t c;

	for (c = first; c <= last; c++) {
		struct hm_seg_slot *s = find(ix, c + 1);

		if (!s)
			continue;
		if (s->lo == id)
			s->lo = HM_SEG_NONE;
		if (s->hi == id)
			s->hi = HM_SEG_NONE;
		if (s->lo == HM_SEG_NONE && s->hi == HM_SEG_NONE)
			delete_slot(ix, s);
	}
}

void hm_seg_index_lookup(const struct hm_seg_index *ix, uintptr_t addr,
			 unsigned int *lo, unsigned int *hi)
{
	const struct hm_seg_slot *s = find(ix, ((uint64_t)addr >> HM_SEG_CHUNK_SHIFT) + 1);

	*lo = s ? s->lo : HM_SEG_NONE;
	*hi = s ? s->hi : HM_SEG_NONE;
}

size_t hm_seg_index_bytes(const struct hm_seg_index *ix)
{
	return ix->slots ? (size_t)(ix->mask + 1) * sizeof(*ix->slots) : 0;
}

void hm_seg_index_fini(struct hm_seg_index *ix)
{
	free(ix->slots);
	*ix = (struct hm_seg_index){ 0 };
}
