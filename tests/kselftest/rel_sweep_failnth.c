// SPDX-License-Identifier: GPL-2.0-only
/*
 * fail-nth sweeps: every ioctl, with valid arguments, has its 1st, 2nd,
 * 3rd... memory allocation (slab and page allocator, sleeping ones
 * included) made to fail, until an N no longer reaches a fault.  Each call
 * must then either succeed fully or fail with ENOMEM leaving nothing
 * behind: the session's and the driver's counters and the fd table as
 * before, the call's argument as it went in (a failed call writes nothing
 * back, whichever allocation failed), and the session still usable.  After
 * a success, the results are
 * checked and undone, and an unmapped address must really be gone (a
 * second unmap gets ENOENT, not a stale entry).  The number of injection
 * points of each call is printed.
 *
 * Needs CONFIG_FAULT_INJECTION (fail-nth), CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC with debugfs: the debug kernel.  Skips elsewhere.
 *
 * Named to sort after the other suites: an injected failure can land in
 * DMA-API debugging's own bookkeeping, which then turns itself off
 * ("cacheline tracking ENOMEM") for the rest of the boot.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "rel_test.h"

#define SWEEP_MAX 4000
#define ALLOC_LEN (HM_SZ_2M + 0x11000ULL)	/* 2 MiB + 64 KiB + 4 KiB */
#define SMALL_LEN 0x11000ULL			/* 64 KiB + 4 KiB */

struct ctx {
	int fd;			/* the session */
	int buf;		/* a dma-buf to share */
	int nth;		/* this thread's fail-nth */
	void *user;		/* user memory for ADD_PAGES */
	bool dma;		/* the remote has a DMA engine */
	bool fixed;		/* reserve_va works */
	/* state an op carries from prepare to call to cleanup */
	uint64_t vadsp, len, resv;
	int outfd;
	struct hapmem_request_map rm;
	struct hapmem_share_map sm;
	struct hapmem_dma_handle_map dm;
	struct hapmem_dma_handle_unmap du;
	struct hapmem_remote_access ra;
	struct hapmem_reserve_va rv;
	struct hapmem_info info;
	struct hapmem_alloc al;
	struct hapmem_unmap um;
	struct hapmem_unreserve_va uv;
	struct hapmem_nop nop;
	unsigned char data[64];
};

/*
 * The argument of the last ioctl an op made, as it went in: after a call
 * that failed, it must be unchanged.
 */
static struct {
	const void *arg;
	size_t size;
	unsigned char in[512];
} last;

static inline void record_arg(const void *arg, size_t size)
{
	last.arg = arg;
	last.size = size < sizeof(last.in) ? size : sizeof(last.in);
	memcpy(last.in, arg, last.size);
}

/* hm_test_ioctl(), recording the argument. */
#define rec_ioctl(fd, req, arg)						\
	({								\
		(arg)->size = sizeof(*(arg));				\
		_Static_assert(sizeof(*(arg)) <= sizeof(last.in), "");	\
		record_arg((arg), sizeof(*(arg)));			\
		ioctl((fd), (req), (arg)) ? -errno : 0;			\
	})

/* An op: prepare (no faults), call (faults), then undo on success or failure. */
struct op {
	const char *name;
	int (*prepare)(struct ctx *c);
	int (*call)(struct ctx *c);
	int (*done_ok)(struct ctx *c);	/* check results, undo; 0 = good */
	int (*done_err)(struct ctx *c);	/* undo prepare; 0 = good */
	bool (*usable)(struct ctx *c);	/* op applies to this remote */
	bool allocates;			/* must reach an injection point */
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static int fi_configure(void)
{
	static const char *const types[] = { "failslab", "fail_page_alloc" };
	char p[128];
	int ret = 0;

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s/ignore-gfp-wait",
			 types[i]);
		ret |= write_str(p, "N");
		/* fail-nth overrides these, but nothing else may fail */
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s/probability", types[i]);
		ret |= write_str(p, "0");
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s/times", types[i]);
		ret |= write_str(p, "-1");
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s/verbose", types[i]);
		ret |= write_str(p, "0");
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s/task-filter", types[i]);
		ret |= write_str(p, "N");
	}
	ret |= write_str("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	ret |= write_str("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	return ret;
}

