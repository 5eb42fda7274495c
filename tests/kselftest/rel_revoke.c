// SPDX-License-Identifier: GPL-2.0-only
/*
 * A remote that goes away: its PCI device removed (sysfs remove, as a
 * hot-unplug does) or unbound from hapmem, while sessions of it hold
 * state of every kind: nothing, a request_map, a share_map of a dma-buf
 * the test holds, a protected (REMOTE_HEAP_ADDR) buffer, pinned user
 * pages, a reservation, cached device address ranges.  After the removal
 * every ioctl of those sessions answers ENODEV, the maps are gone from the
 * global counters before the sessions close, pinned pages are unpinned,
 * dma-bufs the driver exported stay valid CPU memory, close is clean, and
 * a rescan (or bind) brings a remote that works again.  And a removal
 * while other threads map, unmap and run remote access on the session:
 * they end with ENODEV, nothing hangs.
 *
 * The removed remote is the second one (run with --remotes 2): a session
 * of the first one observes the global counters throughout.  Every test
 * puts the device back (rescan or bind) in its teardown.  A kernel splat
 * is caught by tests/vm/run from the kernel log.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "kselftest_harness.h"
#include "revoke_test.h"

/* Seconds to wait for a rescanned or rebound remote's node. */
#define RV_NODE_WAIT 30

enum rv_how { RV_REMOVE, RV_UNBIND };

FIXTURE(revoke) {
	int obs;			/* a session of the remote kept */
	struct hapmem_info oinfo;
	uint32_t bdf;			/* the remote removed; ~0 if none */
	char node[64];
	struct rel_counters base;	/* seen from @obs before the test */
	uint64_t base_sessions;
};

FIXTURE_SETUP(revoke)
{
	self->bdf = ~0U;
	self->obs = hm_open();
	ASSERT_LE(0, self->obs) TH_LOG("open " HM_DEV ": %s", strerror(errno));
	ASSERT_EQ(0, hm_info(self->obs, &self->oinfo));
	for (uint32_t i = 0; i < RV_MAX_INDEX; i++) {
		struct hapmem_info info;

		memset(&info, 0, sizeof(info));
		info.remote = i;
		if (hm_test_ioctl(self->obs, HAPMEM_IOC_INFO, &info))
			continue;
		if (info.pci_bdf != ~0U && info.pci_bdf != self->oinfo.pci_bdf) {
			self->bdf = info.pci_bdf;
			rv_node_path(&info, self->node, sizeof(self->node));
			break;
		}
	}
	ASSERT_EQ(0, rel_counters(self->obs, &self->base));
	self->base_sessions = self->oinfo.global_sessions;
}

FIXTURE_TEARDOWN(revoke)
{
	/* Put the device back for the next test, whatever happened. */
	if (self->bdf != ~0U) {
		int fd;

		if (!rv_pci_present(self->bdf))
			rv_pci_rescan();
		else if (!rv_pci_bound(self->bdf))
			rv_bind(self->bdf);
		fd = rv_open_bdf(self->obs, self->bdf, RV_NODE_WAIT);
		if (fd >= 0)
			close(fd);
		else
			TH_LOG("remote %#x did not come back: %s", self->bdf, strerror(-fd));
	}
	close(self->obs);
}

/*
 * 6.1's harness runs the body even after a SKIP() in the setup: each test
 * checks that there is a second remote, an engine and root itself.
 */
#define RV_REQUIRE(self)						\
	do {								\
		if (geteuid())						\
			SKIP(return, "needs root (sysfs remove)");	\
		if ((self)->bdf == ~0U)					\
			SKIP(return, "needs a second PCI remote (--remotes 2)"); \
		HM_REQUIRE_ENGINE((self)->oinfo);			\
	} while (0)

/* A session of the remote to remove. */
static int victim_open(struct __test_metadata *_metadata,
		       FIXTURE_DATA(revoke) *self)
{
	struct hapmem_info info;
	int fd = hm_open_dev(self->node);

	EXPECT_LE(0, fd) TH_LOG("open %s: %s", self->node, strerror(errno));
	if (fd >= 0) {
		EXPECT_EQ(0, hm_info(fd, &info));
		EXPECT_EQ(self->bdf, info.pci_bdf);
	}
	return fd;
}

