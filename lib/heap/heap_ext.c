// SPDX-License-Identifier: GPL-2.0-only
/*
 * A HAP heap driven block by block by its client (heap.h says the
 * contract): the capability regions (lib/caps) use it so that their
 * locking, growth, release and fork() handling are the heap's, while
 * they keep per-block state of their own (guards, debug records, exact
 * statistics for blocking waiters) that the heap's own alloc/free paths
 * have no room for.
 *
 * A layer above heap.c, as the public entry points are: it calls heap.c's
 * locked interface and the front end's peak check (the front end itself
 * stays off for such a heap, but hm_heap_stats() reads its peak).
 *
 * Two policies such a client needs, off for every other heap:
 *
 * - growth sized to fit under a capacity: the smallest segment that
 *   surely holds the request, at least the minimum growth, cut to the
 *   room left under the bound (set here, applied by heap.c's growth);
 * - a bound on the fully unused segments kept: a free that leaves one
 *   more hands it back (after every lock is dropped, by the caller).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <pthread.h>

#include "heap/tcache.h"	/* hm_tc_peak_check_locked(); heap_impl.h */

struct hm_core *hm_heap_lock_core(struct hm_heap *h)
{
	pthread_mutex_lock(&h->lock);
	return h->core;
}

void hm_heap_unlock_core(struct hm_heap *h)
{
	hm_heap_unlock(h);
}

struct hm_core *hm_heap_core(struct hm_heap *h)
{
	return h->core;
}

int hm_heap_alloc_core_locked(struct hm_heap *h, size_t size, size_t align, uintptr_t *addr)
{
	bool low;
	int err;

	/* As hm_heap_alloc(): the growth request must not overflow. */
	if (size > HM_CORE_MAX_BLOCK || align > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	err = hm_heap_alloc_locked(h, size, align, addr, &low);
	if (!err)
		hm_tc_peak_check_locked(h);
	return err;
}

int hm_heap_free_core_locked(struct hm_heap *h, uintptr_t addr, struct hm_segment_desc *rel)
{
	struct hm_core_stats st;
	uintptr_t base;
	int err, seg;

	rel->len = 0;
	err = hm_core_free(h->core, addr);
	if (err || !h->unused_bounded)
		return err;
	hm_core_stats(h->core, &st);
	if (st.segments_free <= h->unused_max)
		return 0;
	seg = hm_core_unused_segment(h->core);
	if (seg < 0 || hm_core_segment(h->core, (unsigned int)seg, &base, &rel->dev, &rel->len,
				       &rel->handle))
		return 0;
	if (hm_core_remove_segment(h->core, (unsigned int)seg, NULL)) {
		rel->len = 0;
		return 0;
	}
	rel->cpu = (void *)base;
	h->release_events++;
	h->releasing++;		/* fork() waits until hm_heap_release_seg() */
	return 0;
}

void hm_heap_release_seg(struct hm_heap *h, const struct hm_segment_desc *rel)
{
	h->ops->release(h->ctx, rel);
	pthread_mutex_lock(&h->lock);
	if (!--h->releasing && !hm_grow_gate_busy(&h->gate))
		pthread_cond_broadcast(&h->gate.done);
	pthread_mutex_unlock(&h->lock);
}

void hm_heap_set_fit_growth(struct hm_heap *h, size_t min_grow, size_t capacity)
{
	pthread_mutex_lock(&h->lock);
	h->grow_fit = true;
	h->grow_min = min_grow;
	h->min_grow_bytes = min_grow;
	h->capacity = capacity;
	pthread_mutex_unlock(&h->lock);
}

void hm_heap_set_unused_max(struct hm_heap *h, unsigned int n)
{
	pthread_mutex_lock(&h->lock);
	h->unused_bounded = true;
	h->unused_max = n;
	pthread_mutex_unlock(&h->lock);
}
