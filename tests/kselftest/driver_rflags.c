// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote flags of request_map, each for an allowed and a refused
 * caller, proved by the remote's DMA; and the cache attributes.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define NOBODY 65534

HM_SESSION_FIXTURE(rflags)

/* Run @fn in a child that has dropped to an unprivileged uid; 0 = passed. */
static int as_nobody(int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(100);
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int unpriv_refused(void)
{
	struct hapmem_request_map rm;
	unsigned char b[16];
	int fd = hm_open();

	if (fd < 0)
		return 1;
	if (hm_request(fd, 0, 0, HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0, HM_PAGE, &rm) != -EPERM)
		return 2;
	if (hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES_LLC, 0, HM_PAGE, &rm) != -EPERM)
		return 3;
	if (hm_remote(fd, 0x100000, b, sizeof(b), HAPMEM_ACCESS_RAW, NULL) != -EPERM)
		return 4;
	/* Unprivileged flags still work for the same caller. */
	if (hm_request(fd, 0, 0, HAPMEM_RFLAG_HEAP_ADDR, 0, HM_PAGE, &rm))
		return 5;
	if (hm_request(fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, 0, HM_PAGE, &rm))
		return 6;
	if (hm_request(fd, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, HM_PAGE, &rm) || rm.fd < 0)
		return 7;
	close(fd);
	return 0;
}

TEST_F(rflags, privileged_flags_refused_unprivileged)
{
	/* Nodes are 0600: let nobody in, as the udev rule would a group. */
	ASSERT_EQ(0, chmod(HM_DEV, 0666));
	EXPECT_EQ(0, as_nobody(unpriv_refused));
	EXPECT_EQ(0, chmod(HM_DEV, 0600));
	/* The child's maps went with its process: nothing but ours is left. */
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(hm_idle(NULL));
}

TEST_F(rflags, heap_addr_and_add_pages_device_both_ways)
{
	uint32_t rf[] = { HAPMEM_RFLAG_HEAP_ADDR, HAPMEM_RFLAG_ADD_PAGES };
	struct hapmem_request_map rm;
	unsigned char buf[HM_XFER], *cpu;
	unsigned int i;

	HM_REQUIRE_ENGINE(self->info);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD,
					HAPMEM_ION_FLAG_CACHED, rf[i], 0,
					HM_SZ_1M, &rm));
		cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED,
			   rm.fd, 0);
		ASSERT_NE(MAP_FAILED, cpu);
		hm_fill(cpu + 8192, HM_XFER, 20 + i);
		ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + 8192, buf, HM_XFER));
		EXPECT_EQ(0, hm_check(buf, HM_XFER, 20 + i));
		hm_fill(buf, HM_XFER, 30 + i);
		ASSERT_EQ(0, hm_remote_write(self->fd, rm.vadsp, buf, HM_XFER));
		EXPECT_EQ(0, hm_check(cpu, HM_XFER, 30 + i));
		munmap(cpu, HM_SZ_1M);
		close(rm.fd);
		ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP,
				      rm.vadsp, HM_SZ_1M));
	}
}

/*
 * Protected memory: the remote reads and writes it, every CPU path is
 * refused, and the next allocation reads back as zeros.
 */
TEST_F(rflags, remote_heap_protected)
{
	struct hapmem_request_map rm;
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	unsigned char buf[HM_XFER], rd[HM_XFER];
	char path[64];
	void *p;
	int memfd;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, 0,
				HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0, HM_SZ_1M, &rm));
	ASSERT_NE(0, rm.vadsp);
	ASSERT_LE(0, rm.fd);

	/* The remote has it. */
	hm_fill(buf, HM_XFER, 40);
	ASSERT_EQ(0, hm_remote_write(self->fd, rm.vadsp + HM_PAGE, buf, HM_XFER));
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + HM_PAGE, rd, HM_XFER));
	EXPECT_EQ(0, hm_check(rd, HM_XFER, 40));

	/* The CPU does not, by any path. */
	p = mmap(NULL, HM_SZ_1M, PROT_READ, MAP_SHARED, rm.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, HM_SZ_1M, PROT_READ, MAP_PRIVATE, rm.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(-1, ioctl(rm.fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, read(rm.fd, rd, sizeof(rd)));
	EXPECT_EQ(-1, pread(rm.fd, rd, sizeof(rd), HM_PAGE));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rm.fd);
	memfd = open(path, O_RDONLY);
	if (memfd >= 0) {
		EXPECT_EQ(-1, read(memfd, rd, sizeof(rd)));
		close(memfd);
	}
	/* /proc/self/mem has nothing to read: no CPU mapping exists. */
	memfd = open("/proc/self/mem", O_RDONLY);
	ASSERT_LE(0, memfd);
	EXPECT_EQ(-1, pread(memfd, rd, sizeof(rd), (off_t)rm.vadsp));
	close(memfd);

	close(rm.fd);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_SZ_1M));

	/* Scrubbed: a new protected buffer reads as zeros to the device. */
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0,
				HM_SZ_1M, &rm));
	EXPECT_EQ(-1, rm.fd);
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + HM_PAGE, rd, HM_XFER));
	EXPECT_TRUE(hm_all_zero(rd, HM_XFER));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_SZ_1M));
}

