// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl ABI: size versioning, reserved fields, and every validation
 * failure of every ioctl, each with its documented errno.  After each
 * refusal the session must still work and nothing may be left behind.
 */
#include <stddef.h>

#include "kselftest_harness.h"
#include "hapmem_test.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

FIXTURE(abi) {
	int fd;
	int buf;	/* a 1 MiB dma-buf */
	int notbuf;	/* an open fd that is not a dma-buf */
	struct hapmem_info info;
};

FIXTURE_SETUP(abi)
{
	self->fd = hm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
	self->buf = hm_alloc(self->fd, HM_SZ_1M, 0);
	ASSERT_LE(0, self->buf);
	self->notbuf = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->notbuf);
}

/* Every test ends with a session that still maps, and nothing leaked. */
FIXTURE_TEARDOWN(abi)
{
	struct hapmem_request_map rm;

	/* The defaults again, whatever a failed test left behind. */
	hm_write_param("max_session_maps", 65536);
	hm_write_param("max_session_bytes", 1ULL << 32);
	hm_write_param("max_global_bytes", 16ULL << 30);
	hm_write_param("max_session_reserved_bytes", 1ULL << 30);
	hm_write_param("max_global_reserved_bytes", 2ULL << 30);
	hm_write_param("max_session_va32_bytes", 1ULL << 30);
	hm_write_param("max_user_va32_bytes", 1ULL << 30);

	EXPECT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_PAGE));
	close(self->notbuf);
	close(self->buf);
	close(self->fd);
	EXPECT_TRUE(hm_idle(NULL));
}

TEST_F(abi, unknown_ioctls_enotty)
{
	struct hapmem_nop nop = { .size = sizeof(nop) };

	EXPECT_EQ(-1, ioctl(self->fd, _IO(HAPMEM_TYPE, HAPMEM_CMD_END), &nop));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(HAPMEM_TYPE, HAPMEM_CMD_BASE - 1), &nop));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(HAPMEM_TYPE + 1, HAPMEM_CMD_NOP), &nop));
	EXPECT_EQ(ENOTTY, errno);
	/* The size lives in the struct, never in the number. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(HAPMEM_TYPE, HAPMEM_CMD_NOP,
					    struct hapmem_nop), &nop));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, ioctl(self->fd, HAPMEM_IOC_NOP, &nop));
}

TEST_F(abi, bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, HAPMEM_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(abi, struct_sizes)
{
	struct {
		struct hapmem_info info;
		unsigned char tail[64];
	} big;
	struct {
		struct hapmem_share_map m;
		unsigned char canary[16];
	} s;
	uint32_t v1 = offsetofend(struct hapmem_share_map, vadsp);

	/* Below the first version: refused. */
	memset(&big, 0, sizeof(big));
	big.info.size = offsetofend(struct hapmem_info, global_reservations) - 1;
	big.info.remote = HAPMEM_INFO_SELF;
	EXPECT_EQ(-1, ioctl(self->fd, HAPMEM_IOC_INFO, &big));
	EXPECT_EQ(EINVAL, errno);

	/* A newer caller's larger struct with a zero tail: accepted, tail kept. */
	big.info.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, HAPMEM_IOC_INFO, &big));
	EXPECT_EQ(self->info.num_remotes, big.info.num_remotes);
	EXPECT_TRUE(hm_all_zero(big.tail, sizeof(big.tail)));

	/* ...with anything non-zero in the tail: E2BIG. */
	big.tail[63] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, HAPMEM_IOC_INFO, &big));
	EXPECT_EQ(E2BIG, errno);

	/*
	 * An older caller's smaller struct (share_map before @chunks was
	 * added): accepted, and the kernel writes nothing past it.
	 */
	memset(&s, 0xcc, sizeof(s));
	s.m.size = v1;
	s.m.flags = 0;
	s.m.fd = self->buf;
	s.m.__reserved = 0;
	s.m.offset = 0;
	s.m.len = HM_PAGE;
	s.m.vadsp = 0;
	ASSERT_EQ(0, ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &s));
	EXPECT_NE(0, s.m.vadsp);
	EXPECT_EQ(0xcccccccc, s.m.chunks.n_4k);
	EXPECT_EQ(0xcc, s.canary[0]);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, s.m.vadsp,
			      HM_PAGE));
}

