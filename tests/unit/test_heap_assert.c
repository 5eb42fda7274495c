// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's front end: its internal invariant checks (HM_TC_ASSERT)
 * abort on corrupted state.  It uses the library the unit tests link,
 * built with HAPMEM_DEBUG (build/lib-debug, or a sanitizer build),
 * reaching the state to corrupt through tcache.h: it fails if the unit
 * tests ever link a library without the checks.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "death_test.h"
#include "heap/backend_host.h"
#include "heap/tcache.h"

#define BLOCK	1024	/* a class of 16 slots: the free word's top 48 bits are outside the slab */

/* A heap on the host backend with the front end on; NULL on failure. */
static struct hm_heap *front_heap(void)
{
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h;

	if (!ctx)
		return NULL;
	h = hm_heap_create(&hm_backend_host, ctx);
	if (h)
		hm_heap_set_front_end(h, true);
	return h;
}

/* Allocate @n blocks of BLOCK bytes into @p from @h's front end; 0 or -1. */
static int fill(struct hm_heap *h, void **p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (hm_heap_alloc(h, BLOCK, 0, &p[i]) || !hm_slab_lookup((uintptr_t)p[i]))
			return -1;
	return 0;
}

/* The same steps as the corruptions below, without corrupting: no abort. */
TEST(intact_state_passes)
{
	struct hm_heap *h = front_heap();
	struct hm_heap_stats st;
	struct hm_slab *s;
	void *p[17];
	int i;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, fill(h, p, 17));
	s = hm_slab_lookup((uintptr_t)p[0]);
	ASSERT_EQ(16, s->nslots);
	ASSERT_EQ(0xffff, s->all);
	EXPECT_EQ(SLAB_FULL, s->state);		/* the 17th block took a new slab */
	EXPECT_EQ(0, hm_heap_free(h, p[3]));	/* full -> partial */
	EXPECT_EQ(SLAB_PARTIAL, s->state);
	EXPECT_EQ(-EINVAL, hm_heap_free(h, p[3]));	/* a double free is an error, not a broken invariant */
	for (i = 0; i < 17; i++)
		if (i != 3)
			EXPECT_EQ(0, hm_heap_free(h, p[i]));
	hm_heap_stats(h, &st);
	EXPECT_EQ(0, st.core.live_blocks);
	/* The last class is in range. */
	ASSERT_EQ(0, hm_tc_alloc_miss(hm_tls_cur.tc, HM_TC_NCLASSES - 1, &p[0]));
	EXPECT_EQ(0, hm_heap_free(h, p[0]));
}

/* A free slot outside the slab: the free word has a bit above `all`. */
static int free_bit_outside_slab(void)
{
	struct hm_heap *h = front_heap();
	struct hm_slab *s;
	void *p[1];

	if (!h || fill(h, p, 1))
		return -1;
	s = hm_slab_lookup((uintptr_t)p[0]);
	HM_TC_STORE(&s->free, HM_TC_LOAD(&s->free) | 1ull << 40);
	hm_heap_free(h, p[0]);		/* the owner's inline free */
	return 0;
}

/* The owner's live count says it holds nothing, yet it frees a block: it would wrap. */
static int live_count_underflow(void)
{
	struct hm_heap *h = front_heap();
	void *p[1];

	if (!h || fill(h, p, 1))
		return -1;
	HM_TC_STORE(&hm_tls_cur.tc->acct, 0);
	hm_heap_free(h, p[0]);
	return 0;
}

/* A full slab marked partial: its first free would link it onto the partial list twice. */
static int full_slab_marked_partial(void)
{
	struct hm_heap *h = front_heap();
	struct hm_slab *s;
	void *p[17];

	if (!h || fill(h, p, 17))
		return -1;
	s = hm_slab_lookup((uintptr_t)p[0]);
	if (s->state != SLAB_FULL)
		return -1;
	s->state = SLAB_PARTIAL;
	hm_heap_free(h, p[3]);
	return 0;
}

/* A size class past the table. */
static int class_out_of_range(void)
{
	struct hm_heap *h = front_heap();
	void *p[1];

	if (!h || fill(h, p, 1))
		return -1;
	hm_tc_alloc_miss(hm_tls_cur.tc, HM_TC_NCLASSES, &p[0]);
	return 0;
}

TEST(free_bit_outside_slab_aborts)
{
	expect_abort(_metadata, "hapmem tcache", free_bit_outside_slab);
}

TEST(live_count_underflow_aborts)
{
	expect_abort(_metadata, "hapmem tcache", live_count_underflow);
}

TEST(full_slab_marked_partial_aborts)
{
	expect_abort(_metadata, "hapmem tcache", full_slab_marked_partial);
}

TEST(class_out_of_range_aborts)
{
	expect_abort(_metadata, "hapmem tcache", class_out_of_range);
}

TEST_HARNESS_MAIN
