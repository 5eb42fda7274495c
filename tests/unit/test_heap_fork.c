// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() and the HAP heap (lib/heap/heap_fork.c), on the host backend: the
 * child's heap starts empty with the parent's settings, the parent's
 * segments are released in the child through the backend and stay
 * reserved (inherited pointers fault, and free/realloc/dev_addr of them
 * say -EFAULT, which the HAP face reports as AEE_EBADVA); the parent is
 * untouched; a fork while other threads allocate, grow, release or hold
 * the lock never leaves the child stuck; a growth in flight at fork time
 * is finished before the child is made.
 *
 * Each child reports through its exit status: 0, or the number of the
 * first check that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../child.h"
#include "../fault_probe.h"
#include "heap_fixture.h"
#include "heap/heap_impl.h"

static void fill(void *p, size_t n, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)(i * 13 + seed);
}

static int intact(const void *p, size_t n, unsigned int seed)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != (unsigned char)(i * 13 + seed))
			return 0;
	return 1;
}

/* Exit status of child @pid, or -1 if it did not exit normally. */

TEST_F(heap, child_starts_empty)
{
	struct hm_backend_host_counters n0 = host_counters(self->ctx);
	struct hm_heap_stats before, after;
	void *p[3], *q;
	uint64_t dev;
	pid_t pid;
	int i;

	(void)n0;
	ASSERT_EQ(0, hm_heap_alloc(self->h, 100, 0, &p[0]));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 3 * MiB, 0, &p[1]));	/* a second segment */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 4096, 4096, &p[2]));
	for (i = 0; i < 3; i++)
		fill(p[i], 100, i);
	before = heap_stats(self->h);
	ASSERT_EQ(2, before.core.segments);
	ASSERT_EQ(2, host_counters(self->ctx).live_segments);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hm_backend_host_counters n = host_counters(self->ctx);
		struct hm_heap_stats st = heap_stats(self->h);
		void *r;

		/* empty heap, every parent segment released through the backend */
		HM_CHILD_EXIT_UNLESS(1, st.core.total_bytes == 0 && st.core.used_bytes == 0);
		HM_CHILD_EXIT_UNLESS(2, st.core.segments == 0 && st.core.live_blocks == 0);
		HM_CHILD_EXIT_UNLESS(3, st.grow_events == 0 && st.release_events == 0);
		HM_CHILD_EXIT_UNLESS(4, n.live_segments == 0 && n.live_bytes == 0);
		HM_CHILD_EXIT_UNLESS(5, n.releases == 2);
		/* inherited pointers: unknown to the heap, and not readable */
		for (i = 0; i < 3; i++) {
			HM_CHILD_EXIT_UNLESS(6, hm_heap_free(self->h, p[i]) == -EFAULT);
			HM_CHILD_EXIT_UNLESS(7, hm_heap_dev_addr(self->h, p[i], &dev) == -EFAULT);
			HM_CHILD_EXIT_UNLESS(8, hm_heap_realloc(self->h, p[i], 200, &r) == -EFAULT && !r);
			HM_CHILD_EXIT_UNLESS(9, read_faults(p[i]));
		}
		/* the child's own heap works, outside the parent's ranges */
		HM_CHILD_EXIT_UNLESS(10, hm_heap_alloc(self->h, 3 * MiB, 0, &r) == 0);
		fill(r, 3 * MiB, 7);
		HM_CHILD_EXIT_UNLESS(11, intact(r, 3 * MiB, 7));
		HM_CHILD_EXIT_UNLESS(12, (uintptr_t)r + 3 * MiB <= (uintptr_t)p[1] ||
			  (uintptr_t)r >= (uintptr_t)p[1] + 3 * MiB);
		HM_CHILD_EXIT_UNLESS(13, (uintptr_t)r + 3 * MiB <= (uintptr_t)p[0] ||
			  (uintptr_t)r >= (uintptr_t)p[0] + MiB);
		/* still refused after the child has allocated */
		for (i = 0; i < 3; i++)
			HM_CHILD_EXIT_UNLESS(14, hm_heap_free(self->h, p[i]) == -EFAULT);
		st = heap_stats(self->h);
		HM_CHILD_EXIT_UNLESS(15, st.grow_events == 1 && st.core.segments == 1);
		HM_CHILD_EXIT_UNLESS(16, hm_heap_free(self->h, r) == 0);
		HM_CHILD_EXIT_UNLESS(17, hm_heap_free(self->h, r) == -EINVAL);	/* double free still caught */
		hm_heap_destroy(self->h);
		HM_CHILD_EXIT_UNLESS(18, host_counters(self->ctx).live_segments == 0);
		HM_CHILD_EXIT(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));

	/* the parent is untouched */
	after = heap_stats(self->h);
	EXPECT_EQ(before.core.total_bytes, after.core.total_bytes);
	EXPECT_EQ(before.core.used_bytes, after.core.used_bytes);
	EXPECT_EQ(before.core.segments, after.core.segments);
	EXPECT_EQ(2, host_counters(self->ctx).live_segments);
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(intact(p[i], 100, i));
		EXPECT_EQ(0, hm_heap_dev_addr(self->h, p[i], &dev));
		EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
	}
	ASSERT_EQ(0, hm_heap_alloc(self->h, 64, 0, &q));
	EXPECT_EQ(0, hm_heap_free(self->h, q));
}

