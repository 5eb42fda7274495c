// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's front end: per-thread caches over bitmap slabs.
 *
 * A slab is one 64 KiB block of the core, aligned to 64 KiB, cut into
 * equal slots of one size class (16 B .. 4 KiB, 28 classes).  Its metadata
 * is out of band: a descriptor with a bitmap of free slots, found from any
 * address through a process-wide radix map of 64 KiB chunks.  There is no
 * per-block record.
 *
 * Each slab is owned by one thread's cache (struct hm_tcache).  The owner
 * allocates and frees in it without any lock or atomic read-modify-write:
 *   alloc = size class by table, first set bit of a two-level bitmap;
 *   free  = radix lookup, slot index by reciprocal multiply, bit test/set.
 * A block freed by another thread (a "remote" free) is recorded under the
 * heap lock in the slab's remote bitmap and the slab is queued for its
 * owner, which takes the slots back (under the lock) when it runs dry.
 * When a thread exits its slabs are drained and either released or left
 * "orphaned": frees into an orphan are then made under the heap lock.
 *
 * Invariant checks stay on: a free of a slot whose free bit or remote bit
 * is set is a double free (-EINVAL), an address inside a slab that is not
 * a slot start is -EINVAL, whichever thread frees.
 *
 * Statistics stay O(1) per operation and exact when no operation runs
 * concurrently with the query: each cache keeps its own byte and block
 * counts (single writer, read under the heap lock by hm_heap_stats()).
 * The core's peak counts every slab whole, so with the front end the peak
 * is an upper bound (by at most the free slots of the slabs at that time).
 *
 * Lock order: g_lock (thread/heap registry) before a heap's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap/tcache.h"

const uint16_t hm_class_size[NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584, 4096,
};
uint8_t hm_class_of[MAX_SMALL / 16 + 1];
_Atomic(_Atomic(struct hm_slab *) *) hm_slab_map[1u << L1_BITS];
__thread struct tc_ref hm_tls_cur __attribute__((tls_model("initial-exec")));
static __thread struct hm_tcache *tls_list __attribute__((tls_model("initial-exec")));

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static atomic_uint_fast64_t g_uid;

/* ---- radix map ------------------------------------------------------------ */

