// SPDX-License-Identifier: GPL-2.0-only
/*
 * apps_mem: the DSP platform's interface for memory the application
 * processor provides to the remote.
 *
 * The kernel maps memory for the remote and returns its device address
 * (vadsp) and, when asked, a dma-buf fd of it.  The library maps that fd
 * for the CPU (vapps) and remembers each map:
 *
 *   map_table   vadsp range -> struct amap_entry   (request_map, share_map)
 *   hlos_table  fd          -> struct amap_entry   (FASTRPC_ALLOC_HLOS_FD,
 *                                                   whose handle is its fd)
 *
 * Locking: apps_lock protects both tables.  No system call is made under
 * it: a map is entered once it is complete, and an unmap first takes its
 * entry out of the table (so that no other thread can find or unmap it
 * while it is torn down), then calls the kernel, and puts the entry back
 * if the kernel refused.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apps_mem.h"
#include "faces/aee.h"
#include "util/amap.h"
#include "transport/cpu_map.h"
#include "transport/dmabuf_id.h"
#include "hapmem_dev.h"
#include "util/fork.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

enum amap_kind { KIND_REQUEST, KIND_SHARE, KIND_HLOS };

struct amap_entry {
	enum amap_kind kind;
	uint64_t vadsp;		/* kernel's device address (0 for HLOS) */
	uint64_t len;		/* the length the map was made with (page rounded) */
	void *cpu;		/* CPU mapping the library made, or NULL */
	size_t cpu_len;
	int fd;			/* HLOS: the library's fd, handed out as vadsp */
	struct hapmem_chunks chunks;	/* request_map: IOMMU layout (heapvm addition) */
};

static pthread_mutex_t apps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t apps_once = PTHREAD_ONCE_INIT;
static struct hm_amap map_table = HM_AMAP_INIT;
static struct hm_amap hlos_table = HM_AMAP_INIT;

/*
 * The maps belong to the parent's session: the child forgets them.  The
 * CPU mappings stay in the child's address space (they are the child's
 * copy of the parent's), the library's HLOS fds are closed.
 */
static void apps_reset(void)
{
	size_t i;

	for (i = 0; i < map_table.n; i++)
		free(map_table.v[i].val);
	for (i = 0; i < hlos_table.n; i++) {
		struct amap_entry *e = hlos_table.v[i].val;

		close(e->fd);
		free(e);
	}
	hm_amap_clear(&map_table);
	hm_amap_clear(&hlos_table);
}

static const struct hm_fork_hooks apps_fork_hooks = {
	.rank = HM_FORK_APPS_MEM,
	.lock = &apps_lock,
	.reset = apps_reset,
};

static void apps_init(void)
{
	hm_fork_register(&apps_fork_hooks);
}

static int session(void)
{
	pthread_once(&apps_once, apps_init);
	return hm_session_fd();
}

static int table_insert(struct amap_entry *e)
{
	int ret;

	pthread_mutex_lock(&apps_lock);
	if (e->kind == KIND_HLOS)
		ret = hm_amap_insert(&hlos_table, (uint64_t)e->fd, 1, e);
	else
		ret = hm_amap_insert(&map_table, e->vadsp, e->len, e);
	pthread_mutex_unlock(&apps_lock);
	return ret;
}

/*
 * Take the entry a handle names out of the tables.  Device addresses are
 * looked up first, then HLOS fds.  -ENOENT: none of @kind; -EINVAL: @len
 * (page rounded) differs from the map's (the entry stays).
 */
static int table_claim(uint64_t handle, uint64_t len, int share,
		       struct amap_entry **out)
{
	struct amap_entry *e;
	int ret = 0;

	pthread_mutex_lock(&apps_lock);
	e = hm_amap_find_exact(&map_table, handle);
	if (e && (e->kind == KIND_SHARE) != share)
		e = NULL;
	if (!e && !share && handle <= INT32_MAX)
		e = hm_amap_find_exact(&hlos_table, handle);
	if (!e)
		ret = -ENOENT;
	else if (e->len != len)
		ret = -EINVAL;
	else if (e->kind == KIND_HLOS)
		hm_amap_remove(&hlos_table, handle);
	else
		hm_amap_remove(&map_table, handle);
	pthread_mutex_unlock(&apps_lock);
	*out = e;
	return ret;
}

