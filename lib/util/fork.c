// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() handling: one pthread_atfork() registration that runs the
 * modules' hooks in lock order (util/fork.h).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/fork.h"

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static const struct hm_fork_hooks *hooks[HM_FORK_NR_RANKS];

static void fork_prepare(void)
{
	int i;

	pthread_mutex_lock(&fork_lock);
	for (i = 0; i < HM_FORK_NR_RANKS; i++) {
		const struct hm_fork_hooks *h = hooks[i];

		if (!h)
			continue;
		if (h->lock)
			pthread_mutex_lock(h->lock);
		if (h->prepare)
			h->prepare();
	}
}

static void fork_parent(void)
{
	int i;

	for (i = HM_FORK_NR_RANKS - 1; i >= 0; i--) {
		const struct hm_fork_hooks *h = hooks[i];

		if (!h)
			continue;
		if (h->parent)
			h->parent();
		if (h->lock)
			pthread_mutex_unlock(h->lock);
	}
	pthread_mutex_unlock(&fork_lock);
}

static void fork_child(void)
{
	int i;

	for (i = HM_FORK_NR_RANKS - 1; i >= 0; i--) {
		const struct hm_fork_hooks *h = hooks[i];

		if (!h)
			continue;
		if (h->reset)
			h->reset();
		if (h->lock)
			pthread_mutex_unlock(h->lock);
	}
	pthread_mutex_unlock(&fork_lock);
}

static void fork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void hm_fork_register(const struct hm_fork_hooks *h)
{
	const struct hm_fork_hooks *old;

	if ((unsigned int)h->rank >= HM_FORK_NR_RANKS) {
		fprintf(stderr, "hapmem: fork hooks: bad rank %d\n", (int)h->rank);
		abort();
	}
	pthread_once(&fork_once, fork_init);
	pthread_mutex_lock(&fork_lock);
	old = hooks[h->rank];
	if (!old)
		hooks[h->rank] = h;
	pthread_mutex_unlock(&fork_lock);
	if (old && old != h) {
		fprintf(stderr, "hapmem: fork hooks: rank %d registered twice\n", (int)h->rank);
		abort();
	}
}