static bool always(struct ctx *c __attribute__((unused)))
{
	return true;
}

static bool has_dma(struct ctx *c)
{
	return c->dma;
}

static bool has_fixed(struct ctx *c)
{
	return c->fixed;
}

static bool is_root(struct ctx *c __attribute__((unused)))
{
	return geteuid() == 0;
}

static bool has_llc(struct ctx *c)
{
	return is_root(c) && c->info.llc_total >= SMALL_LEN;
}

static int none(struct ctx *c __attribute__((unused)))
{
	return 0;
}

/* A second unmap of the same address must find nothing. */
static int unmap_gone(struct ctx *c, unsigned long req)
{
	int ret = hm_unmap(c->fd, req, c->vadsp, c->len);

	return ret == -ENOENT ? 0 : (ret ? ret : -EEXIST);
}

/* ---- info, nop ---- */
static int call_info(struct ctx *c)
{
	memset(&c->info, 0, sizeof(c->info));
	c->info.remote = HAPMEM_INFO_SELF;
	return rec_ioctl(c->fd, HAPMEM_IOC_INFO, &c->info);
}

static int ok_info(struct ctx *c)
{
	return c->info.num_remotes ? 0 : -EINVAL;
}

static int call_nop(struct ctx *c)
{
	memset(&c->nop, 0, sizeof(c->nop));
	return rec_ioctl(c->fd, HAPMEM_IOC_NOP, &c->nop);
}

/* ---- alloc ---- */
static int call_alloc(struct ctx *c)
{
	int ret;

	memset(&c->al, 0, sizeof(c->al));
	c->al.len = ALLOC_LEN;
	c->al.flags = HAPMEM_ION_FLAG_CACHED;
	ret = rec_ioctl(c->fd, HAPMEM_IOC_ALLOC, &c->al);
	c->outfd = ret ? ret : (int)c->al.fd;
	return ret;
}

static int ok_fd_close(struct ctx *c)
{
	off_t end = lseek(c->outfd, 0, SEEK_END);

	close(c->outfd);
	return end == (off_t)c->len ? 0 : -EINVAL;
}

static int prep_alloc(struct ctx *c)
{
	c->len = ALLOC_LEN;
	return 0;
}

/* ---- request_map variants ---- */
static int request_call(struct ctx *c, uint32_t flags, uint32_t rflags,
			uint64_t vin)
{
	int ret;

	memset(&c->rm, 0, sizeof(c->rm));
	c->rm.flags = flags;
	c->rm.ion_flags = HAPMEM_ION_FLAG_CACHED;
	c->rm.rflags = rflags;
	c->rm.vin = vin;
	c->rm.len = c->len;
	ret = rec_ioctl(c->fd, HAPMEM_IOC_REQUEST_MAP, &c->rm);
	c->vadsp = c->rm.vadsp;
	return ret;
}

static int prep_small(struct ctx *c)
{
	c->len = SMALL_LEN;
	return 0;
}

static int call_request_plain(struct ctx *c)
{
	return request_call(c, HAPMEM_REQUEST_FD, 0, 0);
}

static int call_request_heap(struct ctx *c)
{
	return request_call(c, 0, HAPMEM_RFLAG_HEAP_ADDR, 0);
}

static int call_request_protected(struct ctx *c)
{
	return request_call(c, HAPMEM_REQUEST_FD, HAPMEM_RFLAG_REMOTE_HEAP_ADDR, 0);
}

static int call_request_llc(struct ctx *c)
{
	return request_call(c, 0, HAPMEM_RFLAG_ADD_PAGES_LLC, 0);
}

static int call_request_user(struct ctx *c)
{
	return request_call(c, HAPMEM_MAP_VA32, HAPMEM_RFLAG_ADD_PAGES,
			    (uintptr_t)c->user);
}

static int call_request_hlos(struct ctx *c)
{
	return request_call(c, 0, HAPMEM_RFLAG_HLOS_FD, 0);
}

