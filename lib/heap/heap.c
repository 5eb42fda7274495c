// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's lower layer: the instance over the allocator core and a
 * backend that supplies segments, its lock, its growth, release and purge
 * policy, and the allocations and frees made in the core under the lock.
 * The per-thread front end (tcache.c) and the public entry points
 * (heap_api.c) sit above; this file calls neither, and asks the front end
 * what it must know through the hooks in h->front (heap_impl.h).
 *
 * Locking.  One mutex per heap guards the core and the policy state.  It
 * is held only for O(1) core operations (and for bounded batches of an
 * incremental walk), never across a backend call: growth drops the lock
 * around backend->grow(), so other threads keep allocating from the
 * existing segments meanwhile, and releases are made after unlocking.
 * A thread that runs out while a growth is in flight waits for that growth
 * (condition variable) and retries before growing itself, so a burst of
 * failures adds one segment, not one per thread.  Uncontended, an
 * operation costs one lock/unlock pair (two atomic instructions).
 *
 * Backend calls in flight are counted (growing, releasing) so that fork()
 * can wait for them to finish: the child then knows every segment the
 * parent had (heap_fork.c).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap/heap_impl.h"

/* No front end: hooks that do nothing (hm_heap_instance_create()). */
static void no_fast(struct hm_heap *h, bool on)
{
	(void)h;
	(void)on;
}

static void no_peak(struct hm_heap *h)
{
	(void)h;
}

static void no_adjust(struct hm_heap *h, struct hm_core_stats *st)
{
	(void)h;
	(void)st;
}

static bool no_slab(struct hm_heap *h, uintptr_t base,
		    void (*fn)(void *arg, uintptr_t lo, uintptr_t hi), void *arg)
{
	(void)h;
	(void)base;
	(void)fn;
	(void)arg;
	return false;
}

static const struct hm_heap_front_ops no_front = {
	.set_fast_locked = no_fast,
	.peak_check_locked = no_peak,
	.adjust_stats_locked = no_adjust,
	.slab_free_runs_locked = no_slab,
};

struct hm_heap *hm_heap_instance_create(const struct hm_backend_ops *ops, void *ctx)
{
	/* Cache-line aligned: see the layout of struct hm_heap. */
	struct hm_heap *h = aligned_alloc(_Alignof(struct hm_heap), sizeof(*h));

	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->core = hm_core_create();
	if (!h->core) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	hm_grow_gate_init(&h->gate);
	h->ops = ops;
	h->ctx = ctx;
	h->front = &no_front;
	h->grow_min = HM_HEAP_DEFAULT_MIN_GROW;
	h->grow_max = HM_HEAP_DEFAULT_MAX_GROW;
	h->min_grow_bytes = HM_HEAP_DEFAULT_MIN_GROW;
	h->high = UINT_MAX;
	h->cache_limit = SIZE_MAX;
	h->page = (size_t)sysconf(_SC_PAGESIZE);
	if (h->page < 4096 || (h->page & (h->page - 1)))
		h->page = 4096;
	return h;
}

/* Backend descriptor of core segment @seg. */
static int segment_desc(const struct hm_heap *h, unsigned int seg, struct hm_segment_desc *d)
{
	uintptr_t base;
	int err = hm_core_segment(h->core, seg, &base, &d->dev, &d->len, &d->handle);

	d->cpu = (void *)base;
	return err;
}

void hm_heap_instance_destroy(struct hm_heap *h)
{
	struct hm_core_stats st;
	unsigned int s;

	if (!h)
		return;
	/* Every segment goes back, whatever it still holds. */
	hm_core_stats(h->core, &st);
	for (s = 0; st.segments; s++) {
		struct hm_segment_desc d;

		if (segment_desc(h, s, &d))
			continue;
		st.segments--;
		h->ops->release(h->ctx, &d);
	}
	hm_core_destroy(h->core);
	hm_core_destroy(h->fork_spare);
	hm_grow_gate_destroy(&h->gate);
	pthread_mutex_destroy(&h->lock);
	free(h->marker_tag);
	free(h);
}

