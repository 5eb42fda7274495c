// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain ids of the platform faces -> hapmem sessions.
 *
 * The platform numbers its remotes (ADSP 0, MDSP 1, SDSP 2, CDSP 3,
 * CDSP1 4); hapmem names them, one device node each (/dev/hapmem-<name>).
 * The process's session (lib/transport/session.c) is used when the domain's node is
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
#include "transport/ioctl.h"
#include "util/fork.h"
#include "transport/session.h"

static const char *const domain_names[HM_NUM_DOMAINS] = {
	"adsp", "mdsp", "sdsp", "cdsp", "cdsp1",
};

static pthread_mutex_t domain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static int domain_dev[HM_NUM_DOMAINS] = { -1, -1, -1, -1, -1 };
static int domain_is_main[HM_NUM_DOMAINS];

/* The parent's sessions are the parent's: the child opens its own. */
static void domain_reset(void)
{
	int i;

	for (i = 0; i < HM_NUM_DOMAINS; i++) {
		if (domain_dev[i] >= 0)
			close(domain_dev[i]);
		domain_dev[i] = -1;
		domain_is_main[i] = 0;
	}
}

static const struct hm_fork_hooks domain_fork_hooks = {
	.rank = HM_FORK_DOMAIN,
	.lock = &domain_lock,
	.reset = domain_reset,
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

/*
 * Is @fd (open on @st) the remote of the process's session @main_fd?  The
 * same node, or another node of the same remote (/dev/hapmem and
 * /dev/hapmem-adsp are two nodes of the first remote).
 */
static int same_remote(int fd, const struct stat *st, int main_fd)
{
	struct hapmem_info a, b;
	struct stat ms;

	if (fstat(main_fd, &ms))
		return 0;
	if (!S_ISCHR(st->st_mode) || !S_ISCHR(ms.st_mode))
		return st->st_dev == ms.st_dev && st->st_ino == ms.st_ino;
	if (st->st_rdev == ms.st_rdev)
		return 1;
	return !hm_ioc_info(fd, HAPMEM_INFO_SELF, &a) &&
	       !hm_ioc_info(main_fd, HAPMEM_INFO_SELF, &b) &&
	       a.remote_index == b.remote_index;
}

int hm_domain_fd(int domain, int *is_main)
{
	char path[PATH_MAX];
	struct stat st;
	int main_fd, fd, ret;

	if (domain < 0 || domain >= HM_NUM_DOMAINS)
		return -EINVAL;
	pthread_once(&domain_once, domain_init);
	ret = node_path(domain, path, sizeof(path));
	if (ret)
		return ret;
	main_fd = hm_session_fd();
	pthread_mutex_lock(&domain_lock);
	if (domain_is_main[domain] && main_fd >= 0) {
		pthread_mutex_unlock(&domain_lock);
		if (is_main)
			*is_main = 1;
		return main_fd;
	}
	fd = domain_dev[domain];
	if (fd < 0) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fd = errno == ENOENT ? -ENODEV : -errno;
		} else if (main_fd >= 0 && !fstat(fd, &st) && same_remote(fd, &st, main_fd)) {
			close(fd);
			domain_is_main[domain] = 1;
			fd = main_fd;
		} else {
			domain_dev[domain] = fd;
		}
	}
	pthread_mutex_unlock(&domain_lock);
	if (is_main)
		*is_main = fd >= 0 && fd == main_fd;
	return fd;
}
