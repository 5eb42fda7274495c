// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem's placement of CPU mappings below 4 GiB without MAP_32BIT
 * (hm_cpu_map_low, lib/transport/cpu_map.c), on a memfd standing in for a dma-buf:
 * addresses below 4 GiB, in the preferred window first, never over an
 * existing mapping, shared with the fd, and -ENOMEM once every hole below
 * 4 GiB is taken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "transport/cpu_map.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

FIXTURE(low)
{
	int fd;
};

FIXTURE_SETUP(low)
{
	self->fd = memfd_create("cpu_map", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, 64 * MIB));
}

FIXTURE_TEARDOWN(low)
{
	close(self->fd);
}

static int map(int fd, size_t len, void **p)
{
	return hm_cpu_map_low(fd, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, p);
}

TEST_F(low, below_4g_shared_and_disjoint)
{
	void *p[8];
	int i, j;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, map(self->fd, 4 * MIB, &p[i]));
		/* the preferred window: [1 GiB, 4 GiB) */
		EXPECT_LE(GIB, (uint64_t)(uintptr_t)p[i]);
		EXPECT_GE(4 * GIB, (uint64_t)(uintptr_t)p[i] + 4 * MIB);
		for (j = 0; j < i; j++) {
			uintptr_t a = (uintptr_t)p[i], b = (uintptr_t)p[j];

			EXPECT_TRUE(a + 4 * MIB <= b || b + 4 * MIB <= a);
		}
	}
	/* every mapping is the same memory: MAP_SHARED of the fd */
	memset(p[0], 0x5a, 4096);
	EXPECT_EQ(0x5a, ((unsigned char *)p[7])[4095]);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, munmap(p[i], 4 * MIB));
}

TEST_F(low, never_over_an_existing_mapping)
{
	void *first, *guard, *next;

	/* find the hole the next mapping would take, then occupy its start */
	ASSERT_EQ(0, map(self->fd, MIB, &first));
	ASSERT_EQ(0, munmap(first, MIB));
	guard = mmap(first, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(first, guard);
	*(volatile int *)guard = 0x1234;

	ASSERT_EQ(0, map(self->fd, MIB, &next));
	EXPECT_NE(first, next);
	EXPECT_TRUE((uintptr_t)next >= (uintptr_t)guard + 4096 ||
		    (uintptr_t)next + MIB <= (uintptr_t)guard);
	EXPECT_EQ(0x1234, *(volatile int *)guard);
	EXPECT_GE(4 * GIB, (uint64_t)(uintptr_t)next + MIB);
	munmap(next, MIB);
	munmap(guard, 4096);
}

TEST_F(low, enomem_when_full_below_4g)
{
	void *fill[64];
	void *p;
	int n = 0, i, ret;

	/* take every 64 MiB hole of both windows */
	while (n < 64 && !map(self->fd, 64 * MIB, &fill[n]))
		n++;
	ASSERT_GT(n, 0);
	ASSERT_LT(n, 64);
	ret = map(self->fd, 64 * MIB, &p);
	EXPECT_EQ(-ENOMEM, ret);
	if (!ret)
		munmap(p, 64 * MIB);
	/* a smaller buffer may still fit a smaller hole; a too large one never */
	EXPECT_EQ(-ENOMEM, map(self->fd, (size_t)(4 * GIB + 4096), &p));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, munmap(fill[i], 64 * MIB));
	/* and the space comes back */
	ASSERT_EQ(0, map(self->fd, 64 * MIB, &p));
	EXPECT_GE(4 * GIB, (uint64_t)(uintptr_t)p + 64 * MIB);
	munmap(p, 64 * MIB);
}

TEST_F(low, zero_length_refused)
{
	void *p;

	EXPECT_EQ(-ENOMEM, map(self->fd, 0, &p));
}

TEST_HARNESS_MAIN
