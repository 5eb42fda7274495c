// SPDX-License-Identifier: GPL-2.0-only
/*
 * One capability region: its memory, its lock and its segments.
 *
 * A growable region (caps_region_add, hm_caps_region_add_backend) is a
 * HAP heap instance (lib/heap, heap_ext.c) on the caps backend below,
 * which wraps the region's own backend.  The heap does the locking, the
 * growth (lock dropped around the backend call; a thread that runs out
 * while a growth is in flight waits for that one), its sizing under the
 * region's capacity (hm_heap_set_fit_growth()), the release policy (at
 * most one fully unused segment kept, hm_heap_set_unused_max(); the
 * segment goes back after every lock is dropped) and the reset at
 * fork() (heap_fork.c).  Its front end is off and its core cache
 * disabled: a free must show in the largest free block at once, for the
 * blocking waiters.  Caps runs the core operations itself under the heap
 * lock, because its blocks carry per-block debug state (guards, records)
 * and its statistics must be exact.
 *
 * The caps backend makes each segment a struct caps_seg, entered in the
 * caps address map (addr_map.c), which stays the one map "pointer -> caps
 * region": the heap has no lookup across heaps, and user regions are not
 * heaps.  Protected memory has no CPU mapping; the core is given the
 * address of a PROT_NONE reservation the size of the segment instead, so
 * that every block still has a unique process address (caps_free and the
 * address map work unchanged) that faults if anyone dereferences it.
 *
 * A user region (caps_region_add_mem/_fd) stays a bare core with a lock
 * of its own: it holds one segment, the caller's memory, that never grows
 * nor goes back while the region lives, and at fork() it must not take
 * the heap's reset, which gives segments back to their backend and
 * reserves their addresses PROT_NONE: a user-mem region's memory is the
 * caller's and stays as it is in the child.
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

#define FOUR_GIB	(1ull << 32)

/* A caps_seg for backend segment @d, in the address map.  Region lock NOT held. */
static int seg_new(struct caps_region *r, const struct hm_segment_desc *d, struct caps_seg **out)
{
	struct caps_seg *s;
	int err;

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
	if (err) {
		if (!d->cpu)
			munmap((void *)s->base, d->len);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* Out of the address map, back to the backend.  No lock held. */
static void seg_free(struct caps_region *r, struct caps_seg *s)
{
	hm_caps_amap_remove(s);
	if (s->desc.cpu != (void *)s->base)
		munmap((void *)s->base, s->desc.len);	/* the placeholder */
	if (r->ops)
		r->ops->release(r->ctx, &s->desc);
	free(s);
}

/* ---- the caps backend of a growable region's heap ---- */

static int caps_be_grow(void *ctx, size_t len, struct hm_segment_desc *out)
{
	struct caps_region *r = ctx;
	struct hm_segment_desc d;
	struct caps_seg *s;
	int err = r->ops->grow(r->ctx, len, &d);

	if (err)
		return err;
	err = seg_new(r, &d, &s);
	if (err) {
		r->ops->release(r->ctx, &d);
		return err;
	}
	*out = (struct hm_segment_desc){
		.cpu = (void *)s->base, .dev = d.dev, .len = d.len, .handle = (uintptr_t)s,
	};
	hm_caps_emit(CAPS_EV_SEG_GROW, r, (void *)s->base, d.len, 0, d.dev);
	return 0;
}

static void caps_be_release(void *ctx, const struct hm_segment_desc *seg)
{
	struct caps_region *r = ctx;
	struct caps_seg *s = (struct caps_seg *)seg->handle;

	if (!hm_caps_forking) {
		seg_free(r, s);
		return;
	}
	/*
	 * fork(), child, from the heap's reset: the memory goes back (the
	 * driver backend only unmaps a parent's segment) and the heap
	 * reserves the range PROT_NONE (a placeholder is already); the
	 * address map is emptied by caps_fork.c, whose locks are held.
	 */
	r->ops->release(r->ctx, &s->desc);
	free(s);
}

static const struct hm_backend_ops caps_be_ops = {
	.name = "caps", .grow = caps_be_grow, .release = caps_be_release,
};

/* ---- regions ---- */

static struct caps_region *region_alloc(const char *name, const uint32_t caps[3])
{
	struct caps_region *r;
	int i;

	if (!name || !*name || strlen(name) >= HAPMEM_CAPS_NAME_MAX)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	strcpy(r->name, name);
	for (i = 0; i < HAPMEM_CAPS_PRIORITIES; i++) {
		r->caps[i] = caps ? caps[i] : 0;
		r->all_caps |= r->caps[i];
	}
	r->cpu_less = r->all_caps & HAPMEM_CAP_PROTECTED;
	r->capacity = SIZE_MAX;
	r->verify_free = hm_caps_dbg_level() >= CAPS_DEBUG_POISON && !r->cpu_less;
	atomic_init(&r->min_wait, SIZE_MAX);
	return r;
}

struct caps_region *hm_caps_region_new(const char *name, const uint32_t caps[3],
				       const struct hm_backend_ops *ops, void *ctx,
				       size_t min_grow, size_t capacity)
{
	struct caps_region *r = region_alloc(name, caps);

	if (!r)
		return NULL;
	r->ops = ops;
	r->ctx = ctx;
	r->capacity = capacity;
	r->heap = hm_heap_create(&caps_be_ops, r);
	if (!r->heap) {
		free(r);
		return NULL;
	}
	hm_heap_set_cache_limit(r->heap, 0);
	hm_heap_set_fit_growth(r->heap, min_grow ? min_grow : HM_HEAP_GROW_ALIGN, capacity);
	hm_heap_set_unused_max(r->heap, 1);
	return r;
}

int hm_caps_region_new_user(const char *name, const uint32_t caps[3],
			    const struct hm_segment_desc *d, enum caps_region_kind kind,
			    const struct hm_backend_ops *ops, struct caps_region **out)
{
	struct caps_region *r = region_alloc(name, caps);
	struct caps_seg *s;
	int err;

	if (!r)
		return -EINVAL;
	r->core = hm_core_create();
	if (!r->core) {
		free(r);
		return -EINVAL;
	}
	hm_core_set_cache_limit(r->core, 0);
	pthread_mutex_init(&r->lock, NULL);
	r->cpu_less = !d->cpu;
	if (r->cpu_less)
		r->verify_free = false;
	r->fixed = true;
	r->kind = kind;
	r->capacity = d->len;
	err = seg_new(r, d, &s);
	if (!err) {
		/* in the address map already: a stray free may look at the core */
		pthread_mutex_lock(&r->lock);
		err = hm_core_add_segment(r->core, s->base, d->dev, d->len, (uintptr_t)s);
		pthread_mutex_unlock(&r->lock);
		if (err < 0)
			seg_free(r, s);	/* r->ops is NULL yet: the caller's mappings stay */
	}
	if (err < 0) {
		hm_caps_region_delete(r);
		return err;
	}
	r->ops = ops;
	hm_caps_emit(CAPS_EV_SEG_GROW, r, (void *)s->base, d->len, 0, d->dev);
	*out = r;
	return 0;
}

/* A user region's segments, with @fn applied to each (and freed). */
static void user_segs_drop(struct caps_region *r, void (*fn)(struct caps_region *r,
							       struct caps_seg *s))
{
	struct hm_core_stats st;
	unsigned int id;

	hm_core_stats(r->core, &st);
	for (id = 0; st.segments; id++) {
		uintptr_t base, owner;
		uint64_t dev;
		size_t len;

		if (hm_core_segment(r->core, id, &base, &dev, &len, &owner))
			continue;
		st.segments--;
		fn(r, (struct caps_seg *)owner);
	}
}

void hm_caps_region_delete(struct caps_region *r)
{
	if (!r)
		return;
	if (r->heap) {
		hm_heap_destroy(r->heap);	/* every segment through caps_be_release() */
	} else {
		user_segs_drop(r, seg_free);
		hm_core_destroy(r->core);
		pthread_mutex_destroy(&r->lock);
	}
	hm_caps_rec_free_all(r);
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	free(r);
}

int hm_caps_region_alloc(struct caps_region *r, size_t size, size_t align, uintptr_t *out)
{
	struct hm_core *c;
	int err;

	if (size > r->capacity)
		return -E2BIG;
	c = hm_caps_lock(r);
	err = r->heap ? hm_heap_alloc_core_locked(r->heap, size, align, out)
		      : hm_core_alloc(c, size, align, out);
	if (!err)
		hm_caps_win_note(r);
	hm_caps_unlock(r);
	return err;
}

int hm_caps_region_free_locked(struct caps_region *r, uintptr_t raw, struct hm_segment_desc *rel)
{
	if (r->heap)
		return hm_heap_free_core_locked(r->heap, raw, rel);
	rel->len = 0;
	return hm_core_free(r->core, raw);
}

/* No lock held (the address map's write lock is taken here). */
void hm_caps_region_release_seg(struct caps_region *r, const struct hm_segment_desc *rel)
{
	if (!rel->len)
		return;
	hm_heap_release_seg(r->heap, rel);
	hm_caps_emit(CAPS_EV_SEG_RELEASE, r, rel->cpu, rel->len, 0, rel->dev);
}

/* fork, child: a user-fd segment's memory goes back, its addresses stay reserved. */
static void user_seg_fork_drop(struct caps_region *r, struct caps_seg *s)
{
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

/*
 * fork, child (single thread): a growable region was emptied by the
 * heap's reset (heap_fork.c, which ran first) and keeps its
 * configuration and backend.  A user region leaves the registry (its
 * lock is held from prepare): its memory may be shared with the parent
 * (MAP_SHARED, a dma-buf), where the child's blocks would overwrite the
 * parent's, and an fd region's device mapping belongs to the parent's
 * session.  The address map has been emptied already.
 */
bool hm_caps_region_fork_reset(struct caps_region *r)
{
	hm_caps_rec_free_all(r);
	atomic_store(&r->min_wait, SIZE_MAX);
	if (r->heap)
		return true;
	pthread_mutex_unlock(&r->lock);
	user_segs_drop(r, user_seg_fork_drop);
	hm_core_destroy(r->core);
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	free(r);
	return false;
}
