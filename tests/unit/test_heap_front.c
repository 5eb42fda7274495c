// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's per-thread front end (lib/heap/tcache.c): slab blocks,
 * their invariant checks, exact statistics, frees from other threads,
 * thread exit (orphaned slabs), markers bypassing it, and a threaded
 * producer/consumer run with content checks; slab sizing by class, the
 * fast path's checks, borrowing from the next classes, a heap at its
 * backend's limit (front end off until it grows), far borrowing while
 * free slots are stranded, and the spare empty
 * slabs a cache keeps (hysteresis) and when they go back.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"
#include "heap/tcache.h"	/* slab geometry: h->slab_bytes, class sizes */

FIXTURE(front) {
	void *ctx;
	struct hm_heap *h;
};

FIXTURE_SETUP(front)
{
	self->ctx = hm_backend_host_ctx_new();
	ASSERT_NE(NULL, self->ctx);
	self->h = hm_heap_create(&hm_backend_host, self->ctx);
	ASSERT_NE(NULL, self->h);
	hm_heap_set_front_end(self->h, true);
}

FIXTURE_TEARDOWN(front)
{
	hm_heap_destroy(self->h);
	EXPECT_EQ(0, host_counters(self->ctx).live_segments);
	hm_backend_host_ctx_free(self->ctx);
}

TEST_F(front, blocks_stats_and_bad_frees)
{
	void *p[100];
	int local, i;
	struct hm_heap_stats st;

	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, hm_heap_alloc(self->h, 1 + (size_t)i * 40, 0, &p[i]));
		EXPECT_EQ(0, (uintptr_t)p[i] % 16);
		memset(p[i], i, 1 + (size_t)i * 40);
	}
	st = heap_stats(self->h);
	EXPECT_EQ(100, st.core.live_blocks);
	for (i = 0; i < 100; i++) {
		void *q;

		/* Within its class a slab block stays; past it, it moves with its content. */
		ASSERT_EQ(0, hm_heap_realloc(self->h, p[i], 1, &q));
		EXPECT_EQ(p[i], q);
		ASSERT_EQ(0, hm_heap_realloc(self->h, p[i], 5000, &q));
		EXPECT_NE(p[i], q);
		p[i] = q;
		EXPECT_EQ((unsigned char)i, *(unsigned char *)q);
	}
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, (char *)p[5] + 16));	/* interior (core) */
	EXPECT_EQ(-EFAULT, hm_heap_free(self->h, &local));		/* foreign */
	for (i = 0; i < 100; i++)
		EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[7]));		/* double free */
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(st.core.total_bytes, st.core.free_bytes);
	EXPECT_EQ(st.core.segments, st.core.segments_free);	/* empty slabs went back */
}

TEST_F(front, used_bytes_are_class_sizes)
{
	void *a, *b, *c;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 1, 0, &a));		/* 16 */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 129, 0, &b));	/* 144 */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 4000, 0, &c));	/* 4096 */
	EXPECT_EQ(16 + 144 + 4096, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(3, heap_stats(self->h).core.live_blocks);
	EXPECT_EQ(0, hm_heap_free(self->h, b));
	EXPECT_EQ(16 + 4096, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	EXPECT_EQ(0, hm_heap_free(self->h, c));
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
}

/* Blocks allocated by one thread, freed by another (and twice). */
struct remote {
	struct hm_heap *h;
	void **p;
	int n;
	int errors, doubles;
};

static void *free_them(void *arg)
{
	struct remote *r = arg;
	int i;

	for (i = 0; i < r->n; i++)
		r->errors += hm_heap_free(r->h, r->p[i]) != 0;
	for (i = 0; i < r->n; i += 10)
		r->doubles += hm_heap_free(r->h, r->p[i]) == -EINVAL;
	return NULL;
}

static void *alloc_them(void *arg)
{
	struct remote *r = arg;
	int i;

	for (i = 0; i < r->n; i++) {
		r->errors += hm_heap_alloc(r->h, 8 + (size_t)(i % 300), 0, &r->p[i]) != 0;
		memset(r->p[i], 0x5a, 8);
	}
	return NULL;	/* exits with its slabs full: they are orphaned */
}

TEST_F(front, remote_frees_and_thread_exit)
{
	static void *p[3000];
	struct remote r = { .h = self->h, .p = p, .n = 3000 };
	struct hm_heap_stats st;
	pthread_t t;
	int i;

	/* Main thread allocates, another frees: remote path, then drained. */
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 24, 0, &p[i]));
	ASSERT_EQ(0, pthread_create(&t, NULL, free_them, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(300, r.doubles);
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(0, st.core.live_blocks);
	/* The slots come back to their owner. */
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 24, 0, &p[i]));
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));

	/* Another thread allocates and exits; its slabs are orphans we free into. */
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_them, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(3000, heap_stats(self->h).core.live_blocks);
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[0]));
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(st.core.segments, st.core.segments_free);
}