static int ok_request(struct ctx *c)
{
	int ret;

	if (!c->vadsp)
		return -EINVAL;
	if (c->rm.fd >= 0 && lseek(c->rm.fd, 0, SEEK_END) != (off_t)c->len)
		return -EBADF;
	ret = hm_unmap(c->fd, HAPMEM_IOC_REQUEST_UNMAP, c->vadsp, c->len);
	if (c->rm.fd >= 0)
		close(c->rm.fd);
	return ret ? ret : unmap_gone(c, HAPMEM_IOC_REQUEST_UNMAP);
}

static int ok_request_nofd(struct ctx *c)
{
	return c->rm.fd == -1 ? ok_request(c) : -EBADF;
}

static int ok_hlos(struct ctx *c)
{
	if (c->rm.vadsp || c->rm.fd < 0)
		return -EINVAL;
	c->outfd = c->rm.fd;
	return ok_fd_close(c);
}

/* ---- request_unmap ---- */
static int prep_request_unmap(struct ctx *c)
{
	c->len = SMALL_LEN;
	return request_call(c, 0, 0, 0);
}

static int unmap_call(struct ctx *c, unsigned long req)
{
	memset(&c->um, 0, sizeof(c->um));
	c->um.vadsp = c->vadsp;
	c->um.len = c->len;
	return rec_ioctl(c->fd, req, &c->um);
}

static int call_request_unmap(struct ctx *c)
{
	return unmap_call(c, HAPMEM_IOC_REQUEST_UNMAP);
}

static int ok_request_unmap(struct ctx *c)
{
	return unmap_gone(c, HAPMEM_IOC_REQUEST_UNMAP);
}

static int err_request_unmap(struct ctx *c)
{
	return call_request_unmap(c);
}

/* ---- share_map, share_unmap ---- */
static int share_call(struct ctx *c, uint32_t flags, uint64_t at)
{
	memset(&c->sm, 0, sizeof(c->sm));
	c->sm.fd = c->buf;
	c->sm.offset = HM_SZ_1M;
	c->sm.len = c->len;
	c->sm.flags = flags;
	c->sm.vadsp = at;
	c->vadsp = 0;
	int ret = rec_ioctl(c->fd, HAPMEM_IOC_SHARE_MAP, &c->sm);

	if (!ret)
		c->vadsp = c->sm.vadsp;
	return ret;
}

static int call_share(struct ctx *c)
{
	return share_call(c, 0, 0);
}

static int ok_share(struct ctx *c)
{
	int ret;

	if (!c->vadsp || c->sm.len != c->len)
		return -EINVAL;
	ret = hm_unmap(c->fd, HAPMEM_IOC_SHARE_UNMAP, c->vadsp, c->len);
	return ret ? ret : unmap_gone(c, HAPMEM_IOC_SHARE_UNMAP);
}

static int reserve(struct ctx *c)
{
	memset(&c->rv, 0, sizeof(c->rv));
	c->rv.len = HM_SZ_1M;
	int ret = rec_ioctl(c->fd, HAPMEM_IOC_RESERVE_VA, &c->rv);

	c->resv = ret ? 0 : c->rv.vadsp;
	return ret;
}

static int unreserve(struct ctx *c)
{
	memset(&c->uv, 0, sizeof(c->uv));
	c->uv.vadsp = c->resv;
	c->uv.len = HM_SZ_1M;
	return rec_ioctl(c->fd, HAPMEM_IOC_UNRESERVE_VA, &c->uv);
}

static int prep_share_fixed(struct ctx *c)
{
	c->len = SMALL_LEN;
	return reserve(c);
}

static int call_share_fixed(struct ctx *c)
{
	return share_call(c, HAPMEM_MAP_FIXED, c->resv + 0x10000);
}

static int ok_share_fixed(struct ctx *c)
{
	int ret = c->vadsp == c->resv + 0x10000 ? ok_share(c) : -EINVAL;

	return ret ? ret : unreserve(c);
}

static int prep_share_unmap(struct ctx *c)
{
	c->len = SMALL_LEN;
	return call_share(c);
}

static int call_share_unmap(struct ctx *c)
{
	return unmap_call(c, HAPMEM_IOC_SHARE_UNMAP);
}

static int ok_share_unmap(struct ctx *c)
{
	return unmap_gone(c, HAPMEM_IOC_SHARE_UNMAP);
}

