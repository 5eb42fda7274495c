// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session handle over the simulated kernel: opened lazily and once,
 * shared by all threads, and not shared with a fork child (which gets its
 * own session and none of the parent's maps, buffers or references).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "test_lib_fake_kernel.h"

#include "HAP_mem.h"
#include "apps_mem.h"
#include "transport/backend_driver.h"
#include "hapmem_buf.h"
#include "hapmem_dev.h"
#include "transport/session.h"

#define FAILED ((void *)-1)

TEST(lazy_and_once)
{
	int fd;

	fake_setup();
	EXPECT_EQ(0UL, fake_count(HAPMEM_IOC_NOP));	/* nothing opened yet */
	fd = hm_session_fd();
	ASSERT_LE(0, fd);
	EXPECT_EQ(1UL, fake_count(HAPMEM_IOC_NOP));
	EXPECT_EQ(fd, hm_session_fd());
	EXPECT_EQ(1UL, fake_count(HAPMEM_IOC_NOP));
	/* O_CLOEXEC: an exec'd program never inherits the session */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST(missing_then_present)
{
	setenv("HAPMEM_DEVICE", "/nonexistent/hapmem", 1);
	EXPECT_EQ(-ENODEV, hm_session_fd());
	fake_setup();	/* the device "appears" */
	EXPECT_LE(0, hm_session_fd());
}

TEST(open_refused_by_the_node)
{
	fake_setup();
	fake_fail(HAPMEM_IOC_NOP, EACCES);
	EXPECT_EQ(-EACCES, hm_session_fd());
	EXPECT_LE(0, hm_session_fd());
}

static void *open_racer(void *arg)
{
	*(int *)arg = hm_session_fd();
	return NULL;
}

TEST(threads_share_one_session)
{
	pthread_t t[8];
	int fds[8], i;

	fake_setup();
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, open_racer, &fds[i]));
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (i = 1; i < 8; i++)
		EXPECT_EQ(fds[0], fds[i]);
	EXPECT_EQ(1UL, fake_count(HAPMEM_IOC_NOP));
}

TEST(close_bumps_generation)
{
	uint64_t g;

	fake_setup();
	ASSERT_LE(0, hm_session_fd());
	g = hm_session_gen();
	hm_session_close();
	EXPECT_EQ(g + 1, hm_session_gen());
	EXPECT_LE(0, hm_session_fd());
	EXPECT_EQ(2UL, fake_count(HAPMEM_IOC_NOP));
}

TEST(fork_child_starts_afresh)
{
	uint32 vapps, vadsp;
	char *buf;
	void *a, *v;
	uint64 pa;
	int bfd, ufd, status, pfd;
	uint64_t gen;
	pid_t pid;

	fake_setup();
	buf = hapmem_buf_alloc(0, 0, 65536);
	ASSERT_NE(NULL, buf);
	bfd = hapmem_buf_to_fd(buf);
	ufd = dup(bfd);
	a = HAP_mmap(NULL, 65536, HAP_PROT_READ | HAP_PROT_WRITE, 0, ufd, 0);
	ASSERT_NE(FAILED, a);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(ufd, &v, &pa));
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 4096, &vapps, &vadsp));
	pfd = hm_session_fd();
	gen = hm_session_gen();
	strcpy(buf, "parent");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int rc = 0, cfd;

		if (hm_session_gen() == gen)
			rc |= 1;
		if (fcntl(pfd, F_GETFD) != -1)	/* the parent's session fd, closed */
			rc |= 2;
		if (fcntl(bfd, F_GETFD) != -1)	/* the library's buffer fd, closed */
			rc |= 4;
		if (fcntl(ufd, F_GETFD) == -1)	/* the caller's own fd, kept */
			rc |= 8;
		if (hapmem_buf_to_fd(buf) != -ENOENT || hapmem_buf_free(buf) != -ENOENT)
			rc |= 16;
		if (HAP_munmap(a, 65536) != AEE_ENOSUCHMAP || HAP_mmap_put(ufd) != AEE_ENOSUCHMAP)
			rc |= 32;
		if (apps_mem_request_unmap(vadsp, 4096) != AEE_ENOSUCHMAP)
			rc |= 64;
		if (strcmp(buf, "parent") || strcmp(a, "parent"))	/* memory stays */
			rc |= 128;
		cfd = hm_session_fd();	/* a session of its own */
		if (cfd < 0 || fake_count(HAPMEM_IOC_NOP) != 2)
			rc |= 256;
		_exit(rc);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the parent is untouched */
	EXPECT_EQ(gen, hm_session_gen());
	EXPECT_EQ(pfd, hm_session_fd());
	EXPECT_EQ(bfd, hapmem_buf_to_fd(buf));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(ufd));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 65536));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 4096));
	EXPECT_EQ(0, hapmem_buf_free(buf));
	close(ufd);
}

/* A segment made in another session (the parent's) is not unmapped in this one. */
TEST(backend_stale_segment)
{
	struct hm_segment_desc s, s2;
	void *ctx;

	fake_setup();
	ctx = hm_backend_driver_ctx();
	ASSERT_NE(NULL, ctx);
	ASSERT_EQ(0, hm_backend_driver.grow(ctx, 1 << 20, &s));
	ASSERT_NE(NULL, s.cpu);
	((char *)s.cpu)[0] = 1;
	EXPECT_EQ(1, fake_live(FK_REQUEST));
	hm_session_close();	/* as a fork child sees it: a new generation */
	ASSERT_EQ(0, hm_backend_driver.grow(ctx, 1 << 20, &s2));
	hm_backend_driver.release(ctx, &s);
	/* only the CPU mapping went: no unmap was sent for the old address */
	EXPECT_EQ(0UL, fake_count(HAPMEM_IOC_REQUEST_UNMAP));
	hm_backend_driver.release(ctx, &s2);
	EXPECT_EQ(1UL, fake_count(HAPMEM_IOC_REQUEST_UNMAP));
	EXPECT_EQ(-1, msync(s.cpu, 4096, MS_ASYNC));
	/* a failing grow leaves nothing */
	fake_fail(HAPMEM_IOC_REQUEST_MAP, ENOMEM);
	EXPECT_EQ(-ENOMEM, hm_backend_driver.grow(ctx, 1 << 20, &s));
}

TEST_HARNESS_MAIN