/* ---- growth ------------------------------------------------------------- */

/*
 * Growth sized to fit (hm_heap_set_fit_growth(), heap_ext.c): the segment
 * that surely holds @request, or the minimum growth if larger, rounded up
 * to 1 MiB and cut to the room left under the capacity; 0: none fits.
 */
static size_t fit_len_locked(struct hm_heap *h, uint64_t request)
{
	size_t need = request > SIZE_MAX ? 0 : hm_core_need((size_t)request, 0), len;

	if (!need || need > SIZE_MAX - HM_HEAP_GROW_ALIGN)
		return 0;
	len = need > h->grow_min ? need : (size_t)h->grow_min;
	len = (len + HM_HEAP_GROW_ALIGN - 1) & ~(size_t)(HM_HEAP_GROW_ALIGN - 1);
	if (h->capacity != SIZE_MAX) {
		struct hm_core_stats st;
		size_t room;

		hm_core_stats(h->core, &st);
		room = h->capacity > st.total_bytes ? h->capacity - (size_t)st.total_bytes : 0;
		if (len > room)
			len = room & ~(size_t)(HM_HEAP_GROW_ALIGN - 1);
		if (len < need)
			return 0;
	}
	return len;
}

/*
 * Segment length for a @request-byte allocation, by the platform's rule.
 * Without HAP_mem_set_grow_size() the heap sizes growth from its history:
 * half of what it already holds, so the number of growth events stays
 * logarithmic in the heap's size, within the default bounds.
 */
static size_t grow_len_locked(struct hm_heap *h, uint64_t request)
{
	uint64_t mgb = h->min_grow_bytes, len;

	if (h->grow_fit)
		return fit_len_locked(h, request);
	if (!h->grow_user_set) {
		struct hm_core_stats st;

		hm_core_stats(h->core, &st);
		mgb = st.total_bytes / 2;
	}
	if (mgb < h->grow_min)
		mgb = h->grow_min;
	if (mgb > h->grow_max)
		mgb = h->grow_max;
	h->min_grow_bytes = mgb;
	if (mgb > UINT64_MAX - request - HM_HEAP_GROW_ALIGN)
		return 0;
	len = (mgb + request + HM_HEAP_GROW_ALIGN - 1) & ~(HM_HEAP_GROW_ALIGN - 1);
	return len > SIZE_MAX || len > HM_CORE_MAX_BLOCK ? 0 : (size_t)len;
}

/*
 * Add one segment big enough for @request bytes.  Called and returns with
 * the lock held; drops it around the backend call.
 */
static int grow_locked(struct hm_heap *h, uint64_t request)
{
	struct hm_segment_desc d;
	size_t len = grow_len_locked(h, request);
	int err, seg;

	if (!len)
		return -ENOMEM;
	hm_grow_gate_begin(&h->gate);
	pthread_mutex_unlock(&h->lock);
	err = h->ops->grow(h->ctx, len, &d);
	if (!err && !d.cpu) {
		/* The HAP heap hands out CPU pointers: it needs a CPU mapping. */
		h->ops->release(h->ctx, &d);
		err = -EINVAL;
	}
	pthread_mutex_lock(&h->lock);
	if (!err) {
		seg = hm_core_add_segment(h->core, (uintptr_t)d.cpu, d.dev, d.len, d.handle);
		if (seg < 0) {
			/* Still counted as growing: fork() waits for this release too. */
			pthread_mutex_unlock(&h->lock);
			h->ops->release(h->ctx, &d);
			pthread_mutex_lock(&h->lock);
			err = seg;
		} else {
			h->grow_events++;
			/* Growing back what a release gave: keep that much next time. */
			if (h->release_events != h->releases_at_grow && d.len > h->release_floor)
				h->release_floor = d.len;
			h->releases_at_grow = h->release_events;
			if (h->slab_starved) {
				h->slab_starved = false;
				h->front->set_fast_locked(h, h->front_on && !h->markers_open);
			}
		}
	}
	hm_grow_gate_end(&h->gate);
	return err;
}

