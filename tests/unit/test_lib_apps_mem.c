// SPDX-License-Identifier: GPL-2.0-only
/*
 * apps_mem over the simulated kernel (test_lib_fake_kernel.h): the
 * library's side of every call (the CPU mapping, the table of maps, the
 * undo on failure, the AEE codes of kernel errors).  The real driver is
 * exercised by tests/kselftest/lib_apps_mem.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "test_lib_fake_kernel.h"

#include "apps_mem.h"
#include "hapmem_dev.h"

FIXTURE(am) {
	int unused;
};

FIXTURE_SETUP(am)
{
	fake_setup();
}

FIXTURE_TEARDOWN(am)
{
}

TEST_F(am, request_map32)
{
	uint32 vapps = 0, vadsp = 0;
	char rb[16];

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 10000, &vapps, &vadsp));
	EXPECT_NE(0U, vapps);
	EXPECT_NE(0U, vadsp);
	EXPECT_LE((uint64_t)vadsp + 10000, 1ULL << 32);
	/* the CPU mapping and the device see the same memory */
	strcpy((char *)(uintptr_t)vapps + 8192, "both ways");
	ASSERT_EQ(0, hapmem_remote_read(vadsp + 8192, rb, 10));
	EXPECT_STREQ("both ways", rb);
	EXPECT_EQ(1, fake_live(FK_REQUEST));

	/* the length is the map's (compared in whole pages) */
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap(vadsp, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap(vadsp, 20000));
	EXPECT_EQ(1, fake_live(FK_REQUEST));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 10000));
	EXPECT_EQ(0, fake_live(FK_REQUEST));
	EXPECT_EQ(-1, msync((void *)(uintptr_t)vapps, 4096, MS_ASYNC));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(vadsp, 10000));
}

TEST_F(am, request_map32_many_below_4g)
{
	uint32 vapps[32], vadsp[32];
	int i;

	for (i = 0; i < 32; i++) {
		ASSERT_EQ(AEE_SUCCESS,
			  apps_mem_request_map(-1, 1, ADSP_MMAP_ADD_PAGES, 0, 1 << 20,
					       &vapps[i], &vadsp[i]));
		EXPECT_NE(0U, vapps[i]);
		EXPECT_LE((uint64_t)vadsp[i] + (1 << 20), 1ULL << 32);
	}
	for (i = 0; i < 32; i++)
		EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp[i], 1 << 20));
	EXPECT_EQ(0, fake_live(FK_FREE));
}

TEST_F(am, request_map64_and_big)
{
	uint64 vapps = 0, vadsp = 0;
	int64 len = 3LL << 30;	/* 3 GiB: does not fit an int32 */
	volatile char *p;

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(25, 1, 0, 0, len, &vapps, &vadsp));
	p = (volatile char *)(uintptr_t)vapps;
	p[0] = 1;
	p[len - 1] = 2;
	EXPECT_EQ(2, p[len - 1]);
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap64(vadsp + 4096, len));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, len));
	EXPECT_EQ(0, fake_live(FK_FREE));
}

TEST_F(am, remote_heap_has_no_cpu_path)
{
	uint64 vapps = 1, vadsp = 0;

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 0, ADSP_MMAP_REMOTE_HEAP_ADDR, 0,
						      1 << 20, &vapps, &vadsp));
	EXPECT_EQ(0U, vapps);
	EXPECT_NE(0U, vadsp);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 1 << 20));
}

TEST_F(am, vin_is_the_callers_memory)
{
	uint64 vapps = 0, vadsp = 0;
	void *mine = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, mine);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 1, ADSP_MMAP_ADD_PAGES,
						      (uintptr_t)mine, 1 << 20, &vapps, &vadsp));
	EXPECT_EQ((uintptr_t)mine, vapps);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(vadsp, 1 << 20));
	/* the library never unmaps the caller's memory */
	EXPECT_EQ(0, msync(mine, 4096, MS_ASYNC));
	munmap(mine, 1 << 20);
}

