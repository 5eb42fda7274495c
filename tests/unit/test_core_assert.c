// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator core: the internal invariant checks (HM_CORE_ASSERT) abort on
 * corrupted state.  The core here is the library's own, the one every
 * unit test links (build/lib-debug, or a sanitizer build: both compiled
 * with HAPMEM_DEBUG), so these tests fail if the unit tests ever link a
 * library without the checks.  Only the corruptions reach past the API,
 * through core_impl.h.
 */
#include "core/core_impl.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "death_test.h"

#define SEG_LEN	(1u << 20)

/* A core over one PROT_NONE segment, no front-end cache; NULL on failure. */
static struct hm_core *core_on_segment(void)
{
	void *mem = mmap(NULL, SEG_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hm_core *c;

	if (mem == MAP_FAILED)
		return NULL;
	c = hm_core_create();
	if (!c)
		return NULL;
	hm_core_set_cache_limit(c, 0);	/* every free reaches release() */
	if (hm_core_add_segment(c, (uintptr_t)mem, 0, SEG_LEN, 0)) {
		hm_core_destroy(c);
		return NULL;
	}
	return c;
}

/* The same steps as the corruptions below, without corrupting: no abort. */
TEST(intact_state_passes)
{
	struct hm_core *c = core_on_segment();
	uintptr_t a, b, d;
	const char *why = "";

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &a));
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &b));
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &d));
	ASSERT_EQ(0, hm_core_free(c, b));
	ASSERT_EQ(0, hm_core_free(c, a));
	ASSERT_EQ(0, hm_core_free(c, d));
	hm_core_set_cache_limit(c, SIZE_MAX);
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &a));
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &b));
	ASSERT_EQ(0, hm_core_free(c, a));
	ASSERT_EQ(1, c->cached_blocks);
	ASSERT_EQ(0, hm_core_alloc(c, 64, 0, &a));
	EXPECT_EQ(0, hm_core_check(c, &why)) TH_LOG("%s", why);
	hm_core_destroy(c);
}

/* A used-bytes counter below the block being freed: it would wrap. */
static int counter_underflow(void)
{
	struct hm_core *c = core_on_segment();
	uintptr_t a;

	if (!c || hm_core_alloc(c, 64, 0, &a))
		return -1;
	c->used_gran = 0;
	hm_core_free(c, a);
	return 0;
}

/* A free record whose size disagrees with the block-start bitmap, met on a merge. */
static int wrong_record_size(void)
{
	struct hm_core *c = core_on_segment();
	uintptr_t a, b, d;
	uint32_t id;

	/* d keeps b off the free tail */
	if (!c || hm_core_alloc(c, 64, 0, &a) || hm_core_alloc(c, 64, 0, &b) ||
	    hm_core_alloc(c, 64, 0, &d) || hm_core_free(c, b))
		return -1;
	id = rix_find(c, 0, (uint32_t)((b - c->seg[0].base) >> GRAN_SHIFT));
	if (!id)
		return -1;
	c->rec[id].size++;
	hm_core_free(c, a);	/* merges with b's record */
	return 0;
}

/* A cached block's start not marked "not live": it looks handed out already. */
static int cached_block_marked_live(void)
{
	struct hm_core *c = core_on_segment();
	uintptr_t a, b;

	if (!c)
		return -1;
	hm_core_set_cache_limit(c, SIZE_MAX);
	if (hm_core_alloc(c, 64, 0, &a) || hm_core_alloc(c, 64, 0, &b) ||
	    hm_core_free(c, a) || c->cached_blocks != 1)
		return -1;
	nl_clear(&c->seg[0], (uint32_t)((a - c->seg[0].base) >> GRAN_SHIFT));
	hm_core_alloc(c, 64, 0, &a);	/* from the cache */
	return 0;
}

TEST(free_with_counter_underflow_aborts)
{
	expect_abort(_metadata, "hapmem core", counter_underflow);
}

TEST(merge_with_wrong_record_size_aborts)
{
	expect_abort(_metadata, "hapmem core", wrong_record_size);
}

TEST(cached_block_marked_live_aborts)
{
	expect_abort(_metadata, "hapmem core", cached_block_marked_live);
}

TEST_HARNESS_MAIN
