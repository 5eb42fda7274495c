// SPDX-License-Identifier: GPL-2.0-only
/*
 * caps_stats(): sums over the regions that serve a capability set, and a
 * largest free block that an allocation really gets at every debug level
 * (guards deducted), on a fixed region that cannot grow.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

#define LEN (1 * MiB)

static void *fixed_llc_region(struct __test_metadata *_metadata)
{
	static const uint32_t caps[3] = { HAPMEM_CAP_LLC, 0, 0 };
	void *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT_NE(MAP_FAILED, m);
	EXPECT_LT(0, caps_region_add_mem("fixed-llc", m, 0x3000000, LEN, 0, caps));
	return m;
}

TEST(largest_free_is_allocatable_at_every_level)
{
	static const enum caps_debug_level levels[] = {
		CAPS_DEBUG_NONE, CAPS_DEBUG_BASIC, CAPS_DEBUG_POISON, CAPS_DEBUG_CANARY,
		CAPS_DEBUG_TRACE,
	};
	struct caps_stats st;
	size_t i, plain = 0;

	fixed_llc_region(_metadata);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		void *p;

		ASSERT_EQ(0, caps_debug_set_level(levels[i]));
		ASSERT_EQ(0, caps_stats(HAPMEM_CAP_LLC, &st));
		EXPECT_EQ(1, st.regions);
		EXPECT_EQ(LEN, st.total_bytes);
		ASSERT_LT(0, st.largest_free);
		if (!i)
			plain = st.largest_free;
		/* the guards are deducted from CANARY on */
		EXPECT_EQ(levels[i] >= CAPS_DEBUG_CANARY, st.largest_free < plain);
		p = caps_malloc(st.largest_free, HAPMEM_CAP_LLC);
		EXPECT_NE(NULL, p) TH_LOG("level %d: %zu reported, refused", levels[i],
					  st.largest_free);
		if (p)
			EXPECT_EQ(0, caps_free(p));
	}
}

TEST(sums_and_minimum)
{
	struct caps_stats st, all;
	void *a, *b;

	fixed_llc_region(_metadata);
	ASSERT_EQ(0, add_std_set(2 * MiB));
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_LLC, &st));
	EXPECT_EQ(0, st.allocated_blocks);
	EXPECT_EQ(LEN, st.free_bytes);
	EXPECT_EQ(LEN, st.minimum_free);
	a = caps_malloc(1000, HAPMEM_CAP_LLC);
	b = caps_malloc(200 * KiB, HAPMEM_CAP_LLC);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_LLC, &st));
	EXPECT_EQ(2, st.regions);	/* fixed-llc and the std set's llc */
	EXPECT_EQ(2, st.allocated_blocks);
	EXPECT_LE(1000 + 200 * KiB, st.allocated_bytes);
	EXPECT_EQ(st.total_bytes, st.free_bytes + st.allocated_bytes);
	EXPECT_EQ(0, caps_free(b));
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_LLC, &st));
	EXPECT_EQ(1, st.allocated_blocks);
	/* the low-water mark remembers the peak */
	EXPECT_GE(st.total_bytes - 1000 - 200 * KiB, st.minimum_free);
	EXPECT_EQ(0, caps_free(a));
	/* 0: every region */
	ASSERT_EQ(0, caps_stats(0, &all));
	EXPECT_EQ(hm_caps_std_regions_n + 1, all.regions);
	EXPECT_LE(st.total_bytes, all.total_bytes);
	EXPECT_EQ(-EINVAL, caps_stats(HAPMEM_CAP_CACHED | HAPMEM_CAP_UNCACHED, &st));
	EXPECT_EQ(-EINVAL, caps_stats(0, NULL));
}

struct sums {
	size_t bytes, used, blocks;
	bool bad;
};

static bool sum_blocks(const struct caps_walk_block *b, void *arg)
{
	struct sums *s = arg;

	if ((uintptr_t)b->ptr < b->seg_start || (uintptr_t)b->ptr + b->size > b->seg_end)
		s->bad = true;
	s->bytes += b->size;
	s->used += b->used;
	s->blocks++;
	return true;
}

/* The walk covers the regions exactly: its blocks add up to the stats. */
TEST(walk_agrees_with_stats)
{
	struct caps_stats st;
	struct sums sm = { 0 };
	void *p[20];
	int i;

	fixed_llc_region(_metadata);
	ASSERT_EQ(0, add_std_set(2 * MiB));
	for (i = 0; i < 20; i++)
		p[i] = caps_malloc(100 + 1000 * i, HAPMEM_CAP_LLC);
	for (i = 0; i < 20; i += 3)
		caps_free(p[i]);
	ASSERT_EQ(0, caps_stats(HAPMEM_CAP_LLC, &st));
	ASSERT_EQ(0, caps_walk(HAPMEM_CAP_LLC, sum_blocks, &sm));
	EXPECT_FALSE(sm.bad);
	EXPECT_EQ(st.total_bytes, sm.bytes);
	EXPECT_EQ(st.allocated_blocks, sm.used);
	EXPECT_LT(sm.used, sm.blocks);
	EXPECT_EQ(-EINVAL, caps_walk(0, NULL, NULL));
	EXPECT_EQ(-EINVAL, caps_walk(HAPMEM_CAP_CACHED | HAPMEM_CAP_UNCACHED, sum_blocks, &sm));
	for (i = 1; i < 20; i++)
		if (i % 3)
			caps_free(p[i]);
}

TEST_HARNESS_MAIN
