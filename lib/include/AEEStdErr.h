/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AEEStdErr.h - the DSP platform's error codes (AEE codes), as returned by
 * the apps_mem_* and HAP_* functions of libhapmem.
 *
 * Internally libhapmem works with negative errno values; only the public
 * DSP-platform faces translate them, with the table documented at
 * hapmem_errno_to_aee() below and in Documentation/library.rst.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef AEESTDERR_H
#define AEESTDERR_H

#include "hapmem_api.h"

#define AEE_SUCCESS		0	/* no error */
#define AEE_EUNKNOWN		-1	/* unknown error (should not happen) */
#define AEE_EFAILED		0x01	/* general failure */
#define AEE_ENOMEMORY		0x02	/* out of memory */
#define AEE_EBADCLASS		0x0A	/* NULL class / object */
#define AEE_EBADSTATE		0x0D	/* operation not allowed in this state */
#define AEE_EBADPARM		0x0E	/* invalid parameter */
#define AEE_EUNSUPPORTED	0x14	/* not supported */
#define AEE_EPRIVLEVEL		0x15	/* privilege level too low */
#define AEE_ERESOURCENOTFOUND	0x16	/* resource (device) not found */
#define AEE_EALREADY		0x1A	/* operation already in progress */
#define AEE_EBADHANDLE		0x2C	/* bad handle */
#define AEE_EINTERRUPTED	46	/* interrupted */
#define AEE_EINVALIDFD		0x3A	/* fd is not a (dma-buf) buffer */
#define AEE_ENOSUCHMAP		0x48	/* no such mapping */
#define AEE_EBADOFFSET		0x4C	/* bad offset */
#define AEE_EBADSIZE		0x4D	/* bad size */
#define AEE_EBADPERMS		0x4E	/* permission denied */
#define AEE_EBADFD		0x4F	/* fd is not open */
#define AEE_EBADMEMALIGN	0x55	/* bad memory alignment */
#define AEE_EIOCTL		0x56	/* ioctl interface mismatch */
#define AEE_EMMAP		0x65	/* CPU mapping failed */
#define AEE_ENORPCMEMORY	0x68	/* remote address space or quota exhausted */
#define AEE_ENOTINITIALIZED	0x6B	/* not initialized */
#define AEE_EINVARGS		0x71	/* invalid arguments */
#define AEE_EBADVA		0x83	/* bad virtual address */
#define AEE_EBADMAPREFCNT	0x85	/* map reference count is already 0 */
#define AEE_EMAPALREADYPRESENT	0x87	/* a map is already present there */
#define AEE_ERPC		0x200	/* the remote failed */
#define AEE_EWOULDBLOCK		516	/* operation would block */

HAPMEM_BEGIN_DECLS

/*
 * hapmem_aee_str() - name and meaning of an AEE code, e.g.
 * "AEE_ENOSUCHMAP: no such mapping".  Never NULL; unknown codes give
 * "unknown AEE code".  The string is static: do not free it.
 */
const char *hapmem_aee_str(int aee);

/*
 * hapmem_errno_to_aee() - the AEE code libhapmem's DSP-platform faces
 * return for an errno.  Takes errno with either sign (-EINVAL or EINVAL);
 * 0 gives AEE_SUCCESS.  The table:
 *
 *   EINVAL, EDOM                  AEE_EBADPARM
 *   ENOMEM, EMFILE, ENFILE        AEE_ENOMEMORY
 *   ENOSPC, EDQUOT                AEE_ENORPCMEMORY
 *   EOPNOTSUPP, ENOSYS            AEE_EUNSUPPORTED
 *   ENOTTY, E2BIG                 AEE_EIOCTL
 *   EPERM                         AEE_EPRIVLEVEL
 *   EACCES                        AEE_EBADPERMS
 *   ENOENT                        AEE_ENOSUCHMAP
 *   ENODEV, ENXIO                 AEE_ERESOURCENOTFOUND (no hapmem device)
 *   EBADF                         AEE_EBADFD
 *   EBADFD                        AEE_EINVALIDFD (open, but not a dma-buf)
 *   EEXIST                        AEE_EMAPALREADYPRESENT
 *   EBUSY                         AEE_EBADSTATE
 *   EALREADY                      AEE_EALREADY
 *   EFAULT                        AEE_EBADVA
 *   EOVERFLOW, ERANGE, EFBIG      AEE_EBADSIZE
 *   EIO, ETIMEDOUT                AEE_ERPC
 *   EINTR                         AEE_EINTERRUPTED
 *   EAGAIN                        AEE_EWOULDBLOCK
 *   anything else                 AEE_EFAILED
 */
int hapmem_errno_to_aee(int err);

HAPMEM_END_DECLS

#endif /* AEESTDERR_H */
