// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem argument validation, with no hapmem device at all
 * (HAPMEM_DEVICE names a node that does not exist): every bad input gets
 * its own error before any device is needed, and good input gets "no
 * device" (AEE_ERESOURCENOTFOUND / ENODEV), never a crash or a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "HAP_mem.h"
#include "apps_mem.h"
#include "hapmem_buf.h"
#include "hapmem_dev.h"
#include "heap/backend.h"
#include "transport/session.h"

#define MISSING "/nonexistent/hapmem-test-device"
#define FAILED ((void *)-1)

static void __attribute__((constructor)) no_device(void)
{
	setenv("HAPMEM_DEVICE", MISSING, 1);
}

/* An fd that is open but is not a dma-buf. */
static int pipe_fd(int *other)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	*other = p[1];
	return p[0];
}

static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	close(fd);
	return fd;
}

TEST(session_missing_device)
{
	struct hapmem_info info;

	EXPECT_EQ(-ENODEV, hm_session_fd());
	/* a failed open is not remembered as success, nor cached as failure */
	EXPECT_EQ(-ENODEV, hm_session_fd());
	EXPECT_STREQ(MISSING, hapmem_device_path());
	EXPECT_EQ(-ENODEV, hapmem_info(HAPMEM_INFO_SELF, &info));
	EXPECT_EQ(-EINVAL, hapmem_info(HAPMEM_INFO_SELF, NULL));
}

TEST(session_not_a_hapmem_node)
{
	/* /dev/null opens, but does not answer the NOP ioctl */
	setenv("HAPMEM_DEVICE", "/dev/null", 1);
	EXPECT_EQ(-ENODEV, hm_session_fd());
	setenv("HAPMEM_DEVICE", "", 1);
	EXPECT_STREQ("/dev/hapmem", hapmem_device_path());
}

TEST(backend_ctx_without_device)
{
	errno = 0;
	EXPECT_EQ(NULL, hm_backend_driver_ctx());
	EXPECT_EQ(ENODEV, errno);
	EXPECT_STREQ("driver", hm_backend_driver.name);
}

TEST(request_map_bad_args)
{
	uint32 a = 0x1234, d = 0x5678;
	uint64 a64 = 1, d64 = 2;

	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0, 0, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0, -4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0, INT32_MIN, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0, 4096, NULL, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0, 4096, &a, NULL));
	/* unknown heap id, rflags, ion flags */
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(7, 0, 0, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0x2, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0x1004, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0x2, 0, 0, 4096, &a, &d));
	/* vin: only plain or ADD_PAGES, page aligned, whole pages */
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, ADSP_MMAP_HEAP_ADDR, 0x10000, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, FASTRPC_ALLOC_HLOS_FD, 0x10000, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0x10010, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map(0, 0, 0, 0x10000, 100, &a, &d));
	/* outputs untouched on failure */
	EXPECT_EQ(0x1234U, a);
	EXPECT_EQ(0x5678U, d);

	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0, 0, 0, &a64, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0, 0, -1, &a64, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0, 0, INT64_MIN, &a64, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0, 0, 4096, NULL, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0, 0, 4096, &a64, NULL));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(3, 0, 0, 0, 4096, &a64, &d64));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_map64(0, 0, 0x20000, 0, 4096, &a64, &d64));
	EXPECT_EQ(1U, a64);
	EXPECT_EQ(2U, d64);
}

TEST(request_map_good_args_no_device)
{
	uint32 a, d;
	uint64 a64, d64;

	EXPECT_EQ(AEE_ERESOURCENOTFOUND, apps_mem_request_map(0, 1, 0, 0, 4096, &a, &d));
	EXPECT_EQ(AEE_ERESOURCENOTFOUND,
		  apps_mem_request_map(-1, 0, ADSP_MMAP_ADD_PAGES, 0, 1 << 20, &a, &d));
	EXPECT_EQ(AEE_ERESOURCENOTFOUND,
		  apps_mem_request_map64(25, 1, FASTRPC_ALLOC_HLOS_FD, 0, 100, &a64, &d64));
	/* 2 GiB and more pass the 64-bit call's checks */
	EXPECT_EQ(AEE_ERESOURCENOTFOUND,
		  apps_mem_request_map64(0, 1, 0, 0, 3LL << 30, &a64, &d64));
}

TEST(unmap_unknown)
{
	/* unknown maps are "no such map", device or not */
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap(0x40000000, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_request_unmap64(0x1000000000ULL, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, apps_mem_share_unmap(0x40000000, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap(0x40000000, 0));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap(0x40000000, -1));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_request_unmap64(0x40000000, -1));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_unmap(0x40000000, 0));
}

