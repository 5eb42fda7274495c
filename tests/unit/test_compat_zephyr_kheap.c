// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr k_heap face and system heap (<zephyr/kernel.h>, heap part)
 * on the host: K_HEAP_DEFINE, the timeouts (K_NO_WAIT fails at once, a
 * K_MSEC wait gives up, a blocked K_FOREVER or K_MSEC allocation wakes
 * when another thread frees or reallocs), calloc, realloc, and k_malloc
 * and friends over the caps layer on a fake backend.  Threaded: in the
 * TSan list.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

#include <zephyr/kernel.h>

K_HEAP_DEFINE(static_heap, 1024);
K_HEAP_DEFINE_NOCACHE(static_heap_nc, 256);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

TEST(timeout_macros)
{
	EXPECT_TRUE(K_TIMEOUT_EQ(K_NO_WAIT, K_TICKS(0)));
	EXPECT_EQ(-1, K_FOREVER.ticks);
	EXPECT_EQ(5000, K_MSEC(5).ticks);
	EXPECT_EQ(7, K_USEC(7).ticks);
	EXPECT_EQ(1, K_NSEC(1).ticks);
	EXPECT_EQ(2000000, K_SECONDS(2).ticks);
	EXPECT_FALSE(K_TIMEOUT_EQ(K_NO_WAIT, K_FOREVER));
}

/* K_HEAP_DEFINE heaps are ready before main(). */
TEST(static_definition)
{
	void *p, *q;

	EXPECT_EQ((void *)kheap_static_heap, static_heap.heap.init_mem);
	EXPECT_EQ(1024, static_heap.heap.init_bytes);
	p = k_heap_alloc(&static_heap, 1024, K_NO_WAIT);
	ASSERT_NE(NULL, p);
	EXPECT_EQ((void *)kheap_static_heap, p);
	EXPECT_EQ(NULL, k_heap_alloc(&static_heap, 1, K_NO_WAIT));
	k_heap_free(&static_heap, p);
	q = k_heap_alloc(&static_heap_nc, 256, K_NO_WAIT);
	EXPECT_EQ((void *)kheap_static_heap_nc, q);
	k_heap_free(&static_heap_nc, q);
	EXPECT_TRUE(sys_heap_validate(&static_heap.heap));
}

TEST(alloc_calloc_aligned_no_wait)
{
	static _Alignas(256) char mem[512];
	struct k_heap h;
	unsigned char *p, *q;
	long long t0;
	size_t i;

	k_heap_init(&h, mem, sizeof(mem));
	EXPECT_EQ(NULL, k_heap_alloc(&h, 0, K_NO_WAIT));
	p = k_heap_aligned_alloc(&h, 256, 16, K_NO_WAIT);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, (uintptr_t)p % 256);
	EXPECT_TRUE(p == (unsigned char *)mem || p == (unsigned char *)mem + 256);
	EXPECT_EQ(NULL, k_heap_aligned_alloc(&h, 96, 16, K_NO_WAIT));
	k_heap_free(&h, p);
	memset(mem, 0xee, sizeof(mem));
	q = k_heap_calloc(&h, 10, 20, K_NO_WAIT);
	ASSERT_NE(NULL, q);
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, q[i]);
	EXPECT_EQ(NULL, k_heap_calloc(&h, SIZE_MAX / 2, 3, K_FOREVER));	/* overflow: at once */
	EXPECT_EQ(NULL, k_heap_calloc(&h, 0, 3, K_NO_WAIT));
	/* full: K_NO_WAIT fails at once, K_MSEC(50) gives up after 50 ms */
	EXPECT_EQ(NULL, k_heap_alloc(&h, 400, K_NO_WAIT));
	t0 = now_ms();
	EXPECT_EQ(NULL, k_heap_alloc(&h, 400, K_MSEC(50)));
	EXPECT_LE(49, now_ms() - t0);
	k_heap_free(&h, NULL);
	k_heap_free(&h, q);
	EXPECT_NE(NULL, k_heap_alloc(&h, 512, K_MSEC(50)));
}

