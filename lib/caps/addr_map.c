// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address -> segment map of the capability heaps: what makes caps_free()
 * O(1) whatever region the block came from.
 *
 * The segments are entered in the core's address index (core/seg_index.h:
 * O(1) for segments of any size, small user regions included) under ids
 * of this file's table.  Lookups take the read side of a rwlock; adding
 * and removing segments (rare) the write side.
 *
 * A segment that lies wholly inside another (a user region made of a
 * block of another region, as ESP-IDF allows) is kept apart, in a short
 * list that lookups search first, innermost segment winning; with no such
 * segment the list costs one load.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "caps/caps_internal.h"
#include "core/seg_index.h"

#define NESTED_MAX	16

static pthread_rwlock_t amap_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct hm_seg_index amap_ix;
static struct caps_seg **by_id;		/* index ids -> segments */
static unsigned int nids, ids_cap;
static struct caps_seg *nested[NESTED_MAX];
static unsigned int n_nested;

static bool seg_has(const struct caps_seg *s, uintptr_t addr)
{
	return addr >= s->base && addr - s->base < s->desc.len;
}

/* Under amap_lock: the innermost nested segment holding @addr, or NULL. */
static struct caps_seg *nested_find(uintptr_t addr)
{
	struct caps_seg *best = NULL;
	unsigned int i;

	for (i = 0; i < n_nested; i++)
		if (seg_has(nested[i], addr) && (!best || nested[i]->desc.len < best->desc.len))
			best = nested[i];
	return best;
}

static struct caps_seg *chunk_find(uintptr_t addr);

struct span {
	uintptr_t lo, hi;
	bool inside;
};

static void in_block(const struct hm_block_info *b, void *arg)
{
	struct span *sp = arg;

	if (b->state == HM_BLOCK_USED && b->addr <= sp->lo && sp->hi - b->addr <= b->size)
		sp->inside = true;
}

/*
 * Under amap_lock (write): does [lo, hi) lie inside a live block of
 * @outer's region?  A walk of that region's blocks (adding a region is
 * rare); the region lock nests inside amap_lock, as for frees.
 */
static bool in_live_block(struct caps_seg *outer, uintptr_t lo, uintptr_t hi)
{
	struct caps_region *r = outer->region;
	struct hm_core_cursor cur = { 0 };
	struct span sp = { lo, hi, false };
	struct hm_core *c = hm_caps_lock(r);

	while (!sp.inside && hm_core_walk(c, &cur, 1024, in_block, &sp) == 1)
		;
	hm_caps_unlock(r);
	return sp.inside;
}

/*
 * Under amap_lock (write): enter @s in the nested list if it lies wholly
 * inside a known segment.  1 done, 0 not nested, -EEXIST (it crosses a
 * nested segment's edge, or lies in memory of another region that is not
 * one of its live blocks) or -ENOSPC.
 */
static int nested_add(struct caps_seg *s)
{
	uintptr_t end = s->base + s->desc.len;
	struct caps_seg *outer = nested_find(s->base);
	unsigned int i;

	if (!outer)
		outer = chunk_find(s->base);
	if (!outer || !seg_has(outer, end - 1) || end - outer->base > outer->desc.len)
		return 0;
	if (!in_live_block(outer, s->base, end))
		return -EEXIST;	/* that memory is the other region's to hand out */
	for (i = 0; i < n_nested; i++) {
		struct caps_seg *o = nested[i];
		uintptr_t oend = o->base + o->desc.len;

		if (s->base < oend && o->base < end &&
		    !(s->base >= o->base && end <= oend))
			return -EEXIST;	/* overlaps without being inside */
	}
	if (n_nested == NESTED_MAX)
		return -ENOSPC;
	nested[n_nested++] = s;
	return 1;
}

static bool nested_remove(struct caps_seg *s)
{
	unsigned int i;

	for (i = 0; i < n_nested; i++) {
		if (nested[i] == s) {
			nested[i] = nested[--n_nested];
			return true;
		}
	}
	return false;
}

/* Under amap_lock (write): a free id for the index, growing the table. */
static int new_id(void)
{
	unsigned int i;

	for (i = 0; i < nids; i++)
		if (!by_id[i])
			return (int)i;
	if (nids == HM_SEG_NONE)
		return -ENOSPC;
	if (nids == ids_cap) {
		unsigned int ncap = ids_cap ? ids_cap * 2 : 64;
		struct caps_seg **n;

		if (ncap > HM_SEG_NONE)
			ncap = HM_SEG_NONE;
		n = realloc(by_id, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		by_id = n;
		ids_cap = ncap;
	}
	by_id[nids] = NULL;
	return (int)nids++;
}

int hm_caps_amap_add(struct caps_seg *s)
{
	int err, id;

	if (!s->desc.len || s->base > UINTPTR_MAX - s->desc.len)
		return -EINVAL;
	pthread_rwlock_wrlock(&amap_lock);
	err = nested_add(s);
	if (err) {
		pthread_rwlock_unlock(&amap_lock);
		return err < 0 ? err : 0;
	}
	id = new_id();
	err = id < 0 ? id : hm_seg_index_add(&amap_ix, s->base, s->desc.len, (unsigned int)id);
	if (!err)
		by_id[id] = s;
	pthread_rwlock_unlock(&amap_lock);
	return err;
}

void hm_caps_amap_remove(struct caps_seg *s)
{
	unsigned int id;

	pthread_rwlock_wrlock(&amap_lock);
	if (!nested_remove(s)) {
		id = hm_seg_index_find(&amap_ix, s->base);
		if (id != HM_SEG_NONE && by_id[id] == s) {
			hm_seg_index_remove(&amap_ix, s->base, s->desc.len, id);
			by_id[id] = NULL;
		}
	}
	pthread_rwlock_unlock(&amap_lock);
}

struct caps_seg *hm_caps_amap_find(uintptr_t addr)
{
	if (n_nested) {
		struct caps_seg *s = nested_find(addr);

		if (s)
			return s;
	}
	return chunk_find(addr);
}

static struct caps_seg *chunk_find(uintptr_t addr)
{
	unsigned int id = hm_seg_index_find(&amap_ix, addr);

	return id == HM_SEG_NONE ? NULL : by_id[id];
}

void hm_caps_amap_rdlock(void)
{
	pthread_rwlock_rdlock(&amap_lock);
}

void hm_caps_amap_unlock(void)
{
	pthread_rwlock_unlock(&amap_lock);
}

/* ---- fork (caps_fork.c) ---- */

/*
 * Read side: it keeps segments from coming or going (writers are short
 * and nest nothing), and, unlike a write lock, the child can release it
 * (glibc tells a writer's unlock by the thread id, which the child's
 * thread does not share with its parent).
 */
void hm_caps_amap_fork_prepare(void)
{
	pthread_rwlock_rdlock(&amap_lock);
}

void hm_caps_amap_fork_parent(void)
{
	pthread_rwlock_unlock(&amap_lock);
}

/* Child: an empty map (the regions are emptied too), then the unlock. */
void hm_caps_amap_fork_child(void)
{
	hm_seg_index_fini(&amap_ix);
	free(by_id);
	by_id = NULL;
	nids = ids_cap = 0;
	n_nested = 0;
	pthread_rwlock_unlock(&amap_lock);
}
