// SPDX-License-Identifier: GPL-2.0-only
/*
 * Information leaks and overflow edges not covered by driver_abi.c and
 * driver_rflags.c:
 * - every ioctl with outputs, called with its struct pre-filled with 0xFF:
 *   on success every byte the kernel returns is defined (reserved members
 *   and padding 0, outputs plausible); on failure not one byte changes,
 *   whether the call failed at its first check or after partial work (a
 *   buffer looked up, a quota charged, a range searched); the failures
 *   of every allocation inside each ioctl are rel_sweep_failnth.c's;
 * - every new buffer is zero, at many sizes (odd page counts, around the
 *   64 KiB and 2 MiB chunk sizes), through every way of getting one
 *   (alloc, request_map with an fd, HLOS_FD, LLC), after the same sizes
 *   were dirtied and freed;
 * - size and offset arithmetic at the overflow edges, each with its errno.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "rel_test.h"

FIXTURE(sec) {
	int fd;
	struct hapmem_info info;
};

FIXTURE_SETUP(sec)
{
	self->fd = hm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, hm_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(sec)
{
	close(self->fd);
	EXPECT_TRUE(hm_idle(NULL));
}

/* Pre-fill with 0xFF, then set the inputs. */
#define PREP(x) memset(&(x), 0xff, sizeof(x))

TEST_F(sec, outputs_fully_defined)
{
	struct hapmem_info info;
	struct hapmem_alloc al;
	struct hapmem_request_map rm;
	struct hapmem_share_map sm;
	struct hapmem_dma_handle_map dm;
	struct hapmem_dma_handle_unmap du;
	struct hapmem_reserve_va rv;
	int buf;

	PREP(info);
	info.flags = 0;
	info.remote = HAPMEM_INFO_SELF;
	info.__reserved = 0;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &info));
	EXPECT_EQ(0, info.__reserved);
	EXPECT_TRUE(memchr(info.name, 0, sizeof(info.name)) != NULL);
	/* Every byte after the name's NUL is zero: no stack bytes. */
	EXPECT_TRUE(hm_all_zero(info.name + strlen(info.name),
				sizeof(info.name) - strlen(info.name)));
	EXPECT_GT(info.num_remotes, info.remote_index);
	EXPECT_NE(~0ULL, info.llc_used);
	EXPECT_NE(~0ULL, info.global_reservations);

	PREP(al);
	al.flags = 0;
	al.len = HM_PAGE;
	al.__reserved = 0;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &al));
	EXPECT_EQ(0, al.__reserved);
	EXPECT_LE(0, al.fd);
	buf = al.fd;

	/* Every request_map flavour: plain, HEAP_ADDR, HLOS_FD. */
	for (uint32_t rf = 0; rf < 3; rf++) {
		static const uint32_t flags[] = { 0, HAPMEM_RFLAG_HEAP_ADDR, HAPMEM_RFLAG_HLOS_FD };

		PREP(rm);
		rm.flags = HAPMEM_REQUEST_FD;
		rm.heap_id = 0;
		rm.ion_flags = 0;
		rm.rflags = flags[rf];
		rm.__reserved = 0;
		rm.vin = 0;
		rm.len = HM_PAGE;
		rm.__reserved2 = 0;
		ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_REQUEST_MAP, &rm)) TH_LOG("rflags %#x", flags[rf]);
		EXPECT_EQ(0, rm.__reserved2);
		EXPECT_EQ(0, rm.chunks.__reserved);
		EXPECT_LE(0, rm.fd);
		if (flags[rf] == HAPMEM_RFLAG_HLOS_FD) {
			EXPECT_EQ(0, rm.vadsp);
			EXPECT_EQ(0, rm.chunks.n_4k + rm.chunks.n_64k + rm.chunks.n_2m);
		} else {
			EXPECT_NE(0, rm.vadsp);
			EXPECT_EQ(1, rm.chunks.n_4k + rm.chunks.n_64k + rm.chunks.n_2m);
			EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
		}
		close(rm.fd);
	}

	PREP(sm);
	sm.flags = 0;
	sm.fd = buf;
	sm.__reserved = 0;
	sm.offset = 0;
	sm.len = 0;
	sm.vadsp = 0;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	EXPECT_EQ(0, sm.__reserved);
	EXPECT_EQ(HM_PAGE, sm.len);
	EXPECT_EQ(0, sm.chunks.__reserved);
	EXPECT_EQ(1, sm.chunks.n_4k + sm.chunks.n_64k + sm.chunks.n_2m);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, sm.vadsp, HM_PAGE));

	PREP(dm);
	dm.flags = 0;
	dm.fd = buf;
	dm.__reserved = 0;
	dm.offset = 0;
	dm.len = HM_PAGE;
	dm.__reserved2 = 0;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	EXPECT_EQ(1, dm.refs);
	EXPECT_EQ(0, dm.__reserved2);
	EXPECT_EQ(0, dm.chunks.__reserved);
	EXPECT_EQ(1, dm.chunks.n_4k + dm.chunks.n_64k + dm.chunks.n_2m);

	PREP(du);
	du.flags = 0;
	du.fd = buf;
	du.__reserved = 0;
	du.len = HM_PAGE;
	du.__reserved2 = 0;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	EXPECT_EQ(0, du.refs);
	EXPECT_EQ(0, du.__reserved2);

	if (self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA) {
		PREP(rv);
		rv.flags = 0;
		rv.len = HM_SZ_1M;
		ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &rv));
		EXPECT_NE(~0ULL, rv.vadsp);
		EXPECT_EQ(0, rv.vadsp & (HM_PAGE - 1));
		struct hapmem_unreserve_va uv = { .vadsp = rv.vadsp, .len = HM_SZ_1M };

		EXPECT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &uv));
	}
	if (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
		struct hapmem_remote_access ra;
		unsigned char data[16];
		uint64_t v = 0;

		ASSERT_EQ(0, hm_share(self->fd, buf, 0, 0, 0, &v));
		PREP(ra);
		ra.flags = 0;
		ra.vadsp = v;
		ra.len = sizeof(data);
		ra.uptr = (uintptr_t)data;
		ra.__reserved = 0;
		ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &ra));
		EXPECT_EQ(0, ra.faults);
		EXPECT_EQ(0, ra.__reserved);
		EXPECT_TRUE(hm_all_zero(data, sizeof(data)));
		EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, v, HM_PAGE));
	}
	close(buf);
}

