// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem in the VM, through the real driver: every apps_mem call,
 * good and bad, with what the remote's DMA engine sees checked against
 * what the CPU wrote, and the session's map count back to 0 after each.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include <time.h>

#include "kselftest_harness.h"

#include "lib_test.h"

FIXTURE(am) {
	long long maps0;
};

FIXTURE_SETUP(am)
{
	self->maps0 = lt_session_maps();
	ASSERT_EQ(0, self->maps0) {
		TH_LOG("no hapmem device? %s", hapmem_device_path());
	}
}

FIXTURE_TEARDOWN(am)
{
	EXPECT_EQ(0, lt_session_maps());
}

/* 32-bit call: both addresses below 4 GiB, device and CPU coherent. */
TEST_F(am, request_map_32bit)
{
	uint32 vapps[8], vadsp[8];
	int32 lens[8] = { 4096, 5000, 65536, 1 << 20, 2 << 20, 3 << 20, 12345, 4096 };
	unsigned char rb[LT_PROBE];
	int i;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, i & 1 ? ADSP_MMAP_ADD_PAGES : 0,
							    0, lens[i], &vapps[i], &vadsp[i]));
		EXPECT_NE(0U, vapps[i]);
		EXPECT_NE(0U, vadsp[i]);
		EXPECT_LE((uint64_t)vadsp[i] + (uint64_t)lens[i], LT_4G);
		EXPECT_LE((uint64_t)vapps[i] + (uint64_t)lens[i], LT_4G);
	}
	EXPECT_EQ(8, lt_session_maps());
	/* CPU -> device, and device -> CPU, on two of them */
	lt_fill((void *)(uintptr_t)vapps[3], 1 << 20, 3);
	EXPECT_EQ(0, lt_dev_matches(vadsp[3], (void *)(uintptr_t)vapps[3], 1 << 20));
	lt_fill(rb, sizeof(rb), 9);
	ASSERT_EQ(0, hapmem_remote_write(vadsp[6] + 8192, rb, sizeof(rb)));
	EXPECT_EQ(0U, lt_bad((char *)(uintptr_t)vapps[6] + 8192, sizeof(rb), 9));
	/* new memory is zero (the part the CPU did not touch) */
	EXPECT_EQ(0, ((volatile char *)(uintptr_t)vapps[6])[0]);

	for (i = 0; i < 8; i++)
		EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp[i], lens[i]));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(vadsp[0], lens[0]));
}

TEST_F(am, request_map64_kinds)
{
	static const uint32 kinds[] = { 0, ADSP_MMAP_HEAP_ADDR, ADSP_MMAP_ADD_PAGES };
	uint64 vapps, vadsp;
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(-1, i & 1, kinds[i], 0, 2 << 20,
							      &vapps, &vadsp));
		lt_fill((void *)(uintptr_t)vapps, 2 << 20, i);
		EXPECT_EQ(0, lt_dev_matches(vadsp, (void *)(uintptr_t)vapps, 2 << 20));
		EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap64(vadsp, 1 << 20));
		EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 2 << 20));
	}
}

/* Protected memory: no CPU address; the device reads back what it wrote. */
TEST_F(am, remote_heap_addr)
{
	uint64 vapps = 1, vadsp = 0;
	unsigned char wb[LT_PROBE], rb[LT_PROBE];

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 0, ADSP_MMAP_REMOTE_HEAP_ADDR, 0,
						      1 << 20, &vapps, &vadsp));
	EXPECT_EQ(0U, vapps);
	lt_fill(wb, sizeof(wb), 5);
	ASSERT_EQ(0, hapmem_remote_write(vadsp + 4096, wb, sizeof(wb)));
	ASSERT_EQ(0, hapmem_remote_read(vadsp + 4096, rb, sizeof(rb)));
	EXPECT_EQ(0, memcmp(wb, rb, sizeof(rb)));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 1 << 20));
}

TEST_F(am, add_pages_llc)
{
	struct hapmem_info info;
	uint64 vapps, vadsp;
	int ret;

	ASSERT_EQ(0, lt_info(&info));
	ret = apps_mem_request_map64(0, 1, ADSP_MMAP_ADD_PAGES_LLC, 0, 1 << 20, &vapps, &vadsp);
	if (info.llc_total - info.llc_used < (1 << 20)) {
		EXPECT_EQ(AEE_ENOMEMORY, ret);
		return;
	}
	ASSERT_EQ(AEE_SUCCESS, ret);
	lt_fill((void *)(uintptr_t)vapps, 1 << 20, 7);
	EXPECT_EQ(0, lt_dev_matches(vadsp, (void *)(uintptr_t)vapps, 1 << 20));
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_LE(1U << 20, info.llc_used);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 1 << 20));
}

