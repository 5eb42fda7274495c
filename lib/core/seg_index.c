// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address -> segment map (see seg_index.h).
 *
 * Only segment add and remove modify it, so its growth (a rehash, a
 * longer list of starts) never happens on the allocation path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seg_index.h"

#define CHUNK_MASK	(((uintptr_t)1 << HM_SEG_CHUNK_SHIFT) - 1)

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
	ix->slots[i] = (struct hm_seg_slot){ .chunk = key, .cover = HM_SEG_NONE };
	ix->count++;
	return &ix->slots[i];
}

static const uint32_t *starts_of(const struct hm_seg_slot *s)
{
	return s->nstarts > 1 ? s->starts.many : &s->starts.one;
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

static bool in_use(const struct hm_seg_index *ix, unsigned int id)
{
	return id < ix->next_cap && ix->ext[id].end != ix->ext[id].base;
}

static bool meets(const struct hm_seg_index *ix, unsigned int id, uintptr_t base, uintptr_t end)
{
	return ix->ext[id].base < end && base < ix->ext[id].end;
}

bool hm_seg_index_overlaps(const struct hm_seg_index *ix, uintptr_t base, size_t len)
{
	uintptr_t end = base + len;
	uint64_t c, first = (uint64_t)base >> HM_SEG_CHUNK_SHIFT;
	uint64_t last = (uint64_t)(end - 1) >> HM_SEG_CHUNK_SHIFT;

	if (!len || !ix->count)
		return false;
	for (c = first; c <= last; c++) {
		const struct hm_seg_slot *s = find(ix, c + 1);
		const uint32_t *st;
		uint32_t k;

		if (!s)
			continue;
		if (s->cover != HM_SEG_NONE && meets(ix, s->cover, base, end))
			return true;
		st = starts_of(s);
		for (k = 0; k < s->nstarts; k++)
			if (meets(ix, st[k], base, end))
				return true;
	}
	return false;
}

int hm_seg_index_add(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id)
{
	uint64_t first = (uint64_t)base >> HM_SEG_CHUNK_SHIFT;
	uint64_t last = (uint64_t)(base + len - 1) >> HM_SEG_CHUNK_SHIFT;
	struct hm_seg_slot *s;
	uint32_t *many = NULL;
	uint64_t c;
	int err;

	if (!len || base + len < base || id >= HM_SEG_NONE || in_use(ix, id))
		return -EINVAL;
	if (hm_seg_index_overlaps(ix, base, len))
		return -EEXIST;
	if (last - first + 1 > UINT32_MAX / 4)
		return -ENOMEM;
	if (id >= ix->next_cap) {
		uint32_t ncap = ix->next_cap ? ix->next_cap : 16;
		struct hm_seg_extent *e;

		while (ncap <= id)
			ncap *= 2;
		e = realloc(ix->ext, (size_t)ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		memset(e + ix->next_cap, 0, (size_t)(ncap - ix->next_cap) * sizeof(*e));
		ix->ext = e;
		ix->next_cap = ncap;
	}
	err = reserve(ix, (uint32_t)(last - first + 1));
	if (err)
		return err;
	s = find(ix, first + 1);
	if (s && s->nstarts) {
		/* one more start in that chunk: the longer list is made first */
		many = malloc((size_t)(s->nstarts + 1) * sizeof(*many));
		if (!many)
			return -ENOMEM;
	}
	ix->ext[id] = (struct hm_seg_extent){ .base = base, .end = base + len };
	if (!s)
		s = insert_new(ix, first + 1);
	if (!s->nstarts) {
		s->starts.one = id;
	} else {
		const uint32_t *st = starts_of(s);
		uint32_t k, n = s->nstarts, at = 0;

		while (at < n && ix->ext[st[at]].base < base)
			at++;
		for (k = 0; k < at; k++)
			many[k] = st[k];
		many[at] = id;
		for (k = at; k < n; k++)
			many[k + 1] = st[k];
		if (n > 1) {
			free(s->starts.many);
			ix->many_bytes -= n * sizeof(uint32_t);
		}
		s->starts.many = many;
		ix->many_bytes += (n + 1) * sizeof(uint32_t);
	}
	s->nstarts++;
	for (c = first + 1; c <= last; c++) {
		s = find(ix, c + 1);
		if (!s)
			s = insert_new(ix, c + 1);
		s->cover = id;
	}
	return 0;
}

static void drop_start(struct hm_seg_index *ix, struct hm_seg_slot *s, unsigned int id)
{
	uint32_t k, n = s->nstarts;

	if (n == 1) {
		if (s->starts.one == id)
			s->nstarts = 0;
		return;
	}
	for (k = 0; k < n && s->starts.many[k] != id; k++)
		;
	if (k == n)
		return;
	memmove(&s->starts.many[k], &s->starts.many[k + 1], (n - k - 1) * sizeof(uint32_t));
	if (--s->nstarts == 1) {
		uint32_t one = s->starts.many[0];

		free(s->starts.many);
		ix->many_bytes -= n * sizeof(uint32_t);
		s->starts.one = one;
	} else {
		ix->many_bytes -= sizeof(uint32_t);	/* counted: nstarts words */
	}
}

void hm_seg_index_remove(struct hm_seg_index *ix, uintptr_t base, size_t len, unsigned int id)
{
	uint64_t first = (uint64_t)base >> HM_SEG_CHUNK_SHIFT;
	uint64_t last = (uint64_t)(base + len - 1) >> HM_SEG_CHUNK_SHIFT;
	uint64_t c;

	if (!len || !in_use(ix, id) || ix->ext[id].base != base)
		return;
	for (c = first; c <= last; c++) {
		struct hm_seg_slot *s = find(ix, c + 1);

		if (!s)
			continue;
		if (c == first)
			drop_start(ix, s, id);
		else if (s->cover == id)
			s->cover = HM_SEG_NONE;
		if (s->cover == HM_SEG_NONE && !s->nstarts)
			delete_slot(ix, s);
	}
	ix->ext[id] = (struct hm_seg_extent){ 0 };
}

unsigned int hm_seg_index_find(const struct hm_seg_index *ix, uintptr_t addr)
{
	const struct hm_seg_slot *s = find(ix, ((uint64_t)addr >> HM_SEG_CHUNK_SHIFT) + 1);
	const uint32_t *st;
	uint32_t lo, hi;

	if (!s)
		return HM_SEG_NONE;
	if (s->nstarts) {
		/* the last start at or below addr */
		st = starts_of(s);
		lo = 0;
		hi = s->nstarts;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (ix->ext[st[mid]].base <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo) {
			uint32_t id = st[lo - 1];

			return addr < ix->ext[id].end ? id : HM_SEG_NONE;
		}
	}
	if (s->cover != HM_SEG_NONE && addr < ix->ext[s->cover].end)
		return s->cover;
	return HM_SEG_NONE;
}

void hm_seg_index_lookup(const struct hm_seg_index *ix, uintptr_t addr,
			 unsigned int *lo, unsigned int *hi)
{
	*lo = hm_seg_index_find(ix, addr);
	*hi = HM_SEG_NONE;
}

size_t hm_seg_index_bytes(const struct hm_seg_index *ix)
{
	size_t n = ix->slots ? (size_t)(ix->mask + 1) * sizeof(*ix->slots) : 0;

	return n + (size_t)ix->next_cap * sizeof(*ix->ext) + ix->many_bytes;
}

void hm_seg_index_fini(struct hm_seg_index *ix)
{
	uint32_t i;

	for (i = 0; ix->slots && i <= ix->mask; i++)
		if (ix->slots[i].chunk && ix->slots[i].nstarts > 1)
			free(ix->slots[i].starts.many);
	free(ix->slots);
	free(ix->ext);
	*ix = (struct hm_seg_index){ 0 };
}