TEST_F(front, markers_bypass_the_front_end)
{
	void *before, *during;
	uint16_t m;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &before));
	ASSERT_EQ(0, hm_heap_marker_start(self->h, &m));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &during));
	EXPECT_EQ(1, hm_heap_marker_end(self->h, m, f));
	fclose(f);
	EXPECT_NE(NULL, strstr(text, "leaked 32 bytes"));
	free(text);
	EXPECT_EQ(0, hm_heap_free(self->h, during));
	EXPECT_EQ(0, hm_heap_free(self->h, before));
}

/* Producer/consumer pairs: every block crosses threads, content checked. */
#define PAIRS	2
#define RING	256
#define ITEMS	30000

struct ring {
	struct hm_heap *h;
	void *_Atomic slot[RING];
	size_t size[RING];
	int errors;
};

static void *produce(void *arg)
{
	struct ring *r = arg;
	unsigned int i;

	for (i = 0; i < ITEMS; i++) {
		unsigned int k = i % RING;
		size_t size = 1 + (i * 2654435761u) % 4096;
		void *p;

		while (atomic_load(&r->slot[k]))
			sched_yield();
		if (hm_heap_alloc(r->h, size, 0, &p)) {
			r->errors++;
			continue;
		}
		memset(p, (int)(k & 0xff), size);
		r->size[k] = size;
		atomic_store(&r->slot[k], p);
	}
	return NULL;
}

static void *consume(void *arg)
{
	struct ring *r = arg;
	unsigned int i;

	for (i = 0; i < ITEMS; i++) {
		unsigned int k = i % RING;
		unsigned char *p;
		size_t j;

		while (!(p = atomic_load(&r->slot[k])))
			sched_yield();
		for (j = 0; j < r->size[k]; j++)
			if (p[j] != (k & 0xff)) {
				r->errors++;
				break;
			}
		r->errors += hm_heap_free(r->h, p) != 0;
		atomic_store(&r->slot[k], NULL);
	}
	return NULL;
}

TEST_F(front, producers_and_consumers)
{
	static struct ring rings[PAIRS];
	pthread_t t[2 * PAIRS];
	struct hm_heap_stats st;
	int i;

	for (i = 0; i < PAIRS; i++) {
		memset(&rings[i], 0, sizeof(rings[i]));
		rings[i].h = self->h;
		ASSERT_EQ(0, pthread_create(&t[2 * i], NULL, produce, &rings[i]));
		ASSERT_EQ(0, pthread_create(&t[2 * i + 1], NULL, consume, &rings[i]));
	}
	for (i = 0; i < 2 * PAIRS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < PAIRS; i++)
		EXPECT_EQ(0, rings[i].errors);
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(0, st.core.used_bytes);
}

/* Slabs are sized per class: 64 slots of 16 B in 1 KiB; 16 slots of 4 KiB. */
TEST_F(front, slab_sizing_and_peak)
{
	void *a, *b;
	struct hm_heap_stats st;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 1, 0, &a));
	EXPECT_EQ(1024, self->h->slab_bytes);
	/* The peak counts class sizes; the footprint's peak counts the slab whole. */
	st = heap_stats(self->h);
	EXPECT_EQ(16, st.core.used_bytes);
	EXPECT_EQ(16, st.core.peak_used_bytes);
	EXPECT_EQ(1024, st.peak_footprint_bytes);
	ASSERT_EQ(0, hm_heap_alloc(self->h, 4000, 0, &b));
	EXPECT_EQ(1024 + 16 * 4096, self->h->slab_bytes);
	st = heap_stats(self->h);
	EXPECT_EQ(16 + 4096, st.core.peak_used_bytes);
	EXPECT_EQ(1024 + 16 * 4096, st.peak_footprint_bytes);
	EXPECT_EQ(0, hm_heap_free(self->h, b));
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	heap_stats(self->h);	/* releases the caller's empty active slabs */
	EXPECT_EQ(0, self->h->slab_bytes);
	EXPECT_EQ(0, self->h->nslabs);
}

