// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP_mmap family's reference counts, call by call, and buffer
 * identity, over the simulated kernel (test_lib_fake_kernel.h).  The same
 * rules are checked through the real driver by
 * tests/kselftest/lib_hap_mmap.c.
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

#include "HAP_mem.h"
#include "faces/hap_mmap.h"
#include "hapmem_buf.h"
#include "hapmem_dev.h"

#define FAILED ((void *)-1)
#define RW (HAP_PROT_READ | HAP_PROT_WRITE)

static int new_buf(size_t len)
{
	int fd = fake_new_buf(len);

	return fd;
}

static void refs(struct __test_metadata *_metadata, int fd, unsigned int map,
		 unsigned int get)
{
	unsigned int m = 99, g = 99;

	ASSERT_EQ(0, hm_hap_mmap_refs(fd, &m, &g, NULL));
	EXPECT_EQ(map, m);
	EXPECT_EQ(get, g);
}
#define REFS(fd, m, g) refs(_metadata, fd, m, g)

FIXTURE(hm) {
	int fd;
};

FIXTURE_SETUP(hm)
{
	fake_setup();
	self->fd = new_buf(64 << 10);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(hm)
{
	close(self->fd);
}

TEST_F(hm, refcount_call_by_call)
{
	void *a, *b, *v = NULL;
	uint64 pa = 0, pa2 = 0;
	unsigned int mr, gr;

	a = HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	REFS(self->fd, 1, 0);
	EXPECT_EQ(1, fake_live(FK_SHARE));

	/* the same buffer again: same address, one more reference, no new map */
	b = HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0);
	EXPECT_EQ(a, b);
	REFS(self->fd, 2, 0);
	EXPECT_EQ(1, fake_live(FK_SHARE));

	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(a, v);
	EXPECT_NE(0U, pa);
	REFS(self->fd, 2, 1);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa2));
	EXPECT_EQ(pa, pa2);
	REFS(self->fd, 2, 2);

	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	REFS(self->fd, 2, 1);
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	REFS(self->fd, 2, 0);
	/* underflow */
	EXPECT_EQ(AEE_EBADMAPREFCNT, HAP_mmap_put(self->fd));
	REFS(self->fd, 2, 0);

	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	REFS(self->fd, 1, 0);
	EXPECT_EQ(1, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	/* gone: the device map and the CPU mapping */
	EXPECT_EQ(-ENOENT, hm_hap_mmap_refs(self->fd, &mr, &gr, NULL));
	EXPECT_EQ(0, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap(a, 64 << 10));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(self->fd));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(-1, msync(a, 4096, MS_ASYNC));
	EXPECT_EQ(ENOMEM, errno);
}

TEST_F(hm, get_ref_outlives_munmap)
{
	void *a, *v;
	uint64 pa;
	char rb[8];

	a = HAP_mmap2(NULL, 64 << 10, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap2(a, 64 << 10));
	REFS(self->fd, 0, 1);
	/* HAP_munmap needs a map reference: there is none left */
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap2(a, 64 << 10));
	/* still mapped for the device and the CPU */
	memcpy(a, "held", 5);
	ASSERT_EQ(0, hapmem_remote_read(pa, rb, 5));
	EXPECT_STREQ("held", rb);
	EXPECT_EQ(1, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	EXPECT_EQ(0, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(self->fd));
}

TEST_F(hm, no_map_flag)
{
	void *a, *b;

	/* nothing to take a reference on yet */
	errno = 0;
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 64 << 10, RW, HAP_MAP_NO_MAP, self->fd, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, fake_live(FK_SHARE));
	a = HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	b = HAP_mmap(NULL, 64 << 10, RW, HAP_MAP_NO_MAP, self->fd, 0);
	EXPECT_EQ(a, b);
	REFS(self->fd, 2, 0);
	EXPECT_EQ(1, fake_live(FK_SHARE));
	EXPECT_EQ(1UL, fake_count(HAPMEM_IOC_SHARE_MAP));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	EXPECT_EQ(0, fake_live(FK_SHARE));
}

/* The map is the buffer's, not the fd number's. */
TEST_F(hm, identity_not_fd_number)
{
	void *a, *b, *v;
	uint64 pa;
	int dup_fd = dup(self->fd), other, num;

	ASSERT_LE(0, dup_fd);
	a = HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	/* a dup is the same buffer */
	b = HAP_mmap(NULL, 64 << 10, RW, 0, dup_fd, 0);
	EXPECT_EQ(a, b);
	REFS(self->fd, 2, 0);
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_get(dup_fd, &v, &pa));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));

	/* recycle the dup's number for another buffer: it must not find the map */
	num = dup_fd;
	close(dup_fd);
	other = new_buf(4096);
	ASSERT_LE(0, other);
	if (other != num) {
		ASSERT_EQ(num, dup2(other, num));
		close(other);
		other = num;
	}
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(other, &v, &pa));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(other));
	b = HAP_mmap(NULL, 4096, RW, 0, other, 0);
	ASSERT_NE(FAILED, b);
	EXPECT_NE(a, b);
	EXPECT_EQ(2, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(b, 4096));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	EXPECT_EQ(0, fake_live(FK_SHARE));
	close(other);
}

