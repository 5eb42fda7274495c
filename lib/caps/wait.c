// SPDX-License-Identifier: GPL-2.0-only
/*
 * Blocking allocation with a timeout (in the style of Zephyr's
 * k_heap_alloc), without waking every waiter on every free.
 *
 * A waiter registers its need (bytes, guards included) and the set of
 * candidate regions before its first attempt, and lowers each candidate's
 * min_wait to its need.  caps_free() compares the region's largest free
 * block, which it read under the region lock, with min_wait: one load
 * and no lock when nobody can be served.  Otherwise it takes the waiters
 * lock and signals only the waiters that this region can now serve.
 * Registration before the attempt closes the lost-wakeup window: a free
 * that lands between a failed attempt and the sleep sees the waiter and
 * counts a kick, and the waiter does not sleep when kicks came since its
 * last look.  Only a waiter that is asleep is signalled (and counted as a
 * wakeup): one that is awake and retrying needs no signal, however many
 * frees land meanwhile.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "caps/caps_internal.h"

struct waiter {
	struct waiter *next;
	size_t need;
	uint64_t regions;	/* bit per registry slot */
	unsigned long kicks;	/* frees that could serve it */
	bool asleep;		/* in pthread_cond_(timed)wait */
	pthread_cond_t cv;
};

static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter *waiters;
static struct caps_wait_stats wstats;
static pthread_cond_t wslept = PTHREAD_COND_INITIALIZER; /* wstats.waits grew */

void hm_caps_wait_stats(struct caps_wait_stats *st)
{
	pthread_mutex_lock(&wlock);
	*st = wstats;
	pthread_mutex_unlock(&wlock);
}

/* For tests: wait until @waits sleeps have been counted in all. */
void hm_caps_wait_sleeps(unsigned long waits)
{
	pthread_mutex_lock(&wlock);
	while (wstats.waits < waits)
		pthread_cond_wait(&wslept, &wlock);
	pthread_mutex_unlock(&wlock);
}

/* wlock held: recompute min_wait of the regions in @mask. */
static void recompute_locked(uint64_t mask)
{
	unsigned int s;

	for (s = 0; s < HAPMEM_CAPS_MAX_REGIONS; s++) {
		struct caps_region *r;
		struct waiter *w;
		size_t m = SIZE_MAX;

		if (!(mask & (1ull << s)) || !(r = hm_caps_region_at(s)))
			continue;
		for (w = waiters; w; w = w->next)
			if ((w->regions & (1ull << s)) && w->need < m)
				m = w->need;
		atomic_store(&r->min_wait, m);
	}
}

void hm_caps_wake(struct caps_region *r, size_t largest_free)
{
	struct waiter *w;

	pthread_mutex_lock(&wlock);
	for (w = waiters; w; w = w->next) {
		if (!(w->regions & (1ull << r->slot)) || w->need > largest_free)
			continue;
		w->kicks++;
		if (!w->asleep)
			continue;
		w->asleep = false;
		wstats.wakeups++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&wlock);
}

/* The absolute CLOCK_MONOTONIC time @timeout_ms from now (< 0: unused). */
static void deadline_after(long timeout_ms, struct timespec *deadline)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	if (timeout_ms < 0)
		return;
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

static void waiter_init(struct waiter *w)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof(*w));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/*
 * Register @w as needing @size bytes (guards included) from the regions
 * that may serve @caps, before the first attempt: -ENOTSUP when none may,
 * -E2BIG when none ever could.
 */