/* Outputs are fully written: no stale user bytes, no kernel bytes. */
TEST_F(abi, outputs_fully_written)
{
	struct hapmem_info info;
	struct hapmem_request_map rm;

	memset(&info, 0xff, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.remote = HAPMEM_INFO_SELF;
	info.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, HAPMEM_IOC_INFO, &info));
	EXPECT_EQ(0, info.__reserved);
	EXPECT_EQ(0, info.name[sizeof(info.name) - 1]);
	EXPECT_EQ(0, info.session_maps);

	memset(&rm, 0xff, sizeof(rm));
	rm.size = sizeof(rm);
	rm.flags = 0;
	rm.heap_id = 0;
	rm.ion_flags = 0;
	rm.rflags = 0;
	rm.__reserved = 0;
	rm.__reserved2 = 0;
	rm.vin = 0;
	rm.len = HM_PAGE;
	ASSERT_EQ(0, ioctl(self->fd, HAPMEM_IOC_REQUEST_MAP, &rm));
	EXPECT_EQ(-1, rm.fd);
	EXPECT_EQ(0, rm.chunks.__reserved);
	EXPECT_EQ(1, rm.chunks.n_4k);
	EXPECT_EQ(0, rm.chunks.n_2m);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_PAGE));
}

TEST_F(abi, info_invalid)
{
	struct hapmem_info info = { .remote = HAPMEM_INFO_SELF, .flags = 1 };

	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &info));
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &info));
	info.__reserved = 0;
	info.remote = self->info.num_remotes;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &info));
	info.remote = 0;
	EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &info));
}

TEST_F(abi, alloc_invalid)
{
	struct hapmem_alloc a = { .len = HM_PAGE, .flags = 2 };

	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	a.flags = 0;
	a.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	a.__reserved = 0;
	a.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	a.len = ~0ULL;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	a.len = self->info.max_session_bytes + 1;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	/* An odd length is rounded up to whole pages. */
	a.len = 1;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &a));
	EXPECT_EQ(HM_PAGE, lseek(a.fd, 0, SEEK_END));
	close(a.fd);
}

static int request(int fd, void (*tweak)(struct hapmem_request_map *))
{
	struct hapmem_request_map rm = { .len = HM_PAGE };
	int ret;

	tweak(&rm);
	ret = hm_test_ioctl(fd, HAPMEM_IOC_REQUEST_MAP, &rm);
	if (!ret)
		hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, rm.len);
	return ret;
}

#define TWEAK(name, body)						\
	static void name(struct hapmem_request_map *rm) { body; }
TWEAK(rq_flags, rm->flags = 1U << 20)
TWEAK(rq_both_windows, rm->flags = HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH)
TWEAK(rq_reserved, rm->__reserved = 1)
TWEAK(rq_reserved2, rm->__reserved2 = 1)
TWEAK(rq_ion, rm->ion_flags = 2)
TWEAK(rq_rflag_unknown, rm->rflags = 0x2)
TWEAK(rq_rflag_high, rm->rflags = 0x100000)
TWEAK(rq_rflag_two_sources, rm->rflags = HAPMEM_RFLAG_HEAP_ADDR | HAPMEM_RFLAG_REMOTE_HEAP_ADDR)
TWEAK(rq_rflag_llc_half, rm->rflags = 0x2000)
TWEAK(rq_rflag_hlos_heap, rm->rflags = HAPMEM_RFLAG_HLOS_FD | HAPMEM_RFLAG_HEAP_ADDR)
TWEAK(rq_heap, rm->heap_id = 7)
TWEAK(rq_len0, rm->len = 0)
TWEAK(rq_va32_len, { rm->flags = HAPMEM_MAP_VA32; rm->len = 1ULL << 31; })
TWEAK(rq_vin_unaligned, { rm->rflags = HAPMEM_RFLAG_ADD_PAGES; rm->vin = 0x1000001; })
TWEAK(rq_vin_len_unaligned, { rm->rflags = HAPMEM_RFLAG_ADD_PAGES; rm->vin = 0x1000000; rm->len = 100; })
TWEAK(rq_vin_heap, { rm->rflags = HAPMEM_RFLAG_HEAP_ADDR; rm->vin = 0x1000000; })
TWEAK(rq_vin_overflow, { rm->rflags = HAPMEM_RFLAG_ADD_PAGES; rm->vin = ~0xfffULL; rm->len = 0x2000; })
TWEAK(rq_vin_kernel, { rm->rflags = HAPMEM_RFLAG_ADD_PAGES; rm->vin = 0xffff800000000000ULL; })
TWEAK(rq_huge, rm->len = ~0ULL)
TWEAK(rq_vin_unmapped, { rm->rflags = HAPMEM_RFLAG_ADD_PAGES; rm->vin = 0x10000; })
TWEAK(rq_ok_any_heap, rm->heap_id = HAPMEM_HEAP_ID_ANY)
TWEAK(rq_ok_system_heap, rm->heap_id = HAPMEM_HEAP_ID_SYSTEM)

