/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: CPU mappings of dma-bufs.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_CPU_MAP_H
#define HAPMEM_LIB_CPU_MAP_H

#include <stddef.h>
#include <stdint.h>

#define HM_CPU_MAP_32BIT	(1U << 0) /* below 2 GiB (MAP_32BIT) */
#define HM_CPU_MAP_OPTIONAL	(1U << 1) /* a buffer refusing CPU access gives NULL */
#define HM_CPU_MAP_RO_FALLBACK	(1U << 2) /* read-only when the fd is not writable */

/*
 * Map @len bytes at @offset of dma-buf @fd, MAP_SHARED with @prot
 * (PROT_*).  0 and *out, or -errno.  With HM_CPU_MAP_OPTIONAL, a buffer
 * that refuses to be mapped (EPERM, EACCES, ENODEV: protected memory)
 * gives 0 and *out = NULL.
 */
int hm_cpu_map(int fd, uint64_t offset, size_t len, int prot, unsigned int flags,
	       void **out);

#endif /* HAPMEM_LIB_CPU_MAP_H */
