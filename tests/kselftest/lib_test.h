/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for libhapmem's VM tests (tests/kselftest/lib_*.c).  These tests
 * use the library only (no raw ioctls): the device is checked through
 * hapmem_remote_read/write and the counters through hapmem_info.
 */
#ifndef LIB_TEST_H
#define LIB_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "HAP_mem.h"
#include "apps_mem.h"
#include "hapmem_buf.h"
#include "hapmem_dev.h"
#include "hapmem_test.h"

#define LT_4G (1ULL << 32)
#define LT_1M (1U << 20)
/* device checks move little: each 4 KiB costs the edu DMA engine ~0.1 s */
#define LT_PROBE 64

/* A pattern that differs per byte position and seed. */
static inline void lt_fill(void *p, size_t n, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)(i * 29 + seed * 11 + (i >> 9));
}

static inline size_t lt_bad(const void *p, size_t n, unsigned int seed)
{
	const unsigned char *c = p;
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		bad += c[i] != (unsigned char)(i * 29 + seed * 11 + (i >> 9));
	return bad;
}

/*
 * Does the device see at @vadsp what the CPU has at @cpu (LT_PROBE bytes
 * at the start, and at @len - LT_PROBE)?  0, or -errno / -EIO on a mismatch.
 */
static inline int lt_dev_matches(uint64_t vadsp, const void *cpu, size_t len)
{
	unsigned char rb[LT_PROBE];
	size_t offs[2] = { 0, len > LT_PROBE ? len - LT_PROBE : 0 };
	int i, ret;

	for (i = 0; i < 2; i++) {
		size_t n = len < LT_PROBE ? len : LT_PROBE;

		ret = hapmem_remote_read(vadsp + offs[i], rb, n);
		if (ret)
			return ret;
		if (memcmp(rb, (const char *)cpu + offs[i], n))
			return -EIO;
	}
	return 0;
}

/* This session's map count, or -1. */
static inline long long lt_session_maps(void)
{
	struct hapmem_info info;

	if (hapmem_info(HAPMEM_INFO_SELF, &info))
		return -1;
	return (long long)info.session_maps;
}

static inline int lt_info(struct hapmem_info *info)
{
	return hapmem_info(HAPMEM_INFO_SELF, info);
}

static inline int lt_is_dmabuf(int fd)
{
	struct statfs s;

	return !fstatfs(fd, &s) && s.f_type == 0x444d4142;
}

#endif /* LIB_TEST_H */
