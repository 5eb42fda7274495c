/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HAP heap's per-thread front end (see tcache.c for the design): the
 * slab and cache structures and the lock-free fast paths, inlined into
 * hm_heap_alloc() and hm_heap_free() (heap_api.c).  It sits on the heap's
 * lower layer (heap_impl.h), which reaches back only through the hooks
 * hm_tc_heap_init() registers (struct hm_heap_front_ops).
 */
#ifndef HAPMEM_HEAP_TCACHE_H
#define HAPMEM_HEAP_TCACHE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap/heap_impl.h"
#include "util/invariant.h"

/*
 * Cheap checks of the front end's invariants (slab words, owner-private
 * slab states, live counts, classes, slot bounds): compiled in with
 * HAPMEM_DEBUG (the sanitizer builds, the tests), nothing otherwise.  A
 * broken one aborts with "invariant broken" on stderr, like the core's
 * HM_CORE_ASSERT.
 */
#define HM_TC_ASSERT(cond) HM_INVARIANT("hapmem tcache", cond)

#define HM_TC_NCLASSES	48
#define HM_TC_MAX_SMALL	4096u
#define HM_TC_SLAB_MAX_SLOTS	64		/* one bitmap word per slab */
_Static_assert(HM_TC_NCLASSES <= 64, "hm_tcache.partial_mask is one word");

/*
 * Slabs are multiples of a 1 KiB chunk, aligned to it; a two-level radix
 * map of a 48-bit user address space (x86_64's 47 bits, arm64's 48: its
 * mmap() hands out addresses just below 2^48) gives each chunk's slab.
 */
#define HM_TC_CHUNK_SHIFT	10
#define HM_TC_CHUNK_SIZE	((size_t)1 << HM_TC_CHUNK_SHIFT)
#define HM_TC_VA_BITS	48
#define HM_TC_L1_BITS		16
#define HM_TC_L2_BITS		(HM_TC_VA_BITS - HM_TC_CHUNK_SHIFT - HM_TC_L1_BITS)

enum hm_slab_state {
	SLAB_ACTIVE,	/* its class's allocation slab in its owner's cache */
	SLAB_PARTIAL,	/* on its owner's partial list */
	SLAB_FULL,	/* no free slot, on no list */
	SLAB_SPARE,	/* empty, kept on its owner's spare list for reuse */
};

struct hm_slab {
	/* Fast-path fields: one cache line. */
	_Atomic uint64_t free;		/* set: slot free; written by the owner (orphan: heap lock) */
	_Atomic uint64_t remote;	/* set: freed by another thread (atomic OR, no lock) */
	uintptr_t base;
	_Atomic(struct hm_tcache *) owner;	/* NULL: orphaned (then under the heap lock) */
	uint64_t all;			/* free == all: the slab is empty */
	uint64_t acct;			/* (bsize / 16) << 32 | 1: see hm_tcache.acct */
	uint32_t bsize;
	uint32_t inv;			/* inverse of bsize's odd part, mod 2^32 */
	uint8_t shift;			/* bsize's trailing zero bits */
	uint8_t nslots;
	uint8_t cls;
	uint8_t state;			/* enum hm_slab_state; owner-private */
	uint8_t bin;			/* ACTIVE: the class whose active slab it is (>= cls - BORROW) */
	uint32_t bytes;			/* slab length (a multiple of HM_TC_CHUNK_SIZE) */
	_Atomic uint32_t gen;		/* incarnation: bumped when the descriptor is reused */
	/* acct, for the statistics walk: it may read it while the owner reshapes the slab */
	_Atomic uint64_t stat_acct;

	_Atomic(struct hm_heap *) heap;	/* NULL once released; read by frees without the lock */
	struct hm_slab *part_prev, *part_next;	/* owner's partial list (spare list: part_next) */
	struct hm_slab *own_prev, *own_next;	/* owner's slabs */
	_Atomic(struct hm_slab *) pend_next;	/* owner's pending list (lock-free push) */
	struct hm_slab *all_prev, *all_next;	/* heap's slabs (heap lock) */
};

struct hm_bin {
	struct hm_slab *active;		/* never NULL: &hm_slab_none when there is none */
	struct hm_slab *partial;
};

