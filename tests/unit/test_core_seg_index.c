// SPDX-License-Identifier: GPL-2.0-only
/*
 * The address -> segment index (lib/core/seg_index.c) with segments of
 * any size: many small segments in one 64 KiB chunk, segments crossing
 * chunks next to small ones, overlap refusal, removal, and a random
 * sequence checked address by address against a brute-force model; then
 * the allocator core over segments far below 64 KiB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "kselftest_harness.h"

#include "core/core.h"
#include "core/seg_index.h"

#define CHUNK ((uintptr_t)1 << HM_SEG_CHUNK_SHIFT)

TEST(small_segments_in_one_chunk)
{
	struct hm_seg_index ix = { 0 };
	uintptr_t base = 0x7f0000000000 + 5 * CHUNK;
	unsigned int i;

	/* 100 segments of 48 bytes, 16 apart, entered in a scrambled order */
	for (i = 0; i < 100; i++) {
		unsigned int k = (i * 37) % 100;

		ASSERT_EQ(0, hm_seg_index_add(&ix, base + k * 64, 48, k));
	}
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(i, hm_seg_index_find(&ix, base + i * 64));
		EXPECT_EQ(i, hm_seg_index_find(&ix, base + i * 64 + 47));
		EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base + i * 64 + 48));
		EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base + i * 64 + 63));
	}
	EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base - 1));
	/* overlaps refused, gaps accepted */
	EXPECT_EQ(-EEXIST, hm_seg_index_add(&ix, base + 40, 16, 200));
	EXPECT_EQ(-EEXIST, hm_seg_index_add(&ix, base + 48, 32, 200));
	EXPECT_EQ(-EEXIST, hm_seg_index_add(&ix, base - CHUNK, 2 * CHUNK, 200));
	EXPECT_EQ(-EINVAL, hm_seg_index_add(&ix, base + 48, 16, 5));	/* id in use */
	EXPECT_EQ(-EINVAL, hm_seg_index_add(&ix, base + 48, 0, 200));
	EXPECT_EQ(-EINVAL, hm_seg_index_add(&ix, base + 48, 16, HM_SEG_NONE));
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 48, 16, 200));
	EXPECT_EQ(200, hm_seg_index_find(&ix, base + 50));
	EXPECT_TRUE(hm_seg_index_overlaps(&ix, base + 60, 8));
	EXPECT_FALSE(hm_seg_index_overlaps(&ix, base + 112, 16));
	/* remove every other one: the rest still found */
	for (i = 0; i < 100; i += 2)
		hm_seg_index_remove(&ix, base + i * 64, 48, i);
	for (i = 0; i < 100; i++)
		EXPECT_EQ(i % 2 ? i : HM_SEG_NONE, hm_seg_index_find(&ix, base + i * 64 + 8));
	EXPECT_EQ(200, hm_seg_index_find(&ix, base + 63));
	EXPECT_LT(0, hm_seg_index_bytes(&ix));
	hm_seg_index_fini(&ix);
	EXPECT_EQ(0, hm_seg_index_bytes(&ix));
}

TEST(large_and_small_mixed)
{
	struct hm_seg_index ix = { 0 };
	uintptr_t base = 0x100000000ull;
	unsigned int lo, hi;

	/* small at the start of chunk 0, a big one from mid chunk 0 to mid chunk 3,
	 * small ones after it in chunk 3 */
	ASSERT_EQ(0, hm_seg_index_add(&ix, base, 256, 1));
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 1024, 3 * CHUNK, 2));
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 3 * CHUNK + 1024, 16, 3));
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 3 * CHUNK + 2048, 256, 4));
	EXPECT_EQ(1, hm_seg_index_find(&ix, base + 255));
	EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base + 512));
	EXPECT_EQ(2, hm_seg_index_find(&ix, base + 1024));
	EXPECT_EQ(2, hm_seg_index_find(&ix, base + 2 * CHUNK));
	EXPECT_EQ(2, hm_seg_index_find(&ix, base + 3 * CHUNK + 1023));
	EXPECT_EQ(3, hm_seg_index_find(&ix, base + 3 * CHUNK + 1024));
	EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base + 3 * CHUNK + 1040));
	EXPECT_EQ(4, hm_seg_index_find(&ix, base + 3 * CHUNK + 2048 + 255));
	hm_seg_index_lookup(&ix, base + CHUNK + 5, &lo, &hi);
	EXPECT_EQ(2, lo);
	EXPECT_EQ(HM_SEG_NONE, hi);
	EXPECT_EQ(-EEXIST, hm_seg_index_add(&ix, base + 512, 1024, 9));	/* touches 2 */
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 512, 512, 9));	/* the exact gap */
	hm_seg_index_remove(&ix, base + 1024, 3 * CHUNK, 2);
	EXPECT_EQ(HM_SEG_NONE, hm_seg_index_find(&ix, base + 2 * CHUNK));
	EXPECT_EQ(3, hm_seg_index_find(&ix, base + 3 * CHUNK + 1024));
	EXPECT_EQ(9, hm_seg_index_find(&ix, base + 1023));
	/* id 2 is free again, for a segment elsewhere */
	ASSERT_EQ(0, hm_seg_index_add(&ix, base + 2 * CHUNK + 16, 32, 2));
	EXPECT_EQ(2, hm_seg_index_find(&ix, base + 2 * CHUNK + 40));
	hm_seg_index_fini(&ix);
}

