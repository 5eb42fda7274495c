// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote.h face through the real driver, proved by the remote's DMA
 * engine: remote_mmap64 of a buffer and of kernel memory, remote_mem_map
 * on two domains (run with --remotes 2: hapmem-adsp is the process's
 * session, hapmem-cdsp another), and fastrpc_mmap with each kind; the
 * delayed kinds make no device map before HAP_mmap (the driver's map
 * count is the witness).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "../fault_probe.h"

#include <remote.h>
#include <rpcmem.h>

#include "compat/compat_internal.h"
#include "transport/ioctl.h"
#include "lib_test.h"

#define LEN (64 << 10)
#define RW (HAP_PROT_READ | HAP_PROT_WRITE)

/* As lt_dev_matches, through the session of @domain. */
static int dev_matches_on(int domain, uint64_t vadsp, const void *cpu, size_t len)
{
	unsigned char rb[LT_PROBE];
	int dev = hm_domain_fd(domain, NULL);
	int ret;

	if (dev < 0)
		return dev;
	ret = hm_ioc_remote_access(dev, 0, vadsp + len - LT_PROBE, rb, LT_PROBE, NULL);
	if (ret)
		return ret;
	return memcmp(rb, (const char *)cpu + len - LT_PROBE, LT_PROBE) ? -EIO : 0;
}

FIXTURE(rb) {
	unsigned char *p;
	int fd;
};

FIXTURE_SETUP(rb)
{
	ASSERT_EQ(0, lt_session_maps());
	self->p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, LEN);
	ASSERT_NE(NULL, self->p);
	self->fd = rpcmem_to_fd(self->p);
	lt_fill(self->p, LEN, 5);
}

FIXTURE_TEARDOWN(rb)
{
	rpcmem_free(self->p);
	EXPECT_EQ(0, lt_session_maps());
}

TEST_F(rb, remote_mmap64_buffer)
{
	unsigned char wb[LT_PROBE];
	uint64_t va = 0;

	ASSERT_EQ(AEE_SUCCESS, remote_mmap64(self->fd, 0, (uintptr_t)self->p, LEN, &va));
	EXPECT_EQ(1, lt_session_maps());
	EXPECT_EQ(0, lt_dev_matches(va, self->p, LEN));
	memset(wb, 0x6b, sizeof(wb));
	ASSERT_EQ(0, hapmem_remote_write(va, wb, sizeof(wb)));
	EXPECT_EQ(0, memcmp(self->p, wb, sizeof(wb)));
	EXPECT_EQ(AEE_EBADPARM, remote_munmap64(va, 2 * LEN));
	EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, LEN));
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_munmap64(va, LEN));
}

TEST(remote_mmap64_kernel_memory)
{
	static const uint32_t rflags[] = { ADSP_MMAP_HEAP_ADDR, ADSP_MMAP_REMOTE_HEAP_ADDR,
					   ADSP_MMAP_ADD_PAGES };
	unsigned char wb[LT_PROBE], rb[LT_PROBE];
	size_t i;

	for (i = 0; i < sizeof(rflags) / sizeof(rflags[0]); i++) {
		uint64_t va = 0;

		ASSERT_EQ(AEE_SUCCESS, remote_mmap64(-1, rflags[i], 0, 1 << 20, &va));
		EXPECT_EQ(1, lt_session_maps());
		lt_fill(wb, sizeof(wb), (unsigned int)i);
		ASSERT_EQ(0, hapmem_remote_write(va + (1 << 20) - LT_PROBE, wb, sizeof(wb)));
		ASSERT_EQ(0, hapmem_remote_read(va + (1 << 20) - LT_PROBE, rb, sizeof(rb)));
		EXPECT_EQ(0, memcmp(wb, rb, sizeof(rb)));
		EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, 1 << 20));
		EXPECT_EQ(0, lt_session_maps());
	}
}

/* Two remotes: each domain maps on its own remote. */
TEST_F(rb, remote_mem_map_two_domains)
{
	uint64_t va = 0, vc = 0;
	int is_main = -1;

	if (hm_domain_fd(CDSP_DOMAIN_ID, &is_main) < 0)
		SKIP(return, "needs a second remote (tests/vm/run --remotes 2)");
	EXPECT_EQ(0, is_main);
	ASSERT_LE(0, hm_domain_fd(ADSP_DOMAIN_ID, &is_main));
	EXPECT_EQ(1, is_main);
	ASSERT_EQ(AEE_SUCCESS, remote_mem_map(ADSP_DOMAIN_ID, self->fd, REMOTE_MAP_MEM_STATIC,
					      (uintptr_t)self->p, LEN, &va));
	ASSERT_EQ(AEE_SUCCESS, remote_mem_map(CDSP_DOMAIN_ID, self->fd, REMOTE_MAP_MEM_STATIC,
					      (uintptr_t)self->p, LEN, &vc));
	EXPECT_EQ(1, lt_session_maps());	/* the CDSP map is in its own session */
	EXPECT_EQ(0, lt_dev_matches(va, self->p, LEN));
	EXPECT_EQ(0, dev_matches_on(CDSP_DOMAIN_ID, vc, self->p, LEN));
	EXPECT_EQ(AEE_ENOSUCHMAP, remote_mem_unmap(CDSP_DOMAIN_ID, va + 4096, LEN));
	EXPECT_EQ(AEE_SUCCESS, remote_mem_unmap(CDSP_DOMAIN_ID, vc, LEN));
	EXPECT_EQ(AEE_SUCCESS, remote_mem_unmap(ADSP_DOMAIN_ID, va, LEN));
	EXPECT_EQ(AEE_ERESOURCENOTFOUND, remote_mem_map(SDSP_DOMAIN_ID, self->fd, 0, 0, LEN, &va));
}