/* A failed call writes nothing back. */
TEST_F(sec, failures_write_nothing)
{
	struct {
		unsigned long req;
		size_t size;
	} calls[] = {
		{ HAPMEM_IOC_INFO, sizeof(struct hapmem_info) },
		{ HAPMEM_IOC_ALLOC, sizeof(struct hapmem_alloc) },
		{ HAPMEM_IOC_REQUEST_MAP, sizeof(struct hapmem_request_map) },
		{ HAPMEM_IOC_SHARE_MAP, sizeof(struct hapmem_share_map) },
		{ HAPMEM_IOC_DMA_HANDLE_MAP, sizeof(struct hapmem_dma_handle_map) },
		{ HAPMEM_IOC_DMA_HANDLE_UNMAP, sizeof(struct hapmem_dma_handle_unmap) },
		{ HAPMEM_IOC_REMOTE_ACCESS, sizeof(struct hapmem_remote_access) },
		{ HAPMEM_IOC_RESERVE_VA, sizeof(struct hapmem_reserve_va) },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		unsigned char a[256], before[256];
		uint32_t size = calls[i].size;

		/* All 0xFF: flags full of unknown bits, so EINVAL everywhere. */
		memset(a, 0xff, sizeof(a));
		memcpy(a, &size, sizeof(size));
		memcpy(before, a, sizeof(a));
		EXPECT_EQ(-1, ioctl(self->fd, calls[i].req, a)) TH_LOG("ioctl %zu", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("ioctl %zu", i);
		EXPECT_EQ(0, memcmp(a, before, sizeof(a))) TH_LOG("ioctl %zu wrote on failure", i);
	}
}

/*
 * Valid arguments that fail late, after the driver has done part of the
 * work; every output member holds a sentinel that must survive.
 */
#define SENT32 0x5a5a5a5aU
#define SENT64 0x5a5a5a5a5a5a5a5aULL

static void late_failure(struct __test_metadata *_metadata, int fd,
			 const char *what, unsigned long req, void *arg,
			 size_t size, int want)
{
	unsigned char before[512];

	ASSERT_GE(sizeof(before), size);
	*(uint32_t *)arg = size;
	memcpy(before, arg, size);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, req, arg)) TH_LOG("%s succeeded", what);
	EXPECT_EQ(want, errno) TH_LOG("%s: %s", what, strerror(errno));
	EXPECT_EQ(0, memcmp(arg, before, size)) TH_LOG("%s wrote on failure", what);
}

