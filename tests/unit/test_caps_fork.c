// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() and the capability heaps: fork while threads allocate, free and
 * wait; in the child, inherited pointers are refused (-EFAULT) and fault,
 * the child's own allocations work, user regions, waiters and debug
 * records are gone, a protected region's segment went back and its
 * placeholder stays reserved; no fork deadlocks (every child runs under
 * alarm()).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_caps_fixture.h"
#include "../child.h"

#define FORKS	30


static atomic_bool stop;
static atomic_ulong ops;	/* churn operations done */

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	void *b[32] = { NULL };

	while (!atomic_load(&stop)) {
		unsigned int i = (unsigned int)rand_r(&seed) % 32;
		uint32_t caps = (rand_r(&seed) & 1) ? HAPMEM_CAP_CACHED : HAPMEM_CAP_UNCACHED;

		if (b[i]) {
			if (caps_free(b[i]))
				abort();
			b[i] = NULL;
		} else {
			/* up to 1.5 MiB: growth (and release) of 1 MiB segments */
			b[i] = caps_malloc(1 + (size_t)rand_r(&seed) % (1536 * KiB), caps);
		}
		atomic_fetch_add(&ops, 1);
	}
	for (unsigned int i = 0; i < 32; i++)
		caps_free(b[i]);
	return NULL;
}

/* What each child checks about @inherited (a live block of the parent). */
static void child_checks(void *inherited)
{
	uint64_t dev;
	void *mine[64];
	int i;

	alarm(20);	/* a deadlock in the child fails the test, not hangs it */
	HM_CHILD_EXIT_UNLESS(10, caps_free(inherited) == -EFAULT);
	HM_CHILD_EXIT_UNLESS(11, caps_dev_addr(inherited, &dev) == -EFAULT);
	HM_CHILD_EXIT_UNLESS(12, caps_block_size(inherited) == 0);
	HM_CHILD_EXIT_UNLESS(13, !cpu_readable(inherited));	/* reserved PROT_NONE */
	errno = 0;
	HM_CHILD_EXIT_UNLESS(14, !caps_realloc(inherited, 64, 0) && errno == EFAULT);
	for (i = 0; i < 64; i++) {
		mine[i] = caps_malloc(4 * KiB + (size_t)i * 1000, i & 1 ? HAPMEM_CAP_CACHED
								     : HAPMEM_CAP_UNCACHED);
		HM_CHILD_EXIT_UNLESS(15, mine[i]);
		/* never over an inherited block */
		HM_CHILD_EXIT_UNLESS(16, (char *)mine[i] + 4 * KiB + i * 1000 <= (char *)inherited ||
			  (char *)mine[i] >= (char *)inherited + 4096);
		memset(mine[i], 0x5a, 4 * KiB);
		HM_CHILD_EXIT_UNLESS(17, caps_dev_addr(mine[i], &dev) == 0);
	}
	for (i = 0; i < 64; i++)
		HM_CHILD_EXIT_UNLESS(18, caps_free(mine[i]) == 0);
	HM_CHILD_EXIT_UNLESS(19, caps_free(mine[0]) != 0);	/* double free still caught */
	_exit(0);
}

TEST(fork_while_threads_allocate)
{
	struct fake_be *fc, *fu;
	pthread_t t[3];
	int i;

	ASSERT_GT(add_region("cached", HAPMEM_CAP_CACHED | HAPMEM_CAP_DEFAULT, 0, 0, 0, &fc), 0);
	ASSERT_GT(add_region("uncached", HAPMEM_CAP_UNCACHED, 0, 0, 0, &fu), 0);
	atomic_store(&stop, false);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)));
	for (i = 0; i < FORKS; i++) {
		unsigned long seen = atomic_load(&ops);
		void *p = caps_malloc(4096, HAPMEM_CAP_CACHED);
		pid_t pid;

		ASSERT_NE(NULL, p);
		while (atomic_load(&ops) < seen + 300)	/* fork amid the churn */
			sched_yield();
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid)
			child_checks(p);
		EXPECT_EQ(0, hm_child_status(pid)) TH_LOG("fork %d", i);
		/* the parent's block is intact and still its own */
		EXPECT_EQ(4096, caps_block_size(p));
		EXPECT_EQ(0, caps_free(p));
	}
	atomic_store(&stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* the churn did grow and release segments around the forks */
	EXPECT_GT(atomic_load(&fc->grows) + atomic_load(&fu->grows), 4);
	EXPECT_GT(atomic_load(&fc->releases) + atomic_load(&fu->releases), 0);
	TH_LOG("%lu operations, %d grows, %d releases", atomic_load(&ops),
	       atomic_load(&fc->grows) + atomic_load(&fu->grows),
	       atomic_load(&fc->releases) + atomic_load(&fu->releases));
}