/* Every check of the lock-free free path, in the owner thread. */
TEST_F(front, fast_free_checks)
{
	void *p[64], *q;
	int i;

	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 48, 0, &p[i]));
	/* One 3 KiB slab: slots 48 B apart, in order. */
	for (i = 1; i < 64; i++)
		ASSERT_EQ((char *)p[0] + 48 * i, (char *)p[i]);
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, (char *)p[3] + 16));	/* not a slot start */
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, (char *)p[3] + 1));
	EXPECT_EQ(0, hm_heap_free(self->h, p[3]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[3]));		/* double free */
	EXPECT_EQ(63, heap_stats(self->h).core.live_blocks);
	ASSERT_EQ(0, hm_heap_alloc(self->h, 40, 0, &q));		/* the freed slot again */
	EXPECT_EQ(p[3], q);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[0]));
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
}

/* A class without a partly used slab takes a slot of the next classes'. */
TEST_F(front, borrowing_from_the_next_class)
{
	void *p[65], *q, *r;
	size_t size;
	int i, n = 0;

	/* 144-B class: fill its first slab (64 slots), start a second, free a slot of the first. */
	for (i = 0; i < 65; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 144, 0, &p[i]));
	EXPECT_EQ(0, hm_heap_free(self->h, p[5]));
	/* The 128-B class has no slab yet: it takes the 144-B partial slab's slot. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 128, 0, &q));
	EXPECT_EQ(p[5], q);
	/* Its size is its slot's, for realloc and statistics. */
	ASSERT_EQ(0, hm_heap_realloc(self->h, q, 144, &r));
	EXPECT_EQ(q, r);
	for (i = 0; i < 65; i++)
		if (i != 5)
			n += hm_heap_free(self->h, p[i]) == 0;
	EXPECT_EQ(64, n);
	EXPECT_EQ(144, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, q));
	EXPECT_EQ(-EINVAL, hm_tc_block_size(self->h, p[0], &size));	/* freed */
	heap_stats(self->h);
	EXPECT_EQ(0, self->h->nslabs);
}

/* 1 KiB blocks: 16 to a 16 KiB slab.  Allocates @n slabs' worth, slab by slab. */
static void fill_1k(struct __test_metadata *_metadata, struct hm_heap *h, void **p, int n)
{
	int i;

	for (i = 0; i < 16 * n; i++) {
		ASSERT_EQ(0, hm_heap_alloc(h, 1024, 0, &p[i]));
		memset(p[i], 0x5a, 1024);
		/* Slab k holds blocks 16k .. 16k + 15. */
		ASSERT_EQ(hm_slab_lookup((uintptr_t)p[i - i % 16]), hm_slab_lookup((uintptr_t)p[i]));
	}
}

static void free_slab(struct __test_metadata *_metadata, struct hm_heap *h, void **p, int k)
{
	int i;

	for (i = 16 * k; i < 16 * k + 16; i++)
		ASSERT_EQ(0, hm_heap_free(h, p[i]));
}

/* An emptied slab is kept as a spare, and the class takes it back without a new slab. */
TEST_F(front, emptied_slab_kept_as_spare)
{
	static void *p[16 * 3];
	struct hm_slab *a;
	struct hm_tcache *tc;
	void *q;
	int i;

	fill_1k(_metadata, self->h, p, 3);	/* slabs 0 and 1 full, 2 active and dry */
	tc = hm_tls_cur.tc;
	ASSERT_EQ(3, self->h->nslabs);
	a = hm_slab_lookup((uintptr_t)p[0]);
	free_slab(_metadata, self->h, p, 0);
	/* Not given back: the cache keeps it, empty, off the partial list. */
	EXPECT_EQ(3, self->h->nslabs);
	EXPECT_EQ(1, tc->nspare);
	EXPECT_EQ(a, tc->spare);
	EXPECT_EQ(SLAB_SPARE, a->state);
	EXPECT_EQ(NULL, tc->bin[hm_class_of[1024 / 16]].partial);
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[3]));	/* still a double free */
	/* The active slab is dry and there is no partial one: the spare comes back. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1000, 0, &q));
	EXPECT_EQ(p[0], q);
	EXPECT_EQ(3, self->h->nslabs);
	EXPECT_EQ(0, tc->nspare);
	EXPECT_EQ(SLAB_ACTIVE, a->state);
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	for (i = 16; i < 48; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
}

/*
 * At most HM_TC_SPARES are kept: the next emptied slab sends them back
 * together; a new slab of another class, and a trim, send them back too.
 */
