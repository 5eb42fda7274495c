/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zephyr/kernel.h - the heap part of Zephyr's kernel API under its own
 * names: k_heap (a sys_heap with a lock, whose allocations can wait for
 * frees) and the system heap k_malloc family (over hapmem's capability
 * heaps).  A porting face (pkg-config libhapmem-compat); nothing else of
 * <zephyr/kernel.h> is provided.  Documentation/porting.rst lists every
 * difference.
 *
 * Timeouts count ticks of one microsecond.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ZEPHYR_INCLUDE_KERNEL_H_
#define ZEPHYR_INCLUDE_KERNEL_H_

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/sys_heap.h"

typedef int64_t k_ticks_t;

typedef struct {
	k_ticks_t ticks;
} k_timeout_t;

#define K_TICKS_FOREVER		((k_ticks_t)-1)
#define K_TICKS_PER_SEC		1000000

#define K_TICKS(t)		((k_timeout_t){ .ticks = (t) })
#define K_NO_WAIT		K_TICKS(0)
#define K_FOREVER		K_TICKS(K_TICKS_FOREVER)
#define K_NSEC(ns)		K_TICKS(((k_ticks_t)(ns) + 999) / 1000)
#define K_USEC(us)		K_TICKS((k_ticks_t)(us))
#define K_MSEC(ms)		K_TICKS((k_ticks_t)(ms) * 1000)
#define K_SECONDS(s)		K_MSEC((k_ticks_t)(s) * 1000)
#define K_MINUTES(m)		K_SECONDS((k_ticks_t)(m) * 60)
#define K_HOURS(h)		K_MINUTES((k_ticks_t)(h) * 60)
#define K_TIMEOUT_EQ(a, b)	((a).ticks == (b).ticks)

/* A sys_heap with a lock; allocations may wait for another thread's free. */
struct k_heap {
	struct sys_heap heap;
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

/*
 * K_HEAP_DEFINE(name, bytes) - a k_heap over a static buffer of @bytes,
 * initialised before main() (a constructor), usable from any file through
 * "extern struct k_heap name;".
 */
#define Z_HAPMEM_HEAP_DEFINE(name, bytes)					\
	char __attribute__((aligned(16))) kheap_##name[bytes];			\
	extern struct k_heap name;						\
	static void __attribute__((constructor)) z_kheap_init_##name(void)	\
	{									\
		k_heap_init(&name, kheap_##name, (bytes));			\
	}									\
	struct k_heap name = { .heap = { .init_mem = kheap_##name, .init_bytes = (bytes) } }
#define K_HEAP_DEFINE(name, bytes)		Z_HAPMEM_HEAP_DEFINE(name, bytes)
/* No cache attribute on the host: as K_HEAP_DEFINE. */
#define K_HEAP_DEFINE_NOCACHE(name, bytes)	Z_HAPMEM_HEAP_DEFINE(name, bytes)

HAPMEM_BEGIN_DECLS

void k_heap_init(struct k_heap *h, void *mem, size_t bytes);
/*
 * Wait up to @timeout (K_NO_WAIT, K_FOREVER, K_MSEC(n) ...) for room:
 * a free or a realloc on the heap wakes the waiters.  NULL for 0 bytes,
 * an alignment that is not a power of two, or when the time is up.
 */
void *k_heap_aligned_alloc(struct k_heap *h, size_t align, size_t bytes, k_timeout_t timeout);
void *k_heap_alloc(struct k_heap *h, size_t bytes, k_timeout_t timeout);
/* Zeroed; NULL when @num * @size overflows. */
void *k_heap_calloc(struct k_heap *h, size_t num, size_t size, k_timeout_t timeout);
/* @ptr NULL: k_heap_alloc; @bytes 0: frees, NULL (at once). */
void *k_heap_realloc(struct k_heap *h, void *ptr, size_t bytes, k_timeout_t timeout);
void k_heap_free(struct k_heap *h, void *mem);

/*
 * The system heap: hapmem's default capability heap (caps_malloc with
 * HAPMEM_CAP_DEFAULT; the standard regions are added on first use).
 * k_malloc(0) gives a minimum block, as upstream; never waits.
 */
void *k_malloc(size_t size);
void *k_aligned_alloc(size_t align, size_t size);
void *k_calloc(size_t nmemb, size_t size);
/* @ptr NULL: k_malloc; @size 0: frees, NULL. */
void *k_realloc(void *ptr, size_t size);
void k_free(void *ptr);

HAPMEM_END_DECLS

#endif /* ZEPHYR_INCLUDE_KERNEL_H_ */
