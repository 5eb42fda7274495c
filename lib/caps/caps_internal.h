/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the capability multi-heap (lib/caps), its debug features
 * (lib/caps/debug_*.c) included.
 *
 * Lock order (outer first): registry rwlock -> address map rwlock ->
 * region lock -> waiters lock.  Listener and failure callbacks run with
 * none of them held.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_CAPS_INTERNAL_H
#define HAPMEM_CAPS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "hapmem_caps.h"
#include "heap/backend.h"
#include "heap/heap.h"

#define CAPS_BT_DEPTH	8

/* One segment of a region: what the address map points at. */
struct caps_seg {
	struct caps_region *region;
	struct hm_segment_desc desc;	/* the backend's; desc.cpu: the CPU mapping, NULL if none */
	uintptr_t base;			/* address handed to the core (cpu or placeholder) */
};

/* Debug record of one live block (canary and trace levels). */
struct caps_rec {
	struct caps_rec *next, *next_raw;
	uintptr_t user;			/* address given to the user */
	uintptr_t raw;			/* block start in the core */
	size_t size;			/* bytes asked for */
	size_t head;			/* guard bytes before user */
	uint8_t level;
	uint8_t bt_n;
	const char *file, *func;
	int line;
	void *bt[CAPS_BT_DEPTH];
};

struct caps_rec_table {
	struct caps_rec **b, **braw;	/* by user address, by block address */
	size_t mask, count;
};

/* Where a region's segments come from. */
enum caps_region_kind {
	CAPS_REGION_GROWABLE,	/* a backend grows and shrinks it */
	CAPS_REGION_USER_MEM,	/* the caller's memory (caps_region_add_mem) */
	CAPS_REGION_USER_FD,	/* the caller's dma-buf (caps_region_add_fd) */
};

struct caps_region {
	char name[HAPMEM_CAPS_NAME_MAX];
	uint32_t id;			/* unique, > 0 */
	unsigned int slot;		/* index in the registry */
	uint32_t caps[HAPMEM_CAPS_PRIORITIES];
	uint32_t all_caps;
	uint32_t attr;
	bool has_attr;
	bool cpu_less;
	bool fixed;			/* one user segment, never grows */
	size_t capacity;		/* most bytes it can ever hold */

	/*
	 * Growable: a HAP heap (its lock, core, growth, release, fork reset)
	 * over the caps backend of region.c wrapping @ops.  User region: a
	 * bare core and its lock (region.c says why).  Use hm_caps_lock(),
	 * hm_caps_unlock() and hm_caps_core() for either.
	 */
	struct hm_heap *heap;
	pthread_mutex_t lock;
	struct hm_core *core;
	const struct hm_backend_ops *ops;
	void *ctx;
	void (*ctx_free)(void *ctx);
	bool verify_free;		/* every free byte holds CAPS_POISON_FREE */
	struct caps_rec_table recs;

	/* user regions (caps_region_add_fd / _mem) */
	enum caps_region_kind kind;
	uint64_t fd_vadsp;
	bool fd_shared;

	atomic_size_t min_wait;		/* smallest request waiting on it; SIZE_MAX none */
	size_t win_peak;		/* most bytes used since hm_caps_window_start() */
};

/* ---- address map (addr_map.c) ---- */
int hm_caps_amap_add(struct caps_seg *s);
void hm_caps_amap_remove(struct caps_seg *s);
/* The segment holding @addr; caller holds hm_caps_amap_rdlock(). */
struct caps_seg *hm_caps_amap_find(uintptr_t addr);
void hm_caps_amap_rdlock(void);
void hm_caps_amap_unlock(void);

/* ---- regions (region.c) ---- */
/*
 * A growable region on @ops/@ctx (min_grow 0: 1 MiB; capacity SIZE_MAX:
 * no bound); NULL on error.
 */
struct caps_region *hm_caps_region_new(const char *name, const uint32_t caps[3],
				       const struct hm_backend_ops *ops, void *ctx,
				       size_t min_grow, size_t capacity);
/* A user region of the one segment @d (emits SEG_GROW); @ops releases it. */
int hm_caps_region_new_user(const char *name, const uint32_t caps[3],
			    const struct hm_segment_desc *d, enum caps_region_kind kind,
			    const struct hm_backend_ops *ops, struct caps_region **out);
void hm_caps_region_delete(struct caps_region *r);
/* Raw core block of @size/@align, growing when allowed.  0 or -errno. */
int hm_caps_region_alloc(struct caps_region *r, size_t size, size_t align, uintptr_t *out);
/*
 * Region lock held: free a raw block.  @rel->len != 0: a segment to give
 * back with hm_caps_region_release_seg() once no lock is held.
 */
int hm_caps_region_free_locked(struct caps_region *r, uintptr_t raw,
			       struct hm_segment_desc *rel);
void hm_caps_region_release_seg(struct caps_region *r, const struct hm_segment_desc *rel);

/* The region lock; hm_caps_lock() returns the core it guards. */
static inline struct hm_core *hm_caps_lock(struct caps_region *r)
{
	if (r->heap)
		return hm_heap_lock_core(r->heap);
	pthread_mutex_lock(&r->lock);
	return r->core;
}

static inline void hm_caps_unlock(struct caps_region *r)
{
	if (r->heap)
		hm_heap_unlock_core(r->heap);
	else
		pthread_mutex_unlock(&r->lock);
}

/* Region lock held: its core. */
static inline struct hm_core *hm_caps_core(struct caps_region *r)
{
	return r->heap ? hm_heap_core(r->heap) : r->core;
}
/* Wake waiters after a free in @r (region lock not held). */
void hm_caps_wake(struct caps_region *r, size_t largest_free);