static int rv_take_away(uint32_t bdf, enum rv_how how)
{
	return how == RV_REMOVE ? rv_pci_remove(bdf) : rv_unbind(bdf);
}

static int rv_give_back(uint32_t bdf, enum rv_how how)
{
	return how == RV_REMOVE ? rv_pci_rescan() : rv_bind(bdf);
}

/*
 * The global counters (and sessions) are what they were at setup, but for
 * @held_bufs dma-bufs of @held_pages pages in all that the test still
 * holds.
 */
static void expect_baseline_held(struct __test_metadata *_metadata,
				 FIXTURE_DATA(revoke) *self, const char *when,
				 uint64_t held_bufs, uint64_t held_pages)
{
	struct rel_counters now;
	struct hapmem_info info;
	char a[256], b[256];

	ASSERT_EQ(0, rel_counters(self->obs, &now));
	now.buffers -= held_bufs;
	now.pages -= held_pages;
	rel_counters_str(&self->base, a, sizeof(a));
	rel_counters_str(&now, b, sizeof(b));
	EXPECT_TRUE(rel_counters_eq(&self->base, &now))
		TH_LOG("%s: counters were %s, now %s", when, a, b);
	ASSERT_EQ(0, hm_info(self->obs, &info));
	EXPECT_EQ(self->base_sessions, info.global_sessions) TH_LOG("%s", when);
}

static void expect_baseline(struct __test_metadata *_metadata,
			    FIXTURE_DATA(revoke) *self, const char *when)
{
	expect_baseline_held(_metadata, self, when, 0, 0);
}

/*
 * The maps of the removed remote are gone from the global counters while
 * its sessions are still open (@extra_sessions of them).
 */
static void expect_revoked(struct __test_metadata *_metadata,
			   FIXTURE_DATA(revoke) *self, int extra_sessions)
{
	struct hapmem_info info;

	ASSERT_EQ(0, hm_info(self->obs, &info));
	EXPECT_EQ(self->base.maps, info.global_maps)
		TH_LOG("maps of the removed remote still counted before close");
	EXPECT_EQ(self->base.bytes, info.global_bytes);
	EXPECT_EQ(self->base.reservations, info.global_reservations);
	EXPECT_EQ(self->base_sessions + extra_sessions, info.global_sessions);
}

/*
 * Every ioctl of a session whose remote is gone answers ENODEV.  @buf is a
 * live dma-buf (of another remote), @vadsp an address the session mapped.
 */
