/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HAP heap's lower layer (heap.c): the instance, its lock, growth,
 * release and purge policy, allocation from the core under the lock.
 * Above it: the per-thread front end (tcache.c) and the public entry
 * points (heap_api.c, heap_fork.c).  Nothing here knows the front end's
 * types: where the lower layer needs the front end (the fast-path switch,
 * the peak, statistics and purges of slabs) it calls the hooks the front
 * end registered in @front (struct hm_heap_front_ops).  This header does
 * not include the front end's header, and heap.c calls none of its functions.
 */
#ifndef HAPMEM_HEAP_HEAP_IMPL_H
#define HAPMEM_HEAP_HEAP_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "heap/heap.h"
#include "util/grow_gate.h"

/* Segments released per trim pass (descriptors kept on the stack). */
#define TRIM_BATCH	16
/* Blocks visited per lock hold by walks (markers, CSV). */
#define WALK_BATCH	256
#define MARKERS		65536

struct hm_slab;
struct hm_tcache;
struct hm_heap;

/*
 * What the lower layer asks of the front end, every hook called with the
 * heap lock held.  hm_heap_instance_create() installs hooks that do
 * nothing (no front end); the front end puts its own in at its init.
 */
struct hm_heap_front_ops {
	/* Open (or close) the lock-free fast path: front end on, no marker open. */
	void (*set_fast_locked)(struct hm_heap *h, bool on);
	/* A core allocation or resize: the used bytes may have passed the peak. */
	void (*peak_check_locked)(struct hm_heap *h);
	/* The core counts each slab as one used block: give the heap's figures. */
	void (*adjust_stats_locked)(struct hm_heap *h, struct hm_core_stats *st);
	/*
	 * If @base starts a slab of @h whose free slots the calling thread
	 * may touch (its own cache's, or an orphan's), call @fn with each
	 * run [lo, hi) of free slots (and the slab's unused tail); true if
	 * so (a purge).
	 */
	bool (*slab_free_runs_locked)(struct hm_heap *h, uintptr_t base,
				      void (*fn)(void *arg, uintptr_t lo, uintptr_t hi), void *arg);
};

struct hm_heap {
	pthread_mutex_t lock;
	struct hm_grow_gate gate;	/* growth; .done also: the backend went idle */
	struct hm_core *core;
	const struct hm_backend_ops *ops;
	void *ctx;
	const struct hm_heap_front_ops *front;	/* never NULL */
	uint64_t uid;			/* unique for the process's life (tcache.c) */

	/* Growth policy (HAP_mem_set_grow_size). */
	uint64_t grow_min, grow_max, min_grow_bytes;
	bool grow_user_set;
	unsigned int releasing;		/* threads in backend release() calls */
	size_t cache_limit;		/* hm_heap_set_cache_limit(), SIZE_MAX if never */

	/*
	 * Growth sized to fit under @capacity (SIZE_MAX: no bound), set by
	 * hm_heap_set_fit_growth(); at most @unused_max fully unused segments
	 * kept by hm_heap_free_core_locked() when @unused_bounded (heap_ext.c).
	 */
	bool grow_fit;
	bool unused_bounded;
	unsigned int unused_max;
	size_t capacity;

	/* fork() (heap_fork.c): the registry of heaps, under its own lock. */
	struct hm_heap *reg_prev, *reg_next;
	struct hm_core *fork_spare;	/* empty core for the child, made in prepare */

	/* Thresholds (HAP_mem_set_heap_thresholds). */
	unsigned int low, high;
	uint64_t freed_since_flush;	/* see trim_locked() */
	/*
	 * Default release policy (hm_heap_set_release(), on for the HAP_*
	 * heap): while the thresholds were never set, fully unused segments
	 * go back once they exceed twice the reserve (see release_reserve()),
	 * down to the reserve.  @trim_due: a segment became unused while the
	 * lock was held by a path that cannot release (tcache.c); the next
	 * hm_heap_unlock() releases.
	 */
	bool release_on;
	bool thresholds_set;
	bool trim_due;
	uint64_t release_floor;		/* see release_reserve() */
	atomic_bool idle_release;	/* idle threads give their empty slabs back */
	uint64_t releases_at_grow;	/* release_events at the last growth */