TEST_F(front, spares_go_back_together)
{
	static void *p[16 * (HM_TC_SPARES + 2)];
	struct hm_tcache *tc;
	void *q;
	int k;

	fill_1k(_metadata, self->h, p, HM_TC_SPARES + 2);
	tc = hm_tls_cur.tc;
	ASSERT_EQ(HM_TC_SPARES + 2, self->h->nslabs);
	for (k = 0; k < (int)HM_TC_SPARES; k++)
		free_slab(_metadata, self->h, p, k);
	EXPECT_EQ(HM_TC_SPARES, tc->nspare);
	EXPECT_EQ(HM_TC_SPARES + 2, self->h->nslabs);
	/* One more: the kept ones go, the newest stays. */
	free_slab(_metadata, self->h, p, HM_TC_SPARES);
	EXPECT_EQ(1, tc->nspare);
	EXPECT_EQ(hm_slab_lookup((uintptr_t)p[16 * HM_TC_SPARES]), tc->spare);
	EXPECT_EQ(2, self->h->nslabs);
	EXPECT_EQ(2 * 16384, self->h->slab_bytes);
	/* A slab of another class comes from the core: the spare goes first. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 100, 0, &q));
	EXPECT_EQ(0, tc->nspare);
	EXPECT_EQ(NULL, tc->spare);
	EXPECT_EQ(2, self->h->nslabs);
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	/* The statistics' trim sends spares and empty active slabs back. */
	free_slab(_metadata, self->h, p, HM_TC_SPARES + 1);
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
	EXPECT_EQ(0, tc->nspare);
	EXPECT_EQ(0, self->h->nslabs);
	EXPECT_EQ(0, self->h->slab_bytes);
}

/* With the front end off (or markers open) an emptied slab goes back at once, spares with it. */
TEST_F(front, no_spares_when_the_front_end_is_off)
{
	static void *p[16 * 4];
	struct hm_tcache *tc;

	fill_1k(_metadata, self->h, p, 4);
	tc = hm_tls_cur.tc;
	free_slab(_metadata, self->h, p, 0);
	EXPECT_EQ(1, tc->nspare);
	hm_heap_set_front_end(self->h, false);
	free_slab(_metadata, self->h, p, 1);
	EXPECT_EQ(0, tc->nspare);
	EXPECT_EQ(2, self->h->nslabs);
	free_slab(_metadata, self->h, p, 2);
	free_slab(_metadata, self->h, p, 3);
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(0, self->h->nslabs);
}

/* A thread that exits with spares gives them back. */
static void *spares_then_exit(void *arg)
{
	struct hm_heap *h = arg;
	void *p[32];
	int i;

	for (i = 0; i < 32; i++)
		if (hm_heap_alloc(h, 1024, 0, &p[i]))
			return (void *)1;
	for (i = 0; i < 16; i++)
		if (hm_heap_free(h, p[i]))
			return (void *)2;
	if (hm_tls_cur.tc->nspare != 1)
		return (void *)3;
	for (i = 16; i < 32; i++)
		if (hm_heap_free(h, p[i]))
			return (void *)4;
	return NULL;
}

TEST_F(front, thread_exit_releases_spares)
{
	pthread_t t;
	void *ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, spares_then_exit, self->h));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ(0, self->h->nslabs);
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
}

/*
 * Far borrowing: while the cache's free slots exceed 1/16 of its live
 * bytes, a class with no partly used slab takes a slot of a class up to a
 * doubling larger; otherwise only the next two classes' slots, then a new
 * slab.
 */
