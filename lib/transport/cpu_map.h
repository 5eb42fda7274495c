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

#define HM_CPU_MAP_32BIT	(1U << 0) /* below 4 GiB: MAP_32BIT, else hm_cpu_map_low() */
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

/*
 * Map @len bytes at @offset of @fd (mmap @prot and @mflags) at an address
 * below 4 GiB without MAP_32BIT: the first hole of [1 GiB, 4 GiB), then
 * of [256 MiB, 1 GiB), found in /proc/self/maps and taken with
 * MAP_FIXED_NOREPLACE (lib/transport/cpu_map.c).  0 and *out, or -errno (-ENOMEM
 * when no hole is large enough).  What HM_CPU_MAP_32BIT uses where the
 * architecture has no MAP_32BIT; callable everywhere, for the tests.
 */
int hm_cpu_map_low(int fd, uint64_t offset, size_t len, int prot, int mflags,
		   void **out);

#endif /* HAPMEM_LIB_CPU_MAP_H */
