/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * apps_mem.h - the DSP platform's apps_mem interface: memory that the
 * application processor provides to the remote.
 *
 * Every function returns 0 (AEE_SUCCESS) or an AEE code (AEEStdErr.h).
 * All are thread-safe.  Maps belong to the process's session: after
 * fork() the child does not see its parent's maps (see
 * Documentation/library.rst).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef APPS_MEM_H
#define APPS_MEM_H

#include "AEEStdDef.h"
#include "AEEStdErr.h"
#include "hapmem_api.h"

/* rflags: the DSP platform's values */
#define ADSP_MMAP_HEAP_ADDR		4	/* kernel memory */
#define ADSP_MMAP_REMOTE_HEAP_ADDR	8	/* kernel memory the CPU never reaches; privileged */
#define ADSP_MMAP_ADD_PAGES		0x1000	/* memory for the remote heap to grow into */
#define ADSP_MMAP_ADD_PAGES_LLC		0x3000	/* ADD_PAGES from the low-latency carve-out; privileged */
#define FASTRPC_ALLOC_HLOS_FD		0x10000	/* an application buffer, returned as an fd */

HAPMEM_BEGIN_DECLS

/*
 * apps_mem_request_map() - allocate (or, with @vin, take the caller's own
 * memory) and map it for the remote, in the 32-bit device window.
 * @heapid: -1 (any), 0 (default) or 25 (system)
 * @lflags: cache attribute: 1 (cached) or 0
 * @rflags: 0 or one of the ADSP_MMAP_* / FASTRPC_ALLOC_HLOS_FD values
 * @vin: 0, or (with rflags 0 or ADSP_MMAP_ADD_PAGES) the page aligned CPU
 *	address of the caller's memory to map
 * @len: bytes, 0 < len
 * @vapps: out: the CPU address (below 4 GiB), 0 for REMOTE_HEAP_ADDR
 * @vadsp: out: the device address (vadsp + len <= 4 GiB); for
 *	FASTRPC_ALLOC_HLOS_FD, the buffer's fd (which the library owns: it is
 *	closed by apps_mem_request_unmap)
 */
int apps_mem_request_map(int heapid, uint32 lflags, uint32 rflags, uint32 vin,
			 int32 len, uint32 *vapps, uint32 *vadsp);

/* As apps_mem_request_map(), 64-bit, anywhere in the device windows. */
int apps_mem_request_map64(int heapid, uint32 ion_flags, uint32 rflags,
			   uint64 vin, int64 len, uint64 *vapps, uint64 *vadsp);

/*
 * apps_mem_request_unmap() - undo a request_map: the remote and the CPU
 * mappings go, and the memory is freed once nothing else holds it.
 * @vadsp and @len as the map returned / was given.  AEE_ENOSUCHMAP for an
 * unknown @vadsp, AEE_EBADPARM for a @len that differs.
 */
int apps_mem_request_unmap(uint32 vadsp, int32 len);
int apps_mem_request_unmap64(uint64 vadsp, int64 len);

/*
 * apps_mem_share_map() - map @size bytes (rounded up to whole pages) of a
 * dma-buf from any exporter for the remote, and for the CPU.
 * @vapps: out: CPU address (0 if the buffer refuses CPU mappings)
 * @vadsp: out: device address
 */
int apps_mem_share_map(int fd, int size, uint64 *vapps, uint64 *vadsp);
int apps_mem_share_unmap(uint64 vadsp, int size);

/*
 * apps_mem_dma_handle_map() - map @size bytes at @offset of a dma-buf for
 * the remote, keyed by the buffer: mapping the same range again takes a
 * reference, and apps_mem_dma_handle_unmap() drops one (any fd of the
 * buffer will do).  @size is rounded up to whole pages; @offset must be
 * page aligned.
 */
int apps_mem_dma_handle_map(int fd, int offset, int size);
int apps_mem_dma_handle_unmap(int fd, int size);

HAPMEM_END_DECLS

#endif /* APPS_MEM_H */
