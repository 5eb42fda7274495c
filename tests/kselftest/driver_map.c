// SPDX-License-Identifier: GPL-2.0-only
/*
 * The driver's map operations, proved by the remote's own DMA: what the CPU
 * writes at vapps is what the device reads at vadsp and the reverse, an
 * unmapped vadsp faults, and closing a session gives everything back.
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

HM_SESSION_FIXTURE(map)

/*
 * CPU -> device and device -> CPU through one CPU mapping and one device
 * address.  Each direction moves one engine transfer at an offset that
 * crosses nothing special, and a second one at the end of the range.
 */
static void both_directions(struct __test_metadata *_metadata, int fd,
			    unsigned char *cpu, uint64_t vadsp, uint64_t len,
			    unsigned int seed)
{
	unsigned char buf[HM_XFER];
	uint64_t offs[2] = { HM_PAGE / 2, len - HM_XFER };
	int i;

	for (i = 0; i < 2; i++) {
		hm_fill(cpu + offs[i], HM_XFER, seed + i);
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(0, hm_remote_read(fd, vadsp + offs[i], buf, HM_XFER));
		EXPECT_EQ(0, hm_check(buf, HM_XFER, seed + i));
	}
	hm_fill(buf, HM_XFER, seed + 9);
	ASSERT_EQ(0, hm_remote_write(fd, vadsp + offs[0], buf, HM_XFER));
	EXPECT_EQ(0, hm_check(cpu + offs[0], HM_XFER, seed + 9));
}

TEST_F(map, request_map_cached_both_directions)
{
	struct hapmem_request_map rm;
	unsigned char *cpu;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD,
				HAPMEM_ION_FLAG_CACHED, HAPMEM_RFLAG_HEAP_ADDR,
				0, HM_SZ_1M, &rm));
	ASSERT_LE(0, rm.fd);
	ASSERT_NE(0, rm.vadsp);
	cpu = mmap(NULL, HM_SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	both_directions(_metadata, self->fd, cpu, rm.vadsp, HM_SZ_1M, 1);
	munmap(cpu, HM_SZ_1M);
	close(rm.fd);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_SZ_1M));
}

TEST_F(map, request_map_uncached_both_directions)
{
	struct hapmem_request_map rm;
	unsigned char *cpu;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, 0, 0, 0,
				256 * 1024, &rm));
	cpu = mmap(NULL, 256 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED,
		   rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	both_directions(_metadata, self->fd, cpu, rm.vadsp, 256 * 1024, 2);
	munmap(cpu, 256 * 1024);
	close(rm.fd);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      256 * 1024));
}

/*
 * A request_map that asks for no fd: the driver keeps the memory to itself
 * (no dma-buf), so only the device can show what is there.  It starts
 * zeroed, holds what the device writes at vadsp, is counted like any
 * buffer while it lives, and is gone (device faults, counters back) after
 * the unmap.  A second map of the same size, likely on the same pages,
 * reads zero again.
 */