struct hm_tcache {
	struct hm_bin bin[HM_TC_NCLASSES];
	/*
	 * Live blocks of this cache's slabs: (granules << 32) + blocks, one
	 * add per operation.  Single writer (the owner); read by
	 * hm_heap_stats() under the heap lock.  Neither half can carry into
	 * the other: slab_new() bounds what a cache owns (HM_TC_MAX_OWNED).
	 */
	_Atomic uint64_t acct;
	/*
	 * acct may rise up to this without a check of the heap's peak:
	 * (granules << 32) | 0xffffffff (struct hm_heap.peak_gran).  Written
	 * under the heap lock, read by the owner's fast path.
	 */
	_Atomic uint64_t limit;
	struct hm_heap *heap;		/* NULL once the heap is destroyed (g_lock) */
	uint64_t uid;
	uint64_t owned_bytes;		/* bytes of the slabs below */
	bool dead;			/* heap destroyed (g_lock) */
	struct hm_slab *owned;		/* every slab this cache owns */
	uint64_t partial_mask;		/* bit c: bin[c].partial is not NULL */
	struct hm_slab *spare;		/* empty slabs kept for reuse (stash()) */
	unsigned int nspare;
	uint64_t spare_bytes;
	/* Slabs with remote frees: pushed lock-free by others, taken whole by the owner. */
	_Atomic(struct hm_slab *) pending;
	struct hm_tcache *h_prev, *h_next;	/* heap's list (heap lock) */
	struct hm_tcache *t_next;		/* thread's list (thread-private) */
};

/*
 * Empty slabs a cache keeps (hysteresis): a class that empties a slab and
 * soon needs one again takes it back without the heap lock.  At least
 * this many, more while they hold at most half of the cache's bytes
 * (stash()).  When one more empties, the kept ones go back to the core
 * together, in one lock hold; they also go back whenever the cache takes a new slab from the
 * core, when its thread trims (statistics) and when it exits.
 */
#define HM_TC_SPARES	4u

/* Slab bytes one cache may own: keeps each half of acct below 2^32. */
#define HM_TC_MAX_OWNED	((uint64_t)1 << 35)

extern const uint16_t hm_class_size[HM_TC_NCLASSES];
/* Class of (size + 15) / 16, for sizes 0 .. 4096. */
extern uint8_t hm_class_of[HM_TC_MAX_SMALL / 16 + 1];
/* The empty slab every bin starts with: no free slot, owned by nobody. */
extern struct hm_slab hm_slab_none;
/* The zero second-level node of the radix map (NULL if it could not be made). */
extern _Atomic(struct hm_slab *) *hm_slab_map_zero;

extern _Atomic(_Atomic(struct hm_slab *) *) hm_slab_map[1u << HM_TC_L1_BITS];

struct tc_ref {
	uint64_t uid;
	struct hm_tcache *tc;
	struct hm_heap *h;
};
extern __thread struct tc_ref hm_tls_cur __attribute__((tls_model("initial-exec")));

#define HM_TC_RELAXED memory_order_relaxed
#define HM_TC_LOAD(p) atomic_load_explicit((p), HM_TC_RELAXED)
#define HM_TC_STORE(p, v) atomic_store_explicit((p), (v), HM_TC_RELAXED)

#define HM_TC_NO_UID	UINT64_MAX	/* matches no thread's cache */

/*
 * A new heap's front end (off until hm_heap_set_front_end()): its uid and
 * its hooks in the lower layer.  destroy: its slabs and caches go.
 */
void hm_tc_heap_init(struct hm_heap *h);
void hm_tc_heap_destroy(struct hm_heap *h);
/* The hooks (struct hm_heap_front_ops), callable directly from above too. */
void hm_tc_set_fast_locked(struct hm_heap *h, bool on);	/* @fast and @fast_uid */
void hm_tc_peak_check_locked(struct hm_heap *h);
void hm_tc_adjust_stats_locked(struct hm_heap *h, struct hm_core_stats *st);
bool hm_tc_slab_free_runs_locked(struct hm_heap *h, uintptr_t base,
				 void (*fn)(void *arg, uintptr_t lo, uintptr_t hi), void *arg);
/* A slab block's size: -ENOENT if @ptr is in no slab, -EFAULT another heap's, -EINVAL not live. */
int hm_tc_block_size(struct hm_heap *h, const void *ptr, size_t *size);
void hm_tc_trim_self(struct hm_heap *h);	/* release the caller's empty slabs */
/*
 * fork(): the front end's locks (registry g_lock, taken before any heap
 * lock; radix map_lock, a leaf, taken after them), and in the child the
 * reset of one heap's front end: its slabs and thread caches are dropped
 * and the heap gets a new uid (single-threaded child, locks held).
 */
