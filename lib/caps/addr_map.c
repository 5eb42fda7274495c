// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address -> segment map of the capability heaps: what makes caps_free()
 * O(1) whatever region the block came from.
 *
 * The address space is cut into 64 KiB chunks.  Every caps segment is at
 * least one chunk long, so a chunk meets at most two segments: one that
 * covers its first byte ("lo") and one that starts inside it ("hi").  A
 * chained hash keyed by chunk number holds both.  Lookups take the read
 * side of a rwlock; adding and removing segments (rare) the write side.
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

#define CHUNK_SHIFT	16
#define CHUNK		((uintptr_t)1 << CHUNK_SHIFT)

struct node {
	struct node *next;
	uintptr_t chunk;
	struct caps_seg *lo, *hi;
};

#define NESTED_MAX	16

static pthread_rwlock_t amap_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct node **buckets;
static size_t nbuckets, nnodes;
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

/*
 * Under amap_lock (write): enter @s in the nested list if it lies wholly
 * inside a known segment.  1 done, 0 not nested, -EEXIST (it crosses a
 * nested segment's edge) or -ENOSPC.
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

static size_t hash(uintptr_t chunk)
{
	uint64_t h = (uint64_t)chunk * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (nbuckets - 1);
}

static struct node *lookup(uintptr_t chunk)
{
	struct node *n;

	if (!nbuckets)
		return NULL;
	for (n = buckets[hash(chunk)]; n; n = n->next)
		if (n->chunk == chunk)
			return n;
	return NULL;
}

static int resize(size_t want)
{
	struct node **nb, **old = buckets;
	size_t i, oldn = nbuckets;

	nb = calloc(want, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	buckets = nb;
	nbuckets = want;
	for (i = 0; i < oldn; i++) {
		struct node *n = old[i], *next;

		for (; n; n = next) {
			size_t h = hash(n->chunk);

			next = n->next;
			n->next = buckets[h];
			buckets[h] = n;
		}
	}
	free(old);
	return 0;
}

static void drop(uintptr_t chunk, const struct caps_seg *s)
{
	struct node **pp, *n;

	if (!nbuckets)
		return;
	for (pp = &buckets[hash(chunk)]; (n = *pp); pp = &n->next) {
		if (n->chunk != chunk)
			continue;
		if (n->lo == s)
			n->lo = NULL;
		if (n->hi == s)
			n->hi = NULL;
		if (!n->lo && !n->hi) {
			*pp = n->next;
			free(n);
			nnodes--;
		}
		return;
	}
}

static void remove_locked(const struct caps_seg *s, uintptr_t upto)
{
	uintptr_t c;

	for (c = s->base >> CHUNK_SHIFT; c <= upto; c++)
		drop(c, s);
}

int hm_caps_amap_add(struct caps_seg *s)
{
	uintptr_t first = s->base >> CHUNK_SHIFT, c, last;
	size_t chunks;
	int err = 0;

	if (!s->desc.len || s->base > UINTPTR_MAX - s->desc.len)
		return -EINVAL;
	last = (s->base + s->desc.len - 1) >> CHUNK_SHIFT;
	chunks = last - first + 1;
	pthread_rwlock_wrlock(&amap_lock);
	err = nested_add(s);
	if (err) {
		pthread_rwlock_unlock(&amap_lock);
		return err < 0 ? err : 0;
	}
	if (s->desc.len < CHUNK) {
		pthread_rwlock_unlock(&amap_lock);
		return -EINVAL;	/* only a nested segment may be under a chunk */
	}
	if (nnodes + chunks > nbuckets) {
		size_t want = nbuckets ? nbuckets : 64;

		while (want < (nnodes + chunks) * 2)
			want *= 2;
		err = resize(want);
	}
	for (c = first; !err && c <= last; c++) {
		struct node *n = lookup(c);

		if (!n) {
			n = calloc(1, sizeof(*n));
			if (!n) {
				err = -ENOMEM;
				break;
			}
			n->chunk = c;
			n->next = buckets[hash(c)];
			buckets[hash(c)] = n;
			nnodes++;
		}
		if (c == first && (s->base & (CHUNK - 1))) {
			if (n->hi) {
				err = -EEXIST;
				break;
			}
			n->hi = s;
		} else {
			if (n->lo) {
				err = -EEXIST;
				break;
			}
			n->lo = s;
		}
	}
	if (err && c > first)
		remove_locked(s, c - 1);	/* undo the chunks already entered */
	pthread_rwlock_unlock(&amap_lock);
	return err;
}

void hm_caps_amap_remove(struct caps_seg *s)
{
	pthread_rwlock_wrlock(&amap_lock);
	if (!nested_remove(s))
		remove_locked(s, (s->base + s->desc.len - 1) >> CHUNK_SHIFT);
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
	struct node *n = lookup(addr >> CHUNK_SHIFT);

	if (!n)
		return NULL;
	if (n->hi && addr >= n->hi->base)
		return n->hi;
	if (n->lo && addr >= n->lo->base && addr - n->lo->base < n->lo->desc.len)
		return n->lo;
	return NULL;
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
	size_t i;

	for (i = 0; i < nbuckets; i++) {
		struct node *n = buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(buckets);
	buckets = NULL;
	nbuckets = nnodes = 0;
	n_nested = 0;
	pthread_rwlock_unlock(&amap_lock);
}
