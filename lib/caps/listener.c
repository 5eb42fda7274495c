// SPDX-License-Identifier: GPL-2.0-only
/*
 * Heap listeners: callbacks for allocation, free, resize and segment
 * events, each naming its region.  Called with no library lock held (a
 * listener may allocate), from the thread that caused the event.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>

#include "caps/caps_internal.h"

#define LISTENERS	8

static pthread_rwlock_t lis_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
	caps_listener_fn fn;
	void *arg;
} lis[LISTENERS];
static atomic_uint nlis;

bool hm_caps_listening(void)
{
	return atomic_load_explicit(&nlis, memory_order_relaxed) != 0;
}

int caps_listener_add(caps_listener_fn fn, void *arg)
{
	int i, ret = -ENOSPC;

	if (!fn)
		return -EINVAL;
	pthread_rwlock_wrlock(&lis_lock);
	for (i = 0; i < LISTENERS; i++) {
		if (lis[i].fn)
			continue;
		lis[i].arg = arg;	/* arg first: a fork never sees fn with a stale arg */
		lis[i].fn = fn;
		atomic_fetch_add(&nlis, 1);
		ret = i;
		break;
	}
	pthread_rwlock_unlock(&lis_lock);
	return ret;
}

int caps_listener_remove(int handle)
{
	int ret = -ENOENT;

	if (handle < 0 || handle >= LISTENERS)
		return -EINVAL;
	pthread_rwlock_wrlock(&lis_lock);
	if (lis[handle].fn) {
		lis[handle].fn = NULL;
		atomic_fetch_sub(&nlis, 1);
		ret = 0;
	}
	pthread_rwlock_unlock(&lis_lock);
	return ret;
}

void hm_caps_emit(enum caps_event_type t, const struct caps_region *r, void *ptr,
		  size_t size, size_t old_size, uint64_t dev)
{
	struct caps_event ev = {
		.type = t, .region = r->name, .ptr = ptr, .size = size,
		.old_size = old_size, .dev = dev,
	};
	int i;

	if (!hm_caps_listening())
		return;
	pthread_rwlock_rdlock(&lis_lock);
	for (i = 0; i < LISTENERS; i++)
		if (lis[i].fn)
			lis[i].fn(&ev, lis[i].arg);
	pthread_rwlock_unlock(&lis_lock);
}

/*
 * fork: not taken in prepare (a listener runs with the registry read-locked
 * and may allocate, so no order with the registry lock is free of a
 * cycle).  The child gets a fresh lock; the parent threads that held it
 * for reading are gone, and nlis is counted again from the table.
 */
void hm_caps_lis_fork_child(void)
{
	unsigned int i, n = 0;

	pthread_rwlock_init(&lis_lock, NULL);
	for (i = 0; i < LISTENERS; i++)
		n += !!lis[i].fn;
	atomic_store(&nlis, n);
}
