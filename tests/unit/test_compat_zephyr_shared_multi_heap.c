// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr shared multi-heap face
 * (<zephyr/multi_heap/shared_multi_heap.h>) over the caps layer on the
 * host: pool_init, regions per attribute (small ones, odd alignment),
 * allocations landing in their attribute's regions only, 0 bytes and bad
 * attributes, alignment, free, realloc within and across attributes, the
 * MAX_MULTI_HEAPS bound, overlaps, and a region inside a hapmem block
 * handing out device addresses.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

#include <zephyr/multi_heap/shared_multi_heap.h>
#include <zephyr/sys/multi_heap.h>

static _Alignas(64) char cmem[2][1024], ncmem[512];

static bool in(const void *p, size_t n, const void *mem, size_t len)
{
	return (const char *)p >= (const char *)mem && (const char *)p + n <= (const char *)mem + len;
}

static void add_three(struct __test_metadata *_metadata)
{
	struct shared_multi_heap_region r[3] = {
		{ .attr = SMH_REG_ATTR_CACHEABLE, .addr = (uintptr_t)cmem[0], .size = 1024 },
		{ .attr = SMH_REG_ATTR_CACHEABLE, .addr = (uintptr_t)cmem[1], .size = 1024 },
		{ .attr = SMH_REG_ATTR_NON_CACHEABLE, .addr = (uintptr_t)ncmem, .size = 512 },
	};
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, shared_multi_heap_add(&r[i], &r[i]));
}

TEST(pool_init_and_bad_regions)
{
	struct shared_multi_heap_region bad = { .attr = SMH_REG_ATTR_NUM,
						.addr = (uintptr_t)cmem[0], .size = 1024 };
	struct shared_multi_heap_region tiny = { .attr = SMH_REG_ATTR_CACHEABLE,
						 .addr = (uintptr_t)cmem[0] + 1, .size = 20 };

	EXPECT_EQ(2, MAX_SHARED_MULTI_HEAP_ATTR);
	EXPECT_EQ(0, shared_multi_heap_pool_init());
	EXPECT_EQ(-EALREADY, shared_multi_heap_pool_init());
	EXPECT_EQ(-EINVAL, shared_multi_heap_add(NULL, NULL));
	EXPECT_EQ(-EINVAL, shared_multi_heap_add(&bad, NULL));
	EXPECT_EQ(-EINVAL, shared_multi_heap_add(&tiny, NULL));	/* no aligned 16 bytes */
	tiny.size = 40;
	EXPECT_EQ(0, shared_multi_heap_add(&tiny, NULL));	/* [16, 32): one block */
	EXPECT_EQ((void *)(cmem[0] + 16), shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 16));
	EXPECT_EQ(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 1));
	/* overlapping a region without lying inside a block of it */
	tiny.addr = (uintptr_t)cmem[0];
	tiny.size = 64;
	EXPECT_EQ(-EEXIST, shared_multi_heap_add(&tiny, NULL));
	/* inside a region's free memory: that memory is the region's */
	tiny.addr = (uintptr_t)cmem[1];
	tiny.size = 1024;
	ASSERT_EQ(0, shared_multi_heap_add(&tiny, NULL));
	tiny.addr = (uintptr_t)cmem[1] + 512;
	tiny.size = 256;
	EXPECT_EQ(-EEXIST, shared_multi_heap_add(&tiny, NULL));
}

TEST(allocations_by_attribute)
{
	void *p[4], *q, *r;
	int i;

	add_three(_metadata);
	EXPECT_EQ(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 0));
	EXPECT_EQ(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_NUM, 16));
	EXPECT_EQ(NULL, shared_multi_heap_alloc((enum shared_multi_heap_attr)-1, 16));
	/* cacheable: 2 x 1 KiB, never the non-cacheable region */
	for (i = 0; i < 4; i++) {
		p[i] = shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 500);
		ASSERT_NE(NULL, p[i]);
		EXPECT_TRUE(in(p[i], 500, cmem[0], 1024) || in(p[i], 500, cmem[1], 1024));
	}
	EXPECT_EQ(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 500));
	q = shared_multi_heap_aligned_alloc(SMH_REG_ATTR_NON_CACHEABLE, 256, 100);
	ASSERT_NE(NULL, q);
	EXPECT_TRUE(in(q, 100, ncmem, 512));
	EXPECT_EQ(0, (uintptr_t)q % 256);
	EXPECT_EQ(NULL, shared_multi_heap_aligned_alloc(SMH_REG_ATTR_NON_CACHEABLE, 24, 10));
	/* free: any region, found by address */
	for (i = 0; i < 4; i++)
		shared_multi_heap_free(p[i]);
	shared_multi_heap_free(NULL);
	r = shared_multi_heap_alloc(SMH_REG_ATTR_CACHEABLE, 1024);
	EXPECT_TRUE(r == (void *)cmem[0] || r == (void *)cmem[1]);
	shared_multi_heap_free(r);
	shared_multi_heap_free(q);
	/* plain caps allocations never land in these regions */
	EXPECT_EQ(NULL, caps_malloc(16, HAPMEM_CAP_DEFAULT));
}