void hm_tc_fork_lock(void);
void hm_tc_fork_unlock(void);
void hm_tc_fork_lock_map(void);
void hm_tc_fork_unlock_map(void);
void hm_tc_fork_reset(struct hm_heap *h);
/*
 * Test hook, NULL: called by a remote free that saw the slab's owner,
 * before (@after_or false) and after (true) its OR into the remote word.
 */
extern void (*hm_tc_remote_hook)(struct hm_slab *s, bool after_or);

struct hm_tcache *hm_tc_slow(struct hm_heap *h);
int hm_tc_alloc_miss(struct hm_tcache *tc, unsigned int cls, void **out);
/* The owner's live count passed its limit: maybe a new peak. */
void hm_tc_peak(struct hm_tcache *tc);
int hm_tc_free_edge(struct hm_tcache *tc, struct hm_slab *s, uint64_t old);
int hm_tc_free_any(struct hm_heap *h, void *ptr);

/*
 * Fast path only (front end on, so tcache.c made the map): unused
 * first-level entries point at a zero second-level node, not NULL.
 */
static inline struct hm_slab *hm_slab_lookup_fast(uintptr_t addr)
{
	_Atomic(struct hm_slab *) *l2;

	if (addr >> HM_TC_VA_BITS)
		return NULL;
	l2 = atomic_load_explicit(&hm_slab_map[addr >> (HM_TC_CHUNK_SHIFT + HM_TC_L2_BITS)],
				  memory_order_acquire);
	return atomic_load_explicit(&l2[(addr >> HM_TC_CHUNK_SHIFT) & ((1u << HM_TC_L2_BITS) - 1)],
				    memory_order_acquire);
}

static inline struct hm_slab *hm_slab_lookup(uintptr_t addr)
{
	_Atomic(struct hm_slab *) *l2;

	if (addr >> HM_TC_VA_BITS)
		return NULL;
	l2 = atomic_load_explicit(&hm_slab_map[addr >> (HM_TC_CHUNK_SHIFT + HM_TC_L2_BITS)],
				  memory_order_acquire);
	if (!l2 || l2 == hm_slab_map_zero)
		return NULL;
	return atomic_load_explicit(&l2[(addr >> HM_TC_CHUNK_SHIFT) & ((1u << HM_TC_L2_BITS) - 1)],
				    memory_order_acquire);
}

/*
 * Slot index of @addr in @s, or a number >= nslots when @addr is not a
 * slot start.  bsize = odd << shift: (off * inv) rotated right by shift is
 * off / bsize when bsize divides off, and at least 2^20 otherwise (the
 * low bits of a non-multiple of 2^shift land on top; a multiple of 2^shift
 * that odd does not divide maps above (2^(32-shift) - 1) / odd).
 */
static inline uint32_t hm_slot_of(const struct hm_slab *s, uintptr_t addr)
{
	uint32_t q = (uint32_t)(addr - s->base) * s->inv;

	return (q >> s->shift) | (q << ((32 - s->shift) & 31));
}

/* The owner's free of slot @idx of @s. 0, or -EINVAL for a double free. */
static inline __attribute__((always_inline)) int
hm_tc_free_owner(struct hm_tcache *tc, struct hm_slab *s, uint32_t idx)
{
	uint64_t bit = 1ull << idx, old = HM_TC_LOAD(&s->free);

	HM_TC_ASSERT(idx < s->nslots && s->nslots <= HM_TC_SLAB_MAX_SLOTS && !(old & ~s->all));
	if (__builtin_expect((old | HM_TC_LOAD(&s->remote)) & bit, 0))
		return -EINVAL;		/* double free */
	/* The owner's live count holds this block: neither half may wrap. */
	HM_TC_ASSERT((uint32_t)HM_TC_LOAD(&tc->acct) >= 1 &&
		     HM_TC_LOAD(&tc->acct) >> 32 >= s->acct >> 32);
	HM_TC_STORE(&s->free, old | bit);
	HM_TC_STORE(&tc->acct, HM_TC_LOAD(&tc->acct) - s->acct);
	if (__builtin_expect(!old || (old | bit) == s->all, 0))
		return hm_tc_free_edge(tc, s, old);
	return 0;
}

#endif /* HAPMEM_HEAP_TCACHE_H */