/* ---- dma_handle_map, dma_handle_unmap ---- */
static int dh_map(struct ctx *c, struct hapmem_dma_handle_map *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = c->buf;
	m->offset = HM_SZ_1M;
	m->len = c->len;
	return rec_ioctl(c->fd, HAPMEM_IOC_DMA_HANDLE_MAP, m);
}

static int dh_unmap(struct ctx *c, uint32_t *refs)
{
	memset(&c->du, 0, sizeof(c->du));
	c->du.fd = c->buf;
	c->du.len = c->len;
	int ret = rec_ioctl(c->fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &c->du);

	if (refs)
		*refs = c->du.refs;
	return ret;
}

static int call_dh_map(struct ctx *c)
{
	int ret = dh_map(c, &c->dm);

	c->vadsp = c->dm.vadsp;
	return ret;
}

/* Drop @n references; the last must leave no map behind. */
static int dh_drop(struct ctx *c, unsigned int n)
{
	uint32_t refs = ~0U;
	int ret;

	while (n--) {
		ret = dh_unmap(c, &refs);
		if (ret)
			return ret;
		if (refs != n)
			return -EINVAL;
	}
	ret = dh_unmap(c, NULL);
	return ret == -ENOENT ? 0 : -EEXIST;
}

static int ok_dh_new(struct ctx *c)
{
	return c->dm.refs == 1 && c->vadsp ? dh_drop(c, 1) : -EINVAL;
}

static int prep_dh_again(struct ctx *c)
{
	struct hapmem_dma_handle_map m;
	int ret;

	c->len = SMALL_LEN;
	ret = dh_map(c, &m);
	c->vadsp = m.vadsp;
	return ret;
}

static int ok_dh_again(struct ctx *c)
{
	return c->dm.refs == 2 ? dh_drop(c, 2) : -EINVAL;
}

static int err_dh_one(struct ctx *c)
{
	return dh_drop(c, 1);
}

static int call_dh_unmap(struct ctx *c)
{
	return dh_unmap(c, NULL);
}

static int ok_dh_unmap_last(struct ctx *c)
{
	return c->du.refs == 0 ? dh_drop(c, 0) : -EINVAL;
}

static int prep_dh_two(struct ctx *c)
{
	int ret = prep_dh_again(c);

	return ret ? ret : prep_dh_again(c);
}

static int ok_dh_unmap_one(struct ctx *c)
{
	return c->du.refs == 1 ? dh_drop(c, 1) : -EINVAL;
}

static int err_dh_two(struct ctx *c)
{
	return dh_drop(c, 2);
}

/* ---- remote access ---- */
static int prep_access(struct ctx *c)
{
	c->len = HM_PAGE;
	return request_call(c, 0, 0, 0);
}

static int access_call(struct ctx *c, uint32_t flags)
{
	memset(&c->ra, 0, sizeof(c->ra));
	c->ra.flags = flags;
	c->ra.vadsp = c->vadsp + 100;
	c->ra.len = sizeof(c->data);
	c->ra.uptr = (uintptr_t)c->data;
	return rec_ioctl(c->fd, HAPMEM_IOC_REMOTE_ACCESS, &c->ra);
}

static int call_access_write(struct ctx *c)
{
	hm_fill(c->data, sizeof(c->data), 9);
	return access_call(c, HAPMEM_ACCESS_WRITE);
}

static int call_access_read(struct ctx *c)
{
	memset(c->data, 0xa5, sizeof(c->data));
	return access_call(c, 0);
}

static int err_access(struct ctx *c)
{
	int ret = hm_unmap(c->fd, HAPMEM_IOC_REQUEST_UNMAP, c->vadsp, c->len);

	return ret ? ret : unmap_gone(c, HAPMEM_IOC_REQUEST_UNMAP);
}

static int ok_access_write(struct ctx *c)
{
	unsigned char back[sizeof(c->data)];
	int ret = c->ra.faults ? -EIO : 0;

	if (!ret)
		ret = hm_remote_read(c->fd, c->vadsp + 100, back, sizeof(back));
	if (!ret && hm_check(back, sizeof(back), 9))
		ret = -EIO;
	return ret ? ret : err_access(c);
}

static int ok_access_read(struct ctx *c)
{
	/* A new map is zero, and the device says so. */
	int ret = c->ra.faults || !hm_all_zero(c->data, sizeof(c->data)) ? -EIO : 0;

	return ret ? ret : err_access(c);
}

