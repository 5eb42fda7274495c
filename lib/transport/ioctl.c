// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl layer's system call: the only place in libhapmem that calls
 * ioctl(2).  Alone in its file so that host tests can put a simulated
 * kernel in its place (tests/unit/test_lib_fake_kernel.h).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "transport/ioctl.h"

int hm_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}
