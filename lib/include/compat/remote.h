/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * remote.h (memory part) - the DSP platform's calls that map buffers for
 * a remote, under their own names, over libhapmem's maps.  A porting
 * face: code written for the platform includes <remote.h> and builds
 * unchanged (pkg-config libhapmem-compat).  Documentation/porting.rst
 * lists every difference from the platform.
 *
 * Every int function returns 0 (AEE_SUCCESS) or an AEE code.
 * Thread-safe.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef REMOTE_H
#define REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "AEEStdErr.h"
#include "hapmem_api.h"

/* Domain ids: each selects the remote of device node /dev/hapmem-<name> */
#define ADSP_DOMAIN_ID		0	/* hapmem-adsp */
#define MDSP_DOMAIN_ID		1	/* hapmem-mdsp */
#define SDSP_DOMAIN_ID		2	/* hapmem-sdsp */
#define CDSP_DOMAIN_ID		3	/* hapmem-cdsp */
#define CDSP1_DOMAIN_ID		4	/* hapmem-cdsp1 */

/* remote_mem_map() flags */
enum remote_mem_map_flags {
	REMOTE_MAP_MEM_STATIC = 0,
	REMOTE_MAP_MAX_FLAG = REMOTE_MAP_MEM_STATIC + 1,
};

/* fastrpc_mmap() flags */
enum fastrpc_map_flags {
	FASTRPC_MAP_STATIC = 0,		/* mapped now; no fd association */
	FASTRPC_MAP_RESERVED = 1,	/* refused */
	FASTRPC_MAP_FD = 2,		/* mapped now; HAP_mmap_get finds it */
	FASTRPC_MAP_FD_DELAYED = 3,	/* mapped on the first HAP_mmap */
	FASTRPC_MAP_FD_NOMAP = 16,	/* as FD_DELAYED, no CPU mapping */
	FASTRPC_MAP_FD_EXTENDED = 17,	/* as FD, above 4 GiB */
	FASTRPC_MAP_FD_DELAYED_EXTENDED = 18,	/* as FD_DELAYED, above 4 GiB */
	FASTRPC_MAP_MAX = 19,
};

HAPMEM_BEGIN_DECLS

/*
 * remote_mmap64() - map @size bytes of the buffer behind @fd for the
 * session's remote ($HAPMEM_DEVICE, else /dev/hapmem); *@vaddrout is the
 * device address.  @flags 0; or, with @fd -1, one of the apps_mem rflags
 * (ADSP_MMAP_HEAP_ADDR, _REMOTE_HEAP_ADDR, _ADD_PAGES, _ADD_PAGES_LLC):
 * the kernel allocates the memory.  @vaddrin is not used.
 * remote_munmap64() undoes it (@size as mapped).
 */
int remote_mmap64(int fd, uint32_t flags, uint64_t vaddrin, int64_t size,
		  uint64_t *vaddrout);
int remote_munmap64(uint64_t vaddrout, int64_t size);

/*
 * remote_mem_map() - map @size bytes of the buffer behind @fd for remote
 * @domain (REMOTE_MAP_MEM_STATIC); @virtAddr is not used.
 * remote_mem_unmap() undoes it.
 */
int remote_mem_map(int domain, int fd, int flags, uint64_t virtAddr, size_t size,
		   uint64_t *remoteVirtAddr);
int remote_mem_unmap(int domain, uint64_t remoteVirtAddr, size_t size);

/*
 * fastrpc_mmap() - register the buffer behind @fd (@length bytes at page
 * aligned @offset; @addr its CPU address, not used) with remote @domain,
 * mapped as @flags says.  One registration per buffer: AEE_EALREADY for a
 * second.  The FD kinds need @domain to be the session's remote (the one
 * HAP_mmap uses): AEE_EUNSUPPORTED otherwise.  fastrpc_munmap() drops the
 * registration (and the map fastrpc_mmap made; HAP_mmap maps stay until
 * their HAP_munmap).
 */
int fastrpc_mmap(int domain, int fd, void *addr, int offset, size_t length,
		 enum fastrpc_map_flags flags);
int fastrpc_munmap(int domain, int fd, void *addr, size_t length);

HAPMEM_END_DECLS

#endif /* REMOTE_H */