TEST_F(abi, request_map_invalid)
{
	EXPECT_EQ(-EINVAL, request(self->fd, rq_flags));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_both_windows));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_reserved));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_reserved2));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_ion));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_rflag_unknown));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_rflag_high));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_rflag_two_sources));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_rflag_llc_half));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_rflag_hlos_heap));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_heap));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_len0));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_va32_len));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_vin_unaligned));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_vin_len_unaligned));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_vin_heap));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_vin_overflow));
	EXPECT_EQ(-EINVAL, request(self->fd, rq_vin_kernel));
	EXPECT_EQ(-EDQUOT, request(self->fd, rq_huge));
	EXPECT_EQ(-EFAULT, request(self->fd, rq_vin_unmapped));
	EXPECT_EQ(0, request(self->fd, rq_ok_any_heap));
	EXPECT_EQ(0, request(self->fd, rq_ok_system_heap));
}

TEST_F(abi, unmap_invalid)
{
	struct hapmem_request_map rm;
	struct hapmem_unmap u = { .flags = 1 };
	uint64_t share_va = 0;

	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, 2 * HM_PAGE, &rm));
	u.vadsp = rm.vadsp;
	u.len = 2 * HM_PAGE;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REQUEST_UNMAP, &u));
	u.flags = 0;
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, 0));
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, ~0ULL));
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, 3 * HM_PAGE));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp + HM_PAGE, HM_PAGE));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, 0x7000000000ULL, HM_PAGE));
	/* A request map is not undone by share_unmap, nor the reverse. */
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, rm.vadsp, 2 * HM_PAGE));
	ASSERT_EQ(0, hm_share(self->fd, self->buf, 0, HM_PAGE, 0, &share_va));
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, share_va, HM_PAGE));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, share_va, HM_PAGE));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, share_va, HM_PAGE));
	/* An unaligned length names the same whole pages. */
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, 2 * HM_PAGE - 5));
	EXPECT_EQ(-ENOENT, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, 2 * HM_PAGE));
}

TEST_F(abi, share_map_invalid)
{
	struct hapmem_share_map m = { .fd = self->buf, .len = HM_PAGE, .flags = 1U << 7 };
	uint64_t va;

	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &m));
	m.flags = HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &m));
	m.flags = 0;
	m.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &m));
	EXPECT_EQ(-EBADF, hm_share(self->fd, 999, 0, HM_PAGE, 0, NULL));
	EXPECT_EQ(-EBADF, hm_share(self->fd, -1, 0, HM_PAGE, 0, NULL));
	EXPECT_EQ(-ENODEV, hm_share(self->fd, self->notbuf, 0, HM_PAGE, 0, NULL));
	EXPECT_EQ(-ENODEV, hm_share(self->fd, self->fd, 0, HM_PAGE, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 1, HM_PAGE, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 0, 100, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, HM_PAGE, HM_SZ_1M, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, HM_SZ_1M, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, ~0xfffULL, 2 * HM_PAGE, 0, NULL));
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 0, ~0xfffULL, 0, NULL));
	va = 0;
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 0, HM_PAGE, HAPMEM_MAP_FIXED, &va));
	va = 0x10000001;
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 0, HM_PAGE, HAPMEM_MAP_FIXED, &va));
	va = 0x10000000;
	EXPECT_EQ(-EINVAL, hm_share(self->fd, self->buf, 0, HM_PAGE,
				    HAPMEM_MAP_FIXED | HAPMEM_MAP_VA32, &va));
	if (self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA)
		/* Fixed outside any reservation of this session. */
		EXPECT_EQ(-ENOENT, hm_share(self->fd, self->buf, 0, HM_PAGE,
					    HAPMEM_MAP_FIXED, &va));
	/* len 0: to the end of the buffer. */
	ASSERT_EQ(0, hm_share(self->fd, self->buf, HM_PAGE, 0, 0, &va));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, va, HM_SZ_1M - HM_PAGE));
}