static void entry_release_cpu(struct amap_entry *e)
{
	if (e->cpu)
		munmap(e->cpu, e->cpu_len);
	if (e->kind == KIND_HLOS)
		close(e->fd);
	free(e);
}

static int valid_rflags(uint32_t rflags)
{
	switch (rflags) {
	case 0:
	case ADSP_MMAP_HEAP_ADDR:
	case ADSP_MMAP_REMOTE_HEAP_ADDR:
	case ADSP_MMAP_ADD_PAGES:
	case ADSP_MMAP_ADD_PAGES_LLC:
	case FASTRPC_ALLOC_HLOS_FD:
		return 1;
	}
	return 0;
}

static int valid_heap(int heapid)
{
	return heapid == HAPMEM_HEAP_ID_ANY || heapid == HAPMEM_HEAP_ID_DEFAULT ||
	       heapid == HAPMEM_HEAP_ID_SYSTEM;
}

/* A request's arguments, before the device is needed; *map_len: @len page rounded. */
static int request_args_ok(int heapid, uint32_t ion_flags, uint32_t rflags,
			   uint64_t vin, uint64_t len, size_t *map_len)
{
	if (!len)
		return -EINVAL;
	if (!valid_heap(heapid) || !valid_rflags(rflags) ||
	    (ion_flags & ~HAPMEM_ION_FLAGS_VALID))
		return -EINVAL;
	if (len > SIZE_MAX || hm_page_align_up((size_t)len, map_len))
		return -EINVAL;
	if (vin) {
		if (rflags != 0 && rflags != ADSP_MMAP_ADD_PAGES)
			return -EINVAL;
		if (!hm_page_aligned(vin) || !hm_page_aligned(len))
			return -EINVAL;
	}
	return 0;
}

/* The kernel's map of @map_len bytes, recorded in @e; *fd: its buffer fd or -1. */
static int request_kernel_map(int dev, struct amap_entry *e, int heapid,
			      uint32_t ion_flags, uint32_t rflags, uint64_t vin,
			      size_t map_len, int va32, int *fd)
{
	struct hm_request_map_in in = { 0 };
	struct hm_request_map_out out = { 0 };
	int ret;

	in.flags = va32 ? HAPMEM_MAP_VA32 : 0;
	/* a CPU mapping is made from an fd, unless there is (or may be) none */
	if (!vin && rflags != ADSP_MMAP_REMOTE_HEAP_ADDR)
		in.flags |= HAPMEM_REQUEST_FD;
	in.heap_id = heapid;
	in.ion_flags = ion_flags;
	in.rflags = rflags;
	in.vin = vin;
	in.len = map_len;	/* the unmap names the same, page rounded, length */
	ret = hm_ioc_request_map(dev, &in, &out);
	if (ret)
		return ret;

	e->kind = rflags == FASTRPC_ALLOC_HLOS_FD ? KIND_HLOS : KIND_REQUEST;
	e->vadsp = out.vadsp;
	e->len = map_len;
	e->chunks = out.chunks;
	if (e->kind == KIND_HLOS)
		e->fd = out.fd;
	*fd = out.fd;
	return 0;
}

/* The CPU's view of the new map (*vapps: 0 for protected memory). */
static int request_cpu_map(struct amap_entry *e, int fd, uint32_t rflags,
			   uint64_t vin, int va32, uint64_t *vapps)
{
	if (vin) {
		*vapps = vin;	/* the caller's own memory, already mapped */
		return 0;
	}
	if (rflags == ADSP_MMAP_REMOTE_HEAP_ADDR) {
		*vapps = 0;	/* protected: no CPU path */
		return 0;
	}
	if (hm_cpu_map(fd, 0, e->len, PROT_READ | PROT_WRITE,
		       va32 ? HM_CPU_MAP_32BIT : 0, &e->cpu))
		return -HM_ECPUMAP;
	e->cpu_len = e->len;
	*vapps = (uintptr_t)e->cpu;
	return 0;
}

/*
 * The common part of request_map and request_map64: check the arguments,
 * have the kernel map, map for the CPU, enter the map in the table.
 * Returns 0 or -errno (-HM_ECPUMAP for a failed CPU mapping).
 */
