// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rpcmem face (<rpcmem.h>) over the simulated kernel: heap ids, flags
 * (current and deprecated), sizes, rpcmem_to_fd, and rpcmem_free of
 * anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../fault_probe.h"

#include "test_lib_fake_kernel.h"

#include <rpcmem.h>

TEST(constants_match_the_platform)
{
	EXPECT_EQ(9, RPCMEM_HEAP_ID_SECURE);
	EXPECT_EQ(22, RPCMEM_HEAP_ID_CONTIG);
	EXPECT_EQ(25, RPCMEM_HEAP_ID_SYSTEM);
	EXPECT_EQ(-1, RPCMEM_DEFAULT_HEAP);
	EXPECT_EQ(1, RPCMEM_DEFAULT_FLAGS);
	EXPECT_EQ(0, RPCMEM_FLAG_UNCACHED);
	EXPECT_EQ(RPCMEM_DEFAULT_FLAGS, RPCMEM_FLAG_CACHED);
	EXPECT_EQ(0x04000000, RPCMEM_TRY_MAP_STATIC);
	EXPECT_EQ(0x80000000U, (uint32_t)RPCMEM_HEAP_DEFAULT);
	EXPECT_EQ(0x40000000, RPCMEM_HEAP_NOREG);
	EXPECT_EQ(0x20000000, RPCMEM_HEAP_UNCACHED);
	EXPECT_EQ(0x10000000, RPCMEM_HEAP_NOVA);
	EXPECT_EQ(0x08000000, RPCMEM_HEAP_NONCOHERENT);
	EXPECT_EQ(0x01000000, RPCMEM_FORCE_NOFLUSH);
	EXPECT_EQ(0x02000000, RPCMEM_FORCE_NOINVALIDATE);
}

/* Each heap id and flag: a zeroed, writable buffer whose fd is the buffer. */
TEST(heaps_and_flags)
{
	static const int heaps[] = { RPCMEM_HEAP_ID_SYSTEM, RPCMEM_HEAP_ID_CONTIG,
				     RPCMEM_DEFAULT_HEAP };
	static const uint32_t flags[] = {
		RPCMEM_DEFAULT_FLAGS, RPCMEM_FLAG_UNCACHED, RPCMEM_FLAG_CACHED,
		RPCMEM_DEFAULT_FLAGS | RPCMEM_TRY_MAP_STATIC,
		RPCMEM_DEFAULT_FLAGS | RPCMEM_FORCE_NOFLUSH | RPCMEM_FORCE_NOINVALIDATE,
		RPCMEM_HEAP_DEFAULT, RPCMEM_HEAP_NOREG, RPCMEM_HEAP_UNCACHED,
		RPCMEM_HEAP_NOVA, RPCMEM_HEAP_NONCOHERENT,
	};
	size_t h, f;

	fake_setup();
	rpcmem_init();
	for (h = 0; h < sizeof(heaps) / sizeof(heaps[0]); h++) {
		for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			unsigned char *p = rpcmem_alloc(heaps[h], flags[f], 5000);
			unsigned char rb[4] = { 1, 1, 1, 1 };
			int fd;

			ASSERT_NE(NULL, p);
			EXPECT_EQ(0, p[0] | p[4999]);
			fd = rpcmem_to_fd(p);
			ASSERT_LE(0, fd);
			EXPECT_EQ(fd, rpcmem_to_fd(p + 4999));
			memcpy(p + 4096, "abc", 4);
			ASSERT_EQ(4, pread(fd, rb, 4, 4096));
			EXPECT_STREQ("abc", (char *)rb);
			rpcmem_free(p);
			EXPECT_EQ(-1, fcntl(fd, F_GETFD));
			EXPECT_EQ(-1, rpcmem_to_fd(p));
		}
	}
	rpcmem_deinit();
}

TEST(alloc2_alloc_def_and_sizes)
{
	char *p;

	fake_setup();
	p = rpcmem_alloc_def(1);
	ASSERT_NE(NULL, p);
	p[0] = 1;
	rpcmem_free(p);
	p = rpcmem_alloc2(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, (size_t)3 << 30);
	ASSERT_NE(NULL, p);	/* above the int size of rpcmem_alloc */
	p[((size_t)3 << 30) - 1] = 7;
	rpcmem_free(p);
	errno = 0;
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, 1, -4096));
	EXPECT_EQ(NULL, rpcmem_alloc2(RPCMEM_HEAP_ID_SYSTEM, 1, 0));
	EXPECT_EQ(NULL, rpcmem_alloc_def(0));
}

TEST(refused)
{
	fake_setup();
	errno = 0;
	EXPECT_EQ(NULL, rpcmem_alloc(7, RPCMEM_DEFAULT_FLAGS, 4096));	/* no such heap */
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, 0x4, 4096));	/* unknown bit */
	EXPECT_EQ(EINVAL, errno);
	fake_fail(HAPMEM_IOC_ALLOC, EDQUOT);
	errno = 0;
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, 1, 4096));
	EXPECT_EQ(EDQUOT, errno);
}

TEST(free_ignores_what_it_did_not_allocate)
{
	char stack[16];
	char *p;
	int fd;

	fake_setup();
	p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, 8192);
	ASSERT_NE(NULL, p);
	fd = rpcmem_to_fd(p);
	rpcmem_free(NULL);
	rpcmem_free(stack);
	rpcmem_free(p + 4096);	/* inside, not the start: ignored */
	EXPECT_EQ(fd, rpcmem_to_fd(p));
	p[8191] = 1;
	EXPECT_EQ(-1, rpcmem_to_fd(NULL));
	EXPECT_EQ(-1, rpcmem_to_fd(stack));
	rpcmem_free(p);
	EXPECT_EQ(-1, rpcmem_to_fd(p));
	rpcmem_free(p);		/* twice: ignored */
}

/* Protected memory: mapped for the remote at once, never reachable by the CPU. */
TEST(secure_heap)
{
	int live, fd;
	char *p;

	fake_setup();
	live = fake_live(FK_REQUEST);
	p = rpcmem_alloc(RPCMEM_HEAP_ID_SECURE, RPCMEM_DEFAULT_FLAGS, 10000);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(live + 1, fake_live(FK_REQUEST));
	fd = rpcmem_to_fd(p);
	EXPECT_LE(0, fd);
	EXPECT_EQ(fd, rpcmem_to_fd(p + 12287));
	EXPECT_EQ(1, write_faults(p));
	rpcmem_free(p);
	EXPECT_EQ(live, fake_live(FK_REQUEST));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	EXPECT_EQ(-1, rpcmem_to_fd(p));
	/* the privileged allocation refused: NULL and the kernel's errno */
	fake_fail(HAPMEM_IOC_REQUEST_MAP, EPERM);
	errno = 0;
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SECURE, 1, 4096));
	EXPECT_EQ(EPERM, errno);
}

TEST_HARNESS_MAIN
