// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP heap policy: the growth formula byte for byte, growth from history,
 * the release and pre-grow thresholds with their hysteresis.
 */
#include <limits.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"

struct grow_case {
	uint64_t min, max, request;
	uint64_t mgb;		/* expected min_grow_bytes */
	uint64_t grow;		/* expected segment length */
};

/*
 * min_grow_bytes = MIN(max, MAX(min, min_grow_bytes)) from its default of
 * 1 MiB, then grow = ALIGN(min_grow_bytes + request, 1 MiB).  Expected
 * values are written out, not recomputed.
 */
static const struct grow_case grow_cases[] = {
	{ 0, 0, 0, 0, 1 * MiB },			/* request 0 counts as 1 byte */
	{ 0, 0, 1, 0, 1 * MiB },
	{ 0, 0, 1 * MiB, 0, 1 * MiB },			/* exact fit */
	{ 0, 0, 1 * MiB + 1, 0, 2 * MiB },
	{ 0, 512 * KiB, 100, 512 * KiB, 1 * MiB },
	{ 0, 512 * KiB, 600 * KiB, 512 * KiB, 2 * MiB },
	{ 2 * MiB, 8 * MiB, 100, 2 * MiB, 3 * MiB },
	{ 3 * MiB + 5, 16 * MiB, 1 * MiB, 3 * MiB + 5, 5 * MiB },
	{ 1 * MiB, 2 * MiB, 10 * MiB, 1 * MiB, 11 * MiB },	/* request above max */
	{ 4 * MiB, 1 * MiB, 10, 1 * MiB, 2 * MiB },		/* min > max: max wins */
	{ 0, UINT64_MAX, 7 * MiB, 1 * MiB, 8 * MiB },
	{ 64 * MiB, UINT64_MAX, 1, 64 * MiB, 65 * MiB },
};

TEST(growth_formula_table)
{
	unsigned int i;

	for (i = 0; i < sizeof(grow_cases) / sizeof(grow_cases[0]); i++) {
		const struct grow_case *g = &grow_cases[i];
		void *ctx = hm_backend_host_ctx_new();
		struct hm_heap *h = hm_heap_create(&hm_backend_host, ctx);
		struct hm_heap_stats st;
		void *p;

		ASSERT_NE(NULL, h);
		ASSERT_EQ(0, hm_heap_set_grow_size(h, g->min, g->max));
		ASSERT_EQ(0, hm_heap_alloc(h, g->request, 0, &p)) TH_LOG("case %u", i);
		hm_heap_stats(h, &st);
		EXPECT_EQ(g->mgb, st.min_grow_bytes) TH_LOG("case %u", i);
		EXPECT_EQ(g->grow, st.core.total_bytes) TH_LOG("case %u", i);
		EXPECT_EQ(g->grow, host_counters(ctx).last_grow_len) TH_LOG("case %u", i);
		EXPECT_EQ(1, st.grow_events);
		EXPECT_EQ(g->grow, st.core.free_bytes + st.core.used_bytes);
		hm_heap_destroy(h);
		hm_backend_host_ctx_free(ctx);
	}
}

TEST_F(heap, growth_from_history)
{
	void *a, *b, *c;

	/* Never configured: min_grow_bytes is half the heap, within [1, 32] MiB. */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 100, 0, &a));
	EXPECT_EQ(2 * MiB, host_counters(self->ctx).last_grow_len);	/* 1 MiB + 100 */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 3 * MiB, 0, &b));
	EXPECT_EQ(4 * MiB, host_counters(self->ctx).last_grow_len);	/* 1 MiB (2/2) + 3 MiB */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 8 * MiB, 0, &c));
	EXPECT_EQ(11 * MiB, host_counters(self->ctx).last_grow_len);	/* 3 MiB (6/2) + 8 MiB */
	EXPECT_EQ(3 * MiB, heap_stats(self->h).min_grow_bytes);
	EXPECT_EQ(3, heap_stats(self->h).grow_events);
	/* Later requests that fit do not grow. */
	EXPECT_EQ(0, hm_heap_free(self->h, b));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 2 * MiB, 0, &b));
	EXPECT_EQ(3, host_counters(self->ctx).grows);
}

TEST_F(heap, growth_failure_is_clean)
{
	void *p = (void *)1;

	hm_backend_host_set_limit(self->ctx, 2 * MiB);
	EXPECT_EQ(-ENOMEM, hm_heap_alloc(self->h, 5 * MiB, 0, &p));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(0, heap_stats(self->h).core.segments);
	ASSERT_EQ(0, hm_heap_alloc(self->h, 512 * KiB, 0, &p));
	EXPECT_EQ(0, hm_heap_free(self->h, p));
	EXPECT_EQ(-EINVAL, hm_heap_alloc(self->h, 16, 24, &p));
}