TEST_F(front, far_borrowing_only_with_stranded_slots)
{
	static void *p[32];
	struct hm_slab *s0;
	void *q, *r;
	int i;

	/* 1 KiB slabs: slab 0 keeps one block, its other 15 slots are free. */
	fill_1k(_metadata, self->h, p, 2);
	s0 = hm_slab_lookup((uintptr_t)p[0]);
	for (i = 1; i < 16; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_NE(0, hm_tls_cur.tc->partial_mask & (1ull << s0->cls));
	/* 700 B is four classes below 1 KiB: taken from slab 0, no new slab. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 700, 0, &q));
	EXPECT_EQ(s0, hm_slab_lookup((uintptr_t)q));
	EXPECT_EQ(2, self->h->nslabs);
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	EXPECT_EQ(17, heap_stats(self->h).core.live_blocks);
	for (i = 0; i < 32; i++)
		if (i == 0 || i >= 16)
			ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	heap_stats(self->h);
	ASSERT_EQ(0, self->h->nslabs);

	/* One free slot among 31 live blocks: below the slack bound. */
	fill_1k(_metadata, self->h, p, 2);
	s0 = hm_slab_lookup((uintptr_t)p[0]);
	ASSERT_EQ(0, hm_heap_free(self->h, p[7]));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 700, 0, &q));
	EXPECT_NE(s0, hm_slab_lookup((uintptr_t)q));
	EXPECT_EQ(3, self->h->nslabs);
	/* The next class but one still borrows: 960 B takes slab 0's slot. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 960, 0, &r));
	EXPECT_EQ(p[7], r);
	EXPECT_EQ(0, hm_tls_cur.tc->partial_mask & (1ull << s0->cls));
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	EXPECT_EQ(0, hm_heap_free(self->h, r));
	for (i = 0; i < 32; i++)
		if (i != 7)
			ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
}

/*
 * Random churn through every front-end path (refills, spares, near and far
 * borrowing, new slabs, releases) with each block's content checked, and
 * the statistics exact throughout.
 */
