/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HAP heap's per-thread front end (see tcache.c for the design): the
 * slab and cache structures and the lock-free fast paths, inlined into
 * hm_heap_alloc() and hm_heap_free().
 */
#ifndef HAPMEM_HEAP_TCACHE_H
#define HAPMEM_HEAP_TCACHE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap/heap_impl.h"

#define SLAB_SHIFT	16
#define SLAB_SIZE	((size_t)1 << SLAB_SHIFT)
#define SLAB_MAX_SLOTS	(SLAB_SIZE / HM_CORE_GRANULE)
#define SLAB_WORDS	(SLAB_MAX_SLOTS / 64)
#define NCLASSES	28
#define MAX_SMALL	4096u

/* Radix map of 64 KiB chunks of the 47-bit user address space. */
#define L1_BITS		15
#define L2_BITS		(47 - SLAB_SHIFT - L1_BITS)

struct hm_slab {
	uintptr_t base;
	struct hm_heap *heap;
	_Atomic(struct hm_tcache *) owner;	/* NULL: orphaned (then under the heap lock) */
	uint32_t bsize, nslots, recip;
	uint32_t nfree;			/* owner-private (orphan: heap lock) */
	uint32_t remote_count;		/* heap lock */
	uint8_t cls;
	bool on_partial;		/* owner-private */
	bool on_pending;		/* heap lock */
	uint64_t summary;		/* owner-private: bit w set iff free[w] != 0 */
	struct hm_slab *part_prev, *part_next;	/* owner's partial list */
	struct hm_slab *own_prev, *own_next;	/* owner's slabs */
	struct hm_slab *pend_next;		/* owner's pending list (heap lock) */
	struct hm_slab *all_prev, *all_next;	/* heap's slabs (heap lock) */
	_Atomic uint64_t free[SLAB_WORDS];	/* set: slot free; written by the owner */
	_Atomic uint64_t remote[SLAB_WORDS];	/* set: freed remotely; heap lock */
};

struct hm_tcache {
	struct hm_heap *heap;		/* NULL once the heap is destroyed (g_lock) */
	uint64_t uid;
	bool dead;			/* heap destroyed (g_lock) */
	struct hm_slab *active[NCLASSES];
	struct hm_slab *partial[NCLASSES];
	struct hm_slab *owned;		/* every slab this cache owns */
	/* Slabs with remote frees: written under the heap lock, peeked at without. */
	_Atomic(struct hm_slab *) pending;
	_Atomic uint64_t live[NCLASSES];	/* live blocks per class in owned slabs (single writer) */
	struct hm_tcache *h_prev, *h_next;	/* heap's list (heap lock) */
	struct hm_tcache *t_next;		/* thread's list (thread-private) */
};

extern const uint16_t hm_class_size[NCLASSES];
/* Class of (size + 15) / 16, for sizes 0 .. 4096. */
extern uint8_t hm_class_of[MAX_SMALL / 16 + 1];

extern _Atomic(_Atomic(struct hm_slab *) *) hm_slab_map[1u << L1_BITS];

struct tc_ref {
	struct hm_heap *h;
	uint64_t uid;
	struct hm_tcache *tc;
};
extern __thread struct tc_ref hm_tls_cur __attribute__((tls_model("initial-exec")));

#define RELAXED memory_order_relaxed
#define LOAD(p) atomic_load_explicit((p), RELAXED)
#define STORE(p, v) atomic_store_explicit((p), (v), RELAXED)

struct hm_tcache *hm_tc_slow(struct hm_heap *h);
struct hm_slab *hm_tc_refill(struct hm_tcache *tc, unsigned int cls);
int hm_tc_free_remote(struct hm_heap *h, struct hm_slab *s, unsigned int w, uint64_t bit);
void hm_tc_retire(struct hm_tcache *tc, struct hm_slab *s);
void hm_tc_part_push(struct hm_tcache *tc, struct hm_slab *s);