/* ---- reserve_va, unreserve_va ---- */
static int call_reserve(struct ctx *c)
{
	return reserve(c);
}

static int ok_reserve(struct ctx *c)
{
	int ret;

	if (!c->resv)
		return -EINVAL;
	ret = unreserve(c);
	if (ret)
		return ret;
	return unreserve(c) == -ENOENT ? 0 : -EEXIST;
}

static int call_unreserve(struct ctx *c)
{
	return unreserve(c);
}

static int ok_unreserve(struct ctx *c)
{
	return unreserve(c) == -ENOENT ? 0 : -EEXIST;
}

static const struct op ops[] = {
	{ "info", none, call_info, ok_info, none, always, false },
	{ "nop", none, call_nop, none, none, always, false },
	{ "alloc", prep_alloc, call_alloc, ok_fd_close, none, always, true },
	{ "request_map", prep_small, call_request_plain, ok_request, none, always, true },
	{ "request_map_heap_addr", prep_small, call_request_heap, ok_request_nofd, none, always, true },
	{ "request_map_remote_heap", prep_small, call_request_protected, ok_request, none, is_root, true },
	{ "request_map_llc", prep_small, call_request_llc, ok_request_nofd, none, has_llc, true },
	{ "request_map_user_pages", prep_small, call_request_user, ok_request_nofd, none, always, true },
	{ "request_map_hlos_fd", prep_small, call_request_hlos, ok_hlos, none, always, true },
	{ "request_unmap", prep_request_unmap, call_request_unmap, ok_request_unmap, err_request_unmap, always, false },
	{ "share_map", prep_small, call_share, ok_share, none, always, true },
	{ "share_map_fixed", prep_share_fixed, call_share_fixed, ok_share_fixed, unreserve, has_fixed, true },
	{ "share_unmap", prep_share_unmap, call_share_unmap, ok_share_unmap, call_share_unmap, always, false },
	{ "dma_handle_map", prep_small, call_dh_map, ok_dh_new, none, always, true },
	{ "dma_handle_map_again", prep_dh_again, call_dh_map, ok_dh_again, err_dh_one, always, false },
	{ "dma_handle_unmap_last", prep_dh_again, call_dh_unmap, ok_dh_unmap_last, err_dh_one, always, false },
	{ "dma_handle_unmap", prep_dh_two, call_dh_unmap, ok_dh_unmap_one, err_dh_two, always, false },
	{ "remote_access_write", prep_access, call_access_write, ok_access_write, err_access, has_dma, true },
	{ "remote_access_read", prep_access, call_access_read, ok_access_read, err_access, has_dma, true },
	{ "reserve_va", none, call_reserve, ok_reserve, none, has_fixed, true },
	{ "unreserve_va", reserve, call_unreserve, ok_unreserve, unreserve, has_fixed, false },
};

FIXTURE(failnth) {
	struct ctx c;
	struct rel_counters base;
};

FIXTURE_VARIANT(failnth) {
	unsigned int op;
};

#define OPV(i, n) FIXTURE_VARIANT_ADD(failnth, n) { .op = (i) }
OPV(0, info);
OPV(1, nop);
OPV(2, alloc);
OPV(3, request_map);
OPV(4, request_map_heap_addr);
OPV(5, request_map_remote_heap);
OPV(6, request_map_llc);
OPV(7, request_map_user_pages);
OPV(8, request_map_hlos_fd);
OPV(9, request_unmap);
OPV(10, share_map);
OPV(11, share_map_fixed);
OPV(12, share_unmap);
OPV(13, dma_handle_map);
OPV(14, dma_handle_map_again);
OPV(15, dma_handle_unmap_last);
OPV(16, dma_handle_unmap);
OPV(17, remote_access_write);
OPV(18, remote_access_read);
OPV(19, reserve_va);
OPV(20, unreserve_va);

