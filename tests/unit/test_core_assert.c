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

/*
 * Run @corrupt in a child and expect it to die of SIGABRT with the core's
 * message on stderr.  @corrupt returns only when no check fired (the
 * child then exits 0) or when its setup failed (exit 2).  (The harness
 * counts SIGABRT as a failed ASSERT, hence no TEST_SIGNAL.)
 */
static void expect_abort(struct __test_metadata *_metadata, int (*corrupt)(void))
{
	char msg[512] = "";
	int fds[2], status;
	ssize_t len;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		_exit(corrupt() ? 2 : 0);
	}
	close(fds[1]);
	len = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	if (len > 0)
		msg[len] = 0;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
		TH_LOG("child status %#x: no check fired", status);
	EXPECT_NE(NULL, strstr(msg, "invariant broken")) TH_LOG("stderr: %s", msg);
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
	expect_abort(_metadata, counter_underflow);
}

TEST(merge_with_wrong_record_size_aborts)
{
	expect_abort(_metadata, wrong_record_size);
}

TEST(cached_block_marked_live_aborts)
{
	expect_abort(_metadata, cached_block_marked_live);
}

TEST_HARNESS_MAIN