static void expect_all_enodev(struct __test_metadata *_metadata, int fd,
			      int buf, uint64_t vadsp)
{
	struct hapmem_info info;
	struct hapmem_nop nop = {};
	struct hapmem_request_map rm;
	struct hapmem_dma_handle_map dm = { .fd = buf, .len = HM_PAGE };
	struct hapmem_dma_handle_unmap du = { .fd = buf, .len = HM_PAGE };
	struct hapmem_reserve_va rv = { .len = HM_SZ_1M };
	struct hapmem_unreserve_va uv = { .vadsp = vadsp, .len = HM_SZ_1M };
	unsigned char data[64];
	uint64_t v = 0;
	int ret;

	EXPECT_EQ(-ENODEV, hm_info(fd, &info));
	EXPECT_EQ(-ENODEV, hm_test_ioctl(fd, HAPMEM_IOC_NOP, &nop));
	ret = hm_alloc(fd, HM_PAGE, 0);
	EXPECT_EQ(-ENODEV, ret);
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-ENODEV, hm_request(fd, 0, 0, 0, 0, HM_PAGE, &rm));
	ret = hm_request(fd, HAPMEM_REQUEST_FD, 0, HAPMEM_RFLAG_HLOS_FD, 0, HM_PAGE, &rm);
	EXPECT_EQ(-ENODEV, ret);
	if (!ret)
		close(rm.fd);
	EXPECT_EQ(-ENODEV, hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, vadsp, HM_PAGE));
	EXPECT_EQ(-ENODEV, hm_share(fd, buf, 0, HM_PAGE, 0, &v));
	EXPECT_EQ(-ENODEV, hm_unmap(fd, HAPMEM_IOC_SHARE_UNMAP, vadsp, HM_PAGE));
	EXPECT_EQ(-ENODEV, hm_test_ioctl(fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	EXPECT_EQ(-ENODEV, hm_test_ioctl(fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du));
	EXPECT_EQ(-ENODEV, hm_remote_read(fd, vadsp, data, sizeof(data)));
	EXPECT_EQ(-ENODEV, hm_remote_write(fd, vadsp, data, sizeof(data)));
	EXPECT_EQ(-ENODEV, hm_test_ioctl(fd, HAPMEM_IOC_RESERVE_VA, &rv));
	EXPECT_EQ(-ENODEV, hm_test_ioctl(fd, HAPMEM_IOC_UNRESERVE_VA, &uv));
}

/*
 * A session of @fd works: request_map with an fd, the CPU writes, the
 * remote reads it back; the remote writes, the CPU sees it.
 */
static void expect_usable(struct __test_metadata *_metadata, int fd)
{
	struct hapmem_request_map rm;
	unsigned char got[HM_XFER], put[256];
	unsigned char *p;

	ASSERT_EQ(0, hm_request(fd, HAPMEM_REQUEST_FD, 0, 0, 0, HM_PAGE, &rm));
	ASSERT_LE(0, rm.fd);
	p = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	hm_fill(p, HM_PAGE, 41);
	EXPECT_EQ(0, hm_remote_read(fd, rm.vadsp, got, sizeof(got)));
	EXPECT_EQ(0, hm_check(got, sizeof(got), 41));
	hm_fill(put, sizeof(put), 42);
	EXPECT_EQ(0, hm_remote_write(fd, rm.vadsp + 512, put, sizeof(put)));
	EXPECT_EQ(0, memcmp(p + 512, put, sizeof(put)));
	munmap(p, HM_PAGE);
	EXPECT_EQ(0, hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE));
	close(rm.fd);
}

/* Give the remote back and prove the new one works, counters at baseline. */
static void give_back_and_use(struct __test_metadata *_metadata,
			      FIXTURE_DATA(revoke) *self, enum rv_how how)
{
	int fd, ret;

	ret = rv_give_back(self->bdf, how);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", how == RV_REMOVE ? "rescan" : "bind", strerror(-ret));
	fd = rv_open_bdf(self->obs, self->bdf, RV_NODE_WAIT);
	ASSERT_LE(0, fd) TH_LOG("no session of the new remote: %s", strerror(-fd));
	expect_usable(_metadata, fd);
	close(fd);
	expect_baseline(_metadata, self, "after the new remote was used");
}

/*
 * A 4 KiB dma-buf with a known content, allocated by a session of the
 * observer's remote that is closed at once (so that the observer's own
 * session_bytes stay as they were).
 */
static int obs_buffer(struct __test_metadata *_metadata,
		      FIXTURE_DATA(revoke) *self, unsigned int seed)
{
	int s = hm_open(), buf;
	unsigned char *p;

	(void)self;
	EXPECT_LE(0, s);
	if (s < 0)
		return -errno;
	buf = hm_alloc(s, HM_PAGE, 0);
	close(s);

	EXPECT_LE(0, buf);
	if (buf < 0)
		return buf;
	p = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		hm_fill(p, HM_PAGE, seed);
		munmap(p, HM_PAGE);
	}
	return buf;
}

/*
 * The common part: remove (or unbind) with session @v open, then each
 * ioctl -> ENODEV, then close; the observer's counters show the maps gone
 * before the close and everything back after it.
 */