/* Shared by both fixtures: a session, a buffer, user memory, fail-nth. */
#define CTX_SETUP()							\
	do {								\
	char path[64];	\
	struct stat st;	\
	\
	memset(&self->c, 0, sizeof(self->c));	\
	self->c.fd = self->c.buf = self->c.nth = -1;	\
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",	\
		 (long)syscall(SYS_gettid));	\
	if (stat(path, &st))	\
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");	\
	if (stat("/sys/kernel/debug/failslab", &st))	\
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);	\
	if (stat("/sys/kernel/debug/failslab", &st) ||	\
	    stat("/sys/kernel/debug/fail_page_alloc", &st))	\
		SKIP(return, "no failslab/fail_page_alloc in debugfs");	\
	ASSERT_EQ(0, fi_configure());	\
	self->c.nth = open(path, O_RDWR | O_CLOEXEC);	\
	ASSERT_LE(0, self->c.nth);	\
	\
	self->c.fd = hm_open();	\
	ASSERT_LE(0, self->c.fd);	\
	ASSERT_EQ(0, hm_info(self->c.fd, &self->c.info));	\
	self->c.dma = self->c.info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE;	\
	self->c.fixed = self->c.info.remote_flags & HAPMEM_REMOTE_FIXED_VA;	\
	self->c.buf = hm_alloc(self->c.fd, 2 * HM_SZ_1M, 0);	\
	ASSERT_LE(0, self->c.buf);	\
	self->c.user = mmap(NULL, SMALL_LEN, PROT_READ | PROT_WRITE,	\
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);	\
	ASSERT_NE(MAP_FAILED, self->c.user);	\
	memset(self->c.user, 1, SMALL_LEN);	\
	ASSERT_EQ(0, rel_counters(self->c.fd, &self->base));	\
	} while (0)

#define CTX_TEARDOWN()							\
	do {								\
	if (self->c.nth >= 0) {	\
		nth_set(self->c.nth, 0);	\
		close(self->c.nth);	\
	}	\
	if (self->c.user && self->c.user != MAP_FAILED)	\
		munmap(self->c.user, SMALL_LEN);	\
	if (self->c.buf >= 0)	\
		close(self->c.buf);	\
	if (self->c.fd >= 0)	\
		close(self->c.fd);	\
	EXPECT_TRUE(hm_idle(NULL));	\
	} while (0)

FIXTURE_SETUP(failnth)
{
	CTX_SETUP();
}

FIXTURE_TEARDOWN(failnth)
{
	CTX_TEARDOWN();
}

/* The session still maps and unmaps after whatever happened. */
static int session_works(int fd)
{
	struct hapmem_request_map rm;
	int ret = hm_request(fd, 0, 0, 0, 0, HM_PAGE, &rm);

	return ret ? ret : hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE);
}