/* The formula's "request": the bytes asked for (a 0-byte request counts as 1). */
static uint64_t grow_request(size_t size, size_t align)
{
	return (size ? size : 1) + (align > HM_CORE_GRANULE ? align - HM_CORE_GRANULE : 0);
}

static bool below_low_locked(const struct hm_heap *h)
{
	return h->low && !hm_grow_gate_busy(&h->gate) && hm_core_largest_free(h->core) < h->low;
}

/* Grow ahead of need: the caller already has its block. */
void hm_heap_pregrow(struct hm_heap *h)
{
	pthread_mutex_lock(&h->lock);
	if (below_low_locked(h) && !grow_locked(h, h->low))
		h->pregrow_events++;
	pthread_mutex_unlock(&h->lock);
}

/* ---- purge: free pages inside segments ---------------------------------- */

/*
 * Segments go back whole; between releases, free pages inside them stay
 * resident.  Before growing, when the heap holds more free bytes than an
 * eighth of its segments (frees happened since it filled up: a growing
 * heap is full when it grows), the heap gives the backend back every page
 * that lies wholly in free memory: in free core blocks and in the free
 * slots of the calling thread's slabs and of orphaned slabs (other
 * threads' slabs are theirs to touch).  Once per growth at most, so a
 * heap that churns at a steady size never purges, and the cost (a walk of
 * the blocks, a backend call per run of free pages) is bounded by the
 * growths, which are logarithmic in the heap's size.
 */
static bool release_policy_on(const struct hm_heap *h);

struct purge {
	struct hm_heap *h;
	unsigned int seg;
	uintptr_t lo, hi;	/* the current run of free bytes */
};

static void purge_flush(struct purge *p)
{
	uintptr_t mask = p->h->page - 1;
	uintptr_t a = (p->lo + mask) & ~mask, b = p->hi & ~mask;

	if (b > a) {
		p->h->ops->discard(p->h->ctx, (void *)a, b - a);
		p->h->discard_calls++;
	}
	p->lo = p->hi = 0;
}

static void purge_range(void *arg, uintptr_t lo, uintptr_t hi)
{
	struct purge *p = arg;

	if (lo != p->hi)
		purge_flush(p);
	if (!p->hi)
		p->lo = lo;
	p->hi = hi;
}

static void purge_visit(const struct hm_block_info *b, void *arg)
{
	struct purge *p = arg;

	if (b->seg != p->seg) {
		purge_flush(p);
		p->seg = b->seg;
	}
	if (b->state != HM_BLOCK_USED)
		purge_range(p, b->addr, b->addr + b->size);
	else
		p->h->front->slab_free_runs_locked(p->h, b->addr, purge_range, p);
}

static void purge_locked(struct hm_heap *h, uint64_t used)
{
	struct hm_core_cursor cur = { 0 };
	struct purge p = { .h = h, .seg = UINT_MAX };

	while (hm_core_walk(h->core, &cur, WALK_BATCH, purge_visit, &p))
		;
	purge_flush(&p);
	h->purge_events++;
	h->freed_since_purge = 0;
	h->purge_used_peak = used;
}

/*
 * Lock held: purge when the heap holds more free bytes than an eighth of
 * its segments, than the minimum growth and than the maximum growth step
 * (32 MiB by default), and, since the last purge, either
 * - the bytes in use fell by that much from their highest (a phase of
 *   frees), or
 * - they fell by more than a 32nd of the heap and the heap allocates
 *   again (@allocating: the end of a phase of frees, whose last frees
 *   the rule before may not have reached; at most one walk per 32nd of
 *   the heap freed, however the bytes in use swing), or
 * - a quarter of the heap went back to the core, an eighth when more than
 *   a third of it is free (churn that leaves freed pages resident while
 *   it touches others: the rarer the purge, the higher RSS climbs between
 *   two, and the more so in a heap that shrank and churns in what is
 *   left).
 * Checked before each growth, after every minimum growth's worth of bytes
 * allocated from the core and after every minimum growth's worth (1 MiB
 * at least) freed to it: a few O(1) counter reads; the walk and the
 * discards only when due.
 */