TEST_F(map, request_map_no_fd_device_both_ways)
{
	uint64_t len = 64 * 1024, offs[2] = { HM_PAGE / 2, len - HM_XFER };
	unsigned char buf[HM_XFER];
	struct hapmem_info before, info;
	struct hapmem_request_map rm;
	uint32_t faults = 0;
	int i;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_info(self->fd, &before));
	ASSERT_EQ(0, hm_request(self->fd, 0, HAPMEM_ION_FLAG_CACHED, 0, 0, len,
				&rm));
	EXPECT_EQ(-1, rm.fd);
	ASSERT_NE(0, rm.vadsp);
	EXPECT_EQ(len, rm.chunks.n_2m * HM_SZ_2M + rm.chunks.n_64k * 65536ULL +
		  rm.chunks.n_4k * HM_PAGE);
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(before.session_maps + 1, info.session_maps);
	EXPECT_EQ(before.session_bytes + len, info.session_bytes);
	EXPECT_EQ(before.global_buffers + 1, info.global_buffers);
	EXPECT_EQ(before.global_pages + len / HM_PAGE, info.global_pages);

	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + offs[0], buf, HM_XFER));
	EXPECT_TRUE(hm_all_zero(buf, HM_XFER));
	for (i = 0; i < 2; i++) {
		hm_fill(buf, HM_XFER, 50 + i);
		ASSERT_EQ(0, hm_remote_write(self->fd, rm.vadsp + offs[i], buf,
					     HM_XFER));
	}
	for (i = 0; i < 2; i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + offs[i], buf,
					    HM_XFER));
		EXPECT_EQ(0, hm_check(buf, HM_XFER, 50 + i));
	}

	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP,
				    rm.vadsp, len));
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(before.session_maps, info.session_maps);
	EXPECT_EQ(before.global_buffers, info.global_buffers);
	EXPECT_EQ(before.global_pages, info.global_pages);
	if (self->info.remote_flags & HAPMEM_REMOTE_IOMMU) {
		ASSERT_EQ(0, hm_remote(self->fd, rm.vadsp + offs[0], buf,
				       HM_XFER, HAPMEM_ACCESS_RAW, &faults));
		EXPECT_LT(0, faults);
	}

	ASSERT_EQ(0, hm_request(self->fd, 0, HAPMEM_ION_FLAG_CACHED, 0, 0, len,
				&rm));
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp + offs[0], buf, HM_XFER));
	EXPECT_TRUE(hm_all_zero(buf, HM_XFER));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
}

TEST_F(map, share_map_both_directions)
{
	uint64_t len = 3 * HM_SZ_1M, vadsp = 0;
	unsigned char *cpu;
	int buf;

	HM_REQUIRE_ENGINE(self->info);
	buf = hm_alloc(self->fd, len, HAPMEM_ION_FLAG_CACHED);
	ASSERT_LE(0, buf);
	cpu = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	/* Map the second and third MiB only: offsets must be honoured. */
	ASSERT_EQ(0, hm_share(self->fd, buf, HM_SZ_1M, 2 * HM_SZ_1M, 0, &vadsp));
	both_directions(_metadata, self->fd, cpu + HM_SZ_1M, vadsp,
			2 * HM_SZ_1M, 3);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, vadsp,
			      2 * HM_SZ_1M));
	munmap(cpu, len);
	close(buf);
}

TEST_F(map, dma_handle_map_refcounted_both_directions)
{
	struct hapmem_dma_handle_map dm = { 0 }, again = { 0 };
	struct hapmem_dma_handle_unmap du = { 0 };
	uint64_t len = 64 * 1024;
	unsigned char *cpu;
	int buf, buf2;

	HM_REQUIRE_ENGINE(self->info);
	buf = hm_alloc(self->fd, 2 * len, HAPMEM_ION_FLAG_CACHED);
	ASSERT_LE(0, buf);
	cpu = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, cpu);

	dm.fd = buf;
	dm.offset = len;
	dm.len = len;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	EXPECT_EQ(1, dm.refs);
	both_directions(_metadata, self->fd, cpu + len, dm.vadsp, len, 4);

	/* The same range through another fd of the same buffer: same map. */
	buf2 = dup(buf);
	again.fd = buf2;
	again.offset = len;
	again.len = len;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &again));
	EXPECT_EQ(2, again.refs);
	EXPECT_EQ(dm.vadsp, again.vadsp);
	du.fd = buf2;
	du.len = len;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	EXPECT_EQ(1, du.refs);
	du.fd = buf;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	EXPECT_EQ(0, du.refs);
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	/* Gone for the device too. */
	EXPECT_EQ(-ENOENT, hm_remote_read(self->fd, dm.vadsp, cpu, 16));
	munmap(cpu, 2 * len);
	close(buf2);
	close(buf);
}

