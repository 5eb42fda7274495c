// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU mappings of dma-bufs for the faces that return a CPU address.
 *
 * The 32-bit apps_mem calls need CPU addresses below 4 GiB.  x86_64 has
 * MAP_32BIT for that (the kernel picks an address below 2 GiB).  Where the
 * architecture has no MAP_32BIT (arm64 among others), hm_cpu_map_low()
 * places the mapping itself: it reads the process's mappings from
 * /proc/self/maps, takes the first hole of [1 GiB, 4 GiB) large enough
 * (then of [256 MiB, 1 GiB), keeping clear of the brk heap that follows a
 * non-PIE program at low addresses), and maps there with
 * MAP_FIXED_NOREPLACE, which never replaces an existing mapping.  Another
 * thread may take the hole between the scan and the mmap: the kernel then
 * answers EEXIST and the scan starts again, a bounded number of times.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/cpu_map.h"
#include "util/pagesize.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The windows searched, in this order. */
static const struct {
	uint64_t lo, hi;
} hm_low_windows[] = {
	{ 1ULL << 30, 1ULL << 32 },
	{ 1ULL << 28, 1ULL << 30 },
};

/*
 * The lowest page-aligned address of [lo, hi) where @len bytes fit between
 * the mappings listed in /proc/self/maps; 0 if none, -errno on error.
 */
static int64_t hm_low_find(uint64_t lo, uint64_t hi, uint64_t len)
{
	uint64_t pg = hm_page_size(), prev = 0, start, end, cand;
	char line[512];
	int64_t found = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	for (;;) {
		int more = fgets(line, sizeof(line), f) != NULL;

		if (more) {
			if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) != 2)
				continue;
		} else {
			start = end = UINT64_MAX;
		}
		/* the hole [prev, start) */
		cand = prev > lo ? prev : lo;
		cand = (cand + pg - 1) & ~(pg - 1);
		if (cand < hi && start > cand && len <= hi - cand &&
		    len <= start - cand) {
			found = (int64_t)cand;
			break;
		}
		if (!more || start >= hi)
			break;
		/* lines that did not fit the buffer are skipped to their end */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
		if (end > prev)
			prev = end;
	}
	fclose(f);
	return found;
}

int hm_cpu_map_low(int fd, uint64_t offset, size_t len, int prot, int mflags,
		   void **out)
{
	unsigned int w, tries;

	if (!len || len > (1ULL << 32))
		return -ENOMEM;
	for (w = 0; w < sizeof(hm_low_windows) / sizeof(hm_low_windows[0]); w++) {
		for (tries = 0; tries < 16; tries++) {
			int64_t at = hm_low_find(hm_low_windows[w].lo,
						 hm_low_windows[w].hi, len);
			void *p;

			if (at < 0)
				return (int)at;
			if (!at)
				break;	/* no hole in this window */
			p = mmap((void *)(uintptr_t)at, len, prot,
				 mflags | MAP_FIXED_NOREPLACE, fd, (off_t)offset);
			if (p == MAP_FAILED) {
				if (errno == EEXIST)
					continue;	/* taken meanwhile: scan again */
				return -errno;
			}
			if ((uintptr_t)p != (uintptr_t)at) {
				/* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
				munmap(p, len);
				return -ENOMEM;
			}
			*out = p;
			return 0;
		}
	}
	return -ENOMEM;
}

static void *hm_cpu_mmap(size_t len, int prot, int mflags, unsigned int flags,
			 int fd, uint64_t offset)
{
	if (flags & HM_CPU_MAP_32BIT) {
#ifdef MAP_32BIT
		return mmap(NULL, len, prot, mflags | MAP_32BIT, fd, (off_t)offset);
#else
		void *p;
		int ret = hm_cpu_map_low(fd, offset, len, prot, mflags, &p);

		if (ret) {
			errno = -ret;
			return MAP_FAILED;
		}
		return p;
#endif
	}
	return mmap(NULL, len, prot, mflags, fd, (off_t)offset);
}

int hm_cpu_map(int fd, uint64_t offset, size_t len, int prot, unsigned int flags,
	       void **out)
{
	int mflags = MAP_SHARED;
	void *p;

	if (offset > (uint64_t)INT64_MAX)
		return -EINVAL;
	p = hm_cpu_mmap(len, prot, mflags, flags, fd, offset);
	if (p == MAP_FAILED && errno == EACCES && (prot & PROT_WRITE) &&
	    (flags & HM_CPU_MAP_RO_FALLBACK))
		p = hm_cpu_mmap(len, prot & ~PROT_WRITE, mflags, flags, fd, offset);
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
