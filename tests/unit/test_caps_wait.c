// SPDX-License-Identifier: GPL-2.0-only
/*
 * caps_malloc_timeout(): times out (never early), succeeds when another
 * thread frees enough, leaves a waiter asleep while frees cannot serve it,
 * fails without sleeping when nothing could ever serve it; and waiters
 * under contention.  Threads are ordered by events (the wait counters,
 * hm_caps_wait_sleeps()), never by sleeps; the only clock reading is the
 * timeout's lower bound.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "test_caps_fixture.h"

#define REG	(1 * MiB)

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A fixed 1 MiB region with capability CACHED, over memory of the test. */
static void *fixed_region(int *id)
{
	void *m = aligned_alloc(4096, REG);
	uint32_t caps[3] = { HAPMEM_CAP_CACHED, 0, 0 };

	*id = caps_region_add_mem("fixed", m, 0x100000, REG, 1, caps);
	return m;
}

/* Fill the region with 16 KiB blocks; returns how many. */
static int fill(void **b, int max)
{
	int n = 0;

	while (n < max && (b[n] = caps_malloc(16 * KiB, HAPMEM_CAP_CACHED)))
		n++;
	return n;
}

TEST(times_out_never_early)
{
	struct caps_wait_stats s0, s1;
	void *b[80];
	int id, n;
	void *m = fixed_region(&id);
	long t0;

	ASSERT_GT(id, 0);
	n = fill(b, 80);
	ASSERT_GT(n, 50);
	hm_caps_wait_stats(&s0);
	t0 = now_ms();
	EXPECT_EQ(NULL, caps_malloc_timeout(64 * KiB, HAPMEM_CAP_CACHED, 300));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* The one bound in time: a timeout never comes early. */
	EXPECT_GE(now_ms() - t0, 300);
	hm_caps_wait_stats(&s1);
	EXPECT_EQ(s0.waits + 1, s1.waits);
	EXPECT_EQ(s0.timeouts + 1, s1.timeouts);
	EXPECT_EQ(s0.wakeups, s1.wakeups);
	/* timeout 0: one attempt, then the timeout at once */
	EXPECT_EQ(NULL, caps_malloc_timeout(64 * KiB, HAPMEM_CAP_CACHED, 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	hm_caps_wait_stats(&s0);
	EXPECT_EQ(s1.timeouts + 1, s0.timeouts);
	while (n--)
		caps_free(b[n]);
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

TEST(fails_at_once_when_hopeless)
{
	struct caps_wait_stats s0, s1;
	int id;
	void *m = fixed_region(&id);

	hm_caps_wait_stats(&s0);
	EXPECT_EQ(NULL, caps_malloc_timeout(16, HAPMEM_CAP_LLC, 5000));
	EXPECT_EQ(ENOTSUP, errno);
	EXPECT_EQ(NULL, caps_malloc_timeout(2 * REG, HAPMEM_CAP_CACHED, 5000));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(NULL, caps_malloc_timeout(16, HAPMEM_CAP_CACHED | HAPMEM_CAP_UNCACHED, 5000));
	EXPECT_EQ(EINVAL, errno);
	/* none of them slept */
	hm_caps_wait_stats(&s1);
	EXPECT_EQ(s0.waits, s1.waits);
	EXPECT_EQ(s0.timeouts, s1.timeouts);
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

struct freer {
	void **b;
	int from, to, step;
	unsigned long after_waits;	/* free once this many sleeps were counted */
};

static void *free_when_asleep(void *arg)
{
	struct freer *f = arg;
	int i;

	hm_caps_wait_sleeps(f->after_waits);
	for (i = f->from; i < f->to; i += f->step)
		caps_free(f->b[i]);
	return NULL;
}

TEST(succeeds_when_another_thread_frees)
{
	void *b[80], *p;
	int id, n;
	void *m = fixed_region(&id);
	struct freer fr = { .b = b, .from = 0, .to = 8, .step = 1 };
	struct caps_wait_stats s0, s1;
	pthread_t t;

	ASSERT_GT(id, 0);
	n = fill(b, 80);
	ASSERT_GT(n, 8);
	hm_caps_wait_stats(&s0);
	/* The frees come only once this thread is asleep in the call below. */
	fr.after_waits = s0.waits + 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, free_when_asleep, &fr));
	p = caps_malloc_timeout(100 * KiB, HAPMEM_CAP_CACHED, 60000);
	pthread_join(t, NULL);
	ASSERT_NE(NULL, p);
	hm_caps_wait_stats(&s1);
	EXPECT_EQ(s0.waits + 1, s1.waits);	/* it slept */
	EXPECT_LE(s0.wakeups + 1, s1.wakeups);	/* and a free woke it */
	EXPECT_EQ(s0.timeouts, s1.timeouts);
	EXPECT_STREQ("fixed", caps_region_name(p));
	caps_free(p);
	while (n-- > 8)
		caps_free(b[n]);
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

struct waitarg {
	size_t size;
	long timeout;
	void *got;
	atomic_bool done;
};

static void *waiter(void *arg)
{
	struct waitarg *w = arg;

	w->got = caps_malloc_timeout(w->size, HAPMEM_CAP_CACHED, w->timeout);
	atomic_store(&w->done, true);
	return NULL;
}

TEST(waiter_stays_asleep_until_it_can_be_served)
{
	void *b[80];
	int id, n, i;
	void *m = fixed_region(&id);
	struct waitarg w = { .size = 600 * KiB, .timeout = 60000 };
	struct caps_wait_stats s0, s1, s2;
	pthread_t t;

	ASSERT_GT(id, 0);
	n = fill(b, 80);
	ASSERT_EQ(64, n);
	hm_caps_wait_stats(&s0);
	ASSERT_EQ(0, pthread_create(&t, NULL, waiter, &w));
	hm_caps_wait_sleeps(s0.waits + 1);	/* the waiter is asleep */
	EXPECT_FALSE(atomic_load(&w.done));
	/*
	 * Every other block: 32 holes of 16 KiB, none big enough.  A free
	 * signals (and counts) a wakeup in the freeing thread, so the
	 * counters are final when the frees return.
	 */
	for (i = 0; i < n; i += 2)
		caps_free(b[i]);
	hm_caps_wait_stats(&s1);
	EXPECT_EQ(s0.wakeups, s1.wakeups);	/* 32 frees, no wakeup */
	EXPECT_EQ(s0.waits + 1, s1.waits);	/* asleep once, still */
	EXPECT_FALSE(atomic_load(&w.done));
	/* now the odd ones: the region empties and the waiter is served */
	for (i = 1; i < n; i += 2)
		caps_free(b[i]);
	pthread_join(t, NULL);
	ASSERT_NE(NULL, w.got);
	hm_caps_wait_stats(&s2);
	EXPECT_EQ(s0.wakeups + 1, s2.wakeups);	/* woken once, at the right free */
	EXPECT_EQ(s0.timeouts, s2.timeouts);
	caps_free(w.got);
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

/*
 * Several waiters of several sizes, all asleep before the frees begin:
 * each is woken and served, none times out.
 */
TEST(waiters_under_contention)
{
	enum { W = 6 };
	struct waitarg w[W];
	struct caps_wait_stats s0, s1, s2;
	pthread_t t[W];
	void *b[80];
	int id, n, i;
	void *m = fixed_region(&id);

	ASSERT_GT(id, 0);
	n = fill(b, 80);
	ASSERT_EQ(64, n);
	hm_caps_wait_stats(&s0);
	for (i = 0; i < W; i++) {
		w[i] = (struct waitarg){ .size = (size_t)(i + 1) * 40 * KiB, .timeout = 60000 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, waiter, &w[i]));
	}
	hm_caps_wait_sleeps(s0.waits + W);	/* all of them wait */
	hm_caps_wait_stats(&s1);
	EXPECT_EQ(s0.waits + W, s1.waits);
	EXPECT_EQ(s0.wakeups, s1.wakeups);
	for (i = 0; i < W; i++)
		EXPECT_FALSE(atomic_load(&w[i].done)) TH_LOG("waiter %d served early", i);
	/* free in an order that first opens small holes, then big ones */
	for (i = 0; i < n; i += 2)
		caps_free(b[i]);
	for (i = 1; i < n; i += 2)
		caps_free(b[i]);
	for (i = 0; i < W; i++) {
		pthread_join(t[i], NULL);
		EXPECT_NE(NULL, w[i].got) TH_LOG("waiter %d", i);
	}
	hm_caps_wait_stats(&s2);
	EXPECT_LE(s0.wakeups + W, s2.wakeups);	/* each was woken */
	EXPECT_EQ(s0.timeouts, s2.timeouts);
	for (i = 0; i < W; i++)
		caps_free(w[i].got);
	EXPECT_EQ(0, caps_region_remove(id));
	free(m);
}

TEST_HARNESS_MAIN
