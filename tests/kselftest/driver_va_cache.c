// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session's cache of freed device address ranges (driver/va.c): a
 * small map's range is kept after its unmap for the session's next map of
 * the same size.  The device must fault on a cached range exactly as on a
 * free one, a reused range must hold fresh zeroed memory, the cache is
 * bounded, belongs to one session of one remote, and is empty again once
 * the session is closed.  When the 32-bit window has no room left, every
 * session's cached ranges go back to it before a map or a reservation is
 * refused.  The
 * count of cached ranges is read from the driver's debugfs counters.
 */
#include "kselftest_harness.h"
#include "hapmem_test.h"

#define HM_COUNTERS "/sys/kernel/debug/hapmem/counters"
/* driver/hapmem.h: ranges kept per size, pages kept in all */
#define HM_CACHE_DEPTH 8
#define HM_CACHE_PAGES 64

/* The driver's count of cached ranges, or -1 when it cannot be read. */
static long long hm_va_cached(void)
{
	FILE *f = fopen(HM_COUNTERS, "r");
	long long v = -1, n;
	char key[32];

	if (!f)
		return -1;
	while (fscanf(f, "%31s %lld", key, &n) == 2)
		if (!strcmp(key, "va_cached"))
			v = n;
	fclose(f);
	return v;
}

HM_SESSION_FIXTURE(vacache)

#define HM_REQUIRE_IOMMU(info)						\
	do {								\
		if (!((info).remote_flags & HAPMEM_REMOTE_IOMMU))	\
			SKIP(return, "no IOMMU: device addresses are the DMA API's"); \
	} while (0)

#define HM_REQUIRE_COUNTERS()						\
	do {								\
		if (hm_va_cached() < 0)					\
			SKIP(return, "cannot read " HM_COUNTERS);	\
	} while (0)

static uint64_t map_or_fail(struct __test_metadata *_metadata, int fd,
			    uint64_t len)
{
	struct hapmem_request_map rm;

	EXPECT_EQ(0, hm_request(fd, 0, 0, 0, 0, len, &rm));
	EXPECT_EQ(-1, rm.fd);
	return rm.vadsp;
}

/* A raw device read at @vadsp faults: nothing is mapped there. */
static void expect_fault(struct __test_metadata *_metadata, int fd,
			 uint64_t vadsp, unsigned int seed)
{
	unsigned char buf[HM_XFER];
	uint32_t faults = 0;

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, hm_remote(fd, vadsp, buf, HM_XFER, HAPMEM_ACCESS_RAW,
			       &faults));
	EXPECT_LT(0, faults);
	/* The device got none of what the old map held. */
	EXPECT_LT(HM_XFER / 2, hm_check(buf, HM_XFER, seed));
}

/*
 * Map, let the device write, unmap: the range is cached, and the device
 * faults there.  The next map of the size takes the range back, holds
 * zeroes (new memory, not the old map's), and after its unmap the device
 * faults there again.  A stale address of the first map therefore never
 * reaches memory it is not meant to.
 */
TEST_F(vacache, reused_range_faults_after_unmap_and_holds_new_memory)
{
	unsigned char buf[HM_XFER];
	long long before = hm_va_cached();
	uint64_t a, b;

	HM_REQUIRE_ENGINE(self->info);
	HM_REQUIRE_IOMMU(self->info);
	a = map_or_fail(_metadata, self->fd, HM_PAGE);
	hm_fill(buf, HM_XFER, 71);
	ASSERT_EQ(0, hm_remote_write(self->fd, a, buf, HM_XFER));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a, HM_PAGE));
	if (before >= 0)
		EXPECT_EQ(before + 1, hm_va_cached());
	/* Without RAW the driver refuses: the range is no map of ours. */
	EXPECT_EQ(-ENOENT, hm_remote_read(self->fd, a, buf, HM_XFER));
	expect_fault(_metadata, self->fd, a, 71);

	b = map_or_fail(_metadata, self->fd, HM_PAGE);
	EXPECT_EQ(a, b);
	if (before >= 0)
		EXPECT_EQ(before, hm_va_cached());
	memset(buf, 0xff, sizeof(buf));
	ASSERT_EQ(0, hm_remote_read(self->fd, b, buf, HM_XFER));
	EXPECT_TRUE(hm_all_zero(buf, HM_XFER));
	hm_fill(buf, HM_XFER, 72);
	ASSERT_EQ(0, hm_remote_write(self->fd, b, buf, HM_XFER));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, b, HM_PAGE));
	expect_fault(_metadata, self->fd, a, 72);
}