TEST(realloc_rules)
{
	char *p, *q;

	add_three(_metadata);
	p = shared_multi_heap_realloc(SMH_REG_ATTR_NON_CACHEABLE, NULL, 100);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(in(p, 100, ncmem, 512));
	strcpy(p, "smh");
	q = shared_multi_heap_realloc(SMH_REG_ATTR_NON_CACHEABLE, p, 400);	/* in place */
	EXPECT_EQ(p, q);
	/* another attribute: moved there, bytes kept */
	q = shared_multi_heap_realloc(SMH_REG_ATTR_CACHEABLE, p, 800);
	ASSERT_NE(NULL, q);
	EXPECT_TRUE(in(q, 800, cmem[0], 1024) || in(q, 800, cmem[1], 1024));
	EXPECT_STREQ("smh", q);
	EXPECT_EQ((void *)ncmem, shared_multi_heap_alloc(SMH_REG_ATTR_NON_CACHEABLE, 512));
	/* no room: NULL, intact */
	EXPECT_EQ(NULL, shared_multi_heap_realloc(SMH_REG_ATTR_CACHEABLE, q, 2000));
	EXPECT_STREQ("smh", q);
	EXPECT_EQ(NULL, shared_multi_heap_realloc(SMH_REG_ATTR_NUM, q, 10));
	EXPECT_EQ(NULL, shared_multi_heap_realloc(SMH_REG_ATTR_CACHEABLE, q, 0));	/* frees */
	EXPECT_EQ(0, caps_block_size(q));
}

TEST(at_most_max_heaps_per_attribute)
{
	static _Alignas(16) char m[MAX_MULTI_HEAPS + 1][64];
	struct shared_multi_heap_region r = { .attr = SMH_REG_ATTR_NON_CACHEABLE, .size = 64 };
	int i;

	for (i = 0; i < MAX_MULTI_HEAPS; i++) {
		r.addr = (uintptr_t)m[i];
		ASSERT_EQ(0, shared_multi_heap_add(&r, NULL));
	}
	r.addr = (uintptr_t)m[MAX_MULTI_HEAPS];
	EXPECT_EQ(-ENOMEM, shared_multi_heap_add(&r, NULL));
	r.attr = SMH_REG_ATTR_CACHEABLE;	/* the other attribute has its own eight */
	EXPECT_EQ(0, shared_multi_heap_add(&r, NULL));
	for (i = 0; i < MAX_MULTI_HEAPS; i++)
		EXPECT_NE(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_NON_CACHEABLE, 64));
	EXPECT_EQ(NULL, shared_multi_heap_alloc(SMH_REG_ATTR_NON_CACHEABLE, 64));
}

/* A region carved from a hapmem block: its blocks have device addresses. */
TEST(region_inside_a_device_block)
{
	struct shared_multi_heap_region r = { .attr = SMH_REG_ATTR_NON_CACHEABLE };
	uint64_t blk_dev, dev;
	char *blk, *p;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	blk = caps_aligned_alloc(4096, 8192, HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, blk);
	ASSERT_EQ(0, caps_dev_addr(blk, &blk_dev));
	r.addr = (uintptr_t)blk;
	r.size = 8192;
	ASSERT_EQ(0, shared_multi_heap_add(&r, NULL));
	p = shared_multi_heap_aligned_alloc(SMH_REG_ATTR_NON_CACHEABLE, 1024, 3000);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(in(p, 3000, blk, 8192));
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	EXPECT_EQ(blk_dev + (uint64_t)(p - blk), dev);
	EXPECT_GT(4ull << 30, dev + 3000);	/* the 32-bit block's window */
	shared_multi_heap_free(p);
}

TEST_HARNESS_MAIN