TEST(share_map_bad_fds)
{
	uint64 a = 7, d = 9;
	int w, p = pipe_fd(&w);

	ASSERT_LE(0, p);
	EXPECT_EQ(AEE_EBADFD, apps_mem_share_map(-1, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADFD, apps_mem_share_map(closed_fd(), 4096, &a, &d));
	EXPECT_EQ(AEE_EINVALIDFD, apps_mem_share_map(p, 4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(p, 0, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(p, -4096, &a, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(p, 4096, NULL, &d));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_share_map(p, 4096, &a, NULL));
	EXPECT_EQ(7U, a);
	EXPECT_EQ(9U, d);
	close(p);
	close(w);
}

TEST(dma_handle_bad_args)
{
	int w, p = pipe_fd(&w);

	ASSERT_LE(0, p);
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(p, -4096, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(p, 0, 0));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_map(p, 0, -1));
	EXPECT_EQ(AEE_EBADOFFSET, apps_mem_dma_handle_map(p, 100, 4096));
	EXPECT_EQ(AEE_EINVALIDFD, apps_mem_dma_handle_map(p, 0, 4096));
	EXPECT_EQ(AEE_EBADFD, apps_mem_dma_handle_map(-1, 0, 4096));
	EXPECT_EQ(AEE_EBADFD, apps_mem_dma_handle_map(closed_fd(), 0, 4096));
	EXPECT_EQ(AEE_EBADPARM, apps_mem_dma_handle_unmap(p, 0));
	EXPECT_EQ(AEE_EINVALIDFD, apps_mem_dma_handle_unmap(p, 4096));
	EXPECT_EQ(AEE_EBADFD, apps_mem_dma_handle_unmap(-1, 4096));
	close(p);
	close(w);
}

TEST(hap_mmap_bad_args)
{
	int w, p = pipe_fd(&w);
	int buf;

	ASSERT_LE(0, p);
	buf = 0;
	errno = 0;
	EXPECT_EQ(FAILED, HAP_mmap(&buf, 4096, HAP_PROT_READ, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 0, HAP_PROT_READ, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, -1, HAP_PROT_READ, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap2(NULL, 0, HAP_PROT_READ, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	/* EXEC is refused, with or without other bits */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_EXEC, 0, p, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ | HAP_PROT_EXEC, 0, p, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	/* unknown prot bits; two cache policies at once */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, 0x100, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ | HAP_MEM_CACHE_WRITEBACK |
				   HAP_MEM_CACHE_NON_SHARED, 0, p, 0));
	EXPECT_EQ(EINVAL, errno);
	/* unknown flags; bad offsets */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ, 0x40, p, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ, 0, p, -4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ, 0, p, 100));
	EXPECT_EQ(EINVAL, errno);
	/* fds: not open, not a dma-buf */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ, 0, -1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ, 0, closed_fd(), 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, HAP_PROT_READ | HAP_PROT_WRITE, 0, p, 0));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(FAILED, HAP_mmap2(NULL, 4096, HAP_PROT_READ, HAP_MAP_NO_MAP, p, 0));
	EXPECT_EQ(EBADFD, errno);
	close(p);
	close(w);
}

TEST(hap_munmap_and_refs_unknown)
{
	int w, p = pipe_fd(&w);
	void *v = (void *)0x1;
	uint64 pa = 5;

	ASSERT_LE(0, p);
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap((void *)0x10000000, 4096));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap2(&v, 4096));
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap(NULL, 4096));
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap((void *)0x10000000, 0));
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap((void *)0x10000000, -1));
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap2((void *)0x10000000, 0));
	/* an fd that is not a mapped buffer: no such map, whatever it is */
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(p, &v, &pa));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(-1, &v, &pa));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(closed_fd(), &v, &pa));
	EXPECT_EQ(AEE_EBADPARM, HAP_mmap_get(p, NULL, &pa));
	EXPECT_EQ(AEE_EBADPARM, HAP_mmap_get(p, &v, NULL));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(p));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(-1));
	EXPECT_EQ((void *)0x1, v);
	EXPECT_EQ(5U, pa);
	close(p);
	close(w);
}

TEST(hap_apps_mem_bad_args)
{
	uint64_t va = 3;
	int fd = 4;

	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(0, HAP_MEM_FLAGS_DSP_MAP, &fd, &va));
	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(4096, HAP_MEM_FLAGS_MAX, &fd, &va));
	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(4096, 77, &fd, &va));
	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(4096, 0, NULL, &va));
	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(4096, 0, &fd, NULL));
	EXPECT_EQ(AEE_EBADPARM, HAP_apps_mem_request(SIZE_MAX, 0, &fd, &va));
	EXPECT_EQ(AEE_ERESOURCENOTFOUND,
		  HAP_apps_mem_request(4096, HAP_MEM_FLAGS_EXTENDED_MAP, &fd, &va));
	EXPECT_EQ(4, fd);
	EXPECT_EQ(3U, va);
	EXPECT_EQ(AEE_EBADFD, HAP_apps_mem_release(-1));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_apps_mem_release(0));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_apps_mem_release(closed_fd()));
}

