// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator core: size of the out-of-band metadata.  meta_bytes must stay
 * an honest, bounded count per block, follow the live block count down as
 * well as up, and the checks (double free, foreign pointers) must survive
 * every resize of the address index.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "core/core.h"

#define SEG_LEN		(4u << 20)
#define NBLK		50000u
/*
 * Per block: a 32-byte record in an array grown in 1/16 steps, and 4-byte
 * index slots at a load of at least 1/4 (the index doubles at 1/2).
 */
#define PER_BLOCK	52u
#define FIXED		(16u * 1024)

FIXTURE(meta) {
	struct hm_core *c;
	uint8_t *mem;
	uintptr_t *a;
};

FIXTURE_SETUP(meta)
{
	self->mem = mmap(NULL, SEG_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->a = calloc(NBLK, sizeof(*self->a));
	ASSERT_NE(NULL, self->a);
	self->c = hm_core_create();
	ASSERT_NE(NULL, self->c);
	hm_core_set_cache_limit(self->c, 0);
	ASSERT_EQ(0, hm_core_add_segment(self->c, (uintptr_t)self->mem, 0, SEG_LEN, 0));
}

FIXTURE_TEARDOWN(meta)
{
	const char *why = "";

	EXPECT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
	hm_core_destroy(self->c);
	free(self->a);
	munmap(self->mem, SEG_LEN);
}

static uint64_t meta(struct hm_core *c, uint32_t *blocks)
{
	struct hm_core_stats st;

	hm_core_stats(c, &st);
	*blocks = st.live_blocks + st.free_blocks + st.cached_blocks;
	return st.meta_bytes;
}

/* At every block count on the way up, meta_bytes stays within a per-block bound. */
TEST_F(meta, bounded_per_block_while_growing)
{
	uint32_t i, blocks;
	uint64_t m;

	for (i = 0; i < NBLK; i++) {
		ASSERT_EQ(0, hm_core_alloc(self->c, 16 + (i % 5) * 16, 0, &self->a[i]));
		m = meta(self->c, &blocks);
		ASSERT_LE(m, FIXED + (uint64_t)PER_BLOCK * blocks)
			TH_LOG("%u blocks: %llu meta bytes", blocks, (unsigned long long)m);
	}
}

/* Every other block freed (no coalescing): blocks double, the bound still holds. */
TEST_F(meta, bounded_with_free_holes)
{
	uint32_t i, blocks;
	uint64_t m;

	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, hm_core_alloc(self->c, 32, 0, &self->a[i]));
	for (i = 0; i < NBLK; i += 2)
		ASSERT_EQ(0, hm_core_free(self->c, self->a[i]));
	m = meta(self->c, &blocks);
	EXPECT_LE(NBLK, blocks);
	EXPECT_LE(m, FIXED + (uint64_t)PER_BLOCK * blocks);
}

/*
 * Churn down from NBLK live blocks to a few: the address index shrinks with
 * the live count (on the allocation path), so meta_bytes falls by at least
 * the index's share; double free and foreign pointers are still caught
 * after every resize.
 */
TEST_F(meta, index_shrinks_and_checks_survive)
{
	uint32_t i, blocks, live = NBLK;
	uint64_t peak, low;
	const char *why = "";

	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &self->a[i]));
	peak = meta(self->c, &blocks);
	srand(1);
	while (live > 100) {
		/* Free two, allocate one: the index resizes many times on the way down. */
		for (i = 0; i < 2; i++) {
			uint32_t v = (uint32_t)rand() % live;
			uintptr_t gone = self->a[v];

			ASSERT_EQ(0, hm_core_free(self->c, gone));
			self->a[v] = self->a[--live];
			ASSERT_EQ(-EINVAL, hm_core_free(self->c, gone));
		}
		ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &self->a[live++]));
		if (live % 4096 == 0)
			ASSERT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
	}
	low = meta(self->c, &blocks);
	/* At <= 1/2 load the index held >= 2 * NBLK four-byte slots at the peak. */
	EXPECT_LE(low + (uint64_t)NBLK * 4 * 2 - 4096, peak)
		TH_LOG("peak %llu, after churn %llu", (unsigned long long)peak,
		       (unsigned long long)low);
	for (i = 0; i < live; i++) {
		size_t sz;

		ASSERT_EQ(0, hm_core_block_size(self->c, self->a[i], &sz));
		EXPECT_EQ(16, sz);
		EXPECT_EQ(-EINVAL, hm_core_free(self->c, self->a[i] + 16 * 0 + 8));
	}
	EXPECT_EQ(-EFAULT, hm_core_free(self->c, (uintptr_t)self->mem + SEG_LEN + 4096));
	for (i = 0; i < live; i++)
		ASSERT_EQ(0, hm_core_free(self->c, self->a[i]));
	for (i = 0; i < live; i++)
		ASSERT_EQ(-EINVAL, hm_core_free(self->c, self->a[i]));
}

struct tag_count { unsigned int used_tagged, free_tagged, nfree; };

static void count_tags(const struct hm_block_info *b, void *arg)
{
	struct tag_count *t = arg;

	if (b->state == HM_BLOCK_USED && b->tag == 0x5a5a5a5a)
		t->used_tagged++;
	if (b->state == HM_BLOCK_FREE) {
		t->nfree++;
		t->free_tagged += b->tag != 0;
	}
}

/*
 * Tags survive in live blocks whose neighbours' free-list links change,
 * and free blocks report tag 0.
 */
TEST_F(meta, tags_kept_next_to_free_links)
{
	struct hm_core_cursor cur = { 0 };
	struct tag_count t = { 0 };
	uintptr_t x[6];
	unsigned int i;

	hm_core_set_tag(self->c, 0x5a5a5a5a);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, hm_core_alloc(self->c, 64, 0, &x[i]));
	hm_core_set_tag(self->c, 0);
	/* Three free holes of one class: their list links point at each other. */
	ASSERT_EQ(0, hm_core_free(self->c, x[1]));
	ASSERT_EQ(0, hm_core_free(self->c, x[3]));
	ASSERT_EQ(0, hm_core_free(self->c, x[5]));
	while (hm_core_walk(self->c, &cur, 16, count_tags, &t) == 1)
		;
	EXPECT_EQ(3, t.used_tagged);
	EXPECT_EQ(3, t.nfree);
	EXPECT_EQ(0, t.free_tagged);
}

TEST_HARNESS_MAIN
