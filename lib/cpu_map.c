// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU mappings of dma-bufs for the faces that return a CPU address.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "cpu_map.h"

int hm_cpu_map(int fd, uint64_t offset, size_t len, int prot, unsigned int flags,
	       void **out)
{
	int mflags = MAP_SHARED;
	void *p;

	if (offset > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (flags & HM_CPU_MAP_32BIT)
		mflags |= MAP_32BIT;
	p = mmap(NULL, len, prot, mflags, fd, (off_t)offset);
	if (p == MAP_FAILED && errno == EACCES && (prot & PROT_WRITE) &&
	    (flags & HM_CPU_MAP_RO_FALLBACK))
		p = mmap(NULL, len, prot & ~PROT_WRITE, mflags, fd, (off_t)offset);
	if (p == MAP_FAILED) {
		int err = errno;

		if ((flags & HM_CPU_MAP_OPTIONAL) &&
		    (err == EPERM || err == EACCES || err == ENODEV)) {
			*out = NULL;
			return 0;
		}
		return -err;
	}
	*out = p;
	return 0;
}