static int request_map(int heapid, uint32_t ion_flags, uint32_t rflags,
		       uint64_t vin, uint64_t len, int va32, uint64_t *vapps,
		       uint64_t *vadsp)
{
	struct amap_entry *e;
	size_t map_len;
	int dev, fd = -1, ret;

	if (!vapps || !vadsp)
		return -EINVAL;
	ret = request_args_ok(heapid, ion_flags, rflags, vin, len, &map_len);
	if (ret)
		return ret;
	dev = session();
	if (dev < 0)
		return dev;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = -1;

	ret = request_kernel_map(dev, e, heapid, ion_flags, rflags, vin, map_len,
				 va32, &fd);
	if (ret) {
		free(e);
		return ret;
	}
	ret = request_cpu_map(e, fd, rflags, vin, va32, vapps);
	if (ret)
		goto undo;
	/* the CPU mapping holds the buffer: the fd is not needed any more */
	if (e->kind != KIND_HLOS && fd >= 0)
		close(fd);
	fd = -1;

	ret = table_insert(e);
	if (ret)
		goto undo;
	*vadsp = e->kind == KIND_HLOS ? (uint64_t)e->fd : e->vadsp;
	return 0;

undo:
	if (e->kind != KIND_HLOS || e->vadsp)
		hm_ioc_request_unmap(dev, e->vadsp, e->len);
	if (fd >= 0 && e->kind != KIND_HLOS)
		close(fd);
	entry_release_cpu(e);
	return ret;
}

static int request_unmap(uint64_t handle, uint64_t len)
{
	struct amap_entry *e;
	size_t map_len;
	int dev, ret;

	if (!len || len > SIZE_MAX || hm_page_align_up((size_t)len, &map_len))
		return -EINVAL;
	/* unknown maps are refused before (and without) opening a session */
	ret = table_claim(handle, map_len, 0, &e);
	if (ret)
		return ret;
	if (e->kind == KIND_REQUEST || e->vadsp) {
		dev = session();
		ret = dev < 0 ? dev : hm_ioc_request_unmap(dev, e->vadsp, e->len);
		if (ret) {
			table_insert(e);
			return ret;
		}
	}
	entry_release_cpu(e);
	return 0;
}

int apps_mem_request_map(int heapid, uint32 lflags, uint32 rflags, uint32 vin,
			 int32 len, uint32 *vapps, uint32 *vadsp)
{
	uint64_t a = 0, d = 0;
	int ret;

	if (len <= 0 || !vapps || !vadsp)
		return AEE_EBADPARM;
	ret = request_map(heapid, lflags, rflags, vin, (uint64_t)len, 1, &a, &d);
	if (ret)
		return hm_errno_to_aee(ret);
	if (a > UINT32_MAX || d > UINT32_MAX) {
		/* cannot happen with VA32 and MAP_32BIT; never hand out a truncated address */
		request_unmap(d, (uint64_t)len);
		return AEE_EFAILED;
	}
	*vapps = (uint32)a;
	*vadsp = (uint32)d;
	return AEE_SUCCESS;
}

int apps_mem_request_map64(int heapid, uint32 ion_flags, uint32 rflags,
			   uint64 vin, int64 len, uint64 *vapps, uint64 *vadsp)
{
	uint64_t a = 0, d = 0;
	int ret;

	if (len <= 0 || !vapps || !vadsp)
		return AEE_EBADPARM;
	ret = request_map(heapid, ion_flags, rflags, vin, (uint64_t)len, 0, &a, &d);
	if (ret)
		return hm_errno_to_aee(ret);
	*vapps = a;
	*vadsp = d;
	return AEE_SUCCESS;
}

int apps_mem_request_unmap(uint32 vadsp, int32 len)
{
	if (len <= 0)
		return AEE_EBADPARM;
	return hm_errno_to_aee(request_unmap(vadsp, (uint64_t)len));
}

int apps_mem_request_unmap64(uint64 vadsp, int64 len)
{
	if (len <= 0)
		return AEE_EBADPARM;
	return hm_errno_to_aee(request_unmap(vadsp, (uint64_t)len));
}

