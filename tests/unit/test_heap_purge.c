// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP heap purge policy: after a phase of frees, free pages inside the
 * segments go back to the backend (discard()) while every live block
 * keeps its bytes; a heap churning at a steady size does not purge; other
 * threads' slabs are left alone.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"

#define NBLK	40000

static uint32_t rng = 7;

static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* 16 B .. 4 KiB, log-distributed, like the benchmark's phase trace. */
static size_t small_size(void)
{
	unsigned int bits = 4 + rnd() % 9;

	return ((size_t)1 << (bits - 1)) + rnd() % ((size_t)1 << (bits - 1)) + 1;
}

struct blk {
	unsigned char *p;
	size_t n;
	unsigned char v;
};

static struct blk blk[NBLK];

static int intact(const struct blk *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->p[i] != b->v)
			return 0;
	return 1;
}

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * Fill with small blocks, free 80 % at random, then allocate large ones:
 * the purge gives back the freed pages (RSS falls by most of what was
 * freed), and every survivor still reads its own pattern.  Growth steps
 * of at most 4 MiB: a heap purges only more free bytes than that.
 */
TEST(purge_after_a_phase_of_frees)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);
	long before, after;
	unsigned int i, live = 0;
	void *big[64];

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, hm_heap_set_grow_size(h, MiB, 4 * MiB));
	for (i = 0; i < NBLK; i++) {
		blk[i].n = small_size();
		blk[i].v = (unsigned char)(i | 1);
		ASSERT_EQ(0, hm_heap_alloc(h, blk[i].n, 0, (void **)&blk[i].p));
		memset(blk[i].p, blk[i].v, blk[i].n);
	}
	before = rss_kb();
	for (i = 0; i < NBLK; i++) {
		if (rnd() % 5) {
			EXPECT_EQ(0, hm_heap_free(h, blk[i].p));
			blk[i].p = NULL;
		} else {
			live++;
		}
	}
	/* Core allocations see the fall of the bytes in use and purge. */
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, hm_heap_alloc(h, 32 * KiB, 0, &big[i]));
		memset(big[i], 0xa5, 32 * KiB);
	}
	after = rss_kb();
	EXPECT_LT(0, heap_stats(h).purge_events);
	EXPECT_LT(0, host_counters(ctx).discards);
	EXPECT_LT(4 * MiB, host_counters(ctx).discard_bytes);
	/* 2 MiB of large blocks were added; far more than that went back. */
	EXPECT_LT(after + 4096, before) TH_LOG("RSS %ld KiB -> %ld KiB", before, after);
	for (i = 0; i < NBLK; i++)
		if (blk[i].p) {
			ASSERT_TRUE(intact(&blk[i])) TH_LOG("block %u of %zu bytes", i, blk[i].n);
			EXPECT_EQ(0, hm_heap_free(h, blk[i].p));
		}
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(0xa5, ((unsigned char *)big[i])[32 * KiB - 1]);
		EXPECT_EQ(0, hm_heap_free(h, big[i]));
	}
	EXPECT_LT(0u, live);
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

/*
 * Churn at a steady size (free one, allocate one): no purge, no discard,
 * with the default growth steps and with steps of 4 MiB.
 */
FIXTURE(churn) { int unused; };
FIXTURE_VARIANT(churn) { uint64_t grow_max; };
FIXTURE_VARIANT_ADD(churn, default_steps) { .grow_max = 0 };
FIXTURE_VARIANT_ADD(churn, steps_4m) { .grow_max = 4 * MiB };
FIXTURE_SETUP(churn) { self->unused = 0; }
FIXTURE_TEARDOWN(churn) { }

TEST_F(churn, steady_churn_does_not_purge)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);
	unsigned int i;

	ASSERT_NE(NULL, h);
	if (variant->grow_max)
		ASSERT_EQ(0, hm_heap_set_grow_size(h, MiB, variant->grow_max));
	for (i = 0; i < NBLK; i++) {
		blk[i].n = small_size();
		ASSERT_EQ(0, hm_heap_alloc(h, blk[i].n, 0, (void **)&blk[i].p));
	}
	for (i = 0; i < 5 * NBLK; i++) {
		unsigned int v = rnd() % NBLK;

		ASSERT_EQ(0, hm_heap_free(h, blk[v].p));
		blk[v].n = rnd() % 2 ? small_size() : 4 * KiB + rnd() % (60 * KiB);
		ASSERT_EQ(0, hm_heap_alloc(h, blk[v].n, 0, (void **)&blk[v].p));
	}
	EXPECT_EQ(0, host_counters(ctx).discards);
	EXPECT_EQ(0, heap_stats(h).purge_events);
	for (i = 0; i < NBLK; i++)
		EXPECT_EQ(0, hm_heap_free(h, blk[i].p));
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

