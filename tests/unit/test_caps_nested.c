// SPDX-License-Identifier: GPL-2.0-only
/*
 * A user region made of a block of another region (ESP-IDF's
 * heap_caps_add_region over heap_caps_malloc'd memory): its blocks are
 * found in it, not in the outer region, and it can be removed again.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

static const uint32_t llc[3] = { HAPMEM_CAP_LLC, 0, 0 };

TEST(region_inside_a_block)
{
	unsigned char *outer, *a, *b;
	uint64_t dev = 0;
	int id, id2;

	ASSERT_LT(0, add_region("outer", HAPMEM_CAP_DEFAULT | HAPMEM_CAP_CACHED, 0, 0, 4 * MiB,
				NULL));
	outer = caps_aligned_alloc(4096, 512 * KiB, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, outer);
	ASSERT_EQ(0, caps_dev_addr(outer, &dev));
	id = caps_region_add_mem("inner", outer, dev, 256 * KiB, 0, llc);
	ASSERT_LT(0, id);
	a = caps_malloc(1000, HAPMEM_CAP_LLC);
	ASSERT_NE(NULL, a);
	EXPECT_STREQ("inner", caps_region_name(a));
	EXPECT_TRUE(a >= outer && a < outer + 256 * KiB);
	EXPECT_EQ(HAPMEM_CAP_LLC, caps_region_caps(a) & HAPMEM_CAP_LLC);
	/* the outer block itself still belongs to the outer region past the inner one */
	EXPECT_STREQ("outer", caps_region_name(outer + 300 * KiB));
	/* a second one, in the other half, and one crossing the first: refused */
	id2 = caps_region_add_mem("inner2", outer + 256 * KiB, dev + 256 * KiB, 128 * KiB, 0,
				  llc);
	EXPECT_LT(0, id2);
	EXPECT_EQ(-EEXIST, caps_region_add_mem("crossing", outer + 192 * KiB, 0, 128 * KiB, 0,
					       llc));
	/* a nested one inside the nested one: the innermost wins */
	b = caps_malloc(100 * KiB, HAPMEM_CAP_LLC);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(0, caps_free(a));
	EXPECT_EQ(0, caps_free(b));
	EXPECT_EQ(0, caps_region_remove(id));
	EXPECT_EQ(0, caps_region_remove(id2));
	/* gone: the address is the outer block's again */
	EXPECT_STREQ("outer", caps_region_name(outer + 10));
	EXPECT_EQ(0, caps_free(outer));
}

TEST(innermost_wins)
{
	unsigned char *outer, *mid, *p;
	int id1, id2;

	ASSERT_LT(0, add_region("outer", HAPMEM_CAP_DEFAULT, 0, 0, 4 * MiB, NULL));
	outer = caps_aligned_alloc(4096, 512 * KiB, 0);
	ASSERT_NE(NULL, outer);
	id1 = caps_region_add_mem("mid", outer, 0, 512 * KiB, 0,
				  (const uint32_t[3]){ HAPMEM_CAP_UNCACHED, 0, 0 });
	ASSERT_LT(0, id1);
	mid = caps_aligned_alloc(4096, 128 * KiB, HAPMEM_CAP_UNCACHED);
	ASSERT_NE(NULL, mid);
	EXPECT_STREQ("mid", caps_region_name(mid));
	id2 = caps_region_add_mem("in", mid, 0, 128 * KiB, 0, llc);
	ASSERT_LT(0, id2);
	p = caps_malloc(64, HAPMEM_CAP_LLC);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("in", caps_region_name(p));
	EXPECT_EQ(0, caps_free(p));
	EXPECT_EQ(0, caps_region_remove(id2));
	EXPECT_EQ(0, caps_free(mid));
	EXPECT_EQ(0, caps_region_remove(id1));
	EXPECT_EQ(0, caps_free(outer));
}

TEST_HARNESS_MAIN