static void take_away_use_close(struct __test_metadata *_metadata,
				FIXTURE_DATA(revoke) *self, int v,
				uint64_t vadsp, enum rv_how how,
				uint64_t held_bufs, uint64_t held_pages)
{
	int buf = obs_buffer(_metadata, self, 7);
	int ret;

	ret = rv_take_away(self->bdf, how);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", how == RV_REMOVE ? "remove" : "unbind", strerror(-ret));
	EXPECT_EQ(-ENOENT, rv_remote_by_bdf(self->obs, self->bdf, NULL))
		TH_LOG("the removed remote is still listed");
	expect_revoked(_metadata, self, 1);
	expect_all_enodev(_metadata, v, buf, vadsp ? vadsp : HM_SZ_1M);
	/* Still ENODEV on a second round: nothing came back to life. */
	EXPECT_EQ(-ENODEV, hm_request(v, 0, 0, 0, 0, HM_PAGE, &(struct hapmem_request_map){}));
	EXPECT_EQ(0, close(v));
	close(buf);
	expect_baseline_held(_metadata, self, "after close of the dead session",
			     held_bufs, held_pages);
}

/*
 * Without any session: the remote and its node go with the device, and
 * come back with the rescan (or bind), working.
 */
static void away_and_back(struct __test_metadata *_metadata,
			  FIXTURE_DATA(revoke) *self, enum rv_how how)
{
	int ret;

	ret = rv_take_away(self->bdf, how);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", how == RV_REMOVE ? "remove" : "unbind", strerror(-ret));
	EXPECT_EQ(-ENOENT, rv_remote_by_bdf(self->obs, self->bdf, NULL));
	EXPECT_EQ(-1, access(self->node, F_OK)) TH_LOG("%s is still there", self->node);
	expect_baseline(_metadata, self, "after the removal");
	give_back_and_use(_metadata, self, how);
}

TEST_F_TIMEOUT(revoke, remove_rescan_without_sessions, 120)
{
	RV_REQUIRE(self);
	away_and_back(_metadata, self, RV_REMOVE);
}

TEST_F_TIMEOUT(revoke, unbind_bind_without_sessions, 120)
{
	RV_REQUIRE(self);
	away_and_back(_metadata, self, RV_UNBIND);
}

TEST_F_TIMEOUT(revoke, remove_idle_session, 120)
{
	int v;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	take_away_use_close(_metadata, self, v, 0, RV_REMOVE, 0, 0);
	give_back_and_use(_metadata, self, RV_REMOVE);
}

TEST_F_TIMEOUT(revoke, remove_with_request_map, 120)
{
	struct hapmem_request_map rm, rm2;
	unsigned char put[128], got[128];
	int v;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, hm_request(v, 0, 0, 0, 0, 16 * HM_PAGE, &rm));
	ASSERT_EQ(0, hm_request(v, HAPMEM_MAP_VA_HIGH, 0, 0, 0, HM_SZ_2M, &rm2));
	hm_fill(put, sizeof(put), 3);
	ASSERT_EQ(0, hm_remote_write(v, rm.vadsp, put, sizeof(put)));
	ASSERT_EQ(0, hm_remote_read(v, rm.vadsp, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(put, got, sizeof(got)));
	take_away_use_close(_metadata, self, v, rm.vadsp, RV_REMOVE, 0, 0);
	give_back_and_use(_metadata, self, RV_REMOVE);
}

/*
 * A dma-buf of the other remote, shared with the removed one and held by
 * the test: after the removal it still holds its data, and the other
 * remote can still map and read it.
 */
TEST_F_TIMEOUT(revoke, remove_with_share_map_of_held_dmabuf, 120)
{
	unsigned char got[HM_XFER];
	uint64_t va = 0, va2 = 0, ova = 0;
	unsigned char *p;
	int v, buf;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	buf = obs_buffer(_metadata, self, 11);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, hm_share(v, buf, 0, 0, 0, &va));
	ASSERT_EQ(0, hm_share(v, buf, 0, 0, HAPMEM_MAP_READ_ONLY | HAPMEM_MAP_VA32, &va2));
	ASSERT_EQ(0, hm_remote_read(v, va, got, sizeof(got)));
	ASSERT_EQ(0, hm_check(got, sizeof(got), 11));

	take_away_use_close(_metadata, self, v, va, RV_REMOVE, 1, 1);

	p = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, hm_check(p, HM_PAGE, 11));
	munmap(p, HM_PAGE);
	ASSERT_EQ(0, hm_share(self->obs, buf, 0, 0, 0, &ova));
	memset(got, 0, sizeof(got));
	EXPECT_EQ(0, hm_remote_read(self->obs, ova, got, sizeof(got)));
	EXPECT_EQ(0, hm_check(got, sizeof(got), 11));
	EXPECT_EQ(0, hm_unmap(self->obs, HAPMEM_IOC_SHARE_UNMAP, ova, HM_PAGE));
	close(buf);
	give_back_and_use(_metadata, self, RV_REMOVE);
}