TEST(realloc_rules)
{
	static _Alignas(16) char mem[512];
	struct k_heap h;
	char *p, *q;

	k_heap_init(&h, mem, sizeof(mem));
	p = k_heap_realloc(&h, NULL, 100, K_NO_WAIT);
	ASSERT_NE(NULL, p);
	strcpy(p, "kept");
	q = k_heap_realloc(&h, p, 300, K_NO_WAIT);
	ASSERT_NE(NULL, q);
	EXPECT_STREQ("kept", q);
	EXPECT_EQ(NULL, k_heap_realloc(&h, q, 600, K_MSEC(10)));	/* never fits */
	EXPECT_STREQ("kept", q);
	EXPECT_EQ(NULL, k_heap_realloc(&h, q + 16, 20, K_FOREVER));	/* not a block: at once */
	EXPECT_EQ(NULL, k_heap_realloc(&h, q, 0, K_FOREVER));	/* frees, at once */
	EXPECT_EQ((void *)mem, k_heap_alloc(&h, 512, K_NO_WAIT));
}

struct waiter {
	struct k_heap *h;
	size_t bytes;
	k_timeout_t timeout;
	void *got;
	long long waited_ms;
	atomic_int started;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	long long t0 = now_ms();

	atomic_store(&w->started, 1);
	w->got = k_heap_alloc(w->h, w->bytes, w->timeout);
	w->waited_ms = now_ms() - t0;
	return NULL;
}

static void *realloc_waiter_fn(void *arg)
{
	struct waiter *w = arg;
	long long t0 = now_ms();

	atomic_store(&w->started, 1);
	w->got = k_heap_realloc(w->h, w->got, w->bytes, w->timeout);
	w->waited_ms = now_ms() - t0;
	return NULL;
}

/* A blocked allocation wakes when another thread frees (K_FOREVER and K_MSEC). */
TEST(blocked_alloc_wakes_on_free)
{
	static _Alignas(16) char mem[1024];
	struct k_heap h;
	struct waiter w[2] = {
		{ .h = &h, .bytes = 600, .timeout = K_FOREVER },
		{ .h = &h, .bytes = 300, .timeout = K_SECONDS(30) },
	};
	pthread_t t[2];
	void *a, *b;
	int i;

	k_heap_init(&h, mem, sizeof(mem));
	a = k_heap_alloc(&h, 512, K_NO_WAIT);
	b = k_heap_alloc(&h, 512, K_NO_WAIT);
	ASSERT_NE(NULL, b);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, waiter_fn, &w[i]));
	while (!atomic_load(&w[0].started) || !atomic_load(&w[1].started))
		usleep(1000);
	usleep(50000);	/* both asleep in the heap by now (or about to try) */
	k_heap_free(&h, a);	/* room for the 300 only */
	pthread_join(t[1], NULL);
	EXPECT_NE(NULL, w[1].got);
	EXPECT_GT(20000, w[1].waited_ms);	/* woken, not timed out */
	k_heap_free(&h, w[1].got);
	k_heap_free(&h, b);	/* now the 600 fits */
	pthread_join(t[0], NULL);
	ASSERT_NE(NULL, w[0].got);
	EXPECT_TRUE((char *)w[0].got >= mem && (char *)w[0].got + 600 <= mem + sizeof(mem));
	k_heap_free(&h, w[0].got);
	EXPECT_TRUE(sys_heap_validate(&h.heap));
}