/* A cached range is taken only by a map of exactly its size. */
TEST_F(vacache, other_sizes_do_not_take_a_cached_range)
{
	uint64_t a, b, c;

	HM_REQUIRE_IOMMU(self->info);
	a = map_or_fail(_metadata, self->fd, 2 * HM_PAGE);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a,
			      2 * HM_PAGE));
	b = map_or_fail(_metadata, self->fd, HM_PAGE);
	c = map_or_fail(_metadata, self->fd, 3 * HM_PAGE);
	EXPECT_FALSE(b >= a && b < a + 2 * HM_PAGE);
	EXPECT_FALSE(c < a + 2 * HM_PAGE && a < c + 3 * HM_PAGE);
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, b, HM_PAGE));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, c,
			      3 * HM_PAGE));
	EXPECT_EQ(a, map_or_fail(_metadata, self->fd, 2 * HM_PAGE));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a,
			      2 * HM_PAGE));
}

/*
 * Bounded: a few ranges per size and a few pages in all; the rest go back
 * to the address space at once.  Closing the session gives back the ones
 * it kept.
 */
TEST_F(vacache, bounded_and_emptied_on_close)
{
	enum { N4K = 3 * HM_CACHE_DEPTH, N64K = HM_CACHE_DEPTH };
	uint64_t small[N4K], big[N64K];
	long long before, cached;
	int fd, i;

	HM_REQUIRE_IOMMU(self->info);
	HM_REQUIRE_COUNTERS();
	fd = hm_open();
	ASSERT_LE(0, fd);
	before = hm_va_cached();
	for (i = 0; i < N4K; i++)
		small[i] = map_or_fail(_metadata, fd, HM_PAGE);
	for (i = 0; i < N64K; i++)
		big[i] = map_or_fail(_metadata, fd, 16 * HM_PAGE);
	EXPECT_EQ(before, hm_va_cached());
	for (i = 0; i < N4K; i++)
		EXPECT_EQ(0, hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, small[i],
				      HM_PAGE));
	cached = hm_va_cached() - before;
	EXPECT_EQ(HM_CACHE_DEPTH, cached);
	for (i = 0; i < N64K; i++)
		EXPECT_EQ(0, hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, big[i],
				      16 * HM_PAGE));
	/* 8 one-page ranges, then as many 16-page ones as the pages allow */
	EXPECT_EQ(HM_CACHE_DEPTH + (HM_CACHE_PAGES - HM_CACHE_DEPTH) / 16,
		  hm_va_cached() - before);
	close(fd);
	EXPECT_EQ(before, hm_va_cached());
}

/*
 * Another session's cached range stays out of reach: a second session's
 * map does not land on it, and only the owner takes it back.  Sessions on
 * another remote have an address space of their own, and closing one
 * empties its cache only.
 */
TEST_F(vacache, isolated_between_sessions_and_remotes)
{
	struct hapmem_info other;
	long long before, mid;
	uint64_t a, b, c;
	char path[64];
	int fd2;

	HM_REQUIRE_IOMMU(self->info);
	a = map_or_fail(_metadata, self->fd, HM_PAGE);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a, HM_PAGE));
	fd2 = hm_open();
	ASSERT_LE(0, fd2);
	b = map_or_fail(_metadata, fd2, HM_PAGE);
	EXPECT_NE(a, b);
	EXPECT_EQ(0, hm_unmap(fd2, HAPMEM_IOC_REQUEST_UNMAP, b, HM_PAGE));
	/* The second session cannot unmap or reach the first one's range. */
	EXPECT_EQ(-ENOENT, hm_unmap(fd2, HAPMEM_IOC_REQUEST_UNMAP, a, HM_PAGE));
	c = map_or_fail(_metadata, self->fd, HM_PAGE);
	EXPECT_EQ(a, c);
	EXPECT_EQ(-ENOENT, hm_unmap(fd2, HAPMEM_IOC_REQUEST_UNMAP, c, HM_PAGE));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, c, HM_PAGE));
	close(fd2);

	if (self->info.num_remotes < 2)
		SKIP(return, "one remote only (tests/vm/run --remotes 2)");
	HM_REQUIRE_COUNTERS();
	memset(&other, 0, sizeof(other));
	other.remote = self->info.remote_index ? 0 : 1;
	ASSERT_EQ(0, hm_test_ioctl(self->fd, HAPMEM_IOC_INFO, &other));
	if (!(other.remote_flags & HAPMEM_REMOTE_IOMMU))
		SKIP(return, "remote %s has no IOMMU", other.name);
	snprintf(path, sizeof(path), "/dev/hapmem-%s", other.name);
	fd2 = hm_open_dev(path);
	ASSERT_LE(0, fd2);
	before = hm_va_cached();
	b = map_or_fail(_metadata, fd2, HM_PAGE);
	EXPECT_EQ(0, hm_unmap(fd2, HAPMEM_IOC_REQUEST_UNMAP, b, HM_PAGE));
	mid = hm_va_cached();
	EXPECT_EQ(before + 1, mid);
	/* This session's cache (one range, a) is untouched by the other. */
	EXPECT_EQ(a, map_or_fail(_metadata, self->fd, HM_PAGE));
	EXPECT_EQ(mid - 1, hm_va_cached());
	close(fd2);
	EXPECT_EQ(mid - 2, hm_va_cached());
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a, HM_PAGE));
	EXPECT_EQ(mid - 1, hm_va_cached());
}

