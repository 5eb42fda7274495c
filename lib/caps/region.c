// SPDX-License-Identifier: GPL-2.0-only
/*
 * One capability region: an allocator core over one kind of memory, its
 * lock, its segments and their growth.
 *
 * As in the HAP heap, the region lock is held for O(1) core operations
 * only; growth drops it around the backend call, and a thread that runs
 * out while a growth is in flight waits for that one instead of growing
 * too.  A growable region keeps at most one fully unused segment: a free
 * that leaves a second one unused hands it back to the backend (after
 * every lock is dropped).
 *
 * Protected memory has no CPU mapping; the core is given the address of
 * a PROT_NONE reservation the size of the segment instead, so that every
 * block still has a unique process address (caps_free and the address
 * map work unchanged) that faults if anyone dereferences it.
 *
 * The core's size-class cache is disabled in regions: a free must show in
 * the largest free block at once, for the blocking waiters.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "caps/caps_internal.h"

#define GROW_ALIGN	0x100000ull
#define FOUR_GIB	(1ull << 32)

struct caps_region *hm_caps_region_new(const char *name, const uint32_t caps[3])
{
	struct caps_region *r;
	int i;

	if (!name || !*name || strlen(name) >= HAPMEM_CAPS_NAME_MAX)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->core = hm_core_create();
	if (!r->core) {
		free(r);
		return NULL;
	}
	hm_core_set_cache_limit(r->core, 0);
	strcpy(r->name, name);
	for (i = 0; i < HAPMEM_CAPS_PRIORITIES; i++) {
		r->caps[i] = caps ? caps[i] : 0;
		r->all_caps |= r->caps[i];
	}
	r->cpu_less = r->all_caps & HAPMEM_CAP_PROTECTED;
	r->capacity = SIZE_MAX;
	r->min_grow = GROW_ALIGN;
	r->verify_free = hm_caps_dbg_level() >= CAPS_DEBUG_POISON && !r->cpu_less;
	atomic_init(&r->min_wait, SIZE_MAX);
	pthread_mutex_init(&r->lock, NULL);
	hm_grow_gate_init(&r->gate);
	return r;
}

static void seg_unmap(struct caps_region *r, struct caps_seg *s)
{
	if (s->desc.cpu != (void *)s->base)
		munmap((void *)s->base, s->desc.len);	/* the placeholder */
	if (r->ops)
		r->ops->release(r->ctx, &s->desc);
}