static void purge_check_locked(struct hm_heap *h, bool allocating)
{
	struct hm_core_stats st;
	uint64_t free_b, floor;

	h->alloc_since_check = 0;
	if (!h->ops->discard || !release_policy_on(h))
		return;
	hm_core_stats(h->core, &st);
	h->front->adjust_stats_locked(h, &st);
	if (st.used_bytes > h->purge_used_peak)
		h->purge_used_peak = st.used_bytes;
	free_b = st.total_bytes - st.used_bytes;
	floor = st.total_bytes / 8 > h->grow_min ? st.total_bytes / 8 : h->grow_min;
	/*
	 * What is purged and used again is faulted back in: a heap holding
	 * less free than its largest growth step keeps it, so that a small
	 * heap whose slabs cycle through the core does not purge at all.
	 */
	if (free_b <= floor || free_b <= h->grow_max)
		return;
	if (h->purge_used_peak - st.used_bytes > floor ||
	    (allocating && h->purge_used_peak - st.used_bytes > st.total_bytes / 32) ||
	    h->freed_since_purge > st.total_bytes / (free_b > st.total_bytes / 3 ? 8 : 4))
		purge_locked(h, st.used_bytes);
}

void hm_heap_purge(struct hm_heap *h)
{
	struct hm_core_stats st;

	pthread_mutex_lock(&h->lock);
	if (h->ops->discard) {
		hm_core_stats(h->core, &st);
		h->front->adjust_stats_locked(h, &st);
		purge_locked(h, st.used_bytes);
	}
	pthread_mutex_unlock(&h->lock);
}

/* Bytes allocated from or freed to the core between two checks. */
static uint64_t purge_step(const struct hm_heap *h)
{
	return h->grow_min > HM_HEAP_GROW_ALIGN ? h->grow_min : HM_HEAP_GROW_ALIGN;
}

void hm_heap_note_freed_locked(struct hm_heap *h, uint64_t bytes)
{
	uint64_t before = h->freed_since_purge, step = purge_step(h);

	h->freed_since_purge += bytes;
	if (before / step != h->freed_since_purge / step)
		purge_check_locked(h, false);
}

/*
 * Allocate from the core, growing when it is full.  Called and returns
 * with the lock held (dropped around a growth).  *low: the caller should
 * pre-grow after unlocking.
 */
int hm_heap_alloc_locked(struct hm_heap *h, size_t size, size_t align,
			 uintptr_t *addr, bool *low)
{
	int err;

	for (;;) {
		err = hm_core_alloc(h->core, size, align, addr);
		if (!err && (h->alloc_since_check += size) >= purge_step(h))
			purge_check_locked(h, true);
		if (err != -ENOMEM)
			break;
		if (hm_grow_gate_wait(&h->gate, &h->lock))
			continue;
		purge_check_locked(h, true);
		/* On success the new segment fits the request, and we still hold the lock. */
		err = grow_locked(h, grow_request(size, align));
		if (err)
			break;
	}
	*low = !err && below_low_locked(h);
	return err;
}

