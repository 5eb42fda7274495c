/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the driver's kselftests: raw ioctls (these tests check
 * the kernel ABI itself, so they do not go through libhapmem), device
 * reads and writes through the remote's DMA engine, and the global
 * counters.
 */
#ifndef HAPMEM_TEST_H
#define HAPMEM_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/hapmem.h>

#ifndef __KSELFTEST_HARNESS_H
#error "include kselftest_harness.h before hapmem_test.h"
#endif

/*
 * 6.1's kselftest_harness.h turns failures into skips: SKIP() sets the
 * test back to passed even after an EXPECT_*() failed, and an
 * expectation failing after SKIP() (a teardown check of a skipped test)
 * still exits as a skip.  Here a SKIP() after a failure leaves the test
 * failed, and a failure after SKIP() clears the skip: every test file
 * includes this header after the harness.
 */
#undef SKIP
#define SKIP(statement, fmt, ...) do {					\
	if (!_metadata->passed) {					\
		TH_LOG("SKIP after a failure (the test fails): " fmt,	\
		       ##__VA_ARGS__);					\
		_metadata->skip = 0;					\
		statement;						\
	} else {							\
		snprintf(_metadata->results->reason,			\
			 sizeof(_metadata->results->reason), fmt,	\
			 ##__VA_ARGS__);				\
		if (TH_LOG_ENABLED)					\
			fprintf(TH_LOG_STREAM, "#      SKIP      %s\n",	\
				_metadata->results->reason);		\
		_metadata->passed = 1;					\
		_metadata->skip = 1;					\
		_metadata->trigger = 0;					\
		statement;						\
	}								\
} while (0)

/*
 * Runs after every EXPECT/ASSERT: a failure is never reported as a skip.
 * Its for clause (from the harness) is no longer in a system header, so
 * gcc's indentation heuristics would see it in every test: quiet them.
 */
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#undef OPTIONAL_HANDLER
#define OPTIONAL_HANDLER(_assert)					\
	for (_metadata->skip = _metadata->skip && _metadata->passed;	\
	     _metadata->trigger;					\
	     _metadata->trigger = __bail(_assert, _metadata))

#define HM_DEV "/dev/hapmem"
#define HM_SZ_1M (1ULL << 20)
#define HM_SZ_2M (2ULL << 20)
#define HM_PAGE 4096ULL
/* One DMA engine transfer: what a device check moves at most, for speed. */
#define HM_XFER 4095ULL

static inline int hm_open_dev(const char *path)
{
	return open(path, O_RDWR | O_CLOEXEC);
}

static inline int hm_open(void)
{
	return hm_open_dev(HM_DEV);
}

/*
 * ioctl returning 0 or -errno, with the struct's size filled in.  Not
 * libhapmem's hm_ioctl() (lib/transport/ioctl.h), which retries EINTR and
 * does not touch the struct: a test states which one it calls.
 */
#define hm_test_ioctl(fd, req, arg)					\
	({								\
		(arg)->size = sizeof(*(arg));				\
		ioctl((fd), (req), (arg)) ? -errno : 0;			\
	})


static inline int hm_info(int fd, struct hapmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->remote = HAPMEM_INFO_SELF;
	return hm_test_ioctl(fd, HAPMEM_IOC_INFO, info);
}

static inline int hm_request(int fd, uint32_t flags, uint32_t ion,
			     uint32_t rflags, uint64_t vin, uint64_t len,
			     struct hapmem_request_map *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = flags;
	out->ion_flags = ion;
	out->rflags = rflags;
	out->vin = vin;
	out->len = len;
	return hm_test_ioctl(fd, HAPMEM_IOC_REQUEST_MAP, out);
}

static inline int hm_unmap(int fd, unsigned long req, uint64_t vadsp,
			   uint64_t len)
{
	struct hapmem_unmap u = { .vadsp = vadsp, .len = len };

	return hm_test_ioctl(fd, req, &u);
}

static inline int hm_alloc(int fd, uint64_t len, uint32_t flags)
{
	struct hapmem_alloc a = { .len = len, .flags = flags };
	int ret = hm_test_ioctl(fd, HAPMEM_IOC_ALLOC, &a);

	return ret ? ret : a.fd;
}

static inline int hm_share(int fd, int buf, uint64_t offset, uint64_t len,
			   uint32_t flags, uint64_t *vadsp)
{
	struct hapmem_share_map m = {
		.fd = buf, .offset = offset, .len = len, .flags = flags,
		.vadsp = vadsp ? *vadsp : 0,
	};
	int ret = hm_test_ioctl(fd, HAPMEM_IOC_SHARE_MAP, &m);

	if (!ret && vadsp)
		*vadsp = m.vadsp;
	return ret;
}

/* The remote's DMA engine moves @len bytes at @vadsp; returns 0 or -errno. */
static inline int hm_remote(int fd, uint64_t vadsp, void *buf, uint64_t len,
			    uint32_t flags, uint32_t *faults)
{
	struct hapmem_remote_access a = {
		.flags = flags, .vadsp = vadsp, .len = len,
		.uptr = (uintptr_t)buf,
	};
	int ret = hm_test_ioctl(fd, HAPMEM_IOC_REMOTE_ACCESS, &a);

	if (faults)
		*faults = a.faults;
	return ret;
}

static inline int hm_remote_read(int fd, uint64_t vadsp, void *buf,
				 uint64_t len)
{
	return hm_remote(fd, vadsp, buf, len, 0, NULL);
}

static inline int hm_remote_write(int fd, uint64_t vadsp, const void *buf,
				  uint64_t len)
{
	return hm_remote(fd, vadsp, (void *)buf, len, HAPMEM_ACCESS_WRITE, NULL);
}

/* A pattern that differs for every byte position and seed. */
static inline void hm_fill(void *p, size_t n, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 8)) ^ seed);
}