TEST_F(hm, windows_and_lengths)
{
	void *a;

	a = HAP_mmap(NULL, 8192, RW, 0, self->fd, 4096);
	ASSERT_NE(FAILED, a);
	/* one window per buffer: another offset or length is refused */
	errno = 0;
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 8192, RW, 0, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, RW, 0, self->fd, 4096));
	EXPECT_EQ(EINVAL, errno);
	/* lengths are compared in pages */
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap(a, 4096));
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap(a, 16384));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap((char *)a + 4096, 4096));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 8000));
	EXPECT_EQ(0, fake_live(FK_SHARE));
	/* beyond the buffer: the kernel refuses, nothing is left */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 128 << 10, RW, 0, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, fake_live(FK_SHARE));
}

TEST_F(hm, prot_and_cache)
{
	void *a;

	/* read-only for the CPU and the device */
	a = HAP_mmap(NULL, 4096, HAP_PROT_READ | HAP_MEM_CACHE_NON_SHARED, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	EXPECT_EQ(0, *(volatile char *)a);
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 4096));
	a = HAP_mmap(NULL, 4096, RW | HAP_MEM_CACHE_WRITETHROUGH, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	*(volatile char *)a = 1;
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 4096));
	a = HAP_mmap(NULL, 4096, HAP_PROT_NONE, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 4096));
}

TEST_F(hm, cpu_and_device_see_the_same_bytes)
{
	char *a, rb[32];
	uint64 pa;
	void *v;

	a = HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	strcpy(a + 8192, "cpu wrote this");
	ASSERT_EQ(0, hapmem_remote_read(pa + 8192, rb, 15));
	EXPECT_STREQ("cpu wrote this", rb);
	ASSERT_EQ(0, hapmem_remote_write(pa + 100, "dev", 4));
	EXPECT_STREQ("dev", a + 100);
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
}

/* A failing kernel leaves no state behind. */
TEST_F(hm, kernel_failure_leaves_nothing)
{
	void *v;
	uint64 pa;

	fake_fail(HAPMEM_IOC_SHARE_MAP, ENOSPC);
	errno = 0;
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 4096, RW, 0, self->fd, 0));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(0, fake_live(FK_SHARE));
}

TEST_F(hm, hap_mem_request_reserve_and_fixed_maps)
{
	HAP_mem_req_payload_t r, m, m2, u, other;
	uint64_t base;
	int b2 = new_buf(1 << 20);
	char rb[8];

	ASSERT_LE(0, b2);
	memset(&r, 0, sizeof(r));
	r.request_id = HAP_RESERVE_VA;
	r.reserve.len = 1 << 20;
	r.reserve.prot = RW;
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_request(&r));
	base = r.reserve.dsp_va;
	ASSERT_NE(0U, base);

	/* no other map lands inside */
	memset(&other, 0, sizeof(other));
	other.request_id = HAP_MEM_MAP;
	other.mmap.fd = b2;
	other.mmap.len = 1 << 20;
	other.mmap.prot = RW;
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_request(&other));
	EXPECT_TRUE(other.mmap.dsp_va + (1 << 20) <= base || other.mmap.dsp_va >= base + (1 << 20));

	/* a fixed map inside, seen by the device there */
	memset(&m, 0, sizeof(m));
	m.request_id = HAP_MEM_MAP;
	m.mmap.addr = base + 0x10000;
	m.mmap.len = 0x10000;
	m.mmap.prot = RW;
	m.mmap.fd = self->fd;
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_request(&m));
	EXPECT_EQ(base + 0x10000, m.mmap.dsp_va);
	ASSERT_EQ(0, hapmem_remote_write(base + 0x10000, "fix", 4));
	ASSERT_EQ(0, hapmem_remote_read(base + 0x10000, rb, 4));
	EXPECT_STREQ("fix", rb);

	/* overlap refused */
	m2 = m;
	m2.mmap.addr = base + 0x18000;
	EXPECT_EQ(AEE_EMAPALREADYPRESENT, HAP_mem_request(&m2));
	/* outside any reservation refused */
	m2.mmap.addr = base + (4 << 20);
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mem_request(&m2));

	/* unreserve with a live map inside refused; the library's record stays */
	memset(&u, 0, sizeof(u));
	u.request_id = HAP_UNRESERVE_VA;
	u.unreserve.dsp_va = base;
	u.unreserve.len = 1 << 20;
	EXPECT_EQ(AEE_EBADSTATE, HAP_mem_request(&u));
	u.unreserve.len = 1 << 21;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&u));
	u.unreserve.len = 1 << 20;

	/* unmap: wrong length, then right; twice */
	memset(&m2, 0, sizeof(m2));
	m2.request_id = HAP_MEM_UNMAP;
	m2.munmap.dsp_va = base + 0x10000;
	m2.munmap.len = 0x20000;
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_request(&m2));
	m2.munmap.len = 0x10000;
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_request(&m2));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mem_request(&m2));
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_request(&u));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mem_request(&u));
	m2.munmap.dsp_va = other.mmap.dsp_va;
	m2.munmap.len = 1 << 20;
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_request(&m2));
	EXPECT_EQ(0, fake_live(FK_FREE));
	EXPECT_EQ(0, fake_live(FK_RESV));
	close(b2);
}