/* An allocation from the core, under the lock. */
int hm_heap_alloc_core(struct hm_heap *h, size_t size, size_t align, void **out)
{
	uintptr_t addr = 0;
	bool low;
	int err;

	*out = NULL;
	if (align & (align - 1))
		return -EINVAL;
	if (size > HM_CORE_MAX_BLOCK || align > HM_CORE_MAX_BLOCK)
		return -ENOMEM;
	pthread_mutex_lock(&h->lock);
	err = hm_heap_alloc_locked(h, size, align, &addr, &low);
	if (!err)
		h->front->peak_check_locked(h);
	pthread_mutex_unlock(&h->lock);
	if (err)
		return err;
	*out = (void *)addr;
	if (low)
		hm_heap_pregrow(h);
	return 0;
}

/* ---- release ------------------------------------------------------------ */

/*
 * Above the high threshold, take fully unused segments out of the core;
 * the caller releases them after unlocking.  A segment whose removal would
 * leave the largest free block below the low threshold is put back and
 * the pass stops: that is the hysteresis that keeps a workload sitting at
 * either threshold from alternating grow and release.
 *
 * Cached blocks keep a segment busy; the cache is flushed for a trim only
 * after a segment's worth of bytes was freed since the last flush, so a
 * heap hovering above @high does not lose its cache on every free.
 */
static unsigned int trim_locked(struct hm_heap *h, struct hm_segment_desc *out)
{
	unsigned int n = 0;

	while (n < TRIM_BATCH && hm_core_largest_free(h->core) > h->high) {
		uintptr_t owner;
		int seg = hm_core_unused_segment(h->core);

		if (seg < 0 && h->freed_since_flush >= HM_HEAP_GROW_ALIGN) {
			hm_core_flush_cache(h->core);
			h->freed_since_flush = 0;
			seg = hm_core_unused_segment(h->core);
		}
		if (seg < 0)
			break;
		segment_desc(h, (unsigned int)seg, &out[n]);
		hm_core_remove_segment(h->core, (unsigned int)seg, &owner);
		if (h->low && hm_core_largest_free(h->core) < h->low) {
			/* Cannot fail: the removal just freed everything it needs. */
			hm_core_add_segment(h->core, (uintptr_t)out[n].cpu, out[n].dev, out[n].len, owner);
			break;
		}
		n++;
	}
	h->release_events += n;
	return n;
}

/*
 * Unlock, then give @n segments (already out of the core) back to the
 * backend.  Counted in @releasing so that fork() waits for them.
 */
static void unlock_release(struct hm_heap *h, const struct hm_segment_desc *d, unsigned int n)
{
	if (!n) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	h->releasing++;
	pthread_mutex_unlock(&h->lock);
	while (n--)
		h->ops->release(h->ctx, &d[n]);
	pthread_mutex_lock(&h->lock);
	if (!--h->releasing && !hm_grow_gate_busy(&h->gate))
		pthread_cond_broadcast(&h->gate.done);
	pthread_mutex_unlock(&h->lock);
}

/* ---- default release policy --------------------------------------------- */

/*
 * Unused segment bytes the default policy keeps: max(min grow size,
 * used / 8, floor).  The floor is the length of a segment grown right
 * after a release (the heap had to take back what it gave): the next
 * time, a segment that size stays.  It halves at each release.
 */
static uint64_t release_reserve(const struct hm_heap *h)
{
	uint64_t r = hm_core_used_bytes(h->core) / 8;

	if (r < h->release_floor)
		r = h->release_floor;
	return r > h->grow_min ? r : h->grow_min;
}

static bool release_policy_on(const struct hm_heap *h)
{
	return h->release_on && !h->thresholds_set;
}

/*
 * Hysteresis: nothing goes back until the unused segments exceed twice
 * the reserve; then they go back down to the reserve.  A workload that
 * grows and shrinks around one segment pays a backend call per reserve's
 * worth of freed bytes at most, not one per free.  Cached blocks keep a
 * segment busy: when the free bytes (unused or not) exceed twice the
 * reserve, the cache is flushed, at most once per 1 MiB freed, or at
 * once while the cache holds more than an eighth of the used bytes (a
 * heap being emptied: each flush empties the cache, so this costs O(1)
 * per free).
 */