TEST_F(rb, fastrpc_static)
{
	uint64_t va = 0, vc = 0;

	ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					    FASTRPC_MAP_STATIC));
	EXPECT_EQ(1, lt_session_maps());
	ASSERT_EQ(0, hm_fastrpc_vadsp(ADSP_DOMAIN_ID, self->fd, &va));
	EXPECT_EQ(0, lt_dev_matches(va, self->p, LEN));
	EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_STATIC));
	if (hm_domain_fd(CDSP_DOMAIN_ID, NULL) >= 0) {
		ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(CDSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
						    FASTRPC_MAP_STATIC));
		ASSERT_EQ(0, hm_fastrpc_vadsp(CDSP_DOMAIN_ID, self->fd, &vc));
		EXPECT_EQ(0, dev_matches_on(CDSP_DOMAIN_ID, vc, self->p, LEN));
		EXPECT_EQ(AEE_EUNSUPPORTED, fastrpc_mmap(CDSP_DOMAIN_ID, self->fd, self->p, 0,
							 LEN, FASTRPC_MAP_FD_DELAYED));
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(CDSP_DOMAIN_ID, self->fd, self->p, LEN));
	}
	EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
	EXPECT_EQ(0, lt_session_maps());
}

/* FD and FD_EXTENDED: mapped at once; HAP_mmap_get gives the device address. */
TEST_F(rb, fastrpc_fd_kinds)
{
	static const enum fastrpc_map_flags kinds[] = { FASTRPC_MAP_FD,
							FASTRPC_MAP_FD_EXTENDED };
	size_t k;

	for (k = 0; k < 2; k++) {
		void *v = NULL;
		uint64 pa = 0;

		ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
						    kinds[k]));
		EXPECT_EQ(1, lt_session_maps());
		ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
		EXPECT_EQ(kinds[k] == FASTRPC_MAP_FD_EXTENDED, pa >= LT_4G);
		EXPECT_EQ(0, lt_dev_matches(pa, self->p, LEN));
		EXPECT_EQ(0, memcmp(v, self->p, LEN));
		EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
		EXPECT_EQ(AEE_EALREADY, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
						     kinds[k]));
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
		EXPECT_EQ(0, lt_session_maps());
	}
}

/* The delayed kinds: no device map until HAP_mmap, then the device sees it. */
TEST_F(rb, fastrpc_delayed_kinds)
{
	static const enum fastrpc_map_flags kinds[] = {
		FASTRPC_MAP_FD_DELAYED, FASTRPC_MAP_FD_NOMAP, FASTRPC_MAP_FD_DELAYED_EXTENDED,
	};
	size_t k;

	for (k = 0; k < 3; k++) {
		void *a, *v = NULL;
		uint64 pa = 0;
		int high = kinds[k] == FASTRPC_MAP_FD_DELAYED_EXTENDED;
		int nomap = kinds[k] == FASTRPC_MAP_FD_NOMAP;

		ASSERT_EQ(AEE_SUCCESS, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd,
						    nomap ? NULL : self->p, 0, LEN, kinds[k]));
		EXPECT_EQ(0, lt_session_maps());	/* nothing mapped yet */
		EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(self->fd, &v, &pa));
		a = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
		ASSERT_NE((void *)-1, a);
		EXPECT_EQ(1, lt_session_maps());	/* the first HAP_mmap maps */
		ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
		EXPECT_EQ(high, pa >= LT_4G);
		EXPECT_EQ(0, lt_dev_matches(pa, self->p, LEN));
		EXPECT_EQ(nomap, read_faults(a));
		EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
		EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
		EXPECT_EQ(0, lt_session_maps());
		EXPECT_EQ(AEE_SUCCESS, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
		/* registration gone: the next HAP_mmap is an ordinary one */
		a = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
		ASSERT_NE((void *)-1, a);
		EXPECT_EQ(0, read_faults(a));
		ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
		EXPECT_GT(LT_4G, pa + LEN - 1);
		EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
		EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	}
}

TEST_F(rb, fastrpc_refused)
{
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, LEN,
					     FASTRPC_MAP_RESERVED));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, 2 * LEN,
					     FASTRPC_MAP_STATIC));
	EXPECT_EQ(AEE_EBADPARM, fastrpc_mmap(ADSP_DOMAIN_ID, self->fd, self->p, 0, 2 * LEN,
					     FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_EINVALIDFD, fastrpc_mmap(ADSP_DOMAIN_ID, 0, self->p, 0, LEN,
					       FASTRPC_MAP_FD));
	EXPECT_EQ(AEE_ENOSUCHMAP, fastrpc_munmap(ADSP_DOMAIN_ID, self->fd, self->p, LEN));
	EXPECT_EQ(0, lt_session_maps());
}

TEST_HARNESS_MAIN