TEST(hap_mem_request_bad_args)
{
	HAP_mem_req_payload_t p;
	int w, pf = pipe_fd(&w);

	ASSERT_LE(0, pf);
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(NULL));
	memset(&p, 0, sizeof(p));
	p.request_id = (HAP_mem_req_t)0;
	EXPECT_EQ(AEE_EUNSUPPORTED, HAP_mem_request(&p));
	p.request_id = (HAP_mem_req_t)7;
	EXPECT_EQ(AEE_EUNSUPPORTED, HAP_mem_request(&p));

	/* map: prot, len, offset, fixed address, flags */
	memset(&p, 0, sizeof(p));
	p.request_id = HAP_MEM_MAP;
	p.mmap.fd = pf;
	p.mmap.len = 4096;
	p.mmap.prot = HAP_PROT_READ | HAP_PROT_EXEC;
	EXPECT_EQ(AEE_EUNSUPPORTED, HAP_mem_request(&p));
	p.mmap.prot = 0x200;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.prot = HAP_PROT_READ;
	p.mmap.len = 0;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.len = 4096;
	p.mmap.dsp_pa = 12;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.dsp_pa = 0;
	p.mmap.addr = 0x40000010;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.addr = 0x40000000;
	p.mmap.flags = HAP_MEM_FLAGS_DSP_MAP;	/* placement with a fixed address */
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.addr = 0;
	p.mmap.flags = 9;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.mmap.flags = 0;
	EXPECT_EQ(AEE_EINVALIDFD, HAP_mem_request(&p));
	p.mmap.fd = -1;
	EXPECT_EQ(AEE_EBADFD, HAP_mem_request(&p));
	p.mmap.fd = closed_fd();
	EXPECT_EQ(AEE_EBADFD, HAP_mem_request(&p));

	/* unmap / unreserve of what HAP_mem_request never made */
	memset(&p, 0, sizeof(p));
	p.request_id = HAP_MEM_UNMAP;
	p.munmap.dsp_va = 0x40000000;
	p.munmap.len = 4096;
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mem_request(&p));
	p.munmap.len = 0;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	memset(&p, 0, sizeof(p));
	p.request_id = HAP_UNRESERVE_VA;
	p.unreserve.dsp_va = 0x40000000;
	p.unreserve.len = 4096;
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mem_request(&p));

	/* reserve: len, prot, flags */
	memset(&p, 0, sizeof(p));
	p.request_id = HAP_RESERVE_VA;
	p.reserve.len = 0;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.reserve.len = 1 << 20;
	p.reserve.flags = 5;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&p));
	p.reserve.flags = 0;
	p.reserve.prot = HAP_PROT_EXEC;
	EXPECT_EQ(AEE_EUNSUPPORTED, HAP_mem_request(&p));
	p.reserve.prot = HAP_PROT_READ | HAP_PROT_WRITE;
	EXPECT_EQ(AEE_ERESOURCENOTFOUND, HAP_mem_request(&p));
	EXPECT_EQ(0U, p.reserve.dsp_va);
	close(pf);
	close(w);
}

TEST(buffer_bad_args)
{
	errno = 0;
	EXPECT_EQ(NULL, hapmem_buf_alloc(HAPMEM_BUF_HEAP_SYSTEM, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hapmem_buf_alloc(3, 0, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hapmem_buf_alloc(0, 0x4, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hapmem_buf_alloc(0, HAPMEM_BUF_CACHED | HAPMEM_BUF_UNCACHED, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, hapmem_buf_alloc(0, 0, SIZE_MAX));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(NULL, hapmem_buf_alloc(0, HAPMEM_BUF_UNCACHED, (size_t)3 << 30));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-EINVAL, hapmem_buf_free(NULL));
	EXPECT_EQ(-ENOENT, hapmem_buf_free((void *)0x10000));
	EXPECT_EQ(-ENOENT, hapmem_buf_to_fd((void *)0x10000));
	EXPECT_EQ(0U, hapmem_buf_size((void *)0x10000));
}

TEST(remote_access_bad_args)
{
	char b[16];

	EXPECT_EQ(-EINVAL, hapmem_remote_read(0x1000, NULL, 16));
	EXPECT_EQ(-EINVAL, hapmem_remote_read(0x1000, b, 0));
	EXPECT_EQ(-EINVAL, hapmem_remote_write(UINT64_MAX - 4, b, 16));
	EXPECT_EQ(-ENODEV, hapmem_remote_read(0x1000, b, sizeof(b)));
}

TEST_HARNESS_MAIN