/* Number of bytes of @p that differ from hm_fill(@seed). */
static inline size_t hm_check(const void *p, size_t n, unsigned int seed)
{
	const unsigned char *c = p;
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		bad += c[i] != (unsigned char)((i * 131 + seed * 7 + (i >> 8)) ^ seed);
	return bad;
}

static inline int hm_all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/*
 * The driver's global counters, seen from a fresh session (which counts
 * itself as one session).  Returns 1 when nothing but that session is
 * alive: no maps, bytes, buffers, pages or reservations.
 */
static inline int hm_idle(struct hapmem_info *out)
{
	struct hapmem_info info;
	int fd = hm_open(), ret;

	if (fd < 0)
		return 0;
	ret = hm_info(fd, &info);
	close(fd);
	if (ret)
		return 0;
	if (out)
		*out = info;
	return info.global_sessions == 1 && !info.global_maps &&
	       !info.global_bytes && !info.global_buffers &&
	       !info.global_pages && !info.global_reservations;
}

/*
 * The session @fd does real work: a one-page map whose CPU pattern the
 * remote's DMA engine reads back at the map's device address (when the
 * remote has an engine), then its unmap.  Returns 0, or the number of
 * the step that failed.
 */
static inline int hm_session_works(int fd, unsigned int seed)
{
	struct hapmem_request_map rm;
	struct hapmem_info info;
	unsigned char buf[256], *cpu;
	int bad = 0;

	if (hm_info(fd, &info))
		return 1;
	if (hm_request(fd, HAPMEM_REQUEST_FD, 0, 0, 0, HM_PAGE, &rm))
		return 2;
	cpu = mmap(NULL, HM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, rm.fd, 0);
	close(rm.fd);
	if (cpu == MAP_FAILED)
		bad = 3;
	if (!bad && (info.remote_flags & HAPMEM_REMOTE_DMA_ENGINE)) {
		hm_fill(cpu + 100, sizeof(buf), seed);
		memset(buf, 0, sizeof(buf));
		if (hm_remote_read(fd, rm.vadsp + 100, buf, sizeof(buf)))
			bad = 4;
		else if (hm_check(buf, sizeof(buf), seed))
			bad = 5;
	}
	if (cpu != MAP_FAILED)
		munmap(cpu, HM_PAGE);
	if (hm_unmap(fd, HAPMEM_IOC_REQUEST_UNMAP, rm.vadsp, HM_PAGE) && !bad)
		bad = 6;
	return bad;
}

/*
 * 6.1's kselftest_harness.h runs the test body even after a SKIP() in
 * FIXTURE_SETUP, so tests that need the DMA engine say so themselves.
 */
#define HM_REQUIRE_ENGINE(info)						\
	do {								\
		if (!((info).remote_flags & HAPMEM_REMOTE_DMA_ENGINE))	\
			SKIP(return, "remote %s has no DMA engine",	\
			     (info).name);				\
	} while (0)

/*
 * A fixture @name holding one open session (@fd, closed at teardown unless
 * a test set it to -1) and its hapmem_info; the harness must be included.
 */
#define HM_SESSION_FIXTURE(name)					\
	FIXTURE(name) {							\
		int fd;							\
		struct hapmem_info info;				\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->fd = hm_open();					\
		ASSERT_LE(0, self->fd);					\
		ASSERT_EQ(0, hm_info(self->fd, &self->info));		\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		if (self->fd >= 0)					\
			close(self->fd);				\
	}

/* Write a module parameter of hapmem (as root); 0 or -errno. */
static inline int hm_write_param(const char *name, unsigned long long v)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/hapmem/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%llu", v) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* The kernel log from now on (non-blocking), or -errno. */
static inline int hm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait up to @ms for a kernel log record containing @needle (from where
 * hm_kmsg_open() left off): 1 when one came, 0 when none did, -errno when
 * the log cannot be read.
 */
static inline int hm_kmsg_wait(int fd, const char *needle, int ms)
{
	struct timespec t0, now;
	char rec[1024];
	ssize_t len;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left;

		len = read(fd, rec, sizeof(rec) - 1);
		if (len > 0) {
			rec[len] = 0;
			if (strstr(rec, needle))
				return 1;
			continue;
		}
		if (len < 0 && errno == EPIPE)	/* records overwritten */
			continue;
		if (len < 0 && errno != EAGAIN)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - (int)((now.tv_sec - t0.tv_sec) * 1000 +
				  (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

#endif /* HAPMEM_TEST_H */