TEST_F(heap, bad_thresholds)
{
	EXPECT_EQ(-EINVAL, hm_heap_set_thresholds(self->h, 5, 5));
	EXPECT_EQ(-EINVAL, hm_heap_set_thresholds(self->h, 10, 5));
	EXPECT_EQ(0, hm_heap_set_thresholds(self->h, 0, UINT_MAX));
}

TEST_F(heap, release_above_high)
{
	void *a, *b;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &a));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &b));
	EXPECT_EQ(2, host_counters(self->ctx).live_segments);
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 0, 512 * KiB));
	EXPECT_EQ(0, hm_heap_free(self->h, b));		/* largest free 1 MiB > 512 KiB */
	EXPECT_EQ(1, host_counters(self->ctx).live_segments);
	EXPECT_EQ(1, host_counters(self->ctx).releases);
	EXPECT_EQ(1, heap_stats(self->h).release_events);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	EXPECT_EQ(0, host_counters(self->ctx).live_segments);
}

TEST_F(heap, no_release_below_high)
{
	void *a, *b;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &a));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &b));
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 0, 1 * MiB));
	EXPECT_EQ(0, hm_heap_free(self->h, b));		/* 1 MiB is not above 1 MiB */
	EXPECT_EQ(2, host_counters(self->ctx).live_segments);
	EXPECT_EQ(1, heap_stats(self->h).core.segments_free);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
}

TEST_F(heap, pregrow_below_low)
{
	void *a, *b;
	uint64_t grows;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &a));
	/* Largest free is 0 < 2 MiB: the heap grows now, by the formula for 2 MiB. */
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 2 * MiB, UINT_MAX));
	EXPECT_EQ(1, heap_stats(self->h).pregrow_events);
	EXPECT_EQ(2 * MiB, host_counters(self->ctx).last_grow_len);
	grows = host_counters(self->ctx).grows;
	/* The next allocation needs no growth of its own ... */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1536 * KiB, 0, &b));
	EXPECT_EQ(grows + 1, host_counters(self->ctx).grows);	/* ... it pre-grew after it */
	EXPECT_EQ(2, heap_stats(self->h).pregrow_events);
	EXPECT_LE(2 * MiB, heap_stats(self->h).core.largest_free);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	EXPECT_EQ(0, hm_heap_free(self->h, b));
}

TEST_F(heap, hysteresis_holds)
{
	struct hm_heap_stats st;
	void *a, *p;
	int i;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &a));
	/* Releasing the spare segment would take the largest block below low: kept. */
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 1 * MiB, 1 * MiB + 1));
	st = heap_stats(self->h);
	EXPECT_EQ(1, st.pregrow_events);
	for (i = 0; i < 1000; i++) {
		/* A workload sitting right at both thresholds. */
		ASSERT_EQ(0, hm_heap_alloc(self->h, 1 * MiB, 0, &p));
		ASSERT_EQ(0, hm_heap_free(self->h, p));
	}
	st = heap_stats(self->h);
	EXPECT_GE(2, st.pregrow_events + st.release_events - 1) TH_LOG("pregrows %llu releases %llu",
		(unsigned long long)st.pregrow_events, (unsigned long long)st.release_events);
	EXPECT_GE(3, host_counters(self->ctx).grows);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
}

TEST_F(heap, stats_and_device_address)
{
	struct hm_heap_stats st;
	uint64_t dev;
	void *a;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1000, 0, &a));
	st = heap_stats(self->h);
	EXPECT_EQ(1008, st.core.used_bytes);
	EXPECT_EQ(1 * MiB - 1008, st.core.free_bytes);
	EXPECT_EQ(1, st.core.segments);
	EXPECT_EQ(0, st.core.segments_free);
	EXPECT_EQ(0, hm_heap_dev_addr(self->h, (char *)a + 10, &dev));
	EXPECT_EQ(HM_HOST_DEV_BASE + 10, dev);
	EXPECT_EQ(-EFAULT, hm_heap_dev_addr(self->h, &dev, &dev));
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(1008, st.core.peak_used_bytes);
	EXPECT_EQ(1, st.core.segments_free);
}

