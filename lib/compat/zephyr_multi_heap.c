// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr multi-heap face (<zephyr/sys/multi_heap.h>): several
 * sys_heaps (zephyr_sys_heap.c) behind one allocator, the heap chosen by
 * the user's function.  The heaps are kept sorted by address, and a
 * block's heap is found by binary search on their buffers
 * (init_mem/init_bytes).  Not synchronised, as upstream.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <stdint.h>
#include <string.h>

#include "compat/zephyr/sys/multi_heap.h"

void sys_multi_heap_init(struct sys_multi_heap *heap, sys_multi_heap_fn_t choice_fn)
{
	heap->nheaps = 0;
	heap->choice = choice_fn;
}

void sys_multi_heap_add_heap(struct sys_multi_heap *mheap, struct sys_heap *heap,
			     void *user_data)
{
	unsigned int i;

	if (!heap || mheap->nheaps >= MAX_MULTI_HEAPS)
		return;
	/* insertion by address */
	for (i = mheap->nheaps; i > 0 &&
	     (uintptr_t)mheap->heaps[i - 1].heap->init_mem > (uintptr_t)heap->init_mem; i--)
		mheap->heaps[i] = mheap->heaps[i - 1];
	mheap->heaps[i].heap = heap;
	mheap->heaps[i].user_data = user_data;
	mheap->nheaps++;
}

void *sys_multi_heap_alloc(struct sys_multi_heap *mheap, void *cfg, size_t bytes)
{
	return mheap->choice ? mheap->choice(mheap, cfg, 0, bytes) : NULL;
}

void *sys_multi_heap_aligned_alloc(struct sys_multi_heap *mheap, void *cfg, size_t align,
				   size_t bytes)
{
	return mheap->choice ? mheap->choice(mheap, cfg, align, bytes) : NULL;
}

const struct sys_multi_heap_rec *sys_multi_heap_get_heap(const struct sys_multi_heap *mheap,
							 void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	unsigned int lo = 0, hi = mheap->nheaps;
	const struct sys_heap *h;

	/* the last heap starting at or below addr */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if ((uintptr_t)mheap->heaps[mid].heap->init_mem <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	h = mheap->heaps[lo - 1].heap;
	return a - (uintptr_t)h->init_mem < h->init_bytes ? &mheap->heaps[lo - 1] : NULL;
}

void sys_multi_heap_free(struct sys_multi_heap *mheap, void *block)
{
	const struct sys_multi_heap_rec *rec;

	if (!block)
		return;
	rec = sys_multi_heap_get_heap(mheap, block);
	if (rec)
		sys_heap_free(rec->heap, block);
}

void *sys_multi_heap_aligned_realloc(struct sys_multi_heap *mheap, void *cfg, void *ptr,
				     size_t align, size_t bytes)
{
	const struct sys_multi_heap_rec *rec;
	size_t old;
	void *p;

	if (!ptr)
		return sys_multi_heap_aligned_alloc(mheap, cfg, align, bytes);
	if (!bytes) {
		sys_multi_heap_free(mheap, ptr);
		return NULL;
	}
	rec = sys_multi_heap_get_heap(mheap, ptr);
	if (!rec)
		return NULL;
	old = sys_heap_usable_size(rec->heap, ptr);
	if (!old)
		return NULL;	/* not a live block */
	p = sys_heap_aligned_realloc(rec->heap, ptr, align, bytes);
	if (p)
		return p;
	p = sys_multi_heap_aligned_alloc(mheap, cfg, align, bytes);
	if (p) {
		memcpy(p, ptr, old < bytes ? old : bytes);
		sys_heap_free(rec->heap, ptr);
	}
	return p;
}

void *sys_multi_heap_realloc(struct sys_multi_heap *mheap, void *cfg, void *ptr, size_t bytes)
{
	return sys_multi_heap_aligned_realloc(mheap, cfg, ptr, 0, bytes);
}