static inline struct hm_slab *hm_slab_lookup(uintptr_t addr)
{
	_Atomic(struct hm_slab *) *l2;

	if (addr >> 47)
		return NULL;
	l2 = atomic_load_explicit(&hm_slab_map[addr >> (SLAB_SHIFT + L2_BITS)], memory_order_acquire);
	if (!l2)
		return NULL;
	return atomic_load_explicit(&l2[(addr >> SLAB_SHIFT) & ((1u << L2_BITS) - 1)],
				    memory_order_acquire);
}

/* Slot index of @addr in @s, or -1 when it is not a slot start. */
static inline long hm_slot_of(const struct hm_slab *s, uintptr_t addr)
{
	uint32_t off = (uint32_t)(addr - s->base);
	uint32_t idx = (uint32_t)(((uint64_t)off * s->recip) >> 32);

	return idx * s->bsize == off && idx < s->nslots ? (long)idx : -1;
}

static inline struct hm_tcache *hm_tc_get(struct hm_heap *h)
{
	/* uids are never reused: a match means this thread's cache of @h. */
	if (__builtin_expect(hm_tls_cur.uid == h->uid, 1))
		return hm_tls_cur.tc;
	return hm_tc_slow(h);
}

static inline __attribute__((always_inline)) int hm_tc_alloc(struct hm_heap *h, size_t size, void **out)
{
	struct hm_tcache *tc;
	struct hm_slab *s;
	unsigned int cls, w, b;
	uint64_t word;

	if (size > MAX_SMALL || !(tc = hm_tc_get(h)))
		return -ENOENT;
	cls = hm_class_of[(size + 15) >> 4];
	s = tc->active[cls];
	if (__builtin_expect(!s || !s->summary, 0)) {
		s = hm_tc_refill(tc, cls);
		if (!s)
			return -ENOENT;	/* no slab: the core may still fit it */
	}
	w = (unsigned int)__builtin_ctzll(s->summary);
	word = LOAD(&s->free[w]);
	b = (unsigned int)__builtin_ctzll(word);
	word &= word - 1;
	STORE(&s->free[w], word);
	if (!word)
		s->summary &= ~(1ull << w);
	s->nfree--;
	STORE(&tc->live[cls], LOAD(&tc->live[cls]) + 1);
	*out = (void *)(s->base + (uintptr_t)(w * 64 + b) * s->bsize);
	return 0;
}

static inline __attribute__((always_inline)) int hm_tc_free(struct hm_heap *h, void *ptr)
{
	uintptr_t addr = (uintptr_t)ptr;
	struct hm_slab *s = hm_slab_lookup(addr);
	struct hm_tcache *tc;
	unsigned int w;
	uint64_t bit, word;
	long idx;

	if (!s)
		return -ENOENT;
	if (s->heap != h)
		return -EFAULT;
	idx = hm_slot_of(s, addr);
	if (idx < 0)
		return -EINVAL;
	w = (unsigned int)idx >> 6;
	bit = 1ull << (idx & 63);
	tc = hm_tls_cur.uid == h->uid ? hm_tls_cur.tc : NULL;
	if (!tc || LOAD(&s->owner) != tc)
		return hm_tc_free_remote(h, s, w, bit);
	word = LOAD(&s->free[w]);
	if ((word | LOAD(&s->remote[w])) & bit)
		return -EINVAL;		/* double free */
	STORE(&s->free[w], word | bit);
	s->summary |= 1ull << w;
	s->nfree++;
	STORE(&tc->live[s->cls], LOAD(&tc->live[s->cls]) - 1);
	if (__builtin_expect(tc->active[s->cls] != s, 0)) {
		if (s->nfree == s->nslots)
			hm_tc_retire(tc, s);
		else if (!s->on_partial)
			hm_tc_part_push(tc, s);
	}
	return 0;
}

#endif /* HAPMEM_HEAP_TCACHE_H */
