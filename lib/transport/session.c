// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-process session handle.
 *
 * Locking: session_lock serialises opening and closing.  The fast path
 * (the session is open) is one atomic load, with no lock.  The fd only
 * changes under session_lock, in hm_session_close() and in the fork child.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/fork.h"
#include "transport/ioctl.h"
#include "transport/session.h"

static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t session_once = PTHREAD_ONCE_INIT;
static int session_dev = -1;
static uint64_t session_generation = 1;

/*
 * The child shares the parent's open file (fork copies the descriptor,
 * O_CLOEXEC or not).  Using it would put the child's maps in the parent's
 * session, and the parent closing its session would pull them from under
 * the child: drop the child's copy and let it open its own.
 */
static void session_reset(void)
{
	if (session_dev >= 0)
		close(session_dev);
	__atomic_store_n(&session_dev, -1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&session_generation, 1, __ATOMIC_RELEASE);
}

static const struct hm_fork_hooks session_fork_hooks = {
	.rank = HM_FORK_SESSION,
	.lock = &session_lock,
	.reset = session_reset,
};

static void session_init(void)
{
	hm_fork_register(&session_fork_hooks);
}

static int session_open(void)
{
	const char *path = secure_getenv("HAPMEM_DEVICE");
	int fd, ret;

	if (!path || !*path)
		path = HM_DEFAULT_DEVICE;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = errno;
		if (ret == ENOENT || ret == ENXIO || ret == ENODEV)
			return -ENODEV;
		return -ret;
	}
	/* Anything that does not answer NOP is not a hapmem node. */
	ret = hm_ioc_nop(fd);
	if (ret) {
		close(fd);
		return ret == -ENOTTY || ret == -EINVAL ? -ENODEV : ret;
	}
	return fd;
}

int hm_session_fd(void)
{
	int fd;

	pthread_once(&session_once, session_init);
	fd = __atomic_load_n(&session_dev, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		return fd;

	pthread_mutex_lock(&session_lock);
	fd = session_dev;
	if (fd < 0) {
		fd = session_open();
		if (fd >= 0)
			__atomic_store_n(&session_dev, fd, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&session_lock);
	return fd;
}

uint64_t hm_session_gen(void)
{
	return __atomic_load_n(&session_generation, __ATOMIC_ACQUIRE);
}

void hm_session_close(void)
{
	pthread_mutex_lock(&session_lock);
	if (session_dev >= 0) {
		close(session_dev);
		__atomic_store_n(&session_dev, -1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&session_generation, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&session_lock);
}
