// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ESP-IDF heap_trace face (<esp_heap_trace.h>) over caps listeners:
 * the state machine's answers, ALL and LEAKS modes, pause and resume,
 * overflow, summary and dump.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

#include <esp_heap_caps.h>
#include <esp_heap_trace.h>

#define N 8

static heap_trace_record_t recs[N];

TEST(state_machine)
{
	heap_trace_record_t r;
	heap_trace_summary_t s;

	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_start(HEAP_TRACE_ALL));	/* no buffer */
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_resume());
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_stop());
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_alloc_pause());
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_init_standalone(recs, 0));
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_init_standalone(NULL, 4));
	ASSERT_EQ(ESP_OK, heap_trace_init_standalone(recs, N));
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_start((heap_trace_mode_t)7));
	ASSERT_EQ(ESP_OK, heap_trace_start(HEAP_TRACE_ALL));
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_init_standalone(recs, N));	/* tracing */
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_resume());	/* already on */
	EXPECT_EQ(ESP_OK, heap_trace_start(HEAP_TRACE_LEAKS));	/* restart is allowed */
	EXPECT_EQ(ESP_OK, heap_trace_stop());
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_stop());
	EXPECT_EQ(ESP_OK, heap_trace_resume());
	EXPECT_EQ(ESP_OK, heap_trace_stop());
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_get(0, &r));	/* no records */
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_get(0, NULL));
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_trace_summary(NULL));
	ASSERT_EQ(ESP_OK, heap_trace_summary(&s));
	EXPECT_EQ(HEAP_TRACE_LEAKS, s.mode);
	EXPECT_EQ(N, s.capacity);
	EXPECT_EQ(ESP_OK, heap_trace_init_standalone(NULL, 0));	/* buffer given back */
	EXPECT_EQ(ESP_ERR_INVALID_STATE, heap_trace_start(HEAP_TRACE_ALL));
}

TEST(all_mode_records_allocs_and_frees)
{
	heap_trace_record_t r;
	heap_trace_summary_t s;
	void *a, *b, *c;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	a = heap_caps_malloc(10, MALLOC_CAP_DEFAULT);	/* before tracing: not seen */
	ASSERT_EQ(ESP_OK, heap_trace_init_standalone(recs, N));
	ASSERT_EQ(ESP_OK, heap_trace_start(HEAP_TRACE_ALL));
	b = heap_caps_malloc(100, MALLOC_CAP_DMA);
	c = heap_caps_calloc(3, 50, MALLOC_CAP_INTERNAL);
	heap_caps_free(b);
	heap_caps_free(a);	/* a free of an untraced block: counted only */
	ASSERT_EQ(ESP_OK, heap_trace_stop());
	heap_caps_free(c);	/* after stop: not seen */
	EXPECT_EQ(2, heap_trace_get_count());
	ASSERT_EQ(ESP_OK, heap_trace_get(0, &r));
	EXPECT_EQ(b, r.address);
	EXPECT_EQ(100, r.size);
	EXPECT_TRUE(r.freed);
	ASSERT_EQ(ESP_OK, heap_trace_get(1, &r));
	EXPECT_EQ(c, r.address);
	EXPECT_EQ(150, r.size);
	EXPECT_FALSE(r.freed);
	ASSERT_EQ(ESP_OK, heap_trace_summary(&s));
	EXPECT_EQ(2, s.total_allocations);
	EXPECT_EQ(2, s.total_frees);
	EXPECT_EQ(2, s.count);
	EXPECT_FALSE(s.has_overflowed);
	heap_trace_dump();
}

TEST(leaks_mode_pause_resume_overflow)
{
	heap_trace_record_t r;
	heap_trace_summary_t s;
	void *p[N + 3], *q, *late;
	int i;

	ASSERT_EQ(0, add_std_set(2 * MiB));
	ASSERT_EQ(ESP_OK, heap_trace_init_standalone(recs, N));
	ASSERT_EQ(ESP_OK, heap_trace_start(HEAP_TRACE_LEAKS));
	q = heap_caps_malloc(33, MALLOC_CAP_DEFAULT);
	for (i = 0; i < 4; i++)
		p[i] = heap_caps_malloc(64 + i, MALLOC_CAP_DEFAULT);
	heap_caps_free(p[1]);	/* freed: its record goes */
	EXPECT_EQ(4, heap_trace_get_count());
	ASSERT_EQ(ESP_OK, heap_trace_get(1, &r));
	EXPECT_EQ(p[0], r.address);
	ASSERT_EQ(ESP_OK, heap_trace_get(2, &r));
	EXPECT_EQ(p[2], r.address);	/* the order of the others is kept */
	/* realloc in place updates the size */
	EXPECT_EQ(q, heap_caps_realloc(q, 40, 0));
	ASSERT_EQ(ESP_OK, heap_trace_get(0, &r));
	EXPECT_EQ(40, r.size);
	/* paused: allocations are not recorded, frees are */
	ASSERT_EQ(ESP_OK, heap_trace_alloc_pause());
	late = heap_caps_malloc(500, MALLOC_CAP_DEFAULT);
	heap_caps_free(p[0]);
	EXPECT_EQ(3, heap_trace_get_count());
	ASSERT_EQ(ESP_OK, heap_trace_stop());
	ASSERT_EQ(ESP_OK, heap_trace_resume());	/* records kept */
	EXPECT_EQ(3, heap_trace_get_count());
	/* overflow: N records at most */
	for (i = 4; i < N + 3; i++)
		p[i] = heap_caps_malloc(16, MALLOC_CAP_DEFAULT);
	EXPECT_EQ(N, heap_trace_get_count());
	ASSERT_EQ(ESP_OK, heap_trace_summary(&s));
	EXPECT_TRUE(s.has_overflowed);
	EXPECT_EQ(N, s.high_water_mark);
	EXPECT_EQ(1 + 4 + (N - 1), s.total_allocations);
	ASSERT_EQ(ESP_OK, heap_trace_stop());
	heap_caps_free(q);
	heap_caps_free(late);
	for (i = 2; i < N + 3; i++)
		heap_caps_free(p[i]);
}

TEST_HARNESS_MAIN
