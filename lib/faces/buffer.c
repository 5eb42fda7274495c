// SPDX-License-Identifier: GPL-2.0-only
/*
 * rpcmem-style buffers: HAPMEM_IOC_ALLOC, then an mmap of the dma-buf.
 *
 * Locking: buf_lock protects buf_table (CPU range -> struct buf).  System
 * calls (ioctl, mmap, munmap, close) are made outside it: an entry is
 * inserted once it is complete and removed before it is torn down, so a
 * concurrent hapmem_buf_to_fd() sees a buffer either whole or not at all.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hapmem_buf.h"
#include "util/amap.h"
#include "util/fork.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

struct buf {
	void *cpu;
	size_t len;
	int fd;
};

static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static struct hm_amap buf_table = HM_AMAP_INIT;

/* The child forgets the parent's buffers; the CPU mappings stay. */
static void buf_reset(void)
{
	size_t i;

	for (i = 0; i < buf_table.n; i++) {
		struct buf *b = buf_table.v[i].val;

		close(b->fd);
		free(b);
	}
	hm_amap_clear(&buf_table);
}

static const struct hm_fork_hooks buf_fork_hooks = {
	.rank = HM_FORK_BUFFER,
	.lock = &buf_lock,
	.reset = buf_reset,
};

static void buf_init(void)
{
	hm_fork_register(&buf_fork_hooks);
}

static int buf_alloc(int heap_id, uint32_t flags, size_t size, void **out)
{
	struct buf *b;
	size_t len;
	void *cpu;
	int dev, fd, ret;

	if (!size)
		return -EINVAL;
	if (heap_id != HAPMEM_BUF_HEAP_ANY && heap_id != HAPMEM_BUF_HEAP_DEFAULT &&
	    heap_id != HAPMEM_BUF_HEAP_SYSTEM)
		return -EINVAL;
	if (flags & ~(HAPMEM_BUF_CACHED | HAPMEM_BUF_UNCACHED))
		return -EINVAL;
	if ((flags & HAPMEM_BUF_CACHED) && (flags & HAPMEM_BUF_UNCACHED))
		return -EINVAL;
	if (hm_page_align_up(size, &len))
		return -ENOMEM;

	pthread_once(&buf_once, buf_init);
	dev = hm_session_fd();
	if (dev < 0)
		return dev;

	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	ret = hm_ioc_alloc(dev, (flags & HAPMEM_BUF_UNCACHED) ? 0 : HAPMEM_ION_FLAG_CACHED,
			   len, &fd);
	if (ret)
		goto err_free;
	cpu = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cpu == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	b->cpu = cpu;
	b->len = len;
	b->fd = fd;

	pthread_mutex_lock(&buf_lock);
	ret = hm_amap_insert(&buf_table, (uintptr_t)cpu, len, b);
	pthread_mutex_unlock(&buf_lock);
	if (ret)
		goto err_unmap;
	*out = cpu;
	return 0;

err_unmap:
	munmap(cpu, len);
err_close:
	close(fd);
err_free:
	free(b);
	return ret;
}

void *hapmem_buf_alloc(int heap_id, uint32_t flags, size_t size)
{
	void *p = NULL;
	int ret = buf_alloc(heap_id, flags, size, &p);

	if (ret) {
		errno = -ret;
		return NULL;
	}
	return p;
}

int hapmem_buf_free(void *ptr)
{
	struct buf *b;

	if (!ptr)
		return -EINVAL;
	pthread_mutex_lock(&buf_lock);
	b = hm_amap_find(&buf_table, (uintptr_t)ptr);
	if (b && b->cpu == ptr)
		hm_amap_remove(&buf_table, (uintptr_t)ptr);
	pthread_mutex_unlock(&buf_lock);
	if (!b)
		return -ENOENT;
	if (b->cpu != ptr)
		return -EINVAL;
	munmap(b->cpu, b->len);
	close(b->fd);
	free(b);
	return 0;
}

int hapmem_buf_to_fd(const void *ptr)
{
	struct buf *b;
	int fd;

	pthread_mutex_lock(&buf_lock);
	b = hm_amap_find(&buf_table, (uintptr_t)ptr);
	fd = b ? b->fd : -ENOENT;
	pthread_mutex_unlock(&buf_lock);
	return fd;
}

size_t hapmem_buf_size(const void *ptr)
{
	struct buf *b;
	size_t len = 0;

	pthread_mutex_lock(&buf_lock);
	b = hm_amap_find(&buf_table, (uintptr_t)ptr);
	if (b && b->cpu == ptr)
		len = b->len;
	pthread_mutex_unlock(&buf_lock);
	return len;
}
