// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP_mmap family through the real driver: the reference counts call
 * by call (with the driver's own map count as the witness), the device
 * seeing the CPU's bytes at the returned device address, buffer identity
 * across dup and fd reuse, and HAP_apps_mem_request/release.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"

#include "faces/hap_mmap.h"
#include "lib_test.h"

#define FAILED ((void *)-1)
#define RW (HAP_PROT_READ | HAP_PROT_WRITE)
#define LEN (256 << 10)

FIXTURE(hm) {
	char *buf;
	int fd;
};

FIXTURE_SETUP(hm)
{
	ASSERT_EQ(0, lt_session_maps());
	self->buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_DEFAULT, 0, LEN);
	ASSERT_NE(NULL, self->buf);
	self->fd = hapmem_buf_to_fd(self->buf);
	lt_fill(self->buf, LEN, 1);
}

FIXTURE_TEARDOWN(hm)
{
	EXPECT_EQ(0, hapmem_buf_free(self->buf));
	EXPECT_EQ(0, lt_session_maps());
}

static void expect_refs(struct __test_metadata *_metadata, int fd, unsigned int m,
			unsigned int g)
{
	unsigned int mr = 99, gr = 99;

	ASSERT_EQ(0, hm_hap_mmap_refs(fd, &mr, &gr, NULL));
	EXPECT_EQ(m, mr);
	EXPECT_EQ(g, gr);
}
#define REFS(m, g) expect_refs(_metadata, self->fd, m, g)

TEST_F(hm, refcounts_call_by_call)
{
	void *a, *b, *v = NULL;
	uint64 pa = 0, pb = 0;

	/* 1. HAP_mmap: one map in the driver, refs (1, 0) */
	a = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	EXPECT_NE((void *)self->buf, a);
	EXPECT_EQ(0U, lt_bad(a, LEN, 1));
	REFS(1, 0);
	EXPECT_EQ(1, lt_session_maps());
	/* 2. again: same address, no new driver map, (2, 0) */
	b = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
	EXPECT_EQ(a, b);
	REFS(2, 0);
	EXPECT_EQ(1, lt_session_maps());
	/* 3. HAP_MAP_NO_MAP: a reference only, (3, 0) */
	b = HAP_mmap(NULL, LEN, RW, HAP_MAP_NO_MAP, self->fd, 0);
	EXPECT_EQ(a, b);
	REFS(3, 0);
	/* 4. get: CPU and device address, (3, 1); the device sees the bytes */
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(a, v);
	REFS(3, 1);
	EXPECT_EQ(0, lt_dev_matches(pa, self->buf, LEN));
	/* 5. get again, same answers, (3, 2) */
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pb));
	EXPECT_EQ(pa, pb);
	REFS(3, 2);
	/* 6-7. put, put: (3, 0) */
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	REFS(3, 0);
	/* 8. put below zero: AEE_EBADMAPREFCNT, nothing changes */
	EXPECT_EQ(AEE_EBADMAPREFCNT, HAP_mmap_put(self->fd));
	REFS(3, 0);
	EXPECT_EQ(1, lt_session_maps());
	/* 9-10. munmap twice: (1, 0), still mapped */
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap2(a, LEN));
	REFS(1, 0);
	EXPECT_EQ(1, lt_session_maps());
	EXPECT_EQ(0, lt_dev_matches(pa, self->buf, LEN));
	/* 11. last munmap: the driver's map goes */
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	EXPECT_EQ(0, lt_session_maps());
	/* 12. everything is unknown now */
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap(a, LEN));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(self->fd));
	EXPECT_EQ(FAILED, HAP_mmap(NULL, LEN, RW, HAP_MAP_NO_MAP, self->fd, 0));
	EXPECT_EQ(ENOENT, errno);
	/* 13. the device no longer reaches the old address */
	EXPECT_NE(0, hapmem_remote_read(pa, &v, 8));
}

/* A get reference keeps the map after the last HAP_munmap. */
TEST_F(hm, get_reference_keeps_the_map)
{
	void *a, *v;
	uint64 pa;

	a = HAP_mmap(NULL, LEN, RW, 0, self->fd, 0);
	ASSERT_NE(FAILED, a);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	REFS(0, 1);
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_munmap(a, LEN));
	EXPECT_EQ(1, lt_session_maps());
	lt_fill(self->buf, 64, 2);
	EXPECT_EQ(0, lt_dev_matches(pa, self->buf, 64));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	EXPECT_EQ(0, lt_session_maps());
}