TEST_F(am, hlos_fd)
{
	uint32 vapps = 0, vadsp = 0;
	uint64 a64 = 0, d64 = 0;
	int fd;

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, FASTRPC_ALLOC_HLOS_FD, 0, 8192,
						    &vapps, &vadsp));
	/* vadsp is the buffer's fd, vapps its CPU mapping */
	fd = (int)vadsp;
	EXPECT_LE(0, fcntl(fd, F_GETFD));
	EXPECT_NE(0U, vapps);
	memset((void *)(uintptr_t)vapps, 0x5a, 8192);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 1, FASTRPC_ALLOC_HLOS_FD, 0, 4096,
						      &a64, &d64));
	EXPECT_NE((uint64)fd, d64);
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap(vadsp, 4096));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 8192));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));	/* the library closed its fd */
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(vadsp, 8192));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(d64, 4096));
}

TEST_F(am, kernel_errors_become_aee_and_leave_nothing)
{
	uint32 vapps = 7, vadsp = 9;

	fake_fail(HAPMEM_IOC_REQUEST_MAP, ENOSPC);
	EXPECT_EQ(AEE_ENORPCMEMORY, apps_mem_request_map(0, 1, 0, 0, 4096, &vapps, &vadsp));
	fake_fail(HAPMEM_IOC_REQUEST_MAP, EPERM);
	EXPECT_EQ(AEE_EPRIVLEVEL, apps_mem_request_map(0, 1, ADSP_MMAP_ADD_PAGES_LLC, 0,
						       4096, &vapps, &vadsp));
	fake_fail(HAPMEM_IOC_REQUEST_MAP, EDQUOT);
	EXPECT_EQ(AEE_ENORPCMEMORY, apps_mem_request_map(0, 1, 0, 0, 4096, &vapps, &vadsp));
	EXPECT_EQ(7U, vapps);
	EXPECT_EQ(9U, vadsp);
	EXPECT_EQ(0, fake_live(FK_FREE));

	/* an unmap the kernel refuses keeps the map known, and it can be retried */
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 4096, &vapps, &vadsp));
	fake_fail(HAPMEM_IOC_REQUEST_UNMAP, EIO);
	EXPECT_EQ(AEE_ERPC, apps_mem_request_unmap(vadsp, 4096));
	EXPECT_EQ(1, fake_live(FK_REQUEST));
	*(volatile char *)(uintptr_t)vapps = 1;	/* still mapped */
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(vadsp, 4096));
	EXPECT_EQ(0, fake_live(FK_FREE));
}

TEST_F(am, share_map)
{
	uint64 vapps = 0, vadsp = 0;
	uint32 ra = 0, rd = 0;
	int buf = fake_new_buf(16384);
	char rb[8];

	ASSERT_LE(0, buf);
	ASSERT_EQ(AEE_SUCCESS, apps_mem_share_map(buf, 10000, &vapps, &vadsp));
	EXPECT_NE(0U, vapps);
	strcpy((char *)(uintptr_t)vapps, "shared");
	ASSERT_EQ(0, hapmem_remote_read(vadsp, rb, 7));
	EXPECT_STREQ("shared", rb);
	/* kinds do not mix */
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap64(vadsp, 10000));
	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map(0, 1, 0, 0, 4096, &ra, &rd));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_share_unmap(rd, 4096));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap(rd, 4096));

	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_unmap(vadsp, 4096));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_share_unmap(vadsp, 10000));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_share_unmap(vadsp, 10000));
	EXPECT_EQ(0, fake_live(FK_FREE));
	/* beyond the buffer: refused by the kernel, nothing left */
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(buf, 32768, &vapps, &vadsp));
	EXPECT_EQ(0, fake_live(FK_FREE));
	/* the buffer's fd is the caller's: still open */
	EXPECT_LE(0, fcntl(buf, F_GETFD));
	close(buf);
}

TEST_F(am, dma_handle)
{
	int buf = fake_new_buf(65536), d = dup(buf);

	ASSERT_LE(0, buf);
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_map(buf, 4096, 8192));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_map(d, 4096, 8000));	/* same range */
	EXPECT_EQ(1, fake_live(FK_DMA_HANDLE));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_unmap(d, 8192));
	EXPECT_EQ(1, fake_live(FK_DMA_HANDLE));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_dma_handle_unmap(buf, 8192));
	EXPECT_EQ(0, fake_live(FK_DMA_HANDLE));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_dma_handle_unmap(buf, 8192));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(buf, 0, 1 << 20));
	close(d);
	close(buf);
}

TEST_HARNESS_MAIN