TEST_F(front, random_churn_keeps_contents)
{
	enum { SLOTS = 3000, OPS = 300000 };
	static void *p[SLOTS];
	static uint32_t len[SLOTS];
	uint64_t seed = 5;
	unsigned int i, live = 0, bad = 0, spares_seen = 0;
	struct hm_heap_stats st;

	for (i = 0; i < OPS; i++) {
		unsigned int v, k;
		size_t usable;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		v = (unsigned int)(seed >> 33) % SLOTS;
		if (p[v]) {
			unsigned char *b = p[v];

			for (k = 0; k + 1 < len[v]; k += 61)
				bad += b[k] != (unsigned char)(v + k);
			bad += b[len[v] - 1] != (unsigned char)v;
			ASSERT_EQ(0, hm_heap_free(self->h, p[v]));
			p[v] = NULL;
			live--;
		} else {
			/* Log-spread sizes: up to 256 B or up to 4 KiB, in alternating phases. */
			unsigned int bits = 1 + (unsigned int)(seed >> 20) % (((i >> 14) & 1) ? 12 : 8);
			unsigned char *b;

			len[v] = 1 + (uint32_t)((seed >> 40) & ((1u << bits) - 1));
			ASSERT_EQ(0, hm_heap_alloc(self->h, len[v], 0, &p[v]));
			ASSERT_EQ(0, hm_tc_block_size(self->h, p[v], &usable));
			ASSERT_LE(len[v], usable);
			b = p[v];
			for (k = 0; k + 1 < len[v]; k += 61)
				b[k] = (unsigned char)(v + k);
			b[len[v] - 1] = (unsigned char)v;
			live++;
		}
		spares_seen += hm_tls_cur.tc->nspare != 0;
		if (i % 50000 == 0) {
			st = heap_stats(self->h);
			ASSERT_EQ(live, st.core.live_blocks);
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_NE(0, spares_seen);	/* the spare paths ran */
	for (i = 0; i < SLOTS; i++)
		if (p[i])
			ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(0, self->h->nslabs);
}

/*
 * A heap at its backend's limit: the front end steps aside (blocks from
 * the core, exact to the granule) and the slabs drain back, also an
 * active slab of a borrowed class; it comes back when the heap grows.
 */
TEST(front_at_limit)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h;
	static void *p[8192];
	struct hm_heap_stats st;
	unsigned int seed = 1, n = 0, round;
	int i;

	ASSERT_NE(NULL, ctx);
	hm_backend_host_set_limit(ctx, 1 << 20);
	h = hm_heap_create(&hm_backend_host, ctx);
	ASSERT_NE(NULL, h);
	hm_heap_set_grow_size(h, 0, 0);
	hm_heap_set_front_end(h, true);
	for (round = 0; round < 3; round++) {
		/* Fill until allocations fail, then free at random and refill. */
		for (i = 0; i < 20000; i++) {
			seed = seed * 1103515245u + 12345u;
			if (n && (n == 8192 || (seed >> 16) % 3 == 0)) {
				unsigned int v = (seed >> 4) % n;

				ASSERT_EQ(0, hm_heap_free(h, p[v]));
				p[v] = p[--n];
			} else if (!hm_heap_alloc(h, 1 + (seed >> 8) % 2000, 0, &p[n])) {
				memset(p[n], 0x33, 1);
				n++;
			}
		}
		EXPECT_TRUE(h->slab_starved);
		EXPECT_FALSE(atomic_load(&h->fast));
		while (n)
			ASSERT_EQ(0, hm_heap_free(h, p[--n]));
		st = heap_stats(h);
		EXPECT_EQ(0, st.core.live_blocks);
		EXPECT_EQ(0, st.core.used_bytes);
		EXPECT_EQ(0, h->nslabs);
		EXPECT_EQ(0, h->slab_bytes);
	}
	/* Room again: the next growth turns the front end back on. */
	hm_backend_host_set_limit(ctx, 8 << 20);
	ASSERT_EQ(0, hm_heap_alloc(h, 2 << 20, 0, &p[0]));
	EXPECT_FALSE(h->slab_starved);
	EXPECT_TRUE(atomic_load(&h->fast));
	ASSERT_EQ(0, hm_heap_alloc(h, 100, 0, &p[1]));
	EXPECT_NE(0, h->nslabs);
	EXPECT_EQ(0, hm_heap_free(h, p[1]));
	EXPECT_EQ(0, hm_heap_free(h, p[0]));
	hm_heap_destroy(h);
	EXPECT_EQ(0, host_counters(ctx).live_segments);
	hm_backend_host_ctx_free(ctx);
}


/*
 * Usable size of block @p: its slot (borrowing may give a larger class),
 * or its core block (granules; a cached block may be a class larger).
 */
static uint64_t usable(struct hm_heap *h, void *p)
{
	size_t size = 0;

	if (hm_tc_block_size(h, p, &size)) {
		pthread_mutex_lock(&h->lock);
		hm_core_block_size(h->core, (uintptr_t)p, &size);
		pthread_mutex_unlock(&h->lock);
	}
	return size;
}

/*
 * The peak is exact with the front end on: random slab and core blocks,
 * checked against a running model after every operation.
 */
TEST_F(front, peak_is_exact)
{
	enum { N = 600, OPS = 40000 };
	static void *p[N];
	static uint64_t sz[N];
	uint64_t used = 0, peak = 0, lcg = 5;
	struct hm_heap_stats st;
	int i;

	for (i = 0; i < OPS; i++) {
		unsigned int v;

		lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
		v = (unsigned int)(lcg >> 33) % N;
		if (p[v]) {
			ASSERT_EQ(0, hm_heap_free(self->h, p[v]));
			used -= sz[v];
			p[v] = NULL;
		} else {
			size_t n = 1 + (lcg >> 40) % ((lcg >> 20) % 4 ? 4096 : 9000);

			ASSERT_EQ(0, hm_heap_alloc(self->h, n, 0, &p[v]));
			sz[v] = usable(self->h, p[v]);
			ASSERT_GE(sz[v], n);
			used += sz[v];
			if (used > peak)
				peak = used;
		}
		if (i % 97 == 0) {
			st = heap_stats(self->h);
			ASSERT_EQ(used, st.core.used_bytes);
			ASSERT_EQ(peak, st.core.peak_used_bytes);
		}
	}
	st = heap_stats(self->h);
	EXPECT_EQ(peak, st.core.peak_used_bytes);
	EXPECT_GE(st.peak_footprint_bytes, peak);
	for (i = 0; i < N; i++)
		if (p[i])
			EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
}

struct peak_step {
	struct hm_heap *h;
	void **p;
	unsigned int n;
	size_t size;
	bool do_free;
};

static void *peak_thread(void *arg)
{
	struct peak_step *s = arg;
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		if (s->do_free)
			hm_heap_free(s->h, s->p[i]);
		else if (hm_heap_alloc(s->h, s->size, 0, &s->p[i]))
			return (void *)1;
	}
	return NULL;
}