TEST_F_TIMEOUT(failnth, sweep, 600)
{
	const struct op *op = &ops[variant->op];
	struct ctx *c = &self->c;
	struct rel_counters before, after;
	unsigned int n, points = 0, failed = 0, survived = 0;
	double t0 = rel_now();
	char s1[200], s2[200];

	/* A SKIP in the fixture's setup does not stop the test body. */
	if (c->nth < 0)
		SKIP(return, "no fail-nth");
	if (!op->usable(c))
		SKIP(return, "%s does not apply to remote %s", op->name,
		     c->info.name);

	for (n = 1; n <= SWEEP_MAX; n++) {
		int next_fd, ret, err;
		long left;

		ASSERT_EQ(0, op->prepare(c)) TH_LOG("%s: prepare (n=%u)", op->name, n);
		ASSERT_EQ(0, rel_counters(c->fd, &before));
		next_fd = rel_next_fd();

		last.arg = NULL;
		ASSERT_EQ(0, nth_set(c->nth, n));
		ret = op->call(c);
		left = nth_left(c->nth);
		nth_set(c->nth, 0);
		ASSERT_LE(0, left);

		if (ret) {
			err = -ret;
			failed++;
			/* A fault is the only reason valid arguments may fail. */
			EXPECT_EQ(0, left) TH_LOG("%s: n=%u failed (%s) with no fault injected",
						  op->name, n, strerror(err));
			EXPECT_EQ(ENOMEM, err) TH_LOG("%s: n=%u: %s", op->name, n, strerror(err));
			/* The ioctl wrote nothing back into its argument. */
			ASSERT_NE(NULL, last.arg) TH_LOG("%s: no ioctl recorded", op->name);
			EXPECT_EQ(0, memcmp(last.arg, last.in, last.size))
				TH_LOG("%s: n=%u: the failed call wrote into its argument",
				       op->name, n);
			ASSERT_EQ(0, rel_counters(c->fd, &after));
			rel_counters_str(&before, s1, sizeof(s1));
			rel_counters_str(&after, s2, sizeof(s2));
			EXPECT_TRUE(rel_counters_eq(&before, &after))
				TH_LOG("%s: n=%u: partial state: before %s after %s",
				       op->name, n, s1, s2);
			EXPECT_EQ(next_fd, rel_next_fd()) TH_LOG("%s: n=%u: fd leaked", op->name, n);
			EXPECT_EQ(0, op->done_err(c)) TH_LOG("%s: n=%u: undo", op->name, n);
		} else {
			if (!left)
				survived++;
			EXPECT_EQ(0, op->done_ok(c)) TH_LOG("%s: n=%u: result or undo", op->name, n);
		}
		ASSERT_EQ(0, rel_counters(c->fd, &after));
		rel_counters_str(&self->base, s1, sizeof(s1));
		rel_counters_str(&after, s2, sizeof(s2));
		ASSERT_TRUE(rel_counters_eq(&self->base, &after))
			TH_LOG("%s: n=%u: not back to the start: %s, now %s",
			       op->name, n, s1, s2);
		ASSERT_EQ(0, session_works(c->fd)) TH_LOG("%s: n=%u", op->name, n);
		if (left)
			break;
		points++;
	}
	ASSERT_GE(SWEEP_MAX, n) TH_LOG("%s: still faulting after %u", op->name, SWEEP_MAX);
	TH_LOG("%s: %u injection points (%u failed cleanly with ENOMEM, %u absorbed), %.1f s",
	       op->name, points, failed, survived, rel_now() - t0);
	/* Every op that allocates must have reached some. */
	if (op->allocates)
		EXPECT_LT(0, points) TH_LOG("%s: no injection point reached", op->name);
}

/*
 * Unmaps allocate only when a tree has to rebalance, which needs many
 * entries.  Fill the session (and the remote's address space, and a
 * reservation) with maps of every kind, then unmap them all in a shuffled
 * order, each with its first allocation failing.  An unmap must either
 * fail cleanly or really remove the map: the same unmap again finds
 * nothing, and the counters drop by exactly one map.
 */
#define TREE_MAPS 192

struct tmap {
	int kind;	/* 0 request, 1 share, 2 share fixed, 3 dma_handle */
	uint64_t vadsp, len, off;
};

static int tmap_unmap(int fd, int buf, const struct tmap *m, uint32_t *refs)
{
	struct hapmem_dma_handle_unmap du = { .fd = buf, .len = m->len };
	int ret;

	switch (m->kind) {
	case 0:
		return hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, m->vadsp, m->len);
	case 1:
	case 2:
		return hm_unmap(fd, HAPMEM_IOC_SHARE_UNMAP, m->vadsp, m->len);
	default:
		ret = hm_test_ioctl(fd, HAPMEM_IOC_DMA_HANDLE_UNMAP, &du);
		if (refs)
			*refs = du.refs;
		return ret;
	}
}

FIXTURE(trees) {
	struct ctx c;
	struct rel_counters base;
};

FIXTURE_SETUP(trees)
{
	CTX_SETUP();
}

FIXTURE_TEARDOWN(trees)
{
	CTX_TEARDOWN();
}