TEST_F(heap, child_keeps_settings)
{
	struct hm_backend_host_counters n;
	uint16_t mark;
	void *p;
	pid_t pid;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 3 * MiB, 8 * MiB));
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 0, 6 * MiB));
	ASSERT_EQ(0, hm_heap_marker_start(self->h, &mark));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 1000, 0, &p));
	ASSERT_EQ(4 * MiB, heap_stats(self->h).core.total_bytes);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hm_heap_stats st;
		void *a, *b;

		/* the parent's marker is not the child's */
		HM_CHILD_EXIT_UNLESS(1, hm_heap_marker_end(self->h, mark, NULL) == -EINVAL);
		/* growth by the formula with the parent's (min, max) */
		HM_CHILD_EXIT_UNLESS(2, hm_heap_alloc(self->h, 2 * MiB, 0, &a) == 0);
		st = heap_stats(self->h);
		HM_CHILD_EXIT_UNLESS(3, st.min_grow_bytes == 3 * MiB);
		HM_CHILD_EXIT_UNLESS(4, host_counters(self->ctx).last_grow_len == 5 * MiB);
		HM_CHILD_EXIT_UNLESS(5, st.core.total_bytes == 5 * MiB);
		HM_CHILD_EXIT_UNLESS(6, hm_heap_alloc(self->h, 4 * MiB, 0, &b) == 0);
		HM_CHILD_EXIT_UNLESS(7, host_counters(self->ctx).last_grow_len == 7 * MiB);
		/* the parent's high threshold: freeing b leaves > 6 MiB free: released */
		HM_CHILD_EXIT_UNLESS(8, hm_heap_free(self->h, b) == 0);
		st = heap_stats(self->h);
		HM_CHILD_EXIT_UNLESS(9, st.release_events == 1 && st.core.total_bytes == 5 * MiB);
		HM_CHILD_EXIT_UNLESS(10, hm_heap_free(self->h, a) == 0);
		HM_CHILD_EXIT(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	hm_backend_host_counters(self->ctx, &n);
	EXPECT_EQ(1, n.live_segments);
	/* the parent's marker still reports its block */
	EXPECT_EQ(1, hm_heap_marker_end(self->h, mark, NULL));
	EXPECT_EQ(0, hm_heap_free(self->h, p));
}

