// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator core: alignment, coalescing, in-place resize, segment
 * boundaries, error detection, statistics, walking, out-of-band metadata.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "core/core.h"

#define SEG_LEN	(1u << 20)

/* A core over one or more PROT_NONE segments: any access by the core faults. */
FIXTURE(core) {
	struct hm_core *c;
	uint8_t *mem;
	size_t mem_len;
};

FIXTURE_SETUP(core)
{
	self->mem_len = 4 * SEG_LEN;
	self->mem = mmap(NULL, self->mem_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->c = hm_core_create();
	ASSERT_NE(NULL, self->c);
	/* Exact accounting: no front-end cache unless a test enables it. */
	hm_core_set_cache_limit(self->c, 0);
	ASSERT_EQ(0, hm_core_add_segment(self->c, (uintptr_t)self->mem, 0x80000000ull,
					 SEG_LEN, 7));
}

FIXTURE_TEARDOWN(core)
{
	const char *why = "";

	EXPECT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
	hm_core_destroy(self->c);
	munmap(self->mem, self->mem_len);
}

static uintptr_t xalloc(struct __test_metadata *_metadata, struct hm_core *c,
			size_t size, size_t align)
{
	uintptr_t a = 0;

	EXPECT_EQ(0, hm_core_alloc(c, size, align, &a));
	return a;
}
#define ALLOC(sz, al) xalloc(_metadata, self->c, (sz), (al))

TEST_F(core, alignment_every_power_of_two)
{
	uintptr_t a[21];
	size_t align;
	int i;

	/* Room for the 1 MiB alignment. */
	ASSERT_LE(0, hm_core_add_segment(self->c, (uintptr_t)self->mem + SEG_LEN, 0, 2 * SEG_LEN, 0));
	for (i = 0, align = 1; i < 21; i++, align <<= 1) {
		/* A 1-granule filler breaks any accidental alignment of the next block. */
		uintptr_t filler = ALLOC(1, 0);

		a[i] = ALLOC(24, align);
		ASSERT_NE(0, a[i]);
		EXPECT_EQ(0, a[i] % align) TH_LOG("align %zu", align);
		EXPECT_EQ(0, a[i] % HM_CORE_GRANULE);
		EXPECT_EQ(0, hm_core_free(self->c, filler));
	}
	for (i = 0; i < 21; i++)
		EXPECT_EQ(0, hm_core_free(self->c, a[i]));
	{
		uintptr_t x;

		EXPECT_EQ(-EINVAL, hm_core_alloc(self->c, 16, 48, &x));
		EXPECT_EQ(-ENOMEM, hm_core_alloc(self->c, 16, 4 * SEG_LEN, &x));
	}
}

TEST_F(core, coalescing_restores_one_block)
{
	struct hm_core_stats st;
	uintptr_t a = ALLOC(100, 0), b = ALLOC(200, 0), c = ALLOC(300, 0), d = ALLOC(50, 0);

	EXPECT_EQ(b, a + 112);
	EXPECT_EQ(c, b + 208);
	hm_core_stats(self->c, &st);
	EXPECT_EQ(1, st.free_blocks);		/* only the tail is free */
	EXPECT_EQ(0, hm_core_free(self->c, a));
	EXPECT_EQ(0, hm_core_free(self->c, c));
	hm_core_stats(self->c, &st);
	EXPECT_EQ(3, st.free_blocks);		/* a, c, tail: d keeps c apart from the tail */
	EXPECT_EQ(0, hm_core_free(self->c, b));	/* merges with both neighbours */
	hm_core_stats(self->c, &st);
	EXPECT_EQ(2, st.free_blocks);
	EXPECT_EQ(0, hm_core_free(self->c, d));
	hm_core_stats(self->c, &st);
	EXPECT_EQ(1, st.free_blocks);
	EXPECT_EQ(SEG_LEN, st.largest_free);
	EXPECT_EQ(0, st.used_bytes);
	EXPECT_EQ(0, st.frag_permille);
	EXPECT_EQ(1, st.segments_free);
}

TEST_F(core, no_merge_across_segments)
{
	struct hm_core_stats st;
	uintptr_t a, b, owner = 0;
	int s2;

	/* A second segment right after the first one in the address space. */
	s2 = hm_core_add_segment(self->c, (uintptr_t)self->mem + SEG_LEN, 0x10000000ull, SEG_LEN, 9);
	ASSERT_LE(0, s2);
	EXPECT_EQ(-EEXIST, hm_core_add_segment(self->c, (uintptr_t)self->mem + SEG_LEN / 2, 0,
						SEG_LEN, 0));
	a = ALLOC(SEG_LEN, 0);
	b = ALLOC(SEG_LEN, 0);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	{
		uintptr_t x;

		/* Two adjacent empty segments cannot host one block spanning both. */
		EXPECT_EQ(0, hm_core_free(self->c, a));
		EXPECT_EQ(0, hm_core_free(self->c, b));
		EXPECT_EQ(-ENOMEM, hm_core_alloc(self->c, SEG_LEN + 16, 0, &x));
	}
	hm_core_stats(self->c, &st);
	EXPECT_EQ(2, st.free_blocks);
	EXPECT_EQ(2, st.segments_free);
	EXPECT_EQ(SEG_LEN, st.largest_free);
	a = ALLOC(64, 0);
	EXPECT_EQ(-EBUSY, hm_core_remove_segment(self->c, (a >= (uintptr_t)self->mem + SEG_LEN)
						  ? (unsigned int)s2 : 0, &owner));
	EXPECT_EQ(0, hm_core_free(self->c, a));
	EXPECT_EQ(0, hm_core_remove_segment(self->c, (unsigned int)s2, &owner));
	EXPECT_EQ(9, owner);
	EXPECT_EQ(-EINVAL, hm_core_remove_segment(self->c, (unsigned int)s2, &owner));
	EXPECT_EQ(-EFAULT, hm_core_free(self->c, (uintptr_t)self->mem + SEG_LEN + 64));
}

TEST_F(core, resize_in_place)
{
	uintptr_t a = ALLOC(256, 0), b = ALLOC(256, 0), c = ALLOC(64, 0), d;
	size_t sz;

	/* Grow into the free right neighbour. */
	EXPECT_EQ(0, hm_core_free(self->c, b));
	EXPECT_EQ(0, hm_core_resize(self->c, a, 400));
	EXPECT_EQ(0, hm_core_block_size(self->c, a, &sz));
	EXPECT_EQ(400, sz);
	EXPECT_EQ(0, hm_core_resize(self->c, a, 512));	/* takes the neighbour whole */
	EXPECT_EQ(-ENOMEM, hm_core_resize(self->c, a, 513));	/* c is in the way */
	/* Shrink: the tail becomes free and is reused at once. */
	EXPECT_EQ(0, hm_core_resize(self->c, a, 128));
	d = ALLOC(384, 0);
	EXPECT_EQ(a + 128, d);
	EXPECT_EQ(0, hm_core_free(self->c, d));
	/* Shrink next to a free block extends that block. */
	EXPECT_EQ(0, hm_core_resize(self->c, a, 16));
	d = ALLOC(496, 0);
	EXPECT_EQ(a + 16, d);
	EXPECT_EQ(0, hm_core_free(self->c, a));
	EXPECT_EQ(0, hm_core_free(self->c, c));
	EXPECT_EQ(0, hm_core_free(self->c, d));
	EXPECT_EQ(-EINVAL, hm_core_resize(self->c, a, 16));
}

TEST_F(core, double_free_and_foreign_pointers)
{
	uintptr_t a = ALLOC(100, 0), b = ALLOC(100, 0);
	int x;

	EXPECT_EQ(0, hm_core_free(self->c, a));
	EXPECT_EQ(-EINVAL, hm_core_free(self->c, a));		/* double free */
	EXPECT_EQ(-EINVAL, hm_core_free(self->c, b + 16));	/* interior pointer */
	EXPECT_EQ(-EFAULT, hm_core_free(self->c, (uintptr_t)&x));	/* not ours */
	EXPECT_EQ(-EFAULT, hm_core_free(self->c, 0));
	/* With the cache on, a double free of a parked block is caught too. */
	hm_core_set_cache_limit(self->c, SIZE_MAX);
	EXPECT_EQ(0, hm_core_free(self->c, b));
	EXPECT_EQ(-EINVAL, hm_core_free(self->c, b));
	EXPECT_EQ(-EINVAL, hm_core_resize(self->c, b, 10));
}

TEST_F(core, cache_reuses_and_flushes)
{
	struct hm_core_stats st;
	uintptr_t a, b, keep;

	hm_core_set_cache_limit(self->c, SIZE_MAX);
	keep = ALLOC(32, 0);
	a = ALLOC(100, 0);
	EXPECT_EQ(0, hm_core_free(self->c, a));
	hm_core_stats(self->c, &st);
	EXPECT_EQ(1, st.cached_blocks);
	EXPECT_EQ(0, st.live_blocks - 1);
	EXPECT_EQ(32, st.used_bytes);
	b = ALLOC(100, 0);
	EXPECT_EQ(a, b);		/* served from the cache */
	EXPECT_EQ(0, hm_core_free(self->c, b));
	hm_core_flush_cache(self->c);
	hm_core_stats(self->c, &st);
	EXPECT_EQ(0, st.cached_blocks);
	EXPECT_EQ(1, st.free_blocks);
	EXPECT_EQ(0, hm_core_free(self->c, keep));
	/* A full heap flushes the cache and coalesces before failing. */
	a = ALLOC(SEG_LEN / 2, 0);
	b = ALLOC(4000, 0);
	EXPECT_EQ(0, hm_core_free(self->c, b));
	EXPECT_EQ(0, hm_core_free(self->c, a));
	a = ALLOC(SEG_LEN, 0);
	EXPECT_NE(0, a);
	EXPECT_EQ(0, hm_core_free(self->c, a));
}

TEST_F(core, largest_free_is_allocatable)
{
	uintptr_t blocks[64], x;
	size_t largest;
	int i;

	for (i = 0; i < 64; i++)
		blocks[i] = ALLOC(1000 + 37 * i, 0);
	for (i = 0; i < 64; i += 3)
		EXPECT_EQ(0, hm_core_free(self->c, blocks[i]));
	largest = hm_core_largest_free(self->c);
	EXPECT_LT(SEG_LEN - 64 * 3000, largest);
	EXPECT_EQ(0, hm_core_alloc(self->c, largest, 0, &x));
	EXPECT_EQ(0, hm_core_free(self->c, x));
	for (i = 0; i < 64; i++)
		if (i % 3)
			EXPECT_EQ(0, hm_core_free(self->c, blocks[i]));
}

TEST_F(core, device_address_and_stats)
{
	struct hm_core_stats st;
	uintptr_t a = ALLOC(1000, 0);
	uint64_t dev;

	EXPECT_EQ(0, hm_core_dev_addr(self->c, a + 999, &dev));
	EXPECT_EQ(0x80000000ull + (a - (uintptr_t)self->mem) + 999, dev);
	EXPECT_EQ(-EFAULT, hm_core_dev_addr(self->c, (uintptr_t)self->mem + SEG_LEN, &dev));
	hm_core_stats(self->c, &st);
	EXPECT_EQ(SEG_LEN, st.total_bytes);
	EXPECT_EQ(1008, st.used_bytes);
	EXPECT_EQ(SEG_LEN - 1008, st.free_bytes);
	EXPECT_EQ(1, st.live_blocks);
	EXPECT_EQ(1, st.segments);
	EXPECT_EQ(0, st.segments_free);
	EXPECT_EQ(0, hm_core_free(self->c, a));
	hm_core_stats(self->c, &st);
	EXPECT_EQ(1008, st.peak_used_bytes);
	EXPECT_LT(0, st.meta_bytes);
}

struct walk_log {
	int n, used, freed;
	uintptr_t prev_end;
	int ordered;	/* each block starts where the previous one ended */
	int increasing;	/* addresses strictly increase (no block twice) */
	uintptr_t prev_addr;
};

static void count_block(const struct hm_block_info *b, void *arg)
{
	struct walk_log *w = arg;

	w->n++;
	w->used += b->state == HM_BLOCK_USED;
	w->freed += b->state == HM_BLOCK_FREE;
	if (w->prev_end && b->addr != w->prev_end)
		w->ordered = 0;
	if (w->prev_addr && b->addr <= w->prev_addr)
		w->increasing = 0;
	w->prev_addr = b->addr;
	w->prev_end = b->addr + b->size;
}

TEST_F(core, incremental_walk)
{
	struct hm_core_cursor cur = { 0 };
	struct walk_log w = { .ordered = 1 };
	uintptr_t a[100];
	int i, calls = 0;

	for (i = 0; i < 100; i++)
		a[i] = ALLOC(48, 0);
	for (i = 0; i < 100; i += 2)
		EXPECT_EQ(0, hm_core_free(self->c, a[i]));
	while (hm_core_walk(self->c, &cur, 10, count_block, &w))
		calls++;
	EXPECT_EQ(1, w.ordered);
	EXPECT_EQ(50, w.used);
	EXPECT_EQ(51, w.freed);		/* 50 holes and the tail */
	EXPECT_EQ(5, calls);		/* 50 live blocks, 10 per call */

	/*
	 * The heap changes between batches, even the block a batch stopped
	 * at: the walk still ends, never repeats a block, and visits every
	 * block that lived throughout.
	 */
	memset(&cur, 0, sizeof(cur));
	memset(&w, 0, sizeof(w));
	w.increasing = 1;
	EXPECT_EQ(1, hm_core_walk(self->c, &cur, 5, count_block, &w));
	EXPECT_EQ(0, hm_core_free(self->c, a[9]));	/* the block the batch stopped at */
	EXPECT_EQ(0, hm_core_free(self->c, a[99]));
	while (hm_core_walk(self->c, &cur, 5, count_block, &w))
		;
	EXPECT_EQ(1, w.increasing);
	EXPECT_EQ(49, w.used);		/* a[9] was seen before it was freed */
	for (i = 1; i < 99; i += 2)
		if (i != 9)
			EXPECT_EQ(0, hm_core_free(self->c, a[i]));
}

/*
 * A batch that ends on the last block of a full segment: the next call
 * starts in the next segment with no block reported there yet, and must
 * walk it from its start.
 */
TEST_F(core, walk_resumes_at_a_segment_start)
{
	struct hm_core_cursor cur = { 0 };
	struct walk_log w = { 0 };
	uintptr_t a[4], b;
	int i;

	for (i = 0; i < 4; i++)
		a[i] = ALLOC(SEG_LEN / 4, 0);
	ASSERT_LE(0, hm_core_add_segment(self->c, (uintptr_t)self->mem + 2 * SEG_LEN, 0,
					 SEG_LEN, 8));
	b = ALLOC(64, 0);
	EXPECT_EQ(1, hm_core_walk(self->c, &cur, 4, count_block, &w));
	EXPECT_EQ(4, w.used);
	EXPECT_EQ(0, w.freed);
	while (hm_core_walk(self->c, &cur, 4, count_block, &w))
		;
	EXPECT_EQ(5, w.used);
	EXPECT_EQ(1, w.freed);		/* the second segment's tail */
	EXPECT_EQ(6, w.n);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, hm_core_free(self->c, a[i]));
	EXPECT_EQ(0, hm_core_free(self->c, b));
}

TEST_F(core, rejects_bad_segments)
{
	EXPECT_EQ(-EINVAL, hm_core_add_segment(self->c, (uintptr_t)self->mem + 2 * SEG_LEN + 8, 0,
					       SEG_LEN, 0));
	EXPECT_EQ(-EINVAL, hm_core_add_segment(self->c, (uintptr_t)self->mem + 2 * SEG_LEN, 0,
					       HM_CORE_MIN_SEGMENT - 16, 0));
	EXPECT_EQ(-EEXIST, hm_core_add_segment(self->c, (uintptr_t)self->mem, 0, SEG_LEN, 0));
	EXPECT_EQ(0, hm_core_unused_segment(self->c));
	EXPECT_EQ(16, hm_core_need(0, 0));
	EXPECT_EQ(4096 + 4096 - 16, hm_core_need(4090, 4096));
	EXPECT_EQ(0, hm_core_need(HM_CORE_MAX_BLOCK, 64));
}

TEST_HARNESS_MAIN
