/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A simulated hapmem kernel for libhapmem's host unit tests.
 *
 * Include this in exactly one test .c: it defines hm_ioctl() and
 * hm_buf_id_of(), which then take the place of the library's (each is
 * alone in its archive member, lib/transport/ioctl.c and lib/transport/dmabuf_id.c, so the
 * linker does not pull the real ones from libhapmem.a).  The library above
 * them is the real one.
 *
 * What it simulates, following uapi/linux/hapmem.h:
 *   - buffers are memfds (the "dma-bufs"; any regular file counts as one,
 *     anything else is "open but not a dma-buf");
 *   - request_map / share_map / dma_handle_map / reserve_va with their
 *     unmaps, device addresses from a 32-bit window [1 GiB, 4 GiB) and a
 *     high one [64 GiB, ...), fixed maps inside reservations, EEXIST /
 *     EBUSY / ENOENT / EINVAL as the header documents;
 *   - remote access (pread/pwrite of the buffer behind a map);
 *   - info counters (session maps and reservations).
 * fake_fail(cmd, err) makes the next call of ioctl number @cmd fail.
 *
 * One "session" per process: the device fd is any openable file
 * (HAPMEM_DEVICE=/dev/null); the simulated state is reset with fake_reset().
 */
#ifndef TEST_LIB_FAKE_KERNEL_H
#define TEST_LIB_FAKE_KERNEL_H

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/hapmem.h>

#include "transport/dmabuf_id.h"
#include "transport/ioctl.h"

#define FAKE_MAX 4096
#define FAKE_VA32_START 0x40000000ULL
#define FAKE_VA32_END 0x100000000ULL
#define FAKE_VA64_START 0x1000000000ULL

enum fake_kind { FK_FREE, FK_REQUEST, FK_SHARE, FK_DMA_HANDLE, FK_RESV };

struct fake_map {
	enum fake_kind kind;
	uint64_t vadsp, len, offset;
	int buf;		/* fake's own dup of the buffer, -1 for none */
	uint64_t ino;
	unsigned int refs;	/* dma_handle maps */
};

static struct fake_map fake_maps[FAKE_MAX];
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fake_next32 = FAKE_VA32_START, fake_next64 = FAKE_VA64_START;
static unsigned long fake_fail_cmd;
static int fake_fail_err;
static unsigned long fake_calls[HAPMEM_CMD_END];

/* Make the next ioctl @req fail with @err. */
static inline void fake_fail(unsigned long req, int err)
{
	pthread_mutex_lock(&fake_lock);
	fake_fail_cmd = req;
	fake_fail_err = err;
	pthread_mutex_unlock(&fake_lock);
}

/* How many times ioctl @req was called. */
static inline unsigned long fake_count(unsigned long req)
{
	unsigned long n;

	pthread_mutex_lock(&fake_lock);
	n = fake_calls[_IOC_NR(req)];
	pthread_mutex_unlock(&fake_lock);
	return n;
}

/* Live simulated maps of @kind (FK_FREE: all kinds but reservations). */
static inline int fake_live(enum fake_kind kind)
{
	int i, n = 0;

	pthread_mutex_lock(&fake_lock);
	for (i = 0; i < FAKE_MAX; i++) {
		if (fake_maps[i].kind == FK_FREE)
			continue;
		if (kind == FK_FREE ? fake_maps[i].kind != FK_RESV : fake_maps[i].kind == kind)
			n++;
	}
	pthread_mutex_unlock(&fake_lock);
	return n;
}

static int fake_is_buf(int fd, struct stat *st)
{
	if (fd < 0 || fstat(fd, st))
		return -EBADF;
	return S_ISREG(st->st_mode) ? 0 : -ENODEV;
}

int hm_buf_id_of(int fd, struct hm_buf_id *id)
{
	struct stat st;
	int ret = fake_is_buf(fd, &st);

	if (ret)
		return ret == -ENODEV ? -EBADFD : ret;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

static int fake_new_buf(uint64_t len)
{
	int fd = memfd_create("fake-dmabuf", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static struct fake_map *fake_slot(void)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++)
		if (fake_maps[i].kind == FK_FREE)
			return &fake_maps[i];
	return NULL;
}

static int fake_overlaps(uint64_t va, uint64_t len, int with_resv)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++) {
		struct fake_map *m = &fake_maps[i];

		if (m->kind == FK_FREE || (m->kind == FK_RESV && !with_resv))
			continue;
		if (va < m->vadsp + m->len && m->vadsp < va + len)
			return 1;
	}
	return 0;
}