static int waiter_register(struct waiter *w, size_t size, uint32_t caps)
{
	const struct caps_cands *c;
	size_t biggest = 0;
	unsigned int i;
	int err = 0;

	hm_caps_reg_rdlock();
	c = hm_caps_cands(caps);
	for (i = 0; i < c->n; i++) {
		struct caps_region *r = hm_caps_region_at(c->slot[i]);
		size_t head, tail;

		hm_caps_dbg_layout(r, hm_caps_dbg_level(), size, 0, &head, &tail);
		if (r->capacity > biggest)
			biggest = r->capacity;
		w->regions |= 1ull << r->slot;
		if (size <= SIZE_MAX - head - tail - HM_CORE_GRANULE && size + head + tail > w->need)
			w->need = size + head + tail;
	}
	if (!c->n)
		err = -ENOTSUP;
	else if (size > biggest || !w->need)
		err = -E2BIG;
	if (!err) {
		w->need = (w->need + HM_CORE_GRANULE - 1) & ~(size_t)(HM_CORE_GRANULE - 1);
		pthread_mutex_lock(&wlock);
		w->next = waiters;
		waiters = w;
		for (i = 0; i < c->n; i++) {
			struct caps_region *r = hm_caps_region_at(c->slot[i]);

			if ((size_t)atomic_load(&r->min_wait) > w->need)
				atomic_store(&r->min_wait, w->need);
		}
		pthread_mutex_unlock(&wlock);
	}
	hm_caps_reg_unlock();
	return err;
}

static void waiter_unregister(struct waiter *w)
{
	struct waiter **pp;

	hm_caps_reg_rdlock();
	pthread_mutex_lock(&wlock);
	for (pp = &waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	recompute_locked(w->regions);
	pthread_mutex_unlock(&wlock);
	hm_caps_reg_unlock();
}

/*
 * After a failed attempt: sleep until a free kicks @w (one that landed
 * since the attempt counts: no sleep then) or the deadline passes.
 * -ENOMEM: kicked, try again; -ETIMEDOUT: give up.
 */
static int wait_for_kick(struct waiter *w, unsigned long *seen, long timeout_ms,
			 const struct timespec *deadline)
{
	int err = 0;

	pthread_mutex_lock(&wlock);
	if (w->kicks == *seen) {
		/* Counted with wlock held until the sleep: asleep for all. */
		wstats.waits++;
		pthread_cond_broadcast(&wslept);
	}
	while (w->kicks == *seen && err != -ETIMEDOUT) {
		w->asleep = true;
		if (timeout_ms < 0)
			pthread_cond_wait(&w->cv, &wlock);
		else if (pthread_cond_timedwait(&w->cv, &wlock, deadline) == ETIMEDOUT)
			err = -ETIMEDOUT;
	}
	w->asleep = false;
	if (w->kicks == *seen) {
		wstats.timeouts++;
	} else {
		*seen = w->kicks;
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&wlock);
	return err;
}

void *caps_malloc_timeout(size_t size, uint32_t caps, long timeout_ms)
{
	unsigned long seen = 0;	/* w.kicks at the last attempt */
	struct timespec deadline;
	struct waiter w;
	void *p = NULL;
	int err = hm_caps_validate(caps);

	if (err)
		goto out;
	deadline_after(timeout_ms, &deadline);
	waiter_init(&w);
	err = waiter_register(&w, size, caps);
	if (err)
		goto destroy;
	for (;;) {
		hm_caps_reg_rdlock();
		err = hm_caps_alloc_cands(hm_caps_cands(caps), size, 0, NULL, 0, NULL, &p, NULL);
		hm_caps_reg_unlock();
		if (err != -ENOMEM)
			break;
		err = wait_for_kick(&w, &seen, timeout_ms, &deadline);
		if (err == -ETIMEDOUT)
			break;
	}
	waiter_unregister(&w);
destroy:
	pthread_cond_destroy(&w.cv);
out:
	if (err) {
		hm_caps_failed(size, caps, __func__, err);
		return NULL;
	}
	return p;
}

/* ---- fork (caps_fork.c) ---- */

void hm_caps_wait_fork_prepare(void)
{
	pthread_mutex_lock(&wlock);
}

void hm_caps_wait_fork_parent(void)
{
	pthread_mutex_unlock(&wlock);
}

/* Child: the waiters were the parent's other threads (on their stacks). */
void hm_caps_wait_fork_child(void)
{
	waiters = NULL;
	memset(&wstats, 0, sizeof(wstats));
	pthread_mutex_unlock(&wlock);
}