TEST_F(sec, late_failures_write_nothing)
{
	int buf = hm_alloc(self->fd, 2 * HM_PAGE, 0);
	struct hapmem_info before, info;

	ASSERT_LE(0, buf);
	/* The buffer counts in the session's bytes while it lives. */
	ASSERT_EQ(0, hm_info(self->fd, &before));
	EXPECT_EQ(2 * HM_PAGE, before.session_bytes);
	{	/* Beyond the session's byte limit: refused when charged. */
		struct hapmem_alloc a = { .len = 1ULL << 50, .fd = (int)SENT32 };

		late_failure(_metadata, self->fd, "alloc", HAPMEM_IOC_ALLOC, &a,
			     sizeof(a), EDQUOT);
	}
	{
		struct hapmem_request_map r = {
			.len = 1ULL << 50, .vadsp = SENT64, .fd = (int)SENT32,
		};

		memset(&r.chunks, 0x5a, sizeof(r.chunks));
		late_failure(_metadata, self->fd, "request_map",
			     HAPMEM_IOC_REQUEST_MAP, &r, sizeof(r), EDQUOT);
	}
	{	/* The buffer is looked up, then the range is refused. */
		struct hapmem_share_map m = { .fd = buf, .offset = HM_PAGE, .len = 2 * HM_PAGE };

		memset(&m.chunks, 0x5a, sizeof(m.chunks));
		late_failure(_metadata, self->fd, "share_map past the end",
			     HAPMEM_IOC_SHARE_MAP, &m, sizeof(m), EINVAL);
	}
	if (self->info.remote_flags & HAPMEM_REMOTE_IOMMU) {
		/* A fixed address outside every reservation of the session. */
		struct hapmem_share_map m = {
			.fd = buf, .len = HM_PAGE, .flags = HAPMEM_MAP_FIXED,
			.vadsp = 0x40000000,
		};

		memset(&m.chunks, 0x5a, sizeof(m.chunks));
		late_failure(_metadata, self->fd, "share_map fixed unreserved",
			     HAPMEM_IOC_SHARE_MAP, &m, sizeof(m), ENOENT);
	}
	{
		struct hapmem_dma_handle_map m = {
			.fd = buf, .len = 4 * HM_PAGE, .vadsp = SENT64, .refs = SENT32,
		};

		memset(&m.chunks, 0x5a, sizeof(m.chunks));
		late_failure(_metadata, self->fd, "dma_handle_map past the end",
			     HAPMEM_IOC_DMA_HANDLE_MAP, &m, sizeof(m), EINVAL);
	}
	{	/* The answer is checked before the lookup finds nothing. */
		struct hapmem_dma_handle_unmap u = {
			.fd = buf, .len = HM_PAGE, .refs = SENT32,
		};

		late_failure(_metadata, self->fd, "dma_handle_unmap of nothing",
			     HAPMEM_IOC_DMA_HANDLE_UNMAP, &u, sizeof(u), ENOENT);
	}
	{
		struct hapmem_unmap u = { .vadsp = 0x40000000, .len = HM_PAGE };

		late_failure(_metadata, self->fd, "request_unmap of nothing",
			     HAPMEM_IOC_REQUEST_UNMAP, &u, sizeof(u), ENOENT);
		late_failure(_metadata, self->fd, "share_unmap of nothing",
			     HAPMEM_IOC_SHARE_UNMAP, &u, sizeof(u), ENOENT);
	}
	if (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
		unsigned char data[16];
		struct hapmem_remote_access ra = {
			.vadsp = 0x40000000, .len = sizeof(data),
			.uptr = (uintptr_t)data, .faults = SENT32,
		};

		late_failure(_metadata, self->fd, "remote_access unmapped",
			     HAPMEM_IOC_REMOTE_ACCESS, &ra, sizeof(ra), ENOENT);
	}
	if (self->info.remote_flags & HAPMEM_REMOTE_IOMMU) {
		struct hapmem_reserve_va r = { .len = 1ULL << 40, .vadsp = SENT64 };
		struct hapmem_unreserve_va u = { .vadsp = 0x40000000, .len = HM_SZ_1M };

		late_failure(_metadata, self->fd, "reserve_va beyond the bound",
			     HAPMEM_IOC_RESERVE_VA, &r, sizeof(r), EDQUOT);
		late_failure(_metadata, self->fd, "unreserve_va of nothing",
			     HAPMEM_IOC_UNRESERVE_VA, &u, sizeof(u), ENOENT);
	}
	/* Nothing of the failed calls stayed charged. */
	ASSERT_EQ(0, hm_info(self->fd, &info));
	EXPECT_EQ(0, info.session_maps);
	EXPECT_EQ(before.session_bytes, info.session_bytes);
	close(buf);
}

