// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem's address map (lib/util/amap.c): the table behind every lookup of
 * a map by address.  Checked against a brute-force model.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kselftest_harness.h"

#include "util/amap.h"

TEST(insert_find_remove)
{
	struct hm_amap m = HM_AMAP_INIT;
	int a, b, c;

	ASSERT_EQ(0, hm_amap_insert(&m, 0x1000, 0x1000, &a));
	ASSERT_EQ(0, hm_amap_insert(&m, 0x3000, 0x2000, &b));
	ASSERT_EQ(0, hm_amap_insert(&m, 0x2000, 0x1000, &c));	/* fills the gap exactly */
	EXPECT_EQ(3U, m.n);
	EXPECT_EQ(NULL, hm_amap_find(&m, 0xfff));
	EXPECT_EQ(&a, hm_amap_find(&m, 0x1000));
	EXPECT_EQ(&a, hm_amap_find(&m, 0x1fff));
	EXPECT_EQ(&c, hm_amap_find(&m, 0x2000));
	EXPECT_EQ(&b, hm_amap_find(&m, 0x4fff));
	EXPECT_EQ(NULL, hm_amap_find(&m, 0x5000));
	EXPECT_EQ(&b, hm_amap_find_exact(&m, 0x3000));
	EXPECT_EQ(NULL, hm_amap_find_exact(&m, 0x3001));
	EXPECT_EQ(0x2000U, hm_amap_entry(&m, 0x3000)->len);
	EXPECT_EQ(NULL, hm_amap_entry(&m, 0x3800));

	/* overlaps, touching is not overlapping */
	EXPECT_EQ(-EEXIST, hm_amap_insert(&m, 0x0800, 0x1000, &a));
	EXPECT_EQ(-EEXIST, hm_amap_insert(&m, 0x4fff, 0x10, &a));
	EXPECT_EQ(-EEXIST, hm_amap_insert(&m, 0, 0x10000, &a));
	EXPECT_EQ(-EEXIST, hm_amap_insert(&m, 0x1800, 1, &a));
	EXPECT_EQ(0, hm_amap_overlaps(&m, 0x5000, 0x1000));
	EXPECT_EQ(0, hm_amap_overlaps(&m, 0, 0x1000));
	EXPECT_EQ(1, hm_amap_overlaps(&m, 0, 0x1001));
	EXPECT_EQ(0, hm_amap_overlaps(&m, 0x1800, 0));
	EXPECT_EQ(-EINVAL, hm_amap_insert(&m, 0x9000, 0, &a));
	EXPECT_EQ(-EINVAL, hm_amap_insert(&m, UINT64_MAX - 10, 0x100, &a));
	EXPECT_EQ(3U, m.n);

	EXPECT_EQ(NULL, hm_amap_remove(&m, 0x2800));	/* not a start */
	EXPECT_EQ(&c, hm_amap_remove(&m, 0x2000));
	EXPECT_EQ(NULL, hm_amap_find(&m, 0x2000));
	EXPECT_EQ(NULL, hm_amap_remove(&m, 0x2000));
	EXPECT_EQ(2U, m.n);
	hm_amap_clear(&m);
	EXPECT_EQ(0U, m.n);
	EXPECT_EQ(NULL, hm_amap_find(&m, 0x1000));
}

TEST(top_of_address_space)
{
	struct hm_amap m = HM_AMAP_INIT;
	int a;

	ASSERT_EQ(0, hm_amap_insert(&m, UINT64_MAX - 0xfff, 0xfff, &a));
	EXPECT_EQ(&a, hm_amap_find(&m, UINT64_MAX - 1));
	EXPECT_EQ(NULL, hm_amap_find(&m, UINT64_MAX));
	EXPECT_EQ(1, hm_amap_overlaps(&m, UINT64_MAX - 0x10, 0x10));
	hm_amap_clear(&m);
}

/* Random operations against a bitmap model of 4096 unit cells. */
#define CELLS 4096
TEST(random_against_model)
{
	static void *owner[CELLS];
	static uintptr_t starts[CELLS];
	struct hm_amap m = HM_AMAP_INIT;
	unsigned int seed = 12345, i;
	int ops = 200000;

	while (ops--) {
		uint64_t s = rand_r(&seed) % CELLS, l = 1 + rand_r(&seed) % 64, k;
		int free_range = 1, ret;

		if (rand_r(&seed) % 3 == 0) {
			/* remove whatever starts at s */
			void *v = hm_amap_remove(&m, s * 16);

			ASSERT_EQ(starts[s] ? (void *)&starts[s] : NULL, v);
			if (v) {
				for (k = s; k < CELLS && owner[k] == v; k++)
					owner[k] = NULL;
				starts[s] = 0;
			}
			continue;
		}
		if (s + l > CELLS)
			l = CELLS - s;
		for (k = s; k < s + l; k++)
			if (owner[k])
				free_range = 0;
		ASSERT_EQ(!free_range, hm_amap_overlaps(&m, s * 16, l * 16));
		ret = hm_amap_insert(&m, s * 16, l * 16, &starts[s]);
		ASSERT_EQ(free_range ? 0 : -EEXIST, ret);
		if (!ret) {
			for (k = s; k < s + l; k++)
				owner[k] = &starts[s];
			starts[s] = 1;
		}
		/* probe a few addresses against the model */
		for (i = 0; i < 4; i++) {
			uint64_t a = rand_r(&seed) % (CELLS * 16);

			ASSERT_EQ(owner[a / 16], hm_amap_find(&m, a));
		}
	}
	hm_amap_clear(&m);
}

TEST_HARNESS_MAIN