TEST_F(map, user_pages_both_directions)
{
	uint64_t len = 512 * 1024;
	struct hapmem_request_map rm;
	unsigned char *cpu;

	HM_REQUIRE_ENGINE(self->info);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU: user pages are not one physical run");
	cpu = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES,
				(uintptr_t)cpu, len, &rm));
	EXPECT_EQ(-1, rm.fd);
	both_directions(_metadata, self->fd, cpu, rm.vadsp, len, 5);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
	munmap(cpu, len);
}

/*
 * After unmap the device's access at the old address is refused by the
 * IOMMU: the driver reports the untranslated page, the device does not get
 * the bytes that were there, and the IOMMU's fault handler logs it (Intel's
 * DMAR: "fault addr <vadsp>"; arm64's SMMUv3: "event 0x10 received:" and
 * the event's dwords, the third the faulting address, to the byte).
 * (iommu.strict=1: the unmap is flushed at once.)
 */
TEST_F(map, unmapped_vadsp_faults)
{
	struct hapmem_request_map rm;
	unsigned char buf[HM_XFER], *cpu;
	uint32_t faults = 0;
	char needle[64];
	int kmsg;

	HM_REQUIRE_ENGINE(self->info);
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU translates for this remote");
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD,
				HAPMEM_ION_FLAG_CACHED, 0, 0, HM_PAGE * 4, &rm));
	cpu = mmap(NULL, HM_PAGE * 4, PROT_READ | PROT_WRITE, MAP_SHARED,
		   rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	hm_fill(cpu, HM_XFER, 6);
	ASSERT_EQ(0, hm_remote_read(self->fd, rm.vadsp, buf, HM_XFER));
	ASSERT_EQ(0, hm_check(buf, HM_XFER, 6));

	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_PAGE * 4));
	/* Without RAW the driver refuses: the range is no map of ours. */
	EXPECT_EQ(-ENOENT, hm_remote_read(self->fd, rm.vadsp, buf, HM_XFER));

#if defined(__aarch64__)
	/*
	 * The SMMUv3 driver reports at most 10 events per 5 s: let the
	 * faults of earlier tests age out of that window first.
	 */
	sleep(6);
#endif
	/* An unreadable log is a failure of the check, not a reason to skip it. */
	kmsg = hm_kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, hm_remote(self->fd, rm.vadsp, buf, HM_XFER,
			       HAPMEM_ACCESS_RAW, &faults));
	/* The driver counts the one page the IOMMU did not translate... */
	EXPECT_EQ(1, faults);
	/* ...and the device did not get the bytes that were there. */
	EXPECT_LT(HM_XFER / 2, hm_check(buf, HM_XFER, 6));
	/* The CPU's pages still hold the pattern: only the device lost them. */
	EXPECT_EQ(0, hm_check(cpu, HM_XFER, 6));
	/*
	 * The IOMMU's own report, when it comes (its interrupt, then a log
	 * record): waited for, not slept on.
	 */
#if defined(__aarch64__)
	/* the faulting byte's address, in vadsp's first page */
	snprintf(needle, sizeof(needle), "0x%013llx",
		 (unsigned long long)rm.vadsp >> 12);
#else
	snprintf(needle, sizeof(needle), "fault addr %#llx",
		 (unsigned long long)rm.vadsp);
#endif
	EXPECT_EQ(1, hm_kmsg_wait(kmsg, needle, 5000)) TH_LOG("no IOMMU fault logged for %s", needle);
	close(kmsg);
	munmap(cpu, HM_PAGE * 4);
	close(rm.fd);
}

TEST_F(map, va32_below_4g_and_high_above)
{
	struct hapmem_request_map rm;
	unsigned char *cpu;

	HM_REQUIRE_ENGINE(self->info);
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0, HM_SZ_2M, &rm));
	EXPECT_GE(1ULL << 32, rm.vadsp + HM_SZ_2M);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_SZ_2M));
	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU: addresses are physical, below 4 GiB here");
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_MAP_VA_HIGH | HAPMEM_REQUEST_FD,
				HAPMEM_ION_FLAG_CACHED, 0, 0, HM_SZ_2M, &rm));
	EXPECT_LE(1ULL << 32, rm.vadsp);
	cpu = mmap(NULL, HM_SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	/* The high address works for the device too, both ways. */
	both_directions(_metadata, self->fd, cpu, rm.vadsp, HM_SZ_2M, 7);
	munmap(cpu, HM_SZ_2M);
	close(rm.fd);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_SZ_2M));
}