/*
 * A protected (REMOTE_HEAP_ADDR) buffer's fd held across the removal: the
 * dead session closes cleanly; the buffer belonged to the old remote, so
 * the new remote refuses it (EPERM); its last close frees it.
 */
TEST_F_TIMEOUT(revoke, remove_with_protected_map, 120)
{
	struct hapmem_request_map rm;
	unsigned char put[64];
	uint64_t va = 0;
	int v, fd;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, hm_request(v, HAPMEM_REQUEST_FD, 0, HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0,
				4 * HM_PAGE, &rm));
	ASSERT_LE(0, rm.fd);
	hm_fill(put, sizeof(put), 5);
	ASSERT_EQ(0, hm_remote_write(v, rm.vadsp, put, sizeof(put)));

	take_away_use_close(_metadata, self, v, rm.vadsp, RV_REMOVE, 1, 4);

	ASSERT_EQ(0, rv_pci_rescan());
	fd = rv_open_bdf(self->obs, self->bdf, RV_NODE_WAIT);
	ASSERT_LE(0, fd) TH_LOG("no session of the new remote: %s", strerror(-fd));
	EXPECT_EQ(-EPERM, hm_share(fd, rm.fd, 0, 0, 0, &va))
		TH_LOG("protected buffer of the old remote shared on the new one at %#llx",
		       (unsigned long long)va);
	expect_usable(_metadata, fd);
	close(fd);
	close(rm.fd);
	expect_baseline(_metadata, self, "after the protected buffer's close");
}

/*
 * User pages pinned by request_map(vin): VmPin shows them while mapped and
 * drops back at the removal, before the session closes.  The memory stays
 * the process's own.
 */
TEST_F_TIMEOUT(revoke, remove_with_pinned_user_pages, 120)
{
	const uint64_t len = 64 * HM_PAGE;
	struct hapmem_request_map rm;
	unsigned char put[128];
	long long pin0, pin1;
	unsigned char *mem;
	int v;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x3c, len);
	pin0 = rv_status_kb("VmPin");
	ASSERT_LE(0, pin0);
	ASSERT_EQ(0, hm_request(v, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem, len, &rm));
	pin1 = rv_status_kb("VmPin");
	EXPECT_EQ(pin0 + (long long)(len >> 10), pin1) TH_LOG("VmPin %lld -> %lld kB", pin0, pin1);
	hm_fill(put, sizeof(put), 9);
	ASSERT_EQ(0, hm_remote_write(v, rm.vadsp + HM_PAGE, put, sizeof(put)));
	EXPECT_EQ(0, memcmp(mem + HM_PAGE, put, sizeof(put)));

	ASSERT_EQ(0, rv_pci_remove(self->bdf));
	EXPECT_EQ(pin0, rv_status_kb("VmPin")) TH_LOG("pages still pinned after the removal");
	expect_revoked(_metadata, self, 1);
	/* The process's memory is its own again, untouched by the removal. */
	EXPECT_EQ(0, memcmp(mem + HM_PAGE, put, sizeof(put)));
	memset(mem, 0x5a, len);
	EXPECT_EQ(-ENODEV, hm_unmap(v, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, len));
	EXPECT_EQ(0, close(v));
	EXPECT_EQ(pin0, rv_status_kb("VmPin"));
	EXPECT_EQ(0, munmap(mem, len));
	expect_baseline(_metadata, self, "after close");
	give_back_and_use(_metadata, self, RV_REMOVE);
}