static int check_zero_fd(int fd, uint64_t len)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = hm_all_zero(p, len) ? 0 : -EILSEQ;
	/* Dirty it for the next one. */
	memset(p, 0xa5, len);
	munmap(p, len);
	return ret;
}

TEST_F_TIMEOUT(sec, new_buffers_zero_at_every_size, 300)
{
	static const uint64_t sizes[] = {
		1, HM_PAGE, 2 * HM_PAGE, 3 * HM_PAGE, 5 * HM_PAGE, 15 * HM_PAGE,
		16 * HM_PAGE, 17 * HM_PAGE, 33 * HM_PAGE, 127 * HM_PAGE,
		HM_SZ_1M + HM_PAGE, HM_SZ_2M - HM_PAGE, HM_SZ_2M, HM_SZ_2M + 17 * HM_PAGE,
		3 * HM_SZ_1M + 3 * HM_PAGE,
	};
	unsigned int checked = 0;

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint64_t len = (sizes[i] + HM_PAGE - 1) & ~(HM_PAGE - 1);
			struct hapmem_request_map rm;
			int fd;

			fd = hm_alloc(self->fd, sizes[i], i & 1);
			ASSERT_LE(0, fd);
			EXPECT_EQ(0, check_zero_fd(fd, len)) TH_LOG("alloc %#llx",
								    (unsigned long long)sizes[i]);
			close(fd);

			ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, i & 1, 0, 0, sizes[i], &rm));
			EXPECT_EQ(0, check_zero_fd(rm.fd, len)) TH_LOG("request_map %#llx",
								       (unsigned long long)sizes[i]);
			EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
			close(rm.fd);

			ASSERT_EQ(0, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, sizes[i], &rm));
			EXPECT_EQ(0, check_zero_fd(rm.fd, len)) TH_LOG("hlos_fd %#llx",
								       (unsigned long long)sizes[i]);
			close(rm.fd);

			if (!geteuid() && len <= self->info.llc_total - self->info.llc_used) {
				ASSERT_EQ(0, hm_request(self->fd, HAPMEM_REQUEST_FD, 0,
							HAPMEM_RFLAG_ADD_PAGES_LLC, 0, sizes[i], &rm));
				EXPECT_EQ(0, check_zero_fd(rm.fd, len)) TH_LOG("llc %#llx",
									       (unsigned long long)sizes[i]);
				EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
				close(rm.fd);
				checked++;
			}
			checked += 3;
		}
	}
	TH_LOG("%u new buffers checked zero after the same sizes were dirtied", checked);
}

TEST_F(sec, overflow_edges)
{
	const uint64_t top = ~0ULL & ~(HM_PAGE - 1);
	struct hapmem_request_map rm;
	struct hapmem_alloc al = { .len = ~0ULL - 1 };
	struct hapmem_share_map sm;
	struct hapmem_dma_handle_map dm;
	struct hapmem_remote_access ra;
	struct hapmem_reserve_va rv;
	struct hapmem_dma_handle_unmap du = {};
	struct hapmem_unreserve_va uv = {};
	int buf = hm_alloc(self->fd, 4 * HM_PAGE, 0);
	unsigned char data[16];

	ASSERT_LE(0, buf);
	/* PAGE_ALIGN(len) would wrap to 0. */
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &al));
	al.len = ~0ULL - HM_PAGE + 2;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_ALLOC, &al));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, ~0ULL, &rm));
	EXPECT_EQ(-EDQUOT, hm_request(self->fd, 0, 0, 0, 0, 1ULL << 63, &rm));
	/* The 32-bit call: len must stay below 2^31. */
	EXPECT_EQ(-EINVAL, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0, 1ULL << 31, &rm));
	EXPECT_EQ(-EINVAL, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0, 1ULL << 32, &rm));
	/* vin + len wrapping, or beyond the user address space. */
	EXPECT_EQ(-EINVAL, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, top, 2 * HM_PAGE, &rm));