void hm_caps_region_delete(struct caps_region *r)
{
	struct hm_core_stats st;
	unsigned int id;

	if (!r)
		return;
	hm_core_stats(r->core, &st);
	for (id = 0; st.segments; id++) {
		uintptr_t base, owner;
		uint64_t dev;
		size_t len;
		struct caps_seg *s;

		if (hm_core_segment(r->core, id, &base, &dev, &len, &owner))
			continue;
		st.segments--;
		s = (struct caps_seg *)owner;
		hm_caps_amap_remove(s);
		seg_unmap(r, s);
		free(s);
	}
	hm_caps_rec_free_all(r);
	hm_core_destroy(r->core);
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	hm_grow_gate_destroy(&r->gate);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int hm_caps_region_add_seg(struct caps_region *r, const struct hm_segment_desc *d)
{
	struct caps_seg *s;
	uintptr_t base;
	int err, id;

	if ((r->all_caps & HAPMEM_CAP_32BIT) && (d->dev >= FOUR_GIB || d->len > FOUR_GIB - d->dev))
		return -ERANGE;	/* the memory is not what the region promises */
	if (r->cpu_less && d->cpu)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->region = r;
	s->desc = *d;
	if (d->cpu) {
		s->base = (uintptr_t)d->cpu;
	} else {
		void *p = mmap(NULL, d->len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			free(s);
			return -errno;
		}
		s->base = (uintptr_t)p;
	}
	hm_caps_dbg_new_seg(r, d);
	err = hm_caps_amap_add(s);
	if (err)
		goto fail;
	base = s->base;	/* once in the core, another thread may release s */
	pthread_mutex_lock(&r->lock);
	id = hm_core_add_segment(r->core, s->base, d->dev, d->len, (uintptr_t)s);
	if (id >= 0) {
		s->core_id = id;
		r->total += d->len;
	}
	pthread_mutex_unlock(&r->lock);
	if (id < 0) {
		hm_caps_amap_remove(s);
		err = id;
		goto fail;
	}
	hm_caps_emit(CAPS_EV_SEG_GROW, r, (void *)base, d->len, 0, d->dev);
	return 0;
fail:
	if (!d->cpu)
		munmap((void *)s->base, d->len);
	free(s);
	return err;
}

/* Segment length for a request of @size/@align; 0 when over capacity. */
static size_t grow_len_locked(const struct caps_region *r, size_t size, size_t align)
{
	size_t need = hm_core_need(size ? size : 1, align), len;

	if (!need || need > SIZE_MAX - GROW_ALIGN)
		return 0;
	len = need > r->min_grow ? need : r->min_grow;
	len = (len + GROW_ALIGN - 1) & ~(size_t)(GROW_ALIGN - 1);
	if (r->capacity != SIZE_MAX) {
		size_t room = r->capacity > r->total ? r->capacity - r->total : 0;

		if (len > room)
			len = room & ~(size_t)(GROW_ALIGN - 1);
		if (len < need)
			return 0;
	}
	return len;
}

int hm_caps_region_alloc(struct caps_region *r, size_t size, size_t align, uintptr_t *out)
{
	int err;

	if (size > r->capacity)
		return -E2BIG;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct hm_segment_desc d;
		size_t len;

		err = hm_core_alloc(r->core, size, align, out);
		if (!err)
			hm_caps_win_note(r);
		if (err != -ENOMEM || r->fixed || !r->ops)
			break;
		if (hm_grow_gate_wait(&r->gate, &r->lock))
			continue;
		len = grow_len_locked(r, size, align);
		if (!len)
			break;	/* -ENOMEM: at capacity */
		hm_grow_gate_begin(&r->gate);
		pthread_mutex_unlock(&r->lock);
		err = r->ops->grow(r->ctx, len, &d);
		if (!err) {
			err = hm_caps_region_add_seg(r, &d);
			if (err)
				r->ops->release(r->ctx, &d);
		}
		pthread_mutex_lock(&r->lock);
		hm_grow_gate_end(&r->gate);
		if (err)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

int hm_caps_region_free_locked(struct caps_region *r, uintptr_t raw, struct caps_seg **rel)
{
	struct hm_core_stats st;
	uintptr_t owner;
	int err, seg;

	*rel = NULL;
	err = hm_core_free(r->core, raw);
	if (err || r->fixed || !r->ops)
		return err;
	hm_core_stats(r->core, &st);
	if (st.segments_free < 2)
		return 0;
	seg = hm_core_unused_segment(r->core);
	if (seg < 0 || hm_core_remove_segment(r->core, (unsigned int)seg, &owner))
		return 0;
	*rel = (struct caps_seg *)owner;
	r->total -= (*rel)->desc.len;
	return 0;
}

/* No lock held (the address map's write lock is taken here). */
void hm_caps_region_release_seg(struct caps_region *r, struct caps_seg *s)
{
	void *base = (void *)s->base;
	size_t len = s->desc.len;
	uint64_t dev = s->desc.dev;

	hm_caps_amap_remove(s);
	seg_unmap(r, s);
	free(s);
	hm_caps_emit(CAPS_EV_SEG_RELEASE, r, base, len, 0, dev);
}

/*
 * fork, child (single thread; the region lock is held from prepare):
 * give back every segment and keep its addresses reserved, then start
 * over on an empty core.  A growable region keeps its configuration and
 * backend; a user region (caps_region_add_mem/_fd) leaves the registry:
 * its memory may be shared with the parent (MAP_SHARED, a dma-buf), where
 * the child's blocks would overwrite the parent's, and an fd region's
 * device mapping belongs to the parent's session.  The address map has
 * been emptied already.
 */
bool hm_caps_region_fork_reset(struct caps_region *r)
{
	struct hm_core_stats st;
	unsigned int id;

	pthread_mutex_unlock(&r->lock);	/* taken by the prepare hook */
	hm_grow_gate_reset(&r->gate);	/* its waiters were the parent's */
	hm_caps_rec_free_all(r);
	hm_core_stats(r->core, &st);
	for (id = 0; st.segments; id++) {
		uintptr_t base, owner;
		uint64_t dev;
		size_t len;
		struct caps_seg *s;

		if (hm_core_segment(r->core, id, &base, &dev, &len, &owner))
			continue;
		st.segments--;
		s = (struct caps_seg *)owner;
		/* a user-mem region's memory is the caller's: left as it is */
		if (r->ops && r->kind != CAPS_REGION_USER_MEM) {
			/* the driver backend only unmaps a parent's segment here */
			r->ops->release(r->ctx, &s->desc);
			/* no thread can map the range between release and this */
			if (s->desc.cpu)
				mmap(s->desc.cpu, s->desc.len, PROT_NONE,
				     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		}
		/* a placeholder (CPU-less segment) is PROT_NONE already: kept */
		free(s);
	}
	hm_core_destroy(r->core);
	r->core = r->kind != CAPS_REGION_GROWABLE ? NULL : hm_core_create();
	if (!r->core) {
		if (r->kind == CAPS_REGION_GROWABLE)
			fprintf(stderr, "hapmem caps: fork: out of memory, region %s dropped in the child\n",
				r->name);
		if (r->ctx_free)
			r->ctx_free(r->ctx);
		free(r);
		return false;
	}
	hm_core_set_cache_limit(r->core, 0);
	r->total = 0;
	atomic_store(&r->min_wait, SIZE_MAX);
	return true;
}
