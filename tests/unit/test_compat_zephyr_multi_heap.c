// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr multi-heap face (<zephyr/sys/multi_heap.h>) on the host:
 * small sys_heaps added out of address order, the user's choice function
 * (with cfg, align and size), get_heap and its user data, free routed to
 * the right heap, realloc in the block's heap first and then through the
 * choice function, NULL/0 rules, and the MAX_MULTI_HEAPS bound.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include <zephyr/sys/multi_heap.h>

static _Alignas(64) char mem[4][512];
static struct sys_heap heaps[4];
static int choice_calls;
static size_t last_align, last_size;

/* cfg: the index of the heap to use, or -1: the first that has room. */
static void *choose(struct sys_multi_heap *mh, void *cfg, size_t align, size_t size)
{
	long want = (long)cfg;
	unsigned int i;
	void *p;

	choice_calls++;
	last_align = align;
	last_size = size;
	if (want >= 0)
		return sys_heap_aligned_alloc(&heaps[want], align, size);
	for (i = 0; i < mh->nheaps; i++) {
		p = sys_heap_aligned_alloc(mh->heaps[i].heap, align, size);
		if (p)
			return p;
	}
	return NULL;
}

static void setup(struct sys_multi_heap *mh)
{
	static const int order[4] = { 2, 0, 3, 1 };
	int i;

	sys_multi_heap_init(mh, choose);
	for (i = 0; i < 4; i++) {
		sys_heap_init(&heaps[order[i]], mem[order[i]], sizeof(mem[0]));
		sys_multi_heap_add_heap(mh, &heaps[order[i]], (void *)(long)(100 + order[i]));
	}
	choice_calls = 0;
}

TEST(heaps_sorted_and_found)
{
	struct sys_multi_heap mh;
	const struct sys_multi_heap_rec *rec;
	unsigned int i;
	char outside;

	setup(&mh);
	ASSERT_EQ(4, mh.nheaps);
	EXPECT_EQ((sys_multi_heap_fn_t)choose, mh.choice);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(&heaps[i], mh.heaps[i].heap);	/* by address: mem[0] < mem[1] ... */
	for (i = 0; i < 4; i++) {
		rec = sys_multi_heap_get_heap(&mh, mem[i] + 100);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ(&heaps[i], rec->heap);
		EXPECT_EQ((void *)(long)(100 + i), rec->user_data);
	}
	EXPECT_EQ(NULL, sys_multi_heap_get_heap(&mh, &outside));
	EXPECT_EQ(NULL, sys_multi_heap_get_heap(&mh, mem[3] + sizeof(mem[3])));
}

TEST(alloc_through_choice_and_free)
{
	struct sys_multi_heap mh;
	void *p, *q, *r;

	setup(&mh);
	p = sys_multi_heap_alloc(&mh, (void *)2L, 100);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, choice_calls);
	EXPECT_EQ(0, last_align);
	EXPECT_EQ(100, last_size);
	EXPECT_TRUE((char *)p >= mem[2] && (char *)p < mem[2] + 512);
	q = sys_multi_heap_aligned_alloc(&mh, (void *)3L, 128, 50);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(128, last_align);
	EXPECT_EQ(0, (uintptr_t)q % 128);
	EXPECT_EQ(&heaps[3], sys_multi_heap_get_heap(&mh, q)->heap);
	EXPECT_EQ(NULL, sys_multi_heap_alloc(&mh, (void *)1L, 600));	/* the choice said no */
	/* free finds each block's heap: both heaps whole again */
	sys_multi_heap_free(&mh, p);
	sys_multi_heap_free(&mh, q);
	sys_multi_heap_free(&mh, NULL);
	r = sys_multi_heap_alloc(&mh, (void *)2L, 512);
	EXPECT_EQ((void *)mem[2], r);
	EXPECT_EQ((void *)mem[3], sys_multi_heap_alloc(&mh, (void *)3L, 512));
	EXPECT_TRUE(sys_heap_validate(&heaps[2]));
}

TEST(realloc_rules)
{
	struct sys_multi_heap mh;
	char *p, *q;

	setup(&mh);
	/* NULL: through the choice function */
	p = sys_multi_heap_realloc(&mh, (void *)1L, NULL, 64);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, choice_calls);
	EXPECT_EQ(&heaps[1], sys_multi_heap_get_heap(&mh, p)->heap);
	strcpy(p, "multi");
	/* in the block's own heap first: no choice call */
	q = sys_multi_heap_realloc(&mh, (void *)0L, p, 400);
	EXPECT_EQ(p, q);
	EXPECT_EQ(1, choice_calls);
	/* too big for its heap: a block the choice gives (heap 0), bytes kept */
	ASSERT_NE(NULL, sys_heap_alloc(&heaps[1], 100));
	q = sys_multi_heap_realloc(&mh, (void *)0L, p, 500);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(2, choice_calls);
	EXPECT_EQ(&heaps[0], sys_multi_heap_get_heap(&mh, q)->heap);
	EXPECT_STREQ("multi", q);
	EXPECT_EQ(0, sys_heap_usable_size(&heaps[1], p));	/* the old block went back */
	/* nowhere: NULL, the block intact */
	EXPECT_EQ(NULL, sys_multi_heap_aligned_realloc(&mh, (void *)2L, q, 0, 900));
	EXPECT_STREQ("multi", q);
	/* 0 bytes: frees */
	EXPECT_EQ(NULL, sys_multi_heap_realloc(&mh, (void *)0L, q, 0));
	EXPECT_EQ((void *)mem[0], sys_heap_alloc(&heaps[0], 512));
	/* an address of no heap: NULL */
	EXPECT_EQ(NULL, sys_multi_heap_realloc(&mh, (void *)0L, &mh, 10));
	/* aligned: a misaligned block moves */
	p = sys_multi_heap_aligned_realloc(&mh, (void *)-1L, NULL, 0, 16);
	ASSERT_NE(NULL, p);
	q = sys_multi_heap_aligned_realloc(&mh, (void *)-1L, p, 256, 16);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(0, (uintptr_t)q % 256);
}

TEST(at_most_max_heaps)
{
	static _Alignas(16) char more[MAX_MULTI_HEAPS + 1][64];
	static struct sys_heap h[MAX_MULTI_HEAPS + 1];
	struct sys_multi_heap mh;
	int i;

	sys_multi_heap_init(&mh, choose);
	for (i = 0; i <= MAX_MULTI_HEAPS; i++) {
		sys_heap_init(&h[i], more[i], sizeof(more[i]));
		sys_multi_heap_add_heap(&mh, &h[i], NULL);
	}
	EXPECT_EQ(MAX_MULTI_HEAPS, mh.nheaps);
	EXPECT_NE(NULL, sys_multi_heap_get_heap(&mh, more[MAX_MULTI_HEAPS - 1]));
	EXPECT_EQ(NULL, sys_multi_heap_get_heap(&mh, more[MAX_MULTI_HEAPS]));
	sys_multi_heap_init(&mh, NULL);
	EXPECT_EQ(0, mh.nheaps);
	EXPECT_EQ(NULL, sys_multi_heap_alloc(&mh, NULL, 10));	/* no choice function */
}

TEST_HARNESS_MAIN