/* Heap lock held.  Second-level nodes are created under map_lock, a leaf lock. */
static int slab_map_set(uintptr_t base, struct hm_slab *s)
{
	_Atomic(struct hm_slab *) *l2;
	unsigned int i1 = (unsigned int)(base >> (SLAB_SHIFT + L2_BITS));

	if (base >> 47)
		return -EINVAL;
	l2 = atomic_load_explicit(&hm_slab_map[i1], memory_order_acquire);
	if (!l2) {
		void *m;

		pthread_mutex_lock(&map_lock);
		l2 = atomic_load_explicit(&hm_slab_map[i1], memory_order_acquire);
		if (!l2) {
			/* Never freed: lock-free readers may hold it. Zero pages cost nothing. */
			m = mmap(NULL, sizeof(*l2) << L2_BITS, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (m != MAP_FAILED) {
				l2 = m;
				atomic_store_explicit(&hm_slab_map[i1], l2, memory_order_release);
			}
		}
		pthread_mutex_unlock(&map_lock);
		if (!l2)
			return -ENOMEM;
	}
	atomic_store_explicit(&l2[(base >> SLAB_SHIFT) & ((1u << L2_BITS) - 1)], s,
			      memory_order_release);
	return 0;
}

/* ---- registry of thread caches ------------------------------------------- */

static void thread_exit(void *arg);

static void g_init(void)
{
	unsigned int c = 0, i;

	pthread_key_create(&g_key, thread_exit);
	for (i = 0; i <= MAX_SMALL / 16; i++) {
		while (hm_class_size[c] < i * 16)
			c++;
		hm_class_of[i] = (uint8_t)c;
	}
}

void hm_tc_heap_init(struct hm_heap *h)
{
	pthread_once(&g_once, g_init);
	h->uid = atomic_fetch_add(&g_uid, 1) + 1;
}

static void part_unlink(struct hm_tcache *tc, struct hm_slab *s)
{
	if (s->part_prev)
		s->part_prev->part_next = s->part_next;
	else
		tc->partial[s->cls] = s->part_next;
	if (s->part_next)
		s->part_next->part_prev = s->part_prev;
	s->on_partial = false;
}

void hm_tc_part_push(struct hm_tcache *tc, struct hm_slab *s)
{
	s->part_prev = NULL;
	s->part_next = tc->partial[s->cls];
	if (s->part_next)
		s->part_next->part_prev = s;
	tc->partial[s->cls] = s;
	s->on_partial = true;
}

/* Give an empty slab back to the core.  Heap lock held; owner-side lists already clean. */
static void slab_release_locked(struct hm_heap *h, struct hm_slab *s)
{
	slab_map_set(s->base, NULL);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		h->slabs = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	hm_core_free(h->core, s->base);
	h->nslabs--;
	STORE(&s->owner, NULL);
	s->heap = NULL;
	s->all_next = h->slab_pool;
	h->slab_pool = s;
}

/* Owner: drop @s from its lists and release it (it is empty). */
void hm_tc_retire(struct hm_tcache *tc, struct hm_slab *s)
{
	struct hm_heap *h = tc->heap;

	if (s->on_partial)
		part_unlink(tc, s);
	if (tc->active[s->cls] == s)
		tc->active[s->cls] = NULL;
	if (s->own_prev)
		s->own_prev->own_next = s->own_next;
	else
		tc->owned = s->own_next;
	if (s->own_next)
		s->own_next->own_prev = s->own_prev;
	pthread_mutex_lock(&h->lock);
	slab_release_locked(h, s);
	pthread_mutex_unlock(&h->lock);
}

/* Owner, heap lock held: take back the slots other threads freed. */
static void drain_locked(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s;

	while ((s = LOAD(&tc->pending)) != NULL) {
		uint64_t bytes = (uint64_t)s->remote_count * s->bsize;
		unsigned int w;

		STORE(&tc->pending, s->pend_next);
		s->on_pending = false;
		for (w = 0; w < SLAB_WORDS; w++) {
			uint64_t r = LOAD(&s->remote[w]);

			if (!r)
				continue;
			/* Free bit first, then remote bit: a racing double free sees one of them. */
			STORE(&s->free[w], LOAD(&s->free[w]) | r);
			s->summary |= 1ull << w;
			STORE(&s->remote[w], 0);
		}
		s->nfree += s->remote_count;
		STORE(&tc->live[s->cls], LOAD(&tc->live[s->cls]) - s->remote_count);
		h->remote_bytes -= bytes;
		h->remote_blocks -= s->remote_count;
		s->remote_count = 0;
		if (tc->active[s->cls] != s && !s->on_partial)
			hm_tc_part_push(tc, s);
	}
}

/* Thread exit or heap change: hand every slab back or orphan it. Heap lock held. */
static void detach_locked(struct hm_tcache *tc)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s, *next;
	unsigned int w;

	drain_locked(tc);
	for (s = tc->owned; s; s = next) {
		next = s->own_next;
		s->on_partial = false;
		if (s->nfree == s->nslots) {
			slab_release_locked(h, s);
			continue;
		}
		h->orphan_bytes += (uint64_t)(s->nslots - s->nfree) * s->bsize;
		h->orphan_blocks += s->nslots - s->nfree;
		STORE(&s->owner, NULL);
	}
	tc->owned = NULL;
	memset(tc->active, 0, sizeof(tc->active));
	memset(tc->partial, 0, sizeof(tc->partial));
	for (w = 0; w < NCLASSES; w++)
		STORE(&tc->live[w], 0);
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
			pthread_mutex_unlock(&tc->heap->lock);
		}
		free(tc);
	}
	tls_list = NULL;
	hm_tls_cur = (struct tc_ref){ 0 };
	pthread_mutex_unlock(&g_lock);
}

