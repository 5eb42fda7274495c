// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote.h face: remote_mmap64, remote_mem_map and fastrpc_mmap over
 * the driver's share_map / request_map and the HAP_mmap family.
 *
 *   maps[slot]  device address -> struct rmap   (remote_mmap64,
 *               remote_mem_map; slot: the domain's own session, or MAIN
 *               for the process's session)
 *   regs        list of struct reg               (fastrpc_mmap, one per
 *               buffer and domain)
 *
 * fastrpc_mmap kinds:
 *   STATIC             share_map now, on the domain's session;
 *   FD, FD_EXTENDED    a HAP_mmap reference now (so HAP_mmap_get finds
 *                      the device address), above 4 GiB for EXTENDED;
 *   FD_DELAYED, FD_NOMAP, FD_DELAYED_EXTENDED
 *                      nothing now: a hint for the buffer's first
 *                      HAP_mmap (above 4 GiB, or no CPU mapping).
 *
 * Locking: rpc_lock protects both tables; no system call under it (an
 * entry is inserted complete and removed before it is torn down).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "compat/remote.h"
#include "HAP_mem.h"
#include "faces/aee.h"
#include "util/amap.h"
#include "apps_mem.h"
#include "compat_internal.h"
#include "transport/dmabuf_id.h"
#include "util/fork.h"
#include "faces/hap_mmap.h"
#include "transport/ioctl.h"
#include "util/pagesize.h"
#include "transport/session.h"

#define MAIN HM_NUM_DOMAINS

struct rmap {
	int request;		/* request_map (kernel memory), else share_map */
	uint64_t vadsp;
	uint64_t len;
};

struct reg {
	struct hm_buf_id id;
	int domain;
	enum fastrpc_map_flags kind;
	uint64_t offset;
	size_t len;		/* page rounded */
	int dev;		/* STATIC: the session the map is in */
	uint64_t vadsp;		/* STATIC */
	void *cpu;		/* FD, FD_EXTENDED: the HAP_mmap address */
	struct reg *next;
};

static pthread_mutex_t rpc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t rpc_once = PTHREAD_ONCE_INIT;
static struct hm_amap maps[HM_NUM_DOMAINS + 1];
static struct reg *regs;

/* The maps and registrations are the parent's session's: forgotten. */
static void rpc_reset(void)
{
	size_t i, s;

	for (s = 0; s <= MAIN; s++) {
		for (i = 0; i < maps[s].n; i++)
			free(maps[s].v[i].val);
		hm_amap_clear(&maps[s]);
	}
	while (regs) {
		struct reg *r = regs;

		regs = r->next;
		free(r);
	}
}

static const struct hm_fork_hooks rpc_fork_hooks = {
	.rank = HM_FORK_FASTRPC,
	.lock = &rpc_lock,
	.reset = rpc_reset,
};

static void rpc_init(void)
{
	hm_fork_register(&rpc_fork_hooks);
}

/* ------------------------------------------------ remote_mmap64, remote_mem_map */

static int rmap_add(int slot, int dev, int request, uint64_t vadsp, uint64_t len)
{
	struct rmap *m = malloc(sizeof(*m));
	int ret;

	if (!m)
		ret = -ENOMEM;
	else {
		m->request = request;
		m->vadsp = vadsp;
		m->len = len;
		pthread_mutex_lock(&rpc_lock);
		ret = hm_amap_insert(&maps[slot], vadsp, len, m);
		pthread_mutex_unlock(&rpc_lock);
	}
	if (ret) {
		if (request)
			hm_ioc_request_unmap(dev, vadsp, len);
		else
			hm_ioc_share_unmap(dev, vadsp, len);
		free(m);
	}
	return ret;
}

static int rmap_del(int slot, int dev, uint64_t vadsp, uint64_t size)
{
	struct rmap *m;
	size_t len;
	int ret;

	if (!size || hm_page_align_up(size, &len))
		return AEE_EBADPARM;
	pthread_mutex_lock(&rpc_lock);
	m = hm_amap_find_exact(&maps[slot], vadsp);
	if (m && m->len == len)
		hm_amap_remove(&maps[slot], vadsp);
	pthread_mutex_unlock(&rpc_lock);
	if (!m)
		return AEE_ENOSUCHMAP;
	if (m->len != len)
		return AEE_EBADPARM;
	ret = m->request ? hm_ioc_request_unmap(dev, vadsp, len) :
			   hm_ioc_share_unmap(dev, vadsp, len);
	if (ret) {
		pthread_mutex_lock(&rpc_lock);
		if (hm_amap_insert(&maps[slot], vadsp, len, m))
			free(m);
		pthread_mutex_unlock(&rpc_lock);
		return hm_errno_to_aee(ret);
	}
	free(m);
	return AEE_SUCCESS;
}

/* share_map of @fd on @dev, entered in @slot. */
static int share(int slot, int dev, int fd, uint64_t size, uint64_t *vaddrout)
{
	uint64_t vadsp;
	size_t len;
	int ret;

	if (!size || size > SIZE_MAX || hm_page_align_up((size_t)size, &len))
		return -EINVAL;
	ret = hm_ioc_share_map(dev, 0, fd, 0, len, &vadsp);
	if (!ret)
		ret = rmap_add(slot, dev, 0, vadsp, len);
	if (!ret)
		*vaddrout = vadsp;
	return ret;
}

int remote_mmap64(int fd, uint32_t flags, uint64_t vaddrin, int64_t size,
		  uint64_t *vaddrout)
{
	struct hm_request_map_in in = { .heap_id = HAPMEM_HEAP_ID_ANY, .ion_flags = 1 };
	struct hm_request_map_out out;
	size_t len;
	int dev, ret;

	(void)vaddrin;
	if (!vaddrout || size <= 0)
		return AEE_EBADPARM;
	pthread_once(&rpc_once, rpc_init);
	dev = hm_session_fd();
	if (dev < 0)
		return hm_errno_to_aee(dev);
	if (!flags)
		return hm_errno_to_aee(share(MAIN, dev, fd, (uint64_t)size, vaddrout));
	/* kernel memory: the apps_mem rflags, with no fd */
	if (fd != -1 || (flags != ADSP_MMAP_HEAP_ADDR && flags != ADSP_MMAP_REMOTE_HEAP_ADDR &&
			 flags != ADSP_MMAP_ADD_PAGES && flags != ADSP_MMAP_ADD_PAGES_LLC))
		return AEE_EBADPARM;
	if ((uint64_t)size > SIZE_MAX || hm_page_align_up((size_t)size, &len))
		return AEE_EBADPARM;
	in.rflags = flags;
	in.len = len;
	ret = hm_ioc_request_map(dev, &in, &out);
	if (!ret)
		ret = rmap_add(MAIN, dev, 1, out.vadsp, len);
	if (!ret)
		*vaddrout = out.vadsp;
	return hm_errno_to_aee(ret);
}

int remote_munmap64(uint64_t vaddrout, int64_t size)
{
	int dev;

	if (size <= 0)
		return AEE_EBADPARM;
	pthread_once(&rpc_once, rpc_init);
	dev = hm_session_fd();
	if (dev < 0)
		return hm_errno_to_aee(dev);
	return rmap_del(MAIN, dev, vaddrout, (uint64_t)size);
}

int remote_mem_map(int domain, int fd, int flags, uint64_t virtAddr, size_t size,
		   uint64_t *remoteVirtAddr)
{
	int dev, is_main = 0;

	(void)virtAddr;
	if (flags != REMOTE_MAP_MEM_STATIC || !remoteVirtAddr || !size)
		return AEE_EBADPARM;
	pthread_once(&rpc_once, rpc_init);
	dev = hm_domain_fd(domain, &is_main);
	if (dev < 0)
		return hm_errno_to_aee(dev);
	return hm_errno_to_aee(share(is_main ? MAIN : domain, dev, fd, size, remoteVirtAddr));
}

int remote_mem_unmap(int domain, uint64_t remoteVirtAddr, size_t size)
{
	int dev, is_main = 0;

	pthread_once(&rpc_once, rpc_init);
	dev = hm_domain_fd(domain, &is_main);
	if (dev < 0)
		return hm_errno_to_aee(dev);
	return rmap_del(is_main ? MAIN : domain, dev, remoteVirtAddr, size);
}

/* ------------------------------------------------ fastrpc_mmap */

/* Under rpc_lock. */
static struct reg **reg_find(const struct hm_buf_id *id, int domain)
{
	struct reg **pp;

	for (pp = &regs; *pp; pp = &(*pp)->next)
		if ((*pp)->domain == domain && hm_buf_id_eq(&(*pp)->id, id))
			return pp;
	return NULL;
}

static unsigned int kind_hint(enum fastrpc_map_flags kind)
{
	switch (kind) {
	case FASTRPC_MAP_FD_EXTENDED:
	case FASTRPC_MAP_FD_DELAYED_EXTENDED:
		return HM_HAP_HINT_VA_HIGH;
	case FASTRPC_MAP_FD_NOMAP:
		return HM_HAP_HINT_NO_CPU;
	default:
		return 0;
	}
}

int hm_fastrpc_vadsp(int domain, int fd, uint64_t *vadsp)
{
	struct hm_buf_id id;
	struct reg **pp;
	int ret;

	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return ret;
	pthread_mutex_lock(&rpc_lock);
	pp = reg_find(&id, domain);
	ret = pp && (*pp)->kind == FASTRPC_MAP_STATIC ? 0 : -ENOENT;
	if (!ret)
		*vadsp = (*pp)->vadsp;
	pthread_mutex_unlock(&rpc_lock);
	return ret;
}

/* Make the map @r's kind asks for now (none for the delayed kinds). */
static int reg_map(struct reg *r, int fd)
{
	unsigned int hint = kind_hint(r->kind);
	int ret;

	if (hint) {
		ret = hm_hap_mmap_hint(&r->id, hint);
		if (ret)
			return ret;
	}
	switch (r->kind) {
	case FASTRPC_MAP_STATIC:
		return hm_ioc_share_map(r->dev, 0, fd, r->offset, r->len, &r->vadsp);
	case FASTRPC_MAP_FD:
	case FASTRPC_MAP_FD_EXTENDED:
		ret = hm_hap_mmap(NULL, r->len, HAP_PROT_READ | HAP_PROT_WRITE, 0, fd,
				  (long)r->offset, &r->cpu);
		if (ret && hint)
			hm_hap_mmap_hint(&r->id, 0);
		return ret;
	default:
		return 0;
	}
}

static void reg_unmap(struct reg *r)
{
	if (r->kind == FASTRPC_MAP_STATIC)
		hm_ioc_share_unmap(r->dev, r->vadsp, r->len);
	else if (r->cpu)
		HAP_munmap2(r->cpu, r->len);
	if (kind_hint(r->kind))
		hm_hap_mmap_hint(&r->id, 0);
}

int fastrpc_mmap(int domain, int fd, void *addr, int offset, size_t length,
		 enum fastrpc_map_flags flags)
{
	struct reg *r, **pp;
	int dev, is_main = 0, ret;

	(void)addr;
	switch (flags) {
	case FASTRPC_MAP_STATIC:
	case FASTRPC_MAP_FD:
	case FASTRPC_MAP_FD_DELAYED:
	case FASTRPC_MAP_FD_NOMAP:
	case FASTRPC_MAP_FD_EXTENDED:
	case FASTRPC_MAP_FD_DELAYED_EXTENDED:
		break;
	default:
		return AEE_EBADPARM;
	}
	if (!length || offset < 0 || !hm_page_aligned((uint64_t)offset))
		return AEE_EBADPARM;
	pthread_once(&rpc_once, rpc_init);
	r = calloc(1, sizeof(*r));
	if (!r)
		return AEE_ENOMEMORY;
	r->domain = domain;
	r->kind = flags;
	r->offset = (uint64_t)offset;
	if (hm_page_align_up(length, &r->len)) {
		ret = -EINVAL;
		goto err_free;
	}
	ret = hm_buf_id_of(fd, &r->id);
	if (ret)
		goto err_free;
	dev = hm_domain_fd(domain, &is_main);
	if (dev < 0) {
		ret = dev;
		goto err_free;
	}
	r->dev = dev;
	if (flags != FASTRPC_MAP_STATIC && !is_main) {
		ret = -EOPNOTSUPP;	/* HAP_mmap maps on the process's session only */
		goto err_free;
	}
	pthread_mutex_lock(&rpc_lock);
	pp = reg_find(&r->id, domain);
	pthread_mutex_unlock(&rpc_lock);
	if (pp) {
		ret = -EALREADY;
		goto err_free;
	}
	ret = reg_map(r, fd);
	if (ret)
		goto err_free;
	pthread_mutex_lock(&rpc_lock);
	pp = reg_find(&r->id, domain);
	if (!pp) {
		r->next = regs;
		regs = r;
	}
	pthread_mutex_unlock(&rpc_lock);
	if (pp) {
		/* another thread registered it meanwhile */
		reg_unmap(r);
		ret = -EALREADY;
		goto err_free;
	}
	return AEE_SUCCESS;

err_free:
	free(r);
	return hm_errno_to_aee(ret);
}

int fastrpc_munmap(int domain, int fd, void *addr, size_t length)
{
	struct hm_buf_id id;
	struct reg *r = NULL, **pp;
	size_t len;
	int ret;

	(void)addr;
	if (domain < 0 || domain >= HM_NUM_DOMAINS || !length ||
	    hm_page_align_up(length, &len))
		return AEE_EBADPARM;
	ret = hm_buf_id_of(fd, &id);
	if (ret)
		return hm_errno_to_aee(ret);
	pthread_mutex_lock(&rpc_lock);
	pp = reg_find(&id, domain);
	if (pp && (*pp)->len == len) {
		r = *pp;
		*pp = r->next;
	}
	pthread_mutex_unlock(&rpc_lock);
	if (!pp)
		return AEE_ENOSUCHMAP;
	if (!r)
		return AEE_EBADPARM;
	reg_unmap(r);
	free(r);
	return AEE_SUCCESS;
}