/* HLOS_FD: the handle is the buffer's dma-buf fd, closed by the unmap. */
TEST_F(am, hlos_fd)
{
	uint32 vapps = 0, vadsp = 0;
	struct hapmem_info before, after;
	int fd;

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, FASTRPC_ALLOC_HLOS_FD, 0, 3 << 20,
						    &vapps, &vadsp));
	fd = (int)vadsp;
	EXPECT_TRUE(lt_is_dmabuf(fd));
	EXPECT_NE(0U, vapps);
	EXPECT_LE((uint64_t)vapps + (3 << 20), LT_4G);
	memset((void *)(uintptr_t)vapps, 0xa5, 3 << 20);
	/* application-side memory: no device map yet */
	EXPECT_EQ(0, lt_session_maps());
	ASSERT_EQ(0, lt_info(&after));
	EXPECT_EQ(before.global_buffers + 1, after.global_buffers);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 3 << 20));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	ASSERT_EQ(0, lt_info(&after));
	EXPECT_EQ(before.global_buffers, after.global_buffers);
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(vadsp, 3 << 20));
}

/* vin: the caller's own memory, seen by the device. */
TEST_F(am, vin_user_memory)
{
	uint64 vapps = 0, vadsp = 0;
	char *mine = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	ASSERT_NE(MAP_FAILED, mine);
	lt_fill(mine, 1 << 20, 11);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 1, ADSP_MMAP_ADD_PAGES,
						      (uintptr_t)mine, 1 << 20, &vapps, &vadsp));
	EXPECT_EQ((uintptr_t)mine, vapps);
	EXPECT_EQ(0, lt_dev_matches(vadsp, mine, 1 << 20));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 1 << 20));
	EXPECT_EQ(0U, lt_bad(mine, 1 << 20, 11));	/* still the caller's */
	munmap(mine, 1 << 20);
}

TEST_F(am, request_map_bad_inputs)
{
	uint32 a = 3, d = 4;
	uint64 a64 = 5, d64 = 6;

	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 1, 0, 0, 0, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 1, 0, 0, -1, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 1, 0x40, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(11, 1, 0, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0x80, 0, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 1, 0, 0, 4096, NULL, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 1, 0, 0x1001, 4096, &a64, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 1, 0, 0, -4096, &a64, &d64));
	/* the driver's own limits: more than the session may map */
	EXPECT_EQ(AEE_ENORPCMEMORY, apps_mem_request_map64(0, 1, 0, 0, 1LL << 50, &a64, &d64));
	EXPECT_EQ(3U, a);
	EXPECT_EQ(4U, d);
	EXPECT_EQ(5U, a64);
	EXPECT_EQ(6U, d64);
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(0x100000, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap64(0x123456789000ULL, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap64(0x100000, 0));
}

TEST_F(am, share_map)
{
	uint64 vapps = 0, vadsp = 0, va2 = 0, vd2 = 0;
	char *buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_SYSTEM, 0, 1 << 20);
	int fd;

	ASSERT_NE(NULL, buf);
	fd = hapmem_buf_to_fd(buf);
	ASSERT_LE(0, fd);
	lt_fill(buf, 1 << 20, 21);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_share_map(fd, 1 << 20, &vapps, &vadsp));
	EXPECT_NE(0U, vapps);
	EXPECT_NE((uintptr_t)buf, vapps);	/* its own CPU mapping */
	EXPECT_EQ(0U, lt_bad((void *)(uintptr_t)vapps, 1 << 20, 21));
	EXPECT_EQ(0, lt_dev_matches(vadsp, buf, 1 << 20));
	/* a second share map of the same buffer is another map */
	ASSERT_EQ(AEE_SUCCESS, apps_mem_share_map(fd, 4096, &va2, &vd2));
	EXPECT_NE(vadsp, vd2);
	EXPECT_EQ(2, lt_session_maps());
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap64(vadsp, 1 << 20));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_unmap(vadsp, 4096));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_share_unmap(vd2, 4096));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_share_unmap(vadsp, 1 << 20));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_share_unmap(vadsp, 1 << 20));
	/* bad inputs */
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(fd, 2 << 20, &vapps, &vadsp));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(fd, 0, &vapps, &vadsp));
	EXPECT_EQ(AEE_EINVALIDFD, apps_mem_share_map(0, 4096, &vapps, &vadsp));
	EXPECT_EQ(AEE_EBADFD, apps_mem_share_map(999, 4096, &vapps, &vadsp));
	EXPECT_EQ(0, hapmem_buf_free(buf));
}

