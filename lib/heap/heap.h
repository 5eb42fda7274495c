/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: a HAP heap instance over the allocator core and a backend.
 * The HAP_* face (faces/hap_heap.c) uses one default instance on the driver
 * backend; tests and benchmarks create their own on the host backend.
 * Functions return 0 or -errno.
 */
#ifndef HAPMEM_HEAP_HEAP_H
#define HAPMEM_HEAP_HEAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"
#include "heap/backend.h"

#define HM_HEAP_GROW_ALIGN	0x100000ull
#define HM_HEAP_DEFAULT_MIN_GROW	HM_HEAP_GROW_ALIGN
#define HM_HEAP_DEFAULT_MAX_GROW	(32ull << 20)

struct hm_heap;

struct hm_heap_stats {
	struct hm_core_stats core;
	uint64_t min_grow_bytes;
	uint64_t grow_events;
	uint64_t release_events;
	uint64_t pregrow_events;
	/* Purges (free pages given back inside segments) and the backend discard() calls they made. */
	uint64_t purge_events;
	uint64_t discard_calls;
	/* The core's peak of used bytes with every slab counted whole: the footprint's peak. */
	uint64_t peak_footprint_bytes;
};

struct hm_heap *hm_heap_create(const struct hm_backend_ops *ops, void *ctx);
/*
 * A heap with the HAP_* heap's defaults: the per-thread front end and the
 * default release policy on (Documentation/heap.rst).
 */
struct hm_heap *hm_heap_create_default(const struct hm_backend_ops *ops, void *ctx);
/* Releases every segment, live blocks included. */
void hm_heap_destroy(struct hm_heap *h);

int hm_heap_alloc(struct hm_heap *h, size_t size, size_t align, void **out);
/* hm_heap_alloc(h, size, 0, &p) shaped like malloc(): the block or NULL. */
void *hm_heap_malloc(struct hm_heap *h, size_t size);
int hm_heap_calloc(struct hm_heap *h, size_t num, size_t size, void **out);
int hm_heap_realloc(struct hm_heap *h, void *ptr, size_t size, void **out);
int hm_heap_free(struct hm_heap *h, void *ptr);
int hm_heap_dev_addr(struct hm_heap *h, const void *ptr, uint64_t *dev);

int hm_heap_set_grow_size(struct hm_heap *h, uint64_t min, uint64_t max);
int hm_heap_set_thresholds(struct hm_heap *h, unsigned int low, unsigned int high);
void hm_heap_stats(struct hm_heap *h, struct hm_heap_stats *st);
/*
 * The per-thread front end (lib/heap/tcache.c): blocks up to 4 KiB come
 * from thread-owned bitmap slabs without taking the heap lock.  Off by
 * default; the fastest setting is on.  While a marker is open it is
 * bypassed (slab blocks carry no marker tag).
 */
void hm_heap_set_front_end(struct hm_heap *h, bool on);
/*
 * Default release policy: while the thresholds were never set, segments
 * holding no block go back once they exceed twice the reserve
 * (max(min grow size, used bytes / 8)), down to the reserve.
 */
void hm_heap_set_release(struct hm_heap *h, bool on);
/*
 * Give the backend back every free page inside the segments that the
 * calling thread may touch (free core blocks, its own and orphaned slabs'
 * free slots); a no-op for a backend without discard().
 */
void hm_heap_purge(struct hm_heap *h);
/* Disable (0) or bound the core's front-end cache. */
void hm_heap_set_cache_limit(struct hm_heap *h, size_t bytes);

/* Markers: START gives *instance; END writes the leak report to @report
 * and returns the number of leaked blocks. */
int hm_heap_marker_start(struct hm_heap *h, uint16_t *instance);
int hm_heap_marker_end(struct hm_heap *h, uint16_t instance, FILE *report);
/* Every block as CSV: address,size,state,segment,device_address. */
int hm_heap_log_blocks(struct hm_heap *h, FILE *out);

/*
 * A heap driven block by block by a client that keeps state of its own
 * per block (lib/caps: guards, debug records, exact statistics, blocking
 * waiters), in heap_ext.c.  The client takes the heap lock and runs core
 * operations itself; the heap keeps the segments: growth (the lock
 * dropped around the backend call, one growth at a time), release and
 * fork() (heap_fork.c).  Use with the front end off.
 *
 * hm_heap_lock_core() locks @h and returns its core; under the lock the
 * client may call hm_heap_core() and any core operation that leaves the
 * segments alone (block queries, resize, walks, statistics), and
 * allocates and frees only through the two calls below.
 */
struct hm_core *hm_heap_lock_core(struct hm_heap *h);
void hm_heap_unlock_core(struct hm_heap *h);
struct hm_core *hm_heap_core(struct hm_heap *h);
/* Lock held: a core block of @size/@align, growing when full (the lock is dropped meanwhile). */
int hm_heap_alloc_core_locked(struct hm_heap *h, size_t size, size_t align, uintptr_t *addr);
/*
 * Lock held: free the core block at @addr.  When that leaves more fully
 * unused segments than hm_heap_set_unused_max() allows, one is taken out
 * of the core and described in @rel (else @rel->len is 0): the caller
 * hands it to hm_heap_release_seg() once it holds no lock (fork() waits
 * for that).
 */
int hm_heap_free_core_locked(struct hm_heap *h, uintptr_t addr, struct hm_segment_desc *rel);
void hm_heap_release_seg(struct hm_heap *h, const struct hm_segment_desc *rel);
/*
 * Growth sized to fit: each growth adds the request's need or @min_grow,
 * whichever is larger, rounded up to 1 MiB, and the segments never hold
 * more than @capacity bytes (SIZE_MAX: no bound): a growth that would
 * pass it is cut to the room left, and fails (-ENOMEM) when that is too
 * small for the request.  Replaces the HAP growth rule (hm_heap_set_grow_size()).
 */
void hm_heap_set_fit_growth(struct hm_heap *h, size_t min_grow, size_t capacity);
/* Keep at most @n fully unused segments (frees through hm_heap_free_core_locked()). */
void hm_heap_set_unused_max(struct hm_heap *h, unsigned int n);

#endif /* HAPMEM_HEAP_HEAP_H */