static struct fake_map *fake_resv_containing(uint64_t va, uint64_t len)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++) {
		struct fake_map *m = &fake_maps[i];

		if (m->kind == FK_RESV && va >= m->vadsp && va + len <= m->vadsp + m->len)
			return m;
	}
	return NULL;
}

/* Bump allocation of device addresses; never inside anything live. */
static int fake_alloc_va(uint32_t flags, uint64_t len, __u64 *va)
{
	uint64_t *next = (flags & HAPMEM_MAP_VA32) ? &fake_next32 : &fake_next64;

	len = (len + 0xfff) & ~0xfffULL;
	while (fake_overlaps(*next, len, 1))
		*next += 0x1000;
	if ((flags & HAPMEM_MAP_VA32) && *next + len > FAKE_VA32_END)
		return -ENOSPC;
	*va = *next;
	*next += len + 0x1000;	/* a guard page between maps */
	return 0;
}

static struct fake_map *fake_find(enum fake_kind kind, uint64_t va)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++)
		if (fake_maps[i].kind == kind && fake_maps[i].vadsp == va)
			return &fake_maps[i];
	return NULL;
}

static void fake_drop(struct fake_map *m)
{
	if (m->buf >= 0)
		close(m->buf);
	memset(m, 0, sizeof(*m));
	m->buf = -1;
}