TEST_F(abi, dma_handle_invalid)
{
	struct hapmem_dma_handle_map m = { .fd = self->buf, .len = HM_PAGE };
	struct hapmem_dma_handle_unmap u = { .fd = self->buf, .len = HM_PAGE };

	m.flags = HAPMEM_MAP_FIXED;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.flags = 0;
	m.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.__reserved = 0;
	m.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.__reserved2 = 0;
	m.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.len = HM_PAGE;
	m.offset = 12;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.offset = HM_SZ_1M;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.offset = 0;
	m.fd = self->notbuf;
	EXPECT_EQ(-ENODEV, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	m.fd = 1000;
	EXPECT_EQ(-EBADF, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));

	u.flags = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
	u.flags = 0;
	u.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
	u.__reserved = 0;
	u.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
	u.len = HM_PAGE;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
	u.fd = self->notbuf;
	EXPECT_EQ(-ENODEV, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
}

/*
 * A map is found by the buffer, never by the fd number: after the fd is
 * closed and its number reused by another buffer, the old map is not hit.
 */
TEST_F(abi, recycled_fd_never_hits_stale_map)
{
	struct hapmem_dma_handle_map m = { .len = HM_PAGE };
	struct hapmem_dma_handle_unmap u = { .len = HM_PAGE };
	int a, b;

	a = hm_alloc(self->fd, HM_PAGE, 0);
	ASSERT_LE(0, a);
	m.fd = a;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &m));
	close(a);
	b = hm_alloc(self->fd, HM_PAGE, 0);
	ASSERT_EQ(a, b);
	u.fd = b;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &u));
	close(b);
	/* The map still holds the first buffer; closing the session frees it. */
}

TEST_F(abi, remote_access_invalid)
{
	struct hapmem_request_map rm;
	unsigned char b[64];
	struct hapmem_remote_access a = { .len = 16, .uptr = (uintptr_t)b };

	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm));
	a.vadsp = rm.vadsp;
	a.flags = 1U << 5;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	a.flags = 0;
	a.__reserved = 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	a.__reserved = 0;
	a.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	a.len = HAPMEM_ACCESS_MAX_LEN + 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	a.len = 16;
	a.vadsp = ~0ULL - 4;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	/* Outside the session's maps: just past the end, and straddling it. */
	a.vadsp = rm.vadsp + HM_PAGE;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	a.vadsp = rm.vadsp + HM_PAGE - 8;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	if (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
		a.vadsp = rm.vadsp;
		a.uptr = 16;
		EXPECT_EQ(-EFAULT, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &a));
	}
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
}

TEST_F(abi, reserve_va_invalid)
{
	struct hapmem_reserve_va r = { .len = HM_SZ_1M, .flags = 1U << 4 };
	struct hapmem_unreserve_va u = { 0 };

	if (!(self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA)) {
		r.flags = 0;
		EXPECT_EQ(-EOPNOTSUPP, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
		SKIP(return, "no IOMMU: no reservations");
	}
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	r.flags = HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	r.flags = 0;
	r.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	r.len = 5000;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	r.len = HM_SZ_1M;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));

	u.flags = 1;
	u.vadsp = r.vadsp;
	u.len = r.len;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	u.flags = 0;
	u.len = 0;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	u.len = HM_PAGE;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	u.len = r.len;
	u.vadsp = r.vadsp + HM_PAGE;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	u.vadsp = r.vadsp;
	EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
}

TEST_F(abi, nop_invalid)
{
	struct hapmem_nop n = { .flags = 1 };

	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_NOP, &n));
}

/* A 32-bit request that cannot fit below 4 GiB gets ENOSPC. */
TEST_F(abi, va32_exhausted_enospc)
{
	struct hapmem_reserve_va r = { .flags = HAPMEM_MAP_VA32 };
	struct hapmem_reserve_va more = { .flags = HAPMEM_MAP_VA32, .len = HM_SZ_2M };
	struct hapmem_request_map rm;
	uint64_t window = self->info.va32_end - self->info.va32_start;
	int ret;

	if (!(self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA))
		SKIP(return, "no IOMMU: the DMA API picks addresses");
	/* More than sessions may reserve by default (teardown restores). */
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 1ULL << 33));
	ASSERT_EQ(0, hm_write_param("max_global_reserved_bytes", 1ULL << 33));
	/* And more than a session's or a user's share of the window. */
	ASSERT_EQ(0, hm_write_param("max_session_va32_bytes", 1ULL << 33));
	ASSERT_EQ(0, hm_write_param("max_user_va32_bytes", 1ULL << 33));
	/* Take the largest 32-bit range left, halving until one fits. */
	for (r.len = window & ~(HM_SZ_2M - 1); r.len >= HM_SZ_2M; r.len /= 2)
		if (!hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r))
			break;
	ASSERT_LE(HM_SZ_2M, r.len);
	/* Keep reserving until the 32-bit window is full at 2 MiB grain. */
	while (!(ret = hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &more)))
		;
	ASSERT_EQ(-ENOSPC, ret);
	EXPECT_EQ(-ENOSPC, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0,
				      4 * HM_SZ_2M, &rm));
	/* The whole window may still go high. */
	if (self->info.va64_end) {
		ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, 4 * HM_SZ_2M, &rm));
		EXPECT_LE(1ULL << 32, rm.vadsp);
		EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
				      4 * HM_SZ_2M));
	}
	/* Closing the session drops the reservations (checked by teardown). */
	close(self->fd);
	self->fd = hm_open();
	ASSERT_LE(0, self->fd);
}

