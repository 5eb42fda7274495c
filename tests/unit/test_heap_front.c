// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap's per-thread front end (lib/heap/tcache.c): slab blocks,
 * their invariant checks, exact statistics, frees from other threads,
 * thread exit (orphaned slabs), markers bypassing it, and a threaded
 * producer/consumer run with content checks.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"

FIXTURE(front) {
	void *ctx;
	struct hm_heap *h;
};

FIXTURE_SETUP(front)
{
	self->ctx = hm_backend_host_ctx_new();
	ASSERT_NE(NULL, self->ctx);
	self->h = hm_heap_create(&hm_backend_host, self->ctx);
	ASSERT_NE(NULL, self->h);
	hm_heap_set_front_end(self->h, true);
}

FIXTURE_TEARDOWN(front)
{
	hm_heap_destroy(self->h);
	EXPECT_EQ(0, host_counters(self->ctx).live_segments);
	hm_backend_host_ctx_free(self->ctx);
}

TEST_F(front, blocks_stats_and_bad_frees)
{
	void *p[100];
	int local, i;
	struct hm_heap_stats st;

	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, hm_heap_alloc(self->h, 1 + (size_t)i * 40, 0, &p[i]));
		EXPECT_EQ(0, (uintptr_t)p[i] % 16);
		memset(p[i], i, 1 + (size_t)i * 40);
	}
	st = heap_stats(self->h);
	EXPECT_EQ(100, st.core.live_blocks);
	for (i = 0; i < 100; i++) {
		void *q;

		/* Within its class a slab block stays; past it, it moves with its content. */
		ASSERT_EQ(0, hm_heap_realloc(self->h, p[i], 1, &q));
		EXPECT_EQ(p[i], q);
		ASSERT_EQ(0, hm_heap_realloc(self->h, p[i], 5000, &q));
		EXPECT_NE(p[i], q);
		p[i] = q;
		EXPECT_EQ((unsigned char)i, *(unsigned char *)q);
	}
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, (char *)p[5] + 16));	/* interior (core) */
	EXPECT_EQ(-EFAULT, hm_heap_free(self->h, &local));		/* foreign */
	for (i = 0; i < 100; i++)
		EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[7]));		/* double free */
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(st.core.total_bytes, st.core.free_bytes);
	EXPECT_EQ(st.core.segments, st.core.segments_free);	/* empty slabs went back */
}

TEST_F(front, used_bytes_are_class_sizes)
{
	void *a, *b, *c;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 1, 0, &a));		/* 16 */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 129, 0, &b));	/* 160 */
	ASSERT_EQ(0, hm_heap_alloc(self->h, 4000, 0, &c));	/* 4096 */
	EXPECT_EQ(16 + 160 + 4096, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(3, heap_stats(self->h).core.live_blocks);
	EXPECT_EQ(0, hm_heap_free(self->h, b));
	EXPECT_EQ(16 + 4096, heap_stats(self->h).core.used_bytes);
	EXPECT_EQ(0, hm_heap_free(self->h, a));
	EXPECT_EQ(0, hm_heap_free(self->h, c));
	EXPECT_EQ(0, heap_stats(self->h).core.used_bytes);
}

/* Blocks allocated by one thread, freed by another (and twice). */
struct remote {
	struct hm_heap *h;
	void **p;
	int n;
	int errors, doubles;
};

static void *free_them(void *arg)
{
	struct remote *r = arg;
	int i;

	for (i = 0; i < r->n; i++)
		r->errors += hm_heap_free(r->h, r->p[i]) != 0;
	for (i = 0; i < r->n; i += 10)
		r->doubles += hm_heap_free(r->h, r->p[i]) == -EINVAL;
	return NULL;
}