/* Cached blocks pin segments: flush them (see release_due_locked()). */
static bool flush_due_locked(const struct hm_heap *h, uint64_t twice)
{
	uint64_t cached = hm_core_cached_bytes(h->core);

	if (!cached || hm_core_free_bytes(h->core) <= twice)
		return false;
	return h->freed_since_flush >= HM_HEAP_GROW_ALIGN ||
	       cached > hm_core_used_bytes(h->core) / 8;
}

static bool release_due_locked(const struct hm_heap *h)
{
	uint64_t twice;

	if (!release_policy_on(h))
		return false;
	twice = 2 * release_reserve(h);
	return hm_core_unused_bytes(h->core) > twice || flush_due_locked(h, twice);
}

static unsigned int release_locked(struct hm_heap *h, struct hm_segment_desc *out)
{
	uint64_t reserve = release_reserve(h);
	unsigned int n = 0;

	if (flush_due_locked(h, 2 * reserve)) {
		hm_core_flush_cache(h->core);
		h->freed_since_flush = 0;
	}
	if (hm_core_unused_bytes(h->core) <= 2 * reserve)
		return 0;
	while (n < TRIM_BATCH && hm_core_unused_bytes(h->core) > reserve) {
		int seg = hm_core_unused_segment(h->core);

		if (seg < 0)
			break;
		segment_desc(h, (unsigned int)seg, &out[n]);
		hm_core_remove_segment(h->core, (unsigned int)seg, NULL);
		n++;
	}
	h->release_events += n;
	if (n)
		h->release_floor /= 2;
	return n;
}

void hm_heap_note_unused_locked(struct hm_heap *h)
{
	uint64_t free_b, unused;

	if (!release_policy_on(h))
		return;
	/*
	 * Free memory the policy cannot give back because segments are
	 * pinned by something else (empty slabs kept by idle threads):
	 * they let them go (the front end reads @idle_release).
	 */
	free_b = hm_core_free_bytes(h->core);
	unused = hm_core_unused_bytes(h->core);
	atomic_store_explicit(&h->idle_release, free_b - unused > 2 * release_reserve(h),
			      memory_order_relaxed);
	if (release_due_locked(h))
		h->trim_due = true;
}

void hm_heap_unlock(struct hm_heap *h)
{
	struct hm_segment_desc rel[TRIM_BATCH];
	unsigned int n = 0;

	if (__builtin_expect(h->trim_due, 0)) {
		h->trim_due = false;
		if (release_due_locked(h))
			n = release_locked(h, rel);
	}
	unlock_release(h, rel, n);
}

/* A free to the core, under the lock; segments made unused go back. */
int hm_heap_free_core(struct hm_heap *h, void *ptr)
{
	struct hm_segment_desc rel[TRIM_BATCH];
	unsigned int n = 0;
	size_t size = 0;
	int err;

	pthread_mutex_lock(&h->lock);
	size = hm_core_used_bytes(h->core);
	err = hm_core_free(h->core, (uintptr_t)ptr);
	if (!err) {
		h->freed_since_flush += size - hm_core_used_bytes(h->core);
		hm_heap_note_freed_locked(h, size - hm_core_used_bytes(h->core));
		if (h->high != UINT_MAX) {
			n = trim_locked(h, rel);
		} else {
			hm_heap_note_unused_locked(h);
			if (h->trim_due) {
				h->trim_due = false;
				n = release_locked(h, rel);
			}
		}
	}
	unlock_release(h, rel, n);
	return err;
}

/* A core block resized in place: -ENOMEM if it cannot grow there; *old: its size. */
int hm_heap_resize_core(struct hm_heap *h, void *ptr, size_t size, size_t *old)
{
	int err;

	pthread_mutex_lock(&h->lock);
	err = hm_core_block_size(h->core, (uintptr_t)ptr, old);
	if (!err)
		err = hm_core_resize(h->core, (uintptr_t)ptr, size);
	if (!err)
		h->front->peak_check_locked(h);
	pthread_mutex_unlock(&h->lock);
	return err;
}