/* The map is the buffer's: a dup finds it, a recycled fd number does not. */
TEST_F(hm, buffer_identity)
{
	void *a, *b, *v;
	uint64 pa;
	char *other = hapmem_buf_alloc(0, 0, 4096);
	int d = dup(self->fd), num, ofd;

	ASSERT_NE(NULL, other);
	ASSERT_LE(0, d);
	a = HAP_mmap(NULL, LEN, RW, 0, d, 0);
	ASSERT_NE(FAILED, a);
	b = HAP_mmap(NULL, LEN, HAP_PROT_READ, 0, self->fd, 0);
	EXPECT_EQ(a, b);
	REFS(2, 0);
	num = d;
	close(d);
	ofd = hapmem_buf_to_fd(other);
	ASSERT_EQ(num, dup2(ofd, num));	/* the old number, another buffer */
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_get(num, &v, &pa));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_mmap_put(num));
	close(num);
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, LEN));
	EXPECT_EQ(0, hapmem_buf_free(other));
}

TEST_F(hm, read_only_and_offsets)
{
	void *a, *v;
	uint64 pa;

	/* a window at an offset; read-only for the CPU */
	a = HAP_mmap(NULL, 64 << 10, HAP_PROT_READ | HAP_MEM_CACHE_NON_SHARED, 0, self->fd,
		     128 << 10);
	ASSERT_NE(FAILED, a);
	EXPECT_EQ(0, memcmp(a, self->buf + (128 << 10), 64 << 10));
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get(self->fd, &v, &pa));
	EXPECT_EQ(0, lt_dev_matches(pa, self->buf + (128 << 10), 64 << 10));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put(self->fd));
	/* another window of the same buffer is refused while this one lives */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, 64 << 10, RW, 0, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(AEE_EBADPARM, HAP_munmap(a, 4096));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 64 << 10));
	/* beyond the end of the buffer: the driver refuses; nothing stays */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, LEN, RW, 0, self->fd, 64 << 10));
	EXPECT_EQ(EINVAL, errno);
	/* EXEC, a fixed address */
	EXPECT_EQ(FAILED, HAP_mmap(NULL, LEN, RW | HAP_PROT_EXEC, 0, self->fd, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(FAILED, HAP_mmap(self->buf, LEN, RW, 0, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
}

/* An apps_mem HLOS_FD buffer, HAP_mmap'ed through its fd. */
TEST(hlos_buffer_through_hap_mmap)
{
	uint64 a64, d64, pa;
	void *a, *v;

	ASSERT_EQ(AEE_SUCCESS, apps_mem_request_map64(0, 0, FASTRPC_ALLOC_HLOS_FD, 0, 65536,
						      &a64, &d64));
	/* an HLOS buffer is a plain dma-buf: HAP_mmap it through its fd */
	a = HAP_mmap(NULL, 65536, HAP_PROT_READ | HAP_PROT_WRITE, 0, (int)d64, 0);
	ASSERT_NE(FAILED, a);
	memcpy((void *)(uintptr_t)a64, "hlos", 5);
	ASSERT_EQ(AEE_SUCCESS, HAP_mmap_get((int)d64, &v, &pa));
	EXPECT_EQ(0, lt_dev_matches(pa, "hlos", 5));
	EXPECT_EQ(AEE_SUCCESS, HAP_mmap_put((int)d64));
	EXPECT_EQ(AEE_SUCCESS, HAP_munmap(a, 65536));
	EXPECT_EQ(AEE_SUCCESS, apps_mem_request_unmap64(d64, 65536));
	EXPECT_EQ(0, lt_session_maps());
}

TEST(apps_mem_request_release)
{
	struct hapmem_info before, info;
	uint64_t va = 0, vx = 0;
	int fd = -1, fx = -1, fs = -1;
	unsigned char wb[LT_PROBE], rb[LT_PROBE];

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(100000, HAP_MEM_FLAGS_DSP_MAP, &fd, &va));
	EXPECT_TRUE(lt_is_dmabuf(fd));
	EXPECT_NE(0U, va);
	EXPECT_LT(va, LT_4G);
	lt_fill(wb, sizeof(wb), 4);
	ASSERT_EQ(0, hapmem_remote_write(va + 4096, wb, sizeof(wb)));
	ASSERT_EQ(0, hapmem_remote_read(va + 4096, rb, sizeof(rb)));
	EXPECT_EQ(0, memcmp(wb, rb, sizeof(rb)));

	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(1 << 20, HAP_MEM_FLAGS_EXTENDED_MAP, &fx, &vx));
	EXPECT_LE(LT_4G, vx);
	ASSERT_EQ(0, hapmem_remote_write(vx, wb, sizeof(wb)));
	ASSERT_EQ(AEE_SUCCESS, HAP_apps_mem_request(4096, HAP_MEM_FLAGS_SKIP_DSP_MAP, &fs, &va));
	EXPECT_EQ(0U, va);
	EXPECT_EQ(2, lt_session_maps());

	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fs));
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fx));
	/* guaranteed release: the fd was closed first */
	close(fd);
	EXPECT_EQ(AEE_SUCCESS, HAP_apps_mem_release(fd));
	EXPECT_EQ(AEE_ENOSUCHMAP, HAP_apps_mem_release(fd));
	EXPECT_EQ(0, lt_session_maps());
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_EQ(before.global_buffers, info.global_buffers);
	EXPECT_EQ(before.global_pages, info.global_pages);
}

TEST_HARNESS_MAIN