static void run_step(struct peak_step *s)
{
	pthread_t t;
	void *r;

	pthread_create(&t, NULL, peak_thread, s);
	pthread_join(t, &r);
}

/*
 * Peaks made by several threads, one after the other: a thread's frees
 * leave room only it may use unchecked; another thread that allocates
 * takes that room back, so its new peak is seen.  Live threads: the main
 * thread allocates between two others' steps.
 */
TEST_F(front, peak_is_exact_across_threads)
{
	static void *a[100], *b[150], *c[10];
	struct peak_step sa = { self->h, a, 100, 64, false };
	struct peak_step sb = { self->h, b, 150, 64, false };
	unsigned int i;

	/* A thread allocates 100 x 64 B and frees them itself. */
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 64, 0, &a[i]));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, a[i]));
	EXPECT_EQ(6400, heap_stats(self->h).core.peak_used_bytes);
	/* Another thread: 150 x 64 B (kept; its thread exits, the slabs are orphaned). */
	run_step(&sb);
	EXPECT_EQ(9600, heap_stats(self->h).core.peak_used_bytes);
	/* The main thread again: 10 x 64 B on top of the orphans. */
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 64, 0, &c[i]));
	EXPECT_EQ(10240, heap_stats(self->h).core.peak_used_bytes);
	/* A third thread frees the orphans, a fourth allocates 100: no new peak. */
	sb.do_free = true;
	run_step(&sb);
	run_step(&sa);
	EXPECT_EQ(10240, heap_stats(self->h).core.peak_used_bytes);
	EXPECT_EQ(640 + 6400, heap_stats(self->h).core.used_bytes);
	/* A core block (8 KiB) on top: 7040 + 8192 > 10240. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 8192, 0, &b[0]));
	EXPECT_EQ(7040 + 8192, heap_stats(self->h).core.peak_used_bytes);
	EXPECT_EQ(0, hm_heap_free(self->h, b[0]));
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, hm_heap_free(self->h, c[i]));
	sa.do_free = true;
	run_step(&sa);
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
}

static void *stats_thread(void *arg)
{
	struct remote *r = arg;
	struct hm_heap_stats *st = (struct hm_heap_stats *)r->p;

	hm_heap_stats(r->h, st);
	return NULL;
}

/*
 * Blocks freed by another thread and not yet drained by their live owner
 * are free in the statistics (read by a third thread, which drains
 * nothing of the owner's) and in the peak (the owner allocating again
 * before it drains them).
 */
TEST_F(front, undrained_remote_frees_are_free)
{
	static void *p[3000];
	struct remote r = { .h = self->h, .p = p, .n = 3000 };
	struct hm_heap_stats st;
	pthread_t t;
	int i;

	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &p[i]));
	ASSERT_EQ(3000u * 32, heap_stats(self->h).core.peak_used_bytes);
	ASSERT_EQ(0, pthread_create(&t, NULL, free_them, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);

	memset(&st, 0xff, sizeof(st));
	r.p = (void **)&st;
	ASSERT_EQ(0, pthread_create(&t, NULL, stats_thread, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(3000u * 32, st.core.peak_used_bytes);

	/* 1000 again: below the peak, whether or not they drain first. */
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &p[i]));
	st = heap_stats(self->h);
	EXPECT_EQ(1000u * 32, st.core.used_bytes);
	EXPECT_EQ(3000u * 32, st.core.peak_used_bytes);
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
}

/*
 * Owners that exit while other threads still free their blocks without
 * the lock: each round a producer allocates 2000 blocks, hands them over
 * and exits at once while two consumers free them (remote frees racing
 * with the owner's exit, then frees into the orphans).  Every free
 * succeeds once, and the heap ends empty.
 */
struct xfer {
	struct hm_heap *h;
	void **p;
	unsigned int from, to;
	atomic_int *ready;
	int errors;
};

static void *xfer_produce(void *arg)
{
	struct xfer *x = arg;
	unsigned int i;

	for (i = 0; i < 2000; i++)
		if (hm_heap_alloc(x->h, 16 + (i * 37) % 1000, 0, &x->p[i]))
			x->errors++;
	atomic_store(x->ready, 1);
	return NULL;	/* exits: its slabs are orphaned while the consumers run */
}

