// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dying processes and module unload.
 * - kill -9, 1000 times (HAPMEM_KILL_ITERS), of a child in the middle of
 *   its ioctls (allocations, maps of every kind, dma_handle references,
 *   reservations, remote accesses, fds passed to its own second session),
 *   after a random delay; afterwards every counter is back at 0 (and the
 *   VM runner's kmemleak scan must be clean).
 * - rmmod is refused while a session with maps is open, and while a
 *   buffer the driver exported outlives its session; it succeeds once both
 *   are gone, and the module is loaded again.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rel_test.h"

static void busy_child(uint64_t seed, bool dma)
{
	int s = hm_open(), s2 = hm_open();
	void *user = mmap(NULL, 16 * HM_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int bufs[4] = { -1, -1, -1, -1 };
	unsigned char data[64];

	if (s < 0 || s2 < 0 || user == MAP_FAILED)
		_exit(1);
	for (;;) {
		struct hapmem_request_map rm;
		struct hapmem_dma_handle_map dm = { .len = HM_PAGE };
		struct hapmem_reserve_va rv = { .len = HM_SZ_1M };
		int b = rel_rand(&seed) % 4;
		uint64_t v = 0;

		switch (rel_rand(&seed) % 8) {
		case 0:
			if (bufs[b] >= 0)
				close(bufs[b]);
			bufs[b] = hm_alloc(s, HM_PAGE * (1 + rel_rand(&seed) % 64), 0);
			break;
		case 1:
			hm_request(s, HAPMEM_REQUEST_FD, 1, 0, 0, HM_PAGE * (1 + rel_rand(&seed) % 32),
				   &rm);
			break;
		case 2:
			hm_request(s2, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)user, 16 * HM_PAGE,
				   &rm);
			break;
		case 3:
			if (bufs[b] >= 0)
				hm_share(rel_rand(&seed) & 1 ? s : s2, bufs[b], 0, 0, 0, &v);
			break;
		case 4:
			dm.fd = bufs[b];
			if (bufs[b] >= 0)
				hm_test_ioctl(s, HAPMEM_IOC_DMA_HANDLE_MAP, &dm);
			break;
		case 5:
			hm_test_ioctl(s2, HAPMEM_IOC_RESERVE_VA, &rv);
			break;
		case 6:
			/* Killed in the middle of a transfer, sometimes. */
			if (dma && !(rel_rand(&seed) % 8) &&
			    !hm_request(s, 0, 0, 0, 0, HM_PAGE, &rm))
				hm_remote_read(s, rm.vadsp, data, sizeof(data));
			break;
		default:
			hm_request(s, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, HM_SZ_2M, &rm);
			break;
		}
	}
}

FIXTURE(rel) {
	int unused;
};

FIXTURE_SETUP(rel)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(rel)
{
}

TEST_F_TIMEOUT(rel, kill9_mid_ioctl, 600)
{
	unsigned int iters = rel_env_u64("HAPMEM_KILL_ITERS", 1000), i, killed = 0;
	uint64_t seed = rel_env_u64("HAPMEM_KILL_SEED", 0x6b696c6c);
	struct hapmem_info info;
	double t0 = rel_now();
	bool dma;
	int fd = hm_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hm_info(fd, &info));
	close(fd);
	dma = info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE;

	for (i = 0; i < iters; i++) {
		uint64_t child_seed = rel_rand(&seed);
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (!pid)
			busy_child(child_seed, dma);
		/* 0-8 ms: from "still opening" to "deep in its loop". */
		usleep(rel_rand(&seed) % 8000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		killed += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		if (!(i % 100) || i == iters - 1)
			ASSERT_TRUE(hm_idle(&info))
				TH_LOG("after %u kills: sessions %llu maps %llu buffers %llu resv %llu",
				       i + 1, (unsigned long long)info.global_sessions,
				       (unsigned long long)info.global_maps,
				       (unsigned long long)info.global_buffers,
				       (unsigned long long)info.global_reservations);
	}
	TH_LOG("%u children killed with SIGKILL mid-ioctl (%u died of it) in %.1f s; counters at 0",
	       iters, killed, rel_now() - t0);
	EXPECT_LT(iters / 2, killed);
}

static int mod_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "allow_remote_access=1", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "hapmem", O_NONBLOCK) ? -errno : 0;
}

TEST_F_TIMEOUT(rel, rmmod_refused_while_sessions_or_buffers_live, 120)
{
	const char *ko = getenv("HAPMEM_KO");
	struct hapmem_request_map rm, hl;
	uint64_t v = 0;
	int s, buf;

	if (!ko || access(ko, R_OK) || geteuid())
		SKIP(return, "needs root and $HAPMEM_KO");
	if (access("/sys/module/hapmem", F_OK))
		ASSERT_EQ(0, mod_load(ko));

	/* A session with maps of every kind. */
	s = hm_open();
	ASSERT_LE(0, s);
	buf = hm_alloc(s, 4 * HM_PAGE, 0);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_request(s, HAPMEM_REQUEST_FD, 0, 0, 0, HM_PAGE, &rm));
	ASSERT_EQ(0, hm_request(s, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, HM_PAGE, &hl));
	ASSERT_EQ(0, hm_share(s, buf, 0, 0, 0, &v));
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	EXPECT_EQ(0, access("/sys/module/hapmem", F_OK));

	/* The session goes; its exported buffers still pin the module. */
	close(s);
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	close(buf);
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	close(hl.fd);
	EXPECT_EQ(-EWOULDBLOCK, mod_unload());
	/* The last one: the request_map's fd, whose map died with the session. */
	close(rm.fd);
	ASSERT_EQ(0, mod_unload());
	EXPECT_NE(0, access("/sys/module/hapmem", F_OK));
	ASSERT_EQ(0, mod_load(ko));
	EXPECT_TRUE(hm_idle(NULL));
}

TEST_HARNESS_MAIN
