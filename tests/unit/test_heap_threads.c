// SPDX-License-Identifier: GPL-2.0-only
/*
 * 8 threads hammering one HAP heap with alloc, realloc and free, every
 * block filled with a per-thread pattern and checked before it is freed.
 * Growth happens under contention (the heap starts empty).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"

#define THREADS	8
#define OPS	150000
#define LIVE	128

struct worker {
	struct hm_heap *h;
	unsigned int id;
	int errors;
};

struct slot {
	unsigned char *p;
	size_t size;
	unsigned char pat;
};

static int check(const struct slot *s)
{
	size_t i;

	for (i = 0; i < s->size; i++)
		if (s->p[i] != (unsigned char)(s->pat + i))
			return 1;
	return 0;
}

static void *hammer(void *arg)
{
	struct worker *w = arg;
	struct slot live[LIVE] = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->id + 1);
	unsigned int op, i;

	for (op = 0; op < OPS; op++) {
		struct slot *s;
		size_t size;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		s = &live[x % LIVE];
		size = (size_t)((x >> 20) & ((16u << ((x >> 40) % 9)) - 1));
		if (s->p) {
			w->errors += check(s);
			if ((x >> 50) % 4 == 0) {
				void *n;

				if (hm_heap_realloc(w->h, s->p, size, &n)) {
					w->errors++;
					continue;
				}
				s->p = n;
				s->size = s->size < size ? s->size : size;
				w->errors += check(s);
				s->size = size;
			} else {
				w->errors += hm_heap_free(w->h, s->p) != 0;
				s->p = NULL;
				continue;
			}
		} else if (hm_heap_alloc(w->h, size, (x >> 60) ? 0 : 64, (void **)&s->p)) {
			w->errors++;
			continue;
		}
		s->size = size;
		s->pat = (unsigned char)(w->id * 31 + op);
		for (i = 0; i < size; i++)
			s->p[i] = (unsigned char)(s->pat + i);
	}
	for (i = 0; i < LIVE; i++)
		if (live[i].p) {
			w->errors += check(&live[i]);
			w->errors += hm_heap_free(w->h, live[i].p) != 0;
		}
	return NULL;
}

/* Generous: TSan on a loaded 2-core machine is 30x slower than a plain run. */
TEST_F_TIMEOUT(heap, eight_threads, 300)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct hm_heap_stats st;
	unsigned int i;

	/* Release and pre-grow run concurrently with everything else too. */
	ASSERT_EQ(0, hm_heap_set_thresholds(self->h, 64 * KiB, 4 * MiB));
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .h = self->h, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer, &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].errors) TH_LOG("thread %u", i);
	}
	st = heap_stats(self->h);
	EXPECT_EQ(0, st.core.used_bytes);
	EXPECT_EQ(0, st.core.live_blocks);
	EXPECT_EQ(st.core.segments, st.core.segments_free);
	EXPECT_LE(1, st.grow_events);
}

TEST_HARNESS_MAIN
