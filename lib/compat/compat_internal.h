/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: shared by the porting faces of lib/compat/ (see its README).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_COMPAT_INTERNAL_H
#define HAPMEM_LIB_COMPAT_INTERNAL_H

#define HM_NUM_DOMAINS 5

/*
 * The session fd for remote @domain (ADSP_DOMAIN_ID ...): the process's
 * session (hm_session_fd) when the domain's node is the same device, else
 * a session of the face's own on that node, opened once.  The node is
 * hapmem-<name> in the directory of hapmem_device_path().  >= 0, or
 * -EINVAL (no such domain id), -ENODEV (no such node) ...
 * *@is_main (may be NULL) says which of the two it is.
 */
int hm_domain_fd(int domain, int *is_main);

/*
 * For tests: the device address of the FASTRPC_MAP_STATIC registration of
 * the buffer behind @fd with @domain.  0, or -ENOENT / -EBADF / -EBADFD.
 */
#include <stdint.h>
int hm_fastrpc_vadsp(int domain, int fd, uint64_t *vadsp);

/* For tests: the device address of an RPCMEM_HEAP_ID_SECURE buffer, or 0. */
uint64_t hm_rpcmem_vadsp(const void *po);

#endif /* HAPMEM_LIB_COMPAT_INTERNAL_H */