static int share_map(int fd, int size, uint64_t *vapps, uint64_t *vadsp)
{
	struct hm_buf_id id;
	struct amap_entry *e;
	size_t map_len;
	uint64_t map_vadsp = 0;
	int dev, ret;

	if (!vapps || !vadsp || size <= 0)
		return -EINVAL;
	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return ret;
	if (hm_page_align_up((size_t)size, &map_len))
		return -EINVAL;
	dev = session();
	if (dev < 0)
		return dev;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->kind = KIND_SHARE;
	e->fd = -1;
	e->len = map_len;

	ret = hm_ioc_share_map(dev, 0, fd, 0, map_len, &map_vadsp);
	if (ret) {
		free(e);
		return ret;
	}
	e->vadsp = map_vadsp;
	ret = hm_cpu_map(fd, 0, map_len, PROT_READ | PROT_WRITE,
			 HM_CPU_MAP_OPTIONAL | HM_CPU_MAP_RO_FALLBACK, &e->cpu);
	if (ret) {
		ret = -HM_ECPUMAP;
		goto undo;
	}
	e->cpu_len = e->cpu ? map_len : 0;
	ret = table_insert(e);
	if (ret)
		goto undo;
	*vapps = (uintptr_t)e->cpu;
	*vadsp = map_vadsp;
	return 0;

undo:
	hm_ioc_share_unmap(dev, map_vadsp, map_len);
	entry_release_cpu(e);
	return ret;
}

int apps_mem_share_map(int fd, int size, uint64 *vapps, uint64 *vadsp)
{
	return hm_errno_to_aee(share_map(fd, size, vapps, vadsp));
}

int apps_mem_share_unmap(uint64 vadsp, int size)
{
	struct amap_entry *e;
	size_t map_len;
	int dev, ret;

	if (size <= 0 || hm_page_align_up((size_t)size, &map_len))
		return AEE_EBADPARM;
	ret = table_claim(vadsp, map_len, 1, &e);
	if (ret)
		return hm_errno_to_aee(ret);
	dev = session();
	ret = dev < 0 ? dev : hm_ioc_share_unmap(dev, e->vadsp, e->len);
	if (ret) {
		table_insert(e);
		return hm_errno_to_aee(ret);
	}
	entry_release_cpu(e);
	return AEE_SUCCESS;
}

int apps_mem_dma_handle_map(int fd, int offset, int size)
{
	struct hm_buf_id id;
	size_t map_len;
	int dev, ret;

	if (offset < 0 || size <= 0 || hm_page_align_up((size_t)size, &map_len))
		return AEE_EBADPARM;
	if (!hm_page_aligned((uint64_t)offset))
		return AEE_EBADOFFSET;
	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return hm_errno_to_aee(ret);
	dev = session();
	if (dev < 0)
		return hm_errno_to_aee(dev);
	ret = hm_ioc_dma_handle_map(dev, 0, fd, (uint64_t)offset, map_len, NULL, NULL);
	return hm_errno_to_aee(ret);
}

int apps_mem_dma_handle_unmap(int fd, int size)
{
	struct hm_buf_id id;
	size_t map_len;
	int dev, ret;

	if (size <= 0 || hm_page_align_up((size_t)size, &map_len))
		return AEE_EBADPARM;
	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return hm_errno_to_aee(ret);
	dev = session();
	if (dev < 0)
		return hm_errno_to_aee(dev);
	ret = hm_ioc_dma_handle_unmap(dev, fd, map_len, NULL);
	return hm_errno_to_aee(ret);
}

/* heapvm addition: the IOMMU layout of a request_map map (hapmem_dev.h). */
int hapmem_map_chunks(uint64_t vadsp, struct hapmem_chunks *chunks)
{
	struct amap_entry *e;
	int ret = -ENOENT;

	if (!chunks)
		return -EINVAL;
	pthread_once(&apps_once, apps_init);
	pthread_mutex_lock(&apps_lock);
	e = hm_amap_find_exact(&map_table, vadsp);
	if (e && e->kind == KIND_REQUEST) {
		*chunks = e->chunks;
		ret = 0;
	}
	pthread_mutex_unlock(&apps_lock);
	return ret;
}