/* Protected memory may be mapped again by its own remote, by no other. */
TEST_F(rflags, remote_heap_attach_only_own_remote)
{
	struct hapmem_request_map rm;
	struct hapmem_info other;
	char path[64];
	uint64_t va = 0;
	int fd2;

	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, 0,
				HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0, HM_SZ_1M, &rm));
	fd2 = hm_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, hm_share(fd2, rm.fd, 0, 0, 0, &va));
	EXPECT_EQ(0, hm_unmap(fd2, HAPMEM_IOC_SHARE_UNMAP, va, HM_SZ_1M));
	close(fd2);

	if (self->info.num_remotes < 2) {
		close(rm.fd);
		SKIP(return, "one remote only (tests/vm/run --remotes 2)");
	}
	memset(&other, 0, sizeof(other));
	other.remote = self->info.remote_index ? 0 : 1;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &other));
	snprintf(path, sizeof(path), "/dev/hapmem-%s", other.name);
	fd2 = hm_open_dev(path);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EPERM, hm_share(fd2, rm.fd, 0, 0, 0, &va));
	close(fd2);
	close(rm.fd);
}

TEST_F(rflags, llc_carveout_exhaustion_and_recovery)
{
	struct hapmem_request_map rm[64], extra;
	struct hapmem_info info;
	uint64_t chunk;
	unsigned char b[64];
	int n = 0, i;

	HM_REQUIRE_ENGINE(self->info);
	if (!self->info.llc_total)
		SKIP(return, "no LLC carve-out (llc_size=0)");
	chunk = self->info.llc_total / 4;
	ASSERT_EQ(0, self->info.llc_used);
	for (n = 0; n < 64; n++) {
		int ret = hm_request(self->fd, HAPMEM_REQUEST_FD, 0,
				     HAPMEM_RFLAG_ADD_PAGES_LLC, 0, chunk, &rm[n]);

		if (ret) {
			EXPECT_EQ(-ENOMEM, ret);
			break;
		}
	}
	EXPECT_EQ(4, n);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(info.llc_total, info.llc_used);
	/* Device-usable, and physically contiguous: one chunk run. */
	ASSERT_EQ(0, hm_remote_read(self->fd, rm[0].vadsp, b, sizeof(b)));
	EXPECT_TRUE(hm_all_zero(b, sizeof(b)));
	/* No silent fallback to ordinary memory. */
	EXPECT_EQ(-ENOMEM, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES_LLC,
				      0, HM_PAGE, &extra));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm[1].vadsp, chunk));
	close(rm[1].fd);
	/* Without an fd too, from the carve-out and counted there. */
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES_LLC, 0,
				chunk, &extra));
	EXPECT_EQ(-1, extra.fd);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(info.llc_total, info.llc_used);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, extra.vadsp, chunk));
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(info.llc_total - chunk, info.llc_used);
	for (i = 0; i < n; i++) {
		if (i != 1) {
			ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP,
					      rm[i].vadsp, chunk));
			close(rm[i].fd);
		}
	}
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(0, info.llc_used);
}

/* HLOS_FD: an fd on the application side, mapped for the remote on need. */
TEST_F(rflags, hlos_fd_mapped_on_first_need)
{
	struct hapmem_request_map rm;
	struct hapmem_dma_handle_map dm = { 0 };
	struct hapmem_dma_handle_unmap du = { 0 };
	struct hapmem_info info;
	unsigned char buf[HM_XFER], *cpu;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_request(self->fd, 0, HAPMEM_ION_FLAG_CACHED,
				HAPMEM_RFLAG_HLOS_FD, 0, HM_SZ_1M, &rm));
	ASSERT_LE(0, rm.fd);
	EXPECT_EQ(0, rm.vadsp);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(0, info.session_maps);

	cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	hm_fill(cpu, HM_XFER, 50);
	dm.fd = rm.fd;
	dm.len = HM_SZ_1M;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	ASSERT_EQ(0, hm_remote_read(self->fd, dm.vadsp, buf, HM_XFER));
	EXPECT_EQ(0, hm_check(buf, HM_XFER, 50));
	du.fd = rm.fd;
	du.len = HM_SZ_1M;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	munmap(cpu, HM_SZ_1M);
	close(rm.fd);
}