TEST(user_region_dropped_in_child)
{
	uint32_t caps[3] = { HAPMEM_CAP_CACHED, 0, 0 };
	void *m = aligned_alloc(4096, 1 * MiB), *q;
	pid_t pid;
	int id;

	ASSERT_NE(NULL, m);
	id = caps_region_add_mem("user", m, 0x100000, 1 * MiB, 7, caps);
	ASSERT_GT(id, 0);
	q = caps_attr_alloc(7, 4096, 0);
	ASSERT_NE(NULL, q);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		alarm(20);
		HM_CHILD_EXIT_UNLESS(20, hm_caps_region_id("user") == -ENOENT);
		HM_CHILD_EXIT_UNLESS(21, caps_free(q) == -EFAULT);
		HM_CHILD_EXIT_UNLESS(22, cpu_readable(q));	/* the caller's memory: untouched */
		HM_CHILD_EXIT_UNLESS(23, !caps_attr_alloc(7, 4096, 0));
		/* the child may register the memory again, for itself */
		HM_CHILD_EXIT_UNLESS(24, caps_region_add_mem("user", m, 0x100000, 1 * MiB, 7, caps) > 0);
		q = caps_attr_alloc(7, 4096, 0);
		HM_CHILD_EXIT_UNLESS(25, q && caps_free(q) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	EXPECT_EQ(4096, caps_block_size(q));
	EXPECT_EQ(0, caps_free(q));
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

static bool seg_of(const struct caps_walk_block *b, void *arg)
{
	uintptr_t *seg = arg;

	seg[0] = b->seg_start;
	seg[1] = b->seg_end;
	return true;
}

/*
 * A protected (CPU-less) region in the child: its segment went back to
 * the backend, the placeholder stays reserved, new blocks land elsewhere.
 */
TEST(protected_region_reset_in_child)
{
	uintptr_t seg[2] = { 0, 0 };
	struct fake_be *f;
	void *p, *q;
	pid_t pid;
	int rel;

	ASSERT_GT(add_region("prot", HAPMEM_CAP_PROTECTED, 0, 0, 0, &f), 0);
	p = caps_malloc(4096, HAPMEM_CAP_PROTECTED);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, atomic_load(&f->grows));
	ASSERT_EQ(0, caps_walk(HAPMEM_CAP_PROTECTED, seg_of, seg));
	ASSERT_EQ(1 * MiB, seg[1] - seg[0]);
	rel = atomic_load(&f->releases);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		alarm(20);
		HM_CHILD_EXIT_UNLESS(30, atomic_load(&f->releases) == rel + 1);
		HM_CHILD_EXIT_UNLESS(31, caps_free(p) == -EFAULT);
		HM_CHILD_EXIT_UNLESS(32, !cpu_readable(p));
		q = caps_malloc(4096, HAPMEM_CAP_PROTECTED);
		HM_CHILD_EXIT_UNLESS(33, q && atomic_load(&f->grows) == 2);
		HM_CHILD_EXIT_UNLESS(34, (uintptr_t)q + 4096 <= seg[0] || (uintptr_t)q >= seg[1]);
		HM_CHILD_EXIT_UNLESS(35, caps_free(q) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	EXPECT_EQ(rel, atomic_load(&f->releases));
	EXPECT_EQ(4096, caps_block_size(p));
	EXPECT_EQ(0, caps_free(p));
}

struct waiter_arg {
	void *p;
	atomic_bool started;
};

static void *blocked_waiter(void *arg)
{
	struct waiter_arg *w = arg;

	atomic_store(&w->started, true);
	w->p = caps_malloc_timeout(512 * KiB, HAPMEM_CAP_CACHED, 20000);
	return NULL;
}

TEST(waiter_and_trace_records_not_inherited)
{
	struct waiter_arg w = { 0 };
	struct caps_wait_stats st;
	pthread_t t;
	void *big;
	pid_t pid;

	ASSERT_EQ(0, caps_debug_set_level(CAPS_DEBUG_TRACE));
	ASSERT_GT(add_region("cached", HAPMEM_CAP_CACHED, 0, 0, 1 * MiB, NULL), 0);
	big = caps_malloc(900 * KiB, HAPMEM_CAP_CACHED);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_waiter, &w));
	while (!atomic_load(&w.started))
		usleep(1000);
	do {	/* until the waiter sleeps */
		usleep(1000);
		hm_caps_wait_stats(&st);
	} while (!st.waits);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		FILE *devnull = fopen("/dev/null", "w");
		void *c;

		alarm(20);
		hm_caps_wait_stats(&st);
		HM_CHILD_EXIT_UNLESS(30, st.waits == 0);
		HM_CHILD_EXIT_UNLESS(31, caps_debug_leak_report(devnull) == 0);	/* no traced block */
		HM_CHILD_EXIT_UNLESS(32, caps_free(big) == -EFAULT);
		HM_CHILD_EXIT_UNLESS(36, caps_debug_errors() == 1);	/* that refusal, reported */
		/* the region is empty: the whole capacity is the child's */
		c = caps_malloc(900 * KiB, HAPMEM_CAP_CACHED);
		HM_CHILD_EXIT_UNLESS(33, c);
		HM_CHILD_EXIT_UNLESS(34, caps_debug_leak_report(devnull) == 1);
		HM_CHILD_EXIT_UNLESS(35, caps_free(c) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	/* the parent's waiter is still served by the parent's free */
	EXPECT_EQ(0, caps_free(big));
	pthread_join(t, NULL);
	ASSERT_NE(NULL, w.p);
	EXPECT_EQ(0, caps_free(w.p));
	caps_debug_set_level(CAPS_DEBUG_NONE);
}

TEST_HARNESS_MAIN
