// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl layer's typed wrappers, one per hapmem ioctl: the argument is
 * cleared, sized and filled here, and results are copied out only on
 * success.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <string.h>

#include "transport/ioctl.h"

/* Clear an ioctl's argument struct (reserved fields are 0) and size it. */
#define HM_IOC_ARG_INIT(a)						\
	do {								\
		memset(&(a), 0, sizeof(a));				\
		(a).size = sizeof(a);					\
	} while (0)

/* The kernel's "open but not a dma-buf" for calls taking a buffer fd. */
static int buf_fd_err(int ret)
{
	return ret == -ENODEV ? -EBADFD : ret;
}

int hm_ioc_info(int dev, uint32_t remote, struct hapmem_info *out)
{
	struct hapmem_info a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.remote = remote;
	ret = hm_ioctl(dev, HAPMEM_IOC_INFO, &a);
	if (!ret)
		*out = a;
	return ret;
}

int hm_ioc_nop(int dev)
{
	struct hapmem_nop a;

	HM_IOC_ARG_INIT(a);
	return hm_ioctl(dev, HAPMEM_IOC_NOP, &a);
}

int hm_ioc_alloc(int dev, uint32_t flags, uint64_t len, int *buf_fd)
{
	struct hapmem_alloc a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = flags;
	a.len = len;
	ret = hm_ioctl(dev, HAPMEM_IOC_ALLOC, &a);
	if (!ret)
		*buf_fd = a.fd;
	return ret;
}

int hm_ioc_request_map(int dev, const struct hm_request_map_in *in,
		       struct hm_request_map_out *out)
{
	struct hapmem_request_map a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = in->flags;
	a.heap_id = in->heap_id;
	a.ion_flags = in->ion_flags;
	a.rflags = in->rflags;
	a.vin = in->vin;
	a.len = in->len;
	a.fd = -1;
	ret = hm_ioctl(dev, HAPMEM_IOC_REQUEST_MAP, &a);
	if (!ret) {
		out->vadsp = a.vadsp;
		out->fd = a.fd;
		out->chunks = a.chunks;
	}
	return ret;
}

static int unmap(int dev, unsigned long req, uint64_t vadsp, uint64_t len)
{
	struct hapmem_unmap a;

	HM_IOC_ARG_INIT(a);
	a.vadsp = vadsp;
	a.len = len;
	return hm_ioctl(dev, req, &a);
}

int hm_ioc_request_unmap(int dev, uint64_t vadsp, uint64_t len)
{
	return unmap(dev, HAPMEM_IOC_REQUEST_UNMAP, vadsp, len);
}

int hm_ioc_share_unmap(int dev, uint64_t vadsp, uint64_t len)
{
	return unmap(dev, HAPMEM_IOC_SHARE_UNMAP, vadsp, len);
}

int hm_ioc_share_map(int dev, uint32_t flags, int buf_fd, uint64_t offset,
		     uint64_t len, uint64_t *vadsp)
{
	struct hapmem_share_map a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = flags;
	a.fd = buf_fd;
	a.offset = offset;
	a.len = len;
	a.vadsp = *vadsp;
	ret = buf_fd_err(hm_ioctl(dev, HAPMEM_IOC_SHARE_MAP, &a));
	if (!ret)
		*vadsp = a.vadsp;
	return ret;
}

int hm_ioc_dma_handle_map(int dev, uint32_t flags, int buf_fd,
			  uint64_t offset, uint64_t len, uint64_t *vadsp,
			  uint32_t *refs)
{
	struct hapmem_dma_handle_map a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = flags;
	a.fd = buf_fd;
	a.offset = offset;
	a.len = len;
	ret = buf_fd_err(hm_ioctl(dev, HAPMEM_IOC_DMA_HANDLE_MAP, &a));
	if (!ret) {
		if (vadsp)
			*vadsp = a.vadsp;
		if (refs)
			*refs = a.refs;
	}
	return ret;
}

int hm_ioc_dma_handle_unmap(int dev, int buf_fd, uint64_t len, uint32_t *refs)
{
	struct hapmem_dma_handle_unmap a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.fd = buf_fd;
	a.len = len;
	ret = buf_fd_err(hm_ioctl(dev, HAPMEM_IOC_DMA_HANDLE_UNMAP, &a));
	if (!ret && refs)
		*refs = a.refs;
	return ret;
}

int hm_ioc_remote_access(int dev, uint32_t flags, uint64_t vadsp, void *buf,
			 uint64_t len, uint32_t *faults)
{
	struct hapmem_remote_access a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = flags;
	a.vadsp = vadsp;
	a.len = len;
	a.uptr = (uint64_t)(uintptr_t)buf;
	ret = hm_ioctl(dev, HAPMEM_IOC_REMOTE_ACCESS, &a);
	if (!ret && faults)
		*faults = a.faults;
	return ret;
}

int hm_ioc_reserve_va(int dev, uint32_t flags, uint64_t len, uint64_t *vadsp)
{
	struct hapmem_reserve_va a;
	int ret;

	HM_IOC_ARG_INIT(a);
	a.flags = flags;
	a.len = len;
	ret = hm_ioctl(dev, HAPMEM_IOC_RESERVE_VA, &a);
	if (!ret)
		*vadsp = a.vadsp;
	return ret;
}

int hm_ioc_unreserve_va(int dev, uint64_t vadsp, uint64_t len)
{
	struct hapmem_unreserve_va a;

	HM_IOC_ARG_INIT(a);
	a.vadsp = vadsp;
	a.len = len;
	return hm_ioctl(dev, HAPMEM_IOC_UNRESERVE_VA, &a);
}
