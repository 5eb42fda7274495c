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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/hapmem.h>

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

/* ioctl returning 0 or -errno, with the struct's size filled in. */
#define hm_ioctl(fd, req, arg)						\
	({								\
		(arg)->size = sizeof(*(arg));				\
		ioctl((fd), (req), (arg)) ? -errno : 0;			\
	})

static inline int hm_info(int fd, struct hapmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->remote = HAPMEM_INFO_SELF;
	return hm_ioctl(fd, HAPMEM_IOC_INFO, info);
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
	return hm_ioctl(fd, HAPMEM_IOC_REQUEST_MAP, out);
}

static inline int hm_unmap(int fd, unsigned long req, uint64_t vadsp,
			   uint64_t len)
{
	struct hapmem_unmap u = { .vadsp = vadsp, .len = len };

	return hm_ioctl(fd, req, &u);
}

static inline int hm_alloc(int fd, uint64_t len, uint32_t flags)
{
	struct hapmem_alloc a = { .len = len, .flags = flags };
	int ret = hm_ioctl(fd, HAPMEM_IOC_ALLOC, &a);

	return ret ? ret : a.fd;
}

static inline int hm_share(int fd, int buf, uint64_t offset, uint64_t len,
			   uint32_t flags, uint64_t *vadsp)
{
	struct hapmem_share_map m = {
		.fd = buf, .offset = offset, .len = len, .flags = flags,
		.vadsp = vadsp ? *vadsp : 0,
	};
	int ret = hm_ioctl(fd, HAPMEM_IOC_SHARE_MAP, &m);

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
	int ret = hm_ioctl(fd, HAPMEM_IOC_REMOTE_ACCESS, &a);

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

/* Count lines of the kernel log that contain @needle, from now on. */
static inline int hm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline int hm_kmsg_count(int fd, const char *needle)
{
	char rec[1024];
	int n = 0;
	ssize_t len;

	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0 || (len < 0 && errno == EPIPE)) {
		if (len <= 0)
			continue;
		rec[len] = 0;
		if (strstr(rec, needle))
			n++;
	}
	return n;
}

#endif /* HAPMEM_TEST_H */
