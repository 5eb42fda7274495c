// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP_apps_mem_request / HAP_apps_mem_release: application memory for the
 * remote, with a guaranteed release.
 *
 * The memory is a driver buffer (HAPMEM_IOC_ALLOC) mapped for the remote
 * with share_map: below 4 GiB for HAP_MEM_FLAGS_DSP_MAP, at or above it
 * for HAP_MEM_FLAGS_EXTENDED_MAP, not at all for
 * HAP_MEM_FLAGS_SKIP_DSP_MAP.  The caller gets the buffer's fd.
 *
 * Release finds the memory by the buffer behind the fd.  If the caller
 * closed the fd meanwhile (fstat says EBADF), the release still works by
 * the fd number, which cannot have been recycled for another buffer since
 * it is closed: the device map is dropped by its address, which the
 * library kept, so nothing stays mapped.  Memory whose fd was closed and
 * never released is released when its fd number comes back from a new
 * request (it can no longer be named), and in any case when the session
 * ends.
 *
 * Locking: apps_req_lock protects the table; ioctls run outside it, as in
 * apps_mem.c.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "HAP_mem.h"
#include "faces/aee.h"
#include "util/amap.h"
#include "transport/dmabuf_id.h"
#include "util/fork.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

struct apps_req {
	struct hm_buf_id id;
	int fd;
	uint64_t vadsp;		/* 0: not mapped for the remote */
	uint64_t len;
};

static pthread_mutex_t apps_req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t apps_req_once = PTHREAD_ONCE_INIT;
static struct hm_amap apps_req_table = HM_AMAP_INIT;	/* fd -> apps_req */

/* The fds stay the child's (it may use the memory); the maps were the parent's. */
static void apps_req_reset(void)
{
	size_t i;

	for (i = 0; i < apps_req_table.n; i++)
		free(apps_req_table.v[i].val);
	hm_amap_clear(&apps_req_table);
}

static const struct hm_fork_hooks apps_req_fork_hooks = {
	.rank = HM_FORK_HAP_APPS_MEM,
	.lock = &apps_req_lock,
	.reset = apps_req_reset,
};

static void apps_req_init(void)
{
	hm_fork_register(&apps_req_fork_hooks);
}

static int apps_request(size_t len, uint32_t flags, int *fd, uint64_t *vadsp)
{
	struct apps_req *r, *stale;
	size_t map_len;
	uint32_t place;
	int dev, ret;

	if (!fd || !vadsp || !len || hm_page_align_up(len, &map_len))
		return -EINVAL;
	switch (flags) {
	case HAP_MEM_FLAGS_SKIP_DSP_MAP:
		place = 0;
		break;
	case HAP_MEM_FLAGS_DSP_MAP:
		place = HAPMEM_MAP_VA32;
		break;
	case HAP_MEM_FLAGS_EXTENDED_MAP:
		place = HAPMEM_MAP_VA_HIGH;
		break;
	default:
		return -EINVAL;
	}

	pthread_once(&apps_req_once, apps_req_init);
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->len = map_len;
	ret = hm_ioc_alloc(dev, HAPMEM_ION_FLAG_CACHED, map_len, &r->fd);
	if (ret)
		goto err_free;
	ret = hm_buf_id_of(r->fd, &r->id);
	if (ret)
		goto err_close;
	if (flags != HAP_MEM_FLAGS_SKIP_DSP_MAP) {
		ret = hm_ioc_share_map(dev, place, r->fd, 0, map_len, &r->vadsp);
		if (ret)
			goto err_close;
	}
	pthread_mutex_lock(&apps_req_lock);
	/*
	 * An entry under the same fd number is memory whose fd the caller
	 * closed without releasing it (the number was free for ours): that
	 * memory can no longer be named, so release it now.
	 */
	stale = hm_amap_remove(&apps_req_table, (uint64_t)r->fd);
	ret = hm_amap_insert(&apps_req_table, (uint64_t)r->fd, 1, r);
	pthread_mutex_unlock(&apps_req_lock);
	if (stale) {
		if (stale->vadsp)
			hm_ioc_share_unmap(dev, stale->vadsp, stale->len);
		free(stale);
	}
	if (ret)
		goto err_unmap;
	*fd = r->fd;
	*vadsp = r->vadsp;
	return 0;

err_unmap:
	if (r->vadsp)
		hm_ioc_share_unmap(dev, r->vadsp, map_len);
err_close:
	close(r->fd);
err_free:
	free(r);
	return ret;
}

int HAP_apps_mem_request(size_t len, uint32_t flags, int *fd, uint64_t *dsp_va)
{
	return hm_errno_to_aee(apps_request(len, flags, fd, dsp_va));
}

int HAP_apps_mem_release(int fd)
{
	struct hm_buf_id id;
	struct apps_req *r;
	int closed, dev, ret;

	if (fd < 0)
		return AEE_EBADFD;
	ret = hm_buf_id_of(fd, &id);
	closed = ret == -EBADF;
	pthread_mutex_lock(&apps_req_lock);
	r = hm_amap_find_exact(&apps_req_table, (uint64_t)fd);
	/* an open fd must still be the same buffer (not a recycled number) */
	if (r && !closed && (ret || !hm_buf_id_eq(&r->id, &id)))
		r = NULL;
	if (r)
		hm_amap_remove(&apps_req_table, (uint64_t)fd);
	pthread_mutex_unlock(&apps_req_lock);
	if (!r)
		return AEE_ENOSUCHMAP;

	if (r->vadsp) {
		dev = hm_session_fd();
		ret = dev < 0 ? dev : hm_ioc_share_unmap(dev, r->vadsp, r->len);
		if (ret) {
			pthread_mutex_lock(&apps_req_lock);
			hm_amap_insert(&apps_req_table, (uint64_t)r->fd, 1, r);
			pthread_mutex_unlock(&apps_req_lock);
			return hm_errno_to_aee(ret);
		}
	}
	if (!closed)
		close(r->fd);
	free(r);
	return AEE_SUCCESS;
}
