// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's front end: per-thread caches over bitmap slabs.
 *
 * A slab is one block of the core cut into at most 64 equal slots of one
 * size class (16 B .. 4 KiB, 48 classes, 8 per doubling above 128 B;
 * requests above 2560 B take the 4 KiB class, PAGE_SLOT_MIN).  Its
 * length depends on the class (slab_geometry()): 64 slots for small
 * classes, fewer for large ones, so that a partly used slab holds little
 * memory.  Slabs are multiples of a 1 KiB chunk and aligned to it.  Their
 * metadata is out of band: a descriptor with a one-word bitmap of free
 * slots, found from any address through a process-wide radix map of 1 KiB
 * chunks.  There is no per-block record.
 *
 * Each slab is owned by one thread's cache (struct hm_tcache), which keeps
 * per class an active slab and a list of partly used ones.  The owner
 * allocates and frees in it without any lock or atomic read-modify-write:
 *   alloc = size class by table, lowest set bit of the active slab's word;
 *   free  = radix lookup, slot index by a multiply and a rotate (which
 *           also rejects an address that is not a slot start), bit
 *           test/set.
 * A slab whose last block is freed stays with its cache while it is its
 * class's active slab; otherwise it is kept on the cache's spare list
 * (stash(): hysteresis, so a class that empties a slab and needs one
 * again soon takes no lock, also by reshaping a spare of another class)
 * and the spares go back to the core together, in one hold of the heap
 * lock, when the list overflows or the cache needs a slab from the core.
 *
 * A block freed by another thread (a "remote" free) is recorded without
 * any lock: an atomic OR into the slab's remote bitmap, and the first
 * such bit queues the slab on its owner's pending list (compare-and-swap
 * push), as mimalloc does with its per-page thread-free lists.  The owner
 * takes the list whole and the slots back when it runs dry, also without
 * the lock.  When a thread exits its slabs are drained and either
 * released or left "orphaned": frees into an orphan are then made under
 * the heap lock.
 *
 * Invariant checks stay on: a free of a slot whose free bit or remote bit
 * is set is a double free (-EINVAL), an address inside a slab that is not
 * a slot start is -EINVAL, whichever thread frees.
 *
 * Statistics stay O(1) per operation and exact when no operation runs
 * concurrently with the query: each cache keeps one packed count of its
 * live granules and blocks (single writer, read under the heap lock by
 * hm_heap_stats()); the blocks freed remotely and not yet drained are
 * counted from the slabs' remote words at query time.  The core's peak
 * counts every slab whole, so with the front end the peak is the heap's
 * footprint, an upper bound of the bytes in use (by at most the free
 * slots of the slabs at that time).
 *
 * Lock order: g_lock (thread/heap registry) before a heap's lock.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap/tcache.h"

/* Slab sizing: about this many bytes, between MIN_SLOTS and 64 slots. */
#define SLAB_TARGET	16384u
#define MIN_SLOTS	8u
/*
 * A class with no partly used slab takes one of the next BORROW classes'
 * (at most 2/8 of a doubling larger) before making a new slab: adjacent
 * classes share their free slots, so a class that shrinks leaves fewer
 * stranded ones.
 */
#define BORROW		2u
/*
 * While the cache's slabs hold more than 1/16 of its live bytes in free
 * slots, a class without a partly used slab may take one of the next
 * BORROW_FAR classes' (a doubling) before making a new slab: the stranded
 * slots get used instead of a slab being added.  Only on the refill
 * path, found in O(1) with the cache's mask of classes that have partly
 * used slabs.
 */
#define BORROW_FAR	8u
#define SLACK_SHIFT	4
/* Slab bytes an idle thread (no live block) keeps: see release_idle(). */
#define IDLE_KEEP	(4u * SLAB_TARGET)

const uint16_t hm_class_size[HM_TC_NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512,
	576, 640, 704, 768, 832, 896, 960, 1024,
	1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
	2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
};
uint8_t hm_class_of[HM_TC_MAX_SMALL / 16 + 1];
struct hm_slab hm_slab_none = { .state = SLAB_FULL };
_Atomic(_Atomic(struct hm_slab *) *) hm_slab_map[1u << HM_TC_L1_BITS];
_Atomic(struct hm_slab *) *hm_slab_map_zero;
__thread struct tc_ref hm_tls_cur __attribute__((tls_model("initial-exec")));
static __thread struct hm_tcache *tls_list __attribute__((tls_model("initial-exec")));

/* hm_tcache.limit of a cache that may hold @gran live granules unchecked. */
#define LIMIT(gran)	((uint64_t)(gran) << 32 | 0xffffffffu)

/*
 * Per class: slots per slab, slab length and alignment.  Slabs of classes
 * from PAGE_CLASS_MIN up are whole 4 KiB pages, page-aligned: a free slot
 * of such a class then frees whole pages, which a purge gives back
 * (heap.c), instead of sharing its pages with two neighbours.
 */
#define PAGE_BYTES	4096u
#define PAGE_CLASS_MIN	1024u
/*
 * Requests above PAGE_SLOT_MIN take a whole page (hm_class_of maps them
 * to the 4 KiB class; the classes between stay in the table, unused): no
 * slot straddles a page boundary, so a block that outlives its
 * neighbours pins one page, not two or three.  The price is the
 * rounding, up to 1.6x for a 2561-byte request
 * (Documentation/benchmarks.rst, alloc_phase_rss_over_live).
 */
#define PAGE_SLOT_MIN	2560u
static uint8_t class_slots[HM_TC_NCLASSES];
static uint32_t class_bytes[HM_TC_NCLASSES];
static uint32_t class_align[HM_TC_NCLASSES];

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static atomic_uint_fast64_t g_uid;

/* ---- radix map ------------------------------------------------------------ */