#if defined(__x86_64__)
	/* Just past x86_64's user address space (4-level paging, no5lvl). */
	EXPECT_EQ(-EINVAL, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, 1ULL << 47,
				      HM_PAGE, &rm));
#endif
	/* Past every architecture's (arm64's reaches 2^48 or 2^52). */
	EXPECT_EQ(-EINVAL, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, 1ULL << 60,
				      HM_PAGE, &rm));
	EXPECT_EQ(-EINVAL, hm_request(self->fd, 0, 0, HAPMEM_RFLAG_ADD_PAGES, HM_PAGE, top, &rm));

	/* offset + len wrapping around the buffer. */
	memset(&sm, 0, sizeof(sm));
	sm.fd = buf;
	sm.offset = top;
	sm.len = 2 * HM_PAGE;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	sm.offset = HM_PAGE;
	sm.len = top;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	sm.offset = top;
	sm.len = 0;	/* to the end: offset past the end */
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	sm.offset = 4 * HM_PAGE;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	if (self->info.remote_flags & HAPMEM_REMOTE_FIXED_VA) {
		sm.offset = 0;
		sm.len = 2 * HM_PAGE;
		sm.flags = HAPMEM_MAP_FIXED;
		sm.vadsp = top;	/* vadsp + len wraps */
		EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
		sm.vadsp = top - HM_PAGE;
		EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_SHARE_MAP, &sm));
	}

	memset(&dm, 0, sizeof(dm));
	dm.fd = buf;
	dm.offset = top;
	dm.len = 2 * HM_PAGE;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	dm.offset = 2 * HM_PAGE;
	dm.len = top;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));

	/* Unmaps: lengths whose page rounding would wrap. */
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, HM_SZ_1M, ~0ULL));
	EXPECT_EQ(-EINVAL, hm_unmap(self->fd, HAPMEM_IOC_SHARE_UNMAP, HM_SZ_1M, ~0ULL - 100));
	du.fd = buf;
	du.len = ~0ULL;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));

	/* vadsp + len wrapping in a remote access. */
	memset(&ra, 0, sizeof(ra));
	ra.vadsp = ~0ULL - 8;
	ra.len = sizeof(data);
	ra.uptr = (uintptr_t)data;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &ra));
	ra.vadsp = HM_SZ_1M;
	ra.len = (uint64_t)HAPMEM_ACCESS_MAX_LEN + 1;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &ra));
	ra.len = 1ULL << 63;
	EXPECT_EQ(-EINVAL, hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &ra));
	/*
	 * A raw access that ends exactly at the top of the address space: the
	 * engine's page walk once wrapped there and spun forever (found by
	 * rel_fuzz).  It must finish, and report the pages as refused.
	 */
	if (!geteuid() && (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) &&
	    (self->info.remote_flags & HAPMEM_REMOTE_IOMMU)) {
		int ret;

		ra.flags = HAPMEM_ACCESS_RAW;
		ra.vadsp = ~0ULL - sizeof(data);
		ra.len = sizeof(data);
		ret = hm_test_ioctl(self->fd, HAPMEM_IOC_REMOTE_ACCESS, &ra);
		EXPECT_TRUE(ret == 0 || ret == -EIO) TH_LOG("%s", strerror(-ret));
		if (!ret)
			EXPECT_EQ(1, ra.faults);
		ra.flags = 0;
	}

	memset(&rv, 0, sizeof(rv));
	rv.len = top;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &rv));
	rv.len = 1ULL << 63;
	EXPECT_EQ(-EDQUOT, hm_test_ioctl(self->fd, HAPMEM_IOC_RESERVE_VA, &rv));
	uv.vadsp = top;
	uv.len = ~0ULL;
	EXPECT_EQ(-ENOENT, hm_test_ioctl(self->fd, HAPMEM_IOC_UNRESERVE_VA, &uv));
	close(buf);
}

TEST_HARNESS_MAIN