TEST_F_TIMEOUT(trees, unmap_in_full_trees, 600)
{
	struct ctx *c = &self->c;
	static struct tmap maps[TREE_MAPS];
	struct rel_counters before, after;
	unsigned int i, injected = 0, failed = 0, nmaps = 0;
	uint64_t seed = 0x1234567, resv = 0;
	int buf;
	double t0 = rel_now();

	if (c->nth < 0)
		SKIP(return, "no fail-nth");
	buf = hm_alloc(c->fd, 1024 * HM_PAGE, 0);
	ASSERT_LE(0, buf);
	if (c->fixed) {
		ASSERT_EQ(0, reserve(c));
		resv = c->resv;
	}
	for (i = 0; i < TREE_MAPS; i++) {
		struct tmap *m = &maps[nmaps];
		struct hapmem_request_map rm;
		struct hapmem_dma_handle_map dm = {};
		uint64_t at;

		m->kind = i % 4;
		m->len = HM_PAGE * (1 + i % 3);
		m->off = HM_PAGE * 4 * i;
		switch (m->kind) {
		case 0:
			ASSERT_EQ(0, hm_request(c->fd, 0, 0, 0, 0, m->len, &rm));
			m->vadsp = rm.vadsp;
			break;
		case 2:
			if (!resv) {
				m->kind = 1;
				i--;
				continue;
			}
			at = resv + HM_PAGE * 4 * (i / 4);
			ASSERT_EQ(0, hm_share(c->fd, buf, m->off, m->len,
					      HAPMEM_MAP_FIXED, &at));
			m->vadsp = at;
			break;
		case 1:
			ASSERT_EQ(0, hm_share(c->fd, buf, m->off, m->len, 0, &m->vadsp));
			break;
		default:
			/* dma_handle unmap names (buffer, len): make len unique. */
			m->len = HM_PAGE * (1 + i / 4);
			m->off = 0;
			dm.fd = buf;
			dm.offset = m->off;
			dm.len = m->len;
			ASSERT_EQ(0, hm_test_ioctl(c->fd, HAPMEM_IOC_DMA_HANDLE_MAP, &dm));
			m->vadsp = dm.vadsp;
			break;
		}
		nmaps++;
		if (getenv("REL_DEBUG"))
			fprintf(stderr, "made %u kind %d\n", i, m->kind);
	}
	/* Shuffle. */
	for (i = nmaps - 1; i > 0; i--) {
		unsigned int j = rel_rand(&seed) % (i + 1);
		struct tmap t = maps[i];

		maps[i] = maps[j];
		maps[j] = t;
	}
	for (i = 0; i < nmaps; i++) {
		struct tmap *m = &maps[i];
		int ret, again;
		long left;

		ASSERT_EQ(0, rel_counters(c->fd, &before));
		if (getenv("REL_DEBUG"))
			fprintf(stderr, "unmap %u kind %d vadsp %#llx len %#llx\n", i, m->kind,
				(unsigned long long)m->vadsp, (unsigned long long)m->len);
		ASSERT_EQ(0, nth_set(c->nth, 1));
		ret = tmap_unmap(c->fd, buf, m, NULL);
		left = nth_left(c->nth);
		nth_set(c->nth, 0);
		injected += !left;
		ASSERT_EQ(0, rel_counters(c->fd, &after));
		if (ret) {
			failed++;
			EXPECT_EQ(-ENOMEM, ret) TH_LOG("map %u kind %d", i, m->kind);
			EXPECT_TRUE(rel_counters_eq(&before, &after));
			ret = tmap_unmap(c->fd, buf, m, NULL);
			ASSERT_EQ(0, ret) TH_LOG("map %u kind %d: retry", i, m->kind);
			ASSERT_EQ(0, rel_counters(c->fd, &after));
		}
		EXPECT_EQ(before.session_maps - 1, after.session_maps)
			TH_LOG("map %u kind %d", i, m->kind);
		EXPECT_EQ(before.maps - 1, after.maps);
		EXPECT_EQ(before.session_bytes - m->len, after.session_bytes);
		/* Gone for good: no stale entry answers. */
		again = tmap_unmap(c->fd, buf, m, NULL);
		EXPECT_EQ(-ENOENT, again) TH_LOG("map %u kind %d vadsp %#llx", i,
						 m->kind, (unsigned long long)m->vadsp);
		EXPECT_EQ(-ENOENT, hm_remote(c->fd, m->vadsp, c->data, 8, 0, NULL));
	}
	if (resv)
		EXPECT_EQ(0, unreserve(c));
	close(buf);
	ASSERT_EQ(0, rel_counters(c->fd, &after));
	EXPECT_TRUE(rel_counters_eq(&self->base, &after));
	EXPECT_EQ(0, session_works(c->fd));
	TH_LOG("%u unmaps in full trees: %u reached an injection point, %u failed cleanly, %.1f s",
	       nmaps, injected, failed, rel_now() - t0);
}

TEST_HARNESS_MAIN