TEST_F(heap, realloc_in_place_and_moving)
{
	unsigned char *p, *q, *r;
	void *blocker;
	int i;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 100, 0, (void **)&p));
	for (i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	ASSERT_EQ(0, hm_heap_realloc(self->h, p, 5000, (void **)&q));
	EXPECT_EQ(p, q);				/* grew into the free tail */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 16, 0, &blocker));
	ASSERT_EQ(0, hm_heap_realloc(self->h, q, 9000, (void **)&r));
	EXPECT_NE(q, r);				/* blocked: moved */
	for (i = 0; i < 100; i++)
		ASSERT_EQ(i, r[i]);
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, q));	/* the old block is gone */
	ASSERT_EQ(0, hm_heap_realloc(self->h, r, 10, (void **)&q));
	EXPECT_EQ(r, q);				/* shrink stays */
	EXPECT_EQ(0, hm_heap_free(self->h, q));
	EXPECT_EQ(0, hm_heap_free(self->h, blocker));
	ASSERT_EQ(0, hm_heap_calloc(self->h, 1000, 7, (void **)&p));
	for (i = 0; i < 7000; i++)
		ASSERT_EQ(0, p[i]);
	EXPECT_EQ(0, hm_heap_free(self->h, p));
	EXPECT_EQ(-ENOMEM, hm_heap_calloc(self->h, SIZE_MAX / 2, 3, (void **)&p));
}

/*
 * The default release policy (hm_heap_create_default()): after every
 * block is freed, at least 90 % of the segment bytes go back, front end
 * on or off; a heap churning around one segment does not release and
 * regrow on every cycle (hysteresis); set thresholds replace it.
 */
static void fill_and_free(struct __test_metadata *_metadata, struct hm_heap *h, void *ctx,
			  unsigned int n, size_t max)
{
	static void *p[20000];
	uint64_t lcg = 9, peak_bytes;
	unsigned int i;

	ASSERT_LE(n, 20000);
	for (i = 0; i < n; i++) {
		lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
		ASSERT_EQ(0, hm_heap_alloc(h, 1 + (lcg >> 33) % max, 0, &p[i]));
	}
	peak_bytes = host_counters(ctx).live_bytes;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, hm_heap_free(h, p[i]));
	EXPECT_LE(host_counters(ctx).live_bytes * 10, peak_bytes)
		TH_LOG("%llu of %llu bytes kept", (unsigned long long)host_counters(ctx).live_bytes,
		       (unsigned long long)peak_bytes);
	EXPECT_LT(0, heap_stats(h).release_events);
	EXPECT_EQ(0, heap_stats(h).core.used_bytes);
}

TEST(default_policy_gives_memory_back)
{
	int front;

	for (front = 0; front < 2; front++) {
		void *ctx = hm_backend_host_ctx_new();
		struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);

		ASSERT_NE(NULL, h);
		hm_heap_set_front_end(h, front);
		fill_and_free(_metadata, h, ctx, 20000, 6000);
		hm_heap_destroy(h);
		EXPECT_EQ(0, host_counters(ctx).live_segments);
		hm_backend_host_ctx_free(ctx);
	}
}

TEST(default_policy_hysteresis)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);
	void *keep, *big;
	int i;

	ASSERT_NE(NULL, h);
	hm_heap_set_grow_size(h, MiB, MiB);
	ASSERT_EQ(0, hm_heap_alloc(h, 100 * KiB, 0, &keep));	/* segment 1: 2 MiB */
	/*
	 * A 2 MiB block needs a second segment (3 MiB), above twice the
	 * reserve (1 MiB) once freed: it goes back once; grown again, it
	 * sets the floor and stays from then on.
	 */
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, hm_heap_alloc(h, 2 * MiB, 0, &big));
		ASSERT_EQ(0, hm_heap_free(h, big));
	}
	EXPECT_EQ(3, host_counters(ctx).grows);
	EXPECT_EQ(1, host_counters(ctx).releases);
	/* A 7 MiB block: its 8 MiB segment is above twice the floor once freed. */
	ASSERT_EQ(0, hm_heap_alloc(h, 7 * MiB, 0, &big));
	ASSERT_EQ(0, hm_heap_free(h, big));
	EXPECT_EQ(2, host_counters(ctx).releases);
	EXPECT_EQ(0, hm_heap_free(h, keep));
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

TEST(set_thresholds_replace_the_default_policy)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h = hm_heap_create_default(&hm_backend_host, ctx);
	void *big;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, hm_heap_set_thresholds(h, 0, UINT_MAX - 1));
	ASSERT_EQ(0, hm_heap_alloc(h, 8 * MiB, 0, &big));
	ASSERT_EQ(0, hm_heap_free(h, big));
	/* the largest free block (9 MiB) is below high: the SDK keeps it */
	EXPECT_EQ(0, host_counters(ctx).releases);
	EXPECT_EQ(1, host_counters(ctx).live_segments);
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

TEST_HARNESS_MAIN