TEST_F(heap, front_end_child)
{
	void *small[64], *r;
	pid_t pid;
	int i;

	hm_heap_set_front_end(self->h, true);
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, hm_heap_alloc(self->h, 48, 0, &small[i]));
		fill(small[i], 48, i);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hm_heap_stats st = heap_stats(self->h);

		HM_CHILD_EXIT_UNLESS(1, st.core.segments == 0 && st.core.used_bytes == 0);
		for (i = 0; i < 64; i++)
			HM_CHILD_EXIT_UNLESS(2, hm_heap_free(self->h, small[i]) == -EFAULT);
		HM_CHILD_EXIT_UNLESS(3, read_faults(small[0]));
		/* the front end serves the child from fresh slabs */
		for (i = 0; i < 64; i++) {
			HM_CHILD_EXIT_UNLESS(4, hm_heap_alloc(self->h, 48, 0, &small[i]) == 0);
			fill(small[i], 48, 100 + i);
		}
		for (i = 0; i < 64; i++) {
			HM_CHILD_EXIT_UNLESS(5, intact(small[i], 48, 100 + i));
			HM_CHILD_EXIT_UNLESS(6, hm_heap_free(self->h, small[i]) == 0);
		}
		HM_CHILD_EXIT_UNLESS(7, heap_stats(self->h).core.used_bytes == 0);
		HM_CHILD_EXIT_UNLESS(8, hm_heap_alloc(self->h, 5000, 0, &r) == 0 && hm_heap_free(self->h, r) == 0);
		hm_heap_destroy(self->h);
		HM_CHILD_EXIT_UNLESS(9, host_counters(self->ctx).live_segments == 0);
		HM_CHILD_EXIT(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	for (i = 0; i < 64; i++) {
		EXPECT_TRUE(intact(small[i], 48, i));
		EXPECT_EQ(0, hm_heap_free(self->h, small[i]));
	}
}

/* ---- forks while other threads work -------------------------------------- */

struct churn {
	struct hm_heap *h;
	atomic_bool stop;
	atomic_ulong ops;
	unsigned int seed;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = c->seed;
	void *slot[32] = { 0 };

	while (!atomic_load(&c->stop)) {
		unsigned int i = rand_r(&seed) % 32;

		if (slot[i]) {
			if (!intact(slot[i], 16, i)) {
				atomic_store(&c->ops, 0);	/* content lost: fail */
				break;
			}
			hm_heap_free(c->h, slot[i]);
			slot[i] = NULL;
		} else {
			/* sizes up to 1.5 MiB: segments come and go (high threshold) */
			size_t n = rand_r(&seed) % 4 ? 16 + (size_t)(rand_r(&seed) % 4000)
						     : 256 * KiB + (size_t)rand_r(&seed) % (1280 * KiB);

			if (!hm_heap_alloc(c->h, n, 0, &slot[i]))
				fill(slot[i], 16, i);
		}
		atomic_fetch_add(&c->ops, 1);
	}
	for (unsigned int i = 0; i < 32; i++)
		if (slot[i])
			hm_heap_free(c->h, slot[i]);
	return NULL;
}

static void fork_under_load(struct __test_metadata *_metadata, struct hm_heap *h, void *ctx)
{
	struct churn c[3];
	pthread_t t[3];
	int i, forks = 0, bad = 0;

	ASSERT_EQ(0, hm_heap_set_thresholds(h, 0, 2 * MiB));
	for (i = 0; i < 3; i++) {
		c[i] = (struct churn){ .h = h, .seed = 17u * (i + 1) };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_thread, &c[i]));
	}
	for (forks = 0; forks < 60; forks++) {
		pid_t pid;

		usleep(2000);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct hm_heap_stats st;
			void *p[8];
			int k;

			alarm(10);	/* a lock left held would hang here */
			st = heap_stats(h);
			HM_CHILD_EXIT_UNLESS(1, st.core.segments == 0 && st.core.used_bytes == 0);
			HM_CHILD_EXIT_UNLESS(2, host_counters(ctx).live_segments == 0);
			for (k = 0; k < 8; k++) {
				HM_CHILD_EXIT_UNLESS(3, hm_heap_alloc(h, 100 + k * 300000, 0, &p[k]) == 0);
				fill(p[k], 100, k);
			}
			for (k = 0; k < 8; k++) {
				HM_CHILD_EXIT_UNLESS(4, intact(p[k], 100, k));
				HM_CHILD_EXIT_UNLESS(5, hm_heap_free(h, p[k]) == 0);
			}
			HM_CHILD_EXIT(0);
		}
		if (hm_child_status(pid))
			bad++;
	}
	for (i = 0; i < 3; i++) {
		atomic_store(&c[i].stop, true);
		pthread_join(t[i], NULL);
		EXPECT_LT(0, atomic_load(&c[i].ops)) TH_LOG("thread %d saw corruption", i);
	}
	EXPECT_EQ(0, bad) TH_LOG("%d of %d children failed", bad, forks);
}