TEST_F_TIMEOUT(revoke, remove_with_reservation, 120)
{
	struct hapmem_reserve_va rv = { .len = 4 * HM_SZ_1M };
	struct hapmem_reserve_va rv32 = { .len = HM_SZ_1M, .flags = HAPMEM_MAP_VA32 };
	uint64_t fixed;
	int v, buf;

	RV_REQUIRE(self);
	if (!(self->oinfo.remote_flags & HAPMEM_REMOTE_FIXED_VA))
		SKIP(return, "no reserve_va on this remote");
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, hm_test_ioctl(v, HAPMEM_IOC_RESERVE_VA, &rv));
	ASSERT_EQ(0, hm_test_ioctl(v, HAPMEM_IOC_RESERVE_VA, &rv32));
	/* A fixed map inside the first one. */
	buf = obs_buffer(_metadata, self, 13);
	ASSERT_LE(0, buf);
	fixed = rv.vadsp + HM_SZ_1M;
	ASSERT_EQ(0, hm_share(v, buf, 0, 0, HAPMEM_MAP_FIXED, &fixed));
	take_away_use_close(_metadata, self, v, rv.vadsp, RV_REMOVE, 1, 1);
	close(buf);
	give_back_and_use(_metadata, self, RV_REMOVE);
}

/*
 * Small maps mapped and unmapped leave their ranges in the session's cache
 * (driver/va.c): the removal must drop them with the remote.
 */
TEST_F_TIMEOUT(revoke, remove_with_cached_ranges, 120)
{
	uint64_t vas[8];
	long long cached0, cached1;
	int v;

	RV_REQUIRE(self);
	cached0 = rv_debugfs_counter("va_cached");
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 8; i++) {
			struct hapmem_request_map rm;

			ASSERT_EQ(0, hm_request(v, 0, 0, 0, 0, (1 + (i & 1)) * HM_PAGE, &rm));
			vas[i] = rm.vadsp;
		}
		for (int i = 0; i < 8; i++) {
			ASSERT_EQ(0, hm_unmap(v, HAPMEM_IOC_REQUEST_UNMAP, vas[i],
					      (1 + (i & 1)) * HM_PAGE));
		}
	}
	cached1 = rv_debugfs_counter("va_cached");
	if (cached0 >= 0) {
		EXPECT_LT(cached0, cached1) TH_LOG("no range was cached (%lld -> %lld)",
						   cached0, cached1);
	}
	take_away_use_close(_metadata, self, v, vas[0], RV_REMOVE, 0, 0);
	if (cached0 >= 0) {
		EXPECT_EQ(cached0, rv_debugfs_counter("va_cached"));
	}
	give_back_and_use(_metadata, self, RV_REMOVE);
}

/*
 * Unbind and bind through sysfs, with every kind of map a session of the
 * remote can hold; then the same for two sessions at once.
 */