/* A blocked realloc wakes when room comes; a timed wait gives up. */
TEST(blocked_realloc_and_timeout)
{
	static _Alignas(16) char mem[1024];
	struct k_heap h;
	struct waiter w = { .h = &h, .bytes = 700, .timeout = K_FOREVER };
	struct waiter late = { .h = &h, .bytes = 900, .timeout = K_MSEC(30) };
	pthread_t t;
	char *a, *b;

	k_heap_init(&h, mem, sizeof(mem));
	a = k_heap_alloc(&h, 400, K_NO_WAIT);
	b = k_heap_alloc(&h, 600, K_NO_WAIT);
	ASSERT_NE(NULL, b);
	strcpy(a, "moved intact");
	w.got = a;
	ASSERT_EQ(0, pthread_create(&t, NULL, realloc_waiter_fn, &w));
	while (!atomic_load(&w.started))
		usleep(1000);
	usleep(30000);
	k_heap_free(&h, b);
	pthread_join(t, NULL);
	ASSERT_NE(NULL, w.got);
	EXPECT_STREQ("moved intact", (char *)w.got);
	/* nothing frees: the timed wait gives up after its 30 ms */
	ASSERT_EQ(0, pthread_create(&t, NULL, waiter_fn, &late));
	pthread_join(t, NULL);
	EXPECT_EQ(NULL, late.got);
	EXPECT_LE(29, late.waited_ms);
	k_heap_free(&h, w.got);
}

/* Many threads allocating and freeing with waits: nothing lost, nothing shared. */
enum { T_THREADS = 4, T_ROUNDS = 2000 };

struct worker_ctx {
	struct k_heap *h;
	int id;
	int fails;
};

static void *worker(void *arg)
{
	struct worker_ctx *x = arg;
	int r;

	for (r = 0; r < T_ROUNDS; r++) {
		unsigned char *p = k_heap_alloc(x->h, 100 + (size_t)(r % 200), K_MSEC(1000));
		size_t k;

		if (!p) {
			x->fails++;
			continue;
		}
		memset(p, x->id, 100);
		sched_yield();
		for (k = 0; k < 100; k++)
			if (p[k] != x->id)
				x->fails++;
		k_heap_free(x->h, p);
	}
	return NULL;
}

TEST(threads_share_one_heap)
{
	static _Alignas(16) char mem[1024];
	struct worker_ctx c[T_THREADS];
	pthread_t t[T_THREADS];
	struct k_heap h;
	int i;

	k_heap_init(&h, mem, sizeof(mem));
	for (i = 0; i < T_THREADS; i++) {
		c[i] = (struct worker_ctx){ .h = &h, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker, &c[i]));
	}
	for (i = 0; i < T_THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, c[i].fails);
	}
	EXPECT_TRUE(sys_heap_validate(&h.heap));
	EXPECT_EQ((void *)mem, k_heap_alloc(&h, sizeof(mem), K_NO_WAIT));
}

/* k_malloc and friends: the caps layer's default heap. */
TEST(system_heap)
{
	unsigned char *p, *q, *z;
	size_t i;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	p = k_malloc(100);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(caps_region_caps(p) & HAPMEM_CAP_DEFAULT);
	z = k_malloc(0);	/* upstream gives a (header-only) block */
	EXPECT_NE(NULL, z);
	k_free(z);
	memset(p, 7, 100);
	q = k_realloc(p, 5000);
	ASSERT_NE(NULL, q);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(7, q[i]);
	EXPECT_EQ(NULL, k_realloc(q, 0));
	p = k_realloc(NULL, 10);
	ASSERT_NE(NULL, p);
	k_free(p);
	k_free(NULL);
	q = k_calloc(100, 10);
	ASSERT_NE(NULL, q);
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, q[i]);
	k_free(q);
	EXPECT_EQ(NULL, k_calloc(SIZE_MAX / 4, 8));
	p = k_aligned_alloc(4096, 10);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, (uintptr_t)p % 4096);
	k_free(p);
	EXPECT_EQ(NULL, k_aligned_alloc(24, 10));
	EXPECT_EQ(NULL, k_malloc(SIZE_MAX / 2));
}

TEST_HARNESS_MAIN
