// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sharing and isolation: buffers from another process and from foreign
 * exporters, sessions that cannot reach each other's maps, and remotes
 * whose address spaces are apart (run with tests/vm/run --remotes 2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/dma-heap.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"
#include "../fd_pass.h"

HM_SESSION_FIXTURE(share)

/* Process A exports and fills; this process maps A's buffer for the remote. */
TEST_F(share, buffer_of_another_process)
{
	unsigned char buf[HM_XFER];
	int sv[2], status, theirs;
	uint64_t va = 0;
	pid_t pid;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = hm_open(), b;
		unsigned char *p;

		close(sv[0]);
		b = hm_alloc(fd, HM_SZ_1M, HAPMEM_ION_FLAG_CACHED);
		p = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
		if (b < 0 || p == MAP_FAILED)
			_exit(1);
		hm_fill(p, HM_XFER, 90);
		if (hm_send_fd(sv[1], b))
			_exit(2);
		/* Gone: the buffer lives on in the other process's map. */
		_exit(0);
	}
	close(sv[1]);
	theirs = hm_recv_fd(sv[0], 0);
	ASSERT_LE(0, theirs);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, hm_share(self->fd, theirs, 0, 0, 0, &va));
	close(theirs);
	ASSERT_EQ(0, hm_remote_read(self->fd, va, buf, HM_XFER));
	EXPECT_EQ(0, hm_check(buf, HM_XFER, 90));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, va, HM_SZ_1M));
	close(sv[0]);
}

/* A session cannot unmap, nor have the remote access, another's map. */
TEST_F(share, sessions_isolated)
{
	struct hapmem_request_map rm;
	unsigned char b[16];
	int other = hm_open();

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, hm_request(other, 0, 0, 0, 0, HM_PAGE, &rm));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
				    HM_PAGE));
	EXPECT_EQ(-ENOENT, hm_remote_read(self->fd, rm.vadsp, b, sizeof(b)));
	EXPECT_EQ(0, hm_remote_read(other, rm.vadsp, b, sizeof(b)));
	EXPECT_EQ(0, hm_unmap(other, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
	close(other);
}

/* A session of a remote other than @fd's. */
static int open_other_remote(int fd, struct hapmem_info *self_info)
{
	struct hapmem_info other = { 0 };
	char path[64];

	other.remote = self_info->remote_index ? 0 : 1;
	if (hm_test_ioctl(fd, HAPMEM_IOC_INFO, &other))
		return -1;
	snprintf(path, sizeof(path), "/dev/hapmem-%s", other.name);
	return hm_open_dev(path);
}

/*
 * Remote B's DMA at an address mapped only for remote A faults in B's
 * IOMMU and reads nothing of A's data.
 */
TEST_F(share, remotes_isolated)
{
	struct hapmem_request_map rm;
	struct hapmem_info binfo;
	unsigned char buf[HM_XFER], *cpu;
	uint32_t faults = 0;
	int b;

	HM_REQUIRE_ENGINE(self->info);
	if (self->info.num_remotes < 2)
		SKIP(return, "one remote only (tests/vm/run --remotes 2)");
	b = open_other_remote(self->fd, &self->info);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, hm_info(b, &binfo));
	EXPECT_NE(self->info.remote_index, binfo.remote_index);
	EXPECT_NE(self->info.pci_bdf, binfo.pci_bdf);

	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, HAPMEM_ION_FLAG_CACHED,
				0, 0, HM_SZ_1M, &rm));
	cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	hm_fill(cpu, HM_XFER, 95);
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp, buf, HM_XFER));
	ASSERT_EQ(0, hm_check(buf, HM_XFER, 95));

	/* B's session does not know the address... */
	EXPECT_EQ(-ENOENT, hm_remote_read(b, rm.vadsp, buf, HM_XFER));
	/* ...and B's device, sent there anyway, is refused by its IOMMU. */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, hm_remote(b, rm.vadsp, buf, HM_XFER, HAPMEM_ACCESS_RAW, &faults));
	EXPECT_LT(0, faults);
	EXPECT_LT(HM_XFER / 2, hm_check(buf, HM_XFER, 95));

	munmap(cpu, HM_SZ_1M);
	close(rm.fd);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_SZ_1M));
	close(b);
}

static void check_foreign(struct __test_metadata *_metadata, int fd, int buf,
			  unsigned char *cpu, uint64_t len, unsigned int seed)
{
	unsigned char b[HM_XFER];
	uint64_t va = 0;

	ASSERT_EQ(0, hm_share(fd, buf, 0, len, 0, &va));
	hm_fill(cpu, HM_XFER, seed);
	ASSERT_EQ(0, hm_remote_read(fd, va, b, HM_XFER));
	EXPECT_EQ(0, hm_check(b, HM_XFER, seed));
	hm_fill(b, HM_XFER, seed + 1);
	ASSERT_EQ(0, hm_remote_write(fd, va + HM_PAGE, b, HM_XFER));
	EXPECT_EQ(0, hm_check(cpu + HM_PAGE, HM_XFER, seed + 1));
	ASSERT_EQ(0, hm_unmap(fd, HAPMEM_IOC_SHARE_UNMAP, va, len));
}

TEST_F(share, foreign_exporter_system_heap)
{
	struct dma_heap_allocation_data a = {
		.len = HM_SZ_1M, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	unsigned char *cpu;
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	HM_REQUIRE_ENGINE(self->info);
	if (heap < 0)
		SKIP(return, "no /dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a));
	cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	check_foreign(_metadata, self->fd, a.fd, cpu, HM_SZ_1M, 100);
	munmap(cpu, HM_SZ_1M);
	close(a.fd);
	close(heap);
}

TEST_F(share, foreign_exporter_udmabuf)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = HM_SZ_1M };
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, buf;
	unsigned char *cpu;

	HM_REQUIRE_ENGINE(self->info);
	if (dev < 0)
		SKIP(return, "no /dev/udmabuf (CONFIG_UDMABUF)");
	memfd = syscall(SYS_memfd_create, "hapmem", MFD_ALLOW_SEALING);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, HM_SZ_1M));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	c.memfd = memfd;
	buf = ioctl(dev, UDMABUF_CREATE, &c);
	ASSERT_LE(0, buf);
	cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	check_foreign(_metadata, self->fd, buf, cpu, HM_SZ_1M, 110);
	munmap(cpu, HM_SZ_1M);
	close(buf);
	close(memfd);
	close(dev);
}

TEST_HARNESS_MAIN
