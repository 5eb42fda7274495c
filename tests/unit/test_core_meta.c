// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator core: size of the out-of-band metadata.  meta_bytes must stay
 * an honest, bounded count: a fixed part, two bits of bitmap per granule
 * of segment, and a bounded cost per free or cached block
 * (live blocks have no record).  It must follow the free block count down
 * as well as up, and the checks (double free, foreign pointers) must
 * survive every resize of the record pool and its index.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "core/core.h"

#define SEG_LEN		(4u << 20)
#define NBLK		50000u
/* The core, its segment table and segment map. */
#define FIXED		(16u * 1024)
/* Two bits per granule (block start, not live), and the first's summary levels. */
#define BITMAP		(SEG_LEN / 16 / 8 * 2 + SEG_LEN / 16 / 8 / 63 + 64)
/*
 * Per free or cached block: a 20-byte record in a pool kept between 1/4
 * and fully used (80), and 4-byte index slots at a load of at least 1/8
 * (32), with some rounding.  Both have a floor of 64 entries; on top, the 8 entries kept
 * spare for free() and the records freed since the last resize (which
 * happens on the allocation path only) are charged to REC_FLOOR.
 */
#define PER_REC		120u
#define REC_FLOOR	(64u * (20 + 4 * 8) + 1024)

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

/* meta_bytes, and the blocks that carry a record (free and cached). */
static uint64_t meta(struct hm_core *c, uint32_t *recs, uint32_t *live)
{
	struct hm_core_stats st;

	hm_core_stats(c, &st);
	*recs = st.free_blocks + st.cached_blocks;
	*live = st.live_blocks;
	return st.meta_bytes;
}

static uint64_t bound(uint32_t recs)
{
	return FIXED + BITMAP + REC_FLOOR + (uint64_t)PER_REC * recs;
}

/*
 * On the way up, live blocks add nothing: 50000 of them cost < 2 bytes
 * each (the bitmaps of the whole 4 MiB segment, 64 KiB, and the rest).
 */
TEST_F(meta, live_blocks_cost_no_record)
{
	uint32_t i, recs, live;
	uint64_t m, first;

	ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &self->a[0]));
	first = meta(self->c, &recs, &live);
	for (i = 1; i < NBLK; i++) {
		ASSERT_EQ(0, hm_core_alloc(self->c, 16 + (i % 5) * 16, 0, &self->a[i]));
		m = meta(self->c, &recs, &live);
		ASSERT_LE(m, bound(recs)) TH_LOG("%u records: %llu meta bytes", recs,
						   (unsigned long long)m);
	}
	EXPECT_EQ(NBLK, live);
	EXPECT_EQ(first, m);
	EXPECT_GT(2 * NBLK, m) TH_LOG("%llu meta bytes", (unsigned long long)m);
}

/* Every other block freed (no coalescing): one record per hole, the bound holds. */
TEST_F(meta, bounded_with_free_holes)
{
	uint32_t i, recs, live;
	uint64_t m;

	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, hm_core_alloc(self->c, 32, 0, &self->a[i]));
	for (i = 0; i < NBLK; i += 2) {
		ASSERT_EQ(0, hm_core_free(self->c, self->a[i]));
		m = meta(self->c, &recs, &live);
		ASSERT_LE(m, bound(recs));
	}
	EXPECT_LE(NBLK / 2, recs);
	EXPECT_EQ(NBLK / 2, live);
}

/*
 * Churn down from NBLK live blocks to a few, with or without the cache:
 * the free block count rises then falls, and the record pool and its index
 * follow it down (on the allocation path); double free and foreign
 * pointers are still caught after every resize.
 */
