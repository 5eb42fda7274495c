// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork() handling: one pthread_atfork() registration that runs the
 * modules' hooks in lock order.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <pthread.h>

#include "fork.h"

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static const struct hm_fork_hooks *hooks[HM_FORK_MAX_HOOKS];
static int n_hooks;

static void fork_prepare(void)
{
	int i;

	pthread_mutex_lock(&fork_lock);
	for (i = 0; i < n_hooks; i++)
		if (hooks[i]->prepare)
			hooks[i]->prepare();
}

static void fork_parent(void)
{
	int i;

	for (i = n_hooks - 1; i >= 0; i--)
		if (hooks[i]->parent)
			hooks[i]->parent();
	pthread_mutex_unlock(&fork_lock);
}

static void fork_child(void)
{
	int i;

	for (i = n_hooks - 1; i >= 0; i--)
		if (hooks[i]->child)
			hooks[i]->child();
	pthread_mutex_unlock(&fork_lock);
}

static void fork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int hm_fork_register(const struct hm_fork_hooks *h)
{
	int i, ret = 0;

	pthread_once(&fork_once, fork_init);
	pthread_mutex_lock(&fork_lock);
	if (n_hooks == HM_FORK_MAX_HOOKS) {
		ret = -ENOSPC;
	} else {
		/* insertion sort by rank */
		for (i = n_hooks; i > 0 && hooks[i - 1]->rank > h->rank; i--)
			hooks[i] = hooks[i - 1];
		hooks[i] = h;
		n_hooks++;
	}
	pthread_mutex_unlock(&fork_lock);
	return ret;
}