TEST_F(abi, limits_edquot)
{
	struct hapmem_request_map rm[4];
	int i;

	ASSERT_EQ(0, hm_write_param("max_session_maps", 3));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm[i]));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, HM_PAGE, &rm[3]));
	EXPECT_EQ(-EDQUOT, hm_share(self->fd, self->buf, 0, HM_PAGE, 0, NULL));
	ASSERT_EQ(0, hm_write_param("max_session_maps", 65536));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP,
				      rm[i].vadsp, HM_PAGE));

	/* The fixture's buffers count: the session allocated them. */
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
	ASSERT_EQ(0, hm_write_param("max_session_bytes",
				    self->info.session_bytes + 8 * HM_PAGE));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, 9 * HM_PAGE, &rm[0]));
	ASSERT_EQ(0, hm_request(self->fd, 0, 0, 0, 0, 6 * HM_PAGE, &rm[0]));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, 4 * HM_PAGE, &rm[1]));
	ASSERT_EQ(0, hm_write_param("max_session_bytes", 1ULL << 32));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm[0].vadsp,
			      6 * HM_PAGE));

	ASSERT_EQ(0, hm_write_param("max_global_bytes", 4 * HM_PAGE));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, 5 * HM_PAGE, &rm[0]));
	ASSERT_EQ(0, hm_write_param("max_global_bytes", 16ULL << 30));
}

/*
 * Reservations hold address space, not memory, so they have their own
 * bound in bytes (max_session_reserved_bytes) and in number
 * (max_session_maps); a refused one leaves the count as it was, and an
 * unreserve gives its share back.  Another session has a quota of its
 * own, and all sessions together one more (max_global_reserved_bytes).
 */
TEST_F(abi, reserve_va_quota)
{
	struct hapmem_reserve_va r = { .len = 9 * HM_PAGE };
	struct hapmem_reserve_va r2 = { .len = 8 * HM_PAGE };
	struct hapmem_unreserve_va u = { 0 };
	uint64_t va[3];
	int fd2, i;

	if (!(self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA))
		SKIP(return, "no IOMMU: no reservations");
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 8 * HM_PAGE));
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	r.len = 4 * HM_PAGE;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	va[0] = r.vadsp;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	va[1] = r.vadsp;
	r.len = HM_PAGE;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	fd2 = hm_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r2));
	/* all sessions together: 16 pages reserved, a bound of 17 */
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 1ULL << 30));
	ASSERT_EQ(0, hm_write_param("max_global_reserved_bytes", 17 * HM_PAGE));
	r2.len = 2 * HM_PAGE;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r2));
	r2.len = HM_PAGE;
	EXPECT_EQ(0, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r2));
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r2));
	/* closing a session gives its share back */
	close(fd2);
	r2.len = 8 * HM_PAGE;
	fd2 = hm_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r2));
	close(fd2);
	ASSERT_EQ(0, hm_write_param("max_global_reserved_bytes", 2ULL << 30));
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 8 * HM_PAGE));
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	u.vadsp = va[1];
	u.len = 4 * HM_PAGE;
	EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	u.vadsp = r.vadsp;
	u.len = HM_PAGE;
	EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 1ULL << 30));

	/* va[0] is one reservation: a limit of 2 admits one more */
	ASSERT_EQ(0, hm_write_param("max_session_maps", 2));
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	va[1] = r.vadsp;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	ASSERT_EQ(0, hm_write_param("max_session_maps", 65536));
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &r));
	va[2] = r.vadsp;
	for (i = 0; i < 3; i++) {
		u.vadsp = va[i];
		u.len = i ? HM_PAGE : 4 * HM_PAGE;
		EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &u));
	}
}

TEST_HARNESS_MAIN