/*
 * Caller's own pages: pinned while mapped, so munmap() of the range does
 * not pull them from the device, and after fork() the parent's pages stay
 * the device's while the child writes to its own copy.
 */
TEST_F(rflags, add_pages_user_memory_munmap_and_fork)
{
	uint64_t len = 256 * 1024;
	struct hapmem_request_map rm;
	unsigned char buf[HM_XFER], *cpu;
	int status;
	pid_t pid;

	HM_REQUIRE_ENGINE(self->info);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU: user pages are not one physical run");
	cpu = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	hm_fill(cpu, len, 60);
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES,
				(uintptr_t)cpu, len, &rm));
	EXPECT_EQ(-1, rm.fd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(cpu, 0x11, len);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp, buf, HM_XFER));
	EXPECT_EQ(0, hm_check(buf, HM_XFER, 60));

	/* The device writes, the parent's CPU sees it. */
	hm_fill(buf, HM_XFER, 61);
	ASSERT_EQ(0, hm_remote_write(self->fd, rm.vadsp + HM_PAGE, buf, HM_XFER));
	EXPECT_EQ(0, hm_check(cpu + HM_PAGE, HM_XFER, 61));

	/* munmap: the pinned pages stay mapped for the remote. */
	ASSERT_EQ(0, munmap(cpu, len));
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + HM_PAGE, buf, HM_XFER));
	EXPECT_EQ(0, hm_check(buf, HM_XFER, 61));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
}

/*
 * Cache attributes: cached buffers are kept coherent around the sync
 * ioctl, uncached ones are mapped write-combined and need none.
 */
TEST_F(rflags, cache_attributes_with_sync)
{
	struct dma_buf_sync start = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	struct dma_buf_sync end = { .flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW };
	uint32_t ion[] = { HAPMEM_ION_FLAG_CACHED, 0 };
	struct hapmem_request_map rm;
	unsigned char buf[HM_XFER], *cpu;
	unsigned int i;

	HM_REQUIRE_ENGINE(self->info);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, ion[i], 0, 0,
					HM_SZ_1M, &rm));
		cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED,
			   rm.fd, 0);
		ASSERT_NE(MAP_FAILED, cpu);
		ASSERT_EQ(0, ioctl(rm.fd, DMA_BUF_IOCTL_SYNC, &start));
		hm_fill(cpu, HM_XFER, 70 + i);
		ASSERT_EQ(0, ioctl(rm.fd, DMA_BUF_IOCTL_SYNC, &end));
		ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp, buf, HM_XFER));
		EXPECT_EQ(0, hm_check(buf, HM_XFER, 70 + i));
		hm_fill(buf, HM_XFER, 80 + i);
		ASSERT_EQ(0, hm_remote_write(self->fd, rm.vadsp, buf, HM_XFER));
		ASSERT_EQ(0, ioctl(rm.fd, DMA_BUF_IOCTL_SYNC, &start));
		EXPECT_EQ(0, hm_check(cpu, HM_XFER, 80 + i));
		ASSERT_EQ(0, ioctl(rm.fd, DMA_BUF_IOCTL_SYNC, &end));
		munmap(cpu, HM_SZ_1M);
		close(rm.fd);
		ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
				      HM_SZ_1M));
	}
}

/* Every flag's memory comes back when the session closes. */
TEST_F(rflags, cleanup_on_close)
{
	uint32_t rf[] = { 0, HAPMEM_RFLAG_HEAP_ADDR, HAPMEM_RFLAG_REMOTE_HEAP_ADDR,
			  HAPMEM_RFLAG_ADD_PAGES, HAPMEM_RFLAG_ADD_PAGES_LLC };
	struct hapmem_request_map rm;
	struct hapmem_info info;
	unsigned char *user;
	unsigned int i;

	user = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, user);
	for (i = 0; i < sizeof(rf) / sizeof(rf[0]); i++) {
		if (rf[i] == HAPMEM_RFLAG_ADD_PAGES_LLC && !self->info.llc_total)
			continue;
		ASSERT_EQ(0, hm_request(self->fd, 0, 0, rf[i], 0, 64 * 1024, &rm));
	}
	if (self->info.remote_flags & HAPMEM_REMOTE_IOMMU)
		ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES,
					(uintptr_t)user, HM_SZ_1M, &rm));
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(hm_idle(&info));
	EXPECT_EQ(0, info.llc_used);
	munmap(user, HM_SZ_1M);
}

TEST_HARNESS_MAIN
