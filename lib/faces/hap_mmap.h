/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: the HAP_mmap family's core, for the faces and for tests.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_HAP_MMAP_H
#define HAPMEM_LIB_HAP_MMAP_H

#include <stddef.h>
#include <stdint.h>

/* HAP_mmap2 returning 0 or -errno. */
int hm_hap_mmap(void *addr, size_t len, int prot, int flags, int fd, long offset,
		void **out);

/* The counts of the map of the buffer behind @fd: 0, or -ENOENT / -EBADF. */
int hm_hap_mmap_refs(int fd, unsigned int *map_refs, unsigned int *get_refs,
		     uint64_t *vadsp);

/*
 * How the next new map of the buffer @id is made (the fastrpc_mmap face
 * registers buffers this way): above 4 GiB (VA_HIGH), and/or with an
 * inaccessible CPU address instead of a CPU mapping (NO_CPU).  @hint 0
 * forgets it.  0 or -ENOMEM.
 */
#define HM_HAP_HINT_VA_HIGH	(1U << 0)
#define HM_HAP_HINT_NO_CPU	(1U << 1)
struct hm_buf_id;
int hm_hap_mmap_hint(const struct hm_buf_id *id, unsigned int hint);

#endif /* HAPMEM_LIB_HAP_MMAP_H */
