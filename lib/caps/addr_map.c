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

static pthread_rwlock_t amap_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct node **buckets;
static size_t nbuckets, nnodes;

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

	if (s->desc.len < CHUNK || s->base > UINTPTR_MAX - s->desc.len)
		return -EINVAL;
	last = (s->base + s->desc.len - 1) >> CHUNK_SHIFT;
	chunks = last - first + 1;
	pthread_rwlock_wrlock(&amap_lock);
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
	remove_locked(s, (s->base + s->desc.len - 1) >> CHUNK_SHIFT);
	pthread_rwlock_unlock(&amap_lock);
}

struct caps_seg *hm_caps_amap_find(uintptr_t addr)
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
	pthread_rwlock_unlock(&amap_lock);
}
