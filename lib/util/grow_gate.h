/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: "grow while unlocked, others wait", for an allocator that
 * drops its lock around a backend grow() call.
 *
 * The owner keeps a mutex and a gate.  A thread that runs out calls
 * hm_grow_gate_wait() with the mutex held: when a growth is in flight it
 * waits for that one to complete (or any later one), and the caller
 * retries its allocation; otherwise it grows itself, between
 * hm_grow_gate_begin() (lock held, then dropped) and hm_grow_gate_end()
 * (lock retaken).  So a burst of threads that run out together makes one
 * growth, not one each, and allocations keep going while it runs.
 *
 * The condition variable may also be broadcast by the owner for its own
 * events (a heap: its backend went idle, for fork()).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_GROW_GATE_H
#define HAPMEM_LIB_GROW_GATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct hm_grow_gate {
	pthread_cond_t done;		/* a growth completed (or an owner's event) */
	unsigned int growing;		/* growths in flight */
	uint64_t gen;			/* bumped when one completes */
};

static inline void hm_grow_gate_init(struct hm_grow_gate *g)
{
	pthread_cond_init(&g->done, NULL);
	g->growing = 0;
	g->gen = 0;
}

static inline void hm_grow_gate_destroy(struct hm_grow_gate *g)
{
	pthread_cond_destroy(&g->done);
}

/* fork, child: no growth in flight; the waiters were the parent's threads. */
static inline void hm_grow_gate_reset(struct hm_grow_gate *g)
{
	hm_grow_gate_init(g);
}

static inline bool hm_grow_gate_busy(const struct hm_grow_gate *g)
{
	return g->growing != 0;
}

/*
 * @lock held.  A growth in flight: wait until one completes and return
 * true (retry the allocation).  None: return false (grow).
 */
static inline bool hm_grow_gate_wait(struct hm_grow_gate *g, pthread_mutex_t *lock)
{
	uint64_t gen = g->gen;

	if (!g->growing)
		return false;
	while (g->growing && gen == g->gen)
		pthread_cond_wait(&g->done, lock);
	return true;
}

/* @lock held, about to be dropped around the backend call. */
static inline void hm_grow_gate_begin(struct hm_grow_gate *g)
{
	g->growing++;
}

/* @lock retaken after the backend call, whatever it returned. */
static inline void hm_grow_gate_end(struct hm_grow_gate *g)
{
	g->growing--;
	g->gen++;
	pthread_cond_broadcast(&g->done);
}

#endif /* HAPMEM_LIB_GROW_GATE_H */