static int fake_request_map(struct hapmem_request_map *a)
{
	struct fake_map *m;
	int ret, fd = -1, keep;

	if (a->flags & ~HAPMEM_REQUEST_MAP_VALID || !a->len)
		return -EINVAL;
	if ((a->flags & HAPMEM_MAP_VA32) && a->len > INT32_MAX)
		return -EINVAL;
	if (a->vin && (a->vin & 0xfff || a->len & 0xfff))
		return -EINVAL;
	m = fake_slot();
	if (!m)
		return -EDQUOT;
	keep = fake_new_buf(a->len);
	if (keep < 0)
		return keep;
	if ((a->flags & HAPMEM_REQUEST_FD) || a->rflags == HAPMEM_RFLAG_HLOS_FD) {
		fd = dup(keep);
		if (fd < 0) {
			close(keep);
			return -EMFILE;
		}
	}
	if (a->rflags == HAPMEM_RFLAG_HLOS_FD) {
		close(keep);
		a->vadsp = 0;
		a->fd = fd;
		return 0;
	}
	ret = fake_alloc_va(a->flags, a->len, &a->vadsp);
	if (ret) {
		close(keep);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	m->kind = FK_REQUEST;
	m->vadsp = a->vadsp;
	m->len = a->len;
	m->buf = keep;
	a->fd = fd;
	return 0;
}

static int fake_unmap(enum fake_kind kind, struct hapmem_unmap *a)
{
	struct fake_map *m = fake_find(kind, a->vadsp);

	if (!m) {
		/* the other kind at that address: EINVAL, as the header says */
		if (fake_find(kind == FK_SHARE ? FK_REQUEST : FK_SHARE, a->vadsp))
			return -EINVAL;
		return -ENOENT;
	}
	if (m->len != a->len)
		return -EINVAL;
	fake_drop(m);
	return 0;
}

static int fake_share_map(struct hapmem_share_map *a)
{
	struct fake_map *m;
	struct stat st;
	uint64_t len = a->len;
	int ret;

	if (a->flags & ~HAPMEM_SHARE_MAP_VALID)
		return -EINVAL;
	ret = fake_is_buf(a->fd, &st);
	if (ret)
		return ret;
	if (a->offset & 0xfff || len & 0xfff)
		return -EINVAL;
	if (!len)
		len = (uint64_t)st.st_size - a->offset;
	if (a->offset + len > (uint64_t)st.st_size)
		return -EINVAL;
	m = fake_slot();
	if (!m)
		return -EDQUOT;
	if (a->flags & HAPMEM_MAP_FIXED) {
		if (!fake_resv_containing(a->vadsp, len))
			return -ENOENT;
		if (fake_overlaps(a->vadsp, len, 0))
			return -EEXIST;
	} else {
		ret = fake_alloc_va(a->flags, len, &a->vadsp);
		if (ret)
			return ret;
	}
	m->kind = FK_SHARE;
	m->vadsp = a->vadsp;
	m->len = len;
	m->offset = a->offset;
	m->buf = dup(a->fd);
	m->ino = st.st_ino;
	return 0;
}

static int fake_dma_handle_map(struct hapmem_dma_handle_map *a)
{
	struct fake_map *m;
	struct stat st;
	int i, ret;

	if (a->flags & ~HAPMEM_DMA_HANDLE_MAP_VALID)
		return -EINVAL;
	ret = fake_is_buf(a->fd, &st);
	if (ret)
		return ret;
	if (a->offset & 0xfff || !a->len || a->len & 0xfff ||
	    a->offset + a->len > (uint64_t)st.st_size)
		return -EINVAL;
	for (i = 0; i < FAKE_MAX; i++) {
		m = &fake_maps[i];
		if (m->kind == FK_DMA_HANDLE && m->ino == st.st_ino &&
		    m->offset == a->offset && m->len == a->len) {
			a->refs = ++m->refs;
			a->vadsp = m->vadsp;
			return 0;
		}
	}
	m = fake_slot();
	if (!m)
		return -EDQUOT;
	ret = fake_alloc_va(a->flags, a->len, &a->vadsp);
	if (ret)
		return ret;
	m->kind = FK_DMA_HANDLE;
	m->vadsp = a->vadsp;
	m->len = a->len;
	m->offset = a->offset;
	m->ino = st.st_ino;
	m->buf = dup(a->fd);
	a->refs = m->refs = 1;
	return 0;
}

static int fake_dma_handle_unmap(struct hapmem_dma_handle_unmap *a)
{
	struct stat st;
	int i, ret;

	ret = fake_is_buf(a->fd, &st);
	if (ret)
		return ret;
	for (i = FAKE_MAX - 1; i >= 0; i--) {
		struct fake_map *m = &fake_maps[i];

		if (m->kind == FK_DMA_HANDLE && m->ino == st.st_ino && m->len == a->len) {
			a->refs = --m->refs;
			if (!m->refs)
				fake_drop(m);
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_reserve(struct hapmem_reserve_va *a)
{
	struct fake_map *m;
	int ret;

	if (a->flags & ~HAPMEM_RESERVE_VA_VALID || !a->len || a->len & 0xfff)
		return -EINVAL;
	m = fake_slot();
	if (!m)
		return -EDQUOT;
	ret = fake_alloc_va(a->flags, a->len, &a->vadsp);
	if (ret)
		return ret;
	m->kind = FK_RESV;
	m->vadsp = a->vadsp;
	m->len = a->len;
	m->buf = -1;
	return 0;
}

static int fake_unreserve(struct hapmem_unreserve_va *a)
{
	struct fake_map *m = fake_find(FK_RESV, a->vadsp);

	if (!m)
		return -ENOENT;
	if (m->len != a->len)
		return -EINVAL;
	if (fake_overlaps(m->vadsp, m->len, 0))
		return -EBUSY;
	fake_drop(m);
	return 0;
}

static int fake_access(struct hapmem_remote_access *a)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++) {
		struct fake_map *m = &fake_maps[i];
		ssize_t n;
		off_t off;

		if (m->kind == FK_FREE || m->kind == FK_RESV || m->buf < 0)
			continue;
		if (a->vadsp < m->vadsp || a->vadsp + a->len > m->vadsp + m->len)
			continue;
		off = (off_t)(m->offset + (a->vadsp - m->vadsp));
		if (a->flags & HAPMEM_ACCESS_WRITE)
			n = pwrite(m->buf, (void *)(uintptr_t)a->uptr, a->len, off);
		else
			n = pread(m->buf, (void *)(uintptr_t)a->uptr, a->len, off);
		return n == (ssize_t)a->len ? 0 : -EIO;
	}
	return -ENOENT;
}

static int fake_info(struct hapmem_info *a)
{
	int i;

	a->num_remotes = 1;
	a->remote_flags = HAPMEM_REMOTE_IOMMU | HAPMEM_REMOTE_DMA_ENGINE |
			  HAPMEM_REMOTE_FIXED_VA;
	strcpy(a->name, "fake");
	a->va32_start = FAKE_VA32_START;
	a->va32_end = FAKE_VA32_END;
	a->va64_start = FAKE_VA64_START;
	a->va64_end = ~0ULL;
	for (i = 0; i < FAKE_MAX; i++) {
		if (fake_maps[i].kind == FK_FREE)
			continue;
		if (fake_maps[i].kind == FK_RESV) {
			a->global_reservations++;
			continue;
		}
		a->session_maps++;
		a->session_bytes += fake_maps[i].len;
	}
	a->global_maps = a->session_maps;
	a->global_bytes = a->session_bytes;
	a->global_sessions = 1;
	return 0;
}

int hm_ioctl(int fd, unsigned long req, void *arg)
{
	uint32_t size = *(uint32_t *)arg;
	unsigned int nr = _IOC_NR(req);
	int ret;

	if (fd < 0)
		return -EBADF;
	if (nr < HAPMEM_CMD_BASE || nr >= HAPMEM_CMD_END || _IOC_TYPE(req) != HAPMEM_TYPE)
		return -ENOTTY;
	pthread_mutex_lock(&fake_lock);
	fake_calls[nr]++;
	if (fake_fail_cmd == req) {
		fake_fail_cmd = 0;
		pthread_mutex_unlock(&fake_lock);
		return -fake_fail_err;
	}
	switch (req) {
	case HAPMEM_IOC_NOP:
		ret = size == sizeof(struct hapmem_nop) ? 0 : -EINVAL;
		break;
	case HAPMEM_IOC_INFO:
		ret = size == sizeof(struct hapmem_info) ? fake_info(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_ALLOC: {
		struct hapmem_alloc *a = arg;

		ret = -EINVAL;
		if (size == sizeof(*a) && a->len && !(a->flags & ~HAPMEM_ALLOC_VALID)) {
			ret = fake_new_buf(a->len);
			if (ret >= 0) {
				a->fd = ret;
				ret = 0;
			}
		}
		break;
	}
	case HAPMEM_IOC_REQUEST_MAP:
		ret = size == sizeof(struct hapmem_request_map) ? fake_request_map(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_REQUEST_UNMAP:
		ret = size == sizeof(struct hapmem_unmap) ? fake_unmap(FK_REQUEST, arg) : -EINVAL;
		break;
	case HAPMEM_IOC_SHARE_MAP:
		ret = size == sizeof(struct hapmem_share_map) ? fake_share_map(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_SHARE_UNMAP:
		ret = size == sizeof(struct hapmem_unmap) ? fake_unmap(FK_SHARE, arg) : -EINVAL;
		break;
	case HAPMEM_IOC_DMA_HANDLE_MAP:
		ret = size == sizeof(struct hapmem_dma_handle_map) ? fake_dma_handle_map(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_DMA_HANDLE_UNMAP:
		ret = size == sizeof(struct hapmem_dma_handle_unmap) ? fake_dma_handle_unmap(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_REMOTE_ACCESS:
		ret = size == sizeof(struct hapmem_remote_access) ? fake_access(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_RESERVE_VA:
		ret = size == sizeof(struct hapmem_reserve_va) ? fake_reserve(arg) : -EINVAL;
		break;
	case HAPMEM_IOC_UNRESERVE_VA:
		ret = size == sizeof(struct hapmem_unreserve_va) ? fake_unreserve(arg) : -EINVAL;
		break;
	default:
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&fake_lock);
	return ret;
}

/* Point the library at a device node that opens (the fake answers the ioctls). */
static inline void fake_setup(void)
{
	int i;

	setenv("HAPMEM_DEVICE", "/dev/null", 1);
	pthread_mutex_lock(&fake_lock);
	for (i = 0; i < FAKE_MAX; i++)
		fake_maps[i].buf = -1;
	pthread_mutex_unlock(&fake_lock);
}

#endif /* TEST_LIB_FAKE_KERNEL_H */
