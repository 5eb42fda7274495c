/* SPDX-License-Identifier: GPL-2.0-only */
/* A HAP heap instance on the host backend, for the test_heap_*.c tests. */
#ifndef HAPMEM_TESTS_HEAP_FIXTURE_H
#define HAPMEM_TESTS_HEAP_FIXTURE_H

#include "heap/backend_host.h"
#include "heap/heap.h"

#define MiB (1ull << 20)
#define KiB (1ull << 10)

FIXTURE(heap) {
	void *ctx;
	struct hm_heap *h;
};

FIXTURE_SETUP(heap)
{
	self->ctx = hm_backend_host_ctx_new();
	ASSERT_NE(NULL, self->ctx);
	self->h = hm_heap_create(&hm_backend_host, self->ctx);
	ASSERT_NE(NULL, self->h);
}

FIXTURE_TEARDOWN(heap)
{
	struct hm_backend_host_counters n;

	hm_heap_destroy(self->h);
	hm_backend_host_counters(self->ctx, &n);
	EXPECT_EQ(0, n.live_segments);		/* everything went back */
	hm_backend_host_ctx_free(self->ctx);
}

static inline struct hm_backend_host_counters host_counters(void *ctx)
{
	struct hm_backend_host_counters n;

	hm_backend_host_counters(ctx, &n);
	return n;
}

static inline struct hm_heap_stats heap_stats(struct hm_heap *h)
{
	struct hm_heap_stats st;

	hm_heap_stats(h, &st);
	return st;
}

#endif