/* Reserve (no memory) every free range of the 32-bit window; how many. */
static int fill_window32(struct __test_metadata *_metadata, int fd,
			 uint64_t *resv, uint64_t *resv_len, int max)
{
	uint64_t len = 1ULL << 31;
	int n = 0;

	while (len >= HM_PAGE && n < max) {
		struct hapmem_reserve_va r = { .flags = HAPMEM_MAP_VA32,
					       .len = len };
		int ret = hm_test_ioctl(fd, HAPMEM_IOC_RESERVE_VA, &r);

		if (ret == -ENOSPC) {
			len >>= 1;
			continue;
		}
		EXPECT_EQ(0, ret);
		if (ret)
			break;
		resv[n] = r.vadsp;
		resv_len[n++] = len;
	}
	EXPECT_LT(n, max);
	return n;
}

/*
 * Ranges in any session's cache go back to a full 32-bit window.  This
 * session maps three 4 KiB pages (two adjacent); a second session fills
 * the rest of the window with reservations; this one unmaps the pages, so
 * they sit in its cache and the window has no free range.  The second
 * session's 8 KiB 32-bit map then empties the cache, the two adjacent
 * ranges merge and the map lands there (and the device reads and writes
 * it); its 4 KiB reservation takes the third range; then nothing is left.
 */
TEST_F(vacache, window_full_empties_every_cache)
{
	enum { MAXRESV = 128 };
	uint64_t resv[MAXRESV], resv_len[MAXRESV], a, b, c;
	struct hapmem_reserve_va r = { .flags = HAPMEM_MAP_VA32, .len = HM_PAGE };
	struct hapmem_request_map rm;
	unsigned char buf[HM_XFER];
	long long before = hm_va_cached();
	int fd2, n;

	HM_REQUIRE_IOMMU(self->info);
	a = map_or_fail(_metadata, self->fd, HM_PAGE);
	b = map_or_fail(_metadata, self->fd, HM_PAGE);
	c = map_or_fail(_metadata, self->fd, HM_PAGE);
	ASSERT_EQ(a + HM_PAGE, b);
	fd2 = hm_open();
	ASSERT_LE(0, fd2);
	/* the whole window is more than sessions may reserve by default */
	ASSERT_EQ(0, hm_write_param("max_session_reserved_bytes", 1ULL << 33));
	ASSERT_EQ(0, hm_write_param("max_global_reserved_bytes", 1ULL << 33));
	ASSERT_EQ(0, hm_write_param("max_session_va32_bytes", 1ULL << 33));
	ASSERT_EQ(0, hm_write_param("max_user_va32_bytes", 1ULL << 33));
	n = fill_window32(_metadata, fd2, resv, resv_len, MAXRESV);
	TH_LOG("32-bit window filled with %d reservations", n);
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, a, HM_PAGE));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, b, HM_PAGE));
	ASSERT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, c, HM_PAGE));
	if (before >= 0)
		ASSERT_EQ(before + 3, hm_va_cached());

	ASSERT_EQ(0, hm_request(fd2, HAPMEM_MAP_VA32, 0, 0, 0, 2 * HM_PAGE,
				&rm));
	EXPECT_EQ(a, rm.vadsp);
	if (before >= 0)
		EXPECT_EQ(before, hm_va_cached());
	if (self->info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) {
		hm_fill(buf, HM_XFER, 81);
		ASSERT_EQ(0, hm_remote_write(fd2, rm.vadsp + HM_PAGE, buf,
					     HM_XFER));
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(0, hm_remote_read(fd2, rm.vadsp + HM_PAGE, buf,
					    HM_XFER));
		EXPECT_EQ(0U, hm_check(buf, HM_XFER, 81));
	}
	ASSERT_EQ(0, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r));
	EXPECT_EQ(c, r.vadsp);
	EXPECT_EQ(-ENOSPC, hm_test_ioctl(fd2, HAPMEM_IOC_RESERVE_VA, &r));
	EXPECT_EQ(-ENOSPC, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0,
				      HM_PAGE, &rm));
	/* closing the second session gives back its map and reservations */
	close(fd2);
	EXPECT_EQ(0, hm_write_param("max_session_reserved_bytes", 1ULL << 30));
	EXPECT_EQ(0, hm_write_param("max_global_reserved_bytes", 2ULL << 30));
	EXPECT_EQ(0, hm_write_param("max_session_va32_bytes", 1ULL << 30));
	EXPECT_EQ(0, hm_write_param("max_user_va32_bytes", 1ULL << 30));
	ASSERT_EQ(0, hm_request(self->fd, HAPMEM_MAP_VA32, 0, 0, 0, HM_PAGE,
				&rm));
	EXPECT_EQ(0, hm_unmap(self->fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp,
			      HM_PAGE));
}

TEST_HARNESS_MAIN