TEST_F(hm, hap_mem_request_placement)
{
	HAP_mem_req_payload_t r;
	uint64_t va;

	memset(&r, 0, sizeof(r));
	r.request_id = HAP_RESERVE_VA;
	r.reserve.len = 1 << 20;
	r.reserve.flags = HAP_MEM_FLAGS_EXTENDED_MAP;
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_request(&r));
	EXPECT_LE(1ULL << 32, r.reserve.dsp_va);
	va = r.reserve.dsp_va;
	r.request_id = HAP_UNRESERVE_VA;
	r.unreserve.dsp_va = va;	/* the union's members overlap */
	r.unreserve.len = 1 << 20;
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_request(&r));

	memset(&r, 0, sizeof(r));
	r.request_id = HAP_MEM_MAP;
	r.mmap.fd = self->fd;
	r.mmap.len = 4096;
	r.mmap.flags = HAP_MEM_FLAGS_DSP_MAP;
	r.mmap.prot = HAP_PROT_READ;
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_request(&r));
	EXPECT_GT(1ULL << 32, r.mmap.dsp_va + 4096 - 1);
	va = r.mmap.dsp_va;
	r.request_id = HAP_MEM_UNMAP;
	r.munmap.dsp_va = va;
	r.munmap.len = 4096;
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_request(&r));
}

TEST(hap_apps_mem)
{
	uint64_t va = 0, va2 = 0;
	int fd = -1, fd2 = -1;
	char rb[4];

	fake_setup();
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(100, HAP_MEM_FLAGS_DSP_MAP, &fd, &va));
	EXPECT_LE(0, fd);
	EXPECT_NE(0U, va);
	EXPECT_GT(1ULL << 32, va);
	ASSERT_EQ(0, hapmem_remote_write(va, "abc", 4));
	ASSERT_EQ(0, hapmem_remote_read(va, rb, 4));
	EXPECT_STREQ("abc", rb);
	EXPECT_EQ(1, fake_live(FK_SHARE));

	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(1 << 20, HAP_MEM_FLAGS_EXTENDED_MAP, &fd2, &va2));
	EXPECT_LE(1ULL << 32, va2);
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd2));
	EXPECT_EQ(-1, fcntl(fd2, F_GETFD));	/* the release closed it */
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_apps_mem_release(fd2));

	/* guaranteed release: the caller closed the fd first */
	close(fd);
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd));
	EXPECT_EQ(0, fake_live(FK_FREE));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_apps_mem_release(fd));

	/* no device map at all */
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(4096, HAP_MEM_FLAGS_SKIP_DSP_MAP, &fd, &va));
	EXPECT_EQ(0U, va);
	EXPECT_EQ(0, fake_live(FK_FREE));
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd));
}

TEST(hap_apps_mem_closed_and_recycled)
{
	uint64_t va = 0, va2 = 0;
	int fd = -1, fd2 = -1;

	fake_setup();
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(4096, HAP_MEM_FLAGS_DSP_MAP, &fd, &va));
	close(fd);	/* never released: the number comes back */
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(4096, HAP_MEM_FLAGS_DSP_MAP, &fd2, &va2));
	ASSERT_EQ(fd, fd2);
	/* the orphan was released when its number was reused */
	EXPECT_EQ(1, fake_live(FK_SHARE));
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd2));
	EXPECT_EQ(0, fake_live(FK_SHARE));
}

TEST_HARNESS_MAIN