static void *xfer_consume(void *arg)
{
	struct xfer *x = arg;
	unsigned int i;

	while (!atomic_load(x->ready))
		sched_yield();
	for (i = x->from; i < x->to; i++)
		if (hm_heap_free(x->h, x->p[i]))
			x->errors++;
	for (i = x->from; i < x->to; i += 97)
		if (hm_heap_free(x->h, x->p[i]) != -EINVAL)
			x->errors++;
	return NULL;
}

TEST_F(front, remote_frees_race_owner_exit)
{
	static void *p[2000];
	int round;

	for (round = 0; round < 30; round++) {
		atomic_int ready = 0;
		struct xfer prod = { self->h, p, 0, 0, &ready, 0 };
		struct xfer c1 = { self->h, p, 0, 1000, &ready, 0 };
		struct xfer c2 = { self->h, p, 1000, 2000, &ready, 0 };
		pthread_t tp, t1, t2;

		ASSERT_EQ(0, pthread_create(&t1, NULL, xfer_consume, &c1));
		ASSERT_EQ(0, pthread_create(&t2, NULL, xfer_consume, &c2));
		ASSERT_EQ(0, pthread_create(&tp, NULL, xfer_produce, &prod));
		pthread_join(tp, NULL);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		ASSERT_EQ(0, prod.errors + c1.errors + c2.errors) TH_LOG("round %d", round);
	}
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
	EXPECT_EQ(0, self->h->nslabs);
}

/*
 * The owner exits inside a remote free (hm_tc_remote_hook): after the
 * free saw the owner, either before its OR (the exiting owner's fold
 * cannot see the bit: the free must fold it itself, under the lock) or
 * after it (the fold took the bit: the free must not free it again).
 * Either way the block is freed once and the statistics stay exact.
 */
static pthread_t late_owner;
static atomic_int late_exit, late_calls;
static bool late_after_or;

static void late_hook(struct hm_slab *s, bool after_or)
{
	(void)s;
	if (after_or != late_after_or || atomic_fetch_add(&late_calls, 1))
		return;
	atomic_store(&late_exit, 1);
	pthread_join(late_owner, NULL);
}

struct late {
	struct hm_heap *h;
	void *p[2];
	atomic_int ready;
};

static void *late_alloc(void *arg)
{
	struct late *l = arg;

	if (hm_heap_alloc(l->h, 64, 0, &l->p[0]) || hm_heap_alloc(l->h, 64, 0, &l->p[1]))
		l->p[0] = l->p[1] = NULL;
	atomic_store(&l->ready, 1);
	while (!atomic_load(&late_exit))
		sched_yield();
	return NULL;	/* exits: its slab is orphaned inside the remote free */
}

static void late_case(struct __test_metadata *_metadata, struct hm_heap *h, bool after_or)
{
	struct late l = { .h = h };

	late_after_or = after_or;
	atomic_store(&late_exit, 0);
	atomic_store(&late_calls, 0);
	ASSERT_EQ(0, pthread_create(&late_owner, NULL, late_alloc, &l));
	while (!atomic_load(&l.ready))
		sched_yield();
	ASSERT_NE(NULL, l.p[0]);
	hm_tc_remote_hook = late_hook;
	EXPECT_EQ(0, hm_heap_free(h, l.p[0]));
	hm_tc_remote_hook = NULL;
	EXPECT_EQ(1, atomic_load(&late_calls));
	EXPECT_EQ(1, heap_stats(h).core.live_blocks);
	EXPECT_EQ(64, heap_stats(h).core.used_bytes);
	EXPECT_EQ(-EINVAL, hm_heap_free(h, l.p[0]));
	EXPECT_EQ(0, hm_heap_free(h, l.p[1]));	/* into the orphan: it empties */
	EXPECT_EQ(0, heap_stats(h).core.live_blocks);
	EXPECT_EQ(0, heap_stats(h).core.used_bytes);
	EXPECT_EQ(0, h->nslabs);
}

TEST_F(front, owner_exits_inside_a_remote_free)
{
	late_case(_metadata, self->h, false);
	late_case(_metadata, self->h, true);
}

TEST_HARNESS_MAIN