static void churn_down(struct __test_metadata *_metadata, struct hm_core *c, uint8_t *mem,
		       uintptr_t *a)
{
	uint32_t i, recs, live = NBLK, nlive;
	uint64_t peak = 0, low, m;
	const char *why = "";

	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, hm_core_alloc(c, 16, 0, &a[i]));
	srand(1);
	while (live > 100) {
		/* Free two, allocate one: the pool resizes many times on the way down. */
		for (i = 0; i < 2; i++) {
			uint32_t v = (uint32_t)rand() % live;
			uintptr_t gone = a[v];

			ASSERT_EQ(0, hm_core_free(c, gone));
			a[v] = a[--live];
			ASSERT_EQ(-EINVAL, hm_core_free(c, gone));
		}
		ASSERT_EQ(0, hm_core_alloc(c, 16, 0, &a[live++]));
		m = meta(c, &recs, &nlive);
		ASSERT_LE(m, bound(recs)) TH_LOG("%u records, %u live", recs, nlive);
		if (m > peak)
			peak = m;
		if (live % 4096 == 0)
			ASSERT_EQ(0, hm_core_check(c, &why)) TH_LOG("%s", why);
	}
	low = meta(c, &recs, &nlive);
	EXPECT_LE(low * 2, peak) TH_LOG("peak %llu, after churn %llu", (unsigned long long)peak,
					(unsigned long long)low);
	for (i = 0; i < live; i++) {
		size_t sz;

		ASSERT_EQ(0, hm_core_block_size(c, a[i], &sz));
		EXPECT_EQ(16, sz);
		EXPECT_EQ(-EINVAL, hm_core_free(c, a[i] + 8));
	}
	EXPECT_EQ(-EFAULT, hm_core_free(c, (uintptr_t)mem + SEG_LEN + 4096));
	for (i = 0; i < live; i++)
		ASSERT_EQ(0, hm_core_free(c, a[i]));
	for (i = 0; i < live; i++)
		ASSERT_EQ(-EINVAL, hm_core_free(c, a[i]));
}

TEST_F(meta, pool_shrinks_and_checks_survive)
{
	churn_down(_metadata, self->c, self->mem, self->a);
}

TEST_F(meta, pool_shrinks_with_cached_blocks)
{
	hm_core_set_cache_limit(self->c, SIZE_MAX);
	churn_down(_metadata, self->c, self->mem, self->a);
}

/*
 * Cached blocks whose records sit at the top of the pool when it shrinks:
 * the records move, and the cache stacks, the index and double-free
 * detection follow them.
 */
TEST_F(meta, pool_shrink_moves_cached_records)
{
	enum { PAIRS = 400, HOLES = 300, CACHED = 48, BIG = 9 * 1024 };
	uintptr_t *small = self->a, *big = self->a + PAIRS, x;
	uint32_t i, recs, live;
	uint64_t before, after;
	const char *why = "";
	struct hm_core_stats st;

	for (i = 0; i < PAIRS; i++) {
		ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &small[i]));
		ASSERT_EQ(0, hm_core_alloc(self->c, BIG, 0, &big[i]));
	}
	/* Free holes first (low records), then cached blocks (the pool's top). */
	for (i = 0; i < HOLES; i++)
		ASSERT_EQ(0, hm_core_free(self->c, small[i]));
	hm_core_set_cache_limit(self->c, SIZE_MAX);
	for (i = HOLES; i < HOLES + CACHED; i++)
		ASSERT_EQ(0, hm_core_free(self->c, small[i]));
	hm_core_stats(self->c, &st);
	ASSERT_EQ(CACHED, st.cached_blocks);
	/* The holes merge into their big neighbours: most records go back. */
	for (i = 0; i < HOLES; i++)
		ASSERT_EQ(0, hm_core_free(self->c, big[i]));
	before = meta(self->c, &recs, &live);
	ASSERT_EQ(0, hm_core_alloc(self->c, BIG, 0, &x));	/* the pool shrinks here */
	after = meta(self->c, &recs, &live);
	EXPECT_LT(after + 2048, before);
	ASSERT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
	hm_core_stats(self->c, &st);
	ASSERT_EQ(CACHED, st.cached_blocks);
	for (i = HOLES; i < HOLES + CACHED; i++)
		ASSERT_EQ(-EINVAL, hm_core_free(self->c, small[i]));
	/* Every cached block comes back out of the cache, once. */
	for (i = 0; i < CACHED; i++) {
		uintptr_t y;

		ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &y));
		EXPECT_GE(y, small[HOLES]);
		EXPECT_LE(y, small[HOLES + CACHED - 1]);
	}
	hm_core_stats(self->c, &st);
	EXPECT_EQ(0, st.cached_blocks);
	ASSERT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
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
