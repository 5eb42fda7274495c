// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() and the HAP heap.
 *
 * A heap's segments are the parent's: with the driver backend they are
 * MAP_SHARED views of buffers mapped in the parent's session, so a child
 * allocating from them would hand out memory its parent is using, and the
 * device addresses belong to a session the child does not have.  Every
 * heap (not only the HAP_* default one) is therefore registered here, and
 * at fork():
 *
 *   prepare (parent): take the registry lock, the front end's registry
 *     lock, each heap's lock in registry order, waiting until no backend
 *     call of that heap is in flight (a growth or release running
 *     unlocked), then the front end's radix-map lock.  The child thus
 *     knows every segment the parent had, and no lock is left held by a
 *     thread the child does not have.  An empty core for the child is
 *     made here too, so that the child's reset cannot fail.
 *   parent: unlock everything (the spare core stays for the next fork).
 *   child: each heap becomes empty: its segments go back through the
 *     backend's release (the driver backend only unmaps the CPU view of a
 *     segment made in another session generation; the host backend
 *     munmaps), their address ranges are then reserved PROT_NONE so that
 *     they are never reused, and the heap continues on the spare core with
 *     the parent's settings (grow sizes, thresholds, front end, cache
 *     limit) and fresh statistics.
 *
 * What the child sees (Documentation/heap.rst, "After fork()"): pointers
 * it inherited from a heap fault on access (SIGSEGV), and HAP_free,
 * HAP_realloc and HAP_mem_get_dev_addr of them return AEE_EBADVA, for the
 * child's whole life.
 *
 * Rank HM_FORK_HEAP (lib/util/fork.h): after the faces, before the
 * session, whose child hook has already bumped the session generation when
 * ours runs (child hooks run in descending rank).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "util/fork.h"
#include "heap/tcache.h"


static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static struct hm_heap *reg_head;

/* For tests: called, h->lock held, when fork() waits for a backend call. */
void (*hm_heap_fork_wait_hook)(struct hm_heap *h);

static void heap_fork_prepare(void)
{
	struct hm_heap *h;

	pthread_mutex_lock(&reg_lock);
	hm_tc_fork_lock();
	for (h = reg_head; h; h = h->reg_next) {
		pthread_mutex_lock(&h->lock);
		while (hm_grow_gate_busy(&h->gate) || h->releasing) {
			if (hm_heap_fork_wait_hook)
				hm_heap_fork_wait_hook(h);
			pthread_cond_wait(&h->gate.done, &h->lock);
		}
		if (!h->fork_spare)
			h->fork_spare = hm_core_create();
	}
	hm_tc_fork_lock_map();
}

static void heap_fork_parent(void)
{
	struct hm_heap *h;

	hm_tc_fork_unlock_map();
	for (h = reg_head; h; h = h->reg_next)
		pthread_mutex_unlock(&h->lock);
	hm_tc_fork_unlock();
	pthread_mutex_unlock(&reg_lock);
}

/* Give @d back through the backend and keep its addresses reserved. */
static void drop_segment(struct hm_heap *h, const struct hm_segment_desc *d)
{
	h->ops->release(h->ctx, d);
	/*
	 * Single-threaded child: nothing can map the range between the
	 * release and this.  PROT_NONE, no memory: an inherited pointer
	 * faults, and never aliases a block the child allocates later.
	 */
	if (d->cpu)
		mmap(d->cpu, d->len, PROT_NONE,
		     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

static void heap_reset_child(struct hm_heap *h)
{
	struct hm_core *old = h->core;
	struct hm_core_stats st;
	uint64_t mgb = HM_HEAP_DEFAULT_MIN_GROW;
	unsigned int s;

	if (!h->fork_spare) {
		/* prepare ran out of memory: better shared than corrupt here */
		fprintf(stderr, "hapmem: fork: out of memory, the child's HAP heap still uses its parent's segments\n");
		return;
	}
	hm_tc_fork_reset(h);
	hm_core_stats(old, &st);
	for (s = 0; st.segments; s++) {
		struct hm_segment_desc d;
		uintptr_t base;

		if (hm_core_segment(old, s, &base, &d.dev, &d.len, &d.handle))
			continue;
		d.cpu = (void *)base;
		st.segments--;
		drop_segment(h, &d);
	}
	hm_core_destroy(old);
	h->core = h->fork_spare;
	h->fork_spare = NULL;
	if (h->cache_limit != SIZE_MAX)
		hm_core_set_cache_limit(h->core, h->cache_limit);

	/* What hm_heap_create() and the parent's settings give. */
	if (h->grow_user_set) {
		if (mgb < h->grow_min)
			mgb = h->grow_min;
		if (mgb > h->grow_max)
			mgb = h->grow_max;
	}
	h->min_grow_bytes = mgb;
	h->releasing = 0;
	h->freed_since_flush = 0;
	h->release_floor = h->releases_at_grow = 0;
	h->trim_due = false;
	h->grow_events = h->release_events = h->pregrow_events = 0;
	free(h->marker_tag);
	h->marker_tag = NULL;
	h->epoch = h->next_marker = h->markers_open = 0;
	hm_tc_set_fast_locked(h, h->front_on);
	hm_grow_gate_reset(&h->gate);
}

static void heap_fork_child(void)
{
	struct hm_heap *h;

	hm_tc_fork_unlock_map();
	for (h = reg_head; h; h = h->reg_next) {
		heap_reset_child(h);
		pthread_mutex_unlock(&h->lock);
	}
	hm_tc_fork_unlock();
	pthread_mutex_unlock(&reg_lock);
}

static const struct hm_fork_hooks heap_fork_hooks = {
	.rank = HM_FORK_HEAP,
	.prepare = heap_fork_prepare,
	.parent = heap_fork_parent,
	.reset = heap_fork_child,
};

static void reg_init(void)
{
	hm_fork_register(&heap_fork_hooks);
}

void hm_heap_fork_register(struct hm_heap *h)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_lock);
	h->reg_prev = NULL;
	h->reg_next = reg_head;
	if (reg_head)
		reg_head->reg_prev = h;
	reg_head = h;
	pthread_mutex_unlock(&reg_lock);
}

void hm_heap_fork_unregister(struct hm_heap *h)
{
	pthread_mutex_lock(&reg_lock);
	if (h->reg_prev)
		h->reg_prev->reg_next = h->reg_next;
	else
		reg_head = h->reg_next;
	if (h->reg_next)
		h->reg_next->reg_prev = h->reg_prev;
	h->reg_next = h->reg_prev = NULL;
	pthread_mutex_unlock(&reg_lock);
}
