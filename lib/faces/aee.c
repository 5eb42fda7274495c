// SPDX-License-Identifier: GPL-2.0-only
/*
 * AEE error codes: errno translation and names.
 *
 * libhapmem's layers return 0 or -errno.  The apps_mem_* and HAP_* faces
 * are the only places that turn these into the DSP platform's AEE codes,
 * through hm_errno_to_aee().
 *
 * Copyright (C) 2026 The hapmem authors
 */
#include <errno.h>
#include <stddef.h>

#include "faces/aee.h"

struct errno_aee {
	int err;
	int aee;
};

/* Keep in sync with the table in AEEStdErr.h and Documentation/library.rst. */
static const struct errno_aee errno_table[] = {
	{ EINVAL,	AEE_EBADPARM },
	{ EDOM,		AEE_EBADPARM },
	{ ENOMEM,	AEE_ENOMEMORY },
	{ EMFILE,	AEE_ENOMEMORY },
	{ ENFILE,	AEE_ENOMEMORY },
	{ ENOSPC,	AEE_ENORPCMEMORY },
	{ EDQUOT,	AEE_ENORPCMEMORY },
	{ EOPNOTSUPP,	AEE_EUNSUPPORTED },
	{ ENOSYS,	AEE_EUNSUPPORTED },
	{ ENOTTY,	AEE_EIOCTL },
	{ E2BIG,	AEE_EIOCTL },
	{ EPERM,	AEE_EPRIVLEVEL },
	{ EACCES,	AEE_EBADPERMS },
	{ ENOENT,	AEE_ENOSUCHMAP },
	{ ENODEV,	AEE_ERESOURCENOTFOUND },
	{ ENXIO,	AEE_ERESOURCENOTFOUND },
	{ EBADF,	AEE_EBADFD },
	{ EBADFD,	AEE_EINVALIDFD },
	{ EEXIST,	AEE_EMAPALREADYPRESENT },
	{ EBUSY,	AEE_EBADSTATE },
	{ EALREADY,	AEE_EALREADY },
	{ EFAULT,	AEE_EBADVA },
	{ EOVERFLOW,	AEE_EBADSIZE },
	{ ERANGE,	AEE_EBADSIZE },
	{ EFBIG,	AEE_EBADSIZE },
	{ EIO,		AEE_ERPC },
	{ ETIMEDOUT,	AEE_ERPC },
	{ EINTR,	AEE_EINTERRUPTED },
	{ EAGAIN,	AEE_EWOULDBLOCK },
	{ HM_ECPUMAP,	AEE_EMMAP },
};

int hm_errno_to_aee(int neg_errno)
{
	int err = neg_errno < 0 ? -neg_errno : neg_errno;
	size_t i;

	if (err == 0)
		return AEE_SUCCESS;
	for (i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (errno_table[i].err == err)
			return errno_table[i].aee;
	return AEE_EFAILED;
}

int hapmem_errno_to_aee(int err)
{
	return hm_errno_to_aee(err);
}

struct aee_name {
	int aee;
	const char *str;
};

static const struct aee_name aee_names[] = {
	{ AEE_SUCCESS,		 "AEE_SUCCESS: no error" },
	{ AEE_EUNKNOWN,		 "AEE_EUNKNOWN: unknown error" },
	{ AEE_EFAILED,		 "AEE_EFAILED: general failure" },
	{ AEE_ENOMEMORY,	 "AEE_ENOMEMORY: out of memory" },
	{ AEE_EBADCLASS,	 "AEE_EBADCLASS: NULL object" },
	{ AEE_EBADSTATE,	 "AEE_EBADSTATE: not allowed in the current state" },
	{ AEE_EBADPARM,		 "AEE_EBADPARM: invalid parameter" },
	{ AEE_EUNSUPPORTED,	 "AEE_EUNSUPPORTED: not supported" },
	{ AEE_EPRIVLEVEL,	 "AEE_EPRIVLEVEL: privilege level too low" },
	{ AEE_ERESOURCENOTFOUND, "AEE_ERESOURCENOTFOUND: resource (hapmem device) not found" },
	{ AEE_EALREADY,		 "AEE_EALREADY: already in progress" },
	{ AEE_EBADHANDLE,	 "AEE_EBADHANDLE: bad handle" },
	{ AEE_EINTERRUPTED,	 "AEE_EINTERRUPTED: interrupted" },
	{ AEE_EINVALIDFD,	 "AEE_EINVALIDFD: fd is not a buffer" },
	{ AEE_ENOSUCHMAP,	 "AEE_ENOSUCHMAP: no such mapping" },
	{ AEE_EBADOFFSET,	 "AEE_EBADOFFSET: bad offset" },
	{ AEE_EBADSIZE,		 "AEE_EBADSIZE: bad size" },
	{ AEE_EBADPERMS,	 "AEE_EBADPERMS: permission denied" },
	{ AEE_EBADFD,		 "AEE_EBADFD: bad file descriptor" },
	{ AEE_EBADMEMALIGN,	 "AEE_EBADMEMALIGN: bad memory alignment" },
	{ AEE_EIOCTL,		 "AEE_EIOCTL: ioctl interface mismatch" },
	{ AEE_EMMAP,		 "AEE_EMMAP: CPU mapping failed" },
	{ AEE_ENORPCMEMORY,	 "AEE_ENORPCMEMORY: remote address space or quota exhausted" },
	{ AEE_ENOTINITIALIZED,	 "AEE_ENOTINITIALIZED: not initialized" },
	{ AEE_EINVARGS,		 "AEE_EINVARGS: invalid arguments" },
	{ AEE_EBADVA,		 "AEE_EBADVA: bad virtual address" },
	{ AEE_EBADMAPREFCNT,	 "AEE_EBADMAPREFCNT: map reference count is already 0" },
	{ AEE_EMAPALREADYPRESENT, "AEE_EMAPALREADYPRESENT: a map is already present" },
	{ AEE_ERPC,		 "AEE_ERPC: the remote failed" },
	{ AEE_EWOULDBLOCK,	 "AEE_EWOULDBLOCK: operation would block" },
};

const char *hapmem_aee_str(int aee)
{
	size_t i;

	for (i = 0; i < sizeof(aee_names) / sizeof(aee_names[0]); i++)
		if (aee_names[i].aee == aee)
			return aee_names[i].str;
	return "unknown AEE code";
}