TEST_F_TIMEOUT(revoke, unbind_bind_with_maps, 180)
{
	struct hapmem_reserve_va rv = { .len = HM_SZ_1M };
	struct hapmem_request_map rm, pin;
	struct hapmem_dma_handle_map dm;
	unsigned char *mem;
	uint64_t va = 0;
	long long pin0;
	int v, v2, buf;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	v2 = victim_open(_metadata, self);
	ASSERT_LE(0, v2);
	buf = obs_buffer(_metadata, self, 17);
	ASSERT_LE(0, buf);
	mem = mmap(NULL, 4 * HM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 4 * HM_PAGE);
	pin0 = rv_status_kb("VmPin");

	ASSERT_EQ(0, hm_request(v, 0, 0, 0, 0, 8 * HM_PAGE, &rm));
	ASSERT_EQ(0, hm_request(v2, 0, 0, HAPMEM_RFLAG_ADD_PAGES, (uintptr_t)mem, 4 * HM_PAGE, &pin));
	ASSERT_EQ(0, hm_share(v, buf, 0, 0, 0, &va));
	memset(&dm, 0, sizeof(dm));
	dm.fd = buf;
	dm.len = HM_PAGE;
	ASSERT_EQ(0, hm_test_ioctl(v2, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
	if (self->oinfo.remote_flags & HAPMEM_REMOTE_FIXED_VA) {
		ASSERT_EQ(0, hm_test_ioctl(v2, HAPMEM_IOC_RESERVE_VA, &rv));
	}

	ASSERT_EQ(0, rv_unbind(self->bdf));
	EXPECT_TRUE(rv_pci_present(self->bdf));
	EXPECT_FALSE(rv_pci_bound(self->bdf));
	EXPECT_EQ(-ENOENT, rv_remote_by_bdf(self->obs, self->bdf, NULL))
		TH_LOG("the unbound remote is still listed");
	expect_revoked(_metadata, self, 2);
	EXPECT_EQ(pin0, rv_status_kb("VmPin")) TH_LOG("pages still pinned after the unbind");
	expect_all_enodev(_metadata, v, buf, rm.vadsp);
	expect_all_enodev(_metadata, v2, buf, pin.vadsp);
	EXPECT_EQ(0, close(v));
	EXPECT_EQ(0, close(v2));
	close(buf);
	munmap(mem, 4 * HM_PAGE);
	expect_baseline(_metadata, self, "after both closes");
	give_back_and_use(_metadata, self, RV_UNBIND);
}

static int map_fd(int fd, uint64_t len, unsigned char **p)
{
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return *p == MAP_FAILED ? -errno : 0;
}

/*
 * dma-bufs the driver exported for a session of the removed remote (ALLOC,
 * request_map with an fd, HLOS_FD) stay valid CPU memory: mapped before
 * or after the removal, they keep their data and take writes; their last
 * close frees them.
 */
TEST_F_TIMEOUT(revoke, dmabufs_survive_removal, 120)
{
	const uint64_t len = 4 * HM_PAGE;
	struct hapmem_request_map rq, hl;
	unsigned char *before[3], *after[3];
	uint64_t va = 0;
	int v, fds[3];

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	fds[0] = hm_alloc(v, len, HAPMEM_ION_FLAG_CACHED);
	ASSERT_LE(0, fds[0]);
	ASSERT_EQ(0, hm_request(v, HAPMEM_REQUEST_FD, 0, 0, 0, len, &rq));
	fds[1] = rq.fd;
	ASSERT_EQ(0, hm_request(v, 0, 0, HAPMEM_RFLAG_HLOS_FD, 0, len, &hl));
	fds[2] = hl.fd;
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, map_fd(fds[i], len, &before[i]));
		hm_fill(before[i], len, 20 + i);
	}
	/* The remote holds maps of all three. */
	ASSERT_EQ(0, hm_share(v, fds[0], 0, 0, 0, &va));
	ASSERT_EQ(0, hm_share(v, fds[2], 0, 0, HAPMEM_MAP_VA32, &va));

	take_away_use_close(_metadata, self, v, rq.vadsp, RV_REMOVE, 3, 3 * len / HM_PAGE);

	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, hm_check(before[i], len, 20 + i)) TH_LOG("buffer %d", i);
		ASSERT_EQ(0, map_fd(fds[i], len, &after[i])) TH_LOG("buffer %d", i);
		EXPECT_EQ(0, hm_check(after[i], len, 20 + i)) TH_LOG("buffer %d", i);
		hm_fill(after[i], len, 30 + i);
		EXPECT_EQ(0, hm_check(before[i], len, 30 + i)) TH_LOG("buffer %d", i);
		munmap(before[i], len);
		munmap(after[i], len);
	}
	{
		struct hapmem_info info;

		ASSERT_EQ(0, hm_info(self->obs, &info));
		EXPECT_EQ(self->base.buffers + 3, info.global_buffers);
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	expect_baseline(_metadata, self, "after the buffers' close");
	give_back_and_use(_metadata, self, RV_REMOVE);
}

/* Threads that work on a session until it answers ENODEV. */
struct looper {
	int sess, buf, id;
	bool engine;
	volatile bool started;
	unsigned long iters;
	int last;			/* the errno that ended the loop */
	int unexpected;			/* another errno, or 0 */
	const char *what;
};

