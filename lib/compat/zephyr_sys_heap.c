// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr sys_heap face (<zephyr/sys/sys_heap.h>) over the allocator
 * core: one hm_core per heap, with the caller's buffer as its only
 * segment.  Upstream keeps the heap's metadata inside the buffer; the
 * core keeps it outside, in a record this file owns.  The records are
 * listed so that a sys_heap_init over memory an earlier heap managed
 * (upstream: overwriting that heap's metadata) drops the earlier heap
 * instead of leaking it.  The list is touched by sys_heap_init only; the
 * heap calls themselves take no lock, as upstream.
 *
 * The core's size-class cache is off: a free coalesces at once, as
 * upstream, which small heaps need to stay usable.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compat/zephyr/sys/sys_heap.h"

#include "core/core.h"

struct z_heap {
	struct hm_core *core;
	uintptr_t mem_lo, mem_hi;	/* the caller's buffer */
	struct sys_heap *owner;
	struct z_heap *next;
};

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct z_heap *heaps;

static void z_heap_destroy(struct z_heap *z)
{
	hm_core_destroy(z->core);
	free(z);
}

/* Under heaps_lock: drop the heaps over memory meeting [lo, hi), and @heap's. */
static void drop_stale(struct sys_heap *heap, uintptr_t lo, uintptr_t hi)
{
	struct z_heap **pp = &heaps, *z;

	while ((z = *pp)) {
		/* heap->heap may be garbage: compared, never followed */
		if ((z->mem_lo < hi && lo < z->mem_hi) || (z->owner == heap && heap->heap == z)) {
			*pp = z->next;
			z_heap_destroy(z);
		} else {
			pp = &z->next;
		}
	}
}

void sys_heap_init(struct sys_heap *heap, void *mem, size_t bytes)
{
	uintptr_t lo = (uintptr_t)mem, hi = lo + bytes, base, top;
	struct z_heap *z;

	if (!heap)
		return;
	if (hi < lo)
		hi = UINTPTR_MAX;
	pthread_mutex_lock(&heaps_lock);
	drop_stale(heap, lo, hi);
	heap->heap = NULL;
	heap->init_mem = mem;
	heap->init_bytes = bytes;
	base = (lo + HM_CORE_GRANULE - 1) & ~(uintptr_t)(HM_CORE_GRANULE - 1);
	top = hi & ~(uintptr_t)(HM_CORE_GRANULE - 1);
	z = calloc(1, sizeof(*z));
	if (z)
		z->core = hm_core_create();
	if (!z || !z->core || !mem || top <= base ||
	    hm_core_add_segment(z->core, base, 0, top - base, 0) < 0) {
		if (z && z->core)
			hm_core_destroy(z->core);
		free(z);
		pthread_mutex_unlock(&heaps_lock);
		return;
	}
	hm_core_set_cache_limit(z->core, 0);
	z->mem_lo = lo;
	z->mem_hi = hi;
	z->owner = heap;
	z->next = heaps;
	heaps = z;
	heap->heap = z;
	pthread_mutex_unlock(&heaps_lock);
}

static struct hm_core *core_of(const struct sys_heap *heap)
{
	return heap && heap->heap ? heap->heap->core : NULL;
}

void *sys_heap_aligned_alloc(struct sys_heap *heap, size_t align, size_t bytes)
{
	struct hm_core *c = core_of(heap);
	uintptr_t out;

	if (!c || !bytes || (align & (align - 1)))
		return NULL;
	if (align <= HM_CORE_GRANULE)
		align = 0;
	return hm_core_alloc(c, bytes, align, &out) ? NULL : (void *)out;
}

void *sys_heap_alloc(struct sys_heap *heap, size_t bytes)
{
	return sys_heap_aligned_alloc(heap, 0, bytes);
}

void sys_heap_free(struct sys_heap *heap, void *mem)
{
	struct hm_core *c = core_of(heap);

	if (c && mem)
		(void)hm_core_free(c, (uintptr_t)mem);	/* not a live block: ignored */
}

size_t sys_heap_usable_size(struct sys_heap *heap, void *mem)
{
	struct hm_core *c = core_of(heap);
	size_t size;

	if (!c || !mem || hm_core_block_size(c, (uintptr_t)mem, &size))
		return 0;
	return size;
}

void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align, size_t bytes)
{
	struct hm_core *c = core_of(heap);
	size_t old;
	void *p;

	if (!ptr)
		return sys_heap_aligned_alloc(heap, align, bytes);
	if (!bytes) {
		sys_heap_free(heap, ptr);
		return NULL;
	}
	if (!c || (align & (align - 1)) || hm_core_block_size(c, (uintptr_t)ptr, &old))
		return NULL;
	if ((!align || !((uintptr_t)ptr & (align - 1))) && !hm_core_resize(c, (uintptr_t)ptr, bytes))
		return ptr;
	p = sys_heap_aligned_alloc(heap, align, bytes);
	if (p) {
		memcpy(p, ptr, old < bytes ? old : bytes);
		sys_heap_free(heap, ptr);
	}
	return p;
}

void *sys_heap_realloc(struct sys_heap *heap, void *ptr, size_t bytes)
{
	return sys_heap_aligned_realloc(heap, ptr, 0, bytes);
}

bool sys_heap_validate(struct sys_heap *heap)
{
	struct hm_core *c = core_of(heap);
	const char *why;

	return c && hm_core_check(c, &why) == 0;
}

int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats)
{
	struct hm_core_stats st;
	struct hm_core *c;

	if (!heap || !stats)
		return -EINVAL;
	c = core_of(heap);
	memset(stats, 0, sizeof(*stats));
	if (c) {
		hm_core_stats(c, &st);
		stats->free_bytes = (size_t)st.free_bytes;
		stats->allocated_bytes = (size_t)st.used_bytes;
		stats->max_allocated_bytes = (size_t)st.peak_used_bytes;
	}
	return 0;
}