/* Point every chunk of [base, base + len) at @s.  Heap lock held. */
static int slab_map_set(uintptr_t base, size_t len, struct hm_slab *s)
{
	uintptr_t a;

	if ((base + len - 1) >> HM_TC_VA_BITS)
		return -EINVAL;
	for (a = base; a < base + len; a += HM_TC_CHUNK_SIZE) {
		_Atomic(struct hm_slab *) *l2;
		unsigned int i1 = (unsigned int)(a >> (HM_TC_CHUNK_SHIFT + HM_TC_L2_BITS));

		l2 = atomic_load_explicit(&hm_slab_map[i1], memory_order_acquire);
		if (l2 == hm_slab_map_zero) {
			void *m;

			/* Second-level nodes are made under map_lock, a leaf lock. */
			pthread_mutex_lock(&map_lock);
			l2 = atomic_load_explicit(&hm_slab_map[i1], memory_order_acquire);
			if (l2 == hm_slab_map_zero) {
				/* Never freed: lock-free readers may hold it. Zero pages cost nothing. */
				m = mmap(NULL, sizeof(*l2) << HM_TC_L2_BITS, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
				if (m != MAP_FAILED) {
					l2 = m;
					atomic_store_explicit(&hm_slab_map[i1], l2, memory_order_release);
				}
			}
			pthread_mutex_unlock(&map_lock);
			if (l2 == hm_slab_map_zero)
				return -ENOMEM;
		}
		atomic_store_explicit(&l2[(a >> HM_TC_CHUNK_SHIFT) & ((1u << HM_TC_L2_BITS) - 1)], s,
				      memory_order_release);
	}
	return 0;
}

/* ---- size classes ----------------------------------------------------------- */

static void slab_geometry(void)
{
	unsigned int c;

	for (c = 0; c < HM_TC_NCLASSES; c++) {
		uint32_t b = hm_class_size[c], n = SLAB_TARGET / b, bytes;

		uint32_t unit = b >= PAGE_CLASS_MIN ? PAGE_BYTES : HM_TC_CHUNK_SIZE;

		n = n < MIN_SLOTS ? MIN_SLOTS : n > HM_TC_SLAB_MAX_SLOTS ? HM_TC_SLAB_MAX_SLOTS : n;
		/*
		 * The page class also takes the requests above PAGE_SLOT_MIN:
		 * twice the slots keep its refills per allocation (and the
		 * instructions per operation) where they were.
		 */
		if (b == PAGE_BYTES)
			n = 2 * MIN_SLOTS;
		bytes = (n * b + unit - 1) & ~(unit - 1);
		class_align[c] = unit;
		n = bytes / b;
		class_slots[c] = (uint8_t)(n > HM_TC_SLAB_MAX_SLOTS ? HM_TC_SLAB_MAX_SLOTS : n);
		class_bytes[c] = bytes;
	}
}

/* ---- registry of thread caches ------------------------------------------- */

static void thread_exit(void *arg);

static void g_init(void)
{
	unsigned int c = 0, i;
	void *m;

	pthread_key_create(&g_key, thread_exit);
	for (i = 0; i <= HM_TC_MAX_SMALL / 16; i++) {
		while (hm_class_size[c] < i * 16)
			c++;
		hm_class_of[i] = (uint8_t)(i * 16 > PAGE_SLOT_MIN ? HM_TC_NCLASSES - 1 : c);
	}
	slab_geometry();
	/*
	 * Unused first-level entries point at one read-only zero node, so
	 * the fast path's lookup needs no NULL test.  Without it the front
	 * end stays off (hm_tc_set_fast_locked()).
	 */
	m = mmap(NULL, sizeof(*hm_slab_map_zero) << HM_TC_L2_BITS, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return;
	hm_slab_map_zero = m;
	for (i = 0; i < 1u << HM_TC_L1_BITS; i++)
		atomic_store_explicit(&hm_slab_map[i], hm_slab_map_zero, HM_TC_RELAXED);
}

/* What the heap's lower layer asks of the front end (heap_impl.h). */
static const struct hm_heap_front_ops tc_front_ops = {
	.set_fast_locked = hm_tc_set_fast_locked,
	.peak_check_locked = hm_tc_peak_check_locked,
	.adjust_stats_locked = hm_tc_adjust_stats_locked,
	.slab_free_runs_locked = hm_tc_slab_free_runs_locked,
};

void hm_tc_heap_init(struct hm_heap *h)
{
	pthread_once(&g_once, g_init);
	h->uid = atomic_fetch_add(&g_uid, 1) + 1;
	HM_TC_STORE(&h->fast_uid, HM_TC_NO_UID);
	h->front = &tc_front_ops;
}

void hm_tc_set_fast_locked(struct hm_heap *h, bool on)
{
	on = on && hm_slab_map_zero;
	atomic_store(&h->fast, on);
	atomic_store(&h->fast_uid, on ? h->uid : HM_TC_NO_UID);
}

static void part_unlink(struct hm_tcache *tc, struct hm_slab *s)
{
	struct hm_bin *b = &tc->bin[s->cls];

	HM_TC_ASSERT(s->state == SLAB_PARTIAL && (tc->partial_mask >> s->cls & 1));
	if (s->part_prev)
		s->part_prev->part_next = s->part_next;
	else if (!(b->partial = s->part_next))
		tc->partial_mask &= ~(1ull << s->cls);
	if (s->part_next)
		s->part_next->part_prev = s->part_prev;
}

static void part_push(struct hm_tcache *tc, struct hm_slab *s)
{
	struct hm_bin *b = &tc->bin[s->cls];

	/* Only a full slab that got a free slot back joins the list. */
	HM_TC_ASSERT(s->state == SLAB_FULL && s->cls < HM_TC_NCLASSES);
	HM_TC_ASSERT(HM_TC_LOAD(&s->free) && HM_TC_LOAD(&s->free) != s->all);
	s->part_prev = NULL;
	s->part_next = b->partial;
	if (s->part_next)
		s->part_next->part_prev = s;
	b->partial = s;
	tc->partial_mask |= 1ull << s->cls;
	s->state = SLAB_PARTIAL;
}

/* Give an empty slab back to the core.  Heap lock held; owner-side lists already clean. */
static void slab_release_locked(struct hm_heap *h, struct hm_slab *s)
{
	HM_TC_ASSERT(HM_TC_LOAD(&s->free) == s->all && HM_TC_LOAD(&s->heap) == h);
	HM_TC_ASSERT(h->nslabs && h->slab_bytes >= s->bytes);
	slab_map_set(s->base, s->bytes, NULL);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		h->slabs = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	hm_core_free(h->core, s->base);
	hm_heap_note_unused_locked(h);
	hm_heap_note_freed_locked(h, s->bytes);
	h->nslabs--;
	h->slab_bytes -= s->bytes;
	HM_TC_STORE(&s->owner, NULL);
	HM_TC_STORE(&s->heap, NULL);
	s->all_next = h->slab_pool;
	h->slab_pool = s;
}

/* Owner: take @s off its own lists (not the active slot). */
static void own_unlink(struct hm_tcache *tc, struct hm_slab *s)
{
	HM_TC_ASSERT(HM_TC_LOAD(&s->owner) == tc && tc->owned_bytes >= s->bytes);
	if (s->state == SLAB_PARTIAL)
		part_unlink(tc, s);
	if (s->own_prev)
		s->own_prev->own_next = s->own_next;
	else
		tc->owned = s->own_next;
	if (s->own_next)
		s->own_next->own_prev = s->own_prev;
	tc->owned_bytes -= s->bytes;
}

/* Owner: release @s (empty, not active). */
static void retire(struct hm_tcache *tc, struct hm_slab *s)
{
	struct hm_heap *h = tc->heap;

	own_unlink(tc, s);
	pthread_mutex_lock(&h->lock);
	slab_release_locked(h, s);
	hm_heap_unlock(h);
}

/* Owner, heap lock held: give every spare slab back to the core. */
static void spares_release_locked(struct hm_tcache *tc)
{
	struct hm_slab *s, *next;

	for (s = tc->spare; s; s = next) {
		next = s->part_next;
		own_unlink(tc, s);
		slab_release_locked(tc->heap, s);
	}
	tc->spare = NULL;
	tc->nspare = 0;
	tc->spare_bytes = 0;
}

static void spares_release(struct hm_tcache *tc)
{
	if (!tc->spare)
		return;
	pthread_mutex_lock(&tc->heap->lock);
	spares_release_locked(tc);
	hm_heap_unlock(tc->heap);
}

/*
 * Owner: @s (not active) became empty.  Keep it as a spare; when the list
 * is full, the older spares go back to the core first, all in one lock
 * hold.  Full: HM_TC_SPARES slabs, or more while the spares stay within
 * half of the bytes the cache owns (a thread whose blocks other
 * threads free empties slabs of many classes at once and needs them
 * again soon; spare_reshape() fits them to the class asked for).
 */
static void stash(struct hm_tcache *tc, struct hm_slab *s)
{
	HM_TC_ASSERT((s->state == SLAB_FULL || s->state == SLAB_PARTIAL) &&
		     HM_TC_LOAD(&s->free) == s->all);
	if (s->state == SLAB_PARTIAL)
		part_unlink(tc, s);
	if (tc->nspare >= HM_TC_SPARES && (tc->spare_bytes + s->bytes) * 2 > tc->owned_bytes)
		spares_release(tc);
	s->state = SLAB_SPARE;
	s->part_next = tc->spare;
	tc->spare = s;
	tc->nspare++;
	tc->spare_bytes += s->bytes;
}

/* Owner: a spare slab of class @cls, taken off the spare list, or NULL. */
static struct hm_slab *spare_take(struct hm_tcache *tc, unsigned int cls)
{
	struct hm_slab **pp, *s;

	for (pp = &tc->spare; (s = *pp) != NULL; pp = &s->part_next) {
		HM_TC_ASSERT(s->state == SLAB_SPARE && HM_TC_LOAD(&s->free) == s->all);
		if (s->cls == cls) {
			*pp = s->part_next;
			tc->nspare--;
			tc->spare_bytes -= s->bytes;
			return s;
		}
	}
	return NULL;
}

/*
 * Owner: a spare of another class given the slot geometry of @cls, or
 * NULL.  Its memory, descriptor, radix map entries and list links stay,
 * so no lock is taken: a producer whose blocks other threads free cycles
 * through many classes, and each new slab from the core would first give
 * every spare back (desc_get()).  Taken when its length is within a
 * factor of two of the class's and its base has the class's alignment.
 */
static uint32_t inverse32(uint32_t d);

/*
 * @s, empty, becomes a slab of @n slots of class @cls (a new incarnation:
 * free_remote_late()); its memory, owner and links are the caller's.
 */
static void slab_shape(struct hm_slab *s, unsigned int cls, unsigned int n)
{
	uint32_t bsize = hm_class_size[cls];

	HM_TC_STORE(&s->gen, HM_TC_LOAD(&s->gen) + 1);
	s->cls = (uint8_t)cls;
	s->bsize = bsize;
	s->shift = (uint8_t)__builtin_ctz(bsize);
	s->inv = inverse32(bsize >> s->shift);
	s->nslots = (uint8_t)n;
	s->all = n == 64 ? ~0ull : (1ull << n) - 1;
	s->acct = ((uint64_t)(bsize / HM_CORE_GRANULE) << 32) | 1;
	HM_TC_STORE(&s->stat_acct, s->acct);
	HM_TC_STORE(&s->free, s->all);
}

static struct hm_slab *spare_reshape(struct hm_tcache *tc, unsigned int cls)
{
	uint32_t want = class_bytes[cls], bsize = hm_class_size[cls];
	struct hm_slab **pp, *s;
	unsigned int n;

	for (pp = &tc->spare; (s = *pp) != NULL; pp = &s->part_next) {
		if (s->bytes < want / 2 || s->bytes > want * 2 ||
		    (s->base & (class_align[cls] - 1)))
			continue;
		*pp = s->part_next;
		tc->nspare--;
		tc->spare_bytes -= s->bytes;
		n = s->bytes / bsize;
		slab_shape(s, cls, n > HM_TC_SLAB_MAX_SLOTS ? HM_TC_SLAB_MAX_SLOTS : n);
		return s;
	}
	return NULL;
}

/*
 * Owner: every empty slab (spares and empty active slabs) back to the
 * core in one lock hold.  Called when the thread holds no block and owns
 * more than IDLE_KEEP bytes of slabs: after a thread frees everything,
 * its slabs must not pin segments the release policy would give back;
 * below IDLE_KEEP a thread that allocates and frees one block at a time
 * keeps its slab.
 */
static void release_idle(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	unsigned int c;

	pthread_mutex_lock(&h->lock);
	spares_release_locked(tc);
	for (c = 0; c < HM_TC_NCLASSES; c++) {
		struct hm_slab *s = tc->bin[c].active;

		if (s != &hm_slab_none && HM_TC_LOAD(&s->free) == s->all) {
			tc->bin[c].active = &hm_slab_none;
			s->state = SLAB_FULL;
			own_unlink(tc, s);
			slab_release_locked(h, s);
		}
	}
	hm_heap_unlock(h);
}

static void slab_emptied(struct hm_tcache *tc, struct hm_slab *s);

/*
 * Owner, no lock: take back the slots other threads freed.  The list is
 * taken whole; each slab's next link is read before its remote word is
 * taken (after that, a remote free may queue the slab again).  A bit
 * already free is a double free that raced with an earlier drain: it is
 * dropped.
 */
static void drain(struct hm_tcache *tc)
{
	struct hm_slab *s, *next;

	for (s = atomic_exchange(&tc->pending, NULL); s; s = next) {
		uint64_t r, old;
		unsigned int n;

		next = atomic_load_explicit(&s->pend_next, memory_order_relaxed);
		r = atomic_exchange(&s->remote, 0);
		old = HM_TC_LOAD(&s->free);
		r &= ~old;
		n = (unsigned int)__builtin_popcountll(r);
		HM_TC_STORE(&s->free, old | r);
		HM_TC_STORE(&tc->acct, HM_TC_LOAD(&tc->acct) - n * s->acct);
		if (s->state == SLAB_ACTIVE || s->state == SLAB_SPARE)
			continue;
		if ((old | r) == s->all)
			slab_emptied(tc, s);
		else if (s->state == SLAB_FULL)
			part_push(tc, s);
	}
}

/*
 * Heap lock held, the cache's slabs already orphaned (owner NULL) and no
 * push onto its pending list in flight: fold the remote bits into the
 * free words.  A remote free that sets its bit after this finds the owner
 * gone and folds its own bit under the lock (free_remote_late()).
 */
static void fold_remote_locked(struct hm_tcache *tc)
{
	struct hm_slab *s;

	atomic_store(&tc->pending, NULL);
	for (s = tc->owned; s; s = s->own_next) {
		uint64_t r = atomic_exchange(&s->remote, 0), old = HM_TC_LOAD(&s->free);

		HM_TC_STORE(&s->free, old | r);
	}
}

/* Thread exit or heap change: hand every slab back or orphan it. Heap lock held. */
static void detach_locked(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s, *next;
	unsigned int c;

	/*
	 * Remote frees from now on take the heap lock (free_remote()); one
	 * that saw the owner before this may still be pushing a slab onto
	 * the pending list: wait for it.
	 */
	for (s = tc->owned; s; s = s->own_next)
		atomic_store(&s->owner, NULL);
	while (atomic_load(&h->remote_pushing))
		sched_yield();
	fold_remote_locked(tc);
	for (s = tc->owned; s; s = next) {
		unsigned int live;

		next = s->own_next;
		if (HM_TC_LOAD(&s->free) == s->all) {
			slab_release_locked(h, s);
			continue;
		}
		live = s->nslots - (unsigned int)__builtin_popcountll(HM_TC_LOAD(&s->free));
		h->orphan_bytes += (uint64_t)live * s->bsize;
		h->orphan_blocks += live;
	}
	tc->owned = NULL;
	tc->owned_bytes = 0;
	tc->partial_mask = 0;
	tc->spare = NULL;	/* empty: released above */
	tc->nspare = 0;
	tc->spare_bytes = 0;
	for (c = 0; c < HM_TC_NCLASSES; c++)
		tc->bin[c] = (struct hm_bin){ .active = &hm_slab_none };
	HM_TC_STORE(&tc->acct, 0);
	h->limit_sum -= HM_TC_LOAD(&tc->limit) >> 32;
	HM_TC_STORE(&tc->limit, LIMIT(0));
	if (tc->h_prev)
		tc->h_prev->h_next = tc->h_next;
	else
		h->tcaches = tc->h_next;
	if (tc->h_next)
		tc->h_next->h_prev = tc->h_prev;
}

static void thread_exit(void *arg)
{
	struct hm_tcache *tc, *next;

	(void)arg;
	pthread_mutex_lock(&g_lock);
	for (tc = tls_list; tc; tc = next) {
		next = tc->t_next;
		if (!tc->dead) {
			pthread_mutex_lock(&tc->heap->lock);
			detach_locked(tc);
			hm_heap_unlock(tc->heap);
		}
		free(tc);
	}
	tls_list = NULL;
	hm_tls_cur = (struct tc_ref){ 0 };
	pthread_mutex_unlock(&g_lock);
}

static void forget_slabs(struct hm_heap *h)
{
	struct hm_slab *s;

	while ((s = h->slabs) != NULL) {
		h->slabs = s->all_next;
		slab_map_set(s->base, s->bytes, NULL);
		free(s);
	}
	while ((s = h->slab_pool) != NULL) {
		h->slab_pool = s->all_next;
		free(s);
	}
	h->nslabs = 0;
	h->slab_bytes = 0;
}

void hm_tc_heap_destroy(struct hm_heap *h)
{
	struct hm_tcache *tc;

	pthread_mutex_lock(&g_lock);
	for (tc = h->tcaches; tc; tc = tc->h_next) {
		tc->dead = true;	/* freed by its thread, at exit */
		tc->heap = NULL;
	}
	pthread_mutex_unlock(&g_lock);
	forget_slabs(h);
}

/* The calling thread's cache for @h, created on first use; NULL on ENOMEM. */
struct hm_tcache *hm_tc_slow(struct hm_heap *h)
{
	struct hm_tcache *tc;
	unsigned int c;

	pthread_mutex_lock(&g_lock);
	for (tc = tls_list; tc; tc = tc->t_next)
		if (!tc->dead && tc->uid == h->uid)
			break;
	if (!tc && (tc = calloc(1, sizeof(*tc))) != NULL) {
		for (c = 0; c < HM_TC_NCLASSES; c++)
			tc->bin[c].active = &hm_slab_none;
		tc->heap = h;
		tc->uid = h->uid;
		HM_TC_STORE(&tc->limit, LIMIT(0));
		tc->t_next = tls_list;
		tls_list = tc;
		pthread_setspecific(g_key, tc);
		pthread_mutex_lock(&h->lock);
		tc->h_next = h->tcaches;
		if (tc->h_next)
			tc->h_next->h_prev = tc;
		h->tcaches = tc;
		pthread_mutex_unlock(&h->lock);
	}
	if (tc)
		hm_tls_cur = (struct tc_ref){ .h = h, .uid = h->uid, .tc = tc };
	pthread_mutex_unlock(&g_lock);
	return tc;
}

/* ---- allocation ----------------------------------------------------------- */

/* Multiplicative inverse of odd @d modulo 2^32 (Newton's iteration). */
static uint32_t inverse32(uint32_t d)
{
	uint32_t x = d;	/* correct to 3 bits */
	int i;

	for (i = 0; i < 4; i++)
		x *= 2 - d * x;
	return x;
}

/*
 * A descriptor for a new slab of @tc: a recycled one of the heap's pool
 * or a new one; NULL on ENOMEM.  The cache's spares go back to the core
 * first (in the same lock hold): their memory may serve another class.
 */
static struct hm_slab *desc_get(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s;

	pthread_mutex_lock(&h->lock);
	spares_release_locked(tc);
	s = h->slab_pool;
	if (s)
		h->slab_pool = s->all_next;
	hm_heap_unlock(h);
	if (!s)
		s = calloc(1, sizeof(*s));
	return s;
}

/* Heap lock held: @s back to the heap's pool of descriptors. */
static void desc_put_locked(struct hm_heap *h, struct hm_slab *s)
{
	s->all_next = h->slab_pool;
	h->slab_pool = s;
}

/*
 * Heap lock held: memory for a slab of class @cls from the core, at
 * *@base, *@bytes long with *@n slots.  When the heap cannot give the
 * class's length (and cannot grow), one chunk (or one slot) is tried: a
 * nearly full heap gets small slabs.  -ENOMEM when neither fits: the heap
 * is at its backend's limit and is served from the core, exact to the
 * granule, until it grows again (heap.c); the slabs drain meanwhile.
 */
static int slab_carve_locked(struct hm_heap *h, unsigned int cls, uintptr_t *base,
			     uint32_t *bytes, unsigned int *n, bool *low)
{
	uint32_t bsize = hm_class_size[cls];

	*bytes = class_bytes[cls];
	*n = class_slots[cls];
	if (!hm_heap_alloc_locked(h, *bytes, class_align[cls], base, low))
		return 0;
	*bytes = (uint32_t)((bsize + HM_TC_CHUNK_SIZE - 1) & ~(HM_TC_CHUNK_SIZE - 1));
	if (*bytes == class_bytes[cls] ||
	    hm_heap_alloc_locked(h, *bytes, HM_TC_CHUNK_SIZE, base, low)) {
		h->slab_starved = true;
		hm_tc_set_fast_locked(h, false);
		return -ENOMEM;
	}
	*n = *bytes / bsize;
	if (*n > HM_TC_SLAB_MAX_SLOTS)
		*n = HM_TC_SLAB_MAX_SLOTS;
	return 0;
}

/*
 * Heap lock held: @s describes @n slots of class @cls at @base, all
 * free, owned by @tc.  The incarnation count survives the reset
 * (free_remote_late()).
 */
static void slab_init(struct hm_slab *s, struct hm_tcache *tc, unsigned int cls,
		      uintptr_t base, uint32_t bytes, unsigned int n)
{
	uint32_t gen = HM_TC_LOAD(&s->gen);

	memset(s, 0, sizeof(*s));
	HM_TC_STORE(&s->gen, gen);
	s->base = base;
	HM_TC_STORE(&s->heap, tc->heap);
	s->bytes = bytes;
	slab_shape(s, cls, n);
	HM_TC_STORE(&s->owner, tc);
}

/* Heap lock held: @s onto its owner's list of slabs and the heap's. */
static void slab_link_locked(struct hm_tcache *tc, struct hm_slab *s)
{
	struct hm_heap *h = tc->heap;

	s->own_next = tc->owned;
	if (s->own_next)
		s->own_next->own_prev = s;
	tc->owned = s;
	tc->owned_bytes += s->bytes;
	s->all_next = h->slabs;
	if (s->all_next)
		s->all_next->all_prev = s;
	h->slabs = s;
	h->nslabs++;
	h->slab_bytes += s->bytes;
}

/*
 * A fresh slab of class @cls for @tc, or NULL: a spare of the class, or
 * one reshaped for it (no lock, no radix map update), else a descriptor,
 * memory from the core and the radix map's entries for it.
 */
static struct hm_slab *slab_new(struct hm_tcache *tc, unsigned int cls)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s;
	unsigned int n;
	uintptr_t base;
	uint32_t bytes;
	bool low = false;

	s = spare_take(tc, cls);
	if (!s)
		s = spare_reshape(tc, cls);
	if (s)
		return s;
	if (tc->owned_bytes + class_bytes[cls] > HM_TC_MAX_OWNED)
		return NULL;
	s = desc_get(tc);
	if (!s)
		return NULL;
	pthread_mutex_lock(&h->lock);
	if (slab_carve_locked(h, cls, &base, &bytes, &n, &low))
		goto fail;
	slab_init(s, tc, cls, base, bytes, n);
	if (slab_map_set(base, bytes, s)) {
		slab_map_set(base, bytes, NULL);
		hm_core_free(h->core, base);
		goto fail;
	}
	slab_link_locked(tc, s);
	pthread_mutex_unlock(&h->lock);
	if (low)
		hm_heap_pregrow(h);
	return s;
fail:
	desc_put_locked(h, s);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* The active slab of @cls ran dry: next partial slab, remote frees, or a new slab. */
static struct hm_slab *refill(struct hm_tcache *tc, unsigned int cls)
{
	struct hm_bin *b = &tc->bin[cls];
	struct hm_slab *s = b->active;
	unsigned int c;
	uint64_t m;

	if (s != &hm_slab_none)
		s->state = SLAB_FULL;		/* it has no free slot */
	b->active = &hm_slab_none;
	if (!b->partial && HM_TC_LOAD(&tc->pending))
		drain(tc);
	s = b->partial;
	if (!s && (m = tc->partial_mask >> (cls + 1)) != 0) {
		uint64_t live = (HM_TC_LOAD(&tc->acct) >> 32) * HM_CORE_GRANULE;

		/* The nearest larger class with a partly used slab, if near enough. */
		c = (unsigned int)__builtin_ctzll(m);
		if (c < BORROW || (c < BORROW_FAR && tc->owned_bytes > live + (live >> SLACK_SHIFT)))
			s = tc->bin[cls + 1 + c].partial;
	}
	if (s)
		part_unlink(tc, s);
	else if (!(s = slab_new(tc, cls)))
		return NULL;
	HM_TC_ASSERT(s->cls >= cls && s->cls < HM_TC_NCLASSES && HM_TC_LOAD(&s->owner) == tc);
	s->state = SLAB_ACTIVE;
	s->bin = (uint8_t)cls;
	b->active = s;
	return s;
}

/* Allocation in @tc, refilling the class when its active slab is dry; -ENOENT: use the core. */
int hm_tc_alloc_miss(struct hm_tcache *tc, unsigned int cls, void **out)
{
	struct hm_slab *s;
	uint64_t word;

	HM_TC_ASSERT(cls < HM_TC_NCLASSES);
	s = tc->bin[cls].active;
	word = HM_TC_LOAD(&s->free);
	if (!word) {
		s = refill(tc, cls);
		if (!s)
			return -ENOENT;	/* no slab: the core may still fit it */
		word = HM_TC_LOAD(&s->free);
	}
	/* The class's active slab, the caller's, with free slots inside it only. */
	HM_TC_ASSERT(s->state == SLAB_ACTIVE && s->bin == cls && HM_TC_LOAD(&s->owner) == tc);
	HM_TC_ASSERT(word && !(word & ~s->all));
	HM_TC_ASSERT((uint64_t)(__builtin_ctzll(word) + 1) * s->bsize <= s->bytes);
	HM_TC_STORE(&s->free, word & (word - 1));
	HM_TC_STORE(&tc->acct, HM_TC_LOAD(&tc->acct) + s->acct);
	*out = (void *)(s->base + (uintptr_t)__builtin_ctzll(word) * s->bsize);
	if (HM_TC_LOAD(&tc->acct) > HM_TC_LOAD(&tc->limit))
		hm_tc_peak(tc);
	return 0;
}

/* ---- free ----------------------------------------------------------------- */

/*
 * The owner freed a block of @s whose word was @old: the slab went from
 * full to partly used (onto the partial list) or became empty (back to
 * the core), unless it is the active slab.
 */
/* Owner: @s (not active) has no live block left (drained remote frees). */
static void slab_emptied(struct hm_tcache *tc, struct hm_slab *s)
{
	if (atomic_load_explicit(&tc->heap->fast, HM_TC_RELAXED)) {
		stash(tc, s);
	} else {
		retire(tc, s);
		spares_release(tc);
	}
}

int hm_tc_free_edge(struct hm_tcache *tc, struct hm_slab *s, uint64_t old)
{
	HM_TC_ASSERT(HM_TC_LOAD(&s->owner) == tc && s->state <= SLAB_SPARE);
	if (s->state == SLAB_ACTIVE) {
		/* Starved heap (see slab_new()): the active slab goes too. */
		if (HM_TC_LOAD(&s->free) == s->all && !atomic_load_explicit(&tc->heap->fast, HM_TC_RELAXED)) {
			tc->bin[s->bin].active = &hm_slab_none;
			s->state = SLAB_FULL;
			retire(tc, s);
			spares_release(tc);
			return 0;
		}
	} else if (HM_TC_LOAD(&s->free) != s->all) {
		if (!old)
			part_push(tc, s);
		return 0;
	} else if (atomic_load_explicit(&tc->heap->fast, HM_TC_RELAXED)) {
		stash(tc, s);
	} else {
		/* Starved heap or markers open: every empty slab goes back now. */
		retire(tc, s);
		spares_release(tc);
		return 0;
	}
	/*
	 * A slab emptied: if the thread holds no block, its idle slabs go
	 * back when there are many, or when the release policy finds free
	 * memory it cannot give back (hm_heap_note_unused_locked()).
	 */
	if (!(uint32_t)HM_TC_LOAD(&tc->acct) &&
	    (tc->owned_bytes > IDLE_KEEP || atomic_load_explicit(&tc->heap->idle_release, HM_TC_RELAXED)))
		release_idle(tc);
	return 0;
}

/* Heap lock held: the live slot @bit of orphaned slab @s becomes free. */
static void orphan_slot_free_locked(struct hm_heap *h, struct hm_slab *s, uint64_t bit)
{
	HM_TC_ASSERT(h->orphan_blocks && h->orphan_bytes >= s->bsize);
	HM_TC_STORE(&s->free, HM_TC_LOAD(&s->free) | bit);
	h->orphan_bytes -= s->bsize;
	h->orphan_blocks--;
	if (HM_TC_LOAD(&s->free) == s->all)
		slab_release_locked(h, s);
}

/* Free into a slab whose thread exited: under the heap lock. */
static int free_orphan(struct hm_heap *h, struct hm_slab *s, uint64_t bit)
{
	int err = 0;

	pthread_mutex_lock(&h->lock);
	if (HM_TC_LOAD(&s->owner) || HM_TC_LOAD(&s->heap) != h) {
		/* Reused for another slab meanwhile: the block was freed already. */
		err = -EINVAL;
	} else if ((HM_TC_LOAD(&s->free) | HM_TC_LOAD(&s->remote)) & bit) {
		err = -EINVAL;		/* double free */
	} else {
		orphan_slot_free_locked(h, s, bit);
	}
	hm_heap_unlock(h);
	return err;
}

/*
 * A remote free set its bit in @s's remote word, then found the slab
 * orphaned: the exiting owner's fold (fold_remote_locked()) may or may
 * not have taken the bit.  Under the heap lock the owner is gone for
 * good: a bit still in the remote word of the same slab (@gen: not
 * released and reused since) was missed, and is freed here as into an
 * orphan; otherwise the fold took it.
 */
static int free_remote_late(struct hm_heap *h, struct hm_slab *s, uint64_t bit, uint32_t gen)
{
	pthread_mutex_lock(&h->lock);
	if (HM_TC_LOAD(&s->heap) == h && HM_TC_LOAD(&s->gen) == gen && (HM_TC_LOAD(&s->remote) & bit)) {
		atomic_fetch_and(&s->remote, ~bit);
		if (!(HM_TC_LOAD(&s->free) & bit))
			orphan_slot_free_locked(h, s, bit);
	}
	hm_heap_unlock(h);
	return 0;
}

/*
 * Free by a thread that does not own the slab, without the heap lock
 * while the slab has an owner: one atomic OR of the slot's bit into the
 * slab's remote word (which also catches a second remote free of it);
 * the owner accounts for it when it drains the slab, and statistics
 * count the remote words (remote_live_locked()).  The first bit since the
 * owner's last drain queues the slab on the owner's pending list (a push
 * by compare-and-swap; the owner takes the list whole); only that push
 * announces itself in the heap's @remote_pushing, so that an exiting
 * owner waits until no push can still reach its list.
 *
 * Every access to @owner and @remote here and in detach_locked() is
 * sequentially consistent: a free that sees the owner after its OR set
 * its bit before the owner was cleared, hence before the exiting owner's
 * fold; one that sees it cleared resolves its bit under the lock
 * (free_remote_late()).  Orphaned slabs are freed into under the heap lock.
 */
void (*hm_tc_remote_hook)(struct hm_slab *s, bool after_or);

static int free_remote(struct hm_heap *h, struct hm_slab *s, uint64_t bit)
{
	struct hm_tcache *owner;
	struct hm_slab *head;
	uint32_t gen;
	uint64_t old;

	gen = HM_TC_LOAD(&s->gen);
	if (!atomic_load(&s->owner))
		return free_orphan(h, s, bit);
	if (HM_TC_LOAD(&s->free) & bit)
		return -EINVAL;		/* double free */
	if (__builtin_expect(hm_tc_remote_hook != NULL, 0))
		hm_tc_remote_hook(s, false);
	old = atomic_fetch_or(&s->remote, bit);
	if (old & bit)
		return -EINVAL;		/* double free */
	if (__builtin_expect(hm_tc_remote_hook != NULL, 0))
		hm_tc_remote_hook(s, true);
	if (old) {
		/* Queued already (or its first free is on the way). */
		if (!atomic_load(&s->owner))
			return free_remote_late(h, s, bit, gen);
		return 0;
	}
	atomic_fetch_add(&h->remote_pushing, 1);
	owner = atomic_load(&s->owner);
	if (!owner) {
		atomic_fetch_sub(&h->remote_pushing, 1);
		return free_remote_late(h, s, bit, gen);
	}
	head = atomic_load_explicit(&owner->pending, memory_order_relaxed);
	do
		atomic_store_explicit(&s->pend_next, head, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&owner->pending, &head, s,
						      memory_order_release,
						      memory_order_relaxed));
	atomic_fetch_sub(&h->remote_pushing, 1);
	return 0;
}

/* Any free of a slab block: -ENOENT when @ptr is in no slab. */
int hm_tc_free_any(struct hm_heap *h, void *ptr)
{
	uintptr_t addr = (uintptr_t)ptr;
	struct hm_slab *s = hm_slab_lookup(addr);
	struct hm_tcache *tc;
	uint32_t idx;

	if (!s)
		return -ENOENT;
	if (HM_TC_LOAD(&s->heap) != h)
		return -EFAULT;
	idx = hm_slot_of(s, addr);
	if (idx >= s->nslots)
		return -EINVAL;
	tc = hm_tls_cur.uid == h->uid ? hm_tls_cur.tc : NULL;
	if (tc && HM_TC_LOAD(&s->owner) == tc)
		return hm_tc_free_owner(tc, s, idx);
	return free_remote(h, s, 1ull << idx);
}

int hm_tc_block_size(struct hm_heap *h, const void *ptr, size_t *size)
{
	uintptr_t addr = (uintptr_t)ptr;
	struct hm_slab *s = hm_slab_lookup(addr);
	uint32_t idx;

	if (!s)
		return -ENOENT;
	if (HM_TC_LOAD(&s->heap) != h)
		return -EFAULT;
	idx = hm_slot_of(s, addr);
	if (idx >= s->nslots || ((HM_TC_LOAD(&s->free) | HM_TC_LOAD(&s->remote)) & (1ull << idx)))
		return -EINVAL;
	*size = s->bsize;
	return 0;
}

/* ---- statistics and trimming ---------------------------------------------- */

/*
 * Lock held: blocks freed by other threads and not yet drained by their
 * slabs' owners, (granules << 32) + blocks: the owners' counts still hold
 * them.  Such a slab is on its owner's pending list from its first remote
 * free until the owner drains it, so only those lists are walked: O(slabs
 * with undrained remote frees), nothing while no thread frees another's
 * blocks.  The lists may change under the walk (pushes and drains take no
 * lock; descriptors are never freed while the heap lives), so the walk is
 * bounded by the number of slabs and exact only when no operation runs
 * concurrently, like the rest of the statistics.
 */
static uint64_t remote_live_locked(const struct hm_heap *h)
{
	const struct hm_tcache *tc;
	uint64_t sum = 0, left = h->nslabs;

	for (tc = h->tcaches; tc; tc = tc->h_next) {
		const struct hm_slab *s = atomic_load_explicit(&tc->pending, memory_order_acquire);

		for (; s && left; s = atomic_load_explicit(&s->pend_next, memory_order_relaxed), left--) {
			uint64_t r = HM_TC_LOAD(&s->remote);

			sum += (uint64_t)__builtin_popcountll(r) * HM_TC_LOAD(&s->stat_acct);
		}
	}
	return sum;
}

/* Granules of live blocks outside slabs (the core counts each slab as one live block). */
static uint64_t core_own_gran_locked(const struct hm_heap *h)
{
	return (hm_core_used_bytes(h->core) - h->slab_bytes) / HM_CORE_GRANULE;
}

/*
 * Lock held: every cache's limit back to its live count; the exact used
 * granules G become the peak if above it.  Returns G.
 */
static uint64_t peak_reclaim_locked(struct hm_heap *h)
{
	uint64_t g = core_own_gran_locked(h) + h->orphan_bytes / HM_CORE_GRANULE, sum = 0;
	struct hm_tcache *tc;

	for (tc = h->tcaches; tc; tc = tc->h_next) {
		uint64_t a = HM_TC_LOAD(&tc->acct) >> 32;

		HM_TC_STORE(&tc->limit, LIMIT(a));
		sum += a;
	}
	g += sum - (remote_live_locked(h) >> 32);
	h->limit_sum = sum;
	if (g > h->peak_gran)
		h->peak_gran = g;
	return g;
}

void hm_tc_peak_check_locked(struct hm_heap *h)
{
	uint64_t bound = h->limit_sum + core_own_gran_locked(h) + h->orphan_bytes / HM_CORE_GRANULE;

	if (bound > h->peak_gran)
		peak_reclaim_locked(h);
}

/*
 * The owner's live count passed its limit.  The exact sum decides whether
 * it is a new peak; whatever room is left below the peak becomes this
 * cache's, so the next operations need no check.
 */
void hm_tc_peak(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	uint64_t g, room, a;

	pthread_mutex_lock(&h->lock);
	g = peak_reclaim_locked(h);
	room = h->peak_gran - g;
	a = HM_TC_LOAD(&tc->acct) >> 32;
	HM_TC_STORE(&tc->limit, LIMIT(a + room));
	h->limit_sum += room;
	pthread_mutex_unlock(&h->lock);
}

void hm_tc_adjust_stats_locked(struct hm_heap *h, struct hm_core_stats *st)
{
	uint64_t bytes = h->orphan_bytes, blocks = h->orphan_blocks, r;
	struct hm_tcache *tc;

	if (!h->nslabs) {
		st->peak_used_bytes = h->peak_gran * HM_CORE_GRANULE;
		return;
	}
	for (tc = h->tcaches; tc; tc = tc->h_next) {
		uint64_t a = HM_TC_LOAD(&tc->acct);

		bytes += (a >> 32) * HM_CORE_GRANULE;
		blocks += (uint32_t)a;
	}
	r = remote_live_locked(h);
	bytes -= (r >> 32) * HM_CORE_GRANULE;
	blocks -= (uint32_t)r;
	/* The core counts each slab as one live block of its length. */
	st->used_bytes = st->used_bytes - h->slab_bytes + bytes;
	st->free_bytes = st->total_bytes - st->used_bytes;
	st->live_blocks = (uint32_t)(st->live_blocks - h->nslabs + blocks);
	st->peak_used_bytes = h->peak_gran * HM_CORE_GRANULE;
}

void hm_tc_trim_self(struct hm_heap *h)
{
	struct hm_tcache *tc;
	unsigned int c;

	if (hm_tls_cur.uid != h->uid)
		return;
	tc = hm_tls_cur.tc;
	if (HM_TC_LOAD(&tc->pending))
		drain(tc);
	/* Spares and empty active slabs go back. */
	spares_release(tc);
	for (c = 0; c < HM_TC_NCLASSES; c++) {
		struct hm_slab *s = tc->bin[c].active;

		if (s != &hm_slab_none && HM_TC_LOAD(&s->free) == s->all) {
			tc->bin[c].active = &hm_slab_none;
			s->state = SLAB_FULL;
			retire(tc, s);
		}
	}
}

bool hm_tc_slab_free_runs_locked(struct hm_heap *h, uintptr_t base,
				 void (*fn)(void *arg, uintptr_t lo, uintptr_t hi), void *arg)
{
	struct hm_tcache *self = hm_tls_cur.uid == h->uid ? hm_tls_cur.tc : NULL, *owner;
	struct hm_slab *s = hm_slab_lookup(base);
	uint64_t f;

	if (!s || HM_TC_LOAD(&s->heap) != h || s->base != base)
		return false;
	/* Another thread's slab: it allocates from its free slots without the lock. */
	owner = HM_TC_LOAD(&s->owner);
	if (owner && owner != self)
		return false;
	f = HM_TC_LOAD(&s->free);
	HM_TC_ASSERT(!(f & ~s->all));
	while (f) {
		unsigned int lo = (unsigned int)__builtin_ctzll(f), hi;
		uint64_t run = f >> lo;
		uintptr_t end;

		hi = lo + (run != ~0ULL ? (unsigned int)__builtin_ctzll(~run) : 64 - lo);
		end = s->base + (uintptr_t)hi * s->bsize;

		if (hi >= s->nslots)
			end = s->base + s->bytes;	/* the unused tail too */
		fn(arg, s->base + (uintptr_t)lo * s->bsize, end);
		if (hi >= 64)
			break;
		f &= ~0ull << hi;
	}
	return true;
}

/* ---- fork() (see heap_fork.c) --------------------------------------------- */

void hm_tc_fork_lock(void)
{
	pthread_mutex_lock(&g_lock);
}

void hm_tc_fork_unlock(void)
{
	pthread_mutex_unlock(&g_lock);
}

void hm_tc_fork_lock_map(void)
{
	pthread_mutex_lock(&map_lock);
}

void hm_tc_fork_unlock_map(void)
{
	pthread_mutex_unlock(&map_lock);
}

static bool tc_is_mine(const struct hm_tcache *tc)
{
	const struct hm_tcache *t;

	for (t = tls_list; t; t = t->t_next)
		if (t == tc)
			return true;
	return false;
}

/*
 * Child, single thread, every lock held: forget @h's slabs (their memory
 * goes with the parent's segments) and its thread caches.  The caches of
 * threads that do not exist in the child are freed; the calling thread's
 * own is marked dead (it sits in its thread list, freed at its exit).  A
 * new uid makes the calling thread create a fresh cache on next use.
 */
void hm_tc_fork_reset(struct hm_heap *h)
{
	struct hm_tcache *tc, *next;

	for (tc = h->tcaches; tc; tc = next) {
		next = tc->h_next;
		if (tc_is_mine(tc)) {
			tc->dead = true;
			tc->heap = NULL;
		} else {
			free(tc);
		}
	}
	h->tcaches = NULL;
	forget_slabs(h);
	h->orphan_bytes = h->orphan_blocks = 0;
	/* Pushes that were in flight in the parent's other threads. */
	HM_TC_STORE(&h->remote_pushing, 0);
	h->limit_sum = 0;
	h->peak_gran = 0;
	if (hm_tls_cur.h == h)
		hm_tls_cur = (struct tc_ref){ 0 };
	h->uid = atomic_fetch_add(&g_uid, 1) + 1;
	hm_tc_set_fast_locked(h, h->front_on);
}