static void *loop_ops(void *arg)
{
	struct looper *l = arg;
	unsigned char data[256];
	int ret = 0;

	hm_fill(data, sizeof(data), l->id);
	for (;;) {
		struct hapmem_request_map rm;
		struct hapmem_dma_handle_map dm = { .fd = l->buf, .len = HM_PAGE };
		struct hapmem_dma_handle_unmap du = { .fd = l->buf, .len = HM_PAGE };
		uint64_t va = 0;

		if (l->id == 0) {
			l->what = "request_map";
			ret = hm_request(l->sess, 0, 0, 0, 0, 2 * HM_PAGE, &rm);
			if (ret)
				break;
			if (l->engine) {
				l->what = "remote write";
				ret = hm_remote_write(l->sess, rm.vadsp, data, sizeof(data));
				/* Removed during the transfer: the engine is gone. */
				if (ret == -EIO)
					ret = 0;
			}
			if (ret)
				break;
			l->what = "request_unmap";
			ret = hm_unmap(l->sess, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, 2 * HM_PAGE);
		} else {
			l->what = "share_map";
			ret = hm_share(l->sess, l->buf, 0, HM_PAGE, 0, &va);
			if (ret)
				break;
			l->what = "dma_handle_map";
			ret = hm_test_ioctl(l->sess, HAPMEM_IOC_DMA_HANDLE_MAP, &dm);
			if (ret)
				break;
			if (l->engine) {
				l->what = "remote read";
				ret = hm_remote_read(l->sess, va, data, sizeof(data));
				if (ret == -EIO)
					ret = 0;
			}
			if (ret)
				break;
			l->what = "dma_handle_unmap";
			ret = hm_test_ioctl(l->sess, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du);
			if (ret)
				break;
			l->what = "share_unmap";
			ret = hm_unmap(l->sess, HAPMEM_IOC_SHARE_UNMAP, va, HM_PAGE);
		}
		if (ret)
			break;
		l->iters++;
		l->started = true;
	}
	l->last = -ret;
	if (ret != -ENODEV)
		l->unexpected = -ret;
	l->started = true;
	return NULL;
}

TEST_F_TIMEOUT(revoke, remove_while_threads_map, 180)
{
	struct looper l[3];
	pthread_t th[3];
	double t0;
	int v, v2, buf;

	RV_REQUIRE(self);
	v = victim_open(_metadata, self);
	ASSERT_LE(0, v);
	v2 = victim_open(_metadata, self);
	ASSERT_LE(0, v2);
	buf = hm_alloc(v, 4 * HM_PAGE, 0);
	ASSERT_LE(0, buf);
	for (int i = 0; i < 3; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].sess = i == 2 ? v2 : v;
		l[i].buf = buf;
		l[i].id = i == 2 ? 1 : i;
		l[i].engine = i != 2;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, loop_ops, &l[i]));
	}
	/* Let every thread get going, then take the remote away under them. */
	t0 = rel_now();
	while (rel_now() - t0 < 20 && !(l[0].iters >= 2 && l[1].iters >= 2 && l[2].iters >= 20))
		usleep(10 * 1000);
	for (int i = 0; i < 3; i++) {
		EXPECT_LT(0, l[i].iters) TH_LOG("thread %d never completed a round: %s %s", i,
						l[i].what, strerror(l[i].last));
	}
	ASSERT_EQ(0, rv_pci_remove(self->bdf));

	for (int i = 0; i < 3; i++) {
		struct timespec ts;
		int ret;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 60;
		ret = pthread_timedjoin_np(th[i], NULL, &ts);
		ASSERT_EQ(0, ret) TH_LOG("thread %d still in %s 60 s after the removal", i,
					 l[i].what);
		EXPECT_EQ(ENODEV, l[i].last) TH_LOG("thread %d ended in %s with %s after %lu rounds",
						    i, l[i].what, strerror(l[i].last), l[i].iters);
		EXPECT_EQ(0, l[i].unexpected);
	}
	expect_revoked(_metadata, self, 2);
	EXPECT_EQ(-ENODEV, hm_info(v, &(struct hapmem_info){ .remote = HAPMEM_INFO_SELF }));
	EXPECT_EQ(0, close(v));
	EXPECT_EQ(0, close(v2));
	close(buf);
	expect_baseline(_metadata, self, "after close");
	give_back_and_use(_metadata, self, RV_REMOVE);
}

TEST_HARNESS_MAIN