void hm_tc_heap_destroy(struct hm_heap *h)
{
	struct hm_tcache *tc;
	struct hm_slab *s;

	pthread_mutex_lock(&g_lock);
	for (tc = h->tcaches; tc; tc = tc->h_next) {
		tc->dead = true;	/* freed by its thread, at exit */
		tc->heap = NULL;
	}
	pthread_mutex_unlock(&g_lock);
	while ((s = h->slabs) != NULL) {
		h->slabs = s->all_next;
		slab_map_set(s->base, NULL);
		free(s);
	}
	while ((s = h->slab_pool) != NULL) {
		h->slab_pool = s->all_next;
		free(s);
	}
}

/* The calling thread's cache for @h, created on first use; NULL on ENOMEM. */
struct hm_tcache *hm_tc_slow(struct hm_heap *h)
{
	struct hm_tcache *tc;

	pthread_mutex_lock(&g_lock);
	for (tc = tls_list; tc; tc = tc->t_next)
		if (!tc->dead && tc->uid == h->uid)
			break;
	if (!tc && (tc = calloc(1, sizeof(*tc))) != NULL) {
		tc->heap = h;
		tc->uid = h->uid;
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

/* A fresh slab of class @cls for @tc, or NULL. */
static struct hm_slab *slab_new(struct hm_tcache *tc, unsigned int cls)
{
	struct hm_heap *h = tc->heap;
	struct hm_slab *s;
	uintptr_t base;
	unsigned int w, n;
	bool low = false;

	pthread_mutex_lock(&h->lock);
	s = h->slab_pool;
	if (s)
		h->slab_pool = s->all_next;
	pthread_mutex_unlock(&h->lock);
	if (!s && !(s = malloc(sizeof(*s))))
		return NULL;
	pthread_mutex_lock(&h->lock);
	if (hm_heap_alloc_locked(h, SLAB_SIZE, SLAB_SIZE, &base, &low)) {
		s->all_next = h->slab_pool;
		h->slab_pool = s;
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->heap = h;
	s->cls = (uint8_t)cls;
	s->bsize = hm_class_size[cls];
	s->nslots = (uint32_t)(SLAB_SIZE / s->bsize);
	s->recip = (uint32_t)(((1ull << 32) + s->bsize - 1) / s->bsize);
	s->nfree = s->nslots;
	for (w = 0, n = s->nslots; n; w++) {
		unsigned int k = n < 64 ? n : 64;

		STORE(&s->free[w], k == 64 ? ~0ull : (1ull << k) - 1);
		s->summary |= 1ull << w;
		n -= k;
	}
	STORE(&s->owner, tc);
	s->own_next = tc->owned;
	if (s->own_next)
		s->own_next->own_prev = s;
	tc->owned = s;
	s->all_next = h->slabs;
	if (s->all_next)
		s->all_next->all_prev = s;
	h->slabs = s;
	h->nslabs++;
	slab_map_set(base, s);
	pthread_mutex_unlock(&h->lock);
	if (low)
		hm_heap_pregrow(h);
	return s;
}

/* The active slab of @cls ran dry: next partial slab, remote frees, or a new slab. */
struct hm_slab *hm_tc_refill(struct hm_tcache *tc, unsigned int cls)
{
	struct hm_slab *s = tc->partial[cls];

	if (!s && LOAD(&tc->pending)) {
		pthread_mutex_lock(&tc->heap->lock);
		drain_locked(tc);
		pthread_mutex_unlock(&tc->heap->lock);
		s = tc->partial[cls];
		if (!s && tc->active[cls] && tc->active[cls]->summary)
			return tc->active[cls];
	}
	if (s)
		part_unlink(tc, s);
	else if (!(s = slab_new(tc, cls)))
		return NULL;
	tc->active[cls] = s;
	return s;
}

/* ---- free ----------------------------------------------------------------- */

/* Free by a thread that does not own the slab. */
int hm_tc_free_remote(struct hm_heap *h, struct hm_slab *s, unsigned int w, uint64_t bit)
{
	struct hm_tcache *owner;
	int err = 0;

	pthread_mutex_lock(&h->lock);
	owner = LOAD(&s->owner);
	if ((LOAD(&s->free[w]) | LOAD(&s->remote[w])) & bit) {
		err = -EINVAL;		/* double free */
	} else if (!owner) {
		STORE(&s->free[w], LOAD(&s->free[w]) | bit);
		s->nfree++;
		h->orphan_bytes -= s->bsize;
		h->orphan_blocks--;
		if (s->nfree == s->nslots)
			slab_release_locked(h, s);
	} else {
		STORE(&s->remote[w], LOAD(&s->remote[w]) | bit);
		s->remote_count++;
		h->remote_bytes += s->bsize;
		h->remote_blocks++;
		if (!s->on_pending) {
			s->on_pending = true;
			s->pend_next = LOAD(&owner->pending);
			STORE(&owner->pending, s);
		}
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

int hm_tc_block_size(struct hm_heap *h, const void *ptr, size_t *size)
{
	uintptr_t addr = (uintptr_t)ptr;
	struct hm_slab *s = hm_slab_lookup(addr);
	long idx;

	if (!s)
		return -ENOENT;
	if (s->heap != h)
		return -EFAULT;
	idx = hm_slot_of(s, addr);
	if (idx < 0 || ((LOAD(&s->free[idx >> 6]) | LOAD(&s->remote[idx >> 6])) &
			(1ull << (idx & 63))))
		return -EINVAL;
	*size = s->bsize;
	return 0;
}

/* ---- statistics and trimming ---------------------------------------------- */

void hm_tc_adjust_stats_locked(struct hm_heap *h, struct hm_core_stats *st)
{
	uint64_t bytes = h->orphan_bytes, blocks = h->orphan_blocks;
	struct hm_tcache *tc;

	if (!h->nslabs)
		return;
	for (tc = h->tcaches; tc; tc = tc->h_next) {
		unsigned int c;

		for (c = 0; c < NCLASSES; c++) {
			uint64_t n = LOAD(&tc->live[c]);

			bytes += n * hm_class_size[c];
			blocks += n;
		}
	}
	bytes -= h->remote_bytes;
	blocks -= h->remote_blocks;
	/* The core counts each slab as one live block of SLAB_SIZE. */
	st->used_bytes = st->used_bytes - h->nslabs * SLAB_SIZE + bytes;
	st->free_bytes = st->total_bytes - st->used_bytes;
	st->live_blocks = (uint32_t)(st->live_blocks - h->nslabs + blocks);
}

void hm_tc_trim_self(struct hm_heap *h)
{
	struct hm_tcache *tc;
	struct hm_slab *s, *next;

	if (hm_tls_cur.uid != h->uid)
		return;
	tc = hm_tls_cur.tc;
	if (LOAD(&tc->pending)) {
		pthread_mutex_lock(&h->lock);
		drain_locked(tc);
		pthread_mutex_unlock(&h->lock);
	}
	for (s = tc->owned; s; s = next) {
		next = s->own_next;
		if (s->nfree == s->nslots)
			hm_tc_retire(tc, s);
	}
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
	struct hm_slab *s;

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
	while ((s = h->slabs) != NULL) {
		h->slabs = s->all_next;
		slab_map_set(s->base, NULL);
		free(s);
	}
	while ((s = h->slab_pool) != NULL) {
		h->slab_pool = s->all_next;
		free(s);
	}
	h->nslabs = 0;
	h->orphan_bytes = h->orphan_blocks = 0;
	h->remote_bytes = h->remote_blocks = 0;
	if (hm_tls_cur.h == h)
		hm_tls_cur = (struct tc_ref){ 0 };
	h->uid = atomic_fetch_add(&g_uid, 1) + 1;
}
