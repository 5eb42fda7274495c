// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP_mem_request(): maps for the remote only, at reserved device
 * addresses or anywhere, and the reservations themselves.  The heap's
 * requests (HAP_MEM_SET_MARKER, HAP_MEM_LOG_BLOCKS) go to the heap.
 *
 * The kernel does the work (share_map with HAPMEM_MAP_FIXED inside a
 * reservation, reserve_va, unreserve_va) and enforces the rules: no other
 * map lands in a reservation, a fixed map must lie inside one and overlap
 * nothing, a reservation with maps inside cannot be released.  The
 * library keeps its own record of the maps and reservations made here so
 * that HAP_MEM_UNMAP / HAP_UNRESERVE_VA only undo what HAP_mem_request
 * made (not an apps_mem map at the same address), and so that the fork
 * child forgets them.
 *
 * Locking: req_lock protects the two tables; ioctls run outside it.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "HAP_mem.h"
#include "faces/aee.h"
#include "faces/hap_heap.h"
#include "util/amap.h"
#include "transport/dmabuf_id.h"
#include "util/fork.h"
#include "heap/heap.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t req_once = PTHREAD_ONCE_INIT;
/* values are unused (non-NULL markers): the key and length are the record */
static struct hm_amap req_maps = HM_AMAP_INIT;
static struct hm_amap req_resv = HM_AMAP_INIT;
static char present;

static void req_reset(void)
{
	hm_amap_clear(&req_maps);
	hm_amap_clear(&req_resv);
}

static const struct hm_fork_hooks req_fork_hooks = {
	.rank = HM_FORK_HAP_MEM_REQUEST,
	.lock = &req_lock,
	.reset = req_reset,
};

static void req_init(void)
{
	hm_fork_register(&req_fork_hooks);
}

static int page_len(uint64_t len, uint64_t *out)
{
	size_t l;

	if (!len || len > SIZE_MAX || hm_page_align_up((size_t)len, &l))
		return -EINVAL;
	*out = l;
	return 0;
}

static int placement(int flags, uint32_t *place)
{
	switch (flags) {
	case HAP_MEM_FLAGS_SKIP_DSP_MAP:
		*place = 0;
		return 0;
	case HAP_MEM_FLAGS_DSP_MAP:
		*place = HAPMEM_MAP_VA32;
		return 0;
	case HAP_MEM_FLAGS_EXTENDED_MAP:
		*place = HAPMEM_MAP_VA_HIGH;
		return 0;
	}
	return -EINVAL;
}

static int valid_prot(int prot)
{
	if (prot & HAP_PROT_EXEC)
		return -EOPNOTSUPP;	/* not supported, as on the platform */
	if (prot & ~(HAP_PROT_READ | HAP_PROT_WRITE | HAP_MEM_CACHE_WRITEBACK |
		     HAP_MEM_CACHE_NON_SHARED | HAP_MEM_CACHE_WRITETHROUGH))
		return -EINVAL;
	return 0;
}

static int record(struct hm_amap *t, uint64_t start, uint64_t len)
{
	int ret;

	pthread_mutex_lock(&req_lock);
	ret = hm_amap_insert(t, start, len, &present);
	pthread_mutex_unlock(&req_lock);
	return ret;
}

/* Take a record out: 0, -ENOENT (none at @start) or -EINVAL (other length). */
static int claim(struct hm_amap *t, uint64_t start, uint64_t len)
{
	const struct hm_amap_ent *e;
	int ret;

	pthread_mutex_lock(&req_lock);
	e = hm_amap_entry(t, start);
	if (!e) {
		ret = -ENOENT;
	} else if (e->len != len) {
		ret = -EINVAL;
	} else {
		hm_amap_remove(t, start);
		ret = 0;
	}
	pthread_mutex_unlock(&req_lock);
	return ret;
}