int hm_heap_dev_addr(struct hm_heap *h, const void *ptr, uint64_t *dev)
{
	int err;

	pthread_mutex_lock(&h->lock);
	err = hm_core_dev_addr(h->core, (uintptr_t)ptr, dev);
	pthread_mutex_unlock(&h->lock);
	return err;
}

/* ---- settings and statistics -------------------------------------------- */

int hm_heap_set_grow_size(struct hm_heap *h, uint64_t min, uint64_t max)
{
	pthread_mutex_lock(&h->lock);
	h->grow_min = min;
	h->grow_max = max;
	h->grow_user_set = true;
	/* The platform's rule, applied now so that the stats show it at once. */
	if (h->min_grow_bytes < min)
		h->min_grow_bytes = min;
	if (h->min_grow_bytes > max)
		h->min_grow_bytes = max;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int hm_heap_set_thresholds(struct hm_heap *h, unsigned int low, unsigned int high)
{
	struct hm_segment_desc rel[TRIM_BATCH];
	unsigned int n;
	bool grow;

	if (low >= high)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	h->low = low;
	h->high = high;
	h->thresholds_set = true;	/* the platform's semantics replace the default policy */
	h->freed_since_flush = HM_HEAP_GROW_ALIGN;	/* allow one flush now */
	n = high != UINT_MAX ? trim_locked(h, rel) : 0;
	grow = below_low_locked(h);
	unlock_release(h, rel, n);
	if (grow)
		hm_heap_pregrow(h);
	return 0;
}

void hm_heap_set_cache_limit(struct hm_heap *h, size_t bytes)
{
	pthread_mutex_lock(&h->lock);
	h->cache_limit = bytes;
	hm_core_set_cache_limit(h->core, bytes);
	pthread_mutex_unlock(&h->lock);
}

void hm_heap_set_release(struct hm_heap *h, bool on)
{
	pthread_mutex_lock(&h->lock);
	h->release_on = on;
	h->freed_since_flush = HM_HEAP_GROW_ALIGN;	/* allow one flush now */
	hm_heap_note_unused_locked(h);
	hm_heap_unlock(h);
}

void hm_heap_set_front_end(struct hm_heap *h, bool on)
{
	pthread_mutex_lock(&h->lock);
	h->front_on = on;
	h->front->set_fast_locked(h, h->front_on && !h->markers_open);
	pthread_mutex_unlock(&h->lock);
}

/* The statistics, the front end's slabs counted by their blocks. */
void hm_heap_stats_core(struct hm_heap *h, struct hm_heap_stats *st)
{
	pthread_mutex_lock(&h->lock);
	/* Parked blocks are free memory: report the heap as the user left it. */
	hm_core_flush_cache(h->core);
	hm_core_stats(h->core, &st->core);
	st->peak_footprint_bytes = st->core.peak_used_bytes;
	h->front->adjust_stats_locked(h, &st->core);
	st->min_grow_bytes = h->min_grow_bytes;
	st->grow_events = h->grow_events;
	st->release_events = h->release_events;
	st->pregrow_events = h->pregrow_events;
	st->purge_events = h->purge_events;
	st->discard_calls = h->discard_calls;
	pthread_mutex_unlock(&h->lock);
}

/* ---- walks: markers and the CSV log -------------------------------------- */

struct walk_batch {
	struct hm_block_info b[WALK_BATCH * 2 + 1];	/* free blocks do not count against the budget */
	unsigned int n;
	uint32_t min_tag;		/* markers: report live blocks with tag >= this */
	bool live_only;
};

static void collect(const struct hm_block_info *b, void *arg)
{
	struct walk_batch *w = arg;

	if (w->live_only && (b->state != HM_BLOCK_USED || b->tag < w->min_tag))
		return;
	w->b[w->n++] = *b;
}

/* Walk the heap in batches, calling @emit on each batch outside the lock. */
static void walk(struct hm_heap *h, struct walk_batch *w,
		 void (*emit)(const struct walk_batch *w, void *arg), void *arg)
{
	struct hm_core_cursor cur = { 0 };
	int more;

	do {
		w->n = 0;
		pthread_mutex_lock(&h->lock);
		more = hm_core_walk(h->core, &cur, WALK_BATCH, collect, w);
		pthread_mutex_unlock(&h->lock);
		emit(w, arg);
	} while (more);
}

int hm_heap_marker_start(struct hm_heap *h, uint16_t *instance)
{
	uint32_t i;
	int err = -ENOSPC;

	pthread_mutex_lock(&h->lock);
	if (!h->marker_tag)
		h->marker_tag = calloc(MARKERS, sizeof(*h->marker_tag));
	if (!h->marker_tag) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < MARKERS; i++) {
		uint32_t m = (h->next_marker + i) % MARKERS;

		if (h->marker_tag[m])
			continue;
		/* Blocks allocated from now on carry a tag >= this one. */
		h->marker_tag[m] = ++h->epoch;
		hm_core_set_tag(h->core, h->epoch);
		h->next_marker = m + 1;
		/* Slab blocks carry no tag: allocate from the core while a marker is open. */
		h->markers_open++;
		h->front->set_fast_locked(h, false);
		*instance = (uint16_t)m;
		err = 0;
		break;
	}
out:
	pthread_mutex_unlock(&h->lock);
	return err;
}

