// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr k_heap face and the system heap (<zephyr/kernel.h>, heap
 * part).
 *
 * k_heap: a sys_heap (zephyr_sys_heap.c) behind a mutex; an allocation
 * that finds no room waits on a condition variable (CLOCK_MONOTONIC) until
 * a free or realloc broadcasts it, or its timeout passes, and tries again.
 *
 * k_malloc and friends: caps_malloc with HAPMEM_CAP_DEFAULT, the standard
 * regions added on first use (caps_init_default), as the ESP-IDF face.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "compat/zephyr/kernel.h"

#include "hapmem_caps.h"

void k_heap_init(struct k_heap *h, void *mem, size_t bytes)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->freed, &ca);
	pthread_condattr_destroy(&ca);
	sys_heap_init(&h->heap, mem, bytes);
}

/* The absolute CLOCK_MONOTONIC time @timeout ends (a positive tick count). */
static struct timespec deadline(k_timeout_t timeout)
{
	struct timespec ts;
	k_ticks_t us = timeout.ticks;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(us / K_TICKS_PER_SEC);
	ts.tv_nsec += (long)(us % K_TICKS_PER_SEC) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Under h->lock: wait for a free until @end (forever if @timeout is
 * K_FOREVER).  False when the time is up (or @timeout is K_NO_WAIT).
 */
static bool wait_free(struct k_heap *h, k_timeout_t timeout, const struct timespec *end)
{
	if (timeout.ticks == K_TICKS_FOREVER)
		return !pthread_cond_wait(&h->freed, &h->lock);
	if (timeout.ticks <= 0)
		return false;
	return pthread_cond_timedwait(&h->freed, &h->lock, end) != ETIMEDOUT;
}

void *k_heap_aligned_alloc(struct k_heap *h, size_t align, size_t bytes, k_timeout_t timeout)
{
	struct timespec end = deadline(timeout.ticks > 0 ? timeout : K_NO_WAIT);
	void *p;

	if (!bytes || (align & (align - 1)))
		return NULL;
	pthread_mutex_lock(&h->lock);
	/* a timed-out wait still tries once more: a free may have come with the timeout */
	while (!(p = sys_heap_aligned_alloc(&h->heap, align, bytes)) && wait_free(h, timeout, &end))
		;
	if (!p && timeout.ticks > 0)
		p = sys_heap_aligned_alloc(&h->heap, align, bytes);
	pthread_mutex_unlock(&h->lock);
	return p;
}

void *k_heap_alloc(struct k_heap *h, size_t bytes, k_timeout_t timeout)
{
	return k_heap_aligned_alloc(h, 0, bytes, timeout);
}

void *k_heap_calloc(struct k_heap *h, size_t num, size_t size, k_timeout_t timeout)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(num, size, &total))
		return NULL;
	p = k_heap_alloc(h, total, timeout);
	if (p)
		memset(p, 0, total);
	return p;
}

void k_heap_free(struct k_heap *h, void *mem)
{
	if (!mem)
		return;
	pthread_mutex_lock(&h->lock);
	sys_heap_free(&h->heap, mem);
	pthread_cond_broadcast(&h->freed);
	pthread_mutex_unlock(&h->lock);
}

void *k_heap_realloc(struct k_heap *h, void *ptr, size_t bytes, k_timeout_t timeout)
{
	struct timespec end = deadline(timeout.ticks > 0 ? timeout : K_NO_WAIT);
	size_t old;
	void *p;

	if (!ptr)
		return k_heap_alloc(h, bytes, timeout);
	if (!bytes) {
		k_heap_free(h, ptr);
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	old = sys_heap_usable_size(&h->heap, ptr);
	if (!old) {
		pthread_mutex_unlock(&h->lock);
		return NULL;	/* not a block of this heap */
	}
	while (!(p = sys_heap_realloc(&h->heap, ptr, bytes)) && wait_free(h, timeout, &end))
		;
	if (!p && timeout.ticks > 0)
		p = sys_heap_realloc(&h->heap, ptr, bytes);
	if (p && (p != ptr || bytes < old))
		pthread_cond_broadcast(&h->freed);	/* moved or shrunk: room for waiters */
	pthread_mutex_unlock(&h->lock);
	return p;
}

/* ---- the system heap ------------------------------------------------------- */

static pthread_once_t sys_once = PTHREAD_ONCE_INIT;

static void sys_init(void)
{
	caps_init_default();	/* no device: allocations fail, and say so */
}

void *k_aligned_alloc(size_t align, size_t size)
{
	pthread_once(&sys_once, sys_init);
	if (!align || (align & (align - 1)))
		return NULL;
	return caps_aligned_alloc(align, size, HAPMEM_CAP_DEFAULT);
}

void *k_malloc(size_t size)
{
	pthread_once(&sys_once, sys_init);
	return caps_malloc(size, HAPMEM_CAP_DEFAULT);
}

void *k_calloc(size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &total))
		return NULL;
	p = k_malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

void *k_realloc(void *ptr, size_t size)
{
	if (!size) {
		k_free(ptr);
		return NULL;
	}
	if (!ptr)
		return k_malloc(size);
	return caps_realloc(ptr, size, 0);
}

void k_free(void *ptr)
{
	if (ptr)
		caps_free(ptr);
}