/* Random adds and removes against a brute-force list of extents. */
TEST(random_against_model)
{
	enum { IDS = 200, SPAN = 1 << 20 };
	struct { uintptr_t base; size_t len; bool live; } m[IDS] = { 0 };
	struct hm_seg_index ix = { 0 };
	uintptr_t origin = 0x55550000ull;
	unsigned int seed = 7, op, adds = 0, i;

	for (op = 0; op < 20000; op++) {
		unsigned int id = (unsigned int)rand_r(&seed) % IDS;

		if (m[id].live) {
			hm_seg_index_remove(&ix, m[id].base, m[id].len, id);
			m[id].live = false;
		} else {
			uintptr_t b = origin + ((uintptr_t)rand_r(&seed) % SPAN & ~(uintptr_t)15);
			size_t big = (size_t)rand_r(&seed) % (3 * CHUNK);
			size_t len = 16 + (rand_r(&seed) % 4 ? (size_t)rand_r(&seed) % 2048 : big);
			bool clash = false;
			int err;

			len &= ~(size_t)15;
			for (i = 0; i < IDS; i++)
				if (m[i].live && m[i].base < b + len && b < m[i].base + m[i].len)
					clash = true;
			err = hm_seg_index_add(&ix, b, len, id);
			ASSERT_EQ(clash ? -EEXIST : 0, err);
			if (!err) {
				m[id] = (typeof(m[0])){ b, len, true };
				adds++;
			}
		}
		if (op % 500 == 0) {
			/* probe around every live segment and at random */
			for (i = 0; i < IDS; i++) {
				if (!m[i].live)
					continue;
				ASSERT_EQ(i, hm_seg_index_find(&ix, m[i].base));
				ASSERT_EQ(i, hm_seg_index_find(&ix, m[i].base + m[i].len - 1));
			}
			for (i = 0; i < 2000; i++) {
				uintptr_t a = origin + (uintptr_t)rand_r(&seed) % (SPAN + 3 * CHUNK);
				unsigned int want = HM_SEG_NONE, k;

				for (k = 0; k < IDS; k++)
					if (m[k].live && a >= m[k].base && a < m[k].base + m[k].len)
						want = k;
				ASSERT_EQ(want, hm_seg_index_find(&ix, a));
			}
		}
	}
	TH_LOG("%u segments added", adds);
	EXPECT_LT(1000, adds);
	hm_seg_index_fini(&ix);
}

/* The core over segments of a few hundred bytes, several per 64 KiB chunk. */
TEST(core_small_segments)
{
	enum { N = 40, SZ = 256 };
	static _Alignas(16) char mem[N][SZ + 16];
	struct hm_core *c = hm_core_create();
	uintptr_t p[N], extra;
	int seg[N];
	uint64_t dev;
	const char *why;
	int i, s;

	ASSERT_NE(NULL, c);
	EXPECT_EQ(HM_CORE_GRANULE, HM_CORE_MIN_SEGMENT);
	EXPECT_EQ(-EINVAL, hm_core_add_segment(c, (uintptr_t)mem[0], 0, 8, 0));
	for (i = 0; i < N; i++) {
		seg[i] = hm_core_add_segment(c, (uintptr_t)mem[i], 0x1000ull * (unsigned int)i, SZ,
					     (uintptr_t)i);
		ASSERT_LE(0, seg[i]);
	}
	EXPECT_EQ(-EEXIST, hm_core_add_segment(c, (uintptr_t)mem[3] + 128, 0, 512, 0));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, hm_core_alloc(c, SZ, 0, &p[i]));
		ASSERT_EQ(0, hm_core_dev_addr(c, p[i] + 100, &dev));
		s = (int)((p[i] - (uintptr_t)mem[0]) / (SZ + 16));
		EXPECT_EQ(0x1000ull * (unsigned int)s + 100, dev);
	}
	EXPECT_NE(0, hm_core_alloc(c, 16, 0, &extra));	/* all full */
	EXPECT_EQ(-EFAULT, hm_core_dev_addr(c, (uintptr_t)mem[5] + SZ, &dev));	/* the gap */
	EXPECT_EQ(0, hm_core_check(c, &why)) TH_LOG("%s", why);
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, hm_core_free(c, p[i]));
	for (i = 0; i < N; i++) {
		uintptr_t owner;

		ASSERT_EQ(0, hm_core_remove_segment(c, (unsigned int)seg[i], &owner));
		EXPECT_EQ((uintptr_t)i, owner);
	}
	EXPECT_EQ(0, hm_core_check(c, &why)) TH_LOG("%s", why);
	hm_core_destroy(c);
}

TEST_HARNESS_MAIN