TEST_F(map, close_returns_everything)
{
	struct hapmem_request_map rm;
	struct hapmem_info info;
	int fd = hm_open(), buf, i;
	uint64_t vadsp = 0;

	ASSERT_LE(0, fd);
	/* Only the session under test, so the global counters are its own. */
	close(self->fd);
	self->fd = -1;
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, hm_request(fd, 0, 0, 0, 0, HM_SZ_1M, &rm));
	buf = hm_alloc(fd, HM_SZ_1M, 0);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(fd, buf, 0, 0, 0, &vadsp));
	close(buf);
	ASSERT_EQ(0, hm_info(fd, &info));
	EXPECT_EQ(9, info.session_maps);
	/* Nine maps, and the buffer the session allocated: its map holds it. */
	EXPECT_EQ(10 * HM_SZ_1M, info.session_bytes);
	EXPECT_LE(9, info.global_maps);
	close(fd);
	EXPECT_TRUE(hm_idle(&info));
}

/* Every new buffer is zero, whatever the previous owner of its pages wrote. */
static void zero_cycle(struct __test_metadata *_metadata, int fd,
		       uint64_t len, int n)
{
	unsigned char **p = calloc(n, sizeof(*p));
	int *bufs = calloc(n, sizeof(*bufs)), i, round;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < n; i++) {
			bufs[i] = hm_alloc(fd, len, HAPMEM_ION_FLAG_CACHED);
			ASSERT_LE(0, bufs[i]);
			p[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
				    MAP_SHARED, bufs[i], 0);
			ASSERT_NE(MAP_FAILED, p[i]);
			ASSERT_TRUE(hm_all_zero(p[i], len));
			memset(p[i], 0xa5, len);
		}
		for (i = 0; i < n; i++) {
			munmap(p[i], len);
			close(bufs[i]);
		}
	}
	free(p);
	free(bufs);
}

TEST_F(map, new_buffers_are_zero)
{
	zero_cycle(_metadata, self->fd, HM_PAGE, 32);
	zero_cycle(_metadata, self->fd, HM_SZ_1M, 32);
}

TEST_F(map, map_64m_mostly_2m_chunks)
{
	struct hapmem_request_map rm;
	uint64_t len = 64 * HM_SZ_1M;

	if (!(self->info.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "no IOMMU: maps are single contiguous runs");
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, len, &rm));
	TH_LOG("64 MiB map at %#llx: %u x 2M, %u x 64K, %u x 4K",
	       (unsigned long long)rm.vadsp, rm.chunks.n_2m, rm.chunks.n_64k,
	       rm.chunks.n_4k);
	EXPECT_EQ(len, rm.chunks.n_2m * HM_SZ_2M + rm.chunks.n_64k * 65536ULL +
		  rm.chunks.n_4k * HM_PAGE);
	EXPECT_GE(rm.chunks.n_2m * HM_SZ_2M * 10, len * 9);
	EXPECT_EQ(0, rm.vadsp % HM_SZ_2M);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
}

TEST_F_TIMEOUT(map, ten_thousand_maps, 240)
{
	const int n = 10000;
	uint64_t *va = calloc(n, sizeof(*va));
	struct hapmem_request_map rm;
	struct hapmem_info info;
	int i;

	ASSERT_NE(NULL, va);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
		va[i] = rm.vadsp;
	}
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(n, info.session_maps);
	/* Unmap in an order unlike the mapping order. */
	for (i = 0; i < n; i++) {
		int j = (int)(((uint64_t)i * 7919) % n);

		ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, va[j],
				      HM_PAGE));
	}
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(0, info.session_maps);
	free(va);
}

TEST_HARNESS_MAIN
