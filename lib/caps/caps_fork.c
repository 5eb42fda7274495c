// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() and the capability heaps (lib/caps, with the state of their
 * debug features).
 *
 * Like the HAP heap's segments (lib/heap/heap_fork.c), a region's
 * segments are the parent's: MAP_SHARED views of buffers of the parent's
 * session, whose device addresses the child cannot use.  So at fork():
 *
 *   prepare (parent): close the registry's fork gate, wait until no
 *     thread is inside the registry's read lock, and read-lock it
 *     (registry.c says why not a write lock).  Every caps allocation and
 *     free runs under that read lock, growth (the backend call made with
 *     the region lock dropped) and segment release included, so none is
 *     in flight.  Then the address map (read side), each user region's
 *     lock, the waiters lock and the failure-hook lock, in the order the
 *     code nests them (caps_internal.h).  A growable region is a HAP heap:
 *     the heap's prepare (heap_fork.c, next rank) takes its lock.
 *   parent: unlock all of it, in reverse.
 *   child: the heap's reset (heap_fork.c, whose child hook runs first)
 *     empties each growable region: its segments go back through the
 *     region's backend (the driver backend only unmaps the CPU view of a
 *     segment of the parent's session; region.c's caps backend sees
 *     hm_caps_forking and leaves the address map alone), their addresses
 *     are reserved PROT_NONE and the region continues empty with its
 *     settings.  Here user regions (caps_region_add_mem/_fd) leave the
 *     registry; the address map, debug records, waiters and error count
 *     are emptied; the locks of prepare are released, and the locks
 *     prepare cannot take (listeners, reporter) start fresh.
 *
 * What the child sees (Documentation/heap-caps.rst, "After fork()"): an
 * inherited caps pointer is in no region, so caps_free() and
 * caps_realloc() of it return -EFAULT / fail with errno EFAULT, and
 * caps_dev_addr() -EFAULT; dereferencing it faults (except in user-mem
 * regions, whose memory is the caller's).  Its own allocations work.
 *
 * Rank HM_FORK_CAPS (lib/util/fork.h): before the HAP heap in prepare.
 * Caps takes a growable region's (heap) lock inside its registry and
 * address map locks and calls the backend and the session
 * (HM_FORK_SESSION) with its registry lock held, so it must be prepared
 * before both: once its gate is closed no caps thread holds or waits for
 * a region lock.  Its child hook runs after the heap's (which empties the
 * growable regions) and the session's, which bumps the session
 * generation that makes the driver backend's release unmap only (child
 * hooks run in descending rank).
 *
 * fork() from a listener (which runs inside the registry's read lock)
 * would wait for itself in prepare: not supported.
 *
 * Not covered: a caps_region_remove() or user region registration that
 * another thread had half done at fork() (between the registry and the
 * release) may leave address space mapped in the child, unknown to the
 * library; pointers there are still refused with -EFAULT.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <pthread.h>

#include "caps/caps_internal.h"
#include "util/fork.h"

_Thread_local bool hm_caps_forking;

static void caps_fork_prepare(void)
{
	unsigned int i;

	hm_caps_reg_fork_prepare();
	hm_caps_forking = true;
	hm_caps_amap_fork_prepare();
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		struct caps_region *r = hm_caps_region_at(i);

		if (r && !r->heap)	/* heap_fork.c locks the growable ones */
			pthread_mutex_lock(&r->lock);
	}
	hm_caps_wait_fork_prepare();
	hm_caps_hook_fork_prepare();
}

static void caps_fork_parent(void)
{
	unsigned int i;

	hm_caps_hook_fork_release();
	hm_caps_wait_fork_parent();
	for (i = 0; i < HAPMEM_CAPS_MAX_REGIONS; i++) {
		struct caps_region *r = hm_caps_region_at(i);

		if (r && !r->heap)
			pthread_mutex_unlock(&r->lock);
	}
	hm_caps_amap_fork_parent();
	hm_caps_forking = false;
	hm_caps_reg_fork_parent();
}

static void caps_fork_child(void)
{
	hm_caps_hook_fork_release();
	hm_caps_dbg_fork_child();
	hm_caps_lis_fork_child();
	hm_caps_wait_fork_child();
	hm_caps_amap_fork_child();
	hm_caps_reg_fork_child();	/* regions: new locks, emptied */
	hm_caps_forking = false;
}

static const struct hm_fork_hooks caps_fork_hooks = {
	.rank = HM_FORK_CAPS,
	.prepare = caps_fork_prepare,
	.parent = caps_fork_parent,
	.reset = caps_fork_child,
};

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_init(void)
{
	hm_fork_register(&caps_fork_hooks);
}

void hm_caps_fork_init(void)
{
	pthread_once(&fork_once, fork_init);
}