struct leak_report {
	FILE *out;
	uint16_t instance;
	int count;
};

static void emit_leaks(const struct walk_batch *w, void *arg)
{
	struct leak_report *r = arg;
	unsigned int i;

	for (i = 0; i < w->n; i++, r->count++)
		if (r->out)
			fprintf(r->out, "hapmem: marker %u: leaked %zu bytes at %p (device 0x%llx)\n",
				r->instance, w->b[i].size, (void *)w->b[i].addr,
				(unsigned long long)w->b[i].dev);
}

int hm_heap_marker_end(struct hm_heap *h, uint16_t instance, FILE *report)
{
	struct leak_report r = { .out = report, .instance = instance };
	struct walk_batch *w = malloc(sizeof(*w));
	uint32_t tag;

	if (!w)
		return -ENOMEM;
	pthread_mutex_lock(&h->lock);
	tag = h->marker_tag ? h->marker_tag[instance] : 0;
	if (tag) {
		h->marker_tag[instance] = 0;
		h->markers_open--;
		h->front->set_fast_locked(h, h->front_on && !h->markers_open);
	}
	pthread_mutex_unlock(&h->lock);
	if (!tag) {
		free(w);
		return -EINVAL;
	}
	*w = (struct walk_batch){ .live_only = true, .min_tag = tag };
	walk(h, w, emit_leaks, &r);
	if (report)
		fprintf(report, "hapmem: marker %u: %d block(s) leaked\n", instance, r.count);
	free(w);
	return r.count;
}

static void emit_csv(const struct walk_batch *w, void *arg)
{
	static const char *const state[] = {
		[HM_BLOCK_FREE] = "free", [HM_BLOCK_USED] = "used", [HM_BLOCK_CACHED] = "cached",
	};
	unsigned int i;

	for (i = 0; i < w->n; i++)
		fprintf(arg, "0x%llx,%zu,%s,%u,0x%llx\n", (unsigned long long)w->b[i].addr,
			w->b[i].size, state[w->b[i].state], w->b[i].seg,
			(unsigned long long)w->b[i].dev);
}

int hm_heap_log_blocks(struct hm_heap *h, FILE *out)
{
	struct walk_batch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	fprintf(out, "address,size,state,segment,device_address\n");
	walk(h, w, emit_csv, out);
	free(w);
	return ferror(out) ? -EIO : 0;
}
