/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HAP_mem.h - the DSP platform's HAP memory interface.
 *
 * This header is the mapping half: mapping buffers received as fds for
 * the remote and the CPU (HAP_mmap family), application memory with a
 * guaranteed release (HAP_apps_mem_*), and the generic HAP_mem_request()
 * (maps at reserved device addresses).  The heap half (HAP_malloc and the
 * heap statistics, thresholds and markers) is HAP_mem_heap.h, included
 * here: user code includes only HAP_mem.h.
 *
 * Every int function returns 0 (AEE_SUCCESS) or an AEE code; HAP_mmap and
 * HAP_mmap2 return (void *)-1 on failure and set errno.  All are
 * thread-safe.  Maps belong to the process's session: after fork() the
 * child does not see its parent's maps (see Documentation/library.rst).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAP_MEM_H
#define HAP_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "AEEStdDef.h"
#include "AEEStdErr.h"
#include "hapmem_api.h"
#include "HAP_mem_heap.h"

/* prot: access, OR-ed with at most one cache policy */
#define HAP_PROT_NONE			0x00
#define HAP_PROT_READ			0x01
#define HAP_PROT_WRITE			0x02
#define HAP_PROT_EXEC			0x04	/* refused */

#define HAP_MEM_CACHE_WRITEBACK		0x10	/* the default */
#define HAP_MEM_CACHE_NON_SHARED	0x20	/* uncached */
#define HAP_MEM_CACHE_WRITETHROUGH	0x40

/* HAP_mmap flags: take a reference on an existing map, map nothing new */
#define HAP_MAP_NO_MAP			0x01

/* HAP_apps_mem_request flags */
#define HAP_MEM_FLAGS_SKIP_DSP_MAP	0	/* no device mapping */
#define HAP_MEM_FLAGS_DSP_MAP		1	/* device address below 4 GiB */
#define HAP_MEM_FLAGS_EXTENDED_MAP	2	/* device address at or above 4 GiB */
#define HAP_MEM_FLAGS_MAX		3	/* number of flags values */

/* HAP_mem_request request ids */
typedef enum {
	HAP_MEM_LOG_BLOCKS = 1,		/* heap: every block to a CSV file */
	HAP_MEM_SET_MARKER = 2,		/* heap: leak markers */
	HAP_MEM_MAP = 3,		/* map an fd for the remote */
	HAP_MEM_UNMAP = 4,
	HAP_RESERVE_VA = 5,		/* reserve device addresses */
	HAP_UNRESERVE_VA = 6,
} HAP_mem_req_t;

/* HAP_MEM_MAP: map @len bytes at offset @dsp_pa of buffer @fd for the remote */
typedef struct {
	uint64_t addr;		/* in: an address inside a reservation, or 0 for anywhere */
	uint64_t len;		/* in: bytes (rounded up to whole pages) */
	int prot;		/* in: HAP_PROT_* | HAP_MEM_CACHE_*; no WRITE: read-only */
	int flags;		/* in: with addr 0, a HAP_MEM_FLAGS_* placement; else 0 */
	int fd;			/* in: a dma-buf fd */
	uint64_t dsp_pa;	/* in: page aligned offset into the buffer */
	uint64_t dsp_va;	/* out: the device address */
} HAP_mem_map_t;

/* HAP_MEM_UNMAP */
typedef struct {
	uint64_t dsp_va;	/* in: as HAP_MEM_MAP returned */
	uint64_t len;		/* in: as HAP_MEM_MAP was given */
} HAP_mem_unmap_t;

/* HAP_RESERVE_VA: device addresses that no other map will use */
typedef struct {
	uint64_t len;		/* in: bytes (rounded up to whole pages) */
	int prot;		/* in: HAP_PROT_READ | HAP_PROT_WRITE */
	int flags;		/* in: 0, HAP_MEM_FLAGS_DSP_MAP (below 4 GiB) or
				 *     HAP_MEM_FLAGS_EXTENDED_MAP (at or above) */
	uint64_t dsp_va;	/* out: start of the range */
} HAP_mem_reserve_t;

/* HAP_UNRESERVE_VA: refused (AEE_EBADSTATE) while maps are inside */
typedef struct {
	uint64_t dsp_va;
	uint64_t len;
} HAP_mem_unreserve_t;

typedef struct {
	HAP_mem_req_t request_id;
	union {
		HAP_mem_marker_payload_t mem_marker_payload;	/* HAP_mem_heap.h */
		HAP_mem_map_t mmap;
		HAP_mem_unmap_t munmap;
		HAP_mem_reserve_t reserve;
		HAP_mem_unreserve_t unreserve;
	};
} HAP_mem_req_payload_t;

HAPMEM_BEGIN_DECLS

/*
 * HAP_mmap() - map @len bytes at @offset of the buffer behind @fd for the
 * remote and for the CPU; returns the CPU address.  @addr must be NULL.
 * Mapping a buffer that is already mapped (through any fd of it) returns
 * the same address and takes a reference; with HAP_MAP_NO_MAP only that
 * is done (a buffer not mapped yet fails).  A buffer the CPU may not
 * touch gets an inaccessible address.  Failure: (void *)-1 and errno
 * (EINVAL, EOPNOTSUPP for HAP_PROT_EXEC, EBADF, EBADFD (not a dma-buf),
 * ENOENT (HAP_MAP_NO_MAP of a buffer not mapped), ENOMEM, ENODEV ...).
 */
void *HAP_mmap(void *addr, int len, int prot, int flags, int fd, long offset);
void *HAP_mmap2(void *addr, size_t len, int prot, int flags, int fd, long offset);

/*
 * HAP_munmap() - drop a HAP_mmap reference; at zero (and no
 * HAP_mmap_get reference) the buffer is unmapped.  AEE_ENOSUCHMAP for an
 * address HAP_mmap did not return, AEE_EBADPARM for a @len that differs.
 */
int HAP_munmap(void *addr, int len);
int HAP_munmap2(void *addr, size_t len);

/*
 * HAP_mmap_get() - take a reference on the map of the buffer behind @fd
 * and return its CPU (@vaddr) and device (@paddr) addresses.
 * HAP_mmap_put() drops it.  AEE_ENOSUCHMAP: the buffer is not mapped;
 * AEE_EBADMAPREFCNT: put with no get reference left.
 */
int HAP_mmap_get(int fd, void **vaddr, uint64 *paddr);
int HAP_mmap_put(int fd);

/*
 * HAP_apps_mem_request() - allocate @len bytes of application memory,
 * mapped for the remote as @flags says; returns its fd and device address
 * (0 with HAP_MEM_FLAGS_SKIP_DSP_MAP).  HAP_apps_mem_release() unmaps and
 * frees it, even if the fd was closed meanwhile.
 */
int HAP_apps_mem_request(size_t len, uint32_t flags, int *fd, uint64_t *dsp_va);
int HAP_apps_mem_release(int fd);

/* HAP_mem_request() - see HAP_mem_req_t. */
int HAP_mem_request(HAP_mem_req_payload_t *mem_payload);

HAPMEM_END_DECLS

#endif /* HAP_MEM_H */