/* Without the default policy (plain heap or set thresholds): no purge. */
TEST(purge_follows_the_default_policy)
{
	unsigned int mode;

	for (mode = 0; mode < 2; mode++) {
		void *ctx = hm_backend_host_ctx_new();
		struct hm_heap *h = mode ? hm_heap_create_default(&hm_backend_host, ctx)
					 : hm_heap_create(&hm_backend_host, ctx);
		unsigned int i;
		void *big;

		ASSERT_NE(NULL, h);
		ASSERT_EQ(0, hm_heap_set_grow_size(h, MiB, 4 * MiB));
		if (mode)
			ASSERT_EQ(0, hm_heap_set_thresholds(h, 0, UINT32_MAX - 1));
		for (i = 0; i < NBLK; i++)
			ASSERT_EQ(0, hm_heap_alloc(h, 1024, 0, (void **)&blk[i].p));
		for (i = 0; i < NBLK; i++)
			if (i % 4)
				ASSERT_EQ(0, hm_heap_free(h, blk[i].p));
		for (i = 0; i < 64; i++)
			ASSERT_EQ(0, hm_heap_alloc(h, 32 * KiB, 0, &big));
		EXPECT_EQ(0, host_counters(ctx).discards) TH_LOG("mode %u", mode);
		hm_heap_destroy(h);
		hm_backend_host_ctx_free(ctx);
	}
}

/*
 * Another thread's slabs are its own: a purge made by this thread leaves
 * their free slots (which that thread may be filling without the lock)
 * and their live blocks alone.
 */
struct other {
	struct hm_heap *h;
	pthread_barrier_t *bar;
	atomic_int done;
	int bad;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;
	unsigned char *p[4096];
	unsigned int i, k;

	for (i = 0; i < 4096; i++) {
		if (hm_heap_alloc(o->h, 1024, 0, (void **)&p[i]))
			o->bad = 1;
		else
			memset(p[i], 0x3c, 1024);
	}
	/* Runs of 8 free slots: whole free pages in this thread's slabs. */
	for (i = 0; i < 4096; i++)
		if (i % 16 < 8)
			hm_heap_free(o->h, p[i]);
	pthread_barrier_wait(o->bar);	/* the main thread purges now ... */
	for (k = 0; k < 40; k++)	/* ... while this one refills and checks */
		for (i = 0; i < 4096; i++) {
			if (i % 16 >= 8)
				continue;
			if (hm_heap_alloc(o->h, 1024, 0, (void **)&p[i])) {
				o->bad = 1;
				continue;
			}
			memset(p[i], 0x3c, 1024);
			if (!(i & 127))
				sched_yield();	/* not each time: costly on a busy host */
			if (p[i][0] != 0x3c || p[i][1023] != 0x3c)
				o->bad = 1;
			hm_heap_free(o->h, p[i]);
		}
	atomic_store(&o->done, 1);
	pthread_barrier_wait(o->bar);
	for (i = 0; i < 4096; i++) {
		if (i % 16 < 8)
			continue;
		if (p[i][0] != 0x3c || p[i][1023] != 0x3c)
			o->bad = 1;
		hm_heap_free(o->h, p[i]);
	}
	return NULL;
}

TEST(other_threads_slabs_untouched)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);
	pthread_barrier_t bar;
	struct other o = { .h = h, .bar = &bar };
	pthread_t t;
	unsigned int i;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, other_thread, &o));
	pthread_barrier_wait(&bar);
	for (i = 0; !atomic_load(&o.done); i++)
		hm_heap_purge(h);
	pthread_barrier_wait(&bar);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, o.bad);
	EXPECT_LE(i, heap_stats(h).purge_events);
	EXPECT_LT(0u, i);
	pthread_barrier_destroy(&bar);
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

TEST_HARNESS_MAIN
