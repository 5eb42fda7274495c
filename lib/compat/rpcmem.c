// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rpcmem face: the platform's buffer allocator over hapmem_buf_*.
 *
 * RPCMEM_HEAP_ID_SYSTEM, _CONTIG and the deprecated default heap are
 * hapmem_buf buffers (pages from the system; the remote's IOMMU makes a
 * buffer contiguous in its address space).  RPCMEM_HEAP_ID_SECURE is
 * protected memory: an apps_mem REMOTE_HEAP_ADDR allocation with an fd
 * (privileged), which the CPU never reaches; the address returned is a
 * handle (an inaccessible reservation), as HAP_mmap gives for such
 * buffers.
 *
 * Locking: sec_lock protects sec_table (handle -> struct sec).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compat/rpcmem.h"
#include "util/amap.h"
#include "compat_internal.h"
#include "hapmem_buf.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

#define KNOWN_FLAGS (RPCMEM_DEFAULT_FLAGS | RPCMEM_FORCE_NOFLUSH |		\
		     RPCMEM_FORCE_NOINVALIDATE | RPCMEM_TRY_MAP_STATIC |	\
		     RPCMEM_HEAP_DEFAULT | RPCMEM_HEAP_NOREG |		\
		     RPCMEM_HEAP_UNCACHED | RPCMEM_HEAP_NOVA |		\
		     RPCMEM_HEAP_NONCOHERENT)

struct sec {
	void *cpu;
	size_t len;
	uint64_t vadsp;
	int fd;
	uint64_t gen;
};

static pthread_mutex_t sec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hm_amap sec_table = HM_AMAP_INIT;

void rpcmem_init(void)
{
}

void rpcmem_deinit(void)
{
}

static int sec_alloc(size_t size, void **out)
{
	struct hm_request_map_in in = {
		.flags = HAPMEM_REQUEST_FD,
		.heap_id = HAPMEM_HEAP_ID_ANY,
		.rflags = HAPMEM_RFLAG_REMOTE_HEAP_ADDR,
	};
	struct hm_request_map_out o;
	struct sec *s;
	size_t len;
	int dev, ret;

	if (hm_page_align_up(size, &len))
		return -ENOMEM;
	in.len = len;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = hm_ioc_request_map(dev, &in, &o);
	if (ret)
		goto err_free;
	s->len = in.len;
	s->vadsp = o.vadsp;
	s->fd = o.fd;
	s->gen = hm_session_gen();
	s->cpu = mmap(NULL, s->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (s->cpu == MAP_FAILED) {
		ret = -errno;
		goto err_unmap;
	}
	pthread_mutex_lock(&sec_lock);
	ret = hm_amap_insert(&sec_table, (uintptr_t)s->cpu, s->len, s);
	pthread_mutex_unlock(&sec_lock);
	if (ret)
		goto err_cpu;
	*out = s->cpu;
	return 0;

err_cpu:
	munmap(s->cpu, s->len);
err_unmap:
	hm_ioc_request_unmap(dev, s->vadsp, s->len);
	close(s->fd);
err_free:
	free(s);
	return ret;
}

void *rpcmem_alloc2(int heapid, uint32 flags, size_t size)
{
	uint32_t bflags;
	void *p = NULL;
	int ret;

	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	if (flags & ~(uint32_t)KNOWN_FLAGS) {
		errno = EINVAL;
		return NULL;
	}
	bflags = (flags & RPCMEM_FLAG_CACHED) && !(flags & RPCMEM_HEAP_UNCACHED) ?
		 HAPMEM_BUF_CACHED : HAPMEM_BUF_UNCACHED;
	switch (heapid) {
	case RPCMEM_DEFAULT_HEAP:
	case RPCMEM_HEAP_ID_SYSTEM:
	case RPCMEM_HEAP_ID_CONTIG:
		return hapmem_buf_alloc(HAPMEM_BUF_HEAP_SYSTEM, bflags, size);
	case RPCMEM_HEAP_ID_SECURE:
		ret = sec_alloc(size, &p);
		if (ret) {
			errno = -ret;
			return NULL;
		}
		return p;
	default:
		errno = EINVAL;
		return NULL;
	}
}

void *rpcmem_alloc(int heapid, uint32 flags, int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return rpcmem_alloc2(heapid, flags, (size_t)size);
}

void *rpcmem_alloc_def(int size)
{
	return rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, size);
}

void rpcmem_free(void *po)
{
	struct sec *s;
	int dev;

	if (!po)
		return;
	pthread_mutex_lock(&sec_lock);
	s = hm_amap_find_exact(&sec_table, (uintptr_t)po);
	if (s)
		hm_amap_remove(&sec_table, (uintptr_t)po);
	pthread_mutex_unlock(&sec_lock);
	if (!s) {
		hapmem_buf_free(po);	/* not a buffer: ignored, as the platform */
		return;
	}
	/* a fork child's session never had the map: only the parent unmaps */
	if (s->gen == hm_session_gen()) {
		dev = hm_session_fd();
		if (dev >= 0)
			hm_ioc_request_unmap(dev, s->vadsp, s->len);
	}
	munmap(s->cpu, s->len);
	close(s->fd);
	free(s);
}

int rpcmem_to_fd(void *po)
{
	struct sec *s;
	int fd;

	pthread_mutex_lock(&sec_lock);
	s = hm_amap_find(&sec_table, (uintptr_t)po);
	fd = s ? s->fd : -1;
	pthread_mutex_unlock(&sec_lock);
	if (fd >= 0)
		return fd;
	fd = hapmem_buf_to_fd(po);
	return fd < 0 ? -1 : fd;
}

uint64_t hm_rpcmem_vadsp(const void *po)
{
	struct sec *s;
	uint64_t vadsp;

	pthread_mutex_lock(&sec_lock);
	s = hm_amap_find_exact(&sec_table, (uintptr_t)po);
	vadsp = s ? s->vadsp : 0;
	pthread_mutex_unlock(&sec_lock);
	return vadsp;
}