TEST_F(heap, fork_under_load)
{
	fork_under_load(_metadata, self->h, self->ctx);
}

TEST_F(heap, fork_under_load_front_end)
{
	hm_heap_set_front_end(self->h, true);
	fork_under_load(_metadata, self->h, self->ctx);
}

/* ---- a growth in flight at fork time ---------------------------------- */

/*
 * The growth is held open until fork()'s prepare handler is seen waiting
 * for it (hm_heap_fork_wait_hook): the fork lands inside the growth by
 * construction, not by timing.
 */
static sem_t grow_entered, grow_gate;
static atomic_int fork_waited;

static int held_grow(void *ctx, size_t len, struct hm_segment_desc *out)
{
	sem_post(&grow_entered);
	while (sem_wait(&grow_gate) && errno == EINTR)
		;
	return hm_backend_host.grow(ctx, len, out);
}

static void fork_waits(struct hm_heap *h)
{
	(void)h;
	if (!atomic_fetch_add(&fork_waited, 1))
		sem_post(&grow_gate);
}

static const struct hm_backend_ops held_ops = {
	.name = "held-host",
	.grow = held_grow,
	.release = NULL,	/* set at run time: hm_backend_host.release */
};

static void *grow_thread(void *arg)
{
	void *p;

	return hm_heap_alloc(arg, 2 * MiB, 0, &p) ? NULL : p;
}

TEST(fork_waits_for_growth)
{
	struct hm_backend_ops ops = held_ops;
	void *ctx = hm_backend_host_ctx_new();
	struct hm_heap *h;
	pthread_t t;
	void *p = NULL;
	pid_t pid;

	ops.release = hm_backend_host.release;
	ASSERT_NE(NULL, ctx);
	ASSERT_EQ(0, sem_init(&grow_entered, 0, 0));
	ASSERT_EQ(0, sem_init(&grow_gate, 0, 0));
	h = hm_heap_create(&ops, ctx);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, pthread_create(&t, NULL, grow_thread, h));
	while (sem_wait(&grow_entered) && errno == EINTR)
		;
	/* The growth is in the backend, held: fork now. */
	hm_heap_fork_wait_hook = fork_waits;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hm_backend_host_counters n = host_counters(ctx);

		HM_CHILD_EXIT_UNLESS(1, n.grows == 1);		/* the growth completed before fork */
		HM_CHILD_EXIT_UNLESS(2, n.releases == 1 && n.live_segments == 0 && n.live_bytes == 0);
		HM_CHILD_EXIT_UNLESS(3, heap_stats(h).core.segments == 0);
		HM_CHILD_EXIT(0);
	}
	hm_heap_fork_wait_hook = NULL;
	/* prepare waited for the growth (and let it finish) exactly once */
	EXPECT_EQ(1, atomic_load(&fork_waited));
	if (!atomic_load(&fork_waited))
		sem_post(&grow_gate);	/* it did not: free the growth anyway */
	EXPECT_EQ(0, hm_child_status(pid));
	pthread_join(t, &p);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, heap_stats(h).core.segments);
	EXPECT_EQ(0, hm_heap_free(h, p));
	hm_heap_destroy(h);
	EXPECT_EQ(0, host_counters(ctx).live_segments);
	hm_backend_host_ctx_free(ctx);
	sem_destroy(&grow_entered);
	sem_destroy(&grow_gate);
}

TEST_HARNESS_MAIN