/* ---- registry (registry.c) ---- */
#define CAPS_TABLE_SIZE	(HAPMEM_CAP_ALL + 1)
struct caps_cands {
	uint8_t n;
	uint8_t slot[HAPMEM_CAPS_MAX_REGIONS * HAPMEM_CAPS_PRIORITIES];
};
void hm_caps_reg_rdlock(void);
void hm_caps_reg_unlock(void);
/* Registry read lock held. */
const struct caps_cands *hm_caps_cands(uint32_t caps);
const struct caps_cands *hm_caps_attr_cands(uint32_t attr);
struct caps_region *hm_caps_region_at(unsigned int slot);
int hm_caps_register(struct caps_region *r);
/* Check @caps: 0, -EINVAL. */
int hm_caps_validate(uint32_t caps);
uint32_t hm_caps_normalise(uint32_t caps);

/* ---- allocation (caps.c) ---- */
/* Allocate from a candidate list; registry read lock held. */
int hm_caps_alloc_cands(const struct caps_cands *c, size_t size, size_t align,
			const char *file, int line, const char *func, void **out,
			struct caps_region **where);
void hm_caps_failed(size_t size, uint32_t caps, const char *func, int err);

/* ---- the minimum-free window (stats.c), for ESP-IDF's local monitor ---- */
extern atomic_bool hm_caps_win_on;
/*
 * While on, caps_stats()'s minimum_free counts from the window's start
 * (total - the most used since then), not from the region's creation.
 * start: 0 (again while on: the window restarts); stop: 0 or -EINVAL
 * (not on); after stop the figures count from the creation again.
 */
int hm_caps_window_start(void);
int hm_caps_window_stop(void);
/* Region lock held, after an allocation or a resize in @r. */
static inline void hm_caps_win_note(struct caps_region *r)
{
	if (atomic_load_explicit(&hm_caps_win_on, memory_order_relaxed)) {
		size_t used = (size_t)hm_core_used_bytes(hm_caps_core(r));

		if (used > r->win_peak)
			r->win_peak = used;
	}
}

/* ---- listeners (listener.c) ---- */
void hm_caps_emit(enum caps_event_type t, const struct caps_region *r, void *ptr,
		  size_t size, size_t old_size, uint64_t dev);
bool hm_caps_listening(void);

/* ---- waiting (wait.c) ---- */
struct caps_wait_stats {
	unsigned long waits, wakeups, timeouts;
};
void hm_caps_wait_stats(struct caps_wait_stats *st);
void hm_caps_wait_sleeps(unsigned long waits);

/* ---- debug features (debug_*.c) ---- */
enum caps_debug_level hm_caps_dbg_level(void);
void hm_caps_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t hm_caps_canary(void);
/* Layout of a new block: guard bytes before and after the user's. */
void hm_caps_dbg_layout(const struct caps_region *r, enum caps_debug_level lvl, size_t size,
			size_t align, size_t *head, size_t *tail);
/* Prepare a fresh block (fills, guards, record); region lock NOT held except for the record. */
int hm_caps_dbg_on_alloc(struct caps_region *r, enum caps_debug_level lvl, uintptr_t raw,
			 size_t head, size_t size, const char *file, int line, const char *func,
			 void *const *bt, int bt_n);
/*
 * Before freeing user block @user: resolve its raw address, check guards,
 * fill with poison.  Region lock held.  0 or -errno (bad pointer).
 */
int hm_caps_dbg_on_free_locked(struct caps_region *r, uintptr_t user, uintptr_t *raw,
			       size_t *size);
/* Record of @user (region lock held), or NULL. */
struct caps_rec *hm_caps_rec_find(struct caps_region *r, uintptr_t user);
struct caps_rec *hm_caps_rec_find_raw(struct caps_region *r, uintptr_t raw);
int hm_caps_rec_add(struct caps_region *r, struct caps_rec *rec);
struct caps_rec *hm_caps_rec_del(struct caps_region *r, uintptr_t user);
void hm_caps_rec_free_all(struct caps_region *r);
/* Fill a fresh segment with the free pattern when poisoning. */
void hm_caps_dbg_new_seg(struct caps_region *r, const struct hm_segment_desc *d);
/* Check one block (walk callback context, region lock held); errors counted. */
unsigned int hm_caps_dbg_check_block(struct caps_region *r, const struct hm_block_info *b);
/* Backtrace of the caller (trace level), outside any lock. */
int hm_caps_backtrace(void **bt, int max);
void hm_caps_dbg_init(void);

/* ---- fork (caps_fork.c and the modules' parts) ---- */
void hm_caps_fork_init(void);
void hm_caps_reg_fork_prepare(void);
void hm_caps_reg_fork_parent(void);
void hm_caps_reg_fork_child(void);
void hm_caps_amap_fork_prepare(void);
void hm_caps_amap_fork_parent(void);
void hm_caps_amap_fork_child(void);
void hm_caps_wait_fork_prepare(void);
void hm_caps_wait_fork_parent(void);
void hm_caps_wait_fork_child(void);
void hm_caps_lis_fork_child(void);
void hm_caps_hook_fork_prepare(void);
void hm_caps_hook_fork_release(void);
void hm_caps_dbg_fork_child(void);
/* Child, single thread: empty @r; false if it must leave the registry. */
bool hm_caps_region_fork_reset(struct caps_region *r);
/*
 * Set on the forking thread from fork()'s prepare to its parent or child
 * hook (caps_fork.c); the child's thread is a copy of that thread, so
 * only the child's reset sees it, never another thread of the parent.
 */
extern _Thread_local bool hm_caps_forking;

#endif /* HAPMEM_CAPS_INTERNAL_H */