static void *alloc_them(void *arg)
{
	struct remote *r = arg;
	int i;

	for (i = 0; i < r->n; i++) {
		r->errors += hm_heap_alloc(r->h, 8 + (size_t)(i % 300), 0, &r->p[i]) != 0;
		memset(r->p[i], 0x5a, 8);
	}
	return NULL;	/* exits with its slabs full: they are orphaned */
}

TEST_F(front, remote_frees_and_thread_exit)
{
	static void *p[3000];
	struct remote r = { .h = self->h, .p = p, .n = 3000 };
	struct hm_heap_stats st;
	pthread_t t;
	int i;

	/* Main thread allocates, another frees: remote path, then drained. */
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 24, 0, &p[i]));
	ASSERT_EQ(0, pthread_create(&t, NULL, free_them, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(300, r.doubles);
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(0, st.core.live_blocks);
	/* The slots come back to their owner. */
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, 24, 0, &p[i]));
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));

	/* Another thread allocates and exits; its slabs are orphans we free into. */
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_them, &r));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(3000, heap_stats(self->h).core.live_blocks);
	for (i = 0; i < r.n; i++)
		ASSERT_EQ(0, hm_heap_free(self->h, p[i]));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p[0]));
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(st.core.segments, st.core.segments_free);
}

TEST_F(front, markers_bypass_the_front_end)
{
	void *before, *during;
	uint16_t m;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &before));
	ASSERT_EQ(0, hm_heap_marker_start(self->h, &m));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 32, 0, &during));
	EXPECT_EQ(1, hm_heap_marker_end(self->h, m, f));
	fclose(f);
	EXPECT_NE(NULL, strstr(text, "leaked 32 bytes"));
	free(text);
	EXPECT_EQ(0, hm_heap_free(self->h, during));
	EXPECT_EQ(0, hm_heap_free(self->h, before));
}

/* Producer/consumer pairs: every block crosses threads, content checked. */
#define PAIRS	2
#define RING	256
#define ITEMS	30000

struct ring {
	struct hm_heap *h;
	void *_Atomic slot[RING];
	size_t size[RING];
	int errors;
};

static void *produce(void *arg)
{
	struct ring *r = arg;
	unsigned int i;

	for (i = 0; i < ITEMS; i++) {
		unsigned int k = i % RING;
		size_t size = 1 + (i * 2654435761u) % 4096;
		void *p;

		while (atomic_load(&r->slot[k]))
			sched_yield();
		if (hm_heap_alloc(r->h, size, 0, &p)) {
			r->errors++;
			continue;
		}
		memset(p, (int)(k & 0xff), size);
		r->size[k] = size;
		atomic_store(&r->slot[k], p);
	}
	return NULL;
}

static void *consume(void *arg)
{
	struct ring *r = arg;
	unsigned int i;

	for (i = 0; i < ITEMS; i++) {
		unsigned int k = i % RING;
		unsigned char *p;
		size_t j;

		while (!(p = atomic_load(&r->slot[k])))
			sched_yield();
		for (j = 0; j < r->size[k]; j++)
			if (p[j] != (k & 0xff)) {
				r->errors++;
				break;
			}
		r->errors += hm_heap_free(r->h, p) != 0;
		atomic_store(&r->slot[k], NULL);
	}
	return NULL;
}

TEST_F(front, producers_and_consumers)
{
	static struct ring rings[PAIRS];
	pthread_t t[2 * PAIRS];
	struct hm_heap_stats st;
	int i;

	for (i = 0; i < PAIRS; i++) {
		memset(&rings[i], 0, sizeof(rings[i]));
		rings[i].h = self->h;
		ASSERT_EQ(0, pthread_create(&t[2 * i], NULL, produce, &rings[i]));
		ASSERT_EQ(0, pthread_create(&t[2 * i + 1], NULL, consume, &rings[i]));
	}
	for (i = 0; i < 2 * PAIRS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < PAIRS; i++)
		EXPECT_EQ(0, rings[i].errors);
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(0, st.core.used_bytes);
}

TEST_HARNESS_MAIN