static int mem_map(HAP_mem_map_t *p)
{
	struct hm_buf_id id;
	uint64_t len, vadsp;
	uint32_t flags;
	int dev, ret;

	ret = valid_prot(p->prot);
	if (ret)
		return ret;
	ret = page_len(p->len, &len);
	if (ret)
		return ret;
	if (!hm_page_aligned(p->dsp_pa))
		return -EINVAL;
	if (p->addr) {
		/* at a fixed address: inside a reservation, page aligned */
		if (p->flags || !hm_page_aligned(p->addr))
			return -EINVAL;
		flags = HAPMEM_MAP_FIXED;
		vadsp = p->addr;
	} else {
		ret = placement(p->flags, &flags);
		if (ret)
			return ret;
		vadsp = 0;
	}
	if (!(p->prot & HAP_PROT_WRITE))
		flags |= HAPMEM_MAP_READ_ONLY;
	ret = hm_buf_id_of(p->fd, &id);
	if (ret)
		return ret;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	ret = hm_ioc_share_map(dev, flags, p->fd, p->dsp_pa, len, &vadsp);
	if (ret)
		return ret;
	ret = record(&req_maps, vadsp, len);
	if (ret) {
		hm_ioc_share_unmap(dev, vadsp, len);
		return ret;
	}
	p->dsp_va = vadsp;
	return 0;
}

static int mem_unmap(const HAP_mem_unmap_t *p)
{
	uint64_t len;
	int dev, ret;

	ret = page_len(p->len, &len);
	if (ret)
		return ret;
	ret = claim(&req_maps, p->dsp_va, len);
	if (ret)
		return ret;
	dev = hm_session_fd();
	ret = dev < 0 ? dev : hm_ioc_share_unmap(dev, p->dsp_va, len);
	if (ret)
		record(&req_maps, p->dsp_va, len);
	return ret;
}

static int reserve(HAP_mem_reserve_t *p)
{
	uint64_t len, vadsp = 0;
	uint32_t flags;
	int dev, ret;

	ret = valid_prot(p->prot);
	if (ret)
		return ret;
	ret = placement(p->flags, &flags);
	if (ret)
		return ret;
	ret = page_len(p->len, &len);
	if (ret)
		return ret;
	dev = hm_session_fd();
	if (dev < 0)
		return dev;
	ret = hm_ioc_reserve_va(dev, flags, len, &vadsp);
	if (ret)
		return ret;
	ret = record(&req_resv, vadsp, len);
	if (ret) {
		hm_ioc_unreserve_va(dev, vadsp, len);
		return ret;
	}
	p->dsp_va = vadsp;
	return 0;
}

static int unreserve(const HAP_mem_unreserve_t *p)
{
	uint64_t len;
	int dev, ret;

	ret = page_len(p->len, &len);
	if (ret)
		return ret;
	ret = claim(&req_resv, p->dsp_va, len);
	if (ret)
		return ret;
	dev = hm_session_fd();
	ret = dev < 0 ? dev : hm_ioc_unreserve_va(dev, p->dsp_va, len);
	if (ret)
		record(&req_resv, p->dsp_va, len);
	return ret;
}

int HAP_mem_request(HAP_mem_req_payload_t *p)
{
	int ret;

	if (!p)
		return AEE_EBADPARM;
	pthread_once(&req_once, req_init);
	switch (p->request_id) {
	case HAP_MEM_LOG_BLOCKS:
	case HAP_MEM_SET_MARKER:
		ret = hm_heap_mem_request((int)p->request_id, &p->mem_marker_payload);
		break;
	case HAP_MEM_MAP:
		ret = mem_map(&p->mmap);
		break;
	case HAP_MEM_UNMAP:
		ret = mem_unmap(&p->munmap);
		break;
	case HAP_RESERVE_VA:
		ret = reserve(&p->reserve);
		break;
	case HAP_UNRESERVE_VA:
		ret = unreserve(&p->unreserve);
		break;
	default:
		return AEE_EUNSUPPORTED;
	}
	return hm_errno_to_aee(ret);
}