	/*
	 * Exact peak of the used bytes with the front end on (granules).
	 * Every cache may let its live count rise up to its own limit
	 * (hm_tcache.limit) without checking; the limits, the core's
	 * non-slab bytes and the orphans never add up to more than
	 * @peak_gran, so the used bytes cannot pass the peak unseen.  A cache
	 * that passes its limit (or a core allocation that would pass the
	 * bound) takes the lock, sets every limit back to its cache's live
	 * count and compares the exact sum with the peak (tcache.c).
	 */
	uint64_t peak_gran;
	uint64_t limit_sum;		/* sum of the caches' limits, granules */

	uint64_t grow_events, release_events, pregrow_events;
	uint64_t purge_events, discard_calls;
	/* Purge policy (heap.c, purge_check_locked()). */
	uint64_t freed_since_purge;	/* bytes freed to the core since the last purge */
	uint64_t alloc_since_check;	/* bytes allocated from the core since the last check */
	uint64_t purge_used_peak;	/* highest bytes in use seen since the last purge */
	size_t page;			/* the CPU page size, for purges */

	/* Markers: tag of each open START (0 = closed); tags only increase. */
	uint32_t *marker_tag;
	uint32_t epoch;
	uint32_t next_marker;
	uint32_t markers_open;

	/*
	 * Front end (tcache.c).  @fast is read without the lock on every
	 * allocation: front end enabled and no marker open.  The rest is
	 * under @lock.
	 */
	/*
	 * Read on every allocation and free by every thread: a line of its
	 * own, apart from the counters that remote frees write (below), so
	 * that those do not evict it from the owners' caches.
	 */
	_Alignas(64) atomic_bool fast;
	_Atomic uint64_t fast_uid;	/* @uid when @fast, else HM_TC_NO_UID */
	_Alignas(64) char fast_end;
	bool front_on;
	struct hm_tcache *tcaches;	/* registered thread caches */
	struct hm_slab *slabs;		/* every slab of this heap */
	struct hm_slab *slab_pool;	/* recycled descriptors (type-stable) */
	uint64_t nslabs, slab_bytes;
	/* No slab could be had even by growing: front end off until a growth. */
	bool slab_starved;
	uint64_t orphan_bytes, orphan_blocks;	/* in slabs whose thread exited */
	/* Remote frees pushing a slab onto its owner's pending list (tcache.c, free_remote()). */
	_Alignas(64) _Atomic unsigned int remote_pushing;
};

/*
 * heap.c, the lower layer.  An instance without a front end (hooks that
 * do nothing), not registered for fork(); hm_heap_create() (heap_api.c)
 * adds both.  hm_heap_instance_destroy() releases every segment.
 */
struct hm_heap *hm_heap_instance_create(const struct hm_backend_ops *ops, void *ctx);
void hm_heap_instance_destroy(struct hm_heap *h);
/* Unlock, releasing segments first if a front-end path made some unused. */
void hm_heap_unlock(struct hm_heap *h);
/* Lock held: a segment may have become unused (default release policy). */
void hm_heap_note_unused_locked(struct hm_heap *h);
/* Lock held: @bytes went back to the core (purge policy). */
void hm_heap_note_freed_locked(struct hm_heap *h, uint64_t bytes);
/* Allocate from the core (lock held; may drop it to grow). */
int hm_heap_alloc_locked(struct hm_heap *h, size_t size, size_t align,
			 uintptr_t *addr, bool *low);
void hm_heap_pregrow(struct hm_heap *h);
/*
 * The public calls' paths through the core alone, taking the lock:
 * allocate, free, resize in place (-ENOMEM: it does not fit there; *old:
 * the block's size), and the statistics.
 */
int hm_heap_alloc_core(struct hm_heap *h, size_t size, size_t align, void **out);
int hm_heap_free_core(struct hm_heap *h, void *ptr);
int hm_heap_resize_core(struct hm_heap *h, void *ptr, size_t size, size_t *old);
void hm_heap_stats_core(struct hm_heap *h, struct hm_heap_stats *st);

/* heap_fork.c: every heap is registered from creation to destruction. */
void hm_heap_fork_register(struct hm_heap *h);
void hm_heap_fork_unregister(struct hm_heap *h);
/* Test hook, NULL: called (h->lock held) when fork() waits for a growth or release. */
extern void (*hm_heap_fork_wait_hook)(struct hm_heap *h);

#endif /* HAPMEM_HEAP_HEAP_IMPL_H */
