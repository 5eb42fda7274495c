/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the ioctl layer, in the style of libdrm's drmIoctl().
 *
 * hm_ioctl() retries on EINTR/EAGAIN and returns 0 or -errno.  Each typed
 * wrapper clears its argument struct, sets .size, fills the inputs, and
 * copies the outputs to the caller only when the call succeeded.
 *
 * Errno conventions of the wrappers (beyond the uapi header's): for the
 * calls that take a buffer fd (share_map, dma_handle_map/unmap), the
 * kernel's ENODEV ("open, but not a dma-buf") is reported as -EBADFD, so
 * that -ENODEV always means "no hapmem device" inside libhapmem.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_IOCTL_H
#define HAPMEM_LIB_IOCTL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/hapmem.h>

int hm_ioctl(int fd, unsigned long req, void *arg);

int hm_ioc_info(int dev, uint32_t remote, struct hapmem_info *out);
int hm_ioc_nop(int dev);
int hm_ioc_alloc(int dev, uint32_t flags, uint64_t len, int *buf_fd);

struct hm_request_map_in {
	uint32_t flags;		/* HAPMEM_MAP_VA32/VA_HIGH, HAPMEM_REQUEST_FD */
	int32_t heap_id;
	uint32_t ion_flags;
	uint32_t rflags;
	uint64_t vin;
	uint64_t len;
};

struct hm_request_map_out {
	uint64_t vadsp;
	int fd;			/* -1 when none */
	struct hapmem_chunks chunks;
};

int hm_ioc_request_map(int dev, const struct hm_request_map_in *in,
		       struct hm_request_map_out *out);
int hm_ioc_request_unmap(int dev, uint64_t vadsp, uint64_t len);

/* *vadsp is an input with HAPMEM_MAP_FIXED, and always the output. */
int hm_ioc_share_map(int dev, uint32_t flags, int buf_fd, uint64_t offset,
		     uint64_t len, uint64_t *vadsp);
int hm_ioc_share_unmap(int dev, uint64_t vadsp, uint64_t len);

int hm_ioc_dma_handle_map(int dev, uint32_t flags, int buf_fd,
			  uint64_t offset, uint64_t len, uint64_t *vadsp,
			  uint32_t *refs);
int hm_ioc_dma_handle_unmap(int dev, int buf_fd, uint64_t len,
			    uint32_t *refs);

/*
 * The remote's DMA engine reads (flags 0) or writes (HAPMEM_ACCESS_WRITE)
 * @len bytes at @vadsp.  *faults (may be NULL) is set on success only
 * (pages the IOMMU refused; the driver writes nothing back on a failure,
 * as for every ioctl).
 */
int hm_ioc_remote_access(int dev, uint32_t flags, uint64_t vadsp, void *buf,
			 uint64_t len, uint32_t *faults);

int hm_ioc_reserve_va(int dev, uint32_t flags, uint64_t len, uint64_t *vadsp);
int hm_ioc_unreserve_va(int dev, uint64_t vadsp, uint64_t len);

#endif /* HAPMEM_LIB_IOCTL_H */