TEST_F(am, dma_handle)
{
	char *buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_DEFAULT, HAPMEM_BUF_CACHED, 256 << 10);
	int fd, d;

	ASSERT_NE(NULL, buf);
	fd = hapmem_buf_to_fd(buf);
	d = dup(fd);
	ASSERT_LE(0, d);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_map(fd, 64 << 10, 64 << 10));
	EXPECT_EQ(1, lt_session_maps());
	/* the same range through another fd of the buffer: a reference */
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_map(d, 64 << 10, 64 << 10));
	EXPECT_EQ(1, lt_session_maps());
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_map(fd, 0, 4096));
	EXPECT_EQ(2, lt_session_maps());
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_unmap(d, 64 << 10));
	EXPECT_EQ(2, lt_session_maps());
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_unmap(fd, 64 << 10));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_unmap(fd, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_dma_handle_unmap(fd, 4096));
	/* bad inputs */
	EXPECT_EQ(AEE_EBADOFFSET, apps_mem_dma_handle_map(fd, 100, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(fd, 0, 512 << 10));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(fd, -4096, 4096));
	EXPECT_EQ(AEE_EINVALIDFD, apps_mem_dma_handle_map(1, 0, 4096));
	EXPECT_EQ(AEE_EBADFD, apps_mem_dma_handle_unmap(999, 4096));
	close(d);
	EXPECT_EQ(0, hapmem_buf_free(buf));
}

#define SESSION_LIMIT "/sys/module/hapmem/parameters/max_session_bytes"
#define USER_LIMIT "/sys/module/hapmem/parameters/max_user_bytes"

static unsigned long long read_ull(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int write_ull(const char *path, unsigned long long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%llu\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * 2 GiB and more through the 64-bit calls and the buffer API.  One such
 * buffer lives at a time: the guest needs its 2 GiB and about 2 GiB more
 * (make check runs the suites with tests/vm/run --mem 6G).
 */
TEST_F_TIMEOUT(am, beyond_2g, 900)
{
	size_t len = (2UL << 30) + (64 << 10);
	unsigned long long limit = read_ull(SESSION_LIMIT);
	unsigned long long ulimit = read_ull(USER_LIMIT);
	uint64 vapps, vadsp;
	time_t t0;
	char *buf;

	if ((unsigned long long)sysconf(_SC_PHYS_PAGES) * 4096ULL < len + (2ULL << 30))
		SKIP(return, "needs 4.1 GiB of guest memory (tests/vm/run --mem 6G)");
	/* one 2 GiB+ map at a time; the module's default session limit is 4 GiB */
	if (limit && limit < 2 * len)
		ASSERT_EQ(0, write_ull(SESSION_LIMIT, 2 * len));
	/* and the user's, a quarter of the guest's memory by default */
	if (ulimit < 2 * len)
		ASSERT_EQ(0, write_ull(USER_LIMIT, 2 * len));

	t0 = time(NULL);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 1, 0, 0, (int64)len, &vapps, &vadsp));
	TH_LOG("map of %zu bytes in %ld s", len, (long)(time(NULL) - t0));
	((volatile char *)(uintptr_t)vapps)[len - 1] = 0x42;
	EXPECT_EQ(0, lt_dev_matches(vadsp, (void *)(uintptr_t)vapps, len));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, (int64)len));

	buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_ANY, HAPMEM_BUF_UNCACHED, len);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(len, hapmem_buf_size(buf));
	buf[len - 1] = 1;
	EXPECT_EQ(hapmem_buf_to_fd(buf), hapmem_buf_to_fd(buf + len - 1));
	EXPECT_EQ(0, hapmem_buf_free(buf));
	if (limit)
		EXPECT_EQ(0, write_ull(SESSION_LIMIT, limit));
	if (ulimit < 2 * len)
		EXPECT_EQ(0, write_ull(USER_LIMIT, ulimit));
	TH_LOG("all in %ld s", (long)(time(NULL) - t0));
}

TEST_HARNESS_MAIN
