// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's public entry points (heap.h): each tries the per-thread
 * front end (tcache.h, its lock-free fast paths inlined here) and then the
 * lower layer (heap.c, the core under the heap lock).  Creation puts the
 * front end on the instance and registers it for fork() (heap_fork.c).
 *
 * Layers, each calling only those below it: heap_api.c, heap_fork.c ->
 * tcache.c -> heap.c -> the core and the backend.  heap.c reaches the
 * front end only through the hooks tcache.c registers (heap_impl.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "heap/tcache.h"

struct hm_heap *hm_heap_create(const struct hm_backend_ops *ops, void *ctx)
{
	struct hm_heap *h = hm_heap_instance_create(ops, ctx);

	if (!h)
		return NULL;
	hm_tc_heap_init(h);
	hm_heap_fork_register(h);
	return h;
}

struct hm_heap *hm_heap_create_default(const struct hm_backend_ops *ops, void *ctx)
{
	struct hm_heap *h = hm_heap_create(ops, ctx);

	if (h) {
		hm_heap_set_front_end(h, true);
		hm_heap_set_release(h, true);
	}
	return h;
}

void hm_heap_destroy(struct hm_heap *h)
{
	if (!h)
		return;
	hm_heap_fork_unregister(h);
	hm_tc_heap_destroy(h);
	hm_heap_instance_destroy(h);
}

/* ---- allocation ----------------------------------------------------------- */

/* Any allocation the inline fast path below did not complete. */
static __attribute__((noinline)) int alloc_any(struct hm_heap *h, size_t size, size_t align,
						void **out)
{
	struct hm_tcache *tc;
	int err;

	/* Front end: small blocks from the calling thread's slabs, no lock. */
	if (align <= HM_CORE_GRANULE && size <= HM_TC_MAX_SMALL &&
	    atomic_load_explicit(&h->fast, memory_order_relaxed)) {
		tc = hm_tls_cur.uid == h->uid ? hm_tls_cur.tc : hm_tc_slow(h);
		if (tc) {
			err = hm_tc_alloc_miss(tc, hm_class_of[(size + 15) >> 4], out);
			if (err != -ENOENT)
				return err;
		}
	}
	return hm_heap_alloc_core(h, size, align, out);
}

/*
 * The fast path: the front end is on for @h (fast_uid) and this thread's
 * cache is @h's, the block is small, and the class's active slab has a
 * free slot.  false: anything else (alloc_any()).
 */
static inline __attribute__((always_inline)) bool alloc_fast(struct hm_heap *h, size_t size,
							     void **out)
{
	struct hm_tcache *tc;
	struct hm_slab *s;
	uint64_t word, a;

	if (__builtin_expect(size > HM_TC_MAX_SMALL || hm_tls_cur.uid != HM_TC_LOAD(&h->fast_uid), 0))
		return false;
	tc = hm_tls_cur.tc;
	s = tc->bin[hm_class_of[(size + 15) >> 4]].active;
	word = HM_TC_LOAD(&s->free);
	if (__builtin_expect(!word, 0))
		return false;
	HM_TC_ASSERT(!(word & ~s->all));
	HM_TC_STORE(&s->free, word & (word - 1));
	a = HM_TC_LOAD(&tc->acct) + s->acct;
	HM_TC_STORE(&tc->acct, a);
	*out = (void *)(s->base + (uint32_t)__builtin_ctzll(word) * s->bsize);
	if (__builtin_expect(a > HM_TC_LOAD(&tc->limit), 0))
		hm_tc_peak(tc);
	return true;
}

int hm_heap_alloc(struct hm_heap *h, size_t size, size_t align, void **out)
{
	if (__builtin_expect(align <= HM_CORE_GRANULE, 1) && alloc_fast(h, size, out))
		return 0;
	return alloc_any(h, size, align, out);
}

static __attribute__((noinline)) void *malloc_any(struct hm_heap *h, size_t size)
{
	void *p;

	return alloc_any(h, size, 0, &p) ? NULL : p;
}

void *hm_heap_malloc(struct hm_heap *h, size_t size)
{
	void *p;

	return __builtin_expect(alloc_fast(h, size, &p), 1) ? p : malloc_any(h, size);
}

int hm_heap_calloc(struct hm_heap *h, size_t num, size_t size, void **out)
{
	size_t bytes;
	int err;

	if (__builtin_mul_overflow(num, size, &bytes)) {
		*out = NULL;
		return -ENOMEM;
	}
	err = hm_heap_alloc(h, bytes, 0, out);
	if (!err)
		memset(*out, 0, bytes);
	return err;
}

/* ---- free ----------------------------------------------------------------- */

static __attribute__((noinline)) int free_any(struct hm_heap *h, void *ptr)
{
	int err = hm_tc_free_any(h, ptr);

	return err != -ENOENT ? err : hm_heap_free_core(h, ptr);
}

int hm_heap_free(struct hm_heap *h, void *ptr)
{
	/* Fast path: a slab block of this thread's cache; anything else: free_any(). */
	if (__builtin_expect(hm_tls_cur.uid == HM_TC_LOAD(&h->fast_uid), 1)) {
		uintptr_t addr = (uintptr_t)ptr;
		struct hm_slab *s = hm_slab_lookup_fast(addr);

		if (s && HM_TC_LOAD(&s->owner) == hm_tls_cur.tc) {
			uint32_t idx = hm_slot_of(s, addr);

			if (idx < s->nslots)
				return hm_tc_free_owner(hm_tls_cur.tc, s, idx);
		}
	}
	return free_any(h, ptr);
}

/* ---- realloc ------------------------------------------------------------ */

int hm_heap_realloc(struct hm_heap *h, void *ptr, size_t size, void **out)
{
	size_t old = 0;
	void *n;
	int err;

	if (!ptr)
		return hm_heap_alloc(h, size, 0, out);
	err = hm_tc_block_size(h, ptr, &old);
	if (err != -ENOENT) {
		/* A slab block: it stays while the new size fits its class. */
		if (err || size <= old) {
			*out = err ? NULL : ptr;
			return err;
		}
		goto move;
	}
	err = hm_heap_resize_core(h, ptr, size, &old);
	if (err != -ENOMEM) {
		*out = err ? NULL : ptr;
		return err;
	}
move:
	/* Cannot grow in place: move.  The old block stays valid on failure. */
	err = hm_heap_alloc(h, size, 0, &n);
	if (err) {
		*out = NULL;
		return err;
	}
	memcpy(n, ptr, old < size ? old : size);
	hm_heap_free(h, ptr);
	*out = n;
	return 0;
}

/* ---- statistics ----------------------------------------------------------- */

void hm_heap_stats(struct hm_heap *h, struct hm_heap_stats *st)
{
	/* The caller's own empty slabs go back first (others' stay cached). */
	hm_tc_trim_self(h);
	hm_heap_stats_core(h, st);
}
