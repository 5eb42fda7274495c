/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference model of the allocator core, shared by the randomized unit test
 * (test_core_model.c) and the libFuzzer target (tests/fuzz/fuzz_core.c).
 *
 * The model owns a real, writable arena split into segments.  Every block
 * the core returns is checked for alignment, for lying inside one segment
 * that is registered (never one removed, never across a border), and for
 * overlapping no other live block (a per-granule owner map); it is
 * then filled with a pattern that is verified when the block is freed or
 * resized.  A segment's removal may be refused (-EBUSY) only while it
 * holds a live block, or a cached one (after a cache flush it must go).
 * Statistics are compared with the model's own totals, and
 * hm_core_check() runs at regular intervals.
 */
#ifndef HAPMEM_TESTS_CORE_MODEL_H
#define HAPMEM_TESTS_CORE_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/core.h"

#define MODEL_SEGS	3
#define MODEL_SEG_LEN	(512u * 1024)
#define MODEL_MAX_LIVE	4096

struct model_block {
	uintptr_t addr;
	size_t size;		/* as requested */
	size_t span;		/* block size the core reports (>= size, granules) */
	uint8_t pat;
};

struct model {
	struct hm_core *c;
	uint8_t *mem;
	uint32_t *owner;	/* per granule: live block slot + 1, or 0 */
	int seg_id[MODEL_SEGS];	/* core id, or -1 while removed */
	struct model_block live[MODEL_MAX_LIVE];
	unsigned int nlive;
	uint64_t used;		/* granule-rounded bytes in live blocks */
	char err[256];		/* first failure */
};

#define MODEL_FAIL(m, ...) \
	(snprintf((m)->err, sizeof((m)->err), __VA_ARGS__), -1)

static inline size_t model_round(size_t size)
{
	return size ? (size + HM_CORE_GRANULE - 1) & ~(size_t)(HM_CORE_GRANULE - 1) : HM_CORE_GRANULE;
}

static inline uint32_t *model_owner(struct model *m, uintptr_t addr)
{
	return &m->owner[(addr - (uintptr_t)m->mem) / HM_CORE_GRANULE];
}

static inline int model_seg_of(const struct model *m, uintptr_t addr)
{
	return (int)((addr - (uintptr_t)m->mem) / MODEL_SEG_LEN);
}

/* [addr, addr + len) lies in one segment, and that segment is registered. */
static inline int model_check_seg(struct model *m, uintptr_t addr, size_t len,
				  const char *what)
{
	int i = model_seg_of(m, addr);

	if (i != model_seg_of(m, addr + len - 1))
		return MODEL_FAIL(m, "%s %#zx+%zu crosses a segment border", what,
				  (size_t)(addr - (uintptr_t)m->mem), len);
	if (m->seg_id[i] < 0)
		return MODEL_FAIL(m, "%s %#zx+%zu in removed segment %d", what,
				  (size_t)(addr - (uintptr_t)m->mem), len, i);
	return 0;
}

static inline bool model_seg_has_live(struct model *m, int i)
{
	uintptr_t base = (uintptr_t)m->mem + (size_t)i * MODEL_SEG_LEN;
	size_t g;

	for (g = 0; g < MODEL_SEG_LEN; g += HM_CORE_GRANULE)
		if (*model_owner(m, base + g))
			return true;
	return false;
}

static inline int model_seg_add(struct model *m, int i)
{
	/* Adjacent segments: coalescing must still stop at their border. */
	m->seg_id[i] = hm_core_add_segment(m->c, (uintptr_t)m->mem + (size_t)i * MODEL_SEG_LEN,
					   0x100000000ull * (i + 1), MODEL_SEG_LEN, (uintptr_t)i);
	return m->seg_id[i] < 0 ? MODEL_FAIL(m, "add segment %d: %d", i, m->seg_id[i]) : 0;
}

static inline int model_init(struct model *m, size_t cache_limit)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->mem = mmap(NULL, MODEL_SEGS * MODEL_SEG_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m->owner = calloc(MODEL_SEGS * MODEL_SEG_LEN / HM_CORE_GRANULE, sizeof(*m->owner));
	m->c = hm_core_create();
	if (m->mem == MAP_FAILED || !m->owner || !m->c)
		return MODEL_FAIL(m, "out of memory");
	hm_core_set_cache_limit(m->c, cache_limit);
	for (i = 0; i < MODEL_SEGS; i++)
		if (model_seg_add(m, i))
			return -1;
	return 0;
}

static inline void model_fini(struct model *m)
{
	hm_core_destroy(m->c);
	free(m->owner);
	munmap(m->mem, MODEL_SEGS * MODEL_SEG_LEN);
}

static inline int model_check_range(struct model *m, uintptr_t addr, size_t len,
				    uint32_t expect, const char *what)
{
	size_t g;

	for (g = 0; g < len; g += HM_CORE_GRANULE)
		if (*model_owner(m, addr + g) != expect)
			return MODEL_FAIL(m, "%s: granule %#zx owned by %u, expected %u", what,
					  (size_t)(addr + g - (uintptr_t)m->mem), *model_owner(m, addr + g),
					  expect);
	return 0;
}

static inline void model_set_range(struct model *m, uintptr_t addr, size_t len, uint32_t v)
{
	size_t g;

	for (g = 0; g < len; g += HM_CORE_GRANULE)
		*model_owner(m, addr + g) = v;
}

static inline int model_verify(struct model *m, const struct model_block *b)
{
	const uint8_t *p = (const uint8_t *)b->addr;
	size_t i;

	for (i = 0; i < b->size; i++)
		if (p[i] != (uint8_t)(b->pat + i))
			return MODEL_FAIL(m, "block %#zx corrupted at %zu",
					  (size_t)(b->addr - (uintptr_t)m->mem), i);
	return 0;
}

