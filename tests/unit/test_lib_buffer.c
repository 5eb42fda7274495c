// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rpcmem-style buffer API over the simulated kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "test_lib_fake_kernel.h"

#include "hapmem_buf.h"
#include "transport/dmabuf_id.h"

TEST(alloc_free_lookup)
{
	char *a, *b;
	int fa, fb, past;

	fake_setup();
	a = hapmem_buf_alloc(HAPMEM_BUF_HEAP_SYSTEM, HAPMEM_BUF_CACHED, 10000);
	b = hapmem_buf_alloc(HAPMEM_BUF_HEAP_ANY, HAPMEM_BUF_UNCACHED, 4096);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(12288U, hapmem_buf_size(a));
	EXPECT_EQ(4096U, hapmem_buf_size(b));
	EXPECT_EQ(0U, hapmem_buf_size(a + 1));
	fa = hapmem_buf_to_fd(a);
	fb = hapmem_buf_to_fd(b);
	EXPECT_LE(0, fa);
	EXPECT_LE(0, fb);
	EXPECT_NE(fa, fb);
	/* any address inside, none outside */
	EXPECT_EQ(fa, hapmem_buf_to_fd(a + 12287));
	past = hapmem_buf_to_fd(a + 12288);
	EXPECT_TRUE(past == -ENOENT || (past == fb && a + 12288 == b));
	/* the fd is the buffer: writes through the pointer reach it */
	strcpy(a + 5000, "through the fd");
	{
		char rb[16] = { 0 };

		ASSERT_EQ(15, pread(fa, rb, 15, 5000));
		EXPECT_STREQ("through the fd", rb);
	}
	EXPECT_EQ(-EINVAL, hapmem_buf_free(a + 4096));
	EXPECT_EQ(0, hapmem_buf_free(a));
	EXPECT_EQ(-1, fcntl(fa, F_GETFD));
	EXPECT_EQ(-ENOENT, hapmem_buf_free(a));
	EXPECT_EQ(-ENOENT, hapmem_buf_to_fd(a));
	EXPECT_EQ(0, hapmem_buf_free(b));
}

TEST(big)
{
	size_t len = (5UL << 30) / 2;	/* 2.5 GiB */
	char *p;

	fake_setup();
	p = hapmem_buf_alloc(0, 0, len);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(len, hapmem_buf_size(p));
	p[0] = 1;
	p[len - 1] = 2;
	EXPECT_EQ(hapmem_buf_to_fd(p), hapmem_buf_to_fd(p + len - 1));
	EXPECT_EQ(0, hapmem_buf_free(p));
}

TEST(kernel_failure)
{
	fake_setup();
	fake_fail(HAPMEM_IOC_ALLOC, EDQUOT);
	errno = 0;
	EXPECT_EQ(NULL, hapmem_buf_alloc(0, 0, 4096));
	EXPECT_EQ(EDQUOT, errno);
}

TEST_HARNESS_MAIN
