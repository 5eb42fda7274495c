// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cross-process sharing through libhapmem: process A allocates and fills
 * a buffer and sends its fd over SCM_RIGHTS; process B HAP_mmap()s it and
 * the remote's DMA at B's device address reads A's bytes; A frees, B
 * unmaps, and the driver's global counters return to where they were.
 * Also: after fork() the child has its own session and none of the
 * parent's maps, and the parent's maps are untouched by the child.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "lib_test.h"
#include "../fd_pass.h"

#define FAILED ((void *)-1)
#define LEN (1 << 20)

static int sync_byte(int sock, char send, char expect)
{
	char b;

	if (send && write(sock, &send, 1) != 1)
		return -1;
	if (expect && (read(sock, &b, 1) != 1 || b != expect))
		return -1;
	return 0;
}

/*
 * Process B: exit status 0 on success, else the step that failed.  B is
 * forked before A allocates anything, so it shares nothing with A but
 * the socket.
 */
static int process_b(int sock)
{
	unsigned char seen[LT_PROBE], want[LT_PROBE];
	void *a, *v;
	uint64 pa;
	int fd;

	fd = hm_recv_fd(sock, 0);
	if (fd < 0 || !lt_is_dmabuf(fd))
		return 10;
	a = HAP_mmap(NULL, LEN, HAP_PROT_READ, 0, fd, 0);
	if (a == FAILED)
		return 11;
	if (HAP_mmap_get(fd, &v, &pa) || v != a)
		return 12;
	/* the CPU mapping and B's device address both show A's bytes */
	if (lt_bad(a, LEN, 77))
		return 13;
	if (hapmem_remote_read(pa + LEN - LT_PROBE, seen, sizeof(seen)))
		return 14;
	memcpy(want, (char *)a + LEN - LT_PROBE, sizeof(want));
	if (memcmp(seen, want, sizeof(seen)))
		return 15;
	if (sync_byte(sock, 'm', 'F'))	/* mapped; wait for A to free */
		return 16;
	/* A freed its buffer: B's map still holds it */
	if (hapmem_remote_read(pa, seen, sizeof(seen)) || memcmp(seen, a, sizeof(seen)))
		return 17;
	if (HAP_mmap_put(fd) || HAP_munmap(a, LEN))
		return 18;
	if (lt_session_maps() != 0)
		return 19;
	close(fd);
	return 0;
}

TEST(scm_rights_sharing)
{
	struct hapmem_info before, info;
	int sv[2], status, fd;
	pid_t pid;
	char *buf;

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		_exit(process_b(sv[1]));
	}
	close(sv[1]);

	buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_SYSTEM, HAPMEM_BUF_CACHED, LEN);
	ASSERT_NE(NULL, buf);
	lt_fill(buf, LEN, 77);
	fd = hapmem_buf_to_fd(buf);
	ASSERT_EQ(0, hm_send_fd(sv[0], fd));
	ASSERT_EQ(0, sync_byte(sv[0], 0, 'm'));
	/* B's map shows in the driver: one more global map than before */
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_EQ(before.global_maps + 1, info.global_maps);
	EXPECT_EQ(0, hapmem_buf_free(buf));
	ASSERT_EQ(0, sync_byte(sv[0], 'F', 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
	/* everything back: B's session closed with its exit, A freed */
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_EQ(before.global_maps, info.global_maps);
	EXPECT_EQ(before.global_buffers, info.global_buffers);
	EXPECT_EQ(before.global_pages, info.global_pages);
	EXPECT_EQ(before.global_bytes, info.global_bytes);
	EXPECT_EQ(before.global_sessions, info.global_sessions);
}

/*
 * fork(): the child does not inherit the parent's maps in the library's
 * tables, opens its own session, and can map the same buffers itself;
 * the parent's maps are untouched.
 */
TEST(fork_child_has_its_own_session)
{
	struct hapmem_info parent_info;
	uint32 vapps, vadsp;
	char *buf = hapmem_buf_alloc(0, 0, LEN);
	void *a;
	int status, fd, ufd;
	pid_t pid;

	ASSERT_NE(NULL, buf);
	fd = hapmem_buf_to_fd(buf);
	ufd = dup(fd);	/* the caller's own fd of the buffer */
	ASSERT_LE(0, ufd);
	lt_fill(buf, LEN, 3);
	a = HAP_mmap(NULL, LEN, HAP_PROT_READ | HAP_PROT_WRITE, 0, fd, 0);
	ASSERT_NE(FAILED, a);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 8192, &vapps, &vadsp));
	ASSERT_EQ(0, lt_info(&parent_info));
	EXPECT_EQ(2U, parent_info.session_maps);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hapmem_info ci;
		void *b, *v;
		uint64 pa;
		int rc = 0;

		/* the parent's maps are not the child's */
		if (HAP_munmap(a, LEN) != AEE_ENOSUCHMAP)
			rc |= 1;
		if (HAP_mmap_put(fd) != AEE_ENOSUCHMAP)
			rc |= 2;
		if (apps_mem_request_unmap(vadsp, 8192) != AEE_ENOSUCHMAP)
			rc |= 4;
		if (hapmem_buf_to_fd(buf) != -ENOENT)
			rc |= 8;
		/* the library's own fd of the parent's buffer is closed here */
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			rc |= 128;
		/* a session of its own, empty */
		if (hapmem_info(HAPMEM_INFO_SELF, &ci) || ci.session_maps != 0 ||
		    ci.global_sessions != parent_info.global_sessions + 1)
			rc |= 16;
		/* the CPU memory the child inherited is still there */
		if (lt_bad(a, LEN, 3))
			rc |= 32;
		/* the child maps the buffer through its inherited fd, for itself */
		b = HAP_mmap(NULL, LEN, HAP_PROT_READ, 0, ufd, 0);
		if (b == FAILED || HAP_mmap_get(ufd, &v, &pa) ||
		    lt_dev_matches(pa, buf, LEN))
			rc |= 64;
		_exit(rc);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the parent's maps survived the child */
	EXPECT_EQ(2, lt_session_maps());
	EXPECT_EQ(0, lt_dev_matches(vadsp, (void *)(uintptr_t)vapps, 8192));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 8192));
	EXPECT_EQ(0, hapmem_buf_free(buf));
	close(ufd);
	EXPECT_EQ(0, lt_session_maps());
}

TEST_HARNESS_MAIN