static inline void model_fill(struct model_block *b, size_t from)
{
	uint8_t *p = (uint8_t *)b->addr;
	size_t i;

	for (i = from; i < b->size; i++)
		p[i] = (uint8_t)(b->pat + i);
}

static inline int model_alloc(struct model *m, size_t size, size_t align, uint8_t pat)
{
	size_t largest = hm_core_largest_free(m->c);
	struct model_block *b;
	uintptr_t addr;
	int err;

	if (m->nlive == MODEL_MAX_LIVE)
		return 0;
	err = hm_core_alloc(m->c, size, align, &addr);
	if (err == -ENOMEM) {
		/* The advertised largest block must really be available. */
		if (align <= HM_CORE_GRANULE && model_round(size) <= largest)
			return MODEL_FAIL(m, "alloc %zu failed with largest_free %zu", size, largest);
		return 0;
	}
	if (err)
		return MODEL_FAIL(m, "alloc %zu/%zu: %d", size, align, err);
	if (addr < (uintptr_t)m->mem ||
	    addr + model_round(size) > (uintptr_t)m->mem + MODEL_SEGS * MODEL_SEG_LEN)
		return MODEL_FAIL(m, "alloc returned %#zx outside the arena", (size_t)addr);
	if (align && addr % align)
		return MODEL_FAIL(m, "alloc %zu misaligned for %zu", size, align);
	b = &m->live[m->nlive];
	*b = (struct model_block){ .addr = addr, .size = size, .pat = pat };
	err = hm_core_block_size(m->c, addr, &b->span);
	if (err || b->span < model_round(size) || b->span % HM_CORE_GRANULE)
		return MODEL_FAIL(m, "block size %zu for %zu: %d", b->span, size, err);
	if (model_check_seg(m, addr, b->span, "alloc"))
		return -1;
	if (model_check_range(m, addr, b->span, 0, "overlap"))
		return -1;
	model_set_range(m, addr, b->span, m->nlive + 1);
	model_fill(b, 0);
	m->nlive++;
	m->used += b->span;
	return 0;
}

static inline int model_free(struct model *m, unsigned int i)
{
	struct model_block *b = &m->live[i % m->nlive];
	unsigned int slot = (unsigned int)(b - m->live), last = m->nlive - 1;
	uintptr_t addr = b->addr;
	int err;

	if (model_verify(m, b))
		return -1;
	model_set_range(m, addr, b->span, 0);
	m->used -= b->span;
	err = hm_core_free(m->c, addr);
	if (err)
		return MODEL_FAIL(m, "free: %d", err);
	err = hm_core_free(m->c, addr);
	if (err != -EINVAL)
		return MODEL_FAIL(m, "double free gave %d", err);
	if (slot != last) {
		*b = m->live[last];
		model_set_range(m, b->addr, b->span, slot + 1);
	}
	m->nlive--;
	return 0;
}

static inline int model_resize(struct model *m, unsigned int i, size_t size)
{
	struct model_block *b = &m->live[i % m->nlive];
	uint32_t me = (uint32_t)(b - m->live) + 1;
	size_t old = b->span, nsz;
	int err;

	if (model_verify(m, b))
		return -1;
	err = hm_core_resize(m->c, b->addr, size);
	if (err == -ENOMEM)
		return model_round(size) > old ? 0 : MODEL_FAIL(m, "shrink failed");
	if (err)
		return MODEL_FAIL(m, "resize: %d", err);
	err = hm_core_block_size(m->c, b->addr, &nsz);
	if (err || nsz < model_round(size))
		return MODEL_FAIL(m, "resized to %zu for %zu: %d", nsz, size, err);
	if (model_check_seg(m, b->addr, nsz, "resize"))
		return -1;
	if (nsz > old) {
		if (model_check_range(m, b->addr + old, nsz - old, 0, "resize overlap"))
			return -1;
		model_set_range(m, b->addr + old, nsz - old, me);
	} else {
		model_set_range(m, b->addr + nsz, old - nsz, 0);
	}
	m->used = m->used - old + nsz;
	b->size = size;
	b->span = nsz;
	model_fill(b, 0);
	return 0;
}

/* Remove a segment when it is empty, or put it back when it is gone. */
static inline int model_toggle_segment(struct model *m, int i)
{
	uintptr_t owner;
	int err;

	if (m->seg_id[i] < 0)
		return model_seg_add(m, i);
	err = hm_core_remove_segment(m->c, (unsigned int)m->seg_id[i], &owner);
	if (err == -EBUSY) {
		if (model_seg_has_live(m, i))
			return 0;
		/* Only cached blocks may hold it: without them it must go. */
		hm_core_flush_cache(m->c);
		err = hm_core_remove_segment(m->c, (unsigned int)m->seg_id[i], &owner);
		if (err == -EBUSY)
			return MODEL_FAIL(m, "remove segment %d: EBUSY with no live or cached block", i);
	}
	if (err || owner != (uintptr_t)i)
		return MODEL_FAIL(m, "remove segment %d: %d", i, err);
	m->seg_id[i] = -1;
	return 0;
}

static inline int model_check(struct model *m)
{
	struct hm_core_stats st;
	const char *why = "";

	if (hm_core_check(m->c, &why))
		return MODEL_FAIL(m, "core check: %s", why);
	hm_core_stats(m->c, &st);
	if (st.used_bytes != m->used || st.live_blocks != m->nlive)
		return MODEL_FAIL(m, "stats: used %llu/%llu live %u/%u",
				  (unsigned long long)st.used_bytes, (unsigned long long)m->used,
				  st.live_blocks, m->nlive);
	return 0;
}

#endif /* HAPMEM_TESTS_CORE_MODEL_H */
