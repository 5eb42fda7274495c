// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain ids of the platform faces -> hapmem sessions.
 *
 * The platform numbers its remotes (ADSP 0, MDSP 1, SDSP 2, CDSP 3,
 * CDSP1 4); hapmem names them, one device node each (/dev/hapmem-<name>).
 * The process's session (lib/session.c) is used when the domain's node is
 * its device; other domains get a session of their own here, opened on
 * first use and kept until exit (closed in a fork child).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat_internal.h"
#include "hapmem_dev.h"
#include "fork.h"
#include "session.h"

static const char *const domain_names[HM_NUM_DOMAINS] = {
	"adsp", "mdsp", "sdsp", "cdsp", "cdsp1",
};

static pthread_mutex_t domain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static int domain_dev[HM_NUM_DOMAINS] = { -1, -1, -1, -1, -1 };

static void domain_prepare(void)
{
	pthread_mutex_lock(&domain_lock);
}

static void domain_parent(void)
{
	pthread_mutex_unlock(&domain_lock);
}

/* The parent's sessions are the parent's: the child opens its own. */
static void domain_child(void)
{
	int i;

	for (i = 0; i < HM_NUM_DOMAINS; i++) {
		if (domain_dev[i] >= 0)
			close(domain_dev[i]);
		domain_dev[i] = -1;
	}
	pthread_mutex_unlock(&domain_lock);
}

static const struct hm_fork_hooks domain_fork_hooks = {
	.rank = 5,
	.prepare = domain_prepare,
	.parent = domain_parent,
	.child = domain_child,
};

static void domain_init(void)
{
	hm_fork_register(&domain_fork_hooks);
}

static int node_path(int domain, char *buf, size_t size)
{
	const char *dev = hapmem_device_path();
	const char *slash = strrchr(dev, '/');
	int dirlen = slash ? (int)(slash - dev) : 1;
	int n;

	if (slash)
		n = snprintf(buf, size, "%.*s/hapmem-%s", dirlen, dev, domain_names[domain]);
	else
		n = snprintf(buf, size, "hapmem-%s", domain_names[domain]);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int hm_domain_fd(int domain, int *is_main)
{
	char path[PATH_MAX];
	struct stat a, b;
	int main_fd, fd, ret;

	if (domain < 0 || domain >= HM_NUM_DOMAINS)
		return -EINVAL;
	pthread_once(&domain_once, domain_init);
	ret = node_path(domain, path, sizeof(path));
	if (ret)
		return ret;
	if (stat(path, &a))
		return errno == ENOENT ? -ENODEV : -errno;
	main_fd = hm_session_fd();
	if (main_fd >= 0 && !fstat(main_fd, &b) && S_ISCHR(a.st_mode) == S_ISCHR(b.st_mode) &&
	    (S_ISCHR(a.st_mode) ? a.st_rdev == b.st_rdev :
	     a.st_dev == b.st_dev && a.st_ino == b.st_ino)) {
		if (is_main)
			*is_main = 1;
		return main_fd;
	}
	if (is_main)
		*is_main = 0;
	pthread_mutex_lock(&domain_lock);
	fd = domain_dev[domain];
	if (fd < 0) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		else
			domain_dev[domain] = fd;
	}
	pthread_mutex_unlock(&domain_lock);
	return fd;
}
